/*
 * embed/npy.c — .npy reader and writer (see npy.h).
 *
 * The header is a Python dict literal; numpy itself writes exactly
 * {'descr': '<f4', 'fortran_order': False, 'shape': (R, C), } padded with
 * spaces to a multiple of 64 bytes and ended by '\n'. The parser accepts
 * that grammar with either quote style and optional trailing commas, and
 * nothing else: an unknown key, a missing key or junk after the dict is an
 * error, as it is for numpy.load.
 *
 * Files are written through io/atomic (temporary beside the target,
 * renamed on commit; a device or FIFO gets the bytes at commit), which is
 * also why the final header can be rewritten in place: it lies inside the
 * first WN_ATOMIC_HEAD bytes that io/atomic lets a caller rewrite.
 */
#include "embed/npy.h"
#include "io/errf.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/atomic.h"
#include "io/record.h"

#define NPY_MAX_HEADER (1u << 20)
#define NPY_WRITE_HEADER 128 /* bytes, preamble included: room for any 2-D shape */
#define NPY_MAX_DIM ((int64_t)1 << 62)

/* ---- header dict parser ---------------------------------------------------- */

typedef struct {
	const char *s;
	size_t n, i, base; /* base: file offset of s[0], for messages */
	char *err;
	size_t errlen;
} n_lex;

static void n_ws(n_lex *x)
{
	while (x->i < x->n && (x->s[x->i] == ' ' || x->s[x->i] == '\t' || x->s[x->i] == '\n' ||
			       x->s[x->i] == '\r'))
		x->i++;
}

static int n_fail(n_lex *x, const char *what)
{
	wn_errf(x->err, x->errlen, "byte %zu: header: %s", x->base + x->i, what);
	return -1;
}

static int n_expect(n_lex *x, char c)
{
	n_ws(x);
	if (x->i >= x->n || x->s[x->i] != c) {
		char msg[32];
		snprintf(msg, sizeof msg, "expected '%c'", c);
		return n_fail(x, msg);
	}
	x->i++;
	return 0;
}

/* A quoted string (no escapes: none appear in valid headers). */
static int n_string(n_lex *x, char *out, size_t cap)
{
	n_ws(x);
	if (x->i >= x->n || (x->s[x->i] != '\'' && x->s[x->i] != '"'))
		return n_fail(x, "expected a quoted string");
	char q = x->s[x->i++];
	size_t k = 0;
	while (x->i < x->n && x->s[x->i] != q) {
		if (x->s[x->i] == '\\' || k + 1 >= cap)
			return n_fail(x, "string too long or escaped");
		out[k++] = x->s[x->i++];
	}
	if (x->i >= x->n)
		return n_fail(x, "unterminated string");
	x->i++;
	out[k] = 0;
	return 0;
}

static int n_word(n_lex *x, const char *w)
{
	size_t k = strlen(w);
	if (x->n - x->i >= k && memcmp(x->s + x->i, w, k) == 0) {
		x->i += k;
		return 1;
	}
	return 0;
}

static int n_shape(n_lex *x, int64_t *dims, int *nd)
{
	if (n_expect(x, '('))
		return -1;
	*nd = 0;
	for (;;) {
		n_ws(x);
		if (x->i < x->n && x->s[x->i] == ')') {
			x->i++;
			return 0;
		}
		if (x->i >= x->n || x->s[x->i] < '0' || x->s[x->i] > '9')
			return n_fail(x, "shape: expected a non-negative integer");
		int64_t v = 0;
		while (x->i < x->n && x->s[x->i] >= '0' && x->s[x->i] <= '9') {
			if (v > NPY_MAX_DIM / 10)
				return n_fail(x, "shape: dimension too large");
			v = v * 10 + (x->s[x->i++] - '0');
		}
		if (*nd < 8)
			dims[*nd] = v;
		(*nd)++;
		n_ws(x);
		if (x->i < x->n && x->s[x->i] == ',')
			x->i++;
		else if (x->i >= x->n || x->s[x->i] != ')')
			return n_fail(x, "shape: expected ',' or ')'");
	}
}

