/*
 * tests/unit/test_atomic.c — io/atomic, the one atomic output file.
 *
 * While a file is being written, exactly one PATH.tmp.XXXXXX exists beside
 * it and the old content is still in place; commit renames it, close
 * without commit removes it. A header can be rewritten in place (a file:
 * anywhere; a spooled target: inside the first WN_ATOMIC_HEAD bytes, and
 * refused past them). A spooled target gets nothing before commit. A
 * symlink loop is refused with the kernel's ELOOP text. Expected values
 * are the bytes written by hand and stat(2). wn_atomic_create_temp gives a
 * new "PATH.tmp.XXXXXX" each call, 0666 less the umask, on the cleanup list
 * (wn_cleanup_run removes exactly those), and ENOENT for a missing folder.
 */
#include "io/atomic.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/cleanup.h"

#include "test.h"
#include "test_targets.h"

static char dir[256];

static const char *tp(const char *name)
{
	static char bufs[8][512];
	static int i;
	char *b = bufs[i++ % 8];
	snprintf(b, 512, "%s/%s", dir, name);
	return b;
}

static void test_temp_beside_then_rename(void)
{
	char err[256], got[64];
	CHECK_EQ_INT(tt_put_file(tp("t"), "old\n", 0644), 0);
	wn_atomic *a = wn_atomic_open(tp("t"), err, sizeof err);
	CHECK(a);
	CHECK_EQ_INT(wn_atomic_spooled(a), 0);
	CHECK_EQ_INT(wn_atomic_write(a, "new\n", 4, err, sizeof err), 0);
	CHECK_EQ_INT(tt_count_prefix(dir, "t.tmp."), 1);
	CHECK_EQ_INT(tt_slurp(tp("t"), got, sizeof got), 4);
	CHECK_STR(got, "old\n"); /* nothing replaced before commit */
	CHECK_EQ_INT(wn_atomic_commit(a, err, sizeof err), 0);
	CHECK_EQ_INT(wn_atomic_bytes_out(a), 4);
	CHECK_EQ_INT(wn_atomic_lines_out(a), 1);
	wn_atomic_close(a);
	CHECK_EQ_INT(tt_count_prefix(dir, "t.tmp."), 0);
	CHECK_EQ_INT(tt_slurp(tp("t"), got, sizeof got), 4);
	CHECK_STR(got, "new\n");

	a = wn_atomic_open(tp("t"), err, sizeof err);
	CHECK(a);
	CHECK_EQ_INT(wn_atomic_write(a, "gone\n", 5, err, sizeof err), 0);
	wn_atomic_close(a); /* no commit */
	CHECK_EQ_INT(tt_count_prefix(dir, "t.tmp."), 0);
	CHECK_EQ_INT(tt_slurp(tp("t"), got, sizeof got), 4);
	CHECK_STR(got, "new\n");
}

