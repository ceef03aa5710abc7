/*
 * tests/unit/test_embed_steps.c — the embed and vectors steps called as
 * library functions between two spools, the way the recipe runner chains
 * steps in one process (no argv, nothing from cmd/): records come out
 * with their file and line, annotated with the hash model's own vector;
 * a record without text is rejected at its place; arrays written by hand
 * go through `vectors import` and `vectors export` into an .npy file whose
 * numbers are read back exactly; the checks refuse what cmd/ refuses.
 */
#include "embed/embed_step.h"
#include "embed/npy.h"
#include "embed/vectors_step.h"

#include <stdlib.h>
#include <unistd.h>

#include "test.h"

static wn_spool *spool_of(const char *const *lines, int n)
{
	char err[256];
	wn_spool *s = wn_spool_new(0, err, sizeof err);
	for (int i = 0; s && i < n; i++) {
		wn_record r = {{lines[i], strlen(lines[i])}, "in.jsonl", (uint64_t)(10 + i), (uint64_t)i};
		if (wn_spool_put(s, &r, err, sizeof err))
			return NULL;
	}
	return s;
}

/* Run one step function from src into dst; returns its result. */
typedef int (*run_fn)(const void *o, wn_stream *s, wn_step_report *r, char *err, size_t n);

static int run_between(const char *name, const wn_stream_opts *io, const void *o, run_fn fn,
		       wn_spool *src, wn_spool *dst, wn_step_report *rep, char *err, size_t n)
{
	wn_stream s;
	if (wn_stream_open_spools(&s, name, io, src, dst, err, n))
		return -2;
	int rc = fn(o, &s, rep, err, n);
	return wn_stream_finish(&s, rc == 0, rep) ? -1 : rc;
}

static int embed_fn(const void *o, wn_stream *s, wn_step_report *r, char *err, size_t n)
{
	return wn_embed_run(o, s, r, err, n);
}
static int import_fn(const void *o, wn_stream *s, wn_step_report *r, char *err, size_t n)
{
	return wn_vectors_import_run(o, s, r, err, n);
}
static int export_fn(const void *o, wn_stream *s, wn_step_report *r, char *err, size_t n)
{
	return wn_vectors_export_run(o, s, r, err, n);
}

static void test_embed_between_spools(void)
{
	const char *in[3] = {"{\"id\":1,\"text\":\"hello world\"}", "{\"id\":2}",
			     "{\"text\":\"second text\",\"winnow\":{\"k\":1}}"};
	const char *texts[3] = {"hello world", NULL, "second text"};
	wn_spool *src = spool_of(in, 3), *dst = wn_spool_new(0, NULL, 0);
	CHECK(src && dst);
	wn_embed_opts o;
	wn_embed_init(&o);
	o.io.on_error = "skip";
	o.io.quiet = 1;
	o.dim = 16;
	char err[256] = "";
	CHECK_EQ_INT(wn_embed_check(&o, err, sizeof err), 0);
	wn_step_report rep = {0};
	CHECK_EQ_INT(run_between("embed", &o.io, &o, embed_fn, src, dst, &rep, err, sizeof err), 0);
	CHECK_EQ_INT(rep.in, 3);
	CHECK_EQ_INT(rep.out, 2);
	CHECK_EQ_INT(rep.rejected, 1);
	/* the reference: the hash model itself */
	wn_embed_hash_opts ho;
	wn_embed_hash_opts_init(&ho);
	ho.dim = 16;
	wn_embed_hash *h = wn_embed_hash_new(&ho, err, sizeof err);
	wn_embed_hash_ws *ws = wn_embed_hash_ws_new(h);
	wn_record r;
	CHECK_EQ_INT(wn_spool_rewind(dst, err, sizeof err), 0);
	for (int i = 0; i < 3; i += 2) {
		float got[16], want[16];
		int d = 0;
		CHECK_EQ_INT(wn_spool_get(dst, &r, err, sizeof err), 1);
		CHECK_STR(r.file, "in.jsonl");
		CHECK_EQ_INT(r.line, 10 + i);
		CHECK_EQ_INT(wn_vec_get(r.json, "winnow.emb", got, 16, &d, err, sizeof err), 0);
		CHECK_EQ_INT(d, 16);
		wn_embed_hash_text(h, ws, texts[i], strlen(texts[i]), want);
		CHECK(!memcmp(got, want, sizeof got));
	}
	wn_span v; /* the annotation joined the record's own winnow members */
	CHECK(wn_json_get(r.json, "winnow.k", &v));
	CHECK_EQ_INT(wn_spool_get(dst, &r, err, sizeof err), 0);
	wn_embed_hash_ws_free(ws);
	wn_embed_hash_free(h);
	wn_spool_free(src);
	wn_spool_free(dst);
}

