/*
 * selectors/kmq_step.h — `winnow select kmq` (issue 20): kMQ of "Diversify
 * and Conquer" (selectors/kmq.h) over a stream whose records carry a
 * cluster id (winnow.cluster from `winnow cluster kmeans`) and, optionally,
 * a quality score. Writes the drawn records in input order; --mode paper
 * adds winnow.count (times drawn, with replacement), --rounds R > 1 adds
 * winnow.kmq_round.
 *
 * Owns: the pool (selectors/pool.h) and the draw. Borrows: io/stream.
 */
#ifndef WN_SELECTORS_KMQ_STEP_H
#define WN_SELECTORS_KMQ_STEP_H

#include <stdint.h>

#include "io/step.h"
#include "io/stream.h"

typedef struct wn_kmq_opts {
	wn_stream_opts io;
	int64_t budget;        /* N, required */
	const char *quality;   /* path, or NULL: uniform */
	const char *cluster;   /* path, default winnow.cluster */
	const char *mode_name; /* paper | code */
	int64_t rounds;
	int64_t seed;
	int mode;              /* set by check */
} wn_kmq_opts;

void wn_kmq_init(wn_kmq_opts *o);
int wn_kmq_check(wn_kmq_opts *o, char *err, size_t errlen);
int wn_kmq_run(const wn_kmq_opts *o, wn_stream *s, wn_step_report *rep, char *err,
	       size_t errlen);

#endif
