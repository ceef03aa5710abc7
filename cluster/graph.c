/*
 * cluster/graph.c — kNN graph under cosine, threshold, connected components
 * (contract in cluster/graph.h).
 *
 * Owns: the unit-length copies streamed into FAISS in chunks (so the only
 * full normalised copy is the index's own), the chunked neighbour search,
 * the repeat searches with a doubled k for the vectors whose k-th neighbour
 * still passes the threshold (what makes the components exact at T), the
 * union-find and the component numbering.
 * Borrows: FAISS through the C API bridge, core/core.h (wn_core_knn).
 */
#include "cluster/graph.h"
#include "io/errf.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <faiss/c_api/IndexFlat_c.h>
#include <faiss/c_api/Index_c.h>
#include <faiss/c_api/error_c.h>

#include "cluster/faiss_extra.h"
#include "cluster/kmeans.h"

/* Vectors per add/search call: bounds the scratch buffers only. */
#define GRAPH_CHUNK 16384

static const char *faiss_why(void)
{
	const char *e = faiss_get_last_error();
	return e && *e ? e : "unknown FAISS error";
}

int wn_cluster_parse_graph_index(const char *s)
{
	if (!s || !strcmp(s, "auto"))
		return WN_GRAPH_INDEX_AUTO;
	if (!strcmp(s, "flat"))
		return WN_GRAPH_INDEX_FLAT;
	if (!strcmp(s, "hnsw"))
		return WN_GRAPH_INDEX_HNSW;
	return -1;
}

/* ---- union-find ------------------------------------------------------- */

int wn_cluster_uf_init(wn_cluster_uf *uf, int64_t n)
{
	uf->n = n;
	uf->parent = malloc(sizeof(int64_t) * (size_t)(n ? n : 1));
	if (!uf->parent)
		return -1;
	for (int64_t i = 0; i < n; i++)
		uf->parent[i] = i;
	return 0;
}

int64_t wn_cluster_uf_find(wn_cluster_uf *uf, int64_t i)
{
	while (uf->parent[i] != i) {
		uf->parent[i] = uf->parent[uf->parent[i]]; /* path halving */
		i = uf->parent[i];
	}
	return i;
}

void wn_cluster_uf_union(wn_cluster_uf *uf, int64_t a, int64_t b)
{
	a = wn_cluster_uf_find(uf, a);
	b = wn_cluster_uf_find(uf, b);
	if (a == b)
		return;
	/* the smaller index stays root: labels independent of union order */
	if (a < b)
		uf->parent[b] = a;
	else
		uf->parent[a] = b;
}

void wn_cluster_uf_free(wn_cluster_uf *uf)
{
	free(uf->parent);
	uf->parent = NULL;
}

/* ---- the graph -------------------------------------------------------- */

/* dst = rows of X scaled to unit length (rows ids[0..m), or s .. s+m-1 when
 * ids is NULL); zero rows stay zero. zero[row] (when given) marks norm zero. */
static void unit_rows(const float *X, const int64_t *ids, int64_t s, int64_t m, int64_t d,
		      float *dst, unsigned char *zero)
{
#pragma omp parallel for schedule(static) if (m * d >= (1 << 18)) /* small: not worth waking threads */
	for (int64_t i = 0; i < m; i++) {
		int64_t row = ids ? ids[i] : s + i;
		const float *x = X + (size_t)row * (size_t)d;
		double ss = 0;
		for (int64_t t = 0; t < d; t++)
			ss += (double)x[t] * x[t];
		double inv = ss > 0 ? 1.0 / sqrt(ss) : 0.0;
		for (int64_t t = 0; t < d; t++)
			dst[(size_t)i * (size_t)d + t] = (float)(x[t] * inv);
		if (zero)
			zero[row] = ss == 0;
	}
}

/*
 * One neighbour search, whichever engine runs it: a FAISS index holding the
 * unit rows, or the core with the unit rows U as its base. The CUDA backend
 * keeps at most CUDA_MAX_K neighbours per query (core/cuda_knn.cu), so a
 * row that needs more is searched on a CPU context of the core instead,
 * opened the first time one does (the same exact brute force).
 */
#define CUDA_MAX_K 2048

struct searcher {
	FaissIndex *ix;
	int hnsw_ef;     /* HNSW efSearch, 0 = max(64, 2 k) per search; -1: flat */
	wn_core *core;
	wn_core *cpu;    /* owned: opened for k > CUDA_MAX_K on a CUDA core */
	const float *U;  /* core: n x d unit rows */
	int64_t n, d;
};

