/*
 * cmd/cluster.c — `winnow cluster kmeans|hkmeans|graph`: cluster records by
 * their vectors and annotate each with its cluster.
 *
 * Wiring only: records are read once, their bytes spooled to an unlinked
 * temporary file and their vectors (winnow.emb, or the rows of --npy) kept
 * in memory; the library (cluster/kmeans.h, hkmeans.h, graph.h) clusters
 * the matrix; then the records are written back in input order with
 * winnow.cluster + winnow.dist, winnow.hcluster, or winnow.component
 * spliced in. Sizes and inertia go to stderr and, as JSON, to --stats.
 * Borrows: cmd/common.h (stream, policy, core), io/ (vectors, annotations),
 * cluster/ (the algorithms), embed/npy.h (.npy in and out), cJSON (--stats).
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster/graph.h"
#include "cluster/hkmeans.h"
#include "cluster/kmeans.h"
#include "cmd/common.h"
#include "embed/npy.h"

#define MAX_DIM 65536

static const char *const cluster_usage[] = {
	"winnow cluster <kmeans|hkmeans|graph> [options] [file...]",
	"",
	"Cluster records by their vectors (winnow.emb, or the rows of --npy) and annotate each:",
	"  kmeans   winnow.cluster and winnow.dist (FAISS on the CPU, the compute core on CUDA)",
	"  hkmeans  winnow.hcluster: the cluster id at each level of a hierarchical k-means",
	"  graph    winnow.component: connected components of the kNN graph with cos >= T",
	"",
	"winnow embed < docs.jsonl | winnow cluster kmeans -k 1000 > clustered.jsonl",
	"winnow cluster hkmeans --levels 2000,200,20 embedded.jsonl.zst",
	"winnow cluster graph --threshold 0.92 --knn 20 embedded.jsonl",
	NULL,
};

static const char *const kmeans_usage[] = {
	"winnow cluster kmeans -k K [options] [file...]",
	"",
	"Train K centroids (or reuse --centroids) and annotate every record with winnow.cluster",
	"(its centroid's index) and winnow.dist (Euclidean distance, or cosine distance with",
	"--spherical). Cluster sizes and inertia go to stderr and to --stats FILE as JSON.",
	"",
	"winnow cluster kmeans -k 1000 --seed 7 --centroids-out today.npy < emb.jsonl > out.jsonl",
	"winnow cluster kmeans --centroids yesterday.npy < emb.jsonl > out.jsonl   # stable ids",
	"winnow cluster kmeans -k 50 --npy vectors.npy --stats km.json docs.jsonl",
	NULL,
};

static const char *const hkmeans_usage[] = {
	"winnow cluster hkmeans --levels K1,K2,... [options] [file...]",
	"",
	"Hierarchical k-means (Vo et al. 2024): level 1 clusters the vectors into K1, each further",
	"level clusters the previous level's centroids. Annotates winnow.hcluster: [id1, id2, ...].",
	"",
	"winnow cluster hkmeans --levels 2000,200,20 --seed 1 < emb.jsonl > out.jsonl",
	NULL,
};

static const char *const graph_usage[] = {
	"winnow cluster graph --threshold T [options] [file...]",
	"",
	"Search each vector's --knn nearest neighbours by cosine (FAISS flat index up to",
	"--hnsw-above vectors, HNSW beyond; brute force on CUDA), keep edges with cos >= T and",
	"annotate winnow.component: components numbered by their first record (0, 1, ...).",
	"Exact at T: a vector whose K-th neighbour still passes T is searched again with 2K, 4K...",
	"",
	"winnow cluster graph --threshold 0.95 --knn 10 < emb.jsonl > out.jsonl",
	NULL,
};

/* Options every subcommand shares. */
struct vec_opts {
	const char *npy;
	const char *field_emb;
	const char *stats;
	const char *engine;
};

#define VEC_OPTIONS(vo)                                                                       \
	OPT_GROUP("Vectors"),                                                                 \
	OPT_STRING(0, "field-emb", &(vo)->field_emb, "PATH", "vector member (default: winnow.emb)"), \
	OPT_STRING(0, "npy", &(vo)->npy, "FILE", "vectors from a float32 .npy, one row per record"), \
	OPT_STRING(0, "stats", &(vo)->stats, "FILE", "write sizes and inertia as JSON to FILE"), \
	OPT_STRING(0, "engine", &(vo)->engine, "E", "auto (default: the core on CUDA, else FAISS), faiss or core")

