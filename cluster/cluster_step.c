/*
 * cluster/cluster_step.c — the three clustering steps (see
 * cluster/cluster_step.h): option checks, the run around each algorithm,
 * the summary line on stderr and the --stats document.
 */
#include "cluster/cluster_step.h"

#include <cjson/cJSON.h>
#include <limits.h>
#include <math.h>
#include <omp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "cluster/vectors.h"
#include "io/clock.h"
#include "io/errf.h"

#define VEC_OPTS_INIT {NULL, "winnow.emb", NULL, "auto", WN_CLUSTER_ENGINE_AUTO}

void wn_cluster_kmeans_step_init(wn_cluster_kmeans_step_opts *o)
{
	*o = (wn_cluster_kmeans_step_opts){WN_STREAM_OPTS_INIT, VEC_OPTS_INIT,
					   WN_CLUSTER_KMEANS_OPTS_INIT, 0, NULL, NULL};
}

void wn_cluster_hkmeans_step_init(wn_cluster_hkmeans_step_opts *o)
{
	memset(o, 0, sizeof *o);
	o->io = (wn_stream_opts)WN_STREAM_OPTS_INIT;
	o->vec = (wn_cluster_vec_opts)VEC_OPTS_INIT;
	o->km = (wn_cluster_kmeans_opts)WN_CLUSTER_KMEANS_OPTS_INIT;
	o->km.niter = 50; /* the reference's n_iters */
	o->init = "kmeans++";
	o->strategy = "closest";
	o->hk.resamples = 10; /* the official configs' n_resampling_steps */
}

void wn_cluster_graph_step_init(wn_cluster_graph_step_opts *o)
{
	*o = (wn_cluster_graph_step_opts){WN_STREAM_OPTS_INIT, VEC_OPTS_INIT,
					  WN_CLUSTER_GRAPH_OPTS_INIT, NAN, "auto"};
}

static int check_engine(wn_cluster_vec_opts *v, char *err, size_t errlen)
{
	v->engine_id = wn_cluster_parse_engine(v->engine);
	if (v->engine_id < 0) {
		wn_errf(err, errlen, "unknown --engine '%s' (auto, faiss or core)", v->engine);
		return -1;
	}
	return 0;
}

int wn_cluster_kmeans_step_check(wn_cluster_kmeans_step_opts *o, char *err, size_t errlen)
{
	if (check_engine(&o->vec, err, errlen))
		return -1;
	if (!o->centroids_in && o->km.k < 1)
		return wn_errf(err, errlen, "-k K is required (K >= 1), or --centroids FILE"), -1;
	if (o->km.k > INT_MAX)
		return wn_errf(err, errlen, "-k must be at most %d", INT_MAX), -1;
	if (o->km.niter < 1)
		return wn_errf(err, errlen, "--niter must be at least 1"), -1;
	if (o->seed < 0 || o->km.max_train < 0)
		return wn_errf(err, errlen, "--seed and --max-train must not be negative"), -1;
	o->km.seed = (uint64_t)o->seed;
	o->km.engine = o->vec.engine_id;
	return 0;
}

/* --sample-size S (every level) or S1,S2,.. (one per level); 0 = auto. */
static int check_sample_size(wn_cluster_hkmeans_step_opts *o, char *err, size_t errlen)
{
	memset(o->hk.sample_size, 0, sizeof o->hk.sample_size);
	if (!o->sample_size)
		return 0;
	int64_t v[WN_CLUSTER_HKMEANS_MAX_LEVELS];
	int n = 0;
	const char *p = o->sample_size;
	for (;;) {
		char *end;
		long long x = strtoll(p, &end, 10);
		if (end == p || x < 1 || (*end && *end != ',') || n == WN_CLUSTER_HKMEANS_MAX_LEVELS)
			return wn_errf(err, errlen, "--sample-size: '%s' is not a list of positive integers",
				       o->sample_size), -1;
		v[n++] = x;
		if (!*end)
			break;
		p = end + 1;
	}
	if (n != 1 && n != o->nlevels)
		return wn_errf(err, errlen, "--sample-size has %d values for %d levels (give 1 or %d)",
			       n, o->nlevels, o->nlevels), -1;
	for (int l = 0; l < o->nlevels; l++)
		o->hk.sample_size[l] = v[n == 1 ? 0 : l];
	return 0;
}

