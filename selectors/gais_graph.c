/*
 * selectors/gais_graph.c — the class-keeping, distance-based mini-batch
 * kNN graph of GAIS and the training driver that turns a trained GAT into
 * winnow.gais (see selectors/gais.h). Owns the batches (members, offsets,
 * per-batch CSR graphs) and the per-run model; borrows X, y, holdout.
 */
#include "selectors/gais.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "core/sample.h"
#include "io/errf.h"

#define STREAM_GAIS_ANCHOR 0x676169736e63686full /* "gaisncho" */
#define STREAM_GAIS_ORDER 0x676169736f726472ull  /* "gaisordr" */

void wn_gais_batches_free(wn_gais_batches *b)
{
	if (b->g)
		for (int64_t k = 0; k < b->nb; k++)
			free(b->g[k].ptr), free(b->g[k].src);
	free(b->g);
	free(b->members);
	free(b->start);
	memset(b, 0, sizeof *b);
}

struct sim_key {
	double s;
	int64_t i;
};

static int cmp_sim(const void *a, const void *b)
{
	const struct sim_key *x = a, *y = b;
	if (x->s != y->s)
		return x->s > y->s ? -1 : 1;
	return (x->i > y->i) - (x->i < y->i);
}

static double norm_of(const float *x, int64_t d)
{
	double s = 0;
	for (int64_t k = 0; k < d; k++)
		s += (double)x[k] * x[k];
	return sqrt(s);
}

static double cosine(const float *a, const float *b, int64_t d, double na, double nb)
{
	if (na == 0 || nb == 0)
		return 0;
	double s = 0;
	for (int64_t k = 0; k < d; k++)
		s += (double)a[k] * b[k];
	return s / (na * nb);
}

#define WN_GAIS_ORDER_PLANES 16

/* The sign code of x over WN_GAIS_ORDER_PLANES Philox hyperplanes (the
 * first plane the top bit, so a code prefix is a cell of the first planes). */
static uint32_t plane_code(const float *x, int64_t d, const double *planes)
{
	uint32_t code = 0;
	for (int b = 0; b < WN_GAIS_ORDER_PLANES; b++) {
		double s = 0;
		for (int64_t k = 0; k < d; k++)
			s += x[k] * planes[b * d + k];
		code = code << 1 | (s > 0);
	}
	return code;
}

/* Record ids into batches: per class in the order of their hyperplane
 * codes (ties: similarity to the anchor), chunked. */
static int assign(const float *X, const int32_t *y, int64_t n, int64_t d, int64_t C,
		  const double *nrm, uint64_t seed, wn_gais_batches *b)
{
	struct sim_key *k = malloc((size_t)n * sizeof *k);
	int64_t *fill = calloc((size_t)b->nb + 1, sizeof *fill);
	double *pl = malloc((size_t)(WN_GAIS_ORDER_PLANES * d) * sizeof *pl);
	if (!k || !fill || !pl)
		return free(k), free(fill), free(pl), -1;
	for (int64_t q = 0; q < WN_GAIS_ORDER_PLANES * d; q++)
		pl[q] = wn_rng_normal(seed, STREAM_GAIS_ANCHOR + 1, (uint64_t)q);
	int64_t anc = (int64_t)(wn_rng_uniform(seed, STREAM_GAIS_ANCHOR, 0) * (double)n);
	anc = anc < n ? anc : n - 1;
	for (int64_t i = 0; i < n; i++) {
		double c = cosine(X + i * d, X + anc * d, d, nrm[i], nrm[anc]);
		k[i] = (struct sim_key){-(4.0 * (double)plane_code(X + i * d, d, pl) + (1.0 - c)), i};
	}
	qsort(k, (size_t)n, sizeof *k, cmp_sim); /* code ascending, then cosine descending */
	int64_t *batch_of = malloc((size_t)n * sizeof *batch_of);
	free(pl);
	if (!batch_of)
		return free(k), free(fill), -1;
	for (int64_t c = 0; c < C; c++) {
		int64_t nc = 0, r = 0;
		for (int64_t q = 0; q < n; q++)
			nc += y[k[q].i] == c;
		for (int64_t q = 0; q < n; q++)
			if (y[k[q].i] == c) {
				batch_of[k[q].i] = r * b->nb / nc; /* chunk of rank r */
				r++;
			}
	}
	for (int64_t i = 0; i < n; i++)
		fill[batch_of[i] + 1]++;
	for (int64_t q = 0; q < b->nb; q++)
		fill[q + 1] += fill[q];
	memcpy(b->start, fill, (size_t)(b->nb + 1) * sizeof *fill);
	for (int64_t i = 0; i < n; i++)
		b->members[fill[batch_of[i]]++] = i;
	free(batch_of);
	free(fill);
	free(k);
	return 0;
}

