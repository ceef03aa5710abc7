/*
 * text/wordpiece.c — BERT tokenizer (see wordpiece.h for the steps).
 *
 * The text is processed in chunks that end at ASCII whitespace: every step
 * of the BERT pipeline is local to a whitespace-delimited span (whitespace
 * is a canonical starter, the normaliser maps it to ' ', the pre-tokeniser
 * splits there), so chunking changes nothing but lets a long document stop
 * as soon as max_len ids are produced instead of normalising all of it.
 */
#include "text/wordpiece.h"
#include "io/errf.h"
#include "io/intern.h"
#include "io/slurp.h"
#include "text/casefold.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <utf8proc.h>

#define WP_MAX_SPECIAL 8
#define WP_CHUNK 4096
#define WP_MAX_FILE (512u << 20)

typedef struct {
	char *s;
	size_t len;
	int32_t id;
	int single_word;
} wp_added;

struct wn_text_wp {
	wn_intern *vocab; /* token bytes -> entry */
	int32_t *tok;     /* per entry: the token id */
	size_t tok_cap;
	size_t max_key;
	int32_t unk;
	char prefix[16];
	size_t plen;
	int max_chars;
	int clean_text, chinese, strip_accents, lowercase;
	int split; /* BertPreTokenizer present */
	wp_added *added;
	size_t nadded;
	int32_t pre[WP_MAX_SPECIAL], post[WP_MAX_SPECIAL];
	int npre, npost;
	int max_len;
	int pre_lower;
	int vocab_size;
};

/* ---- vocabulary ------------------------------------------------------- */

static int32_t wp_lookup(const wn_text_wp *wp, const char *s, size_t len)
{
	if (len > wp->max_key)
		return -1;
	int64_t e = wn_intern_find(wp->vocab, s, len);
	return e < 0 ? -1 : wp->tok[e];
}

/* Insert or overwrite (a later duplicate wins, as in a JSON map). */
static int wp_insert(wn_text_wp *wp, const char *s, size_t len, int32_t id)
{
	size_t n = wn_intern_count(wp->vocab);
	if (n == wp->tok_cap) {
		size_t cap = n ? 2 * n : 1024;
		int32_t *t = realloc(wp->tok, cap * sizeof *t);
		if (!t)
			return -1;
		wp->tok = t;
		wp->tok_cap = cap;
	}
	int64_t e = wn_intern_put(wp->vocab, s, len, NULL);
	if (e < 0)
		return -1;
	wp->tok[e] = id;
	if (len > wp->max_key)
		wp->max_key = len;
	if (id + 1 > wp->vocab_size)
		wp->vocab_size = id + 1;
	return 0;
}

static wn_text_wp *wp_new(void)
{
	wn_text_wp *wp = calloc(1, sizeof *wp);
	if (!wp)
		return NULL;
	if (!(wp->vocab = wn_intern_new())) {
		free(wp);
		return NULL;
	}
	strcpy(wp->prefix, "##");
	wp->plen = 2;
	wp->max_chars = 100;
	wp->clean_text = wp->chinese = wp->strip_accents = wp->lowercase = 1;
	wp->split = 1;
	wp->max_len = 512;
	wp->unk = -1;
	return wp;
}

void wn_text_wp_free(wn_text_wp *wp)
{
	if (!wp)
		return;
	for (size_t i = 0; i < wp->nadded; i++)
		free(wp->added[i].s);
	free(wp->added);
	wn_intern_free(wp->vocab);
	free(wp->tok);
	free(wp);
}

static int wp_add_special(wn_text_wp *wp, const char *s, int32_t id, int single_word)
{
	wp_added *a = realloc(wp->added, (wp->nadded + 1) * sizeof *a);
	if (!a)
		return -1;
	wp->added = a;
	a = &wp->added[wp->nadded];
	a->s = strdup(s);
	if (!a->s)
		return -1;
	a->len = strlen(s);
	a->id = id;
	a->single_word = single_word;
	wp->nadded++;
	if (id + 1 > wp->vocab_size)
		wp->vocab_size = id + 1;
	return 0;
}

