/*
 * io/cleanup.h — files to remove if the process is killed by a signal.
 *
 * Owns: one process-wide list of paths (temporary files a step created
 * and has not yet moved into place or removed), and the SIGINT, SIGTERM
 * and SIGHUP handlers that unlink them and then die of the same signal.
 * Borrows: nothing but POSIX.
 *
 * Why it exists: a step that builds its output under a temporary name
 * (the store's new database, `-o FILE`) removes it itself on every error
 * path, but a user's Ctrl-C or a cron timeout's SIGTERM does not pass
 * through those paths. A signal handler can only reach global state, so
 * this module is the one exception to "no global mutable state below
 * cmd/": the list is as process-wide as the signals are. It lives in io/,
 * the lowest folder, so every library folder can use it.
 *
 * Rules that make it safe:
 *   - Register only a path this process created itself (or one it is about
 *     to create under a name nobody else uses, such as the "-wal" of its
 *     own temporary database): the handler unlinks by name and must never
 *     remove another process's file. wn_cleanup_create() creates a file
 *     with O_EXCL and registers it in one step, so there is no moment in
 *     which the calling thread can be killed with the file created but
 *     not registered.
 *   - Unlink the file first, then wn_cleanup_remove() it (a signal in
 *     between only unlinks a name that is already gone), and remove the
 *     entry as soon as the file is renamed into place or given up.
 *   - The handler does only async-signal-safe things: lock-free atomics
 *     on fixed slots, unlink(2), sigaction(2) back to the default action
 *     and raise(3). The process then dies of the signal as it would have
 *     without the handler (exit status 128 + signal in a shell); nothing
 *     calls exit().
 *   - A signal that was ignored when the handlers are installed (nohup,
 *     `cmd &` in a script ignores SIGINT) stays ignored, and a handler
 *     someone else installed before is left alone.
 *
 * Registration (add, remove, create) is thread-safe; the handler may run
 * on any thread.
 */
#ifndef WN_IO_CLEANUP_H
#define WN_IO_CLEANUP_H

#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* How many paths can be registered at once. */
#define WN_CLEANUP_MAX 64

/*
 * Remember `path` (copied) to unlink on SIGINT/SIGTERM/SIGHUP. Returns 0,
 * or -1 with errno ENAMETOOLONG (longer than PATH_MAX) or ENOSPC (the list
 * is full). The same path may be added twice; each add needs a remove.
 */
int wn_cleanup_add(const char *path);

/* Forget one registration of `path` (no effect when it has none). */
void wn_cleanup_remove(const char *path);

/*
 * Create `path` with open(O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode) and
 * register it, with this thread's signals blocked in between. Returns the
 * file descriptor, or -1 with errno (EEXIST: the name is taken, and
 * nothing was registered).
 */
int wn_cleanup_create(const char *path, mode_t mode);

/*
 * Install the handlers for SIGINT, SIGTERM and SIGHUP (each only where its
 * action is the default one). Call it once from main() or a command;
 * calling it again does nothing. Returns 0, or -1 with errno.
 */
int wn_cleanup_install_signals(void);

/*
 * Unlink every registered path now and forget it. The handler calls this;
 * async-signal-safe. Returns how many paths were unlinked.
 */
int wn_cleanup_run(void);

#ifdef __cplusplus
}
#endif

#endif
