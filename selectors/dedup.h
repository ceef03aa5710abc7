/*
 * selectors/dedup.h — the `dedup <method>` steps: `dedup exact` (document
 * level: the first record of each distinct text, or --key value, is kept)
 * and `dedup minhash` (near duplicates: MinHash LSH candidates verified by
 * true Jaccard, cluster/minhash.h), plus the one documented text
 * normalisation exact dedup applies under --normalize.
 *
 * Owns: the options of both steps, the exact step's memory-bounded seen set
 * (an exact table of xxh3-128 hashes up to half of --memory, then a Bloom
 * filter of the other half) and the normaliser's workspace.
 * Borrows: io/stream.h (records, policy, annotations), libxxhash (XXH3
 * 128/64), utf8proc (NFKC, categories), text/casefold.h (Python's
 * str.lower()), text/tokenize.h (Python's \s), cluster/minhash.h.
 *
 * Why here: dedup decides which records go on, like select; the near-
 * duplicate grouping itself (signatures, bands, union-find) is clustering
 * and lives in cluster/ (DESIGN.md lists MinHash LSH there).
 */
#ifndef WN_SELECTORS_DEDUP_H
#define WN_SELECTORS_DEDUP_H

#include <stddef.h>
#include <stdint.h>

#include "io/buf.h"
#include "io/stream.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The --normalize rule, one function (Python equivalent, for tests:
 *   t = unicodedata.normalize("NFKC", s).lower()
 *   t = "".join(c for c in t if not unicodedata.category(c).startswith("P"))
 *   t = " ".join(t.split())
 * ): NFKC (utf8proc), Python's str.lower() (text/casefold.h), every
 * punctuation code point (general category P*) removed, runs of Python
 * whitespace (str.isspace) collapsed to one space, leading and trailing
 * whitespace dropped. Writes the result to out (replacing what it held).
 * Returns 0, or -1 when the text is not valid UTF-8 or memory runs out.
 */
int wn_dedup_normalize(const char *s, size_t len, wn_buf *out);

/* ---- dedup exact ---- */

typedef struct wn_dedup_exact_opts {
	wn_stream_opts io;
	const char *key;     /* --key PATH (NULL: the text --field) */
	const char *id;      /* --id PATH: what winnow.dup_of names (default "id") */
	int normalize;       /* --normalize */
	int mark_only;       /* --mark-only: keep duplicates, annotated */
	size_t memory;       /* --memory BYTES (default 1 GiB) */
	double bloom_fpr;    /* --bloom-fpr P: the Bloom filter's target rate */
	const char *unit;    /* --unit doc (default) | line | paragraph */
	double min_remaining;/* --min-remaining-frac F: drop a record left with less */
	int64_t min_count;   /* --min-count N: the N-th and later occurrences of a unit go (default 2) */
	int unit_id;         /* parsed by check: 0 doc, 1 line, 2 paragraph */
} wn_dedup_exact_opts;

void wn_dedup_exact_init(wn_dedup_exact_opts *o);
/* 0, or -1 with a usage error in err. */
int wn_dedup_exact_check(wn_dedup_exact_opts *o, char *err, size_t errlen);
int wn_dedup_exact_run(const wn_dedup_exact_opts *o, wn_stream *s, wn_step_report *rep,
		       char *err, size_t errlen);

/* ---- dedup minhash ---- */

typedef struct wn_dedup_minhash_opts {
	wn_stream_opts io;
	int ngram;           /* --ngram N: words per shingle (default 5) */
	double threshold;    /* --threshold J: verified Jaccard (default 0.8) */
	int perms;           /* --perms P (default 128) */
	int bands, rows;     /* --bands B --rows R (0: datasketch's optimal_param) */
	int64_t seed;        /* --seed S */
	int no_verify;       /* --no-verify: band collisions count as duplicates */
	int mark_only;       /* --mark-only */
	const char *pairs;   /* --pairs FILE: every candidate pair, for audits */
	const char *save_index; /* --save-index DB: the kept set's bands and shingles */
	const char *against; /* --against DB: drop what an earlier run's index holds */
	const char *id;      /* --id PATH: the name an index keeps (default id; else FILE:LINE) */
	const char *keep;    /* --keep first (default) | longest | oldest-by:FIELD */
	int keep_id;         /* parsed by check: 0 first, 1 longest, 2 oldest-by */
	const char *keep_field; /* oldest-by's FIELD (points into keep) */
	size_t memory;       /* --memory BYTES: the records' spool, a block of texts and the
				index (sets, band hashes, candidate pairs) before they spill
				(default 1 GiB; see dedup_minhash.c's mh_memory) */
} wn_dedup_minhash_opts;

void wn_dedup_minhash_init(wn_dedup_minhash_opts *o);
int wn_dedup_minhash_check(wn_dedup_minhash_opts *o, char *err, size_t errlen);
int wn_dedup_minhash_run(const wn_dedup_minhash_opts *o, wn_stream *s, wn_step_report *rep,
			 char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
