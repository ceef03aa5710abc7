/*
 * selectors/zipfit.c — ZIP-FIT scores (formula and design in zipfit.h).
 *
 * Owns: the flat target buffer with each target's C(t), the per-thread
 * compressor contexts (z_stream / ZSTD_CCtx / LZ4F_cctx plus scratch), and
 * the scoring loop.
 * Borrows: zlib, libzstd, liblz4 (frame API), OpenMP.
 *
 * Why gzip is measured as 18 + raw deflate: Python's gzip.compress writes a
 * 10-byte header (no file name) and an 8-byte trailer around a raw deflate
 * stream (wbits -15, memLevel 8, default strategy); the raw stream is what
 * varies, and skipping the wrapper also skips a CRC-32 of every pair.
 */
#include "selectors/zipfit.h"
#include "io/errf.h"

#define LZ4F_STATIC_LINKING_ONLY /* LZ4F_compressFrame_usingCDict: reuse a context */
#include <lz4frame.h>
#include <omp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#define GZIP_WRAPPER 18 /* 10-byte header + CRC-32 + ISIZE */
#define GZ_OUT 16384    /* deflate output is counted, not kept */

struct zctx {
	int ready;
	z_stream zs;
	ZSTD_CCtx *zc;
	LZ4F_cctx *lc;
	unsigned char *out;
	size_t out_cap;
	unsigned char *cat; /* a‖b for zstd and lz4 */
	size_t cat_cap;
};

struct wn_zipfit {
	int compressor, level, threads;
	size_t n;
	char *flat;      /* every target, back to back */
	size_t *off;     /* n + 1 offsets into flat */
	uint64_t *csize; /* C(target) */
	struct zctx *ctx; /* one per thread */
};

int wn_zipfit_parse_compressor(const char *name)
{
	if (!strcmp(name, "gzip"))
		return WN_ZIPFIT_GZIP;
	if (!strcmp(name, "zstd"))
		return WN_ZIPFIT_ZSTD;
	if (!strcmp(name, "lz4"))
		return WN_ZIPFIT_LZ4;
	return -1;
}

/* ---------- per-thread contexts ---------- */

static int grow(unsigned char **p, size_t *cap, size_t need)
{
	if (need <= *cap)
		return 0;
	size_t n = *cap ? *cap : 4096;
	while (n < need)
		n *= 2;
	unsigned char *q = realloc(*p, n);
	if (!q)
		return -1;
	*p = q;
	*cap = n;
	return 0;
}

static int ctx_init(const wn_zipfit *z, struct zctx *c)
{
	if (c->ready)
		return 0;
	switch (z->compressor) {
	case WN_ZIPFIT_GZIP:
		if (deflateInit2(&c->zs, z->level, Z_DEFLATED, -15, 8,
				 Z_DEFAULT_STRATEGY) != Z_OK)
			return -1;
		if (grow(&c->out, &c->out_cap, GZ_OUT)) {
			deflateEnd(&c->zs);
			return -1;
		}
		break;
	case WN_ZIPFIT_ZSTD:
		if (!(c->zc = ZSTD_createCCtx()))
			return -1;
		break;
	case WN_ZIPFIT_LZ4:
		if (LZ4F_isError(LZ4F_createCompressionContext(&c->lc, LZ4F_VERSION)))
			return -1;
		break;
	}
	c->ready = 1;
	return 0;
}

static void ctx_free(const wn_zipfit *z, struct zctx *c)
{
	if (c->ready && z->compressor == WN_ZIPFIT_GZIP)
		deflateEnd(&c->zs);
	ZSTD_freeCCtx(c->zc);
	if (c->lc)
		LZ4F_freeCompressionContext(c->lc);
	free(c->out);
	free(c->cat);
	memset(c, 0, sizeof *c);
}

/* ---------- C(a‖b) for each compressor ---------- */

/* Feed s into the stream; zlib's avail_in is 32-bit, so in slices. */
static int gz_feed(struct zctx *c, const unsigned char *s, size_t len, int flush)
{
	for (;;) {
		size_t piece = len > (1u << 30) ? (1u << 30) : len;
		int last = piece == len;
		c->zs.next_in = (unsigned char *)s;
		c->zs.avail_in = (uInt)piece;
		int f = last ? flush : Z_NO_FLUSH;
		int rc;
		do {
			c->zs.next_out = c->out;
			c->zs.avail_out = GZ_OUT;
			rc = deflate(&c->zs, f);
			if (rc == Z_STREAM_ERROR)
				return -1;
		} while (f == Z_FINISH ? rc != Z_STREAM_END : c->zs.avail_in > 0);
		if (last)
			return 0;
		s += piece;
		len -= piece;
	}
}

