/*
 * selectors/sources_ot_step.c — the `sources ot` step (see
 * selectors/sources_step.h): each --source and the --target read into a
 * set (vectors, labels), the OTDD costs built once (selectors/sources_ot.c),
 * then the distance of every source and of the uniform mixture (and of
 * --mix) with its gradient, as one JSON document.
 * Owns the sets and opts->sources / opts->mixp (released by
 * wn_sources_ot_release); borrows the stream for its policy and output.
 */
#include "selectors/sources_step.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "io/buf.h"
#include "io/errf.h"
#include "io/intern.h"
#include "io/json.h"
#include "io/record.h"
#include "selectors/sources.h"
#include "selectors/sources_table.h"

#define OT_MAX_DIM 65536

void wn_sources_ot_init(wn_sources_ot_opts *o)
{
	*o = (wn_sources_ot_opts){.io = WN_STREAM_OPTS_INIT};
	o->emb = "winnow.emb";
	o->blur = 0.1;             /* projektor: entreg 1e-2, blur = entreg^(1/2) */
	o->inner_blur = sqrt(0.1); /* otdd: inner_ot_entreg 0.1 */
	o->tol = 1e-6; /* distances to ~7 digits, gradients to ~5 (bench: 3x faster than 1e-9) */
	o->max_iter = 2000;
}

int wn_sources_ot_source_cb(const struct wn_option *opt, const char *arg, char *err, size_t errlen)
{
	wn_sources_ot_opts *o = opt->value;
	const char **a = realloc(o->sources, (size_t)(o->nsources + 1) * sizeof *a);
	if (!a) {
		wn_errf(err, errlen, "out of memory");
		return -1;
	}
	o->sources = a;
	o->sources[o->nsources++] = arg;
	return 0;
}

int wn_sources_parse_mix(const char *arg, const char *what, int K, double *p, char *err,
			size_t errlen)
{
	char *copy = strdup(arg), *save = NULL, wt[64];
	int n = 0, rc = copy ? 0 : -1;
	double sum = 0;
	snprintf(wt, sizeof wt, "%s weight", what);
	if (rc)
		wn_errf(err, errlen, "out of memory");
	for (char *t = rc ? NULL : strtok_r(copy, ",", &save); t && !rc; t = strtok_r(NULL, ",", &save)) {
		if (n == K) {
			wn_errf(err, errlen, "%s has more weights than the %d sources", what, K);
			rc = -1;
		} else if (wn_src_parse_double(t, wt, &p[n], err, errlen) || p[n] < 0) {
			if (p[n] < 0)
				wn_errf(err, errlen, "%s weight '%s' is negative", what, t);
			rc = -1;
		} else
			sum += p[n++];
	}
	free(copy);
	if (!rc && (n != K || !(sum > 0))) {
		wn_errf(err, errlen, "%s needs %d weights (one per --source) with a positive sum", what, K);
		rc = -1;
	}
	for (int i = 0; !rc && i < n; i++)
		p[i] /= sum;
	return rc;
}

static int parse_mix(wn_sources_ot_opts *o, char *err, size_t errlen)
{
	o->mixp = calloc((size_t)o->nsources, sizeof *o->mixp);
	if (!o->mixp)
		return wn_errf(err, errlen, "out of memory"), -1;
	return wn_sources_parse_mix(o->mix, "--mix", o->nsources, o->mixp, err, errlen);
}

int wn_sources_ot_check(wn_sources_ot_opts *o, int npos, char *err, size_t errlen)
{
	if (npos > 0) {
		wn_errf(err, errlen, "takes no input files (use --source FILE and --target FILE)");
		return -1;
	}
	if (o->nsources < 1 || !o->target) {
		wn_errf(err, errlen, "needs at least one --source FILE and a --target FILE");
		return -1;
	}
	if (!(o->blur > 0 && isfinite(o->blur)) || !(o->inner_blur > 0 && isfinite(o->inner_blur))) {
		wn_errf(err, errlen, "--blur and --inner-blur must be positive");
		return -1;
	}
	if (o->max_iter < 1 || !(o->tol > 0)) {
		wn_errf(err, errlen, "--max-iter must be >= 1 and --tol > 0");
		return -1;
	}
	if (o->label && !*o->label) {
		wn_errf(err, errlen, "--label needs a field name");
		return -1;
	}
	return o->mix ? parse_mix(o, err, errlen) : 0;
}

