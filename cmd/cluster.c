/*
 * cmd/cluster.c — `winnow cluster kmeans|hkmeans|graph`: cluster records by
 * their vectors and annotate each with its cluster. Usage and option tables
 * only; the steps are cluster/cluster_step.c (records and vectors:
 * cluster/vectors.c).
 */
#include <math.h>

#include "cluster/cluster_step.h"
#include "cmd/common.h"

static const char *const kmeans_usage[] = {
	"winnow cluster kmeans -k K [options] [file...]",
	"",
	"Train K centroids (or reuse --centroids) and annotate every record with winnow.cluster",
	"(its centroid's index) and winnow.dist (Euclidean distance, or cosine distance with",
	"--spherical). Cluster sizes and inertia go to stderr and to --stats FILE as JSON.",
	"",
	"winnow cluster kmeans -k 1000 --seed 7 --centroids-out today.npy < emb.jsonl > out.jsonl",
	"winnow cluster kmeans --centroids yesterday.npy < emb.jsonl > out.jsonl   # stable ids",
	"winnow cluster kmeans -k 50 --npy vectors.npy --stats km.json docs.jsonl",
	NULL,
};

static const char *const hkmeans_usage[] = {
	"winnow cluster hkmeans --levels K1,K2,... [options] [file...]",
	"",
	"Hierarchical k-means (Vo et al. 2024): level 1 clusters the vectors into K1, each further",
	"level clusters the previous level's centroids. Annotates winnow.hcluster: [id1, id2, ...].",
	"Each level is seeded by k-means++ and refined by --resamples resampling-clustering steps",
	"(R times: the S points nearest each centroid, a fresh k-means on their union, reassign all),",
	"as the reference (facebookresearch/ssl-data-curation) with its defaults: R 10, 50 iterations,",
	"S half the mean cluster size. Resampling spreads the centroids evenly over the support of the",
	"data, so `select --balanced` over the hierarchy draws concepts evenly; records per cluster grow",
	"MORE uneven, by design (dense concepts make large clusters). Cost: R more k-means per level, each",
	"on about half the level's points, about 1 + R/2 times the work of --resamples 0 (~6x at R 10);",
	"--resamples 0 --init random --niter 25 is the fast plain hierarchy (level 1 = `cluster kmeans`).",
	"--split N re-clusters each level-1 cluster into up to N (the reference's n_splits; one run each,",
	"the reference keeps the best of 10). Unit-norm embeddings (hash, sentence encoders): use",
	"--spherical, else upper levels group level-1 centroids by their norm (a large diffuse cluster's",
	"mean is short) and one top cluster takes nearly all records. Unlike the reference, seeded.",
	"",
	"winnow cluster hkmeans --levels 2000,200,20 --seed 1 --spherical < emb.jsonl > out.jsonl",
	"winnow cluster hkmeans --levels 1000,5000,500,50 --split 10 --sample-size 1,5,5,3 emb.jsonl",
	"winnow cluster hkmeans --levels 1000,100,20,4 --resamples 0 --init random --niter 25 emb.jsonl",
	NULL,
};

static const char *const graph_usage[] = {
	"winnow cluster graph --threshold T [options] [file...]",
	"",
	"Search each vector's --knn nearest neighbours by cosine (FAISS flat index up to",
	"--hnsw-above vectors, HNSW beyond; brute force on CUDA), keep edges with cos >= T and",
	"annotate winnow.component: components numbered by their first record (0, 1, ...).",
	"Exact at T: a vector whose K-th neighbour still passes T is searched again with 2K, 4K...",
	"",
	"winnow cluster graph --threshold 0.95 --knn 10 < emb.jsonl > out.jsonl",
	NULL,
};

#define VEC_OPTIONS(vo)                                                                       \
	WN_VECTOR_OPTIONS(&(vo)->field_emb, &(vo)->npy),                                      \
	OPT_STRING(0, "stats", &(vo)->stats, "FILE", "write sizes and inertia as JSON to FILE"), \
	OPT_STRING(0, "engine", &(vo)->engine, "E", "auto (default: the core on CUDA, else FAISS), faiss or core")

static void kmeans_options(void *p, struct wn_option *t)
{
	wn_cluster_kmeans_step_opts *o = p;
	WN_STEP_TABLE(t,
		OPT_GROUP("k-means"),
		OPT_INT64('k', NULL, &o->km.k, "K", "number of clusters"),
		OPT_INT(0, "niter", &o->km.niter, "N", "Lloyd iterations (default 25)"),
		OPT_INT64(0, "seed", &o->seed, "S", "random seed (default 0)"),
		OPT_BOOL(0, "spherical", &o->km.spherical, "cosine k-means: unit centroids, nearest by inner product"),
		OPT_INT64(0, "max-train", &o->km.max_train, "N", "train on a uniform sample of N vectors, then assign all"),
		OPT_STRING(0, "centroids", &o->centroids_in, "FILE", "reuse these centroids (.npy, k x dim): assign only"),
		OPT_STRING(0, "centroids-out", &o->centroids_out, "FILE", "write the centroids to FILE (.npy)"),
		VEC_OPTIONS(&o->vec),
		WN_STREAM_OPTIONS(&o->io),
		WN_COMPUTE_OPTIONS(&o->io));
}

