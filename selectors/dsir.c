/*
 * selectors/dsir.c — DSIR hashed n-gram importance weights (definition in
 * dsir.h).
 *
 * Owns: the two count vectors, log_diff, per-thread scratch (tokenizer,
 * partial counts, a feature -> bucket cache, bucket-id buffers).
 * Borrows: text/tokenize (WN_TOK_WORDPUNCT), nettle SHA-256, xxh3, OpenMP.
 *
 * Why a cache: word frequencies are Zipfian, so a small direct-mapped table
 * of recent features (keyed by xxh3 of the bytes, the bytes kept inline and
 * compared in full, so the cache can never change an answer) spares the
 * SHA-256 and the 256-bit reduction for about two features in three on the
 * PyPI corpus. Why the reduction is done in 32-bit limbs: the digest is
 * Σ limb_k · 2^(32k); with 2^(32k) mod m precomputed, each term is one 64-bit
 * product and one remainder, all independent.
 */
#include "selectors/dsir.h"
#include "io/errf.h"
#include "text/tokenize.h"

#include <math.h>
#include <nettle/sha2.h>
#include <omp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#ifndef CACHE_BITS
#define CACHE_BITS 14 /* 16384 slots of 32 bytes per thread: 512 KiB */
#endif
#define CACHE_MAX_FEATURE 19 /* longer features are not cached */
#define MAX_BUCKETS (1u << 28)

/* One direct-mapped cache line half: the feature's bytes are kept inline,
 * so a hit touches one cache line and nothing else. len 0 = empty. */
struct slot {
	uint64_t h;
	uint32_t bucket;
	uint8_t len;
	char bytes[CACHE_MAX_FEATURE];
};

struct dthread {
	wn_tok *tok;
	uint32_t *ids; /* wn_dsir_features: this thread's bucket ids */
	size_t n_ids, ids_cap;
	int oom;
	uint64_t *partial; /* counts of the current batch */
	int dirty;
	struct slot *slots;
};

struct wn_dsir {
	uint32_t buckets;
	int hash, ngrams, threads;
	uint64_t pow32[8]; /* 2^(32k) mod buckets */
	uint64_t *counts[2];
	uint64_t total[2];
	double *log_diff;
	int fitted;
	struct dthread *th;
};

int wn_dsir_parse_hash(const char *name)
{
	if (!strcmp(name, "sha256"))
		return WN_DSIR_SHA256;
	if (!strcmp(name, "xxh3"))
		return WN_DSIR_XXH3;
	return -1;
}

wn_dsir *wn_dsir_new(const wn_dsir_opts *o, char *err, size_t errlen)
{
	uint32_t m = o->buckets ? o->buckets : 10000;
	int ng = o->ngrams ? o->ngrams : 2;
	if (m > MAX_BUCKETS) {
		wn_errf(err, errlen, "buckets must be 1..%u, not %u", MAX_BUCKETS, m);
		return NULL;
	}
	if (ng < 1 || ng > 5) {
		wn_errf(err, errlen, "ngrams must be 1..5, not %d", ng);
		return NULL;
	}
	if (o->hash != WN_DSIR_SHA256 && o->hash != WN_DSIR_XXH3) {
		wn_errf(err, errlen, "unknown hash %d", o->hash);
		return NULL;
	}
	wn_dsir *d = calloc(1, sizeof *d);
	if (!d)
		goto oom;
	d->buckets = m;
	d->hash = o->hash;
	d->ngrams = ng;
	d->threads = o->threads > 0 ? o->threads : omp_get_max_threads();
	uint64_t two32 = ((uint64_t)1 << 32) % m;
	d->pow32[0] = 1 % m;
	for (int k = 1; k < 8; k++)
		d->pow32[k] = (d->pow32[k - 1] * two32) % m;
	d->counts[0] = calloc(m, sizeof **d->counts);
	d->counts[1] = calloc(m, sizeof **d->counts);
	d->log_diff = calloc(m, sizeof *d->log_diff);
	d->th = calloc((size_t)d->threads, sizeof *d->th);
	if (!d->counts[0] || !d->counts[1] || !d->log_diff || !d->th)
		goto oom;
	return d;
oom:
	wn_errf(err, errlen, "out of memory");
	wn_dsir_free(d);
	return NULL;
}

