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
 *
 * With a cache (pipelines/cache.h), a step pipelines/cache_step.h caches
 * runs through wn_cache_run_step instead (step 0 first reads its files
 * into a spool, with its own reader options and policy, so that it too
 * reads a spool). Before any step, a run whose last successful run is
 * still current stops with WN_RUNNER_NOTHING_NEW (pipelines/runstate.h);
 * after the last, the run's fingerprint (and the cache's counts) go into
 * the database's runs.extra and the cache's runs table.
 */
#include "pipelines/runner.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "io/errf.h"
#include "io/json.h"
#include "io/spool.h"
#include "pipelines/cache_step.h"
#include "pipelines/runstate.h"
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

/* Step i's stream: files (step 0) or the previous spool in; the next spool,
 * the output or nothing out. */
static int open_step(wn_stream *s, const wn_recipe *r, size_t i, wn_recipe_bound *b, wn_spool *src,
		     wn_spool *dst, char *err, size_t errlen)
{
	wn_stream_opts *co = b->opts;
	int to_output = i + 1 == r->nsteps && !(b->step->flags & WN_STEP_NO_OUTPUT);
	if (to_output)
		co->output = r->out_jsonl;
	return wn_stream_open_io(s, b->step->name, co, src ? 0 : b->npos, b->pos, src, dst, to_output,
				 err, errlen);
}

/* What one run keeps between steps. */
typedef struct run_ctx {
	const wn_recipe *r;
	const wn_recipe_env *env;
	wn_step_report *reps;
	run_prov pv;
	wn_cache *cache;
	wn_cache_counts *counts; /* per step; reused = computed = 0 when not cached */
	unsigned char *cached;   /* per step: 1 when it ran through the cache */
	char *err;
	size_t errlen;
} run_ctx;

/* Run the bound step over an open stream and finish it. */
static int run_open(run_ctx *x, size_t i, wn_recipe_bound *b, wn_stream *s, wn_step_report *rep)
{
	char why[512] = "";
	give_prov(&x->pv, x->r, i, b, x->reps);
	s->command = x->env ? x->env->command : NULL;
	int ran = b->step->run(b->opts, s, rep, why, sizeof why);
	if (ran && why[0])
		fprintf(stderr, "winnow %s: %s\n", b->step->name, why);
	if (i == 0 && s->in && keep_inputs(&x->pv, s)) {
		fprintf(stderr, "winnow %s: out of memory\n", b->step->name);
		ran = -1;
	}
	int rc = wn_stream_finish(s, ran == 0, rep) ? -1 : 0;
	if (rc)
		wn_errf(x->err, x->errlen, "%s: step %zu (%s) failed; nothing written", x->r->name, i + 1,
			b->step->name);
	return rc;
}

/* A cached step 0 reads its inputs first: the reader's pass (its policy,
 * --field, --csv) into a spool, as `winnow cat` would; in and the reader's
 * rejections count as the step's. */
static int read_inputs(run_ctx *x, wn_recipe_bound *b, wn_spool **out, wn_step_report *rep)
{
	char why[512] = "";
	wn_stream s;
	wn_stream_opts *co = b->opts;
	int quiet = co->quiet, rc = -1;
	co->quiet = 1;
	if ((*out = wn_spool_new(0, why, sizeof why)) &&
	    !wn_stream_open_io(&s, b->step->name, co, b->npos, b->pos, NULL, *out, 0, why, sizeof why)) {
		wn_record rec;
		int g;
		while ((g = wn_stream_next(&s, &rec)) > 0 && !wn_stream_emit(&s, &rec, NULL))
			;
		int bad = g != 0 || keep_inputs(&x->pv, &s);
		rc = wn_stream_finish(&s, !bad, rep) ? -1 : 0;
		why[0] = 0;
	}
	co->quiet = quiet;
	if (rc)
		wn_errf(x->err, x->errlen, "%s: step 1 (%s)%s%s", x->r->name, b->step->name,
			why[0] ? ": " : " failed; nothing written", why);
	return rc;
}

