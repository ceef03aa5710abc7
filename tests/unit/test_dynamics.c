/*
 * tests/unit/test_dynamics.c — selectors/dynamics.h against hand
 * computations: the issue's test values (forgetting 0,1,1,0,1,0,0,1 -> 2;
 * margins [1,2,3]/1 -> -1 and [6,5,4]/0 -> 1; VoG of [1,0],[2,0],[3,3]
 * -> 1.115355 with std, 4/3 with variance; EL2N of logits [2,1,0]/0 ->
 * 0.424336 and GraNd with a bias term 1.039407), then a whole run on nine
 * separable 2-D points of 3 classes replayed here in double precision:
 * full-batch gradients, two AdamW steps by their formula, and every score
 * (EL2N, GraNd, forgetting, AUM, VoG) from the replayed weights. Also: the
 * log-every cadence's evaluation count, held-out rows that do not change
 * training, and identical scores at 1 and 2 threads.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/rng.h"
#include "core/train.h"
#include "selectors/dynamics.h"
#include "tests/unit/test.h"

static wn_core *ctx(int threads)
{
	char err[256];
	wn_core *c = wn_core_open(WN_DEVICE_CPU, threads, err, sizeof err);
	if (!c)
		fprintf(stderr, "%s\n", err);
	return c;
}

static void test_issue_values(void)
{
	const unsigned char seq[8] = {0, 1, 1, 0, 1, 0, 0, 1}, never[3] = {0, 0, 0};
	CHECK_EQ_INT(wn_dyn_forgetting(seq, 8), 2);
	CHECK_EQ_INT(wn_dyn_forgetting(never, 3), 3);
	const float z1[3] = {1, 2, 3}, z2[3] = {6, 5, 4};
	CHECK_NEAR(wn_dyn_margin(z1, 3, 1), -1.0, 1e-12);
	CHECK_NEAR(wn_dyn_margin(z2, 3, 0), 1.0, 1e-12);
	CHECK_EQ_INT(wn_dyn_argmax(z1, 3), 2);
	const float g[6] = {1, 0, 2, 0, 3, 3};
	CHECK_NEAR(wn_dyn_vog(g, 3, 2, 1), 1.115355, 1e-6);
	/* variances 2/3 and 2: mean 4/3 */
	CHECK_NEAR(wn_dyn_vog(g, 3, 2, 0), 4.0 / 3.0, 1e-12);
	/* standardising: class 0 = {1, 3} -> {-1, 1}; class 1 = {5} -> 0 */
	double v[3] = {1, 5, 3};
	const int32_t y[3] = {0, 1, 0};
	wn_dyn_normalise(v, y, 3, 2, WN_DYN_VOG_CLASS);
	CHECK_NEAR(v[0], -1, 1e-12);
	CHECK_NEAR(v[1], 0, 1e-12);
	CHECK_NEAR(v[2], 1, 1e-12);
	/* EL2N and GraNd of the issue: W = 0, b = [2,1,0] gives logits [2,1,0] at x = [1,2] */
	wn_core *c = ctx(1);
	wn_model *m = wn_model_new(c, 2, 0, 3, 0, 4, 0, NULL, 0);
	float P[9] = {0, 0, 0, 0, 0, 0, 2, 1, 0}, x[2] = {1, 2}, el2n, grand;
	int32_t lab = 0;
	CHECK(wn_model_set_params(m, P) == 0);
	CHECK(wn_model_scores(m, x, &lab, 1, NULL, &el2n, &grand, NULL, NULL) == 0);
	CHECK_NEAR(el2n, 0.424336, 1e-6);
	CHECK_NEAR(grand, 1.039407, 1e-6);
	/* PVI: f_null(y) = 1/2, f_x(y) = softmax([2,1,0])_0 -> 0.411949 bits */
	CHECK_NEAR(wn_dyn_pvi(log(2.0), -log(exp(2.0) / (exp(2.0) + exp(1.0) + 1))), 0.4119489, 1e-6);
	/* quantiles as numpy.percentile (linear): [4,1,3,2] at 0.99 -> 3.97 */
	double qv[4] = {4, 1, 3, 2}, q1[1] = {7};
	CHECK_NEAR(wn_dyn_quantile(qv, 4, 0.99), 3.97, 1e-12);
	CHECK_NEAR(wn_dyn_quantile(qv, 4, 0.5), 2.5, 1e-12);
	CHECK_NEAR(wn_dyn_quantile(q1, 1, 0.99), 7, 0);
	/* the bias-free form ||p - y|| ||x|| of the issue */
	CHECK_NEAR(el2n * sqrt(x[0] * x[0] + x[1] * x[1]), 0.948844, 1e-6);
	wn_model_free(m);
	wn_core_close(c);
}

