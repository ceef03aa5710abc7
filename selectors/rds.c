/*
 * selectors/rds.c — RDS+'s per-task rankings and round-robin (see
 * selectors/rds.h).
 */
#include "selectors/rds.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "io/errf.h"

#define RDS_BLOCK 4096

static void normalise_rows(float *A, int64_t n, int64_t d)
{
	for (int64_t i = 0; i < n; i++) {
		double s = 0;
		for (int64_t j = 0; j < d; j++)
			s += (double)A[i * d + j] * A[i * d + j];
		float inv = s > 0 ? (float)(1.0 / sqrt(s)) : 0.0f;
		for (int64_t j = 0; j < d; j++)
			A[i * d + j] *= inv;
	}
}

/* One ranked entry: a pool row and its score for the task. */
struct rds_ent {
	float s;
	int64_t i;
};

/* a ranks below b: lower score, then the higher pool index. */
static int worse(const struct rds_ent *a, const struct rds_ent *b)
{
	return a->s < b->s || (a->s == b->s && a->i > b->i);
}

/* One task's top D: a min-heap with the worst entry on top, so that a
 * better item replaces it. */
static void topd_push(struct rds_ent *h, int64_t *hn, int64_t D, struct rds_ent e)
{
	int64_t j;
	if (*hn < D) {
		for (j = (*hn)++; j > 0 && worse(&e, &h[(j - 1) / 2]); j = (j - 1) / 2)
			h[j] = h[(j - 1) / 2];
		h[j] = e;
		return;
	}
	if (!worse(&h[0], &e))
		return;
	for (j = 0;;) {
		int64_t l = 2 * j + 1, r = l + 1, w = j;
		const struct rds_ent *cur = &e;
		if (l < D && worse(&h[l], cur))
			w = l, cur = &h[l];
		if (r < D && worse(&h[r], cur))
			w = r;
		if (w == j)
			break;
		h[j] = h[w];
		j = w;
	}
	h[j] = e;
}

static int cmp_best_first(const void *a, const void *b)
{
	const struct rds_ent *x = a, *y = b;
	return worse(y, x) ? -1 : worse(x, y) ? 1 : 0;
}

/* The queries of each task, as one list by task (CSR). */
static int task_lists(const int64_t *task, int64_t m, int64_t T, int64_t **off, int64_t **list)
{
	*off = calloc((size_t)T + 1, sizeof(int64_t));
	*list = malloc(sizeof(int64_t) * (size_t)(m ? m : 1));
	if (!*off || !*list)
		return -1;
	for (int64_t q = 0; q < m; q++)
		(*off)[(task ? task[q] : q) + 1]++;
	for (int64_t t = 0; t < T; t++)
		(*off)[t + 1] += (*off)[t];
	int64_t *fill = malloc(sizeof(int64_t) * (size_t)(T ? T : 1));
	if (!fill)
		return -1;
	memcpy(fill, *off, sizeof(int64_t) * (size_t)T);
	for (int64_t q = 0; q < m; q++)
		(*list)[fill[task ? task[q] : q]++] = q;
	free(fill);
	return 0;
}

struct rds_job {
	wn_core *c;
	const float *Q, *X;
	int64_t m, n, d, T, D;
	const int64_t *qoff, *qlist;
	struct rds_ent *top; /* T x D: the current slice of each ranking */
	int64_t *len;        /* T */
	struct rds_ent *cursor; /* T: the last entry of the previous slice */
	int have_cursor;
};

/* Fold one block of similarities S (m x nb, pool rows b0..) into the top-D lists. */
static void fold_block(struct rds_job *j, const float *S, int64_t b0, int64_t nb, int threads)
{
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
	for (int64_t t = 0; t < j->T; t++)
		for (int64_t x = 0; x < nb; x++) {
			float best = -INFINITY;
			for (int64_t k = j->qoff[t]; k < j->qoff[t + 1]; k++) {
				float v = S[j->qlist[k] * nb + x];
				best = v > best ? v : best;
			}
			struct rds_ent e = {best, b0 + x};
			if (!j->have_cursor || worse(&e, &j->cursor[t]))
				topd_push(j->top + t * j->D, &j->len[t], j->D, e);
		}
}

#define CORE_CK(call) do { if ((call) != 0) { wn_errf(err, errlen, "%s", wn_core_error(j->c)); goto done; } } while (0)

