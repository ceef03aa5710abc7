/*
 * tests/unit/test_dsir.c — selectors/dsir against the DSIR package: its own
 * test values (alice -> 6720, "alice went" -> 114, 9 features for "Alice
 * went to the store"), bucket values from Python's
 * int(sha256(...).hexdigest(), 16) % m for other m, and the 5,000 weights of
 * fixtures/dsir/ (Python with nltk + hashlib + numpy) within 1e-9 relative;
 * the same bits on 1 and 2 threads; the xxh3 variant.
 */
#include "selectors/dsir.h"
#include "text/tokenize.h"
#include "tests/unit/test.h"

#include <cjson/cJSON.h>
#include <zlib.h>

static wn_dsir *mk(uint32_t buckets, int hash, int threads)
{
	wn_dsir_opts o = {buckets, hash, 2, threads};
	char err[256];
	return wn_dsir_new(&o, err, sizeof err);
}

static void test_package_hash_values(void)
{
	wn_dsir *d = mk(10000, WN_DSIR_SHA256, 1);
	CHECK(d);
	CHECK_EQ_INT(wn_dsir_bucket(d, "alice", 5), 6720);
	CHECK_EQ_INT(wn_dsir_bucket(d, "alice went", 10), 114);
	CHECK_EQ_INT(wn_dsir_bucket(d, "the store", 9), 3440);
	wn_dsir_free(d);
	/* the 256-bit reduction for other moduli (values from Python) */
	struct { uint32_t m; uint32_t alice, went, sigma; } v[] = {
		{1u << 20, 880272, 923170, 866754},
		{999983, 105690, 175089, 892472},
		{268435456, 141389456, 231609890, 148715970},
		{7, 6, 3, 4},
	};
	for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
		d = mk(v[i].m, WN_DSIR_SHA256, 1);
		CHECK(d);
		CHECK_EQ_INT(wn_dsir_bucket(d, "alice", 5), v[i].alice);
		CHECK_EQ_INT(wn_dsir_bucket(d, "alice went", 10), v[i].went);
		CHECK_EQ_INT(wn_dsir_bucket(d, "\xcf\x83 \xcf\x82", 5), v[i].sigma);
		wn_dsir_free(d);
	}
}

static void test_package_ngram_counts(void)
{
	wn_dsir *d = mk(10000, WN_DSIR_SHA256, 1);
	const char *line = "Alice went to the store";
	size_t len = strlen(line);
	CHECK_EQ_INT(wn_dsir_count(d, WN_DSIR_RAW, &line, &len, 1, NULL), 0);
	CHECK_EQ_INT(wn_dsir_total(d, WN_DSIR_RAW), 9);
	CHECK(wn_dsir_counts(d, WN_DSIR_RAW)[6720] > 0);
	CHECK(wn_dsir_counts(d, WN_DSIR_RAW)[114] > 0);
	/* counted with multiplicity: "a a a" is 3 unigrams + 2 bigrams */
	const char *rep = "A a a";
	size_t rl = 5;
	wn_dsir_count(d, WN_DSIR_TARGET, &rep, &rl, 1, NULL);
	CHECK_EQ_INT(wn_dsir_total(d, WN_DSIR_TARGET), 5);
	CHECK_EQ_INT(wn_dsir_counts(d, WN_DSIR_TARGET)[wn_dsir_bucket(d, "a", 1)], 3);
	CHECK_EQ_INT(wn_dsir_counts(d, WN_DSIR_TARGET)[wn_dsir_bucket(d, "a a", 3)], 2);
	/* a bad text adds nothing and says why */
	const char *bad = "ok \xff";
	size_t bl = 4;
	int st = 0;
	CHECK_EQ_INT(wn_dsir_count(d, WN_DSIR_TARGET, &bad, &bl, 1, &st), WN_TOK_EUTF8);
	CHECK_EQ_INT(st, WN_TOK_EUTF8);
	CHECK_EQ_INT(wn_dsir_total(d, WN_DSIR_TARGET), 5);
	wn_dsir_free(d);
}

struct corpus {
	char **s;
	size_t *len;
	size_t n, cap;
};

static int load_jsonl(const char *path, struct corpus *c)
{
	gzFile f = gzopen(path, "rb"); /* reads plain files too */
	if (!f)
		return -1;
	static char line[1 << 17];
	while (gzgets(f, line, sizeof line)) {
		cJSON *j = cJSON_Parse(line);
		cJSON *x = cJSON_GetObjectItemCaseSensitive(j, "text");
		if (cJSON_IsString(x)) {
			if (c->n == c->cap) {
				c->cap = c->cap ? 2 * c->cap : 1024;
				c->s = realloc(c->s, c->cap * sizeof *c->s);
				c->len = realloc(c->len, c->cap * sizeof *c->len);
			}
			c->s[c->n] = strdup(x->valuestring);
			c->len[c->n] = strlen(x->valuestring);
			c->n++;
		}
		cJSON_Delete(j);
	}
	gzclose(f);
	return (int)c->n;
}

