/*
 * embed/hash_embed.h — `winnow embed --model hash`: the default embedder,
 * which needs no model file.
 *
 * Owns: the hashed n-gram embedding (feature hashing with a sign hash,
 * sublinear TF, optional IDF, L2 normalisation) and the IDF statistics file
 * that `winnow embed --fit-idf` writes and `--idf FILE` reads.
 *
 * Borrows: the tokenizer (text/tokenize.h, mode WN_TOK_WORDS: NFKC + case
 * folding with an ASCII fast path), xxh3 from libxxhash.
 *
 * The vector of a text, for dim buckets:
 *   features  = word unigrams, word bigrams (word_ngrams = 2), and when
 *               char_min > 0 the character n-grams char_min..char_max of
 *               each word framed by spaces (" word ");
 *   h(f)      = xxh3-64 of the feature bytes with the seed; a bigram "a b"
 *               is hashed as xxh3(b, seed = h(a)) so no bytes are copied;
 *               a char n-gram's seed is the seed + 1 (a separate space);
 *   bucket    = h mod dim, sign = +1 or -1 from the top bit of h;
 *   c[b]      = sum of sign(f) over the features landing in bucket b
 *               (with multiplicity);
 *   v[b]      = sgn(c[b]) * (1 + ln|c[b]|) for c[b] != 0, else 0;
 *   v[b]     *= idf[b] when an IDF file is loaded:
 *               idf[b] = ln((1 + docs) / (1 + df[b])) + 1;
 *   out       = v / ||v||2 (all zeros for a text without tokens).
 * The result depends only on the text and the options: same bytes, same
 * vector, on any thread.
 *
 * IDF file (text, small): "winnow-idf 1\n", "dim D\n", "config HEX\n" (the
 * fingerprint of the options, so a file fitted with other options is
 * refused), "docs N\n", then D lines of df[b]. df[b] counts the documents
 * with at least one feature in bucket b.
 *
 * Threads: a wn_embed_hash is read-only once built and may be shared; each
 * thread uses its own wn_embed_hash_ws. wn_embed_hash_batch does the
 * threading itself (OpenMP).
 */
#ifndef WN_EMBED_HASH_EMBED_H
#define WN_EMBED_HASH_EMBED_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wn_embed_hash_opts {
	int dim;         /* buckets = output dimension; 0 means 512 */
	int word_ngrams; /* 1 = unigrams, 2 = unigrams + bigrams; 0 means 2 */
	int char_min;    /* character n-grams char_min..char_max; 0 = none */
	int char_max;
	int no_sign;     /* 1: every feature adds +1 (no sign hash) */
	int no_sublinear;/* 1: raw counts instead of 1 + ln(tf) */
	uint64_t seed;   /* hash seed; 0 is the default */
	const char *idf_path; /* IDF statistics file to load, or NULL */
} wn_embed_hash_opts;

typedef struct wn_embed_hash wn_embed_hash;
typedef struct wn_embed_hash_ws wn_embed_hash_ws;
typedef struct wn_embed_hash_df wn_embed_hash_df;

/* Fill o with the defaults (dim 512, unigrams + bigrams, signed, sublinear). */
void wn_embed_hash_opts_init(wn_embed_hash_opts *o);

/* --char-ngrams as every step reads it: "MIN,MAX" or "N" (1 <= MIN <= MAX
 * <= 32) into *lo, *hi. 0, or -1 when s is not such a range. */
int wn_embed_hash_parse_ngrams(const char *s, int *lo, int *hi);

/*
 * Build an embedder. Returns NULL on bad options, an unreadable or
 * mismatched IDF file, or no memory, with one line in err.
 */
wn_embed_hash *wn_embed_hash_new(const wn_embed_hash_opts *o, char *err,
				 size_t errlen);
void wn_embed_hash_free(wn_embed_hash *h);

int wn_embed_hash_dim(const wn_embed_hash *h);

/*
 * 64-bit fingerprint of everything that changes a vector: the options and
 * the loaded IDF table (for cache keys, e.g. `--cache DB`).
 */
uint64_t wn_embed_hash_fingerprint(const wn_embed_hash *h);

/* Per-thread scratch; NULL when out of memory. */
wn_embed_hash_ws *wn_embed_hash_ws_new(const wn_embed_hash *h);
void wn_embed_hash_ws_free(wn_embed_hash_ws *ws);

/*
 * Embed one UTF-8 text into out[0, dim). Returns 0, or a negative
 * WN_TOK_E* code (invalid UTF-8, no memory); out is then all zeros.
 */
int wn_embed_hash_text(const wn_embed_hash *h, wn_embed_hash_ws *ws,
		       const char *text, size_t len, float *out);

/*
 * Embed n texts into out (n rows of dim floats, row i for texts[i]) with
 * `threads` OpenMP threads (<= 0: all). status, when given, receives each
 * text's return code. Returns 0 when every text embedded, else the first
 * negative code (in index order); WN_TOK_ENOMEM when scratch could not be
 * made.
 */
int wn_embed_hash_batch(const wn_embed_hash *h, const char *const *texts,
			const size_t *lens, size_t n, float *out, int threads,
			int *status);

/* --- fitting IDF: accumulate document frequencies over a stream --- */

wn_embed_hash_df *wn_embed_hash_df_new(const wn_embed_hash *h);
void wn_embed_hash_df_free(wn_embed_hash_df *df);

/* Count one document. Returns 0 or a negative WN_TOK_E* code. */
int wn_embed_hash_df_add(const wn_embed_hash *h, wn_embed_hash_ws *ws,
			 wn_embed_hash_df *df, const char *text, size_t len);

/* Add src's counts into dst (per-thread accumulators). 0, or -1 on a dim or
 * options mismatch. */
int wn_embed_hash_df_merge(wn_embed_hash_df *dst, const wn_embed_hash_df *src);

uint64_t wn_embed_hash_df_docs(const wn_embed_hash_df *df);

/* Write the IDF file through io/atomic (temp file beside it + rename; a
 * symlink is followed; see io/atomic.h). 0 or -1 with "<path>: <why>" in err. */
int wn_embed_hash_df_write(const wn_embed_hash_df *df, const char *path,
			   char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
