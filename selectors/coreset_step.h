/*
 * selectors/coreset_step.h — `winnow coreset` (issue 19): draw a weighted
 * sample of m records with probability proportional to a sensitivity bound
 * (winnow.leverage, winnow.lewis, winnow.kmeans_sensitivity, or any
 * non-negative number) and write winnow.weight, so that weighted sums over
 * the sample estimate the full-set sums:
 *
 *  - with replacement (default, the coreset construction): m draws by the
 *    alias method, p_i = s_i / Σ s; each record drawn c_i > 0 times is
 *    written once, in input order, with winnow.count = c_i and
 *    winnow.weight = c_i / (m p_i) (Hansen–Hurwitz: unbiased);
 *  - --pps: systematic PPS, π_i = min(1, m p_i rescaled), winnow.weight =
 *    1/π_i (Horvitz–Thompson: unbiased);
 *  - --without-replacement: m distinct records by Gumbel top-k, winnow.weight
 *    = 1 / (m p_i) — the with-replacement weight, only approximately
 *    unbiased (exact inclusion probabilities are not computed).
 *
 * The effective sample size (Kish: (Σ w)² / Σ w² over the draws) and Σ w
 * (which estimates n) go to stderr and --stats.
 *
 * Owns: the weights column and the spool of candidate records.
 * Borrows: core/sample.h (every draw keyed by (seed, stream)), io/spool,
 * io/stream, io/json (the --weights path), cJSON (--stats).
 */
#ifndef WN_SELECTORS_CORESET_STEP_H
#define WN_SELECTORS_CORESET_STEP_H

#include <stdint.h>

#include "io/step.h"
#include "io/stream.h"

enum wn_coreset_mode { WN_CORESET_WITH = 0, WN_CORESET_WITHOUT = 1, WN_CORESET_PPS = 2 };

typedef struct wn_coreset_opts {
	wn_stream_opts io;
	int64_t sample;         /* m, required */
	const char *weights;    /* the sensitivity path, required */
	int64_t seed;
	int with_replacement, without_replacement, pps; /* flags; mode set by check */
	int mode;
	const char *stats;
} wn_coreset_opts;

/* One draw's result, per candidate. */
typedef struct wn_coreset_draw {
	int64_t *count;   /* n: times drawn (0 or 1 without replacement / PPS) */
	double *weight;   /* n: winnow.weight (0 when not drawn) */
	int64_t distinct; /* records drawn at least once */
	double ess;       /* Kish effective sample size over the draws */
	double sum_w;     /* Σ over draws of the per-draw weight: estimates n */
} wn_coreset_draw;

/*
 * Draw m of n items with sensitivities s (finite, >= 0, not all 0) under
 * `mode`; d->count and d->weight are allocated here (wn_coreset_draw_free).
 * Returns 0, or -1 with err.
 */
int wn_coreset_sample(const double *s, int64_t n, int64_t m, int mode, uint64_t seed, int threads,
		      wn_coreset_draw *d, char *err, size_t errlen);
void wn_coreset_draw_free(wn_coreset_draw *d);

void wn_coreset_init(wn_coreset_opts *o);
int wn_coreset_check(wn_coreset_opts *o, char *err, size_t errlen);
int wn_coreset_run(const wn_coreset_opts *o, wn_stream *s, wn_step_report *rep, char *err,
		   size_t errlen);

#endif
