/*
 * cluster/kmeans.h — k-means over a matrix of vectors: train K centroids,
 * assign every vector to its nearest centroid, report sizes and inertia.
 *
 * Owns: the choice of engine (FAISS's Clustering on the CPU through the C
 * API bridge, or the compute core's Lloyd iterations — on CUDA, or on the
 * CPU when asked, as the reference the two are tested against), the uniform
 * training sample (--max-train), centroid reuse (assign only, so a nightly
 * job keeps yesterday's cluster ids), and the per-vector distances.
 * Borrows: FAISS (faiss/c_api, cluster/faiss_bridge.cc), core/core.h
 * (wn_core_kmeans_train / wn_core_kmeans_assign).
 *
 * Conventions:
 *  - X is n x d row-major float32 in host memory, never modified;
 *  - L2 k-means minimises the sum of squared Euclidean distances; spherical
 *    k-means assigns by the largest inner product with unit centroids
 *    (cosine for unit vectors) and renormalises centroids after each update;
 *  - inertia is always the sum of squared Euclidean distances from each
 *    vector to its assigned centroid, computed in double in a fixed order,
 *    so it compares across engines and modes;
 *  - dist[i] is the Euclidean distance to the centroid (L2), or the cosine
 *    distance 1 - cos(x, c) (spherical);
 *  - results depend only on the inputs and the seed, not on thread counts.
 */
#ifndef WN_CLUSTER_KMEANS_H
#define WN_CLUSTER_KMEANS_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

