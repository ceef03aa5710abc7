/*
 * cmd/select.c — `winnow select`: keep a subset of the stream by a field or
 * an annotation (top-N, fraction, filters, samples, per-group caps, RS2
 * epochs, temperature mixing, the balanced hierarchical sample).
 *
 * Owns: options, mode checking, pulling keys/groups/weights out of each
 * record (a record that lacks one is a positioned error under --on-error),
 * and the spool: selections that need the whole stream keep only a few
 * numbers per record in memory and write the record bytes to an unlinked
 * temporary file, from which the kept records are copied out in input
 * order, unchanged (plus winnow.epoch / winnow.weight where asked).
 * Borrows: the selection logic (selectors/subset.h), the stream helpers
 * (cmd/common.h), the JSON scanner (io/json.h).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/common.h"
#include "io/options.h"
#include "io/json.h"
#include "selectors/subset.h"

static const char *const select_usage[] = {
	"winnow select --top N | --frac F  --by PATH [--asc] [file...]",
	"winnow select --sample N | --frac F  [--weights PATH [--log-weights]] [--seed S] [file...]",
	"winnow select --per PATH  --cap N [--by PATH] | --top N --by PATH | --frac F | --sample N  [file...]",
	"winnow select --epochs E  --frac F | --sample N  [--seed S] [file...]",
	"winnow select --mix PATH [--temperature T]  --sample N | --upweight  [file...]",
	"winnow select --balanced --cap N [--hier PATH] [--seed S] [file...]",
	"winnow select --min PATH=VALUE --max PATH=VALUE [file...]",
	"",
	"Keep a subset of the records by a field (section) or an annotation (winnow.zipfit).\n"
	"Kept records are written byte-identical, in input order; select adds only\n"
	"winnow.epoch (--epochs) and winnow.weight (--upweight). --min/--max filter\n"
	"first and combine with every mode. Ties in --by go to the earlier record.\n"
	"Every random choice is keyed by --seed (default 0): same input, same output.",
	"",
	"winnow select --top 1000 --by winnow.zipfit pool.jsonl > aligned.jsonl",
	"winnow select --sample 5000 --weights winnow.dsir --log-weights --seed 1 pool.jsonl.zst",
	"winnow select --per section --cap 20 --by installed_kb debian.jsonl.gz",
	"winnow select --epochs 3 --frac 0.1 --seed 7 train.jsonl > rs2.jsonl",
	"winnow select --mix section --temperature 3 --upweight debian.jsonl.gz",
	"winnow select --balanced --cap 10000 --seed 1 clustered.jsonl",
	NULL,
};

enum select_mode {
	MODE_FILTER, MODE_TOP, MODE_SAMPLE, MODE_PER, MODE_EPOCHS, MODE_MIX, MODE_BALANCED
};

typedef struct select_opts {
	int64_t top, sample, cap, epochs, seed;
	double frac, temperature;
	const char *by, *weights, *per, *mix, *hier;
	int asc, log_weights, upweight, balanced;
	wn_sel_filter *filters;
	size_t nfilters;
	int mode;
} select_opts;

/* ---- --min / --max ------------------------------------------------------ */

