/*
 * embed/embed_step.h — the `embed` step: each record's text becomes a
 * vector in winnow.emb and/or a row of an .npy file; or, with --fit-idf,
 * the stream becomes an IDF statistics file for the hash model.
 *
 * Owns: the mode rules of the options (which apply to which model), the
 * blocks of records (io/batch.h) between the stream and the embedder, the
 * .npy writer and the cache for the run, and their all-or-nothing ends.
 * Borrows: embed/embedder.h (hash or BERT, and the cache), embed/npy.h,
 * embed/vectors_step.h (writing winnow.emb), io/batch.h, io/stream.h;
 * the cache's implementation from whoever fills cache_ops (cmd/embed.c
 * hands it store/embcache.h).
 */
#ifndef WN_EMBED_EMBED_STEP_H
#define WN_EMBED_EMBED_STEP_H

#include "embed/embedder.h"
#include "io/stream.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wn_embed_opts {
	wn_stream_opts io;
	const char *model;        /* "hash" (default) or a model directory */
	int dim;                  /* hash: output dimension (0: 512) */
	const char *char_ngrams;  /* hash: "MIN,MAX" or "N" */
	const char *idf;          /* hash: IDF statistics file */
	const char *fit_idf;      /* hash: count IDF statistics into this file, emit nothing */
	const char *pooling;      /* model: mean | cls (NULL: 1_Pooling/config.json) */
	int normalize;            /* model: -1 modules.json, 0 off, 1 on */
	int batch;                /* model: texts per forward pass (0: by device) */
	const char *precision;    /* model: fp32|tf32|bf16|fp16 GEMM inputs (NULL: by device) */
	const char *npy;          /* also write the vectors here */
	const char *vec_dtype;    /* f32 | f16 */
	int no_annotate;          /* pass records through unchanged (with npy) */
	const char *cache;        /* cache of vectors by (model, text) */
	const wn_embed_cache_ops *cache_ops; /* what opens `cache` (NULL: --cache refused) */
} wn_embed_opts;

void wn_embed_init(wn_embed_opts *o);
/* Every rule on the options, before anything is opened: 0, or -1 with a
 * usage error in err. */
int wn_embed_check(const wn_embed_opts *o, char *err, size_t errlen);
/* Embed the stream (or fit IDF): 0, or -1 (reported, or the reason in err).
 * The .npy and the cache are committed only when every record went through. */
int wn_embed_run(const wn_embed_opts *o, wn_stream *s, wn_step_report *rep, char *err,
		 size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
