/*
 * selectors/dedup_index.c — the saved MinHash index (see
 * selectors/dedup_index.h).
 *
 * Reading is point queries on the (band, hash) index, one per band of a
 * new text, so --against needs no memory in the size of the index.
 * Writing goes to "PATH.tmp.XXXXXX" beside the target (io/atomic.h's
 * wn_atomic_create_temp: O_EXCL, 0666 less the umask, on the cleanup list
 * until it is renamed or removed) with SQLite's journal off (the file is
 * private until it is renamed), the band index built once at the end, then
 * rename(2) over PATH.
 */
#include "selectors/dedup_index.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/atomic.h"
#include "io/cleanup.h"
#include "io/errf.h"

#define INDEX_FORMAT "winnow-minhash-index 2" /* 2: digests from word hashes (cluster/minhash.h) */

struct wn_dedup_index {
	sqlite3 *db;
	sqlite3_stmt *cand, *doc;
	const char *path;
	int64_t ndocs;
};

static int db_fail(sqlite3 *db, const char *path, char *err, size_t errlen)
{
	wn_errf(err, errlen, "%s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
	return -1;
}

/* The parameters as the params table holds them (key, value). */
static void param_text(const wn_dedup_index_params *p, char v[7][48])
{
	snprintf(v[0], 48, "%s", INDEX_FORMAT);
	snprintf(v[1], 48, "%d", p->ngram);
	snprintf(v[2], 48, "%d", p->perms);
	snprintf(v[3], 48, "%d", p->bands);
	snprintf(v[4], 48, "%d", p->rows);
	snprintf(v[5], 48, "%llu", (unsigned long long)p->seed);
	snprintf(v[6], 48, "%.17g", p->threshold);
}

static const char *const param_key[7] = {"format", "ngram", "perms", "bands", "rows", "seed",
					 "threshold"};

static int check_params(wn_dedup_index *x, const wn_dedup_index_params *p, char *err,
			size_t errlen)
{
	char want[7][48];
	param_text(p, want);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(x->db, "SELECT value FROM params WHERE key = ?1", -1, &st, NULL))
		return wn_errf(err, errlen, "%s: not a winnow dedup index (%s)", x->path,
			       sqlite3_errmsg(x->db)), -1;
	int rc = 0;
	for (int k = 0; k < 7 && !rc; k++) {
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, param_key[k], -1, SQLITE_STATIC);
		const char *got = sqlite3_step(st) == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0)
								   : NULL;
		if (!got && k == 0)
			rc = (wn_errf(err, errlen, "%s: not a winnow dedup index (no format)", x->path), -1);
		else if (!got)
			rc = (wn_errf(err, errlen, "%s: the index has no %s", x->path, param_key[k]), -1);
		else if (strcmp(got, want[k]) && k == 0)
			rc = (wn_errf(err, errlen, "%s: index format '%s', this winnow reads '%s'", x->path,
				      got, want[0]), -1);
		else if (strcmp(got, want[k]))
			rc = (wn_errf(err, errlen, "%s: the index was built with %s %s, this run uses %s %s "
				      "(an index answers only runs with its own ngram, perms, bands, rows, "
				      "seed and threshold)", x->path, param_key[k], got, param_key[k],
				      want[k]), -1);
	}
	sqlite3_finalize(st);
	return rc;
}

wn_dedup_index *wn_dedup_index_open(const char *path, const wn_dedup_index_params *p,
				    char *err, size_t errlen)
{
	wn_dedup_index *x = calloc(1, sizeof *x);
	if (!x)
		return wn_errf(err, errlen, "out of memory"), NULL;
	x->path = path;
	if (access(path, R_OK)) {
		wn_errf(err, errlen, "%s: cannot open the index: %s", path, strerror(errno));
		free(x);
		return NULL;
	}
	if (sqlite3_open_v2(path, &x->db, SQLITE_OPEN_READONLY, NULL)) {
		db_fail(x->db, path, err, errlen);
		wn_dedup_index_close(x);
		return NULL;
	}
	sqlite3_stmt *st = NULL;
	if (check_params(x, p, err, errlen) ||
	    sqlite3_prepare_v2(x->db, "SELECT DISTINCT doc FROM bands WHERE band = ?1 AND hash = ?2",
			       -1, &x->cand, NULL) ||
	    sqlite3_prepare_v2(x->db, "SELECT name, shingles FROM docs WHERE id = ?1", -1, &x->doc,
			       NULL) ||
	    sqlite3_prepare_v2(x->db, "SELECT count(*) FROM docs", -1, &st, NULL) ||
	    sqlite3_step(st) != SQLITE_ROW) {
		if (!err[0])
			db_fail(x->db, path, err, errlen);
		sqlite3_finalize(st);
		wn_dedup_index_close(x);
		return NULL;
	}
	x->ndocs = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return x;
}

