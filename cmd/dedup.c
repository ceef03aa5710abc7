/*
 * cmd/dedup.c — `winnow dedup exact`, `dedup minhash` and `dedup semantic` (issue
 * 17), as three steps: the usage texts and option tables only. The steps are
 * selectors/dedup.c (exact, --normalize) and selectors/dedup_minhash.c
 * over cluster/minhash.c (signatures, LSH bands, verification, groups),
 * and `winnow dedup semantic` (SemDeDup: selectors/semdedup_step.c over
 * selectors/semdedup.c).
 * `winnow dedup` alone lists the methods (cmd/main.c).
 */
#include "cmd/common.h"
#include "selectors/dedup.h"
#include "selectors/semdedup_step.h"

static const char *const exact_usage[] = {
	"winnow dedup exact [--key PATH] [--normalize] [--mark-only] [options] [file...]",
	"winnow dedup exact --unit line|paragraph [--min-count N] [--normalize] [--min-remaining-frac F] [options] [file...]",
	"",
	"Drop exact duplicates: the first record of each distinct text (or --key value) is kept.",
	"Hash: XXH3-128 of the text's UTF-8 (a non-string --key: of its raw JSON). --normalize first",
	"applies NFKC, Python's str.lower(), removes punctuation (Unicode P*) and collapses",
	"whitespace runs to one space (trimmed). Later copies are dropped, or with --mark-only kept",
	"with winnow.dup_of = the first record's --id value (default id), else its line number.",
	"Memory: an exact hash set up to --memory/2, then a Bloom filter of --memory/2 whose",
	"false-positive rate (target --bloom-fpr) is reported at the end; its hits get dup_of null.",
	"--unit line|paragraph (C4/Dolma style): the text's pieces split on \"\\n\" or \"\\n\\n\" that were",
	"seen N-1 times before (--min-count N, default 2: seen before; blank ones never count) are",
	"removed, the rest joined again; the record gets",
	"winnow.orig_len (bytes before), and is dropped when no non-blank piece or under",
	"--min-remaining-frac of its bytes remains.",
	"",
	"winnow dedup exact corpus.jsonl.gz > unique.jsonl",
	"winnow dedup exact --normalize --mark-only corpus.jsonl | winnow select --min winnow.dup_of=0",
	"winnow dedup exact --key url --memory 4G crawl.jsonl.zst > unique.jsonl",
	"winnow dedup exact --unit paragraph --min-remaining-frac 0.5 crawl.jsonl > cleaned.jsonl",
	NULL,
};

static void exact_options(void *p, struct wn_option *t)
{
	wn_dedup_exact_opts *o = p;
	WN_STEP_TABLE(t,
		OPT_GROUP("Exact dedup"),
		OPT_STRING(0, "key", &o->key, "PATH", "deduplicate on this field instead of the text"),
		OPT_STRING(0, "unit", &o->unit, "UNIT", "doc (default), or line / paragraph: remove repeated ones from the text"),
		OPT_DOUBLE(0, "min-remaining-frac", &o->min_remaining, "F", "--unit: drop a record left with under F of its bytes"),
		OPT_INT64(0, "min-count", &o->min_count, "N", "--unit: a unit's N-th and later occurrences go (default 2)"),
		OPT_BOOL(0, "normalize", &o->normalize, "NFKC, lowercase, no punctuation, collapsed spaces"),
		OPT_BOOL(0, "mark-only", &o->mark_only, "keep duplicates, with winnow.dup_of"),
		OPT_STRING(0, "id", &o->id, "PATH", "what winnow.dup_of names (default id; else the line)"),
		OPT_SIZE(0, "memory", &o->memory, "BYTES", "memory for the seen set (default 1G)"),
		OPT_DOUBLE(0, "bloom-fpr", &o->bloom_fpr, "P", "target false-positive rate past --memory/2 (default 1e-6)"),
		WN_STREAM_OPTIONS(&o->io));
}

static void exact_init(void *p) { wn_dedup_exact_init(p); }
static int exact_check(void *p, int *npos, const char **pos, char *err, size_t n) { return wn_dedup_exact_check(p, err, n); }
static int exact_run(void *p, wn_stream *s, wn_step_report *r, char *err, size_t n) { return wn_dedup_exact_run(p, s, r, err, n); }

const wn_step wn_step_dedup_exact = {"dedup exact", exact_usage, sizeof(wn_dedup_exact_opts), 0,
				     exact_init, exact_options, exact_check, exact_run, NULL};

