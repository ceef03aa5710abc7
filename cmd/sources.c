/*
 * cmd/sources.c — `winnow sources qqt|ot|plan` (issue 21): which sources,
 * in what mixture, and how many quality pools for a budget, before any
 * per-record selection. Usage and option tables only; the steps are
 * selectors/sources_*_step.c. They read no records: each opens its own
 * files and writes one report to stdout or -o.
 */
#include "cmd/common.h"
#include "selectors/sources_step.h"

static const char *const qqt_usage[] = {
	"winnow sources qqt --pilots FILE --budget SAMPLES[,SAMPLES...] --pool-size SAMPLES [--a A] [--d D] [--json]",
	"",
	"Choose how many quality pools to train on for a compute budget (QQT scaling laws).",
	"Error after n samples of S per epoch: (x0^b0 + d) * prod_{k=1..floor(n/S)} (x_k/x'_k)^b_k,",
	"x_k = a min(S(k+1), n)/1e5, x'_k = a S k/1e5, b_k = b 0.5^(k/tau). The top-k pools (sorted by",
	"b, most negative first) mix as S = k x pool size, tau_i -> k tau_i, b_k = mean_i b_i 0.5^(k/(k tau_i)).",
	"--pilots rows: POOL SAMPLES_PER_EPOCH SAMPLES_SEEN ERROR (spaces or commas; # comments).",
	"Per pool, (b, tau) are fitted on the 100x100 grid b in [-0.5, -0.005], tau in [1, 10]",
	"(least squares, visited in an order shuffled by --seed; first strict minimum wins). a is",
	"shared: --a, or fitted once: the a of a 100-point grid in [1e-4, --a-upper] minimizing the",
	"sum over pools of each pool's best (b, tau) residual. d defaults to 0.1 (estimate_best_pool.py).",
	"Prints each pool's fit and residual (sum of squares), the error of top-1..top-P at each",
	"budget, the best k, and frac = k/P for `winnow select --frac`.",
	"Differences from the official code: the grid order is seeded (Philox), not numpy's global",
	"RNG; a is fitted on the full grid, not on grid_search.py's random 100,000-point cut.",
	"",
	"winnow sources qqt --pilots pilots.txt --budget 32M,128M,640M --pool-size 12.8M --a 0.022",
	"winnow sources qqt --pilots pilots.txt --budget 640M --pool-size 12.8M --json",
	NULL,
};

static void qqt_options(void *p, struct wn_option *t)
{
	wn_sources_qqt_opts *o = p;
	WN_STEP_TABLE(t,
		OPT_GROUP("QQT"),
		OPT_STRING(0, "pilots", &o->pilots, "FILE", "pilot errors: POOL S N ERROR per line (required)"),
		OPT_STRING(0, "budget", &o->budget, "SAMPLES", "samples seen in training, comma-separated (required)"),
		OPT_INT64(0, "pool-size", &o->pool_size, "SAMPLES", "samples in each pool (required)"),
		OPT_DOUBLE(0, "a", &o->a, "A", "shared scale a (default: fitted once)"),
		OPT_DOUBLE(0, "d", &o->d, "D", "irreducible error d (default 0.1)"),
		OPT_DOUBLE(0, "a-upper", &o->a_upper, "A", "upper end of the a grid when fitted (default 0.2)"),
		OPT_INT64(0, "seed", &o->seed, "S", "seed of the grid order (default 0)"),
		OPT_BOOL(0, "json", &o->json, "one JSON document instead of the table"),
		WN_STREAM_OPTIONS(&o->io));
}

static void qqt_init(void *p) { wn_sources_qqt_init(p); }
static int qqt_check(void *p, int *npos, const char **pos, char *err, size_t n) { return wn_sources_qqt_check(p, *npos, err, n); }
static int qqt_run(void *p, wn_stream *s, wn_step_report *r, char *err, size_t n) { return wn_sources_qqt_run(p, s, r, err, n); }
static void qqt_release(void *p) { wn_sources_qqt_release(p); }

