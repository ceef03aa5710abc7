/*
 * selectors/tas_step.c — `winnow batches tas` (see selectors/tas_step.h):
 * pairs grouped by query, the plan, the batches written window by window.
 */
#include "selectors/tas_step.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/errf.h"
#include "io/intern.h"
#include "io/json.h"
#include "selectors/pool.h"
#include "selectors/tas.h"

#define TAS_WINDOW_DEFAULT ((size_t)64 << 20)
#define TAS_PAD 64

void wn_tas_init(wn_tas_opts *o)
{
	memset(o, 0, sizeof *o);
	o->io = (wn_stream_opts)WN_STREAM_OPTS_INIT;
	o->cluster = "winnow.cluster";
	o->query = "query";
	o->batch = 32;
	o->batches = -1;
	o->bins = 10;
}

int wn_tas_check(wn_tas_opts *o, char *err, size_t errlen)
{
	if (o->batch < 1 || o->batch > 1000000)
		return wn_errf(err, errlen, "--batch must be in [1, 1000000]"), -1;
	if (o->batches < -1 || o->batches > 100000000)
		return wn_errf(err, errlen, "--batches must be in [0, 100000000]"), -1;
	if (o->bins < 1 || o->bins > 256)
		return wn_errf(err, errlen, "--bins must be in [1, 256]"), -1;
	if (o->seed < 0)
		return wn_errf(err, errlen, "--seed must not be negative"), -1;
	if (!o->cluster || !*o->cluster || !o->query || !*o->query || (o->margin && !*o->margin))
		return wn_errf(err, errlen, "--cluster, --query and --margin need a PATH"), -1;
	return 0;
}

/* Queries: interned keys, each query's cluster and first line; per item its query and size. */
struct tas_read {
	const wn_tas_opts *o;
	wn_intern *keys;
	int64_t *qcluster;
	uint64_t *qline;
	int64_t qcap;
	int64_t *item_q, *size;
	int64_t icap;
	wn_buf scratch;
};

static int grow_items(struct tas_read *t, int64_t i)
{
	if (i < t->icap)
		return 0;
	int64_t nc = t->icap ? 2 * t->icap : 4096;
	int64_t *a = realloc(t->item_q, sizeof(int64_t) * (size_t)nc);
	if (a)
		t->item_q = a;
	int64_t *b = realloc(t->size, sizeof(int64_t) * (size_t)nc);
	if (b)
		t->size = b;
	if (!a || !b)
		return -1;
	t->icap = nc;
	return 0;
}

static int grow_queries(struct tas_read *t, int64_t q)
{
	if (q < t->qcap)
		return 0;
	int64_t nc = t->qcap ? 2 * t->qcap : 1024;
	int64_t *a = realloc(t->qcluster, sizeof(int64_t) * (size_t)nc);
	if (a)
		t->qcluster = a;
	uint64_t *b = realloc(t->qline, sizeof(uint64_t) * (size_t)nc);
	if (b)
		t->qline = b;
	if (!a || !b)
		return -1;
	t->qcap = nc;
	return 0;
}

#define TAS_OOM(s) (snprintf((s)->err, sizeof (s)->err, "out of memory"), (s)->failed = 1, -1)

static int take(void *ctx, wn_stream *s, const wn_record *rec, int64_t i)
{
	struct tas_read *t = ctx;
	wn_span v, key;
	int64_t c = 0;
	int added = 0;
	if (!wn_json_get(rec->json, t->o->query, &v))
		return wn_stream_reject(s, rec, "missing '%s' (--query)", t->o->query) ? -1 : 0;
	key = v;
	if (wn_json_type_of(v) == WN_JSON_STRING && wn_json_string(v, &t->scratch, &key))
		return TAS_OOM(s);
	wn_pool_cluster_id(rec->json, t->o->cluster, &c); /* checked by the pool before this call */
	int64_t q = wn_intern_put(t->keys, key.p, key.n, &added);
	if (q < 0 || grow_queries(t, q) || grow_items(t, i))
		return TAS_OOM(s);
	if (added) {
		t->qcluster[q] = c;
		t->qline[q] = rec->line;
	} else if (t->qcluster[q] != c) {
		return wn_stream_reject(s, rec, "this pair's query is in cluster %lld, but in cluster "
					"%lld at its first pair (line %llu): cluster the queries, not the "
					"pairs", (long long)c, (long long)t->qcluster[q],
					(unsigned long long)t->qline[q]) ? -1 : 0;
	}
	t->item_q[i] = q;
	t->size[i] = (int64_t)rec->json.n;
	return 1;
}

