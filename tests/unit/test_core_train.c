/*
 * tests/unit/test_core_train.c — the proxy models of core/train.h against a
 * plain double-precision reference written here: forward probabilities,
 * gradients (checked by central finite differences on the reference loss),
 * input gradients (VoG), per-example GraNd against explicitly materialised
 * per-example gradients, EL2N, AdamW against its formula, training that
 * learns, and identical parameters after training on 1 and 2 threads.
 *
 * Tolerances: probabilities 1e-5 absolute; analytic (float) gradients vs
 * double finite differences (h = 1e-5): 2e-4 absolute + 1e-3 relative.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/rng.h"
#include "core/train.h"
#include "tests/unit/test.h"

struct shape {
	int64_t d, h, C;
	int act;
};

static wn_core *ctx(int threads)
{
	char err[256];
	wn_core *c = wn_core_open(WN_DEVICE_CPU, threads, err, sizeof err);
	if (!c)
		fprintf(stderr, "%s\n", err);
	return c;
}

static double act_ref(int act, double x)
{
	if (act == WN_ACT_RELU)
		return x > 0 ? x : 0;
	if (act == WN_ACT_GELU)
		return 0.5 * x * (1 + erf(x / sqrt(2.0)));
	return 0.5 * x * (1 + tanh(sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
}

/* Logits of row x under parameters P (train.h's layout), in double. */
static void logits_ref(const struct shape *s, const double *P, const double *x, double *z)
{
	int64_t d = s->d, h = s->h, C = s->C;
	if (!h) {
		for (int64_t j = 0; j < C; j++) {
			z[j] = P[d * C + j];
			for (int64_t i = 0; i < d; i++)
				z[j] += x[i] * P[i * C + j];
		}
		return;
	}
	const double *W1 = P, *b1 = P + d * h, *W2 = b1 + h, *b2 = W2 + h * C;
	double *a = malloc(sizeof(double) * h);
	for (int64_t k = 0; k < h; k++) {
		double t = b1[k];
		for (int64_t i = 0; i < d; i++)
			t += x[i] * W1[i * h + k];
		a[k] = act_ref(s->act, t);
	}
	for (int64_t j = 0; j < C; j++) {
		z[j] = b2[j];
		for (int64_t k = 0; k < h; k++)
			z[j] += a[k] * W2[k * C + j];
	}
	free(a);
}

/* Mean cross-entropy over B rows. */
static double loss_ref(const struct shape *s, const double *P, const double *X,
		       const int32_t *y, int64_t B)
{
	double *z = malloc(sizeof(double) * s->C), sum = 0;
	for (int64_t b = 0; b < B; b++) {
		logits_ref(s, P, X + b * s->d, z);
		double mx = z[0], e = 0;
		for (int64_t j = 1; j < s->C; j++)
			mx = fmax(mx, z[j]);
		for (int64_t j = 0; j < s->C; j++)
			e += exp(z[j] - mx);
		sum += mx + log(e) - z[y[b]];
	}
	free(z);
	return sum / (double)B;
}

static float *rand_rows(int64_t n, int64_t d, uint64_t stream)
{
	float *x = malloc(sizeof(float) * n * d);
	for (int64_t i = 0; i < n * d; i++)
		x[i] = (float)wn_rng_normal(3, stream, (uint64_t)i);
	return x;
}

static const struct shape shapes[] = {
	{ 5, 0, 3, 0 },
	{ 5, 4, 3, WN_ACT_RELU },
	{ 6, 5, 4, WN_ACT_GELU },
	{ 4, 7, 2, WN_ACT_GELU_TANH },
};

