/*
 * selectors/sources_plan_step.c — the `sources plan` step (see
 * selectors/sources_step.h): pilots (N, p, performance) at two sizes, the
 * OT of each pilot mixture from the sources (selectors/sources_ot.c), the
 * stage-1 fit at each size, the stage-2 interpolation to --size, and the
 * projected gradient ascent from the uniform mixture; writes the mixture
 * and the per-source sample counts as a table or JSON.
 * Owns the pilots and the ascent's arrays (freed before returning).
 */
#include "selectors/sources_step.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/buf.h"
#include "io/errf.h"
#include "selectors/sources.h"
#include "selectors/sources_table.h"

void wn_sources_plan_init(wn_sources_plan_opts *o)
{
	memset(o, 0, sizeof *o);
	wn_sources_ot_init(&o->ot);
	o->steps = 100;  /* projektor's notebook */
	o->lr = 5e-4;
	o->decay = 0.9;
}

int wn_sources_plan_check(wn_sources_plan_opts *o, int npos, char *err, size_t errlen)
{
	if (o->pilot_label) {
		wn_errf(err, errlen, "--pilot-label (pilots from winnow's own proxy) is not implemented yet: "
				     "give the measurements with --pilots FILE");
		return -1;
	}
	if (!o->pilots) {
		wn_errf(err, errlen, "--pilots FILE is required");
		return -1;
	}
	if (o->size < 1) {
		wn_errf(err, errlen, "--size N is required (>= 1)");
		return -1;
	}
	if (o->steps < 0 || !(o->lr >= 0 && isfinite(o->lr)) || !(o->decay > 0 && o->decay <= 1)) {
		wn_errf(err, errlen, "--steps must be >= 0, --lr >= 0, --decay in (0, 1]");
		return -1;
	}
	if (o->ot.mix) {
		wn_errf(err, errlen, "--mix is for `sources ot`; the plan starts from the uniform mixture");
		return -1;
	}
	if (o->ot.nsources < 2) {
		wn_errf(err, errlen, "needs at least two --source FILE and a --target FILE");
		return -1;
	}
	return wn_sources_ot_check(&o->ot, npos, err, errlen);
}

void wn_sources_plan_release(wn_sources_plan_opts *o)
{
	wn_sources_ot_release(&o->ot);
}

/* ---------- the pilots ---------- */

typedef struct pilots {
	int K;
	int64_t *N;
	double *p, *y, *ot; /* m x K, m, m */
	int m, cap;
} pilots;

static void pilots_free(pilots *pl)
{
	free(pl->N);
	free(pl->p);
	free(pl->y);
	free(pl->ot);
}

static int pilots_grow(pilots *pl)
{
	if (pl->m < pl->cap)
		return 0;
	int cap = pl->cap ? 2 * pl->cap : 64;
	int64_t *N = realloc(pl->N, (size_t)cap * sizeof *N);
	if (N)
		pl->N = N;
	double *p = realloc(pl->p, (size_t)cap * pl->K * sizeof *p);
	if (p)
		pl->p = p;
	double *y = realloc(pl->y, (size_t)cap * sizeof *y);
	if (y)
		pl->y = y;
	if (!N || !p || !y)
		return -1;
	pl->cap = cap;
	return 0;
}

static int pilot_row(void *ctx, int ntok, char **tok, char *err, size_t errlen)
{
	pilots *pl = ctx;
	int K = pl->K;
	double sum = 0;
	if (ntok != K + 2) {
		wn_errf(err, errlen, "expected %d fields (N, %d mixture weights, performance), got %d",
			K + 2, K, ntok);
		return -1;
	}
	if (pilots_grow(pl)) {
		wn_errf(err, errlen, "out of memory");
		return -1;
	}
	double *p = pl->p + (size_t)pl->m * K;
	if (wn_src_parse_count(tok[0], "N", &pl->N[pl->m], err, errlen) ||
	    wn_src_parse_double(tok[K + 1], "performance", &pl->y[pl->m], err, errlen))
		return -1;
	for (int i = 0; i < K; i++) {
		if (wn_src_parse_double(tok[i + 1], "mixture weight", &p[i], err, errlen))
			return -1;
		if (p[i] < 0) {
			wn_errf(err, errlen, "mixture weight '%s' is negative", tok[i + 1]);
			return -1;
		}
		sum += p[i];
	}
	if (fabs(sum - 1) > 1e-6) {
		wn_errf(err, errlen, "the mixture weights sum to %.9g, not 1", sum);
		return -1;
	}
	pl->m++;
	return 0;
}

