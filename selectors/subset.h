/*
 * selectors/subset.h — the selection logic behind `winnow select`: which
 * items of a stream to keep, computed over plain arrays (one entry per
 * candidate record, in stream order), with no I/O.
 *
 * Owns: top-N / fraction by a key, the --min/--max filter values, uniform
 * and weighted sampling without replacement, per-group caps, RS2 epochs,
 * temperature mixing across groups (resampled or upweighted), the balanced
 * hierarchical sample over winnow.hcluster paths.
 * Borrows: io/intern.h to number group values (wn_sel_groups); every
 * random draw comes from the compute core's samplers (core/sample.h,
 * Philox keyed by (seed, stream)); nothing here draws a random number of
 * its own, so a selection is a pure function of the arrays, the options
 * and the seed — independent of thread count.
 *
 * Conventions: items are numbered 0..n-1 in stream order ("positions");
 * every function that returns kept positions returns them ascending, so the
 * caller can emit records in input order. Ties in a key are broken by
 * stream order (the earlier item ranks first, for --asc as for descending),
 * so top-N is deterministic. Functions return 0, or -1 with one line in
 * `err` (bad argument, out of memory, sampler failure).
 */
#ifndef WN_SELECTORS_SUBSET_H
#define WN_SELECTORS_SUBSET_H

#include <stddef.h>
#include <stdint.h>

#include "io/intern.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Random streams: each use of the generator gets its own stream number so
 * that, for one seed, e.g. epoch 3 and group 3 never share draws.
 * stream = (purpose << 40) | index.
 */
enum wn_sel_stream {
	WN_SEL_STREAM_SAMPLE = 1,   /* whole-stream sample */
	WN_SEL_STREAM_GROUP = 2,    /* index = group id */
	WN_SEL_STREAM_EPOCH = 3,    /* index = epoch number */
	WN_SEL_STREAM_MIX = 4,      /* index = group id */
	WN_SEL_STREAM_BALANCED = 5, /* index = node number in the hierarchy */
};
uint64_t wn_sel_stream(int purpose, uint64_t index);

/* ---- counts ------------------------------------------------------------ */

/* The number of items --frac F keeps of n: floor(F * n), guarded against
 * binary rounding (0.7 * 10 is 7, not 6). F in [0, 1]. */
size_t wn_sel_frac_count(size_t n, double frac);

/* ---- filters ----------------------------------------------------------- */

/* One --min PATH=VALUE or --max PATH=VALUE (inclusive bound). */
typedef struct wn_sel_filter {
	char *path;   /* owned */
	double value;
	int is_max;   /* 0: keep key >= value; 1: keep key <= value */
} wn_sel_filter;

/* Parse "PATH=VALUE" (VALUE a finite number). Returns 0, or -1 with err. */
int wn_sel_filter_parse(wn_sel_filter *f, const char *spec, int is_max, char *err, size_t errlen);
int wn_sel_filter_pass(const wn_sel_filter *f, double key);
void wn_sel_filter_free(wn_sel_filter *f);

/* ---- whole-stream selections ------------------------------------------ */

/*
 * The k best items by key (largest first, or smallest with asc), ties to
 * the earlier item. k > n keeps everything. out: k positions (min(k, n)),
 * ascending. *nout gets the count.
 */
int wn_sel_top(const double *key, size_t n, size_t k, int asc,
	       size_t *out, size_t *nout, char *err, size_t errlen);

/* k of n uniformly without replacement (k > n keeps all). out ascending. */
int wn_sel_uniform(size_t n, size_t k, uint64_t seed, uint64_t stream,
		   size_t *out, size_t *nout, char *err, size_t errlen);

/*
 * k of n without replacement with inclusion driven by weights (P(first
 * pick = i) ∝ w_i), by Gumbel top-k. With log_weights, w holds log-weights
 * (probability ∝ exp(w_i), as DSIR resamples). Weights must be finite and
 * >= 0 (log-weights finite); items of weight 0 are never picked, so fewer
 * than k may come back (*nout says how many). out ascending.
 */
int wn_sel_weighted(const double *w, size_t n, size_t k, int log_weights,
		    uint64_t seed, uint64_t stream,
		    size_t *out, size_t *nout, char *err, size_t errlen);

/* ---- groups ------------------------------------------------------------ */

/* Interns group values (any bytes) into dense ids 0, 1, ... in order of
 * first appearance, so group numbering follows the stream. This is the one
 * interning table of io/intern.h under the names select and stats use. */
