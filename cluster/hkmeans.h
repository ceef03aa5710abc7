/*
 * cluster/hkmeans.h — hierarchical k-means (Vo et al., 2024, "Automatic
 * data curation for self-supervised learning: a clustering-based approach").
 *
 * Owns: the level loop — level 1 clusters the vectors into k[0] clusters,
 * each further level clusters the previous level's centroids into k[l] —
 * and every vector's cluster id at each level (its level-l id is the level-l
 * cluster of its level-(l-1) centroid), with per-level sizes counted in
 * vectors, which is what balanced sampling over the hierarchy draws from.
 * Borrows: cluster/kmeans.h for every level (same engines, seed rules and
 * conventions; --max-train applies to level 1 only, where the data is).
 *
 * Resampling-clustering (the paper's contribution, after the reference
 * facebookresearch/ssl-data-curation, hierarchical_kmeans_with_resampling):
 * after a level's k-means, R times take from every cluster S points (the S
 * closest to its centroid, or S at random), run a fresh k-means on that
 * union only, and reassign all of the level's points to the new centroids.
 * This spreads centroids evenly over the support of the data instead of
 * crowding them into dense regions (plain k-means places them with density
 * p^(d/(d+2))). What it balances is the concepts, not the record counts:
 * counted in records, clusters in dense regions grow (tests/cli/t6120 on
 * the reference's rings: top-level max/median 3.6 -> 10..17, while the
 * balanced sample's largest ring share falls from a third to a quarter).
 * Balanced sampling over the hierarchy is what evens the selection. With
 * --split (level 1 only) each level-1 cluster is re-clustered afterwards.
 * Unlike the reference every draw is seeded.
 */
#ifndef WN_CLUSTER_HKMEANS_H
#define WN_CLUSTER_HKMEANS_H

#include <stdint.h>

#include "cluster/kmeans.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WN_CLUSTER_HKMEANS_MAX_LEVELS 16

enum wn_cluster_resample_strategy {
	WN_CLUSTER_RESAMPLE_CLOSEST = 0, /* the S points nearest the centroid (ties: earlier point) */
	WN_CLUSTER_RESAMPLE_RANDOM = 1,  /* S uniformly without replacement */
};

typedef struct wn_cluster_hkmeans_opts {
	int resamples;          /* R per level; 0: none */
	/* points drawn per cluster at each level; 0 = auto: half the level's
	 * mean cluster size, npts / (2 k), rounded; a level whose S is <= 1
	 * is not resampled (as the reference) */
	int64_t sample_size[WN_CLUSTER_HKMEANS_MAX_LEVELS];
	int strategy;           /* enum wn_cluster_resample_strategy */
	/* --split N (the reference's n_splits of level 1, scripts/
	 * split_clusters.py): after level 1's k-means and resampling, each
	 * level-1 cluster is re-clustered into min(N, size) sub-clusters by a
	 * fresh k-means (the level's init and niter, seeded per cluster; the
	 * reference keeps the best of 10 runs, one run here), empty ones
	 * dropped; the sub-clusters, numbered cluster by cluster, are level 1
	 * (so level 1 has up to K1 x N clusters). 0 or 1: no split. */
	int split;
} wn_cluster_hkmeans_opts;

/*
 * Parse "closest" or "random" (-1 otherwise).
 */
int wn_cluster_parse_resample_strategy(const char *s);

typedef struct wn_cluster_hkmeans_result {
	int levels;
	int64_t n, d;
	int64_t k[WN_CLUSTER_HKMEANS_MAX_LEVELS];
	float *centroids[WN_CLUSTER_HKMEANS_MAX_LEVELS];  /* k[l] x d */
	int64_t *sizes[WN_CLUSTER_HKMEANS_MAX_LEVELS];    /* vectors per cluster */
	/* level 1: of the vectors; level l > 1: of level l-1's centroids */
	double inertia[WN_CLUSTER_HKMEANS_MAX_LEVELS];
	int64_t sample_size[WN_CLUSTER_HKMEANS_MAX_LEVELS]; /* S used (0: not resampled) */
	int resamples_done[WN_CLUSTER_HKMEANS_MAX_LEVELS];  /* < R when a union had < k points */
	int32_t *assign; /* n x levels: assign[i * levels + l] */
} wn_cluster_hkmeans_result;

/*
 * Parse "2000,200,20" into ks (at most max entries, each >= 1, each level no
 * larger than the one before). Returns the number of levels, or -1 with a
 * reason in err.
 */
int wn_cluster_parse_levels(const char *s, int64_t *ks, int max, char *err, size_t errlen);
/* The same with --split N (N >= 0; else -1 with err): level 2 may then have
 * up to K1 x N clusters (level 1's count after the split). */
int wn_cluster_parse_levels_split(const char *s, int64_t *ks, int max, int split, char *err,
				  size_t errlen);

/*
 * Run all levels (res->k[0] is level 1's count after any split). o->k is ignored (ks gives it per level); o->init picks
 * the seeding of every k-means (the initial one and each resample). Level 1
 * uses o->seed, so without resampling it equals a plain k-means run with
 * the same options; level l > 1 a seed derived from (o->seed, l), and
 * resample r of a level one derived from that. ho may be NULL (no
 * resampling). A resample whose union has fewer than k points ends that
 * level's resampling (res->resamples_done says how many ran). Returns 0,
 * or -1 with one line in err (e.g. k larger than the vectors, or than the
 * previous level's clusters).
 */
int wn_cluster_hkmeans_run(wn_core *core, const wn_cluster_kmeans_opts *o,
			   const wn_cluster_hkmeans_opts *ho, const int64_t *ks, int levels,
			   const float *X, int64_t n, int64_t d, wn_cluster_hkmeans_result *res,
			   char *err, size_t errlen);
void wn_cluster_hkmeans_result_free(wn_cluster_hkmeans_result *res);

#ifdef __cplusplus
}
#endif

#endif
