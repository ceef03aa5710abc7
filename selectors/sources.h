/*
 * selectors/sources.h — choosing sources and budgets before any per-record
 * selection (issue 21): the numbers only, over plain arrays, so that every
 * formula is unit-testable without records.
 *
 *  - QQT (Goyal et al. 2024, locuslab/scaling_laws_data_filtering): the
 *    utility of a pool under repetition, the mixing of the top-k pools, and
 *    the seeded grid-search fit of (b, tau) per pool from pilot errors
 *    (selectors/sources_qqt.c);
 *  - projektor (Kang et al. 2023, reds-lab/projektor): the OT distance of a
 *    mixture and its gradient from Sinkhorn dual potentials, and the
 *    two-stage performance model with its projected gradient ascent
 *    (selectors/sources_ot.c, selectors/sources_plan.c).
 *
 * Owns nothing beyond what a function documents it returns; borrows its
 * arrays. No global state. Every function returns 0, or -1 with one line
 * in err.
 */
#ifndef WN_SELECTORS_SOURCES_H
#define WN_SELECTORS_SOURCES_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- QQT ------------------------------------------------------------ */

#define WN_QQT_NORMALIZER 100000.0 /* objective.py's normalizer */
#define WN_QQT_GRID 100            /* points per axis, as grid_search.py */

/*
 * The error after n samples seen of k mixed pools with parameters b[i],
 * tau[i] (i < k), S samples per epoch, as objective.py's
 * func_effective_utility_aggregation computes it:
 *   E = floor(n / S), b_k = mean_i b_i 0.5^(k / tau_i), k = 0..E,
 *   loss = (x_0^{b_0} + d) * prod_{k=1..E} (x_k / x'_k)^{b_k},
 *   x_k = a min(S (k+1), n) / 1e5, x'_k = a S k / 1e5.
 * tau here is the effective tau (the caller multiplies by the pool count:
 * see wn_qqt_topk). k = 1 is the single-pool utility. n, S >= 1.
 */
double wn_qqt_loss(const double *b, const double *tau, int k, int64_t S, int64_t n, double a,
		   double d);

/*
 * Mixing the best k of the pools (b, tau) as estimate_best_pool.py does:
 * pools sorted by b ascending (most negative first: the error falls
 * fastest), tau_hat = k tau_i, S = k pool_size. b, tau must be sorted
 * already (wn_qqt_sort_pools).
 */
double wn_qqt_topk(const double *b, const double *tau, int k, int64_t pool_size, int64_t n,
		   double a, double d);

/* Sort the pools by b ascending (stable: equal b keep their order);
 * order[r] = the input index of the pool at rank r. b, tau permuted in place. */
void wn_qqt_sort_pools(double *b, double *tau, int *order, int npools);

/* One pool's pilots: m measurements (S samples per epoch, n seen, error y). */
typedef struct wn_qqt_pilots {
	const int64_t *S, *n;
	const double *y;
	size_t m;
} wn_qqt_pilots;

/* The grid's i-th point, i < WN_QQT_GRID: b from -0.005 down to -0.5, tau
 * from 1 to 10, a from 1e-4 to a_upper (np.linspace). */
double wn_qqt_grid_b(int i);
double wn_qqt_grid_tau(int i);
double wn_qqt_grid_a(int i, double a_upper);

/*
 * Fit (b, tau) of one pool with a and d fixed: every point of the 100x100
 * grid, visited in an order shuffled by seed (Philox), keeping the first
 * strict minimum of the sum of squared errors (the official code shuffles
 * with numpy's unseeded generator: here ties go the same way every run).
 */
int wn_qqt_fit_pool(const wn_qqt_pilots *p, double a, double d, uint64_t seed, double *b,
		    double *tau, double *sse, char *err, size_t errlen);

/*
 * Fit the shared a once: the a of the 100-point grid (1e-4 .. a_upper)
 * that minimizes the sum over pools of each pool's best (b, tau) residual
 * on the full grid. a scales only the first epoch's term (the repetition
 * ratios x_k / x'_k do not depend on it), so the profile costs one pow per
 * (a, b, tau, pilot). grid_search.py instead searches (a, b, tau) per pool,
 * shuffled and cut after 100,000 points. Ties go to the smaller a.
 */
int wn_qqt_fit_a(const wn_qqt_pilots *pools, int npools, double d, double a_upper, double *a,
		 char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