static int search_rows(struct searcher *S, const float *Q, int64_t m, int64_t kk, float *sim,
		       int64_t *lab, char *err, size_t errlen)
{
	if (S->ix) {
		int64_t ef = S->hnsw_ef > 0 ? S->hnsw_ef : 2 * kk > 64 ? 2 * kk : 64;
		ef = ef < INT_MAX ? ef : INT_MAX;
		if (S->hnsw_ef >= 0 && wn_cluster_faiss_hnsw_set_ef(S->ix, 0, (int)ef)) {
			wn_errf(err, errlen, "FAISS HNSW setup failed: %s", faiss_why());
			return -1;
		}
		if (faiss_Index_search(S->ix, m, Q, kk, sim, lab)) {
			wn_errf(err, errlen, "FAISS search failed: %s", faiss_why());
			return -1;
		}
		return 0;
	}
	wn_core *c = S->core;
	if (kk > CUDA_MAX_K && wn_core_device(c) == WN_DEVICE_CUDA) {
		if (!S->cpu)
			S->cpu = wn_core_open(WN_DEVICE_CPU, wn_core_threads(c), err, errlen);
		if (!S->cpu)
			return -1;
		c = S->cpu;
	}
	if (wn_core_knn(c, WN_METRIC_IP, Q, m, S->U, S->n, S->d, kk, sim, lab)) {
		wn_errf(err, errlen, "kNN on the core failed: %s", wn_core_error(c));
		return -1;
	}
	return 0;
}

/* The edges found so far, and the rows whose search must be repeated. */
struct graph {
	wn_cluster_uf *uf;
	const unsigned char *zero;
	double threshold;
	uint64_t edges;
	int64_t *more; /* rows to search again with a larger k, ascending */
	int64_t n_more;
};

/*
 * Union the hits of m queries (rows ids[i], or s + i when ids is NULL), kk
 * hits each, sorted best first. A row whose kk-th hit still passes the
 * threshold may have more neighbours above it than were searched: it goes
 * to g->more instead, and its edges are counted from its larger search, so
 * each (i -> j) hit with cos >= T is counted exactly once.
 */
static void add_edges(struct graph *g, const int64_t *ids, int64_t s, int64_t m, int64_t kk,
		      int64_t n, const float *sim, const int64_t *lab)
{
	for (int64_t i = 0; i < m; i++) {
		int64_t q = ids ? ids[i] : s + i;
		const float *si = sim + (size_t)i * (size_t)kk;
		const int64_t *li = lab + (size_t)i * (size_t)kk;
		if (g->zero[q])
			continue;
		if (kk < n && li[kk - 1] >= 0 && (double)si[kk - 1] >= g->threshold) {
			g->more[g->n_more++] = q;
			continue;
		}
		for (int64_t r = 0; r < kk; r++) {
			int64_t j = li[r];
			if (j < 0 || j == q || g->zero[j])
				continue;
			if ((double)si[r] < g->threshold)
				break; /* sorted best first: the rest are farther */
			wn_cluster_uf_union(g->uf, q, j);
			g->edges++;
		}
	}
}

/* Hits (sim + lab) the repeat searches hold at once: bounds their memory. */
#define REPEAT_BUDGET ((int64_t)1 << 22)

/* Make room for `want` hits in *sim and *lab (capacity *cap). */
static int grow_hits(float **sim, int64_t **lab, int64_t *cap, int64_t want)
{
	if (want <= *cap)
		return 0;
	float *ns = realloc(*sim, sizeof(float) * (size_t)want);
	if (!ns)
		return -1;
	*sim = ns;
	int64_t *nl = realloc(*lab, sizeof(int64_t) * (size_t)want);
	if (!nl)
		return -1;
	*lab = nl;
	*cap = want;
	return 0;
}

/*
 * Search the rows listed in g->more again with 2k, 4k, ... (at most n) until
 * every row's k-th hit falls below the threshold: then every neighbour above
 * it has been seen and the components are those of the exact threshold graph.
 * The lists are in ascending row order and the batches cut by size only, so
 * the result does not depend on the thread count. *sim, *lab (capacity *cap
 * hits) and *buf (queries: chunk x d, allocated here when NULL) are reused;
 * a batch has at most `chunk` rows, so an allocated buf always fits.
 */
