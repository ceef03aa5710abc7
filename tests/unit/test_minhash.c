/*
 * tests/unit/test_minhash.c — cluster/minhash: datasketch's optimal_param
 * for its best-known case (threshold 0.8, 128 permutations, weights 0.5 /
 * 0.5 -> 9 bands of 13 rows, what datasketch.MinHashLSH picks) and with
 * winnow's default weights 0.05 / 0.95 (-> 16 x 8, as a python3 Simpson
 * integration of the same two areas gives), Jaccard of shingle sets
 * counted by hand, the short- and empty-text rules, identical copies always
 * grouped with the lowest index kept, the same pairs at 1 and 4 threads,
 * and the same pairs, groups and Jaccards when --memory 4K sends the sets
 * to disk and the band entries into sorted runs; the bucket rule (all
 * pairs up to 64 members, the chain past) on copies counted by hand; the
 * candidate pairs past a tiny memory (sorted runs, merge passes) against
 * the in-memory pairs at 1 and 2 threads; the shingle digests by
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

/* The pairs wn_minhash_group hands out, in its order. */
typedef struct pair_list {
	wn_minhash_pair *p;
	size_t n, cap;
} pair_list;

static int collect(void *ctx, const wn_minhash_pair *p, char *err, size_t errlen)
{
	pair_list *l = ctx;
	(void)err, (void)errlen;
	if (l->n == l->cap) {
		size_t nc = l->cap ? 2 * l->cap : 256;
		wn_minhash_pair *q = realloc(l->p, nc * sizeof *q);
		if (!q)
			return -1;
		l->p = q;
		l->cap = nc;
	}
	l->p[l->n++] = *p;
	return 0;
}

/* Group m, the pairs into l (when not NULL). 0 on success. */
static int group(wn_minhash *m, pair_list *l)
{
	char err[256];
	return wn_minhash_group(m, l ? collect : NULL, l, err, sizeof err);
}

/* Two pair lists are the same, pair for pair, Jaccard for Jaccard (bits). */
static int same_pairs(const pair_list *x, const pair_list *y)
{
	if (x->n != y->n)
		return 0;
	for (size_t i = 0; i < x->n; i++)
		if (x->p[i].a != y->p[i].a || x->p[i].b != y->p[i].b || x->p[i].verified != y->p[i].verified ||
		    memcmp(&x->p[i].jaccard, &y->p[i].jaccard, sizeof x->p[i].jaccard))
			return 0;
	return 1;
}

static wn_minhash *build(const char *const *t, size_t n, int ngram, int threads, pair_list *l)
{
	wn_minhash_opts o = {ngram, 128, 9, 13, 7, 0.8, 1, threads, 0, 0};
	wn_minhash *m = wn_minhash_new(&o);
	size_t lens[16];
	char err[256];
	for (size_t i = 0; i < n; i++)
		lens[i] = strlen(t[i]);
	if (!m || wn_minhash_add(m, t, lens, n, err, sizeof err) || group(m, l)) {
		wn_minhash_free(m);
		return NULL;
	}
	return m;
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
	wn_minhash *m = build(t, 5, 2, 1, NULL);
	CHECK(m);
	CHECK_EQ_INT(wn_minhash_set_size(m, 0), 5);
	CHECK_NEAR(wn_minhash_jaccard(m, 0, 1), 4.0 / 6.0, 0);
	CHECK_EQ_INT(wn_minhash_set_size(m, 2), 1);
	CHECK_EQ_INT(wn_minhash_set_size(m, 3), 0);
	CHECK_EQ_INT(wn_minhash_group_size(m, 3), 1);
	CHECK_EQ_INT(wn_minhash_group_size(m, 4), 1);
	wn_minhash_free(m);
	const char *s[] = {"one two", "one two three four"}; /* n=5: whole-text shingles */
	m = build(s, 2, 5, 1, NULL);
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
	pair_list l = {0};
	wn_minhash *m = build(t, 4, 5, 1, &l);
	CHECK(m);
	CHECK_EQ_INT(wn_minhash_root(m, 2), 0);
	CHECK_EQ_INT(wn_minhash_root(m, 3), 0);
	CHECK_EQ_INT(wn_minhash_group_size(m, 0), 3);
	CHECK_EQ_INT(wn_minhash_root(m, 1), 1);
	const wn_minhash_pair *p = l.p;
	CHECK_EQ_INT(l.n, 3); /* identical sets collide in every band: 0-2, 0-3, 2-3 */
	CHECK(p[0].a == 0 && p[0].b == 2 && p[0].verified && p[0].jaccard == 1);
	uint64_t nc, nv;
	wn_minhash_pair_counts(m, &nc, &nv);
	CHECK(nc == 3 && nv == 3);
	free(l.p);
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
	pair_list la = {0}, lb = {0};
	wn_minhash *a = build(t, 12, 5, 1, &la), *b = build(t, 12, 5, 4, &lb);
	CHECK(a && b);
	CHECK(la.n > 0 && same_pairs(&la, &lb));
	free(la.p);
	free(lb.p);
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
	pair_list la = {0}, lb = {0};
	CHECK(!group(a, &la) && !group(b, &lb));
	size_t runs, ra, pr, pp;
	uint64_t bytes, ba;
	CHECK(wn_minhash_spilled(b, &runs, &pr, &pp, &bytes) == 1 && runs > 10 && bytes > 4096);
	CHECK(wn_minhash_spilled(a, &ra, &pr, &pp, &ba) == 0 && ra == 0 && pr == 0 && ba == bytes);
	CHECK(la.n > 100 && same_pairs(&la, &lb));
	free(la.p);
	free(lb.p);
	for (size_t i = 0; i < 200; i++) {
		CHECK_EQ_INT(wn_minhash_root(a, i), wn_minhash_root(b, i));
		CHECK(wn_minhash_jaccard(a, i, 3) == wn_minhash_jaccard(b, i, 3));
	}
	wn_minhash_free(a);
	wn_minhash_free(b);
}

