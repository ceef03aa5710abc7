/*
 * selectors/facility_step.h — `winnow select facility-location` (issue 19):
 * every record and its vector read (cluster/vectors.h), the cosine kNN
 * graph built on the core (wn_core_knn over unit vectors, the search of
 * `cluster graph --engine core`: that step annotates only component ids,
 * so the graph is searched here; memory n·k), F(S) = Σ_i max_{j∈S}
 * max(0, cos(i,j)) maximised by lazy, plain or stochastic greedy under a
 * record or cost budget (selectors/facility.h), and the selected records
 * written in input order with winnow.fl_rank (1 = chosen first) and
 * winnow.fl_gain; the objective after each step in --stats FILE.
 *
 * Owns: the graph, the costs, one run's result. Borrows: cluster/vectors,
 * the core (kNN), selectors/facility, cJSON.
 */
#ifndef WN_SELECTORS_FACILITY_STEP_H
#define WN_SELECTORS_FACILITY_STEP_H

#include <stdint.h>

#include "io/step.h"
#include "io/stream.h"

typedef struct wn_fl_step_opts {
	wn_stream_opts io;
	double budget;          /* required: records, or cost units with --cost */
	const char *cost;       /* --cost FIELD: a positive number per record */
	double epsilon;         /* --epsilon: stochastic greedy (0: lazy) */
	int plain;              /* --plain: every candidate re-evaluated each step */
	int knn;                /* neighbours per point (default 10) */
	int64_t seed;
	const char *npy, *field_emb, *stats;
} wn_fl_step_opts;

void wn_fl_step_init(wn_fl_step_opts *o);
int wn_fl_step_check(wn_fl_step_opts *o, char *err, size_t errlen);
int wn_fl_step_run(const wn_fl_step_opts *o, wn_stream *s, wn_step_report *rep, char *err,
		   size_t errlen);

#endif
