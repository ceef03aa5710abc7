/*
 * core/cuda_kmeans.cu — k-means assign and Lloyd training on the GPU.
 *
 * Owns: wn_cuda_kmeans_assign and wn_cuda_kmeans_train, and their kernels:
 *  - the fused assign: a tensor-core GEMM tile (fp16 operands, each row
 *    scaled by its largest magnitude so nothing overflows, fp32 accumulate)
 *    whose epilogue keeps, per point, the best centroid of each of 8
 *    disjoint column subsets: the n x k distance matrix never exists;
 *  - a cuBLAS fallback (TF32 products over row tiles, then a warp argmin
 *    that keeps 8 candidates the same way) for d > 512 or on request;
 *  - the exact re-check: the 8 candidates of each point are scored again in
 *    plain fp32 as sum (x - c)^2 (or x.c), which decides the assignment and
 *    the reported distance, so the low-precision products only shortlist;
 *  - the update: counts, a stable radix sort of points by cluster, and one
 *    block per cluster summing its members in double in a fixed order (no
 *    float atomics: the same bits on every run), means as in
 *    wn_cpu_kmeans_update, then FAISS's empty-cluster split on the host
 *    with core/kmeans_split.c, the code the CPU path runs.
 * Borrows: core/kmeans_split.h (init pick, per-iteration seed, split),
 * CUB (sort, scan), cuBLAS; the state of core/cuda_internal.h.
 * Why: the GPU goal of issue 3/5 (1M x 256, k = 20,000, 25 iterations in
 * a few seconds) needs tensor cores and no n x k matrix in memory.
 * Data larger than GPU memory is streamed in row chunks each iteration.
 */
#include <cub/cub.cuh>
#include <cuda_fp16.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/cuda_internal.h"
#include "core/kmeans_split.h"

#define KM_BN 128    /* centroids per step of the fused kernel */
#define KM_BK 64     /* halves per k-slice: 128 bytes, 8 chunks of 16 */
#define KM_CAND 16   /* shortlist per point: the best 2 of 8 column subsets */
#define KM_ROWPAD 256 /* chunk rows are a multiple of the largest BM */
#define KM_PARTS 1024 /* blocks of the inertia reduction */

/* ---- small device helpers --------------------------------------------- */

static __device__ __forceinline__ unsigned smem_u32(const void *p)
{
	return (unsigned)__cvta_generic_to_shared(p);
}

static __device__ __forceinline__ void cp_async16(unsigned dst, const void *src)
{
	asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(dst), "l"(src));
}

static __device__ __forceinline__ void cp_async_commit(void)
{
	asm volatile("cp.async.commit_group;\n" ::);
}

template <int N> static __device__ __forceinline__ void cp_async_wait(void)
{
	asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
}

static __device__ __forceinline__ void ldsm_x4(unsigned addr, unsigned &r0, unsigned &r1,
					       unsigned &r2, unsigned &r3)
{
	asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
		     : "=r"(r0), "=r"(r1), "=r"(r2), "=r"(r3)
		     : "r"(addr));
}

