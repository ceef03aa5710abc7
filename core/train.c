/*
 * core/train.c — proxy-model training and per-example scores (core/train.h).
 *
 * Owns: the model's buffers, forward/backward, AdamW, the mini-batch loop,
 * and the EL2N / GraNd / VoG quantities.
 * Borrows: wn_core_gemm, add_bias, copy, gelu/relu on the context's device
 * (the heavy products); core/sample.h for epoch permutations; core/rng.h.
 * Why: see train.h. Layout of the work: products on the device, the O(B C)
 * and O(B H) elementwise steps on the host. On the CPU backend device
 * buffers are host memory, so the host views below alias them and nothing
 * is copied; on CUDA the views are mirrors filled by download/upload.
 * The CPU path also skips what only a device needs: the products read the
 * caller's rows in place, the biases are added inside the passes that
 * follow each product (ReLU, softmax), and the small per-batch loops go
 * over threads only where the work pays for a team (softmax and AdamW of
 * a training batch do; a batch's bias add does not). Every element is
 * computed as the device path computes it and every sum keeps its order,
 * so neither the path nor the thread count changes a bit.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_AVX2_PATH 1
#endif

#include "core/rng.h"
#include "core/sample.h"
#include "core/train.h"

#define STREAM_INIT 0x7472000000000001ull    /* weight initialisation */
#define STREAM_SHUFFLE 0x7472000100000000ull /* + epoch */
#define STREAM_DROPOUT 0x7472000200000000ull /* + forward call */

/* Elements below which a host loop stays on one thread: a training batch
 * (128 x 64) is far below, where a thread team costs more than the loop
 * (winnow's OpenMP threads sleep between regions, OMP_WAIT_POLICY=PASSIVE,
 * so each region pays for waking them). */
#define HOST_PAR_MIN 32768
/* The softmax spends tens of nanoseconds per element on exp: a training
 * batch of 128 x 58 logits is already worth a thread team. */
#define SOFTMAX_PAR_MIN 4096

struct wn_model {
	wn_core *c;
	int on_host; /* CPU backend: device pointers are host pointers */
	int threads;
	int64_t d, h, C, max_b, P;
	int act;
	int64_t oW1, ob1, oW2, ob2; /* parameter offsets (linear: W at oW2, b at ob2) */
	int64_t B;                  /* rows of the last forward, 0 before any */
	int64_t step, epoch;
	float *par_d, *grad_d;      /* device */
	float *x_d, *pre_d, *h_d, *z_d, *dz_d, *dh_d;
	const float *x_in;          /* the last forward's rows: x_d, or the caller's on the CPU */
	float *par_h, *grad_h;      /* host views (alias the device ones on CPU) */
	float *pre_h, *h_h, *z_h, *dz_h, *dh_h;
	float *p_h;                 /* host only: probabilities of the last forward */
	double *lse_h, *ex_h;       /* host only: logsumexp per row, exp(z - max) (B x C) */
	double *loss_h;             /* host only: backward's per-row losses (B) */
	float *adam_m, *adam_v;     /* host only */
	float drop_p;               /* dropout on the hidden layer while drop_on */
	uint64_t drop_seed, drop_calls;
	int drop_on, drop_last;     /* drop_last: the last forward applied a mask */
	float *mask_h;              /* B x h: 0 or 1 / (1 - p) of the last forward */
	char err[256];
};

static int fail(wn_model *m, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(wn_model *m, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(m->err, sizeof m->err, fmt, ap);
	va_end(ap);
	return code;
}

/* A core call failed: keep the core's message. */
static int core_fail(wn_model *m, int rc)
{
	snprintf(m->err, sizeof m->err, "%s", wn_core_error(m->c));
	return rc;
}

#define TRY(m, call)                                   \
	do {                                           \
		int rc_ = (call);                      \
		if (rc_)                               \
			return core_fail((m), rc_);    \
	} while (0)

/* device -> host view (a no-op on the CPU backend) */
static int pull(wn_model *m, float *host, const float *dev, int64_t count)
{
	if (m->on_host || count <= 0)
		return 0;
	int rc = wn_core_download(m->c, host, dev, (size_t)count * sizeof(float));
	return rc ? core_fail(m, rc) : 0;
}

static int push(wn_model *m, float *dev, const float *host, int64_t count)
{
	if (m->on_host || count <= 0)
		return 0;
	int rc = wn_core_upload(m->c, dev, host, (size_t)count * sizeof(float));
	return rc ? core_fail(m, rc) : 0;
}

void wn_train_opts_default(wn_train_opts *o)
{
	o->batch = 128;
	o->epochs = 1;
	o->lr = 1e-3f;
	o->beta1 = 0.9f;
	o->beta2 = 0.999f;
	o->eps = 1e-8f;
	o->weight_decay = 0.01f;
	o->seed = 0;
}

const char *wn_model_error(const wn_model *m)
{
	return m ? m->err : "no model";
}

int64_t wn_model_num_params(const wn_model *m)
{
	return m->P;
}

/* ---- construction ------------------------------------------------------- */

/* A device buffer and, off the CPU, its host mirror. */
static int alloc_pair(wn_model *m, float **dev, float **host, int64_t count)
{
	*dev = wn_core_alloc(m->c, (size_t)(count > 0 ? count : 1));
	if (!*dev)
		return -1;
	if (!host)
		return 0;
	*host = m->on_host ? *dev : malloc((size_t)(count > 0 ? count : 1) * sizeof(float));
	return *host ? 0 : -1;
}

static void free_pair(wn_model *m, float *dev, float *host)
{
	if (host && host != dev)
		free(host);
	wn_core_free(m->c, dev);
}

static void init_params(wn_model *m, uint64_t seed)
{
	int64_t fan_out_in = m->h ? m->h : m->d; /* fan-in of the output layer */
	memset(m->par_h, 0, (size_t)m->P * sizeof(float));
	if (m->h) {
		double s1 = sqrt(2.0 / (double)m->d);
		for (int64_t i = 0; i < m->d * m->h; i++)
			m->par_h[m->oW1 + i] = (float)(s1 * wn_rng_normal(seed, STREAM_INIT,
									  (uint64_t)(m->oW1 + i)));
	}
	double s2 = sqrt(1.0 / (double)fan_out_in);
	for (int64_t i = 0; i < fan_out_in * m->C; i++)
		m->par_h[m->oW2 + i] =
			(float)(s2 * wn_rng_normal(seed, STREAM_INIT, (uint64_t)(m->oW2 + i)));
}

wn_model *wn_model_new(wn_core *c, int64_t d_in, int64_t hidden, int64_t n_classes, int act,
		       int64_t max_batch, uint64_t seed, char *errbuf, size_t errlen)
{
	if (d_in <= 0 || hidden < 0 || n_classes < 2 || max_batch <= 0 ||
	    (hidden && act != WN_ACT_RELU && act != WN_ACT_GELU && act != WN_ACT_GELU_TANH)) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen,
				 "model: bad shape (d_in %lld, hidden %lld, classes %lld, batch %lld, act %d)",
				 (long long)d_in, (long long)hidden, (long long)n_classes,
				 (long long)max_batch, act);
		return NULL;
	}
	wn_model *m = calloc(1, sizeof *m);
	if (!m)
		goto oom;
	m->c = c;
	m->on_host = wn_core_device(c) == WN_DEVICE_CPU;
	m->threads = wn_core_threads(c);
	m->d = d_in;
	m->h = hidden;
	m->C = n_classes;
	m->act = act;
	m->max_b = max_batch;
	if (hidden) {
		m->oW1 = 0;
		m->ob1 = d_in * hidden;
		m->oW2 = m->ob1 + hidden;
		m->ob2 = m->oW2 + hidden * n_classes;
	} else {
		m->oW2 = 0;
		m->ob2 = d_in * n_classes;
	}
	m->P = m->ob2 + n_classes;
	int64_t wide = hidden ? hidden : 1, b = max_batch;
	if (alloc_pair(m, &m->par_d, &m->par_h, m->P) || alloc_pair(m, &m->grad_d, &m->grad_h, m->P) ||
	    alloc_pair(m, &m->x_d, NULL, m->on_host ? 1 : b * d_in) || alloc_pair(m, &m->pre_d, &m->pre_h, b * wide) ||
	    alloc_pair(m, &m->h_d, &m->h_h, b * wide) || alloc_pair(m, &m->z_d, &m->z_h, b * n_classes) ||
	    alloc_pair(m, &m->dz_d, &m->dz_h, b * n_classes) ||
	    alloc_pair(m, &m->dh_d, &m->dh_h, b * (wide > d_in ? wide : d_in)))
		goto oom;
	m->p_h = malloc((size_t)(b * n_classes) * sizeof(float));
	m->lse_h = malloc((size_t)b * sizeof(double));
	m->ex_h = malloc((size_t)(b * n_classes) * sizeof(double));
	m->loss_h = malloc((size_t)b * sizeof(double));
	m->adam_m = calloc((size_t)m->P, sizeof(float));
	m->adam_v = calloc((size_t)m->P, sizeof(float));
	if (!m->p_h || !m->lse_h || !m->ex_h || !m->loss_h || !m->adam_m || !m->adam_v)
		goto oom;
	init_params(m, seed);
	memset(m->grad_h, 0, (size_t)m->P * sizeof(float));
	if (push(m, m->par_d, m->par_h, m->P)) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "model: %s", m->err);
		wn_model_free(m);
		return NULL;
	}
	return m;
