/*
 * tests/unit/test_bert.c — the BERT encoder against reference outputs.
 *
 * A model directory with an expected.json ({"max_seq_length": N, "cases":
 * [{"text", "ids", "mean", "cls"}, ...]}, written by the Python reference
 * implementation) is checked the same way whatever the model: token ids
 * exactly, mean-pooled and CLS-pooled sentence embeddings within 1e-5 on the
 * CPU (and within 1e-3 on CUDA when WINNOW_TEST_CUDA=1 and a GPU is usable,
 * else SKIP). Default directory: fixtures/models/bert-tiny-uncased (a copy
 * of ../shared/models/bert-tiny-uncased); WINNOW_MODEL_DIR overrides.
 * Also: results do not depend on the batch size (padding is masked), and
 * broken model directories are refused with a message naming the problem.
 * Precisions (core.h WN_PREC_*): on the CPU the twin at tf32/bf16/fp16 stays
 * within cosine 0.999 of fp32 on every case (and bf16 really changes the
 * bits, so the setting reaches the GEMMs); on CUDA (WINNOW_TEST_CUDA=1)
 * each precision against fp32 on the same GPU, min cosine over the cases
 * printed, and against the CPU twin of the same precision.
 */
#include "core/core.h"
#include "embed/bert.h"
#include "text/wordpiece.h"
#include "io/json.h"
#include "io/record.h"
#include "tests/unit/test.h"

#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
	char *text;
	size_t len;
	int32_t *ids;
	int nids;
	float *mean, *cls;
	int dim_mean, dim_cls;
} xcase;

static xcase *cases;
static int ncases, max_seq;
static char model_dir[4096];

static const char *fixture_dir(void)
{
	static char p[4096];
	const char *root = getenv("WINNOW_ROOT");
	snprintf(p, sizeof p, "%s/fixtures/models/bert-tiny-uncased", root && *root ? root : ".");
	return p;
}

static char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long sz = ftell(f);
	rewind(f);
	char *b = malloc((size_t)sz + 64);
	*n = b ? fread(b, 1, (size_t)sz, f) : 0;
	fclose(f);
	return b;
}

static float *floats(wn_span arr, int *dim)
{
	size_t pos = 0, k = 0;
	wn_span v;
	while (wn_json_next_element(arr, &pos, &v))
		k++;
	float *out = malloc((k ? k : 1) * sizeof *out);
	pos = 0;
	k = 0;
	double d;
	while (wn_json_next_element(arr, &pos, &v))
		out[k++] = wn_json_number(v, &d) == 0 ? (float)d : NAN;
	*dim = (int)k;
	return out;
}

/* Read expected.json with the io/ scanner (it keeps "\u0000" in texts). */
static int load_expected(const char *dir, char *err, size_t errlen)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/expected.json", dir);
	size_t n;
	char *buf = slurp(path, &n);
	if (!buf) {
		snprintf(err, errlen, "%.400s: cannot read", path);
		return -1;
	}
	if (wn_record_validate(buf, n, 1, err, errlen) < 0) {
		free(buf);
		return -1;
	}
	wn_span root = {buf, n}, arr, v;
	int64_t ms = 0;
	if (!wn_json_get(root, "cases", &arr) || !wn_json_get(root, "max_seq_length", &v) ||
	    wn_json_int64(v, &ms) < 0) {
		snprintf(err, errlen, "%.400s: needs cases and max_seq_length", path);
		free(buf);
		return -1;
	}
	max_seq = (int)ms;
	size_t pos = 0;
	wn_span c;
	while (wn_json_next_element(arr, &pos, &c))
		ncases++;
	cases = calloc((size_t)ncases, sizeof *cases);
	pos = 0;
	for (int i = 0; wn_json_next_element(arr, &pos, &c); i++) {
		wn_buf scratch = {0};
		wn_span t, ids, text;
		if (!wn_json_get(c, "text", &t) || wn_json_string(t, &scratch, &text) < 0 ||
		    !wn_json_get(c, "ids", &ids) || !wn_json_get(c, "mean", &v)) {
			snprintf(err, errlen, "%.400s: case %d malformed", path, i);
			free(buf);
			return -1;
		}
		cases[i].text = malloc(text.n + 1);
		memcpy(cases[i].text, text.p, text.n);
		cases[i].len = text.n;
		wn_buf_free(&scratch);
		int nid;
		float *f = floats(ids, &nid);
		cases[i].ids = malloc((size_t)(nid ? nid : 1) * sizeof(int32_t));
		for (int j = 0; j < nid; j++)
			cases[i].ids[j] = (int32_t)f[j];
		cases[i].nids = nid;
		free(f);
		cases[i].mean = floats(v, &cases[i].dim_mean);
		if (wn_json_get(c, "cls", &v))
			cases[i].cls = floats(v, &cases[i].dim_cls);
	}
	free(buf);
	return 0;
}

