/*
 * tests/unit/test_subset.c — the selection logic of selectors/subset.c on
 * small hand-computed inputs, the inclusion frequencies of its samplers
 * against their closed forms over many seeds, and determinism.
 *
 * Borrows: the core's samplers (through subset.c). The frequency checks
 * use fixed seeds and a 5-sigma band, so they are exact reruns, not flaky.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "selectors/subset.h"
#include "tests/unit/test.h"

static char err[256];

/* ---- counts and filters ------------------------------------------------ */

static void test_frac_count(void)
{
	CHECK_EQ_INT(wn_sel_frac_count(10, 0.7), 7);
	CHECK_EQ_INT(wn_sel_frac_count(100, 0.29), 29);
	CHECK_EQ_INT(wn_sel_frac_count(3, 0.5), 1);
	CHECK_EQ_INT(wn_sel_frac_count(3, 1.0), 3);
	CHECK_EQ_INT(wn_sel_frac_count(3, 0.0), 0);
	CHECK_EQ_INT(wn_sel_frac_count(0, 0.5), 0);
	CHECK_EQ_INT(wn_sel_frac_count(1000000, 0.1), 100000);
}

static void test_filter_parse(void)
{
	wn_sel_filter f;
	CHECK_EQ_INT(wn_sel_filter_parse(&f, "winnow.score=0.25", 0, err, sizeof err), 0);
	CHECK_STR(f.path, "winnow.score");
	CHECK_NEAR(f.value, 0.25, 0);
	CHECK(wn_sel_filter_pass(&f, 0.25));
	CHECK(wn_sel_filter_pass(&f, 1));
	CHECK(!wn_sel_filter_pass(&f, 0.2));
	wn_sel_filter_free(&f);
	CHECK_EQ_INT(wn_sel_filter_parse(&f, "installed_kb=-1e3", 1, err, sizeof err), 0);
	CHECK(wn_sel_filter_pass(&f, -1000));
	CHECK(!wn_sel_filter_pass(&f, -999));
	wn_sel_filter_free(&f);
	CHECK_EQ_INT(wn_sel_filter_parse(&f, "x=abc", 0, err, sizeof err), -1);
	CHECK(strstr(err, "abc") != NULL);
	CHECK_EQ_INT(wn_sel_filter_parse(&f, "=3", 0, err, sizeof err), -1);
	CHECK_EQ_INT(wn_sel_filter_parse(&f, "x", 0, err, sizeof err), -1);
	CHECK_EQ_INT(wn_sel_filter_parse(&f, "x=", 0, err, sizeof err), -1);
	CHECK_EQ_INT(wn_sel_filter_parse(&f, "x=nan", 0, err, sizeof err), -1);
}

/* ---- top-N ---------------------------------------------------------------- */

static void test_top_desc_asc(void)
{
	const double key[] = {3, 1, 3, 2, 5};
	size_t out[5], n;
	CHECK_EQ_INT(wn_sel_top(key, 5, 2, 0, out, &n, err, sizeof err), 0);
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_INT(out[0], 0); /* 3 at position 0 beats the 3 at position 2 */
	CHECK_EQ_INT(out[1], 4);
	CHECK_EQ_INT(wn_sel_top(key, 5, 3, 0, out, &n, err, sizeof err), 0);
	CHECK_EQ_INT(n, 3);
	CHECK(out[0] == 0 && out[1] == 2 && out[2] == 4);
	CHECK_EQ_INT(wn_sel_top(key, 5, 2, 1, out, &n, err, sizeof err), 0);
	CHECK(n == 2 && out[0] == 1 && out[1] == 3);
	CHECK_EQ_INT(wn_sel_top(key, 5, 4, 1, out, &n, err, sizeof err), 0);
	CHECK(n == 4 && out[0] == 0 && out[1] == 1 && out[2] == 2 && out[3] == 3);
}

static void test_top_ties_and_bounds(void)
{
	const double key[] = {1, 1, 1, 1, -0.0, 0.0};
	size_t out[6], n;
	CHECK_EQ_INT(wn_sel_top(key, 4, 2, 0, out, &n, err, sizeof err), 0);
	CHECK(n == 2 && out[0] == 0 && out[1] == 1);
	CHECK_EQ_INT(wn_sel_top(key, 4, 2, 1, out, &n, err, sizeof err), 0);
	CHECK(n == 2 && out[0] == 0 && out[1] == 1);
	/* -0 and 0 are equal keys: stream order decides */
	CHECK_EQ_INT(wn_sel_top(key, 6, 1, 1, out, &n, err, sizeof err), 0);
	CHECK(n == 1 && out[0] == 4);
	CHECK_EQ_INT(wn_sel_top(key, 6, 100, 0, out, &n, err, sizeof err), 0);
	CHECK_EQ_INT(n, 6);
	CHECK_EQ_INT(wn_sel_top(key, 6, 0, 0, out, &n, err, sizeof err), 0);
	CHECK_EQ_INT(n, 0);
	CHECK_EQ_INT(wn_sel_top(NULL, 0, 5, 0, out, &n, err, sizeof err), 0);
	CHECK_EQ_INT(n, 0);
	const double bad[] = {1, NAN, 2};
	CHECK_EQ_INT(wn_sel_top(bad, 3, 1, 0, out, &n, err, sizeof err), -1);
}

