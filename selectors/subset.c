/*
 * selectors/subset.c — the selection logic of `winnow select` (see
 * subset.h): ranking, per-group caps, RS2 epochs, temperature mixing and
 * the balanced hierarchical sample, over arrays, with no I/O.
 *
 * Owns: the bookkeeping around the draws (who is eligible, how many each
 * group or cluster gets, ties, output order). Borrows: the draws
 * themselves — uniform and Gumbel top-k without replacement — from the
 * compute core's samplers (core/sample.h).
 *
 * Why sort-based top-N instead of a heap: the caller already holds all keys
 * (select must see the whole stream before it can emit), n log n over a
 * few million doubles is milliseconds, and a full order makes the
 * tie-breaking rule (stream order) trivially exact.
 */
#include "selectors/subset.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sample.h"

static int sel_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int sel_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

#define SEL_OOM(err, errlen) sel_err(err, errlen, "out of memory")

uint64_t wn_sel_stream(int purpose, uint64_t index)
{
	return ((uint64_t)purpose << 40) | (index & ((UINT64_C(1) << 40) - 1));
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return (x > y) - (x < y);
}

/* ---- the core's samplers, behind two calls ----------------------------- */

/*
 * k distinct positions of n, uniformly, written ascending. The core returns
 * them in draw order; selection only cares about the set.
 */
static int draw_uniform(size_t n, size_t k, uint64_t seed, uint64_t stream,
			size_t *out, char *err, size_t errlen)
{
	if (k > n)
		k = n;
	if (k == 0)
		return 0;
	if (k == n) { /* everything: no draw, so no dependence on the seed */
		for (size_t i = 0; i < n; i++)
			out[i] = i;
		return 0;
	}
	int64_t *idx = malloc(k * sizeof *idx);
	if (!idx)
		return SEL_OOM(err, errlen);
	int rc = wn_sample_uniform((int64_t)n, (int64_t)k, seed, stream, idx);
	if (rc) {
		free(idx);
		return sel_err(err, errlen, "uniform sampler failed (%d)", rc);
	}
	for (size_t i = 0; i < k; i++)
		out[i] = (size_t)idx[i];
	free(idx);
	qsort(out, k, sizeof *out, cmp_size);
	return 0;
}

/*
 * Up to k distinct positions by Gumbel top-k over weights (or log-weights),
 * written ascending; *got = how many (items of weight 0 are never drawn).
 */
static int draw_gumbel(const double *w, size_t n, int is_log, size_t k, uint64_t seed,
		       uint64_t stream, size_t *out, size_t *got, char *err, size_t errlen)
{
	*got = 0;
	if (k == 0 || n == 0)
		return 0;
	int64_t *idx = malloc(k * sizeof *idx);
	if (!idx)
		return SEL_OOM(err, errlen);
	int64_t m = wn_sample_gumbel_topk(w, (int64_t)n, is_log, (int64_t)k, seed, stream, 0,
					  idx, NULL);
	if (m < 0) {
		free(idx);
		return sel_err(err, errlen, "weighted sampler failed (%lld)", (long long)m);
	}
	for (int64_t i = 0; i < m; i++)
		out[i] = (size_t)idx[i];
	free(idx);
	qsort(out, (size_t)m, sizeof *out, cmp_size);
	*got = (size_t)m;
	return 0;
}

/* ---- counts and filters ------------------------------------------------ */

size_t wn_sel_frac_count(size_t n, double frac)
{
	if (!(frac > 0))
		return 0;
	if (frac >= 1)
		return n;
	double x = frac * (double)n;
	/* 0.7 * 10 = 7.000000000000001 and 0.29 * 100 = 28.999999999999996:
	 * accept a relative slack of a few ulps before flooring */
	double f = floor(x * (1 + 4e-16) + 1e-12);
	if (f > (double)n)
		return n;
	return (size_t)f;
}

int wn_sel_filter_parse(wn_sel_filter *f, const char *spec, int is_max, char *err, size_t errlen)
{
	memset(f, 0, sizeof *f);
	const char *eq = strrchr(spec, '=');
	if (!eq || eq == spec || !eq[1])
		return sel_err(err, errlen, "expected PATH=VALUE, got '%s'", spec);
	char *end;
	errno = 0;
	double v = strtod(eq + 1, &end);
	if (*end || errno || !isfinite(v))
		return sel_err(err, errlen, "'%s' is not a finite number (in '%s')", eq + 1, spec);
	f->path = strndup(spec, (size_t)(eq - spec));
	if (!f->path)
		return SEL_OOM(err, errlen);
	f->value = v;
	f->is_max = is_max;
	return 0;
}

