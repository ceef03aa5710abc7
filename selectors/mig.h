/*
 * selectors/mig.h — MIG (Chen et al. 2025, yichengchen24/MIG): greedy
 * selection that maximises information gain over a semantic label graph.
 * Plain functions over arrays; the step is selectors/mig_step.c.
 *
 *  - label graph: unit label vectors e_l (L labels, sorted), W = e_l·e_m
 *    with entries below the threshold (0.9) set to 0 (W_ll = 1);
 *    P = W with every column divided by its sum, then the off-diagonal
 *    entries multiplied by prop_weight;
 *  - item i with label set L_i and quality s_i >= 0: v_i[l] = s_i for l in
 *    L_i (s_i / |L_i| with norm), u_i = v_i P (a row vector over labels);
 *  - greedy: x = 0 (L); each step picks argmax_i u_i · φ'(x) over the items
 *    not yet picked (first index on ties) and adds u_i to x;
 *    φ(x) = (x + 1e-6)^0.8 (pow), or φ(x) = 1 − e^(−x) (exp: our reading
 *    of the paper's exponential variant).
 * φ' decreases and u_i >= 0, so an item's gain never grows as x does: the
 * greedy runs lazily (a max-heap of gains that may be stale, an item's gain
 * recomputed when it reaches the top) with the same picks as the plain
 * argmax, and the gains of successive picks never increase.
 *
 * Owns: the graph and the item rows it builds (free functions below).
 * Borrows: nothing.
 */
#ifndef WN_SELECTORS_MIG_H
#define WN_SELECTORS_MIG_H

#include <stddef.h>
#include <stdint.h>

enum wn_mig_phi { WN_MIG_PHI_POW = 0, WN_MIG_PHI_EXP = 1 };

/* A sparse L x L (or n x L) matrix by rows: row r is val/col[off[r] .. off[r+1]). */
typedef struct wn_mig_sparse {
	int64_t rows;
	int64_t *off;   /* rows + 1 */
	int32_t *col;
	double *val;
} wn_mig_sparse;

void wn_mig_sparse_free(wn_mig_sparse *m);

/*
 * The propagation matrix P from L label vectors E (L x d, any norm: they
 * are normalised here; a zero vector is similar only to itself).
 * threads <= 0: all cores. Returns 0, or -1 with err.
 */
int wn_mig_graph(const float *E, int64_t L, int64_t d, double threshold, double prop_weight,
		 int threads, wn_mig_sparse *P, char *err, size_t errlen);

/*
 * The rows u_i = v_i P of n items: item i has labels lab[loff[i] ..
 * loff[i+1]) (ids < P->rows, duplicates counted once) and quality s[i]
 * (finite, >= 0). Returns 0, or -1 with err.
 */
int wn_mig_items(const wn_mig_sparse *P, int64_t n, const int64_t *loff, const int32_t *lab,
		 const double *s, int norm, wn_mig_sparse *U, char *err, size_t errlen);

/*
 * Greedy: up to `budget` picks over the rows of U (L labels). pick gets
 * the item of each step, gain its gain then; *npick = min(budget, n).
 * Returns 0, or -1 with err.
 */
int wn_mig_greedy(const wn_mig_sparse *U, int64_t L, int64_t budget, int phi, int threads,
		  int64_t *pick, double *gain, int64_t *npick, char *err, size_t errlen);

#endif
