/*
 * tests/unit/test_eval.c — selectors/eval.h against hand cases: the option
 * parsers, the budget round(f n), the picks (high / low by score with ties
 * to the earlier record, random nested over budgets and inside the pool),
 * the statistics ([1,2,3,4]: mean 2.5, sample sd sqrt(5/3)); wn_dyn_fit
 * gives the held-out accuracy per epoch that wn_dyn_run's epoch hook
 * reports for the same seed (one loop, two callers), also when its
 * training list names rows more than once (the same accuracies as
 * wn_dyn_run on a matrix holding the copies: `sources plan`'s pilots) and
 * refuses a row number outside the matrix; a whole curve on
 * separable blobs has equal accuracies for every rule at f = 1, and the
 * same bytes at 1 and 2 threads.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/rng.h"
#include "selectors/dynamics.h"
#include "selectors/eval.h"
#include "tests/unit/test.h"

static wn_core *ctx(int threads)
{
	char err[256];
	wn_core *c = wn_core_open(WN_DEVICE_CPU, threads, err, sizeof err);
	if (!c)
		fprintf(stderr, "%s\n", err);
	return c;
}

static void test_parsers(void)
{
	double f[WN_EVAL_MAX_FRACS];
	int nf, rules[WN_EVAL_MAX_CURVES], nr;
	char err[256];
	CHECK(wn_eval_parse_fracs("0.1,0.5,1", f, &nf, err, sizeof err) == 0);
	CHECK_EQ_INT(nf, 3);
	CHECK_NEAR(f[1], 0.5, 0);
	CHECK(wn_eval_parse_fracs("0.5,0.1", f, &nf, err, sizeof err) == -1);
	CHECK(strstr(err, "must increase") != NULL);
	CHECK(wn_eval_parse_fracs("0,0.5", f, &nf, err, sizeof err) == -1);
	CHECK(strstr(err, "in (0, 1]") != NULL);
	CHECK(wn_eval_parse_fracs("0.5,x", f, &nf, err, sizeof err) == -1);
	CHECK(wn_eval_parse_fracs("1.5", f, &nf, err, sizeof err) == -1);
	CHECK(wn_eval_parse_fracs("0.5,", f, &nf, err, sizeof err) == -1);
	CHECK(wn_eval_parse_keep("high,random,low", rules, &nr, err, sizeof err) == 0);
	CHECK_EQ_INT(nr, 2);
	CHECK_EQ_INT(rules[0], WN_EVAL_HIGH);
	CHECK_EQ_INT(rules[1], WN_EVAL_LOW);
	CHECK(wn_eval_parse_keep("random", rules, &nr, err, sizeof err) == 0);
	CHECK_EQ_INT(nr, 0);
	CHECK(wn_eval_parse_keep("high,high", rules, &nr, err, sizeof err) == -1);
	CHECK(wn_eval_parse_keep("top", rules, &nr, err, sizeof err) == -1);
	CHECK(strstr(err, "high, low, softmax, linear or random") != NULL);
	CHECK(wn_eval_parse_keep("linear,softmax", rules, &nr, err, sizeof err) == 0);
	CHECK(nr == 2 && rules[0] == WN_EVAL_LINEAR && rules[1] == WN_EVAL_SOFTMAX);
}

static void test_budget_pick_stats(void)
{
	CHECK_EQ_INT(wn_eval_budget(0.25, 10), 3); /* 2.5 rounds up */
	CHECK_EQ_INT(wn_eval_budget(0.1, 7), 1);
	CHECK_EQ_INT(wn_eval_budget(1, 480), 480);
	CHECK_EQ_INT(wn_eval_budget(0.01, 40), 0);
	const double sc[6] = {3, 1, 3, 2, 0, 9};
	const int64_t pool[5] = {0, 1, 2, 3, 4}; /* record 5 is held out */
	int64_t out[5];
	CHECK(wn_eval_pick(WN_EVAL_HIGH, sc, pool, 5, 2, 0, 0, NULL, out) == 0);
	CHECK_EQ_INT(out[0], 0);
	CHECK_EQ_INT(out[1], 2);
	CHECK(wn_eval_pick(WN_EVAL_HIGH, sc, pool, 5, 3, 0, 0, NULL, out) == 0);
	CHECK_EQ_INT(out[2], 3); /* 3, 3, 2: records 0, 2, 3 */
	CHECK(wn_eval_pick(WN_EVAL_LOW, sc, pool, 5, 2, 0, 0, NULL, out) == 0);
	CHECK_EQ_INT(out[0], 1);
	CHECK_EQ_INT(out[1], 4);
	const int64_t sub[3] = {1, 2, 5};
	CHECK(wn_eval_pick(WN_EVAL_HIGH, sc, sub, 3, 1, 0, 0, NULL, out) == 0);
	CHECK_EQ_INT(out[0], 5);
	/* random: sorted, inside the pool, nested over budgets, per repeat */
	int64_t big[40], a[10], b[20], c2[20];
	for (int i = 0; i < 40; i++)
		big[i] = 2 * i + 1;
	CHECK(wn_eval_pick(WN_EVAL_RANDOM, NULL, big, 40, 10, 7, 0, NULL, a) == 0);
	CHECK(wn_eval_pick(WN_EVAL_RANDOM, NULL, big, 40, 20, 7, 0, NULL, b) == 0);
	CHECK(wn_eval_pick(WN_EVAL_RANDOM, NULL, big, 40, 20, 7, 1, NULL, c2) == 0);
	int nested = 1, sorted = 1, odd = 1;
	for (int i = 0; i < 10; i++) {
		int found = 0;
		for (int j = 0; j < 20; j++)
			found |= b[j] == a[i];
		nested &= found;
	}
	for (int j = 0; j < 20; j++) {
		sorted &= j == 0 || b[j] > b[j - 1];
		odd &= b[j] % 2 == 1;
	}
	CHECK(nested && sorted && odd);
	CHECK(memcmp(b, c2, sizeof b) != 0);
	/* probabilistic keeps: first-draw shares over 14000 repeats, against
	 * weights 1 : 2 : 4 (softmax of 0, ln 2, ln 4; at T = 2 of 0, 2 ln 2,
	 * 4 ln 2) and 0.1 : 0.55 : 1 (linear from [0, 10] to [0.1, 1]) */
	const double s1[3] = {0, log(2.0), log(4.0)}, s2[3] = {0, 2 * log(2.0), 4 * log(2.0)};
	const double s3[3] = {0, 5, 10};
	const int64_t p3[3] = {0, 1, 2};
	wn_eval_prob pp = {1, 0.1}, pt = {2, 0.1};
	const struct {
		int rule;
		const double *sc;
		const wn_eval_prob *pp;
		double w[3];
	} pc[3] = {{WN_EVAL_SOFTMAX, s1, &pp, {1, 2, 4}},
		   {WN_EVAL_SOFTMAX, s2, &pt, {1, 2, 4}},
		   {WN_EVAL_LINEAR, s3, &pp, {0.1, 0.55, 1}}};
	for (int t = 0; t < 3; t++) {
		int hits[3] = {0, 0, 0}, R = 14000;
		for (int r = 0; r < R; r++) {
			int64_t one;
			CHECK(wn_eval_pick(pc[t].rule, pc[t].sc, p3, 3, 1, 3, r, pc[t].pp, &one) == 0);
			hits[one]++;
		}
		double W = pc[t].w[0] + pc[t].w[1] + pc[t].w[2];
		for (int j = 0; j < 3; j++) {
			double q = pc[t].w[j] / W, sd = sqrt(q * (1 - q) / R);
			CHECK_NEAR((double)hits[j] / R, q, 4 * sd);
		}
	}
	int64_t all3[3];
	CHECK(wn_eval_pick(WN_EVAL_LINEAR, s3, p3, 3, 3, 3, 0, &pp, all3) == 0);
	CHECK(all3[0] == 0 && all3[1] == 1 && all3[2] == 2);
	const double v[4] = {1, 2, 3, 4};
	double m, sd, lo, hi;
	wn_eval_stats(v, 4, &m, &sd, &lo, &hi);
	CHECK_NEAR(m, 2.5, 1e-12);
	CHECK_NEAR(sd, sqrt(5.0 / 3.0), 1e-12);
	CHECK_NEAR(lo, 1, 0);
	CHECK_NEAR(hi, 4, 0);
	wn_eval_stats(v, 1, &m, &sd, &lo, &hi);
	CHECK_NEAR(sd, 0, 0);
}

