/*
 * selectors/plan.c — the `select` step (see selectors/plan.h): which mode
 * the options ask for, pulling keys, groups, weights and cluster paths out
 * of each record (a record that lacks one is a positioned error under
 * --on-error), and the plan: selections that need the whole stream keep a
 * few numbers per record in memory and the records themselves in the one
 * io/ spool, from which the kept ones are copied out in input order,
 * unchanged (plus winnow.epoch / winnow.weight where asked).
 *
 * Owns: the candidate columns and the spool of one run. Borrows: the
 * selection logic (selectors/subset.h), the stream (io/stream.h), the JSON
 * scanner (io/json.h).
 */
#include "selectors/plan.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/errf.h"
#include "io/json.h"
#include "io/spool.h"
#include "selectors/s2l.h"

enum select_mode {
	MODE_FILTER, MODE_TOP, MODE_SAMPLE, MODE_PER, MODE_EPOCHS, MODE_MIX, MODE_BALANCED, MODE_CLUSTERS
};

void wn_select_init(wn_select_opts *o)
{
	memset(o, 0, sizeof *o);
	o->io = (wn_stream_opts)WN_STREAM_OPTS_INIT;
	o->top = o->sample = o->cap = o->epochs = -1;
	o->frac = -1;
	o->temperature = 1;
	o->multiplier = 1;
	o->mode = MODE_FILTER;
}

void wn_select_release(wn_select_opts *o)
{
	for (size_t i = 0; i < o->nfilters; i++)
		wn_sel_filter_free(&o->filters[i]);
	free(o->filters);
	o->filters = NULL;
	o->nfilters = 0;
	wn_mix_weights_free(&o->mixw);
}

/* ---- --min / --max ------------------------------------------------------ */

