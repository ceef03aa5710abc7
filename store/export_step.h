/*
 * store/export_step.h — the `export` step: read a table stored by `winnow
 * store` back out (JSONL byte for byte, or CSV) to the stream's sink.
 *
 * Owns: the step's options and their rules (the database is the first
 * positional word; --to checked before any output opens). Borrows:
 * io/stream.h (a stream with a sink and no source: WN_STEP_NO_INPUT),
 * store/store.h (wn_store_export does the reading).
 */
#ifndef WN_STORE_EXPORT_STEP_H
#define WN_STORE_EXPORT_STEP_H

#include <stddef.h>

#include "io/stream.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wn_export_opts {
	wn_stream_opts io;
	const char *table;  /* -t/--table (default: selection) */
	const char *to;     /* --to jsonl|csv */
	const char *db;     /* the positional word (set by check) */
	int format;         /* enum wn_store_format, set by check */
} wn_export_opts;

void wn_export_init(wn_export_opts *o);
/* Take pos[0] as the database (no other word allowed), check --to:
 * 0, or -1 with a usage error in err. */
int wn_export_check(wn_export_opts *o, int *npos, const char **pos, char *err, size_t errlen);
/* Write the table to s's sink: 0, or -1 (the reason is the sink's error,
 * printed by wn_stream_finish, so it appears once). */
int wn_export_run(const wn_export_opts *o, wn_stream *s, wn_step_report *rep, char *err,
		  size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
