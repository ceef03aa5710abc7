/*
 * selectors/mig_step.c — `winnow select mig` (see selectors/mig_step.h):
 * labels read into one interning table, the vocabulary sorted and embedded,
 * the graph, the item rows, the greedy, the picks written in input order.
 */
#include "selectors/mig_step.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "embed/embedder.h"
#include "io/errf.h"
#include "io/intern.h"
#include "io/json.h"
#include "selectors/pool.h"
#include "selectors/mig.h"

void wn_mig_init(wn_mig_opts *o)
{
	memset(o, 0, sizeof *o);
	o->io = (wn_stream_opts)WN_STREAM_OPTS_INIT;
	o->budget = -1;
	o->prop_weight = 1.0;
	o->threshold = 0.9;
	o->phi_name = "pow";
	o->model = "hash";
}

int wn_mig_check(wn_mig_opts *o, char *err, size_t errlen)
{
	struct stat st;
	if (o->budget < 1)
		return wn_errf(err, errlen, "--budget N is required (N >= 1)"), -1;
	if (!o->labels || !*o->labels)
		return wn_errf(err, errlen, "--labels PATH is required (a string or an array of strings)"), -1;
	if (!o->quality || !*o->quality)
		return wn_errf(err, errlen, "--quality PATH is required"), -1;
	if (!(o->prop_weight >= 0) || !isfinite(o->prop_weight))
		return wn_errf(err, errlen, "--prop-weight must be a finite number >= 0"), -1;
	if (!(o->threshold >= -1 && o->threshold <= 1))
		return wn_errf(err, errlen, "--threshold must be in [-1, 1]"), -1;
	if (!strcmp(o->phi_name, "pow"))
		o->phi = WN_MIG_PHI_POW;
	else if (!strcmp(o->phi_name, "exp"))
		o->phi = WN_MIG_PHI_EXP;
	else
		return wn_errf(err, errlen, "--phi must be pow or exp, not '%s'", o->phi_name), -1;
	if (o->dim < 0 || o->dim > 65536)
		return wn_errf(err, errlen, "--dim must be in [1, 65536]"), -1;
	if (strcmp(o->model, "hash") && (stat(o->model, &st) || !S_ISDIR(st.st_mode)))
		return wn_errf(err, errlen, "--model '%s' is neither 'hash' nor a model directory",
			       o->model), -1;
	if (strcmp(o->model, "hash") && (o->dim || o->char_ngrams))
		return wn_errf(err, errlen, "--dim and --char-ngrams apply to --model hash only"), -1;
	if (o->char_ngrams && wn_embed_hash_parse_ngrams(o->char_ngrams, &o->char_min, &o->char_max))
		return wn_errf(err, errlen, "--char-ngrams '%s': expected MIN,MAX (e.g. 3,5)",
			       o->char_ngrams), -1;
	return 0;
}

/* The labels of every kept record: ids into one table, by item. */
struct labels {
	const char *path;
	wn_intern *tab;
	int64_t *off;     /* items + 1 */
	int32_t *lab;
	int64_t n, cap, items_cap, items;
	wn_buf scratch;
};

static int push_label(struct labels *L, int32_t id)
{
	if (L->n == L->cap) {
		int64_t nc = L->cap ? 2 * L->cap : 4096;
		int32_t *p = realloc(L->lab, sizeof(int32_t) * (size_t)nc);
		if (!p)
			return -1;
		L->lab = p;
		L->cap = nc;
	}
	L->lab[L->n++] = id;
	return 0;
}

/* One string value: interned and appended. 1 ok, 0 not a string, -1 out of memory. */
static int add_string(struct labels *L, wn_span v)
{
	wn_span t;
	if (wn_json_type_of(v) != WN_JSON_STRING || wn_json_string(v, &L->scratch, &t))
		return 0;
	int64_t id = wn_intern_put(L->tab, t.p, t.n, NULL);
	if (id < 0 || id > INT32_MAX || push_label(L, (int32_t)id))
		return -1;
	return 1;
}

/* A string or an array of strings: checked whole first, so that a rejected
 * record adds nothing to the vocabulary. 1 ok, 0 not labels, -1 out of memory. */
static int read_labels(struct labels *L, wn_span v)
{
	if (wn_json_type_of(v) == WN_JSON_STRING)
		return add_string(L, v);
	if (wn_json_type_of(v) != WN_JSON_ARRAY)
		return 0;
	size_t pos = 0;
	wn_span e;
	while (wn_json_next_element(v, &pos, &e))
		if (wn_json_type_of(e) != WN_JSON_STRING)
			return 0;
	int r = 1;
	pos = 0;
	while (r == 1 && wn_json_next_element(v, &pos, &e))
		r = add_string(L, e);
	return r;
}

