/*
 * io/spool.c — the one temporary spool (see io/spool.h).
 *
 * Memory first, because most spools are small and a file costs a syscall per
 * megabyte; past the limit everything moves to one unlinked temporary file
 * written through a 1 MiB buffer. Records are framed as a 24-byte header
 * (length, file-name id, line, index) and their bytes; file names are kept
 * once each in a small table, since a stream has few inputs.
 */
#include "io/spool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/errf.h"
#include "io/fdio.h"

#define SPOOL_MEM_DEFAULT ((size_t)64 << 20)
#define SPOOL_WBUF ((size_t)1 << 20)
#define SPOOL_PAD 64

struct rec_head {
	uint32_t len, file_id;
	uint64_t line, index;
};

struct wn_spool {
	size_t mem_limit;
	wn_buf mem;          /* everything, while in memory; the write buffer once on disk */
	int fd;              /* -1 while in memory */
	uint64_t bytes;      /* total bytes spooled */
	uint64_t count;      /* records put */
	char **files;        /* file-name table */
	uint32_t nfiles, capfiles;
	/* reading */
	uint64_t rpos;       /* offset of the next unread byte */
	char *rbuf;          /* on disk: what was read from the file */
	size_t rlen, rcap, roff;
	int reading;
};

static size_t env_mem_limit(size_t dflt)
{
	const char *e = getenv("WINNOW_SPOOL_MEM");
	if (!e || !*e)
		return dflt;
	char *end;
	unsigned long long v = strtoull(e, &end, 10);
	return *end ? dflt : (size_t)v;
}

wn_spool *wn_spool_new(size_t mem_limit, char *err, size_t errlen)
{
	wn_spool *s = calloc(1, sizeof *s);
	if (!s) {
		wn_errf(err, errlen, "out of memory for a spool");
		return NULL;
	}
	s->mem_limit = env_mem_limit(mem_limit ? mem_limit : SPOOL_MEM_DEFAULT);
	s->fd = -1;
	return s;
}

void wn_spool_free(wn_spool *s)
{
	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	wn_buf_free(&s->mem);
	for (uint32_t i = 0; i < s->nfiles; i++)
		free(s->files[i]);
	free(s->files);
	free(s->rbuf);
	free(s);
}

const char *wn_tmp_dir(void)
{
	const char *d = getenv("TMPDIR");
	return d && *d ? d : "/tmp";
}

int wn_tmpfile_open(const char *what, char *err, size_t errlen)
{
	const char *dir = wn_tmp_dir();
#ifdef O_TMPFILE
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) {
		wn_errf(err, errlen, "cannot create a %s in %s: %s", what, dir, strerror(errno));
		return -1;
	}
#endif
	size_t n = strlen(dir) + 32;
	char *path = malloc(n);
	if (!path) {
		wn_errf(err, errlen, "out of memory for a %s", what);
		return -1;
	}
	snprintf(path, n, "%s/winnow-tmp.XXXXXX", dir);
	int fd2 = mkostemp(path, O_CLOEXEC);
	if (fd2 < 0)
		wn_errf(err, errlen, "cannot create a %s in %s: %s", what, dir, strerror(errno));
	else
		unlink(path);
	free(path);
	return fd2;
}

static int write_all(int fd, const char *p, size_t n, char *err, size_t errlen)
{
	size_t done;
	if (wn_write_all(fd, p, n, &done) == 0)
		return 0;
	wn_errf(err, errlen, "spool write failed (in %s): %s", wn_tmp_dir(), strerror(errno));
	return -1;
}

static int flush_mem(wn_spool *s, char *err, size_t errlen)
{
	if (s->fd < 0 || !s->mem.len)
		return 0;
	if (write_all(s->fd, s->mem.data, s->mem.len, err, errlen))
		return -1;
	wn_buf_reset(&s->mem);
	return 0;
}

static int spill(wn_spool *s, char *err, size_t errlen)
{
	s->fd = wn_tmpfile_open("spool", err, errlen);
	if (s->fd < 0)
		return -1;
	return flush_mem(s, err, errlen);
}

int wn_spool_write(wn_spool *s, const void *p, size_t n, char *err, size_t errlen)
{
	if (s->fd < 0 && s->mem.len + n > s->mem_limit && spill(s, err, errlen))
		return -1;
	if (s->fd >= 0 && s->mem.len + n > SPOOL_WBUF) {
		if (flush_mem(s, err, errlen))
			return -1;
		if (n >= SPOOL_WBUF) {
			if (write_all(s->fd, p, n, err, errlen))
				return -1;
			s->bytes += n;
			return 0;
		}
	}
	if (wn_buf_append(&s->mem, p, n)) {
		wn_errf(err, errlen, "out of memory for a spool of %llu bytes", (unsigned long long)s->bytes);
		return -1;
	}
	s->bytes += n;
	return 0;
}

uint64_t wn_spool_bytes(const wn_spool *s) { return s->bytes; }
int wn_spool_on_disk(const wn_spool *s) { return s->fd >= 0; }
uint64_t wn_spool_count(const wn_spool *s) { return s->count; }

