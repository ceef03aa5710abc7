/*
 * embed/vectors_step.h — the `vectors export` and `vectors import` steps:
 * vectors between records and .npy files, or from a user's own field into
 * winnow.emb.
 *
 *   export --npy FILE          winnow.emb (or --from-field PATH) of each record
 *                              -> row of FILE; records pass through unchanged
 *   import --npy FILE          row i of FILE -> winnow.emb of the i-th record
 *   import --from-field PATH   the JSON array at PATH -> winnow.emb
 *
 * Owns: the alignment of rows with records, the dimension rule (every
 * vector has the first one's dimension, or --dim's), the .npy writer or
 * reader of the run. Borrows: embed/npy.h, the vector annotation format
 * of io/ (wn_vec_*), io/stream.h.
 *
 * Alignment is by order over the records the reader returns: lines the
 * reader drops under --on-error skip are not records and take no row.
 * A record rejected here (no vector, wrong dimension, NaN) still takes its
 * row on import, so the rows after it stay aligned.
 */
#ifndef WN_EMBED_VECTORS_STEP_H
#define WN_EMBED_VECTORS_STEP_H

#include "io/stream.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WN_VECTORS_MAX_DIM (1 << 16)

/* One options struct for both steps; `import` tells them apart. */
typedef struct wn_vectors_opts {
	wn_stream_opts io;
	int import;              /* set by the init of the step */
	const char *npy;         /* the .npy file */
	const char *from_field;  /* a JSON array of numbers at this dotted path */
	const char *vec_dtype;   /* f32 | f16: what is written */
	int dim;                 /* required dimension (0: the first vector's) */
} wn_vectors_opts;

void wn_vectors_export_init(wn_vectors_opts *o);
void wn_vectors_import_init(wn_vectors_opts *o);
/* 0, or -1 with a usage error in err. */
int wn_vectors_check(const wn_vectors_opts *o, char *err, size_t errlen);
/* Records -> .npy rows; the records pass through. .npy committed only when all went through. */
int wn_vectors_export_run(const wn_vectors_opts *o, wn_stream *s, wn_step_report *rep, char *err,
			  size_t errlen);
/* .npy rows (or --from-field arrays) -> winnow.emb. */
int wn_vectors_import_run(const wn_vectors_opts *o, wn_stream *s, wn_step_report *rep, char *err,
			  size_t errlen);

/* ---- shared with the embed step ---- */

/* 1 when rec can take annotations ("winnow" absent or an object). */
int wn_vectors_annotatable(const wn_record *rec);
/* Write rec with winnow.emb = v (dim floats, written as f16 or f32); b64
 * is the caller's scratch. 0, or -1 (reported, or "out of memory" in err). */
int wn_vectors_emit(wn_stream *s, const wn_record *rec, const float *v, int dim, int f16,
		    wn_buf *b64, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