static int search_again(struct searcher *S, const float *X, struct graph *g, int64_t chunk,
			int64_t kk, float **sim, int64_t **lab, int64_t *cap, float **buf, char *err,
			size_t errlen)
{
	int64_t n = S->n, d = S->d;
	int64_t *todo = malloc(sizeof(int64_t) * (size_t)(g->n_more ? g->n_more : 1));
	if (!todo && g->n_more) {
		wn_errf(err, errlen, "out of memory building the kNN graph");
		return -1;
	}
	int rc = 0;
	while (!rc && g->n_more > 0) {
		int64_t nt = g->n_more;
		memcpy(todo, g->more, sizeof(int64_t) * (size_t)nt);
		g->n_more = 0;
		kk = kk < n / 2 ? 2 * kk : n;
		int64_t rows = REPEAT_BUDGET / kk;
		rows = rows < 1 ? 1 : rows > chunk ? chunk : rows;
		rows = rows < nt ? rows : nt;
		if (grow_hits(sim, lab, cap, rows * kk) ||
		    (!*buf && !(*buf = malloc(sizeof(float) * (size_t)chunk * (size_t)d)))) {
			wn_errf(err, errlen, "out of memory building the kNN graph");
			rc = -1;
		}
		for (int64_t b = 0; !rc && b < nt; b += rows) {
			int64_t m = nt - b < rows ? nt - b : rows;
			unit_rows(X, todo + b, 0, m, d, *buf, NULL);
			rc = search_rows(S, *buf, m, kk, *sim, *lab, err, errlen);
			if (!rc)
				add_edges(g, todo + b, 0, m, kk, n, *sim, *lab);
		}
	}
	free(todo);
	return rc;
}

/*
 * The whole search: every row with its first kk hits (from the unit rows of
 * X in *buf, chunk x d, or straight from S->U when the core runs and *buf
 * is NULL), then the rows that need more. The caller frees *buf.
 */
static int search_all(struct searcher *S, const float *X, int64_t chunk, int64_t kk,
		      wn_cluster_uf *uf, const unsigned char *zero, double threshold,
		      float **buf, uint64_t *edges, char *err, size_t errlen)
{
	int64_t n = S->n, d = S->d, cap = chunk * kk;
	struct graph g = {uf, zero, threshold, 0, malloc(sizeof(int64_t) * (size_t)n), 0};
	float *sim = malloc(sizeof(float) * (size_t)cap);
	int64_t *lab = malloc(sizeof(int64_t) * (size_t)cap);
	int rc = 0;
	if (!g.more || !sim || !lab) {
		wn_errf(err, errlen, "out of memory building the kNN graph");
		rc = -1;
	}
	for (int64_t s = 0; !rc && s < n; s += chunk) {
		int64_t m = n - s < chunk ? n - s : chunk;
		const float *Q = S->U ? S->U + (size_t)s * (size_t)d : *buf;
		if (!S->U)
			unit_rows(X, NULL, s, m, d, *buf, NULL);
		rc = search_rows(S, Q, m, kk, sim, lab, err, errlen);
		if (!rc)
			add_edges(&g, NULL, s, m, kk, n, sim, lab);
	}
	int64_t again = chunk < GRAPH_CHUNK ? chunk : GRAPH_CHUNK;
	if (!rc)
		rc = search_again(S, X, &g, again, kk, &sim, &lab, &cap, buf, err, errlen);
	*edges += g.edges;
	free(g.more);
	free(sim);
	free(lab);
	return rc;
}

static int search_faiss(const wn_cluster_graph_opts *o, const float *X, int64_t n, int64_t d,
			wn_cluster_uf *uf, unsigned char *zero, uint64_t *edges, int *index_used,
			char *err, size_t errlen)
{
	int use_hnsw = o->index == WN_GRAPH_INDEX_HNSW ||
		       (o->index == WN_GRAPH_INDEX_AUTO && n > o->hnsw_above);
	*index_used = use_hnsw ? WN_GRAPH_INDEX_HNSW : WN_GRAPH_INDEX_FLAT;
	int64_t kk = o->knn + 1 < n ? o->knn + 1 : n; /* +1: the query finds itself */
	int64_t chunk = n < GRAPH_CHUNK ? n : GRAPH_CHUNK;
	struct searcher S = {NULL, use_hnsw ? (o->ef_search > 0 ? o->ef_search : 0) : -1,
			     NULL, NULL, NULL, n, d};
	int rc;
	if (use_hnsw)
		rc = wn_cluster_faiss_hnsw_new(&S.ix, (int)d, o->hnsw_m > 0 ? o->hnsw_m : 32,
					       METRIC_INNER_PRODUCT);
	else
		rc = wn_cluster_faiss_flat_new(&S.ix, (int)d, METRIC_INNER_PRODUCT);
	float *buf = malloc(sizeof(float) * (size_t)chunk * (size_t)d);
	if (rc) {
		wn_errf(err, errlen, "FAISS index failed: %s", faiss_why());
	} else if (!buf) {
		wn_errf(err, errlen, "out of memory building the kNN graph");
		rc = -1;
	}
	for (int64_t s = 0; !rc && s < n; s += chunk) {
		int64_t m = n - s < chunk ? n - s : chunk;
		unit_rows(X, NULL, s, m, d, buf, zero);
		if (faiss_Index_add(S.ix, m, buf)) {
			wn_errf(err, errlen, "FAISS add failed: %s", faiss_why());
			rc = -1;
		}
	}
	if (!rc)
		rc = search_all(&S, X, chunk, kk, uf, zero, o->threshold, &buf, edges, err,
				errlen);
	free(buf);
	if (S.ix)
		faiss_Index_free(S.ix);
	return rc ? -1 : 0;
}

