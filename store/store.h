/*
 * store/store.h — winnow's SQLite output: selection tables, the `runs`
 * provenance table, and reading a table back (export).
 *
 * Owns: the database schema and the one-transaction-per-run discipline.
 * A run opens the database in WAL mode, takes the write lock with
 * BEGIN IMMEDIATE, (re)creates or appends to one selection table, inserts
 * rows through a prepared statement, writes one `runs` row, and COMMITs.
 * Because everything sits in that single transaction, a reader never sees
 * half a table and a run killed at any moment leaves the database as it was
 * before or as it is after (SQLite's WAL recovery discards uncommitted
 * frames).
 *
 * A database that does not exist yet is built under a temporary name
 * beside `path` ("<path>.winnow-tmp-<pid>-<n>", plus SQLite's -wal/-shm)
 * and moved into place with rename-without-replace after COMMIT, so it
 * appears whole or not at all. If another run put a database at `path`
 * meanwhile (two runs creating one database at once), this run's rows and
 * runs row are copied into that one in one write transaction, exactly as a
 * run started at that moment would have written them. A failed run, or
 * one killed by SIGINT/SIGTERM/SIGHUP once wn_cleanup_install_signals()
 * (io/cleanup.h) is in place, removes those temporary files and nothing
 * else; a database at `path` is never deleted. kill -9 can leave the
 * temporary files behind, never a half-made database at `path`.
 *
 * Borrows: SQLite (libsqlite3), the JSON scanner (io/json.h) to find id and
 * the "winnow" annotations in each record, the writer (io/record.h) for
 * export output, the signal cleanup list (io/cleanup.h).
 *
 * Selection table (name quoted as an identifier, never spliced as SQL):
 *   rowid INTEGER PRIMARY KEY   insertion order, 1.. in replace mode
 *   id TEXT                     the record's "id" (string, or number as text)
 *   text TEXT                   the record's text field, unescaped
 *   record TEXT                 the original line, exact bytes
 *   winnow TEXT                 the "winnow" member's raw JSON, or NULL
 *   "<key>" ...                 one column per scalar annotation key of the
 *                               winnow object (INTEGER/REAL/TEXT; booleans
 *                               as 0/1), added as keys first appear
 * A key gets no column (it stays in `winnow`) when it is empty, holds a NUL,
 * or equals a fixed column or another key's column ignoring ASCII case.
 *
 * runs table:
 *   run_id INTEGER PRIMARY KEY, started TEXT, finished TEXT (ISO 8601 UTC),
 *   version TEXT, command TEXT, inputs TEXT (JSON array of
 *   {"name","size","xxh3"}), n_in, n_out, n_rejected INTEGER, seed TEXT,
 *   table_name TEXT, mode TEXT ("replace"|"append"), rowid_first,
 *   rowid_last INTEGER (the rows this run inserted; NULL when none),
 *   extra TEXT (a JSON object other stages may add, or NULL: a recipe's
 *   store step writes {"recipe":{"file","sha256","text"},"steps":[{"step",
 *   "in","out","rejected","seconds"}...]}, see store/store_step.h).
 * inputs[].xxh3 is 16 lower-case hex digits, the xxh3-64 of the input's bytes
 * as read (compressed); wn_store_input_seen finds it in earlier runs.
 */
#ifndef WN_STORE_H
#define WN_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "io/json.h"
#include "io/record.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WN_STORE_DEFAULT_TABLE "selection"
#define WN_STORE_RUNS_TABLE "runs"

/* append-new: append, but skip a record whose content hash (store/seen.h)
 * is already in the table (stored earlier, or earlier in this run). */
enum wn_store_mode { WN_STORE_REPLACE = 0, WN_STORE_APPEND = 1, WN_STORE_APPEND_NEW = 2 };

/* Return codes besides 0. */
enum wn_store_status {
	WN_STORE_EDB = -1,     /* database error: the run cannot go on */
	WN_STORE_EBADREC = -2, /* this record cannot be stored: reject it */
};

typedef struct wn_store_opts {
	const char *table;       /* NULL: "selection" */
	int mode;                /* enum wn_store_mode */
	int busy_timeout_ms;     /* wait for another writer; 0: 5000, <0: none */
	const char *command;     /* the command line, for `runs` (may be NULL) */
	const char *seed;        /* the run's seed as text, NULL when none */
	const char *extra;       /* raw JSON object for runs.extra, or NULL */
	const char *id_field;    /* append modes: hash this field's value, not the record */
	int vectors;             /* enum wn_store_vectors */
} wn_store_opts;

/* Where vector annotations go: members of "winnow" whose value is an object
 * with a "b64" member (winnow.emb). RECORD (default): in `record` only (the
 * `winnow` column leaves them out), so export gives the input bytes; BOTH:
 * in `record` and `winnow` (the layout before, twice the bytes); DROP: in
 * neither (export then gives the records without them). */
