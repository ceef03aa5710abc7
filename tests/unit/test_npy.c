/*
 * tests/unit/test_npy.c — .npy reading and writing.
 *
 * Round trips in float32 and float16 through the streaming writer; headers
 * written by hand the way numpy writes them (versions 1.0 and 2.0) read
 * back; and one defect per file — bad magic, header length past the end, a
 * truncated data area, trailing bytes, unsupported dtype, big-endian,
 * Fortran order, a 1-D or 3-D shape, unknown or missing keys — is refused
 * with a message naming the byte or row. A failed write leaves no file.
 * Output targets: a replaced file keeps its mode (a new one gets the
 * umask's), a symlink stays, a character device stays one (and a full one
 * says so), a FIFO gets the whole file with its final header.
 */
#include "embed/npy.h"
#include "tests/unit/test.h"
#include "tests/unit/test_targets.h"

#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <unistd.h>

static char dir[64];

static void path_in(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", dir, name);
}

/* A file: numpy-style preamble (version major), the dict padded to 64, data bytes. */
static void write_npy(const char *name, int major, const char *dict, const void *data, size_t dlen)
{
	char p[128], hdr[512];
	path_in(p, sizeof p, name);
	size_t pre = major == 1 ? 10 : 12, k = strlen(dict);
	size_t total = (pre + k + 1 + 63) / 64 * 64, hl = total - pre;
	memset(hdr, ' ', sizeof hdr);
	memcpy(hdr, dict, k);
	hdr[hl - 1] = '\n';
	FILE *f = fopen(p, "wb");
	fwrite("\x93NUMPY", 1, 6, f);
	fputc(major, f);
	fputc(0, f);
	fputc((int)(hl & 0xff), f);
	fputc((int)(hl >> 8), f);
	if (major > 1) {
		fputc(0, f);
		fputc(0, f);
	}
	fwrite(hdr, 1, hl, f);
	if (dlen)
		fwrite(data, 1, dlen, f);
	fclose(f);
}

/* Open must fail with a message containing want. */
static int refuses(const char *name, const char *want, char *err, size_t errlen)
{
	char p[128];
	path_in(p, sizeof p, name);
	err[0] = 0;
	wn_embed_npy_reader *r = wn_embed_npy_open(p, err, errlen);
	wn_embed_npy_close(r);
	return r == NULL && strstr(err, want) != NULL && strstr(err, name) != NULL;
}

static void test_roundtrip_f32(void)
{
	char p[128], err[256];
	path_in(p, sizeof p, "a.npy");
	wn_embed_npy_writer *w = wn_embed_npy_create(p, WN_EMBED_NPY_F32, 3, err, sizeof err);
	CHECK(w != NULL);
	float rows[12];
	for (int i = 0; i < 12; i++)
		rows[i] = (float)i * 0.1f - 0.5f;
	CHECK_EQ_INT(wn_embed_npy_write(w, rows, 1, err, sizeof err), 0);
	CHECK_EQ_INT(wn_embed_npy_write(w, rows + 3, 3, err, sizeof err), 0);
	CHECK_EQ_INT(wn_embed_npy_rows(w), 4);
	CHECK(access(p, F_OK) != 0); /* not published before commit */
	CHECK_EQ_INT(wn_embed_npy_commit(w, err, sizeof err), 0);
	FILE *f = fopen(p, "rb");
	unsigned char h[128];
	CHECK(f && fread(h, 1, 128, f) == 128);
	fseek(f, 0, SEEK_END);
	long size = ftell(f);
	fclose(f);
	CHECK(memcmp(h, "\x93NUMPY\x01\x00", 8) == 0);
	CHECK_EQ_INT(10 + (h[8] | h[9] << 8), 128); /* preamble + header a multiple of 64 */
	CHECK(memcmp(h + 10, "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 3), }", 59) == 0);
	CHECK_EQ_INT(h[127], '\n');
	CHECK_EQ_INT(size, 128 + 12 * 4);
	wn_embed_npy_reader *r = wn_embed_npy_open(p, err, sizeof err);
	CHECK(r != NULL);
	CHECK_EQ_INT(wn_embed_npy_reader_info(r)->rows, 4);
	CHECK_EQ_INT(wn_embed_npy_reader_info(r)->cols, 3);
	float back[12];
	int64_t a = wn_embed_npy_read(r, back, 3, err, sizeof err);
	int64_t b = wn_embed_npy_read(r, back + 9, 5, err, sizeof err);
	int64_t c = wn_embed_npy_read(r, back, 5, err, sizeof err);
	wn_embed_npy_close(r);
	CHECK_EQ_INT(a, 3);
	CHECK_EQ_INT(b, 1);
	CHECK_EQ_INT(c, 0);
	CHECK(memcmp(back, rows, 12 * sizeof(float)) == 0);
}

