/*
 * core/core.c — the context and the dispatch of every public wn_core_* op.
 *
 * Owns: opening a device (CPU, CUDA through dlopen, or auto), the error
 * line of a context, `winnow device`'s description, and the routing of each
 * op to the active backend's table. Ops a backend leaves NULL run on the CPU
 * reference through host copies, so the CUDA backend can grow op by op.
 * k-means update is host-side for both backends; the Lloyd loop is here
 * too, driving whichever backend's assign step is active.
 * Borrows: the backend table (core/backend.h), the CPU backend
 * (core/internal.h), the init-point draw (core/kmeans_split.h).
 * Why: one binary must run with or without a GPU, and callers must never
 * care which backend they got.
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <omp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "core/internal.h"
#include "core/kmeans_split.h"

#define WN_CORE_ERRLEN 512

struct wn_core {
	int device;          /* WN_DEVICE_CPU or WN_DEVICE_CUDA */
	int threads;
	wn_backend be;       /* the active backend */
	wn_backend cpu;      /* always open: fallbacks and host-side steps */
	int have_cuda;       /* be is the CUDA table (then be != cpu) */
	char cuda_why[WN_CORE_ERRLEN]; /* why CUDA is not in use (auto/cpu) */
	char err[WN_CORE_ERRLEN];
};

/* ---- errors -------------------------------------------------------- */

static int set_err(wn_core *c, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int set_err(wn_core *c, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->err, sizeof c->err, fmt, ap);
	va_end(ap);
	return code;
}

/* After a backend op: copy its error line into the context. */
static int took(wn_core *c, const wn_backend *be, int rc)
{
	if (rc == 0) {
		c->err[0] = 0;
		return 0;
	}
	const char *msg = be->error ? be->error(be->state) : NULL;
	snprintf(c->err, sizeof c->err, "%s: %s", be->name,
		 msg && *msg ? msg : "operation failed");
	return rc < 0 ? rc : WN_CORE_EDEVICE;
}

const char *wn_core_error(const wn_core *c)
{
	return c ? c->err : "no context";
}

int wn_core_parse_device(const char *name)
{
	if (!name)
		return -1;
	if (!strcmp(name, "cpu"))
		return WN_DEVICE_CPU;
	if (!strcmp(name, "cuda"))
		return WN_DEVICE_CUDA;
	if (!strcmp(name, "auto"))
		return WN_DEVICE_AUTO;
	return -1;
}

/* ---- finding and opening the CUDA backend -------------------------- */

/* Directory of the running executable, or "" when /proc is unreadable. */
static void exe_dir(char *out, size_t len)
{
	char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
	out[0] = 0;
	if (n <= 0)
		return;
	path[n] = 0;
	char *slash = strrchr(path, '/');
	if (!slash)
		return;
	*slash = 0;
	snprintf(out, len, "%s", path);
}

/*
 * dlopen the first libwinnow_cuda.so of the search order. A file that exists
 * but fails to load (a missing libcudart, say) stops the search: that
 * dlerror is the reason the user needs, not "not found".
 */
static void *open_cuda_lib(char *why, size_t wlen)
{
	const int flags = RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE;
	const char *env = getenv("WINNOW_CUDA_LIB");
	if (env && *env) {
		void *h = dlopen(env, flags);
		if (!h)
			snprintf(why, wlen, "cannot load WINNOW_CUDA_LIB=%.200s: %.250s", env, dlerror());
		return h;
	}
	char dir[PATH_MAX], path[PATH_MAX + 64];
	exe_dir(dir, sizeof dir);
	static const char *const rel[] = {
		"/libwinnow_cuda.so", "/build/libwinnow_cuda.so", "/../libwinnow_cuda.so",
		"/../lib/winnow/libwinnow_cuda.so",
	};
	for (size_t i = 0; dir[0] && i < sizeof rel / sizeof rel[0]; i++) {
		snprintf(path, sizeof path, "%s%s", dir, rel[i]);
		if (access(path, F_OK) != 0)
			continue;
		void *h = dlopen(path, flags);
		if (!h)
			snprintf(why, wlen, "cannot load %.200s: %.250s", path, dlerror());
		return h;
	}
	void *h = dlopen("libwinnow_cuda.so", flags);
	if (!h)
		snprintf(why, wlen, "libwinnow_cuda.so not found (it is built only where nvcc is present)");
	return h;
}