int wn_cluster_hkmeans_step_check(wn_cluster_hkmeans_step_opts *o, char *err, size_t errlen)
{
	if (check_engine(&o->vec, err, errlen))
		return -1;
	o->nlevels = wn_cluster_parse_levels_split(o->levels, o->ks, WN_CLUSTER_HKMEANS_MAX_LEVELS,
						   o->hk.split, err, errlen);
	if (o->nlevels < 0)
		return -1;
	if (o->km.niter < 1 || o->seed < 0 || o->km.max_train < 0)
		return wn_errf(err, errlen, "--niter must be >= 1, --seed and --max-train >= 0"), -1;
	o->km.seed = (uint64_t)o->seed;
	o->km.engine = o->vec.engine_id;
	if (!strcmp(o->init, "kmeans++"))
		o->km.init = WN_CLUSTER_INIT_KMEANSPP;
	else if (!strcmp(o->init, "random"))
		o->km.init = WN_CLUSTER_INIT_ENGINE;
	else
		return wn_errf(err, errlen, "unknown --init '%s' (kmeans++ or random)", o->init), -1;
	o->hk.strategy = wn_cluster_parse_resample_strategy(o->strategy);
	if (o->hk.strategy < 0)
		return wn_errf(err, errlen, "unknown --strategy '%s' (closest or random)", o->strategy), -1;
	if (o->hk.resamples < 0)
		return wn_errf(err, errlen, "--resamples must not be negative"), -1;
	return check_sample_size(o, err, errlen);
}

int wn_cluster_graph_step_check(wn_cluster_graph_step_opts *o, char *err, size_t errlen)
{
	if (check_engine(&o->vec, err, errlen))
		return -1;
	if (!(o->threshold >= -1 && o->threshold <= 1))
		return wn_errf(err, errlen, "--threshold T is required, with -1 <= T <= 1"), -1;
	if (o->graph.knn < 1)
		return wn_errf(err, errlen, "--knn must be at least 1"), -1;
	o->graph.threshold = o->threshold;
	o->graph.index = wn_cluster_parse_graph_index(o->index);
	if (o->graph.index < 0)
		return wn_errf(err, errlen, "unknown --index '%s' (auto, flat or hnsw)", o->index), -1;
	o->graph.engine = o->vec.engine_id;
	return 0;
}

/* ---- WINNOW_TIMING=1: where a run's time goes ---- */

/*
 * One stderr line per phase: its wall time and the user and system CPU the
 * whole process (every thread) spent meanwhile, read from getrusage. For
 * bench/kmeans_whole.sh on the GPU machine; off unless asked for.
 */
typedef struct phase_clock {
	int on;
	double wall, user, sys; /* at the start of the current phase */
} phase_clock;

static void phase_read(phase_clock *p)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	p->wall = wn_wall_seconds();
	p->user = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6;
	p->sys = (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6;
}

static void phase_start(phase_clock *p)
{
	const char *e = getenv("WINNOW_TIMING");
	p->on = e && atoi(e) > 0;
	if (p->on)
		phase_read(p);
}

/* The phase that began at the last mark ends: its line, and the next one begins. */
static void phase_end(phase_clock *p, const char *what)
{
	if (!p->on)
		return;
	phase_clock q;
	phase_read(&q);
	fprintf(stderr, "winnow timing: %-50s wall %7.3f s  user %7.3f s  sys %7.3f s\n", what,
		q.wall - p->wall, q.user - p->user, q.sys - p->sys);
	q.on = 1;
	*p = q;
}

/* A part of the phase now running, measured on its own (wall only). */
static void phase_part(const phase_clock *p, const char *what, double wall)
{
	if (p->on)
		fprintf(stderr, "winnow timing:   %-48s wall %7.3f s\n", what, wall);
}

/* ---- what every run does around its algorithm ---- */

struct run {
	wn_cluster_vectors v;
	wn_core *core;
	phase_clock clk;
};