/* The kNN graph of one batch: self first, then the K most similar others. */
static int batch_graph(const float *X, int64_t d, const double *nrm, const int64_t *mem,
		       int64_t m, int64_t K, wn_gais_graph *g)
{
	g->n = m;
	g->ptr = malloc((size_t)(m + 1) * sizeof *g->ptr);
	g->src = malloc((size_t)(m * (K + 1)) * sizeof *g->src);
	struct sim_key *s = malloc((size_t)m * sizeof *s);
	if (!g->ptr || !g->src || !s)
		return free(s), -1;
	for (int64_t i = 0; i < m; i++) {
		int64_t q = 0;
		for (int64_t j = 0; j < m; j++)
			if (j != i)
				s[q++] = (struct sim_key){cosine(X + mem[i] * d, X + mem[j] * d, d,
								 nrm[mem[i]], nrm[mem[j]]), j};
		qsort(s, (size_t)q, sizeof *s, cmp_sim);
		g->ptr[i] = i * (K + 1);
		g->src[i * (K + 1)] = i;
		for (int64_t r = 0; r < K; r++)
			g->src[i * (K + 1) + 1 + r] = s[r].i;
	}
	g->ptr[m] = m * (K + 1);
	free(s);
	return 0;
}

static int build_graphs(const float *X, int64_t d, const double *nrm, int64_t K,
			wn_gais_batches *b)
{
	int bad = 0;
#pragma omp parallel for schedule(dynamic, 1) reduction(| : bad)
	for (int64_t q = 0; q < b->nb; q++)
		bad |= batch_graph(X, d, nrm, b->members + b->start[q], b->start[q + 1] - b->start[q],
				   K, &b->g[q]) != 0;
	return bad ? -1 : 0;
}

int wn_gais_minibatch(const float *X, const int32_t *y, int64_t n, int64_t d, int64_t C,
		      int64_t B, int64_t K, uint64_t seed, wn_gais_batches *b, char *err,
		      size_t errlen)
{
	memset(b, 0, sizeof *b);
	b->nb = (n + B - 1) / B;
	b->members = malloc((size_t)n * sizeof *b->members);
	b->start = malloc((size_t)(b->nb + 1) * sizeof *b->start);
	b->g = calloc((size_t)b->nb, sizeof *b->g);
	double *nrm = malloc((size_t)n * sizeof *nrm);
	if (!b->members || !b->start || !b->g || !nrm)
		goto oom;
	for (int64_t i = 0; i < n; i++)
		nrm[i] = norm_of(X + i * d, d);
	if (assign(X, y, n, d, C, nrm, seed, b))
		goto oom;
	for (int64_t q = 0; q < b->nb; q++)
		if (b->start[q + 1] - b->start[q] <= K) {
			wn_errf(err, errlen, "mini-batch %lld of %lld has %lld records: -k %lld needs at "
				"least %lld (lower -k or raise --batch)", (long long)q + 1, (long long)b->nb,
				(long long)(b->start[q + 1] - b->start[q]), (long long)K, (long long)K + 1);
			free(nrm);
			wn_gais_batches_free(b);
			return -1;
		}
	if (build_graphs(X, d, nrm, K, b))
		goto oom;
	free(nrm);
	return 0;
oom:
	free(nrm);
	wn_gais_batches_free(b);
	return wn_errf(err, errlen, "out of memory"), -1;
}

/* ---- the LSH graph ---- */

#define STREAM_GAIS_LSH 0x676169736c736800ull /* "gaislsh" */

struct lsh {
	const float *X;
	int64_t d, B, nleaf;
	int bits, levels;
	uint64_t seed;
	double *planes;      /* levels x bits x d */
	struct sim_key *key; /* scratch, n */
	int64_t *leaf_end;   /* ends of the leaves in members */
};

