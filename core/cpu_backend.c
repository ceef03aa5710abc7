/*
 * core/cpu_backend.c — the CPU backend's table, memory and description.
 *
 * Owns: the wn_backend table for the CPU (ops live in the other cpu_*.c
 * files, except the small row scaling of the dense solve, here), host "device" memory (64-byte aligned, so SIMD loads and
 * OpenBLAS's packing see aligned rows), and the backend's error line.
 * Borrows: OpenBLAS for its configuration string.
 * Why: core.c talks to every backend through the same table.
 */
#include <cblas.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"

int wn_cpu_fail(struct wn_cpu *st, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(st->err, sizeof st->err, fmt, ap);
	va_end(ap);
	return code;
}

static void cpu_close(void *state)
{
	free(state);
}

static void cpu_describe(void *state, char *buf, size_t len)
{
	char *cfg = openblas_get_config();
	snprintf(buf, len, "blas: %s (core %s)\n", cfg ? cfg : "OpenBLAS",
		 openblas_get_corename());
	(void)state;
}

static void *cpu_alloc(void *state, size_t bytes)
{
	void *p = NULL;
	size_t rounded = (bytes + 63) / 64 * 64;
	(void)state;
	if (rounded < bytes || posix_memalign(&p, 64, rounded ? rounded : 64) != 0)
		return NULL;
	return p;
}

static void cpu_free(void *state, void *p)
{
	(void)state;
	free(p);
}

static int cpu_move(void *state, void *dst, const void *src, size_t bytes)
{
	(void)state;
	if (bytes && dst != src)
		memmove(dst, src, bytes);
	return 0;
}

static int cpu_zero(void *state, void *p, size_t bytes)
{
	(void)state;
	memset(p, 0, bytes);
	return 0;
}

static int cpu_sync(void *state)
{
	(void)state;
	return 0;
}

/* The CPU twin of core/cuda_kernels.cu's k_scale_rows: one rounding of the
 * double product per entry, so both backends give the same bits. */
int wn_cpu_scale_rows(void *state, const float *X, const double *s, int64_t n, int64_t d,
		      float *out)
{
	struct wn_cpu *st = state;
	if (n < 0 || d < 0)
		return wn_cpu_fail(st, WN_CORE_EINVAL, "scale_rows: negative size");
#pragma omp parallel for schedule(static)
	for (int64_t i = 0; i < n; i++)
		for (int64_t j = 0; j < d; j++)
			out[i * d + j] = (float)(s[i] * (double)X[i * d + j]);
	return 0;
}

static const char *cpu_error(void *state)
{
	return ((struct wn_cpu *)state)->err;
}

int wn_cpu_backend_open(int threads, wn_backend *out, char *errbuf, size_t errlen)
{
	struct wn_cpu *st = calloc(1, sizeof *st);
	if (!st) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "out of memory");
		return WN_CORE_ENOMEM;
	}
	st->threads = threads < 1 ? 1 : threads;
	memset(out, 0, sizeof *out);
	out->abi = WN_BACKEND_ABI;
	out->name = "cpu";
	out->state = st;
	out->close = cpu_close;
	out->describe = cpu_describe;
	out->alloc = cpu_alloc;
	out->free = cpu_free;
	out->upload = cpu_move;
	out->download = cpu_move;
	out->copy = cpu_move;
	out->zero = cpu_zero;
	out->sync = cpu_sync;
	out->gemm_batched = wn_cpu_gemm_batched;
	out->gemm_batched_prec = wn_cpu_gemm_batched_prec;
	out->row_sqnorms = wn_cpu_row_sqnorms;
	out->row_normalize = wn_cpu_row_normalize;
	out->scale_rows = wn_cpu_scale_rows;
	out->mem_info = NULL; /* host memory: no device budget to report */
	out->add_bias = wn_cpu_add_bias;
	out->add = wn_cpu_add;
	out->gelu = wn_cpu_gelu;
	out->relu = wn_cpu_relu;
	out->layernorm = wn_cpu_layernorm;
	out->softmax_masked = wn_cpu_softmax_masked;
	out->masked_mean = wn_cpu_masked_mean;
	out->gather_rows = wn_cpu_gather_rows;
	out->softmin_rows = wn_cpu_softmin_rows;
	out->knn = wn_cpu_knn;
	out->kmeans_assign = wn_cpu_kmeans_assign;
	out->kmeans_train = NULL; /* core.c's Lloyd loop over assign + update */
	out->kmeans_fit = NULL;   /* core.c: kmeans_train, then kmeans_assign */
	out->error = cpu_error;
	return 0;
}
