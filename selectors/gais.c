/*
 * selectors/gais.c — the GAT layer (forward, hand-written backward) and
 * the GAT classifier of GAIS (see selectors/gais.h). Owns the model's
 * parameters, gradients, AdamW moments and per-forward caches; borrows
 * the graphs and inputs passed to each call.
 */
#include "selectors/gais.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"

#define STREAM_GAIS_INIT 0x67616973696e6974ull /* "gaisinit" */

double wn_gais_leaky(double x) { return x > 0 ? x : WN_GAIS_SLOPE * x; }

void wn_gais_softmax(const double *e, int64_t m, double *alpha)
{
	double mx = e[0], s = 0;
	for (int64_t k = 1; k < m; k++)
		mx = e[k] > mx ? e[k] : mx;
	for (int64_t k = 0; k < m; k++)
		s += (alpha[k] = exp(e[k] - mx));
	for (int64_t k = 0; k < m; k++)
		alpha[k] /= s;
}

static int64_t max_degree(const wn_gais_graph *g)
{
	int64_t m = 1;
	for (int64_t i = 0; i < g->n; i++)
		if (g->ptr[i + 1] - g->ptr[i] > m)
			m = g->ptr[i + 1] - g->ptr[i];
	return m;
}

/* P[:, h] = X theta_h. */
static void project(const wn_gat_layer *L, int64_t n, const double *X, int64_t h, double *P)
{
	int64_t HF = L->H * L->F;
	const double *T = L->theta + h * L->din * L->F;
	for (int64_t i = 0; i < n; i++) {
		double *p = P + i * HF + h * L->F;
		memset(p, 0, (size_t)L->F * sizeof *p);
		for (int64_t k = 0; k < L->din; k++) {
			double x = X[i * L->din + k];
			for (int64_t f = 0; f < L->F; f++)
				p[f] += x * T[k * L->F + f];
		}
	}
}

static double dot(const double *a, const double *b, int64_t n)
{
	double s = 0;
	for (int64_t k = 0; k < n; k++)
		s += a[k] * b[k];
	return s;
}

/* Head h of row i: scores, attention, aggregation into out. */
static void attend_row(const wn_gat_layer *L, const wn_gais_graph *g, int64_t i, int64_t h,
		       const double *P, const double *s, const double *t, double *u,
		       double *alpha, double *e, double *out)
{
	int64_t H = L->H, F = L->F, HF = H * F, b = g->ptr[i], m = g->ptr[i + 1] - b;
	for (int64_t k = 0; k < m; k++) {
		u[(b + k) * H + h] = s[i] + t[g->src[b + k]];
		e[k] = wn_gais_leaky(u[(b + k) * H + h]);
	}
	wn_gais_softmax(e, m, e);
	int64_t od = L->concat ? HF : F;
	double *o = out + i * od + (L->concat ? h * F : 0);
	double w = L->concat ? 1.0 : 1.0 / (double)H;
	for (int64_t k = 0; k < m; k++) {
		alpha[(b + k) * H + h] = e[k];
		const double *pj = P + g->src[b + k] * HF + h * F;
		for (int64_t f = 0; f < F; f++)
			o[f] += w * e[k] * pj[f];
	}
}

int wn_gat_forward(const wn_gat_layer *L, const wn_gais_graph *g, const double *X, double *P,
		   double *u, double *alpha, double *out)
{
	int64_t n = g->n, F = L->F, HF = L->H * F;
	double *s = malloc((size_t)(2 * n + max_degree(g)) * sizeof *s);
	if (!s)
		return -1;
	double *t = s + n, *e = t + n;
	memset(out, 0, (size_t)(n * (L->concat ? HF : F)) * sizeof *out);
	for (int64_t h = 0; h < L->H; h++) {
		project(L, n, X, h, P);
		const double *a = L->a + h * 2 * F;
		for (int64_t i = 0; i < n; i++) {
			s[i] = dot(a, P + i * HF + h * F, F);
			t[i] = dot(a + F, P + i * HF + h * F, F);
		}
		for (int64_t i = 0; i < n; i++)
			attend_row(L, g, i, h, P, s, t, u, alpha, e, out);
	}
	free(s);
	return 0;
}

