/*
 * tests/unit/test_sources.c — selectors/sources*.c against the worked
 * values of issue 21 (hand computations of the official formulas, checked
 * with a short numpy-free Python transcription of objective.py):
 *  - QQT utility with repetition: a=0.022, d=0.1, S=12.8M, b=-0.2, tau=4,
 *    n=32M -> 0.787269;
 *  - mixing pools (-0.25,3), (-0.15,6), 12.8M each: n=38.4M top-1 0.712901,
 *    top-2 0.750223; n=640M 0.641455 vs 0.545493;
 *  - the grid fit recovers (b, tau) of pilots made from the model, and a;
 *    the same seed gives the same fit, ties go the same way.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "selectors/sources.h"
#include "test.h"

static void test_qqt_utility_worked(void)
{
	double b = -0.2, tau = 4;
	CHECK_NEAR(wn_qqt_loss(&b, &tau, 1, 12800000, 32000000, 0.022, 0.1), 0.787269, 1e-6);
	/* no repetition: n <= S is the plain power law x^b + d */
	CHECK_NEAR(wn_qqt_loss(&b, &tau, 1, 12800000, 6400000, 0.022, 0.1),
		   pow(0.022 * 64, -0.2) + 0.1, 1e-15);
	/* an exact number of epochs: the last (empty) partial epoch adds nothing */
	double e2 = (pow(0.022 * 128, -0.2) + 0.1) * pow(2, -0.2 * pow(0.5, 0.25));
	CHECK_NEAR(wn_qqt_loss(&b, &tau, 1, 12800000, 25600000, 0.022, 0.1), e2, 1e-15);
}

static void test_qqt_mixing_worked(void)
{
	double b[2] = {-0.25, -0.15}, tau[2] = {3, 6};
	CHECK_NEAR(wn_qqt_topk(b, tau, 1, 12800000, 38400000, 0.022, 0.1), 0.712901, 1e-6);
	CHECK_NEAR(wn_qqt_topk(b, tau, 2, 12800000, 38400000, 0.022, 0.1), 0.750223, 1e-6);
	CHECK_NEAR(wn_qqt_topk(b, tau, 1, 12800000, 640000000, 0.022, 0.1), 0.641455, 1e-6);
	CHECK_NEAR(wn_qqt_topk(b, tau, 2, 12800000, 640000000, 0.022, 0.1), 0.545493, 1e-6);
}

static void test_qqt_sort(void)
{
	double b[4] = {-0.1, -0.3, -0.1, -0.2}, tau[4] = {1, 2, 3, 4};
	int order[4];
	wn_qqt_sort_pools(b, tau, order, 4);
	CHECK_EQ_INT(order[0], 1);
	CHECK_EQ_INT(order[1], 3);
	CHECK_EQ_INT(order[2], 0); /* stable among equal b */
	CHECK_EQ_INT(order[3], 2);
	CHECK(b[0] == -0.3 && tau[0] == 2 && tau[3] == 3);
}

#define NP 5
static const int64_t pil_n[NP] = {6400000, 12800000, 25600000, 64000000, 128000000};

static void make_pilots(double b, double tau, double a, int64_t *S, int64_t *n, double *y)
{
	for (int i = 0; i < NP; i++) {
		S[i] = 12800000;
		n[i] = pil_n[i];
		y[i] = wn_qqt_loss(&b, &tau, 1, S[i], n[i], a, 0.1);
	}
}

static void test_qqt_grid(void)
{
	CHECK_NEAR(wn_qqt_grid_b(0), -0.005, 1e-15);
	CHECK_NEAR(wn_qqt_grid_b(99), -0.5, 1e-15);
	CHECK_NEAR(wn_qqt_grid_b(49), -0.25, 1e-15);
	CHECK_NEAR(wn_qqt_grid_tau(22), 3, 1e-15);
	CHECK_NEAR(wn_qqt_grid_tau(99), 10, 1e-15);
	CHECK_NEAR(wn_qqt_grid_a(0, 0.2), 0.0001, 1e-15);
	CHECK_NEAR(wn_qqt_grid_a(99, 0.2), 0.2, 1e-15);
}

