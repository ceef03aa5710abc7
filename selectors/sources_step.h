/*
 * selectors/sources_step.h — the `sources` steps (issue 21): `sources qqt`
 * (which top-k quality pools for a compute budget), `sources ot` (OT
 * dataset distances of sources to a target), `sources plan` (the
 * projektor mixture for a data size). They read no records from the
 * stream: each opens its own files (--pilots, --source, --target) and
 * writes one report (a table, or JSON) to the stream's output.
 *
 * Owns: what check/run allocate inside the options (released by
 * wn_sources_*_release). Borrows: the option strings (argv or recipe).
 */
#ifndef WN_SELECTORS_SOURCES_STEP_H
#define WN_SELECTORS_SOURCES_STEP_H

#include <stdint.h>

#include "io/step.h"
#include "io/stream.h"

/* ---- sources qqt ---- */
typedef struct wn_sources_qqt_opts {
	wn_stream_opts io;
	const char *pilots;    /* FILE: rows POOL S N ERROR */
	const char *budget;    /* SAMPLES[,SAMPLES...] */
	int64_t pool_size;     /* samples in each pool of the projection */
	double a, d, a_upper;  /* a NAN: fitted once */
	int64_t seed;
	int json;
	/* filled by check */
	int64_t *budgets;
	int nbudgets;
} wn_sources_qqt_opts;

void wn_sources_qqt_init(wn_sources_qqt_opts *o);
int wn_sources_qqt_check(wn_sources_qqt_opts *o, int npos, char *err, size_t errlen);
int wn_sources_qqt_run(const wn_sources_qqt_opts *o, wn_stream *s, wn_step_report *rep, char *err,
		       size_t errlen);
void wn_sources_qqt_release(wn_sources_qqt_opts *o);

/* ---- sources ot ---- */
typedef struct wn_sources_ot_opts {
	wn_stream_opts io;
	const char **sources;  /* --source FILE, repeatable (the array is owned) */
	int nsources;
	const char *target;    /* --target FILE */
	const char *label;     /* --label FIELD: label-aware OTDD (else the feature OT) */
	const char *emb;       /* vector member (default winnow.emb) */
	const char *mix;       /* --mix P,P,...: one more mixture to evaluate */
	double blur, inner_blur, tol;
	int max_iter;
	double *mixp;          /* parsed --mix (owned) */
} wn_sources_ot_opts;

void wn_sources_ot_init(wn_sources_ot_opts *o);
/* --source FILE (repeatable): opt->value is the wn_sources_ot_opts */
int wn_sources_ot_source_cb(const struct wn_option *opt, const char *arg, char *err, size_t errlen);
int wn_sources_ot_check(wn_sources_ot_opts *o, int npos, char *err, size_t errlen);
int wn_sources_ot_run(const wn_sources_ot_opts *o, wn_stream *s, wn_step_report *rep, char *err,
		      size_t errlen);
void wn_sources_ot_release(wn_sources_ot_opts *o);

/* A mixture given as K comma-separated weights >= 0 with a positive sum,
 * divided by the sum, into p (K entries); `what` names the option in the
 * error. 0, or -1 with the reason in err. */
int wn_sources_parse_mix(const char *arg, const char *what, int K, double *p, char *err,
			 size_t errlen);

/* Read one side file into a set: vectors from `emb`, labels from `label`
 * (NULL: unlabelled); bad records go through the stream's policy. Shared
 * with `sources plan`. 0, or -1 (the reason in err, or already reported). */
struct wn_src_set;
int wn_sources_read_set(wn_stream *s, const char *path, const char *emb, const char *label,
			struct wn_src_set *set, char *err, size_t errlen);

/* Read every --source and the --target, open the core and build the OTDD
 * costs (shared by `sources ot` and `sources plan`). On success the caller
 * owns *sets (nsources + 1), *core and *ot: wn_sources_ot_done frees them. */
struct wn_otdd;
struct wn_core;
int wn_sources_ot_prepare(const wn_sources_ot_opts *o, wn_stream *s, struct wn_src_set **sets,
			  struct wn_core **core, struct wn_otdd *ot, char *err, size_t errlen);
void wn_sources_ot_done(const wn_sources_ot_opts *o, struct wn_src_set *sets, struct wn_core *core,
			struct wn_otdd *ot);

/* ---- sources plan ---- */
typedef struct wn_sources_plan_opts {
	wn_sources_ot_opts ot;  /* first: starts with the stream options */
	const char *pilots;     /* FILE: rows N p_1..p_K PERFORMANCE */
	const char *pilot_label; /* --pilot-label FIELD: pilots from winnow's proxy */
	const char *pilot_sizes; /* --pilot-sizes N0,N1 (with --pilot-label) */
	int pilot_repeats, pilot_epochs;
	double pilot_lr;
	int64_t pilot_batch;
	int64_t seed;
	int64_t psize[2];       /* parsed --pilot-sizes */
	int64_t size;           /* --size N */
	int steps;
	double lr, decay;
	int json;
	const char **eval_mix;  /* --eval-mixture P,...,P, repeatable (the array is owned) */
	int neval;
	double *evalp;          /* parsed by check: neval x K, each summing to 1 (owned) */
} wn_sources_plan_opts;

void wn_sources_plan_init(wn_sources_plan_opts *o);
/* --eval-mixture P,...,P (repeatable): opt->value is the wn_sources_plan_opts */
int wn_sources_plan_eval_cb(const struct wn_option *opt, const char *arg, char *err, size_t errlen);
int wn_sources_plan_check(wn_sources_plan_opts *o, int npos, char *err, size_t errlen);
int wn_sources_plan_run(const wn_sources_plan_opts *o, wn_stream *s, wn_step_report *rep, char *err,
			size_t errlen);
void wn_sources_plan_release(wn_sources_plan_opts *o);

#endif
