/*
 * tests/unit/test_cluster_kmeans.c — cluster/kmeans.h and cluster/hkmeans.h
 * on real vectors (bag-of-words projections of Debian package descriptions,
 * shaped like hash embeddings; see test_cluster_data.h).
 *
 * Shows: assignments, distances, sizes and inertia equal a brute-force
 * loop; runs are identical across reruns and thread counts; FAISS and the
 * compute core (CPU; CUDA under WINNOW_TEST_CUDA=1) reach the same inertia
 * within 1% from the same data, k, iterations and seed; reused centroids give the same ids; spherical
 * centroids are unit length; the training sample is uniform and
 * deterministic; hierarchical levels compose consistently; bad k is an
 * error with a message; the L2 distances and inertia of an assignment equal
 * a plain double loop bit for bit at every block tail.
 */
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "cluster/hkmeans.h"
#include "cluster/kmeans.h"
#include "core/core.h"
#include "core/rng.h"
#include "test.h"
#include "test_cluster_data.h"

#define N 6000
#define D 64

static float *X;
static char err[512];

static void test_sample_rows(void)
{
	int64_t a[500], b[500], c[500];
	CHECK_EQ_INT(wn_cluster_sample_rows(10000, 500, 7, a), 0);
	CHECK_EQ_INT(wn_cluster_sample_rows(10000, 500, 7, b), 0);
	CHECK_EQ_INT(wn_cluster_sample_rows(10000, 500, 8, c), 0);
	CHECK(memcmp(a, b, sizeof a) == 0);
	CHECK(memcmp(a, c, sizeof a) != 0);
	int64_t below_half = 0;
	for (int i = 0; i < 500; i++) {
		CHECK(a[i] >= 0 && a[i] < 10000);
		if (i)
			CHECK(a[i] > a[i - 1]); /* distinct, increasing */
		below_half += a[i] < 5000;
	}
	/* uniform: about half fall in the first half (binomial sd ~11) */
	CHECK(below_half > 200 && below_half < 300);
	int64_t all[20];
	CHECK_EQ_INT(wn_cluster_sample_rows(20, 20, 1, all), 0);
	for (int i = 0; i < 20; i++)
		CHECK_EQ_INT(all[i], i);
	CHECK(wn_cluster_sample_rows(5, 6, 1, all) < 0);
}

static void test_faiss_matches_brute_force(void)
{
	if (!X)
		SKIP("corpus not readable under %s", test_shared_dir());
	wn_cluster_kmeans_opts o = WN_CLUSTER_KMEANS_OPTS_INIT;
	o.k = 40;
	o.niter = 12;
	o.seed = 5;
	o.engine = WN_CLUSTER_ENGINE_FAISS;
	wn_cluster_kmeans_result r;
	CHECK_EQ_INT(wn_cluster_kmeans_run(NULL, &o, X, N, D, NULL, 0, &r, err, sizeof err), 0);
	CHECK_EQ_INT(r.k, 40);
	CHECK_EQ_INT(r.n_train, N);
	CHECK_EQ_INT(r.engine, WN_CLUSTER_ENGINE_FAISS);
	int32_t *bf = malloc(sizeof(int32_t) * N);
	double inertia = test_cluster_assign_bf(X, N, D, r.centroids, r.k, bf);
	CHECK_NEAR(r.inertia, inertia, 1e-6 * inertia);
	int64_t tot = 0, nonempty = 0;
	for (int64_t j = 0; j < r.k; j++) {
		tot += r.sizes[j];
		nonempty += r.sizes[j] > 0;
	}
	CHECK_EQ_INT(tot, N);
	CHECK_EQ_INT(nonempty, r.k); /* FAISS splits empty clusters */
	double sum_sq = 0;
	for (int i = 0; i < N; i++) {
		CHECK(r.assign[i] >= 0 && r.assign[i] < r.k);
		if (r.assign[i] != bf[i]) { /* only a tie may differ */
			double a = 0, b = 0;
			for (int t = 0; t < D; t++) {
				double x = X[i * D + t];
				a += (x - r.centroids[r.assign[i] * D + t]) * (x - r.centroids[r.assign[i] * D + t]);
				b += (x - r.centroids[bf[i] * D + t]) * (x - r.centroids[bf[i] * D + t]);
			}
			CHECK_NEAR(a, b, 1e-5);
		}
		sum_sq += (double)r.dist[i] * r.dist[i];
	}
	CHECK_NEAR(sum_sq, inertia, 1e-4 * inertia);
	/* the objective FAISS reports falls over the iterations */
	CHECK(r.obj_per_iter[r.niter - 1] < r.obj_per_iter[0]);
	free(bf);
	wn_cluster_kmeans_result_free(&r);
}