/* Open the CUDA table into *be; on failure a one-line reason in why. */
static int open_cuda(int threads, wn_backend *be, char *why, size_t wlen)
{
	void *h = open_cuda_lib(why, wlen);
	if (!h)
		return WN_CORE_EUNAVAIL;
	/* With RTLD_NODELETE the library stays mapped after dlclose: a CUDA
	 * runtime unloaded before its exit handlers run crashes at exit. */
	wn_backend_entry_fn entry;
	*(void **)&entry = dlsym(h, WN_CUDA_ENTRY_SYMBOL);
	if (!entry) {
		snprintf(why, wlen, "libwinnow_cuda.so lacks %s", WN_CUDA_ENTRY_SYMBOL);
		dlclose(h);
		return WN_CORE_EUNAVAIL;
	}
	memset(be, 0, sizeof *be);
	char msg[WN_CORE_ERRLEN] = "";
	int rc = entry(WN_BACKEND_ABI, threads, be, msg, sizeof msg);
	if (rc == 0 && be->abi != WN_BACKEND_ABI) {
		if (be->close)
			be->close(be->state);
		snprintf(msg, sizeof msg, "backend ABI %d, winnow expects %d", be->abi,
			 WN_BACKEND_ABI);
		rc = WN_CORE_EUNAVAIL;
	}
	if (rc != 0) {
		snprintf(why, wlen, "%s", msg[0] ? msg : "the CUDA backend refused to start");
		dlclose(h);
		return WN_CORE_EUNAVAIL;
	}
	dlclose(h);
	return 0;
}

const char *wn_core_cuda_unavailable_reason(void)
{
	/* per thread, so no state is shared; refilled on every call */
	static _Thread_local char why[WN_CORE_ERRLEN];
	wn_backend be;
	why[0] = 0;
	if (open_cuda(1, &be, why, sizeof why) == 0 && be.close)
		be.close(be.state);
	return why;
}

/* ---- open / close / describe ---------------------------------------- */

wn_core *wn_core_open(int device, int threads, char *errbuf, size_t errlen)
{
	char why[WN_CORE_ERRLEN] = "";
	if (device != WN_DEVICE_CPU && device != WN_DEVICE_CUDA && device != WN_DEVICE_AUTO) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "unknown device %d", device);
		return NULL;
	}
	if (threads <= 0)
		threads = omp_get_max_threads();
	if (threads < 1)
		threads = 1;
	wn_core *c = calloc(1, sizeof *c);
	if (!c) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "out of memory");
		return NULL;
	}
	c->threads = threads;
	if (wn_cpu_backend_open(threads, &c->cpu, why, sizeof why) != 0) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "CPU backend: %s", why);
		free(c);
		return NULL;
	}
	c->be = c->cpu;
	c->device = WN_DEVICE_CPU;
	if (device == WN_DEVICE_CPU)
		return c;
	if (open_cuda(threads, &c->be, why, sizeof why) == 0) {
		c->device = WN_DEVICE_CUDA;
		c->have_cuda = 1;
		return c;
	}
	c->be = c->cpu;
	if (device == WN_DEVICE_AUTO) {
		snprintf(c->cuda_why, sizeof c->cuda_why, "%s", why);
		return c;
	}
	if (errbuf && errlen)
		snprintf(errbuf, errlen, "CUDA unavailable: %s", why);
	c->cpu.close(c->cpu.state);
	free(c);
	return NULL;
}

wn_core *wn_core_open_named(const char *dev, int threads, char *errbuf, size_t errlen)
{
	if (!dev || !*dev)
		dev = getenv("WINNOW_DEVICE");
	if (!dev || !*dev)
		dev = "auto";
	int kind = wn_core_parse_device(dev);
	if (kind < 0) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "unknown device '%s' (expected cpu, cuda or auto)", dev);
		return NULL;
	}
	wn_core *c = wn_core_open(kind, threads, errbuf, errlen);
	if (!c && errbuf && errlen && !errbuf[0])
		snprintf(errbuf, errlen, "cannot open the compute core");
	return c;
}

wn_core *wn_core_open_table(const wn_backend *be, int threads)
{
	char why[WN_CORE_ERRLEN];
	wn_core *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->threads = threads < 1 ? 1 : threads;
	if (wn_cpu_backend_open(c->threads, &c->cpu, why, sizeof why) != 0) {
		free(c);
		return NULL;
	}
	c->be = *be;
	c->device = WN_DEVICE_CUDA;
	c->have_cuda = 1;
	return c;
}

void wn_core_close(wn_core *c)
{
	if (!c)
		return;
	if (c->have_cuda && c->be.close)
		c->be.close(c->be.state);
	c->cpu.close(c->cpu.state);
	free(c);
}

int wn_core_device(const wn_core *c)
{
	return c->device;
}

int wn_core_threads(const wn_core *c)
{
	return c->threads;
}

