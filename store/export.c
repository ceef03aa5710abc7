/*
 * store/export.c — reading a selection table back out of SQLite.
 *
 * Owns: wn_store_export() (store/store.h): JSONL that is byte-identical to
 * what `winnow store` was given, and CSV of the id, text and annotation
 * columns for spreadsheets and plain tools.
 * Borrows: SQLite; the all-or-nothing writer of io/record.h and the CSV
 * cell quoting of io/csvout.h (so `export --to csv` and `cat --to csv`
 * write the same dialect: RFC 4180 quoting, LF line ends).
 *
 * The whole read happens inside one read transaction, so an export taken
 * while another process stores into the same table sees either the old
 * table or the new one (WAL snapshot), never a mix.
 */
#include "store/store.h"
#include "io/errf.h"
#include "store/sqlerr.h"

#include "io/csvout.h"
#include "io/dtoa.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

static int is_fixed(const char *name)
{
	static const char *const fixed[] = {"rowid", "id", "text", "record", "winnow"};
	for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
		if (!strcasecmp(name, fixed[i]))
			return 1;
	return 0;
}

/* The SELECT for the export: `record` for JSONL; id, text and every
 * annotation column for CSV (their names, for the header, in *names). */
static int build_select(sqlite3 *db, const char *table, int format, wn_buf *sql,
			wn_buf *names, int *ncols, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "SELECT name FROM pragma_table_info(?1)", -1, &st, NULL) !=
	    SQLITE_OK) {
		wn_store_db_err(db, err, errlen);
		return -1;
	}
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	wn_buf ann = WN_BUF_INIT;
	int n = 0, have_record = 0, rc, bad = 0;
	*ncols = 2;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		n++;
		if (!strcasecmp(name, "record"))
			have_record = 1;
		if (is_fixed(name))
			continue;
		/* names are kept NUL-separated for the header row */
		bad |= wn_buf_puts(&ann, ", ") ||
		       wn_store_quote_ident(&ann, name, strlen(name)) ||
		       wn_buf_append(names, name, strlen(name) + 1);
		(*ncols)++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		wn_buf_free(&ann);
		wn_store_db_err(db, err, errlen);
		return -1;
	}
	if (n == 0 || !have_record) {
		wn_buf_free(&ann);
		wn_errf(err, errlen, n ? "table '%s' is not a winnow table (no record column)"
				       : "no such table: %s", table);
		return -1;
	}
	if (format == WN_STORE_JSONL)
		bad |= wn_buf_puts(sql, "SELECT record FROM ");
	else
		bad |= wn_buf_puts(sql, "SELECT id, text") ||
		       wn_buf_append(sql, ann.data ? ann.data : "", ann.len) ||
		       wn_buf_puts(sql, " FROM ");
	bad |= wn_store_quote_ident(sql, table, strlen(table)) ||
	       wn_buf_puts(sql, " ORDER BY rowid");
	wn_buf_free(&ann);
	if (bad) {
		wn_errf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* A REAL as the shortest text that reads back to the same double. */
static int csv_real(wn_buf *out, double v)
{
	char tmp[WN_DTOA_BUF];
	if (!isfinite(v))
		return wn_buf_puts(out, isnan(v) ? "" : v > 0 ? "inf" : "-inf");
	size_t n = wn_dtoa(tmp, v);
	return wn_buf_append(out, tmp, n);
}

static int csv_value(wn_buf *out, sqlite3_stmt *st, int i)
{
	switch (sqlite3_column_type(st, i)) {
	case SQLITE_NULL:
		return 0;
	case SQLITE_INTEGER:
		return wn_buf_printf(out, "%lld", (long long)sqlite3_column_int64(st, i));
	case SQLITE_FLOAT:
		return csv_real(out, sqlite3_column_double(st, i));
	default: {
		const char *p = (const char *)sqlite3_column_text(st, i);
		return wn_csv_put_cell(out, p ? p : "", (size_t)sqlite3_column_bytes(st, i));
	}
	}
}

static int csv_header(wn_buf *line, const wn_buf *names)
{
	int bad = wn_buf_puts(line, "id,text");
	for (size_t off = 0; off < names->len && !bad; off += strlen(names->data + off) + 1) {
		const char *nm = names->data + off;
		bad = wn_buf_putc(line, ',') || wn_csv_put_cell(line, nm, strlen(nm));
	}
	return bad || wn_buf_puts(line, "\n");
}

static int write_rows(sqlite3 *db, sqlite3_stmt *st, int format, int ncols, wn_writer *w,
		      uint64_t *rows, char *err, size_t errlen)
{
	wn_buf line = WN_BUF_INIT;
	int rc, ret = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (format == WN_STORE_JSONL) {
			const char *p = (const char *)sqlite3_column_text(st, 0);
			size_t n = (size_t)sqlite3_column_bytes(st, 0);
			if (wn_writer_line(w, p ? p : "", n)) {
				wn_errf(err, errlen, "write error");
				ret = -1;
				break;
			}
		} else {
			wn_buf_reset(&line);
			int bad = 0;
			for (int i = 0; i < ncols && !bad; i++)
				bad = (i && wn_buf_putc(&line, ',')) || csv_value(&line, st, i);
			if (bad || wn_buf_puts(&line, "\n")) {
				wn_errf(err, errlen, "out of memory");
				ret = -1;
				break;
			}
			if (wn_writer_write(w, line.data, line.len)) {
				wn_errf(err, errlen, "write error");
				ret = -1;
				break;
			}
		}
		(*rows)++;
	}
	if (!ret && rc != SQLITE_DONE) {
		wn_store_db_err(db, err, errlen);
		ret = -1;
	}
	wn_buf_free(&line);
	return ret;
}

