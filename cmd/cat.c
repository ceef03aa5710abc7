/*
 * cmd/cat.c — `winnow cat`: read, validate, decompress and concatenate.
 *
 * The entry point of most pipelines: turns gz/zst/CSV inputs into strict,
 * validated JSONL, byte-identical to the input records (no
 * re-serialisation), or writes CSV with --to csv. The step is io/cat.c.
 */
#include "cmd/common.h"
#include "io/cat.h"

static const char *const cat_usage[] = {
	"winnow cat [options] [file...]",
	"",
	"Validate, decompress and concatenate JSONL (or --csv) inputs to JSONL or CSV.",
	"Inputs may be plain, gzip or zstd (detected by content); '-' is stdin.",
	"",
	"winnow cat corpus.jsonl.gz part2.jsonl.zst > all.jsonl",
	"winnow cat --csv table.csv --on-error skip | winnow stats",
	NULL,
};

static void cat_options(void *p, struct wn_option *t)
{
	wn_cat_opts *o = p;
	WN_STEP_TABLE(t,
		OPT_STRING(0, "to", &o->to, "FORMAT", "output format: jsonl (default) or csv"),
		OPT_STRING(0, "columns", &o->columns, "A,B,..", "CSV columns, dotted paths allowed (default: every field of every record, winnow.* one column each)"),
		OPT_BOOL(0, "with-vectors", &o->vectors, "CSV: keep vector annotations such as winnow.emb (left out by default)"),
		WN_STREAM_OPTIONS(&o->io));
}

static void cat_init(void *p) { wn_cat_init(p); }
static int cat_check(void *p, int *npos, const char **pos, char *err, size_t n) { return wn_cat_check(p, err, n); }
static int cat_run(void *p, wn_stream *s, wn_step_report *r, char *err, size_t n) { return wn_cat_run(p, s, r, err, n); }

const wn_step wn_step_cat = {"cat", cat_usage, sizeof(wn_cat_opts), 0, cat_init, cat_options, cat_check, cat_run, NULL};
