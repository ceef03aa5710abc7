/*
 * tests/unit/test_gais.c — selectors/gais.{c,h}: the GAT attention against
 * the hand value (raw scores 1.0, 0.5, -1.0 -> alpha 0.524185,
 * 0.317934, 0.157881, i.e. softmax of LeakyReLU_0.2), the multi-head
 * forward against a dense masked-softmax reference, the layer's and the
 * whole classifier's hand-written gradients against central finite
 * differences, the mini-batches keeping each class's share and the kNN
 * rows against a brute-force recount, the driver learning separable
 * clusters and giving the same scores at 1 and 2 threads.
 */
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "selectors/gais.h"
#include "test.h"

static double lcg(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return (double)(*s >> 11) / 9007199254740992.0 - 0.5;
}

static void test_attention_hand_value(void)
{
	/* node 0 attends to itself (x = 1), node 1 (0.5), node 2 (-1): with
	 * theta = 1, a_target = 0, a_source = 1 the raw scores are the x. */
	double X[3] = {1.0, 0.5, -1.0}, theta[1] = {1}, a[2] = {0, 1};
	int64_t ptr[4] = {0, 3, 4, 5}, src[5] = {0, 1, 2, 1, 2};
	wn_gais_graph g = {3, ptr, src};
	wn_gat_layer L = {1, 1, 1, 0, theta, a};
	double P[3], u[5], al[5], out[3];
	CHECK(wn_gat_forward(&L, &g, X, P, u, al, out) == 0);
	CHECK_NEAR(u[2], -1.0, 1e-15);
	CHECK_NEAR(al[0], 0.524185, 5e-7);
	CHECK_NEAR(al[1], 0.317934, 5e-7);
	CHECK_NEAR(al[2], 0.157881, 5e-7);
	CHECK_NEAR(out[0], 0.524185 * 1 + 0.317934 * 0.5 - 0.157881, 2e-6);
	CHECK_NEAR(al[3], 1.0, 1e-15);
	double e[3] = {1.0, 0.5, wn_gais_leaky(-1.0)}, s[3];
	wn_gais_softmax(e, 3, s);
	CHECK_NEAR(s[2], 0.157881, 5e-7);
}

/* A 5-node graph, rows of varying degree, self first. */
static int64_t G_PTR[6] = {0, 3, 5, 8, 10, 13};
static int64_t G_SRC[13] = {0, 1, 2, 1, 3, 2, 0, 4, 3, 2, 4, 0, 1};

static double layer_loss(const wn_gat_layer *L, const wn_gais_graph *g, const double *X,
			 const double *w)
{
	int64_t od = L->concat ? L->H * L->F : L->F, n = g->n;
	double P[5 * 6], u[13 * 2], al[13 * 2], out[5 * 6], s = 0;
	wn_gat_forward(L, g, X, P, u, al, out);
	for (int64_t k = 0; k < n * od; k++)
		s += w[k] * out[k] * (1 + 0.3 * out[k]);
	return s;
}

