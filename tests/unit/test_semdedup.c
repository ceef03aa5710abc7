/*
 * tests/unit/test_semdedup.c — selectors/semdedup: the three-point
 * case (cos(a,b) = cos(b,c) = 0.95, cos(a,c) = 0.85, eps 0.07, order
 * a, b, c: only a is kept; a survivor-greedy pass would keep c too), the
 * stable order rule, the same flags for every tile side (--max-cluster 1,
 * 3, 17, 4096) and at 1 and 2 threads, agreement with a naive double-
 * precision loop of the rule on random clusters, eps monotonicity, eps >= 1
 * keeping each cluster's first member, a cluster id past the centroids,
 * and (where a GPU is usable) the same flags from the CUDA backend's GEMM
 * as from the CPU's, at tile sides 7 and 4096 (no GPU: that case says so
 * and checks nothing; the lead runs it on the device machine).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "selectors/semdedup.h"
#include "tests/unit/test.h"

static wn_core *cpu(int threads)
{
	char err[256];
	return wn_core_open(WN_DEVICE_CPU, threads, err, sizeof err);
}

/* a, b, c as the rows of the Cholesky factor of their Gram matrix. */
static void three_points(float *X)
{
	double b1 = sqrt(1 - 0.95 * 0.95), c1 = (0.95 - 0.85 * 0.95) / b1;
	double c2 = sqrt(1 - 0.85 * 0.85 - c1 * c1);
	float v[9] = {1, 0, 0, 0.95f, (float)b1, 0, 0.85f, (float)c1, (float)c2};
	memcpy(X, v, sizeof v);
}

static void test_three_points(void)
{
	float X[9], C[3];
	three_points(X);
	memcpy(C, X + 6, sizeof C); /* centroid along c: order a (0.15), b (0.05), c (0) */
	int64_t cl[3] = {0, 0, 0};
	double eps = 0.07;
	unsigned char keep[3];
	wn_semdedup_opts o = {&eps, 1, WN_SEMDEDUP_HARD, 0, 4096, 1};
	char err[256] = "";
	wn_core *c = cpu(1);
	CHECK(c);
	CHECK_EQ_INT(wn_semdedup(c, X, 3, 3, cl, C, 1, &o, keep, NULL, err, sizeof err), 0);
	CHECK(keep[0] == 1 && keep[1] == 0 && keep[2] == 0);
	/* nearest first from a centroid along a: the same order a, b, c */
	memcpy(C, X, sizeof C);
	o.keep = WN_SEMDEDUP_EASY;
	CHECK_EQ_INT(wn_semdedup(c, X, 3, 3, cl, C, 1, &o, keep, NULL, err, sizeof err), 0);
	CHECK(keep[0] == 1 && keep[1] == 0 && keep[2] == 0);
	/* farthest first from a: c, b, a: b goes (0.95 to c), a goes (0.95 to b) */
	o.keep = WN_SEMDEDUP_HARD;
	CHECK_EQ_INT(wn_semdedup(c, X, 3, 3, cl, C, 1, &o, keep, NULL, err, sizeof err), 0);
	CHECK(keep[0] == 0 && keep[1] == 0 && keep[2] == 1);
	wn_core_close(c);
}

static void test_order(void)
{
	int64_t pos[5] = {0, 1, 2, 3, 4};
	double dist[5] = {0.1, 0.3, 0.3, 0.2, 0.1};
	wn_semdedup_order(pos, dist, 5, WN_SEMDEDUP_HARD, 0);
	int64_t hard[5] = {1, 2, 3, 0, 4};
	for (int i = 0; i < 5; i++)
		CHECK_EQ_INT(pos[i], hard[i]);
	int64_t p2[5] = {0, 1, 2, 3, 4};
	double d2[5] = {0.1, 0.3, 0.3, 0.2, 0.1};
	wn_semdedup_order(p2, d2, 5, WN_SEMDEDUP_EASY, 0);
	int64_t easy[5] = {4, 0, 3, 2, 1}; /* the hard order reversed, as semdedup.py's [::-1] */
	for (int i = 0; i < 5; i++)
		CHECK_EQ_INT(p2[i], easy[i]);
}

#define N 240
#define D 6
#define K 3

/* Clusters of points near K directions (cosines mostly 0.8 .. 0.999). */
static void random_data(float *X, int64_t *cl)
{
	for (int i = 0; i < N; i++) {
		cl[i] = i % K;
		for (int t = 0; t < D; t++)
			X[i * D + t] = (float)((t == cl[i] ? 3.0 : 0.0) +
					       0.4 * wn_rng_normal(11, 5, (uint64_t)(i * D + t)));
	}
}

