/*
 * selectors/coreset_step.c — `winnow coreset` (see selectors/coreset_step.h):
 * the candidates and their sensitivities, the draw through core/sample.h,
 * the weights, and the records written back in input order.
 */
#include "selectors/coreset_step.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/sample.h"
#include "io/errf.h"
#include "io/json.h"
#include "io/record.h"
#include "io/spool.h"
#include "selectors/subset.h"

static const char *const mode_name[] = {"with replacement", "without replacement", "pps"};

void wn_coreset_init(wn_coreset_opts *o)
{
	memset(o, 0, sizeof *o);
	o->io = (wn_stream_opts)WN_STREAM_OPTS_INIT;
	o->sample = -1;
}

int wn_coreset_check(wn_coreset_opts *o, char *err, size_t errlen)
{
	if (o->sample < 1)
		return wn_errf(err, errlen, "--sample M is required (M >= 1)"), -1;
	if (!o->weights || !*o->weights)
		return wn_errf(err, errlen, "--weights PATH is required (e.g. winnow.leverage)"), -1;
	if (o->seed < 0)
		return wn_errf(err, errlen, "--seed must not be negative"), -1;
	if (o->with_replacement + o->without_replacement + o->pps > 1)
		return wn_errf(err, errlen, "--with-replacement, --without-replacement and --pps "
			       "exclude each other"), -1;
	o->mode = o->pps ? WN_CORESET_PPS : o->without_replacement ? WN_CORESET_WITHOUT
								   : WN_CORESET_WITH;
	return 0;
}

void wn_coreset_draw_free(wn_coreset_draw *d)
{
	free(d->count);
	free(d->weight);
	memset(d, 0, sizeof *d);
}

/* Kish's n_eff and Σw over the draws (a record drawn c times counts c times). */
static void draw_summary(wn_coreset_draw *d, int64_t n)
{
	double s1 = 0, s2 = 0;
	d->distinct = 0;
	for (int64_t i = 0; i < n; i++) {
		if (!d->count[i])
			continue;
		double per = d->weight[i] / (double)d->count[i];
		s1 += d->weight[i];
		s2 += (double)d->count[i] * per * per;
		d->distinct++;
	}
	d->sum_w = s1;
	d->ess = s2 > 0 ? s1 * s1 / s2 : 0;
}

static int draw_indexed(const double *s, int64_t n, int64_t m, int mode, uint64_t seed,
			uint64_t stream, int threads, wn_coreset_draw *d)
{
	int64_t *idx = malloc(sizeof(int64_t) * (size_t)m);
	double *incl = malloc(sizeof(double) * (size_t)m);
	int64_t k = -1;
	if (idx && incl)
		k = mode == WN_CORESET_PPS
			    ? wn_sample_systematic(s, n, m, seed, stream, idx, incl)
			    : wn_sample_gumbel_topk(s, n, 0, m, seed, stream, threads, idx, incl);
	for (int64_t j = 0; j < k; j++) {
		d->count[idx[j]] = 1;
		d->weight[idx[j]] = incl[j];
	}
	free(idx);
	free(incl);
	return k < 0 ? -1 : 0;
}

int wn_coreset_sample(const double *s, int64_t n, int64_t m, int mode, uint64_t seed, int threads,
		      wn_coreset_draw *d, char *err, size_t errlen)
{
	memset(d, 0, sizeof *d);
	double total = 0;
	for (int64_t i = 0; i < n; i++) {
		if (!(s[i] >= 0) || !isfinite(s[i]))
			return wn_errf(err, errlen, "sensitivity %lld is negative or not finite",
				       (long long)i), -1;
		total += s[i];
	}
	if (!(total > 0))
		return wn_errf(err, errlen, "every sensitivity is 0: nothing to draw"), -1;
	d->count = calloc((size_t)(n ? n : 1), sizeof(int64_t));
	d->weight = calloc((size_t)(n ? n : 1), sizeof(double));
	if (!d->count || !d->weight) {
		wn_coreset_draw_free(d);
		return wn_errf(err, errlen, "out of memory"), -1;
	}
	uint64_t stream = wn_sel_stream(WN_SEL_STREAM_SAMPLE, 0);
	int rc;
	if (mode == WN_CORESET_WITH) {
		/* the alias method's incl is 1/(m p_i) per draw; a record drawn c times weighs c/(m p_i) */
		rc = wn_sample_alias(s, n, m, seed, stream, threads, d->count, d->weight);
		for (int64_t i = 0; rc == 0 && i < n; i++)
			d->weight[i] *= (double)d->count[i];
	} else {
		rc = draw_indexed(s, n, m, mode, seed, stream, threads, d);
	}
	if (rc) {
		wn_coreset_draw_free(d);
		return wn_errf(err, errlen, "sampling failed (invalid weights or out of memory)"), -1;
	}
	draw_summary(d, n);
	return 0;
}

/* ---- the step ---- */

