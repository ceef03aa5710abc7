/*
 * tests/unit/test_cluster_graph.c — cluster/graph.h on real vectors
 * (bag-of-words projections of Debian package descriptions, which include
 * exact duplicates), against a brute-force all-pairs cosine graph.
 *
 * Shows: with k large enough to hold every neighbour, the components are
 * exactly those of the brute-force threshold graph (pairs within 1e-5 of the
 * threshold may go either way: the check brackets them); with a small k the
 * components refine the brute-force ones and every vector whose nearest
 * neighbour passes the threshold is joined to something; with any k, down to
 * 1, the flat index and the core find every pair above the threshold (the
 * vectors whose k-th neighbour passes it are searched again with a larger k):
 * components and edge counts equal the brute-force ones, also on a
 * hand-computed case where each vector has more neighbours above the
 * threshold than k and a search limited to k splits the one component in
 * two; the thread count changes nothing; FAISS flat, HNSW and the compute
 * core agree; ids are numbered by first appearance; the union-find labels do
 * not depend on the order of unions; zero vectors stay alone; on a GPU, rows
 * needing more than the CUDA backend's 2048 neighbours still come out exact.
 */
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "cluster/graph.h"
#include "cluster/kmeans.h"
#include "core/core.h"
#include "test.h"
#include "test_cluster_data.h"

#define N 1500
#define D 64
#define T 0.8

static float *X;
static double *cosm; /* N x N cosine matrix */
static char err[512];

/* Labels of the brute-force graph with edges cos >= t. */
static void bf_components(double t, int64_t *lab)
{
	wn_cluster_uf uf;
	wn_cluster_uf_init(&uf, N);
	for (int i = 0; i < N; i++)
		for (int j = i + 1; j < N; j++)
			if (cosm[(size_t)i * N + j] >= t)
				wn_cluster_uf_union(&uf, i, j);
	for (int i = 0; i < N; i++)
		lab[i] = wn_cluster_uf_find(&uf, i);
	wn_cluster_uf_free(&uf);
}

/* Does partition a refine partition b (same label in a => same in b)? */
static int refines(const int64_t *a, const int64_t *b, int64_t n)
{
	int64_t *seen = malloc(sizeof(int64_t) * (size_t)n);
	for (int64_t i = 0; i < n; i++)
		seen[i] = -1;
	int ok = 1;
	for (int64_t i = 0; i < n && ok; i++) {
		int64_t l = a[i];
		if (l < 0 || l >= n)
			ok = 0;
		else if (seen[l] < 0)
			seen[l] = b[i];
		else if (seen[l] != b[i])
			ok = 0;
	}
	free(seen);
	return ok;
}

static void check_numbering(const wn_cluster_graph_result *r)
{
	int64_t next = 0;
	for (int64_t i = 0; i < r->n; i++) {
		int64_t c = r->component[i];
		CHECK(c >= 0 && c <= next);
		if (c == next) {
			CHECK_EQ_INT(r->first[c], i);
			next++;
		}
	}
	CHECK_EQ_INT(next, r->n_components);
	int64_t tot = 0;
	for (int64_t c = 0; c < r->n_components; c++)
		tot += r->sizes[c];
	CHECK_EQ_INT(tot, r->n);
}

static void test_union_find_order_free(void)
{
	int64_t pairs[200][2];
	for (int e = 0; e < 200; e++) {
		pairs[e][0] = (e * 37) % 300;
		pairs[e][1] = (e * 91 + 7) % 300;
	}
	wn_cluster_uf a, b;
	CHECK_EQ_INT(wn_cluster_uf_init(&a, 300), 0);
	CHECK_EQ_INT(wn_cluster_uf_init(&b, 300), 0);
	for (int e = 0; e < 200; e++)
		wn_cluster_uf_union(&a, pairs[e][0], pairs[e][1]);
	for (int e = 199; e >= 0; e--)
		wn_cluster_uf_union(&b, pairs[e][1], pairs[e][0]);
	for (int i = 0; i < 300; i++) {
		int64_t r = wn_cluster_uf_find(&a, i);
		CHECK_EQ_INT(r, wn_cluster_uf_find(&b, i));
		CHECK(r <= i); /* the root is the smallest member */
	}
	wn_cluster_uf_free(&a);
	wn_cluster_uf_free(&b);
}

