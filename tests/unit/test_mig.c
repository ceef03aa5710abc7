/*
 * tests/unit/test_mig.c — selectors/mig.c against the worked
 * example and a plain greedy:
 *  - labels A, B, C with cos(A,B) = 0.95, the others 0: P = column-
 *    normalised W, P_AA = 1/1.95, P_BA = 0.95/1.95, P_CC = 1 (by hand);
 *    pool {A}:4, {B}:4, {C}:3, {A,C}:3.5 picks {A,C} first, then {B},
 *    {A}, {C}, with gains 88.754, 2.8618, 2.4567, 1.8681 (a plain-Python
 *    computation of u_i·φ'(x), φ'(x) = 0.8 (x + 1e-6)^-0.2);
 *  - --norm halves {A,C}'s row (s/|L|); --prop-weight 0 leaves P diagonal;
 *  - on a random pool of 300 items over 24 labels (near-duplicate label
 *    vectors included) the lazy greedy picks exactly what a plain argmax
 *    over every item picks at every step, for both φ, and the gains never
 *    increase; the same picks at 1 and 2 threads.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "selectors/mig.h"
#include "test.h"

static void example(wn_mig_sparse *P, wn_mig_sparse *U, int norm, double pw)
{
	float E[9] = {1, 0, 0, 0.95f, (float)sqrt(1 - 0.95 * 0.95), 0, 0, 0, 1};
	int64_t loff[5] = {0, 1, 2, 3, 5};
	int32_t lab[5] = {0, 1, 2, 0, 2};
	double s[4] = {4, 4, 3, 3.5};
	char err[256];
	memset(U, 0, sizeof *U);
	if (wn_mig_graph(E, 3, 3, 0.9, pw, 1, P, err, sizeof err) == 0)
		wn_mig_items(P, 4, loff, lab, s, norm, U, err, sizeof err);
}

/* P[r][c] of a sparse matrix (0 when absent). */
static double at(const wn_mig_sparse *m, int64_t r, int32_t c)
{
	for (int64_t k = m->off[r]; k < m->off[r + 1]; k++)
		if (m->col[k] == c)
			return m->val[k];
	return 0;
}

static void test_worked_example(void)
{
	wn_mig_sparse P, U;
	example(&P, &U, 0, 1.0);
	CHECK(U.off != NULL);
	CHECK_NEAR(at(&P, 0, 0), 1 / 1.95, 1e-7);
	CHECK_NEAR(at(&P, 1, 0), 0.95 / 1.95, 1e-7);
	CHECK_NEAR(at(&P, 2, 2), 1.0, 1e-12);
	CHECK_NEAR(at(&P, 0, 2), 0.0, 0);
	CHECK_NEAR(at(&U, 3, 0), 3.5 / 1.95, 1e-6);
	CHECK_NEAR(at(&U, 3, 2), 3.5, 1e-12);
	int64_t pick[4], np;
	double gain[4], want[4] = {88.75401877782238, 2.8617632963273296, 2.456674743511245,
				   1.8680891929748684};
	char err[256];
	CHECK(wn_mig_greedy(&U, 3, 4, WN_MIG_PHI_POW, 1, pick, gain, &np, err, sizeof err) == 0);
	CHECK_EQ_INT(np, 4);
	CHECK_EQ_INT(pick[0], 3);
	CHECK_EQ_INT(pick[1], 1);
	CHECK_EQ_INT(pick[2], 0);
	CHECK_EQ_INT(pick[3], 2);
	for (int k = 0; k < 4; k++)
		CHECK_NEAR(gain[k], want[k], 1e-6 * want[k]);
	wn_mig_sparse_free(&U);
	wn_mig_sparse_free(&P);
}

static void test_norm_and_prop_weight(void)
{
	wn_mig_sparse P, U;
	example(&P, &U, 1, 1.0);
	CHECK(U.off != NULL);
	CHECK_NEAR(at(&U, 3, 2), 1.75, 1e-12);
	CHECK_NEAR(at(&U, 0, 1), 4 * 0.95 / 1.95, 1e-6);
	wn_mig_sparse_free(&U);
	wn_mig_sparse_free(&P);
	example(&P, &U, 0, 0.0);
	CHECK(U.off != NULL);
	CHECK_NEAR(at(&P, 1, 0), 0.0, 0);
	CHECK_NEAR(at(&U, 0, 0), 4 / 1.95, 1e-6);
	wn_mig_sparse_free(&U);
	wn_mig_sparse_free(&P);
}