static int n_dtype(n_lex *x, const char *descr, int *dtype)
{
	if (strcmp(descr, "<f4") == 0)
		*dtype = WN_EMBED_NPY_F32;
	else if (strcmp(descr, "<f2") == 0)
		*dtype = WN_EMBED_NPY_F16;
	else {
		char msg[160];
		snprintf(msg, sizeof msg, "dtype '%.40s' is not supported (%s)", descr,
			 (descr[0] == '>' && (descr[1] == 'f')) ? "big-endian; need '<f4' or '<f2'"
								: "need float32 '<f4' or float16 '<f2'");
		return n_fail(x, msg);
	}
	return 0;
}

/* The dict: exactly descr, fortran_order, shape. */
static int n_dict(n_lex *x, wn_embed_npy_info *info)
{
	int seen = 0, nd = 0;
	int64_t dims[8];
	if (n_expect(x, '{'))
		return -1;
	for (;;) {
		n_ws(x);
		if (x->i < x->n && x->s[x->i] == '}') {
			x->i++;
			break;
		}
		char key[32], val[64];
		size_t at = x->i;
		if (n_string(x, key, sizeof key) || n_expect(x, ':'))
			return -1;
		n_ws(x);
		if (strcmp(key, "descr") == 0 && !(seen & 1)) {
			if (n_string(x, val, sizeof val) || n_dtype(x, val, &info->dtype))
				return -1;
			seen |= 1;
		} else if (strcmp(key, "fortran_order") == 0 && !(seen & 2)) {
			if (n_word(x, "True"))
				return n_fail(x, "Fortran order is not supported (C order only)");
			if (!n_word(x, "False"))
				return n_fail(x, "fortran_order: expected True or False");
			seen |= 2;
		} else if (strcmp(key, "shape") == 0 && !(seen & 4)) {
			if (n_shape(x, dims, &nd))
				return -1;
			seen |= 4;
		} else {
			x->i = at;
			return n_fail(x, "unknown or repeated key");
		}
		n_ws(x);
		if (x->i < x->n && x->s[x->i] == ',')
			x->i++;
		else if (x->i >= x->n || x->s[x->i] != '}')
			return n_fail(x, "expected ',' or '}'");
	}
	n_ws(x);
	if (x->i != x->n)
		return n_fail(x, "junk after the dict");
	if (seen != 7)
		return n_fail(x, "needs the keys 'descr', 'fortran_order' and 'shape'");
	if (nd != 2) {
		char msg[64];
		snprintf(msg, sizeof msg, "shape has %d dimensions, need 2 (rows, dim)", nd);
		return n_fail(x, msg);
	}
	if (dims[1] == 0 && dims[0] > 0)
		return n_fail(x, "shape has 0 columns");
	info->rows = dims[0];
	info->cols = dims[1];
	return 0;
}

int wn_embed_npy_parse_header(const void *buf, size_t len, uint64_t file_size,
			      wn_embed_npy_info *info, char *err, size_t errlen)
{
	const unsigned char *b = buf;
	if (file_size < len)
		len = (size_t)file_size;
	if (len < 10 || memcmp(b, "\x93NUMPY", 6) != 0) {
		wn_errf(err, errlen, "byte 0: not a .npy file (no \\x93NUMPY magic)");
		return -1;
	}
	int major = b[6], minor = b[7];
	if (major < 1 || major > 3 || minor != 0) {
		wn_errf(err, errlen, "byte 6: .npy version %d.%d is not supported", major, minor);
		return -1;
	}
	size_t pre = major == 1 ? 10 : 12;
	if (len < pre) {
		wn_errf(err, errlen, "byte 8: file ends inside the header length");
		return -1;
	}
	uint64_t hlen = major == 1 ? (uint64_t)(b[8] | b[9] << 8)
				   : (uint64_t)b[8] | (uint64_t)b[9] << 8 | (uint64_t)b[10] << 16 |
					     (uint64_t)b[11] << 24;
	if (hlen > NPY_MAX_HEADER || pre + hlen > file_size) {
		wn_errf(err, errlen, "byte 8: header length %llu runs past the end of the file (%llu bytes)",
		      (unsigned long long)hlen, (unsigned long long)file_size);
		return -1;
	}
	if (pre + hlen > len) {
		wn_errf(err, errlen, "byte 8: header not fully available");
		return -1;
	}
	if (hlen == 0 || b[pre + hlen - 1] != '\n') {
		wn_errf(err, errlen, "byte %llu: header does not end with a newline",
		      (unsigned long long)(pre + hlen));
		return -1;
	}
	n_lex x = {(const char *)b + pre, (size_t)hlen, 0, pre, err, errlen};
	if (n_dict(&x, info))
		return -1;
	info->data_offset = pre + (size_t)hlen;
	uint64_t es = info->dtype == WN_EMBED_NPY_F16 ? 2 : 4;
	uint64_t avail = file_size - info->data_offset, row = (uint64_t)info->cols * es;
	if (info->rows && row && (uint64_t)info->rows > (UINT64_MAX / row)) {
		wn_errf(err, errlen, "shape (%lld, %lld) is too large", (long long)info->rows,
		      (long long)info->cols);
		return -1;
	}
	uint64_t need = (uint64_t)info->rows * row;
	if (avail < need) {
		wn_errf(err, errlen, "row %llu: file truncated: shape (%lld, %lld) needs %llu data bytes, "
		      "the file has %llu", (unsigned long long)(row ? avail / row : 0),
		      (long long)info->rows, (long long)info->cols, (unsigned long long)need,
		      (unsigned long long)avail);
		return -1;
	}
	if (avail > need) {
		wn_errf(err, errlen, "byte %llu: %llu bytes after the last row",
		      (unsigned long long)(info->data_offset + need), (unsigned long long)(avail - need));
		return -1;
	}
	return 0;
}

