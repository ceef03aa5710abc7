/*
 * cmd/embed.c — `winnow embed`: text -> vector, into winnow.emb and/or .npy
 * (or, with --fit-idf, IDF statistics for the hash model).
 *
 * Usage, the option table and one call into embed/embed_step.c. It also
 * wires the cache: the step states what it needs from a cache
 * (wn_embed_cache_ops, embed/embedder.h) and this file hands it
 * store/embcache.h, because embed/ and store/ share a floor and neither
 * may include the other.
 */
#include "cmd/common.h"
#include "embed/embed_step.h"
#include "store/embcache.h"
#include "text/tokenize.h"

static const char *const embed_usage[] = {
	"winnow embed [--model hash|DIR] [options] [file...]",
	"",
	"Embed each record's text as a vector, into winnow.emb and/or an .npy file.",
	"winnow.emb holds base64 float32 (or f16 with --vec-dtype f16); .npy rows are in",
	"stream order. --model hash (default) is a hashed word/char n-gram embedder that",
	"needs no model file; --model DIR loads a BERT-family sentence encoder in the",
	"sentence-transformers layout (config.json, model.safetensors, tokenizer.json or",
	"vocab.txt, modules.json, 1_Pooling/config.json) on --device. --fit-idf FILE",
	"counts IDF statistics over the stream for the hash model and writes FILE instead",
	"of records. --precision rounds the model's GEMM inputs to tf32, bf16 or fp16 on",
	"the GPU's tensor cores (float32 accumulation, float32 everywhere else); the CPU",
	"computes fp32 only. The CUDA default, tf32, measured on an H200 (50,000 Debian",
	"texts, MiniLM shape): 2x fp32's texts/s at cosine 1 - 1.6e-8 to fp32 on every",
	"text; bf16 and fp16 ran as tf32 there (cuBLAS may compute more exactly than",
	"named). Figures: bench/RESULTS.md (\"Embedding\").",
	"",
	"winnow embed corpus.jsonl > embedded.jsonl",
	"winnow embed --fit-idf idf.txt corpus.jsonl && winnow embed --idf idf.txt corpus.jsonl",
	"winnow embed --model models/all-MiniLM-L6-v2 --device cuda --npy emb.npy --no-annotate corpus.jsonl.zst",
	"winnow embed --model models/bge-small --cache emb.db nightly.jsonl | winnow cluster kmeans -k 1000",
	NULL,
};

/* ---------- store/embcache as the step's cache ---------- */

static void *cache_open(const char *path, const char *fp, int dim, char *err, size_t n)
{
	return wn_store_embcache_open(path, fp, dim, err, n);
}
static int cache_get(void *c, const char *t, size_t n, float *out)
{
	return wn_store_embcache_get(c, t, n, out);
}
static int cache_put(void *c, const char *t, size_t n, const float *v)
{
	return wn_store_embcache_put(c, t, n, v);
}
static const char *cache_error(void *c) { return wn_store_embcache_error(c); }
static void cache_counts(void *c, uint64_t *hits, uint64_t *misses)
{
	*hits = wn_store_embcache_hits(c);
	*misses = wn_store_embcache_misses(c);
}
static int cache_commit(void *c, char *err, size_t n) { return wn_store_embcache_commit(c, err, n); }
static void cache_abort(void *c) { wn_store_embcache_close(c); }

static const wn_embed_cache_ops store_cache = {cache_open, cache_get, cache_put, cache_error,
					       cache_counts, cache_commit, cache_abort};

/* ---------- the step ---------- */

static void embed_options(void *p, struct wn_option *t)
{
	wn_embed_opts *o = p;
	WN_STEP_TABLE(t,
		OPT_GROUP("Model"),
		OPT_STRING(0, "model", &o->model, "hash|DIR", "hash (default) or a sentence-transformers model directory"),
		OPT_INT(0, "dim", &o->dim, "N", "hash: output dimension (default 512)"),
		OPT_STRING(0, "char-ngrams", &o->char_ngrams, "MIN,MAX", "hash: add character n-grams (e.g. 3,5)"),
		OPT_STRING(0, "idf", &o->idf, "FILE", "hash: weight buckets by IDF statistics from FILE"),
		OPT_STRING(0, "fit-idf", &o->fit_idf, "FILE", "hash: count IDF statistics over the input, write FILE, no records"),
		OPT_STRING(0, "pooling", &o->pooling, "MODE", "model: mean, cls or weighted-mean (RDS+); default 1_Pooling/config.json"),
		OPT_BOOL(0, "normalize", &o->normalize, "model: L2-normalise (--no-normalize: don't); default: modules.json"),
		OPT_INT(0, "batch", &o->batch, "N", "model: texts per forward pass (default 32 on cpu, 256 on cuda)"),
		OPT_STRING(0, "precision", &o->precision, "PREC", "model: GEMM inputs fp32, tf32, bf16 or fp16 (default fp32 on cpu, tf32 on cuda)"),
		OPT_GROUP("Vectors"),
		OPT_STRING(0, "npy", &o->npy, "FILE", "also write the vectors to FILE (.npy, rows in output order)"),
		OPT_STRING(0, "vec-dtype", &o->vec_dtype, "f32|f16", "dtype of winnow.emb and --npy (default f32)"),
		OPT_BOOL(0, "no-annotate", &o->no_annotate, "pass records through unchanged (with --npy)"),
		OPT_STRING(0, "cache", &o->cache, "DB", "SQLite cache of vectors by (model, text hash)"),
		WN_STREAM_OPTIONS(&o->io),
		WN_COMPUTE_OPTIONS(&o->io));
}

static void embed_init(void *p)
{
	wn_embed_opts *o = p;
	wn_embed_init(o);
	o->cache_ops = &store_cache;
}
static int embed_check(void *p, int *npos, const char **pos, char *err, size_t n) { return wn_embed_check(p, err, n); }
static int embed_run(void *p, wn_stream *s, wn_step_report *r, char *err, size_t n) { return wn_embed_run(p, s, r, err, n); }

const wn_step wn_step_embed = {"embed", embed_usage, sizeof(wn_embed_opts), 0, embed_init, embed_options, embed_check, embed_run, NULL};
