/*
 * cluster/vectors.c — records and vectors of a clustering step (see
 * cluster/vectors.h).
 *
 * Clustering needs every vector before it can annotate the first record,
 * so records wait in the one io/ spool (memory, then an unlinked file) and
 * only the vectors are kept as a matrix.
 */
#include "cluster/vectors.h"
#include "io/clock.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "embed/npy.h"
#include "io/errf.h"

int wn_cluster_npy_load(const char *path, float **out, int64_t *rows, int64_t *cols, char *err,
			size_t errlen)
{
	*out = NULL;
	wn_embed_npy_reader *r = wn_embed_npy_open(path, err, errlen);
	if (!r)
		return -1;
	const wn_embed_npy_info *info = wn_embed_npy_reader_info(r);
	*rows = info->rows;
	*cols = info->cols;
	float *m = malloc(sizeof(float) * (size_t)(info->rows ? info->rows : 1) *
			  (size_t)(info->cols ? info->cols : 1));
	int64_t got = m ? wn_embed_npy_read(r, m, info->rows, err, errlen) : -1;
	if (!m)
		wn_errf(err, errlen, "%s: out of memory for %lld x %lld", path, (long long)info->rows,
			(long long)info->cols);
	wn_embed_npy_close(r);
	if (got != *rows) {
		if (got >= 0)
			wn_errf(err, errlen, "%s: %lld of %lld rows read", path, (long long)got, (long long)*rows);
		free(m);
		return -1;
	}
	*out = m;
	return 0;
}

int wn_cluster_npy_save(const char *path, const float *m, int64_t rows, int64_t cols, char *err,
			size_t errlen)
{
	wn_embed_npy_writer *w = wn_embed_npy_create(path, WN_EMBED_NPY_F32, cols, err, errlen);
	if (!w)
		return -1;
	if (wn_embed_npy_write(w, m, rows, err, errlen)) {
		wn_embed_npy_abort(w);
		return -1;
	}
	return wn_embed_npy_commit(w, err, errlen);
}

void wn_cluster_vectors_free(wn_cluster_vectors *v)
{
	wn_spool_free(v->sp);
	if (v->map)
		wn_embed_npy_close(v->map); /* X lies in its mapping */
	else
		free(v->X);
	free(v->dropped);
	memset(v, 0, sizeof *v);
}

static int append_vector(wn_cluster_vectors *v, const float *x)
{
	if (v->n == v->cap) {
		int64_t cap = v->cap ? v->cap * 2 : 4096;
		float *X = realloc(v->X, sizeof(float) * (size_t)cap * (size_t)v->d);
		if (!X)
			return -1;
		v->X = X;
		v->cap = cap;
	}
	memcpy(v->X + (size_t)v->n * (size_t)v->d, x, sizeof(float) * (size_t)v->d);
	v->n++;
	return 0;
}

/* The vector of one record: 1 got it, 0 rejected (go on), -1 stop. */
static int record_vector(wn_cluster_vectors *v, wn_stream *s, const wn_record *rec,
			 const char *field, float *x, wn_record *first)
{
	wn_span val;
	char why[256] = "";
	int dim = 0;
	if (!wn_json_get(rec->json, field, &val))
		return wn_stream_reject(s, rec, "no vector at %s", field) ? -1 : 0;
	if (wn_vec_parse(val, x, WN_CLUSTER_MAX_DIM, &dim, why, sizeof why) || dim == 0)
		return wn_stream_reject(s, rec, "%s: %s", field,
					dim == 0 && !why[0] ? "empty vector" : why) ? -1 : 0;
	if (v->d == 0) {
		v->d = dim;
		*first = *rec;
	} else if (dim != v->d) {
		return wn_stream_reject(s, rec, "%s has dimension %d, expected %lld (as at %s:%llu)",
					field, dim, (long long)v->d, first->file,
					(unsigned long long)first->line) ? -1 : 0;
	}
	return 1;
}

static int load_records(wn_cluster_vectors *v, wn_stream *s, const char *field, int with_vectors,
			char *err, size_t errlen)
{
	float *x = with_vectors ? malloc(sizeof(float) * WN_CLUSTER_MAX_DIM) : NULL;
	if (with_vectors && !x) {
		wn_errf(err, errlen, "out of memory");
		return -1;
	}
	wn_record rec, first = {{NULL, 0}, "", 0, 0};
	int r, rc = 0;
	while ((r = wn_stream_next(s, &rec)) > 0) {
		int got = with_vectors ? record_vector(v, s, &rec, field, x, &first) : 1;
		if (got < 0 || (got > 0 && wn_spool_put(v->sp, &rec, err, errlen))) {
			rc = -1;
			break;
		}
		if (got > 0 && with_vectors && append_vector(v, x)) {
			wn_errf(err, errlen, "out of memory for %lld vectors of dimension %lld",
				(long long)v->n + 1, (long long)v->d);
			rc = -1;
			break;
		}
		v->nspooled += got > 0;
	}
	free(x);
	return r < 0 || rc < 0 || s->failed ? -1 : 0;
}

