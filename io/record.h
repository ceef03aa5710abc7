/*
 * io/record.h — record streams: the record type, the reader over JSONL (plain,
 * gzip, zstd, lz4 frames: detected by magic bytes) and CSV inputs, the
 * bad-input policy, and the output writer that never leaves half-written
 * output behind.
 *
 * Owns: input decoding, line splitting, strict validation (through the
 * simdjson bridge, io/jsonv.cc), positioned error messages, the
 * --on-error policy (fail | skip | quarantine FILE), record counts, and
 * the record boundaries of output (io/writer.c).
 * Borrows: zlib, libzstd, liblz4, libcsv, simdjson (via io/jsonv.h);
 * io/atomic for replacing files and spooling stdout.
 *
 * A record is one JSON object; `line` points into the reader's buffer and is
 * valid until the next wn_reader_next() call. Records are validated before
 * they are returned: stages may use io/json.h on them directly.
 */
#ifndef WN_IO_RECORD_H
#define WN_IO_RECORD_H

#include <stdint.h>
#include <stdio.h>

#include "io/buf.h"
#include "io/json.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wn_record {
	wn_span json;        /* the object's bytes: no newline, no CR, no BOM */
	const char *file;    /* input name as given ("-" shown as "<stdin>") */
	uint64_t line;       /* 1-based line number of the record's first line */
	uint64_t index;      /* 0-based position in the whole stream */
} wn_record;

/*
 * Records that lie back to back in one input, each followed by exactly one
 * '\n' and by nothing else: the bytes a step that passes records through
 * unchanged (cat) writes out as they are. Its records are validated and
 * counted as if read one by one; the span is valid until the next read.
 */
typedef struct wn_run {
	wn_span bytes;       /* count records, each with its '\n' */
	uint64_t count;      /* 0: no run (a single wn_record was returned instead) */
	const char *file;
	uint64_t line;       /* line of the first record; the others follow, one a line */
	uint64_t index;      /* index of the first record */
} wn_run;

/* ---- the bad-input policy ------------------------------------------- */

enum wn_on_error { WN_ON_ERROR_FAIL = 0, WN_ON_ERROR_SKIP, WN_ON_ERROR_QUARANTINE };

typedef struct wn_policy {
	const char *cmd;        /* "cat", "embed", ... for messages */
	int mode;               /* enum wn_on_error */
	const char *quarantine_path;
	FILE *quarantine;       /* opened lazily by wn_policy_reject */
	uint64_t rejected;      /* lines rejected so far */
	int quiet;              /* skip mode: no per-line message */
	int append;             /* keep what the quarantine file held (else start it empty) */
} wn_policy;

/* Parse "fail", "skip" or "quarantine" (path given separately): -1 if unknown. */
int wn_policy_parse_mode(const char *s);

/*
 * Reject one input line: prints "winnow <cmd>: <file>:<line>: <what>" on
 * stderr (under skip/quarantine as well, unless quiet), counts it, and under
 * quarantine appends the raw bytes (plus a newline) to the quarantine file.
 * Returns 0 when processing should continue (skip, quarantine) and -1 when it
 * must stop (fail, or the quarantine file cannot be written).
 */
