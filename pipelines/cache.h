/*
 * pipelines/cache.h — the recipe's content-addressed cache (`cache: DIR` in
 * a recipe, or `winnow run --cache DIR`): per streaming step, what it added
 * to each record, so that a rerun recomputes only records it has not seen.
 *
 * Owns: one SQLite database, DIR/cache.db (WAL; created with DIR when
 * absent), its open transaction, and the encoding of an annotation delta.
 * Borrows: SQLite, io/json.h (members of the "winnow" object, the splice).
 *
 * Tables:
 *   annot(step BLOB, rec BLOB, delta BLOB)   step = xxh3-128 of the step's
 *       canonical key (pipelines/cache_step.c: name, options, seed, the
 *       contents of the files its options name, winnow's version), rec =
 *       xxh3-128 of the record's bytes as the step received them, delta =
 *       the members the step added to (or changed in) "winnow";
 *   steps(step BLOB, name TEXT, canon TEXT)  what each step key stands for;
 *   runs(run_id, finished, recipe, fingerprint, output, output_xxh3, counts)
 *       one row per successful run: what "nothing new to do" compares with.
 *
 * Entries are committed per batch (the cached step runs its missing records
 * in batches and commits each batch's entries): a run killed at any moment
 * keeps every batch it finished, and that is where the next run resumes.
 * An entry is only ever a pure function of its key, so a batch committed
 * twice (by two runs sharing DIR) holds the same bytes.
 */
#ifndef WN_PIPELINES_CACHE_H
#define WN_PIPELINES_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "io/buf.h"
#include "io/json.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wn_cache wn_cache;

/* A 128-bit content key (xxh3-128, big-endian bytes). */
typedef struct wn_cache_key {
	uint8_t b[16];
} wn_cache_key;

wn_cache_key wn_cache_hash(const void *p, size_t n);

/* Open (creating DIR and DIR/cache.db when absent). NULL with the reason in err. */
wn_cache *wn_cache_open(const char *dir, char *err, size_t errlen);
/* Roll back what is not committed and close. */
void wn_cache_close(wn_cache *c);
const char *wn_cache_error(const wn_cache *c);

/* Remember what a step key stands for (idempotent). 0 or -1. */
int wn_cache_note_step(wn_cache *c, wn_cache_key step, const char *name, const char *canon);
/* 1 and the delta in *delta on a hit, 0 on a miss, -1 on error. */
int wn_cache_get(wn_cache *c, wn_cache_key step, wn_cache_key rec, wn_buf *delta);
/* Batches: begin, put..., commit (or wn_cache_close to drop the batch). */
int wn_cache_begin(wn_cache *c);
int wn_cache_put(wn_cache *c, wn_cache_key step, wn_cache_key rec, const void *delta, size_t n);
int wn_cache_commit(wn_cache *c);

/* The last successful run of this recipe file: 1 with its fingerprint (64
 * hex), output name and output xxh3, 0 when there is none, -1 on error. */
int wn_cache_last_run(wn_cache *c, const char *recipe, char fingerprint[65], wn_buf *output,
		      uint64_t *output_xxh3);
/* Record a successful run (its own transaction). 0 or -1. */
int wn_cache_record_run(wn_cache *c, const char *recipe, const char *fingerprint,
			const char *output, uint64_t output_xxh3, const char *counts_json);

/*
 * The annotation delta of one record through one step: the members of
 * out's "winnow" object that in's "winnow" lacks or holds with other
 * bytes, in out's order, encoded as (u32 key length, key, u32 value
 * length, raw value)... into delta. Returns 1 when splicing that delta into
 * in gives exactly out (the step only added annotations: cacheable), 0 when
 * it does not (the step changed something else: not cacheable), -1 on
 * memory.
 */
int wn_cache_delta(wn_span in, wn_span out, wn_buf *delta, wn_annot *scratch, wn_buf *check);
/* in with the delta spliced in, into out: 0, or -1 (a corrupt delta or memory). */
int wn_cache_apply(wn_span in, const void *delta, size_t n, wn_annot *scratch, wn_buf *out);

#ifdef __cplusplus
}
#endif

#endif
