/*
 * cmd/embed.c — `winnow embed`: text -> vector, into winnow.emb and/or .npy.
 *
 * Owns: options, cutting the stream into blocks, the cache lookups around
 * the embedder, and writing each block's vectors out in stream order.
 * Borrows: embed/hash_embed.h (--model hash, the default), embed/bert.h
 * (--model DIR), embed/npy.h (--npy), store/embcache.h (--cache), the
 * annotation format of io/ (wn_vec_annot), cmd/common (streams, policy).
 *
 * --fit-idf FILE is a separate mode: it counts document frequencies for the
 * hash model over the stream and writes the IDF file; no records are
 * written (then run `winnow embed --idf FILE`).
 */
#include "cmd/common.h"
#include "embed/bert.h"
#include "embed/hash_embed.h"
#include "embed/npy.h"
#include "store/embcache.h"
#include "text/tokenize.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define BLOCK_RECORDS 2048
#define BLOCK_BYTES (32u << 20)

static const char *const embed_usage[] = {
	"winnow embed [--model hash|DIR] [options] [file...]",
	"",
	"Embed each record's text into winnow.emb (base64 float32, or f16 with --vec-dtype f16)",
	"and/or into an .npy file (rows in stream order). --model hash (default) is a hashed",
	"word/char n-gram embedder that needs no model file; --model DIR loads a BERT-family",
	"sentence encoder in the sentence-transformers layout (config.json, model.safetensors,",
	"tokenizer.json or vocab.txt, modules.json, 1_Pooling/config.json) on --device.",
	"--fit-idf FILE counts IDF statistics over the stream for the hash model and writes",
	"FILE instead of records.",
	"",
	"winnow embed corpus.jsonl > embedded.jsonl",
	"winnow embed --fit-idf idf.txt corpus.jsonl && winnow embed --idf idf.txt corpus.jsonl",
	"winnow embed --model models/all-MiniLM-L6-v2 --device cuda --npy emb.npy --no-annotate corpus.jsonl.zst",
	"winnow embed --model models/bge-small --cache emb.db nightly.jsonl | winnow cluster kmeans -k 1000",
	NULL,
};

struct embed_opts {
	const char *model, *char_ngrams, *idf, *fit_idf, *npy, *vec_dtype, *cache, *pooling;
	int dim, no_annotate, batch, normalize;
	int f16; /* derived from vec_dtype */
};

/* ---------- blocks of records (copied: the reader's bytes move on) ---------- */

struct block {
	wn_buf json, text;
	size_t n, cap;
	size_t *json_off, *json_len, *text_off, *text_len;
	const char **file, **tptr;
	uint64_t *line, *index;
	const char **why; /* per record: NULL, or why it is rejected */
};

#define GROW(p, c) ((p) = realloc((p), (c) * sizeof *(p)))

static void block_free(struct block *b)
{
	wn_buf_free(&b->json);
	wn_buf_free(&b->text);
	free(b->json_off);
	free(b->json_len);
	free(b->text_off);
	free(b->text_len);
	free(b->file);
	free(b->tptr);
	free(b->line);
	free(b->index);
	free(b->why);
	memset(b, 0, sizeof *b);
}

static int block_add(struct block *b, const wn_record *rec, wn_span text, const char *why)
{
	if (b->n == b->cap) {
		size_t c = b->cap ? 2 * b->cap : 256;
		if (!GROW(b->json_off, c) || !GROW(b->json_len, c) || !GROW(b->text_off, c) ||
		    !GROW(b->text_len, c) || !GROW(b->file, c) || !GROW(b->tptr, c) ||
		    !GROW(b->line, c) || !GROW(b->index, c) || !GROW(b->why, c))
			return -1;
		b->cap = c;
	}
	size_t i = b->n;
	b->json_off[i] = b->json.len;
	b->json_len[i] = rec->json.n;
	b->text_off[i] = b->text.len;
	b->text_len[i] = why ? 0 : text.n;
	if (wn_buf_append(&b->json, rec->json.p, rec->json.n) ||
	    (!why && wn_buf_append(&b->text, text.p, text.n)))
		return -1;
	b->file[i] = rec->file;
	b->line[i] = rec->line;
	b->index[i] = rec->index;
	b->why[i] = why;
	b->n++;
	return 0;
}

static int block_full(const struct block *b, size_t records)
{
	return b->n >= records || b->text.len + b->json.len >= BLOCK_BYTES;
}

static wn_record block_record(const struct block *b, size_t i)
{
	wn_record r = {{b->json.data + b->json_off[i], b->json_len[i]}, b->file[i], b->line[i],
		       b->index[i]};
	return r;
}

