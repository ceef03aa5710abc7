/*
 * tests/unit/test_sensitivity.c — selectors/sensitivity.c against outside
 * references:
 *  - numpy's values (fixtures/sensitivity/NAME-expected.txt, converted from
 *    ../shared/vectors/sensitivity/NAME-expected.npz with python3's zipfile,
 *    every float64 printed by repr) of leverage, ridge leverage (λ = 1),
 *    Lewis p = 1, 1.5, 3 and the lightweight q on wine (178×13) and diabetes
 *    (442×10), within the README's tolerances (1e-9 relative for leverage
 *    and q, 1e-6 for Lewis);
 *  - a 5×2 hand example (leverage and ridge leverage by hand: AᵀA is
 *    diagonal);
 *  - a rank-deficient matrix (a repeated column): rank and Σ τ = rank, the
 *    same τ as the full-rank matrix without the repeat;
 *  - Lewis at p = 4 and 6: the averaged iteration converges, Σ w = d, and
 *    the result satisfies the fixed point w = τ(w)^{p/2} to 1e-9;
 *  - float32 input gives the float64 result of the same (rounded) values;
 *  - the GEMM path with the rows kept on the device (forced on a CPU
 *    context by $WINNOW_SOLVE_RESIDENT) gives the streaming GEMM path's
 *    leverage and Lewis scores bit for bit, reads the source once plus the
 *    emitting pass (which asks for records only), and a budget under n·d·4
 *    falls back to streaming with the same scores; without the variable the
 *    CPU context never keeps rows.
 */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "selectors/sensitivity.h"
#include "test.h"

struct ref {
	int64_t n, d;
	double *A;      /* n×d */
	double *e[6];   /* leverage ridge lewis1 lewis1.5 lewis3 q */
};

static void ref_free(struct ref *r)
{
	free(r->A);
	for (int k = 0; k < 6; k++)
		free(r->e[k]);
	memset(r, 0, sizeof *r);
}

static FILE *open_fixture(const char *name)
{
	char path[4096];
	const char *root = getenv("WINNOW_ROOT");
	snprintf(path, sizeof path, "%s/fixtures/sensitivity/%s", root && *root ? root : ".", name);
	return fopen(path, "r");
}

/* "<name>.txt" (n d, then rows) and "<name>-expected.txt" (a comment, then 6 columns). */
static int ref_load(struct ref *r, const char *name)
{
	memset(r, 0, sizeof *r);
	char fn[256];
	snprintf(fn, sizeof fn, "%s.txt", name);
	FILE *f = open_fixture(fn);
	long long n, d;
	if (!f || fscanf(f, "%lld %lld", &n, &d) != 2)
		return f ? fclose(f), -1 : -1;
	r->n = n, r->d = d;
	r->A = malloc(sizeof(double) * (size_t)(n * d));
	for (long long k = 0; k < n * d; k++)
		if (fscanf(f, "%lf", &r->A[k]) != 1)
			return fclose(f), -1;
	fclose(f);
	snprintf(fn, sizeof fn, "%s-expected.txt", name);
	if (!(f = open_fixture(fn)))
		return -1;
	char line[512];
	if (!fgets(line, sizeof line, f))
		return fclose(f), -1;
	for (int k = 0; k < 6; k++)
		r->e[k] = malloc(sizeof(double) * (size_t)n);
	for (long long i = 0; i < n; i++)
		for (int k = 0; k < 6; k++)
			if (fscanf(f, "%lf", &r->e[k][i]) != 1)
				return fclose(f), -1;
	fclose(f);
	return 0;
}

/* Largest |got − want| / |want|. */
static double max_rel(const double *got, const double *want, int64_t n)
{
	double m = 0;
	for (int64_t i = 0; i < n; i++) {
		double e = fabs(got[i] - want[i]) / fabs(want[i]);
		m = e > m ? e : m;
	}
	return m;
}