static int64_t attn_floats; /* 0: the default buffer */
static int precision = WN_PREC_FP32; /* the reference tests hold fp32 on every device */

static wn_embed_bert *open_model(wn_core *core, int pooling, int batch, char *err, size_t errlen)
{
	wn_embed_bert_opts o;
	wn_embed_bert_opts_init(&o);
	o.pooling = pooling;
	o.batch = batch;
	o.attn_floats = attn_floats;
	o.precision = precision;
	return wn_embed_bert_open(core, model_dir, &o, err, errlen);
}

static void test_token_ids(void)
{
	char err[512];
	wn_core *core = wn_core_open(WN_DEVICE_CPU, 2, err, sizeof err);
	CHECK(core != NULL);
	wn_embed_bert *m = open_model(core, WN_EMBED_POOL_AUTO, 32, err, sizeof err);
	if (!m) {
		wn_core_close(core);
		TEST_FAIL_("open %.300s: %.600s", model_dir, err);
	}
	CHECK_EQ_INT(wn_embed_bert_max_len(m), max_seq);
	const wn_text_wp *wp = wn_embed_bert_tokenizer(m);
	int bad = -1;
	for (int i = 0; i < ncases && bad < 0; i++) {
		int32_t ids[4096];
		int k = wn_text_wp_encode(wp, cases[i].text, cases[i].len, ids, 4096);
		if (k != cases[i].nids || memcmp(ids, cases[i].ids, (size_t)k * sizeof *ids) != 0)
			bad = i;
	}
	wn_embed_bert_close(m);
	wn_core_close(core);
	CHECK(ncases > 0);
	if (bad >= 0)
		TEST_FAIL_("case %d (\"%.60s\"): token ids differ", bad, cases[bad].text);
}

/* Max |got - want| over all cases for one pooling on one device. */
static double max_diff(int device, int pooling, int batch, char *err, size_t errlen)
{
	wn_core *core = wn_core_open(device, 2, err, errlen);
	if (!core)
		return -1;
	wn_embed_bert *m = open_model(core, pooling, batch, err, errlen);
	if (!m) {
		wn_core_close(core);
		return -1;
	}
	int dim = wn_embed_bert_dim(m);
	const char **texts = malloc((size_t)ncases * sizeof *texts);
	size_t *lens = malloc((size_t)ncases * sizeof *lens);
	float *out = malloc((size_t)ncases * (size_t)dim * sizeof *out);
	for (int i = 0; i < ncases; i++) {
		texts[i] = cases[i].text;
		lens[i] = cases[i].len;
	}
	double worst = wn_embed_bert_encode(m, texts, lens, (size_t)ncases, out, err, errlen) ? -1 : 0;
	for (int i = 0; i < ncases && worst >= 0; i++) {
		const float *want = pooling == WN_EMBED_POOL_CLS ? cases[i].cls : cases[i].mean;
		int wd = pooling == WN_EMBED_POOL_CLS ? cases[i].dim_cls : cases[i].dim_mean;
		if (!want || wd != dim) {
			snprintf(err, errlen, "case %d: expected vector of dim %d missing", i, dim);
			worst = -1;
			break;
		}
		for (int j = 0; j < dim; j++) {
			double d = fabs((double)out[(size_t)i * dim + j] - want[j]);
			if (!(d <= worst))
				worst = d; /* NaN propagates as a failure */
		}
	}
	if (worst >= 0)
		printf("# %s %s batch %d: max |diff| %.3g over %d cases\n", device == WN_DEVICE_CUDA ? "cuda" : "cpu",
		       pooling == WN_EMBED_POOL_CLS ? "cls" : "mean", batch, worst, ncases);
	free(texts);
	free(lens);
	free(out);
	wn_embed_bert_close(m);
	wn_core_close(core);
	return worst;
}

