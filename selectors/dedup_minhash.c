/*
 * selectors/dedup_minhash.c — the `dedup minhash` step (see
 * selectors/dedup.h): every usable record into the io/ spool and its text
 * into cluster/minhash (block by block, signatures in parallel), then the
 * verified groups, a summary on stderr (bands x rows, candidates, verified,
 * the precision of the candidates, groups), --pairs for audits, and the
 * records written back from the spool in input order: members of a group
 * of two or more get winnow.dup_group (the representative's 0-based
 * position among the records this step read: the same number in a shell
 * pipeline and in a recipe, where the spool keeps first-step indices) and winnow.dup_jaccard (true Jaccard to the representative);
 * all but the representative are dropped unless --mark-only.
 *
 * Memory: --memory bounds everything that grows with the input (see
 * mh_memory: the records' spool, one block of texts, the index with its
 * sets, band hashes and candidate pairs, cluster/minhash.h); what stays is
 * per text: the index's 16 bytes (positions cost only a gap per run of
 * rejected records), plus 8 more under --keep longest | oldest-by (and the
 * oldest-by values) and under --against. --pairs is written as the pairs are verified.
 *
 * Owns: one run's spool, index and stream positions, the --pairs file.
 * Borrows: io/stream, io/spool, io/batch (a block of texts),
 * cluster/minhash.h.
 */
#include "selectors/dedup.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/minhash.h"
#include "selectors/dedup_index.h"
#include "io/batch.h"
#include "io/errf.h"
#include "io/spool.h"

#define BLOCK_RECORDS 8192
#define SPOOL_MAX ((size_t)64 << 20) /* the records' spool in memory, at most (io/spool's default) */
#define BLOCK_MAX ((size_t)8 << 20)  /* a block's text bytes, at most */

/*
 * --memory M split: the records' spool min(64 MiB, M/8) before it goes to
 * disk, a block of texts min(8 MiB, M/32) (its shingle sets about as much
 * again), the index the rest (cluster/minhash.h splits that).
 */
static void mh_memory(size_t memory, size_t *spool, size_t *block, size_t *index)
{
	*spool = memory / 8 < SPOOL_MAX ? memory / 8 : SPOOL_MAX;
	*block = memory / 32 < BLOCK_MAX ? memory / 32 : BLOCK_MAX;
	*index = memory - *spool - 2 * *block;
}

void wn_dedup_minhash_init(wn_dedup_minhash_opts *o)
{
	*o = (wn_dedup_minhash_opts){WN_STREAM_OPTS_INIT, 5, 0.8, 128, 0, 0, 0, 0, 0, NULL,
				     NULL, NULL, "id", "first", 0, NULL, (size_t)1 << 30};
}

/* The bands x rows a run uses: as given, or datasketch's optimal_param. */
static int mh_bands_rows(const wn_dedup_minhash_opts *o, int *bands, int *rows)
{
	*bands = o->bands;
	*rows = o->rows;
	if (!*bands)
		wn_minhash_optimal_param(o->threshold, o->perms, WN_MINHASH_FP_WEIGHT,
					 WN_MINHASH_FN_WEIGHT, bands, rows);
	return !o->bands;
}

static wn_dedup_index_params mh_index_params(const wn_dedup_minhash_opts *o)
{
	int b, r;
	mh_bands_rows(o, &b, &r);
	return (wn_dedup_index_params){o->ngram, o->perms, b, r, (uint64_t)o->seed, o->threshold};
}