/* The two pilot sizes N0 < N1; -1 unless there are exactly two. */
static int pilot_sizes(const pilots *pl, int64_t *N0, int64_t *N1, const char *path, char *err,
		       size_t errlen)
{
	*N0 = *N1 = 0;
	for (int i = 0; i < pl->m; i++) {
		int64_t n = pl->N[i];
		if (!*N0 || n == *N0)
			*N0 = n;
		else if (!*N1 || n == *N1)
			*N1 = n;
		else {
			wn_errf(err, errlen, "%s: pilots at more than two sizes (%lld, %lld, %lld)", path,
				(long long)*N0, (long long)*N1, (long long)n);
			return -1;
		}
	}
	if (!*N1) {
		wn_errf(err, errlen, "%s: pilots at one size only: stage 2 needs two", path);
		return -1;
	}
	if (*N0 > *N1) {
		int64_t t = *N0;
		*N0 = *N1;
		*N1 = t;
	}
	return 0;
}

/* Fit the coefficients at size N from the pilots of that size. */
static int fit_size(const pilots *pl, int64_t N, double *beta, double *rss, int *used, char *err,
		    size_t errlen)
{
	int K = pl->K, F = wn_plan_nfeat(K), m = 0;
	double *feat = malloc((size_t)pl->m * F * sizeof *feat), *y = malloc((size_t)pl->m * sizeof *y);
	if (!feat || !y) {
		free(feat);
		free(y);
		wn_errf(err, errlen, "out of memory");
		return -1;
	}
	for (int i = 0; i < pl->m; i++)
		if (pl->N[i] == N) {
			wn_plan_features(pl->p + (size_t)i * K, K, pl->ot[i], feat + (size_t)m * F);
			y[m++] = pl->y[i];
		}
	*used = m;
	char why[256];
	int rc = wn_plan_fit(feat, y, m, F, beta, rss, why, sizeof why);
	if (rc)
		wn_errf(err, errlen, "pilots at N = %lld: %s", (long long)N, why);
	free(feat);
	free(y);
	return rc;
}

/* ---------- stage 2 and the ascent ---------- */

typedef struct plan {
	int K, F;
	int64_t N, N0, N1;
	double beta[2][3 * 64 + 2], rss[2];
	int used[2];
	double *p, *start, L_start, L_end, ot_end;
	int64_t *count;
} plan;

/* L(N, p) and, when grad is given, its gradient, at the OT of p */
static int plan_eval(const plan *pl, const wn_otdd *ot, const double *p, double *L, double *otv,
		     double *grad, char *err, size_t errlen)
{
	int K = pl->K;
	double dot[K], g0[K], g1[K], d;
	if (wn_otdd_mixture(ot, p, &d, dot, err, errlen))
		return -1;
	double L0 = wn_plan_predict(pl->beta[0], p, K, d), L1 = wn_plan_predict(pl->beta[1], p, K, d);
	*L = wn_plan_interp((double)pl->N, (double)pl->N0, L0, (double)pl->N1, L1);
	*otv = d;
	if (grad) {
		wn_plan_gradient(pl->beta[0], p, K, d, dot, g0);
		wn_plan_gradient(pl->beta[1], p, K, d, dot, g1);
		for (int i = 0; i < K; i++)
			grad[i] = wn_plan_interp((double)pl->N, (double)pl->N0, g0[i], (double)pl->N1, g1[i]);
	}
	return 0;
}

/* p <- P_simplex(p + lr decay^t dL/dp), t = 0..steps-1, from the uniform mixture */
static int ascend(const wn_sources_plan_opts *o, plan *pl, const wn_otdd *ot, char *err, size_t errlen)
{
	int K = pl->K;
	double g[K], L, d;
	for (int i = 0; i < K; i++)
		pl->p[i] = pl->start[i] = 1.0 / K;
	if (plan_eval(pl, ot, pl->p, &pl->L_start, &d, NULL, err, errlen))
		return -1;
	for (int t = 0; t < o->steps; t++) {
		if (plan_eval(pl, ot, pl->p, &L, &d, g, err, errlen))
			return -1;
		double eta = o->lr * pow(o->decay, t);
		for (int i = 0; i < K; i++)
			pl->p[i] += eta * g[i];
		wn_plan_project_simplex(pl->p, K);
	}
	return plan_eval(pl, ot, pl->p, &pl->L_end, &pl->ot_end, NULL, err, errlen);
}

