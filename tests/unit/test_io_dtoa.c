/*
 * tests/unit/test_io_dtoa.c — wn_dtoa (io/dtoa.c) against the rule it
 * implements, written here from libc alone: the first of %.15g, %.16g,
 * %.17g that strtod reads back. Hand values (Python's '%.*g' with the same
 * rule printed them), then hundreds of thousands of doubles: random bit
 * patterns (every exponent, subnormals), typical score magnitudes, numbers
 * next to decimal ties at 15, 16 and 17 digits, and the edges (powers of
 * two and ten, 2^53, the largest and smallest doubles).
 */
#include "io/dtoa.h"

#include <float.h>
#include <stdint.h>

#include "core/rng.h"
#include "tests/unit/test.h"

/* the rule, from libc: snprintf then strtod */
static void reference(char *out, double v)
{
	for (int p = 15; p <= 17; p++) {
		snprintf(out, 40, "%.*g", p, v);
		if (strtod(out, NULL) == v)
			return;
	}
}

static int same(double v, char *why, size_t whylen)
{
	char a[WN_DTOA_BUF], b[40];
	size_t n = wn_dtoa(a, v);
	reference(b, v);
	if (strcmp(a, b) || n != strlen(b)) {
		snprintf(why, whylen, "%a: wn_dtoa \"%s\" (%zu), rule \"%s\"", v, a, n, b);
		return 0;
	}
	return 1;
}

#define CHECK_SAME(v)                                                          \
	do {                                                                   \
		char why_[160];                                                \
		if (!same((v), why_, sizeof why_))                             \
			TEST_FAIL_("%s:%d: %s", __FILE__, __LINE__, why_);     \
	} while (0)

static void test_hand_values(void)
{
	static const struct {
		double v;
		const char *s;
	} cases[] = {
		{0.1, "0.1"},
		{1.0 / 3.0, "0.3333333333333333"},
		{5.0 / 6.0, "0.8333333333333334"},
		{1e-5, "1e-05"},
		{123456.789, "123456.789"},
		{1e22, "1e+22"},
		{1e23, "1e+23"},
		{4.9406564584124654e-324, "4.94065645841247e-324"},
		{1.7976931348623157e308, "1.7976931348623157e+308"},
		{-0.000123456789, "-0.000123456789"},
		{1e16 + 2, "10000000000000002"},
		{0.30000000000000004, "0.30000000000000004"},
		{100.5, "100.5"},
		{1e-4, "0.0001"},
		{1.5e-5, "1.5e-05"},
		{1.2345678901234568e20, "1.2345678901234568e+20"},
		{1414213562373095.2, "1414213562373095.2"},
		{1.4142135623730952e16, "14142135623730952"},
		{1.4142135623730952e17, "1.4142135623730952e+17"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char b[WN_DTOA_BUF];
		wn_dtoa(b, cases[i].v);
		CHECK_STR(b, cases[i].s);
		wn_dtoa_plain(b, cases[i].v);
		CHECK_STR(b, cases[i].s);
	}
}

static void test_edges(void)
{
	for (int k = -1074; k <= 1023; k++) {
		CHECK_SAME(ldexp(1.0, k));
		CHECK_SAME(nextafter(ldexp(1.0, k), 0));
		CHECK_SAME(-nextafter(ldexp(1.0, k), INFINITY));
	}
	for (int k = -323; k <= 308; k++) {
		double p = pow(10, k);
		CHECK_SAME(p);
		CHECK_SAME(nextafter(p, 0));
		CHECK_SAME(nextafter(p, INFINITY));
	}
	CHECK_SAME(DBL_MAX);
	CHECK_SAME(DBL_MIN);
	CHECK_SAME(DBL_TRUE_MIN);
	CHECK_SAME(9007199254740993.0);
	CHECK_SAME(-0.0);
}

static void test_random_bits(void)
{
	wn_rng r;
	wn_rng_init(&r, 11, 0);
	for (int i = 0; i < 200000; i++) {
		uint64_t u = wn_rng_next_u64(&r);
		double v;
		memcpy(&v, &u, sizeof v);
		if (!isfinite(v))
			continue;
		CHECK_SAME(v);
	}
}

static void test_score_magnitudes(void)
{
	wn_rng r;
	wn_rng_init(&r, 12, 0);
	for (int i = 0; i < 200000; i++) {
		double u = (double)(wn_rng_next_u64(&r) >> 11) / 9007199254740992.0;
		double mag = pow(10, (double)(int)(wn_rng_next_u64(&r) % 25) - 12);
		CHECK_SAME((u - 0.5) * mag);
	}
}

/* numbers beside a decimal tie: a p-digit decimal with a 5 after it, read
 * by strtod, and its neighbours one and two ulps away */
static void test_near_ties(void)
{
	wn_rng r;
	wn_rng_init(&r, 13, 0);
	for (int i = 0; i < 100000; i++) {
		char s[64];
		int p = 15 + (int)(wn_rng_next_u64(&r) % 3);
		int e = (int)(wn_rng_next_u64(&r) % 60) - 30;
		int n = snprintf(s, sizeof s, "%d.", 1 + (int)(wn_rng_next_u64(&r) % 9));
		for (int k = 1; k < p; k++)
			s[n++] = (char)('0' + wn_rng_next_u64(&r) % 10);
		n += snprintf(s + n, sizeof s - (size_t)n, "5e%d", e);
		double v = strtod(s, NULL);
		CHECK_SAME(v);
		CHECK_SAME(nextafter(v, 0));
		CHECK_SAME(nextafter(v, INFINITY));
		CHECK_SAME(nextafter(nextafter(v, 0), 0));
		CHECK_SAME(nextafter(nextafter(v, INFINITY), INFINITY));
	}
}

int main(void)
{
	RUN(test_hand_values);
	RUN(test_edges);
	RUN(test_random_bits);
	RUN(test_score_magnitudes);
	RUN(test_near_ties);
	return TEST_EXIT;
}
