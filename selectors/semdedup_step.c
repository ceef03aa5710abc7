/*
 * selectors/semdedup_step.c — the `dedup semantic` step (see
 * selectors/semdedup_step.h): options, the records and vectors through
 * cluster/vectors.h, a second pass over the spool for the cluster ids,
 * wn_semdedup, a summary on stderr, the records written back.
 *
 * Owns: one run's cluster ids, centroids, flags and core context.
 * Borrows: cluster/vectors.h (the spool and the matrix), io/stream.h,
 * selectors/pool.h (wn_pool_cluster_id: what a cluster id is).
 */
#include "selectors/semdedup_step.h"

#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/vectors.h"
#include "io/errf.h"
#include "io/json.h"
#include "selectors/pool.h"

void wn_semdedup_step_init(wn_semdedup_step_opts *o)
{
	memset(o, 0, sizeof *o);
	o->io = (wn_stream_opts)WN_STREAM_OPTS_INIT;
	o->keep = "hard";
	o->cluster_field = "winnow.cluster";
	o->field_emb = "winnow.emb";
	o->max_cluster = 4096;
}

static int parse_eps(wn_semdedup_step_opts *o, char *err, size_t errlen)
{
	const char *p = o->eps_list;
	o->neps = 0;
	if (!p || !*p)
		return wn_errf(err, errlen, "--eps E is required (e.g. --eps 0.07, or 0.05,0.07,0.1)"), -1;
	for (;;) {
		char *end;
		errno = 0;
		double e = strtod(p, &end);
		if (end == p || errno || (*end && *end != ','))
			return wn_errf(err, errlen, "--eps: '%s' is not a list of numbers", o->eps_list), -1;
		if (!(e > 0 && e < 2))
			return wn_errf(err, errlen, "--eps must be in (0, 2) (cosine distance), got %g", e), -1;
		for (int i = 0; i < o->neps; i++)
			if (o->eps[i] == e)
				return wn_errf(err, errlen, "--eps %g is given twice", e), -1;
		if (o->neps == WN_SEMDEDUP_MAX_EPS)
			return wn_errf(err, errlen, "--eps: at most %d values", WN_SEMDEDUP_MAX_EPS), -1;
		o->eps[o->neps++] = e;
		if (!*end)
			return 0;
		p = end + 1;
	}
}

int wn_semdedup_step_check(wn_semdedup_step_opts *o, char *err, size_t errlen)
{
	if (parse_eps(o, err, errlen))
		return -1;
	o->keep_id = !strcmp(o->keep, "hard") ? WN_SEMDEDUP_HARD
		     : !strcmp(o->keep, "easy") ? WN_SEMDEDUP_EASY
		     : !strcmp(o->keep, "random") ? WN_SEMDEDUP_RANDOM : -1;
	if (o->keep_id < 0)
		return wn_errf(err, errlen, "unknown --keep '%s' (hard, easy or random)", o->keep), -1;
	if (o->seed < 0)
		return wn_errf(err, errlen, "--seed must not be negative"), -1;
	if (o->max_cluster < 1)
		return wn_errf(err, errlen, "--max-cluster must be at least 1"), -1;
	if (!o->cluster_field || !*o->cluster_field)
		return wn_errf(err, errlen, "--cluster-field needs a PATH"), -1;
	if (o->mark_only && o->neps > 1)
		return wn_errf(err, errlen, "--mark-only goes with one --eps (several always mark)"), -1;
	return 0;
}

typedef struct sd_step {
	const wn_semdedup_step_opts *o;
	wn_stream *s;
	wn_cluster_vectors v;
	int64_t *cluster;        /* per vector row; -1: rejected here */
	float *C;                /* --centroids */
	int64_t k, kd;
	unsigned char *keep;     /* n x neps */
	wn_core *core;
	wn_buf obj;
} sd_step;

/* The cluster id of one record: >= 0, or -1 rejected (go on), -2 stop. */
static int64_t record_cluster(sd_step *x, const wn_record *rec)
{
	int64_t c = 0;
	const char *f = x->o->cluster_field;
	int r = wn_pool_cluster_id(rec->json, f, &c);
	if (r == 0)
		return wn_stream_reject(x->s, rec, "no cluster at %s (run `winnow cluster kmeans "
					"--spherical` first)", f) ? -2 : -1;
	if (r < 0)
		return wn_stream_reject(x->s, rec, "%s is not a cluster id (an integer >= 0)", f)
		       ? -2 : -1;
	if (x->C && c >= x->k)
		return wn_stream_reject(x->s, rec, "%s %lld, but --centroids has %lld rows", f,
					(long long)c, (long long)x->k) ? -2 : -1;
	return c;
}

static int load_clusters(sd_step *x, char *err, size_t errlen)
{
	x->cluster = malloc(sizeof *x->cluster * (size_t)(x->v.n ? x->v.n : 1));
	if (!x->cluster)
		return wn_errf(err, errlen, "out of memory"), -1;
	if (wn_cluster_vectors_rewind(&x->v, err, errlen))
		return -1;
	wn_record rec;
	int64_t r;
	int got;
	while ((got = wn_cluster_vectors_next(&x->v, &rec, &r, err, errlen)) > 0) {
		int64_t c = record_cluster(x, &rec);
		if (c == -2)
			return -1;
		x->cluster[r] = c;
	}
	return got < 0 ? -1 : 0;
}

static int load_centroids(sd_step *x, char *err, size_t errlen)
{
	if (!x->o->centroids)
		return 0;
	if (wn_cluster_npy_load(x->o->centroids, &x->C, &x->k, &x->kd, err, errlen))
		return -1;
	if (x->k < 1)
		return wn_errf(err, errlen, "%s: no centroids", x->o->centroids), -1;
	for (int64_t i = 0; i < x->k * x->kd; i++)
		if (!isfinite(x->C[i]))
			return wn_errf(err, errlen, "%s: row %lld is not finite", x->o->centroids,
				       (long long)(i / x->kd)), -1;
	return 0;
}