static __device__ __forceinline__ void mma_16816(float *c, const unsigned *a, unsigned b0,
						 unsigned b1)
{
	asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 "
		     "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
		     : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
		     : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

/* ---- conversion to scaled fp16 ------------------------------------------ */

/*
 * One warp per row: H[r] = X[r] / s (s = largest |x|, 1 for a zero row),
 * zero-padded to dp columns; rows in [rows, rows_to) become zero rows.
 * Points get fac[r] = -2 s (L2) or -s (IP), so that
 * key = fac * (H.Hc * sc) + cn is ||c||^2 - 2 x.c (or -x.c), smaller better.
 * Centroids get fac[r] = s, and norm[r] = ||c||^2 (L2), 0 (IP), +inf (pad).
 */
__global__ void k_to_half(const float *X, int64_t rows, int64_t rows_to, int64_t d, int dp,
			  const float *mu, __half *H, float *fac, float *norm, int metric,
			  int is_centroid)
{
	const int lane = threadIdx.x & 31;
	for (int64_t r = (int64_t)blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32; r < rows_to;
	     r += (int64_t)gridDim.x * (blockDim.x / 32)) {
		__half *h = H + r * dp;
		if (r >= rows) {
			for (int j = lane; j < dp; j += 32)
				h[j] = __float2half_rn(0.0f);
			if (lane == 0) {
				fac[r] = 0.0f;
				if (norm)
					norm[r] = INFINITY;
			}
			continue;
		}
		const float *x = X + r * d;
		float m = 0.0f, ss = 0.0f, xm = 0.0f;
		for (int64_t j = lane; j < d; j += 32) {
			float u = mu ? mu[j] : 0.0f, v = x[j] - u;
			m = fmaxf(m, fabsf(v));
			ss = fmaf(v, v, ss);
			xm = fmaf(x[j], u, xm);
		}
		m = warp_max(m);
		ss = warp_sum(ss);
		xm = warp_sum(xm);
		float s = m > 0.0f ? m : 1.0f;
		float inv = 1.0f / s;
		for (int j = lane; j < dp; j += 32)
			h[j] = __float2half_rn(j < d ? (x[j] - (mu ? mu[j] : 0.0f)) * inv : 0.0f);
		if (lane == 0) {
			if (is_centroid) {
				/* ||x - c||^2 = ||x'||^2 - 2 x'.c' + ||c'||^2 and
				 * x.c = x'.c' + mu.c + (a term of x alone) */
				fac[r] = s;
				norm[r] = metric == WN_METRIC_L2 ? ss : -xm;
			} else {
				fac[r] = metric == WN_METRIC_L2 ? -2.0f * s : -s;
			}
		}
	}
}

/* ---- the fused assign kernel ---------------------------------------------- */

/* Keep the two smallest (key, column) seen; columns arrive in increasing order. */
static __device__ __forceinline__ void top2(float v, int j, float &b1, int &i1, float &b2, int &i2)
{
	bool p1 = v < b1, p2 = v < b2;
	i2 = p1 ? i1 : (p2 ? j : i2);
	b2 = p1 ? b1 : (p2 ? v : b2);
	i1 = p1 ? j : i1;
	b1 = p1 ? v : b1;
}

/*
 * Block: BM points (their fp16 rows stay in shared memory for the whole
 * block) against all kp centroids, BN at a time through a STAGES-deep
 * cp.async ring of 64-wide k-slices. Warps: BM/64 along the points x 2 along
 * the centroids, each a 64 x 64 tile of m16n8k16 products. Shared rows are
 * 128-byte slices whose 16-byte chunks are XOR-swizzled by (row & 7), so
 * ldmatrix reads 8 rows without bank conflicts.
 * Output: cand[p * 16 + 2 s + {0, 1}] = the best two centroids of column
 * subset s of point p, where the subset is fixed by (warp column, lane & 3):
 * 8 disjoint column sets. Two per subset, so that a pair of near-equal
 * centroids (FAISS's split makes them, 1/1024 apart) always reaches the
 * exact re-check even when fp16 cannot order them.
 */
template <int BM, int STAGES>
__global__ void __launch_bounds__(BM / 64 * 2 * 32, 1)
	k_assign_fused(const __half *__restrict__ Xh, const float *__restrict__ xfac, int dp,
		       const __half *__restrict__ Ch, const float *__restrict__ cnorm,
		       const float *__restrict__ cfac, int kp, int *__restrict__ cand)
{
	constexpr int WM = BM / 64;
	constexpr int NT = WM * 2 * 32;
	extern __shared__ __align__(128) unsigned char smem[];
	const int KT = dp / KM_BK;
	unsigned char *sA = smem;
	unsigned char *sB = smem + (size_t)KT * BM * 128;
	const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
	const int wn = warp & 1, wm = warp >> 1;
	const int64_t m0 = (int64_t)blockIdx.x * BM;
	const int sw = lane & 7; /* (row & 7) of every row this lane addresses */

	/* the block's points: BM rows x KT slices x 8 chunks */
	for (int c = tid; c < BM * KT * 8; c += NT) {
		int ch = c & 7, t = c >> 3;
		int kt = t % KT, r = t / KT;
		const __half *src = Xh + (m0 + r) * dp + kt * KM_BK + ch * 8;
		cp_async16(smem_u32(sA + ((size_t)(kt * BM + r) * 8 + (ch ^ (r & 7))) * 16), src);
	}

	const int NS = kp / KM_BN;
	const int G = NS * KT;
	auto load_b = [&](int g) {
		int ns = g / KT, kt = g - ns * KT;
		unsigned char *dst = sB + (size_t)(g % STAGES) * KM_BN * 128;
		const __half *base = Ch + (int64_t)ns * KM_BN * dp + kt * KM_BK;
		for (int c = tid; c < KM_BN * 8; c += NT) {
			int ch = c & 7, r = c >> 3;
			cp_async16(smem_u32(dst + (r * 8 + (ch ^ (r & 7))) * 16),
				   base + (int64_t)r * dp + ch * 8);
		}
	};
#pragma unroll
	for (int s = 0; s < STAGES - 1; ++s) {
		if (s < G)
			load_b(s);
		cp_async_commit(); /* group 0 also carries the points */
	}

	float fac[8], b1[8], b2[8];
	int i1[8], i2[8];
#pragma unroll
	for (int i = 0; i < 8; ++i) {
		int64_t row = m0 + wm * 64 + (i >> 1) * 16 + (lane >> 2) + (i & 1) * 8;
		fac[i] = xfac[row];
		b1[i] = b2[i] = INFINITY;
		i1[i] = i2[i] = -1;
	}
	float acc[4][8][4];

	for (int g = 0; g < G; ++g) {
		cp_async_wait<STAGES - 2>();
		__syncthreads();
		if (g + STAGES - 1 < G)
			load_b(g + STAGES - 1);
		cp_async_commit();
		const int ns = g / KT, kt = g - ns * KT;
		if (kt == 0) {
#pragma unroll
			for (int mt = 0; mt < 4; ++mt)
#pragma unroll
				for (int nt = 0; nt < 8; ++nt)
#pragma unroll
					for (int e = 0; e < 4; ++e)
						acc[mt][nt][e] = 0.0f;
		}
		const unsigned aBase = smem_u32(sA + (size_t)kt * BM * 128);
		const unsigned bBase = smem_u32(sB + (size_t)(g % STAGES) * KM_BN * 128);
#pragma unroll
		for (int kk = 0; kk < 4; ++kk) {
			unsigned a[4][4], b[8][2];
#pragma unroll
			for (int mt = 0; mt < 4; ++mt) {
				int r = wm * 64 + mt * 16 + (lane & 15);
				int ch = kk * 2 + (lane >> 4);
				ldsm_x4(aBase + (r * 8 + (ch ^ sw)) * 16, a[mt][0], a[mt][1], a[mt][2],
					a[mt][3]);
			}
#pragma unroll
			for (int np = 0; np < 4; ++np) {
				int r = wn * 64 + np * 16 + (lane & 7) + ((lane >> 4) << 3);
				int ch = kk * 2 + ((lane >> 3) & 1);
				ldsm_x4(bBase + (r * 8 + (ch ^ sw)) * 16, b[2 * np][0], b[2 * np][1],
					b[2 * np + 1][0], b[2 * np + 1][1]);
			}
#pragma unroll
			for (int mt = 0; mt < 4; ++mt)
#pragma unroll
				for (int nt = 0; nt < 8; ++nt)
					mma_16816(acc[mt][nt], a[mt], b[nt][0], b[nt][1]);
		}
		if (kt == KT - 1) {
			const int jb = ns * KM_BN + wn * 64 + (lane & 3) * 2;
#pragma unroll
			for (int nt = 0; nt < 8; ++nt) {
				const int j = jb + nt * 8;
				const float2 cn2 = __ldg((const float2 *)(cnorm + j));
				const float2 cf2 = __ldg((const float2 *)(cfac + j));
#pragma unroll
				for (int i = 0; i < 8; ++i) {
					const int mt = i >> 1, h = i & 1;
					top2(fmaf(fac[i], acc[mt][nt][2 * h] * cf2.x, cn2.x), j, b1[i],
					     i1[i], b2[i], i2[i]);
					top2(fmaf(fac[i], acc[mt][nt][2 * h + 1] * cf2.y, cn2.y), j + 1,
					     b1[i], i1[i], b2[i], i2[i]);
				}
			}
		}
	}
	cp_async_wait<0>();
#pragma unroll
	for (int i = 0; i < 8; ++i) {
		int64_t row = m0 + wm * 64 + (i >> 1) * 16 + (lane >> 2) + (i & 1) * 8;
		int *o = cand + row * KM_CAND + (wn * 4 + (lane & 3)) * 2;
		o[0] = i1[i];
		o[1] = i2[i];
	}
}

/* ---- the cuBLAS fallback's argmin ------------------------------------------ */

/*
 * One warp per row of G = X C^T (rows x k): lane l keeps the best of columns
 * l, l+32, ...; the 16 best lanes become the shortlist.
 */
__global__ void k_argmin_tile(const float *G, int64_t rows, int k, const float *cnorm,
			      int metric, int *cand)
{
	const int lane = threadIdx.x & 31;
	for (int64_t r = (int64_t)blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32; r < rows;
	     r += (int64_t)gridDim.x * (blockDim.x / 32)) {
		const float *g = G + r * k;
		float bk = INFINITY;
		int bi = -1;
		for (int j = lane; j < k; j += 32) {
			float key = metric == WN_METRIC_L2 ? cnorm[j] - 2.0f * g[j] : -g[j];
			if (key < bk) {
				bk = key;
				bi = j;
			}
		}
		for (int s = 0; s < KM_CAND; ++s) {
			float mk = bk;
			int mi = bi, ml = lane;
			for (int o = 16; o > 0; o >>= 1) {
				float ok = __shfl_xor_sync(0xffffffffu, mk, o);
				int oi = __shfl_xor_sync(0xffffffffu, mi, o);
				int ol = __shfl_xor_sync(0xffffffffu, ml, o);
				if (ok < mk || (ok == mk && ol < ml)) {
					mk = ok;
					mi = oi;
					ml = ol;
				}
			}
			if (lane == 0)
				cand[r * KM_CAND + s] = mk < INFINITY ? mi : -1;
			if (lane == ml)
				bk = INFINITY;
		}
	}
}

/* ---- exact re-check ---------------------------------------------------------- */

/* One warp per point: score the shortlist in fp32, keep the best (ties: smaller id). */
__global__ void k_recheck(const float *X, int64_t rows, int64_t d, const float *C, int k,
			  const int *cand, int metric, int *asg, float *dist)
{
	const int lane = threadIdx.x & 31;
	for (int64_t r = (int64_t)blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32; r < rows;
	     r += (int64_t)gridDim.x * (blockDim.x / 32)) {
		int ci[KM_CAND];
		bool ok[KM_CAND];
#pragma unroll
		for (int s = 0; s < KM_CAND; ++s) {
			int c = cand[r * KM_CAND + s];
			ok[s] = c >= 0 && c < k;
			ci[s] = ok[s] ? c : 0;
		}
		float acc[KM_CAND];
#pragma unroll
		for (int s = 0; s < KM_CAND; ++s)
			acc[s] = 0.0f;
		const float *x = X + r * d;
		for (int64_t j = lane; j < d; j += 32) {
			float xv = x[j];
#pragma unroll
			for (int s = 0; s < KM_CAND; ++s) {
				float cv = C[(int64_t)ci[s] * d + j];
				if (metric == WN_METRIC_L2) {
					float t = xv - cv;
					acc[s] = fmaf(t, t, acc[s]);
				} else {
					acc[s] = fmaf(xv, cv, acc[s]);
				}
			}
		}
		int bi = -1;
		float bk = INFINITY, bv = 0.0f;
#pragma unroll
		for (int s = 0; s < KM_CAND; ++s) {
			float v = warp_sum(acc[s]);
			float key = metric == WN_METRIC_L2 ? v : -v;
			if (ok[s] && (bi < 0 || key < bk || (key == bk && ci[s] < bi))) {
				bi = ci[s];
				bk = key;
				bv = v;
			}
		}
		if (lane == 0) {
			asg[r] = bi >= 0 ? bi : 0;
			dist[r] = bi >= 0 ? bv : NAN;
		}
	}
}

/* ---- update ------------------------------------------------------------------- */

__global__ void k_hist(const int *asg, int64_t rows, int *counts)
{
	for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < rows;
	     i += (int64_t)gridDim.x * blockDim.x)
		atomicAdd(&counts[asg[i]], 1);
}

