/*
 * cmd/stats.c — `winnow stats`: a summary of a record stream (count,
 * text-length distribution, field presence, every winnow.* annotation) as
 * a table, or as one JSON document with --json.
 *
 * Owns: options and wiring. Borrows: the accumulators and renderings
 * (selectors/stats.h), the stream helpers (cmd/common.h), the atomic
 * writer (io/record.h) for the report.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cmd/common.h"
#include "io/options.h"
#include "io/record.h"
#include "selectors/stats.h"

static const char *const stats_usage[] = {
	"winnow stats [--json] [--field NAME] [file...]",
	"",
	"Summarise records: count, text length (bytes and code points: min, p50,\n"
	"p90, max, mean), the fraction of records having each top-level field, and\n"
	"every winnow.* annotation (numbers: min/mean/max; strings, integers and\n"
	"booleans with few values: the most common; vectors: dimension).",
	"",
	"winnow stats debian.jsonl.gz",
	"winnow cluster kmeans -k 100 < emb.jsonl | winnow stats --json | jq .annotations",
	NULL,
};

static int write_report(const char *path, const wn_buf *report)
{
	char err[512];
	wn_writer *w = wn_writer_open(path, 0, err, sizeof err);
	if (!w) {
		wn_cmd_error("stats", "%s", err);
		return -1;
	}
	if (wn_writer_write(w, report->data, report->len)) {
		wn_writer_abort(w);
		wn_cmd_error("stats", "cannot write the report");
		return -1;
	}
	if (wn_writer_commit(w, err, sizeof err)) {
		wn_cmd_error("stats", "%s", err);
		return -1;
	}
	return 0;
}

int cmd_stats(int argc, const char **argv)
{
	struct wn_common co = WN_COMMON_INIT;
	int json = 0;
	struct wn_option opts[] = {
		OPT_GROUP("Report"),
		OPT_BOOL(0, "json", &json, "one JSON document instead of a table"),
		WN_COMMON_STREAM_OPTIONS(&co),
		OPT_END(),
	};
	argc = wn_parse_options(argc, argv, opts, stats_usage);

	wn_stats *st = wn_stats_new(co.field);
	if (!st) {
		wn_cmd_error("stats", "out of memory");
		return 1;
	}
	wn_stream s;
	if (wn_cmd_stream_open_input(&s, "stats", &co, argc, argv)) {
		wn_stats_free(st);
		return 1;
	}
	char err[256];
	wn_record rec;
	int r, ok = 1;
	while ((r = wn_stream_next(&s, &rec)) > 0)
		if (wn_stats_add(st, rec.json, err, sizeof err)) {
			wn_cmd_error("stats", "%s", err);
			ok = 0;
			break;
		}
	if (r < 0 || s.failed)
		ok = 0;
	wn_buf report = WN_BUF_INIT;
	if (ok && (json ? wn_stats_json(st, &report) : wn_stats_table(st, &report))) {
		wn_cmd_error("stats", "out of memory");
		ok = 0;
	}
	if (ok && write_report(co.output, &report))
		ok = 0;
	wn_buf_free(&report);
	wn_stats_free(st);
	return wn_cmd_finish(&s, ok);
}
