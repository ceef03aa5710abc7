/*
 * selectors/s2l.c — S2L's clustering of loss trajectories and its draw
 * over the clusters (see selectors/s2l.h).
 */
#include "selectors/s2l.h"

#include <stdlib.h>
#include <string.h>

#include "cluster/kmeans.h"
#include "io/errf.h"
#include "selectors/subset.h"

#define STREAM_S2L 0x73326c0000000000ull /* "s2l" + cluster rank */

uint64_t wn_s2l_stream(uint64_t rank)
{
	return STREAM_S2L + rank;
}

int wn_s2l_cluster(wn_core *c, const float *traj, int64_t n, int64_t K, int64_t k,
		   uint64_t seed, int32_t *assign, int64_t *k_used, char *err, size_t errlen)
{
	if (n < 1 || K < 1 || k < 1) {
		wn_errf(err, errlen, "S2L: %lld trajectories of %lld checkpoints into %lld clusters",
			(long long)n, (long long)K, (long long)k);
		return -1;
	}
	*k_used = k < n ? k : n;
	float *C = malloc((size_t)(*k_used * K) * sizeof *C);
	if (!C) {
		wn_errf(err, errlen, "S2L: out of memory for %lld centroids", (long long)*k_used);
		return -1;
	}
	wn_cluster_kmeans_opts o = {*k_used, WN_S2L_NITER, seed, 0, 0, WN_CLUSTER_ENGINE_CORE,
				    WN_CLUSTER_INIT_KMEANSPP};
	int rc = wn_cluster_kmeans_train(c, &o, traj, n, K, C, NULL, NULL, err, errlen);
	if (!rc)
		rc = wn_cluster_kmeans_assign(c, WN_CLUSTER_ENGINE_CORE, 0, traj, n, K, C, *k_used,
					      assign, NULL, NULL, NULL, err, errlen);
	free(C);
	return rc ? -1 : 0;
}

struct size_rank {
	size_t size, g;
};

static int cmp_size(const void *a, const void *b)
{
	const struct size_rank *x = a, *y = b;
	if (x->size != y->size)
		return x->size < y->size ? -1 : 1;
	return (x->g > y->g) - (x->g < y->g);
}

static int cmp_pos(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return (x > y) - (x < y);
}

/* Members of every group, grouped: start (ngroups + 1) into member (n). */
static int members(const uint32_t *group, size_t n, size_t ng, size_t **start, size_t **member)
{
	*start = calloc(ng + 1, sizeof **start);
	*member = malloc((n ? n : 1) * sizeof **member);
	size_t *fill = calloc(ng + 1, sizeof *fill);
	if (!*start || !*member || !fill) {
		free(fill);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		(*start)[group[i] + 1]++;
	for (size_t g = 0; g < ng; g++)
		(*start)[g + 1] += (*start)[g];
	for (size_t i = 0; i < n; i++)
		(*member)[(*start)[group[i]] + fill[group[i]]++] = i;
	free(fill);
	return 0;
}

int wn_s2l_select(const uint32_t *group, size_t n, size_t ngroups, size_t target, uint64_t seed,
		  size_t *out, size_t *nout, char *err, size_t errlen)
{
	*nout = 0;
	size_t *start = NULL, *member = NULL, *pick = malloc((n ? n : 1) * sizeof *pick);
	struct size_rank *order = malloc((ngroups ? ngroups : 1) * sizeof *order);
	int rc = -1;
	if (!pick || !order || members(group, n, ngroups, &start, &member))
		goto done;
	for (size_t g = 0; g < ngroups; g++)
		order[g] = (struct size_rank){start[g + 1] - start[g], g};
	qsort(order, ngroups, sizeof *order, cmp_size);
	size_t remaining = target < n ? target : n;
	for (size_t i = 0; i < ngroups; i++) {
		size_t g = order[i].g, size = order[i].size, q = remaining / (ngroups - i), np = size;
		const size_t *m = member + start[g];
		if (size > q) {
			if (wn_sel_uniform(size, q, seed, wn_s2l_stream(i), pick, &np, err, errlen))
				goto done;
			for (size_t j = 0; j < np; j++)
				out[(*nout)++] = m[pick[j]];
		} else {
			for (size_t j = 0; j < size; j++)
				out[(*nout)++] = m[j];
		}
		remaining -= np;
	}
	qsort(out, *nout, sizeof *out, cmp_pos);
	rc = 0;
done:
	if (rc && !err[0])
		wn_errf(err, errlen, "out of memory");
	free(start);
	free(member);
	free(pick);
	free(order);
	return rc;
}
