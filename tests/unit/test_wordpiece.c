/*
 * tests/unit/test_wordpiece.c — the BERT tokenizer, rule by rule.
 *
 * A tiny hand-written tokenizer.json (vocabulary below) makes each expected
 * id sequence derivable by reading the rule it tests: greedy longest match
 * with "##", lowercasing and accent stripping (and strip_accents: null
 * following lowercase), CJK splitting, clean_text, punctuation splitting,
 * max_input_chars_per_word, truncation, added tokens in the raw text,
 * Python-style final sigma (with the Case_Ignorable code points Python
 * skips around it). The 70 reference cases of the bert-tiny
 * fixture are checked in test_bert.c; here the fixture's vocab.txt-only
 * path must agree with its tokenizer.json path. Malformed tokenizer.json
 * files give errors.
 */
#include "text/wordpiece.h"
#include "tests/unit/test.h"

#include <stdint.h>

static const char *VOCAB =
	"\"[PAD]\":0,\"[UNK]\":1,\"[CLS]\":2,\"[SEP]\":3,\"[MASK]\":4,\"un\":5,\"##aff\":6,"
	"\"##able\":7,\"hello\":8,\",\":9,\"!\":10,\"cafe\":11,\"\xe4\xb8\xad\":12,"
	"\"\xe6\x96\x87\":13,\"a\":14,\"##a\":15,\"caf\xc3\xa9\":16,\"$\":17,"
	"\"\xce\xbf\xcf\x82\":18,\"\xce\xbf\xcf\x83\":19,\"##aa\":20,"
	"\"\xcf\x82\":21,\"\xcf\x83\":22";

/* tokenizer.json with the given normalizer JSON and max_input_chars_per_word. */
static wn_text_wp *mk(const char *normalizer, int max_chars)
{
	char json[4096], err[256];
	snprintf(json, sizeof json,
		 "{\"added_tokens\": [{\"id\": 4, \"content\": \"[MASK]\", \"special\": true,"
		 " \"normalized\": false}],"
		 " \"normalizer\": %s, \"pre_tokenizer\": {\"type\": \"BertPreTokenizer\"},"
		 " \"post_processor\": {\"type\": \"TemplateProcessing\","
		 "   \"single\": [{\"SpecialToken\": {\"id\": \"[CLS]\", \"type_id\": 0}},"
		 "              {\"Sequence\": {\"id\": \"A\", \"type_id\": 0}},"
		 "              {\"SpecialToken\": {\"id\": \"[SEP]\", \"type_id\": 0}}],"
		 "   \"special_tokens\": {\"[CLS]\": {\"id\": \"[CLS]\", \"ids\": [2]},"
		 "                       \"[SEP]\": {\"id\": \"[SEP]\", \"ids\": [3]}}},"
		 " \"model\": {\"type\": \"WordPiece\", \"unk_token\": \"[UNK]\","
		 "   \"continuing_subword_prefix\": \"##\", \"max_input_chars_per_word\": %d,"
		 "   \"vocab\": {%s}}}",
		 normalizer, max_chars, VOCAB);
	wn_text_wp *wp = wn_text_wp_from_json(json, strlen(json), err, sizeof err);
	if (!wp)
		fprintf(stderr, "tokenizer: %s\n", err);
	return wp;
}

#define BERT_NORM "{\"type\": \"BertNormalizer\", \"clean_text\": true, " \
	"\"handle_chinese_chars\": true, \"strip_accents\": null, \"lowercase\": true}"

/* Encode and compare with a -1-terminated list. */
static int ids_are(const wn_text_wp *wp, const char *text, size_t len, const int *want)
{
	int32_t ids[64];
	int n = wn_text_wp_encode(wp, text, len, ids, 64);
	int k = 0;
	while (want[k] >= 0)
		k++;
	if (n != k)
		return 0;
	for (int i = 0; i < n; i++)
		if (ids[i] != want[i])
			return 0;
	return 1;
}
#define IDS(wp, text, ...) ids_are(wp, text, sizeof(text) - 1, (const int[]){__VA_ARGS__, -1})

static void test_greedy_longest_match(void)
{
	wn_text_wp *wp = mk(BERT_NORM, 100);
	CHECK(wp != NULL);
	int ok1 = IDS(wp, "unaffable", 2, 5, 6, 7, 3);
	int ok2 = IDS(wp, "aaaaa", 2, 14, 20, 20, 3);     /* ##aa preferred to ##a */
	int ok3 = IDS(wp, "unaffablex", 2, 1, 3);          /* no match for the rest: whole word [UNK] */
	int ok4 = IDS(wp, "", 2, 3);
	int ok5 = IDS(wp, " \t\n ", 2, 3);
	wn_text_wp_free(wp);
	CHECK(ok1);
	CHECK(ok2);
	CHECK(ok3);
	CHECK(ok4);
	CHECK(ok5);
}