static void report(const sd_step *x, const wn_semdedup_info *in)
{
	const wn_semdedup_step_opts *o = x->o;
	int64_t used = 0;
	for (int64_t i = 0; i < x->v.n; i++)
		used += x->cluster[i] >= 0;
	fprintf(stderr, "winnow %s: %lld vectors of dim %lld in %lld clusters (largest %lld, %lld "
		"similarity tiles, %lld pairs near a threshold recomputed in double), keep %s\n",
		x->s->cmd, (long long)used, (long long)x->v.d, (long long)in->clusters,
		(long long)in->largest, (long long)in->tiles, (long long)in->rechecked, o->keep);
	for (int e = 0; e < o->neps; e++) {
		int64_t kept = 0;
		for (int64_t i = 0; i < x->v.n; i++)
			kept += x->keep[(size_t)i * (size_t)o->neps + (size_t)e];
		fprintf(stderr, "winnow %s: eps %g (cosine > %g is a duplicate): kept %lld of %lld, "
			"removed %lld\n", x->s->cmd, o->eps[e], 1.0 - o->eps[e], (long long)kept,
			(long long)used, (long long)(used - kept));
	}
}

/* winnow.semdedup_keep for row r: a bool (one eps) or the object per eps. */
static int annotate(sd_step *x, int64_t r, wn_annot *a)
{
	const wn_semdedup_step_opts *o = x->o;
	const unsigned char *k = x->keep + (size_t)r * (size_t)o->neps;
	if (o->neps == 1)
		return wn_annot_set_bool(a, "semdedup_keep", k[0]);
	wn_buf_reset(&x->obj);
	int bad = wn_buf_append(&x->obj, "{", 1);
	for (int e = 0; e < o->neps && !bad; e++) {
		char key[64];
		snprintf(key, sizeof key, "%g", o->eps[e]);
		bad = (e && wn_buf_append(&x->obj, ",", 1)) || wn_json_put_string(&x->obj, key, strlen(key)) ||
		      wn_buf_printf(&x->obj, ":%s", k[e] ? "true" : "false");
	}
	return bad || wn_buf_append(&x->obj, "}", 1) ||
	       wn_annot_set_raw(a, "semdedup_keep", x->obj.data, x->obj.len);
}

static int emit_all(sd_step *x, char *err, size_t errlen)
{
	wn_stream *s = x->s;
	int mark = x->o->mark_only || x->o->neps > 1;
	if (wn_cluster_vectors_rewind(&x->v, err, errlen))
		return -1;
	wn_record rec;
	int64_t r;
	int got;
	while ((got = wn_cluster_vectors_next(&x->v, &rec, &r, err, errlen)) > 0) {
		if (x->cluster[r] < 0)
			continue;
		if (!mark) {
			if (x->keep[r] && wn_stream_emit(s, &rec, NULL))
				return -1;
			continue;
		}
		wn_annot_clear(&s->annot);
		if (annotate(x, r, &s->annot))
			return wn_errf(err, errlen, "out of memory"), -1;
		if (wn_stream_emit(s, &rec, &s->annot))
			return -1;
	}
	return got < 0 ? -1 : 0;
}

static int compute(sd_step *x, char *err, size_t errlen)
{
	const wn_semdedup_step_opts *o = x->o;
	if (x->C && x->kd != x->v.d)
		return wn_errf(err, errlen, "%s: centroids of dimension %lld for vectors of dimension %lld",
			       o->centroids, (long long)x->kd, (long long)x->v.d), -1;
	x->keep = malloc((size_t)(x->v.n ? x->v.n : 1) * (size_t)o->neps);
	if (!x->keep)
		return wn_errf(err, errlen, "out of memory"), -1;
	wn_semdedup_opts so = {o->eps, o->neps, o->keep_id, (uint64_t)o->seed, o->max_cluster,
			       o->io.threads};
	wn_semdedup_info info;
	char why[512] = "";
	if (wn_semdedup(x->core, x->v.X, x->v.n, x->v.d, x->cluster, x->C, x->k, &so, x->keep,
			&info, why, sizeof why))
		return wn_errf(err, errlen, "%s: %s", wn_stream_source_name(x->s), why), -1;
	if (!o->io.quiet)
		report(x, &info);
	return 0;
}

int wn_semdedup_step_run(const wn_semdedup_step_opts *o, wn_stream *s, wn_step_report *rep,
			 char *err, size_t errlen)
{
	(void)rep;
	sd_step x;
	memset(&x, 0, sizeof x);
	x.o = o;
	x.s = s;
	x.obj = (wn_buf)WN_BUF_INIT;
	if (o->io.threads > 0)
		omp_set_num_threads(o->io.threads);
	int rc = -1;
	if (!(x.core = wn_core_open_named(o->io.device, o->io.threads, err, errlen)))
		goto done;
	if (load_centroids(&x, err, errlen) ||
	    wn_cluster_vectors_load(&x.v, s, o->field_emb, o->npy, err, errlen) ||
	    load_clusters(&x, err, errlen) || s->failed)
		goto done;
	rc = compute(&x, err, errlen) || emit_all(&x, err, errlen) ? -1 : 0;
done:
	wn_cluster_vectors_free(&x.v);
	if (x.core)
		wn_core_close(x.core);
	free(x.cluster);
	free(x.C);
	free(x.keep);
	wn_buf_free(&x.obj);
	return rc || s->failed ? -1 : 0;
}
