/*
 * core/cuda_backend.cu — the CUDA backend's entry point, memory and GEMM.
 *
 * Owns: wn_cuda_backend_open (the one symbol libwinnow_cuda.so exports),
 * the backend state (one device, one stream, one cuBLAS handle), device
 * memory (plain cudaMalloc, never managed memory), copies, describe(), the
 * error helpers, and row-major GEMM on cuBLAS in exact fp32.
 * Borrows: CUDA runtime, cuBLAS; the ops of core/cuda_kernels.cu,
 * core/cuda_knn.cu and core/cuda_kmeans.cu, which it puts in the table.
 * Why: core.c opens this file's entry with dlopen, so one winnow binary runs
 * with or without a GPU; when the GPU cannot be used, the reason is one line.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cuda_internal.h"

/* ---- errors -------------------------------------------------------------- */

int wn_cuda_fail(struct wn_cuda *st, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(st->err, sizeof st->err, fmt, ap);
	va_end(ap);
	return code;
}

int wn_cuda_check(struct wn_cuda *st, cudaError_t e, const char *what)
{
	if (e == cudaSuccess)
		return 0;
	int code = (e == cudaErrorMemoryAllocation) ? WN_CORE_ENOMEM : WN_CORE_EDEVICE;
	return wn_cuda_fail(st, code, "%s: %s (%s)", what, cudaGetErrorName(e),
			    cudaGetErrorString(e));
}

int wn_cuda_check_launch(struct wn_cuda *st, const char *what)
{
	return wn_cuda_check(st, cudaGetLastError(), what);
}

static const char *blas_status_name(cublasStatus_t s)
{
	switch (s) {
	case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
	case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
	case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
	case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
	case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
	case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
	case CUBLAS_STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
	case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
	default: return "CUBLAS_STATUS_?";
	}
}

int wn_cuda_check_blas(struct wn_cuda *st, cublasStatus_t s, const char *what)
{
	if (s == CUBLAS_STATUS_SUCCESS)
		return 0;
	return wn_cuda_fail(st, s == CUBLAS_STATUS_ALLOC_FAILED ? WN_CORE_ENOMEM : WN_CORE_EDEVICE,
			    "%s: %s (%d)", what, blas_status_name(s), (int)s);
}

void *wn_cuda_scratch(struct wn_cuda *st, size_t bytes, const char *what, int *rc)
{
	void *p = NULL;
	cudaError_t e = cudaMalloc(&p, bytes ? bytes : 16);
	if (e != cudaSuccess) {
		(void)cudaGetLastError(); /* an allocation failure is not sticky */
		size_t fr = 0, tot = 0;
		cudaMemGetInfo(&fr, &tot);
		*rc = wn_cuda_fail(st, WN_CORE_ENOMEM,
				   "%s: cannot allocate %.1f MiB of GPU memory (%.1f MiB free): %s",
				   what, bytes / 1048576.0, fr / 1048576.0, cudaGetErrorString(e));
		return NULL;
	}
	return p;
}

void wn_cuda_scratch_free(void *p)
{
	if (p)
		cudaFree(p);
}

long long wn_cuda_env_ll(const char *name, long long dflt)
{
	const char *s = getenv(name);
	if (!s || !*s)
		return dflt;
	char *end;
	long long v = strtoll(s, &end, 10);
	return *end ? dflt : v;
}

/* ---- staged uploads --------------------------------------------------------- */

#define STAGE_BYTES ((size_t)64 << 20)
#define STAGE_THREADS 8

struct copy_job {
	char *dst;
	const char *src;
	size_t len;
};

static void *copy_run(void *p)
{
	struct copy_job *j = (struct copy_job *)p;
	memcpy(j->dst, j->src, j->len);
	return NULL;
}

/* memcpy with up to STAGE_THREADS threads (pageable reads are the slow part). */
static void copy_parallel(char *dst, const char *src, size_t len)
{
	struct copy_job jobs[STAGE_THREADS];
	pthread_t th[STAGE_THREADS];
	int started[STAGE_THREADS] = { 0 };
	size_t part = (len / STAGE_THREADS + 4095) & ~(size_t)4095;
	for (int t = 0; t < STAGE_THREADS; t++) {
		size_t off = (size_t)t * part;
		jobs[t].dst = dst + off;
		jobs[t].src = src + off;
		jobs[t].len = off >= len ? 0 : (len - off < part ? len - off : part);
		if (t > 0 && jobs[t].len)
			started[t] = pthread_create(&th[t], NULL, copy_run, &jobs[t]) == 0;
	}
	copy_run(&jobs[0]);
	for (int t = 1; t < STAGE_THREADS; t++) {
		if (started[t])
			pthread_join(th[t], NULL);
		else if (jobs[t].len)
			copy_run(&jobs[t]);
	}
}

