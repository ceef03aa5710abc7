/*
 * core/cuda_kernels.cu — the row and elementwise ops of the CUDA backend.
 *
 * Owns: row norms and normalisation, row scaling (the weighted rows of the
 * dense solve's Gram matrix; twin: wn_cpu_scale_rows), bias add, add, GELU (erf and tanh),
 * ReLU, LayerNorm, masked softmax, masked mean pooling and row gathers on
 * device buffers, each one kernel on the backend's stream.
 * Borrows: the backend state (core/cuda_internal.h).
 * Why: an encoder's forward pass is cuBLAS GEMMs glued by these; each
 * mirrors its CPU twin in core/cpu_nn.c (same formulas, same handling of
 * masked-out rows) so tests/unit/test_cuda_twins.c can hold them together.
 * A row op gives each row to one warp and reduces in a fixed shuffle order,
 * so results never depend on scheduling.
 */
#include <math.h>

#include "core/cuda_internal.h"

#define ROWS_PER_BLOCK 8 /* warps per block for the row kernels */

static unsigned row_blocks(int64_t n)
{
	int64_t b = (n + ROWS_PER_BLOCK - 1) / ROWS_PER_BLOCK;
	if (b > 65535 * 16)
		b = 65535 * 16;
	return b ? (unsigned)b : 1u;
}

#define FOR_ROWS(i, n)                                                           \
	for (int64_t i = (int64_t)blockIdx.x * ROWS_PER_BLOCK + threadIdx.x / 32; \
	     i < (n); i += (int64_t)gridDim.x * ROWS_PER_BLOCK)

__global__ void k_row_sqnorms(const float *X, int64_t n, int64_t d, float *out)
{
	int lane = threadIdx.x & 31;
	FOR_ROWS(i, n) {
		const float *x = X + i * d;
		float s = 0;
		for (int64_t j = lane; j < d; j += 32)
			s = fmaf(x[j], x[j], s);
		s = warp_sum(s);
		if (lane == 0)
			out[i] = s;
	}
}

__global__ void k_row_normalize(float *X, int64_t n, int64_t d)
{
	int lane = threadIdx.x & 31;
	FOR_ROWS(i, n) {
		float *x = X + i * d;
		float s = 0;
		for (int64_t j = lane; j < d; j += 32)
			s = fmaf(x[j], x[j], s);
		s = warp_sum(s);
		if (s > 0) {
			float inv = 1.0f / sqrtf(s);
			for (int64_t j = lane; j < d; j += 32)
				x[j] *= inv;
		}
	}
}

/* out = (float)(s_i * (double)x_ij): one rounding, as the CPU twin. */
__global__ void k_scale_rows(const float *X, const double *s, int64_t n, int64_t d, float *out)
{
	size_t total = (size_t)n * (size_t)d;
	for (size_t t = (size_t)blockIdx.x * blockDim.x + threadIdx.x; t < total;
	     t += (size_t)gridDim.x * blockDim.x)
		out[t] = (float)(s[t / (size_t)d] * (double)X[t]);
}

__global__ void k_layernorm(const float *X, const float *gamma, const float *beta, float *Y,
			    int64_t n, int64_t d, float eps)
{
	int lane = threadIdx.x & 31;
	FOR_ROWS(i, n) {
		const float *x = X + i * d;
		float *y = Y + i * d;
		float s = 0;
		for (int64_t j = lane; j < d; j += 32)
			s += x[j];
		float mean = warp_sum(s) / (float)d;
		float v = 0;
		for (int64_t j = lane; j < d; j += 32) {
			float t = x[j] - mean;
			v = fmaf(t, t, v);
		}
		float inv = 1.0f / sqrtf(warp_sum(v) / (float)d + eps);
		for (int64_t j = lane; j < d; j += 32) {
			float g = gamma ? gamma[j] : 1.0f, b = beta ? beta[j] : 0.0f;
			y[j] = (x[j] - mean) * inv * g + b;
		}
	}
}

__global__ void k_softmax_masked(float *S, int64_t rows, int64_t cols, float scale,
				 const float *mask, int64_t rows_per_mask)
{
	int lane = threadIdx.x & 31;
	FOR_ROWS(r, rows) {
		float *s = S + r * cols;
		const float *m = mask ? mask + (r / rows_per_mask) * cols : NULL;
		float mx = -INFINITY;
		for (int64_t j = lane; j < cols; j += 32)
			if (!m || m[j] != 0.0f)
				mx = fmaxf(mx, scale * s[j]);
		mx = warp_max(mx);
		if (mx == -INFINITY) { /* every entry masked: no mass anywhere */
			for (int64_t j = lane; j < cols; j += 32)
				s[j] = 0.0f;
			continue;
		}
		float sum = 0;
		for (int64_t j = lane; j < cols; j += 32) {
			float e = (m && m[j] == 0.0f) ? 0.0f : expf(scale * s[j] - mx);
			s[j] = e;
			sum += e;
		}
		float inv = 1.0f / warp_sum(sum);
		for (int64_t j = lane; j < cols; j += 32)
			s[j] *= inv;
	}
}