static void test_deterministic_across_threads(void)
{
	if (!X)
		SKIP("corpus not readable");
	wn_cluster_kmeans_opts o = WN_CLUSTER_KMEANS_OPTS_INIT;
	o.k = 50;
	o.niter = 10;
	o.seed = 11;
	o.engine = WN_CLUSTER_ENGINE_FAISS;
	wn_cluster_kmeans_result a, b, c;
	int saved = omp_get_max_threads();
	omp_set_num_threads(1);
	int rc = wn_cluster_kmeans_run(NULL, &o, X, N, D, NULL, 0, &a, err, sizeof err);
	omp_set_num_threads(saved > 1 ? saved : 2);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_INT(wn_cluster_kmeans_run(NULL, &o, X, N, D, NULL, 0, &b, err, sizeof err), 0);
	CHECK(memcmp(a.centroids, b.centroids, sizeof(float) * 50 * D) == 0);
	CHECK(memcmp(a.assign, b.assign, sizeof(int32_t) * N) == 0);
	CHECK(memcmp(a.dist, b.dist, sizeof(float) * N) == 0);
	CHECK(a.inertia == b.inertia);
	o.seed = 12; /* another seed, another start */
	CHECK_EQ_INT(wn_cluster_kmeans_run(NULL, &o, X, N, D, NULL, 0, &c, err, sizeof err), 0);
	CHECK(memcmp(a.centroids, c.centroids, sizeof(float) * 50 * D) != 0);
	omp_set_num_threads(saved);
	wn_cluster_kmeans_result_free(&a);
	wn_cluster_kmeans_result_free(&b);
	wn_cluster_kmeans_result_free(&c);
}

/* The quality bar: same vectors, k, iterations and seed: the core's
 * Lloyd iterations end within 1% of FAISS's inertia. The two start from
 * different random points (each engine's own init), so single runs differ
 * by their local minima (about 0.4% here); the bar is checked on the sum
 * over three seeds, and each seed within 2%. */
static void check_core_vs_faiss(int spherical, int device)
{
	if (!X)
		SKIP("corpus not readable");
	if (device == WN_DEVICE_CUDA && !getenv("WINNOW_TEST_CUDA"))
		SKIP("CUDA twin: set WINNOW_TEST_CUDA=1 (make test-cuda)");
	wn_core *core = wn_core_open(device, 0, err, sizeof err);
	if (!core && device == WN_DEVICE_CUDA)
		SKIP("%s", err);
	if (!core)
		TEST_FAIL_("wn_core_open: %s", err);
	double fs = 0, cs = 0;
	for (uint64_t seed = 1; seed <= 3; seed++) {
		wn_cluster_kmeans_opts o = WN_CLUSTER_KMEANS_OPTS_INIT;
		o.k = 60;
		o.niter = 20;
		o.seed = seed;
		o.spherical = spherical;
		wn_cluster_kmeans_result f, c;
		o.engine = WN_CLUSTER_ENGINE_FAISS;
		int rf = wn_cluster_kmeans_run(core, &o, X, N, D, NULL, 0, &f, err, sizeof err);
		o.engine = WN_CLUSTER_ENGINE_CORE;
		int rcore = wn_cluster_kmeans_run(core, &o, X, N, D, NULL, 0, &c, err, sizeof err);
		if (rf || rcore) {
			wn_core_close(core);
			TEST_FAIL_("k-means failed: %s", err);
		}
		CHECK_EQ_INT(c.engine, WN_CLUSTER_ENGINE_CORE);
		printf("# %s %s seed %d inertia: faiss %.6f core %.6f (ratio %.5f)\n",
		       device == WN_DEVICE_CUDA ? "cuda" : "cpu", spherical ? "spherical" : "l2",
		       (int)seed, f.inertia, c.inertia,
		       c.inertia / f.inertia);
		CHECK(fabs(c.inertia / f.inertia - 1.0) <= 0.02);
		/* the core's centroids assign as a brute-force loop does */
		double bf = test_cluster_assign_bf(X, N, D, c.centroids, c.k, NULL);
		if (!spherical)
			CHECK_NEAR(c.inertia, bf, 1e-6 * bf);
		fs += f.inertia;
		cs += c.inertia;
		wn_cluster_kmeans_result_free(&f);
		wn_cluster_kmeans_result_free(&c);
	}
	wn_core_close(core);
	CHECK(fabs(cs / fs - 1.0) <= 0.01);
}

static void test_core_within_1pct_of_faiss(void) { check_core_vs_faiss(0, WN_DEVICE_CPU); }
static void test_core_within_1pct_of_faiss_spherical(void) { check_core_vs_faiss(1, WN_DEVICE_CPU); }
/* the GPU path: the same bar, on the device machine */
static void test_cuda_within_1pct_of_faiss(void) { check_core_vs_faiss(0, WN_DEVICE_CUDA); }
static void test_cuda_within_1pct_of_faiss_spherical(void) { check_core_vs_faiss(1, WN_DEVICE_CUDA); }

