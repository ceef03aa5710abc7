/*
 * io/writer.c — record output that never leaves half a record behind (see
 * the writer section of io/record.h).
 *
 * All-or-nothing output is io/atomic's job: `-o PATH` is an atomic file
 * (temporary beside it, renamed on commit; devices and FIFOs written from a
 * spool at commit), stdout is an atomic spool on descriptor 1. `--stream`
 * writes stdout as records come, so it cannot be all-or-nothing; instead it
 * keeps records whole: it remembers where each record ends in its buffer,
 * writes only up to the last end, and when a write fails half way into a
 * regular file it cuts the file back to the last whole record. It counts
 * the records that reached stdout, so the caller's closing line can say
 * how many were written. A long run of records (wn_writer_records) is
 * written to stdout from the caller's bytes, after the buffer, with the
 * same rules.
 */
#include "io/record.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/atomic.h"
#include "io/errf.h"
#include "io/fdio.h"

#define STREAM_BUF ((size_t)1 << 20)
#define STREAM_DIRECT ((size_t)64 << 10) /* a run this long skips --stream's buffer */

struct wn_writer {
	wn_atomic *out;        /* all-or-nothing: -o PATH, or the stdout spool */
	int stream_reg;        /* --stream: stdout is a regular file (a torn tail can be cut) */
	char *buf;             /* --stream: bytes not yet written */
	size_t len, cap;
	size_t *ends;          /* --stream: end offset in buf of each record there */
	size_t nends, capends;
	uint64_t records;      /* records given */
	uint64_t written;      /* records that reached the destination whole */
	int finished;
	char err[512];         /* first failure */
};

/* ---- failures ---------------------------------------------------------------- */

static int fail(wn_writer *w, const char *fmt, const char *why)
{
	if (!w->err[0])
		snprintf(w->err, sizeof w->err, fmt, why);
	return -1;
}

/* Copy io/atomic's message (it names the path or the spool directory). */
static int fail_out(wn_writer *w)
{
	return fail(w, "%s", wn_atomic_error(w->out));
}

/* ---- open ---------------------------------------------------------------------- */

static wn_writer *open_stream(wn_writer *w, char *err, size_t errlen)
{
	struct stat st;
	w->stream_reg = fstat(1, &st) == 0 && S_ISREG(st.st_mode);
	w->cap = STREAM_BUF;
	w->capends = 1024;
	w->buf = malloc(w->cap);
	w->ends = malloc(w->capends * sizeof *w->ends);
	if (w->buf && w->ends)
		return w;
	wn_errf(err, errlen, "<stdout>: out of memory");
	wn_writer_free(w);
	return NULL;
}

wn_writer *wn_writer_open(const char *path, int stream, char *err, size_t errlen)
{
	wn_writer *w = calloc(1, sizeof *w);
	if (!w) {
		wn_errf(err, errlen, "%s: out of memory", path ? path : "<stdout>");
		return NULL;
	}
	int to_stdout = !path || !strcmp(path, "-");
	if (to_stdout && stream)
		return open_stream(w, err, errlen);
	w->out = to_stdout ? wn_atomic_open_fd(1, "<stdout>", err, errlen)
			   : wn_atomic_open(path, err, errlen);
	if (!w->out) {
		free(w);
		return NULL;
	}
	return w;
}

/* ---- --stream ------------------------------------------------------------------ */

/* A write stopped `tail` bytes into a record: cut them off a regular stdout. */
static void cut_torn(wn_writer *w, size_t tail)
{
	if (!tail || !w->stream_reg)
		return;
	off_t pos = lseek(1, 0, SEEK_CUR);
	if (pos >= (off_t)tail && ftruncate(1, pos - (off_t)tail) == 0)
		lseek(1, pos - (off_t)tail, SEEK_SET);
}

/* Write the buffer up to its last record end (all of it when `all`). */
static int stream_flush(wn_writer *w, int all)
{
	size_t n = all ? w->len : w->nends ? w->ends[w->nends - 1] : 0;
	if (!n)
		return 0;
	size_t done, k = 0;
	int rc = wn_write_all(1, w->buf, n, &done);
	int e = errno;
	while (k < w->nends && w->ends[k] <= done)
		k++;
	w->written += k;
	if (rc) {
		cut_torn(w, done - (k ? w->ends[k - 1] : 0));
		return fail(w, "<stdout>: %s", strerror(e));
	}
	memmove(w->buf, w->buf + n, w->len - n);
	w->len -= n;
	w->nends = 0; /* n is at or past the last end */
	return 0;
}

/* Make room for more bytes: flush whole records, or grow for one long record. */
static int stream_room(wn_writer *w)
{
	if (w->nends)
		return stream_flush(w, 0);
	char *p = realloc(w->buf, w->cap * 2);
	if (!p)
		return fail(w, "<stdout>: %s", strerror(ENOMEM));
	w->buf = p;
	w->cap *= 2;
	return 0;
}

static int stream_append(wn_writer *w, const char *p, size_t n)
{
	while (n) {
		if (w->len == w->cap && stream_room(w))
			return -1;
		size_t room = w->cap - w->len, k = n < room ? n : room;
		memcpy(w->buf + w->len, p, k);
		w->len += k;
		p += k;
		n -= k;
	}
	return 0;
}

