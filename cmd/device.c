/*
 * cmd/device.c — `winnow device`: which compute backend winnow would use.
 *
 * Opens the core exactly as every computing command does (--device,
 * --threads, WINNOW_DEVICE) and prints wn_core_describe's "key: value"
 * lines: backend, threads, BLAS, and the GPU's name, memory and versions, or
 * why CUDA is unavailable. Exit 1 when the requested device cannot be used.
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

int cmd_device(int argc, const char **argv)
{
	wn_stream_opts co = WN_STREAM_OPTS_INIT;
	struct wn_option opts[] = {
		WN_COMPUTE_OPTIONS(&co),
		OPT_END(),
	};
	argc = wn_parse_options(argc, argv, opts, device_usage);
	if (argc > 0)
		wn_usage_error(device_usage, "device", "unexpected argument '%s'", argv[0]);
	if (co.threads < 0)
		wn_usage_error(device_usage, "device", "--threads must be 0 (all cores) or more");
	wn_core *c = wn_common_core_open("device", &co);
	if (!c)
		return 1;
	char buf[4096];
	wn_core_describe(c, buf, sizeof buf);
	wn_core_close(c);
	if (fputs(buf, stdout) == EOF || fflush(stdout) != 0) {
		wn_cmd_error("device", "cannot write to stdout");
		return 1;
	}
	return 0;
}
