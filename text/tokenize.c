/*
 * text/tokenize.c — normalisation, word splitting and n-grams for every
 * text feature in winnow (see tokenize.h for the modes).
 *
 * Owns: the workspace buffers and the Python-compatible character classes.
 * Borrows: text/casefold (Python's str.lower()); utf8proc (categories, bidi
 * classes, NFKC and case folding).
 *
 * Why it looks the way it does:
 *  - Texts are mostly ASCII. ASCII bytes are lowered through a table and never
 *    reach utf8proc; only the stretches around non-ASCII bytes do. A cut
 *    between two consecutive ASCII bytes is safe for NFKC: no composition has
 *    an ASCII second element, and an ASCII byte followed by another ASCII byte
 *    has no mark to compose with. So a non-ASCII stretch runs from the ASCII
 *    byte before it (which may take a combining mark) to the next pair of
 *    ASCII bytes.
 *  - DSIR must match Python number for number, so WORDPUNCT reproduces
 *    str.lower() (text/casefold, shared with WordPiece) and re's Unicode
 *    \w and \s rather than a "reasonable" tokenizer.
 */
#include "text/tokenize.h"
#include "text/casefold.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

struct wn_tok {
	wn_tok_opts o;
	char *buf; /* normalised text */
	size_t buf_cap;
	wn_tok_span *spans;
	size_t spans_cap;
	char *scratch; /* joined grams */
	size_t scratch_cap;
	int32_t *cps; /* utf8proc work area */
	size_t cps_cap;
	uint32_t *offs; /* code point offsets for char n-grams */
	size_t offs_cap;
};

/* ASCII classes: bit 1 = Python \w, bit 2 = Python \s. */
enum { C_WORD = 1, C_SPACE = 2 };
static const unsigned char ascii_class[128] = {
	/* \t \n \v \f \r and 0x1c..0x1f are str.isspace() */
	[9] = C_SPACE, [10] = C_SPACE, [11] = C_SPACE, [12] = C_SPACE,
	[13] = C_SPACE, [28] = C_SPACE, [29] = C_SPACE, [30] = C_SPACE,
	[31] = C_SPACE, [' '] = C_SPACE,
	['0'] = C_WORD, ['1'] = C_WORD, ['2'] = C_WORD, ['3'] = C_WORD,
	['4'] = C_WORD, ['5'] = C_WORD, ['6'] = C_WORD, ['7'] = C_WORD,
	['8'] = C_WORD, ['9'] = C_WORD, ['_'] = C_WORD,
	['a'] = C_WORD, ['b'] = C_WORD, ['c'] = C_WORD, ['d'] = C_WORD,
	['e'] = C_WORD, ['f'] = C_WORD, ['g'] = C_WORD, ['h'] = C_WORD,
	['i'] = C_WORD, ['j'] = C_WORD, ['k'] = C_WORD, ['l'] = C_WORD,
	['m'] = C_WORD, ['n'] = C_WORD, ['o'] = C_WORD, ['p'] = C_WORD,
	['q'] = C_WORD, ['r'] = C_WORD, ['s'] = C_WORD, ['t'] = C_WORD,
	['u'] = C_WORD, ['v'] = C_WORD, ['w'] = C_WORD, ['x'] = C_WORD,
	['y'] = C_WORD, ['z'] = C_WORD,
	['A'] = C_WORD, ['B'] = C_WORD, ['C'] = C_WORD, ['D'] = C_WORD,
	['E'] = C_WORD, ['F'] = C_WORD, ['G'] = C_WORD, ['H'] = C_WORD,
	['I'] = C_WORD, ['J'] = C_WORD, ['K'] = C_WORD, ['L'] = C_WORD,
	['M'] = C_WORD, ['N'] = C_WORD, ['O'] = C_WORD, ['P'] = C_WORD,
	['Q'] = C_WORD, ['R'] = C_WORD, ['S'] = C_WORD, ['T'] = C_WORD,
	['U'] = C_WORD, ['V'] = C_WORD, ['W'] = C_WORD, ['X'] = C_WORD,
	['Y'] = C_WORD, ['Z'] = C_WORD,
};

