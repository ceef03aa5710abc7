/*
 * selectors/dbp_step.c — `select dbp` (see selectors/dbp.h for the
 * formulas): the clusters present in the input, their d_intra and
 * d_inter, the quotas, and each cluster's quota of hardest (or easiest)
 * records written in input order with winnow.dbp_dist.
 *
 * Owns: the per-cluster arrays of one run. Borrows: the shared run of
 * selectors/prototypes_step.c, cJSON (--stats).
 */
#include "selectors/dbp_step.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/errf.h"
#include "io/record.h"
#include "selectors/dbp.h"
#include "selectors/subset.h"

void wn_dbp_init(wn_dbp_opts *o)
{
	memset(o, 0, sizeof *o);
	o->io = (wn_stream_opts)WN_STREAM_OPTS_INIT;
	o->in.field_emb = "winnow.emb";
	o->in.field_cluster = "winnow.cluster";
	o->in.keep = "hard";
	o->in.keep_frac = NAN;
	o->temperature = 0.5;
	o->neighbours = 20;
	o->balance = 0.5;
}

int wn_dbp_check(wn_dbp_opts *o, char *err, size_t errlen)
{
	if (wn_proto_in_check(&o->in, err, errlen))
		return -1;
	if (!(o->temperature > 0) || !isfinite(o->temperature))
		return wn_errf(err, errlen, "--temperature must be a positive number"), -1;
	if (o->neighbours < 1)
		return wn_errf(err, errlen, "--neighbours must be at least 1"), -1;
	if (!(o->balance >= 0 && o->balance <= 1))
		return wn_errf(err, errlen, "--balance must be between 0 and 1"), -1;
	return 0;
}

/* One run's clusters, compacted to those with members. */
struct dbp_clusters {
	size_t m;          /* clusters present */
	int64_t *id;       /* m: their ids */
	size_t *size;      /* m */
	double *intra, *inter;
	float *C;          /* m x d */
	wn_dbp_quotas q;   /* m each */
	size_t *quota_by_id; /* k */
	double *buf;       /* backing of intra, inter, complexity, prob */
};

static void clusters_free(struct dbp_clusters *c)
{
	free(c->id);
	free(c->size);
	free(c->buf);
	free(c->C);
	free(c->q.lb);
	free(c->q.quota);
	free(c->quota_by_id);
	memset(c, 0, sizeof *c);
}

static int clusters_build(const wn_proto_run *r, struct dbp_clusters *c, char *err, size_t errlen)
{
	const wn_proto_set *ps = &r->ps;
	memset(c, 0, sizeof *c);
	for (int64_t j = 0; j < ps->k; j++)
		c->m += r->sizes[j] > 0;
	size_t m = c->m ? c->m : 1, d = (size_t)(ps->d ? ps->d : 1);
	c->id = malloc(m * sizeof *c->id);
	c->size = malloc(m * sizeof *c->size);
	c->buf = calloc(4 * m, sizeof *c->buf);
	c->C = malloc(m * d * sizeof *c->C);
	c->q.lb = malloc(m * sizeof *c->q.lb);
	c->q.quota = malloc(m * sizeof *c->q.quota);
	c->quota_by_id = calloc((size_t)(ps->k ? ps->k : 1), sizeof *c->quota_by_id);
	if (!c->id || !c->size || !c->buf || !c->C || !c->q.lb || !c->q.quota || !c->quota_by_id)
		return wn_errf(err, errlen, "out of memory"), -1;
	c->intra = c->buf;
	c->inter = c->buf + m;
	c->q.complexity = c->buf + 2 * m;
	c->q.prob = c->buf + 3 * m;
	size_t *slot = (size_t *)c->quota_by_id; /* id -> compact index, reused below */
	for (int64_t j = 0, t = 0; j < ps->k; j++) {
		if (!r->sizes[j])
			continue;
		c->id[t] = j;
		c->size[t] = (size_t)r->sizes[j];
		slot[j] = (size_t)t;
		memcpy(c->C + (size_t)t * d, r->C + (size_t)j * d, d * sizeof *c->C);
		t++;
	}
	for (int64_t i = 0; i < ps->n; i++) /* in input order: sums do not depend on threads */
		c->intra[slot[ps->cl[i]]] += r->dist[i];
	for (size_t t = 0; t < c->m; t++)
		c->intra[t] /= (double)c->size[t];
	return 0;
}

