/*
 * tests/unit/test_io_slurp.c — the whole-small-file reader (io/slurp.h):
 * exact bytes back (NUL-terminated, embedded NULs kept), an empty file, a
 * file exactly at the cap and one byte over it, a missing file, a
 * directory, and a pipe that is larger than the first 4 KiB buffer.
 *
 * Borrows: the file system and the bytes this test writes as the outside
 * reference; strerror(3) for the expected message text.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/slurp.h"
#include "tests/unit/test.h"

static char tmpdir[64];

static const char *tpath(const char *name)
{
	static char p[256];
	snprintf(p, sizeof p, "%s/%s", tmpdir, name);
	return p;
}

static void put(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (f) {
		fwrite(p, 1, n, f);
		fclose(f);
	}
}

static void test_exact_content(void)
{
	static const char want[] = "line one\n\0two\r\n";
	put(tpath("a"), want, sizeof want - 1);
	size_t len = 99;
	char err[256] = "";
	char *got = wn_slurp(tpath("a"), 1024, NULL, &len, err, sizeof err);
	CHECK(got != NULL);
	CHECK_EQ_INT(len, sizeof want - 1);
	CHECK(memcmp(got, want, len) == 0);
	CHECK_EQ_INT(got[len], 0);
	CHECK_STR(err, "");
	free(got);
}

static void test_empty_file(void)
{
	put(tpath("empty"), "", 0);
	size_t len = 99;
	char *got = wn_slurp(tpath("empty"), 16, NULL, &len, NULL, 0);
	CHECK(got != NULL);
	CHECK_EQ_INT(len, 0);
	CHECK_EQ_INT(got[0], 0);
	free(got);
}

static void test_at_cap_and_over(void)
{
	char big[10001];
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (char)('a' + i % 26);
	put(tpath("cap"), big, 10000);
	size_t len = 0;
	char err[256] = "", want[300];
	char *got = wn_slurp(tpath("cap"), 10000, "too big", &len, err, sizeof err);
	CHECK(got != NULL);
	CHECK_EQ_INT(len, 10000);
	CHECK(memcmp(got, big, 10000) == 0);
	free(got);
	put(tpath("cap"), big, 10001);
	errno = 0;
	CHECK(wn_slurp(tpath("cap"), 10000, "too big", &len, err, sizeof err) == NULL);
	CHECK_EQ_INT(errno, EFBIG);
	snprintf(want, sizeof want, "%s: too big", tpath("cap"));
	CHECK_STR(err, want);
	CHECK(wn_slurp(tpath("cap"), 10000, NULL, &len, err, sizeof err) == NULL);
	snprintf(want, sizeof want, "%s: larger than 10000 bytes", tpath("cap"));
	CHECK_STR(err, want);
}

static void test_missing_file(void)
{
	size_t len = 7;
	char err[256] = "", want[300];
	errno = 0;
	CHECK(wn_slurp(tpath("nope"), 64, "too big", &len, err, sizeof err) == NULL);
	CHECK_EQ_INT(errno, ENOENT);
	CHECK_EQ_INT(len, 7);
	snprintf(want, sizeof want, "%s: No such file or directory", tpath("nope"));
	CHECK_STR(err, want);
}

static void test_directory(void)
{
	size_t len;
	char err[256] = "", want[300];
	CHECK(wn_slurp(tmpdir, 64, NULL, &len, err, sizeof err) == NULL);
	CHECK_EQ_INT(errno, EISDIR);
	snprintf(want, sizeof want, "%s: %s", tmpdir, strerror(EISDIR));
	CHECK_STR(err, want);
}

/* A pipe has no size to ask for: the buffer must grow past its first 4 KiB. */
static void test_pipe(void)
{
	int fd[2];
	CHECK(pipe(fd) == 0);
	static char data[9000];
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (char)(i * 7);
	CHECK(write(fd[1], data, sizeof data) == (ssize_t)sizeof data);
	close(fd[1]);
	char path[64];
	snprintf(path, sizeof path, "/dev/fd/%d", fd[0]);
	size_t len = 0;
	char *got = wn_slurp(path, 1 << 20, NULL, &len, NULL, 0);
	close(fd[0]);
	CHECK(got != NULL);
	CHECK_EQ_INT(len, sizeof data);
	CHECK(memcmp(got, data, len) == 0);
	free(got);
}

int main(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/wn-slurp-XXXXXX");
	if (!mkdtemp(tmpdir))
		return 2;
	RUN(test_exact_content);
	RUN(test_empty_file);
	RUN(test_at_cap_and_over);
	RUN(test_missing_file);
	RUN(test_directory);
	RUN(test_pipe);
	const char *names[] = {"a", "empty", "cap"};
	for (size_t i = 0; i < 3; i++)
		unlink(tpath(names[i]));
	rmdir(tmpdir);
	return TEST_EXIT;
}
