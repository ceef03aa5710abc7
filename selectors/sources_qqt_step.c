/*
 * selectors/sources_qqt_step.c — the `sources qqt` step (see
 * selectors/sources_step.h): pilots file -> per-pool (b, tau) fits ->
 * the error of the top-k pools at each budget -> a table or JSON.
 * Owns the pools it reads (freed before returning) and opts->budgets
 * (freed by wn_sources_qqt_release).
 */
#include "selectors/sources_step.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "io/buf.h"
#include "io/errf.h"
#include "selectors/sources.h"
#include "selectors/sources_table.h"

void wn_sources_qqt_init(wn_sources_qqt_opts *o)
{
	*o = (wn_sources_qqt_opts){.io = WN_STREAM_OPTS_INIT};
	o->a = NAN;
	o->d = 0.1;      /* estimate_best_pool.py's default */
	o->a_upper = 0.2; /* grid_search.py's default */
}

static int parse_budgets(wn_sources_qqt_opts *o, char *err, size_t errlen)
{
	char *copy = strdup(o->budget), *save = NULL;
	if (!copy) {
		wn_errf(err, errlen, "out of memory");
		return -1;
	}
	int rc = 0;
	for (char *t = strtok_r(copy, ",", &save); t && !rc; t = strtok_r(NULL, ",", &save)) {
		int64_t *nb = realloc(o->budgets, (size_t)(o->nbudgets + 1) * sizeof *nb);
		if (!nb) {
			wn_errf(err, errlen, "out of memory");
			rc = -1;
			break;
		}
		o->budgets = nb;
		rc = wn_src_parse_count(t, "--budget", &o->budgets[o->nbudgets++], err, errlen);
	}
	free(copy);
	if (!rc && o->nbudgets == 0) {
		wn_errf(err, errlen, "--budget needs at least one sample count");
		rc = -1;
	}
	return rc;
}

int wn_sources_qqt_check(wn_sources_qqt_opts *o, int npos, char *err, size_t errlen)
{
	if (npos > 0) {
		wn_errf(err, errlen, "takes no input files (the pilots come from --pilots FILE)");
		return -1;
	}
	if (!o->pilots) {
		wn_errf(err, errlen, "--pilots FILE is required");
		return -1;
	}
	if (!o->budget) {
		wn_errf(err, errlen, "--budget SAMPLES is required");
		return -1;
	}
	if (o->pool_size < 1) {
		wn_errf(err, errlen, "--pool-size SAMPLES is required (>= 1)");
		return -1;
	}
	if (!isnan(o->a) && !(o->a > 0 && isfinite(o->a))) {
		wn_errf(err, errlen, "--a must be a positive number");
		return -1;
	}
	if (!(o->d >= 0 && isfinite(o->d)) || !(o->a_upper > 0.0001 && isfinite(o->a_upper))) {
		wn_errf(err, errlen, "--d must be >= 0 and --a-upper > 0.0001");
		return -1;
	}
	return parse_budgets(o, err, errlen);
}

void wn_sources_qqt_release(wn_sources_qqt_opts *o)
{
	free(o->budgets);
	o->budgets = NULL;
	o->nbudgets = 0;
}

/* ---------- the pilots ---------- */

typedef struct qqt_pool {
	char *name;
	int64_t *S, *n;
	double *y;
	size_t m, cap;
	double b, tau, sse;
} qqt_pool;

typedef struct qqt_pools {
	qqt_pool *p;
	int np, cap;
} qqt_pools;

static void pools_free(qqt_pools *ps)
{
	for (int i = 0; i < ps->np; i++) {
		free(ps->p[i].name);
		free(ps->p[i].S);
		free(ps->p[i].n);
		free(ps->p[i].y);
	}
	free(ps->p);
}

static qqt_pool *pool_get(qqt_pools *ps, const char *name)
{
	for (int i = 0; i < ps->np; i++)
		if (!strcmp(ps->p[i].name, name))
			return &ps->p[i];
	if (ps->np == ps->cap) {
		int cap = ps->cap ? 2 * ps->cap : 8;
		qqt_pool *np = realloc(ps->p, (size_t)cap * sizeof *np);
		if (!np)
			return NULL;
		ps->p = np;
		ps->cap = cap;
	}
	qqt_pool *p = &ps->p[ps->np];
	*p = (qqt_pool){.name = strdup(name)};
	if (!p->name)
		return NULL;
	ps->np++;
	return p;
}

static int pool_push(qqt_pool *p, int64_t S, int64_t n, double y)
{
	if (p->m == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 8;
		int64_t *nS = realloc(p->S, cap * sizeof *nS);
		if (nS)
			p->S = nS;
		int64_t *nn = realloc(p->n, cap * sizeof *nn);
		if (nn)
			p->n = nn;
		double *ny = realloc(p->y, cap * sizeof *ny);
		if (ny)
			p->y = ny;
		if (!nS || !nn || !ny)
			return -1;
		p->cap = cap;
	}
	p->S[p->m] = S;
	p->n[p->m] = n;
	p->y[p->m++] = y;
	return 0;
}