int wn_policy_reject(wn_policy *p, const char *file, uint64_t line,
		     const char *raw, size_t rawlen, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
/* Shorthand for a record a stage cannot use (missing field, NaN ...). */
int wn_policy_reject_record(wn_policy *p, const wn_record *rec, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Open the quarantine file now (emptied unless p->append), so that a run
 * with no bad lines still leaves it holding exactly this run's rejects.
 * Returns 0, or -1 with "<path>: cannot open quarantine file: <why>". */
int wn_policy_open(wn_policy *p, char *err, size_t errlen);
/* Close the quarantine file (flush errors are reported and return -1). */
int wn_policy_close(wn_policy *p);

/* ---- the reader ------------------------------------------------------- */

enum wn_input_format { WN_FORMAT_AUTO = 0, WN_FORMAT_JSONL, WN_FORMAT_CSV };

typedef struct wn_reader_opts {
	int format;              /* WN_FORMAT_AUTO: JSONL (CSV only when asked) */
	size_t max_record;       /* bytes; 0 = default 64 MiB */
	wn_policy *policy;       /* required */
	int csv_types;           /* CSV cells that are JSON numbers become numbers */
} wn_reader_opts;

typedef struct wn_reader wn_reader;

/*
 * Open the inputs in order (NULL, empty list or "-" = stdin). Files are
 * opened lazily, one at a time; a file that cannot be opened is an error at
 * the moment the reader reaches it (never skipped by the policy: a missing
 * input is not a bad line).
 */
wn_reader *wn_reader_open(const char *const *paths, int npaths, const wn_reader_opts *opts);
/*
 * Next valid record: returns 1 and fills *rec, 0 at the end of all inputs,
 * -1 on a fatal error (already reported on stderr: I/O, a corrupt or
 * truncated compressed stream, or a bad line under --on-error fail).
 * Bad lines under skip/quarantine are handled inside and never returned.
 * Blank lines (only whitespace) are not records and are not errors.
 */
int wn_reader_next(wn_reader *r, wn_record *rec);
/*
 * Like wn_reader_next, but where the records ahead form a run (JSONL only)
 * returns 1 with run->count > 0 and the run in *run instead (rec untouched);
 * else run->count = 0 and the result is wn_reader_next's. Taking runs never
 * changes which records, errors or counts come out, only how many at once.
 */
int wn_reader_next_run(wn_reader *r, wn_run *run, wn_record *rec);
/*
 * Lines are validated a block at a time (256 KiB by default, never more than
 * the record limit; WINNOW_READ_BLOCK=BYTES overrides it, 0 = line by line):
 * that changes nothing that comes out, only how fast. Tests set it here,
 * before the first read (0 = line by line).
 */
void wn_reader_set_block(wn_reader *r, size_t bytes);
uint64_t wn_reader_count(const wn_reader *r);      /* records returned */
uint64_t wn_reader_bytes(const wn_reader *r);      /* decoded bytes consumed */
/* The inputs with their sizes and xxh3-64 of their (compressed) bytes, for
 * provenance; valid after the reader has reached the end of that input. */
int wn_reader_ninputs(const wn_reader *r);
const char *wn_reader_input_name(const wn_reader *r, int i);
uint64_t wn_reader_input_size(const wn_reader *r, int i);
uint64_t wn_reader_input_hash(const wn_reader *r, int i);
void wn_reader_close(wn_reader *r);

/*
 * Validate one line as a record (what the reader does): 0 if it is one JSON
 * object in valid UTF-8, else -1 with a message in err (e.g. "invalid JSON:
 * unexpected character at byte 17", "not a JSON object"). `buf` must stay
 * readable for 64 bytes past n (simdjson's padding rule); pass copy=1 to
 * have the function copy the bytes into padded memory itself.
 */
int wn_record_validate(const char *buf, size_t n, int copy, char *err, size_t errlen);

/* ---- the writer ------------------------------------------------------- */

/*
 * Output that is all-or-nothing, through io/atomic (io/atomic.h has the
 * full rules):
 *  - `-o PATH`, a regular file or a new name: written to PATH.tmp.XXXXXX
 *    beside it and renamed over it on commit; a replaced file keeps its
 *    permission bits, a new one gets 0666 & ~umask. A symlink is followed
 *    and its target replaced (the link stays). A FIFO or a device
 *    (/dev/null, /dev/stdout on a pipe) is never replaced: the output is
 *    spooled and written to it on commit.
 *  - stdout (path NULL or "-"): spooled (in memory, then io/spool's
 *    temporary file past 64 MiB) and written on commit, so a run that fails
 *    writes nothing; when stdout is a regular file and the commit fails half
 *    way, it is truncated back to where the output began.
 *  - `stream` (--stream, stdout only): written as records come, for
 *    long-running pipelines that prefer latency. Records stay whole: only
 *    complete records are written (a buffer that fills is flushed up to its
 *    last complete record; abort writes the complete ones and drops a
 *    partial one), and a write that fails half way into a regular file is
 *    cut back to the last whole record. A pipe or a device cannot be cut
 *    back: it may hold the start of one more record.
 *    With a PATH, `stream` is ignored: a file is always all-or-nothing.
 * A record is one wn_writer_line() call, or one wn_writer_write() call
 * whose bytes end in '\n'.
 *
 * Every failure has a message "<path>: <strerror>" (path = the -o target or
 * "<stdout>"), or io/spool's reason naming the spool directory when the
 * spool cannot grow ("spool write failed (in /tmp): No space left on
 * device"). The first failure sticks: later calls fail, and finish/commit
 * return it in err; wn_writer_error() reads it after a failed
 * wn_writer_line() or wn_writer_write().
 */
typedef struct wn_writer wn_writer;
wn_writer *wn_writer_open(const char *path, int stream, char *err, size_t errlen);
/* Append bytes. 0, or -1 (reason in wn_writer_error()). */
int wn_writer_write(wn_writer *w, const void *p, size_t n);
/* Write one record line: the bytes plus '\n'. 0, or -1 as above. */
int wn_writer_line(wn_writer *w, const void *p, size_t n);
/* Write `count` records that are p[0..n), each already ended by '\n' (a
 * wn_run): what count wn_writer_line() calls would write. A long run goes
 * to --stream's stdout straight from p, without a copy. 0, or -1 as above. */
int wn_writer_records(wn_writer *w, const void *p, size_t n, uint64_t count);
/*
 * Finish without freeing, so the counts below can be read afterwards:
 * commit = 1 publishes the output (rename, or the spool written out);
 * commit = 0 discards it (--stream: writes the complete records still
 * buffered). Returns 0, or -1 with the first failure's message in err.
 * Call it once, then wn_writer_free().
 */
int wn_writer_finish(wn_writer *w, int commit, char *err, size_t errlen);
void wn_writer_free(wn_writer *w);
/* wn_writer_finish(w, 1, ...) then free. Returns 0, or -1 with a message in err. */
int wn_writer_commit(wn_writer *w, char *err, size_t errlen);
/* A whole small file (a --stats document): `text` plus '\n' to path,
 * atomically. 0, or -1 with "<path>: <why>" in err. text NULL (a failed
 * rendering) is "<path>: out of memory". */
int wn_writer_save(const char *path, const char *text, char *err, size_t errlen);
/* wn_writer_finish(w, 0, ...) then free (temporary file removed). */
void wn_writer_abort(wn_writer *w);
/* Records given so far. */
uint64_t wn_writer_lines(const wn_writer *w);
/*
 * Records that reached the destination whole: with --stream, those written
 * so far; otherwise 0 until finish, then all of them after a successful
 * commit and none after a failed one, except when a spooled target that
 * cannot be truncated (a pipe, a device) failed half way through the
 * commit: then the complete lines it received.
 */
uint64_t wn_writer_lines_written(const wn_writer *w);
/* The first failure's message ("<stdout>: Broken pipe"), "" when none. */
const char *wn_writer_error(const wn_writer *w);

/* ---- vectors in records ---------------------------------------------- */

/*
 * winnow.emb (or another annotation) holds a vector as
 *   {"dim": D, "dtype": "f32"|"f16", "b64": "<base64 of little-endian values>"}
 * wn_vec_annot() builds that raw JSON; wn_vec_parse() reads it back (or a
 * plain JSON array of numbers) into float32, checking dim, dtype, base64 and
 * NaN/Inf. Returns 0, or -1 with a reason in err.
 */
enum wn_vec_dtype { WN_VEC_F32 = 0, WN_VEC_F16 = 1 };
int wn_vec_annot(wn_buf *out, const float *v, int dim, int dtype);
int wn_vec_parse(wn_span value, float *out, int max_dim, int *dim, char *err, size_t errlen);
/* Convenience: the vector at dotted path (e.g. "winnow.emb") of a record. */
int wn_vec_get(wn_span rec, const char *path, float *out, int max_dim, int *dim,
	       char *err, size_t errlen);

/* Base64 (RFC 4648, with padding). decode returns bytes written or -1. */
size_t wn_base64_encoded_len(size_t n);
void wn_base64_encode(const unsigned char *in, size_t n, char *out);
long wn_base64_decode(const char *in, size_t n, unsigned char *out, size_t cap);
/* IEEE half <-> float, round to nearest even. */
uint16_t wn_f32_to_f16(float f);
float wn_f16_to_f32(uint16_t h);

#ifdef __cplusplus
}
#endif

#endif
