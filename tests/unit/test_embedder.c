/*
 * tests/unit/test_embedder.c — embed/embedder: the hash model behind the
 * one call gives the model's own vectors; a cache (a fake one here, the
 * way cmd/ injects store's) answers before the model, gets the misses
 * afterwards, sees every lookup before any put, is skipped for texts
 * already refused, is committed once or rolled back; a text the model
 * refuses gets its reason and no cache entry.
 */
#include "embed/embedder.h"

#include "text/tokenize.h"
#include "test.h"

#define DIM 32

/* ---- a cache in memory that records what it was asked ---- */

struct fake {
	char text[16][32];
	float vec[16][DIM];
	int n, gets, puts, commits, aborts, fail_get;
	char log[256]; /* "g:alpha p:beta ..." in call order */
};
static struct fake F;

static void logf_(const char *op, const char *t, size_t n)
{
	size_t l = strlen(F.log);
	snprintf(F.log + l, sizeof F.log - l, "%s%s:%.*s", l ? " " : "", op, (int)n, t);
}
static void *f_open(const char *path, const char *fp, int dim, char *err, size_t errlen)
{
	if (dim != DIM || strncmp(fp, "hash-", 5)) {
		snprintf(err, errlen, "bad open %s %d", fp, dim);
		return NULL;
	}
	return &F;
}
static int f_find(const char *t, size_t n)
{
	for (int i = 0; i < F.n; i++)
		if (strlen(F.text[i]) == n && !memcmp(F.text[i], t, n))
			return i;
	return -1;
}
static int f_get(void *c, const char *t, size_t n, float *out)
{
	F.gets++;
	logf_("g", t, n);
	if (F.fail_get)
		return -1;
	int i = f_find(t, n);
	if (i >= 0)
		memcpy(out, F.vec[i], sizeof F.vec[i]);
	return i >= 0;
}
static int f_put(void *c, const char *t, size_t n, const float *v)
{
	F.puts++;
	logf_("p", t, n);
	snprintf(F.text[F.n], sizeof F.text[0], "%.*s", (int)n, t);
	memcpy(F.vec[F.n++], v, sizeof F.vec[0]);
	return 0;
}
static const char *f_error(void *c) { return "fake cache: disk on fire"; }
static void f_counts(void *c, uint64_t *h, uint64_t *m) { *h = 7; *m = 9; }
static int f_commit(void *c, char *err, size_t n) { F.commits++; return 0; }
static void f_abort(void *c) { F.aborts++; }
static const wn_embed_cache_ops fake_ops = {f_open, f_get, f_put, f_error, f_counts, f_commit, f_abort};

static wn_embedder *open_hash(void)
{
	wn_embed_hash_opts ho;
	wn_embed_hash_opts_init(&ho);
	ho.dim = DIM;
	char err[256];
	return wn_embedder_open_hash(&ho, 1, err, sizeof err);
}

/* The model's own vector of text. */
static void model_vec(const char *t, float *out)
{
	wn_embed_hash_opts ho;
	wn_embed_hash_opts_init(&ho);
	ho.dim = DIM;
	char err[256];
	wn_embed_hash *h = wn_embed_hash_new(&ho, err, sizeof err);
	wn_embed_hash_ws *ws = wn_embed_hash_ws_new(h);
	wn_embed_hash_text(h, ws, t, strlen(t), out);
	wn_embed_hash_ws_free(ws);
	wn_embed_hash_free(h);
}

static int same_vec(const float *a, const float *b)
{
	return !memcmp(a, b, DIM * sizeof *a);
}

static void test_hash_is_the_model(void)
{
	wn_embedder *e = open_hash();
	CHECK(e);
	CHECK_EQ_INT(wn_embedder_dim(e), DIM);
	char fp[64];
	snprintf(fp, sizeof fp, "hash-%016llx",
		 (unsigned long long)wn_embed_hash_fingerprint(wn_embedder_hash(e)));
	CHECK_STR(wn_embedder_fingerprint(e), fp);
	const char *t[3] = {"the quick brown fox", "", "jumps over"};
	size_t len[3] = {19, 0, 10};
	const char *why[3] = {NULL, NULL, NULL};
	float out[3 * DIM], want[DIM];
	char err[256];
	CHECK_EQ_INT(wn_embedder_embed(e, t, len, 3, out, why, err, sizeof err), 0);
	for (int i = 0; i < 3; i++) {
		model_vec(t[i], want);
		CHECK(same_vec(out + i * DIM, want));
		CHECK(why[i] == NULL);
	}
	uint64_t h, m;
	CHECK_EQ_INT(wn_embedder_cache_counts(e, &h, &m), 0); /* no cache attached */
	CHECK_EQ_INT(wn_embedder_commit(e, err, sizeof err), 0);
	wn_embedder_free(e);
}

