/*
 * selectors/pool.h — a candidate pool for whole-stream selectors that read
 * per-record columns (used by kmq, mig and tas of issue 20): every record of
 * the stream spooled (keeping file and line), with an integer cluster id
 * and a number read from dotted paths, checked, bad records rejected under
 * the stream's policy; then the records written back in input order, each
 * one the caller keeps with its annotation.
 *
 * Owns: the spool and the columns (wn_pool_free).
 * Borrows: io/stream.h, io/spool.h, io/json.h (the paths).
 * Why here: kmq, mig and tas read the same two kinds of column; this is
 * one reader instead of three. Steps that need vectors as well read them
 * through cluster/vectors.h instead (semdedup, facility, volume, rds).
 */
#ifndef WN_SELECTORS_POOL_H
#define WN_SELECTORS_POOL_H

#include <stdint.h>

#include "io/spool.h"
#include "io/stream.h"

#include "io/json.h"

/*
 * The cluster id at a dotted path of a record: an integer >= 0. 1 with *c,
 * 0 when the path is missing, -1 when it holds something else. The one
 * test for a cluster id of every selector that reads them (the pool below,
 * dedup semantic's second pass); each caller words its own rejection.
 */
int wn_pool_cluster_id(wn_span json, const char *path, int64_t *c);

typedef struct wn_pool {
	wn_spool *sp;
	int64_t n, cap;
	int64_t *cluster;  /* n, when a cluster path was given: the id's rank among
	                      the distinct ids read (0 = the smallest), so that
	                      sparse or huge ids cost nothing */
	double *value;     /* n, when a value path was given (finite) */
	int64_t nclusters; /* distinct cluster ids */
} wn_pool;

/*
 * Called for each record that passed the cluster and value checks, before
 * it is kept as item i: 1 keep, 0 rejected (already reported through
 * wn_stream_reject), -1 stop (the policy said stop, or s->err holds why).
 */
typedef int (*wn_pool_take_fn)(void *ctx, wn_stream *s, const wn_record *rec, int64_t i);

/*
 * Read the whole stream: cluster_path (NULL: none) must hold an integer
 * >= 0, value_path (NULL: none) a finite number; `opt` names the option
 * that gave value_path in messages ("--quality"). Returns 0, or -1 (a
 * policy stop, already reported, or the reason in err).
 */
int wn_pool_read(wn_pool *p, wn_stream *s, const char *cluster_path, const char *value_path,
		  const char *opt, wn_pool_take_fn take, void *ctx, char *err, size_t errlen);
void wn_pool_free(wn_pool *p);

/* Fill a for item i: 1 write it, 0 leave it out, -1 out of memory. */
typedef int (*wn_pool_annotate_fn)(void *ctx, int64_t i, wn_annot *a);
/* Write the items the callback keeps, in input order. */
int wn_pool_emit(wn_pool *p, wn_stream *s, wn_pool_annotate_fn fn, void *ctx, char *err,
		  size_t errlen);

#endif