/* ---- groups ----------------------------------------------------------------- */

static void test_groups_intern(void)
{
	wn_sel_groups *g = wn_sel_groups_new();
	CHECK(g);
	CHECK_EQ_INT(wn_sel_groups_intern(g, "games", 5), 0);
	CHECK_EQ_INT(wn_sel_groups_intern(g, "net", 3), 1);
	CHECK_EQ_INT(wn_sel_groups_intern(g, "games", 5), 0);
	CHECK_EQ_INT(wn_sel_groups_intern(g, "", 0), 2);
	CHECK_EQ_INT(wn_sel_groups_find(g, "net", 3), 1);
	CHECK_EQ_INT(wn_sel_groups_find(g, "ne", 2), -1);
	char name[32];
	for (int i = 0; i < 5000; i++) { /* many rehashes */
		int len = snprintf(name, sizeof name, "g%d", i);
		CHECK_EQ_INT(wn_sel_groups_intern(g, name, (size_t)len), 3 + i);
	}
	for (int i = 0; i < 5000; i += 97) {
		int len = snprintf(name, sizeof name, "g%d", i);
		CHECK_EQ_INT(wn_sel_groups_find(g, name, (size_t)len), 3 + i);
	}
	size_t n;
	const char *p = wn_sel_groups_name(g, 1, &n);
	CHECK(n == 3 && memcmp(p, "net", 3) == 0);
	CHECK_EQ_INT(wn_sel_groups_count(g), 5003);
	wn_sel_groups_free(g);
}

static void test_per_group_first_and_top(void)
{
	/* groups: 0 1 0 0 1 2 0 */
	const uint32_t group[] = {0, 1, 0, 0, 1, 2, 0};
	const double key[] = {5, 1, 7, 6, 9, 0, 7};
	size_t out[7], n;
	wn_sel_per_opts o = {WN_SEL_WITHIN_FIRST, 2, -1, 0, 0, 0};
	CHECK_EQ_INT(wn_sel_per_group(group, NULL, 7, 3, &o, out, &n, err, sizeof err), 0);
	CHECK_EQ_INT(n, 5);
	const size_t first[] = {0, 1, 2, 4, 5};
	for (size_t i = 0; i < 5; i++)
		CHECK_EQ_INT(out[i], first[i]);
	/* top 2 per group: group 0 keys 5,7,6,7 -> positions 2 and 6 (tie, both 7) */
	o.within = WN_SEL_WITHIN_TOP;
	CHECK_EQ_INT(wn_sel_per_group(group, key, 7, 3, &o, out, &n, err, sizeof err), 0);
	const size_t top[] = {1, 2, 4, 5, 6};
	CHECK_EQ_INT(n, 5);
	for (size_t i = 0; i < 5; i++)
		CHECK_EQ_INT(out[i], top[i]);
	/* ascending top 1 per group: 5 (pos 0), 1 (pos 1), 0 (pos 5) */
	o.asc = 1;
	o.cap = 1;
	CHECK_EQ_INT(wn_sel_per_group(group, key, 7, 3, &o, out, &n, err, sizeof err), 0);
	CHECK(n == 3 && out[0] == 0 && out[1] == 1 && out[2] == 5);
	/* frac 0.5 per group: floor(4/2)=2, floor(2/2)=1, floor(1/2)=0 */
	o.asc = 0;
	o.frac = 0.5;
	CHECK_EQ_INT(wn_sel_per_group(group, key, 7, 3, &o, out, &n, err, sizeof err), 0);
	CHECK(n == 3 && out[0] == 2 && out[1] == 4 && out[2] == 6);
	/* a group id out of range is an error, not a crash */
	const uint32_t bad[] = {0, 5};
	CHECK_EQ_INT(wn_sel_per_group(bad, key, 2, 3, &o, out, &n, err, sizeof err), -1);
}

/* ---- temperature mixing (no draws needed for quotas and weights) ---------- */

