/*
 * selectors/facility.c — greedy facility location over a sparse similarity
 * (see selectors/facility.h): the by-candidate lists, the gain of a
 * candidate, and the plain, lazy and stochastic greedy loops.
 */
#include "selectors/facility.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "io/errf.h"

#define FL_STREAM 0x464c000000000000ull /* "FL": the stochastic draws, + step */

void wn_fl_free(wn_fl_problem *p)
{
	free(p->start);
	free(p->who);
	free(p->sim);
	memset(p, 0, sizeof *p);
}

void wn_fl_result_free(wn_fl_result *r)
{
	free(r->order);
	free(r->gain);
	free(r->objective);
	memset(r, 0, sizeof *r);
}

static int alloc_problem(wn_fl_problem *p, int64_t n, int64_t entries)
{
	p->n = n;
	p->start = calloc((size_t)n + 1, sizeof(int64_t));
	p->who = malloc(sizeof(int64_t) * (size_t)(entries ? entries : 1));
	p->sim = malloc(sizeof(double) * (size_t)(entries ? entries : 1));
	if (p->start && p->who && p->sim)
		return 0;
	wn_fl_free(p);
	return -1;
}

/* Candidate of entry t of point i, or −1 when it is skipped. */
static int64_t knn_cand(int64_t i, int64_t t, int64_t k, const int64_t *nbr, const float *sim)
{
	int64_t j = nbr[i * k + t];
	return j >= 0 && j != i && sim[i * k + t] > 0 ? j : -1;
}

int wn_fl_from_knn(wn_fl_problem *p, int64_t n, int64_t k, const int64_t *nbr, const float *sim,
		   const float *self_sim)
{
	memset(p, 0, sizeof *p);
	int64_t *cnt = calloc((size_t)n + 1, sizeof(int64_t)), total = 0;
	if (!cnt)
		return -1;
	for (int64_t i = 0; i < n; i++) {
		if (self_sim && self_sim[i] > 0)
			cnt[i]++;
		for (int64_t t = 0; t < k; t++) {
			int64_t j = knn_cand(i, t, k, nbr, sim);
			if (j >= 0)
				cnt[j]++;
		}
	}
	for (int64_t j = 0; j < n; j++)
		total += cnt[j];
	if (alloc_problem(p, n, total))
		return free(cnt), -1;
	for (int64_t j = 0; j < n; j++)
		p->start[j + 1] = p->start[j] + cnt[j];
	memcpy(cnt, p->start, sizeof(int64_t) * (size_t)n); /* fill positions */
	for (int64_t i = 0; i < n; i++) { /* entries of each candidate in increasing i */
		if (self_sim && self_sim[i] > 0)
			p->who[cnt[i]] = i, p->sim[cnt[i]++] = self_sim[i];
		for (int64_t t = 0; t < k; t++) {
			int64_t j = knn_cand(i, t, k, nbr, sim);
			if (j >= 0)
				p->who[cnt[j]] = i, p->sim[cnt[j]++] = sim[i * k + t];
		}
	}
	free(cnt);
	return 0;
}

int wn_fl_from_dense(wn_fl_problem *p, int64_t n, const double *S)
{
	memset(p, 0, sizeof *p);
	int64_t total = 0;
	for (int64_t k = 0; k < n * n; k++)
		total += S[k] > 0;
	if (alloc_problem(p, n, total))
		return -1;
	int64_t e = 0;
	for (int64_t j = 0; j < n; j++) {
		for (int64_t i = 0; i < n; i++)
			if (S[i * n + j] > 0)
				p->who[e] = i, p->sim[e++] = S[i * n + j];
		p->start[j + 1] = e;
	}
	return 0;
}

double wn_fl_value(const wn_fl_problem *p, const int64_t *S, int64_t m)
{
	double *cur = calloc((size_t)(p->n ? p->n : 1), sizeof(double)), v = 0;
	if (!cur)
		return NAN;
	for (int64_t t = 0; t < m; t++)
		for (int64_t e = p->start[S[t]]; e < p->start[S[t] + 1]; e++)
			if (p->sim[e] > cur[p->who[e]])
				cur[p->who[e]] = p->sim[e];
	for (int64_t i = 0; i < p->n; i++)
		v += cur[i];
	free(cur);
	return v;
}

/* ---- one run ---- */

struct run {
	const wn_fl_problem *p;
	const wn_fl_opts *o;
	wn_fl_result *r;
	double *cur;        /* coverage of each point */
	double left;        /* budget left */
	int64_t cap;        /* most selections (n) */
	int64_t best_single;
	double best_single_gain;
};