static int take_labels(void *ctx, wn_stream *s, const wn_record *rec, int64_t i)
{
	struct labels *L = ctx;
	wn_span v;
	int64_t mark = L->n;
	if (!wn_json_get(rec->json, L->path, &v))
		return wn_stream_reject(s, rec, "missing '%s' (--labels)", L->path) ? -1 : 0;
	if (i + 2 > L->items_cap) {
		int64_t nc = L->items_cap ? 2 * L->items_cap : 4096;
		int64_t *p = realloc(L->off, sizeof(int64_t) * (size_t)nc);
		if (!p)
			return snprintf(s->err, sizeof s->err, "out of memory"), s->failed = 1, -1;
		L->off = p;
		L->items_cap = nc;
	}
	int r = read_labels(L, v);
	if (r < 0)
		return snprintf(s->err, sizeof s->err, "out of memory"), s->failed = 1, -1;
	if (r == 0) {
		L->n = mark;
		return wn_stream_reject(s, rec, "'%s' is not a string or an array of strings "
					"(--labels)", L->path) ? -1 : 0;
	}
	L->off[i] = mark;
	L->off[i + 1] = L->n;
	L->items = i + 1;
	return 1;
}

/* Quality must be >= 0 (u_i >= 0 is what makes the gains concave). */
struct take_ctx {
	struct labels *L;
	const char *quality;
};

static int take(void *ctx, wn_stream *s, const wn_record *rec, int64_t i)
{
	struct take_ctx *t = ctx;
	wn_span v;
	double x;
	if (wn_json_get(rec->json, t->quality, &v) && !wn_json_number(v, &x) && x < 0)
		return wn_stream_reject(s, rec, "'%s' is negative (--quality)", t->quality) ? -1 : 0;
	return take_labels(t->L, s, rec, i);
}

/* ---- the vocabulary ---- */

static int cmp_label(const void *a, const void *b, void *tab)
{
	size_t na, nb;
	const char *x = wn_intern_str(tab, (size_t)*(const int32_t *)a, &na);
	const char *y = wn_intern_str(tab, (size_t)*(const int32_t *)b, &nb);
	int c = memcmp(x, y, na < nb ? na : nb);
	return c ? c : (na > nb) - (na < nb);
}

/* Sort the vocabulary bytewise and renumber every item's labels by rank;
 * order[r] gets the table id of rank r. */
static int sort_vocabulary(struct labels *L, int32_t **order_out)
{
	size_t nv = wn_intern_count(L->tab);
	int32_t *order = malloc(sizeof(int32_t) * (nv ? nv : 1));
	int32_t *rank = malloc(sizeof(int32_t) * (nv ? nv : 1));
	if (!order || !rank) {
		free(order);
		free(rank);
		return -1;
	}
	for (size_t r = 0; r < nv; r++)
		order[r] = (int32_t)r;
	qsort_r(order, nv, sizeof(int32_t), cmp_label, L->tab);
	for (size_t r = 0; r < nv; r++)
		rank[order[r]] = (int32_t)r;
	for (int64_t j = 0; j < L->n; j++)
		L->lab[j] = rank[L->lab[j]];
	free(rank);
	*order_out = order;
	return 0;
}

static wn_embedder *open_embedder(const wn_mig_opts *o, char *err, size_t errlen)
{
	if (strcmp(o->model, "hash")) {
		wn_embed_bert_opts bo;
		wn_embed_bert_opts_init(&bo);
		return wn_embedder_open_bert(o->model, &bo, o->io.device, o->io.threads, err, errlen);
	}
	wn_embed_hash_opts ho;
	wn_embed_hash_opts_init(&ho);
	if (o->dim)
		ho.dim = o->dim;
	ho.char_min = o->char_min;
	ho.char_max = o->char_max;
	return wn_embedder_open_hash(&ho, o->io.threads, err, errlen);
}

/* The vectors of the sorted vocabulary (nv x *dim, malloc'd). */
static float *embed_vocabulary(const wn_mig_opts *o, const wn_intern *tab, const int32_t *order,
			       size_t nv, int *dim, char *err, size_t errlen)
{
	wn_embedder *e = open_embedder(o, err, errlen);
	if (!e)
		return NULL;
	*dim = wn_embedder_dim(e);
	const char **texts = malloc(sizeof(char *) * nv);
	size_t *lens = malloc(sizeof(size_t) * nv);
	const char **why = calloc(nv, sizeof(char *));
	float *E = malloc(sizeof(float) * nv * (size_t)*dim);
	int rc = texts && lens && why && E ? 0 : (wn_errf(err, errlen, "out of memory"), -1);
	for (size_t r = 0; rc == 0 && r < nv; r++)
		texts[r] = wn_intern_str(tab, (size_t)order[r], &lens[r]);
	if (rc == 0)
		rc = wn_embedder_embed(e, texts, lens, nv, E, why, err, errlen);
	for (size_t r = 0; rc == 0 && r < nv; r++)
		if (why[r])
			rc = -1, wn_errf(err, errlen, "label '%s': %s", texts[r], why[r]);
	wn_embedder_free(e);
	free(texts);
	free(lens);
	free(why);
	if (rc) {
		free(E);
		return NULL;
	}
	return E;
}

