/*
 * pipelines/runstate.h — "nothing new to do" (`winnow run` exit 3): is this
 * run the same as the last successful one, whose result is still in place?
 *
 * Owns: the run's fingerprint (sha256 over the recipe's bytes, winnow's
 * version, -o and --device, each input's name, size and xxh3, and the
 * contents of every file a step's options name), the
 * comparison with the last run, and the cache counts added to the output
 * database's runs row. Borrows: the plan, the cache (pipelines/cache.h),
 * SQLite (the output database's `runs` table, read as store/ writes it:
 * inputs as [{"name","size","xxh3"}], extra.recipe.sha256, table_name,
 * version), xxhash (the reader's hash: XXH3-64 of a file's raw bytes).
 *
 * The last run is:
 *   - output: {db: F}: the latest runs row of F's table (table_name), when
 *     it was made by a recipe with the same sha256 and winnow version, its
 *     extra.fingerprint (added by the runner once the store step has
 *     committed) is this run's, and the table is still there;
 *   - output: {jsonl: F} with a cache: the cache's last run of this recipe,
 *     when its fingerprint is this run's and F still has the xxh3 it had;
 *   - otherwise there is none (a plain jsonl run always runs).
 */
#ifndef WN_PIPELINES_RUNSTATE_H
#define WN_PIPELINES_RUNSTATE_H

#include <stddef.h>
#include <stdint.h>

#include "io/buf.h"
#include "pipelines/cache.h"
#include "pipelines/recipe.h"
#include "store/store_step.h"

#ifdef __cplusplus
extern "C" {
#endif

/* XXH3-64 of a file's bytes and its size (what the reader records). 0 or -1. */
int wn_runstate_file_hash(const char *path, uint64_t *size, uint64_t *xxh3);

/* The run's fingerprint (64 hex digits) from the inputs as the reader saw
 * them and every file a step's option names (hashed now). 0, or -1 when a
 * step cannot be bound. */
int wn_runstate_fingerprint(const wn_recipe *r, const wn_recipe_env *env,
			    const wn_store_input *in, size_t n, char hex[65]);

/*
 * 1 when the run has nothing new to do (why in msg: "last run N at T"), 0
 * when it must run, -1 with the reason in err (an unreadable input or
 * database). table: the store step's table (NULL for jsonl output).
 */
int wn_runstate_nothing_new(const wn_recipe *r, const wn_recipe_env *env, wn_cache *c,
			    const char *table, char *msg, size_t msglen, char *err, size_t errlen);

/* Add "fingerprint" (and "cache": counts_json, unless NULL) to runs.extra
 * of the database's latest run. 0 or -1 with the reason in err. */
int wn_runstate_note_db(const char *db, const char *fingerprint, const char *counts_json,
			char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
