/*
 * store/store.c — writing selection tables and the `runs` row to SQLite.
 *
 * Owns: the write side of store/store.h: opening the database in WAL mode,
 * the single BEGIN IMMEDIATE ... COMMIT transaction of a run, the schema,
 * the annotation-column cache, and the prepared INSERT.
 * Borrows: SQLite; io/json.h to walk records (already validated by the
 * reader, so the scanner can trust their syntax); io/intern.h for the
 * annotation keys; io/cleanup.h to have a new database's temporary files
 * removed if the process is killed.
 *
 * A new database is built under a temporary name in the same directory
 * and renamed into place (never replacing anything) after its COMMIT; a
 * run that finds a database there by then merges into it instead (see
 * "publishing a new database"). So a failed or killed run removes only
 * files it made under its own temporary name, never a database another
 * run may be using.
 *
 * Speed comes from four things: one transaction, one prepared statement
 * reused for every row, a hash map from a winnow key's raw bytes to its
 * column so the hot path never touches the schema (only a key never seen
 * before costs an ALTER TABLE and a re-prepare, once per run), and (in the
 * step, store/store_step.c) io/batch's reader thread, which reads and
 * validates the next records while this thread inserts.
 */
#include "store/store.h"
#include "io/cleanup.h"
#include "io/errf.h"
#include "io/intern.h"
#include "store/seen.h"
#include "store/sqlerr.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#ifndef WINNOW_VERSION
#define WINNOW_VERSION "unknown"
#endif

/* SQLite allows 2000 columns per table by default; keep well below. */
#define MAX_ANN_COLS 1000

enum { SLOT_NONE_YET = -1, SLOT_NEVER = -2 };

struct ann_col {
	char *name; /* the unescaped key, which is also the column name */
	size_t len;
};

struct pending { /* one annotation value of the current row */
	int col;
	wn_span v;
};

struct wn_store {
	sqlite3 *db;
	char *path;
	char *tmp;   /* a new database: the temporary file it is built in */
	int busy_ms; /* SQLite's busy timeout */
	int in_txn;
	char *table;
	wn_buf qtable; /* the table name quoted as an identifier */
	int mode;
	sqlite3_stmt *ins;
	int ins_dirty; /* columns were added: re-prepare before the next row */

	struct ann_col *cols;
	int ncols, capcols;
	wn_intern *keys; /* raw key bytes (with quotes) -> key id */
	int *key_col;    /* per key id: column >= 0, SLOT_NONE_YET or SLOT_NEVER */
	size_t key_col_cap;
	struct pending *pend;
	size_t npend, cappend;

	wn_buf scratch, idbuf, sql, kscratch;
	uint64_t rows;              /* inserted */
	uint64_t present;           /* append modes: records already in the table */
	wn_store_seen seen;         /* append modes: content hashes in the table */
	char *id_field;             /* hash this field's value (NULL: the record) */
	int vectors;                /* enum wn_store_vectors */
	int fresh_table;            /* append modes: the table was created by this run */
	wn_buf vbuf, wbuf;          /* the record and winnow without their vectors */
	int64_t rowid_first, rowid_last;
	char started[32];
	wn_buf inputs; /* JSON array text, built as inputs are reported */
	int ninputs;
	char *command, *seed, *extra;
};

static const char *const fixed_cols[] = {"rowid", "id", "text", "record", "winnow"};
#define NFIXED ((int)(sizeof fixed_cols / sizeof fixed_cols[0]))

/*
 * Why a database file cannot be opened, in words a user can act on.
 * SQLite's own errno is often from its last fallback attempt (opening a
 * file it may not create read-only says "No such file or directory"), so
 * ask the file system directly.
 */
static int open_reason(const char *path, char *why, size_t n)
{
	struct stat st;
	if (stat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode)) {
			snprintf(why, n, "is a directory");
			return 1;
		}
		if (access(path, R_OK | W_OK)) {
			snprintf(why, n, "%s", strerror(errno));
			return 1;
		}
		return 0;
	}
	if (errno != ENOENT) {
		snprintf(why, n, "%s", strerror(errno));
		return 1;
	}
	char *dir = strdup(path);
	if (!dir)
		return 0;
	char *slash = strrchr(dir, '/');
	if (!slash)
		strcpy(dir, ".");
	else if (slash == dir)
		slash[1] = 0;
	else
		*slash = 0;
	int r = 1;
	if (stat(dir, &st) != 0)
		snprintf(why, n, "directory %s: %s", dir, strerror(errno));
	else if (!S_ISDIR(st.st_mode))
		snprintf(why, n, "%s is not a directory", dir);
	else if (access(dir, W_OK | X_OK))
		snprintf(why, n, "cannot create it in %s: %s", dir, strerror(errno));
	else
		r = 0;
	free(dir);
	return r;
}

/* db_err for failures while opening: with the file system's reason. */
static void open_err(sqlite3 *db, const char *path, char *err, size_t errlen)
{
	char why[300];
	int code = db ? sqlite3_errcode(db) & 0xff : SQLITE_NOMEM;
	if ((code == SQLITE_CANTOPEN || code == SQLITE_READONLY || code == SQLITE_PERM) &&
	    open_reason(path, why, sizeof why))
		wn_errf(err, errlen, "%s (%s)", sqlite3_errmsg(db), why);
	else
		wn_store_db_err(db, err, errlen);
}

static char *dup_str(const char *s)
{
	return s ? strdup(s) : NULL;
}

int wn_store_parse_mode(const char *s)
{
	if (!s)
		return -1;
	if (!strcmp(s, "replace"))
		return WN_STORE_REPLACE;
	if (!strcmp(s, "append"))
		return WN_STORE_APPEND;
	if (!strcmp(s, "append-new"))
		return WN_STORE_APPEND_NEW;
	return -1;
}

int wn_store_parse_vectors(const char *s)
{
	static const char *const names[] = {"record", "both", "drop"};
	for (int i = 0; s && i < 3; i++)
		if (!strcmp(s, names[i]))
			return i;
	return -1;
}

int wn_store_quote_ident(wn_buf *out, const char *name, size_t n)
{
	if (wn_buf_putc(out, '"'))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (name[i] == '"' && wn_buf_putc(out, '"'))
			return -1;
		if (wn_buf_putc(out, name[i]))
			return -1;
	}
	return wn_buf_putc(out, '"');
}

