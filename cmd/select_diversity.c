/*
 * cmd/select_diversity.c — `winnow select facility-location` (and
 * `winnow select volume`): diversity selection over the records' vectors
 * (issue 19). Usage and option tables only; the steps are
 * selectors/facility_step.c and selectors/volume_step.c.
 */
#include "cmd/common.h"
#include "selectors/facility_step.h"
#include "selectors/volume_step.h"

static const char *const fl_usage[] = {
	"winnow select facility-location --budget M [--cost FIELD] [--epsilon E] [options] [file...]",
	"",
	"Keep the records that best cover the rest: facility location by greedy.",
	"Maximises F(S) = sum_i max_{j in S} sim(i,j), sim = max(0, cosine) on the --knn nearest",
	"neighbours of each record (plus sim(i,i) = 1), searched on the core like `cluster graph",
	"--engine core` (that step annotates only component ids, so the graph is built here; it",
	"holds n k similarities, the search the n x d unit vectors). Lazy greedy (apricot's",
	"default; ties to the earlier record, so it picks exactly the set of plain greedy, --plain).",
	"--epsilon E: stochastic greedy (Mirzasoleiman et al. 2015), each step the best of",
	"ceil(n/M ln(1/E)) remaining records drawn by --seed. --cost FIELD: a knapsack budget of M",
	"cost units (e.g. tokens), the best gain/cost that still fits, then the better of that set",
	"and the best single record (Khuller et al. 1999; this second candidate is our addition to",
	"the cost-scaled greedy). On --device cuda the similarities come from the CUDA kNN.",
	"Kept records are written in input order with winnow.fl_rank (1 = chosen first) and",
	"winnow.fl_gain; --stats FILE gets the objective after every step, the gains and the order.",
	"",
	"winnow select facility-location --budget 1000 emb.jsonl > diverse.jsonl",
	"winnow select facility-location --budget 2e6 --cost tokens --stats fl.json emb.jsonl",
	"winnow select facility-location --budget 1000 --epsilon 0.01 --seed 1 emb.jsonl",
	NULL,
};

static void fl_options(void *p, struct wn_option *t)
{
	wn_fl_step_opts *o = p;
	WN_STEP_TABLE(t,
		OPT_GROUP("Facility location"),
		OPT_DOUBLE(0, "budget", &o->budget, "M", "records to keep, or cost units with --cost (required)"),
		OPT_STRING(0, "cost", &o->cost, "FIELD", "a positive number per record (a field or winnow.*)"),
		OPT_DOUBLE(0, "epsilon", &o->epsilon, "E", "stochastic greedy, sample size ceil(n/M ln(1/E)) (default 0: lazy)"),
		OPT_BOOL(0, "plain", &o->plain, "plain greedy: every candidate re-evaluated each step"),
		OPT_INT(0, "knn", &o->knn, "K", "neighbours per record in the similarity graph (default 10)"),
		OPT_INT64(0, "seed", &o->seed, "S", "--epsilon: random seed (default 0)"),
		WN_VECTOR_OPTIONS(&o->field_emb, &o->npy),
		OPT_STRING(0, "stats", &o->stats, "FILE", "write the objective per step, gains and order as JSON"),
		WN_STREAM_OPTIONS(&o->io),
		WN_COMPUTE_OPTIONS(&o->io));
}

static void fl_init(void *p) { wn_fl_step_init(p); }
static int fl_check(void *p, int *npos, const char **pos, char *err, size_t n) { return wn_fl_step_check(p, err, n); }
static int fl_run(void *p, wn_stream *s, wn_step_report *r, char *err, size_t n) { return wn_fl_step_run(p, s, r, err, n); }

const wn_step wn_step_select_facility_location = {
	"select facility-location", fl_usage, sizeof(wn_fl_step_opts), WN_STEP_WHOLE,
	fl_init, fl_options, fl_check, fl_run, NULL};

static const char *const vol_usage[] = {
	"winnow select volume --sample M [--seed S] [options] [file...]",
	"",
	"Draw M records by volume sampling: a projection DPP over the top-M singular vectors.",
	"K = U_M U_M^T, U_M the top-M left singular vectors of the n x d vectors (float64 SVD);",
	"P(S) ~ det(K_S), row i kept with probability p_i = |U_M[i]|^2 (its rank-M leverage);",
	"M = rank is the volume sampling P(S) ~ det(A_S)^2 under which least squares on S is",
	"unbiased. Chain-rule spectral sampler, keyed by --seed. Drawn records are written in",
	"input order with winnow.dpp_p = p_i, winnow.dpp_rank (draw order) and winnow.weight =",
	"1/p_i: Nouy & Michel's weighted least-squares weight w(x) = M/K(x,x) with K(x_i,x_i) = n p_i",
	"for the empirical measure, scaled by n/M so that sum_S weight_i f_i estimates sum_i f_i.",
	"M must not exceed the rank of the vectors (a projection DPP has exactly M points).",
	"",
	"winnow select volume --sample 64 --seed 1 emb.jsonl > design.jsonl",
	NULL,
};

static void vol_options(void *p, struct wn_option *t)
{
	wn_vol_step_opts *o = p;
	WN_STEP_TABLE(t,
		OPT_GROUP("Volume sampling"),
		OPT_INT64(0, "sample", &o->sample, "M", "records to draw, at most the rank (required)"),
		OPT_INT64(0, "seed", &o->seed, "S", "random seed (default 0)"),
		WN_VECTOR_OPTIONS(&o->field_emb, &o->npy),
		OPT_STRING(0, "stats", &o->stats, "FILE", "write the rank, singular values and draw order as JSON"),
		WN_STREAM_OPTIONS(&o->io),
		OPT_GROUP("Compute"),
		OPT_INT(0, "threads", &o->io.threads, "N", "threads to use (default: all cores)"));
}

static void vol_init(void *p) { wn_vol_step_init(p); }
static int vol_check(void *p, int *npos, const char **pos, char *err, size_t n) { return wn_vol_step_check(p, err, n); }
static int vol_run(void *p, wn_stream *s, wn_step_report *r, char *err, size_t n) { return wn_vol_step_run(p, s, r, err, n); }

const wn_step wn_step_select_volume = {
	"select volume", vol_usage, sizeof(wn_vol_step_opts), WN_STEP_WHOLE,
	vol_init, vol_options, vol_check, vol_run, NULL};
