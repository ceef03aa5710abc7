/*
 * selectors/semdedup_step.h — the `dedup semantic` step: SemDeDup
 * (selectors/semdedup.h) over the records of a stream. Every record needs
 * a vector (winnow.emb, --field-emb, or a row of --npy) and a cluster
 * (winnow.cluster from `winnow cluster kmeans --spherical`, or
 * --cluster-field); a record without one is rejected under --on-error.
 *
 * Output, in input order: with one --eps, the records it keeps,
 * byte-identical (--mark-only: every record, with winnow.semdedup_keep
 * true/false); with several (--eps 0.05,0.07,0.1), every record with
 * winnow.semdedup_keep = {"0.05": true, "0.07": false, ...}, one member per
 * eps in the order given, its key the eps as "%g" prints it.
 *
 * Owns: the options, one run's vectors (cluster/vectors.h), cluster ids,
 * centroids and flags. Borrows: io/stream.h, core/core.h (a context opened
 * from --device and --threads), cluster/vectors.h.
 */
#ifndef WN_SELECTORS_SEMDEDUP_STEP_H
#define WN_SELECTORS_SEMDEDUP_STEP_H

#include <stdint.h>

#include "io/stream.h"
#include "selectors/semdedup.h"

typedef struct wn_semdedup_step_opts {
	wn_stream_opts io;
	const char *eps_list;        /* --eps E[,E2..] (required) */
	const char *keep;            /* --keep hard (default) | easy | random */
	int64_t seed;                /* --seed (random) */
	const char *cluster_field;   /* --cluster-field PATH (default winnow.cluster) */
	const char *field_emb;       /* --field-emb PATH (default winnow.emb) */
	const char *npy;             /* --npy FILE: vectors, one row per record */
	const char *centroids;       /* --centroids FILE.npy (k x dim) */
	int64_t max_cluster;         /* --max-cluster N: tile side (default 4096) */
	int mark_only;               /* --mark-only (one eps) */
	/* parsed by check */
	double eps[WN_SEMDEDUP_MAX_EPS];
	int neps;
	int keep_id;
} wn_semdedup_step_opts;

void wn_semdedup_step_init(wn_semdedup_step_opts *o);
/* 0, or -1 with a usage error in err. */
int wn_semdedup_step_check(wn_semdedup_step_opts *o, char *err, size_t errlen);
int wn_semdedup_step_run(const wn_semdedup_step_opts *o, wn_stream *s, wn_step_report *rep,
			 char *err, size_t errlen);

#endif