static void thread_free(struct dthread *t)
{
	wn_tok_free(t->tok);
	free(t->ids);
	free(t->partial);
	free(t->slots);
	memset(t, 0, sizeof *t);
}

void wn_dsir_free(wn_dsir *d)
{
	if (!d)
		return;
	if (d->th)
		for (int i = 0; i < d->threads; i++)
			thread_free(&d->th[i]);
	free(d->th);
	free(d->counts[0]);
	free(d->counts[1]);
	free(d->log_diff);
	free(d);
}

uint32_t wn_dsir_buckets(const wn_dsir *d) { return d->buckets; }
uint64_t wn_dsir_total(const wn_dsir *d, int set) { return d->total[set != 0]; }
const uint64_t *wn_dsir_counts(const wn_dsir *d, int set) { return d->counts[set != 0]; }
const double *wn_dsir_log_diff(const wn_dsir *d) { return d->log_diff; }

/* ---------- hashing ---------- */

uint32_t wn_dsir_bucket(const wn_dsir *d, const char *bytes, size_t len)
{
	if (d->hash == WN_DSIR_XXH3)
		return (uint32_t)(XXH3_64bits(bytes, len) % d->buckets);
	struct sha256_ctx c;
	uint8_t dg[SHA256_DIGEST_SIZE];
	sha256_init(&c);
	sha256_update(&c, len, (const uint8_t *)bytes);
	sha256_digest(&c, sizeof dg, dg);
	uint64_t acc = 0;
	for (int k = 0; k < 8; k++) {
		const uint8_t *p = dg + 4 * k; /* limb k from the most significant */
		uint64_t limb = (uint64_t)p[0] << 24 | (uint64_t)p[1] << 16 |
				(uint64_t)p[2] << 8 | p[3];
		acc += (limb * d->pow32[7 - k]) % d->buckets;
	}
	return (uint32_t)(acc % d->buckets);
}

static int thread_init(const wn_dsir *d, struct dthread *t)
{
	if (t->tok)
		return 0;
	wn_tok_opts to = {.mode = WN_TOK_WORDPUNCT};
	t->tok = wn_tok_new(&to);
	t->partial = calloc(d->buckets, sizeof *t->partial);
	int cache = d->hash == WN_DSIR_SHA256;
	if (cache)
		t->slots = calloc((size_t)1 << CACHE_BITS, sizeof *t->slots);
	if (!t->tok || !t->partial || (cache && !t->slots)) {
		thread_free(t);
		return -1;
	}
	return 0;
}

/* bucket(f) through the thread's cache: direct-mapped, a miss replaces
 * the slot (frequent features keep coming back); exact, bytes compared. */
static uint32_t cached_bucket(const wn_dsir *d, struct dthread *t,
			      const char *s, size_t len)
{
	if (!t->slots || len > CACHE_MAX_FEATURE)
		return wn_dsir_bucket(d, s, len);
	uint64_t h = XXH3_64bits(s, len);
	struct slot *sl = &t->slots[h >> (64 - CACHE_BITS)];
	if (sl->h == h && sl->len == len && !memcmp(sl->bytes, s, len))
		return sl->bucket;
	uint32_t b = wn_dsir_bucket(d, s, len);
	sl->h = h;
	sl->bucket = b;
	sl->len = (uint8_t)len;
	memcpy(sl->bytes, s, len);
	return b;
}

/* ---------- features of one text ---------- */

enum { SINK_COUNT, SINK_SCORE, SINK_IDS };

struct sink {
	const wn_dsir *d;
	struct dthread *t;
	int mode;
	double sum, comp; /* Neumaier-compensated sum of log_diff */
};

/* One term of the compensated sum: the same steps whether the buckets come
 * from text (wn_dsir_score) or from saved ids (wn_dsir_weight_ids), so the
 * two give the same bits. */
static inline void neumaier(double *sum, double *comp, double x)
{
	double s = *sum + x;
	*comp += fabs(*sum) >= fabs(x) ? (*sum - s) + x : (x - s) + *sum;
	*sum = s;
}

