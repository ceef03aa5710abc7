/*
 * cmd/vectors.c — `winnow vectors export` and `winnow vectors import`:
 * vectors between records and .npy files, or from a user's own field into
 * winnow.emb. Two steps with one option table; `winnow vectors` alone
 * lists them. The steps are embed/vectors_step.c.
 */
#include "cmd/common.h"
#include "embed/vectors_step.h"

static const char *const export_usage[] = {
	"winnow vectors export --npy FILE [--from-field PATH] [options] [file...]",
	"",
	"Write each record's vector (winnow.emb, or --from-field) as a row of an .npy file.",
	"Rows are float32 (or float16 with --vec-dtype f16) in stream order; the records",
	"pass through unchanged.",
	"",
	"winnow embed corpus.jsonl | winnow vectors export --npy emb.npy > /dev/null",
	NULL,
};

static const char *const import_usage[] = {
	"winnow vectors import (--npy FILE | --from-field PATH) [options] [file...]",
	"",
	"Set winnow.emb from the rows of an .npy file, or from a JSON array in each record.",
	"Row i of the file goes to the i-th record; --from-field PATH takes the array of",
	"numbers already at PATH (bring your own embeddings).",
	"",
	"winnow vectors import --npy emb.npy corpus.jsonl | winnow cluster kmeans -k 100",
	"winnow vectors import --from-field openai.embedding docs.jsonl > with-emb.jsonl",
	NULL,
};

static void vectors_options(void *p, struct wn_option *t)
{
	wn_vectors_opts *o = p;
	WN_STEP_TABLE(t,
		OPT_GROUP("Vectors"),
		OPT_STRING(0, "npy", &o->npy, "FILE", "the .npy file (rows aligned with records)"),
		OPT_STRING(0, "from-field", &o->from_field, "PATH",
			   "a JSON array of numbers at this dotted path (instead of winnow.emb / --npy)"),
		OPT_INT(0, "dim", &o->dim, "N", "required dimension (default: the first vector's)"),
		OPT_STRING(0, "vec-dtype", &o->vec_dtype, "f32|f16", "dtype written (default f32)"),
		WN_STREAM_OPTIONS(&o->io));
}

static void export_init(void *p) { wn_vectors_export_init(p); }
static void import_init(void *p) { wn_vectors_import_init(p); }
static int vectors_check(void *p, int *npos, const char **pos, char *err, size_t n) { return wn_vectors_check(p, err, n); }
static int export_run(void *p, wn_stream *s, wn_step_report *r, char *err, size_t n) { return wn_vectors_export_run(p, s, r, err, n); }
static int import_run(void *p, wn_stream *s, wn_step_report *r, char *err, size_t n) { return wn_vectors_import_run(p, s, r, err, n); }

const wn_step wn_step_vectors_export = {"vectors export", export_usage, sizeof(wn_vectors_opts), 0,
					export_init, vectors_options, vectors_check, export_run, NULL};
const wn_step wn_step_vectors_import = {"vectors import", import_usage, sizeof(wn_vectors_opts), 0,
					import_init, vectors_options, vectors_check, import_run, NULL};
