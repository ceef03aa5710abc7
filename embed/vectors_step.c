/*
 * embed/vectors_step.c — the `vectors export` and `vectors import` steps
 * (see embed/vectors_step.h).
 *
 * Export keeps 1024 rows at a time and writes them to the .npy writer,
 * which is created at the first full chunk or at the end (its dimension is
 * the first vector's); import reads the .npy file 1024 rows at a time in
 * step with the records. Neither needs the whole stream.
 */
#include "embed/vectors_step.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "embed/npy.h"
#include "io/errf.h"

#define MAX_DIM WN_VECTORS_MAX_DIM
#define ROWS_CHUNK 1024

void wn_vectors_export_init(wn_vectors_opts *o)
{
	*o = (wn_vectors_opts){.io = WN_STREAM_OPTS_INIT, .import = 0, .vec_dtype = "f32"};
}

void wn_vectors_import_init(wn_vectors_opts *o)
{
	wn_vectors_export_init(o);
	o->import = 1;
}

int wn_vectors_check(const wn_vectors_opts *o, char *err, size_t errlen)
{
	if (strcmp(o->vec_dtype, "f32") && strcmp(o->vec_dtype, "f16"))
		wn_errf(err, errlen, "--vec-dtype '%s': expected f32 or f16", o->vec_dtype);
	else if (o->dim < 0 || o->dim > MAX_DIM)
		wn_errf(err, errlen, "--dim must be in 1..%d", MAX_DIM);
	else if (!o->import && !o->npy)
		wn_errf(err, errlen, "--npy FILE is required");
	else if (o->import && !o->npy == !o->from_field)
		wn_errf(err, errlen, "give exactly one of --npy FILE and --from-field PATH");
	else
		return 0;
	return -1;
}

static int is_f16(const wn_vectors_opts *o) { return !strcmp(o->vec_dtype, "f16"); }

/* The dimension rule: the first vector (or --dim) fixes it. */
static const char *check_dim(int *want, int got, char *msg, size_t len)
{
	if (!*want)
		*want = got;
	if (got == *want)
		return NULL;
	snprintf(msg, len, "vector has dim %d, expected %d", got, *want);
	return msg;
}

int wn_vectors_annotatable(const wn_record *rec)
{
	wn_span v;
	return !wn_json_get(rec->json, "winnow", &v) || wn_json_type_of(v) == WN_JSON_OBJECT;
}

int wn_vectors_emit(wn_stream *s, const wn_record *rec, const float *v, int dim, int f16,
		    wn_buf *b64, char *err, size_t errlen)
{
	wn_buf_reset(b64);
	wn_annot_clear(&s->annot);
	if (wn_vec_annot(b64, v, dim, f16 ? WN_VEC_F16 : WN_VEC_F32) ||
	    wn_annot_set_raw(&s->annot, "emb", b64->data, b64->len)) {
		wn_errf(err, errlen, "out of memory");
		return -1;
	}
	return wn_stream_emit(s, rec, &s->annot);
}

/* ---------- export ---------- */

struct export_run {
	const wn_vectors_opts *o;
	wn_stream *s;
	wn_embed_npy_writer *w;
	float *v, *rows;  /* one vector; ROWS_CHUNK rows */
	int dim;
	int64_t n;        /* rows kept, not written yet */
	char *err;
	size_t errlen;
};

/* Write the kept rows (creating the file first when needed). */
static int export_flush(struct export_run *x)
{
	int dtype = is_f16(x->o) ? WN_EMBED_NPY_F16 : WN_EMBED_NPY_F32;
	if (!x->w && !(x->w = wn_embed_npy_create(x->o->npy, dtype, x->dim, x->err, x->errlen)))
		return -1;
	if (x->n && wn_embed_npy_write(x->w, x->rows, x->n, x->err, x->errlen))
		return -1;
	x->n = 0;
	return 0;
}

