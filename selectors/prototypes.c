/*
 * selectors/prototypes.c — records, unit vectors, spherical centroids and
 * distances for the cluster-based selectors (contract in
 * selectors/prototypes.h).
 */
#include "selectors/prototypes.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/errf.h"
#include "io/json.h"
#include "io/record.h"
#include "selectors/subset.h"

void wn_proto_set_free(wn_proto_set *ps)
{
	wn_spool_free(ps->sp);
	free(ps->X);
	free(ps->cl);
	memset(ps, 0, sizeof *ps);
}

static int grow(wn_proto_set *ps)
{
	int64_t cap = ps->cap ? 2 * ps->cap : 1024;
	float *X = realloc(ps->X, sizeof(float) * (size_t)cap * (size_t)ps->d);
	if (!X)
		return -1;
	ps->X = X;
	int64_t *cl = realloc(ps->cl, sizeof(int64_t) * (size_t)cap);
	if (!cl)
		return -1;
	ps->cl = cl;
	ps->cap = cap;
	return 0;
}

/* The cluster id and unit vector of one record: 1 got them, 0 rejected, -1 stop. */
static int take(wn_proto_set *ps, wn_stream *s, const wn_record *rec, const char *fe,
		const char *fc, int64_t max_k, float *x)
{
	wn_span v;
	int64_t id;
	char why[256] = "";
	int dim = 0;
	if (!wn_json_get(rec->json, fc, &v))
		return wn_stream_reject(s, rec, "no cluster id at %s", fc) ? -1 : 0;
	if (wn_json_type_of(v) != WN_JSON_NUMBER || wn_json_int64(v, &id) || id < 0)
		return wn_stream_reject(s, rec, "%s is not a non-negative integer", fc) ? -1 : 0;
	if (id >= (int64_t)1 << 24 && id >= 4 * (ps->n + 1)) /* ids are dense cluster numbers */
		return wn_stream_reject(s, rec, "%s is %lld: cluster ids must be dense (0..k-1)", fc,
					(long long)id) ? -1 : 0;
	if (max_k > 0 && id >= max_k)
		return wn_stream_reject(s, rec, "%s is %lld but --centroids has %lld rows", fc,
					(long long)id, (long long)max_k) ? -1 : 0;
	if (wn_vec_get(rec->json, fe, x, WN_PROTO_MAX_DIM, &dim, why, sizeof why) || dim == 0)
		return wn_stream_reject(s, rec, "%s", why[0] ? why : "empty vector") ? -1 : 0;
	if (ps->d == 0)
		ps->d = dim;
	else if (dim != ps->d)
		return wn_stream_reject(s, rec, "%s has dimension %d, expected %lld", fe, dim,
					(long long)ps->d) ? -1 : 0;
	double nn = 0;
	for (int t = 0; t < dim; t++)
		nn += (double)x[t] * x[t];
	if (!(nn > 0))
		return wn_stream_reject(s, rec, "%s is the zero vector (no direction)", fe) ? -1 : 0;
	if (ps->n == ps->cap && grow(ps))
		return snprintf(s->err, sizeof s->err, "out of memory"), s->failed = 1, -1;
	float *row = ps->X + (size_t)ps->n * (size_t)ps->d;
	for (int t = 0; t < dim; t++)
		row[t] = (float)(x[t] / sqrt(nn));
	ps->cl[ps->n++] = id;
	if (id + 1 > ps->k)
		ps->k = id + 1;
	return 1;
}

int wn_proto_set_load(wn_proto_set *ps, wn_stream *s, const char *field_emb,
		      const char *field_cluster, int64_t max_k, char *err, size_t errlen)
{
	memset(ps, 0, sizeof *ps);
	if (!(ps->sp = wn_spool_new(0, err, errlen)))
		return -1;
	float *x = malloc(sizeof(float) * WN_PROTO_MAX_DIM);
	if (!x)
		return wn_errf(err, errlen, "out of memory"), -1;
	wn_record rec;
	int r, rc = 0;
	while ((r = wn_stream_next(s, &rec)) > 0) {
		int got = take(ps, s, &rec, field_emb, field_cluster, max_k, x);
		if (got < 0 || (got > 0 && wn_spool_put(ps->sp, &rec, err, errlen))) {
			rc = -1;
			break;
		}
	}
	free(x);
	return r < 0 || rc < 0 || s->failed ? -1 : 0;
}

void wn_proto_normalize_rows(float *C, int64_t k, int64_t d)
{
	for (int64_t j = 0; j < k; j++) {
		float *c = C + (size_t)j * (size_t)d;
		double nn = 0;
		for (int64_t t = 0; t < d; t++)
			nn += (double)c[t] * c[t];
		for (int64_t t = 0; nn > 0 && t < d; t++)
			c[t] = (float)(c[t] / sqrt(nn));
	}
}

