/*
 * cmd/score.c — `winnow score <method>`: target-aligned scores annotated on
 * every record (issue 11).
 *
 *   winnow score zipfit --target FILE   -> winnow.zipfit (selectors/zipfit.h)
 *   winnow score dsir   --target FILE   -> winnow.dsir   (selectors/dsir.h)
 *
 * Owns: options, reading the target (and raw) files, cutting records into
 * blocks for the threaded scorers, and DSIR's two passes when the stream is
 * its own raw pool: a regular input file is read twice (the first pass skips
 * bad lines silently; the second reports them under --on-error), anything
 * else (stdin, a pipe) is spooled to a temporary file while the first pass
 * counts, so memory stays flat either way.
 * Borrows: cmd/common (streams, policy, counts line), io/, the selectors.
 *
 * Why a reader thread: reading, validating and unescaping records is serial
 * work; scoring a block is parallel. A producer thread fills the next block
 * while the scorers work on the current one (three blocks in a ring), so
 * the serial part hides behind the parallel one instead of adding to it.
 * The producer alone talks to the reader and the --on-error policy; the
 * consumer (this thread) alone scores and writes.
 */
#include "cmd/common.h"
#include "selectors/dsir.h"
#include "selectors/zipfit.h"
#include "text/tokenize.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BLOCK_RECORDS 32768
#define BLOCK_BYTES (4u << 20)

static const char *const score_usage[] = {
	"winnow score zipfit --target FILE [options] [file...]",
	"winnow score dsir --target FILE [--raw FILE] [options] [file...]",
	"",
	"Score each record against a target set and annotate the score in its",
	"\"winnow\" member: zipfit (ZIP-FIT gzip alignment) or dsir (DSIR hashed",
	"n-gram importance weights). 'winnow score <method> --help' for options.",
	"",
	"winnow score zipfit --target evals.jsonl pool.jsonl.zst | winnow select --top 10000 --by winnow.zipfit",
	"winnow score dsir --target domain.jsonl pool.jsonl | winnow select --sample 100000 --weights winnow.dsir --log-weights",
	NULL,
};

static const char *const zipfit_usage[] = {
	"winnow score zipfit --target FILE [options] [file...]",
	"",
	"ZIP-FIT: winnow.zipfit = mean over the target records of 1 - NCD(text, target),",
	"NCD(a, b) = (C(ab) - min(C(a), C(b))) / max(C(a), C(b)), C = gzip size at --level",
	"(the reference's formula, number for number); zstd and lz4 on request.",
	"",
	"winnow score zipfit --target evals.jsonl pool.jsonl.zst > scored.jsonl",
	"winnow score zipfit --target evals.jsonl --compressor zstd --level 3 pool.jsonl",
	NULL,
};

static const char *const dsir_usage[] = {
	"winnow score dsir --target FILE [--raw FILE] [options] [file...]",
	"",
	"DSIR: winnow.dsir = sum over the record's word unigrams and bigrams of",
	"log(p_target + 1e-8) - log(p_raw + 1e-8) in hashed buckets (the DSIR package's",
	"definition). p_raw is fitted on --raw FILE, or on the stream itself (read twice).",
	"",
	"winnow score dsir --target domain.jsonl pool.jsonl > scored.jsonl",
	"zstdcat pool.jsonl.zst | winnow score dsir --target domain.jsonl --raw sample.jsonl",
	NULL,
};

/* ---------- blocks of records ---------- */

struct block {
	wn_buf json, text;
	size_t n, cap;
	size_t *json_off, *json_len, *text_off, *text_len;
	const char **file;
	uint64_t *line, *index;
	const char **tptr; /* filled by block_seal */
};

static void block_free(struct block *b)
{
	wn_buf_free(&b->json);
	wn_buf_free(&b->text);
	free(b->json_off);
	free(b->json_len);
	free(b->text_off);
	free(b->text_len);
	free(b->file);
	free(b->line);
	free(b->index);
	free(b->tptr);
	memset(b, 0, sizeof *b);
}

static void block_clear(struct block *b)
{
	wn_buf_reset(&b->json);
	wn_buf_reset(&b->text);
	b->n = 0;
}

