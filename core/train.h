/*
 * core/train.h — small proxy models for influence scores.
 *
 * Owns: a softmax classifier that is either linear (logits = x W + b) or a
 * one-hidden-layer MLP (logits = act(x W1 + b1) W2 + b2, act ReLU or GELU),
 * its forward and backward passes, softmax cross-entropy with per-example
 * losses, AdamW, shuffled mini-batch training, and the per-example
 * quantities data-selection scores are built from:
 *  - the error vector p - y (EL2N is its L2 norm);
 *  - the norm of the per-example gradient of the loss with respect to the
 *    last layer's weights and bias, ||(p - y) (x) [h, 1]|| = ||p - y|| *
 *    sqrt(||h||^2 + 1), computed without materialising any per-example
 *    gradient (GraNd, last-layer form);
 *  - the gradient of the true-class logit with respect to the input (VoG).
 * Borrows: the compute core (core/core.h): the products run through
 * wn_core_gemm on the context's device, so a model trains on CPU or GPU;
 * the small elementwise steps (softmax cross-entropy, activation
 * derivatives, AdamW) run on the host. Philox (core/rng.h) for
 * initialisation and shuffles.
 * Why: EL2N, GraNd, VoG and forgetting scores all need a cheap model trained
 * a few epochs on embeddings; one implementation serves every selector.
 *
 * Shapes: inputs X are host arrays, n x d_in row-major float32; labels are
 * int32 in [0, n_classes). Results are deterministic for a seed and do not
 * depend on the thread count.
 */
#ifndef WN_CORE_TRAIN_H
#define WN_CORE_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

