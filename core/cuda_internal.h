/*
 * core/cuda_internal.h — what the CUDA backend's translation units share.
 *
 * Owns: the backend state (device, stream, cuBLAS handle, last error), the
 * error helpers every core/cuda_*.cu uses, and the declarations of the ops
 * that live in one .cu file and are put into the table by another.
 * Borrows: the backend table (core/backend.h), CUDA runtime and cuBLAS.
 * Why: the backend is split by subject (memory and BLAS, elementwise
 * kernels, kNN, k-means); they need one state type and one way to fail.
 */
#ifndef WN_CORE_CUDA_INTERNAL_H
#define WN_CORE_CUDA_INTERNAL_H

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <stddef.h>
#include <stdint.h>

#include "core/backend.h"
#include "core/core.h"

#define WN_CUDA_ERRLEN 320

struct wn_cuda {
	int device;
	int threads;
	int sm_count;
	size_t smem_optin; /* largest dynamic shared memory one block may ask for */
	cudaStream_t stream;
	cublasHandle_t blas;
	char name[256];
	int cc_major, cc_minor;
	char err[WN_CUDA_ERRLEN];
	/* pinned staging for large uploads (allocated on first use) */
	void *stage[2];
	cudaEvent_t stage_done[2];
	int stage_ok; /* 1 ready, -1 unavailable (then plain pageable copies) */
};

/* printf into st->err and return code. */
int wn_cuda_fail(struct wn_cuda *st, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A CUDA runtime result as an error: "what: cudaErrorX (text)". 0 when ok. */
int wn_cuda_check(struct wn_cuda *st, cudaError_t e, const char *what);
/* The launch status of the last kernel (cudaGetLastError). */
int wn_cuda_check_launch(struct wn_cuda *st, const char *what);
int wn_cuda_check_blas(struct wn_cuda *st, cublasStatus_t s, const char *what);

/* Device memory that the ops allocate for themselves (not managed memory). */
void *wn_cuda_scratch(struct wn_cuda *st, size_t bytes, const char *what, int *rc);
void wn_cuda_scratch_free(void *p);

/*
 * Host-to-device copy of host memory the caller may reuse at once. Large
 * copies go through two pinned staging buffers filled by several threads
 * while the previous one is on the wire; queued on st->stream.
 */
int wn_cuda_upload_async(struct wn_cuda *st, void *dst, const void *src, size_t bytes,
			 const char *what);

/* Warp-wide reductions (all 32 lanes take part), shared by the row and k-means kernels. */
static __device__ __forceinline__ float warp_sum(float v)
{
	for (int o = 16; o > 0; o >>= 1)
		v += __shfl_xor_sync(0xffffffffu, v, o);
	return v;
}

static __device__ __forceinline__ float warp_max(float v)
{
	for (int o = 16; o > 0; o >>= 1)
		v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
	return v;
}

/* Integer environment knob (tests and benchmarks force paths with these). */
long long wn_cuda_env_ll(const char *name, long long dflt);

/* ---- ops by file ------------------------------------------------------- */

/* core/cuda_kernels.cu */
int wn_cuda_row_sqnorms(void *state, const float *X, int64_t n, int64_t d, float *out);
int wn_cuda_row_normalize(void *state, float *X, int64_t n, int64_t d);
int wn_cuda_scale_rows(void *state, const float *X, const double *s, int64_t n, int64_t d,
		       float *out);
int wn_cuda_add_bias(void *state, float *X, const float *bias, int64_t n, int64_t d);
int wn_cuda_add(void *state, float *X, const float *Y, size_t count);
int wn_cuda_gelu(void *state, float *X, size_t count, int tanh_approx);
int wn_cuda_bias_gelu(void *state, float *X, const float *bias, int64_t n, int64_t d,
		      int tanh_approx);
int wn_cuda_bias_add(void *state, float *X, const float *bias, const float *Y, int64_t n,
		     int64_t d);
int wn_cuda_relu(void *state, float *X, size_t count);
int wn_cuda_layernorm(void *state, const float *X, const float *gamma, const float *beta,
		      float *Y, int64_t n, int64_t d, float eps);
int wn_cuda_softmax_masked(void *state, float *S, int64_t rows, int64_t cols, float scale,
			   const float *mask, int64_t rows_per_mask);
int wn_cuda_masked_mean(void *state, const float *X, const float *mask, int64_t batch,
			int64_t len, int64_t d, float *out);
int wn_cuda_gather_rows(void *state, const float *table, const int32_t *ids, int64_t n,
			int64_t d, float *out);

/* core/cuda_backend.cu: row-major GEMM on cuBLAS (exact fp32). */
int wn_cuda_gemm_batched(void *state, int ta, int tb, int64_t m, int64_t n, int64_t k,
			 float alpha, const float *A, int64_t lda, int64_t strideA,
			 const float *B, int64_t ldb, int64_t strideB,
			 float beta, float *C, int64_t ldc, int64_t strideC, int64_t batch);

/* core/cuda_sinkhorn.cu */
int wn_cuda_softmin_rows(void *state, const float *C, int64_t rows, int64_t cols,
			 const double *lw, const double *h, double eps, double *out);

/* core/cuda_knn.cu */
int wn_cuda_knn(void *state, int metric, const float *Q, int64_t nq, const float *B,
		int64_t nb, int64_t d, int64_t k, float *out_dist, int64_t *out_idx);

/* core/cuda_kmeans.cu */
int wn_cuda_kmeans_assign(void *state, int metric, const float *X, int64_t n, int64_t d,
			  const float *C, int64_t k, int32_t *out_assign, float *out_dist);
int wn_cuda_kmeans_train(void *state, int metric, const float *X, int64_t n, int64_t d,
			 int64_t k, int niter, uint64_t seed, float *C_out,
			 double *inertia_per_iter);
int wn_cuda_kmeans_fit(void *state, int metric, const float *X, int64_t n, int64_t d, int64_t k,
		       int niter, uint64_t seed, float *C_out, double *inertia_per_iter,
		       int32_t *out_assign, float *out_dist);

/* Launch shape for a flat loop over count elements. */
static inline unsigned wn_cuda_blocks(size_t count, unsigned threads)
{
	size_t b = (count + threads - 1) / threads;
	if (b > 1u << 20)
		b = 1u << 20; /* grid-stride loops cover the rest */
	return b ? (unsigned)b : 1u;
}

#endif
