/*
 * io/stream.h — the record stream every step reads and writes: a source
 * (input files through the reader, or the previous step's output in the same
 * process), a sink (a file or stdout through the all-or-nothing writer, the
 * next step, or nothing), the bad-input policy, and the step's report.
 *
 * Owns: the stream's reader, writer and policy, its scratch buffers, and
 * the counts. Borrows: the options (wn_stream_opts, the caller's), a
 * source or sink spool (the caller's: the recipe runner hands one step's
 * sink spool to the next step as its source).
 *
 * Counts are defined once, here, for every step:
 *   in       = records read from the source plus bad lines rejected by the
 *              reader (every line that is not blank); when a step stops on a
 *              record under --on-error fail, the records after it are not
 *              counted even if a step read them ahead;
 *   rejected = lines or records rejected by the reader or by the step
 *              (always a part of in);
 *   out      = records written to the sink (0 when the run failed and the
 *              output was discarded; under --stream, what was really written).
 *
 * A step looks like:
 *   wn_record rec; int r;
 *   while ((r = wn_stream_next(s, &rec)) > 0)
 *       if (wn_stream_emit(s, &rec, NULL)) break;
 *   return r < 0 || s->failed ? -1 : 0;
 * and the caller (cmd/'s step driver or the recipe runner) opens the stream,
 * runs the step, and calls wn_stream_finish().
 */
#ifndef WN_IO_STREAM_H
#define WN_IO_STREAM_H

#include <stdint.h>
#include <time.h>

#include "io/options.h"
#include "io/record.h"
#include "io/spool.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The options every stream step shares (its options struct starts with one). */
typedef struct wn_stream_opts {
	const char *on_error;        /* fail | skip | quarantine */
	const char *quarantine;      /* FILE for quarantine */
	int quarantine_append;       /* keep what FILE held (default: start it empty) */
	int quiet;
	int stream;                  /* --stream: write stdout as records come */
	const char *output;          /* -o FILE (NULL: stdout) */
	const char *field;           /* --field NAME (text field) */
	int csv;                     /* --csv: inputs are CSV */
	int csv_types;               /* --csv-types: CSV cells that are numbers become numbers */
	size_t max_record;           /* --max-record BYTES */
	const char *device;          /* --device cpu|cuda|auto (env WINNOW_DEVICE) */
	int threads;                 /* --threads N (0 = all cores) */
} wn_stream_opts;

#define WN_STREAM_OPTS_INIT {"fail", NULL, 0, 0, 0, NULL, "text", 0, 0, 0, NULL, 0}

/* --on-error MODE with MODE fail, skip, quarantine=FILE (or quarantine:FILE). */
int wn_stream_on_error_cb(const struct wn_option *opt, const char *arg, char *err, size_t errlen);
/* --quarantine FILE (implies --on-error quarantine). */
int wn_stream_quarantine_cb(const struct wn_option *opt, const char *arg, char *err, size_t errlen);

#define WN_STREAM_INPUT_OPTIONS(co)                                                      \
	OPT_STRING(0, "field", &(co)->field, "NAME", "the text field (default: text)"), \
	OPT_BOOL(0, "csv", &(co)->csv, "inputs are CSV with a header row"),              \
	OPT_BOOL(0, "csv-types", &(co)->csv_types, "--csv: cells that are JSON numbers become numbers (else all strings)"), \
	OPT_SIZE(0, "max-record", &(co)->max_record, "BYTES", "largest record accepted (default 64M)"), \
	OPT_CALLBACK(0, "on-error", (co), "MODE", "fail (default), skip, or quarantine=FILE", wn_stream_on_error_cb), \
	OPT_CALLBACK(0, "quarantine", (co), "FILE", "keep rejected lines verbatim in FILE (--on-error quarantine)", wn_stream_quarantine_cb), \
	OPT_BOOL(0, "quarantine-append", &(co)->quarantine_append, "append to the quarantine file instead of starting it empty"), \
	OPT_BOOL('q', "quiet", &(co)->quiet, "no progress and no count line on stderr")

