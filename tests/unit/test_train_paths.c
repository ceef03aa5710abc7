/*
 * tests/unit/test_train_paths.c — the CPU paths of core/train.c that issue
 * 18's speed work added, against references written here:
 *  - AdamW (vectorised, split over threads above its threshold, ranges of
 *    weights and biases) equal bit for bit to a plain scalar loop of the
 *    same float-moment / double-update arithmetic, at 1 and 2 threads, for
 *    the MLP and the linear model, on its AVX2 path (where the CPU has
 *    AVX2) and its SSE2 path (WINNOW_NO_AVX2);
 *  - a model large enough for every threaded host loop (batch x hidden and
 *    the evaluation blocks above the thresholds) trained at 1 and 2
 *    threads: identical parameters, probabilities, per-example scores,
 *    TracIn terms and input gradients, and probabilities within 1e-5 of a
 *    double-precision forward of the trained parameters;
 *  - wn_model_row_sqnorms by hand, and wn_model_pass with those norms
 *    bit-identical to wn_model_pass without them and to
 *    wn_model_hidden_grad_sq;
 *  - the input gradient runs no forward: after it, backward and logits
 *    fail with their messages, and its values do not depend on what the
 *    model saw before;
 *  - wn_model_train_constant (PVI's null model: one row and the label
 *    counts per step) against wn_model_train on the n identical zero rows:
 *    parameters within 1e-5 and epoch losses within 1e-6 after 3 epochs
 *    (the two differ only in the rounding of the sums over a batch's
 *    rows), the same bytes at 1 and 2 threads, and its bad counts refused
 *    with their message;
 *  - the input gradient from kept pre-activations (wn_model_hidden_pre of
 *    a forward of the same rows) equal bit for bit to wn_model_input_grad,
 *    at 1 and 2 threads, on blocks above and below the threaded loops'
 *    thresholds; the linear model and a call before any forward refused.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/rng.h"
#include "core/train.h"
#include "tests/unit/test.h"

static wn_core *ctx(int threads)
{
	char err[256];
	wn_core *c = wn_core_open(WN_DEVICE_CPU, threads, err, sizeof err);
	if (!c)
		fprintf(stderr, "%s\n", err);
	return c;
}

static float *rand_rows(int64_t n, int64_t d, uint64_t stream)
{
	float *X = malloc(sizeof(float) * (size_t)(n * d));
	for (int64_t i = 0; i < n * d; i++)
		X[i] = (float)wn_rng_normal(77, stream, (uint64_t)i);
	return X;
}

static int32_t *rand_labels(int64_t n, int64_t C, uint64_t stream)
{
	int32_t *y = malloc(sizeof(int32_t) * (size_t)n);
	for (int64_t i = 0; i < n; i++)
		y[i] = (int32_t)(wn_rng_u32(78, stream, (uint64_t)i) % (uint32_t)C);
	return y;
}

/* AdamW in one scalar loop: the arithmetic train.h documents (float
 * moments, bias-corrected double update, decay on weights only). */
static void adamw_ref(float *par, float *am, float *av, const float *g, int64_t P,
		      const unsigned char *decay, const wn_train_opts *o, int64_t t)
{
	double bc1 = 1.0 - pow(o->beta1, (double)t), bc2 = 1.0 - pow(o->beta2, (double)t);
	float b1 = o->beta1, b2 = o->beta2;
	for (int64_t i = 0; i < P; i++) {
		am[i] = b1 * am[i] + (1 - b1) * g[i];
		av[i] = b2 * av[i] + (1 - b2) * g[i] * g[i];
		double upd = ((double)am[i] / bc1) / (sqrt((double)av[i] / bc2) + (double)o->eps);
		if (decay[i])
			upd += (double)(o->weight_decay * par[i]);
		par[i] -= (float)((double)o->lr * upd);
	}
}

/* Which parameters are weight matrices (train.h's layout). */
static unsigned char *decay_mask(int64_t d, int64_t h, int64_t C)
{
	int64_t P = h ? d * h + h + h * C + C : d * C + C;
	unsigned char *w = calloc((size_t)P, 1);
	if (h) {
		memset(w, 1, (size_t)(d * h));
		memset(w + d * h + h, 1, (size_t)(h * C));
	} else {
		memset(w, 1, (size_t)(d * C));
	}
	return w;
}

