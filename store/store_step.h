/*
 * store/store_step.h — the `store` step: write the record stream into a
 * SQLite selection table in one transaction, with a provenance row in
 * `runs` (store/store.h owns the database; this owns the step around it).
 *
 * Owns: the step's options and their rules (the database path is the first
 * positional word; --mode, --table checked before anything opens), the
 * rule that an empty run fails unless --allow-empty, the provenance written
 * to `runs` (inputs, command, seed, and for a recipe runs.extra), and the
 * append-twice warning. Borrows: io/stream.h (the source: input files or
 * the previous step's spool), store/store.h.
 *
 * Provenance comes from one of two places:
 *   - the stream's reader, when the step reads files itself (the CLI:
 *     `winnow store DB file...`): each input's name, size and xxh3;
 *   - o->prov, when the source is a spool (the recipe runner chains steps
 *     through spools, so the step never sees the files): the runner hands
 *     the inputs its first step read, the recipe, and the steps' reports.
 *     Then runs.extra holds (one JSON object):
 *       {"recipe":{"file":NAME,"sha256":HEX,"text":TEXT},
 *        "steps":[{"step":"cat","in":N,"out":N,"rejected":N,"seconds":S},
 *                 ..., {"step":"store",...}]}
 *     where the last entry is the store step itself (out = rows stored,
 *     seconds up to the commit). A CLI run leaves extra NULL.
 *
 * Append twice: under --mode append, an input whose xxh3 is already in the
 * inputs of a run that put rows into the same table since that table's last
 * replace run gives one warning line per input
 * ("winnow store: DB: warning: input 'F' (xxh3 H) was already stored in
 * table 'T' by run N; its records are now there twice") and the run goes on:
 * appending the same data twice is how duplicates happen silently, but a
 * rerun on purpose (a fixed input) is legitimate. Inputs with no records
 * stored (an --allow-empty run) do not count. The warning is printed even
 * under -q (it is not progress).
 *
 * Records already in the table (by content hash, store/seen.h: XXH3-64 of
 * the record bytes, or of --id FIELD's value): --mode append stores them
 * again and warns once, even under -q ("winnow store: DB: warning: N of
 * the records appended were already in table 'T' (same content hash); they
 * are now there twice (--mode append-new skips them)", left out when an
 * input-level warning above already said so); --mode append-new
 * skips them and says how many ("winnow store: DB: append-new: N records
 * already in table 'T' skipped", unless -q). A record repeated inside one
 * run counts as present from its second copy on. When append-new skips
 * every record, nothing is written (no runs row) and the step reports
 * nothing_new (exit 3 from the CLI: "nothing new to do").
 */
#ifndef WN_STORE_STEP_H
#define WN_STORE_STEP_H

#include <stddef.h>
#include <stdint.h>

#include "io/buf.h"
#include "io/stream.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One input as `runs.inputs` records it. */
typedef struct wn_store_input {
	const char *name;
	uint64_t size, xxh3;
} wn_store_input;

/* What the recipe runner knows and the store step cannot see (all borrowed). */
typedef struct wn_store_provenance {
	const char *command;            /* runs.command (NULL: the step's own) */
	const wn_store_input *inputs;   /* the files the first step read */
	size_t ninputs;
	const char *recipe;             /* the recipe's file name */
	const char *recipe_text;        /* its bytes, NUL-terminated */
	const char *recipe_sha256;      /* 64 hex digits */
	const wn_step_report *steps;    /* the steps before store, in order */
	size_t nsteps;
} wn_store_provenance;

typedef struct wn_store_step_opts {
	wn_stream_opts io;
	const char *table;        /* -t/--table (default: selection) */
	const char *mode;         /* --mode replace|append */
	const char *seed;         /* --seed S: runs.seed */
	int busy_timeout_ms;      /* --busy-timeout MS */
	int allow_empty;          /* --allow-empty */
	const char *db;           /* the first positional word (set by check) */
	char *command;            /* runs.command, owned (freed by release), may be NULL */
	const wn_store_provenance *prov; /* the runner's, or NULL */
	int mode_value;           /* enum wn_store_mode, set by check */
	const char *id_field;     /* --id FIELD: append modes hash its value, not the record */
	const char *vectors;      /* --vectors record|both|drop */
	int vectors_value;        /* enum wn_store_vectors, set by check */
} wn_store_step_opts;

void wn_store_step_init(wn_store_step_opts *o);
/* Take pos[0] as the database (removed from pos: the rest are the inputs),
 * check --mode and --table: 0, or -1 with a usage error in err. */
int wn_store_step_check(wn_store_step_opts *o, int *npos, const char **pos, char *err,
			size_t errlen);
/* Store every record of s: 0, or -1 (the reason printed or in err; the
 * database is then as it was). */
int wn_store_step_run(wn_store_step_opts *o, wn_stream *s, wn_step_report *rep, char *err,
		      size_t errlen);
void wn_store_step_release(wn_store_step_opts *o);

/* The same with the signatures of io/step.h. cmd/store.c uses the run and
 * check functions as they are, and the recipe runner knows the store step
 * by its run function (so that it may hand it o->prov). */
int wn_store_step_check_v(void *o, int *npos, const char **pos, char *err, size_t errlen);
int wn_store_step_run_v(void *o, wn_stream *s, wn_step_report *rep, char *err, size_t errlen);
void wn_store_step_release_v(void *o);

/* The step's runs.extra for a recipe (see above) into out; 0 or -1 (memory). */
int wn_store_step_extra(wn_buf *out, const wn_store_provenance *p,
			const wn_step_report *self);

#ifdef __cplusplus
}
#endif

#endif
