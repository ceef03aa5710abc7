/*
 * tests/unit/test_core_ops.c — every dense op of core/core.h against a naive
 * loop, on the CPU backend (and on CUDA when WINNOW_TEST_CUDA=1 and a GPU is
 * usable: the same checks then hold the CUDA twin to the same references).
 *
 * Tolerances (documented here, used below):
 *  - GEMM: |got - ref| <= 1e-5 * sum_l |a_il b_lj| + 1e-6 (ref in double);
 *  - row norms, LayerNorm, softmax, means: 1e-5 relative (+1e-6 absolute);
 *  - GELU/ReLU/adds/gathers: 1e-6 absolute (the same float formula);
 *  - integer-valued data (|x| <= 3, d <= 64) makes every dot product exact in
 *    float, so kNN/assign results, ties included, must match exactly.
 * Data comes from the core's own Philox generator (fixed seeds).
 */
#include <cblas.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/rng.h"
#include "tests/unit/test.h"

static int dev_kind; /* WN_DEVICE_CPU, or CUDA under WINNOW_TEST_CUDA */

static wn_core *open_ctx(int threads)
{
	char err[512];
	wn_core *c = wn_core_open(dev_kind, threads, err, sizeof err);
	if (!c)
		fprintf(stderr, "wn_core_open: %s\n", err);
	return c;
}

/* n floats, normal(0,1) * scale from (seed, stream) */
static float *randn(size_t n, uint64_t stream, float scale)
{
	float *x = malloc((n ? n : 1) * sizeof *x);
	for (size_t i = 0; i < n; i++)
		x[i] = scale * (float)wn_rng_normal(42, stream, i);
	return x;
}

/* n floats, integers in [-3, 3] */
static float *randint(size_t n, uint64_t stream)
{
	float *x = malloc((n ? n : 1) * sizeof *x);
	for (size_t i = 0; i < n; i++)
		x[i] = (float)((int)(wn_rng_u32(7, stream, i) % 7) - 3);
	return x;
}

/* Upload n floats into a fresh buffer of c. */
static float *up(wn_core *c, const float *h, size_t n)
{
	float *d = wn_core_alloc(c, n ? n : 1);
	if (d && n)
		wn_core_upload(c, d, h, n * sizeof *h);
	return d;
}

static float *down(wn_core *c, const float *d, size_t n)
{
	float *h = malloc((n ? n : 1) * sizeof *h);
	wn_core_download(c, h, d, n * sizeof *h);
	return h;
}

/* ---- context ---------------------------------------------------------- */

static void test_parse_device(void)
{
	CHECK_EQ_INT(wn_core_parse_device("cpu"), WN_DEVICE_CPU);
	CHECK_EQ_INT(wn_core_parse_device("cuda"), WN_DEVICE_CUDA);
	CHECK_EQ_INT(wn_core_parse_device("auto"), WN_DEVICE_AUTO);
	CHECK_EQ_INT(wn_core_parse_device("gpu"), -1);
	CHECK_EQ_INT(wn_core_parse_device(NULL), -1);
}

static void test_open_describe(void)
{
	char err[256] = "", buf[2048];
	wn_core *c = wn_core_open(WN_DEVICE_CPU, 3, err, sizeof err);
	CHECK(c != NULL);
	CHECK_EQ_INT(wn_core_device(c), WN_DEVICE_CPU);
	CHECK_EQ_INT(wn_core_threads(c), 3);
	wn_core_describe(c, buf, sizeof buf);
	CHECK(strstr(buf, "backend: cpu\n") != NULL);
	CHECK(strstr(buf, "threads: 3\n") != NULL);
	CHECK(strstr(buf, "blas: OpenBLAS") != NULL);
	CHECK(strstr(buf, "cuda: ") != NULL);
	CHECK_STR(wn_core_error(c), "");
	/* a tiny buffer is truncated, never overrun */
	char small[8];
	memset(small, 'x', sizeof small);
	wn_core_describe(c, small, sizeof small);
	CHECK(memchr(small, 0, sizeof small) != NULL);
	wn_core_close(c);
}

/* A CUDA library that cannot load: cuda fails with the reason, auto falls back. */
static void test_cuda_unavailable(void)
{
	char err[512] = "";
	const char *old = getenv("WINNOW_CUDA_LIB");
	char *saved = old ? strdup(old) : NULL;
	setenv("WINNOW_CUDA_LIB", "/nonexistent/libwinnow_cuda.so", 1);
	wn_core *c = wn_core_open(WN_DEVICE_CUDA, 1, err, sizeof err);
	CHECK(c == NULL);
	CHECK(strncmp(err, "CUDA unavailable: ", 18) == 0);
	CHECK(strstr(err, "/nonexistent/libwinnow_cuda.so") != NULL);
	CHECK(strchr(err, '\n') == NULL);
	CHECK(wn_core_cuda_unavailable_reason()[0] != 0);
	c = wn_core_open(WN_DEVICE_AUTO, 1, err, sizeof err);
	CHECK(c != NULL);
	CHECK_EQ_INT(wn_core_device(c), WN_DEVICE_CPU);
	char buf[2048];
	wn_core_describe(c, buf, sizeof buf);
	CHECK(strstr(buf, "cuda: cannot load WINNOW_CUDA_LIB=") != NULL);
	wn_core_close(c);
	if (saved)
		setenv("WINNOW_CUDA_LIB", saved, 1);
	else
		unsetenv("WINNOW_CUDA_LIB");
	free(saved);
}

/* ---- GEMM --------------------------------------------------------------- */

/* C = alpha op(A) op(B) + beta C0 in double, and the error bound per entry. */
static void gemm_ref(int ta, int tb, int m, int n, int k, float alpha, const float *A, int lda,
		     const float *B, int ldb, float beta, const float *C0, int ldc, double *ref,
		     double *bound)
{
	for (int i = 0; i < m; i++)
		for (int j = 0; j < n; j++) {
			double s = 0, a = 0;
			for (int l = 0; l < k; l++) {
				double x = ta ? A[l * lda + i] : A[i * lda + l];
				double y = tb ? B[j * ldb + l] : B[l * ldb + j];
				s += x * y;
				a += fabs(x * y);
			}
			ref[i * n + j] = alpha * s + beta * C0[i * ldc + j];
			bound[i * n + j] = 1e-5 * (fabs(alpha) * a + fabs(beta * C0[i * ldc + j])) + 1e-6;
		}
}

