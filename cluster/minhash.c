/*
 * cluster/minhash.c — MinHash LSH with verification (see cluster/minhash.h).
 *
 * Threads: wn_minhash_add splits texts over OpenMP threads, each with its
 * own tokenizer workspace; every text's set, signature and band hashes
 * depend on that text alone, so the split cannot change them. Candidates
 * are sorted (one thread) and verified in parallel into their own slots.
 *
 * Memory: per text only its offset in the store and its set size (12
 * bytes). The store (each text's band hashes, then its digests) lives in
 * memory up to half of opts.memory, then in an unlinked temporary file read
 * back with pread(2) (RSS stays flat: the page cache is not ours). The
 * (band, hash, text) entries the candidates come from are buffered up to
 * the other half, sorted, and spilled as runs to a second unlinked file;
 * the candidates are then read off a k-way merge of the runs. Spilling
 * changes where bytes live, never a result.
 */
#include "cluster/minhash.h"

#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "cluster/graph.h"
#include "core/rng.h"
#include "io/errf.h"
#include "io/fdio.h"
#include "io/spool.h"
#include "text/tokenize.h"

#define P61 (((uint64_t)1 << 61) - 1)

typedef struct band_entry {
	uint64_t h;
	uint32_t band, idx;
} band_entry;

struct wn_minhash {
	wn_minhash_opts o;
	uint64_t *a, *b;            /* the hash family, bands x rows of each */
	size_t n, cap;
	uint64_t *off;              /* n: word offset of text i in the store */
	uint32_t *set_n;            /* n: its distinct digests */
	/* the store: [bands band hashes][set_n digests] per text */
	uint64_t *arena;            /* in memory (NULL once on disk) */
	size_t arena_len, arena_cap, store_limit; /* words */
	int store_fd;               /* -1 until spilled */
	uint64_t store_words;       /* words in the store */
	uint64_t *wbuf;             /* on disk: words not written yet (flushed by every add) */
	size_t wbuf_n;
	/* band entries: a sorted-run buffer, then runs on disk */
	band_entry *be;
	size_t be_n, be_alloc, be_cap; /* entries held, allocated, allowed */
	int runs_fd;
	uint64_t *run_at, *run_len; /* entries */
	size_t nruns, runs_cap;
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

/* ---- the unlinked temporary files (io/spool.h makes them) ---- */

static int write_at_end(int fd, const void *p, size_t bytes, char *err, size_t errlen)
{
	size_t done;
	if (wn_write_all(fd, p, bytes, &done) == 0)
		return 0;
	return wn_errf(err, errlen, "temporary file write failed (in %s): %s", wn_tmp_dir(),
		       strerror(errno)), -1;
}

static int read_at(int fd, void *p, size_t bytes, uint64_t at)
{
	char *c = p;
	while (bytes) {
		ssize_t r = pread(fd, c, bytes, (off_t)at);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		c += r;
		bytes -= (size_t)r;
		at += (uint64_t)r;
	}
	return 0;
}

/* ---- the index ---- */

wn_minhash *wn_minhash_new(const wn_minhash_opts *o)
{
	wn_minhash *m = calloc(1, sizeof *m);
	size_t k = (size_t)o->bands * (size_t)o->rows;
	if (!m)
		return NULL;
	m->store_fd = m->runs_fd = -1;
	if (!(m->a = malloc(k * sizeof *m->a)) || !(m->b = malloc(k * sizeof *m->b))) {
		wn_minhash_free(m);
		return NULL;
	}
	m->o = *o;
	size_t mem = o->memory ? o->memory : (size_t)1 << 30;
	m->store_limit = mem / 2 / sizeof(uint64_t);
	m->be_cap = mem / 2 / sizeof(band_entry);
	if (m->be_cap < 64)
		m->be_cap = 64;
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
	free(m->off);
	free(m->set_n);
	free(m->arena);
	free(m->wbuf);
	free(m->be);
	free(m->run_at);
	free(m->run_len);
	if (m->store_fd >= 0)
		close(m->store_fd);
	if (m->runs_fd >= 0)
		close(m->runs_fd);
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
	uint64_t *of = realloc(m->off, nc * sizeof *of);
	if (of)
		m->off = of;
	uint32_t *sn = realloc(m->set_n, nc * sizeof *sn);
	if (sn)
		m->set_n = sn;
	if (!of || !sn)
		return -1;
	m->cap = nc;
	return 0;
}

int wn_minhash_spilled(const wn_minhash *m, size_t *runs, uint64_t *store_bytes)
{
	*runs = m->nruns;
	*store_bytes = m->store_words * sizeof(uint64_t);
	return m->store_fd >= 0;
}

/* ---- the store ---- */

#define WBUF_WORDS 65536 /* 512 KiB of writes at once once the store is on disk */

static int store_flush(wn_minhash *m, char *err, size_t errlen)
{
	if (!m->wbuf_n)
		return 0;
	int rc = write_at_end(m->store_fd, m->wbuf, m->wbuf_n * sizeof *m->wbuf, err, errlen);
	m->wbuf_n = 0;
	return rc;
}

/* Append words to the store (memory, or the file once past the limit). */
static int store_put(wn_minhash *m, const uint64_t *w, size_t nw, char *err, size_t errlen)
{
	if (m->store_fd < 0 && m->arena_len + nw > m->store_limit) {
		if ((m->store_fd = wn_tmpfile_open("temporary file", err, errlen)) < 0 ||
		    write_at_end(m->store_fd, m->arena, m->arena_len * sizeof *w, err, errlen))
			return -1;
		free(m->arena);
		m->arena = NULL;
		m->arena_len = m->arena_cap = 0;
	}
	if (m->store_fd >= 0) {
		if (!m->wbuf && !(m->wbuf = malloc(WBUF_WORDS * sizeof *m->wbuf)))
			return wn_errf(err, errlen, "out of memory"), -1;
		if (m->wbuf_n + nw > WBUF_WORDS && store_flush(m, err, errlen))
			return -1;
		if (nw > WBUF_WORDS) {
			if (write_at_end(m->store_fd, w, nw * sizeof *w, err, errlen))
				return -1;
		} else {
			memcpy(m->wbuf + m->wbuf_n, w, nw * sizeof *w);
			m->wbuf_n += nw;
		}
	} else {
		if (m->arena_len + nw > m->arena_cap) {
			size_t nc = m->arena_cap ? m->arena_cap * 2 : 65536;
			while (nc < m->arena_len + nw)
				nc *= 2;
			if (nc > m->store_limit) /* never past the limit: it holds */
				nc = m->store_limit;
			uint64_t *q = realloc(m->arena, nc * sizeof *q);
			if (!q)
				return wn_errf(err, errlen, "out of memory (shingle sets)"), -1;
			m->arena = q;
			m->arena_cap = nc;
		}
		memcpy(m->arena + m->arena_len, w, nw * sizeof *w);
		m->arena_len += nw;
	}
	m->store_words += nw;
	return 0;
}

int wn_minhash_text(const wn_minhash *m, size_t i, wn_minhash_view *v, const uint64_t **bands,
		    const uint64_t **set, size_t *n)
{
	size_t nb = (size_t)m->o.bands, nw = nb + m->set_n[i];
	const uint64_t *p;
	if (m->store_fd < 0) {
		p = m->arena + m->off[i];
	} else {
		if (nw > v->cap) {
			uint64_t *q = realloc(v->buf, nw * sizeof *q);
			if (!q)
				return -1;
			v->buf = q;
			v->cap = nw;
		}
		if (read_at(m->store_fd, v->buf, nw * sizeof *v->buf, m->off[i] * sizeof *v->buf))
			return -1;
		p = v->buf;
	}
	if (bands)
		*bands = p;
	*set = p + nb;
	*n = m->set_n[i];
	return 0;
}

void wn_minhash_view_free(wn_minhash_view *v)
{
	free(v->buf);
	v->buf = NULL;
	v->cap = 0;
}

/* ---- band entries: a buffer, sorted runs on disk ---- */

static int cmp_entry(const void *x, const void *y)
{
	const band_entry *a = x, *b = y;
	if (a->band != b->band)
		return a->band < b->band ? -1 : 1;
	if (a->h != b->h)
		return a->h < b->h ? -1 : 1;
	return (a->idx > b->idx) - (a->idx < b->idx);
}

static int spill_run(wn_minhash *m, char *err, size_t errlen)
{
	if (!m->be_n)
		return 0;
	qsort(m->be, m->be_n, sizeof *m->be, cmp_entry);
	if (m->runs_fd < 0 && (m->runs_fd = wn_tmpfile_open("temporary file", err, errlen)) < 0)
		return -1;
	if (m->nruns == m->runs_cap) {
		size_t nc = m->runs_cap ? m->runs_cap * 2 : 16;
		uint64_t *a = realloc(m->run_at, nc * sizeof *a);
		if (a)
			m->run_at = a;
		uint64_t *l = a ? realloc(m->run_len, nc * sizeof *l) : NULL;
		if (!l)
			return wn_errf(err, errlen, "out of memory"), -1;
		m->run_len = l;
		m->runs_cap = nc;
	}
	uint64_t at = m->nruns ? m->run_at[m->nruns - 1] + m->run_len[m->nruns - 1] : 0;
	if (write_at_end(m->runs_fd, m->be, m->be_n * sizeof *m->be, err, errlen))
		return -1;
	m->run_at[m->nruns] = at;
	m->run_len[m->nruns++] = m->be_n;
	m->be_n = 0;
	return 0;
}

static int put_entry(wn_minhash *m, band_entry e, char *err, size_t errlen)
{
	if (!m->be) {
		size_t want = m->be_cap < 65536 ? m->be_cap : 65536;
		if (!(m->be = malloc(want * sizeof *m->be)))
			return wn_errf(err, errlen, "out of memory"), -1;
		m->be_alloc = want;
	}
	if (m->be_n == m->be_alloc) {
		if (m->be_alloc < m->be_cap) {
			size_t nc = m->be_alloc * 2 < m->be_cap ? m->be_alloc * 2 : m->be_cap;
			band_entry *q = realloc(m->be, nc * sizeof *q);
			if (!q)
				return wn_errf(err, errlen, "out of memory (band hashes)"), -1;
			m->be = q;
			m->be_alloc = nc;
		} else if (spill_run(m, err, errlen)) {
			return -1;
		}
	}
	m->be[m->be_n++] = e;
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

/* One block's texts before they go to the store: sets and band hashes. */
typedef struct block {
	uint64_t **set;
	uint32_t *n;
	uint64_t *band;   /* n x bands */
} block;

/* 0, or a wn_tok status / WN_TOK_ENOMEM. */
static int add_one(const wn_minhash *m, wn_tok *t, digests *d, uint64_t *sig, const char *text,
		   size_t len, block *b, size_t i)
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
	b->set[i] = set;
	b->n[i] = (uint32_t)n;
	sign(m, set, n, sig, b->band + i * (size_t)m->o.bands);
	return 0;
}

/* Sets, signatures and band hashes of texts[0..n), in parallel; -1 and *bad, *code on failure. */
static void compute_block(const wn_minhash *m, const char *const *texts, const size_t *lens,
			  size_t n, block *b, long *bad, int *code)
{
	size_t k = (size_t)m->o.bands * (size_t)m->o.rows;
	int nth = m->o.threads > 0 ? m->o.threads : omp_get_max_threads();
#pragma omp parallel num_threads(nth)
	{
		wn_tok_opts to = {WN_TOK_NONWORD, 0};
		wn_tok *t = wn_tok_new(&to);
		digests d = {0};
		uint64_t *sig = malloc(k * sizeof *sig);
#pragma omp for schedule(dynamic, 64)
		for (size_t i = 0; i < n; i++) {
			int rc = !t || !sig ? WN_TOK_ENOMEM
					    : add_one(m, t, &d, sig, texts[i], lens[i], b, i);
#pragma omp critical(wn_minhash_err)
			if (rc && (*bad < 0 || (long)i < *bad)) {
				*bad = (long)i;
				*code = rc;
			}
		}
		free(sig);
		free(d.v);
		wn_tok_free(t);
	}
}

/* The block into the store and the band entries, in text order. */
static int store_block(wn_minhash *m, block *b, size_t n, char *err, size_t errlen)
{
	size_t nb = (size_t)m->o.bands;
	for (size_t i = 0; i < n; i++) {
		size_t at = m->n + i;
		m->off[at] = m->store_words;
		m->set_n[at] = b->n[i];
		const uint64_t *band = b->band + i * nb;
		if (store_put(m, band, nb, err, errlen) || store_put(m, b->set[i], b->n[i], err, errlen))
			return -1;
		for (size_t j = 0; b->n[i] && j < nb; j++)
			if (put_entry(m, (band_entry){band[j], (uint32_t)j, (uint32_t)at}, err, errlen))
				return -1;
	}
	return 0;
}

int wn_minhash_add(wn_minhash *m, const char *const *texts, const size_t *lens, size_t n,
		   char *err, size_t errlen)
{
	if (m->n + n > UINT32_MAX)
		return wn_errf(err, errlen, "more than %u texts", UINT32_MAX), -1;
	if (grow(m, m->n + n))
		return wn_errf(err, errlen, "out of memory"), -1;
	block b = {calloc(n ? n : 1, sizeof *b.set), calloc(n ? n : 1, sizeof *b.n),
		   malloc((n ? n : 1) * (size_t)m->o.bands * sizeof *b.band)};
	long bad = -1;
	int code = 0, rc = -1;
	if (!b.set || !b.n || !b.band) {
		wn_errf(err, errlen, "out of memory");
		goto done;
	}
	compute_block(m, texts, lens, n, &b, &bad, &code);
	if (bad >= 0) {
		wn_errf(err, errlen, "text %zu: %s", m->n + (size_t)bad, wn_tok_strerror(code));
		goto done;
	}
	if (store_block(m, &b, n, err, errlen) == 0 && (m->store_fd < 0 || !store_flush(m, err, errlen))) {
		m->n += n;
		rc = 0;
	}
done:
	for (size_t i = 0; b.set && i < n; i++)
		free(b.set[i]);
	free(b.set);
	free(b.n);
	free(b.band);
	return rc;
}

/* ---- candidates: buckets off the sorted entries ---- */

#define RUN_READ 4096 /* entries read at once from each run */

typedef struct run_reader {
	band_entry *buf;
	size_t n, pos;
	uint64_t at, left;   /* entries, in the runs file */
} run_reader;

/* The sorted entries, from memory (no runs) or a k-way merge of the runs. */
typedef struct entry_src {
	wn_minhash *m;
	size_t mem_pos;
	run_reader *r;
	size_t *heap, hn;
	int failed;
} entry_src;

static int rr_fill(entry_src *g, run_reader *r)
{
	size_t k = r->left < RUN_READ ? (size_t)r->left : RUN_READ;
	if (read_at(g->m->runs_fd, r->buf, k * sizeof *r->buf, r->at * sizeof *r->buf))
		return -1;
	r->n = k;
	r->pos = 0;
	r->at += k;
	r->left -= k;
	return 0;
}

static int heap_less(const entry_src *g, size_t a, size_t b)
{
	const run_reader *x = &g->r[a], *y = &g->r[b];
	return cmp_entry(&x->buf[x->pos], &y->buf[y->pos]) < 0;
}

static void heap_down(entry_src *g, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, s = i;
		if (l < g->hn && heap_less(g, g->heap[l], g->heap[s]))
			s = l;
		if (l + 1 < g->hn && heap_less(g, g->heap[l + 1], g->heap[s]))
			s = l + 1;
		if (s == i)
			return;
		size_t t = g->heap[i];
		g->heap[i] = g->heap[s];
		g->heap[s] = t;
		i = s;
	}
}