/* strict (cos >= T + eps) refines result refines loose (cos >= T - eps) */
static void check_bracketed(const wn_cluster_graph_result *r)
{
	int64_t *strict = malloc(sizeof(int64_t) * N), *loose = malloc(sizeof(int64_t) * N);
	bf_components(T + 1e-5, strict);
	bf_components(T - 1e-5, loose);
	int a = refines(strict, r->component, N), b = refines(r->component, loose, N);
	free(strict);
	free(loose);
	CHECK(a);
	CHECK(b);
}

static void test_flat_all_neighbours_is_exact(void)
{
	if (!X)
		SKIP("corpus not readable under %s", test_shared_dir());
	wn_cluster_graph_opts o = WN_CLUSTER_GRAPH_OPTS_INIT;
	o.threshold = T;
	o.knn = N - 1;
	o.index = WN_GRAPH_INDEX_FLAT;
	wn_cluster_graph_result r;
	CHECK_EQ_INT(wn_cluster_graph_run(NULL, &o, X, N, D, &r, err, sizeof err), 0);
	CHECK_EQ_INT(r.index, WN_GRAPH_INDEX_FLAT);
	check_numbering(&r);
	check_bracketed(&r);
	int64_t big = 0;
	for (int64_t c = 0; c < r.n_components; c++)
		big = r.sizes[c] > big ? r.sizes[c] : big;
	printf("# %lld vectors, %lld components (largest %lld), %llu edges at cos >= %.2f\n",
	       (long long)N, (long long)r.n_components, (long long)big,
	       (unsigned long long)r.edges, T);
	/* the data has duplicate descriptions: some components are not singletons */
	CHECK(r.n_components < N);
	CHECK(r.edges > 0);
	wn_cluster_graph_result_free(&r);
}

static void test_small_k_refines(void)
{
	if (!X)
		SKIP("corpus not readable");
	int64_t *loose = malloc(sizeof(int64_t) * N);
	bf_components(T - 1e-5, loose);
	for (int idx = WN_GRAPH_INDEX_FLAT; idx <= WN_GRAPH_INDEX_HNSW; idx++) {
		wn_cluster_graph_opts o = WN_CLUSTER_GRAPH_OPTS_INIT;
		o.threshold = T;
		o.knn = 5;
		o.index = idx;
		wn_cluster_graph_result r;
		CHECK_EQ_INT(wn_cluster_graph_run(NULL, &o, X, N, D, &r, err, sizeof err), 0);
		CHECK_EQ_INT(r.index, idx);
		check_numbering(&r);
		CHECK(refines(r.component, loose, N));
		/* whoever has a neighbour clearly above T is not alone */
		int64_t want = 0, joined = 0;
		for (int i = 0; i < N; i++) {
			double best = -2;
			for (int j = 0; j < N; j++)
				if (j != i && cosm[(size_t)i * N + j] > best)
					best = cosm[(size_t)i * N + j];
			if (best >= T + 1e-5) {
				want++;
				joined += r.sizes[r.component[i]] > 1;
			}
		}
		CHECK(want > 0);
		if (idx == WN_GRAPH_INDEX_FLAT)
			CHECK_EQ_INT(joined, want);
		else
			CHECK(joined >= want * 95 / 100); /* HNSW is approximate */
		wn_cluster_graph_result_free(&r);
	}
	free(loose);
}

/* Ordered pairs (i, j), i != j, with cos >= t: the brute-force edge count. */
static uint64_t bf_edges(double t)
{
	uint64_t e = 0;
	for (int i = 0; i < N; i++)
		for (int j = 0; j < N; j++)
			e += i != j && cosm[(size_t)i * N + j] >= t;
	return e;
}

