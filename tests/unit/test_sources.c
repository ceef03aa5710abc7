/*
 * tests/unit/test_sources.c — selectors/sources*.c against the worked
 * values of issue 21 (hand computations of the official formulas, checked
 * with a short numpy-free Python transcription of objective.py):
 *  - QQT utility with repetition: a=0.022, d=0.1, S=12.8M, b=-0.2, tau=4,
 *    n=32M -> 0.787269;
 *  - mixing pools (-0.25,3), (-0.15,6), 12.8M each: n=38.4M top-1 0.712901,
 *    top-2 0.750223; n=640M 0.641455 vs 0.545493;
 *  - the grid fit recovers (b, tau) of pilots made from the model, and a;
 *    the same seed gives the same fit, ties go the same way;
 *  - the mixture gradient: f = [0.5, 0.3 | 0.1, 0.1], n1 = 2, N = 4 -> 0.30;
 *  - OTDD: labels change the distance (swapped labels cost about W/2), the
 *    plain feature OT of a set with itself is 0, the gradient in p against
 *    finite differences along the simplex, a pure mixture is the source's
 *    own distance;
 *  - plan: b0=-20, b1=5, b2=-4, c1=3, c0=90, p1=0.5, OT 1.2 / 1.0 -> 69.3,
 *    73.0 and 90.3118 at 10,000; 60 at 1,000 and 64 at 1,500 -> 82.7155;
 *    the least-squares fit recovers the coefficients on the 0.1 grid; the
 *    gradient against finite differences; the simplex projection by hand.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "selectors/sources.h"
#include "test.h"

static void test_qqt_utility_worked(void)
{
	double b = -0.2, tau = 4;
	CHECK_NEAR(wn_qqt_loss(&b, &tau, 1, 12800000, 32000000, 0.022, 0.1), 0.787269, 1e-6);
	/* no repetition: n <= S is the plain power law x^b + d */
	CHECK_NEAR(wn_qqt_loss(&b, &tau, 1, 12800000, 6400000, 0.022, 0.1),
		   pow(0.022 * 64, -0.2) + 0.1, 1e-15);
	/* an exact number of epochs: the last (empty) partial epoch adds nothing */
	double e2 = (pow(0.022 * 128, -0.2) + 0.1) * pow(2, -0.2 * pow(0.5, 0.25));
	CHECK_NEAR(wn_qqt_loss(&b, &tau, 1, 12800000, 25600000, 0.022, 0.1), e2, 1e-15);
}

static void test_qqt_mixing_worked(void)
{
	double b[2] = {-0.25, -0.15}, tau[2] = {3, 6};
	CHECK_NEAR(wn_qqt_topk(b, tau, 1, 12800000, 38400000, 0.022, 0.1), 0.712901, 1e-6);
	CHECK_NEAR(wn_qqt_topk(b, tau, 2, 12800000, 38400000, 0.022, 0.1), 0.750223, 1e-6);
	CHECK_NEAR(wn_qqt_topk(b, tau, 1, 12800000, 640000000, 0.022, 0.1), 0.641455, 1e-6);
	CHECK_NEAR(wn_qqt_topk(b, tau, 2, 12800000, 640000000, 0.022, 0.1), 0.545493, 1e-6);
}

static void test_qqt_sort(void)
{
	double b[4] = {-0.1, -0.3, -0.1, -0.2}, tau[4] = {1, 2, 3, 4};
	int order[4];
	wn_qqt_sort_pools(b, tau, order, 4);
	CHECK_EQ_INT(order[0], 1);
	CHECK_EQ_INT(order[1], 3);
	CHECK_EQ_INT(order[2], 0); /* stable among equal b */
	CHECK_EQ_INT(order[3], 2);
	CHECK(b[0] == -0.3 && tau[0] == 2 && tau[3] == 3);
}

#define NP 5
static const int64_t pil_n[NP] = {6400000, 12800000, 25600000, 64000000, 128000000};

static void make_pilots(double b, double tau, double a, int64_t *S, int64_t *n, double *y)
{
	for (int i = 0; i < NP; i++) {
		S[i] = 12800000;
		n[i] = pil_n[i];
		y[i] = wn_qqt_loss(&b, &tau, 1, S[i], n[i], a, 0.1);
	}
}