static void test_roundtrip_f16(void)
{
	char p[128], err[256];
	path_in(p, sizeof p, "h.npy");
	const float v[6] = {0.5f, -2.0f, 1024.0f, 3.140625f, 0.0f, -0.000061035156f};
	wn_embed_npy_writer *w = wn_embed_npy_create(p, WN_EMBED_NPY_F16, 2, err, sizeof err);
	CHECK(w != NULL);
	CHECK_EQ_INT(wn_embed_npy_write(w, v, 3, err, sizeof err), 0);
	CHECK_EQ_INT(wn_embed_npy_commit(w, err, sizeof err), 0);
	wn_embed_npy_reader *r = wn_embed_npy_open(p, err, sizeof err);
	CHECK(r != NULL);
	CHECK_EQ_INT(wn_embed_npy_reader_info(r)->dtype, WN_EMBED_NPY_F16);
	float back[6];
	int64_t n = wn_embed_npy_read(r, back, 3, err, sizeof err);
	wn_embed_npy_close(r);
	CHECK_EQ_INT(n, 3);
	for (int i = 0; i < 6; i++)
		CHECK(back[i] == v[i]); /* all exactly representable in half */
}

static void test_numpy_written_headers(void)
{
	char p[128], err[256];
	float d[6] = {1, 2, 3, 4, 5, 6};
	write_npy("v1.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", d, sizeof d);
	write_npy("v2.npy", 2, "{\"descr\": \"<f4\", \"shape\": (3, 2), \"fortran_order\": False}", d, sizeof d);
	write_npy("empty.npy", 1, "{'descr': '<f2', 'fortran_order': False, 'shape': (0, 8), }", NULL, 0);
	const char *names[] = {"v1.npy", "v2.npy", "empty.npy"};
	int64_t want_rows[] = {2, 3, 0}, want_cols[] = {3, 2, 8};
	for (int i = 0; i < 3; i++) {
		path_in(p, sizeof p, names[i]);
		wn_embed_npy_reader *r = wn_embed_npy_open(p, err, sizeof err);
		if (!r)
			TEST_FAIL_("%s: %s", names[i], err);
		int ok = wn_embed_npy_reader_info(r)->rows == want_rows[i] &&
			 wn_embed_npy_reader_info(r)->cols == want_cols[i];
		float back[6] = {0};
		int64_t n = wn_embed_npy_read(r, back, 6, err, sizeof err);
		wn_embed_npy_close(r);
		CHECK(ok);
		CHECK_EQ_INT(n, want_rows[i]);
		if (n)
			CHECK(memcmp(back, d, sizeof d) == 0);
	}
}

