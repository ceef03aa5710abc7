/*
 * embed/bert.c — BERT encoder forward pass on the compute core (see bert.h).
 *
 * Layout of one forward pass over B sequences padded to T tokens (n = B*T
 * rows, hidden H, h heads of width dh = H/h, FFN width I), all on the device:
 *   X   = LayerNorm(word[ids] + type[0] + pos[t])                  n x H
 *   per layer:
 *     QKV = X Wqkv^T + bqkv  (Wq, Wk, Wv stacked at load time)     n x 3H
 *     S   = softmax_masked(Q_bh K_bh^T / sqrt(dh))  per (b, head)  T x T
 *     C   = S V_bh, written into its head's columns                n x H
 *     X   = LayerNorm(C Wo^T + bo + X)
 *     X   = LayerNorm(gelu(X Wi^T + bi) Wo2^T + bo2 + X)
 *   pooled = masked mean of X over real tokens, or row 0 of each sequence,
 *            or (weighted-mean) the mean weighted by position: token t of
 *            L real ones (t = 1..L) weighs 2t/(L(L+1)), as sentence-
 *            transformers' pooling_mode_weightedmean_tokens and RDS+ do
 * Attention is done for a chunk of sequences at a time so the score buffer
 * stays bounded (ATTN_CAP_* floats) however large the batch.
 */
#include "embed/bert.h"
#include "io/errf.h"
#include "io/slurp.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "embed/safetensors.h"

/* floats in the attention score buffer: 64 MiB on the CPU; 1 GiB on a GPU,
 * where fewer, larger batched GEMMs matter more than memory */
#define ATTN_CAP_CPU ((int64_t)16 << 20)
#define ATTN_CAP_GPU ((int64_t)256 << 20)
#define WINDOW_BATCHES 16             /* a sort window is this many batches */
#define MAX_CONFIG (16u << 20)

typedef struct {
	float *wqkv, *bqkv, *wo, *bo, *ln1_g, *ln1_b, *wi, *bi, *wo2, *bo2, *ln2_g, *ln2_b;
} bert_layer;

enum { ACT_GELU, ACT_GELU_TANH, ACT_RELU };

struct wn_embed_bert {
	wn_core *core;
	wn_text_wp *wp;
	int H, L, heads, I, V, P, ntypes, pad_id, act;
	float eps;
	int pooling, normalize, batch, max_len, prec;
	int64_t attn_cap;
	float *word, *pos, *type0, *emb_g, *emb_b;
	bert_layer *layers;
	void **owned; /* every device buffer, for close */
	size_t nowned;
	char fp[33];
	/* workspace, grown on demand */
	int64_t ws_rows, ws_S, ws_B;
	int32_t *ids_dev, *pos_dev, *cls_dev;
	float *mask_dev, *wmask_dev, *X, *QKV, *ctx, *tmp, *inter, *S, *pooled;
	uint64_t tokens, padded;
};

void wn_embed_bert_opts_init(wn_embed_bert_opts *o)
{
	memset(o, 0, sizeof *o);
	o->pooling = WN_EMBED_POOL_AUTO;
	o->normalize = -1;
	o->batch = 32;
	o->precision = -1;
}

/* ---- small files -------------------------------------------------------- */

/* Parse DIR/NAME as JSON. *root = NULL when the file does not exist. */
static int b_json(const char *dir, const char *name, cJSON **root, char *err, size_t errlen)
{
	char path[4096], msg[4352];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	size_t n;
	char *buf = wn_slurp(path, MAX_CONFIG, "larger than 16 MiB", &n, msg, sizeof msg);
	*root = NULL;
	if (!buf && errno == ENOENT)
		return 0;
	if (!buf)
		return wn_errf(err, errlen, "%s", msg), -1;
	*root = cJSON_ParseWithLength(buf, n);
	free(buf);
	if (!cJSON_IsObject(*root) && !cJSON_IsArray(*root)) {
		wn_errf(err, errlen, "%s: not valid JSON", path);
		cJSON_Delete(*root);
		*root = NULL;
		return -1;
	}
	return 0;
}

/* Integer member; dflt when absent (-1 dflt = required). */
static int b_int(const cJSON *o, const char *key, int dflt, int *out, const char *file,
		 char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!v || cJSON_IsNull(v)) {
		if (dflt < 0) {
			wn_errf(err, errlen, "%s: \"%s\" is missing", file, key);
			return -1;
		}
		*out = dflt;
		return 0;
	}
	if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < 0 ||
	    v->valuedouble > 1e9) {
		wn_errf(err, errlen, "%s: \"%s\" is not a non-negative integer", file, key);
		return -1;
	}
	*out = (int)v->valuedouble;
	return 0;
}

static const char *b_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int b_flag(const cJSON *o, const char *key)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, key));
}

/* ---- config.json ---------------------------------------------------------- */

