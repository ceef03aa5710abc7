/*
 * core/cpu_sinkhorn.c — log-domain entropic Sinkhorn with dual potentials
 * and the debiased divergence (see the issue-21 block of core/core.h).
 *
 * Owns: its scratch (log-weights, a transposed copy of the cost for the
 * column updates, and on a GPU their device copies), freed before
 * returning; the CPU backend's softmin_rows (wn_cpu_softmin_rows, the
 * reference for core/cuda_sinkhorn.cu). Borrows: the context (threads, its
 * device's softmin_rows and its GEMM for the cost of points), the cost and
 * weight arrays.
 *
 * Why this shape: geomloss (which otdd and projektor call) anneals eps from
 * the cost's diameter down to blur^p by `scaling` per step, then reads the
 * value off the dual; we do the same with alternating (Gauss-Seidel)
 * updates, then iterate at the final eps until the potentials settle,
 * which the brute-force test needs at small blur. Every row's
 * log-sum-exp is one sequential loop, so threads change nothing; on CUDA
 * one warp per row in a fixed order, so runs repeat bit for bit there too.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"

static int sk_fail(char *err, size_t errlen, int code, const char *what)
{
	if (err && errlen)
		snprintf(err, errlen, "sinkhorn: %s", what);
	return code;
}

/* log of the weights, uniform when w is NULL; -1 for a weight <= 0 or NaN */
static int log_weights(const double *w, int64_t n, double *lw)
{
	for (int64_t i = 0; i < n; i++) {
		double v = w ? w[i] : 1.0 / (double)n;
		if (!(v > 0) || !isfinite(v))
			return -1;
		lw[i] = log(v);
	}
	return 0;
}

/*
 * out_i = -eps log sum_j exp(lw_j + (h_j - C_ij) / eps) over rows of C
 * (rows x cols). h may alias nothing in out. The CPU twin of the CUDA
 * kernel in core/cuda_sinkhorn.cu.
 */
static void softmin_host(int threads, const float *C, int64_t rows, int64_t cols,
			 const double *lw, const double *h, double eps, double *out)
{
#pragma omp parallel for num_threads(threads) schedule(static) if (rows * cols >= 65536)
	for (int64_t i = 0; i < rows; i++) {
		const float *r = C + i * cols;
		double mx = -INFINITY, s = 0;
		for (int64_t j = 0; j < cols; j++) {
			double v = lw[j] + (h[j] - (double)r[j]) / eps;
			if (v > mx)
				mx = v;
		}
		for (int64_t j = 0; j < cols; j++)
			s += exp(lw[j] + (h[j] - (double)r[j]) / eps - mx);
		out[i] = -eps * (mx + log(s));
	}
}

int wn_cpu_softmin_rows(void *state, const float *C, int64_t rows, int64_t cols,
			const double *lw, const double *h, double eps, double *out)
{
	softmin_host(((struct wn_cpu *)state)->threads, C, rows, cols, lw, h, eps, out);
	return 0;
}

/*
 * Where the half steps run: on the context's device through
 * wn_core_softmin_rows (buffers uploaded once), or on the host straight on
 * the caller's arrays (the CPU device, and problems too small to pay for a
 * launch per half step). The potentials come back to the host after each
 * step for the convergence test: n + m doubles against n x m exps.
 */
#define SK_DEVICE_MIN 65536

struct sk_run {
	wn_core *c;
	int dev;
	int threads;
	char *err;
	size_t errlen;
};

static int sk_dev_fail(struct sk_run *r)
{
	return sk_fail(r->err, r->errlen, WN_CORE_EDEVICE, wn_core_error(r->c));
}

static void *sk_put(struct sk_run *r, const void *host, size_t bytes, int *rc)
{
	if (*rc)
		return NULL;
	void *d = wn_core_alloc_bytes(r->c, bytes);
	if (!d)
		*rc = sk_fail(r->err, r->errlen, WN_CORE_ENOMEM, "out of device memory");
	else if (host && wn_core_upload(r->c, d, host, bytes))
		*rc = sk_dev_fail(r);
	return d;
}

static int sk_half(struct sk_run *r, const float *C, int64_t rows, int64_t cols,
		   const double *lw, const double *h, double eps, double *out)
{
	if (!r->dev) {
		softmin_host(r->threads, C, rows, cols, lw, h, eps, out);
		return 0;
	}
	return wn_core_softmin_rows(r->c, C, rows, cols, lw, h, eps, out) ? sk_dev_fail(r) : 0;
}

