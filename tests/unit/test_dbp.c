/*
 * tests/unit/test_dbp.c — Density-Based Pruning's numbers (selectors/dbp.c)
 * and the prototypes' centroids and selection (selectors/prototypes.c) on
 * hand-computed inputs: the worked examples, d_inter from known
 * centroid angles, the NaN rule, and quotas that sum to M inside their
 * bounds on random instances.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "selectors/dbp.h"
#include "selectors/prototypes.h"
#include "tests/unit/test.h"

static char err[256];

static int quota(const double *intra, const double *inter, const size_t *sizes, size_t k,
		 size_t M, double tau, double balance, size_t *q, size_t *lb)
{
	double c[16], p[16];
	wn_dbp_quotas Q = {c, p, lb, q};
	return wn_dbp_quota(intra, inter, sizes, k, M, tau, balance, &Q, err, sizeof err);
}

/* issue 20: d_intra [0.2,0.4], d_inter [0.5,0.5], tau 0.5, M 100 */
static void test_worked_examples(void)
{
	double intra[2] = {0.2, 0.4}, inter[2] = {0.5, 0.5};
	size_t sizes[2] = {200, 200}, q[2], lb[2];
	CHECK_EQ_INT(quota(intra, inter, sizes, 2, 100, 0.5, 0.5, q, lb), 0);
	CHECK(q[0] == 45 && q[1] == 55);
	CHECK(lb[0] == 25 && lb[1] == 25);
	sizes[0] = 30;
	CHECK_EQ_INT(quota(intra, inter, sizes, 2, 100, 0.5, 0.5, q, lb), 0);
	CHECK(q[0] == 30 && q[1] == 70);
	/* balance 0: the reference's min_samples 1 */
	CHECK_EQ_INT(quota(intra, inter, sizes, 2, 100, 0.5, 0, q, lb), 0);
	CHECK(lb[0] == 1 && lb[1] == 1);
}

/* A NaN complexity takes the mean of the others: [0.1, NaN, 0.3] -> the
 * middle one gets 0.2; P = [1, e^0.2, e^0.4] / sum. */
static void test_nan_rule(void)
{
	double intra[3] = {0.1, NAN, 0.3}, inter[3] = {1, 1, 1}, c[3], p[3];
	size_t sizes[3] = {100, 100, 100}, q[3], lb[3];
	wn_dbp_quotas Q = {c, p, lb, q};
	CHECK_EQ_INT(wn_dbp_quota(intra, inter, sizes, 3, 90, 0.5, 0.5, &Q, err, sizeof err), 0);
	CHECK_NEAR(c[1], 0.2, 1e-15);
	double e = exp(0.2), z = 1 + e + e * e; /* shifted by the max: exp((c - 0.3) / 0.5) */
	CHECK_NEAR(p[0], 1 / z, 1e-12);
	CHECK_NEAR(p[2], e * e / z, 1e-12);
	CHECK(q[0] == 24 && q[1] == 30 && q[2] == 36); /* 90 P = [24.24, 29.61, 36.16] */
	CHECK_EQ_INT(q[0] + q[1] + q[2], 90);
}

/* Centroids at 0, 60 and 90 degrees in a plane: cosines 0.5, 0, 0.5 ->
 * with one neighbour d_inter = [0.5, 1 - cos 30, 1 - cos 30]; with all
 * others the means of both. */
static void test_inter(void)
{
	float C[6] = {1, 0, 0.5f, (float)sqrt(0.75), 0, 1};
	double di[3];
	CHECK_EQ_INT(wn_dbp_inter(C, 3, 2, 1, di, err, sizeof err), 0);
	CHECK_NEAR(di[0], 0.5, 1e-7);
	CHECK_NEAR(di[1], 1 - sqrt(0.75), 1e-7);
	CHECK_NEAR(di[2], 1 - sqrt(0.75), 1e-7);
	CHECK_EQ_INT(wn_dbp_inter(C, 3, 2, 20, di, err, sizeof err), 0);
	CHECK_NEAR(di[0], (0.5 + 1) / 2, 1e-7);
	CHECK_NEAR(di[1], (0.5 + 1 - sqrt(0.75)) / 2, 1e-7);
	CHECK_EQ_INT(wn_dbp_inter(C, 1, 2, 20, di, err, sizeof err), 0);
	CHECK(isnan(di[0])); /* one cluster: no neighbour */
}