static void test_forward_and_gradients(void)
{
	wn_core *c = ctx(2);
	const int64_t B = 6;
	for (size_t t = 0; t < sizeof shapes / sizeof shapes[0]; t++) {
		const struct shape *s = &shapes[t];
		char err[256];
		wn_model *m = wn_model_new(c, s->d, s->h, s->C, s->act, 8, 11 + t, err, sizeof err);
		CHECK(m != NULL);
		int64_t P = wn_model_num_params(m);
		float *X = rand_rows(B, s->d, 20 + t), *par = malloc(sizeof(float) * P);
		float *g = malloc(sizeof(float) * P), *probs = malloc(sizeof(float) * B * s->C);
		/* non-zero biases, so their gradients and uses are exercised */
		CHECK(wn_model_get_params(m, par) == 0);
		for (int64_t i = 0; i < P; i++)
			par[i] += 0.1f * (float)wn_rng_normal(4, t, i);
		CHECK(wn_model_set_params(m, par) == 0);
		int32_t y[6];
		for (int b = 0; b < B; b++)
			y[b] = (int32_t)((b * 7 + t) % s->C);
		double mean = 0;
		CHECK(wn_model_forward(m, X, B, probs) == 0);
		CHECK(wn_model_backward(m, y, NULL, &mean) == 0);
		CHECK(wn_model_get_grads(m, g) == 0);

		double *Pd = malloc(sizeof(double) * P), *Xd = malloc(sizeof(double) * B * s->d);
		for (int64_t i = 0; i < P; i++)
			Pd[i] = par[i];
		for (int64_t i = 0; i < B * s->d; i++)
			Xd[i] = X[i];
		CHECK_NEAR(mean, loss_ref(s, Pd, Xd, y, B), 1e-5);
		double z[8];
		for (int64_t b = 0; b < B; b++) {
			logits_ref(s, Pd, Xd + b * s->d, z);
			double mx = z[0], e = 0;
			for (int64_t j = 1; j < s->C; j++)
				mx = fmax(mx, z[j]);
			for (int64_t j = 0; j < s->C; j++)
				e += exp(z[j] - mx);
			for (int64_t j = 0; j < s->C; j++)
				CHECK_NEAR(probs[b * s->C + j], exp(z[j] - mx) / e, 1e-5);
		}
		for (int64_t i = 0; i < P; i++) {
			double keep = Pd[i], hstep = 1e-5;
			Pd[i] = keep + hstep;
			double lp = loss_ref(s, Pd, Xd, y, B);
			Pd[i] = keep - hstep;
			double lm = loss_ref(s, Pd, Xd, y, B);
			Pd[i] = keep;
			double fd = (lp - lm) / (2 * hstep);
			CHECK_NEAR(g[i], fd, 2e-4 + 1e-3 * fabs(fd));
		}
		free(Pd), free(Xd), free(X), free(par), free(g), free(probs);
		wn_model_free(m);
	}
	wn_core_close(c);
}

static void test_input_grad(void)
{
	wn_core *c = ctx(2);
	const int64_t n = 11; /* more than max_batch: two batches */
	for (size_t t = 0; t < sizeof shapes / sizeof shapes[0]; t++) {
		const struct shape *s = &shapes[t];
		wn_model *m = wn_model_new(c, s->d, s->h, s->C, s->act, 8, 5 + t, NULL, 0);
		CHECK(m != NULL);
		int64_t P = wn_model_num_params(m);
		float *X = rand_rows(n, s->d, 30 + t), *par = malloc(sizeof(float) * P);
		float *G = malloc(sizeof(float) * n * s->d);
		int32_t y[11];
		for (int b = 0; b < n; b++)
			y[b] = (int32_t)(b % s->C);
		CHECK(wn_model_input_grad(m, X, y, n, G) == 0);
		CHECK(wn_model_get_params(m, par) == 0);
		double *Pd = malloc(sizeof(double) * P), x[8], z[8];
		for (int64_t i = 0; i < P; i++)
			Pd[i] = par[i];
		for (int64_t b = 0; b < n; b++)
			for (int64_t i = 0; i < s->d; i++) {
				for (int64_t j = 0; j < s->d; j++)
					x[j] = X[b * s->d + j];
				x[i] += 1e-5;
				logits_ref(s, Pd, x, z);
				double zp = z[y[b]];
				x[i] -= 2e-5;
				logits_ref(s, Pd, x, z);
				double fd = (zp - z[y[b]]) / 2e-5;
				CHECK_NEAR(G[b * s->d + i], fd, 2e-4 + 1e-3 * fabs(fd));
			}
		free(X), free(par), free(G), free(Pd);
		wn_model_free(m);
	}
	wn_core_close(c);
}

