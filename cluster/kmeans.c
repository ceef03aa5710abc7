/*
 * cluster/kmeans.c — k-means: engine choice, training sample, training,
 * assignment, distances and inertia (the contract is in cluster/kmeans.h).
 *
 * Owns: the glue between winnow's matrices and two engines — FAISS's
 * Clustering + IndexFlat through the official C API (implemented by
 * cluster/faiss_bridge.cc), and the compute core's wn_core_kmeans_*.
 * Borrows: FAISS, core/core.h, core/rng.h (the training sample's and the
 * k-means++ draws), core/gemm64.h (k-means++'s float64 products, tile by
 * tile, one single-threaded dgemm each). Lloyd steps after k-means++ assign small problems
 * (n*k*d <= 2^22) by a direct loop in double, larger ones by the engine.
 * k-means++ follows scikit-learn's _kmeans_plusplus (as the Vo et al. 2024
 * reference does), distances and all, written here from its description.
 *
 * Both engines see exactly the same training sample, drawn here, so FAISS's
 * own subsampling (max_points_per_centroid) is switched off. The distances
 * and the inertia are recomputed here in double for the chosen centroid,
 * so they do not depend on the engine's float rounding or thread count.
 */
#include "cluster/kmeans.h"
#include "io/clock.h"
#include "io/errf.h"

#include <limits.h>
#include <math.h>
#include <omp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <faiss/c_api/Clustering_c.h>
#include <faiss/c_api/IndexFlat_c.h>
#include <faiss/c_api/Index_c.h>
#include <faiss/c_api/error_c.h>

#include "cluster/faiss_extra.h"
#include "core/gemm64.h"
#include "core/rng.h"

/* Philox stream of the training sample (core/rng.h leaves small numbers to callers). */
#define WN_CLUSTER_STREAM_SAMPLE 0x636c000000000001ull
/* Queries per FAISS search call: bounds the result buffers, not the speed
 * (a multiple of the bridge's 512-query slices, so the cut stays the same). */
#define ASSIGN_CHUNK 65536

static const char *faiss_why(void)
{
	const char *e = faiss_get_last_error();
	return e && *e ? e : "unknown FAISS error";
}

/* CPU time of the whole process (wn_cpu_seconds): on a shared machine it says more than wall time */

int wn_cluster_parse_engine(const char *s)
{
	if (!s || !strcmp(s, "auto"))
		return WN_CLUSTER_ENGINE_AUTO;
	if (!strcmp(s, "faiss"))
		return WN_CLUSTER_ENGINE_FAISS;
	if (!strcmp(s, "core"))
		return WN_CLUSTER_ENGINE_CORE;
	return -1;
}

int wn_cluster_resolve_engine(int engine, wn_core *core)
{
	if (engine != WN_CLUSTER_ENGINE_AUTO)
		return engine;
	return core && wn_core_device(core) == WN_DEVICE_CUDA ? WN_CLUSTER_ENGINE_CORE
							      : WN_CLUSTER_ENGINE_FAISS;
}

const char *wn_cluster_engine_name(int engine)
{
	switch (engine) {
	case WN_CLUSTER_ENGINE_FAISS: return "faiss";
	case WN_CLUSTER_ENGINE_CORE: return "core";
	default: return "auto";
	}
}

/* A partial Fisher-Yates shuffle on Philox draws, then the chosen rows in
 * increasing order so training reads the data front to back. */
int wn_cluster_sample_rows(int64_t n, int64_t m, uint64_t seed, int64_t *rows_out)
{
	if (m < 0 || m > n)
		return -1;
	int64_t *perm = malloc(sizeof(int64_t) * (size_t)(n ? n : 1));
	if (!perm)
		return -1;
	for (int64_t i = 0; i < n; i++)
		perm[i] = i;
	for (int64_t i = 0; i < m; i++) {
		uint64_t r = wn_rng_u64(seed, WN_CLUSTER_STREAM_SAMPLE, (uint64_t)i);
		int64_t j = i + (int64_t)(r % (uint64_t)(n - i));
		int64_t t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
	}
	/* counting pass instead of a sort: mark, then read marks in order */
	unsigned char *mark = calloc((size_t)(n ? n : 1), 1);
	if (!mark) {
		free(perm);
		return -1;
	}
	for (int64_t i = 0; i < m; i++)
		mark[perm[i]] = 1;
	int64_t o = 0;
	for (int64_t i = 0; i < n; i++)
		if (mark[i])
			rows_out[o++] = i;
	free(mark);
	free(perm);
	return 0;
}

