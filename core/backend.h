/*
 * core/backend.h — the table of functions a backend provides (internal to core/).
 *
 * core/core.c dispatches every public wn_core_* op through one of these
 * tables: the CPU backend (core/cpu_*.c, linked into winnow) or the CUDA
 * backend (core/cuda_*.cu, built into libwinnow_cuda.so only when nvcc is
 * present and opened with dlopen at run time, so one winnow binary runs
 * with or without a GPU).
 *
 * The shared object exports one symbol, WN_CUDA_ENTRY_SYMBOL, of type
 * wn_backend_entry_fn. It fills in the table or returns a negative code and
 * a one-line reason (no GPU, driver too old, ...).
 *
 * Every op gets the backend's own state pointer first; sizes and pointer
 * conventions are those of core.h. An op left NULL means "not implemented
 * on this backend": core.c then runs the CPU reference on host copies, so
 * a backend can grow op by op. Host-array ops (knn, kmeans_*) take host
 * pointers exactly as in core.h.
 */
#ifndef WN_CORE_BACKEND_H
#define WN_CORE_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WN_BACKEND_ABI 5 /* 3: scale_rows, mem_info; 4: gemm_batched_prec, bias_gelu, bias_add; 5: kmeans_fit */
#define WN_CUDA_ENTRY_SYMBOL "wn_cuda_backend_open"

typedef struct wn_backend {
	int abi;      /* WN_BACKEND_ABI */
	const char *name; /* "cpu", "cuda" */
	void *state;

	void (*close)(void *state);
	void (*describe)(void *state, char *buf, size_t len);

	void *(*alloc)(void *state, size_t bytes);
	void (*free)(void *state, void *p);
	int (*upload)(void *state, void *dst, const void *src, size_t bytes);
	int (*download)(void *state, void *dst, const void *src, size_t bytes);
	int (*copy)(void *state, void *dst, const void *src, size_t bytes);
	int (*zero)(void *state, void *p, size_t bytes);
	int (*sync)(void *state);

	int (*gemm_batched)(void *state, int ta, int tb, int64_t m, int64_t n, int64_t k,
			    float alpha, const float *A, int64_t lda, int64_t strideA,
			    const float *B, int64_t ldb, int64_t strideB,
			    float beta, float *C, int64_t ldc, int64_t strideC, int64_t batch);
	/* the same with the inputs at a reduced precision (WN_PREC_*, core.h),
	 * float32 in and out, float32 accumulation; never called with FP32 */
	int (*gemm_batched_prec)(void *state, int prec, int ta, int tb, int64_t m, int64_t n,
				 int64_t k, float alpha, const float *A, int64_t lda,
				 int64_t strideA, const float *B, int64_t ldb, int64_t strideB,
				 float beta, float *C, int64_t ldc, int64_t strideC,
				 int64_t batch);
	int (*row_sqnorms)(void *state, const float *X, int64_t n, int64_t d, float *out);
	int (*row_normalize)(void *state, float *X, int64_t n, int64_t d);
	int (*add_bias)(void *state, float *X, const float *bias, int64_t n, int64_t d);
	int (*add)(void *state, float *X, const float *Y, size_t count);
	int (*gelu)(void *state, float *X, size_t count, int tanh_approx);
	/* fused epilogues, the same bits as the ops they fuse (NULL on the CPU,
	 * whose twin is that sequence, core.c): add_bias then gelu; and
	 * X = (X + bias) + Y per row of d */
	int (*bias_gelu)(void *state, float *X, const float *bias, int64_t n, int64_t d,
			 int tanh_approx);
	int (*bias_add)(void *state, float *X, const float *bias, const float *Y, int64_t n,
			int64_t d);
	int (*relu)(void *state, float *X, size_t count);
	int (*layernorm)(void *state, const float *X, const float *gamma, const float *beta,
			 float *Y, int64_t n, int64_t d, float eps);
	int (*softmax_masked)(void *state, float *S, int64_t rows, int64_t cols, float scale,
			      const float *mask, int64_t rows_per_mask);
	int (*masked_mean)(void *state, const float *X, const float *mask, int64_t batch,
			   int64_t len, int64_t d, float *out);
	int (*gather_rows)(void *state, const float *table, const int32_t *ids, int64_t n,
			   int64_t d, float *out);

	int (*knn)(void *state, int metric, const float *Q_host, int64_t nq,
		   const float *B_host, int64_t nb, int64_t d, int64_t k,
		   float *out_dist_host, int64_t *out_idx_host);
	int (*kmeans_assign)(void *state, int metric, const float *X_host, int64_t n, int64_t d,
			     const float *C_host, int64_t k, int32_t *out_assign, float *out_dist);
	int (*kmeans_train)(void *state, int metric, const float *X_host, int64_t n, int64_t d,
			    int64_t k, int niter, uint64_t seed, float *C_out,
			    double *inertia_per_iter);
	/* kmeans_train, then kmeans_assign on its centroids, the points kept on
	 * the device in between (NULL: core.c makes the two calls) */
	int (*kmeans_fit)(void *state, int metric, const float *X_host, int64_t n, int64_t d,
			  int64_t k, int niter, uint64_t seed, float *C_out,
			  double *inertia_per_iter, int32_t *out_assign, float *out_dist);

	/* Sinkhorn's half step on device buffers (core/cpu_sinkhorn.c is the
	 * reference): out_i = -eps log sum_j exp(lw_j + (h_j - C_ij) / eps)
	 * for the rows of C (rows x cols, float); lw, h, out double. */
	int (*softmin_rows)(void *state, const float *C, int64_t rows, int64_t cols,
			    const double *lw, const double *h, double eps, double *out);

	/* out[i*d + j] = (float)(s[i] * (double)X[i*d + j]) for n x d rows (s: n
	 * doubles on the device; out may alias X): the weighted rows of a Gram
	 * matrix, rounded once as the host's own conversion rounds them. */
	int (*scale_rows)(void *state, const float *X, const double *s, int64_t n, int64_t d,
			  float *out);
	/* free and total device memory in bytes (NULL: the backend cannot say) */
	int (*mem_info)(void *state, size_t *free_bytes, size_t *total_bytes);

	/* last error of this backend, one line */
	const char *(*error)(void *state);
} wn_backend;

typedef int (*wn_backend_entry_fn)(int abi, int threads, wn_backend *out,
				   char *errbuf, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