static void check_layer(int concat)
{
	enum { N = 5, DIN = 4, H = 2, F = 3 };
	uint64_t r = 7 + (uint64_t)concat;
	double X[N * DIN], th[H * DIN * F], a[H * 2 * F], w[N * H * F];
	for (int k = 0; k < N * DIN; k++) X[k] = 2 * lcg(&r);
	for (int k = 0; k < H * DIN * F; k++) th[k] = lcg(&r);
	for (int k = 0; k < H * 2 * F; k++) a[k] = 2 * lcg(&r);
	for (int k = 0; k < N * H * F; k++) w[k] = lcg(&r);
	wn_gais_graph g = {N, G_PTR, G_SRC};
	wn_gat_layer L = {DIN, H, F, concat, th, a};
	int64_t od = concat ? H * F : F;
	double P[N * H * F], u[13 * H], al[13 * H], out[N * H * F], dout[N * H * F];
	CHECK(wn_gat_forward(&L, &g, X, P, u, al, out) == 0);
	for (int64_t k = 0; k < N * od; k++)
		dout[k] = w[k] * (1 + 0.6 * out[k]);
	double dth[H * DIN * F] = {0}, da[H * 2 * F] = {0}, dX[N * DIN];
	CHECK(wn_gat_backward(&L, &g, X, P, u, al, dout, dth, da, dX) == 0);
	const double h = 1e-6;
	double *vars[3] = {th, a, X}, *grads[3] = {dth, da, dX};
	int sizes[3] = {H * DIN * F, H * 2 * F, N * DIN};
	for (int v = 0; v < 3; v++)
		for (int k = 0; k < sizes[v]; k++) {
			double keep = vars[v][k];
			vars[v][k] = keep + h;
			double lp = layer_loss(&L, &g, X, w);
			vars[v][k] = keep - h;
			double lm = layer_loss(&L, &g, X, w);
			vars[v][k] = keep;
			double fd = (lp - lm) / (2 * h);
			if (fabs(fd - grads[v][k]) > 1e-6 * (1 + fabs(fd)))
				TEST_FAIL_("concat %d var %d [%d]: backward %.9g, finite difference %.9g",
					   concat, v, k, grads[v][k], fd);
		}
}

/* The layer forward against a dense reference: an n x n adjacency, every
 * pair's score aT [P_i || P_j] computed on its own, masked softmax. */
static void check_dense(int concat)
{
	enum { N = 5, DIN = 4, H = 2, F = 3 };
	uint64_t r = 41 + (uint64_t)concat;
	double X[N * DIN], th[H * DIN * F], a[H * 2 * F];
	for (int k = 0; k < N * DIN; k++) X[k] = 2 * lcg(&r);
	for (int k = 0; k < H * DIN * F; k++) th[k] = lcg(&r);
	for (int k = 0; k < H * 2 * F; k++) a[k] = 2 * lcg(&r);
	wn_gais_graph g = {N, G_PTR, G_SRC};
	wn_gat_layer L = {DIN, H, F, concat, th, a};
	double P[N * H * F], u[13 * H], al[13 * H], out[N * H * F], ref[N * H * F] = {0};
	CHECK(wn_gat_forward(&L, &g, X, P, u, al, out) == 0);
	int adj[N][N] = {{0}};
	for (int i = 0; i < N; i++)
		for (int64_t e = G_PTR[i]; e < G_PTR[i + 1]; e++)
			adj[i][G_SRC[e]] = 1;
	for (int h = 0; h < H; h++) {
		double Q[N][F] = {{0}};
		for (int i = 0; i < N; i++)
			for (int f = 0; f < F; f++)
				for (int k = 0; k < DIN; k++)
					Q[i][f] += X[i * DIN + k] * th[h * DIN * F + k * F + f];
		for (int i = 0; i < N; i++) {
			double e[N], z = 0;
			for (int j = 0; j < N; j++) {
				double s = 0;
				for (int f = 0; f < F; f++)
					s += a[h * 2 * F + f] * Q[i][f] + a[h * 2 * F + F + f] * Q[j][f];
				e[j] = adj[i][j] ? exp(s > 0 ? s : 0.2 * s) : 0;
				z += e[j];
			}
			for (int j = 0; j < N; j++)
				for (int f = 0; f < F; f++) {
					double v = e[j] / z * Q[j][f];
					if (concat)
						ref[i * H * F + h * F + f] += v;
					else
						ref[i * F + f] += v / H;
				}
		}
	}
	for (int k = 0; k < N * (concat ? H * F : F); k++)
		CHECK_NEAR(out[k], ref[k], 1e-12);
}

static void test_layer_forward_dense_reference(void)
{
	check_dense(1);
	check_dense(0);
}

static void test_layer_gradients_concat(void) { check_layer(1); }
static void test_layer_gradients_mean(void) { check_layer(0); }

