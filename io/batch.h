/*
 * io/batch.h — one block of records copied out of the reader (whose bytes
 * move on), with each record's text span, file, line and index; and a
 * read-ahead loop that fills blocks on a thread of its own while the caller
 * works on the previous block (score's scorers, the embedder, the store).
 *
 * Owns: the block's memory (wn_batch_free). Borrows: io/record.h.
 *
 * A record whose text a step cannot use may still travel in the block
 * (why != NULL): the consumer rejects it at its place in stream order.
 */
#ifndef WN_IO_BATCH_H
#define WN_IO_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "io/record.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wn_batch {
	wn_buf json, text;
	size_t n, cap;
	size_t *json_off, *json_len, *text_off, *text_len;
	const char **file;
	uint64_t *line, *index;
	const char **why;   /* per record: NULL, or why it is unusable (a static string) */
	const char **tptr;  /* filled by wn_batch_texts */
} wn_batch;

#define WN_BATCH_INIT {WN_BUF_INIT, WN_BUF_INIT, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL}

enum { WN_BATCH_KEEP_JSON = 1, WN_BATCH_KEEP_TEXT = 2 };

void wn_batch_free(wn_batch *b);
void wn_batch_clear(wn_batch *b);
/* Append a copy of the record (its bytes when KEEP_JSON) and of its text
 * (when KEEP_TEXT and why is NULL; the length is always kept). Returns 0,
 * or -1 when memory runs out (the block is unchanged). */
int wn_batch_add(wn_batch *b, const wn_record *rec, wn_span text, unsigned keep, const char *why);
int wn_batch_full(const wn_batch *b, size_t max_records, size_t max_bytes);
wn_record wn_batch_record(const wn_batch *b, size_t i);
wn_span wn_batch_text(const wn_batch *b, size_t i);
/* Text pointers of every record, valid until the block is added to. */
const char *const *wn_batch_texts(wn_batch *b);

/* ---- read-ahead ---- */

typedef struct wn_batch_source {
	/* Next record: 1, 0 at the end, -1 on a fatal error (reported). */
	int (*next)(void *ctx, wn_record *rec);
	/* Put rec into b (wn_batch_add) or reject it: 0 to go on, -1 to stop (a
	 * failure, reported), 1 to stop reading after this record: the block
	 * that holds it is still handed to consume (a step that rejects a
	 * record at its place in the block under --on-error fail). */
	int (*take)(void *ctx, wn_batch *b, const wn_record *rec);
	void *ctx;
	size_t max_records, max_bytes;  /* when a block is full */
} wn_batch_source;

/* Work on one full block: 0 to go on, -1 to stop. */
typedef int (*wn_batch_consume_fn)(void *ctx, wn_batch *b);

/*
 * Fill blocks from src on a reader thread (three blocks in flight) and hand
 * each to consume in stream order. Returns 0 when every record went through
 * (or take stopped the reading with 1 and consume accepted the last block),
 * -1 otherwise (the source, take or consume failed: already reported, or
 * "cannot start the reader thread" in err). *n_records: records taken.
 *
 * Deterministic at a failure: when the source or take fails, every block
 * that was full before the failure is still handed to consume (the block
 * being filled is dropped), so what a --stream step has written when it
 * fails does not depend on how far ahead the reader thread was.
 */
int wn_batch_run(const wn_batch_source *src, wn_batch_consume_fn consume, void *ctx,
		 uint64_t *n_records, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