static int filter_cb(const struct wn_option *opt, const char *arg, char *err, size_t errlen)
{
	select_opts *o = opt->value;
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

/* A usage error when `bad` is set and `opt` was given (for mode conflicts). */
#define REFUSE(cond, ...)                                                       \
	do {                                                                    \
		if (cond)                                                       \
			wn_usage_error(select_usage, "select", __VA_ARGS__);    \
	} while (0)

static void check_counts(const select_opts *o)
{
	REFUSE(o->top < -1 || o->sample < -1 || o->cap < -1 || o->epochs < 0,
	       "counts must not be negative");
	REFUSE(o->frac != -1 && !(o->frac >= 0 && o->frac <= 1), "--frac must be in [0, 1]");
	REFUSE(o->mix && !(o->temperature > 0 && isfinite(o->temperature)),
	       "--temperature must be a positive number");
	REFUSE(o->log_weights && !o->weights, "--log-weights needs --weights PATH");
	REFUSE(o->asc && !o->by, "--asc needs --by PATH");
	REFUSE(o->upweight && !o->mix, "--upweight needs --mix PATH");
	REFUSE(o->temperature != 1 && !o->mix, "--temperature needs --mix PATH");
	REFUSE(o->hier && !o->balanced, "--hier needs --balanced");
	REFUSE(o->cap >= 0 && !o->per && !o->balanced, "--cap needs --per PATH or --balanced");
}

static int decide_mode(select_opts *o)
{
	int top = o->top >= 0, frac = o->frac >= 0, sample = o->sample >= 0, cap = o->cap >= 0;
	check_counts(o);
	if (o->balanced) {
		REFUSE(!cap, "--balanced needs --cap N (records to draw)");
		REFUSE(top || frac || sample || o->per || o->epochs || o->mix || o->by || o->weights,
		       "--balanced takes only --cap, --hier and --seed");
		return MODE_BALANCED;
	}
	if (o->mix) {
		REFUSE(!sample && !o->upweight, "--mix needs --sample N or --upweight");
		REFUSE(top || frac || o->per || o->epochs || o->by || o->weights,
		       "--mix takes only --temperature, --sample, --upweight and --seed");
		return MODE_MIX;
	}
	if (o->epochs) {
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

/* ---- the spool: record bytes of candidates, read back by offset ------------ */

typedef struct spool {
	FILE *f;
	uint64_t size;
	int reading;
} spool;

static int spool_open(spool *sp)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	snprintf(path, sizeof path, "%s/winnow-select-XXXXXX", dir && *dir ? dir : "/tmp");
	int fd = mkstemp(path);
	if (fd < 0) {
		wn_cmd_error("select", "cannot create a temporary file in %s: %s",
			     dir && *dir ? dir : "/tmp", strerror(errno));
		return -1;
	}
	unlink(path); /* the spool disappears with the process, whatever happens */
	sp->f = fdopen(fd, "w+");
	if (!sp->f) {
		close(fd);
		wn_cmd_error("select", "temporary file: %s", strerror(errno));
		return -1;
	}
	setvbuf(sp->f, NULL, _IOFBF, 1 << 20);
	sp->size = 0;
	sp->reading = 0;
	return 0;
}

static int spool_put(spool *sp, const char *p, size_t n, uint64_t *off)
{
	*off = sp->size;
	if (n && fwrite(p, 1, n, sp->f) != n) {
		wn_cmd_error("select", "writing the temporary file: %s", strerror(errno));
		return -1;
	}
	sp->size += n;
	return 0;
}

static int spool_get(spool *sp, uint64_t off, uint64_t n, wn_buf *out)
{
	if (!sp->reading) {
		if (fflush(sp->f)) {
			wn_cmd_error("select", "writing the temporary file: %s", strerror(errno));
			return -1;
		}
		sp->reading = 1;
	}
	wn_buf_reset(out);
	if (wn_buf_reserve(out, n + 1)) {
		wn_cmd_error("select", "out of memory");
		return -1;
	}
	for (uint64_t got = 0; got < n;) {
		ssize_t r = pread(fileno(sp->f), out->data + got, n - got, (off_t)(off + got));
		if (r <= 0) {
			wn_cmd_error("select", "reading the temporary file: %s",
				     r < 0 ? strerror(errno) : "short read");
			return -1;
		}
		got += (uint64_t)r;
	}
	out->len = n;
	return 0;
}

static void spool_close(spool *sp)
{
	if (sp->f)
		fclose(sp->f);
	sp->f = NULL;
}

/* ---- per-candidate columns --------------------------------------------------- */

typedef struct columns {
	size_t n, cap;
	uint64_t *off, *len;
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
	if (grow((void **)&c->off, sizeof *c->off, nc) || grow((void **)&c->len, sizeof *c->len, nc) ||
	    (need_key && grow((void **)&c->key, sizeof *c->key, nc)) ||
	    (need_group && grow((void **)&c->group, sizeof *c->group, nc)))
		return -1;
	c->cap = nc;
	return 0;
}

static void columns_free(columns *c)
{
	free(c->off);
	free(c->len);
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
	wn_cmd_error("select", "out of memory");
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
			wn_cmd_error("select", "out of memory");
			s->failed = 1;
			return -1;
		}
		c->path_cap = nc;
	}
	memcpy(c->path + c->n * (size_t)n, ids, (size_t)n * sizeof *ids);
	return 1;
}

