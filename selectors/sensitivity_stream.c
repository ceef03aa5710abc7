/*
 * selectors/sensitivity_stream.c — the streaming row source of the
 * leverage and Lewis steps (see selectors/sensitivity_stream.h): pass 1
 * from the stream into the spool, later passes from the spool; a batch of
 * vectors and of its records' bytes at a time. The emitting pass
 * (rewind_emit) reads the spool's records but neither the .npy nor the
 * records' vectors again.
 */
#include "selectors/sensitivity_stream.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/vectors.h"
#include "embed/npy.h"
#include "io/errf.h"
#include "io/spool.h"

#define PAD 64 /* zero bytes after each copied record (simdjson's padding rule) */

struct brec {
	size_t off, len;
	const char *file;
	uint64_t line;
};

struct wn_sens_stream {
	wn_stream *s;
	const char *field, *npy, *key;
	wn_spool *sp;
	wn_embed_npy_reader *nr;
	int64_t npy_rows, d, batch;
	int pass;            /* 0 not started, 1 reading the stream, 2 rereading the spool */
	int no_vectors;      /* the emitting pass: records only, the vectors are not read */
	int stream_done;     /* pass 1 reached the end of the input */
	float *X, *x;        /* the batch (batch × d); one row of scratch */
	int64_t rows, pending; /* rows in the batch; rows read ahead by open (pass 1) */
	char *bytes;         /* the batch's records (spool passes) */
	size_t blen, bcap;
	struct brec *recs;
	int64_t count, seen, emitted; /* kept in pass 1; read from the stream; written */
	wn_record first;     /* the first vector's record (dimension messages) */
	int own_error;       /* the last failure was the source's or the sink's */
};

void wn_sens_stream_free(wn_sens_stream *t)
{
	if (!t)
		return;
	wn_spool_free(t->sp);
	if (t->nr)
		wn_embed_npy_close(t->nr);
	free(t->X);
	free(t->x);
	free(t->bytes);
	free(t->recs);
	free(t);
}

int64_t wn_sens_stream_count(const wn_sens_stream *t)
{
	return t->count;
}

int wn_sens_stream_own_error(const wn_sens_stream *t)
{
	return t->own_error;
}

/* Parse the member vector of rec into x: 1 ok, else the reason in why. */
static int member_vector(const wn_sens_stream *t, const wn_record *rec, float *x, int *dim,
			 char *why, size_t n)
{
	wn_span val;
	*dim = 0;
	if (!wn_json_get(rec->json, t->field, &val))
		return wn_errf(why, n, "no vector at %s", t->field), 0;
	if (wn_vec_parse(val, x, WN_CLUSTER_MAX_DIM, dim, why, n) || *dim == 0) {
		char inner[256];
		snprintf(inner, sizeof inner, "%s", *dim == 0 && !why[0] ? "empty vector" : why);
		return wn_errf(why, n, "%s: %s", t->field, inner), 0;
	}
	return 1;
}

/* Next row of the .npy into x: 1 ok (finite), 0 not finite (*bad = column), -1 error. */
static int npy_row(wn_sens_stream *t, float *x, int64_t *bad, char *err, size_t errlen)
{
	int64_t got = wn_embed_npy_read(t->nr, x, 1, err, errlen);
	if (got != 1)
		return got == 0 ? wn_errf(err, errlen, "%s: ends early", t->npy), -1 : -1;
	for (int64_t j = 0; j < t->d; j++)
		if (!isfinite(x[j]))
			return *bad = j, 0;
	return 1;
}

/* Pass 1, one record: 1 its vector is in x, 0 rejected (go on), -1 stop. */
static int first_pass_vector(wn_sens_stream *t, const wn_record *rec, float *x, char *err,
			     size_t errlen)
{
	wn_stream *s = t->s;
	if (t->npy) {
		int64_t bad = 0, row = t->seen;
		if (row >= t->npy_rows)
			return 0; /* counted; the row-count error comes at the end */
		int r = npy_row(t, x, &bad, err, errlen);
		if (r <= 0)
			return r < 0 ? -1 : wn_stream_reject(s, rec, "%s: row %lld: element %lld is not finite",
						   t->npy, (long long)row, (long long)bad) ? -1 : 0;
		return 1;
	}
	char why[300] = "";
	int dim = 0;
	if (!member_vector(t, rec, x, &dim, why, sizeof why))
		return wn_stream_reject(s, rec, "%s", why) ? -1 : 0;
	if (t->d == 0) {
		t->d = dim;
		t->first = *rec;
	} else if (dim != t->d) {
		return wn_stream_reject(s, rec, "%s has dimension %d, expected %lld (as at %s:%llu)",
					t->field, dim, (long long)t->d, t->first.file,
					(unsigned long long)t->first.line) ? -1 : 0;
	}
	return 1;
}

