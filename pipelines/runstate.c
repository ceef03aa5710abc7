/*
 * pipelines/runstate.c — is there anything new to do (see
 * pipelines/runstate.h)?
 *
 * Owns: the SQL that reads the output database's runs table (read-only,
 * busy timeout 5 s) and the one UPDATE that adds the cache's counts to the
 * latest runs row. Borrows: SQLite, nettle (sha256), xxhash.
 */
#include "pipelines/runstate.h"

#include <fcntl.h>
#include <nettle/sha2.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "io/errf.h"

#ifndef WINNOW_VERSION
#define WINNOW_VERSION "unknown"
#endif

int wn_runstate_file_hash(const char *path, uint64_t *size, uint64_t *xxh3)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	XXH3_state_t *st = XXH3_createState();
	char *b = malloc(1 << 16);
	ssize_t n = 0;
	*size = 0;
	if (st && b) {
		XXH3_64bits_reset(st);
		while ((n = read(fd, b, 1 << 16)) > 0) {
			XXH3_64bits_update(st, b, (size_t)n);
			*size += (uint64_t)n;
		}
		*xxh3 = XXH3_64bits_digest(st);
	}
	int rc = !st || !b || n < 0 ? -1 : 0;
	free(b);
	XXH3_freeState(st);
	close(fd);
	return rc;
}

static void sha_str(struct sha256_ctx *c, const char *s)
{
	sha256_update(c, strlen(s) + 1, (const uint8_t *)s);
}

