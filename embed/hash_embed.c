/*
 * embed/hash_embed.c — the hashed n-gram embedder (`--model hash`) and its
 * IDF statistics file. The formula is in hash_embed.h.
 *
 * Owns: the embedder (options, IDF table, fingerprints), per-thread scratch
 * (signed bucket counts plus the list of buckets a text touched, so a reset
 * costs the text's size, not dim), document-frequency accumulators and the
 * IDF file format.
 * Borrows: text/tokenize (WN_TOK_WORDS), xxh3 (libxxhash), io/atomic
 * (the IDF file is replaced atomically, like every output file).
 *
 * Unigrams and bigrams are hashed straight from the token spans — a bigram
 * "a b" is xxh3(b) seeded with h(a) — so the hot loop copies no bytes and
 * calls no callback; char n-grams, optional and slower, go through the
 * tokenizer's n-gram walker.
 */
#include "embed/hash_embed.h"
#include "io/errf.h"
#include "io/atomic.h"
#include "io/buf.h"
#include "text/tokenize.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <omp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#define MAX_DIM (1 << 24)
#define MAX_CHAR_N 16
#define IDF_MAGIC "winnow-idf 1"

struct wn_embed_hash {
	wn_embed_hash_opts o; /* idf_path not kept */
	float *idf;           /* dim entries, or NULL */
	uint64_t config_fp;   /* options only: what an IDF file must match */
	uint64_t fp;          /* options + IDF table */
};

struct wn_embed_hash_ws {
	wn_tok *tok;
	int32_t *cnt;      /* signed counts per bucket */
	uint32_t *touched; /* buckets with a feature in this text */
	size_t n_touched;
	unsigned char *seen;
	int dim;
};

struct wn_embed_hash_df {
	uint64_t config_fp;
	int dim;
	uint64_t docs;
	uint64_t *df;
};

void wn_embed_hash_opts_init(wn_embed_hash_opts *o)
{
	memset(o, 0, sizeof *o);
	o->dim = 512;
	o->word_ngrams = 2;
}

int wn_embed_hash_parse_ngrams(const char *s, int *lo, int *hi)
{
	char *end;
	long a = strtol(s, &end, 10), b = a;
	if (*end == ',')
		b = strtol(end + 1, &end, 10);
	if (*end || a < 1 || b < a || b > 32)
		return -1;
	*lo = (int)a;
	*hi = (int)b;
	return 0;
}

static int check_opts(wn_embed_hash_opts *o, char *err, size_t errlen)
{
	if (o->dim == 0)
		o->dim = 512;
	if (o->word_ngrams == 0)
		o->word_ngrams = 2;
	if (o->dim < 1 || o->dim > MAX_DIM) {
		wn_errf(err, errlen, "dim must be 1..%d, not %d", MAX_DIM, o->dim);
		return -1;
	}
	if (o->word_ngrams < 1 || o->word_ngrams > 2) {
		wn_errf(err, errlen, "word n-grams must be 1 or 2, not %d",
			o->word_ngrams);
		return -1;
	}
	if (o->char_min < 0 || o->char_max > MAX_CHAR_N ||
	    (o->char_min > 0 && o->char_max < o->char_min) ||
	    (o->char_min == 0 && o->char_max != 0)) {
		wn_errf(err, errlen, "char n-grams must be 1 <= min <= max <= %d",
			MAX_CHAR_N);
		return -1;
	}
	return 0;
}

static uint64_t config_fingerprint(const wn_embed_hash_opts *o)
{
	char s[256];
	int n = snprintf(s, sizeof s,
			 "winnow-hash-v1 dim=%d wng=%d cmin=%d cmax=%d sign=%d "
			 "sublinear=%d seed=%" PRIu64,
			 o->dim, o->word_ngrams, o->char_min, o->char_max,
			 !o->no_sign, !o->no_sublinear, o->seed);
	return XXH3_64bits(s, (size_t)n);
}

static int load_idf(wn_embed_hash *h, const char *path, char *err,
		    size_t errlen);

