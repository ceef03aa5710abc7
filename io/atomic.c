/*
 * io/atomic.c — one atomic output file (see io/atomic.h for the rules).
 *
 * Two modes behind one interface. "rename": a temporary file beside the
 * target, renamed over it on commit (rename(2) is atomic within a
 * directory). "spooled": the target cannot be replaced (device, FIFO,
 * stdout), so the bytes wait in an io/spool and are copied out on commit.
 * The spool is used through its record frames, one frame per buffer of
 * output, so that the copy is ours: we know exactly how many bytes and
 * lines reached the target when a write fails half way.
 *
 * Temporary names are registered with the process's cleanup list
 * (io/cleanup.h) so SIGINT/SIGTERM/SIGHUP removes them.
 */
#include "io/atomic.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "io/cleanup.h"
#include "io/errf.h"
#include "io/fdio.h"
#include "io/spool.h"

#define ATOMIC_BUF ((size_t)256 << 10)
#define ATOMIC_DIRECT ((size_t)64 << 10) /* a write this long skips the buffer of a file */
#define MAX_LINK_HOPS 40

struct wn_atomic {
	char *name;          /* for messages: the path as given, or the fd's name */
	char *target;        /* the resolved target (symlinks followed) */
	char *tmp;           /* rename mode: the temporary file, until renamed or removed */
	int fd;              /* rename: the temporary file; spooled: the target; -1 */
	int own_fd;          /* close fd in wn_atomic_close */
	int spooled;
	int trunc_at_commit; /* spooled regular file reached through a /proc-style link */
	wn_spool *spool;
	char head[WN_ATOMIC_HEAD]; /* spooled: the first bytes, kept for wn_atomic_pwrite */
	size_t head_len;
	char *buf;           /* pending bytes (rename: not yet written; spooled: not yet spooled) */
	size_t len;
	uint64_t bytes, newlines;
	uint64_t bytes_out, lines_out;
	int committed;
	char err[512];       /* first failure */
};

/* ---- small helpers --------------------------------------------------------- */

/* Record the first failure and copy it to err. Always returns -1. */
static int fail(wn_atomic *a, char *err, size_t errlen, const char *why)
{
	if (!a->err[0])
		snprintf(a->err, sizeof a->err, "%s: %s", a->name, why);
	wn_errf(err, errlen, "%s", a->err);
	return -1;
}

static int fail_errno(wn_atomic *a, char *err, size_t errlen, int e)
{
	return fail(a, err, errlen, strerror(e));
}

static int sticky(wn_atomic *a, char *err, size_t errlen)
{
	if (!a->err[0])
		return 0;
	wn_errf(err, errlen, "%s", a->err);
	return -1;
}

static uint64_t count_newlines(const char *p, size_t n)
{
	uint64_t c = 0;
	for (const char *e = p + n; (p = memchr(p, '\n', (size_t)(e - p))); p++)
		c++;
	return c;
}

static wn_atomic *new_atomic(const char *name, char *err, size_t errlen)
{
	wn_atomic *a = calloc(1, sizeof *a);
	if (a && (a->name = strdup(name)) && (a->buf = malloc(ATOMIC_BUF))) {
		a->fd = -1;
		return a;
	}
	wn_errf(err, errlen, "%s: out of memory", name);
	if (a) {
		free(a->name);
		free(a);
	}
	return NULL;
}

/* ---- where the bytes go ---------------------------------------------------- */

/* The directory part of path, with its trailing '/' ("" for a bare name). */
static size_t dir_len(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? (size_t)(s - path) + 1 : 0;
}

/*
 * Follow the symlink chain from path to the first name that is not a link
 * (or does not exist: *exists = 0). Returns a malloc'd path, or NULL with
 * errno set.
 */
