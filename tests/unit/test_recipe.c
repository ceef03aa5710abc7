/*
 * tests/unit/test_recipe.c — pipelines/recipe and pipelines/runner against
 * a table of test steps (not cmd/'s: the library takes any table), so that
 * what the real steps cannot show yet is pinned here: output.db without and
 * with a store step (its database as the positional word), a short-only
 * option keyed by its letter, list values, the recipe's seed versus a
 * step's own, the shell line, and the runner's chaining, counts and
 * all-or-nothing output, checked against hand-written expectations.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/stream.h"
#include "pipelines/recipe.h"
#include "pipelines/runner.h"
#include "test.h"

/* ---- test steps: "pass" (keeps records whose text is not --drop), "store" ---- */

typedef struct pass_opts {
	wn_stream_opts io;
	int64_t k, seed;
	const char *drop, *name;
	int flag, fail, names;
	const char *db;
} pass_opts;

static void pass_init(void *p)
{
	*(pass_opts *)p = (pass_opts){WN_STREAM_OPTS_INIT, -1, 0, NULL, NULL, 0, 0, 0, NULL};
}

static int names_cb(const struct wn_option *opt, const char *arg, char *err, size_t n)
{
	pass_opts *o = opt->value;
	o->names++;
	o->name = arg;
	return 0;
}

static void pass_options(void *p, struct wn_option *t)
{
	pass_opts *o = p;
	WN_STEP_TABLE(t,
		OPT_INT64('k', NULL, &o->k, "K", "a short-only option"),
		OPT_INT64(0, "seed", &o->seed, "S", "seed"),
		OPT_STRING(0, "drop", &o->drop, "TEXT", "drop records with this text"),
		OPT_CALLBACK(0, "name", o, "N", "repeatable", names_cb),
		OPT_BOOL(0, "flag", &o->flag, "a boolean"),
		OPT_BOOL(0, "fail", &o->fail, "fail after reading"),
		WN_STREAM_OPTIONS(&o->io),
		WN_COMPUTE_OPTIONS(&o->io));
}

static int pass_check(void *p, int *npos, const char **pos, char *err, size_t n)
{
	pass_opts *o = p;
	if (o->k == 0) {
		snprintf(err, n, "-k must be positive");
		return -1;
	}
	return 0;
}

static int pass_run(void *p, wn_stream *s, wn_step_report *r, char *err, size_t n)
{
	pass_opts *o = p;
	wn_record rec;
	int rc;
	while ((rc = wn_stream_next(s, &rec)) > 0) {
		if (o->drop && memmem(rec.json.p, rec.json.n, o->drop, strlen(o->drop)))
			continue;
		if (wn_stream_emit(s, &rec, NULL))
			return -1;
	}
	if (o->fail)
		snprintf(err, n, "told to fail");
	return rc < 0 || o->fail ? -1 : 0;
}

static void store_options(void *p, struct wn_option *t)
{
	pass_opts *o = p;
	WN_STEP_TABLE(t, OPT_STRING(0, "table", &o->name, "T", "table"),
		      OPT_STRING(0, "mode", &o->drop, "M", "mode"), WN_STREAM_INPUT_OPTIONS(&o->io));
}

static int store_check(void *p, int *npos, const char **pos, char *err, size_t n)
{
	pass_opts *o = p;
	if (*npos < 1) {
		snprintf(err, n, "missing the database path");
		return -1;
	}
	o->db = pos[0];
	memmove(pos, pos + 1, (size_t)(*npos - 1) * sizeof *pos);
	(*npos)--;
	return 0;
}

static uint64_t stored_rows;
static char stored_db[256];

static int store_run(void *p, wn_stream *s, wn_step_report *r, char *err, size_t n)
{
	pass_opts *o = p;
	wn_record rec;
	int rc;
	while ((rc = wn_stream_next(s, &rec)) > 0)
		stored_rows++;
	snprintf(stored_db, sizeof stored_db, "%s/%s", o->db, o->name ? o->name : "-");
	s->out_count = stored_rows;
	return rc < 0 ? -1 : 0;
}