/* n points of 3 classes around three centres, labels cycling. */
static void blobs(int64_t n, float *X, int32_t *y)
{
	const float cx[3] = {2, -1, -1}, cy[3] = {0, 1.7f, -1.7f};
	for (int64_t i = 0; i < n; i++) {
		y[i] = (int32_t)(i % 3);
		X[2 * i] = cx[y[i]] + (float)(wn_rng_uniform(5, 0, (uint64_t)(2 * i)) - 0.5) * 2.5f;
		X[2 * i + 1] = cy[y[i]] + (float)(wn_rng_uniform(5, 0, (uint64_t)(2 * i + 1)) - 0.5) * 2.5f;
	}
}

struct seen {
	double acc[8];
	int n;
};

static void on_epoch(void *ctx, int run, int epoch, double loss, double acc, int64_t nh)
{
	struct seen *s = ctx;
	if (run == 0 && s->n < 8)
		s->acc[s->n++] = acc;
}

static wn_dyn_opts small_opts(void)
{
	wn_dyn_opts o;
	wn_dyn_opts_default(&o);
	o.hidden = 8;
	o.train.batch = 16;
	o.train.epochs = 4;
	o.train.lr = 0.02f;
	o.train.seed = 11;
	o.score_epoch = 1;
	return o;
}