/* Input/output/error options of every stream step. */
#define WN_STREAM_OPTIONS(co)                                                            \
	OPT_GROUP("Input and output"),                                                    \
	OPT_STRING('o', "output", &(co)->output, "FILE", "write to FILE (atomically) instead of stdout"), \
	WN_STREAM_INPUT_OPTIONS(co),                                                     \
	OPT_BOOL(0, "stream", &(co)->stream, "write stdout as records come (no all-or-nothing spool)")

/* --device and --threads of every step that computes. */
#define WN_COMPUTE_OPTIONS(co)                                                            \
	OPT_GROUP("Compute"),                                                              \
	OPT_STRING(0, "device", &(co)->device, "DEV", "cpu, cuda or auto (env WINNOW_DEVICE; default auto)"), \
	OPT_INT(0, "threads", &(co)->threads, "N", "threads to use (default: all cores)")

/* What a step did, for the closing line, the store's runs table and the recipe runner. */
typedef struct wn_step_report {
	const char *step;
	uint64_t in, out, rejected, bytes;
	double seconds;
	int ok;
	int nothing_new;  /* set by the step: it found nothing new to do (CLI exit 3) */
} wn_step_report;

typedef struct wn_stream {
	const char *cmd;
	const wn_stream_opts *co;
	wn_policy policy;
	wn_reader *in;          /* source: files (NULL when reading a spool) */
	wn_spool *in_spool;     /* source: the previous step (borrowed) */
	wn_writer *out;         /* sink: a file or stdout */
	wn_spool *out_spool;    /* sink: the next step (borrowed) */
	wn_annot annot;         /* scratch for steps that annotate */
	wn_buf line;            /* scratch for spliced output */
	uint64_t in_count, out_count;
	uint64_t step_rejected; /* rejections by the step (not the reader) */
	uint64_t stop_index;    /* index of the record a step stopped on, +1 (0: none) */
	int failed;             /* set when a stage reported a fatal error */
	int tty;                /* stderr is a terminal: show progress */
	struct timespec start, last_progress;
	uint64_t total_bytes;   /* input size when known, for the ETA */
	char err[512];          /* the sink's last error */
	const char *command;    /* the command line as typed (the CLI), or NULL (a recipe) */
	int no_source;          /* opened by wn_stream_open_sink */
	const char *provenance; /* WINNOW_PROVENANCE's file (the CLI driver sets it), or NULL */
} wn_stream;

/*
 * Provenance of a shell pipeline (WINNOW_PROVENANCE=FILE): every step the
 * CLI runs that wrote records to its sink, or failed, (not stats' report,
 * not store, device or db hash, which have no sink) appends one line to
 * FILE at wn_stream_finish, just before its
 * output is committed (so a downstream step that reads to the end always
 * finds its upstream's line there), under an exclusive flock:
 *   {"pgid":P,"pid":N,"step":"embed","command":"winnow embed ...",
 *    "inputs":[{"name":F,"size":N,"xxh3":"16 hex"}],
 *    "in":N,"out":N,"rejected":N,"seconds":S,"ok":true}
 * (P: the process group, which a shell gives every stage of one pipeline;
 * out counts the records handed to the sink; inputs are the files the step
 * read itself, stdin as "<stdin>"). `store` collects the lines of its process
 * group into runs.extra ({"pipeline":[...]}) and, once its run is
 * committed, removes them from FILE. A failure to write FILE is a warning,
 * never a failed step.
 */
/* The lines of this process group in FILE, as a JSON array (into arr, with
 * the raw lines, newline-ended, into lines): the number of lines, or -1
 * with the reason in err. A missing FILE holds none. */
long wn_stream_provenance_read(const char *path, wn_buf *arr, wn_buf *lines, char *err,
			       size_t errlen);
/* Remove exactly those lines (as read) from FILE: 0 or -1 with the reason. */
int wn_stream_provenance_consume(const char *path, const wn_buf *lines, char *err, size_t errlen);