static char *follow_links(const char *path, struct stat *st, int *exists)
{
	char *cur = strdup(path), link[PATH_MAX];
	for (int hops = 0; cur; hops++) {
		if (lstat(cur, st)) {
			if (errno != ENOENT)
				break;
			*exists = 0;
			return cur;
		}
		if (!S_ISLNK(st->st_mode)) {
			*exists = 1;
			return cur;
		}
		ssize_t n = hops < MAX_LINK_HOPS ? readlink(cur, link, sizeof link - 1) : -1;
		if (hops >= MAX_LINK_HOPS)
			errno = ELOOP;
		if (n < 0)
			break;
		link[n] = 0;
		size_t d = link[0] == '/' ? 0 : dir_len(cur);
		char *next = malloc(d + (size_t)n + 1);
		if (!next)
			break;
		memcpy(next, cur, d);
		memcpy(next + d, link, (size_t)n + 1);
		free(cur);
		cur = next;
	}
	int e = cur ? errno : ENOMEM;
	free(cur);
	errno = e;
	return NULL;
}

/* Without getrandom (very early boot): the clock, the pid and the try. */
static void fallback_random(unsigned char *r, size_t n, unsigned tries)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^ ((uint64_t)getpid() << 12) ^ tries;
	for (size_t i = 0; i < n; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		r[i] = (unsigned char)(x >> 56);
	}
}