/* Nine points, three per class, around (2,0), (-1,1.7), (-1,-1.7). */
static const float PTS[18] = {2.0f, 0.1f,  1.8f, -0.3f, 2.4f, 0.2f,  -1.1f, 1.6f, -0.7f,
			      1.9f, -1.3f, 1.5f, -0.9f, -1.8f, -1.2f, -1.5f, -0.8f, -1.9f};
static const int32_t LAB[9] = {0, 0, 0, 1, 1, 1, 2, 2, 2};

struct ref {
	double W[2][3], b[3], mw[2][3], vw[2][3], mb[3], vb[3];
};

static void ref_logits(const struct ref *r, const float *x, double *z)
{
	for (int j = 0; j < 3; j++)
		z[j] = r->b[j] + x[0] * r->W[0][j] + x[1] * r->W[1][j];
}

static void ref_probs(const struct ref *r, const float *x, double *p)
{
	double z[3], mx, s = 0;
	ref_logits(r, x, z);
	mx = z[0] > z[1] ? z[0] : z[1];
	mx = mx > z[2] ? mx : z[2];
	for (int j = 0; j < 3; j++)
		s += exp(z[j] - mx);
	for (int j = 0; j < 3; j++)
		p[j] = exp(z[j] - mx) / s;
}

static double ref_adam(double *w, double *m, double *v, double g, int t, double lr, double wd)
{
	*m = 0.9 * *m + 0.1 * g;
	*v = 0.999 * *v + 0.001 * g * g;
	double mh = *m / (1 - pow(0.9, t)), vh = *v / (1 - pow(0.999, t));
	double upd = mh / (sqrt(vh) + 1e-8) + wd * *w;
	return *w -= lr * upd;
}

/* One full-batch AdamW step of the linear model, in double. */
static void ref_step(struct ref *r, int t, double lr, double wd)
{
	double gW[2][3] = {{0}}, gb[3] = {0};
	for (int i = 0; i < 9; i++) {
		double p[3];
		ref_probs(r, PTS + 2 * i, p);
		for (int j = 0; j < 3; j++) {
			double e = (p[j] - (j == LAB[i])) / 9.0;
			gW[0][j] += PTS[2 * i] * e;
			gW[1][j] += PTS[2 * i + 1] * e;
			gb[j] += e;
		}
	}
	for (int j = 0; j < 3; j++) {
		for (int k = 0; k < 2; k++)
			ref_adam(&r->W[k][j], &r->mw[k][j], &r->vw[k][j], gW[k][j], t, lr, wd);
		ref_adam(&r->b[j], &r->mb[j], &r->vb[j], gb[j], t, lr, 0);
	}
}

static double ref_el2n(const struct ref *r, int i)
{
	double p[3], s = 0;
	ref_probs(r, PTS + 2 * i, p);
	for (int j = 0; j < 3; j++)
		s += (p[j] - (j == LAB[i])) * (p[j] - (j == LAB[i]));
	return sqrt(s);
}

static wn_dyn_opts tiny_opts(void)
{
	wn_dyn_opts o;
	wn_dyn_opts_default(&o);
	o.hidden = 0;
	o.train.batch = 9; /* full batch: one step per epoch */
	o.train.epochs = 2;
	o.train.lr = 0.5f;
	o.train.seed = 3;
	o.score_epoch = 2;
	return o;
}

