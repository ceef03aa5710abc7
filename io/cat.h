/*
 * io/cat.h — the `cat` step: validate, decompress and concatenate records,
 * as JSONL (byte-identical to the input records) or as CSV.
 *
 * Owns: nothing beyond the run. Borrows: io/stream.h, io/csvout.h.
 */
#ifndef WN_IO_CAT_H
#define WN_IO_CAT_H

#include "io/stream.h"

typedef struct wn_cat_opts {
	wn_stream_opts io;
	const char *to;       /* "jsonl" (default) or "csv" */
	const char *columns;  /* CSV columns "a,b" (NULL: every record's fields, learnt in a first pass) */
	int vectors;          /* CSV: keep vector annotations (left out by default) */
} wn_cat_opts;

void wn_cat_init(wn_cat_opts *o);
/* 0, or -1 with a usage error in err. */
int wn_cat_check(const wn_cat_opts *o, char *err, size_t errlen);
int wn_cat_run(const wn_cat_opts *o, wn_stream *s, wn_step_report *rep, char *err, size_t errlen);

#endif
