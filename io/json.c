/*
 * io/json.c — walking validated JSON records and splicing annotations.
 *
 * Every function here runs on bytes that io/jsonv.cc has already accepted
 * as one valid JSON object, so the scanner only tracks string boundaries and
 * nesting depth; it never needs to diagnose syntax. That keeps it small and
 * lets the reader pay for validation once (in simdjson, at GB/s).
 */
#include "io/json.h"

#include "io/dtoa.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* p at the opening quote; returns just past the closing quote. */
static const char *skip_string(const char *p, const char *end)
{
	p++;
	while (p < end) {
		const char *q = memchr(p, '"', (size_t)(end - p));
		if (!q)
			return end;
		/* count the backslashes right before the quote */
		const char *b = q;
		while (b > p && b[-1] == '\\')
			b--;
		if (((q - b) & 1) == 0)
			return q + 1;
		p = q + 1;
	}
	return end;
}

/* p at the first byte of a value; returns just past it. */
static const char *skip_value(const char *p, const char *end)
{
	if (p >= end)
		return end;
	if (*p == '"')
		return skip_string(p, end);
	if (*p == '{' || *p == '[') {
		int depth = 0;
		while (p < end) {
			char c = *p;
			if (c == '"') {
				p = skip_string(p, end);
				continue;
			}
			if (c == '{' || c == '[')
				depth++;
			else if (c == '}' || c == ']') {
				if (--depth == 0)
					return p + 1;
			}
			p++;
		}
		return end;
	}
	while (p < end && *p != ',' && *p != '}' && *p != ']' && *p != ' ' &&
	       *p != '\t' && *p != '\n' && *p != '\r')
		p++;
	return p;
}

/* Records may carry whitespace around the object (" {...} " is valid JSON). */
static wn_span trim_left(wn_span v)
{
	while (v.n && (*v.p == ' ' || *v.p == '\t' || *v.p == '\n' || *v.p == '\r'))
		v.p++, v.n--;
	return v;
}

int wn_json_type_of(wn_span v)
{
	v = trim_left(v);
	if (!v.n)
		return WN_JSON_NONE;
	switch (v.p[0]) {
	case '{': return WN_JSON_OBJECT;
	case '[': return WN_JSON_ARRAY;
	case '"': return WN_JSON_STRING;
	case 't': return WN_JSON_TRUE;
	case 'f': return WN_JSON_FALSE;
	case 'n': return WN_JSON_NULL;
	default: return WN_JSON_NUMBER;
	}
}

static int next_item(wn_span c, size_t *pos, char close, wn_span *key, wn_span *value)
{
	c = trim_left(c);
	const char *end = c.p + c.n;
	const char *p = c.p + (*pos ? *pos : 1);
	p = skip_ws(p, end);
	if (p < end && *p == ',')
		p = skip_ws(p + 1, end);
	if (p >= end || *p == close)
		return 0;
	if (key) {
		const char *k = p;
		p = skip_string(p, end);
		key->p = k;
		key->n = (size_t)(p - k);
		p = skip_ws(p, end);
		if (p < end && *p == ':')
			p++;
		p = skip_ws(p, end);
	}
	const char *v = p;
	p = skip_value(p, end);
	value->p = v;
	value->n = (size_t)(p - v);
	*pos = (size_t)(p - c.p);
	return 1;
}

int wn_json_next_member(wn_span obj, size_t *pos, wn_span *key, wn_span *value)
{
	if (wn_json_type_of(obj) != WN_JSON_OBJECT)
		return 0;
	return next_item(obj, pos, '}', key, value);
}

