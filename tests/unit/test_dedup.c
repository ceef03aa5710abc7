/*
 * tests/unit/test_dedup.c — selectors/dedup's --normalize rule and the
 * memory-bounded seen set of `dedup exact`.
 *
 * References: the normalised strings are written out by hand from the rule
 * (NFKC, str.lower(), no P*, whitespace collapsed) and agree with python3's
 * unicodedata (the same strings are checked against python in
 * tests/cli/t5300); the seen set's answers against plain counting, and the
 * Bloom filter's stated rate against (1 - e^(-kn/m))^k computed here.
 */
#include "selectors/dedup.h"
#include "selectors/dedup_seen.h"
#include "tests/unit/test.h"

#include <math.h>

static int norm_is(const char *in, const char *want)
{
	wn_buf b = WN_BUF_INIT;
	int ok = wn_dedup_normalize(in, strlen(in), &b) == 0 && b.len == strlen(want) &&
		 memcmp(b.len ? b.data : "", want, b.len) == 0;
	if (!ok)
		fprintf(stderr, "normalize(%s) = '%.*s', expected '%s'\n", in, (int)b.len,
			b.data ? b.data : "", want);
	wn_buf_free(&b);
	return ok;
}

static void test_normalize_by_hand(void)
{
	CHECK(norm_is("Hello, World!", "hello world"));
	CHECK(norm_is("  HELLO\t\n WORLD  ", "hello world"));
	CHECK(norm_is("\xef\xbc\xa8\xef\xbd\x89", "hi"));                 /* fullwidth Hi */
	CHECK(norm_is("\xef\xac\x81ne", "fine"));                          /* U+FB01 fi */
	CHECK(norm_is("e\xcc\x81", "\xc3\xa9"));                           /* e + U+0301 -> U+00E9 */
	CHECK(norm_is("\xce\x9f\xce\xa3", "\xce\xbf\xcf\x82"));            /* ΟΣ -> ος (final sigma) */
	CHECK(norm_is("a\xc2\xa0\xe3\x80\x80" "b", "a b"));                /* NBSP, U+3000 */
	CHECK(norm_is("\xe2\x80\x9cq\xe2\x80\x9d \xe2\x80\x94 x\xe2\x80\xa6", "q x")); /* “q” — x… */
	CHECK(norm_is("don't-stop_me", "dontstopme"));                     /* ' - _ are all P* */
	CHECK(norm_is("1+1=2 $5", "1+1=2 $5"));                            /* symbols (S*) stay */
	CHECK(norm_is("...", ""));
	CHECK(norm_is("", ""));
}

static void test_normalize_rejects_bad_utf8(void)
{
	wn_buf b = WN_BUF_INIT;
	CHECK(wn_dedup_normalize("a\xff" "b", 3, &b) == -1);
	wn_buf_free(&b);
}

static void test_seen_exact(void)
{
	wn_dedup_seen s;
	const char *first;
	size_t n;
	CHECK(wn_dedup_seen_init(&s, 4 << 20, 1e-6) == 0);
	for (uint64_t i = 0; i < 5000; i++) {
		char name[32];
		int len = snprintf(name, sizeof name, "\"r%llu\"", (unsigned long long)i);
		CHECK(wn_dedup_seen_add(&s, i * 0x9E3779B97F4A7C15ull, i, name, (size_t)len, &first, &n) == 0);
	}
	for (uint64_t i = 0; i < 5000; i += 7) {
		char name[32];
		int len = snprintf(name, sizeof name, "\"r%llu\"", (unsigned long long)i);
		CHECK(wn_dedup_seen_add(&s, i * 0x9E3779B97F4A7C15ull, i, "x", 1, &first, &n) == 1);
		CHECK(n == (size_t)len && memcmp(first, name, n) == 0);
	}
	CHECK(!s.frozen && s.count == 5000);
	wn_dedup_seen_free(&s);
}

static void test_seen_bloom(void)
{
	wn_dedup_seen s;
	const char *first;
	size_t n;
	CHECK(wn_dedup_seen_init(&s, 16384, 1e-3) == 0);
	uint64_t news = 0, exact_hits = 0, bloom_hits = 0;
	for (uint64_t i = 0; i < 3000; i++)
		news += wn_dedup_seen_add(&s, i * 0x9E3779B97F4A7C15ull + 1, ~i, "1", 1, &first, &n) == 0;
	CHECK(s.frozen);
	CHECK(s.bloom_bits == 8192 * 8 && s.bloom_k == 10); /* round(log2(1000)) */
	/* every key again: each one is "seen", by the table or by the filter */
	for (uint64_t i = 0; i < 3000; i++) {
		int r = wn_dedup_seen_add(&s, i * 0x9E3779B97F4A7C15ull + 1, ~i, "1", 1, &first, &n);
		exact_hits += r == 1;
		bloom_hits += r == 2;
	}
	CHECK(exact_hits == s.count && exact_hits + bloom_hits == 3000);
	CHECK(news + (s.bloom_hits - bloom_hits) == 3000); /* first pass: new or a false positive */
	double want = pow(1 - exp(-10.0 * (double)s.bloom_count / 65536.0), 10);
	CHECK_NEAR(wn_dedup_seen_fpr(&s), want, 1e-15);
	wn_dedup_seen_free(&s);
}

int main(void)
{
	RUN(test_normalize_by_hand);
	RUN(test_normalize_rejects_bad_utf8);
	RUN(test_seen_exact);
	RUN(test_seen_bloom);
	return TEST_EXIT;
}