int wn_dedup_minhash_check(wn_dedup_minhash_opts *o, char *err, size_t errlen)
{
	if (o->ngram < 1)
		return wn_errf(err, errlen, "--ngram must be at least 1"), -1;
	if (!(o->threshold > 0 && o->threshold <= 1))
		return wn_errf(err, errlen, "--threshold must be in (0, 1]"), -1;
	if (o->perms < 1 || o->perms > 4096)
		return wn_errf(err, errlen, "--perms must be in 1..4096"), -1;
	if (o->seed < 0)
		return wn_errf(err, errlen, "--seed must not be negative"), -1;
	if ((o->bands > 0) != (o->rows > 0) || o->bands < 0 || o->rows < 0)
		return wn_errf(err, errlen, "give both --bands B and --rows R (positive), or neither"), -1;
	if (o->bands && (int64_t)o->bands * o->rows != o->perms)
		return wn_errf(err, errlen, "--bands x --rows must equal --perms (%d x %d = %lld, --perms %d)",
			       o->bands, o->rows, (long long)o->bands * o->rows, o->perms), -1;
	if ((o->save_index && !*o->save_index) || (o->against && !*o->against))
		return wn_errf(err, errlen, "--save-index and --against need a file name"), -1;
	if (o->memory < 65536)
		return wn_errf(err, errlen, "--memory must be at least 64K"), -1;
	if (!o->id || !*o->id)
		return wn_errf(err, errlen, "--id needs a PATH"), -1;
	o->keep_field = NULL;
	if (!strcmp(o->keep, "first"))
		o->keep_id = 0;
	else if (!strcmp(o->keep, "longest"))
		o->keep_id = 1;
	else if (!strncmp(o->keep, "oldest-by", 9) && (o->keep[9] == ':' || o->keep[9] == '=') &&
		 o->keep[10])
		o->keep_id = 2, o->keep_field = o->keep + 10;
	else
		return wn_errf(err, errlen, "unknown --keep '%s' (first, longest or oldest-by:FIELD)",
			       o->keep), -1;
	if (o->against) { /* the index must answer these parameters: a usage error if not */
		wn_dedup_index_params p = mh_index_params(o);
		wn_dedup_index *ix = wn_dedup_index_open(o->against, &p, err, errlen);
		if (!ix)
			return -1;
		wn_dedup_index_close(ix);
	}
	return 0;
}

/* One record's --keep oldest-by value: missing, a number or a string (in keys). */
typedef struct mh_key {
	int type;           /* 0 missing, 1 number, 2 string */
	double num;
	size_t off, len;
} mh_key;

typedef struct mh_run {
	const wn_dedup_minhash_opts *o;
	wn_stream *s;
	wn_spool *sp;
	wn_minhash *m;
	wn_batch block;
	struct mh_gap *gap; /* where texts' positions step past rejected records (pos_of) */
	size_t n, cap;
	uint64_t read;      /* records read so far (taken or rejected) */
	wn_buf scratch;
	/* --against / --save-index */
	wn_dedup_index *ix;
	wn_dedup_index_writer *iw;
	int64_t *gdoc;      /* per group root: the index document it matched, or -1 */
	int64_t *cand;      /* scratch: one text's candidate documents */
	size_t ccap, dcap;
	uint64_t *dset;     /* scratch: one document's shingles */
	wn_buf name;
	uint64_t ix_texts, ix_cand, ix_verified, ix_dropped, saved;
	int bands;          /* band hashes per text */
	/* --keep longest | oldest-by */
	uint64_t *tlen;     /* per text: bytes of its text */
	mh_key *key;        /* per text: its oldest-by value */
	wn_buf keys;        /* the string values */
	size_t *rep;        /* per group root: the member kept (NULL: the root) */
	wn_minhash_view view; /* reading texts back (they may be on disk) */
	FILE *pf;           /* --pairs, while grouping */
	size_t block_bytes; /* a block's text and record bytes before it goes to the index */
	size_t ngap, gapcap;
} mh_run;

/* From text `at` on, `before` records had been rejected (so its position is at + before). */
typedef struct mh_gap {
	uint64_t at, before;
} mh_gap;