static void test_qqt_grid(void)
{
	CHECK_NEAR(wn_qqt_grid_b(0), -0.005, 1e-15);
	CHECK_NEAR(wn_qqt_grid_b(99), -0.5, 1e-15);
	CHECK_NEAR(wn_qqt_grid_b(49), -0.25, 1e-15);
	CHECK_NEAR(wn_qqt_grid_tau(22), 3, 1e-15);
	CHECK_NEAR(wn_qqt_grid_tau(99), 10, 1e-15);
	CHECK_NEAR(wn_qqt_grid_a(0, 0.2), 0.0001, 1e-15);
	CHECK_NEAR(wn_qqt_grid_a(99, 0.2), 0.2, 1e-15);
}

static void test_qqt_fit_recovers(void)
{
	int64_t S[NP], n[NP];
	double y[NP], b, tau, sse;
	char err[256];
	make_pilots(-0.15, 6, 0.022, S, n, y);
	wn_qqt_pilots p = {S, n, y, NP};
	CHECK(wn_qqt_fit_pool(&p, 0.022, 0.1, 7, &b, &tau, &sse, err, sizeof err) == 0);
	CHECK_NEAR(b, -0.15, 1e-12);
	CHECK_NEAR(tau, 6, 1e-12);
	CHECK(sse < 1e-20);
	/* noisy pilots: the fit is the grid point of least squares, the same for every seed */
	for (int i = 0; i < NP; i++)
		y[i] += (i % 2 ? 1e-3 : -1e-3);
	double b1, t1, s1, b2, t2, s2;
	CHECK(wn_qqt_fit_pool(&p, 0.022, 0.1, 1, &b1, &t1, &s1, err, sizeof err) == 0);
	CHECK(wn_qqt_fit_pool(&p, 0.022, 0.1, 2, &b2, &t2, &s2, err, sizeof err) == 0);
	CHECK(b1 == b2 && t1 == t2 && s1 == s2);
	/* brute force over the grid in plain order agrees on the residual */
	double best = INFINITY;
	for (int i = 0; i < WN_QQT_GRID; i++)
		for (int j = 0; j < WN_QQT_GRID; j++) {
			double bb = wn_qqt_grid_b(i), tt = wn_qqt_grid_tau(j), s = 0;
			for (int k = 0; k < NP; k++) {
				double r = wn_qqt_loss(&bb, &tt, 1, S[k], n[k], 0.022, 0.1) - y[k];
				s += r * r;
			}
			if (s < best)
				best = s;
		}
	CHECK(s1 == best);
}

static void test_qqt_fit_a(void)
{
	int64_t S[3][NP], n[3][NP];
	double y[3][NP], a, ga = wn_qqt_grid_a(10, 0.2);
	const double bs[3] = {-0.25, -0.15, -0.05}, ts[3] = {3, 6, 2};
	wn_qqt_pilots p[3];
	for (int k = 0; k < 3; k++) {
		make_pilots(bs[k], ts[k], ga, S[k], n[k], y[k]);
		p[k] = (wn_qqt_pilots){S[k], n[k], y[k], NP};
	}
	char err[256];
	CHECK(wn_qqt_fit_a(p, 3, 0.1, 0.2, &a, err, sizeof err) == 0);
	CHECK_NEAR(a, ga, 1e-15);
}

static void test_qqt_bad_pilots(void)
{
	int64_t S[1] = {0}, n[1] = {5};
	double y[1] = {0.5}, b, tau, sse;
	char err[256];
	wn_qqt_pilots p = {S, n, y, 1};
	CHECK(wn_qqt_fit_pool(&p, 0.022, 0.1, 0, &b, &tau, &sse, err, sizeof err) == -1);
	CHECK(strstr(err, "must be >= 1") != NULL);
	p.m = 0;
	CHECK(wn_qqt_fit_pool(&p, 0.022, 0.1, 0, &b, &tau, &sse, err, sizeof err) == -1);
	CHECK(strstr(err, "without pilots") != NULL);
}

