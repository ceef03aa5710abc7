/*
 * tests/unit/test_train_device.c — wn_train_auto_device, the device rule
 * `winnow train` and `winnow eval` apply under --device auto, against the
 * hand-computed boundary: batch x hidden width (64 for the linear model)
 * below 2^20 trains on the CPU; a named device, $WINNOW_DEVICE, the gat
 * model and --trajectories are left alone.
 */
#include <stdlib.h>
#include <string.h>

#include "selectors/train_step.h"
#include "tests/unit/test.h"

static const char *rule(const char *model, int64_t batch, int64_t hidden, const char *dev)
{
	wn_train_step_opts o;
	wn_train_step_init(&o);
	o.model = model;
	o.batch = batch;
	o.hidden = hidden;
	const char *r = wn_train_auto_device(&o, dev);
	return r ? r : "(unchanged)";
}

static void test_boundary(void)
{
	unsetenv("WINNOW_DEVICE");
	CHECK_STR(rule("mlp", 128, 64, NULL), "cpu");          /* 8,192 */
	CHECK_STR(rule("mlp", 128, 64, "auto"), "cpu");
	CHECK_STR(rule("mlp", 1024, 1023, NULL), "cpu");       /* 1,047,552 < 1,048,576 */
	CHECK_STR(rule("mlp", 1024, 1024, NULL), "(unchanged)"); /* exactly 2^20 */
	CHECK_STR(rule("linear", 16383, 4096, NULL), "cpu");   /* 16,383 x 64 = 1,048,512 */
	CHECK_STR(rule("linear", 16384, 1, NULL), "(unchanged)"); /* 16,384 x 64 = 2^20 */
}

static void test_left_alone(void)
{
	unsetenv("WINNOW_DEVICE");
	CHECK_STR(rule("mlp", 128, 64, "cuda"), "(unchanged)");
	CHECK_STR(rule("mlp", 128, 64, "cpu"), "(unchanged)");
	CHECK_STR(rule("gat", 128, 64, NULL), "(unchanged)");
	setenv("WINNOW_DEVICE", "cuda", 1);
	CHECK_STR(rule("mlp", 128, 64, NULL), "(unchanged)");
	CHECK_STR(rule("mlp", 128, 64, "auto"), "cpu"); /* the option names auto: the rule applies */
	setenv("WINNOW_DEVICE", "auto", 1);
	CHECK_STR(rule("mlp", 128, 64, NULL), "cpu");
	unsetenv("WINNOW_DEVICE");
	wn_train_step_opts o;
	wn_train_step_init(&o);
	o.trajectories = "t.npy";
	CHECK(wn_train_auto_device(&o, NULL) == NULL);
}

int main(void)
{
	RUN(test_boundary);
	RUN(test_left_alone);
	return TEST_EXIT;
}