#ifdef __cplusplus
extern "C" {
#endif

enum wn_cluster_engine {
	WN_CLUSTER_ENGINE_AUTO = 0, /* the core on CUDA, FAISS otherwise */
	WN_CLUSTER_ENGINE_FAISS = 1,
	WN_CLUSTER_ENGINE_CORE = 2, /* wn_core_kmeans_* on the context's device */
};

/* Parse "auto", "faiss" or "core"; -1 for anything else. */
int wn_cluster_parse_engine(const char *s);
/* The engine `engine` resolves to with this core (NULL = no core: FAISS). */
int wn_cluster_resolve_engine(int engine, wn_core *core);
const char *wn_cluster_engine_name(int engine);

typedef struct wn_cluster_kmeans_opts {
	int64_t k;
	int niter;         /* Lloyd iterations (FAISS's default: 25) */
	uint64_t seed;
	int spherical;
	int64_t max_train; /* train on a uniform sample of this many; 0 = all */
	int engine;        /* enum wn_cluster_engine */
	int init;          /* enum wn_cluster_init */
} wn_cluster_kmeans_opts;

enum wn_cluster_init {
	WN_CLUSTER_INIT_ENGINE = 0,   /* the engine's own (FAISS: random rows) */
	WN_CLUSTER_INIT_KMEANSPP = 1, /* k-means++ here, then Lloyd with the engine's assignment */
};

#define WN_CLUSTER_KMEANS_OPTS_INIT {0, 25, 0, 0, 0, WN_CLUSTER_ENGINE_AUTO, WN_CLUSTER_INIT_ENGINE}

/*
 * Train opts->k centroids on X (n x d) into C_out (k x d). core may be NULL
 * for the FAISS engine. When obj_per_iter is given it receives niter values:
 * the engine's own objective per iteration (FAISS: sum of distances of each
 * assignment; the core: its inertia per iteration). *n_train, when given,
 * is how many vectors were trained on. With init = WN_CLUSTER_INIT_KMEANSPP
 * the centroids start from wn_cluster_kmeanspp on the training sample and
 * take niter Lloyd updates (mean of each cluster in double, in row order;
 * an empty cluster keeps its centroid; spherical: renormalised), each
 * assignment by the engine, as the Vo et al. reference's _kmeans does; the
 * objective per iteration is then the inertia after each update.
 * Returns 0, or -1 with one line in err
 * (k > n, k < 1, niter < 1, engine failure).
 */
int wn_cluster_kmeans_train(wn_core *core, const wn_cluster_kmeans_opts *o, const float *X,
			    int64_t n, int64_t d, float *C_out, double *obj_per_iter,
			    int64_t *n_train, char *err, size_t errlen);

/*
 * Assign every vector of X to its nearest of the k centroids C (k x d):
 * assign[n], dist[n] (either may be NULL), sizes[k] (may be NULL) and
 * *inertia (may be NULL). Ties go to the smaller centroid index.
 * Returns 0, or -1 with one line in err.
 */
int wn_cluster_kmeans_assign(wn_core *core, int engine, int spherical, const float *X,
			     int64_t n, int64_t d, const float *C, int64_t k, int32_t *assign,
			     float *dist, int64_t *sizes, double *inertia, char *err,
			     size_t errlen);

/* Everything one run produces; free with wn_cluster_kmeans_result_free. */
typedef struct wn_cluster_kmeans_result {
	int64_t n, d, k;
	int64_t n_train;     /* vectors trained on (0 when centroids were given) */
	int niter;
	int engine;          /* the engine that ran (resolved) */
	float *centroids;    /* k x d */
	int32_t *assign;     /* n */
	float *dist;         /* n */
	int64_t *sizes;      /* k */
	double inertia;
	double *obj_per_iter; /* niter entries, NULL when centroids were given */
	/* wall clock; when the core trains on every vector (no --max-train
	 * sample, no k-means++), the engine's assignment is made in the same
	 * core call (wn_core_kmeans_fit: on a GPU the points stay resident) and
	 * counts as training: assign_seconds is then the double re-check alone */
	double train_seconds, assign_seconds;
	double train_cpu_seconds, assign_cpu_seconds; /* CPU of all threads */
} wn_cluster_kmeans_result;

/*
 * Train (or, when `centroids` is non-NULL, reuse those k x d centroids:
 * assign only) and assign all n vectors. opts->k must equal k_given when
 * centroids are given (or be 0: then k_given is used).
 */
int wn_cluster_kmeans_run(wn_core *core, const wn_cluster_kmeans_opts *o, const float *X,
			  int64_t n, int64_t d, const float *centroids, int64_t k_given,
			  wn_cluster_kmeans_result *res, char *err, size_t errlen);
void wn_cluster_kmeans_result_free(wn_cluster_kmeans_result *res);

/*
 * k-means++ seeding as scikit-learn's _kmeans_plusplus (and the Vo et al.
 * reference, which copies it): the first centre a uniform row; each further
 * centre the best, by the potential it leaves (sum of squared Euclidean
 * distances to the nearest centre), of `trials` rows drawn with probability
 * ∝ that squared distance (a left search of the running sum, as
 * numpy.searchsorted; ties to the first candidate). trials <= 0 means
 * wn_cluster_kmeanspp_trials(k) = 2 + floor(ln k). Draws come from Philox
 * stream WN_CLUSTER_STREAM_KMEANSPP keyed by seed, one thread, so the result
 * is a pure function of (X, k, seed) and the BLAS kernel, never of the thread
 * count. Squared distances are computed as sklearn does
 * (euclidean_distances(..., squared=True) upcast to float64):
 * ||x||² + ||c||² - 2 x·c in float64, clipped at 0, the products by one
 * dgemm per fixed block of rows; a row's distance to itself is exactly 0.
 * Against the exact Σ(x - c)² loop this replaced, each distance is within
 * (2d + 6) 2^-53 (||x||² + ||c||²); the seeds differ only where that
 * rounding decides a draw or a near-tie of potentials (none seen: the same
 * 1000 seeds on 20,000 PyPI vectors, dim 256; see kmeans.c).
 * The products go through the core's wn_core_gemm64_tiles, which puts
 * OpenBLAS in one-thread mode for each pass and gives its thread count back
 * after, so calls must not run concurrently from several threads.
 * C_out: k x d; idx_out (k rows, may be NULL); *pot (may be NULL): the final
 * potential. Returns 0, or -1 with err (k < 1, k > n, memory).
 */
#define WN_CLUSTER_STREAM_KMEANSPP 0x636c000000000002ull
int wn_cluster_kmeanspp_trials(int64_t k);
int wn_cluster_kmeanspp(const float *X, int64_t n, int64_t d, int64_t k, int trials,
			uint64_t seed, float *C_out, int64_t *idx_out, double *pot,
			char *err, size_t errlen);

/*
 * The squared distances k-means++ works with (see wn_cluster_kmeanspp),
 * from each of the nc rows cand[0 .. nc) of X to every row: out is nc x n,
 * row c for candidate c. Exposed for tests. Returns 0, or -1 (bad sizes,
 * memory).
 */
int wn_cluster_kmeanspp_dist(const float *X, int64_t n, int64_t d, const int64_t *cand, int nc,
			     double *out);

/*
 * The uniform training sample: m distinct row indices of [0, n), in
 * increasing order, a pure function of (n, m, seed). Exposed for tests.
 */
int wn_cluster_sample_rows(int64_t n, int64_t m, uint64_t seed, int64_t *rows_out);

#ifdef __cplusplus
}
#endif

#endif
