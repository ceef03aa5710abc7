/*
 * pipelines/recipe_print.c — a plan as text: `winnow run --dry-run` (the
 * plan and the equivalent shell pipeline) and `--explain` (what each step
 * reads and writes).
 *
 * Owns: turning a step's recipe keys back into argv words, through the
 * step's own table (a boolean becomes --name or --no-name, an option with
 * only a short name becomes -k), quoted so that the line can be pasted into
 * a shell and gives the same bytes as the recipe (tests/cli/t7000 runs it).
 * Borrows: wn_recipe_bind for the tables.
 */
#include "pipelines/recipe.h"
#include "pipelines/cache_step.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A shell word as it can be pasted back: bare when safe, else '...'. */
static void put_word(FILE *f, const char *w)
{
	if (*w && strspn(w, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			    "0123456789_-+=./:,@%") == strlen(w)) {
		fputs(w, f);
		return;
	}
	fputc('\'', f);
	for (const char *p = w; *p; p++)
		if (*p == '\'')
			fputs("'\\''", f);
		else
			fputc(*p, f);
	fputc('\'', f);
}

static int truthy(const char *v)
{
	return !strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on") || !strcmp(v, "1");
}

/* " --name value" (or -k value, --flag, --no-flag) for one key. */
static void put_option(FILE *f, const wn_recipe_bound *b, const char *key, const char *value)
{
	const struct wn_option *o = wn_opts_find(b->keys, key);
	if (!o)
		return;
	const struct wn_option *t = &b->tab[o - b->keys];
	int flag = t->type == WN_OPT_BOOL || t->type == WN_OPT_COUNT;
	if (flag && !truthy(value)) {
		if (t->type == WN_OPT_BOOL && t->long_name)
			fprintf(f, " --no-%s", t->long_name);
		return;
	}
	if (t->long_name)
		fprintf(f, " --%s", t->long_name);
	else
		fprintf(f, " -%c", t->short_name);
	if (!flag) {
		fputc(' ', f);
		put_word(f, value);
	}
}

static int has_key(const wn_recipe_step *rs, const char *key)
{
	for (size_t i = 0; i < rs->nkv; i++)
		if (!strcmp(rs->kv[i].key, key))
			return 1;
	return 0;
}

/* "name [db] options" of step i (with_io: the inputs for step 0, -o for the last). */
static int put_step(FILE *f, const wn_recipe *r, size_t i, const wn_recipe_env *env, int with_io)
{
	const wn_recipe_step *rs = &r->steps[i];
	wn_recipe_bound b;
	char err[1024];
	int rc = wn_recipe_bind(r, i, env, 0, &b, err, sizeof err);
	if (rc == 0) {
		fputs(rs->step->name, f);
		if (rs->db)
			fputc(' ', f), put_word(f, rs->db);
		for (size_t k = 0; k < rs->nkv; k++)
			put_option(f, &b, rs->kv[k].key, rs->kv[k].value);
		if (r->seed && wn_opts_find(b.keys, "seed") && !has_key(rs, "seed"))
			put_option(f, &b, "seed", r->seed);
		if (env && env->threads && wn_opts_find(b.keys, "threads"))
			put_option(f, &b, "threads", env->threads);
		if (env && env->device && wn_opts_find(b.keys, "device"))
			put_option(f, &b, "device", env->device);
		if (env && env->quiet)
			fputs(" -q", f);
		if (with_io && i + 1 == r->nsteps && r->out_jsonl && strcmp(r->out_jsonl, "-"))
			fputs(" -o ", f), put_word(f, r->out_jsonl);
		for (size_t k = 0; with_io && i == 0 && k < r->ninputs; k++)
			fputc(' ', f), put_word(f, r->inputs[k]);
	}
	wn_recipe_unbind(&b);
	return rc;
}

int wn_recipe_print_shell(FILE *f, const wn_recipe *r, const wn_recipe_env *env)
{
	for (size_t i = 0; i < r->nsteps; i++) {
		fputs(i ? " | winnow " : "winnow ", f);
		if (put_step(f, r, i, env, 1))
			return -1;
	}
	return ferror(f) ? -1 : 0;
}