__global__ void k_iota(int *v, int64_t n)
{
	for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n;
	     i += (int64_t)gridDim.x * blockDim.x)
		v[i] = (int)i;
}

__global__ void k_add_counts(int *total, const int *part, int k)
{
	for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < k; i += gridDim.x * blockDim.x)
		total[i] += part[i];
}

/*
 * One block (8 warps) per cluster: warp w sums members w, w+8, ... of the
 * cluster (in sorted point order), 8 dimensions per lane per pass; the warps'
 * partial sums are then added in warp order. All in double, as the CPU does.
 */
#define SEG_WARPS 8
__global__ void __launch_bounds__(SEG_WARPS * 32)
	k_segsum(const float *X, int64_t d, const int *perm, const int *offs, const int *cnts, int k,
		 double *sums)
{
	__shared__ double part[SEG_WARPS][256];
	const int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
	for (int c = blockIdx.x; c < k; c += gridDim.x) {
		const int beg = offs[c], cnt = cnts[c];
		if (cnt == 0)
			continue;
		for (int64_t j0 = 0; j0 < d; j0 += 256) {
			double a[8];
#pragma unroll
			for (int t = 0; t < 8; ++t)
				a[t] = 0.0;
			for (int m = w; m < cnt; m += SEG_WARPS) {
				const float *x = X + (int64_t)perm[beg + m] * d + j0;
#pragma unroll
				for (int t = 0; t < 8; ++t) {
					int64_t j = lane + 32 * t;
					if (j0 + j < d)
						a[t] += (double)x[j];
				}
			}
#pragma unroll
			for (int t = 0; t < 8; ++t)
				part[w][lane + 32 * t] = a[t];
			__syncthreads();
			int64_t j = j0 + threadIdx.x;
			if (j < d) {
				double s = 0.0;
#pragma unroll
				for (int q = 0; q < SEG_WARPS; ++q)
					s += part[q][threadIdx.x];
				sums[(int64_t)c * d + j] += s;
			}
			__syncthreads();
		}
	}
}

/* Means of non-empty clusters; empty ones keep their centroid until the split. */
__global__ void k_finalize(const double *sums, const int *counts, int64_t k, int64_t d, float *C)
{
	size_t total = (size_t)k * (size_t)d;
	for (size_t t = (size_t)blockIdx.x * blockDim.x + threadIdx.x; t < total;
	     t += (size_t)gridDim.x * blockDim.x) {
		int cnt = counts[t / (size_t)d];
		if (cnt > 0)
			C[t] = (float)(sums[t] * (1.0 / (double)cnt));
	}
}

/* wn_kmeans_normalize_rows on the device: norm in double, float scale. */
__global__ void k_normalize_rows(float *C, int64_t k, int64_t d)
{
	const int lane = threadIdx.x & 31;
	for (int64_t r = (int64_t)blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32; r < k;
	     r += (int64_t)gridDim.x * (blockDim.x / 32)) {
		float *x = C + r * d;
		double s = 0.0;
		for (int64_t j = lane; j < d; j += 32)
			s += (double)x[j] * x[j];
		for (int o = 16; o > 0; o >>= 1)
			s += __shfl_xor_sync(0xffffffffu, s, o);
		if (s <= 0)
			continue;
		float inv = (float)(1.0 / sqrt(s));
		for (int64_t j = lane; j < d; j += 32)
			x[j] *= inv;
	}
}

