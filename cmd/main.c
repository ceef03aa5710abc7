/*
 * cmd/main.c — the winnow dispatcher, like git.c: a command name, or a
 * command and a method ("score zipfit"), goes to its step in the one table
 * of steps (cmd/steps.c) or, for the one command that is not a step (run,
 * the recipe runner, which runs steps), to its cmd_<name>() entry point,
 * generated at build time from the cmd/ files that define one
 * (build/commands.h).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/common.h"
#include "core/core.h"
#include "io/cleanup.h"

#define WN_COMMAND(name) int cmd_##name(int argc, const char **argv);
#include "commands.h"
#undef WN_COMMAND

struct command {
	const char *name;
	int (*fn)(int argc, const char **argv);
};

static const struct command commands[] = {
#define WN_COMMAND(name) {#name, cmd_##name},
#include "commands.h"
#undef WN_COMMAND
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

/* One-line descriptions of the commands that are not steps. */
static const char *legacy_description(const char *name)
{
	return !strcmp(name, "run")
		       ? "run a recipe (YAML): its steps in one process, the same bytes as the pipeline"
		       : "";
}

static void print_help(FILE *f)
{
	fprintf(f, "usage: winnow <command> [options] [file...]\n\n"
		   "Select and curate training data: JSONL records stream through\n"
		   "small commands; '-' or no file reads standard input.\n\nCommands:\n");
	for (const wn_step *const *s = wn_steps; *s; s++) {
		const char *d = wn_opts_description((*s)->usage);
		fprintf(f, "  %-16s %.*s\n", (*s)->name, (int)strcspn(d, "\n"), d);
	}
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-16s %s\n", commands[i].name, legacy_description(commands[i].name));
	fprintf(f, "\n'winnow <command> --help' shows a command's options and examples.\n"
		   "'winnow --version' shows the version and build features.\n"
		   "Idle OpenMP threads sleep (OMP_WAIT_POLICY=PASSIVE) unless OMP_WAIT_POLICY is set.\n");
}

static int print_version(void)
{
	const char *why = wn_core_cuda_unavailable_reason();
	printf("winnow %s\nfeatures: CPU (OpenBLAS, OpenMP), FAISS, simdjson, SQLite, zlib, zstd, lz4\n"
	       "cuda: %s%s\n", WINNOW_VERSION, why[0] ? "unavailable: " : "available", why);
	return 0;
}

/* Steps named "<group> <method>" whose group is `group`; prints them. */
static int list_methods(FILE *f, const char *group)
{
	size_t n = strlen(group);
	int found = 0;
	for (const wn_step *const *s = wn_steps; *s; s++)
		if (!strncmp((*s)->name, group, n) && (*s)->name[n] == ' ') {
			if (!found++)
				fprintf(f, "usage: winnow %s <method> [options] [file...]\n\nMethods:\n", group);
		{
			const char *d = wn_opts_description((*s)->usage);
			fprintf(f, "  %-12s %.*s\n", (*s)->name + n + 1, (int)strcspn(d, "\n"), d);
		}
		}
	return found;
}

/* Run argv[1] (and argv[2] when it names a method) as a command. */
static int dispatch(int argc, const char **argv)
{
	const char *name = argv[1];
	if (argc > 2) {
		char two[128];
		snprintf(two, sizeof two, "%s %s", name, argv[2]);
		const wn_step *st = wn_step_find(two);
		if (st)
			return wn_step_main(st, argc - 2, argv + 2);
	}
	const wn_step *st = wn_step_find(name);
	if (st)
		return wn_step_main(st, argc - 1, argv + 1);
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return commands[i].fn(argc - 1, argv + 1);
	int asks_help = argc > 2 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h"));
	if (list_methods(asks_help ? stdout : stderr, name)) {
		if (asks_help)
			return 0;
		if (argc > 2)
			fprintf(stderr, "\nwinnow %s: unknown method '%s'\n", name, argv[2]);
		return 2;
	}
	fprintf(stderr, "winnow: '%s' is not a winnow command. See 'winnow help'.\n", name);
	return 2;
}

/*
 * Idle OpenMP threads sleep instead of spinning: libgomp's default wait
 * policy spins for a while after each parallel region, which on a machine
 * shared with other work burns cores the others need and, with more
 * threads than free cores, slows winnow itself down. libgomp reads
 * OMP_WAIT_POLICY once, when it is loaded, before main(); so when neither
 * it nor GOMP_SPINCOUNT is set, winnow sets OMP_WAIT_POLICY=PASSIVE and
 * executes itself again, once (the same pid, argv and open files). A user's
 * own setting (OMP_WAIT_POLICY=ACTIVE) is kept; if the exec fails, winnow
 * goes on with libgomp's default. The same exec sets OpenBLAS's spin time.
 */
static void passive_openmp_waits(const char **argv)
{
	if (getenv("OMP_WAIT_POLICY") || getenv("GOMP_SPINCOUNT"))
		return;
	if (setenv("OMP_WAIT_POLICY", "PASSIVE", 1))
		return;
	/* OpenBLAS's pool starts at load and spins 2^28 cycles before it sleeps,
	 * in every command, BLAS or not: 2^4 makes it sleep at once (cat of PyPI:
	 * 29% less CPU; GEMM-heavy steps unchanged, bench/RESULTS.md) */
	if (!getenv("OPENBLAS_THREAD_TIMEOUT"))
		setenv("OPENBLAS_THREAD_TIMEOUT", "4", 1);
	execv("/proc/self/exe", (char *const *)argv);
}

int main(int argc, const char **argv)
{
	passive_openmp_waits(argv);
	/* a closed pipe is a write error with a message (EPIPE), not a silent death */
	signal(SIGPIPE, SIG_IGN);
	/* SIGINT, SIGTERM, SIGHUP remove every temporary output file before the
	 * process dies (-o FILE's temp file, a new database's files) */
	wn_cleanup_install_signals();
	if (argc < 2) {
		print_help(stderr);
		return 2;
	}
	const char *name = argv[1];
	if (!strcmp(name, "--version") || !strcmp(name, "version") || !strcmp(name, "-V"))
		return print_version();
	if (!strcmp(name, "help") || !strcmp(name, "--help") || !strcmp(name, "-h")) {
		if (argc > 2 && strcmp(argv[2], "help")) {
			const char *sub[] = {"winnow", argv[2], argc > 3 ? argv[3] : "--help", "--help", NULL};
			return dispatch(argc > 3 ? 4 : 3, sub);
		}
		print_help(stdout);
		return 0;
	}
	return dispatch(argc, argv);
}
