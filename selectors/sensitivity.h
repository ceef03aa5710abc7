/*
 * selectors/sensitivity.h — sensitivity scores of the rows of a matrix, the
 * upper bounds a coreset samples by (issue 19):
 *
 *  - ℓ2 leverage τ_i = a_iᵀ(AᵀA + λI)⁻¹a_i (λ = --ridge, 0 by default);
 *  - ℓp Lewis weights, the fixed point w_i = (a_iᵀ(AᵀW^{1−2/p}A)⁻¹a_i)^{p/2};
 *  - the lightweight k-means coreset probability
 *    q_i = 1/(2n) + d(a_i, μ)²/(2 Σ_j d(a_j, μ)²) (Bachem, Lucic, Krause 2018).
 *
 * The numbers are the core's dense solve (core/core.h, core/cpu_solve.c):
 * the float64 Gram matrix summed over fixed blocks of rows, its Cholesky
 * factor (or an eigen pseudo-inverse for a rank-deficient A, the rank
 * reported) and the quadratic forms of a second pass. Leverage and Lewis
 * weights read their rows through a wn_sens_source, one batch at a time and
 * as many passes as they need (leverage 2, Lewis iterations + 2), so the
 * rows may stream from a record spool: memory O(d² + batch) (+ n doubles of
 * weights for Lewis). The lightweight q streams too (three passes); the
 * bicriteria bound takes a whole matrix.
 * Owns: nothing between calls. Borrows: the core (GEMM path only), the
 * source and sink callbacks.
 *
 * Rows come as float64 or float32 (converted one block at a time). No
 * function keeps state between calls; results do not depend on the thread
 * count: the Gram matrix is summed over fixed blocks in a fixed order
 * (batches of wn_sens_batch_rows(d), whatever the thread count), and each row's score is computed alone.
 */
#ifndef WN_SELECTORS_SENSITIVITY_H
#define WN_SELECTORS_SENSITIVITY_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

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
	int resident;     /* GEMM path: 1 when the rows stayed on the device after pass 1 */
} wn_sens_info;

/*
 * Where the rows come from: rewind starts a pass (the first call may be the
 * only read of the data: the source may spool it then), next gives the
 * pass's next batch (exactly one of *X32, *X64 set; rows a multiple of
 * WN_CORE_GRAM_BLOCK except the last, and the same batches in every pass).
 * Each returns 1 (a batch), 0 (end of pass; rewind only returns 0/-1) or -1
 * with a line in err. The sink gets the scores of the last pass's batches,
 * in order, right after each next() (so the source may still hold the
 * batch's records). rewind_emit (may be NULL: rewind) starts that last
 * pass, whose batches need only their row counts: a source may skip
 * reading the vectors then (what *X32 and *X64 point at is unspecified).
 */
typedef struct wn_sens_source {
	void *ctx;
	int64_t d;
	int (*rewind)(void *ctx, char *err, size_t errlen);
	int (*next)(void *ctx, const float **X32, const double **X64, int64_t *rows, char *err,
		    size_t errlen);
	int (*rewind_emit)(void *ctx, char *err, size_t errlen);
} wn_sens_source;
typedef int (*wn_sens_sink_fn)(void *ctx, const double *scores, int64_t rows, char *err,
			       size_t errlen);

/* Rows per batch for dimension d (a multiple of WN_CORE_GRAM_BLOCK, d only). */
int64_t wn_sens_batch_rows(int64_t d);

/*
 * The streaming forms: gemm NULL computes in float64 on the host; a context
 * runs the two GEMM passes as float32 wn_core_gemm calls on its device
 * (core.h). With a context whose budget allows (wn_core_rows_budget: half
 * the free GPU memory; 0 on the CPU), the first pass also keeps the rows on
 * the device (wn_core_rows), and every later pass but the emitting one runs
 * there without reading the source: the same GEMMs on the same rows, so the
 * same scores; when the rows outgrow the budget the passes stream as
 * before. Lewis keeps n weights (n is counted in its first pass); resident,
 * leverage keeps n scores and Lewis n scores and n row weights.
 * tol, max_iter, p as for wn_sens_lewis.
 */
int wn_sens_leverage_stream(const wn_sens_source *src, wn_core *gemm, double ridge,
			    wn_sens_sink_fn sink, void *sink_ctx, wn_sens_info *info, char *err,
			    size_t errlen);
int wn_sens_lewis_stream(const wn_sens_source *src, wn_core *gemm, double p, double tol,
			 int max_iter, int bound, wn_sens_sink_fn sink, void *sink_ctx,
			 wn_sens_info *info, char *err, size_t errlen);

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

/* The same in three passes (mean, Σ d², q): memory O(d + batch). */
int wn_sens_kmeans_lightweight_stream(const wn_sens_source *src, wn_sens_sink_fn sink,
				      void *sink_ctx, wn_sens_info *info, char *err, size_t errlen);

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
