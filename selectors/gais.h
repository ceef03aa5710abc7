/*
 * selectors/gais.h — GAIS (Rustamov et al. 2025): graph-attention instance
 * selection. A GAT proxy classifier trained over a kNN graph of the
 * records; a record's score is the attention it receives.
 *
 * Owns: the GAT layer math as plain functions over arrays (forward and
 * hand-written backward, multi-head), a small GAT classifier (its
 * parameters, caches and AdamW moments), the distance-based class-keeping
 * mini-batch graph and the hierarchical LSH graph, and the training
 * driver that returns winnow.gais.
 * Borrows: the caller's vectors and labels (never modified); Philox
 * (core/rng.h) for the weights, the anchor and the hyperplanes,
 * core/sample.h for the batch order of each epoch.
 *
 * Every choice past the paper's abstract is winnow's own (the paper's text
 * and code were not available): see wn_gais_run and `winnow train --help`.
 * All arithmetic is serial double precision inside a batch, so the result
 * does not depend on the thread count.
 */
#ifndef WN_SELECTORS_GAIS_H
#define WN_SELECTORS_GAIS_H

#include <stddef.h>
#include <stdint.h>

#define WN_GAIS_SLOPE 0.2 /* LeakyReLU negative slope */

/* A graph in CSR form: row i lists the sources j of target i (N(i) and i
 * itself); src holds indices in [0, n). */
typedef struct wn_gais_graph {
	int64_t n;
	int64_t *ptr; /* n + 1 */
	int64_t *src; /* ptr[n] */
} wn_gais_graph;

/* Softmax of m scores into alpha (max-shifted). */
void wn_gais_softmax(const double *e, int64_t m, double *alpha);
double wn_gais_leaky(double x);

/*
 * One GAT layer of H heads with F outputs each, over din inputs.
 * theta: H blocks of din x F (row-major); a: H blocks of 2F (a_target,
 * a_source): e_ij = LeakyReLU(a_t . P_i + a_s . P_j), P = X theta_h,
 * alpha_ij = softmax over row i, out_i = sum_j alpha_ij P_j per head,
 * heads concatenated (concat: n x H F) or averaged (n x F).
 */
typedef struct wn_gat_layer {
	int64_t din, H, F;
	int concat;
	const double *theta, *a;
} wn_gat_layer;

/* Caches of one forward pass, needed by backward: P (n x H F), u and
 * alpha (nnz x H: the raw score before LeakyReLU and the attention). */
int wn_gat_forward(const wn_gat_layer *L, const wn_gais_graph *g, const double *X, double *P,
		   double *u, double *alpha, double *out);
/* Gradients of a loss given dout (the shape of out): dtheta, da added to
 * (same layout as theta, a); dX (n x din) overwritten when not NULL.
 * 0, or -1 when memory runs out. */
int wn_gat_backward(const wn_gat_layer *L, const wn_gais_graph *g, const double *X,
		    const double *P, const double *u, const double *alpha, const double *dout,
		    double *dtheta, double *da, double *dX);

/* ---- the classifier ---- */

typedef struct wn_gais_model wn_gais_model;

/* layers GAT layers: the first layers - 1 of `heads` heads of hidden/heads
 * units, concatenated, ELU (hidden a multiple of heads when layers > 1);
 * the last of `heads` heads of C outputs,
 * averaged (the logits). Weights normal, std sqrt(2 / (fan_in + fan_out)),
 * drawn from seed. NULL when memory runs out. */
wn_gais_model *wn_gais_model_new(int64_t din, int64_t hidden, int64_t heads, int layers,
				 int64_t C, uint64_t seed);
void wn_gais_model_free(wn_gais_model *m);
int64_t wn_gais_model_num_params(const wn_gais_model *m);
double *wn_gais_model_params(wn_gais_model *m);
double *wn_gais_model_grads(wn_gais_model *m);
/* Forward over graph g with inputs X (g->n x din); logits (n x C) to out. */
int wn_gais_model_forward(wn_gais_model *m, const wn_gais_graph *g, const double *X, double *logits);
/* Mean cross-entropy over the rows with mask[i] (all when mask is NULL)
 * of the last forward; the gradients replace the model's. */