void wn_text_wp_set_max_len(wn_text_wp *wp, int max_len)
{
	int min = wp->npre + wp->npost + 1;
	wp->max_len = max_len < min ? min : max_len;
}

int wn_text_wp_max_len(const wn_text_wp *wp) { return wp->max_len; }
void wn_text_wp_set_pre_lowercase(wn_text_wp *wp, int on) { wp->pre_lower = on; }
int wn_text_wp_vocab_size(const wn_text_wp *wp) { return wp->vocab_size; }

int wn_text_wp_token_id(const wn_text_wp *wp, const char *token)
{
	for (size_t i = 0; i < wp->nadded; i++)
		if (strcmp(wp->added[i].s, token) == 0)
			return wp->added[i].id;
	return wp_lookup(wp, token, strlen(token));
}

/* ---- character classes ------------------------------------------------ */

/* Rust's char::is_whitespace: the Unicode White_Space property. */
static int wp_is_space(int32_t c)
{
	if (c < 0x80)
		return c == ' ' || (c >= 9 && c <= 13);
	return c == 0x85 || c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
	       c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f || c == 0x3000;
}

/* tokenizers' is_control: Cc, Cf, Cn, Co, except \t \n \r. */
static int wp_is_control(int32_t c)
{
	if (c == '\t' || c == '\n' || c == '\r')
		return 0;
	if (c >= 0x20 && c < 0x7f)
		return 0;
	utf8proc_category_t k = utf8proc_category(c);
	return k == UTF8PROC_CATEGORY_CC || k == UTF8PROC_CATEGORY_CF ||
	       k == UTF8PROC_CATEGORY_CN || k == UTF8PROC_CATEGORY_CO;
}

static int wp_is_punct(int32_t c)
{
	if (c < 0x80)
		return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) ||
		       (c >= 123 && c <= 126);
	utf8proc_category_t k = utf8proc_category(c);
	return k >= UTF8PROC_CATEGORY_PC && k <= UTF8PROC_CATEGORY_PO;
}

static int wp_is_cjk(int32_t c)
{
	return (c >= 0x4e00 && c <= 0x9fff) || (c >= 0x3400 && c <= 0x4dbf) ||
	       (c >= 0x20000 && c <= 0x2a6df) || (c >= 0x2a700 && c <= 0x2b73f) ||
	       (c >= 0x2b740 && c <= 0x2b81f) || (c >= 0x2b920 && c <= 0x2ceaf) ||
	       (c >= 0xf900 && c <= 0xfaff) || (c >= 0x2f800 && c <= 0x2fa1f);
}

/* Next code point of s[*i..n); an invalid byte reads as U+FFFD. */
static int32_t wp_next(const uint8_t *s, size_t n, size_t *i)
{
	if (s[*i] < 0x80)
		return s[(*i)++];
	int32_t c;
	utf8proc_ssize_t k = utf8proc_iterate(s + *i, (utf8proc_ssize_t)(n - *i), &c);
	if (k <= 0) {
		(*i)++;
		return 0xfffd;
	}
	*i += (size_t)k;
	return c;
}

/* ---- growable buffers ------------------------------------------------- */

typedef struct {
	int32_t *v;
	size_t n, cap;
} wp_cps;

static inline int wp_cps_push(wp_cps *b, int32_t c)
{
	if (__builtin_expect(b->n == b->cap, 0)) {
		size_t cap = b->cap ? b->cap * 2 : 256;
		int32_t *v = realloc(b->v, cap * sizeof *v);
		if (!v)
			return -1;
		b->v = v;
		b->cap = cap;
	}
	b->v[b->n++] = c;
	return 0;
}

typedef struct {
	int32_t *ids;
	int n, cap;
} wp_out;

/* ---- step 1: Python str.lower() --------------------------------------- */

