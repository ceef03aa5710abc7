/*
 * core/cpu_solve.c — the dense float64 solve behind leverage scores and
 * Lewis weights (issue 19; API in core/core.h, "dense solve" block):
 *
 *  - a Gram accumulator G = Σ f_i x_i x_iᵀ over row blocks, fed a batch at a
 *    time (so the rows may stream from disk: memory O(d² + batch));
 *  - the factor of G + λI: equilibrated (D G D, D = diag(G)^{-1/2}, which
 *    leaves every quadratic form unchanged and keeps the factor well
 *    scaled), LAPACK dpotrf; when it fails or dpocon's reciprocal condition
 *    number is below max(n,d)·eps, an eigen-decomposition (dsyev) whose
 *    eigenvalues <= λ_max·max(n,d)·eps are dropped (a pseudo-inverse), the
 *    number kept being the rank reported;
 *  - the quadratic forms x_iᵀ(G + λI)⁺x_i of a batch of rows: a triangular
 *    solve per block (dtrsm) or a GEMM with V Λ^{-1/2}.
 *
 * Two paths, chosen when the accumulator or solve is made:
 *  - float64 (the default, and the only one without a context): cblas
 *    dsyrk/dtrsm on the host, single-threaded BLAS per block with our own
 *    threads over fixed blocks. Block b (counted over the accumulator's
 *    life, BLK rows each) goes into partial b mod NP, NP depending on d
 *    only; partials are added in order. Same bits at any thread count.
 *  - GEMM (use_gemm): each batch's XᵀX is one float32 wn_core_gemm on the
 *    context's device (cuBLAS on CUDA), added to the float64 total on the
 *    host; the second pass is one float32 GEMM of the rows with the inverse
 *    factor F = D U⁻¹ (or D V Λ^{-1/2}) and wn_core_row_sqnorms, on the
 *    device. The d×d factorisation stays on the CPU in float64. Accuracy
 *    is float32's (about 1e-6 relative times the condition number of G).
 *
 * Owns: the accumulator's partials, the factor, the device buffers of the
 * GEMM path. Borrows: the context (GEMM path), OpenBLAS, LAPACK (Fortran
 * symbols declared here: Debian has no lapacke.h on this image).
 */
#include <cblas.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/internal.h"

extern void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info);
extern void dpocon_(const char *uplo, const int *n, const double *a, const int *lda,
		    const double *anorm, double *rcond, double *work, int *iwork, int *info);
extern void dsyev_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda,
		   double *w, double *work, const int *lwork, int *info);
extern void dtrtri_(const char *uplo, const char *diag, const int *n, double *a, const int *lda,
		    int *info);

#define BLK WN_CORE_GRAM_BLOCK
#define NP_MAX 8
#define PART_MEM ((int64_t)512 << 20)

struct wn_core_gram {
	wn_core *core;     /* GEMM path only (borrowed) */
	int64_t d, np;     /* np partials of d×d (upper triangle filled) */
	int64_t blocks;    /* blocks added so far (float64 path) */
	int64_t rows;      /* rows added so far */
	double *P;         /* np × d × d */
	double *G;         /* the full symmetric sum (wn_core_gram_matrix) */
	float *x32, *dx, *dg; /* GEMM path: host batch, device batch, device d×d */
	int64_t cap;       /* rows the GEMM buffers hold */
};

int64_t wn_core_gram_partials(int64_t d)
{
	int64_t np = NP_MAX;
	while (np > 1 && np * d * d * 8 > PART_MEM)
		np--;
	return np;
}

wn_core_gram *wn_core_gram_new(wn_core *c, int64_t d, int use_gemm)
{
	if (d < 1 || d > 65536 || (use_gemm && !c))
		return NULL;
	wn_core_gram *g = calloc(1, sizeof *g);
	if (!g)
		return NULL;
	g->d = d;
	g->core = use_gemm ? c : NULL;
	g->np = use_gemm ? 1 : wn_core_gram_partials(d);
	g->P = calloc((size_t)(g->np * d * d), sizeof(double));
	g->G = malloc(sizeof(double) * (size_t)(d * d));
	if (!g->P || !g->G) {
		wn_core_gram_free(g);
		return NULL;
	}
	return g;
}

static void gemm_buffers_free(wn_core_gram *g)
{
	if (g->core) {
		wn_core_free(g->core, g->dx);
		wn_core_free(g->core, g->dg);
	}
	free(g->x32);
	g->x32 = g->dx = g->dg = NULL;
	g->cap = 0;
}