void wn_dedup_index_close(wn_dedup_index *x)
{
	if (!x)
		return;
	sqlite3_finalize(x->cand);
	sqlite3_finalize(x->doc);
	sqlite3_close(x->db);
	free(x);
}

int64_t wn_dedup_index_docs(const wn_dedup_index *x) { return x->ndocs; }

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

long wn_dedup_index_candidates(wn_dedup_index *x, const uint64_t *bands, int nb, int64_t **docs,
			       size_t *cap, char *err, size_t errlen)
{
	size_t n = 0;
	for (int j = 0; j < nb; j++) {
		sqlite3_reset(x->cand);
		sqlite3_bind_int(x->cand, 1, j);
		sqlite3_bind_int64(x->cand, 2, (sqlite3_int64)bands[j]);
		int rc;
		while ((rc = sqlite3_step(x->cand)) == SQLITE_ROW) {
			if (n == *cap) {
				size_t nc = *cap ? *cap * 2 : 64;
				int64_t *q = realloc(*docs, nc * sizeof *q);
				if (!q)
					return wn_errf(err, errlen, "out of memory"), -1;
				*docs = q;
				*cap = nc;
			}
			(*docs)[n++] = sqlite3_column_int64(x->cand, 0);
		}
		if (rc != SQLITE_DONE)
			return db_fail(x->db, x->path, err, errlen);
	}
	if (n < 2)
		return (long)n;
	qsort(*docs, n, sizeof **docs, cmp_i64);
	size_t w = 1;
	for (size_t i = 1; i < n; i++)
		if ((*docs)[i] != (*docs)[w - 1])
			(*docs)[w++] = (*docs)[i];
	return (long)w;
}

int wn_dedup_index_doc(wn_dedup_index *x, int64_t doc, uint64_t **set, size_t *cap, size_t *n,
		       wn_buf *name, char *err, size_t errlen)
{
	sqlite3_reset(x->doc);
	sqlite3_bind_int64(x->doc, 1, doc);
	if (sqlite3_step(x->doc) != SQLITE_ROW)
		return wn_errf(err, errlen, "%s: document %lld is missing", x->path, (long long)doc), -1;
	size_t bytes = (size_t)sqlite3_column_bytes(x->doc, 1);
	const unsigned char *b = sqlite3_column_blob(x->doc, 1);
	if (bytes % 8)
		return wn_errf(err, errlen, "%s: document %lld: shingles of %zu bytes", x->path,
			       (long long)doc, bytes), -1;
	*n = bytes / 8;
	if (*n > *cap) {
		uint64_t *q = realloc(*set, *n * sizeof *q);
		if (!q)
			return wn_errf(err, errlen, "out of memory"), -1;
		*set = q;
		*cap = *n;
	}
	for (size_t i = 0; i < *n; i++) {
		uint64_t v = 0;
		for (int k = 7; k >= 0; k--)
			v = v << 8 | b[i * 8 + (size_t)k];
		(*set)[i] = v;
	}
	if (name) {
		const char *t = (const char *)sqlite3_column_text(x->doc, 0);
		wn_buf_reset(name);
		if (wn_buf_puts(name, t ? t : "null"))
			return wn_errf(err, errlen, "out of memory"), -1;
	}
	return 0;
}

/* ---- writing ---- */

struct wn_dedup_index_writer {
	sqlite3 *db;
	sqlite3_stmt *doc, *band;
	char *path, *tmp;
	unsigned char *blob;
	size_t blob_cap;
};

static const char *const schema =
	"PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;"
	"CREATE TABLE params(key TEXT PRIMARY KEY, value TEXT);"
	"CREATE TABLE docs(id INTEGER PRIMARY KEY, name TEXT, shingles BLOB);"
	"CREATE TABLE bands(band INTEGER, hash INTEGER, doc INTEGER);"
	"BEGIN;";

static int write_params(wn_dedup_index_writer *w, const wn_dedup_index_params *p)
{
	char v[7][48];
	param_text(p, v);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(w->db, "INSERT INTO params VALUES (?1, ?2)", -1, &st, NULL))
		return -1;
	int rc = 0;
	for (int k = 0; k < 7 && !rc; k++) {
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, param_key[k], -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, v[k], -1, SQLITE_STATIC);
		rc = sqlite3_step(st) != SQLITE_DONE;
	}
	sqlite3_finalize(st);
	return rc ? -1 : 0;
}

/* Yesterday's documents and bands, ids kept. */
static int copy_from(wn_dedup_index_writer *w, const char *from)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(w->db, "ATTACH DATABASE ?1 AS old", -1, &st, NULL))
		return -1;
	sqlite3_bind_text(st, 1, from, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st) != SQLITE_DONE;
	sqlite3_finalize(st);
	if (rc || sqlite3_exec(w->db, "INSERT INTO docs SELECT id, name, shingles FROM old.docs;"
			       "INSERT INTO bands SELECT band, hash, doc FROM old.bands;", NULL, NULL,
			       NULL))
		return -1;
	return 0;
}

