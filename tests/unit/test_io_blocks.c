/*
 * tests/unit/test_io_blocks.c — the block path of the reader: what
 * wn_jsonv_check_lines (io/jsonv.cc) vouches for, how wn_reader_next_run
 * cuts a file into runs, and how wn_writer_records writes a run.
 *
 * The classification table is worked out by hand from RFC 8259 and the
 * reader's line rules (a trailing CR is stripped, a blank line is spaces,
 * tabs and CRs only): CLEAN = every line one object and the bytes are
 * their own output, VALID = every line blank or one object, BAD = anything
 * the reader must check line by line. The writer's expected bytes and
 * counts are the lines written, by hand; the full disk is a file-size
 * limit, as in test_writer.c.
 */
#include "io/jsonv.h"
#include "io/record.h"

#include <stdlib.h>

#include "test.h"
#include "test_targets.h"

static char dir[256];

static const char *tp(const char *name)
{
	static char bufs[4][512];
	static int i;
	char *b = bufs[i++ % 4];
	snprintf(b, 512, "%s/%s", dir, name);
	return b;
}

/* check_lines on a padded copy of s. */
static int lines(wn_jsonv *v, const char *s, size_t n, size_t *nobj)
{
	char *buf = calloc(1, n + WN_JSON_PADDING);
	if (!buf)
		return -1;
	memcpy(buf, s, n);
	int r = wn_jsonv_check_lines(v, buf, n, 4096, nobj);
	free(buf);
	return r;
}

#define L(s) s, sizeof s - 1

static void test_check_lines_table(void)
{
	static const struct {
		const char *s;
		size_t n;
		int want;
		size_t objs;
	} t[] = {
		{L("{}\n"), WN_JSONV_LINES_CLEAN, 1},
		{L("{\"a\":1}\n{\"b\":[1,{\"c\":null}]}\n"), WN_JSONV_LINES_CLEAN, 2},
		{L("  {} \t\n{}\n"), WN_JSONV_LINES_CLEAN, 2},  /* spaces belong to the record */
		{L("{}\r \n"), WN_JSONV_LINES_CLEAN, 1},        /* CR not last: kept, so clean */
		{L("{\"u\":\"\xc3\xa9\"}\n"), WN_JSONV_LINES_CLEAN, 1},
		{L("{}\r\n{}\n"), WN_JSONV_LINES_VALID, 2},     /* the CR is stripped */
		{L("{}\n\n{}\n"), WN_JSONV_LINES_VALID, 2},     /* a blank line */
		{L("\n{}\n"), WN_JSONV_LINES_VALID, 1},
		{L("{}\n \t\r\n"), WN_JSONV_LINES_VALID, 1},
		{L(" \n"), WN_JSONV_LINES_VALID, 0},
		{L("{}{}\n"), WN_JSONV_LINES_BAD, 0},           /* two on one line */
		{L("{} {}\n"), WN_JSONV_LINES_BAD, 0},
		{L("{\n}\n"), WN_JSONV_LINES_BAD, 0},           /* one over two lines */
		{L("{\"a\":\n1}\n"), WN_JSONV_LINES_BAD, 0},
		{L("[1]\n"), WN_JSONV_LINES_BAD, 0},            /* not an object */
		{L("{}\n1\n"), WN_JSONV_LINES_BAD, 0},
		{L("{}\n\"s\"\n"), WN_JSONV_LINES_BAD, 0},
		{L("{\"a\":1,}\n"), WN_JSONV_LINES_BAD, 0},
		{L("{\"a\":\"\xff\"}\n"), WN_JSONV_LINES_BAD, 0}, /* not UTF-8 */
		{L("{\"a\":\"x\ty\"}\n"), WN_JSONV_LINES_BAD, 0}, /* raw tab in a string */
		{L("{}\n{\n"), WN_JSONV_LINES_BAD, 0},          /* truncated last document */
		{L("{}\n{\"a\":\n"), WN_JSONV_LINES_BAD, 0},
		{L("{}\n{\"a\":\"b\n"), WN_JSONV_LINES_BAD, 0}, /* unclosed string */
		{L("\f{}\n"), WN_JSONV_LINES_BAD, 0},           /* form feed is not whitespace */
		{L("{}\n\f\n"), WN_JSONV_LINES_BAD, 0},
		{L("\xef\xbb\xbf{}\n"), WN_JSONV_LINES_BAD, 0}, /* a BOM: the first line's business */
		{L("{}"), WN_JSONV_LINES_BAD, 0},               /* no newline at the end */
		{L("{\"a\":01}\n"), WN_JSONV_LINES_BAD, 0},
	};
	wn_jsonv *v = wn_jsonv_new();
	CHECK(v);
	for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
		size_t nobj = 99;
		int r = lines(v, t[i].s, t[i].n, &nobj);
		if (r != t[i].want || (r != WN_JSONV_LINES_BAD && nobj != t[i].objs)) {
			wn_jsonv_free(v);
			TEST_FAIL_("case %zu (%.*s): got %d with %zu objects, want %d with %zu", i,
				   (int)t[i].n, t[i].s, r, nobj, t[i].want, t[i].objs);
		}
	}
	wn_jsonv_free(v);
}

