/*
 * selectors/prototypes_step.h — the steps `select prototypes` and `select
 * dbp` (issue 20): read every record with its vector and cluster id
 * (selectors/prototypes.h), score each by its cosine distance to its own
 * spherical centroid, choose which to keep (SSL prototypes: globally or
 * per cluster; DBP: per-cluster quotas, selectors/dbp.h), and write the
 * kept records in input order with winnow.proto_dist / winnow.dbp_dist.
 *
 * Owns: one run's arrays and the --stats document. Borrows: io/stream.h,
 * cluster/vectors.h (--centroids .npy), cJSON.
 */
#ifndef WN_SELECTORS_PROTOTYPES_STEP_H
#define WN_SELECTORS_PROTOTYPES_STEP_H

#include <stdint.h>

#include "io/step.h"
#include "io/stream.h"
#include "selectors/prototypes.h"

/* What both steps read. */
typedef struct wn_proto_in_opts {
	const char *field_emb;     /* default winnow.emb */
	const char *field_cluster; /* default winnow.cluster */
	const char *centroids;     /* .npy, row j = cluster j; default: from the members */
	const char *keep;          /* hard (default) | easy */
	int easy;                  /* parsed by check */
	double keep_frac;          /* required, 0 < F <= 1 */
	const char *stats;         /* --stats FILE */
} wn_proto_in_opts;

typedef struct wn_prototypes_opts {
	wn_stream_opts io;
	wn_proto_in_opts in;
	int per_cluster;
} wn_prototypes_opts;

typedef struct wn_dbp_opts {
	wn_stream_opts io;
	wn_proto_in_opts in;
	double temperature; /* default 0.5 */
	int neighbours;     /* default 20 */
	double balance;     /* default 0.5 */
} wn_dbp_opts;

/* What both runs share: the records, unit centroids, sizes and distances. */
typedef struct wn_proto_run {
	wn_proto_set ps;
	float *C;       /* k x d unit centroids */
	int64_t *sizes; /* k members per cluster */
	double *dist;   /* n: 1 - cos to the own centroid */
} wn_proto_run;

/* Check the shared options (a usage error: -1 with err). */
int wn_proto_in_check(wn_proto_in_opts *in, char *err, size_t errlen);
/* Load, centroids, distances. 0, or -1 (reported or in err). */
int wn_proto_run_open(const wn_proto_in_opts *in, wn_stream *s, wn_proto_run *r, char *err,
		      size_t errlen);
void wn_proto_run_close(wn_proto_run *r);

void wn_prototypes_init(wn_prototypes_opts *o);
int wn_prototypes_check(wn_prototypes_opts *o, char *err, size_t errlen);
int wn_prototypes_run(const wn_prototypes_opts *o, wn_stream *s, wn_step_report *rep, char *err,
		      size_t errlen);

void wn_dbp_init(wn_dbp_opts *o);
int wn_dbp_check(wn_dbp_opts *o, char *err, size_t errlen);
int wn_dbp_run(const wn_dbp_opts *o, wn_stream *s, wn_step_report *rep, char *err, size_t errlen);

#endif
