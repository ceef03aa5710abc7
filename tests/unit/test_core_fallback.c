/*
 * tests/unit/test_core_fallback.c — core.c's host-copy fallback, run without
 * a GPU: a backend table with every compute op removed (memory ops kept) is
 * opened as if it were CUDA, so each op stages its buffers to the host, runs
 * the CPU reference and copies results back. Results must equal the plain
 * CPU context's bit for bit, and bytes outside an op's outputs (row padding,
 * gaps between batch entries) must stay untouched.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/internal.h"
#include "core/rng.h"
#include "tests/unit/test.h"

static wn_core *cpu, *fb;

static float *randn(size_t n, uint64_t stream)
{
	float *x = malloc((n ? n : 1) * sizeof *x);
	for (size_t i = 0; i < n; i++)
		x[i] = (float)wn_rng_normal(8, stream, i);
	return x;
}

/* Buffers of the running test, freed by release() at its end. */
static struct {
	wn_core *c;
	void *p;
} held[64];
static int nheld;

static void *hold(wn_core *c, void *p)
{
	if (nheld < 64) {
		held[nheld].c = c;
		held[nheld++].p = p;
	}
	return p;
}

static void release(void)
{
	while (nheld > 0) {
		nheld--;
		wn_core_free(held[nheld].c, held[nheld].p);
	}
}

static float *alloc(wn_core *c, size_t n)
{
	return hold(c, wn_core_alloc(c, n));
}

/* A buffer of c holding a copy of h. */
static float *up(wn_core *c, const float *h, size_t n)
{
	float *d = alloc(c, n);
	wn_core_upload(c, d, h, n * sizeof *h);
	return d;
}

/* Both contexts' copies of a buffer are equal. */
static int same(const float *a, const float *b, size_t n)
{
	return memcmp(a, b, n * sizeof *a) == 0;
}

static void test_is_fallback(void)
{
	CHECK_EQ_INT(wn_core_device(fb), WN_DEVICE_CUDA);
	CHECK_EQ_INT(wn_core_device(cpu), WN_DEVICE_CPU);
}

static void test_gemm_fallback(void)
{
	/* batched, transposed, padded rows and gaps between entries */
	const int m = 7, n = 9, k = 5, batch = 3, lda = m + 2, ldb = k + 1, ldc = n + 3;
	const int sa = k * lda + 4, sb = n * ldb + 1, sc = m * ldc + 5;
	float *A = randn((size_t)sa * batch, 1), *B = randn((size_t)sb * batch, 2);
	float *C = randn((size_t)sc * batch, 3);
	float *a1 = up(cpu, A, sa * batch), *b1 = up(cpu, B, sb * batch), *c1 = up(cpu, C, sc * batch);
	float *a2 = up(fb, A, sa * batch), *b2 = up(fb, B, sb * batch), *c2 = up(fb, C, sc * batch);
	for (int beta = 0; beta < 2; beta++) {
		CHECK(wn_core_gemm_batched(cpu, 1, 1, m, n, k, 0.5f, a1, lda, sa, b1, ldb, sb,
					   (float)beta, c1, ldc, sc, batch) == 0);
		CHECK(wn_core_gemm_batched(fb, 1, 1, m, n, k, 0.5f, a2, lda, sa, b2, ldb, sb,
					   (float)beta, c2, ldc, sc, batch) == 0);
		CHECK(same(c1, c2, (size_t)sc * batch));
	}
	/* the bytes after the last row of the last entry were never written */
	CHECK(c2[(batch - 1) * sc + (m - 1) * ldc + n] == C[(batch - 1) * sc + (m - 1) * ldc + n]);
	CHECK(wn_core_gemm(fb, 0, 0, 4, 4, 4, 1, a2, 3, b2, 4, 0, c2, 4) == WN_CORE_EINVAL);
	/* checked in core.c for every backend, before the staging copies */
	CHECK(strncmp(wn_core_error(fb), "gemm: leading dimension", 23) == 0);
	free(A), free(B), free(C);
}

static void test_row_and_elementwise_fallback(void)
{
	const int n = 33, d = 21;
	size_t cnt = (size_t)n * d;
	float *X = randn(cnt, 4), *Y = randn(cnt, 5), *bias = randn(d, 6);
	float *x1 = up(cpu, X, cnt), *x2 = up(fb, X, cnt);
	float *y1 = up(cpu, Y, cnt), *y2 = up(fb, Y, cnt);
	float *bb1 = up(cpu, bias, d), *bb2 = up(fb, bias, d);
	float *n1 = alloc(cpu, n), *n2 = alloc(fb, n);
	CHECK(!wn_core_row_sqnorms(cpu, x1, n, d, n1) && !wn_core_row_sqnorms(fb, x2, n, d, n2));
	CHECK(same(n1, n2, n));
	CHECK(!wn_core_add_bias(cpu, x1, bb1, n, d) && !wn_core_add_bias(fb, x2, bb2, n, d));
	CHECK(!wn_core_add(cpu, x1, y1, cnt) && !wn_core_add(fb, x2, y2, cnt));
	CHECK(!wn_core_gelu(cpu, x1, cnt, 0) && !wn_core_gelu(fb, x2, cnt, 0));
	CHECK(!wn_core_gelu(cpu, y1, cnt, 1) && !wn_core_gelu(fb, y2, cnt, 1));
	CHECK(!wn_core_relu(cpu, y1, cnt) && !wn_core_relu(fb, y2, cnt));
	CHECK(!wn_core_row_normalize(cpu, x1, n, d) && !wn_core_row_normalize(fb, x2, n, d));
	CHECK(same(x1, x2, cnt));
	CHECK(same(y1, y2, cnt));
	CHECK(!wn_core_layernorm(cpu, y1, bb1, bb1, x1, n, d, 1e-5f) &&
	      !wn_core_layernorm(fb, y2, bb2, bb2, x2, n, d, 1e-5f));
	CHECK(same(x1, x2, cnt));
	free(X), free(Y), free(bias);
}