void wn_core_gram_free(wn_core_gram *g)
{
	if (!g)
		return;
	gemm_buffers_free(g);
	free(g->P);
	free(g->G);
	free(g);
}

void wn_core_gram_reset(wn_core_gram *g)
{
	memset(g->P, 0, sizeof(double) * (size_t)(g->np * g->d * g->d));
	g->blocks = g->rows = 0;
}

int64_t wn_core_gram_rows(const wn_core_gram *g)
{
	return g->rows;
}

/* Row r of a batch as float64, scaled by sqrt(f_r) when f is given. */
static void row64(const float *X32, const double *X64, const double *f, int64_t r, int64_t d,
		  double *out)
{
	double s = f ? sqrt(f[r] > 0 ? f[r] : 0) : 1.0;
	if (X64) {
		const double *x = X64 + r * d;
		for (int64_t j = 0; j < d; j++)
			out[j] = f ? s * x[j] : x[j];
	} else {
		const float *x = X32 + r * d;
		for (int64_t j = 0; j < d; j++)
			out[j] = f ? s * (double)x[j] : (double)x[j];
	}
}

/* The float64 path: partial p gets the blocks b ≡ p (mod np) of this batch. */
static int gram_add64(wn_core_gram *g, const float *X32, const double *X64, int64_t rows,
		      const double *f)
{
	int64_t d = g->d, nb = (rows + BLK - 1) / BLK, np = g->np, b0 = g->blocks;
	int fail = 0;
	int prev = wn_cpu_blas_single_begin();
#pragma omp parallel for schedule(static, 1) reduction(| : fail)
	for (int64_t p = 0; p < np; p++) {
		double *buf = NULL;
		for (int64_t b = 0; b < nb; b++) {
			if ((b0 + b) % np != p)
				continue;
			if (!buf && !(buf = malloc(sizeof(double) * (size_t)(BLK * d)))) {
				fail = 1;
				break;
			}
			int64_t i0 = b * BLK, n = rows - i0 < BLK ? rows - i0 : BLK;
			for (int64_t r = 0; r < n; r++)
				row64(X32, X64, f, i0 + r, d, buf + r * d);
			cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)d, (int)n, 1.0, buf,
				    (int)d, 1.0, g->P + p * d * d, (int)d);
		}
		free(buf);
	}
	wn_cpu_blas_single_end(prev);
	g->blocks += nb;
	return fail ? WN_CORE_ENOMEM : 0;
}

/* Make the GEMM path's buffers hold `rows` rows of d floats. */
static int gemm_reserve(wn_core *c, float **host, float **dev, int64_t *cap, int64_t rows,
			int64_t d)
{
	if (rows <= *cap)
		return 0;
	wn_core_free(c, *dev);
	free(*host);
	*host = malloc(sizeof(float) * (size_t)(rows * d));
	*dev = wn_core_alloc(c, (size_t)(rows * d));
	if (!*host || !*dev) {
		wn_core_free(c, *dev);
		free(*host);
		*host = NULL, *dev = NULL, *cap = 0;
		return WN_CORE_ENOMEM;
	}
	*cap = rows;
	return 0;
}

/* The GEMM path: G += XᵀX of the (scaled) batch, one float32 GEMM on the device. */
static int gram_add_gemm(wn_core_gram *g, const float *X32, const double *X64, int64_t rows,
			 const double *f)
{
	wn_core *c = g->core;
	int64_t d = g->d;
	int rc = gemm_reserve(c, &g->x32, &g->dx, &g->cap, rows, d);
	if (!rc && !g->dg && !(g->dg = wn_core_alloc(c, (size_t)(d * d))))
		rc = WN_CORE_ENOMEM;
	float *gh = rc ? NULL : malloc(sizeof(float) * (size_t)(d * d));
	if (!rc && !gh)
		rc = WN_CORE_ENOMEM;
	for (int64_t r = 0; !rc && r < rows; r++) {
		double s = f ? sqrt(f[r] > 0 ? f[r] : 0) : 1.0;
		for (int64_t j = 0; j < d; j++)
			g->x32[r * d + j] = (float)(s * (X64 ? X64[r * d + j] : (double)X32[r * d + j]));
	}
	if (!rc)
		rc = wn_core_upload(c, g->dx, g->x32, sizeof(float) * (size_t)(rows * d));
	if (!rc)
		rc = wn_core_gemm(c, 1, 0, d, d, rows, 1.0f, g->dx, d, g->dx, d, 0.0f, g->dg, d);
	if (!rc)
		rc = wn_core_download(c, gh, g->dg, sizeof(float) * (size_t)(d * d));
	for (int64_t k = 0; !rc && k < d * d; k++)
		g->P[k] += (double)gh[k];
	free(gh);
	return rc;
}

