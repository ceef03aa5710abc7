/*
 * cluster/hkmeans.c — hierarchical k-means: one k-means per level, each on
 * the centroids of the level below, each level optionally refined by
 * resampling-clustering (contract in cluster/hkmeans.h).
 *
 * Owns: the level loop, the resampling steps (which points of each cluster
 * form the union, in cluster order as the reference concatenates them) and
 * the composition of ids across levels.
 * Borrows: cluster/kmeans.h (training, assignment, the uniform draw of
 * rows), core/rng.h (per-level and per-resample seeds).
 */
#include "cluster/hkmeans.h"
#include "io/errf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"

int wn_cluster_parse_levels(const char *s, int64_t *ks, int max, char *err, size_t errlen)
{
	return wn_cluster_parse_levels_split(s, ks, max, 1, err, errlen);
}

int wn_cluster_parse_levels_split(const char *s, int64_t *ks, int max, int split, char *err,
				  size_t errlen)
{
	int n = 0;
	if (split < 0) {
		wn_errf(err, errlen, "--split must not be negative");
		return -1;
	}
	const char *p = s;
	if (!s || !*s) {
		wn_errf(err, errlen, "--levels needs a list such as 2000,200,20");
		return -1;
	}
	for (;;) {
		char *end;
		errno = 0;
		long long v = strtoll(p, &end, 10);
		if (end == p || errno || v < 1 || (*end && *end != ',')) {
			wn_errf(err, errlen, "--levels: '%s' is not a list of positive integers", s);
			return -1;
		}
		if (n == max) {
			wn_errf(err, errlen, "--levels: at most %d levels", max);
			return -1;
		}
		/* after a split level 1 has up to K1 x N clusters */
		long long below = n == 1 && split > 1 ? (long long)ks[0] * split : n > 0 ? (long long)ks[n - 1] : 0;
		if (n > 0 && v > below) {
			wn_errf(err, errlen, n == 1 && split > 1
				? "--levels: level %d has %lld clusters, more than level %d's %lld after --split"
				: "--levels: level %d has %lld clusters, more than level %d's %lld",
				n + 1, v, n, below);
			return -1;
		}
		ks[n++] = v;
		if (!*end)
			return n;
		p = end + 1;
	}
}

int wn_cluster_parse_resample_strategy(const char *s)
{
	if (!s || !strcmp(s, "closest"))
		return WN_CLUSTER_RESAMPLE_CLOSEST;
	if (!strcmp(s, "random"))
		return WN_CLUSTER_RESAMPLE_RANDOM;
	return -1;
}

/* Members of one cluster, nearest the centroid first, ties to the earlier point. */
static int cmp_by_dist(const void *a, const void *b, void *ctx)
{
	const float *dist = ctx;
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	if (dist[x] != dist[y])
		return dist[x] < dist[y] ? -1 : 1;
	return (x > y) - (x < y);
}

/* Scratch of one level's resampling. */
typedef struct resampler {
	int64_t *order; /* npts: point ids grouped by cluster, ascending inside */
	int64_t *start; /* k + 1 offsets into order */
	int64_t *rows;  /* S: a random draw's rows */
	float *U;       /* k * S x d: the union */
} resampler;

/*
 * Point ids grouped by cluster, ascending inside each: cluster j's members
 * are order[start[j] .. start[j + 1]) (start: k + 1 entries). A counting
 * sort filled from the back; its cursors end one slot off (start[j + 1]
 * holds cluster j's beginning), hence the shift.
 */
static void group_by_cluster(const int32_t *assign, int64_t npts, int64_t k, int64_t *order,
			     int64_t *start)
{
	memset(start, 0, sizeof(int64_t) * (size_t)(k + 1));
	for (int64_t i = 0; i < npts; i++)
		start[assign[i] + 1]++;
	for (int64_t j = 0; j < k; j++)
		start[j + 1] += start[j];
	for (int64_t i = npts - 1; i >= 0; i--)
		order[--start[assign[i] + 1]] = i;
	memmove(start, start + 1, sizeof(int64_t) * (size_t)k);
	start[k] = npts;
}