static int gemm_case(wn_core *c, int ta, int tb, int m, int n, int k, float alpha, float beta,
		     int pad)
{
	int lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + pad;
	int arows = ta ? k : m, brows = tb ? n : k;
	float *A = randn((size_t)arows * lda, 1, 1.0f), *B = randn((size_t)brows * ldb, 2, 1.0f);
	float *C0 = randn((size_t)m * ldc, 3, 1.0f);
	double *ref = malloc(sizeof(double) * m * n + 8), *bound = malloc(sizeof(double) * m * n + 8);
	gemm_ref(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C0, ldc, ref, bound);
	float *dA = up(c, A, (size_t)arows * lda), *dB = up(c, B, (size_t)brows * ldb);
	float *dC = up(c, C0, (size_t)m * ldc);
	int bad = wn_core_gemm(c, ta, tb, m, n, k, alpha, dA, lda, dB, ldb, beta, dC, ldc) != 0;
	float *C = down(c, dC, (size_t)m * ldc);
	for (int i = 0; i < m && !bad; i++)
		for (int j = 0; j < n; j++) {
			if (fabs(C[i * ldc + j] - ref[i * n + j]) > bound[i * n + j])
				bad = 1;
			/* the padding between rows is never written */
			for (int p = n; p < ldc; p++)
				if (C[i * ldc + p] != C0[i * ldc + p])
					bad = 1;
		}
	wn_core_free(c, dA);
	wn_core_free(c, dB);
	wn_core_free(c, dC);
	free(A), free(B), free(C0), free(C), free(ref), free(bound);
	return bad;
}

static void test_gemm(void)
{
	wn_core *c = open_ctx(2);
	CHECK(c != NULL);
	for (int ta = 0; ta < 2; ta++)
		for (int tb = 0; tb < 2; tb++) {
			CHECK(!gemm_case(c, ta, tb, 37, 29, 53, 1.0f, 0.0f, 0));
			CHECK(!gemm_case(c, ta, tb, 64, 130, 200, -0.5f, 1.5f, 3));
			CHECK(!gemm_case(c, ta, tb, 1, 7, 5, 2.0f, 1.0f, 1));
		}
	/* k = 0: C = beta * C */
	CHECK(!gemm_case(c, 0, 0, 5, 6, 0, 1.0f, 0.5f, 1));
	/* several tiles along both m and n, with transposes */
	CHECK(!gemm_case(c, 1, 1, 300, 1100, 20, 1.0f, 0.0f, 2));
	wn_core_close(c);
}

static void test_gemm_bad_args(void)
{
	wn_core *c = open_ctx(1);
	float *buf = wn_core_alloc(c, 64);
	CHECK(wn_core_gemm(c, 0, 0, 4, 4, 4, 1, buf, 3, buf, 4, 0, buf, 4) == WN_CORE_EINVAL);
	CHECK(strstr(wn_core_error(c), "leading dimension") != NULL);
	CHECK(wn_core_gemm(c, 0, 0, -1, 4, 4, 1, buf, 4, buf, 4, 0, buf, 4) == WN_CORE_EINVAL);
	CHECK(wn_core_gemm(c, 0, 0, 0, 0, 0, 1, buf, 1, buf, 1, 0, buf, 1) == 0);
	CHECK_STR(wn_core_error(c), "");
	wn_core_free(c, buf);
	wn_core_close(c);
}

/* The core runs OpenBLAS one-threaded inside its own tiles, and gives the
 * process-wide setting back (FAISS relies on it). */
static void test_blas_threads_restored(void)
{
	wn_core *c = open_ctx(2);
	openblas_set_num_threads(2);
	float *X = randn(600 * 40, 50, 1), dist[600 * 3];
	int64_t idx[600 * 3];
	float *dX = up(c, X, 600 * 40), *dG = wn_core_alloc(c, 600 * 600);
	CHECK(wn_core_gemm(c, 0, 1, 600, 600, 40, 1, dX, 40, dX, 40, 0, dG, 600) == 0);
	CHECK_EQ_INT(openblas_get_num_threads(), 2);
	CHECK(wn_core_knn(c, WN_METRIC_L2, X, 600, X, 600, 40, 3, dist, idx) == 0);
	CHECK_EQ_INT(openblas_get_num_threads(), 2);
	wn_core_free(c, dX), wn_core_free(c, dG);
	free(X);
	wn_core_close(c);
}

static void test_gemm_batched(void)
{
	wn_core *c = open_ctx(2);
	const int m = 9, n = 11, k = 13, batch = 5;
	const int sa = m * k + 4, sb = n * k + 2, sc = m * n + 1;
	float *A = randn((size_t)sa * batch, 4, 1), *B = randn((size_t)sb * batch, 5, 1);
	float *C0 = randn((size_t)sc * batch, 6, 1);
	float *dA = up(c, A, (size_t)sa * batch), *dB = up(c, B, (size_t)sb * batch);
	float *dC = up(c, C0, (size_t)sc * batch);
	/* C_b = A_b^T-free * B_b^T : A m x k, B stored n x k */
	CHECK(wn_core_gemm_batched(c, 0, 1, m, n, k, 0.75f, dA, k, sa, dB, k, sb, 0.25f, dC, n, sc,
				   batch) == 0);
	float *C = down(c, dC, (size_t)sc * batch);
	double ref[9 * 11], bound[9 * 11];
	for (int b = 0; b < batch; b++) {
		gemm_ref(0, 1, m, n, k, 0.75f, A + b * sa, k, B + b * sb, k, 0.25f, C0 + b * sc, n,
			 ref, bound);
		for (int i = 0; i < m * n; i++)
			CHECK_NEAR(C[b * sc + i], ref[i], bound[i]);
		if (b + 1 < batch) /* the gap between batches is untouched */
			CHECK(C[b * sc + m * n] == C0[b * sc + m * n]);
	}
	wn_core_free(c, dA), wn_core_free(c, dB), wn_core_free(c, dC);
	free(A), free(B), free(C0), free(C);
	wn_core_close(c);
}

