/*
 * core/cpu_prec.c — reduced-precision GEMM inputs: the rounding and the CPU
 * twin of the CUDA backend's tensor-core GEMMs.
 *
 * Owns: wn_core_parse_precision / wn_core_precision_name, the rounding of
 * one float to TF32, BF16 or FP16 (round to nearest, ties to even, done on
 * the bits so the result does not depend on the FPU's mode or on compiler
 * support for _Float16), and wn_cpu_gemm_batched_prec: copies of A and B
 * rounded element by element, then the ordinary tiled float32 GEMM.
 * Borrows: the tiled GEMM and the CPU state (core/internal.h).
 * Why: cuBLAS's CUBLAS_COMPUTE_32F_FAST_* types round the float32 inputs and
 * accumulate in float32; a test needs the same arithmetic on the host to
 * hold the GPU to (tests/unit/test_cuda_twins.c), and a user on the CPU can
 * see what a precision does to embeddings without a GPU.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/internal.h"

static const char *const prec_names[] = {"fp32", "tf32", "bf16", "fp16"};

int wn_core_parse_precision(const char *name)
{
	for (int i = 0; name && i < 4; i++)
		if (!strcmp(name, prec_names[i]))
			return i;
	return -1;
}

const char *wn_core_precision_name(int prec)
{
	return prec >= 0 && prec < 4 ? prec_names[prec] : "?";
}

static uint32_t f_bits(float f)
{
	uint32_t u;
	memcpy(&u, &f, sizeof u);
	return u;
}

static float bits_f(uint32_t u)
{
	float f;
	memcpy(&f, &u, sizeof f);
	return f;
}

/* Keep the top `keep` of float32's 23 mantissa bits, ties to even; a carry
 * into the exponent is the right answer, including overflow to inf. */
static float round_mantissa(float x, int keep)
{
	uint32_t u = f_bits(x);
	if ((u & 0x7f800000u) == 0x7f800000u)
		return x; /* inf, NaN */
	int drop = 23 - keep;
	uint32_t half = (1u << (drop - 1)) - 1, lsb = (u >> drop) & 1u;
	u += half + lsb;
	return bits_f(u & ~((1u << drop) - 1));
}

/* IEEE half, ties to even: 10 mantissa bits down to 2^-14, then steps of
 * 2^-24 (subnormals); 65520 and beyond round to inf. */
static float round_half(float x)
{
	uint32_t u = f_bits(x), sign = u & 0x80000000u, a = u & 0x7fffffffu;
	if (a >= 0x7f800000u)
		return x;
	if (a >= 0x477ff000u) /* 65520: the tie between 65504 and 2^16 goes up */
		return bits_f(sign | 0x7f800000u);
	if (a >= 0x38800000u) /* 2^-14 and up: a normal half */
		return round_mantissa(x, 10);
	/* in units of 2^-24 the value is below 2^10 and exact in a float; round
	 * it to an integer, ties to even, by hand */
	float units = bits_f(a) * 0x1p24f;
	float fl = floorf(units), r = units - fl;
	if (r > 0.5f || (r == 0.5f && fmodf(fl, 2.0f) != 0.0f))
		fl += 1.0f;
	return bits_f(sign | f_bits(fl * 0x1p-24f));
}

float wn_core_round_prec(int prec, float x)
{
	switch (prec) {
	case WN_PREC_TF32:
		return round_mantissa(x, 10);
	case WN_PREC_BF16:
		return round_mantissa(x, 7);
	case WN_PREC_FP16:
		return round_half(x);
	default:
		return x;
	}
}

/* A copy of `count` floats rounded to prec (NULL: no memory). */
static float *rounded_copy(int prec, const float *src, size_t count)
{
	float *dst = malloc((count ? count : 1) * sizeof *dst);
	for (size_t i = 0; dst && i < count; i++)
		dst[i] = wn_core_round_prec(prec, src[i]);
	return dst;
}

/* Floats spanned by `batch` matrices of rows x cols at row stride ld. */
static size_t span_of(int64_t rows, int64_t cols, int64_t ld, int64_t stride, int64_t batch)
{
	if (rows <= 0 || cols <= 0 || batch <= 0)
		return 0;
	return (size_t)((batch - 1) * stride + (rows - 1) * ld + cols);
}

int wn_cpu_gemm_batched_prec(void *state, int prec, int ta, int tb, int64_t m, int64_t n,
			     int64_t k, float alpha, const float *A, int64_t lda, int64_t strideA,
			     const float *B, int64_t ldb, int64_t strideB, float beta, float *C,
			     int64_t ldc, int64_t strideC, int64_t batch)
{
	struct wn_cpu *st = state;
	if (prec == WN_PREC_FP32)
		return wn_cpu_gemm_batched(state, ta, tb, m, n, k, alpha, A, lda, strideA, B, ldb,
					   strideB, beta, C, ldc, strideC, batch);
	if (prec < 0 || prec > WN_PREC_FP16)
		return wn_cpu_fail(st, WN_CORE_EINVAL, "gemm: unknown precision %d", prec);
	if (m < 0 || n < 0 || k < 0 || batch < 0)
		return wn_cpu_fail(st, WN_CORE_EINVAL, "gemm: negative size");
	size_t na = span_of(ta ? k : m, ta ? m : k, lda, strideA, batch);
	size_t nb = span_of(tb ? n : k, tb ? k : n, ldb, strideB, batch);
	float *ra = rounded_copy(prec, A, na), *rb = ra ? rounded_copy(prec, B, nb) : NULL;
	int rc = rb ? wn_cpu_gemm_batched(state, ta, tb, m, n, k, alpha, ra, lda, strideA, rb, ldb,
					  strideB, beta, C, ldc, strideC, batch)
		    : wn_cpu_fail(st, WN_CORE_ENOMEM, "gemm: out of memory rounding the inputs");
	free(ra);
	free(rb);
	return rc;
}
