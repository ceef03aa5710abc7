/*
 * selectors/kmq.c — kMQ's cluster budgets and per-cluster draws (see
 * selectors/kmq.h).
 */
#include "selectors/kmq.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/sample.h"
#include "io/errf.h"
#include "selectors/subset.h"

#define KMQ_STREAM 0x20u

static uint64_t kmq_stream(int64_t round, int64_t cluster)
{
	return ((uint64_t)KMQ_STREAM << 40) | ((uint64_t)round << 32) | (uint64_t)cluster;
}

/* Largest-remainder split of budget ∝ size (ties to the lower id). */
static int quotas_paper(const int64_t *size, int64_t k, int64_t budget, int64_t *quota,
			char *err, size_t errlen)
{
	size_t *gn = malloc(sizeof(size_t) * (size_t)(k ? k : 1));
	size_t *q = malloc(sizeof(size_t) * (size_t)(k ? k : 1));
	int rc = -1;
	if (!gn || !q)
		wn_errf(err, errlen, "out of memory");
	else {
		for (int64_t g = 0; g < k; g++)
			gn[g] = (size_t)size[g];
		rc = wn_sel_mix_quota(gn, (size_t)k, 1.0, (size_t)budget, NULL, q, err, errlen);
		for (int64_t g = 0; rc == 0 && g < k; g++)
			quota[g] = (int64_t)q[g];
	}
	free(gn);
	free(q);
	return rc;
}

/* Σ min(size, level). */
static int64_t filled(const int64_t *size, int64_t k, int64_t level)
{
	int64_t t = 0;
	for (int64_t g = 0; g < k; g++)
		t += size[g] < level ? size[g] : level;
	return t;
}

/* Equal quotas capped by size: the largest level L with Σ min(size, L) <= budget,
 * then one more to the lowest ids whose size exceeds L until the budget is met. */
static void quotas_code(const int64_t *size, int64_t k, int64_t budget, int64_t *quota)
{
	int64_t lo = 0, hi = 0;
	for (int64_t g = 0; g < k; g++)
		hi = size[g] > hi ? size[g] : hi;
	while (lo < hi) {
		int64_t mid = lo + (hi - lo + 1) / 2;
		if (filled(size, k, mid) <= budget)
			lo = mid;
		else
			hi = mid - 1;
	}
	int64_t left = budget - filled(size, k, lo);
	for (int64_t g = 0; g < k; g++) {
		quota[g] = size[g] < lo ? size[g] : lo;
		if (left > 0 && size[g] > lo) {
			quota[g]++;
			left--;
		}
	}
}

int wn_kmq_quotas(const int64_t *size, int64_t k, int64_t budget, int mode, int64_t *quota,
		  char *err, size_t errlen)
{
	if (k < 1 || budget < 0)
		return wn_errf(err, errlen, "no clusters, or a negative budget"), -1;
	int64_t total = 0;
	for (int64_t g = 0; g < k; g++)
		total += size[g];
	if (total == 0) {
		memset(quota, 0, sizeof(int64_t) * (size_t)k);
		return 0;
	}
	if (mode == WN_KMQ_PAPER)
		return quotas_paper(size, k, budget, quota, err, errlen);
	quotas_code(size, k, budget, quota);
	return 0;
}

/* Per-cluster scratch of one round: members (positions) and their weights. */
struct kmq_work {
	int64_t *start, *member, *size, *quota, *idx, *mult;
	double *w;
};

static void work_free(struct kmq_work *w)
{
	free(w->start);
	free(w->member);
	free(w->size);
	free(w->quota);
	free(w->idx);
	free(w->mult);
	free(w->w);
}

static int work_alloc(struct kmq_work *w, int64_t n, int64_t k)
{
	size_t nn = (size_t)(n ? n : 1), kk = (size_t)k + 1;
	w->start = calloc(kk, sizeof(int64_t));
	w->member = malloc(nn * sizeof(int64_t));
	w->size = calloc(kk, sizeof(int64_t));
	w->quota = calloc(kk, sizeof(int64_t));
	w->idx = malloc(nn * sizeof(int64_t));
	w->mult = malloc(nn * sizeof(int64_t));
	w->w = malloc(nn * sizeof(double));
	return w->start && w->member && w->size && w->quota && w->idx && w->mult && w->w ? 0 : -1;
}

/* The weight item i draws with, before softmax (code) or as is (paper). */
static double item_weight(const double *quality, int64_t i, int mode)
{
	if (!quality)
		return mode == WN_KMQ_CODE ? 0.0 : 1.0; /* code: log-weight 0 = uniform */
	return quality[i];
}