static inline unsigned char ascii_lower(unsigned char c)
{
	return (unsigned char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
}

/* ---------- character classes ---------- */

int wn_tok_py_isspace(int32_t cp)
{
	if (cp < 128)
		return cp >= 0 && (ascii_class[cp] & C_SPACE);
	const utf8proc_property_t *p = utf8proc_get_property(cp);
	return p->category == UTF8PROC_CATEGORY_ZS ||
	       p->bidi_class == UTF8PROC_BIDI_CLASS_WS ||
	       p->bidi_class == UTF8PROC_BIDI_CLASS_B ||
	       p->bidi_class == UTF8PROC_BIDI_CLASS_S;
}

/* str.isalnum(): a letter (L*) or a character with a numeric value (N*). */
int wn_tok_py_isword(int32_t cp)
{
	if (cp < 128)
		return cp >= 0 && (ascii_class[cp] & C_WORD);
	switch (utf8proc_category(cp)) {
	case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL:
	case UTF8PROC_CATEGORY_LT: case UTF8PROC_CATEGORY_LM:
	case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_ND:
	case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
		return 1;
	default:
		return 0;
	}
}

/* WORDS mode: letters, marks, numbers and connector punctuation. */
static int words_isword(int32_t cp)
{
	if (cp < 128)
		return ascii_class[cp] & C_WORD;
	int c = utf8proc_category(cp);
	return (c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_PC);
}

/* ---------- buffers ---------- */

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t n = *cap ? *cap : 256;
	while (n < need)
		n *= 2;
	void *q = realloc(*p, n * elem);
	if (!q)
		return WN_TOK_ENOMEM;
	*p = q;
	*cap = n;
	return 0;
}

wn_tok *wn_tok_new(const wn_tok_opts *opts)
{
	wn_tok *t = calloc(1, sizeof *t);
	if (t && opts)
		t->o = *opts;
	return t;
}

void wn_tok_free(wn_tok *t)
{
	if (!t)
		return;
	free(t->buf);
	free(t->spans);
	free(t->scratch);
	free(t->cps);
	free(t->offs);
	free(t);
}

const char *wn_tok_strerror(int code)
{
	switch (code) {
	case WN_TOK_OK: return "ok";
	case WN_TOK_ENOMEM: return "out of memory";
	case WN_TOK_EUTF8: return "invalid UTF-8";
	case WN_TOK_ETOOBIG: return "text too large (1 GiB or more)";
	default: return "tokenizer error";
	}
}

/* ---------- UTF-8 helpers ---------- */

/* Decode one code point of valid UTF-8 (our own normalised buffers). */
static inline int32_t decode_valid(const unsigned char *s, size_t *i)
{
	unsigned c = s[*i];
	if (c < 0x80) {
		(*i)++;
		return (int32_t)c;
	}
	if (c < 0xE0) {
		int32_t cp = (int32_t)(((c & 0x1F) << 6) | (s[*i + 1] & 0x3F));
		*i += 2;
		return cp;
	}
	if (c < 0xF0) {
		int32_t cp = (int32_t)(((c & 0x0F) << 12) | ((s[*i + 1] & 0x3F) << 6) |
				       (s[*i + 2] & 0x3F));
		*i += 3;
		return cp;
	}
	int32_t cp = (int32_t)(((c & 0x07) << 18) | ((s[*i + 1] & 0x3F) << 12) |
			       ((s[*i + 2] & 0x3F) << 6) | (s[*i + 3] & 0x3F));
	*i += 4;
	return cp;
}

static void lower_ascii(const unsigned char *s, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		out[i] = (char)ascii_lower(s[i]);
}

/* ---------- WORDS: NFKC + case folding ---------- */

#define NFKC_CF (UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_COMPOSE | \
		 UTF8PROC_CASEFOLD)