/* host <- device after a half step (nothing to do on the host path) */
static int sk_get(struct sk_run *r, double *host, const double *dev, int64_t count)
{
	if (!r->dev)
		return 0;
	return wn_core_download(r->c, host, dev, (size_t)count * sizeof *host) ? sk_dev_fail(r) : 0;
}

static void sk_setup(struct sk_run *r, wn_core *c, int64_t cells, char *err, size_t errlen)
{
	r->c = c;
	r->dev = wn_core_device(c) != WN_DEVICE_CPU && cells >= SK_DEVICE_MIN;
	r->threads = wn_core_threads(c);
	r->err = err;
	r->errlen = errlen;
}

static double max_cost(const float *C, size_t count)
{
	double mx = 0;
	for (size_t i = 0; i < count; i++)
		if (C[i] > mx)
			mx = C[i];
	return mx;
}

/* geomloss's epsilon_schedule for p = 2: diameter^2, then blur^2 scaling^(2k), then blur^2 */
static double eps_at(double diam2, double blur2, double scaling, int k)
{
	double e = diam2 * pow(scaling, 2.0 * k);
	return e > blur2 ? e : blur2;
}

static int anneal_steps(double diam2, double blur2, double scaling)
{
	if (!(scaling > 0) || diam2 <= blur2)
		return 0;
	return (int)ceil(log(blur2 / diam2) / (2.0 * log(scaling)));
}

static double max_diff(const double *x, const double *y, int64_t n)
{
	double m = 0;
	for (int64_t i = 0; i < n; i++)
		if (fabs(x[i] - y[i]) > m)
			m = fabs(x[i] - y[i]);
	return m;
}

static int check_opts(const wn_sinkhorn_opts *o, int64_t n, int64_t m, char *err, size_t errlen)
{
	if (n < 1 || m < 1)
		return sk_fail(err, errlen, WN_CORE_EINVAL, "empty measure");
	if (!(o->blur > 0) || !isfinite(o->blur) || !(o->scaling >= 0 && o->scaling < 1) ||
	    o->max_iter < 1 || !(o->tol > 0))
		return sk_fail(err, errlen, WN_CORE_EINVAL,
			       "blur must be > 0, scaling in [0, 1), max_iter >= 1, tol > 0");
	return 0;
}

/* C^T (m x n) into T */
static void transpose(const float *C, int64_t n, int64_t m, float *T)
{
	for (int64_t i = 0; i < n; i++)
		for (int64_t j = 0; j < m; j++)
			T[j * n + i] = C[i * m + j];
}

