/*
 * store/export_step.c — the `export` step (see store/export_step.h).
 *
 * The rows go straight to the stream's writer (wn_store_export writes
 * them), so the step tells the stream how many it wrote: the closing line
 * then reads "in N, out N, rejected 0" with N the rows read back. A failed
 * export prints one line, "winnow export: DB: why", and no closing line
 * (a stream without a source prints none after a failure).
 */
#include "store/export_step.h"

#include <stdio.h>
#include <string.h>

#include "io/errf.h"
#include "store/store.h"

void wn_export_init(wn_export_opts *o)
{
	*o = (wn_export_opts){.io = WN_STREAM_OPTS_INIT, .table = WN_STORE_DEFAULT_TABLE,
			      .to = "jsonl", .format = WN_STORE_JSONL};
}

int wn_export_check(wn_export_opts *o, int *npos, const char **pos, char *err, size_t errlen)
{
	if (*npos < 1) {
		wn_errf(err, errlen, "missing the database path");
		return -1;
	}
	if (*npos > 1) {
		wn_errf(err, errlen, "unexpected argument '%s'", pos[1]);
		return -1;
	}
	o->format = !strcmp(o->to, "jsonl") ? WN_STORE_JSONL : !strcmp(o->to, "csv") ? WN_STORE_CSV : -1;
	if (o->format < 0) {
		wn_errf(err, errlen, "--to must be jsonl or csv, not '%s'", o->to);
		return -1;
	}
	o->db = pos[0];
	*npos = 0;
	return 0;
}

int wn_export_run(const wn_export_opts *o, wn_stream *s, wn_step_report *rep, char *err,
		  size_t errlen)
{
	(void)rep;
	(void)err;
	(void)errlen;
	if (!s->out) {
		wn_errf(s->err, sizeof s->err, "export writes to a file or stdout, not to a next step");
		return -1;
	}
	uint64_t rows = 0;
	char e[512];
	int rc = wn_store_export(o->db, o->table, o->format, s->out, &rows, e, sizeof e);
	if (rc) {
		wn_errf(s->err, sizeof s->err, "%s: %s", o->db, e);
		return -1;
	}
	wn_stream_count_written(s, rows);
	return 0;
}
