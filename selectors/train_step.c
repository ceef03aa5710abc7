/*
 * selectors/train_step.c — the `train` step (see selectors/train_step.h):
 * records and vectors through cluster/vectors.c, a second pass over the
 * spool for the labels (a record without one is rejected under the
 * policy and leaves the matrix), the classes, the held-out split, the
 * training run (selectors/dynamics.c), then every record written back in
 * input order with its scores.
 */
#include "selectors/train_step.h"
#include "io/clock.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/vectors.h"
#include "core/sample.h"
#include "io/errf.h"
#include "io/json.h"
#include "io/record.h"
#include "selectors/gais.h"
#include "selectors/s2l.h"
#include "selectors/train_ckpt.h"

#define STREAM_HOLDOUT 0x686f6c646f757400ull /* "holdout" */
#define STREAM_AUM_THR 0x61756d7468720000ull /* "aumthr" */

void wn_train_step_init(wn_train_step_opts *o)
{
	memset(o, 0, sizeof *o);
	o->io = (wn_stream_opts)WN_STREAM_OPTS_INIT;
	wn_dyn_opts_default(&o->dyn);
	o->model = "mlp";
	o->hidden = 64;
	o->act = "relu";
	o->epochs = o->dyn.train.epochs;
	o->runs = o->dyn.runs;
	o->score_epoch = o->dyn.score_epoch;
	o->batch = o->dyn.train.batch;
	o->lr = o->dyn.train.lr;
	o->weight_decay = o->dyn.train.weight_decay;
	o->field_emb = "winnow.emb";
	o->vog_norm = "none";
	o->s2l_k = WN_S2L_DEFAULT_K;
}

static int parse_choices(wn_train_step_opts *o, char *err, size_t errlen)
{
	if (strcmp(o->model, "linear") && strcmp(o->model, "mlp") && strcmp(o->model, "gat"))
		return wn_errf(err, errlen, "unknown --model '%s' (linear or mlp), or gat for GAIS", o->model), -1;
	if (!strcmp(o->act, "relu"))
		o->dyn.act = WN_ACT_RELU;
	else if (!strcmp(o->act, "gelu"))
		o->dyn.act = WN_ACT_GELU;
	else
		return wn_errf(err, errlen, "unknown --act '%s' (relu or gelu)", o->act), -1;
	if (!strcmp(o->vog_norm, "none"))
		o->dyn.vog_norm = WN_DYN_VOG_NONE;
	else if (!strcmp(o->vog_norm, "class"))
		o->dyn.vog_norm = WN_DYN_VOG_CLASS;
	else if (!strcmp(o->vog_norm, "dataset"))
		o->dyn.vog_norm = WN_DYN_VOG_DATASET;
	else
		return wn_errf(err, errlen, "unknown --vog-norm '%s' (none, class or dataset)",
			       o->vog_norm), -1;
	return 0;
}

/* --holdout FRAC (a number) or FILE (anything else). */
static int parse_holdout(wn_train_step_opts *o, char *err, size_t errlen)
{
	if (!o->holdout_arg)
		return 0;
	char *end;
	double f = strtod(o->holdout_arg, &end);
	if (end != o->holdout_arg && !*end) {
		if (!(f >= 0 && f < 1))
			return wn_errf(err, errlen, "--holdout FRAC must be in [0, 1)"), -1;
		o->holdout = f;
		return 0;
	}
	if (!*o->holdout_arg)
		return wn_errf(err, errlen, "--holdout needs a fraction or a file"), -1;
	o->holdout_file = o->holdout_arg;
	return 0;
}

/* --model gat: its own options, the ones it has no use for refused. */
static int check_gat(wn_train_step_opts *o, char *err, size_t errlen)
{
	int gat = !strcmp(o->model, "gat");
	if (!gat) {
		if (o->graph || o->k || o->heads || o->layers || o->bits || o->levels || o->views)
			return wn_errf(err, errlen, "--graph, -k, --heads and --layers need --model gat"), -1;
		return 0;
	}
	if (!o->graph)
		o->graph = "minibatch";
	o->k = o->k ? o->k : 10;
	o->heads = o->heads ? o->heads : 4;
	o->layers = o->layers ? o->layers : 2;
	int lsh = !strcmp(o->graph, "lsh");
	if (!lsh && strcmp(o->graph, "minibatch"))
		return wn_errf(err, errlen, "unknown --graph '%s' (minibatch or lsh)", o->graph), -1;
	if (!lsh && (o->bits || o->levels || o->views))
		return wn_errf(err, errlen, "--bits, --levels and --views need --graph lsh"), -1;
	o->bits = lsh && !o->bits ? 8 : o->bits;
	o->levels = lsh && !o->levels ? 1 : o->levels;
	o->views = lsh && !o->views ? 1 : o->views;
	if (lsh && (o->bits < 1 || o->bits > 30 || o->levels < 1 || o->levels > 8 || o->views < 1 ||
		    o->views > 64))
		return wn_errf(err, errlen, "--bits must be 1 to 30, --levels 1 to 8 and --views 1 to 64"), -1;
	if (o->k < 1 || o->heads < 1 || o->layers < 1 || o->layers > 8)
		return wn_errf(err, errlen, "-k and --heads must be at least 1, --layers 1 to 8"), -1;
	if (!lsh && o->k >= o->batch)
		return wn_errf(err, errlen, "-k %lld must be smaller than --batch %lld (neighbours come from "
			       "the record's mini-batch)", (long long)o->k, (long long)o->batch), -1;
	if (o->layers > 1 && o->hidden % o->heads)
		return wn_errf(err, errlen, "--hidden %lld is not a multiple of --heads %lld (each head "
			       "has hidden / heads units)", (long long)o->hidden, (long long)o->heads), -1;
	if (o->dropout > 0 || o->aum_threshold || o->log_every || o->vog_std ||
	    strcmp(o->vog_norm, "none") || o->save_trajectories || o->save_ckpt || o->from_ckpt ||
	    o->holdout_file)
		return wn_errf(err, errlen, "--model gat writes winnow.gais only: no --dropout, "
			       "--aum-threshold, --log-every, --vog-*, --save-trajectories, checkpoints "
			       "or --holdout FILE"), -1;
	return 0;
}

