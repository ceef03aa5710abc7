/*
 * tests/unit/test_volume.c — selectors/volume.c, statistically with fixed
 * seeds (issue 19), on a 12×3 matrix:
 *  - the top singular vectors are orthonormal and their squared row norms
 *    are the leverage scores of selectors/sensitivity.c (m = d);
 *  - over 20,000 draws (stream = draw number) each row's inclusion
 *    frequency is its kernel diagonal π_i = ||U_m[i]||² within 5 binomial
 *    standard deviations, for m = 3 (the leverage scores) and m = 2;
 *  - the least-squares solution on the m = d rows drawn, A_S⁻¹ y_S, averages
 *    to the full least-squares solution (Dereziński & Warmuth: unbiased under
 *    volume sampling) within 5 standard errors per coordinate;
 *  - the Horvitz–Thompson sum Σ_{i∈S} f_i / π_i averages to Σ f_i;
 *  - a draw is the same at 1 and 2 threads, and its rows are distinct.
 */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "selectors/sensitivity.h"
#include "selectors/volume.h"
#include "test.h"

enum { N = 12, D = 3, T = 20000 };

static void matrix(double *A, double *y)
{
	wn_rng r;
	wn_rng_init(&r, 2024, 7);
	for (int i = 0; i < N; i++) {
		for (int t = 0; t < D; t++)
			A[i * D + t] = wn_rng_next_normal(&r) * (i % 4 == 0 ? 3.0 : 1.0);
		y[i] = A[i * D] - 2 * A[i * D + 1] + 0.5 * A[i * D + 2] + wn_rng_next_normal(&r);
	}
}

/* Solve the D×D system M x = b (Gaussian elimination, partial pivoting). */
static int solve3(double M[D][D], double *b, double *x)
{
	for (int c = 0; c < D; c++) {
		int p = c;
		for (int r = c + 1; r < D; r++)
			if (fabs(M[r][c]) > fabs(M[p][c]))
				p = r;
		if (M[p][c] == 0)
			return -1;
		for (int k = 0; k < D; k++) {
			double t = M[c][k];
			M[c][k] = M[p][k], M[p][k] = t;
		}
		double t = b[c];
		b[c] = b[p], b[p] = t;
		for (int r = c + 1; r < D; r++) {
			double f = M[r][c] / M[c][c];
			for (int k = c; k < D; k++)
				M[r][k] -= f * M[c][k];
			b[r] -= f * b[c];
		}
	}
	for (int c = D - 1; c >= 0; c--) {
		double s = b[c];
		for (int k = c + 1; k < D; k++)
			s -= M[c][k] * x[k];
		x[c] = s / M[c][c];
	}
	return 0;
}

static void test_singular_vectors_are_leverage(void)
{
	double A[N * D], y[N], *U, tau[N], sv[D];
	int64_t rank;
	char err[256];
	matrix(A, y);
	CHECK(wn_vol_top_singular(NULL, A, N, D, D, &U, sv, &rank, err, sizeof err) == 0);
	CHECK_EQ_INT(rank, 3);
	CHECK(sv[0] >= sv[1] && sv[1] >= sv[2] && sv[2] > 0);
	for (int a = 0; a < D; a++)
		for (int b = 0; b < D; b++) {
			double s = 0;
			for (int i = 0; i < N; i++)
				s += U[i * D + a] * U[i * D + b];
			CHECK_NEAR(s, a == b, 1e-12);
		}
	wn_sens_matrix M = {A, NULL, N, D};
	wn_sens_info info;
	CHECK(wn_sens_leverage(&M, 0, tau, &info, err, sizeof err) == 0);
	for (int i = 0; i < N; i++)
		CHECK_NEAR(U[i * D] * U[i * D] + U[i * D + 1] * U[i * D + 1] + U[i * D + 2] * U[i * D + 2],
			   tau[i], 1e-12);
	free(U);
}

