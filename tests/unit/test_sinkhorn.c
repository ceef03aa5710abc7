/*
 * tests/unit/test_sinkhorn.c — core/cpu_sinkhorn.c against outside
 * references:
 *  - brute force: exact OT between two 6-point clouds by enumerating all
 *    720 permutations (uniform weights make an optimal plan a permutation);
 *    at blur 0.01 the entropic value lies in [exact, exact + eps log 6]
 *    (the permutation plan's entropy bound), and so does the debiased one
 *    up to the self terms;
 *  - the GEMM cost against ||x - y||^2 / 2 in double;
 *  - debiasing: S(D, D) = 0;
 *  - the dual potentials are the gradient: moving mass h from point k to
 *    point i changes S by h (grad_i - grad_k), against finite differences;
 *  - the same potentials, bit for bit, at 1 and 2 threads; bad arguments;
 *  - CPU against CUDA (core/cuda_sinkhorn.cu, the iterations on the GPU):
 *    the half step within 1e-12 relative, the converged OT value, the
 *    divergence and its gradient within 1e-8 (sums in another order, see
 *    docs/DESIGN.md), and two CUDA runs bit for bit. SKIP only when no
 *    CUDA GPU can be opened.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/rng.h"
#include "test.h"

static wn_core *cpu(int threads)
{
	char err[256];
	return wn_core_open(WN_DEVICE_CPU, threads, err, sizeof err);
}

static void points(float *X, int64_t n, int64_t d, uint64_t seed)
{
	double *u = malloc((size_t)(n * d) * sizeof *u);
	CHECK(u != NULL);
	wn_rng_fill_normal(seed, 0, 0, (size_t)(n * d), u);
	for (int64_t i = 0; i < n * d; i++)
		X[i] = (float)u[i];
	free(u);
}

static double exact_ot6(const float *C)
{
	int p[6] = {0, 1, 2, 3, 4, 5}, c[6] = {0};
	double best = 0;
	for (int i = 0; i < 6; i++)
		best += C[i * 6 + p[i]];
	/* Heap's algorithm over all 720 permutations */
	for (int i = 0; i < 6;) {
		if (c[i] < i) {
			int j = i % 2 ? c[i] : 0, t = p[j];
			p[j] = p[i];
			p[i] = t;
			double s = 0;
			for (int r = 0; r < 6; r++)
				s += C[r * 6 + p[r]];
			if (s < best)
				best = s;
			c[i]++;
			i = 0;
		} else
			c[i++] = 0;
	}
	return best / 6;
}

static void test_cost_matches_double(void)
{
	wn_core *c = cpu(1);
	float X[5 * 3], Y[4 * 3], C[20];
	char err[256];
	points(X, 5, 3, 1);
	points(Y, 4, 3, 2);
	CHECK(wn_core_cost_sqeuclid(c, X, 5, Y, 4, 3, C, err, sizeof err) == 0);
	for (int i = 0; i < 5; i++)
		for (int j = 0; j < 4; j++) {
			double s = 0;
			for (int k = 0; k < 3; k++)
				s += ((double)X[i * 3 + k] - Y[j * 3 + k]) * ((double)X[i * 3 + k] - Y[j * 3 + k]);
			CHECK_NEAR(C[i * 4 + j], s / 2, 1e-5);
		}
	wn_core_close(c);
}

static void test_brute_force_six_points(void)
{
	wn_core *c = cpu(1);
	float X[12], Y[12], C[36], Cxx[36], Cyy[36];
	double f[6], g[6], ot, div;
	char err[256];
	points(X, 6, 2, 11);
	points(Y, 6, 2, 12);
	for (int i = 0; i < 12; i++)
		Y[i] += 0.7f; /* a shift: the optimal plan is not the identity by accident */
	CHECK(wn_core_cost_sqeuclid(c, X, 6, Y, 6, 2, C, err, sizeof err) == 0);
	CHECK(wn_core_cost_sqeuclid(c, X, 6, X, 6, 2, Cxx, err, sizeof err) == 0);
	CHECK(wn_core_cost_sqeuclid(c, Y, 6, Y, 6, 2, Cyy, err, sizeof err) == 0);
	double exact = exact_ot6(C);
	wn_sinkhorn_opts o = WN_SINKHORN_OPTS_INIT;
	o.blur = 0.01;
	o.max_iter = 200000;
	o.tol = 1e-12;
	int it;
	CHECK(wn_core_sinkhorn(c, C, 6, 6, NULL, NULL, &o, f, g, &ot, &it, err, sizeof err) == 0);
	double eps = o.blur * o.blur;
	CHECK(ot >= exact - 1e-7);
	CHECK(ot <= exact + eps * log(6.0) + 1e-7);
	CHECK(wn_core_sinkhorn_divergence(c, C, Cxx, Cyy, 6, 6, NULL, NULL, &o, NULL, NULL, &div, err,
					  sizeof err) == 0);
	CHECK(fabs(div - exact) <= 2 * eps * log(6.0) + 1e-6);
	wn_core_close(c);
}