static const char *const pass_usage[] = {"winnow pass [options]", NULL};
static const wn_step step_pass = {"pass", pass_usage, sizeof(pass_opts), 0, pass_init,
				  pass_options, pass_check, pass_run, NULL};
static const wn_step step_group = {"group method", pass_usage, sizeof(pass_opts), WN_STEP_WHOLE,
				   pass_init, pass_options, pass_check, pass_run, NULL};
static const wn_step step_store = {"store", pass_usage, sizeof(pass_opts), WN_STEP_NO_OUTPUT,
				   pass_init, store_options, store_check, store_run, NULL};
static const wn_step *const with_store[] = {&step_pass, &step_group, &step_store, NULL};
static const wn_step *const no_store[] = {&step_pass, &step_group, NULL};

static char dir[] = "/tmp/winnow-test-recipe.XXXXXX";
static char in_path[300], out_path[300];
static char err[1024];

static wn_recipe *parse(const char *text, const wn_step *const *steps)
{
	err[0] = 0;
	return wn_recipe_parse("r.yaml", text, strlen(text), steps, NULL, err, sizeof err);
}

static void test_shape(void)
{
	wn_recipe *r = parse("winnow: 1\nseed: 42\ninputs: [a, 'b*']\nsteps:\n  - pass\n"
			     "  - group method: {k: 3, name: [x, y], flag: no}\noutput: {jsonl: o}\n", no_store);
	CHECK(r);
	CHECK_EQ_INT(r->nsteps, 2);
	CHECK_EQ_INT(r->npatterns, 2);
	CHECK_STR(r->patterns[1], "b*");
	CHECK_STR(r->seed, "42");
	CHECK_STR(r->out_jsonl, "o");
	CHECK(r->steps[1].step == &step_group);
	CHECK_EQ_INT(r->steps[1].nkv, 4);
	CHECK_STR(r->steps[1].kv[2].key, "name");
	CHECK_STR(r->steps[1].kv[2].value, "y");
	CHECK_EQ_INT(r->steps[1].kv[2].value_at.line, 6);
	CHECK_EQ_INT(r->steps[1].kv[2].value_at.col, 36);
	CHECK(strstr(r->text, "group method"));
	wn_recipe_free(r);
}

static void test_bind_seed_letters_lists(void)
{
	wn_recipe *r = parse("winnow: 1\nseed: 42\ninputs: a\nsteps:\n  - pass: {k: 5, seed: 7}\n"
			     "  - pass: {name: [x, y], flag: true}\noutput: {jsonl: o}\n", no_store);
	CHECK(r);
	wn_recipe_bound b;
	wn_recipe_env env = {"3", NULL, 1, NULL, NULL, NULL, 0, 0};
	CHECK_EQ_INT(wn_recipe_bind(r, 0, &env, 0, &b, err, sizeof err), 0);
	pass_opts *o = b.opts;
	CHECK_EQ_INT(o->k, 5);
	CHECK_EQ_INT(o->seed, 7); /* the step's own seed wins */
	CHECK_EQ_INT(o->io.threads, 3);
	CHECK_EQ_INT(o->io.quiet, 1);
	wn_recipe_unbind(&b);
	CHECK_EQ_INT(wn_recipe_bind(r, 1, NULL, 0, &b, err, sizeof err), 0);
	o = b.opts;
	CHECK_EQ_INT(o->seed, 42); /* the recipe's seed */
	CHECK_EQ_INT(o->names, 2);
	CHECK_STR(o->name, "y");
	CHECK_EQ_INT(o->flag, 1);
	CHECK_EQ_INT(o->k, -1);
	wn_recipe_unbind(&b);
	wn_recipe_free(r);
}