const wn_step wn_step_sources_qqt = {"sources qqt", qqt_usage, sizeof(wn_sources_qqt_opts), WN_STEP_NO_INPUT,
				     qqt_init, qqt_options, qqt_check, qqt_run, qqt_release};

static const char *const ot_usage[] = {
	"winnow sources ot --source A.jsonl --source B.jsonl ... --target VAL.jsonl [--label FIELD] [--mix P,P,...]",
	"",
	"OT dataset distances of sources and mixtures to a target (projektor, label-aware OTDD).",
	"Ground cost c((x,y),(x',y')) = |x-x'|^2/2 + W(y,y')/2 on the records' vectors (--emb), W the",
	"entropic OT between the two labels' vectors with cost |x-x'|^2 (inner Sinkhorn, blur",
	"--inner-blur = 0.1^(1/2), not debiased, W(y,y) = 0 within a file); the outer Sinkhorn is",
	"debiased, blur 0.1 (eps = blur^2), uniform weights. Without --label: the plain feature OT",
	"(reported as \"feature-ot\"). A mixture p weights each record of source i by p_i/n_i; its",
	"gradient dOT/dp_i = sum_{j in i} f_j/n_i - sum_{j not in i} a_j f_j/(1-p_i) from the dual",
	"potentials f (at pooled weights: (1/n_i)[sum_{j in i} f_j - n_i/(N-n_i) sum_{j not in i} f_j]).",
	"Writes one JSON document: each source's distance, the uniform mixture's distance and gradient,",
	"and --mix's. Differences from otdd: labels of different files are different classes (compared",
	"by W, never by name); Sinkhorn runs to --tol after geomloss's eps-scaling (0.5), on all records",
	"(no maxsamples subsampling); a weight p_i = 0 is raised to 1e-9 so its potentials exist.",
	"--device cuda moves only the cost GEMMs to the GPU (the Sinkhorn iterations run on the host):",
	"the distances then differ from the CPU's in the last bits.",
	"",
	"winnow sources ot --source libs.jsonl --source doc.jsonl --target val.jsonl --label section",
	"winnow sources ot --source a.jsonl --source b.jsonl --target t.jsonl --mix 0.7,0.3 -o ot.json",
	NULL,
};

static void ot_options(void *p, struct wn_option *t)
{
	wn_sources_ot_opts *o = p;
	WN_STEP_TABLE(t,
		OPT_GROUP("OT dataset distance"),
		OPT_CALLBACK(0, "source", o, "FILE", "a source (JSONL with vectors); repeatable, required",
			     wn_sources_ot_source_cb),
		OPT_STRING(0, "target", &o->target, "FILE", "the target (validation) records (required)"),
		OPT_STRING(0, "label", &o->label, "FIELD", "label field: label-aware OTDD (default: feature OT)"),
		OPT_STRING(0, "emb", &o->emb, "PATH", "the vector member (default winnow.emb)"),
		OPT_STRING(0, "mix", &o->mix, "P,P,...", "also the mixture with these source weights"),
		OPT_DOUBLE(0, "blur", &o->blur, "B", "outer Sinkhorn blur, eps = B^2 (default 0.1)"),
		OPT_DOUBLE(0, "inner-blur", &o->inner_blur, "B", "label-distance Sinkhorn blur (default 0.316)"),
		OPT_INT(0, "max-iter", &o->max_iter, "N", "Sinkhorn iterations at the final eps (default 2000)"),
		OPT_DOUBLE(0, "tol", &o->tol, "T", "stop when the potentials move less (default 1e-6)"),
		WN_STREAM_OPTIONS(&o->io),
		WN_COMPUTE_OPTIONS(&o->io));
}

static void ot_init(void *p) { wn_sources_ot_init(p); }
static int ot_check(void *p, int *npos, const char **pos, char *err, size_t n) { return wn_sources_ot_check(p, *npos, err, n); }
static int ot_run(void *p, wn_stream *s, wn_step_report *r, char *err, size_t n) { return wn_sources_ot_run(p, s, r, err, n); }
static void ot_release(void *p) { wn_sources_ot_release(p); }

