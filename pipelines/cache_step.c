/*
 * pipelines/cache_step.c — a step run through the recipe cache (see
 * pipelines/cache_step.h).
 *
 * One pass over the step's input decides, record by record: a hit becomes
 * its output bytes at once (the cached delta spliced in) and goes into the
 * plan spool; a miss goes into the plan as a placeholder ("-", never a JSON
 * object) and into the current batch. A full batch runs the step (bound
 * afresh, quiet, reading the batch's spool), and its records are matched to
 * their inputs by index, their deltas committed in one transaction, and
 * appended to the computed spool. Last, the plan is read in order and each
 * placeholder takes the computed record of the same index, or nothing when
 * the step dropped that record. Memory stays bounded: every list is a spool.
 */
#include "pipelines/cache_step.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "io/errf.h"

#ifndef WINNOW_VERSION
#define WINNOW_VERSION "unknown"
#endif

#define PLACEHOLDER "-"

size_t wn_cache_batch_size(void)
{
	const char *e = getenv("WINNOW_CACHE_BATCH");
	long v = e ? strtol(e, NULL, 10) : 0;
	return v > 0 ? (size_t)v : 1024;
}

/* ---- which steps, and their key ---- */

/* The steps cached, and whether the step numbers the records it writes
 * afresh (0, 1, ...: cluster/vectors.h does) instead of keeping the index
 * each had: the merge numbers them the same way, for the steps after it. */
static const struct cached_step {
	const char *name;
	int renumbers;
} cached_steps[] = {{"embed", 0}, {"score zipfit", 0}, {"cluster kmeans", 1}, {NULL, 0}};
/* options whose file is the step's own output: a batch would write it */
static const char *const own_files[] = {"npy", "stats", "centroids-out", "fit-idf", NULL};
/* options that change neither an annotation nor which records get one */
static const char *const neutral[] = {"threads", "quiet", "on-error", "quarantine",
				      "quarantine-append", "cache", NULL};

static int listed(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (!strcmp(*list, s))
			return 1;
	return 0;
}

static int has_kv(const wn_recipe_step *rs, const char *key)
{
	for (size_t k = 0; k < rs->nkv; k++)
		if (!strcmp(rs->kv[k].key, key))
			return 1;
	return 0;
}

