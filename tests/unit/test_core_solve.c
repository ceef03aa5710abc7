/*
 * tests/unit/test_core_solve.c — core/cpu_solve.c (the dense float64 solve
 * of issue 19) against hand values and against itself:
 *  - the 5×2 hand example: AᵀA = [[6,2],[2,6]], τ = 6,6,24,6,22 (/32);
 *  - a rank-deficient matrix (third column = first + second): the eigen
 *    solve, rank 2, and the τ of the two independent columns alone (the
 *    column space is the same, so the projection is the same);
 *  - the Gram matrix fed in batches of WN_CORE_GRAM_BLOCK multiples gives
 *    the bits of one call, and the same bits at 1 and 2 threads;
 *  - weighted rows: f_i x_i x_iᵀ summed equals the Gram of sqrt(f_i) x_i;
 *  - the float32 GEMM path (what --device cuda runs) on a CPU context
 *    within 1e-5 relative of float64, Cholesky and eigen; the same through
 *    a non-CPU table without GEMM and row-norm ops (core.c's staged
 *    fallbacks: the upload/download path a GPU backend takes), bit for bit
 *    the CPU context's; and, where a GPU is usable, on a CUDA context
 *    (skips here without one);
 *  - wn_core_scale_rows (the row weights of the resident Gram) against a
 *    hand computation, in place too, and through the staged fallback;
 *  - the resident/streaming decision (wn_core_rows_budget_of) by hand, and
 *    the CPU's budget of 0 (the CPU path never keeps rows);
 *  - rows kept by wn_core_rows (forced on a CPU context by a budget) give
 *    the Gram matrix, weighted or not, and the quadratic forms (Cholesky
 *    and eigen) of the streaming GEMM path bit for bit, also through the
 *    staged table; a budget one batch short keeps nothing; on a CUDA
 *    context (skips here) resident and streaming agree to 1e-6.
 * Owns: its small matrices.
 */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/internal.h"
#include "core/rng.h"
#include "test.h"

/* τ of every row of A (n×d, float64) through the API; gemm: the context of the float32 path. */
static int taus(wn_core *gemm, const double *A, int64_t n, int64_t d, int64_t batch,
		double ridge, double *tau, int64_t *rank, int *method)
{
	wn_core_gram *g = wn_core_gram_new(gemm, d, gemm != NULL);
	if (!g)
		return -1;
	for (int64_t i = 0; i < n; i += batch)
		if (wn_core_gram_add(g, NULL, A + i * d, n - i < batch ? n - i : batch, NULL))
			return wn_core_gram_free(g), -1;
	char err[256];
	wn_core_solve *q = wn_core_solve_new(gemm, wn_core_gram_matrix(g), d, ridge, n,
					     gemm != NULL, err, sizeof err);
	wn_core_gram_free(g);
	if (!q)
		return -1;
	*rank = wn_core_solve_rank(q);
	*method = wn_core_solve_method(q);
	int rc = wn_core_solve_quad(q, NULL, A, n, tau);
	wn_core_solve_free(q);
	return rc;
}

static void test_hand_5x2(void)
{
	double A[] = {1, 0, 1, 0, 0, 2, 0, 1, 2, 1}, t[5], want[] = {6, 6, 24, 6, 22};
	int64_t rank;
	int method;
	CHECK(taus(NULL, A, 5, 2, 256, 0, t, &rank, &method) == 0);
	CHECK_EQ_INT(rank, 2);
	CHECK_EQ_INT(method, WN_CORE_SOLVE_CHOLESKY);
	for (int i = 0; i < 5; i++)
		CHECK_NEAR(t[i], want[i] / 32, 1e-15);
}

/* n×3 with column 3 = column 1 + column 2; B: the first two columns. The
 * entries are small integers, so every product and every partial sum of the
 * Gram matrix is exact in float32 too: the matrix is singular on every path
 * and every machine (with real-valued entries, float32 rounding of x + y
 * makes it barely regular, and whether the rank test sees that depends on
 * the BLAS kernel's summation order). */
