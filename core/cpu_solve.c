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
 *  - resident rows (wn_core_rows, GEMM path only): the batches of the first
 *    pass kept on the device while they fit a budget (half the free device
 *    memory), so later passes upload nothing and read nothing from the
 *    host; the same GEMMs on the same rows as the streaming path, hence the
 *    same bits (tests/unit/test_core_solve.c compares them on the CPU).
 *
 * Owns: the accumulator's partials, the factor, the device buffers of the
 * GEMM path, the resident rows and their scratch. Borrows: the context (GEMM path), OpenBLAS, LAPACK (Fortran
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

/* ---- rows kept on the device (the GEMM path, issue 19 on the GPU) -------- */

/*
 * The matrix of the GEMM path, one device buffer per batch added, so that
 * later passes (leverage's second, every Lewis iteration's Gram matrix and
 * quadratic forms) read no host data. Each kept batch is one Gram partial,
 * exactly as wn_core_gram_add would have made it from the host batch: the
 * same GEMM on the same float32 rows (row weights applied on the device by
 * wn_core_scale_rows, which rounds as the host conversion does), the d×d
 * partials downloaded and added to the float64 total in batch order.
 */
struct wn_core_rows {
	wn_core *core;          /* borrowed */
	int64_t d, budget, kept; /* kept: bytes of the batches held */
	int64_t n, nb, cap, max_rows; /* rows, batches held, slots in chunk/rows */
	float **chunk;          /* device: batch b's rows (rows[b] × d) */
	int64_t *rows;
	int dropped;            /* a batch did not fit: nothing is held any more */
	float *x32;             /* host: a float64 batch converted */
	int64_t x32_rows;
	float *work;            /* device: max_rows × d (scaled rows, or X·F) */
	int64_t work_rows;
	double *ds;             /* device: the row scales of one Gram call */
	int64_t ds_cap;
	float *dn;              /* device: the quadratic forms of all rows */
	int64_t dn_cap;
	float *slots;           /* device: Gram partials waiting for download */
	int64_t nslot;
};

int64_t wn_core_rows_budget_of(int known, size_t free_bytes, const char *override)
{
	if (override && *override) {
		char *end;
		long long v = strtoll(override, &end, 10);
		if (!*end && v >= 0)
			return (int64_t)v;
	}
	return known ? (int64_t)(free_bytes / WN_CORE_RESIDENT_DIVISOR) : 0;
}

int64_t wn_core_rows_budget(wn_core *c)
{
	size_t fr = 0, tot = 0;
	int known = c && wn_core_mem_info(c, &fr, &tot) == 0;
	return c ? wn_core_rows_budget_of(known, fr, getenv("WINNOW_SOLVE_RESIDENT")) : 0;
}

wn_core_rows *wn_core_rows_new(wn_core *c, int64_t d, int64_t budget)
{
	if (!c || d < 1 || d > 65536)
		return NULL;
	wn_core_rows *R = calloc(1, sizeof *R);
	if (!R)
		return NULL;
	R->core = c;
	R->d = d;
	R->budget = budget;
	R->dropped = budget <= 0;
	return R;
}

static void rows_scratch_free(wn_core_rows *R)
{
	wn_core_free(R->core, R->work);
	wn_core_free(R->core, R->ds);
	wn_core_free(R->core, R->dn);
	wn_core_free(R->core, R->slots);
	free(R->x32);
	R->work = R->dn = R->slots = R->x32 = NULL;
	R->ds = NULL;
	R->work_rows = R->ds_cap = R->dn_cap = R->nslot = R->x32_rows = 0;
}

/* Give every batch back: the rows are no longer resident. */
static void rows_drop(wn_core_rows *R)
{
	for (int64_t b = 0; b < R->nb; b++)
		wn_core_free(R->core, R->chunk[b]);
	free(R->chunk);
	free(R->rows);
	R->chunk = NULL, R->rows = NULL;
	R->nb = R->cap = R->n = R->kept = 0;
	R->dropped = 1;
	rows_scratch_free(R);
}

void wn_core_rows_free(wn_core_rows *R)
{
	if (!R)
		return;
	rows_drop(R);
	free(R);
}

int wn_core_rows_resident(const wn_core_rows *R) { return R && !R->dropped; }
int64_t wn_core_rows_count(const wn_core_rows *R) { return R->n; }
int64_t wn_core_rows_batches(const wn_core_rows *R) { return R->nb; }

/* One more slot in chunk/rows; 0 or ENOMEM. */
static int rows_grow(wn_core_rows *R)
{
	if (R->nb < R->cap)
		return 0;
	int64_t cap = R->cap ? 2 * R->cap : 64;
	float **ch = realloc(R->chunk, sizeof *ch * (size_t)cap);
	if (ch)
		R->chunk = ch;
	int64_t *rw = ch ? realloc(R->rows, sizeof *rw * (size_t)cap) : NULL;
	if (!rw)
		return WN_CORE_ENOMEM;
	R->rows = rw;
	R->cap = cap;
	return 0;
}

int wn_core_rows_add(wn_core_rows *R, const float *X32, const double *X64, int64_t rows)
{
	if (rows < 1 || !X32 == !X64)
		return WN_CORE_EINVAL;
	if (R->dropped)
		return 0;
	int64_t bytes = rows * R->d * (int64_t)sizeof(float);
	if (R->kept + bytes > R->budget || rows_grow(R)) {
		rows_drop(R);
		return 0;
	}
	float *dev = wn_core_alloc(R->core, (size_t)(rows * R->d));
	if (!dev) { /* under the budget but not there after all: stream */
		rows_drop(R);
		return 0;
	}
	if (X64) {
		if (rows > R->x32_rows) {
			free(R->x32);
			R->x32_rows = (R->x32 = malloc(sizeof(float) * (size_t)(rows * R->d))) ? rows : 0;
		}
		if (!R->x32) {
			wn_core_free(R->core, dev);
			return WN_CORE_ENOMEM;
		}
		for (int64_t k = 0; k < rows * R->d; k++)
			R->x32[k] = (float)X64[k];
	}
	int rc = wn_core_upload(R->core, dev, X64 ? R->x32 : X32, (size_t)bytes);
	if (rc) {
		wn_core_free(R->core, dev);
		return rc;
	}
	R->chunk[R->nb] = dev;
	R->rows[R->nb++] = rows;
	R->n += rows;
	R->kept += bytes;
	R->max_rows = rows > R->max_rows ? rows : R->max_rows;
	return 1;
}

/* The device work buffer holds max_rows × d floats. */
static int rows_work(wn_core_rows *R)
{
	if (R->work_rows >= R->max_rows)
		return 0;
	wn_core_free(R->core, R->work);
	R->work = wn_core_alloc(R->core, (size_t)(R->max_rows * R->d));
	R->work_rows = R->work ? R->max_rows : 0;
	return R->work ? 0 : WN_CORE_ENOMEM;
}

/* The row scales sqrt(max(f, 0)) of `rows` rows on the device. */
static int rows_scales(wn_core_rows *R, const double *f, int64_t rows)
{
	if (rows > R->ds_cap) {
		wn_core_free(R->core, R->ds);
		R->ds = wn_core_alloc_bytes(R->core, sizeof(double) * (size_t)rows);
		R->ds_cap = R->ds ? rows : 0;
		if (!R->ds)
			return WN_CORE_ENOMEM;
	}
	double *h = malloc(sizeof(double) * (size_t)rows);
	if (!h)
		return WN_CORE_ENOMEM;
	for (int64_t r = 0; r < rows; r++)
		h[r] = sqrt(f[r] > 0 ? f[r] : 0);
	int rc = wn_core_upload(R->core, R->ds, h, sizeof(double) * (size_t)rows);
	free(h);
	return rc;
}

/* Download `k` partials and add them to P in order (host buffer h: k·d² floats). */
static int gram_flush(wn_core_gram *g, wn_core_rows *R, int64_t k, float *h)
{
	int64_t dd = g->d * g->d;
	int rc = wn_core_download(R->core, h, R->slots, sizeof(float) * (size_t)(k * dd));
	if (rc)
		return rc;
	/* each entry summed over the partials in batch order, whatever the thread */
#pragma omp parallel for schedule(static) if (k * dd >= 65536)
	for (int64_t e = 0; e < dd; e++)
		for (int64_t s = 0; s < k; s++)
			g->P[e] += (double)h[s * dd + e];
	return 0;
}

/* Partials waiting on the device at once: 64 MiB of them, 1 to 256. */
static int64_t gram_slots(int64_t d, int64_t batches)
{
	int64_t s = ((int64_t)64 << 20) / (d * d * (int64_t)sizeof(float));
	s = s < 1 ? 1 : s > 256 ? 256 : s;
	return s < batches ? s : batches;
}

static int rows_slots(wn_core_rows *R, int64_t want)
{
	if (R->nslot >= want)
		return 0;
	wn_core_free(R->core, R->slots);
	R->slots = wn_core_alloc(R->core, (size_t)(want * R->d * R->d));
	R->nslot = R->slots ? want : 0;
	return R->slots ? 0 : WN_CORE_ENOMEM;
}

int wn_core_gram_add_rows(wn_core_gram *g, wn_core_rows *R, int64_t first, const double *f)
{
	if (!g->core || g->core != R->core || R->dropped || g->d != R->d || first < 0 ||
	    first > R->nb)
		return WN_CORE_EINVAL;
	int64_t d = g->d, rows = 0, nk = gram_slots(d, R->nb - first);
	for (int64_t b = first; b < R->nb; b++)
		rows += R->rows[b];
	if (rows == 0)
		return 0;
	int rc = rows_slots(R, nk);
	if (!rc && f && !(rc = rows_work(R)))
		rc = rows_scales(R, f, rows);
	float *h = rc ? NULL : malloc(sizeof(float) * (size_t)(nk * d * d));
	if (!rc && !h)
		rc = WN_CORE_ENOMEM;
	int64_t k = 0, off = 0;
	for (int64_t b = first; !rc && b < R->nb; b++) {
		const float *X = R->chunk[b];
		if (f && !(rc = wn_core_scale_rows(R->core, X, R->ds + off, R->rows[b], d, R->work)))
			X = R->work;
		if (!rc)
			rc = wn_core_gemm(R->core, 1, 0, d, d, R->rows[b], 1.0f, X, d, X, d, 0.0f,
					  R->slots + k * d * d, d);
		off += R->rows[b];
		if (!rc && (++k == nk || b + 1 == R->nb)) {
			rc = gram_flush(g, R, k, h);
			k = 0;
		}
	}
	free(h);
	if (!rc)
		g->rows += rows;
	return rc;
}

int wn_core_solve_quad_rows(wn_core_solve *q, wn_core_rows *R, double *out)
{
	if (!q->core || q->core != R->core || R->dropped || q->d != R->d)
		return WN_CORE_EINVAL;
	int64_t d = q->d, r = q->r, n = R->n;
	if (n == 0 || r == 0) {
		memset(out, 0, sizeof(double) * (size_t)n);
		return 0;
	}
	int rc = rows_work(R); /* holds max_rows × r: r <= d */
	if (!rc && n > R->dn_cap) {
		wn_core_free(R->core, R->dn);
		R->dn = wn_core_alloc(R->core, (size_t)n);
		R->dn_cap = R->dn ? n : 0;
		rc = R->dn ? 0 : WN_CORE_ENOMEM;
	}
	for (int64_t b = 0, i0 = 0; !rc && b < R->nb; i0 += R->rows[b++]) {
		rc = wn_core_gemm(R->core, 0, 0, R->rows[b], r, d, 1.0f, R->chunk[b], d, q->dF, r,
				  0.0f, R->work, r);
		if (!rc)
			rc = wn_core_row_sqnorms(R->core, R->work, R->rows[b], r, R->dn + i0);
	}
	float *h = rc ? NULL : malloc(sizeof(float) * (size_t)n);
	if (!rc && !h)
		rc = WN_CORE_ENOMEM;
	if (!rc)
		rc = wn_core_download(R->core, h, R->dn, sizeof(float) * (size_t)n);
	for (int64_t i = 0; !rc && i < n; i++)
		out[i] = (double)h[i];
	free(h);
	return rc;
}