/* ---- reader ------------------------------------------------------------------ */

struct wn_embed_npy_reader {
	FILE *f;
	char *path;
	wn_embed_npy_info info;
	int64_t next;
	unsigned char *raw;
	size_t rawcap;
	uint64_t size;  /* the file's size */
	void *map;      /* wn_embed_npy_map: the whole file, read-only */
};

void wn_embed_npy_close(wn_embed_npy_reader *r)
{
	if (!r)
		return;
	if (r->f)
		fclose(r->f);
	if (r->map)
		munmap(r->map, (size_t)r->size);
	free(r->path);
	free(r->raw);
	free(r);
}

wn_embed_npy_reader *wn_embed_npy_open(const char *path, char *err, size_t errlen)
{
	wn_embed_npy_reader *r = calloc(1, sizeof *r);
	if (!r || !(r->path = strdup(path))) {
		wn_errf(err, errlen, "out of memory");
		free(r);
		return NULL;
	}
	struct stat sb;
	r->f = fopen(path, "rb");
	if (!r->f || fstat(fileno(r->f), &sb) < 0 || !S_ISREG(sb.st_mode)) {
		wn_errf(err, errlen, "%s: %s", path, r->f ? "not a regular file" : strerror(errno));
		wn_embed_npy_close(r);
		return NULL;
	}
	r->size = (uint64_t)sb.st_size;
	size_t want = (size_t)sb.st_size < NPY_MAX_HEADER + 12 ? (size_t)sb.st_size : NPY_MAX_HEADER + 12;
	unsigned char *h = malloc(want ? want : 1);
	size_t got = h ? fread(h, 1, want, r->f) : 0;
	char msg[400];
	int rc = !h ? (snprintf(msg, sizeof msg, "out of memory"), -1)
	     : got != want ? (snprintf(msg, sizeof msg, "read error"), -1)
			   : wn_embed_npy_parse_header(h, got, (uint64_t)sb.st_size, &r->info, msg, sizeof msg);
	free(h);
	if (rc || fseeko(r->f, (off_t)r->info.data_offset, SEEK_SET) != 0) {
		wn_errf(err, errlen, "%s: %s", path, rc ? msg : "seek failed");
		wn_embed_npy_close(r);
		return NULL;
	}
	return r;
}

const wn_embed_npy_info *wn_embed_npy_reader_info(const wn_embed_npy_reader *r)
{
	return &r->info;
}

