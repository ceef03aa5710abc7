/*
 * tests/unit/test_store.c — the SQLite store (store/store.h): schema and
 * annotation columns, hostile table and key names, replace vs append, the
 * runs row, all-or-nothing runs, isolation from readers, two runs creating
 * one database at once, database errors, and export (byte-identical JSONL
 * on a Debian slice, RFC 4180 CSV).
 *
 * Borrows: io/ (reader for the Debian slice, writer for export output);
 * SQLite directly, to look at what the store wrote.
 */
#include <dirent.h>
#include <regex.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/json.h"
#include "io/record.h"
#include "store/seen.h"
#include "store/store.h"
#include "tests/unit/test.h"

static char tmpdir[64];
static char errbuf[512];

static const char *tpath(const char *name)
{
	static char p[4][256];
	static int k;
	k = (k + 1) % 4;
	snprintf(p[k], sizeof p[k], "%s/%s", tmpdir, name);
	return p[k];
}

/* Store one literal record (its "text" member as the text). */
static int add(wn_store *s, const char *rec)
{
	wn_span r = {rec, strlen(rec)}, v, t = {"", 0};
	wn_buf scratch = WN_BUF_INIT;
	if (wn_json_get(r, "text", &v) && wn_json_string(v, &scratch, &t))
		return -9;
	int rc = wn_store_add(s, r, t, errbuf, sizeof errbuf);
	wn_buf_free(&scratch);
	return rc;
}

/* Store records in one run; 0 on success. */
static int store_run(const char *db, const char *table, int mode, const char *const *recs)
{
	wn_store_opts o = {table, mode, 0, "winnow store test", NULL, NULL, NULL, 0};
	wn_store *s = wn_store_begin(db, &o, errbuf, sizeof errbuf);
	if (!s)
		return -1;
	uint64_t n = 0;
	for (; recs[n]; n++)
		if (add(s, recs[n])) {
			wn_store_abort(s);
			return -1;
		}
	return wn_store_commit(s, n, 0, NULL, errbuf, sizeof errbuf);
}

/* First column of the first row of a query, as text (malloc'd), or NULL. */
static char *q1(const char *db, const char *sql)
{
	sqlite3 *h;
	sqlite3_stmt *st;
	char *out = NULL;
	if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		sqlite3_close(h);
		return NULL;
	}
	if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
			out = strdup((const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
	}
	sqlite3_close(h);
	return out;
}

/* Compare a query's text result with an expected string (NULL: SQL NULL). */
static int q_is(const char *db, const char *sql, const char *want)
{
	char *s = q1(db, sql);
	int ok = want ? s && !strcmp(s, want) : !s;
	if (!ok)
		fprintf(stderr, "  %s -> %s (want %s)\n", sql, s ? s : "NULL", want ? want : "NULL");
	free(s);
	return ok;
}

static char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long len = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *b = malloc(len + 1);
	if (b && fread(b, 1, len, f) != (size_t)len) {
		free(b);
		b = NULL;
	}
	fclose(f);
	if (b)
		b[len] = 0;
	*n = (size_t)len;
	return b;
}

/* Export a table to a file and return its bytes. */
static char *export_to(const char *db, const char *table, int format, size_t *n)
{
	const char *out = tpath("export.out");
	wn_writer *w = wn_writer_open(out, 0, errbuf, sizeof errbuf);
	uint64_t rows;
	if (!w)
		return NULL;
	if (wn_store_export(db, table, format, w, &rows, errbuf, sizeof errbuf)) {
		wn_writer_abort(w);
		return NULL;
	}
	if (wn_writer_commit(w, errbuf, sizeof errbuf))
		return NULL;
	return slurp(out, n);
}

/* How many files of tmpdir hold `part` in their name. */
static int count_files(const char *part)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	int n = 0;
	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += strstr(e->d_name, part) != NULL;
	closedir(d);
	return n;
}

