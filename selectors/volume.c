/*
 * selectors/volume.c — the top singular vectors and the chain-rule sampler
 * of a projection DPP (see selectors/volume.h).
 */
#include "selectors/volume.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "io/errf.h"

extern void dgesvd_(const char *jobu, const char *jobvt, const int *m, const int *n, double *a,
		    const int *lda, double *s, double *u, const int *ldu, double *vt,
		    const int *ldvt, double *work, const int *lwork, int *info);

/* dgesvd of Aᵀ (A row-major n×d is column-major d×n): its right vectors are U. */
static int svd_t(double *At, int64_t n, int64_t d, double *sv, double *Ut, int64_t k, char *err,
		 size_t errlen)
{
	int m_ = (int)d, n_ = (int)n, k_ = (int)k, one = 1, lwork = -1, info = 0;
	double wq = 0, u1 = 0;
	dgesvd_("N", "S", &m_, &n_, At, &m_, sv, &u1, &one, Ut, &k_, &wq, &lwork, &info);
	lwork = (int)wq;
	double *work = malloc(sizeof(double) * (size_t)(lwork > 1 ? lwork : 1));
	if (!work)
		return wn_errf(err, errlen, "out of memory"), -1;
	dgesvd_("N", "S", &m_, &n_, At, &m_, sv, &u1, &one, Ut, &k_, work, &lwork, &info);
	free(work);
	if (info != 0)
		return wn_errf(err, errlen, "SVD failed (dgesvd info %d)", info), -1;
	return 0;
}

int wn_vol_top_singular(const float *A32, const double *A64, int64_t n, int64_t d, int64_t m,
			double **U_out, double *sv, int64_t *rank, char *err, size_t errlen)
{
	int64_t k = n < d ? n : d;
	*U_out = NULL;
	if (n < 1 || d < 1 || m < 1 || m > k || (!A32 == !A64) || n > INT32_MAX / (d > k ? d : k))
		return wn_errf(err, errlen, "bad SVD arguments (%lld x %lld, top %lld)", (long long)n,
			       (long long)d, (long long)m), -1;
	double *At = malloc(sizeof(double) * (size_t)(n * d));
	double *Ut = malloc(sizeof(double) * (size_t)(n * k));
	double *s = malloc(sizeof(double) * (size_t)k);
	int rc = At && Ut && s ? 0 : (wn_errf(err, errlen, "out of memory for the SVD"), -1);
	for (int64_t i = 0; !rc && i < n * d; i++)
		At[i] = A64 ? A64[i] : (double)A32[i];
	if (!rc)
		rc = svd_t(At, n, d, s, Ut, k, err, errlen);
	free(At);
	if (!rc) {
		/* Ut: k×n column-major, element (t, i) at Ut[t + i k] = U[i][t]: row i of U is
		 * Ut[i k .. i k + m), moved down to i m in place (i m <= i k) */
		for (int64_t i = 0; i < n; i++)
			memmove(Ut + i * m, Ut + i * k, sizeof(double) * (size_t)m);
		double *U = realloc(Ut, sizeof(double) * (size_t)(n * m));
		*U_out = U ? U : Ut;
		Ut = NULL;
		double thr = s[0] * (double)(n > d ? n : d) * DBL_EPSILON;
		*rank = 0;
		for (int64_t t = 0; t < k; t++)
			*rank += s[t] > thr;
		if (sv)
			memcpy(sv, s, sizeof(double) * (size_t)k);
	}
	free(Ut), free(s);
	return rc;
}

/* Draw a row with probability r_i / Σ r (r clamped at 0), u from the step's stream. */
static int64_t draw_row(const double *r, int64_t n, double u)
{
	double total = 0;
	for (int64_t i = 0; i < n; i++)
		total += r[i] > 0 ? r[i] : 0;
	if (!(total > 0))
		return -1;
	double x = u * total, cum = 0;
	int64_t last = -1;
	for (int64_t i = 0; i < n; i++) {
		if (!(r[i] > 0))
			continue;
		last = i;
		if ((cum += r[i]) > x)
			return i;
	}
	return last; /* u·total rounded up to the total */
}

int wn_vol_dpp_sample(const double *U, int64_t n, int64_t m, uint64_t seed, uint64_t stream,
		      int64_t *S, double *work)
{
	double *r = work, *E = work + n; /* residual norms; e_t in E[t*m ..] */
	for (int64_t i = 0; i < n; i++) {
		double s = 0;
		for (int64_t t = 0; t < m; t++)
			s += U[i * m + t] * U[i * m + t];
		r[i] = s;
	}
	for (int64_t t = 0; t < m; t++) {
		int64_t j = draw_row(r, n, wn_rng_uniform(seed, stream, (uint64_t)t));
		if (j < 0)
			return -1;
		S[t] = j;
		double *e = E + t * m, nn = 0; /* e_t = residual of U_j against e_1..e_{t-1} */
		memcpy(e, U + j * m, sizeof(double) * (size_t)m);
		for (int64_t s = 0; s < t; s++) {
			const double *f = E + s * m;
			double c = 0;
			for (int64_t q = 0; q < m; q++)
				c += f[q] * U[j * m + q];
			for (int64_t q = 0; q < m; q++)
				e[q] -= c * f[q];
		}
		for (int64_t q = 0; q < m; q++)
			nn += e[q] * e[q];
		if (!(nn > 0))
			return -1;
		for (int64_t q = 0; q < m; q++)
			e[q] /= sqrt(nn);
#pragma omp parallel for schedule(static) if (n * m > 65536)
		for (int64_t i = 0; i < n; i++) {
			double c = 0;
			for (int64_t q = 0; q < m; q++)
				c += e[q] * U[i * m + q];
			r[i] -= c * c;
		}
		r[j] = 0;
	}
	return 0;
}