/* Random instances: quotas sum to M, lb <= q <= size, lb as the formula. */
static void test_random_bounds(void)
{
	uint64_t st = 99;
	for (int rep = 0; rep < 300; rep++) {
		enum { K = 12 };
		double intra[K], inter[K];
		size_t sizes[K], q[K], lb[K], n = 0;
		for (int j = 0; j < K; j++) {
			st = st * 6364136223846793005ull + 1442695040888963407ull;
			sizes[j] = 1 + (size_t)(st >> 58);
			intra[j] = (double)((st >> 30) % 1000) / 1000;
			inter[j] = (double)((st >> 10) % 1000) / 1000;
			n += sizes[j];
		}
		size_t M = 1 + (size_t)rep * n / 300;
		double bal = (rep % 5) / 4.0 + 0.001;
		CHECK_EQ_INT(quota(intra, inter, sizes, K, M, 0.1 + rep % 3, bal > 1 ? 1 : bal, q, lb), 0);
		size_t s = 0, ms = (size_t)floor((double)M / K * (bal > 1 ? 1 : bal));
		for (int j = 0; j < K; j++) {
			CHECK(q[j] >= lb[j] && q[j] <= sizes[j]);
			CHECK_EQ_INT(lb[j], ms < sizes[j] - 1 ? ms : sizes[j] - 1);
			s += q[j];
		}
		CHECK_EQ_INT(s, M);
	}
}

/* Spherical centroids: the normalised mean of unit rows; distance 1 - cos. */
static void test_proto_centroids(void)
{
	float X[8] = {0.8f, 0.6f, 0.8f, -0.6f, 0, 1, 1, 0};
	int64_t cl[4] = {0, 0, 1, 1}, sizes[2];
	float C[4];
	double dist[4];
	CHECK_EQ_INT(wn_proto_centroids(X, cl, 4, 2, 2, C, sizes), 0);
	CHECK(sizes[0] == 2 && sizes[1] == 2);
	CHECK_NEAR(C[0], 1, 1e-7);
	CHECK_NEAR(C[1], 0, 1e-7);
	CHECK_NEAR(C[2], sqrt(0.5), 1e-7);
	wn_proto_dist(X, cl, 4, 2, C, dist);
	CHECK_NEAR(dist[0], 0.2, 1e-7);
	CHECK_NEAR(dist[2], 1 - sqrt(0.5), 1e-7);
	unsigned char keep[4];
	CHECK_EQ_INT(wn_proto_select(dist, cl, 4, 2, 0.5, 0, 0, keep, err, sizeof err), 2);
	CHECK(keep[2] && keep[3] && !keep[0] && !keep[1]); /* 0.293 > 0.2 */
	CHECK_EQ_INT(wn_proto_select(dist, cl, 4, 2, 0.5, 0, 1, keep, err, sizeof err), 2);
	CHECK(keep[0] && keep[2]); /* one per cluster, ties to the earlier */
	size_t qt[2] = {2, 0};
	CHECK_EQ_INT(wn_proto_keep_quota(dist, cl, 4, 2, qt, 1, keep, err, sizeof err), 0);
	CHECK(keep[0] && keep[1] && !keep[2] && !keep[3]);
}

int main(void)
{
	RUN(test_worked_examples);
	RUN(test_nan_rule);
	RUN(test_inter);
	RUN(test_random_bounds);
	RUN(test_proto_centroids);
	return TEST_EXIT;
}