enum wn_store_vectors { WN_STORE_VEC_RECORD = 0, WN_STORE_VEC_BOTH = 1, WN_STORE_VEC_DROP = 2 };
/* "record", "both" or "drop": the value, or -1. */
int wn_store_parse_vectors(const char *s);

typedef struct wn_store wn_store;

/* Parse "replace", "append" or "append-new": the mode, or -1. */
int wn_store_parse_mode(const char *s);

/*
 * Check a table name: 0, or -1 with the reason in err. Any bytes are fine
 * (they are quoted) except an empty name, the `runs` table, names SQLite
 * reserves (sqlite_*), and names holding a NUL.
 */
int wn_store_check_table(const char *name, char *err, size_t errlen);

/*
 * Open the database at `path` (or start a new one under a temporary name,
 * see above) and begin the run's transaction: WAL mode, BEGIN IMMEDIATE,
 * the runs table, and the selection table dropped and recreated (replace)
 * or checked and reused (append). Returns NULL with the reason in err
 * ("unable to open database file", "database is locked", "file is not a
 * database", ...).
 */
wn_store *wn_store_begin(const char *path, const wn_store_opts *opts, char *err, size_t errlen);

/*
 * Add one row. `record` is the validated JSON object (exact bytes stored);
 * `text` is the text to store (already taken from --field by the caller).
 * The id and the annotations are read from the record itself; the bytes
 * are copied, so the caller may reuse its buffers at once. Returns 0,
 * WN_STORE_EBADREC (e.g. "winnow" is not an object; the row is not added)
 * or WN_STORE_EDB, with the reason in err; after WN_STORE_EDB the run fails
 * as a whole. The row is inserted before it returns (one thread owns the
 * connection: the step reads ahead on another, see store/store_step.c).
 */
int wn_store_add(wn_store *s, wn_span record, wn_span text, char *err, size_t errlen);
/* Would wn_store_add refuse this record (WN_STORE_EBADREC, reason in err)?
 * Needs no store, so a reader thread can reject records in stream order. */
int wn_store_check_record(wn_span record, wn_buf *scratch, char *err, size_t errlen);

/* Provenance for `runs`: one call per input, in order. 0 or -1 (memory). */
int wn_store_add_input(wn_store *s, const char *name, uint64_t size, uint64_t xxh3);

uint64_t wn_store_rows(const wn_store *s);      /* rows accepted so far */
/* Append modes: records that were already in the table (by content hash):
 * skipped under append-new, stored again under append. */
uint64_t wn_store_present(const wn_store *s);

/* Set (or replace) runs.extra: a raw JSON object, copied. 0 or -1 (memory). */
int wn_store_set_extra(wn_store *s, const char *json);

/*
 * Whether an earlier run stored rows in this run's table from an input with
 * this xxh3 since the table was last replaced (its rows are still there):
 * 1 with that run's run_id in *run_id (the latest such run), 0 when none,
 * -1 with the reason in err (then the run cannot commit). Reads inside the
 * run's transaction; call it after the last wn_store_add.
 */
int wn_store_input_seen(wn_store *s, uint64_t xxh3, int64_t *run_id, char *err, size_t errlen);

/*
 * Write the runs row (counts: in, rejected; out is the rows added) and
 * COMMIT; a new database is then moved into place, or merged into the one
 * another run put there first (that merge waits on the busy timeout and
 * can fail like any run: "database is locked", "not a winnow table").
 * Returns 0 (the new run_id in *run_id when non-NULL), or -1 with the
 * reason in err (then it is as wn_store_abort). Frees s either way.
 */
int wn_store_commit(wn_store *s, uint64_t n_in, uint64_t n_rejected, int64_t *run_id,
		    char *err, size_t errlen);

/* Roll back and close; a new database's temporary files are removed, so a
 * failed first run leaves nothing behind. Frees s. NULL is fine. */
void wn_store_abort(wn_store *s);

/* ---- export ----------------------------------------------------------- */

enum wn_store_format { WN_STORE_JSONL = 0, WN_STORE_CSV = 1 };

/*
 * Read table `table` (NULL: "selection") of the database at `path` in rowid
 * order, inside one read transaction (a consistent snapshot even while a
 * store runs), and write it to `w`: JSONL writes each `record` exactly as
 * stored plus "\n"; CSV writes a header row, then id, text and every
 * annotation column, quoted per RFC 4180 (LF line ends, as `winnow cat
 * --to csv`); NULL is an empty cell. The database is
 * never written (query_only) and never created. Returns 0 (rows written in *rows), or
 * -1 with the reason in err.
 */
int wn_store_export(const char *path, const char *table, int format, wn_writer *w,
		    uint64_t *rows, char *err, size_t errlen);

/* Append `name` quoted as an SQL identifier ("a""b") to out. 0 or -1. */
int wn_store_quote_ident(wn_buf *out, const char *name, size_t n);

#ifdef __cplusplus
}
#endif

#endif