/* The raw text lowered as Python would (text/casefold), invalid bytes read
 * as U+FFFD like every other step here; NULL when out of memory. */
static char *wp_python_lower(const char *text, size_t len, size_t *outlen)
{
	char *out = malloc(wn_text_lower_cap(len, WN_TEXT_LOWER_REPLACE));
	if (out)
		*outlen = (size_t)wn_text_lower(text, len, out, WN_TEXT_LOWER_REPLACE);
	return out;
}

/* ---- step 3: BertNormalizer ------------------------------------------- */

/* Canonical ordering: stable sort of each run of non-starters by combining class. */
static void wp_reorder(int32_t *v, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		int32_t c = v[i];
		if (c < 0x300) /* no combining marks below U+0300 */
			continue;
		int cc = utf8proc_get_property(c)->combining_class;
		if (!cc)
			continue;
		size_t j = i;
		while (j > 0) {
			int pc = v[j - 1] < 0x300 ? 0 : utf8proc_get_property(v[j - 1])->combining_class;
			if (!pc || pc <= cc)
				break;
			v[j] = v[j - 1];
			j--;
		}
		v[j] = c;
	}
}

static int wp_normalize(const wn_text_wp *wp, const uint8_t *s, size_t n, wp_cps *out)
{
	wp_cps a = {0};
	int rc = 0;
	out->n = 0;
	for (size_t i = 0; i < n && !rc;) {
		int32_t c = wp_next(s, n, &i);
		if (wp->clean_text) {
			if (c == 0 || c == 0xfffd || wp_is_control(c))
				continue;
			if (wp_is_space(c))
				c = ' ';
		}
		if (wp->chinese && c >= 0x3400 && wp_is_cjk(c))
			rc = wp_cps_push(&a, ' ') | wp_cps_push(&a, c) | wp_cps_push(&a, ' ');
		else
			rc = wp_cps_push(&a, c);
	}
	if (!rc && wp->strip_accents) {
		for (size_t i = 0; i < a.n && !rc; i++) {
			int32_t d[32];
			utf8proc_ssize_t k = a.v[i] < 0xc0 ? 0 :
				utf8proc_decompose_char(a.v[i], d, 32, UTF8PROC_DECOMPOSE, NULL);
			if (k <= 0 || k > 32) {
				d[0] = a.v[i];
				k = 1;
			}
			for (utf8proc_ssize_t j = 0; j < k && !rc; j++)
				rc = wp_cps_push(out, d[j]);
		}
		if (!rc) {
			wp_reorder(out->v, out->n);
			size_t m = 0;
			for (size_t i = 0; i < out->n; i++)
				if (out->v[i] < 0x300 || utf8proc_category(out->v[i]) != UTF8PROC_CATEGORY_MN)
					out->v[m++] = out->v[i];
			out->n = m;
		}
	} else {
		for (size_t i = 0; i < a.n && !rc; i++)
			rc = wp_cps_push(out, a.v[i]);
	}
	free(a.v);
	if (rc)
		return -1;
	if (wp->lowercase) {
		wp_cps b = {0};
		for (size_t i = 0; i < out->n && !rc; i++) { /* Rust's char::to_lowercase */
			int32_t low[2];
			int k = wn_text_lower_cp(out->v[i], low);
			rc = wp_cps_push(&b, low[0]) | (k == 2 ? wp_cps_push(&b, low[1]) : 0);
		}
		free(out->v);
		*out = b;
	}
	return rc;
}

/* ---- steps 4 and 5: pre-tokeniser and WordPiece ------------------------ */

static int wp_emit(wp_out *o, int32_t id)
{
	if (o->n >= o->cap)
		return 1;
	o->ids[o->n++] = id;
	return o->n >= o->cap;
}

