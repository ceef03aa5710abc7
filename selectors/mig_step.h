/*
 * selectors/mig_step.h — `winnow select mig` (issue 20): MIG
 * (selectors/mig.h) over a stream whose records carry labels (a string or
 * an array of strings at --labels) and a quality score (--quality). The
 * label vocabulary is sorted bytewise and embedded with the embedder
 * library exactly as `winnow embed` does (the hash model by default,
 * --model DIR for a BERT-family encoder). Writes the picked records in
 * input order with winnow.mig_rank (0 = first pick) and winnow.mig_gain.
 *
 * Owns: the pool (selectors/pool.h), the label table, the embedder for
 * the run, the graph and the picks. Borrows: embed/embedder.h, io/stream.
 */
#ifndef WN_SELECTORS_MIG_STEP_H
#define WN_SELECTORS_MIG_STEP_H

#include <stdint.h>

#include "io/step.h"
#include "io/stream.h"

typedef struct wn_mig_opts {
	wn_stream_opts io;
	int64_t budget;        /* required */
	const char *labels;    /* path, required */
	const char *quality;   /* path, required */
	double prop_weight;    /* default 1 */
	double threshold;      /* default 0.9 */
	int norm;
	const char *phi_name;  /* pow | exp */
	const char *model;     /* hash | DIR */
	int dim;               /* hash: dimension (0: 512) */
	const char *char_ngrams; /* hash: "MIN,MAX" or "N" */
	int char_min, char_max;  /* set by check */
	int phi;               /* set by check */
} wn_mig_opts;

void wn_mig_init(wn_mig_opts *o);
int wn_mig_check(wn_mig_opts *o, char *err, size_t errlen);
int wn_mig_run(const wn_mig_opts *o, wn_stream *s, wn_step_report *rep, char *err,
	       size_t errlen);

#endif
