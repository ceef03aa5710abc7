/*
 * io/spool.h — the one temporary spool: bytes or records kept aside while a
 * step needs the whole stream (k-means training, DSIR's counts, top-k,
 * stdout held back until a run succeeds), read back once or many times.
 *
 * Owns: its memory and its temporary file. The spool lives in memory up to a
 * limit (default 64 MiB), then in a file under $TMPDIR (or /tmp) that is
 * unlinked the moment it is created (O_TMPFILE, else mkstemp + unlink), so no
 * kill, even kill -9, leaves it behind.
 * Borrows: io/record.h (the record type it keeps file, line and index of).
 *
 * Two ways to use one spool (do not mix them):
 *   bytes:   wn_spool_write() ... wn_spool_copy_to_fd()   (the writer's stdout)
 *   records: wn_spool_put() ... wn_spool_rewind() / wn_spool_get() ...
 * A record read back carries the file name, line and index it had when put,
 * so an error found in a later pass still names where the record came from.
 * Every failure fills err with why ("cannot create a spool in /x: No such
 * file or directory", "spool write failed: No space left on device").
 */
#ifndef WN_IO_SPOOL_H
#define WN_IO_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "io/record.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wn_spool wn_spool;

/* A new, empty spool. mem_limit 0 = 64 MiB; $WINNOW_SPOOL_MEM overrides it
 * (bytes, for tests of the file path). NULL with a reason in err. */
wn_spool *wn_spool_new(size_t mem_limit, char *err, size_t errlen);
void wn_spool_free(wn_spool *s);

/* ---- bytes ---- */
int wn_spool_write(wn_spool *s, const void *p, size_t n, char *err, size_t errlen);
/* Write everything spooled so far to fd (from the start). */
int wn_spool_copy_to_fd(wn_spool *s, int fd, char *err, size_t errlen);
uint64_t wn_spool_bytes(const wn_spool *s);
int wn_spool_on_disk(const wn_spool *s);  /* 1 once it has spilled to a file */

/* ---- records ---- */
/* Append a copy of the record (its bytes, file name, line and index). */
int wn_spool_put(wn_spool *s, const wn_record *rec, char *err, size_t errlen);
uint64_t wn_spool_count(const wn_spool *s);
/* Start reading from the first record (may be called again for another pass). */
int wn_spool_rewind(wn_spool *s, char *err, size_t errlen);
/* Next record: 1 and *rec filled (valid until the next call), 0 at the end,
 * -1 on a read error (reason in err). rec->json is followed by readable
 * padding of at least 64 bytes (simdjson's rule), so it can be validated. */
int wn_spool_get(wn_spool *s, wn_record *rec, char *err, size_t errlen);

/* ---- unlinked temporary files (the spool's, and any other scratch file) ---- */
/* $TMPDIR, or /tmp when it is unset or empty. */
const char *wn_tmp_dir(void);
/* A read-write file in wn_tmp_dir(), unlinked the moment it is created
 * (O_TMPFILE, else mkostemp + unlink): no exit, even kill -9, leaves it
 * behind. Returns the fd, or -1 with "cannot create a <what> in <dir>: why"
 * in err. */
int wn_tmpfile_open(const char *what, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