int64_t wn_embed_npy_read(wn_embed_npy_reader *r, float *out, int64_t n, char *err, size_t errlen)
{
	int64_t left = r->info.rows - r->next;
	if (n > left)
		n = left;
	if (n <= 0)
		return 0;
	size_t es = r->info.dtype == WN_EMBED_NPY_F16 ? 2 : 4;
	size_t count = (size_t)n * (size_t)r->info.cols, bytes = count * es;
	if (r->info.dtype == WN_EMBED_NPY_F32) {
		if (fread(out, 1, bytes, r->f) != bytes) {
			wn_errf(err, errlen, "%s: row %lld: unexpected end of file", r->path, (long long)r->next);
			return -1;
		}
	} else {
		if (bytes > r->rawcap) {
			unsigned char *p = realloc(r->raw, bytes);
			if (!p) {
				wn_errf(err, errlen, "out of memory");
				return -1;
			}
			r->raw = p;
			r->rawcap = bytes;
		}
		if (fread(r->raw, 1, bytes, r->f) != bytes) {
			wn_errf(err, errlen, "%s: row %lld: unexpected end of file", r->path, (long long)r->next);
			return -1;
		}
		for (size_t i = 0; i < count; i++)
			out[i] = wn_f16_to_f32((uint16_t)(r->raw[2 * i] | r->raw[2 * i + 1] << 8));
	}
	r->next += n;
	return n;
}

/*
 * How the mapping's page tables get filled, from $WINNOW_NPY_MAP (for
 * measuring on a given machine; the default is the first):
 *  populate  MAP_POPULATE: all of them in the mmap call, one thread, before
 *            the first read (not one fault per page later);
 *  fault     on first touch, by whichever threads read first (the parallel
 *            NaN/Inf check of cluster/vectors.c), 16 pages per fault where
 *            the kernel maps the neighbours around a fault;
 *  huge      as fault, with MADV_HUGEPAGE: 2 MiB mappings where the page
 *            cache holds large folios (tmpfs with huge=, newer XFS/ext4).
 */
static int npy_map_mode(void)
{
	const char *m = getenv("WINNOW_NPY_MAP");
	return m && !strcmp(m, "fault") ? 1 : m && !strcmp(m, "huge") ? 2 : 0;
}

/*
 * The whole file mapped read-only (page tables: see npy_map_mode). NULL
 * leaves the reader as it was, for wn_embed_npy_read.
 */
const float *wn_embed_npy_map(wn_embed_npy_reader *r)
{
	if (r->map)
		return (const float *)((const char *)r->map + r->info.data_offset);
	if (r->info.dtype != WN_EMBED_NPY_F32 || r->info.data_offset % sizeof(float) != 0 ||
	    r->next != 0 || r->info.rows == 0 || r->size != (uint64_t)(size_t)r->size)
		return NULL;
	int mode = npy_map_mode(), flags = MAP_PRIVATE;
#ifdef MAP_POPULATE
	if (mode == 0)
		flags |= MAP_POPULATE;
#endif
	void *p = mmap(NULL, (size_t)r->size, PROT_READ, flags, fileno(r->f), 0);
	if (p == MAP_FAILED)
		return NULL;
#ifdef MADV_HUGEPAGE
	if (mode == 2)
		(void)madvise(p, (size_t)r->size, MADV_HUGEPAGE); /* advice: refused is fine */
#endif
	r->map = p;
	return (const float *)((const char *)p + r->info.data_offset);
}

/* ---- writer ------------------------------------------------------------------ */

struct wn_embed_npy_writer {
	wn_atomic *out;
	char *path;
	int dtype;
	int64_t cols, rows;
	uint16_t *half;
	size_t halfcap;
};

static void n_free_writer(wn_embed_npy_writer *w)
{
	wn_atomic_close(w->out);
	free(w->path);
	free(w->half);
	free(w);
}

void wn_embed_npy_abort(wn_embed_npy_writer *w)
{
	if (w)
		n_free_writer(w); /* without a commit, io/atomic removes the temporary file */
}

/* The 128-byte preamble + header for the current shape. */
static int n_header(const wn_embed_npy_writer *w, char *h)
{
	char dict[NPY_WRITE_HEADER];
	int k = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (%lld, %lld), }",
			 w->dtype == WN_EMBED_NPY_F16 ? "<f2" : "<f4", (long long)w->rows, (long long)w->cols);
	if (k < 0 || k > NPY_WRITE_HEADER - 11)
		return -1;
	memcpy(h, "\x93NUMPY\x01\x00", 8);
	h[8] = (char)(NPY_WRITE_HEADER - 10);
	h[9] = 0;
	memset(h + 10, ' ', NPY_WRITE_HEADER - 10);
	memcpy(h + 10, dict, (size_t)k);
	h[NPY_WRITE_HEADER - 1] = '\n';
	return 0;
}

