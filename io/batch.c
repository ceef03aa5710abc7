/*
 * io/batch.c — blocks of records and the read-ahead loop (see io/batch.h).
 *
 * Parsing and copying records is a good part of a scorer's time; a reader
 * thread overlaps it with the scoring of the previous block. Three blocks
 * are enough to keep both sides busy; blocks are reused, so memory stays
 * at three blocks whatever the corpus size.
 */
#include "io/batch.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "io/errf.h"

void wn_batch_free(wn_batch *b)
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
	free(b->why);
	free(b->tptr);
	memset(b, 0, sizeof *b);
}

void wn_batch_clear(wn_batch *b)
{
	wn_buf_reset(&b->json);
	wn_buf_reset(&b->text);
	b->n = 0;
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

static int ensure_room(wn_batch *b)
{
	if (b->n < b->cap)
		return 0;
	size_t c = b->cap ? 2 * b->cap : 256;
	if (!GROW(b->json_off, c) || !GROW(b->json_len, c) || !GROW(b->text_off, c) ||
	    !GROW(b->text_len, c) || !GROW(b->file, c) || !GROW(b->line, c) ||
	    !GROW(b->index, c) || !GROW(b->why, c) || !GROW(b->tptr, c))
		return -1;
	b->cap = c;
	return 0;
}

int wn_batch_add(wn_batch *b, const wn_record *rec, wn_span text, unsigned keep, const char *why)
{
	if (ensure_room(b))
		return -1;
	size_t i = b->n, json_len0 = b->json.len;
	int keep_json = (keep & WN_BATCH_KEEP_JSON) != 0;
	int keep_text = (keep & WN_BATCH_KEEP_TEXT) && !why;
	b->json_off[i] = b->json.len;
	b->json_len[i] = keep_json ? rec->json.n : 0;
	if (keep_json && wn_buf_append(&b->json, rec->json.p, rec->json.n))
		return -1;
	b->text_off[i] = b->text.len;
	b->text_len[i] = why ? 0 : text.n;
	if (keep_text && wn_buf_append(&b->text, text.p, text.n)) {
		b->json.len = json_len0;
		return -1;
	}
	b->file[i] = rec->file;
	b->line[i] = rec->line;
	b->index[i] = rec->index;
	b->why[i] = why;
	b->n++;
	return 0;
}

int wn_batch_full(const wn_batch *b, size_t max_records, size_t max_bytes)
{
	return b->n >= max_records || b->text.len + b->json.len >= max_bytes;
}

wn_record wn_batch_record(const wn_batch *b, size_t i)
{
	wn_record r = {{b->json.data + b->json_off[i], b->json_len[i]}, b->file[i], b->line[i],
		       b->index[i]};
	return r;
}

wn_span wn_batch_text(const wn_batch *b, size_t i)
{
	wn_span t = {b->text.data + b->text_off[i], b->text_len[i]};
	return t;
}

const char *const *wn_batch_texts(wn_batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		b->tptr[i] = b->text.data + b->text_off[i];
	return b->tptr;
}

/* ---- read-ahead ---- */

#define NBLOCKS 3

struct pipe {
	const wn_batch_source *src;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	wn_batch blk[NBLOCKS];
	uint64_t head, tail; /* blocks produced, blocks consumed */
	int done, failed, stop;
	uint64_t n_records;
};

/* The next block to fill, or NULL when the consumer has stopped. */
static wn_batch *free_block(struct pipe *p)
{
	pthread_mutex_lock(&p->mu);
	while (p->head - p->tail == NBLOCKS && !p->stop)
		pthread_cond_wait(&p->cv, &p->mu);
	wn_batch *b = p->stop ? NULL : &p->blk[p->head % NBLOCKS];
	pthread_mutex_unlock(&p->mu);
	if (b)
		wn_batch_clear(b);
	return b;
}

static void publish(struct pipe *p)
{
	pthread_mutex_lock(&p->mu);
	p->head++;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

static void *produce(void *arg)
{
	struct pipe *p = arg;
	const wn_batch_source *src = p->src;
	wn_batch *b = NULL;
	wn_record rec;
	int failed = 0;
	for (;;) {
		if (!b && !(b = free_block(p)))
			break;
		int got = src->next(src->ctx, &rec);
		if (got <= 0) {
			failed = got < 0;
			break;
		}
		size_t before = b->n;
		int took = src->take(src->ctx, b, &rec);
		if (took < 0) {
			failed = 1;
			break;
		}
		p->n_records += b->n - before;
		if (took > 0)
			break; /* the last record: the block is published below */
		if (wn_batch_full(b, src->max_records, src->max_bytes)) {
			publish(p);
			b = NULL;
		}
	}
	if (b && b->n && !failed)
		publish(p);
	pthread_mutex_lock(&p->mu);
	p->done = 1;
	p->failed = failed;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* The next published block, or NULL at the end (blocks published before a
 * failure of the reader side are still handed on). */
static wn_batch *next_full(struct pipe *p)
{
	pthread_mutex_lock(&p->mu);
	while (p->tail == p->head && !p->done)
		pthread_cond_wait(&p->cv, &p->mu);
	int empty = p->tail == p->head;
	pthread_mutex_unlock(&p->mu);
	return empty ? NULL : &p->blk[p->tail % NBLOCKS];
}

static void release(struct pipe *p, int stop)
{
	pthread_mutex_lock(&p->mu);
	p->tail++;
	if (stop)
		p->stop = 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

int wn_batch_run(const wn_batch_source *src, wn_batch_consume_fn consume, void *ctx,
		 uint64_t *n_records, char *err, size_t errlen)
{
	struct pipe p;
	memset(&p, 0, sizeof p);
	p.src = src;
	pthread_mutex_init(&p.mu, NULL);
	pthread_cond_init(&p.cv, NULL);
	pthread_t th;
	if (pthread_create(&th, NULL, produce, &p)) {
		wn_errf(err, errlen, "cannot start the reader thread");
		return -1;
	}
	int rc = 0;
	wn_batch *b;
	while (!rc && (b = next_full(&p))) {
		rc = consume(ctx, b) ? -1 : 0;
		release(&p, rc != 0);
	}
	pthread_join(th, NULL);
	if (p.failed)
		rc = -1;
	for (int i = 0; i < NBLOCKS; i++)
		wn_batch_free(&p.blk[i]);
	pthread_mutex_destroy(&p.mu);
	pthread_cond_destroy(&p.cv);
	if (n_records)
		*n_records = p.n_records;
	return rc;
}