static double gain_of(struct run *R, int64_t j)
{
	const wn_fl_problem *p = R->p;
	double g = 0;
	for (int64_t e = p->start[j]; e < p->start[j + 1]; e++) {
		double c = R->cur[p->who[e]];
		if (p->sim[e] > c)
			g += p->sim[e] - c;
	}
	R->r->evals++;
	return g;
}

static double cost_of(const struct run *R, int64_t j)
{
	return R->o->cost ? R->o->cost[j] : 1.0;
}

static int fits(const struct run *R, int64_t j)
{
	return cost_of(R, j) <= R->left;
}

/* Take j with its current gain g. */
static void take(struct run *R, int64_t j, double g)
{
	const wn_fl_problem *p = R->p;
	wn_fl_result *r = R->r;
	for (int64_t e = p->start[j]; e < p->start[j + 1]; e++)
		if (p->sim[e] > R->cur[p->who[e]])
			R->cur[p->who[e]] = p->sim[e];
	r->order[r->m] = j;
	r->gain[r->m] = g;
	r->objective[r->m] = (r->m ? r->objective[r->m - 1] : 0) + g;
	r->m++;
	r->cost_used += cost_of(R, j);
	R->left -= cost_of(R, j);
}

/* (ka, a) before (kb, b): larger key, then smaller index. */
static int ahead(double ka, int64_t a, double kb, int64_t b)
{
	return ka > kb || (ka == kb && a < b);
}

/* Plain greedy: every remaining feasible candidate evaluated each step. */
static void run_plain(struct run *R, unsigned char *taken)
{
	for (;;) {
		int64_t best = -1;
		double bk = 0, bg = 0;
		for (int64_t j = 0; j < R->p->n; j++) {
			if (taken[j] || !fits(R, j))
				continue;
			double g = gain_of(R, j), k = g / cost_of(R, j);
			if (best < 0 || ahead(k, j, bk, best))
				best = j, bk = k, bg = g;
		}
		if (best < 0)
			return;
		taken[best] = 1;
		take(R, best, bg);
	}
}

/* ---- the heap of the lazy greedy: (key, index), best on top ---- */

struct heap {
	double *key;
	int64_t *idx;
	int64_t n;
};

static void heap_swap(struct heap *h, int64_t a, int64_t b)
{
	double k = h->key[a];
	int64_t i = h->idx[a];
	h->key[a] = h->key[b], h->idx[a] = h->idx[b];
	h->key[b] = k, h->idx[b] = i;
}

static void heap_down(struct heap *h, int64_t a)
{
	for (;;) {
		int64_t l = 2 * a + 1, r = l + 1, m = a;
		if (l < h->n && ahead(h->key[l], h->idx[l], h->key[m], h->idx[m]))
			m = l;
		if (r < h->n && ahead(h->key[r], h->idx[r], h->key[m], h->idx[m]))
			m = r;
		if (m == a)
			return;
		heap_swap(h, a, m);
		a = m;
	}
}

static void heap_pop(struct heap *h)
{
	h->key[0] = h->key[--h->n];
	h->idx[0] = h->idx[h->n];
	heap_down(h, 0);
}

/* Lazy greedy: stale keys are upper bounds (gains only shrink). */
static int run_lazy(struct run *R, const double *g0)
{
	int64_t n = R->p->n, step = 0;
	size_t c = (size_t)(n ? n : 1);
	struct heap h = {malloc(sizeof(double) * c), malloc(sizeof(int64_t) * c), 0};
	int64_t *fresh = malloc(sizeof(int64_t) * c); /* the step j's gain was computed in */
	double *fg = malloc(sizeof(double) * c);      /* that gain */
	int rc = h.key && h.idx && fresh && fg ? 0 : -1;
	for (int64_t j = 0; !rc && j < n; j++) {
		fresh[j] = 0, fg[j] = g0[j];
		if (fits(R, j))
			h.key[h.n] = g0[j] / cost_of(R, j), h.idx[h.n++] = j;
	}
	for (int64_t a = h.n / 2; !rc && a-- > 0;)
		heap_down(&h, a);
	while (!rc && h.n > 0) {
		int64_t j = h.idx[0];
		if (!fits(R, j)) {
			heap_pop(&h);
		} else if (fresh[j] == step) { /* its key is its gain now: it leads */
			heap_pop(&h);
			take(R, j, fg[j]);
			step++;
		} else {
			fg[j] = gain_of(R, j);
			fresh[j] = step;
			h.key[0] = fg[j] / cost_of(R, j);
			heap_down(&h, 0);
		}
	}
	free(h.key), free(h.idx), free(fresh), free(fg);
	return rc;
}

