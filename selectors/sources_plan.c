/*
 * selectors/sources_plan.c — projektor's performance model of a mixture
 * (Kang et al. 2023): the stage-1 features and their least-squares fit at
 * one pilot size, the stage-2 ln N interpolation, the gradient and the
 * simplex projection of the mixture ascent (see selectors/sources.h).
 * Owns nothing; borrows its arrays. The fit is LAPACK's dgels (QR).
 */
#include "selectors/sources.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "io/errf.h"

extern void dgels_(const char *trans, const int *m, const int *n, const int *nrhs, double *a,
		   const int *lda, double *b, const int *ldb, double *work, const int *lwork,
		   int *info);

void wn_plan_features(const double *p, int K, double ot, double *feat)
{
	int k = K - 1;
	for (int i = 0; i < k; i++) {
		feat[i] = p[i] * p[i] * ot;
		feat[k + i] = p[i] * ot;
		feat[2 * k + 1 + i] = p[i];
	}
	feat[2 * k] = ot;
	feat[3 * k + 1] = 1;
}

double wn_plan_predict(const double *beta, const double *p, int K, double ot)
{
	double feat[wn_plan_nfeat(K)], s = 0;
	wn_plan_features(p, K, ot, feat);
	for (int j = 0; j < wn_plan_nfeat(K); j++)
		s += beta[j] * feat[j];
	return s;
}

void wn_plan_gradient(const double *beta, const double *p, int K, double ot, const double *dot,
		      double *grad)
{
	int k = K - 1;
	double mult = beta[2 * k]; /* b0 + sum_i (b2_i p_i^2 + b1_i p_i): the factor of OT */
	for (int i = 0; i < k; i++)
		mult += beta[i] * p[i] * p[i] + beta[k + i] * p[i];
	for (int i = 0; i < K; i++) {
		grad[i] = mult * dot[i];
		if (i < k)
			grad[i] += (2 * beta[i] * p[i] + beta[k + i]) * ot + beta[2 * k + 1 + i];
	}
}

int wn_plan_fit(const double *feat, const double *y, int m, int F, double *beta, double *rss,
		char *err, size_t errlen)
{
	if (m < F) {
		wn_errf(err, errlen, "%d pilots for %d coefficients", m, F);
		return -1;
	}
	double *A = malloc((size_t)m * F * sizeof *A), *b = malloc((size_t)m * sizeof *b), wq;
	int nrhs = 1, lwork = -1, info = 0, rc = 0;
	if (!A || !b) {
		free(A);
		free(b);
		wn_errf(err, errlen, "out of memory");
		return -1;
	}
	for (int i = 0; i < m; i++) { /* column-major for LAPACK */
		for (int j = 0; j < F; j++)
			A[(size_t)j * m + i] = feat[(size_t)i * F + j];
		b[i] = y[i];
	}
	dgels_("N", &m, &F, &nrhs, A, &m, b, &m, &wq, &lwork, &info);
	lwork = (int)wq;
	double *work = malloc((size_t)(lwork > 1 ? lwork : 1) * sizeof *work);
	if (!work) {
		wn_errf(err, errlen, "out of memory");
		rc = -1;
	} else {
		dgels_("N", &m, &F, &nrhs, A, &m, b, &m, work, &lwork, &info);
		if (info != 0) {
			wn_errf(err, errlen, "the pilots do not determine the %d coefficients (rank-deficient)", F);
			rc = -1;
		}
	}
	if (!rc) {
		memcpy(beta, b, (size_t)F * sizeof *beta);
		*rss = 0;
		for (int i = 0; i < m; i++) {
			double r = -y[i];
			for (int j = 0; j < F; j++)
				r += feat[(size_t)i * F + j] * beta[j];
			*rss += r * r;
		}
	}
	free(work);
	free(A);
	free(b);
	return rc;
}

double wn_plan_interp(double N, double N0, double L0, double N1, double L1)
{
	return (log(N / N0) * L1 - log(N / N1) * L0) / log(N1 / N0);
}

static int cmp_desc(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? 1 : x > y ? -1 : 0;
}

void wn_plan_project_simplex(double *v, int K)
{
	double u[K], css = 0, theta = 0;
	memcpy(u, v, sizeof u);
	qsort(u, (size_t)K, sizeof *u, cmp_desc);
	for (int j = 0; j < K; j++) { /* Duchi et al. 2008: the largest j with u_j > (css_j - 1)/j */
		css += u[j];
		double t = (css - 1) / (j + 1);
		if (u[j] > t)
			theta = t;
	}
	for (int i = 0; i < K; i++)
		v[i] = v[i] > theta ? v[i] - theta : 0;
}
