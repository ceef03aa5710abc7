/*
 * pipelines/recipe_bind.c — one step of a plan bound to a live options
 * struct, exactly as the CLI's step driver fills it from argv (see
 * wn_recipe_bind in pipelines/recipe.h).
 *
 * Owns: the options struct and its tables while bound; the rule that a
 * recipe's keys are a step's long option names (or the letter of an option
 * that has only a short one), and that output and stream are the recipe's
 * business, not a step's. Borrows: the step's init/options/check/release,
 * io/options.h (wn_opts_set: argv's value checks; wn_opts_suggest),
 * core/core.h (the --device names, checked as the step driver checks them).
 */
#include "pipelines/recipe.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "io/errf.h"

#define bind_err(r, at, err, errlen, ...) wn_recipe_error((err), (errlen), (r)->name, (at), __VA_ARGS__)

static int bind_alloc(wn_recipe_bound *b, size_t npos)
{
	b->opts = calloc(1, b->step->opts_size);
	b->tab = calloc(WN_STEP_MAX_OPTIONS, sizeof *b->tab);
	b->keys = calloc(WN_STEP_MAX_OPTIONS, sizeof *b->keys);
	b->letters = calloc(WN_STEP_MAX_OPTIONS, sizeof *b->letters);
	b->pos = calloc(npos + 1, sizeof *b->pos);
	return b->opts && b->tab && b->keys && b->letters && b->pos ? 0 : -1;
}

/* keys = tab, with an option that has only a short name (-k) named by its letter. */
static void name_letters(wn_recipe_bound *b)
{
	for (int i = 0; i < WN_STEP_MAX_OPTIONS; i++) {
		b->keys[i] = b->tab[i];
		if (b->tab[i].type == WN_OPT_END)
			break;
		if (!b->tab[i].long_name && b->tab[i].short_name && b->tab[i].type != WN_OPT_GROUP) {
			b->letters[i][0] = (char)b->tab[i].short_name;
			b->keys[i].long_name = b->letters[i];
		}
	}
}

static int is_recipe_level(const char *key)
{
	return !strcmp(key, "output") || !strcmp(key, "stream");
}

static const wn_recipe_kv *find_kv(const wn_recipe_step *rs, const char *key)
{
	for (size_t i = 0; i < rs->nkv; i++)
		if (!strcmp(rs->kv[i].key, key))
			return &rs->kv[i];
	return NULL;
}

static int set_key(const wn_recipe *r, const wn_recipe_step *rs, wn_recipe_bound *b,
		   const wn_recipe_kv *kv, char *err, size_t errlen)
{
	const char *name = rs->step->name;
	if (is_recipe_level(kv->key))
		return bind_err(r, kv->key_at, err, errlen,
				"option '%s' is not set per step in a recipe (the recipe's output: says where records go)",
				kv->key);
	if (!wn_opts_find(b->keys, kv->key)) {
		const char *s = wn_opts_suggest(b->keys, kv->key);
		if (s)
			return bind_err(r, kv->key_at, err, errlen, "unknown option '%s' for %s; did you mean '%s'?",
					kv->key, name, s);
		return bind_err(r, kv->key_at, err, errlen, "unknown option '%s' for %s", kv->key, name);
	}
	char why[512] = "";
	if (wn_opts_set(b->keys, kv->key, kv->value, why, sizeof why))
		return bind_err(r, kv->value_at, err, errlen, "%s: %s", name, why);
	return 0;
}

/* The recipe's seed, for a step that has --seed and does not set it. */
static int set_seed(const wn_recipe *r, const wn_recipe_step *rs, wn_recipe_bound *b, char *err,
		    size_t errlen)
{
	if (!r->seed || !wn_opts_find(b->keys, "seed") || find_kv(rs, "seed"))
		return 0;
	char why[512] = "";
	if (wn_opts_set(b->keys, "seed", r->seed, why, sizeof why))
		return bind_err(r, r->seed_at, err, errlen, "%s: %s", rs->step->name, why);
	return 0;
}

