/*
 * io/stream.c — the record stream between steps (see io/stream.h).
 *
 * Wiring only: the options become io/ objects (policy, reader, writer or
 * spools), the loop's counts become the report and the closing line.
 * Progress is shown only when stderr is a terminal, at most 4 times a second.
 */
#include "io/stream.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/errf.h"
#include "io/fdio.h"

int wn_stream_on_error_cb(const struct wn_option *opt, const char *arg, char *err, size_t errlen)
{
	wn_stream_opts *co = opt->value;
	if (!strncmp(arg, "quarantine", 10) && (arg[10] == 0 || arg[10] == ':' || arg[10] == '=')) {
		if (!arg[10] || !arg[11]) {
			if (co->quarantine) { /* --quarantine FILE given before */
				co->on_error = "quarantine";
				return 0;
			}
			wn_errf(err, errlen, "quarantine needs a file: --on-error quarantine=FILE or --quarantine FILE");
			return -1;
		}
		co->quarantine = arg + 11;
		co->on_error = "quarantine";
		return 0;
	}
	if (wn_policy_parse_mode(arg) < 0) {
		wn_errf(err, errlen, "unknown mode '%s' (fail, skip or quarantine=FILE)", arg);
		return -1;
	}
	co->on_error = arg;
	return 0;
}

int wn_stream_quarantine_cb(const struct wn_option *opt, const char *arg, char *err, size_t errlen)
{
	wn_stream_opts *co = opt->value;
	if (!*arg) {
		wn_errf(err, errlen, "needs a file name");
		return -1;
	}
	co->quarantine = arg;
	co->on_error = "quarantine";
	return 0;
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) * 1e-9;
}

static uint64_t inputs_size(int argc, const char **argv)
{
	uint64_t total = 0;
	for (int i = 0; i < argc; i++) {
		struct stat st;
		if (!strcmp(argv[i], "-") || stat(argv[i], &st) || !S_ISREG(st.st_mode))
			return 0;
		total += (uint64_t)st.st_size;
	}
	return total;
}

/* The quarantine file must not be one of the inputs: it would be appended to while read. */
static int check_quarantine(const wn_stream_opts *co, int argc, const char **argv, char *err,
			    size_t errlen)
{
	if (!co->quarantine || strcmp(co->on_error, "quarantine"))
		return 0;
	struct stat q;
	int qst = stat(co->quarantine, &q);
	for (int i = 0; i < argc; i++) {
		struct stat in;
		int same = !strcmp(argv[i], co->quarantine) ||
			   (!qst && !stat(argv[i], &in) && in.st_dev == q.st_dev && in.st_ino == q.st_ino);
		if (same) {
			wn_errf(err, errlen, "%s: the quarantine file is also an input", co->quarantine);
			return -1;
		}
	}
	return 0;
}

static int stream_init(wn_stream *s, const char *cmd, const wn_stream_opts *co, char *err,
		       size_t errlen)
{
	memset(s, 0, sizeof *s);
	s->cmd = cmd;
	s->co = co;
	s->policy.cmd = cmd;
	s->policy.mode = wn_policy_parse_mode(co->on_error);
	if (s->policy.mode < 0) {
		wn_errf(err, errlen, "unknown --on-error mode '%s'", co->on_error);
		return -1;
	}
	s->policy.quarantine_path = co->quarantine;
	s->policy.append = co->quarantine_append;
	wn_annot_init(&s->annot);
	clock_gettime(CLOCK_MONOTONIC, &s->start);
	s->tty = !co->quiet && isatty(2);
	if (s->policy.mode == WN_ON_ERROR_QUARANTINE && wn_policy_open(&s->policy, err, errlen))
		return -1;
	return 0;
}