static void test_run_against_replay(void)
{
	wn_dyn_opts o = tiny_opts();
	wn_core *c = ctx(1);
	/* the run's initial weights: run 0 draws from wn_rng_derive(seed, 0) */
	wn_model *m = wn_model_new(c, 2, 0, 3, 0, 9, wn_rng_derive(3, 0), NULL, 0);
	float P0[9];
	CHECK(m && wn_model_get_params(m, P0) == 0);
	wn_model_free(m);
	struct ref r;
	memset(&r, 0, sizeof r);
	for (int j = 0; j < 3; j++) {
		r.W[0][j] = P0[j], r.W[1][j] = P0[3 + j], r.b[j] = P0[6 + j];
	}
	double grand[9], el2n[9], aum[9] = {0}, Wy[2][9][2], tracin[9] = {0}, loss[2][9];
	int right[2][9];
	for (int i = 0; i < 9; i++) {
		double nx = PTS[2 * i] * PTS[2 * i] + PTS[2 * i + 1] * PTS[2 * i + 1];
		grand[i] = ref_el2n(&r, i) * sqrt(nx + 1);
	}
	for (int t = 1; t <= 2; t++) {
		ref_step(&r, t, 0.5, 0.01);
		for (int i = 0; i < 9; i++) {
			double z[3];
			ref_logits(&r, PTS + 2 * i, z);
			int am = z[1] > z[0] ? 1 : 0;
			am = z[2] > z[am] ? 2 : am;
			right[t - 1][i] = am == LAB[i];
			double other = -INFINITY;
			for (int j = 0; j < 3; j++)
				if (j != LAB[i] && z[j] > other)
					other = z[j];
			aum[i] += (z[LAB[i]] - other) / 2;
			double p[3], nx = PTS[2 * i] * PTS[2 * i] + PTS[2 * i + 1] * PTS[2 * i + 1];
			ref_probs(&r, PTS + 2 * i, p);
			loss[t - 1][i] = -log(p[LAB[i]]);
			tracin[i] += ref_el2n(&r, i) * ref_el2n(&r, i) * (nx + 1);
			Wy[t - 1][i][0] = r.W[0][LAB[i]];
			Wy[t - 1][i][1] = r.W[1][LAB[i]];
		}
	}
	for (int i = 0; i < 9; i++)
		el2n[i] = ref_el2n(&r, i);
	wn_dyn_scores s;
	char err[256] = "";
	CHECK(wn_dyn_run(c, &o, PTS, LAB, 9, 2, 3, NULL, NULL, &s, err, sizeof err) == 0);
	CHECK_EQ_INT(s.evaluations, 2);
	CHECK_EQ_INT(s.steps, 2);
	int learned = 0;
	for (int i = 0; i < 9; i++) {
		CHECK_NEAR(s.grand[i], grand[i], 1e-5);
		CHECK_NEAR(s.el2n[i], el2n[i], 1e-5);
		CHECK_NEAR(s.aum[i], aum[i], 1e-4);
		unsigned char seq[2] = {(unsigned char)right[0][i], (unsigned char)right[1][i]};
		CHECK_NEAR(s.forgetting[i], (double)wn_dyn_forgetting(seq, 2), 0);
		/* linear: d z_y / d x = W[:, y]; variance over 2 checkpoints = (diff / 2)^2 */
		double d0 = (Wy[0][i][0] - Wy[1][i][0]) / 2, d1 = (Wy[0][i][1] - Wy[1][i][1]) / 2;
		CHECK_NEAR(s.vog[i], (d0 * d0 + d1 * d1) / 2, 1e-6);
		CHECK(s.vog[i] > 1e-4); /* the weights moved: not a vacuous 0 */
		/* TracIn (linear: weights and bias) over the 2 checkpoints; the loss
		 * trajectory; PVI against f_null, which on balanced labels never
		 * moves from b = 0: p_null = 1/3 */
		CHECK_NEAR(s.tracin[i], tracin[i], 1e-5);
		CHECK_EQ_INT(s.K, 2);
		CHECK_NEAR(s.traj[2 * i], loss[0][i], 1e-5);
		CHECK_NEAR(s.traj[2 * i + 1], loss[1][i], 1e-5);
		CHECK_NEAR(s.pvi[i], (log(3.0) - loss[1][i]) / log(2.0), 1e-5);
		learned += right[1][i];
	}
	CHECK(learned >= 6); /* separable: two large steps already sort most points */
	wn_dyn_scores_free(&s);
	wn_core_close(c);
}

