/*
 * selectors/sensitivity.c — leverage, Lewis weights and the lightweight
 * k-means coreset probabilities (see selectors/sensitivity.h): the Gram
 * pass, the factorisation (Cholesky, or eigen for a rank-deficient Gram
 * matrix) and the quadratic-form pass, one block of rows at a time.
 */
#include "selectors/sensitivity.h"

#include <cblas.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "io/errf.h"

/* LAPACK (column-major, Fortran calling convention). */
extern void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info);
extern void dpocon_(const char *uplo, const int *n, const double *a, const int *lda,
		    const double *anorm, double *rcond, double *work, int *iwork, int *info);
extern void dsyev_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda,
		   double *w, double *work, const int *lwork, int *info);

#define BLK 256 /* rows per block */

/* Rows i0 .. i0+rows of A as float64 in buf (or a pointer into A). */
static const double *get_block(const wn_sens_matrix *A, int64_t i0, int64_t rows, double *buf)
{
	if (A->a64)
		return A->a64 + i0 * A->d;
	const float *src = A->a32 + i0 * A->d;
	for (int64_t k = 0; k < rows * A->d; k++)
		buf[k] = (double)src[k];
	return buf;
}

/* G += Σ_{i in [i0, i1)} f_i a_i a_iᵀ (upper triangle), block by block. */
static void gram_range(const wn_sens_matrix *A, const double *f, int64_t i0, int64_t i1, double *G,
		       double *buf, double *wb)
{
	int64_t d = A->d;
	for (; i0 < i1; i0 += BLK) {
		int64_t rows = i1 - i0 < BLK ? i1 - i0 : BLK;
		const double *B = get_block(A, i0, rows, buf);
		if (f) { /* rows scaled by sqrt(f_i) */
			for (int64_t r = 0; r < rows; r++) {
				double s = sqrt(f[i0 + r]);
				for (int64_t j = 0; j < d; j++)
					wb[r * d + j] = s * B[r * d + j];
			}
			B = wb;
		}
		cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)d, (int)rows, 1.0, B,
			    (int)d, 1.0, G, (int)d);
	}
}

/*
 * G = Σ_i f_i a_i a_iᵀ (f NULL: f_i = 1), full symmetric, d×d. The rows are
 * cut into GCHUNKS fixed ranges (fewer when d×d partials would not fit in
 * GRAM_MEM), each summed by one thread with single-threaded BLAS, and the
 * partials added in range order: the same bits at any thread count.
 */
#define GCHUNKS 8
#define GRAM_MEM ((int64_t)512 << 20)
static int gram(const wn_sens_matrix *A, const double *f, double *G)
{
	int64_t d = A->d, nc = GCHUNKS;
	while (nc > 1 && (nc * d * d * 8 > GRAM_MEM || (nc - 1) * BLK * 4 >= A->n))
		nc--;
	double *P = calloc((size_t)(nc * d * d), sizeof(double));
	if (!P)
		return -1;
	int fail = 0;
	int64_t per = (A->n + nc - 1) / nc;
	per = (per + BLK - 1) / BLK * BLK;
#pragma omp parallel for schedule(static, 1) reduction(| : fail)
	for (int64_t c = 0; c < nc; c++) {
		double *buf = malloc(sizeof(double) * (size_t)(2 * BLK * d));
		if (!buf) {
			fail = 1;
			continue;
		}
		int64_t lo = c * per, hi = lo + per < A->n ? lo + per : A->n;
		gram_range(A, f, lo < A->n ? lo : A->n, hi, P + c * d * d, buf, buf + BLK * d);
		free(buf);
	}
	memcpy(G, P, sizeof(double) * (size_t)(d * d));
	for (int64_t c = 1; c < nc; c++)
		for (int64_t k = 0; k < d * d; k++)
			G[k] += P[c * d * d + k];
	free(P);
	for (int64_t j = 0; j < d; j++)
		for (int64_t k = 0; k < j; k++)
			G[j * d + k] = G[k * d + j];
	return fail ? -1 : 0;
}

/* A prepared (G + λI)⁻¹: τ(y) = ||F (D y)||² with F = U⁻ᵀ or Λ^{-1/2}Vᵀ. */
struct quad {
	int64_t d, r;   /* r: columns of F (d for Cholesky, the rank for eigen) */
	int method;
	double *D;      /* d: the equilibration */
	double *F;      /* Cholesky: U (d×d, upper, row-major); eigen: d×r, V_kept Λ^{-1/2} */
};

static void quad_free(struct quad *q)
{
	free(q->D);
	free(q->F);
	memset(q, 0, sizeof *q);
}

