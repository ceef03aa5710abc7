/*
 * tests/unit/test_writer.c — io/writer's output targets and failures.
 *
 * -o onto a character device (a /dev/null and a /dev/full, see
 * test_targets.h) leaves it a character device and says "No space left on
 * device"; onto a FIFO the reader gets the bytes at commit and nothing on
 * abort, and the FIFO stays; a symlink (chained, relative, dangling) is
 * followed and stays a link; a replaced file keeps its mode; a directory is
 * refused at open. --stream keeps records whole: abort writes the complete
 * records, and a write that fails half way into a regular file (a file-size
 * limit plays the full disk) is cut back to the last whole record, with the
 * count of records written and the reason. All-or-nothing stdout that is a
 * regular file is truncated back when its commit fails, and a spool that
 * cannot spill names its directory. Expected values come from the bytes
 * written by hand and from stat(2).
 */
#include "io/record.h"

#include <stdlib.h>

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

static int write_lines(wn_writer *w, int n)
{
	char line[64];
	for (int i = 0; i < n; i++) {
		int k = snprintf(line, sizeof line, "{\"i\":%d}", i);
		if (wn_writer_line(w, line, (size_t)k))
			return -1;
	}
	return 0;
}

static const char three[] = "{\"i\":0}\n{\"i\":1}\n{\"i\":2}\n";

static void test_char_devices_stay(void)
{
	char null[512], full[512], err[256];
	tt_chardev(dir, "null", 3, null, sizeof null);
	tt_chardev(dir, "full", 7, full, sizeof full);
	wn_writer *w = wn_writer_open(null, 0, err, sizeof err);
	CHECK(w);
	CHECK_EQ_INT(write_lines(w, 3), 0);
	CHECK_EQ_INT(wn_writer_commit(w, err, sizeof err), 0);
	CHECK_EQ_INT(tt_lstat_type(null), S_IFCHR);

	w = wn_writer_open(full, 0, err, sizeof err);
	CHECK(w);
	CHECK_EQ_INT(write_lines(w, 3), 0);
	CHECK_EQ_INT(wn_writer_commit(w, err, sizeof err), -1);
	char want[600];
	snprintf(want, sizeof want, "%s: No space left on device", full);
	CHECK_STR(err, want);
	CHECK_EQ_INT(tt_lstat_type(full), S_IFCHR);
	CHECK_EQ_INT(tt_count_prefix(dir, "full.tmp"), 0);
}

static void test_fifo_gets_bytes_at_commit(void)
{
	char err[256], got[256];
	const char *fifo = tp("fifo1"), *copy = tp("fifo1.copy");
	CHECK_EQ_INT(mkfifo(fifo, 0644), 0);
	pid_t pid = tt_fifo_reader(fifo, copy);
	wn_writer *w = wn_writer_open(fifo, 0, err, sizeof err);
	int wrote = w && !write_lines(w, 3) && !wn_writer_commit(w, err, sizeof err);
	int read_ok = tt_fifo_done(pid, fifo);
	CHECK(wrote);
	CHECK(read_ok);
	CHECK_EQ_INT(tt_lstat_type(fifo), S_IFIFO);
	CHECK_EQ_INT(tt_slurp(copy, got, sizeof got), (long)strlen(three));
	CHECK_STR(got, three);
}

static void test_fifo_abort_writes_nothing(void)
{
	char err[256], got[256];
	const char *fifo = tp("fifo2"), *copy = tp("fifo2.copy");
	CHECK_EQ_INT(mkfifo(fifo, 0644), 0);
	pid_t pid = tt_fifo_reader(fifo, copy);
	wn_writer *w = wn_writer_open(fifo, 0, err, sizeof err);
	int wrote = w && !write_lines(w, 3);
	wn_writer_abort(w);
	int read_ok = tt_fifo_done(pid, fifo);
	CHECK(wrote);
	CHECK(read_ok);
	CHECK_EQ_INT(tt_lstat_type(fifo), S_IFIFO);
	CHECK_EQ_INT(tt_slurp(copy, got, sizeof got), 0);
}