static void test_cadence_and_errors(void)
{
	wn_dyn_opts o = tiny_opts();
	o.train.batch = 3; /* 3 steps an epoch, 6 in all */
	wn_core *c = ctx(1);
	wn_dyn_scores s;
	char err[256] = "";
	o.log_every = 2; /* steps 2, 4, 6 */
	CHECK(wn_dyn_run(c, &o, PTS, LAB, 9, 2, 3, NULL, NULL, &s, err, sizeof err) == 0);
	CHECK_EQ_INT(s.evaluations, 3);
	CHECK_EQ_INT(s.steps, 6);
	for (int i = 0; i < 9; i++)
		CHECK(s.forgetting[i] >= 0 && s.forgetting[i] <= 3);
	wn_dyn_scores_free(&s);
	o.log_every = 4; /* step 4, then the last step */
	CHECK(wn_dyn_run(c, &o, PTS, LAB, 9, 2, 3, NULL, NULL, &s, err, sizeof err) == 0);
	CHECK_EQ_INT(s.evaluations, 2);
	wn_dyn_scores_free(&s);
	o.score_epoch = 3;
	CHECK(wn_dyn_run(c, &o, PTS, LAB, 9, 2, 3, NULL, NULL, &s, err, sizeof err) == -1);
	CHECK(strstr(err, "score epoch 3") != NULL);
	o.score_epoch = 2;
	unsigned char all[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
	CHECK(wn_dyn_run(c, &o, PTS, LAB, 9, 2, 3, all, NULL, &s, err, sizeof err) == -1);
	CHECK(strstr(err, "every example is held out") != NULL);
	wn_core_close(c);
}

/* The trace the eval hook reports: per run, evaluation and row, the
 * correctness and the margin, reduced here by the definitions. */
enum { TR_RUNS = 2, TR_EVALS = 12 };
/* PTS with point 1 moved onto point 0 and labelled 2: where class 0 holds
 * two of three points, the copy labelled 1 is never learned */
static const float DUP[18] = {2.0f, 0.1f,  2.0f, 0.1f, 2.4f, 0.2f,  -1.1f, 1.6f, -0.7f,
			      1.9f, -1.3f, 1.5f, -0.9f, -1.8f, -1.2f, -1.5f, -0.8f, -1.9f};
static const int32_t NOISY[9] = {0, 1, 0, 1, 1, 1, 2, 2, 2};

struct trace {
	int64_t steps[TR_RUNS][TR_EVALS];
	int nev[TR_RUNS];
	int right[TR_RUNS][TR_EVALS][9];
	double margin[TR_RUNS][TR_EVALS][9];
};

static void on_eval(void *ctx, int run, int64_t step, int64_t first, int64_t B, const float *z)
{
	struct trace *t = ctx;
	if (first == 0) /* a new evaluation starts at row 0 */
		t->steps[run][t->nev[run]++] = step;
	int e = t->nev[run];
	for (int64_t b = 0; b < B; b++) {
		int64_t i = first + b;
		const float *zi = z + b * 3;
		int y = NOISY[i], best = 0;
		double other = -1e300;
		for (int j = 0; j < 3; j++) {
			if (zi[j] > zi[best])
				best = j;
			if (j != y && zi[j] > other)
				other = zi[j];
		}
		t->right[run][e - 1][i] = best == y;
		t->margin[run][e - 1][i] = zi[y] - other;
	}
}

static void test_trace(void)
{
	wn_dyn_opts o = tiny_opts();
	o.train.batch = 4; /* 3 steps an epoch (4, 4, 1) */
	o.train.epochs = 3;
	o.log_every = 1;
	o.runs = TR_RUNS;
	o.train.seed = 6; /* a seed whose trace has a never-learned and a forgotten example */
	wn_core *c = ctx(1);
	struct trace t;
	memset(&t, 0, sizeof t);
	wn_dyn_hooks hk = {.eval = on_eval, .ctx = &t};
	wn_dyn_scores s;
	char err[256] = "";
	CHECK(wn_dyn_run(c, &o, DUP, NOISY, 9, 2, 3, NULL, &hk, &s, err, sizeof err) == 0);
	CHECK_EQ_INT(s.evaluations, 9);
	for (int r = 0; r < TR_RUNS; r++) {
		CHECK_EQ_INT(t.nev[r], 9);
		for (int e = 0; e < 9; e++)
			CHECK_EQ_INT(t.steps[r][e], e + 1);
	}
	int never = 0, forgotten = 0;
	for (int i = 0; i < 9; i++) {
		double forget = 0, aum = 0;
		for (int r = 0; r < TR_RUNS; r++) {
			int ev = 0, ever = 0;
			double m = 0;
			for (int e = 0; e < 9; e++) {
				ever |= t.right[r][e][i];
				ev += e > 0 && t.right[r][e - 1][i] && !t.right[r][e][i];
				if (t.steps[r][e] >= 3) /* the first epoch ends at step 3 */
					m += t.margin[r][e][i] / 7;
			}
			forget += (ever ? ev : 9) / (double)TR_RUNS;
			aum += m / TR_RUNS;
			never += !ever;
			forgotten += ev > 0;
		}
		CHECK_NEAR(s.forgetting[i], forget, 1e-12);
		CHECK_NEAR(s.aum[i], aum, 1e-5);
	}
	CHECK(never > 0); /* the trace holds both cases the definition separates */
	CHECK(forgotten > 0);
	wn_dyn_scores_free(&s);
	wn_core_close(c);
}

struct seen {
	int calls, last_epoch;
	double last_acc;
	int64_t nh;
};

static void on_epoch(void *ctx, int run, int epoch, double loss, double acc, int64_t nh)
{
	struct seen *s = ctx;
	(void)run;
	(void)loss;
	s->calls++;
	s->last_epoch = epoch;
	s->last_acc = acc;
	s->nh = nh;
}

/* Held-out rows are scored but not trained on: training on the other rows
 * alone gives the same scores for them. */
static void test_holdout_not_trained(void)
{
	wn_dyn_opts o = tiny_opts();
	o.train.epochs = 5;
	o.runs = 2;
	wn_core *c = ctx(1);
	const unsigned char h[9] = {0, 1, 0, 0, 0, 1, 0, 0, 0};
	float sub[14];
	int32_t suby[7];
	int k = 0;
	for (int i = 0; i < 9; i++)
		if (!h[i]) {
			sub[2 * k] = PTS[2 * i], sub[2 * k + 1] = PTS[2 * i + 1], suby[k++] = LAB[i];
		}
	wn_dyn_scores a, b;
	struct seen seen = {0};
	wn_dyn_hooks seen_hooks = {.epoch = on_epoch, .ctx = &seen};
	char err[256] = "";
	CHECK(wn_dyn_run(c, &o, PTS, LAB, 9, 2, 3, h, &seen_hooks, &a, err, sizeof err) == 0);
	CHECK(wn_dyn_run(c, &o, sub, suby, 7, 2, 3, NULL, NULL, &b, err, sizeof err) == 0);
	CHECK_EQ_INT(seen.calls, 10); /* 2 runs x 5 epochs */
	CHECK_EQ_INT(seen.last_epoch, 5);
	CHECK_EQ_INT(seen.nh, 2);
	CHECK(seen.last_acc == 0 || seen.last_acc == 0.5 || seen.last_acc == 1);
	k = 0;
	for (int i = 0; i < 9; i++)
		if (!h[i]) {
			CHECK_NEAR(a.el2n[i], b.el2n[k], 1e-6);
			CHECK_NEAR(a.aum[i], b.aum[k], 1e-5);
			CHECK_NEAR(a.vog[i], b.vog[k], 1e-6);
			k++;
		}
	wn_dyn_scores_free(&a);
	wn_dyn_scores_free(&b);
	wn_core_close(c);
}

static void test_threads_identical(void)
{
	enum { N = 600, D = 16, C = 4 };
	float *X = malloc(sizeof(float) * N * D);
	int32_t *y = malloc(sizeof(int32_t) * N);
	unsigned char *h = calloc(N, 1);
	for (int i = 0; i < N; i++) {
		y[i] = i % C;
		h[i] = i % 5 == 0;
		for (int j = 0; j < D; j++)
			X[i * D + j] = (float)(wn_rng_normal(11, 1, (uint64_t)(i * D + j)) + (j == y[i] ? 1.5 : 0));
	}
	wn_dyn_opts o;
	wn_dyn_opts_default(&o);
	o.hidden = 32;
	o.train.batch = 64;
	o.train.epochs = 4;
	o.runs = 2;
	o.log_every = 3;
	o.vog_std = 1;
	o.vog_norm = WN_DYN_VOG_CLASS;
	wn_dyn_scores s[2];
	char err[256] = "";
	for (int t = 0; t < 2; t++) {
		wn_core *c = ctx(t + 1);
		CHECK(wn_dyn_run(c, &o, X, y, N, D, C, h, NULL, &s[t], err, sizeof err) == 0);
		wn_core_close(c);
	}
	CHECK(!memcmp(s[0].el2n, s[1].el2n, N * sizeof(double)));
	CHECK(!memcmp(s[0].grand, s[1].grand, N * sizeof(double)));
	CHECK(!memcmp(s[0].forgetting, s[1].forgetting, N * sizeof(double)));
	CHECK(!memcmp(s[0].aum, s[1].aum, N * sizeof(double)));
	CHECK(!memcmp(s[0].vog, s[1].vog, N * sizeof(double)));
	for (int t = 0; t < 2; t++)
		wn_dyn_scores_free(&s[t]);
	free(X);
	free(y);
	free(h);
}

/* PVI's f_null on unbalanced labels (1, 2, 6 of 9), replayed: full-batch
 * AdamW on the bias alone (the input is zero), lr 0.5, two steps. No
 * class has the share 1/3 that softmax(0) gives: there its gradient would
 * be float noise, which Adam's normalisation turns into a whole step. */
static const int32_t SKEW[9] = {0, 1, 1, 2, 2, 2, 2, 2, 2};

static void test_pvi_null_replay(void)
{
	wn_dyn_opts o = tiny_opts();
	wn_core *c = ctx(1);
	wn_dyn_scores s;
	char err[256] = "";
	CHECK(wn_dyn_run(c, &o, PTS, SKEW, 9, 2, 3, NULL, NULL, &s, err, sizeof err) == 0);
	double b[3] = {0}, m[3] = {0}, v[3] = {0}, freq[3] = {1 / 9.0, 2 / 9.0, 6 / 9.0}, p[3];
	for (int t = 1; t <= 2; t++) {
		double e = exp(b[0]) + exp(b[1]) + exp(b[2]);
		for (int j = 0; j < 3; j++)
			p[j] = exp(b[j]) / e;
		for (int j = 0; j < 3; j++)
			ref_adam(&b[j], &m[j], &v[j], p[j] - freq[j], t, 0.5, 0);
	}
	double e = exp(b[0]) + exp(b[1]) + exp(b[2]);
	for (int i = 0; i < 9; i++) {
		double pn = exp(b[SKEW[i]]) / e;
		CHECK_NEAR(s.pvi[i], (-log(pn) - s.traj[2 * i + 1]) / log(2.0), 1e-5);
	}
	CHECK(b[2] - b[0] > 0.5); /* the null model moved towards the prior */
	wn_dyn_scores_free(&s);
	wn_core_close(c);
}

int main(void)
{
	RUN(test_pvi_null_replay);
	RUN(test_issue_values);
	RUN(test_run_against_replay);
	RUN(test_cadence_and_errors);
	RUN(test_trace);
	RUN(test_holdout_not_trained);
	RUN(test_threads_identical);
	return TEST_EXIT;
}