static const char *const minhash_usage[] = {
	"winnow dedup minhash [--ngram N] [--threshold J] [--perms P] [--bands B --rows R] [options] [file...]",
	"",
	"Drop near duplicates: MinHash LSH candidates verified by true Jaccard, grouped by union-find.",
	"Shingles: re.split(r\"\\W+\", text.lower()) word N-grams joined by one space (a text of",
	"fewer than N words is one shingle), as 64-bit digests: each word's XXH3 combined by",
	"Horner's rule and murmur3's fmix64 (cluster/minhash.h). Signatures: P hashes",
	"(a*h + b) mod 2^61-1 exactly (AVX-512, AVX2 or portable code, chosen at run time, the",
	"same bits), a and b from --seed through Philox; B x R from datasketch's",
	"optimal_param with weights fp 0.05, fn 0.95 unless given (B x R must equal P): at J 0.8,",
	"16 x 8 (datasketch's default 0.5/0.5 gives 9 x 13: recall 0.81 on 4,000 Debian records,",
	"here 0.99; verification keeps precision 1.0, extra candidates only cost their check).",
	"A candidate counts when the Jaccard of",
	"the two shingle sets is >= J (--no-verify: every band collision counts, an estimate).",
	"Groups keep their first record (--keep longest: the longest text in bytes; --keep",
	"oldest-by:FIELD: the smallest FIELD, numbers before strings (byte order, so ISO dates",
	"work), records without it last; ties: the first); members get winnow.dup_group (the kept",
	"record's 0-based position among the records this step reads) and winnow.dup_jaccard (to",
	"it); the others are dropped unless --mark-only. --pairs numbers records the same way.",
	"Same output at any --threads and any --memory. Memory: shingle sets (8 bytes per shingle),",
	"band hashes and candidate pairs stay in memory up to their share of --memory, then spill",
	"to unlinked files in $TMPDIR (sets read back per candidate; band hashes and pairs as",
	"sorted runs, merged); what stays is 16 bytes per record (position, set size, union-find).",
	"--save-index DB (SQLite) keeps the parameters and, for each kept record, its --id value",
	"(raw JSON, else \"FILE:LINE\"), band hashes and shingle digests; --against DB (same",
	"--ngram, --perms, bands x rows, --seed and --threshold, else a usage error naming the",
	"one that differs) drops every group holding a record whose band hash is in DB and whose",
	"true Jaccard to that document is >= J: its members get winnow.dup_index (the lowest",
	"such document's name) and winnow.dup_jaccard (to it). With both, DB of --save-index holds",
	"the --against documents plus this run's kept ones (a nightly chain).",
	"",
	"winnow dedup minhash corpus.jsonl.gz > unique.jsonl",
	"winnow dedup minhash --threshold 0.7 --ngram 3 --mark-only --pairs pairs.tsv corpus.jsonl",
	"winnow dedup exact corpus.jsonl | winnow dedup minhash --threads 8 > unique.jsonl",
	"winnow dedup minhash --against index.db --save-index index.db today.jsonl > new.jsonl",
	NULL,
};

static void minhash_options(void *p, struct wn_option *t)
{
	wn_dedup_minhash_opts *o = p;
	WN_STEP_TABLE(t,
		OPT_GROUP("MinHash LSH"),
		OPT_INT(0, "ngram", &o->ngram, "N", "words per shingle (default 5)"),
		OPT_DOUBLE(0, "threshold", &o->threshold, "J", "Jaccard that makes a duplicate (default 0.8)"),
		OPT_INT(0, "perms", &o->perms, "P", "hash functions in a signature (default 128)"),
		OPT_INT(0, "bands", &o->bands, "B", "LSH bands (with --rows; default: optimal for J)"),
		OPT_INT(0, "rows", &o->rows, "R", "rows per band (B x R = P)"),
		OPT_INT64(0, "seed", &o->seed, "S", "seed of the hash family (default 0)"),
		OPT_BOOL(0, "no-verify", &o->no_verify, "count band collisions without checking Jaccard (an estimate)"),
		OPT_BOOL(0, "mark-only", &o->mark_only, "keep duplicates, annotated"),
		OPT_STRING(0, "keep", &o->keep, "K", "the member a group keeps: first (default), longest or oldest-by:FIELD"),
		OPT_STRING(0, "pairs", &o->pairs, "FILE", "write every candidate pair: pos_a pos_b jaccard verified (TSV)"),
		OPT_STRING(0, "save-index", &o->save_index, "DB", "write the kept records' band hashes and shingles to DB (SQLite)"),
		OPT_STRING(0, "against", &o->against, "DB", "also drop records that match a document of DB (--save-index of an earlier run)"),
		OPT_STRING(0, "id", &o->id, "PATH", "the name an index keeps and dup_index gives (default id; else FILE:LINE)"),
		OPT_SIZE(0, "memory", &o->memory, "BYTES", "memory for shingle sets and band hashes before they spill to $TMPDIR (default 1G)"),
		WN_STREAM_OPTIONS(&o->io),
		OPT_GROUP("Compute"),
		OPT_INT(0, "threads", &o->io.threads, "N", "threads to use (default: all cores)"));
}