static int b_config(wn_embed_bert *m, const char *dir, char *err, size_t errlen)
{
	cJSON *c;
	if (b_json(dir, "config.json", &c, err, errlen) < 0)
		return -1;
	if (!c) {
		wn_errf(err, errlen, "%s/config.json: no such file", dir);
		return -1;
	}
	const char *f = "config.json";
	int rc = b_int(c, "hidden_size", -1, &m->H, f, err, errlen) ||
		 b_int(c, "num_hidden_layers", -1, &m->L, f, err, errlen) ||
		 b_int(c, "num_attention_heads", -1, &m->heads, f, err, errlen) ||
		 b_int(c, "intermediate_size", -1, &m->I, f, err, errlen) ||
		 b_int(c, "vocab_size", -1, &m->V, f, err, errlen) ||
		 b_int(c, "max_position_embeddings", 512, &m->P, f, err, errlen) ||
		 b_int(c, "type_vocab_size", 2, &m->ntypes, f, err, errlen) ||
		 b_int(c, "pad_token_id", 0, &m->pad_id, f, err, errlen);
	const char *mt = b_str(c, "model_type"), *act = b_str(c, "hidden_act");
	const char *pet = b_str(c, "position_embedding_type");
	const cJSON *eps = cJSON_GetObjectItemCaseSensitive(c, "layer_norm_eps");
	m->eps = cJSON_IsNumber(eps) ? (float)eps->valuedouble : 1e-12f;
	if (!rc && mt && strcmp(mt, "bert") != 0) {
		wn_errf(err, errlen, "config.json: model_type \"%.40s\" is not supported (bert only)", mt);
		rc = -1;
	}
	if (!rc && pet && strcmp(pet, "absolute") != 0) {
		wn_errf(err, errlen, "config.json: position_embedding_type \"%.40s\" is not supported", pet);
		rc = -1;
	}
	if (!rc) {
		if (!act || strcmp(act, "gelu") == 0)
			m->act = ACT_GELU;
		else if (strcmp(act, "gelu_new") == 0 || strcmp(act, "gelu_pytorch_tanh") == 0)
			m->act = ACT_GELU_TANH;
		else if (strcmp(act, "relu") == 0)
			m->act = ACT_RELU;
		else {
			wn_errf(err, errlen, "config.json: hidden_act \"%.40s\" is not supported", act);
			rc = -1;
		}
	}
	if (!rc && (m->H == 0 || m->heads == 0 || m->H % m->heads || m->L == 0 || m->I == 0 ||
		    m->V == 0 || m->P < 2 || m->ntypes == 0 || m->pad_id >= m->V || m->H > (1 << 16) ||
		    m->L > 1024 || m->I > (1 << 18) || m->V > (1 << 24) || m->P > (1 << 20))) {
		wn_errf(err, errlen, "config.json: inconsistent sizes (hidden %d, heads %d, layers %d, "
		      "intermediate %d, vocab %d, positions %d)", m->H, m->heads, m->L, m->I, m->V, m->P);
		rc = -1;
	}
	cJSON_Delete(c);
	return rc ? -1 : 0;
}

/* ---- modules.json, 1_Pooling, sentence_bert_config.json ------------------ */

static int b_pooling_config(wn_embed_bert *m, const char *dir, const char *sub, char *err,
			    size_t errlen)
{
	char name[1024];
	snprintf(name, sizeof name, "%s/config.json", sub);
	cJSON *p;
	if (b_json(dir, name, &p, err, errlen) < 0)
		return -1;
	if (!p) {
		wn_errf(err, errlen, "%s/%s: no such file (modules.json lists a Pooling module)", dir, name);
		return -1;
	}
	int dim, rc = b_int(p, "word_embedding_dimension", m->H, &dim, name, err, errlen);
	static const char *const other[] = {"pooling_mode_max_tokens", "pooling_mode_mean_sqrt_len_tokens",
					    "pooling_mode_lasttoken"};
	int mean = b_flag(p, "pooling_mode_mean_tokens"), cls = b_flag(p, "pooling_mode_cls_token");
	int wmean = b_flag(p, "pooling_mode_weightedmean_tokens");
	for (size_t i = 0; !rc && i < sizeof other / sizeof *other; i++)
		if (b_flag(p, other[i])) {
			wn_errf(err, errlen, "%s: %s is not supported (mean, weighted mean or CLS pooling only)",
				name, other[i]);
			rc = -1;
		}
	if (!rc && mean + cls + wmean != 1) {
		wn_errf(err, errlen, "%s: exactly one of pooling_mode_mean_tokens, "
		      "pooling_mode_weightedmean_tokens and pooling_mode_cls_token must be true", name);
		rc = -1;
	}
	if (!rc && dim != m->H) {
		wn_errf(err, errlen, "%s: word_embedding_dimension %d but hidden_size is %d", name, dim, m->H);
		rc = -1;
	}
	cJSON_Delete(p);
	if (!rc)
		m->pooling = cls ? WN_EMBED_POOL_CLS : wmean ? WN_EMBED_POOL_WEIGHTED : WN_EMBED_POOL_MEAN;
	return rc ? -1 : 0;
}

/* Pooling and Normalize from modules.json (mean, no normalisation without one). */
static int b_modules(wn_embed_bert *m, const char *dir, char *err, size_t errlen)
{
	cJSON *mods;
	m->pooling = WN_EMBED_POOL_MEAN;
	m->normalize = 0;
	if (b_json(dir, "modules.json", &mods, err, errlen) < 0)
		return -1;
	if (!mods)
		return 0;
	int rc = 0;
	if (!cJSON_IsArray(mods)) {
		wn_errf(err, errlen, "modules.json: not an array");
		rc = -1;
	}
	for (const cJSON *e = cJSON_IsArray(mods) ? mods->child : NULL; e && !rc; e = e->next) {
		const char *type = b_str(e, "type"), *path = b_str(e, "path");
		const char *dot = type ? strrchr(type, '.') : NULL;
		const char *base = dot ? dot + 1 : type ? type : "";
		if (strcmp(base, "Transformer") == 0)
			continue;
		if (strcmp(base, "Normalize") == 0)
			m->normalize = 1;
		else if (strcmp(base, "Pooling") == 0)
			rc = b_pooling_config(m, dir, path && *path ? path : "1_Pooling", err, errlen);
		else {
			wn_errf(err, errlen, "modules.json: module \"%.60s\" is not supported", type ? type : "?");
			rc = -1;
		}
	}
	cJSON_Delete(mods);
	return rc;
}