static void test_debiased_self_is_zero(void)
{
	wn_core *c = cpu(1);
	float X[20 * 5], C[400];
	double a[20], ga[20], gb[20], div, s = 0;
	char err[256];
	points(X, 20, 5, 3);
	CHECK(wn_core_cost_sqeuclid(c, X, 20, X, 20, 5, C, err, sizeof err) == 0);
	for (int i = 0; i < 20; i++)
		s += a[i] = 1.0 + (i % 3);
	for (int i = 0; i < 20; i++)
		a[i] /= s;
	wn_sinkhorn_opts o = WN_SINKHORN_OPTS_INIT;
	o.blur = 0.5;
	o.tol = 1e-12;
	o.max_iter = 100000;
	CHECK(wn_core_sinkhorn_divergence(c, C, C, C, 20, 20, a, a, &o, ga, gb, &div, err, sizeof err) == 0);
	CHECK_NEAR(div, 0, 1e-9);
	/* and the unweighted divergence of distinct sets is positive */
	float Y[20 * 5], Cxy[400], Cyy[400];
	points(Y, 20, 5, 4);
	CHECK(wn_core_cost_sqeuclid(c, X, 20, Y, 20, 5, Cxy, err, sizeof err) == 0);
	CHECK(wn_core_cost_sqeuclid(c, Y, 20, Y, 20, 5, Cyy, err, sizeof err) == 0);
	CHECK(wn_core_sinkhorn_divergence(c, Cxy, C, Cyy, 20, 20, NULL, NULL, &o, NULL, NULL, &div, err,
					  sizeof err) == 0);
	CHECK(div > 0.1);
	wn_core_close(c);
}

static double divergence_at(wn_core *c, const float *Cxy, const float *Cxx, const float *Cyy,
			    const double *a, double *grad)
{
	wn_sinkhorn_opts o = WN_SINKHORN_OPTS_INIT;
	o.blur = 0.5;
	o.tol = 1e-14;
	o.max_iter = 1000000;
	double div = NAN;
	char err[256];
	if (wn_core_sinkhorn_divergence(c, Cxy, Cxx, Cyy, 5, 4, a, NULL, &o, grad, NULL, &div, err,
					sizeof err))
		return NAN;
	return div;
}

static void test_gradient_finite_differences(void)
{
	wn_core *c = cpu(1);
	float X[5 * 3], Y[4 * 3], Cxy[20], Cxx[25], Cyy[16];
	double a[5] = {0.1, 0.3, 0.2, 0.25, 0.15}, grad[5], tmp[5];
	char err[256];
	points(X, 5, 3, 21);
	points(Y, 4, 3, 22);
	CHECK(wn_core_cost_sqeuclid(c, X, 5, Y, 4, 3, Cxy, err, sizeof err) == 0);
	CHECK(wn_core_cost_sqeuclid(c, X, 5, X, 5, 3, Cxx, err, sizeof err) == 0);
	CHECK(wn_core_cost_sqeuclid(c, Y, 4, Y, 4, 3, Cyy, err, sizeof err) == 0);
	double s0 = divergence_at(c, Cxy, Cxx, Cyy, a, grad), h = 1e-5;
	CHECK(isfinite(s0));
	for (int i = 1; i < 5; i++) {
		double ap[5], am[5];
		memcpy(ap, a, sizeof a);
		memcpy(am, a, sizeof a);
		ap[i] += h, ap[0] -= h;
		am[i] -= h, am[0] += h;
		double fd = (divergence_at(c, Cxy, Cxx, Cyy, ap, tmp) -
			     divergence_at(c, Cxy, Cxx, Cyy, am, tmp)) / (2 * h);
		CHECK_NEAR(fd, grad[i] - grad[0], 1e-6 + 1e-4 * fabs(fd));
	}
	wn_core_close(c);
}

