/*
 * store/store_step.c — the `store` step (see store/store_step.h): the
 * options' rules, the write loop over the stream, the provenance of the
 * runs row (from the reader's inputs or the runner's), the append-twice
 * warning, and the rule that an empty run leaves the table as it was.
 *
 * Under --on-error fail a bad record stops the run before COMMIT, so the
 * database is left exactly as it was (a database this run created is
 * removed again). A run with no records to store fails too, unless
 * --allow-empty: in `a | b | winnow store` an upstream stage that fails
 * writes nothing, and an empty input must not wipe yesterday's table.
 */
#include "store/store_step.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "io/batch.h"
#include "io/errf.h"
#include "io/json.h"
#include "store/seen.h"
#include "store/store.h"

void wn_store_step_init(wn_store_step_opts *o)
{
	*o = (wn_store_step_opts){WN_STREAM_OPTS_INIT, WN_STORE_DEFAULT_TABLE, "replace", NULL, 5000,
				  0, NULL, NULL, NULL, WN_STORE_REPLACE, NULL, "record",
				  WN_STORE_VEC_RECORD};
}

int wn_store_step_check(wn_store_step_opts *o, int *npos, const char **pos, char *err,
			size_t errlen)
{
	char why[512];
	if (*npos < 1) {
		wn_errf(err, errlen, "missing the database path");
		return -1;
	}
	o->mode_value = wn_store_parse_mode(o->mode);
	if (o->mode_value < 0) {
		wn_errf(err, errlen, "--mode must be replace or append, not '%s'", o->mode);
		return -1;
	}
	if (o->id_field && o->mode_value == WN_STORE_REPLACE) {
		wn_errf(err, errlen, "--id applies to --mode append and append-new");
		return -1;
	}
	o->vectors_value = wn_store_parse_vectors(o->vectors);
	if (o->vectors_value < 0) {
		wn_errf(err, errlen, "--vectors must be record, both or drop, not '%s'", o->vectors);
		return -1;
	}
	if (wn_store_check_table(o->table, why, sizeof why)) {
		wn_errf(err, errlen, "--table: %s", why);
		return -1;
	}
	o->db = pos[0];
	memmove(pos, pos + 1, (size_t)(*npos - 1) * sizeof *pos);
	(*npos)--;
	return 0;
}

void wn_store_step_release(wn_store_step_opts *o)
{
	free(o->command);
	o->command = NULL;
}

/*
 * The write loop: io/batch's reader thread reads the stream, takes each
 * record's text and rejects what cannot be stored (in stream order, with
 * the reader's own rejections), and fills blocks; this thread, which owns
 * the SQLite connection, inserts each block's rows in order.
 */
#define BLOCK_RECORDS 2048
#define BLOCK_BYTES (1u << 20)

struct store_loop {
	wn_store_step_opts *o;
	wn_stream *s;
	wn_store *st;
	wn_buf scratch; /* the reader thread's */
	char *err;      /* this thread's reason */
	size_t errlen;
	char take_err[128]; /* the reader thread's reason */
};

static int loop_next(void *arg, wn_record *rec)
{
	return wn_stream_next(((struct store_loop *)arg)->s, rec);
}

static int loop_take(void *arg, wn_batch *b, const wn_record *rec)
{
	struct store_loop *l = arg;
	wn_span text;
	const char *why;
	char e[512];
	if (wn_stream_text(l->s, rec, &l->scratch, &text, &why))
		return wn_stream_reject(l->s, rec, "%s", why) ? -1 : 0;
	if (wn_store_check_record(rec->json, &l->scratch, e, sizeof e))
		return wn_stream_reject(l->s, rec, "%s", e) ? -1 : 0;
	if (wn_batch_add(b, rec, text, WN_BATCH_KEEP_JSON | WN_BATCH_KEEP_TEXT, NULL)) {
		wn_errf(l->take_err, sizeof l->take_err, "out of memory");
		return -1;
	}
	return 0;
}

static int loop_insert(void *arg, wn_batch *b)
{
	struct store_loop *l = arg;
	char e[512];
	for (size_t i = 0; i < b->n; i++) {
		wn_record rec = wn_batch_record(b, i);
		if (wn_store_add(l->st, rec.json, wn_batch_text(b, i), e, sizeof e)) {
			wn_errf(l->err, l->errlen, "%s: %s", l->o->db, e);
			return -1;
		}
	}
	return 0;
}

/* Store every record; 0 when the stream ended cleanly, else -1 (reason
 * printed by the policy, or in err). */
static int store_records(wn_store_step_opts *o, wn_stream *s, wn_store *st, char *err,
			 size_t errlen)
{
	struct store_loop l = {o, s, st, WN_BUF_INIT, err, errlen, ""};
	wn_batch_source src = {loop_next, loop_take, &l, BLOCK_RECORDS, BLOCK_BYTES};
	char e[512] = "";
	err[0] = 0;
	int rc = wn_batch_run(&src, loop_insert, &l, NULL, e, sizeof e);
	if (rc && !err[0] && (e[0] || l.take_err[0]))
		wn_errf(err, errlen, "%s", e[0] ? e : l.take_err);
	wn_buf_free(&l.scratch);
	if (rc)
		s->failed = 1;
	return rc || s->failed ? -1 : 0;
}