/* wn_dyn_fit on rows tr / ho of X gives, epoch by epoch, the held-out
 * accuracies wn_dyn_run reports (through its epoch hook) on the matrix Xr
 * with those rows laid out and `held` marking the held-out ones; and the
 * model learned (blobs: not a vacuous match of zeros). */
static void fit_matches_run(wn_core *c, const wn_dyn_opts *o, const float *Xr, const int32_t *yr,
			    int64_t nr, const unsigned char *held, const float *X, const int32_t *y,
			    int64_t n, const int64_t *tr, int64_t nt, const int64_t *ho, int64_t nh)
{
	struct seen seen = {{0}, 0};
	wn_dyn_hooks hooks = {.epoch = on_epoch, .ctx = &seen};
	wn_dyn_scores s;
	char err[256] = "";
	CHECK(wn_dyn_run(c, o, Xr, yr, nr, 2, 3, held, &hooks, &s, err, sizeof err) == 0);
	wn_dyn_scores_free(&s);
	double acc[4];
	CHECK(wn_dyn_fit(c, o, X, y, n, 2, 3, tr, nt, ho, nh, wn_rng_derive(11, 0), acc, err,
			 sizeof err) == 0);
	CHECK_EQ_INT(seen.n, 4);
	for (int e = 0; e < 4; e++)
		CHECK_NEAR(acc[e], seen.acc[e], 0);
	CHECK(acc[3] > 0.8);
}

static void test_fit_is_trains_loop(void)
{
	enum { N = 90 };
	float X[2 * N];
	int32_t y[N];
	unsigned char h[N];
	int64_t tr[N], ho[N], nt = 0, nh = 0;
	blobs(N, X, y);
	for (int i = 0; i < N; i++) {
		h[i] = i % 5 == 2;
		if (h[i])
			ho[nh++] = i;
		else
			tr[nt++] = i;
	}
	wn_dyn_opts o = small_opts();
	wn_core *c = ctx(1);
	fit_matches_run(c, &o, X, y, N, h, X, y, N, tr, nt, ho, nh);
	double acc[4];
	char err[256] = "";
	CHECK(wn_dyn_fit(c, &o, X, y, N, 2, 3, tr, 0, ho, nh, 1, acc, err, sizeof err) == -1);
	CHECK(strstr(err, "0 training") != NULL);
	wn_core_close(c);
}

/* Rows listed twice are trained on twice: the same accuracies as wn_dyn_run
 * on a matrix that holds the copies (training rows first, then held out). */
