/*
 * cmd/export.c — `winnow export DB`: read a selection table back, as the
 * exact JSONL that was stored or as CSV.
 *
 * Owns: the usage text and the option table. Borrows: the step
 * (store/export_step.h) and the step driver, which opens only a sink for
 * it (WN_STEP_NO_INPUT): -o FILE is atomic, so a failed export leaves no
 * partial output file.
 */
#include "cmd/common.h"
#include "store/export_step.h"

static const char *const export_usage[] = {
	"winnow export DB [options]",
	"",
	"Write a table stored by `winnow store` back out, in rowid order.",
	"",
	"winnow export out.db --table best > best.jsonl",
	"winnow export out.db --to csv -o selection.csv",
	NULL,
};

static void export_options(void *p, struct wn_option *t)
{
	wn_export_opts *o = p;
	WN_STEP_TABLE(t,
		OPT_STRING('t', "table", &o->table, "NAME", "table to read (default: selection)"),
		OPT_STRING(0, "to", &o->to, "FORMAT",
			   "jsonl (default: the stored records, byte for byte) or csv"),
		OPT_STRING('o', "output", &o->io.output, "FILE",
			   "write to FILE (atomically) instead of stdout"),
		OPT_BOOL(0, "stream", &o->io.stream, "write stdout as rows come (no all-or-nothing spool)"),
		OPT_BOOL('q', "quiet", &o->io.quiet, "no count line on stderr"));
}

static void export_init(void *p) { wn_export_init(p); }
static int export_check(void *p, int *npos, const char **pos, char *err, size_t n) { return wn_export_check(p, npos, pos, err, n); }
static int export_run(void *p, wn_stream *s, wn_step_report *r, char *err, size_t n) { return wn_export_run(p, s, r, err, n); }

const wn_step wn_step_export = {"export", export_usage, sizeof(wn_export_opts), WN_STEP_NO_INPUT,
				export_init, export_options, export_check, export_run, NULL};
