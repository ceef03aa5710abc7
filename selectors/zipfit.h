/*
 * selectors/zipfit.h — ZIP-FIT: how well a text aligns with a target set,
 * measured by compression alone (`winnow score zipfit`).
 *
 * Owns: the targets (copied into one flat buffer, each compressed once), one
 * compressor context per thread, and the score of a pool text:
 *
 *   C(s)      = compressed size of the bytes s: for gzip, the length of the
 *               gzip member Python's gzip.compress(s, L) writes (10-byte
 *               header + raw deflate at level L + 8-byte trailer); for zstd
 *               the frame ZstdCompressor(level).compress writes (content size
 *               in the header, no checksum); for lz4 the frame
 *               lz4.frame.compress(s, compression_level) writes (64 KB linked
 *               blocks, content size stored, no checksums);
 *   NCD(a, b) = (C(a‖b) − min(C(a), C(b))) / max(C(a), C(b)), a = pool text
 *               first, b = target appended, no separator;
 *   score(a)  = mean over the targets t (in target order) of 1 − NCD(a, t).
 *
 * This is the reference implementation's formula (stair-lab/ZIP-FIT),
 * number for number; the vectors in fixtures/zipfit/ hold it to that.
 *
 * Speed without changing a byte: for gzip one z_stream per thread is reused
 * with deflateReset (a fresh deflateInit2 per pair costs more than the
 * compression); the pool text goes in with Z_NO_FLUSH and the target with
 * Z_FINISH, which gives the same bytes as compressing the concatenation;
 * only the length is kept (total_out), the output is written to a small
 * scratch buffer and dropped. zstd and lz4 compress a concatenation in a
 * per-thread scratch with a reused context.
 *
 * Borrows: zlib, libzstd, liblz4; OpenMP for the threads. Nothing else.
 */
#ifndef WN_SEL_ZIPFIT_H
#define WN_SEL_ZIPFIT_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum wn_zipfit_compressor {
	WN_ZIPFIT_GZIP = 0, /* the paper's and the default */
	WN_ZIPFIT_ZSTD = 1,
	WN_ZIPFIT_LZ4 = 2,
};

/* Level meaning "the compressor's default": gzip 9, zstd 3, lz4 0. */
#define WN_ZIPFIT_LEVEL_DEFAULT INT_MIN

typedef struct wn_zipfit_opts {
	int compressor; /* enum wn_zipfit_compressor */
	int level;      /* gzip 0..9, zstd its min..max, lz4 0..12 */
	int threads;    /* <= 0: all cores */
} wn_zipfit_opts;

typedef struct wn_zipfit wn_zipfit;

/* "gzip", "zstd", "lz4" -> enum; -1 for anything else. */
int wn_zipfit_parse_compressor(const char *name);

/* Whether level (or WN_ZIPFIT_LEVEL_DEFAULT) is in range for compressor:
 * 0, or -1 with "level 10 out of range 1..9 for this compressor" in err.
 * The rule wn_zipfit_new applies, for checking options before any work. */
int wn_zipfit_check_level(int compressor, int level, char *err, size_t errlen);

/*
 * Build a scorer for n_targets target texts (copied; the caller may free
 * them). Returns NULL with one line in err on bad options, no targets or no
 * memory.
 */
wn_zipfit *wn_zipfit_new(const wn_zipfit_opts *o, const char *const *targets,
			 const size_t *target_lens, size_t n_targets, char *err,
			 size_t errlen);
void wn_zipfit_free(wn_zipfit *z);

size_t wn_zipfit_n_targets(const wn_zipfit *z);
int wn_zipfit_level(const wn_zipfit *z); /* the level in force */

/* C(target i), computed once at construction. */
uint64_t wn_zipfit_target_size(const wn_zipfit *z, size_t i);

/*
 * Score n pool texts: scores[i] = score(texts[i]); sizes, when not NULL,
 * gets C(texts[i]). Runs the texts over the threads (each text against
 * every target); results do not depend on the thread count. Returns 0, or
 * -1 with a reason in err (a compressor failure or no memory).
 */
int wn_zipfit_score(wn_zipfit *z, const char *const *texts, const size_t *lens,
		    size_t n, double *scores, uint64_t *sizes, char *err,
		    size_t errlen);

/* C(s) alone, on the calling thread's context (for tests and tools). */
int wn_zipfit_size(wn_zipfit *z, const char *s, size_t len, uint64_t *size);

#ifdef __cplusplus
}
#endif
#endif
