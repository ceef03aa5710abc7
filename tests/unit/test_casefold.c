/*
 * tests/unit/test_casefold.c — text/casefold: Python's str.lower().
 *
 * The reference is Python itself. The table below holds inputs and the
 * bytes `python3 -c 'print(s.lower())'` gave for them (Python 3.11.7):
 * the seven Word_Break MidLetter code points the WordPiece copy of this
 * rule used to miss (U+0387, U+055F, U+05F4, U+2027, U+FE13, U+FE55,
 * U+FF1A) on both sides of a sigma, Other_Lowercase / Other_Uppercase code
 * points as the letter before or after one, and U+0130. Then every code
 * point is checked against fixtures/text/python-lower.txt, which
 * fixtures/text/python_lower.py wrote from str.lower() (see there how the
 * sigma rule's two properties are read off Python's output), and the
 * buffer bound is checked for every code point.
 */
#include "text/casefold.h"
#include "tests/unit/test.h"

#include <stdint.h>
#include <utf8proc.h>

static const struct {
	const char *in, *want;
} PY[] = {
	/* Case_Ignorable after the sigma: a Cased letter follows, not final */
	{"\xce\x9f\xce\xa3\xce\x87\xce\x9f", "\xce\xbf\xcf\x83\xce\x87\xce\xbf"}, /* U+0387 */
	{"\xce\x9f\xce\xa3\xd5\x9f\xce\x9f", "\xce\xbf\xcf\x83\xd5\x9f\xce\xbf"}, /* U+055F */
	{"\xce\x9f\xce\xa3\xd7\xb4\xce\x9f", "\xce\xbf\xcf\x83\xd7\xb4\xce\xbf"}, /* U+05F4 */
	{"\xce\x9f\xce\xa3\xe2\x80\xa7\xce\x9f", "\xce\xbf\xcf\x83\xe2\x80\xa7\xce\xbf"}, /* U+2027 */
	{"\xce\x9f\xce\xa3\xef\xb8\x93\xce\x9f", "\xce\xbf\xcf\x83\xef\xb8\x93\xce\xbf"}, /* U+FE13 */
	{"\xce\x9f\xce\xa3\xef\xb9\x95\xce\x9f", "\xce\xbf\xcf\x83\xef\xb9\x95\xce\xbf"}, /* U+FE55 */
	{"\xce\x9f\xce\xa3\xef\xbc\x9a\xce\x9f", "\xce\xbf\xcf\x83\xef\xbc\x9a\xce\xbf"}, /* U+FF1A */
	/* Case_Ignorable before the sigma: the letter before it counts, final */
	{"\xce\x9f\xce\x87\xce\xa3", "\xce\xbf\xce\x87\xcf\x82"},         /* U+0387 */
	{"\xce\x9f\xd5\x9f\xce\xa3", "\xce\xbf\xd5\x9f\xcf\x82"},         /* U+055F */
	{"\xce\x9f\xd7\xb4\xce\xa3", "\xce\xbf\xd7\xb4\xcf\x82"},         /* U+05F4 */
	{"\xce\x9f\xe2\x80\xa7\xce\xa3", "\xce\xbf\xe2\x80\xa7\xcf\x82"}, /* U+2027 */
	{"\xce\x9f\xef\xb8\x93\xce\xa3", "\xce\xbf\xef\xb8\x93\xcf\x82"}, /* U+FE13 */
	{"\xce\x9f\xef\xb9\x95\xce\xa3", "\xce\xbf\xef\xb9\x95\xcf\x82"}, /* U+FE55 */
	{"\xce\x9f\xef\xbc\x9a\xce\xa3", "\xce\xbf\xef\xbc\x9a\xcf\x82"}, /* U+FF1A */
	/* Cased without a case mapping (Other_Lowercase / Other_Uppercase) */
	{"\xc2\xaa\xce\xa3", "\xc2\xaa\xcf\x82"},                         /* U+00AA */
	{"\xc2\xba\xce\xa3 x", "\xc2\xba\xcf\x82 x"},                     /* U+00BA */
	{"\xce\x91\xce\xa3\xf0\x9f\x84\xb0", "\xce\xb1\xcf\x83\xf0\x9f\x84\xb0"}, /* U+1F130 */
	{"\xce\x91\xce\xa3\xe2\x92\xb6", "\xce\xb1\xcf\x83\xe2\x93\x90"}, /* U+24B6 */
	{"\xe2\x85\xa0\xce\xa3", "\xe2\x85\xb0\xcf\x82"},                 /* U+2160 */
	/* ASCII context, runs of sigmas, a titlecase letter, a cased mark */
	{"A\xce\xa3", "a\xcf\x82"},
	{"\xce\xa3", "\xcf\x83"},
	{"a.\xce\xa3'.", "a.\xcf\x82'."},
	{"a\xce\xa3.b", "a\xcf\x83.b"},
	{"\xce\xa3\xce\xa3\xce\xa3", "\xcf\x83\xcf\x83\xcf\x82"},
	{"\xe1\xbe\x88\xce\xa3", "\xe1\xbe\x80\xcf\x82"},                 /* U+1F88 */
	{"x\xcd\x85\xce\xa3", "x\xcd\x85\xcf\x82"},                       /* U+0345 */
	{"\xc4\xb0stanbul", "i\xcc\x87stanbul"},                          /* U+0130 */
	{"Plain ASCII, MIXED case.", "plain ascii, mixed case."},
	{"", ""},
};

