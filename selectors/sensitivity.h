/*
 * selectors/sensitivity.h — sensitivity scores of the rows of a matrix, the
 * upper bounds a coreset samples by (issue 19):
 *
 *  - ℓ2 leverage τ_i = a_iᵀ(AᵀA + λI)⁻¹a_i (λ = --ridge, 0 by default);
 *  - ℓp Lewis weights, the fixed point w_i = (a_iᵀ(AᵀW^{1−2/p}A)⁻¹a_i)^{p/2};
 *  - the lightweight k-means coreset probability
 *    q_i = 1/(2n) + d(a_i, μ)²/(2 Σ_j d(a_j, μ)²) (Bachem, Lucic, Krause 2018).
 *
 * Owns: the d×d Gram matrix, accumulated in float64 one block of rows at a
 * time (cblas_dsyrk), equilibrated (D G D with D = diag(G)^{-1/2}, which
 * leaves every score unchanged and keeps the Cholesky well scaled), then
 * factored by LAPACK's dpotrf; the second pass is a triangular solve per
 * block (cblas_dtrsm). When the factorisation fails or its reciprocal
 * condition number (dpocon) is below max(n,d)·eps, the Gram matrix is
 * eigen-decomposed instead (dsyev): eigenvalues ≤ λ_max·max(n,d)·eps are
 * dropped (a pseudo-inverse) and their number is the rank reported.
 * Borrows: OpenBLAS (cblas) and LAPACK (Fortran symbols declared in
 * sensitivity.c: the system has no lapacke.h), nothing of winnow.
 * Why here and not in core/: core/ is float32 and the references need
 * float64 (1e-9 relative for leverage); a CUDA twin is still missing.
 *
 * Rows come as float64 or float32 (converted one block at a time). No
 * function keeps state between calls; results do not depend on the thread
 * count: the Gram matrix is summed over fixed row ranges in a fixed order,
 * each by single-threaded BLAS, and each row's score is computed alone.
 */
#ifndef WN_SELECTORS_SENSITIVITY_H
#define WN_SELECTORS_SENSITIVITY_H

#include <stddef.h>
#include <stdint.h>

/* An n×d row-major matrix: exactly one of a64, a32 is set. */
typedef struct wn_sens_matrix {
	const double *a64;
	const float *a32;
	int64_t n, d;
} wn_sens_matrix;

enum wn_sens_method { WN_SENS_CHOLESKY = 0, WN_SENS_EIGEN = 1 };

/* What a run reports (the sum is the check the issue asks for). */
typedef struct wn_sens_info {
	int64_t rank;     /* rank of A (ridge: d, the solve is of full rank) */
	int method;       /* enum wn_sens_method of the last solve */
	double sum;       /* Σ of the scores: rank (leverage, Lewis), 1 (q), dof (ridge) */
	int iters;        /* Lewis: iterations run */
	double change;    /* Lewis: last max relative change */
	int damped;       /* Lewis: 1 when the averaged iteration was used (p >= 4) */
} wn_sens_info;

/* τ_i for every row into tau (n). ridge >= 0. Returns 0, or -1 with err. */
int wn_sens_leverage(const wn_sens_matrix *A, double ridge, double *tau, wn_sens_info *info,
		     char *err, size_t errlen);

/*
 * ℓp Lewis weights into w (n), from w = 1: for p < 4 the Cohen–Peng
 * iteration w ← τ(w)^{p/2}, τ_i(w) = a_iᵀ(AᵀW^{1−2/p}A)⁻¹a_i; for p >= 4
 * (where that map is not a contraction) the averaged iteration
 * w ← w^{1−2/p}·τ(w) — the step of 2/p in log w, whose fixed point is the
 * same and whose local contraction factor is 1 − 2/p. Stops when
 * max_i |w_i' − w_i| / w_i <= tol, or fails after max_iter iterations.
 * p > 0, tol > 0. Rows of A that are zero get weight 0.
 */
int wn_sens_lewis(const wn_sens_matrix *A, double p, double tol, int max_iter, double *w,
		  wn_sens_info *info, char *err, size_t errlen);

/* The sensitivity upper bound of a Lewis weight: w for p <= 2, d^{p/2−1}·w above. */
double wn_sens_lewis_bound(double w, double p, int64_t d);

/* q_i for every row into q (n); sums to 1 (1/n each when all rows are equal). */
int wn_sens_kmeans_lightweight(const wn_sens_matrix *A, double *q, wn_sens_info *info,
			       char *err, size_t errlen);

/*
 * The sensitivity bound from a k-means++ bicriteria solution (Bachem, Lucic,
 * Krause 2017, "Practical coreset constructions", algorithm 2): B = k
 * centres by D² seeding (Philox stream keyed by seed; fewer when the rows
 * run out of distinct points), c = Σ d(x,B)² / n, α = 16 (ln k + 2), and for
 * x in B's cluster C_b: s(x) = α d(x,B)²/c + 2α Σ_{x'∈C_b} d(x',B)² / (|C_b| c)
 * + 4n / |C_b|; q = s / Σ s. centers (k entries, optional) get the chosen
 * row indices; info->rank gets the number of centres.
 */
int wn_sens_kmeans_bicriteria(const wn_sens_matrix *A, int64_t k, uint64_t seed, double *q,
			      int64_t *centers, wn_sens_info *info, char *err, size_t errlen);

#endif