const wn_step wn_step_sources_ot = {"sources ot", ot_usage, sizeof(wn_sources_ot_opts), WN_STEP_NO_INPUT,
				    ot_init, ot_options, ot_check, ot_run, ot_release};

static const char *const plan_usage[] = {
	"winnow sources plan --pilots FILE --size N --source A.jsonl --source B.jsonl ... --target VAL.jsonl [--label FIELD]",
	"   or: winnow sources plan --pilot-label FIELD --pilot-sizes N0,N1 --size N --source ... --target VAL.jsonl",
	"",
	"Choose the mixture of sources that maximises predicted performance at N records (projektor).",
	"Stage 1, at each of two pilot sizes N0 < N1, least squares on the pilots (rows: N p_1..p_K",
	"PERFORMANCE) of L(p) = sum_{i<K} (b2_i p_i^2 + b1_i p_i) OT(p) + b0 OT(p) + sum_{i<K} c1_i p_i + c0",
	"(the last source's p eliminated; OT(p) the debiased OTDD of the mixture to --target, as",
	"`sources ot` computes it). Stage 2: L(N,p) = [ln(N/N0) L(N1,p) - ln(N/N1) L(N0,p)] / ln(N1/N0).",
	"Then p <- P_simplex(p + eta_t dL(N,p)/dp), eta_t = --lr x --decay^t (5e-4 x 0.9^t), --steps 100,",
	"from the uniform mixture, the gradient interpolated in ln N like stage 2 (dOT/dp from the",
	"dual potentials). Writes the fits, the predicted performance, p and round(p_i N) samples per",
	"source (`winnow select --sample n_i --seed S source_i` draws them). Differences from the",
	"official code: the notebook steps with the N0 gradient (a bug, not copied); OT(p) is that of",
	"the sources' own records at every size (projektor measures it on each pilot's sample).",
	"--pilot-label FIELD makes the pilots itself: at each mixture of the 0.1 grid and each of",
	"--pilot-sizes, a linear proxy (`winnow train`'s; AdamW, 20 epochs, lr 0.01, batch 32) trained on a draw of",
	"round(p_i N) records of each source (Philox, --seed; records repeat when a source is smaller)",
	"and scored by its accuracy (percent) on the target's FIELD, median of --pilot-repeats 3; its",
	"classes are every FIELD value of the sources and the target (a target label no draw holds is",
	"a class the proxy never gets right). The same proxy is, for a training file of your own,",
	"`winnow train --label FIELD --model linear --epochs 20 --lr 0.01 --batch 32 --holdout TARGET`",
	"(its last held-out accuracy; the same classes when TARGET holds every label), so a mixture is",
	"measured outside the plan with `select --mix FIELD --mix-weights @plan.json --sample N` | train.",
	"--eval-mixture P,...,P (repeatable) also prints L(N, p) and OT(p) at that mixture (and, with",
	"--pilot-label, the proxy's accuracy there): the uniform mixture, one source alone, a rival plan.",
	"--json's sources carry a \"name\" (the file name without folder and .jsonl/.gz/.zst) that",
	"`select --mix-weights @FILE` matches against the --mix field.",
	"",
	"winnow sources plan --pilots pilots.txt --size 10000 --source a.jsonl --source b.jsonl --target val.jsonl",
	"winnow sources plan --json --pilot-label size --pilot-sizes 500,1000 --size 2000 --eval-mixture 1,0 --source libs.jsonl --source doc.jsonl --target val.jsonl > plan.json",
	"cat libs.jsonl doc.jsonl | winnow select --mix section --mix-weights @plan.json --sample 2000 | winnow train --label size --model linear --epochs 20 --lr 0.01 --batch 32 --holdout val.jsonl > /dev/null",
	NULL,
};