/* Note the rejects since the last text, as the text about to be x->n is taken. */
static int note_gap(mh_run *x)
{
	uint64_t before = x->read - 1 - x->n;
	if (before == (x->ngap ? x->gap[x->ngap - 1].before : 0))
		return 0;
	if (x->ngap == x->gapcap) {
		size_t nc = x->gapcap ? 2 * x->gapcap : 64;
		mh_gap *q = realloc(x->gap, nc * sizeof *q);
		if (!q)
			return -1;
		x->gap = q;
		x->gapcap = nc;
	}
	x->gap[x->ngap++] = (mh_gap){x->n, before};
	return 0;
}

/* Text i's 0-based position among the records this step read (rejected ones count). */
static uint64_t pos_of(const mh_run *x, size_t i)
{
	size_t lo = 0, hi = x->ngap; /* the first gap past i */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (x->gap[mid].at <= i)
			lo = mid + 1;
		else
			hi = mid;
	}
	return i + (lo ? x->gap[lo - 1].before : 0);
}

static size_t rep_of(const mh_run *x, size_t i);

static int flush_block(mh_run *x, char *err, size_t errlen)
{
	if (!x->block.n)
		return 0;
	const char *const *t = wn_batch_texts(&x->block);
	int rc = wn_minhash_add(x->m, t, x->block.text_len, x->block.n, err, errlen);
	wn_batch_clear(&x->block);
	return rc;
}

static int grow_texts(mh_run *x)
{
	size_t nc = x->cap ? x->cap * 2 : 4096;
	if (x->o->keep_id == 1) {
		uint64_t *t = realloc(x->tlen, nc * sizeof *t);
		if (!t)
			return -1;
		x->tlen = t;
	}
	if (x->o->keep_id == 2) {
		mh_key *k = realloc(x->key, nc * sizeof *k);
		if (!k)
			return -1;
		x->key = k;
	}
	x->cap = nc;
	return 0;
}

/* What --keep compares for the text about to be x->n: its length or its FIELD. */
static int keep_value(mh_run *x, const wn_record *rec, wn_span text)
{
	if (x->o->keep_id == 1)
		x->tlen[x->n] = text.n;
	if (x->o->keep_id != 2)
		return 0;
	mh_key *k = &x->key[x->n];
	wn_span v, str;
	*k = (mh_key){0, 0, 0, 0};
	if (!wn_json_get(rec->json, x->o->keep_field, &v))
		return 0;
	if (wn_json_type_of(v) == WN_JSON_NUMBER && !wn_json_number(v, &k->num)) {
		k->type = 1;
		return 0;
	}
	if (wn_json_type_of(v) != WN_JSON_STRING)
		return 0;
	wn_buf tmp = WN_BUF_INIT;
	int bad = wn_json_string(v, &tmp, &str);
	k->type = bad ? 0 : 2;
	k->off = x->keys.len;
	k->len = bad ? 0 : str.n;
	bad = !bad && wn_buf_append(&x->keys, str.p, str.n);
	wn_buf_free(&tmp);
	return bad ? -1 : 0;
}

/* One record: 0 go on (taken or rejected), -1 stop. */
static int take(mh_run *x, const wn_record *rec, char *err, size_t errlen)
{
	wn_span text, w;
	const char *why;
	x->read++;
	wn_buf_reset(&x->scratch);
	if (wn_stream_text(x->s, rec, &x->scratch, &text, &why))
		return wn_stream_reject(x->s, rec, "%s '%s'", why, x->s->co->field) ? -1 : 0;
	if (wn_json_get(rec->json, "winnow", &w) && wn_json_type_of(w) != WN_JSON_OBJECT)
		return wn_stream_reject(x->s, rec, "member \"winnow\" is not an object") ? -1 : 0;
	if (x->n == x->cap && grow_texts(x))
		return wn_errf(err, errlen, "out of memory"), -1;
	if (keep_value(x, rec, text))
		return wn_errf(err, errlen, "out of memory"), -1;
	if (wn_spool_put(x->sp, rec, err, errlen))
		return -1;
	if (wn_batch_add(&x->block, rec, text, WN_BATCH_KEEP_TEXT, NULL))
		return wn_errf(err, errlen, "out of memory"), -1;
	if (note_gap(x))
		return wn_errf(err, errlen, "out of memory"), -1;
	x->n++;
	return wn_batch_full(&x->block, BLOCK_RECORDS, x->block_bytes) ? flush_block(x, err, errlen) : 0;
}