static void test_mean_cpu(void)
{
	char err[512];
	double d = max_diff(WN_DEVICE_CPU, WN_EMBED_POOL_MEAN, 32, err, sizeof err);
	if (d < 0)
		TEST_FAIL_("%s", err);
	CHECK_NEAR(d, 0, 1e-5);
}

static void test_cls_cpu(void)
{
	char err[512];
	double d = max_diff(WN_DEVICE_CPU, WN_EMBED_POOL_CLS, 32, err, sizeof err);
	if (d < 0)
		TEST_FAIL_("%s", err);
	CHECK_NEAR(d, 0, 1e-5);
}

/*
 * Batch 1 (no padding) and batch 7 (mixed lengths, padded) give the same
 * answers; so does batch 32 with an attention buffer that holds one
 * sequence's scores at a time (attention done in chunks).
 */
static void test_batch_sizes(void)
{
	char err[512];
	double d1 = max_diff(WN_DEVICE_CPU, WN_EMBED_POOL_MEAN, 1, err, sizeof err);
	if (d1 < 0)
		TEST_FAIL_("%s", err);
	double d7 = max_diff(WN_DEVICE_CPU, WN_EMBED_POOL_CLS, 7, err, sizeof err);
	if (d7 < 0)
		TEST_FAIL_("%s", err);
	attn_floats = 1; /* clamped to one sequence per chunk */
	double dc = max_diff(WN_DEVICE_CPU, WN_EMBED_POOL_MEAN, 32, err, sizeof err);
	attn_floats = 0;
	if (dc < 0)
		TEST_FAIL_("%s", err);
	CHECK_NEAR(d1, 0, 1e-5);
	CHECK_NEAR(d7, 0, 1e-5);
	CHECK_NEAR(dc, 0, 1e-5);
}

/* SKIP unless WINNOW_TEST_CUDA=1 and the CUDA backend opens here */
#define SKIP_UNLESS_CUDA()                                                     \
	do {                                                                   \
		const char *want_ = getenv("WINNOW_TEST_CUDA");                \
		char why_[512];                                                \
		if (!want_ || strcmp(want_, "1") != 0)                         \
			SKIP("WINNOW_TEST_CUDA is not 1");                     \
		wn_core *probe_ = wn_core_open(WN_DEVICE_CUDA, 0, why_, sizeof why_); \
		if (!probe_)                                                   \
			SKIP("%s", why_);                                      \
		wn_core_close(probe_);                                         \
	} while (0)

static void test_cuda(void)
{
	SKIP_UNLESS_CUDA();
	char err[512];
	double dm = max_diff(WN_DEVICE_CUDA, WN_EMBED_POOL_MEAN, 32, err, sizeof err);
	if (dm < 0)
		TEST_FAIL_("%s", err);
	double dc = max_diff(WN_DEVICE_CUDA, WN_EMBED_POOL_CLS, 5, err, sizeof err);
	if (dc < 0)
		TEST_FAIL_("%s", err);
	CHECK_NEAR(dm, 0, 1e-3);
	CHECK_NEAR(dc, 0, 1e-3);
}