/* One word (code points w[0..n)) -> ids. Returns 1 when the output is full. */
static int wp_word(const wn_text_wp *wp, const int32_t *w, size_t n, char *buf, int32_t *tmp,
		   wp_out *o)
{
	if (n > (size_t)wp->max_chars)
		return wp_emit(o, wp->unk);
	size_t plen = wp->plen, len = 0;
	char *s = buf + plen;
	for (size_t i = 0; i < n; i++)
		len += (size_t)utf8proc_encode_char(w[i], (uint8_t *)s + len);
	size_t start = 0, nt = 0;
	while (start < len) {
		size_t lim = start ? (wp->max_key > plen ? wp->max_key - plen : 0) : wp->max_key;
		size_t end = len - start > lim ? start + lim : len;
		while (end > start && end < len && ((uint8_t)s[end] & 0xc0) == 0x80)
			end--;
		int32_t id = -1;
		while (end > start) {
			if (start) {
				memcpy(s + start - plen, wp->prefix, plen);
				id = wp_lookup(wp, s + start - plen, end - start + plen);
			} else {
				id = wp_lookup(wp, s, end);
			}
			if (id >= 0)
				break;
			do
				end--;
			while (end > start && ((uint8_t)s[end] & 0xc0) == 0x80);
		}
		if (id < 0)
			return wp_emit(o, wp->unk);
		tmp[nt++] = id;
		start = end;
	}
	for (size_t i = 0; i < nt; i++)
		if (wp_emit(o, tmp[i]))
			return 1;
	return 0;
}

static int wp_words(const wn_text_wp *wp, const wp_cps *t, wp_out *o)
{
	char *buf = malloc(wp->plen + 4 * t->n + 8);
	int32_t *tmp = malloc((t->n + 1) * 4 * sizeof *tmp);
	int full = 0;
	if (!buf || !tmp) {
		free(buf);
		free(tmp);
		return -1;
	}
	size_t a = 0;
	for (size_t i = 0; i <= t->n && !full; i++) {
		int32_t c = i < t->n ? t->v[i] : ' ';
		int sp = wp->split ? wp_is_space(c) : (i == t->n);
		int pu = wp->split && !sp && wp_is_punct(c);
		if (!sp && !pu)
			continue;
		if (i > a)
			full = wp_word(wp, t->v + a, i - a, buf, tmp, o);
		if (pu && !full)
			full = wp_word(wp, t->v + i, 1, buf, tmp, o);
		a = i + 1;
	}
	free(buf);
	free(tmp);
	return full;
}

/* Normalise, split and look up s[0..n), chunk by chunk. 1 = output full. */
static int wp_segment(const wn_text_wp *wp, const uint8_t *s, size_t n, wp_out *o)
{
	wp_cps t = {0};
	int full = 0;
	for (size_t p = 0; p < n && !full;) {
		size_t q = n - p > WP_CHUNK ? p + WP_CHUNK : n;
		while (q < n && !(s[q] == ' ' || s[q] == '\t' || s[q] == '\n' || s[q] == '\r'))
			q++;
		if (wp_normalize(wp, s + p, q - p, &t) < 0) {
			full = -1;
			break;
		}
		full = wp_words(wp, &t, o);
		p = q;
	}
	free(t.v);
	return full;
}

/* ---- step 2: added tokens --------------------------------------------- */

static int wp_word_byte(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       c == '_' || c >= 0x80;
}

/* Leftmost-longest added token at or after `from`; -1 if none. */
static const wp_added *wp_find_added(const wn_text_wp *wp, const uint8_t *s, size_t n,
				     size_t from, size_t *at)
{
	for (size_t i = from; i < n; i++) {
		const wp_added *best = NULL;
		for (size_t k = 0; k < wp->nadded; k++) {
			const wp_added *a = &wp->added[k];
			if (!a->len || a->len > n - i || (uint8_t)a->s[0] != s[i] ||
			    memcmp(a->s, s + i, a->len) != 0)
				continue;
			if (a->single_word && ((i > 0 && wp_word_byte(s[i - 1])) ||
					       (i + a->len < n && wp_word_byte(s[i + a->len]))))
				continue;
			if (!best || a->len > best->len)
				best = a;
		}
		if (best) {
			*at = i;
			return best;
		}
	}
	return NULL;
}