/* The loading half of run_open, run beside the GPU's start (see run_open). */
struct load_job {
	struct run *r;
	wn_stream *s;
	const wn_cluster_vec_opts *vo;
	int threads;
	int rc;
	double wall; /* seconds the load took */
	char err[512];
};

static void *load_run(void *p)
{
	struct load_job *j = p;
	double t0 = wn_wall_seconds();
	if (j->threads > 0)
		omp_set_num_threads(j->threads); /* a per-thread setting in OpenMP */
	/* the three algorithms only read X: a .npy is used where it is mapped */
	j->rc = wn_cluster_vectors_load_mapped(&j->r->v, j->s, j->vo->field_emb, j->vo->npy, j->err,
					       sizeof j->err);
	j->wall = wn_wall_seconds() - t0;
	return NULL;
}

/* The load's parts and the core's start, then the open phase's line. */
static void open_timing(struct run *r, const struct load_job *job, double open_wall, int beside)
{
	if (!r->clk.on)
		return;
	phase_part(&r->clk, beside ? "records + vectors (beside the core's start)" : "records + vectors",
		   job->wall);
	phase_part(&r->clk, "  records read and spooled", r->v.t_records);
	phase_part(&r->clk, "  .npy opened and mapped (or read)", r->v.t_npy_open);
	phase_part(&r->clk, "  .npy rows checked for NaN/Inf", r->v.t_npy_check);
	phase_part(&r->clk, "core opened (on CUDA: context, cuBLAS)", open_wall);
	phase_end(&r->clk, "open (both)");
}

/* Whether opening the core may start a GPU (seconds of driver work). */
static int may_start_gpu(const char *device)
{
	const char *name = device && *device ? device : getenv("WINNOW_DEVICE");
	return !name || strcmp(name, "cpu") != 0;
}

/*
 * The core (unless FAISS was asked for by name), then every record and
 * vector. Where the core may start a GPU, the records and vectors are read
 * on a second thread meanwhile (the context stays on this one); a failed
 * start is still the error reported, after the reading has finished.
 */
static int run_open(struct run *r, const wn_stream_opts *io, const wn_cluster_vec_opts *vo,
		    wn_stream *s, char *err, size_t errlen)
{
	memset(r, 0, sizeof *r);
	phase_start(&r->clk);
	if (io->threads > 0)
		omp_set_num_threads(io->threads);
	int want_core = vo->engine_id != WN_CLUSTER_ENGINE_FAISS;
	struct load_job job = {r, s, vo, io->threads, 0, 0, ""};
	pthread_t th;
	int beside = want_core && may_start_gpu(io->device) && pthread_create(&th, NULL, load_run, &job) == 0;
	double t0 = wn_wall_seconds();
	if (want_core && !(r->core = wn_core_open_named(io->device, io->threads, err, errlen))) {
		if (beside)
			pthread_join(th, NULL);
		return -1;
	}
	double open_wall = wn_wall_seconds() - t0;
	if (!beside)
		load_run(&job);
	else
		pthread_join(th, NULL);
	open_timing(r, &job, open_wall, beside);
	if (job.rc && job.err[0])
		wn_errf(err, errlen, "%s", job.err);
	return job.rc;
}

static int run_close(struct run *r, int rc)
{
	wn_cluster_vectors_free(&r->v);
	if (r->core)
		wn_core_close(r->core);
	phase_end(&r->clk, "close (vectors unmapped, core closed)");
	return rc;
}

/* --stats FILE: the JSON document, written atomically. */
static int write_stats(const char *path, cJSON *doc, char *err, size_t errlen)
{
	char *text = doc ? cJSON_PrintUnformatted(doc) : NULL;
	int rc = wn_writer_save(path, text, err, errlen);
	free(text);
	return rc;
}