static int block_full(const struct block *b)
{
	return b->n >= BLOCK_RECORDS || b->text.len + b->json.len >= BLOCK_BYTES;
}

/* Resize the array *pp to n elements; on failure it is left as it was. */
static int grow_to(void *pp, size_t n, size_t elem)
{
	void *old, *q;
	memcpy(&old, pp, sizeof old);
	if (!(q = realloc(old, n * elem)))
		return -1;
	memcpy(pp, &q, sizeof q);
	return 0;
}
#define GROW(p, cap) (grow_to(&(p), (cap), sizeof *(p)) == 0)

/* keep_text 0: only the text's length is kept (a scorer that reads saved
 * features needs no more). */
static int block_add(struct block *b, const wn_record *rec, wn_span text, int keep_json,
		     int keep_text)
{
	if (b->n == b->cap) {
		size_t c = b->cap ? 2 * b->cap : 256;
		if (!GROW(b->json_off, c) || !GROW(b->json_len, c) || !GROW(b->text_off, c) ||
		    !GROW(b->text_len, c) || !GROW(b->file, c) || !GROW(b->line, c) ||
		    !GROW(b->index, c) || !GROW(b->tptr, c))
			return -1;
		b->cap = c;
	}
	size_t i = b->n;
	b->json_off[i] = b->json.len;
	b->json_len[i] = keep_json ? rec->json.n : 0;
	if (keep_json && wn_buf_append(&b->json, rec->json.p, rec->json.n))
		return -1;
	b->text_off[i] = b->text.len;
	b->text_len[i] = text.n;
	if (keep_text && wn_buf_append(&b->text, text.p, text.n))
		return -1;
	b->file[i] = rec->file;
	b->line[i] = rec->line;
	b->index[i] = rec->index;
	b->n++;
	return 0;
}

/* Text pointers, valid while the block is not added to. */
static const char *const *block_seal(struct block *b)
{
	for (size_t i = 0; i < b->n; i++)
		b->tptr[i] = b->text.data + b->text_off[i];
	return b->tptr;
}

static wn_record block_record(const struct block *b, size_t i)
{
	wn_record r;
	r.json.p = b->json.data + b->json_off[i];
	r.json.n = b->json_len[i];
	r.file = b->file[i];
	r.line = b->line[i];
	r.index = b->index[i];
	return r;
}

/* ---------- the producer: records -> blocks ---------- */

/* Where records come from and what happens to the ones a scorer cannot use. */
struct source {
	const char *cmd;
	wn_stream *s;    /* the command's stream (its policy, its counts), or */
	wn_reader *r;    /* a side reader whose policy is pol */
	wn_policy *pol;
	const char *field;
	int check;       /* records will be annotated: "winnow" must be an object */
	int keep_json;   /* keep the record bytes in the block (to write them) */
	int len_only;    /* keep only the text's length, not its bytes */
	int quiet;       /* drop unusable records silently (a first pass) */
	FILE *spool;     /* copy every accepted record here */
};

/* The text of `field`, or a reason why the record has none. */
static const char *record_text(const struct source *src, const wn_record *rec,
			       wn_buf *scratch, wn_span *text)
{
	wn_span v;
	if (!wn_json_get(rec->json, src->field, &v))
		return "missing text field";
	if (wn_json_string(v, scratch, text))
		return "text field is not a string";
	if (text->n >= ((size_t)1 << 30))
		return "text too large (1 GiB or more)";
	if (src->check && wn_json_get(rec->json, "winnow", &v) &&
	    wn_json_type_of(v) != WN_JSON_OBJECT)
		return "\"winnow\" is not an object";
	return NULL;
}

#define NBLOCKS 3

struct pipe {
	struct source *src;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct block blk[NBLOCKS];
	uint64_t head, tail; /* blocks produced, blocks consumed */
	int done, failed, stop;
	uint64_t n_records;  /* records put in blocks */
};

/* The next block to fill, or NULL when the consumer has stopped. */
static struct block *pipe_free_block(struct pipe *p)
{
	pthread_mutex_lock(&p->mu);
	while (p->head - p->tail == NBLOCKS && !p->stop)
		pthread_cond_wait(&p->cv, &p->mu);
	struct block *b = p->stop ? NULL : &p->blk[p->head % NBLOCKS];
	pthread_mutex_unlock(&p->mu);
	if (b)
		block_clear(b);
	return b;
}