/* Queries -> their items, in input order (CSR). */
static int group_items(const struct tas_read *t, int64_t n, int64_t nq, int64_t **off,
		       int64_t **item)
{
	*off = calloc((size_t)nq + 1, sizeof(int64_t));
	*item = malloc(sizeof(int64_t) * (size_t)(n ? n : 1));
	int64_t *fill = malloc(sizeof(int64_t) * (size_t)(nq ? nq : 1));
	if (!*off || !*item || !fill) {
		free(fill);
		return -1;
	}
	for (int64_t i = 0; i < n; i++)
		(*off)[t->item_q[i] + 1]++;
	for (int64_t q = 0; q < nq; q++)
		(*off)[q + 1] += (*off)[q];
	memcpy(fill, *off, sizeof(int64_t) * (size_t)nq);
	for (int64_t i = 0; i < n; i++)
		(*item)[fill[t->item_q[i]]++] = i;
	free(fill);
	return 0;
}

/* ---- writing the plan, one window of record bytes at a time ---- */

struct tas_window {
	char *buf;
	size_t cap, limit;
	int64_t *mark, *off, *fid; /* per pool item */
	uint64_t *line, *index;
	wn_intern *files;
};

static size_t window_limit(void)
{
	const char *e = getenv("WINNOW_SPOOL_MEM");
	char *end;
	unsigned long long v = e && *e ? strtoull(e, &end, 10) : 0;
	return e && *e && !*end && v > 0 ? (size_t)v : TAS_WINDOW_DEFAULT;
}

static int window_alloc(struct tas_window *w, int64_t n)
{
	size_t nn = (size_t)(n ? n : 1);
	w->limit = window_limit();
	w->mark = malloc(nn * sizeof(int64_t));
	w->off = malloc(nn * sizeof(int64_t));
	w->fid = malloc(nn * sizeof(int64_t));
	w->line = malloc(nn * sizeof(uint64_t));
	w->index = malloc(nn * sizeof(uint64_t));
	w->files = wn_intern_new();
	if (!w->mark || !w->off || !w->fid || !w->line || !w->index || !w->files)
		return -1;
	for (int64_t i = 0; i < n; i++)
		w->mark[i] = -1;
	return 0;
}

static void window_free(struct tas_window *w)
{
	free(w->buf);
	free(w->mark);
	free(w->off);
	free(w->fid);
	free(w->line);
	free(w->index);
	wn_intern_free(w->files);
}

/* The slots [a, *b) whose distinct records fit the window (at least one). */
static int64_t window_plan(struct tas_window *w, const wn_tas_plan *p, const int64_t *size,
			   int64_t a, int64_t id, size_t *bytes)
{
	int64_t b = a;
	*bytes = 0;
	for (; b < p->n; b++) {
		int64_t it = p->item[b];
		if (w->mark[it] == id)
			continue;
		size_t need = (size_t)size[it] + TAS_PAD;
		if (b > a && *bytes + need > w->limit)
			break;
		w->mark[it] = id;
		*bytes += need;
	}
	return b;
}

/* One pass over the spool: copy the window's records (marked id) into buf. */
static int window_fill(struct tas_window *w, wn_pool *p, int64_t id, size_t bytes, char *err,
		       size_t errlen)
{
	if (bytes > w->cap) {
		char *nb = realloc(w->buf, bytes);
		if (!nb)
			return wn_errf(err, errlen, "out of memory for %zu bytes of records", bytes), -1;
		w->buf = nb;
		w->cap = bytes;
	}
	if (wn_spool_rewind(p->sp, err, errlen))
		return -1;
	size_t pos = 0;
	wn_record rec;
	for (int64_t i = 0; i < p->n; i++) {
		if (wn_spool_get(p->sp, &rec, err, errlen) != 1)
			return err[0] ? -1 : (wn_errf(err, errlen, "internal: the spool ended early"), -1);
		if (w->mark[i] != id)
			continue;
		memcpy(w->buf + pos, rec.json.p, rec.json.n);
		memset(w->buf + pos + rec.json.n, 0, TAS_PAD);
		w->off[i] = (int64_t)pos;
		pos += rec.json.n + TAS_PAD;
		w->line[i] = rec.line;
		w->index[i] = rec.index;
		w->fid[i] = wn_intern_put(w->files, rec.file, strlen(rec.file), NULL);
		if (w->fid[i] < 0)
			return wn_errf(err, errlen, "out of memory"), -1;
	}
	return 0;
}