/* Every case's vector (ncases x dim, malloc'd) on device at prec; NULL and err. */
static float *encode_cases(int device, int prec, int *dim, char *err, size_t errlen)
{
	wn_core *core = wn_core_open(device, 2, err, errlen);
	if (!core)
		return NULL;
	int keep = precision;
	precision = prec;
	wn_embed_bert *m = open_model(core, WN_EMBED_POOL_MEAN, 16, err, errlen);
	precision = keep;
	float *out = NULL;
	if (m) {
		*dim = wn_embed_bert_dim(m);
		const char **texts = malloc((size_t)ncases * sizeof *texts);
		size_t *lens = malloc((size_t)ncases * sizeof *lens);
		out = malloc((size_t)ncases * (size_t)*dim * sizeof *out);
		for (int i = 0; i < ncases; i++) {
			texts[i] = cases[i].text;
			lens[i] = cases[i].len;
		}
		if (wn_embed_bert_precision(m) != prec ||
		    wn_embed_bert_encode(m, texts, lens, (size_t)ncases, out, err, errlen)) {
			if (wn_embed_bert_precision(m) != prec)
				snprintf(err, errlen, "precision %d asked, %d used", prec,
					 wn_embed_bert_precision(m));
			free(out);
			out = NULL;
		}
		free(texts);
		free(lens);
	}
	wn_embed_bert_close(m);
	wn_core_close(core);
	return out;
}

/* Smallest cosine between rows i of a and b. */
static double min_cosine(const float *a, const float *b, int n, int d)
{
	double worst = 1;
	for (int i = 0; i < n; i++) {
		double ab = 0, aa = 0, bb = 0;
		for (int j = 0; j < d; j++) {
			const double x = a[(size_t)i * d + j], y = b[(size_t)i * d + j];
			ab += x * y;
			aa += x * x;
			bb += y * y;
		}
		double c = aa > 0 && bb > 0 ? ab / sqrt(aa * bb) : (aa == bb ? 1 : 0);
		if (!(c >= worst))
			worst = c;
	}
	return worst;
}

static void test_precision_twin_cpu(void)
{
	char err[512];
	int d = 0;
	float *ref = encode_cases(WN_DEVICE_CPU, WN_PREC_FP32, &d, err, sizeof err);
	if (!ref)
		TEST_FAIL_("fp32: %s", err);
	for (int p = WN_PREC_TF32; p <= WN_PREC_FP16; p++) {
		float *got = encode_cases(WN_DEVICE_CPU, p, &d, err, sizeof err);
		if (!got) {
			free(ref);
			TEST_FAIL_("%s: %s", wn_core_precision_name(p), err);
		}
		double c = min_cosine(got, ref, ncases, d);
		int same = !memcmp(got, ref, (size_t)ncases * d * sizeof *got);
		printf("# cpu twin %s: min cosine to fp32 1 - %.3g over %d cases\n",
		       wn_core_precision_name(p), 1 - c, ncases);
		free(got);
		if (!(c >= 0.999) || (p == WN_PREC_BF16 && same)) {
			free(ref);
			TEST_FAIL_("%s: min cosine %.7f, bits %s fp32's", wn_core_precision_name(p), c,
				   same ? "equal to" : "differ from");
		}
	}
	free(ref);
}

/* The default precision by device, and fp32's fingerprint left as it was. */
static void test_precision_defaults(void)
{
	char err[512];
	wn_core *core = wn_core_open(WN_DEVICE_CPU, 1, err, sizeof err);
	CHECK(core != NULL);
	precision = -1;
	wn_embed_bert *dflt = open_model(core, WN_EMBED_POOL_MEAN, 4, err, sizeof err);
	precision = WN_PREC_FP32;
	wn_embed_bert *fp32 = open_model(core, WN_EMBED_POOL_MEAN, 4, err, sizeof err);
	precision = WN_PREC_FP16;
	wn_embed_bert *fp16 = open_model(core, WN_EMBED_POOL_MEAN, 4, err, sizeof err);
	precision = WN_PREC_FP32;
	int ok = dflt && fp32 && fp16 && wn_embed_bert_precision(dflt) == WN_PREC_FP32 &&
		 !strcmp(wn_embed_bert_fingerprint(dflt), wn_embed_bert_fingerprint(fp32)) &&
		 strcmp(wn_embed_bert_fingerprint(fp16), wn_embed_bert_fingerprint(fp32)) != 0;
	wn_embed_bert_close(dflt);
	wn_embed_bert_close(fp32);
	wn_embed_bert_close(fp16);
	wn_core_close(core);
	CHECK(ok);
}