void wn_core_describe(wn_core *c, char *buf, size_t len)
{
	if (!buf || !len)
		return;
	size_t used = (size_t)snprintf(buf, len, "backend: %s\nthreads: %d\n", c->be.name,
				       c->threads);
	if (used >= len)
		return;
	/* the CPU table writes the BLAS line; the CUDA one its GPU facts */
	c->cpu.describe(c->cpu.state, buf + used, len - used);
	used = strlen(buf);
	if (c->have_cuda && c->be.describe && used < len) {
		c->be.describe(c->be.state, buf + used, len - used);
		return;
	}
	const char *why = c->cuda_why[0] ? c->cuda_why : wn_core_cuda_unavailable_reason();
	if (used < len)
		snprintf(buf + used, len - used, "cuda: %s\n",
			 why[0] ? why : "available (not selected)");
}

/* ---- memory ---------------------------------------------------------- */

void *wn_core_alloc_bytes(wn_core *c, size_t bytes)
{
	void *p = c->be.alloc(c->be.state, bytes ? bytes : 1);
	if (!p)
		set_err(c, WN_CORE_ENOMEM, "%s: cannot allocate %zu bytes", c->be.name, bytes);
	return p;
}

float *wn_core_alloc(wn_core *c, size_t count)
{
	if (count > SIZE_MAX / sizeof(float)) {
		set_err(c, WN_CORE_ENOMEM, "allocation of %zu floats overflows", count);
		return NULL;
	}
	return wn_core_alloc_bytes(c, count * sizeof(float));
}

void wn_core_free(wn_core *c, void *dev)
{
	if (dev)
		c->be.free(c->be.state, dev);
}

int wn_core_upload(wn_core *c, void *dst, const void *src, size_t bytes)
{
	return bytes ? took(c, &c->be, c->be.upload(c->be.state, dst, src, bytes)) : 0;
}

int wn_core_download(wn_core *c, void *dst, const void *src, size_t bytes)
{
	return bytes ? took(c, &c->be, c->be.download(c->be.state, dst, src, bytes)) : 0;
}

int wn_core_copy(wn_core *c, void *dst, const void *src, size_t bytes)
{
	return bytes ? took(c, &c->be, c->be.copy(c->be.state, dst, src, bytes)) : 0;
}

int wn_core_zero(wn_core *c, void *dev, size_t bytes)
{
	return bytes ? took(c, &c->be, c->be.zero(c->be.state, dev, bytes)) : 0;
}

int wn_core_sync(wn_core *c)
{
	return c->be.sync ? took(c, &c->be, c->be.sync(c->be.state)) : 0;
}

/* ---- host-copy fallback for device-buffer ops ----------------------- */

/*
 * A device buffer staged on the host while the CPU reference runs on it.
 * Used only when the active backend is not the CPU one and leaves an op NULL.
 */
struct staged {
	void *host;
	void *dev;
	size_t bytes;
};

static int stage_in(wn_core *c, struct staged *s, const void *dev, size_t bytes, int copy)
{
	s->dev = (void *)dev;
	s->bytes = bytes;
	s->host = malloc(bytes ? bytes : 1);
	if (!s->host)
		return set_err(c, WN_CORE_ENOMEM, "host copy of %zu bytes", bytes);
	if (copy && bytes)
		return took(c, &c->be, c->be.download(c->be.state, s->host, dev, bytes));
	return 0;
}

static int stage_out(wn_core *c, struct staged *s)
{
	if (!s->bytes)
		return 0;
	return took(c, &c->be, c->be.upload(c->be.state, s->dev, s->host, s->bytes));
}

static void stage_free(struct staged *s, int n)
{
	for (int i = 0; i < n; i++)
		free(s[i].host);
}

/* Floats spanned by `rows` rows of `cols` at stride ld. */
static size_t span(int64_t rows, int64_t cols, int64_t ld)
{
	return rows <= 0 || cols <= 0 ? 0 : (size_t)((rows - 1) * ld + cols);
}

/* ... repeated `batch` times at stride `stride` */
static size_t span_b(int64_t rows, int64_t cols, int64_t ld, int64_t stride, int64_t batch)
{
	size_t one = span(rows, cols, ld);
	return batch <= 0 || !one ? 0 : (size_t)((batch - 1) * stride) + one;
}

#define CPU (c->cpu.state)
#define FB(op) (c->have_cuda && !c->be.op) /* does `op` need the fallback? */

/* ---- dense linear algebra -------------------------------------------- */

