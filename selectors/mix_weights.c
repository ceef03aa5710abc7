/*
 * selectors/mix_weights.c — `select --mix-weights`: NAME=W,... inline, or
 * @FILE holding `sources plan --json`'s document or NAME WEIGHT lines (see
 * selectors/mix_weights.h). Owns the names and weights it hands out and
 * the file's bytes (read whole by io/slurp.h) while it parses them.
 */
#include "selectors/mix_weights.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/errf.h"
#include "io/slurp.h"
#include "selectors/sources_table.h"

#define MIX_FILE_MAX (16u << 20) /* a weights file is a few lines; refuse a corpus given by mistake */

void wn_mix_weights_free(wn_mix_weights *mw)
{
	for (size_t i = 0; i < mw->n; i++)
		free(mw->names[i]);
	free(mw->names);
	free(mw->w);
	memset(mw, 0, sizeof *mw);
}

/* Append (name, w); "what" in err without a place (the caller adds it). */
static int push(wn_mix_weights *mw, const char *name, size_t len, double w, char *err, size_t errlen)
{
	if (!len)
		return wn_errf(err, errlen, "a group name is empty"), -1;
	if (!isfinite(w))
		return wn_errf(err, errlen, "weight of '%.*s' is not a finite number", (int)len, name), -1;
	if (w < 0)
		return wn_errf(err, errlen, "weight of '%.*s' is negative (%g)", (int)len, name, w), -1;
	for (size_t i = 0; i < mw->n; i++)
		if (strlen(mw->names[i]) == len && !memcmp(mw->names[i], name, len))
			return wn_errf(err, errlen, "'%.*s' given twice", (int)len, name), -1;
	char **nn = realloc(mw->names, (mw->n + 1) * sizeof *nn);
	if (nn)
		mw->names = nn;
	double *nw = nn ? realloc(mw->w, (mw->n + 1) * sizeof *nw) : NULL;
	if (nw)
		mw->w = nw;
	char *copy = nw ? strndup(name, len) : NULL;
	if (!copy)
		return wn_errf(err, errlen, "out of memory"), -1;
	mw->names[mw->n] = copy;
	mw->w[mw->n++] = w;
	return 0;
}

/* The weights sum to 1 within the tolerance; then divided by the sum. */
static int normalise(wn_mix_weights *mw, const char *where, char *err, size_t errlen)
{
	double sum = 0;
	for (size_t i = 0; i < mw->n; i++)
		sum += mw->w[i];
	if (!mw->n)
		return wn_errf(err, errlen, "%s: no weights", where), -1;
	if (fabs(sum - 1) > WN_MIX_SUM_TOL)
		return wn_errf(err, errlen, "%s: the weights sum to %.9g, not 1 (within %g)", where, sum,
			       WN_MIX_SUM_TOL), -1;
	for (size_t i = 0; i < mw->n; i++)
		mw->w[i] /= sum;
	return 0;
}

/* ---- inline: NAME=W,NAME=W,... ---- */

static int inline_item(wn_mix_weights *mw, const char *item, size_t len, char *err, size_t errlen)
{
	const char *eq = memchr(item, '=', len);
	char num[64], *end, why[256];
	size_t nl = eq ? len - (size_t)(eq + 1 - item) : 0;
	if (!eq || eq == item || nl == 0 || nl >= sizeof num)
		return wn_errf(err, errlen, "--mix-weights: '%.*s' is not NAME=WEIGHT", (int)len, item), -1;
	memcpy(num, eq + 1, nl);
	num[nl] = 0;
	size_t name_len = (size_t)(eq - item);
	errno = 0;
	double w = strtod(num, &end);
	if (*end || !isfinite(w))
		return wn_errf(err, errlen, "--mix-weights: weight '%s' of '%.*s' is not a number", num,
			       (int)name_len, item), -1;
	if (push(mw, item, name_len, w, why, sizeof why))
		return wn_errf(err, errlen, "--mix-weights: %s", why), -1;
	return 0;
}

static int parse_inline(const char *s, wn_mix_weights *mw, char *err, size_t errlen)
{
	while (*s) {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);
		if (inline_item(mw, s, len, err, errlen))
			return -1;
		s += len + (comma ? 1 : 0);
	}
	return normalise(mw, "--mix-weights", err, errlen);
}

/* ---- @FILE, text: NAME WEIGHT a line ---- */

