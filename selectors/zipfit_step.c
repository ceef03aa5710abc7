/*
 * selectors/zipfit_step.c — the `score zipfit` step (see
 * selectors/zipfit_step.h): the targets from their file into one block,
 * the scorer built from them, then every record of the stream scored
 * block by block and annotated.
 */
#include "selectors/zipfit_step.h"

#include <string.h>

#include "io/errf.h"
#include "selectors/score_step.h"
#include "selectors/zipfit.h"

void wn_score_zipfit_init(wn_score_zipfit_opts *o)
{
	*o = (wn_score_zipfit_opts){WN_STREAM_OPTS_INIT, NULL, NULL, "gzip", WN_ZIPFIT_LEVEL_DEFAULT,
				    WN_ZIPFIT_GZIP};
}

int wn_score_zipfit_check(wn_score_zipfit_opts *o, char *err, size_t errlen)
{
	if (!o->target) {
		wn_errf(err, errlen, "--target FILE is required");
		return -1;
	}
	o->compressor_id = wn_zipfit_parse_compressor(o->compressor);
	if (o->compressor_id < 0) {
		wn_errf(err, errlen, "unknown compressor '%s' (gzip, zstd or lz4)", o->compressor);
		return -1;
	}
	return wn_zipfit_check_level(o->compressor_id, o->level, err, errlen);
}

/* Every target text, kept in one block (a block holds any number of records). */
struct targets {
	wn_batch all;
	char *err;
	size_t errlen;
};

static int collect_texts(void *ctx, wn_batch *b)
{
	struct targets *t = ctx;
	for (size_t i = 0; i < b->n; i++) {
		wn_record rec = wn_batch_record(b, i);
		if (wn_batch_add(&t->all, &rec, wn_batch_text(b, i), WN_BATCH_KEEP_TEXT, NULL)) {
			wn_errf(t->err, t->errlen, "out of memory holding the targets");
			return -1;
		}
	}
	return 0;
}

static wn_zipfit *build_scorer(const wn_score_zipfit_opts *o, wn_stream *s, char *err,
			       size_t errlen)
{
	struct targets t = {WN_BATCH_INIT, err, errlen};
	wn_zipfit *z = NULL;
	const char *field = o->target_field ? o->target_field : o->io.field;
	if (wn_score_side_file(s, o->target, field, collect_texts, &t, NULL, err, errlen))
		goto done;
	if (t.all.n == 0) {
		wn_errf(err, errlen, "%s: no target texts", o->target);
		goto done;
	}
	wn_zipfit_opts zo = {o->compressor_id, o->level, o->io.threads};
	z = wn_zipfit_new(&zo, wn_batch_texts(&t.all), t.all.text_len, t.all.n, err, errlen);
done:
	wn_batch_free(&t.all);
	return z;
}

static int zipfit_block(void *ctx, wn_batch *b, double *scores, char *err, size_t errlen)
{
	return wn_zipfit_score(ctx, (const char *const *)b->tptr, b->text_len, b->n, scores, NULL,
			       err, errlen);
}

int wn_score_zipfit_run(const wn_score_zipfit_opts *o, wn_stream *s, wn_step_report *rep,
			char *err, size_t errlen)
{
	(void)rep;
	wn_zipfit *z = build_scorer(o, s, err, errlen);
	if (!z)
		return -1;
	int rc = wn_score_annotate(s, NULL, "zipfit", zipfit_block, z, err, errlen);
	wn_zipfit_free(z);
	return rc;
}
