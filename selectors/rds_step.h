/*
 * selectors/rds_step.h — `winnow select rds` (issue 20): RDS+
 * (selectors/rds.h). The pool is the stream, its vectors at --field-emb
 * (winnow.emb); the target is --target FILE, records with vectors at the
 * same path (embedded by the user with the same `winnow embed` options),
 * optionally grouped into tasks by --per-task FIELD. Writes the picked
 * pool records in input order with winnow.rds (the score that picked
 * it), winnow.rds_rank (pick order) and, with --per-task, winnow.rds_task.
 *
 * Owns: the pool's vectors and spool (cluster/vectors.h), the target's
 * matrix and task table, the compute core for the run, the picks.
 * Borrows: io/stream (the pool), io/record (the target reader, under the
 * stream's --on-error policy), core (GEMM).
 */
#ifndef WN_SELECTORS_RDS_STEP_H
#define WN_SELECTORS_RDS_STEP_H

#include <stdint.h>

#include "io/step.h"
#include "io/stream.h"

typedef struct wn_rds_opts {
	wn_stream_opts io;
	const char *target;     /* FILE, required */
	int64_t budget;         /* required */
	const char *per_task;   /* path in the target records, or NULL */
	const char *field_emb;  /* default winnow.emb */
} wn_rds_opts;

void wn_rds_init(wn_rds_opts *o);
int wn_rds_check(wn_rds_opts *o, char *err, size_t errlen);
int wn_rds_run(const wn_rds_opts *o, wn_stream *s, wn_step_report *rep, char *err,
	       size_t errlen);

#endif