/* The records of mem[0..m) in code order at level l, each run split on. */
static void lsh_split(struct lsh *h, int64_t *mem, int64_t m, int64_t base, int l)
{
	if (l >= h->levels || (l > 0 && m <= h->B)) {
		h->leaf_end[h->nleaf++] = base + m;
		return;
	}
	const double *P = h->planes + (int64_t)l * h->bits * h->d;
	for (int64_t i = 0; i < m; i++) {
		uint64_t code = 0;
		const float *x = h->X + mem[i] * h->d;
		for (int b = 0; b < h->bits; b++) {
			double s = 0;
			for (int64_t k = 0; k < h->d; k++)
				s += x[k] * P[b * h->d + k];
			code |= (uint64_t)(s > 0) << b;
		}
		h->key[i] = (struct sim_key){-(double)code, mem[i]}; /* cmp_sim: descending s */
	}
	qsort(h->key, (size_t)m, sizeof *h->key, cmp_sim);
	for (int64_t i = 0; i < m; i++)
		mem[i] = h->key[i].i;
	double *code = malloc((size_t)m * sizeof *code);
	if (!code) { /* keep the bucket whole: still a valid graph */
		h->leaf_end[h->nleaf++] = base + m;
		return;
	}
	for (int64_t i = 0; i < m; i++)
		code[i] = h->key[i].s;
	for (int64_t a = 0, b; a < m; a = b) {
		for (b = a + 1; b < m && code[b] == code[a]; b++)
			;
		lsh_split(h, mem + a, b - a, base + a, l + 1);
	}
	free(code);
}

/* Leaves of K records or fewer merged forward (the last backward). */
static int64_t lsh_merge(const int64_t *end, int64_t nleaf, int64_t K, int64_t *start)
{
	int64_t nb = 0, from = 0;
	start[0] = 0;
	for (int64_t q = 0; q < nleaf; q++)
		if (end[q] - from > K)
			start[++nb] = from = end[q];
	if (start[nb] != end[nleaf - 1]) {
		if (nb == 0)
			nb = 1;
		start[nb] = end[nleaf - 1];
	}
	return nb;
}

int wn_gais_lsh(const float *X, int64_t n, int64_t d, int bits, int levels, int64_t B,
		int64_t K, uint64_t seed, wn_gais_batches *b, char *err, size_t errlen)
{
	memset(b, 0, sizeof *b);
	if (n <= K)
		return wn_errf(err, errlen, "-k %lld needs more than %lld records", (long long)K,
			       (long long)n), -1;
	struct lsh h = {X, d, B, 0, bits, levels, seed, NULL, NULL, NULL};
	h.planes = malloc((size_t)(levels * bits * d) * sizeof *h.planes);
	h.key = malloc((size_t)n * sizeof *h.key);
	h.leaf_end = malloc((size_t)n * sizeof *h.leaf_end);
	b->members = malloc((size_t)n * sizeof *b->members);
	b->start = malloc((size_t)(n + 1) * sizeof *b->start);
	double *nrm = malloc((size_t)n * sizeof *nrm);
	int rc = -1;
	if (!h.planes || !h.key || !h.leaf_end || !b->members || !b->start || !nrm)
		goto done;
	for (int64_t k = 0; k < (int64_t)levels * bits * d; k++)
		h.planes[k] = wn_rng_normal(seed, STREAM_GAIS_LSH + (uint64_t)(k / ((int64_t)bits * d)),
					    (uint64_t)(k % ((int64_t)bits * d)));
	for (int64_t i = 0; i < n; i++)
		b->members[i] = i, nrm[i] = norm_of(X + i * d, d);
	lsh_split(&h, b->members, n, 0, 0);
	b->nb = lsh_merge(h.leaf_end, h.nleaf, K, b->start);
	if (!(b->g = calloc((size_t)b->nb, sizeof *b->g)))
		goto done;
	rc = build_graphs(X, d, nrm, K, b);
done:
	free(h.planes), free(h.key), free(h.leaf_end), free(nrm);
	if (rc) {
		wn_gais_batches_free(b);
		wn_errf(err, errlen, "out of memory");
	}
	return rc;
}

