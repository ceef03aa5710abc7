/*
 * text/wordpiece.h — the BERT tokenizer: text -> token ids, as Hugging Face
 * `tokenizers` computes them for a BertNormalizer + BertPreTokenizer +
 * WordPiece + [CLS]/[SEP] pipeline.
 *
 * Owns: the vocabulary (token bytes -> id, over io/intern), the normaliser
 * switches, the special tokens split out of the raw text ("added tokens"),
 * the post-processor's prefix/suffix ids and the truncation length.
 *
 * Borrows: text/casefold for lowercasing (Python's str.lower() in step 1,
 * the context-free mapping in step 3); io/intern for the vocabulary's
 * string table; utf8proc for categories and canonical decomposition (NFD);
 * cJSON to read tokenizer.json (a few hundred kB, read once).
 *
 * Why a module of its own beside text/tokenize: WordPiece ids must match
 * the model's training tokenizer bit for bit (BERT's punctuation rules,
 * greedy longest-match with "##"), which is a contract with a model file,
 * not a feature choice like the hash embedder's n-grams. Why in text/ and
 * not embed/: it needs nothing from embed/ (DESIGN.md lists WordPiece with
 * the other text features); embed/bert.c is its user.
 *
 * Steps for one text, each as `tokenizers` defines it:
 *  1. optional Python str.lower() of the raw text (sentence-transformers'
 *     do_lower_case), including U+0130 and the final-sigma rule;
 *  2. added tokens ([CLS], [MASK], ... with normalized=false) matched in
 *     the raw text, leftmost-longest, and emitted as their ids;
 *  3. the rest: BertNormalizer — clean_text (drop NUL, U+FFFD and
 *     Cc/Cf/Cn/Co except \t\n\r; whitespace -> ' '), handle_chinese_chars
 *     (spaces around CJK ideographs), strip_accents (NFD, drop Mn; null
 *     means "same as lowercase"), lowercase;
 *  4. BertPreTokenizer: split on White_Space (dropped) and on punctuation
 *     (ASCII 33-47, 58-64, 91-96, 123-126 and Unicode P*, kept as tokens);
 *  5. WordPiece: greedy longest match, "##" continuation prefix, a word of
 *     more than max_input_chars_per_word chars or with no match -> [UNK];
 *  6. truncation to max_len ids including the specials, then the template
 *     prefix ([CLS]) and suffix ([SEP]).
 */
#ifndef WN_TEXT_WORDPIECE_H
#define WN_TEXT_WORDPIECE_H

#include <stddef.h>
#include <stdint.h>

typedef struct wn_text_wp wn_text_wp;

/*
 * Load from a model directory: tokenizer.json when present, else vocab.txt
 * with BERT defaults (lowercase from tokenizer_config.json's do_lower_case,
 * default true). NULL and one line in err on failure.
 */
wn_text_wp *wn_text_wp_load_dir(const char *dir, char *err, size_t errlen);

/* From tokenizer.json text (len bytes, need not be NUL-terminated). */
wn_text_wp *wn_text_wp_from_json(const char *json, size_t len, char *err, size_t errlen);

/* From vocab.txt text: one token per line, id = line number. */
wn_text_wp *wn_text_wp_from_vocab_txt(const char *text, size_t len, int lowercase,
				   char *err, size_t errlen);

void wn_text_wp_free(wn_text_wp *wp);

/* Total ids per text including the specials (default 512). At least specials + 1. */
void wn_text_wp_set_max_len(wn_text_wp *wp, int max_len);
int wn_text_wp_max_len(const wn_text_wp *wp);
/* Apply Python's str.lower() to the raw text first (sentence-transformers do_lower_case). */
void wn_text_wp_set_pre_lowercase(wn_text_wp *wp, int on);

/* 1 + the largest id any token (vocabulary or added) maps to. */
int wn_text_wp_vocab_size(const wn_text_wp *wp);
/* Id of a token string, or -1. */
int wn_text_wp_token_id(const wn_text_wp *wp, const char *token);

/*
 * Token ids of one text (len bytes of UTF-8; invalid bytes are read as
 * U+FFFD). Writes at most min(cap, max_len) ids and returns how many, or
 * -1 when out of memory. Safe to call from several threads at once.
 */
int wn_text_wp_encode(const wn_text_wp *wp, const char *text, size_t len, int32_t *ids, int cap);

#endif