int wn_stream_open_files(wn_stream *s, const char *cmd, const wn_stream_opts *co, int argc,
			 const char **argv, int with_output, char *err, size_t errlen)
{
	if (check_quarantine(co, argc, argv, err, errlen) || stream_init(s, cmd, co, err, errlen))
		return -1;
	s->total_bytes = inputs_size(argc, argv);
	wn_reader_opts ro = {co->csv ? WN_FORMAT_CSV : WN_FORMAT_AUTO, co->max_record, &s->policy,
			     co->csv_types};
	s->in = wn_reader_open(argv, argc, &ro);
	if (!s->in) {
		wn_errf(err, errlen, "out of memory");
		wn_policy_close(&s->policy);
		return -1;
	}
	if (!with_output)
		return 0;
	s->out = wn_writer_open(co->output, co->stream, err, errlen);
	if (!s->out) {
		wn_reader_close(s->in);
		s->in = NULL;
		wn_policy_close(&s->policy);
		return -1;
	}
	return 0;
}

int wn_stream_open_sink(wn_stream *s, const char *cmd, const wn_stream_opts *co, int with_output,
			char *err, size_t errlen)
{
	if (stream_init(s, cmd, co, err, errlen))
		return -1;
	s->no_source = 1;
	if (!with_output)
		return 0;
	s->out = wn_writer_open(co->output, co->stream, err, errlen);
	if (!s->out) {
		wn_policy_close(&s->policy);
		return -1;
	}
	return 0;
}

void wn_stream_count_written(wn_stream *s, uint64_t n)
{
	s->in_count = n;
	s->out_count = n;
}

int wn_stream_open_spools(wn_stream *s, const char *cmd, const wn_stream_opts *co, wn_spool *src,
			  wn_spool *dst, char *err, size_t errlen)
{
	if (stream_init(s, cmd, co, err, errlen))
		return -1;
	if (wn_spool_rewind(src, err, errlen)) {
		wn_policy_close(&s->policy);
		return -1;
	}
	s->in_spool = src;
	s->out_spool = dst;
	return 0;
}

int wn_stream_open_io(wn_stream *s, const char *cmd, const wn_stream_opts *co, int argc,
		      const char **argv, wn_spool *src, wn_spool *dst, int with_output, char *err,
		      size_t errlen)
{
	int rc = src ? wn_stream_open_spools(s, cmd, co, src, dst, err, errlen)
		     : wn_stream_open_files(s, cmd, co, argc, argv, !dst && with_output, err, errlen);
	if (rc)
		return -1;
	s->out_spool = dst;
	if (dst || !with_output || !src)
		return 0;
	if (!(s->out = wn_writer_open(co->output, co->stream, err, errlen))) {
		wn_policy_close(&s->policy);
		return -1;
	}
	return 0;
}

const char *wn_stream_source_name(const wn_stream *s)
{
	if (!s->in)
		return "<previous step>";
	if (wn_reader_ninputs(s->in) == 0)
		return "<stdin>";
	const char *name = wn_reader_input_name(s->in, 0);
	return !name || !strcmp(name, "-") ? "<stdin>" : name;
}

uint64_t wn_stream_bytes(const wn_stream *s)
{
	return s->in ? wn_reader_bytes(s->in) : 0;
}

static void show_progress(wn_stream *s, int final)
{
	double t = seconds_since(&s->start);
	if (!final && seconds_since(&s->last_progress) < 0.25)
		return;
	clock_gettime(CLOCK_MONOTONIC, &s->last_progress);
	uint64_t bytes = wn_stream_bytes(s);
	double mbs = t > 0 ? (double)bytes / t / 1e6 : 0;
	fprintf(stderr, "\rwinnow %s: %llu records, %.1f MB/s", s->cmd,
		(unsigned long long)s->in_count, mbs);
	if (s->total_bytes && bytes < s->total_bytes && mbs > 0)
		fprintf(stderr, ", ETA %.0f s", (double)(s->total_bytes - bytes) / 1e6 / mbs);
	fprintf(stderr, final ? "\r\033[K" : "   ");
}

/* n more records were read: count them, and show progress every 4096. */
static void count_read(wn_stream *s, uint64_t n)
{
	uint64_t before = s->in_count;
	s->in_count += n;
	if (s->tty && (before >> 12) != (s->in_count >> 12))
		show_progress(s, 0);
}

int wn_stream_next(wn_stream *s, wn_record *rec)
{
	int r;
	if (s->no_source)
		return 0;
	if (s->in) {
		r = wn_reader_next(s->in, rec);
	} else {
		char err[512];
		r = wn_spool_get(s->in_spool, rec, err, sizeof err);
		if (r < 0)
			fprintf(stderr, "winnow %s: %s\n", s->cmd, err);
	}
	if (r > 0)
		count_read(s, 1);
	return r;
}

