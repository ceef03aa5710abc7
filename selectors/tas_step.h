/*
 * selectors/tas_step.h — `winnow batches tas` (issue 20): TAS-B batch
 * composition (selectors/tas.h) over a stream of training pairs, one pair
 * per record, each with its query (--query PATH, any JSON value: pairs of
 * one query share it), the query's cluster (--cluster, winnow.cluster
 * from `winnow cluster kmeans` over the query texts) and optionally a
 * teacher margin (--margin PATH). Writes the composed batches in order:
 * each slot is a copy of the chosen pair's record with winnow.batch = b,
 * so a trainer reads batch b as the consecutive records with that number
 * (a pair can appear in several batches, or in none).
 *
 * Owns: the pool (selectors/pool.h), the query table, the plan, and
 * the window of record bytes the output is written from: records are
 * copied from the spool into memory one window of output at a time (64
 * MiB, or $WINNOW_SPOOL_MEM as for the spool), one pass over the spool
 * per window, so memory stays bounded whatever the pool's size.
 * Borrows: io/stream, io/spool, io/intern.
 */
#ifndef WN_SELECTORS_TAS_STEP_H
#define WN_SELECTORS_TAS_STEP_H

#include <stdint.h>

#include "io/step.h"
#include "io/stream.h"

typedef struct wn_tas_opts {
	wn_stream_opts io;
	const char *cluster;   /* default winnow.cluster */
	const char *query;     /* default query */
	const char *margin;    /* NULL: pairs drawn uniformly */
	int64_t batch;         /* default 32 */
	int64_t batches;       /* -1: ceil(queries / batch) */
	int64_t bins;          /* default 10 */
	int64_t seed;
} wn_tas_opts;

void wn_tas_init(wn_tas_opts *o);
int wn_tas_check(wn_tas_opts *o, char *err, size_t errlen);
int wn_tas_run(const wn_tas_opts *o, wn_stream *s, wn_step_report *rep, char *err,
	       size_t errlen);

#endif