/* -o LINK: the link's target gets the output, the link stays a link. */
static int through_link(const char *link, const char *target)
{
	char err[256], got[256];
	wn_writer *w = wn_writer_open(link, 0, err, sizeof err);
	if (!w || write_lines(w, 3) || wn_writer_commit(w, err, sizeof err))
		return 0;
	return tt_lstat_type(link) == S_IFLNK && tt_slurp(target, got, sizeof got) > 0 &&
	       !strcmp(got, three);
}

static void test_symlinks_followed(void)
{
	CHECK_EQ_INT(mkdir(tp("sub"), 0755), 0);
	CHECK_EQ_INT(tt_put_file(tp("sub/real"), "old\n", 0644), 0);
	CHECK_EQ_INT(symlink("sub/real", tp("rel")), 0);   /* relative to its own directory */
	CHECK_EQ_INT(symlink("rel", tp("chain")), 0);      /* a link to a link */
	CHECK_EQ_INT(symlink(tp("sub/new"), tp("dangling")), 0);
	CHECK(through_link(tp("rel"), tp("sub/real")));
	CHECK_EQ_INT(tt_put_file(tp("sub/real"), "old\n", 0644), 0);
	CHECK(through_link(tp("chain"), tp("sub/real")));
	CHECK(through_link(tp("dangling"), tp("sub/new")));
	char text[64];
	ssize_t n = readlink(tp("chain"), text, sizeof text);
	CHECK(n == 3 && !memcmp(text, "rel", 3));
	CHECK_EQ_INT(tt_count_prefix(dir, "rel.tmp"), 0);
	CHECK_EQ_INT(tt_count_prefix(tp("sub"), "real.tmp"), 0);
}

static void test_modes(void)
{
	char err[256];
	CHECK_EQ_INT(tt_put_file(tp("secret"), "old\n", 0600), 0);
	wn_writer *w = wn_writer_open(tp("secret"), 0, err, sizeof err);
	CHECK(w);
	CHECK_EQ_INT(write_lines(w, 3), 0);
	CHECK_EQ_INT(wn_writer_commit(w, err, sizeof err), 0);
	CHECK_EQ_INT(tt_mode(tp("secret")), 0600);

	CHECK_EQ_INT(tt_put_file(tp("shared"), "old\n", 0664), 0);
	w = wn_writer_open(tp("shared"), 0, err, sizeof err);
	CHECK(w);
	CHECK_EQ_INT(wn_writer_commit(w, err, sizeof err), 0);
	CHECK_EQ_INT(tt_mode(tp("shared")), 0664);

	mode_t old = umask(027);
	w = wn_writer_open(tp("fresh"), 0, err, sizeof err);
	umask(old);
	CHECK(w);
	CHECK_EQ_INT(wn_writer_commit(w, err, sizeof err), 0);
	CHECK_EQ_INT(tt_mode(tp("fresh")), 0640);
}

static void test_directory_refused(void)
{
	char err[256], want[600];
	CHECK_EQ_INT(mkdir(tp("adir"), 0755), 0);
	err[0] = 0;
	wn_writer *w = wn_writer_open(tp("adir"), 0, err, sizeof err);
	wn_writer_abort(w);
	CHECK(w == NULL);
	snprintf(want, sizeof want, "%s: Is a directory", tp("adir"));
	CHECK_STR(err, want);
	CHECK_EQ_INT(tt_count_prefix(dir, "adir.tmp"), 0);
}

static void test_stream_abort_writes_whole_records(void)
{
	char got[256];
	int saved = tt_stdout_to(tp("stream1"), O_WRONLY | O_CREAT | O_TRUNC);
	CHECK(saved >= 0);
	char err[256];
	wn_writer *w = wn_writer_open(NULL, 1, err, sizeof err);
	int ok = w && !write_lines(w, 3) && !wn_writer_write(w, "{\"torn\":", 8);
	wn_writer_abort(w);
	tt_stdout_back(saved);
	CHECK(ok);
	CHECK_EQ_INT(tt_slurp(tp("stream1"), got, sizeof got), (long)strlen(three));
	CHECK_STR(got, three);
}

