/*
 * selectors/score_step.h — what the `score <method>` steps share: reading
 * records into blocks of texts for a threaded scorer (from the step's
 * stream, from a side file such as --target or --raw, or from a spool of
 * the stream's own records), and annotating every record with the score of
 * its text as winnow.<method>.
 *
 * Owns: the passes (one read-ahead loop each, io/batch) and the rules for a
 * record's text: --field must be a string under 1 GiB, and when records are
 * annotated their "winnow" member must be an object.
 * Borrows: io/batch (blocks, read-ahead), io/stream (the policy, the
 * counts, the sink), io/spool, io/record (the side files' readers).
 *
 * Who rejects: the reading side of a pass (the read-ahead thread), the same
 * thread that makes the reader reject bad lines, so that rejections reach
 * the policy, stderr and the quarantine file from one thread, in input
 * order; the scoring side only scores and writes. Errors come back as -1
 * with the reason in err, or with err empty when already reported (a bad
 * line under --on-error fail, an unopenable file).
 */
#ifndef WN_SELECTORS_SCORE_STEP_H
#define WN_SELECTORS_SCORE_STEP_H

#include <stddef.h>
#include <stdint.h>

#include "io/batch.h"
#include "io/spool.h"
#include "io/stream.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One pass over records into blocks. Exactly one of s, r, from is the source. */
typedef struct wn_score_pass {
	wn_stream *s;        /* the step's stream: its policy rejects, its counts count */
	wn_reader *r;        /* or a reader of its own, whose unusable records go to pol */
	wn_spool *from;      /* or a spool of records already taken once (none is rejected) */
	wn_policy *pol;      /* the policy for r's unusable records */
	const char *field;   /* the text field */
	int annotating;      /* the records will be annotated: "winnow" must be an object */
	unsigned keep;       /* WN_BATCH_KEEP_JSON and/or WN_BATCH_KEEP_TEXT */
	int quiet;           /* drop unusable records silently (a pass before the reported one) */
	wn_spool *to;        /* when set, every usable record is also put here */
	char err[256];       /* the reading side's own error (not a bad record) */
} wn_score_pass;

/*
 * Run the pass: blocks of usable records to fn, on a reader thread.
 * Returns 0, or -1 with the reason in err (empty when already reported).
 * *n: usable records handed to fn.
 */
int wn_score_pass_run(wn_score_pass *p, wn_batch_consume_fn fn, void *ctx, uint64_t *n,
		      char *err, size_t errlen);

/*
 * Read a side file (the targets, --raw): JSONL, gzip or zstd, its own
 * reader under the stream's policy (a bad line there is rejected and
 * counted like one in the input; a record without text is rejected as
 * "missing text field 'NAME'"). fn gets blocks holding the texts only.
 * Returns 0, or -1 with the reason in err (empty when already reported).
 */
int wn_score_side_file(wn_stream *s, const char *path, const char *field, wn_batch_consume_fn fn,
		       void *ctx, uint64_t *n, char *err, size_t errlen);

/* Score the n texts of b (b->tptr, b->text_len after wn_batch_texts) into
 * scores: 0, or -1 with the reason in err. */
typedef int (*wn_score_fn)(void *ctx, wn_batch *b, double *scores, char *err, size_t errlen);

/*
 * Annotate every record of the stream (from NULL) or of `from`, a spool of
 * the stream's records taken in an earlier pass, with winnow.<key> = the
 * score of its text, and emit it to the stream's sink in input order.
 * Unusable records are rejected through the stream's policy (never those of
 * `from`: they were taken, and rejected, once already). Returns 0, or -1
 * with the reason in err (empty when already reported).
 */
int wn_score_annotate(wn_stream *s, wn_spool *from, const char *key, wn_score_fn fn, void *ctx,
		      char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
