/*
 * tests/unit/test_bert_pooling.c — the position-weighted mean pooling of
 * embed/bert.c (WN_EMBED_POOL_WEIGHTED, as an option override), by hand
 * from the other two poolings without normalisation: for a text of L = 2
 * real tokens ([CLS] [SEP]: the empty text), CLS gives h_1 and the mean
 * (h_1 + h_2)/2, so the weighted mean must be (1 h_1 + 2 h_2)/3 =
 * (4 mean - h_1)/3; the same text in a batch beside a longer one (padded)
 * gives the same vector, so padding weighs nothing. Model: bert-tiny
 * (fixtures/models/bert-tiny-uncased; WINNOW_ROOT locates it).
 */
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "embed/bert.h"
#include "test.h"

static const char *model_dir(void)
{
	static char p[1024];
	const char *root = getenv("WINNOW_ROOT");
	snprintf(p, sizeof p, "%s/fixtures/models/bert-tiny-uncased", root && *root ? root : ".");
	return p;
}

/* Encode texts with one pooling, no normalisation: 0 or -1. */
static int encode(wn_core *c, int pooling, const char *const *texts, size_t n, float *out)
{
	wn_embed_bert_opts o;
	char err[512];
	size_t lens[4];
	wn_embed_bert_opts_init(&o);
	o.pooling = pooling;
	o.normalize = 0;
	wn_embed_bert *m = wn_embed_bert_open(c, model_dir(), &o, err, sizeof err);
	if (!m)
		return fprintf(stderr, "%s\n", err), -1;
	for (size_t i = 0; i < n; i++)
		lens[i] = strlen(texts[i]);
	int rc = wn_embed_bert_pooling(m) == pooling ? wn_embed_bert_encode(m, texts, lens, n, out, err, sizeof err) : -1;
	wn_embed_bert_close(m);
	return rc;
}

static void test_weighted_by_hand(void)
{
	char err[256];
	wn_core *c = wn_core_open(WN_DEVICE_CPU, 1, err, sizeof err);
	CHECK(c != NULL);
	const char *one[1] = {""}, *two[2] = {"", "a longer text of several tokens"};
	float cls[64], mean[64], w[64], w2[128];
	CHECK(encode(c, WN_EMBED_POOL_CLS, one, 1, cls) == 0);
	CHECK(encode(c, WN_EMBED_POOL_MEAN, one, 1, mean) == 0);
	CHECK(encode(c, WN_EMBED_POOL_WEIGHTED, one, 1, w) == 0);
	CHECK(encode(c, WN_EMBED_POOL_WEIGHTED, two, 2, w2) == 0);
	double diff = 0;
	for (int k = 0; k < 64; k++) {
		CHECK_NEAR(w[k], (4.0 * mean[k] - cls[k]) / 3.0, 1e-5);
		CHECK_NEAR(w2[k], w[k], 1e-5);
		diff += fabs(w[k] - mean[k]);
	}
	CHECK(diff > 1e-3);
	wn_core_close(c);
}

int main(void)
{
	RUN(test_weighted_by_hand);
	return TEST_EXIT;
}