/* Pass 1: read records until the batch is full or the input ends. */
static int fill_from_stream(wn_sens_stream *t, int64_t want, char *err, size_t errlen)
{
	wn_record rec;
	int r = 1;
	while (t->rows < want && (r = wn_stream_next(t->s, &rec)) > 0) {
		float *x = t->X ? t->X + t->rows * t->d : t->x;
		int got = first_pass_vector(t, &rec, x, err, errlen);
		t->seen++;
		if (got < 0)
			return -1;
		if (got == 0)
			continue;
		if (wn_spool_put(t->sp, &rec, err, errlen))
			return -1;
		t->count++;
		t->rows++;
		if (!t->X)
			return 0; /* open(): the first vector, in t->x */
	}
	if (t->rows < want) {
		if (r < 0 || t->s->failed)
			return -1;
		t->stream_done = 1;
		if (t->npy && t->seen != t->npy_rows)
			return wn_errf(err, errlen, "%s: %lld rows of dimension %lld for %lld records",
				       t->npy, (long long)t->npy_rows, (long long)t->d,
				       (long long)t->seen), -1;
	}
	return 0;
}

static int alloc_batch(wn_sens_stream *t, char *err, size_t errlen)
{
	t->batch = wn_sens_batch_rows(t->d);
	t->X = malloc(sizeof(float) * (size_t)(t->batch * t->d));
	t->recs = malloc(sizeof(struct brec) * (size_t)t->batch);
	if (!t->X || !t->recs)
		return wn_errf(err, errlen, "out of memory for a batch of %lld vectors",
			       (long long)t->batch), -1;
	memcpy(t->X, t->x, sizeof(float) * (size_t)t->d); /* the vector open() read */
	return 0;
}

int wn_sens_stream_open(wn_stream *s, const char *field, const char *npy, const char *key,
			wn_sens_stream **out, char *err, size_t errlen)
{
	*out = NULL;
	wn_sens_stream *t = calloc(1, sizeof *t);
	if (!t || !(t->x = malloc(sizeof(float) * WN_CLUSTER_MAX_DIM)))
		return free(t), wn_errf(err, errlen, "out of memory"), -1;
	*t = (wn_sens_stream){.s = s, .field = field, .npy = npy, .key = key, .x = t->x};
	if (!(t->sp = wn_spool_new(0, err, errlen)))
		goto fail;
	if (npy) {
		if (!(t->nr = wn_embed_npy_open(npy, err, errlen)))
			goto fail;
		t->npy_rows = wn_embed_npy_reader_info(t->nr)->rows;
		t->d = wn_embed_npy_reader_info(t->nr)->cols;
		if (t->d < 1 || t->d > WN_CLUSTER_MAX_DIM) {
			wn_errf(err, errlen, "%s: %lld columns", npy, (long long)t->d);
			goto fail;
		}
	}
	if (fill_from_stream(t, 1, err, errlen))
		goto fail;
	if (t->rows == 0) { /* nothing usable: no scores, nothing written */
		wn_sens_stream_free(t);
		return 0;
	}
	if (alloc_batch(t, err, errlen))
		goto fail;
	t->pending = 1;
	*out = t;
	return 0;
fail:
	wn_sens_stream_free(t);
	return -1;
}

static int stream_rewind_(void *ctx, char *err, size_t errlen)
{
	wn_sens_stream *t = ctx;
	if (t->pass == 0) {
		t->pass = 1;
		return 0;
	}
	if (!t->stream_done)
		return wn_errf(err, errlen, "internal: rewind before the end of the input"), -1;
	t->pass = 2;
	t->emitted = 0;
	t->no_vectors = 0;
	if (t->npy) {
		wn_embed_npy_close(t->nr);
		if (!(t->nr = wn_embed_npy_open(t->npy, err, errlen)))
			return -1;
	}
	return wn_spool_rewind(t->sp, err, errlen);
}