/* Normalise one mixed stretch s[0, n) and append it at buf + *o. */
static int nfkc_stretch(wn_tok *t, const unsigned char *s, size_t n, size_t *o)
{
	utf8proc_ssize_t k = utf8proc_decompose_custom(
		s, (utf8proc_ssize_t)n, t->cps, (utf8proc_ssize_t)t->cps_cap,
		NFKC_CF, NULL, NULL);
	if (k < 0)
		return k == UTF8PROC_ERROR_NOMEM ? WN_TOK_ENOMEM : WN_TOK_EUTF8;
	if ((size_t)k > t->cps_cap) {
		if (grow((void **)&t->cps, &t->cps_cap, (size_t)k, sizeof *t->cps))
			return WN_TOK_ENOMEM;
		k = utf8proc_decompose_custom(s, (utf8proc_ssize_t)n, t->cps,
					      (utf8proc_ssize_t)t->cps_cap,
					      NFKC_CF, NULL, NULL);
		if (k < 0)
			return WN_TOK_EUTF8;
	}
	utf8proc_ssize_t b = utf8proc_reencode(t->cps, k, NFKC_CF);
	if (b < 0)
		return WN_TOK_EUTF8;
	if (grow((void **)&t->buf, &t->buf_cap, *o + (size_t)b + 1, 1))
		return WN_TOK_ENOMEM;
	memcpy(t->buf + *o, t->cps, (size_t)b);
	*o += (size_t)b;
	return 0;
}

static long normalize_words(wn_tok *t, const unsigned char *s, size_t len)
{
	/* ASCII output is the same length; a stretch is re-grown on demand. */
	if (grow((void **)&t->buf, &t->buf_cap, len + 1, 1))
		return WN_TOK_ENOMEM;
	size_t i = 0, o = 0;
	while (i < len) {
		size_t j = wn_text_ascii_end(s, i, len);
		size_t start = j < len && j > i ? j - 1 : j; /* keep the base char */
		lower_ascii(s + i, start - i, t->buf + o);
		o += start - i;
		if (j >= len)
			break;
		/* the stretch ends at the first pair of ASCII bytes after j */
		size_t e = j + 1;
		while (e < len && !(s[e] < 0x80 && s[e - 1] < 0x80))
			e++;
		int rc = nfkc_stretch(t, s + start, e - start, &o);
		if (rc)
			return rc;
		if (grow((void **)&t->buf, &t->buf_cap, o + (len - e) + 1, 1))
			return WN_TOK_ENOMEM;
		i = e;
	}
	t->buf[o] = 0;
	return (long)o;
}

/* ---------- WORDPUNCT / NONWORD: Python str.lower() ---------- */

static long normalize_lower(wn_tok *t, const unsigned char *s, size_t len)
{
	size_t cap = wn_text_lower_cap(len, WN_TEXT_LOWER_STRICT);
	if (grow((void **)&t->buf, &t->buf_cap, cap, 1))
		return WN_TOK_ENOMEM;
	long n = wn_text_lower((const char *)s, len, t->buf, WN_TEXT_LOWER_STRICT);
	return n < 0 ? WN_TOK_EUTF8 : n;
}

long wn_tok_normalize(wn_tok *t, const char *text, size_t len,
		      const char **norm)
{
	if (len >= ((size_t)1 << 30))
		return WN_TOK_ETOOBIG;
	const unsigned char *s = (const unsigned char *)text;
	long n = (t->o.mode == WN_TOK_WORDS ||
		  (t->o.mode == WN_TOK_NONWORD && t->o.casefold_nfkc))
			 ? normalize_words(t, s, len)
			 : normalize_lower(t, s, len);
	if (n >= 0 && norm)
		*norm = t->buf;
	return n;
}

/* ---------- splitting ---------- */

enum { K_SPACE = 0, K_WORD = 1, K_PUNCT = 2 };

static inline int kind_of(const wn_tok *t, int32_t cp)
{
	int word = t->o.mode == WN_TOK_WORDS ? words_isword(cp)
					     : wn_tok_py_isword(cp);
	if (word)
		return K_WORD;
	if (t->o.mode == WN_TOK_WORDPUNCT && !wn_tok_py_isspace(cp))
		return K_PUNCT;
	return K_SPACE; /* a separator */
}

static int push_span(wn_tok *t, size_t *n, size_t off, size_t end)
{
	if (grow((void **)&t->spans, &t->spans_cap, *n + 1, sizeof *t->spans))
		return WN_TOK_ENOMEM;
	t->spans[*n].off = (uint32_t)off;
	t->spans[*n].len = (uint32_t)(end - off);
	(*n)++;
	return 0;
}

