/*
 * io/cleanup.c — the process-wide list of files to unlink on a fatal
 * signal, and its handlers (see io/cleanup.h for the rules).
 *
 * The list is a fixed array of slots, each with its own path buffer and
 * an atomic state, so the handler needs no lock and no allocation:
 *   FREE  -> BUSY  -> ARMED   wn_cleanup_add (under `reg_mu`, which only
 *                             registering threads take)
 *   ARMED -> FREE             wn_cleanup_remove (under `reg_mu`)
 *   ARMED -> BUSY  -> FREE    wn_cleanup_run, in the handler or not
 * A slot's buffer is written only while it is BUSY by its registering
 * thread and read by the handler only after the handler itself moved the
 * slot from ARMED to BUSY, so the handler never reads a half-written
 * path, and a removal and the handler never both claim one entry.
 */
#include "io/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "the signal handler needs lock-free atomic int");

enum { SLOT_FREE = 0, SLOT_BUSY = 1, SLOT_ARMED = 2 };

struct slot {
	atomic_int state;
	char path[PATH_MAX];
};

static struct slot slots[WN_CLEANUP_MAX];
static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static atomic_int installed;

static const int fatal_signals[] = {SIGINT, SIGTERM, SIGHUP};
#define NFATAL ((int)(sizeof fatal_signals / sizeof fatal_signals[0]))

int wn_cleanup_add(const char *path)
{
	size_t n = strlen(path);
	if (n >= PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	pthread_mutex_lock(&reg_mu);
	for (int i = 0; i < WN_CLEANUP_MAX; i++) {
		int expect = SLOT_FREE;
		if (!atomic_compare_exchange_strong(&slots[i].state, &expect, SLOT_BUSY))
			continue;
		memcpy(slots[i].path, path, n + 1);
		atomic_store(&slots[i].state, SLOT_ARMED);
		pthread_mutex_unlock(&reg_mu);
		return 0;
	}
	pthread_mutex_unlock(&reg_mu);
	errno = ENOSPC;
	return -1;
}

void wn_cleanup_remove(const char *path)
{
	pthread_mutex_lock(&reg_mu);
	for (int i = 0; i < WN_CLEANUP_MAX; i++) {
		int expect = SLOT_ARMED;
		if (atomic_load(&slots[i].state) != SLOT_ARMED || strcmp(slots[i].path, path))
			continue;
		/* Fails only when the handler took the slot first: then the
		 * file is being unlinked and the process is about to die. */
		atomic_compare_exchange_strong(&slots[i].state, &expect, SLOT_FREE);
		break;
	}
	pthread_mutex_unlock(&reg_mu);
}

/* This thread's fatal signals blocked (old mask in *old), or unblocked. */
static void block_fatal(sigset_t *old)
{
	sigset_t set;
	sigemptyset(&set);
	for (int i = 0; i < NFATAL; i++)
		sigaddset(&set, fatal_signals[i]);
	pthread_sigmask(SIG_BLOCK, &set, old);
}

int wn_cleanup_create(const char *path, mode_t mode)
{
	sigset_t old;
	block_fatal(&old);
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd >= 0 && wn_cleanup_add(path)) {
		int e = errno;
		close(fd);
		unlink(path);
		fd = -1;
		errno = e;
	}
	int e = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = e;
	return fd;
}

int wn_cleanup_run(void)
{
	int n = 0;
	for (int i = 0; i < WN_CLEANUP_MAX; i++) {
		int expect = SLOT_ARMED;
		if (!atomic_compare_exchange_strong(&slots[i].state, &expect, SLOT_BUSY))
			continue;
		if (unlink(slots[i].path) == 0)
			n++;
		atomic_store(&slots[i].state, SLOT_FREE);
	}
	return n;
}

/* Unlink, then die of the same signal: back to the default action and
 * raise it again; it is blocked while we run, so it arrives the moment
 * this handler returns. */
static void on_fatal_signal(int sig)
{
	int saved = errno;
	wn_cleanup_run();
	struct sigaction dfl;
	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	sigaction(sig, &dfl, NULL);
	raise(sig);
	errno = saved;
}

int wn_cleanup_install_signals(void)
{
	if (atomic_exchange(&installed, 1))
		return 0;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_fatal_signal;
	sigemptyset(&sa.sa_mask);
	for (int i = 0; i < NFATAL; i++)
		sigaddset(&sa.sa_mask, fatal_signals[i]);
	for (int i = 0; i < NFATAL; i++) {
		struct sigaction old;
		if (sigaction(fatal_signals[i], NULL, &old))
			return -1;
		/* ignored (nohup, `cmd &`) or someone else's handler: keep it */
		if ((old.sa_flags & SA_SIGINFO) || old.sa_handler != SIG_DFL)
			continue;
		if (sigaction(fatal_signals[i], &sa, NULL))
			return -1;
	}
	return 0;
}