static void test_attention_pieces_fallback(void)
{
	const int batch = 3, len = 8, d = 6, rows = batch * 2 * len;
	float *S = randn((size_t)rows * len, 7), *X = randn((size_t)batch * len * d, 8);
	float M[3 * 8];
	for (int i = 0; i < batch * len; i++)
		M[i] = i % len < 5 + i / len ? 1.0f : 0.0f;
	float *s1 = up(cpu, S, (size_t)rows * len), *s2 = up(fb, S, (size_t)rows * len);
	float *m1 = up(cpu, M, batch * len), *m2 = up(fb, M, batch * len);
	CHECK(!wn_core_softmax_masked(cpu, s1, rows, len, 0.3f, m1, 2 * len) &&
	      !wn_core_softmax_masked(fb, s2, rows, len, 0.3f, m2, 2 * len));
	CHECK(same(s1, s2, (size_t)rows * len));
	float *x1 = up(cpu, X, (size_t)batch * len * d), *x2 = up(fb, X, (size_t)batch * len * d);
	float *o1 = alloc(cpu, batch * d), *o2 = alloc(fb, batch * d);
	CHECK(!wn_core_masked_mean(cpu, x1, m1, batch, len, d, o1) &&
	      !wn_core_masked_mean(fb, x2, m2, batch, len, d, o2));
	CHECK(same(o1, o2, batch * d));
	int32_t ids[4] = { 5, 0, 23, 5 };
	int32_t *i1 = hold(cpu, wn_core_alloc_bytes(cpu, sizeof ids));
	int32_t *i2 = hold(fb, wn_core_alloc_bytes(fb, sizeof ids));
	CHECK(!wn_core_upload(cpu, i1, ids, sizeof ids) && !wn_core_upload(fb, i2, ids, sizeof ids));
	float *g1 = alloc(cpu, 4 * d), *g2 = alloc(fb, 4 * d);
	CHECK(!wn_core_gather_rows(cpu, x1, i1, 4, d, g1) && !wn_core_gather_rows(fb, x2, i2, 4, d, g2));
	CHECK(same(g1, g2, 4 * d));
	free(S), free(X);
}

static void test_host_array_ops_fallback(void)
{
	const int n = 700, d = 12, k = 9;
	float *X = randn((size_t)n * d, 9);
	float D1[50 * 4], D2[50 * 4], C1[9 * 12], C2[9 * 12];
	int64_t I1[50 * 4], I2[50 * 4];
	CHECK(!wn_core_knn(cpu, WN_METRIC_IP, X, 50, X, n, d, 4, D1, I1) &&
	      !wn_core_knn(fb, WN_METRIC_IP, X, 50, X, n, d, 4, D2, I2));
	CHECK(same(D1, D2, 200) && memcmp(I1, I2, sizeof I1) == 0);
	double in1[5], in2[5];
	CHECK(!wn_core_kmeans_train(cpu, WN_METRIC_L2, X, n, d, k, 5, 3, C1, in1) &&
	      !wn_core_kmeans_train(fb, WN_METRIC_L2, X, n, d, k, 5, 3, C2, in2));
	CHECK(same(C1, C2, k * d) && memcmp(in1, in2, sizeof in1) == 0);
	free(X);
}

int main(void)
{
	char err[256];
	wn_backend t;
	cpu = wn_core_open(WN_DEVICE_CPU, 2, err, sizeof err);
	if (!cpu || wn_cpu_backend_open(2, &t, err, sizeof err) != 0) {
		printf("FAIL %s: open: %s\n", __FILE__, err);
		return 1;
	}
	/* keep memory and bookkeeping, drop every compute op */
	t.name = "stub";
	t.gemm_batched = NULL;
	t.row_sqnorms = NULL;
	t.row_normalize = NULL;
	t.add_bias = NULL;
	t.add = NULL;
	t.gelu = NULL;
	t.relu = NULL;
	t.layernorm = NULL;
	t.softmax_masked = NULL;
	t.masked_mean = NULL;
	t.gather_rows = NULL;
	t.knn = NULL;
	t.kmeans_assign = NULL;
	t.kmeans_train = NULL;
	fb = wn_core_open_table(&t, 2);
	RUN(test_is_fallback);
	RUN(test_gemm_fallback);
	release();
	RUN(test_row_and_elementwise_fallback);
	release();
	RUN(test_attention_pieces_fallback);
	release();
	RUN(test_host_array_ops_fallback);
	release();
	wn_core_close(fb);
	wn_core_close(cpu);
	return TEST_EXIT;
}