static void check_reference(const char *name)
{
	struct ref r;
	char err[256] = "";
	CHECK(ref_load(&r, name) == 0);
	wn_sens_matrix A = {r.A, NULL, r.n, r.d};
	double *v = malloc(sizeof(double) * (size_t)r.n);
	wn_sens_info info;

	CHECK(wn_sens_leverage(&A, 0.0, v, &info, err, sizeof err) == 0);
	CHECK_EQ_INT(info.rank, r.d);
	CHECK_EQ_INT(info.method, WN_SENS_CHOLESKY);
	CHECK_NEAR(info.sum, (double)r.d, 1e-9);
	double e = max_rel(v, r.e[0], r.n);
	if (!(e <= 1e-9))
		TEST_FAIL_("%s leverage: max relative error %.3g > 1e-9", name, e);

	CHECK(wn_sens_leverage(&A, 1.0, v, &info, err, sizeof err) == 0);
	e = max_rel(v, r.e[1], r.n);
	if (!(e <= 1e-9))
		TEST_FAIL_("%s ridge leverage: max relative error %.3g > 1e-9", name, e);

	const double ps[3] = {1.0, 1.5, 3.0};
	for (int k = 0; k < 3; k++) {
		CHECK(wn_sens_lewis(&A, ps[k], 1e-12, 1000, v, &info, err, sizeof err) == 0);
		CHECK_NEAR(info.sum, (double)r.d, 1e-8);
		CHECK(info.iters > 1 && info.change <= 1e-12);
		e = max_rel(v, r.e[2 + k], r.n);
		if (!(e <= 1e-6))
			TEST_FAIL_("%s lewis p=%g: max relative error %.3g > 1e-6", name, ps[k], e);
	}

	CHECK(wn_sens_kmeans_lightweight(&A, v, &info, err, sizeof err) == 0);
	CHECK_NEAR(info.sum, 1.0, 1e-12);
	e = max_rel(v, r.e[5], r.n);
	if (!(e <= 1e-9))
		TEST_FAIL_("%s lightweight q: max relative error %.3g > 1e-9", name, e);
	free(v);
	ref_free(&r);
}

static void test_wine_reference(void) { check_reference("wine"); }
static void test_diabetes_reference(void) { check_reference("diabetes"); }

/*
 * A = [[1,0],[1,0],[0,2],[0,1],[2,1]]: AᵀA = [[6,2],[2,6]]. (AᵀA)⁻¹ =
 * [[6,-2],[-2,6]]/32, so by hand τ(a) = (6a1² − 4a1a2 + 6a2²)/32: (1,0)→6/32, (0,2)→24/32, (0,1)→6/32,
 * (2,1)→(24−8+6)/32 = 22/32; Σ = (6+6+24+6+22)/32 = 2. Ridge λ = 2:
 * (AᵀA+2I)⁻¹ = [[8,-2],[-2,8]]/60: τ(a) = (8a1² − 4a1a2 + 8a2²)/60.
 */
static void test_hand_5x2(void)
{
	const double a[10] = {1, 0, 1, 0, 0, 2, 0, 1, 2, 1};
	const double want[5] = {6 / 32., 6 / 32., 24 / 32., 6 / 32., 22 / 32.};
	const double wridge[5] = {8 / 60., 8 / 60., 32 / 60., 8 / 60., (32 - 8 + 8) / 60.};
	wn_sens_matrix A = {a, NULL, 5, 2};
	double t[5];
	wn_sens_info info;
	char err[256];
	CHECK(wn_sens_leverage(&A, 0, t, &info, err, sizeof err) == 0);
	for (int i = 0; i < 5; i++)
		CHECK_NEAR(t[i], want[i], 1e-15);
	CHECK_EQ_INT(info.rank, 2);
	CHECK_NEAR(info.sum, 2.0, 1e-14);
	CHECK(wn_sens_leverage(&A, 2.0, t, &info, err, sizeof err) == 0);
	for (int i = 0; i < 5; i++)
		CHECK_NEAR(t[i], wridge[i], 1e-15);
	/* lightweight q: μ = (0.8, 0.8); d² by hand */
	double q[5], d2[5], s = 0;
	for (int i = 0; i < 5; i++) {
		double x = a[2 * i] - 0.8, y = a[2 * i + 1] - 0.8;
		d2[i] = x * x + y * y;
		s += d2[i];
	}
	CHECK(wn_sens_kmeans_lightweight(&A, q, &info, err, sizeof err) == 0);
	for (int i = 0; i < 5; i++)
		CHECK_NEAR(q[i], 0.1 + 0.5 * d2[i] / s, 1e-15);
}