/* `steps` steps of the model on one batch against adamw_ref, bit for bit. */
static void adam_case(int threads, int64_t d, int64_t h, int64_t C, int steps)
{
	const int64_t B = 24;
	wn_core *c = ctx(threads);
	wn_model *m = wn_model_new(c, d, h, C, WN_ACT_RELU, B, 5, NULL, 0);
	CHECK(m != NULL);
	int64_t P = wn_model_num_params(m);
	float *par = malloc(sizeof(float) * P), *g = malloc(sizeof(float) * P);
	float *am = calloc((size_t)P, sizeof(float)), *av = calloc((size_t)P, sizeof(float));
	float *got = malloc(sizeof(float) * P), *X = rand_rows(B, d, 1);
	int32_t *y = rand_labels(B, C, 2);
	unsigned char *decay = decay_mask(d, h, C);
	wn_train_opts o;
	wn_train_opts_default(&o);
	o.lr = 0.01f;
	o.weight_decay = 0.1f;
	CHECK(wn_model_get_params(m, par) == 0);
	for (int t = 1; t <= steps; t++) {
		CHECK(wn_model_forward(m, X, B, NULL) == 0);
		CHECK(wn_model_backward(m, y, NULL, NULL) == 0);
		CHECK(wn_model_get_grads(m, g) == 0);
		CHECK(wn_model_adamw_step(m, &o) == 0);
		adamw_ref(par, am, av, g, P, decay, &o, t);
		CHECK(wn_model_get_params(m, got) == 0);
		CHECK(memcmp(got, par, sizeof(float) * P) == 0);
	}
	free(par), free(g), free(am), free(av), free(got), free(X), free(y), free(decay);
	wn_model_free(m);
	wn_core_close(c);
}

static void test_adamw_exact(void)
{
	/* MLP of 40 x 220 x 5: 10,125 parameters, above the threaded step's
	 * threshold; the small ones below it; the linear model's two ranges;
	 * 400 steps: from step 356 on 1 - 0.9^t rounds to 1 (the division the
	 * step then skips) */
	for (int path = 0; path < 2; path++) {
		/* path 0: the AVX2 step where the CPU has AVX2; path 1: the SSE2 step */
		if (path)
			setenv("WINNOW_NO_AVX2", "1", 1);
		for (int threads = 1; threads <= 2; threads++) {
			adam_case(threads, 40, 220, 5, 3);
			adam_case(threads, 3, 4, 3, 400);
			adam_case(threads, 300, 0, 30, 3);
			adam_case(threads, 2, 0, 2, 400);
		}
	}
	unsetenv("WINNOW_NO_AVX2");
}

/* Double-precision probabilities of the ReLU MLP with parameters P. */
static void probs_ref(const float *P, const float *x, int64_t d, int64_t h, int64_t C, double *p)
{
	const float *W1 = P, *b1 = P + d * h, *W2 = b1 + h, *b2 = W2 + h * C;
	double z[8], mx = -INFINITY, s = 0;
	for (int64_t k = 0; k < C; k++)
		z[k] = b2[k];
	for (int64_t j = 0; j < h; j++) {
		double a = b1[j];
		for (int64_t i = 0; i < d; i++)
			a += (double)x[i] * W1[i * h + j];
		a = a > 0 ? a : 0;
		for (int64_t k = 0; k < C; k++)
			z[k] += a * W2[j * C + k];
	}
	for (int64_t k = 0; k < C; k++)
		mx = fmax(mx, z[k]);
	for (int64_t k = 0; k < C; k++)
		s += exp(z[k] - mx);
	for (int64_t k = 0; k < C; k++)
		p[k] = exp(z[k] - mx) / s;
}

struct big_out {
	float *par, *probs, *loss, *el2n, *grand, *hg, *ig;
};

enum { BN = 700, BD = 32, BH = 256, BC = 6, BB = 256 }; /* 9,990 parameters */