static void test_columns_follow_scalar_annotations(void)
{
	const char *db = tpath("cols.db");
	const char *recs[] = {
		"{\"id\":\"a\",\"text\":\"alpha\",\"winnow\":{\"cluster\":3,\"zipfit\":0.25,"
		"\"lang\":\"en\",\"keep\":true,\"emb\":{\"dim\":2,\"dtype\":\"f32\",\"b64\":\"AAAAAAAAAAA=\"},"
		"\"late\":null}}",
		"{\"id\":7,\"text\":\"beta\"}",
		"{\"text\":\"gamma\",\"winnow\":{\"cluster\":1,\"dsir\":-1.5e-3,\"late\":\"x\",\"keep\":false}}",
		NULL,
	};
	CHECK_EQ_INT(store_run(db, NULL, WN_STORE_REPLACE, recs), 0);
	CHECK(q_is(db, "SELECT group_concat(name, ',') FROM pragma_table_info('selection')",
		   "rowid,id,text,record,winnow,cluster,zipfit,lang,keep,dsir,late"));
	CHECK(q_is(db, "SELECT typeof(cluster)||typeof(zipfit)||typeof(lang)||typeof(keep) "
		       "FROM selection WHERE rowid=1", "integerrealtextinteger"));
	CHECK(q_is(db, "SELECT cluster||' '||zipfit||' '||lang||' '||keep FROM selection WHERE rowid=1",
		   "3 0.25 en 1"));
	CHECK(q_is(db, "SELECT late FROM selection WHERE rowid=1", NULL));
	CHECK(q_is(db, "SELECT dsir FROM selection WHERE rowid=1", NULL));
	CHECK(q_is(db, "SELECT id FROM selection WHERE rowid=2", "7"));
	CHECK(q_is(db, "SELECT winnow FROM selection WHERE rowid=2", NULL));
	CHECK(q_is(db, "SELECT cluster FROM selection WHERE rowid=2", NULL));
	CHECK(q_is(db, "SELECT id FROM selection WHERE rowid=3", NULL));
	CHECK(q_is(db, "SELECT dsir=-0.0015 AND late='x' AND keep=0 AND cluster=1 FROM selection "
		       "WHERE rowid=3", "1"));
	CHECK(q_is(db, "SELECT text FROM selection WHERE rowid=3", "gamma"));
	CHECK(q_is(db, "SELECT winnow FROM selection WHERE rowid=3",
		   "{\"cluster\":1,\"dsir\":-1.5e-3,\"late\":\"x\",\"keep\":false}"));
	CHECK(q_is(db, "SELECT record FROM selection WHERE rowid=2", recs[1]));
}

static void test_key_collisions_and_escapes(void)
{
	const char *db = tpath("keys.db");
	const char *recs[] = {
		/* "ID" and "Text" collide with fixed columns; "Score" then "score"
		 * collide with each other; "\u0061" is the key "a" */
		"{\"text\":\"t\\u00e9\\n\",\"id\":\"x\\\"y\",\"winnow\":{\"ID\":1,\"Text\":\"no\","
		"\"Score\":0.5,\"score\":0.7,\"\\u0061\":\"s\\\"q\",\"\":1}}",
		"{\"text\":\"u\",\"winnow\":{\"a\":\"plain\",\"Score\":0.9}}",
		NULL,
	};
	CHECK_EQ_INT(store_run(db, NULL, WN_STORE_REPLACE, recs), 0);
	CHECK(q_is(db, "SELECT group_concat(name, ',') FROM pragma_table_info('selection')",
		   "rowid,id,text,record,winnow,Score,a"));
	CHECK(q_is(db, "SELECT text FROM selection WHERE rowid=1", "t\xc3\xa9\n"));
	CHECK(q_is(db, "SELECT id FROM selection WHERE rowid=1", "x\"y"));
	CHECK(q_is(db, "SELECT Score FROM selection WHERE rowid=1", "0.5"));
	CHECK(q_is(db, "SELECT a FROM selection WHERE rowid=1", "s\"q"));
	CHECK(q_is(db, "SELECT a||' '||Score FROM selection WHERE rowid=2", "plain 0.9"));
}

static void test_hostile_names_are_quoted(void)
{
	const char *db = tpath("hostile.db");
	const char *table = "a\"; DROP TABLE runs; --";
	const char *recs[] = {
		"{\"text\":\"x\",\"winnow\":{\"k\\\"); DROP TABLE runs; --\":2}}",
		NULL,
	};
	CHECK_EQ_INT(store_run(db, table, WN_STORE_REPLACE, recs), 0);
	CHECK_EQ_INT(store_run(db, table, WN_STORE_APPEND, recs), 0);
	CHECK(q_is(db, "SELECT count(*) FROM runs", "2"));
	CHECK(q_is(db, "SELECT group_concat(name, '|') FROM (SELECT name FROM sqlite_master "
		       "WHERE type='table' ORDER BY name)", "a\"; DROP TABLE runs; --|runs"));
	CHECK(q_is(db, "SELECT table_name FROM runs WHERE run_id=1", table));
	CHECK(q_is(db, "SELECT \"k\"\"); DROP TABLE runs; --\" FROM \"a\"\"; DROP TABLE runs; --\" "
		       "WHERE rowid=2", "2"));
	size_t n;
	char *out = export_to(db, table, WN_STORE_JSONL, &n);
	CHECK(out != NULL);
	char want[256];
	snprintf(want, sizeof want, "%s\n%s\n", recs[0], recs[0]);
	CHECK_STR(out, want);
	free(out);

	char err[128];
	CHECK(wn_store_check_table("runs", err, sizeof err) < 0);
	CHECK(wn_store_check_table("RUNS", err, sizeof err) < 0);
	CHECK(wn_store_check_table("", err, sizeof err) < 0);
	CHECK(wn_store_check_table("sqlite_master", err, sizeof err) < 0);
	CHECK_EQ_INT(wn_store_check_table("runs2", err, sizeof err), 0);
	wn_store_opts o = {"runs", WN_STORE_REPLACE, 0, NULL, NULL, NULL, NULL, 0};
	CHECK(wn_store_begin(db, &o, errbuf, sizeof errbuf) == NULL);
	CHECK(q_is(db, "SELECT count(*) FROM runs", "2"));
}

