/*
 * embed/embedder.c — the hash model or a BERT model behind one call, and
 * the cache in front of it (see embed/embedder.h).
 *
 * One call looks every usable text up in the cache first, then embeds the
 * misses in one model call (in order: the company a text keeps in a BERT
 * batch shapes its floats), scatters their rows to their texts and puts
 * them in the cache. Lookups all happen before the puts, so a text seen
 * twice in one call is two misses, as it always was.
 */
#include "embed/embedder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "text/tokenize.h"
#include "io/errf.h"

struct wn_embedder {
	wn_embed_hash *hash;
	wn_embed_bert *bert;
	wn_core *core;
	int dim, threads;
	char fingerprint[64];
	const wn_embed_cache_ops *cache_ops;
	void *cache;
	/* scratch of one call (pointers into one allocation) */
	char *scratch;
	size_t cap;
	const char **mtext;   /* the texts the cache missed */
	size_t *mlen, *midx;  /* their lengths and their places in the call */
	const char **mwhy;    /* why the model refused one */
	int *status;          /* hash statuses */
	float *rows;          /* the misses' vectors, compacted */
};

void wn_embedder_free(wn_embedder *e)
{
	if (!e)
		return;
	if (e->cache)
		e->cache_ops->abort(e->cache);
	wn_embed_bert_close(e->bert);
	wn_embed_hash_free(e->hash);
	if (e->core)
		wn_core_close(e->core);
	free(e->scratch);
	free(e);
}

wn_embedder *wn_embedder_open_hash(const wn_embed_hash_opts *ho, int threads, char *err,
				   size_t errlen)
{
	wn_embedder *e = calloc(1, sizeof *e);
	if (!e) {
		wn_errf(err, errlen, "out of memory");
		return NULL;
	}
	e->threads = threads;
	if (!(e->hash = wn_embed_hash_new(ho, err, errlen))) {
		wn_embedder_free(e);
		return NULL;
	}
	e->dim = wn_embed_hash_dim(e->hash);
	snprintf(e->fingerprint, sizeof e->fingerprint, "hash-%016llx",
		 (unsigned long long)wn_embed_hash_fingerprint(e->hash));
	return e;
}

wn_embedder *wn_embedder_open_bert(const char *dir, const wn_embed_bert_opts *bo,
				   const char *device, int threads, char *err, size_t errlen)
{
	wn_embedder *e = calloc(1, sizeof *e);
	if (!e) {
		wn_errf(err, errlen, "out of memory");
		return NULL;
	}
	e->threads = threads;
	if (!(e->core = wn_core_open_named(device, threads, err, errlen))) {
		wn_embedder_free(e);
		return NULL;
	}
	wn_embed_bert_opts o = *bo;
	if (o.batch <= 0)
		o.batch = wn_core_device(e->core) == WN_DEVICE_CUDA ? 256 : 32;
	if (!(e->bert = wn_embed_bert_open(e->core, dir, &o, err, errlen))) {
		wn_embedder_free(e);
		return NULL;
	}
	e->dim = wn_embed_bert_dim(e->bert);
	snprintf(e->fingerprint, sizeof e->fingerprint, "bert-%s", wn_embed_bert_fingerprint(e->bert));
	return e;
}

int wn_embedder_dim(const wn_embedder *e) { return e->dim; }

#define CUDA_WINDOWS_PER_CALL 8

size_t wn_embedder_block_hint(const wn_embedder *e)
{
	if (!e->bert)
		return 0;
	size_t w = wn_embed_bert_window(e->bert);
	return wn_core_device(e->core) == WN_DEVICE_CUDA ? w * CUDA_WINDOWS_PER_CALL : w;
}
const char *wn_embedder_fingerprint(const wn_embedder *e) { return e->fingerprint; }
const wn_embed_hash *wn_embedder_hash(const wn_embedder *e) { return e->hash; }

int wn_embedder_cache_open(wn_embedder *e, const wn_embed_cache_ops *ops, const char *path,
			   char *err, size_t errlen)
{
	if (e->cache) {
		wn_errf(err, errlen, "a cache is already open");
		return -1;
	}
	if (!(e->cache = ops->open(path, e->fingerprint, e->dim, err, errlen)))
		return -1;
	e->cache_ops = ops;
	return 0;
}