/* A whole .npy as a malloc'd rows x cols float32 matrix. */
static int npy_load(const char *path, float **out, int64_t *rows, int64_t *cols, char *err,
		    size_t errlen)
{
	*out = NULL;
	wn_embed_npy_reader *r = wn_embed_npy_open(path, err, errlen);
	if (!r)
		return -1;
	const wn_embed_npy_info *info = wn_embed_npy_reader_info(r);
	*rows = info->rows;
	*cols = info->cols;
	float *m = malloc(sizeof(float) * (size_t)(info->rows ? info->rows : 1) * (size_t)(info->cols ? info->cols : 1));
	int64_t got = m ? wn_embed_npy_read(r, m, info->rows, err, errlen) : -1;
	if (!m)
		snprintf(err, errlen, "%s: out of memory for %lld x %lld", path, (long long)info->rows,
			 (long long)info->cols);
	wn_embed_npy_close(r);
	if (got != *rows) {
		if (got >= 0)
			snprintf(err, errlen, "%s: %lld of %lld rows read", path, (long long)got, (long long)*rows);
		free(m);
		return -1;
	}
	*out = m;
	return 0;
}

static int npy_save(const char *path, const float *m, int64_t rows, int64_t cols, char *err,
		    size_t errlen)
{
	wn_embed_npy_writer *w = wn_embed_npy_create(path, WN_EMBED_NPY_F32, cols, err, errlen);
	if (!w)
		return -1;
	if (wn_embed_npy_write(w, m, rows, err, errlen)) {
		wn_embed_npy_abort(w);
		return -1;
	}
	return wn_embed_npy_commit(w, err, errlen);
}

/* The records, spooled: bytes in an unlinked temporary file, vectors in memory. */
struct spool {
	FILE *f;
	uint64_t *off;
	size_t *len;
	uint64_t *line;
	const char **file;
	int64_t n, cap;
	float *X;
	int64_t d;
	wn_buf rec;
};

static int spool_open(struct spool *sp)
{
	memset(sp, 0, sizeof *sp);
	const char *dir = getenv("TMPDIR");
	char path[4096];
	snprintf(path, sizeof path, "%s/winnow-cluster.XXXXXX", dir && *dir ? dir : "/tmp");
	int fd = mkstemp(path);
	if (fd < 0)
		return -1;
	unlink(path); /* gone when we exit, however we exit */
	sp->f = fdopen(fd, "w+b");
	if (!sp->f) {
		close(fd);
		return -1;
	}
	return 0;
}

static void spool_close(struct spool *sp)
{
	if (sp->f)
		fclose(sp->f);
	free(sp->off);
	free(sp->len);
	free(sp->line);
	free(sp->file);
	free(sp->X);
	wn_buf_free(&sp->rec);
	memset(sp, 0, sizeof *sp);
}

static int spool_grow(struct spool *sp, int64_t d)
{
	int64_t cap = sp->cap ? sp->cap * 2 : 4096;
	uint64_t *off = realloc(sp->off, sizeof *off * (size_t)cap);
	if (off)
		sp->off = off;
	size_t *len = realloc(sp->len, sizeof *len * (size_t)cap);
	if (len)
		sp->len = len;
	uint64_t *line = realloc(sp->line, sizeof *line * (size_t)cap);
	if (line)
		sp->line = line;
	const char **file = realloc(sp->file, sizeof *file * (size_t)cap);
	if (file)
		sp->file = file;
	float *X = d ? realloc(sp->X, sizeof(float) * (size_t)cap * (size_t)d) : sp->X;
	if (X)
		sp->X = X;
	if (!off || !len || !line || !file || (d && !X))
		return -1;
	sp->cap = cap;
	return 0;
}

static int spool_add(struct spool *sp, const wn_record *rec, const float *v)
{
	if (sp->n == sp->cap && spool_grow(sp, sp->d))
		return -1;
	long pos = ftell(sp->f);
	if (pos < 0 || fwrite(rec->json.p, 1, rec->json.n, sp->f) != rec->json.n)
		return -1;
	sp->off[sp->n] = (uint64_t)pos;
	sp->len[sp->n] = rec->json.n;
	sp->line[sp->n] = rec->line;
	sp->file[sp->n] = rec->file;
	if (v)
		memcpy(sp->X + (size_t)sp->n * (size_t)sp->d, v, sizeof(float) * (size_t)sp->d);
	sp->n++;
	return 0;
}