int wn_text_wp_encode(const wn_text_wp *wp, const char *text, size_t len, int32_t *ids, int cap)
{
	int limit = cap < wp->max_len ? cap : wp->max_len;
	if (limit <= 0)
		return 0;
	int npre = wp->npre < limit ? wp->npre : limit;
	memcpy(ids, wp->pre, (size_t)npre * sizeof *ids);
	int body = limit - npre - wp->npost;
	wp_out o = {ids + npre, 0, body > 0 ? body : 0};
	char *low = NULL;
	if (wp->pre_lower) {
		low = wp_python_lower(text, len, &len);
		if (!low)
			return -1;
		text = low;
	}
	const uint8_t *s = (const uint8_t *)text;
	int full = o.cap == 0;
	for (size_t pos = 0; pos < len && !full;) {
		size_t at = len;
		const wp_added *a = wp->nadded ? wp_find_added(wp, s, len, pos, &at) : NULL;
		full = wp_segment(wp, s + pos, at - pos, &o);
		if (a && !full)
			full = wp_emit(&o, a->id);
		pos = a ? at + a->len : len;
	}
	free(low);
	if (full < 0)
		return -1;
	int n = npre + o.n;
	for (int i = 0; i < wp->npost && n < limit; i++)
		ids[n++] = wp->post[i];
	return n;
}

/* ---- loading ----------------------------------------------------------- */

static int wp_json_flag(const cJSON *obj, const char *key, int dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsBool(v) ? cJSON_IsTrue(v) : dflt;
}

static int wp_json_int(const cJSON *v, int lo, int hi, int *out)
{
	/* range first: converting an out-of-range double to int is undefined */
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= lo && v->valuedouble <= hi) ||
	    v->valuedouble != (double)(int)v->valuedouble)
		return -1;
	*out = (int)v->valuedouble;
	return 0;
}

#define WP_MAX_ID (1 << 26)

static int wp_load_model(wn_text_wp *wp, const cJSON *m, char *err, size_t errlen)
{
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(m, "type");
	if (!cJSON_IsObject(m) || !cJSON_IsString(type) || strcmp(type->valuestring, "WordPiece") != 0) {
		wn_errf(err, errlen, "model type is %s%s%s, only WordPiece is supported",
		       cJSON_IsString(type) ? "\"" : "", cJSON_IsString(type) ? type->valuestring : "missing",
		       cJSON_IsString(type) ? "\"" : "");
		return -1;
	}
	const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(m, "vocab");
	if (!cJSON_IsObject(vocab) || !vocab->child) {
		wn_errf(err, errlen, "model.vocab is missing or empty");
		return -1;
	}
	for (const cJSON *e = vocab->child; e; e = e->next) {
		int id;
		if (wp_json_int(e, 0, WP_MAX_ID, &id) < 0) {
			wn_errf(err, errlen, "model.vocab: id of \"%.40s\" is not an integer in [0, %d]",
			       e->string, WP_MAX_ID);
			return -1;
		}
		if (wp_insert(wp, e->string, strlen(e->string), id) < 0) {
			wn_errf(err, errlen, "out of memory");
			return -1;
		}
	}
	const cJSON *pfx = cJSON_GetObjectItemCaseSensitive(m, "continuing_subword_prefix");
	if (cJSON_IsString(pfx)) {
		if (strlen(pfx->valuestring) >= sizeof wp->prefix) {
			wn_errf(err, errlen, "model.continuing_subword_prefix is too long");
			return -1;
		}
		strcpy(wp->prefix, pfx->valuestring);
		wp->plen = strlen(wp->prefix);
	}
	const cJSON *mc = cJSON_GetObjectItemCaseSensitive(m, "max_input_chars_per_word");
	if (mc && wp_json_int(mc, 1, 1 << 20, &wp->max_chars) < 0) {
		wn_errf(err, errlen, "model.max_input_chars_per_word is not a positive integer");
		return -1;
	}
	const cJSON *unk = cJSON_GetObjectItemCaseSensitive(m, "unk_token");
	const char *u = cJSON_IsString(unk) ? unk->valuestring : "[UNK]";
	wp->unk = wp_lookup(wp, u, strlen(u));
	if (wp->unk < 0) {
		wn_errf(err, errlen, "unk_token \"%.40s\" is not in the vocabulary", u);
		return -1;
	}
	return 0;
}