static cJSON *int_array(const int64_t *v, int64_t n)
{
	cJSON *a = cJSON_CreateArray();
	for (int64_t i = 0; a && i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateNumber((double)v[i]));
	return a;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* "sizes min 3, median 40, max 812, empty 0" for a size table. */
static void size_summary(const int64_t *sizes, int64_t k, char *buf, size_t n)
{
	int64_t *c = malloc(sizeof(int64_t) * (size_t)(k ? k : 1));
	if (!c || k == 0) {
		snprintf(buf, n, "no clusters");
		free(c);
		return;
	}
	memcpy(c, sizes, sizeof(int64_t) * (size_t)k);
	qsort(c, (size_t)k, sizeof *c, cmp_i64);
	int64_t empty = 0;
	for (int64_t i = 0; i < k; i++)
		empty += c[i] == 0;
	snprintf(buf, n, "sizes min %lld, median %lld, max %lld, empty %lld", (long long)c[0],
		 (long long)c[k / 2], (long long)c[k - 1], (long long)empty);
	free(c);
}

/* Shortest decimal that reads back as the same float (JSON number). */
static void put_float(char *buf, size_t n, float v)
{
	for (int p = 6; p <= 9; p++) {
		snprintf(buf, n, "%.*g", p, (double)v);
		if (strtof(buf, NULL) == v)
			return;
	}
}

/* ---- kmeans ---- */

/* Each record's "dist", formatted before the (serial) emit pass: every
 * string on its own, so the threads do not change a byte. */
#define DIST_CHARS 16 /* "1.23456789e-38" and its NUL fit */

struct kmeans_out {
	const wn_cluster_kmeans_result *res;
	char (*dist)[DIST_CHARS]; /* n strings */
};

static int format_dists(struct kmeans_out *out, const wn_cluster_kmeans_result *res)
{
	out->res = res;
	out->dist = malloc((size_t)(res->n ? res->n : 1) * sizeof *out->dist);
	if (!out->dist)
		return -1;
#pragma omp parallel for schedule(static) if (res->n >= 4096)
	for (int64_t i = 0; i < res->n; i++)
		put_float(out->dist[i], DIST_CHARS, res->dist[i]);
	return 0;
}

static int annotate_kmeans(void *ctx, int64_t i, wn_annot *a)
{
	const struct kmeans_out *out = ctx;
	const char *num = out->dist[i];
	return wn_annot_set_int(a, "cluster", out->res->assign[i]) ||
	       wn_annot_set_raw(a, "dist", num, strlen(num));
}

static cJSON *kmeans_stats(const wn_cluster_kmeans_result *res, const wn_cluster_kmeans_opts *o,
			   const char *centroids_in)
{
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "command", "cluster kmeans");
	cJSON_AddNumberToObject(j, "n", (double)res->n);
	cJSON_AddNumberToObject(j, "dim", (double)res->d);
	cJSON_AddNumberToObject(j, "k", (double)res->k);
	cJSON_AddStringToObject(j, "engine", wn_cluster_engine_name(res->engine));
	cJSON_AddBoolToObject(j, "spherical", o->spherical);
	if (centroids_in) {
		cJSON_AddStringToObject(j, "centroids", centroids_in);
	} else {
		cJSON_AddNumberToObject(j, "niter", o->niter);
		cJSON_AddNumberToObject(j, "seed", (double)o->seed);
		cJSON_AddNumberToObject(j, "n_train", (double)res->n_train);
		cJSON *obj = cJSON_AddArrayToObject(j, "objective_per_iter");
		for (int i = 0; obj && i < res->niter; i++)
			cJSON_AddItemToArray(obj, cJSON_CreateNumber(res->obj_per_iter[i]));
	}
	cJSON_AddNumberToObject(j, "inertia", res->inertia);
	cJSON_AddNumberToObject(j, "train_seconds", res->train_seconds);
	cJSON_AddNumberToObject(j, "assign_seconds", res->assign_seconds);
	cJSON_AddNumberToObject(j, "train_cpu_seconds", res->train_cpu_seconds);
	cJSON_AddNumberToObject(j, "assign_cpu_seconds", res->assign_cpu_seconds);
	cJSON_AddItemToObject(j, "sizes", int_array(res->sizes, res->k));
	return j;
}

