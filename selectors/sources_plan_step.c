/*
 * selectors/sources_plan_step.c — the `sources plan` step (see
 * selectors/sources_step.h): pilots (N, p, performance) at two sizes, the
 * OT of each pilot mixture from the sources (selectors/sources_ot.c), the
 * stage-1 fit at each size, the stage-2 interpolation to --size, and the
 * projected gradient ascent from the uniform mixture; writes the mixture
 * and the per-source sample counts as a table or JSON, and the prediction
 * (and, with --pilot-label, the proxy's measurement) at each
 * --eval-mixture. With --pilot-label each pilot is a linear proxy trained
 * by wn_dyn_fit (selectors/dynamics.h) on row numbers into one matrix of
 * every record: accuracy only, none of `winnow train`'s per-record scores.
 * Owns the pilots and the ascent's arrays (freed before returning) and
 * opts->eval_mix / opts->evalp (wn_sources_plan_release).
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
#include "selectors/dynamics.h"
#include "selectors/mix_weights.h"
#include "selectors/sources.h"
#include "selectors/sources_table.h"

void wn_sources_plan_init(wn_sources_plan_opts *o)
{
	memset(o, 0, sizeof *o);
	wn_sources_ot_init(&o->ot);
	o->steps = 100;  /* projektor's notebook */
	o->lr = 5e-4;
	o->decay = 0.9;
	o->pilot_repeats = 3; /* the issue: three repeats, the median */
	o->pilot_epochs = 20;
	o->pilot_lr = 0.01; /* pilots are small: a few steps an epoch */
	o->pilot_batch = 32;
}

static int parse_pilot_sizes(wn_sources_plan_opts *o, char *err, size_t errlen)
{
	char buf[128], *save = NULL;
	int n = 0;
	if (!o->pilot_sizes) {
		wn_errf(err, errlen, "--pilot-label needs --pilot-sizes N0,N1");
		return -1;
	}
	snprintf(buf, sizeof buf, "%s", o->pilot_sizes);
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (n == 2 || wn_src_parse_count(t, "--pilot-sizes", &o->psize[n++], err, errlen)) {
			if (n == 2)
				wn_errf(err, errlen, "--pilot-sizes takes two sizes N0,N1");
			return -1;
		}
	}
	if (n != 2 || o->psize[0] >= o->psize[1]) {
		wn_errf(err, errlen, "--pilot-sizes takes two sizes N0 < N1");
		return -1;
	}
	return 0;
}

int wn_sources_plan_eval_cb(const struct wn_option *opt, const char *arg, char *err, size_t errlen)
{
	wn_sources_plan_opts *o = opt->value;
	const char **a = realloc(o->eval_mix, (size_t)(o->neval + 1) * sizeof *a);
	if (!a)
		return wn_errf(err, errlen, "out of memory"), -1;
	o->eval_mix = a;
	o->eval_mix[o->neval++] = arg;
	return 0;
}

/* every --eval-mixture into o->evalp (neval x K) */
static int parse_eval(wn_sources_plan_opts *o, char *err, size_t errlen)
{
	int K = o->ot.nsources;
	free(o->evalp);
	o->evalp = calloc((size_t)(o->neval ? o->neval : 1) * (size_t)K, sizeof *o->evalp);
	if (!o->evalp)
		return wn_errf(err, errlen, "out of memory"), -1;
	for (int j = 0; j < o->neval; j++)
		if (wn_sources_parse_mix(o->eval_mix[j], "--eval-mixture", K, o->evalp + (size_t)j * K, err,
					 errlen))
			return -1;
	return 0;
}