/* max_seq_length and do_lower_case; max_len falls back to the model limits. */
static int b_sbert_config(wn_embed_bert *m, const char *dir, int want_len, char *err, size_t errlen)
{
	cJSON *s, *t;
	if (b_json(dir, "sentence_bert_config.json", &s, err, errlen) < 0)
		return -1;
	int len = 0, rc = b_int(s, "max_seq_length", 0, &len, "sentence_bert_config.json", err, errlen);
	if (!rc && b_flag(s, "do_lower_case"))
		wn_text_wp_set_pre_lowercase(m->wp, 1);
	cJSON_Delete(s);
	if (rc)
		return -1;
	if (!len && b_json(dir, "tokenizer_config.json", &t, err, errlen) == 0) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(t, "model_max_length");
		if (cJSON_IsNumber(v) && v->valuedouble >= 2 && v->valuedouble <= m->P)
			len = (int)v->valuedouble;
		cJSON_Delete(t);
	}
	if (want_len > m->P) {
		wn_errf(err, errlen, "max length %d exceeds the model's %d positions", want_len, m->P);
		return -1;
	}
	if (want_len > 0)
		len = want_len;
	if (!len || len > m->P)
		len = m->P;
	wn_text_wp_set_max_len(m->wp, len);
	m->max_len = wn_text_wp_max_len(m->wp); /* at least specials + 1 */
	if (m->max_len > m->P) {
		wn_errf(err, errlen, "max length %d exceeds the model's %d positions", m->max_len, m->P);
		return -1;
	}
	return 0;
}

/* ---- weights -------------------------------------------------------------- */

static float *b_alloc(wn_embed_bert *m, size_t count)
{
	void **o = realloc(m->owned, (m->nowned + 1) * sizeof *o);
	if (!o)
		return NULL;
	m->owned = o;
	float *p = wn_core_alloc(m->core, count ? count : 1);
	if (p)
		m->owned[m->nowned++] = p;
	return p;
}

typedef struct {
	wn_embed_bert *m;
	const wn_embed_st *st;
	const char *prefix; /* "" or "bert." */
	char *err;
	size_t errlen;
} b_loader;

/* Find prefix+name (or the pre-2019 gamma/beta spelling of LayerNorm). */
static const wn_embed_st_tensor *b_find(const b_loader *ld, const char *name, char *full, size_t fl)
{
	snprintf(full, fl, "%s%s", ld->prefix, name);
	const wn_embed_st_tensor *t = wn_embed_st_find(ld->st, full);
	const char *ln = strstr(name, "LayerNorm.");
	if (!t && ln) {
		char alt[512];
		const char *suffix = strcmp(ln + 10, "weight") == 0 ? "gamma" : "beta";
		snprintf(alt, sizeof alt, "%s%.*sLayerNorm.%s", ld->prefix, (int)(ln - name), name, suffix);
		t = wn_embed_st_find(ld->st, alt);
	}
	return t;
}

/* Find `name` and check it has shape [d0] (d1 == 0) or [d0, d1]. */
static const wn_embed_st_tensor *b_check(const b_loader *ld, const char *name, int64_t d0,
					 int64_t d1, char *full, size_t fl)
{
	const wn_embed_st_tensor *t = b_find(ld, name, full, fl);
	if (!t) {
		wn_errf(ld->err, ld->errlen, "model.safetensors: tensor \"%s\" is missing", full);
		return NULL;
	}
	int nd = d1 ? 2 : 1;
	if (t->ndim != nd || t->shape[0] != d0 || (nd == 2 && t->shape[1] != d1)) {
		char got[128] = "";
		for (int i = 0; i < t->ndim && i < 4; i++)
			snprintf(got + strlen(got), sizeof got - strlen(got), "%s%lld", i ? ", " : "",
				 (long long)t->shape[i]);
		wn_errf(ld->err, ld->errlen, "model.safetensors: tensor \"%s\" has shape [%s] but "
		      "config.json implies [%lld%s%.0lld]", full, got, (long long)d0, d1 ? ", " : "",
		      (long long)d1);
		return NULL;
	}
	return t;
}

/* Load tensor `name` (shape checked) into dst on the device. */
static int b_load(const b_loader *ld, const char *name, int64_t d0, int64_t d1, float *dst)
{
	char full[512];
	const wn_embed_st_tensor *t = b_check(ld, name, d0, d1, full, sizeof full);
	if (!t)
		return -1;
	float *host = malloc(t->count * sizeof *host + 1);
	if (!host) {
		wn_errf(ld->err, ld->errlen, "out of memory loading \"%s\"", full);
		return -1;
	}
	int rc = wn_embed_st_to_f32(t, host, ld->err, ld->errlen);
	if (!rc && wn_core_upload(ld->m->core, dst, host, t->count * sizeof *host) != 0) {
		wn_errf(ld->err, ld->errlen, "uploading \"%s\": %s", full, wn_core_error(ld->m->core));
		rc = -1;
	}
	free(host);
	return rc;
}

