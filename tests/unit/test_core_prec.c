/*
 * tests/unit/test_core_prec.c — reduced-precision GEMM inputs on the CPU
 * (core/cpu_prec.c): the rounding against hand-worked values, and the twin
 * GEMM against a product of the rounded inputs summed in double here.
 *
 * Hand values: TF32 keeps 10 mantissa bits (ulp at 1 is 2^-10), BF16 7 bits
 * (2^-7), FP16 10 bits with IEEE half range (largest 65504, the 65504/65536
 * tie at 65520 goes to even = 65536 = inf; subnormal step 2^-24). Every
 * tie below is exactly half an ulp and must go to the even neighbour.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "tests/unit/test.h"

#define R(p, x) wn_core_round_prec(WN_PREC_##p, (float)(x))

static void test_names(void)
{
	CHECK_EQ_INT(wn_core_parse_precision("fp32"), WN_PREC_FP32);
	CHECK_EQ_INT(wn_core_parse_precision("tf32"), WN_PREC_TF32);
	CHECK_EQ_INT(wn_core_parse_precision("bf16"), WN_PREC_BF16);
	CHECK_EQ_INT(wn_core_parse_precision("fp16"), WN_PREC_FP16);
	CHECK_EQ_INT(wn_core_parse_precision("FP16"), -1);
	CHECK_EQ_INT(wn_core_parse_precision("half"), -1);
	CHECK_EQ_INT(wn_core_parse_precision(NULL), -1);
	CHECK_STR(wn_core_precision_name(WN_PREC_BF16), "bf16");
	CHECK_STR(wn_core_precision_name(7), "?");
}

static void test_bf16(void)
{
	CHECK(R(BF16, 1.0) == 1.0f);
	CHECK(R(BF16, 1.0 + 0x1p-8) == 1.0f);                 /* tie, 1 is even */
	CHECK(R(BF16, 1.0 + 3 * 0x1p-8) == 1.0f + 0x1p-6f);   /* tie, 1+2^-6 even */
	CHECK(R(BF16, 1.0 + 0x1p-8 + 0x1p-20) == 1.0f + 0x1p-7f); /* above the tie */
	CHECK(R(BF16, -(1.0 + 0x1p-8 + 0x1p-20)) == -(1.0f + 0x1p-7f));
	CHECK(R(BF16, 3.14159265) == 3.140625f);              /* 1.5703125 * 2 */
	CHECK(R(BF16, 1e30) == 0x1.94p+99f);                  /* 1e30 = 1.5777*2^99: 73.9/128 -> 74 */
	CHECK(R(BF16, 0x1.fffp127) == INFINITY);              /* rounds past FLT_MAX */
	CHECK(R(BF16, 1e-40) > 0);                            /* float32 range kept */
	CHECK(isnan(R(BF16, NAN)));
	CHECK(R(BF16, -INFINITY) == -INFINITY);
}

static void test_tf32(void)
{
	CHECK(R(TF32, 1.0 + 0x1p-11) == 1.0f);
	CHECK(R(TF32, 1.0 + 3 * 0x1p-11) == 1.0f + 0x1p-9f);
	CHECK(R(TF32, 1.0 + 0x1p-11 + 0x1p-22) == 1.0f + 0x1p-10f);
	CHECK(R(TF32, 3.14159265) == 3.140625f);  /* 1.5703125 has 7 bits: exact */
	CHECK(R(TF32, 0.1) == 0x1.998p-4f);       /* 0.1 = 1.999999..*2^-4 */
	CHECK(R(TF32, 65520.0) == 65536.0f);      /* range of float32, not half */
	CHECK(R(TF32, 1e38) == 0x1.2dp+126f);     /* 1e38 = 1.17549*2^126: 179.7/1024 -> 180 */
	CHECK(R(TF32, 0x1p-25) == 0x1p-25f);
}