int wn_stream_next_run(wn_stream *s, wn_run *run, wn_record *rec)
{
	run->count = 0;
	if (s->no_source || !s->in || !s->out || s->out_spool)
		return wn_stream_next(s, rec);
	int r = wn_reader_next_run(s->in, run, rec);
	if (r > 0)
		count_read(s, run->count ? run->count : 1);
	return r;
}

int wn_stream_emit_run(wn_stream *s, const wn_run *run)
{
	if (wn_writer_records(s->out, run->bytes.p, run->bytes.n, run->count)) {
		s->failed = 1;
		return -1;
	}
	s->out_count += run->count;
	return 0;
}

int wn_stream_write(wn_stream *s, const void *p, size_t n)
{
	if (s->out_spool) {
		snprintf(s->err, sizeof s->err, "raw output cannot go to the next step");
		s->failed = 1;
		return -1;
	}
	if (wn_writer_write(s->out, p, n)) {
		s->failed = 1;
		return -1;
	}
	return 0;
}

static int sink_line(wn_stream *s, const wn_record *rec, const char *p, size_t n)
{
	if (s->out_spool) {
		wn_record r = *rec;
		r.json.p = p;
		r.json.n = n;
		return wn_spool_put(s->out_spool, &r, s->err, sizeof s->err);
	}
	return wn_writer_line(s->out, p, n);
}

int wn_stream_emit(wn_stream *s, const wn_record *rec, const wn_annot *a)
{
	int r;
	if (!a || a->n == 0) {
		r = sink_line(s, rec, rec->json.p, rec->json.n);
	} else {
		wn_buf_reset(&s->line);
		if (wn_json_splice(rec->json, a, &s->line)) {
			fprintf(stderr, "winnow %s: %s:%llu: cannot annotate: \"winnow\" is not an object or memory ran out\n",
				s->cmd, rec->file, (unsigned long long)rec->line);
			s->failed = 1;
			return -1;
		}
		r = sink_line(s, rec, s->line.data, s->line.len);
	}
	if (r) {
		s->failed = 1;
		return -1;
	}
	s->out_count++;
	return 0;
}

int wn_stream_reject(wn_stream *s, const wn_record *rec, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	s->step_rejected++;
	if (wn_policy_reject_record(&s->policy, rec, "%s", msg)) {
		if (!s->stop_index)
			s->stop_index = rec->index + 1;
		s->failed = 1;
		return -1;
	}
	return 0;
}

int wn_stream_text(wn_stream *s, const wn_record *rec, wn_buf *scratch, wn_span *text,
		   const char **why)
{
	wn_span v;
	if (!wn_json_get(rec->json, s->co->field, &v)) {
		*why = "missing text field";
		return -1;
	}
	if (wn_json_string(v, scratch, text)) {
		*why = "text field is not a string";
		return -1;
	}
	return 0;
}

/* in = records read + lines the reader rejected; a step that stopped on a
 * record under fail counts the records up to it, not those read ahead. */
static uint64_t count_in(const wn_stream *s)
{
	uint64_t reader_rejected = s->policy.rejected - s->step_rejected;
	uint64_t records = s->in_count;
	if (s->stop_index && s->stop_index < records)
		records = s->stop_index;
	return records + reader_rejected;
}

/* Publish or discard the sink; *written = records that really reached it. */
static int commit_sink(wn_stream *s, int ok, uint64_t *written)
{
	*written = s->out_count; /* a spool or the step's own sink (store) */
	if (!s->out)
		return ok;
	char err[512] = "";
	if (wn_writer_finish(s->out, ok, err, sizeof err)) {
		if (!s->err[0] || strcmp(err, s->err))
			fprintf(stderr, "winnow %s: %s\n", s->cmd, err);
		ok = 0;
	}
	/* a report (stats) is not records: out never counts more than were emitted */
	*written = ok ? s->out_count : wn_writer_lines_written(s->out);
	if (*written > s->out_count)
		*written = s->out_count;
	wn_writer_free(s->out);
	s->out = NULL;
	return ok;
}