/* Record i back from the spool (valid until the next call). */
static int spool_get(struct spool *sp, int64_t i, wn_record *rec)
{
	wn_buf_reset(&sp->rec);
	if (wn_buf_reserve(&sp->rec, sp->len[i] + 1))
		return -1;
	if (pread(fileno(sp->f), sp->rec.data, sp->len[i], (off_t)sp->off[i]) != (ssize_t)sp->len[i])
		return -1;
	sp->rec.len = sp->len[i];
	rec->json.p = sp->rec.data;
	rec->json.n = sp->len[i];
	rec->file = sp->file[i];
	rec->line = sp->line[i];
	rec->index = (uint64_t)i;
	return 0;
}

/* The name to put in messages about the whole input. */
static const char *input_name(int argc, const char **argv)
{
	if (argc == 0 || !strcmp(argv[0], "-"))
		return "<stdin>";
	return argv[0];
}

/*
 * Read every record: spool it, and take its vector from --field-emb (bad or
 * mismatched vectors are rejected under --on-error). Returns 0 or -1
 * (reported; s->failed set when the policy stopped the run).
 */
static int load_records(wn_stream *s, const struct vec_opts *vo, struct spool *sp)
{
	float *v = vo->npy ? NULL : malloc(sizeof(float) * MAX_DIM);
	if (!vo->npy && !v) {
		wn_cmd_error(s->cmd, "out of memory");
		return -1;
	}
	uint64_t first_line = 0;
	const char *first_file = NULL;
	wn_record rec;
	int r;
	while ((r = wn_stream_next(s, &rec)) > 0) {
		if (v) {
			wn_span val;
			char err[256];
			int dim = 0;
			if (!wn_json_get(rec.json, vo->field_emb, &val)) {
				if (wn_stream_reject(s, &rec, "no vector at %s", vo->field_emb))
					break;
				continue;
			}
			if (wn_vec_parse(val, v, MAX_DIM, &dim, err, sizeof err) || dim == 0) {
				if (wn_stream_reject(s, &rec, "%s: %s", vo->field_emb,
						     dim == 0 && !err[0] ? "empty vector" : err))
					break;
				continue;
			}
			if (sp->d == 0) {
				sp->d = dim;
				first_line = rec.line;
				first_file = rec.file;
			} else if (dim != sp->d) {
				if (wn_stream_reject(s, &rec, "%s has dimension %d, expected %lld (as at %s:%llu)",
						     vo->field_emb, dim, (long long)sp->d, first_file,
						     (unsigned long long)first_line))
					break;
				continue;
			}
		}
		if (spool_add(sp, &rec, v)) {
			wn_cmd_error(s->cmd, "cannot spool records: %s", strerror(errno));
			s->failed = 1;
			break;
		}
	}
	free(v);
	if (r < 0)
		s->failed = 1;
	if (!s->failed && fflush(sp->f)) {
		wn_cmd_error(s->cmd, "cannot spool records: %s", strerror(errno));
		s->failed = 1;
	}
	return s->failed ? -1 : 0;
}

/*
 * --npy: row i is the vector of record i. Rows with NaN/Inf reject their
 * record under --on-error (then the record and its row are dropped).
 */
static int load_npy(wn_stream *s, const struct vec_opts *vo, struct spool *sp)
{
	char err[512];
	float *M;
	int64_t rows, cols;
	if (npy_load(vo->npy, &M, &rows, &cols, err, sizeof err)) {
		wn_cmd_error(s->cmd, "%s", err);
		return -1;
	}
	if (rows != sp->n || cols < 1) {
		wn_cmd_error(s->cmd, "%s: %lld rows of dimension %lld for %lld records", vo->npy,
			     (long long)rows, (long long)cols, (long long)sp->n);
		free(M);
		return -1;
	}
	int64_t o = 0;
	for (int64_t i = 0; i < rows; i++) {
		const float *row = M + (size_t)i * (size_t)cols;
		int64_t bad = -1;
		for (int64_t t = 0; t < cols && bad < 0; t++)
			if (!isfinite(row[t]))
				bad = t;
		if (bad >= 0) {
			wn_record rec;
			if (spool_get(sp, i, &rec) ||
			    wn_stream_reject(s, &rec, "%s: row %lld: element %lld is not finite", vo->npy,
					     (long long)i, (long long)bad)) {
				s->failed = 1;
				free(M);
				return -1;
			}
			continue;
		}
		/* compact rows and spool entries in place (o <= i) */
		memmove(M + (size_t)o * (size_t)cols, row, sizeof(float) * (size_t)cols);
		sp->off[o] = sp->off[i];
		sp->len[o] = sp->len[i];
		sp->line[o] = sp->line[i];
		sp->file[o] = sp->file[i];
		o++;
	}
	sp->n = o;
	sp->d = cols;
	free(sp->X);
	sp->X = M;
	return 0;
}