static int set_env(const wn_recipe *r, const wn_recipe_step *rs, const wn_recipe_env *env,
		   wn_recipe_bound *b, char *err, size_t errlen)
{
	wn_stream_opts *co = b->opts;
	if (!env)
		return 0;
	char why[512] = "";
	if ((env->threads && wn_opts_find(b->keys, "threads") &&
	     wn_opts_set(b->keys, "threads", env->threads, why, sizeof why)) ||
	    (env->device && wn_opts_find(b->keys, "device") &&
	     wn_opts_set(b->keys, "device", env->device, why, sizeof why))) {
		wn_errf(err, errlen, "%s", why);
		return -1;
	}
	if (env->quiet)
		co->quiet = 1;
	return 0;
}

static int check_device(const wn_recipe *r, const wn_recipe_step *rs, const wn_recipe_bound *b,
			char *err, size_t errlen)
{
	const wn_stream_opts *co = b->opts;
	if (!co->device || !*co->device || wn_core_parse_device(co->device) >= 0)
		return 0;
	const wn_recipe_kv *kv = find_kv(rs, "device");
	wn_recipe_pos at = kv ? kv->value_at : rs->at;
	return bind_err(r, at, err, errlen, "%s: unknown device '%s' (expected cpu, cuda or auto)",
			rs->step->name, co->device);
}

/* The step's own check, with store's database and, for step 0, the inputs. */
static int check_step(const wn_recipe *r, const wn_recipe_step *rs, wn_recipe_bound *b,
		      int inputs, char *err, size_t errlen)
{
	int n = 0;
	if (rs->db)
		b->pos[n++] = rs->db;
	for (size_t i = 0; inputs && i < r->ninputs; i++)
		b->pos[n++] = r->inputs[i];
	int want = n - (rs->db ? 1 : 0);
	char why[512] = "";
	if (rs->step->check && rs->step->check(b->opts, &n, b->pos, why, sizeof why))
		return bind_err(r, rs->at, err, errlen, "%s: %s", rs->step->name, why);
	if (n != want)
		return bind_err(r, rs->at, err, errlen, "%s: did not take the database path", rs->step->name);
	b->npos = n;
	return 0;
}

int wn_recipe_bind(const wn_recipe *r, size_t i, const wn_recipe_env *env, int with_inputs,
		   wn_recipe_bound *b, char *err, size_t errlen)
{
	const wn_recipe_step *rs = &r->steps[i];
	memset(b, 0, sizeof *b);
	b->step = rs->step;
	if (bind_alloc(b, r->ninputs + 1)) {
		wn_errf(err, errlen, "%s: out of memory", r->name);
		return -1;
	}
	rs->step->init(b->opts);
	rs->step->options(b->opts, b->tab);
	name_letters(b);
	for (size_t k = 0; k < rs->nkv; k++)
		if (set_key(r, rs, b, &rs->kv[k], err, errlen))
			return -1;
	if (set_seed(r, rs, b, err, errlen) || set_env(r, rs, env, b, err, errlen) ||
	    check_device(r, rs, b, err, errlen))
		return -1;
	return check_step(r, rs, b, i == 0 && with_inputs, err, errlen);
}

void wn_recipe_unbind(wn_recipe_bound *b)
{
	if (b->opts && b->step->release)
		b->step->release(b->opts);
	free(b->opts);
	free(b->tab);
	free(b->keys);
	free(b->letters);
	free(b->pos);
	memset(b, 0, sizeof *b);
}

int wn_recipe_check_steps(const wn_recipe *r, const wn_recipe_env *env, char *err, size_t errlen)
{
	for (size_t i = 0; i < r->nsteps; i++) {
		wn_recipe_bound b;
		int rc = wn_recipe_bind(r, i, env, 0, &b, err, errlen);
		wn_recipe_unbind(&b);
		if (rc)
			return -1;
	}
	return 0;
}