int wn_json_next_element(wn_span arr, size_t *pos, wn_span *value)
{
	if (wn_json_type_of(arr) != WN_JSON_ARRAY)
		return 0;
	return next_item(arr, pos, ']', NULL, value);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

static unsigned read_u4(const char *p)
{
	return (unsigned)(hexval(p[0]) << 12 | hexval(p[1]) << 8 | hexval(p[2]) << 4 | hexval(p[3]));
}

static int put_utf8(wn_buf *b, unsigned cp)
{
	char t[4];
	size_t n;
	if (cp < 0x80) { t[0] = (char)cp; n = 1; }
	else if (cp < 0x800) { t[0] = (char)(0xC0 | cp >> 6); t[1] = (char)(0x80 | (cp & 0x3F)); n = 2; }
	else if (cp < 0x10000) {
		t[0] = (char)(0xE0 | cp >> 12); t[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		t[2] = (char)(0x80 | (cp & 0x3F)); n = 3;
	} else {
		t[0] = (char)(0xF0 | cp >> 18); t[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		t[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); t[3] = (char)(0x80 | (cp & 0x3F)); n = 4;
	}
	return wn_buf_append(b, t, n);
}

/* Decode the escapes of raw string contents s[0..n) (no quotes) into b. */
static int unescape(const char *s, size_t n, wn_buf *b)
{
	const char *end = s + n;
	while (s < end) {
		const char *bs = memchr(s, '\\', (size_t)(end - s));
		if (!bs)
			return wn_buf_append(b, s, (size_t)(end - s));
		if (wn_buf_append(b, s, (size_t)(bs - s)))
			return -1;
		s = bs + 1;
		char c = *s++;
		int r = 0;
		switch (c) {
		case 'b': r = wn_buf_putc(b, '\b'); break;
		case 'f': r = wn_buf_putc(b, '\f'); break;
		case 'n': r = wn_buf_putc(b, '\n'); break;
		case 'r': r = wn_buf_putc(b, '\r'); break;
		case 't': r = wn_buf_putc(b, '\t'); break;
		case 'u': {
			unsigned cp = read_u4(s);
			s += 4;
			if (cp >= 0xD800 && cp < 0xDC00 && end - s >= 6 && s[0] == '\\' && s[1] == 'u') {
				unsigned lo = read_u4(s + 2);
				if (lo >= 0xDC00 && lo < 0xE000) {
					cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
					s += 6;
				}
			}
			if (cp >= 0xD800 && cp < 0xE000)
				cp = 0xFFFD; /* a lone surrogate has no UTF-8 form */
			r = put_utf8(b, cp);
			break;
		}
		default: r = wn_buf_putc(b, c); break; /* \" \\ \/ */
		}
		if (r)
			return -1;
	}
	return 0;
}

int wn_json_string(wn_span v, wn_buf *scratch, wn_span *text)
{
	if (wn_json_type_of(v) != WN_JSON_STRING || v.n < 2)
		return -1;
	const char *s = v.p + 1;
	size_t n = v.n - 2;
	if (!memchr(s, '\\', n)) {
		text->p = s;
		text->n = n;
		return 0;
	}
	wn_buf_reset(scratch);
	if (unescape(s, n, scratch))
		return -1;
	text->p = scratch->data;
	text->n = scratch->len;
	return 0;
}

/* Does the raw key (with quotes) equal name[0..len)? */
static int key_equals(wn_span key, const char *name, size_t len)
{
	const char *s = key.p + 1;
	size_t n = key.n - 2;
	if (!memchr(s, '\\', n))
		return n == len && memcmp(s, name, len) == 0;
	wn_buf b = WN_BUF_INIT;
	int eq = unescape(s, n, &b) == 0 && b.len == len && memcmp(b.data, name, len) == 0;
	wn_buf_free(&b);
	return eq;
}

static int find_member(wn_span obj, const char *name, size_t len, wn_span *out)
{
	size_t pos = 0;
	wn_span k, v;
	int found = 0;
	while (wn_json_next_member(obj, &pos, &k, &v))
		if (key_equals(k, name, len)) {
			*out = v;
			found = 1; /* keep going: the last duplicate wins */
		}
	return found;
}

int wn_json_get(wn_span rec, const char *path, wn_span *out)
{
	wn_span cur = rec;
	for (;;) {
		const char *dot = strchr(path, '.');
		size_t len = dot ? (size_t)(dot - path) : strlen(path);
		if (!find_member(cur, path, len, &cur))
			return 0;
		if (!dot) {
			*out = cur;
			return 1;
		}
		path = dot + 1;
	}
}

int wn_json_number(wn_span v, double *out)
{
	if (wn_json_type_of(v) != WN_JSON_NUMBER)
		return -1;
	char small[64];
	char *tmp = v.n < sizeof small ? small : malloc(v.n + 1);
	if (!tmp)
		return -1;
	memcpy(tmp, v.p, v.n);
	tmp[v.n] = 0;
	*out = strtod(tmp, NULL);
	if (tmp != small)
		free(tmp);
	return 0;
}

int wn_json_int64(wn_span v, int64_t *out)
{
	double d;
	if (wn_json_number(v, &d))
		return -1;
	if (!(d >= -9007199254740992.0 && d <= 9007199254740992.0) || d != floor(d))
		return -1;
	*out = (int64_t)d;
	return 0;
}

int wn_json_put_string(wn_buf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	if (wn_buf_reserve(out, n + 2))
		return -1;
	wn_buf_putc(out, '"');
	size_t start = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		if (wn_buf_append(out, s + start, i - start))
			return -1;
		char e[6] = {'\\', 0};
		size_t en = 2;
		switch (c) {
		case '"': e[1] = '"'; break;
		case '\\': e[1] = '\\'; break;
		case '\n': e[1] = 'n'; break;
		case '\r': e[1] = 'r'; break;
		case '\t': e[1] = 't'; break;
		case '\b': e[1] = 'b'; break;
		case '\f': e[1] = 'f'; break;
		default:
			e[1] = 'u'; e[2] = '0'; e[3] = '0'; e[4] = hex[c >> 4]; e[5] = hex[c & 15];
			en = 6;
		}
		if (wn_buf_append(out, e, en))
			return -1;
		start = i + 1;
	}
	if (wn_buf_append(out, s + start, n - start))
		return -1;
	return wn_buf_putc(out, '"');
}

int wn_json_put_double(wn_buf *out, double v)
{
	if (!isfinite(v))
		return wn_buf_puts(out, "null");
	if (v == floor(v) && fabs(v) < 9007199254740992.0)
		return wn_buf_printf(out, "%.0f", v == 0 ? 0.0 : v);
	char t[WN_DTOA_BUF];
	size_t n = wn_dtoa(t, v); /* the shortest of 15, 16, 17 digits that reads back */
	return wn_buf_append(out, t, n);
}

/* ---- annotations ------------------------------------------------------ */

void wn_annot_init(wn_annot *a)
{
	memset(a, 0, sizeof *a);
}

void wn_annot_free(wn_annot *a)
{
	wn_buf_free(&a->keys);
	wn_buf_free(&a->values);
	free(a->key_off);
	free(a->val_off);
	free(a->val_len);
	memset(a, 0, sizeof *a);
}

void wn_annot_clear(wn_annot *a)
{
	wn_buf_reset(&a->keys);
	wn_buf_reset(&a->values);
	a->n = 0;
}

static const char *annot_key(const wn_annot *a, size_t i)
{
	return a->keys.data + a->key_off[i];
}

static int annot_grow(wn_annot *a)
{
	if (a->n < a->cap)
		return 0;
	size_t cap = a->cap ? a->cap * 2 : 8;
	size_t *k = realloc(a->key_off, cap * sizeof *k);
	if (!k)
		return -1;
	a->key_off = k;
	size_t *o = realloc(a->val_off, cap * sizeof *o);
	if (!o)
		return -1;
	a->val_off = o;
	size_t *l = realloc(a->val_len, cap * sizeof *l);
	if (!l)
		return -1;
	a->val_len = l;
	a->cap = cap;
	return 0;
}

int wn_annot_set_raw(wn_annot *a, const char *key, const char *json, size_t n)
{
	size_t off = a->values.len;
	if (wn_buf_append(&a->values, json, n))
		return -1;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(annot_key(a, i), key) == 0) {
			a->val_off[i] = off; /* the old bytes stay unused until clear */
			a->val_len[i] = n;
			return 0;
		}
	if (annot_grow(a))
		return -1;
	size_t koff = a->keys.len;
	if (wn_buf_append(&a->keys, key, strlen(key) + 1))
		return -1;
	a->key_off[a->n] = koff;
	a->val_off[a->n] = off;
	a->val_len[a->n] = n;
	a->n++;
	return 0;
}

/* Render with `put` into a scratch buffer, then set. */
static int set_rendered(wn_annot *a, const char *key, wn_buf *tmp)
{
	int r = wn_annot_set_raw(a, key, tmp->data, tmp->len);
	wn_buf_free(tmp);
	return r;
}

int wn_annot_set_double(wn_annot *a, const char *key, double v)
{
	wn_buf t = WN_BUF_INIT;
	if (wn_json_put_double(&t, v)) {
		wn_buf_free(&t);
		return -1;
	}
	return set_rendered(a, key, &t);
}

int wn_annot_set_int(wn_annot *a, const char *key, int64_t v)
{
	char t[32];
	int n = snprintf(t, sizeof t, "%lld", (long long)v);
	return wn_annot_set_raw(a, key, t, (size_t)n);
}

int wn_annot_set_string(wn_annot *a, const char *key, const char *s, size_t n)
{
	wn_buf t = WN_BUF_INIT;
	if (wn_json_put_string(&t, s, n)) {
		wn_buf_free(&t);
		return -1;
	}
	return set_rendered(a, key, &t);
}

int wn_annot_set_bool(wn_annot *a, const char *key, int v)
{
	return v ? wn_annot_set_raw(a, key, "true", 4) : wn_annot_set_raw(a, key, "false", 5);
}

/* ---- splicing --------------------------------------------------------- */

static int put_member(wn_buf *out, int *first, const char *k, size_t kn, int quote_key,
		      const char *v, size_t vn)
{
	if (!*first && wn_buf_putc(out, ','))
		return -1;
	*first = 0;
	if (quote_key ? wn_json_put_string(out, k, kn) : wn_buf_append(out, k, kn))
		return -1;
	if (wn_buf_putc(out, ':'))
		return -1;
	return wn_buf_append(out, v, vn);
}

/* The new "winnow" object: old members (replaced in place) + new ones. */
static int build_winnow(const wn_span *old, const wn_annot *a, wn_buf *out)
{
	char used_small[64];
	char *used = a->n <= sizeof used_small ? used_small : calloc(a->n, 1);
	if (!used)
		return -1;
	memset(used, 0, a->n <= sizeof used_small ? sizeof used_small : 0);
	int first = 1, r = wn_buf_putc(out, '{');
	if (old) {
		size_t pos = 0;
		wn_span k, v;
		while (!r && wn_json_next_member(*old, &pos, &k, &v)) {
			size_t i;
			for (i = 0; i < a->n; i++) {
				const char *ak = annot_key(a, i);
				if (key_equals(k, ak, strlen(ak)))
					break;
			}
			if (i < a->n) {
				if (used[i]) /* a duplicate key in the old object: drop it */
					continue;
				used[i] = 1;
				r = put_member(out, &first, k.p, k.n, 0,
					       a->values.data + a->val_off[i], a->val_len[i]);
			} else {
				r = put_member(out, &first, k.p, k.n, 0, v.p, v.n);
			}
		}
	}
	for (size_t i = 0; !r && i < a->n; i++) {
		if (used[i])
			continue;
		const char *ak = annot_key(a, i);
		r = put_member(out, &first, ak, strlen(ak), 1, a->values.data + a->val_off[i],
			       a->val_len[i]);
	}
	if (used != used_small)
		free(used);
	return r ? -1 : wn_buf_putc(out, '}');
}

int wn_json_splice(wn_span rec, const wn_annot *a, wn_buf *out)
{
	if (!a || a->n == 0)
		return wn_buf_append(out, rec.p, rec.n);
	/* member offsets are relative to the object's '{'; keep the bytes before it */
	wn_span obj = trim_left(rec);
	size_t lead = (size_t)(obj.p - rec.p);
	if (lead && wn_buf_append(out, rec.p, lead))
		return -1;
	rec = obj;
	size_t pos = 0, last_end = 0;
	wn_span k, v, wv = {0, 0};
	int has = 0;
	while (wn_json_next_member(rec, &pos, &k, &v)) {
		last_end = pos;
		if (key_equals(k, "winnow", 6)) {
			wv = v;
			has = 1;
		}
	}
	if (has) {
		if (wn_json_type_of(wv) != WN_JSON_OBJECT)
			return -1;
		size_t vstart = (size_t)(wv.p - rec.p);
		if (wn_buf_append(out, rec.p, vstart) || build_winnow(&wv, a, out))
			return -1;
		return wn_buf_append(out, wv.p + wv.n, rec.n - vstart - wv.n);
	}
	/* no member yet: add it after the last member (or inside an empty object) */
	size_t at;
	if (last_end) {
		at = last_end;
	} else {
		at = rec.n;
		while (at > 0 && rec.p[at - 1] != '}')
			at--;
		at = at ? at - 1 : 0;
	}
	if (wn_buf_append(out, rec.p, at))
		return -1;
	if (last_end && wn_buf_putc(out, ','))
		return -1;
	if (wn_buf_puts(out, "\"winnow\":") || build_winnow(NULL, a, out))
		return -1;
	return wn_buf_append(out, rec.p + at, rec.n - at);
}
