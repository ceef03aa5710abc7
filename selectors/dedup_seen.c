/*
 * selectors/dedup_seen.c — the memory-bounded seen set of `dedup exact`
 * (see selectors/dedup_seen.h).
 *
 * Accounting: the exact part may hold at most budget/2 bytes at its peak
 * (a table being doubled counts old and new together, plus the name
 * arena); the Bloom filter is budget/2 bytes, allocated when the exact part
 * freezes. So the whole never exceeds the budget.
 *
 * The Bloom filter uses k = round(log2(1/target)) bit positions by double
 * hashing of the two 64-bit halves (Kirsch & Mitzenmacher 2006), the
 * number of hashes that is optimal when the filter is filled to its
 * capacity for the target rate, m ln2 / k keys.
 */
#include "selectors/dedup_seen.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SLOT_WORDS 3
#define SLOT_BYTES (SLOT_WORDS * sizeof(uint64_t))

int wn_dedup_seen_init(wn_dedup_seen *s, size_t budget, double target_fpr)
{
	memset(s, 0, sizeof *s);
	s->budget = budget;
	s->target_fpr = target_fpr;
	size_t cap = 1024;
	while (cap > 16 && cap * SLOT_BYTES > budget / 4)
		cap /= 2;
	s->slots = calloc(cap, SLOT_BYTES);
	if (!s->slots)
		return -1;
	s->cap = cap;
	return 0;
}

void wn_dedup_seen_free(wn_dedup_seen *s)
{
	free(s->slots);
	free(s->arena);
	free(s->bloom);
	memset(s, 0, sizeof *s);
}

static size_t exact_used(const wn_dedup_seen *s)
{
	return s->cap * SLOT_BYTES + s->arena_cap;
}

/* The slot holding (lo, hi), or the empty slot where it would go. */
static uint64_t *find_slot(uint64_t *slots, size_t cap, uint64_t lo, uint64_t hi)
{
	size_t i = (size_t)(lo ^ (hi >> 17)) & (cap - 1);
	for (;; i = (i + 1) & (cap - 1)) {
		uint64_t *e = slots + i * SLOT_WORDS;
		if (!e[2] || (e[0] == lo && e[1] == hi))
			return e;
	}
}

/* Double the table when it is half full: 0, 1 when the budget forbids, -1 oom. */
static int grow_table(wn_dedup_seen *s)
{
	if ((s->count + 1) * 2 <= s->cap)
		return 0;
	size_t ncap = s->cap * 2;
	if (ncap * SLOT_BYTES + exact_used(s) > s->budget / 2)
		return 1;
	uint64_t *n = calloc(ncap, SLOT_BYTES);
	if (!n)
		return -1;
	for (size_t i = 0; i < s->cap; i++) {
		uint64_t *e = s->slots + i * SLOT_WORDS;
		if (e[2])
			memcpy(find_slot(n, ncap, e[0], e[1]), e, SLOT_BYTES);
	}
	free(s->slots);
	s->slots = n;
	s->cap = ncap;
	return 0;
}

/* Room for a name of n bytes: 0, 1 when the budget forbids, -1 oom. */
static int grow_arena(wn_dedup_seen *s, size_t n)
{
	size_t need = s->arena_len + 4 + n;
	if (need <= s->arena_cap)
		return 0;
	size_t ncap = s->arena_cap ? s->arena_cap * 2 : 4096;
	while (ncap < need)
		ncap *= 2;
	size_t room = s->budget / 2 - s->cap * SLOT_BYTES;
	if (s->cap * SLOT_BYTES > s->budget / 2 || need > room)
		return 1;
	if (ncap > room)
		ncap = room;
	char *a = realloc(s->arena, ncap);
	if (!a)
		return -1;
	s->arena = a;
	s->arena_cap = ncap;
	return 0;
}

/* The exact part is full: allocate the Bloom filter of budget/2 bytes. */
static int freeze(wn_dedup_seen *s)
{
	uint64_t words = (s->budget / 2) / sizeof(uint64_t);
	s->bloom = calloc(words ? words : 1, sizeof(uint64_t));
	if (!s->bloom)
		return -1;
	s->bloom_bits = (words ? words : 1) * 64;
	int k = (int)lround(log2(1.0 / s->target_fpr));
	s->bloom_k = k < 1 ? 1 : k > 64 ? 64 : k;
	s->frozen = 1;
	return 0;
}

/* Test and set: 1 when every bit was already set. */
static int bloom_add(wn_dedup_seen *s, uint64_t lo, uint64_t hi)
{
	uint64_t h2 = hi | 1, all = 1;
	for (int i = 0; i < s->bloom_k; i++) {
		uint64_t bit = (lo + (uint64_t)i * h2) % s->bloom_bits;
		uint64_t mask = (uint64_t)1 << (bit & 63);
		all &= (s->bloom[bit >> 6] & mask) != 0;
		s->bloom[bit >> 6] |= mask;
	}
	if (all) {
		s->bloom_hits++;
		return 1;
	}
	s->bloom_count++;
	return 0;
}

static int insert_exact(wn_dedup_seen *s, uint64_t *e, uint64_t lo, uint64_t hi,
			const char *name, size_t n)
{
	uint32_t len = (uint32_t)n;
	memcpy(s->arena + s->arena_len, &len, 4);
	memcpy(s->arena + s->arena_len + 4, name, n);
	e[0] = lo;
	e[1] = hi;
	e[2] = (uint64_t)s->arena_len + 1;
	s->arena_len += 4 + n;
	s->count++;
	return 0;
}

int wn_dedup_seen_add(wn_dedup_seen *s, uint64_t lo, uint64_t hi, const char *name, size_t n,
		      const char **first, size_t *first_len)
{
	uint64_t *e = find_slot(s->slots, s->cap, lo, hi);
	if (e[2]) {
		uint32_t len;
		memcpy(&len, s->arena + e[2] - 1, 4);
		*first = s->arena + e[2] - 1 + 4;
		*first_len = len;
		return 1;
	}
	if (!s->frozen) {
		int g = grow_table(s);
		if (g == 0)
			g = grow_arena(s, n);
		if (g < 0)
			return -1;
		if (g == 0) {
			e = find_slot(s->slots, s->cap, lo, hi);
			return insert_exact(s, e, lo, hi, name, n);
		}
		if (freeze(s))
			return -1;
	}
	return bloom_add(s, lo, hi) ? 2 : 0;
}

double wn_dedup_seen_fpr(const wn_dedup_seen *s)
{
	if (!s->frozen)
		return 0;
	double k = s->bloom_k, fill = -k * (double)s->bloom_count / (double)s->bloom_bits;
	return pow(1.0 - exp(fill), k);
}
