/*
 * cluster/minhash.c — MinHash LSH with verification (see cluster/minhash.h).
 *
 * Threads: wn_minhash_add splits texts over OpenMP threads, each with its
 * own tokenizer workspace; every text's set, signature and band hashes
 * depend on that text alone, so the split cannot change them. Candidates
 * are sorted (one thread) and verified in parallel into their own slots.
 */
#include "cluster/minhash.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "cluster/graph.h"
#include "core/rng.h"
#include "io/errf.h"
#include "text/tokenize.h"

#define P61 (((uint64_t)1 << 61) - 1)

struct wn_minhash {
	wn_minhash_opts o;
	uint64_t *a, *b;            /* the hash family, bands x rows of each */
	size_t n, cap;
	uint64_t **set;             /* n sorted distinct shingle digests */
	uint32_t *set_n;
	uint64_t *band;             /* n x bands */
	wn_minhash_pair *pairs;
	size_t npairs;
	wn_cluster_uf uf;
	size_t *gsize;              /* group size, indexed by root */
};

/* ---- datasketch's optimal_param ---- */

static double fp_area(double t, int b, int r)
{
	const int N = 1000;
	double h = t / N, s = 0;
	for (int i = 0; i <= N; i++) {
		double x = i * h, y = 1 - pow(1 - pow(x, r), b);
		s += y * (i == 0 || i == N ? 1 : i % 2 ? 4 : 2);
	}
	return s * h / 3;
}

static double fn_area(double t, int b, int r)
{
	const int N = 1000;
	double h = (1 - t) / N, s = 0;
	for (int i = 0; i <= N; i++) {
		double x = t + i * h, y = pow(1 - pow(x, r), b);
		s += y * (i == 0 || i == N ? 1 : i % 2 ? 4 : 2);
	}
	return s * h / 3;
}

void wn_minhash_optimal_param(double threshold, int perms, double fp_weight, double fn_weight,
			      int *bands, int *rows)
{
	double best = INFINITY;
	*bands = *rows = 1;
	for (int b = 1; b <= perms; b++)
		for (int r = 1; r <= perms / b; r++) {
			double e = fp_weight * fp_area(threshold, b, r) + fn_weight * fn_area(threshold, b, r);
			if (e < best) {
				best = e;
				*bands = b;
				*rows = r;
			}
		}
}

/* ---- the index ---- */

wn_minhash *wn_minhash_new(const wn_minhash_opts *o)
{
	wn_minhash *m = calloc(1, sizeof *m);
	size_t k = (size_t)o->bands * (size_t)o->rows;
	if (!m || !(m->a = malloc(k * sizeof *m->a)) || !(m->b = malloc(k * sizeof *m->b))) {
		wn_minhash_free(m);
		return NULL;
	}
	m->o = *o;
	for (size_t i = 0; i < k; i++) {
		m->a[i] = 1 + wn_rng_u64(o->seed, WN_MINHASH_STREAM, 2 * i) % (P61 - 1);
		m->b[i] = wn_rng_u64(o->seed, WN_MINHASH_STREAM, 2 * i + 1) % P61;
	}
	return m;
}

void wn_minhash_free(wn_minhash *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		free(m->set[i]);
	free(m->set);
	free(m->set_n);
	free(m->band);
	free(m->a);
	free(m->b);
	free(m->pairs);
	free(m->gsize);
	wn_cluster_uf_free(&m->uf);
	free(m);
}

static int grow(wn_minhash *m, size_t need)
{
	if (need <= m->cap)
		return 0;
	size_t nc = m->cap ? m->cap * 2 : 4096;
	while (nc < need)
		nc *= 2;
	uint64_t **s = realloc(m->set, nc * sizeof *s);
	if (s)
		m->set = s;
	uint32_t *sn = realloc(m->set_n, nc * sizeof *sn);
	if (sn)
		m->set_n = sn;
	uint64_t *bd = realloc(m->band, nc * (size_t)m->o.bands * sizeof *bd);
	if (bd)
		m->band = bd;
	if (!s || !sn || !bd)
		return -1;
	m->cap = nc;
	return 0;
}

/* ---- one text: set, signature, bands ---- */

typedef struct digests {
	uint64_t *v;
	size_t n, cap;
	int oom;
} digests;

static void push_digest(void *ctx, const char *bytes, size_t len)
{
	digests *d = ctx;
	if (d->n == d->cap) {
		size_t nc = d->cap ? d->cap * 2 : 256;
		uint64_t *q = realloc(d->v, nc * sizeof *q);
		if (!q) {
			d->oom = 1;
			return;
		}
		d->v = q;
		d->cap = nc;
	}
	d->v[d->n++] = XXH3_64bits(bytes, len);
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return (a > b) - (a < b);
}

static size_t sort_unique(uint64_t *v, size_t n)
{
	if (n < 2)
		return n;
	qsort(v, n, sizeof *v, cmp_u64);
	size_t w = 1;
	for (size_t i = 1; i < n; i++)
		if (v[i] != v[w - 1])
			v[w++] = v[i];
	return w;
}