/* A column repeated: rank d−1, the eigen path, the τ of the matrix without it. */
static void test_rank_deficient(void)
{
	struct ref r;
	char err[256] = "";
	CHECK(ref_load(&r, "diabetes") == 0);
	int64_t n = r.n, d = r.d;
	double *B = malloc(sizeof(double) * (size_t)(n * (d + 1)));
	for (int64_t i = 0; i < n; i++) {
		memcpy(B + i * (d + 1), r.A + i * d, sizeof(double) * (size_t)d);
		B[i * (d + 1) + d] = 3.0 * r.A[i * d + 2]; /* a multiple of column 2 */
	}
	wn_sens_matrix A = {B, NULL, n, d + 1};
	double *t = malloc(sizeof(double) * (size_t)n);
	wn_sens_info info;
	CHECK(wn_sens_leverage(&A, 0, t, &info, err, sizeof err) == 0);
	CHECK_EQ_INT(info.method, WN_SENS_EIGEN);
	CHECK_EQ_INT(info.rank, d);
	CHECK_NEAR(info.sum, (double)d, 1e-8);
	double e = max_rel(t, r.e[0], n);
	if (!(e <= 1e-7))
		TEST_FAIL_("rank-deficient leverage: max relative error %.3g > 1e-7", e);
	CHECK(wn_sens_lewis(&A, 1.0, 1e-12, 1000, t, &info, err, sizeof err) == 0);
	CHECK_NEAR(info.sum, (double)d, 1e-7);
	free(t);
	free(B);
	ref_free(&r);
}

/* p >= 4: converges (averaged), Σw = d, and w = τ(w)^{p/2} holds. */
static void check_lewis_high(double p)
{
	struct ref r;
	char err[256] = "";
	CHECK(ref_load(&r, "wine") == 0);
	wn_sens_matrix A = {r.A, NULL, r.n, r.d};
	double *w = malloc(sizeof(double) * (size_t)r.n), *f = malloc(sizeof(double) * (size_t)r.n);
	double *t = malloc(sizeof(double) * (size_t)r.n);
	wn_sens_info info;
	CHECK(wn_sens_lewis(&A, p, 1e-12, 2000, w, &info, err, sizeof err) == 0);
	CHECK(info.damped == 1);
	CHECK(info.change <= 1e-12);
	CHECK_NEAR(info.sum, (double)r.d, 1e-8);
	/* the fixed point: τ_i of W^{(1/2−1/p)}A is w_i^{1−2/p}·τ_i(w), so
	 * τ_i(w) = lev_i(W^{(1/2−1/p)}A) / w_i^{1−2/p}, by the plain leverage */
	double *S = malloc(sizeof(double) * (size_t)(r.n * r.d));
	for (int64_t i = 0; i < r.n; i++) {
		f[i] = pow(w[i], 0.5 - 1.0 / p);
		for (int64_t j = 0; j < r.d; j++)
			S[i * r.d + j] = f[i] * r.A[i * r.d + j];
	}
	wn_sens_matrix As = {S, NULL, r.n, r.d};
	CHECK(wn_sens_leverage(&As, 0, t, &info, err, sizeof err) == 0);
	double worst = 0;
	for (int64_t i = 0; i < r.n; i++) {
		double tau = t[i] / (f[i] * f[i]);
		double e = fabs(pow(tau, p / 2) - w[i]) / w[i];
		worst = e > worst ? e : worst;
	}
	if (!(worst <= 1e-9))
		TEST_FAIL_("p=%g: fixed point off by %.3g (relative)", p, worst);
	free(S);
	free(w);
	free(f);
	free(t);
	ref_free(&r);
}

static void test_lewis_p4(void) { check_lewis_high(4.0); }
static void test_lewis_p6(void) { check_lewis_high(6.0); }