/* ---- row ops ---------------------------------------------------------- */

static void test_row_ops(void)
{
	wn_core *c = open_ctx(2);
	const int n = 300, d = 77;
	float *X = randn((size_t)n * d, 7, 2.0f);
	memset(X + 5 * d, 0, d * sizeof *X); /* a zero row stays zero */
	float *dX = up(c, X, (size_t)n * d), *dN = wn_core_alloc(c, n);
	CHECK(wn_core_row_sqnorms(c, dX, n, d, dN) == 0);
	float *N = down(c, dN, n);
	for (int i = 0; i < n; i++) {
		double s = 0;
		for (int j = 0; j < d; j++)
			s += (double)X[i * d + j] * X[i * d + j];
		CHECK_NEAR(N[i], s, 1e-5 * s + 1e-6);
	}
	CHECK(wn_core_row_normalize(c, dX, n, d) == 0);
	float *Y = down(c, dX, (size_t)n * d);
	for (int i = 0; i < n; i++) {
		double s = sqrt((double)N[i]);
		for (int j = 0; j < d; j++) {
			double want = s > 0 ? X[i * d + j] / s : 0.0;
			CHECK_NEAR(Y[i * d + j], want, 1e-5 * fabs(want) + 1e-6);
		}
	}
	for (int j = 0; j < d; j++)
		CHECK(Y[5 * d + j] == 0.0f);
	wn_core_free(c, dX), wn_core_free(c, dN);
	free(X), free(N), free(Y);
	wn_core_close(c);
}

/* ---- transformer building blocks ----------------------------------------- */

