/*
 * selectors/eval_step.c — the `eval` step (see selectors/eval_step.h):
 * the whole stream through wn_train_data_load (records without a vector,
 * label or score rejected under the policy), the held-out split of
 * `winnow train` (the same records for the same --seed and --holdout),
 * the curves, then the three renderings. Writes no records.
 */
#include "selectors/eval_step.h"
#include "io/clock.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/errf.h"
#include "io/record.h"

void wn_eval_init(wn_eval_opts *o)
{
	memset(o, 0, sizeof *o);
	o->io = (wn_stream_opts)WN_STREAM_OPTS_INIT;
	wn_train_step_init(&o->tr);
	o->tr.score_epoch = 0; /* no EL2N here: any --epochs is fine */
	o->fracs_arg = "0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1";
	o->keep = "high";
	o->repeats = 3;
	o->holdout = 0.2;
	o->temperature = 1;
	o->eps = 0.01;
}

int wn_eval_check(wn_eval_opts *o, char *err, size_t errlen)
{
	if (wn_train_step_check(&o->tr, err, errlen) ||
	    wn_eval_parse_fracs(o->fracs_arg, o->fracs, &o->nfracs, err, errlen) ||
	    wn_eval_parse_keep(o->keep, o->rules, &o->nrules, err, errlen))
		return -1;
	if (o->nrules && (!o->by || !*o->by))
		return wn_errf(err, errlen, "--keep %s needs --by SCORE (a field such as winnow.el2n)",
			       o->keep), -1;
	if (o->repeats < 1 || o->repeats > 1000)
		return wn_errf(err, errlen, "--repeats must be in 1..1000"), -1;
	if (!(o->holdout > 0 && o->holdout < 1))
		return wn_errf(err, errlen, "--holdout FRAC must be in (0, 1)"), -1;
	if (!(o->temperature > 0 && isfinite(o->temperature)))
		return wn_errf(err, errlen, "--temperature must be a positive number"), -1;
	if (!(o->eps > 0 && o->eps <= 1))
		return wn_errf(err, errlen, "--eps must be in (0, 1]"), -1;
	return 0;
}

static void progress(void *ctx, int f)
{
	const char *cmd = ctx;
	fprintf(stderr, "winnow %s: fraction %d done\n", cmd, f + 1);
}

static int outputs(const wn_eval_opts *o, const wn_eval_result *res, const wn_eval_meta *m,
		   wn_stream *s, char *err, size_t errlen)
{
	wn_buf b = WN_BUF_INIT;
	int rc = 0;
	if (o->json) {
		char *text = wn_eval_json(res, m);
		rc = wn_writer_save(o->json, text, err, errlen);
		free(text);
	}
	if (!rc && o->svg) {
		if (wn_eval_svg(res, m, &b)) {
			wn_errf(err, errlen, "out of memory");
			rc = -1;
		} else if (b.len && b.data[b.len - 1] == '\n')
			b.data[--b.len] = 0; /* wn_writer_save adds it back */
		if (!rc)
			rc = wn_writer_save(o->svg, b.data, err, errlen);
	}
	wn_buf_reset(&b);
	if (!rc && wn_eval_table(res, m, &b)) {
		wn_errf(err, errlen, "out of memory");
		rc = -1;
	}
	if (!rc && wn_stream_write(s, b.data, b.len)) {
		wn_errf(err, errlen, "cannot write the table");
		rc = -1;
	}
	wn_buf_free(&b);
	return rc;
}

int wn_eval_step_run(const wn_eval_opts *o, wn_stream *s, wn_step_report *rep, char *err,
		     size_t errlen)
{
	(void)rep;
	if (o->io.threads > 0)
		omp_set_num_threads(o->io.threads);
	wn_train_data D;
	memset(&D, 0, sizeof D);
	wn_eval_result res = {.nfracs = o->nfracs, .repeats = o->repeats, .ncurves = 1 + o->nrules};
	memcpy(res.fracs, o->fracs, sizeof res.fracs);
	memcpy(res.rules + 1, o->rules, (size_t)o->nrules * sizeof *o->rules);
	res.prob = (wn_eval_prob){o->temperature, o->eps};
	unsigned char *holdout = NULL;
	int rc = -1;
	wn_core *core = wn_core_open_named(o->io.device, o->io.threads, err, errlen);
	if (!core || wn_train_data_load(&D, s, o->tr.field_emb, o->tr.npy, o->tr.label,
					 o->nrules ? o->by : NULL, err, errlen))
		goto done;
	if (!o->io.quiet)
		wn_train_data_report(&D, o->tr.label, s->cmd);
	int64_t nh;
	holdout = wn_train_holdout(o->holdout, (uint64_t)o->tr.seed, D.v.n, &nh);
	if (!holdout) {
		wn_errf(err, errlen, "out of memory");
		goto done;
	}
	char why[512] = "";
	double t0 = wn_wall_seconds();
	if (wn_eval_run(core, &o->tr.dyn, D.v.X, D.y, D.score, D.v.n, D.v.d, D.C, holdout,
			(uint64_t)o->tr.seed, &res, o->io.quiet ? NULL : progress, (void *)s->cmd,
			why, sizeof why)) {
		wn_errf(err, errlen, "%s: %s", wn_stream_source_name(s), why);
		goto done;
	}
	if (!o->io.quiet)
		fprintf(stderr, "winnow %s: %d model(s) trained in %.3f s (steps and held-out "
			"accuracy; reading excluded)\n", s->cmd, res.ncurves * res.nfracs * res.repeats,
			wn_wall_seconds() - t0);
	wn_eval_meta m = {o->tr.label, o->nrules ? o->by : NULL, o->tr.dyn.hidden ? "mlp" : "linear",
			  o->tr.dyn.hidden, o->tr.epochs, (uint64_t)o->tr.seed, D.C};
	rc = outputs(o, &res, &m, s, err, errlen);
done:
	wn_eval_result_free(&res);
	free(holdout);
	wn_train_data_free(&D);
	if (core)
		wn_core_close(core);
	return rc;
}
