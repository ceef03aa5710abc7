/*
 * tests/unit/test_spool.c — io/spool: records come back with their bytes,
 * file, line and index, in memory and after spilling to disk, over two
 * passes; a spool that cannot be created says why; bytes copy out exactly.
 */
#include "io/spool.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"

static void put_n(wn_spool *s, int n, int *ok)
{
	char line[64], err[256];
	*ok = 1;
	for (int i = 0; i < n; i++) {
		int len = snprintf(line, sizeof line, "{\"i\":%d,\"pad\":\"%*s\"}", i, i % 37, "");
		wn_record r = {{line, (size_t)len}, i < n / 2 ? "a.jsonl" : "b.jsonl", (uint64_t)i + 1, (uint64_t)i};
		if (wn_spool_put(s, &r, err, sizeof err))
			*ok = 0;
	}
}

static void check_back(wn_spool *s, int n, int *ok)
{
	char line[64], err[256];
	wn_record r;
	*ok = 0;
	if (wn_spool_rewind(s, err, sizeof err))
		return;
	for (int i = 0; i < n; i++) {
		int len = snprintf(line, sizeof line, "{\"i\":%d,\"pad\":\"%*s\"}", i, i % 37, "");
		if (wn_spool_get(s, &r, err, sizeof err) != 1)
			return;
		if (r.json.n != (size_t)len || memcmp(r.json.p, line, (size_t)len))
			return;
		if (strcmp(r.file, i < n / 2 ? "a.jsonl" : "b.jsonl") || r.line != (uint64_t)i + 1 || r.index != (uint64_t)i)
			return;
	}
	*ok = wn_spool_get(s, &r, err, sizeof err) == 0;
}

static void test_records_in_memory(void)
{
	char err[256];
	wn_spool *s = wn_spool_new(0, err, sizeof err);
	CHECK(s);
	int ok;
	put_n(s, 1000, &ok);
	CHECK(ok);
	CHECK_EQ_INT(wn_spool_count(s), 1000);
	CHECK(!wn_spool_on_disk(s));
	check_back(s, 1000, &ok);
	CHECK(ok);
	check_back(s, 1000, &ok); /* a second pass */
	CHECK(ok);
	wn_spool_free(s);
}

static void test_records_on_disk(void)
{
	char err[256];
	wn_spool *s = wn_spool_new(4096, err, sizeof err); /* spills after ~80 records */
	CHECK(s);
	int ok;
	put_n(s, 50000, &ok);
	CHECK(ok);
	CHECK(wn_spool_on_disk(s));
	check_back(s, 50000, &ok);
	CHECK(ok);
	check_back(s, 50000, &ok);
	CHECK(ok);
	wn_spool_free(s);
}

static void test_bytes_copy_out(void)
{
	char err[256], path[] = "/tmp/winnow-test-spool.XXXXXX";
	wn_spool *s = wn_spool_new(1000, err, sizeof err);
	CHECK(s);
	unsigned long long sum = 0;
	for (int i = 0; i < 3000; i++) {
		char c = (char)('a' + i % 26);
		CHECK(wn_spool_write(s, &c, 1, err, sizeof err) == 0);
		sum += (unsigned char)c;
	}
	CHECK(wn_spool_on_disk(s));
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	unlink(path);
	CHECK(wn_spool_copy_to_fd(s, fd, err, sizeof err) == 0);
	char back[4000];
	CHECK_EQ_INT(pread(fd, back, sizeof back, 0), 3000);
	close(fd);
	unsigned long long sum2 = 0;
	for (int i = 0; i < 3000; i++) {
		CHECK(back[i] == (char)('a' + i % 26));
		sum2 += (unsigned char)back[i];
	}
	CHECK(sum == sum2);
	wn_spool_free(s);
}

static void test_no_tmpdir_says_why(void)
{
	char err[256] = "";
	const char *old = getenv("TMPDIR");
	char *saved = old ? strdup(old) : NULL;
	setenv("TMPDIR", "/nonexistent-winnow-dir", 1);
	wn_spool *s = wn_spool_new(16, err, sizeof err);
	CHECK(s);
	int rc = wn_spool_write(s, "0123456789abcdefghij", 20, err, sizeof err);
	if (saved) {
		setenv("TMPDIR", saved, 1);
		free(saved);
	} else {
		unsetenv("TMPDIR");
	}
	CHECK_EQ_INT(rc, -1);
	CHECK(strstr(err, "/nonexistent-winnow-dir") != NULL);
	CHECK(strstr(err, "No such file or directory") != NULL);
	wn_spool_free(s);
}

/* The spool's temporary file, as cluster/minhash.c also takes it: unlinked
 * from the start, usable, and a failure names what and where. */
static void test_tmpfile(void)
{
	char err[256] = "";
	int fd = wn_tmpfile_open("temporary file", err, sizeof err);
	CHECK(fd >= 0);
	struct stat st;
	CHECK(fstat(fd, &st) == 0);
	CHECK_EQ_INT((int)st.st_nlink, 0);
	CHECK(write(fd, "abc", 3) == 3);
	char b[3];
	CHECK(pread(fd, b, 3, 0) == 3 && !memcmp(b, "abc", 3));
	close(fd);
	const char *old = getenv("TMPDIR");
	char *saved = old ? strdup(old) : NULL;
	setenv("TMPDIR", "/nonexistent-winnow-dir", 1);
	CHECK_STR(wn_tmp_dir(), "/nonexistent-winnow-dir");
	fd = wn_tmpfile_open("temporary file", err, sizeof err);
	if (saved) {
		setenv("TMPDIR", saved, 1);
		free(saved);
	} else {
		unsetenv("TMPDIR");
	}
	CHECK_EQ_INT(fd, -1);
	CHECK_STR(err, "cannot create a temporary file in /nonexistent-winnow-dir: No such file or "
		       "directory");
	setenv("TMPDIR", "", 1);
	CHECK_STR(wn_tmp_dir(), "/tmp");
	if (old)
		setenv("TMPDIR", old, 1);
	else
		unsetenv("TMPDIR");
}

int main(void)
{
	unsetenv("WINNOW_SPOOL_MEM");
	RUN(test_records_in_memory);
	RUN(test_records_on_disk);
	RUN(test_bytes_copy_out);
	RUN(test_no_tmpdir_says_why);
	RUN(test_tmpfile);
	return TEST_EXIT;
}
