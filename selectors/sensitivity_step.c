/*
 * selectors/sensitivity_step.c — the three sensitivity-score steps (see
 * selectors/sensitivity_step.h): option checks, the run around
 * selectors/sensitivity.c, the summary line and the --stats document.
 */
#include "selectors/sensitivity_step.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/vectors.h"
#include "io/errf.h"
#include "io/record.h"
#include "selectors/sensitivity.h"
#include "selectors/sensitivity_stream.h"

static const char *const score_key[] = {"leverage", "lewis", "kmeans_sensitivity"};

static void init_common(wn_sens_step_opts *o, int score)
{
	memset(o, 0, sizeof *o);
	o->io = (wn_stream_opts)WN_STREAM_OPTS_INIT;
	o->score = score;
	o->field_emb = "winnow.emb";
	o->p = NAN;
	o->tol = NAN; /* not given: resolved in stream_run, 1e-12 or 1e-6 on the float32 GEMM path */
	o->max_iter = 1000;
}

void wn_sens_leverage_step_init(wn_sens_step_opts *o) { init_common(o, WN_SENS_LEVERAGE); }
void wn_sens_lewis_step_init(wn_sens_step_opts *o) { init_common(o, WN_SENS_LEWIS); }
void wn_sens_kmeans_step_init(wn_sens_step_opts *o) { init_common(o, WN_SENS_KMEANS); }

int wn_sens_step_check(wn_sens_step_opts *o, char *err, size_t errlen)
{
	if (o->score == WN_SENS_KMEANS && (o->float32_gemm || o->io.device))
		return wn_errf(err, errlen, "--device and --float32-gemm go with leverage and lewis"), -1;
	if (!(o->ridge >= 0) || !isfinite(o->ridge))
		return wn_errf(err, errlen, "--ridge must be a finite number >= 0"), -1;
	if (o->score == WN_SENS_KMEANS) {
		if (o->bicriteria && o->k < 1)
			return wn_errf(err, errlen, "--bicriteria needs -k K (K >= 1)"), -1;
		if (!o->bicriteria && o->k)
			return wn_errf(err, errlen, "-k goes with --bicriteria (the lightweight q needs no k)"), -1;
		if (o->seed < 0)
			return wn_errf(err, errlen, "--seed must not be negative"), -1;
	}
	if (o->score != WN_SENS_LEWIS)
		return 0;
	if (isnan(o->p))
		return wn_errf(err, errlen, "--p P is required (P > 0)"), -1;
	if (!(o->p > 0) || !isfinite(o->p))
		return wn_errf(err, errlen, "--p must be a finite number > 0"), -1;
	if (!isnan(o->tol) && !(o->tol > 0 && o->tol < 1))
		return wn_errf(err, errlen, "--tol must be in (0, 1)"), -1;
	if (o->max_iter < 1)
		return wn_errf(err, errlen, "--max-iter must be at least 1"), -1;
	return 0;
}

/* --stats FILE: the JSON document, written atomically. */
static int write_stats(const char *path, cJSON *doc, char *err, size_t errlen)
{
	char *text = doc ? cJSON_PrintUnformatted(doc) : NULL;
	int rc = wn_writer_save(path, text, err, errlen);
	free(text);
	return rc;
}

