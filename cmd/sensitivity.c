/*
 * cmd/sensitivity.c — `winnow score leverage|lewis|kmeans-sensitivity`:
 * sensitivity scores of the records' vectors, the upper bounds a coreset
 * samples by (issue 19). Usage and option tables only; the steps are
 * selectors/sensitivity_step.c, the numbers selectors/sensitivity.c.
 */
#include "cmd/common.h"
#include "selectors/sensitivity_step.h"

static const char *const leverage_usage[] = {
	"winnow score leverage [--ridge L] [options] [file...]",
	"",
	"l2 leverage scores of the vectors (winnow.emb or --npy) as winnow.leverage.",
	"tau_i = a_i^T (A^T A + L I)^-1 a_i, by Cholesky of the float64 Gram matrix (an eigen",
	"pseudo-inverse when A is rank-deficient). stderr reports the rank and sum(tau) = rank.",
	"Two passes over a record spool (Gram matrix, then scores): memory O(d^2 + batch), not O(n d).",
	"--device cuda: both passes as float32 GEMMs on the GPU (float32 accuracy, about 1e-6 x",
	"cond(A^T A) relative), the d x d factorisation on the CPU in float64. Default cpu, not auto.",
	"",
	"winnow score leverage < emb.jsonl > scored.jsonl",
	"winnow score leverage --ridge 1 --npy vectors.npy docs.jsonl > scored.jsonl",
	NULL,
};

static const char *const lewis_usage[] = {
	"winnow score lewis --p P [options] [file...]",
	"",
	"lp Lewis weights of the vectors (winnow.emb or --npy) as winnow.lewis.",
	"The fixed point w_i = (a_i^T (A^T W^(1-2/p) A)^-1 a_i)^(p/2) from w = 1 (Cohen-Peng for p < 4; for",
	"p >= 4 the averaged step w <- w^(1-2/p) tau(w), which converges), until the largest",
	"relative change is <= --tol. sum(w) = rank. --bound annotates the sensitivity upper",
	"bound instead: w for p <= 2, d^(p/2-1) w above (Woodruff & Yasuda 2023).",
	"One pass over a record spool per iteration (+2): memory O(d^2 + batch + n weights).",
	"--device cuda: the passes as float32 GEMMs on the GPU, the d x d factorisation on the CPU.",
	"",
	"winnow score lewis --p 1 < emb.jsonl > scored.jsonl",
	"winnow score lewis --p 6 --tol 1e-10 --stats lewis.json < emb.jsonl > scored.jsonl",
	NULL,
};

static const char *const kmeans_usage[] = {
	"winnow score kmeans-sensitivity [--bicriteria -k K [--seed S]] [options] [file...]",
	"",
	"Lightweight k-means coreset probabilities as winnow.kmeans_sensitivity.",
	"Bachem, Lucic, Krause 2018: q_i = 1/(2n) + d(a_i, mean)^2 / (2 sum_j d(a_j, mean)^2).",
	"--bicriteria: the bound from K k-means++ centres B (Bachem et al. 2017, algorithm 2),",
	"s(x) = a d(x,B)^2/c + 2a sum_{C_b} d^2 / (|C_b| c) + 4n/|C_b|, a = 16 (ln K + 2),",
	"c = mean d(x,B)^2, normalised to sum 1; --stats lists the centres' record positions.",
	"The lightweight q streams in three passes over a record spool (memory O(d + batch));",
	"--bicriteria holds the vectors in memory (its D^2 seeding revisits them K times).",
	"",
	"winnow score kmeans-sensitivity < emb.jsonl > scored.jsonl",
	"winnow score kmeans-sensitivity --npy vectors.npy docs.jsonl > scored.jsonl",
	"winnow score kmeans-sensitivity --bicriteria -k 100 --seed 1 < emb.jsonl > scored.jsonl",
	NULL,
};

#define VEC_OPTIONS(o)                                                                        \
	WN_VECTOR_OPTIONS(&(o)->field_emb, &(o)->npy),                                        \
	OPT_STRING(0, "stats", &(o)->stats, "FILE", "write rank, iterations and the sum as JSON to FILE")

