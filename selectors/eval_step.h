/*
 * selectors/eval_step.h — the `eval` step: prune curves of a score against
 * random selection at the same budget (selectors/eval.h), read from the
 * records' vectors, labels and score; the table to the step's output,
 * --json and --svg to their files.
 *
 * Owns: the step's options and their rules. Borrows: the training data
 * and options of the `train` step (selectors/train_step.h: the same
 * model options, validated by wn_train_step_check), selectors/eval.h.
 */
#ifndef WN_SELECTORS_EVAL_STEP_H
#define WN_SELECTORS_EVAL_STEP_H

#include "io/stream.h"
#include "selectors/eval.h"
#include "selectors/train_step.h"

typedef struct wn_eval_opts {
	wn_stream_opts io;
	wn_train_step_opts tr;   /* label, model, epochs, seed, vectors (tr.io unused) */
	const char *by;          /* --by PATH: the score (required unless --keep random) */
	const char *fracs_arg;   /* --fracs */
	const char *keep;        /* --keep high|low|random, or a comma list */
	int repeats;
	double holdout;          /* --holdout FRAC (default 0.2) */
	double temperature, eps; /* --temperature (softmax), --eps (linear) */
	const char *json, *svg;  /* output files */
	/* filled by check */
	double fracs[WN_EVAL_MAX_FRACS];
	int nfracs, rules[WN_EVAL_MAX_CURVES], nrules;
} wn_eval_opts;

void wn_eval_init(wn_eval_opts *o);
int wn_eval_check(wn_eval_opts *o, char *err, size_t errlen);
int wn_eval_step_run(const wn_eval_opts *o, wn_stream *s, wn_step_report *rep, char *err,
		     size_t errlen);

#endif
