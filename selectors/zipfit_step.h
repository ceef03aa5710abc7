/*
 * selectors/zipfit_step.h — the `score zipfit` step: every record annotated
 * with winnow.zipfit, its ZIP-FIT alignment with a target set
 * (selectors/zipfit.h holds the formula).
 *
 * Owns: the step's options and their rules. Borrows: io/stream.h (the
 * stream the step runs over), selectors/score_step.h (the passes).
 */
#ifndef WN_SELECTORS_ZIPFIT_STEP_H
#define WN_SELECTORS_ZIPFIT_STEP_H

#include "io/stream.h"

typedef struct wn_score_zipfit_opts {
	wn_stream_opts io;
	const char *target;        /* --target FILE (required) */
	const char *target_field;  /* --target-field NAME (NULL: io.field) */
	const char *compressor;    /* gzip (default), zstd, lz4 */
	int level;                 /* WN_ZIPFIT_LEVEL_DEFAULT: the compressor's default */
	int compressor_id;         /* set by check: enum wn_zipfit_compressor */
} wn_score_zipfit_opts;

void wn_score_zipfit_init(wn_score_zipfit_opts *o);
/* Every rule on the options (the target, the compressor, the level's range
 * for that compressor): 0, or -1 with a usage error in err. */
int wn_score_zipfit_check(wn_score_zipfit_opts *o, char *err, size_t errlen);
/* Read the targets, then score and annotate the stream. 0, or -1 with the
 * reason in err (empty when already reported). */
int wn_score_zipfit_run(const wn_score_zipfit_opts *o, wn_stream *s, wn_step_report *rep,
			char *err, size_t errlen);

#endif
