/*
 * cmd/common.h — what every command file shares: the step driver (argv ->
 * a step's options -> an open stream -> the step's one library call -> the
 * closing line and the exit code), the usage-error format, and opening the
 * (the recipe runner's command).
 *
 * Owns: exit codes and the messages around them. Borrows: io/step.h
 * (the step shape), io/stream.h, core/core.h.
 *
 * A command file is a table of contents: its usage, its option table bound
 * to its options struct, a check of the options, and one call:
 *
 *   static const char *const cat_usage[] = {...};
 *   static void cat_options(void *p, struct wn_option *t) { ... WN_STEP_TABLE(t, ...); }
 *   static int cat_run(void *p, wn_stream *s, wn_step_report *r, char *err, size_t n)
 *   { return wn_cat_run(p, s, r, err, n); }
 *   const wn_step wn_step_cat = {"cat", cat_usage, sizeof(wn_cat_opts), 0, ...};
 *
 * and cmd/steps.c lists it in the one table of steps.
 */
#ifndef WN_CMD_COMMON_H
#define WN_CMD_COMMON_H

#include <stdint.h>
#include <string.h>

#include "core/core.h"
#include "io/options.h"
#include "io/step.h"
#include "io/stream.h"

/* The one table of steps (cmd/steps.c), shared by main.c and `winnow run`. */
extern const wn_step *const wn_steps[];
/* The step called `name` ("cat", "score zipfit"), or NULL. */
const wn_step *wn_step_find(const char *name);

/* Parse argv into the step's options, open the stream, run, finish:
 * returns the exit code (0, 1 runtime failure, 2 usage error). A step
 * flagged WN_STEP_NO_INPUT gets a stream with no source (its positional
 * words are its own: a check that leaves any is a usage error) and, unless
 * WN_STEP_NO_OUTPUT, a sink. */
int wn_step_main(const wn_step *step, int argc, const char **argv);

/* "winnow <name> <argv[1..] as typed>", each word quoted for a shell
 * (malloc'd; NULL when memory runs out): what runs.command records. */
char *wn_cmd_command_line(const char *name, int argc, const char **argv);

/* ---- for the one command that is not a step (run, the recipe runner) ---- */

/* Parse argv against opts: on --help prints help and exits 0; on an error
 * prints "winnow <cmd>: <what>" and a pointer to --help, and exits 2.
 * Positional words are kept in argv[0..ret). */
int wn_parse_options(int argc, const char **argv, const struct wn_option *opts,
		     const char *const *usage);
/* "winnow <cmd>: <what>" and a pointer to --help on stderr, then exit 2. */
void wn_usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 2, 3)));

/* "winnow <cmd>: <message>" on stderr. */
void wn_cmd_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The "Vectors" option group as every step that reads vectors begins it:
 * --field-emb PATH and --npy FILE into the two const char * given. */
#define WN_VECTOR_OPTIONS(field, npy)                                                        \
	OPT_GROUP("Vectors"),                                                                \
	OPT_STRING(0, "field-emb", (field), "PATH", "vector member (default: winnow.emb)"), \
	OPT_STRING(0, "npy", (npy), "FILE", "vectors from a float32 .npy, one row per record")

#endif
