/*
 * cmd/store.c — `winnow store DB`: write a record stream into a SQLite
 * selection table, in one transaction, with a provenance row in `runs`.
 *
 * Owns: the usage text, the option table, and the command line recorded in
 * runs.command. Borrows: the step (store/store_step.h: the options' rules,
 * the write loop, provenance) and the step driver (cmd/common.h).
 *
 * The command line is the process's own argv, read from /proc/self/cmdline:
 * the step shape hands a step its parsed options and positional words, not
 * argv, and runs.command must stay the words as typed ("winnow store -q
 * out.db --seed 7 in.jsonl"). Without /proc the column is NULL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/common.h"
#include "store/store.h"
#include "store/store_step.h"

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

/* "winnow" and the process's words after the program's: NULL when unknown. */
static char *command_line(void)
{
	FILE *f = fopen("/proc/self/cmdline", "rb");
	wn_buf raw = WN_BUF_INIT, b = WN_BUF_INIT;
	char chunk[4096];
	size_t n;
	int bad = !f;
	while (f && (n = fread(chunk, 1, sizeof chunk, f)) > 0 && !bad)
		bad = wn_buf_append(&raw, chunk, n);
	if (f)
		fclose(f);
	bad = bad || wn_buf_puts(&b, "winnow");
	const char *p = wn_buf_cstr(&raw), *end = p + raw.len;
	for (p += strlen(p) + 1; p < end && !bad; p += strlen(p) + 1)
		bad = wn_buf_putc(&b, ' ') || put_shell_word(&b, p);
	char *s = bad ? NULL : strdup(wn_buf_cstr(&b));
	wn_buf_free(&raw);
	wn_buf_free(&b);
	return s;
}

static void store_options(void *p, struct wn_option *t)
{
	wn_store_step_opts *o = p;
	WN_STEP_TABLE(t,
		OPT_GROUP("Database"),
		OPT_STRING('t', "table", &o->table, "NAME", "table to write (default: selection)"),
		OPT_STRING(0, "mode", &o->mode, "MODE",
			   "replace (default: drop and recreate the table) or append"),
		OPT_STRING(0, "seed", &o->seed, "S", "record S as the run's seed in the runs table"),
		OPT_INT(0, "busy-timeout", &o->busy_timeout_ms, "MS",
			"wait this long for another writer (default 5000; -1: fail at once)"),
		OPT_BOOL(0, "allow-empty", &o->allow_empty,
			 "store even when no records come (default: fail, table untouched)"),
		OPT_GROUP("Input"),
		WN_STREAM_INPUT_OPTIONS(&o->io));
}

static void store_init(void *p)
{
	wn_store_step_opts *o = p;
	wn_store_step_init(o);
	o->command = command_line();
}

const wn_step wn_step_store = {"store", store_usage, sizeof(wn_store_step_opts), WN_STEP_NO_OUTPUT,
			       store_init, store_options, wn_store_step_check_v,
			       wn_store_step_run_v, wn_store_step_release_v};