static int report(const wn_sens_step_opts *o, const wn_sens_info *in, int64_t n, int64_t d,
		  const int64_t *centers, const char *gemm, const char *cmd, char *err,
		  size_t errlen)
{
	const char *how = in->method == WN_SENS_EIGEN ? "eigen, rank-deficient" : "cholesky";
	if (!o->io.quiet && gemm)
		fprintf(stderr, "winnow %s: the Gram and quadratic-form passes as float32 GEMMs on "
			"%s (float32 accuracy), the %lld x %lld factorisation on the CPU\n", cmd, gemm,
			(long long)d, (long long)d);
	if (!o->io.quiet) {
		if (o->score == WN_SENS_LEVERAGE)
			fprintf(stderr, "winnow %s: %lld vectors of dim %lld: rank %lld (%s), ridge %g, "
				"sum of scores %.10g\n", cmd, (long long)n, (long long)d,
				(long long)in->rank, how, o->ridge, in->sum);
		else if (o->score == WN_SENS_LEWIS)
			fprintf(stderr, "winnow %s: %lld vectors of dim %lld: p %g, %d iterations (%s), "
				"relative change %.3g <= %.3g, rank %lld, sum of weights %.10g%s\n",
				cmd, (long long)n, (long long)d, o->p, in->iters,
				in->damped ? "averaged" : "Cohen-Peng", in->change, o->tol,
				(long long)in->rank, in->sum,
				o->bound && o->p > 2 ? " (annotated: the bound d^(p/2-1) w)" : "");
		else if (o->bicriteria)
			fprintf(stderr, "winnow %s: %lld vectors of dim %lld: bicriteria bound from %lld "
				"k-means++ centres (k %lld, seed %lld), sum %.10g\n", cmd, (long long)n,
				(long long)d, (long long)in->rank, (long long)o->k, (long long)o->seed,
				in->sum);
		else
			fprintf(stderr, "winnow %s: %lld vectors of dim %lld: lightweight q, sum %.10g\n",
				cmd, (long long)n, (long long)d, in->sum);
	}
	if (!o->stats)
		return 0;
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "command", cmd);
	cJSON_AddNumberToObject(j, "n", (double)n);
	cJSON_AddNumberToObject(j, "dim", (double)d);
	cJSON_AddNumberToObject(j, "sum", in->sum);
	if (o->score != WN_SENS_KMEANS) {
		cJSON_AddNumberToObject(j, "rank", (double)in->rank);
		cJSON_AddStringToObject(j, "solve", in->method == WN_SENS_EIGEN ? "eigen" : "cholesky");
		cJSON_AddStringToObject(j, "passes", gemm ? "float32-gemm" : "float64");
	}
	if (o->score == WN_SENS_LEVERAGE)
		cJSON_AddNumberToObject(j, "ridge", o->ridge);
	if (o->score == WN_SENS_LEWIS) {
		cJSON_AddNumberToObject(j, "p", o->p);
		cJSON_AddNumberToObject(j, "iterations", in->iters);
		cJSON_AddNumberToObject(j, "relative_change", in->change);
		cJSON_AddNumberToObject(j, "tol", o->tol);
		cJSON_AddStringToObject(j, "iteration", in->damped ? "averaged" : "cohen-peng");
	}
	if (o->score == WN_SENS_KMEANS) {
		cJSON_AddStringToObject(j, "bound", o->bicriteria ? "bicriteria" : "lightweight");
		cJSON *c = o->bicriteria ? cJSON_AddArrayToObject(j, "centers") : NULL;
		for (int64_t i = 0; c && i < in->rank; i++)
			cJSON_AddItemToArray(c, cJSON_CreateNumber((double)centers[i]));
	}
	int rc = write_stats(o->stats, j, err, errlen);
	cJSON_Delete(j);
	return rc;
}

struct annot_ctx {
	const double *v;
	const char *key;
};

static int annotate(void *ctx, int64_t i, wn_annot *a)
{
	const struct annot_ctx *c = ctx;
	return wn_annot_set_double(a, c->key, c->v[i]);
}

/* --bicriteria: the D² seeding needs every vector at once (cluster/vectors.h). */
static int kmeans_run(const wn_sens_step_opts *o, wn_stream *s, char *err, size_t errlen)
{
	wn_cluster_vectors v;
	memset(&v, 0, sizeof v);
	if (wn_cluster_vectors_load(&v, s, o->field_emb, o->npy, err, errlen)) {
		wn_cluster_vectors_free(&v);
		return -1;
	}
	double *sc = malloc(sizeof(double) * (size_t)(v.n ? v.n : 1));
	int64_t *centers = o->bicriteria ? malloc(sizeof(int64_t) * (size_t)o->k) : NULL;
	char why[512] = "";
	int rc = sc && (centers || !o->bicriteria) ? 0 : (wn_errf(err, errlen, "out of memory"), -1);
	if (!rc && v.n > 0) {
		wn_sens_matrix A = {NULL, v.X, v.n, v.d};
		wn_sens_info info;
		rc = wn_sens_kmeans_bicriteria(&A, o->k, (uint64_t)o->seed, sc, centers, &info, why,
					       sizeof why);
		if (rc)
			wn_errf(err, errlen, "%s: %s", wn_stream_source_name(s), why);
		else
			rc = report(o, &info, v.n, v.d, centers, NULL, s->cmd, err, errlen);
	}
	struct annot_ctx c = {sc, score_key[o->score]};
	if (!rc)
		rc = wn_cluster_vectors_emit(&v, s, annotate, &c, err, errlen);
	free(sc);
	free(centers);
	wn_cluster_vectors_free(&v);
	return rc;
}

