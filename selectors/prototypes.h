/*
 * selectors/prototypes.h — what the cluster-based selectors (`select
 * prototypes`, `select dbp`; issue 20) share: the records with their unit
 * vectors and cluster ids, the spherical centroids, and each record's
 * cosine distance to its own centroid.
 *
 * SSL prototypes (Sorscher et al. 2022, "Beyond neural scaling laws"):
 * the score of a record is 1 - cos(x_i, c_{cluster(i)}), its cosine
 * distance to its own spherical k-means centroid (the normalised mean of
 * the cluster's unit vectors, or a row of --centroids). Keeping the
 * hardest (farthest) suits abundant data, the easiest scarce data.
 *
 * Owns: the spool of candidate records, the unit-vector matrix and the ids
 * (wn_proto_set_free). Borrows: io/stream.h (records, rejections under the
 * policy), io/spool.h, io/record.h (the vector member), selectors/subset.h
 * (top-N, per-group top by fraction).
 */
#ifndef WN_SELECTORS_PROTOTYPES_H
#define WN_SELECTORS_PROTOTYPES_H

#include <stddef.h>
#include <stdint.h>

#include "io/spool.h"
#include "io/stream.h"

#define WN_PROTO_MAX_DIM 65536

typedef struct wn_proto_set {
	wn_spool *sp;   /* the kept candidates, in input order */
	float *X;       /* n x d, each row scaled to unit length */
	int64_t *cl;    /* n cluster ids (>= 0) */
	int64_t n, d, cap;
	int64_t k;      /* largest id + 1 */
} wn_proto_set;

/*
 * Read the whole stream: each record needs a non-zero vector at field_emb
 * (a winnow vector or a JSON array; one dimension throughout) and a
 * non-negative integer cluster id at field_cluster, below max_k when
 * max_k > 0 (the rows of --centroids), and dense (below 2^24 or 4 x the
 * records read so far: arrays are sized by the largest id); a record that
 * fails either is
 * rejected under the stream's policy. Returns 0, or -1 (a policy stop, or
 * the reason in err).
 */
int wn_proto_set_load(wn_proto_set *ps, wn_stream *s, const char *field_emb,
		      const char *field_cluster, int64_t max_k, char *err, size_t errlen);
void wn_proto_set_free(wn_proto_set *ps);

/*
 * Spherical centroids of k clusters from unit rows X: C_j = the normalised
 * mean of cluster j's rows (a zero row for an empty cluster or a zero
 * mean); sizes (k entries, may be NULL) gets the member counts. 0 or -1
 * (out of memory).
 */
int wn_proto_centroids(const float *X, const int64_t *cl, int64_t n, int64_t d, int64_t k,
		       float *C, int64_t *sizes);

/* Scale each of k rows of C to unit length (zero rows stay zero). */
void wn_proto_normalize_rows(float *C, int64_t k, int64_t d);

/* dist_i = 1 - <x_i, C_{cl_i}> for unit rows (in double, row by row). */
void wn_proto_dist(const float *X, const int64_t *cl, int64_t n, int64_t d, const float *C,
		   double *dist);

/*
 * Which records to keep (keep: n flags): globally the floor(F n) records
 * of largest dist (easy: smallest), or with per_cluster floor(F |C_j|) of
 * each cluster; ties go to the earlier record. Returns the number kept, or
 * -1 with err.
 */
int64_t wn_proto_select(const double *dist, const int64_t *cl, int64_t n, int64_t k, double frac,
			int easy, int per_cluster, unsigned char *keep, char *err, size_t errlen);

/*
 * Keep quota[j] records of each cluster j: those of largest dist (easy:
 * smallest), ties to the earlier record. keep: n flags. 0 or -1 (memory).
 */
int wn_proto_keep_quota(const double *dist, const int64_t *cl, int64_t n, int64_t k,
			const size_t *quota, int easy, unsigned char *keep, char *err, size_t errlen);

/*
 * Write the kept records in input order, each with winnow.<key> = its
 * distance. 0 or -1 with err.
 */
int wn_proto_emit(const wn_proto_set *ps, wn_stream *s, const unsigned char *keep,
		  const double *dist, const char *key, char *err, size_t errlen);

#endif
