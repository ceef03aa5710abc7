/*
 * selectors/dynamics.c — the proxy training loop and the scores read from
 * its dynamics (see selectors/dynamics.h).
 *
 * One run: a model from its own seed, GraNd (and EL2N at score_epoch 0) at
 * initialisation, then epochs of shuffled mini-batch AdamW steps over the
 * training rows; every log_every steps (and after the last one) the whole
 * set is evaluated for forgetting and the margin; after every epoch the
 * parameters are kept for VoG, EL2N is read at score_epoch, and the
 * held-out rows are scored. VoG comes last, chunk by chunk of examples
 * against every kept checkpoint, so its memory is K x chunk x d, not
 * K x n x d. All sums over examples run in example order on one thread:
 * the thread count changes nothing. The model takes blocks of up to
 * EVAL_BLOCK rows, so the whole-set evaluations (forgetting, margins,
 * EL2N, trajectories, TracIn, VoG) run as a few large GEMMs instead of one
 * small one per training batch; training steps stay at the batch size.
 */
#include "selectors/dynamics.h"
#include "io/clock.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/rng.h"
#include "core/sample.h"
#include "io/errf.h"

#define STREAM_SHUFFLE 0x64796e0000000000ull /* "dyn" + epoch */
#define VOG_CHUNK 1024
/*
 * Examples per VoG chunk when the input and hidden widths are at most 512:
 * the core cuts such products into 256-row tiles the full width of the
 * result whatever the rows, so 4096-row chunks (16 tiles a product, work
 * for 16 threads) give every example the same products, bit for bit, as
 * 1024-row ones. Wider layers keep VOG_CHUNK: below 512 rows the core
 * also cuts the width, and a last chunk's rows would depend on the size.
 */
#define VOG_CHUNK_NARROW 4096
#define EVAL_BLOCK 4096 /* rows per evaluation pass */
/* At most this many bytes of hidden pre-activations (K x n x hidden floats)
 * are kept from the epoch passes for VoG, which would otherwise compute
 * them again from the same rows and parameters; beyond it, it does. */
#define PRE_KEEP_MAX (512ull << 20)
#define PAR_MIN 32768   /* per-row work (rows x width) worth a thread team */

void wn_dyn_opts_default(wn_dyn_opts *o)
{
	memset(o, 0, sizeof *o);
	wn_train_opts_default(&o->train);
	o->train.epochs = 10;
	o->act = WN_ACT_RELU;
	o->runs = 1;
	o->score_epoch = 2;
}

void wn_dyn_scores_free(wn_dyn_scores *s)
{
	free(s->el2n);
	free(s->grand);
	free(s->forgetting);
	free(s->aum);
	free(s->vog);
	free(s->pvi);
	free(s->tracin);
	free(s->traj);
	memset(s, 0, sizeof *s);
}

/* ---- arithmetic ---- */