static int gz_size(struct zctx *c, const unsigned char *a, size_t la,
		   const unsigned char *b, size_t lb, uint64_t *size)
{
	int rc = b ? gz_feed(c, a, la, Z_NO_FLUSH) : 0;
	if (rc == 0)
		rc = b ? gz_feed(c, b, lb, Z_FINISH) : gz_feed(c, a, la, Z_FINISH);
	*size = GZIP_WRAPPER + (uint64_t)c->zs.total_out;
	if (deflateReset(&c->zs) != Z_OK)
		return -1;
	return rc;
}

/* Pointer to a‖b: a itself when b is NULL, else a copy in c->cat. */
static const unsigned char *concat(struct zctx *c, const unsigned char *a,
				   size_t la, const unsigned char *b, size_t lb)
{
	if (!b)
		return a;
	if (grow(&c->cat, &c->cat_cap, la + lb + 1))
		return NULL;
	memcpy(c->cat, a, la);
	memcpy(c->cat + la, b, lb);
	return c->cat;
}

static int zstd_size(const wn_zipfit *z, struct zctx *c, const unsigned char *a,
		     size_t la, const unsigned char *b, size_t lb, uint64_t *size)
{
	size_t n = la + (b ? lb : 0);
	const unsigned char *src = concat(c, a, la, b, lb);
	if (!src || grow(&c->out, &c->out_cap, ZSTD_compressBound(n)))
		return -1;
	size_t r = ZSTD_compressCCtx(c->zc, c->out, c->out_cap, src, n, z->level);
	if (ZSTD_isError(r))
		return -1;
	*size = r;
	return 0;
}

static int lz4_size(const wn_zipfit *z, struct zctx *c, const unsigned char *a,
		    size_t la, const unsigned char *b, size_t lb, uint64_t *size)
{
	size_t n = la + (b ? lb : 0);
	const unsigned char *src = concat(c, a, la, b, lb);
	LZ4F_preferences_t p;
	memset(&p, 0, sizeof p);
	p.frameInfo.blockSizeID = LZ4F_max64KB;
	p.frameInfo.blockMode = LZ4F_blockLinked;
	p.frameInfo.contentSize = n;
	p.compressionLevel = z->level;
	if (!src || grow(&c->out, &c->out_cap, LZ4F_compressFrameBound(n, &p)))
		return -1;
	size_t r = LZ4F_compressFrame_usingCDict(c->lc, c->out, c->out_cap, src,
						 n, NULL, &p);
	if (LZ4F_isError(r))
		return -1;
	*size = r;
	return 0;
}

/* C(a) when b is NULL, else C(a‖b). */
static int csize(const wn_zipfit *z, struct zctx *c, const char *a, size_t la,
		 const char *b, size_t lb, uint64_t *size)
{
	if (ctx_init(z, c))
		return -1;
	const unsigned char *ua = (const unsigned char *)a;
	const unsigned char *ub = (const unsigned char *)b;
	switch (z->compressor) {
	case WN_ZIPFIT_GZIP: return gz_size(c, ua, la, ub, lb, size);
	case WN_ZIPFIT_ZSTD: return zstd_size(z, c, ua, la, ub, lb, size);
	default: return lz4_size(z, c, ua, la, ub, lb, size);
	}
}

/* ---------- construction ---------- */

/* The level in force for compressor and level (the default resolved), or
 * INT_MIN with the reason in err. */
static int level_in_force(int compressor, int level, char *err, size_t errlen)
{
	int lo, hi, def;
	switch (compressor) {
	case WN_ZIPFIT_GZIP: lo = 1; hi = 9; def = 9; break;
	case WN_ZIPFIT_ZSTD: lo = ZSTD_minCLevel(); hi = ZSTD_maxCLevel(); def = 3; break;
	case WN_ZIPFIT_LZ4: lo = 0; hi = LZ4F_compressionLevel_max(); def = 0; break;
	default:
		wn_errf(err, errlen, "unknown compressor %d", compressor);
		return INT_MIN;
	}
	if (level == WN_ZIPFIT_LEVEL_DEFAULT)
		level = def;
	if (level < lo || level > hi) {
		wn_errf(err, errlen, "level %d out of range %d..%d for this compressor",
			level, lo, hi);
		return INT_MIN;
	}
	return level;
}

int wn_zipfit_check_level(int compressor, int level, char *err, size_t errlen)
{
	return level_in_force(compressor, level, err, errlen) == INT_MIN ? -1 : 0;
}

