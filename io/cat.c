/*
 * io/cat.c — the `cat` step (see io/cat.h): the entry point of most
 * pipelines, turning gz/zst/CSV inputs into strict, validated JSONL.
 */
#include "io/cat.h"

#include <string.h>

#include "io/csvout.h"
#include "io/errf.h"

void wn_cat_init(wn_cat_opts *o)
{
	*o = (wn_cat_opts){WN_STREAM_OPTS_INIT, "jsonl", NULL};
}

int wn_cat_check(const wn_cat_opts *o, char *err, size_t errlen)
{
	if (strcmp(o->to, "csv") && strcmp(o->to, "jsonl")) {
		wn_errf(err, errlen, "unknown output format '%s' (jsonl or csv)", o->to);
		return -1;
	}
	return 0;
}

static int cat_csv(const wn_cat_opts *o, wn_stream *s, char *err, size_t errlen)
{
	if (s->out_spool) {
		wn_errf(err, errlen, "--to csv must be the last step");
		return -1;
	}
	wn_csvout *cw = wn_csvout_new(o->columns);
	if (!cw) {
		wn_errf(err, errlen, "out of memory");
		return -1;
	}
	wn_record rec;
	int r;
	while ((r = wn_stream_next(s, &rec)) > 0) {
		if (wn_csvout_record(cw, s->out, rec.json)) {
			s->failed = 1;
			break;
		}
		s->out_count++;
	}
	if (r == 0 && !s->failed && wn_csvout_finish(cw, s->out))
		s->failed = 1;
	wn_csvout_free(cw);
	return r < 0 || s->failed ? -1 : 0;
}

int wn_cat_run(const wn_cat_opts *o, wn_stream *s, wn_step_report *rep, char *err, size_t errlen)
{
	(void)rep;
	if (!strcmp(o->to, "csv"))
		return cat_csv(o, s, err, errlen);
	wn_record rec;
	int r;
	while ((r = wn_stream_next(s, &rec)) > 0)
		if (wn_stream_emit(s, &rec, NULL))
			break;
	return r < 0 || s->failed ? -1 : 0;
}
