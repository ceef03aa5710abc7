/*
 * selectors/score_step.c — the passes and the annotation shared by the
 * `score <method>` steps (see selectors/score_step.h).
 *
 * Why a reader thread: reading, validating and unescaping records is serial
 * work; scoring a block is parallel. io/batch fills the next block while
 * the scorer works on the current one, so the serial part hides behind the
 * parallel one instead of adding to it.
 */
#include "selectors/score_step.h"

#include <stdlib.h>
#include <string.h>

#include "io/errf.h"

#define BLOCK_RECORDS 32768
#define BLOCK_BYTES (4u << 20)
#define TEXT_LIMIT ((size_t)1 << 30)

/* The text of `field`, or the reason why the record has none. */
static const char *record_text(const wn_score_pass *p, const wn_record *rec, wn_buf *scratch,
			       wn_span *text)
{
	wn_span v;
	if (!wn_json_get(rec->json, p->field, &v))
		return "missing text field";
	if (wn_json_string(v, scratch, text))
		return "text field is not a string";
	if (text->n >= TEXT_LIMIT)
		return "text too large (1 GiB or more)";
	if (p->annotating && wn_json_get(rec->json, "winnow", &v) &&
	    wn_json_type_of(v) != WN_JSON_OBJECT)
		return "\"winnow\" is not an object";
	return NULL;
}

struct pass_ctx {
	wn_score_pass *p;
	wn_buf scratch;
};

static int pass_next(void *arg, wn_record *rec)
{
	wn_score_pass *p = ((struct pass_ctx *)arg)->p;
	if (p->s)
		return wn_stream_next(p->s, rec);
	if (p->r)
		return wn_reader_next(p->r, rec);
	return wn_spool_get(p->from, rec, p->err, sizeof p->err);
}

/* An unusable record: dropped (quiet), or rejected under the source's policy. */
static int pass_reject(wn_score_pass *p, const wn_record *rec, const char *why)
{
	if (p->quiet)
		return 0;
	if (p->s)
		return wn_stream_reject(p->s, rec, "%s", why);
	if (p->r)
		return wn_policy_reject_record(p->pol, rec, "%s '%s'", why, p->field);
	wn_errf(p->err, sizeof p->err, "%s:%llu: %s (in a spooled record)", rec->file,
		(unsigned long long)rec->line, why);
	return -1;
}

static int pass_take(void *arg, wn_batch *b, const wn_record *rec)
{
	struct pass_ctx *c = arg;
	wn_score_pass *p = c->p;
	wn_span text;
	const char *why = record_text(p, rec, &c->scratch, &text);
	if (why)
		return pass_reject(p, rec, why) ? -1 : 0;
	if (p->to && wn_spool_put(p->to, rec, p->err, sizeof p->err))
		return -1;
	if (wn_batch_add(b, rec, text, p->keep, NULL)) {
		wn_errf(p->err, sizeof p->err, "out of memory");
		return -1;
	}
	return 0;
}

int wn_score_pass_run(wn_score_pass *p, wn_batch_consume_fn fn, void *ctx, uint64_t *n,
		      char *err, size_t errlen)
{
	struct pass_ctx c = {p, WN_BUF_INIT};
	wn_batch_source src = {pass_next, pass_take, &c, BLOCK_RECORDS, BLOCK_BYTES};
	p->err[0] = 0;
	if (errlen)
		err[0] = 0;
	int rc = wn_batch_run(&src, fn, ctx, n, err, errlen);
	/* the consumer's reason (in err) first, else the reading side's */
	if (rc && !err[0] && p->err[0])
		wn_errf(err, errlen, "%s", p->err);
	wn_buf_free(&c.scratch);
	return rc;
}

int wn_score_side_file(wn_stream *s, const char *path, const char *field, wn_batch_consume_fn fn,
		       void *ctx, uint64_t *n, char *err, size_t errlen)
{
	wn_reader_opts ro = {WN_FORMAT_AUTO, s->co->max_record, &s->policy, 0};
	const char *paths[1] = {path};
	wn_reader *r = wn_reader_open(paths, 1, &ro);
	if (!r) {
		wn_errf(err, errlen, "out of memory");
		return -1;
	}
	wn_score_pass p = {.r = r, .pol = &s->policy, .field = field, .keep = WN_BATCH_KEEP_TEXT};
	int rc = wn_score_pass_run(&p, fn, ctx, n, err, errlen);
	wn_reader_close(r);
	return rc;
}

/* ---------- annotating ---------- */

struct annotate {
	wn_stream *s;
	const char *key;
	wn_score_fn score;
	void *ctx;
	double *scores;
	size_t cap;
	char *err;
	size_t errlen;
};

static int grow_scores(struct annotate *an, size_t n)
{
	if (n <= an->cap)
		return 0;
	double *q = realloc(an->scores, n * sizeof *q);
	if (!q)
		return -1;
	an->scores = q;
	an->cap = n;
	return 0;
}

/* Score a block and write its records with winnow.<key>. */
static int annotate_block(void *arg, wn_batch *b)
{
	struct annotate *an = arg;
	wn_stream *s = an->s;
	if (grow_scores(an, b->n)) {
		wn_errf(an->err, an->errlen, "out of memory");
		return -1;
	}
	wn_batch_texts(b);
	if (an->score(an->ctx, b, an->scores, an->err, an->errlen))
		return -1;
	for (size_t i = 0; i < b->n; i++) {
		wn_record rec = wn_batch_record(b, i);
		wn_annot_clear(&s->annot);
		if (wn_annot_set_double(&s->annot, an->key, an->scores[i])) {
			wn_errf(an->err, an->errlen, "out of memory");
			return -1;
		}
		if (wn_stream_emit(s, &rec, &s->annot))
			return -1; /* reported by the stream */
	}
	return 0;
}

int wn_score_annotate(wn_stream *s, wn_spool *from, const char *key, wn_score_fn fn, void *ctx,
		      char *err, size_t errlen)
{
	struct annotate an = {s, key, fn, ctx, NULL, 0, err, errlen};
	wn_score_pass p = {.s = from ? NULL : s, .from = from, .field = s->co->field,
			   .annotating = 1, .keep = WN_BATCH_KEEP_JSON | WN_BATCH_KEEP_TEXT};
	int rc = wn_score_pass_run(&p, annotate_block, &an, NULL, err, errlen);
	free(an.scores);
	return rc || s->failed ? -1 : 0;
}
