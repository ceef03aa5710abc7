/*
 * tests/unit/test_batch.c — io/batch: blocks keep each record's bytes, text,
 * file, line and index; the read-ahead loop hands every record to the
 * consumer once, in stream order, and stops when the consumer stops.
 */
#include "io/batch.h"

#include "test.h"

struct src_ctx {
	int n, i;
	char line[64];
};

static int src_next(void *p, wn_record *rec)
{
	struct src_ctx *c = p;
	if (c->i == c->n)
		return 0;
	int len = snprintf(c->line, sizeof c->line, "{\"text\":\"t%d\"}", c->i);
	*rec = (wn_record){{c->line, (size_t)len}, "in.jsonl", (uint64_t)c->i + 1, (uint64_t)c->i};
	c->i++;
	return 1;
}

static int src_take(void *p, wn_batch *b, const wn_record *rec)
{
	(void)p;
	wn_span text = {rec->json.p + 9, rec->json.n - 11}; /* the t<i> inside the quotes */
	return wn_batch_add(b, rec, text, WN_BATCH_KEEP_JSON | WN_BATCH_KEEP_TEXT,
			    rec->index % 7 == 3 ? "unusable" : NULL);
}

struct sink_ctx {
	uint64_t next;
	int bad, blocks, stop_after;
};

static int sink(void *p, wn_batch *b)
{
	struct sink_ctx *c = p;
	const char *const *texts = wn_batch_texts(b);
	for (size_t i = 0; i < b->n; i++) {
		wn_record r = wn_batch_record(b, i);
		char want[64];
		int len = snprintf(want, sizeof want, "{\"text\":\"t%llu\"}", (unsigned long long)c->next);
		if (r.index != c->next || r.line != c->next + 1 || strcmp(r.file, "in.jsonl") ||
		    r.json.n != (size_t)len || memcmp(r.json.p, want, (size_t)len))
			c->bad++;
		int unusable = c->next % 7 == 3;
		if (unusable != (b->why[i] != NULL))
			c->bad++;
		if (!unusable && (b->text_len[i] != (size_t)len - 11 || memcmp(texts[i], want + 9, b->text_len[i])))
			c->bad++;
		c->next++;
	}
	c->blocks++;
	return c->stop_after && c->blocks == c->stop_after ? -1 : 0;
}

static void test_every_record_in_order(void)
{
	struct src_ctx sc = {100000, 0, ""};
	struct sink_ctx kc = {0, 0, 0, 0};
	wn_batch_source src = {src_next, src_take, &sc, 1000, 1 << 20};
	uint64_t n = 0;
	char err[128];
	CHECK_EQ_INT(wn_batch_run(&src, sink, &kc, &n, err, sizeof err), 0);
	CHECK_EQ_INT(n, 100000);
	CHECK_EQ_INT(kc.next, 100000);
	CHECK_EQ_INT(kc.bad, 0);
	CHECK_EQ_INT(kc.blocks, 100);
}

static void test_consumer_stops(void)
{
	struct src_ctx sc = {100000, 0, ""};
	struct sink_ctx kc = {0, 0, 0, 5};
	wn_batch_source src = {src_next, src_take, &sc, 1000, 1 << 20};
	char err[128];
	CHECK_EQ_INT(wn_batch_run(&src, sink, &kc, NULL, err, sizeof err), -1);
	CHECK_EQ_INT(kc.blocks, 5);
	CHECK_EQ_INT(kc.bad, 0);
	CHECK(sc.i < 100000); /* the reader stopped too, a few blocks ahead at most */
	CHECK(sc.i <= 5000 + 3 * 1000 + 1);
}

static void test_byte_limit(void)
{
	wn_batch b = WN_BATCH_INIT;
	struct src_ctx sc = {50, 0, ""};
	wn_record rec;
	while (src_next(&sc, &rec) > 0 && !wn_batch_full(&b, 1000, 100))
		CHECK(src_take(NULL, &b, &rec) == 0);
	/* t0..t9 are 13 bytes of json and 2 of text: 6 make 90 bytes, the 7th 105 >= 100 */
	CHECK_EQ_INT(b.n, 7);
	wn_batch_free(&b);
}

/* A source that fails (-1 from next) after `fail_at` records. */
struct fail_ctx {
	struct src_ctx src;
	int fail_at, stop_at; /* next fails at fail_at; take returns 1 at stop_at (-1: never) */
};

static int fail_next(void *p, wn_record *rec)
{
	struct fail_ctx *c = p;
	if (c->src.i == c->fail_at)
		return -1;
	return src_next(&c->src, rec);
}

static int stop_take(void *p, wn_batch *b, const wn_record *rec)
{
	struct fail_ctx *c = p;
	if (src_take(NULL, b, rec))
		return -1;
	return (int)rec->index == c->stop_at;
}

/* The blocks full before a failure of the source still reach the consumer
 * (the one being filled does not): 2500 records, blocks of 1000, failure at
 * the 2500th: exactly 2 blocks, 2000 records, in order; the run fails. */
static void test_source_failure_drains_full_blocks(void)
{
	struct fail_ctx fc = {{100000, 0, ""}, 2500, -1};
	struct sink_ctx kc = {0, 0, 0, 0};
	wn_batch_source src = {fail_next, stop_take, &fc, 1000, 1 << 20};
	char err[128];
	CHECK_EQ_INT(wn_batch_run(&src, sink, &kc, NULL, err, sizeof err), -1);
	CHECK_EQ_INT(kc.blocks, 2);
	CHECK_EQ_INT(kc.next, 2000);
	CHECK_EQ_INT(kc.bad, 0);
}

/* take returning 1 ends the reading after that record, whose partial block
 * is still handed on: records 0..1234 in 2 blocks, and the run succeeds. */
static void test_take_stops_after_record(void)
{
	struct fail_ctx fc = {{100000, 0, ""}, -1, 1234};
	struct sink_ctx kc = {0, 0, 0, 0};
	wn_batch_source src = {fail_next, stop_take, &fc, 1000, 1 << 20};
	uint64_t n = 0;
	char err[128];
	CHECK_EQ_INT(wn_batch_run(&src, sink, &kc, &n, err, sizeof err), 0);
	CHECK_EQ_INT(n, 1235);
	CHECK_EQ_INT(kc.next, 1235);
	CHECK_EQ_INT(kc.blocks, 2);
	CHECK_EQ_INT(fc.src.i, 1235); /* nothing read after it */
	CHECK_EQ_INT(kc.bad, 0);
}

int main(void)
{
	RUN(test_source_failure_drains_full_blocks);
	RUN(test_take_stops_after_record);
	RUN(test_every_record_in_order);
	RUN(test_consumer_stops);
	RUN(test_byte_limit);
	return TEST_EXIT;
}
