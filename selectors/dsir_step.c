/*
 * selectors/dsir_step.c — the `score dsir` step (see selectors/dsir_step.h):
 * count the target, count the raw pool (--raw, or the stream in a first
 * pass), fit, then score and annotate the stream.
 *
 * The second pass hashes every feature again rather than keeping the
 * first pass's bucket ids on disk: one spool format (io/spool) instead of
 * a private id file, and the records it keeps are the ones the step emits.
 * When the input is read twice, the usable records and their text bytes are
 * tallied in both passes: a file that changed in between is an error, not
 * weights fitted on other text.
 */
#include "selectors/dsir_step.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "text/tokenize.h"
#include "io/errf.h"
#include "selectors/dsir.h"
#include "selectors/score_step.h"

#define MAX_BUCKETS (1 << 28)

void wn_score_dsir_init(wn_score_dsir_opts *o)
{
	*o = (wn_score_dsir_opts){WN_STREAM_OPTS_INIT, NULL, NULL, NULL, NULL, "sha256", 10000, 2,
				  WN_DSIR_SHA256};
}

int wn_score_dsir_check(wn_score_dsir_opts *o, char *err, size_t errlen)
{
	if (!o->target) {
		wn_errf(err, errlen, "--target FILE is required");
		return -1;
	}
	o->hash_id = wn_dsir_parse_hash(o->hash);
	if (o->hash_id < 0) {
		wn_errf(err, errlen, "unknown hash '%s' (sha256 or xxh3)", o->hash);
		return -1;
	}
	if (o->buckets < 1 || o->buckets > MAX_BUCKETS) {
		wn_errf(err, errlen, "--buckets must be 1..%d", MAX_BUCKETS);
		return -1;
	}
	if (o->ngrams < 1 || o->ngrams > 5) {
		wn_errf(err, errlen, "--ngrams must be 1..5");
		return -1;
	}
	return 0;
}

/* ---------- counting ---------- */

/* Usable records and their text bytes, to compare two reads of one input. */
struct tally {
	uint64_t texts, bytes;
};

static void tally_block(struct tally *t, const wn_batch *b)
{
	t->texts += b->n;
	for (size_t i = 0; i < b->n; i++)
		t->bytes += b->text_len[i];
}

struct count {
	wn_dsir *d;
	int set;
	struct tally seen;
	char *err;
	size_t errlen;
};

static int count_block(void *ctx, wn_batch *b)
{
	struct count *c = ctx;
	/* the texts were checked when taken: only memory can fail */
	if (wn_dsir_count(c->d, c->set, wn_batch_texts(b), b->text_len, b->n, NULL)) {
		wn_errf(c->err, c->errlen, "out of memory");
		return -1;
	}
	tally_block(&c->seen, b);
	return 0;
}

/* ---------- the raw pool ---------- */

/* Regular input files, or the previous step's spool: a source that reads the same twice. */
static int rereadable(const wn_stream *s)
{
	if (!s->in)
		return s->in_spool != NULL;
	for (int i = 0; i < wn_reader_ninputs(s->in); i++) {
		const char *path = wn_reader_input_name(s->in, i);
		struct stat st;
		if (!strcmp(path, "-") || stat(path, &st) || !S_ISREG(st.st_mode))
			return 0;
	}
	return 1;
}

/* First of two reads: count the stream's source as the raw pool, bad lines
 * and unusable records dropped quietly (the scoring pass reports them, once). */
static int count_quietly(const wn_score_dsir_opts *o, wn_stream *s, struct count *c, char *err,
			 size_t errlen)
{
	wn_score_pass p = {.field = o->io.field, .annotating = 1, .keep = WN_BATCH_KEEP_TEXT,
			   .quiet = 1};
	if (!s->in) {
		p.from = s->in_spool;
		return wn_score_pass_run(&p, count_block, c, NULL, err, errlen) ||
		       wn_spool_rewind(s->in_spool, err, errlen) ? -1 : 0;
	}
	int n = wn_reader_ninputs(s->in);
	const char **paths = malloc((size_t)n * sizeof *paths);
	if (!paths) {
		wn_errf(err, errlen, "out of memory");
		return -1;
	}
	for (int i = 0; i < n; i++)
		paths[i] = wn_reader_input_name(s->in, i);
	wn_policy quiet = {s->cmd, WN_ON_ERROR_SKIP, NULL, NULL, 0, 1, 0};
	wn_reader_opts ro = {o->io.csv ? WN_FORMAT_CSV : WN_FORMAT_AUTO, o->io.max_record, &quiet, o->io.csv_types};
	int rc = -1;
	if (!(p.r = wn_reader_open(paths, n, &ro)))
		wn_errf(err, errlen, "out of memory");
	else
		rc = wn_score_pass_run(&p, count_block, c, NULL, err, errlen);
	wn_reader_close(p.r);
	free(paths);
	return rc;
}