int wn_core_gram_add(wn_core_gram *g, const float *X32, const double *X64, int64_t rows,
		     const double *f)
{
	if (rows < 0 || (rows > 0 && !X32 == !X64))
		return WN_CORE_EINVAL;
	if (rows == 0)
		return 0;
	int rc = g->core ? gram_add_gemm(g, X32, X64, rows, f) : gram_add64(g, X32, X64, rows, f);
	if (!rc)
		g->rows += rows;
	return rc;
}

const double *wn_core_gram_matrix(wn_core_gram *g)
{
	int64_t d = g->d;
	memcpy(g->G, g->P, sizeof(double) * (size_t)(d * d));
	for (int64_t p = 1; p < g->np; p++)
		for (int64_t k = 0; k < d * d; k++)
			g->G[k] += g->P[p * d * d + k];
	for (int64_t j = 0; j < d; j++) /* the upper triangle is the sum; mirror it */
		for (int64_t k = 0; k < j; k++)
			g->G[j * d + k] = g->G[k * d + j];
	return g->G;
}

/* ---- the factor ---------------------------------------------------------- */

struct wn_core_solve {
	wn_core *core;  /* GEMM path only (borrowed) */
	int64_t d, r;   /* r: columns of F (d for Cholesky, the rank for eigen) */
	int64_t rank;
	int method;     /* WN_CORE_SOLVE_CHOLESKY or _EIGEN */
	double *D;      /* d: the equilibration */
	double *F;      /* Cholesky: U (d×d upper, row-major, G = UᵀU); eigen: d×r, V Λ^{-1/2} */
	float *dF;      /* GEMM path: D·U⁻¹ or D·VΛ^{-1/2} (d×r) on the device */
	float *x32, *dx, *dy, *dn, *n32;
	int64_t cap, ncap;
};

void wn_core_solve_free(wn_core_solve *q)
{
	if (!q)
		return;
	if (q->core) {
		wn_core_free(q->core, q->dF);
		wn_core_free(q->core, q->dx);
		wn_core_free(q->core, q->dy);
		wn_core_free(q->core, q->dn);
	}
	free(q->x32);
	free(q->n32);
	free(q->D);
	free(q->F);
	free(q);
}

int64_t wn_core_solve_rank(const wn_core_solve *q) { return q->rank; }
int wn_core_solve_method(const wn_core_solve *q) { return q->method; }

static int fail_line(char *err, size_t errlen, int code, const char *what)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", what);
	return code;
}