/* Maximal runs of one kind (WORD, or PUNCT in WORDPUNCT mode). */
static long split(wn_tok *t, size_t blen)
{
	const unsigned char *b = (const unsigned char *)t->buf;
	size_t i = 0, n = 0, start = 0;
	int cur = K_SPACE;
	while (i < blen) {
		size_t at = i;
		int32_t cp = decode_valid(b, &i);
		int k = kind_of(t, cp);
		if (k == cur)
			continue;
		if (cur != K_SPACE && push_span(t, &n, start, at))
			return WN_TOK_ENOMEM;
		cur = k;
		start = at;
	}
	if (cur != K_SPACE && push_span(t, &n, start, blen))
		return WN_TOK_ENOMEM;
	return (long)n;
}

long wn_tok_run(wn_tok *t, const char *text, size_t len, const char **norm,
		const wn_tok_span **spans)
{
	long blen = wn_tok_normalize(t, text, len, NULL);
	if (blen < 0)
		return blen;
	long n = split(t, (size_t)blen);
	if (n < 0)
		return n;
	if (norm)
		*norm = t->buf;
	if (spans)
		*spans = t->spans;
	return n;
}

/* ---------- n-grams ---------- */

/* Join spans[i, i+n) with single spaces into t->scratch. */
static long join(wn_tok *t, const char *norm, const wn_tok_span *sp, int n)
{
	size_t need = (size_t)n;
	for (int k = 0; k < n; k++)
		need += sp[k].len;
	if (grow((void **)&t->scratch, &t->scratch_cap, need, 1))
		return WN_TOK_ENOMEM;
	size_t o = 0;
	for (int k = 0; k < n; k++) {
		if (k)
			t->scratch[o++] = ' ';
		memcpy(t->scratch + o, norm + sp[k].off, sp[k].len);
		o += sp[k].len;
	}
	return (long)o;
}

long wn_tok_word_ngrams(wn_tok *t, const char *norm, const wn_tok_span *spans,
			size_t n_spans, int n, wn_tok_gram_fn fn, void *ctx)
{
	if (n < 1)
		return 0;
	if ((size_t)n > n_spans)
		return 0;
	size_t count = n_spans - (size_t)n + 1;
	for (size_t i = 0; i < count; i++) {
		if (n == 1) {
			fn(ctx, norm + spans[i].off, spans[i].len);
			continue;
		}
		long l = join(t, norm, spans + i, n);
		if (l < 0)
			return l;
		fn(ctx, t->scratch, (size_t)l);
	}
	return (long)count;
}

long wn_tok_shingles(wn_tok *t, const char *norm, const wn_tok_span *spans,
		     size_t n_spans, int k, wn_tok_gram_fn fn, void *ctx)
{
	if (n_spans == 0 || k < 1)
		return 0;
	if ((size_t)k > n_spans)
		k = (int)n_spans;
	return wn_tok_word_ngrams(t, norm, spans, n_spans, k, fn, ctx);
}

long wn_tok_char_ngrams(wn_tok *t, const char *s, size_t len, int nmin,
			int nmax, int pad, wn_tok_gram_fn fn, void *ctx)
{
	if (nmin < 1 || nmax < nmin)
		return 0;
	const char *src = s;
	size_t n = len;
	if (pad) {
		if (grow((void **)&t->scratch, &t->scratch_cap, len + 2, 1))
			return WN_TOK_ENOMEM;
		t->scratch[0] = ' ';
		memcpy(t->scratch + 1, s, len);
		t->scratch[len + 1] = ' ';
		src = t->scratch;
		n = len + 2;
	}
	if (grow((void **)&t->offs, &t->offs_cap, n + 1, sizeof *t->offs))
		return WN_TOK_ENOMEM;
	size_t ncp = 0;
	for (size_t i = 0; i < n; i++)
		if (((unsigned char)src[i] & 0xC0) != 0x80)
			t->offs[ncp++] = (uint32_t)i;
	t->offs[ncp] = (uint32_t)n;
	long count = 0;
	for (int g = nmin; g <= nmax; g++) {
		for (size_t i = 0; i + (size_t)g <= ncp; i++) {
			fn(ctx, src + t->offs[i], t->offs[i + g] - t->offs[i]);
			count++;
		}
	}
	return count;
}