/* Head h: dP (n x F for this head), ds, dt from dout through attention. */
static void attend_back(const wn_gat_layer *L, const wn_gais_graph *g, int64_t h, const double *P,
			const double *u, const double *alpha, const double *dout, double *dP,
			double *ds, double *dt, double *da_row)
{
	int64_t H = L->H, F = L->F, HF = H * F, od = L->concat ? HF : F;
	double w = L->concat ? 1.0 : 1.0 / (double)H;
	for (int64_t i = 0; i < g->n; i++) {
		const double *dO = dout + i * od + (L->concat ? h * F : 0);
		int64_t b = g->ptr[i], m = g->ptr[i + 1] - b;
		double sum = 0;
		for (int64_t k = 0; k < m; k++) {
			int64_t j = g->src[b + k];
			double al = alpha[(b + k) * H + h];
			da_row[k] = w * dot(dO, P + j * HF + h * F, F);
			sum += al * da_row[k];
			for (int64_t f = 0; f < F; f++)
				dP[j * F + f] += w * al * dO[f];
		}
		for (int64_t k = 0; k < m; k++) {
			double al = alpha[(b + k) * H + h];
			double du = al * (da_row[k] - sum) * (u[(b + k) * H + h] > 0 ? 1.0 : WN_GAIS_SLOPE);
			ds[i] += du;
			dt[g->src[b + k]] += du;
		}
	}
}

/* Head h: from dP (after the score terms) to dtheta_h, da_h and dX. */
static void head_back(const wn_gat_layer *L, int64_t n, int64_t h, const double *X,
		      const double *P, double *dP, const double *ds, const double *dt,
		      double *dtheta, double *da, double *dX)
{
	int64_t F = L->F, HF = L->H * F, din = L->din;
	const double *a = L->a + h * 2 * F, *T = L->theta + h * din * F;
	double *dA = da + h * 2 * F, *dT = dtheta + h * din * F;
	for (int64_t i = 0; i < n; i++) {
		const double *p = P + i * HF + h * F;
		for (int64_t f = 0; f < F; f++) {
			dA[f] += ds[i] * p[f];
			dA[F + f] += dt[i] * p[f];
			dP[i * F + f] += ds[i] * a[f] + dt[i] * a[F + f];
		}
		for (int64_t k = 0; k < din; k++) {
			double x = X[i * din + k], acc = 0;
			for (int64_t f = 0; f < F; f++) {
				dT[k * F + f] += x * dP[i * F + f];
				acc += dP[i * F + f] * T[k * F + f];
			}
			if (dX)
				dX[i * din + k] += acc;
		}
	}
}

int wn_gat_backward(const wn_gat_layer *L, const wn_gais_graph *g, const double *X,
		    const double *P, const double *u, const double *alpha, const double *dout,
		    double *dtheta, double *da, double *dX)
{
	int64_t n = g->n, F = L->F;
	double *dP = malloc((size_t)(n * F + 2 * n + max_degree(g)) * sizeof *dP);
	if (!dP)
		return -1;
	double *ds = dP + n * F, *dt = ds + n, *row = dt + n;
	if (dX)
		memset(dX, 0, (size_t)(n * L->din) * sizeof *dX);
	for (int64_t h = 0; h < L->H; h++) {
		memset(dP, 0, (size_t)(n * F + 2 * n) * sizeof *dP);
		attend_back(L, g, h, P, u, alpha, dout, dP, ds, dt, row);
		head_back(L, n, h, X, P, dP, ds, dt, dtheta, da, dX);
	}
	free(dP);
	return 0;
}

/* ---- the classifier ---- */

#define WN_GAIS_MAX_LAYERS 8

struct wn_gais_model {
	int nl;
	int64_t C, np;
	wn_gat_layer L[WN_GAIS_MAX_LAYERS];
	int64_t off_t[WN_GAIS_MAX_LAYERS], off_a[WN_GAIS_MAX_LAYERS];
	double *par, *grad, *m1, *m2;
	/* caches of the last forward, sized for cap_n rows, cap_e edges */
	int64_t cap_n, cap_e;
	const double *X;
	double *P[WN_GAIS_MAX_LAYERS], *u[WN_GAIS_MAX_LAYERS], *al[WN_GAIS_MAX_LAYERS];
	double *pre[WN_GAIS_MAX_LAYERS], *act[WN_GAIS_MAX_LAYERS]; /* act[l]: input of layer l+1 */
	double *logits;
};

static void free_caches(wn_gais_model *m)
{
	for (int l = 0; l < m->nl; l++) {
		free(m->P[l]), free(m->u[l]), free(m->al[l]), free(m->pre[l]), free(m->act[l]);
		m->P[l] = m->u[l] = m->al[l] = m->pre[l] = m->act[l] = NULL;
	}
	m->cap_n = m->cap_e = 0;
}