static void test_model_gradients(void)
{
	enum { N = 5, DIN = 3, C = 3 };
	uint64_t r = 99;
	double X[N * DIN];
	for (int k = 0; k < N * DIN; k++) X[k] = 2 * lcg(&r);
	int32_t y[N] = {0, 2, 1, 1, 0};
	unsigned char mask[N] = {1, 1, 0, 1, 1};
	wn_gais_graph g = {N, G_PTR, G_SRC};
	wn_gais_model *m = wn_gais_model_new(DIN, 4, 2, 3, C, 5);
	CHECK(m != NULL);
	double *p = wn_gais_model_params(m), *gr = wn_gais_model_grads(m), loss, lp, lm;
	int64_t np = wn_gais_model_num_params(m);
	CHECK(wn_gais_model_forward(m, &g, X, NULL) == 0);
	CHECK(wn_gais_model_backward(m, &g, y, mask, &loss) == 0);
	CHECK(loss > 0);
	double *an = malloc((size_t)np * sizeof *an);
	CHECK(an != NULL);
	memcpy(an, gr, (size_t)np * sizeof *an);
	const double h = 1e-6;
	int bad = -1;
	double fdb = 0;
	for (int64_t k = 0; k < np && bad < 0; k++) {
		double keep = p[k];
		p[k] = keep + h;
		wn_gais_model_forward(m, &g, X, NULL);
		wn_gais_model_backward(m, &g, y, mask, &lp);
		p[k] = keep - h;
		wn_gais_model_forward(m, &g, X, NULL);
		wn_gais_model_backward(m, &g, y, mask, &lm);
		p[k] = keep;
		fdb = (lp - lm) / (2 * h);
		if (fabs(fdb - an[k]) > 1e-6 * (1 + fabs(fdb)))
			bad = (int)k;
	}
	double got = bad >= 0 ? an[bad] : 0;
	free(an);
	wn_gais_model_free(m);
	if (bad >= 0)
		TEST_FAIL_("param %d: backward %.9g, finite difference %.9g", bad, got, fdb);
}

/* 3 classes of 2-d points around three centres (class shares 60/30/10 %). */
static void clusters(float *X, int32_t *y, int64_t n)
{
	uint64_t r = 3;
	const double cx[3] = {3, -1.5, -1.5}, cy[3] = {0, 2.6, -2.6};
	for (int64_t i = 0; i < n; i++) {
		int c = i % 10 < 6 ? 0 : i % 10 < 9 ? 1 : 2;
		y[i] = c;
		X[2 * i] = (float)(cx[c] + lcg(&r));
		X[2 * i + 1] = (float)(cy[c] + lcg(&r));
	}
}