const char *wn_train_auto_device(const wn_train_step_opts *o, const char *dev)
{
	if (!dev || !*dev)
		dev = getenv("WINNOW_DEVICE");
	if ((dev && *dev && strcmp(dev, "auto")) || o->trajectories || !strcmp(o->model, "gat"))
		return NULL;
	int64_t width = strcmp(o->model, "linear") ? o->hidden : 64;
	return (double)o->batch * (double)width < WN_TRAIN_AUTO_CPU_MAX ? "cpu" : NULL;
}

int wn_train_step_check(wn_train_step_opts *o, char *err, size_t errlen)
{
	if (o->s2l_k < 0)
		return wn_errf(err, errlen, "--s2l-k must not be negative"), -1;
	if (o->trajectories) {
		if (o->label || o->npy || o->holdout_arg || o->labels_out || o->save_trajectories)
			return wn_errf(err, errlen, "--trajectories clusters the given losses: no --label, "
				       "--npy, --holdout, --labels-out or --save-trajectories"), -1;
		if (o->s2l_k < 1)
			return wn_errf(err, errlen, "--trajectories needs --s2l-k of at least 1"), -1;
		return 0;
	}
	if (!o->label || !*o->label)
		return wn_errf(err, errlen, "--label FIELD is required"), -1;
	if (parse_choices(o, err, errlen))
		return -1;
	if (o->epochs < 1 || o->runs < 1 || o->batch < 1)
		return wn_errf(err, errlen, "--epochs, --runs and --batch must be at least 1"), -1;
	if (strcmp(o->model, "linear") && o->hidden < 1)
		return wn_errf(err, errlen, "--hidden must be at least 1"), -1;
	if (strcmp(o->model, "gat") && (o->score_epoch < 0 || o->score_epoch > o->epochs))
		return wn_errf(err, errlen, "--score-epoch %d is beyond --epochs %d (0 to %d)",
			       o->score_epoch, o->epochs, o->epochs), -1;
	if (o->seed < 0 || o->log_every < 0)
		return wn_errf(err, errlen, "--seed and --log-every must not be negative"), -1;
	if (!(o->lr > 0) || !(o->weight_decay >= 0))
		return wn_errf(err, errlen, "--lr must be positive and --weight-decay not negative"), -1;
	if (!(o->dropout >= 0 && o->dropout < 1))
		return wn_errf(err, errlen, "--dropout P must be in [0, 1)"), -1;
	if (o->dropout > 0 && strcmp(o->model, "mlp"))
		return wn_errf(err, errlen, "--dropout needs --model mlp (the linear model has no hidden layer)"), -1;
	if (parse_holdout(o, err, errlen) || check_gat(o, err, errlen))
		return -1;
	if (o->save_ckpt && o->from_ckpt)
		return wn_errf(err, errlen, "--save-checkpoints and --from-checkpoints do not combine"), -1;
	if (o->from_ckpt && o->log_every)
		return wn_errf(err, errlen, "--from-checkpoints evaluates once per epoch: no --log-every"), -1;
	o->dyn.hidden = strcmp(o->model, "linear") ? o->hidden : 0;
	o->dyn.train.epochs = o->epochs;
	o->dyn.train.batch = o->batch;
	o->dyn.train.lr = (float)o->lr;
	o->dyn.train.weight_decay = (float)o->weight_decay;
	o->dyn.train.seed = (uint64_t)o->seed;
	o->dyn.runs = o->runs;
	o->dyn.score_epoch = o->score_epoch;
	o->dyn.log_every = o->log_every;
	o->dyn.vog_std = o->vog_std;
	o->dyn.dropout = (float)o->dropout;
	return 0;
}

/* ---- labels ---- */

void wn_train_data_free(wn_train_data *L)
{
	wn_buf_free(&L->text);
	free(L->off);
	free(L->len);
	free(L->y);
	free(L->first);
	free(L->count);
	free(L->score);
	wn_cluster_vectors_free(&L->v);
	memset(L, 0, sizeof *L);
}

/* The label text of one record: 1 got it, 0 rejected (go on), -1 stop. */
static int record_label(wn_stream *s, const wn_record *rec, const char *field, wn_buf *scratch,
			wn_span *out)
{
	wn_span v;
	if (!wn_json_get(rec->json, field, &v))
		return wn_stream_reject(s, rec, "no label at %s", field) ? -1 : 0;
	int t = wn_json_type_of(v);
	if (t == WN_JSON_NUMBER) {
		*out = v;
		return 1;
	}
	if (t != WN_JSON_STRING || wn_json_string(v, scratch, out))
		return wn_stream_reject(s, rec, "label %s is not a string or a number", field) ? -1 : 0;
	return 1;
}