void wn_gais_model_free(wn_gais_model *m)
{
	if (!m)
		return;
	free_caches(m);
	free(m->par), free(m->grad), free(m->m1), free(m->m2);
	free(m);
}

static void init_params(wn_gais_model *m, uint64_t seed)
{
	for (int l = 0; l < m->nl; l++) {
		wn_gat_layer *L = &m->L[l];
		int64_t nt = L->H * L->din * L->F, na = L->H * 2 * L->F;
		double st = sqrt(2.0 / (double)(L->din + L->F)), sa = sqrt(2.0 / (double)(2 * L->F + 1));
		for (int64_t k = 0; k < nt; k++)
			m->par[m->off_t[l] + k] = st * wn_rng_normal(seed, STREAM_GAIS_INIT + 2 * (uint64_t)l, (uint64_t)k);
		for (int64_t k = 0; k < na; k++)
			m->par[m->off_a[l] + k] = sa * wn_rng_normal(seed, STREAM_GAIS_INIT + 2 * (uint64_t)l + 1, (uint64_t)k);
	}
}

wn_gais_model *wn_gais_model_new(int64_t din, int64_t hidden, int64_t heads, int layers,
				 int64_t C, uint64_t seed)
{
	if (layers < 1 || layers > WN_GAIS_MAX_LAYERS || heads < 1 ||
	    (layers > 1 && (hidden < heads || hidden % heads)))
		return NULL;
	wn_gais_model *m = calloc(1, sizeof *m);
	if (!m)
		return NULL;
	m->nl = layers;
	m->C = C;
	for (int l = 0; l < layers; l++) {
		int last = l == layers - 1;
		m->L[l] = (wn_gat_layer){l ? hidden : din, heads, last ? C : hidden / heads, !last, NULL, NULL};
		m->off_t[l] = m->np;
		m->np += heads * m->L[l].din * m->L[l].F;
		m->off_a[l] = m->np;
		m->np += heads * 2 * m->L[l].F;
	}
	m->par = calloc((size_t)m->np, sizeof *m->par);
	m->grad = calloc((size_t)m->np, sizeof *m->grad);
	m->m1 = calloc((size_t)m->np, sizeof *m->m1);
	m->m2 = calloc((size_t)m->np, sizeof *m->m2);
	if (!m->par || !m->grad || !m->m1 || !m->m2) {
		wn_gais_model_free(m);
		return NULL;
	}
	for (int l = 0; l < layers; l++) {
		m->L[l].theta = m->par + m->off_t[l];
		m->L[l].a = m->par + m->off_a[l];
	}
	init_params(m, seed);
	return m;
}

int64_t wn_gais_model_num_params(const wn_gais_model *m) { return m->np; }
double *wn_gais_model_params(wn_gais_model *m) { return m->par; }
double *wn_gais_model_grads(wn_gais_model *m) { return m->grad; }

static int out_dim(const wn_gat_layer *L) { return (int)(L->concat ? L->H * L->F : L->F); }

static int reserve(wn_gais_model *m, int64_t n, int64_t ne)
{
	if (n <= m->cap_n && ne <= m->cap_e)
		return 0;
	free_caches(m);
	for (int l = 0; l < m->nl; l++) {
		const wn_gat_layer *L = &m->L[l];
		m->P[l] = malloc((size_t)(n * L->H * L->F) * sizeof(double));
		m->u[l] = malloc((size_t)(ne * L->H) * sizeof(double));
		m->al[l] = malloc((size_t)(ne * L->H) * sizeof(double));
		m->pre[l] = malloc((size_t)(n * out_dim(L)) * sizeof(double));
		m->act[l] = malloc((size_t)(n * out_dim(L)) * sizeof(double));
		if (!m->P[l] || !m->u[l] || !m->al[l] || !m->pre[l] || !m->act[l]) {
			free_caches(m);
			return -1;
		}
	}
	m->cap_n = n;
	m->cap_e = ne;
	return 0;
}