int wn_store_check_table(const char *name, char *err, size_t errlen)
{
	if (!name || !*name) {
		wn_errf(err, errlen, "empty table name");
		return -1;
	}
	if (!strcasecmp(name, WN_STORE_RUNS_TABLE)) {
		wn_errf(err, errlen, "table name '%s' is reserved for winnow's run log", name);
		return -1;
	}
	if (!strncasecmp(name, "sqlite_", 7)) {
		wn_errf(err, errlen, "table names beginning with 'sqlite_' are reserved by SQLite");
		return -1;
	}
	return 0;
}

/* ISO 8601 UTC with milliseconds: 2024-05-01T12:34:56.789Z */
static void iso_now(char out[32])
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, 32 - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

static int exec_sql(wn_store *s, const char *sql, char *err, size_t errlen)
{
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		wn_store_db_err(s->db, err, errlen);
		return -1;
	}
	return 0;
}

/* ---- the annotation-column cache -------------------------------------- */

static int ascii_ieq(const char *a, size_t an, const char *b, size_t bn)
{
	return an == bn && !strncasecmp(a, b, an);
}

/* What column a key maps to, for a key first met: an existing column of
 * exactly that name, SLOT_NEVER when it cannot have one, else SLOT_NONE_YET. */
static int classify_key(const wn_store *s, const char *key, size_t n)
{
	if (n == 0 || memchr(key, 0, n))
		return SLOT_NEVER;
	for (int i = 0; i < NFIXED; i++)
		if (ascii_ieq(key, n, fixed_cols[i], strlen(fixed_cols[i])))
			return SLOT_NEVER;
	for (int i = 0; i < s->ncols; i++) {
		if (s->cols[i].len == n && !memcmp(s->cols[i].name, key, n))
			return i;
		if (ascii_ieq(key, n, s->cols[i].name, s->cols[i].len))
			return SLOT_NEVER;
	}
	return SLOT_NONE_YET;
}

static int cols_push(wn_store *s, const char *name, size_t n)
{
	if (s->ncols == s->capcols) {
		int cap = s->capcols ? 2 * s->capcols : 16;
		struct ann_col *c = realloc(s->cols, cap * sizeof *c);
		if (!c)
			return -1;
		s->cols = c;
		s->capcols = cap;
	}
	char *copy = malloc(n + 1);
	if (!copy)
		return -1;
	memcpy(copy, name, n);
	copy[n] = 0;
	s->cols[s->ncols].name = copy;
	s->cols[s->ncols].len = n;
	s->ncols++;
	return 0;
}

/* The id of a raw key, registered (and classified) when first met; -1
 * when out of memory. */
static int64_t key_lookup(wn_store *s, wn_span raw)
{
	int64_t id = wn_intern_find(s->keys, raw.p, raw.n);
	if (id >= 0)
		return id;
	size_t n = wn_intern_count(s->keys);
	if (n == s->key_col_cap) {
		size_t cap = n ? 2 * n : 64;
		int *c = realloc(s->key_col, cap * sizeof *c);
		if (!c)
			return -1;
		s->key_col = c;
		s->key_col_cap = cap;
	}
	wn_span key;
	if (wn_json_string(raw, &s->scratch, &key))
		return -1;
	int col = classify_key(s, key.p, key.n);
	id = wn_intern_put(s->keys, raw.p, raw.n, NULL);
	if (id >= 0)
		s->key_col[id] = col;
	return id;
}

static int is_integer_text(wn_span v)
{
	for (size_t i = 0; i < v.n; i++)
		if (v.p[i] == '.' || v.p[i] == 'e' || v.p[i] == 'E')
			return 0;
	return 1;
}

/* Add a column for key id k whose value is v (a non-null scalar). */
static int add_column(wn_store *s, size_t k, wn_span v, char *err, size_t errlen)
{
	if (s->ncols >= MAX_ANN_COLS) {
		s->key_col[k] = SLOT_NEVER;
		return 0;
	}
	wn_span raw, key;
	raw.p = wn_intern_str(s->keys, k, &raw.n);
	if (wn_json_string(raw, &s->scratch, &key))
		goto oom;
	const char *type = "TEXT";
	int t = wn_json_type_of(v);
	if (t == WN_JSON_NUMBER)
		type = is_integer_text(v) ? "INTEGER" : "REAL";
	else if (t == WN_JSON_TRUE || t == WN_JSON_FALSE)
		type = "INTEGER";
	wn_buf_reset(&s->sql);
	if (wn_buf_printf(&s->sql, "ALTER TABLE %s ADD COLUMN ", wn_buf_cstr(&s->qtable)) ||
	    wn_store_quote_ident(&s->sql, key.p, key.n) || wn_buf_printf(&s->sql, " %s", type))
		goto oom;
	if (cols_push(s, key.p, key.n))
		goto oom;
	if (exec_sql(s, wn_buf_cstr(&s->sql), err, errlen)) {
		free(s->cols[--s->ncols].name);
		return -1;
	}
	s->key_col[k] = s->ncols - 1;
	s->ins_dirty = 1;
	return 0;
oom:
	wn_errf(err, errlen, "out of memory");
	return -1;
}

/* ---- the insert statement --------------------------------------------- */

static int prepare_insert(wn_store *s, char *err, size_t errlen)
{
	if (s->ins) {
		sqlite3_finalize(s->ins);
		s->ins = NULL;
	}
	wn_buf_reset(&s->sql);
	int bad = wn_buf_printf(&s->sql, "INSERT INTO %s(id, text, record, winnow",
				wn_buf_cstr(&s->qtable));
	for (int i = 0; i < s->ncols && !bad; i++)
		bad = wn_buf_puts(&s->sql, ", ") ||
		      wn_store_quote_ident(&s->sql, s->cols[i].name, s->cols[i].len);
	bad = bad || wn_buf_puts(&s->sql, ") VALUES(?, ?, ?, ?");
	for (int i = 0; i < s->ncols && !bad; i++)
		bad = wn_buf_puts(&s->sql, ", ?");
	bad = bad || wn_buf_putc(&s->sql, ')');
	if (bad) {
		wn_errf(err, errlen, "out of memory");
		return -1;
	}
	if (sqlite3_prepare_v3(s->db, wn_buf_cstr(&s->sql), -1, SQLITE_PREPARE_PERSISTENT, &s->ins,
			       NULL) != SQLITE_OK) {
		wn_store_db_err(s->db, err, errlen);
		return -1;
	}
	s->ins_dirty = 0;
	return 0;
}

/* Bind one annotation value by its JSON type (SQLite's column affinity
 * does the rest). Strings without escapes point into the record. */
