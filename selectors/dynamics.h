/*
 * selectors/dynamics.h — training dynamics of a proxy classifier and the
 * per-example scores read from them: EL2N and GraNd (Paul et al. 2021),
 * forgetting events (Toneva et al. 2019), the area under the margin
 * (Pleiss et al. 2020) and the variance of gradients (Agarwal et al. 2022,
 * in Anand et al. 2023's text variant), each averaged over runs.
 *
 * Owns: the training loop around core/train.h's primitives (mini-batch
 * AdamW steps, an evaluation of the whole set every log_every steps, the
 * held-out accuracy after every epoch, the per-epoch parameter checkpoints
 * VoG needs) and the score arithmetic, also exposed on plain arrays so a
 * test can hold it against a hand computation.
 * Borrows: the compute core and its model (core/train.h), Philox
 * (core/rng.h) and permutations (core/sample.h). Knows matrices and class
 * ids, never records (selectors/train_step.c maps records to these).
 * Why: every data-selection score that needs a trained model shares one
 * training run; computing them in one pass costs one set of evaluations.
 *
 * Definitions (T evaluations, K checkpoints, R runs):
 *  - el2n: ||softmax(z) - onehot(y)||_2 after epoch score_epoch (0 = at
 *    initialisation);
 *  - grand: ||grad CE|| of the last layer at initialisation, as
 *    wn_model_scores computes it (||p - y|| sqrt(||h||^2 + 1));
 *  - forgetting: correct -> incorrect transitions between consecutive
 *    evaluations (correct: the first arg max of z is y); an example never
 *    correct at any evaluation gets T;
 *  - aum: the mean of z_y - max_{k != y} z_k over the evaluations made once
 *    the first epoch is complete;
 *  - vog: at the end of every epoch (K = epochs) the gradient of z_y with
 *    respect to the input; per element its variance across the K
 *    checkpoints (population form), then the mean over elements; vog_std
 *    takes the per-element standard deviation instead (Agarwal's form);
 *    vog_norm then standardises the scores (after averaging over runs)
 *    within each class or over the whole set;
 *  - pvi: log2 f_x(y) - log2 f_null(y) (Ethayarajh et al. 2022), f_x the
 *    model after the last epoch, f_null the same model trained as many
 *    epochs on the training rows' labels with a zero input. As the input is
 *    zero, the first layer never reaches the output, so f_null is trained
 *    with a one-element zero input (the same functions, none of the cost),
 *    and as every row of a batch is then the same, each step runs one row
 *    and the batch's label counts (wn_model_train_constant: the gradient
 *    of the batch's mean loss without the float sums over its rows);
 *  - tracin: TracIn self-influence (Pruthi et al. 2020), the sum over the
 *    K epoch checkpoints of ||d CE / d theta||^2, theta the last hidden
 *    layer (W1, b1) of the MLP, or the weights and bias of the linear model
 *    (wn_model_hidden_grad_sq), without the learning-rate factor (a
 *    constant here);
 *  - traj: the per-example loss after every epoch (S2L's trajectories).
 * Every score is deterministic for a seed at any thread count.
 */
#ifndef WN_SELECTORS_DYNAMICS_H
#define WN_SELECTORS_DYNAMICS_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "core/train.h"

enum wn_dyn_vog_norm { WN_DYN_VOG_NONE = 0, WN_DYN_VOG_CLASS = 1, WN_DYN_VOG_DATASET = 2 };

typedef struct wn_dyn_opts {
	int64_t hidden;       /* 0: linear model; else the MLP's hidden width */
	int act;              /* enum wn_act (MLP) */
	wn_train_opts train;  /* batch, epochs, lr, betas, eps, weight decay; seed */
	int runs;             /* independent runs averaged (default 1) */
	int score_epoch;      /* EL2N after this epoch (0..epochs; default 2) */
	int64_t log_every;    /* evaluate the whole set every N steps (0: once per epoch) */
	int vog_std;          /* per-element std instead of variance */
	int vog_norm;         /* enum wn_dyn_vog_norm */
	float dropout;        /* MLP: dropout on the hidden layer during training steps */
} wn_dyn_opts;

void wn_dyn_opts_default(wn_dyn_opts *o);

/* Per-example results, n entries each (malloc'd by wn_dyn_run). */
typedef struct wn_dyn_scores {
	int64_t n;
	double *el2n, *grand, *forgetting, *aum, *vog;
	double *pvi, *tracin;
	float *traj;          /* n x K: the loss after every epoch (K = epochs) */
	int64_t K;
	int64_t evaluations;  /* T of one run */
	int64_t steps;        /* optimizer steps of one run */
	double step_seconds;  /* wall time of the optimizer steps, every run (what a framework's
			       * training loop times; evaluations on a --log-every cadence too) */
	double seconds;       /* wall time of the whole call: steps, scores, checkpoints */
} wn_dyn_scores;