/*
 * The union of one resample step into R->U: from each cluster of r (in id
 * order) its S closest points, or min(S, size) uniformly drawn ones.
 * Returns the number of points.
 */
static int64_t draw_union(resampler *R, const wn_cluster_kmeans_result *r, const float *pts,
			  int64_t npts, int64_t d, int64_t S, int strategy, uint64_t seed)
{
	int64_t k = r->k, m = 0;
	group_by_cluster(r->assign, npts, k, R->order, R->start);
	for (int64_t j = 0; j < k; j++) {
		int64_t *mem = R->order + R->start[j], sz = R->start[j + 1] - R->start[j];
		int64_t take = sz < S ? sz : S;
		if (strategy == WN_CLUSTER_RESAMPLE_CLOSEST) {
			qsort_r(mem, (size_t)sz, sizeof *mem, cmp_by_dist, r->dist);
			memcpy(R->rows, mem, sizeof(int64_t) * (size_t)take);
		} else {
			wn_cluster_sample_rows(sz, take, wn_rng_derive(seed, (uint64_t)j), R->rows);
			for (int64_t t = 0; t < take; t++)
				R->rows[t] = mem[R->rows[t]];
		}
		for (int64_t t = 0; t < take; t++, m++)
			memcpy(R->U + (size_t)m * (size_t)d, pts + (size_t)R->rows[t] * (size_t)d,
			       sizeof(float) * (size_t)d);
	}
	return m;
}

static int64_t level_sample_size(const wn_cluster_hkmeans_opts *ho, int l, int64_t npts, int64_t k)
{
	if (!ho || ho->resamples < 1)
		return 0;
	int64_t S = ho->sample_size[l] > 0 ? ho->sample_size[l] : (npts + k) / (2 * k);
	return S > 1 ? S : 0;
}

/*
 * One level: k-means of pts into r, then the resampling steps, each a fresh
 * k-means of the union and a reassignment of every point into r.
 */
static int cluster_level(wn_core *core, const wn_cluster_kmeans_opts *lo,
			 const wn_cluster_hkmeans_opts *ho, int l, const float *pts, int64_t npts,
			 int64_t d, wn_cluster_kmeans_result *r, wn_cluster_hkmeans_result *res,
			 char *err, size_t errlen)
{
	if (wn_cluster_kmeans_run(core, lo, pts, npts, d, NULL, 0, r, err, errlen))
		return -1;
	int64_t S = level_sample_size(ho, l, npts, lo->k);
	res->sample_size[l] = S;
	if (!S)
		return 0;
	int64_t k = r->k;
	resampler R = {malloc(sizeof(int64_t) * (size_t)npts),
		       malloc(sizeof(int64_t) * (size_t)(k + 1)), malloc(sizeof(int64_t) * (size_t)S),
		       malloc(sizeof(float) * (size_t)k * (size_t)S * (size_t)d)};
	int rc = !R.order || !R.start || !R.rows || !R.U ? -1 : 0;
	if (rc)
		wn_errf(err, errlen, "out of memory for resampling");
	for (int it = 0; !rc && it < ho->resamples; it++) {
		uint64_t seed = wn_rng_derive(lo->seed, (uint64_t)it + 1);
		int64_t m = draw_union(&R, r, pts, npts, d, S, ho->strategy, wn_rng_derive(seed, 0));
		if (m < k)
			break;
		wn_cluster_kmeans_opts ro = *lo;
		ro.seed = seed;
		ro.max_train = 0;
		rc = wn_cluster_kmeans_train(core, &ro, R.U, m, d, r->centroids, NULL, NULL, err,
					     errlen);
		if (!rc)
			rc = wn_cluster_kmeans_assign(core, r->engine, lo->spherical, pts, npts, d,
						      r->centroids, k, r->assign, r->dist, r->sizes,
						      &r->inertia, err, errlen);
		if (!rc)
			res->resamples_done[l]++;
	}
	free(R.order);
	free(R.start);
	free(R.rows);
	free(R.U);
	if (rc)
		wn_cluster_kmeans_result_free(r);
	return rc;
}

/* Salt of the per-cluster seeds of --split (any constant apart from resample numbers). */
#define SPLIT_SEED_SALT 0x73706c6974000000ull

