/*
 * cmd/select_cluster.c — `winnow select prototypes` and `winnow select dbp`
 * (issue 20): selection over clustered records by each record's cosine
 * distance to its own spherical centroid. Usage and option tables only;
 * the steps are selectors/prototypes_step.c and selectors/dbp_step.c.
 */
#include "cmd/common.h"
#include "selectors/dbp_step.h"
#include "selectors/prototypes_step.h"

static const char *const prototypes_usage[] = {
	"winnow select prototypes --keep-frac F [--keep hard|easy] [--per-cluster] [file...]",
	"",
	"SSL prototypes (Sorscher et al. 2022): keep the records farthest from their cluster's prototype.",
	"score_i = 1 - cos(x_i, c_j), c_j the spherical centroid of the record's cluster j (winnow.cluster):",
	"the normalised mean of its members' unit vectors (winnow.emb), or row j of --centroids. Keeps",
	"floor(F n) records of largest score (--keep easy: smallest; hard suits abundant data, easy",
	"scarce data), or floor(F |C_j|) of each cluster with --per-cluster; ties to the earlier record.",
	"Kept records are written in input order with winnow.proto_dist = score_i.",
	"",
	"winnow cluster kmeans -k 100 --spherical emb.jsonl | winnow select prototypes --keep-frac 0.5",
	"winnow select prototypes --keep-frac 0.3 --keep easy --per-cluster --centroids c.npy clustered.jsonl",
	NULL,
};

static const char *const dbp_usage[] = {
	"winnow select dbp --keep-frac F [--temperature 0.5] [--neighbours 20] [--balance 0.5] [file...]",
	"",
	"Density-Based Pruning (Abbas et al. 2024): per-cluster quotas by cluster complexity, then each",
	"cluster's hardest records. d_intra(j) = mean cosine distance of cluster j's members to its",
	"spherical centroid; d_inter(j) = mean (1 - cos) to the --neighbours nearest other centroids",
	"(of the clusters present, or of every row of --centroids as the reference's index);",
	"C_j = d_inter d_intra (NaN -> mean); P = softmax(C / T); quotas x = the Euclidean projection of",
	"M P onto {sum x = M, lb_j <= x_j <= |C_j|}, M = floor(F n), lb_j = min(floor(M/k balance), |C_j|-1),",
	"solved exactly by water-filling and rounded half to even, so the quotas sum to M (the reference,",
	"amro-kamal/effective_pruning, uses a QP solver and np.rint, which can miss M; --balance 0 is its",
	"min_samples 1). Keeps each cluster's x_j records of largest distance (--keep easy: smallest),",
	"ties to the earlier record, in input order with winnow.dbp_dist; --stats has every cluster's numbers.",
	"",
	"winnow cluster kmeans -k 1000 --spherical emb.jsonl | winnow select dbp --keep-frac 0.3",
	NULL,
};

#define PROTO_IN_OPTIONS(in)                                                                   \
	OPT_DOUBLE(0, "keep-frac", &(in)->keep_frac, "F", "fraction of the records to keep (required, 0 < F <= 1)"), \
	OPT_STRING(0, "keep", &(in)->keep, "X", "hard (default: the farthest from the centroid) or easy"), \
	OPT_STRING(0, "centroids", &(in)->centroids, "FILE", "centroids (.npy, row j = cluster j; default: from the members)"), \
	OPT_STRING(0, "field-emb", &(in)->field_emb, "PATH", "vector member (default: winnow.emb)"), \
	OPT_STRING(0, "field-cluster", &(in)->field_cluster, "PATH", "cluster id member (default: winnow.cluster)"), \
	OPT_STRING(0, "stats", &(in)->stats, "FILE", "write the counts (dbp: every cluster's numbers) as JSON")

static void prototypes_options(void *p, struct wn_option *t)
{
	wn_prototypes_opts *o = p;
	WN_STEP_TABLE(t,
		OPT_GROUP("Prototypes"),
		PROTO_IN_OPTIONS(&o->in),
		OPT_BOOL(0, "per-cluster", &o->per_cluster, "keep the fraction of every cluster (default: globally)"),
		WN_STREAM_OPTIONS(&o->io));
}

static void dbp_options(void *p, struct wn_option *t)
{
	wn_dbp_opts *o = p;
	WN_STEP_TABLE(t,
		OPT_GROUP("Density-based pruning"),
		PROTO_IN_OPTIONS(&o->in),
		OPT_DOUBLE(0, "temperature", &o->temperature, "T", "softmax temperature (default 0.5)"),
		OPT_INT(0, "neighbours", &o->neighbours, "K", "nearest other centroids in d_inter (default 20)"),
		OPT_DOUBLE(0, "balance", &o->balance, "B", "lower bound share, 0..1 (default 0.5, the reference's cls_bal_ratio)"),
		WN_STREAM_OPTIONS(&o->io));
}

static void prototypes_init(void *p) { wn_prototypes_init(p); }
static void dbp_init(void *p) { wn_dbp_init(p); }
static int prototypes_check(void *p, int *npos, const char **pos, char *err, size_t n) { return wn_prototypes_check(p, err, n); }
static int dbp_check(void *p, int *npos, const char **pos, char *err, size_t n) { return wn_dbp_check(p, err, n); }
static int prototypes_run(void *p, wn_stream *s, wn_step_report *r, char *err, size_t n) { return wn_prototypes_run(p, s, r, err, n); }
static int dbp_run(void *p, wn_stream *s, wn_step_report *r, char *err, size_t n) { return wn_dbp_run(p, s, r, err, n); }

const wn_step wn_step_select_prototypes = {"select prototypes", prototypes_usage, sizeof(wn_prototypes_opts),
					   WN_STEP_WHOLE, prototypes_init, prototypes_options,
					   prototypes_check, prototypes_run, NULL};
const wn_step wn_step_select_dbp = {"select dbp", dbp_usage, sizeof(wn_dbp_opts), WN_STEP_WHOLE,
				    dbp_init, dbp_options, dbp_check, dbp_run, NULL};