/* The fallback of a backend without the op: host copies, the CPU twin. */
static int gemm_on_host(wn_core *c, int prec, int ta, int tb, int64_t m, int64_t n, int64_t k,
			float alpha, const float *A, int64_t lda, int64_t strideA,
			const float *B, int64_t ldb, int64_t strideB, float beta, float *C,
			int64_t ldc, int64_t strideC, int64_t batch)
{
	struct staged s[3] = {0};
	size_t fa = span_b(ta ? k : m, ta ? m : k, lda, strideA, batch);
	size_t fb = span_b(tb ? n : k, tb ? k : n, ldb, strideB, batch);
	size_t fc = span_b(m, n, ldc, strideC, batch);
	int rc = stage_in(c, &s[0], A, fa * 4, 1);
	if (!rc)
		rc = stage_in(c, &s[1], B, fb * 4, 1);
	if (!rc)
		rc = stage_in(c, &s[2], C, fc * 4, 1); /* also when beta is 0: row padding
							 * and batch gaps go back up as they were */
	if (!rc)
		rc = took(c, &c->cpu, wn_cpu_gemm_batched_prec(CPU, prec, ta, tb, m, n, k, alpha,
							       s[0].host, lda, strideA, s[1].host,
							       ldb, strideB, beta, s[2].host, ldc,
							       strideC, batch));
	if (!rc)
		rc = stage_out(c, &s[2]);
	stage_free(s, 3);
	return rc;
}

int wn_core_gemm_batched_prec(wn_core *c, int prec, int ta, int tb, int64_t m, int64_t n,
			      int64_t k, float alpha, const float *A, int64_t lda, int64_t strideA,
			      const float *B, int64_t ldb, int64_t strideB, float beta, float *C,
			      int64_t ldc, int64_t strideC, int64_t batch)
{
	if (prec < WN_PREC_FP32 || prec > WN_PREC_FP16)
		return set_err(c, WN_CORE_EINVAL, "gemm: unknown precision %d", prec);
	if (m < 0 || n < 0 || k < 0 || batch < 0)
		return set_err(c, WN_CORE_EINVAL, "gemm: negative size");
	/* every backend's rule (cuBLAS would read past the matrices otherwise) */
	if (!wn_gemm_ld_ok(ta, tb, m, n, k, lda, ldb, ldc))
		return set_err(c, WN_CORE_EINVAL,
			       "gemm: leading dimension too small (lda %lld, ldb %lld, ldc %lld)",
			       (long long)lda, (long long)ldb, (long long)ldc);
	if (prec == WN_PREC_FP32 && !FB(gemm_batched))
		return took(c, &c->be, c->be.gemm_batched(c->be.state, ta, tb, m, n, k, alpha, A,
							  lda, strideA, B, ldb, strideB, beta,
							  C, ldc, strideC, batch));
	if (prec != WN_PREC_FP32 && !FB(gemm_batched_prec))
		return took(c, &c->be, c->be.gemm_batched_prec(c->be.state, prec, ta, tb, m, n, k,
							       alpha, A, lda, strideA, B, ldb,
							       strideB, beta, C, ldc, strideC,
							       batch));
	return gemm_on_host(c, prec, ta, tb, m, n, k, alpha, A, lda, strideA, B, ldb, strideB,
			    beta, C, ldc, strideC, batch);
}

int wn_core_gemm_batched(wn_core *c, int ta, int tb, int64_t m, int64_t n, int64_t k,
			 float alpha, const float *A, int64_t lda, int64_t strideA,
			 const float *B, int64_t ldb, int64_t strideB,
			 float beta, float *C, int64_t ldc, int64_t strideC, int64_t batch)
{
	return wn_core_gemm_batched_prec(c, WN_PREC_FP32, ta, tb, m, n, k, alpha, A, lda, strideA,
					 B, ldb, strideB, beta, C, ldc, strideC, batch);
}

int wn_core_gemm_prec(wn_core *c, int prec, int ta, int tb, int64_t m, int64_t n, int64_t k,
		      float alpha, const float *A, int64_t lda, const float *B, int64_t ldb,
		      float beta, float *C, int64_t ldc)
{
	return wn_core_gemm_batched_prec(c, prec, ta, tb, m, n, k, alpha, A, lda, 0, B, ldb, 0,
					 beta, C, ldc, 0, 1);
}

int wn_core_gemm(wn_core *c, int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha,
		 const float *A, int64_t lda, const float *B, int64_t ldb, float beta, float *C,
		 int64_t ldc)
{
	return wn_core_gemm_batched(c, ta, tb, m, n, k, alpha, A, lda, 0, B, ldb, 0, beta, C,
				    ldc, 0, 1);
}

int wn_core_row_sqnorms(wn_core *c, const float *X, int64_t n, int64_t d, float *out)
{
	if (n < 0 || d < 0)
		return set_err(c, WN_CORE_EINVAL, "row_sqnorms: negative size");
	if (!FB(row_sqnorms))
		return took(c, &c->be, c->be.row_sqnorms(c->be.state, X, n, d, out));
	struct staged s[2] = {0};
	int rc = stage_in(c, &s[0], X, (size_t)(n * d) * 4, 1);
	if (!rc)
		rc = stage_in(c, &s[1], out, (size_t)n * 4, 0);
	if (!rc)
		rc = took(c, &c->cpu, wn_cpu_row_sqnorms(CPU, s[0].host, n, d, s[1].host));
	if (!rc)
		rc = stage_out(c, &s[1]);
	stage_free(s, 2);
	return rc;
}

