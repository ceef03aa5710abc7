/*
 * cmd/store.c — `winnow store DB`: write a record stream into a SQLite
 * selection table, in one transaction, with a provenance row in `runs`.
 *
 * Owns: the command's options, usage text and wiring.
 * Borrows: the stream helpers (cmd/common.h) for input, --field and the
 * bad-record policy; store/store.h for everything about the database.
 *
 * Under --on-error fail a bad record stops the run before COMMIT, so the
 * database is left exactly as it was (a database this run created is
 * removed again). A run with no records to store fails too, unless
 * --allow-empty: in `a | b | winnow store` an upstream stage that fails
 * writes nothing, and an empty input must not wipe yesterday's table.
 */
#include <string.h>

#include "cmd/common.h"
#include "cmd/options.h"
#include "io/cleanup.h"
#include "store/store.h"

static const char *const store_usage[] = {
	"winnow store DB [options] [file...]",
	"",
	"Write records to a SQLite table (one transaction; readers see the old or the new table).",
	"",
	"winnow select --top 1000 --by winnow.score in.jsonl | winnow store out.db --table best",
	"winnow store runs.db --mode append --table nightly crawl-*.jsonl.zst",
	NULL,
};

/* A shell word as it can be pasted back: bare when safe, else '...'. */
static int put_shell_word(wn_buf *b, const char *w)
{
	if (*w && strspn(w, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			    "0123456789_-+=./:,@%") == strlen(w))
		return wn_buf_puts(b, w);
	int bad = wn_buf_putc(b, '\'');
	for (const char *p = w; *p && !bad; p++)
		bad = *p == '\'' ? wn_buf_puts(b, "'\\''") : wn_buf_putc(b, *p);
	return bad || wn_buf_putc(b, '\'');
}

/* The command line for the runs table, taken before options are parsed. */
static int command_line(wn_buf *b, int argc, const char **argv)
{
	int bad = wn_buf_puts(b, "winnow");
	for (int i = 0; i < argc && !bad; i++)
		bad = wn_buf_putc(b, ' ') || put_shell_word(b, argv[i]);
	return bad;
}

/* Store every record; returns 1 when the stream ended cleanly. */
static int store_records(wn_stream *s, wn_store *st, const char *db)
{
	wn_buf scratch = WN_BUF_INIT;
	wn_record rec;
	wn_span text;
	const char *why;
	char err[512];
	int r;
	while ((r = wn_stream_next(s, &rec)) > 0) {
		if (wn_stream_text(s, &rec, &scratch, &text, &why)) {
			if (wn_stream_reject(s, &rec, "%s", why))
				break;
			continue;
		}
		int rc = wn_store_add(st, rec.json, text, err, sizeof err);
		if (rc == WN_STORE_EBADREC) {
			if (wn_stream_reject(s, &rec, "%s", err))
				break;
		} else if (rc) {
			wn_cmd_error(s->cmd, "%s: %s", db, err);
			s->failed = 1;
			break;
		}
	}
	wn_buf_free(&scratch);
	return r == 0 && !s->failed;
}

static int commit_run(wn_stream *s, wn_store *st, const char *db, const char *table,
		      int allow_empty)
{
	char err[512];
	if (!allow_empty && wn_store_rows(st) == 0) {
		wn_cmd_error(s->cmd, "%s: no records to store; table '%s' left as it was "
			     "(--allow-empty stores an empty table)", db, table);
		wn_store_abort(st);
		return 0;
	}
	for (int i = 0; i < wn_reader_ninputs(s->in); i++)
		if (wn_store_add_input(st, wn_reader_input_name(s->in, i),
				       wn_reader_input_size(s->in, i),
				       wn_reader_input_hash(s->in, i))) {
			wn_cmd_error(s->cmd, "out of memory");
			wn_store_abort(st);
			return 0;
		}
	uint64_t rows = wn_store_rows(st);
	if (wn_store_commit(st, s->in_count, s->policy.rejected, NULL, err, sizeof err)) {
		wn_cmd_error(s->cmd, "%s: %s", db, err);
		return 0;
	}
	s->out_count = rows;
	return 1;
}

int cmd_store(int argc, const char **argv)
{
	struct wn_common co = WN_COMMON_INIT;
	const char *mode = "replace";
	wn_store_opts so = {WN_STORE_DEFAULT_TABLE, WN_STORE_REPLACE, 5000, NULL, NULL, NULL};
	int allow_empty = 0;
	struct wn_option opts[] = {
		OPT_GROUP("Database"),
		OPT_STRING('t', "table", &so.table, "NAME", "table to write (default: selection)"),
		OPT_STRING(0, "mode", &mode, "MODE",
			   "replace (default: drop and recreate the table) or append"),
		OPT_STRING(0, "seed", &so.seed, "S", "record S as the run's seed in the runs table"),
		OPT_INT(0, "busy-timeout", &so.busy_timeout_ms, "MS",
			"wait this long for another writer (default 5000; -1: fail at once)"),
		OPT_BOOL(0, "allow-empty", &allow_empty,
			 "store even when no records come (default: fail, table untouched)"),
		OPT_GROUP("Input"),
		OPT_STRING(0, "field", &co.field, "NAME", "the text field (default: text)"),
		OPT_BOOL(0, "csv", &co.csv, "inputs are CSV with a header row"),
		OPT_SIZE(0, "max-record", &co.max_record, "BYTES",
			 "largest record accepted (default 64M)"),
		OPT_CALLBACK(0, "on-error", &co, "MODE", "fail (default), skip, or quarantine FILE",
			     wn_common_on_error_cb),
		OPT_BOOL('q', "quiet", &co.quiet, "no progress and no count line on stderr"),
		OPT_END(),
	};
	wn_buf cmdline = WN_BUF_INIT;
	if (command_line(&cmdline, argc, argv)) {
		wn_cmd_error("store", "out of memory");
		return 1;
	}
	argc = wn_parse_options(argc, argv, opts, store_usage);
	char err[512];
	if (argc < 1)
		wn_usage_error(store_usage, "store", "missing the database path");
	so.mode = wn_store_parse_mode(mode);
	if (so.mode < 0)
		wn_usage_error(store_usage, "store", "--mode must be replace or append, not '%s'",
			       mode);
	if (wn_store_check_table(so.table, err, sizeof err))
		wn_usage_error(store_usage, "store", "--table: %s", err);
	so.command = wn_buf_cstr(&cmdline);

	const char *db = argv[0];
	wn_stream s;
	if (wn_stream_open_input(&s, "store", &co, argc - 1, argv + 1)) {
		wn_buf_free(&cmdline);
		return 1;
	}
	wn_cleanup_install_signals(); /* Ctrl-C removes a new database's temporary files */
	wn_store *st = wn_store_begin(db, &so, err, sizeof err);
	int ok = 0;
	if (!st)
		wn_cmd_error("store", "%s: %s", db, err);
	else if (store_records(&s, st, db))
		ok = commit_run(&s, st, db, so.table, allow_empty);
	else
		wn_store_abort(st);
	if (!ok)
		s.out_count = 0;
	wn_buf_free(&cmdline);
	return wn_stream_finish(&s, ok);
}