/* The inputs for runs: the reader's when reading files, else the runner's. */
static int add_inputs(const wn_store_step_opts *o, const wn_stream *s, wn_store *st)
{
	int bad = 0;
	if (s->in)
		for (int i = 0; i < wn_reader_ninputs(s->in) && !bad; i++)
			bad = wn_store_add_input(st, wn_reader_input_name(s->in, i),
						 wn_reader_input_size(s->in, i),
						 wn_reader_input_hash(s->in, i));
	else if (o->prov)
		for (size_t i = 0; i < o->prov->ninputs && !bad; i++)
			bad = wn_store_add_input(st, o->prov->inputs[i].name, o->prov->inputs[i].size,
						 o->prov->inputs[i].xxh3);
	return bad;
}

static void warn_seen(const wn_store_step_opts *o, const wn_stream *s, const char *name,
		      uint64_t xxh3, int64_t run)
{
	fprintf(stderr, "winnow %s: %s: warning: input '%s' (xxh3 %016llx) was already stored in "
		"table '%s' by run %lld; its records are now there twice\n", s->cmd, o->db, name,
		(unsigned long long)xxh3, o->table, (long long)run);
}

/* --mode append: one warning per input already stored in the table
 * (*warned: how many). */
static int check_appended(const wn_store_step_opts *o, const wn_stream *s, wn_store *st,
			  int *warned, char *err, size_t errlen)
{
	int n = s->in ? wn_reader_ninputs(s->in) : o->prov ? (int)o->prov->ninputs : 0;
	char e[512];
	for (int i = 0; i < n && o->mode_value == WN_STORE_APPEND && wn_store_rows(st); i++) {
		const char *name = s->in ? wn_reader_input_name(s->in, i) : o->prov->inputs[i].name;
		uint64_t h = s->in ? wn_reader_input_hash(s->in, i) : o->prov->inputs[i].xxh3;
		int64_t run;
		int seen = wn_store_input_seen(st, h, &run, e, sizeof e);
		if (seen < 0) {
			wn_errf(err, errlen, "%s: %s", o->db, e);
			return -1;
		}
		if (seen) {
			warn_seen(o, s, name, h, run);
			(*warned)++;
		}
	}
	return 0;
}

static double since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) * 1e-9;
}

/* runs.extra for a recipe: the recipe and every step's report, this one last. */
static int set_extra(const wn_store_step_opts *o, const wn_stream *s, wn_store *st,
		     const struct timespec *t0)
{
	if (!o->prov)
		return 0;
	wn_step_report self = {s->cmd, s->in_count + s->policy.rejected - s->step_rejected,
			       wn_store_rows(st), s->policy.rejected, 0, since(t0), 1, 0};
	wn_buf b = WN_BUF_INIT;
	int bad = wn_store_step_extra(&b, o->prov, &self) || wn_store_set_extra(st, wn_buf_cstr(&b));
	wn_buf_free(&b);
	return bad;
}

/* What the append modes found already in the table, on stderr. */
static void report_present(const wn_store_step_opts *o, const wn_stream *s, uint64_t n)
{
	if (o->mode_value == WN_STORE_APPEND_NEW && !s->co->quiet)
		fprintf(stderr, "winnow %s: %s: append-new: %llu records already in table '%s' skipped\n",
			s->cmd, o->db, (unsigned long long)n, o->table);
	if (o->mode_value == WN_STORE_APPEND && n)
		fprintf(stderr, "winnow %s: %s: warning: %llu of the records appended were already in "
			"table '%s' (same content hash); they are now there twice (--mode append-new "
			"skips them)\n", s->cmd, o->db, (unsigned long long)n, o->table);
}

/* A shell pipeline (WINNOW_PROVENANCE): its upstream steps' lines as
 * runs.extra {"pipeline":[...]} (the raw lines into *taken). */
static int set_pipeline(const wn_store_step_opts *o, const wn_stream *s, wn_store *st,
			wn_buf *taken, char *err, size_t errlen)
{
	if (o->prov || !s->provenance)
		return 0;
	wn_buf arr = WN_BUF_INIT, extra = WN_BUF_INIT;
	char e[512] = "";
	long n = wn_stream_provenance_read(s->provenance, &arr, taken, e, sizeof e);
	int bad = n < 0;
	if (bad)
		wn_errf(err, errlen, "WINNOW_PROVENANCE: %s", e);
	else if (n > 0 && (wn_buf_puts(&extra, "{\"pipeline\":") ||
			   wn_buf_append(&extra, arr.data, arr.len) || wn_buf_putc(&extra, '}') ||
			   wn_store_set_extra(st, wn_buf_cstr(&extra)))) {
		wn_errf(err, errlen, "out of memory");
		bad = 1;
	}
	wn_buf_free(&arr);
	wn_buf_free(&extra);
	return bad ? -1 : 0;
}