int wn_cluster_kmeanspp_trials(int64_t k)
{
	return 2 + (int)log((double)(k > 0 ? k : 1));
}

/*
 * k-means++ distances, computed as scikit-learn's _kmeans_plusplus does
 * (euclidean_distances(candidates, X, squared=True), float32 upcast to
 * float64 in chunks): (-2 x·c + ||c||²) + ||x||² in float64, clipped at 0.
 * The norms are computed once; each step makes ONE pass over X for all its
 * candidates, block by block (the core's wn_core_gemm64_tiles: a block of
 * rows upcast to float64, one single-threaded dgemm, candidates x rows),
 * then, on the block while it is in cache, the distances, which are kept
 * (the chosen candidate's become the new nearest distances, not
 * recomputed) and each block's potentials.
 *
 * Thread count: the block's row count depends on the dimension only, each
 * block is one dgemm call on one thread (OpenBLAS in one-thread mode: its
 * own threading splits products by the thread count and its edge kernels
 * sum in another order), and the potentials are summed block by block in
 * block order, so every bit is the same for any number of threads.
 *
 * Against the exact Σ(x - c)² (the scalar loop this replaced): the products
 * of float32 values are exact in float64, so only the sums round; the error
 * is at most (2d + 6) 2^-53 (||x||² + ||c||²) per distance, whatever order
 * dgemm sums in (tests/unit/test_cluster_kmeans.c checks it against a long
 * double reference).
 * The seeds equal the exact loop's unless a D² draw lands within that
 * rounding of a boundary of the running sum, or two candidates' potentials
 * tie within it (checked: the same seeds on the test's blobs, on its 6000
 * corpus vectors at k = 100, and on 20,000 PyPI hash embeddings of dim 256
 * at k = 1000, whose potential agreed to 14 digits). A row's distance to itself is set to exactly 0, as
 * the exact loop gave (sklearn leaves the rounding there).
 */

/* Elements (rows x dim) of one block, 256 KiB of float64. */
#define PP_BLOCK_ELEMS 32768

typedef struct pp_state {
	const float *X;
	int64_t n, d;
	int64_t rows, nblocks; /* rows per block (a function of d), blocks */
	int trials;
	double *xn;      /* n: ||x||², each row summed in column order */
	double *closest; /* n: squared distance to the nearest centre so far */
	double *cum;     /* n: running sum of closest */
	double *dist;    /* trials x n: each candidate's squared distances */
	double *part;    /* nblocks x trials: each block's potentials */
	double *cpot;    /* trials: each candidate's potential */
	double *C64;     /* trials x d: the candidates in float64 */
	int nc;          /* candidates of the pass under way */
	int64_t *cid;    /* trials: the candidates' rows */
} pp_state;

static void pp_free(pp_state *s)
{
	free(s->xn);
	free(s->closest);
	free(s->cum);
	free(s->dist);
	free(s->part);
	free(s->cpot);
	free(s->C64);
	free(s->cid);
}

static int pp_open(pp_state *s, const float *X, int64_t n, int64_t d, int trials)
{
	memset(s, 0, sizeof *s);
	s->X = X, s->n = n, s->d = d, s->trials = trials;
	s->rows = PP_BLOCK_ELEMS / d < 8 ? 8 : PP_BLOCK_ELEMS / d > 1024 ? 1024 : PP_BLOCK_ELEMS / d;
	s->nblocks = (n + s->rows - 1) / s->rows;
	size_t un = (size_t)n, ut = (size_t)trials;
	s->xn = malloc(sizeof(double) * un);
	s->closest = malloc(sizeof(double) * un);
	s->cum = malloc(sizeof(double) * un);
	s->dist = malloc(sizeof(double) * un * ut);
	s->part = malloc(sizeof(double) * (size_t)s->nblocks * ut);
	s->cpot = malloc(sizeof(double) * ut);
	s->C64 = malloc(sizeof(double) * ut * (size_t)d);
	s->cid = malloc(sizeof(int64_t) * ut);
	if (!s->xn || !s->closest || !s->cum || !s->dist || !s->part || !s->cpot || !s->C64 ||
	    !s->cid) {
		pp_free(s);
		return -1;
	}
	for (int64_t i = 0; i < n; i++)
		s->closest[i] = INFINITY; /* no centre yet: min(v, closest) = v */
#pragma omp parallel for schedule(static) if (n * d >= (1 << 18))
	for (int64_t i = 0; i < n; i++) {
		const float *x = X + (size_t)i * (size_t)d;
		double q = 0;
		for (int64_t t = 0; t < d; t++)
			q += (double)x[t] * x[t];
		s->xn[i] = q;
	}
	return 0;
}

