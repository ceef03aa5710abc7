/*
 * selectors/eval.c — prune curves (see selectors/eval.h): the picks, one
 * model per (rule, fraction, repeat) through wn_dyn_fit, and the table,
 * JSON and SVG renderings. Everything runs in a fixed order on the calling
 * thread (the model's products may use more): the result does not depend
 * on the thread count.
 */
#include "selectors/eval.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "core/sample.h"
#include "io/errf.h"

#define STREAM_RANDOM 0x6576616c00000000ull /* "eval" + repeat */
#define STREAM_PROB 0x6576616c01000000ull   /* + repeat */

static const char *const rule_names[] = {"random", "high", "low", "softmax", "linear"};

const char *wn_eval_rule_name(int rule)
{
	return rule >= 0 && rule <= WN_EVAL_LINEAR ? rule_names[rule] : "?";
}

/* ---- options ---- */

int wn_eval_parse_fracs(const char *s, double *fracs, int *nfracs, char *err, size_t errlen)
{
	const char *p = s;
	*nfracs = 0;
	while (*p) {
		char *end;
		double f = strtod(p, &end);
		if (end == p || (*end && *end != ',') || !(f > 0 && f <= 1))
			return wn_errf(err, errlen, "--fracs '%s': each fraction must be in (0, 1], "
				       "comma-separated", s), -1;
		if (*nfracs && f <= fracs[*nfracs - 1])
			return wn_errf(err, errlen, "--fracs '%s': fractions must increase", s), -1;
		if (*nfracs == WN_EVAL_MAX_FRACS)
			return wn_errf(err, errlen, "--fracs: at most %d fractions", WN_EVAL_MAX_FRACS), -1;
		fracs[(*nfracs)++] = f;
		p = *end ? end + 1 : end;
		if (*end && !*p)
			return wn_errf(err, errlen, "--fracs '%s': a trailing comma", s), -1;
	}
	if (!*nfracs)
		return wn_errf(err, errlen, "--fracs: no fraction given"), -1;
	return 0;
}

int wn_eval_parse_keep(const char *s, int *rules, int *nrules, char *err, size_t errlen)
{
	*nrules = 0;
	const char *p = s;
	while (1) {
		size_t len = strcspn(p, ",");
		int r = -1;
		for (int k = 0; k <= WN_EVAL_LINEAR; k++)
			if (len == strlen(rule_names[k]) && !strncmp(p, rule_names[k], len))
				r = k;
		if (r < 0)
			return wn_errf(err, errlen, "--keep '%s': each rule is high, low, softmax, linear or random", s), -1;
		for (int k = 0; k < *nrules; k++)
			if (rules[k] == r)
				return wn_errf(err, errlen, "--keep '%s': %s given twice", s,
					       rule_names[r]), -1;
		if (r != WN_EVAL_RANDOM)
			rules[(*nrules)++] = r;
		if (!p[len])
			break;
		p += len + 1;
	}
	return 0;
}

int64_t wn_eval_budget(double f, int64_t n)
{
	double k = floor(f * (double)n + 0.5);
	return k < 0 ? 0 : (int64_t)k;
}

/* ---- picks ---- */

struct ranked {
	double s;
	int64_t i;
};

static int cmp_high(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;
	if (x->s != y->s)
		return x->s > y->s ? -1 : 1;
	return (x->i > y->i) - (x->i < y->i);
}