int wn_core_scale_rows(wn_core *c, const float *X, const double *sc, int64_t n, int64_t d,
		       float *out)
{
	if (n < 0 || d < 0)
		return set_err(c, WN_CORE_EINVAL, "scale_rows: negative size");
	if (!FB(scale_rows))
		return took(c, &c->be, c->be.scale_rows(c->be.state, X, sc, n, d, out));
	struct staged s[3] = {0};
	int rc = stage_in(c, &s[0], X, (size_t)(n * d) * 4, 1);
	if (!rc)
		rc = stage_in(c, &s[1], sc, (size_t)n * 8, 1);
	if (!rc)
		rc = stage_in(c, &s[2], out, (size_t)(n * d) * 4, 0);
	if (!rc)
		rc = took(c, &c->cpu, wn_cpu_scale_rows(CPU, s[0].host, s[1].host, n, d, s[2].host));
	if (!rc)
		rc = stage_out(c, &s[2]);
	stage_free(s, 3);
	return rc;
}

int wn_core_mem_info(wn_core *c, size_t *free_bytes, size_t *total_bytes)
{
	if (!c->have_cuda || !c->be.mem_info)
		return set_err(c, WN_CORE_EUNAVAIL, "%s: no device memory to report", c->be.name);
	return took(c, &c->be, c->be.mem_info(c->be.state, free_bytes, total_bytes));
}

/* In-place ops on one buffer of `bytes` share this fallback shape. */
#define INPLACE_FALLBACK(buf, bytes, call)                                    \
	do {                                                                  \
		struct staged s_[1] = {0};                                    \
		int rc_ = stage_in(c, &s_[0], buf, bytes, 1);                 \
		float *h_ = s_[0].host;                                       \
		(void)h_;                                                     \
		if (!rc_)                                                     \
			rc_ = took(c, &c->cpu, call);                         \
		if (!rc_)                                                     \
			rc_ = stage_out(c, &s_[0]);                           \
		stage_free(s_, 1);                                            \
		return rc_;                                                   \
	} while (0)

int wn_core_row_normalize(wn_core *c, float *X, int64_t n, int64_t d)
{
	if (n < 0 || d < 0)
		return set_err(c, WN_CORE_EINVAL, "row_normalize: negative size");
	if (!FB(row_normalize))
		return took(c, &c->be, c->be.row_normalize(c->be.state, X, n, d));
	INPLACE_FALLBACK(X, (size_t)(n * d) * 4, wn_cpu_row_normalize(CPU, h_, n, d));
}

/* ---- transformer building blocks -------------------------------------- */

int wn_core_add_bias(wn_core *c, float *X, const float *bias, int64_t n, int64_t d)
{
	if (n < 0 || d < 0)
		return set_err(c, WN_CORE_EINVAL, "add_bias: negative size");
	if (!FB(add_bias))
		return took(c, &c->be, c->be.add_bias(c->be.state, X, bias, n, d));
	struct staged s[2] = {0};
	int rc = stage_in(c, &s[0], X, (size_t)(n * d) * 4, 1);
	if (!rc)
		rc = stage_in(c, &s[1], bias, (size_t)d * 4, 1);
	if (!rc)
		rc = took(c, &c->cpu, wn_cpu_add_bias(CPU, s[0].host, s[1].host, n, d));
	if (!rc)
		rc = stage_out(c, &s[0]);
	stage_free(s, 2);
	return rc;
}

/* The backend's fused kernel, or the two ops it fuses (the CPU: its twin). */
int wn_core_bias_gelu(wn_core *c, float *X, const float *bias, int64_t n, int64_t d,
		      int tanh_approx)
{
	if (n < 0 || d < 0)
		return set_err(c, WN_CORE_EINVAL, "bias_gelu: negative size");
	if (c->be.bias_gelu)
		return took(c, &c->be, c->be.bias_gelu(c->be.state, X, bias, n, d, tanh_approx));
	int rc = wn_core_add_bias(c, X, bias, n, d);
	return rc ? rc : wn_core_gelu(c, X, (size_t)(n * d), tanh_approx);
}

int wn_core_bias_add(wn_core *c, float *X, const float *bias, const float *Y, int64_t n,
		     int64_t d)
{
	if (n < 0 || d < 0)
		return set_err(c, WN_CORE_EINVAL, "bias_add: negative size");
	if (c->be.bias_add)
		return took(c, &c->be, c->be.bias_add(c->be.state, X, bias, Y, n, d));
	int rc = wn_core_add_bias(c, X, bias, n, d);
	return rc ? rc : wn_core_add(c, X, Y, (size_t)(n * d));
}

