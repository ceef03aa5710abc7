/*
 * core/core.h — the compute core: one interface, two backends.
 *
 * Owns: a context (wn_core) bound to one device, device memory ("buffers":
 * plain float pointers that live on the context's device — host memory for
 * the CPU backend, cudaMalloc'd memory for the CUDA backend), and the dense
 * float32 ops every numeric stage of winnow uses: GEMM, row norms, the
 * transformer building blocks (bias, LayerNorm, GELU, masked softmax),
 * exact kNN with a fused top-k, and the k-means steps.
 *
 * Borrows: nothing from the rest of winnow. core/ knows matrices, never
 * records or databases (DESIGN.md).
 *
 * Conventions, the same for every op:
 *  - matrices are row-major float32; `ld*` is the row stride in floats;
 *  - pointers named `*_dev` are buffers of this context (wn_core_alloc);
 *    pointers named `*_host` are ordinary host memory: ops that take host
 *    arrays (kNN, k-means) stream them through the device in chunks, so the
 *    data may be larger than GPU memory;
 *  - every function returns 0 on success or a negative WN_CORE_E* code;
 *    wn_core_error() then says what went wrong in one line;
 *  - results do not depend on the thread count: reductions use a fixed
 *    order, ties in argmin/top-k go to the smaller index.
 *
 * The random generator, the samplers and the training primitives have
 * their own headers (core/rng.h, core/sample.h, core/train.h).
 */
#ifndef WN_CORE_H
#define WN_CORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum wn_core_device {
	WN_DEVICE_CPU = 0,
	WN_DEVICE_CUDA = 1,
	WN_DEVICE_AUTO = 2, /* CUDA when a GPU is usable, else CPU */
};

enum wn_core_status {
	WN_CORE_OK = 0,
	WN_CORE_EINVAL = -1,     /* bad arguments (sizes, k > n, ...) */
	WN_CORE_ENOMEM = -2,     /* host or device allocation failed */
	WN_CORE_EDEVICE = -3,    /* backend failure (CUDA error, ...) */
	WN_CORE_EUNAVAIL = -4,   /* the requested backend is not usable here */
};

enum wn_core_metric {
	WN_METRIC_L2 = 0, /* squared Euclidean distance, smaller is nearer */
	WN_METRIC_IP = 1, /* inner product, larger is nearer */
};

typedef struct wn_core wn_core;

/* Parse "cpu", "cuda" or "auto"; returns -1 for anything else. */
int wn_core_parse_device(const char *name);

/*
 * Create a context. threads <= 0 means "all cores" (OpenMP default).
 * On failure returns NULL and, when errbuf is given, writes one line saying
 * why (e.g. "CUDA unavailable: libwinnow_cuda.so not found" or
 * "CUDA unavailable: no GPU (cudaGetDeviceCount: no CUDA-capable device)").
 * WN_DEVICE_AUTO never fails for lack of a GPU: it falls back to the CPU.
 */
wn_core *wn_core_open(int device, int threads, char *errbuf, size_t errlen);
void wn_core_close(wn_core *c);
/* The same from a device name as a user writes it: NULL or "" means
 * $WINNOW_DEVICE, else "auto"; an unknown name fails with a reason. */
wn_core *wn_core_open_named(const char *device, int threads, char *errbuf, size_t errlen);

int wn_core_device(const wn_core *c);     /* WN_DEVICE_CPU or WN_DEVICE_CUDA */
int wn_core_threads(const wn_core *c);
const char *wn_core_error(const wn_core *c); /* last error, "" if none */

/*
 * One line per fact, "key: value\n", for `winnow device`: backend, BLAS
 * (OpenBLAS config string), threads, and for CUDA the GPU name, compute
 * capability, total and free memory, driver/runtime versions; or why CUDA is
 * unavailable. Writes at most len bytes (NUL-terminated).
 */
void wn_core_describe(wn_core *c, char *buf, size_t len);

/* Why the CUDA backend cannot be used here ("" when it can). Static text. */
const char *wn_core_cuda_unavailable_reason(void);

