/*
 * selectors/dedup_index.h — the saved index of `dedup minhash`
 * (--save-index DB, --against DB): one SQLite file holding the parameters
 * of the run that built it and, for every document it kept, its name, its
 * LSH band hashes and its shingle digests (so that a later batch's
 * candidates are verified by exact Jaccard, as within a run).
 *
 * Schema (format "winnow-minhash-index 1"):
 *   params(key TEXT PRIMARY KEY, value TEXT)   format, ngram, perms, bands,
 *                                              rows, seed, threshold (%.17g)
 *   docs(id INTEGER PRIMARY KEY, name TEXT,    name: raw JSON (the record's
 *        shingles BLOB)                        --id value, or "FILE:LINE");
 *                                              shingles: the sorted distinct
 *                                              64-bit digests, little-endian
 *   bands(band INTEGER, hash INTEGER,          hash: the 64-bit band hash as
 *         doc INTEGER), index (band, hash)     a signed integer (same bits)
 *
 * Owns: its sqlite3 handles and statements; the writer's temporary file
 * (beside the target, renamed over it on commit, removed on abort).
 * Borrows: libsqlite3.
 */
#ifndef WN_SELECTORS_DEDUP_INDEX_H
#define WN_SELECTORS_DEDUP_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "io/buf.h"

typedef struct wn_dedup_index_params {
	int ngram, perms, bands, rows;
	uint64_t seed;
	double threshold;
} wn_dedup_index_params;

typedef struct wn_dedup_index wn_dedup_index;

/*
 * Open DB for reading and compare its parameters with p. NULL with one
 * line in err: cannot open, not an index, or the first parameter that
 * differs ("idx.db: the index was built with ngram 3, this run uses ngram
 * 5 (an index answers only runs with its own ngram, perms, bands, rows,
 * seed and threshold)").
 */
wn_dedup_index *wn_dedup_index_open(const char *path, const wn_dedup_index_params *p,
				    char *err, size_t errlen);
void wn_dedup_index_close(wn_dedup_index *x);
int64_t wn_dedup_index_docs(const wn_dedup_index *x);

/*
 * The distinct documents sharing at least one band hash with bands[0..nb)
 * (band j at position j), ascending, into *docs (realloc'd, *cap its
 * capacity). Returns how many, or -1 with err.
 */
long wn_dedup_index_candidates(wn_dedup_index *x, const uint64_t *bands, int nb, int64_t **docs,
			       size_t *cap, char *err, size_t errlen);

/* Document `doc`'s shingle digests into *set (realloc'd, *cap) and n, and
 * its name into name when non-NULL. 0, or -1 with err. */
int wn_dedup_index_doc(wn_dedup_index *x, int64_t doc, uint64_t **set, size_t *cap, size_t *n,
		       wn_buf *name, char *err, size_t errlen);

typedef struct wn_dedup_index_writer wn_dedup_index_writer;

/*
 * A new index for `path` (written beside it, published by commit). When
 * `from` is given (an index already opened and checked for the same
 * parameters), its documents are copied in first, so a nightly run can
 * write yesterday's index plus today's kept documents.
 */
wn_dedup_index_writer *wn_dedup_index_create(const char *path, const wn_dedup_index_params *p,
					     const char *from, char *err, size_t errlen);
int wn_dedup_index_add(wn_dedup_index_writer *w, const char *name, size_t nname,
		       const uint64_t *bands, int nb, const uint64_t *set, size_t n, char *err,
		       size_t errlen);
/* Build the band index, close, rename over path. Frees w either way. */
int wn_dedup_index_commit(wn_dedup_index_writer *w, char *err, size_t errlen);
void wn_dedup_index_abort(wn_dedup_index_writer *w);

#endif
