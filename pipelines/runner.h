/*
 * pipelines/runner.h — run a recipe's plan in one process: the same step
 * functions the CLI calls, chained through spools, never a shell.
 *
 * Owns: the order of the run, the spools between steps, the steps' reports
 * and the closing summary. Borrows: the plan (pipelines/recipe.h), the
 * steps' run functions, io/stream.h (each step's stream), io/spool.h.
 *
 * Step 1 reads the inputs; step k+1 reads step k's records from a spool
 * (memory up to 64 MiB, then an unlinked temporary file: memory stays
 * bounded whichever steps need the whole stream); the last step writes the
 * output through the all-or-nothing writer (-o FILE semantics) or is the
 * store step (one transaction). A step that fails stops the run before the
 * next one starts, so the output is written whole or not at all.
 */
#ifndef WN_PIPELINES_RUNNER_H
#define WN_PIPELINES_RUNNER_H

#include "io/stream.h"
#include "pipelines/recipe.h"

#ifdef __cplusplus
extern "C" {
#endif

/* wn_runner_run's answer when the last successful run is still current. */
#define WN_RUNNER_NOTHING_NEW 3

/*
 * Run every step of r in order. reps (r->nsteps entries, may be NULL) gets
 * each step's report (those not run stay zero). Each step prints its usual
 * closing line, then one summary line "winnow run: <recipe>: ..." (both
 * unless env->quiet). With a cache (env->cache, else the recipe's cache:),
 * the steps pipelines/cache_step.h names run through it, and a successful
 * run is remembered there (and its counts added to the output database's
 * runs.extra as "cache"). Unless env->force, a run whose last successful
 * run is still current (pipelines/runstate.h) does nothing, prints
 * "winnow run: <recipe>: nothing new to do: ..." unless quiet, and returns
 * WN_RUNNER_NOTHING_NEW. Returns 0, or -1 when a step or the output failed
 * (the reason already printed, or in err).
 */
int wn_runner_run(const wn_recipe *r, const wn_recipe_env *env, wn_step_report *reps,
		  char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