static void test_elementwise(void)
{
	wn_core *c = open_ctx(2);
	const int n = 513, d = 65;
	size_t cnt = (size_t)n * d;
	float *X = randn(cnt, 8, 3.0f), *Y = randn(cnt, 9, 1.0f), *bias = randn(d, 10, 1.0f);
	float *dX = up(c, X, cnt), *dY = up(c, Y, cnt), *dbias = up(c, bias, d);

	CHECK(wn_core_add_bias(c, dX, dbias, n, d) == 0);
	float *R = down(c, dX, cnt);
	for (size_t i = 0; i < cnt; i++)
		CHECK_NEAR(R[i], X[i] + bias[i % d], 1e-6);
	free(R);

	CHECK(wn_core_upload(c, dX, X, cnt * 4) == 0);
	CHECK(wn_core_add(c, dX, dY, cnt) == 0);
	R = down(c, dX, cnt);
	for (size_t i = 0; i < cnt; i++)
		CHECK_NEAR(R[i], X[i] + Y[i], 1e-6);
	free(R);

	CHECK(wn_core_upload(c, dX, X, cnt * 4) == 0);
	CHECK(wn_core_gelu(c, dX, cnt, 0) == 0);
	R = down(c, dX, cnt);
	for (size_t i = 0; i < cnt; i++) {
		double x = X[i], want = 0.5 * x * (1 + erf(x / sqrt(2.0)));
		CHECK_NEAR(R[i], want, 1e-5 * fabs(want) + 1e-6);
	}
	free(R);

	CHECK(wn_core_upload(c, dX, X, cnt * 4) == 0);
	CHECK(wn_core_gelu(c, dX, cnt, 1) == 0);
	R = down(c, dX, cnt);
	for (size_t i = 0; i < cnt; i++) {
		double x = X[i];
		double want = 0.5 * x * (1 + tanh(sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
		CHECK_NEAR(R[i], want, 1e-5 * fabs(want) + 1e-6);
	}
	free(R);

	/* the fused epilogues against the formulas in double */
	CHECK(wn_core_upload(c, dX, X, cnt * 4) == 0);
	CHECK(wn_core_bias_gelu(c, dX, dbias, n, d, 0) == 0);
	R = down(c, dX, cnt);
	for (size_t i = 0; i < cnt; i++) {
		double x = (double)(X[i] + bias[i % d]), want = 0.5 * x * (1 + erf(x / sqrt(2.0)));
		CHECK_NEAR(R[i], want, 1e-5 * fabs(want) + 1e-6);
	}
	free(R);
	CHECK(wn_core_upload(c, dX, X, cnt * 4) == 0);
	CHECK(wn_core_bias_add(c, dX, dbias, dY, n, d) == 0);
	R = down(c, dX, cnt);
	for (size_t i = 0; i < cnt; i++)
		CHECK_NEAR(R[i], (double)X[i] + bias[i % d] + Y[i], 1e-5);
	free(R);

	CHECK(wn_core_upload(c, dX, X, cnt * 4) == 0);
	CHECK(wn_core_relu(c, dX, cnt) == 0);
	R = down(c, dX, cnt);
	for (size_t i = 0; i < cnt; i++)
		CHECK(R[i] == (X[i] > 0 ? X[i] : 0.0f));
	free(R);

	wn_core_free(c, dX), wn_core_free(c, dY), wn_core_free(c, dbias);
	free(X), free(Y), free(bias);
	wn_core_close(c);
}

static void test_layernorm(void)
{
	wn_core *c = open_ctx(2);
	const int n = 200, d = 128;
	float *X = randn((size_t)n * d, 11, 2.0f), *g = randn(d, 12, 1), *b = randn(d, 13, 1);
	for (int j = 0; j < d; j++)
		X[j] += 100.0f; /* a large mean must not cost precision */
	float *dX = up(c, X, (size_t)n * d), *dg = up(c, g, d), *db = up(c, b, d);
	CHECK(wn_core_layernorm(c, dX, dg, db, dX, n, d, 1e-12f) == 0); /* in place */
	float *Y = down(c, dX, (size_t)n * d);
	for (int i = 0; i < n; i++) {
		double mean = 0, var = 0;
		for (int j = 0; j < d; j++)
			mean += X[i * d + j];
		mean /= d;
		for (int j = 0; j < d; j++)
			var += (X[i * d + j] - mean) * (X[i * d + j] - mean);
		var /= d;
		for (int j = 0; j < d; j++) {
			double want = (X[i * d + j] - mean) / sqrt(var + 1e-12) * g[j] + b[j];
			CHECK_NEAR(Y[i * d + j], want, 1e-4 * fabs(want) + 1e-4);
		}
	}
	wn_core_free(c, dX), wn_core_free(c, dg), wn_core_free(c, db);
	free(X), free(g), free(b), free(Y);
	wn_core_close(c);
}

static void test_softmax_masked(void)
{
	wn_core *c = open_ctx(2);
	const int heads = 3, batch = 4, len = 33;
	const int rows = batch * heads * len, cols = len, rpm = heads * len;
	float *S = randn((size_t)rows * cols, 14, 4.0f);
	float *M = malloc(sizeof(float) * batch * cols);
	for (int b = 0; b < batch; b++)
		for (int j = 0; j < cols; j++)
			M[b * cols + j] = b == 3 ? 0.0f : (j < cols - 5 * b ? 1.0f : 0.0f);
	float *dS = up(c, S, (size_t)rows * cols), *dM = up(c, M, (size_t)batch * cols);
	CHECK(wn_core_softmax_masked(c, dS, rows, cols, 0.125f, dM, rpm) == 0);
	float *P = down(c, dS, (size_t)rows * cols);
	for (int r = 0; r < rows; r++) {
		const float *m = M + (r / rpm) * cols;
		double mx = -INFINITY, sum = 0;
		for (int j = 0; j < cols; j++)
			if (m[j] != 0)
				mx = fmax(mx, 0.125 * S[r * cols + j]);
		for (int j = 0; j < cols; j++)
			if (m[j] != 0)
				sum += exp(0.125 * S[r * cols + j] - mx);
		for (int j = 0; j < cols; j++) {
			double want = m[j] != 0 ? exp(0.125 * S[r * cols + j] - mx) / sum : 0.0;
			CHECK_NEAR(P[r * cols + j], want, 1e-5 * want + 1e-7);
		}
	}
	/* no mask: a plain row softmax sums to one */
	CHECK(wn_core_upload(c, dS, S, sizeof(float) * rows * cols) == 0);
	CHECK(wn_core_softmax_masked(c, dS, rows, cols, 1.0f, NULL, 0) == 0);
	free(P);
	P = down(c, dS, (size_t)rows * cols);
	for (int r = 0; r < rows; r++) {
		double sum = 0;
		for (int j = 0; j < cols; j++)
			sum += P[r * cols + j];
		CHECK_NEAR(sum, 1.0, 1e-5);
	}
	wn_core_free(c, dS), wn_core_free(c, dM);
	free(S), free(M), free(P);
	wn_core_close(c);
}

static void test_masked_mean_gather(void)
{
	wn_core *c = open_ctx(2);
	const int batch = 5, len = 17, d = 24, vocab = 50;
	float *X = randn((size_t)batch * len * d, 15, 1), *M = malloc(sizeof(float) * batch * len);
	for (int b = 0; b < batch; b++)
		for (int i = 0; i < len; i++)
			M[b * len + i] = b == 4 ? 0.0f : (i <= 3 * b + 2 ? 1.0f : 0.0f);
	float *dX = up(c, X, (size_t)batch * len * d), *dM = up(c, M, (size_t)batch * len);
	float *dO = wn_core_alloc(c, (size_t)batch * d);
	CHECK(wn_core_masked_mean(c, dX, dM, batch, len, d, dO) == 0);
	float *O = down(c, dO, (size_t)batch * d);
	for (int b = 0; b < batch; b++)
		for (int j = 0; j < d; j++) {
			double s = 0, w = 0;
			for (int i = 0; i < len; i++) {
				s += M[b * len + i] * X[(b * len + i) * d + j];
				w += M[b * len + i];
			}
			CHECK_NEAR(O[b * d + j], w ? s / w : 0.0, 1e-5);
		}
	float *T = randn((size_t)vocab * d, 16, 1);
	int32_t ids[7] = { 0, 49, 3, 3, 17, 0, 25 };
	float *dT = up(c, T, (size_t)vocab * d), *dG = wn_core_alloc(c, 7 * d);
	int32_t *dI = wn_core_alloc_bytes(c, sizeof ids);
	CHECK(wn_core_upload(c, dI, ids, sizeof ids) == 0);
	CHECK(wn_core_gather_rows(c, dT, dI, 7, d, dG) == 0);
	float *G = down(c, dG, 7 * d);
	for (int r = 0; r < 7; r++)
		CHECK(memcmp(G + r * d, T + ids[r] * d, d * sizeof(float)) == 0);
	ids[2] = -1;
	CHECK(wn_core_upload(c, dI, ids, sizeof ids) == 0);
	CHECK(wn_core_gather_rows(c, dT, dI, 7, d, dG) == WN_CORE_EINVAL);
	CHECK(strstr(wn_core_error(c), "negative id") != NULL);
	wn_core_free(c, dX), wn_core_free(c, dM), wn_core_free(c, dO), wn_core_free(c, dT);
	wn_core_free(c, dG), wn_core_free(c, dI);
	free(X), free(M), free(O), free(T), free(G);
	wn_core_close(c);
}

/* ---- kNN ----------------------------------------------------------------- */

/* exact (value, index) order of the reference: squared L2 or -IP in double */
struct cand {
	double v;
	int64_t i;
};

static int cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	if (x->v != y->v)
		return x->v < y->v ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

static void knn_ref(int metric, const float *Q, int nq, const float *B, int nb, int d, int k,
		    float *dist, int64_t *idx)
{
	struct cand *cs = malloc(sizeof *cs * (nb ? nb : 1));
	for (int q = 0; q < nq; q++) {
		for (int b = 0; b < nb; b++) {
			double s = 0;
			for (int j = 0; j < d; j++) {
				double x = Q[q * d + j], y = B[b * d + j];
				s += metric == WN_METRIC_L2 ? (x - y) * (x - y) : x * y;
			}
			cs[b].v = metric == WN_METRIC_L2 ? s : -s;
			cs[b].i = b;
		}
		qsort(cs, nb, sizeof *cs, cand_cmp);
		for (int j = 0; j < k; j++) {
			int in = j < nb;
			idx[q * k + j] = in ? cs[j].i : -1;
			double v = in ? cs[j].v : INFINITY;
			dist[q * k + j] = (float)(metric == WN_METRIC_L2 ? v : -v);
		}
	}
	free(cs);
}

/* The distance (L2: squared; IP: the inner product) of x to c in double, as float. */
static float exact_dist(int metric, const float *x, const float *c, int d)
{
	double s = 0;
	for (int j = 0; j < d; j++)
		s += metric == WN_METRIC_L2 ? ((double)x[j] - c[j]) * ((double)x[j] - c[j])
					    : (double)x[j] * c[j];
	return (float)s;
}

/* Integer data: exact arithmetic, many ties; results must match exactly. */
static void test_knn_exact_ties(void)
{
	wn_core *c = open_ctx(2);
	const int nq = 600, nb = 2500, d = 6, k = 10; /* crosses query and base blocks */
	float *Q = randint((size_t)nq * d, 20), *B = randint((size_t)nb * d, 21);
	float *dist = malloc(sizeof(float) * nq * k), *rd = malloc(sizeof(float) * nq * k);
	int64_t *idx = malloc(sizeof(int64_t) * nq * k), *ri = malloc(sizeof(int64_t) * nq * k);
	for (int metric = 0; metric < 2; metric++) {
		knn_ref(metric, Q, nq, B, nb, d, k, rd, ri);
		CHECK(wn_core_knn(c, metric, Q, nq, B, nb, d, k, dist, idx) == 0);
		CHECK(memcmp(idx, ri, sizeof(int64_t) * nq * k) == 0);
		CHECK(memcmp(dist, rd, sizeof(float) * nq * k) == 0);
	}
	free(Q), free(B), free(dist), free(rd), free(idx), free(ri);
	wn_core_close(c);
}

/* Real-valued data: the reported distance of each reported index is right,
 * the list is sorted, and it agrees with the exact k-th distance. */
static void test_knn_float(void)
{
	wn_core *c = open_ctx(2);
	const int nq = 70, nb = 3000, d = 40, k = 7;
	float *Q = randn((size_t)nq * d, 22, 1), *B = randn((size_t)nb * d, 23, 1);
	float *dist = malloc(sizeof(float) * nq * k), *rd = malloc(sizeof(float) * nq * k);
	int64_t *idx = malloc(sizeof(int64_t) * nq * k), *ri = malloc(sizeof(int64_t) * nq * k);
	for (int metric = 0; metric < 2; metric++) {
		knn_ref(metric, Q, nq, B, nb, d, k, rd, ri);
		CHECK(wn_core_knn(c, metric, Q, nq, B, nb, d, k, dist, idx) == 0);
		for (int q = 0; q < nq; q++)
			for (int j = 0; j < k; j++) {
				float got = dist[q * k + j];
				CHECK(idx[q * k + j] >= 0 && idx[q * k + j] < nb);
				CHECK_NEAR(got, rd[q * k + j], 1e-4 * (1 + fabs(rd[q * k + j])));
				if (j)
					CHECK(metric == WN_METRIC_L2 ? got >= dist[q * k + j - 1]
								     : got <= dist[q * k + j - 1]);
			}
	}
	free(Q), free(B), free(dist), free(rd), free(idx), free(ri);
	wn_core_close(c);
}

static void test_knn_short_base(void)
{
	wn_core *c = open_ctx(1);
	float Q[4] = { 0, 0, 1, 1 }, B[4] = { 1, 0, 3, 3 };
	float dist[2 * 3];
	int64_t idx[2 * 3];
	CHECK(wn_core_knn(c, WN_METRIC_L2, Q, 2, B, 2, 2, 3, dist, idx) == 0);
	CHECK_EQ_INT(idx[0], 0);
	CHECK_EQ_INT(idx[1], 1);
	CHECK_EQ_INT(idx[2], -1);
	CHECK(dist[0] == 1.0f && dist[1] == 18.0f && isinf(dist[2]) && dist[2] > 0);
	CHECK(wn_core_knn(c, WN_METRIC_IP, Q, 2, B, 2, 2, 3, dist, idx) == 0);
	CHECK_EQ_INT(idx[3], 1);
	CHECK(dist[3] == 6.0f && dist[4] == 1.0f && isinf(dist[5]) && dist[5] < 0);
	CHECK(wn_core_knn(c, WN_METRIC_L2, Q, 2, B, 2, 2, 0, dist, idx) == WN_CORE_EINVAL);
	wn_core_close(c);
}

/* ---- k-means ------------------------------------------------------------ */

static void test_kmeans_assign(void)
{
	wn_core *c = open_ctx(2);
	const int n = 1500, d = 5, k = 40;
	float *X = randint((size_t)n * d, 30), *C = randint((size_t)k * d, 31);
	int32_t *asg = malloc(sizeof(int32_t) * n);
	float *dist = malloc(sizeof(float) * n), *rd = malloc(sizeof(float) * n);
	int64_t *ri = malloc(sizeof(int64_t) * n);
	for (int metric = 0; metric < 2; metric++) {
		knn_ref(metric, X, n, C, k, d, 1, rd, ri);
		CHECK(wn_core_kmeans_assign(c, metric, X, n, d, C, k, asg, dist) == 0);
		for (int i = 0; i < n; i++) {
			/* CUDA's shortlist may pick another of exactly tied centroids
			 * (docs/DESIGN.md, "CPU and CUDA, per step"): then the pick is at
			 * the same exact distance; the CPU breaks ties by the lowest index */
			if (dev_kind == WN_DEVICE_CUDA && asg[i] != ri[i] && asg[i] >= 0 && asg[i] < k)
				CHECK(exact_dist(metric, X + i * d, C + asg[i] * d, d) == rd[i]);
			else
				CHECK_EQ_INT(asg[i], ri[i]);
			CHECK(dist[i] == rd[i]);
		}
	}
	/* either output may be NULL */
	CHECK(wn_core_kmeans_assign(c, WN_METRIC_L2, X, n, d, C, k, NULL, dist) == 0);
	CHECK(wn_core_kmeans_assign(c, WN_METRIC_L2, X, n, d, C, k, asg, NULL) == 0);
	free(X), free(C), free(asg), free(dist), free(rd), free(ri);
	wn_core_close(c);
}

static void test_kmeans_update(void)
{
	wn_core *c = open_ctx(2);
	const int n = 1000, d = 9, k = 12;
	float *X = randn((size_t)n * d, 32, 1), *C = randn((size_t)k * d, 33, 1);
	int32_t *asg = malloc(sizeof(int32_t) * n);
	int64_t counts[12], ns = -1;
	/* clusters 3 and 7 empty; 0 is the largest */
	for (int i = 0; i < n; i++) {
		int a = (int)(wn_rng_u32(5, 34, i) % 10);
		asg[i] = a == 3 || a == 7 ? 0 : a;
		if (i % 2 == 0)
			asg[i] = 0;
	}
	double ref[12][9] = { { 0 } };
	int64_t rc_[12] = { 0 };
	for (int i = 0; i < n; i++) {
		rc_[asg[i]]++;
		for (int j = 0; j < d; j++)
			ref[asg[i]][j] += X[i * d + j];
	}
	CHECK(wn_core_kmeans_update(c, WN_METRIC_L2, X, n, d, asg, k, 99, C, counts, &ns) == 0);
	CHECK_EQ_INT(ns, 4); /* 3, 7, 10, 11 */
	int64_t total = 0;
	for (int j = 0; j < k; j++) {
		total += counts[j];
		CHECK(counts[j] > 0);
	}
	CHECK_EQ_INT(total, n);
	/* every split centroid is a near copy (within a few 1/1024 steps) of
	 * another centroid: the one it was split from */
	int splits = 0;
	for (int e = 0; e < k; e++) {
		if (rc_[e])
			continue;
		int found = 0;
		for (int s = 0; s < k && !found; s++) {
			int ok = s != e;
			for (int j = 0; j < d && ok; j++)
				if (fabs(C[e * d + j] - C[s * d + j]) > 4.0 / 1024 * fabs(C[s * d + j]) + 1e-7)
					ok = 0;
			found = ok;
		}
		splits += found;
	}
	CHECK_EQ_INT(splits, 4);
	/* untouched clusters are exact means (the split source may be perturbed) */
	for (int j = 0; j < k; j++) {
		if (!rc_[j] || counts[j] != rc_[j])
			continue;
		for (int t = 0; t < d; t++)
			CHECK_NEAR(C[j * d + t], ref[j][t] / rc_[j], 1e-6);
	}
	asg[17] = k; /* out of range */
	CHECK(wn_core_kmeans_update(c, WN_METRIC_L2, X, n, d, asg, k, 99, C, counts, &ns) ==
	      WN_CORE_EINVAL);
	CHECK(strstr(wn_core_error(c), "point 17") != NULL);
	free(X), free(C), free(asg);
	wn_core_close(c);
}

static void test_kmeans_train(void)
{
	wn_core *c = open_ctx(2);
	/* 8 well separated blobs: Lloyd must find them all */
	const int n = 4000, d = 16, k = 8, niter = 12;
	float *X = randn((size_t)n * d, 35, 0.1f);
	for (int i = 0; i < n; i++)
		X[i * d + (i % k)] += 10.0f;
	float *C = malloc(sizeof(float) * k * d);
	double inertia[12];
	CHECK(wn_core_kmeans_train(c, WN_METRIC_L2, X, n, d, k, niter, 1234, C, inertia) == 0);
	for (int it = 1; it < niter; it++)
		CHECK(inertia[it] <= inertia[it - 1] * (1 + 1e-6));
	/* each centroid sits on one blob: coordinate b near 10, the others near 0 */
	int seen = 0;
	for (int j = 0; j < k; j++) {
		int hot = -1;
		for (int t = 0; t < d; t++)
			if (C[j * d + t] > 5)
				hot = hot == -1 ? t : -2;
		CHECK(hot >= 0);
		seen |= 1 << hot;
	}
	CHECK_EQ_INT(seen, 255);
	CHECK_NEAR(inertia[niter - 1] / n, 0.01 * d, 0.02);
	CHECK(wn_core_kmeans_train(c, WN_METRIC_L2, X, 5, d, 6, 1, 1, C, NULL) == WN_CORE_EINVAL);
	CHECK(strstr(wn_core_error(c), "larger than n") != NULL);
	free(X), free(C);
	wn_core_close(c);
}

/* kmeans_fit on the CPU: train, then assign on the trained centroids, the
 * same bits as the two calls; a bad k fails under the op's own name. */
static void test_kmeans_fit(void)
{
	wn_core *c = open_ctx(2);
	const int n = 3000, d = 12, k = 7, niter = 6;
	float *X = randn((size_t)n * d, 36, 1.0f);
	float *C1 = malloc(sizeof(float) * k * d), *C2 = malloc(sizeof(float) * k * d);
	int32_t *a1 = malloc(sizeof(int32_t) * n), *a2 = malloc(sizeof(int32_t) * n);
	float *f1 = malloc(sizeof(float) * n), *f2 = malloc(sizeof(float) * n);
	double in1[6], in2[6];
	for (int metric = 0; metric < 2; metric++) {
		CHECK(wn_core_kmeans_fit(c, metric, X, n, d, k, niter, 5, C1, in1, a1, f1) == 0);
		CHECK(wn_core_kmeans_train(c, metric, X, n, d, k, niter, 5, C2, in2) == 0);
		CHECK(wn_core_kmeans_assign(c, metric, X, n, d, C2, k, a2, f2) == 0);
		CHECK(!memcmp(C1, C2, sizeof(float) * k * d));
		CHECK(!memcmp(in1, in2, sizeof in1));
		CHECK(!memcmp(a1, a2, sizeof(int32_t) * n));
		CHECK(!memcmp(f1, f2, sizeof(float) * n));
	}
	/* both outputs may be left out */
	CHECK(wn_core_kmeans_fit(c, WN_METRIC_L2, X, n, d, k, niter, 5, C1, NULL, NULL, NULL) == 0);
	CHECK(wn_core_kmeans_train(c, WN_METRIC_L2, X, n, d, k, niter, 5, C2, NULL) == 0);
	CHECK(!memcmp(C1, C2, sizeof(float) * k * d));
	CHECK(wn_core_kmeans_fit(c, WN_METRIC_L2, X, 5, d, 6, 1, 1, C1, NULL, a1, NULL) ==
	      WN_CORE_EINVAL);
	CHECK(strstr(wn_core_error(c), "kmeans_fit: k = 6 is larger than n = 5") != NULL);
	free(X), free(C1), free(C2), free(a1), free(a2), free(f1), free(f2);
	wn_core_close(c);
}

/* ---- real vectors: BERT-tiny's word embeddings (3000 x 64) ------------------ */

/* The "embeddings.word_embeddings.weight" tensor of the shared model, or NULL. */
static float *load_word_embeddings(int64_t *rows, int64_t *dim)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/models/bert-tiny-uncased/model.safetensors",
		 test_shared_dir());
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	uint64_t hl = 0;
	float *out = NULL;
	char *hdr = NULL;
	if (fread(&hl, 8, 1, f) != 1 || hl > (1u << 20) || !(hdr = calloc(hl + 1, 1)) ||
	    fread(hdr, 1, hl, f) != hl)
		goto done;
	const char *t = strstr(hdr, "\"embeddings.word_embeddings.weight\"");
	long long r, dd, o0, o1;
	if (!t || sscanf(strstr(t, "\"shape\""), "\"shape\":[%lld,%lld]", &r, &dd) != 2 ||
	    sscanf(strstr(t, "\"data_offsets\""), "\"data_offsets\":[%lld,%lld]", &o0, &o1) != 2 ||
	    (o1 - o0) != r * dd * 4)
		goto done;
	out = malloc((size_t)(o1 - o0));
	if (fseek(f, (long)(8 + hl + o0), SEEK_SET) != 0 || fread(out, 4, r * dd, f) != (size_t)(r * dd)) {
		free(out);
		out = NULL;
		goto done;
	}
	*rows = r;
	*dim = dd;
done:
	free(hdr);
	fclose(f);
	return out;
}

