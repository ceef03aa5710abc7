/*
 * tests/unit/test_intern.c — io/intern: ids in first-seen order, lookups
 * through long collision chains and across growth, and fault injection:
 * every allocation the table makes is failed in turn, and after each
 * failure the table must still hold exactly what it held before, accept
 * the same string once memory is back, and free everything it took.
 *
 * The reference for ids is plain counting: the i-th distinct string put is
 * id i. Collisions are made, not hoped for: keys are picked whose xxh3
 * hashes (the table's hash, computed here independently) agree in their
 * low 16 bits, so they share one probe chain until the table has 2^17
 * slots.
 */
#include "io/intern.h"
#include "tests/unit/test.h"

#include <stdint.h>
#include <xxhash.h>

static void test_ids_and_bytes(void)
{
	wn_intern *t = wn_intern_new();
	CHECK(t != NULL);
	int added = -1;
	CHECK_EQ_INT(wn_intern_find(t, "x", 1), -1); /* empty table */
	CHECK_EQ_INT(wn_intern_put(t, "games", 5, &added), 0);
	CHECK_EQ_INT(added, 1);
	CHECK_EQ_INT(wn_intern_put(t, "net", 3, &added), 1);
	CHECK_EQ_INT(wn_intern_put(t, "games", 5, &added), 0);
	CHECK_EQ_INT(added, 0);
	CHECK_EQ_INT(wn_intern_put(t, "", 0, NULL), 2);
	/* NUL bytes are part of the key; a prefix is another key */
	CHECK_EQ_INT(wn_intern_put(t, "a\0b", 3, NULL), 3);
	CHECK_EQ_INT(wn_intern_put(t, "a\0c", 3, NULL), 4);
	CHECK_EQ_INT(wn_intern_put(t, "a", 1, NULL), 5);
	CHECK_EQ_INT(wn_intern_find(t, "a\0b", 3), 3);
	CHECK_EQ_INT(wn_intern_find(t, "ne", 2), -1);
	CHECK_EQ_INT(wn_intern_find(t, "", 0), 2);
	CHECK_EQ_INT(wn_intern_count(t), 6);
	size_t n = 99;
	const char *s = wn_intern_str(t, 4, &n);
	CHECK(s && n == 3 && memcmp(s, "a\0c", 4) == 0); /* NUL-terminated */
	s = wn_intern_str(t, 2, &n);
	CHECK(s && n == 0 && s[0] == 0);
	CHECK(wn_intern_str(t, 6, &n) == NULL && n == 0);
	wn_intern_free(t);
}

/* Keys "k<number>" whose xxh3 hashes share the low 16 bits of key 0's. */
static int colliding_keys(char (*keys)[16], int want)
{
	uint64_t low = 0;
	int got = 0;
	for (unsigned i = 0; got < want && i < 100000000u; i++) {
		char k[16];
		int n = snprintf(k, sizeof k, "k%u", i);
		uint64_t h = XXH3_64bits(k, (size_t)n) & 0xffff;
		if (got == 0)
			low = h;
		if (h == low)
			memcpy(keys[got++], k, sizeof k);
	}
	return got;
}

static void test_collisions(void)
{
	enum { N = 200 };
	static char keys[N + 1][16];
	CHECK_EQ_INT(colliding_keys(keys, N + 1), N + 1);
	wn_intern *t = wn_intern_new();
	CHECK(t != NULL);
	for (int i = 0; i < N; i++)
		CHECK_EQ_INT(wn_intern_put(t, keys[i], strlen(keys[i]), NULL), i);
	for (int i = 0; i < N; i++) { /* again: found, not added */
		int added = 1;
		CHECK_EQ_INT(wn_intern_put(t, keys[i], strlen(keys[i]), &added), i);
		CHECK_EQ_INT(added, 0);
	}
	/* the last one shares the chain but was never put */
	CHECK_EQ_INT(wn_intern_find(t, keys[N], strlen(keys[N])), -1);
	CHECK_EQ_INT(wn_intern_count(t), N);
	wn_intern_free(t);
}

