/*
 * embed/embed_step.c — the `embed` step (see embed/embed_step.h).
 *
 * Records are copied into a block (io/batch.h: the reader's bytes move on)
 * with their text, or with why they cannot be embedded; a full block goes
 * to the embedder in one call (cache, then the model for the misses), and
 * its records are written in stream order, the unusable ones rejected at
 * their place. Blocks are filled on this thread, not read ahead: the
 * reader's own rejections (malformed lines) then stay in stream order with
 * the step's, on stderr and in the quarantine file.
 *
 * The .npy file and the cache's new entries are committed only when the
 * whole stream went through; otherwise both are dropped, like the output.
 */
#include "embed/embed_step.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "embed/npy.h"
#include "text/tokenize.h"
#include "embed/vectors_step.h"
#include "io/batch.h"
#include "io/errf.h"

#define BLOCK_RECORDS 2048
#define BLOCK_BYTES (32u << 20)

void wn_embed_init(wn_embed_opts *o)
{
	*o = (wn_embed_opts){.io = WN_STREAM_OPTS_INIT, .model = "hash", .vec_dtype = "f32",
			     .normalize = -1};
}

/* ---------- the options ---------- */

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

static int is_hash(const wn_embed_opts *o) { return !strcmp(o->model, "hash"); }

#define REFUSE(...) return wn_errf(err, errlen, __VA_ARGS__), -1

/* The values an option may take. */
static int check_values(const wn_embed_opts *o, char *err, size_t errlen)
{
	if (strcmp(o->vec_dtype, "f32") && strcmp(o->vec_dtype, "f16"))
		REFUSE("--vec-dtype '%s': expected f32 or f16", o->vec_dtype);
	if (o->pooling && strcmp(o->pooling, "mean") && strcmp(o->pooling, "cls"))
		REFUSE("--pooling '%s': expected mean or cls", o->pooling);
	if (o->no_annotate && !o->npy && !o->fit_idf)
		REFUSE("--no-annotate without --npy would throw the vectors away");
	if (o->dim < 0 || o->batch < 0)
		REFUSE("--dim and --batch must be positive");
	return 0;
}

/* Which options belong to which model and mode. */
static int check_modes(const wn_embed_opts *o, char *err, size_t errlen)
{
	int hash = is_hash(o);
	if (hash && (o->pooling || o->normalize >= 0 || o->batch))
		REFUSE("--pooling, --normalize and --batch apply to a model directory, not --model hash");
	if (!hash && (o->dim || o->char_ngrams || o->idf || o->fit_idf))
		REFUSE("--dim, --char-ngrams, --idf and --fit-idf apply to --model hash");
	if (o->fit_idf && (o->idf || o->npy || o->cache))
		REFUSE("--fit-idf writes IDF statistics only; drop --idf, --npy and --cache");
	if (o->fit_idf && o->io.output)
		REFUSE("--fit-idf writes IDF statistics, not records; drop -o");
	if (o->cache && !o->cache_ops)
		REFUSE("--cache: no cache is available to this step");
	return 0;
}

int wn_embed_check(const wn_embed_opts *o, char *err, size_t errlen)
{
	if (check_values(o, err, errlen) || check_modes(o, err, errlen))
		return -1;
	struct stat st;
	if (!is_hash(o) && (stat(o->model, &st) || !S_ISDIR(st.st_mode)))
		REFUSE("--model '%s' is neither 'hash' nor a model directory", o->model);
	int lo, hi;
	if (o->char_ngrams && parse_ngrams(o->char_ngrams, &lo, &hi))
		REFUSE("--char-ngrams '%s': expected MIN,MAX (e.g. 3,5)", o->char_ngrams);
	return 0;
}

/* ---------- the model ---------- */

static wn_embedder *open_embedder(const wn_embed_opts *o, char *err, size_t errlen)
{
	if (!is_hash(o)) {
		wn_embed_bert_opts bo;
		wn_embed_bert_opts_init(&bo);
		bo.pooling = !o->pooling ? WN_EMBED_POOL_AUTO
			   : !strcmp(o->pooling, "cls") ? WN_EMBED_POOL_CLS : WN_EMBED_POOL_MEAN;
		bo.normalize = o->normalize;
		bo.batch = o->batch;
		return wn_embedder_open_bert(o->model, &bo, o->io.device, o->io.threads, err, errlen);
	}
	wn_embed_hash_opts ho;
	wn_embed_hash_opts_init(&ho);
	if (o->dim)
		ho.dim = o->dim;
	if (o->char_ngrams && parse_ngrams(o->char_ngrams, &ho.char_min, &ho.char_max)) {
		wn_errf(err, errlen, "--char-ngrams '%s': expected MIN,MAX (e.g. 3,5)", o->char_ngrams);
		return NULL;
	}
	ho.idf_path = o->fit_idf ? NULL : o->idf;
	return wn_embedder_open_hash(&ho, o->io.threads, err, errlen);
}

