/*
 * selectors/dedup_seen.h — the memory-bounded "seen" set of `dedup exact`:
 * 128-bit hashes in an exact open-addressing table, each with the raw JSON
 * of the first record's name (winnow.dup_of), up to half of a byte budget;
 * past that the table is frozen (still exact for what it holds) and new
 * hashes go to a Bloom filter of the other half, whose false-positive rate
 * is stated up front (the target) and estimated at the end from its fill.
 *
 * Owns: the table, the name arena and the Bloom bits. Borrows: nothing.
 * Why: datatrove, NeMo Curator and text-dedup issues all report dedup
 * memory growing without bound; here it never exceeds the budget.
 */
#ifndef WN_SELECTORS_DEDUP_SEEN_H
#define WN_SELECTORS_DEDUP_SEEN_H

#include <stddef.h>
#include <stdint.h>

typedef struct wn_dedup_seen {
	size_t budget;            /* bytes for everything */
	/* exact part */
	uint64_t *slots;          /* cap x {lo, hi, name_ref+1 (0: empty)} */
	size_t cap, count;
	char *arena;              /* names: [u32 len][bytes] ... */
	size_t arena_len, arena_cap;
	int frozen;               /* 1 once the exact part is full */
	/* Bloom part */
	uint64_t *bloom;
	uint64_t bloom_bits;      /* m */
	int bloom_k;              /* hashes per key */
	double target_fpr;
	uint64_t bloom_count;     /* keys inserted */
	uint64_t bloom_hits;      /* lookups answered "seen" by the filter */
} wn_dedup_seen;

/* budget >= 4096 bytes; target_fpr in (0, 1). Returns 0 or -1 (memory). */
int wn_dedup_seen_init(wn_dedup_seen *s, size_t budget, double target_fpr);
void wn_dedup_seen_free(wn_dedup_seen *s);

/*
 * Look up (lo, hi); when it is new, insert it with `name` (raw JSON, n
 * bytes). Returns 0 when new, 1 when seen in the exact table (then *name
 * and *name_len point to the first record's name, valid until the next
 * call), 2 when the Bloom filter says seen (no name), -1 out of memory.
 */
int wn_dedup_seen_add(wn_dedup_seen *s, uint64_t lo, uint64_t hi, const char *name, size_t n,
		      const char **first, size_t *first_len);

/* The Bloom filter's false-positive rate now: (1 - e^(-k n / m))^k. */
double wn_dedup_seen_fpr(const wn_dedup_seen *s);

#endif