struct cands {
	double *s;
	int64_t n, cap;
};

/* 1 kept, 0 rejected (go on), -1 stop. */
static int take(wn_stream *s, const wn_record *rec, const char *path, struct cands *c,
		wn_spool *sp)
{
	wn_span v;
	double x;
	if (!wn_json_get(rec->json, path, &v))
		return wn_stream_reject(s, rec, "missing '%s' (--weights)", path) ? -1 : 0;
	if (wn_json_type_of(v) != WN_JSON_NUMBER || wn_json_number(v, &x) || !isfinite(x))
		return wn_stream_reject(s, rec, "'%s' is not a finite number (--weights)", path) ? -1 : 0;
	if (x < 0)
		return wn_stream_reject(s, rec, "'%s' is negative (--weights)", path) ? -1 : 0;
	if (wn_json_get(rec->json, "winnow", &v) && wn_json_type_of(v) != WN_JSON_OBJECT)
		return wn_stream_reject(s, rec, "member \"winnow\" is not an object") ? -1 : 0;
	if (c->n == c->cap) {
		int64_t nc = c->cap ? 2 * c->cap : 4096;
		double *p = realloc(c->s, sizeof(double) * (size_t)nc);
		if (!p)
			return snprintf(s->err, sizeof s->err, "out of memory"), s->failed = 1, -1;
		c->s = p;
		c->cap = nc;
	}
	if (wn_spool_put(sp, rec, s->err, sizeof s->err))
		return s->failed = 1, -1;
	c->s[c->n++] = x;
	return 1;
}

static int emit(wn_stream *s, wn_spool *sp, const wn_coreset_draw *d, int64_t n, int mode,
		char *err, size_t errlen)
{
	if (wn_spool_rewind(sp, err, errlen))
		return -1;
	wn_record rec;
	for (int64_t i = 0; i < n; i++) {
		if (wn_spool_get(sp, &rec, err, errlen) != 1)
			return err[0] ? -1 : (wn_errf(err, errlen, "internal: the spool ended early"), -1);
		if (!d->count[i])
			continue;
		wn_annot_clear(&s->annot);
		if ((mode == WN_CORESET_WITH && wn_annot_set_int(&s->annot, "count", d->count[i])) ||
		    wn_annot_set_double(&s->annot, "weight", d->weight[i]))
			return wn_errf(err, errlen, "out of memory"), -1;
		if (wn_stream_emit(s, &rec, &s->annot))
			return -1;
	}
	return 0;
}

static int report(const wn_coreset_opts *o, const wn_coreset_draw *d, int64_t n, const char *cmd,
		  char *err, size_t errlen)
{
	if (!o->io.quiet)
		fprintf(stderr, "winnow %s: %lld draws (%s) from %lld records by %s: %lld distinct, "
			"effective sample size %.6g, sum of weights %.10g\n", cmd, (long long)o->sample,
			mode_name[o->mode], (long long)n, o->weights, (long long)d->distinct, d->ess,
			d->sum_w);
	if (!o->stats)
		return 0;
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "command", cmd);
	cJSON_AddNumberToObject(j, "n", (double)n);
	cJSON_AddNumberToObject(j, "sample", (double)o->sample);
	cJSON_AddStringToObject(j, "mode", mode_name[o->mode]);
	cJSON_AddNumberToObject(j, "distinct", (double)d->distinct);
	cJSON_AddNumberToObject(j, "effective_sample_size", d->ess);
	cJSON_AddNumberToObject(j, "sum_weights", d->sum_w);
	char *text = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	int rc = wn_writer_save(o->stats, text, err, errlen);
	free(text);
	return rc;
}

int wn_coreset_run(const wn_coreset_opts *o, wn_stream *s, wn_step_report *rep, char *err,
		   size_t errlen)
{
	(void)rep;
	struct cands c = {0};
	wn_spool *sp = wn_spool_new(0, err, errlen);
	if (!sp)
		return -1;
	wn_record rec;
	int r;
	while ((r = wn_stream_next(s, &rec)) > 0)
		if (take(s, &rec, o->weights, &c, sp) < 0 || s->failed) {
			r = -1;
			break;
		}
	int rc = r < 0 || s->failed ? -1 : 0;
	wn_coreset_draw d = {0};
	char why[512] = "";
	if (!rc && c.n > 0) {
		rc = wn_coreset_sample(c.s, c.n, o->sample, o->mode, (uint64_t)o->seed, o->io.threads,
				       &d, why, sizeof why);
		if (rc)
			wn_errf(err, errlen, "%s: %s", wn_stream_source_name(s), why);
		if (!rc)
			rc = report(o, &d, c.n, s->cmd, err, errlen);
		if (!rc)
			rc = emit(s, sp, &d, c.n, o->mode, err, errlen);
	}
	wn_coreset_draw_free(&d);
	free(c.s);
	wn_spool_free(sp);
	return rc;
}
