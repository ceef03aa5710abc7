/*
 * selectors/stats_step.c — the `stats` step (see selectors/stats_step.h):
 * every record into the accumulators, then the report to the sink, which
 * is all-or-nothing like any output.
 */
#include "selectors/stats_step.h"

#include "io/errf.h"
#include "selectors/stats.h"

void wn_stats_init(wn_stats_opts *o)
{
	*o = (wn_stats_opts){WN_STREAM_OPTS_INIT, 0};
}

static int accumulate(wn_stats *st, wn_stream *s, char *err, size_t errlen)
{
	wn_record rec;
	int r;
	while ((r = wn_stream_next(s, &rec)) > 0)
		if (wn_stats_add(st, rec.json, err, errlen))
			return -1;
	return r < 0 || s->failed ? -1 : 0;
}

int wn_stats_run(const wn_stats_opts *o, wn_stream *s, wn_step_report *rep, char *err, size_t errlen)
{
	(void)rep;
	wn_stats *st = wn_stats_new(o->io.field);
	if (!st) {
		wn_errf(err, errlen, "out of memory");
		return -1;
	}
	wn_buf report = WN_BUF_INIT;
	int rc = accumulate(st, s, err, errlen);
	if (!rc && (o->json ? wn_stats_json(st, &report) : wn_stats_table(st, &report))) {
		wn_errf(err, errlen, "out of memory");
		rc = -1;
	}
	if (!rc && wn_stream_write(s, report.data, report.len)) {
		wn_errf(err, errlen, "cannot write the report");
		rc = -1;
	}
	wn_buf_free(&report);
	wn_stats_free(st);
	return rc;
}