static void test_centroid_reuse_keeps_ids(void)
{
	if (!X)
		SKIP("corpus not readable");
	wn_cluster_kmeans_opts o = WN_CLUSTER_KMEANS_OPTS_INIT;
	o.k = 30;
	o.niter = 8;
	o.seed = 2;
	wn_cluster_kmeans_result t, again, part;
	CHECK_EQ_INT(wn_cluster_kmeans_run(NULL, &o, X, N, D, NULL, 0, &t, err, sizeof err), 0);
	wn_cluster_kmeans_opts reuse = WN_CLUSTER_KMEANS_OPTS_INIT; /* k taken from the table */
	CHECK_EQ_INT(wn_cluster_kmeans_run(NULL, &reuse, X, N, D, t.centroids, t.k, &again, err,
					   sizeof err), 0);
	CHECK_EQ_INT(again.n_train, 0);
	CHECK(memcmp(t.assign, again.assign, sizeof(int32_t) * N) == 0);
	CHECK(t.inertia == again.inertia);
	/* tomorrow's batch: a different slice of the records keeps their ids */
	CHECK_EQ_INT(wn_cluster_kmeans_run(NULL, &reuse, X + 1000 * D, 2000, D, t.centroids, t.k,
					   &part, err, sizeof err), 0);
	CHECK(memcmp(t.assign + 1000, part.assign, sizeof(int32_t) * 2000) == 0);
	reuse.k = 31;
	wn_cluster_kmeans_result bad;
	CHECK(wn_cluster_kmeans_run(NULL, &reuse, X, N, D, t.centroids, t.k, &bad, err, sizeof err) < 0);
	CHECK(strstr(err, "does not match") != NULL);
	wn_cluster_kmeans_result_free(&t);
	wn_cluster_kmeans_result_free(&again);
	wn_cluster_kmeans_result_free(&part);
}

static void test_spherical_unit_centroids(void)
{
	if (!X)
		SKIP("corpus not readable");
	wn_cluster_kmeans_opts o = WN_CLUSTER_KMEANS_OPTS_INIT;
	o.k = 25;
	o.niter = 10;
	o.spherical = 1;
	wn_cluster_kmeans_result r;
	CHECK_EQ_INT(wn_cluster_kmeans_run(NULL, &o, X, N, D, NULL, 0, &r, err, sizeof err), 0);
	for (int j = 0; j < r.k; j++) {
		double s = 0;
		for (int t = 0; t < D; t++)
			s += (double)r.centroids[j * D + t] * r.centroids[j * D + t];
		CHECK_NEAR(s, 1.0, 1e-4);
	}
	for (int i = 0; i < N; i++) {
		CHECK(r.dist[i] >= -1e-6 && r.dist[i] <= 2.0 + 1e-6);
		double best = -INFINITY, mine = 0; /* argmax inner product */
		for (int j = 0; j < r.k; j++) {
			double ip = 0;
			for (int t = 0; t < D; t++)
				ip += (double)X[i * D + t] * r.centroids[j * D + t];
			if (ip > best)
				best = ip;
			if (j == r.assign[i])
				mine = ip;
		}
		CHECK_NEAR(mine, best, 1e-5);
		/* unit inputs: cosine distance = 1 - ip */
		CHECK_NEAR(r.dist[i], 1.0 - mine, 1e-5);
	}
	wn_cluster_kmeans_result_free(&r);
}

static void test_max_train_samples(void)
{
	if (!X)
		SKIP("corpus not readable");
	wn_cluster_kmeans_opts o = WN_CLUSTER_KMEANS_OPTS_INIT;
	o.k = 30;
	o.niter = 15;
	o.seed = 4;
	wn_cluster_kmeans_result full, samp;
	CHECK_EQ_INT(wn_cluster_kmeans_run(NULL, &o, X, N, D, NULL, 0, &full, err, sizeof err), 0);
	o.max_train = 1500;
	CHECK_EQ_INT(wn_cluster_kmeans_run(NULL, &o, X, N, D, NULL, 0, &samp, err, sizeof err), 0);
	CHECK_EQ_INT(samp.n_train, 1500);
	CHECK_EQ_INT(full.n_train, N);
	int64_t tot = 0;
	for (int j = 0; j < samp.k; j++)
		tot += samp.sizes[j];
	CHECK_EQ_INT(tot, N); /* everything is assigned, not just the sample */
	CHECK(memcmp(full.centroids, samp.centroids, sizeof(float) * 30 * D) != 0);
	/* a quarter of the data trains centroids nearly as good on all of it */
	CHECK(samp.inertia < full.inertia * 1.05);
	wn_cluster_kmeans_result_free(&full);
	wn_cluster_kmeans_result_free(&samp);
}

static void test_bad_k(void)
{
	if (!X)
		SKIP("corpus not readable");
	wn_cluster_kmeans_opts o = WN_CLUSTER_KMEANS_OPTS_INIT;
	wn_cluster_kmeans_result r;
	o.k = 11;
	CHECK(wn_cluster_kmeans_run(NULL, &o, X, 10, D, NULL, 0, &r, err, sizeof err) < 0);
	CHECK(strstr(err, "larger than the number of vectors") != NULL);
	o.k = 0;
	CHECK(wn_cluster_kmeans_run(NULL, &o, X, 10, D, NULL, 0, &r, err, sizeof err) < 0);
	o.k = 2;
	o.engine = WN_CLUSTER_ENGINE_CORE; /* the core engine without a core */
	CHECK(wn_cluster_kmeans_run(NULL, &o, X, 10, D, NULL, 0, &r, err, sizeof err) < 0);
	CHECK(strstr(err, "context") != NULL);
	o.engine = WN_CLUSTER_ENGINE_FAISS;
	o.k = 10; /* k == n: every vector its own centroid */
	CHECK_EQ_INT(wn_cluster_kmeans_run(NULL, &o, X + 500 * D, 10, D, NULL, 0, &r, err, sizeof err), 0);
	CHECK(r.inertia < 1e-6);
	wn_cluster_kmeans_result_free(&r);
}