oom:
	if (errbuf && errlen)
		snprintf(errbuf, errlen, "model: out of memory (%lld parameters, batch %lld)",
			 (long long)((d_in + 1) * (hidden ? hidden : n_classes)), (long long)max_batch);
	wn_model_free(m);
	return NULL;
}

void wn_model_free(wn_model *m)
{
	if (!m)
		return;
	free_pair(m, m->par_d, m->par_h);
	free_pair(m, m->grad_d, m->grad_h);
	free_pair(m, m->x_d, NULL);
	free_pair(m, m->pre_d, m->pre_h);
	free_pair(m, m->h_d, m->h_h);
	free_pair(m, m->z_d, m->z_h);
	free_pair(m, m->dz_d, m->dz_h);
	free_pair(m, m->dh_d, m->dh_h);
	free(m->p_h);
	free(m->lse_h);
	free(m->ex_h);
	free(m->loss_h);
	free(m->adam_m);
	free(m->adam_v);
	free(m->mask_h);
	free(m);
}

int wn_model_get_params(wn_model *m, float *host)
{
	memcpy(host, m->par_h, (size_t)m->P * sizeof(float));
	return 0;
}

int wn_model_set_params(wn_model *m, const float *host)
{
	memcpy(m->par_h, host, (size_t)m->P * sizeof(float));
	return push(m, m->par_d, m->par_h, m->P);
}

int wn_model_get_grads(wn_model *m, float *host)
{
	memcpy(host, m->grad_h, (size_t)m->P * sizeof(float));
	return 0;
}

/* ---- forward ------------------------------------------------------------ */

static int check_batch(wn_model *m, int64_t B)
{
	if (B <= 0 || B > m->max_b)
		return fail(m, WN_CORE_EINVAL, "batch of %lld rows (the model takes 1 to %lld)",
			    (long long)B, (long long)m->max_b);
	return 0;
}

/* Row softmax of the logits into p_h (double sums: the loss needs them
 * exact), each exp computed once; the row's logsumexp kept in lse_h for
 * the loss. bias (NULL on the device path, which added it there) is the
 * output bias, added to each logit first with wn_core_add_bias's
 * arithmetic, so the host path makes one pass over the logits. */
static void host_softmax(wn_model *m, int64_t B, const float *bias)
{
	int64_t C = m->C;
#pragma omp parallel for num_threads(m->threads) schedule(static) if (B * C >= SOFTMAX_PAR_MIN)
	for (int64_t b = 0; b < B; b++) {
		float *z = m->z_h + b * C;
		float *p = m->p_h + b * C;
		double *ex = m->ex_h + b * C;
		if (bias)
			for (int64_t j = 0; j < C; j++)
				z[j] += bias[j];
		float mx = z[0];
		for (int64_t j = 1; j < C; j++)
			mx = z[j] > mx ? z[j] : mx;
		double s = 0;
		for (int64_t j = 0; j < C; j++)
			s += ex[j] = exp((double)z[j] - mx);
		for (int64_t j = 0; j < C; j++)
			p[j] = (float)(ex[j] / s);
		m->lse_h[b] = (double)mx + log(s);
	}
}

/* Inverted dropout on the hidden activations of a training forward: unit i
 * of call t is kept when Philox (seed, STREAM_DROPOUT + t, i) >= p. */