/* 1 pass, 0 filtered out or rejected (go on), -1 stop. */
static int pass_filters(wn_stream *s, const wn_record *rec, const select_opts *o)
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
static int collect(wn_stream *s, const wn_record *rec, const select_opts *o, columns *c,
		   spool *sp, wn_buf *tmp)
{
	int r = 1;
	double key = 0;
	uint32_t group = 0;
	const char *keypath = o->weights ? o->weights : o->by;
	if (keypath)
		r = get_number(s, rec, keypath, o->weights ? "--weights" : "--by", &key);
	if (r > 0 && o->weights && !o->log_weights && key < 0)
		r = wn_stream_reject(s, rec, "'%s' is negative (--weights)", keypath) ? -1 : 0;
	if (r > 0 && (o->per || o->mix))
		r = get_group(s, rec, o->per ? o->per : o->mix, o->per ? "--per" : "--mix", c, tmp,
			      &group);
	if (r > 0 && (o->epochs || o->upweight))
		r = annotatable(s, rec);
	if (r > 0 && columns_reserve(c, keypath != NULL, o->per || o->mix)) {
		wn_cmd_error("select", "out of memory");
		s->failed = 1;
		return -1;
	}
	if (r > 0 && o->balanced)
		r = get_path(s, rec, o->hier, c);
	if (r <= 0)
		return r;
	if (spool_put(sp, rec->json.p, rec->json.n, &c->off[c->n])) {
		s->failed = 1;
		return -1;
	}
	c->len[c->n] = rec->json.n;
	if (keypath)
		c->key[c->n] = key;
	if (o->per || o->mix)
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

static void warn_larger(const select_opts *o, const char *opt, int64_t k, size_t n)
{
	(void)o;
	if (n == 0) /* empty input: the count line says it all */
		return;
	wn_cmd_error("select", "warning: %s %lld is larger than the input (%zu records): keeping all",
		     opt, (long long)k, n);
}

static int per_group_plan(const select_opts *o, const columns *c, plan *p, char *err, size_t errlen)
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

static int mix_plan(const select_opts *o, const columns *c, plan *p, char *err, size_t errlen)
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
	return wn_sel_mix(c->group, c->n, ng, o->temperature, total, (uint64_t)o->seed, p->reps,
			  err, errlen);
}

static int make_plan(const select_opts *o, const columns *c, plan *p, char *err, size_t errlen)
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
		return wn_sel_balanced(c->path, n, c->levels, (size_t)o->cap, seed, p->pos, &p->npos,
				       err, errlen);
	}
	return snprintf(err, errlen, "internal: unknown mode %d", o->mode), -1;
}

static int emit_plan(wn_stream *s, const select_opts *o, const columns *c, spool *sp,
		     const plan *p)
{
	wn_buf bytes = WN_BUF_INIT;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < p->npos; i++) {
		size_t at = p->pos[i];
		uint32_t times = p->reps ? p->reps[at] : 1;
		if (!times)
			continue;
		if (spool_get(sp, c->off[at], c->len[at], &bytes)) {
			rc = -1;
			break;
		}
		wn_record rec = {{bytes.data, bytes.len}, "", 0, at};
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
	(void)o;
	wn_buf_free(&bytes);
	return rc;
}

static int run_selection(wn_stream *s, const select_opts *o, const columns *c, spool *sp)
{
	plan p = {0};
	char err[512] = "";
	int rc = make_plan(o, c, &p, err, sizeof err);
	if (rc)
		wn_cmd_error("select", "%s", err);
	else
		rc = emit_plan(s, o, c, sp, &p);
	free(p.pos);
	free(p.reps);
	free(p.weight);
	return rc;
}

