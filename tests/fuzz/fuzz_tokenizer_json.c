/*
 * tests/fuzz/fuzz_tokenizer_json.c — libFuzzer harness for tokenizer.json
 * loading and for encoding arbitrary text with what it loads.
 *
 * The input is split at the first NUL byte: before it, a tokenizer.json
 * document for wn_text_wp_from_json; after it, a text to encode (invalid UTF-8
 * included). Without a NUL the whole input is also encoded with a small
 * built-in tokenizer, so the normaliser, pre-tokeniser and WordPiece see
 * arbitrary bytes on every run, not only when the JSON happens to load.
 * Build: clang -fsanitize=fuzzer,address,undefined -I. tests/fuzz/fuzz_tokenizer_json.c
 *        text/wordpiece.c text/casefold.c io/intern.c io/errf.c -lcjson -lutf8proc -lxxhash
 */
#include "text/wordpiece.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char BUILTIN[] =
	"{\"added_tokens\": [{\"id\": 4, \"content\": \"[MASK]\", \"special\": true},"
	" {\"id\": 5, \"content\": \"[MA\", \"special\": true, \"single_word\": true}],"
	" \"normalizer\": {\"type\": \"BertNormalizer\", \"strip_accents\": null, \"lowercase\": true},"
	" \"pre_tokenizer\": {\"type\": \"BertPreTokenizer\"},"
	" \"post_processor\": {\"type\": \"BertProcessing\", \"sep\": [\"[SEP]\", 3], \"cls\": [\"[CLS]\", 2]},"
	" \"model\": {\"type\": \"WordPiece\", \"unk_token\": \"[UNK]\", \"max_input_chars_per_word\": 12,"
	" \"vocab\": {\"[UNK]\": 1, \"a\": 6, \"##a\": 7, \"##b\": 8, \"\xc3\xa9\": 9, \"##\xe4\xb8\xad\": 10}}}";

static void encode_all(wn_text_wp *wp, const uint8_t *t, size_t n)
{
	int32_t ids[80];
	for (int lower = 0; lower < 2; lower++) {
		wn_text_wp_set_pre_lowercase(wp, lower);
		wn_text_wp_set_max_len(wp, 64);
		int k = wn_text_wp_encode(wp, (const char *)t, n, ids, 80);
		if (k > 64)
			abort(); /* truncation must hold */
		for (int i = 0; i < k; i++)
			if (ids[i] < 0 || ids[i] >= wn_text_wp_vocab_size(wp))
				abort(); /* every id comes from the vocabulary */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t jlen = nul ? (size_t)(nul - data) : size;
	char *json = malloc(jlen + 1);
	uint8_t *text = malloc(size + 1);
	if (!json || !text)
		goto out;
	memcpy(json, data, jlen);
	json[jlen] = 0;
	char err[256];
	wn_text_wp *wp = wn_text_wp_from_json(json, jlen, err, sizeof err);
	size_t tlen = nul ? size - jlen - 1 : size;
	memcpy(text, nul ? nul + 1 : data, tlen);
	if (wp) {
		encode_all(wp, text, tlen);
		wn_text_wp_free(wp);
	}
	wp = wn_text_wp_from_json(BUILTIN, sizeof BUILTIN - 1, err, sizeof err);
	if (!wp)
		abort();
	encode_all(wp, text, tlen);
	wn_text_wp_free(wp);
out:
	free(json);
	free(text);
	return 0;
}
