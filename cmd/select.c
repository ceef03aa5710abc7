/*
 * cmd/select.c — `winnow select`: keep a subset of the stream by a field or
 * an annotation (top-N, fraction, filters, samples, per-group caps, RS2
 * epochs, temperature mixing, the balanced hierarchical sample). The step
 * is selectors/plan.c.
 */
#include "cmd/common.h"
#include "selectors/plan.h"

static const char *const select_usage[] = {
	"winnow select --top N | --frac F  --by PATH [--asc] [file...]",
	"winnow select --sample N | --frac F  [--weights PATH [--log-weights]] [--seed S] [file...]",
	"winnow select --per PATH  --cap N [--by PATH] | --top N --by PATH | --frac F | --sample N  [file...]",
	"winnow select --epochs E  --frac F | --sample N  [--seed S] [file...]",
	"winnow select --mix PATH [--temperature T]  --sample N | --upweight  [file...]",
	"winnow select --mix PATH --mix-weights NAME=W,... | @FILE  --sample N [--seed S] [file...]",
	"winnow select --balanced --cap N [--hier PATH] [--multiplier M] [--strategy r|c --by DIST] [--seed S] [file...]",
	"winnow select --balanced-clusters PATH --sample N [--seed S] [file...]",
	"winnow select --min PATH=VALUE --max PATH=VALUE [file...]",
	"",
	"Keep a subset of the records by a field (section) or an annotation (winnow.zipfit).\n"
	"Kept records are written byte-identical, in input order; select adds only\n"
	"winnow.epoch (--epochs) and winnow.weight (--upweight). --min/--max filter\n"
	"first and combine with every mode. Ties in --by go to the earlier record.\n"
	"Every random choice is keyed by --seed (default 0): same input, same output.\n"
	"--mix-weights @FILE reads the mixture from FILE: the JSON that `winnow sources plan --json`\n"
	"writes (each source's \"name\", else its \"path\" without folder and .jsonl/.gz/.zst endings,\n"
	"with its \"p\"; so name the source files after the --mix values: libs.jsonl for section libs),\n"
	"or one NAME WEIGHT a line (space, tab or comma between; '#' comments). A bad file is a usage\n"
	"error naming FILE:LINE (exit 2).",
	"",
	"winnow select --top 1000 --by winnow.zipfit pool.jsonl > aligned.jsonl",
	"winnow select --sample 5000 --weights winnow.dsir --log-weights --seed 1 pool.jsonl.zst",
	"winnow select --per section --cap 20 --by installed_kb debian.jsonl.gz",
	"winnow select --epochs 3 --frac 0.1 --seed 7 train.jsonl > rs2.jsonl",
	"winnow select --mix section --temperature 3 --upweight debian.jsonl.gz",
	"winnow select --mix section --mix-weights libs=0.4,devel=0.3,python=0.2,doc=0.1 --sample 1000 debian.jsonl.gz",
	"winnow sources plan --json ... > plan.json; winnow select --mix section --mix-weights @plan.json --sample 1000 pool.jsonl",
	"winnow select --balanced --cap 10000 --seed 1 clustered.jsonl",
	"winnow select --balanced-clusters winnow.s2l_cluster --sample 5000 trained.jsonl",
	NULL,
};

static void select_options(void *p, struct wn_option *t)
{
	wn_select_opts *o = p;
	WN_STEP_TABLE(t,
		OPT_GROUP("Ranking"),
		OPT_INT64(0, "top", &o->top, "N", "keep the N records with the largest --by value"),
		OPT_DOUBLE(0, "frac", &o->frac, "F", "keep floor(F x n) records (top by --by, else at random)"),
		OPT_STRING(0, "by", &o->by, "PATH", "the key to rank by (a field or winnow.* annotation)"),
		OPT_BOOL(0, "asc", &o->asc, "rank smallest first"),
		OPT_CALLBACK(0, "min", o, "PATH=V", "keep records with PATH >= V (repeatable)", wn_select_filter_cb),
		OPT_CALLBACK(0, "max", o, "PATH=V", "keep records with PATH <= V (repeatable)", wn_select_filter_cb),
		OPT_GROUP("Sampling"),
		OPT_INT64(0, "sample", &o->sample, "N", "draw N records without replacement (per group with --per)"),
		OPT_STRING(0, "weights", &o->weights, "PATH", "draw with probability proportional to PATH"),
		OPT_BOOL(0, "log-weights", &o->log_weights, "--weights holds log-weights (Gumbel top-k on exp)"),
		OPT_INT64(0, "seed", &o->seed, "S", "random seed (default 0)"),
		OPT_GROUP("Groups"),
		OPT_STRING(0, "per", &o->per, "PATH", "select inside each group of PATH's value"),
		OPT_INT64(0, "cap", &o->cap, "N", "--per: N per group (first N; best by --by; drawn by --weights);"
			  " --balanced: N in all"),
		OPT_INT64(0, "epochs", &o->epochs, "E", "RS2: an independent uniform subset per epoch (winnow.epoch)"),
		OPT_STRING(0, "mix", &o->mix, "PATH", "temperature sampling over the groups of PATH"),
		OPT_STRING(0, "mix-weights", &o->mix_weights, "N=W,...|@FILE", "--mix: draw group N with probability W"
			   " (weights >= 0 summing to 1; unnamed groups get 0); @FILE: from a file (above)"),
		OPT_DOUBLE(0, "temperature", &o->temperature, "T", "--mix: p(group) ~ n^(1/T) (default 1)"),
		OPT_BOOL(0, "upweight", &o->upweight, "--mix: keep all, write winnow.weight instead"),
		OPT_BOOL(0, "balanced", &o->balanced, "balanced sample over the cluster hierarchy"),
		OPT_STRING(0, "hier", &o->hier, "PATH", "--balanced: cluster ids per level (default winnow.hcluster)"),
		OPT_INT64(0, "multiplier", &o->multiplier, "M", "--balanced: a cluster counts M times its size; small clusters repeat up to M times (default 1)"),
		OPT_STRING(0, "strategy", &o->strategy, "r|c", "--balanced: inside a level-1 cluster draw at random (r, default) or the closest by --by (c)"),
		OPT_STRING(0, "balanced-clusters", &o->clusters, "PATH", "S2L's draw over the clusters of PATH: smallest first, each"
			   " floor(left / clusters left), uniformly inside (with --sample N)"),
		WN_STREAM_OPTIONS(&o->io));
}

static void select_init(void *p) { wn_select_init(p); }
static void select_release(void *p) { wn_select_release(p); }
static int select_check(void *p, int *npos, const char **pos, char *err, size_t n) { return wn_select_check(p, err, n); }
static int select_run(void *p, wn_stream *s, wn_step_report *r, char *err, size_t n) { return wn_select_run(p, s, r, err, n); }

const wn_step wn_step_select = {"select", select_usage, sizeof(wn_select_opts), 0, select_init,
				select_options, select_check, select_run, select_release};
