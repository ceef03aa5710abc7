/*
 * embed/npy.h — .npy files: the bulk exchange format for vectors with numpy
 * and FAISS (`winnow embed --npy`, `winnow vectors export|import`).
 *
 * Owns: reading and writing 2-D little-endian float32 or float16 arrays in
 * C order (numpy format versions 1.0, 2.0 and 3.0 read; 1.0 written), with
 * the header checked strictly: magic, version, header length inside the
 * file, the dict's exact keys ('descr', 'fortran_order', 'shape'), a 2-D
 * shape, and a file size that matches the shape exactly.
 *
 * Borrows: the float16 conversions of io/ (io/record.h), io/atomic.
 *
 * Why a writer with commit: vectors are streamed out as records are embedded,
 * before the row count is known, so the header is written with room to spare
 * and rewritten at the end; the file is written through io/atomic (beside
 * its final name and renamed on commit; a symlink is followed, a FIFO or a
 * device gets the bytes only at commit), so a failed run never leaves a
 * half-written .npy.
 * Errors name the file and the byte offset or row they concern.
 */
#ifndef WN_EMBED_NPY_H
#define WN_EMBED_NPY_H

#include <stddef.h>
#include <stdint.h>

enum wn_embed_npy_dtype { WN_EMBED_NPY_F32 = 0, WN_EMBED_NPY_F16 = 1 };

/* ---- header ---------------------------------------------------------------- */

typedef struct wn_embed_npy_info {
	int dtype;            /* enum wn_embed_npy_dtype */
	int64_t rows, cols;
	size_t data_offset;   /* bytes before the first element */
} wn_embed_npy_info;

/*
 * Parse and check the header at the start of buf (len bytes available,
 * file_size the whole file's size: the data must fill it exactly). Returns
 * 0, or -1 with a message ("byte 8: header length 70000 runs past the end
 * of the file", "shape (10,) is not 2-D", ...).
 */
int wn_embed_npy_parse_header(const void *buf, size_t len, uint64_t file_size,
			      wn_embed_npy_info *info, char *err, size_t errlen);

/* ---- reading --------------------------------------------------------------- */

typedef struct wn_embed_npy_reader wn_embed_npy_reader;

wn_embed_npy_reader *wn_embed_npy_open(const char *path, char *err, size_t errlen);
const wn_embed_npy_info *wn_embed_npy_reader_info(const wn_embed_npy_reader *r);
/*
 * Next `n` rows (converted to float32) into out (n x cols). Returns the
 * number of rows read (0 at the end), or -1 with "FILE: row R: ..." in err.
 */
int64_t wn_embed_npy_read(wn_embed_npy_reader *r, float *out, int64_t n, char *err, size_t errlen);
void wn_embed_npy_close(wn_embed_npy_reader *r);
/*
 * All rows x cols float32 elements of an unread float32 file, mapped
 * read-only (never write through it), valid until wn_embed_npy_close; how
 * its page tables are filled: $WINNOW_NPY_MAP populate (default), fault or
 * huge (see npy.c).
 * NULL when mapping does not apply (float16, data not 4-byte aligned, no
 * rows, rows already read, mmap failed): read with wn_embed_npy_read.
 */
const float *wn_embed_npy_map(wn_embed_npy_reader *r);

/* ---- writing --------------------------------------------------------------- */

typedef struct wn_embed_npy_writer wn_embed_npy_writer;

/* Start PATH (written to PATH.tmp.XXXXXX until commit; see io/atomic.h) with `cols` columns. */
wn_embed_npy_writer *wn_embed_npy_create(const char *path, int dtype, int64_t cols, char *err,
					 size_t errlen);
/* Append n rows of float32 (converted to the file's dtype). */
int wn_embed_npy_write(wn_embed_npy_writer *w, const float *rows, int64_t n, char *err,
		       size_t errlen);
int64_t wn_embed_npy_rows(const wn_embed_npy_writer *w);
/* Write the final header, flush, rename into place. Frees w. */
int wn_embed_npy_commit(wn_embed_npy_writer *w, char *err, size_t errlen);
/* Remove the temporary file. Frees w. */
void wn_embed_npy_abort(wn_embed_npy_writer *w);

/* ---- checks ------------------------------------------------------------------ */

/*
 * First NaN or infinity in n x cols floats: returns 1 and its row and
 * column, or 0 when all are finite.
 */
int wn_embed_any_nonfinite(const float *x, size_t n); /* 1 when one of x[0..n) is NaN/Inf */
int wn_embed_first_nonfinite(const float *x, int64_t n, int64_t cols, int64_t *row, int64_t *col);

#endif