static int apply_dropout(wn_model *m, int64_t B)
{
	m->drop_last = 0;
	if (!m->drop_on || !(m->drop_p > 0))
		return 0;
	int64_t cnt = B * m->h;
	int rc = pull(m, m->h_h, m->h_d, cnt);
	if (rc)
		return rc;
	float keep = 1.0f / (1.0f - m->drop_p);
	uint64_t stream = STREAM_DROPOUT + m->drop_calls++;
	for (int64_t i = 0; i < cnt; i++) {
		m->mask_h[i] = wn_rng_uniformf(m->drop_seed, stream, (uint64_t)i) >= m->drop_p ? keep : 0;
		m->h_h[i] *= m->mask_h[i];
	}
	m->drop_last = 1;
	return push(m, m->h_d, m->h_h, cnt);
}

/*
 * The CPU backend's hidden layer after the product: pre += b1 and h =
 * act(pre) in one pass for ReLU, the arithmetic of wn_core_add_bias and
 * wn_core_relu element for element; GELU copies here and runs the core's
 * GELU (its erf/tanh forms live in one place, core/cpu_nn.c).
 */
static int host_hidden(wn_model *m, int64_t B)
{
	int64_t h = m->h;
	const float *b1 = m->par_h + m->ob1;
	int relu = m->act == WN_ACT_RELU;
#pragma omp parallel for num_threads(m->threads) schedule(static) if (B * h >= HOST_PAR_MIN)
	for (int64_t b = 0; b < B; b++) {
		float *pre = m->pre_h + b * h, *out = m->h_h + b * h;
		for (int64_t j = 0; j < h; j++) {
			float v = pre[j] + b1[j];
			pre[j] = v;
			out[j] = !relu ? v : v > 0.0f ? v : 0.0f;
		}
	}
	if (!relu)
		TRY(m, wn_core_gelu(m->c, m->h_d, (size_t)(B * h), m->act == WN_ACT_GELU_TANH));
	return 0;
}

/* pre = X W1 + b1 and h = act(pre) for B rows of x_in. */
static int forward_hidden(wn_model *m, int64_t B)
{
	wn_core *c = m->c;
	int64_t d = m->d, h = m->h;
	const float *par = m->par_d;
	TRY(m, wn_core_gemm(c, 0, 0, B, h, d, 1, m->x_in, d, par + m->oW1, h, 0, m->pre_d, h));
	if (m->on_host)
		return host_hidden(m, B);
	TRY(m, wn_core_add_bias(c, m->pre_d, par + m->ob1, B, h));
	TRY(m, wn_core_copy(c, m->h_d, m->pre_d, (size_t)(B * h) * sizeof(float)));
	if (m->act == WN_ACT_RELU)
		TRY(m, wn_core_relu(c, m->h_d, (size_t)(B * h)));
	else
		TRY(m, wn_core_gelu(c, m->h_d, (size_t)(B * h), m->act == WN_ACT_GELU_TANH));
	return 0;
}

/* The rows the next products read: on the CPU the caller's own (kept
 * until backward, see train.h), on a device a copy in x_d. */
static int set_input(wn_model *m, const float *X, int64_t B)
{
	if (m->on_host) {
		m->x_in = X;
		return 0;
	}
	m->x_in = m->x_d;
	TRY(m, wn_core_upload(m->c, m->x_d, X, (size_t)(B * m->d) * sizeof(float)));
	return 0;
}

int wn_model_forward(wn_model *m, const float *X, int64_t B, float *probs_out)
{
	int rc = check_batch(m, B);
	if (rc)
		return rc;
	wn_core *c = m->c;
	int64_t d = m->d, h = m->h, C = m->C;
	const float *par = m->par_d;
	m->B = 0;
	if ((rc = set_input(m, X, B)))
		return rc;
	if (h) {
		if ((rc = forward_hidden(m, B)) || (rc = apply_dropout(m, B)))
			return rc;
		TRY(m, wn_core_gemm(c, 0, 0, B, C, h, 1, m->h_d, h, par + m->oW2, C, 0, m->z_d, C));
	} else {
		TRY(m, wn_core_gemm(c, 0, 0, B, C, d, 1, m->x_in, d, par + m->oW2, C, 0, m->z_d, C));
	}
	if (!m->on_host) {
		TRY(m, wn_core_add_bias(c, m->z_d, par + m->ob2, B, C));
		if ((rc = pull(m, m->z_h, m->z_d, B * C)))
			return rc;
	}
	host_softmax(m, B, m->on_host ? m->par_h + m->ob2 : NULL);
	if (probs_out)
		memcpy(probs_out, m->p_h, (size_t)(B * C) * sizeof(float));
	m->B = B;
	return 0;
}

int wn_model_logits(wn_model *m, float *out)
{
	if (!m->B)
		return fail(m, WN_CORE_EINVAL, "logits without a forward pass");
	memcpy(out, m->z_h, (size_t)(m->B * m->C) * sizeof(float));
	return 0;
}

/* ---- backward ----------------------------------------------------------- */

static int check_labels(wn_model *m, const int32_t *y, int64_t B)
{
	for (int64_t b = 0; b < B; b++)
		if (y[b] < 0 || y[b] >= m->C)
			return fail(m, WN_CORE_EINVAL, "label %d of row %lld is not in [0, %lld)",
				    (int)y[b], (long long)b, (long long)m->C);
	return 0;
}

/* Cross-entropy of row b of the last forward: logsumexp(z) - z_y, in
 * double (the logsumexp from host_softmax). */
static double row_loss(const wn_model *m, int64_t b, int32_t y)
{
	return m->lse_h[b] - (double)m->z_h[b * m->C + y];
}

/* d act / d pre at x */
static float act_grad(int act, float x)
{
	if (act == WN_ACT_RELU)
		return x > 0 ? 1.0f : 0.0f;
	if (act == WN_ACT_GELU) {
		double cdf = 0.5 * (1.0 + erf(x * 0.70710678118654752));
		double pdf = exp(-0.5 * (double)x * x) * 0.39894228040143268;
		return (float)(cdf + x * pdf);
	}
	const double k = 0.7978845608028654, a = 0.044715;
	double t = tanh(k * (x + a * (double)x * x * x));
	return (float)(0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * a * (double)x * x));
}

/* d act / d pre for the model's activation (ReLU inline: the call is per
 * element of every backward). */
static inline float act_grad_of(const wn_model *m, float x)
{
	return m->act == WN_ACT_RELU ? (x > 0 ? 1.0f : 0.0f) : act_grad(m->act, x);
}

/* Column sums of a B x w host matrix into out, rows in order, the
 * columns split over the threads of the enclosing region. */