static int same_labels(const wn_cluster_graph_result *a, const wn_cluster_graph_result *b)
{
	if (a->n != b->n || a->n_components != b->n_components || a->edges != b->edges)
		return 0;
	for (int64_t i = 0; i < a->n; i++)
		if (a->component[i] != b->component[i])
			return 0;
	return 1;
}

/* Is r exact at T: components bracketed by the brute-force graphs at T -/+
 * 1e-5, edges between their pair counts? */
static int exact_at_t(const wn_cluster_graph_result *r)
{
	int64_t *strict = malloc(sizeof(int64_t) * N), *loose = malloc(sizeof(int64_t) * N);
	bf_components(T + 1e-5, strict);
	bf_components(T - 1e-5, loose);
	int ok = refines(strict, r->component, N) && refines(r->component, loose, N) &&
		 r->edges >= bf_edges(T + 1e-5) && r->edges <= bf_edges(T - 1e-5);
	free(strict);
	free(loose);
	return ok;
}

/* Any k: components and edges of the brute-force graph, flat and core. */
static void test_small_k_is_exact(void)
{
	if (!X)
		SKIP("corpus not readable");
	wn_core *core = wn_core_open(WN_DEVICE_CPU, 0, err, sizeof err);
	if (!core)
		TEST_FAIL_("wn_core_open: %s", err);
	int ks[] = {1, 2, 5}, bad = -1, failed = 0;
	for (int c = 0; c < 6 && bad < 0; c++) {
		wn_cluster_graph_opts o = WN_CLUSTER_GRAPH_OPTS_INIT;
		o.threshold = T;
		o.knn = ks[c % 3];
		o.index = WN_GRAPH_INDEX_FLAT;
		o.engine = c < 3 ? WN_CLUSTER_ENGINE_FAISS : WN_CLUSTER_ENGINE_CORE;
		wn_cluster_graph_result r;
		if (wn_cluster_graph_run(core, &o, X, N, D, &r, err, sizeof err)) {
			bad = c;
			failed = 1;
			break;
		}
		if (!exact_at_t(&r))
			bad = c;
		wn_cluster_graph_result_free(&r);
	}
	wn_core_close(core);
	if (bad >= 0)
		TEST_FAIL_("knn %d on %s: %s", ks[bad % 3], bad < 3 ? "FAISS flat" : "the core",
			   failed ? err : "not the threshold graph");
}

/*
 * Two arcs of four unit vectors in a plane, 2 degrees apart: P at 0, -2, -4,
 * -6 degrees, Q at 25, 27, 29, 31. Within an arc every pair is at most 6
 * degrees apart (cos >= 0.9945); across, only P0-Q0 is within acos(0.9) =
 * 25.84 degrees (cos 25 = 0.9063; the next, 27 degrees, has 0.8910). Each of
 * P0 and Q0 has four neighbours above 0.9, so with --knn 2 its two best are
 * in its own arc and the P0-Q0 edge is in neither list: a search limited to
 * k finds two components and 16 edges; the threshold graph is one component
 * with 2 x (6 + 6 + 1) = 26 ordered pairs.
 */
static void test_more_neighbours_than_k(void)
{
	static const double deg[8] = {0, -2, -4, -6, 25, 27, 29, 31};
	float V[8 * 2];
	for (int i = 0; i < 8; i++) {
		V[2 * i] = (float)cos(deg[i] * M_PI / 180);
		V[2 * i + 1] = (float)sin(deg[i] * M_PI / 180);
	}
	wn_core *core = wn_core_open(WN_DEVICE_CPU, 0, err, sizeof err);
	if (!core)
		TEST_FAIL_("wn_core_open: %s", err);
	int64_t nc[3], comp7[3];
	uint64_t edges[3];
	for (int c = 0; c < 3; c++) {
		wn_cluster_graph_opts o = WN_CLUSTER_GRAPH_OPTS_INIT;
		o.threshold = 0.9;
		o.knn = 2;
		o.index = c == 1 ? WN_GRAPH_INDEX_HNSW : WN_GRAPH_INDEX_FLAT;
		o.engine = c == 2 ? WN_CLUSTER_ENGINE_CORE : WN_CLUSTER_ENGINE_FAISS;
		wn_cluster_graph_result r;
		nc[c] = comp7[c] = -1;
		edges[c] = 0;
		if (wn_cluster_graph_run(core, &o, V, 8, 2, &r, err, sizeof err))
			continue;
		nc[c] = r.n_components;
		comp7[c] = r.component[7];
		edges[c] = r.edges;
		wn_cluster_graph_result_free(&r);
	}
	wn_core_close(core);
	for (int c = 0; c < 3; c++) { /* flat, HNSW, core */
		CHECK_EQ_INT(nc[c], 1);
		CHECK_EQ_INT(comp7[c], 0);
		CHECK_EQ_INT(edges[c], 26);
	}
}