static void pipe_publish(struct pipe *p)
{
	pthread_mutex_lock(&p->mu);
	p->head++;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

/* Take one record: 0 to go on, 1 to stop (already reported). */
static int take(struct pipe *p, struct block *b, const wn_record *rec, wn_buf *scratch)
{
	struct source *src = p->src;
	wn_span text;
	const char *why = record_text(src, rec, scratch, &text);
	if (why) {
		if (src->quiet)
			return 0;
		if (src->s)
			return wn_stream_reject(src->s, rec, "%s", why) ? 1 : 0;
		return wn_policy_reject_record(src->pol, rec, "%s '%s'", why, src->field) ? 1 : 0;
	}
	if (src->spool && (fwrite(rec->json.p, 1, rec->json.n, src->spool) != rec->json.n ||
			   fputc('\n', src->spool) == EOF)) {
		wn_cmd_error(src->cmd, "cannot write the spool file (disk full?)");
		return 1;
	}
	if (block_add(b, rec, text, src->keep_json, !src->len_only)) {
		wn_cmd_error(src->cmd, "out of memory");
		return 1;
	}
	p->n_records++;
	return 0;
}

static void *produce(void *arg)
{
	struct pipe *p = arg;
	struct source *src = p->src;
	wn_buf scratch = WN_BUF_INIT;
	struct block *b = NULL;
	wn_record rec;
	int failed = 0, got;
	for (;;) {
		if (!b && !(b = pipe_free_block(p)))
			break;
		got = src->s ? wn_stream_next(src->s, &rec) : wn_reader_next(src->r, &rec);
		if (got <= 0) {
			failed = got < 0;
			break;
		}
		if (take(p, b, &rec, &scratch)) {
			failed = 1;
			break;
		}
		if (block_full(b)) {
			pipe_publish(p);
			b = NULL;
		}
	}
	if (b && b->n && !failed)
		pipe_publish(p);
	wn_buf_free(&scratch);
	pthread_mutex_lock(&p->mu);
	p->done = 1;
	p->failed = failed;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

typedef int (*consume_fn)(void *ctx, struct block *b);

/*
 * Run src through fn block by block, the reading on a thread of its own.
 * Returns 0 when every record went through, 1 otherwise (reported).
 */
static int run_pipe(struct source *src, consume_fn fn, void *ctx, uint64_t *n_records)
{
	struct pipe p;
	memset(&p, 0, sizeof p);
	p.src = src;
	pthread_mutex_init(&p.mu, NULL);
	pthread_cond_init(&p.cv, NULL);
	pthread_t th;
	if (pthread_create(&th, NULL, produce, &p)) {
		wn_cmd_error(src->cmd, "cannot start the reader thread");
		return 1;
	}
	int rc = 0;
	for (;;) {
		pthread_mutex_lock(&p.mu);
		while (p.tail == p.head && !p.done)
			pthread_cond_wait(&p.cv, &p.mu);
		/* nothing left, or the reader failed: what is left is not wanted */
		int empty = p.tail == p.head || p.failed;
		pthread_mutex_unlock(&p.mu);
		if (empty)
			break;
		if (fn(ctx, &p.blk[p.tail % NBLOCKS]))
			rc = 1;
		pthread_mutex_lock(&p.mu);
		p.tail++;
		if (rc)
			p.stop = 1;
		pthread_cond_broadcast(&p.cv);
		pthread_mutex_unlock(&p.mu);
		if (rc)
			break;
	}
	pthread_join(th, NULL);
	if (p.failed)
		rc = 1;
	for (int i = 0; i < NBLOCKS; i++)
		block_free(&p.blk[i]);
	pthread_mutex_destroy(&p.mu);
	pthread_cond_destroy(&p.cv);
	if (n_records)
		*n_records = p.n_records;
	return rc;
}

/* A side file (targets, --raw): its own reader under the stream's policy. */
static int read_side_file(const char *cmd, const char *path, const char *field,
			  const struct wn_common *co, wn_policy *pol, consume_fn fn,
			  void *ctx, uint64_t *n_records)
{
	wn_reader_opts ro = {WN_FORMAT_AUTO, co->max_record, pol};
	const char *paths[1] = {path};
	wn_reader *r = wn_reader_open(paths, 1, &ro);
	if (!r) {
		wn_cmd_error(cmd, "out of memory");
		return 1;
	}
	struct source src = {cmd, NULL, r, pol, field, 0, 0, 0, 0, NULL};
	int rc = run_pipe(&src, fn, ctx, n_records);
	wn_reader_close(r);
	return rc;
}

/* ---------- scoring and writing a block ---------- */

typedef int (*score_fn)(void *ctx, struct block *b, double *scores, int *status);

struct annotate {
	wn_stream *s;
	const char *key; /* "zipfit" or "dsir" */
	score_fn score;
	void *ctx;
	double *scores;
	int *status;
	size_t cap;
	int len_only; /* the scorer reads saved features, not the text */
};

/* Score a block and write its records with winnow.<key>. */
static int annotate_block(void *arg, struct block *b)
{
	struct annotate *an = arg;
	wn_stream *s = an->s;
	if (b->n > an->cap) {
		if (!GROW(an->scores, b->n) || !GROW(an->status, b->n)) {
			wn_cmd_error(s->cmd, "out of memory");
			return 1;
		}
		an->cap = b->n;
	}
	if (an->score(an->ctx, b, an->scores, an->status))
		return 1;
	for (size_t i = 0; i < b->n; i++) {
		wn_record rec = block_record(b, i);
		if (an->status[i]) { /* only memory can fail here: texts were checked */
			wn_cmd_error(s->cmd, "%s:%llu: %s", rec.file, (unsigned long long)rec.line,
				     wn_tok_strerror(an->status[i]));
			return 1;
		}
		wn_annot_clear(&s->annot);
		if (wn_annot_set_double(&s->annot, an->key, an->scores[i]) ||
		    wn_stream_emit(s, &rec, &s->annot))
			return 1;
	}
	return 0;
}

/* Annotate every record of the stream (r NULL) or of reader r. Returns 1
 * when everything went through. */
static int annotate_stream(wn_stream *s, wn_reader *r, wn_policy *pol, struct annotate *an)
{
	int len_only = an->len_only;
	struct source src = {s->cmd, r ? NULL : s, r, pol, s->co->field, 1, 1, len_only, 0, NULL};
	an->s = s;
	int rc = run_pipe(&src, annotate_block, an, NULL);
	free(an->scores);
	free(an->status);
	an->scores = NULL;
	an->status = NULL;
	return rc == 0 && !s->failed;
}

/* ---------- zipfit ---------- */

struct texts {
	wn_buf arena;
	size_t *off, *len;
	size_t n, cap;
};

static int collect_texts(void *ctx, struct block *b)
{
	struct texts *t = ctx;
	for (size_t i = 0; i < b->n; i++) {
		if (t->n == t->cap) {
			size_t c = t->cap ? 2 * t->cap : 64;
			if (!GROW(t->off, c) || !GROW(t->len, c))
				goto oom;
			t->cap = c;
		}
		t->off[t->n] = t->arena.len;
		t->len[t->n] = b->text_len[i];
		if (wn_buf_append(&t->arena, b->text.data + b->text_off[i], b->text_len[i]))
			goto oom;
		t->n++;
	}
	return 0;
oom:
	wn_cmd_error("score zipfit", "out of memory holding the targets");
	return 1;
}

static int zipfit_block(void *ctx, struct block *b, double *scores, int *status)
{
	char err[256];
	memset(status, 0, b->n * sizeof *status);
	if (wn_zipfit_score(ctx, block_seal(b), b->text_len, b->n, scores, NULL, err,
			    sizeof err)) {
		wn_cmd_error("score zipfit", "%s", err);
		return -1;
	}
	return 0;
}

static int score_zipfit(int argc, const char **argv)
{
	struct wn_common co = WN_COMMON_INIT;
	const char *target = NULL, *target_field = NULL, *compressor = "gzip";
	int level = WN_ZIPFIT_LEVEL_DEFAULT;
	struct wn_option opts[] = {
		OPT_GROUP("ZIP-FIT"),
		OPT_STRING(0, "target", &target, "FILE", "target records (JSONL, .gz, .zst): what to align with"),
		OPT_STRING(0, "target-field", &target_field, "NAME", "text field of the targets (default: --field)"),
		OPT_STRING(0, "compressor", &compressor, "NAME", "gzip (default, the reference), zstd or lz4"),
		OPT_INT(0, "level", &level, "N", "compression level (gzip 1..9, default 9; zstd default 3; lz4 default 0)"),
		WN_COMMON_STREAM_OPTIONS(&co),
		OPT_GROUP("Compute"),
		OPT_INT(0, "threads", &co.threads, "N", "threads to use (default: all cores)"),
		OPT_END(),
	};
	argc = wn_parse_options(argc, argv, opts, zipfit_usage);
	const char *cmd = "score zipfit";
	if (!target)
		wn_usage_error(zipfit_usage, cmd, "--target FILE is required");
	int comp = wn_zipfit_parse_compressor(compressor);
	if (comp < 0)
		wn_usage_error(zipfit_usage, cmd, "unknown compressor '%s' (gzip, zstd or lz4)", compressor);
	if (!target_field)
		target_field = co.field;

	wn_stream s;
	if (wn_stream_open(&s, cmd, &co, argc, argv))
		return 1;
	struct texts t = {0};
	uint64_t nt = 0;
	wn_zipfit *z = NULL;
	int ok = read_side_file(cmd, target, target_field, &co, &s.policy, collect_texts,
				&t, &nt) == 0;
	if (ok && t.n == 0) {
		wn_cmd_error(cmd, "%s: no target texts", target);
		ok = 0;
	}
	if (ok) {
		const char **tp = malloc(t.n * sizeof *tp);
		char err[256];
		for (size_t i = 0; tp && i < t.n; i++)
			tp[i] = t.arena.data + t.off[i];
		wn_zipfit_opts zo = {comp, level, co.threads};
		z = tp ? wn_zipfit_new(&zo, tp, t.len, t.n, err, sizeof err) : NULL;
		if (!z) {
			if (!tp)
				snprintf(err, sizeof err, "out of memory");
			/* a bad level is a usage error, found once the compressor is known */
			if (!strncmp(err, "level ", 6))
				wn_usage_error(zipfit_usage, cmd, "%s", err);
			wn_cmd_error(cmd, "%s", err);
			ok = 0;
		}
		free(tp);
	}
	wn_buf_free(&t.arena);
	free(t.off);
	free(t.len);
	if (ok) {
		struct annotate an = {&s, "zipfit", zipfit_block, z, NULL, NULL, 0, 0};
		ok = annotate_stream(&s, NULL, NULL, &an);
	}
	wn_zipfit_free(z);
	return wn_stream_finish(&s, ok);
}

/* ---------- dsir ---------- */

struct dsir_count {
	wn_dsir *d;
	int set;
};

static int dsir_count_block(void *ctx, struct block *b)
{
	struct dsir_count *c = ctx;
	/* texts were checked by the producer: only memory can fail */
	if (wn_dsir_count(c->d, c->set, block_seal(b), b->text_len, b->n, NULL)) {
		wn_cmd_error("score dsir", "out of memory");
		return 1;
	}
	return 0;
}

static int dsir_block(void *ctx, struct block *b, double *scores, int *status)
{
	int rc = wn_dsir_score(ctx, block_seal(b), b->text_len, b->n, scores, status);
	if (rc == WN_TOK_ENOMEM || rc == -1) {
		wn_cmd_error("score dsir", rc == -1 ? "not fitted" : "out of memory");
		return -1;
	}
	return 0;
}

/*
 * When the stream is its own raw pool, the first pass hashes every feature
 * to count it; the second would hash them all again. Instead the first pass
 * saves each record's bucket ids in a temporary file (2 bytes an id up to
 * 65,536 buckets, else 4; about 0.7 times the text's size at the default
 * 10,000) and the second reads them back: per record, the text's length
 * (so a file that changed between the passes is caught), the id count, the
 * ids.
 */
struct id_spool {
	wn_dsir *d;
	FILE *f;
	int wide; /* 4-byte ids */
	wn_dsir_ids ids;
	uint32_t *buf;
	size_t buf_cap;
	uint16_t *narrow; /* 2-byte ids on their way to or from the file */
	size_t narrow_cap;
	const char *cmd;
};

static int grow_u16(struct id_spool *sp, size_t n)
{
	if (n <= sp->narrow_cap)
		return 0;
	uint16_t *q = realloc(sp->narrow, n * sizeof *q);
	if (!q) {
		wn_cmd_error(sp->cmd, "out of memory");
		return -1;
	}
	sp->narrow = q;
	sp->narrow_cap = n;
	return 0;
}

static int ids_count_block(void *ctx, struct block *b)
{
	struct id_spool *sp = ctx;
	if (wn_dsir_features(sp->d, block_seal(b), b->text_len, b->n, &sp->ids, NULL)) {
		wn_cmd_error(sp->cmd, "out of memory");
		return 1;
	}
	wn_dsir_count_ids(sp->d, WN_DSIR_RAW, sp->ids.ids, sp->ids.off[b->n]);
	for (size_t i = 0; i < b->n; i++) {
		uint32_t head[2] = {(uint32_t)b->text_len[i],
				    (uint32_t)(sp->ids.off[i + 1] - sp->ids.off[i])};
		const uint32_t *x = sp->ids.ids + sp->ids.off[i];
		int bad = fwrite(head, sizeof head, 1, sp->f) != 1;
		if (!bad && sp->wide) {
			bad = fwrite(x, 4, head[1], sp->f) != head[1];
		} else if (!bad) {
			if (grow_u16(sp, head[1]))
				return 1;
			for (uint32_t k = 0; k < head[1]; k++)
				sp->narrow[k] = (uint16_t)x[k];
			bad = fwrite(sp->narrow, 2, head[1], sp->f) != head[1];
		}
		if (bad) {
			wn_cmd_error(sp->cmd, "cannot write the temporary id file (disk full?)");
			return 1;
		}
	}
	return 0;
}

static int ids_score_block(void *ctx, struct block *b, double *scores, int *status)
{
	struct id_spool *sp = ctx;
	memset(status, 0, b->n * sizeof *status);
	for (size_t i = 0; i < b->n; i++) {
		uint32_t head[2];
		int bad = fread(head, sizeof head, 1, sp->f) != 1 ||
			  head[0] != (uint32_t)b->text_len[i];
		if (!bad && head[1] > sp->buf_cap) {
			uint32_t *q = realloc(sp->buf, head[1] * sizeof *q);
			if (!q) {
				wn_cmd_error(sp->cmd, "out of memory");
				return -1;
			}
			sp->buf = q;
			sp->buf_cap = head[1];
		}
		if (!bad && sp->wide) {
			bad = fread(sp->buf, 4, head[1], sp->f) != head[1];
		} else if (!bad) {
			if (grow_u16(sp, head[1]))
				return -1;
			bad = fread(sp->narrow, 2, head[1], sp->f) != head[1];
			for (uint32_t k = 0; k < head[1] && !bad; k++)
				sp->buf[k] = sp->narrow[k];
		}
		if (bad) {
			wn_cmd_error(sp->cmd, "%s:%llu: the input changed between the two passes",
				     b->file[i], (unsigned long long)b->line[i]);
			return -1;
		}
		scores[i] = wn_dsir_weight_ids(sp->d, sp->buf, head[1]);
	}
	return 0;
}

static int all_regular_files(int argc, const char **argv)
{
	if (argc == 0)
		return 0;
	for (int i = 0; i < argc; i++) {
		struct stat st;
		if (!strcmp(argv[i], "-") || stat(argv[i], &st) || !S_ISREG(st.st_mode))
			return 0;
	}
	return 1;
}

/* First pass over regular input files: count them as the raw pool, bad
 * lines and unusable records skipped quietly (the scoring pass reports
 * them, once). */
static int dsir_count_inputs(const char *cmd, struct id_spool *sp, const struct wn_common *co,
			     int argc, const char **argv)
{
	wn_policy quiet = {cmd, WN_ON_ERROR_SKIP, NULL, NULL, 0, 1};
	wn_reader_opts ro = {co->csv ? WN_FORMAT_CSV : WN_FORMAT_AUTO, co->max_record, &quiet};
	wn_reader *r = wn_reader_open(argv, argc, &ro);
	if (!r) {
		wn_cmd_error(cmd, "out of memory");
		return 1;
	}
	struct source src = {cmd, NULL, r, &quiet, co->field, 1, 0, 0, 1, NULL};
	int rc = run_pipe(&src, ids_count_block, sp, NULL);
	wn_reader_close(r);
	return rc;
}

/* First pass over a stream that cannot be read twice: count it and spool
 * its usable records (rejections are reported here, once). */
static int dsir_spool_stream(wn_stream *s, struct id_spool *sp, FILE *spool)
{
	struct source src = {s->cmd, s, NULL, NULL, s->co->field, 1, 0, 0, 0, spool};
	int rc = run_pipe(&src, ids_count_block, sp, NULL);
	if (!rc && fflush(spool)) {
		wn_cmd_error(s->cmd, "cannot write the spool file (disk full?)");
		rc = 1;
	}
	return rc;
}

/* Second pass over the spool: score and emit through the stream's writer. */
static int dsir_score_spool(wn_stream *s, const char *path, struct annotate *an)
{
	wn_policy pol = {s->cmd, WN_ON_ERROR_FAIL, NULL, NULL, 0, 0};
	wn_reader_opts ro = {WN_FORMAT_JSONL, s->co->max_record, &pol};
	const char *paths[1] = {path};
	wn_reader *r = wn_reader_open(paths, 1, &ro);
	if (!r) {
		wn_cmd_error(s->cmd, "out of memory");
		return 0;
	}
	int ok = annotate_stream(s, r, &pol, an);
	wn_reader_close(r);
	return ok;
}

/* A temporary file in $TMPDIR (path kept for unlink). */
static FILE *open_temp(const char *cmd, const char *what, char *path, size_t cap)
{
	const char *dir = getenv("TMPDIR");
	snprintf(path, cap, "%s/winnow-dsir-%s.XXXXXX", dir && *dir ? dir : "/tmp", what);
	int fd = mkstemp(path);
	FILE *f = fd >= 0 ? fdopen(fd, "w+") : NULL;
	if (!f) {
		wn_cmd_error(cmd, "cannot create a temporary file in %s", dir && *dir ? dir : "/tmp");
		if (fd >= 0) {
			close(fd);
			unlink(path);
		}
		path[0] = 0;
	}
	return f;
}

static int score_dsir(int argc, const char **argv)
{
	struct wn_common co = WN_COMMON_INIT;
	const char *target = NULL, *raw = NULL, *target_field = NULL, *raw_field = NULL;
	const char *hash = "sha256";
	int64_t buckets = 10000;
	int ngrams = 2;
	struct wn_option opts[] = {
		OPT_GROUP("DSIR"),
		OPT_STRING(0, "target", &target, "FILE", "target records (JSONL, .gz, .zst): the domain to resemble"),
		OPT_STRING(0, "raw", &raw, "FILE", "fit p_raw on FILE (default: on the input stream itself)"),
		OPT_STRING(0, "target-field", &target_field, "NAME", "text field of the targets (default: --field)"),
		OPT_STRING(0, "raw-field", &raw_field, "NAME", "text field of --raw (default: --field)"),
		OPT_INT64(0, "buckets", &buckets, "N", "hash buckets (default 10000)"),
		OPT_STRING(0, "hash", &hash, "NAME", "sha256 (default, the package's) or xxh3 (faster)"),
		OPT_INT(0, "ngrams", &ngrams, "N", "features up to N-grams (default 2: unigrams + bigrams)"),
		WN_COMMON_STREAM_OPTIONS(&co),
		OPT_GROUP("Compute"),
		OPT_INT(0, "threads", &co.threads, "N", "threads to use (default: all cores)"),
		OPT_END(),
	};
	argc = wn_parse_options(argc, argv, opts, dsir_usage);
	const char *cmd = "score dsir";
	if (!target)
		wn_usage_error(dsir_usage, cmd, "--target FILE is required");
	int h = wn_dsir_parse_hash(hash);
	if (h < 0)
		wn_usage_error(dsir_usage, cmd, "unknown hash '%s' (sha256 or xxh3)", hash);
	if (buckets < 1 || buckets > (1 << 28))
		wn_usage_error(dsir_usage, cmd, "--buckets must be 1..268435456");
	if (ngrams < 1 || ngrams > 5)
		wn_usage_error(dsir_usage, cmd, "--ngrams must be 1..5");
	if (!target_field)
		target_field = co.field;
	if (!raw_field)
		raw_field = co.field;

	char err[256];
	wn_dsir_opts dopt = {(uint32_t)buckets, h, ngrams, co.threads};
	wn_dsir *d = wn_dsir_new(&dopt, err, sizeof err);
	if (!d) {
		wn_cmd_error(cmd, "%s", err);
		return 1;
	}
	wn_stream s;
	if (wn_stream_open(&s, cmd, &co, argc, argv)) {
		wn_dsir_free(d);
		return 1;
	}
	uint64_t n;
	struct dsir_count tc = {d, WN_DSIR_TARGET};
	int ok = read_side_file(cmd, target, target_field, &co, &s.policy, dsir_count_block,
				&tc, &n) == 0;
	if (ok && n == 0) {
		wn_cmd_error(cmd, "%s: no target texts", target);
		ok = 0;
	}
	char spool_path[4096] = "", ids_path[4096] = "";
	struct id_spool sp = {d, NULL, buckets > 65536, {0}, NULL, 0, NULL, 0, cmd};
	int spooled = 0;
	if (ok && raw) {
		struct dsir_count rc = {d, WN_DSIR_RAW};
		ok = read_side_file(cmd, raw, raw_field, &co, &s.policy, dsir_count_block, &rc,
				    &n) == 0;
	} else if (ok) {
		/* the stream is the raw pool: two passes, ids saved between them */
		sp.f = open_temp(cmd, "ids", ids_path, sizeof ids_path);
		ok = sp.f != NULL;
		if (ok && all_regular_files(argc, argv)) {
			ok = dsir_count_inputs(cmd, &sp, &co, argc, argv) == 0;
		} else if (ok) {
			FILE *f = open_temp(cmd, "records", spool_path, sizeof spool_path);
			ok = f && dsir_spool_stream(&s, &sp, f) == 0;
			if (f && fclose(f)) {
				wn_cmd_error(cmd, "cannot write the spool file (disk full?)");
				ok = 0;
			}
			spooled = 1;
		}
		if (ok && (fflush(sp.f) || fseek(sp.f, 0, SEEK_SET))) {
			wn_cmd_error(cmd, "cannot write the temporary id file (disk full?)");
			ok = 0;
		}
	}
	if (ok && wn_dsir_fit(d, err, sizeof err)) {
		wn_cmd_error(cmd, "%s%s", err,
			     wn_dsir_total(d, WN_DSIR_RAW) ? "" : " (empty input?)");
		ok = 0;
	}
	if (ok) {
		struct annotate an = {&s, "dsir", sp.f ? ids_score_block : dsir_block,
				      sp.f ? (void *)&sp : (void *)d, NULL, NULL, 0, sp.f != NULL};
		ok = spooled ? dsir_score_spool(&s, spool_path, &an)
			     : annotate_stream(&s, NULL, NULL, &an);
	}
	if (sp.f)
		fclose(sp.f);
	wn_dsir_ids_free(&sp.ids);
	free(sp.buf);
	free(sp.narrow);
	if (ids_path[0])
		unlink(ids_path);
	if (spool_path[0])
		unlink(spool_path);
	wn_dsir_free(d);
	return wn_stream_finish(&s, ok);
}

/* ---------- dispatch ---------- */

int cmd_score(int argc, const char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "zipfit"))
		return score_zipfit(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "dsir"))
		return score_dsir(argc - 1, argv + 1);
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		static const struct wn_option none[] = {OPT_END()};
		wn_usage_help(score_usage, none);
		return 0;
	}
	if (argc < 2)
		wn_usage_error(score_usage, "score", "which method? zipfit or dsir");
	wn_usage_error(score_usage, "score", "unknown method '%s' (zipfit or dsir)", argv[1]);
}