static int src_open(entry_src *g, wn_minhash *m, char *err, size_t errlen)
{
	memset(g, 0, sizeof *g);
	g->m = m;
	if (!m->nruns) {
		qsort(m->be, m->be_n, sizeof *m->be, cmp_entry);
		return 0;
	}
	if (spill_run(m, err, errlen))
		return -1;
	free(m->be); /* the merge reads the runs in small pieces instead */
	m->be = NULL;
	m->be_alloc = 0;
	g->r = calloc(m->nruns, sizeof *g->r);
	g->heap = malloc(m->nruns * sizeof *g->heap);
	if (!g->r || !g->heap)
		return wn_errf(err, errlen, "out of memory"), -1;
	for (size_t k = 0; k < m->nruns; k++) {
		run_reader *r = &g->r[k];
		r->at = m->run_at[k];
		r->left = m->run_len[k];
		if (!(r->buf = malloc(RUN_READ * sizeof *r->buf)))
			return wn_errf(err, errlen, "out of memory"), -1;
		if (rr_fill(g, r))
			return wn_errf(err, errlen, "temporary file read failed: %s", strerror(errno)), -1;
		if (r->n)
			g->heap[g->hn++] = k;
	}
	for (size_t i = g->hn; i-- > 0;)
		heap_down(g, i);
	return 0;
}

