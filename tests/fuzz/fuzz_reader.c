/*
 * tests/fuzz/fuzz_reader.c — libFuzzer harness for the JSONL reader's block
 * validation (io/reader.c's blocks, io/jsonv.cc's wn_jsonv_check_lines):
 * one input read three ways must give the same records (bytes, line,
 * index), the same rejections (the stderr lines with their positions, the
 * quarantined bytes) and the same end (rc):
 *   1. line by line, no blocks, wn_reader_next: the reference;
 *   2. a regular file (a memfd: the mapped path) in blocks, through
 *      wn_reader_next_run, runs cut back into records;
 *   3. the same from stdin (a pipe: the read-and-refill path).
 * The first byte picks the block size (16..524 bytes) and whether a small
 * --max-record (100) applies, so blocks end at every place, lines longer than
 * a block are common and over-long lines sit beside blocks. Every record
 * must be a valid object, and a run's records must be whole lines that are
 * neither blank nor end in CR (the run is written out as it lies).
 */
#include "io/record.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/fuzz/harness.h"

struct pass {
	uint64_t records, rejected, digest, said, kept;
	int rc;
};

static void take(struct pass *ps, const char *p, size_t n, uint64_t line, uint64_t index)
{
	char err[256];
	if (wn_record_validate(p, n, 1, err, sizeof err) != 0 || index != ps->records)
		abort();
	ps->digest = fz_fnv(ps->digest, &line, sizeof line);
	ps->digest = fz_fnv(ps->digest, p, n);
	ps->records++;
}

/* A run, record by record: whole lines, none blank, none ending in CR. */
static void take_run(struct pass *ps, const wn_run *run)
{
	const char *p = run->bytes.p, *e = p + run->bytes.n;
	for (uint64_t k = 0; k < run->count; k++) {
		const char *nl = memchr(p, '\n', (size_t)(e - p));
		if (!nl || nl == p || nl[-1] == '\r')
			abort();
		take(ps, p, (size_t)(nl - p), run->line + k, run->index + k);
		p = nl + 1;
	}
	if (p != e)
		abort();
}

/* Read `path` to the end under quarantine (stderr and the quarantine file
 * captured); blocks = 0: line by line. */
static struct pass read_all(const char *path, size_t block, size_t max_record)
{
	char spath[64], qpath[64];
	int said = fz_memfd("said", "", 0, spath, sizeof spath);
	int kept = fz_memfd("kept", "", 0, qpath, sizeof qpath), err2 = dup(2);
	if (err2 < 0)
		abort();
	wn_policy pol = {.cmd = "fuzz", .mode = WN_ON_ERROR_QUARANTINE, .quarantine_path = qpath};
	wn_reader_opts ro = {WN_FORMAT_JSONL, max_record, &pol, 0};
	const char *paths[] = {path};
	wn_reader *r = wn_reader_open(paths, 1, &ro);
	if (!r)
		abort();
	wn_reader_set_block(r, block);
	struct pass ps = {0, 0, FZ_FNV_INIT, 0, 0, 0};
	wn_record rec;
	wn_run run;
	dup2(said, 2);
	for (;;) {
		ps.rc = block ? wn_reader_next_run(r, &run, &rec) : wn_reader_next(r, &rec);
		if (ps.rc != 1)
			break;
		if (block && run.count)
			take_run(&ps, &run);
		else
			take(&ps, rec.json.p, rec.json.n, rec.line, rec.index);
	}
	ps.rejected = pol.rejected;
	wn_reader_close(r);
	wn_policy_close(&pol);
	dup2(err2, 2);
	close(err2);
	ps.said = fz_digest_fd(said);
	ps.kept = fz_digest_fd(kept);
	close(said);
	close(kept);
	return ps;
}

static int from_pipe(const uint8_t *data, size_t size, size_t block, size_t max_record,
		     struct pass *ps)
{
	if (!fz_stdin_from(data, size))
		return 0;
	*ps = read_all("-", block, max_record);
	fz_stdin_release();
	return 1;
}

static int same(const struct pass *a, const struct pass *b)
{
	return a->rc == b->rc && a->records == b->records && a->rejected == b->rejected &&
	       a->digest == b->digest && a->said == b->said && a->kept == b->kept;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t block = 16 + (size_t)(data[0] & 0x7f) * 4;
	size_t max_record = data[0] & 0x80 ? 100 : 0;
	data++;
	size--;
	char path[64];
	int fd = fz_memfd("fuzz_reader", data, size, path, sizeof path);
	struct pass ref = read_all(path, 0, max_record), blk = read_all(path, block, max_record), piped;
	close(fd);
	if (!same(&ref, &blk))
		abort();
	if (from_pipe(data, size, block, max_record, &piped)) {
		/* stdin's name differs from the file's in messages: compare the rest */
		if (piped.rc != ref.rc || piped.records != ref.records ||
		    piped.rejected != ref.rejected || piped.digest != ref.digest ||
		    piped.kept != ref.kept)
			abort();
		struct pass piped_ref;
		if (from_pipe(data, size, 0, max_record, &piped_ref) && !same(&piped, &piped_ref))
			abort();
	}
	return 0;
}