/* Batches of b appended to a (b emptied). */
static int append_batches(wn_gais_batches *a, wn_gais_batches *b)
{
	int64_t na = a->nb ? a->start[a->nb] : 0, nm = b->start[b->nb];
	int64_t *mem = realloc(a->members, (size_t)(na + nm) * sizeof *mem);
	if (mem)
		a->members = mem;
	int64_t *st = realloc(a->start, (size_t)(a->nb + b->nb + 1) * sizeof *st);
	if (st)
		a->start = st;
	wn_gais_graph *g = realloc(a->g, (size_t)(a->nb + b->nb) * sizeof *g);
	if (g)
		a->g = g;
	if (!mem || !st || !g)
		return -1;
	memcpy(mem + na, b->members, (size_t)nm * sizeof *mem);
	if (!a->nb)
		st[0] = 0;
	for (int64_t q = 0; q < b->nb; q++) {
		st[a->nb + q + 1] = na + b->start[q + 1];
		g[a->nb + q] = b->g[q];
	}
	a->nb += b->nb;
	free(b->g);
	b->g = NULL;
	b->nb = 0;
	wn_gais_batches_free(b);
	return 0;
}

int wn_gais_lsh_views(const float *X, int64_t n, int64_t d, int bits, int levels, int views,
		      int64_t B, int64_t K, uint64_t seed, wn_gais_batches *out, char *err,
		      size_t errlen)
{
	memset(out, 0, sizeof *out);
	for (int v = 0; v < (views > 1 ? views : 1); v++) {
		wn_gais_batches one;
		if (wn_gais_lsh(X, n, d, bits, levels, B, K, seed + (uint64_t)v, &one, err, errlen))
			return wn_gais_batches_free(out), -1;
		if (append_batches(out, &one)) {
			wn_gais_batches_free(&one);
			wn_gais_batches_free(out);
			return wn_errf(err, errlen, "out of memory"), -1;
		}
	}
	return 0;
}

/* ---- the driver ---- */

struct gbatch {
	double *X;            /* members' vectors */
	int32_t *y;
	unsigned char *mask;  /* trained rows */
	double *logits;
};

struct work {
	wn_gais_batches B;
	struct gbatch *bt;
	double *recv;
	int64_t *order;
};

static void work_free(struct work *w)
{
	if (w->bt)
		for (int64_t q = 0; q < w->B.nb; q++)
			free(w->bt[q].X), free(w->bt[q].y), free(w->bt[q].mask), free(w->bt[q].logits);
	free(w->bt);
	free(w->recv);
	free(w->order);
	wn_gais_batches_free(&w->B);
}

/* The members' rows, labels and masks of every batch. */
static int gather(struct work *w, const float *X, const int32_t *y, int64_t d, int64_t C,
		  const unsigned char *holdout)
{
	if (!(w->bt = calloc((size_t)w->B.nb, sizeof *w->bt)))
		return -1;
	for (int64_t q = 0; q < w->B.nb; q++) {
		int64_t m = w->B.g[q].n;
		const int64_t *mem = w->B.members + w->B.start[q];
		struct gbatch *t = &w->bt[q];
		t->X = malloc((size_t)(m * d) * sizeof *t->X);
		t->y = malloc((size_t)m * sizeof *t->y);
		t->mask = malloc((size_t)m);
		t->logits = malloc((size_t)(m * C) * sizeof *t->logits);
		if (!t->X || !t->y || !t->mask || !t->logits)
			return -1;
		for (int64_t i = 0; i < m; i++) {
			for (int64_t k = 0; k < d; k++)
				t->X[i * d + k] = X[mem[i] * d + k];
			t->y[i] = y[mem[i]];
			t->mask[i] = !holdout || !holdout[mem[i]];
		}
	}
	return 0;
}

static int64_t argmax(const double *z, int64_t C)
{
	int64_t b = 0;
	for (int64_t c = 1; c < C; c++)
		if (z[c] > z[b])
			b = c;
	return b;
}

/* One epoch over the batches in a Philox order; the mean batch loss. */
static int epoch(wn_gais_model *m, struct work *w, const wn_gais_opts *o, uint64_t seed, int e,
		 int64_t *t, double *loss)
{
	if (wn_sample_permutation(w->B.nb, seed, STREAM_GAIS_ORDER + (uint64_t)e, w->order))
		return -1;
	double sum = 0;
	int64_t used = 0;
	for (int64_t r = 0; r < w->B.nb; r++) {
		struct gbatch *b = &w->bt[w->order[r]];
		const wn_gais_graph *g = &w->B.g[w->order[r]];
		int any = 0;
		for (int64_t i = 0; i < g->n && !any; i++)
			any = b->mask[i];
		if (!any)
			continue;
		double l;
		if (wn_gais_model_forward(m, g, b->X, NULL) || wn_gais_model_backward(m, g, b->y, b->mask, &l))
			return -1;
		wn_gais_model_adamw(m, o->lr, o->weight_decay, ++*t);
		sum += l, used++;
	}
	*loss = used ? sum / (double)used : 0;
	return 0;
}