/* A new device buffer holding tensor `name`; the shape is checked before allocating. */
static float *b_new(const b_loader *ld, const char *name, int64_t d0, int64_t d1)
{
	char full[512];
	if (!b_check(ld, name, d0, d1, full, sizeof full))
		return NULL;
	float *p = b_alloc(ld->m, (size_t)(d0 * (d1 ? d1 : 1)));
	if (!p) {
		wn_errf(ld->err, ld->errlen, "device allocation failed for \"%s\"", full);
		return NULL;
	}
	return b_load(ld, name, d0, d1, p) == 0 ? p : NULL;
}

static int b_layer(const b_loader *ld, int l, bert_layer *w)
{
	wn_embed_bert *m = ld->m;
	int64_t H = m->H, I = m->I;
	char n[6][160];
	static const char *const parts[] = {
		"attention.self.query.weight", "attention.self.key.weight", "attention.self.value.weight",
		"attention.self.query.bias", "attention.self.key.bias", "attention.self.value.bias",
	};
	char full[512];
	for (int i = 0; i < 6; i++) {
		snprintf(n[i], sizeof n[i], "encoder.layer.%d.%s", l, parts[i]);
		if (!b_check(ld, n[i], H, i < 3 ? H : 0, full, sizeof full))
			return -1;
	}
	w->wqkv = b_alloc(m, (size_t)(3 * H * H));
	w->bqkv = b_alloc(m, (size_t)(3 * H));
	if (!w->wqkv || !w->bqkv) {
		wn_errf(ld->err, ld->errlen, "device allocation failed");
		return -1;
	}
	for (int i = 0; i < 3; i++)
		if (b_load(ld, n[i], H, H, w->wqkv + i * H * H) || b_load(ld, n[3 + i], H, 0, w->bqkv + i * H))
			return -1;
#define LAYER_T(field, name, d0, d1)                                                     \
	do {                                                                             \
		char nm[160];                                                            \
		snprintf(nm, sizeof nm, "encoder.layer.%d.%s", l, name);                 \
		if (!(w->field = b_new(ld, nm, d0, d1)))                                 \
			return -1;                                                       \
	} while (0)
	LAYER_T(wo, "attention.output.dense.weight", H, H);
	LAYER_T(bo, "attention.output.dense.bias", H, 0);
	LAYER_T(ln1_g, "attention.output.LayerNorm.weight", H, 0);
	LAYER_T(ln1_b, "attention.output.LayerNorm.bias", H, 0);
	LAYER_T(wi, "intermediate.dense.weight", I, H);
	LAYER_T(bi, "intermediate.dense.bias", I, 0);
	LAYER_T(wo2, "output.dense.weight", H, I);
	LAYER_T(bo2, "output.dense.bias", H, 0);
	LAYER_T(ln2_g, "output.LayerNorm.weight", H, 0);
	LAYER_T(ln2_b, "output.LayerNorm.bias", H, 0);
#undef LAYER_T
	return 0;
}

static int b_weights(wn_embed_bert *m, const char *dir, char *err, size_t errlen)
{
	char path[4096], msg[512];
	snprintf(path, sizeof path, "%s/model.safetensors", dir);
	wn_embed_st *st = wn_embed_st_open(path, err, errlen);
	if (!st)
		return -1;
	b_loader ld = {m, st, "", msg, sizeof msg};
	if (!wn_embed_st_find(st, "embeddings.word_embeddings.weight") &&
	    wn_embed_st_find(st, "bert.embeddings.word_embeddings.weight"))
		ld.prefix = "bert.";
	int rc = 0;
	char extra[160];
	snprintf(extra, sizeof extra, "%sencoder.layer.%d.attention.self.query.weight", ld.prefix, m->L);
	if (wn_embed_st_find(st, extra)) {
		snprintf(msg, sizeof msg, "model.safetensors has layer %d but config.json says %d layers",
			 m->L, m->L);
		rc = -1;
	}
	if (!rc) {
		m->word = b_new(&ld, "embeddings.word_embeddings.weight", m->V, m->H);
		m->pos = m->word ? b_new(&ld, "embeddings.position_embeddings.weight", m->P, m->H) : NULL;
		float *types = m->pos ? b_new(&ld, "embeddings.token_type_embeddings.weight", m->ntypes, m->H) : NULL;
		m->type0 = types; /* row 0: every token of a single sentence has type 0 */
		m->emb_g = types ? b_new(&ld, "embeddings.LayerNorm.weight", m->H, 0) : NULL;
		m->emb_b = m->emb_g ? b_new(&ld, "embeddings.LayerNorm.bias", m->H, 0) : NULL;
		rc = m->emb_b ? 0 : -1;
	}
	m->layers = rc ? NULL : calloc((size_t)m->L, sizeof *m->layers);
	if (!rc && !m->layers) {
		snprintf(msg, sizeof msg, "out of memory");
		rc = -1;
	}
	for (int l = 0; !rc && l < m->L; l++)
		rc = b_layer(&ld, l, &m->layers[l]);
	wn_embed_st_close(st);
	if (rc)
		wn_errf(err, errlen, "%s/%s", dir, msg);
	return rc;
}

/* ---- fingerprint ------------------------------------------------------------ */

