/*
 * selectors/train_step.h — the `train` step: a proxy classifier trained on
 * the records' vectors with labels from a field, and every record
 * annotated with the scores of its training dynamics (winnow.el2n,
 * winnow.grand, winnow.forgetting, winnow.aum, winnow.vog, winnow.pvi,
 * winnow.tracin, winnow.s2l_cluster; winnow.holdout on held-out records).
 * With --model gat it trains the GAIS graph-attention proxy instead
 * (selectors/gais.h) and writes winnow.gais alone (and winnow.holdout).
 * With --trajectories the step trains nothing: it clusters the given
 * per-checkpoint losses (S2L) and writes winnow.s2l_cluster alone.
 *
 * Owns: the step's options and their rules, the label -> class id mapping
 * (classes numbered in byte order of their labels, so the ids do not
 * depend on record order; with --holdout FILE over the labels of both the
 * records and the file), the held-out split, the per-epoch report.
 * Borrows: cluster/vectors.h (records spooled, vectors read and checked,
 * records written back in input order), selectors/dynamics.h (training
 * and scores), the compute core.
 */
#ifndef WN_SELECTORS_TRAIN_STEP_H
#define WN_SELECTORS_TRAIN_STEP_H

#include "cluster/vectors.h"
#include "io/buf.h"
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
	double lr, weight_decay, dropout;
	const char *holdout_arg; /* --holdout FRAC|FILE as given */
	double holdout;          /* FRAC, 0 = none (set by check) */
	const char *holdout_file; /* FILE: labelled records with vectors, scored each epoch */
	const char *labels_out;  /* --labels-out FILE (JSONL: class, label, records) */
	const char *npy;         /* vectors from a .npy */
	const char *field_emb;   /* vector member (default winnow.emb) */
	int vog_std;
	const char *vog_norm;    /* none | class | dataset */
	int64_t s2l_k;           /* --s2l-k K: clusters of the loss trajectories (0: none) */
	const char *trajectories;      /* --trajectories FILE.npy: cluster these, no training */
	const char *save_trajectories; /* --save-trajectories FILE.npy */
	int aum_threshold;       /* --aum-threshold: Pleiss et al.'s fake-class samples */
	const char *save_ckpt;   /* --save-checkpoints DIR (selectors/train_ckpt.h) */
	const char *from_ckpt;   /* --from-checkpoints DIR: scores without training */
	const char *graph;       /* --model gat: --graph minibatch | lsh */
	int bits, levels, views; /* --graph lsh: --bits, --levels, --views */
	int64_t k, heads;        /* --model gat: -k K neighbours, --heads H */
	int layers;              /* --model gat: --layers L */
	wn_dyn_opts dyn;         /* filled by check */
} wn_train_step_opts;

/*
 * The training data of a proxy-model step (train, eval): the records and
 * their vectors (v), a label from `label` for each, classes numbered in
 * byte order of the label text, and optionally a number from `score`
 * (a dotted path such as winnow.el2n) per record. A record without a
 * vector, a label or the score is rejected under the stream's policy and
 * leaves every array. Owns everything inside (wn_train_data_free).
 */
typedef struct wn_train_data {
	wn_cluster_vectors v;  /* v.n rows kept, v.X their vectors */
	wn_buf text;           /* every label, back to back */
	size_t *off, *len;     /* per example: its label in text */
	int32_t *y;            /* class ids */
	int64_t C;
	int64_t *first;        /* per class: an example holding its label */
	int64_t *count;        /* per class: examples */
	double *score;         /* per example, when a score path was given */
} wn_train_data;

/* Read the whole stream; 0, or -1 (a policy stop, or the reason in err:
 * no usable record, one class only). */
int wn_train_data_load(wn_train_data *D, wn_stream *s, const char *field_emb, const char *npy,
		       const char *label, const char *score, char *err, size_t errlen);
void wn_train_data_free(wn_train_data *D);
/* The label text of class cls. */
void wn_train_data_label(const wn_train_data *D, int64_t cls, const char **p, int *n);
/* "winnow <cmd>: C classes from FIELD: 0=a (20) 1=b (20) ..." on stderr. */
void wn_train_data_report(const wn_train_data *D, const char *label, const char *cmd);
/* The held-out mask of floor(frac n) examples (at least 1 when frac > 0),
 * drawn by seed; NULL with *nh = 0 for frac 0, NULL with *nh = -1 when
 * memory runs out. */
unsigned char *wn_train_holdout(double frac, uint64_t seed, int64_t n, int64_t *nh);

/*
 * The device a proxy trains on under --device auto: "cpu" when --batch x the
 * hidden width (64 for the linear model) is below WN_TRAIN_AUTO_CPU_MAX, where
 * each step's products are too small for the GPU's per-product round trips;
 * NULL leaves the choice alone (dev, else $WINNOW_DEVICE, names a device other
 * than auto; --trajectories and the gat model train no proxy of this shape).
 * train and eval apply it in their checks.
 */
#define WN_TRAIN_AUTO_CPU_MAX (1 << 20)
const char *wn_train_auto_device(const wn_train_step_opts *o, const char *dev);

void wn_train_step_init(wn_train_step_opts *o);
/* 0, or -1 with a usage error in err. */
int wn_train_step_check(wn_train_step_opts *o, char *err, size_t errlen);
int wn_train_step_run(const wn_train_step_opts *o, wn_stream *s, wn_step_report *rep, char *err,
		      size_t errlen);

#endif