int wn_gais_model_forward(wn_gais_model *m, const wn_gais_graph *g, const double *X, double *logits)
{
	int64_t n = g->n;
	if (reserve(m, n, g->ptr[n]))
		return -1;
	m->X = X;
	const double *in = X;
	for (int l = 0; l < m->nl; l++) {
		const wn_gat_layer *L = &m->L[l];
		if (wn_gat_forward(L, g, in, m->P[l], m->u[l], m->al[l], m->pre[l]))
			return -1;
		int64_t od = n * out_dim(L);
		for (int64_t k = 0; k < od; k++) /* ELU between layers; the logits as they are */
			m->act[l][k] = L->concat && m->pre[l][k] <= 0 ? expm1(m->pre[l][k]) : m->pre[l][k];
		in = m->act[l];
	}
	if (logits)
		memcpy(logits, m->act[m->nl - 1], (size_t)(n * m->C) * sizeof *logits);
	return 0;
}

/* dlogits of the mean masked cross-entropy into d (n x C). */
static double ce_grad(const double *z, const int32_t *y, const unsigned char *mask, int64_t n,
		      int64_t C, double *d)
{
	int64_t cnt = 0;
	double loss = 0;
	for (int64_t i = 0; i < n; i++)
		cnt += !mask || mask[i];
	for (int64_t i = 0; i < n; i++) {
		double *di = d + i * C;
		if (mask && !mask[i]) {
			memset(di, 0, (size_t)C * sizeof *di);
			continue;
		}
		wn_gais_softmax(z + i * C, C, di);
		loss -= log(di[y[i]] > 1e-300 ? di[y[i]] : 1e-300);
		di[y[i]] -= 1;
		for (int64_t c = 0; c < C; c++)
			di[c] /= (double)cnt;
	}
	return cnt ? loss / (double)cnt : 0;
}

int wn_gais_model_backward(wn_gais_model *m, const wn_gais_graph *g, const int32_t *y,
			   const unsigned char *mask, double *loss)
{
	int64_t n = g->n, wmax = m->C;
	for (int l = 0; l < m->nl; l++)
		wmax = out_dim(&m->L[l]) > wmax ? out_dim(&m->L[l]) : wmax;
	wmax = wmax > m->L[0].din ? wmax : m->L[0].din;
	double *d = malloc((size_t)(2 * n * wmax) * sizeof *d);
	if (!d)
		return -1;
	double *dn = d + n * wmax;
	double l0 = ce_grad(m->act[m->nl - 1], y, mask, n, m->C, d);
	if (loss)
		*loss = l0;
	memset(m->grad, 0, (size_t)m->np * sizeof *m->grad);
	int rc = 0;
	for (int l = m->nl - 1; l >= 0 && !rc; l--) {
		const wn_gat_layer *L = &m->L[l];
		if (L->concat) /* through ELU */
			for (int64_t k = 0; k < n * out_dim(L); k++)
				d[k] *= m->pre[l][k] > 0 ? 1.0 : m->act[l][k] + 1.0;
		rc = wn_gat_backward(L, g, l ? m->act[l - 1] : m->X, m->P[l], m->u[l], m->al[l], d,
				     m->grad + m->off_t[l], m->grad + m->off_a[l], l ? dn : NULL);
		double *t = d;
		d = dn, dn = t;
	}
	free(d < dn ? d : dn);
	return rc;
}

void wn_gais_model_adamw(wn_gais_model *m, double lr, double wd, int64_t t)
{
	const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
	double c1 = 1 - pow(b1, (double)t), c2 = 1 - pow(b2, (double)t);
	for (int l = 0; l < m->nl; l++) {
		int64_t nt = m->L[l].H * m->L[l].din * m->L[l].F;
		for (int64_t k = m->off_t[l]; k < m->off_t[l] + nt; k++)
			m->par[k] -= lr * wd * m->par[k];
	}
	for (int64_t k = 0; k < m->np; k++) {
		m->m1[k] = b1 * m->m1[k] + (1 - b1) * m->grad[k];
		m->m2[k] = b2 * m->m2[k] + (1 - b2) * m->grad[k] * m->grad[k];
		m->par[k] -= lr * (m->m1[k] / c1) / (sqrt(m->m2[k] / c2) + eps);
	}
}

void wn_gais_model_received(const wn_gais_model *m, const wn_gais_graph *g, double *recv)
{
	for (int l = 0; l < m->nl; l++) {
		int64_t H = m->L[l].H;
		for (int64_t i = 0; i < g->n; i++)
			for (int64_t e = g->ptr[i]; e < g->ptr[i + 1]; e++)
				if (g->src[e] != i)
					for (int64_t h = 0; h < H; h++)
						recv[g->src[e]] += m->al[l][e * H + h];
	}
}