static void col_sums_par(const float *G, int64_t B, int64_t w, float *out)
{
#pragma omp for schedule(static)
	for (int64_t j = 0; j < w; j++) {
		float s = 0;
		for (int64_t b = 0; b < B; b++)
			s += G[b * w + j];
		out[j] = s;
	}
}

/* dz = (p - onehot(y)) / B and each row's loss, row b of the batch. */
static void output_grad_row(wn_model *m, const int32_t *y, int64_t B, int64_t b)
{
	int64_t C = m->C;
	const float *p = m->p_h + b * C;
	float *dz = m->dz_h + b * C;
	m->loss_h[b] = row_loss(m, b, y[b]);
	for (int64_t j = 0; j < C; j++)
		dz[j] = (p[j] - (j == y[b] ? 1.0f : 0.0f)) / (float)B;
}

/* dz, the output bias's gradient as dz's column sums (rows in order), per-row losses to loss_out (optional); returns the sum of
 * the losses, in row order. Rows, then columns, split over threads for a
 * large batch (an evaluation-sized one), else one fused pass. */
static double output_grad(wn_model *m, const int32_t *y, int64_t B, float *loss_out)
{
	int64_t C = m->C;
	float *gb = m->grad_h + m->ob2;
	if (B * C >= HOST_PAR_MIN && m->threads > 1) {
#pragma omp parallel num_threads(m->threads)
		{
#pragma omp for schedule(static)
			for (int64_t b = 0; b < B; b++)
				output_grad_row(m, y, B, b);
			col_sums_par(m->dz_h, B, C, gb);
		}
	} else {
		for (int64_t j = 0; j < C; j++)
			gb[j] = 0;
		for (int64_t b = 0; b < B; b++) {
			output_grad_row(m, y, B, b);
			for (int64_t j = 0; j < C; j++)
				gb[j] += m->dz_h[b * C + j];
		}
	}
	double sum = 0;
	for (int64_t b = 0; b < B; b++) {
		sum += m->loss_h[b];
		if (loss_out)
			loss_out[b] = (float)m->loss_h[b];
	}
	return sum;
}

/* dh *= act'(pre) (and the dropout mask of the forward), then b1's
 * gradient as dh's column sums: elements then columns over threads, or
 * one fused pass for a small batch. */
static void hidden_delta(wn_model *m, int64_t B)
{
	int64_t h = m->h;
	const float *mask = m->drop_last ? m->mask_h : NULL;
	float *gb = m->grad_h + m->ob1;
	if (B * h >= HOST_PAR_MIN && m->threads > 1) {
#pragma omp parallel num_threads(m->threads)
		{
#pragma omp for schedule(static)
			for (int64_t i = 0; i < B * h; i++)
				m->dh_h[i] *= act_grad_of(m, m->pre_h[i]) * (mask ? mask[i] : 1.0f);
			col_sums_par(m->dh_h, B, h, gb);
		}
		return;
	}
	for (int64_t j = 0; j < h; j++)
		gb[j] = 0;
	for (int64_t b = 0; b < B; b++) {
		float *dh = m->dh_h + b * h;
		const float *pre = m->pre_h + b * h, *mk = mask ? mask + b * h : NULL;
		for (int64_t j = 0; j < h; j++) {
			dh[j] *= act_grad_of(m, pre[j]) * (mk ? mk[j] : 1.0f);
			gb[j] += dh[j];
		}
	}
}

/* The parameter gradients from dz (B x C, on the host, its column sums
 * already in b2's gradient): the products and the hidden delta. */
static int backward_from_dz(wn_model *m, int64_t B)
{
	int64_t C = m->C, d = m->d, h = m->h;
	wn_core *c = m->c;
	int rc = push(m, m->dz_d, m->dz_h, B * C);
	if (rc)
		return rc;
	const float *par = m->par_d;
	if (!h) {
		TRY(m, wn_core_gemm(c, 1, 0, d, C, B, 1, m->x_in, d, m->dz_d, C, 0, m->grad_d + m->oW2, C));
		if ((rc = pull(m, m->grad_h + m->oW2, m->grad_d + m->oW2, d * C)))
			return rc;
		return push(m, m->grad_d + m->ob2, m->grad_h + m->ob2, C);
	}
	TRY(m, wn_core_gemm(c, 1, 0, h, C, B, 1, m->h_d, h, m->dz_d, C, 0, m->grad_d + m->oW2, C));
	TRY(m, wn_core_gemm(c, 0, 1, B, h, C, 1, m->dz_d, C, par + m->oW2, C, 0, m->dh_d, h));
	if ((rc = pull(m, m->dh_h, m->dh_d, B * h)) || (rc = pull(m, m->pre_h, m->pre_d, B * h)))
		return rc;
	hidden_delta(m, B);
	if ((rc = push(m, m->dh_d, m->dh_h, B * h)))
		return rc;
	TRY(m, wn_core_gemm(c, 1, 0, d, h, B, 1, m->x_in, d, m->dh_d, h, 0, m->grad_d + m->oW1, h));
	if ((rc = pull(m, m->grad_h + m->oW1, m->grad_d + m->oW1, d * h)) ||
	    (rc = pull(m, m->grad_h + m->oW2, m->grad_d + m->oW2, h * C)))
		return rc;
	if ((rc = push(m, m->grad_d + m->ob1, m->grad_h + m->ob1, h)))
		return rc;
	return push(m, m->grad_d + m->ob2, m->grad_h + m->ob2, C);
}

int wn_model_backward(wn_model *m, const int32_t *y, float *loss_out, double *mean_loss)
{
	int64_t B = m->B;
	if (!B)
		return fail(m, WN_CORE_EINVAL, "backward without a forward pass");
	int rc = check_labels(m, y, B);
	if (rc)
		return rc;
	double sum = output_grad(m, y, B, loss_out);
	if (mean_loss)
		*mean_loss = sum / (double)B;
	return backward_from_dz(m, B);
}

int wn_model_backward_counts(wn_model *m, const int64_t *cnt, int64_t B, double *mean_loss)
{
	int64_t C = m->C;
	if (m->B != 1 || m->drop_last)
		return fail(m, WN_CORE_EINVAL, "backward by counts needs a 1-row forward without dropout");
	int64_t tot = 0, neg = 0;
	for (int64_t j = 0; j < C; j++) {
		tot += cnt[j];
		neg |= cnt[j] < 0;
	}
	if (B < 1 || neg || tot != B)
		return fail(m, WN_CORE_EINVAL, "label counts summing to %lld for a batch of %lld",
			    (long long)tot, (long long)B);
	double loss = 0;
	float *gb = m->grad_h + m->ob2;
	for (int64_t j = 0; j < C; j++) {
		double share = (double)cnt[j] / (double)B;
		m->dz_h[j] = gb[j] = (float)((double)m->p_h[j] - share);
		loss += share * row_loss(m, 0, (int32_t)j);
	}
	if (mean_loss)
		*mean_loss = loss;
	return backward_from_dz(m, 1);
}