/* round(p_i N) by largest remainder, summing to N (ties to the earlier source) */
static void sample_counts(plan *pl)
{
	int64_t left = pl->N;
	double rem[pl->K];
	for (int i = 0; i < pl->K; i++) {
		double x = pl->p[i] * (double)pl->N;
		pl->count[i] = (int64_t)floor(x);
		rem[i] = x - floor(x);
		left -= pl->count[i];
	}
	while (left-- > 0) {
		int best = 0;
		for (int i = 1; i < pl->K; i++)
			if (rem[i] > rem[best])
				best = i;
		pl->count[best]++;
		rem[best] = -1;
	}
}

/* ---------- the report ---------- */

static const char *coef_name(int K, int j, char *buf, size_t n)
{
	int k = K - 1;
	if (j < k)
		snprintf(buf, n, "b2_%d", j + 1);
	else if (j < 2 * k)
		snprintf(buf, n, "b1_%d", j - k + 1);
	else if (j == 2 * k)
		snprintf(buf, n, "b0");
	else if (j < 3 * k + 1)
		snprintf(buf, n, "c1_%d", j - 2 * k);
	else
		snprintf(buf, n, "c0");
	return buf;
}

static int render_table(const wn_sources_plan_opts *o, const plan *pl, wn_buf *out)
{
	int rc = 0;
	char nm[32];
	for (int s = 0; s < 2; s++) {
		rc |= wn_buf_printf(out, "# stage 1 at N = %lld: %d pilots, rss %.6g:", (long long)(s ? pl->N1 : pl->N0),
				    pl->used[s], pl->rss[s]);
		for (int j = 0; j < pl->F; j++)
			rc |= wn_buf_printf(out, " %s %.6g", coef_name(pl->K, j, nm, sizeof nm), pl->beta[s][j]);
		rc |= wn_buf_putc(out, '\n');
	}
	rc |= wn_buf_printf(out, "# predicted at N = %lld: uniform %.6f, planned %.6f (OT %.6f)\n",
			    (long long)pl->N, pl->L_start, pl->L_end, pl->ot_end);
	rc |= wn_buf_puts(out, "source\tp\tsamples\n");
	for (int i = 0; i < pl->K; i++)
		rc |= wn_buf_printf(out, "%s\t%.6f\t%lld\n", o->ot.sources[i], pl->p[i], (long long)pl->count[i]);
	return rc ? -1 : 0;
}

static cJSON *json_fit(const plan *pl, int s)
{
	char nm[32];
	cJSON *j = cJSON_CreateObject(), *c = cJSON_CreateObject();
	if (!j || !c || !cJSON_AddItemToObject(j, "coefficients", c)) {
		cJSON_Delete(j);
		cJSON_Delete(c);
		return NULL;
	}
	cJSON_AddNumberToObject(j, "N", (double)(s ? pl->N1 : pl->N0));
	cJSON_AddNumberToObject(j, "pilots", pl->used[s]);
	cJSON_AddNumberToObject(j, "rss", pl->rss[s]);
	for (int k = 0; k < pl->F; k++)
		cJSON_AddNumberToObject(c, coef_name(pl->K, k, nm, sizeof nm), pl->beta[s][k]);
	return j;
}

static cJSON *json_pilots(const pilots *pi)
{
	cJSON *arr = cJSON_CreateArray();
	for (int i = 0; arr && i < pi->m; i++) {
		cJSON *r = cJSON_CreateObject();
		if (!r || !cJSON_AddItemToArray(arr, r)) {
			cJSON_Delete(r);
			cJSON_Delete(arr);
			return NULL;
		}
		cJSON_AddNumberToObject(r, "N", (double)pi->N[i]);
		cJSON_AddItemToObject(r, "p", cJSON_CreateDoubleArray(pi->p + (size_t)i * pi->K, pi->K));
		cJSON_AddNumberToObject(r, "ot", pi->ot[i]);
		cJSON_AddNumberToObject(r, "performance", pi->y[i]);
	}
	return arr;
}