__global__ void k_add_bias(float *X, const float *bias, int64_t n, int64_t d)
{
	size_t total = (size_t)n * (size_t)d;
	for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < total;
	     i += (size_t)gridDim.x * blockDim.x)
		X[i] += bias[i % (size_t)d];
}

__global__ void k_add(float *X, const float *Y, size_t count)
{
	for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < count;
	     i += (size_t)gridDim.x * blockDim.x)
		X[i] += Y[i];
}

__global__ void k_gelu(float *X, size_t count, int tanh_approx)
{
	const float c = 0.7978845608028654f; /* sqrt(2 / pi) */
	for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < count;
	     i += (size_t)gridDim.x * blockDim.x) {
		float x = X[i];
		X[i] = tanh_approx ? 0.5f * x * (1.0f + tanhf(c * (x + 0.044715f * x * x * x)))
				   : 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
	}
}

/* add_bias then gelu in one pass: the same float operations in the same order */
__global__ void k_bias_gelu(float *X, const float *bias, int64_t n, int64_t d, int tanh_approx)
{
	const float c = 0.7978845608028654f; /* sqrt(2 / pi) */
	size_t total = (size_t)n * (size_t)d;
	for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < total;
	     i += (size_t)gridDim.x * blockDim.x) {
		float x = X[i] + bias[i % (size_t)d];
		X[i] = tanh_approx ? 0.5f * x * (1.0f + tanhf(c * (x + 0.044715f * x * x * x)))
				   : 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
	}
}

/* add_bias then add: (x + b) + y, rounded after each add as the two passes do */
__global__ void k_bias_add(float *X, const float *bias, const float *Y, int64_t n, int64_t d)
{
	size_t total = (size_t)n * (size_t)d;
	for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < total;
	     i += (size_t)gridDim.x * blockDim.x) {
		float x = __fadd_rn(X[i], bias[i % (size_t)d]);
		X[i] = __fadd_rn(x, Y[i]);
	}
}

__global__ void k_relu(float *X, size_t count)
{
	for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < count;
	     i += (size_t)gridDim.x * blockDim.x)
		X[i] = X[i] > 0.0f ? X[i] : 0.0f;
}

/* One thread per output (b, j); the mask weights are re-summed per thread. */
__global__ void k_masked_mean(const float *X, const float *mask, int64_t batch, int64_t len,
			      int64_t d, float *out)
{
	size_t total = (size_t)batch * (size_t)d;
	for (size_t t = (size_t)blockIdx.x * blockDim.x + threadIdx.x; t < total;
	     t += (size_t)gridDim.x * blockDim.x) {
		int64_t b = (int64_t)(t / (size_t)d), j = (int64_t)(t % (size_t)d);
		const float *m = mask + b * len;
		float w = 0, o = 0;
		for (int64_t i = 0; i < len; i++) {
			if (m[i] == 0.0f)
				continue;
			w += m[i];
			o += m[i] * X[(b * len + i) * d + j];
		}
		out[t] = (w != 0.0f) ? o * (1.0f / w) : 0.0f;
	}
}

/* A negative id reads nothing: its row is zeroed and the first such row
 * (atomicMin into *bad, n when none) is reported, so the call fails as the
 * CPU twin does. */
__global__ void k_gather_rows(const float *table, const int32_t *ids, int64_t n, int64_t d,
			      float *out, unsigned long long *bad)
{
	size_t total = (size_t)n * (size_t)d;
	for (size_t t = (size_t)blockIdx.x * blockDim.x + threadIdx.x; t < total;
	     t += (size_t)gridDim.x * blockDim.x) {
		int64_t r = (int64_t)(t / (size_t)d), j = (int64_t)(t % (size_t)d);
		int32_t id = ids[r];
		out[t] = id >= 0 ? table[(int64_t)id * d + j] : 0.0f;
		if (id < 0 && j == 0)
			atomicMin(bad, (unsigned long long)r);
	}
}

/* ---- launchers ---------------------------------------------------------- */

