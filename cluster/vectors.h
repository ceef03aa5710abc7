/*
 * cluster/vectors.h — the records of a clustering step and their vectors:
 * every record spooled (io/spool, keeping file and line), its vector taken
 * from a member (winnow.emb) or from the rows of a .npy, checked (dimension,
 * NaN/Inf, one dimension throughout) with bad records rejected under the
 * stream's policy; then the records written back in input order with the
 * step's annotation spliced in. Also the .npy load/save of whole matrices.
 *
 * Owns: the spool and the matrix, or the .npy mapping it lies in
 * (wn_cluster_vectors_free).
 * Borrows: io/stream.h, io/spool.h, embed/npy.h.
 */
#ifndef WN_CLUSTER_VECTORS_H
#define WN_CLUSTER_VECTORS_H

#include <stdint.h>

#include "io/spool.h"
#include "io/stream.h"

#define WN_CLUSTER_MAX_DIM 65536

typedef struct wn_cluster_vectors {
	wn_spool *sp;            /* every record read that was not rejected */
	float *X;                /* n x d, the vectors of the kept records */
	int64_t n, d, cap;
	unsigned char *dropped;  /* --npy: per spooled record, 1 when its row was rejected */
	int64_t nspooled;
	struct wn_embed_npy_reader *map; /* when X is its read-only mapping of the .npy */
	int64_t walk_i, walk_row; /* wn_cluster_vectors_next's place in the spool */
	/* wall seconds of the load: records read and spooled, the .npy opened and
	 * mapped (or read), its rows checked for NaN/Inf (WINNOW_TIMING) */
	double t_records, t_npy_open, t_npy_check;
} wn_cluster_vectors;

/*
 * Read the whole stream into v: vectors from the member `field_emb`, or
 * (npy != NULL) from that file's rows, one per record. Records with a bad
 * vector are rejected under the policy. Returns 0, or -1 (a policy stop,
 * already reported, or the reason in err).
 */
int wn_cluster_vectors_load(wn_cluster_vectors *v, wn_stream *s, const char *field_emb,
			    const char *npy, char *err, size_t errlen);
/*
 * The same, except that with --npy X may be the file's own pages mapped
 * read-only (no copy; v->map set): the caller must never write, realloc or
 * free X. For steps that only read the vectors (cluster kmeans, hkmeans,
 * graph); a .npy with a bad row, a float16 one, or one that cannot be
 * mapped gives a malloc'd X as above.
 */
int wn_cluster_vectors_load_mapped(wn_cluster_vectors *v, wn_stream *s, const char *field_emb,
				   const char *npy, char *err, size_t errlen);
void wn_cluster_vectors_free(wn_cluster_vectors *v);

/*
 * A pass over the kept records in input order: wn_cluster_vectors_rewind
 * (0, or -1 with the reason in err), then each wn_cluster_vectors_next gives
 * the next spooled record that has a vector (the rows --npy dropped are
 * skipped) in *rec, and its row of X (0..n-1) in *row. 1, 0 after the last
 * record, -1 with the reason in err (a spool read error, or "internal: the
 * spool ended early").
 */
int wn_cluster_vectors_rewind(wn_cluster_vectors *v, char *err, size_t errlen);
int wn_cluster_vectors_next(wn_cluster_vectors *v, wn_record *rec, int64_t *row, char *err,
			    size_t errlen);

/* Fill a's annotation for vector i (0..n): 0, or -1 when memory runs out. */
typedef int (*wn_cluster_annotate_fn)(void *ctx, int64_t i, wn_annot *a);
/* Write every kept record in input order with its annotation. */
int wn_cluster_vectors_emit(wn_cluster_vectors *v, wn_stream *s, wn_cluster_annotate_fn fn,
			    void *ctx, char *err, size_t errlen);

/* A whole float32 .npy as a malloc'd rows x cols matrix, and back. */
int wn_cluster_npy_load(const char *path, float **out, int64_t *rows, int64_t *cols, char *err,
			size_t errlen);
int wn_cluster_npy_save(const char *path, const float *m, int64_t rows, int64_t cols, char *err,
			size_t errlen);

#endif
