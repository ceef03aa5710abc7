/*
 * tests/unit/test_tas.c — selectors/tas.c against hand computations:
 *  - the bin rule: margins [0, 0.05, 0.5, 0.95, 1.0] in 10 bins over
 *    [0, 1] fall in bins [0, 0, 5, 9, 9] (the maximum in the last bin);
 *    equal margins share bin 0;
 *  - the pair draw over an exact 600 x 600 grid of (u_bin, u_pair): the
 *    non-empty bins {0, 5, 9} get a third each, so the pair of margin 0.5
 *    is drawn 1/3 of the time and the four others 1/6 each; equal margins
 *    or none: uniform;
 *  - composition: every batch's queries come from one cluster, are
 *    distinct, number min(B, cluster size); every pair belongs to its
 *    query; the same plan for the same seed, another for another seed;
 *    clusters are drawn about uniformly (within 5 standard errors).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "selectors/tas.h"
#include "test.h"

static void test_bins_by_hand(void)
{
	const double m[5] = {0, 0.05, 0.5, 0.95, 1.0};
	const int want[5] = {0, 0, 5, 9, 9};
	for (int i = 0; i < 5; i++)
		CHECK_EQ_INT(wn_tas_bin(m[i], 0, 1, 10), want[i]);
	CHECK_EQ_INT(wn_tas_bin(3, 3, 3, 10), 0);
	CHECK_EQ_INT(wn_tas_bin(-1.5, -2, 2, 4), 0);  /* [-2,-1) [-1,0) [0,1) [1,2] */
	CHECK_EQ_INT(wn_tas_bin(-1.0, -2, 2, 4), 1);
	CHECK_EQ_INT(wn_tas_bin(0.0, -2, 2, 4), 2);
	CHECK_EQ_INT(wn_tas_bin(2.0, -2, 2, 4), 3);
}

#define G 600

static void grid(const double *m, int64_t np, int64_t *count)
{
	memset(count, 0, sizeof(int64_t) * (size_t)np);
	for (int a = 0; a < G; a++)
		for (int b = 0; b < G; b++)
			count[wn_tas_pick_pair(m, np, 10, (a + 0.5) / G, (b + 0.5) / G)]++;
}

static void test_pair_draw_by_hand(void)
{
	const double m[5] = {0, 0.05, 0.5, 0.95, 1.0}, same[3] = {2, 2, 2};
	int64_t c[5];
	grid(m, 5, c);
	CHECK_EQ_INT(c[2], G * G / 3);
	CHECK_EQ_INT(c[0], G * G / 6);
	CHECK_EQ_INT(c[1], G * G / 6);
	CHECK_EQ_INT(c[3], G * G / 6);
	CHECK_EQ_INT(c[4], G * G / 6);
	grid(same, 3, c);
	CHECK_EQ_INT(c[0], G * G / 3);
	CHECK_EQ_INT(c[1], G * G / 3);
	grid(NULL, 4, c);
	CHECK_EQ_INT(c[0], G * G / 4);
	CHECK_EQ_INT(c[3], G * G / 4);
}

/* 3 clusters of 50, 10 and 2 queries; query q has 1 + q % 4 pairs. */
#define NQ 62
static int64_t qcl[NQ], qoff[NQ + 1], qitem[NQ * 4];
static double marg[NQ * 4];

static void setup(wn_tas_queries *q)
{
	qoff[0] = 0;
	for (int i = 0; i < NQ; i++) {
		qcl[i] = i < 50 ? 2 * (i % 2) : i < 60 ? 1 : 5; /* ids 0, 2, 1, 5: sparse ids */
		int np = 1 + i % 4;
		for (int j = 0; j < np; j++) {
			qitem[qoff[i] + j] = qoff[i] + j;
			marg[qoff[i] + j] = (double)((i * 7 + j * 3) % 11);
		}
		qoff[i + 1] = qoff[i] + np;
	}
	*q = (wn_tas_queries){NQ, qcl, qoff, qitem, marg};
}

static void test_compose(void)
{
	wn_tas_queries q;
	wn_tas_plan p, p2, p3;
	char err[256];
	setup(&q);
	CHECK(wn_tas_compose(&q, 16, 400, 10, 7, &p, err, sizeof err) == 0);
	int64_t per_cluster[6] = {0}, size[6] = {25, 10, 25, 0, 0, 2};
	for (int64_t s = 0; s < p.n;) {
		int64_t b = p.batch[s], e = s, cl = qcl[p.query[s]];
		while (e < p.n && p.batch[e] == b)
			e++;
		CHECK_EQ_INT(e - s, size[cl] < 16 ? size[cl] : 16);
		per_cluster[cl]++;
		for (int64_t i = s; i < e; i++) {
			CHECK_EQ_INT(qcl[p.query[i]], cl);
			CHECK(p.item[i] >= qoff[p.query[i]] && p.item[i] < qoff[p.query[i] + 1]);
			for (int64_t j = s; j < i; j++)
				CHECK(p.query[j] != p.query[i]);
		}
		s = e;
	}
	for (int g = 0; g < 6; g++)
		if (size[g])
			CHECK_NEAR(per_cluster[g], 100, 5 * sqrt(400 * 0.25 * 0.75));
	CHECK(wn_tas_compose(&q, 16, 400, 10, 7, &p2, err, sizeof err) == 0);
	CHECK(wn_tas_compose(&q, 16, 400, 10, 8, &p3, err, sizeof err) == 0);
	CHECK(p.n == p2.n && memcmp(p.item, p2.item, sizeof(int64_t) * (size_t)p.n) == 0);
	CHECK(p.n != p3.n || memcmp(p.item, p3.item, sizeof(int64_t) * (size_t)p.n) != 0);
	wn_tas_plan_free(&p);
	wn_tas_plan_free(&p2);
	wn_tas_plan_free(&p3);
}

int main(void)
{
	RUN(test_bins_by_hand);
	RUN(test_pair_draw_by_hand);
	RUN(test_compose);
	return TEST_EXIT;
}