static void test_bad_files(void)
{
	char err[256];
	float d[8] = {0};
	const char *ok = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
	write_npy("trunc.npy", 1, ok, d, 20);
	CHECK(refuses("trunc.npy", "row 1: file truncated", err, sizeof err));
	write_npy("long.npy", 1, ok, d, 28);
	CHECK(refuses("long.npy", "4 bytes after the last row", err, sizeof err));
	write_npy("f8.npy", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 3), }", d, 24);
	CHECK(refuses("f8.npy", "'<f8' is not supported", err, sizeof err));
	write_npy("be.npy", 1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }", d, 24);
	CHECK(refuses("be.npy", "big-endian", err, sizeof err));
	write_npy("fo.npy", 1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", d, 24);
	CHECK(refuses("fo.npy", "Fortran", err, sizeof err));
	write_npy("1d.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }", d, 24);
	CHECK(refuses("1d.npy", "1 dimensions, need 2", err, sizeof err));
	write_npy("3d.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 3), }", d, 24);
	CHECK(refuses("3d.npy", "3 dimensions", err, sizeof err));
	write_npy("key.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'x': 1}", d, 24);
	CHECK(refuses("key.npy", "unknown or repeated key", err, sizeof err));
	write_npy("dup.npy", 1, "{'descr': '<f4', 'descr': '<f4', 'shape': (2, 3)}", d, 24);
	CHECK(refuses("dup.npy", "unknown or repeated key", err, sizeof err));
	write_npy("miss.npy", 1, "{'descr': '<f4', 'shape': (2, 3)}", d, 24);
	CHECK(refuses("miss.npy", "needs the keys", err, sizeof err));
	write_npy("junk.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)} x", d, 24);
	CHECK(refuses("junk.npy", "junk after", err, sizeof err));
	write_npy("zero.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 0), }", d, 0);
	CHECK(refuses("zero.npy", "0 columns", err, sizeof err));

	char p[128];
	path_in(p, sizeof p, "magic.npy");
	FILE *f = fopen(p, "wb");
	fputs("\x93NUMPX\x01\x00\x10\x00{}", f);
	fclose(f);
	CHECK(refuses("magic.npy", "byte 0: not a .npy file", err, sizeof err));
	path_in(p, sizeof p, "hlen.npy");
	f = fopen(p, "wb");
	fwrite("\x93NUMPY\x01\x00\xff\x7f{}", 1, 12, f);
	fclose(f);
	CHECK(refuses("hlen.npy", "byte 8: header length 32767 runs past", err, sizeof err));
	path_in(p, sizeof p, "ver.npy");
	f = fopen(p, "wb");
	fwrite("\x93NUMPY\x09\x00\x02\x00{}", 1, 12, f);
	fclose(f);
	CHECK(refuses("ver.npy", "version 9.0", err, sizeof err));
	CHECK(refuses("nonexistent.npy", "No such file", err, sizeof err));
}

static void test_abort_leaves_nothing(void)
{
	char p[128], err[256];
	path_in(p, sizeof p, "gone.npy");
	wn_embed_npy_writer *w = wn_embed_npy_create(p, WN_EMBED_NPY_F32, 4, err, sizeof err);
	CHECK(w != NULL);
	float v[4] = {1, 2, 3, 4};
	CHECK_EQ_INT(wn_embed_npy_write(w, v, 1, err, sizeof err), 0);
	wn_embed_npy_abort(w);
	CHECK(access(p, F_OK) != 0);
	DIR *d = opendir(dir);
	int tmp_left = 0;
	for (struct dirent *e; d && (e = readdir(d));)
		tmp_left |= strncmp(e->d_name, "gone.npy.tmp", 12) == 0;
	if (d)
		closedir(d);
	CHECK(!tmp_left);
	CHECK(wn_embed_npy_create("/nonexistent-dir/x.npy", WN_EMBED_NPY_F32, 4, err, sizeof err) == NULL);
	CHECK(strstr(err, "/nonexistent-dir/x.npy") != NULL);
}

