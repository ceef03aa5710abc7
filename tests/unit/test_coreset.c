/*
 * tests/unit/test_coreset.c — the weights of selectors/coreset_step.c's
 * draws against hand formulas and statistics:
 *  - with replacement: Σ count = m and weight = count / (m p_i) exactly;
 *  - PPS: weight = 1 / π_i with π_i = m s_i / Σ s (no certainty items here);
 *  - unbiasedness, checked statistically with fixed seeds: over R = 3000
 *    seeds the mean of Σ_sample weight_i f_i is within 4 standard errors of
 *    Σ f (with replacement and PPS), and Σ weight estimates n;
 *  - the same draw at 1 and 2 threads; errors for bad sensitivities.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "selectors/coreset_step.h"
#include "test.h"

#define N 200

static void make(double *s, double *f)
{
	for (int i = 0; i < N; i++) {
		s[i] = 0.2 + (double)((i * 37) % 23) / 10.0; /* 0.2 .. 2.4 */
		f[i] = (double)((i * 11) % 17) + 0.5 * s[i];  /* correlated with s, not proportional */
	}
}

static void test_weights_by_hand(void)
{
	double s[N], f[N], S = 0;
	make(s, f);
	for (int i = 0; i < N; i++)
		S += s[i];
	wn_coreset_draw d;
	char err[256];
	CHECK(wn_coreset_sample(s, N, 40, WN_CORESET_WITH, 3, 1, &d, err, sizeof err) == 0);
	int64_t total = 0;
	for (int i = 0; i < N; i++) {
		total += d.count[i];
		CHECK_NEAR(d.weight[i], (double)d.count[i] * S / (40.0 * s[i]), 1e-12 * d.weight[i]);
	}
	CHECK_EQ_INT(total, 40);
	wn_coreset_draw_free(&d);
	CHECK(wn_coreset_sample(s, N, 40, WN_CORESET_PPS, 3, 1, &d, err, sizeof err) == 0);
	CHECK_EQ_INT(d.distinct, 40);
	for (int i = 0; i < N; i++)
		if (d.count[i])
			CHECK_NEAR(d.weight[i], S / (40.0 * s[i]), 1e-9 * d.weight[i]);
	wn_coreset_draw_free(&d);
}

static void check_unbiased(int mode)
{
	double s[N], f[N], truth = 0;
	make(s, f);
	for (int i = 0; i < N; i++)
		truth += f[i];
	const int R = 3000;
	double m1 = 0, m2 = 0, nsum = 0;
	char err[256];
	for (int r = 0; r < R; r++) {
		wn_coreset_draw d;
		CHECK(wn_coreset_sample(s, N, 25, mode, (uint64_t)r + 1000, 1, &d, err, sizeof err) == 0);
		double est = 0;
		for (int i = 0; i < N; i++)
			est += d.weight[i] * f[i];
		m1 += est;
		m2 += est * est;
		nsum += d.sum_w;
		wn_coreset_draw_free(&d);
	}
	double mean = m1 / R, var = m2 / R - mean * mean, se = sqrt(var / R);
	if (!(fabs(mean - truth) <= 4 * se))
		TEST_FAIL_("mode %d: mean estimate %.6g, truth %.6g, 4 se = %.3g", mode, mean, truth,
			   4 * se);
	CHECK(se > 0 && se < 0.05 * truth);
	CHECK(fabs(nsum / R - N) < 0.05 * N);
}

static void test_unbiased_with_replacement(void) { check_unbiased(WN_CORESET_WITH); }
static void test_unbiased_pps(void) { check_unbiased(WN_CORESET_PPS); }

static void test_threads_and_errors(void)
{
	double s[N], f[N];
	make(s, f);
	wn_coreset_draw a, b;
	char err[256] = "";
	CHECK(wn_coreset_sample(s, N, 500, WN_CORESET_WITH, 9, 1, &a, err, sizeof err) == 0);
	CHECK(wn_coreset_sample(s, N, 500, WN_CORESET_WITH, 9, 2, &b, err, sizeof err) == 0);
	CHECK(memcmp(a.count, b.count, sizeof(int64_t) * N) == 0);
	CHECK(memcmp(a.weight, b.weight, sizeof(double) * N) == 0);
	CHECK(a.ess > 0 && a.ess <= 500);
	wn_coreset_draw_free(&a);
	wn_coreset_draw_free(&b);
	double z[3] = {0, 0, 0}, neg[3] = {1, -1, 2};
	CHECK(wn_coreset_sample(z, 3, 2, WN_CORESET_WITH, 0, 1, &a, err, sizeof err) == -1);
	CHECK(strstr(err, "every sensitivity is 0") != NULL);
	CHECK(wn_coreset_sample(neg, 3, 2, WN_CORESET_PPS, 0, 1, &a, err, sizeof err) == -1);
	CHECK(strstr(err, "sensitivity 1 is negative") != NULL);
}

int main(void)
{
	RUN(test_weights_by_hand);
	RUN(test_unbiased_with_replacement);
	RUN(test_unbiased_pps);
	RUN(test_threads_and_errors);
	return TEST_EXIT;
}