static int stage_init(struct wn_cuda *st)
{
	if (st->stage_ok)
		return st->stage_ok > 0;
	st->stage_ok = -1;
	for (int b = 0; b < 2; b++) {
		if (cudaHostAlloc(&st->stage[b], STAGE_BYTES, cudaHostAllocDefault) != cudaSuccess ||
		    cudaEventCreateWithFlags(&st->stage_done[b], cudaEventDisableTiming) != cudaSuccess) {
			(void)cudaGetLastError();
			return 0;
		}
	}
	st->stage_ok = 1;
	return 1;
}

static void stage_free(struct wn_cuda *st)
{
	for (int b = 0; b < 2; b++) {
		if (st->stage_done[b])
			cudaEventDestroy(st->stage_done[b]);
		if (st->stage[b])
			cudaFreeHost(st->stage[b]);
	}
}

int wn_cuda_upload_async(struct wn_cuda *st, void *dst, const void *src, size_t bytes,
			 const char *what)
{
	if (bytes < 2 * STAGE_BYTES || !stage_init(st))
		return wn_cuda_check(st, cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice,
							 st->stream), what);
	for (size_t off = 0, i = 0; off < bytes; off += STAGE_BYTES, i++) {
		int b = (int)(i & 1);
		size_t len = bytes - off < STAGE_BYTES ? bytes - off : STAGE_BYTES;
		/* the buffer's previous copy must have left it */
		int rc = wn_cuda_check(st, cudaEventSynchronize(st->stage_done[b]), what);
		if (rc)
			return rc;
		copy_parallel((char *)st->stage[b], (const char *)src + off, len);
		rc = wn_cuda_check(st, cudaMemcpyAsync((char *)dst + off, st->stage[b], len,
						       cudaMemcpyHostToDevice, st->stream), what);
		if (!rc)
			rc = wn_cuda_check(st, cudaEventRecord(st->stage_done[b], st->stream), what);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- memory --------------------------------------------------------------- */

static void *cu_alloc(void *state, size_t bytes)
{
	struct wn_cuda *st = (struct wn_cuda *)state;
	int rc = 0;
	return wn_cuda_scratch(st, bytes, "alloc", &rc);
}

static void cu_free(void *state, void *p)
{
	(void)state;
	wn_cuda_scratch_free(p);
}

static int cu_upload(void *state, void *dst, const void *src, size_t bytes)
{
	struct wn_cuda *st = (struct wn_cuda *)state;
	if (!bytes)
		return 0;
	/* synchronous: the caller may reuse src as soon as this returns */
	int rc = wn_cuda_upload_async(st, dst, src, bytes, "upload");
	return rc ? rc : wn_cuda_check(st, cudaStreamSynchronize(st->stream), "upload");
}

static int cu_download(void *state, void *dst, const void *src, size_t bytes)
{
	struct wn_cuda *st = (struct wn_cuda *)state;
	if (!bytes)
		return 0;
	int rc = wn_cuda_check(st, cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost,
						   st->stream), "download");
	return rc ? rc : wn_cuda_check(st, cudaStreamSynchronize(st->stream), "download");
}

static int cu_copy(void *state, void *dst, const void *src, size_t bytes)
{
	struct wn_cuda *st = (struct wn_cuda *)state;
	if (!bytes)
		return 0;
	return wn_cuda_check(st, cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice,
						 st->stream), "copy");
}

static int cu_zero(void *state, void *p, size_t bytes)
{
	struct wn_cuda *st = (struct wn_cuda *)state;
	if (!bytes)
		return 0;
	return wn_cuda_check(st, cudaMemsetAsync(p, 0, bytes, st->stream), "zero");
}

static int cu_mem_info(void *state, size_t *free_bytes, size_t *total_bytes)
{
	struct wn_cuda *st = (struct wn_cuda *)state;
	return wn_cuda_check(st, cudaMemGetInfo(free_bytes, total_bytes), "cudaMemGetInfo");
}

