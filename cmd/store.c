/*
 * cmd/store.c — `winnow store DB`: write a record stream into a SQLite
 * selection table, in one transaction, with a provenance row in `runs`.
 *
 * Owns: the usage text and the option table. Borrows: the step
 * (store/store_step.h: the options' rules, the write loop, provenance) and
 * the step driver (cmd/common.h), which hands the step the command line as
 * typed for runs.command.
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
	"Columns: id, text, record (the exact bytes: `winnow export` gives them back), winnow (the\n"
	"annotations as JSON, without vectors), and one column per scalar annotation. Vectors\n"
	"(winnow members holding {\"b64\":...}, e.g. winnow.emb) are kept once, in record; --vectors\n"
	"both also keeps them in winnow (twice the bytes), --vectors drop keeps them nowhere.\n"
	"A record is already in the table when XXH3-64 of its bytes (or of --id FIELD's value: a\n"
	"string's text, else its JSON) matches a stored one: --mode append stores it again and warns,\n"
	"--mode append-new skips it and says how many; when it skips all, nothing is written and the\n"
	"exit code is 3 (nothing new to do).",
	"Provenance of a shell pipeline: with WINNOW_PROVENANCE=FILE set for it, every winnow step that\n"
	"writes records appends a line to FILE (step, command, inputs with size and xxh3, counts,\n"
	"seconds); store puts the lines of its process group (one pipeline of an interactive shell;\n"
	"in a script, every step since the last store) into runs.extra as {\"pipeline\":[...]} and\n"
	"takes them out of FILE once committed.",
	"",
	"winnow select --top 1000 --by winnow.score in.jsonl | winnow store out.db --table best",
	"winnow store runs.db --mode append --table nightly crawl-*.jsonl.zst",
	"winnow store runs.db --mode append-new --id id --table nightly crawl-*.jsonl.zst",
	"export WINNOW_PROVENANCE=$HOME/.winnow-prov; winnow cat in.jsonl.zst | winnow embed | winnow store out.db",
	NULL,
};

static void store_options(void *p, struct wn_option *t)
{
	wn_store_step_opts *o = p;
	WN_STEP_TABLE(t,
		OPT_GROUP("Database"),
		OPT_STRING('t', "table", &o->table, "NAME", "table to write (default: selection)"),
		OPT_STRING(0, "mode", &o->mode, "MODE",
			   "replace (default: drop, recreate), append, or append-new (skip stored records)"),
		OPT_STRING(0, "id", &o->id_field, "FIELD",
			   "append modes: compare FIELD's value, not the record's bytes"),
		OPT_STRING(0, "vectors", &o->vectors, "WHERE",
			   "record (default: vectors in record only), both (also in winnow), or drop"),
		OPT_STRING(0, "seed", &o->seed, "S", "record S as the run's seed in the runs table"),
		OPT_INT(0, "busy-timeout", &o->busy_timeout_ms, "MS",
			"wait this long for another writer (default 5000; -1: fail at once)"),
		OPT_BOOL(0, "allow-empty", &o->allow_empty,
			 "store even when no records come (default: fail, table untouched)"),
		OPT_GROUP("Input"),
		WN_STREAM_INPUT_OPTIONS(&o->io));
}

static void store_init(void *p) { wn_store_step_init(p); }

const wn_step wn_step_store = {"store", store_usage, sizeof(wn_store_step_opts), WN_STEP_NO_OUTPUT,
			       store_init, store_options, wn_store_step_check_v,
			       wn_store_step_run_v, wn_store_step_release_v};
