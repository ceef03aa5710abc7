/*
 * text/tokenize.h — winnow's one text-feature module: normalisation, word
 * splitting, word n-grams, character n-grams and shingles.
 *
 * Owns: a reusable tokenizer workspace (wn_tok) that turns one text into a
 * normalised copy plus an array of token spans into that copy, and the
 * helpers that walk n-grams over those spans. Every consumer of text features
 * (the hash embedder, DSIR, MinHash, the filters) picks a mode here instead
 * of carrying a tokenizer of its own (DESIGN.md, "Text features are written
 * once").
 *
 * Borrows: text/casefold.h for Python's str.lower() (the WORDPUNCT and
 * NONWORD modes); utf8proc for Unicode categories, bidi classes, NFKC and
 * case folding.
 *
 * Modes (wn_tok_opts.mode):
 *  - WN_TOK_WORDS: NFKC + case folding, then maximal runs of word
 *    characters (letters, marks, numbers, connector punctuation such as '_');
 *    everything else separates. Pure-ASCII stretches of the text never touch
 *    utf8proc (the fast path of the hash embedder).
 *  - WN_TOK_WORDPUNCT: DSIR's definition — Python str.lower()
 *    (wn_text_lower), then nltk's WordPunctTokenizer, i.e.
 *    re.findall(r"\w+|[^\w\s]+"), with Python's Unicode \w (str.isalnum()
 *    or '_': letters and numbers, not marks) and \s (str.isspace()).
 *  - WN_TOK_NONWORD: MinHash-style re.split(r"\W+") with the same Python \w,
 *    empty pieces dropped; the text is lowered as in WORDPUNCT unless
 *    .casefold_nfkc asks for the WORDS normalisation.
 *
 * Memory: the workspace grows to the largest text it has seen and is reused;
 * no allocation per token, none per call once warm. One workspace per
 * thread; a workspace is not shared between threads.
 */
#ifndef WN_TEXT_TOKENIZE_H
#define WN_TEXT_TOKENIZE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum wn_tok_mode {
	WN_TOK_WORDS = 0,     /* NFKC + casefold, runs of word chars */
	WN_TOK_WORDPUNCT = 1, /* str.lower() + \w+|[^\w\s]+ (DSIR, nltk) */
	WN_TOK_NONWORD = 2,   /* str.lower() + split on \W+ (MinHash) */
};

enum wn_tok_status {
	WN_TOK_OK = 0,
	WN_TOK_ENOMEM = -1,
	WN_TOK_EUTF8 = -2,   /* the text is not valid UTF-8 */
	WN_TOK_ETOOBIG = -3, /* a text of 1 GiB or more */
};

typedef struct wn_tok_opts {
	int mode;          /* enum wn_tok_mode */
	int casefold_nfkc; /* WN_TOK_NONWORD only: normalise as WN_TOK_WORDS */
} wn_tok_opts;

/* A token: bytes [off, off+len) of the normalised text. */
typedef struct wn_tok_span {
	uint32_t off, len;
} wn_tok_span;

typedef struct wn_tok wn_tok;

wn_tok *wn_tok_new(const wn_tok_opts *opts);
void wn_tok_free(wn_tok *t);

/*
 * Tokenise one text (UTF-8, len bytes, need not be NUL-terminated). On
 * success returns the token count (>= 0) and sets *norm to the normalised
 * text and *spans to the tokens; both stay valid until the next call on t.
 * On failure returns a negative WN_TOK_E* code.
 */
long wn_tok_run(wn_tok *t, const char *text, size_t len, const char **norm,
		const wn_tok_span **spans);

/* The normalised copy alone (no splitting), same lifetime rules. */
long wn_tok_normalize(wn_tok *t, const char *text, size_t len,
		      const char **norm);

const char *wn_tok_strerror(int code);

/* Called once per gram with its bytes; bytes are valid during the call. */
typedef void (*wn_tok_gram_fn)(void *ctx, const char *bytes, size_t len);

/*
 * Word n-grams of order n (n >= 1) over the spans of the last run: each gram
 * is the n tokens joined by one space ("alice went"), in text order, with
 * multiplicity. Uses t's scratch buffer; returns the number of grams or a
 * negative code.
 */
long wn_tok_word_ngrams(wn_tok *t, const char *norm, const wn_tok_span *spans,
			size_t n_spans, int n, wn_tok_gram_fn fn, void *ctx);

/*
 * Character n-grams of nmin..nmax code points over bytes s[0, len), for each
 * n in turn, with multiplicity; grams never split a UTF-8 sequence. When
 * pad is non-zero the string is framed by one space on each side first (so
 * a word's first and last grams are marked, as fastText's '<' '>' do).
 * Returns the number of grams or a negative code.
 */
long wn_tok_char_ngrams(wn_tok *t, const char *s, size_t len, int nmin,
			int nmax, int pad, wn_tok_gram_fn fn, void *ctx);

/*
 * Shingles: word n-grams of order k; a text with fewer than k tokens gives
 * one shingle of all its tokens (so short texts still have a feature set, as
 * MinHash needs). Returns the number of shingles or a negative code.
 */
long wn_tok_shingles(wn_tok *t, const char *norm, const wn_tok_span *spans,
		     size_t n_spans, int k, wn_tok_gram_fn fn, void *ctx);

/* Code-point classes in Python's sense, exposed for filters and tests. */
int wn_tok_py_isword(int32_t cp);  /* re's \w: str.isalnum() or '_' */
int wn_tok_py_isspace(int32_t cp); /* re's \s: str.isspace() */

#ifdef __cplusplus
}
#endif
#endif
