/*
 * pipelines/cache.c — the recipe cache's database and its delta encoding
 * (see pipelines/cache.h).
 *
 * Owns: the connection, its prepared statements and the open batch.
 * Borrows: SQLite (WAL: a reader never blocks the run that commits; a
 * commit survives kill -9 of the process), xxhash, io/json.h.
 */
#include "pipelines/cache.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <xxhash.h>

#include "io/errf.h"

struct wn_cache {
	sqlite3 *db;
	sqlite3_stmt *get, *put;
	int in_batch;
	char err[512];
};

static const char *const cache_schema =
	"PRAGMA journal_mode=WAL;"
	"PRAGMA synchronous=NORMAL;"
	"BEGIN;"
	"CREATE TABLE IF NOT EXISTS annot(step BLOB NOT NULL, rec BLOB NOT NULL, delta BLOB NOT NULL,"
	" PRIMARY KEY(step, rec)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS steps(step BLOB PRIMARY KEY, name TEXT, canon TEXT);"
	"CREATE TABLE IF NOT EXISTS runs(run_id INTEGER PRIMARY KEY, finished TEXT, recipe TEXT,"
	" fingerprint TEXT, output TEXT, output_xxh3 TEXT, counts TEXT);"
	"COMMIT;";

wn_cache_key wn_cache_hash(const void *p, size_t n)
{
	XXH128_canonical_t c;
	XXH128_canonicalFromHash(&c, XXH3_128bits(p, n));
	wn_cache_key k;
	memcpy(k.b, c.digest, sizeof k.b);
	return k;
}

static int db_fail(wn_cache *c)
{
	snprintf(c->err, sizeof c->err, "cache: %s", sqlite3_errmsg(c->db));
	return -1;
}

const char *wn_cache_error(const wn_cache *c)
{
	return c->err;
}