static int dbp_stats(const wn_dbp_opts *o, const struct dbp_clusters *c, int64_t n, size_t M,
		     const char *cmd, char *err, size_t errlen)
{
	if (!o->io.quiet)
		fprintf(stderr, "winnow %s: kept %zu of %lld records (%s) over %zu clusters, "
			"temperature %g, balance %g\n", cmd, M, (long long)n,
			o->in.easy ? "easiest" : "hardest", c->m, o->temperature, o->balance);
	if (!o->in.stats)
		return 0;
	cJSON *j = cJSON_CreateObject(), *a;
	cJSON_AddStringToObject(j, "command", cmd);
	cJSON_AddNumberToObject(j, "n", (double)n);
	cJSON_AddNumberToObject(j, "keep", (double)M);
	cJSON_AddNumberToObject(j, "temperature", o->temperature);
	cJSON_AddNumberToObject(j, "neighbours", o->neighbours);
	cJSON_AddNumberToObject(j, "balance", o->balance);
	a = cJSON_AddArrayToObject(j, "clusters");
	for (size_t t = 0; t < c->m; t++) {
		cJSON *e = cJSON_CreateObject();
		cJSON_AddNumberToObject(e, "cluster", (double)c->id[t]);
		cJSON_AddNumberToObject(e, "size", (double)c->size[t]);
		cJSON_AddNumberToObject(e, "d_intra", c->intra[t]);
		cJSON_AddNumberToObject(e, "d_inter", isfinite(c->inter[t]) ? c->inter[t] : -1);
		cJSON_AddNumberToObject(e, "complexity", c->q.complexity[t]);
		cJSON_AddNumberToObject(e, "p", c->q.prob[t]);
		cJSON_AddNumberToObject(e, "lb", (double)c->q.lb[t]);
		cJSON_AddNumberToObject(e, "quota", (double)c->q.quota[t]);
		cJSON_AddItemToArray(a, e);
	}
	char *text = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	int rc = wn_writer_save(o->in.stats, text, err, errlen);
	free(text);
	return rc;
}

/* d_inter of the present clusters: among themselves, or with --centroids
 * among every row of the file, as the reference indexes all centroids. */
static int dbp_inter(const wn_dbp_opts *o, const wn_proto_run *r, struct dbp_clusters *c,
		     char *why, size_t n)
{
	if (!o->in.centroids)
		return wn_dbp_inter(c->C, (int64_t)c->m, r->ps.d, o->neighbours, c->inter, why, n);
	double *all = malloc(sizeof *all * (size_t)(r->ps.k ? r->ps.k : 1));
	if (!all)
		return wn_errf(why, n, "out of memory"), -1;
	int rc = wn_dbp_inter(r->C, r->ps.k, r->ps.d, o->neighbours, all, why, n);
	for (size_t t = 0; !rc && t < c->m; t++)
		c->inter[t] = all[c->id[t]];
	free(all);
	return rc;
}

/* The quotas of the present clusters, then by id. */
static int dbp_quotas(const wn_dbp_opts *o, const wn_proto_run *r, struct dbp_clusters *c,
		      size_t M, const char *src, char *err, size_t errlen)
{
	char why[256] = "";
	if (dbp_inter(o, r, c, why, sizeof why) ||
	    wn_dbp_quota(c->intra, c->inter, c->size, c->m, M, o->temperature, o->balance, &c->q,
			 why, sizeof why))
		return wn_errf(err, errlen, "%s: %s", src, why), -1;
	memset(c->quota_by_id, 0, sizeof *c->quota_by_id * (size_t)(r->ps.k ? r->ps.k : 1));
	for (size_t t = 0; t < c->m; t++)
		c->quota_by_id[c->id[t]] = c->q.quota[t];
	return 0;
}

int wn_dbp_run(const wn_dbp_opts *o, wn_stream *s, wn_step_report *rep, char *err, size_t errlen)
{
	(void)rep;
	wn_proto_run r;
	struct dbp_clusters c = {0};
	unsigned char *keep = NULL;
	int rc = wn_proto_run_open(&o->in, s, &r, err, errlen);
	size_t M = rc ? 0 : wn_sel_frac_count((size_t)r.ps.n, o->in.keep_frac);
	if (!rc)
		rc = clusters_build(&r, &c, err, errlen);
	if (!rc && o->balance == 0) { /* lb_j = min(1, |C_j| - 1) may exceed M */
		size_t need = 0;
		for (size_t t = 0; t < c.m; t++)
			need += c.size[t] > 1;
		if (need > M)
			rc = (wn_errf(err, errlen, "%s: --keep-frac keeps %zu records but --balance 0 "
				      "keeps at least one of each of %zu clusters",
				      wn_stream_source_name(s), M, need), -1);
	}
	if (!rc && r.ps.n > 0)
		rc = dbp_quotas(o, &r, &c, M, wn_stream_source_name(s), err, errlen);
	keep = rc ? NULL : malloc((size_t)(r.ps.n ? r.ps.n : 1));
	if (!rc && !keep)
		rc = (wn_errf(err, errlen, "out of memory"), -1);
	if (!rc)
		rc = wn_proto_keep_quota(r.dist, r.ps.cl, r.ps.n, r.ps.k, c.quota_by_id, o->in.easy,
					 keep, err, errlen);
	if (!rc)
		rc = dbp_stats(o, &c, r.ps.n, M, s->cmd, err, errlen);
	if (!rc)
		rc = wn_proto_emit(&r.ps, s, keep, r.dist, "dbp_dist", err, errlen);
	free(keep);
	clusters_free(&c);
	wn_proto_run_close(&r);
	return rc;
}