static void test_mix_quota(void)
{
	/* sizes 90, 10; T=1: p = .9/.1; T=2: sqrt -> 9.4868/3.1623 -> .75/.25 */
	const size_t gn[] = {90, 10};
	double p[4];
	size_t q[4];
	CHECK_EQ_INT(wn_sel_mix_quota(gn, 2, 1.0, 50, p, q, err, sizeof err), 0);
	CHECK_NEAR(p[0], 0.9, 1e-12);
	CHECK(q[0] == 45 && q[1] == 5);
	CHECK_EQ_INT(wn_sel_mix_quota(gn, 2, 2.0, 100, p, q, err, sizeof err), 0);
	CHECK_NEAR(p[0], 0.75, 1e-12);
	CHECK(q[0] == 75 && q[1] == 25);
	/* T -> large: uniform over groups; 7 draws over 2 groups: the larger
	 * group's share is a hair above 3.5, so it takes the odd draw */
	CHECK_EQ_INT(wn_sel_mix_quota(gn, 2, 1e9, 7, p, q, err, sizeof err), 0);
	CHECK(q[0] == 4 && q[1] == 3);
	/* three groups 1,1,1 and total 10: 3.33 each, 1 extra to group 0 */
	const size_t g3[] = {1, 1, 1};
	CHECK_EQ_INT(wn_sel_mix_quota(g3, 3, 1.0, 10, p, q, err, sizeof err), 0);
	CHECK(q[0] == 4 && q[1] == 3 && q[2] == 3);
	/* largest remainder: sizes 5,3,2 at T=1, total 4 -> 2, 1.2, 0.8 -> 2,1,1 */
	const size_t g4[] = {5, 3, 2, 0};
	CHECK_EQ_INT(wn_sel_mix_quota(g4, 4, 1.0, 4, p, q, err, sizeof err), 0);
	CHECK(q[0] == 2 && q[1] == 1 && q[2] == 1 && q[3] == 0);
	CHECK_NEAR(p[3], 0, 0);
	/* tiny temperature must not overflow: the largest group takes all */
	CHECK_EQ_INT(wn_sel_mix_quota(gn, 2, 0.001, 10, p, q, err, sizeof err), 0);
	CHECK(q[0] == 10 && q[1] == 0);
	CHECK_EQ_INT(wn_sel_mix_quota(gn, 2, 0, 10, p, q, err, sizeof err), -1);
	CHECK_EQ_INT(wn_sel_mix_quota(gn, 2, -1, 10, p, q, err, sizeof err), -1);
}

static void test_upweight(void)
{
	/* groups of 3 and 1, T=2: p ∝ sqrt(3), 1 -> weights total*p/n */
	const uint32_t group[] = {0, 0, 1, 0};
	double w[4];
	CHECK_EQ_INT(wn_sel_upweight(group, 4, 2, 2.0, 4, w, err, sizeof err), 0);
	double p0 = sqrt(3.0) / (sqrt(3.0) + 1), p1 = 1 / (sqrt(3.0) + 1);
	CHECK_NEAR(w[0], 4 * p0 / 3, 1e-12);
	CHECK_NEAR(w[2], 4 * p1 / 1, 1e-12);
	CHECK_NEAR(w[0] + w[1] + w[3], 4 * p0, 1e-12);
	CHECK_NEAR(w[0] + w[1] + w[2] + w[3], 4, 1e-12);
	/* T=1 keeps the natural mix: every weight is 1 when total = n */
	CHECK_EQ_INT(wn_sel_upweight(group, 4, 2, 1.0, 4, w, err, sizeof err), 0);
	for (int i = 0; i < 4; i++)
		CHECK_NEAR(w[i], 1, 0); /* exactly: no 0.9999999999999999 in output */
}

/* ---- balanced: the parts that need no draw -------------------------------- */

static void test_balanced_exact(void)
{
	/* two levels: (level1, top). Top 0 has 2 items, top 1 has 6 items in
	 * leaves 10 and 11. A target of n or more keeps everything, 0 nothing:
	 * no draw is needed for either. */
	const int64_t path[] = {
		0, 0,  1, 0,  10, 1, 10, 1, 10, 1, 11, 1, 11, 1, 11, 1,
	};
	size_t out[8], n;
	CHECK_EQ_INT(wn_sel_balanced(path, 8, 2, 8, 1, out, &n, err, sizeof err), 0);
	CHECK_EQ_INT(n, 8);
	CHECK_EQ_INT(wn_sel_balanced(path, 8, 2, 100, 1, out, &n, err, sizeof err), 0);
	CHECK_EQ_INT(n, 8);
	CHECK_EQ_INT(wn_sel_balanced(path, 8, 2, 0, 1, out, &n, err, sizeof err), 0);
	CHECK_EQ_INT(n, 0);
	CHECK_EQ_INT(wn_sel_balanced(path, 8, 0, 3, 1, out, &n, err, sizeof err), -1);
}

