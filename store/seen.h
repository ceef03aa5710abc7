/*
 * store/seen.h — the content hashes of a table's records, for `store --mode
 * append-new` (skip what is there) and `--mode append` (warn about it).
 *
 * Owns: a set of 64-bit hashes (open addressing, grows at 1/2 load).
 * Borrows: nothing. The hash of a record (wn_store_content_hash) is XXH3-64
 * of the record's bytes as stored, or, with an id field, of that field's
 * value: a string's unescaped UTF-8 bytes, any other value's JSON text;
 * a record without the field falls back to its bytes.
 */
#ifndef WN_STORE_SEEN_H
#define WN_STORE_SEEN_H

#include <stddef.h>
#include <stdint.h>

#include "io/buf.h"
#include "io/json.h"

typedef struct wn_store_seen {
	uint64_t *slot; /* 0: empty (a hash of 0 is stored as 1) */
	size_t cap, n;
} wn_store_seen;

void wn_store_seen_free(wn_store_seen *s);
/* 1 when h is in the set, 0 when not. */
int wn_store_seen_has(const wn_store_seen *s, uint64_t h);
/* Add h: 0, or -1 when memory runs out (the set is unchanged). */
int wn_store_seen_add(wn_store_seen *s, uint64_t h);

/* The content hash of a record (see above); id_field may be NULL. */
uint64_t wn_store_content_hash(wn_span record, const char *id_field, wn_buf *scratch);

#endif