typedef wn_intern wn_sel_groups;
static inline wn_sel_groups *wn_sel_groups_new(void) { return wn_intern_new(); }
/* Returns the id of the value, adding it when new; -1 when out of memory. */
static inline int64_t wn_sel_groups_intern(wn_sel_groups *g, const void *p, size_t n)
{
	return wn_intern_put(g, p, n, NULL);
}
/* The id of the value when already interned, else -1 (nothing added). */
static inline int64_t wn_sel_groups_find(const wn_sel_groups *g, const void *p, size_t n)
{
	return wn_intern_find(g, p, n);
}
static inline size_t wn_sel_groups_count(const wn_sel_groups *g) { return wn_intern_count(g); }
/* The bytes of group `id` (*n gets the length; NUL-terminated). */
static inline const char *wn_sel_groups_name(const wn_sel_groups *g, size_t id, size_t *n)
{
	return wn_intern_str(g, id, n);
}
static inline void wn_sel_groups_free(wn_sel_groups *g) { wn_intern_free(g); }

/* How to choose inside each group under --per. */
enum wn_sel_within {
	WN_SEL_WITHIN_FIRST = 0,  /* the first `cap` in stream order */
	WN_SEL_WITHIN_TOP,        /* the `cap` best by key */
	WN_SEL_WITHIN_UNIFORM,    /* `cap` uniformly at random */
	WN_SEL_WITHIN_WEIGHTED,   /* `cap` by weight (key = weight) */
};

typedef struct wn_sel_per_opts {
	int within;        /* enum wn_sel_within */
	size_t cap;        /* items kept per group (when frac < 0) */
	double frac;       /* >= 0: keep wn_sel_frac_count(n_group, frac) per group */
	int asc;           /* WITHIN_TOP: smallest first */
	int log_weights;   /* WITHIN_WEIGHTED: key holds log-weights */
	uint64_t seed;
} wn_sel_per_opts;

/*
 * Per-group selection: group[i] in [0, ngroups) for each item, key[i] used
 * by TOP and WEIGHTED (may be NULL otherwise). Group g draws from stream
 * wn_sel_stream(WN_SEL_STREAM_GROUP, g). out (n entries) gets the kept
 * positions, ascending.
 */
int wn_sel_per_group(const uint32_t *group, const double *key, size_t n, size_t ngroups,
		     const wn_sel_per_opts *o, size_t *out, size_t *nout,
		     char *err, size_t errlen);

/* ---- RS2: repeated sampling of random subsets -------------------------- */

/*
 * For each epoch e in [0, epochs), an independent uniform subset of k of n
 * items (stream wn_sel_stream(WN_SEL_STREAM_EPOCH, e)): out is epochs * k'
 * positions (k' = min(k, n)), epoch by epoch, ascending inside each epoch.
 */
int wn_sel_epochs(size_t n, size_t k, size_t epochs, uint64_t seed,
		  size_t *out, char *err, size_t errlen);

/* ---- temperature mixing ------------------------------------------------ */

/*
 * Group probabilities p_g ∝ n_g^(1/T) (T > 0; groups of size 0 get 0) and
 * integer quotas summing exactly to `total`: the largest-remainder rounding
 * of total * p_g, remainders tied to the earlier group. p and quota have
 * ngroups entries (either may be NULL).
 */
int wn_sel_mix_quota(const size_t *group_n, size_t ngroups, double temperature,
		     size_t total, double *p, size_t *quota, char *err, size_t errlen);

/*
 * Temperature resampling: `total` draws over the groups by quota; inside a
 * group of n_g items a quota q keeps every item floor(q / n_g) times and a
 * uniform subset of q mod n_g items once more (stream
 * wn_sel_stream(WN_SEL_STREAM_MIX, g)): upsampling repeats records, never
 * more unevenly than by one copy. reps (n entries) gets each item's number
 * of copies (0 = dropped); the sum of reps is `total` (when some group is
 * non-empty).
 */
int wn_sel_mix(const uint32_t *group, size_t n, size_t ngroups, double temperature,
	       size_t total, uint64_t seed, uint32_t *reps, char *err, size_t errlen);

/* The same draw with the group probabilities given (p, ngroups entries,
 * each >= 0, summing to 1) instead of n_g^(1/T); a group with p_g > 0 and
 * no items is an error. */
int wn_sel_mix_fixed(const uint32_t *group, size_t n, size_t ngroups, const double *p,
		     size_t total, uint64_t seed, uint32_t *reps, char *err, size_t errlen);

/*
 * Upweighting instead of resampling: every item is kept with the loss
 * weight total * p_g / n_g, so each group's weight sum equals its expected
 * share of `total` draws under temperature sampling. weight: n entries.
 */
int wn_sel_upweight(const uint32_t *group, size_t n, size_t ngroups, double temperature,
		    size_t total, double *weight, char *err, size_t errlen);

/* ---- balanced hierarchical sampling (Vo et al., 2024) ------------------ */