int wn_sel_filter_pass(const wn_sel_filter *f, double key)
{
	return f->is_max ? key <= f->value : key >= f->value;
}

void wn_sel_filter_free(wn_sel_filter *f)
{
	free(f->path);
	f->path = NULL;
}

/* ---- top-N --------------------------------------------------------------- */

typedef struct keyed {
	double key;
	size_t pos;
} keyed;

static int cmp_desc(const void *a, const void *b)
{
	const keyed *x = a, *y = b;
	if (x->key != y->key)
		return x->key > y->key ? -1 : 1;
	return (x->pos > y->pos) - (x->pos < y->pos);
}

static int cmp_asc(const void *a, const void *b)
{
	const keyed *x = a, *y = b;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return (x->pos > y->pos) - (x->pos < y->pos);
}

int wn_sel_top(const double *key, size_t n, size_t k, int asc,
	       size_t *out, size_t *nout, char *err, size_t errlen)
{
	*nout = 0;
	if (k > n)
		k = n;
	if (k == 0)
		return 0;
	if (k == n) {
		for (size_t i = 0; i < n; i++)
			out[i] = i;
		*nout = n;
		return 0;
	}
	keyed *a = malloc(n * sizeof *a);
	if (!a)
		return SEL_OOM(err, errlen);
	for (size_t i = 0; i < n; i++) {
		if (isnan(key[i])) {
			free(a);
			return sel_err(err, errlen, "key of item %zu is NaN", i);
		}
		a[i].key = key[i];
		a[i].pos = i;
	}
	qsort(a, n, sizeof *a, asc ? cmp_asc : cmp_desc);
	for (size_t i = 0; i < k; i++)
		out[i] = a[i].pos;
	free(a);
	qsort(out, k, sizeof *out, cmp_size);
	*nout = k;
	return 0;
}

/* ---- sampling ------------------------------------------------------------ */

int wn_sel_uniform(size_t n, size_t k, uint64_t seed, uint64_t stream,
		   size_t *out, size_t *nout, char *err, size_t errlen)
{
	*nout = 0;
	if (k > n)
		k = n;
	if (draw_uniform(n, k, seed, stream, out, err, errlen))
		return -1;
	*nout = k;
	return 0;
}

int wn_sel_weighted(const double *w, size_t n, size_t k, int log_weights,
		    uint64_t seed, uint64_t stream,
		    size_t *out, size_t *nout, char *err, size_t errlen)
{
	*nout = 0;
	/* check here so the message names the item; the core only says EINVAL */
	for (size_t i = 0; i < n; i++) {
		double v = w[i];
		if (log_weights ? isnan(v) || v == INFINITY : !isfinite(v) || v < 0)
			return sel_err(err, errlen, "%s of item %zu is %s",
				       log_weights ? "log-weight" : "weight", i,
				       isnan(v) || isinf(v) ? "not finite" : "negative");
	}
	return draw_gumbel(w, n, log_weights, k, seed, stream, out, nout, err, errlen);
}

/* ---- per-group selection -------------------------------------------------- */

/*
 * Members of each group, in stream order: a counting sort. start has
 * ngroups + 1 entries; members of g are member[start[g] .. start[g+1]).
 */
static int group_members(const uint32_t *group, size_t n, size_t ngroups,
			 size_t **start_out, size_t **member_out, char *err, size_t errlen)
{
	size_t *start = calloc(ngroups + 1, sizeof *start);
	size_t *member = malloc((n ? n : 1) * sizeof *member);
	size_t *fill = malloc((ngroups ? ngroups : 1) * sizeof *fill);
	if (!start || !member || !fill) {
		free(start);
		free(member);
		free(fill);
		return SEL_OOM(err, errlen);
	}
	for (size_t i = 0; i < n; i++) {
		if (group[i] >= ngroups) {
			free(start);
			free(member);
			free(fill);
			return sel_err(err, errlen, "group id %u of item %zu out of range", group[i], i);
		}
		start[group[i] + 1]++;
	}
	for (size_t g = 0; g < ngroups; g++)
		start[g + 1] += start[g];
	memcpy(fill, start, ngroups * sizeof *fill);
	for (size_t i = 0; i < n; i++)
		member[fill[group[i]]++] = i;
	free(fill);
	*start_out = start;
	*member_out = member;
	return 0;
}