static void test_rewrite_header(void)
{
	char err[256], got[8192];
	static char body[6000];
	memset(body, 'b', sizeof body);
	/* a file: anywhere already written */
	wn_atomic *a = wn_atomic_open(tp("h1"), err, sizeof err);
	CHECK(a);
	CHECK_EQ_INT(wn_atomic_write(a, body, sizeof body, err, sizeof err), 0);
	CHECK_EQ_INT(wn_atomic_pwrite(a, 0, "HEAD", 4, err, sizeof err), 0);
	CHECK_EQ_INT(wn_atomic_pwrite(a, 5000, "X", 1, err, sizeof err), 0);
	CHECK_EQ_INT(wn_atomic_commit(a, err, sizeof err), 0);
	wn_atomic_close(a);
	CHECK_EQ_INT(tt_slurp(tp("h1"), got, sizeof got), 6000);
	CHECK(!memcmp(got, "HEADbbbb", 8) && got[5000] == 'X' && got[4999] == 'b');

	/* a spooled target (here a file given as a descriptor): the head only */
	int fd = open(tp("h2"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0);
	a = wn_atomic_open_fd(fd, "h2", err, sizeof err);
	CHECK(a);
	CHECK_EQ_INT(wn_atomic_spooled(a), 1);
	CHECK_EQ_INT(wn_atomic_write(a, body, sizeof body, err, sizeof err), 0);
	CHECK_EQ_INT(wn_atomic_pwrite(a, 0, "HEAD", 4, err, sizeof err), 0);
	CHECK_EQ_INT(tt_slurp(tp("h2"), got, sizeof got), 0); /* nothing before commit */
	CHECK_EQ_INT(wn_atomic_pwrite(a, WN_ATOMIC_HEAD - 1, "XY", 2, err, sizeof err), -1);
	CHECK_STR(err, "h2: cannot rewrite past the start of an output that is not a regular file");
	CHECK_EQ_INT(wn_atomic_commit(a, err, sizeof err), -1); /* the failure sticks */
	wn_atomic_close(a);
	close(fd);
	CHECK_EQ_INT(tt_slurp(tp("h2"), got, sizeof got), 0);

	fd = open(tp("h3"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	a = wn_atomic_open_fd(fd, "h3", err, sizeof err);
	CHECK(a);
	CHECK_EQ_INT(wn_atomic_write(a, body, sizeof body, err, sizeof err), 0);
	CHECK_EQ_INT(wn_atomic_pwrite(a, 0, "HEAD", 4, err, sizeof err), 0);
	CHECK_EQ_INT(wn_atomic_commit(a, err, sizeof err), 0);
	wn_atomic_close(a);
	close(fd);
	CHECK_EQ_INT(tt_slurp(tp("h3"), got, sizeof got), 6000);
	CHECK(!memcmp(got, "HEADbbbb", 8) && got[5999] == 'b');
}

static void test_link_loop_refused(void)
{
	char err[256], want[600];
	CHECK_EQ_INT(symlink("loop", tp("loop")), 0);
	wn_atomic *a = wn_atomic_open(tp("loop"), err, sizeof err);
	wn_atomic_close(a);
	CHECK(a == NULL);
	snprintf(want, sizeof want, "%s: %s", tp("loop"), strerror(ELOOP));
	CHECK_STR(err, want);
}

static void test_missing_directory(void)
{
	char err[256], want[600];
	wn_atomic *a = wn_atomic_open(tp("no/such/file"), err, sizeof err);
	wn_atomic_close(a);
	CHECK(a == NULL);
	snprintf(want, sizeof want, "%s: No such file or directory", tp("no/such/file"));
	CHECK_STR(err, want);
}

static void test_create_temp(void)
{
	mode_t old = umask(027);
	char *t1 = NULL, *t2 = NULL;
	int fd1 = wn_atomic_create_temp(tp("c"), 0666, &t1);
	int fd2 = wn_atomic_create_temp(tp("c"), 0666, &t2);
	umask(old);
	CHECK(fd1 >= 0 && fd2 >= 0 && t1 && t2);
	if (!t1 || !t2)
		return;
	size_t n = strlen(tp("c"));
	CHECK(!strncmp(t1, tp("c"), n) && !strncmp(t1 + n, ".tmp.", 5));
	CHECK_EQ_INT(strlen(t1), n + 11);
	CHECK(strcmp(t1, t2) != 0);
	struct stat st;
	CHECK(stat(t1, &st) == 0 && (st.st_mode & 07777) == 0640);
	CHECK_EQ_INT(tt_count_prefix(dir, "c.tmp."), 2);
	close(fd1);
	close(fd2);
	CHECK_EQ_INT(wn_cleanup_run(), 2); /* both registered, nothing else */
	CHECK_EQ_INT(tt_count_prefix(dir, "c.tmp."), 0);
	free(t1);
	free(t2);

	char *t3 = (char *)"x";
	errno = 0;
	CHECK_EQ_INT(wn_atomic_create_temp(tp("no/such/c"), 0666, &t3), -1);
	CHECK_EQ_INT(errno, ENOENT);
	CHECK(t3 == NULL);
}

int main(void)
{
	snprintf(dir, sizeof dir, "%s/wn_atomic_XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir))
		return 1;
	RUN(test_temp_beside_then_rename);
	RUN(test_rewrite_header);
	RUN(test_link_loop_refused);
	RUN(test_missing_directory);
	RUN(test_create_temp);
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return 1;
	return TEST_EXIT;
}
