/*
 * cmd/batches.c — `winnow batches tas`: training batches composed by
 * TAS-B (issue 20). Usage and option table only; the step is
 * selectors/tas_step.c.
 */
#include "cmd/common.h"
#include "selectors/tas_step.h"

static const char *const tas_usage[] = {
	"winnow batches tas [--cluster PATH] [--query PATH] [--margin PATH] [--batch 32] [file...]",
	"",
	"TAS-B: batches of training pairs, each batch from one query cluster, pairs by margin bins.",
	"One pair per record; --query (default: query) identifies its query, --cluster (default",
	"winnow.cluster) the query's cluster (cluster the query texts: every pair of a query must",
	"carry the same id). Batch b: a cluster uniformly among the non-empty ones, min(B, its size)",
	"of its queries uniformly without replacement; each query's pair: its margins (--margin,",
	"teacher score positive - negative) in --bins (10) equal-width bins over [min, max] (the",
	"maximum in the last bin), a non-empty bin uniformly, a pair of it uniformly (no --margin:",
	"a pair uniformly). Writes the batches in order, a copy of each chosen pair's record with",
	"winnow.batch = b. --batches N (default: queries / B, rounded up). As the reference, batches",
	"are independent draws: a query may recur in later batches, and a small cluster gives a",
	"smaller batch.",
	"",
	"winnow embed --field query pairs.jsonl | winnow cluster kmeans -k 2000 | winnow batches tas --margin m",
	NULL,
};

static void tas_options(void *p, struct wn_option *t)
{
	wn_tas_opts *o = p;
	WN_STEP_TABLE(t,
		OPT_GROUP("TAS-B"),
		OPT_STRING(0, "cluster", &o->cluster, "PATH", "the query's cluster id (default winnow.cluster)"),
		OPT_STRING(0, "query", &o->query, "PATH", "the pair's query (default query)"),
		OPT_STRING(0, "margin", &o->margin, "PATH", "teacher margin (default: none, pairs uniformly)"),
		OPT_INT64(0, "batch", &o->batch, "B", "queries per batch (default 32)"),
		OPT_INT64(0, "batches", &o->batches, "N", "batches to compose (default: queries / B, rounded up)"),
		OPT_INT64(0, "bins", &o->bins, "K", "margin bins (default 10)"),
		OPT_INT64(0, "seed", &o->seed, "S", "random seed (default 0)"),
		WN_STREAM_OPTIONS(&o->io),
		OPT_GROUP("Compute"),
		OPT_INT(0, "threads", &o->io.threads, "N", "threads to use (default: all cores)"));
}

static void tas_init(void *p) { wn_tas_init(p); }
static int tas_check(void *p, int *npos, const char **pos, char *err, size_t n) { return wn_tas_check(p, err, n); }
static int tas_run(void *p, wn_stream *s, wn_step_report *r, char *err, size_t n) { return wn_tas_run(p, s, r, err, n); }

const wn_step wn_step_batches_tas = {"batches tas", tas_usage, sizeof(wn_tas_opts), WN_STEP_WHOLE,
				     tas_init, tas_options, tas_check, tas_run, NULL};