/* ---------- the embedder: hash or BERT behind one call ---------- */

struct embedder {
	wn_embed_hash *hash;
	wn_embed_bert *bert;
	wn_core *core;
	int dim, threads;
	char fingerprint[64];
	int *status;
	size_t status_cap;
};

static void embedder_free(struct embedder *e)
{
	wn_embed_bert_close(e->bert);
	wn_embed_hash_free(e->hash);
	if (e->core)
		wn_core_close(e->core);
	free(e->status);
}

/* Parse "3,5" or "3" into min, max. */
static int parse_ngrams(const char *s, int *lo, int *hi)
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

static int embedder_open_hash(struct embedder *e, const struct embed_opts *o, int with_idf)
{
	wn_embed_hash_opts ho;
	wn_embed_hash_opts_init(&ho);
	if (o->dim)
		ho.dim = o->dim;
	if (o->char_ngrams && parse_ngrams(o->char_ngrams, &ho.char_min, &ho.char_max))
		wn_usage_error(embed_usage, "embed", "--char-ngrams '%s': expected MIN,MAX (e.g. 3,5)",
			       o->char_ngrams);
	ho.idf_path = with_idf ? o->idf : NULL;
	char err[512];
	e->hash = wn_embed_hash_new(&ho, err, sizeof err);
	if (!e->hash) {
		wn_cmd_error("embed", "%s", err);
		return -1;
	}
	e->dim = wn_embed_hash_dim(e->hash);
	snprintf(e->fingerprint, sizeof e->fingerprint, "hash-%016llx",
		 (unsigned long long)wn_embed_hash_fingerprint(e->hash));
	return 0;
}

static int embedder_open_bert(struct embedder *e, const struct embed_opts *o,
			      const struct wn_common *co)
{
	if (!(e->core = wn_common_core_open("embed", co)))
		return -1;
	wn_embed_bert_opts bo;
	wn_embed_bert_opts_init(&bo);
	bo.pooling = !o->pooling ? WN_EMBED_POOL_AUTO
		   : !strcmp(o->pooling, "cls") ? WN_EMBED_POOL_CLS : WN_EMBED_POOL_MEAN;
	bo.normalize = o->normalize;
	bo.batch = o->batch > 0 ? o->batch : wn_core_device(e->core) == WN_DEVICE_CUDA ? 256 : 32;
	char err[1024];
	e->bert = wn_embed_bert_open(e->core, o->model, &bo, err, sizeof err);
	if (!e->bert) {
		wn_cmd_error("embed", "%s", err);
		return -1;
	}
	e->dim = wn_embed_bert_dim(e->bert);
	snprintf(e->fingerprint, sizeof e->fingerprint, "bert-%s", wn_embed_bert_fingerprint(e->bert));
	return 0;
}

