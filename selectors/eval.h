/*
 * selectors/eval.h — prune curves: does keeping the records a score ranks
 * high (or low) train a better proxy than keeping as many at random?
 *
 * For every fraction f of the training pool (n_pool records; the held-out
 * records never enter it) the budget is k = round(f n_pool); a rule picks
 * k records — high: the k largest scores, low: the k smallest (ties to
 * the earlier record), random: the first k of a permutation drawn per
 * repeat (nested over fractions), and the probabilistic keeps of Anand et
 * al.: softmax (k drawn without replacement, each draw with probability
 * proportional to exp(score / T)) and linear (weights: the score mapped
 * linearly from [min, max] over the pool to [eps, 1]), both by Gumbel
 * top-k per repeat — and repeat r trains a model from seed
 * wn_rng_derive(seed, r) on the picked records in record order, reading
 * its held-out accuracy after the last epoch. Every rule trains with the
 * same model seed per repeat, so at f = 1 every rule trains the same
 * model on the same records and gets the same accuracy.
 *
 * Owns: the result (wn_eval_result_free), the picks, the statistics and
 * the three renderings (a text table, a JSON document, an SVG chart).
 * Borrows: selectors/dynamics.h (wn_dyn_fit: the loop of `winnow train`),
 * core/sample.h (permutations), cJSON (the document), io/buf.h.
 */
#ifndef WN_SELECTORS_EVAL_H
#define WN_SELECTORS_EVAL_H

#include <stdint.h>

#include "io/buf.h"
#include "selectors/dynamics.h"

enum wn_eval_rule {
	WN_EVAL_RANDOM = 0, WN_EVAL_HIGH = 1, WN_EVAL_LOW = 2,
	WN_EVAL_SOFTMAX = 3, /* k drawn without replacement, P(first) = softmax(score / T) */
	WN_EVAL_LINEAR = 4,  /* the same with weights eps + (1 - eps) (s - min) / (max - min) */
};
#define WN_EVAL_MAX_CURVES 5
#define WN_EVAL_MAX_FRACS 64

/* "0.1,0.5,1": strictly increasing fractions in (0, 1]; 0 or -1 (err). */
int wn_eval_parse_fracs(const char *s, double *fracs, int *nfracs, char *err, size_t errlen);
/* "high,low,softmax,linear": the rules after random (curve 0 is always
 * random); 0 or -1. */
int wn_eval_parse_keep(const char *s, int *rules, int *nrules, char *err, size_t errlen);
const char *wn_eval_rule_name(int rule);

/* round(f n), at least 0. */
int64_t wn_eval_budget(double f, int64_t n);

/* The parameters of the probabilistic keeps. */
typedef struct wn_eval_prob {
	double temperature; /* softmax: T > 0 (default 1) */
	double eps;         /* linear: the weight of the lowest score, in (0, 1] (default 0.01) */
} wn_eval_prob;

/*
 * The k of pool[0..n_pool) a rule keeps, in increasing order, to out (k):
 * high / low by score[pool[i]]; random: the first k of the permutation of
 * (seed, repeat); softmax / linear: Gumbel top-k of (seed, repeat) with pp.
 * 0, or -1 when memory runs out.
 */
int wn_eval_pick(int rule, const double *score, const int64_t *pool, int64_t n_pool, int64_t k,
		 uint64_t seed, int repeat, const wn_eval_prob *pp, int64_t *out);

/* Mean, sample standard deviation (0 for one value), min and max. */
void wn_eval_stats(const double *v, int n, double *mean, double *sd, double *min, double *max);

typedef struct wn_eval_result {
	int nfracs, repeats, ncurves;
	double fracs[WN_EVAL_MAX_FRACS];
	int64_t budget[WN_EVAL_MAX_FRACS];
	int rules[WN_EVAL_MAX_CURVES];       /* curve c's rule; rules[0] = random */
	wn_eval_prob prob;                   /* softmax / linear parameters */
	double *acc;                         /* ncurves x nfracs x repeats */
	int64_t n, n_pool, n_hold;           /* records, training pool, held out */
} wn_eval_result;

/* Accuracy of curve c at fraction f, repeat r. */
#define WN_EVAL_ACC(res, c, f, r) ((res)->acc[((int64_t)(c) * (res)->nfracs + (f)) * (res)->repeats + (r)])

/*
 * Fill res (fracs, rules, repeats set by the caller): train every point.
 * progress (optional) is told after every fraction. 0, or -1 with err.
 */
int wn_eval_run(wn_core *c, const wn_dyn_opts *o, const float *X, const int32_t *y,
		const double *score, int64_t n, int64_t d, int64_t C, const unsigned char *holdout,
		uint64_t seed, wn_eval_result *res, void (*progress)(void *, int), void *ctx,
		char *err, size_t errlen);
void wn_eval_result_free(wn_eval_result *res);

/* What the renderings name: the label field, the score, the model. */
typedef struct wn_eval_meta {
	const char *label, *by, *model;
	int64_t hidden;
	int epochs;
	uint64_t seed;
	int64_t classes;
} wn_eval_meta;

/* 0, or -1 when memory runs out. */
int wn_eval_table(const wn_eval_result *res, const wn_eval_meta *m, wn_buf *out);
char *wn_eval_json(const wn_eval_result *res, const wn_eval_meta *m); /* malloc'd, NULL: OOM */
int wn_eval_svg(const wn_eval_result *res, const wn_eval_meta *m, wn_buf *out);

#endif
