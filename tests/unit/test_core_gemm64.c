/*
 * tests/unit/test_core_gemm64.c — the core's float64 tiled products of
 * float32 rows (core/gemm64.h): every tile is handed over once with its
 * rows (the last one short), each product equals a long double dot product
 * of the same float64 values to within the rounding of d additions, the
 * bits are the same on one thread and on two, and bad sizes are refused.
 *
 * Borrows: a long double loop as the outside reference; core/rng.h for the
 * test matrix.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/gemm64.h"
#include "core/rng.h"
#include "tests/unit/test.h"

#define N 6007 /* N*D*NC above 2^20: the tiles spread over threads */
#define D 37
#define NC 5
#define ROWS 64

struct seen {
	double *P;     /* NC x N, gathered from the tiles */
	int64_t *seen; /* per tile: how often it came, its i0 and m */
	int64_t *i0, *m;
};

static void gather(void *ctx, int64_t t, int64_t i0, int64_t m, const double *P)
{
	struct seen *s = ctx;
	s->seen[t]++;
	s->i0[t] = i0;
	s->m[t] = m;
	for (int c = 0; c < NC; c++)
		for (int64_t r = 0; r < m; r++)
			s->P[(size_t)c * N + (size_t)(i0 + r)] = P[(size_t)c * (size_t)m + r];
}

static float X[N * D];
static double A[NC * D];

static void fill(void)
{
	wn_rng r;
	wn_rng_init(&r, 7, 1);
	for (int i = 0; i < N * D; i++)
		X[i] = (float)(wn_rng_next_uniform(&r) * 4 - 2);
	for (int i = 0; i < NC * D; i++)
		A[i] = wn_rng_next_uniform(&r) * 2 - 1;
}

#define TILES ((N + ROWS - 1) / ROWS)

static int run(int threads, double *P, int64_t *seen, int64_t *i0, int64_t *m)
{
	struct seen s = {P, seen, i0, m};
	memset(seen, 0, sizeof(int64_t) * TILES);
	return wn_core_gemm64_tiles(A, NC, X, N, D, ROWS, threads, gather, &s);
}

static void test_tiles_and_products(void)
{
	static double P[NC * N];
	int64_t seen[TILES], i0[TILES], m[TILES];
	fill();
	CHECK_EQ_INT(run(2, P, seen, i0, m), 0);
	for (int t = 0; t < TILES; t++) {
		CHECK_EQ_INT(seen[t], 1);
		CHECK_EQ_INT(i0[t], (int64_t)t * ROWS);
		CHECK_EQ_INT(m[t], t < TILES - 1 ? ROWS : N - (TILES - 1) * ROWS);
	}
	for (int c = 0; c < NC; c++)
		for (int i = 0; i < N; i++) {
			long double ref = 0, mag = 0;
			for (int j = 0; j < D; j++) {
				ref += (long double)A[c * D + j] * (long double)X[i * D + j];
				mag += fabsl((long double)A[c * D + j] * (long double)X[i * D + j]);
			}
			double tol = (double)mag * D * 0x1p-52;
			CHECK_NEAR(P[(size_t)c * N + i], (double)ref, tol);
		}
}

static void test_same_bits_any_thread_count(void)
{
	static double P1[NC * N], P2[NC * N];
	int64_t seen[TILES], i0[TILES], m[TILES];
	fill();
	CHECK_EQ_INT(run(1, P1, seen, i0, m), 0);
	CHECK_EQ_INT(run(2, P2, seen, i0, m), 0);
	CHECK(memcmp(P1, P2, sizeof P1) == 0);
}

static void test_bad_sizes(void)
{
	int64_t seen[TILES], i0[TILES], m[TILES];
	struct seen s = {NULL, seen, i0, m};
	CHECK_EQ_INT(wn_core_gemm64_tiles(A, 0, X, N, D, ROWS, 1, gather, &s), WN_CORE_EINVAL);
	CHECK_EQ_INT(wn_core_gemm64_tiles(A, NC, X, 0, D, ROWS, 1, gather, &s), WN_CORE_EINVAL);
	CHECK_EQ_INT(wn_core_gemm64_tiles(A, NC, X, N, 0, ROWS, 1, gather, &s), WN_CORE_EINVAL);
	CHECK_EQ_INT(wn_core_gemm64_tiles(A, NC, X, N, D, 0, 1, gather, &s), WN_CORE_EINVAL);
	CHECK_EQ_INT(wn_core_gemm64_tiles(A, NC, X, N, (int64_t)1 << 32, ROWS, 1, gather, &s),
		     WN_CORE_EINVAL);
}

int main(void)
{
	RUN(test_tiles_and_products);
	RUN(test_same_bits_any_thread_count);
	RUN(test_bad_sizes);
	return TEST_EXIT;
}