/* Choose inside one group: `pick` gets positions relative to the group. */
static int choose_within(const wn_sel_per_opts *o, const double *key, const size_t *mem,
			 size_t ng, size_t c, uint64_t stream, double *scratch,
			 size_t *pick, size_t *npick, char *err, size_t errlen)
{
	switch (o->within) {
	case WN_SEL_WITHIN_FIRST:
		*npick = c < ng ? c : ng;
		for (size_t i = 0; i < *npick; i++)
			pick[i] = i;
		return 0;
	case WN_SEL_WITHIN_TOP:
	case WN_SEL_WITHIN_WEIGHTED:
		for (size_t i = 0; i < ng; i++)
			scratch[i] = key[mem[i]];
		if (o->within == WN_SEL_WITHIN_TOP)
			return wn_sel_top(scratch, ng, c, o->asc, pick, npick, err, errlen);
		return wn_sel_weighted(scratch, ng, c, o->log_weights, o->seed, stream,
				       pick, npick, err, errlen);
	case WN_SEL_WITHIN_UNIFORM:
		return wn_sel_uniform(ng, c, o->seed, stream, pick, npick, err, errlen);
	}
	return sel_err(err, errlen, "unknown per-group mode %d", o->within);
}

int wn_sel_per_group(const uint32_t *group, const double *key, size_t n, size_t ngroups,
		     const wn_sel_per_opts *o, size_t *out, size_t *nout,
		     char *err, size_t errlen)
{
	*nout = 0;
	if ((o->within == WN_SEL_WITHIN_TOP || o->within == WN_SEL_WITHIN_WEIGHTED) && !key)
		return sel_err(err, errlen, "per-group selection needs a key");
	size_t *start, *member;
	if (group_members(group, n, ngroups, &start, &member, err, errlen))
		return -1;
	unsigned char *keep = calloc(n ? n : 1, 1);
	size_t *pick = malloc((n ? n : 1) * sizeof *pick);
	double *scratch = malloc((n ? n : 1) * sizeof *scratch);
	int rc = -1;
	if (!keep || !pick || !scratch) {
		SEL_OOM(err, errlen);
		goto done;
	}
	for (size_t g = 0; g < ngroups; g++) {
		const size_t *mem = member + start[g];
		size_t ng = start[g + 1] - start[g];
		size_t c = o->frac >= 0 ? wn_sel_frac_count(ng, o->frac) : o->cap;
		size_t np = 0;
		if (choose_within(o, key, mem, ng, c, wn_sel_stream(WN_SEL_STREAM_GROUP, g),
				  scratch, pick, &np, err, errlen))
			goto done;
		for (size_t i = 0; i < np; i++)
			keep[mem[pick[i]]] = 1;
	}
	for (size_t i = 0; i < n; i++)
		if (keep[i])
			out[(*nout)++] = i;
	rc = 0;
done:
	free(keep);
	free(pick);
	free(scratch);
	free(start);
	free(member);
	return rc;
}

/* ---- RS2 epochs ------------------------------------------------------------ */

int wn_sel_epochs(size_t n, size_t k, size_t epochs, uint64_t seed,
		  size_t *out, char *err, size_t errlen)
{
	if (k > n)
		k = n;
	for (size_t e = 0; e < epochs; e++) {
		size_t got;
		if (wn_sel_uniform(n, k, seed, wn_sel_stream(WN_SEL_STREAM_EPOCH, e),
				   out + e * k, &got, err, errlen))
			return -1;
	}
	return 0;
}

/* ---- temperature mixing ------------------------------------------------- */

typedef struct quota_rest {
	double frac;
	size_t g;
} quota_rest;

static int cmp_remainder(const void *a, const void *b)
{
	const quota_rest *x = a, *y = b;
	if (x->frac != y->frac)
		return x->frac > y->frac ? -1 : 1;
	return (x->g > y->g) - (x->g < y->g);
}

/*
 * Unnormalised group masses n_g^(1/T) / scale. Plain pow() when no mass can
 * overflow (then T = 1 gives exact integers: n_g / n, weights of exactly 1);
 * in logs, relative to the largest, when n^(1/T) would pass 1e300.
 */
