/*
 * core/cpu_dense.c — CPU GEMM and row reductions.
 *
 * Owns: wn_cpu_gemm_batched (OpenBLAS cblas_sgemm on fixed tiles spread
 * over OpenMP threads), its float64 sibling for float32 rows
 * (wn_core_gemm64_tiles, core/gemm64.h: k-means++'s products), the OpenBLAS
 * one-thread bracket both use, row squared norms and row normalisation.
 * Borrows: OpenBLAS (cblas.h), OpenMP; the CPU state (core/internal.h).
 * Why: the CPU twin of the CUDA backend's cuBLAS calls, with results that
 * do not depend on the thread count (see wn_cpu_gemm_batched); each row
 * reduction runs on one thread in a fixed (SIMD-lane) order for the same
 * reason.
 */
#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/gemm64.h"
#include "core/internal.h"

/* Rows-times-columns at least this large are worth an OpenMP team. */
#define PAR_MIN 32768

#define GEMM_PAR_FLOPS (1 << 20) /* smaller products run on one thread */

static int fits_int(int64_t v)
{
	return v >= 0 && v <= INT_MAX;
}

static int gemm_check(struct wn_cpu *st, int ta, int tb, int64_t m, int64_t n, int64_t k,
		      int64_t lda, int64_t ldb, int64_t ldc)
{
	if (!fits_int(m) || !fits_int(n) || !fits_int(k) || !fits_int(lda) || !fits_int(ldb) ||
	    !fits_int(ldc))
		return wn_cpu_fail(st, WN_CORE_EINVAL,
				   "gemm: sizes beyond the 32-bit BLAS interface (m %lld, n %lld, k %lld)",
				   (long long)m, (long long)n, (long long)k);
	if (!wn_gemm_ld_ok(ta, tb, m, n, k, lda, ldb, ldc))
		return wn_cpu_fail(st, WN_CORE_EINVAL,
				   "gemm: leading dimension too small (lda %lld, ldb %lld, ldc %lld)",
				   (long long)lda, (long long)ldb, (long long)ldc);
	return 0;
}

/* k == 0: the product is empty and C = beta * C (beta 0 clears NaNs too). */
static void scale_c(float *C, int64_t m, int64_t n, int64_t ldc, float beta)
{
	for (int64_t i = 0; i < m; i++)
		for (int64_t j = 0; j < n; j++)
			C[i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
}

/*
 * One tile of one product: rows [i0, i0+mm) and columns [j0, j0+nn) of C,
 * computed by a single-threaded sgemm on the matching slices of A and B.
 */
struct gemm_job {
	int ta, tb;
	int64_t m, n, k;
	float alpha, beta;
	const float *A, *B;
	float *C;
	int64_t lda, ldb, ldc, sa, sb, sc;
	int64_t mb, nb; /* tile size */
	int64_t tm, tn; /* tiles per product along m and n */
};

/*
 * Tile shape, a function of (m, n) only. Each tile repacks its slices of A
 * and B, which costs memory traffic the flops cannot hide when tiles are
 * small: 256-row tiles the full width of C (up to 4096 columns) measured
 * within a few percent of OpenBLAS's own threading here, where 128 x 512
 * tiles lost 10-20%. Products of few rows are cut along n instead, so
 * they still spread over threads.
 */
static void gemm_tile_shape(int64_t m, int64_t n, int64_t *mb, int64_t *nb)
{
	*mb = 256;
	if (m >= 512) {
		*nb = n < 4096 ? n : 4096;
	} else {
		int64_t t = ((n + 7) / 8 + 63) / 64 * 64;
		*nb = t < 512 ? 512 : t;
	}
}

static void gemm_tile(const struct gemm_job *g, int64_t t)
{
	int64_t per = g->tm * g->tn, b = t / per, r = t % per;
	int64_t i0 = (r / g->tn) * g->mb, j0 = (r % g->tn) * g->nb;
	int64_t mm = g->m - i0 < g->mb ? g->m - i0 : g->mb;
	int64_t nn = g->n - j0 < g->nb ? g->n - j0 : g->nb;
	const float *A = g->A + b * g->sa + (g->ta ? i0 : i0 * g->lda);
	const float *B = g->B + b * g->sb + (g->tb ? j0 * g->ldb : j0);
	float *C = g->C + b * g->sc + i0 * g->ldc + j0;
	if (g->k == 0) {
		scale_c(C, mm, nn, g->ldc, g->beta);
		return;
	}
	cblas_sgemm(CblasRowMajor, g->ta ? CblasTrans : CblasNoTrans,
		    g->tb ? CblasTrans : CblasNoTrans, (int)mm, (int)nn, (int)g->k, g->alpha, A,
		    (int)g->lda, B, (int)g->ldb, g->beta, C, (int)g->ldc);
}

/*
 * OpenBLAS's own threading splits C differently for each thread count, and
 * its edge kernels sum in a different order than its main kernel, so the
 * same product differs in the last bits between 1 and 2 threads (measured:
 * thousands of entries of a 512x50x48 product). We cut C into tiles whose
 * shape depends only on (m, n), run each tile as a one-thread sgemm, and
 * spread the tiles (and batch entries) over OpenMP threads: every entry is
 * computed by the same kernel call whatever the thread count. The caller
 * has put OpenBLAS in one-thread mode (wn_cpu_blas_single_begin).
 */
int wn_cpu_gemm_tiled(void *state, int ta, int tb, int64_t m, int64_t n, int64_t k,
			float alpha, const float *A, int64_t lda, int64_t strideA,
			const float *B, int64_t ldb, int64_t strideB,
			float beta, float *C, int64_t ldc, int64_t strideC, int64_t batch)
{
	struct wn_cpu *st = state;
	int rc = gemm_check(st, ta, tb, m, n, k, lda, ldb, ldc);
	if (rc)
		return rc;
	if (m == 0 || n == 0 || batch <= 0)
		return 0;
	struct gemm_job g = {
		.ta = ta, .tb = tb, .m = m, .n = n, .k = k, .alpha = alpha, .beta = beta,
		.A = A, .B = B, .C = C, .lda = lda, .ldb = ldb, .ldc = ldc,
		.sa = strideA, .sb = strideB, .sc = strideC,
	};
	gemm_tile_shape(m, n, &g.mb, &g.nb);
	g.tm = (m + g.mb - 1) / g.mb;
	g.tn = (n + g.nb - 1) / g.nb;
	int64_t tasks = batch * g.tm * g.tn;
	double flops = 2.0 * (double)m * (double)n * (double)k * (double)batch;
#pragma omp parallel for num_threads(st->threads) schedule(dynamic, 1) \
	if (tasks > 1 && flops >= GEMM_PAR_FLOPS)
	for (int64_t t = 0; t < tasks; t++)
		gemm_tile(&g, t);
	return 0;
}

int wn_cpu_blas_single_begin(void)
{
	int prev = openblas_get_num_threads();
	openblas_set_num_threads(1);
	return prev;
}

void wn_cpu_blas_single_end(int prev)
{
	openblas_set_num_threads(prev);
}

/* ---- float64 products of float32 rows, tile by tile (core/gemm64.h) ---- */

#define GEMM64_PAR_MIN (1 << 20) /* fewer multiply-adds run on one thread */

struct gemm64_job {
	const double *A;
	const float *X;
	int64_t n, d, rows;
	int nc;
	wn_core_tile64_fn fn;
	void *ctx;
};

/* Tile t: its rows upcast into w, one dgemm into the rest of w, then fn. */
static void gemm64_tile(const struct gemm64_job *j, int64_t t, double *w)
{
	int64_t d = j->d, i0 = t * j->rows, m = j->n - i0 < j->rows ? j->n - i0 : j->rows;
	double *Xb = w, *P = w + (size_t)m * (size_t)d;
	const float *x = j->X + (size_t)i0 * (size_t)d;
#pragma omp simd /* GCC's -O2 leaves this copy scalar */
	for (int64_t k = 0; k < m * d; k++)
		Xb[k] = x[k];
	cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, j->nc, (int)m, (int)d, 1.0, j->A,
		    (int)d, Xb, (int)d, 0.0, P, (int)m);
	j->fn(j->ctx, t, i0, m, P);
}