/* Eigen fallback on the equilibrated M (d×d, destroyed). */
static int solve_eigen(wn_core_solve *q, double *M, int64_t nrows, char *err, size_t errlen)
{
	int dd = (int)q->d, info = 0, lwork = -1;
	double wq = 0, *lam = malloc(sizeof(double) * (size_t)q->d);
	if (!lam)
		return fail_line(err, errlen, WN_CORE_ENOMEM, "out of memory");
	dsyev_("V", "U", &dd, M, &dd, lam, &wq, &lwork, &info);
	lwork = (int)wq;
	double *work = malloc(sizeof(double) * (size_t)(lwork > 1 ? lwork : 1));
	if (!work) {
		free(lam);
		return fail_line(err, errlen, WN_CORE_ENOMEM, "out of memory");
	}
	dsyev_("V", "U", &dd, M, &dd, lam, work, &lwork, &info);
	free(work);
	if (info != 0) {
		free(lam);
		if (err && errlen)
			snprintf(err, errlen, "eigen-decomposition failed (dsyev info %d)", info);
		return WN_CORE_EDEVICE;
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
		return fail_line(err, errlen, WN_CORE_ENOMEM, "out of memory");
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
	q->r = q->rank = r;
	q->method = WN_CORE_SOLVE_EIGEN;
	return 0;
}

/* M = D (G + λI) D into M (d×d); q->D set; returns the 1-norm of M. */
static double equilibrate(wn_core_solve *q, const double *G, double ridge, double *M)
{
	int64_t d = q->d;
	for (int64_t j = 0; j < d; j++) {
		double g = G[j * d + j] + ridge;
		q->D[j] = g > 0 ? 1.0 / sqrt(g) : 0.0;
	}
	double anorm = 0;
	for (int64_t j = 0; j < d; j++) {
		double col = 0;
		for (int64_t k = 0; k < d; k++) {
			double g = G[j * d + k] + (j == k ? ridge : 0.0);
			M[j * d + k] = g * q->D[j] * q->D[k];
			col += fabs(M[j * d + k]);
		}
		anorm = col > anorm ? col : anorm;
	}
	return anorm;
}

/* dpotrf on M (row-major upper U with M = UᵀU); 1 when well conditioned. */
static int try_cholesky(int64_t d, double *M, double anorm, int64_t nrows)
{
	int dd = (int)d, info = 0;
	dpotrf_("L", &dd, M, &dd, &info); /* column-major lower = row-major upper */
	double rcond = 0;
	if (info == 0) {
		double *work = malloc(sizeof(double) * (size_t)(3 * d));
		int *iwork = malloc(sizeof(int) * (size_t)d);
		if (work && iwork)
			dpocon_("L", &dd, M, &dd, &anorm, &rcond, work, iwork, &info);
		free(work);
		free(iwork);
	}
	return info == 0 && rcond > (double)(nrows > d ? nrows : d) * DBL_EPSILON;
}

/* The GEMM path's inverse factor, D·U⁻¹ or D·V Λ^{-1/2}, as float32 on the device. */
static int solve_upload(wn_core_solve *q)
{
	int64_t d = q->d, r = q->r ? q->r : 1;
	double *inv = NULL;
	if (q->method == WN_CORE_SOLVE_CHOLESKY) {
		int dd = (int)d, info = 0;
		if (!(inv = malloc(sizeof(double) * (size_t)(d * d))))
			return WN_CORE_ENOMEM;
		memcpy(inv, q->F, sizeof(double) * (size_t)(d * d));
		dtrtri_("L", "N", &dd, inv, &dd, &info); /* row-major upper U⁻¹ */
		if (info != 0) {
			free(inv);
			return WN_CORE_EDEVICE;
		}
	}
	const double *src = inv ? inv : q->F;
	float *h = malloc(sizeof(float) * (size_t)(d * r));
	q->dF = wn_core_alloc(q->core, (size_t)(d * r));
	int rc = h && q->dF ? 0 : WN_CORE_ENOMEM;
	for (int64_t k = 0; !rc && k < d; k++)
		for (int64_t c = 0; c < q->r; c++)
			h[k * r + c] = (float)(q->D[k] *
					       (inv && c < k ? 0.0 : src[k * q->r + c]));
	if (!rc)
		rc = wn_core_upload(q->core, q->dF, h, sizeof(float) * (size_t)(d * q->r));
	free(h);
	free(inv);
	return rc;
}

wn_core_solve *wn_core_solve_new(wn_core *c, const double *G, int64_t d, double ridge,
				 int64_t nrows, int use_gemm, char *err, size_t errlen)
{
	if (d < 1 || !(ridge >= 0) || (use_gemm && !c)) {
		fail_line(err, errlen, WN_CORE_EINVAL, "solve: bad arguments");
		return NULL;
	}
	wn_core_solve *q = calloc(1, sizeof *q);
	double *M = malloc(sizeof(double) * (size_t)(d * d));
	double *E = malloc(sizeof(double) * (size_t)(d * d));
	if (q)
		q->D = malloc(sizeof(double) * (size_t)d);
	if (!q || !M || !E || !q->D) {
		free(M), free(E), wn_core_solve_free(q);
		fail_line(err, errlen, WN_CORE_ENOMEM, "out of memory");
		return NULL;
	}
	q->d = d;
	q->core = use_gemm ? c : NULL;
	double anorm = equilibrate(q, G, ridge, M);
	memcpy(E, M, sizeof(double) * (size_t)(d * d));
	int rc = 0;
	if (try_cholesky(d, M, anorm, nrows)) {
		for (int64_t j = 0; j < d; j++) /* clear the strict lower part (row-major) */
			for (int64_t k = 0; k < j; k++)
				M[j * d + k] = 0;
		q->F = M, M = NULL;
		q->r = q->rank = d;
		q->method = WN_CORE_SOLVE_CHOLESKY;
	} else {
		rc = solve_eigen(q, E, nrows, err, errlen);
	}
	free(M);
	free(E);
	if (!rc && q->core && (rc = solve_upload(q))) {
		const char *why = wn_core_error(q->core);
		fail_line(err, errlen, rc, rc == WN_CORE_ENOMEM ? "out of memory for the inverse factor"
				     : why && *why ? why : "inverting the factor failed");
	}
	if (rc) {
		wn_core_solve_free(q);
		return NULL;
	}
	return q;
}

/* out[r] = τ of `rows` rows of a batch starting at row i0 (float64 path); Y, Z work (BLK×d). */
static void quad_block(const wn_core_solve *q, const float *X32, const double *X64, int64_t i0,
		       int64_t rows, double *out, double *Y, double *Z)
{
	int64_t d = q->d;
	for (int64_t r = 0; r < rows; r++) {
		row64(X32, X64, NULL, i0 + r, d, Y + r * d);
		for (int64_t j = 0; j < d; j++)
			Y[r * d + j] *= q->D[j];
	}
	const double *R = Y;
	int64_t w = d;
	if (q->method == WN_CORE_SOLVE_CHOLESKY) {
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

static int quad64(const wn_core_solve *q, const float *X32, const double *X64, int64_t rows,
		  double *out)
{
	int fail = 0;
	int64_t nb = (rows + BLK - 1) / BLK, d = q->d;
	int prev = wn_cpu_blas_single_begin();
#pragma omp parallel reduction(| : fail)
	{
		double *buf = malloc(sizeof(double) * (size_t)(2 * BLK * d));
#pragma omp for schedule(dynamic, 1)
		for (int64_t b = 0; b < nb; b++) {
			if (!buf) {
				fail = 1;
				continue;
			}
			int64_t i0 = b * BLK, n = rows - i0 < BLK ? rows - i0 : BLK;
			quad_block(q, X32, X64, i0, n, out + i0, buf, buf + BLK * d);
		}
		free(buf);
	}
	wn_cpu_blas_single_end(prev);
	return fail ? WN_CORE_ENOMEM : 0;
}

/* The GEMM path: Y = X F on the device, τ = row norms of Y. */
static int quad_gemm(wn_core_solve *q, const float *X32, const double *X64, int64_t rows,
		     double *out)
{
	wn_core *c = q->core;
	int64_t d = q->d, r = q->r;
	if (r == 0) {
		memset(out, 0, sizeof(double) * (size_t)rows);
		return 0;
	}
	int rc = gemm_reserve(c, &q->x32, &q->dx, &q->cap, rows, d);
	if (!rc && rows > q->ncap) {
		wn_core_free(c, q->dy), wn_core_free(c, q->dn), free(q->n32);
		q->dy = wn_core_alloc(c, (size_t)(rows * r));
		q->dn = wn_core_alloc(c, (size_t)rows);
		q->n32 = malloc(sizeof(float) * (size_t)rows);
		q->ncap = q->dy && q->dn && q->n32 ? rows : 0;
		rc = q->ncap ? 0 : WN_CORE_ENOMEM;
	}
	for (int64_t k = 0; !rc && X64 && k < rows * d; k++)
		q->x32[k] = (float)X64[k];
	if (!rc)
		rc = wn_core_upload(c, q->dx, X64 ? q->x32 : X32, sizeof(float) * (size_t)(rows * d));
	if (!rc)
		rc = wn_core_gemm(c, 0, 0, rows, r, d, 1.0f, q->dx, d, q->dF, r, 0.0f, q->dy, r);
	if (!rc)
		rc = wn_core_row_sqnorms(c, q->dy, rows, r, q->dn);
	if (!rc)
		rc = wn_core_download(c, q->n32, q->dn, sizeof(float) * (size_t)rows);
	for (int64_t i = 0; !rc && i < rows; i++)
		out[i] = (double)q->n32[i];
	return rc;
}

int wn_core_solve_quad(wn_core_solve *q, const float *X32, const double *X64, int64_t rows,
		       double *out)
{
	if (rows < 0 || (rows > 0 && !X32 == !X64))
		return WN_CORE_EINVAL;
	if (rows == 0)
		return 0;
	return q->core ? quad_gemm(q, X32, X64, rows, out) : quad64(q, X32, X64, rows, out);
}
