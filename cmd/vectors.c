/*
 * cmd/vectors.c — `winnow vectors export|import`: vectors between records
 * and .npy files, or from a user's own field into winnow.emb.
 *
 *   export --npy FILE          winnow.emb (or --from-field PATH) of each record
 *                              -> row of FILE; records pass through unchanged
 *   import --npy FILE          row i of FILE -> winnow.emb of the i-th record
 *   import --from-field PATH   the JSON array at PATH -> winnow.emb
 *
 * Owns: options, the alignment of rows with records, the dimension check
 * (every vector must have the first one's dimension, or --dim).
 * Borrows: embed/npy.h, the vector annotation format of io/ (wn_vec_*),
 * cmd/common (streams, policy, counts line).
 *
 * Alignment is by order over the records the reader returns: lines the
 * reader drops under --on-error skip are not records and take no row.
 * A record rejected here (no vector, wrong dimension, NaN) still takes its
 * row on import, so the rows after it stay aligned.
 */
#include "cmd/common.h"
#include "embed/npy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DIM (1 << 16)
#define ROWS_CHUNK 1024

static const char *const vectors_usage[] = {
	"winnow vectors export --npy FILE [--from-field PATH] [options] [file...]",
	"winnow vectors import (--npy FILE | --from-field PATH) [options] [file...]",
	"",
	"Move vectors between records and .npy files (float32 or float16, rows in stream",
	"order). export writes winnow.emb (or the array at --from-field) of each record to",
	"FILE and passes records through; import sets winnow.emb from FILE's rows, or from",
	"a JSON array of numbers already in each record (bring your own embeddings).",
	"",
	"winnow embed corpus.jsonl | winnow vectors export --npy emb.npy > /dev/null",
	"winnow vectors import --npy emb.npy corpus.jsonl | winnow cluster kmeans -k 100",
	"winnow vectors import --from-field openai.embedding docs.jsonl > with-emb.jsonl",
	NULL,
};

struct vec_opts {
	const char *npy, *from_field, *vec_dtype;
	int dim, f16;
};

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

/* Splice winnow.emb = v into the record and write it. */
static int emit_vec(wn_stream *s, const wn_record *rec, const float *v, int dim, int f16,
		    wn_buf *b64)
{
	wn_buf_reset(b64);
	wn_annot_clear(&s->annot);
	if (wn_vec_annot(b64, v, dim, f16 ? WN_VEC_F16 : WN_VEC_F32) ||
	    wn_annot_set_raw(&s->annot, "emb", b64->data, b64->len)) {
		wn_cmd_error(s->cmd, "out of memory");
		return -1;
	}
	return wn_stream_emit(s, rec, &s->annot);
}

static int annotatable(const wn_record *rec)
{
	wn_span v;
	return !wn_json_get(rec->json, "winnow", &v) || wn_json_type_of(v) == WN_JSON_OBJECT;
}

/* ---------- export ---------- */

static int export_flush(wn_stream *s, const struct vec_opts *o, wn_embed_npy_writer **w, int dim,
			const float *rows, int64_t n)
{
	char err[512];
	if (!*w && !(*w = wn_embed_npy_create(o->npy, o->f16 ? WN_EMBED_NPY_F16 : WN_EMBED_NPY_F32,
					      dim, err, sizeof err))) {
		wn_cmd_error(s->cmd, "%s", err);
		return -1;
	}
	if (n && wn_embed_npy_write(*w, rows, n, err, sizeof err)) {
		wn_cmd_error(s->cmd, "%s", err);
		return -1;
	}
	return 0;
}

