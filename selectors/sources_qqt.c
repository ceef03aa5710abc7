/*
 * selectors/sources_qqt.c — QQT scaling laws for data filtering (Goyal et
 * al. 2024): the utility of repeated data, the mixing of pools, the seeded
 * grid-search fit (see selectors/sources.h). Held to the formulas of
 * locuslab/scaling_laws_data_filtering's objective.py, grid_search.py and
 * estimate_best_pool.py. Owns nothing; borrows the arrays it is given.
 */
#include "selectors/sources.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "io/errf.h"

#define QQT_STREAM 0x5151u /* Philox stream of the grid shuffle */

/* objective.py's power(): 0^b is 0 there (never inf). */
static double qqt_pow(double x, double p)
{
	return x == 0 ? 0 : pow(x, p);
}

/* b_k = mean_i b_i 0.5^(k / tau_i) */
static double qqt_b_epoch(const double *b, const double *tau, int k, int64_t epoch)
{
	double s = 0;
	for (int i = 0; i < k; i++)
		s += b[i] * pow(0.5, (double)epoch / tau[i]);
	return s / k;
}

double wn_qqt_loss(const double *b, const double *tau, int k, int64_t S, int64_t n, double a,
		   double d)
{
	int64_t E = n / S;
	double x0 = a * (double)(S < n ? S : n) / WN_QQT_NORMALIZER;
	double loss = qqt_pow(x0, qqt_b_epoch(b, tau, k, 0)) + d;
	for (int64_t e = 1; e <= E; e++) {
		int64_t top = S * (e + 1) < n ? S * (e + 1) : n;
		double x = a * (double)top / WN_QQT_NORMALIZER;
		double x1 = a * (double)S * (double)e / WN_QQT_NORMALIZER;
		loss *= pow(x / x1, qqt_b_epoch(b, tau, k, e));
	}
	return loss;
}

double wn_qqt_topk(const double *b, const double *tau, int k, int64_t pool_size, int64_t n,
		   double a, double d)
{
	double th[k > 0 ? k : 1];
	for (int i = 0; i < k; i++)
		th[i] = tau[i] * k;
	return wn_qqt_loss(b, th, k, pool_size * k, n, a, d);
}

void wn_qqt_sort_pools(double *b, double *tau, int *order, int npools)
{
	for (int i = 0; i < npools; i++)
		order[i] = i;
	for (int i = 1; i < npools; i++) { /* insertion sort: stable, pools are few */
		double bi = b[i], ti = tau[i];
		int oi = order[i], j = i - 1;
		for (; j >= 0 && b[j] > bi; j--) {
			b[j + 1] = b[j];
			tau[j + 1] = tau[j];
			order[j + 1] = order[j];
		}
		b[j + 1] = bi;
		tau[j + 1] = ti;
		order[j + 1] = oi;
	}
}

static double linspace(double lo, double hi, int i)
{
	return lo + (hi - lo) * (double)i / (WN_QQT_GRID - 1);
}

double wn_qqt_grid_b(int i) { return linspace(-0.005, -0.5, i); }
double wn_qqt_grid_tau(int i) { return linspace(1, 10, i); }
double wn_qqt_grid_a(int i, double a_upper) { return linspace(0.0001, a_upper, i); }

static double pilots_sse(const wn_qqt_pilots *p, double a, double b, double tau, double d)
{
	double s = 0;
	for (size_t i = 0; i < p->m; i++) {
		double r = wn_qqt_loss(&b, &tau, 1, p->S[i], p->n[i], a, d) - p->y[i];
		s += r * r;
	}
	return s;
}

static int pilots_valid(const wn_qqt_pilots *p, char *err, size_t errlen)
{
	if (p->m == 0) {
		wn_errf(err, errlen, "a pool without pilots");
		return -1;
	}
	for (size_t i = 0; i < p->m; i++)
		if (p->S[i] < 1 || p->n[i] < 1 || !isfinite(p->y[i])) {
			wn_errf(err, errlen, "pilot %zu: samples per epoch and seen must be >= 1, the error finite", i);
			return -1;
		}
	return 0;
}

/* idx[0..count) shuffled by (seed, QQT_STREAM); the caller frees. */
static int64_t *shuffled(size_t count, uint64_t seed)
{
	int64_t *idx = malloc(count * sizeof *idx);
	if (!idx)
		return NULL;
	for (size_t i = 0; i < count; i++)
		idx[i] = (int64_t)i;
	wn_rng r;
	wn_rng_init(&r, seed, QQT_STREAM);
	wn_rng_shuffle_i64(&r, idx, count);
	return idx;
}