static void on_feature(void *ctx, const char *bytes, size_t len)
{
	struct sink *k = ctx;
	uint32_t b = cached_bucket(k->d, k->t, bytes, len);
	struct dthread *t = k->t;
	switch (k->mode) {
	case SINK_COUNT:
		t->partial[b]++;
		break;
	case SINK_SCORE:
		neumaier(&k->sum, &k->comp, k->d->log_diff[b]);
		break;
	default:
		if (t->n_ids == t->ids_cap) {
			size_t c = t->ids_cap ? 2 * t->ids_cap : 4096;
			uint32_t *q = realloc(t->ids, c * sizeof *q);
			if (!q) {
				t->oom = 1;
				return;
			}
			t->ids = q;
			t->ids_cap = c;
		}
		t->ids[t->n_ids++] = b;
	}
}

static int each_feature(const wn_dsir *d, struct dthread *t, const char *text,
			size_t len, struct sink *k)
{
	const char *norm;
	const wn_tok_span *sp;
	long n = wn_tok_run(t->tok, text, len, &norm, &sp);
	if (n < 0)
		return (int)n;
	for (long i = 0; i < n; i++)
		on_feature(k, norm + sp[i].off, sp[i].len);
	for (int g = 2; g <= d->ngrams; g++) {
		long r = wn_tok_word_ngrams(t->tok, norm, sp, (size_t)n, g, on_feature, k);
		if (r < 0)
			return (int)r;
	}
	return 0;
}

/* ---------- batches ---------- */

static void first_error(int rc, size_t i, int *err, size_t *at)
{
	if (!rc)
		return;
#pragma omp critical(wn_dsir_first_error)
	if (i < *at) {
		*at = i;
		*err = rc;
	}
}

int wn_dsir_count(wn_dsir *d, int set, const char *const *texts,
		  const size_t *lens, size_t n, int *status)
{
	set = set != 0;
	int err = 0;
	size_t at = (size_t)-1;
#pragma omp parallel num_threads(d->threads)
	{
		struct dthread *t = &d->th[omp_get_thread_num()];
		int ok = thread_init(d, t) == 0;
#pragma omp for schedule(dynamic, 16)
		for (size_t i = 0; i < n; i++) {
			int rc = WN_TOK_ENOMEM;
			if (ok) {
				/* the tokenizer rejects a bad text before its first
				 * feature, so a failing text adds nothing */
				struct sink k = {d, t, SINK_COUNT, 0, 0};
				rc = each_feature(d, t, texts[i], lens[i], &k);
				t->dirty = 1;
			}
			if (status)
				status[i] = rc;
			first_error(rc, i, &err, &at);
		}
	}
	for (int i = 0; i < d->threads; i++) {
		struct dthread *t = &d->th[i];
		if (!t->dirty)
			continue;
		for (uint32_t b = 0; b < d->buckets; b++) {
			d->counts[set][b] += t->partial[b];
			d->total[set] += t->partial[b];
		}
		memset(t->partial, 0, d->buckets * sizeof *t->partial);
		t->dirty = 0;
	}
	d->fitted = 0;
	return err;
}

int wn_dsir_fit(wn_dsir *d, char *err, size_t errlen)
{
	for (int s = 0; s < 2; s++)
		if (d->total[s] == 0) {
			wn_errf(err, errlen, "the %s set has no tokens",
				s == WN_DSIR_RAW ? "raw" : "target");
			return -1;
		}
	double tr = (double)d->total[WN_DSIR_RAW], tt = (double)d->total[WN_DSIR_TARGET];
	for (uint32_t b = 0; b < d->buckets; b++) {
		double pr = (double)d->counts[WN_DSIR_RAW][b] / tr;
		double pt = (double)d->counts[WN_DSIR_TARGET][b] / tt;
		d->log_diff[b] = log(pt + 1e-8) - log(pr + 1e-8);
	}
	d->fitted = 1;
	return 0;
}

