/*
 * io/reader.c — the record reader: inputs -> decoded bytes -> lines -> records.
 *
 * Owns: opening inputs in order (stdin for "-"), sniffing gzip/zstd/lz4 by
 * their magic bytes (never by extension; xz and bzip2 are recognised and
 * refused with a clear message), streaming decompression, splitting lines
 * (LF or CRLF, a final line without newline accepted, a UTF-8 BOM at the
 * start of an input skipped, blank lines ignored), the record size limit,
 * strict validation through io/jsonv.h, and CSV inputs (io/csvin.c turns
 * rows into JSON objects). Bad lines go to the policy (io/policy.c) with
 * their original bytes: the line as read (an over-long one whole, kept in
 * the buffer while a quarantine file wants it) or the CSV row as read.
 *
 * Why one big buffer: decoded bytes land in one growable buffer that keeps
 * WN_JSON_PADDING spare bytes, so each line is validated where it lies, with
 * no copy, and plain files are read straight into it.
 *
 * Why blocks: simdjson's setup per document costs more than validating a
 * short record, so the complete lines at the current position (up to the
 * block size) are validated in one call (wn_jsonv_check_lines). A block it
 * vouches for gives its lines without a check of their own; any other block
 * is checked line by line, exactly as without blocks, so an error, its
 * position and the policy never depend on where a block ends. The first
 * line of an input (a BOM) is never in a block. A clean block (no blank
 * line, no CR) is its own output: wn_reader_next_run hands it over whole.
 * A mapped input is hashed when its hash is first asked for (close_input).
 */
#include "io/record.h"
#include "io/csvin.h"
#include "io/jsonv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <lz4frame.h>
#include <xxhash.h>
#include <zlib.h>
#include <zstd.h>

#define RAW_CHUNK (1u << 20)
#define MIN_FILL (1u << 20)
#define DEFAULT_MAX_RECORD ((size_t)64 << 20)
#define DEFAULT_BLOCK ((size_t)256 << 10)
#define PREFAULT ((size_t)4 << 20) /* mapped bytes whose page tables are filled at once */

/* decoded: plain, gzip, zstd, lz4 frames; recognised and refused: the rest */
enum codec {
	CODEC_PLAIN, CODEC_GZIP, CODEC_ZSTD, CODEC_LZ4, CODEC_XZ, CODEC_BZIP2, CODEC_LZ4_LEGACY
};
#define SNIFF_BYTES 16

/* What the first bytes of an input say it is (n = how many there are). */
static enum codec codec_of(const unsigned char *m, size_t n)
{
	static const unsigned char xz[6] = {0xfd, '7', 'z', 'X', 'Z', 0};
	static const unsigned char bz_block[6] = {0x31, 0x41, 0x59, 0x26, 0x53, 0x59};
	static const unsigned char bz_end[6] = {0x17, 0x72, 0x45, 0x38, 0x50, 0x90};
	if (n >= 2 && m[0] == 0x1f && m[1] == 0x8b)
		return CODEC_GZIP;
	if (n >= 4 && !memcmp(m, "\x28\xb5\x2f\xfd", 4))
		return CODEC_ZSTD;
	if (n >= 4 && !memcmp(m, "\x04\x22\x4d\x18", 4))
		return CODEC_LZ4;
	if (n >= 4 && !memcmp(m, "\x02\x21\x4c\x18", 4))
		return CODEC_LZ4_LEGACY;
	if (n >= 6 && !memcmp(m, xz, 6))
		return CODEC_XZ;
	/* "BZh" + block size, then a block or the end-of-stream marker: a CSV
	 * header may well start with "BZh", so the marker must follow */
	if (n >= 10 && !memcmp(m, "BZh", 3) && m[3] >= '1' && m[3] <= '9' &&
	    (!memcmp(m + 4, bz_block, 6) || !memcmp(m + 4, bz_end, 6)))
		return CODEC_BZIP2;
	return CODEC_PLAIN;
}

struct input_info {
	char *name;
	uint64_t size;
	uint64_t hash;
	const char *map;          /* a mapped input not hashed yet: its bytes, kept mapped */
	size_t map_len;
};