int wn_core_sinkhorn(wn_core *c, const float *C, int64_t n, int64_t m, const double *a,
		     const double *b, const wn_sinkhorn_opts *o, double *f, double *g,
		     double *ot, int *iters, char *err, size_t errlen)
{
	int rc = check_opts(o, n, m, err, errlen);
	if (rc)
		return rc;
	struct sk_run r;
	sk_setup(&r, c, n * m, err, errlen);
	double *la = malloc((size_t)n * sizeof *la), *lb = malloc((size_t)m * sizeof *lb);
	double *prev = malloc((size_t)(n > m ? n : m) * sizeof *prev);
	float *T = malloc((size_t)n * (size_t)m * sizeof *T);
	const float *Cd = C, *Td = T;
	double *lad = la, *lbd = lb, *fd = f, *gd = g;
	if (!la || !lb || !prev || !T) {
		rc = sk_fail(err, errlen, WN_CORE_ENOMEM, "out of memory");
		goto done;
	}
	if (log_weights(a, n, la) || log_weights(b, m, lb)) {
		rc = sk_fail(err, errlen, WN_CORE_EINVAL, "weights must be > 0 and finite");
		goto done;
	}
	transpose(C, n, m, T);
	memset(g, 0, (size_t)m * sizeof *g);
	if (r.dev) {
		Cd = Td = NULL;
		lad = lbd = fd = gd = NULL;
		Cd = sk_put(&r, C, (size_t)n * (size_t)m * sizeof *C, &rc);
		Td = sk_put(&r, T, (size_t)n * (size_t)m * sizeof *T, &rc);
		lad = sk_put(&r, la, (size_t)n * sizeof *la, &rc);
		lbd = sk_put(&r, lb, (size_t)m * sizeof *lb, &rc);
		fd = sk_put(&r, NULL, (size_t)n * sizeof *f, &rc);
		gd = sk_put(&r, g, (size_t)m * sizeof *g, &rc);
		if (rc)
			goto done;
	}
	double blur2 = o->blur * o->blur, diam2 = 2 * max_cost(C, (size_t)n * (size_t)m);
	int steps = anneal_steps(diam2, blur2, o->scaling);
	for (int k = 0; k < steps && !rc; k++) {
		double eps = eps_at(diam2, blur2, o->scaling, k);
		rc = sk_half(&r, Cd, n, m, lbd, gd, eps, fd);
		if (!rc)
			rc = sk_half(&r, Td, m, n, lad, fd, eps, gd);
	}
	if (!rc)
		rc = sk_get(&r, g, gd, m);
	int it = 0;
	for (double delta = INFINITY; !rc && it < o->max_iter && delta > o->tol; it++) {
		memcpy(prev, g, (size_t)m * sizeof *g);
		rc = sk_half(&r, Cd, n, m, lbd, gd, blur2, fd);
		if (!rc)
			rc = sk_half(&r, Td, m, n, lad, fd, blur2, gd);
		if (!rc)
			rc = sk_get(&r, g, gd, m);
		delta = max_diff(prev, g, m);
	}
	/* f is exact against the final g: the dual value is read at that pair */
	if (!rc)
		rc = sk_half(&r, Cd, n, m, lbd, gd, blur2, fd);
	if (!rc)
		rc = sk_get(&r, f, fd, n);
	if (rc)
		goto done;
	double s = 0;
	for (int64_t i = 0; i < n; i++)
		s += exp(la[i]) * f[i];
	for (int64_t j = 0; j < m; j++)
		s += exp(lb[j]) * g[j];
	*ot = s;
	if (iters)
		*iters = it;
done:
	if (r.dev) {
		wn_core_free(c, (void *)Cd);
		wn_core_free(c, (void *)Td);
		wn_core_free(c, lad);
		wn_core_free(c, lbd);
		wn_core_free(c, fd);
		wn_core_free(c, gd);
	}
	free(la);
	free(lb);
	free(prev);
	free(T);
	return rc;
}

int wn_core_sinkhorn_sym(wn_core *c, const float *C, int64_t n, const double *a,
			 const wn_sinkhorn_opts *o, double *f, double *ot, char *err, size_t errlen)
{
	int rc = check_opts(o, n, n, err, errlen);
	if (rc)
		return rc;
	struct sk_run r;
	sk_setup(&r, c, n * n, err, errlen);
	double *la = malloc((size_t)n * sizeof *la), *t = malloc((size_t)n * sizeof *t);
	const float *Cd = C;
	double *lad = la, *fd = f, *td = t;
	if (!la || !t) {
		rc = sk_fail(err, errlen, WN_CORE_ENOMEM, "out of memory");
		goto done;
	}
	if (log_weights(a, n, la)) {
		rc = sk_fail(err, errlen, WN_CORE_EINVAL, "weights must be > 0 and finite");
		goto done;
	}
	memset(f, 0, (size_t)n * sizeof *f);
	if (r.dev) {
		Cd = NULL;
		lad = fd = td = NULL;
		Cd = sk_put(&r, C, (size_t)n * (size_t)n * sizeof *C, &rc);
		lad = sk_put(&r, la, (size_t)n * sizeof *la, &rc);
		fd = sk_put(&r, f, (size_t)n * sizeof *f, &rc);
		td = sk_put(&r, NULL, (size_t)n * sizeof *t, &rc);
		if (rc)
			goto done;
	}
	double blur2 = o->blur * o->blur, diam2 = 2 * max_cost(C, (size_t)n * (size_t)n);
	int steps = anneal_steps(diam2, blur2, o->scaling);
	double delta = INFINITY;
	for (int k = 0, it = 0; !rc && (k < steps || (it < o->max_iter && delta > o->tol)); k++) {
		int annealing = k < steps;
		rc = sk_half(&r, Cd, n, n, lad, fd, annealing ? eps_at(diam2, blur2, o->scaling, k)
							      : blur2, td);
		if (!rc)
			rc = sk_get(&r, t, td, n);
		if (rc)
			break;
		delta = 0;
		for (int64_t i = 0; i < n; i++) {
			double nf = 0.5 * (f[i] + t[i]);
			if (fabs(nf - f[i]) > delta)
				delta = fabs(nf - f[i]);
			f[i] = nf;
		}
		if (!annealing)
			it++;
		else
			delta = INFINITY;
		if (r.dev && wn_core_upload(c, fd, f, (size_t)n * sizeof *f))
			rc = sk_dev_fail(&r);
	}
	if (rc)
		goto done;
	double s = 0;
	for (int64_t i = 0; i < n; i++)
		s += exp(la[i]) * f[i];
	*ot = 2 * s;
done:
	if (r.dev) {
		wn_core_free(c, (void *)Cd);
		wn_core_free(c, lad);
		wn_core_free(c, fd);
		wn_core_free(c, td);
	}
	free(la);
	free(t);
	return rc;
}

