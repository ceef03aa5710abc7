/*
 * selectors/mix_weights.h — the explicit mixture of `winnow select --mix
 * PATH --mix-weights ...`: group names and their weights, given inline
 * (NAME=W,NAME=W,...) or read from a file (@FILE): the JSON document
 * `winnow sources plan --json` writes (each of its "sources" gives "name",
 * or the file name of "path" without its folder and its .jsonl/.json/.csv/
 * .gz/.zst endings, and "p"), or plain text with one "NAME WEIGHT" a line
 * (spaces, tabs or a comma between; blank lines and '#' comments skipped).
 * Weights must be finite and >= 0, names distinct, the sum 1 within 1e-6;
 * they are then divided by their sum.
 *
 * Owns: the names and weights it parses (wn_mix_weights_free).
 * Borrows: the argument string; cJSON for the JSON form, the pilots-table
 * line reader (selectors/sources_table.h) for the text form.
 * Why here: selectors/plan.c keeps the selection; the two file forms are
 * parsing only, and `sources plan`'s output format is this module's input.
 */
#ifndef WN_SELECTORS_MIX_WEIGHTS_H
#define WN_SELECTORS_MIX_WEIGHTS_H

#include <stddef.h>

typedef struct wn_mix_weights {
	char **names;  /* n group names, each malloc'd */
	double *w;     /* n weights, summing to 1 */
	size_t n;
} wn_mix_weights;

#define WN_MIX_SUM_TOL 1e-6

/* Parse `arg` (NAME=W,... or @FILE) into an empty *mw: 0, or -1 with one
 * line in err ("--mix-weights: ..." inline, "FILE:LINE: ..." for a file). */
int wn_mix_weights_parse(const char *arg, wn_mix_weights *mw, char *err, size_t errlen);
void wn_mix_weights_free(wn_mix_weights *mw);

/* The name a source file stands for: its base name without the folder and
 * without trailing .jsonl, .json, .csv, .gz, .zst endings ("a/libs.jsonl.gz"
 * is "libs"), into buf (truncated to n - 1 bytes). */
void wn_mix_source_name(const char *path, char *buf, size_t n);

#endif
