/*
 * selectors/sources_ot.c — the label-aware OT dataset distance of mixtures
 * of sources (see selectors/sources.h), held to otdd's distance.py as
 * projektor calls it (inner_ot_method "exact", debiased outer Sinkhorn).
 * Owns what wn_otdd_init allocates; borrows the sets and the core (whose
 * Sinkhorn and GEMM do the numbers: core/cpu_sinkhorn.c).
 */
#include "selectors/sources.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "io/errf.h"

void wn_src_set_free(wn_src_set *s)
{
	for (int i = 0; i < s->nlabels; i++)
		free(s->names[i]);
	free(s->names);
	free(s->X);
	free(s->label);
	memset(s, 0, sizeof *s);
}

void wn_sources_mix_gradient(const double *f, const int32_t *src, int64_t N, int K,
			     const int64_t *counts, const double *p, double *grad)
{
	for (int i = 0; i < K; i++) {
		double in = 0, out = 0;
		if (counts[i] == 0 || counts[i] == N || p[i] >= 1) {
			grad[i] = 0;
			continue;
		}
		for (int64_t j = 0; j < N; j++) {
			int s = src[j];
			if (s == i)
				in += f[j];
			else
				out += p[s] / (double)counts[s] * f[j];
		}
		grad[i] = in / (double)counts[i] - out / (1 - p[i]);
	}
}

/* ---------- label distances ---------- */

typedef struct cls_points {
	float *X;   /* the class's vectors, contiguous */
	int64_t n;
} cls_points;

/* The vectors of class `label` of set s, copied out. */
static int class_points(const wn_src_set *s, int label, cls_points *cp)
{
	cp->n = 0;
	for (int64_t i = 0; i < s->n; i++)
		cp->n += s->label[i] == label;
	cp->X = malloc((size_t)(cp->n ? cp->n : 1) * (size_t)s->d * sizeof *cp->X);
	if (!cp->X)
		return -1;
	for (int64_t i = 0, k = 0; i < s->n; i++)
		if (s->label[i] == label)
			memcpy(cp->X + k++ * s->d, s->X + i * s->d, (size_t)s->d * sizeof *cp->X);
	return 0;
}

/* W(c, c'): entropic OT with cost ||x - x'||^2 (twice core's halved cost), not debiased */
static int inner_ot(wn_core *c, const cls_points *a, const cls_points *b, int64_t d,
		    const wn_sinkhorn_opts *inner, float *w, char *err, size_t errlen)
{
	float *C = malloc((size_t)a->n * (size_t)b->n * sizeof *C);
	double *f = malloc((size_t)a->n * sizeof *f), *g = malloc((size_t)b->n * sizeof *g), ot = 0;
	int rc = !C || !f || !g ? -1 : 0;
	if (rc)
		wn_errf(err, errlen, "out of memory");
	if (!rc && wn_core_cost_sqeuclid(c, a->X, a->n, b->X, b->n, d, C, err, errlen))
		rc = -1;
	for (size_t i = 0; !rc && i < (size_t)a->n * (size_t)b->n; i++)
		C[i] *= 2;
	if (!rc && wn_core_sinkhorn(c, C, a->n, b->n, NULL, NULL, inner, f, g, &ot, NULL, err, errlen))
		rc = -1;
	*w = (float)ot;
	free(C);
	free(f);
	free(g);
	return rc;
}

/* Every class of every set (sources then target) and W between them. */
static int label_distances(wn_otdd *o, const wn_src_set *const *sets, int nsets,
			   const wn_sinkhorn_opts *inner, int *offset, char *err, size_t errlen)
{
	int C = 0;
	for (int s = 0; s < nsets; s++) {
		offset[s] = C;
		C += sets[s]->nlabels;
	}
	cls_points *cp = calloc((size_t)C, sizeof *cp);
	o->W = calloc((size_t)C * (size_t)C, sizeof *o->W);
	o->nclass = C;
	int rc = !cp || !o->W ? -1 : 0;
	for (int s = 0; !rc && s < nsets; s++)
		for (int l = 0; !rc && l < sets[s]->nlabels; l++)
			rc = class_points(sets[s], l, &cp[offset[s] + l]);
	if (rc)
		wn_errf(err, errlen, "out of memory");
	int64_t d = sets[0]->d;
	for (int a = 0; !rc && a < C; a++)
		for (int b = a + 1; !rc && b < C; b++) {
			if (cp[a].n == 0 || cp[b].n == 0)
				continue;
			rc = inner_ot(o->core, &cp[a], &cp[b], d, inner, &o->W[a * C + b], err, errlen);
			o->W[b * C + a] = o->W[a * C + b];
		}
	for (int a = 0; cp && a < C; a++)
		free(cp[a].X);
	free(cp);
	return rc;
}