static int bind_value(wn_store *s, int param, wn_span v)
{
	sqlite3_stmt *st = s->ins;
	switch (wn_json_type_of(v)) {
	case WN_JSON_NUMBER: {
		int64_t iv;
		double dv;
		if (is_integer_text(v) && !wn_json_int64(v, &iv))
			return sqlite3_bind_int64(st, param, iv);
		if (wn_json_number(v, &dv))
			return SQLITE_MISMATCH;
		if (dv - dv != 0) /* overflowed to infinity: keep the text */
			return sqlite3_bind_text(st, param, v.p, (int)v.n, SQLITE_STATIC);
		return sqlite3_bind_double(st, param, dv);
	}
	case WN_JSON_STRING: {
		wn_span t;
		if (wn_json_string(v, &s->scratch, &t))
			return SQLITE_MISMATCH;
		int inrec = t.p >= v.p && t.p < v.p + v.n;
		return sqlite3_bind_text64(st, param, t.p, t.n,
					   inrec ? SQLITE_STATIC : SQLITE_TRANSIENT, SQLITE_UTF8);
	}
	case WN_JSON_TRUE:
		return sqlite3_bind_int(st, param, 1);
	case WN_JSON_FALSE:
		return sqlite3_bind_int(st, param, 0);
	default: /* null, or an object/array under a scalar key: NULL */
		return sqlite3_bind_null(st, param);
	}
}

/* ---- opening a run ----------------------------------------------------- */

static int create_runs(wn_store *s, char *err, size_t errlen)
{
	return exec_sql(s,
			"CREATE TABLE IF NOT EXISTS main." WN_STORE_RUNS_TABLE "("
			"run_id INTEGER PRIMARY KEY, started TEXT, finished TEXT, "
			"version TEXT, command TEXT, inputs TEXT, "
			"n_in INTEGER, n_out INTEGER, n_rejected INTEGER, seed TEXT, "
			"table_name TEXT, mode TEXT, rowid_first INTEGER, rowid_last INTEGER, "
			"extra TEXT)",
			err, errlen);
}

static int create_table(wn_store *s, char *err, size_t errlen)
{
	wn_buf_reset(&s->sql);
	if (wn_buf_printf(&s->sql,
			  "CREATE TABLE %s(rowid INTEGER PRIMARY KEY, id TEXT, text TEXT, "
			  "record TEXT NOT NULL, winnow TEXT)",
			  wn_buf_cstr(&s->qtable))) {
		wn_errf(err, errlen, "out of memory");
		return -1;
	}
	return exec_sql(s, wn_buf_cstr(&s->sql), err, errlen);
}

/* Append modes: the content hash of every record in the table. */
static int load_seen(wn_store *s, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	if (s->fresh_table)
		return 0;
	wn_buf_reset(&s->sql);
	if (wn_buf_printf(&s->sql, "SELECT record FROM %s", wn_buf_cstr(&s->qtable))) {
		wn_errf(err, errlen, "out of memory");
		return -1;
	}
	if (sqlite3_prepare_v2(s->db, wn_buf_cstr(&s->sql), -1, &st, NULL) != SQLITE_OK) {
		wn_store_db_err(s->db, err, errlen);
		return -1;
	}
	int rc, bad = 0;
	while (!bad && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		wn_span rec = {(const char *)sqlite3_column_text(st, 0), 0};
		rec.n = (size_t)sqlite3_column_bytes(st, 0);
		bad = rec.p && wn_store_seen_add(&s->seen, wn_store_content_hash(rec, s->id_field,
									     &s->kscratch));
	}
	sqlite3_finalize(st);
	if (bad)
		wn_errf(err, errlen, "out of memory");
	else if (rc != SQLITE_DONE)
		wn_store_db_err(s->db, err, errlen);
	return bad || rc != SQLITE_DONE ? -1 : 0;
}

/*
 * Append mode: reuse the table when it exists. Its fixed columns must be
 * there (else it is not a winnow table); every other column is an
 * annotation column already known, in table order.
 */
static int load_table(wn_store *s, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "SELECT name FROM pragma_table_info(?1, 'main')", -1, &st,
			       NULL) != SQLITE_OK) {
		wn_store_db_err(s->db, err, errlen);
		return -1;
	}
	sqlite3_bind_text(st, 1, s->table, -1, SQLITE_STATIC);
	int ncol = 0, have = 0, rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		size_t n = (size_t)sqlite3_column_bytes(st, 0);
		int fixed = 0;
		ncol++;
		for (int i = 1; i < NFIXED; i++)
			if (ascii_ieq(name, n, fixed_cols[i], strlen(fixed_cols[i])))
				fixed = 1, have |= 1 << i;
		if (!fixed && !ascii_ieq(name, n, "rowid", 5) && cols_push(s, name, n)) {
			sqlite3_finalize(st);
			wn_errf(err, errlen, "out of memory");
			return -1;
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		wn_store_db_err(s->db, err, errlen);
		return -1;
	}
	if (ncol == 0) {
		s->fresh_table = 1; /* nothing stored yet: no hashes to load */
		return create_table(s, err, errlen);
	}
	if (have != 0x1e) {
		wn_errf(err, errlen,
			"table '%s' is not a winnow table (it lacks id, text, record or winnow)",
			s->table);
		return -1;
	}
	return 0;
}

/*
 * A new database is built under a temporary name beside `path` and moved
 * into place only after its COMMIT (publish, below). Nobody else knows
 * that name, so until then every file of the run is provably this run's:
 * a failed or killed run removes exactly those and nothing at `path`, and
 * two runs that create the same database at once never share (or delete)
 * each other's files. SQLite's side files for the temporary name are
 * registered with io/cleanup.h before SQLite can create them.
 */
static const char *const side_sfx[] = {"-wal", "-shm", "-journal"};
#define NSIDE ((int)(sizeof side_sfx / sizeof side_sfx[0]))

/* Is `path` a database this run has to create? */
static int path_is_new(const char *path)
{
	struct stat st;
	if (!*path || !strcmp(path, ":memory:"))
		return 0;
	return lstat(path, &st) != 0 && errno == ENOENT;
}

/* Remove the temporary database and its side files: unlink, then forget
 * (a signal in between unlinks a name that is gone already). */
static void tmp_discard(wn_store *s)
{
	if (!s->tmp)
		return;
	wn_buf p = WN_BUF_INIT;
	for (int i = 0; i < NSIDE; i++) {
		wn_buf_reset(&p);
		if (wn_buf_printf(&p, "%s%s", s->tmp, side_sfx[i]))
			continue;
		unlink(wn_buf_cstr(&p));
		wn_cleanup_remove(wn_buf_cstr(&p));
	}
	wn_buf_free(&p);
	unlink(s->tmp);
	wn_cleanup_remove(s->tmp);
	free(s->tmp);
	s->tmp = NULL;
}