int wn_dsir_score(wn_dsir *d, const char *const *texts, const size_t *lens,
		  size_t n, double *weights, int *status)
{
	if (!d->fitted)
		return -1;
	int err = 0;
	size_t at = (size_t)-1;
#pragma omp parallel num_threads(d->threads)
	{
		struct dthread *t = &d->th[omp_get_thread_num()];
		int ok = thread_init(d, t) == 0;
#pragma omp for schedule(dynamic, 16)
		for (size_t i = 0; i < n; i++) {
			int rc = WN_TOK_ENOMEM;
			struct sink k = {d, t, SINK_SCORE, 0, 0};
			if (ok)
				rc = each_feature(d, t, texts[i], lens[i], &k);
			weights[i] = rc ? 0 : k.sum + k.comp;
			if (status)
				status[i] = rc;
			first_error(rc, i, &err, &at);
		}
	}
	return err;
}

/* ---------- bucket ids: hash once, count and weigh later ---------- */

int wn_dsir_features(wn_dsir *d, const char *const *texts, const size_t *lens,
		     size_t n, wn_dsir_ids *out, int *status)
{
	/* where each text's ids went: (thread, start, count) */
	if (out->off_cap < n + 1) {
		size_t *q = realloc(out->off, (n + 1) * sizeof *q);
		if (!q)
			return WN_TOK_ENOMEM;
		out->off = q;
		out->off_cap = n + 1;
	}
	size_t *where = malloc(3 * (n ? n : 1) * sizeof *where);
	if (!where)
		return WN_TOK_ENOMEM;
	int err = 0;
	size_t at = (size_t)-1;
#pragma omp parallel num_threads(d->threads)
	{
		int tn = omp_get_thread_num();
		struct dthread *t = &d->th[tn];
		int ok = thread_init(d, t) == 0;
		if (ok) {
			t->n_ids = 0;
			t->oom = 0;
		}
#pragma omp for schedule(dynamic, 16)
		for (size_t i = 0; i < n; i++) {
			int rc = WN_TOK_ENOMEM;
			size_t start = ok ? t->n_ids : 0;
			if (ok) {
				struct sink k = {d, t, SINK_IDS, 0, 0};
				rc = each_feature(d, t, texts[i], lens[i], &k);
				if (!rc && t->oom)
					rc = WN_TOK_ENOMEM;
				if (rc)
					t->n_ids = start; /* a failed text has no ids */
			}
			where[3 * i] = (size_t)tn;
			where[3 * i + 1] = start;
			where[3 * i + 2] = ok ? t->n_ids - start : 0;
			if (status)
				status[i] = rc;
			first_error(rc, i, &err, &at);
		}
	}
	size_t total = 0;
	for (size_t i = 0; i < n; i++) {
		out->off[i] = total;
		total += where[3 * i + 2];
	}
	out->off[n] = total;
	if (out->cap < total) {
		uint32_t *q = realloc(out->ids, total * sizeof *q);
		if (!q) {
			free(where);
			return WN_TOK_ENOMEM;
		}
		out->ids = q;
		out->cap = total;
	}
	for (size_t i = 0; i < n; i++)
		if (where[3 * i + 2])
			memcpy(out->ids + out->off[i], d->th[where[3 * i]].ids + where[3 * i + 1],
			       where[3 * i + 2] * sizeof *out->ids);
	out->n = n;
	free(where);
	return err;
}

void wn_dsir_ids_free(wn_dsir_ids *x)
{
	free(x->ids);
	free(x->off);
	memset(x, 0, sizeof *x);
}

void wn_dsir_count_ids(wn_dsir *d, int set, const uint32_t *ids, size_t n_ids)
{
	set = set != 0;
	for (size_t i = 0; i < n_ids; i++)
		d->counts[set][ids[i]]++;
	d->total[set] += n_ids;
	d->fitted = 0;
}

double wn_dsir_weight_ids(const wn_dsir *d, const uint32_t *ids, size_t n_ids)
{
	double sum = 0, comp = 0;
	for (size_t i = 0; i < n_ids; i++)
		neumaier(&sum, &comp, d->log_diff[ids[i] < d->buckets ? ids[i] : 0]);
	return sum + comp;
}
