/*
 * selectors/dbp.c — Density-Based Pruning's cluster complexities and
 * quotas (contract in selectors/dbp.h).
 */
#include "selectors/dbp.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "io/errf.h"
#include "selectors/subset.h"

/* Largest similarity first, ties to the lower index. */
static int cmp_sim(const void *a, const void *b, void *ctx)
{
	const double *s = ctx;
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	if (s[x] != s[y])
		return s[x] > s[y] ? -1 : 1;
	return (x > y) - (x < y);
}

int wn_dbp_inter(const float *C, int64_t k, int64_t d, int nn, double *d_inter, char *err,
		 size_t errlen)
{
	double *sim = malloc(sizeof *sim * (size_t)(k ? k : 1));
	int64_t *ord = malloc(sizeof *ord * (size_t)(k ? k : 1));
	if (!sim || !ord) {
		free(sim);
		free(ord);
		return wn_errf(err, errlen, "out of memory"), -1;
	}
	for (int64_t j = 0; j < k; j++) {
		const float *c = C + (size_t)j * (size_t)d;
		int64_t m = 0;
		for (int64_t l = 0; l < k; l++) {
			if (l == j)
				continue;
			const float *e = C + (size_t)l * (size_t)d;
			double ip = 0;
			for (int64_t t = 0; t < d; t++)
				ip += (double)c[t] * e[t];
			sim[l] = ip;
			ord[m++] = l;
		}
		qsort_r(ord, (size_t)m, sizeof *ord, cmp_sim, sim);
		int64_t take = m < nn ? m : nn;
		double s = 0;
		for (int64_t t = 0; t < take; t++)
			s += 1.0 - sim[ord[t]];
		d_inter[j] = take ? s / (double)take : NAN; /* one cluster: no neighbour */
	}
	free(sim);
	free(ord);
	return 0;
}

int wn_dbp_quota(const double *d_intra, const double *d_inter, const size_t *sizes, size_t k,
		 size_t M, double tau, double balance, wn_dbp_quotas *q, char *err, size_t errlen)
{
	if (k == 0)
		return 0;
	if (!(tau > 0) || !(balance >= 0 && balance <= 1))
		return wn_errf(err, errlen, "DBP needs tau > 0 and 0 <= balance <= 1"), -1;
	double fin = 0, cmax = -INFINITY;
	size_t nfin = 0;
	for (size_t j = 0; j < k; j++) {
		q->complexity[j] = d_inter[j] * d_intra[j];
		if (isfinite(q->complexity[j]))
			fin += q->complexity[j], nfin++;
	}
	for (size_t j = 0; j < k; j++) {
		if (!isfinite(q->complexity[j]))
			q->complexity[j] = nfin ? fin / (double)nfin : 0;
		if (q->complexity[j] > cmax)
			cmax = q->complexity[j];
	}
	double z = 0;
	for (size_t j = 0; j < k; j++) /* softmax, shifted by the max for range */
		z += q->prob[j] = exp((q->complexity[j] - cmax) / tau);
	double *want = malloc(sizeof *want * k);
	if (!want)
		return wn_errf(err, errlen, "out of memory"), -1;
	size_t min_samples = balance > 0 ? (size_t)floor((double)M / (double)k * balance) : 1;
	for (size_t j = 0; j < k; j++) {
		q->prob[j] /= z;
		want[j] = (double)M * q->prob[j];
		q->lb[j] = sizes[j] - 1 < min_samples ? sizes[j] - 1 : min_samples;
	}
	int rc = wn_sel_water_fill_int(want, q->lb, sizes, k, M, q->quota, err, errlen);
	free(want);
	return rc;
}