int wn_qqt_fit_pool(const wn_qqt_pilots *p, double a, double d, uint64_t seed, double *b,
		    double *tau, double *sse, char *err, size_t errlen)
{
	if (pilots_valid(p, err, errlen))
		return -1;
	size_t count = (size_t)WN_QQT_GRID * WN_QQT_GRID;
	int64_t *idx = shuffled(count, seed);
	if (!idx) {
		wn_errf(err, errlen, "out of memory");
		return -1;
	}
	double best = INFINITY;
	for (size_t i = 0; i < count; i++) {
		double bb = wn_qqt_grid_b((int)(idx[i] / WN_QQT_GRID));
		double tt = wn_qqt_grid_tau((int)(idx[i] % WN_QQT_GRID));
		double s = pilots_sse(p, a, bb, tt, d);
		if (s < best) {
			best = s;
			*b = bb;
			*tau = tt;
		}
	}
	free(idx);
	if (!isfinite(best)) {
		wn_errf(err, errlen, "the fit's residual is not finite");
		return -1;
	}
	*sse = best;
	return 0;
}

/* The repetition factor prod_{k=1..E} (x_k / x'_k)^{b_k} of one pool: a cancels in it. */
static double qqt_repeat_factor(double b, double tau, int64_t S, int64_t n)
{
	double f = 1;
	for (int64_t e = 1; e <= n / S; e++) {
		int64_t top = S * (e + 1) < n ? S * (e + 1) : n;
		f *= pow((double)top / ((double)S * (double)e), b * pow(0.5, (double)e / tau));
	}
	return f;
}

/* For every (b, tau) of the grid and every pilot of p: the repetition
 * factor, row-major (grid point, pilot). The caller frees. */
static double *repeat_factors(const wn_qqt_pilots *p)
{
	size_t g = (size_t)WN_QQT_GRID * WN_QQT_GRID;
	double *f = malloc(g * p->m * sizeof *f);
	for (size_t j = 0; f && j < g; j++)
		for (size_t i = 0; i < p->m; i++)
			f[j * p->m + i] = qqt_repeat_factor(wn_qqt_grid_b((int)(j / WN_QQT_GRID)),
							    wn_qqt_grid_tau((int)(j % WN_QQT_GRID)),
							    p->S[i], p->n[i]);
	return f;
}

/* min over the (b, tau) grid of one pool's residual at a */
static double profile_sse(const wn_qqt_pilots *p, const double *f, double a, double d)
{
	double best = INFINITY;
	for (size_t j = 0; j < (size_t)WN_QQT_GRID * WN_QQT_GRID; j++) {
		double b = wn_qqt_grid_b((int)(j / WN_QQT_GRID)), s = 0;
		for (size_t i = 0; i < p->m && s < best; i++) {
			double x0 = a * (double)(p->S[i] < p->n[i] ? p->S[i] : p->n[i]) / WN_QQT_NORMALIZER;
			double r = (qqt_pow(x0, b) + d) * f[j * p->m + i] - p->y[i];
			s += r * r;
		}
		if (s < best)
			best = s;
	}
	return best;
}

int wn_qqt_fit_a(const wn_qqt_pilots *pools, int npools, double d, double a_upper, double *a,
		 char *err, size_t errlen)
{
	double *total = calloc(WN_QQT_GRID, sizeof *total);
	if (!total) {
		wn_errf(err, errlen, "out of memory");
		return -1;
	}
	int rc = 0;
	for (int k = 0; k < npools && !rc; k++) {
		if (pilots_valid(&pools[k], err, errlen)) {
			rc = -1;
			break;
		}
		double *f = repeat_factors(&pools[k]);
		if (!f) {
			wn_errf(err, errlen, "out of memory");
			rc = -1;
			break;
		}
		for (int i = 0; i < WN_QQT_GRID; i++)
			total[i] += profile_sse(&pools[k], f, wn_qqt_grid_a(i, a_upper), d);
		free(f);
	}
	int best = 0;
	for (int i = 1; i < WN_QQT_GRID; i++)
		if (total[i] < total[best])
			best = i;
	if (!rc && !isfinite(total[best])) {
		wn_errf(err, errlen, "the fit's residual is not finite");
		rc = -1;
	}
	*a = wn_qqt_grid_a(best, a_upper);
	free(total);
	return rc;
}