/* One record: its vector becomes a row, the record passes. 0 to go on, -1 to stop. */
static int export_one(struct export_run *x, const wn_record *rec, const char *path)
{
	char err[256], msg[256];
	int d;
	const char *why = wn_vec_get(rec->json, path, x->v, MAX_DIM, &d, err, sizeof err) ? err
			  : check_dim(&x->dim, d, msg, sizeof msg);
	if (why)
		return wn_stream_reject(x->s, rec, "%s: %s", path, why);
	if (!x->rows && !(x->rows = malloc((size_t)ROWS_CHUNK * (size_t)x->dim * sizeof *x->rows))) {
		wn_errf(x->err, x->errlen, "out of memory");
		return -1;
	}
	memcpy(x->rows + x->n++ * x->dim, x->v, (size_t)x->dim * sizeof *x->v);
	if (wn_stream_emit(x->s, rec, NULL))
		return -1;
	return x->n == ROWS_CHUNK ? export_flush(x) : 0;
}

/* After the last record: the rest of the rows, then the file into place. */
static int export_finish(struct export_run *x)
{
	if (!x->dim) {
		wn_errf(x->err, x->errlen, "no vectors in the input: cannot write %s without a "
			"dimension (give --dim)", x->o->npy);
		return -1;
	}
	if (export_flush(x))
		return -1;
	wn_embed_npy_writer *w = x->w;
	x->w = NULL; /* commit frees it */
	return wn_embed_npy_commit(w, x->err, x->errlen);
}

int wn_vectors_export_run(const wn_vectors_opts *o, wn_stream *s, wn_step_report *rep, char *err,
			  size_t errlen)
{
	(void)rep;
	const char *path = o->from_field ? o->from_field : "winnow.emb";
	struct export_run x = {o, s, NULL, malloc(MAX_DIM * sizeof(float)), NULL, o->dim, 0, err, errlen};
	int ok = x.v != NULL, got = 0;
	if (!ok)
		wn_errf(err, errlen, "out of memory");
	wn_record rec;
	while (ok && (got = wn_stream_next(s, &rec)) > 0)
		ok = export_one(&x, &rec, path) == 0;
	if (ok && (got < 0 || s->failed))
		ok = 0;
	if (ok)
		ok = export_finish(&x) == 0;
	wn_embed_npy_abort(x.w); /* NULL once committed */
	free(x.v);
	free(x.rows);
	return ok && !s->failed ? 0 : -1;
}

/* ---------- import from .npy ---------- */

struct import_run {
	const wn_vectors_opts *o;
	wn_stream *s;
	wn_embed_npy_reader *r;
	const wn_embed_npy_info *info;
	float *rows;
	int dim;
	int64_t have, at, row; /* rows buffered, next buffered row, rows used */
	wn_buf b64;
	char *err;
	size_t errlen;
};

/* The next row of the file for rec, or NULL when there is none (err says why). */
static const float *next_row(struct import_run *m, const wn_record *rec)
{
	if (m->at == m->have) {
		m->have = wn_embed_npy_read(m->r, m->rows, ROWS_CHUNK, m->err, m->errlen);
		m->at = 0;
		if (m->have == 0)
			wn_errf(m->err, m->errlen, "%s:%llu: %s has only %lld rows but the input has more records",
				rec->file, (unsigned long long)rec->line, m->o->npy,
				(long long)m->info->rows);
		if (m->have <= 0)
			return NULL;
	}
	m->row++;
	return m->rows + m->at++ * m->dim;
}

/* One record gets the next row: 0 to go on, -1 to stop. */
static int import_one(struct import_run *m, const wn_record *rec)
{
	const float *v = next_row(m, rec);
	if (!v)
		return -1;
	int64_t br, bc;
	if (wn_embed_first_nonfinite(v, 1, m->dim, &br, &bc))
		return wn_stream_reject(m->s, rec, "%s: row %lld, column %lld is %s", m->o->npy,
					(long long)(m->row - 1), (long long)bc,
					v[bc] != v[bc] ? "NaN" : "infinite");
	if (!wn_vectors_annotatable(rec))
		return wn_stream_reject(m->s, rec, "\"winnow\" is not an object");
	return wn_vectors_emit(m->s, rec, v, m->dim, is_f16(m->o), &m->b64, m->err, m->errlen);
}

