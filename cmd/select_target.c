/*
 * cmd/select_target.c — the cluster-, quality- and target-driven selectors
 * of issue 20: `winnow select kmq` (Diversify and Conquer), `select mig`
 * (MIG) and `select rds` (RDS+). Usage and option tables only; the steps
 * are selectors/kmq_step.c, selectors/mig_step.c and selectors/rds_step.c.
 */
#include "cmd/common.h"
#include "selectors/kmq_step.h"
#include "selectors/mig_step.h"
#include "selectors/rds_step.h"

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

/* ---- select mig ---- */

static const char *const mig_usage[] = {
	"winnow select mig --budget N --labels PATH --quality PATH [--prop-weight W] [--norm] [--phi pow|exp] [file...]",
	"",
	"MIG: greedy information gain over a label graph, N picks.",
	"Labels (a string or an array of strings at --labels) are sorted bytewise and embedded like",
	"`winnow embed` (--model hash, the default, or a model DIR); W = cosine of the label vectors",
	"with entries below --threshold (0.9) set to 0; P = W divided by its column sums, the",
	"off-diagonal times --prop-weight (default 1). Record i: v_i[l] = s_i on its labels",
	"(s_i/|L_i| with --norm), u_i = v_i P. Greedy from x = 0: pick argmax u_i . phi'(x)",
	"(first record on ties), x += u_i; phi(x) = (x+1e-6)^0.8 (pow, default) or 1-exp(-x) (exp).",
	"Quality must be >= 0. Writes the picks in input order with winnow.mig_rank (0 = first) and",
	"winnow.mig_gain. The hash model puts different words far apart: only a real encoder",
	"(--model DIR) joins synonyms as the paper's embedding model does.",
	"",
	"winnow select mig --budget 6000 --labels tags --quality winnow.deita pool.jsonl",
	NULL,
};

static void mig_options(void *p, struct wn_option *t)
{
	wn_mig_opts *o = p;
	WN_STEP_TABLE(t,
		OPT_GROUP("MIG"),
		OPT_INT64(0, "budget", &o->budget, "N", "records to pick (required)"),
		OPT_STRING(0, "labels", &o->labels, "PATH", "labels: a string or an array of strings (required)"),
		OPT_STRING(0, "quality", &o->quality, "PATH", "quality score >= 0 (required)"),
		OPT_DOUBLE(0, "prop-weight", &o->prop_weight, "W", "weight of the off-diagonal of P (default 1)"),
		OPT_DOUBLE(0, "threshold", &o->threshold, "T", "label similarities below T are 0 (default 0.9)"),
		OPT_BOOL(0, "norm", &o->norm, "v_i = s_i / |L_i| instead of s_i"),
		OPT_STRING(0, "phi", &o->phi_name, "F", "pow (default) or exp"),
		OPT_GROUP("Label embeddings"),
		OPT_STRING(0, "model", &o->model, "hash|DIR", "hash (default) or a sentence-transformers directory"),
		OPT_INT(0, "dim", &o->dim, "N", "hash: dimension (default 512)"),
		OPT_STRING(0, "char-ngrams", &o->char_ngrams, "MIN,MAX", "hash: add character n-grams (e.g. 3,5)"),
		WN_STREAM_OPTIONS(&o->io),
		WN_COMPUTE_OPTIONS(&o->io));
}

static void mig_init(void *p) { wn_mig_init(p); }
static int mig_check(void *p, int *npos, const char **pos, char *err, size_t n) { return wn_mig_check(p, err, n); }
static int mig_run(void *p, wn_stream *s, wn_step_report *r, char *err, size_t n) { return wn_mig_run(p, s, r, err, n); }

const wn_step wn_step_select_mig = {"select mig", mig_usage, sizeof(wn_mig_opts), WN_STEP_WHOLE,
				    mig_init, mig_options, mig_check, mig_run, NULL};

/* ---- select rds ---- */

static const char *const rds_usage[] = {
	"winnow select rds --target FILE --budget N [--per-task FIELD] [file...]",
	"",
	"RDS+: the pool records nearest to a target set, round-robin over the target's queries.",
	"Score cos(q, x) of unit vectors, pool and target at --field-emb (default winnow.emb): embed",
	"both with the same `winnow embed` options. The paper pools by position-weighted means: a",
	"model whose 1_Pooling/config.json sets pooling_mode_weightedmean_tokens. Each query ranks",
	"the pool (ties to the earlier record); round r: each query in target order offers its r-th",
	"record, an already selected one is wasted; the run stops at exactly N, cutting the last",
	"round in query order (the reference cuts it in set order: not deterministic). --per-task",
	"FIELD: a task's score is the max over its queries, round-robin across tasks in order of",
	"first appearance. Writes the picks in input order with winnow.rds (the picking score),",
	"winnow.rds_rank and winnow.rds_task.",
	"",
	"winnow embed pool.jsonl > p.jsonl; winnow embed dev.jsonl > t.jsonl",
	"winnow select rds --target t.jsonl --budget 10000 --per-task task p.jsonl",
	NULL,
};

static void rds_options(void *p, struct wn_option *t)
{
	wn_rds_opts *o = p;
	WN_STEP_TABLE(t,
		OPT_GROUP("RDS+"),
		OPT_STRING(0, "target", &o->target, "FILE", "target records with vectors (required)"),
		OPT_INT64(0, "budget", &o->budget, "N", "records to pick (required)"),
		OPT_STRING(0, "per-task", &o->per_task, "FIELD", "group the target's queries by this field"),
		OPT_STRING(0, "field-emb", &o->field_emb, "PATH", "vector member of pool and target (default winnow.emb)"),
		WN_STREAM_OPTIONS(&o->io),
		WN_COMPUTE_OPTIONS(&o->io));
}

static void rds_init(void *p) { wn_rds_init(p); }
static int rds_check(void *p, int *npos, const char **pos, char *err, size_t n) { return wn_rds_check(p, err, n); }
static int rds_run(void *p, wn_stream *s, wn_step_report *r, char *err, size_t n) { return wn_rds_run(p, s, r, err, n); }

const wn_step wn_step_select_rds = {"select rds", rds_usage, sizeof(wn_rds_opts), WN_STEP_WHOLE,
				    rds_init, rds_options, rds_check, rds_run, NULL};