/* Why creating a file beside `path` failed (errno e), in words. */
static void create_err(const char *path, int e, char *err, size_t errlen)
{
	char why[300];
	if (!open_reason(path, why, sizeof why))
		snprintf(why, sizeof why, "%s", strerror(e));
	wn_errf(err, errlen, "unable to open database file (%s)", why);
}

/*
 * Create the temporary file "<path>.winnow-tmp-<pid>-<n>" with O_EXCL (so
 * it is ours) and register it and its side-file names for removal.
 */
static int tmp_create(wn_store *s, char *err, size_t errlen)
{
	wn_buf name = WN_BUF_INIT;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	unsigned long salt = (unsigned long)ts.tv_nsec;
	int fd = -1, e = 0;
	for (int tries = 0; tries < 100 && fd < 0; tries++) {
		wn_buf_reset(&name);
		if (wn_buf_printf(&name, "%s.winnow-tmp-%ld-%lx", s->path, (long)getpid(),
				  salt + (unsigned long)tries)) {
			e = ENOMEM;
			break;
		}
		fd = wn_cleanup_create(wn_buf_cstr(&name), 0644);
		e = errno;
		if (fd < 0 && e != EEXIST)
			break;
	}
	if (fd < 0) {
		wn_buf_free(&name);
		create_err(s->path, e, err, errlen);
		return -1;
	}
	close(fd);
	s->tmp = strdup(wn_buf_cstr(&name));
	if (!s->tmp) {
		unlink(wn_buf_cstr(&name));
		wn_cleanup_remove(wn_buf_cstr(&name));
		wn_buf_free(&name);
		wn_errf(err, errlen, "out of memory");
		return -1;
	}
	int bad = 0;
	for (int i = 0; i < NSIDE && !bad; i++) {
		wn_buf_reset(&name);
		bad = wn_buf_printf(&name, "%s%s", s->tmp, side_sfx[i]) ||
		      wn_cleanup_add(wn_buf_cstr(&name));
	}
	wn_buf_free(&name);
	if (bad) {
		wn_errf(err, errlen, "cannot register the temporary database for removal (%s)",
			strerror(errno));
		return -1;
	}
	return 0;
}

/* Open `file` as the run's connection; errors name the user's path. */
static int db_connect(wn_store *s, const char *file, int flags, char *err, size_t errlen)
{
	int rc = sqlite3_open_v2(file, &s->db, flags | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		open_err(s->db, s->path, err, errlen);
		sqlite3_close(s->db);
		s->db = NULL;
		return -1;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, s->busy_ms);
	return 0;
}

/* WAL mode and the run's pragmas; page size first for a new database. */
static int db_setup(wn_store *s, int fresh, char *err, size_t errlen)
{
	/* A database this run creates gets 16 KiB pages: selection rows are
	 * long (text plus the record), and bigger pages cut SQLite's CPU time
	 * per row by about a third here. It must be set before WAL is. */
	if (fresh && exec_sql(s, "PRAGMA page_size=16384", err, errlen))
		return -1;
	/* WAL is what lets readers see the old table until COMMIT, and what
	 * makes a killed run vanish on recovery. NORMAL sync in WAL keeps each
	 * commit durable against a process crash and consistent after a power
	 * loss. A small page cache is enough for rowid-ordered inserts (pages
	 * spill to the WAL as uncommitted frames) and costs less than a big
	 * one to fill. */
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(s->db, "PRAGMA main.journal_mode=WAL", -1, &q, NULL) != SQLITE_OK) {
		open_err(s->db, s->path, err, errlen);
		return -1;
	}
	int rc = sqlite3_step(q);
	if (rc != SQLITE_ROW) {
		open_err(s->db, s->path, err, errlen);
		sqlite3_finalize(q);
		return -1;
	}
	int wal = !strcasecmp((const char *)sqlite3_column_text(q, 0), "wal");
	sqlite3_finalize(q);
	if (!wal) {
		wn_errf(err, errlen, "cannot switch the database to WAL mode");
		return -1;
	}
	return exec_sql(s, "PRAGMA synchronous=NORMAL; PRAGMA cache_size=-8192; "
			   "PRAGMA temp_store=MEMORY",
			err, errlen);
}

static int db_begin(wn_store *s, char *err, size_t errlen)
{
	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		open_err(s->db, s->path, err, errlen);
		return -1;
	}
	s->in_txn = 1;
	return 0;
}

/* The database at path, which exists: opened without SQLITE_OPEN_CREATE,
 * so a file removed meanwhile is not silently recreated (1: it vanished,
 * retry as a new one). SQLite may still create through a dangling symlink
 * (its target is created in place, not race-free, as before) and for
 * ":memory:". */
static int open_existing(wn_store *s, char *err, size_t errlen)
{
	struct stat st;
	int flags = SQLITE_OPEN_READWRITE;
	if (!*s->path || !strcmp(s->path, ":memory:") ||
	    (stat(s->path, &st) != 0 && errno == ENOENT))
		flags |= SQLITE_OPEN_CREATE;
	if (db_connect(s, s->path, flags, err, errlen))
		return path_is_new(s->path) ? 1 : -1;
	return 0;
}

static int open_db(wn_store *s, char *err, size_t errlen)
{
	for (int tries = 0;; tries++) {
		if (path_is_new(s->path)) {
			if (tmp_create(s, err, errlen) ||
			    db_connect(s, s->tmp, SQLITE_OPEN_READWRITE, err, errlen))
				return -1;
			break;
		}
		int rc = open_existing(s, err, errlen);
		if (rc == 0)
			break;
		if (rc < 0 || tries == 3)
			return -1;
	}
	if (db_setup(s, s->tmp != NULL, err, errlen))
		return -1;
	return db_begin(s, err, errlen);
}