/* Exact squared L2 or IP in double for one pair. */
static double pair_value(int metric, const float *a, const float *b, int64_t d)
{
	double s = 0;
	for (int64_t j = 0; j < d; j++)
		s += metric == WN_METRIC_L2 ? ((double)a[j] - b[j]) * ((double)a[j] - b[j])
					    : (double)a[j] * b[j];
	return s;
}

static void test_real_embeddings(void)
{
	int64_t n = 0, d = 0;
	float *E = load_word_embeddings(&n, &d);
	if (!E)
		SKIP("no %s/models/bert-tiny-uncased/model.safetensors", test_shared_dir());
	wn_core *c = open_ctx(2);
	const int64_t nq = 300, k = 10;
	float *rd = malloc(sizeof(float) * nq * k), *dist = malloc(sizeof(float) * nq * k);
	int64_t *ri = malloc(sizeof(int64_t) * nq * k), *idx = malloc(sizeof(int64_t) * nq * k);
	for (int metric = 0; metric < 2; metric++) {
		/* queries: every 10th word against all 3000 */
		float *Q = malloc(sizeof(float) * nq * d);
		for (int64_t q = 0; q < nq; q++)
			memcpy(Q + q * d, E + q * 10 * d, sizeof(float) * d);
		knn_ref(metric, Q, nq, E, n, d, k, rd, ri);
		CHECK(wn_core_knn(c, metric, Q, nq, E, n, d, k, dist, idx) == 0);
		int64_t same = 0;
		for (int64_t q = 0; q < nq; q++)
			for (int64_t j = 0; j < k; j++) {
				double exact = pair_value(metric, Q + q * d, E + idx[q * k + j] * d, d);
				double tol = 1e-4 * (1 + fabs(exact));
				CHECK_NEAR(dist[q * k + j], exact, tol);
				CHECK_NEAR(dist[q * k + j], rd[q * k + j], tol); /* the true j-th value */
				same += idx[q * k + j] == ri[q * k + j];
			}
		/* indices differ only where float rounding reorders near-ties */
		CHECK(same >= nq * k * 99 / 100);
		if (metric == WN_METRIC_L2)
			for (int64_t q = 0; q < nq; q++) /* a word is its own nearest */
				CHECK_EQ_INT(idx[q * k], q * 10);
		free(Q);
	}
	/* k-means on the vocabulary: Lloyd never raises the objective much, and
	 * ends well below where it started */
	const int64_t kc = 30;
	float *C = malloc(sizeof(float) * kc * d);
	double inertia[10];
	CHECK(wn_core_kmeans_train(c, WN_METRIC_L2, E, n, d, kc, 10, 7, C, inertia) == 0);
	for (int it = 1; it < 10; it++)
		CHECK(inertia[it] <= inertia[it - 1] * (1 + 1e-4));
	CHECK(inertia[9] < 0.95 * inertia[0]);
	/* the reported objective is the sum of distances to the nearest centroid */
	int32_t *asg = malloc(sizeof(int32_t) * n);
	float *dd = malloc(sizeof(float) * n);
	CHECK(wn_core_kmeans_assign(c, WN_METRIC_L2, E, n, d, C, kc, asg, dd) == 0);
	for (int64_t i = 0; i < n; i += 37)
		for (int64_t j = 0; j < kc; j++)
			CHECK(pair_value(WN_METRIC_L2, E + i * d, C + j * d, d) >=
			      pair_value(WN_METRIC_L2, E + i * d, C + asg[i] * d, d) - 1e-4);
	free(C), free(asg), free(dd);
	free(rd), free(dist), free(ri), free(idx), free(E);
	wn_core_close(c);
}