static int b_hash_file(XXH3_state_t *h, const char *dir, const char *name)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "rb");
	XXH3_128bits_update(h, name, strlen(name) + 1);
	if (!f)
		return errno == ENOENT ? 0 : -1;
	char *buf = malloc(1 << 20);
	size_t k;
	while (buf && (k = fread(buf, 1, 1 << 20, f)) > 0)
		XXH3_128bits_update(h, buf, k);
	int bad = !buf || ferror(f);
	free(buf);
	fclose(f);
	return bad ? -1 : 0;
}

static int b_fingerprint(wn_embed_bert *m, const char *dir)
{
	static const char *const files[] = {
		"config.json", "model.safetensors", "tokenizer.json", "vocab.txt", "tokenizer_config.json",
		"special_tokens_map.json", "sentence_bert_config.json", "modules.json", "1_Pooling/config.json",
	};
	XXH3_state_t *h = XXH3_createState();
	if (!h)
		return -1;
	XXH3_128bits_reset(h);
	int rc = 0;
	for (size_t i = 0; i < sizeof files / sizeof *files && !rc; i++)
		rc = b_hash_file(h, dir, files[i]);
	char opts[128];
	int n = snprintf(opts, sizeof opts, "bert pooling=%s normalize=%d max_len=%d",
			 m->pooling == WN_EMBED_POOL_CLS ? "cls"
			 : m->pooling == WN_EMBED_POOL_WEIGHTED ? "weighted-mean" : "mean",
			 m->normalize, m->max_len);
	if (m->prec != WN_PREC_FP32) /* fp32 fingerprints are those of before --precision */
		n += snprintf(opts + n, sizeof opts - (size_t)n, " precision=%s",
			      wn_core_precision_name(m->prec));
	XXH3_128bits_update(h, opts, (size_t)n);
	XXH128_hash_t d = XXH3_128bits_digest(h);
	XXH3_freeState(h);
	snprintf(m->fp, sizeof m->fp, "%016llx%016llx", (unsigned long long)d.high64,
		 (unsigned long long)d.low64);
	return rc;
}

/* ---- open / close ------------------------------------------------------------ */

void wn_embed_bert_close(wn_embed_bert *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nowned; i++)
		wn_core_free(m->core, m->owned[i]);
	free(m->owned);
	void *ws[] = {m->ids_dev, m->pos_dev, m->cls_dev, m->mask_dev, m->wmask_dev, m->X, m->QKV,
		      m->ctx, m->tmp, m->inter, m->S, m->pooled};
	for (size_t i = 0; i < sizeof ws / sizeof *ws; i++)
		if (ws[i])
			wn_core_free(m->core, ws[i]);
	free(m->layers);
	wn_text_wp_free(m->wp);
	free(m);
}

wn_embed_bert *wn_embed_bert_open(wn_core *core, const char *dir, const wn_embed_bert_opts *o,
				  char *err, size_t errlen)
{
	wn_embed_bert_opts dflt;
	if (!o) {
		wn_embed_bert_opts_init(&dflt);
		o = &dflt;
	}
	wn_embed_bert *m = calloc(1, sizeof *m);
	if (!m) {
		wn_errf(err, errlen, "out of memory");
		return NULL;
	}
	m->core = core;
	m->batch = o->batch > 0 ? o->batch : 32;
	m->prec = o->precision >= WN_PREC_FP32 && o->precision <= WN_PREC_FP16 ? o->precision
		: wn_core_device(core) == WN_DEVICE_CUDA ? WN_EMBED_CUDA_PRECISION : WN_PREC_FP32;
	m->attn_cap = o->attn_floats > 0 ? o->attn_floats
		    : wn_core_device(core) == WN_DEVICE_CUDA ? ATTN_CAP_GPU : ATTN_CAP_CPU;
	char msg[512] = "";
	int rc = b_config(m, dir, msg, sizeof msg);
	if (!rc && !(m->wp = wn_text_wp_load_dir(dir, err, errlen)))
		goto fail;
	if (!rc)
		rc = b_sbert_config(m, dir, o->max_len, msg, sizeof msg);
	if (!rc)
		rc = b_modules(m, dir, msg, sizeof msg);
	if (!rc && wn_text_wp_vocab_size(m->wp) > m->V) {
		snprintf(msg, sizeof msg, "tokenizer ids reach %d but config.json vocab_size is %d",
			 wn_text_wp_vocab_size(m->wp) - 1, m->V);
		rc = -1;
	}
	if (rc) {
		wn_errf(err, errlen, "%s/%s", dir, msg);
		goto fail;
	}
	if (o->pooling == WN_EMBED_POOL_MEAN || o->pooling == WN_EMBED_POOL_CLS ||
	    o->pooling == WN_EMBED_POOL_WEIGHTED)
		m->pooling = o->pooling;
	if (o->normalize >= 0)
		m->normalize = o->normalize ? 1 : 0;
	if (b_weights(m, dir, err, errlen) < 0)
		goto fail;
	if (b_fingerprint(m, dir) < 0) {
		wn_errf(err, errlen, "%s: cannot read the model files to fingerprint them", dir);
		goto fail;
	}
	return m;
fail:
	wn_embed_bert_close(m);
	return NULL;
}