static int commit_run(wn_store_step_opts *o, wn_stream *s, wn_store *st,
		      const struct timespec *t0, wn_step_report *rep, char *err, size_t errlen)
{
	uint64_t present = wn_store_present(st);
	if (o->mode_value == WN_STORE_APPEND_NEW && present && wn_store_rows(st) == 0 &&
	    !o->allow_empty) {
		report_present(o, s, present);
		wn_store_abort(st);
		if (!s->co->quiet)
			fprintf(stderr, "winnow %s: %s: nothing new to do: every record is already in "
				"table '%s'\n", s->cmd, o->db, o->table);
		rep->nothing_new = 1;
		return 0;
	}
	if (!o->allow_empty && wn_store_rows(st) == 0) {
		wn_errf(err, errlen, "%s: no records to store; table '%s' left as it was "
			"(--allow-empty stores an empty table)", o->db, o->table);
		wn_store_abort(st);
		return -1;
	}
	int warned = 0;
	if (check_appended(o, s, st, &warned, err, errlen)) {
		wn_store_abort(st);
		return -1;
	}
	if (add_inputs(o, s, st) || set_extra(o, s, st, t0)) {
		wn_errf(err, errlen, "out of memory");
		wn_store_abort(st);
		return -1;
	}
	wn_buf taken = WN_BUF_INIT;
	if (set_pipeline(o, s, st, &taken, err, errlen)) {
		wn_buf_free(&taken);
		wn_store_abort(st);
		return -1;
	}
	uint64_t rows = wn_store_rows(st);
	char e[512];
	if (wn_store_commit(st, s->in_count, s->policy.rejected, NULL, e, sizeof e)) {
		wn_errf(err, errlen, "%s: %s", o->db, e);
		wn_buf_free(&taken);
		return -1;
	}
	/* committed: the lines are the run's now, not the next one's */
	if (taken.len && wn_stream_provenance_consume(s->provenance, &taken, e, sizeof e))
		fprintf(stderr, "winnow %s: warning: WINNOW_PROVENANCE: %s\n", s->cmd, e);
	wn_buf_free(&taken);
	s->out_count = rows;
	/* an input already stored has said it for its records */
	report_present(o, s, warned ? 0 : present);
	return 0;
}

int wn_store_step_run(wn_store_step_opts *o, wn_stream *s, wn_step_report *rep, char *err,
		      size_t errlen)
{
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	const char *command = o->prov && o->prov->command ? o->prov->command
			      : o->command                 ? o->command
							   : s->command;
	wn_store_opts so = {o->table, o->mode_value, o->busy_timeout_ms, command, o->seed, NULL,
			    o->id_field, o->vectors_value};
	char e[512];
	wn_store *st = wn_store_begin(o->db, &so, e, sizeof e);
	if (!st) {
		wn_errf(err, errlen, "%s: %s", o->db, e);
		return -1;
	}
	if (store_records(o, s, st, err, errlen)) {
		wn_store_abort(st);
		return -1;
	}
	return commit_run(o, s, st, &t0, rep, err, errlen);
}

static int put_report(wn_buf *b, const wn_step_report *r)
{
	const char *name = r->step ? r->step : "";
	return wn_buf_puts(b, "{\"step\":") || wn_json_put_string(b, name, strlen(name)) ||
	       wn_buf_printf(b, ",\"in\":%llu,\"out\":%llu,\"rejected\":%llu,\"seconds\":%.6f}",
			     (unsigned long long)r->in, (unsigned long long)r->out,
			     (unsigned long long)r->rejected, r->seconds);
}

static int put_str_member(wn_buf *b, const char *key, const char *v)
{
	return wn_buf_printf(b, "\"%s\":", key) ||
	       (v ? wn_json_put_string(b, v, strlen(v)) : wn_buf_puts(b, "null"));
}

int wn_store_step_extra(wn_buf *out, const wn_store_provenance *p, const wn_step_report *self)
{
	int bad = wn_buf_puts(out, "{\"recipe\":{") || put_str_member(out, "file", p->recipe) ||
		  wn_buf_putc(out, ',') || put_str_member(out, "sha256", p->recipe_sha256) ||
		  wn_buf_putc(out, ',') || put_str_member(out, "text", p->recipe_text) ||
		  wn_buf_puts(out, "},\"steps\":[");
	for (size_t i = 0; i < p->nsteps && !bad; i++)
		bad = put_report(out, &p->steps[i]) || wn_buf_putc(out, ',');
	return bad || put_report(out, self) || wn_buf_puts(out, "]}");
}

int wn_store_step_check_v(void *o, int *npos, const char **pos, char *err, size_t errlen)
{
	return wn_store_step_check(o, npos, pos, err, errlen);
}

int wn_store_step_run_v(void *o, wn_stream *s, wn_step_report *rep, char *err, size_t errlen)
{
	return wn_store_step_run(o, s, rep, err, errlen);
}

void wn_store_step_release_v(void *o)
{
	wn_store_step_release(o);
}