/* Open the file and check its dimension against --dim: 0, or -1 with err. */
static int import_open(struct import_run *m)
{
	if (!(m->r = wn_embed_npy_open(m->o->npy, m->err, m->errlen)))
		return -1;
	m->info = wn_embed_npy_reader_info(m->r);
	m->dim = (int)m->info->cols;
	if (m->o->dim && m->o->dim != m->dim) {
		wn_errf(m->err, m->errlen, "%s: rows have dim %d, --dim says %d", m->o->npy, m->dim,
			m->o->dim);
		return -1;
	}
	if (!(m->rows = malloc((size_t)ROWS_CHUNK * (size_t)m->dim * sizeof *m->rows + 1))) {
		wn_errf(m->err, m->errlen, "out of memory");
		return -1;
	}
	return 0;
}

static int import_npy(const wn_vectors_opts *o, wn_stream *s, char *err, size_t errlen)
{
	struct import_run m = {o, s, NULL, NULL, NULL, 0, 0, 0, 0, WN_BUF_INIT, err, errlen};
	int ok = import_open(&m) == 0, got = 0;
	wn_record rec;
	while (ok && (got = wn_stream_next(s, &rec)) > 0)
		ok = import_one(&m, &rec) == 0;
	if (ok && (got < 0 || s->failed))
		ok = 0;
	if (ok && m.row < m.info->rows) {
		wn_errf(err, errlen, "%s has %lld rows but the input had only %lld records", o->npy,
			(long long)m.info->rows, (long long)m.row);
		ok = 0;
	}
	free(m.rows);
	wn_buf_free(&m.b64);
	wn_embed_npy_close(m.r);
	return ok ? 0 : -1;
}

/* ---------- import from a field ---------- */

/* Why the array at `field` cannot become winnow.emb, or NULL (then v holds it). */
static const char *field_problem(const wn_record *rec, const char *field, float *v, int *dim,
				 char *msg, size_t len)
{
	wn_span val;
	int d = 0;
	if (!wn_json_get(rec->json, field, &val))
		return "missing";
	if (wn_json_type_of(val) != WN_JSON_ARRAY)
		return "not a JSON array of numbers";
	if (wn_vec_parse(val, v, MAX_DIM, &d, msg, len))
		return msg;
	if (!d)
		return "empty array";
	if (!wn_vectors_annotatable(rec))
		return "\"winnow\" is not an object";
	return check_dim(dim, d, msg, len);
}

static int import_field(const wn_vectors_opts *o, wn_stream *s, char *err, size_t errlen)
{
	float *v = malloc(MAX_DIM * sizeof *v);
	wn_buf b64 = WN_BUF_INIT;
	int dim = o->dim, ok = v != NULL, got = 0;
	wn_record rec;
	if (!v)
		wn_errf(err, errlen, "out of memory");
	while (ok && (got = wn_stream_next(s, &rec)) > 0) {
		char msg[256];
		const char *why = field_problem(&rec, o->from_field, v, &dim, msg, sizeof msg);
		if (why)
			ok = wn_stream_reject(s, &rec, "%s: %s", o->from_field, why) == 0;
		else
			ok = wn_vectors_emit(s, &rec, v, dim, is_f16(o), &b64, err, errlen) == 0;
	}
	if (ok && got < 0)
		ok = 0;
	free(v);
	wn_buf_free(&b64);
	return ok && !s->failed ? 0 : -1;
}

int wn_vectors_import_run(const wn_vectors_opts *o, wn_stream *s, wn_step_report *rep, char *err,
			  size_t errlen)
{
	(void)rep;
	return o->npy ? import_npy(o, s, err, errlen) : import_field(o, s, err, errlen);
}