/* Train the large model at `threads` and read every per-example output. */
static void big_run(int threads, const float *X, const int32_t *y, struct big_out *o)
{
	wn_core *c = ctx(threads);
	wn_model *m = wn_model_new(c, BD, BH, BC, WN_ACT_RELU, BB, 9, NULL, 0);
	int64_t P = wn_model_num_params(m);
	o->par = malloc(sizeof(float) * P);
	o->probs = malloc(sizeof(float) * BN * BC);
	o->loss = malloc(sizeof(float) * BN);
	o->el2n = malloc(sizeof(float) * BN);
	o->grand = malloc(sizeof(float) * BN);
	o->hg = malloc(sizeof(float) * BN);
	o->ig = malloc(sizeof(float) * BN * BD);
	wn_train_opts t;
	wn_train_opts_default(&t);
	t.batch = BB;
	t.epochs = 3;
	t.lr = 0.01f;
	if (wn_model_set_dropout(m, 0.25f, 4) == 0)
		wn_model_dropout_active(m, 1);
	int rc = wn_model_train(m, X, y, BN, &t, NULL);
	wn_model_dropout_active(m, 0);
	if (!rc)
		rc = wn_model_get_params(m, o->par) ||
		     wn_model_scores(m, X, y, BN, o->loss, o->el2n, o->grand, NULL, o->probs) ||
		     wn_model_hidden_grad_sq(m, X, y, BN, o->hg) ||
		     wn_model_input_grad(m, X, y, BN, o->ig);
	if (rc)
		fprintf(stderr, "big_run: %s\n", wn_model_error(m));
	wn_model_free(m);
	wn_core_close(c);
}

static void big_free(struct big_out *o)
{
	free(o->par), free(o->probs), free(o->loss), free(o->el2n), free(o->grand), free(o->hg),
		free(o->ig);
}

static void test_threaded_paths_identical(void)
{
	float *X = rand_rows(BN, BD, 3);
	int32_t *y = rand_labels(BN, BC, 4);
	for (int64_t i = 0; i < BN; i++) /* learnable: the class shifts one coordinate */
		X[i * BD + y[i]] += 2.0f;
	struct big_out a, b;
	big_run(1, X, y, &a);
	big_run(2, X, y, &b);
	int64_t P = BD * BH + BH + BH * BC + BC;
	CHECK(memcmp(a.par, b.par, sizeof(float) * P) == 0);
	CHECK(memcmp(a.probs, b.probs, sizeof(float) * BN * BC) == 0);
	CHECK(memcmp(a.loss, b.loss, sizeof(float) * BN) == 0);
	CHECK(memcmp(a.el2n, b.el2n, sizeof(float) * BN) == 0);
	CHECK(memcmp(a.grand, b.grand, sizeof(float) * BN) == 0);
	CHECK(memcmp(a.hg, b.hg, sizeof(float) * BN) == 0);
	CHECK(memcmp(a.ig, b.ig, sizeof(float) * BN * BD) == 0);
	double p[BC];
	for (int64_t i = 0; i < BN; i += 7) {
		probs_ref(a.par, X + i * BD, BD, BH, BC, p);
		for (int64_t k = 0; k < BC; k++)
			CHECK_NEAR(a.probs[i * BC + k], p[k], 1e-5);
		CHECK_NEAR(a.loss[i], -log(p[y[i]]), 1e-4);
	}
	big_free(&a);
	big_free(&b);
	free(X), free(y);
}

static void test_row_norms_and_pass(void)
{
	const float R[6] = {3, 4, 0, 1, 2, 2};
	double sq[2];
	wn_model_row_sqnorms(R, 2, 3, 2, sq);
	CHECK(sq[0] == 25.0 && sq[1] == 9.0);

	const int64_t n = 300, d = 12, C = 4;
	float *X = rand_rows(n, d, 5);
	int32_t *y = rand_labels(n, C, 6);
	double *xsq = malloc(sizeof(double) * n);
	float *h1 = malloc(sizeof(float) * n), *h2 = malloc(sizeof(float) * n);
	float *h3 = malloc(sizeof(float) * n), *z1 = malloc(sizeof(float) * n * C);
	float *z2 = malloc(sizeof(float) * n * C);
	wn_model_row_sqnorms(X, n, d, 1, xsq);
	for (int64_t hidden = 0; hidden <= 40; hidden += 40) {
		wn_core *c = ctx(2);
		wn_model *m = wn_model_new(c, d, hidden, C, WN_ACT_GELU, n, 8, NULL, 0);
		CHECK(wn_model_pass(m, X, y, n, xsq, z1, NULL, NULL, h1) == 0);
		CHECK(wn_model_pass(m, X, y, n, NULL, z2, NULL, NULL, h2) == 0);
		CHECK(wn_model_hidden_grad_sq(m, X, y, n, h3) == 0);
		CHECK(memcmp(h1, h2, sizeof(float) * n) == 0);
		CHECK(memcmp(h1, h3, sizeof(float) * n) == 0);
		CHECK(memcmp(z1, z2, sizeof(float) * n * C) == 0);
		wn_model_free(m);
		wn_core_close(c);
	}
	free(X), free(y), free(xsq), free(h1), free(h2), free(h3), free(z1), free(z2);
}