/* Inclusion frequencies over T draws against π, for the top m vectors. */
static void inclusion(int m)
{
	double A[N * D], y[N], *U, work[N + D * D];
	int64_t rank, S[D];
	char err[256];
	int count[N] = {0};
	matrix(A, y);
	CHECK(wn_vol_top_singular(NULL, A, N, D, m, &U, NULL, &rank, err, sizeof err) == 0);
	for (int k = 0; k < T; k++) {
		CHECK(wn_vol_dpp_sample(U, N, m, 5, (uint64_t)k, S, work) == 0);
		for (int t = 0; t < m; t++) {
			for (int s = 0; s < t; s++)
				CHECK(S[s] != S[t]);
			count[S[t]]++;
		}
	}
	double total = 0;
	for (int i = 0; i < N; i++) {
		double pi = 0;
		for (int t = 0; t < m; t++)
			pi += U[i * m + t] * U[i * m + t];
		total += pi;
		double f = (double)count[i] / T, sd = sqrt(pi * (1 - pi) / T);
		CHECK_NEAR(f, pi, 5 * sd + 1e-12);
	}
	CHECK_NEAR(total, m, 1e-12);
	free(U);
}

static void test_inclusion_is_leverage(void) { inclusion(3); }
static void test_inclusion_rank2(void) { inclusion(2); }

static void test_least_squares_unbiased(void)
{
	double A[N * D], y[N], *U, work[N + D * D], pi[N];
	int64_t rank, S[D];
	char err[256];
	matrix(A, y);
	CHECK(wn_vol_top_singular(NULL, A, N, D, D, &U, NULL, &rank, err, sizeof err) == 0);
	for (int i = 0; i < N; i++)
		pi[i] = U[i * D] * U[i * D] + U[i * D + 1] * U[i * D + 1] + U[i * D + 2] * U[i * D + 2];
	double G[D][D] = {{0}}, b[D] = {0}, xs[D]; /* the full least squares: AᵀA x = Aᵀy */
	for (int i = 0; i < N; i++)
		for (int a = 0; a < D; a++) {
			b[a] += A[i * D + a] * y[i];
			for (int c = 0; c < D; c++)
				G[a][c] += A[i * D + a] * A[i * D + c];
		}
	CHECK(solve3(G, b, xs) == 0);
	double s1[D] = {0}, s2[D] = {0}, h1 = 0, h2 = 0, fsum = 0;
	for (int i = 0; i < N; i++)
		fsum += y[i] * y[i];
	for (int k = 0; k < T; k++) {
		CHECK(wn_vol_dpp_sample(U, N, D, 11, (uint64_t)k, S, work) == 0);
		double M[D][D], r[D], x[D], h = 0;
		for (int t = 0; t < D; t++) {
			for (int c = 0; c < D; c++)
				M[t][c] = A[S[t] * D + c];
			r[t] = y[S[t]];
			h += y[S[t]] * y[S[t]] / pi[S[t]];
		}
		CHECK(solve3(M, r, x) == 0);
		for (int a = 0; a < D; a++)
			s1[a] += x[a], s2[a] += x[a] * x[a];
		h1 += h, h2 += h * h;
	}
	for (int a = 0; a < D; a++) {
		double mean = s1[a] / T, se = sqrt((s2[a] / T - mean * mean) / T);
		CHECK(se > 0);
		CHECK_NEAR(mean, xs[a], 5 * se);
	}
	double hm = h1 / T, hse = sqrt((h2 / T - hm * hm) / T);
	CHECK_NEAR(hm, fsum, 5 * hse);
	free(U);
}

static void test_threads(void)
{
	double A[N * D], y[N], *U, work[N + D * D];
	int64_t rank, S1[D], S2[D];
	char err[256];
	matrix(A, y);
	CHECK(wn_vol_top_singular(NULL, A, N, D, D, &U, NULL, &rank, err, sizeof err) == 0);
	for (int k = 0; k < 50; k++) {
		omp_set_num_threads(1);
		CHECK(wn_vol_dpp_sample(U, N, D, 3, (uint64_t)k, S1, work) == 0);
		omp_set_num_threads(2);
		CHECK(wn_vol_dpp_sample(U, N, D, 3, (uint64_t)k, S2, work) == 0);
		CHECK(memcmp(S1, S2, sizeof S1) == 0);
	}
	free(U);
}

int main(void)
{
	RUN(test_singular_vectors_are_leverage);
	RUN(test_inclusion_is_leverage);
	RUN(test_inclusion_rank2);
	RUN(test_least_squares_unbiased);
	RUN(test_threads);
	return TEST_EXIT;
}
