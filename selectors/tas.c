/*
 * selectors/tas.c — TAS-B's margin bins and batch composition (see
 * selectors/tas.h).
 */
#include "selectors/tas.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "core/sample.h"
#include "io/errf.h"

#define TAS_STREAM_DRAW 0x21u
#define TAS_STREAM_QUERIES 0x22u

int wn_tas_bin(double m, double lo, double hi, int bins)
{
	if (!(hi > lo) || bins <= 1)
		return 0;
	int k = (int)((m - lo) / (hi - lo) * bins);
	k = k < 0 ? 0 : k >= bins ? bins - 1 : k;
	/* as numpy.histogram: correct the index against the edges it computes */
	double step = (hi - lo) / bins;
	if (k + 1 < bins && m >= lo + (k + 1) * step)
		k++;
	else if (k > 0 && m < lo + k * step)
		k--;
	return k;
}

static int64_t below(double u, int64_t n)
{
	int64_t k = (int64_t)(u * (double)n);
	return k >= n ? n - 1 : k;
}

int64_t wn_tas_pick_pair(const double *margin, int64_t np, int bins, double u_bin,
			 double u_pair)
{
	if (!margin || np <= 1)
		return below(u_pair, np);
	double lo = margin[0], hi = margin[0];
	for (int64_t i = 1; i < np; i++) {
		lo = margin[i] < lo ? margin[i] : lo;
		hi = margin[i] > hi ? margin[i] : hi;
	}
	int64_t count[256] = {0}, nonempty = 0;
	for (int64_t i = 0; i < np; i++)
		count[wn_tas_bin(margin[i], lo, hi, bins)]++;
	for (int b = 0; b < bins; b++)
		nonempty += count[b] > 0;
	int64_t want = below(u_bin, nonempty), bin = -1;
	for (int b = 0; b < bins && bin < 0; b++)
		if (count[b] > 0 && want-- == 0)
			bin = b;
	int64_t j = below(u_pair, count[bin]);
	for (int64_t i = 0; i < np; i++)
		if (wn_tas_bin(margin[i], lo, hi, bins) == bin && j-- == 0)
			return i;
	return np - 1; /* not reached */
}

void wn_tas_plan_free(wn_tas_plan *p)
{
	free(p->item);
	free(p->batch);
	free(p->query);
	memset(p, 0, sizeof *p);
}

/* The clusters that have queries, and their queries (CSR over cluster rank). */
struct tas_clusters {
	int64_t n;        /* non-empty clusters */
	int64_t *off;     /* n + 1 */
	int64_t *query;   /* nq, grouped by cluster (ascending id), queries in order */
};

static int group_clusters(const wn_tas_queries *q, struct tas_clusters *c)
{
	int64_t k = 0;
	for (int64_t i = 0; i < q->nq; i++)
		k = q->cluster[i] + 1 > k ? q->cluster[i] + 1 : k;
	int64_t *size = calloc((size_t)k + 1, sizeof(int64_t));
	c->off = malloc(sizeof(int64_t) * ((size_t)k + 1));
	c->query = malloc(sizeof(int64_t) * (size_t)(q->nq ? q->nq : 1));
	if (!size || !c->off || !c->query) {
		free(size);
		return -1;
	}
	for (int64_t i = 0; i < q->nq; i++)
		size[q->cluster[i]]++;
	c->n = 0;
	c->off[0] = 0;
	for (int64_t g = 0; g < k; g++)
		if (size[g]) {
			c->off[c->n + 1] = c->off[c->n] + size[g];
			size[g] = c->off[c->n]; /* now: the cursor of g's slice */
			c->n++;
		} else
			size[g] = -1;
	for (int64_t i = 0; i < q->nq; i++)
		c->query[size[q->cluster[i]]++] = i;
	free(size);
	return 0;
}

static int plan_alloc(wn_tas_plan *p, int64_t cap)
{
	p->item = malloc(sizeof(int64_t) * (size_t)(cap ? cap : 1));
	p->batch = malloc(sizeof(int64_t) * (size_t)(cap ? cap : 1));
	p->query = malloc(sizeof(int64_t) * (size_t)(cap ? cap : 1));
	return p->item && p->batch && p->query ? 0 : -1;
}

/* Batch b: its cluster, its queries, one pair each, appended to the plan. */
static int compose_batch(const wn_tas_queries *q, const struct tas_clusters *c, int64_t b,
			 int64_t batch, int bins, uint64_t seed, int64_t *pick, double *mbuf,
			 wn_tas_plan *p)
{
	uint64_t st = ((uint64_t)TAS_STREAM_DRAW << 40) | (uint64_t)b;
	int64_t g = below(wn_rng_uniform(seed, st, 0), c->n);
	int64_t size = c->off[g + 1] - c->off[g], m = size < batch ? size : batch;
	if (wn_sample_uniform(size, m, seed, ((uint64_t)TAS_STREAM_QUERIES << 40) | (uint64_t)b, pick))
		return -1;
	for (int64_t j = 0; j < m; j++) {
		int64_t query = c->query[c->off[g] + pick[j]];
		int64_t np = q->off[query + 1] - q->off[query];
		const int64_t *items = q->item + q->off[query];
		for (int64_t i = 0; q->margin && i < np; i++)
			mbuf[i] = q->margin[items[i]];
		int64_t k = wn_tas_pick_pair(q->margin ? mbuf : NULL, np, bins,
					     wn_rng_uniform(seed, st, (uint64_t)(1 + 2 * j)),
					     wn_rng_uniform(seed, st, (uint64_t)(2 + 2 * j)));
		p->item[p->n] = items[k];
		p->batch[p->n] = b;
		p->query[p->n++] = query;
	}
	return 0;
}

int wn_tas_compose(const wn_tas_queries *q, int64_t batch, int64_t nbatches, int bins,
		   uint64_t seed, wn_tas_plan *plan, char *err, size_t errlen)
{
	memset(plan, 0, sizeof *plan);
	if (q->nq < 1 || batch < 1 || nbatches < 0 || bins < 1 || bins > 256)
		return wn_errf(err, errlen, "no queries, or a bad batch size, count or bins"), -1;
	int64_t maxp = 1;
	for (int64_t i = 0; i < q->nq; i++)
		maxp = q->off[i + 1] - q->off[i] > maxp ? q->off[i + 1] - q->off[i] : maxp;
	struct tas_clusters c = {0};
	int64_t *pick = malloc(sizeof(int64_t) * (size_t)batch);
	double *mbuf = malloc(sizeof(double) * (size_t)maxp);
	int rc = pick && mbuf && !group_clusters(q, &c) && !plan_alloc(plan, batch * nbatches) ? 0 : -1;
	if (rc)
		wn_errf(err, errlen, "out of memory");
	for (int64_t b = 0; rc == 0 && b < nbatches; b++)
		if (compose_batch(q, &c, b, batch, bins, seed, pick, mbuf, plan))
			rc = -1, wn_errf(err, errlen, "sampling failed");
	free(c.off);
	free(c.query);
	free(pick);
	free(mbuf);
	if (rc)
		wn_tas_plan_free(plan);
	return rc;
}