wn_dedup_index_writer *wn_dedup_index_create(const char *path, const wn_dedup_index_params *p,
					     const char *from, char *err, size_t errlen)
{
	wn_dedup_index_writer *w = calloc(1, sizeof *w);
	if (!w || !(w->path = strdup(path))) {
		wn_dedup_index_abort(w);
		return wn_errf(err, errlen, "out of memory"), NULL;
	}
	int fd = wn_atomic_create_temp(path, 0666, &w->tmp);
	if (fd < 0) {
		wn_errf(err, errlen, "%s: cannot create the index: %s", path, strerror(errno));
		wn_dedup_index_abort(w);
		return NULL;
	}
	close(fd);
	if (sqlite3_open_v2(w->tmp, &w->db, SQLITE_OPEN_READWRITE, NULL) ||
	    sqlite3_exec(w->db, schema, NULL, NULL, NULL) || write_params(w, p) ||
	    (from && copy_from(w, from)) ||
	    sqlite3_prepare_v2(w->db, "INSERT INTO docs(name, shingles) VALUES (?1, ?2)", -1, &w->doc,
			       NULL) ||
	    sqlite3_prepare_v2(w->db, "INSERT INTO bands VALUES (?1, ?2, ?3)", -1, &w->band, NULL)) {
		db_fail(w->db, path, err, errlen);
		wn_dedup_index_abort(w);
		return NULL;
	}
	return w;
}

int wn_dedup_index_add(wn_dedup_index_writer *w, const char *name, size_t nname,
		       const uint64_t *bands, int nb, const uint64_t *set, size_t n, char *err,
		       size_t errlen)
{
	if (n * 8 > w->blob_cap) {
		unsigned char *q = realloc(w->blob, n * 8);
		if (!q)
			return wn_errf(err, errlen, "out of memory"), -1;
		w->blob = q;
		w->blob_cap = n * 8;
	}
	for (size_t i = 0; i < n; i++)
		for (int k = 0; k < 8; k++)
			w->blob[i * 8 + (size_t)k] = (unsigned char)(set[i] >> (8 * k));
	sqlite3_reset(w->doc);
	sqlite3_bind_text(w->doc, 1, name, (int)nname, SQLITE_STATIC);
	sqlite3_bind_blob(w->doc, 2, w->blob ? (const void *)w->blob : "", (int)(n * 8), SQLITE_STATIC);
	if (sqlite3_step(w->doc) != SQLITE_DONE)
		return db_fail(w->db, w->path, err, errlen);
	sqlite3_int64 id = sqlite3_last_insert_rowid(w->db);
	for (int j = 0; j < nb; j++) {
		sqlite3_reset(w->band);
		sqlite3_bind_int(w->band, 1, j);
		sqlite3_bind_int64(w->band, 2, (sqlite3_int64)bands[j]);
		sqlite3_bind_int64(w->band, 3, id);
		if (sqlite3_step(w->band) != SQLITE_DONE)
			return db_fail(w->db, w->path, err, errlen);
	}
	return 0;
}

int wn_dedup_index_commit(wn_dedup_index_writer *w, char *err, size_t errlen)
{
	sqlite3_finalize(w->doc);
	sqlite3_finalize(w->band);
	w->doc = w->band = NULL;
	int rc = 0;
	if (sqlite3_exec(w->db, "COMMIT; CREATE INDEX bands_bh ON bands(band, hash);", NULL, NULL,
			 NULL))
		rc = db_fail(w->db, w->path, err, errlen);
	if (sqlite3_close(w->db) != SQLITE_OK && !rc)
		rc = (wn_errf(err, errlen, "%s: cannot close the index", w->path), -1);
	w->db = NULL;
	if (!rc && rename(w->tmp, w->path))
		rc = (wn_errf(err, errlen, "%s: cannot publish the index: %s", w->path, strerror(errno)), -1);
	if (!rc) {
		wn_cleanup_remove(w->tmp);
		free(w->tmp);
		w->tmp = NULL;
	}
	wn_dedup_index_abort(w);
	return rc;
}

void wn_dedup_index_abort(wn_dedup_index_writer *w)
{
	if (!w)
		return;
	sqlite3_finalize(w->doc);
	sqlite3_finalize(w->band);
	sqlite3_close(w->db);
	if (w->tmp) {
		unlink(w->tmp);
		wn_cleanup_remove(w->tmp);
	}
	free(w->tmp);
	free(w->path);
	free(w->blob);
	free(w);
}
