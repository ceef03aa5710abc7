/*
 * cmd/score.c — `winnow score zipfit` and `winnow score dsir`: target-aligned
 * scores annotated on every record (issue 11), as two steps.
 *
 *   winnow score zipfit --target FILE   -> winnow.zipfit (selectors/zipfit_step.c)
 *   winnow score dsir   --target FILE   -> winnow.dsir   (selectors/dsir_step.c)
 *
 * Owns: the usage texts and the option tables of both steps. Everything
 * else (the targets, the blocks, DSIR's two passes and its spool) is in
 * the steps' library files. `winnow score` alone lists the methods
 * (cmd/main.c, from the table of steps).
 *
 * Neither step uses the compute core, so neither takes --device: --threads
 * is their only compute option.
 */
#include "cmd/common.h"
#include "selectors/dsir_step.h"
#include "selectors/zipfit_step.h"

static const char *const zipfit_usage[] = {
	"winnow score zipfit --target FILE [options] [file...]",
	"",
	"ZIP-FIT alignment with a target set (gzip NCD), as winnow.zipfit.",
	"winnow.zipfit = mean over the target records of 1 - NCD(text, target),",
	"NCD(a, b) = (C(ab) - min(C(a), C(b))) / max(C(a), C(b)), C = gzip size at --level",
	"(the reference's formula, number for number); zstd and lz4 on request.",
	"Faster modes rank differently (bench/zipfit_modes_bench.sh: 3,000 Debian and PyPI texts,",
	"two targets; Spearman with gzip 9 / top-10% overlap / CPU against gzip 9): gzip 6",
	"1.0000 / 1.00 / same cost; gzip 1 0.976-0.998 / 0.75-0.94 / 0.87x; zstd 3 0.41-0.87 /",
	"0.10-0.66 / 0.4x; lz4 0 0.54-0.89 / 0.49-0.62 / 0.06-0.1x. None keeps the ranking at",
	"5x the speed: the score lives in deflate's Huffman coding of the pair.",
	"",
	"winnow score zipfit --target evals.jsonl pool.jsonl.zst > scored.jsonl",
	"winnow score zipfit --target evals.jsonl --compressor zstd --level 3 pool.jsonl",
	"winnow score zipfit --target evals.jsonl pool.jsonl.zst | winnow select --top 10000 --by winnow.zipfit",
	NULL,
};

static const char *const dsir_usage[] = {
	"winnow score dsir --target FILE [--raw FILE] [options] [file...]",
	"",
	"DSIR importance weights (hashed n-grams) towards a target set, as winnow.dsir.",
	"winnow.dsir = sum over the record's word unigrams and bigrams of",
	"log(p_target + 1e-8) - log(p_raw + 1e-8) in hashed buckets (the DSIR package's",
	"definition). p_raw is fitted on --raw FILE, or on the stream itself (read twice).",
	"",
	"winnow score dsir --target domain.jsonl pool.jsonl > scored.jsonl",
	"zstdcat pool.jsonl.zst | winnow score dsir --target domain.jsonl --raw sample.jsonl",
	"winnow score dsir --target domain.jsonl pool.jsonl | winnow select --sample 100000 --weights winnow.dsir --log-weights",
	NULL,
};

/* ---------- zipfit ---------- */

static void zipfit_options(void *p, struct wn_option *t)
{
	wn_score_zipfit_opts *o = p;
	WN_STEP_TABLE(t,
		OPT_GROUP("ZIP-FIT"),
		OPT_STRING(0, "target", &o->target, "FILE", "target records (JSONL, .gz, .zst): what to align with"),
		OPT_STRING(0, "target-field", &o->target_field, "NAME", "text field of the targets (default: --field)"),
		OPT_STRING(0, "compressor", &o->compressor, "NAME", "gzip (default, the reference), zstd or lz4"),
		OPT_INT(0, "level", &o->level, "N", "compression level (gzip 1..9, default 9; zstd default 3; lz4 default 0)"),
		WN_STREAM_OPTIONS(&o->io),
		OPT_GROUP("Compute"),
		OPT_INT(0, "threads", &o->io.threads, "N", "threads to use (default: all cores)"));
}

static void zipfit_init(void *p) { wn_score_zipfit_init(p); }
static int zipfit_check(void *p, int *npos, const char **pos, char *err, size_t n) { return wn_score_zipfit_check(p, err, n); }
static int zipfit_run(void *p, wn_stream *s, wn_step_report *r, char *err, size_t n) { return wn_score_zipfit_run(p, s, r, err, n); }

const wn_step wn_step_score_zipfit = {"score zipfit", zipfit_usage, sizeof(wn_score_zipfit_opts), 0,
				      zipfit_init, zipfit_options, zipfit_check, zipfit_run, NULL};

/* ---------- dsir ---------- */

static void dsir_options(void *p, struct wn_option *t)
{
	wn_score_dsir_opts *o = p;
	WN_STEP_TABLE(t,
		OPT_GROUP("DSIR"),
		OPT_STRING(0, "target", &o->target, "FILE", "target records (JSONL, .gz, .zst): the domain to resemble"),
		OPT_STRING(0, "raw", &o->raw, "FILE", "fit p_raw on FILE (default: on the input stream itself)"),
		OPT_STRING(0, "target-field", &o->target_field, "NAME", "text field of the targets (default: --field)"),
		OPT_STRING(0, "raw-field", &o->raw_field, "NAME", "text field of --raw (default: --field)"),
		OPT_INT64(0, "buckets", &o->buckets, "N", "hash buckets (default 10000)"),
		OPT_STRING(0, "hash", &o->hash, "NAME", "sha256 (default, the package's) or xxh3 (faster)"),
		OPT_INT(0, "ngrams", &o->ngrams, "N", "features up to N-grams (default 2: unigrams + bigrams)"),
		WN_STREAM_OPTIONS(&o->io),
		OPT_GROUP("Compute"),
		OPT_INT(0, "threads", &o->io.threads, "N", "threads to use (default: all cores)"));
}

static void dsir_init(void *p) { wn_score_dsir_init(p); }
static int dsir_check(void *p, int *npos, const char **pos, char *err, size_t n) { return wn_score_dsir_check(p, err, n); }
static int dsir_run(void *p, wn_stream *s, wn_step_report *r, char *err, size_t n) { return wn_score_dsir_run(p, s, r, err, n); }

const wn_step wn_step_score_dsir = {"score dsir", dsir_usage, sizeof(wn_score_dsir_opts), WN_STEP_WHOLE,
				    dsir_init, dsir_options, dsir_check, dsir_run, NULL};
