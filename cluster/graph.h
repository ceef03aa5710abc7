/*
 * cluster/graph.h — threshold graph clustering: the graph of all pairs with
 * cosine similarity >= T, found by k-nearest-neighbour search, and its
 * connected components.
 *
 * Exact at T: a vector whose k-th neighbour still has cos >= T may have more
 * neighbours above T than were searched, so it is searched again with 2k,
 * 4k, ... (at most n) until its k-th neighbour falls below T. With the flat
 * index or the core, every pair with cos >= T is therefore an edge and the
 * components are those of the brute-force all-pairs graph, whatever knn is;
 * knn only sets where the search starts (its cost, not its result). HNSW
 * is approximate: it may still miss neighbours it never reaches. The cost
 * grows with the neighbours above T: at a low T on large data, up to an
 * all-pairs search. On a CUDA core, a search of more than 2048 neighbours
 * (what the CUDA backend keeps per query) runs on a CPU context instead.
 *
 * Owns: the kNN search (FAISS IndexFlatIP, exact, up to `hnsw_above` vectors;
 * FAISS HNSW beyond; or brute force through the compute core's wn_core_knn,
 * the GPU path), the union-find, and deterministic component ids: components
 * are numbered 0, 1, ... in order of their first vector (= their smallest
 * index), so ids depend only on the vectors and options, never on search
 * order or thread count.
 * Borrows: FAISS (C API + cluster/faiss_extra.h), core/core.h.
 *
 * Vectors are compared by cosine: each is scaled to unit length on the way
 * into the index (X itself is not modified). A vector of norm zero has no
 * direction and therefore no edges: it is a component of its own.
 * The same machinery serves semantic dedup (selectors/ may call it).
 */
#ifndef WN_CLUSTER_GRAPH_H
#define WN_CLUSTER_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

#ifdef __cplusplus
extern "C" {
#endif

enum wn_cluster_graph_index {
	WN_GRAPH_INDEX_AUTO = 0, /* flat up to hnsw_above vectors, HNSW beyond */
	WN_GRAPH_INDEX_FLAT = 1, /* exact */
	WN_GRAPH_INDEX_HNSW = 2, /* approximate; its graph build is multi-threaded,
				    so results may vary with the thread count */
};

/* Parse "auto", "flat" or "hnsw"; -1 otherwise. */
int wn_cluster_parse_graph_index(const char *s);

typedef struct wn_cluster_graph_opts {
	double threshold;   /* an edge needs cos >= threshold */
	int knn;            /* neighbours searched first per vector (self excluded);
			       grown per vector while the knn-th passes threshold */
	int engine;         /* enum wn_cluster_engine: CORE = brute force on the core */
	int index;          /* enum wn_cluster_graph_index (FAISS engine only) */
	int64_t hnsw_above; /* AUTO switches to HNSW above this many vectors */
	int hnsw_m;         /* HNSW links per node */
	int ef_search;      /* HNSW search depth; 0 = max(64, 2 * knn) */
} wn_cluster_graph_opts;

#define WN_CLUSTER_GRAPH_OPTS_INIT {0.9, 10, 0, WN_GRAPH_INDEX_AUTO, 1000000, 32, 0}

typedef struct wn_cluster_graph_result {
	int64_t n;
	int64_t *component;    /* n: component id of each vector */
	int64_t n_components;
	int64_t *sizes;        /* n_components: vectors per component */
	int64_t *first;        /* n_components: smallest vector index (the representative) */
	uint64_t edges;        /* hits (i -> j, j != i) with cos >= threshold: with
				  flat or core, the ordered pairs above it (each
				  pair counted from both ends) */
	int engine;            /* the engine that ran */
	int index;             /* FLAT or HNSW when FAISS ran */
} wn_cluster_graph_result;

/* Build the graph and its components. Returns 0, or -1 with one line in err. */
int wn_cluster_graph_run(wn_core *core, const wn_cluster_graph_opts *o, const float *X,
			 int64_t n, int64_t d, wn_cluster_graph_result *res, char *err,
			 size_t errlen);
void wn_cluster_graph_result_free(wn_cluster_graph_result *res);

/*
 * Union-find over n elements whose roots are always the smallest member,
 * so the partition and its labels do not depend on the order of unions.
 * Exposed for selectors that build their own edge lists (SemDeDup).
 */
typedef struct wn_cluster_uf {
	int64_t n;
	int64_t *parent;
} wn_cluster_uf;

int wn_cluster_uf_init(wn_cluster_uf *uf, int64_t n);
int64_t wn_cluster_uf_find(wn_cluster_uf *uf, int64_t i);
void wn_cluster_uf_union(wn_cluster_uf *uf, int64_t a, int64_t b);
void wn_cluster_uf_free(wn_cluster_uf *uf);

#ifdef __cplusplus
}
#endif

#endif