wn_embed_hash *wn_embed_hash_new(const wn_embed_hash_opts *opts, char *err,
				 size_t errlen)
{
	wn_embed_hash_opts o;
	if (opts)
		o = *opts;
	else
		wn_embed_hash_opts_init(&o);
	if (check_opts(&o, err, errlen))
		return NULL;
	wn_embed_hash *h = calloc(1, sizeof *h);
	if (!h) {
		wn_errf(err, errlen, "out of memory");
		return NULL;
	}
	const char *idf_path = o.idf_path;
	o.idf_path = NULL;
	h->o = o;
	h->config_fp = config_fingerprint(&o);
	h->fp = h->config_fp;
	if (idf_path && load_idf(h, idf_path, err, errlen)) {
		wn_embed_hash_free(h);
		return NULL;
	}
	return h;
}

void wn_embed_hash_free(wn_embed_hash *h)
{
	if (!h)
		return;
	free(h->idf);
	free(h);
}

int wn_embed_hash_dim(const wn_embed_hash *h) { return h->o.dim; }

uint64_t wn_embed_hash_fingerprint(const wn_embed_hash *h) { return h->fp; }

wn_embed_hash_ws *wn_embed_hash_ws_new(const wn_embed_hash *h)
{
	wn_embed_hash_ws *ws = calloc(1, sizeof *ws);
	if (!ws)
		return NULL;
	wn_tok_opts to = {.mode = WN_TOK_WORDS};
	ws->dim = h->o.dim;
	ws->tok = wn_tok_new(&to);
	ws->cnt = calloc((size_t)ws->dim, sizeof *ws->cnt);
	ws->touched = malloc((size_t)ws->dim * sizeof *ws->touched);
	ws->seen = calloc((size_t)ws->dim, 1);
	if (!ws->tok || !ws->cnt || !ws->touched || !ws->seen) {
		wn_embed_hash_ws_free(ws);
		return NULL;
	}
	return ws;
}

void wn_embed_hash_ws_free(wn_embed_hash_ws *ws)
{
	if (!ws)
		return;
	wn_tok_free(ws->tok);
	free(ws->cnt);
	free(ws->touched);
	free(ws->seen);
	free(ws);
}

/* ---------- features ---------- */

struct feat_ctx {
	const wn_embed_hash *h;
	wn_embed_hash_ws *ws;
};

static inline void add_feature(const wn_embed_hash *h, wn_embed_hash_ws *ws,
			       uint64_t hv)
{
	uint32_t b = (uint32_t)(hv % (uint64_t)h->o.dim);
	if (!ws->seen[b]) {
		ws->seen[b] = 1;
		ws->touched[ws->n_touched++] = b;
	}
	ws->cnt[b] += (h->o.no_sign || !(hv >> 63)) ? 1 : -1;
}

static void char_gram(void *ctx, const char *bytes, size_t len)
{
	struct feat_ctx *c = ctx;
	add_feature(c->h, c->ws, XXH3_64bits_withSeed(bytes, len, c->h->o.seed + 1));
}

/* Tokenise and count every feature of text into ws (cnt, touched). */
static int count_features(const wn_embed_hash *h, wn_embed_hash_ws *ws,
			  const char *text, size_t len)
{
	const char *norm;
	const wn_tok_span *sp;
	long n = wn_tok_run(ws->tok, text, len, &norm, &sp);
	if (n < 0)
		return (int)n;
	uint64_t prev = 0;
	for (long i = 0; i < n; i++) {
		const char *w = norm + sp[i].off;
		uint64_t hv = XXH3_64bits_withSeed(w, sp[i].len, h->o.seed);
		add_feature(h, ws, hv);
		if (h->o.word_ngrams >= 2 && i > 0)
			add_feature(h, ws, XXH3_64bits_withSeed(w, sp[i].len, prev));
		prev = hv;
	}
	if (h->o.char_min > 0) {
		struct feat_ctx c = {h, ws};
		for (long i = 0; i < n; i++) {
			long r = wn_tok_char_ngrams(ws->tok, norm + sp[i].off,
						    sp[i].len, h->o.char_min,
						    h->o.char_max, 1, char_gram, &c);
			if (r < 0)
				return (int)r;
		}
	}
	return 0;
}

static void reset_ws(wn_embed_hash_ws *ws)
{
	for (size_t i = 0; i < ws->n_touched; i++) {
		ws->cnt[ws->touched[i]] = 0;
		ws->seen[ws->touched[i]] = 0;
	}
	ws->n_touched = 0;
}