static void test_parse_levels(void)
{
	int64_t ks[8];
	CHECK_EQ_INT(wn_cluster_parse_levels("2000,200,20", ks, 8, err, sizeof err), 3);
	CHECK_EQ_INT(ks[0], 2000);
	CHECK_EQ_INT(ks[2], 20);
	CHECK_EQ_INT(wn_cluster_parse_levels("7", ks, 8, err, sizeof err), 1);
	CHECK(wn_cluster_parse_levels("20,200", ks, 8, err, sizeof err) < 0);
	CHECK(strstr(err, "more than level 1") != NULL);
	CHECK(wn_cluster_parse_levels("20,,2", ks, 8, err, sizeof err) < 0);
	CHECK(wn_cluster_parse_levels("20,x", ks, 8, err, sizeof err) < 0);
	CHECK(wn_cluster_parse_levels("0", ks, 8, err, sizeof err) < 0);
	CHECK(wn_cluster_parse_levels("3,2,1", ks, 2, err, sizeof err) < 0);
	CHECK(wn_cluster_parse_levels("", ks, 8, err, sizeof err) < 0);
}

static void test_hkmeans_levels_compose(void)
{
	if (!X)
		SKIP("corpus not readable");
	wn_cluster_kmeans_opts o = WN_CLUSTER_KMEANS_OPTS_INIT;
	o.niter = 10;
	o.seed = 9;
	int64_t ks[3] = {120, 15, 4};
	wn_cluster_hkmeans_result h;
	CHECK_EQ_INT(wn_cluster_hkmeans_run(NULL, &o, NULL, ks, 3, X, N, D, &h, err, sizeof err), 0);
	CHECK_EQ_INT(h.levels, 3);
	/* level 1 is plain k-means of the vectors: nearest level-1 centroid */
	int32_t *a1 = malloc(sizeof(int32_t) * N);
	double in1 = test_cluster_assign_bf(X, N, D, h.centroids[0], 120, a1);
	CHECK_NEAR(h.inertia[0], in1, 1e-6 * in1);
	/* level l: the nearest level-l centroid of the vector's level-(l-1) centroid */
	for (int l = 1; l < 3; l++) {
		int32_t *up = malloc(sizeof(int32_t) * (size_t)ks[l - 1]);
		test_cluster_assign_bf(h.centroids[l - 1], ks[l - 1], D, h.centroids[l], ks[l], up);
		for (int i = 0; i < N; i++) {
			int32_t below = h.assign[i * 3 + l - 1], mine = h.assign[i * 3 + l];
			CHECK(mine >= 0 && mine < ks[l]);
			if (mine != up[below]) { /* a tie at most */
				double a = 0, b = 0;
				for (int t = 0; t < D; t++) {
					double c = h.centroids[l - 1][below * D + t];
					a += (c - h.centroids[l][mine * D + t]) * (c - h.centroids[l][mine * D + t]);
					b += (c - h.centroids[l][up[below] * D + t]) * (c - h.centroids[l][up[below] * D + t]);
				}
				CHECK_NEAR(a, b, 1e-6);
			}
		}
		int64_t tot = 0;
		for (int j = 0; j < ks[l]; j++)
			tot += h.sizes[l][j];
		CHECK_EQ_INT(tot, N);
		free(up);
	}
	/* records in one level-1 cluster share every higher id */
	int first[120];
	for (int j = 0; j < 120; j++)
		first[j] = -1;
	for (int i = 0; i < N; i++) {
		int c1 = h.assign[i * 3];
		if (first[c1] < 0)
			first[c1] = i;
		CHECK(h.assign[i * 3 + 1] == h.assign[first[c1] * 3 + 1] &&
		      h.assign[i * 3 + 2] == h.assign[first[c1] * 3 + 2]);
	}
	free(a1);
	wn_cluster_hkmeans_result_free(&h);
	/* a level asking for more clusters than the level below has points */
	int64_t bad[2] = {10, 11};
	CHECK(wn_cluster_hkmeans_run(NULL, &o, NULL, bad, 2, X, N, D, &h, err, sizeof err) < 0);
	CHECK(strstr(err, "level 2") != NULL);
}

/* k-means++ by hand: on the line {0, 1, 100, 101} with k = 2, whatever
 * the first centre, a second centre in the other pair leaves potential
 * 1 + 1 = 2, one in the same pair at least 2*99^2: with the D^2 draw and
 * 2 trials the far pair is (all but surely) chosen, so the centres are one
 * of {0,1} and one of {2,3} and the potential is exactly 2. k = n takes
 * every point once (potential 0). Trials: 2 + floor(ln k), as sklearn. */
