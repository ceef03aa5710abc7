/*
 * selectors/facility_step.c — `winnow select facility-location` (see
 * selectors/facility_step.h): vectors and costs, the kNN graph on the core,
 * the greedy run, the report and the selected records.
 */
#include "selectors/facility_step.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/vectors.h"
#include "core/core.h"
#include "io/errf.h"
#include "io/json.h"
#include "io/record.h"
#include "selectors/facility.h"

void wn_fl_step_init(wn_fl_step_opts *o)
{
	memset(o, 0, sizeof *o);
	o->io = (wn_stream_opts)WN_STREAM_OPTS_INIT;
	o->budget = NAN;
	o->knn = 10;
	o->field_emb = "winnow.emb";
}

int wn_fl_step_check(wn_fl_step_opts *o, char *err, size_t errlen)
{
	if (isnan(o->budget))
		return wn_errf(err, errlen, "--budget M is required"), -1;
	if (!(o->budget > 0) || !isfinite(o->budget) || (!o->cost && o->budget < 1))
		return wn_errf(err, errlen, "--budget must be a finite number >= 1 (> 0 with --cost)"), -1;
	if (!(o->epsilon >= 0 && o->epsilon < 1))
		return wn_errf(err, errlen, "--epsilon must be in (0, 1)"), -1;
	if (o->epsilon > 0 && (o->cost || o->plain))
		return wn_errf(err, errlen, "--epsilon goes with neither --cost nor --plain"), -1;
	if (o->knn < 1)
		return wn_errf(err, errlen, "--knn must be at least 1"), -1;
	if (o->seed < 0)
		return wn_errf(err, errlen, "--seed must not be negative"), -1;
	return 0;
}

struct fl {
	wn_cluster_vectors v;
	int64_t m;              /* candidates (vectors with a usable cost) */
	unsigned char *ok;      /* per vector: a candidate */
	double *cost;           /* m, or NULL */
	float *U;               /* m × d unit rows */
	float *self;            /* m: 1, or 0 for a zero vector */
	wn_fl_problem p;
	wn_fl_result r;
	int64_t *rank;          /* m: 1-based step, 0 = not chosen */
};

static void fl_free(struct fl *f)
{
	wn_cluster_vectors_free(&f->v);
	free(f->ok), free(f->cost), free(f->U), free(f->self), free(f->rank);
	wn_fl_free(&f->p);
	wn_fl_result_free(&f->r);
}

/* --cost: read every candidate's cost; a missing or bad one rejects the record. */
static int read_costs(struct fl *f, wn_stream *s, const char *path, char *err, size_t errlen)
{
	f->cost = malloc(sizeof(double) * (size_t)(f->v.n ? f->v.n : 1));
	if (!f->cost || wn_cluster_vectors_rewind(&f->v, err, errlen))
		return f->cost ? -1 : (wn_errf(err, errlen, "out of memory"), -1);
	wn_record rec;
	int64_t j;
	int got;
	while ((got = wn_cluster_vectors_next(&f->v, &rec, &j, err, errlen)) > 0) {
		wn_span val;
		double c = NAN;
		if (!wn_json_get(rec.json, path, &val) || wn_json_number(val, &c) || !(c > 0) ||
		    !isfinite(c)) {
			f->ok[j] = 0;
			if (wn_stream_reject(s, &rec, "--cost %s: not a number > 0", path))
				return -1;
			continue;
		}
		f->cost[f->m++] = c;
	}
	return got < 0 ? -1 : 0;
}

/* Unit rows of the candidates (compacted), and their self-similarity. */
static int unit_rows(struct fl *f, char *err, size_t errlen)
{
	int64_t d = f->v.d, c = 0;
	f->U = malloc(sizeof(float) * (size_t)(f->m ? f->m : 1) * (size_t)d);
	f->self = malloc(sizeof(float) * (size_t)(f->m ? f->m : 1));
	if (!f->U || !f->self)
		return wn_errf(err, errlen, "out of memory"), -1;
	for (int64_t j = 0; j < f->v.n; j++) {
		if (!f->ok[j])
			continue;
		const float *x = f->v.X + j * d;
		double s = 0;
		for (int64_t t = 0; t < d; t++)
			s += (double)x[t] * x[t];
		s = sqrt(s);
		for (int64_t t = 0; t < d; t++)
			f->U[c * d + t] = s > 0 ? (float)(x[t] / s) : 0.0f;
		f->self[c++] = s > 0 ? 1.0f : 0.0f;
	}
	free(f->v.X); /* U replaces the vectors: one n×d copy held, not two */
	f->v.X = NULL;
	return 0;
}

/* The cosine kNN graph on the core, then the by-candidate lists. */
static int build_graph(struct fl *f, const wn_fl_step_opts *o, char *err, size_t errlen)
{
	int64_t m = f->m, kk = o->knn + 1 < m ? o->knn + 1 : m;
	wn_core *core = wn_core_open_named(o->io.device, o->io.threads, err, errlen);
	if (!core)
		return -1;
	float *sim = malloc(sizeof(float) * (size_t)(m * kk));
	int64_t *idx = malloc(sizeof(int64_t) * (size_t)(m * kk));
	int rc = sim && idx ? 0 : (wn_errf(err, errlen, "out of memory for a %lld x %lld kNN graph",
					    (long long)m, (long long)kk), -1);
	if (!rc && wn_core_knn(core, WN_METRIC_IP, f->U, m, f->U, m, f->v.d, kk, sim, idx)) {
		wn_errf(err, errlen, "kNN search: %s", wn_core_error(core));
		rc = -1;
	}
	if (!rc && wn_fl_from_knn(&f->p, m, kk, idx, sim, f->self))
		rc = -1, wn_errf(err, errlen, "out of memory for the similarity lists");
	free(sim);
	free(idx);
	wn_core_close(core);
	return rc;
}