/* --pairs: the file opened before grouping, each candidate written as it is verified. */
static int open_pairs(mh_run *x, char *err, size_t errlen)
{
	if (x->o->pairs && !(x->pf = fopen(x->o->pairs, "w")))
		return wn_errf(err, errlen, "%s: cannot write: %s", x->o->pairs, strerror(errno)), -1;
	return 0;
}

static int put_pair(void *ctx, const wn_minhash_pair *p, char *err, size_t errlen)
{
	mh_run *x = ctx;
	if (fprintf(x->pf, "%llu\t%llu\t%.17g\t%d\n", (unsigned long long)pos_of(x, p->a),
		    (unsigned long long)pos_of(x, p->b), p->jaccard, p->verified) < 0)
		return wn_errf(err, errlen, "%s: %s", x->o->pairs, strerror(errno)), -1;
	return 0;
}

static int close_pairs(mh_run *x, char *err, size_t errlen)
{
	FILE *f = x->pf;
	x->pf = NULL;
	if (f && fclose(f))
		return wn_errf(err, errlen, "%s: %s", x->o->pairs, strerror(errno)), -1;
	return 0;
}

static void report(const mh_run *x, int bands, int rows, int chosen)
{
	size_t groups = 0, dups = 0;
	uint64_t np, nv;
	wn_minhash_pair_counts(x->m, &np, &nv);
	for (size_t i = 0; i < x->n; i++) {
		size_t r = wn_minhash_root(x->m, i), g = wn_minhash_group_size(x->m, i);
		groups += r == i && g > 1;
		dups += rep_of(x, i) != i;
	}
	fprintf(stderr, "winnow dedup minhash: %d bands x %d rows%s, %d-word shingles, threshold %g\n",
		bands, rows, chosen ? " (datasketch's optimal_param, weights fp 0.05 / fn 0.95)" : "",
		x->o->ngram, x->o->threshold);
	if (x->o->no_verify)
		fprintf(stderr, "winnow dedup minhash: %llu candidate pairs, NOT verified (--no-verify: "
			"an estimate)\n", (unsigned long long)np);
	else
		fprintf(stderr, "winnow dedup minhash: %llu candidate pairs, %llu verified (Jaccard >= %g): "
			"precision of candidates %.4f\n", (unsigned long long)np, (unsigned long long)nv,
			x->o->threshold,
			np ? (double)nv / (double)np : 1.0);
	fprintf(stderr, "winnow dedup minhash: %zu groups, %zu duplicates %s\n", groups, dups,
		x->o->mark_only ? "marked" : "dropped");
	size_t runs, pruns, passes;
	uint64_t sb;
	int on_disk = wn_minhash_spilled(x->m, &runs, &pruns, &passes, &sb);
	if (on_disk || runs)
		fprintf(stderr, "winnow dedup minhash: past --memory: %s%zu sorted runs of band hashes "
			"on disk\n", on_disk ? "shingle sets and " : "", runs);
	if (pruns)
		fprintf(stderr, "winnow dedup minhash: past --memory: %zu sorted runs of candidate pairs "
			"on disk, merged in %zu pass%s\n", pruns, passes + 1, passes ? "es" : "");
	if (x->ix)
		fprintf(stderr, "winnow dedup minhash: against %s (%lld documents): %llu records match "
			"one (%llu candidates, %llu verified%s); with their groups %llu records %s\n",
			x->o->against, (long long)wn_dedup_index_docs(x->ix),
			(unsigned long long)x->ix_texts, (unsigned long long)x->ix_cand,
			(unsigned long long)x->ix_verified, x->o->no_verify ? ", NOT verified" : "",
			(unsigned long long)x->ix_dropped, x->o->mark_only ? "marked" : "dropped");
	if (x->o->save_index)
		fprintf(stderr, "winnow dedup minhash: index %s: %llu kept records saved%s\n",
			x->o->save_index, (unsigned long long)x->saved,
			x->o->against ? " after the documents of --against" : "");
}