/* The score of one record: 1 got it, 0 rejected (go on), -1 stop. */
static int record_score(wn_stream *s, const wn_record *rec, const char *path, double *out)
{
	wn_span v;
	if (!wn_json_get(rec->json, path, &v))
		return wn_stream_reject(s, rec, "no score at %s", path) ? -1 : 0;
	if (wn_json_type_of(v) != WN_JSON_NUMBER || wn_json_number(v, out) || !isfinite(*out))
		return wn_stream_reject(s, rec, "score %s is not a finite number", path) ? -1 : 0;
	return 1;
}

/* Label (and score) of one spooled record into slot keep. */
static int take_record(wn_train_data *L, wn_stream *s, const wn_record *rec, const char *field,
		       const char *score, wn_buf *scratch, int64_t keep, char *err, size_t errlen)
{
	wn_span lab;
	int got = record_label(s, rec, field, scratch, &lab);
	if (got > 0 && score)
		got = record_score(s, rec, score, &L->score[keep]);
	if (got <= 0)
		return got;
	L->off[keep] = L->text.len;
	L->len[keep] = lab.n;
	if (wn_buf_append(&L->text, lab.p, lab.n))
		return wn_errf(err, errlen, "out of memory"), -1;
	return 1;
}

/* Labels (and scores) of the kept records; a record without one leaves
 * v's matrix. */
static int read_labels(wn_cluster_vectors *v, wn_stream *s, const char *field, const char *score,
		       wn_train_data *L, char *err, size_t errlen)
{
	size_t n = (size_t)(v->n ? v->n : 1);
	L->off = malloc(n * sizeof *L->off);
	L->len = malloc(n * sizeof *L->len);
	if (score)
		L->score = malloc(n * sizeof *L->score);
	if (!v->dropped)
		v->dropped = calloc((size_t)(v->nspooled ? v->nspooled : 1), 1);
	if (!L->off || !L->len || (score && !L->score) || !v->dropped ||
	    wn_spool_rewind(v->sp, err, errlen))
		return err[0] ? -1 : (wn_errf(err, errlen, "out of memory"), -1);
	wn_buf scratch = WN_BUF_INIT;
	int64_t j = 0, keep = 0;
	int rc = 0;
	for (int64_t i = 0; i < v->nspooled && !rc; i++) {
		wn_record rec;
		if (wn_spool_get(v->sp, &rec, err, errlen) != 1) {
			rc = -1;
			break;
		}
		if (v->dropped[i])
			continue;
		int got = take_record(L, s, &rec, field, score, &scratch, keep, err, errlen);
		if (got <= 0) {
			v->dropped[i] = 1;
			rc = got;
		} else {
			memmove(v->X + keep * v->d, v->X + j * v->d, (size_t)v->d * sizeof(float));
			keep++;
		}
		j++;
	}
	wn_buf_free(&scratch);
	v->n = keep;
	return rc || s->failed ? -1 : 0;
}

struct sort_key {
	const char *p;
	size_t n;
	int64_t i;
};

static int cmp_key(const void *a, const void *b)
{
	const struct sort_key *x = a, *y = b;
	size_t m = x->n < y->n ? x->n : y->n;
	int c = memcmp(x->p, y->p, m);
	if (c)
		return c;
	if (x->n != y->n)
		return x->n < y->n ? -1 : 1;
	return (x->i > y->i) - (x->i < y->i);
}

static int same_label(const struct sort_key *a, const struct sort_key *b)
{
	return a->n == b->n && !memcmp(a->p, b->p, a->n);
}

/* Class ids in byte order of the labels. */
static int map_classes(wn_train_data *L, int64_t n)
{
	struct sort_key *k = malloc((size_t)(n ? n : 1) * sizeof *k);
	L->y = malloc((size_t)(n ? n : 1) * sizeof *L->y);
	L->first = malloc((size_t)(n ? n : 1) * sizeof *L->first);
	L->count = calloc((size_t)(n ? n : 1), sizeof *L->count);
	if (!k || !L->y || !L->first || !L->count) {
		free(k);
		return -1;
	}
	for (int64_t i = 0; i < n; i++)
		k[i] = (struct sort_key){L->text.data + L->off[i], L->len[i], i};
	qsort(k, (size_t)n, sizeof *k, cmp_key);
	L->C = 0;
	for (int64_t r = 0; r < n; r++) {
		if (r == 0 || !same_label(&k[r - 1], &k[r]))
			L->first[L->C++] = k[r].i;
		L->y[k[r].i] = (int32_t)(L->C - 1);
		L->count[L->C - 1]++;
	}
	free(k);
	return 0;
}

void wn_train_data_label(const wn_train_data *L, int64_t cls, const char **p, int *n)
{
	int64_t i = L->first[cls];
	*p = L->text.data + L->off[i];
	*n = (int)L->len[i];
}