/*
 * Open a stream whose source is the files argv[0..argc) (none = stdin) and
 * whose sink is co->output or stdout (with_output) or nothing. A quarantine
 * file that is also an input is refused. Returns 0, or -1 with the reason
 * in err (nothing is opened then).
 */
int wn_stream_open_files(wn_stream *s, const char *cmd, const wn_stream_opts *co, int argc,
			 const char **argv, int with_output, char *err, size_t errlen);
/* Open a stream whose source is `src` (rewound here) and whose sink is `dst`
 * (or nothing when dst is NULL): how the recipe runner chains two steps. */
int wn_stream_open_spools(wn_stream *s, const char *cmd, const wn_stream_opts *co, wn_spool *src,
			  wn_spool *dst, char *err, size_t errlen);

/*
 * The one opener for every pair of ends (the recipe runner's): the source is
 * src (rewound here) or, when src is NULL, the files argv[0..argc) (none =
 * stdin); the sink is dst when it is not NULL, else co->output or stdout
 * when with_output, else nothing. 0, or -1 with the reason in err (nothing
 * is opened then). wn_stream_open_files and wn_stream_open_spools are the
 * two common cases of it.
 */
int wn_stream_open_io(wn_stream *s, const char *cmd, const wn_stream_opts *co, int argc,
		      const char **argv, wn_spool *src, wn_spool *dst, int with_output, char *err,
		      size_t errlen);

/* Open a stream with no source (a step that reads no records: export,
 * device) and a sink when with_output: wn_stream_next returns 0 at once. Its
 * closing line is printed only when it has a sink and succeeded: a failed
 * export prints its one error line and nothing else. */
int wn_stream_open_sink(wn_stream *s, const char *cmd, const wn_stream_opts *co, int with_output,
			char *err, size_t errlen);
/* A step without a source that wrote n records to the sink itself (export
 * writes through s->out): in and out both count n. */
void wn_stream_count_written(wn_stream *s, uint64_t n);

/* Next record (1), end (0), or a fatal error already reported (-1). */
int wn_stream_next(wn_stream *s, wn_record *rec);
/* Write the record, with annotations spliced in when `a` is non-NULL. */
int wn_stream_emit(wn_stream *s, const wn_record *rec, const wn_annot *a);
/*
 * For a step that passes records through unchanged (cat): like
 * wn_stream_next, but where the source is files and the sink a file or
 * stdout, records the reader finds back to back come as one run
 * (run->count > 0, see wn_reader_next_run), which wn_stream_emit_run writes
 * as they are; else run->count = 0 and *rec is the next record.
 */
int wn_stream_next_run(wn_stream *s, wn_run *run, wn_record *rec);
int wn_stream_emit_run(wn_stream *s, const wn_run *run);
/* Write raw bytes to the sink (CSV output). */
int wn_stream_write(wn_stream *s, const void *p, size_t n);
/* Reject a record under the policy; returns 0 to go on, -1 to stop (and
 * then sets s->failed). */
int wn_stream_reject(wn_stream *s, const wn_record *rec, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The text of the record's --field, unescaped; -1 (not rejected yet) when the
 * field is missing or not a string, with the reason in *why. */
int wn_stream_text(wn_stream *s, const wn_record *rec, wn_buf *scratch, wn_span *text,
		   const char **why);
/* The name for messages about the whole input: the first input file,
 * "<stdin>", or "<previous step>" when reading a spool. */
const char *wn_stream_source_name(const wn_stream *s);
/* Input bytes consumed so far (0 when reading a spool). */
uint64_t wn_stream_bytes(const wn_stream *s);

/*
 * Commit (ok) or discard the output, close everything, fill the report, and
 * print "winnow <cmd>: in N, out N, rejected N" unless quiet. Returns 0, or
 * -1 when !ok or the commit failed (the reason already printed).
 */
int wn_stream_finish(wn_stream *s, int ok, wn_step_report *rep);

#ifdef __cplusplus
}
#endif

#endif
