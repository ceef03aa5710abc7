/*
 * selectors/stats_step.h — the `stats` step: a summary of the stream
 * (selectors/stats.h) written as a table or one JSON document to the
 * stream's sink instead of the records.
 */
#ifndef WN_SELECTORS_STATS_STEP_H
#define WN_SELECTORS_STATS_STEP_H

#include "io/stream.h"

typedef struct wn_stats_opts {
	wn_stream_opts io;
	int json;   /* one JSON document instead of a table */
} wn_stats_opts;

void wn_stats_init(wn_stats_opts *o);
int wn_stats_run(const wn_stats_opts *o, wn_stream *s, wn_step_report *rep, char *err, size_t errlen);

#endif