static void test_kmeanspp_by_hand(void)
{
	float P[4] = {0, 1, 100, 101}, C[4];
	int64_t idx[4];
	double pot = -1;
	for (uint64_t seed = 0; seed < 50; seed++) {
		CHECK_EQ_INT(wn_cluster_kmeanspp(P, 4, 1, 2, 0, seed, C, idx, &pot, err, sizeof err), 0);
		CHECK((idx[0] < 2) != (idx[1] < 2));
		CHECK(pot == 2.0);
		CHECK(C[0] == P[idx[0]] && C[1] == P[idx[1]]);
	}
	CHECK_EQ_INT(wn_cluster_kmeanspp(P, 4, 1, 4, 0, 3, C, idx, &pot, err, sizeof err), 0);
	int mask = 0;
	for (int j = 0; j < 4; j++)
		mask |= 1 << idx[j];
	CHECK_EQ_INT(mask, 15);
	CHECK(pot == 0.0);
	CHECK_EQ_INT(wn_cluster_kmeanspp_trials(1), 2);
	CHECK_EQ_INT(wn_cluster_kmeanspp_trials(2), 2);
	CHECK_EQ_INT(wn_cluster_kmeanspp_trials(3), 3);
	CHECK_EQ_INT(wn_cluster_kmeanspp_trials(20), 4);
	CHECK_EQ_INT(wn_cluster_kmeanspp_trials(1000), 8);
	CHECK(wn_cluster_kmeanspp(P, 4, 1, 5, 0, 3, C, idx, &pot, err, sizeof err) < 0);
}

/*
 * The scalar k-means++ that cluster/kmeans.c ran before its dgemm pass, kept
 * here as the reference: exact Σ(x - c)² per row in double, one pass over X
 * per candidate and one more for the chosen one, the same Philox draws
 * (WN_CLUSTER_STREAM_KMEANSPP), the same left search and argmin.
 */
static void ref_dist_to_row(const float *P, int64_t n, int64_t d, int64_t c, double *out)
{
	for (int64_t i = 0; i < n; i++) {
		double s = 0;
		for (int64_t t = 0; t < d; t++) {
			double df = (double)P[i * d + t] - P[c * d + t];
			s += df * df;
		}
		out[i] = s;
	}
}