/* --centroids FILE, checked against the vectors' dimension. */
static int load_centroids(const char *path, const wn_cluster_vectors *v, float **C, int64_t *kc,
			  int64_t *dc, char *err, size_t errlen)
{
	if (wn_cluster_npy_load(path, C, kc, dc, err, errlen))
		return -1;
	if (v->n > 0 && *dc != v->d) {
		wn_errf(err, errlen, "%s: centroids have dimension %lld, the vectors %lld", path,
			(long long)*dc, (long long)v->d);
		free(*C);
		*C = NULL;
		return -1;
	}
	return 0;
}

static int kmeans_report(const wn_cluster_kmeans_step_opts *o, const wn_cluster_kmeans_result *res,
			 const char *cmd, char *err, size_t errlen)
{
	if (o->centroids_out &&
	    wn_cluster_npy_save(o->centroids_out, res->centroids, res->k, res->d, err, errlen))
		return -1;
	if (o->vec.stats) {
		cJSON *j = kmeans_stats(res, &o->km, o->centroids_in);
		int rc = write_stats(o->vec.stats, j, err, errlen);
		cJSON_Delete(j);
		if (rc)
			return -1;
	}
	if (!o->io.quiet) {
		char sz[160];
		size_summary(res->sizes, res->k, sz, sizeof sz);
		fprintf(stderr, "winnow %s: k %lld on %lld vectors of dim %lld (%s%s): inertia %.6g; %s\n",
			cmd, (long long)res->k, (long long)res->n, (long long)res->d,
			wn_cluster_engine_name(res->engine), o->centroids_in ? ", given centroids" : "",
			res->inertia, sz);
	}
	return 0;
}

/* What the k-means "train" seconds held (WINNOW_TIMING). */
static const char *centroids_in_or_fit(const wn_cluster_kmeans_step_opts *o,
				       const wn_cluster_kmeans_result *res)
{
	if (o->centroids_in)
		return "training: none (given centroids)";
	return res->engine == WN_CLUSTER_ENGINE_CORE && res->n_train == res->n
		       ? "training + assignment (the core, kmeans_fit)"
		       : "training";
}

int wn_cluster_kmeans_step_run(const wn_cluster_kmeans_step_opts *o, wn_stream *s,
			       wn_step_report *rep, char *err, size_t errlen)
{
	(void)rep;
	struct run r;
	if (run_open(&r, &o->io, &o->vec, s, err, errlen))
		return run_close(&r, -1);
	float *C = NULL;
	int64_t kc = 0, dc = 0;
	if (o->centroids_in && load_centroids(o->centroids_in, &r.v, &C, &kc, &dc, err, errlen))
		return run_close(&r, -1);
	if (r.v.n == 0 && o->centroids_in) { /* nothing to assign: an empty output */
		free(C);
		return run_close(&r, 0);
	}
	wn_cluster_kmeans_result res;
	char why[512] = "";
	int rc = wn_cluster_kmeans_run(r.core, &o->km, r.v.X, r.v.n, r.v.d, C, kc, &res, why, sizeof why);
	free(C);
	if (rc) {
		wn_errf(err, errlen, "%s: %s", wn_stream_source_name(s), why);
		return run_close(&r, -1);
	}
	phase_part(&r.clk, centroids_in_or_fit(o, &res), res.train_seconds);
	phase_part(&r.clk, "assignment: the rest, with the double re-check", res.assign_seconds);
	phase_end(&r.clk, "k-means");
	rc = kmeans_report(o, &res, s->cmd, err, errlen);
	struct kmeans_out out = {NULL, NULL};
	if (!rc && format_dists(&out, &res))
		rc = -1, wn_errf(err, errlen, "out of memory");
	phase_end(&r.clk, "report and dist strings");
	if (!rc)
		rc = wn_cluster_vectors_emit(&r.v, s, annotate_kmeans, &out, err, errlen);
	phase_end(&r.clk, "records written");
	free(out.dist);
	wn_cluster_kmeans_result_free(&res);
	return run_close(&r, rc);
}

/* ---- hkmeans ---- */