static void free_corpus(struct corpus *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->s[i]);
	free(c->s);
	free(c->len);
	memset(c, 0, sizeof *c);
}

static struct corpus raw, target;

static int have_vectors(void)
{
	if (raw.n)
		return 1;
	return load_jsonl("fixtures/dsir/raw.jsonl.gz", &raw) == 5000 &&
	       load_jsonl("fixtures/dsir/target.jsonl", &target) > 0;
}

/* Fit on raw/target in batches of `batch`, score raw into w. */
static int run(int hash, int threads, size_t batch, double *w)
{
	wn_dsir *d = mk(10000, hash, threads);
	if (!d)
		return -1;
	for (size_t i = 0; i < raw.n; i += batch) {
		size_t k = raw.n - i < batch ? raw.n - i : batch;
		if (wn_dsir_count(d, WN_DSIR_RAW, (const char *const *)raw.s + i,
				  raw.len + i, k, NULL))
			return -1;
	}
	if (wn_dsir_count(d, WN_DSIR_TARGET, (const char *const *)target.s,
			  target.len, target.n, NULL))
		return -1;
	char err[256];
	int rc = wn_dsir_fit(d, err, sizeof err);
	if (rc == 0)
		rc = wn_dsir_score(d, (const char *const *)raw.s, raw.len, raw.n, w, NULL);
	wn_dsir_free(d);
	return rc;
}

static void test_weights_match_package(void)
{
	if (!have_vectors())
		SKIP("fixtures/dsir missing");
	double *w = malloc(raw.n * sizeof *w);
	CHECK_EQ_INT(run(WN_DSIR_SHA256, 2, 700, w), 0);
	FILE *f = fopen("fixtures/dsir/expected-weights.txt", "r");
	CHECK(f);
	size_t n = 0, bad = 0;
	double want, worst = 0;
	while (n < raw.n && fscanf(f, "%lf", &want) == 1) {
		double rel = fabs(w[n] - want) / fmax(fabs(want), 1e-300);
		worst = fmax(worst, rel);
		bad += !(rel <= 1e-9);
		n++;
	}
	fclose(f);
	free(w);
	CHECK_EQ_INT(n, 5000);
	if (bad)
		TEST_FAIL_("%zu weights off by more than 1e-9 relative (worst %g)",
			   bad, worst);
}

static void test_threads_and_batches_bit_identical(void)
{
	if (!have_vectors())
		SKIP("fixtures/dsir missing");
	double *a = malloc(raw.n * sizeof *a), *b = malloc(raw.n * sizeof *b);
	CHECK_EQ_INT(run(WN_DSIR_SHA256, 1, 5000, a), 0);
	CHECK_EQ_INT(run(WN_DSIR_SHA256, 2, 333, b), 0);
	int same = memcmp(a, b, raw.n * sizeof *a) == 0;
	free(a);
	free(b);
	CHECK(same);
}

/* xxh3 buckets are a different hash of the same features: the weights
 * differ but rank the pool almost the same way. */
static void test_xxh3_variant(void)
{
	if (!have_vectors())
		SKIP("fixtures/dsir missing");
	wn_dsir *d = mk(10000, WN_DSIR_XXH3, 1);
	CHECK(wn_dsir_bucket(d, "alice", 5) != 6720 ||
	      wn_dsir_bucket(d, "alice went", 10) != 114);
	wn_dsir_free(d);
	double *s = malloc(raw.n * sizeof *s), *x = malloc(raw.n * sizeof *x);
	CHECK_EQ_INT(run(WN_DSIR_SHA256, 2, 5000, s), 0);
	CHECK_EQ_INT(run(WN_DSIR_XXH3, 2, 5000, x), 0);
	double ms = 0, mx = 0, sxy = 0, sxx = 0, syy = 0;
	for (size_t i = 0; i < raw.n; i++) {
		ms += s[i];
		mx += x[i];
	}
	ms /= raw.n;
	mx /= raw.n;
	int differ = 0;
	for (size_t i = 0; i < raw.n; i++) {
		sxy += (s[i] - ms) * (x[i] - mx);
		sxx += (s[i] - ms) * (s[i] - ms);
		syy += (x[i] - mx) * (x[i] - mx);
		differ += s[i] != x[i];
	}
	free(s);
	free(x);
	CHECK(differ > 4000);
	CHECK(sxy / sqrt(sxx * syy) > 0.95);
}

