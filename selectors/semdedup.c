/*
 * selectors/semdedup.c — SemDeDup's rule over arrays (see
 * selectors/semdedup.h).
 *
 * Layout of one run: the vectors normalised into a copy; the members of
 * every cluster (cluster id >= 0) sorted once by (cluster, order key,
 * stream position), which puts each cluster's members in a segment in the
 * order the rule walks them; per segment the members' vectors gathered into
 * one device buffer and the upper triangle of their similarity matrix
 * computed tile by tile with the core's GEMM (the CUDA backend's cuBLAS
 * SGEMM under --device cuda, OpenBLAS on thread-independent tiles on the
 * CPU); per column j, the largest similarity to an earlier member, kept
 * apart for pairs far from every threshold (float, exact on which side it
 * falls) and for pairs near one (recomputed in double).
 *
 * Owns: the scratch of one call (normalised copy, members, centroid sums,
 * the device buffers). Borrows: the caller's core, arrays and flags.
 */
#include "selectors/semdedup.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "io/errf.h"

typedef struct member {
	int64_t cl, pos;
	double key;     /* the order key: -dist (hard), dist (easy), a draw (random) */
	double dist;    /* cosine distance to the centroid */
	int64_t tie;    /* ties: pos, or -pos for easy (the reversed hard order) */
} member;

static int cmp_cl_pos(const void *x, const void *y)
{
	const member *a = x, *b = y;
	if (a->cl != b->cl)
		return a->cl < b->cl ? -1 : 1;
	return (a->pos > b->pos) - (a->pos < b->pos);
}

static int cmp_order(const void *x, const void *y)
{
	const member *a = x, *b = y;
	if (a->cl != b->cl)
		return a->cl < b->cl ? -1 : 1;
	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	return (a->tie > b->tie) - (a->tie < b->tie);
}

static int64_t order_tie(int keep, int64_t pos) { return keep == WN_SEMDEDUP_EASY ? -pos : pos; }

static double order_key(int keep, double dist, uint64_t seed, int64_t pos)
{
	if (keep == WN_SEMDEDUP_HARD)
		return -dist;
	if (keep == WN_SEMDEDUP_EASY)
		return dist;
	return (double)(wn_rng_u64(seed, WN_SEMDEDUP_STREAM, (uint64_t)pos) >> 11);
}

void wn_semdedup_order(int64_t *pos, double *dist, int64_t m, int keep, uint64_t seed)
{
	member *v = malloc(sizeof *v * (size_t)(m ? m : 1));
	if (!v) { /* an insertion sort on the same keys needs no memory */
		for (int64_t i = 1; i < m; i++)
			for (int64_t j = i; j > 0; j--) {
				member a = {0, pos[j], order_key(keep, dist[j], seed, pos[j]), dist[j],
					    order_tie(keep, pos[j])};
				member b = {0, pos[j - 1], order_key(keep, dist[j - 1], seed, pos[j - 1]),
					    dist[j - 1], order_tie(keep, pos[j - 1])};
				if (cmp_order(&a, &b) >= 0)
					break;
				int64_t tp = pos[j]; pos[j] = pos[j - 1]; pos[j - 1] = tp;
				double td = dist[j]; dist[j] = dist[j - 1]; dist[j - 1] = td;
			}
		return;
	}
	for (int64_t i = 0; i < m; i++)
		v[i] = (member){0, pos[i], order_key(keep, dist[i], seed, pos[i]), dist[i],
				order_tie(keep, pos[i])};
	qsort(v, (size_t)m, sizeof *v, cmp_order);
	for (int64_t i = 0; i < m; i++)
		pos[i] = v[i].pos, dist[i] = v[i].dist;
	free(v);
}

static double dot_d(const float *a, const float *b, int64_t d)
{
	double s = 0;
	for (int64_t t = 0; t < d; t++)
		s += (double)a[t] * (double)b[t];
	return s;
}

