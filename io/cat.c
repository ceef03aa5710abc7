/*
 * io/cat.c — the `cat` step (see io/cat.h): the entry point of most
 * pipelines, turning gz/zst/CSV inputs into strict, validated JSONL.
 */
#include "io/cat.h"

#include <string.h>

#include "io/csvout.h"
#include "io/errf.h"
#include "io/spool.h"

void wn_cat_init(wn_cat_opts *o)
{
	*o = (wn_cat_opts){WN_STREAM_OPTS_INIT, "jsonl", NULL, 0};
}

int wn_cat_check(const wn_cat_opts *o, char *err, size_t errlen)
{
	if (strcmp(o->to, "csv") && strcmp(o->to, "jsonl")) {
		wn_errf(err, errlen, "unknown output format '%s' (jsonl or csv)", o->to);
		return -1;
	}
	return 0;
}

/* Learn the columns from every record, keeping the records in a spool. */
static int learn_columns(wn_csvout *cw, wn_stream *s, wn_spool *sp, char *err, size_t errlen)
{
	wn_record rec;
	int r;
	while ((r = wn_stream_next(s, &rec)) > 0)
		if (wn_csvout_learn(cw, rec.json) || wn_spool_put(sp, &rec, err, errlen)) {
			if (!err[0])
				wn_errf(err, errlen, "out of memory");
			return -1;
		}
	return r < 0 || wn_spool_rewind(sp, err, errlen) ? -1 : 0;
}

static int write_rows(wn_csvout *cw, wn_stream *s, wn_spool *sp, char *err, size_t errlen)
{
	wn_record rec;
	int r;
	while ((r = sp ? wn_spool_get(sp, &rec, err, errlen) : wn_stream_next(s, &rec)) > 0) {
		if (wn_csvout_record(cw, s->out, rec.json)) {
			s->failed = 1;
			return -1;
		}
		s->out_count++;
	}
	return r < 0 || wn_csvout_finish(cw, s->out) ? -1 : 0;
}

static int cat_csv(const wn_cat_opts *o, wn_stream *s, char *err, size_t errlen)
{
	if (s->out_spool) {
		wn_errf(err, errlen, "--to csv must be the last step");
		return -1;
	}
	wn_csvout *cw = wn_csvout_new(o->columns, o->vectors);
	wn_spool *sp = NULL;
	if (!cw) {
		wn_errf(err, errlen, "out of memory");
		return -1;
	}
	int rc = 0;
	if (!o->columns) /* two passes: the header needs every record's fields */
		rc = !(sp = wn_spool_new(0, err, errlen)) || learn_columns(cw, s, sp, err, errlen) ? -1 : 0;
	if (!rc)
		rc = write_rows(cw, s, sp, err, errlen);
	wn_spool_free(sp);
	wn_csvout_free(cw);
	return rc || s->failed ? -1 : 0;
}

int wn_cat_run(const wn_cat_opts *o, wn_stream *s, wn_step_report *rep, char *err, size_t errlen)
{
	(void)rep;
	if (!strcmp(o->to, "csv"))
		return cat_csv(o, s, err, errlen);
	wn_record rec;
	wn_run run; /* records that pass as they lie in the input */
	int r;
	while ((r = wn_stream_next_run(s, &run, &rec)) > 0)
		if (run.count ? wn_stream_emit_run(s, &run) : wn_stream_emit(s, &rec, NULL))
			break;
	return r < 0 || s->failed ? -1 : 0;
}