static int mix_masses(const size_t *group_n, size_t ngroups, double t, double *m,
		      char *err, size_t errlen)
{
	if (!(t > 0) || !isfinite(t))
		return sel_err(err, errlen, "temperature must be a positive number");
	double lmax = -INFINITY;
	for (size_t g = 0; g < ngroups; g++)
		if (group_n[g] && log((double)group_n[g]) / t > lmax)
			lmax = log((double)group_n[g]) / t;
	int in_logs = lmax > 690;
	for (size_t g = 0; g < ngroups; g++) {
		double n = (double)group_n[g];
		m[g] = !group_n[g] ? 0 : in_logs ? exp(log(n) / t - lmax) : pow(n, 1 / t);
	}
	return 0;
}

/* p_g ∝ n_g^(1/T). */
static int mix_probs(const size_t *group_n, size_t ngroups, double t, double *p,
		     char *err, size_t errlen)
{
	if (mix_masses(group_n, ngroups, t, p, err, errlen))
		return -1;
	double sum = 0;
	for (size_t g = 0; g < ngroups; g++)
		sum += p[g];
	for (size_t g = 0; g < ngroups; g++)
		p[g] = sum > 0 ? p[g] / sum : 0;
	return 0;
}

static int mix_quota(const size_t *group_n, size_t ngroups, double temperature,
		     const double *p_fixed, size_t total, double *p_out, size_t *quota_out,
		     char *err, size_t errlen);

int wn_sel_mix_quota(const size_t *group_n, size_t ngroups, double temperature,
		     size_t total, double *p_out, size_t *quota_out, char *err, size_t errlen)
{
	return mix_quota(group_n, ngroups, temperature, NULL, total, p_out, quota_out, err, errlen);
}

/* p_fixed: the group probabilities as given (NULL: n_g^(1/T)) */
static int mix_quota(const size_t *group_n, size_t ngroups, double temperature,
		     const double *p_fixed, size_t total, double *p_out, size_t *quota_out,
		     char *err, size_t errlen)
{
	double *p = malloc((ngroups ? ngroups : 1) * sizeof *p);
	quota_rest *r = malloc((ngroups ? ngroups : 1) * sizeof *r);
	size_t *q = malloc((ngroups ? ngroups : 1) * sizeof *q);
	if (!p || !r || !q) {
		free(p);
		free(r);
		free(q);
		return SEL_OOM(err, errlen);
	}
	int rc = 0;
	if (p_fixed)
		memcpy(p, p_fixed, ngroups * sizeof *p);
	else
		rc = mix_probs(group_n, ngroups, temperature, p, err, errlen);
	if (rc == 0) {
		size_t given = 0, nr = 0;
		for (size_t g = 0; g < ngroups; g++) {
			double exact = (double)total * p[g];
			q[g] = (size_t)floor(exact);
			given += q[g];
			if (group_n[g] && (!p_fixed || p[g] > 0))
				r[nr++] = (quota_rest){exact - floor(exact), g};
		}
		qsort(r, nr, sizeof *r, cmp_remainder);
		/* rounding can leave more than nr over only when nr == 0 */
		for (size_t i = 0; given < total && nr; i = (i + 1) % nr, given++)
			q[r[i].g]++;
		if (p_out)
			memcpy(p_out, p, ngroups * sizeof *p);
		if (quota_out)
			memcpy(quota_out, q, ngroups * sizeof *q);
	}
	free(p);
	free(r);
	free(q);
	return rc;
}

static int count_groups(const uint32_t *group, size_t n, size_t ngroups, size_t **out,
			char *err, size_t errlen)
{
	size_t *c = calloc(ngroups ? ngroups : 1, sizeof *c);
	if (!c)
		return SEL_OOM(err, errlen);
	for (size_t i = 0; i < n; i++) {
		if (group[i] >= ngroups) {
			free(c);
			return sel_err(err, errlen, "group id %u of item %zu out of range", group[i], i);
		}
		c[group[i]]++;
	}
	*out = c;
	return 0;
}

static int mix_draw(const uint32_t *group, size_t n, size_t ngroups, double temperature,
		    const double *p_fixed, size_t total, uint64_t seed, uint32_t *reps,
		    char *err, size_t errlen);

int wn_sel_mix(const uint32_t *group, size_t n, size_t ngroups, double temperature,
	       size_t total, uint64_t seed, uint32_t *reps, char *err, size_t errlen)
{
	return mix_draw(group, n, ngroups, temperature, NULL, total, seed, reps, err, errlen);
}