/* Shortest decimal that reads back as the same float (JSON number). */
static void put_float(char *buf, size_t n, float v)
{
	for (int p = 6; p <= 9; p++) {
		snprintf(buf, n, "%.*g", p, (double)v);
		if (strtof(buf, NULL) == v)
			return;
	}
}

/* Write the spooled records in input order; annotate(i) fills s->annot. */
typedef int (*annotate_fn)(void *ctx, int64_t i, wn_annot *a);

static int emit_all(wn_stream *s, struct spool *sp, annotate_fn fn, void *ctx)
{
	for (int64_t i = 0; i < sp->n; i++) {
		wn_record rec;
		if (spool_get(sp, i, &rec)) {
			wn_cmd_error(s->cmd, "cannot read the spool back: %s", strerror(errno));
			return -1;
		}
		wn_annot_clear(&s->annot);
		if (fn(ctx, i, &s->annot)) {
			wn_cmd_error(s->cmd, "out of memory");
			return -1;
		}
		if (wn_stream_emit(s, &rec, &s->annot))
			return -1;
	}
	return 0;
}

/* --stats FILE: the JSON document, written atomically. */
static int write_stats(const char *cmd, const char *path, cJSON *doc)
{
	char *text = cJSON_PrintUnformatted(doc);
	char err[512];
	int rc = -1;
	if (!text) {
		wn_cmd_error(cmd, "out of memory");
		return -1;
	}
	wn_writer *w = wn_writer_open(path, 0, err, sizeof err);
	if (w && !wn_writer_line(w, text, strlen(text)) && !wn_writer_commit(w, err, sizeof err))
		rc = 0;
	else if (w)
		wn_writer_abort(w);
	if (rc)
		wn_cmd_error(cmd, "%s: %s", path, err);
	free(text);
	return rc;
}

static cJSON *int_array(const int64_t *v, int64_t n)
{
	cJSON *a = cJSON_CreateArray();
	for (int64_t i = 0; a && i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateNumber((double)v[i]));
	return a;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* "min 3, median 40, max 812, empty 0" for a size table. */
static void size_summary(const int64_t *sizes, int64_t k, char *buf, size_t n)
{
	int64_t *c = malloc(sizeof(int64_t) * (size_t)(k ? k : 1));
	if (!c || k == 0) {
		snprintf(buf, n, "no clusters");
		free(c);
		return;
	}
	memcpy(c, sizes, sizeof(int64_t) * (size_t)k);
	qsort(c, (size_t)k, sizeof *c, cmp_i64);
	int64_t empty = 0;
	for (int64_t i = 0; i < k; i++)
		empty += c[i] == 0;
	snprintf(buf, n, "sizes min %lld, median %lld, max %lld, empty %lld", (long long)c[0],
		 (long long)c[k / 2], (long long)c[k - 1], (long long)empty);
	free(c);
}

/* Everything the three subcommands do around their computation. */
struct run {
	const char *cmd;
	struct wn_common co;
	struct vec_opts vo;
	wn_stream s;
	struct spool sp;
	wn_core *core;
	int engine;
	int stream_open;
};

/* After option parsing: check --engine (a usage error exits 2). */
static void run_engine(struct run *r, const char *const *usage)
{
	r->engine = wn_cluster_parse_engine(r->vo.engine);
	if (r->engine < 0)
		wn_usage_error(usage, r->cmd, "unknown --engine '%s' (auto, faiss or core)", r->vo.engine);
}

/* Open the core (unless FAISS was asked for by name), the streams, and load
 * every record and vector. Returns 0, or 1 after reporting. */
static int run_open(struct run *r, int argc, const char **argv)
{
	int need_core = r->engine != WN_CLUSTER_ENGINE_FAISS;
	if (r->co.threads > 0)
		omp_set_num_threads(r->co.threads);
	if (spool_open(&r->sp)) {
		wn_cmd_error(r->cmd, "cannot create a temporary file: %s", strerror(errno));
		return 1;
	}
	if (need_core && !(r->core = wn_common_core_open(r->cmd, &r->co)))
		return 1;
	if (wn_stream_open(&r->s, r->cmd, &r->co, argc, argv))
		return 1;
	r->stream_open = 1;
	if (load_records(&r->s, &r->vo, &r->sp))
		return 1;
	if (r->vo.npy && load_npy(&r->s, &r->vo, &r->sp))
		return 1;
	return 0;
}

static int run_close(struct run *r, int ok)
{
	int rc = r->stream_open ? wn_stream_finish(&r->s, ok) : (ok ? 0 : 1);
	spool_close(&r->sp);
	if (r->core)
		wn_core_close(r->core);
	return rc;
}

/* ---- kmeans ------------------------------------------------------------ */

static int annotate_kmeans(void *ctx, int64_t i, wn_annot *a)
{
	const wn_cluster_kmeans_result *res = ctx;
	char num[32];
	put_float(num, sizeof num, res->dist[i]);
	return wn_annot_set_int(a, "cluster", res->assign[i]) ||
	       wn_annot_set_raw(a, "dist", num, strlen(num));
}

static cJSON *kmeans_stats(const wn_cluster_kmeans_result *res, const wn_cluster_kmeans_opts *o,
			   const char *centroids_in)
{
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "command", "cluster kmeans");
	cJSON_AddNumberToObject(j, "n", (double)res->n);
	cJSON_AddNumberToObject(j, "dim", (double)res->d);
	cJSON_AddNumberToObject(j, "k", (double)res->k);
	cJSON_AddStringToObject(j, "engine", wn_cluster_engine_name(res->engine));
	cJSON_AddBoolToObject(j, "spherical", o->spherical);
	if (centroids_in) {
		cJSON_AddStringToObject(j, "centroids", centroids_in);
	} else {
		cJSON_AddNumberToObject(j, "niter", o->niter);
		cJSON_AddNumberToObject(j, "seed", (double)o->seed);
		cJSON_AddNumberToObject(j, "n_train", (double)res->n_train);
		cJSON *obj = cJSON_AddArrayToObject(j, "objective_per_iter");
		for (int i = 0; obj && i < res->niter; i++)
			cJSON_AddItemToArray(obj, cJSON_CreateNumber(res->obj_per_iter[i]));
	}
	cJSON_AddNumberToObject(j, "inertia", res->inertia);
	cJSON_AddNumberToObject(j, "train_seconds", res->train_seconds);
	cJSON_AddNumberToObject(j, "assign_seconds", res->assign_seconds);
	cJSON_AddNumberToObject(j, "train_cpu_seconds", res->train_cpu_seconds);
	cJSON_AddNumberToObject(j, "assign_cpu_seconds", res->assign_cpu_seconds);
	cJSON_AddItemToObject(j, "sizes", int_array(res->sizes, res->k));
	return j;
}