/*
 * The bucket rule by hand: n copies of one text share every band, so n <=
 * WN_MINHASH_BUCKET_ALL (64) gives all n (n - 1) / 2 pairs and n = 65 or
 * 200 the chain (i, i + 1), n - 1 pairs; every one verified at J = 1 and
 * all n in one group kept at 0.
 */
static void test_bucket_rule(void)
{
	const size_t sizes[] = {64, 65, 200};
	const char *t[200];
	size_t lens[200];
	for (size_t i = 0; i < 200; i++) {
		t[i] = "one two three four five six seven";
		lens[i] = strlen(t[i]);
	}
	for (size_t s = 0; s < 3; s++) {
		size_t n = sizes[s], want = n <= 64 ? n * (n - 1) / 2 : n - 1;
		wn_minhash_opts o = {5, 128, 16, 8, 7, 0.8, 1, 2, 0, 0};
		wn_minhash *m = wn_minhash_new(&o);
		char err[256];
		pair_list l = {0};
		CHECK(m && !wn_minhash_add(m, t, lens, n, err, sizeof err) && !group(m, &l));
		CHECK_EQ_INT(l.n, want);
		size_t bad = 0;
		for (size_t i = 0; i < l.n; i++) {
			const wn_minhash_pair *p = &l.p[i];
			bad += !p->verified || p->jaccard != 1 || (n > 64 && (p->a != i || p->b != i + 1));
		}
		for (size_t i = 0; n <= 64 && i + 1 < l.n; i++) /* (a, b) order */
			bad += l.p[i].a > l.p[i + 1].a || (l.p[i].a == l.p[i + 1].a && l.p[i].b >= l.p[i + 1].b);
		CHECK_EQ_INT(bad, 0);
		CHECK_EQ_INT(wn_minhash_root(m, n - 1), 0);
		CHECK_EQ_INT(wn_minhash_group_size(m, n / 2), n);
		free(l.p);
		wn_minhash_free(m);
	}
}

/*
 * 3,000 texts at opts.memory `memory`: 2,000 near duplicates (350 distinct
 * texts), then 10 texts of 100 copies each (buckets past 64: chains) that
 * differ in one word of 18 (J = 12/16 = 0.75 by hand: candidates, not
 * verified), so each copy's group is its 100 copies.
 */