void wn_runstate_fingerprint(const wn_recipe *r, const wn_recipe_env *env,
			     const wn_store_input *in, size_t n, char hex[65])
{
	struct sha256_ctx c;
	uint8_t d[SHA256_DIGEST_SIZE];
	char num[64];
	sha256_init(&c);
	sha_str(&c, "winnow-run 1");
	sha_str(&c, WINNOW_VERSION);
	sha256_update(&c, r->text_len, (const uint8_t *)r->text);
	sha_str(&c, env && env->output ? env->output : "");
	sha_str(&c, env && env->device ? env->device : "");
	for (size_t i = 0; i < n; i++) {
		sha_str(&c, in[i].name);
		snprintf(num, sizeof num, "%llu %016llx", (unsigned long long)in[i].size,
			 (unsigned long long)in[i].xxh3);
		sha_str(&c, num);
	}
	sha256_digest(&c, sizeof d, d);
	for (int i = 0; i < SHA256_DIGEST_SIZE; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

/* The recipe's inputs hashed now (NULL with err when one cannot be read). */
static wn_store_input *hash_inputs(const wn_recipe *r, char *err, size_t errlen)
{
	wn_store_input *in = calloc(r->ninputs + 1, sizeof *in);
	if (!in) {
		wn_errf(err, errlen, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < r->ninputs; i++) {
		in[i].name = r->inputs[i];
		if (wn_runstate_file_hash(r->inputs[i], &in[i].size, &in[i].xxh3)) {
			wn_errf(err, errlen, "%s: cannot read input '%s'", r->name, r->inputs[i]);
			free(in);
			return NULL;
		}
	}
	return in;
}

/* The jsonl case: the cache's last run of this recipe. */
static int same_as_cached(const wn_recipe *r, const wn_recipe_env *env, wn_cache *c, char *msg,
			  size_t msglen, char *err, size_t errlen)
{
	char last[65], now[65];
	wn_buf out = WN_BUF_INIT;
	uint64_t out_hash = 0, size, h;
	int found = wn_cache_last_run(c, r->name, last, &out, &out_hash);
	if (found < 0)
		wn_errf(err, errlen, "%s", wn_cache_error(c));
	int same = 0;
	if (found > 0 && !strcmp(wn_buf_cstr(&out), r->out_jsonl) &&
	    !wn_runstate_file_hash(r->out_jsonl, &size, &h) && h == out_hash) {
		wn_store_input *in = hash_inputs(r, err, errlen);
		if (!in)
			found = -1;
		else {
			wn_runstate_fingerprint(r, env, in, r->ninputs, now);
			same = !strcmp(now, last);
			free(in);
		}
	}
	wn_buf_free(&out);
	if (same)
		wn_errf(msg, msglen, "inputs and recipe unchanged since the last run; %s is up to date",
			r->out_jsonl);
	return found < 0 ? -1 : same;
}

/* runs.inputs (as store/ writes it) lists exactly these inputs, in order. */
static int same_inputs(sqlite3 *db, const char *json, const wn_store_input *in, size_t n)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "SELECT json_extract(value, '$.name'), json_extract(value, '$.size'), "
				   "json_extract(value, '$.xxh3') FROM json_each(?1) ORDER BY key",
			       -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, json, -1, SQLITE_STATIC);
	size_t k = 0;
	int same = 1;
	while (same && sqlite3_step(st) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		const char *h = (const char *)sqlite3_column_text(st, 2);
		char want[17];
		if (k < n)
			snprintf(want, sizeof want, "%016llx", (unsigned long long)in[k].xxh3);
		same = k < n && name && h && !strcmp(name, in[k].name) && !strcmp(h, want) &&
		       (uint64_t)sqlite3_column_int64(st, 1) == in[k].size;
		k++;
	}
	sqlite3_finalize(st);
	return same && k == n;
}

static const char *const last_run_sql =
	"SELECT run_id, inputs, finished FROM runs WHERE run_id = (SELECT max(run_id) FROM runs "
	"WHERE table_name = ?1) AND version = ?2 AND json_extract(extra, '$.recipe.sha256') = ?3 "
	"AND EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)";

/* The db case: the latest run of the table was this recipe on these inputs. */
static int same_as_db(const wn_recipe *r, const char *table, char *msg, size_t msglen, char *err,
		      size_t errlen)
{
	struct stat sb;
	if (stat(r->out_db, &sb))
		return 0; /* no database yet */
	sqlite3 *db;
	sqlite3_stmt *st = NULL;
	char sha[65];
	wn_recipe_sha256(r, sha);
	if (sqlite3_open_v2(r->out_db, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		wn_errf(err, errlen, "%s: %s", r->out_db, sqlite3_errmsg(db));
		sqlite3_close(db);
		return -1;
	}
	sqlite3_busy_timeout(db, 5000);
	int same = 0;
	if (sqlite3_prepare_v2(db, last_run_sql, -1, &st, NULL) != SQLITE_OK) {
		sqlite3_close(db);
		return 0; /* no runs table: not a database of ours yet */
	}
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, WINNOW_VERSION, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, sha, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		wn_store_input *in = hash_inputs(r, err, errlen);
		const char *json = (const char *)sqlite3_column_text(st, 1);
		same = !in ? -1 : json ? same_inputs(db, json, in, r->ninputs) : 0;
		if (same > 0)
			wn_errf(msg, msglen, "inputs and recipe unchanged since run %lld (%s) of %s table %s",
				(long long)sqlite3_column_int64(st, 0), sqlite3_column_text(st, 2), r->out_db,
				table);
		if (same < 0 && in)
			wn_errf(err, errlen, "%s: %s", r->out_db, sqlite3_errmsg(db));
		free(in);
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return same;
}

int wn_runstate_nothing_new(const wn_recipe *r, const wn_recipe_env *env, wn_cache *c,
			    const char *table, char *msg, size_t msglen, char *err, size_t errlen)
{
	if (r->out_db && table)
		return same_as_db(r, table, msg, msglen, err, errlen);
	if (c && r->out_jsonl && strcmp(r->out_jsonl, "-"))
		return same_as_cached(r, env, c, msg, msglen, err, errlen);
	return 0;
}

int wn_runstate_note_db(const char *path, const char *counts_json, char *err, size_t errlen)
{
	sqlite3 *db;
	int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL);
	sqlite3_stmt *st = NULL;
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(db, 5000);
		rc = sqlite3_prepare_v2(db, "UPDATE runs SET extra = json_set(coalesce(extra, '{}'), '$.cache', "
					    "json(?1)) WHERE run_id = (SELECT max(run_id) FROM runs)",
					-1, &st, NULL);
	}
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(st, 1, counts_json, -1, SQLITE_STATIC);
		rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
	}
	if (rc != SQLITE_OK)
		wn_errf(err, errlen, "%s: recording the cache counts: %s", path, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return rc == SQLITE_OK ? 0 : -1;
}