struct wn_reader {
	wn_reader_opts opts;
	wn_policy *policy;
	const char *const *paths;
	int npaths, cur;          /* index of the open input, -1 before the first */
	struct input_info *info;
	/* the open input */
	int fd;
	const char *name;         /* display name */
	enum codec codec;
	int in_eof, codec_done, at_start;
	unsigned char *raw;       /* compressed bytes */
	size_t raw_pos, raw_len;
	z_stream z;
	int z_init;
	ZSTD_DStream *zs;
	LZ4F_dctx *lz4;
	XXH3_state_t *hash;
	uint64_t raw_total;
	/* a plain regular file is mapped instead of read: no copy */
	const char *map;
	size_t map_len, map_pos, map_readable;
	wn_buf pad;               /* a line near the map's end, copied with padding */
	size_t fault_pos;         /* mapped bytes prefaulted so far */
	/* decoded bytes: buf[start, end) not yet consumed */
	char *buf;
	size_t cap, start, end, scan;
	uint64_t line;            /* lines consumed in the current input */
	int skipping_long;        /* inside an over-long line: drop until newline */
	/* the block at the current position (see start_block) */
	size_t block;             /* most bytes a block holds (0: no blocks) */
	size_t blk_left;          /* its bytes not consumed yet (0: none) */
	size_t blk_objs;          /* a clean block: its records not consumed yet */
	int blk_state;            /* WN_JSONV_LINES_* */
	/* state */
	wn_jsonv *jv;
	wn_csvin *csv;
	int csv_done;             /* the CSV parser of this input was finished */
	wn_buf csvrec;
	uint64_t count, bytes;
	int failed;
};

/* Never above the record limit, so that no line of a block is over-long. */
void wn_reader_set_block(wn_reader *r, size_t bytes)
{
	r->block = bytes < r->opts.max_record ? bytes : r->opts.max_record;
}

wn_reader *wn_reader_open(const char *const *paths, int npaths, const wn_reader_opts *opts)
{
	static const char *const stdin_only[] = {"-"};
	wn_reader *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->opts = *opts;
	if (!r->opts.max_record)
		r->opts.max_record = DEFAULT_MAX_RECORD;
	r->policy = opts->policy;
	const char *blk = getenv("WINNOW_READ_BLOCK");
	wn_reader_set_block(r, blk && *blk ? strtoull(blk, NULL, 10) : DEFAULT_BLOCK);
	r->paths = npaths ? paths : stdin_only;
	r->npaths = npaths ? npaths : 1;
	r->cur = -1;
	r->fd = -1;
	r->info = calloc((size_t)r->npaths, sizeof *r->info);
	r->jv = wn_jsonv_new();
	r->hash = XXH3_createState();
	r->raw = malloc(RAW_CHUNK);
	r->cap = 4u << 20;
	r->buf = malloc(r->cap + WN_JSON_PADDING);
	if (!r->info || !r->jv || !r->hash || !r->raw || !r->buf) {
		wn_reader_close(r);
		return NULL;
	}
	return r;
}

/*
 * A mapped input is hashed only when its hash is asked for (provenance,
 * store, recipes; cat alone never asks): its mapping outlives the input,
 * without its page tables, until then or until the reader closes.
 */
static void close_input(wn_reader *r)
{
	int keep = r->cur >= 0 && r->cur < r->npaths && r->fd >= 0;
	if (keep) {
		r->info[r->cur].size = r->raw_total;
		r->info[r->cur].hash = XXH3_64bits_digest(r->hash);
	}
	if (r->map && keep) {
		madvise((void *)r->map, r->map_len, MADV_DONTNEED);
		r->info[r->cur].map = r->map;
		r->info[r->cur].map_len = r->map_len;
	} else if (r->map) {
		munmap((void *)r->map, r->map_len);
	}
	r->map = NULL;
	if (r->fd > 0)
		close(r->fd);
	r->fd = -1;
	if (r->z_init)
		inflateEnd(&r->z);
	r->z_init = 0;
	ZSTD_freeDStream(r->zs);
	r->zs = NULL;
	LZ4F_freeDecompressionContext(r->lz4);
	r->lz4 = NULL;
}

