/*
 * selectors/prototypes_step.c — `select prototypes` and what it shares
 * with `select dbp` (see selectors/prototypes_step.h): option checks, the
 * load / centroids / distances of one run, the --stats writer.
 */
#include "selectors/prototypes_step.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/vectors.h"
#include "io/errf.h"
#include "io/record.h"

static void in_init(wn_proto_in_opts *in)
{
	in->field_emb = "winnow.emb";
	in->field_cluster = "winnow.cluster";
	in->keep = "hard";
	in->keep_frac = NAN;
}

int wn_proto_in_check(wn_proto_in_opts *in, char *err, size_t errlen)
{
	if (!(in->keep_frac > 0 && in->keep_frac <= 1))
		return wn_errf(err, errlen, "--keep-frac F is required, with 0 < F <= 1"), -1;
	if (!strcmp(in->keep, "hard"))
		in->easy = 0;
	else if (!strcmp(in->keep, "easy"))
		in->easy = 1;
	else
		return wn_errf(err, errlen, "unknown --keep '%s' (hard or easy)", in->keep), -1;
	if (!*in->field_emb || !*in->field_cluster)
		return wn_errf(err, errlen, "--field-emb and --field-cluster must not be empty"), -1;
	return 0;
}

void wn_proto_run_close(wn_proto_run *r)
{
	wn_proto_set_free(&r->ps);
	free(r->C);
	free(r->sizes);
	free(r->dist);
	memset(r, 0, sizeof *r);
}

/* --centroids: k x d rows, unit-scaled here. */
static int load_centroids(const char *path, float **C, int64_t *k, int64_t *d, char *err,
			  size_t errlen)
{
	if (wn_cluster_npy_load(path, C, k, d, err, errlen))
		return -1;
	for (int64_t i = 0; i < *k * *d; i++)
		if (!isfinite((*C)[i]))
			return wn_errf(err, errlen, "%s: element %lld is not finite", path, (long long)i), -1;
	wn_proto_normalize_rows(*C, *k, *d);
	return 0;
}

int wn_proto_run_open(const wn_proto_in_opts *in, wn_stream *s, wn_proto_run *r, char *err,
		      size_t errlen)
{
	memset(r, 0, sizeof *r);
	int64_t kc = 0, dc = 0;
	if (in->centroids && load_centroids(in->centroids, &r->C, &kc, &dc, err, errlen))
		return -1;
	if (wn_proto_set_load(&r->ps, s, in->field_emb, in->field_cluster, kc, err, errlen))
		return -1;
	wn_proto_set *ps = &r->ps;
	if (in->centroids) {
		if (ps->n && dc != ps->d)
			return wn_errf(err, errlen, "%s has dimension %lld, the vectors %lld",
				       in->centroids, (long long)dc, (long long)ps->d), -1;
		ps->k = kc;
	}
	r->sizes = calloc((size_t)(ps->k ? ps->k : 1), sizeof *r->sizes);
	r->dist = malloc(sizeof *r->dist * (size_t)(ps->n ? ps->n : 1));
	if (!in->centroids)
		r->C = malloc(sizeof(float) * (size_t)(ps->k ? ps->k : 1) * (size_t)(ps->d ? ps->d : 1));
	if (!r->sizes || !r->dist || !r->C)
		return wn_errf(err, errlen, "out of memory"), -1;
	if (in->centroids) {
		for (int64_t i = 0; i < ps->n; i++)
			r->sizes[ps->cl[i]]++;
	} else if (wn_proto_centroids(ps->X, ps->cl, ps->n, ps->d, ps->k, r->C, r->sizes)) {
		return wn_errf(err, errlen, "out of memory"), -1;
	}
	wn_proto_dist(ps->X, ps->cl, ps->n, ps->d, r->C, r->dist);
	return 0;
}

/* ---- select prototypes ---- */

void wn_prototypes_init(wn_prototypes_opts *o)
{
	memset(o, 0, sizeof *o);
	o->io = (wn_stream_opts)WN_STREAM_OPTS_INIT;
	in_init(&o->in);
}

int wn_prototypes_check(wn_prototypes_opts *o, char *err, size_t errlen)
{
	return wn_proto_in_check(&o->in, err, errlen);
}

static int prototypes_stats(const wn_prototypes_opts *o, const wn_proto_run *r, int64_t kept,
			    const char *cmd, char *err, size_t errlen)
{
	if (!o->io.quiet)
		fprintf(stderr, "winnow %s: kept %lld of %lld records (%s, %s) from %lld clusters\n", cmd,
			(long long)kept, (long long)r->ps.n, o->in.easy ? "easiest" : "hardest",
			o->per_cluster ? "per cluster" : "globally", (long long)r->ps.k);
	if (!o->in.stats)
		return 0;
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "command", cmd);
	cJSON_AddNumberToObject(j, "n", (double)r->ps.n);
	cJSON_AddNumberToObject(j, "k", (double)r->ps.k);
	cJSON_AddNumberToObject(j, "kept", (double)kept);
	cJSON_AddStringToObject(j, "keep", o->in.easy ? "easy" : "hard");
	cJSON_AddBoolToObject(j, "per_cluster", o->per_cluster);
	char *text = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	int rc = wn_writer_save(o->in.stats, text, err, errlen);
	free(text);
	return rc;
}

int wn_prototypes_run(const wn_prototypes_opts *o, wn_stream *s, wn_step_report *rep, char *err,
		      size_t errlen)
{
	(void)rep;
	wn_proto_run r;
	int rc = wn_proto_run_open(&o->in, s, &r, err, errlen);
	unsigned char *keep = rc ? NULL : malloc((size_t)(r.ps.n ? r.ps.n : 1));
	if (!rc && !keep)
		rc = (wn_errf(err, errlen, "out of memory"), -1);
	int64_t kept = 0;
	if (!rc && (kept = wn_proto_select(r.dist, r.ps.cl, r.ps.n, r.ps.k, o->in.keep_frac,
					   o->in.easy, o->per_cluster, keep, err, errlen)) < 0)
		rc = -1;
	if (!rc)
		rc = prototypes_stats(o, &r, kept, s->cmd, err, errlen);
	if (!rc)
		rc = wn_proto_emit(&r.ps, s, keep, r.dist, "proto_dist", err, errlen);
	free(keep);
	wn_proto_run_close(&r);
	return rc;
}
