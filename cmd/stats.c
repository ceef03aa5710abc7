/*
 * cmd/stats.c — `winnow stats`: a summary of a record stream (count,
 * text-length distribution, field presence, every winnow.* annotation) as
 * a table, or as one JSON document with --json. The step is
 * selectors/stats_step.c.
 */
#include "cmd/common.h"
#include "selectors/stats_step.h"

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

static void stats_options(void *p, struct wn_option *t)
{
	wn_stats_opts *o = p;
	WN_STEP_TABLE(t,
		OPT_GROUP("Report"),
		OPT_BOOL(0, "json", &o->json, "one JSON document instead of a table"),
		WN_STREAM_OPTIONS(&o->io));
}

static void stats_init(void *p) { wn_stats_init(p); }
static int stats_run(void *p, wn_stream *s, wn_step_report *r, char *err, size_t n) { return wn_stats_run(p, s, r, err, n); }

const wn_step wn_step_stats = {"stats", stats_usage, sizeof(wn_stats_opts), 0, stats_init, stats_options, NULL, stats_run, NULL};