/* Every task's next D entries after its cursor (the first D without one), best first. */
static int rank_tasks(struct rds_job *j, char *err, size_t errlen)
{
	/* pool rows a block: at most RDS_BLOCK, and the m x B scores at most 2^24 floats */
	int64_t B = j->n < RDS_BLOCK ? j->n : RDS_BLOCK;
	if (B > ((int64_t)1 << 24) / j->m)
		B = ((int64_t)1 << 24) / j->m > 0 ? ((int64_t)1 << 24) / j->m : 1;
	float *Qd = wn_core_alloc(j->c, (size_t)(j->m * j->d));
	float *Xd = wn_core_alloc(j->c, (size_t)(B * j->d));
	float *Sd = wn_core_alloc(j->c, (size_t)(j->m * B));
	float *S = malloc(sizeof(float) * (size_t)(j->m * B));
	int rc = -1, threads = wn_core_threads(j->c);
	memset(j->len, 0, sizeof(int64_t) * (size_t)j->T);
	if (!Qd || !Xd || !Sd || !S) {
		wn_errf(err, errlen, "out of memory for the similarities (%lld x %lld floats)",
			(long long)j->m, (long long)B);
		goto done;
	}
	CORE_CK(wn_core_upload(j->c, Qd, j->Q, sizeof(float) * (size_t)(j->m * j->d)));
	for (int64_t b0 = 0; b0 < j->n; b0 += B) {
		int64_t nb = j->n - b0 < B ? j->n - b0 : B;
		CORE_CK(wn_core_upload(j->c, Xd, j->X + b0 * j->d, sizeof(float) * (size_t)(nb * j->d)));
		CORE_CK(wn_core_gemm(j->c, 0, 1, j->m, nb, j->d, 1.0f, Qd, j->d, Xd, j->d, 0.0f, Sd, nb));
		CORE_CK(wn_core_download(j->c, S, Sd, sizeof(float) * (size_t)(j->m * nb)));
		fold_block(j, S, b0, nb, threads > 0 ? threads : omp_get_max_threads());
	}
	for (int64_t t = 0; t < j->T; t++)
		qsort(j->top + t * j->D, (size_t)j->len[t], sizeof(struct rds_ent), cmp_best_first);
	rc = 0;
done:
	wn_core_free(j->c, Qd);
	wn_core_free(j->c, Xd);
	wn_core_free(j->c, Sd);
	free(S);
	return rc;
}

/* The round-robin state across slices of the rankings. */
struct rds_rr {
	int64_t k, r;        /* picks so far; the next round */
	unsigned char *sel;  /* n */
};

/*
 * Go on with the rounds of the current slice (ranks base .. base + D).
 * Returns 1 when the slice ran out before the budget and the pool did.
 */
static int round_robin(const struct rds_job *j, int64_t base, int64_t budget,
		       struct rds_rr *st, wn_rds_pick *out)
{
	for (; st->k < budget && st->r < j->n; st->r++) {
		if (st->r >= base + j->D)
			return 1;
		for (int64_t t = 0; t < j->T && st->k < budget; t++) {
			if (st->r - base >= j->len[t])
				continue;
			const struct rds_ent *e = &j->top[t * j->D + (st->r - base)];
			if (st->sel[e->i])
				continue;
			st->sel[e->i] = 1;
			out[st->k++] = (wn_rds_pick){e->i, t, st->r, e->s};
		}
	}
	return 0;
}

/* Depth of a slice: enough for the budget without waste, bounded in memory. */
#define RDS_MAX_ENTRIES ((int64_t)1 << 24)

static int64_t slice_depth(int64_t budget, int64_t T, int64_t n)
{
	int64_t D = 2 * ((budget + T - 1) / T);
	D = D < 32 ? 32 : D;
	if (D > RDS_MAX_ENTRIES / T)
		D = RDS_MAX_ENTRIES / T > 1 ? RDS_MAX_ENTRIES / T : 1;
	return D < n ? D : n;
}

int wn_rds_select(wn_core *c, float *Q, int64_t m, const int64_t *task, int64_t ntasks,
		  float *X, int64_t n, int64_t d, int64_t budget, wn_rds_pick *out,
		  int64_t *npick, char *err, size_t errlen)
{
	int64_t T = task ? ntasks : m;
	*npick = 0;
	if (m < 1 || n < 1 || d < 1 || T < 1 || budget < 1)
		return wn_errf(err, errlen, "an empty target or pool, or a budget < 1"), -1;
	normalise_rows(Q, m, d);
	normalise_rows(X, n, d);
	struct rds_job j = {c, Q, X, m, n, d, T, slice_depth(budget, T, n), NULL, NULL, NULL, NULL, NULL, 0};
	int64_t *qoff = NULL, *qlist = NULL;
	struct rds_rr st = {0, 0, calloc((size_t)n, 1)};
	j.top = malloc(sizeof(struct rds_ent) * (size_t)(T * j.D));
	j.len = malloc(sizeof(int64_t) * (size_t)T);
	j.cursor = malloc(sizeof(struct rds_ent) * (size_t)T);
	int rc = task_lists(task, m, T, &qoff, &qlist) || !st.sel || !j.top || !j.len || !j.cursor ? -1 : 0;
	if (rc)
		wn_errf(err, errlen, "out of memory for %lld x %lld rankings", (long long)T, (long long)j.D);
	j.qoff = qoff;
	j.qlist = qlist;
	for (int64_t base = 0, more = 1; rc == 0 && more; base += j.D) {
		rc = rank_tasks(&j, err, errlen);
		more = rc == 0 && round_robin(&j, base, budget, &st, out);
		for (int64_t t = 0; more && t < T; t++)
			j.cursor[t] = j.top[t * j.D + j.len[t] - 1];
		j.have_cursor = 1;
	}
	*npick = st.k;
	free(j.top);
	free(j.len);
	free(j.cursor);
	free(qoff);
	free(qlist);
	free(st.sel);
	return rc;
}
