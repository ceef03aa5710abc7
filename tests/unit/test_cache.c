/*
 * tests/unit/test_cache.c — pipelines/cache: the annotation delta against
 * hand-written records (what a step added, in its order; a record whose
 * other bytes changed is not cacheable), the delta applied back gives the
 * step's bytes, the database: a hit after commit, nothing of a batch
 * that was not committed, the last run of a recipe; and a model directory's
 * hash (its files' names and bytes, not its path).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipelines/cache.h"
#include "pipelines/cache_step.h"
#include "test.h"

static wn_span sp(const char *s)
{
	return (wn_span){s, strlen(s)};
}

/* delta(in, out), then the delta applied to in: returns d, fills applied. */
static int roundtrip(const char *in, const char *out, wn_buf *delta, wn_buf *applied)
{
	wn_annot a;
	wn_buf check = WN_BUF_INIT;
	wn_annot_init(&a);
	int d = wn_cache_delta(sp(in), sp(out), delta, &a, &check);
	if (d == 1 && wn_cache_apply(sp(in), delta->data, delta->len, &a, applied))
		d = -2;
	wn_annot_free(&a);
	wn_buf_free(&check);
	return d;
}

static void test_delta_new_member(void)
{
	wn_buf delta = WN_BUF_INIT, applied = WN_BUF_INIT;
	const char *in = "{\"id\": 1, \"text\": \"a b\"}";
	const char *out = "{\"id\": 1, \"text\": \"a b\",\"winnow\":{\"emb\":\"AAAA\",\"dim\":1}}";
	CHECK_EQ_INT(roundtrip(in, out, &delta, &applied), 1);
	/* two members: u32 3 "\"emb\"" ... the keys raw, with their quotes */
	static const char want[] = "\0\0\0\5\"emb\"\0\0\0\6\"AAAA\"\0\0\0\5\"dim\"\0\0\0\1" "1";
	CHECK_EQ_INT(delta.len, sizeof want - 1);
	CHECK(!memcmp(delta.data, want, delta.len));
	CHECK_EQ_INT(applied.len, strlen(out));
	CHECK(!memcmp(applied.data, out, applied.len));
	wn_buf_free(&delta);
	wn_buf_free(&applied);
}

static void test_delta_only_what_changed(void)
{
	wn_buf delta = WN_BUF_INIT, applied = WN_BUF_INIT;
	/* the step kept "cluster", replaced "dist" and added "zipfit" */
	const char *in = "{\"text\":\"x\",\"winnow\":{\"cluster\":3,\"dist\":0.5},\"z\":1}";
	const char *out = "{\"text\":\"x\",\"winnow\":{\"cluster\":3,\"dist\":0.25,\"zipfit\":0.9},\"z\":1}";
	CHECK_EQ_INT(roundtrip(in, out, &delta, &applied), 1);
	static const char want[] = "\0\0\0\6\"dist\"\0\0\0\4" "0.25" "\0\0\0\10\"zipfit\"\0\0\0\3" "0.9";
	CHECK_EQ_INT(delta.len, sizeof want - 1);
	CHECK(!memcmp(delta.data, want, delta.len));
	CHECK(applied.len == strlen(out) && !memcmp(applied.data, out, applied.len));
	wn_buf_free(&delta);
	wn_buf_free(&applied);
}

static void test_delta_not_cacheable(void)
{
	wn_buf delta = WN_BUF_INIT, applied = WN_BUF_INIT;
	/* the text changed: no delta of "winnow" gives out */
	CHECK_EQ_INT(roundtrip("{\"text\":\"a\"}", "{\"text\":\"b\",\"winnow\":{\"k\":1}}", &delta, &applied), 0);
	/* a member removed from winnow */
	CHECK_EQ_INT(roundtrip("{\"winnow\":{\"a\":1,\"b\":2}}", "{\"winnow\":{\"a\":1}}", &delta, &applied), 0);
	/* nothing added, same bytes: an empty delta that applies */
	CHECK_EQ_INT(roundtrip("{\"text\":\"a\"}", "{\"text\":\"a\"}", &delta, &applied), 1);
	CHECK_EQ_INT(delta.len, 0);
	CHECK(applied.len == 12 && !memcmp(applied.data, "{\"text\":\"a\"}", 12));
	/* a different record without winnow */
	CHECK_EQ_INT(roundtrip("{\"text\":\"a\"}", "{\"text\":\"c\"}", &delta, &applied), 0);
	wn_buf_free(&delta);
	wn_buf_free(&applied);
}

static void test_apply_corrupt(void)
{
	wn_annot a;
	wn_buf out = WN_BUF_INIT;
	wn_annot_init(&a);
	CHECK(wn_cache_apply(sp("{\"t\":1}"), "\0\0\0\77", 4, &a, &out) == -1);
	wn_annot_free(&a);
	wn_buf_free(&out);
}