static int cu_sync(void *state)
{
	struct wn_cuda *st = (struct wn_cuda *)state;
	return wn_cuda_check(st, cudaStreamSynchronize(st->stream), "sync");
}

/* ---- GEMM ------------------------------------------------------------------ */

/* What both GEMMs check and hand cuBLAS: the operations and leading
 * dimensions (cuBLAS wants a valid one even when k == 0). Returns 0 to go
 * on, 1 when there is nothing to compute, or the error. */
struct gemm_ops {
	cublasOperation_t opa, opb;
	int64_t la, lb;
};

static int gemm_setup(struct wn_cuda *st, int ta, int tb, int64_t m, int64_t n, int64_t k,
		      int64_t batch, int64_t lda, int64_t ldb, struct gemm_ops *g)
{
	if (m < 0 || n < 0 || k < 0 || batch < 0)
		return wn_cuda_fail(st, WN_CORE_EINVAL, "gemm: negative size");
	if (m == 0 || n == 0 || batch == 0)
		return 1;
	g->opa = ta ? CUBLAS_OP_T : CUBLAS_OP_N;
	g->opb = tb ? CUBLAS_OP_T : CUBLAS_OP_N;
	g->la = lda > 0 ? lda : 1;
	g->lb = ldb > 0 ? ldb : 1;
	return 0;
}

/*
 * Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T, and a
 * row-major matrix read column-major is its transpose: so cuBLAS gets B
 * first, A second, the same transpose flags, and n and m swapped.
 */
int wn_cuda_gemm_batched(void *state, int ta, int tb, int64_t m, int64_t n, int64_t k,
			 float alpha, const float *A, int64_t lda, int64_t strideA,
			 const float *B, int64_t ldb, int64_t strideB,
			 float beta, float *C, int64_t ldc, int64_t strideC, int64_t batch)
{
	struct wn_cuda *st = (struct wn_cuda *)state;
	struct gemm_ops g;
	int rc = gemm_setup(st, ta, tb, m, n, k, batch, lda, ldb, &g);
	if (rc)
		return rc > 0 ? 0 : rc;
	cublasStatus_t s = cublasSgemmStridedBatched_64(st->blas, g.opb, g.opa, n, m, k, &alpha,
							B, g.lb, strideB, A, g.la, strideA, &beta,
							C, ldc, strideC, batch);
	return wn_cuda_check_blas(st, s, "gemm (cublasSgemmStridedBatched)");
}

/*
 * Reduced-precision inputs on tensor cores: float32 A, B and C, float32
 * accumulation, and cuBLAS's compute type that lets it round the inputs
 * (core/cpu_prec.c is the twin). The same operand swap as above.
 */
static int cu_gemm_batched_prec(void *state, int prec, int ta, int tb, int64_t m, int64_t n,
				int64_t k, float alpha, const float *A, int64_t lda,
				int64_t strideA, const float *B, int64_t ldb, int64_t strideB,
				float beta, float *C, int64_t ldc, int64_t strideC, int64_t batch)
{
	struct wn_cuda *st = (struct wn_cuda *)state;
	cublasComputeType_t ct;
	switch (prec) {
	case WN_PREC_FP32:
		return wn_cuda_gemm_batched(state, ta, tb, m, n, k, alpha, A, lda, strideA, B, ldb,
					    strideB, beta, C, ldc, strideC, batch);
	case WN_PREC_TF32: ct = CUBLAS_COMPUTE_32F_FAST_TF32; break;
	case WN_PREC_BF16: ct = CUBLAS_COMPUTE_32F_FAST_16BF; break;
	case WN_PREC_FP16: ct = CUBLAS_COMPUTE_32F_FAST_16F; break;
	default: return wn_cuda_fail(st, WN_CORE_EINVAL, "gemm: unknown precision %d", prec);
	}
	struct gemm_ops g;
	int rc = gemm_setup(st, ta, tb, m, n, k, batch, lda, ldb, &g);
	if (rc)
		return rc > 0 ? 0 : rc;
	cublasStatus_t s = cublasGemmStridedBatchedEx_64(
		st->blas, g.opb, g.opa, n, m, k, &alpha, B, CUDA_R_32F, g.lb, strideB, A, CUDA_R_32F,
		g.la, strideA, &beta, C, CUDA_R_32F, ldc, strideC, batch, ct, CUBLAS_GEMM_DEFAULT);
	return wn_cuda_check_blas(st, s, "gemm (cublasGemmStridedBatchedEx)");
}

