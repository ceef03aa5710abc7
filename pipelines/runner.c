/*
 * pipelines/runner.c — a plan run in one process (see pipelines/runner.h).
 *
 * Steps run one after the other: step i's whole output is in a spool
 * before step i+1 starts, so at most two spools exist at a time and a
 * failure stops the run before the output is even opened (the last step's
 * writer is the only thing that touches the output, and it renames into
 * place only on success). The order is fixed, so the bytes are the same as
 * the shell pipeline's at any thread count.
 *
 * Provenance: the store step made from output.db reads a spool and never
 * sees the files, so the runner keeps what step 1's reader knew of each
 * input (name, size, xxh3) and hands the store step that, the recipe (name,
 * text, sha256) and the reports of the steps before it (wn_store_provenance,
 * store/store_step.h); the store step writes them to runs.inputs and
 * runs.extra. The store step is known by its run function, not its name.
 */
#include "pipelines/runner.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "io/errf.h"
#include "io/spool.h"
#include "store/store_step.h"

/* What the store step records in `runs` and cannot see itself: the inputs
 * the first step read (names owned here), the recipe, the steps' reports. */
typedef struct run_prov {
	wn_store_input *inputs;
	size_t ninputs;
	char sha256[65];
	wn_store_provenance p;
} run_prov;

/* Step 0's inputs with their sizes and hashes, before its reader closes. */
static int keep_inputs(run_prov *pv, const wn_stream *s)
{
	int n = s->in ? wn_reader_ninputs(s->in) : 0;
	if (n && !(pv->inputs = calloc((size_t)n, sizeof *pv->inputs)))
		return -1;
	for (int i = 0; i < n; i++) {
		wn_store_input *in = &pv->inputs[pv->ninputs];
		if (!(in->name = strdup(wn_reader_input_name(s->in, i))))
			return -1;
		in->size = wn_reader_input_size(s->in, i);
		in->xxh3 = wn_reader_input_hash(s->in, i);
		pv->ninputs++;
	}
	return 0;
}

static void prov_free(run_prov *pv)
{
	for (size_t i = 0; i < pv->ninputs; i++)
		free((char *)pv->inputs[i].name);
	free(pv->inputs);
}

/* The store step made from output.db (known by its run function) gets the
 * provenance of the whole run: steps 0..i-1 have their reports by now. */
static void give_prov(run_prov *pv, const wn_recipe *r, size_t i, wn_recipe_bound *b,
		      const wn_step_report *reps)
{
	if (b->step->run != wn_store_step_run_v)
		return;
	pv->p = (wn_store_provenance){NULL, pv->inputs, pv->ninputs, r->name, r->text, pv->sha256,
				      reps, i};
	((wn_store_step_opts *)b->opts)->prov = &pv->p;
}

/* The writer for the last step's output, opened before its stream. */
static wn_writer *open_output(const wn_recipe *r, size_t i, const wn_recipe_bound *b, char *err,
			      size_t errlen)
{
	if (i + 1 < r->nsteps || (b->step->flags & WN_STEP_NO_OUTPUT))
		return NULL;
	return wn_writer_open(r->out_jsonl, 0, err, errlen);
}

/* Step i's stream: files or the previous spool in; the next spool, the output or nothing out. */
static int open_step(wn_stream *s, const wn_recipe *r, size_t i, wn_recipe_bound *b, wn_spool *src,
		     wn_spool *dst, char *err, size_t errlen)
{
	wn_stream_opts *co = b->opts;
	int to_output = i + 1 == r->nsteps && !(b->step->flags & WN_STEP_NO_OUTPUT);
	if (to_output)
		co->output = r->out_jsonl;
	if (i == 0) {
		if (wn_stream_open_files(s, b->step->name, co, b->npos, b->pos, to_output, err, errlen))
			return -1;
		/* io/stream.h opens files-to-spool by its documented sink field */
		s->out_spool = dst;
		return 0;
	}
	wn_writer *w = NULL;
	if (to_output && !(w = open_output(r, i, b, err, errlen)))
		return -1;
	if (wn_stream_open_spools(s, b->step->name, co, src, dst, err, errlen)) {
		if (w)
			wn_writer_abort(w);
		return -1;
	}
	s->out = w;
	return 0;
}

/* Bind, open, run and finish step i; *next is its output spool (NULL for the last). */
static int run_step(const wn_recipe *r, size_t i, const wn_recipe_env *env, wn_spool *src,
		    wn_spool **next, wn_step_report *reps, run_prov *pv, char *err, size_t errlen)
{
	wn_step_report *rep = &reps[i];
	wn_recipe_bound b;
	wn_stream s;
	char why[512] = "";
	*next = NULL;
	int rc = wn_recipe_bind(r, i, env, 1, &b, why, sizeof why);
	if (!rc && i + 1 < r->nsteps && !(*next = wn_spool_new(0, why, sizeof why)))
		rc = -1;
	if (!rc)
		rc = open_step(&s, r, i, &b, src, *next, why, sizeof why);
	if (rc) {
		wn_errf(err, errlen, "%s: step %zu (%s): %s", r->name, i + 1, r->steps[i].step->name, why);
	} else {
		give_prov(pv, r, i, &b, reps);
		s.command = env ? env->command : NULL;
		int ran = b.step->run(b.opts, &s, rep, why, sizeof why);
		if (ran && why[0])
			fprintf(stderr, "winnow %s: %s\n", b.step->name, why);
		if (i == 0 && keep_inputs(pv, &s)) {
			fprintf(stderr, "winnow %s: out of memory\n", b.step->name);
			ran = -1;
		}
		rc = wn_stream_finish(&s, ran == 0, rep) ? -1 : 0;
		if (rc)
			wn_errf(err, errlen, "%s: step %zu (%s) failed; nothing written", r->name, i + 1,
				b.step->name);
	}
	wn_recipe_unbind(&b);
	return rc;
}

static double since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) * 1e-9;
}

static void summary(const wn_recipe *r, const wn_step_report *reps, double seconds)
{
	uint64_t rejected = 0;
	for (size_t i = 0; i < r->nsteps; i++)
		rejected += reps[i].rejected;
	fprintf(stderr, "winnow run: %s: %zu steps, in %llu, out %llu, rejected %llu, %.2f s\n", r->name,
		r->nsteps, (unsigned long long)reps[0].in, (unsigned long long)reps[r->nsteps - 1].out,
		(unsigned long long)rejected, seconds);
}

int wn_runner_run(const wn_recipe *r, const wn_recipe_env *env, wn_step_report *reps,
		  char *err, size_t errlen)
{
	wn_step_report local[64];
	wn_step_report *rep = reps;
	if (!rep && r->nsteps > sizeof local / sizeof local[0]) {
		wn_errf(err, errlen, "%s: more than 64 steps need a report array", r->name);
		return -1;
	}
	if (!rep)
		rep = local;
	memset(rep, 0, r->nsteps * sizeof *rep);
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	wn_spool *src = NULL;
	run_prov pv = {0};
	wn_recipe_sha256(r, pv.sha256);
	int rc = 0;
	for (size_t i = 0; i < r->nsteps && rc == 0; i++) {
		wn_spool *next;
		rc = run_step(r, i, env, src, &next, rep, &pv, err, errlen);
		wn_spool_free(src);
		src = next;
	}
	wn_spool_free(src);
	prov_free(&pv);
	if (rc == 0 && !(env && env->quiet))
		summary(r, rep, since(&t0));
	return rc;
}
