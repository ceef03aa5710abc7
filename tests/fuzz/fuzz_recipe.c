/*
 * tests/fuzz/fuzz_recipe.c — libFuzzer harness for the recipe parser
 * (pipelines/recipe.c, recipe_bind.c, recipe_print.c): arbitrary bytes as
 * recipe text against a small table of test steps (an integer, a short-only
 * option, a string, a boolean, a callback, the stream options). Either a
 * plan comes back, and then printing it as a plan, a shell line and an
 * explanation must work, or NULL with a one-line positioned error starting
 * "fuzz.yaml:" and holding no newline. Never the file system: the inputs
 * are not expanded (that is wn_recipe_resolve).
 */
#include "pipelines/recipe.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct fz_opts {
	wn_stream_opts io;
	int64_t k, seed;
	const char *name;
	int flag;
	double x;
} fz_opts;

static void fz_init(void *p)
{
	*(fz_opts *)p = (fz_opts){WN_STREAM_OPTS_INIT, -1, 0, NULL, 0, 0};
}

static int fz_cb(const struct wn_option *opt, const char *arg, char *err, size_t n)
{
	if (!strchr(arg, '=')) {
		snprintf(err, n, "expects PATH=VALUE");
		return -1;
	}
	return 0;
}

static void fz_options(void *p, struct wn_option *t)
{
	fz_opts *o = p;
	WN_STEP_TABLE(t,
		OPT_INT64('k', NULL, &o->k, "K", "short only"),
		OPT_INT64(0, "seed", &o->seed, "S", "seed"),
		OPT_STRING(0, "name", &o->name, "FILE", "a file"),
		OPT_BOOL(0, "flag", &o->flag, "a boolean"),
		OPT_DOUBLE(0, "x", &o->x, "X", "a number"),
		OPT_CALLBACK(0, "min", o, "P=V", "repeatable", fz_cb),
		WN_STREAM_OPTIONS(&o->io),
		WN_COMPUTE_OPTIONS(&o->io));
}

static int fz_check(void *p, int *npos, const char **pos, char *err, size_t n)
{
	if (((fz_opts *)p)->k == 0) {
		snprintf(err, n, "-k must be positive");
		return -1;
	}
	return 0;
}

static int fz_store_check(void *p, int *npos, const char **pos, char *err, size_t n)
{
	if (*npos < 1) {
		snprintf(err, n, "missing the database path");
		return -1;
	}
	memmove(pos, pos + 1, (size_t)(*npos - 1) * sizeof *pos);
	(*npos)--;
	return 0;
}

static int fz_run(void *p, wn_stream *s, wn_step_report *r, char *err, size_t n) { return 0; }

static const char *const fz_usage[] = {"winnow fz [options]", NULL};
static const wn_step fz_a = {"cat", fz_usage, sizeof(fz_opts), 0, fz_init, fz_options, fz_check, fz_run, NULL};
static const wn_step fz_b = {"cluster kmeans", fz_usage, sizeof(fz_opts), WN_STEP_WHOLE, fz_init,
			     fz_options, fz_check, fz_run, NULL};
static const wn_step fz_store = {"store", fz_usage, sizeof(fz_opts), WN_STEP_NO_OUTPUT, fz_init,
				 fz_options, fz_store_check, fz_run, NULL};
static const wn_step *const fz_steps[] = {&fz_a, &fz_b, &fz_store, NULL};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[1024] = "";
	wn_recipe_env env = {"2", NULL, 0, NULL, NULL};
	wn_recipe *r = wn_recipe_parse("fuzz.yaml", (const char *)data, size, fz_steps, &env, err, sizeof err);
	if (!r) {
		if (strncmp(err, "fuzz.yaml:", 10) || strchr(err, '\n'))
			abort();
		return 0;
	}
	FILE *f = fopen("/dev/null", "w");
	if (!f)
		abort();
	if (wn_recipe_print_plan(f, r, &env) || wn_recipe_print_explain(f, r))
		abort();
	fclose(f);
	wn_recipe_free(r);
	return 0;
}