static int cmp_low(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;
	if (x->s != y->s)
		return x->s < y->s ? -1 : 1;
	return (x->i > y->i) - (x->i < y->i);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* softmax / linear: log-weights of the pool, then Gumbel top-k. */
static int pick_weighted(int rule, const double *score, const int64_t *pool, int64_t n_pool,
			 int64_t k, uint64_t seed, int repeat, const wn_eval_prob *pp, int64_t *out)
{
	size_t z = (size_t)(n_pool ? n_pool : 1);
	double *lw = malloc(z * sizeof *lw), lo = INFINITY, hi = -INFINITY;
	int64_t *idx = malloc(z * sizeof *idx);
	if (!lw || !idx) {
		free(lw);
		free(idx);
		return -1;
	}
	for (int64_t j = 0; j < n_pool; j++) {
		lo = score[pool[j]] < lo ? score[pool[j]] : lo;
		hi = score[pool[j]] > hi ? score[pool[j]] : hi;
	}
	for (int64_t j = 0; j < n_pool; j++) {
		double s = score[pool[j]];
		if (rule == WN_EVAL_SOFTMAX)
			lw[j] = s / pp->temperature;
		else
			lw[j] = log(hi > lo ? pp->eps + (1 - pp->eps) * (s - lo) / (hi - lo) : 1.0);
	}
	int64_t got = wn_sample_gumbel_topk(lw, n_pool, 1, k, seed, STREAM_PROB + (uint64_t)repeat, 1,
					    idx, NULL);
	for (int64_t j = 0; j < got; j++)
		out[j] = pool[idx[j]];
	free(lw);
	free(idx);
	return got == k ? 0 : -1;
}

int wn_eval_pick(int rule, const double *score, const int64_t *pool, int64_t n_pool, int64_t k,
		 uint64_t seed, int repeat, const wn_eval_prob *pp, int64_t *out)
{
	size_t z = (size_t)(n_pool ? n_pool : 1);
	if (rule == WN_EVAL_SOFTMAX || rule == WN_EVAL_LINEAR) {
		if (pick_weighted(rule, score, pool, n_pool, k, seed, repeat, pp, out))
			return -1;
	} else if (rule == WN_EVAL_RANDOM) {
		int64_t *perm = malloc(z * sizeof *perm);
		if (!perm)
			return -1;
		wn_sample_permutation(n_pool, seed, STREAM_RANDOM + (uint64_t)repeat, perm);
		for (int64_t j = 0; j < k; j++)
			out[j] = pool[perm[j]];
		free(perm);
	} else {
		struct ranked *r = malloc(z * sizeof *r);
		if (!r)
			return -1;
		for (int64_t j = 0; j < n_pool; j++)
			r[j] = (struct ranked){score[pool[j]], pool[j]};
		qsort(r, (size_t)n_pool, sizeof *r, rule == WN_EVAL_HIGH ? cmp_high : cmp_low);
		for (int64_t j = 0; j < k; j++)
			out[j] = r[j].i;
		free(r);
	}
	qsort(out, (size_t)k, sizeof *out, cmp_i64);
	return 0;
}

void wn_eval_stats(const double *v, int n, double *mean, double *sd, double *min, double *max)
{
	double s = 0, m2 = 0;
	*min = *max = n ? v[0] : 0;
	for (int i = 0; i < n; i++) {
		s += v[i];
		*min = v[i] < *min ? v[i] : *min;
		*max = v[i] > *max ? v[i] : *max;
	}
	*mean = n ? s / n : 0;
	for (int i = 0; i < n; i++)
		m2 += (v[i] - *mean) * (v[i] - *mean);
	*sd = n > 1 ? sqrt(m2 / (n - 1)) : 0;
}

/* ---- the run ---- */

void wn_eval_result_free(wn_eval_result *res)
{
	free(res->acc);
	res->acc = NULL;
}

/* One point: rule c at fraction f, every repeat. */
static int run_point(wn_core *c, const wn_dyn_opts *o, const float *X, const int32_t *y,
		     const double *score, int64_t n, int64_t d, int64_t C, const int64_t *pool,
		     const int64_t *hold, uint64_t seed, wn_eval_result *res, int cv, int f,
		     int64_t *pick, double *acc, char *err, size_t errlen)
{
	int64_t k = res->budget[f];
	for (int r = 0; r < res->repeats; r++) {
		if (wn_eval_pick(res->rules[cv], score, pool, res->n_pool, k, seed, r, &res->prob, pick))
			return wn_errf(err, errlen, "out of memory"), -1;
		if (wn_dyn_fit(c, o, X, y, n, d, C, pick, k, hold, res->n_hold,
			       wn_rng_derive(seed, (uint64_t)r), acc, err, errlen))
			return -1;
		WN_EVAL_ACC(res, cv, f, r) = acc[o->train.epochs - 1];
	}
	return 0;
}

static int split_pool(const unsigned char *holdout, int64_t n, int64_t *pool, int64_t *hold,
		      wn_eval_result *res)
{
	res->n_pool = res->n_hold = 0;
	for (int64_t i = 0; i < n; i++) {
		if (holdout && holdout[i])
			hold[res->n_hold++] = i;
		else
			pool[res->n_pool++] = i;
	}
	return res->n_pool > 0 && res->n_hold > 0 ? 0 : -1;
}

int wn_eval_run(wn_core *c, const wn_dyn_opts *o, const float *X, const int32_t *y,
		const double *score, int64_t n, int64_t d, int64_t C, const unsigned char *holdout,
		uint64_t seed, wn_eval_result *res, void (*progress)(void *, int), void *ctx,
		char *err, size_t errlen)
{
	size_t z = (size_t)(n ? n : 1);
	int64_t *pool = malloc(z * sizeof *pool), *hold = malloc(z * sizeof *hold);
	int64_t *pick = malloc(z * sizeof *pick);
	double *acc = malloc((size_t)o->train.epochs * sizeof *acc);
	res->n = n;
	res->acc = calloc((size_t)(res->ncurves * res->nfracs * res->repeats), sizeof *res->acc);
	int rc = -1;
	if (!pool || !hold || !pick || !acc || !res->acc) {
		wn_errf(err, errlen, "out of memory for %lld records", (long long)n);
		goto done;
	}
	if (split_pool(holdout, n, pool, hold, res)) {
		wn_errf(err, errlen, "eval needs records to train on and records held out "
			"(%lld and %lld)", (long long)res->n_pool, (long long)res->n_hold);
		goto done;
	}
	for (int f = 0; f < res->nfracs; f++) {
		res->budget[f] = wn_eval_budget(res->fracs[f], res->n_pool);
		if (res->budget[f] < 1) {
			wn_errf(err, errlen, "--fracs %g keeps no record of the %lld to train on",
				res->fracs[f], (long long)res->n_pool);
			goto done;
		}
	}
	for (int f = 0; f < res->nfracs; f++) {
		for (int cv = 0; cv < res->ncurves; cv++)
			if (run_point(c, o, X, y, score, n, d, C, pool, hold, seed, res, cv, f, pick, acc,
				      err, errlen))
				goto done;
		if (progress)
			progress(ctx, f);
	}
	rc = 0;
done:
	free(pool);
	free(hold);
	free(pick);
	free(acc);
	return rc;
}

/* ---- table and JSON ---- */

int wn_eval_table(const wn_eval_result *res, const wn_eval_meta *m, wn_buf *out)
{
	int rc = wn_buf_printf(out, "# winnow eval: held-out accuracy of a %s proxy (%d epochs) on "
			       "%lld held-out records, %lld classes of %s; kept by %s from %lld "
			       "training records; mean and sd over %d repeats\n",
			       m->model, m->epochs, (long long)res->n_hold, (long long)m->classes,
			       m->label, m->by ? m->by : "(random only)", (long long)res->n_pool,
			       res->repeats);
	rc |= wn_buf_printf(out, "%-6s %8s", "frac", "records");
	for (int cv = 0; cv < res->ncurves; cv++)
		rc |= wn_buf_printf(out, " %9s_mean %9s_sd", wn_eval_rule_name(res->rules[cv]),
				    wn_eval_rule_name(res->rules[cv]));
	rc |= wn_buf_printf(out, "\n");
	for (int f = 0; f < res->nfracs; f++) {
		rc |= wn_buf_printf(out, "%-6.4g %8lld", res->fracs[f], (long long)res->budget[f]);
		for (int cv = 0; cv < res->ncurves; cv++) {
			double mean, sd, lo, hi;
			wn_eval_stats(&WN_EVAL_ACC(res, cv, f, 0), res->repeats, &mean, &sd, &lo, &hi);
			rc |= wn_buf_printf(out, " %14.4f %12.4f", mean, sd);
		}
		rc |= wn_buf_printf(out, "\n");
	}
	return rc ? -1 : 0;
}

static cJSON *curve_json(const wn_eval_result *res, int cv)
{
	cJSON *j = cJSON_CreateObject(), *mean = cJSON_CreateArray(), *sd = cJSON_CreateArray();
	cJSON *lo = cJSON_CreateArray(), *hi = cJSON_CreateArray(), *acc = cJSON_CreateArray();
	cJSON_AddStringToObject(j, "keep", wn_eval_rule_name(res->rules[cv]));
	for (int f = 0; f < res->nfracs; f++) {
		const double *a = &WN_EVAL_ACC(res, cv, f, 0);
		double m, s, l, h;
		wn_eval_stats(a, res->repeats, &m, &s, &l, &h);
		cJSON_AddItemToArray(mean, cJSON_CreateNumber(m));
		cJSON_AddItemToArray(sd, cJSON_CreateNumber(s));
		cJSON_AddItemToArray(lo, cJSON_CreateNumber(l));
		cJSON_AddItemToArray(hi, cJSON_CreateNumber(h));
		cJSON_AddItemToArray(acc, cJSON_CreateDoubleArray(a, res->repeats));
	}
	cJSON_AddItemToObject(j, "mean", mean);
	cJSON_AddItemToObject(j, "sd", sd);
	cJSON_AddItemToObject(j, "min", lo);
	cJSON_AddItemToObject(j, "max", hi);
	cJSON_AddItemToObject(j, "accuracy", acc);
	return j;
}

char *wn_eval_json(const wn_eval_result *res, const wn_eval_meta *m)
{
	cJSON *j = cJSON_CreateObject(), *curves = cJSON_CreateArray(), *b = cJSON_CreateArray();
	cJSON_AddStringToObject(j, "label", m->label);
	if (m->by)
		cJSON_AddStringToObject(j, "by", m->by);
	else
		cJSON_AddNullToObject(j, "by");
	cJSON_AddStringToObject(j, "model", m->model);
	cJSON_AddNumberToObject(j, "hidden", (double)m->hidden);
	cJSON_AddNumberToObject(j, "epochs", m->epochs);
	cJSON_AddNumberToObject(j, "seed", (double)m->seed);
	cJSON_AddNumberToObject(j, "classes", (double)m->classes);
	cJSON_AddNumberToObject(j, "records", (double)res->n);
	cJSON_AddNumberToObject(j, "train", (double)res->n_pool);
	cJSON_AddNumberToObject(j, "holdout", (double)res->n_hold);
	cJSON_AddNumberToObject(j, "repeats", res->repeats);
	cJSON_AddItemToObject(j, "fracs", cJSON_CreateDoubleArray(res->fracs, res->nfracs));
	for (int f = 0; f < res->nfracs; f++)
		cJSON_AddItemToArray(b, cJSON_CreateNumber((double)res->budget[f]));
	cJSON_AddItemToObject(j, "budget", b);
	for (int cv = 0; cv < res->ncurves; cv++)
		cJSON_AddItemToArray(curves, curve_json(res, cv));
	cJSON_AddItemToObject(j, "curves", curves);
	char *text = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	return text;
}

/* ---- SVG ---- */

#define SVG_W 720
#define SVG_H 420
#define SVG_L 70
#define SVG_R 190
#define SVG_T 40
#define SVG_B 60

static const char *const colours[] = {"#555555", "#d62728", "#1f77b4", "#2ca02c", "#9467bd"};

/* Text into SVG: & < > " escaped. */
static int put_xml(wn_buf *out, const char *t)
{
	int rc = 0;
	for (; *t && !rc; t++) {
		switch (*t) {
		case '&': rc = wn_buf_printf(out, "&amp;"); break;
		case '<': rc = wn_buf_printf(out, "&lt;"); break;
		case '>': rc = wn_buf_printf(out, "&gt;"); break;
		case '"': rc = wn_buf_printf(out, "&quot;"); break;
		default: rc = wn_buf_append(out, t, 1);
		}
	}
	return rc;
}

struct axes {
	double y0, y1; /* accuracy range */
};

static double px(double f)
{
	return SVG_L + f * (SVG_W - SVG_L - SVG_R);
}

static double py(const struct axes *a, double v)
{
	return SVG_H - SVG_B - (v - a->y0) / (a->y1 - a->y0) * (SVG_H - SVG_T - SVG_B);
}

/* The accuracy range, widened to tenths (at least 0.1 tall). */
static struct axes axes_of(const wn_eval_result *res)
{
	double lo = 1, hi = 0;
	int64_t cnt = (int64_t)res->ncurves * res->nfracs * res->repeats;
	for (int64_t i = 0; i < cnt; i++) {
		lo = res->acc[i] < lo ? res->acc[i] : lo;
		hi = res->acc[i] > hi ? res->acc[i] : hi;
	}
	struct axes a = {floor(lo * 10) / 10, ceil(hi * 10) / 10};
	if (a.y1 - a.y0 < 0.1)
		a.y1 = a.y0 + 0.1;
	return a;
}

static int svg_frame(const struct axes *a, const wn_eval_meta *m, wn_buf *out)
{
	int rc = wn_buf_printf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
			       "height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" "
			       "font-size=\"12\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
			       SVG_W, SVG_H, SVG_W, SVG_H);
	rc |= wn_buf_printf(out, "<text x=\"%d\" y=\"22\" font-size=\"14\">Prune curve: ", SVG_L);
	rc |= put_xml(out, m->label) || wn_buf_printf(out, " kept by ") ||
	      put_xml(out, m->by ? m->by : "random");
	rc |= wn_buf_printf(out, "</text>\n<g stroke=\"#999\" stroke-width=\"1\">\n");
	for (int t = 0; t <= 10; t += 2)
		rc |= wn_buf_printf(out, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>\n",
				    px(t / 10.0), SVG_H - SVG_B, px(t / 10.0), SVG_H - SVG_B + 5);
	for (double v = a->y0; v <= a->y1 + 1e-9; v += 0.1)
		rc |= wn_buf_printf(out, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>\n",
				    SVG_L - 5, py(a, v), SVG_L, py(a, v));
	rc |= wn_buf_printf(out, "<polyline fill=\"none\" stroke=\"#333\" points=\"%d,%d %d,%d %d,%d\"/>\n</g>\n",
			    SVG_L, SVG_T, SVG_L, SVG_H - SVG_B, SVG_W - SVG_R, SVG_H - SVG_B);
	for (int t = 0; t <= 10; t += 2)
		rc |= wn_buf_printf(out, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%.1f</text>\n",
				    px(t / 10.0), SVG_H - SVG_B + 19, t / 10.0);
	for (double v = a->y0; v <= a->y1 + 1e-9; v += 0.1)
		rc |= wn_buf_printf(out, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.1f</text>\n",
				    SVG_L - 8, py(a, v) + 4, v);
	rc |= wn_buf_printf(out, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">fraction of the "
			    "training records kept</text>\n", px(0.5), SVG_H - 18);
	rc |= wn_buf_printf(out, "<text x=\"18\" y=\"%.1f\" text-anchor=\"middle\" "
			    "transform=\"rotate(-90 18 %.1f)\">held-out accuracy</text>\n",
			    (SVG_T + SVG_H - SVG_B) / 2.0, (SVG_T + SVG_H - SVG_B) / 2.0);
	return rc ? -1 : 0;
}

