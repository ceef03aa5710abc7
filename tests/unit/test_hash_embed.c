/*
 * tests/unit/test_hash_embed.c — embed/hash_embed on Debian package
 * descriptions: determinism (one thread or two, one call or a batch), unit
 * norm, related packages closer than unrelated ones, char n-grams, the IDF
 * file round trip and its refusals, and where the IDF file is written.
 */
#include "embed/hash_embed.h"
#include "text/tokenize.h"
#include "tests/unit/test.h"
#include "tests/unit/test_targets.h"

#include <cjson/cJSON.h>
#include <unistd.h>
#include <zlib.h>

enum { N = 1500 };
static char *ids[N], *texts[N];
static size_t lens[N];
static int n_texts = -1;

static int load(void)
{
	if (n_texts >= 0)
		return n_texts;
	char path[512];
	snprintf(path, sizeof path, "%s/corpora/debian.jsonl.gz", test_shared_dir());
	n_texts = 0;
	gzFile f = gzopen(path, "rb");
	if (!f)
		return 0;
	static char line[1 << 16];
	while (n_texts < N && gzgets(f, line, sizeof line)) {
		cJSON *j = cJSON_Parse(line);
		cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id");
		cJSON *tx = cJSON_GetObjectItemCaseSensitive(j, "text");
		if (cJSON_IsString(tx) && cJSON_IsString(id)) {
			ids[n_texts] = strdup(id->valuestring);
			texts[n_texts] = strdup(tx->valuestring);
			lens[n_texts] = strlen(texts[n_texts]);
			n_texts++;
		}
		cJSON_Delete(j);
	}
	gzclose(f);
	return n_texts;
}

static double dot(const float *a, const float *b, int d)
{
	double s = 0;
	for (int i = 0; i < d; i++)
		s += (double)a[i] * b[i];
	return s;
}

static wn_embed_hash *mk(int dim, int cmin, int cmax, const char *idf)
{
	wn_embed_hash_opts o;
	wn_embed_hash_opts_init(&o);
	o.dim = dim;
	o.char_min = cmin;
	o.char_max = cmax;
	o.idf_path = idf;
	char err[256];
	return wn_embed_hash_new(&o, err, sizeof err);
}

static void test_deterministic_unit_norm(void)
{
	if (load() < 100)
		SKIP("no Debian corpus");
	wn_embed_hash *h = mk(0, 0, 0, NULL);
	CHECK(h && wn_embed_hash_dim(h) == 512);
	int d = 512, n = n_texts;
	float *a = malloc((size_t)n * d * sizeof *a);
	float *b = malloc((size_t)n * d * sizeof *b);
	wn_embed_hash_ws *ws = wn_embed_hash_ws_new(h);
	/* one by one, in reverse order, on one scratch */
	for (int i = n - 1; i >= 0; i--)
		CHECK_EQ_INT(wn_embed_hash_text(h, ws, texts[i], lens[i], a + (size_t)i * d), 0);
	CHECK_EQ_INT(wn_embed_hash_batch(h, (const char *const *)texts, lens,
					 (size_t)n, b, 2, NULL), 0);
	CHECK(memcmp(a, b, (size_t)n * d * sizeof *a) == 0);
	int off = 0;
	for (int i = 0; i < n; i++)
		off += fabs(dot(a + (size_t)i * d, a + (size_t)i * d, d) - 1.0) > 1e-5;
	CHECK_EQ_INT(off, 0);
	/* no tokens: the zero vector, not NaN */
	float z[512];
	CHECK_EQ_INT(wn_embed_hash_text(h, ws, " -- ", 4, z), 0);
	CHECK(dot(z, z, d) == 0.0);
	CHECK_EQ_INT(wn_embed_hash_text(h, ws, "ok \xff", 4, z), WN_TOK_EUTF8);
	wn_embed_hash_ws_free(ws);
	free(a);
	free(b);
	wn_embed_hash_free(h);
}

/* Packages named alike ("0ad", "0ad-data") describe the same software:
 * they must sit closer than a package half the corpus away. */
static void test_related_closer_than_unrelated(void)
{
	if (load() < 100)
		SKIP("no Debian corpus");
	wn_embed_hash *h = mk(1024, 0, 0, NULL);
	wn_embed_hash_ws *ws = wn_embed_hash_ws_new(h);
	float *x = malloc(1024 * sizeof *x), *y = malloc(1024 * sizeof *y),
	      *z = malloc(1024 * sizeof *z);
	int pairs = 0, wins = 0;
	double sim_rel = 0, sim_unrel = 0;
	for (int i = 0; i + 1 < n_texts; i++) {
		size_t p = strcspn(ids[i], "-");
		if (p < 3 || strncmp(ids[i], ids[i + 1], p) || ids[i + 1][p] != '-')
			continue;
		int far = (i + n_texts / 2) % n_texts;
		wn_embed_hash_text(h, ws, texts[i], lens[i], x);
		wn_embed_hash_text(h, ws, texts[i + 1], lens[i + 1], y);
		wn_embed_hash_text(h, ws, texts[far], lens[far], z);
		double r = dot(x, y, 1024), u = dot(x, z, 1024);
		pairs++;
		wins += r > u;
		sim_rel += r;
		sim_unrel += u;
	}
	free(x);
	free(y);
	free(z);
	wn_embed_hash_ws_free(ws);
	wn_embed_hash_free(h);
	CHECK(pairs >= 50);
	CHECK(wins >= pairs * 9 / 10);
	CHECK(sim_rel / pairs > 0.4 && sim_unrel / pairs < 0.2);
}

