/*
 * selectors/facility.h — facility location, F(S) = Σ_i max_{j∈S} sim(i,j),
 * maximised greedily over a sparse similarity (issue 19):
 *
 *  - lazy greedy (Minoux 1978; apricot's default): a max-heap of stale
 *    gains, the top re-evaluated until it still leads. Ties go to the
 *    smaller index, so it picks exactly the set plain greedy picks;
 *  - stochastic greedy (Mirzasoleiman et al. 2015, --epsilon ε): each step
 *    the best of ceil(n/M · ln(1/ε)) remaining candidates drawn without
 *    replacement (Philox keyed by seed, stream, step);
 *  - a knapsack budget (Leskovec et al. 2007's cost-benefit greedy): the
 *    best gain/cost among the candidates that still fit, then the better
 *    of that set and the best single element (Khuller et al.: together at
 *    least (1−1/e)/2 of the optimum).
 *
 * The similarity is stored by candidate: for each j the points i it would
 * cover and sim(i,j) > 0 (a reverse kNN list plus the point itself), so
 * memory is O(n·k) and a gain costs O(entries of j). Sums of gains are
 * taken in a fixed order: results do not depend on threads.
 *
 * Owns: the problem's arrays (wn_fl_free) and the result's (wn_fl_result_free).
 * Borrows: core/rng.h.
 */
#ifndef WN_SELECTORS_FACILITY_H
#define WN_SELECTORS_FACILITY_H

#include <stddef.h>
#include <stdint.h>

typedef struct wn_fl_problem {
	int64_t n;
	int64_t *start; /* n + 1: candidate j's entries are [start[j], start[j+1]) */
	int64_t *who;   /* the point an entry covers */
	double *sim;    /* sim(who, j) > 0 */
} wn_fl_problem;

/*
 * From a kNN graph: nbr[i*k + t] (−1 = none) with similarity sim[i*k + t];
 * entries with sim <= 0 and i itself among its neighbours are skipped; when
 * self_sim is given, each point covers itself with self_sim[i] (> 0 only).
 */
int wn_fl_from_knn(wn_fl_problem *p, int64_t n, int64_t k, const int64_t *nbr, const float *sim,
		   const float *self_sim);
/* From a dense n×n similarity S[i*n + j] (entries > 0 kept): for tests and small n. */
int wn_fl_from_dense(wn_fl_problem *p, int64_t n, const double *S);
void wn_fl_free(wn_fl_problem *p);

enum wn_fl_method { WN_FL_LAZY = 0, WN_FL_PLAIN = 1, WN_FL_STOCHASTIC = 2 };

typedef struct wn_fl_opts {
	int method;          /* enum wn_fl_method */
	double budget;       /* records (cost NULL: floor), or cost units */
	const double *cost;  /* n positive costs, or NULL (1 each) */
	double epsilon;      /* stochastic: in (0, 1) */
	uint64_t seed;       /* stochastic */
} wn_fl_opts;

typedef struct wn_fl_result {
	int64_t m;           /* selected */
	int64_t *order;      /* m: candidates in the order chosen */
	double *gain;        /* m: marginal gains */
	double *objective;   /* m: F after each step */
	double cost_used;
	int64_t evals;       /* gain evaluations */
	int single;          /* knapsack: the best single element won */
} wn_fl_result;

/* Returns 0, or -1 with err (out of memory, bad options). */
int wn_fl_greedy(const wn_fl_problem *p, const wn_fl_opts *o, wn_fl_result *r, char *err,
		 size_t errlen);
void wn_fl_result_free(wn_fl_result *r);
/* F(S) straight from the definition over the problem's entries. */
double wn_fl_value(const wn_fl_problem *p, const int64_t *S, int64_t m);

#endif