int wn_core_add(wn_core *c, float *X, const float *Y, size_t count)
{
	if (!FB(add))
		return took(c, &c->be, c->be.add(c->be.state, X, Y, count));
	struct staged s[2] = {0};
	int rc = stage_in(c, &s[0], X, count * 4, 1);
	if (!rc)
		rc = stage_in(c, &s[1], Y, count * 4, 1);
	if (!rc)
		rc = took(c, &c->cpu, wn_cpu_add(CPU, s[0].host, s[1].host, count));
	if (!rc)
		rc = stage_out(c, &s[0]);
	stage_free(s, 2);
	return rc;
}

int wn_core_gelu(wn_core *c, float *X, size_t count, int tanh_approx)
{
	if (!FB(gelu))
		return took(c, &c->be, c->be.gelu(c->be.state, X, count, tanh_approx));
	INPLACE_FALLBACK(X, count * 4, wn_cpu_gelu(CPU, h_, count, tanh_approx));
}

int wn_core_relu(wn_core *c, float *X, size_t count)
{
	if (!FB(relu))
		return took(c, &c->be, c->be.relu(c->be.state, X, count));
	INPLACE_FALLBACK(X, count * 4, wn_cpu_relu(CPU, h_, count));
}

int wn_core_layernorm(wn_core *c, const float *X, const float *gamma, const float *beta,
		      float *Y, int64_t n, int64_t d, float eps)
{
	if (n < 0 || d < 0)
		return set_err(c, WN_CORE_EINVAL, "layernorm: negative size");
	if (!FB(layernorm))
		return took(c, &c->be,
			    c->be.layernorm(c->be.state, X, gamma, beta, Y, n, d, eps));
	struct staged s[4] = {0};
	size_t bytes = (size_t)(n * d) * 4;
	int rc = stage_in(c, &s[0], X, bytes, 1);
	if (!rc)
		rc = stage_in(c, &s[1], gamma, (size_t)d * 4, 1);
	if (!rc)
		rc = stage_in(c, &s[2], beta, (size_t)d * 4, 1);
	if (!rc)
		rc = stage_in(c, &s[3], Y, bytes, 0);
	if (!rc)
		rc = took(c, &c->cpu, wn_cpu_layernorm(CPU, s[0].host, s[1].host, s[2].host,
						       s[3].host, n, d, eps));
	if (!rc)
		rc = stage_out(c, &s[3]);
	stage_free(s, 4);
	return rc;
}

int wn_core_softmax_masked(wn_core *c, float *S, int64_t rows, int64_t cols, float scale,
			   const float *mask, int64_t rows_per_mask)
{
	if (rows < 0 || cols < 0 || (mask && rows_per_mask <= 0))
		return set_err(c, WN_CORE_EINVAL, "softmax_masked: bad sizes");
	if (!FB(softmax_masked))
		return took(c, &c->be, c->be.softmax_masked(c->be.state, S, rows, cols, scale,
							    mask, rows_per_mask));
	struct staged s[2] = {0};
	int64_t mrows = mask ? (rows + rows_per_mask - 1) / rows_per_mask : 0;
	int rc = stage_in(c, &s[0], S, (size_t)(rows * cols) * 4, 1);
	if (!rc && mask)
		rc = stage_in(c, &s[1], mask, (size_t)(mrows * cols) * 4, 1);
	if (!rc)
		rc = took(c, &c->cpu, wn_cpu_softmax_masked(CPU, s[0].host, rows, cols, scale,
							    s[1].host, rows_per_mask));
	if (!rc)
		rc = stage_out(c, &s[0]);
	stage_free(s, 2);
	return rc;
}

int wn_core_softmin_rows(wn_core *c, const float *C, int64_t rows, int64_t cols,
			 const double *lw, const double *h, double eps, double *out)
{
	if (rows < 0 || cols < 1 || !(eps > 0))
		return set_err(c, WN_CORE_EINVAL, "softmin_rows: bad sizes or eps");
	if (!FB(softmin_rows))
		return took(c, &c->be, c->be.softmin_rows(c->be.state, C, rows, cols, lw, h, eps,
							  out));
	struct staged s[4] = {0};
	int rc = stage_in(c, &s[0], C, (size_t)(rows * cols) * 4, 1);
	if (!rc)
		rc = stage_in(c, &s[1], lw, (size_t)cols * 8, 1);
	if (!rc)
		rc = stage_in(c, &s[2], h, (size_t)cols * 8, 1);
	if (!rc)
		rc = stage_in(c, &s[3], out, (size_t)rows * 8, 0);
	if (!rc)
		rc = took(c, &c->cpu, wn_cpu_softmin_rows(CPU, s[0].host, rows, cols, s[1].host,
							  s[2].host, eps, s[3].host));
	if (!rc)
		rc = stage_out(c, &s[3]);
	stage_free(s, 4);
	return rc;
}