static int text_row(void *ctx, int ntok, char **tok, char *err, size_t errlen)
{
	double w;
	if (ntok != 2)
		return wn_errf(err, errlen, "expected NAME WEIGHT, got %d field%s", ntok, ntok == 1 ? "" : "s"),
		       -1;
	if (wn_src_parse_double(tok[1], "weight", &w, err, errlen))
		return -1;
	return push(ctx, tok[0], strlen(tok[0]), w, err, errlen);
}

/* ---- @FILE, JSON: `sources plan --json` ---- */

static int line_of(const char *buf, const char *at)
{
	int line = 1;
	for (const char *p = buf; p < at; p++)
		line += *p == '\n';
	return line;
}

/* sources[i]: its name ("name", else the file name of "path") and "p" */
static int json_source(wn_mix_weights *mw, const cJSON *s, int i, char *err, size_t errlen)
{
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(s, "name");
	const cJSON *path = cJSON_GetObjectItemCaseSensitive(s, "path");
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(s, "p");
	char buf[256];
	if (!cJSON_IsObject(s))
		return wn_errf(err, errlen, "sources[%d] is not an object", i), -1;
	if (!cJSON_IsNumber(p))
		return wn_errf(err, errlen, "sources[%d] has no number \"p\"", i), -1;
	if (cJSON_IsString(name))
		snprintf(buf, sizeof buf, "%s", name->valuestring);
	else if (cJSON_IsString(path))
		wn_mix_source_name(path->valuestring, buf, sizeof buf);
	else
		return wn_errf(err, errlen, "sources[%d] has no string \"name\" or \"path\"", i), -1;
	return push(mw, buf, strlen(buf), p->valuedouble, err, errlen);
}

static int parse_json(const char *path, const char *buf, size_t len, const char *start,
		      wn_mix_weights *mw, char *err, size_t errlen)
{
	const char *end = NULL;
	char why[256] = "";
	int line = line_of(buf, start);
	cJSON *doc = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
	if (!doc) {
		const char *at = end ? end : cJSON_GetErrorPtr();
		if (!at || at < buf || at > buf + len)
			at = start;
		int near = (int)strcspn(at, "\r\n");
		return wn_errf(err, errlen, "%s:%d: not valid JSON (near '%.*s')", path, line_of(buf, at),
			       near < 20 ? near : 20, at), -1;
	}
	const cJSON *src = cJSON_GetObjectItemCaseSensitive(doc, "sources");
	int rc = 0;
	if (!cJSON_IsArray(src)) {
		wn_errf(why, sizeof why, "no \"sources\" array (the document `winnow sources plan --json` writes)");
		rc = -1;
	}
	for (int i = 0; !rc && i < cJSON_GetArraySize(src); i++)
		rc = json_source(mw, cJSON_GetArrayItem(src, i), i, why, sizeof why);
	cJSON_Delete(doc);
	if (rc)
		wn_errf(err, errlen, "%s:%d: %s", path, line, why);
	return rc;
}

static int parse_file(const char *path, wn_mix_weights *mw, char *err, size_t errlen)
{
	size_t len = 0;
	char *buf = wn_slurp(path, MIX_FILE_MAX, "larger than 16 MiB: not a weights file", &len,
			     err, errlen);
	if (!buf)
		return -1;
	const char *p = buf + strspn(buf, " \t\r\n");
	int rc = *p == '{' ? parse_json(path, buf, len, p, mw, err, errlen)
			   : wn_src_table_read(path, text_row, mw, err, errlen);
	free(buf);
	return rc ? -1 : normalise(mw, path, err, errlen);
}

int wn_mix_weights_parse(const char *arg, wn_mix_weights *mw, char *err, size_t errlen)
{
	memset(mw, 0, sizeof *mw);
	int rc = arg[0] == '@' ? (arg[1] ? parse_file(arg + 1, mw, err, errlen)
				 : (wn_errf(err, errlen, "--mix-weights @FILE: no file name"), -1))
			       : parse_inline(arg, mw, err, errlen);
	if (rc)
		wn_mix_weights_free(mw);
	return rc;
}

void wn_mix_source_name(const char *path, char *buf, size_t n)
{
	static const char *const ext[] = {".gz", ".zst", ".jsonl", ".json", ".csv"};
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	size_t len = strlen(base);
	for (int again = 1; again;) {
		again = 0;
		for (size_t i = 0; i < sizeof ext / sizeof *ext; i++) {
			size_t el = strlen(ext[i]);
			if (len > el && !memcmp(base + len - el, ext[i], el)) {
				len -= el;
				again = 1;
			}
		}
	}
	snprintf(buf, n, "%.*s", (int)len, base);
}