static int check_level(wn_zipfit *z, int level, char *err, size_t errlen)
{
	z->level = level_in_force(z->compressor, level, err, errlen);
	return z->level == INT_MIN ? -1 : 0;
}

wn_zipfit *wn_zipfit_new(const wn_zipfit_opts *o, const char *const *targets,
			 const size_t *target_lens, size_t n_targets, char *err,
			 size_t errlen)
{
	if (n_targets == 0) {
		wn_errf(err, errlen, "no target texts");
		return NULL;
	}
	wn_zipfit *z = calloc(1, sizeof *z);
	if (!z)
		goto oom;
	z->compressor = o->compressor;
	if (check_level(z, o->level, err, errlen)) {
		free(z);
		return NULL;
	}
	z->threads = o->threads > 0 ? o->threads : omp_get_max_threads();
	z->n = n_targets;
	size_t total = 0;
	for (size_t i = 0; i < n_targets; i++)
		total += target_lens[i];
	z->flat = malloc(total + 1);
	z->off = malloc((n_targets + 1) * sizeof *z->off);
	z->csize = malloc(n_targets * sizeof *z->csize);
	z->ctx = calloc((size_t)z->threads, sizeof *z->ctx);
	if (!z->flat || !z->off || !z->csize || !z->ctx)
		goto oom;
	size_t at = 0;
	for (size_t i = 0; i < n_targets; i++) {
		z->off[i] = at;
		memcpy(z->flat + at, targets[i], target_lens[i]);
		at += target_lens[i];
	}
	z->off[n_targets] = at;
	int bad = 0;
#pragma omp parallel for num_threads(z->threads) schedule(dynamic, 1)
	for (size_t i = 0; i < n_targets; i++) {
		struct zctx *c = &z->ctx[omp_get_thread_num()];
		if (csize(z, c, z->flat + z->off[i], z->off[i + 1] - z->off[i], NULL,
			  0, &z->csize[i])) {
#pragma omp atomic write
			bad = 1;
		}
	}
	if (bad) {
		wn_errf(err, errlen, "compressor failed on a target (out of memory?)");
		wn_zipfit_free(z);
		return NULL;
	}
	return z;
oom:
	wn_errf(err, errlen, "out of memory");
	wn_zipfit_free(z);
	return NULL;
}

void wn_zipfit_free(wn_zipfit *z)
{
	if (!z)
		return;
	if (z->ctx)
		for (int t = 0; t < z->threads; t++)
			ctx_free(z, &z->ctx[t]);
	free(z->ctx);
	free(z->flat);
	free(z->off);
	free(z->csize);
	free(z);
}

size_t wn_zipfit_n_targets(const wn_zipfit *z) { return z->n; }
int wn_zipfit_level(const wn_zipfit *z) { return z->level; }
uint64_t wn_zipfit_target_size(const wn_zipfit *z, size_t i) { return z->csize[i]; }

int wn_zipfit_size(wn_zipfit *z, const char *s, size_t len, uint64_t *size)
{
	return csize(z, &z->ctx[0], s, len, NULL, 0, size);
}

/* ---------- scoring ---------- */

/* Mean of 1 − NCD over the targets, summed in target order. */
static int score_one(const wn_zipfit *z, struct zctx *c, const char *a,
		     size_t la, double *score, uint64_t *size_out)
{
	uint64_t ca;
	if (csize(z, c, a, la, NULL, 0, &ca))
		return -1;
	double sum = 0;
	for (size_t t = 0; t < z->n; t++) {
		uint64_t cab, ct = z->csize[t];
		if (csize(z, c, a, la, z->flat + z->off[t], z->off[t + 1] - z->off[t],
			  &cab))
			return -1;
		double lo = (double)(ca < ct ? ca : ct), hi = (double)(ca < ct ? ct : ca);
		sum += 1.0 - ((double)cab - lo) / hi;
	}
	*score = sum / (double)z->n;
	if (size_out)
		*size_out = ca;
	return 0;
}

int wn_zipfit_score(wn_zipfit *z, const char *const *texts, const size_t *lens,
		    size_t n, double *scores, uint64_t *sizes, char *err,
		    size_t errlen)
{
	int bad = 0;
#pragma omp parallel for num_threads(z->threads) schedule(dynamic, 1)
	for (size_t i = 0; i < n; i++) {
		struct zctx *c = &z->ctx[omp_get_thread_num()];
		if (score_one(z, c, texts[i], lens[i], &scores[i],
			      sizes ? &sizes[i] : NULL)) {
#pragma omp atomic write
			bad = 1;
		}
	}
	if (bad) {
		wn_errf(err, errlen, "compressor failed (out of memory?)");
		return -1;
	}
	return 0;
}
