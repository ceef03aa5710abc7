/*
 * tests/unit/test_facility.c — selectors/facility.c against brute force on
 * 30 points (issue 19): the similarity is the dense cosine matrix of 30
 * random vectors (clamped at 0); the reference greedy recomputes
 * F(S ∪ {j}) from its definition for every candidate at every step.
 *  - lazy greedy and plain greedy pick the reference's sequence, with the
 *    reference's objective after each step;
 *  - the knapsack (costs 1..4): the reference cost-benefit greedy plus the
 *    best-single rule, the budget respected;
 *  - the kNN form with k = n − 1 equals the dense form;
 *  - stochastic greedy: the same seed gives the same run at 1 and 2
 *    threads, and at ε = 0.01 its objective is within 10% of lazy greedy's.
 */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "selectors/facility.h"
#include "test.h"

enum { N = 30, D = 6 };

static void cosine_matrix(double *S, uint64_t seed)
{
	double X[N][D];
	wn_rng r;
	wn_rng_init(&r, seed, 5);
	for (int i = 0; i < N; i++) {
		double s = 0;
		for (int t = 0; t < D; t++)
			X[i][t] = wn_rng_next_uniform(&r) - 0.3, s += X[i][t] * X[i][t];
		for (int t = 0; t < D; t++)
			X[i][t] /= sqrt(s);
	}
	for (int i = 0; i < N; i++)
		for (int j = 0; j < N; j++) {
			double c = 0;
			for (int t = 0; t < D; t++)
				c += X[i][t] * X[j][t];
			S[i * N + j] = i == j ? 1.0 : c > 0 ? c : 0;
		}
}

/* F(S) by its definition on the dense matrix. */
static double F(const double *S, const int *set, int m)
{
	double v = 0;
	for (int i = 0; i < N; i++) {
		double best = 0;
		for (int t = 0; t < m; t++)
			best = S[i * N + set[t]] > best ? S[i * N + set[t]] : best;
		v += best;
	}
	return v;
}

/* The reference: greedy by (F(S+j) − F(S)) / cost, ties to the smaller j. */
static int brute(const double *S, const double *cost, double budget, int *set, double *obj)
{
	int m = 0, used[N] = {0};
	double left = budget;
	for (;;) {
		int best = -1;
		double bk = 0, base = F(S, set, m);
		for (int j = 0; j < N; j++) {
			double c = cost ? cost[j] : 1;
			if (used[j] || c > left)
				continue;
			set[m] = j;
			double k = (F(S, set, m + 1) - base) / c;
			if (best < 0 || k > bk + 1e-12)
				best = j, bk = k;
		}
		if (best < 0)
			return m;
		used[best] = 1, set[m] = best, left -= cost ? cost[best] : 1;
		obj[m] = F(S, set, m + 1);
		m++;
	}
}

static void check_same(const wn_fl_result *r, const int *set, const double *obj, int m)
{
	CHECK_EQ_INT(r->m, m);
	for (int t = 0; t < m; t++) {
		CHECK_EQ_INT(r->order[t], set[t]);
		CHECK_NEAR(r->objective[t], obj[t], 1e-12);
	}
}

static void test_lazy_and_plain_equal_brute_force(void)
{
	double S[N * N], obj[N];
	int set[N];
	char err[256];
	for (uint64_t seed = 1; seed <= 5; seed++) {
		cosine_matrix(S, seed);
		wn_fl_problem p;
		CHECK(wn_fl_from_dense(&p, N, S) == 0);
		int m = brute(S, NULL, 12, set, obj);
		CHECK_EQ_INT(m, 12);
		for (int method = WN_FL_LAZY; method <= WN_FL_PLAIN; method++) {
			wn_fl_opts o = {method, 12, NULL, 0, 0};
			wn_fl_result r;
			CHECK(wn_fl_greedy(&p, &o, &r, err, sizeof err) == 0);
			check_same(&r, set, obj, m);
			CHECK_NEAR(wn_fl_value(&p, r.order, r.m), obj[m - 1], 1e-12);
			if (method == WN_FL_LAZY)
				CHECK(r.evals < 12 * N); /* lazy re-evaluates far fewer than plain */
			wn_fl_result_free(&r);
		}
		wn_fl_free(&p);
	}
}

