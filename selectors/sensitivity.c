/*
 * selectors/sensitivity.c — leverage, Lewis weights and the lightweight
 * k-means coreset probabilities (see selectors/sensitivity.h): the passes
 * over a row source around the core's dense solve (core/cpu_solve.c: Gram
 * matrix, Cholesky or eigen factor, quadratic forms), or, on the GEMM path
 * when the rows fit on the device, the same passes over the rows kept
 * there (wn_core_rows); the Lewis iteration; and a whole matrix as a
 * source for the in-memory forms.
 */
#include "selectors/sensitivity.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "io/errf.h"

#define BLK 256 /* rows per block of the k-means scores */

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

static int check_shape(const wn_sens_matrix *A, char *err, size_t errlen)
{
	if (A->n < 0 || A->d < 1 || A->d > 65536 || (!A->a64 == !A->a32))
		return wn_errf(err, errlen, "bad matrix (%lld x %lld)", (long long)A->n,
			       (long long)A->d), -1;
	return 0;
}

static double sum_of(const double *v, int64_t n)
{
	double s = 0;
	for (int64_t i = 0; i < n; i++)
		s += v[i];
	return s;
}

int64_t wn_sens_batch_rows(int64_t d)
{
	int64_t blocks = ((int64_t)1 << 22) / (WN_CORE_GRAM_BLOCK * (d > 0 ? d : 1));
	blocks = blocks < 1 ? 1 : blocks > 32 ? 32 : blocks;
	return blocks * WN_CORE_GRAM_BLOCK;
}

/* ---- the passes ---- */

/* The rows the GEMM path keeps on gemm's device, or NULL (streaming). */
static wn_core_rows *resident_rows(wn_core *gemm, int64_t d)
{
	int64_t budget = gemm ? wn_core_rows_budget(gemm) : 0;
	return budget > 0 ? wn_core_rows_new(gemm, d, budget) : NULL;
}

/* After pass 1: R when every row stayed on the device, else NULL (R freed). */
static wn_core_rows *resident_after(wn_core_rows *R, wn_sens_info *info)
{
	if (R && !wn_core_rows_resident(R)) {
		wn_core_rows_free(R);
		R = NULL;
	}
	info->resident = R != NULL;
	return R;
}

/* One batch into G: from its copy on the device when R keeps it, else from the host. */
static int gram_batch(wn_core_gram *g, wn_core_rows *R, const float *X32, const double *X64,
		      int64_t rows, const double *f)
{
	int kept = R ? wn_core_rows_add(R, X32, X64, rows) : 0;
	if (kept < 0)
		return kept;
	return kept ? wn_core_gram_add_rows(g, R, wn_core_rows_batches(R) - 1, f)
		    : wn_core_gram_add(g, X32, X64, rows, f);
}

/* Pass: G = Σ f_i a_i a_iᵀ (f NULL = 1, else indexed by row); counts the rows;
 * R (may be NULL) keeps the batches it can. */
static int gram_pass(const wn_sens_source *src, wn_core_gram *g, wn_core_rows *R,
		     const double *f, int64_t *n, char *err, size_t errlen)
{
	const float *X32;
	const double *X64;
	int64_t rows, i = 0;
	int r;
	wn_core_gram_reset(g);
	if (src->rewind(src->ctx, err, errlen))
		return -1;
	while ((r = src->next(src->ctx, &X32, &X64, &rows, err, errlen)) > 0) {
		if (gram_batch(g, R, X32, X64, rows, f ? f + i : NULL))
			return wn_errf(err, errlen, "Gram matrix: out of memory or device error"), -1;
		i += rows;
	}
	*n = i;
	return r;
}

static int rewind_emit(const wn_sens_source *src, char *err, size_t errlen)
{
	return src->rewind_emit ? src->rewind_emit(src->ctx, err, errlen)
				: src->rewind(src->ctx, err, errlen);
}