/* ---------- one block: embed, write out in order ---------- */

struct embed_run {
	const wn_embed_opts *o;
	wn_stream *s;
	wn_embedder *e;
	wn_embed_npy_writer *npy;
	float *vec;      /* block x dim, row i for record i; compacted for .npy */
	size_t cap;
	wn_buf b64;
	char *err;
	size_t errlen;
};

static int reserve_rows(struct embed_run *r, size_t n)
{
	if (n <= r->cap)
		return 0;
	float *v = realloc(r->vec, n * (size_t)wn_embedder_dim(r->e) * sizeof *v);
	if (!v) {
		wn_errf(r->err, r->errlen, "out of memory");
		return -1;
	}
	r->vec = v;
	r->cap = n;
	return 0;
}

/* Write the record, annotated with its vector unless --no-annotate. */
static int emit_one(struct embed_run *r, const wn_record *rec, const float *v)
{
	if (r->o->no_annotate)
		return wn_stream_emit(r->s, rec, NULL);
	return wn_vectors_emit(r->s, rec, v, wn_embedder_dim(r->e), !strcmp(r->o->vec_dtype, "f16"),
			       &r->b64, r->err, r->errlen);
}

/* Emit the block's records in order (rejecting the unusable ones), then
 * the rows of the emitted ones to .npy. */
static int emit_block(struct embed_run *r, const wn_batch *b)
{
	size_t d = (size_t)wn_embedder_dim(r->e), nrows = 0;
	for (size_t i = 0; i < b->n; i++) {
		wn_record rec = wn_batch_record(b, i);
		if (b->why[i]) {
			if (wn_stream_reject(r->s, &rec, "%s", b->why[i]))
				return -1;
			continue;
		}
		if (emit_one(r, &rec, r->vec + i * d))
			return -1;
		/* rows of emitted records move down over the rejected ones: i >= nrows */
		if (r->npy && nrows++ != i)
			memmove(r->vec + (nrows - 1) * d, r->vec + i * d, d * sizeof *r->vec);
	}
	if (r->npy && wn_embed_npy_write(r->npy, r->vec, (int64_t)nrows, r->err, r->errlen))
		return -1;
	return 0;
}

static int flush_block(struct embed_run *r, wn_batch *b)
{
	if (!b->n)
		return 0;
	if (reserve_rows(r, b->n) ||
	    wn_embedder_embed(r->e, wn_batch_texts(b), b->text_len, b->n, r->vec, b->why, r->err,
			      r->errlen) ||
	    emit_block(r, b))
		return -1;
	wn_batch_clear(b);
	return 0;
}

/* Why a record cannot be embedded before looking at its text, or NULL. */
static const char *record_problem(wn_stream *s, const wn_record *rec, wn_buf *scratch,
				  wn_span *text, int annotate)
{
	const char *why = NULL;
	if (wn_stream_text(s, rec, scratch, text, &why))
		return why;
	if (annotate && !wn_vectors_annotatable(rec))
		return "\"winnow\" is not an object";
	return NULL;
}

static int embed_blocks(struct embed_run *r, size_t max_records)
{
	wn_batch b = WN_BATCH_INIT;
	wn_buf scratch = WN_BUF_INIT;
	wn_record rec;
	int got, rc = 0;
	while ((got = wn_stream_next(r->s, &rec)) > 0) {
		wn_span text = {"", 0};
		const char *why = record_problem(r->s, &rec, &scratch, &text, !r->o->no_annotate);
		if (wn_batch_add(&b, &rec, text, WN_BATCH_KEEP_JSON | WN_BATCH_KEEP_TEXT, why)) {
			wn_errf(r->err, r->errlen, "out of memory");
			rc = -1;
			break;
		}
		if (wn_batch_full(&b, max_records, BLOCK_BYTES) && (rc = flush_block(r, &b)))
			break;
	}
	if (got < 0)
		rc = -1;
	else if (!rc)
		rc = flush_block(r, &b);
	wn_batch_free(&b);
	wn_buf_free(&scratch);
	return rc || r->s->failed ? -1 : 0;
}

/* ---------- the run's outputs beside the stream ---------- */

