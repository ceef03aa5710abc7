/*
 * selectors/mig.c — MIG's label graph, item rows and lazy greedy (see
 * selectors/mig.h).
 */
#include "selectors/mig.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "io/errf.h"

#define MIG_ALPHA 0.8
#define MIG_EPS 1e-6
#define MIG_ALPHA_M1 (-0.2) /* alpha - 1, written out: 0.8 - 1.0 is -0.19999999999999996 */

void wn_mig_sparse_free(wn_mig_sparse *m)
{
	free(m->off);
	free(m->col);
	free(m->val);
	memset(m, 0, sizeof *m);
}

static double *unit_rows(const float *E, int64_t L, int64_t d)
{
	double *U = malloc(sizeof(double) * (size_t)(L * d > 0 ? L * d : 1));
	if (!U)
		return NULL;
	for (int64_t l = 0; l < L; l++) {
		double nn = 0;
		for (int64_t j = 0; j < d; j++)
			nn += (double)E[l * d + j] * E[l * d + j];
		double inv = nn > 0 ? 1.0 / sqrt(nn) : 0;
		for (int64_t j = 0; j < d; j++)
			U[l * d + j] = E[l * d + j] * inv;
	}
	return U;
}

static double dot(const double *a, const double *b, int64_t d)
{
	double t = 0;
	for (int64_t j = 0; j < d; j++)
		t += a[j] * b[j];
	return t;
}

#define MIG_ROW_BLOCK 256

/* Append the entries >= thr of rows b0 .. b0 + nb (dense in S) to P. */
static int append_rows(wn_mig_sparse *P, int64_t *cap, const double *S, int64_t b0, int64_t nb,
		       int64_t L, double thr)
{
	for (int64_t r = 0; r < nb; r++) {
		int64_t l = b0 + r, k = P->off[l];
		for (int64_t m = 0; m < L; m++) {
			double w = S[r * L + m];
			if (m != l && !(w >= thr))
				continue;
			if (k == *cap) {
				int64_t nc = *cap ? 2 * *cap : 1024;
				int32_t *c = realloc(P->col, sizeof(int32_t) * (size_t)nc);
				if (c)
					P->col = c;
				double *v = realloc(P->val, sizeof(double) * (size_t)nc);
				if (v)
					P->val = v;
				if (!c || !v)
					return -1;
				*cap = nc;
			}
			P->col[k] = (int32_t)m;
			P->val[k++] = m == l ? 1.0 : w;
		}
		P->off[l + 1] = k;
	}
	return 0;
}

/* W thresholded, by blocks of rows: each similarity computed once. */
static int build_w(wn_mig_sparse *P, const double *U, int64_t L, int64_t d, double thr,
		   int threads)
{
	int64_t cap = 0, B = L < MIG_ROW_BLOCK ? L : MIG_ROW_BLOCK;
	double *S = malloc(sizeof(double) * (size_t)(B * L));
	if (!S)
		return -1;
	int rc = 0;
	for (int64_t b0 = 0; rc == 0 && b0 < L; b0 += B) {
		int64_t nb = L - b0 < B ? L - b0 : B;
#pragma omp parallel for schedule(static) num_threads(threads > 0 ? threads : omp_get_max_threads())
		for (int64_t r = 0; r < nb; r++)
			for (int64_t m = 0; m < L; m++)
				S[r * L + m] = dot(U + (b0 + r) * d, U + m * d, d);
		rc = append_rows(P, &cap, S, b0, nb, L, thr);
	}
	free(S);
	return rc;
}

/* Divide by column sums (W is symmetric, so a column sum is its row sum
 * computed over the same entries), then scale the off-diagonal. */
static int normalise(wn_mig_sparse *P, double prop_weight)
{
	int64_t L = P->rows;
	double *cs = calloc((size_t)(L ? L : 1), sizeof(double));
	if (!cs)
		return -1;
	for (int64_t l = 0; l < L; l++)
		for (int64_t k = P->off[l]; k < P->off[l + 1]; k++)
			cs[P->col[k]] += P->val[k];
	for (int64_t l = 0; l < L; l++)
		for (int64_t k = P->off[l]; k < P->off[l + 1]; k++) {
			P->val[k] /= cs[P->col[k]];
			if (P->col[k] != l)
				P->val[k] *= prop_weight;
		}
	free(cs);
	return 0;
}

