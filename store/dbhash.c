/*
 * store/dbhash.c — table hashes (see store/dbhash.h) and the `db hash` step.
 */
#include "store/dbhash.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>
#include <xxhash.h>

#include "io/buf.h"
#include "io/errf.h"
#include "store/sqlerr.h"
#include "store/store.h"

static void put_u64(XXH3_state_t *h, uint64_t v)
{
	unsigned char b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	XXH3_128bits_update(h, b, 8);
}

static void put_bytes(XXH3_state_t *h, const void *p, size_t n)
{
	put_u64(h, (uint64_t)n);
	if (n)
		XXH3_128bits_update(h, p, n);
}

static void put_value(XXH3_state_t *h, sqlite3_stmt *st, int i)
{
	unsigned char tag;
	switch (sqlite3_column_type(st, i)) {
	case SQLITE_INTEGER:
		tag = 'i';
		XXH3_128bits_update(h, &tag, 1);
		put_u64(h, (uint64_t)sqlite3_column_int64(st, i));
		return;
	case SQLITE_FLOAT: {
		double d = sqlite3_column_double(st, i);
		uint64_t bits;
		memcpy(&bits, &d, sizeof bits);
		tag = 'r';
		XXH3_128bits_update(h, &tag, 1);
		put_u64(h, bits);
		return;
	}
	case SQLITE_TEXT:
		tag = 't';
		XXH3_128bits_update(h, &tag, 1);
		{
			const unsigned char *p = sqlite3_column_text(st, i);
			put_bytes(h, p, (size_t)sqlite3_column_bytes(st, i));
		}
		return;
	case SQLITE_BLOB:
		tag = 'b';
		XXH3_128bits_update(h, &tag, 1);
		{
			const void *p = sqlite3_column_blob(st, i);
			put_bytes(h, p, (size_t)sqlite3_column_bytes(st, i));
		}
		return;
	default:
		tag = 'n';
		XXH3_128bits_update(h, &tag, 1);
	}
}

/* "SELECT c1, c2, ... FROM t ORDER BY rowid" with the columns in byte order
 * of name, their names hashed as the header. */
static int table_select(sqlite3 *db, const char *table, XXH3_state_t *h, wn_buf *sql, int *ncols,
			char *err, size_t errlen)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "SELECT name FROM pragma_table_info(?1) ORDER BY CAST(name AS BLOB)",
			       -1, &st, NULL) != SQLITE_OK) {
		wn_store_db_err(db, err, errlen);
		return -1;
	}
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	int rc, bad = wn_buf_puts(sql, "SELECT ");
	*ncols = 0;
	while (!bad && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		size_t n = (size_t)sqlite3_column_bytes(st, 0);
		put_bytes(h, name, n);
		bad = (*ncols && wn_buf_puts(sql, ", ")) || wn_store_quote_ident(sql, name, n);
		(*ncols)++;
	}
	sqlite3_finalize(st);
	if (!bad && *ncols == 0) {
		wn_errf(err, errlen, "no such table: %s", table);
		return -1;
	}
	bad = bad || wn_buf_puts(sql, " FROM ") || wn_store_quote_ident(sql, table, strlen(table)) ||
	      wn_buf_puts(sql, " ORDER BY rowid");
	if (bad) {
		wn_errf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

static int hash_table(sqlite3 *db, const char *table, FILE *out, char *err, size_t errlen)
{
	XXH3_state_t *h = XXH3_createState();
	wn_buf sql = WN_BUF_INIT;
	sqlite3_stmt *st = NULL;
	int ncols, rc = -1;
	if (!h) {
		wn_errf(err, errlen, "out of memory");
		return -1;
	}
	XXH3_128bits_reset(h);
	if (table_select(db, table, h, &sql, &ncols, err, errlen))
		goto out;
	if (sqlite3_prepare_v2(db, wn_buf_cstr(&sql), -1, &st, NULL) != SQLITE_OK) {
		wn_store_db_err(db, err, errlen);
		goto out;
	}
	int r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		for (int i = 0; i < ncols; i++)
			put_value(h, st, i);
	if (r != SQLITE_DONE) {
		wn_store_db_err(db, err, errlen);
		goto out;
	}
	XXH128_hash_t v = XXH3_128bits_digest(h);
	fprintf(out, "%016llx%016llx  %s\n", (unsigned long long)v.high64,
		(unsigned long long)v.low64, table);
	rc = 0;
out:
	sqlite3_finalize(st);
	wn_buf_free(&sql);
	XXH3_freeState(h);
	return rc;
}

/* Every table but runs and SQLite's, in byte order of name. */
static int hash_all(sqlite3 *db, FILE *out, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type = 'table' AND name <> '"
				   WN_STORE_RUNS_TABLE "' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
				   "ORDER BY CAST(name AS BLOB)", -1, &st, NULL) != SQLITE_OK) {
		wn_store_db_err(db, err, errlen);
		return -1;
	}
	int r, rc = 0;
	while (!rc && (r = sqlite3_step(st)) == SQLITE_ROW) {
		char *name = strdup((const char *)sqlite3_column_text(st, 0));
		rc = name ? hash_table(db, name, out, err, errlen) : (wn_errf(err, errlen, "out of memory"), -1);
		free(name);
	}
	if (!rc && r != SQLITE_DONE) {
		wn_store_db_err(db, err, errlen);
		rc = -1;
	}
	sqlite3_finalize(st);
	return rc;
}

int wn_store_db_hash(const char *path, const char *table, FILE *out, char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	int rc = -1;
	if (wn_store_open_read(path, &db, err, errlen) == 0 &&
	    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK) {
		rc = table ? hash_table(db, table, out, err, errlen) : hash_all(db, out, err, errlen);
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	} else if (db && !err[0]) {
		wn_store_db_err(db, err, errlen);
	}
	sqlite3_close_v2(db);
	if (!rc && (fflush(out) || ferror(out))) {
		wn_errf(err, errlen, "cannot write the hashes");
		rc = -1;
	}
	return rc;
}

/* ---- the step ---- */

void wn_dbhash_init(wn_dbhash_opts *o)
{
	*o = (wn_dbhash_opts){.io = WN_STREAM_OPTS_INIT};
}

int wn_dbhash_check(wn_dbhash_opts *o, int *npos, const char **pos, char *err, size_t errlen)
{
	if (*npos != 1) {
		wn_errf(err, errlen, *npos ? "unexpected argument '%s'" : "missing the database path",
			*npos ? pos[1] : "");
		return -1;
	}
	o->db = pos[0];
	*npos = 0;
	return 0;
}

int wn_dbhash_run(const wn_dbhash_opts *o, wn_stream *s, wn_step_report *rep, char *err,
		  size_t errlen)
{
	(void)s;
	(void)rep;
	char e[512] = "";
	if (wn_store_db_hash(o->db, o->table, stdout, e, sizeof e)) {
		wn_errf(err, errlen, "%s: %s", o->db, e);
		return -1;
	}
	return 0;
}
