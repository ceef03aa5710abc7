/*
 * cmd/common.c — the step driver and what command files share (see
 * cmd/common.h).
 *
 * Exit codes are decided here and only here (with main.c): a usage error
 * is 2 and prints one line plus a pointer to --help; a failed run is 1.
 */
#include "cmd/common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void wn_cmd_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "winnow %s: ", cmd);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void usage_error_line(const char *cmd, const char *msg)
{
	fprintf(stderr, "winnow %s: %s\nTry 'winnow %s --help' for more.\n", cmd, msg, cmd);
}

void wn_usage_error(const char *cmd, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	usage_error_line(cmd, msg);
	exit(2);
}

int wn_parse_options(int argc, const char **argv, const struct wn_option *opts,
		     const char *const *usage)
{
	char err[512], cmd[64];
	int npos;
	wn_opts_command_name(usage, cmd, sizeof cmd);
	int rc = wn_opts_parse_argv(opts, argc, argv, &npos, err, sizeof err);
	if (rc == 1) {
		wn_opts_print_help(stdout, usage, opts);
		exit(0);
	}
	if (rc < 0)
		wn_usage_error(cmd, "%s", err);
	return npos;
}

/* A shell word as it can be pasted back: bare when safe, else '...'. */
static int put_shell_word(wn_buf *b, const char *w)
{
	if (*w && strspn(w, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			    "0123456789_-+=./:,@%") == strlen(w))
		return wn_buf_puts(b, w);
	int bad = wn_buf_putc(b, '\'');
	for (const char *p = w; *p && !bad; p++)
		bad = *p == '\'' ? wn_buf_puts(b, "'\\''") : wn_buf_putc(b, *p);
	return bad || wn_buf_putc(b, '\'');
}

/* "winnow <step> <words as typed>", each word quoted for a shell: runs.command. */
char *wn_cmd_command_line(const char *name, int argc, const char **argv)
{
	wn_buf b = WN_BUF_INIT;
	int bad = wn_buf_puts(&b, "winnow ") || wn_buf_puts(&b, name);
	for (int i = 1; i < argc && !bad; i++)
		bad = wn_buf_putc(&b, ' ') || put_shell_word(&b, argv[i]);
	char *s = bad ? NULL : strdup(wn_buf_cstr(&b));
	wn_buf_free(&b);
	return s;
}

const wn_step *wn_step_find(const char *name)
{
	for (const wn_step *const *s = wn_steps; *s; s++)
		if (!strcmp((*s)->name, name))
			return *s;
	return NULL;
}

/* argv -> options; returns 0, or the exit code to stop with. */
static int parse_step_argv(const wn_step *step, void *opts, struct wn_option *tab, int argc,
			   const char **argv, int *npos)
{
	char err[512] = "";
	int rc = wn_opts_parse_argv(tab, argc, argv, npos, err, sizeof err);
	if (rc == 1) {
		wn_opts_print_help(stdout, step->usage, tab);
		return -1; /* exit 0 */
	}
	const wn_stream_opts *co = opts;
	if (rc == 0 && step->check)
		rc = step->check(opts, npos, argv, err, sizeof err);
	if (rc == 0 && co->device && *co->device && wn_core_parse_device(co->device) < 0) {
		snprintf(err, sizeof err, "unknown device '%.200s' (expected cpu, cuda or auto)", co->device);
		rc = -1;
	}
	if (rc == 0 && (step->flags & WN_STEP_NO_INPUT) && *npos > 0) {
		snprintf(err, sizeof err, "unexpected argument '%.400s'", argv[0]);
		rc = -1;
	}
	if (rc) {
		usage_error_line(step->name, err);
		return 2;
	}
	return 0;
}

static int run_step(const wn_step *step, void *opts, int npos, const char **pos, const char *command)
{
	wn_stream_opts *co = opts; /* every step's options start with the stream's */
	char err[512] = "";
	wn_stream s;
	int with_output = !(step->flags & WN_STEP_NO_OUTPUT);
	int opened = (step->flags & WN_STEP_NO_INPUT)
			     ? wn_stream_open_sink(&s, step->name, co, with_output, err, sizeof err)
			     : wn_stream_open_files(&s, step->name, co, npos, pos, with_output, err,
						    sizeof err);
	if (opened) {
		wn_cmd_error(step->name, "%s", err);
		return 1;
	}
	s.command = command;
	s.provenance = getenv("WINNOW_PROVENANCE"); /* a shell pipeline's provenance file */
	if (s.provenance && !*s.provenance)
		s.provenance = NULL;
	wn_step_report rep = {0};
	int rc = step->run(opts, &s, &rep, err, sizeof err);
	if (rc && err[0])
		wn_cmd_error(step->name, "%s", err);
	if (wn_stream_finish(&s, rc == 0, &rep))
		return 1;
	return rep.nothing_new ? 3 : 0;
}

int wn_step_main(const wn_step *step, int argc, const char **argv)
{
	void *opts = calloc(1, step->opts_size);
	struct wn_option *tab = calloc(WN_STEP_MAX_OPTIONS, sizeof *tab);
	if (!opts || !tab) {
		wn_cmd_error(step->name, "out of memory");
		free(opts);
		free(tab);
		return 1;
	}
	char *command = wn_cmd_command_line(step->name, argc, argv); /* before parsing reorders argv */
	step->init(opts);
	step->options(opts, tab);
	int npos, rc = parse_step_argv(step, opts, tab, argc, argv, &npos);
	if (rc == 0)
		rc = run_step(step, opts, npos, argv, command);
	else if (rc < 0)
		rc = 0;
	if (step->release)
		step->release(opts);
	free(command);
	free(tab);
	free(opts);
	return rc;
}