/* Group the items not yet drawn (and of positive weight) by cluster. */
static void work_group(struct kmq_work *w, const int64_t *cluster, const double *quality,
		       int64_t n, int64_t k, int mode, const int32_t *round)
{
	memset(w->size, 0, sizeof(int64_t) * (size_t)k);
	for (int64_t i = 0; i < n; i++)
		if (round[i] < 0 && (mode == WN_KMQ_CODE || item_weight(quality, i, mode) > 0))
			w->size[cluster[i]]++;
	w->start[0] = 0;
	for (int64_t g = 0; g < k; g++)
		w->start[g + 1] = w->start[g] + w->size[g];
	int64_t *fill = w->quota; /* borrowed as a cursor; quotas are computed after */
	memcpy(fill, w->start, sizeof(int64_t) * (size_t)k);
	for (int64_t i = 0; i < n; i++)
		if (round[i] < 0 && (mode == WN_KMQ_CODE || item_weight(quality, i, mode) > 0))
			w->member[fill[cluster[i]]++] = i;
}

/* Draw cluster g's quota in round r. */
static int draw_cluster(struct kmq_work *w, const double *quality, int64_t g, int64_t r,
			const wn_kmq_params *p, int64_t *count, int32_t *round)
{
	int64_t m = w->size[g], q = w->quota[g];
	const int64_t *mem = w->member + w->start[g];
	if (q == 0 || m == 0)
		return 0;
	for (int64_t j = 0; j < m; j++)
		w->w[j] = item_weight(quality, mem[j], p->mode);
	uint64_t st = kmq_stream(r, g);
	if (p->mode == WN_KMQ_PAPER) {
		if (wn_sample_alias(w->w, m, q, p->seed, st, 1, w->mult, NULL))
			return -1;
		for (int64_t j = 0; j < m; j++)
			if (w->mult[j]) {
				count[mem[j]] = w->mult[j];
				round[mem[j]] = (int32_t)r;
			}
		return 0;
	}
	int64_t got = wn_sample_gumbel_topk(w->w, m, 1, q, p->seed, st, 1, w->idx, NULL);
	if (got < 0)
		return -1;
	for (int64_t j = 0; j < got; j++) {
		count[mem[w->idx[j]]] = 1;
		round[mem[w->idx[j]]] = (int32_t)r;
	}
	return 0;
}

static int check_inputs(const int64_t *cluster, const double *quality, int64_t n, int64_t k,
			const wn_kmq_params *p, char *err, size_t errlen)
{
	if (p->budget < 1 || p->rounds < 1 || p->rounds > p->budget || p->rounds > INT32_MAX)
		return wn_errf(err, errlen, "the budget must be >= 1 and >= the rounds (>= 1)"), -1;
	for (int64_t i = 0; i < n; i++) {
		if (cluster[i] < 0 || cluster[i] >= k)
			return wn_errf(err, errlen, "cluster id %lld of item %lld is not in [0, %lld)",
				       (long long)cluster[i], (long long)i, (long long)k), -1;
		if (quality && !isfinite(quality[i]))
			return wn_errf(err, errlen, "quality of item %lld is not finite", (long long)i), -1;
		if (quality && p->mode == WN_KMQ_PAPER && quality[i] < 0)
			return wn_errf(err, errlen, "quality of item %lld is negative (--mode paper "
				       "draws with probability proportional to it)", (long long)i), -1;
	}
	return 0;
}

int wn_kmq_select(const int64_t *cluster, const double *quality, int64_t n, int64_t k,
		  const wn_kmq_params *p, int64_t *count, int32_t *round, int64_t *drawn,
		  char *err, size_t errlen)
{
	if (check_inputs(cluster, quality, n, k, p, err, errlen))
		return -1;
	struct kmq_work w = {0};
	if (work_alloc(&w, n, k)) {
		work_free(&w);
		return wn_errf(err, errlen, "out of memory"), -1;
	}
	memset(count, 0, sizeof(int64_t) * (size_t)n);
	for (int64_t i = 0; i < n; i++)
		round[i] = -1;
	int rc = 0;
	for (int64_t r = 0; rc == 0 && r < p->rounds; r++) {
		int64_t br = p->budget / p->rounds + (r < p->budget % p->rounds);
		work_group(&w, cluster, quality, n, k, p->mode, round);
		rc = wn_kmq_quotas(w.size, k, br, p->mode, w.quota, err, errlen);
		for (int64_t g = 0; rc == 0 && g < k; g++)
			if (draw_cluster(&w, quality, g, r, p, count, round))
				rc = -1, wn_errf(err, errlen, "sampling failed in cluster %lld", (long long)g);
	}
	int64_t t = 0;
	for (int64_t i = 0; i < n; i++)
		t += count[i];
	*drawn = t;
	work_free(&w);
	return rc;
}
