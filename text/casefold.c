/*
 * text/casefold.c — Python's str.lower() (see casefold.h for the rule).
 *
 * Owns: the one Unicode list utf8proc lacks (the Word_Break part of
 * Case_Ignorable) and the one pass over the text. Borrows: utf8proc
 * (categories, the Lowercase/Uppercase properties, simple lowercase,
 * UTF-8 decoding and encoding).
 *
 * Why one forward pass with a flag instead of CPython's look-back: the
 * nearest code point before a sigma that is not Case_Ignorable is simply
 * the last such code point seen, so the pass keeps whether it was Cased.
 * That needs no backward UTF-8 decoding, which would be ambiguous over the
 * invalid bytes WN_TEXT_LOWER_REPLACE accepts. The look-ahead is
 * CPython's: it stops at the first code point that is not Case_Ignorable,
 * and since a sigma is not Case_Ignorable each byte is looked ahead over at
 * most once. ASCII stretches are lowered through a compare and never reach
 * utf8proc.
 */
#include "text/casefold.h"

#include <string.h>
#include <utf8proc.h>

/* Word_Break MidLetter, MidNumLet and Single_Quote (WordBreakProperty.txt
 * of Unicode 15.0), all punctuation (Po, Pi, Pf). */
static int is_word_mid(int32_t cp)
{
	switch (cp) {
	case 0x0027: case 0x002E: case 0x003A: case 0x00B7: case 0x0387:
	case 0x055F: case 0x05F4: case 0x2018: case 0x2019: case 0x2024:
	case 0x2027: case 0xFE13: case 0xFE52: case 0xFE55: case 0xFF07:
	case 0xFF0E: case 0xFF1A:
		return 1;
	default:
		return 0;
	}
}

static int is_ignorable_category(int c)
{
	return c == UTF8PROC_CATEGORY_MN || c == UTF8PROC_CATEGORY_ME ||
	       c == UTF8PROC_CATEGORY_CF || c == UTF8PROC_CATEGORY_LM ||
	       c == UTF8PROC_CATEGORY_SK;
}

/* utf8proc 2.8's islower/isupper are the Lowercase/Uppercase properties
 * (Other_Lowercase and Other_Uppercase included), so with Lt they make
 * Cased; checked against DerivedCoreProperties.txt 15.0 for every code
 * point when this was written. */
static int cased_of(int32_t cp, int c)
{
	return c == UTF8PROC_CATEGORY_LU || c == UTF8PROC_CATEGORY_LL ||
	       c == UTF8PROC_CATEGORY_LT || utf8proc_islower(cp) || utf8proc_isupper(cp);
}

int wn_text_is_cased(int32_t cp)
{
	if (cp < 0x80)
		return (cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z');
	return cased_of(cp, utf8proc_category(cp));
}

int wn_text_is_case_ignorable(int32_t cp)
{
	if (cp < 0x80)
		return cp == '\'' || cp == '.' || cp == ':' || cp == '^' || cp == '`';
	return is_ignorable_category(utf8proc_category(cp)) || is_word_mid(cp);
}

/* What the sigma rule sees in a code point: Case_Ignorable first (it is
 * skipped whether or not it is also Cased), then Cased. */
enum { CC_OTHER = 0, CC_CASED = 1, CC_IGNORABLE = 2 };

static int case_class(int32_t cp)
{
	if (cp < 0x80) {
		if (wn_text_is_case_ignorable(cp))
			return CC_IGNORABLE;
		return wn_text_is_cased(cp) ? CC_CASED : CC_OTHER;
	}
	int c = utf8proc_category(cp);
	if (is_ignorable_category(c) || is_word_mid(cp))
		return CC_IGNORABLE;
	return cased_of(cp, c) ? CC_CASED : CC_OTHER;
}

int wn_text_lower_cp(int32_t cp, int32_t out[2])
{
	if (cp < 0x80) {
		out[0] = cp >= 'A' && cp <= 'Z' ? cp + 32 : cp;
		return 1;
	}
	if (cp == 0x130) { /* SpecialCasing's one unconditional lowercase */
		out[0] = 'i';
		out[1] = 0x307;
		return 2;
	}
	out[0] = utf8proc_tolower(cp);
	return 1;
}

size_t wn_text_lower_cap(size_t len, int flags)
{
	return (flags & WN_TEXT_LOWER_REPLACE ? 3 * len : len + len / 2) + 1;
}

/* Code point at s[*i] (advanced past it), or -1 for an invalid byte (then
 * advanced by one byte). */
static int32_t next_cp(const unsigned char *s, size_t len, size_t *i)
{
	int32_t cp;
	utf8proc_ssize_t n = utf8proc_iterate(s + *i, (utf8proc_ssize_t)(len - *i), &cp);
	if (n > 0) {
		*i += (size_t)n;
		return cp;
	}
	(*i)++;
	return -1;
}

/* U+03A3 followed by s[i, len): final unless a Cased code point comes
 * next after the Case_Ignorable ones (an invalid byte counts as U+FFFD,
 * which is neither). after_cased: the look-back's answer. */
static int32_t sigma(int after_cased, const unsigned char *s, size_t len, size_t i)
{
	if (!after_cased)
		return 0x3C3;
	while (i < len) {
		int c = case_class(next_cp(s, len, &i));
		if (c != CC_IGNORABLE)
			return c == CC_CASED ? 0x3C3 : 0x3C2;
	}
	return 0x3C2;
}

/* Lower the ASCII bytes s[i, j) into out; returns the new look-back flag. */
static int lower_ascii(const unsigned char *s, size_t i, size_t j, char *out, int after_cased)
{
	for (size_t k = i; k < j; k++)
		out[k - i] = (char)(s[k] >= 'A' && s[k] <= 'Z' ? s[k] + 32 : s[k]);
	for (size_t k = j; k > i; k--)
		if (!wn_text_is_case_ignorable(s[k - 1]))
			return wn_text_is_cased(s[k - 1]);
	return after_cased;
}

long wn_text_lower(const char *text, size_t len, char *out, int flags)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t i = 0, o = 0;
	int after_cased = 0; /* the last code point not Case_Ignorable was Cased */
	while (i < len) {
		size_t j = wn_text_ascii_end(s, i, len);
		after_cased = lower_ascii(s, i, j, out + o, after_cased);
		o += j - i;
		i = j;
		while (i < len && s[i] >= 0x80) {
			int32_t cp = next_cp(s, len, &i), low[2];
			if (cp < 0 && !(flags & WN_TEXT_LOWER_REPLACE)) {
				out[o] = 0;
				return WN_TEXT_EUTF8;
			}
			if (cp < 0)
				cp = 0xFFFD;
			int k = 1;
			if (cp == 0x3A3)
				low[0] = sigma(after_cased, s, len, i);
			else
				k = wn_text_lower_cp(cp, low);
			for (int m = 0; m < k; m++)
				o += (size_t)utf8proc_encode_char(low[m], (utf8proc_uint8_t *)out + o);
			int c = case_class(cp);
			if (c != CC_IGNORABLE)
				after_cased = c == CC_CASED;
		}
	}
	out[o] = 0;
	return (long)o;
}