static const char *method_name(const wn_fl_step_opts *o)
{
	return o->epsilon > 0 ? "stochastic" : o->plain ? "plain" : "lazy";
}

static int fl_report(const wn_fl_step_opts *o, const struct fl *f, const char *cmd, char *err,
		     size_t errlen)
{
	const wn_fl_result *r = &f->r;
	double obj = r->m ? r->objective[r->m - 1] : 0;
	if (!o->io.quiet)
		fprintf(stderr, "winnow %s: %lld candidates, kNN %d: %lld selected (%s greedy%s), "
			"objective %.10g, cost %.10g of %.10g, %lld gain evaluations\n", cmd,
			(long long)f->m, o->knn, (long long)r->m, method_name(o),
			r->single ? ", the best single record beat it" : "", obj, r->cost_used,
			o->cost ? o->budget : floor(o->budget), (long long)r->evals);
	if (!o->stats)
		return 0;
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "command", cmd);
	cJSON_AddNumberToObject(j, "n", (double)f->m);
	cJSON_AddNumberToObject(j, "knn", o->knn);
	cJSON_AddNumberToObject(j, "budget", o->budget);
	cJSON_AddStringToObject(j, "method", method_name(o));
	cJSON_AddNumberToObject(j, "epsilon", o->epsilon);
	cJSON_AddNumberToObject(j, "selected", (double)r->m);
	cJSON_AddNumberToObject(j, "objective", obj);
	cJSON_AddNumberToObject(j, "cost_used", r->cost_used);
	cJSON_AddNumberToObject(j, "evaluations", (double)r->evals);
	cJSON_AddBoolToObject(j, "single", r->single);
	cJSON *ord = cJSON_AddArrayToObject(j, "order"), *ob = cJSON_AddArrayToObject(j, "objective_per_step");
	cJSON *g = cJSON_AddArrayToObject(j, "gains");
	for (int64_t t = 0; t < r->m; t++) {
		cJSON_AddItemToArray(ord, cJSON_CreateNumber((double)r->order[t]));
		cJSON_AddItemToArray(ob, cJSON_CreateNumber(r->objective[t]));
		cJSON_AddItemToArray(g, cJSON_CreateNumber(r->gain[t]));
	}
	char *text = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	int rc = wn_writer_save(o->stats, text, err, errlen);
	free(text);
	return rc;
}

/* The chosen records, in input order, with their step and gain. */
static int fl_emit(struct fl *f, wn_stream *s, char *err, size_t errlen)
{
	if (wn_cluster_vectors_rewind(&f->v, err, errlen))
		return -1;
	wn_record rec;
	int64_t j, c = 0, out = 0;
	int got;
	while ((got = wn_cluster_vectors_next(&f->v, &rec, &j, err, errlen)) > 0) {
		if (!f->ok[j])
			continue;
		int64_t k = c++;
		if (!f->rank[k])
			continue;
		rec.index = (uint64_t)out++;
		wn_annot_clear(&s->annot);
		if (wn_annot_set_int(&s->annot, "fl_rank", f->rank[k]) ||
		    wn_annot_set_double(&s->annot, "fl_gain", f->r.gain[f->rank[k] - 1]))
			return wn_errf(err, errlen, "out of memory"), -1;
		if (wn_stream_emit(s, &rec, &s->annot))
			return -1;
	}
	return got < 0 ? -1 : 0;
}

static int fl_solve(struct fl *f, const wn_fl_step_opts *o, const char *src, char *err,
		    size_t errlen)
{
	wn_fl_opts go = {o->epsilon > 0 ? WN_FL_STOCHASTIC : o->plain ? WN_FL_PLAIN : WN_FL_LAZY,
			 o->budget, f->cost, o->epsilon, (uint64_t)o->seed};
	char why[256] = "";
	if (wn_fl_greedy(&f->p, &go, &f->r, why, sizeof why))
		return wn_errf(err, errlen, "%s: %s", src, why), -1;
	if (!(f->rank = calloc((size_t)(f->m ? f->m : 1), sizeof(int64_t))))
		return wn_errf(err, errlen, "out of memory"), -1;
	for (int64_t t = 0; t < f->r.m; t++)
		f->rank[f->r.order[t]] = t + 1;
	return 0;
}

int wn_fl_step_run(const wn_fl_step_opts *o, wn_stream *s, wn_step_report *rep, char *err,
		   size_t errlen)
{
	(void)rep;
	if (o->io.threads > 0)
		omp_set_num_threads(o->io.threads);
	struct fl f;
	memset(&f, 0, sizeof f);
	int rc = wn_cluster_vectors_load(&f.v, s, o->field_emb, o->npy, err, errlen);
	if (!rc && !(f.ok = malloc((size_t)(f.v.n ? f.v.n : 1))))
		rc = -1, wn_errf(err, errlen, "out of memory");
	if (!rc) {
		memset(f.ok, 1, (size_t)(f.v.n ? f.v.n : 1));
		f.m = o->cost ? 0 : f.v.n;
	}
	if (!rc && o->cost)
		rc = read_costs(&f, s, o->cost, err, errlen);
	if (!rc && f.m > 0) {
		rc = unit_rows(&f, err, errlen);
		if (!rc)
			rc = build_graph(&f, o, err, errlen);
		if (!rc)
			rc = fl_solve(&f, o, wn_stream_source_name(s), err, errlen);
		if (!rc)
			rc = fl_report(o, &f, s->cmd, err, errlen);
		if (!rc)
			rc = fl_emit(&f, s, err, errlen);
	}
	fl_free(&f);
	return rc;
}
