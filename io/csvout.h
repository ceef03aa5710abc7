/*
 * io/csvout.h — records to CSV (RFC 4180) for `--to csv`.
 *
 * Owns: the column list and the header row, and quoting. The columns are
 * given (--columns a,b,winnow.cluster: dotted paths allowed), or learnt
 * from every record: the union of the top-level fields in order of first
 * appearance, with winnow's own member spread into one column per
 * annotation (winnow.cluster, winnow.zipfit, ...) so that nothing is dropped
 * silently and no cell holds the whole member. Vectors (an annotation that
 * is an object with "b64") are left out unless asked for (vectors = 1).
 * Strings are written unescaped; numbers, booleans, objects and arrays as
 * their JSON text; null and missing fields as empty cells.
 * Borrows: io/json.h, io/record.h (the writer), io/intern.h (the column set).
 */
#ifndef WN_IO_CSVOUT_H
#define WN_IO_CSVOUT_H

#include "io/record.h"

typedef struct wn_csvout wn_csvout;

/* columns: "a,b,c", or NULL to learn them with wn_csvout_learn. */
wn_csvout *wn_csvout_new(const char *columns, int vectors);
/* Add the record's fields that are not columns yet (learnt columns only).
 * 0, or -1 when memory runs out. Call it for every record before the first
 * wn_csvout_record (a first pass over a spool). */
int wn_csvout_learn(wn_csvout *c, wn_span rec);
int wn_csvout_record(wn_csvout *c, wn_writer *w, wn_span rec);
/* Writes the header when no record came (only when columns were given). */
int wn_csvout_finish(wn_csvout *c, wn_writer *w);
void wn_csvout_free(wn_csvout *c);
/* Append one CSV cell (quoted when it holds , " CR or LF) to out. */
int wn_csv_put_cell(wn_buf *out, const char *s, size_t n);

#endif