/* Embed n texts into out; why[i] set for texts that cannot be embedded. */
static int embedder_run(struct embedder *e, const char *const *texts, const size_t *lens, size_t n,
			float *out, const char **why)
{
	if (!n)
		return 0;
	if (e->bert) {
		char err[512];
		if (wn_embed_bert_encode(e->bert, texts, lens, n, out, err, sizeof err)) {
			wn_cmd_error("embed", "%s", err);
			return -1;
		}
		return 0;
	}
	if (n > e->status_cap) {
		if (!GROW(e->status, n))
			return -1;
		e->status_cap = n;
	}
	int rc = wn_embed_hash_batch(e->hash, texts, lens, n, out, e->threads, e->status);
	if (rc == WN_TOK_ENOMEM) {
		wn_cmd_error("embed", "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (e->status[i])
			why[i] = wn_tok_strerror(e->status[i]);
	return 0;
}

/* ---------- one block: cache, embed the misses, write out ---------- */

struct run {
	wn_stream *s;
	const struct embed_opts *o;
	struct embedder *e;
	wn_store_embcache *cache;
	wn_embed_npy_writer *npy;
	float *vec, *rows;          /* block x dim: by record; compacted for .npy */
	const char **mtext;         /* the misses */
	size_t *mlen, *midx, cap;
	wn_buf b64;
};

static int run_reserve(struct run *r, size_t n)
{
	if (n <= r->cap)
		return 0;
	size_t d = (size_t)r->e->dim;
	float *v = realloc(r->vec, n * d * sizeof *v), *w = v ? realloc(r->rows, n * d * sizeof *w) : NULL;
	if (v)
		r->vec = v;
	if (w)
		r->rows = w;
	if (!v || !w || !GROW(r->mtext, n) || !GROW(r->mlen, n) || !GROW(r->midx, n))
		return -1;
	r->cap = n;
	return 0;
}

/* Look up the block's texts in the cache; the rest become the miss list. */
static int block_lookup(struct run *r, struct block *b, size_t *nmiss)
{
	size_t d = (size_t)r->e->dim, m = 0;
	for (size_t i = 0; i < b->n; i++) {
		if (b->why[i])
			continue;
		const char *t = b->text.data + b->text_off[i];
		int hit = r->cache ? wn_store_embcache_get(r->cache, t, b->text_len[i], r->vec + i * d) : 0;
		if (hit < 0) {
			wn_cmd_error("embed", "%s", wn_store_embcache_error(r->cache));
			return -1;
		}
		if (!hit) {
			r->mtext[m] = t;
			r->mlen[m] = b->text_len[i];
			r->midx[m++] = i;
		}
	}
	*nmiss = m;
	return 0;
}

/* Embed the misses (into rows, then scattered to their records) and cache them. */
static int block_embed(struct run *r, struct block *b, size_t nmiss)
{
	size_t d = (size_t)r->e->dim;
	const char **fail = calloc(nmiss ? nmiss : 1, sizeof *fail); /* why a text failed */
	if (!fail)
		return -1;
	int rc = embedder_run(r->e, r->mtext, r->mlen, nmiss, r->rows, fail);
	for (size_t k = 0; !rc && k < nmiss; k++) {
		size_t i = r->midx[k];
		if (fail[k]) {
			b->why[i] = fail[k];
			continue;
		}
		memcpy(r->vec + i * d, r->rows + k * d, d * sizeof *r->vec);
		if (r->cache && wn_store_embcache_put(r->cache, r->mtext[k], r->mlen[k], r->vec + i * d)) {
			wn_cmd_error("embed", "%s", wn_store_embcache_error(r->cache));
			rc = -1;
		}
	}
	free(fail);
	return rc;
}

/* Emit records in order (annotated unless --no-annotate) and their rows to .npy. */
static int block_emit(struct run *r, struct block *b)
{
	size_t d = (size_t)r->e->dim, nrows = 0;
	for (size_t i = 0; i < b->n; i++) {
		wn_record rec = block_record(b, i);
		if (b->why[i]) {
			if (wn_stream_reject(r->s, &rec, "%s", b->why[i]))
				return -1;
			continue;
		}
		const wn_annot *a = NULL;
		if (!r->o->no_annotate) {
			wn_buf_reset(&r->b64);
			wn_annot_clear(&r->s->annot);
			if (wn_vec_annot(&r->b64, r->vec + i * d, (int)d, r->o->f16 ? WN_VEC_F16 : WN_VEC_F32) ||
			    wn_annot_set_raw(&r->s->annot, "emb", r->b64.data, r->b64.len)) {
				wn_cmd_error("embed", "out of memory");
				return -1;
			}
			a = &r->s->annot;
		}
		if (wn_stream_emit(r->s, &rec, a))
			return -1;
		if (r->npy)
			memcpy(r->rows + nrows++ * d, r->vec + i * d, d * sizeof *r->rows);
	}
	char err[512];
	if (r->npy && wn_embed_npy_write(r->npy, r->rows, (int64_t)nrows, err, sizeof err)) {
		wn_cmd_error("embed", "%s", err);
		return -1;
	}
	return 0;
}

static int flush_block(struct run *r, struct block *b)
{
	size_t nmiss;
	if (!b->n)
		return 0;
	if (run_reserve(r, b->n)) {
		wn_cmd_error("embed", "out of memory");
		return -1;
	}
	if (block_lookup(r, b, &nmiss) || block_embed(r, b, nmiss) || block_emit(r, b))
		return -1;
	wn_buf_reset(&b->json);
	wn_buf_reset(&b->text);
	b->n = 0;
	return 0;
}

/* Why a record cannot be embedded before looking at its text, or NULL. */
static const char *record_problem(wn_stream *s, const wn_record *rec, wn_buf *scratch,
				  wn_span *text, int annotate)
{
	const char *why = NULL;
	if (wn_stream_text(s, rec, scratch, text, &why))
		return why;
	wn_span v;
	if (annotate && wn_json_get(rec->json, "winnow", &v) && wn_json_type_of(v) != WN_JSON_OBJECT)
		return "\"winnow\" is not an object";
	return NULL;
}

static int embed_stream(struct run *r, size_t block_records)
{
	struct block b = {0};
	wn_buf scratch = WN_BUF_INIT;
	wn_record rec;
	int got, ok = 1;
	while ((got = wn_stream_next(r->s, &rec)) > 0) {
		wn_span text = {"", 0};
		const char *why = record_problem(r->s, &rec, &scratch, &text, !r->o->no_annotate);
		if (block_add(&b, &rec, text, why)) {
			wn_cmd_error("embed", "out of memory");
			ok = 0;
			break;
		}
		if (block_full(&b, block_records) && flush_block(r, &b)) {
			ok = 0;
			break;
		}
	}
	if (got < 0 || (ok && flush_block(r, &b)))
		ok = 0;
	block_free(&b);
	wn_buf_free(&scratch);
	return ok && !r->s->failed;
}

/* ---------- --fit-idf ---------- */

static int fit_idf(struct embed_opts *o, struct wn_common *co, int argc, const char **argv)
{
	struct embedder e = {0};
	wn_stream s;
	if (embedder_open_hash(&e, o, 0) || wn_cmd_stream_open_input(&s, "embed", co, argc, argv)) {
		embedder_free(&e);
		return 1;
	}
	wn_embed_hash_ws *ws = wn_embed_hash_ws_new(e.hash);
	wn_embed_hash_df *df = wn_embed_hash_df_new(e.hash);
	wn_buf scratch = WN_BUF_INIT;
	wn_record rec;
	int got, ok = ws && df;
	if (!ok)
		wn_cmd_error("embed", "out of memory");
	while (ok && (got = wn_stream_next(&s, &rec)) > 0) {
		wn_span text;
		const char *why = NULL;
		int rc = wn_stream_text(&s, &rec, &scratch, &text, &why) ? 1
			 : wn_embed_hash_df_add(e.hash, ws, df, text.p, text.n);
		if (rc < 0)
			why = wn_tok_strerror(rc);
		if (rc && wn_stream_reject(&s, &rec, "%s", why))
			ok = 0;
	}
	if (ok && got < 0)
		ok = 0;
	char err[512];
	if (ok && wn_embed_hash_df_write(df, o->fit_idf, err, sizeof err)) {
		wn_cmd_error("embed", "%s", err);
		ok = 0;
	}
	if (ok && !co->quiet)
		fprintf(stderr, "winnow embed: IDF over %llu documents written to %s\n",
			(unsigned long long)wn_embed_hash_df_docs(df), o->fit_idf);
	wn_buf_free(&scratch);
	wn_embed_hash_df_free(df);
	wn_embed_hash_ws_free(ws);
	embedder_free(&e);
	return wn_cmd_finish(&s, ok);
}

/* ---------- the command ---------- */

static void check_options(struct embed_opts *o, int is_hash)
{
	const char *u = "embed";
	if (strcmp(o->vec_dtype, "f32") && strcmp(o->vec_dtype, "f16"))
		wn_usage_error(embed_usage, u, "--vec-dtype '%s': expected f32 or f16", o->vec_dtype);
	o->f16 = !strcmp(o->vec_dtype, "f16");
	if (o->pooling && strcmp(o->pooling, "mean") && strcmp(o->pooling, "cls"))
		wn_usage_error(embed_usage, u, "--pooling '%s': expected mean or cls", o->pooling);
	if (o->no_annotate && !o->npy && !o->fit_idf)
		wn_usage_error(embed_usage, u, "--no-annotate without --npy would throw the vectors away");
	if (o->dim < 0 || o->batch < 0)
		wn_usage_error(embed_usage, u, "--dim and --batch must be positive");
	if (is_hash && (o->pooling || o->normalize >= 0 || o->batch))
		wn_usage_error(embed_usage, u, "--pooling, --normalize and --batch apply to a model directory, not --model hash");
	if (!is_hash && (o->dim || o->char_ngrams || o->idf || o->fit_idf))
		wn_usage_error(embed_usage, u, "--dim, --char-ngrams, --idf and --fit-idf apply to --model hash");
	if (o->fit_idf && (o->idf || o->npy || o->cache))
		wn_usage_error(embed_usage, u, "--fit-idf writes IDF statistics only; drop --idf, --npy and --cache");
	if (!is_hash) {
		struct stat st;
		if (stat(o->model, &st) || !S_ISDIR(st.st_mode))
			wn_usage_error(embed_usage, u, "--model '%s' is neither 'hash' nor a model directory", o->model);
	}
}

static int open_outputs(struct run *r)
{
	char err[1024];
	if (r->o->cache && !(r->cache = wn_store_embcache_open(r->o->cache, r->e->fingerprint, r->e->dim,
								err, sizeof err))) {
		wn_cmd_error("embed", "%s", err);
		return -1;
	}
	if (r->o->npy && !(r->npy = wn_embed_npy_create(r->o->npy, r->o->f16 ? WN_EMBED_NPY_F16 : WN_EMBED_NPY_F32,
							 r->e->dim, err, sizeof err))) {
		wn_cmd_error("embed", "%s", err);
		return -1;
	}
	return 0;
}

/* Publish .npy and cache (ok) or drop them; returns ok after the commits. */
static int close_outputs(struct run *r, int ok, int quiet)
{
	char err[512];
	if (r->cache && ok && !quiet)
		fprintf(stderr, "winnow embed: cache %s: hits %llu, misses %llu\n", r->o->cache,
			(unsigned long long)wn_store_embcache_hits(r->cache),
			(unsigned long long)wn_store_embcache_misses(r->cache));
	if (r->npy) {
		if (ok && wn_embed_npy_commit(r->npy, err, sizeof err)) {
			wn_cmd_error("embed", "%s", err);
			ok = 0;
		} else if (!ok) {
			wn_embed_npy_abort(r->npy);
		}
	}
	if (r->cache) {
		if (ok && wn_store_embcache_commit(r->cache, err, sizeof err)) {
			wn_cmd_error("embed", "%s", err);
			ok = 0;
		} else if (!ok) {
			wn_store_embcache_close(r->cache);
		}
	}
	return ok;
}

int cmd_embed(int argc, const char **argv)
{
	struct wn_common co = WN_COMMON_INIT;
	struct embed_opts o = {.model = "hash", .vec_dtype = "f32", .normalize = -1};
	struct wn_option opts[] = {
		OPT_GROUP("Model"),
		OPT_STRING(0, "model", &o.model, "hash|DIR", "hash (default) or a sentence-transformers model directory"),
		OPT_INT(0, "dim", &o.dim, "N", "hash: output dimension (default 512)"),
		OPT_STRING(0, "char-ngrams", &o.char_ngrams, "MIN,MAX", "hash: add character n-grams (e.g. 3,5)"),
		OPT_STRING(0, "idf", &o.idf, "FILE", "hash: weight buckets by IDF statistics from FILE"),
		OPT_STRING(0, "fit-idf", &o.fit_idf, "FILE", "hash: count IDF statistics over the input, write FILE, no records"),
		OPT_STRING(0, "pooling", &o.pooling, "mean|cls", "model: override 1_Pooling/config.json"),
		OPT_BOOL(0, "normalize", &o.normalize, "model: L2-normalise (--no-normalize: don't); default: modules.json"),
		OPT_INT(0, "batch", &o.batch, "N", "model: texts per forward pass (default 32 on cpu, 256 on cuda)"),
		OPT_GROUP("Vectors"),
		OPT_STRING(0, "npy", &o.npy, "FILE", "also write the vectors to FILE (.npy, rows in output order)"),
		OPT_STRING(0, "vec-dtype", &o.vec_dtype, "f32|f16", "dtype of winnow.emb and --npy (default f32)"),
		OPT_BOOL(0, "no-annotate", &o.no_annotate, "pass records through unchanged (with --npy)"),
		OPT_STRING(0, "cache", &o.cache, "DB", "SQLite cache of vectors by (model, text hash)"),
		WN_COMMON_STREAM_OPTIONS(&co),
		WN_COMMON_COMPUTE_OPTIONS(&co),
		OPT_END(),
	};
	argc = wn_parse_options(argc, argv, opts, embed_usage);
	int is_hash = !strcmp(o.model, "hash");
	check_options(&o, is_hash);
	if (o.fit_idf)
		return fit_idf(&o, &co, argc, argv);

	struct embedder e = {0};
	e.threads = co.threads;
	if (is_hash ? embedder_open_hash(&e, &o, 1) : embedder_open_bert(&e, &o, &co)) {
		embedder_free(&e);
		return 1;
	}
	wn_stream s;
	struct run r = {&s, &o, &e, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, WN_BUF_INIT};
	if (wn_cmd_stream_open(&s, "embed", &co, argc, argv)) {
		embedder_free(&e);
		return 1;
	}
	int ok = open_outputs(&r) == 0;
	size_t block_records = BLOCK_RECORDS;
	if (e.bert && (size_t)o.batch * 16 > block_records)
		block_records = (size_t)o.batch * 16;
	if (ok)
		ok = embed_stream(&r, block_records);
	ok = close_outputs(&r, ok, co.quiet);
	free(r.vec);
	free(r.rows);
	free(r.mtext);
	free(r.mlen);
	free(r.midx);
	wn_buf_free(&r.b64);
	embedder_free(&e);
	return wn_cmd_finish(&s, ok);
}