void wn_dyn_scores_free(wn_dyn_scores *s);

/*
 * What a caller may watch (every member optional): after every epoch of
 * every run, the mean training loss and, when a held-out set exists, its
 * accuracy (n_holdout > 0); after every evaluation, the logits of rows
 * [first, first + B) (B x C) at optimizer step `step` (the trace forgetting
 * and the margin are read from; per-checkpoint losses for trajectories).
 */
typedef struct wn_dyn_hooks {
	void (*epoch)(void *ctx, int run, int epoch, double train_loss, double holdout_acc,
		      int64_t n_holdout);
	void (*eval)(void *ctx, int run, int64_t step, int64_t first, int64_t B, const float *logits);
	/*
	 * Checkpoints: save (optional) gets the parameters (core/train.h's
	 * layout) of run `run` at epoch `epoch` (0: the initial weights) or of
	 * its PVI null model (epoch -1, a model of input d_in 1). load, when
	 * set, replaces training: every run reads its initial weights, its
	 * epoch checkpoints and its null model, and the scores are computed
	 * from them with one evaluation per epoch (the default cadence, so the
	 * scores equal those of the run that saved them; the train loss of the
	 * epoch hook is then NaN). Each returns 0, or -1 with err.
	 */
	int (*save)(void *ctx, int run, int epoch, const float *P, int64_t d_in, char *err,
		    size_t errlen);
	int (*load)(void *ctx, int run, int epoch, float *P, int64_t d_in, char *err, size_t errlen);
	void *ctx;
} wn_dyn_hooks;

/*
 * Train o->runs models on the rows of X (n x d) with labels y in [0, C),
 * skipping the rows with holdout[i] != 0 (NULL: none), and score every row,
 * held-out ones included; hooks may be NULL. Run r draws its initial weights and its shuffles
 * from wn_rng_derive(o->train.seed, r). Returns 0, or -1 with one line in
 * err.
 */
int wn_dyn_run(wn_core *c, const wn_dyn_opts *o, const float *X, const int32_t *y, int64_t n,
	       int64_t d, int64_t C, const unsigned char *holdout, const wn_dyn_hooks *hooks,
	       wn_dyn_scores *out, char *err, size_t errlen);

/*
 * Train one model (initial weights and shuffles from seed) on the rows
 * train_idx[0..n_train) of X, o->train.epochs epochs of the same
 * mini-batch AdamW steps as wn_dyn_run, without scores or evaluations of
 * the whole set; acc (optional, o->train.epochs entries) gets the accuracy
 * on the rows hold_idx[0..n_hold) after every epoch. The order of
 * train_idx matters only through the shuffles: a caller wanting the same
 * model for the same set passes it sorted. train_idx may name a row more
 * than once (n_train may exceed n): the row is then trained on that many
 * times an epoch, as a copy of it would be. 0, or -1 with one line in err.
 */
int wn_dyn_fit(wn_core *c, const wn_dyn_opts *o, const float *X, const int32_t *y, int64_t n,
	       int64_t d, int64_t C, const int64_t *train_idx, int64_t n_train,
	       const int64_t *hold_idx, int64_t n_hold, uint64_t seed, double *acc, char *err,
	       size_t errlen);


/* ---- the arithmetic, on plain arrays (for tests and other steps) ---- */

/* PVI in bits from the two cross-entropies (nats): (loss_null - loss_x) / ln 2. */
double wn_dyn_pvi(double loss_null, double loss_x);
/* The q-quantile (0..1) of v[0..n) with linear interpolation between the
 * order statistics (numpy's default); v is sorted in place. */
double wn_dyn_quantile(double *v, int64_t n, double q);
/* Forgetting events of one correctness sequence of T evaluations. */
int64_t wn_dyn_forgetting(const unsigned char *correct, int64_t T);
/* z[y] - max_{k != y} z[k] for C >= 2 logits. */
double wn_dyn_margin(const float *z, int64_t C, int32_t y);
/* The first arg max of C logits. */
int64_t wn_dyn_argmax(const float *z, int64_t C);
/* VoG of one example from K gradients of d elements (K x d row-major). */
double wn_dyn_vog(const float *grads, int64_t K, int64_t d, int use_std);
/* Standardise v in place ((v - mean) / std, population; std 0 gives 0),
 * within each class of y (WN_DYN_VOG_CLASS) or over all n. */
void wn_dyn_normalise(double *v, const int32_t *y, int64_t n, int64_t C, int how);

#endif