static int open_outputs(struct embed_run *r)
{
	const wn_embed_opts *o = r->o;
	if (o->cache && wn_embedder_cache_open(r->e, o->cache_ops, o->cache, r->err, r->errlen))
		return -1;
	int dtype = !strcmp(o->vec_dtype, "f16") ? WN_EMBED_NPY_F16 : WN_EMBED_NPY_F32;
	if (o->npy && !(r->npy = wn_embed_npy_create(o->npy, dtype, wn_embedder_dim(r->e), r->err,
						     r->errlen)))
		return -1;
	return 0;
}

/* Publish .npy and cache (ok) or drop them; returns ok after the commits. */
static int close_outputs(struct embed_run *r, int ok)
{
	uint64_t hits, misses;
	if (ok && !r->o->io.quiet && wn_embedder_cache_counts(r->e, &hits, &misses))
		fprintf(stderr, "winnow %s: cache %s: hits %llu, misses %llu\n", r->s->cmd, r->o->cache,
			(unsigned long long)hits, (unsigned long long)misses);
	if (r->npy) {
		if (ok && wn_embed_npy_commit(r->npy, r->err, r->errlen))
			ok = 0;
		else if (!ok)
			wn_embed_npy_abort(r->npy);
		r->npy = NULL;
	}
	/* an uncommitted cache is rolled back when the embedder is freed */
	if (ok && wn_embedder_commit(r->e, r->err, r->errlen))
		ok = 0;
	return ok;
}

static int embed_records(const wn_embed_opts *o, wn_stream *s, wn_embedder *e, char *err,
			 size_t errlen)
{
	struct embed_run r = {o, s, e, NULL, NULL, 0, WN_BUF_INIT, err, errlen};
	size_t max_records = BLOCK_RECORDS;
	if (!is_hash(o) && (size_t)o->batch * 16 > max_records)
		max_records = (size_t)o->batch * 16;
	int ok = open_outputs(&r) == 0;
	if (ok)
		ok = embed_blocks(&r, max_records) == 0;
	ok = close_outputs(&r, ok);
	free(r.vec);
	wn_buf_free(&r.b64);
	return ok ? 0 : -1;
}

/* ---------- --fit-idf ---------- */

/* Count one record's document frequencies, or reject it: 0 to go on, -1 to stop. */
static int fit_one(wn_stream *s, const wn_embed_hash *h, wn_embed_hash_ws *ws,
		   wn_embed_hash_df *df, const wn_record *rec, wn_buf *scratch)
{
	wn_span text;
	const char *why = NULL;
	int rc = wn_stream_text(s, rec, scratch, &text, &why) ? 1
		 : wn_embed_hash_df_add(h, ws, df, text.p, text.n);
	if (rc < 0)
		why = wn_tok_strerror(rc);
	return rc && wn_stream_reject(s, rec, "%s", why) ? -1 : 0;
}

static int fit_idf(const wn_embed_opts *o, wn_stream *s, wn_embedder *e, char *err,
		   size_t errlen)
{
	const wn_embed_hash *h = wn_embedder_hash(e);
	wn_embed_hash_ws *ws = wn_embed_hash_ws_new(h);
	wn_embed_hash_df *df = wn_embed_hash_df_new(h);
	wn_buf scratch = WN_BUF_INIT;
	wn_record rec;
	int got = 0, ok = ws && df;
	if (!ok)
		wn_errf(err, errlen, "out of memory");
	while (ok && (got = wn_stream_next(s, &rec)) > 0)
		ok = fit_one(s, h, ws, df, &rec, &scratch) == 0;
	if (ok && got < 0)
		ok = 0;
	if (ok && wn_embed_hash_df_write(df, o->fit_idf, err, errlen))
		ok = 0;
	if (ok && !o->io.quiet)
		fprintf(stderr, "winnow %s: IDF over %llu documents written to %s\n", s->cmd,
			(unsigned long long)wn_embed_hash_df_docs(df), o->fit_idf);
	wn_buf_free(&scratch);
	wn_embed_hash_df_free(df);
	wn_embed_hash_ws_free(ws);
	return ok ? 0 : -1;
}

/* ---------- the step ---------- */

int wn_embed_run(const wn_embed_opts *o, wn_stream *s, wn_step_report *rep, char *err,
		 size_t errlen)
{
	(void)rep;
	wn_embedder *e = open_embedder(o, err, errlen);
	if (!e)
		return -1;
	int rc = o->fit_idf ? fit_idf(o, s, e, err, errlen) : embed_records(o, s, e, err, errlen);
	wn_embedder_free(e);
	return rc;
}
