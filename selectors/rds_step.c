/*
 * selectors/rds_step.c — `winnow select rds` (see selectors/rds_step.h):
 * the target's vectors and tasks, the pool's vectors, the selection on the
 * compute core, the picks written in input order.
 */
#include "selectors/rds_step.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/vectors.h"
#include "core/core.h"
#include "io/errf.h"
#include "io/intern.h"
#include "io/json.h"
#include "io/record.h"
#include "selectors/rds.h"

void wn_rds_init(wn_rds_opts *o)
{
	memset(o, 0, sizeof *o);
	o->io = (wn_stream_opts)WN_STREAM_OPTS_INIT;
	o->budget = -1;
	o->field_emb = "winnow.emb";
}

int wn_rds_check(wn_rds_opts *o, char *err, size_t errlen)
{
	if (!o->target || !*o->target)
		return wn_errf(err, errlen, "--target FILE is required"), -1;
	if (o->budget < 1)
		return wn_errf(err, errlen, "--budget N is required (N >= 1)"), -1;
	if (!o->field_emb || !*o->field_emb)
		return wn_errf(err, errlen, "--field-emb PATH must not be empty"), -1;
	if (o->per_task && !*o->per_task)
		return wn_errf(err, errlen, "--per-task FIELD must not be empty"), -1;
	return 0;
}

/* The target: m rows of d floats, a task per row, the task names. */
struct target {
	float *Q;
	int64_t m, cap, d;
	int64_t *task;
	wn_intern *tasks;
	wn_record first;   /* where the dimension was set (file name borrowed from the reader) */
	char first_file[256];
	wn_buf scratch;
};

static int target_grow(struct target *t)
{
	if (t->m < t->cap)
		return 0;
	int64_t nc = t->cap ? 2 * t->cap : 256;
	float *q = realloc(t->Q, sizeof(float) * (size_t)(nc * t->d));
	if (q)
		t->Q = q;
	int64_t *k = realloc(t->task, sizeof(int64_t) * (size_t)nc);
	if (k)
		t->task = k;
	if (!q || !k)
		return -1;
	t->cap = nc;
	return 0;
}

/* The task name of a target record: a string's contents or a value's raw text. */
static int task_of(struct target *t, const wn_record *rec, const char *path, int64_t *id)
{
	wn_span v, name;
	if (!wn_json_get(rec->json, path, &v))
		return 0;
	if (wn_json_type_of(v) == WN_JSON_STRING) {
		if (wn_json_string(v, &t->scratch, &name))
			return 0;
	} else if (wn_json_type_of(v) == WN_JSON_NUMBER) {
		name = v;
	} else
		return 0;
	*id = wn_intern_put(t->tasks, name.p, name.n, NULL);
	return *id < 0 ? -1 : 1;
}

/* 1 kept, 0 rejected, -1 stop (err set unless the policy stopped). */
static int target_record(struct target *t, wn_stream *s, const wn_rds_opts *o,
			 const wn_record *rec, float *x, char *err, size_t errlen)
{
	wn_span val;
	char why[256] = "";
	int dim = 0;
	int64_t id = 0;
	if (!wn_json_get(rec->json, o->field_emb, &val))
		return wn_policy_reject_record(&s->policy, rec, "no vector at %s (--target)",
					       o->field_emb) ? -1 : 0;
	if (wn_vec_parse(val, x, WN_CLUSTER_MAX_DIM, &dim, why, sizeof why) || dim == 0)
		return wn_policy_reject_record(&s->policy, rec, "%s: %s (--target)", o->field_emb,
					       why[0] ? why : "empty vector") ? -1 : 0;
	if (t->d == 0) {
		t->d = dim;
		snprintf(t->first_file, sizeof t->first_file, "%s", rec->file);
		t->first = *rec;
	} else if (dim != t->d)
		return wn_policy_reject_record(&s->policy, rec, "%s has dimension %d, expected %lld "
					       "(as at %s:%llu)", o->field_emb, dim, (long long)t->d,
					       t->first_file, (unsigned long long)t->first.line) ? -1 : 0;
	int r = o->per_task ? task_of(t, rec, o->per_task, &id) : 1;
	if (r < 0 || target_grow(t))
		return wn_errf(err, errlen, "out of memory"), -1;
	if (r == 0)
		return wn_policy_reject_record(&s->policy, rec, "no task name (a string or a "
					       "number) at '%s' (--per-task)", o->per_task) ? -1 : 0;
	memcpy(t->Q + t->m * t->d, x, sizeof(float) * (size_t)t->d);
	t->task[t->m++] = id;
	return 1;
}

