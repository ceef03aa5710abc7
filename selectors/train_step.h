/*
 * selectors/train_step.h — the `train` step: a proxy classifier trained on
 * the records' vectors with labels from a field, and every record
 * annotated with the scores of its training dynamics (winnow.el2n,
 * winnow.grand, winnow.forgetting, winnow.aum, winnow.vog; winnow.holdout
 * on held-out records).
 *
 * Owns: the step's options and their rules, the label -> class id mapping
 * (classes numbered in byte order of their labels, so the ids do not
 * depend on record order), the held-out split, the per-epoch report.
 * Borrows: cluster/vectors.h (records spooled, vectors read and checked,
 * records written back in input order), selectors/dynamics.h (training
 * and scores), the compute core.
 */
#ifndef WN_SELECTORS_TRAIN_STEP_H
#define WN_SELECTORS_TRAIN_STEP_H

#include "io/stream.h"
#include "selectors/dynamics.h"

typedef struct wn_train_step_opts {
	wn_stream_opts io;
	const char *label;       /* --label FIELD (required) */
	const char *model;       /* linear | mlp */
	int64_t hidden;          /* --hidden H (mlp) */
	const char *act;         /* relu | gelu */
	int epochs, runs, score_epoch;
	int64_t batch, seed, log_every;
	double lr, weight_decay;
	double holdout;          /* --holdout FRAC, 0 = none */
	const char *labels_out;  /* --labels-out FILE (JSONL: class, label, records) */
	const char *npy;         /* vectors from a .npy */
	const char *field_emb;   /* vector member (default winnow.emb) */
	int vog_std;
	const char *vog_norm;    /* none | class | dataset */
	wn_dyn_opts dyn;         /* filled by check */
} wn_train_step_opts;

void wn_train_step_init(wn_train_step_opts *o);
/* 0, or -1 with a usage error in err. */
int wn_train_step_check(wn_train_step_opts *o, char *err, size_t errlen);
int wn_train_step_run(const wn_train_step_opts *o, wn_stream *s, wn_step_report *rep, char *err,
		      size_t errlen);

#endif
