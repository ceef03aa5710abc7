/*
 * tests/unit/test_minhash.c — cluster/minhash: datasketch's optimal_param
 * for its best-known case (threshold 0.8, 128 permutations, weights 0.5 /
 * 0.5 -> 9 bands of 13 rows, what datasketch.MinHashLSH picks) and with
 * winnow's default weights 0.05 / 0.95 (-> 16 x 8, as a python3 Simpson
 * integration of the same two areas gives), Jaccard of shingle sets
 * counted by hand, the short- and empty-text rules, identical copies always
 * grouped with the lowest index kept, the same pairs at 1 and 4 threads,
 * and the same pairs, groups and Jaccards when --memory 4K sends the sets
 * to disk and the band entries into sorted runs; the shingle digests by
 * their definition (word hashes combined by Horner's rule, fmix64), and
 * every permutation kernel the CPU runs (the portable one always, forced
 * through opts.kernel) against the 128-bit reference (a x + b) mod 2^61-1
 * on edge and random values, and the same pairs through the whole index.
 */
#include "cluster/minhash.h"
#include "core/rng.h"
#include "tests/unit/test.h"

#include <xxhash.h>

#define P61 (((uint64_t)1 << 61) - 1)

static wn_minhash *build_mem(const char *const *t, size_t n, int ngram, int threads, size_t memory)
{
	wn_minhash_opts o = {ngram, 128, 9, 13, 7, 0.8, 1, threads, memory, 0};
	wn_minhash *m = wn_minhash_new(&o);
	size_t lens[16];
	char err[256];
	for (size_t i = 0; i < n; i++)
		lens[i] = strlen(t[i]);
	if (!m || wn_minhash_add(m, t, lens, n, err, sizeof err) || wn_minhash_group(m, err, sizeof err)) {
		wn_minhash_free(m);
		return NULL;
	}
	return m;
}

static wn_minhash *build(const char *const *t, size_t n, int ngram, int threads)
{
	return build_mem(t, n, ngram, threads, 0);
}

static void test_optimal_param(void)
{
	int b, r;
	wn_minhash_optimal_param(0.8, 128, 0.5, 0.5, &b, &r);
	CHECK_EQ_INT(b, 9);
	CHECK_EQ_INT(r, 13);
	wn_minhash_optimal_param(0.8, 128, WN_MINHASH_FP_WEIGHT, WN_MINHASH_FN_WEIGHT, &b, &r);
	CHECK_EQ_INT(b, 16);
	CHECK_EQ_INT(r, 8);
}

static void test_jaccard_by_hand(void)
{
	const char *t[] = {
		"a b c d e f",          /* 2-grams: ab bc cd de ef */
		"A, b; c d e g",        /* ab bc cd de eg: 4 shared of 6 */
		"x y",                  /* two words, n=2: one gram, "x y" */
		"...",                  /* no words: no shingles */
		"!!",                   /* none either: never grouped with 3 */
	};
	wn_minhash *m = build(t, 5, 2, 1);
	CHECK(m);
	CHECK_EQ_INT(wn_minhash_set_size(m, 0), 5);
	CHECK_NEAR(wn_minhash_jaccard(m, 0, 1), 4.0 / 6.0, 0);
	CHECK_EQ_INT(wn_minhash_set_size(m, 2), 1);
	CHECK_EQ_INT(wn_minhash_set_size(m, 3), 0);
	CHECK_EQ_INT(wn_minhash_group_size(m, 3), 1);
	CHECK_EQ_INT(wn_minhash_group_size(m, 4), 1);
	wn_minhash_free(m);
	const char *s[] = {"one two", "one two three four"}; /* n=5: whole-text shingles */
	m = build(s, 2, 5, 1);
	CHECK(m);
	CHECK_EQ_INT(wn_minhash_set_size(m, 0), 1);
	CHECK_NEAR(wn_minhash_jaccard(m, 0, 1), 0, 0);
	wn_minhash_free(m);
}