/* ---------- the outer costs ---------- */

/* C (n x m) += W[ca_i, cb_j] / 2 */
static void add_label_cost(float *C, int64_t n, int64_t m, const int32_t *ca, const int32_t *cb,
			   const float *W, int nclass)
{
	for (int64_t i = 0; i < n; i++)
		for (int64_t j = 0; j < m; j++)
			C[i * m + j] += 0.5f * W[(int64_t)ca[i] * nclass + cb[j]];
}

static int check_sets(const wn_src_set *sources, int K, const wn_src_set *target, char *err,
		      size_t errlen)
{
	if (K < 1) {
		wn_errf(err, errlen, "no sources");
		return -1;
	}
	for (int k = 0; k <= K; k++) {
		const wn_src_set *s = k < K ? &sources[k] : target;
		if (s->n < 1) {
			wn_errf(err, errlen, "%s %d is empty", k < K ? "source" : "target", k + 1);
			return -1;
		}
		if (s->d != target->d) {
			wn_errf(err, errlen, "source %d has dimension %lld, the target %lld", k + 1,
				(long long)s->d, (long long)target->d);
			return -1;
		}
	}
	return 0;
}

static int pool(wn_otdd *o, const wn_src_set *sources, int K, float **X, int32_t **cls,
		const int *offset, int labels)
{
	int64_t d = sources[0].d;
	o->counts = malloc((size_t)K * sizeof *o->counts);
	o->start = malloc((size_t)K * sizeof *o->start);
	o->N = 0;
	for (int k = 0; o->counts && o->start && k < K; k++) {
		o->start[k] = o->N;
		o->counts[k] = sources[k].n;
		o->N += sources[k].n;
	}
	o->src = malloc((size_t)o->N * sizeof *o->src);
	*X = malloc((size_t)o->N * (size_t)d * sizeof **X);
	*cls = malloc((size_t)o->N * sizeof **cls);
	if (!o->counts || !o->start || !o->src || !*X || !*cls)
		return -1;
	for (int k = 0; k < K; k++) {
		memcpy(*X + o->start[k] * d, sources[k].X, (size_t)(sources[k].n * d) * sizeof **X);
		for (int64_t i = 0; i < sources[k].n; i++) {
			o->src[o->start[k] + i] = k;
			(*cls)[o->start[k] + i] = labels ? offset[k] + sources[k].label[i] : 0;
		}
	}
	return 0;
}

static int costs(wn_otdd *o, const float *X, const int32_t *cls, const wn_src_set *t,
		 const int32_t *tcls, char *err, size_t errlen)
{
	int64_t N = o->N, M = o->M, d = t->d;
	o->Cxy = malloc((size_t)N * (size_t)M * sizeof *o->Cxy);
	o->Cxx = malloc((size_t)N * (size_t)N * sizeof *o->Cxx);
	o->Cyy = malloc((size_t)M * (size_t)M * sizeof *o->Cyy);
	if (!o->Cxy || !o->Cxx || !o->Cyy) {
		wn_errf(err, errlen, "out of memory (cost matrices of %lld and %lld points)",
			(long long)N, (long long)M);
		return -1;
	}
	if (wn_core_cost_sqeuclid(o->core, X, N, t->X, M, d, o->Cxy, err, errlen) ||
	    wn_core_cost_sqeuclid(o->core, X, N, X, N, d, o->Cxx, err, errlen) ||
	    wn_core_cost_sqeuclid(o->core, t->X, M, t->X, M, d, o->Cyy, err, errlen))
		return -1;
	if (o->W) {
		add_label_cost(o->Cxy, N, M, cls, tcls, o->W, o->nclass);
		add_label_cost(o->Cxx, N, N, cls, cls, o->W, o->nclass);
		add_label_cost(o->Cyy, M, M, tcls, tcls, o->W, o->nclass);
	}
	return 0;
}