static int cluster_kmeans(int argc, const char **argv)
{
	struct run r = {.cmd = "cluster kmeans", .co = WN_COMMON_INIT,
			.vo = {NULL, "winnow.emb", NULL, "auto"}};
	wn_cluster_kmeans_opts ko = WN_CLUSTER_KMEANS_OPTS_INIT;
	int64_t seed = 0;
	const char *cent_in = NULL, *cent_out = NULL;
	struct wn_option opts[] = {
		OPT_GROUP("k-means"),
		OPT_INT64('k', NULL, &ko.k, "K", "number of clusters"),
		OPT_INT(0, "niter", &ko.niter, "N", "Lloyd iterations (default 25)"),
		OPT_INT64(0, "seed", &seed, "S", "random seed (default 0)"),
		OPT_BOOL(0, "spherical", &ko.spherical, "cosine k-means: unit centroids, nearest by inner product"),
		OPT_INT64(0, "max-train", &ko.max_train, "N", "train on a uniform sample of N vectors, then assign all"),
		OPT_STRING(0, "centroids", &cent_in, "FILE", "reuse these centroids (.npy, k x dim): assign only"),
		OPT_STRING(0, "centroids-out", &cent_out, "FILE", "write the centroids to FILE (.npy)"),
		VEC_OPTIONS(&r.vo),
		WN_COMMON_STREAM_OPTIONS(&r.co),
		WN_COMMON_COMPUTE_OPTIONS(&r.co),
		OPT_END(),
	};
	argc = wn_parse_options(argc, argv, opts, kmeans_usage);
	run_engine(&r, kmeans_usage);
	if (!cent_in && ko.k < 1)
		wn_usage_error(kmeans_usage, r.cmd, "-k K is required (K >= 1), or --centroids FILE");
	if (ko.niter < 1)
		wn_usage_error(kmeans_usage, r.cmd, "--niter must be at least 1");
	if (seed < 0 || ko.max_train < 0)
		wn_usage_error(kmeans_usage, r.cmd, "--seed and --max-train must not be negative");
	ko.seed = (uint64_t)seed;
	if (run_open(&r, argc, argv))
		return run_close(&r, 0);
	ko.engine = r.engine;

	float *C = NULL;
	int64_t kc = 0, dc = 0;
	char err[512];
	if (cent_in) {
		if (npy_load(cent_in, &C, &kc, &dc, err, sizeof err)) {
			wn_cmd_error(r.cmd, "%s", err);
			return run_close(&r, 0);
		}
		if (r.sp.n > 0 && dc != r.sp.d) {
			wn_cmd_error(r.cmd, "%s: centroids have dimension %lld, the vectors %lld", cent_in,
				     (long long)dc, (long long)r.sp.d);
			free(C);
			return run_close(&r, 0);
		}
	}
	wn_cluster_kmeans_result res;
	if (r.sp.n == 0 && cent_in) { /* nothing to assign: an empty output */
		free(C);
		return run_close(&r, 1);
	}
	if (wn_cluster_kmeans_run(r.core, &ko, r.sp.X, r.sp.n, r.sp.d, C, kc, &res, err, sizeof err)) {
		wn_cmd_error(r.cmd, "%s: %s", input_name(argc, argv), err);
		free(C);
		return run_close(&r, 0);
	}
	free(C);
	int ok = 1;
	if (cent_out && npy_save(cent_out, res.centroids, res.k, res.d, err, sizeof err)) {
		wn_cmd_error(r.cmd, "%s", err);
		ok = 0;
	}
	if (ok && r.vo.stats) {
		cJSON *j = kmeans_stats(&res, &ko, cent_in);
		ok = j && !write_stats(r.cmd, r.vo.stats, j);
		cJSON_Delete(j);
	}
	if (!r.co.quiet) {
		char sz[160];
		size_summary(res.sizes, res.k, sz, sizeof sz);
		fprintf(stderr, "winnow %s: k %lld on %lld vectors of dim %lld (%s%s): inertia %.6g; %s\n",
			r.cmd, (long long)res.k, (long long)res.n, (long long)res.d,
			wn_cluster_engine_name(res.engine), cent_in ? ", given centroids" : "", res.inertia, sz);
	}
	if (ok && emit_all(&r.s, &r.sp, annotate_kmeans, &res))
		ok = 0;
	wn_cluster_kmeans_result_free(&res);
	return run_close(&r, ok);
}