/* The context of the float32 GEMM path, or NULL (float64 on the host). */
static int open_gemm(const wn_sens_step_opts *o, wn_core **core, char *err, size_t errlen)
{
	*core = NULL;
	const char *dev = o->io.device ? o->io.device : "cpu";
	if (!o->float32_gemm && !strcmp(dev, "cpu"))
		return 0;
	wn_core *c = wn_core_open_named(dev, o->io.threads, err, errlen);
	if (!c)
		return -1;
	if (!o->float32_gemm && wn_core_device(c) != WN_DEVICE_CUDA) {
		wn_core_close(c); /* auto found no GPU: float64 on the host */
		return 0;
	}
	*core = c;
	return 0;
}

static int solve_stream(const wn_sens_step_opts *o, const wn_sens_source *src, wn_core *gemm,
			wn_sens_stream *t, wn_sens_info *info, char *why, size_t n)
{
	if (o->score == WN_SENS_LEVERAGE)
		return wn_sens_leverage_stream(src, gemm, o->ridge, wn_sens_stream_sink, t, info, why,
					       n);
	if (o->score == WN_SENS_KMEANS)
		return wn_sens_kmeans_lightweight_stream(src, wn_sens_stream_sink, t, info, why, n);
	return wn_sens_lewis_stream(src, gemm, o->p, o->tol, o->max_iter, o->bound,
				    wn_sens_stream_sink, t, info, why, n);
}

/* Leverage, Lewis, lightweight q: the records through the streaming source, scores by batch. */
static int stream_run(const wn_sens_step_opts *o, wn_stream *s, char *err, size_t errlen)
{
	wn_sens_stream *t = NULL;
	wn_core *gemm = NULL;
	char why[512] = "";
	if (wn_sens_stream_open(s, o->field_emb, o->npy, score_key[o->score], &t, why, sizeof why)) {
		if (why[0])
			wn_errf(err, errlen, "%s", why);
		return -1;
	}
	if (!t)
		return 0; /* no usable vector: nothing to write */
	int rc = open_gemm(o, &gemm, err, errlen);
	/* float32 quadratic forms move by ~1e-7 between iterations forever: a
	 * float64 tolerance would never be met there */
	wn_sens_step_opts resolved = *o;
	if (isnan(resolved.tol))
		resolved.tol = gemm ? 1e-6 : 1e-12;
	o = &resolved;
	wn_sens_source src;
	wn_sens_stream_source(t, &src);
	wn_sens_info info;
	if (!rc && (rc = solve_stream(o, &src, gemm, t, &info, why, sizeof why)) && why[0]) {
		if (wn_sens_stream_own_error(t))
			wn_errf(err, errlen, "%s", why);
		else
			wn_errf(err, errlen, "%s: %s", wn_stream_source_name(s), why);
	}
	if (!rc)
		rc = report(o, &info, wn_sens_stream_count(t), src.d, NULL,
			    gemm ? (wn_core_device(gemm) == WN_DEVICE_CUDA ? "cuda" : "cpu") : NULL,
			    s->cmd, err, errlen);
	if (gemm)
		wn_core_close(gemm);
	wn_sens_stream_free(t);
	return rc;
}

int wn_sens_step_run(const wn_sens_step_opts *o, wn_stream *s, wn_step_report *rep, char *err,
		     size_t errlen)
{
	(void)rep;
	if (o->io.threads > 0)
		omp_set_num_threads(o->io.threads);
	return o->score == WN_SENS_KMEANS && o->bicriteria ? kmeans_run(o, s, err, errlen)
							   : stream_run(o, s, err, errlen);
}