static const struct cached_step *cached_step(const char *name)
{
	for (const struct cached_step *c = cached_steps; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

static int cacheable(const wn_recipe_step *rs)
{
	if (!cached_step(rs->step->name))
		return 0;
	if (!strcmp(rs->step->name, "cluster kmeans") && !has_kv(rs, "centroids"))
		return 0; /* training looks at every record: whole-stream */
	for (size_t k = 0; k < rs->nkv; k++)
		if (listed(own_files, rs->kv[k].key))
			return 0;
	return 1;
}

int wn_cache_step_cached(const wn_recipe_step *rs)
{
	return cacheable(rs);
}

static int hash_file(XXH3_state_t *st, const char *path, int depth);

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* A directory (a model): every file under it, by name, with its name
 * (at most 8 levels deep: a symbolic link back up is not followed forever). */
static int hash_dir(XXH3_state_t *st, const char *path, int depth)
{
	struct dirent **e;
	int n = depth > 8 ? -1 : scandir(path, &e, NULL, by_name), rc = 0;
	if (n < 0)
		return -1;
	for (int k = 0; k < n; k++) {
		const char *name = e[k]->d_name;
		if (!rc && strcmp(name, ".") && strcmp(name, "..")) {
			char *sub = malloc(strlen(path) + strlen(name) + 2);
			if (!sub)
				rc = -1;
			else {
				sprintf(sub, "%s/%s", path, name);
				XXH3_64bits_update(st, name, strlen(name) + 1);
				rc = hash_file(st, sub, depth + 1);
				free(sub);
			}
		}
		free(e[k]);
	}
	free(e);
	return rc;
}

static int hash_file(XXH3_state_t *st, const char *path, int depth)
{
	struct stat sb;
	if (stat(path, &sb))
		return -1;
	if (S_ISDIR(sb.st_mode))
		return hash_dir(st, path, depth);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	char buf[1 << 16];
	ssize_t n;
	while ((n = read(fd, buf, sizeof buf)) > 0)
		XXH3_64bits_update(st, buf, (size_t)n);
	close(fd);
	return n < 0 ? -1 : 0;
}

int wn_cache_hash_path(const char *path, uint64_t *h)
{
	XXH3_state_t *st = XXH3_createState();
	int rc = -1;
	if (st && XXH3_64bits_reset(st) == XXH_OK && hash_file(st, path, 0) == 0) {
		*h = XXH3_64bits_digest(st);
		rc = 0;
	}
	XXH3_freeState(st);
	return rc;
}

static int by_key(const void *a, const void *b)
{
	const wn_recipe_kv *x = *(const wn_recipe_kv *const *)a, *y = *(const wn_recipe_kv *const *)b;
	int c = strcmp(x->key, y->key);
	return c ? c : (x < y ? -1 : x > y);
}

/* " file=<xxh3>" for an option that names a file or directory that exists. */
static int put_file_hash(const wn_recipe *r, const wn_recipe_kv *kv, const struct wn_option *o,
			 wn_buf *canon, char *err, size_t errlen)
{
	struct stat sb;
	if (!o->argh || (!strstr(o->argh, "FILE") && !strstr(o->argh, "DIR") && strcmp(o->argh, "DB")) ||
	    stat(kv->value, &sb))
		return 0;
	uint64_t h;
	if (wn_cache_hash_path(kv->value, &h))
		return wn_recipe_error(err, errlen, r->name, kv->value_at, "cache: cannot read '%s'", kv->value);
	return wn_buf_printf(canon, " content=%016llx", (unsigned long long)h);
}

static int canon_options(const wn_recipe *r, const wn_recipe_step *rs, const wn_recipe_bound *b,
			 wn_buf *canon, char *err, size_t errlen)
{
	const wn_recipe_kv **kv = calloc(rs->nkv + 1, sizeof *kv);
	if (!kv)
		return -1;
	for (size_t k = 0; k < rs->nkv; k++)
		kv[k] = &rs->kv[k];
	qsort(kv, rs->nkv, sizeof *kv, by_key);
	int rc = 0;
	for (size_t k = 0; k < rs->nkv && !rc; k++) {
		if (listed(neutral, kv[k]->key))
			continue;
		rc = wn_buf_printf(canon, "%s=%s", kv[k]->key, kv[k]->value);
		const struct wn_option *o = wn_opts_find(b->keys, kv[k]->key);
		if (!rc && o)
			rc = put_file_hash(r, kv[k], o, canon, err, errlen) ? -2 : 0;
		if (!rc)
			rc = wn_buf_putc(canon, '\n');
	}
	free(kv);
	return rc;
}

int wn_cache_step_key(const wn_recipe *r, size_t i, const wn_recipe_bound *b, wn_cache_key *key,
		      wn_buf *canon, char *err, size_t errlen)
{
	const wn_recipe_step *rs = &r->steps[i];
	if (!cacheable(rs))
		return 0;
	const wn_stream_opts *co = b->opts;
	wn_buf_reset(canon);
	int rc = wn_buf_printf(canon, "winnow-cache 1\nversion %s\nstep %s\n", WINNOW_VERSION, rs->step->name);
	if (!rc)
		rc = canon_options(r, rs, b, canon, err, errlen);
	if (rc == -2)
		return -1;
	if (!rc && r->seed && wn_opts_find(b->keys, "seed") && !has_kv(rs, "seed"))
		rc = wn_buf_printf(canon, "seed=%s\n", r->seed);
	if (!rc)
		rc = wn_buf_printf(canon, "field=%s\ndevice=%s\n", co->field ? co->field : "text",
				   co->device ? co->device : "");
	if (rc) {
		wn_errf(err, errlen, "%s: out of memory", r->name);
		return -1;
	}
	*key = wn_cache_hash(canon->data, canon->len);
	return 1;
}

/* ---- one cached run ---- */

typedef struct cache_run {
	wn_cache *c;
	wn_cache_key key;
	const wn_recipe *r;
	size_t i;
	const wn_recipe_env *env;
	wn_spool *plan, *batch, *computed;
	size_t nbatches;
	uint64_t rejected;
	wn_cache_counts cnt;
	wn_annot annot;
	wn_buf delta, line, check;
	char *err;
	size_t errlen;
} cache_run;

/* Run the step (bound afresh, quiet) over batch into out. */
static int run_batch_step(cache_run *cr, wn_spool *out)
{
	wn_recipe_bound b;
	wn_stream s;
	wn_step_report rep = {0};
	char why[512] = "";
	int rc = wn_recipe_bind(cr->r, cr->i, cr->env, 0, &b, why, sizeof why);
	if (!rc) {
		wn_stream_opts *co = b.opts;
		co->quiet = 1;
		co->output = NULL;
		if (cr->nbatches || cr->i == 0)
			co->quarantine_append = 1; /* the quarantine started with the first pass */
		rc = wn_stream_open_io(&s, b.step->name, co, 0, NULL, cr->batch, out, 0, why, sizeof why);
	}
	if (rc) {
		wn_errf(cr->err, cr->errlen, "%s: step %zu (%s): %s", cr->r->name, cr->i + 1,
			cr->r->steps[cr->i].step->name, why);
	} else {
		int ran = b.step->run(b.opts, &s, &rep, why, sizeof why);
		if (ran && why[0])
			fprintf(stderr, "winnow %s: %s\n", b.step->name, why);
		rc = wn_stream_finish(&s, ran == 0, &rep) ? -1 : 0;
		cr->rejected += rep.rejected;
		if (rc)
			wn_errf(cr->err, cr->errlen, "%s: step %zu (%s) failed; nothing written", cr->r->name,
				cr->i + 1, b.step->name);
	}
	wn_recipe_unbind(&b);
	return rc;
}

/* The batch's input that out was made from: the next input that out is,
 * with annotations added (inputs the step dropped are passed over; a step
 * keeps the order of its records). 1 with *in and the delta in cr->delta,
 * 0 when no input is (the step changed something else), -1 on memory. */
static int match_input(cache_run *cr, const wn_record *out, wn_record *in)
{
	char why[512];
	for (;;) {
		int g = wn_spool_get(cr->batch, in, why, sizeof why);
		if (g <= 0)
			return 0;
		int d = wn_cache_delta(in->json, out->json, &cr->delta, &cr->annot, &cr->check);
		if (d)
			return d;
	}
}

/* Keep each record of out: its delta in the cache (one transaction), the
 * record in the computed spool under its input's index. */
static int commit_batch(cache_run *cr, wn_spool *out)
{
	char why[512] = "";
	wn_record o, in;
	int g, m = 1;
	if (wn_spool_rewind(cr->batch, why, sizeof why) || wn_spool_rewind(out, why, sizeof why) ||
	    wn_cache_begin(cr->c)) {
		wn_errf(cr->err, cr->errlen, "%s", why[0] ? why : wn_cache_error(cr->c));
		return -1;
	}
	while ((g = wn_spool_get(out, &o, why, sizeof why)) > 0) {
		if ((m = match_input(cr, &o, &in)) <= 0)
			break;
		if (wn_cache_put(cr->c, cr->key, wn_cache_hash(in.json.p, in.json.n), cr->delta.data,
				 cr->delta.len)) {
			wn_errf(cr->err, cr->errlen, "%s", wn_cache_error(cr->c));
			return -1;
		}
		o.index = in.index;
		if (wn_spool_put(cr->computed, &o, why, sizeof why))
			break;
	}
	if (m <= 0) {
		wn_errf(cr->err, cr->errlen, m < 0 ? "out of memory"
			: "cache: %s wrote a record that is not one of its inputs with annotations added; "
			  "run it without a cache", cr->r->steps[cr->i].step->name);
		return -1;
	}
	if (g < 0 || why[0] || wn_cache_commit(cr->c)) {
		wn_errf(cr->err, cr->errlen, "%s", why[0] ? why : wn_cache_error(cr->c));
		return -1;
	}
	return 0;
}

static int flush_batch(cache_run *cr)
{
	if (!wn_spool_count(cr->batch))
		return 0;
	char why[512];
	wn_spool *out = wn_spool_new(0, why, sizeof why);
	if (!out) {
		wn_errf(cr->err, cr->errlen, "%s", why);
		return -1;
	}
	int rc = run_batch_step(cr, out) || commit_batch(cr, out) ? -1 : 0;
	wn_spool_free(out);
	wn_spool_free(cr->batch);
	cr->batch = NULL;
	cr->nbatches++;
	if (!rc && !(cr->batch = wn_spool_new(0, why, sizeof why))) {
		wn_errf(cr->err, cr->errlen, "%s", why);
		rc = -1;
	}
	return rc;
}

/* One record of the step's input: a hit into the plan, a miss into the batch. */
static int plan_record(cache_run *cr, const wn_record *rec)
{
	char why[512] = "";
	int hit = wn_cache_get(cr->c, cr->key, wn_cache_hash(rec->json.p, rec->json.n), &cr->delta);
	if (hit < 0) {
		wn_errf(cr->err, cr->errlen, "%s", wn_cache_error(cr->c));
		return -1;
	}
	wn_record p = *rec;
	if (hit && wn_cache_apply(rec->json, cr->delta.data, cr->delta.len, &cr->annot, &cr->line) == 0) {
		p.json = (wn_span){cr->line.data, cr->line.len};
		cr->cnt.reused++;
		if (wn_spool_put(cr->plan, &p, why, sizeof why))
			goto fail;
		return 0;
	}
	p.json = (wn_span){PLACEHOLDER, 1};
	cr->cnt.computed++;
	if (wn_spool_put(cr->plan, &p, why, sizeof why) || wn_spool_put(cr->batch, rec, why, sizeof why))
		goto fail;
	return wn_spool_count(cr->batch) >= wn_cache_batch_size() ? flush_batch(cr) : 0;
fail:
	wn_errf(cr->err, cr->errlen, "%s", why);
	return -1;
}

static int plan_all(cache_run *cr, wn_spool *src)
{
	char why[512] = "";
	wn_record rec;
	int g;
	if (wn_spool_rewind(src, why, sizeof why)) {
		wn_errf(cr->err, cr->errlen, "%s", why);
		return -1;
	}
	while ((g = wn_spool_get(src, &rec, why, sizeof why)) > 0)
		if (plan_record(cr, &rec))
			return -1;
	if (g < 0) {
		wn_errf(cr->err, cr->errlen, "%s", why);
		return -1;
	}
	return flush_batch(cr);
}

/* Next computed record for a placeholder of index `index`: 1 and *c, or 0
 * when the step dropped that record. */
static int take_computed(wn_spool *computed, uint64_t index, wn_record *c, int *have, int *ended)
{
	char why[512];
	if (!*have && !*ended) {
		int g = wn_spool_get(computed, c, why, sizeof why);
		*have = g > 0;
		*ended = g <= 0;
	}
	if (!*have || c->index != index)
		return 0;
	*have = 0;
	return 1;
}

/* The plan in order into the step's sink: dst, or the recipe's output. */
static int merge(cache_run *cr, wn_spool *dst, wn_step_report *rep)
{
	wn_stream_opts mo = WN_STREAM_OPTS_INIT;
	wn_stream s;
	char why[512] = "";
	mo.quiet = 1;
	mo.output = dst ? NULL : cr->r->out_jsonl;
	if (wn_spool_rewind(cr->computed, why, sizeof why) ||
	    wn_stream_open_io(&s, cr->r->steps[cr->i].step->name, &mo, 0, NULL, cr->plan, dst, !dst, why,
			      sizeof why)) {
		wn_errf(cr->err, cr->errlen, "%s: step %zu (%s): %s", cr->r->name, cr->i + 1,
			cr->r->steps[cr->i].step->name, why);
		return -1;
	}
	wn_record rec, c;
	int g, have = 0, ended = 0, bad = 0;
	int renumbers = cached_step(cr->r->steps[cr->i].step->name)->renumbers;
	while (!bad && (g = wn_stream_next(&s, &rec)) > 0) {
		wn_record *e = &rec;
		if (rec.json.n == 1 && rec.json.p[0] == PLACEHOLDER[0])
			e = take_computed(cr->computed, rec.index, &c, &have, &ended) ? &c : NULL;
		if (e && renumbers)
			e->index = s.out_count;
		bad = e && wn_stream_emit(&s, e, NULL);
	}
	int rc = wn_stream_finish(&s, !bad && g == 0, rep) ? -1 : 0;
	if (rc)
		wn_errf(cr->err, cr->errlen, "%s: step %zu (%s) failed; nothing written", cr->r->name,
			cr->i + 1, cr->r->steps[cr->i].step->name);
	return rc;
}

static int new_spools(cache_run *cr)
{
	char why[512];
	if ((cr->plan = wn_spool_new(0, why, sizeof why)) && (cr->batch = wn_spool_new(0, why, sizeof why)) &&
	    (cr->computed = wn_spool_new(0, why, sizeof why)))
		return 0;
	wn_errf(cr->err, cr->errlen, "%s", why);
	return -1;
}

int wn_cache_run_step(wn_cache *c, wn_cache_key key, const wn_recipe *r, size_t i,
		      const wn_recipe_env *env, wn_spool *src, wn_spool *dst, wn_step_report *rep,
		      wn_cache_counts *cnt, char *err, size_t errlen)
{
	cache_run cr = {.c = c, .key = key, .r = r, .i = i, .env = env, .err = err, .errlen = errlen};
	wn_annot_init(&cr.annot);
	int rc = new_spools(&cr) || plan_all(&cr, src) || merge(&cr, dst, rep) ? -1 : 0;
	rep->step = r->steps[i].step->name;
	rep->rejected += cr.rejected;
	if (rc)
		rep->ok = 0;
	*cnt = cr.cnt;
	wn_spool_free(cr.plan);
	wn_spool_free(cr.batch);
	wn_spool_free(cr.computed);
	wn_annot_free(&cr.annot);
	wn_buf_free(&cr.delta);
	wn_buf_free(&cr.line);
	wn_buf_free(&cr.check);
	return rc;
}
