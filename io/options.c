/*
 * io/options.c — the one option parser (see io/options.h).
 *
 * One table per step gives --help, errors and value parsing for free, the
 * same way for every command and every recipe step. Errors are returned,
 * never printed or exited on: cmd/ prints them with the usage and exits 2,
 * pipelines/ prints them with the recipe's file and line.
 */
#include "io/options.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "io/errf.h"

void wn_opts_command_name(const char *const *usage, char *name, size_t cap)
{
	/* "winnow cat [options]" -> "cat"; "winnow cluster kmeans -k K" -> "cluster kmeans" */
	const char *u = usage[0];
	if (!strncmp(u, "winnow ", 7))
		u += 7;
	size_t n = 0;
	while (u[n] && u[n] != '[' && u[n] != '<' &&
	       !(u[n] == ' ' && (u[n + 1] == '[' || u[n + 1] == '-' || u[n + 1] == '<' ||
				 (u[n + 1] >= 'A' && u[n + 1] <= 'Z'))) &&
	       n + 1 < cap)
		n++;
	while (n && u[n - 1] == ' ')
		n--;
	memcpy(name, u, n);
	name[n] = 0;
}

void wn_opts_print_usage(FILE *f, const char *const *usage)
{
	for (int i = 0; usage[i] && usage[i][0]; i++)
		fprintf(f, "%s %s\n", i ? "   or:" : "usage:", usage[i]);
}

const char *wn_opts_description(const char *const *usage)
{
	int i = 0;
	while (usage[i] && usage[i][0])
		i++;
	return usage[i] && usage[i + 1] ? usage[i + 1] : "";
}

static void print_option(FILE *f, const struct wn_option *o)
{
	char left[64];
	int n = snprintf(left, sizeof left, "  %s%c%s%s%s%s%s", o->short_name ? "-" : "",
			 o->short_name ? o->short_name : ' ', o->short_name && o->long_name ? "," : "",
			 o->long_name ? " --" : "", o->long_name ? o->long_name : "",
			 o->argh ? " " : "", o->argh ? o->argh : "");
	if (!o->short_name)
		memmove(left + 2, left + 4, strlen(left + 4) + 1), n -= 2;
	fprintf(f, "%s%*s%s\n", left, n < 30 ? 30 - n : 1, "", o->help ? o->help : "");
}

void wn_opts_print_help(FILE *f, const char *const *usage, const struct wn_option *opts)
{
	wn_opts_print_usage(f, usage);
	int i = 0;
	while (usage[i] && usage[i][0])
		i++;
	if (usage[i] && usage[i + 1]) { /* description */
		fprintf(f, "\n");
		for (i++; usage[i] && usage[i][0]; i++)
			fprintf(f, "%s\n", usage[i]);
	}
	if (opts[0].type != WN_OPT_GROUP && opts[0].type != WN_OPT_END)
		fprintf(f, "\nOptions:\n");
	for (const struct wn_option *o = opts; o->type != WN_OPT_END; o++) {
		if (o->type == WN_OPT_GROUP)
			fprintf(f, "\n%s:\n", o->help);
		else
			print_option(f, o);
	}
	if (usage[i] && usage[i + 1]) {
		fprintf(f, "\nExamples:\n");
		for (i++; usage[i]; i++)
			fprintf(f, "  %s\n", usage[i]);
	}
}

static int parse_scaled(const char *s, double unit, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || errno)
		return -1;
	if (*end == 'k' || *end == 'K') v *= unit, end++;
	else if (*end == 'M' || *end == 'm') v *= unit * unit, end++;
	else if (*end == 'G' || *end == 'g') v *= unit * unit * unit, end++;
	if (*end)
		return -1;
	*out = v;
	return 0;
}