/* On the GPU: each precision within cosine 0.9999 of the GPU's fp32 (the
 * --precision goal) and within 0.999 of the CPU twin of that precision. */
static void test_precision_cuda(void)
{
	SKIP_UNLESS_CUDA();
	char err[512];
	int d = 0;
	float *ref = encode_cases(WN_DEVICE_CUDA, WN_PREC_FP32, &d, err, sizeof err);
	if (!ref)
		TEST_FAIL_("cuda fp32: %s", err);
	for (int p = WN_PREC_TF32; p <= WN_PREC_FP16; p++) {
		float *got = encode_cases(WN_DEVICE_CUDA, p, &d, err, sizeof err);
		float *twin = got ? encode_cases(WN_DEVICE_CPU, p, &d, err, sizeof err) : NULL;
		double c = got ? min_cosine(got, ref, ncases, d) : -2;
		double ct = twin ? min_cosine(got, twin, ncases, d) : -2;
		printf("# cuda %s: min cosine to cuda fp32 1 - %.3g, to the cpu twin 1 - %.3g\n",
		       wn_core_precision_name(p), 1 - c, 1 - ct);
		free(got);
		free(twin);
		if (!(c >= 0.9999) || !(ct >= 0.999)) {
			free(ref);
			TEST_FAIL_("cuda %s: min cosine %.7f to fp32, %.7f to the twin%s%s",
				   wn_core_precision_name(p), c, ct, err[0] ? ": " : "", err);
		}
	}
	free(ref);
}

static void test_fingerprint(void)
{
	char err[512];
	wn_core *core = wn_core_open(WN_DEVICE_CPU, 1, err, sizeof err);
	CHECK(core != NULL);
	wn_embed_bert *a = open_model(core, WN_EMBED_POOL_MEAN, 4, err, sizeof err);
	wn_embed_bert *b = open_model(core, WN_EMBED_POOL_MEAN, 16, err, sizeof err);
	wn_embed_bert *c = open_model(core, WN_EMBED_POOL_CLS, 4, err, sizeof err);
	int ok = a && b && c && strlen(wn_embed_bert_fingerprint(a)) == 32 &&
		 strcmp(wn_embed_bert_fingerprint(a), wn_embed_bert_fingerprint(b)) == 0 &&
		 strcmp(wn_embed_bert_fingerprint(a), wn_embed_bert_fingerprint(c)) != 0;
	wn_embed_bert_close(a);
	wn_embed_bert_close(b);
	wn_embed_bert_close(c);
	wn_core_close(core);
	CHECK(ok);
}

/* A temp copy of the fixture dir with one file replaced by `content` (NULL: removed). */
static int broken_dir(char *tmp, const char *file, const char *content)
{
	static const char *const files[] = {"config.json", "model.safetensors", "tokenizer.json",
					    "vocab.txt", "tokenizer_config.json", "modules.json",
					    "sentence_bert_config.json", "1_Pooling/config.json"};
	strcpy(tmp, "/tmp/wn_bert_XXXXXX");
	if (!mkdtemp(tmp))
		return -1;
	char p[4300], src[4300];
	snprintf(p, sizeof p, "%s/1_Pooling", tmp);
	mkdir(p, 0700);
	for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
		snprintf(p, sizeof p, "%s/%s", tmp, files[i]);
		if (strcmp(files[i], file) == 0) {
			if (content) {
				FILE *f = fopen(p, "w");
				fputs(content, f);
				fclose(f);
			}
			continue;
		}
		char cwd[2048];
		if (fixture_dir()[0] == '/')
			snprintf(src, sizeof src, "%s/%s", fixture_dir(), files[i]);
		else
			snprintf(src, sizeof src, "%.2000s/%.2000s/%s", getcwd(cwd, sizeof cwd) ? cwd : ".",
				 fixture_dir(), files[i]);
		if (symlink(src, p) < 0)
			return -1;
	}
	return 0;
}

static void rm_dir(const char *tmp)
{
	char cmd[4200];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmp);
}

