/*
 * tests/unit/test_io_cleanup.c — the signal cleanup list (io/cleanup.h):
 * what is registered is unlinked and nothing else, add/remove/create
 * bookkeeping and limits, and the handlers in a forked child: SIGTERM,
 * SIGINT and SIGHUP unlink the registered files and the child still dies
 * of that signal (as the kernel reports it), an ignored signal stays
 * ignored, a handler installed before is kept, and a signal handled on
 * another thread than the registering one works too.
 *
 * Borrows: POSIX (fork, waitpid, pthreads) and the file system as the
 * outside reference: a file exists or it does not.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io/cleanup.h"
#include "tests/unit/test.h"

static char tmpdir[64];

static const char *tpath(const char *name)
{
	static char p[8][256];
	static int k;
	k = (k + 1) % 8;
	snprintf(p[k], sizeof p[k], "%s/%s", tmpdir, name);
	return p[k];
}

static int exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

static int touch(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return -1;
	return close(fd);
}

static void test_run_unlinks_only_what_is_registered(void)
{
	const char *a = tpath("a"), *b = tpath("b"), *c = tpath("c");
	CHECK(touch(a) == 0 && touch(b) == 0 && touch(c) == 0);
	CHECK_EQ_INT(wn_cleanup_add(a), 0);
	CHECK_EQ_INT(wn_cleanup_add(b), 0);
	wn_cleanup_remove(b);
	wn_cleanup_remove(tpath("never-added")); /* no effect */
	CHECK_EQ_INT(wn_cleanup_run(), 1);
	CHECK(!exists(a));
	CHECK(exists(b));
	CHECK(exists(c));
	/* run forgets what it unlinked: a file made again under that name stays */
	CHECK(touch(a) == 0);
	CHECK_EQ_INT(wn_cleanup_run(), 0);
	CHECK(exists(a));
	unlink(a);
	unlink(b);
	unlink(c);
}

static void test_add_twice_needs_two_removes(void)
{
	const char *a = tpath("twice");
	CHECK(touch(a) == 0);
	CHECK_EQ_INT(wn_cleanup_add(a), 0);
	CHECK_EQ_INT(wn_cleanup_add(a), 0);
	wn_cleanup_remove(a);
	CHECK_EQ_INT(wn_cleanup_run(), 1);
	CHECK(!exists(a));
	wn_cleanup_remove(a);
}

static void test_limits(void)
{
	char longp[PATH_MAX + 8];
	memset(longp, 'x', sizeof longp - 1);
	longp[sizeof longp - 1] = 0;
	errno = 0;
	CHECK_EQ_INT(wn_cleanup_add(longp), -1);
	CHECK_EQ_INT(errno, ENAMETOOLONG);
	char name[WN_CLEANUP_MAX][32];
	for (int i = 0; i < WN_CLEANUP_MAX; i++) {
		snprintf(name[i], sizeof name[i], "slot-%d", i);
		CHECK_EQ_INT(wn_cleanup_add(name[i]), 0);
	}
	errno = 0;
	int full = wn_cleanup_add("one-too-many");
	int e = errno;
	for (int i = 0; i < WN_CLEANUP_MAX; i++)
		wn_cleanup_remove(name[i]);
	CHECK_EQ_INT(full, -1);
	CHECK_EQ_INT(e, ENOSPC);
	CHECK_EQ_INT(wn_cleanup_add("after-removal"), 0);
	wn_cleanup_remove("after-removal");
	CHECK_EQ_INT(wn_cleanup_run(), 0);
}

/* create: O_EXCL, so someone else's file is refused and never registered */
static void test_create_is_exclusive(void)
{
	const char *mine = tpath("mine"), *theirs = tpath("theirs");
	CHECK(touch(theirs) == 0);
	errno = 0;
	CHECK_EQ_INT(wn_cleanup_create(theirs, 0600), -1);
	CHECK_EQ_INT(errno, EEXIST);
	int fd = wn_cleanup_create(mine, 0600);
	CHECK(fd >= 0);
	CHECK_EQ_INT(write(fd, "x", 1), 1);
	close(fd);
	CHECK(exists(mine));
	CHECK_EQ_INT(wn_cleanup_run(), 1);
	CHECK(!exists(mine));
	CHECK(exists(theirs));
	unlink(theirs);
}

struct child_res {
	int signaled, sig, code;
};

