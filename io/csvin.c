/*
 * io/csvin.c — CSV rows to JSON records (see io/csvin.h).
 *
 * libcsv calls back per field and per row end; fields of the current row
 * are collected in one buffer, and the row becomes a JSON object once it
 * ends. Strict mode makes a stray quote an error instead of a guess.
 * The lines of the row in progress are also kept as given (raw), so that a
 * rejected row reaches the quarantine file as it was, not as JSON.
 */
#include "io/csvin.h"
#include "io/json.h"

#include <csv.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct wn_csvin {
	struct csv_parser p;
	int have_header;
	wn_buf header;      /* NUL-separated column names */
	size_t ncols;
	wn_buf fields;      /* fields of the row in progress, NUL-separated */
	size_t *flen;       /* their lengths (fields may hold NULs? no: JSON can't) */
	size_t nfields, cap;
	uint64_t row_line;  /* first line of the row in progress (of raw) */
	int row_done, oom;
	wn_buf raw;         /* lines of the row in progress, each plus '\n' */
	int raw_done;       /* raw holds a finished (or dropped) row */
	int types;          /* --csv-types: cells that are JSON numbers become numbers */
};

wn_csvin *wn_csvin_new(void)
{
	wn_csvin *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	if (csv_init(&c->p, CSV_STRICT | CSV_STRICT_FINI) != 0) {
		free(c);
		return NULL;
	}
	return c;
}

void wn_csvin_set_types(wn_csvin *c, int on)
{
	c->types = on;
}

/* A cell that is a JSON number (RFC 8259 grammar) with a finite value. */
static int is_json_number(const char *s, size_t n)
{
	size_t i = 0;
	if (i < n && s[i] == '-')
		i++;
	if (i < n && s[i] == '0')
		i++;
	else if (i < n && s[i] >= '1' && s[i] <= '9')
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	else
		return 0;
	if (i < n && s[i] == '.') {
		size_t d = ++i;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == d)
			return 0;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		size_t d = i;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == d)
			return 0;
	}
	return i == n && isfinite(strtod(s, NULL)); /* fields are NUL-terminated */
}

void wn_csvin_free(wn_csvin *c)
{
	if (!c)
		return;
	csv_free(&c->p);
	wn_buf_free(&c->header);
	wn_buf_free(&c->fields);
	wn_buf_free(&c->raw);
	free(c->flen);
	free(c);
}

static void on_field(void *s, size_t len, void *data)
{
	wn_csvin *c = data;
	if (c->nfields == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		size_t *f = realloc(c->flen, cap * sizeof *f);
		if (!f) {
			c->oom = 1;
			return;
		}
		c->flen = f;
		c->cap = cap;
	}
	if (wn_buf_append(&c->fields, s, len) || wn_buf_putc(&c->fields, 0)) {
		c->oom = 1;
		return;
	}
	c->flen[c->nfields++] = len;
}

static void on_row(int term, void *data)
{
	wn_csvin *c = data;
	c->row_done = 1;
}

static void clear_row(wn_csvin *c)
{
	wn_buf_reset(&c->fields);
	c->nfields = 0;
	c->row_done = 0;
	c->oom = 0;
}

/* The completed row: header or a JSON object. */
static int emit_row(wn_csvin *c, wn_buf *out, uint64_t *rec_line, char *err, size_t errlen)
{
	*rec_line = c->row_line;
	if (c->oom) {
		snprintf(err, errlen, "out of memory");
		clear_row(c);
		return -1;
	}
	if (!c->have_header) {
		c->have_header = 1;
		wn_buf_reset(&c->header);
		wn_buf_append(&c->header, c->fields.data, c->fields.len);
		c->ncols = c->nfields;
		clear_row(c);
		return 0;
	}
	if (c->nfields != c->ncols) {
		snprintf(err, errlen, "CSV row has %zu fields, the header has %zu", c->nfields, c->ncols);
		clear_row(c);
		return -1;
	}
	wn_buf_reset(out);
	wn_buf_putc(out, '{');
	const char *name = c->header.data, *val = c->fields.data;
	for (size_t i = 0; i < c->ncols; i++) {
		if (i)
			wn_buf_putc(out, ',');
		size_t nl = strlen(name);
		wn_json_put_string(out, name, nl);
		wn_buf_putc(out, ':');
		int bad = c->types && is_json_number(val, c->flen[i])
				  ? wn_buf_append(out, val, c->flen[i])
				  : wn_json_put_string(out, val, c->flen[i]);
		if (bad) {
			snprintf(err, errlen, "out of memory");
			clear_row(c);
			return -1;
		}
		name += nl + 1;
		val += c->flen[i] + 1;
	}
	wn_buf_putc(out, '}');
	clear_row(c);
	return 1;
}

/* Drop the parser's state after an error: the next line starts a new row. */
static void reset_parser(wn_csvin *c)
{
	csv_free(&c->p);
	csv_init(&c->p, CSV_STRICT | CSV_STRICT_FINI);
	clear_row(c);
}

/* Only spaces, tabs and line ends: libcsv starts no row on these. */
static int raw_is_blank(const wn_buf *b)
{
	for (size_t i = 0; i < b->len; i++)
		if (!strchr(" \t\r\n", b->data[i]))
			return 0;
	return 1;
}

int wn_csvin_feed(wn_csvin *c, const char *p, size_t n, uint64_t line, wn_buf *out,
		  uint64_t *rec_line, char *err, size_t errlen)
{
	if (c->raw_done) {
		wn_buf_reset(&c->raw);
		c->raw_done = 0;
	}
	if (!c->raw.len)
		c->row_line = line;
	if (wn_buf_append(&c->raw, p, n) || wn_buf_putc(&c->raw, '\n'))
		c->oom = 1;
	static const char nl = '\n';
	for (int part = 0; part < 2; part++) {
		const char *d = part ? &nl : p;
		size_t dn = part ? 1 : n;
		if (csv_parse(&c->p, d, dn, on_field, on_row, c) != dn) {
			*rec_line = c->row_line;
			snprintf(err, errlen, "malformed CSV: %s", csv_strerror(csv_error(&c->p)));
			reset_parser(c);
			c->raw_done = 1;
			return -1;
		}
	}
	if (c->row_done) {
		c->raw_done = 1;
		return emit_row(c, out, rec_line, err, errlen);
	}
	/* no row ended: inside a quoted field, or a blank line libcsv skipped */
	if (raw_is_blank(&c->raw))
		wn_buf_reset(&c->raw);
	return 0;
}

int wn_csvin_finish(wn_csvin *c, wn_buf *out, uint64_t *rec_line, char *err, size_t errlen)
{
	if (csv_fini(&c->p, on_field, on_row, c) != 0) {
		/* each fed line ended in a newline: only an open quote is left */
		*rec_line = c->row_line;
		snprintf(err, errlen, "malformed CSV: quoted field not closed at the end of the input");
		reset_parser(c);
		c->raw_done = 1;
		return -1;
	}
	if (c->row_done) {
		c->raw_done = 1;
		return emit_row(c, out, rec_line, err, errlen);
	}
	wn_buf_reset(&c->raw);
	return 0;
}

const char *wn_csvin_raw(const wn_csvin *c, size_t *n)
{
	size_t len = c->raw.len;
	if (len && c->raw.data[len - 1] == '\n')
		len--;
	*n = len;
	return len ? c->raw.data : "";
}