int wn_embed_hash_text(const wn_embed_hash *h, wn_embed_hash_ws *ws,
		       const char *text, size_t len, float *out)
{
	memset(out, 0, (size_t)h->o.dim * sizeof *out);
	int rc = count_features(h, ws, text, len);
	if (rc) {
		reset_ws(ws);
		return rc;
	}
	double ss = 0;
	for (size_t i = 0; i < ws->n_touched; i++) {
		uint32_t b = ws->touched[i];
		int32_t c = ws->cnt[b];
		if (c == 0)
			continue;
		double a = c < 0 ? -(double)c : (double)c;
		double v = h->o.no_sublinear ? a : 1.0 + log(a);
		if (h->idf)
			v *= h->idf[b];
		if (c < 0)
			v = -v;
		out[b] = (float)v;
		/* touched order is a function of the text alone: deterministic,
		 * and short texts skip a pass over all dim buckets */
		ss += (double)out[b] * out[b];
	}
	if (ss > 0) {
		float inv = (float)(1.0 / sqrt(ss));
		for (size_t i = 0; i < ws->n_touched; i++)
			out[ws->touched[i]] *= inv;
	}
	reset_ws(ws);
	return 0;
}

int wn_embed_hash_batch(const wn_embed_hash *h, const char *const *texts,
			const size_t *lens, size_t n, float *out, int threads,
			int *status)
{
	int first_err = 0;
	size_t first_at = (size_t)-1;
	int oom = 0;
	size_t dim = (size_t)h->o.dim;
	if (threads <= 0)
		threads = omp_get_max_threads();
#pragma omp parallel num_threads(threads)
	{
		wn_embed_hash_ws *ws = wn_embed_hash_ws_new(h);
		if (!ws) {
#pragma omp atomic write
			oom = 1;
		}
#pragma omp for schedule(dynamic, 64)
		for (size_t i = 0; i < n; i++) {
			int rc = WN_TOK_ENOMEM;
			if (ws)
				rc = wn_embed_hash_text(h, ws, texts[i], lens[i],
							out + i * dim);
			else
				memset(out + i * dim, 0, dim * sizeof *out);
			if (status)
				status[i] = rc;
			if (rc) {
#pragma omp critical(wn_embed_hash_batch_err)
				if (i < first_at) {
					first_at = i;
					first_err = rc;
				}
			}
		}
		wn_embed_hash_ws_free(ws);
	}
	if (oom && !first_err)
		first_err = WN_TOK_ENOMEM;
	return first_err;
}

/* ---------- document frequencies and the IDF file ---------- */

wn_embed_hash_df *wn_embed_hash_df_new(const wn_embed_hash *h)
{
	wn_embed_hash_df *df = calloc(1, sizeof *df);
	if (!df)
		return NULL;
	df->config_fp = h->config_fp;
	df->dim = h->o.dim;
	df->df = calloc((size_t)df->dim, sizeof *df->df);
	if (!df->df) {
		free(df);
		return NULL;
	}
	return df;
}

void wn_embed_hash_df_free(wn_embed_hash_df *df)
{
	if (!df)
		return;
	free(df->df);
	free(df);
}

int wn_embed_hash_df_add(const wn_embed_hash *h, wn_embed_hash_ws *ws,
			 wn_embed_hash_df *df, const char *text, size_t len)
{
	int rc = count_features(h, ws, text, len);
	if (rc == 0) {
		for (size_t i = 0; i < ws->n_touched; i++)
			df->df[ws->touched[i]]++;
		df->docs++;
	}
	reset_ws(ws);
	return rc;
}

int wn_embed_hash_df_merge(wn_embed_hash_df *dst, const wn_embed_hash_df *src)
{
	if (dst->dim != src->dim || dst->config_fp != src->config_fp)
		return -1;
	for (int b = 0; b < dst->dim; b++)
		dst->df[b] += src->df[b];
	dst->docs += src->docs;
	return 0;
}

uint64_t wn_embed_hash_df_docs(const wn_embed_hash_df *df) { return df->docs; }

/* Append one formatted line to buf, passing it to out when it grows past 64 KiB. */
static int df_put(wn_atomic *out, wn_buf *b, int last, char *err, size_t errlen)
{
	if (b->len < (64u << 10) && !last)
		return 0;
	int rc = wn_atomic_write(out, b->data, b->len, err, errlen);
	wn_buf_reset(b);
	return rc;
}