/* Evaluation over every batch: held-out accuracy, and (recv) the attention. */
static int evaluate(wn_gais_model *m, struct work *w, int64_t C, double *recv, double *acc,
		    int64_t *nh)
{
	int64_t hit = 0;
	*nh = 0;
	for (int64_t q = 0; q < w->B.nb; q++) {
		struct gbatch *b = &w->bt[q];
		const wn_gais_graph *g = &w->B.g[q];
		if (wn_gais_model_forward(m, g, b->X, b->logits))
			return -1;
		for (int64_t i = 0; i < g->n; i++)
			if (!b->mask[i])
				(*nh)++, hit += argmax(b->logits + i * C, C) == b->y[i];
		if (recv) {
			memset(w->recv, 0, (size_t)g->n * sizeof *w->recv);
			wn_gais_model_received(m, g, w->recv);
			for (int64_t i = 0; i < g->n; i++)
				recv[w->B.members[w->B.start[q] + i]] += w->recv[i];
		}
	}
	*acc = *nh ? (double)hit / (double)*nh : 0;
	return 0;
}

static int one_run(const wn_gais_opts *o, struct work *w, int64_t d, int64_t C, int run,
		   wn_gais_epoch_fn fn, void *ctx, double *score)
{
	uint64_t seed = o->seed + (uint64_t)run;
	wn_gais_model *m = wn_gais_model_new(d, o->hidden, o->heads, o->layers, C, seed);
	if (!m)
		return -1;
	int64_t t = 0, nh;
	double loss, acc;
	for (int e = 0; e < o->epochs; e++) {
		if (epoch(m, w, o, seed, e, &t, &loss) || evaluate(m, w, C, NULL, &acc, &nh))
			return wn_gais_model_free(m), -1;
		if (fn)
			fn(ctx, run, e + 1, loss, acc, nh);
	}
	int rc = evaluate(m, w, C, score, &acc, &nh);
	wn_gais_model_free(m);
	return rc;
}

int wn_gais_run(const wn_gais_opts *o, const float *X, const int32_t *y, int64_t n, int64_t d,
		int64_t C, const unsigned char *holdout, wn_gais_epoch_fn fn, void *ctx,
		double *score, char *err, size_t errlen)
{
	struct work w;
	memset(&w, 0, sizeof w);
	if (o->k >= n)
		return wn_errf(err, errlen, "-k %lld needs more than %lld records", (long long)o->k,
			       (long long)n), -1;
	if (o->lsh_bits > 0 ? wn_gais_lsh_views(X, n, d, o->lsh_bits, o->lsh_levels, o->lsh_views,
						o->batch, o->k, o->seed, &w.B, err, errlen)
			    : wn_gais_minibatch(X, y, n, d, C, o->batch, o->k, o->seed, &w.B, err, errlen))
		return -1;
	int64_t mx = 1;
	for (int64_t q = 0; q < w.B.nb; q++)
		mx = w.B.g[q].n > mx ? w.B.g[q].n : mx;
	w.recv = malloc((size_t)mx * sizeof *w.recv);
	w.order = malloc((size_t)w.B.nb * sizeof *w.order);
	int rc = !w.recv || !w.order || gather(&w, X, y, d, C, holdout) ? -1 : 0;
	memset(score, 0, (size_t)n * sizeof *score);
	for (int r = 0; r < o->runs && !rc; r++)
		rc = one_run(o, &w, d, C, r, fn, ctx, score);
	double per = (double)o->runs * (o->lsh_bits > 0 && o->lsh_views > 1 ? o->lsh_views : 1);
	for (int64_t i = 0; i < n && !rc; i++) /* the mean over runs and views */
		score[i] /= per;
	work_free(&w);
	if (rc)
		wn_errf(err, errlen, "out of memory");
	return rc;
}