int wn_sel_mix_fixed(const uint32_t *group, size_t n, size_t ngroups, const double *p,
		     size_t total, uint64_t seed, uint32_t *reps, char *err, size_t errlen)
{
	return mix_draw(group, n, ngroups, 1.0, p, total, seed, reps, err, errlen);
}

static int mix_draw(const uint32_t *group, size_t n, size_t ngroups, double temperature,
		    const double *p_fixed, size_t total, uint64_t seed, uint32_t *reps,
		    char *err, size_t errlen)
{
	size_t *start, *member, *quota = NULL, *pick = NULL;
	if (group_members(group, n, ngroups, &start, &member, err, errlen))
		return -1;
	size_t *gn = malloc((ngroups ? ngroups : 1) * sizeof *gn);
	int rc = -1;
	if (!gn) {
		SEL_OOM(err, errlen);
		goto done;
	}
	for (size_t g = 0; g < ngroups; g++)
		gn[g] = start[g + 1] - start[g];
	quota = malloc((ngroups ? ngroups : 1) * sizeof *quota);
	pick = malloc((n ? n : 1) * sizeof *pick);
	if (!quota || !pick) {
		SEL_OOM(err, errlen);
		goto done;
	}
	for (size_t g = 0; p_fixed && g < ngroups; g++)
		if (p_fixed[g] > 0 && !gn[g]) {
			sel_err(err, errlen, "group %zu has weight %g but no records", g, p_fixed[g]);
			goto done;
		}
	if (mix_quota(gn, ngroups, temperature, p_fixed, total, NULL, quota, err, errlen))
		goto done;
	memset(reps, 0, n * sizeof *reps);
	for (size_t g = 0; g < ngroups; g++) {
		if (!gn[g])
			continue;
		const size_t *mem = member + start[g];
		size_t full = quota[g] / gn[g], rem = quota[g] % gn[g], np;
		if (full > UINT32_MAX - 1) {
			sel_err(err, errlen, "group %zu would repeat each record %zu times", g, full);
			goto done;
		}
		for (size_t i = 0; i < gn[g]; i++)
			reps[mem[i]] = (uint32_t)full;
		if (wn_sel_uniform(gn[g], rem, seed, wn_sel_stream(WN_SEL_STREAM_MIX, g),
				   pick, &np, err, errlen))
			goto done;
		for (size_t i = 0; i < np; i++)
			reps[mem[pick[i]]]++;
	}
	rc = 0;
done:
	free(gn);
	free(quota);
	free(pick);
	free(start);
	free(member);
	return rc;
}

int wn_sel_upweight(const uint32_t *group, size_t n, size_t ngroups, double temperature,
		    size_t total, double *weight, char *err, size_t errlen)
{
	size_t *gn = NULL;
	if (count_groups(group, n, ngroups, &gn, err, errlen))
		return -1;
	double *m = malloc((ngroups ? ngroups : 1) * sizeof *m);
	if (!m) {
		free(gn);
		return SEL_OOM(err, errlen);
	}
	int rc = mix_masses(gn, ngroups, temperature, m, err, errlen);
	if (rc == 0) {
		double sum = 0;
		for (size_t g = 0; g < ngroups; g++)
			sum += m[g];
		/* total * (m_g / sum) / n_g, ordered so that T = 1 and total = n
		 * give exactly 1: (total / sum) * (m_g / n_g) = (n / n) * (n_g / n_g) */
		for (size_t i = 0; i < n; i++)
			weight[i] = ((double)total / sum) * (m[group[i]] / (double)gn[group[i]]);
	}
	free(m);
	free(gn);
	return rc;
}

/* ---- balanced hierarchical sampling ---------------------------------- */

typedef struct balanced {
	const int64_t *path;
	int levels;
	uint64_t seed;
	uint64_t node;        /* draws so far: the stream of the next draw */
	size_t mult;          /* --multiplier */
	int strategy;         /* enum wn_sel_leaf */
	const double *dist;   /* WN_SEL_LEAF_CLOSEST: each item's distance */
	size_t *order;        /* positions sorted by path, top level first */
	uint32_t *reps;       /* copies of each item */
	size_t *sizes, *budget, *pick; /* scratch, n entries each */
	char *err;
	size_t errlen;
} balanced;