static void test_char_ngrams_join_inflections(void)
{
	wn_embed_hash *w = mk(2048, 0, 0, NULL), *c = mk(2048, 3, 5, NULL);
	CHECK(w && c);
	wn_embed_hash_ws *ws = wn_embed_hash_ws_new(c);
	float a[2048], b[2048];
	const char *s1 = "connection", *s2 = "connections";
	wn_embed_hash_text(w, ws, s1, strlen(s1), a);
	wn_embed_hash_text(w, ws, s2, strlen(s2), b);
	double plain = dot(a, b, 2048);
	wn_embed_hash_text(c, ws, s1, strlen(s1), a);
	wn_embed_hash_text(c, ws, s2, strlen(s2), b);
	double with = dot(a, b, 2048);
	CHECK(fabs(dot(a, a, 2048) - 1.0) < 1e-5);
	CHECK(plain < 0.2 && with > 0.6);
	CHECK(wn_embed_hash_fingerprint(w) != wn_embed_hash_fingerprint(c));
	wn_embed_hash_ws_free(ws);
	wn_embed_hash_free(w);
	wn_embed_hash_free(c);
}

static int slurp(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, cap - 1, f);
	fclose(f);
	buf[n] = 0;
	return (int)n;
}

static void test_idf_round_trip(void)
{
	if (load() < 100)
		SKIP("no Debian corpus");
	char dir[] = "/tmp/wn_idf_XXXXXX", whole[64], halves[64], bad[64];
	CHECK(mkdtemp(dir));
	snprintf(whole, sizeof whole, "%s/whole", dir);
	snprintf(halves, sizeof halves, "%s/halves", dir);
	snprintf(bad, sizeof bad, "%s/bad", dir);
	wn_embed_hash *h = mk(256, 0, 0, NULL);
	wn_embed_hash_ws *ws = wn_embed_hash_ws_new(h);
	wn_embed_hash_df *all = wn_embed_hash_df_new(h), *d1 = wn_embed_hash_df_new(h),
			 *d2 = wn_embed_hash_df_new(h);
	for (int i = 0; i < n_texts; i++) {
		CHECK_EQ_INT(wn_embed_hash_df_add(h, ws, all, texts[i], lens[i]), 0);
		wn_embed_hash_df_add(h, ws, i % 2 ? d1 : d2, texts[i], lens[i]);
	}
	CHECK_EQ_INT(wn_embed_hash_df_merge(d1, d2), 0);
	CHECK_EQ_INT(wn_embed_hash_df_docs(d1), n_texts);
	char err[256];
	CHECK_EQ_INT(wn_embed_hash_df_write(all, whole, err, sizeof err), 0);
	CHECK_EQ_INT(wn_embed_hash_df_write(d1, halves, err, sizeof err), 0);
	static char b1[1 << 16], b2[1 << 16];
	CHECK(slurp(whole, b1, sizeof b1) > 0 && slurp(halves, b2, sizeof b2) > 0);
	CHECK(strcmp(b1, b2) == 0);

	/* "the" is in most descriptions: its bucket's df is near docs, so IDF
	 * shrinks it relative to a rare word's */
	wn_embed_hash *hi = mk(256, 0, 0, whole);
	CHECK(hi);
	CHECK(wn_embed_hash_fingerprint(hi) != wn_embed_hash_fingerprint(h));
	float p[256], q[256];
	const char *s = "the zyxwvutsrq";
	wn_embed_hash_text(h, ws, s, strlen(s), p);
	wn_embed_hash_text(hi, ws, s, strlen(s), q);
	CHECK(fabs(dot(q, q, 256) - 1.0) < 1e-5);
	float the_plain[256], the_idf[256];
	wn_embed_hash_text(h, ws, "the", 3, the_plain);
	wn_embed_hash_text(hi, ws, "the", 3, the_idf);
	/* the share of "the" in the two-word text drops under IDF */
	CHECK(fabs(dot(q, the_idf, 256)) < fabs(dot(p, the_plain, 256)));

	/* refusals: other options, other dim, truncated, count > docs */
	wn_embed_hash *c = mk(256, 2, 3, whole);
	CHECK(c == NULL);
	CHECK(mk(128, 0, 0, whole) == NULL);
	FILE *f = fopen(bad, "w");
	fwrite(b1, 1, strlen(b1) / 2, f);
	fclose(f);
	wn_embed_hash_opts o;
	wn_embed_hash_opts_init(&o);
	o.dim = 256;
	o.idf_path = bad;
	CHECK(wn_embed_hash_new(&o, err, sizeof err) == NULL);
	CHECK(strstr(err, "file ends before all buckets") != NULL);
	char *docs = strstr(b1, "\ndocs ");
	CHECK(docs);
	docs[6] = '1'; /* claim far fewer documents than some counts */
	docs[7] = '\n';
	f = fopen(bad, "w");
	fwrite(b1, 1, strlen(b1), f);
	fclose(f);
	CHECK(wn_embed_hash_new(&o, err, sizeof err) == NULL);

	wn_embed_hash_df_free(all);
	wn_embed_hash_df_free(d1);
	wn_embed_hash_df_free(d2);
	wn_embed_hash_ws_free(ws);
	wn_embed_hash_free(h);
	wn_embed_hash_free(hi);
	unlink(whole);
	unlink(halves);
	unlink(bad);
	rmdir(dir);
}