int cmd_select(int argc, const char **argv)
{
	struct wn_common co = WN_COMMON_INIT;
	select_opts o = {-1, -1, -1, 0, 0, -1, 1, NULL, NULL, NULL, NULL, NULL,
			 0, 0, 0, 0, NULL, 0, MODE_FILTER};
	struct wn_option opts[] = {
		OPT_GROUP("Ranking"),
		OPT_INT64(0, "top", &o.top, "N", "keep the N records with the largest --by value"),
		OPT_DOUBLE(0, "frac", &o.frac, "F", "keep floor(F x n) records (top by --by, else at random)"),
		OPT_STRING(0, "by", &o.by, "PATH", "the key to rank by (a field or winnow.* annotation)"),
		OPT_BOOL(0, "asc", &o.asc, "rank smallest first"),
		OPT_CALLBACK(0, "min", &o, "PATH=V", "keep records with PATH >= V (repeatable)", filter_cb),
		OPT_CALLBACK(0, "max", &o, "PATH=V", "keep records with PATH <= V (repeatable)", filter_cb),
		OPT_GROUP("Sampling"),
		OPT_INT64(0, "sample", &o.sample, "N", "draw N records without replacement (per group with --per)"),
		OPT_STRING(0, "weights", &o.weights, "PATH", "draw with probability proportional to PATH"),
		OPT_BOOL(0, "log-weights", &o.log_weights, "--weights holds log-weights (Gumbel top-k on exp)"),
		OPT_INT64(0, "seed", &o.seed, "S", "random seed (default 0)"),
		OPT_GROUP("Groups"),
		OPT_STRING(0, "per", &o.per, "PATH", "select inside each group of PATH's value"),
		OPT_INT64(0, "cap", &o.cap, "N", "--per: N per group (first N; best by --by; drawn by --weights);"
			  " --balanced: N in all"),
		OPT_INT64(0, "epochs", &o.epochs, "E", "RS2: an independent uniform subset per epoch (winnow.epoch)"),
		OPT_STRING(0, "mix", &o.mix, "PATH", "temperature sampling over the groups of PATH"),
		OPT_DOUBLE(0, "temperature", &o.temperature, "T", "--mix: p(group) ~ n^(1/T) (default 1)"),
		OPT_BOOL(0, "upweight", &o.upweight, "--mix: keep all, write winnow.weight instead"),
		OPT_BOOL(0, "balanced", &o.balanced, "balanced sample over the cluster hierarchy"),
		OPT_STRING(0, "hier", &o.hier, "PATH", "--balanced: cluster ids per level (default winnow.hcluster)"),
		WN_COMMON_STREAM_OPTIONS(&co),
		OPT_END(),
	};
	argc = wn_parse_options(argc, argv, opts, select_usage);
	o.mode = decide_mode(&o);
	if (o.balanced && !o.hier)
		o.hier = "winnow.hcluster";

	wn_stream s;
	if (wn_cmd_stream_open(&s, "select", &co, argc, argv)) {
		for (size_t i = 0; i < o.nfilters; i++)
			wn_sel_filter_free(&o.filters[i]);
		free(o.filters);
		return 1;
	}
	columns c = {0};
	spool sp = {0};
	wn_buf tmp = WN_BUF_INIT;
	int r = 0, ok = 1;
	if (o.mode != MODE_FILTER) {
		c.groups = wn_sel_groups_new();
		if (!c.groups || spool_open(&sp))
			ok = 0;
	}
	wn_record rec;
	while (ok && (r = wn_stream_next(&s, &rec)) > 0) {
		int pass = pass_filters(&s, &rec, &o);
		if (pass > 0)
			pass = o.mode == MODE_FILTER ? (wn_stream_emit(&s, &rec, NULL) ? -1 : 1)
						     : collect(&s, &rec, &o, &c, &sp, &tmp);
		if (pass < 0 || s.failed)
			ok = 0;
	}
	if (r < 0)
		ok = 0;
	if (ok && o.mode != MODE_FILTER && run_selection(&s, &o, &c, &sp))
		ok = 0;
	spool_close(&sp);
	columns_free(&c);
	wn_buf_free(&tmp);
	for (size_t i = 0; i < o.nfilters; i++)
		wn_sel_filter_free(&o.filters[i]);
	free(o.filters);
	return wn_cmd_finish(&s, ok && !s.failed);
}