static void test_cache_before_model_then_puts(void)
{
	memset(&F, 0, sizeof F);
	snprintf(F.text[0], sizeof F.text[0], "alpha");
	for (int j = 0; j < DIM; j++)
		F.vec[0][j] = 0.25f;
	F.n = 1;
	wn_embedder *e = open_hash();
	char err[256] = "";
	CHECK(e);
	CHECK_EQ_INT(wn_embedder_cache_open(e, &fake_ops, "x.db", err, sizeof err), 0);
	/* "skip" was refused before (why preset): never looked up, row untouched */
	const char *t[5] = {"alpha", "beta", "skip", "beta", "\xff bad utf-8"};
	size_t len[5] = {5, 4, 4, 4, 12};
	const char *why[5] = {NULL, NULL, "refused before", NULL, NULL};
	float out[5 * DIM], want[DIM];
	for (int j = 0; j < 5 * DIM; j++)
		out[j] = -7.0f;
	CHECK_EQ_INT(wn_embedder_embed(e, t, len, 5, out, why, err, sizeof err), 0);
	for (int j = 0; j < DIM; j++)
		CHECK(out[j] == 0.25f);           /* the cache's vector, not the model's */
	model_vec("beta", want);
	CHECK(same_vec(out + DIM, want));
	CHECK(same_vec(out + 3 * DIM, want));
	CHECK(out[2 * DIM] == -7.0f && out[3 * DIM - 1] == -7.0f);
	CHECK_STR(why[2], "refused before");
	CHECK(why[4] != NULL);                    /* the model refused invalid UTF-8 */
	CHECK_STR(why[4], wn_tok_strerror(WN_TOK_EUTF8));
	/* every lookup before any put; a text twice in one call is two misses */
	CHECK_STR(F.log, "g:alpha g:beta g:beta g:\xff bad utf-8 p:beta p:beta");
	uint64_t h, m;
	CHECK_EQ_INT(wn_embedder_cache_counts(e, &h, &m), 1);
	CHECK_EQ_INT(h, 7);
	CHECK_EQ_INT(wn_embedder_commit(e, err, sizeof err), 0);
	wn_embedder_free(e);
	CHECK_EQ_INT(F.commits, 1);
	CHECK_EQ_INT(F.aborts, 0);
}

static void test_uncommitted_cache_is_rolled_back(void)
{
	memset(&F, 0, sizeof F);
	wn_embedder *e = open_hash();
	char err[256] = "";
	CHECK(e);
	CHECK_EQ_INT(wn_embedder_cache_open(e, &fake_ops, "x.db", err, sizeof err), 0);
	wn_embedder_free(e);
	CHECK_EQ_INT(F.commits, 0);
	CHECK_EQ_INT(F.aborts, 1);
}

static void test_cache_errors_come_back(void)
{
	memset(&F, 0, sizeof F);
	F.fail_get = 1;
	wn_embedder *e = open_hash();
	char err[256] = "";
	CHECK(e);
	CHECK_EQ_INT(wn_embedder_cache_open(e, &fake_ops, "x.db", err, sizeof err), 0);
	const char *t[1] = {"a"};
	size_t len[1] = {1};
	const char *why[1] = {NULL};
	float out[DIM];
	CHECK_EQ_INT(wn_embedder_embed(e, t, len, 1, out, why, err, sizeof err), -1);
	CHECK_STR(err, "fake cache: disk on fire");
	CHECK_EQ_INT(F.puts, 0);
	wn_embedder_free(e);
	CHECK_EQ_INT(F.aborts, 1);
}

static void test_open_errors(void)
{
	char err[256] = "";
	wn_embed_hash_opts ho;
	wn_embed_hash_opts_init(&ho);
	ho.idf_path = "/nonexistent/idf.txt";
	CHECK(wn_embedder_open_hash(&ho, 1, err, sizeof err) == NULL);
	CHECK(strstr(err, "/nonexistent/idf.txt") != NULL);
	wn_embed_bert_opts bo;
	wn_embed_bert_opts_init(&bo);
	err[0] = 0;
	CHECK(wn_embedder_open_bert("/nonexistent/model", &bo, "cpu", 1, err, sizeof err) == NULL);
	CHECK(strstr(err, "/nonexistent/model") != NULL);
	err[0] = 0;
	CHECK(wn_embedder_open_bert("/nonexistent/model", &bo, "tpu", 1, err, sizeof err) == NULL);
	CHECK(strstr(err, "tpu") != NULL);
}

int main(void)
{
	RUN(test_hash_is_the_model);
	RUN(test_cache_before_model_then_puts);
	RUN(test_uncommitted_cache_is_rolled_back);
	RUN(test_cache_errors_come_back);
	RUN(test_open_errors);
	return TEST_EXIT;
}