/* Write a 2x4 float32 .npy to path; 0 or -1 (message in err). */
static int write_2x4(const char *path, char *err, size_t errlen)
{
	float v[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	wn_embed_npy_writer *w = wn_embed_npy_create(path, WN_EMBED_NPY_F32, 4, err, errlen);
	if (!w)
		return -1;
	if (wn_embed_npy_write(w, v, 2, err, errlen)) {
		wn_embed_npy_abort(w);
		return -1;
	}
	return wn_embed_npy_commit(w, err, errlen);
}

/* What numpy would read from a 2x4 file: the header's shape and the last value. */
static int is_2x4(const char *path)
{
	unsigned char b[256];
	FILE *f = fopen(path, "rb");
	size_t n = f ? fread(b, 1, sizeof b, f) : 0;
	if (f)
		fclose(f);
	float last;
	memcpy(&last, b + 128 + 7 * 4, 4);
	return n == 128 + 32 && memmem(b, 128, "'shape': (2, 4)", 15) && last == 8.0f;
}

/* -o rules of io/atomic as --npy sees them (see test_targets.h for the devices). */
static void test_output_targets(void)
{
	char p[128], q[128], err[256], full[256], null[256];
	path_in(p, sizeof p, "secret.npy");
	CHECK_EQ_INT(tt_put_file(p, "old", 0600), 0);
	CHECK_EQ_INT(write_2x4(p, err, sizeof err), 0);
	CHECK(is_2x4(p));
	CHECK_EQ_INT(tt_mode(p), 0600);

	path_in(p, sizeof p, "fresh.npy");
	mode_t um = umask(027);
	int rc = write_2x4(p, err, sizeof err);
	umask(um);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_INT(tt_mode(p), 0640);

	path_in(q, sizeof q, "link.npy");
	CHECK_EQ_INT(symlink("secret.npy", q), 0);
	CHECK_EQ_INT(write_2x4(q, err, sizeof err), 0);
	CHECK_EQ_INT(tt_lstat_type(q), S_IFLNK);

	tt_chardev(dir, "null", 3, null, sizeof null);
	CHECK_EQ_INT(write_2x4(null, err, sizeof err), 0);
	CHECK_EQ_INT(tt_lstat_type(null), S_IFCHR);
	tt_chardev(dir, "full", 7, full, sizeof full);
	CHECK_EQ_INT(write_2x4(full, err, sizeof err), -1);
	CHECK(strstr(err, "No space left on device") != NULL);
	CHECK_EQ_INT(tt_lstat_type(full), S_IFCHR);

	path_in(p, sizeof p, "fifo");
	path_in(q, sizeof q, "fifo.copy");
	CHECK_EQ_INT(mkfifo(p, 0644), 0);
	pid_t pid = tt_fifo_reader(p, q);
	rc = write_2x4(p, err, sizeof err);
	int read_ok = tt_fifo_done(pid, p);
	CHECK_EQ_INT(rc, 0);
	CHECK(read_ok);
	CHECK_EQ_INT(tt_lstat_type(p), S_IFIFO);
	CHECK(is_2x4(q)); /* the header was rewritten before the bytes left */
}

static void test_nonfinite(void)
{
	float x[6] = {0, 1, 2, 3, NAN, 5};
	int64_t r = -1, c = -1;
	CHECK_EQ_INT(wn_embed_first_nonfinite(x, 2, 3, &r, &c), 1);
	CHECK_EQ_INT(r, 1);
	CHECK_EQ_INT(c, 1);
	x[4] = 4;
	CHECK_EQ_INT(wn_embed_first_nonfinite(x, 2, 3, &r, &c), 0);
	x[0] = -INFINITY;
	CHECK_EQ_INT(wn_embed_first_nonfinite(x, 2, 3, &r, &c), 1);
	CHECK_EQ_INT(r, 0);
}

/* The mapping holds the very bytes written (v1 and v2 headers), and is
 * refused where it cannot apply: float16, rows already read, no rows. */
static void test_map(void)
{
	char p[128], err[256];
	float d[6] = {1.5f, -2, 3, 0.25f, -0.0f, 1e30f};
	write_npy("m1.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", d, sizeof d);
	write_npy("m2.npy", 2, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", d, sizeof d);
	const char *names[2] = {"m1.npy", "m2.npy"};
	/* every way of filling the page tables ($WINNOW_NPY_MAP; unknown: the default) */
	static const char *const modes[] = {"populate", "fault", "huge", "nonsense"};
	for (int f = 0; f < 8; f++) {
		setenv("WINNOW_NPY_MAP", modes[f / 2], 1);
		path_in(p, sizeof p, names[f % 2]);
		wn_embed_npy_reader *r = wn_embed_npy_open(p, err, sizeof err);
		CHECK(r != NULL);
		const float *m = r ? wn_embed_npy_map(r) : NULL;
		CHECK(m != NULL);
		CHECK(m && memcmp(m, d, sizeof d) == 0);
		CHECK(m && wn_embed_npy_map(r) == m); /* a second call: the same mapping */
		wn_embed_npy_close(r);
	}
	unsetenv("WINNOW_NPY_MAP");
	float x[3];
	path_in(p, sizeof p, "m1.npy");
	wn_embed_npy_reader *r = wn_embed_npy_open(p, err, sizeof err);
	CHECK_EQ_INT((int)wn_embed_npy_read(r, x, 1, err, sizeof err), 1);
	CHECK(wn_embed_npy_map(r) == NULL); /* part read: the reader goes on reading */
	CHECK_EQ_INT((int)wn_embed_npy_read(r, x, 1, err, sizeof err), 1);
	CHECK(x[0] == 0.25f && x[2] == 1e30f);
	wn_embed_npy_close(r);
	uint16_t h[2] = {0x3c00, 0xc000};
	write_npy("h.npy", 1, "{'descr': '<f2', 'fortran_order': False, 'shape': (1, 2), }", h, sizeof h);
	path_in(p, sizeof p, "h.npy");
	r = wn_embed_npy_open(p, err, sizeof err);
	CHECK(r && wn_embed_npy_map(r) == NULL);
	wn_embed_npy_close(r);
	write_npy("e.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 4), }", NULL, 0);
	path_in(p, sizeof p, "e.npy");
	r = wn_embed_npy_open(p, err, sizeof err);
	CHECK(r && wn_embed_npy_map(r) == NULL);
	wn_embed_npy_close(r);
}

/* wn_embed_any_nonfinite agrees with isfinite on every exponent pattern
 * (all 2^8, with low, high and no mantissa bits, both signs), placed at
 * every position of a 37-float buffer (the 16-wide steps and the tail). */
static void test_any_nonfinite(void)
{
	const uint32_t mant[4] = {0, 1, 0x400000, 0x7fffff};
	int wrong = 0, bad_seen = 0;
	for (uint32_t e = 0; e < 256; e++)
		for (int mi = 0; mi < 4; mi++)
			for (uint32_t sg = 0; sg < 2; sg++) {
				uint32_t bits = sg << 31 | e << 23 | mant[mi];
				float v;
				memcpy(&v, &bits, sizeof v);
				int want = !isfinite(v);
				bad_seen += want;
				for (int at = 0; at < 37; at += 3) {
					float buf[37];
					for (int i = 0; i < 37; i++)
						buf[i] = i % 2 ? 3.4028235e38f : -1e-45f;
					buf[at] = v;
					wrong += wn_embed_any_nonfinite(buf, 37) != want;
					wrong += wn_embed_any_nonfinite(buf, (size_t)at) != 0;
				}
			}
	CHECK_EQ_INT(wrong, 0);
	CHECK_EQ_INT(bad_seen, 8); /* ±inf, and three NaN mantissas of each sign */
	CHECK_EQ_INT(wn_embed_any_nonfinite(NULL, 0), 0);
}

int main(void)
{
	strcpy(dir, "/tmp/wn_npy_XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	RUN(test_roundtrip_f32);
	RUN(test_roundtrip_f16);
	RUN(test_numpy_written_headers);
	RUN(test_bad_files);
	RUN(test_abort_leaves_nothing);
	RUN(test_nonfinite);
	RUN(test_map);
	RUN(test_any_nonfinite);
	RUN(test_output_targets);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	return TEST_EXIT;
}
