/*
 * selectors/dedup.c — `dedup exact` (see selectors/dedup.h) and the
 * --normalize rule.
 *
 * A streaming step: each record's text (or --key value), normalised when
 * asked, is hashed with XXH3-128 and looked up in the seen set
 * (selectors/dedup_seen.h). The first record of each hash goes on
 * byte-identical; a later one is a duplicate: dropped, or with --mark-only
 * written with winnow.dup_of = the first record's --id value (raw JSON), or
 * its line number when it has none. Nothing is spooled: the first
 * occurrence is known the moment it is read, so the output keeps input
 * order at no cost in memory beyond the seen set.
 *
 * Owns: one run's seen set and scratch. Borrows: libxxhash, utf8proc,
 * text/casefold.h, text/tokenize.h (wn_tok_py_isspace), io/stream.h.
 */
#include "selectors/dedup.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>
#include <xxhash.h>

#include "io/errf.h"
#include "selectors/dedup_seen.h"
#include "text/casefold.h"
#include "text/tokenize.h"

/* ---- --normalize ---- */

static int is_punct(int32_t cp)
{
	utf8proc_category_t c = utf8proc_category(cp);
	return c >= UTF8PROC_CATEGORY_PC && c <= UTF8PROC_CATEGORY_PO;
}

/* Drop punctuation, collapse whitespace runs to one space, trim: in place. */
static size_t strip_and_collapse(char *t, size_t n)
{
	size_t w = 0, i = 0;
	int pending_space = 0;
	while (i < n) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)t + i,
						      (utf8proc_ssize_t)(n - i), &cp);
		if (k <= 0) /* wn_text_lower wrote valid UTF-8: cannot happen */
			k = 1, cp = 0xFFFD;
		if (wn_tok_py_isspace(cp)) {
			pending_space = w > 0;
		} else if (!is_punct(cp)) {
			if (pending_space)
				t[w++] = ' ';
			pending_space = 0;
			memmove(t + w, t + i, (size_t)k);
			w += (size_t)k;
		}
		i += (size_t)k;
	}
	return w;
}

int wn_dedup_normalize(const char *s, size_t len, wn_buf *out)
{
	utf8proc_uint8_t *nfkc = NULL;
	utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len, &nfkc,
					  UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_COMPOSE);
	if (n < 0)
		return -1;
	wn_buf_reset(out);
	size_t cap = wn_text_lower_cap((size_t)n, WN_TEXT_LOWER_STRICT);
	int rc = -1;
	if (wn_buf_reserve(out, cap) == 0) {
		long m = wn_text_lower((const char *)nfkc, (size_t)n, out->data, WN_TEXT_LOWER_STRICT);
		if (m >= 0) {
			out->len = strip_and_collapse(out->data, (size_t)m);
			rc = 0;
		}
	}
	free(nfkc);
	return rc;
}

/* ---- dedup exact ---- */

void wn_dedup_exact_init(wn_dedup_exact_opts *o)
{
	*o = (wn_dedup_exact_opts){WN_STREAM_OPTS_INIT, NULL, "id", 0, 0, (size_t)1 << 30, 1e-6,
				   "doc", 0, 2, 0};
}

int wn_dedup_exact_check(wn_dedup_exact_opts *o, char *err, size_t errlen)
{
	if (o->memory < 4096)
		return wn_errf(err, errlen, "--memory must be at least 4K"), -1;
	if (!(o->bloom_fpr > 0 && o->bloom_fpr < 1))
		return wn_errf(err, errlen, "--bloom-fpr must be in (0, 1)"), -1;
	if (o->key && !o->key[0])
		return wn_errf(err, errlen, "--key needs a PATH"), -1;
	o->unit_id = !strcmp(o->unit, "doc") ? 0 : !strcmp(o->unit, "line") ? 1
		     : !strcmp(o->unit, "paragraph") ? 2 : -1;
	if (o->unit_id < 0)
		return wn_errf(err, errlen, "unknown --unit '%s' (doc, line or paragraph)", o->unit), -1;
	if (o->unit_id && (o->key || o->mark_only))
		return wn_errf(err, errlen, "--unit %s rewrites the text: no --key or --mark-only", o->unit), -1;
	if (o->min_count < 2)
		return wn_errf(err, errlen, "--min-count must be at least 2 (the N-th occurrence of a unit and later ones go)"), -1;
	if (o->min_count != 2 && !o->unit_id)
		return wn_errf(err, errlen, "--min-count goes with --unit line|paragraph"), -1;
	if (!(o->min_remaining >= 0 && o->min_remaining <= 1))
		return wn_errf(err, errlen, "--min-remaining-frac must be in [0, 1]"), -1;
	return 0;
}