#define THREADS_OPTION(o)                                                                     \
	OPT_GROUP("Compute"),                                                                 \
	OPT_INT(0, "threads", &(o)->io.threads, "N", "threads to use (default: all cores)")

#define SOLVE_OPTIONS(o)                                                                      \
	OPT_GROUP("Compute"),                                                                 \
	OPT_STRING(0, "device", &(o)->io.device, "DEV", "cpu (default: float64), cuda or auto (float32 GEMM passes on a GPU)"), \
	OPT_BOOL(0, "float32-gemm", &(o)->float32_gemm, "the float32 GEMM passes of --device cuda, on any device"), \
	OPT_INT(0, "threads", &(o)->io.threads, "N", "threads to use (default: all cores)")

static void leverage_options(void *p, struct wn_option *t)
{
	wn_sens_step_opts *o = p;
	WN_STEP_TABLE(t,
		OPT_GROUP("Leverage"),
		OPT_DOUBLE(0, "ridge", &o->ridge, "L", "ridge leverage a_i^T (A^T A + L I)^-1 a_i (default 0)"),
		VEC_OPTIONS(o),
		WN_STREAM_OPTIONS(&o->io),
		SOLVE_OPTIONS(o));
}

static void lewis_options(void *p, struct wn_option *t)
{
	wn_sens_step_opts *o = p;
	WN_STEP_TABLE(t,
		OPT_GROUP("Lewis weights"),
		OPT_DOUBLE(0, "p", &o->p, "P", "the lp norm, P > 0 (required)"),
		OPT_DOUBLE(0, "tol", &o->tol, "T", "stop when the largest relative change is <= T (default 1e-12; 1e-6 on the float32 GEMM path)"),
		OPT_INT(0, "max-iter", &o->max_iter, "N", "fail after N iterations (default 1000)"),
		OPT_BOOL(0, "bound", &o->bound, "annotate the sensitivity bound (d^(p/2-1) w for p > 2)"),
		VEC_OPTIONS(o),
		WN_STREAM_OPTIONS(&o->io),
		SOLVE_OPTIONS(o));
}

static void kmeans_options(void *p, struct wn_option *t)
{
	wn_sens_step_opts *o = p;
	WN_STEP_TABLE(t,
		OPT_GROUP("k-means sensitivity"),
		OPT_BOOL(0, "bicriteria", &o->bicriteria, "the bound from a k-means++ solution (needs -k)"),
		OPT_INT64('k', NULL, &o->k, "K", "--bicriteria: number of centres"),
		OPT_INT64(0, "seed", &o->seed, "S", "--bicriteria: random seed (default 0)"),
		VEC_OPTIONS(o),
		WN_STREAM_OPTIONS(&o->io),
		THREADS_OPTION(o));
}

static void leverage_init(void *p) { wn_sens_leverage_step_init(p); }
static void lewis_init(void *p) { wn_sens_lewis_step_init(p); }
static void kmeans_init(void *p) { wn_sens_kmeans_step_init(p); }
static int sens_check(void *p, int *npos, const char **pos, char *err, size_t n) { return wn_sens_step_check(p, err, n); }
static int sens_run(void *p, wn_stream *s, wn_step_report *r, char *err, size_t n) { return wn_sens_step_run(p, s, r, err, n); }

const wn_step wn_step_score_leverage = {"score leverage", leverage_usage, sizeof(wn_sens_step_opts),
					WN_STEP_WHOLE, leverage_init, leverage_options, sens_check, sens_run, NULL};
const wn_step wn_step_score_lewis = {"score lewis", lewis_usage, sizeof(wn_sens_step_opts),
				     WN_STEP_WHOLE, lewis_init, lewis_options, sens_check, sens_run, NULL};
const wn_step wn_step_score_kmeans_sensitivity = {"score kmeans-sensitivity", kmeans_usage,
						  sizeof(wn_sens_step_opts), WN_STEP_WHOLE, kmeans_init,
						  kmeans_options, sens_check, sens_run, NULL};
