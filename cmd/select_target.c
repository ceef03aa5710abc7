/*
 * cmd/select_target.c — the cluster-, quality- and target-driven selectors
 * of issue 20: `winnow select kmq` (Diversify and Conquer), `select mig`
 * (MIG) and `select rds` (RDS+). Usage and option tables only; the steps
 * are selectors/kmq_step.c, selectors/mig_step.c and selectors/rds_step.c.
 */
#include "cmd/common.h"
#include "selectors/kmq_step.h"

/* ---- select kmq ---- */

static const char *const kmq_usage[] = {
	"winnow select kmq --budget N [--quality PATH] [--mode paper|code] [--rounds R] [file...]",
	"",
	"kMQ (Diversify and Conquer): per-cluster sampling weighted by quality, N draws.",
	"Clusters come from --cluster (default winnow.cluster, e.g. from `winnow cluster kmeans`).",
	"--mode paper (default): cluster budget N*|C|/n (largest remainder), draws with replacement,",
	"P(i) = s_i / sum of s over the cluster; a record drawn c times is written once with",
	"winnow.count = c. --mode code (the released code): equal budget per cluster (water-filled:",
	"small clusters give all they have, leftover units to the lowest cluster ids), without",
	"replacement, P = softmax(s) over the cluster. No --quality: uniform.",
	"--rounds R: the iterative variant without the retraining: round r draws N/R from what",
	"earlier rounds left (winnow.kmq_round = r). The released code's per-cluster quota",
	"N*frac/(K*R) is a bug (R applied twice); here the rounds' budgets sum to N.",
	"Records are written in input order. Defaults: --mode paper, --rounds 1, --seed 0.",
	"",
	"winnow embed c.jsonl | winnow cluster kmeans -k 100 | winnow select kmq --budget 5000 --quality winnow.q",
	NULL,
};

static void kmq_options(void *p, struct wn_option *t)
{
	wn_kmq_opts *o = p;
	WN_STEP_TABLE(t,
		OPT_GROUP("kMQ"),
		OPT_INT64(0, "budget", &o->budget, "N", "draws in all (required)"),
		OPT_STRING(0, "quality", &o->quality, "PATH", "quality score (default: none, uniform)"),
		OPT_STRING(0, "cluster", &o->cluster, "PATH", "cluster id (default winnow.cluster)"),
		OPT_STRING(0, "mode", &o->mode_name, "MODE", "paper (default) or code"),
		OPT_INT64(0, "rounds", &o->rounds, "R", "iterative rounds (default 1)"),
		OPT_INT64(0, "seed", &o->seed, "S", "random seed (default 0)"),
		WN_STREAM_OPTIONS(&o->io),
		OPT_GROUP("Compute"),
		OPT_INT(0, "threads", &o->io.threads, "N", "threads to use (default: all cores)"));
}

static void kmq_init(void *p) { wn_kmq_init(p); }
static int kmq_check(void *p, int *npos, const char **pos, char *err, size_t n) { return wn_kmq_check(p, err, n); }
static int kmq_run(void *p, wn_stream *s, wn_step_report *r, char *err, size_t n) { return wn_kmq_run(p, s, r, err, n); }

const wn_step wn_step_select_kmq = {"select kmq", kmq_usage, sizeof(wn_kmq_opts), WN_STEP_WHOLE,
				    kmq_init, kmq_options, kmq_check, kmq_run, NULL};