/* ---- WINNOW_PROVENANCE (see io/stream.h) ---- */

static int prov_inputs(wn_buf *b, const wn_stream *s)
{
	int bad = wn_buf_putc(b, '[');
	int n = s->in ? wn_reader_ninputs(s->in) : 0;
	for (int i = 0; i < n && !bad; i++) {
		const char *name = wn_reader_input_name(s->in, i);
		name = name ? name : "-";
		bad = (i && wn_buf_putc(b, ',')) || wn_buf_puts(b, "{\"name\":") ||
		      wn_json_put_string(b, name, strlen(name)) ||
		      wn_buf_printf(b, ",\"size\":%llu,\"xxh3\":\"%016llx\"}",
				    (unsigned long long)wn_reader_input_size(s->in, i),
				    (unsigned long long)wn_reader_input_hash(s->in, i));
	}
	return bad || wn_buf_putc(b, ']');
}

static int prov_line(wn_buf *b, const wn_stream *s, int ok, uint64_t in, uint64_t out)
{
	const char *cmd = s->command ? s->command : "";
	return wn_buf_printf(b, "{\"pgid\":%ld,\"pid\":%ld,\"step\":", (long)getpgrp(),
			     (long)getpid()) ||
	       wn_json_put_string(b, s->cmd, strlen(s->cmd)) || wn_buf_puts(b, ",\"command\":") ||
	       wn_json_put_string(b, cmd, strlen(cmd)) || wn_buf_puts(b, ",\"inputs\":") ||
	       prov_inputs(b, s) ||
	       wn_buf_printf(b, ",\"in\":%llu,\"out\":%llu,\"rejected\":%llu,\"seconds\":%.6f,"
			     "\"ok\":%s}\n", (unsigned long long)in, (unsigned long long)out,
			     (unsigned long long)s->policy.rejected, seconds_since(&s->start),
			     ok ? "true" : "false");
}