/* 1 when text a ranks before text b (a < b in stream order) under --keep. */
static int keep_before(const mh_run *x, size_t a, size_t b)
{
	if (x->o->keep_id == 1)
		return x->tlen[a] > x->tlen[b];
	const mh_key *p = &x->key[a], *q = &x->key[b];
	if (!p->type || !q->type || p->type != q->type)  /* present first, numbers before strings */
		return p->type && (!q->type || p->type < q->type);
	if (p->type == 1)
		return p->num < q->num;
	size_t n = p->len < q->len ? p->len : q->len;
	int c = memcmp(x->keys.data + p->off, x->keys.data + q->off, n);
	return c < 0 || (c == 0 && p->len < q->len);
}

/* --keep longest | oldest-by: the member each group keeps (ties: the first). */
static int choose_reps(mh_run *x, char *err, size_t errlen)
{
	if (!x->o->keep_id)
		return 0;
	if (!(x->rep = malloc(sizeof *x->rep * (x->n ? x->n : 1))))
		return wn_errf(err, errlen, "out of memory"), -1;
	for (size_t i = 0; i < x->n; i++)
		x->rep[i] = i;
	for (size_t i = 0; i < x->n; i++) {
		size_t r = wn_minhash_root(x->m, i);
		if (keep_before(x, i, x->rep[r]))
			x->rep[r] = i;
	}
	return 0;
}

/* The member text i's group keeps. */
static size_t rep_of(const mh_run *x, size_t i)
{
	size_t r = wn_minhash_root(x->m, i);
	return x->rep ? x->rep[r] : r;
}

/* Text i's band hashes and set, from memory or the spill file. */
static int text_of(mh_run *x, size_t i, const uint64_t **bands, const uint64_t **set, size_t *n,
		   char *err, size_t errlen)
{
	if (wn_minhash_text(x->m, i, &x->view, bands, set, n) == 0)
		return 0;
	return wn_errf(err, errlen, "cannot read text %zu back from the temporary file: %s", i,
		       strerror(errno)), -1;
}

/* The lowest index document that text i verifies against (-1: none). */
static int match_text(mh_run *x, size_t i, int64_t *doc, char *err, size_t errlen)
{
	size_t ns, nd;
	const uint64_t *set, *bands;
	*doc = -1;
	if (text_of(x, i, &bands, &set, &ns, err, errlen))
		return -1;
	if (!ns)
		return 0;
	long nc = wn_dedup_index_candidates(x->ix, bands, x->bands, &x->cand, &x->ccap, err, errlen);
	if (nc < 0)
		return -1;
	for (long c = 0; c < nc; c++) {
		x->ix_cand++;
		if (x->o->no_verify) {
			*doc = x->cand[c];
			return 0;
		}
		if (wn_dedup_index_doc(x->ix, x->cand[c], &x->dset, &x->dcap, &nd, NULL, err, errlen))
			return -1;
		if (wn_minhash_jaccard_sets(set, ns, x->dset, nd) >= x->o->threshold) {
			x->ix_verified++;
			*doc = x->cand[c];
			return 0;
		}
	}
	return 0;
}

/* --against: every group that holds a text matching the index takes the lowest such document. */
static int match_index(mh_run *x, char *err, size_t errlen)
{
	if (!x->ix)
		return 0;
	if (!(x->gdoc = malloc(sizeof *x->gdoc * (x->n ? x->n : 1))))
		return wn_errf(err, errlen, "out of memory"), -1;
	for (size_t i = 0; i < x->n; i++)
		x->gdoc[i] = -1;
	for (size_t i = 0; i < x->n; i++) {
		int64_t d;
		if (match_text(x, i, &d, err, errlen))
			return -1;
		size_t r = wn_minhash_root(x->m, i);
		x->ix_texts += d >= 0;
		if (d >= 0 && (x->gdoc[r] < 0 || d < x->gdoc[r]))
			x->gdoc[r] = d;
	}
	return 0;
}