int wn_atomic_create_temp(const char *target, mode_t mode, char **tmp)
{
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	size_t n = strlen(target);
	char *t = malloc(n + 12);
	*tmp = NULL;
	if (!t)
		return -1;
	for (int tries = 0; tries < 100; tries++) {
		unsigned char r[6];
		if (getrandom(r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r)
			fallback_random(r, sizeof r, (unsigned)tries);
		memcpy(t, target, n);
		memcpy(t + n, ".tmp.", 5);
		for (int i = 0; i < 6; i++)
			t[n + 5 + i] = abc[r[i] % (sizeof abc - 1)];
		t[n + 11] = 0;
		int fd = open(t, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
		if (fd >= 0) {
			wn_cleanup_add(t);
			*tmp = t;
			return fd;
		}
		if (errno != EEXIST)
			break;
	}
	int e = errno;
	free(t);
	errno = e;
	return -1;
}

/* The temporary file beside a->target, into a->fd and a->tmp. */
static int create_temp(wn_atomic *a, mode_t mode)
{
	a->fd = wn_atomic_create_temp(a->target, mode, &a->tmp);
	return a->fd < 0 ? -1 : 0;
}

/* Replace (or create) a regular file: temp beside it with the old file's mode. */
static int open_rename(wn_atomic *a, const struct stat *st, int exists)
{
	if (create_temp(a, exists ? st->st_mode & 0777 : 0666))
		return -1;
	if (exists) {
		/* the kernel applied the umask; the replaced file's bits win */
		int same_owner = st->st_uid == geteuid() && st->st_gid == getegid();
		if (!same_owner && fchown(a->fd, st->st_uid, st->st_gid) == 0)
			same_owner = 1;
		if (fchmod(a->fd, st->st_mode & (same_owner ? 07777 : 0777)))
			return -1;
	}
	return 0;
}

/* A target that stays in place: open it now, write it at commit. */
static int open_spooled(wn_atomic *a, const char *path)
{
	a->fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
	if (a->fd < 0)
		return -1;
	a->own_fd = 1;
	a->spooled = 1;
	char serr[256];
	if (!(a->spool = wn_spool_new(0, serr, sizeof serr))) {
		snprintf(a->err, sizeof a->err, "%s", serr);
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

/* Open the target a->target, whose lstat is *st (when it exists). */
static int open_resolved(wn_atomic *a, const struct stat *st, int exists)
{
	if (!exists || S_ISREG(st->st_mode))
		return open_rename(a, st, exists);
	if (S_ISDIR(st->st_mode)) {
		errno = EISDIR;
		return -1;
	}
	return open_spooled(a, a->target);
}

/* path is a symlink: write what it points at. */
static int open_link(wn_atomic *a, const char *path)
{
	struct stat st, fst;
	int exists, got = stat(path, &st) == 0;
	if (!got && errno != ENOENT)
		return -1;
	if (got && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
		return open_spooled(a, path);
	if (!(a->target = follow_links(path, &fst, &exists)))
		return -1;
	if (got && (!exists || fst.st_dev != st.st_dev || fst.st_ino != st.st_ino)) {
		/* a /proc/self/fd-style link whose text is not a path: write through it */
		a->trunc_at_commit = S_ISREG(st.st_mode);
		return open_spooled(a, path);
	}
	return open_resolved(a, &fst, exists);
}

/* Decide the mode for path and open it; -1 with errno set. */
static int open_target(wn_atomic *a, const char *path)
{
	struct stat st;
	if (!*path) {
		errno = ENOENT;
		return -1;
	}
	int exists = lstat(path, &st) == 0;
	if (!exists && errno != ENOENT)
		return -1;
	if (exists && S_ISLNK(st.st_mode))
		return open_link(a, path);
	if (!(a->target = strdup(path)))
		return -1;
	return open_resolved(a, &st, exists);
}

wn_atomic *wn_atomic_open(const char *path, char *err, size_t errlen)
{
	wn_atomic *a = new_atomic(path, err, errlen);
	if (!a)
		return NULL;
	if (open_target(a, path)) {
		if (a->err[0])
			wn_errf(err, errlen, "%s", a->err);
		else
			fail_errno(a, err, errlen, errno);
		wn_atomic_close(a);
		return NULL;
	}
	return a;
}

wn_atomic *wn_atomic_open_fd(int fd, const char *name, char *err, size_t errlen)
{
	wn_atomic *a = new_atomic(name, err, errlen);
	if (!a)
		return NULL;
	a->fd = fd;
	a->spooled = 1;
	if (!(a->spool = wn_spool_new(0, err, errlen))) {
		wn_atomic_close(a);
		return NULL;
	}
	return a;
}

/* ---- writing --------------------------------------------------------------- */

/* Hand n bytes to the temporary file or the spool (the head is filled first). */
static int put(wn_atomic *a, const char *p, size_t n, char *err, size_t errlen)
{
	size_t done;
	if (!a->spooled)
		return wn_write_all(a->fd, p, n, &done) ? fail_errno(a, err, errlen, errno) : 0;
	if (a->head_len < WN_ATOMIC_HEAD) {
		size_t k = WN_ATOMIC_HEAD - a->head_len < n ? WN_ATOMIC_HEAD - a->head_len : n;
		memcpy(a->head + a->head_len, p, k);
		a->head_len += k;
		p += k;
		n -= k;
	}
	while (n) { /* frames hold at most 4 GiB */
		size_t k = n < ((size_t)1 << 30) ? n : (size_t)1 << 30;
		wn_record frame = {{p, k}, NULL, 0, 0};
		if (wn_spool_put(a->spool, &frame, a->err, sizeof a->err)) {
			wn_errf(err, errlen, "%s", a->err);
			return -1;
		}
		p += k;
		n -= k;
	}
	return 0;
}

static int flush_buf(wn_atomic *a, char *err, size_t errlen)
{
	if (!a->len)
		return 0;
	if (put(a, a->buf, a->len, err, errlen))
		return -1;
	a->len = 0;
	return 0;
}

int wn_atomic_write(wn_atomic *a, const void *p, size_t n, char *err, size_t errlen)
{
	if (sticky(a, err, errlen))
		return -1;
	a->bytes += n;
	a->newlines += count_newlines(p, n);
	if (n >= ATOMIC_DIRECT && !a->spooled) /* a run of records: no copy */
		return flush_buf(a, err, errlen) || put(a, p, n, err, errlen) ? -1 : 0;
	if (a->len + n <= ATOMIC_BUF) {
		memcpy(a->buf + a->len, p, n);
		a->len += n;
		return 0;
	}
	if (flush_buf(a, err, errlen))
		return -1;
	if (n >= ATOMIC_BUF)
		return put(a, p, n, err, errlen);
	memcpy(a->buf, p, n);
	a->len = n;
	return 0;
}

int wn_atomic_pwrite(wn_atomic *a, uint64_t off, const void *p, size_t n, char *err,
		     size_t errlen)
{
	if (sticky(a, err, errlen))
		return -1;
	if (off + n > a->bytes)
		return fail(a, err, errlen, "rewrite past the end of the output");
	if (flush_buf(a, err, errlen))
		return -1;
	if (a->spooled) {
		if (off + n > a->head_len)
			return fail(a, err, errlen, "cannot rewrite past the start of an output that is not a regular file");
		memcpy(a->head + off, p, n);
		return 0;
	}
	for (size_t done = 0; done < n;) {
		ssize_t w = pwrite(a->fd, (const char *)p + done, n - done, (off_t)(off + done));
		if (w < 0 && errno != EINTR)
			return fail_errno(a, err, errlen, errno);
		if (w > 0)
			done += (size_t)w;
	}
	return 0;
}

/* ---- commit ---------------------------------------------------------------- */

/* Write to the spooled target, counting what went out. */
static int emit(wn_atomic *a, const char *p, size_t n, char *err, size_t errlen)
{
	size_t done;
	int rc = wn_write_all(a->fd, p, n, &done);
	int e = errno;
	a->bytes_out += done;
	a->lines_out += count_newlines(p, done);
	return rc ? fail_errno(a, err, errlen, e) : 0;
}

/* Where a regular-file target starts, so a failed copy can be cut back; -1 if not one. */
static off_t regular_start(wn_atomic *a)
{
	struct stat st;
	if (fstat(a->fd, &st) || !S_ISREG(st.st_mode))
		return -1;
	if (a->trunc_at_commit && ftruncate(a->fd, 0))
		return -1;
	int fl = fcntl(a->fd, F_GETFL);
	if (fl >= 0 && (fl & O_APPEND))
		return a->trunc_at_commit ? 0 : st.st_size;
	return lseek(a->fd, 0, SEEK_CUR);
}

static int commit_spooled(wn_atomic *a, char *err, size_t errlen)
{
	off_t start = regular_start(a);
	int rc = emit(a, a->head, a->head_len, err, errlen);
	if (!rc)
		rc = wn_spool_rewind(a->spool, a->err, sizeof a->err);
	wn_record frame;
	int got;
	while (!rc && (got = wn_spool_get(a->spool, &frame, a->err, sizeof a->err)) != 0)
		rc = got < 0 ? -1 : emit(a, frame.json.p, frame.json.n, err, errlen);
	if (rc && a->bytes_out && start >= 0 && ftruncate(a->fd, start) == 0) {
		lseek(a->fd, start, SEEK_SET);
		a->bytes_out = a->lines_out = 0;
	}
	if (rc)
		wn_errf(err, errlen, "%s", a->err);
	return rc;
}

/* fsync the directory holding the new name; best effort (not every fs allows it). */
static void sync_dir(const char *target)
{
	size_t d = dir_len(target);
	char *dir = d ? strndup(target, d) : strdup(".");
	int fd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(dir);
}

static int commit_rename(wn_atomic *a, char *err, size_t errlen)
{
	if (fsync(a->fd) && errno != EINVAL)
		return fail_errno(a, err, errlen, errno);
	int fd = a->fd;
	a->fd = -1;
	if (close(fd))
		return fail_errno(a, err, errlen, errno);
	if (rename(a->tmp, a->target))
		return fail_errno(a, err, errlen, errno);
	wn_cleanup_remove(a->tmp);
	free(a->tmp);
	a->tmp = NULL;
	sync_dir(a->target);
	a->bytes_out = a->bytes;
	a->lines_out = a->newlines;
	return 0;
}

int wn_atomic_commit(wn_atomic *a, char *err, size_t errlen)
{
	if (sticky(a, err, errlen) || flush_buf(a, err, errlen))
		return -1;
	if (a->committed)
		return 0;
	int rc = a->spooled ? commit_spooled(a, err, errlen) : commit_rename(a, err, errlen);
	a->committed = !rc;
	return rc;
}

void wn_atomic_close(wn_atomic *a)
{
	if (!a)
		return;
	if (a->fd >= 0 && (a->own_fd || !a->spooled))
		close(a->fd);
	if (a->tmp) {
		unlink(a->tmp);
		wn_cleanup_remove(a->tmp);
	}
	wn_spool_free(a->spool);
	free(a->tmp);
	free(a->target);
	free(a->name);
	free(a->buf);
	free(a);
}

uint64_t wn_atomic_bytes(const wn_atomic *a) { return a->bytes; }
uint64_t wn_atomic_bytes_out(const wn_atomic *a) { return a->bytes_out; }
uint64_t wn_atomic_lines_out(const wn_atomic *a) { return a->lines_out; }
int wn_atomic_spooled(const wn_atomic *a) { return a->spooled; }
const char *wn_atomic_error(const wn_atomic *a) { return a->err; }
