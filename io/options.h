/*
 * io/options.h — the one option parser, and the option table as a step's
 * schema (the shape of git's parse-options: a table of OPT_* entries).
 *
 * Owns: parsing argv against a table, setting one option from a key and a
 * string value (what the recipe runner does with YAML), `--no-NAME` for
 * booleans, `--name=value` and `--name value`, bundled short flags, `--`
 * ending options, the help text (usage lines, the option table, examples),
 * and "did you mean" suggestions for unknown names.
 * Borrows: nothing.
 *
 * It lives on the bottom floor, not in cmd/, because a step's options are
 * filled two ways — by cmd/ from argv and by pipelines/ from a recipe — and
 * both must go through the same validation. Nothing here exits: errors come
 * back as -1 with one line in err; cmd/ turns them into exit code 2.
 */
#ifndef WN_IO_OPTIONS_H
#define WN_IO_OPTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

enum wn_opt_type {
	WN_OPT_END = 0,
	WN_OPT_GROUP,   /* a heading in --help */
	WN_OPT_BOOL,    /* int: 1 when given, 0 with --no-NAME */
	WN_OPT_COUNT,   /* int: incremented each time */
	WN_OPT_STRING,  /* const char * (points into argv or the recipe: not copied) */
	WN_OPT_INT,     /* int */
	WN_OPT_INT64,   /* int64_t, accepts k/M/G suffixes (x1000) */
	WN_OPT_SIZE,    /* size_t bytes, accepts K/M/G suffixes (x1024) */
	WN_OPT_DOUBLE,  /* double */
	WN_OPT_CALLBACK /* cb(opt, arg, err, errlen) */
};

struct wn_option;
/* A callback stores arg (it may keep the pointer) and returns 0, or -1 with
 * the reason in err ("expects PATH=VALUE"). */
typedef int (*wn_opt_cb)(const struct wn_option *opt, const char *arg, char *err, size_t errlen);

struct wn_option {
	enum wn_opt_type type;
	int short_name;        /* 0 if none */
	const char *long_name; /* NULL if none */
	void *value;
	const char *argh;      /* argument placeholder in --help, e.g. "N" */
	const char *help;
	wn_opt_cb cb;
};

#define OPT_END() {WN_OPT_END, 0, NULL, NULL, NULL, NULL, NULL}
#define OPT_GROUP(h) {WN_OPT_GROUP, 0, NULL, NULL, NULL, (h), NULL}
#define OPT_BOOL(s, l, v, h) {WN_OPT_BOOL, (s), (l), (v), NULL, (h), NULL}
#define OPT_COUNT(s, l, v, h) {WN_OPT_COUNT, (s), (l), (v), NULL, (h), NULL}
#define OPT_STRING(s, l, v, a, h) {WN_OPT_STRING, (s), (l), (v), (a), (h), NULL}
#define OPT_INT(s, l, v, a, h) {WN_OPT_INT, (s), (l), (v), (a), (h), NULL}
#define OPT_INT64(s, l, v, a, h) {WN_OPT_INT64, (s), (l), (v), (a), (h), NULL}
#define OPT_SIZE(s, l, v, a, h) {WN_OPT_SIZE, (s), (l), (v), (a), (h), NULL}
#define OPT_DOUBLE(s, l, v, a, h) {WN_OPT_DOUBLE, (s), (l), (v), (a), (h), NULL}
#define OPT_CALLBACK(s, l, v, a, h, cb) {WN_OPT_CALLBACK, (s), (l), (v), (a), (h), (cb)}

/*
 * Parse argv[1..argc) (argv[0] is the command name) against `opts`.
 * Positional arguments are kept, in order, in argv[0..*npos).
 * Returns 0, 1 when --help or -h was given (nothing else is parsed), or -1
 * with the reason in err ("unknown option '--kk'; did you mean '--k'?").
 */
int wn_opts_parse_argv(const struct wn_option *opts, int argc, const char **argv, int *npos,
		       char *err, size_t errlen);

/*
 * Set the option whose long name is `name` from the string `value`, with
 * the same validation as argv (a recipe's `k: 1000`). Booleans take
 * true/false/yes/no/1/0. Returns 0, or -1 with the reason in err.
 */
int wn_opts_set(const struct wn_option *opts, const char *name, const char *value, char *err,
		size_t errlen);
/* The option with this long name, or NULL. */
const struct wn_option *wn_opts_find(const struct wn_option *opts, const char *name);
/* The long name closest to `name` (edit distance <= 2, or a prefix), or NULL. */
const char *wn_opts_suggest(const struct wn_option *opts, const char *name);

/*
 * `usage` is a NULL-terminated list: usage lines ("winnow cat [options]
 * [file...]"), then "", a description, then "" and example lines.
 */
void wn_opts_print_usage(FILE *f, const char *const *usage);
void wn_opts_print_help(FILE *f, const char *const *usage, const struct wn_option *opts);
/* The one-line description of a usage list ("" when there is none). */
const char *wn_opts_description(const char *const *usage);
/* "cat" from "winnow cat [options]", "cluster kmeans" from "winnow cluster kmeans ...". */
void wn_opts_command_name(const char *const *usage, char *out, size_t outlen);

#ifdef __cplusplus
}
#endif

#endif