/* ---- AdamW ---------------------------------------------------------------- */

/* Parameters from which one AdamW step is shared by the threads. */
#define ADAM_PAR_MIN 8192

/* The constants of one step, typed as the update reads them. */
struct adamw_k {
	float b1, b2, c1, c2, wd; /* c1 = 1 - b1, c2 = 1 - b2 (float, as the update rounds them) */
	double bc1, bc2, eps, lr;
	int div1, div2;           /* bc1, bc2 != 1: once 1 - beta^t rounds to 1 (t >= 356 for
				   * 0.9), x / bc is x exactly and the division is skipped */
};

/* AdamW on parameter i: float moments, the update in double, decoupled
 * weight decay when decay is set (weight matrices, not biases). */
static inline void adamw1(wn_model *m, const struct adamw_k *k, int64_t i, int decay)
{
	float g = m->grad_h[i];
	float mi = k->b1 * m->adam_m[i] + k->c1 * g;
	float vi = k->b2 * m->adam_v[i] + k->c2 * g * g;
	m->adam_m[i] = mi;
	m->adam_v[i] = vi;
	double mh = k->div1 ? mi / k->bc1 : mi, vh = k->div2 ? vi / k->bc2 : vi;
	double upd = mh / (sqrt(vh) + k->eps);
	if (decay)
		upd += k->wd * m->par_h[i];
	m->par_h[i] -= (float)(k->lr * upd);
}

#ifdef __SSE2__
/* adamw1 on i..i+3 side by side: SSE2's packed float and double
 * operations (sqrt and division included) round lane by lane exactly as
 * the scalar ones, so the bits are adamw1's. The compiler leaves adamw1
 * scalar: the errno side of sqrt() keeps it from vectorising it. */
static inline void adamw4(wn_model *m, const struct adamw_k *k, int64_t i, int decay)
{
	__m128 g = _mm_loadu_ps(m->grad_h + i), par = _mm_loadu_ps(m->par_h + i);
	__m128 mi = _mm_add_ps(_mm_mul_ps(_mm_set1_ps(k->b1), _mm_loadu_ps(m->adam_m + i)),
			       _mm_mul_ps(_mm_set1_ps(k->c1), g));
	__m128 vi = _mm_add_ps(_mm_mul_ps(_mm_set1_ps(k->b2), _mm_loadu_ps(m->adam_v + i)),
			       _mm_mul_ps(_mm_mul_ps(_mm_set1_ps(k->c2), g), g));
	_mm_storeu_ps(m->adam_m + i, mi);
	_mm_storeu_ps(m->adam_v + i, vi);
	__m128 wp = _mm_mul_ps(_mm_set1_ps(k->wd), par);
	__m128d bc1 = _mm_set1_pd(k->bc1), bc2 = _mm_set1_pd(k->bc2), eps = _mm_set1_pd(k->eps);
	__m128d lr = _mm_set1_pd(k->lr), step[2];
	for (int half = 0; half < 2; half++) {
		__m128d md = _mm_cvtps_pd(half ? _mm_movehl_ps(mi, mi) : mi);
		__m128d vd = _mm_cvtps_pd(half ? _mm_movehl_ps(vi, vi) : vi);
		if (k->div1)
			md = _mm_div_pd(md, bc1);
		if (k->div2)
			vd = _mm_div_pd(vd, bc2);
		__m128d upd = _mm_div_pd(md, _mm_add_pd(_mm_sqrt_pd(vd), eps));
		if (decay)
			upd = _mm_add_pd(upd, _mm_cvtps_pd(half ? _mm_movehl_ps(wp, wp) : wp));
		step[half] = _mm_mul_pd(lr, upd);
	}
	__m128 st = _mm_movelh_ps(_mm_cvtpd_ps(step[0]), _mm_cvtpd_ps(step[1]));
	_mm_storeu_ps(m->par_h + i, _mm_sub_ps(par, st));
}
#endif

#ifdef HAVE_AVX2_PATH
/* adamw4 with the double half in one 256-bit register: AVX's packed
 * division and square root round lane by lane as the scalar ones, and
 * without FMA in the target nothing is contracted, so the bits are
 * adamw1's; it halves the divisions' issue slots, the step's cost. */
__attribute__((target("avx2"))) static inline void adamw4_avx(wn_model *m,
							      const struct adamw_k *k,
							      int64_t i, int decay)
{
	__m128 g = _mm_loadu_ps(m->grad_h + i), par = _mm_loadu_ps(m->par_h + i);
	__m128 mi = _mm_add_ps(_mm_mul_ps(_mm_set1_ps(k->b1), _mm_loadu_ps(m->adam_m + i)),
			       _mm_mul_ps(_mm_set1_ps(k->c1), g));
	__m128 vi = _mm_add_ps(_mm_mul_ps(_mm_set1_ps(k->b2), _mm_loadu_ps(m->adam_v + i)),
			       _mm_mul_ps(_mm_mul_ps(_mm_set1_ps(k->c2), g), g));
	_mm_storeu_ps(m->adam_m + i, mi);
	_mm_storeu_ps(m->adam_v + i, vi);
	__m256d md = _mm256_cvtps_pd(mi), vd = _mm256_cvtps_pd(vi);
	if (k->div1)
		md = _mm256_div_pd(md, _mm256_set1_pd(k->bc1));
	if (k->div2)
		vd = _mm256_div_pd(vd, _mm256_set1_pd(k->bc2));
	__m256d upd = _mm256_div_pd(md, _mm256_add_pd(_mm256_sqrt_pd(vd), _mm256_set1_pd(k->eps)));
	if (decay)
		upd = _mm256_add_pd(upd, _mm256_cvtps_pd(_mm_mul_ps(_mm_set1_ps(k->wd), par)));
	__m128 st = _mm256_cvtpd_ps(_mm256_mul_pd(_mm256_set1_pd(k->lr), upd));
	_mm_storeu_ps(m->par_h + i, _mm_sub_ps(par, st));
}