/* Fork; the child runs fn(arg) and _exit()s with its return value. */
static struct child_res in_child(int (*fn)(void *), void *arg)
{
	struct child_res r = {0, 0, -1};
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0)
		_exit(fn(arg));
	int st;
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return r;
	r.signaled = WIFSIGNALED(st);
	r.sig = r.signaled ? WTERMSIG(st) : 0;
	r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	return r;
}

/* Child: install, register a created file and an added one, raise. */
static int child_raise(void *arg)
{
	int sig = *(int *)arg;
	/* a test run started in the background inherits SIGINT ignored, and
	 * the handlers rightly keep an ignored signal ignored: start from the
	 * default, as an interactive run does */
	signal(sig, SIG_DFL);
	if (wn_cleanup_install_signals())
		return 10;
	int fd = wn_cleanup_create(tpath("sig-created"), 0644);
	if (fd < 0 || touch(tpath("sig-added")) || wn_cleanup_add(tpath("sig-added")))
		return 11;
	raise(sig);
	return 12; /* not reached when the signal kills */
}

static void test_signals_unlink_then_kill(void)
{
	const int sigs[] = {SIGTERM, SIGINT, SIGHUP};
	for (int i = 0; i < 3; i++) {
		int sig = sigs[i];
		CHECK(touch(tpath("bystander")) == 0);
		struct child_res r = in_child(child_raise, &sig);
		CHECK(r.signaled);
		CHECK_EQ_INT(r.sig, sig);
		CHECK(!exists(tpath("sig-created")));
		CHECK(!exists(tpath("sig-added")));
		CHECK(exists(tpath("bystander")));
	}
	unlink(tpath("bystander"));
}

/* Child: SIGHUP ignored before installing (nohup) stays ignored. */
static int child_ignored(void *arg)
{
	signal(SIGHUP, SIG_IGN);
	if (wn_cleanup_install_signals() || touch(tpath("ign")) || wn_cleanup_add(tpath("ign")))
		return 10;
	raise(SIGHUP);
	return 7;
}

static volatile sig_atomic_t own_handler_ran;
static void own_handler(int sig)
{
	own_handler_ran = sig;
}

/* Child: a handler installed before is kept (and ours is not added). */
static int child_own_handler(void *arg)
{
	signal(SIGTERM, own_handler);
	if (wn_cleanup_install_signals() || touch(tpath("own")) || wn_cleanup_add(tpath("own")))
		return 10;
	raise(SIGTERM);
	return own_handler_ran == SIGTERM ? 8 : 9;
}

static void test_ignored_and_foreign_handlers_are_kept(void)
{
	struct child_res r = in_child(child_ignored, NULL);
	CHECK(!r.signaled);
	CHECK_EQ_INT(r.code, 7);
	CHECK(exists(tpath("ign")));
	r = in_child(child_own_handler, NULL);
	CHECK(!r.signaled);
	CHECK_EQ_INT(r.code, 8);
	CHECK(exists(tpath("own")));
	unlink(tpath("ign"));
	unlink(tpath("own"));
}

static void *signal_from_thread(void *arg)
{
	/* this thread takes the signal: the registering one blocks it (and
	 * a new thread starts with its creator's mask) */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	kill(getpid(), SIGTERM);
	return NULL;
}

/* Child: main registers and blocks SIGTERM; another thread is killed. */
static int child_thread(void *arg)
{
	if (wn_cleanup_install_signals() || touch(tpath("thr")) || wn_cleanup_add(tpath("thr")))
		return 10;
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	pthread_t t;
	if (pthread_create(&t, NULL, signal_from_thread, NULL))
		return 11;
	pthread_join(t, NULL);
	sleep(5); /* the process dies before this ends */
	return 12;
}

static void test_signal_on_another_thread(void)
{
	struct child_res r = in_child(child_thread, NULL);
	CHECK(r.signaled);
	CHECK_EQ_INT(r.sig, SIGTERM);
	CHECK(!exists(tpath("thr")));
}

int main(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/wn_test_cleanup_XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_run_unlinks_only_what_is_registered);
	RUN(test_add_twice_needs_two_removes);
	RUN(test_limits);
	RUN(test_create_is_exclusive);
	RUN(test_signals_unlink_then_kill);
	RUN(test_ignored_and_foreign_handlers_are_kept);
	RUN(test_signal_on_another_thread);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	return TEST_EXIT;
}