/* GraNd without per-example gradients == the norm of the materialised ones. */
static void test_grand_el2n(void)
{
	wn_core *c = ctx(1);
	const int64_t n = 10;
	for (size_t t = 0; t < sizeof shapes / sizeof shapes[0]; t++) {
		const struct shape *s = &shapes[t];
		wn_model *m = wn_model_new(c, s->d, s->h, s->C, s->act, 4, 9 + t, NULL, 0);
		int64_t P = wn_model_num_params(m), C = s->C;
		float *X = rand_rows(n, s->d, 40 + t), *g = malloc(sizeof(float) * P);
		float loss[10], el2n[10], grand[10], err[10 * 4], probs[10 * 4], l1;
		int32_t y[10];
		for (int b = 0; b < n; b++)
			y[b] = (int32_t)((3 * b + 1) % C);
		CHECK(wn_model_scores(m, X, y, n, loss, el2n, grand, err, probs) == 0);
		/* the last layer is W (linear) or W2, b2: the last h*C + C (or d*C + C) entries */
		int64_t w = s->h ? s->h : s->d, first = P - (w * C + C);
		for (int64_t b = 0; b < n; b++) {
			CHECK(wn_model_forward(m, X + b * s->d, 1, NULL) == 0);
			CHECK(wn_model_backward(m, y + b, &l1, NULL) == 0);
			CHECK(wn_model_get_grads(m, g) == 0);
			double g2 = 0, e2 = 0;
			for (int64_t i = first; i < P; i++)
				g2 += (double)g[i] * g[i];
			CHECK_NEAR(grand[b], sqrt(g2), 1e-5 * sqrt(g2) + 1e-6);
			CHECK_NEAR(loss[b], l1, 1e-6);
			for (int64_t j = 0; j < C; j++) {
				double e = probs[b * C + j] - (j == y[b]);
				CHECK_NEAR(err[b * C + j], e, 1e-7);
				e2 += e * e;
			}
			CHECK_NEAR(el2n[b], sqrt(e2), 1e-6);
		}
		free(X), free(g);
		wn_model_free(m);
	}
	wn_core_close(c);
}

static void test_adamw_step(void)
{
	wn_core *c = ctx(1);
	wn_model *m = wn_model_new(c, 2, 0, 2, 0, 1, 1, NULL, 0);
	int64_t P = wn_model_num_params(m); /* W 2x2, b 2 */
	CHECK_EQ_INT(P, 6);
	float p0[6], g[6], p1[6], X[2] = { 1.0f, -2.0f };
	int32_t y = 1;
	wn_train_opts o;
	wn_train_opts_default(&o);
	o.lr = 0.1f;
	o.weight_decay = 0.5f;
	CHECK(wn_model_get_params(m, p0) == 0);
	CHECK(wn_model_forward(m, X, 1, NULL) == 0);
	CHECK(wn_model_backward(m, &y, NULL, NULL) == 0);
	CHECK(wn_model_get_grads(m, g) == 0);
	CHECK(wn_model_adamw_step(m, &o) == 0);
	CHECK(wn_model_get_params(m, p1) == 0);
	for (int i = 0; i < 6; i++) {
		/* step 1: m_hat = g, v_hat = g^2; decay on weights only */
		double upd = g[i] / (fabs(g[i]) + 1e-8) + (i < 4 ? 0.5 * p0[i] : 0.0);
		CHECK_NEAR(p1[i], p0[i] - 0.1 * upd, 1e-6);
	}
	wn_model_free(m);
	wn_core_close(c);
}