/* ---- sampling (the core's draws) -------------------------------------------- */

static int sorted_distinct(const size_t *a, size_t n, size_t bound)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] >= bound || (i && a[i] <= a[i - 1]))
			return 0;
	return 1;
}

static void test_uniform_basic(void)
{
	size_t out[100], out2[100], n, n2;
	CHECK_EQ_INT(wn_sel_uniform(100, 30, 42, 1, out, &n, err, sizeof err), 0);
	CHECK_EQ_INT(n, 30);
	CHECK(sorted_distinct(out, n, 100));
	CHECK_EQ_INT(wn_sel_uniform(100, 30, 42, 1, out2, &n2, err, sizeof err), 0);
	CHECK(n2 == n && memcmp(out, out2, n * sizeof *out) == 0);
	CHECK_EQ_INT(wn_sel_uniform(100, 30, 43, 1, out2, &n2, err, sizeof err), 0);
	CHECK(memcmp(out, out2, n * sizeof *out) != 0);
	CHECK_EQ_INT(wn_sel_uniform(100, 30, 42, 2, out2, &n2, err, sizeof err), 0);
	CHECK(memcmp(out, out2, n * sizeof *out) != 0);
	CHECK_EQ_INT(wn_sel_uniform(5, 9, 42, 1, out, &n, err, sizeof err), 0);
	CHECK(n == 5 && sorted_distinct(out, n, 5));
	CHECK_EQ_INT(wn_sel_uniform(0, 9, 42, 1, out, &n, err, sizeof err), 0);
	CHECK_EQ_INT(n, 0);
}

/* Each item of n is kept with probability k/n: 4000 seeds, 5 sigma. */
static void test_uniform_frequencies(void)
{
	enum { N = 10, K = 3, RUNS = 4000 };
	unsigned hits[N] = {0};
	size_t out[N], n;
	for (int s = 0; s < RUNS; s++) {
		CHECK_EQ_INT(wn_sel_uniform(N, K, (uint64_t)s, 7, out, &n, err, sizeof err), 0);
		for (size_t i = 0; i < n; i++)
			hits[out[i]]++;
	}
	double p = (double)K / N, sd = sqrt(RUNS * p * (1 - p));
	for (int i = 0; i < N; i++)
		CHECK_NEAR(hits[i], RUNS * p, 5 * sd);
}

/* k=1: P(i) = w_i / sum w. k=2 (successive sampling without replacement):
 * P(i in S) = p_i + sum_{j != i} p_j p_i / (1 - p_j). */
static void test_weighted_frequencies(void)
{
	enum { N = 4, RUNS = 6000 };
	const double w[N] = {1, 2, 3, 4};
	unsigned hits1[N] = {0}, hits2[N] = {0};
	size_t out[N], n;
	for (int s = 0; s < RUNS; s++) {
		CHECK_EQ_INT(wn_sel_weighted(w, N, 1, 0, (uint64_t)s, 3, out, &n, err, sizeof err), 0);
		CHECK_EQ_INT(n, 1);
		hits1[out[0]]++;
		CHECK_EQ_INT(wn_sel_weighted(w, N, 2, 0, (uint64_t)s, 3, out, &n, err, sizeof err), 0);
		CHECK(n == 2 && sorted_distinct(out, n, N));
		hits2[out[0]]++;
		hits2[out[1]]++;
	}
	for (int i = 0; i < N; i++) {
		double p = w[i] / 10, sd = sqrt(RUNS * p * (1 - p));
		CHECK_NEAR(hits1[i], RUNS * p, 5 * sd);
		double incl = p;
		for (int j = 0; j < N; j++)
			if (j != i)
				incl += (w[j] / 10) * p / (1 - w[j] / 10);
		sd = sqrt(RUNS * incl * (1 - incl));
		CHECK_NEAR(hits2[i], RUNS * incl, 5 * sd);
	}
}