void wn_sources_ot_release(wn_sources_ot_opts *o)
{
	free(o->sources);
	free(o->mixp);
	o->sources = NULL;
	o->mixp = NULL;
}

/* ---------- reading a set ---------- */

typedef struct set_reader {
	wn_src_set *set;
	wn_intern *labels;
	wn_buf scratch;
	int64_t cap;
	float *v;
} set_reader;

static int grow(set_reader *r, int64_t d)
{
	wn_src_set *s = r->set;
	if (s->n < r->cap)
		return 0;
	int64_t cap = r->cap ? 2 * r->cap : 256;
	float *X = realloc(s->X, (size_t)(cap * d) * sizeof *X);
	if (!X)
		return -1;
	s->X = X;
	int32_t *l = realloc(s->label, (size_t)cap * sizeof *l);
	if (!l)
		return -1;
	s->label = l;
	r->cap = cap;
	return 0;
}

/* The label of rec as text: a string's contents, or the raw JSON of a
 * number, true/false. -1 with why when missing or another type. */
static int label_text(set_reader *r, const wn_record *rec, const char *field, wn_span *t,
		      const char **why)
{
	wn_span v;
	if (!wn_json_get(rec->json, field, &v)) {
		*why = "missing";
		return -1;
	}
	int ty = wn_json_type_of(v);
	if (ty == WN_JSON_STRING)
		return wn_json_string(v, &r->scratch, t);
	if (ty == WN_JSON_NUMBER || ty == WN_JSON_TRUE || ty == WN_JSON_FALSE) {
		*t = v;
		return 0;
	}
	*why = "not a string, number or boolean";
	return -1;
}