static int64_t ref_search_left(const double *cum, int64_t n, double v)
{
	int64_t lo = 0, hi = n;
	while (lo < hi) {
		int64_t mid = lo + (hi - lo) / 2;
		if (cum[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n ? lo : n - 1;
}

static double ref_kmeanspp(const float *P, int64_t n, int64_t d, int64_t k, uint64_t seed,
			   int64_t *idx)
{
	double *closest = malloc(sizeof(double) * n), *cum = malloc(sizeof(double) * n);
	double *cand = malloc(sizeof(double) * n), pot = 0;
	int trials = wn_cluster_kmeanspp_trials(k);
	wn_rng r;
	wn_rng_init(&r, seed, WN_CLUSTER_STREAM_KMEANSPP);
	idx[0] = (int64_t)wn_rng_next_below(&r, (uint64_t)n);
	ref_dist_to_row(P, n, d, idx[0], closest);
	for (int64_t i = 0; i < n; i++)
		pot += closest[i];
	for (int64_t j = 1; j < k; j++) {
		double run = 0, best_pot = INFINITY;
		for (int64_t i = 0; i < n; i++)
			cum[i] = run += closest[i];
		for (int t = 0; t < trials; t++) {
			int64_t c = ref_search_left(cum, n, wn_rng_next_uniform(&r) * pot);
			ref_dist_to_row(P, n, d, c, cand);
			double p = 0;
			for (int64_t i = 0; i < n; i++)
				p += cand[i] < closest[i] ? cand[i] : closest[i];
			if (p < best_pot) {
				best_pot = p;
				idx[j] = c;
			}
		}
		ref_dist_to_row(P, n, d, idx[j], cand);
		for (int64_t i = 0; i < n; i++)
			if (cand[i] < closest[i])
				closest[i] = cand[i];
		pot = best_pot;
	}
	free(closest);
	free(cum);
	free(cand);
	return pot;
}

/* n x d points around a common offset (norms ~ d * 25, distances ~ d / 6:
 * the cancellation that ||x||² + ||c||² - 2 x·c suffers), Philox draws. */
static float *offset_points(int64_t n, int64_t d, uint64_t seed)
{
	float *P = malloc(sizeof(float) * (size_t)(n * d));
	for (int64_t i = 0; i < n * d; i++)
		P[i] = (float)(5.0 + wn_rng_uniform(seed, 1, (uint64_t)i) - 0.5 * (i % 3 == 0));
	return P;
}

/*
 * The dgemm distances against Σ(x - c)² in long double (exact enough: the
 * differences of floats are exact there, the squares round at 2^-64). The
 * products x_t c_t of floats are exact in double, so the sums alone round:
 * |error| <= γ_d (||x||² + ||c||² + 2 |x·c|) + 4u (||x||² + ||c||²)
 *         <= (2d + 6) u (||x||² + ||c||²), u = 2^-53 (Higham, ch. 3), for any
 * summation order dgemm picks. A float32 computation misses that bound by
 * 2^29 / (2d + 6) (the test fails then). Also: a candidate's distance to
 * itself is exactly 0, every distance >= 0, and 1 vs 2 threads give the
 * same bits. d = 100: blocks of 327 rows, so n = 1000 has a tail block.
 */
static void test_kmeanspp_distances_exact(void)
{
	const int64_t n = 1000, d = 100;
	float *P = offset_points(n, d, 3);
	int64_t cand[5] = {0, 326, 327, 999, 500};
	double *got = malloc(sizeof(double) * 5 * n), *again = malloc(sizeof(double) * 5 * n);
	int saved = omp_get_max_threads();
	omp_set_num_threads(1);
	CHECK_EQ_INT(wn_cluster_kmeanspp_dist(P, n, d, cand, 5, got), 0);
	omp_set_num_threads(2);
	CHECK_EQ_INT(wn_cluster_kmeanspp_dist(P, n, d, cand, 5, again), 0);
	omp_set_num_threads(saved);
	CHECK(memcmp(got, again, sizeof(double) * 5 * n) == 0);
	const double u = ldexp(1.0, -53);
	double worst = 0; /* the largest error in units of u (||x||² + ||c||²) */
	for (int c = 0; c < 5; c++) {
		const float *y = P + cand[c] * d;
		long double yn = 0;
		for (int64_t t = 0; t < d; t++)
			yn += (long double)y[t] * y[t];
		for (int64_t i = 0; i < n; i++) {
			const float *x = P + i * d;
			long double s = 0, xn = 0;
			for (int64_t t = 0; t < d; t++) {
				long double df = (long double)x[t] - y[t];
				s += df * df;
				xn += (long double)x[t] * x[t];
			}
			double g = got[c * n + i], scale = (double)(xn + yn);
			CHECK(g >= 0);
			if (i == cand[c])
				CHECK(g == 0.0);
			double e = fabs(g - (double)s) / (u * scale);
			CHECK(e <= 2.0 * d + 6);
			worst = e > worst ? e : worst;
		}
	}
	printf("# k-means++ distances: worst error %.2f u (||x||^2 + ||c||^2), bound %d\n", worst,
	       (int)(2 * d + 6));
	int64_t bad = -1;
	CHECK(wn_cluster_kmeanspp_dist(P, n, 0, cand, 1, got) < 0);
	CHECK(wn_cluster_kmeanspp_dist(P, n, d, &bad, 0, got) < 0);
	CHECK(wn_cluster_kmeanspp_dist(P, n, d, &bad, 1, got) < 0);
	free(P);
	free(got);
	free(again);
}

/*
 * On well-separated points (40 tight blobs far apart, interleaved in row
 * order) the dgemm k-means++ picks exactly the seeds of the scalar
 * reference, and leaves the same potential up to rounding; for k = 40 that
 * is one seed per blob. On the corpus vectors (not separated) the seeds are
 * compared too and printed, not asserted: there a draw landing within
 * rounding of a running-sum boundary could legitimately differ.
 */
static void test_kmeanspp_matches_scalar(void)
{
	const int64_t nb = 40, per = 100, n = nb * per, d = 16;
	float *P = malloc(sizeof(float) * n * d);
	for (int64_t i = 0; i < n; i++)
		for (int64_t t = 0; t < d; t++) {
			double centre = 200.0 * wn_rng_uniform(5, 2, (uint64_t)((i % nb) * d + t)) - 100;
			P[i * d + t] = (float)(centre + 0.1 * wn_rng_uniform(5, 3, (uint64_t)(i * d + t)));
		}
	int64_t idx[100], want[100];
	float C[100 * 16];
	for (uint64_t seed = 1; seed <= 5; seed++) {
		double pot = -1, want_pot = ref_kmeanspp(P, n, d, nb, seed, want);
		CHECK_EQ_INT(wn_cluster_kmeanspp(P, n, d, nb, 0, seed, C, idx, &pot, err, sizeof err), 0);
		CHECK(memcmp(idx, want, sizeof(int64_t) * nb) == 0);
		CHECK_NEAR(pot, want_pot, 1e-9 * want_pot);
		int blobs = 0;
		unsigned char seen[40] = {0};
		for (int64_t j = 0; j < nb; j++)
			blobs += !seen[idx[j] % nb]++;
		CHECK_EQ_INT(blobs, nb);
	}
	free(P);
	if (!X)
		SKIP("corpus not readable");
	static float CX[100 * D];
	int same = 0;
	for (uint64_t seed = 1; seed <= 4; seed++) {
		double pot = -1, want_pot = ref_kmeanspp(X, N, D, 100, seed, want);
		CHECK_EQ_INT(wn_cluster_kmeanspp(X, N, D, 100, 0, seed, CX, idx, &pot, err, sizeof err), 0);
		same += memcmp(idx, want, sizeof(int64_t) * 100) == 0;
		printf("# corpus k-means++ seed %d: potential %.12g, scalar %.12g\n", (int)seed, pot, want_pot);
	}
	printf("# corpus k-means++ (6000 x 64, k 100): %d of 4 seeds pick the scalar reference's rows\n", same);
}

/* 1 vs 2 threads (and OpenBLAS asked for 2): the same seeds and potential,
 * bit for bit, on 6000 x 64 corpus vectors (12 blocks, passes parallel);
 * the caller's OpenBLAS thread count is given back. */
static void test_kmeanspp_threads(void)
{
	if (!X)
		SKIP("corpus not readable");
	static float Ca[150 * D], Cb[150 * D];
	int64_t ia[150], ib[150];
	double pa = -1, pb = -2;
	int saved = omp_get_max_threads(), blas = openblas_get_num_threads();
	omp_set_num_threads(1);
	openblas_set_num_threads(1);
	CHECK_EQ_INT(wn_cluster_kmeanspp(X, N, D, 150, 0, 21, Ca, ia, &pa, err, sizeof err), 0);
	omp_set_num_threads(2);
	openblas_set_num_threads(2);
	CHECK_EQ_INT(wn_cluster_kmeanspp(X, N, D, 150, 0, 21, Cb, ib, &pb, err, sizeof err), 0);
	CHECK_EQ_INT(openblas_get_num_threads(), 2);
	omp_set_num_threads(saved);
	openblas_set_num_threads(blas);
	CHECK(memcmp(ia, ib, sizeof ia) == 0);
	CHECK(memcmp(Ca, Cb, sizeof Ca) == 0);
	CHECK(memcmp(&pa, &pb, sizeof pa) == 0);
	for (int j = 0; j < 150; j++)
		CHECK(memcmp(Ca + j * D, X + ia[j] * D, sizeof(float) * D) == 0);
}

/* k-means++ seeding and resampling hkmeans give the same bytes at 1 and 2
 * threads (6000 x 64: large enough for the parallel loops to run). */
static void test_kmeanspp_resampling_threads(void)
{
	if (!X)
		SKIP("corpus not readable");
	wn_cluster_kmeans_opts o = WN_CLUSTER_KMEANS_OPTS_INIT;
	o.niter = 5;
	o.seed = 4;
	o.init = WN_CLUSTER_INIT_KMEANSPP;
	wn_cluster_hkmeans_opts ho = {3, {0}, WN_CLUSTER_RESAMPLE_CLOSEST, 0};
	int64_t ks[2] = {60, 6};
	wn_cluster_hkmeans_result a, b;
	int nt = omp_get_max_threads();
	for (int strat = 0; strat < 2; strat++) {
		ho.strategy = strat;
		omp_set_num_threads(1);
		CHECK_EQ_INT(wn_cluster_hkmeans_run(NULL, &o, &ho, ks, 2, X, N, D, &a, err, sizeof err), 0);
		omp_set_num_threads(2);
		CHECK_EQ_INT(wn_cluster_hkmeans_run(NULL, &o, &ho, ks, 2, X, N, D, &b, err, sizeof err), 0);
		CHECK(memcmp(a.assign, b.assign, sizeof(int32_t) * N * 2) == 0);
		CHECK(memcmp(a.centroids[0], b.centroids[0], sizeof(float) * 60 * D) == 0);
		CHECK_EQ_INT(a.resamples_done[0], 3);
		CHECK_EQ_INT(a.sample_size[0], 50); /* (6000 + 60) / 120: half the mean size */
		wn_cluster_hkmeans_result_free(&a);
		wn_cluster_hkmeans_result_free(&b);
	}
	omp_set_num_threads(nt);
}

/* Every cluster gives its S points to a resample's union. Two blobs of 50
 * points (x = 0..4.9 and x = 100..104.9 on a line) and k = 2: a union that
 * lost either cluster's points would put both fresh centroids in one blob;
 * with both, one centroid per blob and sizes 50, 50 (the union is 10 + 10
 * points; found when --split's grouping exposed a one-off cursor). */
static void test_resample_union_has_every_cluster(void)
{
	float P[100 * 2];
	for (int i = 0; i < 100; i++) {
		P[2 * i] = (float)((i < 50 ? 0 : 100) + (i % 50) * 0.1);
		P[2 * i + 1] = 0;
	}
	wn_cluster_kmeans_opts o = WN_CLUSTER_KMEANS_OPTS_INIT;
	o.niter = 10;
	o.init = WN_CLUSTER_INIT_KMEANSPP;
	for (int strat = 0; strat < 2; strat++) {
		wn_cluster_hkmeans_opts ho = {1, {10}, strat, 0};
		int64_t ks[1] = {2};
		wn_cluster_hkmeans_result h;
		for (uint64_t seed = 1; seed <= 5; seed++) {
			o.seed = seed;
			CHECK_EQ_INT(wn_cluster_hkmeans_run(NULL, &o, &ho, ks, 1, P, 100, 2, &h, err, sizeof err), 0);
			CHECK_EQ_INT(h.resamples_done[0], 1);
			CHECK_EQ_INT(h.sizes[0][0], 50);
			CHECK_EQ_INT(h.sizes[0][1], 50);
			float lo = h.centroids[0][0] < h.centroids[0][2] ? h.centroids[0][0] : h.centroids[0][2];
			float hi = h.centroids[0][0] < h.centroids[0][2] ? h.centroids[0][2] : h.centroids[0][0];
			CHECK(lo < 5 && hi > 100);
			wn_cluster_hkmeans_result_free(&h);
		}
	}
}

/* --split N: each level-1 cluster re-clustered into min(N, size); two blobs
 * of 50 and a lone point far away, levels 3 then split 4: the lone point's
 * cluster stays one cluster (min(4, 1)), the blobs give 4 each -> 9; the
 * next level clusters those 9 centroids. */
static void test_split(void)
{
	float P[101 * 2];
	for (int i = 0; i < 100; i++) {
		P[2 * i] = (float)((i < 50 ? 0 : 100) + (i % 50) * 0.1);
		P[2 * i + 1] = (float)((i % 7) * 0.05);
	}
	P[200] = 1000, P[201] = 0;
	wn_cluster_kmeans_opts o = WN_CLUSTER_KMEANS_OPTS_INIT;
	o.niter = 10;
	o.seed = 3;
	o.init = WN_CLUSTER_INIT_KMEANSPP;
	wn_cluster_hkmeans_opts ho = {0, {0}, 0, 4};
	int64_t ks[2] = {3, 9};
	wn_cluster_hkmeans_result h;
	CHECK_EQ_INT(wn_cluster_hkmeans_run(NULL, &o, &ho, ks, 2, P, 101, 2, &h, err, sizeof err), 0);
	CHECK_EQ_INT(h.k[0], 9);
	int64_t one = 0, tot = 0;
	for (int j = 0; j < 9; j++) {
		tot += h.sizes[0][j];
		one += h.sizes[0][j] == 1;
		CHECK(h.sizes[0][j] >= 1);
	}
	CHECK_EQ_INT(tot, 101);
	CHECK_EQ_INT(one, 1);
	CHECK_EQ_INT(h.sizes[0][h.assign[100 * 2]], 1); /* the lone point alone */
	unsigned ma = 0, mb = 0; /* each blob: 4 sub-clusters of its own */
	for (int i = 0; i < 100; i++)
		*(i < 50 ? &ma : &mb) |= 1u << h.assign[i * 2];
	CHECK(__builtin_popcount(ma) == 4 && __builtin_popcount(mb) == 4 && !(ma & mb));
	wn_cluster_hkmeans_result_free(&h);
	int64_t bad[2] = {3, 10};
	CHECK(wn_cluster_hkmeans_run(NULL, &o, &ho, bad, 2, P, 101, 2, &h, err, sizeof err) < 0);
	CHECK(strstr(err, "level 2") != NULL);
	int64_t pk[4];
	CHECK_EQ_INT(wn_cluster_parse_levels_split("3,12", pk, 4, 4, err, sizeof err), 2);
	CHECK(wn_cluster_parse_levels_split("3,13", pk, 4, 4, err, sizeof err) < 0);
	CHECK(strstr(err, "after --split") != NULL);
}

/*
 * dist and inertia of wn_cluster_kmeans_assign (L2) equal a plain loop in
 * double, bit for bit, for every n from 1 to 9 and from N-3 to N (the
 * re-check goes four rows at a time: full blocks and every tail; the large
 * ones split over threads) at 1 and 2 threads.
 */
static void test_assign_distances_exact(void)
{
	if (!X)
		SKIP("corpus not readable");
	const float *C = X + 100 * D; /* three corpus rows as centroids */
	int saved = omp_get_max_threads();
	static int32_t a[N];
	static float dist[N];
	for (int threads = 1; threads <= 2; threads++) {
		omp_set_num_threads(threads);
		for (int64_t n = 1; n <= N; n = n == 9 ? N - 3 : n + 1) {
			int64_t sizes[3];
			double inertia = -1, want_in = 0;
			CHECK_EQ_INT(wn_cluster_kmeans_assign(NULL, WN_CLUSTER_ENGINE_FAISS, 0, X, n, D, C, 3, a,
							      dist, sizes, &inertia, err, sizeof err), 0);
			int wrong = 0;
			for (int64_t i = 0; i < n; i++) {
				double s = 0;
				for (int t = 0; t < D; t++) {
					double df = (double)X[i * D + t] - C[a[i] * D + t];
					s += df * df;
				}
				want_in += s;
				wrong += dist[i] != (float)sqrt(s);
			}
			CHECK_EQ_INT(wrong, 0);
			CHECK(inertia == want_in);
		}
	}
	omp_set_num_threads(saved);
}

int main(void)
{
	X = test_cluster_vectors(N, D);
	RUN(test_sample_rows);
	RUN(test_kmeanspp_by_hand);
	RUN(test_kmeanspp_distances_exact);
	RUN(test_kmeanspp_matches_scalar);
	RUN(test_kmeanspp_threads);
	RUN(test_kmeanspp_resampling_threads);
	RUN(test_faiss_matches_brute_force);
	RUN(test_deterministic_across_threads);
	RUN(test_core_within_1pct_of_faiss);
	RUN(test_core_within_1pct_of_faiss_spherical);
	RUN(test_cuda_within_1pct_of_faiss);
	RUN(test_cuda_within_1pct_of_faiss_spherical);
	RUN(test_centroid_reuse_keeps_ids);
	RUN(test_assign_distances_exact);
	RUN(test_spherical_unit_centroids);
	RUN(test_max_train_samples);
	RUN(test_bad_k);
	RUN(test_parse_levels);
	RUN(test_hkmeans_levels_compose);
	RUN(test_resample_union_has_every_cluster);
	RUN(test_split);
	free(X);
	return TEST_EXIT;
}