int wn_mig_graph(const float *E, int64_t L, int64_t d, double threshold, double prop_weight,
		 int threads, wn_mig_sparse *P, char *err, size_t errlen)
{
	memset(P, 0, sizeof *P);
	if (L < 1 || L > INT32_MAX || d < 1)
		return wn_errf(err, errlen, "no labels, or too many"), -1;
	double *U = unit_rows(E, L, d);
	P->rows = L;
	P->off = calloc((size_t)L + 1, sizeof(int64_t));
	if (!U || !P->off || build_w(P, U, L, d, threshold, threads) || normalise(P, prop_weight))
		goto oom;
	free(U);
	return 0;
oom:
	free(U);
	wn_mig_sparse_free(P);
	return wn_errf(err, errlen, "out of memory"), -1;
}

/* ---- items ---- */

static int cmp_i32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
	return (x > y) - (x < y);
}

/* Item scratch: a dense accumulator, its support and a mark per label. */
struct item_ws {
	double *acc;
	int32_t *sup, *lab;
	unsigned char *in;
};

/* u = Σ_{l in labels} v P[l,:] into ws->acc; returns the support's size
 * (ws->sup, ascending). Labels repeated in an item count once. */
static int64_t item_row(const wn_mig_sparse *P, const int32_t *lab, int64_t nl, double s,
			int norm, struct item_ws *ws)
{
	int64_t ns = 0, nd = 0;
	memcpy(ws->lab, lab, sizeof(int32_t) * (size_t)nl);
	qsort(ws->lab, (size_t)nl, sizeof(int32_t), cmp_i32);
	for (int64_t j = 0; j < nl; j++)
		if (j == 0 || ws->lab[j] != ws->lab[j - 1])
			ws->lab[nd++] = ws->lab[j];
	double v = norm && nd ? s / (double)nd : s;
	for (int64_t j = 0; j < nd; j++)
		for (int64_t k = P->off[ws->lab[j]]; k < P->off[ws->lab[j] + 1]; k++) {
			int32_t c = P->col[k];
			if (!ws->in[c]) {
				ws->in[c] = 1;
				ws->sup[ns++] = c;
			}
			ws->acc[c] += v * P->val[k];
		}
	qsort(ws->sup, (size_t)ns, sizeof(int32_t), cmp_i32);
	return ns;
}

static int items_grow(wn_mig_sparse *U, int64_t *cap, int64_t need)
{
	if (need <= *cap)
		return 0;
	int64_t nc = *cap ? *cap : 1024;
	while (nc < need)
		nc *= 2;
	int32_t *c = realloc(U->col, sizeof(int32_t) * (size_t)nc);
	if (c)
		U->col = c;
	double *v = realloc(U->val, sizeof(double) * (size_t)nc);
	if (v)
		U->val = v;
	if (!c || !v)
		return -1;
	*cap = nc;
	return 0;
}

int wn_mig_items(const wn_mig_sparse *P, int64_t n, const int64_t *loff, const int32_t *lab,
		 const double *s, int norm, wn_mig_sparse *U, char *err, size_t errlen)
{
	int64_t L = P->rows, cap = 0, maxl = 1;
	memset(U, 0, sizeof *U);
	for (int64_t i = 0; i < n; i++) {
		if (loff[i + 1] - loff[i] > maxl)
			maxl = loff[i + 1] - loff[i];
		for (int64_t j = loff[i]; j < loff[i + 1]; j++)
			if (lab[j] < 0 || lab[j] >= L)
				return wn_errf(err, errlen, "label id %d of item %lld is not in [0, %lld)",
					       lab[j], (long long)i, (long long)L), -1;
		if (!isfinite(s[i]) || s[i] < 0)
			return wn_errf(err, errlen, "quality of item %lld is negative or not finite",
				       (long long)i), -1;
	}
	struct item_ws ws = {calloc((size_t)L, sizeof(double)), malloc(sizeof(int32_t) * (size_t)L),
			     malloc(sizeof(int32_t) * (size_t)maxl), calloc((size_t)L, 1)};
	U->rows = n;
	U->off = calloc((size_t)n + 1, sizeof(int64_t));
	int rc = ws.acc && ws.sup && ws.lab && ws.in && U->off ? 0 : -1;
	for (int64_t i = 0; rc == 0 && i < n; i++) {
		int64_t m = item_row(P, lab + loff[i], loff[i + 1] - loff[i], s[i], norm, &ws);
		rc = items_grow(U, &cap, U->off[i] + m);
		for (int64_t j = 0; j < m; j++) {
			if (rc == 0) {
				U->col[U->off[i] + j] = ws.sup[j];
				U->val[U->off[i] + j] = ws.acc[ws.sup[j]];
			}
			ws.acc[ws.sup[j]] = 0;
			ws.in[ws.sup[j]] = 0;
		}
		U->off[i + 1] = U->off[i] + m;
	}
	free(ws.acc);
	free(ws.sup);
	free(ws.lab);
	free(ws.in);
	if (rc) {
		wn_mig_sparse_free(U);
		return wn_errf(err, errlen, "out of memory"), -1;
	}
	return 0;
}

