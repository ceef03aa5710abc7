/*
 * tests/unit/test_rds.c — selectors/rds.c against hand round-robins:
 *  - pool x0..x4 = (1,0) (.8,.6) (0,1) (.6,.8) (-1,0), queries (1,0) and
 *    (0,1): rankings [0,1,3,2,4] and [2,3,1,0,4] (x0 and x4 tie at 0:
 *    the lower index first); budget 3 → [0,2,1] (the last round cut in
 *    query order), 4 → [0,2,1,3], 5 → [0,2,1,3,4] after wasted offers;
 *  - tasks {q0,q1} and {(-1,0)}: task 0 ranks by the max, [0,2,1,3,4],
 *    task 1 [4,2,3,1,0]; budget 4 → [0,4,2,1] (task 1's x2 wasted);
 *  - the budget is exact and the picks equal a brute-force round-robin
 *    over full sorted rankings on a random pool where the rounds run past
 *    the first slice of the rankings (many wasted offers), so later slices
 *    are computed; the same at 1 and 2 threads.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/rng.h"
#include "selectors/rds.h"
#include "test.h"

static wn_core *cpu(int threads)
{
	char err[256];
	return wn_core_open(WN_DEVICE_CPU, threads, err, sizeof err);
}

static const float POOL[10] = {1, 0, 0.8f, 0.6f, 0, 1, 0.6f, 0.8f, -1, 0};

static int run(const float *Q0, int64_t m, const int64_t *task, int64_t T, int64_t budget,
	       int64_t *items, int64_t *np)
{
	float Q[6], X[10];
	wn_rds_pick out[5];
	char err[256];
	memcpy(Q, Q0, sizeof(float) * (size_t)(m * 2));
	memcpy(X, POOL, sizeof X);
	wn_core *c = cpu(1);
	int rc = c ? wn_rds_select(c, Q, m, task, T, X, 5, 2, budget, out, np, err, sizeof err) : -1;
	for (int64_t k = 0; rc == 0 && k < *np; k++)
		items[k] = out[k].item;
	wn_core_close(c);
	return rc;
}

static void test_round_robin_by_hand(void)
{
	const float Q[4] = {1, 0, 0, 1};
	int64_t it[5], np;
	CHECK(run(Q, 2, NULL, 0, 3, it, &np) == 0);
	CHECK_EQ_INT(np, 3);
	CHECK_EQ_INT(it[0], 0); CHECK_EQ_INT(it[1], 2); CHECK_EQ_INT(it[2], 1);
	CHECK(run(Q, 2, NULL, 0, 4, it, &np) == 0);
	CHECK_EQ_INT(np, 4);
	CHECK_EQ_INT(it[3], 3);
	CHECK(run(Q, 2, NULL, 0, 5, it, &np) == 0);
	CHECK_EQ_INT(np, 5);
	CHECK_EQ_INT(it[4], 4);
	CHECK(run(Q, 2, NULL, 0, 99, it, &np) == 0);
	CHECK_EQ_INT(np, 5);
}

static void test_tasks_by_hand(void)
{
	const float Q[6] = {1, 0, 0, 1, -1, 0};
	const int64_t task[3] = {0, 0, 1};
	int64_t it[5], np;
	CHECK(run(Q, 3, task, 2, 4, it, &np) == 0);
	CHECK_EQ_INT(np, 4);
	CHECK_EQ_INT(it[0], 0); CHECK_EQ_INT(it[1], 4); CHECK_EQ_INT(it[2], 2); CHECK_EQ_INT(it[3], 1);
}

#define N 400
#define M 3
#define D 6

struct ent { float s; int64_t i; };

static int cmp_ent(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;
	if (x->s != y->s)
		return x->s > y->s ? -1 : 1;
	return (x->i > y->i) - (x->i < y->i);
}

static void unit(float *v)
{
	double s = 0;
	for (int j = 0; j < D; j++)
		s += (double)v[j] * v[j];
	for (int j = 0; j < D; j++)
		v[j] = (float)(v[j] / sqrt(s));
}

/* Full rankings by float dot products of the unit rows, then the round-robin. */
static int64_t brute(const float *Q, const float *X, int64_t budget, int64_t *items)
{
	static struct ent rank[M][N];
	unsigned char sel[N] = {0};
	for (int q = 0; q < M; q++) {
		for (int i = 0; i < N; i++) {
			float s = 0;
			for (int j = 0; j < D; j++)
				s += Q[q * D + j] * X[i * D + j];
			rank[q][i] = (struct ent){s, i};
		}
		qsort(rank[q], N, sizeof(struct ent), cmp_ent);
	}
	int64_t k = 0;
	for (int r = 0; r < N && k < budget; r++)
		for (int q = 0; q < M && k < budget; q++)
			if (!sel[rank[q][r].i]) {
				sel[rank[q][r].i] = 1;
				items[k++] = rank[q][r].i;
			}
	return k;
}

static void test_budget_exact_and_brute_force(void)
{
	static float Q[M * D], X[N * D], Qc[M * D], Xc[N * D];
	static wn_rds_pick out[N];
	static int64_t want[N];
	char err[256];
	/* three queries close together: their rankings overlap, many offers are wasted */
	for (int q = 0; q < M; q++) {
		for (int j = 0; j < D; j++)
			Q[q * D + j] = (float)(1.0 + 0.05 * wn_rng_normal(3, 1, (uint64_t)(q * D + j)));
		unit(Q + q * D);
	}
	for (int i = 0; i < N * D; i++)
		X[i] = (float)wn_rng_normal(3, 2, (uint64_t)i);
	for (int i = 0; i < N; i++)
		unit(X + i * D);
	for (int th = 1; th <= 2; th++)
		for (int64_t budget = 1; budget <= 301; budget += 50) {
			memcpy(Qc, Q, sizeof Q);
			memcpy(Xc, X, sizeof X);
			wn_core *c = cpu(th);
			int64_t np = -1;
			CHECK(c && wn_rds_select(c, Qc, M, NULL, 0, Xc, N, D, budget, out, &np, err, sizeof err) == 0);
			wn_core_close(c);
			CHECK_EQ_INT(np, budget);
			int64_t nw = brute(Q, X, budget, want);
			CHECK_EQ_INT(nw, budget);
			for (int64_t k = 0; k < np; k++)
				CHECK_EQ_INT(out[k].item, want[k]);
			/* the rounds ran past the first slice, max(32, 2 ceil(budget / M)) deep */
			int64_t d0 = 2 * ((budget + M - 1) / M);
			CHECK(budget == 1 || out[np - 1].round >= (d0 < 32 ? 32 : d0));
		}
}

int main(void)
{
	RUN(test_round_robin_by_hand);
	RUN(test_tasks_by_hand);
	RUN(test_budget_exact_and_brute_force);
	return TEST_EXIT;
}