/* Four Gaussian blobs in 8 dimensions, labelled by blob. */
static void blobs(int64_t n, float **X, int32_t **y)
{
	*X = rand_rows(n, 8, 50);
	*y = malloc(sizeof(int32_t) * n);
	for (int64_t i = 0; i < n; i++) {
		(*y)[i] = (int32_t)(wn_rng_u32(6, 0, i) % 4);
		(*X)[i * 8 + (*y)[i]] += 3.0f;
		(*X)[i * 8 + 4 + (*y)[i]] -= 2.0f;
	}
}

static void test_training_learns(void)
{
	wn_core *c = ctx(2);
	const int64_t n = 2000;
	float *X;
	int32_t *y;
	blobs(n, &X, &y);
	for (int hidden = 0; hidden <= 16; hidden += 16) {
		wn_model *m = wn_model_new(c, 8, hidden, 4, WN_ACT_GELU, 64, 2, NULL, 0);
		wn_train_opts o;
		wn_train_opts_default(&o);
		o.batch = 64;
		o.epochs = 4;
		o.lr = 1e-2f;
		o.seed = 17;
		double el[4];
		CHECK(wn_model_train(m, X, y, n, &o, el) == 0);
		CHECK(el[3] < 0.5 * el[0]);
		float *probs = malloc(sizeof(float) * n * 4), *el2n = malloc(sizeof(float) * n);
		CHECK(wn_model_scores(m, X, y, n, NULL, el2n, NULL, NULL, probs) == 0);
		int64_t right = 0;
		for (int64_t i = 0; i < n; i++) {
			int best = 0;
			for (int j = 1; j < 4; j++)
				if (probs[i * 4 + j] > probs[i * 4 + best])
					best = j;
			right += best == y[i];
		}
		CHECK(right > n * 95 / 100);
		free(probs), free(el2n);
		wn_model_free(m);
	}
	free(X), free(y);
	wn_core_close(c);
}

static void test_threads_identical_and_errors(void)
{
	wn_core *c1 = ctx(1), *c2 = ctx(2);
	const int64_t n = 3000;
	float *X;
	int32_t *y;
	blobs(n, &X, &y);
	wn_model *m1 = wn_model_new(c1, 8, 300, 4, WN_ACT_RELU, 256, 3, NULL, 0);
	wn_model *m2 = wn_model_new(c2, 8, 300, 4, WN_ACT_RELU, 256, 3, NULL, 0);
	wn_train_opts o;
	wn_train_opts_default(&o);
	o.batch = 256;
	o.epochs = 2;
	CHECK(wn_model_train(m1, X, y, n, &o, NULL) == 0);
	CHECK(wn_model_train(m2, X, y, n, &o, NULL) == 0);
	int64_t P = wn_model_num_params(m1);
	float *p1 = malloc(sizeof(float) * P), *p2 = malloc(sizeof(float) * P);
	CHECK(wn_model_get_params(m1, p1) == 0 && wn_model_get_params(m2, p2) == 0);
	CHECK(memcmp(p1, p2, sizeof(float) * P) == 0);
	/* errors say what is wrong */
	y[5] = 4;
	CHECK(wn_model_train(m1, X, y, n, &o, NULL) == WN_CORE_EINVAL);
	CHECK(strstr(wn_model_error(m1), "label 4 of row 5") != NULL);
	CHECK(wn_model_forward(m1, X, 257, NULL) == WN_CORE_EINVAL);
	char err[256] = "";
	CHECK(wn_model_new(c1, 0, 3, 4, 0, 8, 1, err, sizeof err) == NULL);
	CHECK(strstr(err, "bad shape") != NULL);
	free(p1), free(p2), free(X), free(y);
	wn_model_free(m1);
	wn_model_free(m2);
	wn_core_close(c1);
	wn_core_close(c2);
}

/* Single-row cross-entropy under parameters P, in double. */
static double row_loss_ref(const struct shape *s, const double *P, const double *x, int32_t y)
{
	return loss_ref(s, P, x, &y, 1);
}

/*
 * TracIn's per-example squared gradient norm (issue 18) against finite
 * differences of the loss over the last hidden layer's parameters (MLP: W1
 * and b1, the first d h + h; linear: every parameter), and the issue's
 * hand value for the linear model: x = [1, 2], logits [2, 1, 0], label 0
 * -> ||p - y||^2 (||x||^2 + 1) = 1.080367.
 */