static void test_broken_model_dirs(void)
{
	static const struct {
		const char *file, *content, *want;
	} cases_[] = {
		{"config.json", "{\"hidden_size\": 64, \"num_hidden_layers\": 2, \"num_attention_heads\": 4,"
		 " \"intermediate_size\": 96, \"vocab_size\": 3000, \"max_position_embeddings\": 128}",
		 "intermediate.dense.weight\" has shape [128, 64] but config.json implies [96, 64]"},
		{"config.json", "{\"hidden_size\": 64, \"num_hidden_layers\": 2, \"num_attention_heads\": 4,"
		 " \"intermediate_size\": 128, \"vocab_size\": 3001, \"max_position_embeddings\": 128}",
		 "has shape [3000, 64] but config.json implies [3001, 64]"},
		{"config.json", "{\"hidden_size\": 64, \"num_hidden_layers\": 1, \"num_attention_heads\": 4,"
		 " \"intermediate_size\": 128, \"vocab_size\": 3000, \"max_position_embeddings\": 128}",
		 "has layer 1 but config.json says 1 layers"},
		{"config.json", "{\"hidden_size\": 64, \"num_hidden_layers\": 3, \"num_attention_heads\": 4,"
		 " \"intermediate_size\": 128, \"vocab_size\": 3000, \"max_position_embeddings\": 128}",
		 "encoder.layer.2.attention.self.query.weight\" is missing"},
		{"config.json", "{\"hidden_size\": 64}", "\"num_hidden_layers\" is missing"},
		{"config.json", "{nope", "not valid JSON"},
		{"model.safetensors", NULL, "model.safetensors: No such file"},
		{"model.safetensors", "\x10\0\0\0\0\0\0\0{}", "header length"},
		{"1_Pooling/config.json", "{\"pooling_mode_max_tokens\": true}", "not supported"},
		{"modules.json", "[{\"type\": \"sentence_transformers.models.Dense\", \"path\": \"2_Dense\"}]",
		 "Dense\" is not supported"},
		{"tokenizer.json", "{\"model\": {\"type\": \"BPE\"}}", "only WordPiece"},
	};
	char err[512];
	wn_core *core = wn_core_open(WN_DEVICE_CPU, 1, err, sizeof err);
	CHECK(core != NULL);
	for (size_t i = 0; i < sizeof cases_ / sizeof *cases_; i++) {
		char tmp[64];
		if (broken_dir(tmp, cases_[i].file, cases_[i].content) < 0) {
			wn_core_close(core);
			TEST_FAIL_("case %zu: cannot build the directory", i);
		}
		err[0] = 0;
		wn_embed_bert_opts o;
		wn_embed_bert_opts_init(&o);
		wn_embed_bert *m = wn_embed_bert_open(core, tmp, &o, err, sizeof err);
		int ok = m == NULL && strstr(err, cases_[i].want) != NULL;
		wn_embed_bert_close(m);
		rm_dir(tmp);
		if (!ok) {
			wn_core_close(core);
			TEST_FAIL_("case %zu: got \"%s\", want \"%s\"", i, err, cases_[i].want);
		}
	}
	wn_core_close(core);
}

int main(void)
{
	const char *env = getenv("WINNOW_MODEL_DIR");
	snprintf(model_dir, sizeof model_dir, "%s", env && *env ? env : fixture_dir());
	char err[512];
	if (load_expected(model_dir, err, sizeof err) < 0) {
		printf("FAIL %s: load_expected: %s\n", __FILE__, err);
		return 1;
	}
	RUN(test_token_ids);
	RUN(test_mean_cpu);
	RUN(test_cls_cpu);
	RUN(test_batch_sizes);
	RUN(test_cuda);
	RUN(test_fingerprint);
	RUN(test_precision_twin_cpu);
	RUN(test_precision_defaults);
	RUN(test_precision_cuda);
	RUN(test_broken_model_dirs);
	for (int i = 0; i < ncases; i++) {
		free(cases[i].text);
		free(cases[i].ids);
		free(cases[i].mean);
		free(cases[i].cls);
	}
	free(cases);
	return TEST_EXIT;
}