static void test_mix_gradient_worked(void)
{
	/* f = [0.5, 0.3 | 0.1, 0.1], n1 = 2, N = 4 -> 0.30 (issue 21) */
	const double f[4] = {0.5, 0.3, 0.1, 0.1}, p[2] = {0.5, 0.5};
	const int32_t src[4] = {0, 0, 1, 1};
	const int64_t counts[2] = {2, 2};
	double g[2];
	wn_sources_mix_gradient(f, src, 4, 2, counts, p, g);
	CHECK_NEAR(g[0], 0.30, 1e-15);
	CHECK_NEAR(g[1], (0.2 / 2) - 2.0 / 2 * 0.8 / 2, 1e-15);
	/* n_i = N: 0 */
	const int64_t all[2] = {4, 0};
	const int32_t one[4] = {0, 0, 0, 0};
	const double p1[2] = {1, 0};
	wn_sources_mix_gradient(f, one, 4, 2, all, p1, g);
	CHECK(g[0] == 0 && g[1] == 0);
}

/* two 2-D clusters at (0,0) and (3,0), 6 points each, labels by cluster (swap: the other way) */
static void make_set(wn_src_set *s, uint64_t seed, int swap, double shift)
{
	static char *names_[2] = {"x", "y"};
	s->n = 12;
	s->d = 2;
	s->X = malloc(24 * sizeof *s->X);
	s->label = malloc(12 * sizeof *s->label);
	s->names = malloc(2 * sizeof *s->names);
	s->nlabels = 2;
	for (int l = 0; l < 2; l++)
		s->names[l] = strdup(names_[l]);
	for (int i = 0; i < 12; i++) {
		int c = i % 2;
		double u = (double)((i * 7 + seed * 3) % 11) / 11.0 - 0.5;
		double v = (double)((i * 5 + seed) % 13) / 13.0 - 0.5;
		s->X[2 * i] = (float)(3.0 * c + 0.4 * u + shift);
		s->X[2 * i + 1] = (float)(0.4 * v);
		/* swap 1: the names exchanged; swap 2: labels across the clusters */
		s->label[i] = swap == 1 ? 1 - c : swap == 2 ? (i / 2) % 2 : c;
	}
}

static wn_core *cpu1(void)
{
	char err[256];
	return wn_core_open(WN_DEVICE_CPU, 1, err, sizeof err);
}

static void test_otdd_labels_matter(void)
{
	wn_core *c = cpu1();
	wn_src_set a = {0}, t_same = {0}, t_swap = {0}, t_mixed = {0};
	make_set(&a, 1, 0, 0);
	make_set(&t_same, 2, 0, 0);
	make_set(&t_swap, 2, 1, 0);
	make_set(&t_mixed, 2, 2, 0);
	wn_sinkhorn_opts outer = WN_SINKHORN_OPTS_INIT, inner = WN_SINKHORN_OPTS_INIT;
	inner.blur = sqrt(0.1);
	wn_otdd o;
	char err[256];
	double d_same, d_swap, d_plain, d_mixed;
	CHECK(wn_otdd_init(&o, c, &a, 1, &t_same, 1, &outer, &inner, err, sizeof err) == 0);
	CHECK(wn_otdd_source(&o, 0, &d_same, err, sizeof err) == 0);
	wn_otdd_free(&o);
	CHECK(wn_otdd_init(&o, c, &a, 1, &t_swap, 1, &outer, &inner, err, sizeof err) == 0);
	CHECK(wn_otdd_source(&o, 0, &d_swap, err, sizeof err) == 0);
	wn_otdd_free(&o);
	CHECK(wn_otdd_init(&o, c, &a, 1, &t_mixed, 1, &outer, &inner, err, sizeof err) == 0);
	CHECK(wn_otdd_source(&o, 0, &d_mixed, err, sizeof err) == 0);
	wn_otdd_free(&o);
	CHECK(wn_otdd_init(&o, c, &a, 1, &t_swap, 0, &outer, &inner, err, sizeof err) == 0);
	CHECK(wn_otdd_source(&o, 0, &d_plain, err, sizeof err) == 0);
	wn_otdd_free(&o);
	/* labels are compared by their feature clouds, never by name: exchanging
	 * the names changes nothing; labels that cut across the clusters cost
	 * (each target class is half of each cluster: W about 9/2 against either) */
	CHECK_NEAR(d_swap, d_same, 1e-9);
	CHECK(d_mixed > d_same + 1.0);
	CHECK(d_plain < d_same);
	/* the plain feature OT of a set with itself is 0 (debiased) */
	CHECK(wn_otdd_init(&o, c, &a, 1, &a, 0, &outer, &inner, err, sizeof err) == 0);
	CHECK(wn_otdd_source(&o, 0, &d_plain, err, sizeof err) == 0);
	CHECK_NEAR(d_plain, 0, 1e-7);
	wn_otdd_free(&o);
	wn_src_set_free(&a);
	wn_src_set_free(&t_same);
	wn_src_set_free(&t_swap);
	wn_src_set_free(&t_mixed);
	wn_core_close(c);
}

