/*
 * core/gemm64.h — float64 products of a few vectors with the rows of a
 * float32 matrix, tile by tile, with the caller's work done on each tile
 * while it is in cache: k-means++'s candidate-to-row distances (cluster/).
 *
 * Owns: the tiling, the threads, the per-thread float64 work areas and the
 * OpenBLAS one-thread bracket around them (core/cpu_dense.c).
 * Borrows: OpenBLAS (cblas_dgemm), OpenMP.
 * Why here: a one-thread BLAS call per fixed tile is how the core's CPU
 * GEMM keeps its bits independent of the thread count; this is the same
 * rule for float64, so it lives beside it rather than in each caller.
 */
#ifndef WN_CORE_GEMM64_H
#define WN_CORE_GEMM64_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Receives tile t (rows i0 .. i0+m of X) and its products P, nc x m
 * row-major: P[c*m + r] = A_c · x_{i0+r}. It may write only what belongs
 * to tile t (tiles run concurrently). */
typedef void (*wn_core_tile64_fn)(void *ctx, int64_t t, int64_t i0, int64_t m, const double *P);

/*
 * A (nc x d, float64) times every row of X (n x d, float32) in tiles of
 * `rows` rows (the last one shorter): each tile's rows are converted to
 * float64 (exactly) and multiplied by one single-threaded dgemm, then
 * handed to fn. Tiles are spread over up to `threads` OpenMP threads when
 * the work is large (n*d*nc >= 2^20 multiply-adds); as each tile is one
 * dgemm call of a shape fixed by (nc, m, d), P has the same bits at any
 * thread count. OpenBLAS is switched to one thread for the call and back
 * after, so calls must not run concurrently from several threads.
 * Returns 0, WN_CORE_EINVAL (sizes beyond the 32-bit BLAS interface, or
 * not positive) or WN_CORE_ENOMEM.
 */
int wn_core_gemm64_tiles(const double *A, int nc, const float *X, int64_t n, int64_t d,
			 int64_t rows, int threads, wn_core_tile64_fn fn, void *ctx);

#ifdef __cplusplus
}
#endif

#endif
