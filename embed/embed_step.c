/*
 * embed/embed_step.c — the `embed` step (see embed/embed_step.h).
 *
 * Records are copied into blocks by io/batch's read-ahead thread (the
 * reader's bytes move on) with their text, or with why they cannot be
 * embedded; a full block goes to the embedder in one call (cache, then the
 * model for the misses) on this thread while the next block is read, and
 * its records are written in stream order. Unusable records are rejected
 * on the reader thread, where the reader rejects its malformed lines, so
 * every rejection stays in stream order on stderr and in the quarantine
 * file (see take_record for --on-error fail).
 *
 * The .npy file and the cache's new entries are committed only when the
 * whole stream went through; otherwise both are dropped, like the output.
 */
#include "embed/embed_step.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <utf8proc.h>

#include "embed/hash_embed.h"
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

static int is_hash(const wn_embed_opts *o) { return !strcmp(o->model, "hash"); }

#define REFUSE(...) return wn_errf(err, errlen, __VA_ARGS__), -1

/* The values an option may take. */
static int check_values(const wn_embed_opts *o, char *err, size_t errlen)
{
	if (strcmp(o->vec_dtype, "f32") && strcmp(o->vec_dtype, "f16"))
		REFUSE("--vec-dtype '%s': expected f32 or f16", o->vec_dtype);
	if (o->pooling && strcmp(o->pooling, "mean") && strcmp(o->pooling, "cls") &&
	    strcmp(o->pooling, "weighted-mean"))
		REFUSE("--pooling '%s': expected mean, cls or weighted-mean", o->pooling);
	if (o->no_annotate && !o->npy && !o->fit_idf)
		REFUSE("--no-annotate without --npy would throw the vectors away");
	if (o->dim < 0 || o->batch < 0)
		REFUSE("--dim and --batch must be positive");
	if (o->precision && wn_core_parse_precision(o->precision) < 0)
		REFUSE("--precision '%s': expected fp32, tf32, bf16 or fp16", o->precision);
	return 0;
}

/* A reduced precision is a GPU feature: on the CPU it would only be the
 * core's (slower) twin, so a run that will land on the CPU is refused. */
static int check_precision_device(const wn_embed_opts *o, char *err, size_t errlen)
{
	if (!o->precision || wn_core_parse_precision(o->precision) == WN_PREC_FP32)
		return 0;
	const char *dev = o->io.device && *o->io.device ? o->io.device : getenv("WINNOW_DEVICE");
	if (dev && !strcmp(dev, "cpu"))
		REFUSE("--precision %s needs --device cuda (the CPU computes in fp32)", o->precision);
	if (dev && *dev && strcmp(dev, "auto"))
		return 0; /* cuda, or a name the core will refuse itself */
	const char *why = wn_core_cuda_unavailable_reason();
	if (why[0])
		REFUSE("--precision %s needs a GPU, and --device auto would run on the CPU (%s)",
		       o->precision, why);
	return 0;
}

/* Which options belong to which model and mode. */
static int check_modes(const wn_embed_opts *o, char *err, size_t errlen)
{
	int hash = is_hash(o);
	if (hash && (o->pooling || o->normalize >= 0 || o->batch || o->precision))
		REFUSE("--pooling, --normalize, --batch and --precision apply to a model directory, "
		       "not --model hash");
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
	if (check_values(o, err, errlen) || check_modes(o, err, errlen) ||
	    check_precision_device(o, err, errlen))
		return -1;
	struct stat st;
	if (!is_hash(o) && (stat(o->model, &st) || !S_ISDIR(st.st_mode)))
		REFUSE("--model '%s' is neither 'hash' nor a model directory", o->model);
	int lo, hi;
	if (o->char_ngrams && wn_embed_hash_parse_ngrams(o->char_ngrams, &lo, &hi))
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
			   : !strcmp(o->pooling, "cls") ? WN_EMBED_POOL_CLS
			   : !strcmp(o->pooling, "weighted-mean") ? WN_EMBED_POOL_WEIGHTED : WN_EMBED_POOL_MEAN;
		bo.normalize = o->normalize;
		bo.batch = o->batch;
		bo.precision = o->precision ? wn_core_parse_precision(o->precision) : -1;
		return wn_embedder_open_bert(o->model, &bo, o->io.device, o->io.threads, err, errlen);
	}
	wn_embed_hash_opts ho;
	wn_embed_hash_opts_init(&ho);
	if (o->dim)
		ho.dim = o->dim;
	if (o->char_ngrams &&
	    wn_embed_hash_parse_ngrams(o->char_ngrams, &ho.char_min, &ho.char_max)) {
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
	const char **pre;  /* per row: why before the model (cap) */
	unsigned char *refused; /* per row: the model refused the text (cap) */
	wn_buf b64;
	char *err;       /* the consumer's (this thread's) reason */
	size_t errlen;
	const char *rejected; /* the why of a record rejected on the reader thread */
	char take_err[128];   /* the reader thread's reason */
};