double wn_dyn_pvi(double loss_null, double loss_x)
{
	return (loss_null - loss_x) / M_LN2;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

double wn_dyn_quantile(double *v, int64_t n, double q)
{
	if (n < 1)
		return NAN;
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	double pos = q * (double)(n - 1);
	int64_t lo = (int64_t)floor(pos);
	if (lo >= n - 1)
		return v[n - 1];
	return v[lo] + (pos - (double)lo) * (v[lo + 1] - v[lo]);
}

int64_t wn_dyn_forgetting(const unsigned char *correct, int64_t T)
{
	int64_t events = 0, ever = 0;
	for (int64_t t = 0; t < T; t++) {
		ever |= correct[t] != 0;
		events += t > 0 && correct[t - 1] && !correct[t];
	}
	return ever ? events : T;
}

int64_t wn_dyn_argmax(const float *z, int64_t C)
{
	int64_t best = 0;
	for (int64_t k = 1; k < C; k++)
		if (z[k] > z[best])
			best = k;
	return best;
}

double wn_dyn_margin(const float *z, int64_t C, int32_t y)
{
	double other = -INFINITY;
	for (int64_t k = 0; k < C; k++)
		if (k != y && z[k] > other)
			other = z[k];
	return (double)z[y] - other;
}

/*
 * VoG over K gradients of d elements, gradient k at g + k * stride: per
 * element the mean over k, then the mean squared deviation, each summed
 * over k in order; the elements' results summed in element order. The
 * elements go VOG_LANES at a time so their independent sums interleave
 * (one element's chain of dependent adds would stall on latency); every
 * value is the same as element by element.
 */
#define VOG_LANES 8

static double vog_lanes(const float *g, int64_t K, int64_t stride, int64_t w, int use_std,
			double sum)
{
	double mean[VOG_LANES] = {0}, m2[VOG_LANES] = {0};
	for (int64_t k = 0; k < K; k++)
		for (int64_t l = 0; l < w; l++)
			mean[l] += g[k * stride + l];
	for (int64_t l = 0; l < w; l++)
		mean[l] /= (double)K;
	for (int64_t k = 0; k < K; k++)
		for (int64_t l = 0; l < w; l++) {
			double e = g[k * stride + l] - mean[l];
			m2[l] += e * e;
		}
	for (int64_t l = 0; l < w; l++)
		sum += use_std ? sqrt(m2[l] / (double)K) : m2[l] / (double)K;
	return sum;
}

static double vog_strided(const float *g, int64_t K, int64_t stride, int64_t d, int use_std)
{
	double sum = 0;
	for (int64_t j = 0; j < d; j += VOG_LANES)
		sum = vog_lanes(g + j, K, stride, d - j < VOG_LANES ? d - j : VOG_LANES, use_std, sum);
	return sum / (double)d;
}

double wn_dyn_vog(const float *grads, int64_t K, int64_t d, int use_std)
{
	return K > 0 && d > 0 ? vog_strided(grads, K, d, d, use_std) : 0;
}

/* Standardise the members of group g (all when y is NULL). */
static void normalise_group(double *v, const int32_t *y, int64_t n, int32_t g)
{
	double sum = 0, m2 = 0;
	int64_t cnt = 0;
	for (int64_t i = 0; i < n; i++)
		if (!y || y[i] == g)
			sum += v[i], cnt++;
	if (!cnt)
		return;
	double mean = sum / (double)cnt;
	for (int64_t i = 0; i < n; i++)
		if (!y || y[i] == g)
			m2 += (v[i] - mean) * (v[i] - mean);
	double sd = sqrt(m2 / (double)cnt);
	for (int64_t i = 0; i < n; i++)
		if (!y || y[i] == g)
			v[i] = sd > 0 ? (v[i] - mean) / sd : 0;
}

void wn_dyn_normalise(double *v, const int32_t *y, int64_t n, int64_t C, int how)
{
	if (how == WN_DYN_VOG_DATASET)
		normalise_group(v, NULL, n, 0);
	else if (how == WN_DYN_VOG_CLASS)
		for (int64_t g = 0; g < C; g++)
			normalise_group(v, y, n, (int32_t)g);
}

/* ---- one run ---- */

struct run {
	const wn_dyn_opts *o;
	const wn_dyn_hooks *hooks;
	int run;
	wn_core *c;
	wn_model *m;
	const float *X;
	const int32_t *y;
	int64_t n, d, C, bs, eb, P; /* eb: rows per evaluation block */
	int threads;                /* the context's, for the per-row loops */
	int64_t *train_idx, n_train, *hold_idx, n_hold, *perm;
	float *xb, *zb, *tmp, *tb, *ckpt, *last_loss; /* tb: 2 x eb, per block */
	float *pre;                 /* K x n x hidden: the epoch passes' pre-activations, or NULL */
	double *xsq;                /* ||x_i||^2 of every row, for TracIn (once per call) */
	int32_t *yb;
	unsigned char *prev, *ever;
	int64_t *forget, T, nmargin;
	int merge, due; /* merge: the epoch's last evaluation joins its pass; due: it is owed */
	double step_seconds; /* time in train_epoch, every run */
	double *margin;
	char *err;
	size_t errlen;
};

static int model_fail(struct run *r, const char *what)
{
	wn_errf(r->err, r->errlen, "%s: %s", what, wn_model_error(r->m));
	return -1;
}

/* Rows idx[0..B) of X and y into the batch buffers. */
static void gather(struct run *r, const int64_t *idx, int64_t B)
{
	for (int64_t b = 0; b < B; b++) {
		memcpy(r->xb + b * r->d, r->X + idx[b] * r->d, (size_t)r->d * sizeof(float));
		r->yb[b] = r->y[idx[b]];
	}
}

/* Ask the caches for rows idx[0..B) of X, the next batch's, while this
 * batch computes: its rows lie anywhere in X, and a gather of rows not
 * yet in cache waits on memory row after row. Only a hint: no value
 * changes. */
static void prefetch_rows(const struct run *r, const int64_t *idx, int64_t B)
{
	size_t bytes = (size_t)r->d * sizeof(float);
	for (int64_t b = 0; b < B; b++) {
		const char *row = (const char *)(r->X + idx[b] * r->d);
		for (size_t o = 0; o < bytes; o += 64)
			__builtin_prefetch(row + o, 0, 3);
	}
}

/* Rows s..s+B of an evaluation from their logits in zb: correctness
 * transitions and margins. */
static void eval_rows(struct run *r, int64_t step, int64_t s, int64_t B, int margins)
{
	if (r->hooks && r->hooks->eval)
		r->hooks->eval(r->hooks->ctx, r->run, step, s, B, r->zb);
#pragma omp parallel for num_threads(r->threads) schedule(static) if (B * r->C >= PAR_MIN)
	for (int64_t b = 0; b < B; b++) {
		int64_t i = s + b;
		const float *z = r->zb + b * r->C;
		unsigned char ok = wn_dyn_argmax(z, r->C) == r->y[i];
		r->forget[i] += r->T > 0 && r->prev[i] && !ok;
		r->prev[i] = ok;
		r->ever[i] |= ok;
		if (margins)
			r->margin[i] += wn_dyn_margin(z, r->C, r->y[i]);
	}
}

/* One evaluation of every example: correctness transitions and margins. */
static int evaluate_all(struct run *r, int64_t step, int margins)
{
	for (int64_t s = 0; s < r->n; s += r->eb) {
		int64_t B = r->n - s < r->eb ? r->n - s : r->eb;
		if (wn_model_forward(r->m, r->X + s * r->d, B, NULL) || wn_model_logits(r->m, r->zb))
			return model_fail(r, "evaluation");
		eval_rows(r, step, s, B, margins);
	}
	r->T++;
	r->nmargin += margins != 0;
	return 0;
}

static int holdout_accuracy(struct run *r, double *acc)
{
	int64_t right = 0;
	for (int64_t s = 0; s < r->n_hold; s += r->bs) {
		int64_t B = r->n_hold - s < r->bs ? r->n_hold - s : r->bs;
		gather(r, r->hold_idx + s, B);
		if (wn_model_forward(r->m, r->xb, B, NULL) || wn_model_logits(r->m, r->zb))
			return model_fail(r, "held-out evaluation");
		for (int64_t b = 0; b < B; b++)
			right += wn_dyn_argmax(r->zb + b * r->C, r->C) == r->yb[b];
	}
	*acc = r->n_hold ? (double)right / (double)r->n_hold : 0;
	return 0;
}

/* EL2N of every example, added to sum. */
static int add_el2n(struct run *r, double *sum)
{
	if (wn_model_scores(r->m, r->X, r->y, r->n, NULL, r->tmp, NULL, NULL, NULL))
		return model_fail(r, "EL2N");
	for (int64_t i = 0; i < r->n; i++)
		sum[i] += r->tmp[i];
	return 0;
}

/* One epoch of steps; evaluations on the log_every cadence. */
static int train_epoch(struct run *r, uint64_t seed, int e, int64_t *step, int64_t spe,
		       int64_t every, int64_t total, double *loss)
{
	double sum = 0;
	wn_sample_permutation(r->n_train, seed, STREAM_SHUFFLE + (uint64_t)e, r->perm);
	for (int64_t i = 0; i < r->n_train; i++)
		r->perm[i] = r->train_idx[r->perm[i]];
	for (int64_t s = 0; s < r->n_train; s += r->bs) {
		int64_t B = r->n_train - s < r->bs ? r->n_train - s : r->bs;
		double l = 0;
		gather(r, r->perm + s, B);
		if (s + B < r->n_train)
			prefetch_rows(r, r->perm + s + B,
				      r->n_train - s - B < r->bs ? r->n_train - s - B : r->bs);
		wn_model_dropout_active(r->m, 1);
		int bad = wn_model_forward(r->m, r->xb, B, NULL) ||
			  wn_model_backward(r->m, r->yb, NULL, &l);
		wn_model_dropout_active(r->m, 0);
		if (bad || wn_model_adamw_step(r->m, &r->o->train))
			return model_fail(r, "training step");
		sum += l * (double)B;
		++*step;
		if (*step % every != 0 && *step != total)
			continue;
		if (r->merge && s + B >= r->n_train)
			r->due = 1; /* run by epoch_pass, from the same forward */
		else if (evaluate_all(r, *step, *step >= spe))
			return -1;
	}
	*loss = sum / (double)r->n_train;
	return 0;
}

/* At checkpoint e (after step `step`), one forward pass over every
 * example in blocks of eb rows gives: the evaluation owed (forgetting,
 * margins), each loss into the trajectories (and the last losses, for
 * PVI), the squared last-hidden-layer gradient into TracIn's sum, and
 * EL2N at score_epoch. */
static int epoch_pass(struct run *r, int e, int64_t step, wn_dyn_scores *out)
{
	int el2n = e + 1 == r->o->score_epoch, last = e + 1 == r->o->train.epochs, eval = r->due;
	float *loss = r->tmp, *hg = r->tb, *el = r->tb + r->eb;
	for (int64_t s = 0; s < r->n; s += r->eb) {
		int64_t B = r->n - s < r->eb ? r->n - s : r->eb;
		if (wn_model_pass(r->m, r->X + s * r->d, r->y + s, B, r->xsq + s, eval ? r->zb : NULL,
				  loss + s, el2n ? el : NULL, hg) ||
		    (r->pre && wn_model_hidden_pre(r->m, r->pre + (e * r->n + s) * r->o->hidden)))
			return model_fail(r, "checkpoint pass");
		if (eval)
			eval_rows(r, step, s, B, 1);
		for (int64_t b = 0; b < B; b++) {
			out->traj[(s + b) * out->K + e] += loss[s + b];
			out->tracin[s + b] += hg[b];
			if (el2n)
				out->el2n[s + b] += el[b];
		}
	}
	if (last)
		memcpy(r->last_loss, loss, (size_t)r->n * sizeof *loss);
	r->T += eval;
	r->nmargin += eval;
	r->due = 0;
	return 0;
}

static int ckpt_save(struct run *r, int epoch, const float *P, int64_t d_in)
{
	if (!r->hooks || !r->hooks->save)
		return 0;
	return r->hooks->save(r->hooks->ctx, r->run, epoch, P, d_in, r->err, r->errlen);
}

static int ckpt_load(struct run *r, wn_model *m, int epoch, float *P, int64_t d_in)
{
	if (r->hooks->load(r->hooks->ctx, r->run, epoch, P, d_in, r->err, r->errlen))
		return -1;
	if (wn_model_set_params(m, P)) {
		wn_errf(r->err, r->errlen, "checkpoint: %s", wn_model_error(m));
		return -1;
	}
	return 0;
}

static int replaying(const struct run *r)
{
	return r->hooks && r->hooks->load;
}

/* f_null trained (and saved) or read back; its p (C) for a zero input. */
static int null_model(struct run *r, wn_model *null, uint64_t seed, const float *zero, float *p)
{
	size_t nt = (size_t)r->n_train;
	int64_t np = wn_model_num_params(null);
	float *P = malloc((size_t)np * sizeof *P);
	int32_t *yt = malloc((nt ? nt : 1) * sizeof *yt);
	int rc = -1;
	if (!P || !yt) {
		wn_errf(r->err, r->errlen, "PVI: out of memory");
		goto done;
	}
	if (replaying(r)) {
		rc = ckpt_load(r, null, -1, P, 1);
	} else {
		for (size_t i = 0; i < nt; i++)
			yt[i] = r->y[r->train_idx[i]];
		wn_train_opts t = r->o->train;
		t.seed = seed;
		if (wn_model_train_constant(null, zero, yt, r->n_train, &t, NULL) ||
		    wn_model_get_params(null, P)) {
			wn_errf(r->err, r->errlen, "PVI null model: %s", wn_model_error(null));
			goto done;
		}
		rc = ckpt_save(r, -1, P, 1);
	}
	if (!rc && wn_model_forward(null, zero, 1, p)) {
		wn_errf(r->err, r->errlen, "PVI null model: %s", wn_model_error(null));
		rc = -1;
	}
done:
	free(P);
	free(yt);
	return rc;
}

/* f_null: the model on a zero input, trained on the training rows' labels
 * for as many epochs; PVI of every example from it and the last losses. */
static int add_pvi(struct run *r, uint64_t seed, wn_dyn_scores *out)
{
	size_t nt = (size_t)r->n_train;
	float *zero = calloc(nt > (size_t)r->C ? nt : (size_t)r->C, sizeof *zero);
	float *p = malloc((size_t)r->C * sizeof *p);
	char why[256] = "";
	uint64_t ns = wn_rng_derive(seed, 0x6e756c6cull); /* "null" */
	wn_model *null = NULL;
	int rc = -1;
	if (!zero || !p) {
		wn_errf(r->err, r->errlen, "PVI: out of memory");
		goto done;
	}
	null = wn_model_new(r->c, 1, r->o->hidden, r->C, r->o->act, r->bs, ns, why, sizeof why);
	if (!null) {
		wn_errf(r->err, r->errlen, "PVI null model: %s", why);
		goto done;
	}
	if (null_model(r, null, ns, zero, p))
		goto done;
	for (int64_t i = 0; i < r->n; i++)
		out->pvi[i] += wn_dyn_pvi(-log((double)p[r->y[i]]), r->last_loss[i]);
	rc = 0;
done:
	wn_model_free(null);
	free(zero);
	free(p);
	return rc;
}

/* Examples per VoG chunk (see VOG_CHUNK_NARROW). */
static int64_t vog_chunk(const struct run *r)
{
	int64_t most = r->d <= 512 && r->o->hidden <= 512 ? VOG_CHUNK_NARROW : VOG_CHUNK;
	return r->n < most ? r->n : most;
}

/* The input gradients of rows s..s+B under checkpoint k into out. */
static int vog_grads(struct run *r, int64_t k, int64_t s, int64_t B, float *out)
{
	if (wn_model_set_params(r->m, r->ckpt + k * r->P))
		return -1;
	if (r->pre)
		return wn_model_input_grad_pre(r->m, r->pre + (k * r->n + s) * r->o->hidden, r->y + s,
					       B, out);
	return wn_model_input_grad(r->m, r->X + s * r->d, r->y + s, B, out);
}

/* VoG of every example against the K kept checkpoints, added to sum. */
static int add_vog(struct run *r, int64_t K, double *sum)
{
	int64_t chunk = vog_chunk(r);
	float *g = malloc((size_t)(K * chunk * r->d) * sizeof *g);
	if (!g) {
		wn_errf(r->err, r->errlen, "VoG: out of memory (%lld checkpoints of %lld x %lld)",
			(long long)K, (long long)chunk, (long long)r->d);
		return -1;
	}
	int rc = 0;
	for (int64_t s = 0; s < r->n && !rc; s += chunk) {
		int64_t B = r->n - s < chunk ? r->n - s : chunk;
		for (int64_t k = 0; k < K && !rc; k++)
			if (vog_grads(r, k, s, B, g + k * chunk * r->d))
				rc = model_fail(r, "VoG");
		if (rc)
			break;
#pragma omp parallel for num_threads(r->threads) schedule(static) if (B * K * r->d >= PAR_MIN)
		for (int64_t b = 0; b < B; b++)
			sum[s + b] += vog_strided(g + b * r->d, K, chunk * r->d, r->d, r->o->vog_std);
	}
	free(g);
	return rc;
}

/* Epoch e: trained, or its checkpoint read back and evaluated once. */
static int next_epoch(struct run *r, uint64_t seed, int e, int64_t *step, int64_t spe,
		      int64_t total, double *loss)
{
	float *P = r->ckpt + (int64_t)e * r->P;
	if (replaying(r)) {
		*loss = NAN;
		*step += spe;
		r->due = 1; /* the evaluation joins epoch_pass */
		return ckpt_load(r, r->m, e + 1, P, r->d);
	}
	int64_t every = r->o->log_every > 0 ? r->o->log_every : spe;
	double t0 = wn_wall_seconds();
	if (train_epoch(r, seed, e, step, spe, every, total, loss))
		return -1;
	r->step_seconds += wn_wall_seconds() - t0;
	if (wn_model_get_params(r->m, P))
		return model_fail(r, "checkpoint");
	return ckpt_save(r, e + 1, P, r->d);
}

/* The initial weights: saved, or read back; GraNd and EL2N at epoch 0. */
static int initial(struct run *r, wn_dyn_scores *out)
{
	if (replaying(r) ? ckpt_load(r, r->m, 0, r->ckpt, r->d)
			 : (wn_model_get_params(r->m, r->ckpt) || ckpt_save(r, 0, r->ckpt, r->d)))
		return -1;
	if (wn_model_scores(r->m, r->X, r->y, r->n, NULL, NULL, r->tmp, NULL, NULL))
		return model_fail(r, "GraNd");
	for (int64_t i = 0; i < r->n; i++)
		out->grand[i] += r->tmp[i];
	return r->o->score_epoch == 0 && add_el2n(r, out->el2n) ? -1 : 0;
}

static int run_once(struct run *r, uint64_t seed, wn_dyn_scores *out)
{
	const wn_dyn_opts *o = r->o;
	int epochs = o->train.epochs;
	memset(r->prev, 0, (size_t)r->n);
	memset(r->ever, 0, (size_t)r->n);
	memset(r->forget, 0, (size_t)r->n * sizeof *r->forget);
	memset(r->margin, 0, (size_t)r->n * sizeof *r->margin);
	r->T = r->nmargin = 0;
	r->due = 0;
	if (initial(r, out))
		return -1;
	int64_t spe = (r->n_train + r->bs - 1) / r->bs, total = spe * epochs, step = 0;
	for (int e = 0; e < epochs; e++) {
		double loss = 0, acc = 0;
		if (next_epoch(r, seed, e, &step, spe, total, &loss) || epoch_pass(r, e, step, out))
			return -1;
		if (holdout_accuracy(r, &acc))
			return -1;
		if (r->hooks && r->hooks->epoch)
			r->hooks->epoch(r->hooks->ctx, r->run, e + 1, loss, acc, r->n_hold);
	}
	for (int64_t i = 0; i < r->n; i++) {
		out->forgetting[i] += r->ever[i] ? (double)r->forget[i] : (double)r->T;
		out->aum[i] += r->nmargin ? r->margin[i] / (double)r->nmargin : 0;
	}
	out->evaluations = r->T;
	out->steps = step;
	return add_pvi(r, seed, out) ? -1 : add_vog(r, epochs, out->vog);
}

/* ---- setup ---- */

#define STREAM_DROPOUT 0x64726f70ull /* "drop" */

static int set_dropout(struct run *r, uint64_t seed)
{
	if (wn_model_set_dropout(r->m, r->o->dropout, wn_rng_derive(seed, STREAM_DROPOUT)))
		return model_fail(r, "dropout");
	return 0;
}

static int alloc_scores(wn_dyn_scores *s, int64_t n, int64_t K)
{
	memset(s, 0, sizeof *s);
	s->n = n;
	s->K = K;
	size_t z = (size_t)(n ? n : 1);
	s->pvi = calloc(z, sizeof(double));
	s->tracin = calloc(z, sizeof(double));
	s->traj = calloc(z * (size_t)K, sizeof(float));
	if (!s->pvi || !s->tracin || !s->traj)
		return -1;
	s->el2n = calloc(z, sizeof(double));
	s->grand = calloc(z, sizeof(double));
	s->forgetting = calloc(z, sizeof(double));
	s->aum = calloc(z, sizeof(double));
	s->vog = calloc(z, sizeof(double));
	return s->el2n && s->grand && s->forgetting && s->aum && s->vog ? 0 : -1;
}

static int alloc_run(struct run *r, const unsigned char *holdout)
{
	size_t n = (size_t)(r->n ? r->n : 1), bs = (size_t)r->bs;
	r->train_idx = malloc(n * sizeof(int64_t));
	r->hold_idx = malloc(n * sizeof(int64_t));
	r->perm = malloc(n * sizeof(int64_t));
	r->xb = malloc(bs * (size_t)r->d * sizeof(float));
	r->zb = malloc((size_t)r->eb * (size_t)r->C * sizeof(float));
	r->yb = malloc(bs * sizeof(int32_t));
	r->tmp = malloc(n * sizeof(float));
	r->tb = malloc(2 * (size_t)r->eb * sizeof(float));
	r->last_loss = malloc(n * sizeof(float));
	r->prev = malloc(n);
	r->ever = malloc(n);
	r->forget = malloc(n * sizeof(int64_t));
	r->margin = malloc(n * sizeof(double));
	r->xsq = malloc(n * sizeof(double));
	if (!r->xsq || !r->train_idx || !r->hold_idx || !r->perm || !r->xb || !r->zb || !r->yb || !r->tmp || !r->tb || !r->last_loss ||
	    !r->prev || !r->ever || !r->forget || !r->margin)
		return -1;
	for (int64_t i = 0; i < r->n; i++) {
		if (holdout && holdout[i])
			r->hold_idx[r->n_hold++] = i;
		else
			r->train_idx[r->n_train++] = i;
	}
	return 0;
}

static void free_run(struct run *r)
{
	free(r->train_idx);
	free(r->hold_idx);
	free(r->perm);
	free(r->xb);
	free(r->zb);
	free(r->yb);
	free(r->tmp);
	free(r->tb);
	free(r->last_loss);
	free(r->prev);
	free(r->ever);
	free(r->forget);
	free(r->margin);
	free(r->xsq);
	free(r->ckpt);
	free(r->pre);
}

static void average(wn_dyn_scores *s, const wn_dyn_opts *o, const int32_t *y, int64_t C)
{
	double R = (double)o->runs;
	for (int64_t i = 0; i < s->n; i++) {
		s->el2n[i] /= R;
		s->grand[i] /= R;
		s->forgetting[i] /= R;
		s->aum[i] /= R;
		s->vog[i] /= R;
		s->pvi[i] /= R;
		s->tracin[i] /= R;
		for (int64_t k = 0; k < s->K; k++)
			s->traj[i * s->K + k] /= (float)R;
	}
	wn_dyn_normalise(s->vog, y, s->n, C, o->vog_norm);
}

/* The epoch passes keep their pre-activations for VoG (r->pre) when the
 * MLP's VoG chunks are the passes' blocks (so VoG's products would be the
 * passes' products, bit for bit) and they fit PRE_KEEP_MAX; if not, or
 * when memory is short, VoG computes them again. */
static void keep_pre(struct run *r)
{
	uint64_t bytes = (uint64_t)r->o->train.epochs * (uint64_t)r->n * (uint64_t)r->o->hidden *
			 sizeof(float);
	if (!r->pre && r->o->hidden > 0 && vog_chunk(r) == r->eb && bytes <= PRE_KEEP_MAX)
		r->pre = malloc((size_t)bytes);
}

/* Rows per evaluation block: EVAL_BLOCK, never fewer than a training batch
 * nor (for small sets) more than the examples. */
static int64_t eval_block(int64_t bs, int64_t n)
{
	int64_t eb = n < EVAL_BLOCK ? n : EVAL_BLOCK;
	return eb > bs ? eb : bs;
}

static int check_args(const wn_dyn_opts *o, int64_t n, int64_t d, int64_t C, char *err,
		      size_t errlen)
{
	if (n < 1 || d < 1 || C < 2) {
		wn_errf(err, errlen, "training needs examples, a dimension and 2 classes (n %lld, d %lld, classes %lld)",
			(long long)n, (long long)d, (long long)C);
		return -1;
	}
	if (o->runs < 1 || o->train.epochs < 1 || o->train.batch < 1 || o->score_epoch < 0 ||
	    o->score_epoch > o->train.epochs || o->log_every < 0) {
		wn_errf(err, errlen, "bad training options (runs %d, epochs %d, batch %lld, score epoch %d)",
			o->runs, o->train.epochs, (long long)o->train.batch, o->score_epoch);
		return -1;
	}
	return 0;
}

int wn_dyn_run(wn_core *c, const wn_dyn_opts *o, const float *X, const int32_t *y, int64_t n,
	       int64_t d, int64_t C, const unsigned char *holdout, const wn_dyn_hooks *hooks,
	       wn_dyn_scores *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	if (check_args(o, n, d, C, err, errlen))
		return -1;
	double t0 = wn_wall_seconds();
	struct run r = {.c = c, .o = o, .hooks = hooks, .X = X, .y = y, .n = n, .d = d, .C = C, .bs = o->train.batch,
			.eb = eval_block(o->train.batch, n), .threads = wn_core_threads(c), .merge = 1,
			.err = err, .errlen = errlen};
	int rc = -1;
	if (alloc_scores(out, n, o->train.epochs) || alloc_run(&r, holdout)) {
		wn_errf(err, errlen, "out of memory for %lld examples", (long long)n);
		goto done;
	}
	if (r.n_train == 0) {
		wn_errf(err, errlen, "every example is held out: nothing to train on");
		goto done;
	}
	wn_model_row_sqnorms(X, n, d, r.threads, r.xsq);
	for (int run = 0; run < o->runs; run++) {
		uint64_t seed = wn_rng_derive(o->train.seed, (uint64_t)run);
		r.m = wn_model_new(c, d, o->hidden, C, o->act, r.eb, seed, err, errlen);
		if (!r.m || set_dropout(&r, seed))
			goto done;
		r.P = wn_model_num_params(r.m);
		if (!r.ckpt && !(r.ckpt = malloc((size_t)(r.P * o->train.epochs) * sizeof(float)))) {
			wn_errf(err, errlen, "out of memory for %d checkpoints", o->train.epochs);
			goto done;
		}
		keep_pre(&r);
		r.run = run;
		int bad = run_once(&r, seed, out);
		wn_model_free(r.m);
		r.m = NULL;
		if (bad)
			goto done;
	}
	average(out, o, y, C);
	out->step_seconds = r.step_seconds;
	out->seconds = wn_wall_seconds() - t0;
	rc = 0;
done:
	wn_model_free(r.m);
	free_run(&r);
	if (rc)
		wn_dyn_scores_free(out);
	return rc;
}

/* ---- one model, no scores (winnow eval) ---- */

static int fit_epochs(struct run *r, uint64_t seed, double *acc)
{
	int64_t step = 0;
	for (int e = 0; e < r->o->train.epochs; e++) {
		double loss = 0, a = 0;
		if (train_epoch(r, seed, e, &step, INT64_MAX, INT64_MAX, -1, &loss) ||
		    holdout_accuracy(r, &a))
			return -1;
		if (acc)
			acc[e] = a;
	}
	return 0;
}

static int rows_outside(const int64_t *idx, int64_t k, int64_t n)
{
	for (int64_t i = 0; i < k; i++)
		if (idx[i] < 0 || idx[i] >= n)
			return 1;
	return 0;
}

/* Room for n_train training rows (a list with repeats may be longer than n). */
static int grow_train(struct run *r, int64_t n_train)
{
	int64_t *t = realloc(r->train_idx, (size_t)n_train * sizeof *t);
	if (t)
		r->train_idx = t;
	int64_t *p = realloc(r->perm, (size_t)n_train * sizeof *p);
	if (p)
		r->perm = p;
	return t && p ? 0 : -1;
}

int wn_dyn_fit(wn_core *c, const wn_dyn_opts *o, const float *X, const int32_t *y, int64_t n,
	       int64_t d, int64_t C, const int64_t *train_idx, int64_t n_train,
	       const int64_t *hold_idx, int64_t n_hold, uint64_t seed, double *acc, char *err,
	       size_t errlen)
{
	if (check_args(o, n, d, C, err, errlen))
		return -1;
	if (n_train < 1 || n_hold < 0 || n_hold > n) {
		wn_errf(err, errlen, "fit: %lld training and %lld held-out rows of %lld",
			(long long)n_train, (long long)n_hold, (long long)n);
		return -1;
	}
	if (rows_outside(train_idx, n_train, n) || rows_outside(hold_idx, n_hold, n)) {
		wn_errf(err, errlen, "fit: a row number outside 0..%lld", (long long)n - 1);
		return -1;
	}
	struct run r = {.o = o, .X = X, .y = y, .n = n, .d = d, .C = C, .bs = o->train.batch,
			.eb = o->train.batch, .threads = wn_core_threads(c), .err = err, .errlen = errlen};
	int rc = -1;
	if (alloc_run(&r, NULL) || (n_train > n && grow_train(&r, n_train))) {
		wn_errf(err, errlen, "out of memory for %lld examples", (long long)n_train);
		goto done;
	}
	memcpy(r.train_idx, train_idx, (size_t)n_train * sizeof *train_idx);
	if (n_hold)
		memcpy(r.hold_idx, hold_idx, (size_t)n_hold * sizeof *hold_idx);
	r.n_train = n_train;
	r.n_hold = n_hold;
	if (!(r.m = wn_model_new(c, d, o->hidden, C, o->act, r.bs, seed, err, errlen)) ||
	    set_dropout(&r, seed))
		goto done;
	rc = fit_epochs(&r, seed, acc);
done:
	wn_model_free(r.m);
	free_run(&r);
	return rc;
}