/* The emitting pass of scores computed ahead (n of them, in row order): v
 * itself, or, given out (a batch of room), the Lewis bounds of v for p. */
static int emit_pass(const wn_sens_source *src, const double *v, double *out, double p,
		     wn_sens_sink_fn sink, void *sink_ctx, char *err, size_t errlen)
{
	const float *X32;
	const double *X64;
	int64_t rows, i = 0;
	int r;
	if (rewind_emit(src, err, errlen))
		return -1;
	while ((r = src->next(src->ctx, &X32, &X64, &rows, err, errlen)) > 0) {
		for (int64_t k = 0; out && k < rows; k++)
			out[k] = wn_sens_lewis_bound(v[i + k], p, src->d);
		if (sink(sink_ctx, out ? out : v + i, rows, err, errlen))
			return -1;
		i += rows;
	}
	return r;
}

static wn_core_solve *factor(wn_core_gram *g, wn_core *gemm, int64_t d, double ridge, int64_t n,
			     char *err, size_t errlen)
{
	return wn_core_solve_new(gemm, wn_core_gram_matrix(g), d, ridge, n, gemm != NULL, err,
				 errlen);
}

static void note_solve(wn_sens_info *info, const wn_core_solve *q, double ridge, int64_t d)
{
	info->rank = ridge > 0 ? d : wn_core_solve_rank(q);
	info->method = wn_core_solve_method(q) == WN_CORE_SOLVE_EIGEN ? WN_SENS_EIGEN
								      : WN_SENS_CHOLESKY;
}

/* Leverage's second pass from the source: τ of each batch to the sink. */
static int leverage_from_source(const wn_sens_source *src, wn_core_solve *q, double *tau,
				wn_sens_sink_fn sink, void *sink_ctx, wn_sens_info *info,
				char *err, size_t errlen)
{
	const float *X32;
	const double *X64;
	int64_t rows;
	int r;
	if (src->rewind(src->ctx, err, errlen))
		return -1;
	while ((r = src->next(src->ctx, &X32, &X64, &rows, err, errlen)) > 0) {
		if (wn_core_solve_quad(q, X32, X64, rows, tau))
			return wn_errf(err, errlen, "leverage pass: out of memory or device error"), -1;
		for (int64_t k = 0; k < rows; k++)
			info->sum += tau[k];
		if (sink(sink_ctx, tau, rows, err, errlen))
			return -1;
	}
	return r;
}

/* The same on the rows kept on the device: τ of all n, then the emitting pass. */
static int leverage_resident(const wn_sens_source *src, wn_core_solve *q, wn_core_rows *R,
			     int64_t n, wn_sens_sink_fn sink, void *sink_ctx, wn_sens_info *info,
			     char *err, size_t errlen)
{
	double *tau = malloc(sizeof(double) * (size_t)n);
	if (!tau)
		return wn_errf(err, errlen, "out of memory for %lld scores", (long long)n), -1;
	int rc = wn_core_solve_quad_rows(q, R, tau);
	if (rc)
		wn_errf(err, errlen, "leverage pass: out of memory or device error");
	for (int64_t k = 0; !rc && k < n; k++)
		info->sum += tau[k];
	if (!rc)
		rc = emit_pass(src, tau, NULL, 0, sink, sink_ctx, err, errlen);
	free(tau);
	return rc;
}