static void test_lowercase_and_accents(void)
{
	wn_text_wp *lc = mk(BERT_NORM, 100);
	/* strip_accents null follows lowercase=false: accents kept */
	wn_text_wp *keep = mk("{\"type\": \"BertNormalizer\", \"strip_accents\": null, \"lowercase\": false}", 100);
	wn_text_wp *strip = mk("{\"type\": \"BertNormalizer\", \"strip_accents\": true, \"lowercase\": false}", 100);
	CHECK(lc && keep && strip);
	int ok1 = IDS(lc, "Hello, HELLO!", 2, 8, 9, 8, 10, 3);
	int ok2 = IDS(lc, "CAF\xc3\x89", 2, 11, 3);           /* CAFÉ -> cafe */
	int ok3 = IDS(lc, "cafe\xcc\x81", 2, 11, 3);          /* e + combining acute -> cafe */
	int ok4 = IDS(keep, "caf\xc3\xa9", 2, 16, 3);         /* café stays café */
	int ok5 = IDS(keep, "Hello", 2, 1, 3);                /* not lowercased */
	int ok6 = IDS(strip, "caf\xc3\xa9", 2, 11, 3);
	wn_text_wp_free(lc);
	wn_text_wp_free(keep);
	wn_text_wp_free(strip);
	CHECK(ok1);
	CHECK(ok2);
	CHECK(ok3);
	CHECK(ok4);
	CHECK(ok5);
	CHECK(ok6);
}

static void test_chinese_and_clean_text(void)
{
	wn_text_wp *wp = mk(BERT_NORM, 100);
	wn_text_wp *nocjk = mk("{\"type\": \"BertNormalizer\", \"handle_chinese_chars\": false,"
				 " \"clean_text\": false, \"lowercase\": true}", 100);
	CHECK(wp && nocjk);
	int ok1 = IDS(wp, "\xe4\xb8\xad\xe6\x96\x87", 2, 12, 13, 3);   /* 中文 -> 中 文 */
	int ok2 = IDS(nocjk, "\xe4\xb8\xad\xe6\x96\x87", 2, 1, 3);     /* one word, no ##文 */
	int ok3 = IDS(wp, "hel\x01lo", 2, 8, 3);                       /* control char dropped */
	int ok4 = IDS(nocjk, "hel\x01lo", 2, 1, 3);                    /* kept without clean_text */
	int ok5 = IDS(wp, "hello\xc2\xa0hello", 2, 8, 8, 3);           /* NBSP is whitespace */
	int ok6 = IDS(wp, "hello\xe2\x80\x8bhello", 2, 1, 3);          /* ZWSP (Cf) dropped: one word */
	int ok7 = IDS(wp, "hel\xeflo", 2, 8, 3);                       /* invalid byte -> U+FFFD, dropped */
	int ok8 = ids_are(wp, "hel\0lo", 6, (const int[]){2, 8, 3, -1}); /* NUL dropped */
	wn_text_wp_free(wp);
	wn_text_wp_free(nocjk);
	CHECK(ok1);
	CHECK(ok2);
	CHECK(ok3);
	CHECK(ok4);
	CHECK(ok5);
	CHECK(ok6);
	CHECK(ok7);
	CHECK(ok8);
}

static void test_punctuation(void)
{
	wn_text_wp *wp = mk(BERT_NORM, 100);
	CHECK(wp != NULL);
	int ok1 = IDS(wp, "hello$hello", 2, 8, 17, 8, 3);           /* ASCII 36 is BERT punctuation */
	int ok2 = IDS(wp, "hello\xc2\xa1hello", 2, 8, 1, 8, 3);     /* U+00A1 (Po) splits */
	int ok3 = IDS(wp, "hello\xc2\xa7hello", 2, 8, 1, 8, 3);     /* U+00A7 (Po) splits */
	int ok4 = IDS(wp, "hello\xc2\xb1hello", 2, 1, 3);           /* U+00B1 (Sm) does not */
	int ok5 = IDS(wp, "!!,", 2, 10, 10, 9, 3);
	wn_text_wp_free(wp);
	CHECK(ok1);
	CHECK(ok2);
	CHECK(ok3);
	CHECK(ok4);
	CHECK(ok5);
}

