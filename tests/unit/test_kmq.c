/*
 * tests/unit/test_kmq.c — selectors/kmq.c against hand computations:
 *  - quotas: sizes [10,3,50,7], N = 20: paper (∝ size, largest remainder,
 *    ties to the lower id) [3,1,14,2]; code (water-filled equal shares)
 *    level 5 gives [5,3,5,5] = 18, the 2 left to clusters 0 and 2:
 *    [6,3,6,5]; N above Σ size in code mode gives the sizes;
 *  - a draw realises the quotas exactly per cluster, code mode draws
 *    distinct items, weight-0 items are never drawn in paper mode;
 *  - paper mode's P(i) ∝ s_i and code mode's softmax, by frequencies over
 *    seeds (within 5 standard errors);
 *  - rounds: budgets N/R sum to N and no item is drawn by two rounds;
 *  - the same draw for the same seed, another for another seed; errors.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "selectors/kmq.h"
#include "selectors/pool.h"
#include "test.h"

static void test_quotas_by_hand(void)
{
	int64_t size[4] = {10, 3, 50, 7}, q[4];
	char err[256];
	CHECK(wn_kmq_quotas(size, 4, 20, WN_KMQ_PAPER, q, err, sizeof err) == 0);
	CHECK_EQ_INT(q[0], 3); CHECK_EQ_INT(q[1], 1); CHECK_EQ_INT(q[2], 14); CHECK_EQ_INT(q[3], 2);
	CHECK(wn_kmq_quotas(size, 4, 20, WN_KMQ_CODE, q, err, sizeof err) == 0);
	CHECK_EQ_INT(q[0], 6); CHECK_EQ_INT(q[1], 3); CHECK_EQ_INT(q[2], 6); CHECK_EQ_INT(q[3], 5);
	CHECK(wn_kmq_quotas(size, 4, 18, WN_KMQ_CODE, q, err, sizeof err) == 0);
	CHECK_EQ_INT(q[0], 5); CHECK_EQ_INT(q[1], 3); CHECK_EQ_INT(q[2], 5); CHECK_EQ_INT(q[3], 5);
	CHECK(wn_kmq_quotas(size, 4, 1000, WN_KMQ_CODE, q, err, sizeof err) == 0);
	CHECK_EQ_INT(q[0], 10); CHECK_EQ_INT(q[1], 3); CHECK_EQ_INT(q[2], 50); CHECK_EQ_INT(q[3], 7);
	CHECK(wn_kmq_quotas(size, 4, 140, WN_KMQ_PAPER, q, err, sizeof err) == 0);
	CHECK_EQ_INT(q[0], 20); CHECK_EQ_INT(q[1], 6); CHECK_EQ_INT(q[2], 100); CHECK_EQ_INT(q[3], 14);
}

#define N 70

/* The pool of the hand example: clusters of sizes 10, 3, 50, 7. */
static void pool(int64_t *cl, double *s)
{
	for (int i = 0; i < N; i++) {
		cl[i] = i < 10 ? 0 : i < 13 ? 1 : i < 63 ? 2 : 3;
		s[i] = (double)(i % 5);   /* 0 .. 4: every fifth item weighs 0 */
	}
}

static void test_draws_meet_quotas(void)
{
	int64_t cl[N], count[N], drawn, per[4];
	int32_t round[N];
	double s[N];
	char err[256];
	pool(cl, s);
	wn_kmq_params p = {WN_KMQ_CODE, 20, 1, 7, 1};
	CHECK(wn_kmq_select(cl, s, N, 4, &p, count, round, &drawn, err, sizeof err) == 0);
	CHECK_EQ_INT(drawn, 20);
	memset(per, 0, sizeof per);
	for (int i = 0; i < N; i++) {
		CHECK(count[i] == 0 || count[i] == 1);
		per[cl[i]] += count[i];
		CHECK((count[i] != 0) == (round[i] == 0));
	}
	CHECK_EQ_INT(per[0], 6); CHECK_EQ_INT(per[1], 3); CHECK_EQ_INT(per[2], 6); CHECK_EQ_INT(per[3], 5);
	/* paper: weight-0 items are out, sizes are 8, 2, 40, 6 (of 56): 20 -> [3, 1, 14, 2] */
	p.mode = WN_KMQ_PAPER;
	CHECK(wn_kmq_select(cl, s, N, 4, &p, count, round, &drawn, err, sizeof err) == 0);
	CHECK_EQ_INT(drawn, 20);
	memset(per, 0, sizeof per);
	for (int i = 0; i < N; i++) {
		per[cl[i]] += count[i];
		CHECK(s[i] > 0 || count[i] == 0);
	}
	CHECK_EQ_INT(per[0], 3); CHECK_EQ_INT(per[1], 1); CHECK_EQ_INT(per[2], 14); CHECK_EQ_INT(per[3], 2);
}