int wn_core_masked_mean(wn_core *c, const float *X, const float *mask, int64_t batch,
			int64_t len, int64_t d, float *out)
{
	if (batch < 0 || len < 0 || d < 0)
		return set_err(c, WN_CORE_EINVAL, "masked_mean: negative size");
	if (!FB(masked_mean))
		return took(c, &c->be,
			    c->be.masked_mean(c->be.state, X, mask, batch, len, d, out));
	struct staged s[3] = {0};
	int rc = stage_in(c, &s[0], X, (size_t)(batch * len * d) * 4, 1);
	if (!rc)
		rc = stage_in(c, &s[1], mask, (size_t)(batch * len) * 4, 1);
	if (!rc)
		rc = stage_in(c, &s[2], out, (size_t)(batch * d) * 4, 0);
	if (!rc)
		rc = took(c, &c->cpu, wn_cpu_masked_mean(CPU, s[0].host, s[1].host, batch, len,
							 d, s[2].host));
	if (!rc)
		rc = stage_out(c, &s[2]);
	stage_free(s, 3);
	return rc;
}

int wn_core_gather_rows(wn_core *c, const float *table, const int32_t *ids, int64_t n,
			int64_t d, float *out)
{
	if (n < 0 || d < 0)
		return set_err(c, WN_CORE_EINVAL, "gather_rows: negative size");
	if (!FB(gather_rows))
		return took(c, &c->be, c->be.gather_rows(c->be.state, table, ids, n, d, out));
	/* the table size is unknown here: stage only the ids, then copy each
	 * row device-to-device, which every backend provides */
	int32_t *h = malloc((size_t)(n ? n : 1) * sizeof *h);
	if (!h)
		return set_err(c, WN_CORE_ENOMEM, "gather_rows: host copy of ids");
	int rc = wn_core_download(c, h, ids, (size_t)n * sizeof *h);
	for (int64_t r = 0; !rc && r < n; r++) {
		if (h[r] < 0) {
			rc = set_err(c, WN_CORE_EINVAL, "gather_rows: negative id %d at row %lld",
				     (int)h[r], (long long)r);
			break;
		}
		rc = wn_core_copy(c, out + r * d, table + (int64_t)h[r] * d,
				  (size_t)d * sizeof(float));
	}
	free(h);
	return rc;
}

/* ---- nearest neighbours and k-means ----------------------------------- */

int wn_core_knn(wn_core *c, int metric, const float *Q, int64_t nq, const float *B,
		int64_t nb, int64_t d, int64_t k, float *out_dist, int64_t *out_idx)
{
	if (metric != WN_METRIC_L2 && metric != WN_METRIC_IP)
		return set_err(c, WN_CORE_EINVAL, "knn: unknown metric %d", metric);
	if (nq < 0 || nb < 0 || d <= 0 || k <= 0)
		return set_err(c, WN_CORE_EINVAL, "knn: bad sizes (nq %lld, nb %lld, d %lld, k %lld)",
			       (long long)nq, (long long)nb, (long long)d, (long long)k);
	const wn_backend *be = c->be.knn ? &c->be : &c->cpu;
	return took(c, be, be->knn(be->state, metric, Q, nq, B, nb, d, k, out_dist, out_idx));
}

int wn_core_kmeans_assign(wn_core *c, int metric, const float *X, int64_t n, int64_t d,
			  const float *C, int64_t k, int32_t *out_assign, float *out_dist)
{
	if (metric != WN_METRIC_L2 && metric != WN_METRIC_IP)
		return set_err(c, WN_CORE_EINVAL, "kmeans_assign: unknown metric %d", metric);
	if (n < 0 || d <= 0 || k <= 0 || k > INT32_MAX)
		return set_err(c, WN_CORE_EINVAL, "kmeans_assign: bad sizes (n %lld, d %lld, k %lld)",
			       (long long)n, (long long)d, (long long)k);
	const wn_backend *be = c->be.kmeans_assign ? &c->be : &c->cpu;
	return took(c, be, be->kmeans_assign(be->state, metric, X, n, d, C, k, out_assign,
					     out_dist));
}

int wn_core_kmeans_update(wn_core *c, int metric, const float *X, int64_t n, int64_t d,
			  const int32_t *assign, int64_t k, uint64_t seed, float *C,
			  int64_t *counts, int64_t *n_split)
{
	if (metric != WN_METRIC_L2 && metric != WN_METRIC_IP)
		return set_err(c, WN_CORE_EINVAL, "kmeans_update: unknown metric %d", metric);
	if (n < 0 || d <= 0 || k <= 0 || k > INT32_MAX)
		return set_err(c, WN_CORE_EINVAL, "kmeans_update: bad sizes (n %lld, d %lld, k %lld)",
			       (long long)n, (long long)d, (long long)k);
	return took(c, &c->cpu, wn_cpu_kmeans_update(CPU, metric, X, n, d, assign, k, seed, C,
						     counts, n_split));
}