wn_store *wn_store_begin(const char *path, const wn_store_opts *opts, char *err, size_t errlen)
{
	wn_store_opts o = {0};
	if (opts)
		o = *opts;
	if (!o.table)
		o.table = WN_STORE_DEFAULT_TABLE;
	if (wn_store_check_table(o.table, err, errlen))
		return NULL;
	if (o.mode != WN_STORE_REPLACE && o.mode != WN_STORE_APPEND && o.mode != WN_STORE_APPEND_NEW) {
		wn_errf(err, errlen, "unknown mode %d", o.mode);
		return NULL;
	}
	wn_store *s = calloc(1, sizeof *s);
	if (!s) {
		wn_errf(err, errlen, "out of memory");
		return NULL;
	}
	s->mode = o.mode;
	s->path = dup_str(path);
	s->table = dup_str(o.table);
	s->command = dup_str(o.command);
	s->seed = dup_str(o.seed);
	s->extra = dup_str(o.extra);
	s->id_field = dup_str(o.id_field);
	s->vectors = o.vectors;
	if ((o.id_field && !s->id_field) || !s->path || !s->table || (o.command && !s->command) || (o.seed && !s->seed) ||
	    (o.extra && !s->extra) || wn_store_quote_ident(&s->qtable, o.table, strlen(o.table)) ||
	    wn_buf_putc(&s->inputs, '[') || !(s->keys = wn_intern_new())) {
		wn_errf(err, errlen, "out of memory");
		wn_store_abort(s);
		return NULL;
	}
	iso_now(s->started);
	s->busy_ms = o.busy_timeout_ms == 0 ? 5000 : o.busy_timeout_ms < 0 ? 0 : o.busy_timeout_ms;
	if (open_db(s, err, errlen) || create_runs(s, err, errlen))
		goto fail;
	if (s->mode == WN_STORE_REPLACE) {
		wn_buf_reset(&s->sql);
		if (wn_buf_printf(&s->sql, "DROP TABLE IF EXISTS %s", wn_buf_cstr(&s->qtable))) {
			wn_errf(err, errlen, "out of memory");
			goto fail;
		}
		if (exec_sql(s, wn_buf_cstr(&s->sql), err, errlen) || create_table(s, err, errlen))
			goto fail;
	} else if (load_table(s, err, errlen) || load_seen(s, err, errlen)) {
		goto fail;
	}
	if (prepare_insert(s, err, errlen))
		goto fail;
	return s;
fail:
	wn_store_abort(s);
	return NULL;
}

/* ---- rows ------------------------------------------------------------- */

/* Is the raw key `k` (with quotes) the member name `name`? Escaped
 * spellings ("\u0069d") are decoded first. */
static int key_is(wn_buf *scratch, wn_span k, const char *name, size_t n)
{
	if (k.n == n + 2 && !memcmp(k.p + 1, name, n))
		return 1;
	if (!memchr(k.p, '\\', k.n))
		return 0;
	wn_span u;
	return !wn_json_string(k, scratch, &u) && u.n == n && !memcmp(u.p, name, n);
}

static int pend_push(wn_store *s, int col, wn_span v)
{
	if (s->npend == s->cappend) {
		size_t cap = s->cappend ? 2 * s->cappend : 16;
		struct pending *p = realloc(s->pend, cap * sizeof *p);
		if (!p)
			return -1;
		s->pend = p;
		s->cappend = cap;
	}
	s->pend[s->npend].col = col;
	s->pend[s->npend].v = v;
	s->npend++;
	return 0;
}

/* Map every member of the winnow object to its column, adding columns for
 * keys met for the first time with a scalar value. */
static int collect_annotations(wn_store *s, wn_span win, char *err, size_t errlen)
{
	size_t pos = 0;
	wn_span k, v;
	s->npend = 0;
	while (wn_json_next_member(win, &pos, &k, &v)) {
		int64_t id = key_lookup(s, k);
		if (id < 0) {
			wn_errf(err, errlen, "out of memory");
			return WN_STORE_EDB;
		}
		if (s->key_col[id] == SLOT_NEVER)
			continue;
		int t = wn_json_type_of(v);
		int scalar = t == WN_JSON_NUMBER || t == WN_JSON_STRING || t == WN_JSON_TRUE ||
			     t == WN_JSON_FALSE;
		if (s->key_col[id] == SLOT_NONE_YET) {
			if (!scalar)
				continue;
			if (add_column(s, (size_t)id, v, err, errlen))
				return WN_STORE_EDB;
			if (s->key_col[id] < 0)
				continue;
		}
		if (pend_push(s, s->key_col[id], v)) {
			wn_errf(err, errlen, "out of memory");
			return WN_STORE_EDB;
		}
	}
	return 0;
}

/* The row's values bound to the insert statement: id (string or number,
 * as text), text, record, winnow, then the collected annotations. */