/* The blocks of adamw_range, on adamw4_avx. */
__attribute__((target("avx2"))) static void adamw_blocks_avx(wn_model *m,
							     const struct adamw_k *k, int64_t lo,
							     int64_t hi, int decay)
{
	int64_t blocks = (hi - lo + 3) / 4;
#pragma omp for schedule(static) nowait
	for (int64_t q = 0; q < blocks; q++) {
		int64_t i = lo + 4 * q;
		if (i + 4 <= hi) {
			adamw4_avx(m, k, i, decay);
			continue;
		}
		for (; i < hi; i++)
			adamw1(m, k, i, decay);
	}
}
#endif

/* adamw1 over [lo, hi) in blocks of 4, the blocks split over the threads
 * of the enclosing region (each element on its own: any split gives the
 * same bits); avx (the CPU has AVX2) takes adamw4_avx's path. */
static void adamw_range(wn_model *m, const struct adamw_k *k, int64_t lo, int64_t hi, int decay,
			int avx)
{
#ifdef HAVE_AVX2_PATH
	if (avx) {
		adamw_blocks_avx(m, k, lo, hi, decay);
		return;
	}
#endif
	(void)avx;
	int64_t blocks = (hi - lo + 3) / 4;
#pragma omp for schedule(static) nowait
	for (int64_t q = 0; q < blocks; q++) {
		int64_t i = lo + 4 * q;
#ifdef __SSE2__
		if (i + 4 <= hi) {
			adamw4(m, k, i, decay);
			continue;
		}
#endif
		for (int64_t e = i + 4 < hi ? i + 4 : hi; i < e; i++)
			adamw1(m, k, i, decay);
	}
}

/* Whether adamw_range may take the AVX2 path (WINNOW_NO_AVX2 set: never,
 * so a test can hold both paths against each other). */
static int adamw_avx(void)
{
#ifdef HAVE_AVX2_PATH
	return __builtin_cpu_supports("avx2") && !getenv("WINNOW_NO_AVX2");
#else
	return 0;
#endif
}

int wn_model_adamw_step(wn_model *m, const wn_train_opts *o)
{
	m->step++;
	struct adamw_k k = {o->beta1, o->beta2, 1 - o->beta1, 1 - o->beta2, o->weight_decay,
			    1.0 - pow(o->beta1, (double)m->step), 1.0 - pow(o->beta2, (double)m->step),
			    o->eps, o->lr, 0, 0};
	k.div1 = k.bc1 != 1.0;
	k.div2 = k.bc2 != 1.0;
	int avx = adamw_avx();
#pragma omp parallel num_threads(m->threads) if (m->P >= ADAM_PAR_MIN)
	{
		if (m->h) {
			adamw_range(m, &k, m->oW1, m->ob1, 1, avx);
			adamw_range(m, &k, m->ob1, m->oW2, 0, avx);
		}
		adamw_range(m, &k, m->oW2, m->ob2, 1, avx);
		adamw_range(m, &k, m->ob2, m->P, 0, avx);
	}
	return push(m, m->par_d, m->par_h, m->P);
}

/* ---- training loop ----------------------------------------------------------- */

/* The forward and backward pass of one mini-batch: the examples rows[0..B),
 * their mean loss in *loss. */
typedef int (*batch_grad_fn)(wn_model *m, void *ctx, const int64_t *rows, int64_t B,
			     double *loss);

static int64_t train_batch_size(const wn_model *m, const wn_train_opts *o)
{
	int64_t bs = o->batch > 0 ? o->batch : 128;
	return bs > m->max_b ? m->max_b : bs;
}

/* The shuffled mini-batch epochs every trainer shares: the checks, one
 * permutation an epoch, grad then an AdamW step per batch, the epoch's
 * mean loss. */
static int train_epochs(wn_model *m, const int32_t *y, int64_t n, const wn_train_opts *o,
			double *epoch_loss, batch_grad_fn grad, void *ctx)
{
	int64_t bs = train_batch_size(m, o);
	if (n <= 0)
		return fail(m, WN_CORE_EINVAL, "training on %lld examples", (long long)n);
	int rc = check_labels(m, y, n);
	if (rc)
		return rc;
	int64_t *perm = malloc((size_t)n * sizeof *perm);
	if (!perm)
		return fail(m, WN_CORE_ENOMEM, "training: out of memory (n %lld)", (long long)n);
	for (int e = 0; e < o->epochs && !rc; e++, m->epoch++) {
		wn_sample_permutation(n, o->seed, STREAM_SHUFFLE + (uint64_t)m->epoch, perm);
		double sum = 0;
		for (int64_t s = 0; s < n && !rc; s += bs) {
			int64_t B = n - s < bs ? n - s : bs;
			double l = 0;
			rc = grad(m, ctx, perm + s, B, &l);
			if (!rc)
				rc = wn_model_adamw_step(m, o);
			sum += l * (double)B;
		}
		if (epoch_loss && !rc)
			epoch_loss[e] = sum / (double)n;
	}
	free(perm);
	return rc;
}

/* wn_model_train's step: the batch's rows gathered into xb, yb */
struct rows_batch {
	const float *X;
	const int32_t *y;
	float *xb;
	int32_t *yb;
};

static int rows_batch_grad(wn_model *m, void *ctx, const int64_t *rows, int64_t B, double *loss)
{
	struct rows_batch *c = ctx;
	for (int64_t b = 0; b < B; b++) {
		memcpy(c->xb + b * m->d, c->X + rows[b] * m->d, (size_t)m->d * sizeof *c->xb);
		c->yb[b] = c->y[rows[b]];
	}
	int rc = wn_model_forward(m, c->xb, B, NULL);
	return rc ? rc : wn_model_backward(m, c->yb, NULL, loss);
}

int wn_model_train(wn_model *m, const float *X, const int32_t *y, int64_t n,
		   const wn_train_opts *o, double *epoch_loss)
{
	int64_t bs = train_batch_size(m, o);
	struct rows_batch c = {X, y, malloc((size_t)(bs * m->d) * sizeof *c.xb),
			       malloc((size_t)bs * sizeof *c.yb)};
	int rc = c.xb && c.yb ? train_epochs(m, y, n, o, epoch_loss, rows_batch_grad, &c)
			      : fail(m, WN_CORE_ENOMEM, "training: out of memory (n %lld)", (long long)n);
	free(c.xb);
	free(c.yb);
	return rc;
}

/* PVI's null model's step: one row x, the batch's label counts */
struct const_batch {
	const float *x;
	const int32_t *y;
	int64_t *cnt;
};