static int annotate_hkmeans(void *ctx, int64_t i, wn_annot *a)
{
	const wn_cluster_hkmeans_result *h = ctx;
	char buf[16 * (WN_CLUSTER_HKMEANS_MAX_LEVELS + 1)];
	size_t n = 0;
	buf[n++] = '[';
	for (int l = 0; l < h->levels; l++)
		n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%d", l ? "," : "",
				      h->assign[(size_t)i * (size_t)h->levels + (size_t)l]);
	buf[n++] = ']';
	return wn_annot_set_raw(a, "hcluster", buf, n);
}

static int hkmeans_report(const wn_cluster_hkmeans_step_opts *o, const wn_cluster_hkmeans_result *h,
			  const char *cmd, char *err, size_t errlen)
{
	cJSON *j = o->vec.stats ? cJSON_CreateObject() : NULL, *lv = NULL;
	if (j) {
		cJSON_AddStringToObject(j, "command", "cluster hkmeans");
		cJSON_AddNumberToObject(j, "n", (double)h->n);
		cJSON_AddNumberToObject(j, "dim", (double)h->d);
		cJSON_AddNumberToObject(j, "niter", o->km.niter);
		cJSON_AddNumberToObject(j, "seed", (double)o->km.seed);
		cJSON_AddBoolToObject(j, "spherical", o->km.spherical);
		cJSON_AddStringToObject(j, "init", o->init);
		cJSON_AddNumberToObject(j, "resamples", o->hk.resamples);
		cJSON_AddStringToObject(j, "strategy", o->strategy);
		cJSON_AddNumberToObject(j, "split", o->hk.split);
		lv = cJSON_AddArrayToObject(j, "levels");
	}
	for (int l = 0; l < o->nlevels; l++) {
		if (!o->io.quiet) {
			char sz[160];
			size_summary(h->sizes[l], h->k[l], sz, sizeof sz);
			fprintf(stderr, "winnow %s: level %d: k %lld, inertia %.6g (%s), resamples %d (S %lld); records per cluster: %s\n",
				cmd, l + 1, (long long)h->k[l], h->inertia[l],
				l ? "of the level below's centroids" : "of the vectors",
				h->resamples_done[l], (long long)h->sample_size[l], sz);
		}
		if (lv) {
			cJSON *lo = cJSON_CreateObject();
			cJSON_AddNumberToObject(lo, "k", (double)h->k[l]);
			cJSON_AddNumberToObject(lo, "inertia", h->inertia[l]);
			cJSON_AddNumberToObject(lo, "sample_size", (double)h->sample_size[l]);
			cJSON_AddNumberToObject(lo, "resamples", h->resamples_done[l]);
			cJSON_AddItemToObject(lo, "sizes", int_array(h->sizes[l], h->k[l]));
			cJSON_AddItemToArray(lv, lo);
		}
	}
	int rc = j ? write_stats(o->vec.stats, j, err, errlen) : 0;
	cJSON_Delete(j);
	return rc;
}

int wn_cluster_hkmeans_step_run(const wn_cluster_hkmeans_step_opts *o, wn_stream *s,
				wn_step_report *rep, char *err, size_t errlen)
{
	(void)rep;
	struct run r;
	if (run_open(&r, &o->io, &o->vec, s, err, errlen))
		return run_close(&r, -1);
	wn_cluster_hkmeans_result h;
	char why[512] = "";
	if (wn_cluster_hkmeans_run(r.core, &o->km, &o->hk, o->ks, o->nlevels, r.v.X, r.v.n, r.v.d, &h, why,
				   sizeof why)) {
		wn_errf(err, errlen, "%s: %s", wn_stream_source_name(s), why);
		return run_close(&r, -1);
	}
	int rc = hkmeans_report(o, &h, s->cmd, err, errlen);
	if (!rc)
		rc = wn_cluster_vectors_emit(&r.v, s, annotate_hkmeans, &h, err, errlen);
	wn_cluster_hkmeans_result_free(&h);
	return run_close(&r, rc);
}

/* ---- graph ---- */

static int annotate_graph(void *ctx, int64_t i, wn_annot *a)
{
	const wn_cluster_graph_result *g = ctx;
	return wn_annot_set_int(a, "component", g->component[i]);
}