/* The stream cannot be read twice: count it and keep its usable records in
 * a spool (the stream's policy rejects the others here, once). */
static int count_into_spool(const wn_score_dsir_opts *o, wn_stream *s, struct count *c,
			    wn_spool **spool, char *err, size_t errlen)
{
	if (!(*spool = wn_spool_new(0, err, errlen)))
		return -1;
	wn_score_pass p = {.s = s, .field = o->io.field, .annotating = 1, .keep = WN_BATCH_KEEP_TEXT,
			   .to = *spool};
	return wn_score_pass_run(&p, count_block, c, NULL, err, errlen);
}

/* ---------- scoring ---------- */

struct score {
	wn_dsir *d;
	int *status;
	size_t cap;
	struct tally seen;
};

static int dsir_block(void *ctx, wn_batch *b, double *scores, char *err, size_t errlen)
{
	struct score *sc = ctx;
	if (b->n > sc->cap) {
		int *q = realloc(sc->status, b->n * sizeof *q);
		if (!q) {
			wn_errf(err, errlen, "out of memory");
			return -1;
		}
		sc->status = q;
		sc->cap = b->n;
	}
	int rc = wn_dsir_score(sc->d, (const char *const *)b->tptr, b->text_len, b->n, scores,
			       sc->status);
	if (rc == WN_TOK_ENOMEM || rc == -1) {
		wn_errf(err, errlen, rc == -1 ? "not fitted" : "out of memory");
		return -1;
	}
	for (size_t i = 0; rc && i < b->n; i++)
		if (sc->status[i]) {
			wn_errf(err, errlen, "%s:%llu: %s", b->file[i], (unsigned long long)b->line[i],
				wn_tok_strerror(sc->status[i]));
			return -1;
		}
	tally_block(&sc->seen, b);
	return 0;
}

/* ---------- the step ---------- */

/* Count the target and the raw pool; *spool is set when the stream went into one. */
static int count_sets(const wn_score_dsir_opts *o, wn_stream *s, wn_dsir *d, struct tally *raw,
		      wn_spool **spool, char *err, size_t errlen)
{
	struct count tc = {d, WN_DSIR_TARGET, {0, 0}, err, errlen};
	const char *field = o->target_field ? o->target_field : o->io.field;
	if (wn_score_side_file(s, o->target, field, count_block, &tc, NULL, err, errlen))
		return -1;
	if (tc.seen.texts == 0) {
		wn_errf(err, errlen, "%s: no target texts", o->target);
		return -1;
	}
	struct count rc = {d, WN_DSIR_RAW, {0, 0}, err, errlen};
	int r;
	if (o->raw)
		r = wn_score_side_file(s, o->raw, o->raw_field ? o->raw_field : o->io.field,
				       count_block, &rc, NULL, err, errlen);
	else if (rereadable(s))
		r = count_quietly(o, s, &rc, err, errlen);
	else
		r = count_into_spool(o, s, &rc, spool, err, errlen);
	*raw = rc.seen;
	return r;
}

int wn_score_dsir_run(const wn_score_dsir_opts *o, wn_stream *s, wn_step_report *rep, char *err,
		      size_t errlen)
{
	(void)rep;
	wn_dsir_opts dopt = {(uint32_t)o->buckets, o->hash_id, o->ngrams, o->io.threads};
	wn_dsir *d = wn_dsir_new(&dopt, err, errlen);
	if (!d)
		return -1;
	wn_spool *spool = NULL;
	struct tally raw;
	struct score sc = {d, NULL, 0, {0, 0}};
	int rc = count_sets(o, s, d, &raw, &spool, err, errlen);
	if (!rc && wn_dsir_fit(d, err, errlen)) {
		if (!wn_dsir_total(d, WN_DSIR_RAW))
			wn_errf(err + strlen(err), errlen - strlen(err), " (empty input?)");
		rc = -1;
	}
	if (!rc)
		rc = wn_score_annotate(s, spool, "dsir", dsir_block, &sc, err, errlen);
	if (!rc && !o->raw && !spool &&
	    (sc.seen.texts != raw.texts || sc.seen.bytes != raw.bytes)) {
		wn_errf(err, errlen, "the input changed between the two passes (%llu texts counted, %llu scored)",
			(unsigned long long)raw.texts, (unsigned long long)sc.seen.texts);
		rc = -1;
	}
	free(sc.status);
	wn_spool_free(spool);
	wn_dsir_free(d);
	return rc;
}