int wn_core_sinkhorn_divergence(wn_core *c, const float *Cxy, const float *Cxx, const float *Cyy,
				int64_t n, int64_t m, const double *a, const double *b,
				const wn_sinkhorn_opts *o, double *grad_a, double *grad_b,
				double *div, char *err, size_t errlen)
{
	double *f = malloc((size_t)n * sizeof *f), *g = malloc((size_t)m * sizeof *g);
	double *faa = malloc((size_t)n * sizeof *faa), *gbb = malloc((size_t)m * sizeof *gbb);
	double ab, aa, bb;
	int rc = 0;
	if (!f || !g || !faa || !gbb)
		rc = sk_fail(err, errlen, WN_CORE_ENOMEM, "out of memory");
	if (!rc)
		rc = wn_core_sinkhorn(c, Cxy, n, m, a, b, o, f, g, &ab, NULL, err, errlen);
	if (!rc)
		rc = wn_core_sinkhorn_sym(c, Cxx, n, a, o, faa, &aa, err, errlen);
	if (!rc)
		rc = wn_core_sinkhorn_sym(c, Cyy, m, b, o, gbb, &bb, err, errlen);
	if (!rc) {
		*div = ab - 0.5 * aa - 0.5 * bb;
		for (int64_t i = 0; grad_a && i < n; i++)
			grad_a[i] = f[i] - faa[i];
		for (int64_t j = 0; grad_b && j < m; j++)
			grad_b[j] = g[j] - gbb[j];
	}
	free(f);
	free(g);
	free(faa);
	free(gbb);
	return rc;
}

/* ---- the cost of points -------------------------------------------------- */

static void sqnorms(const float *X, int64_t n, int64_t d, double *out)
{
	for (int64_t i = 0; i < n; i++) {
		double s = 0;
		for (int64_t k = 0; k < d; k++)
			s += (double)X[i * d + k] * X[i * d + k];
		out[i] = s;
	}
}

int wn_core_cost_sqeuclid(wn_core *c, const float *X, int64_t n, const float *Y, int64_t m,
			  int64_t d, float *C, char *err, size_t errlen)
{
	if (n < 1 || m < 1 || d < 1)
		return sk_fail(err, errlen, WN_CORE_EINVAL, "cost: empty point set");
	double *nx = malloc((size_t)n * sizeof *nx), *ny = malloc((size_t)m * sizeof *ny);
	float *Xd = wn_core_alloc(c, (size_t)(n * d)), *Yd = wn_core_alloc(c, (size_t)(m * d));
	float *Cd = wn_core_alloc(c, (size_t)(n * m));
	int rc = !nx || !ny || !Xd || !Yd || !Cd ? WN_CORE_ENOMEM : 0;
	if (!rc)
		rc = wn_core_upload(c, Xd, X, (size_t)(n * d) * sizeof(float));
	if (!rc)
		rc = wn_core_upload(c, Yd, Y, (size_t)(m * d) * sizeof(float));
	if (!rc)
		rc = wn_core_gemm(c, 0, 1, n, m, d, 1.0f, Xd, d, Yd, d, 0.0f, Cd, m);
	if (!rc)
		rc = wn_core_download(c, C, Cd, (size_t)(n * m) * sizeof(float));
	if (rc)
		sk_fail(err, errlen, rc, rc == WN_CORE_ENOMEM ? "cost: out of memory" : wn_core_error(c));
	if (!rc) {
		sqnorms(X, n, d, nx);
		sqnorms(Y, m, d, ny);
		for (int64_t i = 0; i < n; i++)
			for (int64_t j = 0; j < m; j++) {
				double v = 0.5 * (nx[i] + ny[j] - 2.0 * (double)C[i * m + j]);
				C[i * m + j] = v > 0 ? (float)v : 0.0f;
			}
	}
	free(nx);
	free(ny);
	wn_core_free(c, Xd);
	wn_core_free(c, Yd);
	wn_core_free(c, Cd);
	return rc;
}
