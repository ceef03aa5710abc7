/*
 * selectors/sensitivity_step.h — the steps `score leverage`, `score lewis`
 * and `score kmeans-sensitivity` (issue 19): every record and its vector
 * read (cluster/vectors.h: winnow.emb or --npy rows), the score of every
 * row computed (selectors/sensitivity.h), the records written back in input
 * order with winnow.leverage, winnow.lewis or winnow.kmeans_sensitivity;
 * rank, iterations and the sum of the scores (the check) on stderr and, as
 * JSON, in --stats FILE.
 *
 * Leverage and Lewis stream (selectors/sensitivity_stream.h: records in a
 * spool, the vectors reread each pass; memory O(d² + batch), plus n doubles
 * for Lewis); so does the lightweight q (three passes); --bicriteria reads
 * the whole matrix (cluster/vectors.h).
 * --device cpu (the default, and what NULL means: not auto, not
 * $WINNOW_DEVICE, because the float32 GEMM path loses the float64
 * agreement) solves in float64; --device cuda (or auto finding a GPU, or
 * --float32-gemm) runs the Gram and second-pass GEMMs as float32 core
 * GEMMs on the device, the d×d factorisation on the CPU.
 *
 * Owns: one run's scores. Borrows: cluster/vectors (records, vectors,
 * rejects, emit), selectors/sensitivity(_stream), the core, cJSON (--stats).
 */
#ifndef WN_SELECTORS_SENSITIVITY_STEP_H
#define WN_SELECTORS_SENSITIVITY_STEP_H

#include "io/step.h"
#include "io/stream.h"

enum wn_sens_score { WN_SENS_LEVERAGE = 0, WN_SENS_LEWIS = 1, WN_SENS_KMEANS = 2 };

typedef struct wn_sens_step_opts {
	wn_stream_opts io;
	int score;              /* enum wn_sens_score, set by init */
	const char *npy;        /* vectors from a .npy, one row per record */
	const char *field_emb;  /* vector member (default winnow.emb) */
	const char *stats;      /* --stats FILE */
	double ridge;           /* leverage: λ >= 0 */
	double p;               /* lewis: NAN until given */
	double tol;             /* lewis: relative tolerance (default 1e-12) */
	int max_iter;           /* lewis: default 1000 */
	int bound;              /* lewis: annotate the sensitivity bound, not w */
	int bicriteria;         /* kmeans: the bound from a k-means++ solution */
	int64_t k;              /* kmeans --bicriteria: centres */
	int64_t seed;           /* kmeans --bicriteria: D² seeding */
	int float32_gemm;       /* leverage, lewis: the float32 GEMM passes on any device */
} wn_sens_step_opts;

void wn_sens_leverage_step_init(wn_sens_step_opts *o);
void wn_sens_lewis_step_init(wn_sens_step_opts *o);
void wn_sens_kmeans_step_init(wn_sens_step_opts *o);
/* 0, or -1 with a usage error in err. */
int wn_sens_step_check(wn_sens_step_opts *o, char *err, size_t errlen);
int wn_sens_step_run(const wn_sens_step_opts *o, wn_stream *s, wn_step_report *rep, char *err,
		     size_t errlen);

#endif