/* Fixed-shape double reduction of the distances: part[b] += block b's sum. */
__global__ void k_sum_dist(const float *dist, int64_t rows, double *part)
{
	__shared__ double sh[256];
	double s = 0.0;
	for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < rows;
	     i += (int64_t)gridDim.x * blockDim.x)
		s += (double)dist[i];
	sh[threadIdx.x] = s;
	__syncthreads();
	for (int o = 128; o > 0; o >>= 1) {
		if (threadIdx.x < o)
			sh[threadIdx.x] += sh[threadIdx.x + o];
		__syncthreads();
	}
	if (threadIdx.x == 0)
		part[blockIdx.x] += sh[0];
}

/* ---- host side: the working set ---------------------------------------------- */

/*
 * Assign paths: the fused kernel with 256-point blocks (d <= 256, one block
 * per SM), with 128-point blocks (d <= 512), the same with a 3-deep ring so
 * two blocks share an SM (d <= 256; WINNOW_CUDA_ASSIGN_PATH=4, for
 * measuring), and the cuBLAS fallback.
 */
enum { PATH_FUSED256 = 1, PATH_FUSED128 = 2, PATH_GEMM = 3, PATH_FUSED128S3 = 4 };

struct km {
	struct wn_cuda *st;
	int metric, path;
	int64_t d, dp, k, kp;
	int64_t R;      /* rows per chunk (multiple of KM_ROWPAD) */
	int64_t T;      /* rows per GEMM tile (fallback path) */
	size_t smem;    /* dynamic shared memory of the fused kernel */
	/* centroid side; mu: the offset both sides are shifted by (or NULL) */
	float *Cd, *cnorm, *cfac, *mu;
	__half *Ch;
	/* point side, R rows */
	float *Xd, *xfac, *dist, *G;
	__half *Xh;
	int *cand, *asg;
	/* update (train only) */
	double *sums, *parts;
	int *cnt_chunk, *cnt_total, *offs, *keys_out, *vals_in, *vals_out;
	void *cub_tmp;
	size_t cub_bytes;
};

static int64_t round_up(int64_t v, int64_t m)
{
	return (v + m - 1) / m * m;
}

/* Bits the radix sort needs for cluster ids in [0, k). */
static int id_bits(int64_t k)
{
	int bits = 1;
	while (bits < 31 && (1ll << bits) < k)
		bits++;
	return bits;
}

static unsigned warp_blocks(int64_t rows)
{
	int64_t b = (rows + 7) / 8;
	if (b > 1 << 20)
		b = 1 << 20;
	return b ? (unsigned)b : 1u;
}

static size_t fused_smem(int64_t dp, int bm, int stages)
{
	return (size_t)(dp / KM_BK) * bm * 128 + (size_t)stages * KM_BN * 128;
}

static int km_pick_path(struct km *m)
{
	struct wn_cuda *st = m->st;
	long long want = wn_cuda_env_ll("WINNOW_CUDA_ASSIGN_PATH", 0); /* 1..4; 0 = auto */
	const char *ps = getenv("WINNOW_CUDA_ASSIGN");
	if (ps && !strcmp(ps, "gemm"))
		want = PATH_GEMM;
	int ok[5] = { 0, fused_smem(m->dp, 256, 4) <= st->smem_optin,
		      fused_smem(m->dp, 128, 4) <= st->smem_optin, 1,
		      fused_smem(m->dp, 128, 3) <= st->smem_optin };
	if (want >= 1 && want <= 4) {
		if (!ok[want])
			return wn_cuda_fail(st, WN_CORE_EINVAL,
					    "kmeans: assign path %lld does not fit d = %lld",
					    want, (long long)m->d);
		m->path = (int)want;
	} else {
		m->path = ok[1] ? PATH_FUSED256 : ok[2] ? PATH_FUSED128 : PATH_GEMM;
	}
	cudaError_t e = cudaSuccess;
	switch (m->path) {
	case PATH_FUSED256:
		m->smem = fused_smem(m->dp, 256, 4);
		e = cudaFuncSetAttribute(k_assign_fused<256, 4>,
					 cudaFuncAttributeMaxDynamicSharedMemorySize, (int)m->smem);
		break;
	case PATH_FUSED128:
		m->smem = fused_smem(m->dp, 128, 4);
		e = cudaFuncSetAttribute(k_assign_fused<128, 4>,
					 cudaFuncAttributeMaxDynamicSharedMemorySize, (int)m->smem);
		break;
	case PATH_FUSED128S3:
		m->smem = fused_smem(m->dp, 128, 3);
		e = cudaFuncSetAttribute(k_assign_fused<128, 3>,
					 cudaFuncAttributeMaxDynamicSharedMemorySize, (int)m->smem);
		break;
	}
	return wn_cuda_check(st, e, "kmeans: cudaFuncSetAttribute");
}

static void km_free(struct km *m)
{
	if (m->st)
		cudaStreamSynchronize(m->st->stream);
	void *ps[] = { m->Cd, m->cnorm, m->cfac, m->mu, m->Ch, m->Xd, m->xfac, m->dist, m->G, m->Xh,
		       m->cand, m->asg, m->sums, m->parts, m->cnt_chunk, m->cnt_total, m->offs,
		       m->keys_out, m->vals_in, m->vals_out, m->cub_tmp };
	for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++)
		wn_cuda_scratch_free(ps[i]);
	memset(m, 0, sizeof *m);
}

#define KM_ALLOC(field, type, count, what)                                               \
	do {                                                                             \
		if (!rc)                                                                 \
			m->field = (type *)wn_cuda_scratch(st, (size_t)(count) * sizeof(type), \
							   "kmeans: " what, &rc);                \
	} while (0)

/*
 * Allocate for n points (streamed in chunks of R rows when they do not fit),
 * with the update buffers when `train`.
 */