static void src_close(entry_src *g)
{
	for (size_t k = 0; g->r && k < g->m->nruns; k++)
		free(g->r[k].buf);
	free(g->r);
	free(g->heap);
}

/* Next entry in (band, hash, idx) order: 1, 0 at the end, -1 read error. */
static int src_next(entry_src *g, band_entry *e)
{
	wn_minhash *m = g->m;
	if (!m->nruns) {
		if (g->mem_pos == m->be_n)
			return 0;
		*e = m->be[g->mem_pos++];
		return 1;
	}
	if (!g->hn)
		return 0;
	run_reader *r = &g->r[g->heap[0]];
	*e = r->buf[r->pos++];
	if (r->pos == r->n && (!r->left || rr_fill(g, r))) {
		if (r->left)
			return -1;
		g->heap[0] = g->heap[--g->hn];
	}
	if (g->hn)
		heap_down(g, 0);
	return 1;
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

/* Buckets (equal band and hash) off the source, into pairs. */
static int scan_buckets(wn_minhash *m, entry_src *g, char *err, size_t errlen)
{
	band_entry *bk = NULL, e;
	size_t bn = 0, bcap = 0, cap = 0;
	int r = src_next(g, &e), rc = 0;
	while (r == 1 && rc == 0) {
		bn = 0;
		do {
			if (bn == bcap) {
				size_t nc = bcap ? bcap * 2 : 256;
				band_entry *q = realloc(bk, nc * sizeof *q);
				if (!q) {
					rc = -1;
					break;
				}
				bk = q;
				bcap = nc;
			}
			bk[bn++] = e;
		} while ((r = src_next(g, &e)) == 1 && e.band == bk[0].band && e.h == bk[0].h);
		if (rc == 0)
			rc = bucket_pairs(m, &cap, bk, bn);
	}
	free(bk);
	if (r < 0)
		return wn_errf(err, errlen, "temporary file read failed: %s", strerror(errno)), -1;
	return rc ? (wn_errf(err, errlen, "out of memory (candidate pairs)"), -1) : 0;
}

static int collect_candidates(wn_minhash *m, char *err, size_t errlen)
{
	entry_src g;
	int rc = src_open(&g, m, err, errlen);
	if (rc == 0)
		rc = scan_buckets(m, &g, err, errlen);
	src_close(&g);
	free(m->be);
	m->be = NULL;
	m->be_n = m->be_alloc = 0;
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

/* ---- verification, groups ---- */

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

double wn_minhash_jaccard(const wn_minhash *m, size_t i, size_t j)
{
	wn_minhash_view vi = {0}, vj = {0};
	const uint64_t *x, *y;
	size_t nx, ny;
	double r = NAN;
	if (!wn_minhash_text(m, i, &vi, NULL, &x, &nx) && !wn_minhash_text(m, j, &vj, NULL, &y, &ny))
		r = wn_minhash_jaccard_sets(x, nx, y, ny);
	wn_minhash_view_free(&vi);
	wn_minhash_view_free(&vj);
	return r;
}

/* Every candidate's Jaccard, in parallel; each thread reads the sets it needs. */
static int verify(wn_minhash *m, char *err, size_t errlen)
{
	int nth = m->o.threads > 0 ? m->o.threads : omp_get_max_threads(), failed = 0;
#pragma omp parallel num_threads(nth) reduction(| : failed)
	{
		wn_minhash_view va = {0}, vb = {0};
		const uint64_t *x = NULL, *y;
		size_t nx = 0, ny;
		int64_t last = -1;
#pragma omp for schedule(dynamic, 256)
		for (size_t i = 0; i < m->npairs; i++) {
			wn_minhash_pair *p = &m->pairs[i];
			if ((int64_t)p->a != last) {
				last = -1;
				if (wn_minhash_text(m, p->a, &va, NULL, &x, &nx)) {
					failed = 1;
					continue;
				}
				last = p->a;
			}
			if (wn_minhash_text(m, p->b, &vb, NULL, &y, &ny)) {
				failed = 1;
				continue;
			}
			p->jaccard = wn_minhash_jaccard_sets(x, nx, y, ny);
			p->verified = p->jaccard >= m->o.threshold;
		}
		wn_minhash_view_free(&va);
		wn_minhash_view_free(&vb);
	}
	if (failed)
		return wn_errf(err, errlen, "temporary file read failed (shingle sets): %s",
			       strerror(errno)), -1;
	return 0;
}

int wn_minhash_group(wn_minhash *m, char *err, size_t errlen)
{
	if (collect_candidates(m, err, errlen))
		return -1;
	if (m->o.verify && verify(m, err, errlen))
		return -1;
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