#define NI 300
#define NL 24
#define DIM 8

static double dphi(double x, int phi)
{
	return phi == WN_MIG_PHI_EXP ? exp(-x) : 0.8 * pow(x + 1e-6, -0.2);
}

/* The plain greedy: every item's gain every step, first index on ties. */
static void plain_greedy(const wn_mig_sparse *U, int phi, int64_t budget, int64_t *pick)
{
	double x[NL] = {0};
	unsigned char used[NI] = {0};
	for (int64_t k = 0; k < budget; k++) {
		int64_t best = -1;
		double bg = -1;
		for (int64_t i = 0; i < NI; i++) {
			if (used[i])
				continue;
			double g = 0;
			for (int64_t q = U->off[i]; q < U->off[i + 1]; q++)
				g += U->val[q] * dphi(x[U->col[q]], phi);
			if (g > bg)
				bg = g, best = i;
		}
		pick[k] = best;
		used[best] = 1;
		for (int64_t q = U->off[best]; q < U->off[best + 1]; q++)
			x[U->col[q]] += U->val[q];
	}
}

static void random_pool(wn_mig_sparse *P, wn_mig_sparse *U)
{
	float E[NL * DIM];
	int64_t loff[NI + 1];
	int32_t lab[NI * 3];
	double s[NI];
	char err[256];
	for (int l = 0; l < NL; l++)
		for (int j = 0; j < DIM; j++) /* labels 2m and 2m+1 nearly equal */
			E[l * DIM + j] = (float)(wn_rng_uniform(9, 1, (uint64_t)((l / 2) * DIM + j)) - 0.5 +
						 (l % 2) * 0.02 * wn_rng_uniform(9, 2, (uint64_t)j));
	loff[0] = 0;
	for (int i = 0; i < NI; i++) {
		int nl = 1 + (int)(wn_rng_uniform(9, 3, (uint64_t)i) * 3);
		for (int j = 0; j < nl; j++)
			lab[loff[i] + j] = (int32_t)(wn_rng_uniform(9, 4, (uint64_t)(i * 3 + j)) * NL);
		loff[i + 1] = loff[i] + nl;
		s[i] = wn_rng_uniform(9, 5, (uint64_t)i) * 5;
	}
	memset(U, 0, sizeof *U);
	if (wn_mig_graph(E, NL, DIM, 0.9, 0.7, 2, P, err, sizeof err) == 0)
		wn_mig_items(P, NI, loff, lab, s, 0, U, err, sizeof err);
}

static void test_lazy_is_plain(void)
{
	wn_mig_sparse P, U;
	random_pool(&P, &U);
	CHECK(U.off != NULL);
	int64_t off_diag = 0;
	for (int64_t l = 0; l < NL; l++)
		off_diag += P.off[l + 1] - P.off[l] - 1;
	CHECK(off_diag > 0); /* the near-duplicates are joined */
	for (int phi = 0; phi < 2; phi++) {
		int64_t a[120], b[120], c[120], np;
		double g[120], g2[120];
		char err[256];
		CHECK(wn_mig_greedy(&U, NL, 120, phi, 1, a, g, &np, err, sizeof err) == 0);
		CHECK_EQ_INT(np, 120);
		CHECK(wn_mig_greedy(&U, NL, 120, phi, 2, c, g2, &np, err, sizeof err) == 0);
		plain_greedy(&U, phi, 120, b);
		for (int k = 0; k < 120; k++) {
			CHECK_EQ_INT(a[k], b[k]);
			CHECK_EQ_INT(a[k], c[k]);
			CHECK(g[k] == g2[k]);
			CHECK(k == 0 || g[k] <= g[k - 1]);
		}
	}
	wn_mig_sparse_free(&U);
	wn_mig_sparse_free(&P);
}

int main(void)
{
	RUN(test_worked_example);
	RUN(test_norm_and_prop_weight);
	RUN(test_lazy_is_plain);
	return TEST_EXIT;
}