/* ---- device memory ---------------------------------------------------- */

float *wn_core_alloc(wn_core *c, size_t count);        /* count floats */
void *wn_core_alloc_bytes(wn_core *c, size_t bytes);
void wn_core_free(wn_core *c, void *dev);
int wn_core_upload(wn_core *c, void *dst_dev, const void *src_host, size_t bytes);
int wn_core_download(wn_core *c, void *dst_host, const void *src_dev, size_t bytes);
int wn_core_copy(wn_core *c, void *dst_dev, const void *src_dev, size_t bytes);
int wn_core_zero(wn_core *c, void *dev, size_t bytes);
int wn_core_sync(wn_core *c); /* wait for queued device work */

/* ---- dense linear algebra -------------------------------------------- */

/*
 * C = alpha * op(A) * op(B) + beta * C, row-major.
 * op(A) is m x k, op(B) is k x n, C is m x n. ta/tb: 0 = as stored, 1 = transposed.
 */
int wn_core_gemm(wn_core *c, int ta, int tb, int64_t m, int64_t n, int64_t k,
		 float alpha, const float *A_dev, int64_t lda,
		 const float *B_dev, int64_t ldb,
		 float beta, float *C_dev, int64_t ldc);

/* The same for `batch` independent products at fixed strides (in floats). */
int wn_core_gemm_batched(wn_core *c, int ta, int tb, int64_t m, int64_t n, int64_t k,
			 float alpha, const float *A_dev, int64_t lda, int64_t strideA,
			 const float *B_dev, int64_t ldb, int64_t strideB,
			 float beta, float *C_dev, int64_t ldc, int64_t strideC,
			 int64_t batch);

/*
 * GEMM input precision. FP32 is exact float32 (what wn_core_gemm does).
 * The others round A and B to TF32 (10 mantissa bits, float32 range), BF16
 * (7 bits, float32 range) or FP16 (10 bits, IEEE half range: |x| >= 65520
 * becomes inf, subnormals below 2^-14) and multiply them with float32
 * accumulation into a float32 C. On CUDA they are cuBLAS's tensor-core
 * compute types (CUBLAS_COMPUTE_32F_FAST_TF32 / _16BF / _16F, which may
 * also pick TF32 where it sees fit); on the CPU the op is their twin: A
 * and B rounded to nearest, ties to even (wn_core_round_prec), then the
 * ordinary float32 GEMM. Results agree within the inputs' rounding, not
 * bit for bit.
 */
enum wn_core_precision {
	WN_PREC_FP32 = 0,
	WN_PREC_TF32 = 1,
	WN_PREC_BF16 = 2,
	WN_PREC_FP16 = 3,
};
/* "fp32", "tf32", "bf16", "fp16" -> WN_PREC_*; -1 for anything else */
int wn_core_parse_precision(const char *name);
const char *wn_core_precision_name(int prec); /* "?" when out of range */
/* x rounded to `prec` (round to nearest, ties to even; NaN stays NaN) */
float wn_core_round_prec(int prec, float x);

int wn_core_gemm_batched_prec(wn_core *c, int prec, int ta, int tb, int64_t m, int64_t n,
			      int64_t k, float alpha, const float *A_dev, int64_t lda,
			      int64_t strideA, const float *B_dev, int64_t ldb, int64_t strideB,
			      float beta, float *C_dev, int64_t ldc, int64_t strideC,
			      int64_t batch);
int wn_core_gemm_prec(wn_core *c, int prec, int ta, int tb, int64_t m, int64_t n, int64_t k,
		      float alpha, const float *A_dev, int64_t lda, const float *B_dev,
		      int64_t ldb, float beta, float *C_dev, int64_t ldc);

/* out[i] = sum_j X[i,j]^2 for an n x d matrix (row stride d). */
int wn_core_row_sqnorms(wn_core *c, const float *X_dev, int64_t n, int64_t d, float *out_dev);

/* out[i,j] = (float)(s[i] * (double)X[i,j]) for an n x d matrix (s_dev: n
 * doubles, wn_core_alloc_bytes; out may be X): one rounding per entry, the
 * same bits on every backend. */