static inline uint64_t mod61(unsigned __int128 x)
{
	uint64_t r = ((uint64_t)x & P61) + (uint64_t)(x >> 61);
	r = (r & P61) + (r >> 61);
	return r >= P61 ? r - P61 : r;
}

/* Signature of the set into sig (bands x rows values), then its band hashes. */
static void sign(const wn_minhash *m, const uint64_t *set, size_t n, uint64_t *sig, uint64_t *band)
{
	size_t k = (size_t)m->o.bands * (size_t)m->o.rows;
	for (size_t i = 0; i < k; i++)
		sig[i] = UINT64_MAX;
	for (size_t s = 0; s < n; s++) {
		uint64_t x = set[s] % P61;
		for (size_t i = 0; i < k; i++) {
			uint64_t h = mod61((unsigned __int128)m->a[i] * x + m->b[i]);
			if (h < sig[i])
				sig[i] = h;
		}
	}
	for (int j = 0; j < m->o.bands; j++)
		band[j] = XXH3_64bits_withSeed(sig + (size_t)j * m->o.rows,
					       (size_t)m->o.rows * sizeof *sig, (uint64_t)j);
}

/* 0, or a wn_tok status / WN_TOK_ENOMEM. */
static int add_one(wn_minhash *m, wn_tok *t, digests *d, uint64_t *sig, const char *text,
		   size_t len, size_t at)
{
	const char *norm;
	const wn_tok_span *spans;
	long nt = wn_tok_run(t, text, len, &norm, &spans);
	if (nt < 0)
		return (int)nt;
	d->n = 0;
	if (wn_tok_shingles(t, norm, spans, (size_t)nt, m->o.ngram, push_digest, d) < 0 || d->oom)
		return WN_TOK_ENOMEM;
	size_t n = sort_unique(d->v, d->n);
	uint64_t *set = malloc((n ? n : 1) * sizeof *set);
	if (!set)
		return WN_TOK_ENOMEM;
	memcpy(set, d->v, n * sizeof *set);
	m->set[at] = set;
	m->set_n[at] = (uint32_t)n;
	sign(m, set, n, sig, m->band + at * (size_t)m->o.bands);
	return 0;
}

int wn_minhash_add(wn_minhash *m, const char *const *texts, const size_t *lens, size_t n,
		   char *err, size_t errlen)
{
	if (m->n + n > UINT32_MAX)
		return wn_errf(err, errlen, "more than %u texts", UINT32_MAX), -1;
	if (grow(m, m->n + n))
		return wn_errf(err, errlen, "out of memory"), -1;
	size_t base = m->n, k = (size_t)m->o.bands * (size_t)m->o.rows;
	long bad = -1;
	int code = 0;
	int nth = m->o.threads > 0 ? m->o.threads : omp_get_max_threads();
	for (size_t i = 0; i < n; i++)
		m->set[base + i] = NULL;
#pragma omp parallel num_threads(nth)
	{
		wn_tok_opts to = {WN_TOK_NONWORD, 0};
		wn_tok *t = wn_tok_new(&to);
		digests d = {0};
		uint64_t *sig = malloc(k * sizeof *sig);
#pragma omp for schedule(dynamic, 64)
		for (size_t i = 0; i < n; i++) {
			int rc = !t || !sig ? WN_TOK_ENOMEM
					    : add_one(m, t, &d, sig, texts[i], lens[i], base + i);
#pragma omp critical(wn_minhash_err)
			if (rc && (bad < 0 || (long)i < bad)) {
				bad = (long)i;
				code = rc;
			}
		}
		free(sig);
		free(d.v);
		wn_tok_free(t);
	}
	m->n = base + n;
	if (bad >= 0)
		return wn_errf(err, errlen, "text %zu: %s", base + (size_t)bad, wn_tok_strerror(code)), -1;
	return 0;
}

/* ---- candidates, verification, groups ---- */

typedef struct band_entry {
	uint64_t h;
	uint32_t band, idx;
} band_entry;

static int cmp_entry(const void *x, const void *y)
{
	const band_entry *a = x, *b = y;
	if (a->band != b->band)
		return a->band < b->band ? -1 : 1;
	if (a->h != b->h)
		return a->h < b->h ? -1 : 1;
	return (a->idx > b->idx) - (a->idx < b->idx);
}

static int cmp_pair(const void *x, const void *y)
{
	const wn_minhash_pair *a = x, *b = y;
	if (a->a != b->a)
		return a->a < b->a ? -1 : 1;
	return (a->b > b->b) - (a->b < b->b);
}

static int push_pair(wn_minhash *m, size_t *cap, uint32_t a, uint32_t b)
{
	if (m->npairs == *cap) {
		size_t nc = *cap ? *cap * 2 : 4096;
		wn_minhash_pair *q = realloc(m->pairs, nc * sizeof *q);
		if (!q)
			return -1;
		m->pairs = q;
		*cap = nc;
	}
	m->pairs[m->npairs++] = (wn_minhash_pair){a, b, NAN, 0};
	return 0;
}

