/*
 * store/dbhash.h — `winnow db hash`: one hash per table of a database,
 * over its contents in a defined order, so that a test or a user can say
 * "the same tables" without comparing files (page layout, WAL state and
 * the runs table's times differ between equal databases).
 *
 * Owns: the definition of the hash. Borrows: SQLite (read-only).
 *
 * The hash of a table is XXH3-128 over, in this order:
 *   - its columns, in byte order of their names (rowid is not a column
 *     here: equal contents stored by different run histories hash the
 *     same): per column, its name's length as 8 bytes little-endian, then
 *     the name;
 *   - its rows in rowid order; per row, per column in the order above, the
 *     value typed: one tag byte, 'n' NULL, 'i' INTEGER then the int64 as 8
 *     bytes little-endian, 'r' REAL then the IEEE-754 bits as 8 bytes
 *     little-endian, 't' TEXT or 'b' BLOB then the length as 8 bytes
 *     little-endian and the bytes.
 * The tables hashed: `table` alone, or (NULL) every table except the
 * `runs` table (times, commands) and SQLite's own, in byte order of name.
 */
#ifndef WN_STORE_DBHASH_H
#define WN_STORE_DBHASH_H

#include <stddef.h>
#include <stdio.h>

#include "io/stream.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One line per table, "<32 hex digits>  <table>\n", to out: 0, or -1 with
 * the reason in err. */
int wn_store_db_hash(const char *path, const char *table, FILE *out, char *err, size_t errlen);

typedef struct wn_dbhash_opts {
	wn_stream_opts io;
	const char *table; /* --table T (NULL: every table but runs) */
	const char *db;    /* the positional word (set by check) */
} wn_dbhash_opts;

void wn_dbhash_init(wn_dbhash_opts *o);
int wn_dbhash_check(wn_dbhash_opts *o, int *npos, const char **pos, char *err, size_t errlen);
int wn_dbhash_run(const wn_dbhash_opts *o, wn_stream *s, wn_step_report *rep, char *err,
		  size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
