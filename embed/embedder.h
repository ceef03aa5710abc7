/*
 * embed/embedder.h — texts to vectors in one call, whatever the model: the
 * hashed n-gram embedder (embed/hash_embed.h, `--model hash`) or a
 * BERT-family encoder (embed/bert.h, `--model DIR`), with an optional
 * cache of vectors by text in front of it (`--cache DB`).
 *
 * Owns: the model, the compute core a BERT model runs on (opened here from
 * the device name), the open cache once attached, and the scratch of one
 * call (the texts the cache missed, their rows, the hash statuses).
 * Borrows: the cache's implementation, through wn_embed_cache_ops. The
 * cache that `winnow embed --cache` uses is store/embcache.h, but store/
 * sits on the same floor as embed/ and DESIGN.md lets neither call the
 * other; so embed/ states what it needs from a cache here and cmd/ (the
 * wiring floor) hands it store's functions. A recipe runner reaching the
 * step through cmd/'s table of steps gets the same wiring.
 *
 * Which texts go to the model together matters for BERT (a batch is padded
 * to its longest text, so its floats depend on the company a text keeps):
 * one call embeds exactly the texts the cache missed, in order, in one go.
 */
#ifndef WN_EMBED_EMBEDDER_H
#define WN_EMBED_EMBEDDER_H

#include <stddef.h>
#include <stdint.h>

#include "embed/bert.h"
#include "embed/hash_embed.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A cache of vectors keyed by (model fingerprint, text), one transaction a run. */
typedef struct wn_embed_cache_ops {
	/* Open (creating) the cache at path for this model; NULL with a reason. */
	void *(*open)(const char *path, const char *fingerprint, int dim, char *err, size_t errlen);
	/* 1 and the vector in out on a hit, 0 on a miss, -1 on error (see error). */
	int (*get)(void *c, const char *text, size_t len, float *out);
	/* Store the vector of a text: 0, or -1 (see error). */
	int (*put)(void *c, const char *text, size_t len, const float *vec);
	const char *(*error)(void *c);
	void (*counts)(void *c, uint64_t *hits, uint64_t *misses);
	/* Keep the run's entries and free c: 0, or -1 with a reason. */
	int (*commit)(void *c, char *err, size_t errlen);
	/* Drop the run's entries and free c. */
	void (*abort)(void *c);
} wn_embed_cache_ops;

typedef struct wn_embedder wn_embedder;

/* The hash model; threads <= 0: all cores. NULL with a reason in err. */
wn_embedder *wn_embedder_open_hash(const wn_embed_hash_opts *ho, int threads, char *err,
				   size_t errlen);
/* A model directory on `device` (cpu, cuda, auto; NULL: $WINNOW_DEVICE).
 * bo->batch 0 means 32 texts a pass on the CPU, 256 on CUDA. */
wn_embedder *wn_embedder_open_bert(const char *dir, const wn_embed_bert_opts *bo,
				   const char *device, int threads, char *err, size_t errlen);
/* Abort an attached cache that was not committed, close the model. */
void wn_embedder_free(wn_embedder *e);

int wn_embedder_dim(const wn_embedder *e);
/* Texts per wn_embedder_embed call the embedder works best with (0: no
 * preference): a BERT model's sort window on the CPU, several on CUDA so
 * that one window is tokenized while the GPU runs the one before. */
size_t wn_embedder_block_hint(const wn_embedder *e);
/* "hash-<16 hex>" or "bert-<32 hex>": what keys the cache. */
const char *wn_embedder_fingerprint(const wn_embedder *e);
/* The hash model (for fitting IDF statistics), or NULL for BERT. */
const wn_embed_hash *wn_embedder_hash(const wn_embedder *e);

/* Open the cache at path through ops for this model: 0, or -1 with a reason. */
int wn_embedder_cache_open(wn_embedder *e, const wn_embed_cache_ops *ops, const char *path,
			   char *err, size_t errlen);
/* Hits and misses so far; 0 when no cache is attached. */
int wn_embedder_cache_counts(const wn_embedder *e, uint64_t *hits, uint64_t *misses);
/* Commit the cache's entries (nothing to do without one): 0, or -1 with a reason. */
int wn_embedder_commit(wn_embedder *e, char *err, size_t errlen);

/*
 * Embed texts[i] (lens[i] bytes) into out + i * dim for every i whose
 * why[i] is NULL: from the cache when it holds the text, else by the model
 * (and then into the cache). A text the model refuses (invalid UTF-8) gets
 * its reason in why[i] (a static string) and its row is left as it was.
 * Returns 0, or -1 with err when the model, the cache or memory failed.
 */
int wn_embedder_embed(wn_embedder *e, const char *const *texts, const size_t *lens, size_t n,
		      float *out, const char **why, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