static void test_fit_repeats(void)
{
	enum { N = 60, T = 100, H = 20 };
	float X[2 * N], Xc[2 * (T + H)];
	int32_t y[N], yc[T + H];
	unsigned char h[T + H];
	int64_t tr[T], ho[H];
	blobs(N, X, y);
	for (int i = 0; i < T + H; i++) {
		int64_t src = i < T ? (i * 7) % 40 : 40 + (i - T); /* 40 rows, some 3 times; 20 held out */
		if (i < T)
			tr[i] = src;
		else
			ho[i - T] = src;
		memcpy(Xc + 2 * i, X + 2 * src, 2 * sizeof *X);
		yc[i] = y[src];
		h[i] = i >= T;
	}
	wn_dyn_opts o = small_opts();
	wn_core *c = ctx(1);
	fit_matches_run(c, &o, Xc, yc, T + H, h, X, y, N, tr, T, ho, H);
	double acc[4];
	char err[256] = "";
	tr[5] = N;
	CHECK(wn_dyn_fit(c, &o, X, y, N, 2, 3, tr, T, ho, H, 1, acc, err, sizeof err) == -1);
	CHECK(strstr(err, "fit: a row number outside 0..59") != NULL);
	wn_core_close(c);
}

static void test_curve(void)
{
	enum { N = 120 };
	float X[2 * N];
	int32_t y[N];
	double score[N];
	unsigned char h[N];
	blobs(N, X, y);
	for (int i = 0; i < N; i++) {
		score[i] = fabs(X[2 * i]) + 0.01 * i; /* any ranking */
		h[i] = i % 4 == 0;
	}
	wn_dyn_opts o = small_opts();
	o.train.epochs = 3;
	wn_eval_result res[2];
	char err[256] = "";
	for (int t = 0; t < 2; t++) {
		wn_core *c = ctx(t + 1);
		res[t] = (wn_eval_result){.nfracs = 3, .repeats = 2, .ncurves = 3,
					  .fracs = {0.2, 0.5, 1},
					  .rules = {WN_EVAL_RANDOM, WN_EVAL_HIGH, WN_EVAL_LOW}};
		CHECK(wn_eval_run(c, &o, X, y, score, N, 2, 3, h, 9, &res[t], NULL, NULL, err,
				  sizeof err) == 0);
		wn_core_close(c);
	}
	CHECK_EQ_INT(res[0].n_pool, 90);
	CHECK_EQ_INT(res[0].n_hold, 30);
	CHECK_EQ_INT(res[0].budget[0], 18);
	CHECK_EQ_INT(res[0].budget[2], 90);
	for (int r = 0; r < 2; r++) {
		CHECK_NEAR(WN_EVAL_ACC(&res[0], 1, 2, r), WN_EVAL_ACC(&res[0], 0, 2, r), 0);
		CHECK_NEAR(WN_EVAL_ACC(&res[0], 2, 2, r), WN_EVAL_ACC(&res[0], 0, 2, r), 0);
	}
	CHECK(!memcmp(res[0].acc, res[1].acc, 3 * 3 * 2 * sizeof(double)));
	wn_eval_meta m = {"kind", "winnow.s", "mlp", 8, 3, 9, 3};
	wn_buf a = WN_BUF_INIT, b = WN_BUF_INIT;
	CHECK(wn_eval_svg(&res[0], &m, &a) == 0 && wn_eval_table(&res[0], &m, &b) == 0);
	CHECK(strstr(a.data, "class=\"random-band\"") && strstr(a.data, "class=\"curve-high\"") &&
	      strstr(a.data, "held-out accuracy") && strstr(a.data, "</svg>"));
	CHECK(strstr(b.data, "random_mean") && strstr(b.data, "low_sd"));
	wn_buf_free(&a);
	wn_buf_free(&b);
	for (int t = 0; t < 2; t++)
		wn_eval_result_free(&res[t]);
}

int main(void)
{
	RUN(test_parsers);
	RUN(test_budget_pick_stats);
	RUN(test_fit_is_trains_loop);
	RUN(test_fit_repeats);
	RUN(test_curve);
	return TEST_EXIT;
}