int wn_gais_model_backward(wn_gais_model *m, const wn_gais_graph *g, const int32_t *y,
			   const unsigned char *mask, double *loss);
/* AdamW step t (1-based) on the gradients; decay on the theta blocks only. */
void wn_gais_model_adamw(wn_gais_model *m, double lr, double wd, int64_t t);
/* Add to recv[j] the attention j receives in the last forward, from every
 * target i != j, every head and every layer. */
void wn_gais_model_received(const wn_gais_model *m, const wn_gais_graph *g, double *recv);

/* ---- the graph ---- */

/*
 * Distance-based mini-batches that keep the class distribution (winnow's
 * own): each class's records ordered by their sign code over 16 Philox
 * hyperplanes through the origin (the first plane the top bit, so records
 * of a cell of the first planes are contiguous), ties by cosine to an
 * anchor record drawn by seed (descending), then by index, and cut into
 * nb = ceil(n / B) consecutive chunks, chunk b going to batch b; inside a
 * batch each record's K most cosine-similar others (brute force, ties by
 * index) are its neighbours. members (n): the record ids batch after batch,
 * start (nb + 1) the offsets; g (nb): the batch graphs over local indices.
 */
typedef struct wn_gais_batches {
	int64_t nb;
	int64_t *members, *start;
	wn_gais_graph *g;
} wn_gais_batches;

int wn_gais_minibatch(const float *X, const int32_t *y, int64_t n, int64_t d, int64_t C,
		      int64_t B, int64_t K, uint64_t seed, wn_gais_batches *out, char *err,
		      size_t errlen);

/*
 * Hierarchical random-projection hashing (winnow's own reading of the
 * paper's LSH graph): `bits` hyperplanes through the origin per level
 * (Philox normals, the same planes for every bucket of a level) give each
 * record a sign code; the records are split by code, and a bucket larger
 * than B is split again by the next level's planes, up to `levels` levels.
 * Buckets in code order with K records or fewer are merged with the next
 * (the last with the one before), so every bucket can give K neighbours.
 * The buckets are the batches; inside one, the kNN graph as above.
 */
int wn_gais_lsh(const float *X, int64_t n, int64_t d, int bits, int levels, int64_t B,
		int64_t K, uint64_t seed, wn_gais_batches *out, char *err, size_t errlen);
/* Multi-view: `views` hashings (view v from seed + v), their buckets side
 * by side, so every record is in `views` batches. */
int wn_gais_lsh_views(const float *X, int64_t n, int64_t d, int bits, int levels, int views,
		      int64_t B, int64_t K, uint64_t seed, wn_gais_batches *out, char *err,
		      size_t errlen);
void wn_gais_batches_free(wn_gais_batches *b);

/* ---- the driver ---- */

typedef struct wn_gais_opts {
	int64_t batch, k, hidden, heads;
	int lsh_bits, lsh_levels; /* lsh_bits > 0: the LSH graph, else the mini-batches */
	int lsh_views;            /* LSH: independent hashings (0 or 1: one) */
	int layers, epochs, runs;
	double lr, weight_decay;
	uint64_t seed;
} wn_gais_opts;

/* Per epoch: run (0-based), epoch (1-based), mean training loss,
 * held-out accuracy (when nh > 0). */
typedef void (*wn_gais_epoch_fn)(void *ctx, int run, int epoch, double loss, double acc, int64_t nh);

/*
 * Train the GAT over the mini-batch graph of (X, y) (rows with holdout[i]
 * are in the graph but not in the loss) for each run (seed + run), and
 * write score[i] = the attention record i receives from the trained
 * model, summed over targets, heads and layers, averaged over runs.
 * 0, or -1 with one line in err.
 */
int wn_gais_run(const wn_gais_opts *o, const float *X, const int32_t *y, int64_t n, int64_t d,
		int64_t C, const unsigned char *holdout, wn_gais_epoch_fn fn, void *ctx,
		double *score, char *err, size_t errlen);

#endif