/* float32 rows: the float64 result of the same rounded values. */
static void test_float32_rows(void)
{
	struct ref r;
	char err[256] = "";
	CHECK(ref_load(&r, "diabetes") == 0);
	float *F = malloc(sizeof(float) * (size_t)(r.n * r.d));
	double *D = malloc(sizeof(double) * (size_t)(r.n * r.d));
	for (int64_t k = 0; k < r.n * r.d; k++)
		D[k] = F[k] = (float)r.A[k];
	double *t32 = malloc(sizeof(double) * (size_t)r.n), *t64 = malloc(sizeof(double) * (size_t)r.n);
	wn_sens_matrix A32 = {NULL, F, r.n, r.d}, A64 = {D, NULL, r.n, r.d};
	wn_sens_info info;
	CHECK(wn_sens_leverage(&A32, 0, t32, &info, err, sizeof err) == 0);
	CHECK(wn_sens_leverage(&A64, 0, t64, &info, err, sizeof err) == 0);
	for (int64_t i = 0; i < r.n; i++)
		CHECK(t32[i] == t64[i]);
	free(F);
	free(D);
	free(t32);
	free(t64);
	ref_free(&r);
}

/* Same bits at 1 and 2 threads, with n large enough for several Gram ranges. */
static void test_threads_identical(void)
{
	int64_t n = 9000, d = 7;
	float *F = malloc(sizeof(float) * (size_t)(n * d));
	uint64_t x = 12345;
	for (int64_t k = 0; k < n * d; k++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		F[k] = (float)((double)(x >> 11) / 9007199254740992.0 - 0.5);
	}
	wn_sens_matrix A = {NULL, F, n, d};
	double *t1 = malloc(sizeof(double) * (size_t)n), *t2 = malloc(sizeof(double) * (size_t)n);
	wn_sens_info info;
	char err[256];
	for (int m = 0; m < 2; m++) {
		omp_set_num_threads(1);
		CHECK(m ? wn_sens_lewis(&A, 3, 1e-12, 500, t1, &info, err, sizeof err) == 0
			: wn_sens_leverage(&A, 0.5, t1, &info, err, sizeof err) == 0);
		omp_set_num_threads(2);
		CHECK(m ? wn_sens_lewis(&A, 3, 1e-12, 500, t2, &info, err, sizeof err) == 0
			: wn_sens_leverage(&A, 0.5, t2, &info, err, sizeof err) == 0);
		CHECK(memcmp(t1, t2, sizeof(double) * (size_t)n) == 0);
	}
	free(F);
	free(t1);
	free(t2);
}

/* A float32 matrix as a source that counts its passes (and the record-only ones). */
struct count_src {
	const float *X;
	int64_t n, d, at, batch, done;
	int passes, emit_passes;
	double *out;
};

static int cs_rewind(void *ctx, char *err, size_t errlen)
{
	struct count_src *m = ctx;
	m->at = m->done = 0;
	m->passes++;
	return 0;
}

static int cs_rewind_emit(void *ctx, char *err, size_t errlen)
{
	((struct count_src *)ctx)->emit_passes++;
	return cs_rewind(ctx, err, errlen);
}

static int cs_next(void *ctx, const float **X32, const double **X64, int64_t *rows, char *err,
		   size_t errlen)
{
	struct count_src *m = ctx;
	if (m->at >= m->n)
		return 0;
	*rows = m->n - m->at < m->batch ? m->n - m->at : m->batch;
	*X32 = m->X + m->at * m->d;
	*X64 = NULL;
	m->at += *rows;
	return 1;
}

static int cs_sink(void *ctx, const double *v, int64_t rows, char *err, size_t errlen)
{
	struct count_src *m = ctx;
	memcpy(m->out + m->done, v, sizeof(double) * (size_t)rows);
	m->done += rows;
	return 0;
}

/* Leverage (m 0) or Lewis p = 3 (m 1) on the GEMM path of c, resident per $WINNOW_SOLVE_RESIDENT. */
static int gemm_scores(wn_core *c, const float *X, int64_t n, int64_t d, int m, double *out,
		       wn_sens_info *info, int *passes, int *emit_passes)
{
	struct count_src cs = {X, n, d, 0, wn_sens_batch_rows(d), 0, 0, 0, out};
	wn_sens_source src = {&cs, d, cs_rewind, cs_next, cs_rewind_emit};
	char err[256];
	int rc = m ? wn_sens_lewis_stream(&src, c, 3.0, 1e-6, 200, 0, cs_sink, &cs, info, err,
					  sizeof err)
		   : wn_sens_leverage_stream(&src, c, 0.25, cs_sink, &cs, info, err, sizeof err);
	*passes = cs.passes;
	*emit_passes = cs.emit_passes;
	return rc || cs.done != n ? -1 : 0;
}