int wn_core_scale_rows(wn_core *c, const float *X_dev, const double *s_dev, int64_t n,
		       int64_t d, float *out_dev);

/* Free and total memory of the context's device in bytes; WN_CORE_EUNAVAIL
 * on the CPU (host memory has no budget the core can state). */
int wn_core_mem_info(wn_core *c, size_t *free_bytes, size_t *total_bytes);

/* Scale each row to unit L2 norm (rows of norm 0 stay 0). */
int wn_core_row_normalize(wn_core *c, float *X_dev, int64_t n, int64_t d);

/* ---- transformer building blocks (all in place on n x d rows) ---------- */

int wn_core_add_bias(wn_core *c, float *X_dev, const float *bias_dev, int64_t n, int64_t d);
/* X = X + Y elementwise (count floats) */
int wn_core_add(wn_core *c, float *X_dev, const float *Y_dev, size_t count);
/* GELU, exact erf form (as BERT's "gelu"). tanh=1 selects the tanh approximation. */
int wn_core_gelu(wn_core *c, float *X_dev, size_t count, int tanh_approx);
int wn_core_relu(wn_core *c, float *X_dev, size_t count);
/* Fused epilogues of a GEMM, one pass instead of two, bit for bit the
 * sequence they replace: wn_core_add_bias then wn_core_gelu; and
 * X = (X + bias) + Y (wn_core_add_bias then wn_core_add), Y n x d. */
int wn_core_bias_gelu(wn_core *c, float *X_dev, const float *bias_dev, int64_t n, int64_t d,
		      int tanh_approx);
int wn_core_bias_add(wn_core *c, float *X_dev, const float *bias_dev, const float *Y_dev,
		     int64_t n, int64_t d);
/* Y = LayerNorm(X) * gamma + beta per row; Y may alias X. */
int wn_core_layernorm(wn_core *c, const float *X_dev, const float *gamma_dev,
		      const float *beta_dev, float *Y_dev, int64_t n, int64_t d, float eps);
/*
 * Row-wise softmax of S (rows x cols) in place, after adding `scale` * S and
 * masking: when mask_dev is non-NULL it holds `rows / rows_per_mask` rows of
 * `cols` floats (1 = keep, 0 = masked out); row r uses mask row r / rows_per_mask.
 * Masked entries get probability 0.
 */
int wn_core_softmax_masked(wn_core *c, float *S_dev, int64_t rows, int64_t cols,
			   float scale, const float *mask_dev, int64_t rows_per_mask);
/* out[b, j] = sum_i mask[b,i] * X[b,i,j] / sum_i mask[b,i]  (mean pooling) */
int wn_core_masked_mean(wn_core *c, const float *X_dev, const float *mask_dev,
			int64_t batch, int64_t len, int64_t d, float *out_dev);
/* out[r, :] = table[ids[r], :] (embedding lookup); ids on the device as int32 */
int wn_core_gather_rows(wn_core *c, const float *table_dev, const int32_t *ids_dev,
			int64_t n, int64_t d, float *out_dev);

/* ---- exact nearest neighbours ---------------------------------------- */

/*
 * For each of nq queries (host, nq x d) find the k nearest of nb base
 * vectors (host, nb x d) under `metric`. Results sorted best first:
 * out_dist_host (nq x k): squared L2 distance or inner product;
 * out_idx_host (nq x k): base row index (-1 and +inf/-inf when nb < k).
 * Ties go to the smaller index. Base and queries are streamed in chunks.
 */
int wn_core_knn(wn_core *c, int metric, const float *Q_host, int64_t nq,
		const float *B_host, int64_t nb, int64_t d, int64_t k,
		float *out_dist_host, int64_t *out_idx_host);

/* ---- k-means steps ---------------------------------------------------- */

/*
 * Assign: for each of n points (host, n x d) its nearest of k centroids
 * (host, k x d): argmin ||x||^2 - 2 x.c + ||c||^2 (metric L2) or argmax x.c
 * (metric IP, for spherical k-means). out_assign_host[i] in [0, k);
 * out_dist_host[i] = squared distance (L2) or inner product (IP); either
 * output may be NULL.
 */
