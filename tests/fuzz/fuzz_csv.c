/*
 * tests/fuzz/fuzz_csv.c — libFuzzer harness for CSV input as the CLI reads
 * it: the whole record reader (io/reader.c, io/csvin.c) under the bad-input
 * policy, to the end of the input, in two ways that must agree:
 *   1. from a regular file (a memfd: the mapped path), --on-error skip;
 *   2. from stdin (a pipe: the read-and-refill path), --on-error quarantine
 *      (to /dev/null: rejected rows and over-long lines handed over raw).
 * A small --max-record makes over-long lines common. Every record must be a
 * valid JSON object, both passes must return the same records (bytes and
 * line numbers) and reject as many lines, and no more rejections than lines
 * can happen (an input that loops forever is caught by libFuzzer's -timeout).
 */
#include "io/record.h"

#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "tests/fuzz/harness.h"

#define MAX_RECORD 100

struct pass {
	uint64_t records, rejected, digest;
	int rc;
};

/* Read every record of `path` as CSV under the policy; abort on a bad record. */
static struct pass read_all(const char *path, int mode, size_t nlines)
{
	wn_policy pol = {.cmd = "fuzz", .mode = mode, .quarantine_path = "/dev/null", .quiet = 1};
	wn_reader_opts ro = {WN_FORMAT_CSV, MAX_RECORD, &pol};
	const char *paths[] = {path};
	wn_reader *r = wn_reader_open(paths, 1, &ro);
	if (!r)
		abort();
	struct pass ps = {0, 0, FZ_FNV_INIT, 0};
	wn_record rec;
	char err[256];
	while ((ps.rc = wn_reader_next(r, &rec)) == 1) {
		if (wn_record_validate(rec.json.p, rec.json.n, 1, err, sizeof err) != 0 ||
		    rec.line < 1 || rec.line > nlines)
			abort();
		ps.digest = fz_fnv(ps.digest, &rec.line, sizeof rec.line);
		ps.digest = fz_fnv(ps.digest, rec.json.p, rec.json.n);
		ps.records++;
	}
	ps.rejected = pol.rejected;
	wn_reader_close(r);
	wn_policy_close(&pol);
	if (ps.rejected > nlines + 1 || ps.records > nlines)
		abort();
	return ps;
}

/* Pass 1: the input as a regular file. */
static struct pass from_file(const uint8_t *data, size_t size, size_t nlines)
{
	char path[64];
	int fd = fz_memfd("fuzz_csv", data, size, path, sizeof path);
	struct pass ps = read_all(path, WN_ON_ERROR_SKIP, nlines);
	close(fd);
	return ps;
}

/* Pass 2: the input on stdin through a pipe; 0 when it does not fit the pipe. */
static int from_pipe(const uint8_t *data, size_t size, size_t nlines, struct pass *ps)
{
	if (!fz_stdin_from(data, size))
		return 0;
	*ps = read_all("-", WN_ON_ERROR_QUARANTINE, nlines);
	fz_stdin_release();
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t nlines = 1;
	for (size_t i = 0; i < size; i++)
		nlines += data[i] == '\n';
	struct pass a = from_file(data, size, nlines), b;
	if (!from_pipe(data, size, nlines, &b))
		return 0;
	if (a.rc != b.rc || a.records != b.records || a.rejected != b.rejected ||
	    a.digest != b.digest)
		abort();
	return 0;
}
