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
 *    (skips here without one).
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

int main(void)
{
	RUN(test_hand_5x2);
	RUN(test_rank_deficient);
	RUN(test_batches_and_threads);
	RUN(test_weighted_rows);
	RUN(test_gemm_path_cpu);
	RUN(test_gemm_path_staged);
	RUN(test_gemm_path_cuda);
	return TEST_EXIT;
}
