/*
 * selectors/plan.h — the `select` step: keep a subset of the stream by a
 * field or an annotation (top-N, fraction, filters, samples, per-group
 * caps, RS2 epochs, temperature mixing, the balanced hierarchical sample).
 *
 * Owns: the filters parsed into the options (wn_select_release frees them).
 * Borrows: io/stream.h, selectors/subset.h, selectors/mix_weights.h (the
 * --mix-weights argument and its files).
 */
#ifndef WN_SELECTORS_PLAN_H
#define WN_SELECTORS_PLAN_H

#include "io/stream.h"
#include "selectors/mix_weights.h"
#include "selectors/subset.h"

typedef struct wn_select_opts {
	wn_stream_opts io;
	int64_t top, sample, cap, epochs, seed;   /* -1: not given (seed: 0) */
	double frac, temperature;                 /* frac -1: not given; temperature 1 */
	const char *by, *weights, *per, *mix, *hier;
	int asc, log_weights, upweight, balanced;
	wn_sel_filter *filters;                   /* --min / --max, in order */
	size_t nfilters;
	int64_t multiplier;                       /* --balanced: 1 unless given */
	const char *strategy;                     /* --balanced: r (default) | c */
	const char *clusters;                     /* --balanced-clusters PATH (S2L's draw) */
	const char *mix_weights;                  /* --mix-weights NAME=W,... | @FILE (explicit p) */
	wn_mix_weights mixw;                      /* parsed by wn_select_check, owned */
	int mode;                                 /* decided by wn_select_check */
} wn_select_opts;

void wn_select_init(wn_select_opts *o);
void wn_select_release(wn_select_opts *o);
/* The callback of --min and --max (opt->value is the wn_select_opts). */
int wn_select_filter_cb(const struct wn_option *opt, const char *arg, char *err, size_t errlen);
/* Decide the mode from the options: 0, or -1 with a usage error in err. */
int wn_select_check(wn_select_opts *o, char *err, size_t errlen);
int wn_select_run(const wn_select_opts *o, wn_stream *s, wn_step_report *rep, char *err, size_t errlen);

#endif