/* Block b (rows i0 .. i0+m) for the pass's nc candidates, from their
 * products dot (nc x m): distances into dist, each candidate's potential
 * over the block into part. */
static void pp_block(void *ctx, int64_t b, int64_t i0, int64_t m, const double *dot)
{
	pp_state *s = ctx;
	for (int c = 0; c < s->nc; c++) {
		const double cn = s->xn[s->cid[c]], *xn = s->xn + i0, *cl = s->closest + i0;
		const double *dc = dot + (size_t)c * (size_t)m;
		double *out = s->dist + (size_t)c * (size_t)s->n + i0, p = 0;
		int64_t self = s->cid[c] - i0; /* in [0, m) when the candidate is in this block */
		for (int64_t r = 0; r < m; r++) {
			double v = (-2.0 * dc[r] + cn) + xn[r];
			v = v > 0 && r != self ? v : 0;
			out[r] = v;
			p += v < cl[r] ? v : cl[r];
		}
		s->part[(size_t)b * (size_t)s->trials + (size_t)c] = p;
	}
}

/* The distances of candidates cid[0 .. nc) to every row, and their
 * potentials; 0, or -1 when memory runs out. */
static int pp_pass(pp_state *s, int nc)
{
	for (int c = 0; c < nc; c++)
		for (int64_t t = 0; t < s->d; t++)
			s->C64[(size_t)c * (size_t)s->d + t] = s->X[(size_t)s->cid[c] * (size_t)s->d + t];
	s->nc = nc;
	if (wn_core_gemm64_tiles(s->C64, nc, s->X, s->n, s->d, s->rows, omp_get_max_threads(),
				 pp_block, s))
		return -1;
	for (int c = 0; c < nc; c++) {
		double p = 0;
		for (int64_t b = 0; b < s->nblocks; b++)
			p += s->part[(size_t)b * (size_t)s->trials + (size_t)c];
		s->cpot[c] = p;
	}
	return 0;
}

/* Candidate c becomes a centre: closest = min(closest, its distances), and
 * the running sum of closest for the next draws. */
static void pp_take(pp_state *s, int c)
{
	const double *dc = s->dist + (size_t)c * (size_t)s->n;
	double run = 0;
	for (int64_t i = 0; i < s->n; i++) {
		if (dc[i] < s->closest[i])
			s->closest[i] = dc[i];
		s->cum[i] = run += s->closest[i];
	}
}