typedef struct exact_run {
	const wn_dedup_exact_opts *o;
	wn_stream *s;
	wn_dedup_seen seen;
	wn_buf scratch, norm, name, text, rec;
	uint64_t dups, bloom_dups, units, dropped;
} exact_run;

/* The bytes to hash: 1 got them, 0 rejected (go on), -1 stop. */
static int dedup_value(exact_run *x, const wn_record *rec, wn_span *val)
{
	const char *path = x->o->key ? x->o->key : x->s->co->field;
	wn_span v;
	if (!wn_json_get(rec->json, path, &v))
		return wn_stream_reject(x->s, rec, "missing %s '%s'", x->o->key ? "key" : "text field",
					path) ? -1 : 0;
	if (wn_json_type_of(v) != WN_JSON_STRING) {
		if (!x->o->key)
			return wn_stream_reject(x->s, rec, "text field '%s' is not a string", path) ? -1 : 0;
		*val = v; /* a --key that is not a string: its raw JSON */
		return 1;
	}
	wn_buf_reset(&x->scratch);
	if (wn_json_string(v, &x->scratch, val))
		return wn_stream_reject(x->s, rec, "'%s' is not a string", path) ? -1 : 0;
	if (!x->o->normalize)
		return 1;
	if (wn_dedup_normalize(val->p, val->n, &x->norm))
		return wn_stream_reject(x->s, rec, "cannot normalize '%s' (invalid UTF-8)", path) ? -1 : 0;
	*val = (wn_span){x->norm.data ? x->norm.data : "", x->norm.len};
	return 1;
}

/* The record's name for winnow.dup_of: its --id value, else its line number. */
static int record_name(exact_run *x, const wn_record *rec, wn_span *name)
{
	wn_span v;
	if (wn_json_get(rec->json, x->o->id, &v) && wn_json_type_of(v) != WN_JSON_OBJECT &&
	    wn_json_type_of(v) != WN_JSON_ARRAY) {
		*name = v;
		return 0;
	}
	wn_buf_reset(&x->name);
	if (wn_buf_printf(&x->name, "%llu", (unsigned long long)rec->line))
		return -1;
	*name = (wn_span){x->name.data, x->name.len};
	return 0;
}

static int emit_duplicate(exact_run *x, const wn_record *rec, const char *first, size_t n)
{
	wn_stream *s = x->s;
	wn_span w;
	if (wn_json_get(rec->json, "winnow", &w) && wn_json_type_of(w) != WN_JSON_OBJECT)
		return wn_stream_reject(s, rec, "member \"winnow\" is not an object") ? -1 : 0;
	wn_annot_clear(&s->annot);
	if (first ? wn_annot_set_raw(&s->annot, "dup_of", first, n)
		  : wn_annot_set_raw(&s->annot, "dup_of", "null", 4)) {
		snprintf(s->err, sizeof s->err, "out of memory");
		s->failed = 1;
		return -1;
	}
	return wn_stream_emit(s, rec, &s->annot) ? -1 : 0;
}