static int const_batch_grad(wn_model *m, void *ctx, const int64_t *rows, int64_t B, double *loss)
{
	struct const_batch *c = ctx;
	memset(c->cnt, 0, (size_t)m->C * sizeof *c->cnt);
	for (int64_t b = 0; b < B; b++)
		c->cnt[c->y[rows[b]]]++;
	int rc = wn_model_forward(m, c->x, 1, NULL);
	return rc ? rc : wn_model_backward_counts(m, c->cnt, B, loss);
}

int wn_model_train_constant(wn_model *m, const float *x, const int32_t *y, int64_t n,
			    const wn_train_opts *o, double *epoch_loss)
{
	struct const_batch c = {x, y, malloc((size_t)m->C * sizeof *c.cnt)};
	int rc = c.cnt ? train_epochs(m, y, n, o, epoch_loss, const_batch_grad, &c)
		       : fail(m, WN_CORE_ENOMEM, "training: out of memory (n %lld)", (long long)n);
	free(c.cnt);
	return rc;
}

/* ---- per-example quantities ------------------------------------------------------ */

/* The per-example quantities of the last forward (B rows of X), each row
 * on its own (rows split over threads for an evaluation block). */
static int scores_last(wn_model *m, const float *X, const int32_t *y, int64_t B, float *loss,
		       float *el2n, float *grand, float *err)
{
	int64_t C = m->C, w = m->h ? m->h : m->d;
	int rc = 0;
	if (grand && m->h && (rc = pull(m, m->h_h, m->h_d, B * m->h)))
		return rc;
	const float *H = m->h ? m->h_h : X;
#pragma omp parallel for num_threads(m->threads) schedule(static) if (B * C >= HOST_PAR_MIN)
	for (int64_t b = 0; b < B; b++) {
		const float *p = m->p_h + b * C;
		double e2 = 0;
		for (int64_t j = 0; j < C; j++) {
			double e = (double)p[j] - (j == y[b] ? 1.0 : 0.0);
			e2 += e * e;
			if (err)
				err[b * C + j] = (float)e;
		}
		if (loss)
			loss[b] = (float)row_loss(m, b, y[b]);
		if (el2n)
			el2n[b] = (float)sqrt(e2);
		if (grand) {
			double h2 = 0;
			for (int64_t j = 0; j < w; j++)
				h2 += (double)H[b * w + j] * H[b * w + j];
			grand[b] = (float)sqrt(e2 * (h2 + 1.0));
		}
	}
	return 0;
}

static int scores_batch(wn_model *m, const float *X, const int32_t *y, int64_t B, float *loss,
			float *el2n, float *grand, float *err, float *probs)
{
	int rc = wn_model_forward(m, X, B, probs);
	return rc ? rc : scores_last(m, X, y, B, loss, el2n, grand, err);
}

int wn_model_scores(wn_model *m, const float *X, const int32_t *y, int64_t n, float *loss,
		    float *el2n, float *grand, float *err, float *probs)
{
	int rc = check_labels(m, y, n);
	int64_t C = m->C;
	for (int64_t s = 0; s < n && !rc; s += m->max_b) {
		int64_t B = n - s < m->max_b ? n - s : m->max_b;
		rc = scores_batch(m, X + s * m->d, y + s, B, loss ? loss + s : NULL,
				  el2n ? el2n + s : NULL, grand ? grand + s : NULL,
				  err ? err + s * C : NULL, probs ? probs + s * C : NULL);
	}
	return rc;
}

/* The hidden layer's pre-activations pre = X W1 + b1 alone (what the
 * input gradient reads), with the arithmetic of the forward pass. */
static int forward_pre(wn_model *m, const float *X, int64_t B)
{
	int64_t h = m->h;
	int rc = set_input(m, X, B);
	if (rc)
		return rc;
	TRY(m, wn_core_gemm(m->c, 0, 0, B, h, m->d, 1, m->x_in, m->d, m->par_d + m->oW1, h, 0,
			    m->pre_d, h));
	if (!m->on_host) {
		TRY(m, wn_core_add_bias(m->c, m->pre_d, m->par_d + m->ob1, B, h));
		return pull(m, m->pre_h, m->pre_d, B * h);
	}
	const float *b1 = m->par_h + m->ob1;
#pragma omp parallel for num_threads(m->threads) schedule(static) if (B * h >= HOST_PAR_MIN)
	for (int64_t b = 0; b < B; b++)
		for (int64_t j = 0; j < h; j++)
			m->pre_h[b * h + j] += b1[j];
	return 0;
}

/*
 * d z_y / d x = G W1^T with G = W2[:, y] (.) act'(pre) for the MLP, and
 * G = onehot(y) with W in place of W1 for the linear model. Neither needs
 * the logits: the MLP runs its first layer only, the linear model no
 * forward at all. On the CPU the product lands in out directly.
 */
static int input_grad_batch(wn_model *m, const float *X, const float *pre, const int32_t *y,
			    int64_t B, float *out)
{
	int64_t C = m->C, d = m->d, h = m->h;
	float *dst = m->on_host ? out : m->dh_d;
	int rc = 0;
	m->B = 0; /* the buffers hold G, not a forward's activations: no backward from here */
	if (!h) {
		memset(m->dz_h, 0, (size_t)(B * C) * sizeof(float));
		for (int64_t b = 0; b < B; b++)
			m->dz_h[b * C + y[b]] = 1.0f;
		if ((rc = push(m, m->dz_d, m->dz_h, B * C)))
			return rc;
		TRY(m, wn_core_gemm(m->c, 0, 1, B, d, C, 1, m->dz_d, C, m->par_d + m->oW2, C, 0,
				    dst, d));
	} else {
		if (pre)
			memcpy(m->pre_h, pre, (size_t)(B * h) * sizeof(float));
		else if ((rc = forward_pre(m, X, B)))
			return rc;
		const float *W2 = m->par_h + m->oW2;
#pragma omp parallel for num_threads(m->threads) schedule(static) if (B * h >= HOST_PAR_MIN)
		for (int64_t b = 0; b < B; b++)
			for (int64_t j = 0; j < h; j++)
				m->h_h[b * h + j] = W2[j * C + y[b]] * act_grad_of(m, m->pre_h[b * h + j]);
		if ((rc = push(m, m->h_d, m->h_h, B * h)))
			return rc;
		TRY(m, wn_core_gemm(m->c, 0, 1, B, d, h, 1, m->h_d, h, m->par_d + m->oW1, h, 0,
				    dst, d));
	}
	return pull(m, out, dst, B * d);
}