/* Random's min..max band over the repeats, shaded. */
static int svg_band(const wn_eval_result *res, const struct axes *a, wn_buf *out)
{
	int rc = wn_buf_printf(out, "<polygon class=\"random-band\" fill=\"#999999\" "
			       "fill-opacity=\"0.3\" stroke=\"none\" points=\"");
	for (int pass = 0; pass < 2; pass++)
		for (int k = 0; k < res->nfracs; k++) {
			int f = pass ? res->nfracs - 1 - k : k;
			double mean, sd, lo, hi;
			wn_eval_stats(&WN_EVAL_ACC(res, 0, f, 0), res->repeats, &mean, &sd, &lo, &hi);
			rc |= wn_buf_printf(out, "%.1f,%.1f ", px(res->fracs[f]), py(a, pass ? lo : hi));
		}
	rc |= wn_buf_printf(out, "\"/>\n");
	return rc ? -1 : 0;
}

static int svg_curve(const wn_eval_result *res, const struct axes *a, int cv, wn_buf *out)
{
	const char *col = colours[res->rules[cv]];
	int rc = wn_buf_printf(out, "<polyline class=\"curve-%s\" fill=\"none\" stroke=\"%s\" "
			       "stroke-width=\"2\"%s points=\"", wn_eval_rule_name(res->rules[cv]),
			       col, cv == 0 ? " stroke-dasharray=\"6,4\"" : "");
	for (int f = 0; f < res->nfracs; f++) {
		double mean, sd, lo, hi;
		wn_eval_stats(&WN_EVAL_ACC(res, cv, f, 0), res->repeats, &mean, &sd, &lo, &hi);
		rc |= wn_buf_printf(out, "%.1f,%.1f ", px(res->fracs[f]), py(a, mean));
	}
	rc |= wn_buf_printf(out, "\"/>\n");
	for (int f = 0; f < res->nfracs; f++) {
		double mean, sd, lo, hi;
		wn_eval_stats(&WN_EVAL_ACC(res, cv, f, 0), res->repeats, &mean, &sd, &lo, &hi);
		rc |= wn_buf_printf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n",
				    px(res->fracs[f]), py(a, mean), col);
	}
	int ly = SVG_T + 10 + 20 * cv;
	rc |= wn_buf_printf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" "
			    "stroke-width=\"2\"/>\n<text x=\"%d\" y=\"%d\">%s%s</text>\n",
			    SVG_W - SVG_R + 12, ly, SVG_W - SVG_R + 36, ly, col, SVG_W - SVG_R + 42,
			    ly + 4, wn_eval_rule_name(res->rules[cv]), cv == 0 ? ", min-max band" : "");
	return rc ? -1 : 0;
}

int wn_eval_svg(const wn_eval_result *res, const wn_eval_meta *m, wn_buf *out)
{
	struct axes a = axes_of(res);
	if (svg_frame(&a, m, out) || svg_band(res, &a, out))
		return -1;
	for (int cv = res->ncurves - 1; cv >= 0; cv--)
		if (svg_curve(res, &a, cv, out))
			return -1;
	return wn_buf_printf(out, "</svg>\n") ? -1 : 0;
}
