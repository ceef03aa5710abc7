/*
 * pipelines/cache_step.h — one recipe step run through the cache
 * (pipelines/cache.h): records the cache has seen pass with the annotation
 * it kept; only the others reach the step, in batches, and each batch's
 * annotations are committed before the next batch starts.
 *
 * Owns: the rule of which steps are cached and their key, the batches, the
 * spools of one cached run (the plan, a batch, the computed records).
 * Borrows: the plan and its binding (pipelines/recipe.h), the step's own
 * run function (called once per batch, on a spool of that batch only), the
 * cache, io/stream.h and io/spool.h.
 *
 * Cached steps are those whose annotation of a record is a function of
 * that record's bytes, the options and the files the options name, and of
 * nothing else (not its position, not the other records): embed, score
 * zipfit, and cluster kmeans with --centroids (assignment to saved
 * centroids). A step that writes a file of its own (--npy, --stats,
 * --centroids-out, --fit-idf) is not cached: its file would hold one batch.
 * Every other step (k-means training, hkmeans, dsir, select, dedup, ...) runs
 * as without a cache, over the whole stream.
 *
 * The output is the same bytes as without a cache: for each record the step
 * received, in order, either the cached delta spliced into it or what the
 * step wrote for it; a record the step dropped (rejected under skip) is not
 * cached and is computed again next time.
 */
#ifndef WN_PIPELINES_CACHE_STEP_H
#define WN_PIPELINES_CACHE_STEP_H

#include "io/spool.h"
#include "io/stream.h"
#include "pipelines/cache.h"
#include "pipelines/recipe.h"

#ifdef __cplusplus
extern "C" {
#endif

/* 1 when step rs runs through a cache (the rule above), else 0. */
int wn_cache_step_cached(const wn_recipe_step *rs);

/* XXH3-64 of a file's bytes, or of a directory's files (names and bytes,
 * by name, recursively: a model directory). 0, or -1 when unreadable. */
int wn_cache_hash_path(const char *path, uint64_t *h);

/* Records per batch: 1024, or $WINNOW_CACHE_BATCH (for tests). */
size_t wn_cache_batch_size(void);

/*
 * The key of step i as bound in b: 1 and *key (and its text in canon) when
 * the step is cached, 0 when it is not, -1 with the reason in err (a file
 * its options name cannot be read).
 */
int wn_cache_step_key(const wn_recipe *r, size_t i, const wn_recipe_bound *b, wn_cache_key *key,
		      wn_buf *canon, char *err, size_t errlen);

typedef struct wn_cache_counts {
	uint64_t reused, computed;
} wn_cache_counts;

/*
 * Run step i over src (every record it would receive) through the cache c
 * under key; write its records to dst, or to the recipe's output when dst
 * is NULL (the last step). rep gets the step's counts as without a cache
 * (in = records of src, rejected = the step's), cnt the reused and
 * computed records. Prints no closing line (the caller does: its counts
 * may add a reading pass). 0, or -1 (the reason printed, or in err);
 * batches finished before a failure stay committed.
 */
int wn_cache_run_step(wn_cache *c, wn_cache_key key, const wn_recipe *r, size_t i,
		      const wn_recipe_env *env, wn_spool *src, wn_spool *dst, wn_step_report *rep,
		      wn_cache_counts *cnt, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