/* --labels-out FILE: one JSON line per class, written atomically. */
static int write_labels(const char *path, const wn_train_data *L, char *err, size_t errlen)
{
	char why[512] = "";
	wn_writer *w = wn_writer_open(path, 0, why, sizeof why);
	wn_buf line = WN_BUF_INIT;
	int rc = w ? 0 : -1;
	for (int64_t c = 0; c < L->C && !rc; c++) {
		const char *p;
		int n;
		wn_train_data_label(L, c, &p, &n);
		wn_buf_reset(&line);
		rc = wn_buf_printf(&line, "{\"class\":%lld,\"label\":", (long long)c) ||
		     wn_json_put_string(&line, p, (size_t)n) ||
		     wn_buf_printf(&line, ",\"records\":%lld}", (long long)L->count[c]) ||
		     wn_writer_line(w, line.data, line.len);
	}
	if (!rc && wn_writer_commit(w, why, sizeof why))
		rc = -1;
	else if (rc && w)
		wn_writer_abort(w);
	wn_buf_free(&line);
	if (rc)
		wn_errf(err, errlen, "%s: %s", path, why[0] ? why : "out of memory");
	return rc;
}

void wn_train_data_report(const wn_train_data *L, const char *label, const char *cmd)
{
	fprintf(stderr, "winnow %s: %lld classes from %s:", cmd, (long long)L->C, label);
	for (int64_t c = 0; c < L->C; c++) {
		const char *p;
		int n;
		wn_train_data_label(L, c, &p, &n);
		fprintf(stderr, " %lld=%.*s (%lld)", (long long)c, n, p, (long long)L->count[c]);
	}
	fputc('\n', stderr);
}

/* ---- held-out split ---- */

unsigned char *wn_train_holdout(double frac, uint64_t seed, int64_t n, int64_t *nh)
{
	*nh = 0;
	if (frac <= 0)
		return NULL;
	unsigned char *h = calloc((size_t)n, 1);
	int64_t *perm = malloc((size_t)n * sizeof *perm);
	if (!h || !perm) {
		free(h);
		free(perm);
		*nh = -1;
		return NULL;
	}
	*nh = (int64_t)floor(frac * (double)n);
	if (*nh < 1)
		*nh = 1;
	wn_sample_permutation(n, seed, STREAM_HOLDOUT, perm);
	for (int64_t i = 0; i < *nh; i++)
		h[perm[i]] = 1;
	free(perm);
	return h;
}

/* The most frequent training class, and its share of the held-out set. */
static double majority_rate(const wn_train_data *L, const unsigned char *h, int64_t n,
			    int64_t *cls)
{
	int64_t *cnt = calloc((size_t)L->C, sizeof *cnt), hit = 0, nh = 0;
	*cls = 0;
	if (!cnt)
		return 0;
	for (int64_t i = 0; i < n; i++)
		cnt[L->y[i]] += !h[i];
	for (int64_t c = 1; c < L->C; c++)
		if (cnt[c] > cnt[*cls])
			*cls = c;
	for (int64_t i = 0; i < n; i++)
		if (h[i])
			nh++, hit += L->y[i] == *cls;
	free(cnt);
	return nh ? (double)hit / (double)nh : 0;
}

/* ---- the run ---- */

struct emit_ctx {
	const wn_dyn_scores *sc;
	const unsigned char *holdout;
	const int32_t *cluster; /* S2L, or NULL */
	const unsigned char *thr; /* --aum-threshold: 1 threshold sample, 2 flagged, 3 not flagged */
	const char *txt;        /* every record's scores as text (score_texts) */
};

#define SCORE_TXT 16 /* "%.9g" of a float: at most 15 characters ("-1.17549435e-38") */
#define N_SCORES 7
static const char *const score_keys[N_SCORES] = {"el2n", "grand", "forgetting", "aum",
						 "vog", "pvi", "tracin"};

/* Shortest decimal that reads back as the same float, into buf (n bytes). */
static void float_text(double v, char *buf, size_t n)
{
	float f = (float)v;
	for (int p = 6; p <= 9; p++) {
		snprintf(buf, n, "%.*g", p, (double)f);
		if (strtof(buf, NULL) == f)
			break;
	}
}

static int set_float(wn_annot *a, const char *key, double v)
{
	char buf[32];
	float_text(v, buf, sizeof buf);
	return wn_annot_set_raw(a, key, buf, strlen(buf));
}

/* The N_SCORES scores of records [0, n) as text, SCORE_TXT bytes each,
 * formatted over the threads before the records are written in order
 * (formatting, up to four printf and strtof calls a score, costs about as
 * much as writing the records). The same text as set_float. */
static char *score_texts(const wn_dyn_scores *s, int64_t n)
{
	char *t = malloc((size_t)(n ? n : 1) * N_SCORES * SCORE_TXT);
	if (!t)
		return NULL;
#pragma omp parallel for schedule(static)
	for (int64_t i = 0; i < n; i++) {
		const double v[N_SCORES] = {s->el2n[i], s->grand[i], s->forgetting[i], s->aum[i],
					    s->vog[i], s->pvi[i], s->tracin[i]};
		for (int k = 0; k < N_SCORES; k++)
			float_text(v[k], t + (i * N_SCORES + k) * SCORE_TXT, SCORE_TXT);
	}
	return t;
}

static int annotate(void *ctx, int64_t i, wn_annot *a)
{
	const struct emit_ctx *e = ctx;
	for (int k = 0; k < N_SCORES; k++) {
		const char *t = e->txt + (i * N_SCORES + k) * SCORE_TXT;
		if (wn_annot_set_raw(a, score_keys[k], t, strlen(t)))
			return -1;
	}
	return (e->cluster && wn_annot_set_int(a, "s2l_cluster", e->cluster[i])) ||
	       (e->thr && e->thr[i] == 1 && wn_annot_set_bool(a, "aum_threshold_sample", 1)) ||
	       (e->thr && e->thr[i] >= 2 && wn_annot_set_bool(a, "aum_flag", e->thr[i] == 2)) ||
	       (e->holdout && e->holdout[i] && wn_annot_set_bool(a, "holdout", 1));
}

