/*
 * tests/unit/test_tokenize.c — text/tokenize: the Python-compatible DSIR
 * split, the NFKC + casefold word split and its ASCII fast path, n-grams.
 *
 * Expected tokens below are what Python 3 gives for
 * re.findall(r"\w+|[^\w\s]+", s.lower()) (nltk's WordPunctTokenizer) and
 * re.findall(r"\w+", ...) on the same strings; the fast path is checked
 * against utf8proc_map on the whole text over real Debian descriptions.
 */
#include "text/tokenize.h"
#include "tests/unit/test.h"

#include <cjson/cJSON.h>
#include <utf8proc.h>
#include <zlib.h>

/* Tokens of the last run joined by '|', into a static buffer. */
static const char *joined(wn_tok *t, const char *s)
{
	static char out[4096];
	const char *norm;
	const wn_tok_span *sp;
	long n = wn_tok_run(t, s, strlen(s), &norm, &sp);
	if (n < 0) {
		snprintf(out, sizeof out, "ERR%ld", n);
		return out;
	}
	size_t o = 0;
	for (long i = 0; i < n && o + sp[i].len + 2 < sizeof out; i++) {
		if (i)
			out[o++] = '|';
		memcpy(out + o, norm + sp[i].off, sp[i].len);
		o += sp[i].len;
	}
	out[o] = 0;
	return out;
}

static wn_tok *mk(int mode)
{
	wn_tok_opts o = {.mode = mode};
	return wn_tok_new(&o);
}

static void test_wordpunct_like_nltk(void)
{
	wn_tok *t = mk(WN_TOK_WORDPUNCT);
	CHECK_STR(joined(t, "Alice went to the store."),
		  "alice|went|to|the|store|.");
	CHECK_STR(joined(t, "Hello,  world!! ...x__y"),
		  "hello|,|world|!!|...|x__y");
	/* a combining mark is not \w: it becomes its own punctuation token */
	CHECK_STR(joined(t, "cafe\xcc\x81s"), "cafe|\xcc\x81|s");
	/* str.lower(): U+0130 -> "i" U+0307; final sigma only at a word end */
	CHECK_STR(joined(t, "\xc4\xb0stanbul \xce\x9f\xce\x94\xce\x9f\xce\xa3 \xce\xa3\xce\x91"),
		  "i|\xcc\x87|stanbul|\xce\xbf\xce\xb4\xce\xbf\xcf\x82|\xcf\x83\xce\xb1");
	/* NBSP, NEL and U+001C are \s; ZERO WIDTH SPACE is not */
	CHECK_STR(joined(t, "a\xc2\xa0" "b\xc2\x85" "c\x1c" "d\xe2\x80\x8b" "e"),
		  "a|b|c|d|\xe2\x80\x8b|e");
	CHECK_STR(joined(t, ""), "");
	CHECK_STR(joined(t, " \t\n "), "");
	wn_tok_free(t);
}

static void test_nonword_split(void)
{
	wn_tok *t = mk(WN_TOK_NONWORD);
	CHECK_STR(joined(t, "Hello,  world!! ...x__y"), "hello|world|x__y");
	CHECK_STR(joined(t, "cafe\xcc\x81s"), "cafe|s");
	CHECK_STR(joined(t, "--"), "");
	wn_tok_free(t);
}

static void test_words_nfkc_casefold(void)
{
	wn_tok *t = mk(WN_TOK_WORDS);
	/* fullwidth letters, the fi ligature, sharp s, e + combining acute */
	CHECK_STR(joined(t, "\xef\xbc\xa6\xef\xbd\x95\xef\xbd\x8c\xef\xbd\x8c "
			    "\xef\xac\x81le Stra\xc3\x9f" "e e\xcc\x81!"),
		  "full|file|strasse|\xc3\xa9");
	/* marks stay inside words here; '_' and digits are word characters */
	CHECK_STR(joined(t, "Cafe\xcc\x81s x_1, (y)"), "caf\xc3\xa9s|x_1|y");
	CHECK_STR(joined(t, "Plain ASCII, only-words."), "plain|ascii|only|words");
	wn_tok_free(t);
}

static void test_invalid_utf8(void)
{
	const char *bad[] = {"ab\xff", "\xc3", "x\xed\xa0\x80y", "\xc0\xafz",
			     "\xce\xa3\xe2"};
	for (int mode = 0; mode < 3; mode++) {
		wn_tok *t = mk(mode);
		for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
			const char *norm;
			const wn_tok_span *sp;
			long n = wn_tok_run(t, bad[i], strlen(bad[i]), &norm, &sp);
			CHECK_EQ_INT(n, WN_TOK_EUTF8);
		}
		wn_tok_free(t);
	}
}

struct grams {
	char all[512];
	int n;
};

static void collect(void *ctx, const char *b, size_t len)
{
	struct grams *g = ctx;
	size_t o = strlen(g->all);
	if (o + len + 2 >= sizeof g->all)
		return;
	if (g->n++)
		g->all[o++] = '|';
	memcpy(g->all + o, b, len);
	g->all[o + len] = 0;
}