static int cmp_path(const void *a, const void *b, void *ctx)
{
	const balanced *B = ctx;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	const int64_t *px = B->path + x * (size_t)B->levels, *py = B->path + y * (size_t)B->levels;
	for (int l = B->levels - 1; l >= 0; l--)
		if (px[l] != py[l])
			return px[l] < py[l] ? -1 : 1;
	return (x > y) - (x < y);
}

static size_t cut_sum(const size_t *sizes, size_t m, size_t x)
{
	size_t s = 0;
	for (size_t i = 0; i < m; i++)
		s += sizes[i] < x ? sizes[i] : x;
	return s;
}

int wn_sel_split_budget(const size_t *sizes, size_t m, size_t target, uint64_t seed,
			uint64_t stream, size_t *budget, char *err, size_t errlen)
{
	size_t lo = 0, hi = 0, total = 0;
	for (size_t i = 0; i < m; i++) {
		total += sizes[i];
		if (sizes[i] > hi)
			hi = sizes[i];
	}
	if (total <= target) { /* everything fits: every child gives all it has */
		memcpy(budget, sizes, m * sizeof *budget);
		return 0;
	}
	while (hi - lo > 1) { /* invariant: cut_sum(lo) <= target < cut_sum(hi) */
		size_t mid = lo + (hi - lo) / 2;
		if (cut_sum(sizes, m, mid) <= target)
			lo = mid;
		else
			hi = mid;
	}
	size_t given = 0, ncand = 0;
	for (size_t i = 0; i < m; i++) {
		budget[i] = sizes[i] < lo ? sizes[i] : lo;
		given += budget[i];
	}
	size_t rest = target - given;
	if (rest == 0)
		return 0;
	size_t *cand = malloc(m * sizeof *cand), *pick = malloc(rest * sizeof *pick), np;
	if (!cand || !pick) {
		free(cand);
		free(pick);
		return SEL_OOM(err, errlen);
	}
	for (size_t i = 0; i < m; i++)
		if (sizes[i] > lo)
			cand[ncand++] = i;
	int rc = wn_sel_uniform(ncand, rest, seed, stream, pick, &np, err, errlen);
	if (rc == 0)
		for (size_t i = 0; i < np; i++)
			budget[cand[pick[i]]]++;
	free(cand);
	free(pick);
	return rc ? -1 : 1; /* 1: the stream was drawn from */
}

/* ---- water-filling -------------------------------------------------- */

static double clampd(double v, double lo, double hi) { return v < lo ? lo : v > hi ? hi : v; }

