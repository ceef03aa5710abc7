/*
 * selectors/dsir.h — DSIR (Xie et al., 2023) hashed n-gram importance
 * weights (`winnow score dsir`), held to the DSIR package's definition
 * (p-lambda/dsir, data_selection/hashed_ngram_dsir.py) so its weights can be
 * compared number for number.
 *
 * Owns: bucket counts of the raw pool and of the target, log_diff, the
 * weight of a text, and a per-thread cache of feature -> bucket.
 *
 *   tokens    = re.findall(r"\w+|[^\w\s]+", text.lower())  (nltk's
 *               WordPunctTokenizer; text/tokenize.h, WN_TOK_WORDPUNCT)
 *   features  = every token, then every bigram "a b" (one space), with
 *               multiplicity (ngrams = 3 adds trigrams, and so on)
 *   bucket(f) = int(sha256(utf8(f)).hexdigest(), 16) mod buckets — the
 *               big-endian digest as a 256-bit integer, reduced without a
 *               bignum; or xxh3-64(f) mod buckets with WN_DSIR_XXH3
 *   p_raw, p_target = bucket counts over each set / their total
 *   log_diff  = log(p_target + 1e-8) − log(p_raw + 1e-8)
 *   weight(x) = Σ over x's features of log_diff[bucket(f)]
 *
 * Unlike the package (whose scoring always uses 10,000 buckets), the weight
 * uses the same bucket count as the fit.
 *
 * Borrows: text/tokenize, nettle's SHA-256, xxh3, OpenMP.
 *
 * Threads: the count and score calls spread a batch over opts.threads
 * threads; per-thread partial counts are integers, so totals do not depend
 * on the thread count, and each weight is summed in feature order by one
 * thread. Calls on one wn_dsir must not overlap.
 */
#ifndef WN_SEL_DSIR_H
#define WN_SEL_DSIR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum wn_dsir_hash { WN_DSIR_SHA256 = 0, WN_DSIR_XXH3 = 1 };
enum wn_dsir_set { WN_DSIR_RAW = 0, WN_DSIR_TARGET = 1 };

typedef struct wn_dsir_opts {
	uint32_t buckets; /* 0 means 10000 */
	int hash;         /* enum wn_dsir_hash */
	int ngrams;       /* 2 (unigrams + bigrams) when 0; 1..5 */
	int threads;      /* <= 0: all cores */
} wn_dsir_opts;

typedef struct wn_dsir wn_dsir;

/* "sha256" / "xxh3" -> enum; -1 for anything else. */
int wn_dsir_parse_hash(const char *name);

wn_dsir *wn_dsir_new(const wn_dsir_opts *o, char *err, size_t errlen);
void wn_dsir_free(wn_dsir *d);

uint32_t wn_dsir_buckets(const wn_dsir *d);

/* The bucket of one feature's bytes (the package's hash_buckets()). */
uint32_t wn_dsir_bucket(const wn_dsir *d, const char *bytes, size_t len);

/*
 * Add the features of n texts to the counts of `set` (WN_DSIR_RAW or
 * WN_DSIR_TARGET). status[i], when given, is 0 or a negative WN_TOK_E*
 * code (invalid UTF-8); a text that fails adds nothing. Returns 0, or the
 * first failing text's code (in index order), or WN_TOK_ENOMEM.
 */
int wn_dsir_count(wn_dsir *d, int set, const char *const *texts,
		  const size_t *lens, size_t n, int *status);

/* Features counted so far in set. */
uint64_t wn_dsir_total(const wn_dsir *d, int set);

/* Bucket counts of set (buckets entries). */
const uint64_t *wn_dsir_counts(const wn_dsir *d, int set);

/*
 * Compute log_diff from the counts. Fails (-1 with err) when a set has no
 * features at all.
 */
int wn_dsir_fit(wn_dsir *d, char *err, size_t errlen);
const double *wn_dsir_log_diff(const wn_dsir *d);

/*
 * weights[i] = weight(texts[i]) after wn_dsir_fit. status as for count.
 * Returns 0, the first failing text's code, or WN_TOK_ENOMEM; -1 when not
 * fitted.
 */
int wn_dsir_score(wn_dsir *d, const char *const *texts, const size_t *lens,
		  size_t n, double *weights, int *status);

/*
 * Hash once, use twice: the bucket ids of n texts' features, in feature
 * order (text i's are ids[off[i], off[i+1])), computed over the threads.
 * For a caller that must count a stream before weighing it (a second pass
 * can then read saved ids instead of hashing again). Buffers in *out grow
 * as needed and are reused across calls. status and return as for count.
 */
typedef struct wn_dsir_ids {
	uint32_t *ids;
	size_t cap;
	size_t *off; /* n + 1 entries */
	size_t off_cap, n;
} wn_dsir_ids;

int wn_dsir_features(wn_dsir *d, const char *const *texts, const size_t *lens,
		     size_t n, wn_dsir_ids *out, int *status);
void wn_dsir_ids_free(wn_dsir_ids *x);
/* Add saved ids to the counts of set (each id < buckets). */
void wn_dsir_count_ids(wn_dsir *d, int set, const uint32_t *ids, size_t n_ids);
/* The weight of a text from its saved ids; bit-identical to wn_dsir_score. */
double wn_dsir_weight_ids(const wn_dsir *d, const uint32_t *ids, size_t n_ids);

#ifdef __cplusplus
}
#endif
#endif