int wn_embed_bert_dim(const wn_embed_bert *m) { return m->H; }
int wn_embed_bert_max_len(const wn_embed_bert *m) { return m->max_len; }
int wn_embed_bert_pooling(const wn_embed_bert *m) { return m->pooling; }
int wn_embed_bert_normalize(const wn_embed_bert *m) { return m->normalize; }
int wn_embed_bert_precision(const wn_embed_bert *m) { return m->prec; }
size_t wn_embed_bert_window(const wn_embed_bert *m) { return (size_t)m->batch * WINDOW_BATCHES; }
const wn_text_wp *wn_embed_bert_tokenizer(const wn_embed_bert *m) { return m->wp; }
const char *wn_embed_bert_fingerprint(const wn_embed_bert *m) { return m->fp; }

void wn_embed_bert_stats(const wn_embed_bert *m, uint64_t *tokens, uint64_t *padded)
{
	*tokens = m->tokens;
	*padded = m->padded;
}

/* ---- forward ------------------------------------------------------------------ */

static int b_regrow(wn_embed_bert *m, void **p, size_t bytes)
{
	if (*p)
		wn_core_free(m->core, *p);
	*p = wn_core_alloc_bytes(m->core, bytes ? bytes : 4);
	return *p ? 0 : -1;
}

/* Device workspace for B sequences of T tokens. */
static int b_workspace(wn_embed_bert *m, int64_t B, int64_t T)
{
	int64_t rows = B * T, H = m->H, hs = m->heads;
	int64_t per_seq = hs * T * T, cb = m->attn_cap / per_seq;
	cb = cb < 1 ? 1 : cb > B ? B : cb;
	int rc = 0;
	if (rows > m->ws_rows) {
		size_t r = (size_t)rows;
		rc |= b_regrow(m, (void **)&m->ids_dev, r * sizeof(int32_t));
		rc |= b_regrow(m, (void **)&m->pos_dev, r * sizeof(int32_t));
		rc |= b_regrow(m, (void **)&m->mask_dev, r * sizeof(float));
		if (m->pooling == WN_EMBED_POOL_WEIGHTED)
			rc |= b_regrow(m, (void **)&m->wmask_dev, r * sizeof(float));
		rc |= b_regrow(m, (void **)&m->X, r * (size_t)H * sizeof(float));
		rc |= b_regrow(m, (void **)&m->QKV, r * 3 * (size_t)H * sizeof(float));
		rc |= b_regrow(m, (void **)&m->ctx, r * (size_t)H * sizeof(float));
		rc |= b_regrow(m, (void **)&m->tmp, r * (size_t)H * sizeof(float));
		rc |= b_regrow(m, (void **)&m->inter, r * (size_t)m->I * sizeof(float));
		m->ws_rows = rc ? 0 : rows;
	}
	if (!rc && cb * per_seq > m->ws_S) {
		rc |= b_regrow(m, (void **)&m->S, (size_t)(cb * per_seq) * sizeof(float));
		m->ws_S = rc ? 0 : cb * per_seq;
	}
	if (!rc && B > m->ws_B) {
		rc |= b_regrow(m, (void **)&m->cls_dev, (size_t)B * sizeof(int32_t));
		rc |= b_regrow(m, (void **)&m->pooled, (size_t)(B * H) * sizeof(float));
		m->ws_B = rc ? 0 : B;
	}
	return rc ? -1 : 0;
}

#define CK(call)                                                                         \
	do {                                                                             \
		if ((call) != 0)                                                         \
			return -1;                                                       \
	} while (0)

/* Self-attention of sequences [b0, b0 + cb) into ctx. */
static int b_attention(wn_embed_bert *m, int64_t b0, int64_t cb, int64_t T)
{
	wn_core *c = m->core;
	int64_t H = m->H, hs = m->heads, dh = H / hs, ld = 3 * H;
	const float *qkv = m->QKV + b0 * T * ld;
	for (int64_t h = 0; h < hs; h++)
		CK(wn_core_gemm_batched_prec(c, m->prec, 0, 1, T, T, dh, 1.0f, qkv + h * dh, ld,
					     T * ld, qkv + H + h * dh, ld, T * ld, 0.0f,
					     m->S + h * T * T, T, hs * T * T, cb));
	CK(wn_core_softmax_masked(c, m->S, cb * hs * T, T, 1.0f / sqrtf((float)dh),
				  m->mask_dev + b0 * T, hs * T));
	for (int64_t h = 0; h < hs; h++)
		CK(wn_core_gemm_batched_prec(c, m->prec, 0, 0, T, dh, T, 1.0f, m->S + h * T * T, T,
					     hs * T * T, qkv + 2 * H + h * dh, ld, T * ld, 0.0f,
					     m->ctx + b0 * T * H + h * dh, H, T * H, cb));
	return 0;
}