static void test_max_chars_and_truncation(void)
{
	wn_text_wp *wp = mk(BERT_NORM, 5);
	CHECK(wp != NULL);
	int ok1 = IDS(wp, "aaaaa", 2, 14, 20, 20, 3);
	int ok2 = IDS(wp, "aaaaaa hello", 2, 1, 8, 3);
	wn_text_wp_set_max_len(wp, 4);
	int ok3 = IDS(wp, "hello hello hello", 2, 8, 8, 3);
	int ok4 = IDS(wp, "hello aaaaa", 2, 8, 14, 3);           /* cut inside a word */
	wn_text_wp_set_max_len(wp, 1);                                 /* clamped to specials + 1 */
	int ok5 = wn_text_wp_max_len(wp) == 3;
	int32_t ids[8];
	int n = wn_text_wp_encode(wp, "hello hello", 11, ids, 2);      /* cap below max_len */
	wn_text_wp_free(wp);
	CHECK(ok1);
	CHECK(ok2);
	CHECK(ok3);
	CHECK(ok4);
	CHECK(ok5);
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_INT(ids[0], 2);
}

static void test_added_tokens(void)
{
	wn_text_wp *wp = mk(BERT_NORM, 100);
	CHECK(wp != NULL);
	int ok1 = IDS(wp, "hello[MASK]hello", 2, 8, 4, 8, 3);
	/* [SEP] is not an added token in this file: split as punctuation */
	int ok2 = IDS(wp, "[SEP]", 2, 1, 1, 1, 3);
	wn_text_wp_set_pre_lowercase(wp, 1);                            /* str.lower() first: [mask] */
	int ok3 = IDS(wp, "[MASK]", 2, 1, 1, 1, 3);
	int unknown = wn_text_wp_token_id(wp, "x"), mask = wn_text_wp_token_id(wp, "[MASK]");
	wn_text_wp_free(wp);
	CHECK(ok1);
	CHECK(ok2);
	CHECK(ok3);
	CHECK_EQ_INT(unknown, -1);
	CHECK_EQ_INT(mask, 4);
}

static void test_final_sigma(void)
{
	wn_text_wp *raw = mk("null", 100);
	wn_text_wp *bert = mk(BERT_NORM, 100);
	CHECK(raw && bert);
	int ok1 = IDS(raw, "\xce\x9f\xce\xa3", 2, 1, 3);          /* ΟΣ untouched: not in vocab */
	wn_text_wp_set_pre_lowercase(raw, 1);
	int ok2 = IDS(raw, "\xce\x9f\xce\xa3", 2, 18, 3);         /* Python lower: ος (final) */
	int ok3 = IDS(bert, "\xce\x9f\xce\xa3", 2, 19, 3);        /* Rust char lowercase: οσ */
	wn_text_wp_free(raw);
	wn_text_wp_free(bert);
	CHECK(ok1);
	CHECK(ok2);
	CHECK(ok3);
}

/*
 * Python's str.lower() skips Case_Ignorable code points on both sides of a
 * sigma. The seven Word_Break MidLetter ones below are punctuation, so the
 * pre-tokenizer then splits them off and the sigma's form shows in the ids:
 * python3 gives "ΟΣ" X "Ο" -> "οσ" X "ο" (19, [UNK], [UNK]) and
 * "Ο" X "Σ" -> "ο" X "ς" ([UNK], [UNK], 21) for each X.
 */
static void test_final_sigma_case_ignorable(void)
{
	static const char *const mid[] = {"\xce\x87", "\xd5\x9f", "\xd7\xb4", "\xe2\x80\xa7",
					  "\xef\xb8\x93", "\xef\xb9\x95", "\xef\xbc\x9a"};
	wn_text_wp *wp = mk("null", 100);
	CHECK(wp != NULL);
	wn_text_wp_set_pre_lowercase(wp, 1);
	int bad = -1;
	for (int i = 0; i < 7 && bad < 0; i++) {
		char after[32], before[32];
		snprintf(after, sizeof after, "\xce\x9f\xce\xa3%s\xce\x9f", mid[i]);
		snprintf(before, sizeof before, "\xce\x9f%s\xce\xa3", mid[i]);
		if (!ids_are(wp, after, strlen(after), (const int[]){2, 19, 1, 1, 3, -1}) ||
		    !ids_are(wp, before, strlen(before), (const int[]){2, 1, 1, 21, 3, -1}))
			bad = i;
	}
	wn_text_wp_free(wp);
	if (bad >= 0)
		TEST_FAIL_("sigma beside code point %d of the MidLetter list: not Python's form", bad);
}