static int vectors_export(struct vec_opts *o, wn_stream *s)
{
	const char *path = o->from_field ? o->from_field : "winnow.emb";
	float *v = malloc(MAX_DIM * sizeof *v), *rows = NULL;
	wn_embed_npy_writer *w = NULL;
	int64_t n = 0;
	int dim = o->dim, ok = v != NULL, got;
	wn_record rec;
	while (ok && (got = wn_stream_next(s, &rec)) > 0) {
		char err[256], msg[256];
		int d;
		const char *why = wn_vec_get(rec.json, path, v, MAX_DIM, &d, err, sizeof err) ? err
				  : check_dim(&dim, d, msg, sizeof msg);
		if (why) {
			if (wn_stream_reject(s, &rec, "%s: %s", path, why))
				ok = 0;
			continue;
		}
		if (!rows && !(rows = malloc((size_t)ROWS_CHUNK * (size_t)dim * sizeof *rows)))
			ok = 0;
		if (ok) {
			memcpy(rows + n++ * dim, v, (size_t)dim * sizeof *v);
			ok = wn_stream_emit(s, &rec, NULL) == 0;
		}
		if (ok && n == ROWS_CHUNK) {
			ok = export_flush(s, o, &w, dim, rows, n) == 0;
			n = 0;
		}
	}
	if (ok && got < 0)
		ok = 0;
	if (ok && !dim) {
		wn_cmd_error(s->cmd, "no vectors in the input: cannot write %s without a dimension "
			     "(give --dim)", o->npy);
		ok = 0;
	}
	if (ok && !s->failed)
		ok = export_flush(s, o, &w, dim, rows, n) == 0;
	char err[512];
	if (ok && !s->failed && wn_embed_npy_commit(w, err, sizeof err)) {
		wn_cmd_error(s->cmd, "%s", err);
		ok = 0;
	} else if (!ok || s->failed) {
		wn_embed_npy_abort(w);
	}
	free(v);
	free(rows);
	return ok;
}

/* ---------- import from .npy ---------- */

static int import_npy(struct vec_opts *o, wn_stream *s)
{
	char err[512];
	wn_embed_npy_reader *r = wn_embed_npy_open(o->npy, err, sizeof err);
	if (!r) {
		wn_cmd_error(s->cmd, "%s", err);
		return 0;
	}
	const wn_embed_npy_info *info = wn_embed_npy_reader_info(r);
	int dim = (int)info->cols, ok = 1, got;
	if (o->dim && o->dim != dim) {
		wn_cmd_error(s->cmd, "%s: rows have dim %d, --dim says %d", o->npy, dim, o->dim);
		wn_embed_npy_close(r);
		return 0;
	}
	float *rows = malloc((size_t)ROWS_CHUNK * (size_t)dim * sizeof *rows + 1);
	wn_buf b64 = WN_BUF_INIT;
	int64_t have = 0, at = 0, row = 0; /* rows buffered, next buffered row, rows used */
	wn_record rec;
	while (ok && rows && (got = wn_stream_next(s, &rec)) > 0) {
		if (at == have) {
			have = wn_embed_npy_read(r, rows, ROWS_CHUNK, err, sizeof err);
			at = 0;
			if (have <= 0) {
				if (have < 0)
					wn_cmd_error(s->cmd, "%s", err);
				else
					wn_cmd_error(s->cmd, "%s:%llu: %s has only %lld rows but the input has more records",
						     rec.file, (unsigned long long)rec.line, o->npy, (long long)info->rows);
				ok = 0;
				break;
			}
		}
		const float *v = rows + at++ * dim;
		int64_t br, bc;
		row++;
		if (wn_embed_first_nonfinite(v, 1, dim, &br, &bc)) {
			if (wn_stream_reject(s, &rec, "%s: row %lld, column %lld is %s", o->npy, (long long)(row - 1),
					     (long long)bc, v[bc] != v[bc] ? "NaN" : "infinite"))
				ok = 0;
			continue;
		}
		if (!annotatable(&rec)) {
			if (wn_stream_reject(s, &rec, "\"winnow\" is not an object"))
				ok = 0;
			continue;
		}
		ok = emit_vec(s, &rec, v, dim, o->f16, &b64) == 0;
	}
	if (!rows) {
		wn_cmd_error(s->cmd, "out of memory");
		ok = 0;
	} else if (ok && got < 0) {
		ok = 0;
	}
	if (ok && !s->failed && row < info->rows) {
		wn_cmd_error(s->cmd, "%s has %lld rows but the input had only %lld records", o->npy,
			     (long long)info->rows, (long long)row);
		ok = 0;
	}
	free(rows);
	wn_buf_free(&b64);
	wn_embed_npy_close(r);
	return ok;
}

