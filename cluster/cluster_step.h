/*
 * cluster/cluster_step.h — the steps `cluster kmeans`, `cluster hkmeans`
 * and `cluster graph`: read every record and vector (cluster/vectors.h),
 * cluster the matrix (kmeans.h, hkmeans.h, graph.h), write the records
 * back in input order with winnow.cluster + winnow.dist, winnow.hcluster
 * or winnow.component; sizes and inertia to stderr and, as JSON, to --stats.
 *
 * Owns: one run's results. Borrows: io/stream.h, the core, cJSON (--stats).
 */
#ifndef WN_CLUSTER_STEP_H
#define WN_CLUSTER_STEP_H

#include "cluster/graph.h"
#include "cluster/hkmeans.h"
#include "cluster/kmeans.h"
#include "io/stream.h"

/* What every clustering step shares. */
typedef struct wn_cluster_vec_opts {
	const char *npy;        /* vectors from a .npy, one row per record */
	const char *field_emb;  /* vector member (default winnow.emb) */
	const char *stats;      /* --stats FILE */
	const char *engine;     /* auto | faiss | core */
	int engine_id;          /* parsed by check */
} wn_cluster_vec_opts;

typedef struct wn_cluster_kmeans_step_opts {
	wn_stream_opts io;
	wn_cluster_vec_opts vec;
	wn_cluster_kmeans_opts km;
	int64_t seed;
	const char *centroids_in, *centroids_out;
} wn_cluster_kmeans_step_opts;

typedef struct wn_cluster_hkmeans_step_opts {
	wn_stream_opts io;
	wn_cluster_vec_opts vec;
	wn_cluster_kmeans_opts km;
	int64_t seed;
	const char *levels;
	int64_t ks[WN_CLUSTER_HKMEANS_MAX_LEVELS];
	int nlevels;            /* parsed by check */
	const char *init;       /* kmeans++ (default) | random */
	const char *strategy;   /* closest (default) | random */
	const char *sample_size; /* "S" or "S1,S2,..": points per cluster per resample */
	wn_cluster_hkmeans_opts hk; /* resamples given directly; the rest parsed by check */
} wn_cluster_hkmeans_step_opts;

typedef struct wn_cluster_graph_step_opts {
	wn_stream_opts io;
	wn_cluster_vec_opts vec;
	wn_cluster_graph_opts graph;
	double threshold;       /* NAN until given */
	const char *index;
} wn_cluster_graph_step_opts;

void wn_cluster_kmeans_step_init(wn_cluster_kmeans_step_opts *o);
void wn_cluster_hkmeans_step_init(wn_cluster_hkmeans_step_opts *o);
void wn_cluster_graph_step_init(wn_cluster_graph_step_opts *o);
/* 0, or -1 with a usage error in err. */
int wn_cluster_kmeans_step_check(wn_cluster_kmeans_step_opts *o, char *err, size_t errlen);
int wn_cluster_hkmeans_step_check(wn_cluster_hkmeans_step_opts *o, char *err, size_t errlen);
int wn_cluster_graph_step_check(wn_cluster_graph_step_opts *o, char *err, size_t errlen);
int wn_cluster_kmeans_step_run(const wn_cluster_kmeans_step_opts *o, wn_stream *s,
			       wn_step_report *rep, char *err, size_t errlen);
int wn_cluster_hkmeans_step_run(const wn_cluster_hkmeans_step_opts *o, wn_stream *s,
				wn_step_report *rep, char *err, size_t errlen);
int wn_cluster_graph_step_run(const wn_cluster_graph_step_opts *o, wn_stream *s,
			      wn_step_report *rep, char *err, size_t errlen);

#endif