static int km_open(struct km *m, struct wn_cuda *st, int metric, int64_t n, int64_t d,
		   int64_t k, int train)
{
	memset(m, 0, sizeof *m);
	m->st = st;
	m->metric = metric;
	m->d = d;
	m->dp = round_up(d, KM_BK);
	m->k = k;
	m->kp = round_up(k, KM_BN);
	int rc = km_pick_path(m);
	if (rc)
		return rc;
	size_t fr = 0, tot = 0;
	rc = wn_cuda_check(st, cudaMemGetInfo(&fr, &tot), "kmeans: cudaMemGetInfo");
	if (rc)
		return rc;
	double budget = (double)fr * 0.8;
	long long mb = wn_cuda_env_ll("WINNOW_CUDA_MEM_BUDGET_MB", 0);
	if (mb > 0 && mb * 1048576.0 < budget)
		budget = mb * 1048576.0;
	double fixed = (double)k * d * 4 + (double)m->kp * m->dp * 2 + (double)m->kp * 8 +
		       (train ? (double)k * d * 8 + (double)k * 16 : 0);
	m->T = 0;
	if (m->path == PATH_GEMM) {
		int64_t t = (int64_t)(256.0 * 1048576 / 4 / (double)k);
		t = wn_cuda_env_ll("WINNOW_CUDA_ASSIGN_TILE_ROWS", t);
		m->T = t < 1 ? 1 : t;
		fixed += (double)m->T * k * 4;
	}
	double per_row = (double)d * 4 + (double)m->dp * 2 + 4 + KM_CAND * 4 + 8 +
			 (train ? 16 : 0);
	int64_t R = (int64_t)((budget - fixed) / per_row) / KM_ROWPAD * KM_ROWPAD;
	int64_t npad = round_up(n > 0 ? n : 1, KM_ROWPAD);
	long long force = wn_cuda_env_ll("WINNOW_CUDA_KMEANS_CHUNK", 0);
	if (force > 0)
		R = round_up(force, KM_ROWPAD);
	if (R > npad)
		R = npad;
	if (R < KM_ROWPAD)
		return wn_cuda_fail(st, WN_CORE_ENOMEM,
				    "kmeans: too little GPU memory (%.1f MiB free) for k = %lld, d = %lld",
				    fr / 1048576.0, (long long)k, (long long)d);
	m->R = R;
	if (m->T > R)
		m->T = R;

	KM_ALLOC(Cd, float, k * d, "centroids");
	KM_ALLOC(Ch, __half, m->kp * m->dp, "centroids (fp16)");
	KM_ALLOC(cnorm, float, m->kp, "centroid norms");
	KM_ALLOC(cfac, float, m->kp, "centroid scales");
	KM_ALLOC(Xd, float, R * d, "points");
	KM_ALLOC(Xh, __half, R * m->dp, "points (fp16)");
	KM_ALLOC(xfac, float, R, "point scales");
	KM_ALLOC(cand, int, R * KM_CAND, "shortlist");
	KM_ALLOC(asg, int, R, "assignment");
	KM_ALLOC(dist, float, R, "distances");
	if (m->path == PATH_GEMM)
		KM_ALLOC(G, float, m->T * k, "product tile");
	if (train) {
		KM_ALLOC(sums, double, k * d, "sums");
		KM_ALLOC(parts, double, KM_PARTS, "inertia");
		KM_ALLOC(cnt_chunk, int, k, "counts");
		KM_ALLOC(cnt_total, int, k, "counts");
		KM_ALLOC(offs, int, k, "offsets");
		KM_ALLOC(keys_out, int, R, "sort keys");
		KM_ALLOC(vals_in, int, R, "sort values");
		KM_ALLOC(vals_out, int, R, "sort values");
		if (!rc) {
			size_t b1 = 0, b2 = 0;
			cub::DeviceRadixSort::SortPairs(NULL, b1, m->asg, m->keys_out, m->vals_in,
							m->vals_out, (int)R, 0, id_bits(k),
							st->stream);
			cub::DeviceScan::ExclusiveSum(NULL, b2, m->cnt_chunk, m->offs, (int)k,
						      st->stream);
			m->cub_bytes = b1 > b2 ? b1 : b2;
			m->cub_tmp = wn_cuda_scratch(st, m->cub_bytes, "kmeans: sort scratch", &rc);
		}
	}
	if (!rc) /* padded point rows must hold finite numbers */
		rc = wn_cuda_check(st, cudaMemsetAsync(m->Xh, 0, (size_t)(R * m->dp) * 2, st->stream),
				   "kmeans: memset");
	if (!rc)
		rc = wn_cuda_check(st, cudaMemsetAsync(m->xfac, 0, (size_t)R * 4, st->stream),
				   "kmeans: memset");
	if (rc)
		km_free(m);
	return rc;
}

/*
 * The fp16 products lose 2^-11 of |x| |c|, not of |x - c|: data far from the
 * origin (embeddings with a large common component) would shortlist poorly.
 * Distances do not change when both sides move by one vector, so both are
 * shifted by the mean of the centroids C (k x d, host) before conversion.
 * It stays fixed while the points are on the device (converted once).
 * WINNOW_CUDA_CENTER=0 turns this off.
 */
static int km_set_offset(struct km *m, const float *C)
{
	/* the cuBLAS path scores raw fp32 products against raw norms */
	if (m->path == PATH_GEMM || wn_cuda_env_ll("WINNOW_CUDA_CENTER", 1) == 0)
		return 0;
	double *acc = (double *)calloc((size_t)m->d, sizeof *acc);
	float *mu = (float *)malloc((size_t)m->d * sizeof *mu);
	int rc = 0;
	if (!acc || !mu)
		rc = wn_cuda_fail(m->st, WN_CORE_ENOMEM, "kmeans: out of host memory");
	for (int64_t j = 0; !rc && j < m->k; j++)
		for (int64_t t = 0; t < m->d; t++)
			acc[t] += C[j * m->d + t];
	for (int64_t t = 0; !rc && t < m->d; t++)
		mu[t] = (float)(acc[t] / (double)m->k);
	if (!rc && !m->mu) /* kmeans_fit sets it twice: from the first and the trained centroids */
		m->mu = (float *)wn_cuda_scratch(m->st, (size_t)m->d * 4, "kmeans: offset", &rc);
	if (!rc) /* then wait: mu is a local buffer */
		rc = wn_cuda_check(m->st, cudaMemcpyAsync(m->mu, mu, (size_t)m->d * 4,
							  cudaMemcpyHostToDevice, m->st->stream),
				   "kmeans: upload offset");
	if (!rc)
		rc = wn_cuda_check(m->st, cudaStreamSynchronize(m->st->stream), "kmeans: offset");
	free(acc);
	free(mu);
	return rc;
}

/* Cd -> Ch, cnorm, cfac (after every change of the centroids). */
static int km_prep_centroids(struct km *m)
{
	k_to_half<<<warp_blocks(m->kp), 256, 0, m->st->stream>>>(
		m->Cd, m->k, m->kp, m->d, (int)m->dp, m->mu, m->Ch, m->cfac, m->cnorm, m->metric, 1);
	return wn_cuda_check_launch(m->st, "kmeans: centroids to fp16");
}