static void test_weighted_log_and_zero(void)
{
	const double w[] = {0.5, 0, 2, 0, 1, 3};
	double lw[6];
	for (int i = 0; i < 6; i++)
		lw[i] = w[i] > 0 ? log(w[i]) : -1e300;
	size_t a[6], b[6], na, nb;
	for (uint64_t s = 0; s < 200; s++) {
		CHECK_EQ_INT(wn_sel_weighted(w, 6, 3, 0, s, 9, a, &na, err, sizeof err), 0);
		CHECK_EQ_INT(na, 3);
		for (size_t i = 0; i < na; i++)
			CHECK(w[a[i]] > 0); /* weight 0 is never drawn */
		/* log-weights draw the same set for the same seed and stream */
		CHECK_EQ_INT(wn_sel_weighted(lw, 6, 3, 1, s, 9, b, &nb, err, sizeof err), 0);
		CHECK(nb == na && memcmp(a, b, na * sizeof *a) == 0);
	}
	/* asking for more than the positive weights gives all of them */
	CHECK_EQ_INT(wn_sel_weighted(w, 6, 6, 0, 1, 9, a, &na, err, sizeof err), 0);
	CHECK(na == 4 && a[0] == 0 && a[1] == 2 && a[2] == 4 && a[3] == 5);
	const double neg[] = {1, -1};
	CHECK_EQ_INT(wn_sel_weighted(neg, 2, 1, 0, 1, 9, a, &na, err, sizeof err), -1);
	const double inf[] = {1, INFINITY};
	CHECK_EQ_INT(wn_sel_weighted(inf, 2, 1, 1, 1, 9, a, &na, err, sizeof err), -1);
}

/* Large log-weights (DSIR sums run into the hundreds) must not overflow:
 * exp(1000) is +inf, Gumbel top-k on the logs is fine. */
static void test_weighted_large_logs(void)
{
	const double lw[] = {1000, 990, -1000, 1000.5};
	size_t out[4], n;
	unsigned first = 0;
	for (uint64_t s = 0; s < 500; s++) {
		CHECK_EQ_INT(wn_sel_weighted(lw, 4, 1, 1, s, 1, out, &n, err, sizeof err), 0);
		CHECK(n == 1 && out[0] != 2);
		first += out[0] == 3;
	}
	/* P(3) = e^0.5 / (1 + e^0.5 + e^-10) = 0.6225 */
	double p = exp(0.5) / (1 + exp(0.5) + exp(-10.0));
	CHECK_NEAR(first, 500 * p, 5 * sqrt(500 * p * (1 - p)));
}

static void test_per_group_sampled(void)
{
	enum { N = 60 };
	uint32_t group[N];
	double w[N];
	for (int i = 0; i < N; i++) {
		group[i] = (uint32_t)(i % 3 == 0 ? 0 : i % 3 == 1 ? 1 : (i < 30 ? 2 : 3));
		w[i] = (double)(i % 5);
	}
	size_t out[N], n, out2[N], n2;
	wn_sel_per_opts o = {WN_SEL_WITHIN_UNIFORM, 4, -1, 0, 0, 11};
	CHECK_EQ_INT(wn_sel_per_group(group, NULL, N, 4, &o, out, &n, err, sizeof err), 0);
	CHECK_EQ_INT(n, 16);
	unsigned per[4] = {0};
	for (size_t i = 0; i < n; i++)
		per[group[out[i]]]++;
	CHECK(per[0] == 4 && per[1] == 4 && per[2] == 4 && per[3] == 4);
	CHECK(sorted_distinct(out, n, N));
	CHECK_EQ_INT(wn_sel_per_group(group, NULL, N, 4, &o, out2, &n2, err, sizeof err), 0);
	CHECK(n2 == n && memcmp(out, out2, n * sizeof *out) == 0);
	/* weighted inside groups never picks weight 0 */
	o.within = WN_SEL_WITHIN_WEIGHTED;
	CHECK_EQ_INT(wn_sel_per_group(group, w, N, 4, &o, out, &n, err, sizeof err), 0);
	CHECK_EQ_INT(n, 16);
	for (size_t i = 0; i < n; i++)
		CHECK(w[out[i]] > 0);
}

static void test_epochs(void)
{
	enum { N = 50, K = 10, E = 4 };
	size_t out[E * K], again[E * K];
	CHECK_EQ_INT(wn_sel_epochs(N, K, E, 5, out, err, sizeof err), 0);
	for (int e = 0; e < E; e++)
		CHECK(sorted_distinct(out + e * K, K, N));
	/* epochs are independent draws: not all the same subset */
	int differ = 0;
	for (int e = 1; e < E; e++)
		differ += memcmp(out, out + e * K, K * sizeof *out) != 0;
	CHECK_EQ_INT(differ, E - 1);
	CHECK_EQ_INT(wn_sel_epochs(N, K, E, 5, again, err, sizeof err), 0);
	CHECK(memcmp(out, again, sizeof out) == 0);
	/* epoch e of a run with more epochs is the same subset (stream per epoch) */
	CHECK_EQ_INT(wn_sel_epochs(N, K, 2, 5, again, err, sizeof err), 0);
	CHECK(memcmp(out, again, 2 * K * sizeof *out) == 0);
}

