/*
 * selectors/volume_step.c — `winnow select volume` (see
 * selectors/volume_step.h): the SVD, one projection-DPP draw, the report
 * and the drawn records with their weights.
 */
#include "selectors/volume_step.h"

#include <cjson/cJSON.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/vectors.h"
#include "io/errf.h"
#include "io/json.h"
#include "io/record.h"
#include "selectors/volume.h"

#define VOL_STREAM 0x564f4c0000000001ull /* "VOL": the draw's uniforms */

void wn_vol_step_init(wn_vol_step_opts *o)
{
	memset(o, 0, sizeof *o);
	o->io = (wn_stream_opts)WN_STREAM_OPTS_INIT;
	o->field_emb = "winnow.emb";
}

int wn_vol_step_check(wn_vol_step_opts *o, char *err, size_t errlen)
{
	if (o->sample < 1)
		return wn_errf(err, errlen, "--sample M is required (M >= 1)"), -1;
	if (o->seed < 0)
		return wn_errf(err, errlen, "--seed must not be negative"), -1;
	return 0;
}

struct vol {
	wn_cluster_vectors v;
	double *U, *sv, *pi, *work;
	int64_t *S, *rank_of, rank;
};

static void vol_free(struct vol *w)
{
	wn_cluster_vectors_free(&w->v);
	free(w->U), free(w->sv), free(w->pi), free(w->work), free(w->S), free(w->rank_of);
}

static int vol_draw(struct vol *w, const wn_vol_step_opts *o, const char *src, char *err,
		    size_t errlen)
{
	int64_t n = w->v.n, d = w->v.d, m = o->sample, k = n < d ? n : d;
	if (m > k)
		return wn_errf(err, errlen, "%s: --sample %lld exceeds min(n, d) = %lld", src,
			       (long long)m, (long long)k), -1;
	w->sv = malloc(sizeof(double) * (size_t)k);
	w->pi = malloc(sizeof(double) * (size_t)n);
	w->work = malloc(sizeof(double) * (size_t)(n + m * m));
	w->S = malloc(sizeof(int64_t) * (size_t)m);
	w->rank_of = calloc((size_t)n, sizeof(int64_t));
	if (!w->sv || !w->pi || !w->work || !w->S || !w->rank_of)
		return wn_errf(err, errlen, "out of memory for %lld x %lld singular vectors",
			       (long long)n, (long long)m), -1;
	char why[256];
	if (wn_vol_top_singular(w->v.X, NULL, n, d, m, &w->U, w->sv, &w->rank, why, sizeof why))
		return wn_errf(err, errlen, "%s: %s", src, why), -1;
	if (m > w->rank)
		return wn_errf(err, errlen, "%s: --sample %lld exceeds the rank %lld of the vectors",
			       src, (long long)m, (long long)w->rank), -1;
	for (int64_t i = 0; i < n; i++) {
		double s = 0;
		for (int64_t t = 0; t < m; t++)
			s += w->U[i * m + t] * w->U[i * m + t];
		w->pi[i] = s;
	}
	if (wn_vol_dpp_sample(w->U, n, m, (uint64_t)o->seed, VOL_STREAM, w->S, w->work))
		return wn_errf(err, errlen, "%s: the DPP draw lost orthogonality", src), -1;
	for (int64_t t = 0; t < m; t++)
		w->rank_of[w->S[t]] = t + 1;
	return 0;
}

static int vol_report(const wn_vol_step_opts *o, const struct vol *w, const char *cmd, char *err,
		      size_t errlen)
{
	double sumw = 0;
	for (int64_t t = 0; t < o->sample; t++)
		sumw += 1.0 / w->pi[w->S[t]];
	if (!o->io.quiet)
		fprintf(stderr, "winnow %s: %lld vectors of dim %lld, rank %lld: %lld drawn (projection "
			"DPP over the top %lld singular vectors, seed %lld), sum of weights %.10g\n",
			cmd, (long long)w->v.n, (long long)w->v.d, (long long)w->rank,
			(long long)o->sample, (long long)o->sample, (long long)o->seed, sumw);
	if (!o->stats)
		return 0;
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "command", cmd);
	cJSON_AddNumberToObject(j, "n", (double)w->v.n);
	cJSON_AddNumberToObject(j, "dim", (double)w->v.d);
	cJSON_AddNumberToObject(j, "rank", (double)w->rank);
	cJSON_AddNumberToObject(j, "sample", (double)o->sample);
	cJSON_AddNumberToObject(j, "seed", (double)o->seed);
	cJSON_AddNumberToObject(j, "sum_weights", sumw);
	cJSON *sv = cJSON_AddArrayToObject(j, "singular_values"), *ord = cJSON_AddArrayToObject(j, "order");
	for (int64_t t = 0; t < o->sample; t++) {
		cJSON_AddItemToArray(sv, cJSON_CreateNumber(w->sv[t]));
		cJSON_AddItemToArray(ord, cJSON_CreateNumber((double)w->S[t]));
	}
	char *text = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	int rc = wn_writer_save(o->stats, text, err, errlen);
	free(text);
	return rc;
}

static int vol_emit(struct vol *w, wn_stream *s, char *err, size_t errlen)
{
	if (wn_cluster_vectors_rewind(&w->v, err, errlen))
		return -1;
	int64_t k, out = 0;
	wn_record rec;
	int got;
	while ((got = wn_cluster_vectors_next(&w->v, &rec, &k, err, errlen)) > 0) {
		if (!w->rank_of[k])
			continue;
		rec.index = (uint64_t)out++;
		wn_annot_clear(&s->annot);
		if (wn_annot_set_int(&s->annot, "dpp_rank", w->rank_of[k]) ||
		    wn_annot_set_double(&s->annot, "dpp_p", w->pi[k]) ||
		    wn_annot_set_double(&s->annot, "weight", 1.0 / w->pi[k]))
			return wn_errf(err, errlen, "out of memory"), -1;
		if (wn_stream_emit(s, &rec, &s->annot))
			return -1;
	}
	return got < 0 ? -1 : 0;
}

int wn_vol_step_run(const wn_vol_step_opts *o, wn_stream *s, wn_step_report *rep, char *err,
		    size_t errlen)
{
	(void)rep;
	if (o->io.threads > 0)
		omp_set_num_threads(o->io.threads);
	struct vol w;
	memset(&w, 0, sizeof w);
	int rc = wn_cluster_vectors_load(&w.v, s, o->field_emb, o->npy, err, errlen);
	if (!rc && w.v.n > 0) {
		rc = vol_draw(&w, o, wn_stream_source_name(s), err, errlen);
		if (!rc)
			rc = vol_report(o, &w, s->cmd, err, errlen);
		if (!rc)
			rc = vol_emit(&w, s, err, errlen);
	}
	vol_free(&w);
	return rc;
}
