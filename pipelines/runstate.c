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
#include "pipelines/cache_step.h"

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

/* Every file or directory a step's option names, hashed (or "absent"):
 * a changed --target or --centroids is a changed run. */
static int sha_option_files(struct sha256_ctx *c, const wn_recipe *r)
{
	for (size_t i = 0; i < r->nsteps; i++) {
		const wn_recipe_step *rs = &r->steps[i];
		wn_recipe_bound b;
		char why[512], num[64];
		if (wn_recipe_bind(r, i, NULL, 0, &b, why, sizeof why)) {
			wn_recipe_unbind(&b);
			return -1;
		}
		for (size_t k = 0; k < rs->nkv; k++) {
			const struct wn_option *o = wn_opts_find(b.keys, rs->kv[k].key);
			if (!o || !o->argh || (!strstr(o->argh, "FILE") && !strstr(o->argh, "DIR") &&
					       strcmp(o->argh, "DB")))
				continue;
			uint64_t h = 0;
			int there = !wn_cache_hash_path(rs->kv[k].value, &h);
			snprintf(num, sizeof num, there ? "%zu %016llx" : "%zu absent", i, (unsigned long long)h);
			sha_str(c, rs->kv[k].key);
			sha_str(c, num);
		}
		wn_recipe_unbind(&b);
	}
	return 0;
}

int wn_runstate_fingerprint(const wn_recipe *r, const wn_recipe_env *env,
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
	int rc = sha_option_files(&c, r);
	sha256_digest(&c, sizeof d, d);
	for (int i = 0; i < SHA256_DIGEST_SIZE; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	return rc;
}

/* The fingerprint of the run as it would be now (reads every input). */
static int fingerprint_now(const wn_recipe *r, const wn_recipe_env *env, char hex[65], char *err,
			   size_t errlen);

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

static int fingerprint_now(const wn_recipe *r, const wn_recipe_env *env, char hex[65], char *err,
			   size_t errlen)
{
	wn_store_input *in = hash_inputs(r, err, errlen);
	if (!in)
		return -1;
	int rc = wn_runstate_fingerprint(r, env, in, r->ninputs, hex);
	free(in);
	if (rc)
		wn_errf(err, errlen, "%s: cannot bind the steps", r->name);
	return rc;
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
		if (fingerprint_now(r, env, now, err, errlen))
			found = -1;
		else
			same = !strcmp(now, last);
	}
	wn_buf_free(&out);
	if (same)
		wn_errf(msg, msglen, "inputs and recipe unchanged since the last run; %s is up to date",
			r->out_jsonl);
	return found < 0 ? -1 : same;
}

static const char *const last_run_sql =
	"SELECT run_id, finished, json_extract(extra, '$.fingerprint') FROM runs WHERE run_id = "
	"(SELECT max(run_id) FROM runs WHERE table_name = ?1) AND version = ?2 "
	"AND json_extract(extra, '$.recipe.sha256') = ?3 "
	"AND EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)";

/* The db case: the latest run of the table was this run (same fingerprint). */
static int same_as_db(const wn_recipe *r, const wn_recipe_env *env, const char *table, char *msg,
		      size_t msglen, char *err, size_t errlen)
{
	struct stat sb;
	if (stat(r->out_db, &sb))
		return 0; /* no database yet */
	sqlite3 *db;
	sqlite3_stmt *st = NULL;
	char sha[65], fp[65];
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
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 2)) {
		/* only now read every input: most nights the recipe or the table differ */
		if (fingerprint_now(r, env, fp, err, errlen))
			same = -1;
		else
			same = !strcmp(fp, (const char *)sqlite3_column_text(st, 2));
	}
	if (same > 0)
		wn_errf(msg, msglen, "inputs and recipe unchanged since run %lld (%s) of %s table %s",
			(long long)sqlite3_column_int64(st, 0), sqlite3_column_text(st, 1), r->out_db, table);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return same;
}

int wn_runstate_nothing_new(const wn_recipe *r, const wn_recipe_env *env, wn_cache *c,
			    const char *table, char *msg, size_t msglen, char *err, size_t errlen)
{
	if (r->out_db && table)
		return same_as_db(r, env, table, msg, msglen, err, errlen);
	if (c && r->out_jsonl && strcmp(r->out_jsonl, "-"))
		return same_as_cached(r, env, c, msg, msglen, err, errlen);
	return 0;
}

int wn_runstate_note_db(const char *path, const char *fingerprint, const char *counts_json,
			char *err, size_t errlen)
{
	sqlite3 *db;
	int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL);
	sqlite3_stmt *st = NULL;
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(db, 5000);
		rc = sqlite3_prepare_v2(db, "UPDATE runs SET extra = CASE WHEN ?2 IS NULL "
					    "THEN json_set(coalesce(extra, '{}'), '$.fingerprint', ?1) "
					    "ELSE json_set(coalesce(extra, '{}'), '$.fingerprint', ?1, '$.cache', json(?2)) END "
					    "WHERE run_id = (SELECT max(run_id) FROM runs)",
					-1, &st, NULL);
	}
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(st, 1, fingerprint, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, counts_json, -1, SQLITE_STATIC);
		rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
	}
	if (rc != SQLITE_OK)
		wn_errf(err, errlen, "%s: recording the run's fingerprint: %s", path, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return rc == SQLITE_OK ? 0 : -1;
}