static void test_vocab_txt_matches_json(void)
{
	char dir[4096], err[512];
	const char *root = getenv("WINNOW_ROOT");
	snprintf(dir, sizeof dir, "%s/fixtures/models/bert-tiny-uncased", root && *root ? root : ".");
	wn_text_wp *js = wn_text_wp_load_dir(dir, err, sizeof err);
	if (!js)
		TEST_FAIL_("load: %s", err);
	char path[4200];
	snprintf(path, sizeof path, "%s/vocab.txt", dir);
	FILE *f = fopen(path, "rb");
	char *buf = malloc(1 << 20);
	size_t n = f ? fread(buf, 1, 1 << 20, f) : 0;
	if (f)
		fclose(f);
	wn_text_wp *vt = wn_text_wp_from_vocab_txt(buf, n, 1, err, sizeof err);
	free(buf);
	CHECK(vt != NULL);
	CHECK_EQ_INT(wn_text_wp_vocab_size(js), 3000);
	CHECK_EQ_INT(wn_text_wp_vocab_size(vt), 3000);
	static const char *texts[] = {
		"JACK capable organ softsynth (data files)", "Caf\xc3\xa9 na\xc3\xafve",
		"\xe4\xb8\xad\xe6\x96\x87 [MASK] and [SEP] inside", "e-mail: foo.bar@example.com",
		"\xc3\x9cn\xc3\xaf" "c\xc3\xb6" "d\xc3\xa9 \xc3\x9f \xc3\xb8", "tabs\tand\nnewlines", "",
	};
	int same = 1;
	for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
		int32_t a[600], b[600];
		int na = wn_text_wp_encode(js, texts[i], strlen(texts[i]), a, 600);
		int nb = wn_text_wp_encode(vt, texts[i], strlen(texts[i]), b, 600);
		same &= na == nb && na > 0 && memcmp(a, b, (size_t)na * sizeof *a) == 0;
	}
	CHECK_EQ_INT(wn_text_wp_token_id(js, "[MASK]"), 4);
	wn_text_wp_free(js);
	wn_text_wp_free(vt);
	CHECK(same);
}

static void test_bad_tokenizer_json(void)
{
	static const struct {
		const char *json, *want;
	} cases[] = {
		{"[1]", "not a JSON object"},
		{"{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}}}", "only WordPiece"},
		{"{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"a\": 0}}}", "unk_token"},
		{"{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"[UNK]\": -3}}}", "not an integer"},
		{"{\"model\": {\"type\": \"WordPiece\", \"vocab\": {}}}", "missing or empty"},
		{"{\"normalizer\": {\"type\": \"Sequence\"}, \"model\": {\"type\": \"WordPiece\","
		 " \"vocab\": {\"[UNK]\": 0}}}", "normalizer type Sequence"},
		{"{\"pre_tokenizer\": {\"type\": \"Metaspace\"}, \"model\": {\"type\": \"WordPiece\","
		 " \"vocab\": {\"[UNK]\": 0}}}", "pre_tokenizer type Metaspace"},
		{"{\"post_processor\": {\"type\": \"TemplateProcessing\", \"single\": [{\"SpecialToken\":"
		 " {\"id\": \"[X]\"}}], \"special_tokens\": {}}, \"model\": {\"type\": \"WordPiece\","
		 " \"vocab\": {\"[UNK]\": 0}}}", "bad special token"},
		{"{\"added_tokens\": [{\"content\": 5}], \"model\": {\"type\": \"WordPiece\","
		 " \"vocab\": {\"[UNK]\": 0}}}", "added_tokens"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char err[256] = "";
		wn_text_wp *wp = wn_text_wp_from_json(cases[i].json, strlen(cases[i].json), err, sizeof err);
		int ok = wp == NULL && strstr(err, cases[i].want) != NULL;
		wn_text_wp_free(wp);
		if (!ok)
			TEST_FAIL_("case %zu: got \"%s\", want \"%s\"", i, err, cases[i].want);
	}
}

/* A huge or fractional number where an integer belongs is refused, and
 * (under UBSan) never converted out of range first. */
static void test_out_of_range_integer_refused(void)
{
	char err[256] = "";
	const char *bad[] = {"1e300", "-1e300", "3.5", "1e10"};
	for (int i = 0; i < 4; i++) {
		char json[512];
		snprintf(json, sizeof json,
			 "{\"model\": {\"type\": \"WordPiece\", \"unk_token\": \"[UNK]\","
			 " \"max_input_chars_per_word\": %s, \"vocab\": {\"[UNK]\": 0}}}", bad[i]);
		wn_text_wp *wp = wn_text_wp_from_json(json, strlen(json), err, sizeof err);
		CHECK(wp == NULL);
		CHECK(strstr(err, "max_input_chars_per_word") != NULL);
	}
}

int main(void)
{
	RUN(test_out_of_range_integer_refused);
	RUN(test_greedy_longest_match);
	RUN(test_lowercase_and_accents);
	RUN(test_chinese_and_clean_text);
	RUN(test_punctuation);
	RUN(test_max_chars_and_truncation);
	RUN(test_added_tokens);
	RUN(test_final_sigma);
	RUN(test_final_sigma_case_ignorable);
	RUN(test_vocab_txt_matches_json);
	RUN(test_bad_tokenizer_json);
	return TEST_EXIT;
}