static int bind_row(wn_store *s, wn_span id, wn_span text, wn_span record, wn_span win)
{
	sqlite3_stmt *st = s->ins;
	int rc = SQLITE_OK, it = id.p ? wn_json_type_of(id) : WN_JSON_NONE;
	if (it == WN_JSON_STRING) {
		wn_span t;
		rc = wn_json_string(id, &s->idbuf, &t)
			     ? SQLITE_MISMATCH
			     : sqlite3_bind_text64(st, 1, t.p, t.n, SQLITE_STATIC, SQLITE_UTF8);
	} else if (it == WN_JSON_NUMBER) {
		rc = sqlite3_bind_text64(st, 1, id.p, id.n, SQLITE_STATIC, SQLITE_UTF8);
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text64(st, 2, text.p, text.n, SQLITE_STATIC, SQLITE_UTF8);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text64(st, 3, record.p, record.n, SQLITE_STATIC, SQLITE_UTF8);
	if (rc == SQLITE_OK && win.p)
		rc = sqlite3_bind_text64(st, 4, win.p, win.n, SQLITE_STATIC, SQLITE_UTF8);
	for (size_t i = 0; i < s->npend && rc == SQLITE_OK; i++)
		rc = bind_value(s, 5 + s->pend[i].col, s->pend[i].v);
	return rc;
}

/* Insert one row (writer side). */
static int insert_row(wn_store *s, wn_span record, wn_span text, wn_span id, wn_span win,
		      char *err, size_t errlen)
{
	s->npend = 0;
	int rc = win.p ? collect_annotations(s, win, err, errlen) : 0;
	if (rc)
		return rc;
	if (s->ins_dirty && prepare_insert(s, err, errlen))
		return WN_STORE_EDB;
	rc = bind_row(s, id, text, record, win);
	if (rc != SQLITE_OK) {
		wn_errf(err, errlen, "cannot bind the row's values (%s)", sqlite3_errstr(rc));
		sqlite3_clear_bindings(s->ins);
		return WN_STORE_EDB;
	}
	rc = sqlite3_step(s->ins);
	/* Unbind at once: the STATIC pointers go stale with the batch. */
	sqlite3_reset(s->ins);
	sqlite3_clear_bindings(s->ins);
	if (rc != SQLITE_DONE) {
		wn_store_db_err(s->db, err, errlen);
		return WN_STORE_EDB;
	}
	int64_t rowid = sqlite3_last_insert_rowid(s->db);
	if (s->rows++ == 0)
		s->rowid_first = rowid;
	s->rowid_last = rowid;
	return 0;
}

/* The record's id and winnow members (absent: p == NULL; "winnow": null
 * counts as absent). WN_STORE_EBADREC when "winnow" is not an object. */
static int record_parts(wn_buf *scratch, wn_span record, wn_span *id, wn_span *win, char *err,
			size_t errlen)
{
	wn_span k, v;
	size_t pos = 0;
	id->p = win->p = NULL;
	id->n = win->n = 0;
	while (wn_json_next_member(record, &pos, &k, &v)) {
		if (key_is(scratch, k, "id", 2))
			*id = v;
		else if (key_is(scratch, k, "winnow", 6))
			*win = v;
	}
	int wt = win->p ? wn_json_type_of(*win) : WN_JSON_NULL;
	if (wt != WN_JSON_OBJECT && wt != WN_JSON_NULL) {
		wn_errf(err, errlen, "\"winnow\" is not an object");
		return WN_STORE_EBADREC;
	}
	if (wt != WN_JSON_OBJECT)
		win->p = NULL; /* "winnow": null stores as NULL */
	return 0;
}

int wn_store_check_record(wn_span record, wn_buf *scratch, char *err, size_t errlen)
{
	wn_span id, win;
	return record_parts(scratch, record, &id, &win, err, errlen);
}

/* Is this member of "winnow" a vector (an object with a "b64" member)? */
static int is_vector(wn_span v)
{
	wn_span b;
	return wn_json_type_of(v) == WN_JSON_OBJECT && wn_json_get(v, "b64", &b);
}

/*
 * The `winnow` column without its vectors (into s->wbuf: "{" the other
 * members as key:value, joined by "," "}"), and under --vectors drop the
 * record too (into s->vbuf: the bytes before "winnow"'s value, the stripped
 * object, the bytes after). *record and *win then point into those buffers;
 * a winnow object without vectors is left as it is.
 */
static int strip_vectors(wn_store *s, wn_span *record, wn_span *win, char *err,
				  size_t errlen)
{
	size_t pos = 0;
	wn_span k, v;
	int found = 0, bad = 0, first = 1;
	while (!found && wn_json_next_member(*win, &pos, &k, &v))
		found = is_vector(v);
	if (!found)
		return 0;
	wn_buf_reset(&s->wbuf);
	bad = wn_buf_putc(&s->wbuf, '{');
	for (pos = 0; !bad && wn_json_next_member(*win, &pos, &k, &v);) {
		if (is_vector(v))
			continue;
		bad = (!first && wn_buf_putc(&s->wbuf, ',')) || wn_buf_append(&s->wbuf, k.p, k.n) ||
		      wn_buf_putc(&s->wbuf, ':') || wn_buf_append(&s->wbuf, v.p, v.n);
		first = 0;
	}
	bad = bad || wn_buf_putc(&s->wbuf, '}');
	if (!bad && s->vectors == WN_STORE_VEC_DROP) {
		size_t before = (size_t)(win->p - record->p), after = before + win->n;
		wn_buf_reset(&s->vbuf);
		bad = wn_buf_append(&s->vbuf, record->p, before) ||
		      wn_buf_append(&s->vbuf, s->wbuf.data, s->wbuf.len) ||
		      wn_buf_append(&s->vbuf, record->p + after, record->n - after);
		if (!bad)
			*record = (wn_span){s->vbuf.data, s->vbuf.len};
	}
	if (bad) {
		wn_errf(err, errlen, "out of memory");
		return -1;
	}
	*win = (wn_span){s->wbuf.data, s->wbuf.len};
	return 0;
}

/* Append modes: is the record already in the table? (1: skip it) */
static int already_present(wn_store *s, wn_span record, char *err, size_t errlen)
{
	if (s->mode == WN_STORE_REPLACE)
		return 0;
	uint64_t h = wn_store_content_hash(record, s->id_field, &s->kscratch);
	if (wn_store_seen_has(&s->seen, h)) {
		s->present++;
		return s->mode == WN_STORE_APPEND_NEW;
	}
	if (wn_store_seen_add(&s->seen, h)) {
		wn_errf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

int wn_store_add(wn_store *s, wn_span record, wn_span text, char *err, size_t errlen)
{
	wn_span id, win;
	int rc = record_parts(&s->kscratch, record, &id, &win, err, errlen);
	if (rc)
		return rc;
	rc = already_present(s, record, err, errlen);
	if (rc)
		return rc < 0 ? WN_STORE_EDB : 0;
	if (win.p && s->vectors != WN_STORE_VEC_BOTH &&
	    strip_vectors(s, &record, &win, err, errlen))
		return WN_STORE_EDB;
	return insert_row(s, record, text.p ? text : (wn_span){"", 0}, id, win, err, errlen);
}

uint64_t wn_store_present(const wn_store *s)
{
	return s->present;
}

uint64_t wn_store_rows(const wn_store *s)
{
	return s->rows;
}

int wn_store_add_input(wn_store *s, const char *name, uint64_t size, uint64_t xxh3)
{
	int bad = (s->ninputs && wn_buf_putc(&s->inputs, ',')) ||
		  wn_buf_puts(&s->inputs, "{\"name\":") ||
		  wn_json_put_string(&s->inputs, name, strlen(name)) ||
		  wn_buf_printf(&s->inputs, ",\"size\":%llu,\"xxh3\":\"%016llx\"}",
				(unsigned long long)size, (unsigned long long)xxh3);
	if (bad)
		return -1;
	s->ninputs++;
	return 0;
}

int wn_store_set_extra(wn_store *s, const char *json)
{
	char *copy = dup_str(json);
	if (json && !copy)
		return -1;
	free(s->extra);
	s->extra = copy;
	return 0;
}

/* Runs of this table since its last replace run that stored rows and list
 * the hash: the text this file writes for inputs, matched exactly. */
int wn_store_input_seen(wn_store *s, uint64_t xxh3, int64_t *run_id, char *err, size_t errlen)
{
	char needle[40];
	snprintf(needle, sizeof needle, "\"xxh3\":\"%016llx\"", (unsigned long long)xxh3);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db,
			       "SELECT max(run_id) FROM main." WN_STORE_RUNS_TABLE " WHERE table_name = ?1 "
			       "AND n_out > 0 AND instr(inputs, ?2) > 0 AND run_id >= coalesce("
			       "(SELECT max(run_id) FROM main." WN_STORE_RUNS_TABLE
			       " WHERE table_name = ?1 AND mode = 'replace'), 0)",
			       -1, &st, NULL) != SQLITE_OK) {
		wn_store_db_err(s->db, err, errlen);
		return -1;
	}
	sqlite3_bind_text(st, 1, s->table, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, needle, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st), found = 0;
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		*run_id = sqlite3_column_int64(st, 0);
		found = 1;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		wn_store_db_err(s->db, err, errlen);
		found = -1;
	}
	sqlite3_finalize(st);
	return found;
}