static void plan_options(void *p, struct wn_option *t)
{
	wn_sources_plan_opts *o = p;
	WN_STEP_TABLE(t,
		OPT_GROUP("Plan"),
		OPT_STRING(0, "pilots", &o->pilots, "FILE", "pilot results: N p_1..p_K PERFORMANCE per line (required)"),
		OPT_STRING(0, "pilot-label", &o->pilot_label, "FIELD", "make the pilots with winnow's proxy on this label"),
		OPT_STRING(0, "pilot-sizes", &o->pilot_sizes, "N0,N1", "--pilot-label: the two pilot sizes"),
		OPT_INT(0, "pilot-repeats", &o->pilot_repeats, "R", "--pilot-label: proxies per pilot, median (default 3)"),
		OPT_INT(0, "pilot-epochs", &o->pilot_epochs, "E", "--pilot-label: proxy epochs (default 20)"),
		OPT_DOUBLE(0, "pilot-lr", &o->pilot_lr, "LR", "--pilot-label: proxy AdamW learning rate (default 0.01)"),
		OPT_INT64(0, "pilot-batch", &o->pilot_batch, "B", "--pilot-label: proxy mini-batch (default 32)"),
		OPT_INT64(0, "seed", &o->seed, "S", "--pilot-label: seed of the draws and the proxies (default 0)"),
		OPT_INT64(0, "size", &o->size, "N", "the training-set size to plan for (required)"),
		OPT_INT(0, "steps", &o->steps, "T", "gradient steps (default 100)"),
		OPT_DOUBLE(0, "lr", &o->lr, "ETA", "first step size (default 5e-4)"),
		OPT_DOUBLE(0, "decay", &o->decay, "G", "step size decay per step (default 0.9)"),
		OPT_BOOL(0, "json", &o->json, "one JSON document instead of the table"),
		OPT_CALLBACK(0, "eval-mixture", o, "P,...,P", "also predict (and with --pilot-label measure) at this"
			     " mixture; repeatable", wn_sources_plan_eval_cb),
		OPT_GROUP("OT dataset distance"),
		OPT_CALLBACK(0, "source", &o->ot, "FILE", "a source (JSONL with vectors); repeatable, required",
			     wn_sources_ot_source_cb),
		OPT_STRING(0, "target", &o->ot.target, "FILE", "the target (validation) records (required)"),
		OPT_STRING(0, "label", &o->ot.label, "FIELD", "label field: label-aware OTDD (default: feature OT)"),
		OPT_STRING(0, "emb", &o->ot.emb, "PATH", "the vector member (default winnow.emb)"),
		OPT_DOUBLE(0, "blur", &o->ot.blur, "B", "outer Sinkhorn blur, eps = B^2 (default 0.1)"),
		OPT_DOUBLE(0, "inner-blur", &o->ot.inner_blur, "B", "label-distance Sinkhorn blur (default 0.316)"),
		OPT_INT(0, "max-iter", &o->ot.max_iter, "N", "Sinkhorn iterations at the final eps (default 2000)"),
		OPT_DOUBLE(0, "tol", &o->ot.tol, "T", "stop when the potentials move less (default 1e-6)"),
		WN_STREAM_OPTIONS(&o->ot.io),
		WN_COMPUTE_OPTIONS(&o->ot.io));
}

static void plan_init(void *p) { wn_sources_plan_init(p); }
static int plan_check(void *p, int *npos, const char **pos, char *err, size_t n) { return wn_sources_plan_check(p, *npos, err, n); }
static int plan_run(void *p, wn_stream *s, wn_step_report *r, char *err, size_t n) { return wn_sources_plan_run(p, s, r, err, n); }
static void plan_release(void *p) { wn_sources_plan_release(p); }

const wn_step wn_step_sources_plan = {"sources plan", plan_usage, sizeof(wn_sources_plan_opts), WN_STEP_NO_INPUT,
				      plan_init, plan_options, plan_check, plan_run, plan_release};
