/*
 * cmd/eval.c — `winnow eval`: prune curves. Usage and the option table
 * only; the step is selectors/eval_step.c (curves: selectors/eval.c, the
 * training loop: selectors/dynamics.c, shared with `winnow train`).
 */
#include "cmd/common.h"
#include "selectors/eval_step.h"

static const char *const eval_usage[] = {
	"winnow eval --label FIELD --by SCORE [--fracs 0.1,...,1] [--keep high|low|softmax|linear|random] [--repeats 3] [options] [file...]",
	"",
	"Prune curves: the held-out accuracy of a proxy trained on what a score keeps, against random.",
	"Hold out --holdout FRAC of the records (default 0.2; the same records as `winnow train` with",
	"that --holdout and --seed), then for every fraction f of the rest keep k = round(f n)",
	"records by --keep (high: the k largest --by scores, low: the k smallest, random: k",
	"uniformly; softmax and linear: the probabilistic keeps of Anand et al. 2023, k drawn without",
	"replacement, each draw with probability proportional to exp(score / --temperature), or to",
	"the score mapped linearly from [min, max] to [--eps, 1]; a comma list draws one curve per",
	"rule) and, --repeats times, train the proxy of `winnow train` (same model options) on them",
	"and measure held-out accuracy after the last epoch. Random selection at the same budget is",
	"always the baseline. Repeat r trains from seed derive(--seed, r) for every rule, so the",
	"spread of high/low is the model's, random's also the draw's, and at f = 1 every rule trains",
	"the same model. Writes a table (mean and sample sd over repeats) to the output, --json FILE",
	"(every accuracy, mean, sd, min, max) and --svg FILE (one line per rule, random dashed with",
	"its min-max band shaded). Same bytes at any --threads for a --seed. Not in the papers' code:",
	"their curves retrain the full model; this retrains the proxy. To keep by softmax in a",
	"pipeline: select --sample N --weights SCORE --log-weights (Gumbel top-k: T = 1).",
	"",
	"winnow train --label section emb.jsonl | winnow eval --label section --by winnow.el2n --keep high,low --svg el2n.svg",
	"winnow eval --label section --by winnow.forgetting --fracs 0.25,0.5,0.75,1 --json curve.json scored.jsonl",
	NULL,
};

static void eval_options(void *p, struct wn_option *t)
{
	wn_eval_opts *o = p;
	WN_STEP_TABLE(t,
		OPT_GROUP("Curves"),
		OPT_STRING(0, "label", &o->tr.label, "FIELD", "the class of each record (required)"),
		OPT_STRING(0, "by", &o->by, "SCORE", "the score to keep by, a field such as winnow.el2n"),
		OPT_STRING(0, "fracs", &o->fracs_arg, "LIST", "fractions kept, increasing, in (0, 1] (default 0.1,0.2,...,1)"),
		OPT_STRING(0, "keep", &o->keep, "RULE", "high, low, softmax, linear or random, or a comma list (default high)"),
		OPT_DOUBLE(0, "temperature", &o->temperature, "T", "softmax: P ~ exp(score / T) (default 1)"),
		OPT_DOUBLE(0, "eps", &o->eps, "E", "linear: weights from E (lowest score) to 1 (highest) (default 0.01)"),
		OPT_INT(0, "repeats", &o->repeats, "R", "models per point (default 3)"),
		OPT_DOUBLE(0, "holdout", &o->holdout, "FRAC", "records held out for the accuracy (default 0.2)"),
		OPT_STRING(0, "json", &o->json, "FILE", "the curves as one JSON document"),
		OPT_STRING(0, "svg", &o->svg, "FILE", "the curves as an SVG chart"),
		OPT_GROUP("Model (as winnow train)"),
		OPT_STRING(0, "model", &o->tr.model, "M", "linear or mlp (default mlp)"),
		OPT_INT64(0, "hidden", &o->tr.hidden, "H", "mlp hidden width (default 64)"),
		OPT_STRING(0, "act", &o->tr.act, "A", "mlp activation: relu (default) or gelu"),
		OPT_INT(0, "epochs", &o->tr.epochs, "E", "epochs (default 10)"),
		OPT_INT64(0, "seed", &o->tr.seed, "S", "random seed of the split, draws, weights and shuffles (default 0)"),
		OPT_INT64(0, "batch", &o->tr.batch, "B", "mini-batch size (default 128)"),
		OPT_DOUBLE(0, "lr", &o->tr.lr, "LR", "AdamW learning rate (default 0.001)"),
		OPT_DOUBLE(0, "weight-decay", &o->tr.weight_decay, "W", "AdamW decoupled weight decay (default 0.01)"),
		OPT_DOUBLE(0, "dropout", &o->tr.dropout, "P", "mlp: dropout on the hidden layer while training (default 0)"),
		WN_VECTOR_OPTIONS(&o->tr.field_emb, &o->tr.npy),
		WN_STREAM_OPTIONS(&o->io),
		WN_COMPUTE_OPTIONS(&o->io));
}

static void eval_init(void *p) { wn_eval_init(p); }
/* --device auto: the proxies train on the CPU when small, as in `winnow train`. */
static int eval_check(void *p, int *npos, const char **pos, char *err, size_t n)
{
	wn_eval_opts *o = p;
	if (wn_eval_check(o, err, n))
		return -1;
	const char *dev = wn_train_auto_device(&o->tr, o->io.device);
	if (dev)
		o->io.device = dev;
	return 0;
}
static int eval_run(void *p, wn_stream *s, wn_step_report *r, char *err, size_t n) { return wn_eval_step_run(p, s, r, err, n); }

const wn_step wn_step_eval = {"eval", eval_usage, sizeof(wn_eval_opts), WN_STEP_WHOLE,
			      eval_init, eval_options, eval_check, eval_run, NULL};