static wn_minhash *many(const char **t, const size_t *lens, size_t memory, int threads,
			pair_list *l)
{
	wn_minhash_opts o = {5, 128, 9, 13, 7, 0.8, 1, threads, memory, 0};
	wn_minhash *m = wn_minhash_new(&o);
	char err[256];
	for (int k = 0; m && k < 3000; k += 500)
		if (wn_minhash_add(m, t + k, lens + k, 500, err, sizeof err))
			break;
	if (!m || wn_minhash_count(m) != 3000 || group(m, l)) {
		wn_minhash_free(m);
		return NULL;
	}
	return m;
}

/*
 * Candidate pairs past opts.memory: spilled as sorted runs (hundreds at
 * 4096 bytes), merged in several passes of fan-in 2, and still the same
 * pairs, Jaccards, groups and counts as in memory, at 1 and 2 threads.
 */
static void test_pairs_spill(void)
{
	char (*buf)[128] = malloc(3000 * sizeof *buf);
	const char **t = malloc(3000 * sizeof *t);
	size_t *lens = malloc(3000 * sizeof *lens);
	CHECK(buf && t && lens);
	if (!buf || !t || !lens)
		goto done;
	near_dups(2000, 50, 7, "", buf, t, lens);
	near_dups(1000, 1, 10, "nu xi omicron pi rho ", buf + 2000, t + 2000, lens + 2000);
	pair_list big = {0}, s1 = {0}, s2 = {0};
	wn_minhash *a = many(t, lens, 0, 2, &big), *b = many(t, lens, 4096, 1, &s1),
		   *c = many(t, lens, 4096, 2, &s2);
	CHECK(a && b && c);
	if (a && b && c) {
		size_t runs, pr, pp;
		uint64_t bytes, na, nva, nb, nvb;
		CHECK(wn_minhash_spilled(a, &runs, &pr, &pp, &bytes) == 0 && pr == 0 && pp == 0);
		CHECK(wn_minhash_spilled(b, &runs, &pr, &pp, &bytes) == 1 && pr > 20 && pp >= 3);
		fprintf(stderr, "test_pairs_spill: %zu pairs, %zu runs of pairs, %zu merge passes\n",
			big.n, pr, pp);
		CHECK(big.n > 10000 && same_pairs(&big, &s1) && same_pairs(&big, &s2));
		wn_minhash_pair_counts(a, &na, &nva);
		wn_minhash_pair_counts(b, &nb, &nvb);
		CHECK(na == big.n && nb == na && nvb == nva && nva > 0 && nva < na);
		size_t diff = 0;
		for (size_t i = 0; i < 3000; i++)
			diff += wn_minhash_root(a, i) != wn_minhash_root(b, i) ||
				wn_minhash_root(a, i) != wn_minhash_root(c, i) ||
				wn_minhash_group_size(a, i) != wn_minhash_group_size(b, i);
		CHECK_EQ_INT(diff, 0);
		CHECK_EQ_INT(wn_minhash_group_size(a, 2999), 100); /* a chain of 100 copies, one group */
		CHECK_EQ_INT(wn_minhash_root(a, 2999), 2009);
	}
	free(big.p);
	free(s1.p);
	free(s2.p);
	wn_minhash_free(a);
	wn_minhash_free(b);
	wn_minhash_free(c);
done:
	free(buf);
	free(t);
	free(lens);
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
	wn_minhash *m = build(t, 2, 2, 1, NULL);
	wn_minhash_view v = {0};
	const uint64_t *set;
	size_t n;
	CHECK(m && !wn_minhash_text(m, 0, &v, NULL, &set, &n));
	CHECK(n == 2 && set[0] == want2[0] && set[1] == want2[1]);
	wn_minhash_free(m);
	m = build(t, 2, 5, 1, NULL);
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
	pair_list la = {0}, lb = {0};
	CHECK(!group(a, &la) && !group(b, &lb));
	wn_minhash_view va = {0}, vb = {0};
	for (size_t i = 0; i < 64; i++) {
		const uint64_t *ba, *bb, *s;
		size_t n;
		CHECK(!wn_minhash_text(a, i, &va, &ba, &s, &n) && !wn_minhash_text(b, i, &vb, &bb, &s, &n));
		CHECK(!memcmp(ba, bb, 16 * sizeof *ba));
	}
	CHECK(la.n > 0 && same_pairs(&la, &lb));
	free(la.p);
	free(lb.p);
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
	RUN(test_bucket_rule);
	RUN(test_pairs_spill);
	return TEST_EXIT;
}