static void rank_deficient(double *A, double *B, int64_t n)
{
	wn_rng r;
	wn_rng_init(&r, 7, 19);
	for (int64_t i = 0; i < n; i++) {
		double x = floor(wn_rng_next_uniform(&r) * 17) - 8, y = floor(wn_rng_next_uniform(&r) * 17) - 8;
		A[i * 3] = x, A[i * 3 + 1] = y, A[i * 3 + 2] = x + y;
		B[i * 2] = x, B[i * 2 + 1] = y;
	}
}

static void test_rank_deficient(void)
{
	enum { N = 300 };
	double *A = malloc(sizeof(double) * N * 3), *B = malloc(sizeof(double) * N * 2);
	double *t = malloc(sizeof(double) * N), *u = malloc(sizeof(double) * N);
	int64_t rank;
	int method;
	rank_deficient(A, B, N);
	CHECK(taus(NULL, A, N, 3, 256, 0, t, &rank, &method) == 0);
	CHECK_EQ_INT(rank, 2);
	CHECK_EQ_INT(method, WN_CORE_SOLVE_EIGEN);
	CHECK(taus(NULL, B, N, 2, 256, 0, u, &rank, &method) == 0);
	double s = 0;
	for (int i = 0; i < N; i++) {
		CHECK_NEAR(t[i], u[i], 1e-10);
		s += t[i];
	}
	CHECK_NEAR(s, 2.0, 1e-10);
	free(A), free(B), free(t), free(u);
}

static double *random_matrix(int64_t n, int64_t d, uint64_t seed)
{
	double *A = malloc(sizeof(double) * (size_t)(n * d));
	wn_rng r;
	wn_rng_init(&r, seed, 19);
	for (int64_t k = 0; A && k < n * d; k++)
		A[k] = wn_rng_next_uniform(&r) * 2 - 1 + (k % d == 0 ? 0.5 : 0);
	return A;
}

/* The Gram matrix of A fed in batches of `batch` rows at `threads` threads. */
static double *gram_of(const double *A, int64_t n, int64_t d, int64_t batch, int threads,
		       const double *f)
{
	omp_set_num_threads(threads);
	wn_core_gram *g = wn_core_gram_new(NULL, d, 0);
	for (int64_t i = 0; g && i < n; i += batch)
		wn_core_gram_add(g, NULL, A + i * d, n - i < batch ? n - i : batch, f ? f + i : NULL);
	double *G = malloc(sizeof(double) * (size_t)(d * d));
	if (g && G)
		memcpy(G, wn_core_gram_matrix(g), sizeof(double) * (size_t)(d * d));
	wn_core_gram_free(g);
	return G;
}

static void test_batches_and_threads(void)
{
	int64_t n = 5000, d = 7;
	double *A = random_matrix(n, d, 3);
	double *one = gram_of(A, n, d, n, 1, NULL), *two = gram_of(A, n, d, 512, 2, NULL);
	double *three = gram_of(A, n, d, 1024, 2, NULL);
	CHECK(A && one && two && three);
	CHECK(memcmp(one, two, sizeof(double) * (size_t)(d * d)) == 0);
	CHECK(memcmp(one, three, sizeof(double) * (size_t)(d * d)) == 0);
	double direct = 0;
	for (int64_t i = 0; i < n; i++)
		direct += A[i * d + 1] * A[i * d + 4];
	CHECK_NEAR(one[1 * d + 4], direct, 1e-9 * fabs(direct) + 1e-12);
	CHECK(one[4 * d + 1] == one[1 * d + 4]);
	free(A), free(one), free(two), free(three);
}

