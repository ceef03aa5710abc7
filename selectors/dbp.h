/*
 * selectors/dbp.h — Density-Based Pruning (Abbas et al. 2024, "Effective
 * pruning of web-scale datasets based on complexity of concept clusters";
 * reference amro-kamal/effective_pruning, prune.py and
 * compute_centroid_distances.py), as plain functions over arrays.
 *
 * For k clusters with unit centroids c_j and members at cosine distance
 * dist_i from their centroid:
 *   d_intra(j) = mean of dist_i over cluster j's members;
 *   d_inter(j) = mean of (1 - <c_j, c_l>) over the `nn` nearest other
 *                centroids l (largest inner product; ties to the lower
 *                index; all others when k - 1 < nn);
 *   C_j = d_inter(j) d_intra(j), a non-finite C_j replaced by the mean of
 *         the finite ones (the reference's nanmean);
 *   P = softmax(C / tau);
 *   x = the Euclidean projection of M P onto {sum x = M, lb_j <= x_j <= |C_j|},
 *       lb_j = min(floor((M / k) balance), |C_j| - 1) (balance 0: the
 *       reference's min_samples 1, so lb_j = min(1, |C_j| - 1)),
 *       solved exactly by water-filling (selectors/subset.h; the reference
 *       calls a QP solver, OSQP) and rounded half to even to quotas that sum
 *       to M (the reference's np.rint alone may miss M by a few).
 * Worked example (issue 20): d_intra [0.2, 0.4], d_inter [0.5, 0.5], tau
 * 0.5, M 100, sizes 200, 200 -> [45, 55]; |C_0| = 30 -> [30, 70].
 *
 * Owns nothing between calls. Borrows: selectors/subset.h (water-filling).
 */
#ifndef WN_SELECTORS_DBP_H
#define WN_SELECTORS_DBP_H

#include <stddef.h>
#include <stdint.h>

/* d_inter (k entries) from k unit centroids C (k x d). 0 or -1 with err. */
int wn_dbp_inter(const float *C, int64_t k, int64_t d, int nn, double *d_inter, char *err,
		 size_t errlen);

/* The per-cluster numbers of one DBP run (k entries each, caller-owned). */
typedef struct wn_dbp_quotas {
	double *complexity; /* C_j after the NaN rule */
	double *prob;       /* P_j */
	size_t *lb;         /* lower bounds */
	size_t *quota;      /* records kept */
} wn_dbp_quotas;

/*
 * Quotas for keeping M of the records of k clusters of the given sizes
 * (each >= 1, M <= sum of sizes), tau > 0, 0 <= balance <= 1. Fills every
 * array of q. Returns 0, or -1 with err.
 */
int wn_dbp_quota(const double *d_intra, const double *d_inter, const size_t *sizes, size_t k,
		 size_t M, double tau, double balance, wn_dbp_quotas *q, char *err, size_t errlen);

#endif
