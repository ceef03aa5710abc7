/*
 * cmd/export.c — `winnow export DB`: read a selection table back, as the
 * exact JSONL that was stored or as CSV.
 *
 * Owns: the command's options, usage text and wiring.
 * Borrows: store/store.h (wn_store_export) and the all-or-nothing writer of
 * io/record.h, so a failed export leaves no partial output file.
 *
 * Not a step (yet): it reads no records, and the step driver
 * (cmd/common.c) opens a record source (stdin when no file is named) for
 * every step, WN_STEP_NO_INPUT or not, and prints a closing line after a
 * failure that `winnow export` never printed (fixtures/golden/export-fails-*
 * would change); a recipe refuses NO_INPUT steps anyway. It becomes a step
 * once the driver opens no source for WN_STEP_NO_INPUT.
 */
#include <stdio.h>
#include <string.h>

#include "cmd/common.h"
#include "io/options.h"
#include "store/store.h"

static const char *const export_usage[] = {
	"winnow export DB [options]",
	"",
	"Write a table stored by `winnow store` back out, in rowid order.",
	"",
	"winnow export out.db --table best > best.jsonl",
	"winnow export out.db --to csv -o selection.csv",
	NULL,
};

int cmd_export(int argc, const char **argv)
{
	const char *table = WN_STORE_DEFAULT_TABLE, *to = "jsonl", *output = NULL;
	int stream = 0, quiet = 0;
	struct wn_option opts[] = {
		OPT_STRING('t', "table", &table, "NAME", "table to read (default: selection)"),
		OPT_STRING(0, "to", &to, "FORMAT",
			   "jsonl (default: the stored records, byte for byte) or csv"),
		OPT_STRING('o', "output", &output, "FILE",
			   "write to FILE (atomically) instead of stdout"),
		OPT_BOOL(0, "stream", &stream, "write stdout as rows come (no all-or-nothing spool)"),
		OPT_BOOL('q', "quiet", &quiet, "no count line on stderr"),
		OPT_END(),
	};
	argc = wn_parse_options(argc, argv, opts, export_usage);
	if (argc < 1)
		wn_usage_error(export_usage, "export", "missing the database path");
	if (argc > 1)
		wn_usage_error(export_usage, "export", "unexpected argument '%s'", argv[1]);
	int format = !strcmp(to, "jsonl") ? WN_STORE_JSONL : !strcmp(to, "csv") ? WN_STORE_CSV : -1;
	if (format < 0)
		wn_usage_error(export_usage, "export", "--to must be jsonl or csv, not '%s'", to);

	const char *db = argv[0];
	char err[512];
	wn_writer *w = wn_writer_open(output, stream, err, sizeof err);
	if (!w) {
		wn_cmd_error("export", "%s", err);
		return 1;
	}
	uint64_t rows = 0;
	if (wn_store_export(db, table, format, w, &rows, err, sizeof err)) {
		wn_cmd_error("export", "%s: %s", db, err);
		wn_writer_abort(w);
		return 1;
	}
	if (wn_writer_commit(w, err, sizeof err)) {
		wn_cmd_error("export", "%s", err);
		return 1;
	}
	if (!quiet)
		fprintf(stderr, "winnow export: in %llu, out %llu, rejected 0\n",
			(unsigned long long)rows, (unsigned long long)rows);
	return 0;
}