/* ---- describe, close, error --------------------------------------------- */

static void cu_describe(void *state, char *buf, size_t len)
{
	struct wn_cuda *st = (struct wn_cuda *)state;
	if (!buf || !len)
		return;
	size_t fr = 0, tot = 0;
	cudaMemGetInfo(&fr, &tot);
	int drv = 0, rt = 0, bv = 0;
	cudaDriverGetVersion(&drv);
	cudaRuntimeGetVersion(&rt);
	cublasGetVersion(st->blas, &bv);
	snprintf(buf, len,
		 "gpu: %s (device %d)\n"
		 "compute capability: %d.%d\n"
		 "multiprocessors: %d\n"
		 "gpu memory: %.1f GiB total, %.1f GiB free\n"
		 "cuda driver: %d.%d\n"
		 "cuda runtime: %d.%d\n"
		 "cublas: %d.%d.%d\n",
		 st->name, st->device, st->cc_major, st->cc_minor, st->sm_count,
		 tot / 1073741824.0, fr / 1073741824.0, drv / 1000, (drv % 1000) / 10,
		 rt / 1000, (rt % 1000) / 10, bv / 10000, (bv / 100) % 100, bv % 100);
}

static const char *cu_error(void *state)
{
	return ((struct wn_cuda *)state)->err;
}

static void cu_close(void *state)
{
	struct wn_cuda *st = (struct wn_cuda *)state;
	if (!st)
		return;
	if (st->stream)
		cudaStreamSynchronize(st->stream);
	stage_free(st);
	if (st->blas)
		cublasDestroy(st->blas);
	if (st->stream)
		cudaStreamDestroy(st->stream);
	free(st);
}

/* ---- opening ---------------------------------------------------------------- */

/* A kernel whose only purpose is to prove this build has code for the GPU. */
__global__ void wn_cuda_probe_kernel(int *p)
{
	if (p)
		*p = 1;
}