/* The `rows` points in Xd to fp16 (Xh, xfac) with the current offset. */
static int km_convert_points(struct km *m, int64_t rows)
{
	int64_t to = round_up(rows, KM_ROWPAD);
	k_to_half<<<warp_blocks(to), 256, 0, m->st->stream>>>(m->Xd, rows, to, m->d, (int)m->dp,
							     m->mu, m->Xh, m->xfac, NULL, m->metric, 0);
	return wn_cuda_check_launch(m->st, "kmeans: points to fp16");
}

/* Upload rows [r0, r0 + rows) of X and convert them. */
static int km_load_points(struct km *m, const float *X, int64_t r0, int64_t rows)
{
	int rc = wn_cuda_upload_async(m->st, m->Xd, X + r0 * m->d, (size_t)(rows * m->d) * 4,
				      "kmeans: upload points");
	return rc ? rc : km_convert_points(m, rows);
}

/* The 8-candidate shortlist of the `rows` points now loaded. */
static int km_shortlist(struct km *m, int64_t rows)
{
	struct wn_cuda *st = m->st;
	int rc = 0;
	if (m->path == PATH_FUSED256) {
		unsigned grid = (unsigned)(round_up(rows, 256) / 256);
		k_assign_fused<256, 4><<<grid, 256, m->smem, st->stream>>>(
			m->Xh, m->xfac, (int)m->dp, m->Ch, m->cnorm, m->cfac, (int)m->kp, m->cand);
		rc = wn_cuda_check_launch(st, "kmeans: fused assign");
	} else if (m->path == PATH_FUSED128) {
		unsigned grid = (unsigned)(round_up(rows, 128) / 128);
		k_assign_fused<128, 4><<<grid, 128, m->smem, st->stream>>>(
			m->Xh, m->xfac, (int)m->dp, m->Ch, m->cnorm, m->cfac, (int)m->kp, m->cand);
		rc = wn_cuda_check_launch(st, "kmeans: fused assign");
	} else if (m->path == PATH_FUSED128S3) {
		unsigned grid = (unsigned)(round_up(rows, 128) / 128);
		k_assign_fused<128, 3><<<grid, 128, m->smem, st->stream>>>(
			m->Xh, m->xfac, (int)m->dp, m->Ch, m->cnorm, m->cfac, (int)m->kp, m->cand);
		rc = wn_cuda_check_launch(st, "kmeans: fused assign");
	} else {
		const float one = 1.0f, zero = 0.0f;
		for (int64_t t0 = 0; !rc && t0 < rows; t0 += m->T) {
			int64_t tc = rows - t0 < m->T ? rows - t0 : m->T;
			cublasStatus_t s = cublasGemmEx(
				st->blas, CUBLAS_OP_T, CUBLAS_OP_N, (int)m->k, (int)tc, (int)m->d, &one,
				m->Cd, CUDA_R_32F, (int)m->d, m->Xd + t0 * m->d, CUDA_R_32F, (int)m->d,
				&zero, m->G, CUDA_R_32F, (int)m->k, CUBLAS_COMPUTE_32F_FAST_TF32,
				CUBLAS_GEMM_DEFAULT);
			rc = wn_cuda_check_blas(st, s, "kmeans: cublasGemmEx (TF32)");
			if (rc)
				break;
			k_argmin_tile<<<warp_blocks(tc), 256, 0, st->stream>>>(
				m->G, tc, (int)m->k, m->cnorm, m->metric, m->cand + t0 * KM_CAND);
			rc = wn_cuda_check_launch(st, "kmeans: argmin");
		}
	}
	return rc;
}

static int km_recheck(struct km *m, int64_t rows)
{
	k_recheck<<<warp_blocks(rows), 256, 0, m->st->stream>>>(
		m->Xd, rows, m->d, m->Cd, (int)m->k, m->cand, m->metric, m->asg, m->dist);
	return wn_cuda_check_launch(m->st, "kmeans: re-check");
}

/* Shortlist and exact re-check for the `rows` points now loaded. */
static int km_assign_loaded(struct km *m, int64_t rows)
{
	int rc = km_shortlist(m, rows);
	return rc ? rc : km_recheck(m, rows);
}

/* Add the loaded chunk's points into sums and counts. */
static int km_accumulate(struct km *m, int64_t rows)
{
	struct wn_cuda *st = m->st;
	int rc = wn_cuda_check(st, cudaMemsetAsync(m->cnt_chunk, 0, (size_t)m->k * 4, st->stream),
			       "kmeans: memset");
	if (rc)
		return rc;
	k_hist<<<wn_cuda_blocks((size_t)rows, 256), 256, 0, st->stream>>>(m->asg, rows,
									m->cnt_chunk);
	k_iota<<<wn_cuda_blocks((size_t)rows, 256), 256, 0, st->stream>>>(m->vals_in, rows);
	rc = wn_cuda_check_launch(st, "kmeans: counts");
	int bits = id_bits(m->k);
	size_t tb = m->cub_bytes;
	if (!rc)
		rc = wn_cuda_check(st, cub::DeviceRadixSort::SortPairs(m->cub_tmp, tb, m->asg,
									m->keys_out, m->vals_in,
									m->vals_out, (int)rows, 0,
									bits, st->stream),
				   "kmeans: sort");
	tb = m->cub_bytes;
	if (!rc)
		rc = wn_cuda_check(st, cub::DeviceScan::ExclusiveSum(m->cub_tmp, tb, m->cnt_chunk,
								      m->offs, (int)m->k, st->stream),
				   "kmeans: scan");
	if (rc)
		return rc;
	unsigned grid = m->k < 65536 ? (unsigned)m->k : 65536u;
	k_segsum<<<grid, SEG_WARPS * 32, 0, st->stream>>>(m->Xd, m->d, m->vals_out, m->offs,
							  m->cnt_chunk, (int)m->k, m->sums);
	k_add_counts<<<wn_cuda_blocks((size_t)m->k, 256), 256, 0, st->stream>>>(
		m->cnt_total, m->cnt_chunk, (int)m->k);
	k_sum_dist<<<KM_PARTS, 256, 0, st->stream>>>(m->dist, rows, m->parts);
	return wn_cuda_check_launch(st, "kmeans: sums");
}

static int km_check_sizes(struct wn_cuda *st, int64_t n, int64_t d, int64_t k)
{
	if (n >= INT32_MAX || k >= INT32_MAX / 2 || d >= (1 << 20))
		return wn_cuda_fail(st, WN_CORE_EINVAL,
				    "kmeans: sizes over the CUDA backend's limits (n %lld, d %lld, k %lld)",
				    (long long)n, (long long)d, (long long)k);
	return 0;
}

