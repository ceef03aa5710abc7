/*
 * tests/unit/test.h — the tiny harness every C unit test uses.
 *
 * A test file is a list of `static void test_<what>(void)` functions and a
 * main() that runs them with RUN(test_<what>). Each RUN prints one line,
 * "PASS <file>: <name>" or "FAIL <file>: <name>: <first failed check>",
 * which tests/run counts; SKIP(reason) inside a test prints
 * "SKIP <file>: <name>: <reason>" (used by CUDA tests without a GPU).
 * main() returns TEST_EXIT (non-zero when any check failed).
 * $WINNOW_TEST_ONLY (comma-separated substrings of test names) skips the rest.
 *
 * Checks: CHECK(cond), CHECK_EQ_INT(a, b), CHECK_NEAR(a, b, tol) (absolute),
 * CHECK_STR(a, b). A failed check records the first message and returns
 * from the test function.
 */
#ifndef WN_TEST_H
#define WN_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_failures_;
static int test_current_failed_;
static int test_current_skipped_;
static char test_msg_[1024];

#define TEST_FAIL_(...)                                                        \
	do {                                                                   \
		if (!test_current_failed_)                                     \
			snprintf(test_msg_, sizeof test_msg_, __VA_ARGS__);    \
		test_current_failed_ = 1;                                      \
		return;                                                        \
	} while (0)

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			TEST_FAIL_("%s:%d: CHECK(%s)", __FILE__, __LINE__, #cond); \
	} while (0)

#define CHECK_EQ_INT(a, b)                                                     \
	do {                                                                   \
		long long a_ = (long long)(a), b_ = (long long)(b);            \
		if (a_ != b_)                                                  \
			TEST_FAIL_("%s:%d: %s == %lld, expected %s == %lld",   \
				   __FILE__, __LINE__, #a, a_, #b, b_);        \
	} while (0)

#define CHECK_NEAR(a, b, tol)                                                  \
	do {                                                                   \
		double a_ = (double)(a), b_ = (double)(b);                     \
		if (!(fabs(a_ - b_) <= (tol)))                                 \
			TEST_FAIL_("%s:%d: %s = %.17g, expected %.17g (tol %g)", \
				   __FILE__, __LINE__, #a, a_, b_, (double)(tol)); \
	} while (0)

#define CHECK_STR(a, b)                                                        \
	do {                                                                   \
		const char *a_ = (a), *b_ = (b);                               \
		if (!a_ || !b_ || strcmp(a_, b_) != 0)                         \
			TEST_FAIL_("%s:%d: %s = \"%s\", expected \"%s\"",      \
				   __FILE__, __LINE__, #a, a_ ? a_ : "(null)", \
				   b_ ? b_ : "(null)");                        \
	} while (0)

#define SKIP(...)                                                              \
	do {                                                                   \
		snprintf(test_msg_, sizeof test_msg_, __VA_ARGS__);            \
		test_current_skipped_ = 1;                                     \
		return;                                                        \
	} while (0)

/* $WINNOW_TEST_ONLY=NAME[,NAME...] runs only the tests whose names contain
 * one of the NAMEs (the device step runs a few cases of a long file). */
static inline int test_selected_(const char *name)
{
	const char *only = getenv("WINNOW_TEST_ONLY");
	if (!only || !*only)
		return 1;
	char buf[512];
	snprintf(buf, sizeof buf, "%s", only);
	for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
		if (strstr(name, t))
			return 1;
	return 0;
}

#define RUN(fn)                                                                \
	do {                                                                   \
		test_current_failed_ = 0;                                      \
		test_current_skipped_ = 0;                                     \
		test_msg_[0] = 0;                                              \
		if (test_selected_(#fn))                                       \
			fn();                                                  \
		else {                                                         \
			snprintf(test_msg_, sizeof test_msg_, "not in WINNOW_TEST_ONLY"); \
			test_current_skipped_ = 1;                             \
		}                                                              \
		if (test_current_failed_) {                                    \
			test_failures_++;                                      \
			printf("FAIL %s: %s: %s\n", __FILE__, #fn, test_msg_); \
		} else if (test_current_skipped_) {                            \
			printf("SKIP %s: %s: %s\n", __FILE__, #fn, test_msg_); \
		} else {                                                       \
			printf("PASS %s: %s\n", __FILE__, #fn);                \
		}                                                              \
		fflush(stdout);                                                \
	} while (0)

#define TEST_EXIT (test_failures_ ? 1 : 0)

/* Path of ../shared (env WINNOW_SHARED, else ../shared from the repo root). */
static inline const char *test_shared_dir(void)
{
	const char *s = getenv("WINNOW_SHARED");
	return s && *s ? s : "../shared";
}

#endif