static void test_errors(void)
{
	static const char *const cases[][2] = {
		{"winnow: 1\ninputs: a\nsteps:\n  - pass: {kk: 1}\noutput: {jsonl: o}\n",
		 "r.yaml:4:12: unknown option 'kk' for pass; did you mean 'k'?"},
		{"winnow: 1\ninputs: a\nsteps:\n  - pass: {k: 0}\noutput: {jsonl: o}\n",
		 "r.yaml:4:5: pass: -k must be positive"},
		{"winnow: 1\ninputs: a\nsteps:\n  - pass: {k: 1.5}\noutput: {jsonl: o}\n",
		 "r.yaml:4:15: pass: option 'k' expects an integer (k/M/G suffixes allowed), got '1.5'"},
		{"winnow: 1\ninputs: a\nsteps:\n  - group: {k: 1}\noutput: {jsonl: o}\n",
		 "r.yaml:4:5: unknown step 'group'; did you mean 'group method'?"},
		{"winnow: 1\ninputs: a\nsteps: [pass, store]\noutput: {jsonl: o}\n",
		 "r.yaml:3:15: store cannot be a recipe step (it writes no records: name the database in output:)"},
		{"winnow: 1\ninputs: a\nsteps: []\noutput: {jsonl: o}\n",
		 "r.yaml:3:8: steps must be a list of at least one step"},
		{"winnow: 1\ninputs: []\nsteps: [pass]\noutput: {jsonl: o}\n",
		 "r.yaml:2:9: inputs must name at least one file"},
		{"winnow: 1\ninputs: a\nsteps: [pass: {name: {a: 1}}]\noutput: {jsonl: o}\n",
		 "r.yaml:3:22: option 'name' of pass takes a value or a list of values"},
		{"winnow: 1\ninputs: a\nsteps: [pass: {name: \"a\\0b\"}]\noutput: {jsonl: o}\n",
		 "r.yaml:3:22: an option's value holds a NUL byte"},
		{"winnow: 1\ninputs: a\nsteps: [{pass: {}, group method: {}}]\noutput: {jsonl: o}\n",
		 "r.yaml:3:9: a step is one name with its options ('- select: {top: 10, by: x}')"},
		{"winnow: 1\ninputs: a\nsteps: [pass]\noutput: {jsonl: o}\n---\nwinnow: 1\n",
		 "r.yaml:6:1: a recipe is one YAML document; this is a second one"},
		{"winnow: 1\ninputs: a\nsteps: [pass]\noutput: {jsonl: o, db: x}\n",
		 "r.yaml:4:9: output needs one of jsonl: FILE or db: FILE"},
		{"winnow: 1\ninputs: a\nsteps: [pass: {stream: true}]\noutput: {jsonl: o}\n",
		 "r.yaml:3:16: option 'stream' is not set per step in a recipe (the recipe's output: says where records go)"},
		{"winnow: 1\ninputs: a\nsteps: [pass: {device: gpu}]\noutput: {jsonl: o}\n",
		 "r.yaml:3:24: pass: unknown device 'gpu' (expected cpu, cuda or auto)"},
		{"winnow: 1\ninputs: a\nsteps: [pass]\noutput: {jsnl: o}\n",
		 "r.yaml:4:10: unknown key 'jsnl' in output; did you mean 'jsonl'?"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		wn_recipe *r = parse(cases[i][0], with_store);
		CHECK(!r);
		CHECK_STR(err, cases[i][1]);
	}
	wn_recipe *r = parse("winnow: 1\ninputs: a\nsteps: [pass]\noutput: {db: x.db}\n", no_store);
	CHECK(!r);
	CHECK_STR(err, "r.yaml:4:10: output: db needs the store step, which this winnow does not have yet; use output: {jsonl: FILE}");
}

static void test_store_from_output_db(void)
{
	wn_recipe *r = parse("winnow: 1\ninputs: a\nsteps: [pass]\noutput: {db: out.db, table: night, mode: append}\n",
			     with_store);
	CHECK(r);
	CHECK_EQ_INT(r->nsteps, 2);
	CHECK(r->steps[1].step == &step_store);
	CHECK_STR(r->steps[1].db, "out.db");
	CHECK_EQ_INT(r->steps[1].nkv, 2);
	wn_recipe_bound b;
	CHECK_EQ_INT(wn_recipe_bind(r, 1, NULL, 1, &b, err, sizeof err), 0);
	CHECK_STR(((pass_opts *)b.opts)->db, "out.db");
	CHECK_STR(((pass_opts *)b.opts)->name, "night");
	CHECK_EQ_INT(b.npos, 0);
	wn_recipe_unbind(&b);
	char *line = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&line, &n);
	CHECK_EQ_INT(wn_recipe_print_shell(f, r, NULL), 0);
	fclose(f);
	CHECK_STR(line, "winnow pass | winnow store out.db --table night --mode append");
	free(line);
	wn_recipe_free(r);
}