static void test_threads_bit_identical(void)
{
	enum { N = 300, M = 250, D = 8 }; /* N M above the parallel threshold */
	float *X = malloc(N * D * sizeof *X), *Y = malloc(M * D * sizeof *Y);
	float *C = malloc((size_t)N * M * sizeof *C);
	double f1[N], g1[M], f2[N], g2[M], o1, o2;
	char err[256];
	CHECK(X && Y && C);
	points(X, N, D, 5);
	points(Y, M, D, 6);
	wn_core *c1 = cpu(1), *c2 = cpu(2);
	wn_sinkhorn_opts o = WN_SINKHORN_OPTS_INIT;
	o.blur = 0.5;
	o.max_iter = 30; /* the same bits after any number of steps: convergence is not the point */
	CHECK(wn_core_cost_sqeuclid(c2, X, N, Y, M, D, C, err, sizeof err) == 0);
	float *C1 = malloc((size_t)N * M * sizeof *C1);
	CHECK(C1 && wn_core_cost_sqeuclid(c1, X, N, Y, M, D, C1, err, sizeof err) == 0);
	CHECK(!memcmp(C, C1, (size_t)N * M * sizeof *C));
	CHECK(wn_core_sinkhorn(c1, C, N, M, NULL, NULL, &o, f1, g1, &o1, NULL, err, sizeof err) == 0);
	CHECK(wn_core_sinkhorn(c2, C, N, M, NULL, NULL, &o, f2, g2, &o2, NULL, err, sizeof err) == 0);
	CHECK(!memcmp(f1, f2, sizeof f1) && !memcmp(g1, g2, sizeof g1) && o1 == o2);
	wn_core_close(c1);
	wn_core_close(c2);
	free(X);
	free(Y);
	free(C);
	free(C1);
}

static void test_bad_arguments(void)
{
	wn_core *c = cpu(1);
	float C[4] = {0, 1, 1, 0};
	double f[2], g[2], ot, bad[2] = {1.5, -0.5};
	char err[256] = "";
	wn_sinkhorn_opts o = WN_SINKHORN_OPTS_INIT;
	o.blur = 0;
	CHECK(wn_core_sinkhorn(c, C, 2, 2, NULL, NULL, &o, f, g, &ot, NULL, err, sizeof err) == WN_CORE_EINVAL);
	CHECK(strstr(err, "blur must be > 0") != NULL);
	o.blur = 0.1;
	CHECK(wn_core_sinkhorn(c, C, 2, 2, bad, NULL, &o, f, g, &ot, NULL, err, sizeof err) == WN_CORE_EINVAL);
	CHECK(strstr(err, "weights must be > 0") != NULL);
	CHECK(wn_core_sinkhorn(c, C, 0, 2, NULL, NULL, &o, f, g, &ot, NULL, err, sizeof err) == WN_CORE_EINVAL);
	wn_core_close(c);
}

static double max_rel(const double *x, const double *y, int64_t n)
{
	double m = 0;
	for (int64_t i = 0; i < n; i++) {
		double d = fabs(x[i] - y[i]) / (1.0 + fabs(y[i]));
		if (d > m)
			m = d;
	}
	return m;
}