/* Eigen fallback on the equilibrated M (d×d, destroyed). */
static int quad_eigen(struct quad *q, double *M, int64_t nrows, char *err, size_t errlen)
{
	int dd = (int)q->d, info = 0, lwork = -1;
	double wq = 0, *lam = malloc(sizeof(double) * (size_t)q->d);
	if (!lam)
		return wn_errf(err, errlen, "out of memory"), -1;
	dsyev_("V", "U", &dd, M, &dd, lam, &wq, &lwork, &info);
	lwork = (int)wq;
	double *work = malloc(sizeof(double) * (size_t)(lwork > 1 ? lwork : 1));
	if (!work) {
		free(lam);
		return wn_errf(err, errlen, "out of memory"), -1;
	}
	dsyev_("V", "U", &dd, M, &dd, lam, work, &lwork, &info);
	free(work);
	if (info != 0) {
		free(lam);
		return wn_errf(err, errlen, "eigen-decomposition failed (dsyev info %d)", info), -1;
	}
	/* column-major eigenvectors: vector j is M[j*d .. j*d+d) */
	double top = lam[q->d - 1] > 0 ? lam[q->d - 1] : 0;
	double thr = top * (double)(nrows > q->d ? nrows : q->d) * DBL_EPSILON;
	int64_t r = 0;
	for (int64_t j = 0; j < q->d; j++)
		r += lam[j] > thr;
	q->F = malloc(sizeof(double) * (size_t)(q->d * (r ? r : 1)));
	if (!q->F) {
		free(lam);
		return wn_errf(err, errlen, "out of memory"), -1;
	}
	int64_t c = 0;
	for (int64_t j = 0; j < q->d; j++) {
		if (!(lam[j] > thr))
			continue;
		double s = 1.0 / sqrt(lam[j]);
		for (int64_t k = 0; k < q->d; k++)
			q->F[k * r + c] = M[j * q->d + k] * s;
		c++;
	}
	free(lam);
	q->r = r;
	q->method = WN_SENS_EIGEN;
	return 0;
}

/* Factor G + λI (G destroyed); nrows is n, for the rank threshold. */
static int quad_prepare(struct quad *q, double *G, int64_t d, double ridge, int64_t nrows,
			char *err, size_t errlen)
{
	memset(q, 0, sizeof *q);
	q->d = d;
	q->D = malloc(sizeof(double) * (size_t)d);
	double *M = malloc(sizeof(double) * (size_t)(d * d));
	if (!q->D || !M) {
		free(M);
		quad_free(q);
		return wn_errf(err, errlen, "out of memory"), -1;
	}
	for (int64_t j = 0; j < d; j++) {
		G[j * d + j] += ridge;
		q->D[j] = G[j * d + j] > 0 ? 1.0 / sqrt(G[j * d + j]) : 0.0;
	}
	double anorm = 0;
	for (int64_t j = 0; j < d; j++) {
		double col = 0;
		for (int64_t k = 0; k < d; k++) {
			M[j * d + k] = G[j * d + k] * q->D[j] * q->D[k];
			col += fabs(M[j * d + k]);
		}
		anorm = col > anorm ? col : anorm;
	}
	memcpy(G, M, sizeof(double) * (size_t)(d * d));
	int dd = (int)d, info = 0;
	dpotrf_("L", &dd, M, &dd, &info); /* column-major lower = row-major upper U, G = UᵀU */
	double rcond = 0;
	if (info == 0) {
		double *work = malloc(sizeof(double) * (size_t)(3 * d));
		int *iwork = malloc(sizeof(int) * (size_t)d);
		if (work && iwork)
			dpocon_("L", &dd, M, &dd, &anorm, &rcond, work, iwork, &info);
		free(work);
		free(iwork);
	}
	double thr = (double)(nrows > d ? nrows : d) * DBL_EPSILON;
	if (info == 0 && rcond > thr) {
		for (int64_t j = 0; j < d; j++) /* clear the strict lower part (row-major) */
			for (int64_t k = 0; k < j; k++)
				M[j * d + k] = 0;
		q->F = M;
		q->r = d;
		q->method = WN_SENS_CHOLESKY;
		return 0;
	}
	free(M);
	if (quad_eigen(q, G, nrows, err, errlen)) {
		quad_free(q);
		return -1;
	}
	return 0;
}