/*
 * The water-filling split of a budget over m children of the given sizes
 * (the reference's find_subcluster_target_size, multiplier 1: the
 * water-filling of wn_sel_water_fill below with equal wants and lb = 0,
 * its remainder drawn at random as the reference does; DBP uses the
 * general projection): when the sizes sum to at most `target`
 * every child gives all it has; otherwise the cut x is the largest with
 * sum_i min(x, size_i) <= target, each child gets min(x, size_i), and the
 * remainder goes one each to children larger than x, chosen uniformly
 * without replacement (one draw on `stream`). Worked example: sizes
 * [10,3,50,7], target 20: cut 5, [5,3,5,5] plus one to two of {0,2,3};
 * target 21: [6,3,6,6]. budget: m entries. Returns 1 when it drew from
 * the stream, 0 when no draw was needed (so a caller numbering streams
 * spends one only on a draw), or -1 with err.
 */
int wn_sel_split_budget(const size_t *sizes, size_t m, size_t target, uint64_t seed,
			uint64_t stream, size_t *budget, char *err, size_t errlen);

/*
 * Exact water-filling, shared by DBP and the balanced samplers: the
 * Euclidean projection of `want` (m entries) onto the box-and-budget set
 * {x : sum x = total, lb_j <= x_j <= ub_j}, i.e. the solution of
 * min ||x - want||^2 under those constraints (what DBP's reference hands
 * to a QP solver). It is x_j = clamp(want_j - L, lb_j, ub_j) for the one
 * water level L that makes the sum `total`; L is found exactly from the
 * sorted breakpoints want_j - ub_j, want_j - lb_j (O(m log m)). With all
 * wants equal and lb = 0 it is the balanced split min(cut, ub_j). Needs
 * lb_j <= ub_j and sum lb <= total <= sum ub (else -1 with err). x: m
 * entries. Returns 0 or -1.
 */
int wn_sel_water_fill(const double *want, const double *lb, const double *ub, size_t m,
		      double total, double *x, char *err, size_t errlen);

/*
 * Integer quotas from the projection: quota_j = x_j rounded half to even
 * (as numpy.rint), then, when the rounded quotas do not sum to `total`,
 * moved by one at a time toward it — first the entries whose rounding lost
 * the most (x_j - quota_j largest when short, smallest when over), ties to
 * the lower index, never past lb_j or ub_j — so the quotas always sum to
 * `total` and respect the bounds (the reference's np.rint alone can miss
 * the total by a few). lb, ub, quota: m entries. Returns 0 or -1 with err.
 */
int wn_sel_water_fill_int(const double *want, const size_t *lb, const size_t *ub, size_t m,
			  size_t total, size_t *quota, char *err, size_t errlen);

/*
 * path: n x levels cluster ids, row-major, level 1 (finest, the points'
 * clusters) first and the top level last — the order of winnow.hcluster.
 * Draws `target` items: the top-level clusters get equal shares (a cluster
 * smaller than its share gives all it has and the rest is spread over the
 * others: the largest cut x with sum_c min(x, size_c) <= target, the
 * remainder one each to clusters larger than x chosen at random), and the
 * same split is applied inside each cluster over its children, down to the
 * level-1 clusters, from which items are drawn uniformly. Clusters are
 * identified by their full path from the top, so an id reused under two
 * parents is two clusters. target >= n keeps everything. out ascending.
 */
int wn_sel_balanced(const int64_t *path, size_t n, int levels, size_t target,
		    uint64_t seed, size_t *out, size_t *nout, char *err, size_t errlen);

/* How a level-1 cluster gives fewer items than it has. */
enum wn_sel_leaf {
	WN_SEL_LEAF_RANDOM = 0,  /* the reference's "r": uniformly */
	WN_SEL_LEAF_CLOSEST = 1, /* "c": smallest dist first (ties: earlier item) */
};

typedef struct wn_sel_balanced_opts {
	size_t multiplier;   /* >= 1: a cluster counts as size x multiplier */
	int strategy;        /* enum wn_sel_leaf */
	const double *dist;  /* n entries, for WN_SEL_LEAF_CLOSEST */
} wn_sel_balanced_opts;

/*
 * The reference's hierarchical_sampling in full: as wn_sel_balanced, but
 * every split counts children as size x multiplier, and a level-1 cluster
 * asked for t < size x multiplier items gives each item floor(t / size)
 * times and the remaining t mod size by the strategy (so with a multiplier
 * above 1 a small cluster's items repeat, up to multiplier copies). reps
 * (n entries) gets each item's number of copies. With multiplier 1 and
 * WN_SEL_LEAF_RANDOM the draws equal wn_sel_balanced's.
 */
int wn_sel_balanced_reps(const int64_t *path, size_t n, int levels, size_t target,
			 const wn_sel_balanced_opts *bo, uint64_t seed, uint32_t *reps,
			 char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