/* One record: 0 go on, -1 stop. */
static int exact_one(exact_run *x, const wn_record *rec)
{
	wn_span val, name;
	int r = dedup_value(x, rec, &val);
	if (r <= 0)
		return r;
	XXH128_hash_t h = XXH3_128bits(val.p, val.n);
	const char *first = NULL;
	size_t first_len = 0;
	if (record_name(x, rec, &name))
		goto oom;
	r = wn_dedup_seen_add(&x->seen, h.low64, h.high64, name.p, name.n, &first, &first_len);
	if (r < 0)
		goto oom;
	if (r == 0)
		return wn_stream_emit(x->s, rec, NULL) ? -1 : 0;
	x->dups++;
	x->bloom_dups += r == 2;
	if (!x->o->mark_only)
		return 0;
	return emit_duplicate(x, rec, r == 1 ? first : NULL, first_len);
oom:
	snprintf(x->s->err, sizeof x->s->err, "out of memory");
	x->s->failed = 1;
	return -1;
}

/* ---- --unit line | paragraph ---- */

/*
 * Units are the pieces of text.split(sep), sep "\n" (line) or "\n\n"
 * (paragraph). A blank piece (only whitespace) is always kept; any other
 * piece is kept the first N-1 times its hash (after --normalize) is seen
 * (N = --min-count, default 2: the first time) and removed after that; the
 * kept pieces are joined by sep again.
 */
static int unit_seen(exact_run *x, const char *u, size_t n)
{
	const char *p = u, *first;
	size_t len = n, first_len;
	if (x->o->normalize) {
		if (wn_dedup_normalize(u, n, &x->norm))
			return -1;
		p = x->norm.data ? x->norm.data : "";
		len = x->norm.len;
	}
	XXH128_hash_t h = XXH3_128bits(p, len);
	/* occurrence k of a unit is the first that finds (h, k) new, k = 1 .. N-1;
	 * (h, 1) is h itself, (h, k) h's low word mixed with k */
	for (int64_t k = 1; k < x->o->min_count; k++) {
		uint64_t lo = k == 1 ? h.low64 : h.low64 ^ XXH3_64bits_withSeed(&k, sizeof k, h.high64);
		int r = wn_dedup_seen_add(&x->seen, lo, h.high64, "", 0, &first, &first_len);
		if (r < 0)
			return -1;
		if (r == 0)
			return 0;
	}
	return 1;
}

static int is_blank(const char *u, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strchr(" \t\r\n\f\v", u[i]))
			return 0;
	return 1;
}

/* The kept units of t into x->text; *left: non-blank units kept. -1 oom/utf8. */
static int rewrite_units(exact_run *x, wn_span t, size_t *left)
{
	const char *sep = x->o->unit_id == 1 ? "\n" : "\n\n";
	size_t sl = strlen(sep), at = 0, kept = 0;
	wn_buf_reset(&x->text);
	*left = 0;
	for (;;) {
		const char *e = memmem(t.p + at, t.n - at, sep, sl);
		size_t n = e ? (size_t)(e - (t.p + at)) : t.n - at;
		int blank = is_blank(t.p + at, n), seen = blank ? 0 : unit_seen(x, t.p + at, n);
		if (seen < 0)
			return -1;
		if (seen)
			x->units++;
		else {
			if ((kept++ && wn_buf_append(&x->text, sep, sl)) ||
			    wn_buf_append(&x->text, t.p + at, n))
				return -1;
			*left += !blank;
		}
		if (!e)
			return 0;
		at += n + sl;
	}
}

/* The record with its text value replaced by x->text, into x->rec. */
static int splice_text(exact_run *x, const wn_record *rec, wn_span v)
{
	size_t head = (size_t)(v.p - rec->json.p);
	wn_buf_reset(&x->rec);
	return wn_buf_append(&x->rec, rec->json.p, head) ||
	       wn_json_put_string(&x->rec, x->text.data ? x->text.data : "", x->text.len) ||
	       wn_buf_append(&x->rec, v.p + v.n, rec->json.n - head - v.n);
}