int wn_sources_plan_check(wn_sources_plan_opts *o, int npos, char *err, size_t errlen)
{
	if (!o->pilots == !o->pilot_label) {
		wn_errf(err, errlen, "give one of --pilots FILE or --pilot-label FIELD");
		return -1;
	}
	if (o->pilot_label && (parse_pilot_sizes(o, err, errlen) || o->pilot_repeats < 1 ||
			       o->pilot_epochs < 1 || !(o->pilot_lr > 0) || o->pilot_batch < 1)) {
		if (o->pilot_repeats < 1 || o->pilot_epochs < 1 || !(o->pilot_lr > 0) || o->pilot_batch < 1)
			wn_errf(err, errlen, "--pilot-repeats, --pilot-epochs, --pilot-batch must be >= 1 and --pilot-lr > 0");
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
	if (o->ot.nsources > 64) {
		wn_errf(err, errlen, "at most 64 sources");
		return -1;
	}
	return parse_eval(o, err, errlen) ? -1 : wn_sources_ot_check(&o->ot, npos, err, errlen);
}

void wn_sources_plan_release(wn_sources_plan_opts *o)
{
	wn_sources_ot_release(&o->ot);
	free(o->eval_mix);
	free(o->evalp);
	o->eval_mix = NULL;
	o->evalp = NULL;
	o->neval = 0;
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
	double measured, measured_uniform; /* --pilot-label: the proxy at size N (NAN: not measured) */
	int64_t *count;
	double *eval_L, *eval_ot, *eval_meas; /* per --eval-mixture: L(N, p), OT(p), the proxy (or NAN) */
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

static void split_counts(const double *p, int K, int64_t N, int64_t *count);

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
	if (!isnan(pl->measured))
		rc |= wn_buf_printf(out, "# measured by the proxy at N = %lld: uniform %.6f, planned %.6f\n",
				    (long long)pl->N, pl->measured_uniform, pl->measured);
	for (int j = 0; j < o->neval; j++) {
		rc |= wn_buf_printf(out, "# at p = %s: predicted %.6f (OT %.6f)", o->eval_mix[j], pl->eval_L[j],
				    pl->eval_ot[j]);
		rc |= isnan(pl->eval_meas[j]) ? wn_buf_putc(out, '\n')
					       : wn_buf_printf(out, ", measured by the proxy %.6f\n", pl->eval_meas[j]);
	}
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

/* [{"p": [...], "predicted": L, "ot": OT, "measured": acc (with --pilot-label)}, ...] */
static cJSON *json_evals(const wn_sources_plan_opts *o, const plan *pl)
{
	cJSON *arr = cJSON_CreateArray();
	for (int j = 0; arr && j < o->neval; j++) {
		cJSON *r = cJSON_CreateObject();
		if (!r || !cJSON_AddItemToArray(arr, r)) {
			cJSON_Delete(r);
			cJSON_Delete(arr);
			return NULL;
		}
		cJSON_AddItemToObject(r, "p", cJSON_CreateDoubleArray(o->evalp + (size_t)j * pl->K, pl->K));
		cJSON_AddNumberToObject(r, "predicted", pl->eval_L[j]);
		cJSON_AddNumberToObject(r, "ot", pl->eval_ot[j]);
		if (!isnan(pl->eval_meas[j]))
			cJSON_AddNumberToObject(r, "measured", pl->eval_meas[j]);
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
		if (!isnan(pl->measured)) {
			cJSON_AddNumberToObject(doc, "measured_uniform", pl->measured_uniform);
			cJSON_AddNumberToObject(doc, "measured", pl->measured);
		}
		cJSON_AddItemToObject(doc, "p", cJSON_CreateDoubleArray(pl->p, pl->K));
	}
	cJSON *ev = ok && o->neval ? json_evals(o, pl) : NULL;
	ok = ok && (!o->neval || (ev && cJSON_AddItemToObject(doc, "evaluations", ev)));
	for (int s = 0; ok && s < 2; s++) {
		cJSON *f = json_fit(pl, s);
		ok = f && cJSON_AddItemToArray(fits, f);
	}
	for (int i = 0; ok && i < pl->K; i++) {
		cJSON *r = cJSON_CreateObject();
		ok = r && cJSON_AddItemToArray(src, r);
		if (ok) {
			char name[256];
			wn_mix_source_name(o->ot.sources[i], name, sizeof name);
			cJSON_AddStringToObject(r, "name", name);
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

/* ---------- pilots from winnow's proxy (--pilot-label) ---------- */

/* round(p_i N) by largest remainder, summing to N (ties to the earlier source) */
static void split_counts(const double *p, int K, int64_t N, int64_t *count)
{
	int64_t left = N;
	double rem[K];
	for (int i = 0; i < K; i++) {
		double x = p[i] * (double)N;
		count[i] = (int64_t)floor(x);
		rem[i] = x - floor(x);
		left -= count[i];
	}
	while (left-- > 0) {
		int best = 0;
		for (int i = 1; i < K; i++)
			if (rem[i] > rem[best])
				best = i;
		count[best]++;
		rem[best] = -1;
	}
}

/*
 * The pilot proxies' data: every record of the K sources and the target in
 * one matrix (source k's rows from off[k], the target's from off[K]), the
 * global class of each, and the target's row numbers (the held-out rows of
 * every proxy). A pilot is then a list of row numbers, no copy of its rows.
 */
typedef struct proxy {
	const wn_sources_plan_opts *o;
	int K;
	float *X;          /* rows x d */
	int32_t *y;        /* rows: the global class of each record */
	int64_t rows, d, C;
	int64_t off[66];   /* set k's first row (K <= 64); off[K + 1] = rows */
	int64_t *hold;     /* the target's rows */
	double *acc;       /* per epoch, scratch of proxy_once */
	wn_core *core;
} proxy;

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Classes: the union of the label names of all sets, in byte order; each
 * record's class into px->y. */
static int proxy_classes(proxy *px, const wn_src_set *sets)
{
	int n = 0, total = 0;
	for (int s = 0; s <= px->K; s++)
		total += sets[s].nlabels;
	char **all = malloc((size_t)(total ? total : 1) * sizeof *all);
	if (!all)
		return -1;
	for (int s = 0; s <= px->K; s++)
		for (int l = 0; l < sets[s].nlabels; l++)
			all[n++] = sets[s].names[l];
	qsort(all, (size_t)n, sizeof *all, cmp_str);
	int u = 0;
	for (int i = 0; i < n; i++)
		if (!u || strcmp(all[u - 1], all[i]))
			all[u++] = all[i];
	px->C = u;
	for (int s = 0; s <= px->K; s++)
		for (int64_t i = 0; i < sets[s].n; i++) {
			char *key = sets[s].names[sets[s].label[i]];
			char **hit = bsearch(&key, all, (size_t)u, sizeof *all, cmp_str);
			px->y[px->off[s] + i] = (int32_t)(hit - all);
		}
	free(all);
	return 0;
}

/* The sets' vectors and classes into px (the sets are left as they are). */
static int proxy_gather(proxy *px, const wn_src_set *sets)
{
	int K = px->K;
	px->d = sets[K].d;
	for (int s = 0; s <= K; s++)
		px->off[s + 1] = px->off[s] + sets[s].n;
	px->rows = px->off[K + 1];
	int64_t nt = sets[K].n;
	px->X = malloc((size_t)(px->rows * px->d) * sizeof *px->X);
	px->y = malloc((size_t)px->rows * sizeof *px->y);
	px->hold = malloc((size_t)(nt ? nt : 1) * sizeof *px->hold);
	px->acc = malloc((size_t)px->o->pilot_epochs * sizeof *px->acc);
	if (!px->X || !px->y || !px->hold || !px->acc)
		return -1;
	for (int s = 0; s <= K; s++)
		memcpy(px->X + px->off[s] * px->d, sets[s].X, (size_t)(sets[s].n * px->d) * sizeof *px->X);
	for (int64_t i = 0; i < nt; i++)
		px->hold[i] = px->off[K] + i;
	return proxy_classes(px, sets);
}

static void proxy_free(proxy *px)
{
	free(px->X);
	free(px->y);
	free(px->hold);
	free(px->acc);
}

/*
 * One proxy trained on a draw of N records of mixture p, its accuracy on
 * the target after the last epoch: wn_dyn_fit, the loop of `winnow train`
 * without its per-record scores (the same model and accuracies as
 * wn_dyn_run's run 0 on the same rows, at a fraction of the cost). Source
 * k's records come in the order of a shuffle keyed by (seed, k), repeating
 * past n_k; the training rows are listed source by source in that order.
 */
static int proxy_once(proxy *px, const double *p, int64_t N, uint64_t seed, double *acc, char *err,
		      size_t errlen)
{
	int64_t count[px->K], r = 0, most = 1;
	for (int k = 0; k < px->K; k++)
		most = px->off[k + 1] - px->off[k] > most ? px->off[k + 1] - px->off[k] : most;
	int64_t *train = malloc((size_t)N * sizeof *train), *idx = malloc((size_t)most * sizeof *idx);
	if (!train || !idx) {
		free(train);
		free(idx);
		wn_errf(err, errlen, "out of memory");
		return -1;
	}
	split_counts(p, px->K, N, count);
	for (int k = 0; k < px->K; k++) {
		int64_t n = px->off[k + 1] - px->off[k];
		for (int64_t i = 0; i < n; i++)
			idx[i] = i;
		wn_rng g;
		wn_rng_init(&g, seed, (uint64_t)k);
		wn_rng_shuffle_i64(&g, idx, (size_t)n);
		for (int64_t j = 0; j < count[k]; j++) /* records repeat past n_k */
			train[r++] = px->off[k] + idx[j % n];
	}
	wn_dyn_opts dopt;
	wn_dyn_opts_default(&dopt);
	dopt.train.epochs = px->o->pilot_epochs;
	dopt.train.lr = (float)px->o->pilot_lr;
	dopt.train.batch = px->o->pilot_batch;
	int64_t nt = px->off[px->K + 1] - px->off[px->K];
	int rc = wn_dyn_fit(px->core, &dopt, px->X, px->y, px->rows, px->d, px->C, train, N, px->hold,
			    nt, wn_rng_derive(seed, 0), px->acc, err, errlen);
	if (!rc)
		*acc = px->acc[dopt.train.epochs - 1];
	free(train);
	free(idx);
	return rc;
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* the pilot at grid point `g` (p) and size N: the median over the repeats, in percent */
static int proxy_pilot(proxy *px, pilots *pi, const double *p, int64_t N, int64_t g, char *err,
		       size_t errlen)
{
	int R = px->o->pilot_repeats;
	double acc[R];
	for (int r = 0; r < R; r++) {
		uint64_t seed = wn_rng_derive(wn_rng_derive(wn_rng_derive((uint64_t)px->o->seed, (uint64_t)N),
							    (uint64_t)g), (uint64_t)r);
		if (proxy_once(px, p, N, seed, &acc[r], err, errlen))
			return -1;
	}
	qsort(acc, (size_t)R, sizeof *acc, cmp_dbl);
	if (pilots_grow(pi)) {
		wn_errf(err, errlen, "out of memory");
		return -1;
	}
	pi->N[pi->m] = N;
	memcpy(pi->p + (size_t)pi->m * pi->K, p, (size_t)pi->K * sizeof *p);
	pi->y[pi->m++] = 100 * (R % 2 ? acc[R / 2] : 0.5 * (acc[R / 2 - 1] + acc[R / 2]));
	return 0;
}

/* every mixture of the step-0.1 grid (compositions of 10 into K parts), lexicographic */
static int proxy_grid(proxy *px, pilots *pi, int64_t N, char *err, size_t errlen)
{
	int K = px->K, a[K];
	int64_t g = 0;
	memset(a, 0, sizeof a);
	a[K - 1] = 10;
	for (;;) {
		double p[K];
		for (int i = 0; i < K; i++)
			p[i] = a[i] / 10.0;
		if (proxy_pilot(px, pi, p, N, g++, err, errlen))
			return -1;
		/* next composition: the rightmost part before the last that can grow */
		int i = K - 2;
		while (i >= 0 && a[K - 1] == 0) {
			a[K - 1] += a[i];
			a[i] = 0;
			i--;
		}
		if (i < 0)
			return 0;
		a[i]++;
		a[K - 1]--;
	}
}

static int proxy_pilots(const wn_sources_plan_opts *o, wn_stream *s, wn_core *core, pilots *pi,
			proxy *px, char *err, size_t errlen)
{
	int K = o->ot.nsources;
	*px = (proxy){.o = o, .K = K, .core = core};
	wn_src_set *sets = calloc((size_t)K + 1, sizeof *sets);
	int rc = sets ? 0 : -1;
	if (rc)
		wn_errf(err, errlen, "out of memory");
	for (int k = 0; !rc && k <= K; k++)
		rc = wn_sources_read_set(s, k < K ? o->ot.sources[k] : o->ot.target, o->ot.emb,
					 o->pilot_label, &sets[k], err, errlen);
	if (!rc && proxy_gather(px, sets)) {
		wn_errf(err, errlen, "out of memory");
		rc = -1;
	}
	for (int k = 0; sets && k <= K; k++)
		wn_src_set_free(&sets[k]);
	free(sets);
	for (int z = 0; !rc && z < 2; z++)
		rc = proxy_grid(px, pi, o->psize[z], err, errlen);
	if (rc)
		proxy_free(px);
	return rc;
}

/* The proxy's own accuracy at size N for the uniform and the planned mixture
 * and every --eval-mixture (median of the repeats; grid indices -1, -2 and
 * -3 - j key their draws). */
static int proxy_measure(proxy *px, plan *pl, char *err, size_t errlen)
{
	const wn_sources_plan_opts *o = px->o;
	pilots tmp = {.K = px->K};
	int rc = proxy_pilot(px, &tmp, pl->start, pl->N, -1, err, errlen) ||
		 proxy_pilot(px, &tmp, pl->p, pl->N, -2, err, errlen) ? -1 : 0;
	for (int j = 0; !rc && j < o->neval; j++)
		rc = proxy_pilot(px, &tmp, o->evalp + (size_t)j * px->K, pl->N, -3 - (int64_t)j, err, errlen);
	if (!rc) {
		pl->measured_uniform = tmp.y[0];
		pl->measured = tmp.y[1];
		for (int j = 0; j < o->neval; j++)
			pl->eval_meas[j] = tmp.y[2 + j];
	}
	pilots_free(&tmp);
	return rc;
}

/* L(N, p) and OT(p) at every --eval-mixture */
static int predict_evals(const wn_sources_plan_opts *o, plan *pl, const wn_otdd *ot, char *err,
			 size_t errlen)
{
	for (int j = 0; j < o->neval; j++) {
		pl->eval_meas[j] = NAN;
		if (plan_eval(pl, ot, o->evalp + (size_t)j * pl->K, &pl->eval_L[j], &pl->eval_ot[j], NULL,
			      err, errlen))
			return -1;
	}
	return 0;
}

static int plan_run(const wn_sources_plan_opts *o, pilots *pi, plan *pl, const wn_otdd *ot,
		    proxy *px, wn_buf *out, char *err, size_t errlen)
{
	if (pilot_sizes(pi, &pl->N0, &pl->N1, o->pilots ? o->pilots : "--pilot-label", err, errlen) ||
	    pilots_ot(pi, ot, err, errlen))
		return -1;
	for (int s = 0; s < 2; s++)
		if (fit_size(pi, s ? pl->N1 : pl->N0, pl->beta[s], &pl->rss[s], &pl->used[s], err, errlen))
			return -1;
	if (ascend(o, pl, ot, err, errlen) || predict_evals(o, pl, ot, err, errlen) ||
	    (px && proxy_measure(px, pl, err, errlen)))
		return -1;
	split_counts(pl->p, pl->K, pl->N, pl->count);
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
	plan pl = {.K = K, .F = wn_plan_nfeat(K), .N = o->size, .measured = NAN, .measured_uniform = NAN};
	pl.p = calloc((size_t)K, sizeof *pl.p);
	pl.start = calloc((size_t)K, sizeof *pl.start);
	pl.count = calloc((size_t)K, sizeof *pl.count);
	size_t ne = (size_t)(o->neval ? o->neval : 1);
	pl.eval_L = calloc(ne, sizeof *pl.eval_L);
	pl.eval_ot = calloc(ne, sizeof *pl.eval_ot);
	pl.eval_meas = calloc(ne, sizeof *pl.eval_meas);
	wn_src_set *sets = NULL;
	wn_core *core = NULL;
	wn_otdd ot = {0};
	wn_buf out = WN_BUF_INIT;
	int rc = pl.p && pl.start && pl.count && pl.eval_L && pl.eval_ot && pl.eval_meas ? 0 : -1, prepared = 0;
	if (rc)
		wn_errf(err, errlen, "out of memory");
	if (!rc && o->pilots)
		rc = wn_src_table_read(o->pilots, pilot_row, &pi, err, errlen);
	if (!rc && !(prepared = !wn_sources_ot_prepare(&o->ot, s, &sets, &core, &ot, err, errlen)))
		rc = -1;
	proxy px = {0};
	int have_px = 0;
	if (!rc && o->pilot_label)
		rc = proxy_pilots(o, s, core, &pi, &px, err, errlen);
	have_px = !rc && o->pilot_label;
	if (!rc)
		rc = plan_run(o, &pi, &pl, &ot, have_px ? &px : NULL, &out, err, errlen);
	if (have_px)
		proxy_free(&px);
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
	free(pl.eval_L);
	free(pl.eval_ot);
	free(pl.eval_meas);
	return rc;
}
