/*
 * io/intern.h — the one string-interning table: byte strings to dense ids
 * 0, 1, 2, ... in first-seen order, and ids back to their bytes.
 *
 * Owns: copies of the strings (one arena, each NUL-terminated), their
 * offsets, and an open-addressing index of (hash, length, id). Borrows:
 * xxh3 (libxxhash) for the hash.
 *
 * Its users keep what belongs to a string in arrays indexed by the id:
 * WordPiece its token ids (text/wordpiece.c), the store the column of each
 * annotation key (store/store.c), selection and stats their group names
 * and values (selectors/subset.h's wn_sel_groups is this table).
 *
 * Why io/ and not text/: interning knows bytes, not Unicode — the keys are
 * raw JSON member names, group values and vocabulary entries, compared
 * byte for byte. io/ is the bottom-floor home of such containers (io/buf),
 * and store/ and selectors/ already build on io/; text/ uses io/ too.
 *
 * Memory: a failed allocation leaves the table as it was (every growth is
 * done before anything is written), so a caller can report it and go on
 * or free. The allocator is per table (wn_intern_new_mem) so tests can
 * make one fail; no global state. Not thread-safe for writers; concurrent
 * finds on a table nobody writes are safe.
 */
#ifndef WN_IO_INTERN_H
#define WN_IO_INTERN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wn_intern wn_intern;

/* realloc(ctx, NULL, n) allocates; free(ctx, p) releases. */
typedef struct wn_intern_mem {
	void *(*realloc)(void *ctx, void *p, size_t n);
	void (*free)(void *ctx, void *p);
	void *ctx;
} wn_intern_mem;

wn_intern *wn_intern_new(void); /* libc's allocator; NULL when out of memory */
wn_intern *wn_intern_new_mem(const wn_intern_mem *mem);
void wn_intern_free(wn_intern *t);

/*
 * The id of the n bytes at p (any bytes, NUL included), added when new;
 * *added (may be NULL) says which. -1 when memory runs out, or for a string
 * of 4 GiB or more or a table of 2^32 - 1 strings; the table is unchanged.
 */
int64_t wn_intern_put(wn_intern *t, const void *p, size_t n, int *added);

/* The id of the n bytes at p, or -1. */
int64_t wn_intern_find(const wn_intern *t, const void *p, size_t n);

size_t wn_intern_count(const wn_intern *t);

/* The bytes of id (NUL-terminated) and their length in *n; NULL (*n = 0)
 * for id >= count. Valid until the next put. */
const char *wn_intern_str(const wn_intern *t, size_t id, size_t *n);

#ifdef __cplusplus
}
#endif

#endif