/* "1:900 2:40 3-4:12 5-8:3" — components by size, in power-of-two bins. */
static void size_histogram(const int64_t *sizes, int64_t nc, char *buf, size_t n)
{
	int64_t bins[64] = {0};
	int top = 0;
	for (int64_t c = 0; c < nc; c++) {
		int b = 0;
		while ((int64_t)1 << b < sizes[c])
			b++;
		bins[b]++;
		top = b > top ? b : top;
	}
	size_t o = 0;
	buf[0] = 0;
	for (int b = 0; b <= top && o < n; b++) {
		if (!bins[b])
			continue;
		int64_t lo = b ? ((int64_t)1 << (b - 1)) + 1 : 1, hi = (int64_t)1 << b;
		if (lo == hi)
			o += (size_t)snprintf(buf + o, n - o, "%s%lld:%lld", o ? " " : "", (long long)lo,
					      (long long)bins[b]);
		else
			o += (size_t)snprintf(buf + o, n - o, "%s%lld-%lld:%lld", o ? " " : "",
					      (long long)lo, (long long)hi, (long long)bins[b]);
	}
}

static int graph_report(const wn_cluster_graph_step_opts *o, const wn_cluster_graph_result *g,
			int64_t dim, const char *cmd, char *err, size_t errlen)
{
	int64_t largest = 0, multi = 0;
	for (int64_t c = 0; c < g->n_components; c++) {
		largest = g->sizes[c] > largest ? g->sizes[c] : largest;
		multi += g->sizes[c] > 1;
	}
	const char *how = g->engine == WN_CLUSTER_ENGINE_CORE ? "brute force on the core"
			  : g->index == WN_GRAPH_INDEX_HNSW   ? "FAISS HNSW"
							      : "FAISS flat";
	if (!o->io.quiet) {
		char hist[512];
		size_histogram(g->sizes, g->n_components, hist, sizeof hist);
		fprintf(stderr,
			"winnow %s: %lld vectors, %lld components (%lld with more than one, largest %lld), "
			"%llu kNN edges at cos >= %g (%s); sizes %s\n",
			cmd, (long long)g->n, (long long)g->n_components, (long long)multi,
			(long long)largest, (unsigned long long)g->edges, o->graph.threshold, how, hist);
	}
	if (!o->vec.stats)
		return 0;
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "command", "cluster graph");
	cJSON_AddNumberToObject(j, "n", (double)g->n);
	cJSON_AddNumberToObject(j, "dim", (double)dim);
	cJSON_AddNumberToObject(j, "threshold", o->graph.threshold);
	cJSON_AddNumberToObject(j, "knn", o->graph.knn);
	cJSON_AddStringToObject(j, "search", how);
	cJSON_AddNumberToObject(j, "edges", (double)g->edges);
	cJSON_AddNumberToObject(j, "components", (double)g->n_components);
	cJSON_AddNumberToObject(j, "largest", (double)largest);
	cJSON_AddItemToObject(j, "sizes", int_array(g->sizes, g->n_components));
	cJSON_AddItemToObject(j, "first", int_array(g->first, g->n_components));
	int rc = write_stats(o->vec.stats, j, err, errlen);
	cJSON_Delete(j);
	return rc;
}

int wn_cluster_graph_step_run(const wn_cluster_graph_step_opts *o, wn_stream *s,
			      wn_step_report *rep, char *err, size_t errlen)
{
	(void)rep;
	struct run r;
	if (run_open(&r, &o->io, &o->vec, s, err, errlen))
		return run_close(&r, -1);
	wn_cluster_graph_result g;
	char why[512] = "";
	if (wn_cluster_graph_run(r.core, &o->graph, r.v.X, r.v.n, r.v.d, &g, why, sizeof why)) {
		wn_errf(err, errlen, "%s: %s", wn_stream_source_name(s), why);
		return run_close(&r, -1);
	}
	int rc = graph_report(o, &g, r.v.d, s->cmd, err, errlen);
	if (!rc)
		rc = wn_cluster_vectors_emit(&r.v, s, annotate_graph, &g, err, errlen);
	wn_cluster_graph_result_free(&g);
	return run_close(&r, rc);
}
