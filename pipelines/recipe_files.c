/*
 * pipelines/recipe_files.c — what a recipe asks of the file system before
 * any work starts: its own text, its input patterns expanded (glob(3), each
 * pattern's matches in byte order, so that the same files always arrive in
 * the same order whatever the locale), and a directory for its output.
 *
 * Owns: the expanded input list (in the plan). Borrows: glob(3), stat(2),
 * io/slurp.h (the recipe text).
 */
#include "pipelines/recipe.h"

#include <errno.h>
#include <glob.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "io/errf.h"
#include "io/slurp.h"

#define RECIPE_MAX_BYTES (1u << 20)

#define file_err(r, at, err, errlen, ...) wn_recipe_error((err), (errlen), (r)->name, (at), __VA_ARGS__)

static int by_bytes(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add_input(wn_recipe *r, const char *path)
{
	char **p = realloc(r->inputs, (r->ninputs + 1) * sizeof *p);
	if (!p)
		return -1;
	r->inputs = p;
	if (!(p[r->ninputs] = strdup(path)))
		return -1;
	r->ninputs++;
	return 0;
}

/* One input that must be a readable file (not a directory). */
static int check_file(const wn_recipe *r, wn_recipe_pos at, const char *path, char *err,
		      size_t errlen)
{
	struct stat st;
	if (stat(path, &st))
		return file_err(r, at, err, errlen, "input '%s': %s", path, strerror(errno));
	if (S_ISDIR(st.st_mode))
		return file_err(r, at, err, errlen, "input '%s': is a directory", path);
	return 0;
}

static int expand(wn_recipe *r, size_t i, char *err, size_t errlen)
{
	const char *pat = r->patterns[i];
	wn_recipe_pos at = r->pattern_at[i];
	if (!strpbrk(pat, "*?[")) /* a plain name: it must exist */
		return check_file(r, at, pat, err, errlen) ||
		       (add_input(r, pat) ? file_err(r, at, err, errlen, "out of memory") : 0);
	glob_t g;
	int rc = glob(pat, GLOB_NOSORT, NULL, &g);
	if (rc == GLOB_NOMATCH || (rc == 0 && g.gl_pathc == 0)) {
		if (rc == 0)
			globfree(&g);
		return file_err(r, at, err, errlen, "input pattern '%s' matches no file", pat);
	}
	if (rc)
		return file_err(r, at, err, errlen, "input pattern '%s': cannot be read (%s)", pat,
				rc == GLOB_NOSPACE ? "out of memory" : "read error");
	qsort(g.gl_pathv, g.gl_pathc, sizeof *g.gl_pathv, by_bytes);
	int bad = 0;
	for (size_t k = 0; k < g.gl_pathc && !bad; k++)
		bad = check_file(r, at, g.gl_pathv[k], err, errlen) ||
		      (add_input(r, g.gl_pathv[k]) ? file_err(r, at, err, errlen, "out of memory") : 0);
	globfree(&g);
	return bad ? -1 : 0;
}

/* The directory the output file will be created in must exist. */
static int check_output_dir(const wn_recipe *r, const char *path, char *err, size_t errlen)
{
	if (!path || !strcmp(path, "-"))
		return 0;
	const char *slash = strrchr(path, '/');
	if (!slash)
		return 0;
	char *dir = strndup(path, slash == path ? 1 : (size_t)(slash - path));
	struct stat st;
	int rc = 0;
	if (!dir)
		rc = file_err(r, r->out_at, err, errlen, "out of memory");
	else if (stat(dir, &st))
		rc = file_err(r, r->out_at, err, errlen, "output '%s': %s: %s", path, dir, strerror(errno));
	else if (!S_ISDIR(st.st_mode))
		rc = file_err(r, r->out_at, err, errlen, "output '%s': %s is not a directory", path, dir);
	free(dir);
	return rc;
}

int wn_recipe_resolve(wn_recipe *r, char *err, size_t errlen)
{
	for (size_t i = 0; i < r->npatterns; i++)
		if (expand(r, i, err, errlen))
			return -1;
	return check_output_dir(r, r->out_jsonl ? r->out_jsonl : r->out_db, err, errlen);
}

wn_recipe *wn_recipe_load(const char *path, const wn_step *const *steps,
			  const wn_recipe_env *env, char *err, size_t errlen)
{
	size_t len;
	char *text = wn_slurp(path, RECIPE_MAX_BYTES, "a recipe is at most 1 MiB", &len, err,
			      errlen);
	if (!text)
		return NULL;
	wn_recipe *r = wn_recipe_parse(path, text, len, steps, env, err, errlen);
	free(text);
	if (r && wn_recipe_resolve(r, err, errlen)) {
		wn_recipe_free(r);
		return NULL;
	}
	return r;
}
