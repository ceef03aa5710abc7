/*
 * selectors/kmq.h — kMQ, the selector of "Diversify and Conquer" (Yu et
 * al. 2024): cluster the pool (k-means, done before: winnow.cluster), then
 * sample inside each cluster, weighted by a quality score. Plain functions
 * over arrays; the step is selectors/kmq_step.c.
 *
 * Two modes, because the paper and its released code disagree:
 *   paper: cluster budgets proportional to cluster size (largest-remainder
 *          rounding, ties to the lower cluster id), draws WITH replacement,
 *          P(i) ∝ s_i inside the cluster (s_i >= 0);
 *   code:  equal budgets per cluster (water-filling: a cluster smaller than
 *          the level gives all it has, the units left over go one each to
 *          the lowest cluster ids that still have items), draws WITHOUT
 *          replacement, P ∝ softmax(s) inside the cluster (Gumbel top-k
 *          on log-weights s_i: successive softmax draws).
 * Without quality scores every weight is 1 (uniform).
 * Rounds (the iterative variant): round r draws N/R (the first N mod R
 * rounds one more) from the items no earlier round took. The released
 * code's per-cluster quota N·frac/(K·R) is a bug (it divides by R twice
 * once its frac is the round's share); here each round gets N/R in all.
 * Items of weight 0 are never drawn and do not count towards a cluster's
 * size. Every cluster of every round draws from its own Philox stream
 * (seed, (0x20 << 40) | (round << 32) | cluster).
 *
 * Owns: nothing beyond its scratch. Borrows: core/sample.h (every draw).
 */
#ifndef WN_SELECTORS_KMQ_H
#define WN_SELECTORS_KMQ_H

#include <stddef.h>
#include <stdint.h>

enum wn_kmq_mode { WN_KMQ_PAPER = 0, WN_KMQ_CODE = 1 };

/*
 * Cluster budgets for `budget` items over k clusters of sizes size[]:
 * paper (∝ size, any budget) or code (equal, water-filled, each quota <=
 * its size; budget above Σ size gives every cluster its size). quota has
 * k entries. Returns 0, or -1 with err.
 */
int wn_kmq_quotas(const int64_t *size, int64_t k, int64_t budget, int mode, int64_t *quota,
		  char *err, size_t errlen);

typedef struct wn_kmq_params {
	int mode;          /* enum wn_kmq_mode */
	int64_t budget;    /* N */
	int64_t rounds;    /* R >= 1 */
	uint64_t seed;
	int threads;
} wn_kmq_params;

/*
 * Select over n items with cluster[i] in [0, k) and quality[i] (NULL:
 * uniform; paper mode needs quality >= 0). count[i] (n) gets how many
 * times item i was drawn (0 or 1 in code mode), round[i] (n) the round
 * that drew it (-1: not drawn). *drawn gets the total number of draws.
 * Returns 0, or -1 with err.
 */
int wn_kmq_select(const int64_t *cluster, const double *quality, int64_t n, int64_t k,
		  const wn_kmq_params *p, int64_t *count, int32_t *round, int64_t *drawn,
		  char *err, size_t errlen);

#endif