static int annotate_cluster(void *ctx, int64_t i, wn_annot *a)
{
	const int32_t *cl = ctx;
	return wn_annot_set_int(a, "s2l_cluster", cl[i]);
}

static void epoch_report(void *ctx, int run, int epoch, double loss, double acc, int64_t nh)
{
	const char *cmd = ctx;
	if (isnan(loss)) /* --from-checkpoints: no training loss */
		fprintf(stderr, "winnow %s: run %d epoch %d: held-out accuracy %.4f\n", cmd, run + 1,
			epoch, acc);
	else if (nh)
		fprintf(stderr, "winnow %s: run %d epoch %d: train loss %.6f, held-out accuracy %.4f\n",
			cmd, run + 1, epoch, loss, acc);
	else
		fprintf(stderr, "winnow %s: run %d epoch %d: train loss %.6f\n", cmd, run + 1, epoch,
			loss);
}

/* Records, vectors, labels (and scores) and the classes, any number of them. */
static int read_data(wn_train_data *D, wn_stream *s, const char *field_emb, const char *npy,
		     const char *label, const char *score, char *err, size_t errlen)
{
	memset(D, 0, sizeof *D);
	if (wn_cluster_vectors_load(&D->v, s, field_emb, npy, err, errlen) ||
	    read_labels(&D->v, s, label, score, D, err, errlen))
		return -1;
	if (map_classes(D, D->v.n))
		return wn_errf(err, errlen, "out of memory"), -1;
	return 0;
}

int wn_train_data_load(wn_train_data *D, wn_stream *s, const char *field_emb, const char *npy,
		       const char *label, const char *score, char *err, size_t errlen)
{
	if (read_data(D, s, field_emb, npy, label, score, err, errlen))
		return -1;
	if (D->v.n == 0)
		return wn_errf(err, errlen, "%s: no record has %s", wn_stream_source_name(s),
			       score ? "a vector, a label and a score" : "both a vector and a label"), -1;
	if (D->C < 2) {
		const char *p;
		int n;
		wn_train_data_label(D, 0, &p, &n);
		return wn_errf(err, errlen, "%s: --label %s has one class only ('%.*s' on %lld records)",
			       wn_stream_source_name(s), label, n, p, (long long)D->v.n), -1;
	}
	return 0;
}

struct run {
	wn_core *core;
	wn_train_data L;
	unsigned char *holdout;
	wn_dyn_scores sc;
	int32_t *cluster;
	int64_t n_rows; /* rows trained and scored: the records, then --holdout FILE's */
	int32_t *y_fake;     /* --aum-threshold: labels with the threshold samples in class C */
	unsigned char *thr;  /* per record: see emit_ctx */
};

static int run_close(struct run *r, int rc)
{
	free(r->y_fake);
	free(r->thr);
	free(r->cluster);
	wn_dyn_scores_free(&r->sc);
	free(r->holdout);
	wn_train_data_free(&r->L);
	if (r->core)
		wn_core_close(r->core);
	return rc;
}

static int split(const wn_train_step_opts *o, struct run *r, const char *cmd, char *err,
		 size_t errlen)
{
	int64_t nh = 0, cls;
	r->holdout = wn_train_holdout(o->holdout, (uint64_t)o->seed, r->L.v.n, &nh);
	if (nh < 0)
		return wn_errf(err, errlen, "out of memory"), -1;
	if (nh >= r->L.v.n)
		return wn_errf(err, errlen, "--holdout %g leaves no record of %lld to train on",
			       o->holdout, (long long)r->L.v.n), -1;
	if (nh && !o->io.quiet) {
		double rate = majority_rate(&r->L, r->holdout, r->L.v.n, &cls);
		const char *p;
		int n;
		wn_train_data_label(&r->L, cls, &p, &n);
		fprintf(stderr, "winnow %s: %lld of %lld records held out; majority class '%.*s' "
			"(the most frequent in training) has held-out accuracy %.4f\n",
			cmd, (long long)nh, (long long)r->L.v.n, n, p, rate);
	}
	return 0;
}

/* --holdout FILE: the classes become every label of the training records
 * and of the file, in byte order (as `sources plan`'s proxy numbers them):
 * H's labels join L's text, and the classes are mapped again over all
 * n + nh rows; count[] keeps counting training records only. A held-out
 * label no training record has is a class never right. */
static int merge_holdout_classes(wn_train_data *L, const wn_train_data *H, int64_t n, int64_t *unseen)
{
	int64_t nh = H->v.n;
	size_t *off = realloc(L->off, (size_t)(n + nh) * sizeof *off);
	if (off)
		L->off = off;
	size_t *len = off ? realloc(L->len, (size_t)(n + nh) * sizeof *len) : NULL;
	if (len)
		L->len = len;
	if (!off || !len)
		return -1;
	for (int64_t i = 0; i < nh; i++) {
		L->off[n + i] = L->text.len;
		L->len[n + i] = H->len[i];
		if (wn_buf_append(&L->text, H->text.data + H->off[i], H->len[i]))
			return -1;
	}
	free(L->y);
	free(L->first);
	free(L->count);
	L->y = NULL, L->first = NULL, L->count = NULL;
	if (map_classes(L, n + nh))
		return -1;
	memset(L->count, 0, (size_t)L->C * sizeof *L->count);
	for (int64_t i = 0; i < n; i++)
		L->count[L->y[i]]++;
	*unseen = 0;
	for (int64_t i = 0; i < nh; i++)
		*unseen += L->count[L->y[n + i]] == 0;
	return 0;
}

