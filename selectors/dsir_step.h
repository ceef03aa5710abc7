/*
 * selectors/dsir_step.h — the `score dsir` step: every record annotated
 * with winnow.dsir, its DSIR importance weight (selectors/dsir.h holds the
 * definition), p_target fitted on --target and p_raw on --raw FILE or on
 * the stream itself.
 *
 * Owns: the step's options and their rules, and the two-pass plan when the
 * stream is its own raw pool: a source that can be read again (regular
 * input files, a spool from the previous step) is read twice, the first
 * time quietly (the scoring pass reports bad lines, once); anything else
 * (stdin, a pipe) is put in an io/spool record by record while the first
 * pass counts and reports, and the spool is scored (its records keep their
 * file and line, so what the second pass says still names the input).
 * Borrows: io/stream.h, io/spool.h, selectors/score_step.h (the passes).
 */
#ifndef WN_SELECTORS_DSIR_STEP_H
#define WN_SELECTORS_DSIR_STEP_H

#include <stdint.h>

#include "io/stream.h"

typedef struct wn_score_dsir_opts {
	wn_stream_opts io;
	const char *target;        /* --target FILE (required) */
	const char *raw;           /* --raw FILE (NULL: the stream itself) */
	const char *target_field;  /* NULL: io.field */
	const char *raw_field;     /* NULL: io.field */
	const char *hash;          /* sha256 (default) or xxh3 */
	int64_t buckets;           /* 1..2^28, default 10000 */
	int ngrams;                /* 1..5, default 2 */
	int hash_id;               /* set by check: enum wn_dsir_hash */
} wn_score_dsir_opts;

void wn_score_dsir_init(wn_score_dsir_opts *o);
/* 0, or -1 with a usage error in err. */
int wn_score_dsir_check(wn_score_dsir_opts *o, char *err, size_t errlen);
/* Fit, then score and annotate the stream. 0, or -1 with the reason in err
 * (empty when already reported). */
int wn_score_dsir_run(const wn_score_dsir_opts *o, wn_stream *s, wn_step_report *rep, char *err,
		      size_t errlen);

#endif