int wn_core_gemm64_tiles(const double *A, int nc, const float *X, int64_t n, int64_t d,
			 int64_t rows, int threads, wn_core_tile64_fn fn, void *ctx)
{
	if (nc < 1 || n < 1 || d < 1 || rows < 1 || !fits_int(d) || !fits_int(rows))
		return WN_CORE_EINVAL;
	struct gemm64_job j = {A, X, n, d, rows, nc, fn, ctx};
	int64_t tiles = (n + rows - 1) / rows;
	size_t wsize = (size_t)rows * (size_t)(d + nc);
	int par = (double)n * (double)d * nc >= GEMM64_PAR_MIN && tiles > 1, fail = 0;
	int prev = wn_cpu_blas_single_begin();
#pragma omp parallel num_threads(threads > 0 ? threads : 1) if (par) reduction(| : fail)
	{
		double *w = malloc(sizeof(double) * wsize);
#pragma omp for schedule(dynamic, 1)
		for (int64_t t = 0; t < tiles; t++) {
			if (w)
				gemm64_tile(&j, t, w);
			else
				fail = 1;
		}
		free(w);
	}
	wn_cpu_blas_single_end(prev);
	return fail ? WN_CORE_ENOMEM : 0;
}

int wn_cpu_gemm_batched(void *state, int ta, int tb, int64_t m, int64_t n, int64_t k,
			float alpha, const float *A, int64_t lda, int64_t strideA,
			const float *B, int64_t ldb, int64_t strideB,
			float beta, float *C, int64_t ldc, int64_t strideC, int64_t batch)
{
	int prev = wn_cpu_blas_single_begin();
	int rc = wn_cpu_gemm_tiled(state, ta, tb, m, n, k, alpha, A, lda, strideA, B, ldb,
				   strideB, beta, C, ldc, strideC, batch);
	wn_cpu_blas_single_end(prev);
	return rc;
}

int wn_cpu_row_sqnorms(void *state, const float *X, int64_t n, int64_t d, float *out)
{
	struct wn_cpu *st = state;
#pragma omp parallel for num_threads(st->threads) schedule(static) if (n * d >= PAR_MIN)
	for (int64_t i = 0; i < n; i++) {
		const float *x = X + i * d;
		float s = 0;
#pragma omp simd reduction(+ : s)
		for (int64_t j = 0; j < d; j++)
			s += x[j] * x[j];
		out[i] = s;
	}
	return 0;
}

int wn_cpu_row_normalize(void *state, float *X, int64_t n, int64_t d)
{
	struct wn_cpu *st = state;
#pragma omp parallel for num_threads(st->threads) schedule(static) if (n * d >= PAR_MIN)
	for (int64_t i = 0; i < n; i++) {
		float *x = X + i * d;
		float s = 0;
#pragma omp simd reduction(+ : s)
		for (int64_t j = 0; j < d; j++)
			s += x[j] * x[j];
		if (s > 0) {
			float inv = 1.0f / sqrtf(s);
			for (int64_t j = 0; j < d; j++)
				x[j] *= inv;
		}
	}
	return 0;
}