/* n lines of exactly 128 bytes, '\n' included. */
static int write_wide(wn_writer *w, int n, int *failed_at)
{
	char line[128];
	memset(line, 'x', sizeof line);
	for (int i = 0; i < n; i++) {
		memcpy(line, "{\"x\":\"", 6);
		memcpy(line + 125, "\"}", 2);
		if (wn_writer_line(w, line, 127)) {
			*failed_at = i;
			return -1;
		}
	}
	return 0;
}

static void test_stream_full_disk_cuts_back(void)
{
	static char got[400000];
	char err[256];
	int saved = tt_stdout_to(tp("stream2"), O_WRONLY | O_CREAT | O_TRUNC);
	CHECK(saved >= 0);
	rlim_t old = tt_limit_fsize(300000); /* not a multiple of 128 */
	wn_writer *w = wn_writer_open(NULL, 1, err, sizeof err);
	int failed_at = -1;
	int rc = w ? write_wide(w, 20000, &failed_at) : 0;
	uint64_t written = w ? wn_writer_lines_written(w) : 0;
	char why[256];
	snprintf(why, sizeof why, "%s", w ? wn_writer_error(w) : "");
	int frc = w ? wn_writer_finish(w, 0, err, sizeof err) : 0;
	wn_writer_free(w);
	tt_unlimit_fsize(old);
	tt_stdout_back(saved);
	CHECK(w);
	CHECK_EQ_INT(rc, -1);
	CHECK_STR(why, "<stdout>: File too large");
	CHECK_EQ_INT(frc, -1);
	CHECK_STR(err, "<stdout>: File too large");
	long n = tt_slurp(tp("stream2"), got, sizeof got);
	CHECK_EQ_INT(n, 300000 / 128 * 128);
	CHECK_EQ_INT(written, (uint64_t)n / 128);
	CHECK(got[n - 1] == '\n');
}

static void test_stream_counts(void)
{
	char err[256];
	int saved = tt_stdout_to(tp("stream3"), O_WRONLY | O_CREAT | O_TRUNC);
	CHECK(saved >= 0);
	wn_writer *w = wn_writer_open("-", 1, err, sizeof err);
	int ok = w && !write_lines(w, 5);
	uint64_t before = w ? wn_writer_lines_written(w) : 99;
	int frc = w ? wn_writer_finish(w, 1, err, sizeof err) : -1;
	uint64_t after = w ? wn_writer_lines_written(w) : 0;
	wn_writer_free(w);
	tt_stdout_back(saved);
	CHECK(ok);
	CHECK_EQ_INT(before, 0); /* still in the buffer */
	CHECK_EQ_INT(frc, 0);
	CHECK_EQ_INT(after, 5);
}

static void test_stream_device_error_reason(void)
{
	char full[512], err[256];
	tt_chardev(dir, "full2", 7, full, sizeof full);
	int saved = tt_stdout_to(full, O_WRONLY);
	CHECK(saved >= 0);
	wn_writer *w = wn_writer_open(NULL, 1, err, sizeof err);
	int failed_at = -1;
	int rc = w ? write_wide(w, 20000, &failed_at) : 0;
	char why[256];
	snprintf(why, sizeof why, "%s", w ? wn_writer_error(w) : "");
	uint64_t written = w ? wn_writer_lines_written(w) : 99;
	wn_writer_abort(w);
	tt_stdout_back(saved);
	CHECK_EQ_INT(rc, -1);
	CHECK(failed_at > 0 && failed_at < 20000);
	CHECK_STR(why, "<stdout>: No space left on device");
	CHECK_EQ_INT(written, 0);
}