static void test_hash_is_xxh3_128(void)
{
	/* XXH3-128 of the empty string: 99aa06d3014798d86001c324468d497f */
	wn_cache_key k = wn_cache_hash("", 0);
	static const uint8_t want[16] = {0x99, 0xaa, 0x06, 0xd3, 0x01, 0x47, 0x98, 0xd8,
					 0x60, 0x01, 0xc3, 0x24, 0x46, 0x8d, 0x49, 0x7f};
	CHECK(!memcmp(k.b, want, 16));
}

static void test_db_batches(void)
{
	char dir[] = "/tmp/winnow-test-cache.XXXXXX", err[512];
	CHECK(mkdtemp(dir));
	char sub[64];
	snprintf(sub, sizeof sub, "%s/c", dir);
	wn_cache *c = wn_cache_open(sub, err, sizeof err);
	CHECK(c);
	wn_cache_key step = wn_cache_hash("step", 4), r1 = wn_cache_hash("r1", 2), r2 = wn_cache_hash("r2", 2);
	wn_buf d = WN_BUF_INIT;
	CHECK_EQ_INT(wn_cache_get(c, step, r1, &d), 0);
	CHECK_EQ_INT(wn_cache_begin(c), 0);
	CHECK_EQ_INT(wn_cache_put(c, step, r1, "abc", 3), 0);
	CHECK_EQ_INT(wn_cache_commit(c), 0);
	CHECK_EQ_INT(wn_cache_begin(c), 0);
	CHECK_EQ_INT(wn_cache_put(c, step, r2, "xyz", 3), 0);
	wn_cache_close(c); /* the second batch was not committed */
	c = wn_cache_open(sub, err, sizeof err);
	CHECK(c);
	CHECK_EQ_INT(wn_cache_get(c, step, r1, &d), 1);
	CHECK(d.len == 3 && !memcmp(d.data, "abc", 3));
	CHECK_EQ_INT(wn_cache_get(c, step, r2, &d), 0);
	CHECK_EQ_INT(wn_cache_get(c, wn_cache_hash("other", 5), r1, &d), 0);
	char fp[65];
	uint64_t h = 0;
	CHECK_EQ_INT(wn_cache_last_run(c, "r.yaml", fp, &d, &h), 0);
	CHECK_EQ_INT(wn_cache_record_run(c, "r.yaml", "aa", "o.jsonl", 0x1234, "{}"), 0);
	CHECK_EQ_INT(wn_cache_record_run(c, "r.yaml", "bb", "p.jsonl", 0x99, "{}"), 0);
	CHECK_EQ_INT(wn_cache_last_run(c, "r.yaml", fp, &d, &h), 1);
	CHECK_STR(fp, "bb");
	CHECK_STR(wn_buf_cstr(&d), "p.jsonl");
	CHECK(h == 0x99);
	wn_cache_close(c);
	wn_buf_free(&d);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	CHECK_EQ_INT(system(cmd), 0);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* A model directory is keyed by its files' names and bytes, not its path. */
static void test_hash_path_dir(void)
{
	char a[] = "/tmp/winnow-test-hashA.XXXXXX", b[] = "/tmp/winnow-test-hashB.XXXXXX", p[128];
	CHECK(mkdtemp(a) && mkdtemp(b));
	snprintf(p, sizeof p, "%s/config.json", a), write_file(p, "{}");
	snprintf(p, sizeof p, "%s/config.json", b), write_file(p, "{}");
	uint64_t ha, hb, hf;
	CHECK_EQ_INT(wn_cache_hash_path(a, &ha), 0);
	CHECK_EQ_INT(wn_cache_hash_path(b, &hb), 0);
	CHECK(ha == hb);
	snprintf(p, sizeof p, "%s/config.json", b), write_file(p, "{ }");
	CHECK_EQ_INT(wn_cache_hash_path(b, &hb), 0);
	CHECK(ha != hb);
	CHECK_EQ_INT(wn_cache_hash_path(p, &hf), 0);
	CHECK(hf != hb);
	CHECK_EQ_INT(wn_cache_hash_path("/nonexistent-winnow", &hf), -1);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s %s", a, b);
	CHECK_EQ_INT(system(cmd), 0);
}

static void test_open_errors(void)
{
	char err[512] = "";
	CHECK(!wn_cache_open("/nonexistent-dir-winnow/x", err, sizeof err));
	CHECK(strstr(err, "cache '/nonexistent-dir-winnow/x': No such file or directory"));
}

int main(void)
{
	RUN(test_delta_new_member);
	RUN(test_delta_only_what_changed);
	RUN(test_delta_not_cacheable);
	RUN(test_apply_corrupt);
	RUN(test_hash_is_xxh3_128);
	RUN(test_db_batches);
	RUN(test_hash_path_dir);
	RUN(test_open_errors);
	return TEST_EXIT;
}