static void test_resident_gemm_path(void)
{
	int64_t n = 20000, d = 9; /* 8192-row batches: three, the last partial */
	float *F = malloc(sizeof(float) * (size_t)(n * d));
	uint64_t x = 777;
	for (int64_t k = 0; k < n * d; k++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		F[k] = (float)((double)(x >> 11) / 9007199254740992.0 - 0.5 + (k % d == 2));
	}
	char err[256], big[32];
	wn_core *c = wn_core_open(WN_DEVICE_CPU, 2, err, sizeof err);
	CHECK(c != NULL);
	double *s = malloc(sizeof(double) * (size_t)n), *r = malloc(sizeof(double) * (size_t)n);
	snprintf(big, sizeof big, "%lld", (long long)(n * d * 4));
	for (int m = 0; m < 2; m++) {
		wn_sens_info is, ir, idrop;
		int ps, es, pr, er, pd, ed;
		unsetenv("WINNOW_SOLVE_RESIDENT");
		CHECK(gemm_scores(c, F, n, d, m, s, &is, &ps, &es) == 0);
		CHECK(is.resident == 0);
		setenv("WINNOW_SOLVE_RESIDENT", big, 1); /* exactly n·d·4: fits */
		CHECK(gemm_scores(c, F, n, d, m, r, &ir, &pr, &er) == 0);
		CHECK(ir.resident == 1);
		CHECK(memcmp(s, r, sizeof(double) * (size_t)n) == 0);
		CHECK(ir.iters == is.iters && ir.change == is.change && ir.sum == is.sum);
		CHECK_EQ_INT(pr, 2); /* pass 1 and the emitting pass, nothing between */
		CHECK_EQ_INT(er, 1);
		CHECK_EQ_INT(ps, m ? is.iters + 2 : 2);
		CHECK(m ? is.iters > 2 : 1);
		snprintf(big, sizeof big, "%lld", (long long)(n * d * 4 - 1)); /* one byte short */
		setenv("WINNOW_SOLVE_RESIDENT", big, 1);
		CHECK(gemm_scores(c, F, n, d, m, r, &idrop, &pd, &ed) == 0);
		CHECK(idrop.resident == 0);
		CHECK_EQ_INT(pd, ps);
		CHECK(memcmp(s, r, sizeof(double) * (size_t)n) == 0);
		snprintf(big, sizeof big, "%lld", (long long)(n * d * 4));
	}
	unsetenv("WINNOW_SOLVE_RESIDENT");
	wn_core_close(c);
	free(F), free(s), free(r);
}

static void test_bad_arguments(void)
{
	const double a[2] = {1, 2};
	wn_sens_matrix A = {a, NULL, 1, 2};
	double t[1];
	wn_sens_info info;
	char err[256] = "";
	CHECK(wn_sens_leverage(&A, -1, t, &info, err, sizeof err) == -1);
	CHECK(strstr(err, "ridge") != NULL);
	CHECK(wn_sens_lewis(&A, 0, 1e-9, 10, t, &info, err, sizeof err) == -1);
	CHECK(strstr(err, "p > 0") != NULL);
	CHECK_NEAR(wn_sens_lewis_bound(0.5, 2, 9), 0.5, 0);
	CHECK_NEAR(wn_sens_lewis_bound(0.5, 4, 9), 4.5, 1e-15);
}

int main(void)
{
	RUN(test_hand_5x2);
	RUN(test_wine_reference);
	RUN(test_diabetes_reference);
	RUN(test_rank_deficient);
	RUN(test_lewis_p4);
	RUN(test_lewis_p6);
	RUN(test_float32_rows);
	RUN(test_threads_identical);
	RUN(test_resident_gemm_path);
	RUN(test_bad_arguments);
	return TEST_EXIT;
}