/* ---- thread-count independence -------------------------------------------- */

/* The same product on a 1-thread and a 2-thread context, bit for bit. */
static int gemm_threads_case(wn_core *c1, wn_core *c2, const int *sh)
{
	int m = sh[0], n = sh[1], k = sh[2], ta = sh[3], tb = sh[4];
	size_t na = (size_t)m * k, nb = (size_t)n * k, nc = (size_t)m * n;
	float *A = randn(na, 41, 1), *B = randn(nb, 42, 1);
	float *a1 = up(c1, A, na), *b1 = up(c1, B, nb), *g1 = wn_core_alloc(c1, nc);
	float *a2 = up(c2, A, na), *b2 = up(c2, B, nb), *g2 = wn_core_alloc(c2, nc);
	int bad = wn_core_gemm(c1, ta, tb, m, n, k, 1, a1, ta ? m : k, b1, tb ? k : n, 0, g1, n) ||
		  wn_core_gemm(c2, ta, tb, m, n, k, 1, a2, ta ? m : k, b2, tb ? k : n, 0, g2, n);
	float *G1 = down(c1, g1, nc), *G2 = down(c2, g2, nc);
	bad = bad || memcmp(G1, G2, nc * sizeof(float)) != 0;
	wn_core_free(c1, a1), wn_core_free(c1, b1), wn_core_free(c1, g1);
	wn_core_free(c2, a2), wn_core_free(c2, b2), wn_core_free(c2, g2);
	free(A), free(B), free(G1), free(G2);
	return bad;
}