/* One cluster of 4 items of quality [1, 2, 3, 4]; draw 1 item R times. */
static void frequencies(int mode, double *freq, int reps)
{
	int64_t cl[4] = {0, 0, 0, 0}, count[4], drawn;
	int32_t round[4];
	double s[4] = {1, 2, 3, 4};
	char err[256];
	memset(freq, 0, 4 * sizeof *freq);
	for (int r = 0; r < reps; r++) {
		wn_kmq_params p = {mode, 1, 1, (uint64_t)r, 1};
		if (wn_kmq_select(cl, s, 4, 1, &p, count, round, &drawn, err, sizeof err))
			return;
		for (int i = 0; i < 4; i++)
			freq[i] += (double)count[i] / reps;
	}
}

static void test_probabilities(void)
{
	const int R = 20000;
	double f[4], z = 0;
	frequencies(WN_KMQ_PAPER, f, R);
	for (int i = 0; i < 4; i++) {
		double p = (i + 1) / 10.0;
		CHECK_NEAR(f[i], p, 5 * sqrt(p * (1 - p) / R));
	}
	frequencies(WN_KMQ_CODE, f, R);
	for (int i = 0; i < 4; i++)
		z += exp(i + 1);
	for (int i = 0; i < 4; i++) {
		double p = exp(i + 1) / z;
		CHECK_NEAR(f[i], p, 5 * sqrt(p * (1 - p) / R));
	}
}

static void test_rounds(void)
{
	int64_t cl[N], count[N], drawn, per_round[3] = {0, 0, 0};
	int32_t round[N];
	double s[N];
	char err[256];
	pool(cl, s);
	wn_kmq_params p = {WN_KMQ_CODE, 32, 3, 1, 1}; /* 11 + 11 + 10 */
	CHECK(wn_kmq_select(cl, s, N, 4, &p, count, round, &drawn, err, sizeof err) == 0);
	CHECK_EQ_INT(drawn, 32);
	for (int i = 0; i < N; i++) {
		CHECK(count[i] <= 1);
		if (count[i])
			per_round[round[i]]++;
	}
	CHECK_EQ_INT(per_round[0], 11); CHECK_EQ_INT(per_round[1], 11); CHECK_EQ_INT(per_round[2], 10);
}

static void test_seeds_and_errors(void)
{
	int64_t cl[N], a[N], b[N], c[N], drawn;
	int32_t round[N];
	double s[N];
	char err[256];
	pool(cl, s);
	wn_kmq_params p = {WN_KMQ_PAPER, 30, 2, 5, 1};
	CHECK(wn_kmq_select(cl, s, N, 4, &p, a, round, &drawn, err, sizeof err) == 0);
	p.threads = 2;
	CHECK(wn_kmq_select(cl, s, N, 4, &p, b, round, &drawn, err, sizeof err) == 0);
	CHECK(memcmp(a, b, sizeof a) == 0);
	p.seed = 6;
	CHECK(wn_kmq_select(cl, s, N, 4, &p, c, round, &drawn, err, sizeof err) == 0);
	CHECK(memcmp(a, c, sizeof a) != 0);
	s[3] = -1;
	CHECK(wn_kmq_select(cl, s, N, 4, &p, a, round, &drawn, err, sizeof err) == -1);
	CHECK(strstr(err, "quality of item 3 is negative") != NULL);
	s[3] = 1;
	cl[5] = 9;
	CHECK(wn_kmq_select(cl, s, N, 4, &p, a, round, &drawn, err, sizeof err) == -1);
	CHECK(strstr(err, "cluster id 9 of item 5 is not in [0, 4)") != NULL);
}

/* What a cluster id is for kmq, mig, tas and dedup semantic. */
static void test_cluster_id(void)
{
	const char *rec = "{\"a\":{\"c\":7},\"n\":-1,\"f\":1.5,\"s\":\"3\",\"z\":0,\"e\":2e3}";
	wn_span j = {rec, strlen(rec)};
	int64_t c = -5;
	CHECK(wn_pool_cluster_id(j, "a.c", &c) == 1 && c == 7);
	CHECK(wn_pool_cluster_id(j, "z", &c) == 1 && c == 0);
	CHECK(wn_pool_cluster_id(j, "e", &c) == 1 && c == 2000);
	c = 42;
	CHECK_EQ_INT(wn_pool_cluster_id(j, "missing", &c), 0);
	CHECK_EQ_INT(wn_pool_cluster_id(j, "a.x", &c), 0);
	CHECK_EQ_INT(wn_pool_cluster_id(j, "n", &c), -1);
	CHECK_EQ_INT(wn_pool_cluster_id(j, "f", &c), -1);
	CHECK_EQ_INT(wn_pool_cluster_id(j, "s", &c), -1);
	CHECK_EQ_INT(wn_pool_cluster_id(j, "a", &c), -1);
	CHECK(c == 42); /* untouched unless 1 */
}

int main(void)
{
	RUN(test_quotas_by_hand);
	RUN(test_draws_meet_quotas);
	RUN(test_probabilities);
	RUN(test_rounds);
	RUN(test_seeds_and_errors);
	RUN(test_cluster_id);
	return TEST_EXIT;
}