/* A member of a group that matched index document `doc`: dropped, or annotated. */
static int emit_indexed(mh_run *x, const wn_record *rec, size_t i, int64_t doc, char *err,
			size_t errlen)
{
	wn_stream *s = x->s;
	size_t ns, nd;
	x->ix_dropped++;
	if (!x->o->mark_only)
		return 0;
	const uint64_t *set;
	if (wn_dedup_index_doc(x->ix, doc, &x->dset, &x->dcap, &nd, &x->name, err, errlen) ||
	    text_of(x, i, NULL, &set, &ns, err, errlen))
		return -1;
	wn_annot_clear(&s->annot);
	if (wn_annot_set_raw(&s->annot, "dup_index", x->name.data, x->name.len) ||
	    wn_annot_set_double(&s->annot, "dup_jaccard", wn_minhash_jaccard_sets(set, ns, x->dset, nd)) ||
	    (wn_minhash_group_size(x->m, i) > 1 &&
	     wn_annot_set_int(&s->annot, "dup_group", (int64_t)pos_of(x, rep_of(x, i)))))
		return wn_errf(err, errlen, "out of memory"), -1;
	return wn_stream_emit(s, rec, &s->annot) ? -1 : 0;
}

/* --save-index: a kept record's name (its --id value, else "FILE:LINE"), bands and shingles. */
static int save_kept(mh_run *x, const wn_record *rec, size_t i, char *err, size_t errlen)
{
	size_t ns;
	const uint64_t *set, *bands;
	if (!x->iw || !wn_minhash_set_size(x->m, i))
		return 0;
	if (text_of(x, i, &bands, &set, &ns, err, errlen))
		return -1;
	wn_span v;
	wn_buf_reset(&x->name);
	int bad;
	if (wn_json_get(rec->json, x->o->id, &v) && wn_json_type_of(v) != WN_JSON_OBJECT &&
	    wn_json_type_of(v) != WN_JSON_ARRAY) {
		bad = wn_buf_append(&x->name, v.p, v.n);
	} else {
		char at[64];
		snprintf(at, sizeof at, ":%llu", (unsigned long long)rec->line);
		wn_buf tmp = WN_BUF_INIT;
		bad = wn_buf_puts(&tmp, rec->file ? rec->file : "") || wn_buf_puts(&tmp, at) ||
		      wn_json_put_string(&x->name, tmp.data, tmp.len);
		wn_buf_free(&tmp);
	}
	if (bad)
		return wn_errf(err, errlen, "out of memory"), -1;
	x->saved++;
	return wn_dedup_index_add(x->iw, x->name.data, x->name.len, bands, x->bands, set, ns, err,
				  errlen);
}

static int emit_all(mh_run *x, char *err, size_t errlen)
{
	wn_stream *s = x->s;
	wn_record rec;
	if (wn_spool_rewind(x->sp, err, errlen))
		return -1;
	for (size_t i = 0; i < x->n; i++) {
		if (wn_spool_get(x->sp, &rec, err, errlen) != 1)
			return err[0] ? -1 : (wn_errf(err, errlen, "internal: the spool ended early"), -1);
		size_t root = wn_minhash_root(x->m, i), r = rep_of(x, i);
		if (x->gdoc && x->gdoc[root] >= 0) {
			if (emit_indexed(x, &rec, i, x->gdoc[root], err, errlen))
				return -1;
			continue;
		}
		if (r == i && save_kept(x, &rec, i, err, errlen))
			return -1;
		if (wn_minhash_group_size(x->m, i) < 2) {
			if (wn_stream_emit(s, &rec, NULL))
				return -1;
			continue;
		}
		if (r != i && !x->o->mark_only)
			continue;
		wn_annot_clear(&s->annot);
		double j = wn_minhash_jaccard(x->m, i, r);
		if (isnan(j))
			return wn_errf(err, errlen, "cannot read texts %zu and %zu back from the temporary "
				       "file", i, r), -1;
		if (wn_annot_set_int(&s->annot, "dup_group", (int64_t)pos_of(x, r)) ||
		    wn_annot_set_double(&s->annot, "dup_jaccard", j))
			return wn_errf(err, errlen, "out of memory"), -1;
		if (wn_stream_emit(s, &rec, &s->annot))
			return -1;
	}
	return 0;
}

