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

#include "core/core.h"

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

/* ---- projektor: OT dataset distances of mixtures ------------------- */

/* One data set: n vectors of dimension d and, when labelled, a label id
 * per vector into names[0..nlabels). Owns X, label, names (wn_src_set_free). */
typedef struct wn_src_set {
	float *X;
	int64_t n, d;
	int32_t *label; /* NULL: unlabelled */
	char **names;
	int nlabels;
} wn_src_set;

void wn_src_set_free(wn_src_set *s);

/*
 * The gradient of OT(p) with respect to the mixture p from the dual
 * potentials f of the pooled points (N of them, point j from source
 * src[j], counts[i] points of source i, each weighted p_i / counts[i]):
 * raising p_i adds 1/n_i to each point of i and takes the rest from the
 * other points in proportion to their weights, so
 *   dOT/dp_i = sum_{j in i} f_j / n_i - sum_{j not in i} a_j f_j / (1 - p_i),
 * which at the pooled weights p_i = n_i / N is the issue's
 *   (1/n_i) [sum_{j in i} f_j - n_i / (N - n_i) sum_{j not in i} f_j].
 * 0 when n_i is 0 or N (or p_i is 1).
 */
void wn_sources_mix_gradient(const double *f, const int32_t *src, int64_t N, int K,
			     const int64_t *counts, const double *p, double *grad);

/*
 * The label-aware OT dataset distance (otdd's "precomputed_labeldist" with
 * inner_ot_method "exact", as projektor calls it): ground cost
 *   c((x,y),(x',y')) = ||x - x'||^2 / 2 + W(y, y') / 2,
 * W(y, y') the entropic OT between the two labels' feature clouds with cost
 * ||x - x'||^2 (inner Sinkhorn, not debiased; W(y, y) = 0 within one data
 * set), and the outer debiased Sinkhorn divergence. Labels of different
 * sets are different classes (a source's "libs" and the target's "libs"
 * are compared by W, never identified). Without labels: the plain feature
 * OT with cost ||x - x'||^2 / 2.
 * Owns the pooled sources, the cost matrices and W (wn_otdd_free).
 */
typedef struct wn_otdd {
	wn_core *core;            /* borrowed */
	wn_sinkhorn_opts outer;
	int K;                    /* sources */
	int64_t N, M;             /* pooled source points, target points */
	int64_t *counts, *start;  /* per source: points, first pooled row */
	int32_t *src;             /* N: source of each pooled point */
	float *Cxy, *Cxx, *Cyy;   /* N x M, N x N, M x M */
	float *W;                 /* nclass x nclass label distances (NULL: no labels) */
	int nclass;
} wn_otdd;

/* All the costs; sets must share d and be non-empty; labels used when every
 * set has them and use_labels. 0, or -1 with one line in err. */
int wn_otdd_init(wn_otdd *o, wn_core *c, const wn_src_set *sources, int K, const wn_src_set *target,
		 int use_labels, const wn_sinkhorn_opts *outer, const wn_sinkhorn_opts *inner,
		 char *err, size_t errlen);
/* OTDD(source k, target). */
int wn_otdd_source(const wn_otdd *o, int k, double *dist, char *err, size_t errlen);
/* OTDD(mixture p, target) and its gradient in p (grad may be NULL). A p_i of
 * 0 is raised to WN_OTDD_PMIN (then p renormalised) so every potential exists. */
#define WN_OTDD_PMIN 1e-9
int wn_otdd_mixture(const wn_otdd *o, const double *p, double *dist, double *grad, char *err,
		    size_t errlen);
void wn_otdd_free(wn_otdd *o);

/* ---- projektor: the performance model and the mixture ascent ---------- */

/* Features of L(p) = sum_{i<K-1} (b2_i p_i^2 + b1_i p_i) OT + b0 OT
 * + sum_{i<K-1} c1_i p_i + c0 (the code's set: the last source's p
 * eliminated, no c2, one b0 and c0), in the order
 * [b2_1..b2_{K-1}, b1_1..b1_{K-1}, b0, c1_1..c1_{K-1}, c0]. */
static inline int wn_plan_nfeat(int K) { return 3 * (K - 1) + 2; }
void wn_plan_features(const double *p, int K, double ot, double *feat);
/* L(p) for coefficients beta (wn_plan_nfeat(K) of them). */
double wn_plan_predict(const double *beta, const double *p, int K, double ot);
/* dL/dp_i (K entries) given dOT/dp (K entries): the explicit terms for
 * i < K-1 plus (sum_i(b2_i p_i^2 + b1_i p_i) + b0) dOT/dp_i. */
void wn_plan_gradient(const double *beta, const double *p, int K, double ot, const double *dot,
		      double *grad);
/* Least squares beta from m rows of features (m x F, row-major) and y:
 * 0, or -1 (too few rows, or rank-deficient) with err. *rss = residual sum of squares. */
int wn_plan_fit(const double *feat, const double *y, int m, int F, double *beta, double *rss,
		char *err, size_t errlen);
/* Stage 2: [ln(N/N0) L1 - ln(N/N1) L0] / ln(N1/N0). */
double wn_plan_interp(double N, double N0, double L0, double N1, double L1);
/* Euclidean projection of v (K entries) onto the probability simplex, in place. */
void wn_plan_project_simplex(double *v, int K);

#ifdef __cplusplus
}
#endif

#endif