static int read_target(struct target *t, wn_stream *s, const wn_rds_opts *o, char *err,
		       size_t errlen)
{
	wn_reader_opts ro = {WN_FORMAT_AUTO, s->co->max_record, &s->policy, 0};
	const char *paths[1] = {o->target};
	wn_reader *r = wn_reader_open(paths, 1, &ro);
	float *x = malloc(sizeof(float) * WN_CLUSTER_MAX_DIM);
	int rc = r && x ? 0 : (wn_errf(err, errlen, "out of memory"), -1);
	wn_record rec;
	int k;
	while (rc == 0 && (k = wn_reader_next(r, &rec)) != 0)
		if (k < 0 || target_record(t, s, o, &rec, x, err, errlen) < 0)
			rc = -1;
	if (rc == 0 && t->m == 0)
		rc = -1, wn_errf(err, errlen, "%s: no target vectors", o->target);
	wn_reader_close(r);
	free(x);
	return rc;
}

/* ---- the picks ---- */

struct rds_out {
	int64_t *rank;        /* per pool row: pick order, -1 */
	const wn_rds_pick *picks;
	const wn_intern *tasks; /* NULL without --per-task */
};

static int annotate(const struct rds_out *r, int64_t i, wn_annot *a)
{
	const wn_rds_pick *p = &r->picks[r->rank[i]];
	size_t n;
	if (wn_annot_set_double(a, "rds", p->score) || wn_annot_set_int(a, "rds_rank", r->rank[i]))
		return -1;
	if (r->tasks) {
		const char *name = wn_intern_str(r->tasks, (size_t)p->task, &n);
		if (wn_annot_set_string(a, "rds_task", name, n))
			return -1;
	}
	return 0;
}

static int emit(wn_cluster_vectors *v, wn_stream *s, const struct rds_out *r, char *err,
		size_t errlen)
{
	if (wn_cluster_vectors_rewind(v, err, errlen))
		return -1;
	wn_record rec;
	int64_t i;
	int got;
	while ((got = wn_cluster_vectors_next(v, &rec, &i, err, errlen)) > 0) {
		if (r->rank[i] < 0)
			continue;
		wn_annot_clear(&s->annot);
		if (annotate(r, i, &s->annot))
			return wn_errf(err, errlen, "out of memory"), -1;
		if (wn_stream_emit(s, &rec, &s->annot))
			return -1;
	}
	return got < 0 ? -1 : 0;
}

static int select_and_emit(const wn_rds_opts *o, struct target *t, wn_cluster_vectors *v,
			   wn_stream *s, char *err, size_t errlen)
{
	if (v->d != t->d)
		return wn_errf(err, errlen, "the pool's vectors have dimension %lld, the target's %lld "
			       "(embed both with the same options)", (long long)v->d,
			       (long long)t->d), -1;
	wn_core *c = wn_core_open_named(o->io.device, o->io.threads, err, errlen);
	if (!c)
		return -1;
	int64_t np = 0, ntasks = o->per_task ? (int64_t)wn_intern_count(t->tasks) : 0;
	wn_rds_pick *picks = malloc(sizeof *picks * (size_t)v->n);
	struct rds_out r = {malloc(sizeof(int64_t) * (size_t)v->n), picks,
			    o->per_task ? t->tasks : NULL};
	int rc = picks && r.rank ? 0 : (wn_errf(err, errlen, "out of memory"), -1);
	if (rc == 0)
		rc = wn_rds_select(c, t->Q, t->m, o->per_task ? t->task : NULL, ntasks, v->X, v->n,
				   v->d, o->budget, picks, &np, err, errlen);
	wn_core_close(c);
	for (int64_t i = 0; rc == 0 && i < v->n; i++)
		r.rank[i] = -1;
	for (int64_t k = 0; rc == 0 && k < np; k++)
		r.rank[picks[k].item] = k;
	if (rc == 0 && !o->io.quiet)
		fprintf(stderr, "winnow %s: %lld picks from %lld records for %lld target vectors in "
			"%lld task%s, %lld rounds\n", s->cmd, (long long)np, (long long)v->n,
			(long long)t->m, (long long)(o->per_task ? ntasks : t->m),
			(o->per_task ? ntasks : t->m) == 1 ? "" : "s",
			np ? (long long)picks[np - 1].round + 1 : 0LL);
	if (rc == 0)
		rc = emit(v, s, &r, err, errlen);
	free(picks);
	free(r.rank);
	return rc;
}

int wn_rds_run(const wn_rds_opts *o, wn_stream *s, wn_step_report *rep, char *err,
	       size_t errlen)
{
	(void)rep;
	struct target t = {0};
	wn_cluster_vectors v;
	memset(&v, 0, sizeof v);
	t.tasks = wn_intern_new();
	int rc = t.tasks ? read_target(&t, s, o, err, errlen) : (wn_errf(err, errlen, "out of memory"), -1);
	if (rc == 0)
		rc = wn_cluster_vectors_load(&v, s, o->field_emb, NULL, err, errlen);
	if (rc == 0 && v.n > 0)
		rc = select_and_emit(o, &t, &v, s, err, errlen);
	wn_cluster_vectors_free(&v);
	free(t.Q);
	free(t.task);
	wn_intern_free(t.tasks);
	wn_buf_free(&t.scratch);
	return rc;
}
