/*
 * pipelines/recipe.h — a recipe (`winnow run recipe.yaml`): the YAML file
 * read into a plan (inputs, steps with their options, output), validated
 * against every step's own option table before any work starts.
 *
 * Owns: the plan (every string in it is its own copy), the recipe's text
 * (for provenance), the positioned error messages
 * ("recipe.yaml:7:5: unknown option 'kk' for cluster kmeans; did you mean 'k'?").
 * Borrows: libyaml (the parser), io/step.h (the step shape; the table of
 * steps is the caller's, passed in, so that nothing here includes cmd/),
 * io/options.h (wn_opts_set: the same value checks as argv).
 *
 * Format, version 1:
 *   winnow: 1                          required
 *   seed: 42                           optional: given to every step that has
 *                                      a --seed option and does not set one
 *   inputs: [corpora/part-*.jsonl]     one pattern or a list; globs expanded,
 *                                      each pattern's matches in byte order
 *   steps:                             a list, run in order in one process
 *     - cat                            a step without options
 *     - cluster kmeans: {k: 100}       a step name: {long option: value};
 *                                      an option with only a short name (-k)
 *                                      is keyed by its letter; a list value
 *                                      repeats the option (min: [a=1, b=2])
 *   cache: state/cache                 optional: a directory for the per-step
 *                                      record cache (pipelines/cache.h); a
 *                                      rerun computes only records it lacks
 *   output: {jsonl: out.jsonl}         or {db: out.db, table: T, mode: M}:
 *                                      the store step runs last, and its runs
 *                                      row records the inputs, the recipe and
 *                                      its sha256, and each step's counts
 * Relative paths are relative to the current directory, as in a shell.
 */
#ifndef WN_PIPELINES_RECIPE_H
#define WN_PIPELINES_RECIPE_H

#include <stddef.h>
#include <stdio.h>

#include "io/options.h"
#include "io/step.h"

#ifdef __cplusplus
extern "C" {
#endif

/* 1-based line and column in the recipe file. */
typedef struct wn_recipe_pos {
	unsigned line, col;
} wn_recipe_pos;

/* One option of a step, as the recipe gives it (a list value gives several). */
typedef struct wn_recipe_kv {
	char *key, *value;
	wn_recipe_pos key_at, value_at;
} wn_recipe_kv;

typedef struct wn_recipe_step {
	const wn_step *step;
	wn_recipe_pos at;  /* the step's name */
	wn_recipe_kv *kv;
	size_t nkv;
	const char *db;    /* the store step made from output.db: its positional word */
} wn_recipe_step;

typedef struct wn_recipe {
	char *name;              /* the recipe's file name, for messages */
	char *text;              /* the recipe's bytes, NUL-terminated */
	size_t text_len;
	char *seed;              /* NULL when not given */
	wn_recipe_pos seed_at;
	char **patterns;         /* inputs as written */
	wn_recipe_pos *pattern_at;
	size_t npatterns;
	char **inputs;           /* expanded by wn_recipe_resolve */
	size_t ninputs;
	wn_recipe_step *steps;   /* the recipe's steps, then store when output.db */
	size_t nsteps;
	char *out_jsonl;         /* output.jsonl ("-": stdout), or NULL */
	char *out_db;            /* output.db, or NULL */
	wn_recipe_pos out_at;
	char *cache;             /* cache: DIR (pipelines/cache.h), or NULL */
	wn_recipe_pos cache_at;
} wn_recipe;

/* What `winnow run` gives every step that has the option (NULL: leave it). */
typedef struct wn_recipe_env {
	const char *threads;     /* "2" */
	const char *device;      /* "cpu" */
	int quiet;               /* -q: no closing lines */
	const char *output;      /* -o FILE: JSONL to FILE instead of the recipe's output */
	const char *command;     /* the command line as typed, for the store's runs.command */
	const char *cache;       /* --cache DIR: instead of the recipe's cache: */
	int force;               /* --force: run even when there is nothing new */
	int no_cache;            /* --no-cache: ignore the recipe's cache: */
} wn_recipe_env;

/*
 * Parse and validate recipe text: YAML, the keys of every level, the step
 * names (looked up in steps, a NULL-terminated table), every step's options
 * (set on a scratch options struct through the step's own table, then the
 * step's check). Does not touch the file system (see wn_recipe_resolve).
 * Returns the plan, or NULL with one positioned line in err.
 */
wn_recipe *wn_recipe_parse(const char *name, const char *text, size_t len,
			   const wn_step *const *steps, const wn_recipe_env *env, char *err,
			   size_t errlen);
/* Expand the input patterns and check that the output's directory exists:
 * 0, or -1 with one positioned line in err. */
int wn_recipe_resolve(wn_recipe *r, char *err, size_t errlen);
/* Read the file at path, parse and resolve it. NULL with the reason in err. */
wn_recipe *wn_recipe_load(const char *path, const wn_step *const *steps,
			  const wn_recipe_env *env, char *err, size_t errlen);
void wn_recipe_free(wn_recipe *r);
/* The SHA-256 of the recipe's bytes as 64 hex digits (for provenance). */
void wn_recipe_sha256(const wn_recipe *r, char hex[65]);

/* One step of a plan bound to a live options struct, as argv would fill it. */
typedef struct wn_recipe_bound {
	const wn_step *step;
	void *opts;                 /* starts with a wn_stream_opts */
	struct wn_option *tab;      /* the step's table, bound to opts */
	struct wn_option *keys;     /* the same, short-only options named by their letter */
	char (*letters)[2];
	const char **pos;           /* positional words left after check: the inputs */
	int npos;
} wn_recipe_bound;

/*
 * Bind step i: init, the option table, the recipe's keys, the recipe's seed,
 * env, then the step's check with its positional words (store's database,
 * and the inputs when i is 0 and with_inputs). 0, or -1 with one positioned
 * line in err; wn_recipe_unbind in either case.
 */
int wn_recipe_bind(const wn_recipe *r, size_t i, const wn_recipe_env *env, int with_inputs,
		   wn_recipe_bound *b, char *err, size_t errlen);
void wn_recipe_unbind(wn_recipe_bound *b);
/* Bind and unbind every step (what wn_recipe_parse does last): 0 or -1. */
int wn_recipe_check_steps(const wn_recipe *r, const wn_recipe_env *env, char *err, size_t errlen);

/* "name:line:col: what" into err, on one line: control bytes in what (a
 * YAML key may hold a folded line break) become '?'. For the recipe's
 * modules. Returns -1. */
int wn_recipe_error(char *err, size_t errlen, const char *name, wn_recipe_pos at, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* --dry-run: the plan, then "shell: <the equivalent pipeline>". */
int wn_recipe_print_plan(FILE *f, const wn_recipe *r, const wn_recipe_env *env);
/* The equivalent shell pipeline on one line (no newline). */
int wn_recipe_print_shell(FILE *f, const wn_recipe *r, const wn_recipe_env *env);
/* --explain: one line per step, what it reads and what it writes. */
int wn_recipe_print_explain(FILE *f, const wn_recipe *r);

#ifdef __cplusplus
}
#endif

#endif