static void test_knapsack(void)
{
	double S[N * N], obj[N], cost[N];
	int set[N];
	char err[256];
	cosine_matrix(S, 9);
	for (int j = 0; j < N; j++)
		cost[j] = 1 + j % 4;
	wn_fl_problem p;
	CHECK(wn_fl_from_dense(&p, N, S) == 0);
	int m = brute(S, cost, 15, set, obj);
	wn_fl_opts o = {WN_FL_LAZY, 15, cost, 0, 0};
	wn_fl_result r;
	CHECK(wn_fl_greedy(&p, &o, &r, err, sizeof err) == 0);
	int single = -1; /* the best single record fits (costs <= 4) but covers far less */
	for (int j = 0; j < N; j++)
		if (single < 0 || F(S, &j, 1) > F(S, &single, 1))
			single = j;
	CHECK(F(S, &single, 1) < obj[m - 1]);
	CHECK(!r.single);
	check_same(&r, set, obj, m);
	CHECK(r.cost_used <= 15);
	double used = 0;
	for (int t = 0; t < m; t++)
		used += cost[set[t]];
	CHECK_NEAR(r.cost_used, used, 0);
	wn_fl_result_free(&r);
	/* a budget that only the single best record's cost... every record costs 4: 1 fits */
	for (int j = 0; j < N; j++)
		cost[j] = 4;
	o.budget = 4;
	CHECK(wn_fl_greedy(&p, &o, &r, err, sizeof err) == 0);
	CHECK_EQ_INT(r.m, 1);
	CHECK_EQ_INT(r.order[0], single);
	wn_fl_result_free(&r);
	wn_fl_free(&p);
}

static void test_knn_form_equals_dense(void)
{
	double S[N * N];
	int64_t nbr[N * (N - 1)];
	float sim[N * (N - 1)], self[N];
	char err[256];
	cosine_matrix(S, 3);
	for (int i = 0; i < N; i++) {
		int t = 0;
		self[i] = 1;
		for (int j = N - 1; j >= 0; j--) /* any order: the lists are by point */
			if (j != i)
				nbr[i * (N - 1) + t] = j, sim[i * (N - 1) + t++] = (float)S[i * N + j];
	}
	for (int i = 0; i < N; i++)
		for (int j = 0; j < N; j++)
			S[i * N + j] = i == j ? 1.0 : (double)(float)S[i * N + j];
	wn_fl_problem a, b;
	CHECK(wn_fl_from_dense(&a, N, S) == 0);
	CHECK(wn_fl_from_knn(&b, N, N - 1, nbr, sim, self) == 0);
	wn_fl_opts o = {WN_FL_LAZY, 10, NULL, 0, 0};
	wn_fl_result ra, rb;
	CHECK(wn_fl_greedy(&a, &o, &ra, err, sizeof err) == 0);
	CHECK(wn_fl_greedy(&b, &o, &rb, err, sizeof err) == 0);
	CHECK_EQ_INT(ra.m, rb.m);
	for (int t = 0; t < ra.m; t++) {
		CHECK_EQ_INT(ra.order[t], rb.order[t]);
		CHECK(ra.objective[t] == rb.objective[t]);
	}
	wn_fl_result_free(&ra), wn_fl_result_free(&rb);
	wn_fl_free(&a), wn_fl_free(&b);
}

static void test_stochastic(void)
{
	double S[N * N];
	char err[256];
	cosine_matrix(S, 4);
	wn_fl_problem p;
	CHECK(wn_fl_from_dense(&p, N, S) == 0);
	wn_fl_opts lz = {WN_FL_LAZY, 8, NULL, 0, 0}, st = {WN_FL_STOCHASTIC, 8, NULL, 0.01, 42};
	wn_fl_result a, b, c;
	CHECK(wn_fl_greedy(&p, &lz, &a, err, sizeof err) == 0);
	omp_set_num_threads(1);
	CHECK(wn_fl_greedy(&p, &st, &b, err, sizeof err) == 0);
	omp_set_num_threads(2);
	CHECK(wn_fl_greedy(&p, &st, &c, err, sizeof err) == 0);
	CHECK_EQ_INT(b.m, 8);
	CHECK(memcmp(b.order, c.order, sizeof(int64_t) * 8) == 0);
	CHECK(b.objective[7] >= 0.9 * a.objective[7]);
	wn_fl_result_free(&a), wn_fl_result_free(&b), wn_fl_result_free(&c);
	st.epsilon = 1.5;
	CHECK(wn_fl_greedy(&p, &st, &a, err, sizeof err) == -1);
	CHECK(strstr(err, "epsilon") != NULL);
	wn_fl_free(&p);
}

int main(void)
{
	RUN(test_lazy_and_plain_equal_brute_force);
	RUN(test_knapsack);
	RUN(test_knn_form_equals_dense);
	RUN(test_stochastic);
	return TEST_EXIT;
}
