/*
 * selectors/s2l.h — S2L (Yang et al. 2024, "SmallToLarge"): cluster the
 * per-example loss trajectories of a small model, then draw a budget over
 * the clusters so that small clusters are kept whole.
 *
 * Owns: nothing past a call. Borrows: k-means on the compute core
 * (cluster/kmeans.h, engine "core": k-means++ seeding from Philox, then
 * 25 Lloyd iterations, L2; the official code runs FAISS k-means, random
 * init, 20 iterations), selectors/subset.h (uniform draws).
 *
 * The draw is the official code's order: clusters sorted by size, smallest
 * first (ties: the cluster seen first in the input), cluster i of m gets
 * q = floor(remaining / (m - i)) and gives all its records when it has at
 * most q, else q drawn uniformly (stream wn_s2l_stream(its rank)); what it
 * did not use stays in `remaining` for the larger clusters after it. One
 * difference from that code: it keeps clusters of 1 or 2 records for a
 * last pass; here every cluster takes its turn by size.
 */
#ifndef WN_SELECTORS_S2L_H
#define WN_SELECTORS_S2L_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

#define WN_S2L_DEFAULT_K 100
#define WN_S2L_NITER 25

/*
 * k-means of the n trajectories (n x K) into min(k, n) clusters (*k_used);
 * assign (n) gets each row's cluster. 0, or -1 with err.
 */
int wn_s2l_cluster(wn_core *c, const float *traj, int64_t n, int64_t K, int64_t k,
		   uint64_t seed, int32_t *assign, int64_t *k_used, char *err, size_t errlen);

/*
 * target of the n items in groups group[i] in [0, ngroups): the positions
 * kept to out (n entries), ascending, *nout of them (min(target, n)).
 * 0, or -1 with err (out of memory).
 */
int wn_s2l_select(const uint32_t *group, size_t n, size_t ngroups, size_t target, uint64_t seed,
		  size_t *out, size_t *nout, char *err, size_t errlen);

uint64_t wn_s2l_stream(uint64_t rank);

#endif