static void test_vectors_import_export(void)
{
	const char *in[3] = {"{\"v\":[0.5,-1.25,3]}", "{\"v\":[1,2]}", "{\"v\":[0,0.125,-8]}"};
	wn_spool *src = spool_of(in, 3), *mid = wn_spool_new(0, NULL, 0), *dst = wn_spool_new(0, NULL, 0);
	CHECK(src && mid && dst);
	char err[256] = "", path[] = "/tmp/winnow-test-vectors-XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	close(fd);
	wn_vectors_opts im, ex;
	wn_vectors_import_init(&im);
	im.from_field = "v";
	im.io.on_error = "skip";
	im.io.quiet = 1;
	CHECK_EQ_INT(wn_vectors_check(&im, err, sizeof err), 0);
	wn_step_report rep = {0};
	CHECK_EQ_INT(run_between("vectors import", &im.io, &im, import_fn, src, mid, &rep, err, sizeof err), 0);
	CHECK_EQ_INT(rep.out, 2);
	CHECK_EQ_INT(rep.rejected, 1); /* dim 2 after dim 3 */
	wn_vectors_export_init(&ex);
	ex.npy = path;
	ex.io.quiet = 1;
	CHECK_EQ_INT(wn_vectors_check(&ex, err, sizeof err), 0);
	CHECK_EQ_INT(run_between("vectors export", &ex.io, &ex, export_fn, mid, dst, &rep, err, sizeof err), 0);
	CHECK_EQ_INT(wn_spool_count(dst), 2);
	wn_embed_npy_reader *r = wn_embed_npy_open(path, err, sizeof err);
	CHECK(r);
	float rows[6];
	CHECK_EQ_INT(wn_embed_npy_reader_info(r)->cols, 3);
	CHECK_EQ_INT(wn_embed_npy_read(r, rows, 6, err, sizeof err), 2);
	const float want[6] = {0.5f, -1.25f, 3, 0, 0.125f, -8};
	CHECK(!memcmp(rows, want, sizeof want));
	wn_embed_npy_close(r);
	unlink(path);
	wn_spool_free(src);
	wn_spool_free(mid);
	wn_spool_free(dst);
}

static void test_checks_refuse(void)
{
	char err[256];
	wn_embed_opts o;
	wn_embed_init(&o);
	o.cache = "c.db"; /* no cache_ops: nobody wired a cache in */
	CHECK_EQ_INT(wn_embed_check(&o, err, sizeof err), -1);
	CHECK(strstr(err, "--cache") != NULL);
	wn_embed_init(&o);
	o.fit_idf = "idf.txt";
	o.io.output = "out.jsonl";
	CHECK_EQ_INT(wn_embed_check(&o, err, sizeof err), -1);
	CHECK(strstr(err, "drop -o") != NULL);
	wn_embed_init(&o);
	o.char_ngrams = "5,3";
	CHECK_EQ_INT(wn_embed_check(&o, err, sizeof err), -1);
	CHECK_STR(err, "--char-ngrams '5,3': expected MIN,MAX (e.g. 3,5)");
	wn_vectors_opts v;
	wn_vectors_import_init(&v);
	CHECK_EQ_INT(wn_vectors_check(&v, err, sizeof err), -1);
	CHECK_STR(err, "give exactly one of --npy FILE and --from-field PATH");
	wn_vectors_export_init(&v);
	v.npy = "x.npy";
	v.dim = 70000;
	CHECK_EQ_INT(wn_vectors_check(&v, err, sizeof err), -1);
	CHECK_STR(err, "--dim must be in 1..65536");
}

int main(void)
{
	RUN(test_embed_between_spools);
	RUN(test_vectors_import_export);
	RUN(test_checks_refuse);
	return TEST_EXIT;
}