static void test_minibatch_keeps_classes(void)
{
	enum { N = 200, B = 40, K = 5 };
	float X[2 * N];
	int32_t y[N];
	clusters(X, y, N);
	wn_gais_batches b;
	char err[256];
	CHECK(wn_gais_minibatch(X, y, N, 2, 3, B, K, 1, &b, err, sizeof err) == 0);
	CHECK_EQ_INT(b.nb, 5);
	int seen[N] = {0};
	for (int64_t q = 0; q < b.nb; q++) {
		int cnt[3] = {0};
		int64_t m = b.start[q + 1] - b.start[q];
		for (int64_t i = 0; i < m; i++)
			cnt[y[b.members[b.start[q] + i]]]++, seen[b.members[b.start[q] + i]]++;
		CHECK_EQ_INT(cnt[0], 24); /* 120 / 5, 60 / 5, 20 / 5 */
		CHECK_EQ_INT(cnt[1], 12);
		CHECK_EQ_INT(cnt[2], 4);
		const wn_gais_graph *g = &b.g[q];
		CHECK_EQ_INT(g->n, m);
		for (int64_t i = 0; i < m; i++) {
			CHECK_EQ_INT(g->ptr[i + 1] - g->ptr[i], K + 1);
			CHECK_EQ_INT(g->src[g->ptr[i]], i);
			/* the K-th neighbour's cosine bounds every non-neighbour's */
			const float *xi = X + 2 * b.members[b.start[q] + i];
			double ni = hypot(xi[0], xi[1]), worst = 2;
			for (int64_t e = g->ptr[i] + 1; e < g->ptr[i + 1]; e++) {
				const float *xj = X + 2 * b.members[b.start[q] + g->src[e]];
				double c = (xi[0] * xj[0] + xi[1] * xj[1]) / (ni * hypot(xj[0], xj[1]));
				worst = c < worst ? c : worst;
				CHECK(g->src[e] != i);
			}
			int out = 0;
			for (int64_t j = 0; j < m; j++) {
				int in = j == i;
				for (int64_t e = g->ptr[i]; e < g->ptr[i + 1]; e++)
					in |= g->src[e] == j;
				const float *xj = X + 2 * b.members[b.start[q] + j];
				double c = (xi[0] * xj[0] + xi[1] * xj[1]) / (ni * hypot(xj[0], xj[1]));
				out |= !in && c > worst + 1e-12;
			}
			CHECK(!out);
		}
	}
	for (int i = 0; i < N; i++)
		CHECK_EQ_INT(seen[i], 1);
	wn_gais_batches_free(&b);
	CHECK(wn_gais_minibatch(X, y, 12, 2, 3, 4, 5, 1, &b, err, sizeof err) == -1);
	CHECK(strstr(err, "-k 5 needs at least 6") != NULL);
}

/* Partition, sizes above K, kNN rows well formed. */
static int64_t check_batches(const wn_gais_batches *b, int64_t n, int64_t K)
{
	int *seen = calloc((size_t)n, sizeof *seen);
	int64_t bad = 0;
	for (int64_t q = 0; q < b->nb; q++) {
		const wn_gais_graph *g = &b->g[q];
		bad += g->n != b->start[q + 1] - b->start[q] || g->n <= K;
		for (int64_t i = 0; i < g->n; i++) {
			seen[b->members[b->start[q] + i]]++;
			bad += g->ptr[i + 1] - g->ptr[i] != K + 1 || g->src[g->ptr[i]] != i;
		}
	}
	for (int64_t i = 0; i < n; i++)
		bad += seen[i] != 1;
	free(seen);
	return bad;
}