/* 1: added, 0: rejected under the policy (go on), -1: stop */
static int add_record(set_reader *r, wn_stream *s, const wn_record *rec, const char *emb,
		      const char *label, char *err, size_t errlen)
{
	char why[256];
	int dim;
	if (wn_vec_get(rec->json, emb, r->v, OT_MAX_DIM, &dim, why, sizeof why))
		return wn_policy_reject_record(&s->policy, rec, "%s: %s", emb, why) ? -1 : 0;
	if (r->set->n > 0 && dim != r->set->d)
		return wn_policy_reject_record(&s->policy, rec, "%s has dimension %d, earlier records %lld",
					       emb, dim, (long long)r->set->d) ? -1 : 0;
	wn_span t = {0};
	const char *lwhy = "";
	if (label && label_text(r, rec, label, &t, &lwhy))
		return wn_policy_reject_record(&s->policy, rec, "label %s: %s", label, lwhy) ? -1 : 0;
	r->set->d = dim;
	if (grow(r, dim)) {
		wn_errf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(r->set->X + r->set->n * dim, r->v, (size_t)dim * sizeof *r->v);
	int64_t id = label ? wn_intern_put(r->labels, t.p, t.n, NULL) : 0;
	if (id < 0 || id > INT32_MAX) {
		wn_errf(err, errlen, "out of memory");
		return -1;
	}
	r->set->label[r->set->n++] = (int32_t)id;
	return 1;
}

static int take_labels(set_reader *r)
{
	wn_src_set *s = r->set;
	size_t n = wn_intern_count(r->labels);
	s->names = calloc(n ? n : 1, sizeof *s->names);
	if (!s->names)
		return -1;
	for (size_t i = 0; i < n; i++) {
		size_t len;
		const char *p = wn_intern_str(r->labels, i, &len);
		if (!(s->names[i] = strndup(p, len)))
			return -1;
		s->nlabels = (int)i + 1;
	}
	return 0;
}

int wn_sources_read_set(wn_stream *s, const char *path, const char *emb, const char *label,
			wn_src_set *set, char *err, size_t errlen)
{
	memset(set, 0, sizeof *set);
	set_reader r = {set, wn_intern_new(), WN_BUF_INIT, 0, malloc(OT_MAX_DIM * sizeof(float))};
	wn_reader_opts ro = {WN_FORMAT_AUTO, s->co->max_record, &s->policy, 0};
	const char *paths[1] = {path};
	wn_reader *in = r.labels && r.v ? wn_reader_open(paths, 1, &ro) : NULL;
	int rc = in ? 0 : -1, got;
	wn_record rec;
	if (rc)
		wn_errf(err, errlen, "out of memory");
	while (!rc && (got = wn_reader_next(in, &rec)) > 0)
		rc = add_record(&r, s, &rec, emb, label, err, errlen) < 0 ? -1 : 0;
	if (!rc && got < 0)
		rc = -1; /* reported by the reader */
	if (!rc && set->n == 0) {
		wn_errf(err, errlen, "%s: no usable records", path);
		rc = -1;
	}
	if (!rc && label && take_labels(&r)) {
		wn_errf(err, errlen, "out of memory");
		rc = -1;
	}
	if (!rc && !label) {
		free(set->label);
		set->label = NULL;
	}
	if (in)
		wn_reader_close(in);
	wn_intern_free(r.labels);
	wn_buf_free(&r.scratch);
	free(r.v);
	if (rc)
		wn_src_set_free(set);
	return rc;
}

/* ---------- the report ---------- */

static cJSON *json_mixture(const wn_otdd *ot, const double *p, char *err, size_t errlen)
{
	double dist, *grad = malloc((size_t)ot->K * sizeof *grad);
	cJSON *j = cJSON_CreateObject();
	if (!grad || !j) {
		wn_errf(err, errlen, "out of memory");
		goto fail;
	}
	if (wn_otdd_mixture(ot, p, &dist, grad, err, errlen))
		goto fail;
	cJSON_AddItemToObject(j, "p", cJSON_CreateDoubleArray(p, ot->K));
	cJSON_AddNumberToObject(j, "distance", dist);
	cJSON_AddItemToObject(j, "gradient", cJSON_CreateDoubleArray(grad, ot->K));
	free(grad);
	return j;
fail:
	free(grad);
	cJSON_Delete(j);
	return NULL;
}

static cJSON *json_sources(const wn_sources_ot_opts *o, const wn_otdd *ot, char *err, size_t errlen)
{
	cJSON *arr = cJSON_CreateArray();
	for (int k = 0; arr && k < o->nsources; k++) {
		double d;
		cJSON *j = cJSON_CreateObject();
		if (!j || !cJSON_AddItemToArray(arr, j) || wn_otdd_source(ot, k, &d, err, errlen)) {
			if (!j)
				wn_errf(err, errlen, "out of memory");
			cJSON_Delete(arr);
			return NULL;
		}
		cJSON_AddStringToObject(j, "path", o->sources[k]);
		cJSON_AddNumberToObject(j, "n", (double)ot->counts[k]);
		cJSON_AddNumberToObject(j, "distance", d);
	}
	return arr;
}

static int report(const wn_sources_ot_opts *o, const wn_otdd *ot, int labelled, wn_buf *out,
		  char *err, size_t errlen)
{
	cJSON *doc = cJSON_CreateObject(), *tgt = cJSON_CreateObject();
	double *uni = malloc((size_t)o->nsources * sizeof *uni);
	int rc = !doc || !tgt || !uni ? -1 : 0;
	if (rc)
		wn_errf(err, errlen, "out of memory");
	for (int k = 0; uni && k < o->nsources; k++)
		uni[k] = 1.0 / o->nsources;
	if (!rc) {
		cJSON_AddStringToObject(doc, "method", labelled ? "otdd" : "feature-ot");
		if (labelled)
			cJSON_AddStringToObject(doc, "label", o->label);
		cJSON_AddNumberToObject(doc, "blur", o->blur);
		if (labelled)
			cJSON_AddNumberToObject(doc, "inner_blur", o->inner_blur);
		cJSON_AddStringToObject(tgt, "path", o->target);
		cJSON_AddNumberToObject(tgt, "n", (double)ot->M);
		cJSON_AddItemToObject(doc, "target", tgt);
		tgt = NULL;
	}
	cJSON *part = rc ? NULL : json_sources(o, ot, err, errlen);
	rc = rc || !part ? -1 : 0;
	if (!rc)
		cJSON_AddItemToObject(doc, "sources", part);
	if (!rc && !(part = json_mixture(ot, uni, err, errlen)))
		rc = -1;
	if (!rc)
		cJSON_AddItemToObject(doc, "uniform", part);
	if (!rc && o->mixp && !(part = json_mixture(ot, o->mixp, err, errlen)))
		rc = -1;
	if (!rc && o->mixp)
		cJSON_AddItemToObject(doc, "mixture", part);
	char *text = rc ? NULL : cJSON_PrintUnformatted(doc);
	if (!rc && (!text || wn_buf_puts(out, text) || wn_buf_putc(out, '\n'))) {
		wn_errf(err, errlen, "out of memory");
		rc = -1;
	}
	free(text);
	free(uni);
	cJSON_Delete(tgt);
	cJSON_Delete(doc);
	return rc;
}

static void sets_free(wn_src_set *sets, int n)
{
	for (int i = 0; sets && i < n; i++)
		wn_src_set_free(&sets[i]);
	free(sets);
}

int wn_sources_ot_prepare(const wn_sources_ot_opts *o, wn_stream *s, wn_src_set **setsp,
			  wn_core **corep, wn_otdd *ot, char *err, size_t errlen)
{
	int K = o->nsources, rc = 0;
	wn_src_set *sets = calloc((size_t)K + 1, sizeof *sets); /* sources, then the target */
	wn_core *core = NULL;
	memset(ot, 0, sizeof *ot);
	if (!sets) {
		wn_errf(err, errlen, "out of memory");
		return -1;
	}
	for (int k = 0; !rc && k <= K; k++)
		rc = wn_sources_read_set(s, k < K ? o->sources[k] : o->target, o->emb, o->label,
					 &sets[k], err, errlen);
	if (!rc && !(core = wn_core_open_named(o->io.device, o->io.threads, err, errlen)))
		rc = -1;
	wn_sinkhorn_opts outer = {o->blur, 0.5, o->max_iter, o->tol};
	wn_sinkhorn_opts inner = {o->inner_blur, 0.5, o->max_iter, o->tol};
	if (!rc)
		rc = wn_otdd_init(ot, core, sets, K, &sets[K], o->label != NULL, &outer, &inner, err,
				  errlen);
	if (rc) {
		wn_sources_ot_done(o, sets, core, ot);
		return -1;
	}
	*setsp = sets;
	*corep = core;
	return 0;
}

void wn_sources_ot_done(const wn_sources_ot_opts *o, wn_src_set *sets, wn_core *core, wn_otdd *ot)
{
	wn_otdd_free(ot);
	if (core)
		wn_core_close(core);
	sets_free(sets, o->nsources + 1);
}

int wn_sources_ot_run(const wn_sources_ot_opts *o, wn_stream *s, wn_step_report *rep, char *err,
		      size_t errlen)
{
	(void)rep;
	wn_src_set *sets = NULL;
	wn_core *core = NULL;
	wn_otdd ot;
	wn_buf out = WN_BUF_INIT;
	int rc = wn_sources_ot_prepare(o, s, &sets, &core, &ot, err, errlen);
	if (rc)
		return -1;
	rc = report(o, &ot, o->label != NULL, &out, err, errlen);
	if (!rc && wn_stream_write(s, out.data, out.len)) {
		wn_errf(err, errlen, "cannot write the report");
		rc = -1;
	}
	wn_buf_free(&out);
	wn_sources_ot_done(o, sets, core, &ot);
	return rc;
}
