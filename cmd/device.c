/*
 * cmd/device.c — `winnow device`: which compute backend winnow would use.
 *
 * Opens the core exactly as every computing command does (--device,
 * --threads, WINNOW_DEVICE) and prints wn_core_describe's "key: value"
 * lines: backend, threads, BLAS, and the GPU's name, memory and versions, or
 * why CUDA is unavailable. Exit 1 when the requested device cannot be used
 * (an unknown --device name included: the core says why, as it always did).
 *
 * A step with neither source nor sink (WN_STEP_NO_INPUT | WN_STEP_NO_OUTPUT):
 * the driver opens nothing and prints no closing line.
 */
#include <stdio.h>

#include "cmd/common.h"

static const char *const device_usage[] = {
	"winnow device [--device cpu|cuda|auto] [--threads N]",
	"",
	"Print the compute backend winnow would use (backend, threads, BLAS, GPU or why not).",
	"",
	"winnow device",
	"winnow device --device cuda    # exit 1 and the reason when no GPU is usable",
	NULL,
};

typedef struct device_opts {
	wn_stream_opts io;
	const char *device; /* --device, moved here by check: the core judges it (exit 1) */
} device_opts;

static void device_init(void *p)
{
	device_opts *o = p;
	*o = (device_opts){WN_STREAM_OPTS_INIT, NULL};
}

static void device_options(void *p, struct wn_option *t)
{
	device_opts *o = p;
	WN_STEP_TABLE(t, WN_COMPUTE_OPTIONS(&o->io));
}

static int device_check(void *p, int *npos, const char **pos, char *err, size_t n)
{
	device_opts *o = p;
	if (*npos > 0)
		return snprintf(err, n, "unexpected argument '%s'", pos[0]), -1;
	if (o->io.threads < 0)
		return snprintf(err, n, "--threads must be 0 (all cores) or more"), -1;
	o->device = o->io.device;
	o->io.device = NULL;
	return 0;
}

static int device_run(void *p, wn_stream *s, wn_step_report *r, char *err, size_t n)
{
	device_opts *o = p;
	wn_core *c = wn_core_open_named(o->device, o->io.threads, err, n);
	if (!c)
		return -1;
	char buf[4096];
	wn_core_describe(c, buf, sizeof buf);
	wn_core_close(c);
	if (fputs(buf, stdout) == EOF || fflush(stdout) != 0)
		return snprintf(err, n, "cannot write to stdout"), -1;
	return 0;
}

const wn_step wn_step_device = {"device", device_usage, sizeof(device_opts),
				WN_STEP_NO_INPUT | WN_STEP_NO_OUTPUT, device_init, device_options,
				device_check, device_run, NULL};