/* Step i through the cache (src: its input; step 0 reads its files first). */
static int run_cached(run_ctx *x, size_t i, wn_recipe_bound *b, wn_cache_key key, wn_spool *src,
		      wn_spool *dst)
{
	wn_step_report pre = {0};
	wn_spool *own = NULL;
	if (i == 0 && read_inputs(x, b, &own, &pre)) {
		wn_spool_free(own);
		return -1;
	}
	wn_recipe_unbind(b); /* the cached run binds the step once per batch */
	x->cached[i] = 1;
	int rc = wn_cache_run_step(x->cache, key, x->r, i, x->env, own ? own : src, dst, &x->reps[i],
				   &x->counts[i], x->err, x->errlen);
	wn_step_report *rep = &x->reps[i];
	if (own) { /* the reader's counts are step 0's */
		rep->in = pre.in;
		rep->rejected += pre.rejected;
		rep->bytes = pre.bytes;
	}
	wn_spool_free(own);
	if (rc == 0 && !(x->env && x->env->quiet)) {
		const char *name = x->r->steps[i].step->name;
		fprintf(stderr, "winnow %s: in %llu, out %llu, rejected %llu\n", name,
			(unsigned long long)rep->in, (unsigned long long)rep->out,
			(unsigned long long)rep->rejected);
		fprintf(stderr, "winnow %s: cache: reused %llu, computed %llu\n", name,
			(unsigned long long)x->counts[i].reused, (unsigned long long)x->counts[i].computed);
	}
	return rc;
}