/* Y = X with unit rows (a zero row stays zero). */
static void normalise_rows(const float *X, float *Y, int64_t n, int64_t d)
{
	for (int64_t i = 0; i < n; i++) {
		const float *x = X + (size_t)i * (size_t)d;
		float *y = Y + (size_t)i * (size_t)d;
		double nn = sqrt(dot_d(x, x, d));
		for (int64_t t = 0; t < d; t++)
			y[t] = nn > 0 ? (float)((double)x[t] / nn) : 0.0f;
	}
}

/* The distance of each member of seg[0..m) to its centroid: given (C) or the normalised mean. */
static void centroid_dist(member *seg, int64_t m, const float *Y, int64_t d, const float *C,
			  double *c)
{
	memset(c, 0, sizeof *c * (size_t)d);
	if (C) {
		const float *row = C + (size_t)seg[0].cl * (size_t)d;
		for (int64_t t = 0; t < d; t++)
			c[t] = row[t];
	} else {
		for (int64_t i = 0; i < m; i++)
			for (int64_t t = 0; t < d; t++)
				c[t] += Y[(size_t)seg[i].pos * (size_t)d + (size_t)t];
	}
	double nn = 0;
	for (int64_t t = 0; t < d; t++)
		nn += c[t] * c[t];
	nn = sqrt(nn);
	for (int64_t i = 0; i < m; i++) {
		const float *y = Y + (size_t)seg[i].pos * (size_t)d;
		double ip = 0;
		for (int64_t t = 0; t < d; t++)
			ip += (double)y[t] * c[t];
		seg[i].dist = 1.0 - (nn > 0 ? ip / nn : 0.0);
	}
}

/* One run's state. */
typedef struct sd_run {
	wn_core *core;
	const wn_semdedup_opts *o;
	int64_t d, T;            /* dimension, tile side */
	float *G;                /* host: one segment's vectors in rule order */
	float *Gd, *Td;          /* device: the same, one tile of similarities */
	float *Ht;               /* host: the tile */
	float *far_max;          /* per member: largest far similarity to an earlier one */
	double *near_max;        /* per member: largest near one, in double */
	double lo, hi;           /* the band [min t - margin, max t + margin] */
	double margin;
	int64_t tiles, rechecked;
	int host_tiles;          /* CPU backend: read the tile where the GEMM wrote it */
	float *Ht_own;           /* the host tile buffer this run allocated */
} sd_run;

static int near_threshold(const sd_run *r, double s)
{
	if (s < r->lo || s > r->hi)
		return 0;
	for (int e = 0; e < r->o->neps; e++)
		if (fabs(s - (1.0 - r->o->eps[e])) <= r->margin)
			return 1;
	return 0;
}

/* Fold one downloaded tile (rows r0.., columns c0..) into the column maxima. */
static void scan_tile(sd_run *r, int64_t r0, int64_t rm, int64_t c0, int64_t cm)
{
	int nth = r->o->threads > 0 ? r->o->threads : omp_get_max_threads();
	int64_t rechecked = 0;
#pragma omp parallel for schedule(static) num_threads(nth) reduction(+ : rechecked)
	for (int64_t j = 0; j < cm; j++) {
		int64_t J = c0 + j, iend = J - r0 < rm ? J - r0 : rm;
		float fm = r->far_max[J];
		double nm = r->near_max[J];
		for (int64_t i = 0; i < iend; i++) {
			float s = r->Ht[(size_t)i * (size_t)cm + (size_t)j];
			if (near_threshold(r, s)) {
				double e = dot_d(r->G + (size_t)(r0 + i) * (size_t)r->d,
						 r->G + (size_t)J * (size_t)r->d, r->d);
				nm = e > nm ? e : nm;
				rechecked++;
			} else if (s > fm) {
				fm = s;
			}
		}
		r->far_max[J] = fm;
		r->near_max[J] = nm;
	}
	r->rechecked += rechecked;
}

static int core_fail(sd_run *r, const char *what, char *err, size_t errlen)
{
	return wn_errf(err, errlen, "%s: %s", what, wn_core_error(r->core)), -1;
}