/* The pairs of one bucket e[0..k): all of them, or a star on e[0] past the limit. */
static int bucket_pairs(wn_minhash *m, size_t *cap, const band_entry *e, size_t k)
{
	for (size_t i = 0; i < k; i++)
		for (size_t j = i + 1; j < k; j++) {
			if (push_pair(m, cap, e[i].idx, e[j].idx))
				return -1;
			if (k > WN_MINHASH_BUCKET_ALL)
				break;
		}
	return 0;
}

static int collect_candidates(wn_minhash *m)
{
	size_t nb = (size_t)m->o.bands, ne = 0, cap = 0, total = m->n * nb;
	band_entry *e = malloc((total ? total : 1) * sizeof *e);
	if (!e)
		return -1;
	for (size_t i = 0; i < m->n; i++)
		for (size_t j = 0; m->set_n[i] && j < nb; j++)
			e[ne++] = (band_entry){m->band[i * nb + j], (uint32_t)j, (uint32_t)i};
	qsort(e, ne, sizeof *e, cmp_entry);
	int rc = 0;
	for (size_t s = 0, t; rc == 0 && s < ne; s = t) {
		for (t = s + 1; t < ne && e[t].band == e[s].band && e[t].h == e[s].h; t++)
			;
		rc = bucket_pairs(m, &cap, e + s, t - s);
	}
	free(e);
	if (rc || m->npairs < 2)
		return rc;
	qsort(m->pairs, m->npairs, sizeof *m->pairs, cmp_pair);
	size_t w = 1;
	for (size_t i = 1; i < m->npairs; i++)
		if (m->pairs[i].a != m->pairs[w - 1].a || m->pairs[i].b != m->pairs[w - 1].b)
			m->pairs[w++] = m->pairs[i];
	m->npairs = w;
	return 0;
}

double wn_minhash_jaccard(const wn_minhash *m, size_t i, size_t j)
{
	return wn_minhash_jaccard_sets(m->set[i], m->set_n[i], m->set[j], m->set_n[j]);
}

double wn_minhash_jaccard_sets(const uint64_t *x, size_t nx, const uint64_t *y, size_t ny)
{
	size_t p = 0, q = 0, inter = 0;
	if (!nx && !ny)
		return 0;
	while (p < nx && q < ny) {
		if (x[p] == y[q])
			inter++, p++, q++;
		else if (x[p] < y[q])
			p++;
		else
			q++;
	}
	return (double)inter / (double)(nx + ny - inter);
}

int wn_minhash_group(wn_minhash *m, char *err, size_t errlen)
{
	if (collect_candidates(m))
		return wn_errf(err, errlen, "out of memory (candidate pairs)"), -1;
	int nth = m->o.threads > 0 ? m->o.threads : omp_get_max_threads();
	if (m->o.verify) {
#pragma omp parallel for schedule(dynamic, 256) num_threads(nth)
		for (size_t i = 0; i < m->npairs; i++) {
			wn_minhash_pair *p = &m->pairs[i];
			p->jaccard = wn_minhash_jaccard(m, p->a, p->b);
			p->verified = p->jaccard >= m->o.threshold;
		}
	}
	if (wn_cluster_uf_init(&m->uf, (int64_t)m->n) ||
	    !(m->gsize = calloc(m->n ? m->n : 1, sizeof *m->gsize)))
		return wn_errf(err, errlen, "out of memory"), -1;
	for (size_t i = 0; i < m->npairs; i++)
		if (!m->o.verify || m->pairs[i].verified)
			wn_cluster_uf_union(&m->uf, m->pairs[i].a, m->pairs[i].b);
	for (size_t i = 0; i < m->n; i++)
		m->gsize[wn_cluster_uf_find(&m->uf, (int64_t)i)]++;
	return 0;
}

size_t wn_minhash_count(const wn_minhash *m) { return m->n; }

const wn_minhash_pair *wn_minhash_pairs(const wn_minhash *m, size_t *n)
{
	*n = m->npairs;
	return m->pairs;
}

size_t wn_minhash_root(const wn_minhash *m, size_t i)
{
	return (size_t)wn_cluster_uf_find((wn_cluster_uf *)&m->uf, (int64_t)i);
}

size_t wn_minhash_group_size(const wn_minhash *m, size_t i)
{
	return m->gsize[wn_minhash_root(m, i)];
}

size_t wn_minhash_set_size(const wn_minhash *m, size_t i) { return m->set_n[i]; }

const uint64_t *wn_minhash_set(const wn_minhash *m, size_t i, size_t *n)
{
	*n = m->set_n[i];
	return m->set[i];
}

const uint64_t *wn_minhash_bands(const wn_minhash *m, size_t i)
{
	return m->band + i * (size_t)m->o.bands;
}