/* --holdout FILE: its records (vectors and labels) appended after the
 * training rows as held-out rows; v.n still counts the training records. */
static int load_holdout_file(const wn_train_step_opts *o, struct run *r, const char *cmd,
			     char *err, size_t errlen)
{
	wn_stream_opts co = o->io;
	co.quiet = 1;
	co.output = NULL;
	co.quarantine = NULL;
	if (!strcmp(co.on_error, "quarantine"))
		co.on_error = "skip";
	wn_stream hs;
	wn_train_data H;
	wn_step_report rep;
	const char *argv[1] = {o->holdout_file};
	memset(&H, 0, sizeof H);
	if (wn_stream_open_files(&hs, cmd, &co, 1, argv, 0, err, errlen))
		return -1;
	int rc = read_data(&H, &hs, o->field_emb, NULL, o->label, NULL, err, errlen);
	wn_stream_finish(&hs, rc == 0, &rep);
	if (!rc && H.v.n == 0) {
		wn_errf(err, errlen, "%s: no held-out record has both a vector and a label", o->holdout_file);
		rc = -1;
	}
	int64_t n = r->L.v.n, d = r->L.v.d, nh = H.v.n;
	if (!rc && H.v.d != d) {
		wn_errf(err, errlen, "%s: vectors of dimension %lld, the training records' %lld",
			o->holdout_file, (long long)H.v.d, (long long)d);
		rc = -1;
	}
	int64_t unseen = 0;
	int64_t C0 = r->L.C;
	float *X = rc ? NULL : realloc(r->L.v.X, (size_t)((n + nh) * d) * sizeof *X);
	if (X)
		r->L.v.X = X;
	if (!rc && (!X || !(r->holdout = calloc((size_t)(n + nh), 1)) ||
		    merge_holdout_classes(&r->L, &H, n, &unseen))) {
		wn_errf(err, errlen, "out of memory");
		rc = -1;
	}
	if (!rc) {
		memcpy(X + n * d, H.v.X, (size_t)(nh * d) * sizeof *X);
		memset(r->holdout + n, 1, (size_t)nh);
		r->n_rows = n + nh;
		if (!o->io.quiet)
			fprintf(stderr, "winnow %s: %lld held-out records from %s\n", cmd, (long long)nh,
				o->holdout_file);
		if (!o->io.quiet && unseen)
			fprintf(stderr, "winnow %s: %lld of them have a label no training record has (%lld "
				"more classes, never right)\n", cmd, (long long)unseen, (long long)(r->L.C - C0));
	}
	wn_train_data_free(&H);
	return rc;
}

/* S2L: k-means of the n x K trajectories into r->cluster. */
static int s2l(const wn_train_step_opts *o, struct run *r, const float *traj, int64_t n, int64_t K,
	       const char *cmd, char *err, size_t errlen)
{
	int64_t k_used = 0;
	double t0 = wn_wall_seconds();
	if (!(r->cluster = malloc((size_t)(n ? n : 1) * sizeof *r->cluster)))
		return wn_errf(err, errlen, "out of memory"), -1;
	if (wn_s2l_cluster(r->core, traj, n, K, o->s2l_k, (uint64_t)o->seed, r->cluster, &k_used,
			   err, errlen))
		return -1;
	if (!o->io.quiet)
		fprintf(stderr, "winnow %s: S2L: %lld loss trajectories of %lld checkpoints in %lld "
			"clusters; %.3f s\n", cmd, (long long)n, (long long)K, (long long)k_used,
			wn_wall_seconds() - t0);
	return 0;
}

/* --trajectories FILE.npy: one row of losses per record, clustered. */
static int run_trajectories(const wn_train_step_opts *o, struct run *r, wn_stream *s, char *err,
			    size_t errlen)
{
	wn_cluster_vectors *v = &r->L.v;
	if (wn_cluster_vectors_load(v, s, NULL, o->trajectories, err, errlen))
		return -1;
	if (v->n == 0)
		return wn_errf(err, errlen, "%s: no record to cluster", wn_stream_source_name(s)), -1;
	if (s2l(o, r, v->X, v->n, v->d, s->cmd, err, errlen))
		return -1;
	return wn_cluster_vectors_emit(v, s, annotate_cluster, r->cluster, err, errlen);
}

/* --aum-threshold: floor(m / (C + 1)) of the m training records move to a
 * fake class C (Pleiss et al. 2020), drawn by --seed. */