/* Store `arg` into o; returns NULL or what the option expects. */
static const char *set_value(const struct wn_option *o, const char *arg)
{
	char *end;
	double d;
	switch (o->type) {
	case WN_OPT_STRING:
		*(const char **)o->value = arg;
		return NULL;
	case WN_OPT_INT: {
		errno = 0;
		long v = strtol(arg, &end, 10);
		if (end == arg || *end || errno || v < -2147483647L || v > 2147483647L)
			return "expects an integer (at most 2147483647)";
		*(int *)o->value = (int)v;
		return NULL;
	}
	case WN_OPT_INT64:
		/* range first: converting an out-of-range double is undefined */
		if (parse_scaled(arg, 1000, &d) || !(d >= -9.2e18 && d <= 9.2e18) ||
		    d != (double)(int64_t)d)
			return "expects an integer (k/M/G suffixes allowed)";
		*(int64_t *)o->value = (int64_t)d;
		return NULL;
	case WN_OPT_SIZE:
		if (parse_scaled(arg, 1024, &d) || !(d >= 0 && d <= 1.8e19))
			return "expects a size in bytes (K/M/G suffixes allowed)";
		*(size_t *)o->value = (size_t)d;
		return NULL;
	case WN_OPT_DOUBLE:
		errno = 0;
		d = strtod(arg, &end);
		if (end == arg || *end || errno)
			return "expects a number";
		*(double *)o->value = d;
		return NULL;
	default:
		return "cannot be set";
	}
}

/* Apply a value-taking option; returns 0 or -1 with err filled. */
static int apply_value(const struct wn_option *o, const char *name, const char *arg, char *err,
		       size_t errlen)
{
	if (o->type == WN_OPT_CALLBACK) {
		char why[256] = "";
		if (o->cb(o, arg, why, sizeof why) == 0)
			return 0;
		if (why[0])
			wn_errf(err, errlen, "option '%s': %s", name, why);
		else
			wn_errf(err, errlen, "bad value for option '%s': '%s'", name, arg);
		return -1;
	}
	const char *why = set_value(o, arg);
	if (why) {
		wn_errf(err, errlen, "option '%s' %s, got '%s'", name, why, arg);
		return -1;
	}
	return 0;
}

static int takes_arg(const struct wn_option *o)
{
	return o->type != WN_OPT_BOOL && o->type != WN_OPT_COUNT;
}

static const struct wn_option *find_long(const struct wn_option *opts, const char *name, size_t n,
					 int *negated)
{
	for (const struct wn_option *o = opts; o->type != WN_OPT_END; o++)
		if (o->long_name && strlen(o->long_name) == n && !strncmp(o->long_name, name, n)) {
			*negated = 0;
			return o;
		}
	if (n > 3 && !strncmp(name, "no-", 3))
		for (const struct wn_option *o = opts; o->type != WN_OPT_END; o++)
			if (o->type == WN_OPT_BOOL && o->long_name && strlen(o->long_name) == n - 3 &&
			    !strncmp(o->long_name, name + 3, n - 3)) {
				*negated = 1;
				return o;
			}
	return NULL;
}

const struct wn_option *wn_opts_find(const struct wn_option *opts, const char *name)
{
	int negated;
	const struct wn_option *o = find_long(opts, name, strlen(name), &negated);
	return o && !negated ? o : NULL;
}

static const struct wn_option *find_short(const struct wn_option *opts, int c)
{
	for (const struct wn_option *o = opts; o->type != WN_OPT_END; o++)
		if (o->short_name == c)
			return o;
	return NULL;
}

static size_t edit_distance(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);
	if (na > 63 || nb > 63)
		return 64;
	size_t row[64];
	for (size_t j = 0; j <= nb; j++)
		row[j] = j;
	for (size_t i = 1; i <= na; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= nb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < best) best = row[j] + 1;
			if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[nb];
}

const char *wn_opts_suggest(const struct wn_option *opts, const char *name)
{
	const char *best = NULL;
	size_t best_d = 3;
	for (const struct wn_option *o = opts; o->type != WN_OPT_END; o++) {
		if (!o->long_name)
			continue;
		size_t d = edit_distance(name, o->long_name);
		if (d < best_d || (!best && !strncmp(o->long_name, name, strlen(name)))) {
			best = o->long_name;
			best_d = d < best_d ? d : best_d;
		}
	}
	return best;
}

static int unknown_long(const struct wn_option *opts, const char *name, size_t n, char *err,
			size_t errlen)
{
	char nm[128];
	snprintf(nm, sizeof nm, "%.*s", (int)n, name);
	const char *s = wn_opts_suggest(opts, nm);
	if (s)
		wn_errf(err, errlen, "unknown option '--%s'; did you mean '--%s'?", nm, s);
	else
		wn_errf(err, errlen, "unknown option '--%s'", nm);
	return -1;
}