/* Bind, open, run and finish step i; *next is its output spool (NULL for the last). */
static int run_step(run_ctx *x, size_t i, wn_spool *src, wn_spool **next)
{
	const wn_recipe *r = x->r;
	wn_recipe_bound b;
	wn_stream s;
	wn_cache_key key;
	wn_buf canon = WN_BUF_INIT;
	char why[512] = "";
	*next = NULL;
	int rc = wn_recipe_bind(r, i, x->env, 1, &b, why, sizeof why), cached = 0;
	if (!rc && i + 1 < r->nsteps && !(*next = wn_spool_new(0, why, sizeof why)))
		rc = -1;
	if (!rc && x->cache && (cached = wn_cache_step_key(r, i, &b, &key, &canon, why, sizeof why)) > 0 &&
	    wn_cache_note_step(x->cache, key, b.step->name, wn_buf_cstr(&canon)))
		snprintf(why, sizeof why, "%s", wn_cache_error(x->cache)), cached = -1;
	wn_buf_free(&canon);
	if (cached < 0)
		rc = -1;
	if (!rc && cached > 0) {
		rc = run_cached(x, i, &b, key, src, *next);
		return rc;
	}
	if (!rc)
		rc = open_step(&s, r, i, &b, src, *next, why, sizeof why);
	if (rc)
		wn_errf(x->err, x->errlen, "%s: step %zu (%s): %s", r->name, i + 1, r->steps[i].step->name, why);
	else
		rc = run_open(x, i, &b, &s, &x->reps[i]);
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

/* The store step's table (output: {db:}), for "nothing new": owned by the caller. */
static char *store_table(const wn_recipe *r)
{
	if (!r->nsteps || !r->steps[r->nsteps - 1].db)
		return NULL;
	wn_recipe_bound b;
	char why[512];
	char *t = NULL;
	/* the store step is known by its run function (a table of test steps may have another) */
	if (!wn_recipe_bind(r, r->nsteps - 1, NULL, 0, &b, why, sizeof why) &&
	    b.step->run == wn_store_step_run_v) {
		const wn_store_step_opts *o = b.opts;
		t = strdup(o->table ? o->table : "selection");
	}
	wn_recipe_unbind(&b);
	return t;
}

/* {"dir":D,"steps":[{"step":S,"reused":N,"computed":N},...]} of the cached steps. */
static int counts_json(const run_ctx *x, const char *dir, wn_buf *j)
{
	int bad = wn_buf_puts(j, "{\"dir\":") || wn_json_put_string(j, dir, strlen(dir)) ||
		  wn_buf_puts(j, ",\"steps\":[");
	for (size_t i = 0, n = 0; i < x->r->nsteps && !bad; i++) {
		if (!x->cached[i])
			continue;
		const char *name = x->r->steps[i].step->name;
		bad = (n++ && wn_buf_putc(j, ',')) || wn_buf_puts(j, "{\"step\":") ||
		      wn_json_put_string(j, name, strlen(name)) ||
		      wn_buf_printf(j, ",\"reused\":%llu,\"computed\":%llu}",
				    (unsigned long long)x->counts[i].reused,
				    (unsigned long long)x->counts[i].computed);
	}
	return bad || wn_buf_puts(j, "]}") ? -1 : 0;
}

/* After a successful run: the database's runs row gets the fingerprint
 * (and the cache's counts), the cache remembers the run. */
static int note_success(run_ctx *x, const char *dir)
{
	const wn_recipe *r = x->r;
	wn_buf j = WN_BUF_INIT;
	char fp[65];
	uint64_t size, h = 0;
	int rc = x->cache ? counts_json(x, dir, &j) : 0;
	if (rc)
		wn_errf(x->err, x->errlen, "%s: out of memory", r->name);
	if (!rc && (rc = wn_runstate_fingerprint(r, x->env, x->pv.inputs, x->pv.ninputs, fp)))
		wn_errf(x->err, x->errlen, "%s: cannot bind the steps", r->name);
	int real_store = r->out_db && r->steps[r->nsteps - 1].step->run == wn_store_step_run_v;
	if (!rc && real_store)
		rc = wn_runstate_note_db(r->out_db, fp, x->cache ? wn_buf_cstr(&j) : NULL, x->err, x->errlen);
	if (!rc && x->cache) {
		const char *out = r->out_db ? r->out_db : r->out_jsonl;
		if (r->out_jsonl && strcmp(r->out_jsonl, "-"))
			wn_runstate_file_hash(r->out_jsonl, &size, &h);
		if ((rc = wn_cache_record_run(x->cache, r->name, fp, out, h, wn_buf_cstr(&j))))
			wn_errf(x->err, x->errlen, "%s: %s", r->name, wn_cache_error(x->cache));
	}
	wn_buf_free(&j);
	return rc;
}

/* 1 (and the line printed) when the run has nothing new to do, 0 to run, -1 on error. */
static int nothing_new(run_ctx *x)
{
	const wn_recipe *r = x->r;
	if (x->env && x->env->force)
		return 0;
	char msg[768] = "", why[512] = "";
	char *table = store_table(r);
	int nn = wn_runstate_nothing_new(r, x->env, x->cache, table, msg, sizeof msg, why, sizeof why);
	free(table);
	if (nn < 0)
		wn_errf(x->err, x->errlen, "%s: %s", r->name, why);
	if (nn > 0 && !(x->env && x->env->quiet))
		fprintf(stderr, "winnow run: %s: nothing new to do: %s\n", r->name, msg);
	return nn;
}

static int run_all(run_ctx *x)
{
	wn_spool *src = NULL;
	int rc = 0;
	for (size_t i = 0; i < x->r->nsteps && rc == 0; i++) {
		wn_spool *next;
		rc = run_step(x, i, src, &next);
		wn_spool_free(src);
		src = next;
	}
	wn_spool_free(src);
	return rc;
}

int wn_runner_run(const wn_recipe *r, const wn_recipe_env *env, wn_step_report *reps,
		  char *err, size_t errlen)
{
	wn_step_report local[64];
	wn_cache_counts counts[64];
	unsigned char cached[64] = {0};
	if (r->nsteps > 64) {
		wn_errf(err, errlen, "%s: a recipe has at most 64 steps", r->name);
		return -1;
	}
	memset(counts, 0, sizeof counts);
	run_ctx x = {r, env, reps ? reps : local, {0}, NULL, counts, cached, err, errlen};
	memset(x.reps, 0, r->nsteps * sizeof *x.reps);
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	wn_recipe_sha256(r, x.pv.sha256);
	const char *dir = r->cache; /* the recipe's, or --cache DIR (wn_recipe_parse) */
	char why[512];
	if (dir && !(x.cache = wn_cache_open(dir, why, sizeof why))) {
		wn_errf(err, errlen, "%s: %s", r->name, why);
		return -1;
	}
	int rc = nothing_new(&x);
	if (rc == 0) {
		rc = run_all(&x);
		/* the output step found nothing new (store --mode append-new skipped every record) */
		if (rc == 0 && r->nsteps && x.reps[r->nsteps - 1].nothing_new) {
			rc = WN_RUNNER_NOTHING_NEW;
			if (!(env && env->quiet))
				fprintf(stderr, "winnow run: %s: nothing new to do: every record is already in the table\n",
					r->name);
		}
	} else if (rc > 0)
		rc = WN_RUNNER_NOTHING_NEW;
	if (rc == 0 && (x.cache || r->out_db))
		rc = note_success(&x, dir);
	wn_cache_close(x.cache);
	prov_free(&x.pv);
	if (rc == 0 && !(env && env->quiet))
		summary(r, x.reps, since(&t0));
	return rc;
}