/* n lines {"i":1000000k} of exactly 16 bytes each ('\n' included). */
static char *sixteen(int n)
{
	char *s = malloc((size_t)n * 16 + 1);
	for (int k = 0; s && k < n; k++)
		snprintf(s + (size_t)k * 16, 17, "{\"i\":1%08d}\n", k);
	return s;
}

static void test_check_lines_long_block(void)
{
	char *s = sixteen(5000);
	wn_jsonv *v = wn_jsonv_new();
	size_t nobj = 0;
	int r = s && v ? wn_jsonv_check_lines(v, s, 5000 * 16 - 64, 5000 * 16, &nobj) : -1;
	/* the same parser again on a shorter block, then with a bad last line */
	size_t nobj2 = 0, nobj3 = 0;
	int r2 = s && v ? wn_jsonv_check_lines(v, s, 160, 5000 * 16, &nobj2) : -1;
	if (s)
		s[16 * 4999 - 2] = ',';
	int r3 = s && v ? wn_jsonv_check_lines(v, s, 5000 * 16 - 64, 5000 * 16, &nobj3) : -1;
	free(s);
	wn_jsonv_free(v);
	CHECK_EQ_INT(r, WN_JSONV_LINES_CLEAN);
	CHECK_EQ_INT(nobj, 4996);
	CHECK_EQ_INT(r2, WN_JSONV_LINES_CLEAN);
	CHECK_EQ_INT(nobj2, 10);
	CHECK_EQ_INT(r3, WN_JSONV_LINES_CLEAN); /* line 4999 lies past the block */
}

/* Read path with runs; the totals must be those of the file. */
static void test_reader_runs(void)
{
	const int n = 3072; /* 49,152 bytes: the map has no padding past its end */
	char *s = sixteen(n);
	CHECK(s);
	int ok = tt_put_file(tp("runs.jsonl"), s, 0644) == 0;
	free(s);
	CHECK(ok);
	wn_policy pol = {.cmd = "test", .mode = WN_ON_ERROR_FAIL};
	wn_reader_opts ro = {WN_FORMAT_JSONL, 0, &pol, 0};
	const char *paths[] = {tp("runs.jsonl")};
	wn_reader *r = wn_reader_open(paths, 1, &ro);
	CHECK(r);
	wn_reader_set_block(r, 1600); /* 100 lines a block */
	wn_run run;
	wn_record rec;
	uint64_t records = 0, runs = 0, singles = 0, bad = 0;
	int got;
	while ((got = wn_reader_next_run(r, &run, &rec)) == 1) {
		uint64_t line = run.count ? run.line : rec.line, idx = run.count ? run.index : rec.index;
		if (line != records + 1 || idx != records)
			bad++;
		if (run.count && (run.bytes.n != run.count * 16 || run.bytes.p[run.bytes.n - 1] != '\n'))
			bad++;
		records += run.count ? run.count : 1;
		runs += run.count > 0;
		singles += run.count == 0;
	}
	uint64_t count = wn_reader_count(r), bytes = wn_reader_bytes(r);
	wn_reader_close(r);
	CHECK_EQ_INT(got, 0);
	CHECK_EQ_INT(bad, 0);
	CHECK_EQ_INT(records, n);
	CHECK_EQ_INT(count, n);
	CHECK_EQ_INT(bytes, n * 16);
	/* line 1 alone (a BOM is looked for there); lines 2..3001 in 30 blocks
	 * of 100; 3002..3068 in one block that ends 64 bytes (the padding) before
	 * the map's end; the last 4 lines one by one */
	CHECK_EQ_INT(runs, 31);
	CHECK_EQ_INT(singles, 5);
}