int wn_model_input_grad(wn_model *m, const float *X, const int32_t *y, int64_t n, float *out)
{
	int rc = check_labels(m, y, n);
	for (int64_t s = 0; s < n && !rc; s += m->max_b) {
		int64_t B = n - s < m->max_b ? n - s : m->max_b;
		rc = input_grad_batch(m, X + s * m->d, NULL, y + s, B, out + s * m->d);
	}
	return rc;
}

int wn_model_input_grad_pre(wn_model *m, const float *pre, const int32_t *y, int64_t n,
			    float *out)
{
	if (!m->h)
		return fail(m, WN_CORE_EINVAL, "input gradient from pre-activations: the linear model has none");
	int rc = check_labels(m, y, n);
	for (int64_t s = 0; s < n && !rc; s += m->max_b) {
		int64_t B = n - s < m->max_b ? n - s : m->max_b;
		rc = input_grad_batch(m, NULL, pre + s * m->h, y + s, B, out + s * m->d);
	}
	return rc;
}

int wn_model_hidden_pre(wn_model *m, float *out)
{
	if (!m->B || !m->h)
		return fail(m, WN_CORE_EINVAL, "pre-activations without an MLP forward pass");
	int rc = pull(m, m->pre_h, m->pre_d, m->B * m->h);
	if (!rc)
		memcpy(out, m->pre_h, (size_t)(m->B * m->h) * sizeof(float));
	return rc;
}

/* ---- issue 18: TracIn self-influence ----------------------------------------- */

static double row_norm2(const float *x, int64_t d)
{
	double s = 0;
	for (int64_t j = 0; j < d; j++)
		s += (double)x[j] * x[j];
	return s;
}

void wn_model_row_sqnorms(const float *X, int64_t n, int64_t d, int threads, double *out)
{
#pragma omp parallel for num_threads(threads > 0 ? threads : 1) schedule(static) \
	if (n * d >= HOST_PAR_MIN)
	for (int64_t i = 0; i < n; i++)
		out[i] = row_norm2(X + i * d, d);
}

/* TracIn's squared hidden-layer gradient from the last forward; xsq
 * (optional) holds the rows' ||x||^2 (wn_model_row_sqnorms). */
static int hidden_grad_last(wn_model *m, const float *X, const int32_t *y, int64_t B,
			    const double *xsq, float *out)
{
	int64_t C = m->C, h = m->h, d = m->d;
	int rc = 0;
#pragma omp parallel for num_threads(m->threads) schedule(static) if (B * C >= HOST_PAR_MIN)
	for (int64_t b = 0; b < B; b++)
		for (int64_t j = 0; j < C; j++)
			m->dz_h[b * C + j] = m->p_h[b * C + j] - (j == y[b] ? 1.0f : 0.0f);
	if (!h) {
#pragma omp parallel for num_threads(m->threads) schedule(static) if (B * d >= HOST_PAR_MIN)
		for (int64_t b = 0; b < B; b++)
			out[b] = (float)(row_norm2(m->dz_h + b * C, C) *
					 ((xsq ? xsq[b] : row_norm2(X + b * d, d)) + 1));
		return 0;
	}
	if ((rc = push(m, m->dz_d, m->dz_h, B * C)))
		return rc;
	TRY(m, wn_core_gemm(m->c, 0, 1, B, h, C, 1, m->dz_d, C, m->par_d + m->oW2, C, 0, m->dh_d, h));
	if ((rc = pull(m, m->dh_h, m->dh_d, B * h)) || (rc = pull(m, m->pre_h, m->pre_d, B * h)))
		return rc;
#pragma omp parallel for num_threads(m->threads) schedule(static) if (B * h >= HOST_PAR_MIN)
	for (int64_t b = 0; b < B; b++) {
		double s = 0;
		for (int64_t j = 0; j < h; j++) {
			double g = (double)m->dh_h[b * h + j] * act_grad_of(m, m->pre_h[b * h + j]);
			s += g * g;
		}
		out[b] = (float)(s * ((xsq ? xsq[b] : row_norm2(X + b * d, d)) + 1));
	}
	return 0;
}

static int hidden_grad_batch(wn_model *m, const float *X, const int32_t *y, int64_t B, float *out)
{
	int rc = wn_model_forward(m, X, B, NULL);
	return rc ? rc : hidden_grad_last(m, X, y, B, NULL, out);
}

int wn_model_hidden_grad_sq(wn_model *m, const float *X, const int32_t *y, int64_t n, float *out)
{
	int rc = check_labels(m, y, n);
	for (int64_t s = 0; s < n && !rc; s += m->max_b) {
		int64_t B = n - s < m->max_b ? n - s : m->max_b;
		rc = hidden_grad_batch(m, X + s * m->d, y + s, B, out + s);
	}
	return rc;
}

int wn_model_pass(wn_model *m, const float *X, const int32_t *y, int64_t B, const double *xsq,
		  float *logits, float *loss, float *el2n, float *hidden_grad_sq)
{
	int rc = check_labels(m, y, B);
	if (!rc)
		rc = wn_model_forward(m, X, B, NULL);
	if (!rc && logits)
		memcpy(logits, m->z_h, (size_t)(B * m->C) * sizeof(float));
	if (!rc && (loss || el2n))
		rc = scores_last(m, X, y, B, loss, el2n, NULL, NULL);
	if (!rc && hidden_grad_sq)
		rc = hidden_grad_last(m, X, y, B, xsq, hidden_grad_sq);
	return rc;
}

void wn_model_shape(const wn_model *m, int64_t *d_in, int64_t *hidden, int64_t *n_classes,
		    int *act)
{
	*d_in = m->d;
	*hidden = m->h;
	*n_classes = m->C;
	*act = m->act;
}

/* ---- issue 18: dropout ------------------------------------------------------ */

int wn_model_set_dropout(wn_model *m, float p, uint64_t seed)
{
	if (!(p >= 0 && p < 1))
		return fail(m, WN_CORE_EINVAL, "dropout %g is not in [0, 1)", (double)p);
	if (m->h && p > 0 && !m->mask_h &&
	    !(m->mask_h = malloc((size_t)(m->max_b * m->h) * sizeof *m->mask_h)))
		return fail(m, WN_CORE_ENOMEM, "dropout: out of memory");
	m->drop_p = p;
	m->drop_seed = seed;
	m->drop_calls = 0;
	return 0;
}

void wn_model_dropout_active(wn_model *m, int on)
{
	m->drop_on = on;
}

const float *wn_model_dropout_mask(const wn_model *m)
{
	return m->drop_last ? m->mask_h : NULL;
}