int wn_select_filter_cb(const struct wn_option *opt, const char *arg, char *err, size_t errlen)
{
	wn_select_opts *o = opt->value;
	wn_sel_filter f;
	if (wn_sel_filter_parse(&f, arg, strcmp(opt->long_name, "max") == 0, err, errlen))
		return -1;
	wn_sel_filter *a = realloc(o->filters, (o->nfilters + 1) * sizeof *a);
	if (!a) {
		wn_sel_filter_free(&f);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	o->filters = a;
	o->filters[o->nfilters++] = f;
	return 0;
}

/* ---- which mode the options ask for --------------------------------------- */

/* A usage error (returned in err) when cond holds. */
#define REFUSE(cond, ...)                                                       \
	do {                                                                    \
		if (cond)                                                       \
			return wn_errf(err, errlen, __VA_ARGS__), -1;           \
	} while (0)

static int check_counts(const wn_select_opts *o, char *err, size_t errlen)
{
	REFUSE(o->top < -1 || o->sample < -1 || o->cap < -1 || o->epochs < -1,
	       "counts must not be negative");
	REFUSE(o->frac != -1 && !(o->frac >= 0 && o->frac <= 1), "--frac must be in [0, 1]");
	REFUSE(o->mix && !(o->temperature > 0 && isfinite(o->temperature)),
	       "--temperature must be a positive number");
	REFUSE(o->log_weights && !o->weights, "--log-weights needs --weights PATH");
	REFUSE(o->asc && !o->by, "--asc needs --by PATH");
	REFUSE(o->upweight && !o->mix, "--upweight needs --mix PATH");
	REFUSE(o->temperature != 1 && !o->mix, "--temperature needs --mix PATH");
	REFUSE(o->hier && !o->balanced, "--hier needs --balanced");
	REFUSE((o->multiplier != 1 || o->strategy) && !o->balanced,
	       "--multiplier and --strategy need --balanced");
	REFUSE(o->cap >= 0 && !o->per && !o->balanced, "--cap needs --per PATH or --balanced");
	REFUSE(o->epochs == 0, "--epochs must be at least 1");
	return 0;
}

static int decide_mode(const wn_select_opts *o, char *err, size_t errlen)
{
	int top = o->top >= 0, frac = o->frac >= 0, sample = o->sample >= 0, cap = o->cap >= 0;
	if (check_counts(o, err, errlen))
		return -1;
	if (o->clusters) {
		REFUSE(o->balanced, "--balanced-clusters and --balanced are two different draws: give one");
		REFUSE(!sample, "--balanced-clusters needs --sample N (records to draw)");
		REFUSE(top || frac || cap || o->per || o->epochs > 0 || o->mix || o->weights || o->by,
		       "--balanced-clusters takes only --sample and --seed");
		return MODE_CLUSTERS;
	}
	if (o->balanced) {
		REFUSE(!cap, "--balanced needs --cap N (records to draw)");
		REFUSE(top || frac || sample || o->per || o->epochs > 0 || o->mix || o->weights ||
		       o->asc, "--balanced takes only --cap, --hier, --multiplier, --strategy, --by and --seed");
		REFUSE(o->multiplier < 1, "--multiplier must be at least 1");
		REFUSE(o->strategy && strcmp(o->strategy, "r") && strcmp(o->strategy, "c"),
		       "unknown --strategy '%s' (r: random, c: closest to the centroid)", o->strategy);
		int closest = o->strategy && !strcmp(o->strategy, "c");
		REFUSE(closest && !o->by, "--strategy c needs --by PATH (the distance to the level-1 centroid)");
		REFUSE(!closest && o->by, "--by goes with --balanced only under --strategy c");
		return MODE_BALANCED;
	}
	REFUSE(o->mix_weights && !o->mix, "--mix-weights needs --mix PATH (the group field)");
	if (o->mix_weights) {
		REFUSE(o->upweight || o->temperature != 1,
		       "--mix-weights gives the mixture: no --temperature or --upweight");
		REFUSE(!sample, "--mix-weights needs --sample N");
	}
	if (o->mix) {
		REFUSE(!sample && !o->upweight, "--mix needs --sample N or --upweight");
		REFUSE(top || frac || o->per || o->epochs > 0 || o->by || o->weights,
		       "--mix takes only --temperature, --mix-weights, --sample, --upweight and --seed");
		return MODE_MIX;
	}
	if (o->epochs > 0) {
		REFUSE(frac + sample != 1, "--epochs needs exactly one of --frac F or --sample N");
		REFUSE(top || o->per || o->by || o->weights, "--epochs draws uniform subsets: "
		       "no --top, --per, --by or --weights");
		return MODE_EPOCHS;
	}
	if (o->per) {
		REFUSE(cap + top + frac + sample != 1,
		       "--per needs exactly one of --cap N, --top N, --frac F or --sample N");
		REFUSE(top && !o->by, "--top needs --by PATH");
		REFUSE(o->by && o->weights, "--by and --weights do not combine");
		REFUSE(sample && o->by, "--sample draws at random: use --top or --cap with --by");
		return MODE_PER;
	}
	REFUSE(top + frac + sample > 1, "give one of --top N, --frac F or --sample N");
	if (top || (frac && o->by)) {
		REFUSE(!o->by, "--top needs --by PATH");
		REFUSE(o->weights, "--weights goes with --sample, not --top");
		return MODE_TOP;
	}
	if (sample || frac) {
		REFUSE(o->by, "--by ranks (--top); --sample draws at random (--weights PATH to weight it)");
		return MODE_SAMPLE;
	}
	REFUSE(!o->nfilters, "nothing to select: give --top, --frac, --sample, --per, --epochs, "
	       "--mix, --balanced, --min or --max");
	REFUSE(o->by || o->weights, "--by and --weights need --top, --frac or --sample");
	return MODE_FILTER;
}


int wn_select_check(wn_select_opts *o, char *err, size_t errlen)
{
	int mode = decide_mode(o, err, errlen);
	if (mode < 0)
		return -1;
	if (o->mix_weights && !o->mixw.n && wn_mix_weights_parse(o->mix_weights, &o->mixw, err, errlen))
		return -1;
	o->mode = mode;
	if (o->balanced && !o->hier)
		o->hier = "winnow.hcluster";
	return 0;
}

/* ---- per-candidate columns --------------------------------------------------- */

typedef struct columns {
	size_t n, cap;
	double *key;        /* --by or --weights value */
	uint32_t *group;    /* --per / --mix group id */
	int64_t *path;      /* --balanced: n x levels */
	int levels;
	size_t path_cap;
	wn_sel_groups *groups;
	wn_buf key_scratch; /* a group's interned key, reused per record */
} columns;

static int grow(void **p, size_t elem, size_t n)
{
	void *q = realloc(*p, elem * (n ? n : 1));
	if (!q)
		return -1;
	*p = q;
	return 0;
}

static int columns_reserve(columns *c, int need_key, int need_group)
{
	if (c->n < c->cap)
		return 0;
	size_t nc = c->cap ? c->cap * 2 : 4096;
	if ((need_key && grow((void **)&c->key, sizeof *c->key, nc)) ||
	    (need_group && grow((void **)&c->group, sizeof *c->group, nc)))
		return -1;
	c->cap = nc;
	return 0;
}

static void columns_free(columns *c)
{
	free(c->key);
	free(c->group);
	free(c->path);
	wn_sel_groups_free(c->groups);
	wn_buf_free(&c->key_scratch);
}

/* ---- reading values out of records ------------------------------------------- */

/* 1: got it; 0: record rejected, go on; -1: stop. */
static int get_number(wn_stream *s, const wn_record *rec, const char *path, const char *opt,
		      double *out)
{
	wn_span v;
	if (!wn_json_get(rec->json, path, &v))
		return wn_stream_reject(s, rec, "missing '%s' (%s)", path, opt) ? -1 : 0;
	if (wn_json_type_of(v) != WN_JSON_NUMBER || wn_json_number(v, out))
		return wn_stream_reject(s, rec, "'%s' is not a number (%s)", path, opt) ? -1 : 0;
	return 1;
}

/* Group ids by value: strings by their text, integers by value, anything
 * else by its raw bytes; the tag keeps "1" and 1 apart. */
static int get_group(wn_stream *s, const wn_record *rec, const char *path, const char *opt,
		     columns *c, wn_buf *tmp, uint32_t *out)
{
	wn_span v, str;
	int64_t iv;
	if (!wn_json_get(rec->json, path, &v))
		return wn_stream_reject(s, rec, "missing '%s' (%s)", path, opt) ? -1 : 0;
	wn_buf_reset(tmp);
	int rc;
	if (wn_json_type_of(v) == WN_JSON_STRING && wn_json_string(v, tmp, &str) == 0) {
		wn_buf_reset(&c->key_scratch);
		rc = wn_buf_putc(&c->key_scratch, 's') || wn_buf_append(&c->key_scratch, str.p, str.n);
		int64_t id = rc ? -1 : wn_sel_groups_intern(c->groups, c->key_scratch.data,
							    c->key_scratch.len);
		if (id < 0)
			goto oom;
		*out = (uint32_t)id;
		return 1;
	}
	if (wn_json_type_of(v) == WN_JSON_NUMBER && wn_json_int64(v, &iv) == 0)
		rc = wn_buf_printf(tmp, "i%lld", (long long)iv);
	else
		rc = wn_buf_putc(tmp, 'r') || wn_buf_append(tmp, v.p, v.n);
	int64_t id = rc ? -1 : wn_sel_groups_intern(c->groups, tmp->data, tmp->len);
	if (id < 0)
		goto oom;
	*out = (uint32_t)id;
	return 1;
oom:
	snprintf(s->err, sizeof s->err, "out of memory");
	s->failed = 1;
	return -1;
}

/* The winnow.hcluster path: an array of integers, the same length throughout. */
static int get_path(wn_stream *s, const wn_record *rec, const char *path, columns *c)
{
	wn_span v, e;
	if (!wn_json_get(rec->json, path, &v))
		return wn_stream_reject(s, rec, "missing '%s' (--balanced)", path) ? -1 : 0;
	if (wn_json_type_of(v) != WN_JSON_ARRAY)
		return wn_stream_reject(s, rec, "'%s' is not an array of cluster ids", path) ? -1 : 0;
	int64_t ids[64];
	int n = 0;
	size_t pos = 0;
	while (wn_json_next_element(v, &pos, &e)) {
		if (n == 64 || wn_json_int64(e, &ids[n]))
			return wn_stream_reject(s, rec, "'%s' must hold at most 64 integer cluster ids",
						path) ? -1 : 0;
		n++;
	}
	if (n == 0)
		return wn_stream_reject(s, rec, "'%s' is empty", path) ? -1 : 0;
	if (c->levels == 0)
		c->levels = n;
	if (n != c->levels)
		return wn_stream_reject(s, rec, "'%s' has %d levels, earlier records %d", path, n,
					c->levels) ? -1 : 0;
	size_t need = (c->n + 1) * (size_t)n;
	if (need > c->path_cap) {
		size_t nc = c->path_cap ? c->path_cap * 2 : 4096;
		while (nc < need)
			nc *= 2;
		if (grow((void **)&c->path, sizeof *c->path, nc)) {
			snprintf(s->err, sizeof s->err, "out of memory");
			s->failed = 1;
			return -1;
		}
		c->path_cap = nc;
	}
	memcpy(c->path + c->n * (size_t)n, ids, (size_t)n * sizeof *ids);
	return 1;
}

/* 1 pass, 0 filtered out or rejected (go on), -1 stop. */
static int pass_filters(wn_stream *s, const wn_record *rec, const wn_select_opts *o)
{
	for (size_t i = 0; i < o->nfilters; i++) {
		double x;
		int r = get_number(s, rec, o->filters[i].path,
				   o->filters[i].is_max ? "--max" : "--min", &x);
		if (r <= 0)
			return r;
		if (!wn_sel_filter_pass(&o->filters[i], x))
			return 0;
	}
	return 1;
}

/* Where select adds an annotation, an existing "winnow" must be an object. */
static int annotatable(wn_stream *s, const wn_record *rec)
{
	wn_span v;
	if (wn_json_get(rec->json, "winnow", &v) && wn_json_type_of(v) != WN_JSON_OBJECT)
		return wn_stream_reject(s, rec, "member \"winnow\" is not an object") ? -1 : 0;
	return 1;
}

/* Read one candidate's columns; 1 keep as candidate, 0 not, -1 stop. */
static int collect(wn_stream *s, const wn_record *rec, const wn_select_opts *o, columns *c,
		   wn_spool *sp, wn_buf *tmp)
{
	int r = 1;
	double key = 0;
	uint32_t group = 0;
	const char *keypath = o->weights ? o->weights : o->by;
	if (keypath)
		r = get_number(s, rec, keypath, o->weights ? "--weights" : "--by", &key);
	if (r > 0 && o->weights && !o->log_weights && key < 0)
		r = wn_stream_reject(s, rec, "'%s' is negative (--weights)", keypath) ? -1 : 0;
	const char *gpath = o->per ? o->per : o->mix ? o->mix : o->clusters;
	if (r > 0 && gpath)
		r = get_group(s, rec, gpath, o->per ? "--per" : o->mix ? "--mix" : "--balanced-clusters",
			      c, tmp, &group);
	if (r > 0 && (o->epochs > 0 || o->upweight))
		r = annotatable(s, rec);
	if (r > 0 && columns_reserve(c, keypath != NULL, gpath != NULL)) {
		snprintf(s->err, sizeof s->err, "out of memory");
		s->failed = 1;
		return -1;
	}
	if (r > 0 && o->balanced)
		r = get_path(s, rec, o->hier, c);
	if (r <= 0)
		return r;
	if (wn_spool_put(sp, rec, s->err, sizeof s->err)) {
		s->failed = 1;
		return -1;
	}
	if (keypath)
		c->key[c->n] = key;
	if (gpath)
		c->group[c->n] = group;
	c->n++;
	return 1;
}

/* ---- computing the selection ------------------------------------------- */

/*
 * What to write: `pos` (ascending, per epoch), each `reps[i]` times (NULL:
 * once), with winnow.epoch when epochs > 0 and winnow.weight from `weight`.
 */
typedef struct plan {
	size_t *pos, npos;
	uint32_t *reps;
	double *weight;
	size_t epochs, per_epoch;
} plan;

static void warn_larger(const wn_select_opts *o, const char *opt, int64_t k, size_t n)
{
	(void)o;
	if (n == 0) /* empty input: the count line says it all */
		return;
	fprintf(stderr, "winnow select: warning: %s %lld is larger than the input (%zu records): keeping all\n",
		opt, (long long)k, n);
}

static int per_group_plan(const wn_select_opts *o, const columns *c, plan *p, char *err, size_t errlen)
{
	wn_sel_per_opts po = {WN_SEL_WITHIN_FIRST, 0, -1, o->asc, o->log_weights, (uint64_t)o->seed};
	if (o->cap >= 0) {
		po.cap = (size_t)o->cap;
		po.within = o->by ? WN_SEL_WITHIN_TOP : o->weights ? WN_SEL_WITHIN_WEIGHTED
								: WN_SEL_WITHIN_FIRST;
	} else if (o->top >= 0) {
		po.cap = (size_t)o->top;
		po.within = WN_SEL_WITHIN_TOP;
	} else {
		if (o->frac >= 0)
			po.frac = o->frac;
		else
			po.cap = (size_t)o->sample;
		po.within = o->by ? WN_SEL_WITHIN_TOP : o->weights ? WN_SEL_WITHIN_WEIGHTED
								: WN_SEL_WITHIN_UNIFORM;
	}
	return wn_sel_per_group(c->group, c->key, c->n, wn_sel_groups_count(c->groups), &po,
				p->pos, &p->npos, err, errlen);
}

/* the group id of a --mix-weights name: a string value ('s' key, as
 * get_group interns it), else an integer one ('i'); -1 none, -2 no memory */
static int64_t mix_group_find(const columns *c, const char *name)
{
	size_t n = strlen(name);
	char *key = malloc(n + 2);
	if (!key)
		return -2;
	key[0] = 's';
	memcpy(key + 1, name, n + 1);
	int64_t g = wn_sel_groups_find(c->groups, key, n + 1);
	char *end;
	long long iv = strtoll(name, &end, 10);
	if (g < 0 && n && !*end) {
		int k = snprintf(key, n + 2, "i%lld", iv);
		if (k > 0 && (size_t)k < n + 2)
			g = wn_sel_groups_find(c->groups, key, (size_t)k);
	}
	free(key);
	return g;
}

/* --mix-weights: every named group must occur; groups not named get weight 0 */
static int mix_fixed_plan(const wn_select_opts *o, const columns *c, size_t ng, size_t total,
			  plan *p, char *err, size_t errlen)
{
	double *pg = calloc(ng ? ng : 1, sizeof *pg);
	if (!pg)
		return snprintf(err, errlen, "out of memory"), -1;
	int rc = 0;
	for (size_t i = 0; i < o->mixw.n && !rc; i++) {
		int64_t g = mix_group_find(c, o->mixw.names[i]);
		if (g == -2) {
			snprintf(err, errlen, "out of memory");
			rc = -1;
		} else if (g < 0) {
			wn_errf(err, errlen, "--mix-weights: no record has %s '%s'", o->mix,
				o->mixw.names[i]);
			rc = -1;
		} else
			pg[g] = o->mixw.w[i];
	}
	if (!rc)
		rc = wn_sel_mix_fixed(c->group, c->n, ng, pg, total, (uint64_t)o->seed, p->reps,
				      err, errlen);
	free(pg);
	return rc;
}

static int mix_plan(const wn_select_opts *o, const columns *c, plan *p, char *err, size_t errlen)
{
	size_t ng = wn_sel_groups_count(c->groups);
	size_t total = o->sample >= 0 ? (size_t)o->sample : c->n;
	for (size_t i = 0; i < c->n; i++)
		p->pos[i] = i;
	p->npos = c->n;
	if (o->upweight) {
		p->weight = malloc((c->n ? c->n : 1) * sizeof *p->weight);
		if (!p->weight)
			return snprintf(err, errlen, "out of memory"), -1;
		return wn_sel_upweight(c->group, c->n, ng, o->temperature, total, p->weight, err, errlen);
	}
	p->reps = malloc((c->n ? c->n : 1) * sizeof *p->reps);
	if (!p->reps)
		return snprintf(err, errlen, "out of memory"), -1;
	if (o->mixw.n)
		return mix_fixed_plan(o, c, ng, total, p, err, errlen);
	return wn_sel_mix(c->group, c->n, ng, o->temperature, total, (uint64_t)o->seed, p->reps,
			  err, errlen);
}

/* --balanced: copies per record (the multiplier repeats), emitted in input order. */
static int balanced_plan(const wn_select_opts *o, const columns *c, plan *p, uint64_t seed,
			 char *err, size_t errlen)
{
	size_t n = c->n;
	wn_sel_balanced_opts bo = {(size_t)o->multiplier,
				   o->strategy && !strcmp(o->strategy, "c") ? WN_SEL_LEAF_CLOSEST
									    : WN_SEL_LEAF_RANDOM,
				   c->key};
	p->reps = malloc((n ? n : 1) * sizeof *p->reps);
	if (!p->reps)
		return snprintf(err, errlen, "out of memory"), -1;
	if (wn_sel_balanced_reps(c->path, n, c->levels, (size_t)o->cap, &bo, seed, p->reps, err,
				 errlen))
		return -1;
	for (size_t i = 0; i < n; i++)
		if (p->reps[i])
			p->pos[p->npos++] = i;
	return 0;
}

static int make_plan(const wn_select_opts *o, const columns *c, plan *p, char *err, size_t errlen)
{
	size_t n = c->n;
	uint64_t seed = (uint64_t)o->seed;
	size_t k = o->frac >= 0 ? wn_sel_frac_count(n, o->frac) : 0;
	if (o->mode == MODE_EPOCHS) {
		if (o->sample >= 0)
			k = (size_t)o->sample;
		if (o->sample >= 0 && (size_t)o->sample > n)
			warn_larger(o, "--sample", o->sample, n);
		p->per_epoch = k < n ? k : n;
		p->epochs = (size_t)o->epochs;
		p->npos = p->per_epoch * p->epochs;
		p->pos = malloc((p->npos ? p->npos : 1) * sizeof *p->pos);
		if (!p->pos)
			return snprintf(err, errlen, "out of memory"), -1;
		return wn_sel_epochs(n, k, p->epochs, seed, p->pos, err, errlen);
	}
	p->pos = malloc((n ? n : 1) * sizeof *p->pos);
	if (!p->pos)
		return snprintf(err, errlen, "out of memory"), -1;
	switch (o->mode) {
	case MODE_TOP:
		if (o->top >= 0) {
			k = (size_t)o->top;
			if (k > n)
				warn_larger(o, "--top", o->top, n);
		}
		return wn_sel_top(c->key, n, k, o->asc, p->pos, &p->npos, err, errlen);
	case MODE_SAMPLE:
		if (o->sample >= 0) {
			k = (size_t)o->sample;
			if (k > n)
				warn_larger(o, "--sample", o->sample, n);
		}
		if (o->weights)
			return wn_sel_weighted(c->key, n, k, o->log_weights, seed,
					       wn_sel_stream(WN_SEL_STREAM_SAMPLE, 0), p->pos, &p->npos,
					       err, errlen);
		return wn_sel_uniform(n, k, seed, wn_sel_stream(WN_SEL_STREAM_SAMPLE, 0), p->pos,
				      &p->npos, err, errlen);
	case MODE_PER:
		return per_group_plan(o, c, p, err, errlen);
	case MODE_MIX:
		return mix_plan(o, c, p, err, errlen);
	case MODE_BALANCED:
		return balanced_plan(o, c, p, seed, err, errlen);
	case MODE_CLUSTERS:
		if ((size_t)o->sample > n)
			warn_larger(o, "--sample", o->sample, n);
		return wn_s2l_select(c->group, n, wn_sel_groups_count(c->groups), (size_t)o->sample,
				     seed, p->pos, &p->npos, err, errlen);
	}
	return snprintf(err, errlen, "internal: unknown mode %d", o->mode), -1;
}

/* The spool's record at position `at`: one forward pass for ascending
 * positions, a rewind when a plan goes back (the next epoch). */
static int spool_seek(wn_spool *sp, size_t at, size_t *cur, wn_record *rec, char *err, size_t errlen)
{
	if (at < *cur) {
		if (wn_spool_rewind(sp, err, errlen))
			return -1;
		*cur = 0;
	}
	for (; *cur <= at; ++*cur)
		if (wn_spool_get(sp, rec, err, errlen) != 1) {
			if (!err[0])
				wn_errf(err, errlen, "internal: the spool ended early");
			return -1;
		}
	return 0;
}

static int emit_plan(wn_stream *s, const columns *c, wn_spool *sp, const plan *p, char *err,
		     size_t errlen)
{
	size_t cur = 0;
	int rc = wn_spool_rewind(sp, err, errlen);
	(void)c;
	for (size_t i = 0; rc == 0 && i < p->npos; i++) {
		size_t at = p->pos[i];
		uint32_t times = p->reps ? p->reps[at] : 1;
		wn_record rec;
		if (!times)
			continue;
		if (spool_seek(sp, at, &cur, &rec, err, errlen))
			return -1;
		rec.index = at; /* as before: the position among the candidates */
		const wn_annot *a = NULL;
		if (p->epochs || p->weight) {
			wn_annot_clear(&s->annot);
			if (p->epochs)
				rc = wn_annot_set_int(&s->annot, "epoch", (int64_t)(i / p->per_epoch));
			else
				rc = wn_annot_set_double(&s->annot, "weight", p->weight[at]);
			a = &s->annot;
		}
		for (uint32_t t = 0; rc == 0 && t < times; t++)
			rc = wn_stream_emit(s, &rec, a);
	}
	return rc;
}

static int run_selection(wn_stream *s, const wn_select_opts *o, const columns *c, wn_spool *sp,
			 char *err, size_t errlen)
{
	plan p = {0};
	int rc = make_plan(o, c, &p, err, errlen);
	if (!rc)
		rc = emit_plan(s, c, sp, &p, err, errlen);
	free(p.pos);
	free(p.reps);
	free(p.weight);
	return rc;
}

/* Every record through the filters, then emitted (filter mode) or collected. */
static int collect_all(wn_stream *s, const wn_select_opts *o, columns *c, wn_spool *sp)
{
	wn_buf tmp = WN_BUF_INIT;
	wn_record rec;
	int r;
	while ((r = wn_stream_next(s, &rec)) > 0) {
		int pass = pass_filters(s, &rec, o);
		if (pass > 0)
			pass = o->mode == MODE_FILTER ? (wn_stream_emit(s, &rec, NULL) ? -1 : 1)
						      : collect(s, &rec, o, c, sp, &tmp);
		if (pass < 0 || s->failed) {
			r = -1;
			break;
		}
	}
	wn_buf_free(&tmp);
	return r < 0 ? -1 : 0;
}

int wn_select_run(const wn_select_opts *o, wn_stream *s, wn_step_report *rep, char *err, size_t errlen)
{
	(void)rep;
	columns c = {0};
	wn_spool *sp = NULL;
	int rc = 0;
	if (o->mode != MODE_FILTER) {
		c.groups = wn_sel_groups_new();
		if (!c.groups) {
			wn_errf(err, errlen, "out of memory");
			return -1;
		}
		if (!(sp = wn_spool_new(0, err, errlen))) {
			columns_free(&c);
			return -1;
		}
	}
	rc = collect_all(s, o, &c, sp);
	if (!rc && o->mode != MODE_FILTER)
		rc = run_selection(s, o, &c, sp, err, errlen);
	wn_spool_free(sp);
	columns_free(&c);
	return rc || s->failed ? -1 : 0;
}