/* 1, 2 or 3 threads: the same labels and edges, flat and core, with repeats. */
static void test_threads_change_nothing(void)
{
	if (!X)
		SKIP("corpus not readable");
	for (int engine = WN_CLUSTER_ENGINE_FAISS; engine <= WN_CLUSTER_ENGINE_CORE; engine++) {
		wn_cluster_graph_result r[3];
		for (int t = 0; t < 3; t++) {
			omp_set_num_threads(t + 1);
			wn_core *core = wn_core_open(WN_DEVICE_CPU, t + 1, err, sizeof err);
			wn_cluster_graph_opts o = WN_CLUSTER_GRAPH_OPTS_INIT;
			o.threshold = T;
			o.knn = 1;
			o.index = WN_GRAPH_INDEX_FLAT;
			o.engine = engine;
			int rc = core ? wn_cluster_graph_run(core, &o, X, N, D, &r[t], err, sizeof err)
				      : -1;
			wn_core_close(core);
			if (rc)
				TEST_FAIL_("graph on %d threads: %s", t + 1, err);
		}
		omp_set_num_threads(omp_get_num_procs());
		int same = same_labels(&r[0], &r[1]) && same_labels(&r[0], &r[2]);
		for (int t = 0; t < 3; t++)
			wn_cluster_graph_result_free(&r[t]);
		CHECK(same);
	}
}

/*
 * The core on CUDA keeps at most 2048 neighbours per query; 3000 copies of
 * one direction (plus noise) at threshold 0.5 need every one of them: the
 * graph must still join all 3000 and count 3000 x 2999 edges, as FAISS does.
 */
static void test_cuda_past_its_k(void)
{
	wn_core *gpu = wn_core_open(WN_DEVICE_CUDA, 0, err, sizeof err);
	if (!gpu)
		SKIP("no GPU: %s", err);
	enum { M = 3000, E = 16 };
	float *V = malloc(sizeof(float) * M * E);
	for (int i = 0; i < M; i++)
		for (int t = 0; t < E; t++)
			V[i * E + t] = (t == 0 ? 4.0f : 0.0f) + (float)((i * 7919 + t * 104729) % 1000) / 1000.0f;
	wn_cluster_graph_opts o = WN_CLUSTER_GRAPH_OPTS_INIT;
	o.threshold = 0.5;
	o.knn = 10;
	o.engine = WN_CLUSTER_ENGINE_CORE;
	wn_cluster_graph_result g, f;
	int rg = wn_cluster_graph_run(gpu, &o, V, M, E, &g, err, sizeof err);
	wn_core_close(gpu);
	if (rg) {
		free(V);
		TEST_FAIL_("graph on CUDA: %s", err);
	}
	o.engine = WN_CLUSTER_ENGINE_FAISS;
	int rf = wn_cluster_graph_run(NULL, &o, V, M, E, &f, err, sizeof err);
	free(V);
	int same = !rf && same_labels(&g, &f);
	int64_t nc = g.n_components;
	uint64_t edges = g.edges;
	wn_cluster_graph_result_free(&g);
	if (!rf)
		wn_cluster_graph_result_free(&f);
	CHECK_EQ_INT(nc, 1);
	CHECK_EQ_INT(edges, (uint64_t)M * (M - 1));
	CHECK(same);
}