static void test_growth(void)
{
	enum { N = 100000 };
	wn_intern *t = wn_intern_new();
	CHECK(t != NULL);
	char k[32];
	for (int i = 0; i < N; i++) {
		int n = snprintf(k, sizeof k, "name-%d", i * 7919);
		CHECK_EQ_INT(wn_intern_put(t, k, (size_t)n, NULL), i);
	}
	for (int i = N - 1; i >= 0; i--) {
		int n = snprintf(k, sizeof k, "name-%d", i * 7919);
		CHECK_EQ_INT(wn_intern_find(t, k, (size_t)n), i);
		size_t m;
		const char *s = wn_intern_str(t, (size_t)i, &m);
		CHECK(s && m == (size_t)n && memcmp(s, k, m + 1) == 0);
	}
	CHECK_EQ_INT(wn_intern_find(t, "name-1", 6), -1);
	CHECK_EQ_INT(wn_intern_count(t), N);
	wn_intern_free(t);
}

/* ---- fault injection ------------------------------------------------------ */

struct faulty {
	long calls, fail_at; /* the fail_at-th allocation (0-based) fails */
	long live;           /* blocks allocated and not yet freed */
};

static void *faulty_realloc(void *ctx, void *p, size_t n)
{
	struct faulty *f = ctx;
	if (f->calls++ == f->fail_at)
		return NULL;
	void *q = realloc(p, n);
	if (q && !p)
		f->live++;
	return q;
}

static void faulty_free(void *ctx, void *p)
{
	struct faulty *f = ctx;
	if (p)
		f->live--;
	free(p);
}

/* Key i into k (64 bytes); returns its length. */
static int key(char *k, int i)
{
	return snprintf(k, 64, "key %d %s", i, i % 3 ? "longer tail to grow the arena" : "");
}

/* Put keys until the injected failure, then check the table is intact
 * and usable. Returns a message or NULL. */
static const char *run_with_failure(long fail_at, int nkeys, int *hit)
{
	struct faulty f = {0, fail_at, 0};
	wn_intern_mem mem = {faulty_realloc, faulty_free, &f};
	wn_intern *t = wn_intern_new_mem(&mem);
	*hit = 0;
	if (!t)
		return f.live == 0 && fail_at == 0 ? (*hit = 1, NULL) : "new failed wrongly";
	char k[64];
	int failed = -1;
	for (int i = 0; i < nkeys && failed < 0; i++)
		if (wn_intern_put(t, k, (size_t)key(k, i), NULL) != i)
			failed = i;
	const char *bad = NULL;
	if (failed >= 0) {
		*hit = 1;
		if (wn_intern_count(t) != (size_t)failed)
			bad = "count changed by a failed put";
		for (int i = 0; i < failed && !bad; i++)
			if (wn_intern_find(t, k, (size_t)key(k, i)) != i)
				bad = "an earlier key was lost";
		if (!bad && wn_intern_find(t, k, (size_t)key(k, failed)) != -1)
			bad = "the failed key is half there";
		f.fail_at = -1; /* memory is back */
		for (int i = failed; i < nkeys && !bad; i++)
			if (wn_intern_put(t, k, (size_t)key(k, i), NULL) != i)
				bad = "not usable after the failure";
		for (int i = 0; i < nkeys && !bad; i++) {
			size_t n;
			const char *s = wn_intern_str(t, (size_t)i, &n);
			if (!s || n != (size_t)key(k, i) || memcmp(s, k, n + 1) != 0)
				bad = "bytes differ after the failure";
		}
	}
	wn_intern_free(t);
	if (!bad && f.live != 0)
		bad = "leaked a block";
	return bad;
}

static void test_failed_allocation(void)
{
	enum { KEYS = 300 };
	int hits = 0, hit = 1;
	for (long at = 0; hit; at++) { /* until the failure point lies past the last allocation */
		const char *bad = run_with_failure(at, KEYS, &hit);
		if (bad)
			TEST_FAIL_("allocation %ld failed: %s", at, bad);
		hits += hit;
	}
	CHECK(hits >= 10); /* struct, offsets, arena and slot growths were each failed */
}

int main(void)
{
	RUN(test_ids_and_bytes);
	RUN(test_collisions);
	RUN(test_growth);
	RUN(test_failed_allocation);
	return TEST_EXIT;
}
