/*
 * io/atomic.h — the one way winnow writes an output file: nothing reaches
 * the target until commit, and a failed or killed run leaves the old file
 * (or nothing) behind. `-o FILE` (through io/record.h's writer), `--npy
 * FILE` (embed/npy.c) and `--fit-idf FILE` (embed/hash_embed.c) all use it.
 *
 * Owns: the temporary file, its name and its removal; the spool that holds
 * the bytes for a target that cannot be replaced. Borrows: io/spool (the
 * one temporary spool), io/errf.
 *
 * What the target path is decides how it is written (as `sort -o` and `cp`
 * treat their destination):
 *  - a regular file, or a name that does not exist yet: the bytes go to a
 *    new file "PATH.tmp.XXXXXX" beside it (created O_EXCL, so two runs never
 *    share one), which commit fsyncs and renames over PATH; abort and
 *    wn_atomic_close() without commit unlink it. A file that is replaced
 *    keeps its permission bits (and its owner and group where the process
 *    may set them); a new file gets 0666 & ~umask, as the shell's `>` gives.
 *    Other hard links to a replaced file keep the old content.
 *  - a symbolic link: followed to its final target (chains and relative
 *    links resolved), which is then treated as above, so the temporary file
 *    sits beside the target and the link stays a link. A dangling link
 *    creates its target, as `>` would.
 *  - anything else that can be opened for writing (a FIFO, a character or
 *    block device such as /dev/null, /dev/stdout on a pipe): it is opened at
 *    once (a FIFO waits for its reader here) and never replaced; the bytes
 *    are held in an io/spool until commit and only then written to it, so a
 *    run that fails writes nothing there. A write that fails half way
 *    through the commit cannot be taken back on such a target: bytes_out
 *    and lines_out say how far it got. A directory is an error.
 * wn_atomic_open_fd() gives the last behaviour for a descriptor the caller
 * already has (the writer's stdout). When that descriptor is a regular file
 * and the commit fails half way, it is truncated back to where it began, so
 * there too a failed run leaves nothing.
 *
 * Every failure fills err with "<name>: <strerror>" (name = the path as
 * given, or the name given to wn_atomic_open_fd), or with io/spool's own
 * reason (which names the spool directory) when the spool fails. The first
 * failure sticks: later writes and the commit fail with the same message
 * (wn_atomic_error()).
 */
#ifndef WN_IO_ATOMIC_H
#define WN_IO_ATOMIC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes at the start of a spooled output that wn_atomic_pwrite may rewrite. */
#define WN_ATOMIC_HEAD 4096

typedef struct wn_atomic wn_atomic;

/* Start writing PATH (rules above). NULL with "<path>: <strerror>" in err. */
wn_atomic *wn_atomic_open(const char *path, char *err, size_t errlen);
/* Spool for an open descriptor (not closed by wn_atomic_close); name is for
 * messages, e.g. "<stdout>". */
wn_atomic *wn_atomic_open_fd(int fd, const char *name, char *err, size_t errlen);

/* Append n bytes. 0, or -1 with the reason in err. */
int wn_atomic_write(wn_atomic *a, const void *p, size_t n, char *err, size_t errlen);
/* Overwrite n bytes already written at offset off (a header whose counts are
 * known only at the end). A spooled output allows this only inside its
 * first WN_ATOMIC_HEAD bytes. */
int wn_atomic_pwrite(wn_atomic *a, uint64_t off, const void *p, size_t n, char *err,
		     size_t errlen);
/* Publish: rename into place, or write the spool to the target. 0, or -1
 * with the reason in err (the temporary file is then removed). Does not
 * free a: call wn_atomic_close() after reading the counts. */
int wn_atomic_commit(wn_atomic *a, char *err, size_t errlen);
/* Free a; without a successful commit, discard everything (temporary file
 * unlinked, nothing written to a spooled target). NULL is fine. */
void wn_atomic_close(wn_atomic *a);

uint64_t wn_atomic_bytes(const wn_atomic *a);      /* bytes given so far */
/* What reached the target: everything after a successful commit, none
 * before or after a failed rename; for a spooled target whose commit failed
 * half way, the bytes and the complete lines ('\n'-terminated) written
 * (0 when a regular file could be truncated back). */
uint64_t wn_atomic_bytes_out(const wn_atomic *a);
uint64_t wn_atomic_lines_out(const wn_atomic *a);
/* 1 when the target is written from a spool at commit (not renamed). */
int wn_atomic_spooled(const wn_atomic *a);
/* The first failure's message, "" when none. */
const char *wn_atomic_error(const wn_atomic *a);

/*
 * The temporary file the rename mode writes, for a caller that fills it by
 * other means (selectors/dedup_index.c lets SQLite write it): a new file
 * "TARGET.tmp.XXXXXX" beside target, created O_WRONLY | O_EXCL | O_CLOEXEC
 * with mode (the umask applies) and registered with io/cleanup.h. Returns
 * the descriptor with the malloc'd name in *tmp, or -1 with errno and *tmp
 * NULL. The caller owns both: rename or unlink the file, then
 * wn_cleanup_remove(*tmp) and free(*tmp).
 */
int wn_atomic_create_temp(const char *target, mode_t mode, char **tmp);

#ifdef __cplusplus
}
#endif

#endif