int wn_otdd_init(wn_otdd *o, wn_core *c, const wn_src_set *sources, int K, const wn_src_set *target,
		 int use_labels, const wn_sinkhorn_opts *outer, const wn_sinkhorn_opts *inner,
		 char *err, size_t errlen)
{
	memset(o, 0, sizeof *o);
	o->core = c;
	o->outer = *outer;
	o->K = K;
	o->M = target->n;
	if (check_sets(sources, K, target, err, errlen))
		return -1;
	int labels = use_labels && target->label;
	for (int k = 0; k < K; k++)
		labels = labels && sources[k].label;
	const wn_src_set **sets = malloc((size_t)(K + 1) * sizeof *sets);
	int *offset = malloc((size_t)(K + 1) * sizeof *offset);
	float *X = NULL;
	int32_t *cls = NULL, *tcls = malloc((size_t)target->n * sizeof *tcls);
	int rc = !sets || !offset || !tcls ? -1 : 0;
	if (rc)
		wn_errf(err, errlen, "out of memory");
	for (int k = 0; !rc && k < K; k++)
		sets[k] = &sources[k];
	if (!rc) {
		sets[K] = target;
		if (labels)
			rc = label_distances(o, sets, K + 1, inner, offset, err, errlen);
	}
	if (!rc && pool(o, sources, K, &X, &cls, offset, labels)) {
		wn_errf(err, errlen, "out of memory");
		rc = -1;
	}
	for (int64_t j = 0; !rc && j < target->n; j++)
		tcls[j] = labels ? offset[K] + target->label[j] : 0;
	if (!rc)
		rc = costs(o, X, cls, target, tcls, err, errlen);
	free(sets);
	free(offset);
	free(X);
	free(cls);
	free(tcls);
	if (rc)
		wn_otdd_free(o);
	return rc;
}

int wn_otdd_source(const wn_otdd *o, int k, double *dist, char *err, size_t errlen)
{
	int64_t n = o->counts[k], s = o->start[k], N = o->N;
	float *Cxx = malloc((size_t)n * (size_t)n * sizeof *Cxx);
	if (!Cxx) {
		wn_errf(err, errlen, "out of memory");
		return -1;
	}
	for (int64_t i = 0; i < n; i++)
		memcpy(Cxx + i * n, o->Cxx + (s + i) * N + s, (size_t)n * sizeof *Cxx);
	int rc = wn_core_sinkhorn_divergence(o->core, o->Cxy + s * o->M, Cxx, o->Cyy, n, o->M, NULL,
					     NULL, &o->outer, NULL, NULL, dist, err, errlen);
	free(Cxx);
	return rc ? -1 : 0;
}

int wn_otdd_mixture(const wn_otdd *o, const double *p, double *dist, double *grad, char *err,
		    size_t errlen)
{
	double *q = malloc((size_t)o->K * sizeof *q), *a = malloc((size_t)o->N * sizeof *a);
	double *f = malloc((size_t)o->N * sizeof *f), sum = 0;
	int rc = !q || !a || !f ? -1 : 0;
	if (rc)
		wn_errf(err, errlen, "out of memory");
	for (int k = 0; !rc && k < o->K; k++) {
		if (!(p[k] >= 0) || !isfinite(p[k])) {
			wn_errf(err, errlen, "mixture weight %d is %g (must be >= 0)", k + 1, p[k]);
			rc = -1;
		}
		sum += q[k] = p[k] > WN_OTDD_PMIN ? p[k] : WN_OTDD_PMIN;
	}
	for (int k = 0; !rc && k < o->K; k++)
		q[k] /= sum;
	for (int64_t j = 0; !rc && j < o->N; j++)
		a[j] = q[o->src[j]] / (double)o->counts[o->src[j]];
	if (!rc && wn_core_sinkhorn_divergence(o->core, o->Cxy, o->Cxx, o->Cyy, o->N, o->M, a, NULL,
					       &o->outer, f, NULL, dist, err, errlen))
		rc = -1;
	if (!rc && grad)
		wn_sources_mix_gradient(f, o->src, o->N, o->K, o->counts, q, grad);
	free(q);
	free(a);
	free(f);
	return rc;
}

void wn_otdd_free(wn_otdd *o)
{
	free(o->counts);
	free(o->start);
	free(o->src);
	free(o->Cxy);
	free(o->Cxx);
	free(o->Cyy);
	free(o->W);
	memset(o, 0, sizeof *o);
}