static int b_layer_forward(wn_embed_bert *m, const bert_layer *w, int64_t B, int64_t T)
{
	wn_core *c = m->core;
	int64_t n = B * T, H = m->H, I = m->I;
	int p = m->prec;
	CK(wn_core_gemm_prec(c, p, 0, 1, n, 3 * H, H, 1.0f, m->X, H, w->wqkv, H, 0.0f, m->QKV, 3 * H));
	CK(wn_core_add_bias(c, m->QKV, w->bqkv, n, 3 * H));
	int64_t cb = m->attn_cap / (m->heads * T * T);
	cb = cb < 1 ? 1 : cb;
	for (int64_t b0 = 0; b0 < B; b0 += cb)
		CK(b_attention(m, b0, B - b0 < cb ? B - b0 : cb, T));
	CK(wn_core_gemm_prec(c, p, 0, 1, n, H, H, 1.0f, m->ctx, H, w->wo, H, 0.0f, m->tmp, H));
	CK(wn_core_bias_add(c, m->tmp, w->bo, m->X, n, H));
	CK(wn_core_layernorm(c, m->tmp, w->ln1_g, w->ln1_b, m->X, n, H, m->eps));
	CK(wn_core_gemm_prec(c, p, 0, 1, n, I, H, 1.0f, m->X, H, w->wi, H, 0.0f, m->inter, I));
	if (m->act == ACT_RELU) {
		CK(wn_core_add_bias(c, m->inter, w->bi, n, I));
		CK(wn_core_relu(c, m->inter, (size_t)(n * I)));
	} else {
		CK(wn_core_bias_gelu(c, m->inter, w->bi, n, I, m->act == ACT_GELU_TANH));
	}
	CK(wn_core_gemm_prec(c, p, 0, 1, n, H, I, 1.0f, m->inter, I, w->wo2, I, 0.0f, m->tmp, H));
	CK(wn_core_bias_add(c, m->tmp, w->bo2, m->X, n, H));
	CK(wn_core_layernorm(c, m->tmp, w->ln2_g, w->ln2_b, m->X, n, H, m->eps));
	return 0;
}

/* B sequences of T ids (host, padded) -> B pooled vectors in out (host). */
static int b_forward(wn_embed_bert *m, int64_t B, int64_t T, const int32_t *ids, const int32_t *pos,
		     const float *mask, const float *wmask, const int32_t *cls, float *out)
{
	wn_core *c = m->core;
	int64_t n = B * T, H = m->H;
	CK(wn_core_upload(c, m->ids_dev, ids, (size_t)n * sizeof *ids));
	CK(wn_core_upload(c, m->pos_dev, pos, (size_t)n * sizeof *pos));
	CK(wn_core_upload(c, m->mask_dev, mask, (size_t)n * sizeof *mask));
	CK(wn_core_gather_rows(c, m->word, m->ids_dev, n, H, m->X));
	CK(wn_core_add_bias(c, m->X, m->type0, n, H));
	CK(wn_core_gather_rows(c, m->pos, m->pos_dev, n, H, m->tmp));
	CK(wn_core_add(c, m->X, m->tmp, (size_t)(n * H)));
	CK(wn_core_layernorm(c, m->X, m->emb_g, m->emb_b, m->X, n, H, m->eps));
	for (int l = 0; l < m->L; l++)
		CK(b_layer_forward(m, &m->layers[l], B, T));
	if (m->pooling == WN_EMBED_POOL_CLS) {
		CK(wn_core_upload(c, m->cls_dev, cls, (size_t)B * sizeof *cls));
		CK(wn_core_gather_rows(c, m->X, m->cls_dev, B, H, m->pooled));
	} else if (m->pooling == WN_EMBED_POOL_WEIGHTED) {
		/* masked_mean divides by the mask's sum: weights t make it Σ 2t/(L(L+1)) x_t */
		CK(wn_core_upload(c, m->wmask_dev, wmask, (size_t)n * sizeof *wmask));
		CK(wn_core_masked_mean(c, m->X, m->wmask_dev, B, T, H, m->pooled));
	} else {
		CK(wn_core_masked_mean(c, m->X, m->mask_dev, B, T, H, m->pooled));
	}
	if (m->normalize)
		CK(wn_core_row_normalize(c, m->pooled, B, H));
	CK(wn_core_download(c, out, m->pooled, (size_t)(B * H) * sizeof *out));
	return 0;
}

/* ---- encode --------------------------------------------------------------------- */