/* Reject the records whose .npy row is not finite (a pass over the spool). */
static int reject_bad_rows(wn_cluster_vectors *v, wn_stream *s, const char *npy,
			   const int64_t *bad_col, char *err, size_t errlen)
{
	if (wn_spool_rewind(v->sp, err, errlen))
		return -1;
	wn_record rec;
	for (int64_t i = 0; i < v->nspooled; i++) {
		if (wn_spool_get(v->sp, &rec, err, errlen) != 1)
			return -1;
		if (v->dropped[i] &&
		    wn_stream_reject(s, &rec, "%s: row %lld: element %lld is not finite", npy,
				     (long long)i, (long long)bad_col[i]))
			return -1;
	}
	return 0;
}

/* Rows per block of the finiteness check: one vectorised pass over a block,
 * a row-by-row look only inside a block that has a NaN or an infinity. */
#define NPY_CHECK_ROWS 64

/* dropped[i] = 1 and bad_col[i] = its first non-finite column, for every bad row. */
static int64_t mark_bad_rows(const float *M, int64_t rows, int64_t cols, unsigned char *dropped,
			     int64_t *bad_col)
{
	int64_t nbad = 0;
	int64_t nblocks = (rows + NPY_CHECK_ROWS - 1) / NPY_CHECK_ROWS;
#pragma omp parallel for schedule(static) reduction(+ : nbad) if (rows * cols >= (1 << 22))
	for (int64_t b = 0; b < nblocks; b++) {
		int64_t r0 = b * NPY_CHECK_ROWS, r1 = r0 + NPY_CHECK_ROWS < rows ? r0 + NPY_CHECK_ROWS : rows;
		const float *blk = M + (size_t)r0 * (size_t)cols;
		if (!wn_embed_any_nonfinite(blk, (size_t)(r1 - r0) * (size_t)cols))
			continue;
		for (int64_t i = r0; i < r1; i++) {
			const float *row = M + (size_t)i * (size_t)cols;
			for (int64_t t = 0; t < cols && !dropped[i]; t++)
				if (!isfinite(row[t]))
					dropped[i] = 1, bad_col[i] = t, nbad++;
		}
	}
	return nbad;
}

/* The kept rows of M, in order: in place when M is ours, else (a read-only
 * mapping) in a new matrix. NULL: out of memory. */
static float *kept_rows(float *M, int is_map, int64_t rows, int64_t cols,
			const unsigned char *dropped, int64_t *kept)
{
	float *K = is_map ? malloc(sizeof(float) * (size_t)(rows ? rows : 1) * (size_t)cols) : M;
	int64_t o = 0;
	for (int64_t i = 0; K && i < rows; i++)
		if (!dropped[i]) {
			if (K != M || o != i) /* o <= i: moving down is safe */
				memmove(K + (size_t)o * (size_t)cols, M + (size_t)i * (size_t)cols,
					sizeof(float) * (size_t)cols);
			o++;
		}
	*kept = o;
	return K;
}

/* The .npy's rows x cols floats: mapped when allowed and possible (*r then
 * owns them), else read into a malloc'd copy (*r closed). */
static float *npy_matrix(const char *npy, int mapped, wn_embed_npy_reader **r, int64_t *rows,
			 int64_t *cols, int *is_map, char *err, size_t errlen)
{
	*r = NULL;
	*is_map = 0;
	if (mapped) {
		if (!(*r = wn_embed_npy_open(npy, err, errlen)))
			return NULL;
		const wn_embed_npy_info *info = wn_embed_npy_reader_info(*r);
		const float *m = wn_embed_npy_map(*r);
		if (m) {
			*rows = info->rows;
			*cols = info->cols;
			*is_map = 1;
			return (float *)m; /* read-only: see wn_cluster_vectors_load_mapped */
		}
		wn_embed_npy_close(*r);
		*r = NULL;
	}
	float *M;
	return wn_cluster_npy_load(npy, &M, rows, cols, err, errlen) ? NULL : M;
}

