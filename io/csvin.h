/*
 * io/csvin.h — CSV rows to JSON records (libcsv), for `--csv` inputs.
 *
 * Owns: the header row (column names), turning each following row into one
 * JSON object of strings {"col": "value", ...} in column order, the
 * row's starting line number, and its original text (for the quarantine). Quoted fields may hold commas, quotes and
 * newlines (RFC 4180). Borrows: libcsv; io/json.h for string escaping.
 */
#ifndef WN_IO_CSVIN_H
#define WN_IO_CSVIN_H

#include <stddef.h>
#include <stdint.h>

#include "io/buf.h"

typedef struct wn_csvin wn_csvin;

wn_csvin *wn_csvin_new(void);
/* --csv-types: a cell that is a JSON number (-12, 3.5, 1e-3; not 012, +1,
 * 1., inf) becomes a number instead of a string. Off by default. */
void wn_csvin_set_types(wn_csvin *c, int on);
void wn_csvin_free(wn_csvin *c);
/*
 * Feed one input line (without its newline; `line` = its 1-based number).
 * Returns 1 when a data row was completed (its JSON object in *out, its
 * first line in *rec_line), 0 when none was, -1 on a malformed row (reason
 * in err, line in *rec_line; the row is dropped and parsing goes on).
 */
int wn_csvin_feed(wn_csvin *c, const char *p, size_t n, uint64_t line, wn_buf *out,
		  uint64_t *rec_line, char *err, size_t errlen);
/*
 * End of input: flushes a last row without newline (same returns); -1 when
 * a quoted field is still open (the row from its first line on is dropped).
 * Call it once, at the end of the input.
 */
int wn_csvin_finish(wn_csvin *c, wn_buf *out, uint64_t *rec_line, char *err, size_t errlen);
/*
 * The row that the last feed or finish returning 1 or -1 completed or
 * dropped, as it was read: its lines joined by '\n' (a CR before a line's
 * newline kept), without the last newline; blank lines before it left out.
 * Valid until the next feed.
 */
const char *wn_csvin_raw(const wn_csvin *c, size_t *n);

#endif
