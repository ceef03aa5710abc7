/*
 * selectors/semdedup.h — SemDeDup (Abbas et al. 2023) over arrays: which
 * members of each k-means cluster are semantic duplicates, held to the
 * rule of the official code (facebookresearch/SemDeDup, semdedup.py), not
 * the survivor-greedy simplification.
 *
 * The rule, per cluster and per eps:
 *  1. members are ordered by cosine distance 1 - cos(x, c) to the cluster's
 *     centroid c, farthest first, ties in stream order (WN_SEMDEDUP_HARD:
 *     sort_clusters.py's sorted(..., reverse=keep_hard), which is stable);
 *     EASY is that order reversed (semdedup.py's [::-1]: nearest first,
 *     ties in reverse stream order); RANDOM orders by a Philox draw per
 *     record (key wn_rng_u64(seed, WN_SEMDEDUP_STREAM, position); the
 *     official code shuffles with Python's random);
 *  2. member j is removed iff cos(x_i, x_j) > 1 - eps (strictly) for SOME
 *     earlier member i < j, whether or not i was itself removed (the
 *     official code's max over the upper triangle of the similarity
 *     matrix). So with cos(a,b) = cos(b,c) = 0.95, cos(a,c) = 0.85 and
 *     eps 0.07, in the order a, b, c only a is kept.
 * Differences from the official code, both stated in `--help`:
 *  - the official code fills the lower triangle with 0 before the column
 *    max, so for eps >= 1 (threshold <= 0) it removes every member, the
 *    first included; here only real pairs count (the first member of a
 *    cluster is always kept);
 *  - similarities come from the core's float32 GEMM in tiles of at most
 *    max_cluster x max_cluster; a pair whose float similarity lies within
 *    the GEMM's error bound (2 d 2^-24) of a threshold is recomputed as a
 *    double dot product, so every decision is the exact one for the unit
 *    float vectors, the same on CPU and CUDA and at any thread count.
 * Vectors are L2-normalised first (the official code takes them as they
 * are and assumes unit embeddings; a zero vector stays zero: similarity 0
 * to everything, distance 1 to the centroid). Centroids are the normalised
 * means of the normalised members (spherical k-means' centroid), unless
 * given (the official code uses the k-means centroids: pass cluster
 * kmeans' --centroids-out); distances to them are computed in double.
 *
 * Owns: nothing past a call (its scratch). Borrows: core/core.h (the GEMM,
 * device buffers), core/rng.h.
 */
#ifndef WN_SELECTORS_SEMDEDUP_H
#define WN_SELECTORS_SEMDEDUP_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WN_SEMDEDUP_STREAM 0x7364000000000001ull
#define WN_SEMDEDUP_MAX_EPS 32

enum wn_semdedup_keep { WN_SEMDEDUP_HARD = 0, WN_SEMDEDUP_EASY = 1, WN_SEMDEDUP_RANDOM = 2 };

typedef struct wn_semdedup_opts {
	const double *eps;       /* neps values in (0, 2) */
	int neps;
	int keep;                /* enum wn_semdedup_keep */
	uint64_t seed;           /* RANDOM's draws */
	int64_t max_cluster;     /* tile side of the similarity blocks (>= 1) */
	int threads;             /* scanning the tiles (0: OpenMP's default) */
} wn_semdedup_opts;

/* What one run found (filled when non-NULL). */
typedef struct wn_semdedup_info {
	int64_t clusters;        /* clusters with at least one member */
	int64_t largest;         /* members of the largest */
	int64_t tiles;           /* GEMM tiles computed */
	int64_t rechecked;       /* pairs near a threshold, recomputed in double */
} wn_semdedup_info;

/*
 * X: n x d vectors (row-major, finite). cluster[i]: record i's cluster id
 * (>= 0), or -1 to leave it out (its keep flags are set to 0 and it takes
 * part in nothing). C: k x d centroids indexed by cluster id (then every
 * id must be < k; they are normalised here), or NULL to use the members'
 * normalised means. keep: n x neps flags, keep[i * neps + e] = 1 when
 * record i survives eps[e]. Returns 0, or -1 with one line in err (a
 * cluster id >= k, out of memory, a core failure).
 */
int wn_semdedup(wn_core *core, const float *X, int64_t n, int64_t d, const int64_t *cluster,
		const float *C, int64_t k, const wn_semdedup_opts *o, unsigned char *keep,
		wn_semdedup_info *info, char *err, size_t errlen);

/*
 * The order rule alone, for one cluster: sort the m member positions pos[]
 * (stream positions) with their dist[] as `keep` says; RANDOM uses (seed,
 * pos). In place.
 */
void wn_semdedup_order(int64_t *pos, double *dist, int64_t m, int keep, uint64_t seed);

#ifdef __cplusplus
}
#endif

#endif