/* out[r] = τ of each of `rows` rows B (float64, raw); Y, Z: work (rows×d). */
static void quad_eval(const struct quad *q, const double *B, int64_t rows, double *out, double *Y,
		      double *Z)
{
	int64_t d = q->d;
	for (int64_t r = 0; r < rows; r++)
		for (int64_t j = 0; j < d; j++)
			Y[r * d + j] = B[r * d + j] * q->D[j];
	const double *R = Y;
	int64_t w = d;
	if (q->method == WN_SENS_CHOLESKY) {
		cblas_dtrsm(CblasRowMajor, CblasRight, CblasUpper, CblasNoTrans, CblasNonUnit,
			    (int)rows, (int)d, 1.0, q->F, (int)d, Y, (int)d);
	} else if (q->r > 0) {
		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, (int)q->r, (int)d,
			    1.0, Y, (int)d, q->F, (int)q->r, 0.0, Z, (int)q->r);
		R = Z;
		w = q->r;
	} else {
		w = 0;
	}
	for (int64_t r = 0; r < rows; r++) {
		double s = 0;
		for (int64_t j = 0; j < w; j++)
			s += R[r * w + j] * R[r * w + j];
		out[r] = s;
	}
}

/* The Gram matrix of one run. */
struct work {
	double *G;
};

static void work_free(struct work *w)
{
	free(w->G);
}

static int work_alloc(struct work *w, int64_t d, char *err, size_t errlen)
{
	w->G = malloc(sizeof(double) * (size_t)(d * d));
	if (w->G)
		return 0;
	return wn_errf(err, errlen, "out of memory for a %lld x %lld Gram matrix", (long long)d,
		       (long long)d), -1;
}

/* τ of every row, blocks shared among threads (each block's result is its own). */
static int quad_all(const struct quad *q, const wn_sens_matrix *A, double *tau)
{
	int fail = 0;
	int64_t nb = (A->n + BLK - 1) / BLK, d = A->d;
#pragma omp parallel reduction(| : fail)
	{
		double *buf = malloc(sizeof(double) * (size_t)(3 * BLK * d));
#pragma omp for schedule(dynamic, 1)
		for (int64_t b = 0; b < nb; b++) {
			if (!buf) {
				fail = 1;
				continue;
			}
			int64_t i0 = b * BLK, rows = A->n - i0 < BLK ? A->n - i0 : BLK;
			quad_eval(q, get_block(A, i0, rows, buf), rows, tau + i0, buf + BLK * d,
				  buf + 2 * BLK * d);
		}
		free(buf);
	}
	return fail ? -1 : 0;
}

static int check_shape(const wn_sens_matrix *A, char *err, size_t errlen)
{
	if (A->n < 0 || A->d < 1 || A->d > 65536 || (!A->a64 == !A->a32))
		return wn_errf(err, errlen, "bad matrix (%lld x %lld)", (long long)A->n,
			       (long long)A->d), -1;
	return 0;
}

/* τ(G_f) for all rows, after the Gram pass weighted by f (NULL = 1). */
static int leverage_pass_(const wn_sens_matrix *A, const double *f, double ridge, struct work *w,
			  double *tau, wn_sens_info *info, char *err, size_t errlen)
{
	if (gram(A, f, w->G))
		return wn_errf(err, errlen, "out of memory"), -1;
	struct quad q;
	if (quad_prepare(&q, w->G, A->d, ridge, A->n, err, errlen))
		return -1;
	if (quad_all(&q, A, tau)) {
		quad_free(&q);
		return wn_errf(err, errlen, "out of memory"), -1;
	}
	info->rank = ridge > 0 ? A->d : q.r;
	info->method = q.method;
	quad_free(&q);
	return 0;
}

/* The pass with single-threaded BLAS (the threads are ours, over fixed blocks). */
static int leverage_pass(const wn_sens_matrix *A, const double *f, double ridge, struct work *w,
			 double *tau, wn_sens_info *info, char *err, size_t errlen)
{
	int prev = openblas_get_num_threads();
	openblas_set_num_threads(1);
	int rc = leverage_pass_(A, f, ridge, w, tau, info, err, errlen);
	openblas_set_num_threads(prev);
	return rc;
}

static double sum_of(const double *v, int64_t n)
{
	double s = 0;
	for (int64_t i = 0; i < n; i++)
		s += v[i];
	return s;
}

int wn_sens_leverage(const wn_sens_matrix *A, double ridge, double *tau, wn_sens_info *info,
		     char *err, size_t errlen)
{
	memset(info, 0, sizeof *info);
	if (check_shape(A, err, errlen))
		return -1;
	if (!(ridge >= 0) || !isfinite(ridge))
		return wn_errf(err, errlen, "ridge must be finite and >= 0"), -1;
	struct work w;
	if (work_alloc(&w, A->d, err, errlen))
		return -1;
	int rc = leverage_pass(A, NULL, ridge, &w, tau, info, err, errlen);
	work_free(&w);
	if (!rc)
		info->sum = sum_of(tau, A->n);
	return rc;
}