static void test_input_grad_runs_no_forward(void)
{
	const int64_t n = 50, d = 7, C = 3;
	float *X = rand_rows(n, d, 7), *other = rand_rows(n, d, 8);
	int32_t *y = rand_labels(n, C, 9);
	float *g1 = malloc(sizeof(float) * n * d), *g2 = malloc(sizeof(float) * n * d);
	for (int64_t hidden = 0; hidden <= 9; hidden += 9) {
		wn_core *c = ctx(1);
		wn_model *m = wn_model_new(c, d, hidden, C, WN_ACT_RELU, 16, 3, NULL, 0);
		float z[16 * 3];
		CHECK(wn_model_input_grad(m, X, y, n, g1) == 0);
		CHECK(wn_model_backward(m, y, NULL, NULL) == WN_CORE_EINVAL);
		CHECK(strstr(wn_model_error(m), "backward without a forward pass") != NULL);
		CHECK(wn_model_logits(m, z) == WN_CORE_EINVAL);
		CHECK(wn_model_forward(m, other, 16, NULL) == 0); /* state from other rows */
		CHECK(wn_model_input_grad(m, X, y, n, g2) == 0);
		CHECK(memcmp(g1, g2, sizeof(float) * n * d) == 0);
		/* the linear model's gradient is W's column y, whatever x */
		if (!hidden) {
			float *P = malloc(sizeof(float) * wn_model_num_params(m));
			CHECK(wn_model_get_params(m, P) == 0);
			for (int64_t i = 0; i < n; i++)
				for (int64_t k = 0; k < d; k++)
					CHECK(g1[i * d + k] == P[k * C + y[i]]);
			free(P);
		}
		wn_model_free(m);
		wn_core_close(c);
	}
	free(X), free(other), free(y), free(g1), free(g2);
}

/* The null model both ways: 1000 rows of one zero input, 5 skewed classes,
 * batches of 64 (a short last one), 3 epochs. */
static void constant_run(int threads, int by_counts, float *P, double *loss)
{
	const int64_t n = 1000, C = 5;
	int32_t *y = malloc(sizeof(int32_t) * n);
	for (int64_t i = 0; i < n; i++) /* shares 0.1, 0.15, 0.2, 0.25, 0.3 */
		y[i] = (int32_t)((i * 7) % 20 < 2 ? 0 : (i * 7) % 20 < 5 ? 1 : (i * 7) % 20 < 9 ? 2
				 : (i * 7) % 20 < 14 ? 3 : 4);
	float *zero = calloc((size_t)n, sizeof(float));
	wn_core *c = ctx(threads);
	wn_model *m = wn_model_new(c, 1, 16, C, WN_ACT_RELU, 64, 9, NULL, 0);
	CHECK(m != NULL);
	wn_train_opts o;
	wn_train_opts_default(&o);
	o.batch = 64;
	o.epochs = 3;
	o.lr = 0.01f;
	o.seed = 4;
	CHECK((by_counts ? wn_model_train_constant(m, zero, y, n, &o, loss)
			 : wn_model_train(m, zero, y, n, &o, loss)) == 0);
	CHECK(wn_model_get_params(m, P) == 0);
	wn_model_free(m);
	wn_core_close(c);
	free(y);
	free(zero);
}