/* sum_j clamp(want_j - L, lb_j, ub_j): non-increasing in L */
static double fill_sum(const double *want, const double *lb, const double *ub, size_t m, double L)
{
	double s = 0;
	for (size_t j = 0; j < m; j++)
		s += clampd(want[j] - L, lb[j], ub[j]);
	return s;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int wn_sel_water_fill(const double *want, const double *lb, const double *ub, size_t m,
		      double total, double *x, char *err, size_t errlen)
{
	double slb = 0, sub = 0;
	for (size_t j = 0; j < m; j++) {
		if (!isfinite(want[j]) || !(lb[j] <= ub[j]) || !isfinite(lb[j]) || !isfinite(ub[j]))
			return sel_err(err, errlen, "water-filling: entry %zu has a bad want or bounds", j);
		slb += lb[j];
		sub += ub[j];
	}
	double tol = 1e-9 * (fabs(total) + 1);
	if (total < slb - tol || total > sub + tol)
		return sel_err(err, errlen, "water-filling: total %.17g is outside [%.17g, %.17g]",
			       total, slb, sub);
	if (m == 0)
		return 0;
	double *B = malloc(2 * m * sizeof *B);
	if (!B)
		return SEL_OOM(err, errlen);
	for (size_t j = 0; j < m; j++) {
		B[2 * j] = want[j] - ub[j];     /* below: x_j = ub_j */
		B[2 * j + 1] = want[j] - lb[j]; /* above: x_j = lb_j */
	}
	qsort(B, 2 * m, sizeof *B, cmp_double);
	/* the last breakpoint i with fill_sum(B[i]) >= total; f(B[0]) = sum ub >= total */
	size_t lo = 0, hi = 2 * m - 1;
	while (lo < hi) {
		size_t mid = lo + (hi - lo + 1) / 2;
		if (fill_sum(want, lb, ub, m, B[mid]) >= total)
			lo = mid;
		else
			hi = mid - 1;
	}
	double L = B[lo], f0 = fill_sum(want, lb, ub, m, L);
	if (f0 > total && lo + 1 < 2 * m) { /* f is linear on [B[lo], B[lo + 1]] */
		double f1 = fill_sum(want, lb, ub, m, B[lo + 1]);
		L += (f0 - total) * (B[lo + 1] - B[lo]) / (f0 - f1);
	}
	for (size_t j = 0; j < m; j++)
		x[j] = clampd(want[j] - L, lb[j], ub[j]);
	free(B);
	return 0;
}

/* The entry to move by one toward the total: the largest (up) or smallest
 * (down) x_j - q_j among those that may move, ties to the lower index. */
static size_t fill_pick(const double *x, const size_t *q, const size_t *lb, const size_t *ub,
			size_t m, int up)
{
	size_t best = m;
	for (size_t j = 0; j < m; j++) {
		if (up ? q[j] >= ub[j] : q[j] <= lb[j])
			continue;
		double r = x[j] - (double)q[j], rb = best < m ? x[best] - (double)q[best] : 0;
		if (best == m || (up ? r > rb : r < rb))
			best = j;
	}
	return best;
}

int wn_sel_water_fill_int(const double *want, const size_t *lb, const size_t *ub, size_t m,
			  size_t total, size_t *quota, char *err, size_t errlen)
{
	double *buf = calloc(3 * m + 1, sizeof *buf);
	if (!buf)
		return SEL_OOM(err, errlen);
	double *dl = buf, *du = buf + m, *x = buf + 2 * m;
	for (size_t j = 0; j < m; j++) {
		dl[j] = (double)lb[j];
		du[j] = (double)ub[j];
	}
	int rc = wn_sel_water_fill(want, dl, du, m, (double)total, x, err, errlen);
	size_t sum = 0;
	for (size_t j = 0; rc == 0 && j < m; j++) {
		double r = nearbyint(x[j]); /* half to even in the default rounding mode */
		quota[j] = r < dl[j] ? lb[j] : r > du[j] ? ub[j] : (size_t)r;
		sum += quota[j];
	}
	while (rc == 0 && sum != total) {
		size_t j = fill_pick(x, quota, lb, ub, m, sum < total);
		if (j == m) { /* cannot happen: sum lb <= total <= sum ub was checked */
			rc = sel_err(err, errlen, "water-filling: cannot reach the total");
			break;
		}
		if (sum < total)
			quota[j]++, sum++;
		else
			quota[j]--, sum--;
	}
	free(buf);
	return rc;
}

static int split_budget(balanced *B, const size_t *sizes, size_t m, size_t target, size_t *budget)
{
	/* a stream number is spent only by a split that draws */
	int rc = wn_sel_split_budget(sizes, m, target, B->seed,
				     wn_sel_stream(WN_SEL_STREAM_BALANCED, B->node), budget,
				     B->err, B->errlen);
	if (rc > 0)
		B->node++;
	return rc < 0 ? -1 : 0;
}

/*
 * The node made of order[lo..hi): its items share path levels above `li`;
 * its children are the runs of equal path[li]. li < 0: a level-1 cluster.
 */
static int cmp_dist(const void *a, const void *b, void *ctx)
{
	const double *dist = ctx;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	if (dist[x] != dist[y])
		return dist[x] < dist[y] ? -1 : 1;
	return (x > y) - (x < y);
}

/*
 * A level-1 cluster order[lo..hi) asked for target < n * mult: every item
 * target / n times, then the rest once more: drawn uniformly (r) or the
 * closest by dist (c, ties to the earlier item), as the reference's
 * recursive_hierarchical_sampling at level 1.
 */
static int balanced_leaf(balanced *B, size_t lo, size_t hi, size_t target)
{
	size_t n = hi - lo, times = target / n, rest = target - times * n, np;
	for (size_t i = lo; i < hi; i++)
		B->reps[B->order[i]] += (uint32_t)times;
	if (!rest)
		return 0;
	if (B->strategy == WN_SEL_LEAF_CLOSEST) {
		memcpy(B->pick, B->order + lo, n * sizeof *B->pick);
		qsort_r(B->pick, n, sizeof *B->pick, cmp_dist, (void *)B->dist);
		for (size_t i = 0; i < rest; i++)
			B->reps[B->pick[i]]++;
		return 0;
	}
	if (wn_sel_uniform(n, rest, B->seed, wn_sel_stream(WN_SEL_STREAM_BALANCED, B->node++),
			   B->pick, &np, B->err, B->errlen))
		return -1;
	for (size_t i = 0; i < np; i++)
		B->reps[B->order[lo + B->pick[i]]]++;
	return 0;
}

/*
 * The node made of order[lo..hi): its items share path levels above `li`;
 * its children are the runs of equal path[li]. li < 0: a level-1 cluster.
 * Children count as size x mult in the split (find_subcluster_target_size).
 */
static int balanced_node(balanced *B, size_t lo, size_t hi, int li, size_t target)
{
	size_t n = hi - lo;
	if (target == 0)
		return 0;
	if (target >= n * B->mult) {
		for (size_t i = lo; i < hi; i++)
			B->reps[B->order[i]] += (uint32_t)B->mult;
		return 0;
	}
	if (li < 0)
		return balanced_leaf(B, lo, hi, target);
	/* children: runs of equal path[li], counted in the slice [lo, hi) of
	 * the n-entry scratch, which no sibling touches */
	size_t *sizes = B->sizes + lo, m = 0;
	for (size_t i = lo; i < hi; m++) {
		int64_t id = B->path[B->order[i] * (size_t)B->levels + (size_t)li];
		size_t j = i;
		while (j < hi && B->path[B->order[j] * (size_t)B->levels + (size_t)li] == id)
			j++;
		sizes[m] = j - i;
		i = j;
	}
	/* raw sizes, scaled sizes, budgets: the recursion reuses the scratch */
	size_t *sz = malloc(3 * m * sizeof *sz);
	if (!sz)
		return SEL_OOM(B->err, B->errlen);
	for (size_t c = 0; c < m; c++) {
		sz[c] = sizes[c];
		sz[m + c] = sizes[c] * B->mult;
	}
	int rc = split_budget(B, sz + m, m, target, sz + 2 * m);
	size_t at = lo;
	for (size_t c = 0; c < m && rc == 0; c++) {
		rc = balanced_node(B, at, at + sz[c], li - 1, sz[2 * m + c]);
		at += sz[c];
	}
	free(sz);
	return rc;
}

int wn_sel_balanced_reps(const int64_t *path, size_t n, int levels, size_t target,
			 const wn_sel_balanced_opts *bo, uint64_t seed, uint32_t *reps,
			 char *err, size_t errlen)
{
	if (levels < 1)
		return sel_err(err, errlen, "a hierarchy needs at least one level");
	if (bo->multiplier < 1)
		return sel_err(err, errlen, "the multiplier must be at least 1");
	if (bo->strategy == WN_SEL_LEAF_CLOSEST && !bo->dist)
		return sel_err(err, errlen, "closest-to-centroid sampling needs distances");
	memset(reps, 0, n * sizeof *reps);
	if (n == 0 || target == 0)
		return 0;
	balanced B = {path, levels, seed, 0, bo->multiplier, bo->strategy, bo->dist,
		      NULL, reps, NULL, NULL, NULL, err, errlen};
	B.order = malloc(n * sizeof *B.order);
	B.sizes = malloc(n * sizeof *B.sizes);
	B.budget = malloc(n * sizeof *B.budget);
	B.pick = malloc(n * sizeof *B.pick);
	int rc = -1;
	if (!B.order || !B.sizes || !B.budget || !B.pick) {
		SEL_OOM(err, errlen);
		goto done;
	}
	for (size_t i = 0; i < n; i++)
		B.order[i] = i;
	qsort_r(B.order, n, sizeof *B.order, cmp_path, &B);
	rc = balanced_node(&B, 0, n, levels - 1, target);
done:
	free(B.order);
	free(B.sizes);
	free(B.budget);
	free(B.pick);
	return rc;
}

int wn_sel_balanced(const int64_t *path, size_t n, int levels, size_t target,
		    uint64_t seed, size_t *out, size_t *nout, char *err, size_t errlen)
{
	*nout = 0;
	wn_sel_balanced_opts bo = {1, WN_SEL_LEAF_RANDOM, NULL};
	uint32_t *reps = malloc((n ? n : 1) * sizeof *reps);
	if (!reps)
		return SEL_OOM(err, errlen);
	int rc = wn_sel_balanced_reps(path, n, levels, target, &bo, seed, reps, err, errlen);
	for (size_t i = 0; rc == 0 && i < n; i++)
		if (reps[i])
			out[(*nout)++] = i;
	free(reps);
	return rc;
}