static void test_copies_grouped(void)
{
	const char *t[] = {
		"the quick brown fox jumps over the lazy dog again and again",
		"something else entirely with many other words in it today",
		"The quick brown fox jumps over the lazy dog again and again!",
		"the quick brown fox jumps over the lazy dog again and again",
	};
	wn_minhash *m = build(t, 4, 5, 1);
	CHECK(m);
	CHECK_EQ_INT(wn_minhash_root(m, 2), 0);
	CHECK_EQ_INT(wn_minhash_root(m, 3), 0);
	CHECK_EQ_INT(wn_minhash_group_size(m, 0), 3);
	CHECK_EQ_INT(wn_minhash_root(m, 1), 1);
	size_t np;
	const wn_minhash_pair *p = wn_minhash_pairs(m, &np);
	CHECK_EQ_INT(np, 3); /* identical sets collide in every band: 0-2, 0-3, 2-3 */
	CHECK(p[0].a == 0 && p[0].b == 2 && p[0].verified && p[0].jaccard == 1);
	wn_minhash_free(m);
}

static void test_threads_agree(void)
{
	char buf[12][96];
	const char *t[12];
	for (int i = 0; i < 12; i++) {
		snprintf(buf[i], sizeof buf[i], "w%d alpha beta gamma delta epsilon zeta eta theta iota kappa w%d",
			 i % 3, i % 4);
		t[i] = buf[i];
	}
	wn_minhash *a = build(t, 12, 5, 1), *b = build(t, 12, 5, 4);
	CHECK(a && b);
	size_t na, nb;
	const wn_minhash_pair *pa = wn_minhash_pairs(a, &na), *pb = wn_minhash_pairs(b, &nb);
	CHECK(na == nb && na > 0);
	for (size_t i = 0; i < na; i++)
		CHECK(pa[i].a == pb[i].a && pa[i].b == pb[i].b && pa[i].jaccard == pb[i].jaccard);
	for (size_t i = 0; i < 12; i++)
		CHECK_EQ_INT(wn_minhash_root(a, i), wn_minhash_root(b, i));
	wn_minhash_free(a);
	wn_minhash_free(b);
}

/* n near-duplicate texts "w<i%m1> alpha ... <mid> w<i%m2> mu" into buf, with t and lens */
static void near_dups(int n, int m1, int m2, const char *mid, char (*buf)[128], const char **t,
		      size_t *lens)
{
	for (int i = 0; i < n; i++) {
		snprintf(buf[i], sizeof buf[i],
			 "w%d alpha beta gamma delta epsilon zeta eta theta iota kappa %sw%d mu",
			 i % m1, mid, i % m2);
		t[i] = buf[i];
		lens[i] = strlen(t[i]);
	}
}

/* --memory 4K: sets on disk, band entries in many sorted runs: the same pairs, groups, Jaccards. */
static void test_spill_same(void)
{
	char buf[200][128];
	const char *t[200];
	size_t lens[200];
	near_dups(200, 7, 5, "lambda ", buf, t, lens);
	wn_minhash_opts o = {5, 128, 9, 13, 7, 0.8, 1, 2, 0, 0};
	wn_minhash *a = wn_minhash_new(&o);
	o.memory = 4096;
	wn_minhash *b = wn_minhash_new(&o);
	char err[256];
	CHECK(a && b);
	for (int k = 0; k < 200; k += 50) /* in blocks, as the step adds them */
		CHECK(!wn_minhash_add(a, t + k, lens + k, 50, err, sizeof err) &&
		      !wn_minhash_add(b, t + k, lens + k, 50, err, sizeof err));
	CHECK(!wn_minhash_group(a, err, sizeof err) && !wn_minhash_group(b, err, sizeof err));
	size_t runs, ra;
	uint64_t bytes, ba;
	CHECK(wn_minhash_spilled(b, &runs, &bytes) == 1 && runs > 10 && bytes > 4096);
	CHECK(wn_minhash_spilled(a, &ra, &ba) == 0 && ra == 0 && ba == bytes);
	size_t na, nb;
	const wn_minhash_pair *pa = wn_minhash_pairs(a, &na), *pb = wn_minhash_pairs(b, &nb);
	CHECK(na == nb && na > 100);
	for (size_t i = 0; i < na && i < nb; i++)
		CHECK(pa[i].a == pb[i].a && pa[i].b == pb[i].b && pa[i].jaccard == pb[i].jaccard);
	for (size_t i = 0; i < 200; i++) {
		CHECK_EQ_INT(wn_minhash_root(a, i), wn_minhash_root(b, i));
		CHECK(wn_minhash_jaccard(a, i, 3) == wn_minhash_jaccard(b, i, 3));
	}
	wn_minhash_free(a);
	wn_minhash_free(b);
}