static void test_train_constant(void)
{
	float P[16 + 16 + 16 * 5 + 5], Q[sizeof P / sizeof *P], R[sizeof P / sizeof *P];
	double la[3], lb[3], lc[3];
	constant_run(1, 0, P, la);
	constant_run(1, 1, Q, lb);
	constant_run(2, 1, R, lc);
	for (size_t i = 0; i < sizeof P / sizeof *P; i++)
		CHECK_NEAR(Q[i], P[i], 1e-5);
	for (int e = 0; e < 3; e++)
		CHECK_NEAR(lb[e], la[e], 1e-6);
	CHECK(la[2] < la[0]); /* it learned the prior */
	CHECK(memcmp(Q, R, sizeof Q) == 0 && memcmp(lb, lc, sizeof lb) == 0);
	wn_core *c = ctx(1);
	wn_model *m = wn_model_new(c, 1, 4, 3, WN_ACT_RELU, 8, 1, NULL, 0);
	float z[2] = {0, 0};
	int64_t bad[3] = {2, -1, 3}, short_[3] = {1, 1, 1};
	CHECK(wn_model_forward(m, z, 2, NULL) == 0);
	CHECK(wn_model_backward_counts(m, short_, 3, NULL) != 0);
	CHECK_STR(wn_model_error(m), "backward by counts needs a 1-row forward without dropout");
	CHECK(wn_model_forward(m, z, 1, NULL) == 0);
	CHECK(wn_model_backward_counts(m, bad, 4, NULL) != 0);
	CHECK_STR(wn_model_error(m), "label counts summing to 4 for a batch of 4");
	CHECK(wn_model_backward_counts(m, short_, 4, NULL) != 0);
	CHECK_STR(wn_model_error(m), "label counts summing to 3 for a batch of 4");
	CHECK(wn_model_backward_counts(m, short_, 3, NULL) == 0);
	wn_model_free(m);
	wn_core_close(c);
}

static void pre_case(int threads, int64_t n)
{
	const int64_t d = 40, h = 24, C = 7;
	wn_core *c = ctx(threads);
	wn_model *m = wn_model_new(c, d, h, C, WN_ACT_RELU, n, 3, NULL, 0);
	float *X = rand_rows(n, d, 11), *pre = malloc(sizeof(float) * (size_t)(n * h));
	float *a = malloc(sizeof(float) * (size_t)(n * d)), *b = malloc(sizeof(float) * (size_t)(n * d));
	int32_t *y = rand_labels(n, C, 12);
	CHECK(wn_model_hidden_pre(m, pre) != 0);
	CHECK_STR(wn_model_error(m), "pre-activations without an MLP forward pass");
	CHECK(wn_model_forward(m, X, n, NULL) == 0);
	CHECK(wn_model_hidden_pre(m, pre) == 0);
	CHECK(wn_model_input_grad(m, X, y, n, a) == 0);
	CHECK(wn_model_input_grad_pre(m, pre, y, n, b) == 0);
	CHECK(memcmp(a, b, sizeof(float) * (size_t)(n * d)) == 0);
	free(X), free(pre), free(a), free(b), free(y);
	wn_model_free(m);
	wn_core_close(c);
}

static void test_input_grad_from_pre(void)
{
	for (int threads = 1; threads <= 2; threads++) {
		pre_case(threads, 30);
		pre_case(threads, 2000); /* 2000 x 24 above the host loops' threshold */
	}
	wn_core *c = ctx(1);
	wn_model *m = wn_model_new(c, 3, 0, 2, WN_ACT_RELU, 4, 1, NULL, 0);
	float pre[4] = {0}, out[12];
	int32_t y[4] = {0, 1, 0, 1};
	CHECK(wn_model_input_grad_pre(m, pre, y, 4, out) != 0);
	CHECK_STR(wn_model_error(m), "input gradient from pre-activations: the linear model has none");
	wn_model_free(m);
	wn_core_close(c);
}

int main(void)
{
	RUN(test_adamw_exact);
	RUN(test_train_constant);
	RUN(test_input_grad_from_pre);
	RUN(test_threaded_paths_identical);
	RUN(test_row_norms_and_pass);
	RUN(test_input_grad_runs_no_forward);
	return TEST_EXIT;
}