/*
 * Assign all n points to the centroids in Cd (C: the same k x d on the
 * host, for the offset), chunk by chunk, into out_assign / out_dist (either
 * may be NULL). resident: the n points are already in Xd (kmeans_fit), so
 * they are converted again with the new offset but not uploaded.
 */
static int km_assign_all(struct km *m, const float *X, int64_t n, const float *C,
			 int32_t *out_assign, float *out_dist, int resident)
{
	struct wn_cuda *st = m->st;
	int rc = km_set_offset(m, C);
	if (!rc)
		rc = km_prep_centroids(m);
	for (int64_t r0 = 0; !rc && r0 < n; r0 += m->R) {
		int64_t rows = n - r0 < m->R ? n - r0 : m->R;
		rc = resident ? km_convert_points(m, rows) : km_load_points(m, X, r0, rows);
		if (!rc)
			rc = km_assign_loaded(m, rows);
		if (!rc && out_assign)
			rc = wn_cuda_check(st, cudaMemcpyAsync(out_assign + r0, m->asg, (size_t)rows * 4,
							       cudaMemcpyDeviceToHost, st->stream),
					   "kmeans: download");
		if (!rc && out_dist)
			rc = wn_cuda_check(st, cudaMemcpyAsync(out_dist + r0, m->dist, (size_t)rows * 4,
							       cudaMemcpyDeviceToHost, st->stream),
					   "kmeans: download");
		/* the next chunk overwrites the buffers these copies read */
		if (!rc)
			rc = wn_cuda_check(st, cudaStreamSynchronize(st->stream), "kmeans: assign");
	}
	return rc;
}

int wn_cuda_kmeans_assign(void *state, int metric, const float *X, int64_t n, int64_t d,
			  const float *C, int64_t k, int32_t *out_assign, float *out_dist)
{
	struct wn_cuda *st = (struct wn_cuda *)state;
	int rc = km_check_sizes(st, n, d, k);
	if (rc || n == 0)
		return rc;
	struct km m;
	rc = km_open(&m, st, metric, n, d, k, 0);
	if (rc)
		return rc;
	rc = wn_cuda_check(st, cudaMemcpyAsync(m.Cd, C, (size_t)(k * d) * 4, cudaMemcpyHostToDevice,
					       st->stream), "kmeans: upload centroids");
	if (!rc)
		rc = km_assign_all(&m, X, n, C, out_assign, out_dist, 0);
	km_free(&m);
	return rc;
}

/* After the means: FAISS's split of empty clusters, on the host. */
static int km_split_empty(struct km *m, int it, uint64_t seed, int32_t *hcnt, int64_t *hcnt64,
			  float *hC)
{
	struct wn_cuda *st = m->st;
	int rc = wn_cuda_check(st, cudaMemcpyAsync(hcnt, m->cnt_total, (size_t)m->k * 4,
						   cudaMemcpyDeviceToHost, st->stream),
			       "kmeans: download counts");
	if (!rc)
		rc = wn_cuda_check(st, cudaStreamSynchronize(st->stream), "kmeans: iteration");
	if (rc)
		return rc;
	int64_t empty = 0;
	for (int64_t j = 0; j < m->k; j++) {
		hcnt64[j] = hcnt[j];
		empty += hcnt[j] == 0;
	}
	if (!empty)
		return 0;
	size_t bytes = (size_t)(m->k * m->d) * 4;
	rc = wn_cuda_check(st, cudaMemcpyAsync(hC, m->Cd, bytes, cudaMemcpyDeviceToHost, st->stream),
			   "kmeans: download centroids");
	if (!rc)
		rc = wn_cuda_check(st, cudaStreamSynchronize(st->stream), "kmeans: iteration");
	if (rc)
		return rc;
	wn_kmeans_split_empty(m->d, m->k, hC, hcnt64, wn_kmeans_iter_seed(seed, (uint64_t)it));
	return wn_cuda_check(st, cudaMemcpyAsync(m->Cd, hC, bytes, cudaMemcpyHostToDevice, st->stream),
			     "kmeans: upload centroids");
}

/*
 * WINNOW_CUDA_KMEANS_PROFILE=1: wall time per phase of training on stderr
 * (each phase ends with a stream sync, so this run is a little slower).
 */
enum { PH_LOAD, PH_PREP, PH_SHORT, PH_CHECK, PH_UPDATE, PH_SPLIT, PH_FINAL, PH_N };
static const char *const ph_name[PH_N] = { "load+convert points", "centroids to fp16",
					   "shortlist (tensor cores)", "exact re-check",
					   "sums and counts", "means, split, inertia",
					   "final assignment (fit)" };