static void test_mix_resample(void)
{
	/* group 0: 8 items, group 1: 2 items; T=1e9 (uniform over groups),
	 * total 10 -> quotas 5 / 5: group 0 keeps 5 of 8 once, group 1
	 * repeats each of its 2 items twice and one of them a third time. */
	const uint32_t group[] = {0, 0, 1, 0, 0, 0, 1, 0, 0, 0};
	uint32_t reps[10];
	CHECK_EQ_INT(wn_sel_mix(group, 10, 2, 1e9, 10, 3, reps, err, sizeof err), 0);
	unsigned sum0 = 0, sum1 = 0, kept0 = 0;
	for (int i = 0; i < 10; i++) {
		if (group[i] == 0) {
			sum0 += reps[i];
			kept0 += reps[i] > 0;
			CHECK(reps[i] <= 1);
		} else {
			sum1 += reps[i];
			CHECK(reps[i] == 2 || reps[i] == 3);
		}
	}
	CHECK(sum0 == 5 && kept0 == 5 && sum1 == 5);
	uint32_t again[10];
	CHECK_EQ_INT(wn_sel_mix(group, 10, 2, 1e9, 10, 3, again, err, sizeof err), 0);
	CHECK(memcmp(reps, again, sizeof reps) == 0);
}

/*
 * Balanced over a 3-level hierarchy. Top clusters T0 (children A: 10
 * items, B: 2 items) and T1 (child C: 30 items), each child one leaf.
 * target 12: top cut 6 -> T0 6, T1 6. Inside T0: A gets 4, B gets its 2.
 */
static void test_balanced_shares(void)
{
	enum { N = 42 };
	int64_t path[N * 3];
	for (int i = 0; i < N; i++) {
		int64_t leaf, mid, top;
		if (i < 10) {
			leaf = 0, mid = 0, top = 0;
		} else if (i < 12) {
			leaf = 1, mid = 1, top = 0;
		} else {
			leaf = 2, mid = 2, top = 1;
		}
		/* spread the clusters over the stream (17 is prime to 42) */
		int j = (i * 17) % N;
		path[j * 3 + 0] = leaf;
		path[j * 3 + 1] = mid;
		path[j * 3 + 2] = top;
	}
	size_t out[N], n, out2[N], n2;
	CHECK_EQ_INT(wn_sel_balanced(path, N, 3, 12, 9, out, &n, err, sizeof err), 0);
	CHECK_EQ_INT(n, 12);
	CHECK(sorted_distinct(out, n, N));
	unsigned per_mid[3] = {0};
	for (size_t i = 0; i < n; i++)
		per_mid[path[out[i] * 3 + 1]]++;
	CHECK_EQ_INT(per_mid[0], 4);
	CHECK_EQ_INT(per_mid[1], 2);
	CHECK_EQ_INT(per_mid[2], 6);
	CHECK_EQ_INT(wn_sel_balanced(path, N, 3, 12, 9, out2, &n2, err, sizeof err), 0);
	CHECK(n2 == n && memcmp(out, out2, n * sizeof *out) == 0);
	/* target 13: cut 6 leaves 1 extra for a top cluster larger than 6 —
	 * both are (12 and 30 items): either gets it, the total is exact */
	CHECK_EQ_INT(wn_sel_balanced(path, N, 3, 13, 9, out, &n, err, sizeof err), 0);
	CHECK_EQ_INT(n, 13);
}

/* The remainder of a split goes to each eligible cluster equally often. */
static void test_balanced_remainder_fair(void)
{
	/* 3 top clusters of 5 items (one level), target 4: cut 1, one extra */
	int64_t path[15];
	for (int i = 0; i < 15; i++)
		path[i] = i % 3;
	unsigned extra[3] = {0};
	size_t out[15], n;
	enum { RUNS = 1500 };
	for (uint64_t s = 0; s < RUNS; s++) {
		CHECK_EQ_INT(wn_sel_balanced(path, 15, 1, 4, s, out, &n, err, sizeof err), 0);
		CHECK_EQ_INT(n, 4);
		unsigned c[3] = {0};
		for (size_t i = 0; i < n; i++)
			c[path[out[i]]]++;
		for (int g = 0; g < 3; g++) {
			CHECK(c[g] == 1 || c[g] == 2);
			extra[g] += c[g] == 2;
		}
	}
	double p = 1.0 / 3, sd = sqrt(RUNS * p * (1 - p));
	for (int g = 0; g < 3; g++)
		CHECK_NEAR(extra[g], RUNS * p, 5 * sd);
}

/* ---- water-filling ---------------------------------------------------- */