static int make_dir(const char *dir, char *err, size_t errlen)
{
	struct stat st;
	if (!stat(dir, &st)) {
		if (S_ISDIR(st.st_mode))
			return 0;
		wn_errf(err, errlen, "cache '%s': not a directory", dir);
		return -1;
	}
	if (mkdir(dir, 0777) && errno != EEXIST) {
		wn_errf(err, errlen, "cache '%s': %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

wn_cache *wn_cache_open(const char *dir, char *err, size_t errlen)
{
	if (make_dir(dir, err, errlen))
		return NULL;
	wn_cache *c = calloc(1, sizeof *c);
	char *path = malloc(strlen(dir) + 16);
	if (!c || !path) {
		free(c);
		free(path);
		wn_errf(err, errlen, "out of memory");
		return NULL;
	}
	sprintf(path, "%s/cache.db", dir);
	int rc = sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc == SQLITE_OK)
		sqlite3_busy_timeout(c->db, 10000);
	if (rc != SQLITE_OK || sqlite3_exec(c->db, cache_schema, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(c->db, "SELECT delta FROM annot WHERE step = ?1 AND rec = ?2", -1,
			       &c->get, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(c->db, "INSERT OR REPLACE INTO annot(step, rec, delta) VALUES (?1, ?2, ?3)",
			       -1, &c->put, NULL) != SQLITE_OK) {
		wn_errf(err, errlen, "cache '%s': %s", path, c->db ? sqlite3_errmsg(c->db) : "out of memory");
		free(path);
		wn_cache_close(c);
		return NULL;
	}
	free(path);
	return c;
}

void wn_cache_close(wn_cache *c)
{
	if (!c)
		return;
	if (c->in_batch)
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_finalize(c->get);
	sqlite3_finalize(c->put);
	sqlite3_close(c->db);
	free(c);
}

int wn_cache_note_step(wn_cache *c, wn_cache_key step, const char *name, const char *canon)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(c->db, "INSERT OR IGNORE INTO steps(step, name, canon) VALUES (?1, ?2, ?3)",
			       -1, &st, NULL) != SQLITE_OK)
		return db_fail(c);
	sqlite3_bind_blob(st, 1, step.b, sizeof step.b, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, canon, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_fail(c);
}

int wn_cache_get(wn_cache *c, wn_cache_key step, wn_cache_key rec, wn_buf *delta)
{
	sqlite3_reset(c->get);
	sqlite3_bind_blob(c->get, 1, step.b, sizeof step.b, SQLITE_STATIC);
	sqlite3_bind_blob(c->get, 2, rec.b, sizeof rec.b, SQLITE_STATIC);
	int rc = sqlite3_step(c->get);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return db_fail(c);
	int bad = 0;
	wn_buf_reset(delta);
	if (rc == SQLITE_ROW)
		bad = wn_buf_append(delta, sqlite3_column_blob(c->get, 0), (size_t)sqlite3_column_bytes(c->get, 0));
	sqlite3_reset(c->get); /* no read transaction left open between lookups */
	if (bad) {
		snprintf(c->err, sizeof c->err, "cache: out of memory");
		return -1;
	}
	return rc == SQLITE_ROW;
}

int wn_cache_begin(wn_cache *c)
{
	if (sqlite3_exec(c->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(c);
	c->in_batch = 1;
	return 0;
}

int wn_cache_put(wn_cache *c, wn_cache_key step, wn_cache_key rec, const void *delta, size_t n)
{
	sqlite3_reset(c->put);
	sqlite3_bind_blob(c->put, 1, step.b, sizeof step.b, SQLITE_STATIC);
	sqlite3_bind_blob(c->put, 2, rec.b, sizeof rec.b, SQLITE_STATIC);
	sqlite3_bind_blob(c->put, 3, n ? delta : "", (int)n, SQLITE_STATIC);
	return sqlite3_step(c->put) == SQLITE_DONE ? 0 : db_fail(c);
}

int wn_cache_commit(wn_cache *c)
{
	if (sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(c);
	c->in_batch = 0;
	return 0;
}

int wn_cache_last_run(wn_cache *c, const char *recipe, char fingerprint[65], wn_buf *output,
		      uint64_t *output_xxh3)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(c->db, "SELECT fingerprint, output, output_xxh3 FROM runs WHERE recipe = ?1 "
				      "ORDER BY run_id DESC LIMIT 1", -1, &st, NULL) != SQLITE_OK)
		return db_fail(c);
	sqlite3_bind_text(st, 1, recipe, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st), found = 0;
	if (rc == SQLITE_ROW) {
		const char *fp = (const char *)sqlite3_column_text(st, 0);
		const char *out = (const char *)sqlite3_column_text(st, 1);
		const char *h = (const char *)sqlite3_column_text(st, 2);
		snprintf(fingerprint, 65, "%s", fp ? fp : "");
		wn_buf_reset(output);
		found = wn_buf_puts(output, out ? out : "") ? -1 : 1;
		*output_xxh3 = h ? strtoull(h, NULL, 16) : 0;
	} else if (rc != SQLITE_DONE) {
		found = db_fail(c);
	}
	sqlite3_finalize(st);
	return found;
}

int wn_cache_record_run(wn_cache *c, const char *recipe, const char *fingerprint,
			const char *output, uint64_t output_xxh3, const char *counts_json)
{
	sqlite3_stmt *st;
	char h[17], when[32];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(h, sizeof h, "%016llx", (unsigned long long)output_xxh3);
	if (sqlite3_prepare_v2(c->db, "INSERT INTO runs(finished, recipe, fingerprint, output, output_xxh3, "
				      "counts) VALUES (?1, ?2, ?3, ?4, ?5, ?6)", -1, &st, NULL) != SQLITE_OK)
		return db_fail(c);
	sqlite3_bind_text(st, 1, when, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, recipe, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, fingerprint, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, output, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, h, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, counts_json, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_fail(c);
}

/* ---- deltas ---- */

static int put_u32(wn_buf *b, size_t v)
{
	uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
	return wn_buf_append(b, x, 4);
}

static int get_u32(const uint8_t **p, const uint8_t *end, size_t *v)
{
	if (end - *p < 4)
		return -1;
	const uint8_t *x = *p;
	*v = (size_t)x[0] << 24 | (size_t)x[1] << 16 | (size_t)x[2] << 8 | x[3];
	*p += 4;
	return (size_t)(end - *p) < *v ? -1 : 0;
}

/* The raw value of member key (raw, with quotes) in obj, or {NULL, 0}. */
static wn_span member_of(wn_span obj, wn_span key)
{
	size_t pos = 0;
	wn_span k, v, found = {NULL, 0};
	while (obj.p && wn_json_next_member(obj, &pos, &k, &v))
		if (k.n == key.n && !memcmp(k.p, key.p, k.n))
			found = v; /* the last duplicate wins, as wn_json_get */
	return found;
}

int wn_cache_delta(wn_span in, wn_span out, wn_buf *delta, wn_annot *scratch, wn_buf *check)
{
	wn_span win = {NULL, 0}, wout;
	wn_buf_reset(delta);
	if (!wn_json_get(out, "winnow", &wout) || wn_json_type_of(wout) != WN_JSON_OBJECT)
		return in.n == out.n && !memcmp(in.p, out.p, in.n); /* nothing added */
	if (wn_json_get(in, "winnow", &win) && wn_json_type_of(win) != WN_JSON_OBJECT)
		return 0;
	size_t pos = 0;
	wn_span k, v;
	while (wn_json_next_member(wout, &pos, &k, &v)) {
		wn_span old = member_of(win, k);
		if (old.p && old.n == v.n && !memcmp(old.p, v.p, v.n))
			continue;
		if (put_u32(delta, k.n) || wn_buf_append(delta, k.p, k.n) || put_u32(delta, v.n) ||
		    wn_buf_append(delta, v.p, v.n))
			return -1;
	}
	if (wn_cache_apply(in, delta->data, delta->len, scratch, check))
		return -1;
	return check->len == out.n && !memcmp(check->data, out.p, out.n);
}

int wn_cache_apply(wn_span in, const void *delta, size_t n, wn_annot *scratch, wn_buf *out)
{
	const uint8_t *p = delta, *end = p + n;
	wn_buf key = WN_BUF_INIT;
	int rc = 0;
	wn_annot_clear(scratch);
	while (p < end && !rc) {
		size_t kn, vn;
		wn_span raw_key, text;
		if (get_u32(&p, end, &kn)) {
			rc = -1;
			break;
		}
		raw_key = (wn_span){(const char *)p, kn};
		p += kn;
		if (get_u32(&p, end, &vn) || wn_json_string(raw_key, &key, &text)) {
			rc = -1;
			break;
		}
		char *name = strndup(text.p, text.n);
		rc = !name || wn_annot_set_raw(scratch, name, (const char *)p, vn) ? -1 : 0;
		free(name);
		p += vn;
	}
	wn_buf_free(&key);
	wn_buf_reset(out);
	return rc ? -1 : wn_json_splice(in, scratch, out);
}
