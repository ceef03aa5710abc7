/*
 * cluster/minhash.h — MinHash LSH near-duplicate groups over texts:
 * shingle sets, signatures, band hashes, candidate pairs, verification by
 * true Jaccard, union-find groups.
 *
 * Owns: the per-text shingle sets (sorted, distinct 64-bit XXH3 digests of
 * the shingles) and band hashes (n x B), in memory up to half of
 * opts.memory and past it in an unlinked temporary file; the (band, hash,
 * text) entries, buffered up to a quarter (a quarter more to sort them)
 * and past it spilled as sorted runs to a second unlinked file (an
 * external sort); the candidate pairs, buffered in that sorting quarter
 * and past it spilled as sorted runs to a third file, merged, verified a
 * piece at a time; the union-find (int32 parents) of one run. What stays in
 * memory whatever the input: 16 bytes per text (store offset, set size,
 * union-find slot); nothing per candidate pair.
 * Borrows: text/tokenize.h (WN_TOK_NONWORD: Python's re.split(r"\W+",
 * s.lower()), empty pieces dropped; wn_tok_shingles: word n-grams joined by
 * one space, a text of fewer than n words is one shingle, no words none),
 * libxxhash, core/rng.h (Philox: the hash family from the seed),
 * io/spool.h (wn_tmpfile_open: the unlinked temporary files).
 *
 * Definitions:
 *  - words w_1..w_m (the split above); each word hashed once, u_i =
 *    XXH3_64(word bytes); shingle i (k = min(ngram, m) words from w_i) has
 *    the digest h = fmix64(u_i K^(k-1) + u_(i+1) K^(k-2) + ... + u_(i+k-1))
 *    mod 2^64, K = WN_MINHASH_SHINGLE_MUL, fmix64 murmur3's finaliser
 *    (Horner's rule: order matters, so it stands for the word n-gram the
 *    text-dedup definition joins with spaces; two different shingles share
 *    a digest only if 64-bit hashes collide). A text's set is its distinct
 *    digests.
 *  - signature value i of a set S is
 *    min over h in S of (a_i * (h mod p) + b_i) mod p, p = 2^61 - 1,
 *    a_i in [1, p), b_i in [0, p) from Philox(seed, WN_MINHASH_STREAM).
 *  - band j hashes rows j*R .. j*R+R-1 of the signature (XXH3_64, seed j).
 *    Two texts are candidates when some band hash is equal. Buckets of up
 *    to WN_MINHASH_BUCKET_ALL members give all their pairs; a larger
 *    bucket (many copies of one text) gives each member paired with its
 *    first (lowest) member, so a bucket costs linear, not quadratic, work.
 *  - J(A, B) = |A n B| / |A u B| over the digest sets, a double computed
 *    as (double)inter / (double)union. A candidate is verified when
 *    J >= threshold; an empty set has no band hashes and no duplicates.
 *  - groups: components of the verified pairs (of all candidates with
 *    verify = 0); the representative is the lowest text index.
 * Every step is a pure function of the texts, options and seed: the same
 * result at any thread count.
 */
#ifndef WN_CLUSTER_MINHASH_H
#define WN_CLUSTER_MINHASH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WN_MINHASH_STREAM 0x6d68000000000001ull
#define WN_MINHASH_SHINGLE_MUL 0x9e3779b97f4a7c15ull
#define WN_MINHASH_BUCKET_ALL 64

typedef struct wn_minhash_opts {
	int ngram, perms, bands, rows;
	uint64_t seed;
	double threshold;
	int verify;
	int threads;                 /* 0: OpenMP's default */
	size_t memory;               /* bytes before spilling to $TMPDIR (0: 1 GiB) */
	int kernel;                  /* WN_MINHASH_KERNEL_*: 0 the best the CPU runs */
} wn_minhash_opts;

/*
 * The permutation kernels: one C source compiled for AVX-512 (F, VL, DQ),
 * AVX2 and the baseline ISA, chosen at run time; integer arithmetic only,
 * so all give the same signatures bit for bit. Asking for one the CPU lacks
 * makes wn_minhash_new fail (NULL).
 */
#define WN_MINHASH_KERNEL_AUTO 0
#define WN_MINHASH_KERNEL_PORTABLE 1
#define WN_MINHASH_KERNEL_AVX2 2
#define WN_MINHASH_KERNEL_AVX512 3

