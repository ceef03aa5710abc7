/*
 * selectors/train_ckpt.c — proxy-model checkpoints (see
 * selectors/train_ckpt.h).
 */
#include "selectors/train_ckpt.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "embed/safetensors.h"
#include "io/errf.h"
#include "io/record.h"

void wn_ckpt_path(char *buf, size_t n, const char *dir, int run, int epoch)
{
	if (epoch < 0)
		snprintf(buf, n, "%s/run%d-null.safetensors", dir, run);
	else
		snprintf(buf, n, "%s/run%d-epoch%d.safetensors", dir, run, epoch);
}

int wn_ckpt_mkdir(const char *dir, char *err, size_t errlen)
{
	struct stat st;
	if (mkdir(dir, 0777) == 0 || (errno == EEXIST && stat(dir, &st) == 0 && S_ISDIR(st.st_mode)))
		return 0;
	wn_errf(err, errlen, "%s: cannot make the checkpoint directory: %s", dir,
		errno == EEXIST ? "a file of that name exists" : strerror(errno));
	return -1;
}

/* The tensors of a shape: names, dims, element counts. */
struct layout {
	int n;
	const char *name[4];
	int ndim[4];
	int64_t dim[4][2];
};

static struct layout layout_of(const wn_ckpt_shape *sh)
{
	struct layout L;
	if (sh->hidden) {
		L = (struct layout){4, {"W1", "b1", "W2", "b2"}, {2, 1, 2, 1},
				    {{sh->d_in, sh->hidden}, {sh->hidden, 0}, {sh->hidden, sh->classes},
				     {sh->classes, 0}}};
	} else {
		L = (struct layout){2, {"W", "b"}, {2, 1}, {{sh->d_in, sh->classes}, {sh->classes, 0}}};
	}
	return L;
}

static int64_t count_of(const struct layout *L, int t)
{
	return L->ndim[t] == 2 ? L->dim[t][0] * L->dim[t][1] : L->dim[t][0];
}

static void add_meta(cJSON *m, const char *key, int64_t v)
{
	char buf[32];
	snprintf(buf, sizeof buf, "%lld", (long long)v);
	cJSON_AddStringToObject(m, key, buf);
}

/* The JSON header, padded with spaces to a multiple of 8. */
static char *header(const wn_ckpt_shape *sh, const struct layout *L, size_t *len)
{
	cJSON *j = cJSON_CreateObject(), *m = cJSON_AddObjectToObject(j, "__metadata__");
	cJSON_AddStringToObject(m, "format", "winnow-proxy");
	add_meta(m, "d_in", sh->d_in);
	add_meta(m, "hidden", sh->hidden);
	add_meta(m, "classes", sh->classes);
	add_meta(m, "act", sh->act);
	if (sh->labels)
		cJSON_AddStringToObject(m, "labels", sh->labels);
	int64_t off = 0;
	for (int t = 0; t < L->n; t++) {
		cJSON *e = cJSON_AddObjectToObject(j, L->name[t]);
		cJSON_AddStringToObject(e, "dtype", "F32");
		double shp[2] = {(double)L->dim[t][0], (double)L->dim[t][1]};
		cJSON_AddItemToObject(e, "shape", cJSON_CreateDoubleArray(shp, L->ndim[t]));
		int64_t nb = count_of(L, t) * 4;
		double offs[2] = {(double)off, (double)(off + nb)};
		cJSON_AddItemToObject(e, "data_offsets", cJSON_CreateDoubleArray(offs, 2));
		off += nb;
	}
	char *text = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	if (!text)
		return NULL;
	size_t n = strlen(text), padded = (n + 7) / 8 * 8;
	char *out = realloc(text, padded + 1);
	if (!out) {
		free(text);
		return NULL;
	}
	memset(out + n, ' ', padded - n);
	out[padded] = 0;
	*len = padded;
	return out;
}

