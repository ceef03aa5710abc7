/*
 * cmd/coreset.c — `winnow coreset`: a weighted sample by a sensitivity
 * bound, with the weights that make sums over it unbiased (issue 19).
 * Usage and option table only; the step is selectors/coreset_step.c.
 */
#include "cmd/common.h"
#include "selectors/coreset_step.h"

static const char *const coreset_usage[] = {
	"winnow coreset --sample M --weights PATH [--with-replacement|--without-replacement|--pps] [file...]",
	"",
	"Draw a coreset of M records with probability proportional to a sensitivity bound.",
	"With replacement (default): M draws, p_i = s_i / sum(s); each record drawn c_i times is",
	"written once, in input order, with winnow.count = c_i and winnow.weight = c_i / (M p_i).",
	"--pps: systematic PPS, winnow.weight = 1 / pi_i (Horvitz-Thompson). --without-replacement:",
	"M distinct records (Gumbel top-k), winnow.weight = 1 / (M p_i), only approximately unbiased.",
	"stderr reports the effective sample size (Kish) and the sum of weights (estimates n).",
	"",
	"winnow score leverage < emb.jsonl | winnow coreset --sample 10000 --weights winnow.leverage",
	"winnow score kmeans-sensitivity emb.jsonl | winnow coreset --sample 500 --weights winnow.kmeans_sensitivity --pps",
	NULL,
};

static void coreset_options(void *p, struct wn_option *t)
{
	wn_coreset_opts *o = p;
	WN_STEP_TABLE(t,
		OPT_GROUP("Coreset"),
		OPT_INT64(0, "sample", &o->sample, "M", "draws (with replacement) or records (otherwise); required"),
		OPT_STRING(0, "weights", &o->weights, "PATH", "the sensitivity bound, e.g. winnow.leverage (required)"),
		OPT_BOOL(0, "with-replacement", &o->with_replacement, "M independent draws (the default)"),
		OPT_BOOL(0, "without-replacement", &o->without_replacement, "M distinct records, Gumbel top-k"),
		OPT_BOOL(0, "pps", &o->pps, "systematic PPS with exact inclusion probabilities"),
		OPT_INT64(0, "seed", &o->seed, "S", "random seed (default 0)"),
		OPT_STRING(0, "stats", &o->stats, "FILE", "write the effective sample size and sums as JSON"),
		WN_STREAM_OPTIONS(&o->io),
		OPT_GROUP("Compute"),
		OPT_INT(0, "threads", &o->io.threads, "N", "threads to use (default: all cores)"));
}

static void coreset_init(void *p) { wn_coreset_init(p); }
static int coreset_check(void *p, int *npos, const char **pos, char *err, size_t n) { return wn_coreset_check(p, err, n); }
static int coreset_run(void *p, wn_stream *s, wn_step_report *r, char *err, size_t n) { return wn_coreset_run(p, s, r, err, n); }

const wn_step wn_step_coreset = {"coreset", coreset_usage, sizeof(wn_coreset_opts), WN_STEP_WHOLE,
				 coreset_init, coreset_options, coreset_check, coreset_run, NULL};