static int stream_mark_end(wn_writer *w)
{
	if (w->nends == w->capends) {
		size_t *e = realloc(w->ends, w->capends * 2 * sizeof *e);
		if (!e)
			return fail(w, "<stdout>: %s", strerror(ENOMEM));
		w->ends = e;
		w->capends *= 2;
	}
	w->ends[w->nends++] = w->len;
	return 0;
}

/* Records (complete lines) in p[0..n). */
static uint64_t count_lines(const char *p, size_t n)
{
	uint64_t c = 0;
	for (const char *e = p + n; (p = memchr(p, '\n', (size_t)(e - p))); p++)
		c++;
	return c;
}

/* A long run: the buffer (whole records only), then the run from p itself. */
static int stream_direct(wn_writer *w, const char *p, size_t n, uint64_t count)
{
	if (stream_flush(w, 1))
		return -1;
	size_t done;
	int rc = wn_write_all(1, p, n, &done);
	int e = errno;
	if (!rc) {
		w->written += count;
		return 0;
	}
	const char *nl = done ? memrchr(p, '\n', done) : NULL;
	size_t whole = nl ? (size_t)(nl - p) + 1 : 0;
	w->written += count_lines(p, whole);
	cut_torn(w, done - whole);
	return fail(w, "<stdout>: %s", strerror(e));
}

/* A run into --stream's buffer, one record at a time (each end marked). */
static int stream_records(wn_writer *w, const char *p, size_t n)
{
	for (const char *e = p + n; p < e;) {
		const char *nl = memchr(p, '\n', (size_t)(e - p));
		size_t k = nl ? (size_t)(nl - p) + 1 : (size_t)(e - p);
		if (stream_append(w, p, k) || stream_mark_end(w))
			return -1;
		w->records++;
		p += k;
	}
	return 0;
}

/* ---- writing ------------------------------------------------------------------- */

static int append(wn_writer *w, const void *p, size_t n)
{
	if (w->out)
		return wn_atomic_write(w->out, p, n, NULL, 0) ? fail_out(w) : 0;
	return stream_append(w, p, n);
}

static int end_record(wn_writer *w)
{
	w->records++;
	return w->out ? 0 : stream_mark_end(w);
}

int wn_writer_write(wn_writer *w, const void *p, size_t n)
{
	if (w->err[0] || w->finished)
		return -1;
	if (append(w, p, n))
		return -1;
	return n && ((const char *)p)[n - 1] == '\n' ? end_record(w) : 0;
}

int wn_writer_line(wn_writer *w, const void *p, size_t n)
{
	if (w->err[0] || w->finished)
		return -1;
	if (append(w, p, n) || append(w, "\n", 1))
		return -1;
	return end_record(w);
}

int wn_writer_records(wn_writer *w, const void *p, size_t n, uint64_t count)
{
	if (w->err[0] || w->finished)
		return -1;
	if (w->out) {
		if (append(w, p, n))
			return -1;
		w->records += count;
		return 0;
	}
	size_t whole = w->nends ? w->ends[w->nends - 1] : 0;
	if (n < STREAM_DIRECT || w->len != whole) /* short, or after a partial record */
		return stream_records(w, p, n);
	if (stream_direct(w, p, n, count))
		return -1;
	w->records += count;
	return 0;
}

uint64_t wn_writer_lines(const wn_writer *w) { return w->records; }
uint64_t wn_writer_lines_written(const wn_writer *w) { return w->written; }
const char *wn_writer_error(const wn_writer *w) { return w->err; }

/* ---- finishing ----------------------------------------------------------------- */

/* Commit the atomic output, or leave it for wn_writer_free to discard. */
static void finish_atomic(wn_writer *w, int commit)
{
	if (!commit)
		return;
	if (wn_atomic_commit(w->out, NULL, 0)) {
		uint64_t lines = wn_atomic_lines_out(w->out);
		w->written = lines < w->records ? lines : w->records;
		fail_out(w);
		return;
	}
	w->written = w->records;
}

int wn_writer_finish(wn_writer *w, int commit, char *err, size_t errlen)
{
	if (!w->finished && !w->err[0]) {
		if (w->out)
			finish_atomic(w, commit);
		else
			stream_flush(w, commit); /* abort: whole records only */
	}
	w->finished = 1;
	if (!w->err[0])
		return 0;
	wn_errf(err, errlen, "%s", w->err);
	return -1;
}

void wn_writer_free(wn_writer *w)
{
	if (!w)
		return;
	wn_atomic_close(w->out);
	free(w->buf);
	free(w->ends);
	free(w);
}

int wn_writer_commit(wn_writer *w, char *err, size_t errlen)
{
	int rc = wn_writer_finish(w, 1, err, errlen);
	wn_writer_free(w);
	return rc;
}

int wn_writer_save(const char *path, const char *text, char *err, size_t errlen)
{
	char why[512] = "out of memory";
	wn_writer *w = text ? wn_writer_open(path, 0, why, sizeof why) : NULL;
	if (w && !wn_writer_line(w, text, strlen(text)) && !wn_writer_commit(w, why, sizeof why))
		return 0;
	if (w)
		wn_writer_abort(w);
	snprintf(err, errlen, "%s: %s", path, why);
	return -1;
}

void wn_writer_abort(wn_writer *w)
{
	if (!w)
		return;
	wn_writer_finish(w, 0, NULL, 0);
	wn_writer_free(w);
}