/* The upper triangle of one segment's similarities, tile by tile. */
static int segment_sims(sd_run *r, int64_t m, char *err, size_t errlen)
{
	size_t bytes = sizeof(float) * (size_t)m * (size_t)r->d;
	if (wn_core_upload(r->core, r->Gd, r->G, bytes))
		return core_fail(r, "semdedup: upload", err, errlen);
	for (int64_t r0 = 0; r0 < m; r0 += r->T) {
		int64_t rm = m - r0 < r->T ? m - r0 : r->T;
		for (int64_t c0 = r0; c0 < m; c0 += r->T) {
			int64_t cm = m - c0 < r->T ? m - c0 : r->T;
			if (wn_core_gemm(r->core, 0, 1, rm, cm, r->d, 1.0f,
					 r->Gd + (size_t)r0 * (size_t)r->d, r->d,
					 r->Gd + (size_t)c0 * (size_t)r->d, r->d, 0.0f, r->Td, cm))
				return core_fail(r, "semdedup: gemm", err, errlen);
			if (r->host_tiles) { /* the CPU backend's buffers are host memory */
				r->Ht = r->Td;
			} else if (wn_core_download(r->core, r->Ht, r->Td,
						    sizeof(float) * (size_t)rm * (size_t)cm)) {
				return core_fail(r, "semdedup: download", err, errlen);
			}
			scan_tile(r, r0, rm, c0, cm);
			r->tiles++;
		}
	}
	return 0;
}

/* One cluster's segment, members in rule order: similarities, then flags. */
static int segment(sd_run *r, const member *seg, int64_t m, const float *Y, unsigned char *keep,
		   char *err, size_t errlen)
{
	int neps = r->o->neps;
	for (int64_t i = 0; i < m; i++) {
		memcpy(r->G + (size_t)i * (size_t)r->d, Y + (size_t)seg[i].pos * (size_t)r->d,
		       sizeof(float) * (size_t)r->d);
		r->far_max[i] = -INFINITY;
		r->near_max[i] = -INFINITY;
	}
	if (m > 1 && segment_sims(r, m, err, errlen))
		return -1;
	for (int64_t j = 0; j < m; j++)
		for (int e = 0; e < neps; e++) {
			double t = 1.0 - r->o->eps[e];
			keep[(size_t)seg[j].pos * (size_t)neps + (size_t)e] =
				!((double)r->far_max[j] > t || r->near_max[j] > t);
		}
	return 0;
}

/* Members (cluster >= 0) with their order keys, sorted into segments. */
static member *collect(const float *Y, int64_t n, int64_t d, const int64_t *cluster,
		       const float *C, int64_t k, const wn_semdedup_opts *o, int64_t *nm,
		       char *err, size_t errlen)
{
	member *v = malloc(sizeof *v * (size_t)(n ? n : 1));
	double *c = malloc(sizeof *c * (size_t)(d ? d : 1));
	int64_t w = 0;
	if (!v || !c) {
		free(v);
		free(c);
		return wn_errf(err, errlen, "out of memory"), NULL;
	}
	for (int64_t i = 0; i < n; i++) {
		if (cluster[i] < 0)
			continue;
		if (C && cluster[i] >= k) {
			wn_errf(err, errlen, "record %lld: cluster %lld, but the centroids have %lld rows",
				(long long)i, (long long)cluster[i], (long long)k);
			free(v);
			free(c);
			return NULL;
		}
		v[w++] = (member){cluster[i], i, 0, 0, order_tie(o->keep, i)};
	}
	qsort(v, (size_t)w, sizeof *v, cmp_cl_pos);
	for (int64_t s = 0, t; s < w; s = t) {
		for (t = s + 1; t < w && v[t].cl == v[s].cl; t++)
			;
		centroid_dist(v + s, t - s, Y, d, C, c);
		for (int64_t i = s; i < t; i++)
			v[i].key = order_key(o->keep, v[i].dist, o->seed, v[i].pos);
	}
	qsort(v, (size_t)w, sizeof *v, cmp_order);
	free(c);
	*nm = w;
	return v;
}