static long lower(const char *s, size_t n, char *out, int flags)
{
	return wn_text_lower(s, n, out, flags);
}

static void test_python_cases(void)
{
	char out[256];
	for (size_t i = 0; i < sizeof PY / sizeof *PY; i++) {
		for (int flags = 0; flags < 2; flags++) {
			long n = lower(PY[i].in, strlen(PY[i].in), out, flags);
			if (n != (long)strlen(PY[i].want) || strcmp(out, PY[i].want) != 0)
				TEST_FAIL_("case %zu (flags %d): got \"%s\", want \"%s\"", i, flags,
					   n < 0 ? "(error)" : out, PY[i].want);
		}
	}
}

/* python3: "A\u03a3\ufffd".lower() == "a\u03c2\ufffd", "\ufffd\u03a3".lower() == "\ufffd\u03c3" */
static void test_invalid_utf8(void)
{
	char out[64];
	CHECK_EQ_INT(lower("ab\xff", 3, out, WN_TEXT_LOWER_STRICT), WN_TEXT_EUTF8);
	CHECK_EQ_INT(lower("\xc0\xaf", 2, out, WN_TEXT_LOWER_STRICT), WN_TEXT_EUTF8);
	CHECK_EQ_INT(lower("\xce\xa3\xe2", 3, out, WN_TEXT_LOWER_STRICT), WN_TEXT_EUTF8);
	/* replace: every bad byte is one U+FFFD, which is neither Cased nor ignorable */
	CHECK_EQ_INT(lower("A\xce\xa3\xff", 4, out, WN_TEXT_LOWER_REPLACE), 6);
	CHECK_STR(out, "a\xcf\x82\xef\xbf\xbd");
	CHECK_EQ_INT(lower("\xff\xce\xa3", 3, out, WN_TEXT_LOWER_REPLACE), 5);
	CHECK_STR(out, "\xef\xbf\xbd\xcf\x83");
	CHECK_EQ_INT(lower("\xc0\xafZ", 3, out, WN_TEXT_LOWER_REPLACE), 7);
	CHECK_STR(out, "\xef\xbf\xbd\xef\xbf\xbdz");
}

static void test_lower_cp(void)
{
	int32_t o[2];
	CHECK_EQ_INT(wn_text_lower_cp(0x130, o), 2);
	CHECK(o[0] == 'i' && o[1] == 0x307);
	CHECK_EQ_INT(wn_text_lower_cp('Q', o), 1);
	CHECK_EQ_INT(o[0], 'q');
	CHECK_EQ_INT(wn_text_lower_cp(0x3A3, o), 1); /* no context: always U+03C3 */
	CHECK_EQ_INT(o[0], 0x3C3);
	CHECK_EQ_INT(wn_text_lower_cp(0x212A, o), 1); /* KELVIN SIGN -> k */
	CHECK_EQ_INT(o[0], 'k');
}

/* ---- every code point against Python ------------------------------------ */

#define NCP 0x110000
struct pyref {
	unsigned char *ign, *cased, *unassigned; /* per code point */
	int32_t (*low)[2];                        /* lower; low[c][0] < 0: itself */
};

static int read_ranges(struct pyref *r, const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	char line[256];
	while (fgets(line, sizeof line, f)) {
		unsigned a, b, c;
		int k;
		if (line[0] == 'L' && (k = sscanf(line + 1, "%x %x %x", &a, &b, &c)) >= 2) {
			r->low[a][0] = (int32_t)b;
			r->low[a][1] = k == 3 ? (int32_t)c : -1;
		} else if (sscanf(line + 1, "%x %x", &a, &b) == 2 && b < NCP) {
			unsigned char *set = line[0] == 'I' ? r->ign : line[0] == 'C' ? r->cased
					     : line[0] == 'N' ? r->unassigned : NULL;
			for (unsigned x = a; set && x <= b; x++)
				set[x] = 1;
		}
	}
	fclose(f);
	return 0;
}