static void test_otdd_mixture_gradient(void)
{
	wn_core *c = cpu1();
	wn_src_set s[3] = {{0}}, t = {0};
	make_set(&s[0], 1, 0, 0.0);
	make_set(&s[1], 3, 1, 0.5);
	make_set(&s[2], 5, 0, 1.5);
	make_set(&t, 2, 0, 0.3);
	wn_sinkhorn_opts outer = WN_SINKHORN_OPTS_INIT, inner = WN_SINKHORN_OPTS_INIT;
	outer.blur = 1.0; /* smooth enough for finite differences, and quick to converge */
	outer.tol = 1e-12;
	outer.max_iter = 200000;
	inner.blur = sqrt(0.1);
	wn_otdd o;
	char err[256];
	double p[3] = {0.5, 0.3, 0.2}, grad[3], d0, dp, dm;
	CHECK(wn_otdd_init(&o, c, s, 3, &t, 1, &outer, &inner, err, sizeof err) == 0);
	CHECK(wn_otdd_mixture(&o, p, &d0, grad, err, sizeof err) == 0);
	for (int i = 0; i < 3; i++) {
		double h = 1e-5, pp[3], pm[3];
		for (int k = 0; k < 3; k++) {
			double v = ((k == i) - p[k]) / (1 - p[i]); /* raise p_i, the rest in proportion */
			pp[k] = p[k] + h * v;
			pm[k] = p[k] - h * v;
		}
		CHECK(wn_otdd_mixture(&o, pp, &dp, NULL, err, sizeof err) == 0);
		CHECK(wn_otdd_mixture(&o, pm, &dm, NULL, err, sizeof err) == 0);
		double fd = (dp - dm) / (2 * h);
		CHECK_NEAR(grad[i], fd, 1e-6 + 1e-4 * fabs(fd));
	}
	/* a pure mixture is (up to the 1e-9 floor) the source's own distance */
	double e0[3] = {1, 0, 0}, dmix, dsrc;
	CHECK(wn_otdd_mixture(&o, e0, &dmix, NULL, err, sizeof err) == 0);
	CHECK(wn_otdd_source(&o, 0, &dsrc, err, sizeof err) == 0);
	CHECK_NEAR(dmix, dsrc, 1e-6);
	wn_otdd_free(&o);
	for (int k = 0; k < 3; k++)
		wn_src_set_free(&s[k]);
	wn_src_set_free(&t);
	wn_core_close(c);
}

static void test_otdd_bad_sets(void)
{
	wn_core *c = cpu1();
	wn_src_set a = {0}, t = {0};
	make_set(&a, 1, 0, 0);
	make_set(&t, 2, 0, 0);
	t.d = 1; /* pretend: a dimension mismatch */
	wn_sinkhorn_opts o1 = WN_SINKHORN_OPTS_INIT;
	wn_otdd o;
	char err[256];
	CHECK(wn_otdd_init(&o, c, &a, 1, &t, 1, &o1, &o1, err, sizeof err) == -1);
	CHECK(strstr(err, "source 1 has dimension 2, the target 1") != NULL);
	t.d = 2;
	wn_src_set_free(&a);
	wn_src_set_free(&t);
	wn_core_close(c);
}

static void test_plan_worked(void)
{
	/* b0=-20, b1=5, b2=-4, c1=3, c0=90, p1=0.5: OT 1.2 at N0 -> 69.3, OT 1.0 at N1 -> 73.0 */
	const double beta[5] = {-4, 5, -20, 3, 90}, p[2] = {0.5, 0.5};
	double L0 = wn_plan_predict(beta, p, 2, 1.2), L1 = wn_plan_predict(beta, p, 2, 1.0);
	CHECK_NEAR(L0, 69.3, 1e-12);
	CHECK_NEAR(L1, 73.0, 1e-12);
	CHECK_NEAR(wn_plan_interp(10000, 1000, L0, 1500, L1), 90.3118, 1e-4);
	CHECK_NEAR(wn_plan_interp(10000, 1000, 60, 1500, 64), 82.7155, 1e-4);
	/* the interpolation is exact at the pilot sizes */
	CHECK_NEAR(wn_plan_interp(1000, 1000, 60, 1500, 64), 60, 1e-12);
	CHECK_NEAR(wn_plan_interp(1500, 1000, 60, 1500, 64), 64, 1e-12);
}