/* Append this step's line; a failure is a warning. */
static void prov_append(const wn_stream *s, int ok, uint64_t in, uint64_t out)
{
	wn_buf b = WN_BUF_INIT;
	if (prov_line(&b, s, ok, in, out)) {
		fprintf(stderr, "winnow %s: warning: WINNOW_PROVENANCE: out of memory\n", s->cmd);
		wn_buf_free(&b);
		return;
	}
	size_t done;
	int fd = open(s->provenance, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	int bad = fd < 0 || flock(fd, LOCK_EX) || wn_write_all(fd, b.data, b.len, &done);
	if (bad)
		fprintf(stderr, "winnow %s: warning: WINNOW_PROVENANCE: %s: %s\n", s->cmd,
			s->provenance, strerror(errno));
	if (fd >= 0)
		close(fd);
	wn_buf_free(&b);
}

/* The whole file, under a lock of `kind` held on *fd (left open). */
static int prov_slurp(const char *path, int kind, int *fd, wn_buf *all, char *err, size_t errlen)
{
	*fd = open(path, (kind == LOCK_EX ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (*fd < 0) {
		if (errno == ENOENT)
			return 0;
		wn_errf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	char buf[65536];
	ssize_t n;
	if (flock(*fd, kind)) {
		wn_errf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while ((n = read(*fd, buf, sizeof buf)) > 0)
		if (wn_buf_append(all, buf, (size_t)n)) {
			wn_errf(err, errlen, "out of memory");
			return -1;
		}
	if (n < 0) {
		wn_errf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

long wn_stream_provenance_read(const char *path, wn_buf *arr, wn_buf *lines, char *err,
			       size_t errlen)
{
	wn_buf all = WN_BUF_INIT;
	char prefix[48];
	int fd = -1;
	long n = 0;
	snprintf(prefix, sizeof prefix, "{\"pgid\":%ld,", (long)getpgrp());
	int bad = prov_slurp(path, LOCK_SH, &fd, &all, err, errlen) || wn_buf_putc(arr, '[');
	for (size_t off = 0; !bad && off < all.len;) {
		const char *p = all.data + off, *nl = memchr(p, '\n', all.len - off);
		size_t len = nl ? (size_t)(nl - p) : all.len - off;
		if (nl && !strncmp(p, prefix, strlen(prefix)) && len > strlen(prefix))
			bad = (n++ && wn_buf_putc(arr, ',')) || wn_buf_append(arr, p, len) ||
			      wn_buf_append(lines, p, len + 1);
		off += len + 1;
	}
	if (!bad && wn_buf_putc(arr, ']'))
		bad = 1;
	if (bad && !err[0])
		wn_errf(err, errlen, "out of memory");
	if (fd >= 0)
		close(fd);
	wn_buf_free(&all);
	return bad ? -1 : n;
}

/* Is the line at p (len bytes with its newline) one of `lines`? */
static int prov_taken(const wn_buf *lines, const char *p, size_t len)
{
	for (size_t off = 0; off < lines->len;) {
		const char *q = lines->data + off, *nl = memchr(q, '\n', lines->len - off);
		size_t l = (size_t)(nl - q) + 1;
		if (l == len && !memcmp(p, q, len))
			return 1;
		off += l;
	}
	return 0;
}

int wn_stream_provenance_consume(const char *path, const wn_buf *lines, char *err, size_t errlen)
{
	wn_buf all = WN_BUF_INIT, keep = WN_BUF_INIT;
	size_t done;
	int fd = -1;
	int bad = prov_slurp(path, LOCK_EX, &fd, &all, err, errlen);
	for (size_t off = 0; !bad && off < all.len;) {
		const char *p = all.data + off, *nl = memchr(p, '\n', all.len - off);
		size_t len = nl ? (size_t)(nl - p) + 1 : all.len - off;
		if (!prov_taken(lines, p, len) && wn_buf_append(&keep, p, len))
			bad = 1;
		off += len;
	}
	if (!bad && fd >= 0 && (ftruncate(fd, 0) || lseek(fd, 0, SEEK_SET) < 0 ||
				(keep.len && wn_write_all(fd, keep.data, keep.len, &done)))) {
		wn_errf(err, errlen, "%s: %s", path, strerror(errno));
		bad = 1;
	}
	if (fd >= 0)
		close(fd);
	wn_buf_free(&all);
	wn_buf_free(&keep);
	return bad ? -1 : 0;
}

int wn_stream_finish(wn_stream *s, int ok, wn_step_report *rep)
{
	if (s->tty && s->in)
		show_progress(s, 1);
	if (s->failed)
		ok = 0;
	if (s->out && !s->err[0] && wn_writer_error(s->out)[0]) /* a failed write inside the step */
		snprintf(s->err, sizeof s->err, "%s", wn_writer_error(s->out));
	if (s->err[0])
		fprintf(stderr, "winnow %s: %s\n", s->cmd, s->err);
	if (wn_policy_close(&s->policy))
		ok = 0;
	uint64_t out;
	int had_sink = s->out || s->out_spool;
	/* before the commit: downstream sees EOF only after it. Only a step that
	 * wrote records or failed: a report (stats) or no sink (store, device)
	 * feeds no one */
	if (s->provenance && had_sink && (s->out_count > 0 || !ok || s->failed))
		prov_append(s, ok, count_in(s), s->out_count);
	ok = commit_sink(s, ok, &out);
	if (rep) {
		rep->step = s->cmd;
		rep->in = count_in(s);
		rep->out = out;
		rep->rejected = s->policy.rejected;
		rep->bytes = wn_stream_bytes(s);
		rep->seconds = seconds_since(&s->start);
		rep->ok = ok;
	}
	int closing = !s->co->quiet && (!s->no_source || (ok && had_sink));
	if (closing) {
		char tail[64] = "";
		if (!ok)
			snprintf(tail, sizeof tail, out ? " (failed: %llu written)" : " (failed: nothing written)",
				 (unsigned long long)out);
		fprintf(stderr, "winnow %s: in %llu, out %llu, rejected %llu%s\n", s->cmd,
			(unsigned long long)count_in(s), (unsigned long long)out,
			(unsigned long long)s->policy.rejected, tail);
	}
	wn_reader_close(s->in);
	s->in = NULL;
	wn_annot_free(&s->annot);
	wn_buf_free(&s->line);
	return ok ? 0 : -1;
}