static void test_stdout_commit_failure_leaves_file_as_it_was(void)
{
	static char got[400000];
	char err[256];
	CHECK_EQ_INT(tt_put_file(tp("stdout1"), "keep\n", 0644), 0);
	int saved = tt_stdout_to(tp("stdout1"), O_WRONLY | O_APPEND);
	CHECK(saved >= 0);
	rlim_t old = tt_limit_fsize(300000);
	wn_writer *w = wn_writer_open(NULL, 0, err, sizeof err);
	int failed_at = -1;
	int rc = w ? write_wide(w, 20000, &failed_at) : -1;
	int frc = w ? wn_writer_finish(w, 1, err, sizeof err) : 0;
	uint64_t written = w ? wn_writer_lines_written(w) : 99;
	wn_writer_free(w);
	tt_unlimit_fsize(old);
	tt_stdout_back(saved);
	CHECK_EQ_INT(rc, 0); /* spooled: nothing failed before the commit */
	CHECK_EQ_INT(frc, -1);
	CHECK_STR(err, "<stdout>: File too large");
	CHECK_EQ_INT(written, 0);
	CHECK_EQ_INT(tt_slurp(tp("stdout1"), got, sizeof got), 5);
	CHECK(!memcmp(got, "keep\n", 5));
}

static void test_spool_failure_names_its_directory(void)
{
	char err[256], want[600];
	setenv("WINNOW_SPOOL_MEM", "1000", 1);
	setenv("TMPDIR", tp("no-such-dir"), 1);
	wn_writer *w = wn_writer_open(NULL, 0, err, sizeof err);
	int failed_at = -1;
	int rc = w ? write_wide(w, 3000, &failed_at) : 0; /* past io/atomic's 256 KiB buffer */
	char why[256];
	snprintf(why, sizeof why, "%s", w ? wn_writer_error(w) : "");
	wn_writer_abort(w);
	unsetenv("WINNOW_SPOOL_MEM");
	unsetenv("TMPDIR");
	CHECK(w);
	CHECK_EQ_INT(rc, -1);
	snprintf(want, sizeof want, "cannot create a spool in %s: No such file or directory", tp("no-such-dir"));
	CHECK_STR(why, want);
}

static void test_file_counts(void)
{
	char err[256], full[512];
	wn_writer *w = wn_writer_open(tp("counted"), 0, err, sizeof err);
	CHECK(w);
	CHECK_EQ_INT(write_lines(w, 4), 0);
	CHECK_EQ_INT(wn_writer_lines_written(w), 0);
	CHECK_EQ_INT(wn_writer_finish(w, 1, err, sizeof err), 0);
	CHECK_EQ_INT(wn_writer_lines_written(w), 4);
	CHECK_EQ_INT(wn_writer_lines(w), 4);
	wn_writer_free(w);

	tt_chardev(dir, "full3", 7, full, sizeof full);
	w = wn_writer_open(full, 0, err, sizeof err);
	CHECK(w);
	CHECK_EQ_INT(write_lines(w, 4), 0);
	CHECK_EQ_INT(wn_writer_finish(w, 1, err, sizeof err), -1);
	CHECK_EQ_INT(wn_writer_lines_written(w), 0);
	CHECK(strstr(wn_writer_error(w), "No space left on device") != NULL);
	wn_writer_free(w);
}

int main(void)
{
	snprintf(dir, sizeof dir, "%s/wn_writer_XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir))
		return 1;
	signal(SIGPIPE, SIG_IGN);
	RUN(test_char_devices_stay);
	RUN(test_fifo_gets_bytes_at_commit);
	RUN(test_fifo_abort_writes_nothing);
	RUN(test_symlinks_followed);
	RUN(test_modes);
	RUN(test_directory_refused);
	RUN(test_stream_abort_writes_whole_records);
	RUN(test_stream_full_disk_cuts_back);
	RUN(test_stream_counts);
	RUN(test_stream_device_error_reason);
	RUN(test_stdout_commit_failure_leaves_file_as_it_was);
	RUN(test_spool_failure_names_its_directory);
	RUN(test_file_counts);
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return 1;
	return TEST_EXIT;
}