static void test_hidden_grad_sq(void)
{
	wn_core *c = ctx(1);
	const int64_t B = 5;
	for (size_t t = 0; t < sizeof shapes / sizeof shapes[0]; t++) {
		const struct shape *s = &shapes[t];
		wn_model *m = wn_model_new(c, s->d, s->h, s->C, s->act, 3, 31 + t, NULL, 0);
		CHECK(m != NULL);
		int64_t P = wn_model_num_params(m), L = s->h ? s->d * s->h + s->h : P;
		float *X = rand_rows(B, s->d, 40 + t), *par = malloc(sizeof(float) * P), out[5];
		CHECK(wn_model_get_params(m, par) == 0);
		for (int64_t i = 0; i < P; i++)
			par[i] += 0.1f * (float)wn_rng_normal(6, t, i);
		CHECK(wn_model_set_params(m, par) == 0);
		int32_t y[5];
		for (int b = 0; b < B; b++)
			y[b] = (int32_t)((b * 5 + t) % s->C);
		CHECK(wn_model_hidden_grad_sq(m, X, y, B, out) == 0); /* batches of 3, then 2 */
		double *Pd = malloc(sizeof(double) * P), xd[8], total = 0;
		for (int64_t i = 0; i < P; i++)
			Pd[i] = par[i];
		for (int64_t b = 0; b < B; b++) {
			for (int64_t i = 0; i < s->d; i++)
				xd[i] = X[b * s->d + i];
			double sq = 0;
			for (int64_t i = 0; i < L; i++) {
				double keep = Pd[i], hs = 1e-5;
				Pd[i] = keep + hs;
				double lp = row_loss_ref(s, Pd, xd, y[b]);
				Pd[i] = keep - hs;
				double lm = row_loss_ref(s, Pd, xd, y[b]);
				Pd[i] = keep;
				sq += ((lp - lm) / (2 * hs)) * ((lp - lm) / (2 * hs));
			}
			CHECK_NEAR(out[b], sq, 1e-4 + 1e-3 * sq);
			total += sq;
		}
		CHECK(total > 1e-2); /* not a vacuous zero (a row may have every ReLU off) */
		free(Pd), free(X), free(par);
		wn_model_free(m);
	}
	wn_model *m = wn_model_new(c, 2, 0, 3, 0, 4, 0, NULL, 0);
	float P9[9] = {0, 0, 0, 0, 0, 0, 2, 1, 0}, x[2] = {1, 2}, g2;
	int32_t lab = 0;
	CHECK(wn_model_set_params(m, P9) == 0);
	CHECK(wn_model_hidden_grad_sq(m, x, &lab, 1, &g2) == 0);
	CHECK_NEAR(g2, 1.0803669, 1e-6);
	int64_t d, h, C;
	int act;
	wn_model_shape(m, &d, &h, &C, &act);
	CHECK(d == 2 && h == 0 && C == 3);
	wn_model_free(m);
	wn_core_close(c);
}

/* Mean cross-entropy of the MLP with hidden unit k of row b scaled by
 * mask[b h + k] (dropout), in double. */
static double loss_mask_ref(const struct shape *s, const double *P, const double *X,
			    const int32_t *y, int64_t B, const float *mask)
{
	int64_t d = s->d, h = s->h, C = s->C;
	const double *W1 = P, *b1 = P + d * h, *W2 = b1 + h, *b2 = W2 + h * C;
	double sum = 0, a[16], z[8];
	for (int64_t b = 0; b < B; b++) {
		for (int64_t k = 0; k < h; k++) {
			double t = b1[k];
			for (int64_t i = 0; i < d; i++)
				t += X[b * d + i] * W1[i * h + k];
			a[k] = act_ref(s->act, t) * mask[b * h + k];
		}
		double mx = -1e300, e = 0;
		for (int64_t j = 0; j < C; j++) {
			z[j] = b2[j];
			for (int64_t k = 0; k < h; k++)
				z[j] += a[k] * W2[k * C + j];
			mx = fmax(mx, z[j]);
		}
		for (int64_t j = 0; j < C; j++)
			e += exp(z[j] - mx);
		sum += mx + log(e) - z[y[b]];
	}
	return sum / (double)B;
}

