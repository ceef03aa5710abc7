/*
 * selectors/rds.h — RDS+ (Ivison et al. 2025): select the pool records
 * nearest to a target set, round-robin over the target's queries (or
 * tasks). Plain functions over matrices; the step is selectors/rds_step.c.
 *
 *  - scores: cos(q, x) of unit vectors (both normalised here); with tasks,
 *    a pool item's score for task t is the max over t's queries (without
 *    --per-task every query is its own task);
 *  - each task ranks the pool by its score, best first, ties to the lower
 *    pool index;
 *  - round r = 0, 1, ...: every task in order offers its r-th ranked item;
 *    an item already selected is a wasted offer (nothing is added); the
 *    run stops the moment the budget is reached, so the last round is cut
 *    in task order (deterministic, unlike the reference's set order).
 * Only a slice of D entries of each ranking is held at a time (D = twice
 * the budget per task, at least 32, at most 2^24 entries in all): when the
 * rounds run past it, the next D entries after each ranking's last one are
 * computed in another pass over the pool, so memory is tasks x D, not
 * tasks x pool, and one pass is enough unless many offers are wasted.
 * Similarities go through the compute core's GEMM in blocks of pool rows
 * (CPU or CUDA).
 *
 * Owns: its scratch. Borrows: the core (wn_core_gemm), the matrices.
 */
#ifndef WN_SELECTORS_RDS_H
#define WN_SELECTORS_RDS_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

typedef struct wn_rds_pick {
	int64_t item;   /* pool row */
	int64_t task;   /* the task whose offer took it */
	int64_t round;
	float score;    /* that task's score for the item */
} wn_rds_pick;

/*
 * Q: m x d target rows with task[q] in [0, ntasks) (NULL: task q = q,
 * ntasks = m); X: n x d pool rows. Writes min(budget, n) picks (in pick
 * order) to out and their number to *npick. Q and X are normalised in
 * place (rows of norm 0 stay 0). Returns 0, or -1 with err.
 */
int wn_rds_select(wn_core *c, float *Q, int64_t m, const int64_t *task, int64_t ntasks,
		  float *X, int64_t n, int64_t d, int64_t budget, wn_rds_pick *out,
		  int64_t *npick, char *err, size_t errlen);

#endif