static int64_t largest_segment(const member *v, int64_t w, int64_t *clusters)
{
	int64_t best = 0;
	*clusters = 0;
	for (int64_t s = 0, t; s < w; s = t) {
		for (t = s + 1; t < w && v[t].cl == v[s].cl; t++)
			;
		best = t - s > best ? t - s : best;
		++*clusters;
	}
	return best;
}

static int run_segments(sd_run *r, const member *v, int64_t w, const float *Y,
			unsigned char *keep, char *err, size_t errlen)
{
	for (int64_t s = 0, t; s < w; s = t) {
		for (t = s + 1; t < w && v[t].cl == v[s].cl; t++)
			;
		if (segment(r, v + s, t - s, Y, keep, err, errlen))
			return -1;
	}
	return 0;
}

static void band(sd_run *r)
{
	const wn_semdedup_opts *o = r->o;
	r->margin = 2.0 * (double)r->d * ldexp(1.0, -24);
	r->lo = INFINITY;
	r->hi = -INFINITY;
	for (int e = 0; e < o->neps; e++) {
		double t = 1.0 - o->eps[e];
		r->lo = t - r->margin < r->lo ? t - r->margin : r->lo;
		r->hi = t + r->margin > r->hi ? t + r->margin : r->hi;
	}
}

int wn_semdedup(wn_core *core, const float *X, int64_t n, int64_t d, const int64_t *cluster,
		const float *C, int64_t k, const wn_semdedup_opts *o, unsigned char *keep,
		wn_semdedup_info *info, char *err, size_t errlen)
{
	memset(keep, 0, (size_t)n * (size_t)o->neps);
	float *Y = malloc(sizeof(float) * (size_t)(n ? n : 1) * (size_t)(d ? d : 1));
	if (!Y)
		return wn_errf(err, errlen, "out of memory for %lld x %lld vectors", (long long)n,
			       (long long)d), -1;
	normalise_rows(X, Y, n, d);
	int64_t w = 0, clusters = 0;
	member *v = collect(Y, n, d, cluster, C, k, o, &w, err, errlen);
	if (!v) {
		free(Y);
		return -1;
	}
	int64_t big = largest_segment(v, w, &clusters);
	sd_run r = {core, o, d, big < o->max_cluster ? big : o->max_cluster, NULL, NULL, NULL,
		    NULL, NULL, NULL, 0, 0, 0, 0, 0, wn_core_device(core) == WN_DEVICE_CPU, NULL};
	band(&r);
	size_t tile = (size_t)(r.T ? r.T : 1) * (size_t)(r.T ? r.T : 1);
	r.G = malloc(sizeof(float) * (size_t)(big ? big : 1) * (size_t)(d ? d : 1));
	r.Ht = r.Ht_own = r.host_tiles ? NULL : malloc(sizeof(float) * tile);
	r.far_max = malloc(sizeof(float) * (size_t)(big ? big : 1));
	r.near_max = malloc(sizeof(double) * (size_t)(big ? big : 1));
	int rc = -1;
	if (!r.G || (!r.Ht && !r.host_tiles) || !r.far_max || !r.near_max)
		wn_errf(err, errlen, "out of memory (a cluster of %lld members)", (long long)big);
	else if (big > 1 && (!(r.Gd = wn_core_alloc(core, (size_t)big * (size_t)d)) ||
			     !(r.Td = wn_core_alloc(core, tile))))
		core_fail(&r, "semdedup: device memory", err, errlen);
	else
		rc = run_segments(&r, v, w, Y, keep, err, errlen);
	if (info)
		*info = (wn_semdedup_info){clusters, big, r.tiles, r.rechecked};
	if (r.Gd)
		wn_core_free(core, r.Gd);
	if (r.Td)
		wn_core_free(core, r.Td);
	free(r.G);
	free(r.Ht_own);
	free(r.far_max);
	free(r.near_max);
	free(v);
	free(Y);
	return rc;
}