#ifdef __cplusplus
extern "C" {
#endif

enum wn_act {
	WN_ACT_RELU = 0,
	WN_ACT_GELU = 1,      /* exact (erf) GELU */
	WN_ACT_GELU_TANH = 2, /* tanh approximation */
};

typedef struct wn_model wn_model;

typedef struct wn_train_opts {
	int64_t batch;      /* mini-batch size (<= the model's max_batch); default 128 */
	int epochs;         /* default 1 */
	float lr;           /* default 1e-3 */
	float beta1, beta2; /* default 0.9, 0.999 */
	float eps;          /* default 1e-8 */
	float weight_decay; /* decoupled, on weight matrices only; default 0.01 */
	uint64_t seed;      /* shuffling; default 0 */
} wn_train_opts;

void wn_train_opts_default(wn_train_opts *o);

/*
 * A model on context c. hidden = 0 gives the linear model (act ignored).
 * Weights are drawn from (seed): normal with std sqrt(2 / fan_in) for a
 * hidden layer, sqrt(1 / fan_in) for the output layer; biases start at 0.
 * max_batch bounds every batch passed to the calls below. NULL on failure,
 * with one line in errbuf.
 */
wn_model *wn_model_new(wn_core *c, int64_t d_in, int64_t hidden, int64_t n_classes, int act,
		       int64_t max_batch, uint64_t seed, char *errbuf, size_t errlen);
void wn_model_free(wn_model *m);
const char *wn_model_error(const wn_model *m);

/*
 * Parameters as one host vector, in this order: linear W (d_in x C), b (C);
 * MLP W1 (d_in x H), b1 (H), W2 (H x C), b2 (C). Gradients (after
 * wn_model_backward) use the same layout.
 */
int64_t wn_model_num_params(const wn_model *m);
int wn_model_get_params(wn_model *m, float *host);
int wn_model_set_params(wn_model *m, const float *host);
int wn_model_get_grads(wn_model *m, float *host);

/*
 * Forward pass on B <= max_batch rows; probabilities (B x C, host) to
 * probs_out when given. The activations stay in the model for backward;
 * so does X itself on the CPU backend (the products read the caller's
 * rows, no copy): keep X unchanged until the backward of this pass.
 */
int wn_model_forward(wn_model *m, const float *X_host, int64_t B, float *probs_out);

/* The logits (B x C, host) of the last forward pass: margins (AUM) need
 * them exact where a probability would underflow. */
int wn_model_logits(wn_model *m, float *out);

/*
 * Softmax cross-entropy against labels y of the last forward batch:
 * per-example losses to loss_out (optional, B), their mean to *mean_loss
 * (optional), and the gradient of the mean loss for every parameter.
 */
int wn_model_backward(wn_model *m, const int32_t *y_host, float *loss_out, double *mean_loss);

/*
 * The backward of a 1-row forward (no dropout) that stands for a batch of
 * B rows with that same input, whose labels occur cnt[c] times (summing
 * to B): the gradient of the batch's mean loss, from p - cnt / B (in
 * double, then float), and that mean loss to *mean_loss. The same
 * gradient as wn_model_backward on the B identical rows up to the
 * rounding of the sums over rows (which it does not make).
 */
int wn_model_backward_counts(wn_model *m, const int64_t *cnt, int64_t B, double *mean_loss);

/* One AdamW step with the last gradients (bias-corrected moments). */
int wn_model_adamw_step(wn_model *m, const wn_train_opts *o);

/*
 * o->epochs epochs of shuffled mini-batches over (X, y): epoch e (counted
 * over the model's whole life, so training can resume) shuffles with
 * Philox (o->seed, e); a last short batch is kept. epoch_loss (optional,
 * o->epochs entries) gets each epoch's mean training loss.
 */
int wn_model_train(wn_model *m, const float *X, const int32_t *y, int64_t n,
		   const wn_train_opts *o, double *epoch_loss);

/*
 * wn_model_train for n examples that all have the input x (one row of
 * d_in): the same shuffles and batches, each step one forward row and
 * wn_model_backward_counts with the batch's label counts. PVI's null
 * model (a zero input) trains so at the cost of one row per step.
 */
int wn_model_train_constant(wn_model *m, const float *x, const int32_t *y, int64_t n,
			    const wn_train_opts *o, double *epoch_loss);

/*
 * Per-example quantities for n examples, in batches of at most max_batch;
 * every output is optional (NULL):
 *   loss (n): cross-entropy; el2n (n): ||p - y||; grand (n): last-layer
 *   gradient norm ||p - y|| sqrt(||h||^2 + 1) (h = x for the linear model);
 *   err (n x C): p - y; probs (n x C).
 */
int wn_model_scores(wn_model *m, const float *X, const int32_t *y, int64_t n, float *loss,
		    float *el2n, float *grand, float *err, float *probs);

/* VoG's input gradient: out (n x d_in) = d logit[y_i] / d x_i. It runs
 * no full forward (the logits are not needed), so no backward or
 * wn_model_logits may follow it. */
int wn_model_input_grad(wn_model *m, const float *X, const int32_t *y, int64_t n, float *out);

/* The MLP's hidden pre-activations x W1 + b1 of the last forward (B x
 * hidden) to out: kept by a caller that needs the input gradient of the
 * same rows under the same parameters later. */
int wn_model_hidden_pre(wn_model *m, float *out);

/* wn_model_input_grad of the MLP from those pre-activations (n x hidden,
 * as wn_model_hidden_pre gave them under the current parameters) instead
 * of a first-layer product: the same values, bit for bit, without it. */
int wn_model_input_grad_pre(wn_model *m, const float *pre, const int32_t *y, int64_t n,
			    float *out);

/* ---- issue 18: TracIn self-influence, checkpoints ---- */

/*
 * The squared norm of each example's gradient of the cross-entropy with
 * respect to the last hidden layer's parameters, out (n): for the MLP (W1,
 * b1), ||delta||^2 (||x||^2 + 1) with delta = (W2 (p - y)) (.) act'(pre);
 * for the linear model (W, b), ||p - y||^2 (||x||^2 + 1). TracIn's
 * self-influence sums it over checkpoints.
 */
int wn_model_hidden_grad_sq(wn_model *m, const float *X, const int32_t *y, int64_t n, float *out);

/*
 * One forward pass of B <= max_batch rows and every per-example quantity
 * the dynamics read from it (each output optional, NULL): logits (B x C),
 * loss and el2n (B) as wn_model_scores, hidden_grad_sq (B) as
 * wn_model_hidden_grad_sq. The same values, bit for bit, as the separate
 * calls over the same blocks, from one forward instead of several. xsq
 * (optional) holds the rows' ||x||^2 from wn_model_row_sqnorms, so a
 * caller passing over the same rows every epoch computes them once.
 */
int wn_model_pass(wn_model *m, const float *X, const int32_t *y, int64_t B, const double *xsq,
		  float *logits, float *loss, float *el2n, float *hidden_grad_sq);

/* out[i] = ||X_i||^2 in double, summed in element order (the value the
 * TracIn term uses), rows split over `threads`. */
void wn_model_row_sqnorms(const float *X, int64_t n, int64_t d, int threads, double *out);

/*
 * Dropout on the MLP's hidden activations (inverted: a kept unit is scaled
 * by 1 / (1 - p)), applied only by forward passes made while
 * wn_model_dropout_active(m, 1); every such pass draws a fresh mask from
 * Philox (seed, a stream per pass, the unit), so training stays
 * deterministic. Backward goes through the mask of the last forward. The
 * linear model has no hidden layer: dropout does nothing there.
 * wn_model_dropout_mask: that mask (B x hidden), or NULL when the last
 * forward applied none.
 */
int wn_model_set_dropout(wn_model *m, float p, uint64_t seed);
void wn_model_dropout_active(wn_model *m, int on);
const float *wn_model_dropout_mask(const wn_model *m);

/* The shape the model was made with (hidden 0: linear). */
void wn_model_shape(const wn_model *m, int64_t *d_in, int64_t *hidden, int64_t *n_classes,
		    int *act);

#ifdef __cplusplus
}
#endif

#endif