wn_embed_npy_writer *wn_embed_npy_create(const char *path, int dtype, int64_t cols, char *err,
					 size_t errlen)
{
	wn_embed_npy_writer *w = calloc(1, sizeof *w);
	if (!w || !(w->path = strdup(path))) {
		wn_errf(err, errlen, "%s: out of memory", path);
		free(w);
		return NULL;
	}
	w->dtype = dtype;
	w->cols = cols;
	char h[NPY_WRITE_HEADER];
	if (!(w->out = wn_atomic_open(path, err, errlen)) || n_header(w, h) < 0 ||
	    wn_atomic_write(w->out, h, sizeof h, err, errlen)) {
		n_free_writer(w);
		return NULL;
	}
	return w;
}

int wn_embed_npy_write(wn_embed_npy_writer *w, const float *rows, int64_t n, char *err,
		       size_t errlen)
{
	size_t count = (size_t)n * (size_t)w->cols;
	const void *p = rows;
	size_t bytes = count * 4;
	if (w->dtype == WN_EMBED_NPY_F16) {
		if (count > w->halfcap) {
			uint16_t *q = realloc(w->half, count * sizeof *q);
			if (!q) {
				wn_errf(err, errlen, "out of memory");
				return -1;
			}
			w->half = q;
			w->halfcap = count;
		}
		for (size_t i = 0; i < count; i++)
			w->half[i] = wn_f32_to_f16(rows[i]); /* little-endian host assumed */
		p = w->half;
		bytes = count * 2;
	}
	char why[512];
	if (wn_atomic_write(w->out, p, bytes, why, sizeof why)) {
		/* why is "PATH: <strerror>"; say which row did not fit */
		const char *reason = strncmp(why, w->path, strlen(w->path)) ? why : why + strlen(w->path) + 2;
		wn_errf(err, errlen, "%s: row %lld: %s", w->path, (long long)w->rows, reason);
		return -1;
	}
	w->rows += n;
	return 0;
}

int64_t wn_embed_npy_rows(const wn_embed_npy_writer *w) { return w->rows; }

int wn_embed_npy_commit(wn_embed_npy_writer *w, char *err, size_t errlen)
{
	char h[NPY_WRITE_HEADER];
	int rc = n_header(w, h);
	if (rc)
		wn_errf(err, errlen, "%s: shape too large for the header", w->path);
	if (!rc)
		rc = wn_atomic_pwrite(w->out, 0, h, sizeof h, err, errlen) || wn_atomic_commit(w->out, err, errlen);
	n_free_writer(w);
	return rc ? -1 : 0;
}

/* 1 when any of the n floats is NaN or infinite, i.e. has every exponent
 * bit set: adding one to the exponent field then carries into bit 31 (it
 * cannot for any finite float). An OR of those sums, 16 floats a step in
 * GCC/Clang vectors (the plain loop is not vectorised at -O2). */
typedef uint32_t npy_u4 __attribute__((vector_size(16)));

int wn_embed_any_nonfinite(const float *x, size_t n)
{
	const npy_u4 em = {0x7f800000u, 0x7f800000u, 0x7f800000u, 0x7f800000u};
	const npy_u4 one = {0x00800000u, 0x00800000u, 0x00800000u, 0x00800000u};
	npy_u4 v0 = {0}, v1 = {0}, v2 = {0}, v3 = {0};
	size_t i = 0;
	for (; i + 16 <= n; i += 16) {
		npy_u4 b[4];
		memcpy(b, x + i, sizeof b);
		v0 |= (b[0] & em) + one;
		v1 |= (b[1] & em) + one;
		v2 |= (b[2] & em) + one;
		v3 |= (b[3] & em) + one;
	}
	npy_u4 v = v0 | v1 | v2 | v3;
	uint32_t acc = v[0] | v[1] | v[2] | v[3];
	for (; i < n; i++) {
		uint32_t e;
		memcpy(&e, x + i, sizeof e);
		acc |= (e & 0x7f800000u) + 0x00800000u;
	}
	return (acc & 0x80000000u) != 0;
}

int wn_embed_first_nonfinite(const float *x, int64_t n, int64_t cols, int64_t *row, int64_t *col)
{
	for (int64_t i = 0; i < n * cols; i++)
		if (!isfinite(x[i])) {
			*row = i / cols;
			*col = i % cols;
			return 1;
		}
	return 0;
}
