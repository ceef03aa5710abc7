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
 * Owns: one run's spool, index and stream positions. Borrows: io/stream,
 * io/spool, io/batch (a block of texts), cluster/minhash.h.
 */
#include "selectors/dedup.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/minhash.h"
#include "io/batch.h"
#include "io/errf.h"
#include "io/spool.h"

#define BLOCK_RECORDS 8192

void wn_dedup_minhash_init(wn_dedup_minhash_opts *o)
{
	*o = (wn_dedup_minhash_opts){WN_STREAM_OPTS_INIT, 5, 0.8, 128, 0, 0, 0, 0, 0, NULL};
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
	return 0;
}

typedef struct mh_run {
	const wn_dedup_minhash_opts *o;
	wn_stream *s;
	wn_spool *sp;
	wn_minhash *m;
	wn_batch block;
	uint64_t *pos;      /* each text's 0-based position among the records this step read */
	size_t n, cap;
	uint64_t read;      /* records read so far (taken or rejected) */
	wn_buf scratch;
} mh_run;

static int flush_block(mh_run *x, char *err, size_t errlen)
{
	if (!x->block.n)
		return 0;
	const char *const *t = wn_batch_texts(&x->block);
	int rc = wn_minhash_add(x->m, t, x->block.text_len, x->block.n, err, errlen);
	wn_batch_clear(&x->block);
	return rc;
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
	if (x->n == x->cap) {
		size_t nc = x->cap ? x->cap * 2 : 4096;
		uint64_t *q = realloc(x->pos, nc * sizeof *q);
		if (!q)
			return wn_errf(err, errlen, "out of memory"), -1;
		x->pos = q;
		x->cap = nc;
	}
	if (wn_spool_put(x->sp, rec, err, errlen))
		return -1;
	if (wn_batch_add(&x->block, rec, text, WN_BATCH_KEEP_TEXT, NULL))
		return wn_errf(err, errlen, "out of memory"), -1;
	x->pos[x->n++] = x->read - 1;
	return x->block.n >= BLOCK_RECORDS ? flush_block(x, err, errlen) : 0;
}

static int write_pairs(const mh_run *x, char *err, size_t errlen)
{
	FILE *f = fopen(x->o->pairs, "w");
	if (!f)
		return wn_errf(err, errlen, "%s: cannot write: %s", x->o->pairs, strerror(errno)), -1;
	size_t np;
	const wn_minhash_pair *p = wn_minhash_pairs(x->m, &np);
	for (size_t i = 0; i < np; i++)
		fprintf(f, "%llu\t%llu\t%.17g\t%d\n", (unsigned long long)x->pos[p[i].a],
			(unsigned long long)x->pos[p[i].b], p[i].jaccard, p[i].verified);
	if (fclose(f))
		return wn_errf(err, errlen, "%s: %s", x->o->pairs, strerror(errno)), -1;
	return 0;
}

static void report(const mh_run *x, int bands, int rows, int chosen)
{
	size_t np, nv = 0, groups = 0, dups = 0;
	const wn_minhash_pair *p = wn_minhash_pairs(x->m, &np);
	for (size_t i = 0; i < np; i++)
		nv += p[i].verified;
	for (size_t i = 0; i < x->n; i++) {
		size_t r = wn_minhash_root(x->m, i), g = wn_minhash_group_size(x->m, i);
		groups += r == i && g > 1;
		dups += r != i;
	}
	fprintf(stderr, "winnow dedup minhash: %d bands x %d rows%s, %d-word shingles, threshold %g\n",
		bands, rows, chosen ? " (optimal for the threshold, datasketch's rule)" : "",
		x->o->ngram, x->o->threshold);
	if (x->o->no_verify)
		fprintf(stderr, "winnow dedup minhash: %zu candidate pairs, NOT verified (--no-verify: "
			"an estimate)\n", np);
	else
		fprintf(stderr, "winnow dedup minhash: %zu candidate pairs, %zu verified (Jaccard >= %g): "
			"precision of candidates %.4f\n", np, nv, x->o->threshold,
			np ? (double)nv / (double)np : 1.0);
	fprintf(stderr, "winnow dedup minhash: %zu groups, %zu duplicates %s\n", groups, dups,
		x->o->mark_only ? "marked" : "dropped");
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
		size_t r = wn_minhash_root(x->m, i);
		if (wn_minhash_group_size(x->m, i) < 2) {
			if (wn_stream_emit(s, &rec, NULL))
				return -1;
			continue;
		}
		if (r != i && !x->o->mark_only)
			continue;
		wn_annot_clear(&s->annot);
		if (wn_annot_set_int(&s->annot, "dup_group", (int64_t)x->pos[r]) ||
		    wn_annot_set_double(&s->annot, "dup_jaccard", wn_minhash_jaccard(x->m, i, r)))
			return wn_errf(err, errlen, "out of memory"), -1;
		if (wn_stream_emit(s, &rec, &s->annot))
			return -1;
	}
	return 0;
}

static int group_and_emit(mh_run *x, int bands, int rows, int chosen, char *err, size_t errlen)
{
	if (flush_block(x, err, errlen) || wn_minhash_group(x->m, err, errlen))
		return -1;
	if (!x->s->co->quiet)
		report(x, bands, rows, chosen);
	if (x->o->pairs && write_pairs(x, err, errlen))
		return -1;
	return emit_all(x, err, errlen);
}

int wn_dedup_minhash_run(const wn_dedup_minhash_opts *o, wn_stream *s, wn_step_report *rep,
			 char *err, size_t errlen)
{
	(void)rep;
	int bands = o->bands, rows = o->rows, chosen = !bands;
	if (chosen)
		wn_minhash_optimal_param(o->threshold, o->perms, &bands, &rows);
	wn_minhash_opts mo = {o->ngram, o->perms, bands, rows, (uint64_t)o->seed, o->threshold,
			      !o->no_verify, o->io.threads};
	mh_run x = {o, s, NULL, wn_minhash_new(&mo), WN_BATCH_INIT, NULL, 0, 0, 0, WN_BUF_INIT};
	int rc = -1;
	if (!x.m) {
		wn_errf(err, errlen, "out of memory");
		goto done;
	}
	if (!(x.sp = wn_spool_new(0, err, errlen)))
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
	free(x.pos);
	return rc || s->failed ? -1 : 0;
}