/* Whether wn_text_lower of pre + cp + U+03A3 ends in final sigma. */
static int final_after(const char *pre, int32_t cp)
{
	char in[16], out[64];
	size_t n = strlen(pre);
	memcpy(in, pre, n);
	n += (size_t)utf8proc_encode_char(cp, (utf8proc_uint8_t *)in + n);
	memcpy(in + n, "\xce\xa3", 2);
	long k = wn_text_lower(in, n + 2, out, WN_TEXT_LOWER_STRICT);
	return k >= 2 && memcmp(out + k - 2, "\xcf\x82", 2) == 0;
}

/* First mismatch for one code point, or NULL. */
static const char *check_cp(const struct pyref *r, int32_t cp)
{
	int t1 = final_after("A", cp), t2 = final_after("", cp);
	int ign = t1 && !t2;
	if (ign != r->ign[cp] || wn_text_is_case_ignorable(cp) != r->ign[cp])
		return "Case_Ignorable";
	if (!ign && (t2 != r->cased[cp] || wn_text_is_cased(cp) != r->cased[cp]))
		return "Cased";
	int32_t o[2] = {cp, -1};
	int k = wn_text_lower_cp(cp, o);
	if (k == 1)
		o[1] = -1;
	int32_t w0 = r->low[cp][0] < 0 ? cp : r->low[cp][0], w1 = r->low[cp][0] < 0 ? -1 : r->low[cp][1];
	if (cp != 0x3A3 && (o[0] != w0 || o[1] != w1))
		return "lowercase mapping";
	return NULL;
}

static void test_every_code_point_against_python(void)
{
	struct pyref r = {calloc(NCP, 1), calloc(NCP, 1), calloc(NCP, 1), malloc(NCP * sizeof *r.low)};
	CHECK(r.ign && r.cased && r.unassigned && r.low);
	for (int32_t c = 0; c < NCP; c++)
		r.low[c][0] = r.low[c][1] = -1;
	char path[4096];
	const char *root = getenv("WINNOW_ROOT");
	snprintf(path, sizeof path, "%s/fixtures/text/python-lower.txt", root && *root ? root : ".");
	int rc = read_ranges(&r, path);
	long checked = 0;
	const char *bad = NULL;
	int32_t at = 0;
	for (int32_t cp = 0; !rc && cp < NCP && !bad; cp++) {
		if ((cp >= 0xD800 && cp <= 0xDFFF) || r.unassigned[cp])
			continue;
		bad = check_cp(&r, cp);
		at = cp;
		checked++;
	}
	free(r.ign);
	free(r.cased);
	free(r.unassigned);
	free(r.low);
	if (rc)
		TEST_FAIL_("%.900s: cannot read", path);
	if (bad)
		TEST_FAIL_("U+%04X: %s differs from Python's", (unsigned)at, bad);
	CHECK_EQ_INT(checked, 282230); /* assigned in Python's Unicode 14.0, private use included */
}

/* The bound of wn_text_lower_cap: no code point grows by more than half. */
static void test_cap_bound(void)
{
	for (int32_t cp = 0x80; cp < NCP; cp++) {
		if (cp >= 0xD800 && cp <= 0xDFFF)
			continue;
		char in[4], out[16];
		size_t n = (size_t)utf8proc_encode_char(cp, (utf8proc_uint8_t *)in);
		long k = wn_text_lower(in, n, out, WN_TEXT_LOWER_STRICT);
		if (k < 0 || (size_t)k > n + n / 2)
			TEST_FAIL_("U+%04X: %zu bytes lower to %ld", (unsigned)cp, n, k);
	}
	/* the worst cases, in buffers of exactly the promised size */
	size_t reps = 1000;
	char *in = malloc(2 * reps), *out = malloc(wn_text_lower_cap(2 * reps, 0));
	char *bad = malloc(reps), *rout = malloc(wn_text_lower_cap(reps, WN_TEXT_LOWER_REPLACE));
	CHECK(in && out && bad && rout);
	for (size_t i = 0; i < reps; i++)
		memcpy(in + 2 * i, "\xc8\xba", 2); /* U+023A -> U+2C65, 2 -> 3 bytes */
	memset(bad, 0xff, reps);
	long k = wn_text_lower(in, 2 * reps, out, 0);
	long kr = wn_text_lower(bad, reps, rout, WN_TEXT_LOWER_REPLACE);
	int ok = k == (long)(3 * reps) && memcmp(out, "\xe2\xb1\xa5", 3) == 0 && kr == (long)(3 * reps) &&
		 (size_t)k + 1 <= wn_text_lower_cap(2 * reps, 0) &&
		 (size_t)kr + 1 <= wn_text_lower_cap(reps, WN_TEXT_LOWER_REPLACE);
	free(in);
	free(out);
	free(bad);
	free(rout);
	CHECK(ok);
}

int main(void)
{
	RUN(test_python_cases);
	RUN(test_invalid_utf8);
	RUN(test_lower_cp);
	RUN(test_every_code_point_against_python);
	RUN(test_cap_bound);
	return TEST_EXIT;
}