static int wp_load_normalizer(wn_text_wp *wp, const cJSON *n, char *err, size_t errlen)
{
	if (!n || cJSON_IsNull(n)) {
		wp->clean_text = wp->chinese = wp->strip_accents = wp->lowercase = 0;
		return 0;
	}
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(n, "type");
	if (!cJSON_IsString(type) || strcmp(type->valuestring, "BertNormalizer") != 0) {
		wn_errf(err, errlen, "normalizer type %.40s is not supported (BertNormalizer only)",
		       cJSON_IsString(type) ? type->valuestring : "(missing)");
		return -1;
	}
	wp->clean_text = wp_json_flag(n, "clean_text", 1);
	wp->chinese = wp_json_flag(n, "handle_chinese_chars", 1);
	wp->lowercase = wp_json_flag(n, "lowercase", 1);
	/* strip_accents: null (or absent) means "follow lowercase" */
	wp->strip_accents = wp_json_flag(n, "strip_accents", wp->lowercase);
	return 0;
}

static int wp_load_pretok(wn_text_wp *wp, const cJSON *p, char *err, size_t errlen)
{
	if (!p || cJSON_IsNull(p)) {
		wp->split = 0;
		return 0;
	}
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(p, "type");
	if (!cJSON_IsString(type) || strcmp(type->valuestring, "BertPreTokenizer") != 0) {
		wn_errf(err, errlen, "pre_tokenizer type %.40s is not supported (BertPreTokenizer only)",
		       cJSON_IsString(type) ? type->valuestring : "(missing)");
		return -1;
	}
	wp->split = 1;
	return 0;
}

/* Ids of a TemplateProcessing special token, appended to ids[*n]. */
static int wp_template_special(const cJSON *specials, const char *name, int32_t *ids, int *n)
{
	const cJSON *sp = cJSON_GetObjectItemCaseSensitive(specials, name);
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(sp, "ids");
	if (!cJSON_IsArray(arr))
		return -1;
	for (const cJSON *e = arr->child; e; e = e->next) {
		int id;
		if (*n >= WP_MAX_SPECIAL || wp_json_int(e, 0, WP_MAX_ID, &id) < 0)
			return -1;
		ids[(*n)++] = id;
	}
	return 0;
}

static int wp_load_template(wn_text_wp *wp, const cJSON *p, char *err, size_t errlen)
{
	const cJSON *single = cJSON_GetObjectItemCaseSensitive(p, "single");
	const cJSON *specials = cJSON_GetObjectItemCaseSensitive(p, "special_tokens");
	int seen_seq = 0;
	if (!cJSON_IsArray(single)) {
		wn_errf(err, errlen, "post_processor.single is not an array");
		return -1;
	}
	for (const cJSON *e = single->child; e; e = e->next) {
		const cJSON *st = cJSON_GetObjectItemCaseSensitive(e, "SpecialToken");
		const cJSON *sid = cJSON_GetObjectItemCaseSensitive(st, "id");
		if (cJSON_GetObjectItemCaseSensitive(e, "Sequence")) {
			if (seen_seq++) {
				wn_errf(err, errlen, "post_processor.single has two sequences");
				return -1;
			}
		} else if (!cJSON_IsString(sid) ||
			   wp_template_special(specials, sid->valuestring, seen_seq ? wp->post : wp->pre,
					       seen_seq ? &wp->npost : &wp->npre) < 0) {
			wn_errf(err, errlen, "post_processor: bad special token in the single template");
			return -1;
		}
	}
	if (!seen_seq) {
		wn_errf(err, errlen, "post_processor.single has no sequence");
		return -1;
	}
	return 0;
}