static void test_threads_identical(void)
{
	wn_core *c1 = open_ctx(1), *c2 = open_ctx(2);
	const int n = 3000, d = 48, k = 50, kk = 9;
	float *X = randn((size_t)n * d, 40, 1);
	float *C1 = malloc(sizeof(float) * k * d), *C2 = malloc(sizeof(float) * k * d);
	double in1[6], in2[6];
	CHECK(wn_core_kmeans_train(c1, WN_METRIC_L2, X, n, d, k, 6, 5, C1, in1) == 0);
	CHECK(wn_core_kmeans_train(c2, WN_METRIC_L2, X, n, d, k, 6, 5, C2, in2) == 0);
	CHECK(memcmp(C1, C2, sizeof(float) * k * d) == 0);
	CHECK(memcmp(in1, in2, sizeof in1) == 0);
	CHECK(wn_core_kmeans_train(c1, WN_METRIC_IP, X, n, d, k, 6, 5, C1, in1) == 0);
	CHECK(wn_core_kmeans_train(c2, WN_METRIC_IP, X, n, d, k, 6, 5, C2, in2) == 0);
	CHECK(memcmp(C1, C2, sizeof(float) * k * d) == 0);
	for (int j = 0; j < k; j++) { /* spherical k-means keeps unit centroids */
		double s = 0;
		for (int t = 0; t < d; t++)
			s += (double)C1[j * d + t] * C1[j * d + t];
		CHECK_NEAR(s, 1.0, 1e-5);
	}

	float *D1 = malloc(sizeof(float) * 100 * kk), *D2 = malloc(sizeof(float) * 100 * kk);
	int64_t *I1 = malloc(sizeof(int64_t) * 100 * kk), *I2 = malloc(sizeof(int64_t) * 100 * kk);
	CHECK(wn_core_knn(c1, WN_METRIC_L2, X, 100, X, n, d, kk, D1, I1) == 0);
	CHECK(wn_core_knn(c2, WN_METRIC_L2, X, 100, X, n, d, kk, D2, I2) == 0);
	CHECK(memcmp(D1, D2, sizeof(float) * 100 * kk) == 0);
	CHECK(memcmp(I1, I2, sizeof(int64_t) * 100 * kk) == 0);

	/* GEMMs of several shapes: OpenBLAS's own threading differs here */
	static const int shapes[][5] = {
		{ 512, 50, 48, 0, 1 }, { 3000, 50, 48, 0, 1 }, { 128, 128, 64, 1, 0 },
		{ 700, 1100, 30, 1, 1 }, { 64, 768, 48, 0, 0 },
	};
	for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
		CHECK(!gemm_threads_case(c1, c2, shapes[s]));
	free(X), free(C1), free(C2), free(D1), free(D2), free(I1), free(I2);
	wn_core_close(c1);
	wn_core_close(c2);
}

int main(void)
{
	dev_kind = WN_DEVICE_CPU;
	const char *tc = getenv("WINNOW_TEST_CUDA");
	if (tc && *tc == '1') {
		const char *why = wn_core_cuda_unavailable_reason();
		if (why[0])
			printf("SKIP %s: cuda twin: %s\n", __FILE__, why);
		else
			dev_kind = WN_DEVICE_CUDA;
	}
	RUN(test_parse_device);
	RUN(test_open_describe);
	RUN(test_cuda_unavailable);
	RUN(test_gemm);
	RUN(test_gemm_bad_args);
	RUN(test_gemm_batched);
	RUN(test_blas_threads_restored);
	RUN(test_row_ops);
	RUN(test_elementwise);
	RUN(test_layernorm);
	RUN(test_softmax_masked);
	RUN(test_masked_mean_gather);
	RUN(test_knn_exact_ties);
	RUN(test_knn_float);
	RUN(test_knn_short_base);
	RUN(test_kmeans_assign);
	RUN(test_kmeans_update);
	RUN(test_kmeans_train);
	RUN(test_kmeans_fit);
	RUN(test_real_embeddings);
	RUN(test_threads_identical);
	return TEST_EXIT;
}