int wn_core_kmeans_assign(wn_core *c, int metric, const float *X_host, int64_t n, int64_t d,
			  const float *C_host, int64_t k,
			  int32_t *out_assign_host, float *out_dist_host);

/*
 * Update: per-cluster sums and counts -> new centroids (mean of members).
 * Clusters left empty are then split as FAISS does (Clustering.cpp,
 * split_clusters): for each empty cluster pick a cluster to split with
 * probability proportional to (size - 1) using rng stream `seed`, copy its
 * centroid, perturb both copies by a relative 1/1024 in opposite directions
 * and split its count. For metric IP the centroids are then L2-normalised.
 * Returns the number of empty clusters that were split in *n_split.
 */
int wn_core_kmeans_update(wn_core *c, int metric, const float *X_host, int64_t n, int64_t d,
			  const int32_t *assign_host, int64_t k, uint64_t seed,
			  float *C_host_inout, int64_t *counts_host_out, int64_t *n_split);

/*
 * Whole Lloyd training: init by k distinct points drawn with the core's
 * Philox generator (seed), then niter x (assign, update). Keeps the data
 * resident on the device when it fits, else streams it. Writes k x d
 * centroids and, when given, the inertia after each iteration
 * (inertia_per_iter_host, niter entries: sum of squared distances, or of
 * inner products for IP).
 */
int wn_core_kmeans_train(wn_core *c, int metric, const float *X_host, int64_t n, int64_t d,
			 int64_t k, int niter, uint64_t seed,
			 float *C_host_out, double *inertia_per_iter_host);

/*
 * Train, then assign every point to the trained centroids: the same result
 * as wn_core_kmeans_train followed by wn_core_kmeans_assign on the trained
 * centroids (bit for bit on every backend), in one call so that a backend
 * can keep the points on its device from the first iteration to the final
 * assignment (one upload instead of two). out_assign_host / out_dist_host
 * (n entries each, either may be NULL) are as in wn_core_kmeans_assign.
 */
int wn_core_kmeans_fit(wn_core *c, int metric, const float *X_host, int64_t n, int64_t d,
		       int64_t k, int niter, uint64_t seed, float *C_host_out,
		       double *inertia_per_iter_host, int32_t *out_assign_host,
		       float *out_dist_host);

/* ---- dense float64 solve (issue 19: leverage scores, Lewis weights) ----
 * core/cpu_solve.c. A Gram accumulator G = Σ f_i x_i x_iᵀ fed a batch of
 * rows at a time (host arrays, float32 or float64, row stride d), then the
 * factor of G + λI and the quadratic forms x_iᵀ(G + λI)⁺x_i of more rows:
 * Cholesky (LAPACK dpotrf) of the equilibrated matrix, or, when that fails
 * or is ill-conditioned (rcond <= max(n,d)·eps), an eigen pseudo-inverse
 * (dsyev, eigenvalues <= λ_max·max(n,d)·eps dropped) whose size is the rank.
 * c may be NULL and use_gemm 0: float64 on the host, same bits at any
 * thread count when batches are multiples of WN_CORE_GRAM_BLOCK rows (block
 * b of the accumulator's life goes to partial b mod wn_core_gram_partials(d)).
 * use_gemm 1: each batch's XᵀX and the second pass X·(D U⁻¹) are float32
 * wn_core_gemm calls on c's device (the GPU on CUDA), summed in float64 on
 * the host; the d×d factorisation always runs on the CPU in float64.
 * Functions return 0 or a WN_CORE_E* code (ENOMEM, EINVAL, or the
 * context's error); wn_core_solve_new fills err with one line. */