int wn_spool_copy_to_fd(wn_spool *s, int fd, char *err, size_t errlen)
{
	if (s->fd < 0) {
		if (write_all(fd, s->mem.data, s->mem.len, err, errlen)) {
			wn_errf(err, errlen, "write failed: %s", strerror(errno));
			return -1;
		}
		return 0;
	}
	if (flush_mem(s, err, errlen))
		return -1;
	char *buf = malloc(SPOOL_WBUF);
	if (!buf) {
		wn_errf(err, errlen, "out of memory");
		return -1;
	}
	int rc = 0;
	for (off_t off = 0;;) {
		ssize_t r = pread(s->fd, buf, SPOOL_WBUF, off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			wn_errf(err, errlen, "spool read failed: %s", strerror(errno));
			rc = -1;
			break;
		}
		if (r == 0)
			break;
		if (write_all(fd, buf, (size_t)r, err, errlen)) {
			wn_errf(err, errlen, "write failed: %s", strerror(errno));
			rc = -1;
			break;
		}
		off += r;
	}
	free(buf);
	return rc;
}

static int file_id(wn_spool *s, const char *file, uint32_t *id, char *err, size_t errlen)
{
	if (!file)
		file = "";
	for (uint32_t i = s->nfiles; i-- > 0;) /* newest first: streams read files in order */
		if (!strcmp(s->files[i], file)) {
			*id = i;
			return 0;
		}
	if (s->nfiles == s->capfiles) {
		uint32_t cap = s->capfiles ? s->capfiles * 2 : 8;
		char **f = realloc(s->files, cap * sizeof *f);
		if (!f)
			goto oom;
		s->files = f;
		s->capfiles = cap;
	}
	if (!(s->files[s->nfiles] = strdup(file)))
		goto oom;
	*id = s->nfiles++;
	return 0;
oom:
	wn_errf(err, errlen, "out of memory for a spool");
	return -1;
}

int wn_spool_put(wn_spool *s, const wn_record *rec, char *err, size_t errlen)
{
	if (rec->json.n > UINT32_MAX) {
		wn_errf(err, errlen, "record of %zu bytes is too large to spool", rec->json.n);
		return -1;
	}
	struct rec_head h = {(uint32_t)rec->json.n, 0, rec->line, rec->index};
	if (file_id(s, rec->file, &h.file_id, err, errlen))
		return -1;
	if (wn_spool_write(s, &h, sizeof h, err, errlen) ||
	    wn_spool_write(s, rec->json.p, rec->json.n, err, errlen))
		return -1;
	s->count++;
	return 0;
}

int wn_spool_rewind(wn_spool *s, char *err, size_t errlen)
{
	if (flush_mem(s, err, errlen))
		return -1;
	s->reading = 1;
	s->rpos = 0;
	s->rlen = s->roff = 0;
	return 0;
}

/* Make n bytes at the read position contiguous in s->rbuf (disk mode), plus padding. */
static int fill(wn_spool *s, size_t n, char *err, size_t errlen)
{
	if (s->rlen - s->roff >= n)
		return 0;
	size_t have = s->rlen - s->roff;
	size_t need = n + SPOOL_PAD;
	if (need < SPOOL_WBUF)
		need = SPOOL_WBUF;
	if (s->rcap < need) {
		char *nb = malloc(need);
		if (!nb) {
			wn_errf(err, errlen, "out of memory reading a spool");
			return -1;
		}
		if (have)
			memcpy(nb, s->rbuf + s->roff, have);
		free(s->rbuf);
		s->rbuf = nb;
		s->rcap = need;
	} else if (have) {
		memmove(s->rbuf, s->rbuf + s->roff, have);
	}
	s->roff = 0;
	s->rlen = have;
	while (s->rlen < n) {
		ssize_t r = pread(s->fd, s->rbuf + s->rlen, s->rcap - SPOOL_PAD - s->rlen,
				  (off_t)(s->rpos + s->rlen));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			wn_errf(err, errlen, "spool read failed: %s", r ? strerror(errno) : "truncated");
			return -1;
		}
		s->rlen += (size_t)r;
	}
	memset(s->rbuf + s->rlen, 0, SPOOL_PAD < s->rcap - s->rlen ? SPOOL_PAD : s->rcap - s->rlen);
	return 0;
}

/* Pointer to the next n bytes and advance past them. */
static const char *take(wn_spool *s, size_t n, char *err, size_t errlen)
{
	const char *p;
	if (s->fd < 0) {
		p = s->mem.data + s->rpos;
	} else {
		if (fill(s, n, err, errlen))
			return NULL;
		p = s->rbuf + s->roff;
		s->roff += n;
	}
	s->rpos += n;
	return p;
}

int wn_spool_get(wn_spool *s, wn_record *rec, char *err, size_t errlen)
{
	if (!s->reading && wn_spool_rewind(s, err, errlen))
		return -1;
	if (s->rpos >= s->bytes)
		return 0;
	struct rec_head h;
	const char *p = take(s, sizeof h, err, errlen);
	if (!p)
		return -1;
	memcpy(&h, p, sizeof h);
	/* in memory, the padding after the last record comes from the buffer's spare room */
	if (s->fd < 0 && wn_buf_reserve(&s->mem, SPOOL_PAD)) {
		wn_errf(err, errlen, "out of memory reading a spool");
		return -1;
	}
	if (!(p = take(s, h.len, err, errlen)))
		return -1;
	rec->json.p = p;
	rec->json.n = h.len;
	rec->file = h.file_id < s->nfiles ? s->files[h.file_id] : "";
	rec->line = h.line;
	rec->index = h.index;
	return 1;
}