static uint64_t ref_mod61(uint64_t a, uint64_t x, uint64_t b)
{
	return (uint64_t)(((unsigned __int128)a * (x % P61) + b) % P61);
}

static uint64_t fmix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 33);
}

static uint64_t word_hash(const char *w) { return XXH3_64bits(w, strlen(w)); }

/* "Alpha, beta GAMMA" with 2-word shingles: {alpha beta, beta gamma}; 5-word: one of all three. */
static void test_digest_definition(void)
{
	const char *t[] = {"Alpha, beta GAMMA", "alpha beta gamma"};
	uint64_t ua = word_hash("alpha"), ub = word_hash("beta"), uc = word_hash("gamma");
	uint64_t K = WN_MINHASH_SHINGLE_MUL;
	uint64_t want2[2] = {fmix(ua * K + ub), fmix(ub * K + uc)};
	if (want2[0] > want2[1]) {
		uint64_t x = want2[0];
		want2[0] = want2[1];
		want2[1] = x;
	}
	uint64_t want5 = fmix((ua * K + ub) * K + uc);
	wn_minhash *m = build(t, 2, 2, 1);
	wn_minhash_view v = {0};
	const uint64_t *set;
	size_t n;
	CHECK(m && !wn_minhash_text(m, 0, &v, NULL, &set, &n));
	CHECK(n == 2 && set[0] == want2[0] && set[1] == want2[1]);
	wn_minhash_free(m);
	m = build(t, 2, 5, 1);
	CHECK(m && !wn_minhash_text(m, 1, &v, NULL, &set, &n));
	CHECK(n == 1 && set[0] == want5);
	CHECK(wn_minhash_jaccard(m, 0, 1) == 1);
	wn_minhash_free(m);
	wn_minhash_view_free(&v);
}