static int wp_load_post(wn_text_wp *wp, const cJSON *p, char *err, size_t errlen)
{
	if (!p || cJSON_IsNull(p))
		return 0;
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(p, "type");
	if (cJSON_IsString(type) && strcmp(type->valuestring, "TemplateProcessing") == 0)
		return wp_load_template(wp, p, err, errlen);
	if (cJSON_IsString(type) && strcmp(type->valuestring, "BertProcessing") == 0) {
		const cJSON *cls = cJSON_GetObjectItemCaseSensitive(p, "cls");
		const cJSON *sep = cJSON_GetObjectItemCaseSensitive(p, "sep");
		int c, s;
		if (cJSON_GetArraySize(cls) != 2 || cJSON_GetArraySize(sep) != 2 ||
		    wp_json_int(cJSON_GetArrayItem(cls, 1), 0, WP_MAX_ID, &c) < 0 ||
		    wp_json_int(cJSON_GetArrayItem(sep, 1), 0, WP_MAX_ID, &s) < 0) {
			wn_errf(err, errlen, "post_processor: BertProcessing needs cls and sep [token, id]");
			return -1;
		}
		wp->pre[wp->npre++] = c;
		wp->post[wp->npost++] = s;
		return 0;
	}
	wn_errf(err, errlen, "post_processor type %.40s is not supported",
	       cJSON_IsString(type) ? type->valuestring : "(missing)");
	return -1;
}

static int wp_load_added(wn_text_wp *wp, const cJSON *a, char *err, size_t errlen)
{
	if (!a || cJSON_IsNull(a))
		return 0;
	if (!cJSON_IsArray(a)) {
		wn_errf(err, errlen, "added_tokens is not an array");
		return -1;
	}
	for (const cJSON *e = a->child; e; e = e->next) {
		const cJSON *content = cJSON_GetObjectItemCaseSensitive(e, "content");
		int id;
		if (!cJSON_IsString(content) ||
		    wp_json_int(cJSON_GetObjectItemCaseSensitive(e, "id"), 0, WP_MAX_ID, &id) < 0) {
			wn_errf(err, errlen, "added_tokens: entry needs string content and integer id");
			return -1;
		}
		/* tokens matched after normalisation are not split out of the raw text */
		if (wp_json_flag(e, "normalized", 0) && !wp_json_flag(e, "special", 0))
			continue;
		if (wp_add_special(wp, content->valuestring, id, wp_json_flag(e, "single_word", 0)) < 0) {
			wn_errf(err, errlen, "out of memory");
			return -1;
		}
	}
	return 0;
}

wn_text_wp *wn_text_wp_from_json(const char *json, size_t len, char *err, size_t errlen)
{
	cJSON *root = cJSON_ParseWithLength(json, len);
	if (!cJSON_IsObject(root)) {
		wn_errf(err, errlen, "not a JSON object");
		cJSON_Delete(root);
		return NULL;
	}
	wn_text_wp *wp = wp_new();
	int rc = wp ? 0 : -1;
	if (rc)
		wn_errf(err, errlen, "out of memory");
	if (!rc)
		rc = wp_load_model(wp, cJSON_GetObjectItemCaseSensitive(root, "model"), err, errlen);
	if (!rc)
		rc = wp_load_normalizer(wp, cJSON_GetObjectItemCaseSensitive(root, "normalizer"), err, errlen);
	if (!rc)
		rc = wp_load_pretok(wp, cJSON_GetObjectItemCaseSensitive(root, "pre_tokenizer"), err, errlen);
	if (!rc)
		rc = wp_load_post(wp, cJSON_GetObjectItemCaseSensitive(root, "post_processor"), err, errlen);
	if (!rc)
		rc = wp_load_added(wp, cJSON_GetObjectItemCaseSensitive(root, "added_tokens"), err, errlen);
	if (!rc) {
		const cJSON *tr = cJSON_GetObjectItemCaseSensitive(root, "truncation");
		int ml;
		if (cJSON_IsObject(tr) &&
		    wp_json_int(cJSON_GetObjectItemCaseSensitive(tr, "max_length"), 1, 1 << 20, &ml) == 0)
			wn_text_wp_set_max_len(wp, ml);
	}
	cJSON_Delete(root);
	if (rc) {
		wn_text_wp_free(wp);
		return NULL;
	}
	return wp;
}