/* ---- the picks ---- */

struct mig_out {
	int64_t *rank;   /* per item: pick order, -1 */
	double *gain;    /* per item */
};

static int annotate(void *ctx, int64_t i, wn_annot *a)
{
	const struct mig_out *m = ctx;
	if (m->rank[i] < 0)
		return 0;
	if (wn_annot_set_int(a, "mig_rank", m->rank[i]) || wn_annot_set_double(a, "mig_gain", m->gain[i]))
		return -1;
	return 1;
}

static int greedy_and_emit(const wn_mig_opts *o, wn_pool *p, const wn_mig_sparse *P,
			   const struct labels *L, wn_stream *s, char *err, size_t errlen)
{
	wn_mig_sparse U;
	size_t n = (size_t)p->n;
	int64_t *pick = malloc(sizeof(int64_t) * n), np = 0;
	double *g = malloc(sizeof(double) * n);
	struct mig_out m = {malloc(sizeof(int64_t) * n), calloc(n, sizeof(double))};
	int rc = pick && g && m.rank && m.gain ? 0 : (wn_errf(err, errlen, "out of memory"), -1);
	if (rc == 0)
		rc = wn_mig_items(P, p->n, L->off, L->lab, p->value, o->norm, &U, err, errlen);
	if (rc == 0) {
		rc = wn_mig_greedy(&U, P->rows, o->budget, o->phi, o->io.threads, pick, g, &np, err,
				   errlen);
		wn_mig_sparse_free(&U);
	}
	for (size_t i = 0; rc == 0 && i < n; i++)
		m.rank[i] = -1;
	for (int64_t k = 0; rc == 0 && k < np; k++) {
		m.rank[pick[k]] = k;
		m.gain[pick[k]] = g[k];
	}
	if (rc == 0 && !o->io.quiet)
		fprintf(stderr, "winnow %s: %lld picks over %lld records and %lld labels (%lld "
			"similar pairs at >= %g), last gain %.6g\n", s->cmd, (long long)np,
			(long long)p->n, (long long)P->rows, (long long)((P->off[P->rows] - P->rows) / 2),
			o->threshold, np ? g[np - 1] : 0.0);
	if (rc == 0)
		rc = wn_pool_emit(p, s, annotate, &m, err, errlen);
	free(pick);
	free(g);
	free(m.rank);
	free(m.gain);
	return rc;
}

static int select_all(const wn_mig_opts *o, wn_pool *p, struct labels *L, wn_stream *s,
		      char *err, size_t errlen)
{
	int32_t *order = NULL;
	size_t nv = wn_intern_count(L->tab);
	int dim = 0;
	if (nv == 0)
		return wn_errf(err, errlen, "%s: no record has a label ('%s')",
			       wn_stream_source_name(s), o->labels), -1;
	if (sort_vocabulary(L, &order))
		return wn_errf(err, errlen, "out of memory"), -1;
	float *E = embed_vocabulary(o, L->tab, order, nv, &dim, err, errlen);
	free(order);
	if (!E)
		return -1;
	wn_mig_sparse P;
	int rc = wn_mig_graph(E, (int64_t)nv, dim, o->threshold, o->prop_weight, o->io.threads, &P,
			      err, errlen);
	free(E);
	if (rc == 0) {
		rc = greedy_and_emit(o, p, &P, L, s, err, errlen);
		wn_mig_sparse_free(&P);
	}
	return rc;
}

int wn_mig_run(const wn_mig_opts *o, wn_stream *s, wn_step_report *rep, char *err,
	       size_t errlen)
{
	(void)rep;
	struct labels L = {.path = o->labels, .tab = wn_intern_new()};
	struct take_ctx t = {&L, o->quality};
	wn_pool p;
	memset(&p, 0, sizeof p);
	int rc = L.tab ? 0 : (wn_errf(err, errlen, "out of memory"), -1);
	if (rc == 0)
		rc = wn_pool_read(&p, s, NULL, o->quality, "--quality", take, &t, err, errlen);
	if (rc == 0 && p.n > 0)
		rc = select_all(o, &p, &L, s, err, errlen);
	wn_pool_free(&p);
	wn_intern_free(L.tab);
	free(L.off);
	free(L.lab);
	wn_buf_free(&L.scratch);
	return rc;
}