/* ---------- import from a field ---------- */

static int import_field(struct vec_opts *o, wn_stream *s)
{
	float *v = malloc(MAX_DIM * sizeof *v);
	wn_buf b64 = WN_BUF_INIT;
	int dim = o->dim, ok = v != NULL, got;
	wn_record rec;
	if (!v)
		wn_cmd_error(s->cmd, "out of memory");
	while (ok && (got = wn_stream_next(s, &rec)) > 0) {
		char err[256], msg[256];
		wn_span val;
		int d = 0;
		const char *why = NULL;
		if (!wn_json_get(rec.json, o->from_field, &val))
			why = "missing";
		else if (wn_json_type_of(val) != WN_JSON_ARRAY)
			why = "not a JSON array of numbers";
		else if (wn_vec_parse(val, v, MAX_DIM, &d, err, sizeof err))
			why = err;
		else if (!d)
			why = "empty array";
		else if (!annotatable(&rec))
			why = "\"winnow\" is not an object";
		else
			why = check_dim(&dim, d, msg, sizeof msg);
		if (why) {
			if (wn_stream_reject(s, &rec, "%s: %s", o->from_field, why))
				ok = 0;
			continue;
		}
		ok = emit_vec(s, &rec, v, dim, o->f16, &b64) == 0;
	}
	if (ok && got < 0)
		ok = 0;
	free(v);
	wn_buf_free(&b64);
	return ok;
}

/* ---------- the command ---------- */

static int vectors_run(int argc, const char **argv, int import)
{
	struct wn_common co = WN_COMMON_INIT;
	struct vec_opts o = {NULL, NULL, "f32", 0, 0};
	struct wn_option opts[] = {
		OPT_GROUP("Vectors"),
		OPT_STRING(0, "npy", &o.npy, "FILE", "the .npy file (rows aligned with records)"),
		OPT_STRING(0, "from-field", &o.from_field, "PATH",
			   "a JSON array of numbers at this dotted path (instead of winnow.emb / --npy)"),
		OPT_INT(0, "dim", &o.dim, "N", "required dimension (default: the first vector's)"),
		OPT_STRING(0, "vec-dtype", &o.vec_dtype, "f32|f16", "dtype written (default f32)"),
		WN_COMMON_STREAM_OPTIONS(&co),
		OPT_END(),
	};
	const char *cmd = import ? "vectors import" : "vectors export";
	argc = wn_parse_options(argc, argv, opts, vectors_usage);
	if (strcmp(o.vec_dtype, "f32") && strcmp(o.vec_dtype, "f16"))
		wn_usage_error(vectors_usage, cmd, "--vec-dtype '%s': expected f32 or f16", o.vec_dtype);
	o.f16 = !strcmp(o.vec_dtype, "f16");
	if (o.dim < 0 || o.dim > MAX_DIM)
		wn_usage_error(vectors_usage, cmd, "--dim must be in 1..%d", MAX_DIM);
	if (!import && !o.npy)
		wn_usage_error(vectors_usage, cmd, "--npy FILE is required");
	if (import && !o.npy == !o.from_field)
		wn_usage_error(vectors_usage, cmd, "give exactly one of --npy FILE and --from-field PATH");
	wn_stream s;
	if (wn_cmd_stream_open(&s, cmd, &co, argc, argv))
		return 1;
	int ok = !import ? vectors_export(&o, &s) : o.npy ? import_npy(&o, &s) : import_field(&o, &s);
	return wn_cmd_finish(&s, ok);
}

int cmd_vectors(int argc, const char **argv)
{
	if (argc >= 2 && (!strcmp(argv[1], "export") || !strcmp(argv[1], "import")))
		return vectors_run(argc - 1, argv + 1, !strcmp(argv[1], "import"));
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		static const struct wn_option none[] = {OPT_END()};
		wn_opts_print_help(stdout, vectors_usage, none);
		return 0;
	}
	if (argc < 2)
		wn_usage_error(vectors_usage, "vectors", "export or import?");
	wn_usage_error(vectors_usage, "vectors", "unknown action '%s' (export or import)", argv[1]);
}