int wn_proto_centroids(const float *X, const int64_t *cl, int64_t n, int64_t d, int64_t k,
		       float *C, int64_t *sizes)
{
	double *acc = calloc((size_t)(k ? k : 1) * (size_t)d, sizeof *acc);
	if (!acc)
		return -1;
	if (sizes)
		memset(sizes, 0, sizeof(int64_t) * (size_t)k);
	for (int64_t i = 0; i < n; i++) { /* rows in order: the sums do not depend on threads */
		double *a = acc + (size_t)cl[i] * (size_t)d;
		const float *x = X + (size_t)i * (size_t)d;
		for (int64_t t = 0; t < d; t++)
			a[t] += x[t];
		if (sizes)
			sizes[cl[i]]++;
	}
	for (int64_t j = 0; j < k; j++) {
		double *a = acc + (size_t)j * (size_t)d, nn = 0;
		for (int64_t t = 0; t < d; t++)
			nn += a[t] * a[t];
		for (int64_t t = 0; t < d; t++)
			C[(size_t)j * (size_t)d + t] = nn > 0 ? (float)(a[t] / sqrt(nn)) : 0.0f;
	}
	free(acc);
	return 0;
}

void wn_proto_dist(const float *X, const int64_t *cl, int64_t n, int64_t d, const float *C,
		   double *dist)
{
	for (int64_t i = 0; i < n; i++) {
		const float *x = X + (size_t)i * (size_t)d, *c = C + (size_t)cl[i] * (size_t)d;
		double ip = 0;
		for (int64_t t = 0; t < d; t++)
			ip += (double)x[t] * c[t];
		dist[i] = 1.0 - ip;
	}
}

int64_t wn_proto_select(const double *dist, const int64_t *cl, int64_t n, int64_t k, double frac,
			int easy, int per_cluster, unsigned char *keep, char *err, size_t errlen)
{
	size_t *out = malloc(sizeof *out * (size_t)(n ? n : 1)), nout = 0;
	uint32_t *group = per_cluster ? malloc(sizeof *group * (size_t)(n ? n : 1)) : NULL;
	int rc = !out || (per_cluster && !group) ? (wn_errf(err, errlen, "out of memory"), -1) : 0;
	if (!rc && per_cluster) {
		for (int64_t i = 0; i < n; i++)
			group[i] = (uint32_t)cl[i];
		wn_sel_per_opts po = {WN_SEL_WITHIN_TOP, 0, frac, easy, 0, 0};
		rc = wn_sel_per_group(group, dist, (size_t)n, (size_t)k, &po, out, &nout, err, errlen);
	} else if (!rc) {
		rc = wn_sel_top(dist, (size_t)n, wn_sel_frac_count((size_t)n, frac), easy, out, &nout,
				err, errlen);
	}
	memset(keep, 0, (size_t)(n > 0 ? n : 0));
	for (size_t i = 0; !rc && i < nout; i++)
		keep[out[i]] = 1;
	free(out);
	free(group);
	return rc ? -1 : (int64_t)nout;
}

/* Cluster, then hardest (or easiest) first, then input order. */
struct by_cluster {
	const double *dist;
	const int64_t *cl;
	int easy;
};

static int cmp_member(const void *a, const void *b, void *ctx)
{
	const struct by_cluster *c = ctx;
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	if (c->cl[x] != c->cl[y])
		return c->cl[x] < c->cl[y] ? -1 : 1;
	if (c->dist[x] != c->dist[y])
		return (c->dist[x] > c->dist[y]) == !c->easy ? -1 : 1;
	return (x > y) - (x < y);
}

int wn_proto_keep_quota(const double *dist, const int64_t *cl, int64_t n, int64_t k,
			const size_t *quota, int easy, unsigned char *keep, char *err, size_t errlen)
{
	(void)k;
	int64_t *ord = malloc(sizeof *ord * (size_t)(n ? n : 1));
	if (!ord)
		return wn_errf(err, errlen, "out of memory"), -1;
	for (int64_t i = 0; i < n; i++)
		ord[i] = i;
	struct by_cluster c = {dist, cl, easy};
	qsort_r(ord, (size_t)n, sizeof *ord, cmp_member, &c);
	memset(keep, 0, (size_t)(n > 0 ? n : 0));
	for (int64_t i = 0, rank = 0; i < n; i++) {
		rank = i > 0 && cl[ord[i]] == cl[ord[i - 1]] ? rank + 1 : 0;
		keep[ord[i]] = (size_t)rank < quota[cl[ord[i]]];
	}
	free(ord);
	return 0;
}

int wn_proto_emit(const wn_proto_set *ps, wn_stream *s, const unsigned char *keep,
		  const double *dist, const char *key, char *err, size_t errlen)
{
	if (wn_spool_rewind(ps->sp, err, errlen))
		return -1;
	wn_record rec;
	for (int64_t i = 0; i < ps->n; i++) {
		if (wn_spool_get(ps->sp, &rec, err, errlen) != 1)
			return err[0] ? -1 : (wn_errf(err, errlen, "internal: the spool ended early"), -1);
		if (!keep[i])
			continue;
		wn_annot_clear(&s->annot);
		if (wn_annot_set_double(&s->annot, key, dist[i]))
			return wn_errf(err, errlen, "out of memory"), -1;
		if (wn_stream_emit(s, &rec, &s->annot))
			return -1;
	}
	return 0;
}
