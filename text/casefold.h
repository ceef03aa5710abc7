/*
 * text/casefold.h — Python's str.lower(), written once for all of winnow.
 *
 * Owns: the lowercasing rule that must match Python code point for code
 * point, because two consumers compare their output with Python's: DSIR's
 * WordPunct split (text/tokenize.h, WN_TOK_WORDPUNCT and WN_TOK_NONWORD)
 * and sentence-transformers' do_lower_case before WordPiece
 * (text/wordpiece.h). Before this module each carried its own copy, and the
 * copies disagreed on which characters the final-sigma rule skips.
 *
 * Borrows: utf8proc (2.8, Unicode 15.0) for general categories, the
 * Lowercase/Uppercase properties (utf8proc_islower/isupper) and simple
 * lowercase mappings. utf8proc has no Case_Ignorable property, so the code
 * points it adds to the categories (WordBreakProperty.txt's MidLetter,
 * MidNumLet and Single_Quote) are listed in casefold.c.
 *
 * Checked against Python itself for every code point
 * (tests/unit/test_casefold.c reads fixtures/text/python-lower.txt, made by
 * python3 from str.lower()); code points Python's Unicode database does not
 * assign yet may differ where utf8proc's is newer.
 *
 * The rule (CPython's unicodeobject.c, lower_ucs4 and handle_capital_sigma):
 *  - each code point takes its full lowercase mapping; the only one of more
 *    than one code point is U+0130 -> "i" U+0307;
 *  - U+03A3 (capital sigma) becomes final U+03C2 when the nearest
 *    code point before it that is not Case_Ignorable is Cased, and no Cased
 *    code point follows after skipping Case_Ignorable ones; else U+03C3.
 *    Cased = Lu, Ll, Lt, Other_Lowercase, Other_Uppercase; Case_Ignorable =
 *    Mn, Me, Cf, Lm, Sk, Word_Break MidLetter, MidNumLet, Single_Quote.
 */
#ifndef WN_TEXT_CASEFOLD_H
#define WN_TEXT_CASEFOLD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

enum wn_text_lower_flags {
	/* invalid UTF-8 is an error (the text tokenizer's policy) */
	WN_TEXT_LOWER_STRICT = 0,
	/* each byte of invalid UTF-8 reads as U+FFFD, and is written as one
	 * (WordPiece reads invalid bytes that way in all of its steps) */
	WN_TEXT_LOWER_REPLACE = 1,
};

enum { WN_TEXT_EUTF8 = -2 }; /* the text is not valid UTF-8 (strict mode) */

/*
 * Bytes wn_text_lower may write for len input bytes, the NUL included:
 * lowercasing grows a code point by at most half (2 -> 3 bytes, U+0130 and
 * U+023A for example); a replaced byte becomes 3. len < SIZE_MAX / 4.
 */
size_t wn_text_lower_cap(size_t len, int flags);

/*
 * Python's str.lower() of the UTF-8 text s[0, len) (need not be
 * NUL-terminated) into out, which holds wn_text_lower_cap(len, flags)
 * bytes; out is NUL-terminated. Returns the bytes written without the NUL,
 * or WN_TEXT_EUTF8 in strict mode (out then holds a partial result).
 */
long wn_text_lower(const char *s, size_t len, char *out, int flags);

/*
 * The context-free full lowercase mapping of one code point (Rust's
 * char::to_lowercase; str.lower() without the final-sigma rule): writes 1
 * or 2 code points to out and returns how many.
 */
int wn_text_lower_cp(int32_t cp, int32_t out[2]);

/* The two properties of the final-sigma rule, exposed for tests. */
int wn_text_is_cased(int32_t cp);
int wn_text_is_case_ignorable(int32_t cp);

/* Index of the first byte >= 0x80 at or after i, or len: the ASCII fast
 * path every text rule takes (eight bytes at a time). */
static inline size_t wn_text_ascii_end(const unsigned char *s, size_t i, size_t len)
{
	while (i + 8 <= len) {
		uint64_t w;
		memcpy(&w, s + i, 8);
		if (w & 0x8080808080808080ull)
			break;
		i += 8;
	}
	while (i < len && s[i] < 0x80)
		i++;
	return i;
}

#ifdef __cplusplus
}
#endif
#endif