static int aum_relabel(const wn_train_step_opts *o, struct run *r, char *err, size_t errlen)
{
	int64_t n = r->L.v.n, m = 0, C = r->L.C;
	int64_t *idx = malloc((size_t)n * sizeof *idx), *perm = malloc((size_t)n * sizeof *perm);
	r->y_fake = malloc((size_t)r->n_rows * sizeof *r->y_fake);
	r->thr = calloc((size_t)n, 1);
	int rc = -1;
	if (!idx || !perm || !r->y_fake || !r->thr) {
		wn_errf(err, errlen, "out of memory");
		goto done;
	}
	memcpy(r->y_fake, r->L.y, (size_t)r->n_rows * sizeof *r->y_fake);
	for (int64_t i = 0; i < n; i++)
		if (!r->holdout || !r->holdout[i])
			idx[m++] = i;
	int64_t k = m / (C + 1);
	if (k < 1) {
		wn_errf(err, errlen, "--aum-threshold needs at least %lld training records (%lld classes + 1), "
			"has %lld", (long long)(C + 1), (long long)C, (long long)m);
		goto done;
	}
	wn_sample_permutation(m, (uint64_t)o->seed, STREAM_AUM_THR, perm);
	for (int64_t j = 0; j < m; j++)
		r->thr[idx[j]] = 3;
	for (int64_t j = 0; j < k; j++) {
		r->y_fake[idx[perm[j]]] = (int32_t)C;
		r->thr[idx[perm[j]]] = 1;
	}
	rc = 0;
done:
	free(idx);
	free(perm);
	return rc;
}

/* The 99th percentile of the threshold samples' AUM; records below it flagged. */
static int aum_flag(const wn_train_step_opts *o, struct run *r, const char *cmd, char *err,
		    size_t errlen)
{
	int64_t n = r->L.v.n, k = 0, flagged = 0;
	double *a = malloc((size_t)n * sizeof *a);
	if (!a)
		return wn_errf(err, errlen, "out of memory"), -1;
	for (int64_t i = 0; i < n; i++)
		if (r->thr[i] == 1)
			a[k++] = r->sc.aum[i];
	double t = wn_dyn_quantile(a, k, 0.99);
	free(a);
	for (int64_t i = 0; i < n; i++)
		if (r->thr[i] == 3 && r->sc.aum[i] < t)
			r->thr[i] = 2, flagged++;
	if (!o->io.quiet)
		fprintf(stderr, "winnow %s: AUM threshold %.6g (99th percentile of %lld threshold samples "
			"in a fake class); %lld records flagged\n", cmd, t, (long long)k, (long long)flagged);
	return 0;
}

struct ckpt_ctx {
	const char *dir;
	wn_ckpt_shape sh;
	const char *cmd;
};

/* The class labels in class order as a JSON array of strings (malloc'd). */
static char *labels_json(const wn_train_data *L)
{
	wn_buf b = WN_BUF_INIT;
	int rc = wn_buf_printf(&b, "[");
	for (int64_t c = 0; c < L->C && !rc; c++) {
		const char *p;
		int n;
		wn_train_data_label(L, c, &p, &n);
		rc = (c && wn_buf_printf(&b, ",")) || wn_json_put_string(&b, p, (size_t)n);
	}
	if (rc || wn_buf_printf(&b, "]") || wn_buf_append(&b, "", 1)) {
		wn_buf_free(&b);
		return NULL;
	}
	return b.data;
}

static int save_ckpt(void *ctx, int run, int epoch, const float *P, int64_t d_in, char *err,
		     size_t errlen)
{
	struct ckpt_ctx *c = ctx;
	char path[4096];
	wn_ckpt_shape sh = c->sh;
	sh.d_in = d_in;
	wn_ckpt_path(path, sizeof path, c->dir, run, epoch);
	return wn_ckpt_save(path, &sh, P, err, errlen);
}

static int load_ckpt(void *ctx, int run, int epoch, float *P, int64_t d_in, char *err,
		     size_t errlen)
{
	struct ckpt_ctx *c = ctx;
	char path[4096];
	wn_ckpt_shape sh = c->sh;
	sh.d_in = d_in;
	wn_ckpt_path(path, sizeof path, c->dir, run, epoch);
	return wn_ckpt_load(path, &sh, P, err, errlen);
}

static void epoch_hook(void *ctx, int run, int epoch, double loss, double acc, int64_t nh)
{
	struct ckpt_ctx *c = ctx;
	epoch_report((void *)c->cmd, run, epoch, loss, acc, nh);
}

static int train_run(const wn_train_step_opts *o, struct run *r, wn_stream *s,
		     struct ckpt_ctx *cc, char *err, size_t errlen);

static int train_and_emit(const wn_train_step_opts *o, struct run *r, wn_stream *s, char *err,
			  size_t errlen)
{
	char *labs = o->save_ckpt || o->from_ckpt ? labels_json(&r->L) : NULL;
	if ((o->save_ckpt || o->from_ckpt) && !labs)
		return wn_errf(err, errlen, "out of memory"), -1;
	struct ckpt_ctx cc = {o->save_ckpt ? o->save_ckpt : o->from_ckpt,
			      {r->L.v.d, o->dyn.hidden, r->L.C, o->dyn.act, labs}, s->cmd};
	int rc = train_run(o, r, s, &cc, err, errlen);
	free(labs);
	return rc;
}

