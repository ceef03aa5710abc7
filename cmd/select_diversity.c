/*
 * cmd/select_diversity.c — `winnow select facility-location` (and
 * `winnow select volume`): diversity selection over the records' vectors
 * (issue 19). Usage and option tables only; the steps are
 * selectors/facility_step.c and selectors/volume_step.c.
 */
#include "cmd/common.h"
#include "selectors/facility_step.h"

static const char *const fl_usage[] = {
	"winnow select facility-location --budget M [--cost FIELD] [--epsilon E] [options] [file...]",
	"",
	"Keep the records that best cover the rest: facility location by greedy.",
	"Maximises F(S) = sum_i max_{j in S} sim(i,j), sim = max(0, cosine) on the --knn nearest",
	"neighbours of each record (plus sim(i,i) = 1), searched on the core like `cluster graph",
	"--engine core` (memory n k; that step annotates only component ids, so the graph is built",
	"here). Lazy greedy (apricot's default; ties to the earlier record, so it picks exactly the",
	"set of plain greedy, --plain). --epsilon E: stochastic greedy, each step the best of",
	"ceil(n/M ln(1/E)) remaining records drawn by --seed. --cost FIELD: a knapsack budget of M",
	"cost units (e.g. tokens), the best gain/cost that still fits, then the better of that set",
	"and the best single record (apricot's cost-scaled greedy has no such second candidate).",
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
		OPT_DOUBLE(0, "epsilon", &o->epsilon, "E", "stochastic greedy with sample size ceil(n/M ln(1/E))"),
		OPT_BOOL(0, "plain", &o->plain, "plain greedy: every candidate re-evaluated each step"),
		OPT_INT(0, "knn", &o->knn, "K", "neighbours per record in the similarity graph (default 10)"),
		OPT_INT64(0, "seed", &o->seed, "S", "--epsilon: random seed (default 0)"),
		OPT_GROUP("Vectors"),
		OPT_STRING(0, "field-emb", &o->field_emb, "PATH", "vector member (default: winnow.emb)"),
		OPT_STRING(0, "npy", &o->npy, "FILE", "vectors from a float32 .npy, one row per record"),
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
