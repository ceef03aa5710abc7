/*
 * io/step.h — the shape of a step: what cmd/'s driver and the recipe runner
 * (pipelines/) both need to know to run any subcommand in one process.
 *
 * Owns: nothing (a description). Borrows: io/options.h, io/stream.h.
 *
 * A step's options live in one struct that starts with a wn_stream_opts
 * (the standard input/output options); `options` binds the step's option
 * table — its schema — to one instance of that struct, so that argv (cmd/)
 * and a recipe's keys (pipelines/) fill the same fields through the same
 * validation. `check` validates the filled struct before any output is
 * opened (a failed check is a usage error: exit 2), and `run` is the one
 * call into the library: wn_<step>_run(opts, stream, report, err, errlen)
 * in the step's own folder.
 */
#ifndef WN_IO_STEP_H
#define WN_IO_STEP_H

#include <stddef.h>

#include "io/options.h"
#include "io/stream.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WN_STEP_MAX_OPTIONS 128

enum wn_step_flags {
	WN_STEP_NO_OUTPUT = 1,  /* writes no JSONL (store, stats): the sink is its own */
	WN_STEP_WHOLE = 2,      /* needs the whole stream before it emits (k-means, top-k) */
	WN_STEP_NO_INPUT = 4,   /* reads no records (device, export) */
};

typedef struct wn_step {
	const char *name;                 /* "cat", "score zipfit" */
	const char *const *usage;         /* usage lines, description, examples */
	size_t opts_size;                 /* sizeof the options struct */
	unsigned flags;                   /* enum wn_step_flags */
	/* Fill *opts with the defaults. */
	void (*init)(void *opts);
	/* Write the option table bound to opts into tab (at most WN_STEP_MAX_OPTIONS
	 * entries, ending with OPT_END()). */
	void (*options)(void *opts, struct wn_option *tab);
	/* Validate after parsing, before any output is opened: 0, or -1 with a
	 * usage error in err. pos[0..*npos) are the positional words; a step that
	 * takes leading words of its own (store's DB) removes them, and the rest
	 * are the input files. May be NULL. */
	int (*check)(void *opts, int *npos, const char **pos, char *err, size_t errlen);
	/* Run over the open stream: 0, or -1 (the reason printed, or in err). */
	int (*run)(void *opts, wn_stream *s, wn_step_report *rep, char *err, size_t errlen);
	/* Release what check or run allocated inside opts. May be NULL. */
	void (*release)(void *opts);
} wn_step;

/* Copy a step's option table into tab, checking it fits. */
#define WN_STEP_TABLE(tab, ...)                                                  \
	do {                                                                     \
		const struct wn_option t_[] = {__VA_ARGS__, OPT_END()};         \
		_Static_assert(sizeof t_ / sizeof t_[0] <= WN_STEP_MAX_OPTIONS, \
			       "too many options");                              \
		memcpy((tab), t_, sizeof t_);                                    \
	} while (0)

#ifdef __cplusplus
}
#endif

#endif