static int train_run(const wn_train_step_opts *o, struct run *r, wn_stream *s,
		     struct ckpt_ctx *cc, char *err, size_t errlen)
{
	char why[512] = "";
	wn_dyn_hooks hooks = {o->io.quiet ? NULL : epoch_hook, NULL, o->save_ckpt ? save_ckpt : NULL,
			      o->from_ckpt ? load_ckpt : NULL, cc};
	if (o->save_ckpt && wn_ckpt_mkdir(o->save_ckpt, err, errlen))
		return -1;
	if (o->aum_threshold && aum_relabel(o, r, err, errlen))
		return -1;
	cc->sh.classes += o->aum_threshold != 0;
	if (wn_dyn_run(r->core, &o->dyn, r->L.v.X, r->y_fake ? r->y_fake : r->L.y, r->n_rows,
		       r->L.v.d, r->L.C + (o->aum_threshold != 0), r->holdout, &hooks, &r->sc, why,
		       sizeof why))
		return wn_errf(err, errlen, "%s: %s", wn_stream_source_name(s), why), -1;
	if (!o->io.quiet)
		fprintf(stderr, "winnow %s: %s on %lld records of dim %lld, %lld classes: %d run(s) of "
			"%lld steps, %lld evaluations; %.3f s (optimizer steps %.3f s, the rest scores)\n",
			s->cmd, o->dyn.hidden ? "mlp" : "linear", (long long)r->L.v.n, (long long)r->L.v.d,
			(long long)r->L.C, o->runs, (long long)r->sc.steps, (long long)r->sc.evaluations,
			r->sc.seconds, r->sc.step_seconds);
	if (o->save_trajectories &&
	    wn_cluster_npy_save(o->save_trajectories, r->sc.traj, r->L.v.n, r->sc.K, err, errlen))
		return -1;
	if (o->s2l_k > 0 && s2l(o, r, r->sc.traj, r->L.v.n, r->sc.K, s->cmd, err, errlen))
		return -1;
	if (o->aum_threshold && aum_flag(o, r, s->cmd, err, errlen))
		return -1;
	struct emit_ctx e = {&r->sc, r->holdout, r->cluster, r->thr, score_texts(&r->sc, r->L.v.n)};
	if (!e.txt)
		return wn_errf(err, errlen, "out of memory"), -1;
	int rc = wn_cluster_vectors_emit(&r->L.v, s, annotate, &e, err, errlen);
	free((char *)e.txt);
	return rc;
}

/* ---- --model gat: GAIS ---- */

struct gais_emit {
	const double *score;
	const unsigned char *holdout;
};

static int annotate_gais(void *ctx, int64_t i, wn_annot *a)
{
	const struct gais_emit *e = ctx;
	return set_float(a, "gais", e->score[i]) ||
	       (e->holdout && e->holdout[i] && wn_annot_set_bool(a, "holdout", 1));
}

static int gais_and_emit(const wn_train_step_opts *o, struct run *r, wn_stream *s, char *err,
			 size_t errlen)
{
	wn_gais_opts go = {o->batch, o->k, o->hidden, o->heads, o->bits, o->levels, o->views,
			   o->layers, o->epochs, o->runs, o->lr, o->weight_decay, (uint64_t)o->seed};
	char why[512] = "";
	int64_t n = r->L.v.n;
	double *score = malloc((size_t)n * sizeof *score);
	if (!score)
		return wn_errf(err, errlen, "out of memory"), -1;
	if (wn_gais_run(&go, r->L.v.X, r->L.y, n, r->L.v.d, r->L.C, r->holdout,
			o->io.quiet ? NULL : epoch_report, (void *)s->cmd, score, why, sizeof why)) {
		free(score);
		return wn_errf(err, errlen, "%s: %s", wn_stream_source_name(s), why), -1;
	}
	if (!o->io.quiet)
		fprintf(stderr, "winnow %s: gat (%d layers, %lld heads) on %lld records of dim %lld, "
			"%lld classes, %s%.0lld with %lld neighbours: %d run(s)\n", s->cmd, o->layers,
			(long long)o->heads, (long long)n, (long long)r->L.v.d, (long long)r->L.C,
			o->bits ? "lsh buckets" : "mini-batches of ", o->bits ? 0 : (long long)o->batch,
			(long long)o->k, o->runs);
	struct gais_emit e = {score, r->holdout};
	int rc = wn_cluster_vectors_emit(&r->L.v, s, annotate_gais, &e, err, errlen);
	free(score);
	return rc;
}

int wn_train_step_run(const wn_train_step_opts *o, wn_stream *s, wn_step_report *rep, char *err,
		      size_t errlen)
{
	(void)rep;
	struct run r;
	memset(&r, 0, sizeof r);
	if (o->io.threads > 0)
		omp_set_num_threads(o->io.threads);
	if (!(r.core = wn_core_open_named(o->io.device, o->io.threads, err, errlen)))
		return run_close(&r, -1);
	if (o->trajectories)
		return run_close(&r, run_trajectories(o, &r, s, err, errlen));
	if (wn_train_data_load(&r.L, s, o->field_emb, o->npy, o->label, NULL, err, errlen))
		return run_close(&r, -1);
	r.n_rows = r.L.v.n;
	/* --holdout FILE first: its labels join the classes the report lists */
	if (o->holdout_file && load_holdout_file(o, &r, s->cmd, err, errlen))
		return run_close(&r, -1);
	if (o->labels_out ? write_labels(o->labels_out, &r.L, err, errlen)
			  : (!o->io.quiet && (wn_train_data_report(&r.L, o->label, s->cmd), 0)))
		return run_close(&r, -1);
	if (!o->holdout_file && split(o, &r, s->cmd, err, errlen))
		return run_close(&r, -1);
	if (!strcmp(o->model, "gat"))
		return run_close(&r, gais_and_emit(o, &r, s, err, errlen));
	return run_close(&r, train_and_emit(o, &r, s, err, errlen));
}