/*
 * datasketch's optimal_param: the (b, r) with b * r <= perms minimising
 * fp_weight * false positives + fn_weight * false negatives at threshold
 * (datasketch's default weights are 0.5 and 0.5), the integrals of
 * 1 - (1 - s^r)^b over [0, t] and of (1 - s^r)^b over [t, 1] taken by
 * composite Simpson's rule on 1000 intervals.
 *
 * winnow's default weights are WN_MINHASH_FP_WEIGHT / WN_MINHASH_FN_WEIGHT
 * (0.05 / 0.95): verification by true Jaccard makes a false-positive
 * candidate cost only its check, never precision, so the rule may buy
 * recall with candidates. At threshold 0.8 and 128 permutations that is
 * 16 bands x 8 rows (datasketch's 0.5 / 0.5: 9 x 13); a pair at J = 0.8
 * becomes a candidate with probability 0.947 (9 x 13: 0.49), at 0.85 with
 * 0.994; on 4,000 Debian records the expected pair recall at J >= 0.8 is
 * 0.99 (9 x 13: 0.81).
 */
#define WN_MINHASH_FP_WEIGHT 0.05
#define WN_MINHASH_FN_WEIGHT 0.95
void wn_minhash_optimal_param(double threshold, int perms, double fp_weight, double fn_weight,
			      int *bands, int *rows);

typedef struct wn_minhash wn_minhash;

/* An empty index for the options (bands x rows <= perms). NULL on oom. */
wn_minhash *wn_minhash_new(const wn_minhash_opts *o);
void wn_minhash_free(wn_minhash *m);

/*
 * Add n texts (the next indices, in order; at most INT32_MAX in all): shingles, signatures and band
 * hashes, in parallel over the texts. Returns 0, or -1 with the reason in
 * err ("text 17: not valid UTF-8", out of memory).
 */
int wn_minhash_add(wn_minhash *m, const char *const *texts, const size_t *lens, size_t n,
		   char *err, size_t errlen);

/* One candidate pair (a < b, text indices) and its Jaccard (NAN unverified). */
typedef struct wn_minhash_pair {
	uint32_t a, b;
	double jaccard;
	int verified;
} wn_minhash_pair;

/* Called for each candidate pair; nonzero (with err filled) stops the run. */
typedef int (*wn_minhash_pair_fn)(void *ctx, const wn_minhash_pair *p, char *err, size_t errlen);

/*
 * Candidates from the bands, verified, then the groups (call it once).
 * Each distinct candidate pair goes to each (when not NULL) once, in (a, b)
 * order, after its verification; the pairs are never all in memory, so
 * this is the only way to see them. Returns 0, or -1 with the reason in
 * err. Afterwards the getters below are valid.
 */
int wn_minhash_group(wn_minhash *m, wn_minhash_pair_fn each, void *ctx, char *err, size_t errlen);

size_t wn_minhash_count(const wn_minhash *m);
/* How many distinct candidate pairs the run had, and how many verified. */
void wn_minhash_pair_counts(const wn_minhash *m, uint64_t *candidates, uint64_t *verified);
/* The representative (lowest index) of text i's group, and its size. */
size_t wn_minhash_root(const wn_minhash *m, size_t i);
size_t wn_minhash_group_size(const wn_minhash *m, size_t i);
/* True Jaccard of the shingle sets of texts i and j (NAN when a spilled
 * set cannot be read back). */
double wn_minhash_jaccard(const wn_minhash *m, size_t i, size_t j);
/* The shingle count of text i (distinct digests). */
size_t wn_minhash_set_size(const wn_minhash *m, size_t i);

/* A reader's scratch for spilled texts (zero-initialise; free it after). */
typedef struct wn_minhash_view {
	uint64_t *buf;
	size_t cap;
} wn_minhash_view;
/*
 * Text i's `bands` band hashes (band j at j; meaningless for an empty set;
 * bands may be NULL) and its sorted distinct digests (*n): pointers into
 * memory or into v's buffer, valid until v's next use or the index's free
 * (any text an add has returned for). Thread-safe with one view per thread. 0, or -1 (a read or memory failure).
 */
int wn_minhash_text(const wn_minhash *m, size_t i, wn_minhash_view *v, const uint64_t **bands,
		    const uint64_t **set, size_t *n);
void wn_minhash_view_free(wn_minhash_view *v);
/* The kernel the index runs (WN_MINHASH_KERNEL_PORTABLE, _AVX2 or _AVX512). */
int wn_minhash_kernel(const wn_minhash *m);
/* The signature (bands x rows values) of a sorted distinct digest set, as add computes it. */
void wn_minhash_signature(const wn_minhash *m, const uint64_t *set, size_t n, uint64_t *sig);
/*
 * Whether the store went to disk; runs of band entries spilled; runs of
 * candidate pairs spilled and the merge passes that folded them; store size.
 */
int wn_minhash_spilled(const wn_minhash *m, size_t *runs, size_t *pair_runs, size_t *pair_passes,
		       uint64_t *store_bytes);
/* J of two sorted distinct digest sets, as wn_minhash_jaccard (0 for two empty ones). */
double wn_minhash_jaccard_sets(const uint64_t *x, size_t nx, const uint64_t *y, size_t ny);

#ifdef __cplusplus
}
#endif

#endif