static int pilot_row(void *ctx, int ntok, char **tok, char *err, size_t errlen)
{
	qqt_pools *ps = ctx;
	int64_t S, n;
	double y;
	if (ntok != 4) {
		wn_errf(err, errlen, "expected 4 fields (POOL SAMPLES_PER_EPOCH SAMPLES_SEEN ERROR), got %d", ntok);
		return -1;
	}
	if (wn_src_parse_count(tok[1], "samples per epoch", &S, err, errlen) ||
	    wn_src_parse_count(tok[2], "samples seen", &n, err, errlen) ||
	    wn_src_parse_double(tok[3], "error", &y, err, errlen))
		return -1;
	qqt_pool *p = pool_get(ps, tok[0]);
	if (!p || pool_push(p, S, n, y)) {
		wn_errf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* ---------- fit and project ---------- */

static int fit_pools(const wn_sources_qqt_opts *o, qqt_pools *ps, double *a, char *err, size_t errlen)
{
	wn_qqt_pilots *pil = malloc((size_t)ps->np * sizeof *pil);
	if (!pil) {
		wn_errf(err, errlen, "out of memory");
		return -1;
	}
	for (int i = 0; i < ps->np; i++)
		pil[i] = (wn_qqt_pilots){ps->p[i].S, ps->p[i].n, ps->p[i].y, ps->p[i].m};
	int rc = 0;
	*a = o->a;
	if (isnan(*a))
		rc = wn_qqt_fit_a(pil, ps->np, o->d, o->a_upper, a, err, errlen);
	for (int i = 0; i < ps->np && !rc; i++) {
		qqt_pool *p = &ps->p[i];
		char why[256];
		if (wn_qqt_fit_pool(&pil[i], *a, o->d, wn_rng_derive((uint64_t)o->seed, 2 + (uint64_t)i), &p->b,
				    &p->tau, &p->sse, why, sizeof why)) {
			wn_errf(err, errlen, "%s: pool %s: %s", o->pilots, p->name, why);
			rc = -1;
		}
	}
	free(pil);
	return rc;
}

/* The pools ranked by b: rank r holds pool order[r]. */
typedef struct qqt_ranked {
	double *b, *tau, *err; /* err: npools x nbudgets, top-k error */
	int *order, *best;      /* best[j]: the k with the smallest error at budget j */
} qqt_ranked;

static void ranked_free(qqt_ranked *r)
{
	free(r->b);
	free(r->tau);
	free(r->err);
	free(r->order);
	free(r->best);
}

static int project(const wn_sources_qqt_opts *o, const qqt_pools *ps, double a, qqt_ranked *r)
{
	int np = ps->np, nb = o->nbudgets;
	r->b = malloc((size_t)np * sizeof *r->b);
	r->tau = malloc((size_t)np * sizeof *r->tau);
	r->err = malloc((size_t)np * (size_t)nb * sizeof *r->err);
	r->order = malloc((size_t)np * sizeof *r->order);
	r->best = malloc((size_t)nb * sizeof *r->best);
	if (!r->b || !r->tau || !r->err || !r->order || !r->best)
		return -1;
	for (int i = 0; i < np; i++) {
		r->b[i] = ps->p[i].b;
		r->tau[i] = ps->p[i].tau;
	}
	wn_qqt_sort_pools(r->b, r->tau, r->order, np);
	for (int j = 0; j < nb; j++) {
		r->best[j] = 1;
		for (int k = 1; k <= np; k++) {
			double e = wn_qqt_topk(r->b, r->tau, k, o->pool_size, o->budgets[j], a, o->d);
			r->err[(size_t)j * np + (k - 1)] = e;
			if (e < r->err[(size_t)j * np + (r->best[j] - 1)])
				r->best[j] = k;
		}
	}
	return 0;
}

static int render_table(const wn_sources_qqt_opts *o, const qqt_pools *ps, double a,
			const qqt_ranked *r, wn_buf *out)
{
	int np = ps->np, rc = 0;
	rc |= wn_buf_printf(out, "# sources qqt: a %.6g (%s), d %.6g, pool size %lld\n", a,
			    isnan(o->a) ? "fitted" : "given", o->d, (long long)o->pool_size);
	rc |= wn_buf_printf(out, "rank\tpool\tb\ttau\tsse\tpilots\n");
	for (int k = 0; k < np; k++) {
		const qqt_pool *p = &ps->p[r->order[k]];
		rc |= wn_buf_printf(out, "%d\t%s\t%.6g\t%.6g\t%.6g\t%zu\n", k + 1, p->name, p->b, p->tau,
				    p->sse, p->m);
	}
	rc |= wn_buf_puts(out, "budget");
	for (int k = 1; k <= np; k++)
		rc |= wn_buf_printf(out, "\ttop%d", k);
	rc |= wn_buf_puts(out, "\tbest_k\tfrac\n");
	for (int j = 0; j < o->nbudgets; j++) {
		rc |= wn_buf_printf(out, "%lld", (long long)o->budgets[j]);
		for (int k = 0; k < np; k++)
			rc |= wn_buf_printf(out, "\t%.6f", r->err[(size_t)j * np + k]);
		rc |= wn_buf_printf(out, "\t%d\t%.6g\n", r->best[j], (double)r->best[j] / np);
	}
	return rc ? -1 : 0;
}

static cJSON *json_pools(const qqt_pools *ps, const qqt_ranked *r)
{
	cJSON *arr = cJSON_CreateArray();
	for (int k = 0; arr && k < ps->np; k++) {
		const qqt_pool *p = &ps->p[r->order[k]];
		cJSON *j = cJSON_CreateObject();
		if (!j || !cJSON_AddItemToArray(arr, j)) {
			cJSON_Delete(j);
			cJSON_Delete(arr);
			return NULL;
		}
		cJSON_AddStringToObject(j, "pool", p->name);
		cJSON_AddNumberToObject(j, "rank", k + 1);
		cJSON_AddNumberToObject(j, "b", p->b);
		cJSON_AddNumberToObject(j, "tau", p->tau);
		cJSON_AddNumberToObject(j, "sse", p->sse);
		cJSON_AddNumberToObject(j, "pilots", (double)p->m);
	}
	return arr;
}

static cJSON *json_budget(const wn_sources_qqt_opts *o, const qqt_pools *ps, const qqt_ranked *r, int j)
{
	int np = ps->np;
	cJSON *b = cJSON_CreateObject(), *e = cJSON_CreateArray(), *names = cJSON_CreateArray();
	if (!b || !cJSON_AddItemToObject(b, "error", e) || !cJSON_AddItemToObject(b, "pools", names)) {
		cJSON_Delete(b);
		return NULL;
	}
	cJSON_AddNumberToObject(b, "samples", (double)o->budgets[j]);
	for (int k = 0; k < np; k++)
		cJSON_AddItemToArray(e, cJSON_CreateNumber(r->err[(size_t)j * np + k]));
	for (int k = 0; k < r->best[j]; k++)
		cJSON_AddItemToArray(names, cJSON_CreateString(ps->p[r->order[k]].name));
	cJSON_AddNumberToObject(b, "best_k", r->best[j]);
	cJSON_AddNumberToObject(b, "frac", (double)r->best[j] / np);
	return b;
}

static int render_json(const wn_sources_qqt_opts *o, const qqt_pools *ps, double a,
		       const qqt_ranked *r, wn_buf *out)
{
	cJSON *doc = cJSON_CreateObject();
	if (!doc)
		return -1;
	cJSON_AddNumberToObject(doc, "a", a);
	cJSON_AddBoolToObject(doc, "a_fitted", isnan(o->a));
	cJSON_AddNumberToObject(doc, "d", o->d);
	cJSON_AddNumberToObject(doc, "pool_size", (double)o->pool_size);
	cJSON *pools = json_pools(ps, r), *budgets = cJSON_CreateArray();
	int ok = pools && cJSON_AddItemToObject(doc, "pools", pools);
	if (!ok)
		cJSON_Delete(pools);
	if (ok && !(ok = budgets && cJSON_AddItemToObject(doc, "budgets", budgets)))
		cJSON_Delete(budgets);
	for (int j = 0; ok && j < o->nbudgets; j++) {
		cJSON *b = json_budget(o, ps, r, j);
		ok = b && cJSON_AddItemToArray(budgets, b);
	}
	char *text = ok ? cJSON_PrintUnformatted(doc) : NULL;
	cJSON_Delete(doc);
	int rc = text && !wn_buf_puts(out, text) && !wn_buf_putc(out, '\n') ? 0 : -1;
	free(text);
	return rc;
}

int wn_sources_qqt_run(const wn_sources_qqt_opts *o, wn_stream *s, wn_step_report *rep, char *err,
		       size_t errlen)
{
	(void)rep;
	qqt_pools ps = {0};
	qqt_ranked r = {0};
	wn_buf out = WN_BUF_INIT;
	double a = 0;
	int rc = wn_src_table_read(o->pilots, pilot_row, &ps, err, errlen);
	if (!rc && ps.np == 0) {
		wn_errf(err, errlen, "%s: no pilots", o->pilots);
		rc = -1;
	}
	if (!rc)
		rc = fit_pools(o, &ps, &a, err, errlen);
	if (!rc && (project(o, &ps, a, &r) ||
		    (o->json ? render_json(o, &ps, a, &r, &out) : render_table(o, &ps, a, &r, &out)))) {
		wn_errf(err, errlen, "out of memory");
		rc = -1;
	}
	if (!rc && wn_stream_write(s, out.data, out.len)) {
		wn_errf(err, errlen, "cannot write the report");
		rc = -1;
	}
	wn_buf_free(&out);
	ranked_free(&r);
	pools_free(&ps);
	return rc;
}