/* The rule in the plainest form: double dots, sort by distance, any earlier member. */
static void naive(const float *X, const int64_t *cl, const double *eps, int neps, unsigned char *keep)
{
	double Y[N][D];
	for (int i = 0; i < N; i++) {
		double nn = 0;
		for (int t = 0; t < D; t++)
			nn += (double)X[i * D + t] * X[i * D + t];
		for (int t = 0; t < D; t++)
			Y[i][t] = (float)(X[i * D + t] / sqrt(nn));
	}
	for (int k = 0; k < K; k++) {
		int64_t pos[N];
		double dist[N], c[D] = {0}, cn = 0;
		int m = 0;
		for (int i = 0; i < N; i++)
			if (cl[i] == k)
				pos[m++] = i;
		for (int i = 0; i < m; i++)
			for (int t = 0; t < D; t++)
				c[t] += (float)Y[pos[i]][t];
		for (int t = 0; t < D; t++)
			cn += c[t] * c[t];
		for (int i = 0; i < m; i++) {
			double ip = 0;
			for (int t = 0; t < D; t++)
				ip += (float)Y[pos[i]][t] * c[t];
			dist[i] = 1 - ip / sqrt(cn);
		}
		wn_semdedup_order(pos, dist, m, WN_SEMDEDUP_HARD, 0);
		for (int j = 0; j < m; j++)
			for (int e = 0; e < neps; e++) {
				int removed = 0;
				for (int i = 0; i < j && !removed; i++) {
					double s = 0;
					for (int t = 0; t < D; t++)
						s += (double)(float)Y[pos[i]][t] * (double)(float)Y[pos[j]][t];
					removed = s > 1 - eps[e];
				}
				keep[pos[j] * neps + e] = !removed;
			}
	}
}

static void test_tiles_threads_naive(void)
{
	static float X[N * D];
	static int64_t cl[N];
	static unsigned char ref[N * 4], got[N * 4];
	double eps[4] = {0.002, 0.01, 0.05, 0.2};
	random_data(X, cl);
	naive(X, cl, eps, 4, ref);
	int64_t sides[4] = {1, 3, 17, 4096};
	char err[256] = "";
	for (int th = 1; th <= 2; th++) {
		wn_core *c = cpu(th);
		CHECK(c);
		for (int s = 0; s < 4; s++) {
			wn_semdedup_opts o = {eps, 4, WN_SEMDEDUP_HARD, 0, sides[s], th};
			wn_semdedup_info info;
			CHECK_EQ_INT(wn_semdedup(c, X, N, D, cl, NULL, 0, &o, got, &info, err, sizeof err), 0);
			CHECK(memcmp(got, ref, sizeof got) == 0);
			CHECK_EQ_INT(info.clusters, K);
			CHECK_EQ_INT(info.largest, N / K);
		}
		wn_core_close(c);
	}
	int kept[4] = {0};
	for (int i = 0; i < N; i++)
		for (int e = 0; e < 4; e++) {
			kept[e] += ref[i * 4 + e];
			if (e)  /* nested: kept at a larger eps means kept at a smaller one */
				CHECK(!ref[i * 4 + e] || ref[i * 4 + e - 1]);
		}
	CHECK(kept[0] > kept[1] && kept[1] > kept[2] && kept[2] > kept[3] && kept[3] >= K);
}

static void test_large_eps_and_bad_ids(void)
{
	static float X[N * D];
	static int64_t cl[N];
	static unsigned char keep[N];
	random_data(X, cl);
	double eps = 1.5;
	wn_semdedup_opts o = {&eps, 1, WN_SEMDEDUP_RANDOM, 3, 50, 1};
	char err[256] = "";
	wn_core *c = cpu(1);
	CHECK(c);
	CHECK_EQ_INT(wn_semdedup(c, X, N, D, cl, NULL, 0, &o, keep, NULL, err, sizeof err), 0);
	int kept = 0;
	for (int i = 0; i < N; i++)
		kept += keep[i];
	CHECK_EQ_INT(kept, K); /* the first of each cluster; cosines within a cluster are > -0.5 */
	float C[2 * D] = {0};
	cl[7] = 2; /* one id past the 2 centroid rows */
	for (int i = 0; i < N; i++)
		cl[i] = cl[i] > 1 ? 1 : cl[i];
	cl[7] = 2;
	CHECK_EQ_INT(wn_semdedup(c, X, N, D, cl, C, 2, &o, keep, NULL, err, sizeof err), -1);
	CHECK(strstr(err, "record 7: cluster 2, but the centroids have 2 rows") != NULL);
	wn_core_close(c);
}

static void test_cuda_same_flags(void)
{
	char err[256] = "";
	wn_core *g = wn_core_open(WN_DEVICE_CUDA, 0, err, sizeof err);
	if (!g) {
		printf("note: test_cuda_same_flags: no CUDA here (%s)\n", err);
		return;
	}
	static float X[N * D];
	static int64_t cl[N];
	static unsigned char ref[N * 4], got[N * 4];
	double eps[4] = {0.002, 0.01, 0.05, 0.2};
	random_data(X, cl);
	naive(X, cl, eps, 4, ref);
	int64_t sides[2] = {7, 4096};
	for (int s = 0; s < 2; s++) {
		wn_semdedup_opts o = {eps, 4, WN_SEMDEDUP_HARD, 0, sides[s], 0};
		CHECK_EQ_INT(wn_semdedup(g, X, N, D, cl, NULL, 0, &o, got, NULL, err, sizeof err), 0);
		CHECK(memcmp(got, ref, sizeof got) == 0);
	}
	wn_core_close(g);
}

int main(void)
{
	RUN(test_three_points);
	RUN(test_order);
	RUN(test_tiles_threads_naive);
	RUN(test_large_eps_and_bad_ids);
	RUN(test_cuda_same_flags);
	return TEST_EXIT;
}
