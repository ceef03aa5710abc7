/*
 * tests/unit/test_score_step.c — the `score zipfit` and `score dsir` steps
 * called as a library, the way the recipe runner will: options filled and
 * checked without argv, the stream's source and sink spools (nothing from
 * cmd/ is linked). The scores are held to the reference vectors of
 * fixtures/zipfit and fixtures/dsir; a spool as DSIR's source is read twice;
 * a record scored from a spool still names its input file and line.
 */
#include "selectors/dsir_step.h"
#include "selectors/score_step.h"
#include "selectors/zipfit.h"
#include "selectors/zipfit_step.h"

#include "io/errf.h"
#include "test.h"

static const char *fixture(const char *name)
{
	static char p[4][1024];
	static int k;
	const char *root = getenv("WINNOW_ROOT");
	k = (k + 1) % 4;
	snprintf(p[k], sizeof p[k], "%s/fixtures/%s", root && *root ? root : ".", name);
	return p[k];
}

/* Every record of a fixture file in a spool, with its file and line. */
static wn_spool *spool_of(const char *path)
{
	char err[256];
	wn_policy pol = {"test", WN_ON_ERROR_FAIL, NULL, NULL, 0, 0, 0};
	wn_reader_opts ro = {WN_FORMAT_AUTO, 0, &pol, 0};
	wn_reader *r = wn_reader_open(&path, 1, &ro);
	wn_spool *s = wn_spool_new(0, err, sizeof err);
	wn_record rec;
	int got = 0;
	while (r && s && (got = wn_reader_next(r, &rec)) > 0)
		if (wn_spool_put(s, &rec, err, sizeof err))
			got = -1;
	wn_reader_close(r);
	if (got < 0) {
		wn_spool_free(s);
		return NULL;
	}
	return s;
}

/* The number at `key` (a dotted path) of each record of a spool; -1 on a bad record. */
static long numbers_of(wn_spool *s, const char *key, double *out, long max)
{
	char err[256];
	wn_record rec;
	wn_span v;
	long n = 0;
	if (wn_spool_rewind(s, err, sizeof err))
		return -1;
	while (wn_spool_get(s, &rec, err, sizeof err) > 0) {
		if (n == max || !wn_json_get(rec.json, key, &v) || wn_json_number(v, &out[n]))
			return -1;
		n++;
	}
	return n;
}

static void test_zipfit_check_before_anything(void)
{
	wn_score_zipfit_opts o;
	char err[256] = "";
	wn_score_zipfit_init(&o);
	CHECK_EQ_INT(wn_score_zipfit_check(&o, err, sizeof err), -1);
	CHECK_STR(err, "--target FILE is required");
	o.target = "t.jsonl";
	o.level = 10;
	CHECK_EQ_INT(wn_score_zipfit_check(&o, err, sizeof err), -1);
	CHECK_STR(err, "level 10 out of range 1..9 for this compressor");
	o.compressor = "zstd";
	CHECK_EQ_INT(wn_score_zipfit_check(&o, err, sizeof err), 0);
	CHECK_EQ_INT(o.compressor_id, WN_ZIPFIT_ZSTD);
	o.compressor = "lz4";
	o.level = 13;
	CHECK_EQ_INT(wn_score_zipfit_check(&o, err, sizeof err), -1);
	CHECK_STR(err, "level 13 out of range 0..12 for this compressor");
}

static void test_dsir_check_before_anything(void)
{
	wn_score_dsir_opts o;
	char err[256] = "";
	wn_score_dsir_init(&o);
	o.target = "t.jsonl";
	CHECK_EQ_INT(wn_score_dsir_check(&o, err, sizeof err), 0);
	o.buckets = 0;
	CHECK_EQ_INT(wn_score_dsir_check(&o, err, sizeof err), -1);
	CHECK_STR(err, "--buckets must be 1..268435456");
	o.buckets = 10;
	o.hash = "md5";
	CHECK_EQ_INT(wn_score_dsir_check(&o, err, sizeof err), -1);
	CHECK_STR(err, "unknown hash 'md5' (sha256 or xxh3)");
}