struct km_prof {
	int on;
	double t0, acc[PH_N];
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void prof_mark(struct km_prof *p, struct wn_cuda *st, int phase)
{
	if (!p->on)
		return;
	cudaStreamSynchronize(st->stream);
	double t = now_s();
	if (phase >= 0)
		p->acc[phase] += t - p->t0;
	p->t0 = t;
}

static void prof_report(const struct km_prof *p, const struct km *m, int64_t n, int niter)
{
	if (!p->on)
		return;
	double tot = 0;
	for (int i = 0; i < PH_N; i++)
		tot += p->acc[i];
	fprintf(stderr, "kmeans profile: n %lld d %lld k %lld iters %d path %s chunk rows %lld\n",
		(long long)n, (long long)m->d, (long long)m->k, niter,
		m->path == PATH_FUSED256    ? "fused-256x4"
		: m->path == PATH_FUSED128  ? "fused-128x4"
		: m->path == PATH_FUSED128S3 ? "fused-128x3"
					     : "cublas-tf32",
		(long long)m->R);
	for (int i = 0; i < PH_N; i++)
		fprintf(stderr, "  %-26s %8.4f s\n", ph_name[i], p->acc[i]);
	double fl = 2.0 * n * m->k * m->d * niter; /* the final assignment not counted */
	fprintf(stderr, "  shortlist rate: %.1f TFLOP/s (2 n k d per iteration); phases total %.4f s\n",
		p->acc[PH_SHORT] > 0 ? fl / p->acc[PH_SHORT] / 1e12 : 0.0, tot);
}

/*
 * Lloyd training (kmeans_train); with `fit`, then the assignment of every
 * point to the trained centroids on the same working set (kmeans_fit): the
 * points uploaded once when they fit on the device.
 */
static int km_train(struct wn_cuda *st, int metric, const float *X, int64_t n, int64_t d,
		    int64_t k, int niter, uint64_t seed, float *C_out, double *inertia_per_iter,
		    int fit, int32_t *out_assign, float *out_dist)
{
	int rc = km_check_sizes(st, n, d, k);
	if (rc)
		return rc;
	if (k <= 0 || k > n)
		return wn_cuda_fail(st, WN_CORE_EINVAL, "kmeans_train: k = %lld with n = %lld",
				    (long long)k, (long long)n);
	int64_t *pick = (int64_t *)malloc((size_t)k * sizeof *pick);
	int64_t *hcnt64 = (int64_t *)malloc((size_t)k * sizeof *hcnt64);
	int32_t *hcnt = (int32_t *)malloc((size_t)k * sizeof *hcnt);
	double hparts[KM_PARTS];
	if (!pick || !hcnt64 || !hcnt) {
		free(pick);
		free(hcnt64);
		free(hcnt);
		return wn_cuda_fail(st, WN_CORE_ENOMEM, "kmeans_train: out of host memory");
	}
	/* the starting centroids: the same points the CPU path picks */
	if (wn_kmeans_init_pick(n, k, seed, pick) != 0)
		rc = wn_cuda_fail(st, WN_CORE_ENOMEM, "kmeans_train: out of host memory");
	for (int64_t j = 0; !rc && j < k; j++)
		memcpy(C_out + j * d, X + pick[j] * d, (size_t)d * sizeof *C_out);
	if (!rc && metric == WN_METRIC_IP)
		wn_kmeans_normalize_rows(C_out, k, d);

	struct km m;
	memset(&m, 0, sizeof m);
	if (!rc)
		rc = km_open(&m, st, metric, n, d, k, 1);
	if (!rc)
		rc = wn_cuda_check(st, cudaMemcpyAsync(m.Cd, C_out, (size_t)(k * d) * 4,
						       cudaMemcpyHostToDevice, st->stream),
				   "kmeans: upload centroids");
	if (!rc) /* the starting centroids are k data points: their mean is the data's, roughly */
		rc = km_set_offset(&m, C_out);
	const int resident = m.R >= n;
	struct km_prof prof;
	memset(&prof, 0, sizeof prof);
	prof.on = wn_cuda_env_ll("WINNOW_CUDA_KMEANS_PROFILE", 0) > 0;
	prof_mark(&prof, st, -1);
	if (!rc && resident)
		rc = km_load_points(&m, X, 0, n);
	prof_mark(&prof, st, PH_LOAD);
	for (int it = 0; !rc && it < niter; it++) {
		rc = km_prep_centroids(&m);
		prof_mark(&prof, st, PH_PREP);
		if (!rc)
			rc = wn_cuda_check(st, cudaMemsetAsync(m.sums, 0, (size_t)(k * d) * 8, st->stream),
					   "kmeans: memset");
		if (!rc)
			rc = wn_cuda_check(st, cudaMemsetAsync(m.cnt_total, 0, (size_t)k * 4, st->stream),
					   "kmeans: memset");
		if (!rc)
			rc = wn_cuda_check(st, cudaMemsetAsync(m.parts, 0, sizeof hparts, st->stream),
					   "kmeans: memset");
		for (int64_t r0 = 0; !rc && r0 < n; r0 += m.R) {
			int64_t rows = n - r0 < m.R ? n - r0 : m.R;
			if (!resident) {
				rc = km_load_points(&m, X, r0, rows);
				prof_mark(&prof, st, PH_LOAD);
			}
			if (!rc)
				rc = km_shortlist(&m, rows);
			prof_mark(&prof, st, PH_SHORT);
			if (!rc)
				rc = km_recheck(&m, rows);
			prof_mark(&prof, st, PH_CHECK);
			if (!rc)
				rc = km_accumulate(&m, rows);
			prof_mark(&prof, st, PH_UPDATE);
		}
		if (rc)
			break;
		k_finalize<<<wn_cuda_blocks((size_t)(k * d), 256), 256, 0, st->stream>>>(
			m.sums, m.cnt_total, k, d, m.Cd);
		rc = wn_cuda_check_launch(st, "kmeans: means");
		if (!rc)
			rc = km_split_empty(&m, it, seed, hcnt, hcnt64, C_out);
		if (!rc && metric == WN_METRIC_IP) {
			k_normalize_rows<<<warp_blocks(k), 256, 0, st->stream>>>(m.Cd, k, d);
			rc = wn_cuda_check_launch(st, "kmeans: normalize");
		}
		if (!rc && inertia_per_iter) {
			rc = wn_cuda_check(st, cudaMemcpyAsync(hparts, m.parts, sizeof hparts,
							       cudaMemcpyDeviceToHost, st->stream),
					   "kmeans: download inertia");
			if (!rc)
				rc = wn_cuda_check(st, cudaStreamSynchronize(st->stream), "kmeans");
			double s = 0.0;
			for (int b = 0; b < KM_PARTS; b++)
				s += hparts[b];
			inertia_per_iter[it] = s;
		}
		prof_mark(&prof, st, PH_SPLIT);
	}
	if (!rc)
		rc = wn_cuda_check(st, cudaMemcpyAsync(C_out, m.Cd, (size_t)(k * d) * 4,
						       cudaMemcpyDeviceToHost, st->stream),
				   "kmeans: download centroids");
	if (!rc)
		rc = wn_cuda_check(st, cudaStreamSynchronize(st->stream), "kmeans_train");
	if (!rc && fit)
		rc = km_assign_all(&m, X, n, C_out, out_assign, out_dist, resident);
	prof_mark(&prof, st, PH_FINAL);
	if (!rc)
		prof_report(&prof, &m, n, niter);
	km_free(&m);
	free(pick);
	free(hcnt64);
	free(hcnt);
	return rc;
}

int wn_cuda_kmeans_train(void *state, int metric, const float *X, int64_t n, int64_t d,
			 int64_t k, int niter, uint64_t seed, float *C_out,
			 double *inertia_per_iter)
{
	return km_train((struct wn_cuda *)state, metric, X, n, d, k, niter, seed, C_out,
			inertia_per_iter, 0, NULL, NULL);
}

int wn_cuda_kmeans_fit(void *state, int metric, const float *X, int64_t n, int64_t d, int64_t k,
		       int niter, uint64_t seed, float *C_out, double *inertia_per_iter,
		       int32_t *out_assign, float *out_dist)
{
	return km_train((struct wn_cuda *)state, metric, X, n, d, k, niter, seed, C_out,
			inertia_per_iter, 1, out_assign, out_dist);
}
