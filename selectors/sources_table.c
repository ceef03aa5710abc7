/*
 * selectors/sources_table.c — the line reader of the pilots files (see
 * selectors/sources_table.h). Owns its line buffer; borrows the callback's
 * context.
 */
#include "selectors/sources_table.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/errf.h"

static int split(char *line, char **tok)
{
	int n = 0;
	for (char *p = strtok(line, " \t\r\n,"); p; p = strtok(NULL, " \t\r\n,")) {
		if (n == WN_SRC_TABLE_MAX_FIELDS)
			return -1;
		tok[n++] = p;
	}
	return n;
}

static int one_row(char *line, size_t no, const char *path, wn_src_row_fn fn, void *ctx,
		   char *err, size_t errlen)
{
	char *tok[WN_SRC_TABLE_MAX_FIELDS], why[256] = "";
	const char *p = line + strspn(line, " \t\r\n");
	if (!*p || *p == '#')
		return 0;
	int n = split(line, tok);
	if (n < 0) {
		wn_errf(err, errlen, "%s:%zu: more than %d fields", path, no, WN_SRC_TABLE_MAX_FIELDS);
		return -1;
	}
	if (fn(ctx, n, tok, why, sizeof why)) {
		wn_errf(err, errlen, "%s:%zu: %s", path, no, why);
		return -1;
	}
	return 0;
}

int wn_src_table_read(const char *path, wn_src_row_fn fn, void *ctx, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		wn_errf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	char *line = NULL;
	size_t cap = 0, no = 0;
	int rc = 0;
	while (!rc && getline(&line, &cap, f) >= 0)
		rc = one_row(line, ++no, path, fn, ctx, err, errlen);
	if (!rc && ferror(f)) {
		wn_errf(err, errlen, "%s: read error", path);
		rc = -1;
	}
	free(line);
	fclose(f);
	return rc;
}

int wn_src_parse_double(const char *tok, const char *what, double *v, char *err, size_t errlen)
{
	char *end;
	errno = 0;
	*v = strtod(tok, &end);
	if (end == tok || *end || errno || !isfinite(*v)) {
		wn_errf(err, errlen, "%s '%s' is not a finite number", what, tok);
		return -1;
	}
	return 0;
}

int wn_src_parse_count(const char *tok, const char *what, int64_t *v, char *err, size_t errlen)
{
	char *end;
	errno = 0;
	double x = strtod(tok, &end), mul = 1;
	if (end != tok && *end && !end[1])
		mul = *end == 'k' || *end == 'K' ? 1e3 : *end == 'M' ? 1e6 : *end == 'G' ? 1e9 : 0;
	else if (*end)
		mul = 0;
	x *= mul;
	if (fabs(x - round(x)) < 1e-6)
		x = round(x); /* 12.8M is 12800000 despite 12.8's binary digits */
	if (end == tok || mul == 0 || errno || !(x >= 1 && x <= 9e15) || x != floor(x)) {
		wn_errf(err, errlen, "%s '%s' is not a whole number >= 1", what, tok);
		return -1;
	}
	*v = (int64_t)x;
	return 0;
}