static int search_core(wn_core *core, const wn_cluster_graph_opts *o, const float *X, int64_t n,
		       int64_t d, wn_cluster_uf *uf, unsigned char *zero, uint64_t *edges,
		       char *err, size_t errlen)
{
	if (!core) {
		wn_errf(err, errlen, "the kNN graph on the core needs a compute context");
		return -1;
	}
	int64_t kk = o->knn + 1 < n ? o->knn + 1 : n;
	int64_t chunk = n < GRAPH_CHUNK * 8 ? n : GRAPH_CHUNK * 8;
	float *U = malloc(sizeof(float) * (size_t)n * (size_t)d);
	if (!U) {
		wn_errf(err, errlen, "out of memory building the kNN graph");
		return -1;
	}
	unit_rows(X, NULL, 0, n, d, U, zero);
	struct searcher S = {NULL, -1, core, NULL, U, n, d};
	float *buf = NULL; /* queries come from U; repeat searches gather into buf */
	int rc = search_all(&S, X, chunk, kk, uf, zero, o->threshold, &buf, edges, err, errlen);
	free(buf);
	if (S.cpu)
		wn_core_close(S.cpu);
	free(U);
	return rc;
}

void wn_cluster_graph_result_free(wn_cluster_graph_result *res)
{
	if (!res)
		return;
	free(res->component);
	free(res->sizes);
	free(res->first);
	memset(res, 0, sizeof *res);
}

/* Number components in order of their smallest member (= their root). */
static int label_components(wn_cluster_uf *uf, wn_cluster_graph_result *res)
{
	int64_t n = uf->n;
	int64_t nc = 0;
	for (int64_t i = 0; i < n; i++) {
		int64_t r = wn_cluster_uf_find(uf, i);
		if (r == i)
			res->component[i] = nc++;
		else
			res->component[i] = res->component[r]; /* r < i: already labelled */
	}
	res->n_components = nc;
	res->sizes = calloc((size_t)(nc ? nc : 1), sizeof(int64_t));
	res->first = malloc(sizeof(int64_t) * (size_t)(nc ? nc : 1));
	if (!res->sizes || !res->first)
		return -1;
	for (int64_t i = n - 1; i >= 0; i--) {
		res->sizes[res->component[i]]++;
		res->first[res->component[i]] = i;
	}
	return 0;
}

int wn_cluster_graph_run(wn_core *core, const wn_cluster_graph_opts *o, const float *X,
			 int64_t n, int64_t d, wn_cluster_graph_result *res, char *err,
			 size_t errlen)
{
	memset(res, 0, sizeof *res);
	if (o->knn < 1 || (n > 0 && d < 1) || !(o->threshold >= -1.0 && o->threshold <= 1.0)) {
		wn_errf(err, errlen, "graph needs knn >= 1 and a threshold in [-1, 1]");
		return -1;
	}
	res->n = n;
	res->engine = wn_cluster_resolve_engine(o->engine, core);
	res->component = malloc(sizeof(int64_t) * (size_t)(n ? n : 1));
	unsigned char *zero = calloc((size_t)(n ? n : 1), 1);
	wn_cluster_uf uf = {0, NULL};
	int rc = 0;
	if (!res->component || !zero || wn_cluster_uf_init(&uf, n)) {
		wn_errf(err, errlen, "out of memory for %lld vectors", (long long)n);
		rc = -1;
	} else if (n > 1) {
		rc = res->engine == WN_CLUSTER_ENGINE_CORE
			     ? search_core(core, o, X, n, d, &uf, zero, &res->edges, err, errlen)
			     : search_faiss(o, X, n, d, &uf, zero, &res->edges, &res->index, err,
					    errlen);
	}
	if (!rc && label_components(&uf, res)) {
		wn_errf(err, errlen, "out of memory labelling components");
		rc = -1;
	}
	wn_cluster_uf_free(&uf);
	free(zero);
	if (rc)
		wn_cluster_graph_result_free(res);
	return rc;
}