int wn_sens_leverage_stream(const wn_sens_source *src, wn_core *gemm, double ridge,
			    wn_sens_sink_fn sink, void *sink_ctx, wn_sens_info *info, char *err,
			    size_t errlen)
{
	memset(info, 0, sizeof *info);
	if (!(ridge >= 0) || !isfinite(ridge))
		return wn_errf(err, errlen, "ridge must be finite and >= 0"), -1;
	int64_t d = src->d, n = 0;
	wn_core_gram *g = wn_core_gram_new(gemm, d, gemm != NULL);
	double *tau = malloc(sizeof(double) * (size_t)wn_sens_batch_rows(d));
	wn_core_rows *R = resident_rows(gemm, d);
	wn_core_solve *q = NULL;
	int rc = -1;
	if (!g || !tau) {
		wn_errf(err, errlen, "out of memory for a %lld x %lld Gram matrix", (long long)d,
			(long long)d);
		goto out;
	}
	if (gram_pass(src, g, R, NULL, &n, err, errlen))
		goto out;
	R = resident_after(R, info);
	if (n == 0) {
		rc = 0;
		goto out;
	}
	if (!(q = factor(g, gemm, d, ridge, n, err, errlen)))
		goto out;
	note_solve(info, q, ridge, d);
	rc = R ? leverage_resident(src, q, R, n, sink, sink_ctx, info, err, errlen)
	       : leverage_from_source(src, q, tau, sink, sink_ctx, info, err, errlen);
out:
	wn_core_solve_free(q);
	wn_core_rows_free(R);
	wn_core_gram_free(g);
	free(tau);
	return rc;
}