#define WN_CORE_GRAM_BLOCK 256
enum { WN_CORE_SOLVE_CHOLESKY = 0, WN_CORE_SOLVE_EIGEN = 1 };
typedef struct wn_core_gram wn_core_gram;
typedef struct wn_core_solve wn_core_solve;
int64_t wn_core_gram_partials(int64_t d);
wn_core_gram *wn_core_gram_new(wn_core *c, int64_t d, int use_gemm); /* NULL: no memory */
void wn_core_gram_free(wn_core_gram *g);
void wn_core_gram_reset(wn_core_gram *g);
/* G += Σ_r f_r x_r x_rᵀ over `rows` rows of X32 or X64 (exactly one given); f NULL = 1 */
int wn_core_gram_add(wn_core_gram *g, const float *X32, const double *X64, int64_t rows,
		     const double *f);
int64_t wn_core_gram_rows(const wn_core_gram *g);
/* the full symmetric d×d sum so far (owned by g, valid until the next call on g) */
const double *wn_core_gram_matrix(wn_core_gram *g);
/* Factor G + ridge·I; nrows (the rows summed into G) sets the rank threshold. */
wn_core_solve *wn_core_solve_new(wn_core *c, const double *G, int64_t d, double ridge,
				 int64_t nrows, int use_gemm, char *err, size_t errlen);
void wn_core_solve_free(wn_core_solve *q);
int64_t wn_core_solve_rank(const wn_core_solve *q);
int wn_core_solve_method(const wn_core_solve *q); /* WN_CORE_SOLVE_* */
/* out[r] = x_rᵀ (G + λI)⁺ x_r for `rows` rows (each row's value computed alone) */
int wn_core_solve_quad(wn_core_solve *q, const float *X32, const double *X64, int64_t rows,
		       double *out);

/* Rows kept on the device (the GEMM path's resident matrix). The first
 * pass adds each batch once (wn_core_rows_add uploads it); later passes
 * run on the device: wn_core_gram_add_rows sums the Gram partials of the
 * batches from `first` on (f: their row weights, NULL = 1) exactly as
 * wn_core_gram_add would from the same float32 batches (one float32 GEMM
 * per batch, row weights applied by wn_core_scale_rows with the host's
 * rounding, partials added in float64 in batch order on the host), and
 * wn_core_solve_quad_rows gives the quadratic forms of every kept row, as
 * wn_core_solve_quad of each batch would (float32 batches: a float64 one
 * is kept rounded to float32, so its weighted rows round twice). The rows stay while their bytes
 * (n·d·4) fit the budget given to wn_core_rows_new; the batch that would
 * pass it drops them all (wn_core_rows_add returns 0, resident() 0 from
 * then on) and the caller streams from the host as before. The budget:
 * wn_core_rows_budget(c) = free device memory / WN_CORE_RESIDENT_DIVISOR
 * (0 on the CPU, whose backend reports no device memory), or the bytes in
 * $WINNOW_SOLVE_RESIDENT when set (tests force either path with it);
 * wn_core_rows_budget_of is the same rule on given numbers. */
#define WN_CORE_RESIDENT_DIVISOR 2
typedef struct wn_core_rows wn_core_rows;
int64_t wn_core_rows_budget_of(int known, size_t free_bytes, const char *override);
int64_t wn_core_rows_budget(wn_core *c);
wn_core_rows *wn_core_rows_new(wn_core *c, int64_t d, int64_t budget); /* NULL: no memory */
void wn_core_rows_free(wn_core_rows *R);
/* 1 kept, 0 not kept (over the budget: everything dropped), or WN_CORE_E* */
int wn_core_rows_add(wn_core_rows *R, const float *X32, const double *X64, int64_t rows);
int wn_core_rows_resident(const wn_core_rows *R);
int64_t wn_core_rows_count(const wn_core_rows *R);   /* rows kept */
int64_t wn_core_rows_batches(const wn_core_rows *R); /* batches kept */
/* g and R on the same context (g made with use_gemm); f indexed from batch first's first row */
int wn_core_gram_add_rows(wn_core_gram *g, wn_core_rows *R, int64_t first, const double *f);
/* out[i] for the wn_core_rows_count(R) rows kept, in order */
int wn_core_solve_quad_rows(wn_core_solve *q, wn_core_rows *R, double *out);

