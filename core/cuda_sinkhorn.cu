/*
 * core/cuda_sinkhorn.cu — Sinkhorn's half step (the softmin over the rows of
 * a cost matrix) on the CUDA backend; the CPU twin and reference is
 * wn_cpu_softmin_rows in core/cpu_sinkhorn.c.
 *
 * Owns: one kernel and its launcher. Borrows: the backend state and stream
 * (core/cuda_internal.h); the cost (float), log-weights, potentials and the
 * output (double) are device buffers of the caller.
 * Why: the iterations read the whole n x m cost twice per step; on the
 * device that is memory bandwidth, on the host it is exp() per entry.
 * Determinism: one warp per row, each lane walks j = lane, lane + 32, ...
 * in order, then a fixed xor-shuffle tree (max is exact; the sum's order is
 * fixed by the lane layout), no atomics: the same input gives the same
 * bits every run. The order differs from the CPU's single sequential loop,
 * so the two agree to rounding (about 1e-15 relative per row, 1e-9 on the
 * converged potentials), not bit for bit.
 */
#include <math.h>

#include "core/cuda_internal.h"

#define SK_WARPS 8 /* rows (warps) per block */

static __device__ double warp_max_d(double v)
{
	for (int o = 16; o > 0; o >>= 1)
		v = fmax(v, __shfl_xor_sync(0xffffffffu, v, o));
	return v;
}

static __device__ double warp_sum_d(double v)
{
	for (int o = 16; o > 0; o >>= 1)
		v += __shfl_xor_sync(0xffffffffu, v, o);
	return v;
}

__global__ void k_softmin_rows(const float *C, int64_t rows, int64_t cols, const double *lw,
			       const double *h, double eps, double *out)
{
	int lane = threadIdx.x & 31;
	for (int64_t i = (int64_t)blockIdx.x * SK_WARPS + threadIdx.x / 32; i < rows;
	     i += (int64_t)gridDim.x * SK_WARPS) {
		const float *r = C + i * cols;
		double mx = -INFINITY, s = 0;
		for (int64_t j = lane; j < cols; j += 32)
			mx = fmax(mx, lw[j] + (h[j] - (double)r[j]) / eps);
		mx = warp_max_d(mx);
		for (int64_t j = lane; j < cols; j += 32)
			s += exp(lw[j] + (h[j] - (double)r[j]) / eps - mx);
		s = warp_sum_d(s);
		if (lane == 0)
			out[i] = -eps * (mx + log(s));
	}
}

int wn_cuda_softmin_rows(void *state, const float *C, int64_t rows, int64_t cols,
			 const double *lw, const double *h, double eps, double *out)
{
	struct wn_cuda *st = (struct wn_cuda *)state;
	if (rows < 0 || cols < 1)
		return wn_cuda_fail(st, WN_CORE_EINVAL, "softmin_rows: %lld x %lld", (long long)rows,
				    (long long)cols);
	if (!rows)
		return 0;
	int64_t b = (rows + SK_WARPS - 1) / SK_WARPS;
	unsigned blocks = b > 65535 * 16 ? 65535u * 16u : (unsigned)b;
	k_softmin_rows<<<blocks, SK_WARPS * 32, 0, st->stream>>>(C, rows, cols, lw, h, eps, out);
	return wn_cuda_check_launch(st, "k_softmin_rows");
}
