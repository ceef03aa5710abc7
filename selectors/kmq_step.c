/*
 * selectors/kmq_step.c — `winnow select kmq` (see selectors/kmq_step.h).
 */
#include "selectors/kmq_step.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/errf.h"
#include "io/json.h"
#include "selectors/kmq.h"
#include "selectors/pool.h"

void wn_kmq_init(wn_kmq_opts *o)
{
	memset(o, 0, sizeof *o);
	o->io = (wn_stream_opts)WN_STREAM_OPTS_INIT;
	o->budget = -1;
	o->cluster = "winnow.cluster";
	o->mode_name = "paper";
	o->rounds = 1;
}

int wn_kmq_check(wn_kmq_opts *o, char *err, size_t errlen)
{
	if (o->budget < 1)
		return wn_errf(err, errlen, "--budget N is required (N >= 1)"), -1;
	if (o->rounds < 1 || o->rounds > o->budget)
		return wn_errf(err, errlen, "--rounds must be in [1, --budget]"), -1;
	if (o->seed < 0)
		return wn_errf(err, errlen, "--seed must not be negative"), -1;
	if (!o->cluster || !*o->cluster)
		return wn_errf(err, errlen, "--cluster PATH must not be empty"), -1;
	if (o->quality && !*o->quality)
		return wn_errf(err, errlen, "--quality PATH must not be empty"), -1;
	if (!strcmp(o->mode_name, "paper"))
		o->mode = WN_KMQ_PAPER;
	else if (!strcmp(o->mode_name, "code"))
		o->mode = WN_KMQ_CODE;
	else
		return wn_errf(err, errlen, "--mode must be paper or code, not '%s'", o->mode_name), -1;
	return 0;
}

struct kmq_out {
	const int64_t *count;
	const int32_t *round;
	int mode, rounds;
};

static int annotate(void *ctx, int64_t i, wn_annot *a)
{
	const struct kmq_out *k = ctx;
	if (!k->count[i])
		return 0;
	if (k->mode == WN_KMQ_PAPER && wn_annot_set_int(a, "count", k->count[i]))
		return -1;
	if (k->rounds > 1 && wn_annot_set_int(a, "kmq_round", k->round[i]))
		return -1;
	return 1;
}

/* Paper mode draws with probability ∝ quality: a negative one is a bad record. */
static int take_quality(void *ctx, wn_stream *s, const wn_record *rec, int64_t i)
{
	const wn_kmq_opts *o = ctx;
	wn_span v;
	double x;
	if (o->mode != WN_KMQ_PAPER || !o->quality)
		return 1;
	if (wn_json_get(rec->json, o->quality, &v) && !wn_json_number(v, &x) && x < 0)
		return wn_stream_reject(s, rec, "'%s' is negative (--mode paper draws with "
					"probability proportional to --quality)", o->quality) ? -1 : 0;
	return 1;
}

static int select_and_emit(const wn_kmq_opts *o, wn_pool *p, wn_stream *s, char *err,
			   size_t errlen)
{
	int64_t *count = malloc(sizeof(int64_t) * (size_t)p->n);
	int32_t *round = malloc(sizeof(int32_t) * (size_t)p->n);
	int64_t drawn = 0;
	char why[256] = "";
	int rc = -1;
	wn_kmq_params prm = {o->mode, o->budget, o->rounds, (uint64_t)o->seed, o->io.threads};
	if (!count || !round)
		wn_errf(err, errlen, "out of memory");
	else if (wn_kmq_select(p->cluster, p->value, p->n, p->nclusters, &prm, count, round,
			       &drawn, why, sizeof why))
		wn_errf(err, errlen, "%s: %s", wn_stream_source_name(s), why);
	else {
		if (!o->io.quiet)
			fprintf(stderr, "winnow %s: %lld draws (%s mode, %lld round%s) over %lld "
				"clusters of %lld records\n", s->cmd, (long long)drawn, o->mode_name,
				(long long)o->rounds, o->rounds > 1 ? "s" : "",
				(long long)p->nclusters, (long long)p->n);
		struct kmq_out k = {count, round, o->mode, (int)o->rounds};
		rc = wn_pool_emit(p, s, annotate, &k, err, errlen);
	}
	free(count);
	free(round);
	return rc;
}

int wn_kmq_run(const wn_kmq_opts *o, wn_stream *s, wn_step_report *rep, char *err,
	       size_t errlen)
{
	(void)rep;
	wn_pool p;
	int rc = wn_pool_read(&p, s, o->cluster, o->quality, "--quality", take_quality,
			       (void *)o, err, errlen);
	if (!rc && p.n > 0)
		rc = select_and_emit(o, &p, s, err, errlen);
	wn_pool_free(&p);
	return rc;
}