/* One "--name[=v]" word; *i advances past a consumed value. */
static int parse_long(const struct wn_option *opts, int argc, const char **argv, int *i,
		      char *err, size_t errlen)
{
	const char *a = argv[*i], *name = a + 2, *eq = strchr(name, '=');
	size_t n = eq ? (size_t)(eq - name) : strlen(name);
	int negated;
	const struct wn_option *o = find_long(opts, name, n, &negated);
	if (!o)
		return unknown_long(opts, name, n, err, errlen);
	if (!takes_arg(o)) {
		if (eq) {
			wn_errf(err, errlen, "option '--%.*s' takes no value", (int)n, name);
			return -1;
		}
		if (o->type == WN_OPT_BOOL)
			*(int *)o->value = !negated;
		else
			(*(int *)o->value)++;
		return 0;
	}
	const char *arg = eq ? eq + 1 : NULL;
	if (!arg) {
		if (*i + 1 >= argc) {
			wn_errf(err, errlen, "option '%s' requires a value", a);
			return -1;
		}
		arg = argv[++*i];
	}
	char nm[128];
	snprintf(nm, sizeof nm, "--%.*s", (int)n, name);
	return apply_value(o, nm, arg, err, errlen);
}

/* One "-abc" word of bundled short options. */
static int parse_short(const struct wn_option *opts, int argc, const char **argv, int *i,
		       char *err, size_t errlen)
{
	for (const char *c = argv[*i] + 1; *c; c++) {
		const struct wn_option *o = find_short(opts, *c);
		char nm[3] = {'-', *c, 0};
		if (!o) {
			wn_errf(err, errlen, "unknown option '%s'", nm);
			return -1;
		}
		if (!takes_arg(o)) {
			if (o->type == WN_OPT_BOOL)
				*(int *)o->value = 1;
			else
				(*(int *)o->value)++;
			continue;
		}
		const char *arg = c[1] ? c + 1 : NULL;
		if (!arg) {
			if (*i + 1 >= argc) {
				wn_errf(err, errlen, "option '%s' requires a value", nm);
				return -1;
			}
			arg = argv[++*i];
		}
		return apply_value(o, nm, arg, err, errlen);
	}
	return 0;
}

int wn_opts_parse_argv(const struct wn_option *opts, int argc, const char **argv, int *npos,
		       char *err, size_t errlen)
{
	int out = 0, only_args = 0;
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			*npos = 0;
			return 1;
		} else if (!strcmp(argv[i], "--")) {
			break;
		}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int rc = 0;
		if (only_args || a[0] != '-' || !strcmp(a, "-"))
			argv[out++] = a;
		else if (!strcmp(a, "--"))
			only_args = 1;
		else if (a[1] == '-')
			rc = parse_long(opts, argc, argv, &i, err, errlen);
		else
			rc = parse_short(opts, argc, argv, &i, err, errlen);
		if (rc)
			return -1;
	}
	argv[out] = NULL;
	*npos = out;
	return 0;
}

static int parse_bool(const char *v, int *out)
{
	static const char *const yes[] = {"true", "yes", "on", "1"}, *const no[] = {"false", "no", "off", "0"};
	for (int i = 0; i < 4; i++) {
		if (!strcasecmp(v, yes[i]))
			return *out = 1, 0;
		if (!strcasecmp(v, no[i]))
			return *out = 0, 0;
	}
	return -1;
}

int wn_opts_set(const struct wn_option *opts, const char *name, const char *value, char *err,
		size_t errlen)
{
	const struct wn_option *o = wn_opts_find(opts, name);
	if (!o) {
		const char *s = wn_opts_suggest(opts, name);
		if (s)
			wn_errf(err, errlen, "unknown option '%s'; did you mean '%s'?", name, s);
		else
			wn_errf(err, errlen, "unknown option '%s'", name);
		return -1;
	}
	if (o->type == WN_OPT_BOOL || o->type == WN_OPT_COUNT) {
		int b;
		if (parse_bool(value, &b)) {
			wn_errf(err, errlen, "option '%s' expects true or false, got '%s'", name, value);
			return -1;
		}
		*(int *)o->value = b;
		return 0;
	}
	return apply_value(o, name, value, err, errlen);
}
