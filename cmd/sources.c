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