wn_text_wp *wn_text_wp_from_vocab_txt(const char *text, size_t len, int lowercase, char *err,
				   size_t errlen)
{
	wn_text_wp *wp = wp_new();
	if (!wp) {
		wn_errf(err, errlen, "out of memory");
		return NULL;
	}
	wp->lowercase = wp->strip_accents = lowercase;
	int32_t id = 0;
	for (size_t p = 0; p < len; id++) {
		const char *nl = memchr(text + p, '\n', len - p);
		size_t e = nl ? (size_t)(nl - text) : len, k = e;
		while (k > p && text[k - 1] == '\r')
			k--;
		if (id >= WP_MAX_ID || wp_insert(wp, text + p, k - p, id) < 0) {
			wn_errf(err, errlen, id >= WP_MAX_ID ? "vocab.txt has too many lines" : "out of memory");
			wn_text_wp_free(wp);
			return NULL;
		}
		p = e + 1;
	}
	static const char *const specials[] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
	for (size_t i = 0; i < sizeof specials / sizeof *specials; i++) {
		int32_t sid = wp_lookup(wp, specials[i], strlen(specials[i]));
		if (sid >= 0 && wp_add_special(wp, specials[i], sid, 0) < 0) {
			wn_errf(err, errlen, "out of memory");
			wn_text_wp_free(wp);
			return NULL;
		}
	}
	wp->unk = wp_lookup(wp, "[UNK]", 5);
	int32_t cls = wp_lookup(wp, "[CLS]", 5), sep = wp_lookup(wp, "[SEP]", 5);
	if (wp->unk < 0 || cls < 0 || sep < 0) {
		wn_errf(err, errlen, "vocab.txt lacks [UNK], [CLS] or [SEP]");
		wn_text_wp_free(wp);
		return NULL;
	}
	wp->pre[wp->npre++] = cls;
	wp->post[wp->npost++] = sep;
	return wp;
}

/* tokenizer_config.json's do_lower_case (default 1). */
static int wp_config_lowercase(const char *dir)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/tokenizer_config.json", dir);
	size_t n;
	char *txt = wn_slurp(path, WP_MAX_FILE, "larger than 512 MiB", &n, NULL, 0);
	if (!txt)
		return 1;
	cJSON *root = cJSON_ParseWithLength(txt, n);
	int lc = wp_json_flag(root, "do_lower_case", 1);
	cJSON_Delete(root);
	free(txt);
	return lc;
}

wn_text_wp *wn_text_wp_load_dir(const char *dir, char *err, size_t errlen)
{
	char path[4096], msg[512];
	size_t n;
	int json = 1;
	snprintf(path, sizeof path, "%s/tokenizer.json", dir);
	if (access(path, F_OK) != 0) {
		json = 0;
		snprintf(path, sizeof path, "%s/vocab.txt", dir);
		if (access(path, F_OK) != 0) {
			wn_errf(err, errlen, "%s: no tokenizer.json or vocab.txt", dir);
			return NULL;
		}
	}
	char *txt = wn_slurp(path, WP_MAX_FILE, "larger than 512 MiB", &n, err, errlen);
	if (!txt)
		return NULL;
	wn_text_wp *wp = json ? wn_text_wp_from_json(txt, n, msg, sizeof msg)
				: wn_text_wp_from_vocab_txt(txt, n, wp_config_lowercase(dir), msg, sizeof msg);
	free(txt);
	if (!wp)
		wn_errf(err, errlen, "%s: %s", path, msg);
	return wp;
}