static void test_shell_line(void)
{
	wn_recipe *r = parse("winnow: 1\nseed: 9\ninputs: a\nsteps:\n  - pass: {k: 2, flag: off, drop: \"it's\"}\n"
			     "  - group method: {name: [a b, c]}\noutput: {jsonl: out dir/o.jsonl}\n", no_store);
	CHECK(r);
	wn_recipe_env env = {"2", NULL, 0, NULL, NULL, NULL, 0, 0};
	char *line = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&line, &n);
	r->inputs = calloc(1, sizeof *r->inputs);
	r->inputs[0] = strdup("in 1.jsonl");
	r->ninputs = 1;
	CHECK_EQ_INT(wn_recipe_print_shell(f, r, &env), 0);
	fclose(f);
	CHECK_STR(line, "winnow pass -k 2 --no-flag --drop 'it'\\''s' --seed 9 --threads 2 'in 1.jsonl'"
			" | winnow group method --name 'a b' --name c --seed 9 --threads 2 -o 'out dir/o.jsonl'");
	free(line);
	wn_recipe_free(r);
}

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

static char *read_file(const char *path)
{
	static char buf[512];
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = 0;
	return buf;
}

static wn_recipe *load(const char *fmt, const wn_step *const *steps)
{
	char text[1024], path[400];
	snprintf(text, sizeof text, fmt, in_path, out_path);
	snprintf(path, sizeof path, "%s/r.yaml", dir);
	if (write_file(path, text))
		return NULL;
	wn_recipe_env env = {NULL, NULL, 1, NULL, NULL, NULL, 0, 0};
	return wn_recipe_load(path, steps, &env, err, sizeof err);
}

static void test_run_to_jsonl(void)
{
	write_file(in_path, "{\"text\":\"a\"}\n{\"text\":\"b\"}\n{\"text\":\"c\"}\n");
	unlink(out_path);
	wn_recipe *r = load("winnow: 1\ninputs: %s\nsteps: [pass, pass: {drop: '\"b\"'}, group method]\n"
			    "output: {jsonl: %s}\n", no_store);
	CHECK(r);
	wn_step_report rep[3];
	wn_recipe_env env = {NULL, NULL, 1, NULL, NULL, NULL, 0, 0};
	CHECK_EQ_INT(wn_runner_run(r, &env, rep, err, sizeof err), 0);
	CHECK_EQ_INT(rep[0].in, 3);
	CHECK_EQ_INT(rep[0].out, 3);
	CHECK_EQ_INT(rep[1].in, 3);
	CHECK_EQ_INT(rep[1].out, 2);
	CHECK_EQ_INT(rep[2].in, 2);
	CHECK_EQ_INT(rep[2].out, 2);
	CHECK_STR(rep[2].step, "group method");
	CHECK_STR(read_file(out_path), "{\"text\":\"a\"}\n{\"text\":\"c\"}\n");
	wn_recipe_free(r);
}

static void test_run_fails_whole(void)
{
	write_file(in_path, "{\"text\":\"a\"}\n");
	write_file(out_path, "old\n");
	wn_recipe_env env = {NULL, NULL, 1, NULL, NULL, NULL, 0, 0};
	for (int last = 0; last < 2; last++) {
		wn_recipe *r = load(last ? "winnow: 1\ninputs: %s\nsteps: [pass, pass: {fail: true}]\noutput: {jsonl: %s}\n"
					 : "winnow: 1\ninputs: %s\nsteps: [pass: {fail: true}, pass]\noutput: {jsonl: %s}\n",
				    no_store);
		CHECK(r);
		CHECK_EQ_INT(wn_runner_run(r, &env, NULL, err, sizeof err), -1);
		CHECK(strstr(err, last ? ": step 2 (pass) failed; nothing written" : ": step 1 (pass) failed; nothing written"));
		wn_recipe_free(r);
		CHECK_STR(read_file(out_path), "old\n");
	}
}