static int units_one(exact_run *x, const wn_record *rec)
{
	wn_stream *s = x->s;
	wn_span v, t, w;
	size_t left;
	if (!wn_json_get(rec->json, s->co->field, &v))
		return wn_stream_reject(s, rec, "missing text field '%s'", s->co->field) ? -1 : 0;
	wn_buf_reset(&x->scratch);
	if (wn_json_type_of(v) != WN_JSON_STRING || wn_json_string(v, &x->scratch, &t))
		return wn_stream_reject(s, rec, "text field '%s' is not a string", s->co->field) ? -1 : 0;
	if (wn_json_get(rec->json, "winnow", &w) && wn_json_type_of(w) != WN_JSON_OBJECT)
		return wn_stream_reject(s, rec, "member \"winnow\" is not an object") ? -1 : 0;
	if (rewrite_units(x, t, &left))
		return wn_stream_reject(s, rec, "cannot normalize '%s' (invalid UTF-8)", s->co->field) ? -1 : 0;
	if (x->text.len == t.n)
		return wn_stream_emit(s, rec, NULL) ? -1 : 0;
	if (!left || (double)x->text.len < x->o->min_remaining * (double)t.n) {
		x->dropped++;
		return 0;
	}
	wn_record r2 = *rec;
	wn_annot_clear(&s->annot);
	if (splice_text(x, rec, v) || wn_annot_set_int(&s->annot, "orig_len", (int64_t)t.n)) {
		snprintf(s->err, sizeof s->err, "out of memory");
		s->failed = 1;
		return -1;
	}
	r2.json = (wn_span){x->rec.data, x->rec.len};
	return wn_stream_emit(s, &r2, &s->annot) ? -1 : 0;
}

static void exact_report(const exact_run *x)
{
	const wn_dedup_seen *sn = &x->seen;
	if (x->o->unit_id)
		fprintf(stderr, "winnow dedup exact: %llu repeated %ss removed, %llu records dropped "
			"(too little left)\n", (unsigned long long)x->units, x->o->unit,
			(unsigned long long)x->dropped);
	else
		fprintf(stderr, "winnow dedup exact: %llu duplicates %s, %llu distinct kept\n",
		(unsigned long long)x->dups, x->o->mark_only ? "marked" : "dropped",
		(unsigned long long)(sn->count + sn->bloom_count));
	if (!sn->frozen)
		return;
	double fpr = wn_dedup_seen_fpr(sn);
	fprintf(stderr, "winnow dedup exact: --memory reached after %llu exact hashes: Bloom filter of "
		"%llu bits, %d hashes, %llu keys, false-positive rate %.3g (target %.3g); "
		"%llu duplicates found by it may be false\n",
		(unsigned long long)sn->count, (unsigned long long)sn->bloom_bits, sn->bloom_k,
		(unsigned long long)sn->bloom_count, fpr, sn->target_fpr,
		(unsigned long long)x->bloom_dups);
	if (fpr > sn->target_fpr)
		fprintf(stderr, "winnow dedup exact: warning: the Bloom filter is past its target "
			"false-positive rate: raise --memory\n");
}

int wn_dedup_exact_run(const wn_dedup_exact_opts *o, wn_stream *s, wn_step_report *rep,
		       char *err, size_t errlen)
{
	(void)rep;
	exact_run x = {o, s, {0}, WN_BUF_INIT, WN_BUF_INIT, WN_BUF_INIT, WN_BUF_INIT, WN_BUF_INIT,
		       0, 0, 0, 0};
	if (wn_dedup_seen_init(&x.seen, o->memory, o->bloom_fpr)) {
		wn_errf(err, errlen, "out of memory");
		return -1;
	}
	wn_record rec;
	int r;
	while ((r = wn_stream_next(s, &rec)) > 0)
		if ((o->unit_id ? units_one(&x, &rec) : exact_one(&x, &rec)) || s->failed) {
			r = -1;
			break;
		}
	if (r == 0 && !s->co->quiet)
		exact_report(&x);
	wn_dedup_seen_free(&x.seen);
	wn_buf_free(&x.scratch);
	wn_buf_free(&x.norm);
	wn_buf_free(&x.name);
	wn_buf_free(&x.text);
	wn_buf_free(&x.rec);
	return r < 0 || s->failed ? -1 : 0;
}
