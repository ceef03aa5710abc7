/*
 * cmd/db.c — `winnow db hash DB [--table T]`: one hash per table, over its
 * contents in a defined order (store/dbhash.h says which), for comparing
 * two databases. Usage and option table; the step is store/dbhash.c.
 */
#include "cmd/common.h"
#include "store/dbhash.h"

static const char *const db_hash_usage[] = {
	"winnow db hash DB [--table T]",
	"",
	"Print one line per table, \"<XXH3-128 hex>  <table>\": a hash of its contents in a defined order.",
	"Hashed: the column names in byte order (rowid left out), then every row in rowid order, each",
	"value typed (NULL; INTEGER as int64; REAL as its IEEE-754 bits; TEXT and BLOB as length and",
	"bytes). Tables: --table T, or every table but `runs` (times and commands), by name.",
	"Equal lines mean equal contents, whatever the files' page layout or WAL state.",
	"",
	"winnow db hash out.db",
	"test \"$(winnow db hash a.db -t best)\" = \"$(winnow db hash b.db -t best)\"",
	NULL,
};

static void db_hash_options(void *p, struct wn_option *t)
{
	wn_dbhash_opts *o = p;
	WN_STEP_TABLE(t, OPT_STRING('t', "table", &o->table, "NAME", "hash this table only (runs included)"));
}

static void db_hash_init(void *p) { wn_dbhash_init(p); }
static int db_hash_check(void *p, int *npos, const char **pos, char *err, size_t n) { return wn_dbhash_check(p, npos, pos, err, n); }
static int db_hash_run(void *p, wn_stream *s, wn_step_report *r, char *err, size_t n) { return wn_dbhash_run(p, s, r, err, n); }

const wn_step wn_step_db_hash = {"db hash", db_hash_usage, sizeof(wn_dbhash_opts),
				 WN_STEP_NO_INPUT | WN_STEP_NO_OUTPUT, db_hash_init,
				 db_hash_options, db_hash_check, db_hash_run, NULL};