#define ST(state) ((struct wn_cuda *)(state))
#define LAUNCH_ROWS(kernel, n, ...)                                               \
	(kernel<<<row_blocks(n), ROWS_PER_BLOCK * 32, 0, ST(state)->stream>>>(__VA_ARGS__), \
	 wn_cuda_check_launch(ST(state), #kernel))
#define LAUNCH_FLAT(kernel, count, ...)                                           \
	(kernel<<<wn_cuda_blocks(count, 256), 256, 0, ST(state)->stream>>>(__VA_ARGS__), \
	 wn_cuda_check_launch(ST(state), #kernel))

int wn_cuda_row_sqnorms(void *state, const float *X, int64_t n, int64_t d, float *out)
{
	if (n <= 0)
		return n < 0 ? wn_cuda_fail(ST(state), WN_CORE_EINVAL, "row_sqnorms: n < 0") : 0;
	return LAUNCH_ROWS(k_row_sqnorms, n, X, n, d, out);
}

int wn_cuda_row_normalize(void *state, float *X, int64_t n, int64_t d)
{
	if (n <= 0 || d <= 0)
		return 0;
	return LAUNCH_ROWS(k_row_normalize, n, X, n, d);
}

int wn_cuda_scale_rows(void *state, const float *X, const double *s, int64_t n, int64_t d,
		       float *out)
{
	if (n < 0 || d < 0)
		return wn_cuda_fail(ST(state), WN_CORE_EINVAL, "scale_rows: negative size");
	if (!n || !d)
		return 0;
	return LAUNCH_FLAT(k_scale_rows, (size_t)n * (size_t)d, X, s, n, d, out);
}

int wn_cuda_add_bias(void *state, float *X, const float *bias, int64_t n, int64_t d)
{
	if (n <= 0 || d <= 0)
		return 0;
	return LAUNCH_FLAT(k_add_bias, (size_t)n * (size_t)d, X, bias, n, d);
}

int wn_cuda_add(void *state, float *X, const float *Y, size_t count)
{
	if (!count)
		return 0;
	return LAUNCH_FLAT(k_add, count, X, Y, count);
}

int wn_cuda_gelu(void *state, float *X, size_t count, int tanh_approx)
{
	if (!count)
		return 0;
	return LAUNCH_FLAT(k_gelu, count, X, count, tanh_approx);
}

int wn_cuda_bias_gelu(void *state, float *X, const float *bias, int64_t n, int64_t d,
		      int tanh_approx)
{
	if (n <= 0 || d <= 0)
		return 0;
	return LAUNCH_FLAT(k_bias_gelu, (size_t)n * (size_t)d, X, bias, n, d, tanh_approx);
}

int wn_cuda_bias_add(void *state, float *X, const float *bias, const float *Y, int64_t n,
		     int64_t d)
{
	if (n <= 0 || d <= 0)
		return 0;
	return LAUNCH_FLAT(k_bias_add, (size_t)n * (size_t)d, X, bias, Y, n, d);
}

int wn_cuda_relu(void *state, float *X, size_t count)
{
	if (!count)
		return 0;
	return LAUNCH_FLAT(k_relu, count, X, count);
}

int wn_cuda_layernorm(void *state, const float *X, const float *gamma, const float *beta,
		      float *Y, int64_t n, int64_t d, float eps)
{
	if (n <= 0 || d <= 0)
		return 0;
	return LAUNCH_ROWS(k_layernorm, n, X, gamma, beta, Y, n, d, eps);
}

int wn_cuda_softmax_masked(void *state, float *S, int64_t rows, int64_t cols, float scale,
			   const float *mask, int64_t rows_per_mask)
{
	if (mask && rows_per_mask <= 0)
		return wn_cuda_fail(ST(state), WN_CORE_EINVAL, "softmax_masked: rows_per_mask %lld",
				    (long long)rows_per_mask);
	if (rows <= 0 || cols <= 0)
		return 0;
	return LAUNCH_ROWS(k_softmax_masked, rows, S, rows, cols, scale, mask, rows_per_mask);
}

int wn_cuda_masked_mean(void *state, const float *X, const float *mask, int64_t batch,
			int64_t len, int64_t d, float *out)
{
	if (batch < 0 || len < 0 || d < 0)
		return wn_cuda_fail(ST(state), WN_CORE_EINVAL, "masked_mean: negative size");
	if (!batch || !d)
		return 0;
	return LAUNCH_FLAT(k_masked_mean, (size_t)batch * (size_t)d, X, mask, batch, len, d, out);
}

int wn_cuda_gather_rows(void *state, const float *table, const int32_t *ids, int64_t n,
			int64_t d, float *out)
{
	if (n < 0 || d < 0)
		return wn_cuda_fail(ST(state), WN_CORE_EINVAL, "gather_rows: negative size");
	if (!n || !d)
		return 0;
	struct wn_cuda *st = ST(state);
	int rc = 0;
	unsigned long long *bad = (unsigned long long *)wn_cuda_scratch(st, sizeof *bad, "gather_rows", &rc);
	unsigned long long first = (unsigned long long)n;
	if (!rc)
		rc = wn_cuda_check(st, cudaMemcpyAsync(bad, &first, sizeof first, cudaMemcpyHostToDevice, st->stream),
				   "gather_rows: flag");
	if (!rc)
		rc = LAUNCH_FLAT(k_gather_rows, (size_t)n * (size_t)d, table, ids, n, d, out, bad);
	if (!rc)
		rc = wn_cuda_check(st, cudaMemcpyAsync(&first, bad, sizeof first, cudaMemcpyDeviceToHost, st->stream),
				   "gather_rows: flag");
	if (!rc)
		rc = wn_cuda_check(st, cudaStreamSynchronize(st->stream), "gather_rows");
	wn_cuda_scratch_free(bad);
	if (!rc && first < (unsigned long long)n) {
		int32_t id = 0;
		cudaMemcpy(&id, ids + first, sizeof id, cudaMemcpyDeviceToHost);
		rc = wn_cuda_fail(st, WN_CORE_EINVAL, "gather_rows: negative id %d at row %lld", (int)id,
				  (long long)first);
	}
	return rc;
}