static void test_core_engine_agrees(void)
{
	if (!X)
		SKIP("corpus not readable");
	wn_core *core = wn_core_open(WN_DEVICE_CPU, 0, err, sizeof err);
	if (!core)
		TEST_FAIL_("wn_core_open: %s", err);
	wn_cluster_graph_opts o = WN_CLUSTER_GRAPH_OPTS_INIT;
	o.threshold = T;
	o.knn = N - 1;
	o.engine = WN_CLUSTER_ENGINE_CORE;
	wn_cluster_graph_result r;
	int rc = wn_cluster_graph_run(core, &o, X, N, D, &r, err, sizeof err);
	wn_core_close(core);
	if (rc)
		TEST_FAIL_("graph on the core: %s", err);
	CHECK_EQ_INT(r.engine, WN_CLUSTER_ENGINE_CORE);
	check_numbering(&r);
	check_bracketed(&r);
	wn_cluster_graph_result_free(&r);
}

static void test_zero_vectors_alone(void)
{
	if (!X)
		SKIP("corpus not readable");
	float *Y = malloc(sizeof(float) * 50 * D);
	memcpy(Y, X, sizeof(float) * 50 * D);
	memset(Y + 10 * D, 0, sizeof(float) * D);
	memset(Y + 20 * D, 0, sizeof(float) * D);
	memcpy(Y + 30 * D, Y + 31 * D, sizeof(float) * D); /* a duplicate pair */
	wn_cluster_graph_opts o = WN_CLUSTER_GRAPH_OPTS_INIT;
	o.threshold = -1; /* every pair with a direction is an edge */
	o.knn = 49;
	wn_cluster_graph_result r;
	CHECK_EQ_INT(wn_cluster_graph_run(NULL, &o, Y, 50, D, &r, err, sizeof err), 0);
	CHECK_EQ_INT(r.n_components, 3); /* everything else, and the two zeros */
	CHECK_EQ_INT(r.sizes[r.component[10]], 1);
	CHECK_EQ_INT(r.sizes[r.component[20]], 1);
	CHECK_EQ_INT(r.component[0], 0);
	wn_cluster_graph_result_free(&r);
	o.threshold = 0.999999;
	o.knn = 3;
	CHECK_EQ_INT(wn_cluster_graph_run(NULL, &o, Y, 50, D, &r, err, sizeof err), 0);
	CHECK_EQ_INT(r.component[30], r.component[31]);
	wn_cluster_graph_result_free(&r);
	o.knn = 0;
	CHECK(wn_cluster_graph_run(NULL, &o, Y, 50, D, &r, err, sizeof err) < 0);
	free(Y);
}

int main(void)
{
	X = test_cluster_vectors(N, D);
	if (X) {
		static double norm[N];
		cosm = malloc(sizeof(double) * N * N);
		for (int i = 0; i < N; i++) {
			double a = 0;
			for (int t = 0; t < D; t++)
				a += (double)X[i * D + t] * X[i * D + t];
			norm[i] = sqrt(a);
		}
		for (int i = 0; i < N; i++)
			for (int j = 0; j < N; j++) {
				double s = 0;
				for (int t = 0; t < D; t++)
					s += (double)X[i * D + t] * X[j * D + t];
				cosm[(size_t)i * N + j] = norm[i] > 0 && norm[j] > 0 ? s / (norm[i] * norm[j]) : 0;
			}
	}
	RUN(test_union_find_order_free);
	RUN(test_flat_all_neighbours_is_exact);
	RUN(test_small_k_refines);
	RUN(test_small_k_is_exact);
	RUN(test_more_neighbours_than_k);
	RUN(test_threads_change_nothing);
	RUN(test_core_engine_agrees);
	RUN(test_cuda_past_its_k);
	RUN(test_zero_vectors_alone);
	free(cosm);
	free(X);
	return TEST_EXIT;
}