static void minhash_init(void *p) { wn_dedup_minhash_init(p); }
static int minhash_check(void *p, int *npos, const char **pos, char *err, size_t n) { return wn_dedup_minhash_check(p, err, n); }
static int minhash_run(void *p, wn_stream *s, wn_step_report *r, char *err, size_t n) { return wn_dedup_minhash_run(p, s, r, err, n); }

const wn_step wn_step_dedup_minhash = {"dedup minhash", minhash_usage, sizeof(wn_dedup_minhash_opts),
				       WN_STEP_WHOLE, minhash_init, minhash_options, minhash_check,
				       minhash_run, NULL};

static const char *const semantic_usage[] = {
	"winnow dedup semantic --eps E[,E2..] [--keep hard|easy|random] [options] [file...]",
	"",
	"Drop semantic duplicates within each k-means cluster (SemDeDup, Abbas et al. 2023).",
	"Needs winnow.cluster (run `winnow cluster kmeans --spherical -k K` first) and a vector",
	"(winnow.emb, --field-emb or --npy). Members of a cluster are ordered by cosine distance",
	"1 - cos(x, c) to its centroid c (the normalised mean of its normalised members, or",
	"--centroids FILE.npy, row = cluster id: cluster kmeans --centroids-out, as the official",
	"code uses), farthest first, ties in input order (--keep hard, the default; easy: that",
	"order reversed; random: by a Philox draw per record from --seed). Member",
	"j is removed iff cos(x_i, x_j) > 1 - E for SOME earlier member i, removed or not (the",
	"official code's max over the upper triangle, not a survivor-greedy pass).",
	"One E: the kept records, byte-identical (--mark-only: all, winnow.semdedup_keep true|false).",
	"Several: all records, winnow.semdedup_keep = {\"0.05\": true, \"0.07\": false, ...} (keys: %g).",
	"Similarities: the core's float32 GEMM (cuBLAS under --device cuda) on tiles of at most",
	"--max-cluster x --max-cluster (default 4096); pairs within 2*dim*2^-24 of 1 - E are",
	"recomputed in double, so the keep sets are the same on CPU, CUDA and at any --threads.",
	"Differences from the official code: for E >= 1 it also removes each cluster's first member",
	"(its zero-filled lower triangle counts as similarity 0); here the first is always kept.",
	"Vectors are L2-normalised here (it assumes unit embeddings); random uses Philox, not",
	"Python's random.shuffle.",
	"A record without a vector or cluster is rejected (--on-error).",
	"",
	"winnow cluster kmeans --spherical -k 1000 emb.jsonl | winnow dedup semantic --eps 0.07 > kept.jsonl",
	"winnow dedup semantic --eps 0.05,0.07,0.1 clustered.jsonl > marked.jsonl",
	"winnow dedup semantic --eps 0.07 --npy emb.npy --centroids km.npy --device cuda clustered.jsonl",
	NULL,
};

static void semantic_options(void *p, struct wn_option *t)
{
	wn_semdedup_step_opts *o = p;
	WN_STEP_TABLE(t,
		OPT_GROUP("SemDeDup"),
		OPT_STRING(0, "eps", &o->eps_list, "E[,E2..]", "cosine distance under which a later member is a duplicate (required)"),
		OPT_STRING(0, "keep", &o->keep, "K", "hard (default: farthest from the centroid first), easy or random"),
		OPT_INT64(0, "seed", &o->seed, "S", "seed of --keep random (default 0)"),
		OPT_BOOL(0, "mark-only", &o->mark_only, "one --eps: keep every record, with winnow.semdedup_keep"),
		OPT_STRING(0, "cluster-field", &o->cluster_field, "PATH", "the cluster id (default winnow.cluster)"),
		OPT_STRING(0, "centroids", &o->centroids, "FILE", "centroids as .npy (k x dim; default: the members' means)"),
		OPT_INT64(0, "max-cluster", &o->max_cluster, "N", "similarity tile side (default 4096)"),
		WN_VECTOR_OPTIONS(&o->field_emb, &o->npy),
		WN_STREAM_OPTIONS(&o->io),
		WN_COMPUTE_OPTIONS(&o->io));
}

static void semantic_init(void *p) { wn_semdedup_step_init(p); }
static int semantic_check(void *p, int *npos, const char **pos, char *err, size_t n) { return wn_semdedup_step_check(p, err, n); }
static int semantic_run(void *p, wn_stream *s, wn_step_report *r, char *err, size_t n) { return wn_semdedup_step_run(p, s, r, err, n); }

const wn_step wn_step_dedup_semantic = {"dedup semantic", semantic_usage, sizeof(wn_semdedup_step_opts),
					WN_STEP_WHOLE, semantic_init, semantic_options, semantic_check,
					semantic_run, NULL};