int wn_embed_hash_df_write(const wn_embed_hash_df *df, const char *path,
			   char *err, size_t errlen)
{
	wn_atomic *out = wn_atomic_open(path, err, errlen);
	if (!out)
		return -1;
	wn_buf b = WN_BUF_INIT;
	int rc = wn_buf_printf(&b, "%s\ndim %d\nconfig %016" PRIx64 "\ndocs %" PRIu64 "\n",
			       IDF_MAGIC, df->dim, df->config_fp, df->docs);
	for (int i = 0; i < df->dim && !rc; i++)
		rc = wn_buf_printf(&b, "%" PRIu64 "\n", df->df[i]) || df_put(out, &b, 0, err, errlen);
	if (!rc)
		rc = df_put(out, &b, 1, err, errlen) || wn_atomic_commit(out, err, errlen);
	else if (!wn_atomic_error(out)[0])
		wn_errf(err, errlen, "%s: out of memory", path);
	wn_buf_free(&b);
	wn_atomic_close(out);
	return rc ? -1 : 0;
}

/* One line without its newline into buf; 0 at EOF, -1 when too long. */
static int read_line(FILE *f, char *buf, size_t cap)
{
	if (!fgets(buf, (int)cap, f))
		return 0;
	size_t l = strlen(buf);
	if (l && buf[l - 1] == '\n')
		buf[--l] = 0;
	else if (!feof(f))
		return -1;
	return 1;
}

static int parse_u64(const char *s, uint64_t *v)
{
	if (*s < '0' || *s > '9')
		return -1;
	char *end;
	errno = 0;
	unsigned long long x = strtoull(s, &end, 10);
	if (errno || *end)
		return -1;
	*v = x;
	return 0;
}

static int idf_fail(char *err, size_t errlen, const char *path, long line,
		    const char *what)
{
	if (err && errlen)
		snprintf(err, errlen, "%s:%ld: %s", path, line, what);
	return -1;
}

static int parse_idf(wn_embed_hash *h, FILE *f, const char *path, char *err,
		     size_t errlen)
{
	char line[128];
	uint64_t dim, cfg = 0, docs;
	if (read_line(f, line, sizeof line) != 1 || strcmp(line, IDF_MAGIC))
		return idf_fail(err, errlen, path, 1, "not a winnow IDF file");
	if (read_line(f, line, sizeof line) != 1 || strncmp(line, "dim ", 4) ||
	    parse_u64(line + 4, &dim))
		return idf_fail(err, errlen, path, 2, "expected 'dim N'");
	if (dim != (uint64_t)h->o.dim)
		return idf_fail(err, errlen, path, 2,
				"fitted for another --dim than this embedder's");
	if (read_line(f, line, sizeof line) != 1 || strncmp(line, "config ", 7) ||
	    sscanf(line + 7, "%16" SCNx64, &cfg) != 1)
		return idf_fail(err, errlen, path, 3, "expected 'config HEX'");
	if (cfg != h->config_fp)
		return idf_fail(err, errlen, path, 3,
				"fitted with other embedder options (n-grams, "
				"sign, seed)");
	if (read_line(f, line, sizeof line) != 1 || strncmp(line, "docs ", 5) ||
	    parse_u64(line + 5, &docs))
		return idf_fail(err, errlen, path, 4, "expected 'docs N'");
	for (int b = 0; b < h->o.dim; b++) {
		uint64_t d;
		long ln = 5 + b;
		if (read_line(f, line, sizeof line) != 1)
			return idf_fail(err, errlen, path, ln,
					"file ends before all buckets");
		if (parse_u64(line, &d) || d > docs)
			return idf_fail(err, errlen, path, ln,
					"expected a count between 0 and docs");
		h->idf[b] = (float)(log((1.0 + (double)docs) / (1.0 + (double)d)) + 1.0);
	}
	if (read_line(f, line, sizeof line) != 0)
		return idf_fail(err, errlen, path, 5 + h->o.dim,
				"trailing data after the last bucket");
	return 0;
}

static int load_idf(wn_embed_hash *h, const char *path, char *err,
		    size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	h->idf = malloc((size_t)h->o.dim * sizeof *h->idf);
	int rc = h->idf ? parse_idf(h, f, path, err, errlen)
			: idf_fail(err, errlen, path, 0, "out of memory");
	fclose(f);
	if (rc) {
		free(h->idf);
		h->idf = NULL;
		return -1;
	}
	h->fp = XXH3_64bits_withSeed(h->idf, (size_t)h->o.dim * sizeof *h->idf,
				     h->config_fp);
	return 0;
}