static void test_weighted_rows(void)
{
	int64_t n = 700, d = 4;
	double *A = random_matrix(n, d, 5), *S = malloc(sizeof(double) * (size_t)(n * d));
	double *f = malloc(sizeof(double) * (size_t)n);
	for (int64_t i = 0; i < n; i++) {
		f[i] = 0.25 + (double)(i % 9);
		for (int64_t j = 0; j < d; j++)
			S[i * d + j] = sqrt(f[i]) * A[i * d + j];
	}
	double *Gf = gram_of(A, n, d, 256, 2, f), *Gs = gram_of(S, n, d, 256, 2, NULL);
	for (int64_t k = 0; k < d * d; k++)
		CHECK(Gf[k] == Gs[k]); /* the same rows sqrt(f) x, summed in the same order */
	free(A), free(S), free(f), free(Gf), free(Gs);
}

/* float32 GEMM path on context c within tol (relative) of float64, both solves. */
static void gemm_path_on(wn_core *c)
{
	int64_t n = 3000, d = 16, rank, rank32;
	int method, method32;
	double *A = random_matrix(n, d, 11), *t = malloc(sizeof(double) * (size_t)n);
	double *u = malloc(sizeof(double) * (size_t)n);
	CHECK(taus(NULL, A, n, d, 1024, 0, t, &rank, &method) == 0);
	CHECK(taus(c, A, n, d, 1024, 0, u, &rank32, &method32) == 0);
	CHECK_EQ_INT(rank32, rank);
	CHECK_EQ_INT(method32, WN_CORE_SOLVE_CHOLESKY);
	for (int64_t i = 0; i < n; i++)
		CHECK_NEAR(u[i], t[i], 1e-5 * t[i]);
	enum { N = 400 };
	double *R = malloc(sizeof(double) * N * 3), *B = malloc(sizeof(double) * N * 2);
	rank_deficient(R, B, N);
	CHECK(taus(NULL, R, N, 3, 256, 0, t, &rank, &method) == 0);
	CHECK(taus(c, R, N, 3, 256, 0, u, &rank32, &method32) == 0);
	CHECK_EQ_INT(method32, WN_CORE_SOLVE_EIGEN);
	CHECK_EQ_INT(rank32, 2);
	for (int64_t i = 0; i < N; i++)
		CHECK_NEAR(u[i], t[i], 1e-4 * t[i] + 1e-6);
	free(A), free(t), free(u), free(R), free(B);
}

static void test_gemm_path_cpu(void)
{
	char err[256];
	wn_core *c = wn_core_open(WN_DEVICE_CPU, 2, err, sizeof err);
	CHECK(c != NULL);
	gemm_path_on(c);
	wn_core_close(c);
}

/* τ of the float32 path on c for a fixed matrix. */
static int gemm_taus(wn_core *c, double *u, int64_t n, int64_t d)
{
	int64_t rank;
	int method;
	double *A = random_matrix(n, d, 13);
	int rc = A ? taus(c, A, n, d, 512, 0, u, &rank, &method) : -1;
	free(A);
	return rc;
}

static void test_gemm_path_staged(void)
{
	char err[256];
	wn_backend t;
	wn_core *cpu = wn_core_open(WN_DEVICE_CPU, 2, err, sizeof err);
	CHECK(cpu && wn_cpu_backend_open(2, &t, err, sizeof err) == 0);
	t.name = "stub";
	t.gemm_batched = NULL; /* core.c stages both through host copies */
	t.row_sqnorms = NULL;
	wn_core *fb = wn_core_open_table(&t, 2);
	CHECK(fb != NULL);
	int64_t n = 1500, d = 9;
	double *a = malloc(sizeof(double) * (size_t)n), *b = malloc(sizeof(double) * (size_t)n);
	CHECK(gemm_taus(cpu, a, n, d) == 0);
	CHECK(gemm_taus(fb, b, n, d) == 0);
	CHECK(memcmp(a, b, sizeof(double) * (size_t)n) == 0);
	free(a), free(b);
	wn_core_close(fb);
	wn_core_close(cpu);
}

static void test_gemm_path_cuda(void)
{
	char err[256];
	wn_core *c = wn_core_open(WN_DEVICE_CUDA, 2, err, sizeof err);
	if (!c)
		SKIP("no usable GPU");
	gemm_path_on(c);
	wn_core_close(c);
}