/* Scratch of one split: the members of a cluster and the new level. */
typedef struct splitter {
	int64_t *order, *start; /* point ids grouped by cluster (as the resampler) */
	float *sub;             /* the members' rows */
	float *C;               /* the new centroids, up to min(k N, npts) rows */
	int32_t *assign;        /* npts */
	float *dist;            /* npts */
} splitter;

/* Cluster j's sub-clusters into S (from *K on); members' ids and distances. */
static int split_one(wn_core *core, const wn_cluster_kmeans_opts *lo, int split, splitter *S,
		     const float *pts, int64_t d, int64_t j, int64_t *K, double *inertia, char *err,
		     size_t errlen)
{
	int64_t *mem = S->order + S->start[j], m = S->start[j + 1] - S->start[j];
	if (m == 0)
		return 0;
	for (int64_t t = 0; t < m; t++)
		memcpy(S->sub + (size_t)t * (size_t)d, pts + (size_t)mem[t] * (size_t)d,
		       sizeof(float) * (size_t)d);
	wn_cluster_kmeans_opts so = *lo;
	so.k = m < split ? m : split;
	so.seed = wn_rng_derive(lo->seed, SPLIT_SEED_SALT + (uint64_t)j);
	so.max_train = 0;
	wn_cluster_kmeans_result sr;
	if (wn_cluster_kmeans_run(core, &so, S->sub, m, d, NULL, 0, &sr, err, errlen))
		return -1;
	int32_t *map = malloc(sizeof(int32_t) * (size_t)(sr.k > 0 ? sr.k : 1));
	if (!map) {
		wn_cluster_kmeans_result_free(&sr);
		return wn_errf(err, errlen, "out of memory for --split"), -1;
	}
	for (int64_t t = 0; t < sr.k; t++) { /* empty sub-clusters are dropped */
		map[t] = sr.sizes[t] ? (int32_t)(*K)++ : -1;
		if (map[t] >= 0)
			memcpy(S->C + (size_t)map[t] * (size_t)d, sr.centroids + (size_t)t * (size_t)d,
			       sizeof(float) * (size_t)d);
	}
	for (int64_t t = 0; t < m; t++) {
		S->assign[mem[t]] = map[sr.assign[t]];
		S->dist[mem[t]] = sr.dist[t];
	}
	*inertia += sr.inertia;
	free(map);
	wn_cluster_kmeans_result_free(&sr);
	return 0;
}

/* --split: replace r's clusters by their sub-clusters (see hkmeans.h). */
static int split_level(wn_core *core, const wn_cluster_kmeans_opts *lo, int split,
		       const float *pts, int64_t npts, int64_t d, wn_cluster_kmeans_result *r,
		       char *err, size_t errlen)
{
	int64_t k = r->k, cap = k * split < npts ? k * split : npts, maxsz = 0;
	splitter S = {malloc(sizeof(int64_t) * (size_t)npts), calloc((size_t)k + 1, sizeof(int64_t)),
		      NULL, malloc(sizeof(float) * (size_t)cap * (size_t)d),
		      malloc(sizeof(int32_t) * (size_t)npts), malloc(sizeof(float) * (size_t)npts)};
	int rc = !S.order || !S.start || !S.C || !S.assign || !S.dist ? -1 : 0;
	if (!rc) {
		group_by_cluster(r->assign, npts, k, S.order, S.start);
		for (int64_t j = 0; j < k; j++)
			if (S.start[j + 1] - S.start[j] > maxsz)
				maxsz = S.start[j + 1] - S.start[j];
		rc = (S.sub = malloc(sizeof(float) * (size_t)(maxsz ? maxsz : 1) * (size_t)d)) ? 0 : -1;
	}
	if (rc)
		wn_errf(err, errlen, "out of memory for --split");
	int64_t K = 0;
	double inertia = 0;
	for (int64_t j = 0; !rc && j < k; j++)
		rc = split_one(core, lo, split, &S, pts, d, j, &K, &inertia, err, errlen);
	int64_t *sizes = rc ? NULL : calloc((size_t)(K ? K : 1), sizeof(int64_t));
	if (!rc && !sizes)
		rc = (wn_errf(err, errlen, "out of memory for --split"), -1);
	if (!rc) {
		for (int64_t i = 0; i < npts; i++)
			sizes[S.assign[i]]++;
		free(r->centroids);
		free(r->assign);
		free(r->dist);
		free(r->sizes);
		r->centroids = S.C, r->assign = S.assign, r->dist = S.dist, r->sizes = sizes;
		r->k = K;
		r->inertia = inertia;
		S.C = NULL, S.assign = NULL, S.dist = NULL;
	}
	free(S.order);
	free(S.start);
	free(S.sub);
	free(S.C);
	free(S.assign);
	free(S.dist);
	return rc;
}