static void test_cpu_vs_cuda(void)
{
	enum { N = 700, M = 500, D = 16 }; /* N x M and N x N above the device threshold */
	char why[256], err[256];
	wn_core *g = wn_core_open(WN_DEVICE_CUDA, 0, why, sizeof why);
	if (!g)
		SKIP("no CUDA GPU: %s", why);
	wn_core *c = cpu(2);
	float *X = malloc(N * D * sizeof *X), *Y = malloc(M * D * sizeof *Y);
	float *Cxy = malloc((size_t)N * M * sizeof *Cxy), *Cxx = malloc((size_t)N * N * sizeof *Cxx);
	float *Cyy = malloc((size_t)M * M * sizeof *Cyy);
	double *ga = malloc(N * sizeof *ga), *gb = malloc(M * sizeof *gb);
	double *ha = malloc(N * sizeof *ha), *hb = malloc(M * sizeof *hb);
	double *f1 = malloc(N * sizeof *f1), *g1 = malloc(M * sizeof *g1);
	double *f2 = malloc(N * sizeof *f2), *g2 = malloc(M * sizeof *g2);
	double *f3 = malloc(N * sizeof *f3), *g3 = malloc(M * sizeof *g3);
	CHECK(X && Y && Cxy && Cxx && Cyy && ga && gb && ha && hb && f1 && g1 && f2 && g2 && f3 && g3);
	points(X, N, D, 11);
	points(Y, M, D, 12);
	for (int64_t i = 0; i < M * D; i++)
		Y[i] += 0.3f; /* a shifted cloud: a divergence well away from 0 */
	CHECK(wn_core_cost_sqeuclid(c, X, N, Y, M, D, Cxy, err, sizeof err) == 0);
	CHECK(wn_core_cost_sqeuclid(c, X, N, X, N, D, Cxx, err, sizeof err) == 0);
	CHECK(wn_core_cost_sqeuclid(c, Y, M, Y, M, D, Cyy, err, sizeof err) == 0);

	/* one half step: g = 0, uniform weights, eps 1 */
	for (int64_t j = 0; j < M; j++)
		g1[j] = -log((double)M) + 0.01 * (double)(j % 7);
	for (int64_t j = 0; j < M; j++)
		g2[j] = 0.1 * (double)(j % 5);
	float *Cd = wn_core_alloc(g, (size_t)N * M);
	double *lwd = wn_core_alloc_bytes(g, M * sizeof(double)), *hd = wn_core_alloc_bytes(g, M * sizeof(double));
	double *od = wn_core_alloc_bytes(g, N * sizeof(double));
	CHECK(Cd && lwd && hd && od);
	CHECK(wn_core_upload(g, Cd, Cxy, (size_t)N * M * sizeof(float)) == 0);
	CHECK(wn_core_upload(g, lwd, g1, M * sizeof(double)) == 0);
	CHECK(wn_core_upload(g, hd, g2, M * sizeof(double)) == 0);
	CHECK(wn_core_softmin_rows(g, Cd, N, M, lwd, hd, 1.0, od) == 0);
	CHECK(wn_core_download(g, f2, od, N * sizeof(double)) == 0);
	CHECK(wn_core_softmin_rows(c, Cxy, N, M, g1, g2, 1.0, f1) == 0);
	CHECK(max_rel(f2, f1, N) < 1e-12);
	wn_core_free(g, Cd);
	wn_core_free(g, lwd);
	wn_core_free(g, hd);
	wn_core_free(g, od);

	/* the whole solve and the divergence */
	wn_sinkhorn_opts o = WN_SINKHORN_OPTS_INIT;
	o.blur = 0.5;
	double o1, o2, o3, d1, d2;
	CHECK(wn_core_sinkhorn(c, Cxy, N, M, NULL, NULL, &o, f1, g1, &o1, NULL, err, sizeof err) == 0);
	CHECK(wn_core_sinkhorn(g, Cxy, N, M, NULL, NULL, &o, f2, g2, &o2, NULL, err, sizeof err) == 0);
	CHECK(wn_core_sinkhorn(g, Cxy, N, M, NULL, NULL, &o, f3, g3, &o3, NULL, err, sizeof err) == 0);
	CHECK_NEAR(o2, o1, 1e-8 * (1 + fabs(o1)));
	CHECK(max_rel(f2, f1, N) < 1e-8 && max_rel(g2, g1, M) < 1e-8);
	CHECK(!memcmp(f2, f3, N * sizeof *f2) && !memcmp(g2, g3, M * sizeof *g2) && o2 == o3);
	CHECK(wn_core_sinkhorn_divergence(c, Cxy, Cxx, Cyy, N, M, NULL, NULL, &o, ga, gb, &d1, err,
					  sizeof err) == 0);
	CHECK(wn_core_sinkhorn_divergence(g, Cxy, Cxx, Cyy, N, M, NULL, NULL, &o, ha, hb, &d2, err,
					  sizeof err) == 0);
	CHECK(d1 > 0.1);
	CHECK_NEAR(d2, d1, 1e-8 * (1 + fabs(d1)));
	CHECK(max_rel(ha, ga, N) < 1e-8 && max_rel(hb, gb, M) < 1e-8);
	wn_core_close(g);
	wn_core_close(c);
	free(X); free(Y); free(Cxy); free(Cxx); free(Cyy);
	free(ga); free(gb); free(ha); free(hb);
	free(f1); free(g1); free(f2); free(g2); free(f3); free(g3);
}

int main(void)
{
	RUN(test_cost_matches_double);
	RUN(test_brute_force_six_points);
	RUN(test_debiased_self_is_zero);
	RUN(test_gradient_finite_differences);
	RUN(test_threads_bit_identical);
	RUN(test_bad_arguments);
	RUN(test_cpu_vs_cuda);
	return TEST_EXIT;
}