/* ---- hkmeans ----------------------------------------------------------- */

static int annotate_hkmeans(void *ctx, int64_t i, wn_annot *a)
{
	const wn_cluster_hkmeans_result *h = ctx;
	char buf[16 * (WN_CLUSTER_HKMEANS_MAX_LEVELS + 1)];
	size_t n = 0;
	buf[n++] = '[';
	for (int l = 0; l < h->levels; l++)
		n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%d", l ? "," : "",
				      h->assign[(size_t)i * (size_t)h->levels + (size_t)l]);
	buf[n++] = ']';
	return wn_annot_set_raw(a, "hcluster", buf, n);
}

static int cluster_hkmeans(int argc, const char **argv)
{
	struct run r = {.cmd = "cluster hkmeans", .co = WN_COMMON_INIT,
			.vo = {NULL, "winnow.emb", NULL, "auto"}};
	wn_cluster_kmeans_opts ko = WN_CLUSTER_KMEANS_OPTS_INIT;
	int64_t seed = 0;
	const char *levels = NULL;
	struct wn_option opts[] = {
		OPT_GROUP("Hierarchical k-means"),
		OPT_STRING(0, "levels", &levels, "K1,K2,..", "clusters per level, e.g. 2000,200,20"),
		OPT_INT(0, "niter", &ko.niter, "N", "Lloyd iterations per level (default 25)"),
		OPT_INT64(0, "seed", &seed, "S", "random seed (default 0)"),
		OPT_BOOL(0, "spherical", &ko.spherical, "cosine k-means at every level"),
		OPT_INT64(0, "max-train", &ko.max_train, "N", "train level 1 on a uniform sample of N vectors"),
		VEC_OPTIONS(&r.vo),
		WN_COMMON_STREAM_OPTIONS(&r.co),
		WN_COMMON_COMPUTE_OPTIONS(&r.co),
		OPT_END(),
	};
	argc = wn_parse_options(argc, argv, opts, hkmeans_usage);
	run_engine(&r, hkmeans_usage);
	int64_t ks[WN_CLUSTER_HKMEANS_MAX_LEVELS];
	char err[512];
	int nl = wn_cluster_parse_levels(levels, ks, WN_CLUSTER_HKMEANS_MAX_LEVELS, err, sizeof err);
	if (nl < 0)
		wn_usage_error(hkmeans_usage, r.cmd, "%s", err);
	if (ko.niter < 1 || seed < 0 || ko.max_train < 0)
		wn_usage_error(hkmeans_usage, r.cmd, "--niter must be >= 1, --seed and --max-train >= 0");
	ko.seed = (uint64_t)seed;
	if (run_open(&r, argc, argv))
		return run_close(&r, 0);
	ko.engine = r.engine;
	wn_cluster_hkmeans_result h;
	if (wn_cluster_hkmeans_run(r.core, &ko, ks, nl, r.sp.X, r.sp.n, r.sp.d, &h, err, sizeof err)) {
		wn_cmd_error(r.cmd, "%s: %s", input_name(argc, argv), err);
		return run_close(&r, 0);
	}
	int ok = 1;
	cJSON *j = r.vo.stats ? cJSON_CreateObject() : NULL;
	cJSON *lv = NULL;
	if (j) {
		cJSON_AddStringToObject(j, "command", "cluster hkmeans");
		cJSON_AddNumberToObject(j, "n", (double)h.n);
		cJSON_AddNumberToObject(j, "dim", (double)h.d);
		cJSON_AddNumberToObject(j, "niter", ko.niter);
		cJSON_AddNumberToObject(j, "seed", (double)ko.seed);
		cJSON_AddBoolToObject(j, "spherical", ko.spherical);
		lv = cJSON_AddArrayToObject(j, "levels");
	}
	for (int l = 0; l < nl; l++) {
		if (!r.co.quiet) {
			char sz[160];
			size_summary(h.sizes[l], h.k[l], sz, sizeof sz);
			fprintf(stderr, "winnow %s: level %d: k %lld, inertia %.6g (%s); records per cluster: %s\n",
				r.cmd, l + 1, (long long)h.k[l], h.inertia[l],
				l ? "of the level below's centroids" : "of the vectors", sz);
		}
		if (lv) {
			cJSON *o = cJSON_CreateObject();
			cJSON_AddNumberToObject(o, "k", (double)h.k[l]);
			cJSON_AddNumberToObject(o, "inertia", h.inertia[l]);
			cJSON_AddItemToObject(o, "sizes", int_array(h.sizes[l], h.k[l]));
			cJSON_AddItemToArray(lv, o);
		}
	}
	if (j) {
		ok = !write_stats(r.cmd, r.vo.stats, j);
		cJSON_Delete(j);
	}
	if (ok && emit_all(&r.s, &r.sp, annotate_hkmeans, &h))
		ok = 0;
	wn_cluster_hkmeans_result_free(&h);
	return run_close(&r, ok);
}