/*
 * Dropout (issue 18): the gradients of a training forward with p = 0.5
 * against finite differences of the loss under the same mask; the mask
 * holds 0 or 2 and changes from one forward to the next; inactive, or
 * p = 0, the model is the one without dropout.
 */
static void test_dropout(void)
{
	wn_core *c = ctx(1);
	const int64_t B = 6;
	for (size_t t = 1; t < 3; t++) {
		const struct shape *s = &shapes[t];
		wn_model *m = wn_model_new(c, s->d, s->h, s->C, s->act, 8, 51 + t, NULL, 0);
		int64_t P = wn_model_num_params(m);
		float *X = rand_rows(B, s->d, 60 + t), *g = malloc(sizeof(float) * P);
		float *par = malloc(sizeof(float) * P), p0[32], p1[32], mask[64];
		int32_t y[6] = {0, 1, 2, 0, 1, 2};
		CHECK(wn_model_get_params(m, par) == 0);
		CHECK(wn_model_forward(m, X, B, p0) == 0);
		CHECK(wn_model_set_dropout(m, 0.5f, 9) == 0);
		CHECK(wn_model_forward(m, X, B, p1) == 0); /* not active: no mask */
		CHECK(!memcmp(p0, p1, sizeof(float) * B * s->C) && !wn_model_dropout_mask(m));
		wn_model_dropout_active(m, 1);
		CHECK(wn_model_forward(m, X, B, p1) == 0);
		memcpy(mask, wn_model_dropout_mask(m), sizeof(float) * B * s->h);
		int zeros = 0, twos = 0;
		for (int64_t i = 0; i < B * s->h; i++)
			zeros += mask[i] == 0, twos += mask[i] == 2;
		CHECK(zeros + twos == B * s->h && zeros > 0 && twos > 0);
		CHECK(wn_model_backward(m, y, NULL, NULL) == 0 && wn_model_get_grads(m, g) == 0);
		double *Pd = malloc(sizeof(double) * P), Xd[64];
		for (int64_t i = 0; i < P; i++)
			Pd[i] = par[i];
		for (int64_t i = 0; i < B * s->d; i++)
			Xd[i] = X[i];
		for (int64_t i = 0; i < P; i++) {
			double keep = Pd[i], hs = 1e-5;
			Pd[i] = keep + hs;
			double lp = loss_mask_ref(s, Pd, Xd, y, B, mask);
			Pd[i] = keep - hs;
			double lm = loss_mask_ref(s, Pd, Xd, y, B, mask);
			Pd[i] = keep;
			double fd = (lp - lm) / (2 * hs);
			CHECK_NEAR(g[i], fd, 2e-4 + 1e-3 * fabs(fd));
		}
		CHECK(wn_model_forward(m, X, B, p1) == 0); /* a fresh mask */
		CHECK(memcmp(mask, wn_model_dropout_mask(m), sizeof(float) * B * s->h) != 0);
		CHECK(wn_model_set_dropout(m, 0, 9) == 0);
		CHECK(wn_model_forward(m, X, B, p1) == 0);
		CHECK(!memcmp(p0, p1, sizeof(float) * B * s->C));
		CHECK(wn_model_set_dropout(m, 1, 9) != 0);
		free(Pd), free(X), free(g), free(par);
		wn_model_free(m);
	}
	wn_core_close(c);
}

int main(void)
{
	RUN(test_dropout);
	RUN(test_hidden_grad_sq);
	RUN(test_forward_and_gradients);
	RUN(test_input_grad);
	RUN(test_grand_el2n);
	RUN(test_adamw_step);
	RUN(test_training_learns);
	RUN(test_threads_identical_and_errors);
	return TEST_EXIT;
}