static void test_ngrams(void)
{
	wn_tok *t = mk(WN_TOK_WORDPUNCT);
	const char *s = "Alice went to the store";
	const char *norm;
	const wn_tok_span *sp;
	long n = wn_tok_run(t, s, strlen(s), &norm, &sp);
	CHECK_EQ_INT(n, 5);
	struct grams g = {{0}, 0};
	CHECK_EQ_INT(wn_tok_word_ngrams(t, norm, sp, (size_t)n, 2, collect, &g), 4);
	CHECK_STR(g.all, "alice went|went to|to the|the store");
	memset(&g, 0, sizeof g);
	CHECK_EQ_INT(wn_tok_word_ngrams(t, norm, sp, (size_t)n, 3, collect, &g), 3);
	CHECK_STR(g.all, "alice went to|went to the|to the store");
	memset(&g, 0, sizeof g);
	CHECK_EQ_INT(wn_tok_shingles(t, norm, sp, 2, 5, collect, &g), 1);
	CHECK_STR(g.all, "alice went");
	memset(&g, 0, sizeof g);
	CHECK_EQ_INT(wn_tok_word_ngrams(t, norm, sp, 2, 3, collect, &g), 0);
	/* char n-grams count code points, never split a UTF-8 sequence */
	memset(&g, 0, sizeof g);
	CHECK_EQ_INT(wn_tok_char_ngrams(t, "\xc3\xa9t\xc3\xa9", 5, 2, 3, 0, collect, &g), 3);
	CHECK_STR(g.all, "\xc3\xa9t|t\xc3\xa9|\xc3\xa9t\xc3\xa9");
	memset(&g, 0, sizeof g);
	CHECK_EQ_INT(wn_tok_char_ngrams(t, "ab", 2, 3, 3, 1, collect, &g), 2);
	CHECK_STR(g.all, " ab|ab ");
	wn_tok_free(t);
}

/* Read up to max "text" members from a gzipped JSONL file. */
static int read_texts(const char *path, char **texts, int max)
{
	gzFile f = gzopen(path, "rb");
	if (!f)
		return -1;
	static char line[1 << 16];
	int n = 0;
	while (n < max && gzgets(f, line, sizeof line)) {
		cJSON *j = cJSON_Parse(line);
		cJSON *tx = cJSON_GetObjectItemCaseSensitive(j, "text");
		if (cJSON_IsString(tx))
			texts[n++] = strdup(tx->valuestring);
		cJSON_Delete(j);
	}
	gzclose(f);
	return n;
}

static int same_as_utf8proc(wn_tok *t, const char *s)
{
	const char *norm;
	long n = wn_tok_normalize(t, s, strlen(s), &norm);
	utf8proc_uint8_t *ref = NULL;
	utf8proc_ssize_t r = utf8proc_map((const utf8proc_uint8_t *)s, 0, &ref,
					  UTF8PROC_NULLTERM | UTF8PROC_STABLE |
						  UTF8PROC_COMPAT | UTF8PROC_COMPOSE |
						  UTF8PROC_CASEFOLD);
	int ok = n >= 0 && r == n && memcmp(norm, ref, (size_t)n) == 0;
	free(ref);
	return ok;
}

/* The ASCII fast path must give exactly what NFKC + casefold of the whole
 * text gives. */
static void test_fast_path_equals_full_nfkc(void)
{
	wn_tok *t = mk(WN_TOK_WORDS);
	const char *crafted[] = {
		"e\xcc\x81", "ab e\xcc\x81 cd", "A\xcc\x8a\xcc\x81x",
		"x\xef\xac\x81y", "\xe1\x84\x80\xe1\x85\xa1 Ka", "K\xe2\x84\xaaK",
		"\xc2\xb4 z", "AB\xcc\xa3\xcc\x87" "C", "\xcf\x82\xce\xa3S\xc3\x9f",
		"mix\xc2\xa0nbsp\xe2\x80\x94" "dash", ""};
	for (size_t i = 0; i < sizeof crafted / sizeof *crafted; i++)
		CHECK(same_as_utf8proc(t, crafted[i]));
	char path[1024];
	snprintf(path, sizeof path, "%s/corpora/debian.jsonl.gz", test_shared_dir());
	enum { N = 3000 };
	char **texts = calloc(N, sizeof *texts);
	int n = read_texts(path, texts, N);
	if (n <= 0) {
		free(texts);
		wn_tok_free(t);
		SKIP("no Debian corpus under WINNOW_SHARED");
	}
	int bad = 0, non_ascii = 0;
	for (int i = 0; i < n; i++) {
		for (const char *p = texts[i]; *p; p++)
			if ((unsigned char)*p >= 0x80) {
				non_ascii++;
				break;
			}
		bad += !same_as_utf8proc(t, texts[i]);
		free(texts[i]);
	}
	free(texts);
	wn_tok_free(t);
	CHECK_EQ_INT(bad, 0);
	CHECK(non_ascii > 0); /* the slice exercises the slow path too */
}

static void test_python_classes(void)
{
	CHECK(wn_tok_py_isword('_') && wn_tok_py_isword('7'));
	CHECK(wn_tok_py_isword(0x00B2));  /* superscript two: No, numeric */
	CHECK(wn_tok_py_isword(0x2160));  /* Roman numeral one: Nl */
	CHECK(wn_tok_py_isword(0x4E00));  /* CJK ideograph: Lo */
	CHECK(!wn_tok_py_isword(0x0301)); /* combining acute: Mn */
	CHECK(!wn_tok_py_isword(0x0903)); /* Devanagari visarga: Mc */
	CHECK(!wn_tok_py_isword('-'));
	CHECK(wn_tok_py_isspace(0x1F) && wn_tok_py_isspace(0x3000));
	CHECK(wn_tok_py_isspace(0x2028) && wn_tok_py_isspace(0x85));
	CHECK(!wn_tok_py_isspace(0x200B) && !wn_tok_py_isspace(0xFEFF));
}

int main(void)
{
	RUN(test_wordpunct_like_nltk);
	RUN(test_nonword_split);
	RUN(test_words_nfkc_casefold);
	RUN(test_invalid_utf8);
	RUN(test_ngrams);
	RUN(test_fast_path_equals_full_nfkc);
	RUN(test_python_classes);
	return TEST_EXIT;
}