/* A database that can be read as it is on disk: no WAL content beside it. */
static int wal_is_empty(const char *path)
{
	char *wal = malloc(strlen(path) + 5);
	struct stat st;
	if (!wal)
		return 0;
	sprintf(wal, "%s-wal", path);
	int empty = stat(wal, &st) != 0 || st.st_size == 0;
	free(wal);
	return empty;
}

/* "file:" URI for `path` with immutable=1 (percent-encoding ? # %). */
static char *immutable_uri(const char *path)
{
	wn_buf b = WN_BUF_INIT;
	int bad = wn_buf_puts(&b, "file:");
	for (const char *p = path; *p && !bad; p++)
		bad = (*p == '?' || *p == '#' || *p == '%')
			      ? wn_buf_printf(&b, "%%%02X", (unsigned char)*p)
			      : wn_buf_putc(&b, *p);
	if (bad || wn_buf_puts(&b, "?immutable=1")) {
		wn_buf_free(&b);
		return NULL;
	}
	wn_buf_cstr(&b);
	return b.data;
}

/*
 * Open for reading. Read-write without CREATE, plus query_only: a missing
 * database is an error (never created), nothing is ever written, and as
 * the last connection to close it removes the -wal and -shm files, which a
 * read-only connection would leave behind (SQLite falls back to read-only
 * by itself when the file is write-protected). A WAL database in a
 * directory we cannot write cannot get its -shm file; when no WAL content
 * waits beside it, the file alone is the whole database, so it is read as
 * immutable instead.
 */
int wn_store_open_read(const char *path, sqlite3 **db, char *err, size_t errlen)
{
	int rc = sqlite3_open_v2(path, db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(*db, "PRAGMA query_only=1; SELECT count(*) FROM sqlite_master",
				  NULL, NULL, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(*db, 5000);
		return 0;
	}
	wn_store_db_err(*db, err, errlen);
	int code = sqlite3_errcode(*db) & 0xff;
	if ((code != SQLITE_READONLY && code != SQLITE_CANTOPEN) || access(path, R_OK) ||
	    !wal_is_empty(path))
		return -1;
	char *uri = immutable_uri(path);
	if (!uri)
		return -1;
	sqlite3_close_v2(*db);
	rc = sqlite3_open_v2(uri, db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX,
			     NULL);
	free(uri);
	if (rc == SQLITE_OK)
		return 0;
	wn_store_db_err(*db, err, errlen);
	return -1;
}

int wn_store_export(const char *path, const char *table, int format, wn_writer *w,
		    uint64_t *rows, char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	wn_buf sql = WN_BUF_INIT, names = WN_BUF_INIT;
	int ncols = 0, ret = -1;
	*rows = 0;
	if (!table)
		table = WN_STORE_DEFAULT_TABLE;
	if (wn_store_open_read(path, &db, err, errlen))
		goto out;
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		wn_store_db_err(db, err, errlen);
		goto out;
	}
	if (build_select(db, table, format, &sql, &names, &ncols, err, errlen))
		goto out;
	if (sqlite3_prepare_v2(db, wn_buf_cstr(&sql), -1, &st, NULL) != SQLITE_OK) {
		wn_store_db_err(db, err, errlen);
		goto out;
	}
	if (format == WN_STORE_CSV) {
		wn_buf head = WN_BUF_INIT;
		int bad = csv_header(&head, &names) || wn_writer_write(w, head.data, head.len);
		wn_buf_free(&head);
		if (bad) {
			wn_errf(err, errlen, "write error");
			goto out;
		}
	}
	ret = write_rows(db, st, format, ncols, w, rows, err, errlen);
out:
	sqlite3_finalize(st);
	if (db) {
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
		sqlite3_close_v2(db);
	}
	wn_buf_free(&sql);
	wn_buf_free(&names);
	return ret;
}
