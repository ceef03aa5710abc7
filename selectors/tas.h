/*
 * selectors/tas.h — TAS-B batch composition (Hofstätter et al. 2021,
 * "Balanced Topic Aware Sampling"): every batch is drawn from one query
 * cluster, and each query's training pair is drawn by balanced margin
 * bins. Plain functions over arrays; the step is selectors/tas_step.c.
 *
 *  - batch b: a cluster uniformly among the clusters that have queries,
 *    then min(B, |cluster|) of its queries uniformly without replacement
 *    (in the sampler's order);
 *  - a query's pair: its pairs' margins (teacher score of the positive
 *    minus the negative) are split into `bins` equal-width bins over
 *    [min, max] (numpy.histogram's rule: the last bin holds the maximum;
 *    all margins equal: one bin); a non-empty bin uniformly, then a pair
 *    of that bin uniformly (without margins: a pair uniformly);
 *  - draws: batch b's cluster is uniform draw 0 of (seed, (0x21 << 40) | b),
 *    its query at position j uses draws 1 + 2j and 2 + 2j of that stream
 *    for the bin and the pair; the query subset comes from (seed,
 *    (0x22 << 40) | b). Nothing depends on the thread count.
 *
 * Owns: the plan it returns (wn_tas_plan_free). Borrows: core/rng.h,
 * core/sample.h.
 */
#ifndef WN_SELECTORS_TAS_H
#define WN_SELECTORS_TAS_H

#include <stddef.h>
#include <stdint.h>

/* The bin of margin m in `bins` equal-width bins over [lo, hi] (lo == hi: 0). */
int wn_tas_bin(double m, double lo, double hi, int bins);

/*
 * One query's pair: margins of its np pairs (NULL: uniform), uniforms
 * u_bin and u_pair in [0, 1). Returns the pair's position in [0, np).
 */
int64_t wn_tas_pick_pair(const double *margin, int64_t np, int bins, double u_bin,
			 double u_pair);

/* The queries and their pairs: query q has items item[off[q] .. off[q+1]). */
typedef struct wn_tas_queries {
	int64_t nq;
	const int64_t *cluster; /* nq: the query's cluster id (>= 0) */
	const int64_t *off;     /* nq + 1 */
	const int64_t *item;    /* the pool items (records), grouped by query */
	const double *margin;   /* per pool item, or NULL */
} wn_tas_queries;

typedef struct wn_tas_plan {
	int64_t n;       /* slots: records written, in order */
	int64_t *item;   /* n: the pool item of each slot */
	int64_t *batch;  /* n: its batch number */
	int64_t *query;  /* n: its query */
} wn_tas_plan;

/* nbatches batches of up to `batch` queries. Returns 0, or -1 with err. */
int wn_tas_compose(const wn_tas_queries *q, int64_t batch, int64_t nbatches, int bins,
		   uint64_t seed, wn_tas_plan *plan, char *err, size_t errlen);
void wn_tas_plan_free(wn_tas_plan *p);

#endif