/* ---- graph ------------------------------------------------------------- */

static int annotate_graph(void *ctx, int64_t i, wn_annot *a)
{
	const wn_cluster_graph_result *g = ctx;
	return wn_annot_set_int(a, "component", g->component[i]);
}

/* "1:900 2:40 3-4:12 5-8:3" — components by size, in power-of-two bins. */
static void size_histogram(const int64_t *sizes, int64_t nc, char *buf, size_t n)
{
	int64_t bins[64] = {0};
	int top = 0;
	for (int64_t c = 0; c < nc; c++) {
		int b = 0;
		while ((int64_t)1 << b < sizes[c])
			b++;
		bins[b]++;
		top = b > top ? b : top;
	}
	size_t o = 0;
	buf[0] = 0;
	for (int b = 0; b <= top && o < n; b++) {
		if (!bins[b])
			continue;
		int64_t lo = b ? ((int64_t)1 << (b - 1)) + 1 : 1, hi = (int64_t)1 << b;
		if (lo == hi)
			o += (size_t)snprintf(buf + o, n - o, "%s%lld:%lld", o ? " " : "", (long long)lo,
					      (long long)bins[b]);
		else
			o += (size_t)snprintf(buf + o, n - o, "%s%lld-%lld:%lld", o ? " " : "",
					      (long long)lo, (long long)hi, (long long)bins[b]);
	}
}