/* ---- scale_rows and resident rows -------------------------------------- */

static void scale_rows_on(wn_core *c)
{
	/* by hand: row 0 × 0.5, row 1 × −2, row 2 × 0; s·x exact in float */
	const float X[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
	const double sc[3] = {0.5, -2, 0};
	const float want[9] = {0.5f, 1, 1.5f, -8, -10, -12, 0, 0, 0};
	float *dx = wn_core_alloc(c, 9), *dy = wn_core_alloc(c, 9), got[9];
	double *ds = wn_core_alloc_bytes(c, sizeof sc);
	CHECK(dx && dy && ds);
	CHECK(wn_core_upload(c, dx, X, sizeof X) == 0 && wn_core_upload(c, ds, sc, sizeof sc) == 0);
	CHECK(wn_core_scale_rows(c, dx, ds, 3, 3, dy) == 0);
	CHECK(wn_core_download(c, got, dy, sizeof got) == 0);
	CHECK(memcmp(got, want, sizeof got) == 0);
	/* in place; one rounding of the double product: 0.1 · 3 = 0.30000000000000004
	 * rounds to the float nearest 0.3, and sqrt(2)·1 to (float)sqrt(2) */
	const double s2[3] = {0.1, sqrt(2.0), 1};
	CHECK(wn_core_upload(c, ds, s2, sizeof s2) == 0);
	CHECK(wn_core_scale_rows(c, dx, ds, 3, 3, dx) == 0);
	CHECK(wn_core_download(c, got, dx, sizeof got) == 0);
	CHECK(got[2] == (float)0.30000000000000004 && got[3] == (float)(4 * sqrt(2.0)));
	CHECK(got[8] == 9.0f);
	CHECK(wn_core_scale_rows(c, dx, ds, -1, 3, dx) == WN_CORE_EINVAL);
	wn_core_free(c, dx), wn_core_free(c, dy), wn_core_free(c, ds);
}

/* A CPU table with ops removed: core.c stages them through host copies. */
static wn_core *stub_context(void)
{
	char err[256];
	wn_backend t;
	if (wn_cpu_backend_open(2, &t, err, sizeof err))
		return NULL;
	t.name = "stub";
	t.gemm_batched = NULL;
	t.row_sqnorms = NULL;
	t.scale_rows = NULL;
	return wn_core_open_table(&t, 2);
}

static void test_scale_rows(void)
{
	char err[256];
	wn_core *c = wn_core_open(WN_DEVICE_CPU, 2, err, sizeof err), *fb = stub_context();
	CHECK(c && fb);
	scale_rows_on(c);
	scale_rows_on(fb);
	wn_core_close(fb);
	wn_core_close(c);
}

static void test_rows_budget(void)
{
	CHECK_EQ_INT(wn_core_rows_budget_of(1, 1000, NULL), 500); /* half the free memory */
	CHECK_EQ_INT(wn_core_rows_budget_of(1, 1001, ""), 500);
	CHECK_EQ_INT(wn_core_rows_budget_of(0, 1000, NULL), 0);   /* no device memory: stream */
	CHECK_EQ_INT(wn_core_rows_budget_of(1, 1000, "123"), 123);
	CHECK_EQ_INT(wn_core_rows_budget_of(0, 0, "77"), 77);
	CHECK_EQ_INT(wn_core_rows_budget_of(1, 1000, "0"), 0);
	CHECK_EQ_INT(wn_core_rows_budget_of(1, 1000, "12x"), 500); /* not a number: ignored */
	CHECK_EQ_INT(wn_core_rows_budget_of(1, 1000, "-5"), 500);
	char err[256];
	wn_core *c = wn_core_open(WN_DEVICE_CPU, 2, err, sizeof err);
	CHECK(c != NULL);
	unsetenv("WINNOW_SOLVE_RESIDENT");
	size_t fr, tot;
	CHECK(wn_core_mem_info(c, &fr, &tot) == WN_CORE_EUNAVAIL);
	CHECK_EQ_INT(wn_core_rows_budget(c), 0);
	setenv("WINNOW_SOLVE_RESIDENT", "4096", 1);
	CHECK_EQ_INT(wn_core_rows_budget(c), 4096);
	unsetenv("WINNOW_SOLVE_RESIDENT");
	wn_core_rows *R = wn_core_rows_new(c, 4, 0); /* budget 0 keeps nothing */
	float x[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	CHECK(R && wn_core_rows_add(R, x, NULL, 2) == 0 && !wn_core_rows_resident(R));
	wn_core_rows_free(R);
	wn_core_close(c);
}

/* Gram (f or not), factor and τ of A on c: streaming (R NULL) or resident. */
struct run32 {
	double *G, *t;
};

static int run32_of(wn_core *c, const double *A64, int64_t n, int64_t d, int64_t batch,
		    const double *f, int resident, struct run32 *o)
{
	/* float32 rows, as the steps' sources give (a float64 row would be
	 * rounded before its weight on the resident path, after it streaming) */
	float *A = malloc(sizeof(float) * (size_t)(n * d));
	for (int64_t k = 0; A && k < n * d; k++)
		A[k] = (float)A64[k];
	wn_core_gram *g = wn_core_gram_new(c, d, 1);
	wn_core_rows *R = resident ? wn_core_rows_new(c, d, (int64_t)1 << 40) : NULL;
	char err[256];
	int rc = A && g && (R || !resident) ? 0 : -1;
	for (int64_t i = 0; !rc && i < n; i += batch) {
		int64_t rows = n - i < batch ? n - i : batch;
		/* the first pass keeps each batch and sums it from the device copy */
		rc = R ? (wn_core_rows_add(R, A + i * d, NULL, rows) == 1 ? 0 : -1)
		       : wn_core_gram_add(g, A + i * d, NULL, rows, NULL);
		if (!rc && R)
			rc = wn_core_gram_add_rows(g, R, wn_core_rows_batches(R) - 1, NULL);
	}
	if (!rc && f) { /* a second, weighted sum over all rows at once */
		wn_core_gram_reset(g);
		for (int64_t i = 0; !rc && !R && i < n; i += batch)
			rc = wn_core_gram_add(g, A + i * d, NULL, n - i < batch ? n - i : batch, f + i);
		if (!rc && R)
			rc = wn_core_gram_add_rows(g, R, 0, f);
	}
	o->G = malloc(sizeof(double) * (size_t)(d * d));
	o->t = malloc(sizeof(double) * (size_t)n);
	wn_core_solve *q = NULL;
	if (!rc) {
		memcpy(o->G, wn_core_gram_matrix(g), sizeof(double) * (size_t)(d * d));
		q = wn_core_solve_new(c, o->G, d, 0, n, 1, err, sizeof err);
		rc = q ? 0 : -1;
	}
	for (int64_t i = 0; !rc && !R && i < n; i += batch)
		rc = wn_core_solve_quad(q, A + i * d, NULL, n - i < batch ? n - i : batch, o->t + i);
	if (!rc && R)
		rc = wn_core_rows_count(R) == n ? wn_core_solve_quad_rows(q, R, o->t) : -1;
	wn_core_solve_free(q);
	wn_core_rows_free(R);
	wn_core_gram_free(g);
	free(A);
	return rc;
}

/* resident vs streaming on c: bit for bit (exact) or within 1e-6 relative */
static void resident_on(wn_core *c, int exact)
{
	int64_t n = 3000, d = 16;
	double *A = random_matrix(n, d, 17), *f = malloc(sizeof(double) * (size_t)n);
	for (int64_t i = 0; i < n; i++)
		f[i] = i % 7 == 3 ? 0 : 0.2 + (double)(i % 5) / 3;
	enum { N = 400 };
	double *R3 = malloc(sizeof(double) * N * 3), *B = malloc(sizeof(double) * N * 2);
	rank_deficient(R3, B, N);
	for (int m = 0; m < 3; m++) {
		const double *M = m == 2 ? R3 : A;
		int64_t rows = m == 2 ? N : n, dd = m == 2 ? 3 : d;
		struct run32 s = {0}, r = {0};
		CHECK(run32_of(c, M, rows, dd, 512, m == 1 ? f : NULL, 0, &s) == 0);
		CHECK(run32_of(c, M, rows, dd, 512, m == 1 ? f : NULL, 1, &r) == 0);
		if (exact) {
			CHECK(memcmp(s.G, r.G, sizeof(double) * (size_t)(dd * dd)) == 0);
			CHECK(memcmp(s.t, r.t, sizeof(double) * (size_t)rows) == 0);
		}
		for (int64_t i = 0; i < rows; i++)
			CHECK_NEAR(r.t[i], s.t[i], 1e-6 * s.t[i] + 1e-9);
		free(s.G), free(s.t), free(r.G), free(r.t);
	}
	free(A), free(f), free(R3), free(B);
}

static void test_resident_rows_cpu(void)
{
	char err[256];
	wn_core *c = wn_core_open(WN_DEVICE_CPU, 2, err, sizeof err), *fb = stub_context();
	CHECK(c && fb);
	resident_on(c, 1);
	resident_on(fb, 1);
	wn_core_close(fb);
	wn_core_close(c);
}

/* A budget one batch short: the batches fit until the last, which drops them all. */
static void test_resident_rows_drop(void)
{
	char err[256];
	wn_core *c = wn_core_open(WN_DEVICE_CPU, 2, err, sizeof err);
	int64_t d = 4, batch = 256;
	float *x = calloc((size_t)(batch * d), sizeof(float));
	CHECK(c && x);
	wn_core_rows *R = wn_core_rows_new(c, d, 3 * batch * d * 4 - 1);
	CHECK(R != NULL);
	CHECK(wn_core_rows_add(R, x, NULL, batch) == 1);
	CHECK(wn_core_rows_add(R, x, NULL, batch) == 1);
	CHECK(wn_core_rows_resident(R) && wn_core_rows_count(R) == 2 * batch);
	CHECK(wn_core_rows_add(R, x, NULL, batch) == 0);
	CHECK(!wn_core_rows_resident(R) && wn_core_rows_count(R) == 0);
	CHECK(wn_core_rows_add(R, x, NULL, 1) == 0); /* dropped for good */
	wn_core_gram *g = wn_core_gram_new(c, d, 1);
	CHECK(wn_core_gram_add_rows(g, R, 0, NULL) == WN_CORE_EINVAL);
	CHECK(wn_core_rows_add(R, x, NULL, 0) == WN_CORE_EINVAL);
	wn_core_gram_free(g);
	wn_core_rows_free(R);
	free(x);
	wn_core_close(c);
}

static void test_resident_rows_cuda(void)
{
	char err[256];
	wn_core *c = wn_core_open(WN_DEVICE_CUDA, 2, err, sizeof err);
	if (!c)
		SKIP("no usable GPU");
	size_t fr = 0, tot = 0;
	CHECK(wn_core_mem_info(c, &fr, &tot) == 0 && fr > 0 && tot >= fr);
	unsetenv("WINNOW_SOLVE_RESIDENT");
	int64_t b = wn_core_rows_budget(c); /* half of what is free now */
	CHECK(b > 0 && b <= (int64_t)(tot / 2));
	resident_on(c, 0);
	wn_core_close(c);
}

int main(void)
{
	RUN(test_hand_5x2);
	RUN(test_rank_deficient);
	RUN(test_batches_and_threads);
	RUN(test_weighted_rows);
	RUN(test_gemm_path_cpu);
	RUN(test_gemm_path_staged);
	RUN(test_gemm_path_cuda);
	RUN(test_scale_rows);
	RUN(test_rows_budget);
	RUN(test_resident_rows_cpu);
	RUN(test_resident_rows_drop);
	RUN(test_resident_rows_cuda);
	return TEST_EXIT;
}