static int render_json(const wn_sources_plan_opts *o, const plan *pl, const pilots *pi, wn_buf *out)
{
	cJSON *doc = cJSON_CreateObject(), *fits = cJSON_CreateArray(), *src = cJSON_CreateArray();
	int ok = doc && fits && src;
	if (!ok) {
		cJSON_Delete(fits);
		cJSON_Delete(src);
	}
	if (ok) {
		cJSON_AddItemToObject(doc, "fits", fits);
		cJSON_AddItemToObject(doc, "sources", src);
		cJSON_AddNumberToObject(doc, "size", (double)pl->N);
		cJSON_AddNumberToObject(doc, "predicted_uniform", pl->L_start);
		cJSON_AddNumberToObject(doc, "predicted", pl->L_end);
		cJSON_AddNumberToObject(doc, "ot", pl->ot_end);
		cJSON_AddItemToObject(doc, "p", cJSON_CreateDoubleArray(pl->p, pl->K));
	}
	for (int s = 0; ok && s < 2; s++) {
		cJSON *f = json_fit(pl, s);
		ok = f && cJSON_AddItemToArray(fits, f);
	}
	for (int i = 0; ok && i < pl->K; i++) {
		cJSON *r = cJSON_CreateObject();
		ok = r && cJSON_AddItemToArray(src, r);
		if (ok) {
			cJSON_AddStringToObject(r, "path", o->ot.sources[i]);
			cJSON_AddNumberToObject(r, "p", pl->p[i]);
			cJSON_AddNumberToObject(r, "samples", (double)pl->count[i]);
		}
	}
	cJSON *pj = ok ? json_pilots(pi) : NULL;
	ok = ok && pj && cJSON_AddItemToObject(doc, "pilots", pj);
	char *text = ok ? cJSON_PrintUnformatted(doc) : NULL;
	cJSON_Delete(doc);
	int rc = text && !wn_buf_puts(out, text) && !wn_buf_putc(out, '\n') ? 0 : -1;
	free(text);
	return rc;
}

static int pilots_ot(pilots *pi, const wn_otdd *ot, char *err, size_t errlen)
{
	pi->ot = malloc((size_t)(pi->m ? pi->m : 1) * sizeof *pi->ot);
	if (!pi->ot) {
		wn_errf(err, errlen, "out of memory");
		return -1;
	}
	for (int i = 0; i < pi->m; i++) {
		int j = 0; /* the same mixture at the other size: reuse its OT */
		while (j < i && memcmp(pi->p + (size_t)j * pi->K, pi->p + (size_t)i * pi->K,
				       (size_t)pi->K * sizeof *pi->p))
			j++;
		if (j < i)
			pi->ot[i] = pi->ot[j];
		else if (wn_otdd_mixture(ot, pi->p + (size_t)i * pi->K, &pi->ot[i], NULL, err, errlen))
			return -1;
	}
	return 0;
}

static int plan_run(const wn_sources_plan_opts *o, pilots *pi, plan *pl, const wn_otdd *ot,
		    wn_buf *out, char *err, size_t errlen)
{
	if (pilot_sizes(pi, &pl->N0, &pl->N1, o->pilots, err, errlen) || pilots_ot(pi, ot, err, errlen))
		return -1;
	for (int s = 0; s < 2; s++)
		if (fit_size(pi, s ? pl->N1 : pl->N0, pl->beta[s], &pl->rss[s], &pl->used[s], err, errlen))
			return -1;
	if (ascend(o, pl, ot, err, errlen))
		return -1;
	sample_counts(pl);
	if (o->json ? render_json(o, pl, pi, out) : render_table(o, pl, out)) {
		wn_errf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

int wn_sources_plan_run(const wn_sources_plan_opts *o, wn_stream *s, wn_step_report *rep, char *err,
			size_t errlen)
{
	(void)rep;
	int K = o->ot.nsources;
	if (K > 64) {
		wn_errf(err, errlen, "at most 64 sources");
		return -1;
	}
	pilots pi = {.K = K};
	plan pl = {.K = K, .F = wn_plan_nfeat(K), .N = o->size};
	pl.p = calloc((size_t)K, sizeof *pl.p);
	pl.start = calloc((size_t)K, sizeof *pl.start);
	pl.count = calloc((size_t)K, sizeof *pl.count);
	wn_src_set *sets = NULL;
	wn_core *core = NULL;
	wn_otdd ot = {0};
	wn_buf out = WN_BUF_INIT;
	int rc = pl.p && pl.start && pl.count ? 0 : -1, prepared = 0;
	if (rc)
		wn_errf(err, errlen, "out of memory");
	if (!rc)
		rc = wn_src_table_read(o->pilots, pilot_row, &pi, err, errlen);
	if (!rc && !(prepared = !wn_sources_ot_prepare(&o->ot, s, &sets, &core, &ot, err, errlen)))
		rc = -1;
	if (!rc)
		rc = plan_run(o, &pi, &pl, &ot, &out, err, errlen);
	if (!rc && wn_stream_write(s, out.data, out.len)) {
		wn_errf(err, errlen, "cannot write the report");
		rc = -1;
	}
	if (prepared)
		wn_sources_ot_done(&o->ot, sets, core, &ot);
	wn_buf_free(&out);
	pilots_free(&pi);
	free(pl.p);
	free(pl.start);
	free(pl.count);
	return rc;
}
