/*
 * tests/unit/test_s2l.c — selectors/s2l.h by hand: the draw over clusters
 * of sizes 10, 3, 50, 7 (the official order: smallest first, each
 * floor(left / clusters left)): 20 -> 6, 3, 6, 5; 21 -> 6, 3, 6, 6;
 * 30 -> 10, 3, 10, 7; 100 -> all 70; ties in size to the cluster seen
 * first; positions ascending, the same for a seed; and k-means of
 * trajectories in three separated groups finding exactly those groups,
 * with k capped at n.
 */
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "selectors/s2l.h"
#include "tests/unit/test.h"

static const size_t SIZES[4] = {10, 3, 50, 7};

/* Items of groups 0..3 interleaved so positions are not sorted by group. */
static size_t make_groups(uint32_t *g)
{
	size_t left[4], n = 0;
	memcpy(left, SIZES, sizeof left);
	while (left[0] + left[1] + left[2] + left[3])
		for (uint32_t c = 0; c < 4; c++)
			if (left[c])
				g[n++] = c, left[c]--;
	return n;
}

static void counts_of(const uint32_t *g, const size_t *out, size_t nout, size_t *cnt)
{
	memset(cnt, 0, 4 * sizeof *cnt);
	for (size_t i = 0; i < nout; i++)
		cnt[g[out[i]]]++;
}

static void test_select_worked(void)
{
	uint32_t g[70];
	size_t n = make_groups(g), out[70], nout, cnt[4];
	char err[256] = "";
	CHECK_EQ_INT(n, 70);
	const size_t target[4] = {20, 21, 30, 100};
	const size_t want[4][4] = {{6, 3, 6, 5}, {6, 3, 6, 6}, {10, 3, 10, 7}, {10, 3, 50, 7}};
	for (int t = 0; t < 4; t++) {
		CHECK(wn_s2l_select(g, n, 4, target[t], 5, out, &nout, err, sizeof err) == 0);
		counts_of(g, out, nout, cnt);
		for (int c = 0; c < 4; c++)
			CHECK_EQ_INT(cnt[c], want[t][c]);
		for (size_t i = 1; i < nout; i++)
			CHECK(out[i] > out[i - 1]);
	}
	size_t again[70], na;
	CHECK(wn_s2l_select(g, n, 4, 20, 5, again, &na, err, sizeof err) == 0);
	CHECK(wn_s2l_select(g, n, 4, 20, 5, out, &nout, err, sizeof err) == 0);
	CHECK(na == nout && !memcmp(again, out, nout * sizeof *out));
	CHECK(wn_s2l_select(g, n, 4, 20, 6, again, &na, err, sizeof err) == 0);
	CHECK(memcmp(again, out, nout * sizeof *out) != 0);
	/* sizes 2, 2, 5, budget 4: 1 from the first seen, 1 from the next, 2 */
	const uint32_t h[9] = {2, 1, 0, 2, 2, 1, 0, 2, 2};
	CHECK(wn_s2l_select(h, 9, 3, 4, 1, out, &nout, err, sizeof err) == 0);
	size_t c3[3] = {0, 0, 0};
	for (size_t i = 0; i < nout; i++)
		c3[h[out[i]]]++;
	CHECK_EQ_INT(nout, 4);
	CHECK(c3[0] == 1 && c3[1] == 1 && c3[2] == 2);
}

static void test_cluster(void)
{
	char err[256] = "";
	wn_core *c = wn_core_open(WN_DEVICE_CPU, 1, err, sizeof err);
	float T[9 * 3];
	const float base[3][3] = {{1, 1, 1}, {5, 5, 5}, {9, 0, 0}};
	for (int i = 0; i < 9; i++)
		for (int k = 0; k < 3; k++)
			T[i * 3 + k] = base[i % 3][k] + 0.01f * (float)(i / 3) * (k + 1);
	int32_t a[9];
	int64_t used;
	CHECK(wn_s2l_cluster(c, T, 9, 3, 3, 7, a, &used, err, sizeof err) == 0);
	CHECK_EQ_INT(used, 3);
	for (int i = 0; i < 9; i++)
		CHECK_EQ_INT(a[i], a[i % 3]);
	CHECK(a[0] != a[1] && a[1] != a[2] && a[0] != a[2]);
	CHECK(wn_s2l_cluster(c, T, 9, 3, 100, 7, a, &used, err, sizeof err) == 0);
	CHECK_EQ_INT(used, 9);
	CHECK(wn_s2l_cluster(c, T, 9, 3, 0, 7, a, &used, err, sizeof err) == -1);
	wn_core_close(c);
}

int main(void)
{
	RUN(test_select_worked);
	RUN(test_cluster);
	return TEST_EXIT;
}