static void test_writer_runs_stream(void)
{
	static char got[1 << 20];
	char *s = sixteen(20000); /* 320,000 bytes */
	CHECK(s);
	int saved = tt_stdout_to(tp("wr1"), O_WRONLY | O_CREAT | O_TRUNC);
	char err[256];
	wn_writer *w = wn_writer_open(NULL, 1, err, sizeof err);
	/* a short run (buffered), a line, a long run (written from s), a short run */
	int ok = w && !wn_writer_records(w, s, 160, 10) && !wn_writer_line(w, "{}", 2) &&
		 !wn_writer_records(w, s + 160, 16 * 10000, 10000) &&
		 !wn_writer_records(w, s + 160 + 160000, 32, 2);
	uint64_t given = w ? wn_writer_lines(w) : 0;
	int frc = w ? wn_writer_finish(w, 1, err, sizeof err) : -1;
	uint64_t written = w ? wn_writer_lines_written(w) : 0;
	wn_writer_free(w);
	tt_stdout_back(saved);
	long n = tt_slurp(tp("wr1"), got, sizeof got);
	char *want = malloc(200000);
	size_t wn = 0;
	if (want && s) {
		memcpy(want, s, 160);
		memcpy(want + 160, "{}\n", 3);
		memcpy(want + 163, s + 160, 160032);
		wn = 160195;
	}
	int same = want && n == (long)wn && !memcmp(got, want, wn);
	free(want);
	free(s);
	CHECK(ok);
	CHECK_EQ_INT(frc, 0);
	CHECK_EQ_INT(given, 10013);
	CHECK_EQ_INT(written, 10013);
	CHECK_EQ_INT(n, 160195);
	CHECK(same);
}

static void test_writer_run_full_disk_cuts_back(void)
{
	static char got[400000];
	char *s = sixteen(20000);
	CHECK(s);
	int saved = tt_stdout_to(tp("wr2"), O_WRONLY | O_CREAT | O_TRUNC);
	rlim_t old = tt_limit_fsize(300007); /* not a multiple of 16 */
	char err[256];
	wn_writer *w = wn_writer_open(NULL, 1, err, sizeof err);
	int rc = 0;
	for (int k = 0; w && !rc && k < 4; k++) /* runs of 5000 lines, 80,000 bytes */
		rc = wn_writer_records(w, s + (size_t)k * 80000, 80000, 5000);
	uint64_t written = w ? wn_writer_lines_written(w) : 0;
	char why[256];
	snprintf(why, sizeof why, "%s", w ? wn_writer_error(w) : "");
	wn_writer_free(w);
	tt_unlimit_fsize(old);
	tt_stdout_back(saved);
	long n = tt_slurp(tp("wr2"), got, sizeof got);
	int same = n > 0 && !memcmp(got, s, (size_t)n);
	free(s);
	CHECK_EQ_INT(rc, -1);
	CHECK_STR(why, "<stdout>: File too large");
	CHECK_EQ_INT(n, 300007 / 16 * 16);
	CHECK_EQ_INT(written, 300007 / 16);
	CHECK(same);
}

int main(void)
{
	snprintf(dir, sizeof dir, "%s/wn_blocks_XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir))
		return 1;
	signal(SIGPIPE, SIG_IGN);
	RUN(test_check_lines_table);
	RUN(test_check_lines_long_block);
	RUN(test_reader_runs);
	RUN(test_writer_runs_stream);
	RUN(test_writer_run_full_disk_cuts_back);
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return 1;
	return TEST_EXIT;
}