/* One Lewis update of w from tau; returns the max relative change. */
static double lewis_update(double *w, const double *tau, int64_t n, double p, int damped)
{
	double change = 0, beta = 1.0 - 2.0 / p;
	/* elementwise, and a maximum is exact: the same bits at any thread count */
#pragma omp parallel for schedule(static) reduction(max : change) if (n >= 16384)
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

/* w <- the update from tau of a batch's rows; f (the batch's) <- w^{1-2/p} of the new w. */
static double lewis_batch(double *w, double *f, const double *tau, int64_t rows, double p,
			  int damped)
{
	double change = lewis_update(w, tau, rows, p, damped), beta = 1.0 - 2.0 / p;
#pragma omp parallel for schedule(static) if (rows >= 16384)
	for (int64_t i = 0; i < rows; i++)
		f[i] = w[i] > 0 ? pow(w[i], beta) : 0.0;
	return change;
}

/* One iteration: τ(w) by the factor q of G(w) while G(w') is summed into g. */
static int lewis_pass(const wn_sens_source *src, wn_core_solve *q, wn_core_gram *g, double *w,
		      double *f, double *tau, double p, wn_sens_info *info, char *err, size_t errlen)
{
	const float *X32;
	const double *X64;
	int64_t rows, i = 0;
	int r;
	double change = 0;
	wn_core_gram_reset(g);
	if (src->rewind(src->ctx, err, errlen))
		return -1;
	while ((r = src->next(src->ctx, &X32, &X64, &rows, err, errlen)) > 0) {
		if (wn_core_solve_quad(q, X32, X64, rows, tau))
			return wn_errf(err, errlen, "Lewis pass: out of memory or device error"), -1;
		double c = lewis_batch(w + i, f, tau, rows, p, info->damped);
		change = c > change ? c : change;
		if (wn_core_gram_add(g, X32, X64, rows, f))
			return wn_errf(err, errlen, "Gram matrix: out of memory or device error"), -1;
		i += rows;
	}
	info->change = change;
	return r;
}

/* The same on the rows kept on the device (f and tau hold n): the update is
 * elementwise and the change a maximum, so doing all rows at once gives the
 * numbers of the batch-by-batch pass. */
static int lewis_pass_resident(wn_core_rows *R, wn_core_solve *q, wn_core_gram *g, double *w,
			       double *f, double *tau, double p, wn_sens_info *info, char *err,
			       size_t errlen)
{
	int64_t n = wn_core_rows_count(R);
	wn_core_gram_reset(g);
	if (wn_core_solve_quad_rows(q, R, tau))
		return wn_errf(err, errlen, "Lewis pass: out of memory or device error"), -1;
	info->change = lewis_batch(w, f, tau, n, p, info->damped);
	if (wn_core_gram_add_rows(g, R, 0, f))
		return wn_errf(err, errlen, "Gram matrix: out of memory or device error"), -1;
	return 0;
}

static int lewis_iterate(const wn_sens_source *src, wn_core *gemm, wn_core_gram *g,
			 wn_core_rows *R, double *w, double *f, double *tau, int64_t n, double p,
			 double tol, int max_iter, wn_sens_info *info, char *err, size_t errlen)
{
	for (int it = 1; it <= max_iter; it++) {
		wn_core_solve *q = factor(g, gemm, src->d, 0.0, n, err, errlen);
		if (!q)
			return -1;
		note_solve(info, q, 0.0, src->d);
		int rc = R ? lewis_pass_resident(R, q, g, w, f, tau, p, info, err, errlen)
			   : lewis_pass(src, q, g, w, f, tau, p, info, err, errlen);
		wn_core_solve_free(q);
		if (rc)
			return -1;
		info->iters = it;
		if (info->change <= tol)
			return 0;
	}
	return wn_errf(err, errlen, "Lewis weights (p = %g) did not converge in %d iterations "
		       "(relative change %.3g > %.3g)", p, max_iter, info->change, tol), -1;
}

int wn_sens_lewis_stream(const wn_sens_source *src, wn_core *gemm, double p, double tol,
			 int max_iter, int bound, wn_sens_sink_fn sink, void *sink_ctx,
			 wn_sens_info *info, char *err, size_t errlen)
{
	memset(info, 0, sizeof *info);
	if (!(p > 0) || !isfinite(p) || !(tol > 0) || max_iter < 1)
		return wn_errf(err, errlen, "Lewis weights need p > 0, tol > 0, max_iter >= 1"), -1;
	int64_t d = src->d, n = 0, per = wn_sens_batch_rows(d);
	wn_core_gram *g = wn_core_gram_new(gemm, d, gemm != NULL);
	wn_core_rows *R = resident_rows(gemm, d);
	double *tau = NULL, *w = NULL, *f = NULL;
	int rc = -1;
	info->damped = p >= 4;
	if (!g) {
		wn_errf(err, errlen, "out of memory for a %lld x %lld Gram matrix", (long long)d,
			(long long)d);
		goto out;
	}
	if (gram_pass(src, g, R, NULL, &n, err, errlen)) /* w = 1: f = 1 */
		goto out;
	R = resident_after(R, info);
	if (n == 0) {
		rc = 0;
		goto out;
	}
	per = R ? n : per; /* resident: one pass handles all n rows at once */
	w = malloc(sizeof(double) * (size_t)n);
	f = malloc(sizeof(double) * (size_t)per); /* the row weights of a batch (or all) */
	tau = malloc(sizeof(double) * (size_t)(per > wn_sens_batch_rows(d) ? per : wn_sens_batch_rows(d)));
	if (!w || !f || !tau) {
		wn_errf(err, errlen, "out of memory for %lld Lewis weights", (long long)n);
		goto out;
	}
	for (int64_t i = 0; i < n; i++)
		w[i] = 1.0;
	if (lewis_iterate(src, gemm, g, R, w, f, tau, n, p, tol, max_iter, info, err, errlen))
		goto out;
	info->sum = sum_of(w, n);
	rc = emit_pass(src, w, bound ? tau : NULL, p, sink, sink_ctx, err, errlen);
out:
	free(w);
	free(f);
	free(tau);
	wn_core_rows_free(R);
	wn_core_gram_free(g);
	return rc;
}

/* ---- the in-memory forms: a matrix as the source ---- */

struct mem_src {
	const wn_sens_matrix *A;
	int64_t at, batch;
	double *out; /* the sink's destination (n) */
	int64_t done;
};

static int mem_rewind(void *ctx, char *err, size_t errlen)
{
	struct mem_src *m = ctx;
	m->at = m->done = 0;
	return 0;
}

static int mem_next(void *ctx, const float **X32, const double **X64, int64_t *rows, char *err,
		    size_t errlen)
{
	struct mem_src *m = ctx;
	if (m->at >= m->A->n)
		return 0;
	*rows = m->A->n - m->at < m->batch ? m->A->n - m->at : m->batch;
	*X32 = m->A->a32 ? m->A->a32 + m->at * m->A->d : NULL;
	*X64 = m->A->a64 ? m->A->a64 + m->at * m->A->d : NULL;
	m->at += *rows;
	return 1;
}

static int mem_sink(void *ctx, const double *v, int64_t rows, char *err, size_t errlen)
{
	struct mem_src *m = ctx;
	memcpy(m->out + m->done, v, sizeof(double) * (size_t)rows);
	m->done += rows;
	return 0;
}

static void mem_source(struct mem_src *m, wn_sens_source *src, const wn_sens_matrix *A,
		       double *out)
{
	*m = (struct mem_src){A, 0, wn_sens_batch_rows(A->d), out, 0};
	*src = (wn_sens_source){m, A->d, mem_rewind, mem_next, NULL};
}

int wn_sens_leverage(const wn_sens_matrix *A, double ridge, double *tau, wn_sens_info *info,
		     char *err, size_t errlen)
{
	memset(info, 0, sizeof *info);
	if (check_shape(A, err, errlen))
		return -1;
	struct mem_src m;
	wn_sens_source src;
	mem_source(&m, &src, A, tau);
	return wn_sens_leverage_stream(&src, NULL, ridge, mem_sink, &m, info, err, errlen);
}

int wn_sens_lewis(const wn_sens_matrix *A, double p, double tol, int max_iter, double *w,
		  wn_sens_info *info, char *err, size_t errlen)
{
	memset(info, 0, sizeof *info);
	if (check_shape(A, err, errlen))
		return -1;
	if (A->n == 0)
		return 0;
	struct mem_src m;
	wn_sens_source src;
	mem_source(&m, &src, A, w);
	return wn_sens_lewis_stream(&src, NULL, p, tol, max_iter, 0, mem_sink, &m, info, err,
				    errlen);
}

double wn_sens_lewis_bound(double w, double p, int64_t d)
{
	return p <= 2 ? w : pow((double)d, p / 2.0 - 1.0) * w;
}

/* The distance² of a batch's row r to mu. */
static double dist2(const float *X32, const double *X64, int64_t r, int64_t d, const double *mu)
{
	double s = 0;
	for (int64_t j = 0; j < d; j++) {
		double x = (X64 ? X64[r * d + j] : (double)X32[r * d + j]) - mu[j];
		s += x * x;
	}
	return s;
}

/* Pass 1 (mode 0): Σ rows into mu, counting n; pass 2 (mode 1): Σ d² into *total;
 * pass 3 (mode 2): q of each batch to the sink. */
static int lightweight_pass(const wn_sens_source *src, int mode, double *mu, int64_t *n,
			    double *total, double *q, wn_sens_sink_fn sink, void *sink_ctx,
			    wn_sens_info *info, char *err, size_t errlen)
{
	const float *X32;
	const double *X64;
	int64_t rows, d = src->d, seen = 0;
	int r;
	if (src->rewind(src->ctx, err, errlen))
		return -1;
	while ((r = src->next(src->ctx, &X32, &X64, &rows, err, errlen)) > 0) {
		for (int64_t i = 0; i < rows; i++) {
			if (mode == 0) {
				for (int64_t j = 0; j < d; j++)
					mu[j] += X64 ? X64[i * d + j] : (double)X32[i * d + j];
				continue;
			}
			double s = dist2(X32, X64, i, d, mu);
			if (mode == 1)
				*total += s;
			else
				q[i] = *total > 0 ? 0.5 / (double)*n + 0.5 * s / *total : 1.0 / (double)*n;
		}
		seen += rows;
		if (mode == 2) {
			for (int64_t i = 0; i < rows; i++)
				info->sum += q[i];
			if (sink(sink_ctx, q, rows, err, errlen))
				return -1;
		}
	}
	if (mode == 0)
		*n = seen;
	return r;
}

int wn_sens_kmeans_lightweight_stream(const wn_sens_source *src, wn_sens_sink_fn sink,
				      void *sink_ctx, wn_sens_info *info, char *err, size_t errlen)
{
	memset(info, 0, sizeof *info);
	int64_t d = src->d, n = 0;
	double *mu = calloc((size_t)d, sizeof(double)), total = 0;
	double *q = malloc(sizeof(double) * (size_t)wn_sens_batch_rows(d));
	int rc = mu && q ? 0 : (wn_errf(err, errlen, "out of memory"), -1);
	if (!rc)
		rc = lightweight_pass(src, 0, mu, &n, &total, q, sink, sink_ctx, info, err, errlen);
	for (int64_t j = 0; !rc && j < d; j++)
		mu[j] /= (double)(n ? n : 1);
	if (!rc && n > 0)
		rc = lightweight_pass(src, 1, mu, &n, &total, q, sink, sink_ctx, info, err, errlen);
	if (!rc && n > 0)
		rc = lightweight_pass(src, 2, mu, &n, &total, q, sink, sink_ctx, info, err, errlen);
	free(mu);
	free(q);
	return rc;
}

int wn_sens_kmeans_lightweight(const wn_sens_matrix *A, double *q, wn_sens_info *info,
			       char *err, size_t errlen)
{
	memset(info, 0, sizeof *info);
	if (check_shape(A, err, errlen))
		return -1;
	struct mem_src m;
	wn_sens_source src;
	mem_source(&m, &src, A, q);
	return wn_sens_kmeans_lightweight_stream(&src, mem_sink, &m, info, err, errlen);
}

/* ---- the bicriteria bound ---- */

/* Row i as float64 (into tmp when A is float32). */
static const double *get_row(const wn_sens_matrix *A, int64_t i, double *tmp)
{
	return get_block(A, i, 1, tmp);
}

/* dist[i] = min(dist[i], |a_i − a_c|²), assign[i] = j where it improved.
 * -1 out of memory (nothing changed). The threads' row buffers are taken
 * before the parallel region so that a failed allocation is seen. */
static int d2_update(const wn_sens_matrix *A, int64_t c, int64_t j, double *dist, int64_t *assign)
{
	int64_t d = A->d;
	size_t nt = (size_t)omp_get_max_threads();
	double *ctr = malloc(sizeof(double) * (size_t)d);
	double *tmps = malloc(sizeof(double) * (size_t)d * nt);
	if (!ctr || !tmps) {
		free(ctr);
		free(tmps);
		return -1;
	}
	const double *src = get_row(A, c, ctr);
	if (src != ctr)
		memcpy(ctr, src, sizeof(double) * (size_t)d);
#pragma omp parallel
	{
		double *tmp = tmps + (size_t)omp_get_thread_num() * (size_t)d;
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
	}
	free(tmps);
	free(ctr);
	return 0;
}

/* k-means++ seeding: the centres' rows into centers; returns how many, or
 * -1 out of memory. */
static int64_t dsq_seed(const wn_sens_matrix *A, int64_t k, uint64_t seed, double *dist,
			int64_t *assign, int64_t *centers)
{
	wn_rng r;
	wn_rng_init(&r, seed, WN_RNG_STREAM_KMEANS_INIT ^ 0x1900);
	int64_t c = (int64_t)wn_rng_next_below(&r, (uint64_t)A->n), got = 0;
	for (;;) {
		centers[got] = c;
		if (d2_update(A, c, got, dist, assign))
			return -1;
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
	if (got < 0) {
		wn_errf(err, errlen, "out of memory");
		goto out;
	}
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