static int fail_input(wn_reader *r, const char *what, const char *detail)
{
	fprintf(stderr, "winnow %s: %s:%llu: %s%s%s\n", r->policy->cmd, r->name,
		(unsigned long long)(r->line + 1), what, detail ? ": " : "", detail ? detail : "");
	r->failed = 1;
	return -1;
}

/* Map a plain (uncompressed) regular file; leaves r->map NULL otherwise. */
static void try_map(wn_reader *r, size_t size)
{
	unsigned char m[SNIFF_BYTES];
	ssize_t n = pread(r->fd, m, sizeof m, 0);
	if (n < 0 || codec_of(m, (size_t)n) != CODEC_PLAIN)
		return;
	void *p = mmap(NULL, size, PROT_READ, MAP_PRIVATE, r->fd, 0);
	if (p == MAP_FAILED)
		return;
	madvise(p, size, MADV_SEQUENTIAL);
	long page = sysconf(_SC_PAGESIZE);
	r->map = p;
	r->map_len = size;
	r->map_pos = 0;
	/* bytes past the end of the file up to the page end read as zeros */
	r->map_readable = (size + (size_t)page - 1) / (size_t)page * (size_t)page;
	r->fault_pos = 0;
	r->raw_total = size;
	r->in_eof = 1;
}

/* Reject an over-long line (raw: its bytes, or NULL when they are gone). */
static int reject_long(wn_reader *r, uint64_t line, const char *raw, size_t n)
{
	if (!wn_policy_reject(r->policy, r->name, line, raw, n,
			      "record larger than the limit (%zu bytes)", r->opts.max_record))
		return 0;
	r->failed = 1;
	return -1;
}

/* next_line() for a mapped file. */
static int next_mapped_line(wn_reader *r, const char **p, size_t *n)
{
	for (;;) {
		if (r->map_pos >= r->map_len)
			return 0;
		const char *s = r->map + r->map_pos;
		size_t left = r->map_len - r->map_pos;
		const char *nl = memchr(s, '\n', left);
		size_t len = nl ? (size_t)(nl - s) : left;
		r->map_pos += len + (nl ? 1 : 0);
		r->line++;
		if (len > r->opts.max_record) {
			if (reject_long(r, r->line, s, len))
				return -1;
			continue;
		}
		if ((size_t)(s - r->map) + len + WN_JSON_PADDING > r->map_readable) {
			wn_buf_reset(&r->pad);
			if (wn_buf_append(&r->pad, s, len) || wn_buf_reserve(&r->pad, WN_JSON_PADDING))
				return fail_input(r, "out of memory", NULL);
			s = r->pad.data;
		}
		*p = s;
		*n = len;
		return 1;
	}
}

static int open_next_input(wn_reader *r)
{
	close_input(r);
	r->cur++;
	if (r->cur >= r->npaths)
		return 0;
	const char *path = r->paths[r->cur];
	int is_stdin = !strcmp(path, "-");
	r->name = is_stdin ? "<stdin>" : path;
	r->info[r->cur].name = strdup(r->name);
	r->fd = is_stdin ? 0 : open(path, O_RDONLY | O_CLOEXEC);
	r->line = 0;
	r->in_eof = r->codec_done = 0;
	r->at_start = 1;
	r->blk_left = r->blk_objs = 0;
	r->raw_pos = r->raw_len = 0;
	r->raw_total = 0;
	r->codec = CODEC_PLAIN;
	XXH3_64bits_reset(r->hash);
	if (r->fd < 0) {
		fprintf(stderr, "winnow %s: %s: cannot open: %s\n", r->policy->cmd, path, strerror(errno));
		r->failed = 1;
		return -1;
	}
	struct stat st;
	if (fstat(r->fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		fprintf(stderr, "winnow %s: %s: is a directory\n", r->policy->cmd, path);
		r->failed = 1;
		return -1;
	}
	if (S_ISREG(st.st_mode) && st.st_size > 0)
		try_map(r, (size_t)st.st_size);
	return 1;
}

/* Read raw bytes into dst; returns bytes read, 0 at EOF, -1 on error. */
static ssize_t read_raw(wn_reader *r, void *dst, size_t cap)
{
	for (;;) {
		ssize_t n = read(r->fd, dst, cap);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fail_input(r, "read error", strerror(errno));
			return -1;
		}
		if (n > 0) {
			XXH3_64bits_update(r->hash, dst, (size_t)n);
			r->raw_total += (uint64_t)n;
		}
		return n;
	}
}