void wn_cluster_hkmeans_result_free(wn_cluster_hkmeans_result *res)
{
	if (!res)
		return;
	for (int l = 0; l < WN_CLUSTER_HKMEANS_MAX_LEVELS; l++) {
		free(res->centroids[l]);
		free(res->sizes[l]);
	}
	free(res->assign);
	memset(res, 0, sizeof *res);
}

int wn_cluster_hkmeans_run(wn_core *core, const wn_cluster_kmeans_opts *o,
			   const wn_cluster_hkmeans_opts *ho, const int64_t *ks, int levels,
			   const float *X, int64_t n, int64_t d, wn_cluster_hkmeans_result *res,
			   char *err, size_t errlen)
{
	memset(res, 0, sizeof *res);
	if (levels < 1 || levels > WN_CLUSTER_HKMEANS_MAX_LEVELS) {
		wn_errf(err, errlen, "hierarchical k-means needs 1 to %d levels",
			WN_CLUSTER_HKMEANS_MAX_LEVELS);
		return -1;
	}
	res->levels = levels;
	res->n = n;
	res->d = d;
	res->assign = malloc(sizeof(int32_t) * (size_t)(n ? n : 1) * (size_t)levels);
	if (!res->assign) {
		wn_errf(err, errlen, "out of memory for %lld vectors", (long long)n);
		return -1;
	}
	const float *pts = X; /* what this level clusters */
	int64_t npts = n;
	for (int l = 0; l < levels; l++) {
		wn_cluster_kmeans_opts lo = *o;
		lo.k = ks[l];
		/* level 1 is exactly `cluster kmeans` with the same seed */
		lo.seed = l == 0 ? o->seed : wn_rng_derive(o->seed, (uint64_t)l);
		if (l > 0)
			lo.max_train = 0;
		wn_cluster_kmeans_result r;
		int rc = cluster_level(core, &lo, ho, l, pts, npts, d, &r, res, err, errlen);
		if (!rc && l == 0 && ho && ho->split > 1) {
			rc = split_level(core, &lo, ho->split, pts, npts, d, &r, err, errlen);
			if (rc)
				wn_cluster_kmeans_result_free(&r);
		}
		if (rc) {
			if (l > 0 && err && errlen) { /* say which level: "k (20) is larger than ..." alone misleads */
				char inner[512];
				snprintf(inner, sizeof inner, "%s", err);
				wn_errf(err, errlen, "level %d: %s", l + 1, inner);
			}
			wn_cluster_hkmeans_result_free(res);
			return -1;
		}
		int64_t kl = r.k; /* ks[l], or level 1's count after --split */
		res->k[l] = kl;
		res->inertia[l] = r.inertia;
		res->centroids[l] = r.centroids; /* taken over */
		r.centroids = NULL;
		res->sizes[l] = calloc((size_t)kl, sizeof(int64_t));
		if (!res->sizes[l]) {
			wn_cluster_kmeans_result_free(&r);
			wn_cluster_hkmeans_result_free(res);
			wn_errf(err, errlen, "out of memory");
			return -1;
		}
		/* a vector's level-l id is the level-l cluster of its level-(l-1) id */
		for (int64_t i = 0; i < n; i++) {
			int32_t below = l == 0 ? (int32_t)i : res->assign[(size_t)i * levels + l - 1];
			int32_t id = r.assign[below];
			res->assign[(size_t)i * levels + l] = id;
			res->sizes[l][id]++;
		}
		wn_cluster_kmeans_result_free(&r);
		pts = res->centroids[l];
		npts = kl;
	}
	return 0;
}