static void test_append_and_replace(void)
{
	const char *db = tpath("modes.db");
	const char *r3[] = {"{\"text\":\"1\"}", "{\"text\":\"2\"}", "{\"text\":\"3\"}", NULL};
	const char *r2[] = {"{\"text\":\"4\",\"winnow\":{\"s\":1.5}}", "{\"text\":\"5\"}", NULL};
	const char *r1[] = {"{\"text\":\"6\"}", NULL};
	CHECK_EQ_INT(store_run(db, "t", WN_STORE_REPLACE, r3), 0);
	CHECK_EQ_INT(store_run(db, "t", WN_STORE_APPEND, r2), 0);
	CHECK(q_is(db, "SELECT group_concat(rowid||':'||text, ' ') FROM t", "1:1 2:2 3:3 4:4 5:5"));
	CHECK(q_is(db, "SELECT s FROM t WHERE rowid=4", "1.5"));
	CHECK(q_is(db, "SELECT group_concat(mode||' '||n_out||' '||rowid_first||'-'||rowid_last, ', ') "
		       "FROM runs", "replace 3 1-3, append 2 4-5"));
	/* append again: the column s is known from the table, not re-added */
	CHECK_EQ_INT(store_run(db, "t", WN_STORE_APPEND, r2), 0);
	CHECK(q_is(db, "SELECT count(*)||' '||sum(s) FROM t", "7 3.0"));
	CHECK_EQ_INT(store_run(db, "t", WN_STORE_REPLACE, r1), 0);
	CHECK(q_is(db, "SELECT group_concat(rowid||':'||text, ' ') FROM t", "1:6"));
	CHECK(q_is(db, "SELECT count(*) FROM pragma_table_info('t') WHERE name='s'", "0"));
	CHECK(q_is(db, "SELECT count(*) FROM runs", "4"));
	/* append to a table that is not a winnow table is refused */
	sqlite3 *h;
	CHECK_EQ_INT(sqlite3_open(db, &h), SQLITE_OK);
	CHECK_EQ_INT(sqlite3_exec(h, "CREATE TABLE other(x)", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
	CHECK(store_run(db, "other", WN_STORE_APPEND, r1) != 0);
	CHECK(strstr(errbuf, "not a winnow table") != NULL);
	/* an empty run still records itself */
	const char *none[] = {NULL};
	CHECK_EQ_INT(store_run(db, "t", WN_STORE_APPEND, none), 0);
	CHECK(q_is(db, "SELECT n_out||' '||ifnull(rowid_first,'null') FROM runs ORDER BY run_id DESC",
		   "0 null"));
}

static void test_runs_row(void)
{
	const char *db = tpath("runs.db");
	wn_store_opts o = {"sel", WN_STORE_REPLACE, 0, "winnow store runs.db --table sel 'a b.jsonl'",
			   "42", "{\"recipe\":\"r.yaml\"}", NULL, 0};
	wn_store *s = wn_store_begin(db, &o, errbuf, sizeof errbuf);
	CHECK(s != NULL);
	CHECK_EQ_INT(add(s, "{\"text\":\"x\"}"), 0);
	CHECK_EQ_INT(add(s, "{\"text\":\"y\"}"), 0);
	CHECK_EQ_INT(wn_store_add_input(s, "a b.jsonl", 1234, 0x0123456789abcdefULL), 0);
	CHECK_EQ_INT(wn_store_add_input(s, "q\"uote.gz", 5, 0xffULL), 0);
	int64_t run_id = 0;
	CHECK_EQ_INT(wn_store_commit(s, 3, 1, &run_id, errbuf, sizeof errbuf), 0);
	CHECK_EQ_INT(run_id, 1);
	CHECK(q_is(db, "SELECT command FROM runs", o.command));
	CHECK(q_is(db, "SELECT version FROM runs", WINNOW_VERSION));
	CHECK(q_is(db, "SELECT n_in||' '||n_out||' '||n_rejected||' '||seed||' '||table_name||' '||mode "
		       "FROM runs", "3 2 1 42 sel replace"));
	CHECK(q_is(db, "SELECT json_extract(extra, '$.recipe') FROM runs", "r.yaml"));
	CHECK(q_is(db, "SELECT group_concat(json_extract(value,'$.name')||'/'||"
		       "json_extract(value,'$.size')||'/'||json_extract(value,'$.xxh3'), ' ') "
		       "FROM runs, json_each(runs.inputs)",
		   "a b.jsonl/1234/0123456789abcdef q\"uote.gz/5/00000000000000ff"));
	char *st = q1(db, "SELECT started FROM runs"), *fi = q1(db, "SELECT finished FROM runs");
	CHECK(st && fi);
	regex_t re;
	CHECK_EQ_INT(regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$",
			     REG_EXTENDED | REG_NOSUB), 0);
	int ok = !regexec(&re, st, 0, NULL, 0) && !regexec(&re, fi, 0, NULL, 0) && strcmp(st, fi) <= 0;
	regfree(&re);
	free(st);
	free(fi);
	CHECK(ok);
	/* SQLite reads the timestamps as UTC datetimes */
	CHECK(q_is(db, "SELECT julianday(finished) >= julianday(started) AND "
		       "abs(julianday('now') - julianday(started)) < 1 FROM runs", "1"));
}

/* A run that is aborted (bad record under --on-error fail, a crash before
 * COMMIT) leaves the database exactly as before; readers never see a
 * half-written table. */
static void test_abort_and_isolation(void)
{
	const char *db = tpath("iso.db");
	const char *old[] = {"{\"text\":\"old1\"}", "{\"text\":\"old2\"}", NULL};
	CHECK_EQ_INT(store_run(db, NULL, WN_STORE_REPLACE, old), 0);

	wn_store_opts o = {NULL, WN_STORE_REPLACE, 0, NULL, NULL, NULL, NULL, 0};
	wn_store *s = wn_store_begin(db, &o, errbuf, sizeof errbuf);
	CHECK(s != NULL);
	CHECK_EQ_INT(add(s, "{\"text\":\"new1\",\"winnow\":{\"fresh\":1}}"), 0);
	/* a reader in the middle of the run sees the old table */
	CHECK(q_is(db, "SELECT group_concat(text, ',') FROM selection", "old1,old2"));
	CHECK_EQ_INT(add(s, "{\"text\":\"bad\",\"winnow\":[1,2]}"), WN_STORE_EBADREC);
	CHECK(strstr(errbuf, "not an object") != NULL);
	wn_store_abort(s);
	CHECK(q_is(db, "SELECT group_concat(text, ',') FROM selection", "old1,old2"));
	CHECK(q_is(db, "SELECT count(*) FROM pragma_table_info('selection') WHERE name='fresh'", "0"));
	CHECK(q_is(db, "SELECT count(*) FROM runs", "1"));
	CHECK(q_is(db, "PRAGMA journal_mode", "wal"));
	CHECK(q_is(db, "PRAGMA page_size", "16384"));

	/* a first run that fails removes the database it created */
	const char *fresh = tpath("fresh.db");
	s = wn_store_begin(fresh, &o, errbuf, sizeof errbuf);
	CHECK(s != NULL);
	CHECK_EQ_INT(add(s, "{\"text\":\"x\"}"), 0);
	wn_store_abort(s);
	struct stat sb;
	CHECK(stat(fresh, &sb) != 0);
	CHECK(stat(tpath("fresh.db-wal"), &sb) != 0);
	CHECK_EQ_INT(count_files("fresh.db"), 0); /* nor a temporary file */
}

/* Begin a run on db (NULL on failure) and add the records. */
static wn_store *run_open(const char *db, const char *table, int mode, const char *const *recs)
{
	wn_store_opts o = {table, mode, 0, "winnow store test", NULL, NULL, NULL, 0};
	wn_store *s = wn_store_begin(db, &o, errbuf, sizeof errbuf);
	for (int i = 0; s && recs[i]; i++)
		if (add(s, recs[i])) {
			wn_store_abort(s);
			return NULL;
		}
	return s;
}

static uint64_t nrecs(const char *const *recs)
{
	uint64_t n = 0;
	while (recs[n])
		n++;
	return n;
}

/* Everything a table and the runs log hold, except the timestamps. */
#define DUMP_T                                                                              \
	"SELECT (SELECT group_concat(name||':'||type, ' ') FROM pragma_table_info('t'))||' | '||" \
	"(SELECT group_concat(quote(rowid)||','||quote(id)||','||quote(text)||','||"           \
	"quote(record)||','||quote(winnow)||','||quote(score)||','||quote(cluster), ' ') "     \
	"FROM t)||' | '||(SELECT group_concat(run_id||','||n_out||','||mode||','||"            \
	"ifnull(rowid_first,'-')||'-'||ifnull(rowid_last,'-'), ' ') FROM runs)"

static const char *const race_a[] = {
	"{\"id\":\"a1\",\"text\":\"one\",\"winnow\":{\"Score\":2,\"cluster\":7}}",
	"{\"id\":\"a2\",\"text\":\"two\",\"winnow\":{\"cluster\":8.5,\"score\":\"s\"}}", NULL};
static const char *const race_b[] = {"{\"id\":\"b1\",\"text\":\"three\",\"winnow\":{\"score\":1}}",
				     "{\"id\":\"b2\",\"text\":\"four\",\"winnow\":{\"cluster\":3}}",
				     NULL};

/*
 * Two runs create the same database at once: neither sees the other's
 * temporary database, the first to commit puts its database in place, and
 * the second then appends (or replaces) into it exactly as a run started
 * after the first would have: the reference is the same two runs made one
 * after the other.
 */
static void race_check(int mode, const char *db, const char *ref)
{
	wn_store *a = run_open(db, "t", mode, race_a);
	CHECK(a != NULL);
	wn_store *b = run_open(db, "t", mode, race_b);
	CHECK(b != NULL);
	struct stat sb;
	CHECK(stat(db, &sb) != 0); /* a new database appears only at COMMIT */
	CHECK_EQ_INT(count_files("winnow-tmp"), 6); /* two files, each with -wal and -shm */
	int64_t id_b = 0, id_a = 0;
	CHECK_EQ_INT(wn_store_commit(b, nrecs(race_b), 0, &id_b, errbuf, sizeof errbuf), 0);
	CHECK_EQ_INT(wn_store_commit(a, nrecs(race_a), 0, &id_a, errbuf, sizeof errbuf), 0);
	CHECK_EQ_INT(id_b, 1);
	CHECK_EQ_INT(id_a, 2);
	CHECK_EQ_INT(store_run(ref, "t", mode, race_b), 0);
	CHECK_EQ_INT(store_run(ref, "t", mode, race_a), 0);
	char *got = q1(db, DUMP_T), *want = q1(ref, DUMP_T);
	CHECK(want != NULL);
	int same = got && !strcmp(got, want);
	if (!same)
		fprintf(stderr, "  merged: %s\n  serial: %s\n", got ? got : "NULL", want);
	free(got);
	free(want);
	CHECK(same);
	CHECK(q_is(db, "PRAGMA integrity_check", "ok"));
	CHECK(q_is(db, "PRAGMA journal_mode", "wal"));
	CHECK_EQ_INT(count_files("winnow-tmp"), 0);
}

static void test_concurrent_creators_append(void)
{
	race_check(WN_STORE_APPEND, tpath("race-a.db"), tpath("race-a-ref.db"));
	/* by hand: b's rows, then a's; a's "Score" clashes with the column
	 * score (it stays in winnow), its "cluster" values join the column */
	CHECK(q_is(tpath("race-a.db"),
		   "SELECT group_concat(rowid||':'||id||':'||quote(score)||':'||quote(cluster), ' ') "
		   "FROM t",
		   "1:b1:1:NULL 2:b2:NULL:3 3:a1:NULL:7 4:a2:'s':8.5"));
	CHECK(q_is(tpath("race-a.db"), "SELECT group_concat(rowid_first||'-'||rowid_last) FROM runs",
		   "1-2,3-4"));
}

static void test_concurrent_creators_replace(void)
{
	race_check(WN_STORE_REPLACE, tpath("race-r.db"), tpath("race-r-ref.db"));
	CHECK(q_is(tpath("race-r.db"), "SELECT group_concat(rowid||':'||id, ' ') FROM t",
		   "1:a1 2:a2"));
}

/*
 * A run that created nothing visible never removes a database: when the
 * first creator fails after another run put its database in place, or the
 * merge into what appeared is refused, the database stays as it is and
 * only the failed run's own temporary files go.
 */
static void test_failed_creator_keeps_the_winner(void)
{
	const char *db = tpath("keep.db");
	wn_store *a = run_open(db, "t", WN_STORE_APPEND, race_a);
	CHECK(a != NULL);
	CHECK_EQ_INT(store_run(db, "t", WN_STORE_APPEND, race_b), 0);
	CHECK_EQ_INT(add(a, "{\"text\":\"bad\",\"winnow\":[1]}"), WN_STORE_EBADREC);
	wn_store_abort(a);
	CHECK(q_is(db, "SELECT group_concat(id) FROM t", "b1,b2"));
	CHECK(q_is(db, "SELECT count(*) FROM runs", "1"));
	CHECK_EQ_INT(count_files("winnow-tmp"), 0);

	/* what appeared is not winnow's: the merge fails, nothing changes */
	const char *other = tpath("other.db");
	a = run_open(other, "plain", WN_STORE_APPEND, race_a);
	CHECK(a != NULL);
	sqlite3 *h;
	CHECK_EQ_INT(sqlite3_open(other, &h), SQLITE_OK);
	CHECK_EQ_INT(sqlite3_exec(h, "CREATE TABLE plain(x); INSERT INTO plain VALUES(1)", NULL,
				  NULL, NULL),
		     SQLITE_OK);
	sqlite3_close(h);
	CHECK(wn_store_commit(a, 2, 0, NULL, errbuf, sizeof errbuf) != 0);
	CHECK(strstr(errbuf, "not a winnow table") != NULL);
	CHECK(q_is(other, "SELECT group_concat(name) FROM sqlite_master", "plain"));
	CHECK(q_is(other, "SELECT group_concat(x) FROM plain", "1"));
	CHECK_EQ_INT(count_files("winnow-tmp"), 0);
}

/* Many batches through the writer thread (spares recycled), with a key
 * that first appears deep in the run: every row arrives, in order. */
static void test_many_rows_through_the_writer(void)
{
	const char *db = tpath("many.db");
	wn_store_opts o = {NULL, WN_STORE_REPLACE, 0, NULL, NULL, NULL, NULL, 0};
	wn_store *s = wn_store_begin(db, &o, errbuf, sizeof errbuf);
	CHECK(s != NULL);
	wn_buf all = WN_BUF_INIT;
	char rec[160];
	int n = 30000, rc = 0;
	long late_sum = 0;
	for (int i = 0; i < n && rc == 0; i++) {
		late_sum += i < 20000 ? 0 : i % 7;
		if (i < 20000)
			snprintf(rec, sizeof rec, "{\"id\":%d,\"text\":\"row %d\"}", i, i);
		else
			snprintf(rec, sizeof rec, "{\"id\":%d,\"text\":\"row %d\",\"winnow\":{\"late\":%d}}",
				 i, i, i % 7);
		rc = add(s, rec);
		wn_buf_puts(&all, rec);
		wn_buf_putc(&all, '\n');
	}
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_INT(wn_store_rows(s), n);
	CHECK_EQ_INT(wn_store_commit(s, n, 0, NULL, errbuf, sizeof errbuf), 0);
	char want[64];
	snprintf(want, sizeof want, "%d %ld %d", n, late_sum, n);
	CHECK(q_is(db, "SELECT count(*) || ' ' || sum(late) || ' ' || max(rowid) FROM selection",
		   want));
	CHECK(q_is(db, "SELECT count(*) FROM selection WHERE id != rowid - 1 OR text != 'row ' || id",
		   "0"));
	size_t len;
	char *out = export_to(db, NULL, WN_STORE_JSONL, &len);
	int same = out && len == all.len && !memcmp(out, all.data, len);
	free(out);
	wn_buf_free(&all);
	CHECK(same);
}

/* An error inside the writer (here a user's trigger refusing a row deep in
 * the run) fails the run, whichever call reports it, and leaves the table
 * as it was. */
static void test_writer_error_fails_the_run(void)
{
	const char *db = tpath("trigger.db");
	const char *one[] = {"{\"text\":\"keep\"}", NULL};
	CHECK_EQ_INT(store_run(db, "t", WN_STORE_REPLACE, one), 0);
	sqlite3 *h;
	CHECK_EQ_INT(sqlite3_open(db, &h), SQLITE_OK);
	CHECK_EQ_INT(sqlite3_exec(h, "CREATE TRIGGER no_boom BEFORE INSERT ON t WHEN NEW.text = "
				     "'boom' BEGIN SELECT RAISE(ABORT, 'no boom here'); END",
				  NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
	wn_store_opts o = {"t", WN_STORE_APPEND, 0, NULL, NULL, NULL, NULL, 0};
	wn_store *s = wn_store_begin(db, &o, errbuf, sizeof errbuf);
	CHECK(s != NULL);
	int rc = 0;
	for (int i = 0; i < 10000 && rc == 0; i++)
		rc = add(s, i == 2500 ? "{\"text\":\"boom\"}" : "{\"text\":\"fine\"}");
	if (rc == 0)
		rc = wn_store_commit(s, 10000, 0, NULL, errbuf, sizeof errbuf);
	else
		wn_store_abort(s);
	CHECK(rc != 0);
	CHECK(strstr(errbuf, "no boom here") != NULL);
	CHECK(q_is(db, "SELECT group_concat(text) FROM t", "keep"));
	CHECK(q_is(db, "SELECT count(*) FROM runs", "1"));
}

static void test_database_errors(void)
{
	wn_store_opts o = {NULL, WN_STORE_REPLACE, -1, NULL, NULL, NULL, NULL, 0};
	/* a directory */
	CHECK(wn_store_begin(tmpdir, &o, errbuf, sizeof errbuf) == NULL);
	CHECK(strstr(errbuf, "unable to open") != NULL);
	/* a path under /proc cannot be created */
	CHECK(wn_store_begin("/proc/winnow-test/x.db", &o, errbuf, sizeof errbuf) == NULL);
	/* not a database */
	const char *txt = tpath("notdb.db");
	const char *line = "this is not a database, just text\n";
	FILE *f = fopen(txt, "w");
	CHECK(f != NULL);
	for (int i = 0; i < 200; i++)
		fputs(line, f);
	fclose(f);
	CHECK(wn_store_begin(txt, &o, errbuf, sizeof errbuf) == NULL);
	CHECK(strstr(errbuf, "not a database") != NULL);
	size_t n;
	char *after = slurp(txt, &n);
	int same = after && n == 200 * strlen(line) && !strncmp(after, line, strlen(line));
	free(after);
	CHECK(same);
	/* locked: another connection holds the write lock */
	const char *db = tpath("locked.db");
	const char *one[] = {"{\"text\":\"x\"}", NULL};
	CHECK_EQ_INT(store_run(db, NULL, WN_STORE_REPLACE, one), 0);
	sqlite3 *h;
	CHECK_EQ_INT(sqlite3_open(db, &h), SQLITE_OK);
	CHECK_EQ_INT(sqlite3_exec(h, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	wn_store *s = wn_store_begin(db, &o, errbuf, sizeof errbuf);
	sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(h);
	CHECK(s == NULL);
	CHECK(strstr(errbuf, "locked") != NULL);
	/* export errors: missing database (not created), missing table */
	wn_writer *w = wn_writer_open(tpath("x.out"), 0, errbuf, sizeof errbuf);
	uint64_t rows;
	CHECK(w != NULL);
	CHECK(wn_store_export(tpath("missing.db"), NULL, WN_STORE_JSONL, w, &rows, errbuf,
			      sizeof errbuf) < 0);
	struct stat sb;
	CHECK(stat(tpath("missing.db"), &sb) != 0);
	CHECK(wn_store_export(db, "nope", WN_STORE_JSONL, w, &rows, errbuf, sizeof errbuf) < 0);
	CHECK(strstr(errbuf, "no such table") != NULL);
	wn_writer_abort(w);
}

/* Store a Debian slice read through the real reader; export must give the
 * same bytes back. */
static void test_roundtrip_debian(void)
{
	char src[512];
	snprintf(src, sizeof src, "%s/corpora/debian.jsonl.gz", test_shared_dir());
	struct stat sb;
	if (stat(src, &sb) != 0)
		SKIP("%s not found", src);
	wn_policy pol = {.cmd = "test"};
	wn_reader_opts ro = {.policy = &pol};
	const char *paths[] = {src};
	wn_reader *r = wn_reader_open(paths, 1, &ro);
	CHECK(r != NULL);
	const char *db = tpath("debian.db");
	wn_store_opts o = {"deb", WN_STORE_REPLACE, 0, NULL, NULL, NULL, NULL, 0};
	wn_store *s = wn_store_begin(db, &o, errbuf, sizeof errbuf);
	CHECK(s != NULL);
	wn_buf expect = WN_BUF_INIT, scratch = WN_BUF_INIT;
	wn_record rec;
	int rc = 0;
	while (wn_reader_count(r) < 3000 && (rc = wn_reader_next(r, &rec)) > 0) {
		wn_span v, t;
		if (!wn_json_get(rec.json, "text", &v) || wn_json_string(v, &scratch, &t))
			break;
		if (wn_store_add(s, rec.json, t, errbuf, sizeof errbuf))
			break;
		wn_buf_append(&expect, rec.json.p, rec.json.n);
		wn_buf_putc(&expect, '\n');
	}
	wn_reader_close(r);
	CHECK_EQ_INT(wn_store_rows(s), 3000);
	CHECK_EQ_INT(wn_store_commit(s, 3000, 0, NULL, errbuf, sizeof errbuf), 0);
	size_t n;
	char *out = export_to(db, "deb", WN_STORE_JSONL, &n);
	int same = out && n == expect.len && !memcmp(out, expect.data, n);
	free(out);
	wn_buf_free(&expect);
	wn_buf_free(&scratch);
	CHECK(same);
	CHECK(q_is(db, "SELECT id FROM deb WHERE rowid=1", "0ad"));
	CHECK(q_is(db, "SELECT count(DISTINCT id) FROM deb", "3000"));
}

static void test_csv_export_quoting(void)
{
	const char *db = tpath("csv.db");
	const char *recs[] = {
		"{\"id\":\"p,1\",\"text\":\"say \\\"hi\\\", then\\r\\nleave\",\"winnow\":"
		"{\"cluster\":2,\"score\":0.1,\"note\":\"a\\\"b\"}}",
		"{\"id\":12,\"text\":\"plain\",\"winnow\":{\"score\":1e-7,\"odd,name\":true}}",
		"{\"text\":\"\"}",
		NULL,
	};
	CHECK_EQ_INT(store_run(db, NULL, WN_STORE_REPLACE, recs), 0);
	size_t n;
	char *out = export_to(db, NULL, WN_STORE_CSV, &n);
	CHECK(out != NULL);
	const char *want =
		"id,text,cluster,score,note,\"odd,name\"\n"
		"\"p,1\",\"say \"\"hi\"\", then\r\nleave\",2,0.1,\"a\"\"b\",\n"
		"12,plain,,1e-07,,1\n"
		",,,,,\n";
	CHECK_STR(out, want);
	free(out);
}

/* store/seen.h: the content hash is XXH3-64 of the record's bytes, or of
 * the id's value (a string unescaped: "\u0061b" is "ab"; a number as its
 * JSON text); the set holds what was added (0 included), through growth. */
static void test_content_hash_and_seen(void)
{
	wn_buf sc = WN_BUF_INIT;
#define SPAN(lit) ((wn_span){lit, sizeof lit - 1})
	wn_span r1 = SPAN("{\"id\":\"ab\",\"x\":1}"), r2 = SPAN("{\"x\":2,\"id\":\"\\u0061b\"}");
	wn_span r3 = SPAN("{\"id\":7}"), r4 = SPAN("{\"id\": 7, \"y\": 0}");
#undef SPAN
	CHECK(wn_store_content_hash(r1, NULL, &sc) != wn_store_content_hash(r2, NULL, &sc));
	CHECK(wn_store_content_hash(r1, "id", &sc) == wn_store_content_hash(r2, "id", &sc));
	CHECK(wn_store_content_hash(r3, "id", &sc) == wn_store_content_hash(r4, "id", &sc));
	CHECK(wn_store_content_hash(r1, "id", &sc) != wn_store_content_hash(r3, "id", &sc));
	/* no such field: the record's bytes */
	CHECK(wn_store_content_hash(r1, "nope", &sc) == wn_store_content_hash(r1, NULL, &sc));
	wn_store_seen set = {0};
	CHECK(!wn_store_seen_has(&set, 5));
	for (uint64_t i = 0; i < 20000; i++)
		CHECK_EQ_INT(wn_store_seen_add(&set, i * 0x100000001ull), 0);
	CHECK_EQ_INT(wn_store_seen_add(&set, 0), 0); /* already there: i = 0 */
	CHECK_EQ_INT(set.n, 20000);
	int missing = 0, extra = 0;
	for (uint64_t i = 0; i < 20000; i++)
		missing += !wn_store_seen_has(&set, i * 0x100000001ull);
	for (uint64_t i = 1; i < 2000; i++)
		extra += wn_store_seen_has(&set, i * 0x100000001ull + 1);
	CHECK_EQ_INT(missing, 0);
	CHECK_EQ_INT(extra, 0);
	wn_store_seen_free(&set);
	wn_buf_free(&sc);
}

int main(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/wn_test_store_XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_columns_follow_scalar_annotations);
	RUN(test_key_collisions_and_escapes);
	RUN(test_hostile_names_are_quoted);
	RUN(test_append_and_replace);
	RUN(test_runs_row);
	RUN(test_abort_and_isolation);
	RUN(test_concurrent_creators_append);
	RUN(test_concurrent_creators_replace);
	RUN(test_failed_creator_keeps_the_winner);
	RUN(test_many_rows_through_the_writer);
	RUN(test_writer_error_fails_the_run);
	RUN(test_database_errors);
	RUN(test_roundtrip_debian);
	RUN(test_csv_export_quoting);
	RUN(test_content_hash_and_seen);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	return TEST_EXIT;
}