static int b_cmp(const void *a, const void *b, void *ctx)
{
	const int *len = ctx;
	int x = *(const int *)a, y = *(const int *)b;
	if (len[x] != len[y])
		return len[x] < len[y] ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* One sort window: texts [0, wn) tokenized into tok (wn x max_len). */
static int b_window(wn_embed_bert *m, const int32_t *tok, const int *tl, int wn, float *out,
		    char *err, size_t errlen)
{
	int64_t H = m->H, ML = m->max_len, Bmax = m->batch;
	int *order = malloc((size_t)wn * sizeof *order);
	int32_t *ids = malloc((size_t)(Bmax * ML) * sizeof *ids);
	int32_t *pos = malloc((size_t)(Bmax * ML) * sizeof *pos);
	int32_t *cls = malloc((size_t)Bmax * sizeof *cls);
	float *mask = malloc((size_t)(Bmax * ML) * sizeof *mask);
	float *wmask = malloc((size_t)(Bmax * ML) * sizeof *wmask);
	float *pooled = malloc((size_t)(Bmax * H) * sizeof *pooled);
	int rc = order && ids && pos && cls && mask && wmask && pooled ? 0 : -1;
	if (rc)
		wn_errf(err, errlen, "out of memory");
	for (int i = 0; !rc && i < wn; i++)
		order[i] = i;
	if (!rc)
		qsort_r(order, (size_t)wn, sizeof *order, b_cmp, (void *)tl);
	for (int b0 = 0; !rc && b0 < wn; b0 += (int)Bmax) {
		int64_t B = wn - b0 < Bmax ? wn - b0 : Bmax, T = tl[order[b0 + B - 1]];
		for (int64_t i = 0; i < B; i++) {
			int src = order[b0 + i];
			cls[i] = (int32_t)(i * T);
			for (int64_t t = 0; t < T; t++) {
				int real = t < tl[src];
				ids[i * T + t] = real ? tok[(int64_t)src * ML + t] : m->pad_id;
				pos[i * T + t] = (int32_t)t;
				mask[i * T + t] = real ? 1.0f : 0.0f;
				wmask[i * T + t] = real ? (float)(t + 1) : 0.0f;
			}
			m->tokens += (uint64_t)tl[src];
		}
		m->padded += (uint64_t)(B * T);
		if (b_workspace(m, B, T) < 0) {
			wn_errf(err, errlen, "device allocation failed for a batch of %lld x %lld tokens",
			      (long long)B, (long long)T);
			rc = -1;
		} else if (b_forward(m, B, T, ids, pos, mask, wmask, cls, pooled) < 0) {
			wn_errf(err, errlen, "encoder: %s", wn_core_error(m->core));
			rc = -1;
		}
		for (int64_t i = 0; !rc && i < B; i++)
			memcpy(out + (int64_t)order[b0 + i] * H, pooled + i * H, (size_t)H * sizeof *out);
	}
	free(order);
	free(ids);
	free(pos);
	free(cls);
	free(mask);
	free(wmask);
	free(pooled);
	return rc;
}

/* One window's texts tokenized into tok (wn x max_len) and tl; the job of
 * the tokenizer thread while the GPU runs the window before. */
typedef struct {
	wn_embed_bert *m;
	const char *const *texts;
	const size_t *lens;
	int wn;
	int32_t *tok;
	int *tl;
	int bad;
} b_tok_job;

static void b_tokenize(b_tok_job *j)
{
	int64_t ML = j->m->max_len;
	int bad = 0;
#pragma omp parallel for schedule(dynamic, 8) num_threads(wn_core_threads(j->m->core)) reduction(| : bad)
	for (int i = 0; i < j->wn; i++) {
		j->tl[i] = wn_text_wp_encode(j->m->wp, j->texts[i], j->lens[i], j->tok + (int64_t)i * ML,
					     (int)ML);
		bad |= j->tl[i] <= 0;
	}
	j->bad = bad;
}

static void *b_tok_thread(void *arg)
{
	b_tok_job *j = arg;
	b_tokenize(j);
	return NULL;
}

/* Window w of n texts (win each) as a job writing into buffer `slot`. */
static b_tok_job b_job(wn_embed_bert *m, const char *const *texts, const size_t *lens, size_t n,
		       size_t win, size_t w0, int32_t *tok, int *tl)
{
	b_tok_job j = {m, texts + w0, lens + w0, (int)(n - w0 < win ? n - w0 : win), tok, tl, 0};
	return j;
}

/*
 * Windows in order. On CUDA the next window is tokenized on a thread of its
 * own (with the core's OpenMP team) while this thread drives the GPU
 * through the current one: two token buffers, each window's tokens are
 * the same whoever makes them, so the output is too. On the CPU the
 * tokenizer would only compete with the GEMMs for the cores: one after the
 * other, as before. $WINNOW_EMBED_OVERLAP=1 or 0 forces either way (the
 * tests run the overlap on the CPU; the device step times both).
 */
int wn_embed_bert_encode(wn_embed_bert *m, const char *const *texts, const size_t *lens,
			 size_t n, float *out, char *err, size_t errlen)
{
	int64_t ML = m->max_len;
	size_t win = (size_t)m->batch * WINDOW_BATCHES;
	const char *force = getenv("WINNOW_EMBED_OVERLAP"); /* "0"/"1": tests and A/B runs */
	int overlap = (force && *force ? *force == '1' : wn_core_device(m->core) == WN_DEVICE_CUDA) &&
		      n > win;
	int32_t *tok[2] = {malloc(win * (size_t)ML * sizeof(int32_t)),
			   overlap ? malloc(win * (size_t)ML * sizeof(int32_t)) : NULL};
	int *tl[2] = {malloc(win * sizeof(int)), overlap ? malloc(win * sizeof(int)) : NULL};
	int rc = tok[0] && tl[0] && (!overlap || (tok[1] && tl[1])) ? 0 : -1;
	if (rc)
		wn_errf(err, errlen, "out of memory");
	b_tok_job cur = b_job(m, texts, lens, n, win, 0, tok[0], tl[0]);
	if (!rc && n)
		b_tokenize(&cur);
	for (size_t w0 = 0, k = 0; !rc && w0 < n; w0 += win, k ^= 1) {
		b_tok_job next = {0};
		pthread_t th;
		int started = 0;
		if (cur.bad) {
			wn_errf(err, errlen, "tokenizer: out of memory");
			rc = -1;
			break;
		}
		if (w0 + win < n) {
			next = b_job(m, texts, lens, n, win, w0 + win, tok[overlap ? k ^ 1 : 0],
				     tl[overlap ? k ^ 1 : 0]);
			started = overlap && pthread_create(&th, NULL, b_tok_thread, &next) == 0;
		}
		rc = b_window(m, cur.tok, cur.tl, cur.wn, out + w0 * (size_t)m->H, err, errlen);
		if (started)
			pthread_join(th, NULL);
		else if (next.wn && !rc)
			b_tokenize(&next); /* the CPU, or no thread to be had */
		cur = next;
	}
	for (int i = 0; i < 2; i++) {
		free(tok[i]);
		free(tl[i]);
	}
	return rc;
}