/* numpy.searchsorted(cum, v, side='left'), clipped to n - 1 */
static int64_t search_left(const double *cum, int64_t n, double v)
{
	int64_t lo = 0, hi = n;
	while (lo < hi) {
		int64_t mid = lo + (hi - lo) / 2;
		if (cum[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n ? lo : n - 1;
}

/* One k-means++ step: the best of `trials` D²-drawn candidates (by the
 * potential it leaves; ties to the first, as argmin) becomes a centre;
 * returns its row (-1: out of memory) and leaves its potential in *pot. */
static int64_t kmeanspp_step(pp_state *s, wn_rng *r, double *pot)
{
	for (int t = 0; t < s->trials; t++)
		s->cid[t] = search_left(s->cum, s->n, wn_rng_next_uniform(r) * *pot);
	if (pp_pass(s, s->trials))
		return -1;
	int best = 0;
	for (int t = 1; t < s->trials; t++)
		if (s->cpot[t] < s->cpot[best])
			best = t;
	pp_take(s, best);
	*pot = s->cpot[best];
	return s->cid[best];
}

int wn_cluster_kmeanspp_dist(const float *X, int64_t n, int64_t d, const int64_t *cand, int nc,
			     double *out)
{
	for (int c = 0; c < nc; c++)
		if (cand[c] < 0 || cand[c] >= n)
			return -1;
	pp_state s;
	if (n < 1 || d < 1 || d > INT_MAX / 2 || nc < 1 || pp_open(&s, X, n, d, nc))
		return -1;
	memcpy(s.cid, cand, sizeof(int64_t) * (size_t)nc);
	int rc = pp_pass(&s, nc);
	if (!rc)
		memcpy(out, s.dist, sizeof(double) * (size_t)n * (size_t)nc);
	pp_free(&s);
	return rc;
}

/* The k draws: centres into C_out (rows into idx_out), the final potential
 * into *pot; -1 when memory runs out. */
static int pp_run(pp_state *s, uint64_t seed, int64_t k, float *C_out, int64_t *idx_out,
		  double *pot)
{
	size_t d = (size_t)s->d;
	wn_rng r;
	wn_rng_init(&r, seed, WN_CLUSTER_STREAM_KMEANSPP);
	s->cid[0] = (int64_t)wn_rng_next_below(&r, (uint64_t)s->n);
	if (pp_pass(s, 1))
		return -1;
	pp_take(s, 0);
	double p = s->cpot[0];
	int64_t c = s->cid[0];
	for (int64_t j = 0; j < k; j++) {
		if (j > 0 && (c = kmeanspp_step(s, &r, &p)) < 0)
			return -1;
		memcpy(C_out + (size_t)j * d, s->X + (size_t)c * d, sizeof(float) * d);
		if (idx_out)
			idx_out[j] = c;
	}
	*pot = p;
	return 0;
}

int wn_cluster_kmeanspp(const float *X, int64_t n, int64_t d, int64_t k, int trials,
			uint64_t seed, float *C_out, int64_t *idx_out, double *pot,
			char *err, size_t errlen)
{
	if (k < 1 || k > n || d < 1 || d > INT_MAX / 2) {
		wn_errf(err, errlen, "k-means++ needs 1 <= k <= n and a dimension (k=%lld, n=%lld, dim=%lld)",
			(long long)k, (long long)n, (long long)d);
		return -1;
	}
	if (trials <= 0)
		trials = wn_cluster_kmeanspp_trials(k);
	pp_state s;
	double p = 0;
	int rc = pp_open(&s, X, n, d, trials);
	if (!rc) {
		rc = pp_run(&s, seed, k, C_out, idx_out, &p);
		pp_free(&s);
	}
	if (rc)
		return wn_errf(err, errlen, "out of memory for k-means++"), -1;
	if (pot)
		*pot = p;
	return 0;
}

/* New centroids: the mean of each cluster in double, rows in order; an
 * empty cluster keeps its centroid; spherical ones are renormalised. */
static void update_centroids(const float *X, int64_t n, int64_t d, const int32_t *a,
			     int64_t k, int spherical, float *C, double *acc, int64_t *cnt)
{
	memset(acc, 0, sizeof(double) * (size_t)k * (size_t)d);
	memset(cnt, 0, sizeof(int64_t) * (size_t)k);
	for (int64_t i = 0; i < n; i++) {
		double *s = acc + (size_t)a[i] * (size_t)d;
		const float *x = X + (size_t)i * (size_t)d;
		for (int64_t t = 0; t < d; t++)
			s[t] += x[t];
		cnt[a[i]]++;
	}
	for (int64_t j = 0; j < k; j++) {
		if (!cnt[j])
			continue;
		double *s = acc + (size_t)j * (size_t)d, nn = 0;
		for (int64_t t = 0; t < d; t++) {
			s[t] /= (double)cnt[j];
			nn += s[t] * s[t];
		}
		double scale = spherical && nn > 0 ? 1.0 / sqrt(nn) : 1.0;
		for (int64_t t = 0; t < d; t++)
			C[(size_t)j * (size_t)d + t] = (float)(s[t] * scale);
	}
}

/* Below this many n*k*d multiply-adds an assignment is a direct loop in
 * double here: an engine call per Lloyd step costs more than the work. */
#define DIRECT_ASSIGN_MAX (1 << 22)

/* Nearest centroid of each row by squared Euclidean distance (spherical:
 * largest inner product), ties to the smaller index; the inertia in *in. */
static void assign_direct(int spherical, const float *X, int64_t n, int64_t d, const float *C,
			  int64_t k, int32_t *a, double *in)
{
	double tot = 0;
	for (int64_t i = 0; i < n; i++) {
		const float *x = X + (size_t)i * (size_t)d;
		double best = INFINITY, best_d2 = 0;
		for (int64_t j = 0; j < k; j++) {
			const float *c = C + (size_t)j * (size_t)d;
			double d2 = 0, ip = 0;
			for (int64_t t = 0; t < d; t++) {
				double df = (double)x[t] - c[t];
				d2 += df * df;
				ip += (double)x[t] * c[t];
			}
			double score = spherical ? -ip : d2;
			if (score < best) {
				best = score;
				best_d2 = d2;
				a[i] = (int32_t)j;
			}
		}
		tot += best_d2;
	}
	*in = tot;
}

static int lloyd_assign(wn_core *core, const wn_cluster_kmeans_opts *o, int engine,
			const float *X, int64_t n, int64_t d, const float *C, int32_t *a,
			double *in, char *err, size_t errlen)
{
	if ((double)n * (double)o->k * (double)d <= DIRECT_ASSIGN_MAX) {
		assign_direct(o->spherical, X, n, d, C, o->k, a, in);
		return 0;
	}
	return wn_cluster_kmeans_assign(core, engine, o->spherical, X, n, d, C, o->k, a, NULL,
					NULL, in, err, errlen);
}

/* k-means++ seeding, then niter Lloyd updates with the engine's assignment. */
static int train_kmeanspp(wn_core *core, const wn_cluster_kmeans_opts *o, int engine,
			  const float *X, int64_t n, int64_t d, float *C, double *obj,
			  char *err, size_t errlen)
{
	if (wn_cluster_kmeanspp(X, n, d, o->k, 0, o->seed, C, NULL, NULL, err, errlen))
		return -1;
	for (int64_t j = 0; o->spherical && j < o->k; j++) { /* unit centroids from the start */
		float *c = C + (size_t)j * (size_t)d;
		double nn = 0;
		for (int64_t t = 0; t < d; t++)
			nn += (double)c[t] * c[t];
		for (int64_t t = 0; nn > 0 && t < d; t++)
			c[t] = (float)(c[t] / sqrt(nn));
	}
	int32_t *a = malloc(sizeof(int32_t) * (size_t)n);
	double *acc = malloc(sizeof(double) * (size_t)o->k * (size_t)d);
	int64_t *cnt = malloc(sizeof(int64_t) * (size_t)o->k);
	int rc = !a || !acc || !cnt ? -1 : 0;
	if (rc)
		wn_errf(err, errlen, "out of memory for k-means");
	double in = 0;
	if (!rc)
		rc = lloyd_assign(core, o, engine, X, n, d, C, a, &in, err, errlen);
	for (int it = 0; !rc && it < o->niter; it++) {
		update_centroids(X, n, d, a, o->k, o->spherical, C, acc, cnt);
		rc = lloyd_assign(core, o, engine, X, n, d, C, a, &in, err, errlen);
		if (obj)
			obj[it] = in;
	}
	free(a);
	free(acc);
	free(cnt);
	return rc;
}

static int train_faiss(const wn_cluster_kmeans_opts *o, const float *X, int64_t n, int64_t d,
		       float *C, double *obj, char *err, size_t errlen)
{
	FaissClusteringParameters cp;
	faiss_ClusteringParameters_init(&cp);
	cp.niter = o->niter;
	cp.seed = (int)((o->seed ^ (o->seed >> 31)) & 0x7fffffff);
	cp.spherical = o->spherical != 0;
	cp.verbose = 0;
	cp.min_points_per_centroid = 0;       /* no "too few points" warning on stderr */
	cp.max_points_per_centroid = INT_MAX; /* the sample is drawn by the caller */
	FaissClustering *cl = NULL;
	FaissIndex *ix = NULL;
	int rc = faiss_Clustering_new_with_params(&cl, (int)d, (int)o->k, &cp);
	if (!rc)
		rc = wn_cluster_faiss_flat_new(&ix, (int)d,
					       o->spherical ? METRIC_INNER_PRODUCT : METRIC_L2);
	if (!rc)
		rc = faiss_Clustering_train(cl, n, X, ix);
	if (rc) {
		wn_errf(err, errlen, "FAISS k-means failed: %s", faiss_why());
	} else {
		float *cent;
		size_t sz;
		faiss_Clustering_centroids(cl, &cent, &sz);
		if (sz != (size_t)(o->k * d)) {
			wn_errf(err, errlen, "FAISS k-means returned %zu values, expected %lld", sz,
				(long long)(o->k * d));
			rc = -1;
		} else {
			memcpy(C, cent, sizeof(float) * sz);
		}
		for (int i = 0; !rc && obj && i < o->niter; i++) {
			float v = NAN;
			wn_cluster_faiss_iteration(cl, (size_t)i, &v, NULL);
			obj[i] = v;
		}
	}
	if (ix)
		faiss_Index_free(ix);
	if (cl)
		faiss_Clustering_free(cl);
	return rc ? -1 : 0;
}

/* Lloyd on the core; with `a` (n entries), the assignment to the trained
 * centroids too, in the same call (kmeans_fit: the points stay on the GPU). */
static int train_core(wn_core *core, const wn_cluster_kmeans_opts *o, const float *X, int64_t n,
		      int64_t d, float *C, double *obj, int32_t *a, char *err, size_t errlen)
{
	if (!core) {
		wn_errf(err, errlen, "k-means on the core needs a compute context");
		return -1;
	}
	int metric = o->spherical ? WN_METRIC_IP : WN_METRIC_L2;
	if (a ? wn_core_kmeans_fit(core, metric, X, n, d, o->k, o->niter, o->seed, C, obj, a, NULL)
	      : wn_core_kmeans_train(core, metric, X, n, d, o->k, o->niter, o->seed, C, obj)) {
		wn_errf(err, errlen, "k-means on %s failed: %s",
			wn_core_device(core) == WN_DEVICE_CUDA ? "cuda" : "cpu", wn_core_error(core));
		return -1;
	}
	return 0;
}

/*
 * wn_cluster_kmeans_train; when `assign` is given and the core's Lloyd
 * trains on every vector, also the engine's assignment of all n to the
 * trained centroids (*assigned = 1), made in the same core call.
 */
static int kmeans_train(wn_core *core, const wn_cluster_kmeans_opts *o, const float *X, int64_t n,
			int64_t d, float *C_out, double *obj_per_iter, int64_t *n_train,
			int32_t *assign, int *assigned, char *err, size_t errlen)
{
	if (o->k >= 1 && o->k > n) { /* before the dimension: no vectors at all has none */
		wn_errf(err, errlen, "k (%lld) is larger than the number of vectors (%lld)",
			(long long)o->k, (long long)n);
		return -1;
	}
	if (o->k < 1 || d < 1 || o->niter < 1) {
		wn_errf(err, errlen, "k-means needs k >= 1, niter >= 1 and vectors (k=%lld, niter=%d, dim=%lld)",
			(long long)o->k, o->niter, (long long)d);
		return -1;
	}
	if (o->k > INT_MAX || d > INT_MAX) {
		wn_errf(err, errlen, "k or the dimension is too large");
		return -1;
	}
	int64_t m = o->max_train > 0 && o->max_train < n ? o->max_train : n;
	if (m < o->k)
		m = o->k; /* a sample smaller than k cannot train k centroids */
	const float *T = X;
	float *sample = NULL;
	if (m < n) {
		int64_t *rows = malloc(sizeof(int64_t) * (size_t)m);
		sample = malloc(sizeof(float) * (size_t)m * (size_t)d);
		if (!rows || !sample || wn_cluster_sample_rows(n, m, o->seed, rows)) {
			free(rows);
			free(sample);
			wn_errf(err, errlen, "out of memory drawing the training sample");
			return -1;
		}
		for (int64_t i = 0; i < m; i++)
			memcpy(sample + (size_t)i * (size_t)d, X + (size_t)rows[i] * (size_t)d,
			       sizeof(float) * (size_t)d);
		free(rows);
		T = sample;
	}
	if (n_train)
		*n_train = m;
	int engine = wn_cluster_resolve_engine(o->engine, core);
	int rc = o->init == WN_CLUSTER_INIT_KMEANSPP
			 ? train_kmeanspp(core, o, engine, T, m, d, C_out, obj_per_iter, err, errlen)
		 : engine == WN_CLUSTER_ENGINE_CORE
			 ? train_core(core, o, T, m, d, C_out, obj_per_iter, T == X ? assign : NULL,
				      err, errlen)
			 : train_faiss(o, T, m, d, C_out, obj_per_iter, err, errlen);
	if (assigned)
		*assigned = !rc && assign && T == X && engine == WN_CLUSTER_ENGINE_CORE &&
			    o->init != WN_CLUSTER_INIT_KMEANSPP;
	free(sample);
	return rc;
}

int wn_cluster_kmeans_train(wn_core *core, const wn_cluster_kmeans_opts *o, const float *X,
			    int64_t n, int64_t d, float *C_out, double *obj_per_iter,
			    int64_t *n_train, char *err, size_t errlen)
{
	return kmeans_train(core, o, X, n, d, C_out, obj_per_iter, n_train, NULL, NULL, err, errlen);
}

static int assign_faiss(int spherical, const float *X, int64_t n, int64_t d, const float *C,
			int64_t k, int32_t *assign, char *err, size_t errlen)
{
	FaissIndex *ix = NULL;
	int rc = wn_cluster_faiss_flat_new(&ix, (int)d, spherical ? METRIC_INNER_PRODUCT : METRIC_L2);
	if (!rc)
		rc = faiss_Index_add(ix, k, C);
	int64_t chunk = n < ASSIGN_CHUNK ? n : ASSIGN_CHUNK;
	float *dist = malloc(sizeof(float) * (size_t)(chunk ? chunk : 1));
	idx_t *lab = malloc(sizeof(idx_t) * (size_t)(chunk ? chunk : 1));
	if (!rc && (!dist || !lab)) {
		wn_errf(err, errlen, "out of memory assigning vectors");
		rc = -1;
	} else if (rc) {
		wn_errf(err, errlen, "FAISS index failed: %s", faiss_why());
	}
	for (int64_t s = 0; !rc && s < n; s += chunk) {
		int64_t m = n - s < chunk ? n - s : chunk;
		if (faiss_Index_search(ix, m, X + (size_t)s * (size_t)d, 1, dist, lab)) {
			wn_errf(err, errlen, "FAISS search failed: %s", faiss_why());
			rc = -1;
			break;
		}
		for (int64_t i = 0; i < m; i++)
			assign[s + i] = (int32_t)(lab[i] >= 0 ? lab[i] : 0);
	}
	free(dist);
	free(lab);
	if (ix)
		faiss_Index_free(ix);
	return rc ? -1 : 0;
}

/* Squared distance of each vector to its centroid, in double, each row's
 * sum in column order (so the thread count changes nothing); four rows at a
 * time, whose sums are independent, so the adds need not wait on each other. */
static void recheck_l2(const float *X, int64_t n, int64_t d, const float *C, const int32_t *a,
		       double *d2, float *dist)
{
	int64_t nb = (n + 3) / 4;
#pragma omp parallel for schedule(static) if (n * d >= (1 << 18)) /* small: not worth waking threads */
	for (int64_t b = 0; b < nb; b++) {
		int64_t i0 = b * 4, m = n - i0 < 4 ? n - i0 : 4;
		const float *x[4], *c[4];
		double s[4] = {0, 0, 0, 0};
		for (int r = 0; r < 4; r++) {
			int64_t i = i0 + (r < m ? r : 0);
			x[r] = X + (size_t)i * (size_t)d;
			c[r] = C + (size_t)a[i] * (size_t)d;
		}
		for (int64_t t = 0; t < d; t++)
			for (int r = 0; r < 4; r++) {
				double df = (double)x[r][t] - c[r][t];
				s[r] += df * df;
			}
		for (int r = 0; r < m; r++) {
			d2[i0 + r] = s[r];
			if (dist)
				dist[i0 + r] = (float)sqrt(s[r]);
		}
	}
}

/* The same for spherical k-means: d2 as above, dist the cosine distance. */
static void recheck_spherical(const float *X, int64_t n, int64_t d, const float *C,
			      const int32_t *a, double *d2, float *dist)
{
#pragma omp parallel for schedule(static) if (n * d >= (1 << 18))
	for (int64_t i = 0; i < n; i++) {
		const float *x = X + (size_t)i * (size_t)d;
		const float *c = C + (size_t)a[i] * (size_t)d;
		double s = 0, ip = 0, xx = 0, cc = 0;
		for (int64_t t = 0; t < d; t++) {
			double df = (double)x[t] - c[t];
			s += df * df;
			ip += (double)x[t] * c[t];
			xx += (double)x[t] * x[t];
			cc += (double)c[t] * c[t];
		}
		d2[i] = s;
		if (dist)
			dist[i] = (float)(xx > 0 && cc > 0 ? 1.0 - ip / sqrt(xx * cc) : 1.0);
	}
}

/* After the engine's assignment a: each distance and the inertia in double
 * (the recheck), and the cluster sizes. */
static int assign_finish(int spherical, const float *X, int64_t n, int64_t d, const float *C,
			 int64_t k, const int32_t *a, float *dist, int64_t *sizes, double *inertia,
			 char *err, size_t errlen)
{
	double *d2 = malloc(sizeof(double) * (size_t)(n ? n : 1));
	if (!d2) {
		wn_errf(err, errlen, "out of memory assigning vectors");
		return -1;
	}
	if (spherical)
		recheck_spherical(X, n, d, C, a, d2, dist);
	else
		recheck_l2(X, n, d, C, a, d2, dist);
	double tot = 0;
	if (sizes)
		memset(sizes, 0, sizeof(int64_t) * (size_t)k);
	for (int64_t i = 0; i < n; i++) {
		tot += d2[i];
		if (sizes)
			sizes[a[i]]++;
	}
	if (inertia)
		*inertia = tot;
	free(d2);
	return 0;
}

int wn_cluster_kmeans_assign(wn_core *core, int engine, int spherical, const float *X,
			     int64_t n, int64_t d, const float *C, int64_t k, int32_t *assign,
			     float *dist, int64_t *sizes, double *inertia, char *err,
			     size_t errlen)
{
	if (k < 1 || k > INT32_MAX || d < 1) {
		wn_errf(err, errlen, "bad centroid table (k=%lld, dim=%lld)", (long long)k, (long long)d);
		return -1;
	}
	int32_t *a = assign ? assign : malloc(sizeof(int32_t) * (size_t)(n ? n : 1));
	if (!a) {
		wn_errf(err, errlen, "out of memory assigning vectors");
		return -1;
	}
	int rc;
	engine = wn_cluster_resolve_engine(engine, core);
	if (engine == WN_CLUSTER_ENGINE_CORE) {
		rc = core ? wn_core_kmeans_assign(core, spherical ? WN_METRIC_IP : WN_METRIC_L2, X, n,
						  d, C, k, a, NULL)
			  : -1;
		if (rc)
			wn_errf(err, errlen, "assignment on the core failed: %s",
				core ? wn_core_error(core) : "no compute context");
	} else {
		rc = assign_faiss(spherical, X, n, d, C, k, a, err, errlen);
	}
	if (!rc)
		rc = assign_finish(spherical, X, n, d, C, k, a, dist, sizes, inertia, err, errlen);
	if (!assign)
		free(a);
	return rc;
}

void wn_cluster_kmeans_result_free(wn_cluster_kmeans_result *res)
{
	if (!res)
		return;
	free(res->centroids);
	free(res->assign);
	free(res->dist);
	free(res->sizes);
	free(res->obj_per_iter);
	memset(res, 0, sizeof *res);
}

int wn_cluster_kmeans_run(wn_core *core, const wn_cluster_kmeans_opts *o, const float *X,
			  int64_t n, int64_t d, const float *centroids, int64_t k_given,
			  wn_cluster_kmeans_result *res, char *err, size_t errlen)
{
	memset(res, 0, sizeof *res);
	int64_t k = centroids ? k_given : o->k;
	if (centroids && o->k && o->k != k_given) {
		wn_errf(err, errlen, "-k %lld does not match the %lld given centroids",
			(long long)o->k, (long long)k_given);
		return -1;
	}
	if (k < 1) {
		wn_errf(err, errlen, "k must be at least 1");
		return -1;
	}
	res->n = n;
	res->d = d;
	res->k = k;
	res->engine = wn_cluster_resolve_engine(o->engine, core);
	res->centroids = malloc(sizeof(float) * (size_t)k * (size_t)d);
	res->assign = malloc(sizeof(int32_t) * (size_t)(n ? n : 1));
	res->dist = malloc(sizeof(float) * (size_t)(n ? n : 1));
	res->sizes = malloc(sizeof(int64_t) * (size_t)k);
	if (!centroids)
		res->obj_per_iter = malloc(sizeof(double) * (size_t)(o->niter > 0 ? o->niter : 1));
	if (!res->centroids || !res->assign || !res->dist || !res->sizes ||
	    (!centroids && !res->obj_per_iter)) {
		wn_errf(err, errlen, "out of memory for %lld vectors", (long long)n);
		wn_cluster_kmeans_result_free(res);
		return -1;
	}
	double t0 = wn_wall_seconds(), c0 = wn_cpu_seconds();
	int assigned = 0; /* the engine's assignment came with the training */
	if (centroids) {
		memcpy(res->centroids, centroids, sizeof(float) * (size_t)k * (size_t)d);
	} else {
		if (kmeans_train(core, o, X, n, d, res->centroids, res->obj_per_iter, &res->n_train,
				 res->assign, &assigned, err, errlen)) {
			wn_cluster_kmeans_result_free(res);
			return -1;
		}
		res->niter = o->niter;
	}
	double t1 = wn_wall_seconds(), c1 = wn_cpu_seconds();
	if (assigned ? assign_finish(o->spherical, X, n, d, res->centroids, k, res->assign, res->dist,
				     res->sizes, &res->inertia, err, errlen)
		     : wn_cluster_kmeans_assign(core, res->engine, o->spherical, X, n, d,
						res->centroids, k, res->assign, res->dist, res->sizes,
						&res->inertia, err, errlen)) {
		wn_cluster_kmeans_result_free(res);
		return -1;
	}
	res->train_seconds = t1 - t0;
	res->assign_seconds = wn_wall_seconds() - t1;
	res->train_cpu_seconds = c1 - c0;
	res->assign_cpu_seconds = wn_cpu_seconds() - c1;
	return 0;
}