static int cluster_graph(int argc, const char **argv)
{
	struct run r = {.cmd = "cluster graph", .co = WN_COMMON_INIT,
			.vo = {NULL, "winnow.emb", NULL, "auto"}};
	wn_cluster_graph_opts go = WN_CLUSTER_GRAPH_OPTS_INIT;
	double threshold = NAN;
	const char *index = "auto";
	struct wn_option opts[] = {
		OPT_GROUP("Graph"),
		OPT_DOUBLE(0, "threshold", &threshold, "T", "an edge needs cosine >= T (required)"),
		OPT_INT(0, "knn", &go.knn, "K", "neighbours searched per vector (default 10)"),
		OPT_STRING(0, "index", &index, "I", "auto (default), flat (exact) or hnsw"),
		OPT_INT64(0, "hnsw-above", &go.hnsw_above, "N", "auto uses HNSW above N vectors (default 1000000)"),
		VEC_OPTIONS(&r.vo),
		WN_COMMON_STREAM_OPTIONS(&r.co),
		WN_COMMON_COMPUTE_OPTIONS(&r.co),
		OPT_END(),
	};
	argc = wn_parse_options(argc, argv, opts, graph_usage);
	run_engine(&r, graph_usage);
	if (!(threshold >= -1 && threshold <= 1))
		wn_usage_error(graph_usage, r.cmd, "--threshold T is required, with -1 <= T <= 1");
	if (go.knn < 1)
		wn_usage_error(graph_usage, r.cmd, "--knn must be at least 1");
	go.threshold = threshold;
	go.index = wn_cluster_parse_graph_index(index);
	if (go.index < 0)
		wn_usage_error(graph_usage, r.cmd, "unknown --index '%s' (auto, flat or hnsw)", index);
	if (run_open(&r, argc, argv))
		return run_close(&r, 0);
	go.engine = r.engine;
	wn_cluster_graph_result g;
	char err[512];
	if (wn_cluster_graph_run(r.core, &go, r.sp.X, r.sp.n, r.sp.d, &g, err, sizeof err)) {
		wn_cmd_error(r.cmd, "%s: %s", input_name(argc, argv), err);
		return run_close(&r, 0);
	}
	int64_t largest = 0, multi = 0;
	for (int64_t c = 0; c < g.n_components; c++) {
		largest = g.sizes[c] > largest ? g.sizes[c] : largest;
		multi += g.sizes[c] > 1;
	}
	const char *how = g.engine == WN_CLUSTER_ENGINE_CORE ? "brute force on the core"
			  : g.index == WN_GRAPH_INDEX_HNSW   ? "FAISS HNSW"
							     : "FAISS flat";
	if (!r.co.quiet) {
		char hist[512];
		size_histogram(g.sizes, g.n_components, hist, sizeof hist);
		fprintf(stderr,
			"winnow %s: %lld vectors, %lld components (%lld with more than one, largest %lld), "
			"%llu kNN edges at cos >= %g (%s); sizes %s\n",
			r.cmd, (long long)g.n, (long long)g.n_components, (long long)multi,
			(long long)largest, (unsigned long long)g.edges, go.threshold, how, hist);
	}
	int ok = 1;
	if (r.vo.stats) {
		cJSON *j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "command", "cluster graph");
		cJSON_AddNumberToObject(j, "n", (double)g.n);
		cJSON_AddNumberToObject(j, "dim", (double)r.sp.d);
		cJSON_AddNumberToObject(j, "threshold", go.threshold);
		cJSON_AddNumberToObject(j, "knn", go.knn);
		cJSON_AddStringToObject(j, "search", how);
		cJSON_AddNumberToObject(j, "edges", (double)g.edges);
		cJSON_AddNumberToObject(j, "components", (double)g.n_components);
		cJSON_AddNumberToObject(j, "largest", (double)largest);
		cJSON_AddItemToObject(j, "sizes", int_array(g.sizes, g.n_components));
		cJSON_AddItemToObject(j, "first", int_array(g.first, g.n_components));
		ok = !write_stats(r.cmd, r.vo.stats, j);
		cJSON_Delete(j);
	}
	if (ok && emit_all(&r.s, &r.sp, annotate_graph, &g))
		ok = 0;
	wn_cluster_graph_result_free(&g);
	return run_close(&r, ok);
}

int cmd_cluster(int argc, const char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "winnow cluster: which clustering? (kmeans, hkmeans or graph)\n");
		for (int i = 0; cluster_usage[i] && cluster_usage[i][0]; i++)
			fprintf(stderr, "usage: %s\n", cluster_usage[i]);
		return 2;
	}
	const char *sub = argv[1];
	if (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help")) {
		static const struct wn_option none[] = {OPT_END()};
		wn_usage_help(cluster_usage, none);
		return 0;
	}
	if (!strcmp(sub, "kmeans"))
		return cluster_kmeans(argc - 1, argv + 1);
	if (!strcmp(sub, "hkmeans"))
		return cluster_hkmeans(argc - 1, argv + 1);
	if (!strcmp(sub, "graph"))
		return cluster_graph(argc - 1, argv + 1);
	fprintf(stderr, "winnow cluster: unknown clustering '%s' (kmeans, hkmeans or graph)\n", sub);
	return 2;
}