/* ---- entropic optimal transport (issue 21: core/cpu_sinkhorn.c) --------
 *
 * Log-domain entropic Sinkhorn over a cost matrix, as geomloss computes it
 * for p = 2: eps = blur^2, the cost of points is ||x - y||^2 / 2, the
 * value is the dual objective <a, f> + <b, g> at convergence, and the
 * debiased divergence S(a, b) = OT(a, b) - OT(a, a)/2 - OT(b, b)/2 is 0
 * for equal measures. Costs are float (n x m, row-major, host memory); the
 * iterations run in double on the context's device through
 * wn_core_softmin_rows (on the CPU parallel over rows with a fixed order
 * per row; on CUDA one warp per row in a fixed shuffle order: the result
 * does not depend on the thread count, and CPU and CUDA agree to about
 * 1e-9 relative, see docs/DESIGN.md). Problems under 65,536 cost entries
 * stay on the host on every device (a kernel launch per half step costs
 * more than it saves). The cost matrix of points is one GEMM on the
 * context's device. These take an
 * err buffer (one line) instead of wn_core_error(). Returns 0 or WN_CORE_E*.
 */
typedef struct wn_sinkhorn_opts {
	double blur;     /* eps = blur^2; > 0 (default 0.1) */
	double scaling;  /* eps-scaling: blur shrinks by this factor per step, in (0, 1);
			    0 = start at the final eps (default 0.5, as geomloss) */
	int max_iter;    /* iterations at the final eps (default 2000) */
	double tol;      /* stop when no potential moves by more than tol (default 1e-9) */
} wn_sinkhorn_opts;

#define WN_SINKHORN_OPTS_INIT {0.1, 0.5, 2000, 1e-9}

/* Sinkhorn's half step on buffers of this context: out_i = -eps log sum_j
 * exp(lw_j + (h_j - C_ij) / eps) over the rows of C_dev (rows x cols);
 * lw_dev, h_dev (cols) and out_dev (rows) are double buffers
 * (wn_core_alloc_bytes). Each row is reduced in a fixed order. */
int wn_core_softmin_rows(wn_core *c, const float *C_dev, int64_t rows, int64_t cols,
			 const double *lw_dev, const double *h_dev, double eps, double *out_dev);

/* C[i*m + j] = ||X_i - Y_j||^2 / 2 (clamped at 0) for X n x d, Y m x d
 * (host arrays); the inner products by wn_core_gemm. */
int wn_core_cost_sqeuclid(wn_core *c, const float *X_host, int64_t n, const float *Y_host,
			  int64_t m, int64_t d, float *C_host, char *err, size_t errlen);

/* OT_eps(a, b) on C (n x m): potentials f (n) and g (m), *ot = <a,f> + <b,g>.
 * a, b: weights summing to 1 (each > 0), or NULL for uniform. *iters (may be
 * NULL) = iterations run at the final eps. */
int wn_core_sinkhorn(wn_core *c, const float *C_host, int64_t n, int64_t m, const double *a,
		     const double *b, const wn_sinkhorn_opts *o, double *f, double *g,
		     double *ot, int *iters, char *err, size_t errlen);

/* OT_eps(a, a) on a symmetric C (n x n) by the averaged symmetric update
 * f = (f + T(f)) / 2: potential f (n), *ot = 2 <a, f>. */
int wn_core_sinkhorn_sym(wn_core *c, const float *C_host, int64_t n, const double *a,
			 const wn_sinkhorn_opts *o, double *f, double *ot, char *err,
			 size_t errlen);

/* The debiased divergence from the three cost matrices (Cxx n x n, Cyy m x m
 * symmetric); grad_a = f_ab - f_aa (n) and grad_b = g_ab - g_bb (m), the
 * gradients of S with respect to the weights (each may be NULL). */
int wn_core_sinkhorn_divergence(wn_core *c, const float *Cxy, const float *Cxx,
				const float *Cyy, int64_t n, int64_t m, const double *a,
				const double *b, const wn_sinkhorn_opts *o, double *grad_a,
				double *grad_b, double *div, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
