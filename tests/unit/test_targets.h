/*
 * tests/unit/test_targets.h — output targets for the tests of io/atomic and
 * its users (io/writer, embed/npy, embed/hash_embed): character devices,
 * FIFOs with a reader process, file modes, a file-size limit that plays a
 * full disk, stdout moved onto a file.
 *
 * Character devices: as root, a private node made with mknod in the test's
 * own directory (1:3 is /dev/null, 1:7 is /dev/full: the same devices under
 * another name), so that a writer that wrongly renames over its target
 * replaces our node, never the machine's /dev/null. Without root (or
 * without mknod) the real /dev/null and /dev/full are used; a non-root
 * process cannot replace those.
 */
#ifndef WN_TEST_TARGETS_H
#define WN_TEST_TARGETS_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* A character device 1:minor (3 = null, 7 = full) at out. */
static inline void tt_chardev(const char *dir, const char *name, int minor, char *out, size_t cap)
{
	snprintf(out, cap, "%s/%s", dir, name);
	if (geteuid() == 0 && mknod(out, S_IFCHR | 0666, makedev(1, minor)) == 0)
		return;
	snprintf(out, cap, "%s", minor == 7 ? "/dev/full" : "/dev/null");
}

static inline int tt_lstat_type(const char *path)
{
	struct stat st;
	return lstat(path, &st) ? -1 : (int)(st.st_mode & S_IFMT);
}

static inline int tt_mode(const char *path)
{
	struct stat st;
	return stat(path, &st) ? -1 : (int)(st.st_mode & 07777);
}

/* Whole file into buf (NUL-terminated); bytes read, or -1. */
static inline long tt_slurp(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, cap - 1, f);
	fclose(f);
	buf[n] = 0;
	return (long)n;
}

static inline int tt_put_file(const char *path, const char *text, int mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) && chmod(path, (mode_t)mode) == 0 ? 0 : -1;
}

/* Count the entries of dir whose name starts with prefix. */
static inline int tt_count_prefix(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	int n = 0;
	for (struct dirent *e; d && (e = readdir(d));)
		n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
	if (d)
		closedir(d);
	return d ? n : -1;
}

/* A child that copies the FIFO into `copy` (it gives up after 5 s). */
static inline pid_t tt_fifo_reader(const char *fifo, const char *copy)
{
	pid_t pid = fork();
	if (pid)
		return pid;
	alarm(5);
	int in = open(fifo, O_RDONLY), out = open(copy, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	char buf[4096];
	ssize_t n;
	while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof buf)) > 0)
		if (write(out, buf, (size_t)n) != n)
			_exit(2);
	_exit(in >= 0 && out >= 0 ? 0 : 1);
}

/* Wait for the reader (killed at once when the FIFO has been replaced): 1 if it read to EOF. */
static inline int tt_fifo_done(pid_t pid, const char *fifo)
{
	int st;
	if (tt_lstat_type(fifo) != S_IFIFO)
		kill(pid, SIGKILL);
	return waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* Files may grow to `bytes` (a full disk without root); returns the old soft limit. */
static inline rlim_t tt_limit_fsize(rlim_t bytes)
{
	struct rlimit rl;
	getrlimit(RLIMIT_FSIZE, &rl);
	rlim_t old = rl.rlim_cur;
	signal(SIGXFSZ, SIG_IGN); /* writes past the limit fail with EFBIG instead */
	rl.rlim_cur = bytes;
	setrlimit(RLIMIT_FSIZE, &rl);
	return old;
}

static inline void tt_unlimit_fsize(rlim_t old)
{
	struct rlimit rl;
	getrlimit(RLIMIT_FSIZE, &rl);
	rl.rlim_cur = old;
	setrlimit(RLIMIT_FSIZE, &rl);
}

/* Point fd 1 at path (opened with flags); returns the saved stdout. */
static inline int tt_stdout_to(const char *path, int flags)
{
	fflush(stdout);
	int saved = dup(1), fd = open(path, flags, 0644);
	if (fd < 0 || saved < 0)
		return -1;
	dup2(fd, 1);
	close(fd);
	return saved;
}

static inline void tt_stdout_back(int saved)
{
	if (saved < 0)
		return;
	dup2(saved, 1);
	close(saved);
}

#endif