static void test_zipfit_between_spools(void)
{
	enum { N = 303 };
	static double got[N + 1], want[N + 1];
	char err[512] = "";
	wn_spool *src = spool_of(fixture("zipfit/source.jsonl"));
	wn_spool *ref = spool_of(fixture("zipfit/expected-level9.jsonl"));
	wn_spool *dst = wn_spool_new(0, err, sizeof err);
	CHECK(src && ref && dst);
	wn_score_zipfit_opts o;
	wn_score_zipfit_init(&o);
	o.target = fixture("zipfit/target.jsonl");
	o.io.quiet = 1;
	CHECK_EQ_INT(wn_score_zipfit_check(&o, err, sizeof err), 0);
	wn_stream s;
	wn_step_report rep = {0};
	CHECK_EQ_INT(wn_stream_open_spools(&s, "score zipfit", &o.io, src, dst, err, sizeof err), 0);
	int rc = wn_score_zipfit_run(&o, &s, &rep, err, sizeof err);
	CHECK_EQ_INT(wn_stream_finish(&s, rc == 0, &rep), 0);
	CHECK_EQ_INT(rep.in, N);
	CHECK_EQ_INT(rep.out, N);
	CHECK_EQ_INT(numbers_of(dst, "winnow.zipfit", got, N + 1), N);
	CHECK_EQ_INT(numbers_of(ref, "zipfit", want, N + 1), N);
	for (int i = 0; i < N; i++)
		CHECK_NEAR(got[i], want[i], 1e-12);
	wn_spool_free(src);
	wn_spool_free(ref);
	wn_spool_free(dst);
}

/* A spool as the source is read twice (count, then score): the package's weights. */
static void test_dsir_reads_a_spool_source_twice(void)
{
	enum { N = 5000 };
	static double got[N + 1], want[N];
	char err[512] = "";
	FILE *f = fopen(fixture("dsir/expected-weights.txt"), "r");
	CHECK(f);
	int nw = 0;
	while (nw < N && fscanf(f, "%lf", &want[nw]) == 1)
		nw++;
	fclose(f);
	CHECK_EQ_INT(nw, N);
	wn_spool *src = spool_of(fixture("dsir/raw.jsonl.gz"));
	wn_spool *dst = wn_spool_new(0, err, sizeof err);
	CHECK(src && dst);
	wn_score_dsir_opts o;
	wn_score_dsir_init(&o);
	o.target = fixture("dsir/target.jsonl");
	o.io.quiet = 1;
	CHECK_EQ_INT(wn_score_dsir_check(&o, err, sizeof err), 0);
	wn_stream s;
	wn_step_report rep = {0};
	CHECK_EQ_INT(wn_stream_open_spools(&s, "score dsir", &o.io, src, dst, err, sizeof err), 0);
	int rc = wn_score_dsir_run(&o, &s, &rep, err, sizeof err);
	CHECK_EQ_INT(wn_stream_finish(&s, rc == 0, &rep), 0);
	CHECK_EQ_INT(rep.in, N);
	CHECK_EQ_INT(rep.out, N);
	CHECK_EQ_INT(numbers_of(dst, "winnow.dsir", got, N + 1), N);
	for (int i = 0; i < N; i++)
		CHECK_NEAR(got[i] / want[i], 1.0, 1e-9);
	wn_spool_free(src);
	wn_spool_free(dst);
}

static int refuse_second(void *ctx, wn_batch *b, double *scores, char *err, size_t errlen)
{
	(void)ctx;
	for (size_t i = 0; i < b->n; i++) {
		if (b->index[i] == 1) {
			wn_errf(err, errlen, "%s:%llu: refused", b->file[i], (unsigned long long)b->line[i]);
			return -1;
		}
		scores[i] = 0;
	}
	return 0;
}

/* What a later pass over a spool finds still names the input's file and line. */
static void test_spooled_records_keep_their_place(void)
{
	char err[512] = "";
	wn_spool *empty = wn_spool_new(0, err, sizeof err);
	wn_spool *kept = wn_spool_new(0, err, sizeof err);
	wn_spool *dst = wn_spool_new(0, err, sizeof err);
	CHECK(empty && kept && dst);
	for (int i = 0; i < 3; i++) {
		char line[64];
		int n = snprintf(line, sizeof line, "{\"text\":\"t%d\"}", i);
		wn_record r = {{line, (size_t)n}, "in.jsonl", (uint64_t)(10 + 2 * i), (uint64_t)i};
		CHECK_EQ_INT(wn_spool_put(kept, &r, err, sizeof err), 0);
	}
	CHECK_EQ_INT(wn_spool_rewind(kept, err, sizeof err), 0);
	wn_stream_opts co = WN_STREAM_OPTS_INIT;
	co.quiet = 1;
	wn_stream s;
	CHECK_EQ_INT(wn_stream_open_spools(&s, "score test", &co, empty, dst, err, sizeof err), 0);
	int rc = wn_score_annotate(&s, kept, "test", refuse_second, NULL, err, sizeof err);
	wn_stream_finish(&s, rc == 0, NULL);
	CHECK_EQ_INT(rc, -1);
	CHECK_STR(err, "in.jsonl:12: refused");
	wn_spool_free(empty);
	wn_spool_free(kept);
	wn_spool_free(dst);
}

int main(void)
{
	RUN(test_zipfit_check_before_anything);
	RUN(test_dsir_check_before_anything);
	RUN(test_zipfit_between_spools);
	RUN(test_dsir_reads_a_spool_source_twice);
	RUN(test_spooled_records_keep_their_place);
	return TEST_EXIT;
}