int wn_ckpt_save(const char *path, const wn_ckpt_shape *sh, const float *P, char *err,
		 size_t errlen)
{
	struct layout L = layout_of(sh);
	size_t hlen = 0;
	char *h = header(sh, &L, &hlen), why[512] = "";
	if (!h)
		return wn_errf(err, errlen, "%s: out of memory", path), -1;
	unsigned char len8[8];
	for (int b = 0; b < 8; b++)
		len8[b] = (unsigned char)((uint64_t)hlen >> (8 * b));
	int64_t np = 0;
	for (int t = 0; t < L.n; t++)
		np += count_of(&L, t);
	wn_writer *w = wn_writer_open(path, 0, why, sizeof why);
	/* float32 on a little-endian host is the format's byte order */
	int rc = !w || wn_writer_write(w, len8, 8) || wn_writer_write(w, h, hlen) ||
		 wn_writer_write(w, P, (size_t)np * sizeof *P);
	free(h);
	if (rc) {
		if (w) {
			snprintf(why, sizeof why, "%s", wn_writer_error(w));
			wn_writer_abort(w);
		}
		return wn_errf(err, errlen, "%s: %s", path, why), -1;
	}
	if (wn_writer_commit(w, why, sizeof why))
		return wn_errf(err, errlen, "%s", why), -1;
	return 0;
}

static int64_t meta_int(const wn_embed_st *st, const char *key)
{
	const char *v = wn_embed_st_metadata(st, key);
	char *end;
	long long x = v ? strtoll(v, &end, 10) : -1;
	return v && *v && !*end ? (int64_t)x : -1;
}

int wn_ckpt_load(const char *path, const wn_ckpt_shape *sh, float *P, char *err, size_t errlen)
{
	char why[512] = "";
	wn_embed_st *st = wn_embed_st_open(path, why, sizeof why);
	if (!st)
		return wn_errf(err, errlen, "%s", why), -1;
	const char *fmt = wn_embed_st_metadata(st, "format");
	int64_t d = meta_int(st, "d_in"), h = meta_int(st, "hidden"), C = meta_int(st, "classes");
	int64_t act = meta_int(st, "act");
	int rc = 0;
	if (!fmt || strcmp(fmt, "winnow-proxy")) {
		wn_errf(err, errlen, "%s: not a winnow proxy checkpoint (no format winnow-proxy)", path);
		rc = -1;
	} else if (d != sh->d_in || h != sh->hidden || C != sh->classes ||
		   (sh->hidden && act != sh->act)) {
		wn_errf(err, errlen, "%s: a model of input %lld, hidden %lld, %lld classes, act %lld; "
			"this run's is input %lld, hidden %lld, %lld classes, act %d", path,
			(long long)d, (long long)h, (long long)C, (long long)act, (long long)sh->d_in,
			(long long)sh->hidden, (long long)sh->classes, sh->act);
		rc = -1;
	}
	const char *lab = wn_embed_st_metadata(st, "labels");
	if (!rc && sh->labels && lab && strcmp(lab, sh->labels)) {
		wn_errf(err, errlen, "%s: trained on the classes %.200s; this run's are %.200s", path, lab,
			sh->labels);
		rc = -1;
	}
	struct layout L = layout_of(sh);
	int64_t off = 0;
	for (int t = 0; t < L.n && !rc; t++) {
		const wn_embed_st_tensor *x = wn_embed_st_find(st, L.name[t]);
		int64_t cnt = count_of(&L, t);
		if (!x || x->dtype != WN_EMBED_ST_F32 || (int64_t)x->count != cnt) {
			wn_errf(err, errlen, "%s: tensor %s missing, not F32, or not of %lld values", path,
				L.name[t], (long long)cnt);
			rc = -1;
		} else {
			rc = wn_embed_st_to_f32(x, P + off, err, errlen);
			off += cnt;
		}
	}
	wn_embed_st_close(st);
	return rc;
}