static int reserve_rows(struct embed_run *r, size_t n)
{
	if (n <= r->cap)
		return 0;
	float *v = realloc(r->vec, n * (size_t)wn_embedder_dim(r->e) * sizeof *v);
	if (v)
		r->vec = v;
	const char **pre = v ? realloc(r->pre, n * sizeof *pre) : NULL;
	if (pre)
		r->pre = pre;
	unsigned char *refused = pre ? realloc(r->refused, n) : NULL;
	if (!refused) {
		wn_errf(r->err, r->errlen, "out of memory");
		return -1;
	}
	r->refused = refused;
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

/* Emit the block's records in order, then the rows of the emitted ones to
 * .npy. A record with a why was rejected by the reader thread already
 * (TAKEN_REJECTED), or is rejected here (under --on-error fail, the one
 * that ends the stream, after the records before it); one the model
 * refused ends the run (the pre-checks make it unreachable: see take). */
static int emit_block(struct embed_run *r, const wn_batch *b)
{
	size_t d = (size_t)wn_embedder_dim(r->e), nrows = 0;
	for (size_t i = 0; i < b->n; i++) {
		wn_record rec = wn_batch_record(b, i);
		if (b->why[i] == r->rejected)
			continue;
		if (b->why[i] && r->refused[i]) {
			wn_errf(r->err, r->errlen, "%s:%llu: %s", rec.file,
				(unsigned long long)rec.line, b->why[i]);
			r->s->failed = 1;
			return -1;
		}
		if (b->why[i]) {
			wn_stream_reject(r->s, &rec, "%s", b->why[i]);
			return -1;
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

/* One full block (the consumer of wn_batch_run): embed, then emit. */
static int consume_block(void *arg, wn_batch *b)
{
	struct embed_run *r = arg;
	if (!b->n)
		return 0;
	if (reserve_rows(r, b->n))
		return -1;
	for (size_t i = 0; i < b->n; i++)
		r->refused[i] = 0;
	/* why[] as the model sees it: the model sets it for the texts it refuses */
	for (size_t i = 0; i < b->n; i++)
		r->pre[i] = b->why[i];
	if (wn_embedder_embed(r->e, wn_batch_texts(b), b->text_len, b->n, r->vec, b->why, r->err,
			      r->errlen))
		return -1;
	for (size_t i = 0; i < b->n; i++)
		r->refused[i] = b->why[i] && !r->pre[i];
	return emit_block(r, b);
}

/* Is the text UTF-8 as the hash model's tokenizer (utf8proc) decodes it?
 * It refuses exactly the texts where utf8proc_iterate fails on a non-ASCII
 * byte (text/tokenize.c normalises every non-ASCII stretch with utf8proc). */
static int tokenizer_utf8(const char *p, size_t n)
{
	const unsigned char *s = (const unsigned char *)p;
	size_t i = 0;
	while (i < n) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		utf8proc_int32_t c;
		utf8proc_ssize_t k = utf8proc_iterate(s + i, (utf8proc_ssize_t)(n - i), &c);
		if (k <= 0)
			return 0;
		i += (size_t)k;
	}
	return 1;
}

/* Why a record cannot be embedded before looking at its text, or NULL. */
static const char *record_problem(wn_stream *s, const wn_record *rec, wn_buf *scratch,
				  wn_span *text, int annotate, int hash)
{
	const char *why = NULL;
	if (wn_stream_text(s, rec, scratch, text, &why))
		return why;
	/* the hash model refuses such texts; refuse them here, in stream order */
	if (hash && text->n >= ((size_t)1 << 30))
		return wn_tok_strerror(WN_TOK_ETOOBIG);
	if (hash && !tokenizer_utf8(text->p, text->n))
		return wn_tok_strerror(WN_TOK_EUTF8);
	if (annotate && !wn_vectors_annotatable(rec))
		return "\"winnow\" is not an object";
	return NULL;
}

struct embed_take {
	struct embed_run *r;
	wn_buf scratch;
};

static int take_next(void *arg, wn_record *rec)
{
	return wn_stream_next(((struct embed_take *)arg)->r->s, rec);
}

/*
 * On the reader thread, where the reader rejects its bad lines: a record
 * that cannot be embedded is rejected here too, so that every rejection is
 * made by one thread in stream order (stderr and the quarantine file as
 * before). It still takes its place in the block (block boundaries, and so
 * the model's batches, are those of the records read). Under --on-error
 * fail it is left to the consumer instead, which writes the records before
 * it first (what --stream has written at the failure is as before), and
 * the reading stops there.
 */
static int take_record(void *arg, wn_batch *b, const wn_record *rec)
{
	struct embed_take *t = arg;
	struct embed_run *r = t->r;
	wn_span text = {"", 0};
	const char *why = record_problem(r->s, rec, &t->scratch, &text, !r->o->no_annotate,
					 is_hash(r->o));
	int last = why && r->s->policy.mode == WN_ON_ERROR_FAIL;
	if (why && !last) {
		if (wn_stream_reject(r->s, rec, "%s", why))
			return -1;
		why = r->rejected;
	}
	if (wn_batch_add(b, rec, text, WN_BATCH_KEEP_JSON | WN_BATCH_KEEP_TEXT, why)) {
		wn_errf(r->take_err, sizeof r->take_err, "out of memory");
		return -1;
	}
	return last;
}

static int embed_blocks(struct embed_run *r, size_t max_records)
{
	struct embed_take t = {r, WN_BUF_INIT};
	wn_batch_source src = {take_next, take_record, &t, max_records, BLOCK_BYTES};
	char e[512] = "";
	int rc = wn_batch_run(&src, consume_block, r, NULL, e, sizeof e);
	if (rc && !r->err[0])
		wn_errf(r->err, r->errlen, "%s", e[0] ? e : r->take_err);
	wn_buf_free(&t.scratch);
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
	static const char rejected[] = "rejected on the reader thread";
	struct embed_run r = {.o = o, .s = s, .e = e, .b64 = WN_BUF_INIT, .err = err,
			      .errlen = errlen, .rejected = rejected};
	size_t max_records = BLOCK_RECORDS, hint = wn_embedder_block_hint(e);
	if (hint > max_records)
		max_records = hint;
	int ok = open_outputs(&r) == 0;
	if (ok)
		ok = embed_blocks(&r, max_records) == 0;
	ok = close_outputs(&r, ok);
	free(r.vec);
	free(r.pre);
	free(r.refused);
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