/* One Lewis update of w from tau; returns the max relative change. */
static double lewis_update(double *w, const double *tau, int64_t n, double p, int damped)
{
	double change = 0, beta = 1.0 - 2.0 / p;
	for (int64_t i = 0; i < n; i++) {
		double t = tau[i] > 0 ? tau[i] : 0;
		double nw = damped ? (w[i] > 0 ? pow(w[i], beta) * t : 0) : pow(t, p / 2.0);
		if (w[i] > 0) {
			double c = fabs(nw - w[i]) / w[i];
			change = c > change ? c : change;
		}
		w[i] = nw;
	}
	return change;
}

int wn_sens_lewis(const wn_sens_matrix *A, double p, double tol, int max_iter, double *w,
		  wn_sens_info *info, char *err, size_t errlen)
{
	memset(info, 0, sizeof *info);
	if (check_shape(A, err, errlen))
		return -1;
	if (!(p > 0) || !isfinite(p) || !(tol > 0) || max_iter < 1)
		return wn_errf(err, errlen, "Lewis weights need p > 0, tol > 0, max_iter >= 1"), -1;
	struct work wk;
	if (work_alloc(&wk, A->d, err, errlen))
		return -1;
	double *f = malloc(sizeof(double) * (size_t)(A->n ? A->n : 1));
	double *tau = malloc(sizeof(double) * (size_t)(A->n ? A->n : 1));
	int rc = -1;
	if (!f || !tau) {
		wn_errf(err, errlen, "out of memory");
		goto out;
	}
	info->damped = p >= 4;
	for (int64_t i = 0; i < A->n; i++)
		w[i] = 1.0;
	double beta = 1.0 - 2.0 / p;
	for (int it = 1; it <= max_iter; it++) {
		for (int64_t i = 0; i < A->n; i++)
			f[i] = w[i] > 0 ? pow(w[i], beta) : 0.0;
		if (leverage_pass(A, f, 0.0, &wk, tau, info, err, errlen))
			goto out;
		info->change = lewis_update(w, tau, A->n, p, info->damped);
		info->iters = it;
		if (info->change <= tol) {
			rc = 0;
			break;
		}
	}
	if (rc)
		wn_errf(err, errlen, "Lewis weights (p = %g) did not converge in %d iterations "
			"(relative change %.3g > %.3g)", p, max_iter, info->change, tol);
	info->sum = sum_of(w, A->n);
out:
	free(f);
	free(tau);
	work_free(&wk);
	return rc;
}

double wn_sens_lewis_bound(double w, double p, int64_t d)
{
	return p <= 2 ? w : pow((double)d, p / 2.0 - 1.0) * w;
}

int wn_sens_kmeans_lightweight(const wn_sens_matrix *A, double *q, wn_sens_info *info,
			       char *err, size_t errlen)
{
	memset(info, 0, sizeof *info);
	if (check_shape(A, err, errlen))
		return -1;
	int64_t n = A->n, d = A->d;
	double *mu = calloc((size_t)d, sizeof(double));
	double *buf = malloc(sizeof(double) * (size_t)(BLK * d));
	if (!mu || !buf) {
		free(mu);
		free(buf);
		return wn_errf(err, errlen, "out of memory"), -1;
	}
	for (int64_t i0 = 0; i0 < n; i0 += BLK) {
		int64_t rows = n - i0 < BLK ? n - i0 : BLK;
		const double *B = get_block(A, i0, rows, buf);
		for (int64_t r = 0; r < rows; r++)
			for (int64_t j = 0; j < d; j++)
				mu[j] += B[r * d + j];
	}
	for (int64_t j = 0; j < d; j++)
		mu[j] /= (double)(n ? n : 1);
	double total = 0;
	for (int64_t i0 = 0; i0 < n; i0 += BLK) {
		int64_t rows = n - i0 < BLK ? n - i0 : BLK;
		const double *B = get_block(A, i0, rows, buf);
		for (int64_t r = 0; r < rows; r++) {
			double s = 0;
			for (int64_t j = 0; j < d; j++) {
				double x = B[r * d + j] - mu[j];
				s += x * x;
			}
			q[i0 + r] = s;
			total += s;
		}
	}
	for (int64_t i = 0; i < n; i++)
		q[i] = total > 0 ? 0.5 / (double)n + 0.5 * q[i] / total : 1.0 / (double)n;
	free(mu);
	free(buf);
	info->rank = 0;
	info->sum = sum_of(q, n);
	return 0;
}