static int emit_plan(wn_pool *p, const wn_tas_plan *plan, const int64_t *size, wn_stream *s,
		     char *err, size_t errlen)
{
	struct tas_window w = {0};
	int rc = window_alloc(&w, p->n) ? (wn_errf(err, errlen, "out of memory"), -1) : 0;
	for (int64_t a = 0, id = 0; rc == 0 && a < plan->n; id++) {
		size_t bytes, fl;
		int64_t b = window_plan(&w, plan, size, a, id, &bytes);
		rc = window_fill(&w, p, id, bytes, err, errlen);
		for (int64_t k = a; rc == 0 && k < b; k++) {
			int64_t it = plan->item[k];
			wn_record rec = {{w.buf + w.off[it], (size_t)size[it]},
					 wn_intern_str(w.files, (size_t)w.fid[it], &fl), w.line[it], w.index[it]};
			wn_annot_clear(&s->annot);
			if (wn_annot_set_int(&s->annot, "batch", plan->batch[k]))
				rc = -1, wn_errf(err, errlen, "out of memory");
			else if (wn_stream_emit(s, &rec, &s->annot))
				rc = -1;
		}
		a = b;
	}
	window_free(&w);
	return rc;
}

static int compose_and_emit(const wn_tas_opts *o, wn_pool *p, struct tas_read *t,
			    wn_stream *s, char *err, size_t errlen)
{
	int64_t nq = (int64_t)wn_intern_count(t->keys), *off = NULL, *item = NULL;
	int64_t nb = o->batches >= 0 ? o->batches : (nq + o->batch - 1) / o->batch;
	wn_tas_plan plan = {0};
	char why[256] = "";
	int rc = group_items(t, p->n, nq, &off, &item) ? (wn_errf(err, errlen, "out of memory"), -1) : 0;
	/* the queries' clusters as the pool's dense ranks (ids may be sparse or huge) */
	for (int64_t qi = 0; rc == 0 && qi < nq; qi++)
		t->qcluster[qi] = p->cluster[item[off[qi]]];
	if (rc == 0) {
		wn_tas_queries q = {nq, t->qcluster, off, item, p->value};
		rc = wn_tas_compose(&q, o->batch, nb, (int)o->bins, (uint64_t)o->seed, &plan, why,
				    sizeof why);
		if (rc)
			wn_errf(err, errlen, "%s: %s", wn_stream_source_name(s), why);
	}
	if (rc == 0 && !o->io.quiet)
		fprintf(stderr, "winnow %s: %lld batches of up to %lld from %lld queries (%lld pairs), "
			"%lld slots\n", s->cmd, (long long)nb, (long long)o->batch, (long long)nq,
			(long long)p->n, (long long)plan.n);
	if (rc == 0)
		rc = emit_plan(p, &plan, t->size, s, err, errlen);
	wn_tas_plan_free(&plan);
	free(off);
	free(item);
	return rc;
}

int wn_tas_run(const wn_tas_opts *o, wn_stream *s, wn_step_report *rep, char *err,
	       size_t errlen)
{
	(void)rep;
	struct tas_read t = {.o = o, .keys = wn_intern_new()};
	wn_pool p;
	memset(&p, 0, sizeof p);
	int rc = t.keys ? 0 : (wn_errf(err, errlen, "out of memory"), -1);
	if (rc == 0)
		rc = wn_pool_read(&p, s, o->cluster, o->margin, "--margin", take, &t, err, errlen);
	if (rc == 0 && p.n > 0)
		rc = compose_and_emit(o, &p, &t, s, err, errlen);
	wn_pool_free(&p);
	wn_intern_free(t.keys);
	free(t.qcluster);
	free(t.qline);
	free(t.item_q);
	free(t.size);
	wn_buf_free(&t.scratch);
	return rc;
}