static void test_fp16(void)
{
	CHECK(R(FP16, 1.0 + 0x1p-11) == 1.0f);
	CHECK(R(FP16, 1.0 + 3 * 0x1p-11) == 1.0f + 0x1p-9f);
	CHECK(R(FP16, 0.1) == 0x1.998p-4f);       /* numpy: float16(0.1) = 0.0999755859375 */
	CHECK(R(FP16, 0.1) == 0.0999755859375f);
	CHECK(R(FP16, 65504.0) == 65504.0f);
	CHECK(R(FP16, 65519.0) == 65504.0f);
	CHECK(R(FP16, 65520.0) == INFINITY);      /* tie: 65504 is odd, goes up */
	CHECK(R(FP16, -70000.0) == -INFINITY);
	CHECK(R(FP16, 0x1p-14) == 0x1p-14f);      /* smallest normal */
	CHECK(R(FP16, 0x1p-24) == 0x1p-24f);      /* smallest subnormal */
	CHECK(R(FP16, 0x1p-25) == 0.0f);          /* tie, 0 is even */
	CHECK(R(FP16, 3 * 0x1p-25) == 0x1p-23f);  /* tie 1.5 units -> 2 */
	CHECK(R(FP16, 5 * 0x1p-25) == 0x1p-23f);  /* tie 2.5 units -> 2 */
	CHECK(R(FP16, 0x1p-25 + 0x1p-30) == 0x1p-24f);
	CHECK(R(FP16, 1000.3 * 0x1p-24) == 1000 * 0x1p-24f);
	CHECK(R(FP16, 1023.5 * 0x1p-24) == 0x1p-14f); /* into the normals */
	CHECK(R(FP16, -3 * 0x1p-25) == -0x1p-23f);
	float z = R(FP16, -0x1p-26);
	CHECK(z == 0.0f && signbit(z));           /* keeps the sign of zero */
	CHECK(R(FP16, 2049.0) == 2048.0f);        /* ulp 2 at 2048: tie to even */
	CHECK(R(FP16, 2051.0) == 2052.0f);
	CHECK(isnan(R(FP16, NAN)));
}

/* C = A B^T (A m x k, B n x k) through the core at prec, against double sums
 * of the rounded entries. */
static void gemm_case(int prec, int64_t m, int64_t n, int64_t k)
{
	char err[256];
	wn_core *c = wn_core_open(WN_DEVICE_CPU, 2, err, sizeof err);
	CHECK(c);
	float *A = wn_core_alloc(c, (size_t)(m * k)), *B = wn_core_alloc(c, (size_t)(n * k));
	float *C = wn_core_alloc(c, (size_t)(m * n));
	for (int64_t i = 0; i < m * k; i++)
		A[i] = (float)sin(0.37 * (double)i + 0.1) * 3.0f;
	for (int64_t i = 0; i < n * k; i++)
		B[i] = (float)cos(0.23 * (double)i) * 0.7f;
	CHECK_EQ_INT(wn_core_gemm_prec(c, prec, 0, 1, m, n, k, 1.0f, A, k, B, k, 0.0f, C, n), 0);
	double worst = 0;
	for (int64_t i = 0; i < m; i++)
		for (int64_t j = 0; j < n; j++) {
			double s = 0, mag = 0;
			for (int64_t t = 0; t < k; t++) {
				double p = (double)wn_core_round_prec(prec, A[i * k + t]) *
					   wn_core_round_prec(prec, B[j * k + t]);
				s += p;
				mag += fabs(p);
			}
			double e = fabs(C[i * n + j] - s) / (mag > 0 ? mag : 1);
			worst = e > worst ? e : worst;
		}
	CHECK(worst < 1e-6); /* float32 accumulation of exact products */
	/* and rounding the inputs is a real change (fp32 differs) for bf16 */
	if (prec == WN_PREC_BF16) {
		float *C32 = wn_core_alloc(c, (size_t)(m * n));
		wn_core_gemm(c, 0, 1, m, n, k, 1.0f, A, k, B, k, 0.0f, C32, n);
		CHECK(memcmp(C32, C, (size_t)(m * n) * sizeof *C) != 0);
		wn_core_free(c, C32);
	}
	wn_core_free(c, A);
	wn_core_free(c, B);
	wn_core_free(c, C);
	wn_core_close(c);
}

static void test_gemm_twin(void)
{
	for (int p = WN_PREC_FP32; p <= WN_PREC_FP16; p++)
		gemm_case(p, 37, 29, 65);
	gemm_case(WN_PREC_FP16, 3, 300, 1);
}

static void test_gemm_bad_precision(void)
{
	char err[256];
	wn_core *c = wn_core_open(WN_DEVICE_CPU, 1, err, sizeof err);
	float a = 1, b = 1, x = 0;
	CHECK_EQ_INT(wn_core_gemm_prec(c, 9, 0, 0, 1, 1, 1, 1.0f, &a, 1, &b, 1, 0.0f, &x, 1),
		     WN_CORE_EINVAL);
	CHECK_STR(wn_core_error(c), "gemm: unknown precision 9");
	wn_core_close(c);
}

int main(void)
{
	RUN(test_names);
	RUN(test_bf16);
	RUN(test_tf32);
	RUN(test_fp16);
	RUN(test_gemm_twin);
	RUN(test_gemm_bad_precision);
	return TEST_EXIT;
}