/* Every kernel the CPU runs gives the reference signature bit for bit. */
static void test_kernels_exact(void)
{
	enum { NX = 600 };
	uint64_t x[NX];
	const uint64_t edge[] = {0, 1, 2, P61 - 2, P61 - 1, P61, P61 + 1, (uint64_t)1 << 61,
				 ((uint64_t)1 << 62) + 5, UINT64_MAX - 1, UINT64_MAX,
				 0xffffffffull, 0x100000000ull, 0x1fffffffffffffffull - 0xffffffff};
	size_t ne = sizeof edge / sizeof *edge;
	for (size_t i = 0; i < NX; i++)
		x[i] = i < ne ? edge[i] : wn_rng_u64(99, 5, i);
	int ran[4] = {0};
	for (int kern = WN_MINHASH_KERNEL_PORTABLE; kern <= WN_MINHASH_KERNEL_AVX512; kern++) {
		wn_minhash_opts o = {5, 128, 16, 8, 42, 0.8, 1, 1, 0, kern};
		wn_minhash *m = wn_minhash_new(&o);
		if (!m) {
			CHECK(kern != WN_MINHASH_KERNEL_PORTABLE); /* the portable one always runs */
			continue;
		}
		ran[kern] = 1;
		CHECK_EQ_INT(wn_minhash_kernel(m), kern);
		uint64_t sig[128];
		for (size_t one = 0; one < NX; one++) { /* each value alone: sig = its own hashes */
			wn_minhash_signature(m, x + one, 1, sig);
			for (int i = 0; i < 128; i++) {
				uint64_t a = 1 + wn_rng_u64(42, WN_MINHASH_STREAM, 2 * (uint64_t)i) % (P61 - 1);
				uint64_t b = wn_rng_u64(42, WN_MINHASH_STREAM, 2 * (uint64_t)i + 1) % P61;
				if (sig[i] != ref_mod61(a, x[one], b)) {
					CHECK(sig[i] == ref_mod61(a, x[one], b));
					break;
				}
			}
		}
		wn_minhash_signature(m, x, NX, sig); /* the minimum over a set */
		for (int i = 0; i < 128; i++) {
			uint64_t a = 1 + wn_rng_u64(42, WN_MINHASH_STREAM, 2 * (uint64_t)i) % (P61 - 1);
			uint64_t b = wn_rng_u64(42, WN_MINHASH_STREAM, 2 * (uint64_t)i + 1) % P61, lo = UINT64_MAX;
			for (size_t j = 0; j < NX; j++) {
				uint64_t h = ref_mod61(a, x[j], b);
				lo = h < lo ? h : lo;
			}
			CHECK(sig[i] == lo);
		}
		wn_minhash_free(m);
	}
	CHECK(ran[WN_MINHASH_KERNEL_PORTABLE]);
	fprintf(stderr, "test_kernels_exact: ran portable%s%s\n", ran[2] ? ", avx2" : "",
		ran[3] ? ", avx512" : "");
}

/* The portable kernel forced and the CPU's best: the same pairs and Jaccards. */
static void test_kernels_same_pairs(void)
{
	char buf[64][128];
	const char *t[64];
	size_t lens[64];
	near_dups(64, 5, 3, "", buf, t, lens);
	wn_minhash_opts o = {5, 128, 16, 8, 7, 0.8, 1, 2, 0, WN_MINHASH_KERNEL_PORTABLE};
	wn_minhash *a = wn_minhash_new(&o);
	o.kernel = WN_MINHASH_KERNEL_AUTO;
	wn_minhash *b = wn_minhash_new(&o);
	char err[256];
	CHECK(a && b);
	CHECK(!wn_minhash_add(a, t, lens, 64, err, sizeof err) && !wn_minhash_add(b, t, lens, 64, err, sizeof err));
	CHECK(!wn_minhash_group(a, err, sizeof err) && !wn_minhash_group(b, err, sizeof err));
	wn_minhash_view va = {0}, vb = {0};
	for (size_t i = 0; i < 64; i++) {
		const uint64_t *ba, *bb, *s;
		size_t n;
		CHECK(!wn_minhash_text(a, i, &va, &ba, &s, &n) && !wn_minhash_text(b, i, &vb, &bb, &s, &n));
		CHECK(!memcmp(ba, bb, 16 * sizeof *ba));
	}
	size_t na, nb;
	const wn_minhash_pair *pa = wn_minhash_pairs(a, &na), *pb = wn_minhash_pairs(b, &nb);
	CHECK(na == nb && na > 0);
	for (size_t i = 0; i < na && i < nb; i++)
		CHECK(pa[i].a == pb[i].a && pa[i].b == pb[i].b && pa[i].jaccard == pb[i].jaccard);
	wn_minhash_view_free(&va);
	wn_minhash_view_free(&vb);
	wn_minhash_free(a);
	wn_minhash_free(b);
}

int main(void)
{
	RUN(test_digest_definition);
	RUN(test_kernels_exact);
	RUN(test_kernels_same_pairs);
	RUN(test_optimal_param);
	RUN(test_jaccard_by_hand);
	RUN(test_copies_grouped);
	RUN(test_threads_agree);
	RUN(test_spill_same);
	return TEST_EXIT;
}
