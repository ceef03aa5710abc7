/*
 * core/internal.h — what core.c and the CPU backend share (internal to core/).
 *
 * Owns: the CPU backend's state and the entry points core.c calls directly:
 * the table constructor, the host-side k-means update (one implementation
 * for both backends, as core.h promises) and the generic Lloyd loop that
 * drives any backend's assign step.
 * Borrows: the backend table (core/backend.h).
 * Why: core.c falls back to the CPU reference for ops a backend leaves NULL,
 * so it needs the CPU functions by name, not only through a table.
 */
#ifndef WN_CORE_INTERNAL_H
#define WN_CORE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/backend.h"
#include "core/core.h"

#define WN_CPU_ERRLEN 256

struct wn_cpu {
	int threads;
	char err[WN_CPU_ERRLEN];
};

/* Fill `out` with the CPU table; threads must be >= 1. */
int wn_cpu_backend_open(int threads, wn_backend *out, char *errbuf, size_t errlen);

/*
 * A context over a given table, treated as a non-CPU backend (so ops it
 * leaves NULL take core.c's host-copy fallback). For tests: a CPU table
 * with ops removed runs every fallback path without a GPU. The context
 * takes the table's state (closed by wn_core_close).
 */
wn_core *wn_core_open_table(const wn_backend *be, int threads);

/* printf into st->err and return code (for one-line error returns). */
int wn_cpu_fail(struct wn_cpu *st, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The leading-dimension rule of a row-major gemm (op(A) m x k, op(B) k x n,
 * C m x n): 1 when lda, ldb and ldc are wide enough. core.c applies it for
 * every backend; the CPU ops apply it for their direct callers. */
static inline int wn_gemm_ld_ok(int ta, int tb, int64_t m, int64_t n, int64_t k, int64_t lda,
				int64_t ldb, int64_t ldc)
{
	int64_t acols = ta ? m : k, bcols = tb ? k : n;
	return lda >= (acols > 1 ? acols : 1) && ldb >= (bcols > 1 ? bcols : 1) &&
	       ldc >= (n > 1 ? n : 1);
}

/* the CPU ops, by name (signatures as in backend.h) */
int wn_cpu_gemm_batched(void *state, int ta, int tb, int64_t m, int64_t n, int64_t k,
			float alpha, const float *A, int64_t lda, int64_t strideA,
			const float *B, int64_t ldb, int64_t strideB,
			float beta, float *C, int64_t ldc, int64_t strideC, int64_t batch);
/*
 * The same on tiles whose shape depends on (m, n) only, each a one-thread
 * sgemm: callers bracket it with wn_cpu_blas_single_begin/_end, which put
 * OpenBLAS in one-thread mode and then restore the thread count other users
 * of OpenBLAS in the process (FAISS) expect. Not to be bracketed from
 * several threads at once: kNN brackets its whole parallel search once.
 */
int wn_cpu_gemm_tiled(void *state, int ta, int tb, int64_t m, int64_t n, int64_t k,
		      float alpha, const float *A, int64_t lda, int64_t strideA,
		      const float *B, int64_t ldb, int64_t strideB,
		      float beta, float *C, int64_t ldc, int64_t strideC, int64_t batch);
/* core/cpu_prec.c: A and B rounded to prec (WN_PREC_*), then the GEMM above */
int wn_cpu_gemm_batched_prec(void *state, int prec, int ta, int tb, int64_t m, int64_t n,
			     int64_t k, float alpha, const float *A, int64_t lda, int64_t strideA,
			     const float *B, int64_t ldb, int64_t strideB, float beta, float *C,
			     int64_t ldc, int64_t strideC, int64_t batch);
int wn_cpu_blas_single_begin(void);
void wn_cpu_blas_single_end(int prev);
int wn_cpu_row_sqnorms(void *state, const float *X, int64_t n, int64_t d, float *out);
int wn_cpu_row_normalize(void *state, float *X, int64_t n, int64_t d);
int wn_cpu_scale_rows(void *state, const float *X, const double *s, int64_t n, int64_t d,
		      float *out);
int wn_cpu_add_bias(void *state, float *X, const float *bias, int64_t n, int64_t d);
int wn_cpu_add(void *state, float *X, const float *Y, size_t count);
int wn_cpu_gelu(void *state, float *X, size_t count, int tanh_approx);
int wn_cpu_relu(void *state, float *X, size_t count);
int wn_cpu_layernorm(void *state, const float *X, const float *gamma, const float *beta,
		     float *Y, int64_t n, int64_t d, float eps);
int wn_cpu_softmax_masked(void *state, float *S, int64_t rows, int64_t cols, float scale,
			  const float *mask, int64_t rows_per_mask);
int wn_cpu_masked_mean(void *state, const float *X, const float *mask, int64_t batch,
		       int64_t len, int64_t d, float *out);
int wn_cpu_gather_rows(void *state, const float *table, const int32_t *ids, int64_t n,
		       int64_t d, float *out);
int wn_cpu_softmin_rows(void *state, const float *C, int64_t rows, int64_t cols,
			const double *lw, const double *h, double eps, double *out);
int wn_cpu_knn(void *state, int metric, const float *Q, int64_t nq, const float *B,
	       int64_t nb, int64_t d, int64_t k, float *out_dist, int64_t *out_idx);
int wn_cpu_kmeans_assign(void *state, int metric, const float *X, int64_t n, int64_t d,
			 const float *C, int64_t k, int32_t *out_assign, float *out_dist);

/*
 * Host-side k-means update shared by both backends: sums in double, one
 * cluster at a time in point order (so the thread count cannot change a
 * bit), then the FAISS-style split of empty clusters (core/kmeans_split.c).
 */
int wn_cpu_kmeans_update(struct wn_cpu *st, int metric, const float *X, int64_t n, int64_t d,
			 const int32_t *assign, int64_t k, uint64_t seed,
			 float *C, int64_t *counts, int64_t *n_split);

#endif