static int open_fail(char *errbuf, size_t errlen, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int open_fail(char *errbuf, size_t errlen, int code, const char *fmt, ...)
{
	if (errbuf && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(errbuf, errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}

extern "C" __attribute__((visibility("default"))) int
wn_cuda_backend_open(int abi, int threads, wn_backend *out, char *errbuf, size_t errlen)
{
	if (abi != WN_BACKEND_ABI)
		return open_fail(errbuf, errlen, WN_CORE_EUNAVAIL,
				 "libwinnow_cuda.so speaks backend ABI %d, winnow %d: rebuild it",
				 WN_BACKEND_ABI, abi);
	int drv = 0, rt = CUDART_VERSION;
	cudaDriverGetVersion(&drv);
	if (drv == 0)
		return open_fail(errbuf, errlen, WN_CORE_EUNAVAIL,
				 "no NVIDIA driver (libcuda.so not found)");
	int ndev = 0;
	cudaError_t e = cudaGetDeviceCount(&ndev);
	if (e == cudaErrorInsufficientDriver || drv < rt)
		return open_fail(errbuf, errlen, WN_CORE_EUNAVAIL,
				 "NVIDIA driver too old: it supports CUDA %d.%d, this backend "
				 "was built with CUDA %d.%d",
				 drv / 1000, (drv % 1000) / 10, rt / 1000, (rt % 1000) / 10);
	if (e != cudaSuccess)
		return open_fail(errbuf, errlen, WN_CORE_EUNAVAIL, "no GPU (cudaGetDeviceCount: %s)",
				 cudaGetErrorString(e));
	if (ndev == 0)
		return open_fail(errbuf, errlen, WN_CORE_EUNAVAIL, "no GPU (no CUDA-capable device)");
	int dev = (int)wn_cuda_env_ll("WINNOW_CUDA_DEVICE", 0);
	if (dev < 0 || dev >= ndev)
		return open_fail(errbuf, errlen, WN_CORE_EUNAVAIL,
				 "WINNOW_CUDA_DEVICE=%d but only %d GPU(s) are visible", dev, ndev);
	cudaDeviceProp prop;
	e = cudaGetDeviceProperties(&prop, dev);
	if (e != cudaSuccess)
		return open_fail(errbuf, errlen, WN_CORE_EUNAVAIL, "GPU %d: %s", dev,
				 cudaGetErrorString(e));
	if (prop.major < 8)
		return open_fail(errbuf, errlen, WN_CORE_EUNAVAIL,
				 "GPU %s has compute capability %d.%d; winnow's CUDA backend "
				 "needs 8.0 or newer", prop.name, prop.major, prop.minor);
	e = cudaSetDevice(dev);
	if (e == cudaSuccess)
		e = cudaFree(0); /* creates the context: fails here if the GPU is unusable */
	if (e != cudaSuccess)
		return open_fail(errbuf, errlen, WN_CORE_EUNAVAIL, "GPU %s cannot be used: %s",
				 prop.name, cudaGetErrorString(e));
	cudaFuncAttributes fa;
	e = cudaFuncGetAttributes(&fa, wn_cuda_probe_kernel);
	if (e != cudaSuccess) {
		(void)cudaGetLastError();
		return open_fail(errbuf, errlen, WN_CORE_EUNAVAIL,
				 "libwinnow_cuda.so has no code for %s (compute capability "
				 "%d.%d): %s", prop.name, prop.major, prop.minor,
				 cudaGetErrorString(e));
	}

	struct wn_cuda *st = (struct wn_cuda *)calloc(1, sizeof *st);
	if (!st)
		return open_fail(errbuf, errlen, WN_CORE_ENOMEM, "out of host memory");
	st->device = dev;
	st->threads = threads > 0 ? threads : 1;
	st->sm_count = prop.multiProcessorCount;
	st->smem_optin = prop.sharedMemPerBlockOptin;
	st->cc_major = prop.major;
	st->cc_minor = prop.minor;
	snprintf(st->name, sizeof st->name, "%s", prop.name);
	e = cudaStreamCreateWithFlags(&st->stream, cudaStreamNonBlocking);
	if (e != cudaSuccess) {
		free(st);
		return open_fail(errbuf, errlen, WN_CORE_EUNAVAIL, "cudaStreamCreate: %s",
				 cudaGetErrorString(e));
	}
	cublasStatus_t bs = cublasCreate(&st->blas);
	if (bs != CUBLAS_STATUS_SUCCESS) {
		st->blas = NULL;
		cu_close(st);
		return open_fail(errbuf, errlen, WN_CORE_EUNAVAIL, "cublasCreate: %s",
				 blas_status_name(bs));
	}
	/* exact fp32: no TF32 for the public GEMM */
	if (cublasSetStream(st->blas, st->stream) != CUBLAS_STATUS_SUCCESS ||
	    cublasSetMathMode(st->blas, CUBLAS_DEFAULT_MATH) != CUBLAS_STATUS_SUCCESS) {
		cu_close(st);
		return open_fail(errbuf, errlen, WN_CORE_EUNAVAIL, "cuBLAS setup failed");
	}

	memset(out, 0, sizeof *out);
	out->abi = WN_BACKEND_ABI;
	out->name = "cuda";
	out->state = st;
	out->close = cu_close;
	out->describe = cu_describe;
	out->alloc = cu_alloc;
	out->free = cu_free;
	out->upload = cu_upload;
	out->download = cu_download;
	out->copy = cu_copy;
	out->zero = cu_zero;
	out->sync = cu_sync;
	out->gemm_batched = wn_cuda_gemm_batched;
	out->gemm_batched_prec = cu_gemm_batched_prec;
	out->row_sqnorms = wn_cuda_row_sqnorms;
	out->row_normalize = wn_cuda_row_normalize;
	out->scale_rows = wn_cuda_scale_rows;
	out->mem_info = cu_mem_info;
	out->add_bias = wn_cuda_add_bias;
	out->add = wn_cuda_add;
	out->gelu = wn_cuda_gelu;
	out->bias_gelu = wn_cuda_bias_gelu;
	out->bias_add = wn_cuda_bias_add;
	out->relu = wn_cuda_relu;
	out->layernorm = wn_cuda_layernorm;
	out->softmax_masked = wn_cuda_softmax_masked;
	out->masked_mean = wn_cuda_masked_mean;
	out->gather_rows = wn_cuda_gather_rows;
	out->softmin_rows = wn_cuda_softmin_rows;
	out->knn = wn_cuda_knn;
	out->kmeans_assign = wn_cuda_kmeans_assign;
	out->kmeans_train = wn_cuda_kmeans_train;
	out->kmeans_fit = wn_cuda_kmeans_fit;
	out->error = cu_error;
	return 0;
}