/* ---- finishing -------------------------------------------------------- */

static int insert_run(wn_store *s, uint64_t n_in, uint64_t n_rejected, int64_t *run_id,
		      char *err, size_t errlen)
{
	char finished[32];
	iso_now(finished);
	if (wn_buf_putc(&s->inputs, ']')) {
		wn_errf(err, errlen, "out of memory");
		return -1;
	}
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db,
			       "INSERT INTO main." WN_STORE_RUNS_TABLE "(started, finished, version, "
			       "command, inputs, n_in, n_out, n_rejected, seed, table_name, mode, "
			       "rowid_first, rowid_last, extra) "
			       "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
			       -1, &st, NULL) != SQLITE_OK) {
		wn_store_db_err(s->db, err, errlen);
		return -1;
	}
	sqlite3_bind_text(st, 1, s->started, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, finished, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, WINNOW_VERSION, -1, SQLITE_STATIC);
	if (s->command)
		sqlite3_bind_text(st, 4, s->command, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, s->inputs.data, (int)s->inputs.len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, (int64_t)n_in);
	sqlite3_bind_int64(st, 7, (int64_t)s->rows);
	sqlite3_bind_int64(st, 8, (int64_t)n_rejected);
	if (s->seed)
		sqlite3_bind_text(st, 9, s->seed, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 10, s->table, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 11, s->mode == WN_STORE_APPEND ? "append"
				  : s->mode == WN_STORE_APPEND_NEW ? "append-new" : "replace", -1,
			  SQLITE_STATIC);
	if (s->rows) {
		sqlite3_bind_int64(st, 12, s->rowid_first);
		sqlite3_bind_int64(st, 13, s->rowid_last);
	}
	if (s->extra)
		sqlite3_bind_text(st, 14, s->extra, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		wn_store_db_err(s->db, err, errlen);
		return -1;
	}
	if (run_id)
		*run_id = sqlite3_last_insert_rowid(s->db);
	return 0;
}

static void store_free(wn_store *s)
{
	for (int i = 0; i < s->ncols; i++)
		free(s->cols[i].name);
	free(s->cols);
	wn_intern_free(s->keys);
	free(s->key_col);
	free(s->pend);
	wn_buf_free(&s->scratch);
	wn_buf_free(&s->kscratch);
	wn_buf_free(&s->vbuf);
	wn_buf_free(&s->wbuf);
	wn_store_seen_free(&s->seen);
	free(s->id_field);
	wn_buf_free(&s->idbuf);
	wn_buf_free(&s->sql);
	wn_buf_free(&s->qtable);
	wn_buf_free(&s->inputs);
	free(s->path);
	free(s->tmp);
	free(s->table);
	free(s->command);
	free(s->seed);
	free(s->extra);
	free(s);
}

/* ---- publishing a new database ----------------------------------------- */

/*
 * The temporary database after its COMMIT: checkpoint everything into
 * the main file and close, so that the file alone holds the database (a
 * WAL's frames would not follow the rename).
 */
static int tmp_seal(wn_store *s, char *err, size_t errlen)
{
	if (sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL) !=
	    SQLITE_OK) {
		wn_store_db_err(s->db, err, errlen);
		return -1;
	}
	int rc = sqlite3_close(s->db);
	s->db = NULL;
	wn_buf wal = WN_BUF_INIT;
	struct stat st;
	int left = !wn_buf_printf(&wal, "%s-wal", s->tmp) && stat(wn_buf_cstr(&wal), &st) == 0 &&
		   st.st_size > 0;
	wn_buf_free(&wal);
	if (rc != SQLITE_OK || left) {
		wn_errf(err, errlen, "cannot checkpoint the new database");
		return -1;
	}
	return 0;
}

/* rename(from, to) unless `to` exists (EEXIST then); link(2) where the
 * file system has no RENAME_NOREPLACE. */
static int move_noreplace(const char *from, const char *to)
{
	if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
		return -1;
	if (link(from, to))
		return -1;
	unlink(from);
	return 0;
}

/* Make the new name durable: fsync the directory (best effort). */
static void sync_dir(const char *path)
{
	char *dir = strdup(path);
	if (!dir)
		return;
	char *slash = strrchr(dir, '/');
	const char *d = !slash ? "." : slash == dir ? "/" : (*slash = 0, dir);
	int fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(dir);
}

static void cols_clear(wn_store *s)
{
	for (int i = 0; i < s->ncols; i++)
		free(s->cols[i].name);
	s->ncols = 0;
}

#define MERGE_SRC "winnow_src"

/* Forget the key -> column cache (the target table's columns differ). */
static int slots_clear(wn_store *s)
{
	wn_intern *fresh = wn_intern_new();
	if (!fresh)
		return -1;
	wn_intern_free(s->keys);
	s->keys = fresh;
	return 0;
}

/*
 * Insert the source's rows into the target table in rowid order, through
 * the path wn_store_add's rows take: id and annotations are read again
 * from each stored record, so the columns follow the target's schema
 * exactly as they would in a run started now.
 */
static int merge_rows(wn_store *s, char *err, size_t errlen)
{
	uint64_t want = s->rows;
	s->rows = 0;
	wn_buf_reset(&s->sql);
	if (slots_clear(s) || wn_buf_puts(&s->sql, "SELECT record, text FROM " MERGE_SRC ".") ||
	    wn_store_quote_ident(&s->sql, s->table, strlen(s->table)) ||
	    wn_buf_puts(&s->sql, " ORDER BY rowid")) {
		wn_errf(err, errlen, "out of memory");
		return -1;
	}
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, wn_buf_cstr(&s->sql), -1, &st, NULL) != SQLITE_OK) {
		wn_store_db_err(s->db, err, errlen);
		return -1;
	}
	int rc = SQLITE_DONE, bad = prepare_insert(s, err, errlen);
	while (!bad && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		wn_span rec = {(const char *)sqlite3_column_text(st, 0), 0}, id, win;
		rec.n = (size_t)sqlite3_column_bytes(st, 0);
		wn_span text = {(const char *)sqlite3_column_text(st, 1), 0};
		text.n = (size_t)sqlite3_column_bytes(st, 1);
		if (!text.p)
			text.p = "";
		bad = !rec.p || record_parts(&s->kscratch, rec, &id, &win, err, errlen) ||
		      (win.p && s->vectors != WN_STORE_VEC_BOTH &&
		       strip_vectors(s, &rec, &win, err, errlen)) ||
		      insert_row(s, rec, text, id, win, err, errlen);
		if (bad && !rec.p)
			wn_errf(err, errlen, "the new database lost a record");
	}
	if (!bad && rc != SQLITE_DONE) {
		wn_store_db_err(s->db, err, errlen);
		bad = 1;
	}
	sqlite3_finalize(st);
	if (!bad && s->rows != want) {
		wn_errf(err, errlen, "copied %llu rows into the database, expected %llu",
			(unsigned long long)s->rows, (unsigned long long)want);
		bad = 1;
	}
	return bad ? -1 : 0;
}