int wn_recipe_print_plan(FILE *f, const wn_recipe *r, const wn_recipe_env *env)
{
	char sha[65];
	wn_recipe_sha256(r, sha);
	fprintf(f, "recipe %s: winnow 1", r->name);
	if (r->seed)
		fprintf(f, ", seed %s", r->seed);
	fprintf(f, "\nsha256 %s\ninputs (%zu):\n", sha, r->ninputs);
	for (size_t i = 0; i < r->ninputs; i++)
		fprintf(f, "  %s\n", r->inputs[i]);
	fprintf(f, "steps (%zu):\n", r->nsteps);
	for (size_t i = 0; i < r->nsteps; i++) {
		fprintf(f, "  %zu. ", i + 1);
		if (put_step(f, r, i, env, 0))
			return -1;
		fputc('\n', f);
	}
	if (r->out_db)
		fprintf(f, "output: database %s (one transaction)\n", r->out_db);
	else if (!strcmp(r->out_jsonl, "-"))
		fprintf(f, "output: standard output (held back until every step succeeded)\n");
	else
		fprintf(f, "output: %s (written atomically when every step succeeded)\n", r->out_jsonl);
	if (r->cache) {
		fprintf(f, "cache: %s (per record:", r->cache);
		for (size_t i = 0, n = 0; i < r->nsteps; i++)
			if (wn_cache_step_cached(&r->steps[i]))
				fprintf(f, "%s %zu. %s", n++ ? "," : "", i + 1, r->steps[i].step->name);
		fputs("; the other steps run over the whole stream every time)\n", f);
	}
	fputs("shell: ", f);
	if (wn_recipe_print_shell(f, r, env))
		return -1;
	fputc('\n', f);
	return ferror(f) ? -1 : 0;
}

/* " files: --target x.jsonl ..." for the options naming files that step i sets. */
static void put_files(FILE *f, const wn_recipe *r, size_t i)
{
	const wn_recipe_step *rs = &r->steps[i];
	wn_recipe_bound b;
	char err[1024];
	int n = 0;
	if (wn_recipe_bind(r, i, NULL, 0, &b, err, sizeof err) == 0)
		for (size_t k = 0; k < rs->nkv; k++) {
			const struct wn_option *o = wn_opts_find(b.keys, rs->kv[k].key);
			if (!o || !o->argh || (strcmp(o->argh, "FILE") && strcmp(o->argh, "DB")))
				continue;
			fputs(n++ ? ", --" : "; files named: --", f);
			fprintf(f, "%s ", o->long_name);
			put_word(f, rs->kv[k].value);
		}
	wn_recipe_unbind(&b);
}

int wn_recipe_print_explain(FILE *f, const wn_recipe *r)
{
	for (size_t i = 0; i < r->nsteps; i++) {
		const wn_recipe_step *rs = &r->steps[i];
		fprintf(f, "%zu. %s: reads ", i + 1, rs->step->name);
		if (i == 0 && !r->ninputs) /* not resolved: the patterns as written */
			fprintf(f, "the inputs (%s%s)", r->patterns[0], r->npatterns > 1 ? ", ..." : "");
		else if (i == 0)
			fprintf(f, "%zu input file%s (%s%s)", r->ninputs, r->ninputs == 1 ? "" : "s",
				r->inputs[0], r->ninputs > 1 ? ", ..." : "");
		else
			fprintf(f, "the records of step %zu", i);
		if (rs->step->flags & WN_STEP_WHOLE)
			fputs(", the whole stream before it writes", f);
		if (rs->db)
			fprintf(f, "; writes table rows into %s in one transaction", rs->db);
		else if (i + 1 < r->nsteps)
			fprintf(f, "; writes records to step %zu through a spool (memory, then an unlinked file)", i + 2);
		else if (!strcmp(r->out_jsonl, "-"))
			fputs("; writes records to standard output when every step succeeded", f);
		else
			fprintf(f, "; writes records to %s, renamed into place when every step succeeded", r->out_jsonl);
		put_files(f, r, i);
		if (r->cache && wn_cache_step_cached(rs))
			fprintf(f, "; cached per record in %s (computes only records it has not seen)", r->cache);
		else if (r->cache)
			fputs("; not cached (runs every time)", f);
		fputc('\n', f);
	}
	return ferror(f) ? -1 : 0;
}
