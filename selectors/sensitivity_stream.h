/*
 * selectors/sensitivity_stream.h — the records of `score leverage` and
 * `score lewis` as a wn_sens_source (selectors/sensitivity.h) that streams:
 * the first pass reads the step's input, checks each record's vector
 * (winnow.emb or the next row of --npy; bad ones rejected under the
 * policy, with the messages of cluster/vectors.h) and spools the record
 * (io/spool.h: memory, then an unlinked file); every later pass rereads the
 * spool and parses the vectors again, except the emitting pass, which
 * needs only the records. A batch holds wn_sens_batch_rows(d)
 * vectors and copies of their records, so memory is O(d × batch + the
 * batch's record bytes), never O(n·d). The sink writes the batch's records
 * with their scores under winnow.<key>, in input order.
 *
 * Owns: the spool, the batch, the .npy reader. Borrows: the stream.
 */
#ifndef WN_SELECTORS_SENSITIVITY_STREAM_H
#define WN_SELECTORS_SENSITIVITY_STREAM_H

#include "io/stream.h"
#include "selectors/sensitivity.h"

typedef struct wn_sens_stream wn_sens_stream;

/*
 * Open over stream s and read up to the first usable vector (to learn d).
 * Returns 0 with *out set (*out NULL: the input has no usable vector, nothing
 * to score), or -1: a policy stop (err empty, already reported) or a reason.
 */
int wn_sens_stream_open(wn_stream *s, const char *field, const char *npy, const char *key,
			wn_sens_stream **out, char *err, size_t errlen);
void wn_sens_stream_free(wn_sens_stream *t);
/* The source (d, rewind, next) and the sink (writes records + scores). */
void wn_sens_stream_source(wn_sens_stream *t, wn_sens_source *src);
int wn_sens_stream_sink(void *ctx, const double *scores, int64_t rows, char *err, size_t errlen);
/* Vectors read (after the first pass). */
int64_t wn_sens_stream_count(const wn_sens_stream *t);
/* 1 when a failure came from the source or sink (input, spool, policy), not the numbers. */
int wn_sens_stream_own_error(const wn_sens_stream *t);

#endif