/* This run's runs row, copied with the rowids the rows got here. */
static int merge_run_row(wn_store *s, int64_t *run_id, char *err, size_t errlen)
{
	char finished[32];
	iso_now(finished);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db,
			       "INSERT INTO main." WN_STORE_RUNS_TABLE "(started, finished, version, "
			       "command, inputs, n_in, n_out, n_rejected, seed, table_name, mode, "
			       "rowid_first, rowid_last, extra) SELECT started, ?1, version, command, "
			       "inputs, n_in, n_out, n_rejected, seed, table_name, mode, ?2, ?3, extra "
			       "FROM " MERGE_SRC "." WN_STORE_RUNS_TABLE,
			       -1, &st, NULL) != SQLITE_OK) {
		wn_store_db_err(s->db, err, errlen);
		return -1;
	}
	sqlite3_bind_text(st, 1, finished, -1, SQLITE_STATIC);
	if (s->rows) {
		sqlite3_bind_int64(st, 2, s->rowid_first);
		sqlite3_bind_int64(st, 3, s->rowid_last);
	}
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE || sqlite3_changes(s->db) != 1) {
		wn_store_db_err(s->db, err, errlen);
		return -1;
	}
	if (run_id)
		*run_id = sqlite3_last_insert_rowid(s->db);
	return 0;
}

static int merge_attach(wn_store *s, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "ATTACH ?1 AS " MERGE_SRC, -1, &st, NULL) != SQLITE_OK) {
		wn_store_db_err(s->db, err, errlen);
		return -1;
	}
	sqlite3_bind_text(st, 1, s->tmp, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		wn_store_db_err(s->db, err, errlen);
		return -1;
	}
	return 0;
}

/*
 * Another run created the database while this one built its own: append
 * (or replace) into it as a run that began now would, by copying from the
 * finished temporary database inside one write transaction (which waits
 * on the busy timeout like any run). 1: the database vanished meanwhile.
 */
static int merge_into(wn_store *s, int64_t *run_id, char *err, size_t errlen)
{
	int rc = open_existing(s, err, errlen);
	if (rc)
		return rc;
	wn_buf_reset(&s->qtable);
	cols_clear(s);
	if (wn_buf_puts(&s->qtable, "\"main\".") ||
	    wn_store_quote_ident(&s->qtable, s->table, strlen(s->table))) {
		wn_errf(err, errlen, "out of memory");
		return -1;
	}
	if (db_setup(s, 0, err, errlen) || merge_attach(s, err, errlen) ||
	    db_begin(s, err, errlen) || create_runs(s, err, errlen))
		return -1;
	if (s->mode == WN_STORE_REPLACE) {
		wn_buf_reset(&s->sql);
		if (wn_buf_printf(&s->sql, "DROP TABLE IF EXISTS %s", wn_buf_cstr(&s->qtable))) {
			wn_errf(err, errlen, "out of memory");
			return -1;
		}
		if (exec_sql(s, wn_buf_cstr(&s->sql), err, errlen) || create_table(s, err, errlen))
			return -1;
	} else if (load_table(s, err, errlen)) {
		return -1;
	}
	if (merge_rows(s, err, errlen) || merge_run_row(s, run_id, err, errlen) ||
	    exec_sql(s, "COMMIT", err, errlen))
		return -1;
	s->in_txn = 0;
	sqlite3_finalize(s->ins);
	s->ins = NULL;
	sqlite3_close(s->db);
	s->db = NULL;
	return 0;
}

/*
 * Move the committed temporary database to `path`; when another run put
 * a database there first, merge into that one instead. Either way the
 * temporary files are gone afterwards.
 */
static int publish(wn_store *s, int64_t *run_id, char *err, size_t errlen)
{
	if (tmp_seal(s, err, errlen))
		return -1;
	for (int tries = 0; tries < 4; tries++) {
		if (move_noreplace(s->tmp, s->path) == 0) {
			sync_dir(s->path);
			tmp_discard(s); /* only the (now unused) names */
			return 0;
		}
		if (errno != EEXIST) {
			wn_errf(err, errlen, "cannot move the new database into place: %s",
				strerror(errno));
			return -1;
		}
		int rc = merge_into(s, run_id, err, errlen);
		if (rc <= 0) {
			if (rc == 0)
				tmp_discard(s);
			return rc;
		}
	}
	wn_errf(err, errlen, "the database keeps appearing and vanishing; giving up");
	return -1;
}

/* ---- finishing, continued ----------------------------------------------- */

int wn_store_commit(wn_store *s, uint64_t n_in, uint64_t n_rejected, int64_t *run_id,
		    char *err, size_t errlen)
{
	if (insert_run(s, n_in, n_rejected, run_id, err, errlen) ||
	    exec_sql(s, "COMMIT", err, errlen)) {
		wn_store_abort(s);
		return -1;
	}
	s->in_txn = 0;
	sqlite3_finalize(s->ins);
	s->ins = NULL;
	if (s->tmp) {
		if (publish(s, run_id, err, errlen)) {
			wn_store_abort(s);
			return -1;
		}
	} else {
		/* Closing checkpoints the WAL into the database; a failure
		 * there loses nothing (the committed frames stay in the WAL). */
		sqlite3_close_v2(s->db);
	}
	store_free(s);
	return 0;
}

/* Roll back and close. The only files removed are this run's temporary
 * ones: a database at `path` is never deleted, whoever created it. */
void wn_store_abort(wn_store *s)
{
	if (!s)
		return;
	if (s->ins)
		sqlite3_finalize(s->ins);
	if (s->db) {
		if (s->in_txn)
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		sqlite3_close_v2(s->db);
	}
	tmp_discard(s);
	store_free(s);
}