/* Hashing once and reusing the ids gives the same counts and the same
 * weight bits as counting and scoring from the text. */
static void test_saved_ids_equal_text_path(void)
{
	if (!have_vectors())
		SKIP("fixtures/dsir missing");
	size_t n = 1500;
	const char *const *tx = (const char *const *)raw.s;
	wn_dsir *a = mk(10000, WN_DSIR_SHA256, 2), *b = mk(10000, WN_DSIR_SHA256, 2);
	wn_dsir_ids ids = {0};
	CHECK_EQ_INT(wn_dsir_count(a, WN_DSIR_RAW, tx, raw.len, n, NULL), 0);
	CHECK_EQ_INT(wn_dsir_features(b, tx, raw.len, n, &ids, NULL), 0);
	CHECK_EQ_INT(ids.n, n);
	wn_dsir_count_ids(b, WN_DSIR_RAW, ids.ids, ids.off[n]);
	CHECK_EQ_INT(wn_dsir_total(a, WN_DSIR_RAW), wn_dsir_total(b, WN_DSIR_RAW));
	CHECK(memcmp(wn_dsir_counts(a, WN_DSIR_RAW), wn_dsir_counts(b, WN_DSIR_RAW),
		     10000 * sizeof(uint64_t)) == 0);
	const char *const *tt = (const char *const *)target.s;
	wn_dsir_count(a, WN_DSIR_TARGET, tt, target.len, target.n, NULL);
	wn_dsir_count(b, WN_DSIR_TARGET, tt, target.len, target.n, NULL);
	char err[128];
	CHECK_EQ_INT(wn_dsir_fit(a, err, sizeof err), 0);
	CHECK_EQ_INT(wn_dsir_fit(b, err, sizeof err), 0);
	double *w = malloc(n * sizeof *w);
	CHECK_EQ_INT(wn_dsir_score(a, tx, raw.len, n, w, NULL), 0);
	size_t differ = 0;
	for (size_t i = 0; i < n; i++) {
		double v = wn_dsir_weight_ids(b, ids.ids + ids.off[i], ids.off[i + 1] - ids.off[i]);
		differ += memcmp(&v, &w[i], sizeof v) != 0;
	}
	free(w);
	wn_dsir_ids_free(&ids);
	wn_dsir_free(a);
	wn_dsir_free(b);
	CHECK_EQ_INT(differ, 0);
}

static void test_fit_needs_both_sets(void)
{
	wn_dsir *d = mk(100, WN_DSIR_SHA256, 1);
	const char *t = "some words";
	size_t l = strlen(t);
	double w;
	char err[256] = "";
	wn_dsir_count(d, WN_DSIR_RAW, &t, &l, 1, NULL);
	CHECK(wn_dsir_score(d, &t, &l, 1, &w, NULL) == -1); /* not fitted */
	CHECK(wn_dsir_fit(d, err, sizeof err) == -1);
	CHECK(strstr(err, "target") != NULL);
	const char *empty = " ";
	size_t el = 1;
	wn_dsir_count(d, WN_DSIR_TARGET, &empty, &el, 1, NULL);
	CHECK(wn_dsir_fit(d, err, sizeof err) == -1);
	wn_dsir_count(d, WN_DSIR_TARGET, &t, &l, 1, NULL);
	CHECK_EQ_INT(wn_dsir_fit(d, err, sizeof err), 0);
	/* identical sets: every log_diff is 0, so is the weight */
	CHECK_EQ_INT(wn_dsir_score(d, &t, &l, 1, &w, NULL), 0);
	CHECK(w == 0.0);
	wn_dsir_free(d);
	wn_dsir_opts o = {0, WN_DSIR_SHA256, 9, 1};
	CHECK(wn_dsir_new(&o, err, sizeof err) == NULL);
	CHECK_EQ_INT(wn_dsir_parse_hash("xxh3"), WN_DSIR_XXH3);
	CHECK_EQ_INT(wn_dsir_parse_hash("md5"), -1);
}

int main(void)
{
	RUN(test_package_hash_values);
	RUN(test_package_ngram_counts);
	RUN(test_weights_match_package);
	RUN(test_threads_and_batches_bit_identical);
	RUN(test_xxh3_variant);
	RUN(test_saved_ids_equal_text_path);
	RUN(test_fit_needs_both_sets);
	free_corpus(&raw);
	free_corpus(&target);
	return TEST_EXIT;
}