/* --npy: row i is the vector of record i; rows with NaN/Inf reject their record. */
static int load_npy(wn_cluster_vectors *v, wn_stream *s, const char *npy, int mapped, char *err,
		    size_t errlen)
{
	wn_embed_npy_reader *r;
	int64_t rows, cols;
	int is_map;
	double t0 = wn_wall_seconds();
	float *M = npy_matrix(npy, mapped, &r, &rows, &cols, &is_map, err, errlen);
	double t1 = wn_wall_seconds();
	v->t_npy_open = t1 - t0;
	if (!M)
		return -1;
	if (rows != v->nspooled || cols < 1) {
		wn_errf(err, errlen, "%s: %lld rows of dimension %lld for %lld records", npy,
			(long long)rows, (long long)cols, (long long)v->nspooled);
		if (is_map)
			wn_embed_npy_close(r);
		else
			free(M);
		return -1;
	}
	v->dropped = calloc((size_t)(rows ? rows : 1), 1);
	int64_t *bad_col = calloc((size_t)(rows ? rows : 1), sizeof *bad_col);
	int64_t nbad = v->dropped && bad_col ? mark_bad_rows(M, rows, cols, v->dropped, bad_col) : 0;
	v->t_npy_check = wn_wall_seconds() - t1;
	v->n = rows;
	v->d = cols;
	free(v->X);
	v->X = M;
	v->map = r;
	int rc = 0;
	if (!v->dropped || !bad_col) {
		wn_errf(err, errlen, "out of memory");
		rc = -1;
	} else if (nbad) {
		float *K = kept_rows(M, is_map, rows, cols, v->dropped, &v->n);
		if (is_map)
			wn_embed_npy_close(r);
		else if (!K)
			free(M);
		v->X = K;
		v->map = NULL;
		rc = K ? reject_bad_rows(v, s, npy, bad_col, err, errlen)
		       : (wn_errf(err, errlen, "out of memory"), -1);
	}
	free(bad_col);
	return rc;
}

static int vectors_load(wn_cluster_vectors *v, wn_stream *s, const char *field_emb,
			const char *npy, int mapped, char *err, size_t errlen)
{
	memset(v, 0, sizeof *v);
	if (!(v->sp = wn_spool_new(0, err, errlen)))
		return -1;
	double t0 = wn_wall_seconds();
	int rc = load_records(v, s, field_emb, npy == NULL, err, errlen);
	v->t_records = wn_wall_seconds() - t0;
	if (rc)
		return -1;
	return npy ? load_npy(v, s, npy, mapped, err, errlen) : 0;
}

int wn_cluster_vectors_load_mapped(wn_cluster_vectors *v, wn_stream *s, const char *field_emb,
				   const char *npy, char *err, size_t errlen)
{
	return vectors_load(v, s, field_emb, npy, 1, err, errlen);
}

int wn_cluster_vectors_load(wn_cluster_vectors *v, wn_stream *s, const char *field_emb,
			    const char *npy, char *err, size_t errlen)
{
	return vectors_load(v, s, field_emb, npy, 0, err, errlen);
}

int wn_cluster_vectors_rewind(wn_cluster_vectors *v, char *err, size_t errlen)
{
	v->walk_i = v->walk_row = 0;
	return wn_spool_rewind(v->sp, err, errlen) ? -1 : 0;
}

int wn_cluster_vectors_next(wn_cluster_vectors *v, wn_record *rec, int64_t *row, char *err,
			    size_t errlen)
{
	while (v->walk_i < v->nspooled) {
		int64_t i = v->walk_i++;
		if (wn_spool_get(v->sp, rec, err, errlen) != 1)
			return err[0] ? -1 : (wn_errf(err, errlen, "internal: the spool ended early"), -1);
		if (v->dropped && v->dropped[i])
			continue;
		*row = v->walk_row++;
		return 1;
	}
	return 0;
}

int wn_cluster_vectors_emit(wn_cluster_vectors *v, wn_stream *s, wn_cluster_annotate_fn fn,
			    void *ctx, char *err, size_t errlen)
{
	if (wn_spool_rewind(v->sp, err, errlen))
		return -1;
	int64_t j = 0;
	for (int64_t i = 0; i < v->nspooled; i++) {
		wn_record rec;
		if (wn_spool_get(v->sp, &rec, err, errlen) != 1)
			return -1;
		if (v->dropped && v->dropped[i])
			continue;
		rec.index = (uint64_t)j;
		wn_annot_clear(&s->annot);
		if (fn(ctx, j++, &s->annot)) {
			wn_errf(err, errlen, "out of memory");
			return -1;
		}
		if (wn_stream_emit(s, &rec, &s->annot))
			return -1;
	}
	return 0;
}
