/*
 * selectors/pool.c — the candidate pool of the column-reading selectors
 * (see selectors/pool.h).
 */
#include "selectors/pool.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/errf.h"
#include "io/json.h"

static int grow(wn_pool *p, int want_cluster, int want_value)
{
	if (p->n < p->cap)
		return 0;
	int64_t nc = p->cap ? 2 * p->cap : 4096;
	if (want_cluster) {
		int64_t *c = realloc(p->cluster, sizeof(int64_t) * (size_t)nc);
		if (!c)
			return -1;
		p->cluster = c;
	}
	if (want_value) {
		double *v = realloc(p->value, sizeof(double) * (size_t)nc);
		if (!v)
			return -1;
		p->value = v;
	}
	p->cap = nc;
	return 0;
}

int wn_pool_cluster_id(wn_span json, const char *path, int64_t *c)
{
	wn_span v;
	int64_t x;
	if (!wn_json_get(json, path, &v))
		return 0;
	if (wn_json_type_of(v) != WN_JSON_NUMBER || wn_json_int64(v, &x) || x < 0)
		return -1;
	*c = x;
	return 1;
}

/* 1 ok (*out set), 0 rejected (go on), -1 stop. */
static int read_cluster(wn_stream *s, const wn_record *rec, const char *path, int64_t *out)
{
	int r = wn_pool_cluster_id(rec->json, path, out);
	if (r == 0)
		return wn_stream_reject(s, rec, "missing '%s' (--cluster)", path) ? -1 : 0;
	if (r < 0)
		return wn_stream_reject(s, rec, "'%s' is not a cluster id (an integer >= 0)",
					path) ? -1 : 0;
	return 1;
}

static int read_value(wn_stream *s, const wn_record *rec, const char *path, const char *opt,
		      double *out)
{
	wn_span v;
	double x;
	if (!wn_json_get(rec->json, path, &v))
		return wn_stream_reject(s, rec, "missing '%s' (%s)", path, opt) ? -1 : 0;
	if (wn_json_type_of(v) != WN_JSON_NUMBER || wn_json_number(v, &x) || !isfinite(x))
		return wn_stream_reject(s, rec, "'%s' is not a finite number (%s)", path, opt) ? -1 : 0;
	*out = x;
	return 1;
}

/* 1 kept, 0 rejected, -1 stop. */
static int take_one(wn_pool *p, wn_stream *s, const wn_record *rec, const char *cpath,
		    const char *vpath, const char *opt, wn_pool_take_fn take, void *ctx)
{
	wn_span w;
	int64_t c = 0;
	double x = 0;
	int r = 1;
	if (wn_json_get(rec->json, "winnow", &w) && wn_json_type_of(w) != WN_JSON_OBJECT)
		return wn_stream_reject(s, rec, "member \"winnow\" is not an object") ? -1 : 0;
	if (cpath && (r = read_cluster(s, rec, cpath, &c)) != 1)
		return r;
	if (vpath && (r = read_value(s, rec, vpath, opt, &x)) != 1)
		return r;
	if (take && (r = take(ctx, s, rec, p->n)) != 1)
		return r;
	if (grow(p, cpath != NULL, vpath != NULL))
		return snprintf(s->err, sizeof s->err, "out of memory"), s->failed = 1, -1;
	if (wn_spool_put(p->sp, rec, s->err, sizeof s->err))
		return s->failed = 1, -1;
	if (cpath)
		p->cluster[p->n] = c;
	if (vpath)
		p->value[p->n] = x;
	p->n++;
	return 1;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* Renumber the cluster ids densely, in ascending order of id. */
static int dense_clusters(wn_pool *p)
{
	int64_t *u = malloc(sizeof(int64_t) * (size_t)(p->n ? p->n : 1)), k = 0;
	if (!u)
		return -1;
	memcpy(u, p->cluster, sizeof(int64_t) * (size_t)p->n);
	qsort(u, (size_t)p->n, sizeof(int64_t), cmp_i64);
	for (int64_t i = 0; i < p->n; i++)
		if (i == 0 || u[i] != u[i - 1])
			u[k++] = u[i];
	for (int64_t i = 0; i < p->n; i++) {
		int64_t *f = bsearch(&p->cluster[i], u, (size_t)k, sizeof(int64_t), cmp_i64);
		p->cluster[i] = f - u;
	}
	p->nclusters = k;
	free(u);
	return 0;
}

int wn_pool_read(wn_pool *p, wn_stream *s, const char *cluster_path, const char *value_path,
		  const char *opt, wn_pool_take_fn take, void *ctx, char *err, size_t errlen)
{
	memset(p, 0, sizeof *p);
	p->sp = wn_spool_new(0, err, errlen);
	if (!p->sp)
		return -1;
	wn_record rec;
	int r;
	while ((r = wn_stream_next(s, &rec)) > 0)
		if (take_one(p, s, &rec, cluster_path, value_path, opt, take, ctx) < 0 || s->failed)
			return -1;
	if (r < 0 || s->failed)
		return -1;
	if (cluster_path && dense_clusters(p))
		return wn_errf(err, errlen, "out of memory"), -1;
	return 0;
}

void wn_pool_free(wn_pool *p)
{
	wn_spool_free(p->sp);
	free(p->cluster);
	free(p->value);
	memset(p, 0, sizeof *p);
}

int wn_pool_emit(wn_pool *p, wn_stream *s, wn_pool_annotate_fn fn, void *ctx, char *err,
		  size_t errlen)
{
	if (wn_spool_rewind(p->sp, err, errlen))
		return -1;
	wn_record rec;
	for (int64_t i = 0; i < p->n; i++) {
		if (wn_spool_get(p->sp, &rec, err, errlen) != 1)
			return err[0] ? -1 : (wn_errf(err, errlen, "internal: the spool ended early"), -1);
		wn_annot_clear(&s->annot);
		int k = fn(ctx, i, &s->annot);
		if (k < 0)
			return wn_errf(err, errlen, "out of memory"), -1;
		if (k && wn_stream_emit(s, &rec, &s->annot))
			return -1;
	}
	return 0;
}