/* DBP's worked example (issue 20), by hand: C = d_inter x d_intra = [0.1,
 * 0.2], P = softmax(C / 0.5) = [e^0.2, e^0.4] / sum = [0.450166, 0.549834],
 * M = 100, lb = min(floor(100/2 x 0.5), |C_j| - 1) = 25: sizes 200, 200 ->
 * [45, 55]; |C_0| = 30 (ub 30, lb 25) -> [30, 70]. */
static void test_water_fill_dbp_example(void)
{
	double e0 = exp(0.2), e1 = exp(0.4);
	double want[2] = {100 * e0 / (e0 + e1), 100 * e1 / (e0 + e1)};
	size_t lb[2] = {25, 25}, ub[2] = {200, 200}, q[2];
	CHECK_EQ_INT(wn_sel_water_fill_int(want, lb, ub, 2, 100, q, err, sizeof err), 0);
	CHECK_EQ_INT(q[0], 45);
	CHECK_EQ_INT(q[1], 55);
	ub[0] = 30;
	CHECK_EQ_INT(wn_sel_water_fill_int(want, lb, ub, 2, 100, q, err, sizeof err), 0);
	CHECK_EQ_INT(q[0], 30);
	CHECK_EQ_INT(q[1], 70);
	double x[2], dlb[2] = {25, 25}, dub[2] = {30, 200};
	CHECK_EQ_INT(wn_sel_water_fill(want, dlb, dub, 2, 100, x, err, sizeof err), 0);
	CHECK_NEAR(x[0], 30, 1e-12);
	CHECK_NEAR(x[1], 70, 1e-12);
}

/* Equal wants and lb 0 give the balanced split min(cut, size): sizes
 * [10,3,50,7], 21 -> [6,3,6,6] exactly; 20 -> 5 2/3 three times and 3, which
 * round to 6,3,6,6 = 21; one comes back from the lowest index of the tied
 * residuals -> [5,3,6,6]. Half to even: [0.5,1.5,2.5,3.5] summing to 8
 * rounds to [0,2,2,4]. */
static void test_water_fill_balanced_and_rounding(void)
{
	double want[4] = {1, 1, 1, 1}, x[4];
	size_t lb[4] = {0, 0, 0, 0}, ub[4] = {10, 3, 50, 7}, q[4];
	CHECK_EQ_INT(wn_sel_water_fill_int(want, lb, ub, 4, 21, q, err, sizeof err), 0);
	CHECK(q[0] == 6 && q[1] == 3 && q[2] == 6 && q[3] == 6);
	double dlb[4] = {0, 0, 0, 0}, dub[4] = {10, 3, 50, 7};
	CHECK_EQ_INT(wn_sel_water_fill(want, dlb, dub, 4, 20, x, err, sizeof err), 0);
	CHECK_NEAR(x[0], 17.0 / 3, 1e-12);
	CHECK_NEAR(x[1], 3, 1e-12);
	CHECK_EQ_INT(wn_sel_water_fill_int(want, lb, ub, 4, 20, q, err, sizeof err), 0);
	CHECK(q[0] == 5 && q[1] == 3 && q[2] == 6 && q[3] == 6);
	double w2[4] = {0.5, 1.5, 2.5, 3.5};
	size_t ub2[4] = {10, 10, 10, 10};
	CHECK_EQ_INT(wn_sel_water_fill_int(w2, lb, ub2, 4, 8, q, err, sizeof err), 0);
	CHECK(q[0] == 0 && q[1] == 2 && q[2] == 2 && q[3] == 4);
	CHECK_EQ_INT(wn_sel_water_fill_int(w2, lb, ub2, 4, 41, q, err, sizeof err), -1);
	CHECK(strstr(err, "outside") != NULL);
}

/* Random instances: the projection's optimality conditions (free entries
 * share one water level L = want - x; entries at ub have want - ub >= L,
 * at lb want - lb <= L), and the integer quotas sum to the total inside
 * the bounds. */