static void test_qqt_fit_recovers(void)
{
	int64_t S[NP], n[NP];
	double y[NP], b, tau, sse;
	char err[256];
	make_pilots(-0.15, 6, 0.022, S, n, y);
	wn_qqt_pilots p = {S, n, y, NP};
	CHECK(wn_qqt_fit_pool(&p, 0.022, 0.1, 7, &b, &tau, &sse, err, sizeof err) == 0);
	CHECK_NEAR(b, -0.15, 1e-12);
	CHECK_NEAR(tau, 6, 1e-12);
	CHECK(sse < 1e-20);
	/* noisy pilots: the fit is the grid point of least squares, the same for every seed */
	for (int i = 0; i < NP; i++)
		y[i] += (i % 2 ? 1e-3 : -1e-3);
	double b1, t1, s1, b2, t2, s2;
	CHECK(wn_qqt_fit_pool(&p, 0.022, 0.1, 1, &b1, &t1, &s1, err, sizeof err) == 0);
	CHECK(wn_qqt_fit_pool(&p, 0.022, 0.1, 2, &b2, &t2, &s2, err, sizeof err) == 0);
	CHECK(b1 == b2 && t1 == t2 && s1 == s2);
	/* brute force over the grid in plain order agrees on the residual */
	double best = INFINITY;
	for (int i = 0; i < WN_QQT_GRID; i++)
		for (int j = 0; j < WN_QQT_GRID; j++) {
			double bb = wn_qqt_grid_b(i), tt = wn_qqt_grid_tau(j), s = 0;
			for (int k = 0; k < NP; k++) {
				double r = wn_qqt_loss(&bb, &tt, 1, S[k], n[k], 0.022, 0.1) - y[k];
				s += r * r;
			}
			if (s < best)
				best = s;
		}
	CHECK(s1 == best);
}

static void test_qqt_fit_a(void)
{
	int64_t S[3][NP], n[3][NP];
	double y[3][NP], a, ga = wn_qqt_grid_a(10, 0.2);
	const double bs[3] = {-0.25, -0.15, -0.05}, ts[3] = {3, 6, 2};
	wn_qqt_pilots p[3];
	for (int k = 0; k < 3; k++) {
		make_pilots(bs[k], ts[k], ga, S[k], n[k], y[k]);
		p[k] = (wn_qqt_pilots){S[k], n[k], y[k], NP};
	}
	char err[256];
	CHECK(wn_qqt_fit_a(p, 3, 0.1, 0.2, &a, err, sizeof err) == 0);
	CHECK_NEAR(a, ga, 1e-15);
}

static void test_qqt_bad_pilots(void)
{
	int64_t S[1] = {0}, n[1] = {5};
	double y[1] = {0.5}, b, tau, sse;
	char err[256];
	wn_qqt_pilots p = {S, n, y, 1};
	CHECK(wn_qqt_fit_pool(&p, 0.022, 0.1, 0, &b, &tau, &sse, err, sizeof err) == -1);
	CHECK(strstr(err, "must be >= 1") != NULL);
	p.m = 0;
	CHECK(wn_qqt_fit_pool(&p, 0.022, 0.1, 0, &b, &tau, &sse, err, sizeof err) == -1);
	CHECK(strstr(err, "without pilots") != NULL);
}

int main(void)
{
	RUN(test_qqt_utility_worked);
	RUN(test_qqt_mixing_worked);
	RUN(test_qqt_sort);
	RUN(test_qqt_grid);
	RUN(test_qqt_fit_recovers);
	RUN(test_qqt_fit_a);
	RUN(test_qqt_bad_pilots);
	return TEST_EXIT;
}