/* Make room for at least `want` more decoded bytes at buf + end. */
static int make_room(wn_reader *r, size_t want)
{
	if (r->start > 0 && r->cap - r->end < want) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->scan -= r->start;
		r->start = 0;
	}
	while (r->cap - r->end < want) {
		size_t cap = r->cap * 2;
		char *p = realloc(r->buf, cap + WN_JSON_PADDING);
		if (!p)
			return fail_input(r, "out of memory", NULL);
		r->buf = p;
		r->cap = cap;
	}
	return 0;
}

/* An input in a format the reader knows but does not decode. */
static int refuse_codec(wn_reader *r, const char *what, const char *tool)
{
	fprintf(stderr, "winnow %s: %s: compressed with %s: not supported (use %s)\n",
		r->policy->cmd, r->name, what, tool);
	r->failed = 1;
	return -1;
}

/* The first bytes of a pipe may come in pieces: read until SNIFF_BYTES or EOF. */
static ssize_t read_first(wn_reader *r)
{
	size_t got = 0;
	while (got < SNIFF_BYTES) {
		ssize_t n = read_raw(r, r->raw + got, RAW_CHUNK - got);
		if (n < 0)
			return -1;
		if (n == 0) {
			r->in_eof = 1;
			break;
		}
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static int sniff_codec(wn_reader *r)
{
	ssize_t n = read_first(r);
	if (n < 0)
		return -1;
	r->raw_pos = 0;
	r->raw_len = (size_t)n;
	r->codec = codec_of(r->raw, (size_t)n);
	if (r->codec == CODEC_XZ)
		return refuse_codec(r, "xz", "xzcat");
	if (r->codec == CODEC_BZIP2)
		return refuse_codec(r, "bzip2", "bzcat");
	if (r->codec == CODEC_LZ4_LEGACY)
		return refuse_codec(r, "lz4 (legacy format)", "lz4cat");
	if (r->codec == CODEC_GZIP) {
		memset(&r->z, 0, sizeof r->z);
		if (inflateInit2(&r->z, 15 + 16) != Z_OK)
			return fail_input(r, "cannot start gzip decoder", NULL);
		r->z_init = 1;
	} else if (r->codec == CODEC_LZ4) {
		if (LZ4F_isError(LZ4F_createDecompressionContext(&r->lz4, LZ4F_VERSION)))
			return fail_input(r, "cannot start lz4 decoder", NULL);
	} else if (r->codec == CODEC_ZSTD) {
		r->zs = ZSTD_createDStream();
		if (!r->zs || ZSTD_isError(ZSTD_initDStream(r->zs)))
			return fail_input(r, "cannot start zstd decoder", NULL);
	} else {
		/* plain: the sniffed bytes are already data */
		if (make_room(r, (size_t)n))
			return -1;
		memcpy(r->buf + r->end, r->raw, (size_t)n);
		r->end += (size_t)n;
		r->raw_len = 0;
	}
	return 0;
}

static int refill_raw(wn_reader *r)
{
	if (r->raw_pos < r->raw_len || r->in_eof)
		return 0;
	ssize_t n = read_raw(r, r->raw, RAW_CHUNK);
	if (n < 0)
		return -1;
	r->raw_pos = 0;
	r->raw_len = (size_t)n;
	if (n == 0)
		r->in_eof = 1;
	return 0;
}

static int fill_gzip(wn_reader *r)
{
	if (refill_raw(r))
		return -1;
	if (r->codec_done) {
		if (r->raw_pos == r->raw_len)
			return 0;
		/* another gzip member follows */
		if (inflateReset(&r->z) != Z_OK)
			return fail_input(r, "corrupt gzip data", NULL);
		r->codec_done = 0;
	}
	r->z.next_in = r->raw + r->raw_pos;
	r->z.avail_in = (uInt)(r->raw_len - r->raw_pos);
	r->z.next_out = (Bytef *)r->buf + r->end;
	r->z.avail_out = (uInt)(r->cap - r->end);
	size_t end0 = r->end, pos0 = r->raw_pos;
	int zr = inflate(&r->z, Z_NO_FLUSH);
	r->end = (size_t)((char *)r->z.next_out - r->buf);
	r->raw_pos = r->raw_len - r->z.avail_in;
	if (zr == Z_STREAM_END)
		r->codec_done = 1;
	else if (zr == Z_BUF_ERROR || zr == Z_OK) {
		if (r->end == end0 && r->raw_pos == pos0 && r->in_eof)
			return fail_input(r, "truncated gzip stream", NULL);
	} else
		return fail_input(r, "corrupt gzip data", r->z.msg ? r->z.msg : zError(zr));
	return 0;
}

static int fill_zstd(wn_reader *r)
{
	if (refill_raw(r))
		return -1;
	if (r->codec_done && r->raw_pos == r->raw_len)
		return 0;
	ZSTD_inBuffer in = {r->raw, r->raw_len, r->raw_pos};
	ZSTD_outBuffer out = {r->buf, r->cap, r->end};
	size_t zr = ZSTD_decompressStream(r->zs, &out, &in);
	if (ZSTD_isError(zr))
		return fail_input(r, "corrupt zstd data", ZSTD_getErrorName(zr));
	if (out.pos == r->end && in.pos == r->raw_pos && r->in_eof && zr != 0)
		return fail_input(r, "truncated zstd stream", NULL);
	r->codec_done = zr == 0;
	r->end = out.pos;
	r->raw_pos = in.pos;
	return 0;
}

/* Frames follow each other; the context starts a new one after each end. */
static int fill_lz4(wn_reader *r)
{
	if (refill_raw(r))
		return -1;
	if (r->raw_pos == r->raw_len) {
		/* only at EOF: every raw byte is decoded */
		if (!r->codec_done)
			return fail_input(r, "truncated lz4 stream", NULL);
		return 0;
	}
	size_t dst = r->cap - r->end, src = r->raw_len - r->raw_pos;
	size_t hint = LZ4F_decompress(r->lz4, r->buf + r->end, &dst, r->raw + r->raw_pos, &src, NULL);
	if (LZ4F_isError(hint))
		return fail_input(r, "corrupt lz4 data", LZ4F_getErrorName(hint));
	r->end += dst;
	r->raw_pos += src;
	r->codec_done = hint == 0; /* 0: the frame is complete */
	return 0;
}

/* Is this input finished (all raw bytes read and decoded)? */
static int input_done(const wn_reader *r)
{
	if (!r->in_eof)
		return 0;
	return r->codec == CODEC_PLAIN || (r->raw_pos == r->raw_len && r->codec_done);
}

/* Add decoded bytes to the buffer; 0 ok (maybe none at EOF), -1 error. */
static int fill(wn_reader *r)
{
	if (make_room(r, MIN_FILL))
		return -1;
	if (r->codec == CODEC_GZIP)
		return fill_gzip(r);
	if (r->codec == CODEC_ZSTD)
		return fill_zstd(r);
	if (r->codec == CODEC_LZ4)
		return fill_lz4(r);
	ssize_t n = read_raw(r, r->buf + r->end, r->cap - r->end);
	if (n < 0)
		return -1;
	if (n == 0)
		r->in_eof = 1;
	r->end += (size_t)n;
	return 0;
}

static int is_blank(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return 0;
	return 1;
}

/* Does the policy keep rejected bytes (so an over-long line is kept whole)? */
static int keeps_raw(const wn_reader *r)
{
	return r->policy->mode == WN_ON_ERROR_QUARANTINE;
}

/* A complete line of the buffer: 1 to return it, 0 when dropped, -1 to stop. */
static int check_line(wn_reader *r, const char *s, size_t len)
{
	r->line++;
	if (r->skipping_long) { /* its start was reported and dropped already */
		r->skipping_long = 0;
		return 0;
	}
	if (len > r->opts.max_record)
		return reject_long(r, r->line, s, len) ? -1 : 0;
	return 1;
}

/*
 * The next raw line of the current input: 1 with [*p, *p + *n), 0 when the
 * input has no more lines, -1 on error. Over-long lines are rejected here:
 * kept in the buffer until they end when the policy wants their bytes,
 * else reported at once and dropped as they come.
 */
static int next_line(wn_reader *r, const char **p, size_t *n)
{
	if (r->map)
		return next_mapped_line(r, p, n);
	for (;;) {
		char *nl = memchr(r->buf + r->scan, '\n', r->end - r->scan);
		int last = !nl && input_done(r);
		if (nl || (last && r->start < r->end)) {
			size_t s = r->start, e = nl ? (size_t)(nl - r->buf) : r->end;
			r->start = r->scan = nl ? e + 1 : e;
			int c = check_line(r, r->buf + s, e - s);
			if (c < 0)
				return -1;
			if (c == 0)
				continue;
			*p = r->buf + s;
			*n = e - s;
			return 1;
		}
		if (last) {
			r->skipping_long = 0;
			return 0;
		}
		r->scan = r->end;
		if (r->end - r->start > r->opts.max_record && !keeps_raw(r)) {
			if (!r->skipping_long) {
				r->skipping_long = 1;
				if (reject_long(r, r->line + 1, NULL, 0))
					return -1;
			}
			r->start = r->scan = r->end;
		}
		if (fill(r)) {
			/* an over-long line kept for the quarantine that the input's
			 * failure cuts short is rejected first, as skip did when it
			 * grew past the limit: the counts do not depend on the policy */
			if (keeps_raw(r) && r->end - r->start > r->opts.max_record)
				reject_long(r, r->line + 1, r->buf + r->start, r->end - r->start);
			return -1;
		}
	}
}

/* ---- blocks ---------------------------------------------------------- */

/*
 * The complete lines at the current position, at most r->block bytes and
 * readable WN_JSON_PADDING past their end: 1 with [*p, *p + *n), 0 when
 * there is none (a line longer than the block, the map's last bytes, an
 * over-long line being dropped, a buffer holding no newline yet).
 */
static int block_window(const wn_reader *r, const char **p, size_t *n)
{
	const char *s;
	size_t avail;
	if (r->map) {
		size_t room = r->map_readable - r->map_pos;
		if (r->map_pos >= r->map_len || room <= WN_JSON_PADDING)
			return 0;
		s = r->map + r->map_pos;
		avail = r->map_len - r->map_pos;
		if (avail > room - WN_JSON_PADDING)
			avail = room - WN_JSON_PADDING;
	} else {
		if (r->skipping_long)
			return 0;
		s = r->buf + r->start;
		avail = r->end - r->start;
	}
	if (avail > r->block)
		avail = r->block;
	const char *nl = avail ? memrchr(s, '\n', avail) : NULL;
	if (!nl)
		return 0;
	*p = s;
	*n = (size_t)(nl - s) + 1;
	return 1;
}

/* Fill the page tables of the mapped input up to byte `to` (and a little
 * beyond) in one call: cheaper than a fault per few pages. */
static void prefault(wn_reader *r, size_t to)
{
#ifdef MADV_POPULATE_READ
	while (r->fault_pos < to && r->fault_pos < r->map_len) {
		size_t n = r->map_len - r->fault_pos < PREFAULT ? r->map_len - r->fault_pos : PREFAULT;
		if (madvise((char *)r->map + r->fault_pos, n, MADV_POPULATE_READ)) {
			r->fault_pos = r->map_len; /* not supported here: fault as we go */
			return;
		}
		r->fault_pos += n;
	}
#else
	(void)r;
	(void)to;
#endif
}

/* Validate the lines at the current position as one block, when there are some. */
static void start_block(wn_reader *r)
{
	const char *p;
	size_t n, nobj;
	if (!r->block || r->at_start || !block_window(r, &p, &n))
		return;
	if (r->map)
		prefault(r, r->map_pos + n);
	r->blk_state = wn_jsonv_check_lines(r->jv, p, n, r->block, &nobj);
	r->blk_left = n;
	r->blk_objs = r->blk_state == WN_JSONV_LINES_CLEAN ? nobj : 0;
}

/* A line of n bytes and its newline was consumed: 1 when its block vouches for it. */
static int block_line(wn_reader *r, size_t n)
{
	if (!r->blk_left)
		return 0;
	r->blk_left = r->blk_left > n + 1 ? r->blk_left - n - 1 : 0;
	if (r->blk_objs)
		r->blk_objs--;
	return r->blk_state != WN_JSONV_LINES_BAD;
}

/* The rest of a clean block as one run: 1, or 0 when there is none here. */
static int take_run(wn_reader *r, wn_run *run)
{
	if (!r->blk_left)
		start_block(r);
	if (!r->blk_left || r->blk_state != WN_JSONV_LINES_CLEAN || !r->blk_objs)
		return 0;
	const char *p = r->map ? r->map + r->map_pos : r->buf + r->start;
	size_t n = r->blk_left;
	*run = (wn_run){{p, n}, r->blk_objs, r->name, r->line + 1, r->count};
	r->line += run->count;
	r->count += run->count;
	r->bytes += n;
	if (r->map)
		r->map_pos += n;
	else
		r->start = r->scan = r->start + n;
	r->blk_left = r->blk_objs = 0;
	return 1;
}

int wn_record_validate(const char *buf, size_t n, int copy, char *err, size_t errlen)
{
	wn_jsonv *jv = wn_jsonv_new();
	if (!jv) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	char *tmp = NULL;
	if (copy) {
		tmp = malloc(n + WN_JSON_PADDING);
		if (!tmp) {
			wn_jsonv_free(jv);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		memcpy(tmp, buf, n);
		memset(tmp + n, 0, WN_JSON_PADDING);
		buf = tmp;
	}
	int r = wn_jsonv_check_object(jv, buf, n, err, errlen);
	free(tmp);
	wn_jsonv_free(jv);
	return r;
}

/*
 * Check one record; 1 = a record, 0 = rejected and skipped, -1 = stop.
 * raw: what a rejection hands to the policy (the line, or the CSV row as read).
 */
static int take_line(wn_reader *r, const char *p, size_t n, uint64_t line, const char *raw,
		     size_t rawlen, int checked, wn_record *rec)
{
	char err[256];
	if (!checked && wn_jsonv_check_object(r->jv, p, n, err, sizeof err)) {
		if (wn_policy_reject(r->policy, r->name, line, raw, rawlen, "%s", err)) {
			r->failed = 1;
			return -1;
		}
		return 0;
	}
	rec->json.p = p;
	rec->json.n = n;
	rec->file = r->name;
	rec->line = line;
	rec->index = r->count++;
	return 1;
}

static int next_jsonl(wn_reader *r, wn_record *rec)
{
	const char *p;
	size_t n;
	int got;
	for (;;) {
		if (!r->blk_left)
			start_block(r);
		if ((got = next_line(r, &p, &n)) <= 0)
			return got;
		int checked = block_line(r, n);
		r->bytes += n + 1;
		if (r->at_start) {
			r->at_start = 0;
			if (n >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3)) {
				/* RFC 8259 lets a parser ignore a BOM; one alone is no JSON */
				p += 3;
				n -= 3;
				if (is_blank(p, n)) {
					if (wn_policy_reject(r->policy, r->name, r->line, p - 3, n + 3,
							     "byte order mark with no JSON after it")) {
						r->failed = 1;
						return -1;
					}
					continue;
				}
			}
		}
		if (n && p[n - 1] == '\r')
			n--;
		if (is_blank(p, n))
			continue;
		int t = take_line(r, p, n, r->line, p, n, checked, rec);
		if (t)
			return t;
	}
}

/* A row io/csvin.c completed (c = 1) or dropped (c = -1): same returns as take_line. */
static int csv_row(wn_reader *r, int c, uint64_t line, const char *err, wn_record *rec)
{
	size_t rawlen;
	const char *raw = wn_csvin_raw(r->csv, &rawlen);
	if (c < 0) {
		if (wn_policy_reject(r->policy, r->name, line, raw, rawlen, "%s", err)) {
			r->failed = 1;
			return -1;
		}
		return 0;
	}
	if (wn_buf_reserve(&r->csvrec, WN_JSON_PADDING))
		return fail_input(r, "out of memory", NULL);
	return take_line(r, r->csvrec.data, r->csvrec.len, line, raw, rawlen, 0, rec);
}

static int next_csv(wn_reader *r, wn_record *rec)
{
	while (!r->csv_done) {
		const char *p;
		size_t n;
		int got = next_line(r, &p, &n);
		if (got < 0)
			return -1;
		char err[256];
		uint64_t line = 0;
		int c;
		if (got) {
			r->bytes += n + 1;
			c = wn_csvin_feed(r->csv, p, n, r->line, &r->csvrec, &line, err, sizeof err);
		} else { /* the end of this input: finish the parser once */
			r->csv_done = 1;
			c = wn_csvin_finish(r->csv, &r->csvrec, &line, err, sizeof err);
		}
		int t = c ? csv_row(r, c, line, err, rec) : 0;
		if (t)
			return t;
	}
	return 0;
}

int wn_reader_next(wn_reader *r, wn_record *rec)
{
	if (r->failed)
		return -1;
	for (;;) {
		if (r->fd < 0) {
			int o = open_next_input(r);
			if (o <= 0)
				return o;
			r->start = r->end = r->scan = 0;
			if (!r->map && sniff_codec(r))
				return -1;
			if (r->opts.format == WN_FORMAT_CSV) {
				wn_csvin_free(r->csv);
				r->csv = wn_csvin_new();
				r->csv_done = 0;
				if (!r->csv)
					return fail_input(r, "out of memory", NULL);
				wn_csvin_set_types(r->csv, r->opts.csv_types);
			}
		}
		int got = r->opts.format == WN_FORMAT_CSV ? next_csv(r, rec) : next_jsonl(r, rec);
		if (got != 0)
			return got;
		close_input(r);
		r->fd = -1;
		if (r->cur + 1 >= r->npaths) {
			r->cur = r->npaths;
			return 0;
		}
	}
}

int wn_reader_next_run(wn_reader *r, wn_run *run, wn_record *rec)
{
	run->count = 0;
	if (!r->failed && r->fd >= 0 && r->opts.format != WN_FORMAT_CSV && take_run(r, run))
		return 1;
	return wn_reader_next(r, rec);
}

uint64_t wn_reader_count(const wn_reader *r) { return r->count; }
uint64_t wn_reader_bytes(const wn_reader *r) { return r->bytes; }
int wn_reader_ninputs(const wn_reader *r) { return r->npaths; }

const char *wn_reader_input_name(const wn_reader *r, int i)
{
	return i >= 0 && i < r->npaths && r->info[i].name ? r->info[i].name : r->paths[i];
}

uint64_t wn_reader_input_size(const wn_reader *r, int i) { return r->info[i].size; }
uint64_t wn_reader_input_hash(const wn_reader *r, int i)
{
	struct input_info *in = &r->info[i]; /* the array is not the const reader's */
	if (in->map) {
		in->hash = XXH3_64bits(in->map, in->map_len);
		munmap((void *)in->map, in->map_len);
		in->map = NULL;
	}
	return in->hash;
}

void wn_reader_close(wn_reader *r)
{
	if (!r)
		return;
	close_input(r);
	if (r->info)
		for (int i = 0; i < r->npaths; i++) {
			free(r->info[i].name);
			if (r->info[i].map)
				munmap((void *)r->info[i].map, r->info[i].map_len);
		}
	free(r->info);
	wn_jsonv_free(r->jv);
	if (r->hash)
		XXH3_freeState(r->hash);
	free(r->raw);
	free(r->buf);
	wn_csvin_free(r->csv);
	wn_buf_free(&r->csvrec);
	wn_buf_free(&r->pad);
	free(r);
}