static void test_water_fill_random_kkt(void)
{
	uint64_t st = 12345;
	for (int rep = 0; rep < 200; rep++) {
		enum { M = 9 };
		double want[M], dlb[M], dub[M], x[M];
		size_t lb[M], ub[M], q[M], slb = 0, sub = 0;
		for (int j = 0; j < M; j++) {
			st = st * 6364136223846793005ull + 1442695040888963407ull;
			ub[j] = (size_t)(st >> 58); /* 0..63 */
			lb[j] = ub[j] ? (size_t)((st >> 40) % (ub[j] + 1)) / 2 : 0;
			want[j] = (double)((st >> 20) % 1000) / 17.0;
			dlb[j] = (double)lb[j];
			dub[j] = (double)ub[j];
			slb += lb[j];
			sub += ub[j];
		}
		size_t total = slb + (sub - slb) * (size_t)(rep % 7) / 6;
		CHECK_EQ_INT(wn_sel_water_fill(want, dlb, dub, M, (double)total, x, err, sizeof err), 0);
		double sum = 0, L = NAN;
		for (int j = 0; j < M; j++) {
			sum += x[j];
			if (x[j] > dlb[j] + 1e-9 && x[j] < dub[j] - 1e-9) {
				if (isnan(L))
					L = want[j] - x[j];
				CHECK_NEAR(want[j] - x[j], L, 1e-9);
			}
		}
		CHECK_NEAR(sum, (double)total, 1e-9);
		for (int j = 0; !isnan(L) && j < M; j++) {
			if (x[j] >= dub[j] - 1e-9 && dub[j] > dlb[j])
				CHECK(want[j] - dub[j] >= L - 1e-9);
			if (x[j] <= dlb[j] + 1e-9 && dub[j] > dlb[j])
				CHECK(want[j] - dlb[j] <= L + 1e-9);
		}
		CHECK_EQ_INT(wn_sel_water_fill_int(want, lb, ub, M, total, q, err, sizeof err), 0);
		size_t qs = 0;
		for (int j = 0; j < M; j++) {
			CHECK(q[j] >= lb[j] && q[j] <= ub[j]);
			CHECK(fabs((double)q[j] - x[j]) < 1.0 + 1e-9);
			qs += q[j];
		}
		CHECK_EQ_INT(qs, total);
	}
}

/* The worked example of find_subcluster_target_size (Vo et al.'s
 * reference, multiplier 1), computed by hand: sizes [10,3,50,7]. t=20:
 * min(5,.) sums to 18 and min(6,.) to 21, so the cut is 5 and the 2 left
 * over go one each to two of the clusters larger than 5, {0,2,3}. t=21:
 * min(6,.) sums to exactly 21: [6,3,6,6]. */
static void test_split_budget_worked_example(void)
{
	size_t sizes[4] = {10, 3, 50, 7}, b[4];
	int seen[4] = {0, 0, 0, 0};
	for (uint64_t seed = 0; seed < 60; seed++) {
		CHECK_EQ_INT(wn_sel_split_budget(sizes, 4, 20, seed, 1, b, err, sizeof err), 1);
		CHECK_EQ_INT(b[1], 3);
		CHECK_EQ_INT(b[0] + b[1] + b[2] + b[3], 20);
		int plus = 0;
		for (int i = 0; i < 4; i++) {
			if (i == 1)
				continue;
			CHECK(b[i] == 5 || b[i] == 6);
			plus += b[i] == 6;
			seen[i] += b[i] == 6;
		}
		CHECK_EQ_INT(plus, 2);
	}
	/* each of {0,2,3} gets an extra one sometimes (2/3 of seeds on average) */
	CHECK(seen[0] > 20 && seen[2] > 20 && seen[3] > 20);
	CHECK_EQ_INT(seen[1], 0);
	CHECK_EQ_INT(wn_sel_split_budget(sizes, 4, 21, 7, 1, b, err, sizeof err), 0); /* no draw */
	CHECK(b[0] == 6 && b[1] == 3 && b[2] == 6 && b[3] == 6);
	/* everything fits: all of every child */
	CHECK_EQ_INT(wn_sel_split_budget(sizes, 4, 70, 7, 1, b, err, sizeof err), 0);
	CHECK(b[0] == 10 && b[1] == 3 && b[2] == 50 && b[3] == 7);
	CHECK_EQ_INT(wn_sel_split_budget(sizes, 4, 100, 7, 1, b, err, sizeof err), 0);
	CHECK(b[0] == 10 && b[1] == 3 && b[2] == 50 && b[3] == 7);
}

int main(void)
{
	RUN(test_frac_count);
	RUN(test_filter_parse);
	RUN(test_top_desc_asc);
	RUN(test_top_ties_and_bounds);
	RUN(test_groups_intern);
	RUN(test_per_group_first_and_top);
	RUN(test_mix_quota);
	RUN(test_upweight);
	RUN(test_balanced_exact);
	RUN(test_uniform_basic);
	RUN(test_uniform_frequencies);
	RUN(test_weighted_frequencies);
	RUN(test_weighted_log_and_zero);
	RUN(test_weighted_large_logs);
	RUN(test_per_group_sampled);
	RUN(test_epochs);
	RUN(test_mix_resample);
	RUN(test_split_budget_worked_example);
	RUN(test_water_fill_dbp_example);
	RUN(test_water_fill_balanced_and_rounding);
	RUN(test_water_fill_random_kkt);
	RUN(test_balanced_shares);
	RUN(test_balanced_remainder_fair);
	return TEST_EXIT;
}