static int group_and_emit(mh_run *x, int bands, int rows, int chosen, char *err, size_t errlen)
{
	if (flush_block(x, err, errlen) || open_pairs(x, err, errlen) ||
	    wn_minhash_group(x->m, x->pf ? put_pair : NULL, x, err, errlen) ||
	    close_pairs(x, err, errlen) || choose_reps(x, err, errlen) || match_index(x, err, errlen))
		return -1;
	if (x->o->save_index) {
		wn_dedup_index_params p = mh_index_params(x->o);
		if (!(x->iw = wn_dedup_index_create(x->o->save_index, &p, x->o->against, err, errlen)))
			return -1;
	}
	if (emit_all(x, err, errlen))
		return -1;
	if (!x->s->co->quiet)
		report(x, bands, rows, chosen);
	if (!x->iw)
		return 0;
	wn_dedup_index_writer *iw = x->iw;
	x->iw = NULL;
	return wn_dedup_index_commit(iw, err, errlen);
}

int wn_dedup_minhash_run(const wn_dedup_minhash_opts *o, wn_stream *s, wn_step_report *rep,
			 char *err, size_t errlen)
{
	(void)rep;
	int bands, rows, chosen = mh_bands_rows(o, &bands, &rows);
	size_t spool_mem, block_mem, index_mem;
	mh_memory(o->memory, &spool_mem, &block_mem, &index_mem);
	wn_minhash_opts mo = {o->ngram, o->perms, bands, rows, (uint64_t)o->seed, o->threshold,
			      !o->no_verify, o->io.threads, index_mem, 0};
	mh_run x = {o, s, NULL, wn_minhash_new(&mo), WN_BATCH_INIT, NULL, 0, 0, 0, WN_BUF_INIT,
		    NULL, NULL, NULL, NULL, 0, 0, NULL, WN_BUF_INIT, 0, 0, 0, 0, 0, bands, NULL, NULL,
		    WN_BUF_INIT, NULL, {NULL, 0}, NULL, block_mem, 0, 0};
	int rc = -1;
	if (o->against) {
		wn_dedup_index_params p = mh_index_params(o);
		if (!(x.ix = wn_dedup_index_open(o->against, &p, err, errlen)))
			goto done;
	}
	if (!x.m) {
		wn_errf(err, errlen, "out of memory");
		goto done;
	}
	if (!(x.sp = wn_spool_new(spool_mem, err, errlen)))
		goto done;
	wn_record rec;
	int r;
	while ((r = wn_stream_next(s, &rec)) > 0)
		if (take(&x, &rec, err, errlen) || s->failed)
			break;
	if (r == 0 && !s->failed)
		rc = group_and_emit(&x, bands, rows, chosen, err, errlen);
done:
	wn_spool_free(x.sp);
	wn_minhash_free(x.m);
	wn_batch_free(&x.block);
	wn_buf_free(&x.scratch);
	free(x.gap);
	wn_dedup_index_abort(x.iw);
	wn_dedup_index_close(x.ix);
	free(x.gdoc);
	free(x.tlen);
	free(x.key);
	free(x.rep);
	wn_buf_free(&x.keys);
	wn_minhash_view_free(&x.view);
	free(x.cand);
	free(x.dset);
	wn_buf_free(&x.name);
	if (x.pf)
		fclose(x.pf);
	return rc || s->failed ? -1 : 0;
}
