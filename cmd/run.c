/*
 * cmd/run.c — `winnow run recipe.yaml`: a whole pipeline from one file, in
 * one process. Usage, options and one call; the recipe is pipelines/recipe.c,
 * the run pipelines/runner.c, and the steps are the one table (cmd/steps.c),
 * handed down so that nothing below cmd/ includes cmd/.
 *
 * Exit codes (for cron): 0 done, 1 a step or the output failed (nothing
 * written), 2 a usage or recipe error (found before any work starts), 3
 * nothing new to do (the last successful run is still current: see
 * pipelines/runstate.h). Each ends with one "winnow run: ..." line on
 * stderr; -q keeps only those of 1 and 2.
 */
#include <stdio.h>

#include <stdlib.h>

#include "cmd/common.h"
#include "pipelines/recipe.h"
#include "pipelines/runner.h"

static const char *const run_usage[] = {
	"winnow run [--dry-run | --explain] [--cache DIR | --no-cache] [--force] [-o FILE] [--threads N] [--device DEV] [-q] recipe.yaml",
	"",
	"Run the steps a recipe names, in one process, from its inputs to its output.\n"
	"Every key is checked against the step's options before any work starts.\n"
	"--dry-run prints the plan and the equivalent shell pipeline (same bytes out).\n"
	"\n"
	"With a cache (cache: DIR in the recipe, or --cache DIR), embed, score zipfit and\n"
	"cluster kmeans --centroids keep what they added to each record, keyed by\n"
	"xxh3-128(step, options, seed, files named) and xxh3-128(record bytes), committed\n"
	"every 1024 records: a rerun computes only records it has not seen, and a run\n"
	"killed at any moment resumes from its last committed batch. The output is the\n"
	"same bytes as a run without the cache. Whole-stream steps (k-means training,\n"
	"hkmeans, dsir, select, dedup) are recomputed on every run.\n"
	"\n"
	"Exit codes: 0 done; 1 a step failed (nothing written); 2 usage or recipe error;\n"
	"3 nothing new to do: the recipe, its inputs (name, size, xxh3), the files its\n"
	"steps' options name and winnow's version are those of the last successful run,\n"
	"whose output is still in place (output db: its runs table says so; output\n"
	"jsonl: the cache says so; jsonl without a cache always runs). --force runs anyway.",
	"",
	"winnow run pipelines/curation.yaml",
	"winnow run --dry-run pipelines/clustering.yaml",
	"0 3 * * * cd /data && { winnow run -q nightly.yaml; rc=$?; [ $rc = 0 ] || [ $rc = 3 ] || mail -s \"winnow: exit $rc\" me < /dev/null; }",
	NULL,
};

int cmd_run(int argc, const char **argv)
{
	int dry = 0, explain = 0, threads = -1;
	wn_recipe_env env = {NULL, NULL, 0, NULL, NULL, NULL, 0, 0};
	char *command = wn_cmd_command_line("run", argc, argv); /* before parsing reorders argv */
	env.command = command;
	struct wn_option opts[] = {
		OPT_BOOL(0, "dry-run", &dry, "print the plan and the shell pipeline; run nothing"),
		OPT_BOOL(0, "explain", &explain, "say what each step reads and writes; run nothing"),
		OPT_INT(0, "threads", &threads, "N", "threads for every step that computes (default: all cores)"),
		OPT_STRING(0, "device", &env.device, "DEV", "cpu, cuda or auto for every step that computes"),
		OPT_STRING('o', "output", &env.output, "FILE", "write JSONL to FILE instead of the recipe's output"),
		OPT_STRING(0, "cache", &env.cache, "DIR", "the record cache (instead of the recipe's cache:)"),
		OPT_BOOL(0, "no-cache", &env.no_cache, "ignore the recipe's cache: (every step over the whole stream)"),
		OPT_BOOL(0, "force", &env.force, "run even when there is nothing new to do"),
		OPT_BOOL('q', "quiet", &env.quiet, "no closing lines on stderr (errors still print)"),
		OPT_END(),
	};
	int npos = wn_parse_options(argc, argv, opts, run_usage);
	if (npos != 1)
		wn_usage_error("run", npos ? "one recipe at a time" : "missing the recipe file");
	char threads_s[16], err[1024];
	if (threads >= 0) {
		snprintf(threads_s, sizeof threads_s, "%d", threads);
		env.threads = threads_s;
	}
	if (env.device && wn_core_parse_device(env.device) < 0)
		wn_usage_error("run", "unknown device '%s' (expected cpu, cuda or auto)", env.device);
	wn_recipe *r = wn_recipe_load(argv[0], wn_steps, &env, err, sizeof err);
	if (!r) {
		wn_cmd_error("run", "%s", err);
		free(command);
		return 2;
	}
	int rc = 0;
	if (dry || explain)
		rc = (dry && wn_recipe_print_plan(stdout, r, &env)) ||
		     (explain && wn_recipe_print_explain(stdout, r));
	else if ((rc = wn_runner_run(r, &env, NULL, err, sizeof err)) < 0) {
		wn_cmd_error("run", "%s", err);
		rc = 1;
	}
	wn_recipe_free(r);
	free(command);
	return rc;
}