/* Keep a copy of rec (bytes + PAD zeros) as row r of the batch. */
static int keep_record(wn_sens_stream *t, const wn_record *rec, int64_t r, char *err,
		       size_t errlen)
{
	size_t need = t->blen + rec->json.n + PAD;
	if (need > t->bcap) {
		size_t cap = t->bcap ? t->bcap : 1 << 16;
		while (cap < need)
			cap *= 2;
		char *b = realloc(t->bytes, cap);
		if (!b)
			return wn_errf(err, errlen, "out of memory"), -1;
		t->bytes = b, t->bcap = cap;
	}
	memcpy(t->bytes + t->blen, rec->json.p, rec->json.n);
	memset(t->bytes + t->blen + rec->json.n, 0, PAD);
	t->recs[r] = (struct brec){t->blen, rec->json.n, rec->file, rec->line};
	t->blen = need;
	return 0;
}

/* One spooled record's vector again (it was checked in pass 1). */
static int spool_vector(wn_sens_stream *t, const wn_record *rec, float *x, char *err,
			size_t errlen)
{
	if (t->npy) {
		int64_t bad;
		int r;
		while ((r = npy_row(t, x, &bad, err, errlen)) == 0)
			; /* a row pass 1 rejected: its record is not in the spool */
		return r < 0 ? -1 : 0;
	}
	char why[300] = "";
	int dim;
	if (!member_vector(t, rec, x, &dim, why, sizeof why) || dim != t->d)
		return wn_errf(err, errlen, "%s:%llu: the vector changed between passes", rec->file,
			       (unsigned long long)rec->line), -1;
	return 0;
}

static int fill_from_spool(wn_sens_stream *t, char *err, size_t errlen)
{
	t->blen = 0;
	while (t->rows < t->batch) {
		wn_record rec;
		int r = wn_spool_get(t->sp, &rec, err, errlen);
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		if ((!t->no_vectors && spool_vector(t, &rec, t->X + t->rows * t->d, err, errlen)) ||
		    keep_record(t, &rec, t->rows, err, errlen))
			return -1;
		t->rows++;
	}
	return 0;
}

static int stream_next_(void *ctx, const float **X32, const double **X64, int64_t *rows,
			char *err, size_t errlen)
{
	wn_sens_stream *t = ctx;
	t->rows = t->pass == 1 ? t->pending : 0;
	t->pending = 0;
	int rc = t->pass == 1 ? (t->stream_done ? 0 : fill_from_stream(t, t->batch, err, errlen))
			      : fill_from_spool(t, err, errlen);
	if (rc)
		return -1;
	*X32 = t->X, *X64 = NULL, *rows = t->rows;
	return t->rows > 0;
}

static int stream_rewind(void *ctx, char *err, size_t errlen)
{
	int rc = stream_rewind_(ctx, err, errlen);
	((wn_sens_stream *)ctx)->own_error |= rc < 0;
	return rc;
}

/* The emitting pass: the spool again, its records without their vectors. */
static int stream_rewind_emit(void *ctx, char *err, size_t errlen)
{
	int rc = stream_rewind(ctx, err, errlen);
	if (!rc)
		((wn_sens_stream *)ctx)->no_vectors = 1;
	return rc;
}

static int stream_next(void *ctx, const float **X32, const double **X64, int64_t *rows,
		       char *err, size_t errlen)
{
	int rc = stream_next_(ctx, X32, X64, rows, err, errlen);
	((wn_sens_stream *)ctx)->own_error |= rc < 0;
	return rc;
}

void wn_sens_stream_source(wn_sens_stream *t, wn_sens_source *src)
{
	*src = (wn_sens_source){t, t->d, stream_rewind, stream_next, stream_rewind_emit};
}

static int stream_sink_(void *ctx, const double *scores, int64_t rows, char *err,
			size_t errlen)
{
	wn_sens_stream *t = ctx;
	wn_stream *s = t->s;
	if (t->pass != 2 || rows != t->rows)
		return wn_errf(err, errlen, "internal: scores of a batch not read from the spool"), -1;
	for (int64_t r = 0; r < rows; r++) {
		const struct brec *b = &t->recs[r];
		wn_record rec = {{t->bytes + b->off, b->len}, b->file, b->line, (uint64_t)t->emitted++};
		wn_annot_clear(&s->annot);
		if (wn_annot_set_double(&s->annot, t->key, scores[r]))
			return wn_errf(err, errlen, "out of memory"), -1;
		if (wn_stream_emit(s, &rec, &s->annot))
			return -1;
	}
	return 0;
}

int wn_sens_stream_sink(void *ctx, const double *scores, int64_t rows, char *err, size_t errlen)
{
	int rc = stream_sink_(ctx, scores, rows, err, errlen);
	((wn_sens_stream *)ctx)->own_error |= rc < 0;
	return rc;
}