/* ---- the bicriteria bound ---- */

/* Row i as float64 (into tmp when A is float32). */
static const double *get_row(const wn_sens_matrix *A, int64_t i, double *tmp)
{
	return get_block(A, i, 1, tmp);
}

/* dist[i] = min(dist[i], |a_i − a_c|²), assign[i] = j where it improved. */
static void d2_update(const wn_sens_matrix *A, int64_t c, int64_t j, double *dist, int64_t *assign)
{
	int64_t d = A->d;
	double *ctr = malloc(sizeof(double) * (size_t)d);
	if (!ctr)
		return;
	const double *src = get_row(A, c, ctr);
	if (src != ctr)
		memcpy(ctr, src, sizeof(double) * (size_t)d);
#pragma omp parallel
	{
		double *tmp = malloc(sizeof(double) * (size_t)d);
#pragma omp for schedule(static)
		for (int64_t i = 0; i < A->n; i++) {
			const double *x = get_row(A, i, tmp);
			double s = 0;
			for (int64_t t = 0; t < d; t++)
				s += (x[t] - ctr[t]) * (x[t] - ctr[t]);
			if (j == 0 || s < dist[i]) {
				dist[i] = s;
				assign[i] = j;
			}
		}
		free(tmp);
	}
	free(ctr);
}

/* k-means++ seeding: the centres' rows into centers; returns how many. */
static int64_t dsq_seed(const wn_sens_matrix *A, int64_t k, uint64_t seed, double *dist,
			int64_t *assign, int64_t *centers)
{
	wn_rng r;
	wn_rng_init(&r, seed, WN_RNG_STREAM_KMEANS_INIT ^ 0x1900);
	int64_t c = (int64_t)wn_rng_next_below(&r, (uint64_t)A->n), got = 0;
	for (;;) {
		centers[got] = c;
		d2_update(A, c, got, dist, assign);
		if (++got == k)
			break;
		double total = 0;
		for (int64_t i = 0; i < A->n; i++)
			total += dist[i];
		if (!(total > 0))
			break; /* every row sits on a centre */
		double u = wn_rng_next_uniform(&r) * total, cum = 0;
		c = -1;
		for (int64_t i = 0; i < A->n && c < 0; i++)
			if (dist[i] > 0 && (cum += dist[i]) > u)
				c = i;
		for (int64_t i = A->n - 1; c < 0 && i >= 0; i--) /* u rounded to the total */
			if (dist[i] > 0)
				c = i;
	}
	return got;
}

int wn_sens_kmeans_bicriteria(const wn_sens_matrix *A, int64_t k, uint64_t seed, double *q,
			      int64_t *centers, wn_sens_info *info, char *err, size_t errlen)
{
	memset(info, 0, sizeof *info);
	if (check_shape(A, err, errlen))
		return -1;
	if (k < 1 || A->n < 1)
		return wn_errf(err, errlen, "the bicriteria bound needs k >= 1 and rows"), -1;
	int64_t n = A->n, kk = k < n ? k : n;
	double *dist = malloc(sizeof(double) * (size_t)n), *csum = calloc((size_t)kk, sizeof(double));
	int64_t *assign = malloc(sizeof(int64_t) * (size_t)n), *csize = calloc((size_t)kk, sizeof(int64_t));
	int64_t *ctr = malloc(sizeof(int64_t) * (size_t)kk);
	int rc = -1;
	if (!dist || !csum || !assign || !csize || !ctr) {
		wn_errf(err, errlen, "out of memory");
		goto out;
	}
	int64_t got = dsq_seed(A, kk, seed, dist, assign, ctr);
	double phi = 0;
	for (int64_t i = 0; i < n; i++) {
		csum[assign[i]] += dist[i];
		csize[assign[i]]++;
		phi += dist[i];
	}
	double alpha = 16.0 * (log((double)k) + 2.0), cphi = phi / (double)n, total = 0;
	for (int64_t i = 0; i < n; i++) {
		int64_t b = assign[i];
		double s = 4.0 * (double)n / (double)csize[b];
		if (cphi > 0)
			s += alpha * dist[i] / cphi + 2.0 * alpha * csum[b] / ((double)csize[b] * cphi);
		q[i] = s;
		total += s;
	}
	for (int64_t i = 0; i < n; i++)
		q[i] /= total;
	for (int64_t j = 0; centers && j < k; j++)
		centers[j] = j < got ? ctr[j] : -1;
	info->rank = got;
	info->sum = sum_of(q, n);
	rc = 0;
out:
	free(dist);
	free(csum);
	free(assign);
	free(csize);
	free(ctr);
	return rc;
}
