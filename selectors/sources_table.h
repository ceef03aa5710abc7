/*
 * selectors/sources_table.h — the pilots files of `winnow sources qqt` and
 * `winnow sources plan`: plain text, one measurement a line, fields split
 * by spaces, tabs or commas; blank lines and lines starting with '#' are
 * skipped. Owns nothing it hands out: each row's tokens live until the
 * callback returns.
 */
#ifndef WN_SELECTORS_SOURCES_TABLE_H
#define WN_SELECTORS_SOURCES_TABLE_H

#include <stddef.h>
#include <stdint.h>

#define WN_SRC_TABLE_MAX_FIELDS 64

/* Called for every row; returns 0, or -1 with "what" in err (the reader
 * prefixes "<path>:<line>: "). */
typedef int (*wn_src_row_fn)(void *ctx, int ntok, char **tok, char *err, size_t errlen);

/* 0, or -1 with "<path>:<line>: <what>" (or "<path>: <why>") in err. */
int wn_src_table_read(const char *path, wn_src_row_fn fn, void *ctx, char *err, size_t errlen);

/* Strict number parsers for one token: 0, or -1 with "what" in err
 * naming `what`. Integers accept k/M/G suffixes (x1000) and exact
 * decimals like 12.8M. */
int wn_src_parse_double(const char *tok, const char *what, double *v, char *err, size_t errlen);
int wn_src_parse_count(const char *tok, const char *what, int64_t *v, char *err, size_t errlen);

#endif