static void hkmeans_options(void *p, struct wn_option *t)
{
	wn_cluster_hkmeans_step_opts *o = p;
	WN_STEP_TABLE(t,
		OPT_GROUP("Hierarchical k-means"),
		OPT_STRING(0, "levels", &o->levels, "K1,K2,..", "clusters per level, e.g. 2000,200,20"),
		OPT_INT(0, "niter", &o->km.niter, "N", "Lloyd iterations per k-means (default 50, as the reference)"),
		OPT_INT64(0, "seed", &o->seed, "S", "random seed (default 0)"),
		OPT_BOOL(0, "spherical", &o->km.spherical, "cosine k-means at every level"),
		OPT_STRING(0, "init", &o->init, "I", "kmeans++ (default: sklearn's, 2+ln k trials) or random (the engine's)"),
		OPT_INT(0, "resamples", &o->hk.resamples, "R", "resampling-clustering steps per level (default 10; 0: none)"),
		OPT_STRING(0, "sample-size", &o->sample_size, "S[,S2..]", "points per cluster per resample, one or one per level (default: half the mean cluster size)"),
		OPT_STRING(0, "strategy", &o->strategy, "X", "closest (default: the S nearest the centroid) or random"),
		OPT_INT(0, "split", &o->hk.split, "N", "re-cluster each level-1 cluster into up to N (the reference's n_splits; default: none)"),
		OPT_INT64(0, "max-train", &o->km.max_train, "N", "train level 1 on a uniform sample of N vectors"),
		VEC_OPTIONS(&o->vec),
		WN_STREAM_OPTIONS(&o->io),
		WN_COMPUTE_OPTIONS(&o->io));
}

static void graph_options(void *p, struct wn_option *t)
{
	wn_cluster_graph_step_opts *o = p;
	WN_STEP_TABLE(t,
		OPT_GROUP("Graph"),
		OPT_DOUBLE(0, "threshold", &o->threshold, "T", "an edge needs cosine >= T (required)"),
		OPT_INT(0, "knn", &o->graph.knn, "K", "neighbours searched per vector (default 10)"),
		OPT_STRING(0, "index", &o->index, "I", "auto (default), flat (exact) or hnsw"),
		OPT_INT64(0, "hnsw-above", &o->graph.hnsw_above, "N", "auto uses HNSW above N vectors (default 1000000)"),
		VEC_OPTIONS(&o->vec),
		WN_STREAM_OPTIONS(&o->io),
		WN_COMPUTE_OPTIONS(&o->io));
}

static void kmeans_init(void *p) { wn_cluster_kmeans_step_init(p); }
static void hkmeans_init(void *p) { wn_cluster_hkmeans_step_init(p); }
static void graph_init(void *p) { wn_cluster_graph_step_init(p); }
static int kmeans_check(void *p, int *npos, const char **pos, char *err, size_t n) { return wn_cluster_kmeans_step_check(p, err, n); }
static int hkmeans_check(void *p, int *npos, const char **pos, char *err, size_t n) { return wn_cluster_hkmeans_step_check(p, err, n); }
static int graph_check(void *p, int *npos, const char **pos, char *err, size_t n) { return wn_cluster_graph_step_check(p, err, n); }
static int kmeans_run(void *p, wn_stream *s, wn_step_report *r, char *err, size_t n) { return wn_cluster_kmeans_step_run(p, s, r, err, n); }
static int hkmeans_run(void *p, wn_stream *s, wn_step_report *r, char *err, size_t n) { return wn_cluster_hkmeans_step_run(p, s, r, err, n); }
static int graph_run(void *p, wn_stream *s, wn_step_report *r, char *err, size_t n) { return wn_cluster_graph_step_run(p, s, r, err, n); }

const wn_step wn_step_cluster_kmeans = {"cluster kmeans", kmeans_usage, sizeof(wn_cluster_kmeans_step_opts),
					WN_STEP_WHOLE, kmeans_init, kmeans_options, kmeans_check, kmeans_run, NULL};
const wn_step wn_step_cluster_hkmeans = {"cluster hkmeans", hkmeans_usage, sizeof(wn_cluster_hkmeans_step_opts),
					 WN_STEP_WHOLE, hkmeans_init, hkmeans_options, hkmeans_check, hkmeans_run, NULL};
const wn_step wn_step_cluster_graph = {"cluster graph", graph_usage, sizeof(wn_cluster_graph_step_opts),
				       WN_STEP_WHOLE, graph_init, graph_options, graph_check, graph_run, NULL};