static double synth_ot(const double *p) { return 1.2 + 0.3 * p[0] * p[0] - 0.2 * p[1]; }

static void test_plan_fit_recovers(void)
{
	/* K = 3 on the step-0.1 simplex grid (66 mixtures), OT varying with p */
	const double beta[8] = {-4, 2, 5, -1, -20, 3, 1.5, 90};
	double feat[66 * 8], y[66], fit[8], rss;
	int m = 0;
	for (int i = 0; i <= 10; i++)
		for (int j = 0; i + j <= 10; j++, m++) {
			double p[3] = {i / 10.0, j / 10.0, (10 - i - j) / 10.0};
			wn_plan_features(p, 3, synth_ot(p), feat + m * 8);
			y[m] = wn_plan_predict(beta, p, 3, synth_ot(p));
		}
	CHECK_EQ_INT(m, 66);
	char err[256];
	CHECK(wn_plan_fit(feat, y, m, 8, fit, &rss, err, sizeof err) == 0);
	for (int k = 0; k < 8; k++)
		CHECK_NEAR(fit[k], beta[k], 1e-8);
	CHECK(rss < 1e-16);
	CHECK(wn_plan_fit(feat, y, 7, 8, fit, &rss, err, sizeof err) == -1);
	CHECK(strstr(err, "7 pilots for 8 coefficients") != NULL);
}

static void test_plan_gradient(void)
{
	/* dOT/dp of synth_ot as the partials; the model's gradient against finite differences */
	const double beta[8] = {-4, 2, 5, -1, -20, 3, 1.5, 90};
	double p[3] = {0.3, 0.5, 0.2}, dot[3] = {0.6 * p[0], -0.2, 0}, g[3], h = 1e-6;
	wn_plan_gradient(beta, p, 3, synth_ot(p), dot, g);
	for (int i = 0; i < 3; i++) {
		double pp[3], pm[3];
		memcpy(pp, p, sizeof p);
		memcpy(pm, p, sizeof p);
		pp[i] += h;
		pm[i] -= h;
		double fd = (wn_plan_predict(beta, pp, 3, synth_ot(pp)) -
			     wn_plan_predict(beta, pm, 3, synth_ot(pm))) / (2 * h);
		CHECK_NEAR(g[i], fd, 1e-6);
	}
}

static void test_plan_simplex(void)
{
	double a[3] = {0.5, 0.3, 0.2};
	wn_plan_project_simplex(a, 3);
	CHECK_NEAR(a[0], 0.5, 1e-15);
	CHECK_NEAR(a[2], 0.2, 1e-15);
	/* sorted 1.2, 0.1, -0.4: j=1 gives t = 0.2 (1.2 > 0.2), j=2 gives t = 0.15 but 0.1 < 0.15,
	 * so theta = 0.2 and the projection is (1, 0, 0) */
	double b[3] = {1.2, 0.1, -0.4};
	wn_plan_project_simplex(b, 3);
	CHECK_NEAR(b[0], 1, 1e-15);
	CHECK_NEAR(b[1], 0, 1e-15);
	CHECK_NEAR(b[2], 0, 1e-15);
	double c[2] = {0.6, 0.6};
	wn_plan_project_simplex(c, 2);
	CHECK_NEAR(c[0], 0.5, 1e-15);
	CHECK_NEAR(c[1], 0.5, 1e-15);
}

int main(void)
{
	RUN(test_qqt_utility_worked);
	RUN(test_qqt_mixing_worked);
	RUN(test_qqt_sort);
	RUN(test_qqt_grid);
	RUN(test_qqt_fit_recovers);
	RUN(test_qqt_fit_a);
	RUN(test_qqt_bad_pilots);
	RUN(test_mix_gradient_worked);
	RUN(test_otdd_labels_matter);
	RUN(test_otdd_mixture_gradient);
	RUN(test_otdd_bad_sets);
	RUN(test_plan_worked);
	RUN(test_plan_fit_recovers);
	RUN(test_plan_gradient);
	RUN(test_plan_simplex);
	return TEST_EXIT;
}