/* The IDF file goes through io/atomic: a symlink stays, a 0600 file stays
 * 0600, and a name planted where the old code put its temporary file
 * ("PATH.tmp<pid>", opened without O_EXCL) is never written through. */
static void test_idf_file_targets(void)
{
	char dir[] = "/tmp/wn_idft_XXXXXX", real[64], link[64], planted[96], victim[64], err[256];
	static char got[1 << 16];
	CHECK(mkdtemp(dir));
	snprintf(real, sizeof real, "%s/real", dir);
	snprintf(link, sizeof link, "%s/link", dir);
	snprintf(victim, sizeof victim, "%s/victim", dir);
	snprintf(planted, sizeof planted, "%s.tmp%ld", real, (long)getpid());
	CHECK_EQ_INT(tt_put_file(real, "old\n", 0600), 0);
	CHECK_EQ_INT(tt_put_file(victim, "keep\n", 0644), 0);
	CHECK_EQ_INT(symlink("real", link), 0);
	CHECK_EQ_INT(symlink("victim", planted), 0);
	wn_embed_hash *h = mk(64, 0, 0, NULL);
	wn_embed_hash_ws *ws = wn_embed_hash_ws_new(h);
	wn_embed_hash_df *df = wn_embed_hash_df_new(h);
	CHECK(h && ws && df);
	CHECK_EQ_INT(wn_embed_hash_df_add(h, ws, df, "the cat", 7), 0);
	int rc = wn_embed_hash_df_write(df, link, err, sizeof err);
	wn_embed_hash_df_free(df);
	wn_embed_hash_ws_free(ws);
	wn_embed_hash_free(h);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_INT(tt_lstat_type(link), S_IFLNK);
	CHECK_EQ_INT(tt_mode(real), 0600);
	CHECK(tt_slurp(real, got, sizeof got) > 0 && strstr(got, "\ndim 64\n") && strstr(got, "\ndocs 1\n"));
	CHECK(tt_slurp(victim, got, sizeof got) == 5 && !strcmp(got, "keep\n"));
	CHECK_EQ_INT(tt_lstat_type(planted), S_IFLNK);
	unlink(planted);
	unlink(link);
	unlink(real);
	unlink(victim);
	rmdir(dir);
}

static void test_bad_options(void)
{
	char err[256] = "";
	wn_embed_hash_opts o;
	wn_embed_hash_opts_init(&o);
	o.dim = -4;
	CHECK(wn_embed_hash_new(&o, err, sizeof err) == NULL && err[0]);
	wn_embed_hash_opts_init(&o);
	o.char_min = 5;
	o.char_max = 3;
	CHECK(wn_embed_hash_new(&o, err, sizeof err) == NULL);
	o.idf_path = "/nonexistent/idf";
	o.char_min = 0;
	o.char_max = 0;
	CHECK(wn_embed_hash_new(&o, err, sizeof err) == NULL);
	CHECK(strstr(err, "/nonexistent/idf") != NULL);
}

/* --char-ngrams, read the same way by `embed` and `select mig`. */
static void test_parse_ngrams(void)
{
	int lo = 0, hi = 0;
	CHECK(wn_embed_hash_parse_ngrams("3,5", &lo, &hi) == 0 && lo == 3 && hi == 5);
	CHECK(wn_embed_hash_parse_ngrams("4", &lo, &hi) == 0 && lo == 4 && hi == 4);
	CHECK(wn_embed_hash_parse_ngrams("1,32", &lo, &hi) == 0 && lo == 1 && hi == 32);
	const char *bad[] = {"", "0", "5,3", "3,33", "3,", "3,5x", "a", "3;5"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		CHECK(wn_embed_hash_parse_ngrams(bad[i], &lo, &hi) == -1);
}

int main(void)
{
	RUN(test_deterministic_unit_norm);
	RUN(test_related_closer_than_unrelated);
	RUN(test_char_ngrams_join_inflections);
	RUN(test_idf_round_trip);
	RUN(test_bad_options);
	RUN(test_idf_file_targets);
	RUN(test_parse_ngrams);
	for (int i = 0; i < n_texts; i++) {
		free(ids[i]);
		free(texts[i]);
	}
	return TEST_EXIT;
}