/* ---- greedy ---- */

static double dphi(double x, int phi)
{
	return phi == WN_MIG_PHI_EXP ? exp(-x) : MIG_ALPHA * pow(x + MIG_EPS, MIG_ALPHA_M1);
}

static double item_gain(const wn_mig_sparse *U, int64_t i, const double *x, int phi)
{
	double g = 0;
	for (int64_t k = U->off[i]; k < U->off[i + 1]; k++)
		g += U->val[k] * dphi(x[U->col[k]], phi);
	return g;
}

/* A max-heap of (gain, item): larger gain first, then the smaller item. */
struct heap_ent {
	double g;
	int64_t i;
};

static int ent_before(const struct heap_ent *a, const struct heap_ent *b)
{
	return a->g > b->g || (a->g == b->g && a->i < b->i);
}

static void sift_down(struct heap_ent *h, int64_t n, int64_t j)
{
	for (;;) {
		int64_t l = 2 * j + 1, r = l + 1, b = j;
		if (l < n && ent_before(&h[l], &h[b]))
			b = l;
		if (r < n && ent_before(&h[r], &h[b]))
			b = r;
		if (b == j)
			return;
		struct heap_ent t = h[j];
		h[j] = h[b];
		h[b] = t;
		j = b;
	}
}

/*
 * Pop the true argmax: the top's gain is recomputed; if it still comes
 * before the next entry (whose stored gain bounds its true gain from
 * above, ties ordered by item), it is the pick; else it goes back down.
 */
static struct heap_ent pop_best(struct heap_ent *h, int64_t *n, const wn_mig_sparse *U,
				const double *x, int phi)
{
	for (;;) {
		h[0].g = item_gain(U, h[0].i, x, phi);
		int64_t b = *n > 2 && ent_before(&h[2], &h[1]) ? 2 : 1;
		if (*n <= 1 || ent_before(&h[0], &h[b])) {
			struct heap_ent best = h[0];
			h[0] = h[--*n];
			sift_down(h, *n, 0);
			return best;
		}
		sift_down(h, *n, 0);
	}
}

int wn_mig_greedy(const wn_mig_sparse *U, int64_t L, int64_t budget, int phi, int threads,
		  int64_t *pick, double *gain, int64_t *npick, char *err, size_t errlen)
{
	int64_t n = U->rows;
	double *x = calloc((size_t)(L ? L : 1), sizeof(double));
	struct heap_ent *h = malloc(sizeof *h * (size_t)(n ? n : 1));
	if (!x || !h) {
		free(x);
		free(h);
		return wn_errf(err, errlen, "out of memory"), -1;
	}
#pragma omp parallel for schedule(static) num_threads(threads > 0 ? threads : omp_get_max_threads())
	for (int64_t i = 0; i < n; i++)
		h[i] = (struct heap_ent){item_gain(U, i, x, phi), i};
	for (int64_t j = n / 2 - 1; j >= 0; j--)
		sift_down(h, n, j);
	int64_t hn = n, k = 0;
	for (; k < budget && hn > 0; k++) {
		struct heap_ent b = pop_best(h, &hn, U, x, phi);
		pick[k] = b.i;
		gain[k] = b.g;
		for (int64_t q = U->off[b.i]; q < U->off[b.i + 1]; q++)
			x[U->col[q]] += U->val[q];
	}
	*npick = k;
	free(x);
	free(h);
	return 0;
}
