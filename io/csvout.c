/*
 * io/csvout.c — records to CSV (see io/csvout.h).
 */
#include "io/csvout.h"

#include <stdlib.h>
#include <string.h>

#include "io/intern.h"

struct wn_csvout {
	wn_buf names;   /* NUL-separated column names */
	size_t ncols;
	int header_done, vectors;
	wn_intern *seen; /* learnt columns: the names met so far */
	wn_buf row, scratch, path;
};

static int add_column(wn_csvout *c, const char *s, size_t n)
{
	if (c->seen) {
		int added = 0;
		if (wn_intern_put(c->seen, s, n, &added) < 0)
			return -1;
		if (!added)
			return 0;
	}
	c->ncols++;
	if (wn_buf_append(&c->names, s, n))
		return -1;
	return wn_buf_putc(&c->names, 0);
}

wn_csvout *wn_csvout_new(const char *columns, int vectors)
{
	wn_csvout *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->vectors = vectors;
	if (!columns) {
		if (!(c->seen = wn_intern_new())) {
			free(c);
			return NULL;
		}
		return c;
	}
	const char *p = columns;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		if (add_column(c, p, n)) {
			wn_csvout_free(c);
			return NULL;
		}
		if (!comma)
			break;
		p = comma + 1;
	}
	return c;
}

void wn_csvout_free(wn_csvout *c)
{
	if (!c)
		return;
	wn_buf_free(&c->names);
	wn_buf_free(&c->row);
	wn_buf_free(&c->scratch);
	wn_buf_free(&c->path);
	wn_intern_free(c->seen);
	free(c);
}

int wn_csv_put_cell(wn_buf *out, const char *s, size_t n)
{
	int quote = 0;
	for (size_t i = 0; i < n && !quote; i++)
		quote = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
	if (!quote)
		return wn_buf_append(out, s, n);
	if (wn_buf_putc(out, '"'))
		return -1;
	for (size_t i = 0; i < n; i++)
		if ((s[i] == '"' && wn_buf_putc(out, '"')) || wn_buf_putc(out, s[i]))
			return -1;
	return wn_buf_putc(out, '"');
}

static int write_header(wn_csvout *c, wn_writer *w)
{
	wn_buf_reset(&c->row);
	const char *name = c->names.data;
	for (size_t i = 0; i < c->ncols; i++) {
		size_t n = strlen(name);
		if ((i && wn_buf_putc(&c->row, ',')) || wn_csv_put_cell(&c->row, name, n))
			return -1;
		name += n + 1;
	}
	c->header_done = 1;
	return wn_writer_line(w, c->row.data, c->row.len);
}

/* A vector annotation: {"dim": D, "dtype": ..., "b64": ...}. */
static int is_vector(wn_span v)
{
	wn_span b64;
	return wn_json_type_of(v) == WN_JSON_OBJECT && wn_json_get(v, "b64", &b64);
}

/* winnow's member, one column per annotation ("winnow.<name>"). */
static int learn_winnow(wn_csvout *c, wn_span w)
{
	size_t pos = 0;
	wn_span k, v, key;
	while (wn_json_next_member(w, &pos, &k, &v)) {
		if (wn_json_string(k, &c->scratch, &key))
			return -1;
		if (is_vector(v) && !c->vectors)
			continue;
		wn_buf_reset(&c->path);
		if (wn_buf_puts(&c->path, "winnow.") || wn_buf_append(&c->path, key.p, key.n) ||
		    add_column(c, c->path.data, c->path.len))
			return -1;
	}
	return 0;
}

int wn_csvout_learn(wn_csvout *c, wn_span rec)
{
	if (!c->seen)
		return 0;
	size_t pos = 0;
	wn_span k, v, key;
	while (wn_json_next_member(rec, &pos, &k, &v)) {
		if (wn_json_string(k, &c->scratch, &key))
			return -1;
		int rc = key.n == 6 && !memcmp(key.p, "winnow", 6) && wn_json_type_of(v) == WN_JSON_OBJECT
				 ? learn_winnow(c, v)
				 : add_column(c, key.p, key.n);
		if (rc)
			return -1;
	}
	return 0;
}

int wn_csvout_record(wn_csvout *c, wn_writer *w, wn_span rec)
{
	if (!c->header_done && write_header(c, w))
		return -1;
	wn_buf_reset(&c->row);
	const char *name = c->names.data;
	for (size_t i = 0; i < c->ncols; i++) {
		size_t n = strlen(name);
		wn_span v, text;
		if (i && wn_buf_putc(&c->row, ','))
			return -1;
		if (wn_json_get(rec, name, &v)) {
			int t = wn_json_type_of(v);
			if (t == WN_JSON_STRING) {
				if (wn_json_string(v, &c->scratch, &text) ||
				    wn_csv_put_cell(&c->row, text.p, text.n))
					return -1;
			} else if (t != WN_JSON_NULL && wn_csv_put_cell(&c->row, v.p, v.n)) {
				return -1;
			}
		}
		name += n + 1;
	}
	return wn_writer_line(w, c->row.data, c->row.len);
}

int wn_csvout_finish(wn_csvout *c, wn_writer *w)
{
	if (!c->header_done && c->ncols)
		return write_header(c, w);
	return 0;
}