/* Stochastic greedy: the best of a random sample of the remaining candidates. */
static int run_stochastic(struct run *R)
{
	int64_t n = R->p->n, nr = n, M = (int64_t)floor(R->o->budget);
	int64_t *rem = malloc(sizeof(int64_t) * (size_t)(n ? n : 1));
	if (!rem)
		return -1;
	for (int64_t j = 0; j < n; j++)
		rem[j] = j;
	double want = ceil((double)n / (double)(M > 0 ? M : 1) * log(1.0 / R->o->epsilon));
	int64_t s = want < 1 ? 1 : want > (double)n ? n : (int64_t)want;
	for (int64_t step = 0; nr > 0 && R->left >= 1; step++) {
		wn_rng rng;
		wn_rng_init(&rng, R->o->seed, FL_STREAM + (uint64_t)step);
		int64_t take_n = s < nr ? s : nr, bpos = -1;
		double bg = 0;
		for (int64_t t = 0; t < take_n; t++) {
			int64_t u = t + (int64_t)wn_rng_next_below(&rng, (uint64_t)(nr - t));
			int64_t tmp = rem[t];
			rem[t] = rem[u], rem[u] = tmp;
			double g = gain_of(R, rem[t]);
			if (bpos < 0 || ahead(g, rem[t], bg, rem[bpos]))
				bpos = t, bg = g;
		}
		int64_t j = rem[bpos];
		rem[bpos] = rem[--nr];
		take(R, j, bg);
	}
	free(rem);
	return 0;
}

static int alloc_result(wn_fl_result *r, int64_t n)
{
	memset(r, 0, sizeof *r);
	size_t c = (size_t)(n ? n : 1);
	r->order = malloc(sizeof(int64_t) * c);
	r->gain = malloc(sizeof(double) * c);
	r->objective = malloc(sizeof(double) * c);
	return r->order && r->gain && r->objective ? 0 : -1;
}

/* Knapsack: the best single feasible element, when it beats the greedy set. */
static void single_rule(struct run *R, const double *g0)
{
	int64_t best = -1;
	for (int64_t j = 0; j < R->p->n; j++)
		if (R->o->cost[j] <= R->o->budget && (best < 0 || g0[j] > g0[best]))
			best = j;
	wn_fl_result *r = R->r;
	if (best < 0 || !(g0[best] > (r->m ? r->objective[r->m - 1] : 0)))
		return;
	r->m = 1;
	r->order[0] = best;
	r->gain[0] = r->objective[0] = g0[best];
	r->cost_used = R->o->cost[best];
	r->single = 1;
}

static int check_opts(const wn_fl_problem *p, const wn_fl_opts *o, char *err, size_t errlen)
{
	if (!(o->budget > 0) || !isfinite(o->budget))
		return wn_errf(err, errlen, "the budget must be a finite number > 0"), -1;
	if (o->method == WN_FL_STOCHASTIC && (!(o->epsilon > 0 && o->epsilon < 1) || o->cost))
		return wn_errf(err, errlen, "stochastic greedy needs 0 < epsilon < 1 and no costs"), -1;
	for (int64_t j = 0; o->cost && j < p->n; j++)
		if (!(o->cost[j] > 0) || !isfinite(o->cost[j]))
			return wn_errf(err, errlen, "cost %lld is not a finite number > 0", (long long)j), -1;
	return 0;
}

int wn_fl_greedy(const wn_fl_problem *p, const wn_fl_opts *o, wn_fl_result *r, char *err,
		 size_t errlen)
{
	memset(r, 0, sizeof *r);
	if (check_opts(p, o, err, errlen))
		return -1;
	int64_t n = p->n;
	struct run R = {p, o, r, calloc((size_t)(n ? n : 1), sizeof(double)),
			o->cost ? o->budget : floor(o->budget), n, -1, 0};
	unsigned char *taken = calloc((size_t)(n ? n : 1), 1);
	double *g0 = malloc(sizeof(double) * (size_t)(n ? n : 1));
	int rc = -1;
	if (!R.cur || !taken || !g0 || alloc_result(r, n))
		goto out;
	for (int64_t j = 0; j < n; j++) /* F({j}): the first step's gains */
		g0[j] = o->method == WN_FL_LAZY || o->cost ? gain_of(&R, j) : 0;
	if (o->method == WN_FL_PLAIN)
		run_plain(&R, taken), rc = 0;
	else if (o->method == WN_FL_STOCHASTIC)
		rc = run_stochastic(&R);
	else
		rc = run_lazy(&R, g0);
	if (!rc && o->cost)
		single_rule(&R, g0);
out:
	if (rc) {
		wn_fl_result_free(r);
		wn_errf(err, errlen, "out of memory for facility location on %lld points", (long long)n);
	}
	free(R.cur);
	free(taken);
	free(g0);
	return rc;
}