static void test_lsh_buckets(void)
{
	enum { N = 300, K = 3 };
	float X[2 * N];
	int32_t y[N];
	clusters(X, y, N);
	wn_gais_batches b1, b3, b6;
	char err[256];
	CHECK(wn_gais_lsh(X, N, 2, 1, 1, 10, K, 4, &b1, err, sizeof err) == 0);
	CHECK(wn_gais_lsh(X, N, 2, 1, 3, 10, K, 4, &b3, err, sizeof err) == 0);
	CHECK(wn_gais_lsh(X, N, 2, 6, 1, 10, K, 4, &b6, err, sizeof err) == 0);
	CHECK(b1.nb >= 1 && b1.nb <= 2); /* one plane, one level: two sides at most */
	CHECK(b3.nb > b1.nb);            /* buckets over 10 hashed again */
	CHECK_EQ_INT(check_batches(&b1, N, K), 0);
	CHECK_EQ_INT(check_batches(&b3, N, K), 0);
	CHECK_EQ_INT(check_batches(&b6, N, K), 0);
	/* six planes through the origin: the three clusters (120 degrees
	 * apart) fall in different buckets; count records outside their
	 * bucket's majority class */
	int64_t off = 0;
	for (int64_t q = 0; q < b6.nb; q++) {
		int cnt[3] = {0}, mx = 0;
		for (int64_t i = b6.start[q]; i < b6.start[q + 1]; i++)
			cnt[y[b6.members[i]]]++;
		for (int c = 0; c < 3; c++)
			mx = cnt[c] > mx ? cnt[c] : mx;
		off += b6.start[q + 1] - b6.start[q] - mx;
	}
	CHECK(off <= N / 20);
	wn_gais_batches_free(&b1);
	wn_gais_batches_free(&b3);
	wn_gais_batches_free(&b6);
	/* three views: every record in three batches, the first view the single hashing */
	wn_gais_batches v3;
	CHECK(wn_gais_lsh(X, N, 2, 2, 1, 10, K, 4, &b1, err, sizeof err) == 0);
	CHECK(wn_gais_lsh_views(X, N, 2, 2, 1, 3, 10, K, 4, &v3, err, sizeof err) == 0);
	int in3[N] = {0};
	for (int64_t i = 0; i < v3.start[v3.nb]; i++)
		in3[v3.members[i]]++;
	for (int i = 0; i < N; i++)
		CHECK_EQ_INT(in3[i], 3);
	CHECK(v3.nb > b1.nb);
	CHECK(memcmp(v3.members, b1.members, N * sizeof *b1.members) == 0);
	for (int64_t q = 0; q <= b1.nb; q++)
		CHECK_EQ_INT(v3.start[q], b1.start[q]);
	for (int64_t q = 0; q < b1.nb; q++)
		CHECK(memcmp(v3.g[q].src, b1.g[q].src, (size_t)b1.g[q].ptr[b1.g[q].n] * sizeof(int64_t)) == 0);
	wn_gais_batches_free(&b1);
	wn_gais_batches_free(&v3);
	CHECK(wn_gais_lsh(X, 3, 2, 4, 1, 10, K, 4, &b1, err, sizeof err) == -1);
	CHECK(strstr(err, "-k 3 needs more than 3 records") != NULL);
}

struct acc_log {
	double last;
};

static void on_epoch(void *ctx, int run, int e, double loss, double acc, int64_t nh)
{
	(void)run, (void)e, (void)loss, (void)nh;
	((struct acc_log *)ctx)->last = acc;
}

static void test_run_learns_and_is_thread_free(void)
{
	enum { N = 160 };
	float X[2 * N];
	int32_t y[N];
	unsigned char hold[N];
	clusters(X, y, N);
	for (int i = 0; i < N; i++)
		hold[i] = i % 4 == 0;
	wn_gais_opts o = {.batch = 40, .k = 4, .hidden = 8, .heads = 2, .layers = 2, .epochs = 30,
			  .runs = 2, .lr = 0.02, .weight_decay = 0.01, .seed = 3};
	double s1[N], s2[N];
	char err[256];
	struct acc_log lg = {0};
	omp_set_num_threads(1);
	CHECK(wn_gais_run(&o, X, y, N, 2, 3, hold, on_epoch, &lg, s1, err, sizeof err) == 0);
	CHECK(lg.last >= 0.95);
	omp_set_num_threads(2);
	CHECK(wn_gais_run(&o, X, y, N, 2, 3, hold, NULL, NULL, s2, err, sizeof err) == 0);
	CHECK(memcmp(s1, s2, sizeof s1) == 0);
	/* every row of attention sums to 1 per head and layer: the scores sum
	 * to (N - self attention) H L, so at most N H L, and are not negative (a record in no kNN list gets 0) */
	double sum = 0;
	for (int i = 0; i < N; i++) {
		sum += s1[i];
		CHECK(s1[i] >= 0);
	}
	CHECK(sum < N * 2 * 2 && sum > 0.2 * N * 2 * 2);
}

int main(void)
{
	RUN(test_attention_hand_value);
	RUN(test_layer_forward_dense_reference);
	RUN(test_layer_gradients_concat);
	RUN(test_layer_gradients_mean);
	RUN(test_model_gradients);
	RUN(test_minibatch_keeps_classes);
	RUN(test_lsh_buckets);
	RUN(test_run_learns_and_is_thread_free);
	return TEST_EXIT;
}