static void test_run_to_store(void)
{
	write_file(in_path, "{\"text\":\"a\"}\n{\"text\":\"b\"}\n");
	stored_rows = 0;
	wn_recipe *r = load("winnow: 1\ninputs: %s\nsteps: [pass]\noutput: {db: %s.db, table: t}\n", with_store);
	CHECK(r);
	wn_step_report rep[2];
	wn_recipe_env env = {NULL, NULL, 1, NULL, NULL, NULL, 0, 0};
	CHECK_EQ_INT(wn_runner_run(r, &env, rep, err, sizeof err), 0);
	CHECK_EQ_INT(stored_rows, 2);
	CHECK_EQ_INT(rep[1].in, 2);
	char want[400];
	snprintf(want, sizeof want, "%s.db/t", out_path);
	CHECK_STR(stored_db, want);
	wn_recipe_free(r);
}

/* wn_stream_open_io: files into a spool, then the spool out to a file (the
 * two ends the runner opens), with the counts of io/stream.h. */
static void test_stream_open_io(void)
{
	const char *text = "{\"text\":\"a\"}\n{\"text\":\"b\"}\n";
	FILE *f = fopen(in_path, "w");
	CHECK(f);
	fputs(text, f);
	fclose(f);
	char err[512] = "";
	wn_spool *sp = wn_spool_new(0, err, sizeof err);
	CHECK(sp);
	wn_stream_opts co = WN_STREAM_OPTS_INIT;
	co.quiet = 1;
	const char *argv[] = {in_path};
	wn_stream s;
	wn_record rec;
	wn_step_report rep = {0};
	CHECK_EQ_INT(wn_stream_open_io(&s, "t", &co, 1, argv, NULL, sp, 1, err, sizeof err), 0);
	CHECK(s.in && !s.out && s.out_spool == sp);
	while (wn_stream_next(&s, &rec) > 0)
		CHECK_EQ_INT(wn_stream_emit(&s, &rec, NULL), 0);
	CHECK_EQ_INT(wn_stream_finish(&s, 1, &rep), 0);
	CHECK(rep.in == 2 && rep.out == 2 && wn_spool_count(sp) == 2);
	co.output = out_path;
	CHECK_EQ_INT(wn_stream_open_io(&s, "t", &co, 0, NULL, sp, NULL, 1, err, sizeof err), 0);
	CHECK(!s.in && s.in_spool == sp && s.out);
	while (wn_stream_next(&s, &rec) > 0)
		CHECK_EQ_INT(wn_stream_emit(&s, &rec, NULL), 0);
	CHECK_EQ_INT(wn_stream_finish(&s, 1, &rep), 0);
	CHECK(rep.in == 2 && rep.out == 2);
	char got[64] = "";
	f = fopen(out_path, "r");
	CHECK(f);
	size_t n = fread(got, 1, sizeof got - 1, f);
	fclose(f);
	CHECK(n == strlen(text) && !memcmp(got, text, n));
	wn_spool_free(sp);
	unlink(out_path);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	snprintf(in_path, sizeof in_path, "%s/in.jsonl", dir);
	snprintf(out_path, sizeof out_path, "%s/out.jsonl", dir);
	RUN(test_shape);
	RUN(test_bind_seed_letters_lists);
	RUN(test_errors);
	RUN(test_store_from_output_db);
	RUN(test_shell_line);
	RUN(test_run_to_jsonl);
	RUN(test_run_fails_whole);
	RUN(test_run_to_store);
	RUN(test_stream_open_io);
	char cmd[400];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd))
		return 1;
	return TEST_EXIT;
}