/*
 * Lloyd's loop over the public steps, for backends without a fused
 * kmeans_train: assign on the active backend, update on the host.
 */
static int kmeans_lloyd(wn_core *c, int metric, const float *X, int64_t n, int64_t d,
			int64_t k, int niter, uint64_t seed, float *C, double *inertia)
{
	int64_t *pick = malloc((size_t)k * sizeof *pick);
	int64_t *counts = malloc((size_t)k * sizeof *counts);
	int32_t *asg = malloc((size_t)(n ? n : 1) * sizeof *asg);
	float *dist = malloc((size_t)(n ? n : 1) * sizeof *dist);
	int rc = 0;
	if (!pick || !counts || !asg || !dist) {
		rc = set_err(c, WN_CORE_ENOMEM, "kmeans_train: out of memory (n %lld, k %lld)",
			     (long long)n, (long long)k);
		goto out;
	}
	if (wn_kmeans_init_pick(n, k, seed, pick) != 0) {
		rc = set_err(c, WN_CORE_ENOMEM, "kmeans_train: out of memory");
		goto out;
	}
	for (int64_t j = 0; j < k; j++)
		memcpy(C + j * d, X + pick[j] * d, (size_t)d * sizeof *C);
	if (metric == WN_METRIC_IP)
		wn_kmeans_normalize_rows(C, k, d);
	for (int it = 0; it < niter && !rc; it++) {
		rc = wn_core_kmeans_assign(c, metric, X, n, d, C, k, asg, dist);
		if (rc)
			break;
		if (inertia) {
			double s = 0; /* in index order: the same sum for any thread count */
			for (int64_t i = 0; i < n; i++)
				s += dist[i];
			inertia[it] = s;
		}
		int64_t ns;
		rc = wn_core_kmeans_update(c, metric, X, n, d, asg, k,
					   wn_kmeans_iter_seed(seed, (uint64_t)it), C, counts, &ns);
	}
out:
	free(pick);
	free(counts);
	free(asg);
	free(dist);
	return rc;
}

/* The arguments kmeans_train and kmeans_fit accept (what: the op's name). */
static int kmeans_train_checks(wn_core *c, const char *what, int metric, int64_t n, int64_t d,
			       int64_t k, int niter)
{
	if (metric != WN_METRIC_L2 && metric != WN_METRIC_IP)
		return set_err(c, WN_CORE_EINVAL, "%s: unknown metric %d", what, metric);
	if (d <= 0 || k <= 0 || k > INT32_MAX || niter < 0)
		return set_err(c, WN_CORE_EINVAL, "%s: bad sizes (d %lld, k %lld, niter %d)", what,
			       (long long)d, (long long)k, niter);
	if (n < k)
		return set_err(c, WN_CORE_EINVAL, "%s: k = %lld is larger than n = %lld", what,
			       (long long)k, (long long)n);
	return 0;
}

int wn_core_kmeans_train(wn_core *c, int metric, const float *X, int64_t n, int64_t d,
			 int64_t k, int niter, uint64_t seed, float *C, double *inertia)
{
	int rc = kmeans_train_checks(c, "kmeans_train", metric, n, d, k, niter);
	if (rc)
		return rc;
	if (c->be.kmeans_train)
		return took(c, &c->be, c->be.kmeans_train(c->be.state, metric, X, n, d, k, niter,
							  seed, C, inertia));
	return kmeans_lloyd(c, metric, X, n, d, k, niter, seed, C, inertia);
}

/*
 * Train + assign. A backend's kmeans_fit keeps the points on its device in
 * between; without one (the CPU), the two public calls, which is also the
 * reference the CUDA op is tested against.
 */
int wn_core_kmeans_fit(wn_core *c, int metric, const float *X, int64_t n, int64_t d, int64_t k,
		       int niter, uint64_t seed, float *C, double *inertia, int32_t *out_assign,
		       float *out_dist)
{
	int rc = kmeans_train_checks(c, "kmeans_fit", metric, n, d, k, niter);
	if (rc)
		return rc;
	if (c->be.kmeans_fit)
		return took(c, &c->be, c->be.kmeans_fit(c->be.state, metric, X, n, d, k, niter, seed,
							C, inertia, out_assign, out_dist));
	rc = wn_core_kmeans_train(c, metric, X, n, d, k, niter, seed, C, inertia);
	return rc ? rc : wn_core_kmeans_assign(c, metric, X, n, d, C, k, out_assign, out_dist);
}