int wn_embedder_cache_counts(const wn_embedder *e, uint64_t *hits, uint64_t *misses)
{
	*hits = *misses = 0;
	if (!e->cache)
		return 0;
	e->cache_ops->counts(e->cache, hits, misses);
	return 1;
}

int wn_embedder_commit(wn_embedder *e, char *err, size_t errlen)
{
	if (!e->cache)
		return 0;
	void *c = e->cache;
	e->cache = NULL; /* commit frees it, whatever the outcome */
	return e->cache_ops->commit(c, err, errlen);
}

/* Room for n texts in the call's scratch. It is one allocation, replaced
 * (not grown) when too small: nothing in it outlives a call. */
static int reserve(wn_embedder *e, size_t n)
{
	if (n <= e->cap)
		return 0;
	size_t words = n * (sizeof *e->mtext + sizeof *e->mwhy + sizeof *e->mlen + sizeof *e->midx);
	size_t rest = n * (sizeof *e->status + (size_t)e->dim * sizeof *e->rows);
	char *p = malloc(words + rest);
	if (!p)
		return -1;
	free(e->scratch);
	e->scratch = p;
	/* eight-byte members first, then the four-byte ones */
	e->mtext = (const char **)(void *)p;
	e->mwhy = (const char **)(void *)(p += n * sizeof *e->mtext);
	e->mlen = (size_t *)(void *)(p += n * sizeof *e->mwhy);
	e->midx = (size_t *)(void *)(p += n * sizeof *e->mlen);
	e->rows = (float *)(void *)(p += n * sizeof *e->midx);
	e->status = (int *)(void *)(p + n * (size_t)e->dim * sizeof *e->rows);
	e->cap = n;
	return 0;
}

/* Look the usable texts up in the cache; the rest become the miss list. */
static int lookup(wn_embedder *e, const char *const *texts, const size_t *lens, size_t n,
		  float *out, const char **why, size_t *nmiss, char *err, size_t errlen)
{
	size_t d = (size_t)e->dim, m = 0;
	for (size_t i = 0; i < n; i++) {
		if (why[i])
			continue;
		int hit = e->cache ? e->cache_ops->get(e->cache, texts[i], lens[i], out + i * d) : 0;
		if (hit < 0) {
			wn_errf(err, errlen, "%s", e->cache_ops->error(e->cache));
			return -1;
		}
		if (!hit) {
			e->mtext[m] = texts[i];
			e->mlen[m] = lens[i];
			e->midx[m++] = i;
		}
	}
	*nmiss = m;
	return 0;
}

/* Run the model over the misses into e->rows; mwhy[k] set for refused texts. */
static int run_model(wn_embedder *e, size_t m, char *err, size_t errlen)
{
	memset(e->mwhy, 0, m * sizeof *e->mwhy);
	if (!m)
		return 0;
	if (e->bert)
		return wn_embed_bert_encode(e->bert, e->mtext, e->mlen, m, e->rows, err, errlen);
	int rc = wn_embed_hash_batch(e->hash, e->mtext, e->mlen, m, e->rows, e->threads, e->status);
	if (rc == WN_TOK_ENOMEM) {
		wn_errf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t k = 0; k < m; k++)
		if (e->status[k])
			e->mwhy[k] = wn_tok_strerror(e->status[k]);
	return 0;
}

int wn_embedder_embed(wn_embedder *e, const char *const *texts, const size_t *lens, size_t n,
		      float *out, const char **why, char *err, size_t errlen)
{
	size_t d = (size_t)e->dim, m;
	if (reserve(e, n ? n : 1)) {
		wn_errf(err, errlen, "out of memory");
		return -1;
	}
	if (lookup(e, texts, lens, n, out, why, &m, err, errlen) || run_model(e, m, err, errlen))
		return -1;
	for (size_t k = 0; k < m; k++) {
		size_t i = e->midx[k];
		if (e->mwhy[k]) {
			why[i] = e->mwhy[k];
			continue;
		}
		memcpy(out + i * d, e->rows + k * d, d * sizeof *out);
		if (e->cache && e->cache_ops->put(e->cache, e->mtext[k], e->mlen[k], out + i * d)) {
			wn_errf(err, errlen, "%s", e->cache_ops->error(e->cache));
			return -1;
		}
	}
	return 0;
}
