/*
 * io/intern.c — the string-interning table (see io/intern.h).
 *
 * Linear probing over a power-of-two slot array kept at most half full.
 * A slot holds the full 64-bit hash and the length beside the id, so a
 * probe compares bytes only when both match — in practice only for the
 * string it is looking for. The strings themselves sit in one arena,
 * back to back with a NUL after each, so off[id + 1] - off[id] - 1 is a
 * length and no per-string allocation is made.
 */
#include "io/intern.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define EMPTY UINT32_MAX
#define FIRST_SLOTS 64

struct slot {
	uint64_t hash;
	uint32_t id; /* EMPTY: free slot */
	uint32_t len;
};

struct wn_intern {
	wn_intern_mem mem;
	char *arena;
	size_t arena_len, arena_cap;
	size_t *off; /* count + 1 entries: off[id] .. off[id + 1] - 1 */
	size_t count, off_cap;
	struct slot *slots;
	size_t nslots; /* 0 or a power of two */
};

static void *libc_realloc(void *ctx, void *p, size_t n)
{
	(void)ctx;
	return realloc(p, n);
}

static void libc_free(void *ctx, void *p)
{
	(void)ctx;
	free(p);
}

wn_intern *wn_intern_new_mem(const wn_intern_mem *mem)
{
	wn_intern_mem m = mem ? *mem : (wn_intern_mem){libc_realloc, libc_free, NULL};
	wn_intern *t = m.realloc(m.ctx, NULL, sizeof *t);
	if (!t)
		return NULL;
	memset(t, 0, sizeof *t);
	t->mem = m;
	return t;
}

wn_intern *wn_intern_new(void)
{
	return wn_intern_new_mem(NULL);
}

void wn_intern_free(wn_intern *t)
{
	if (!t)
		return;
	t->mem.free(t->mem.ctx, t->arena);
	t->mem.free(t->mem.ctx, t->off);
	t->mem.free(t->mem.ctx, t->slots);
	t->mem.free(t->mem.ctx, t);
}

/* The slot holding (p, n, h), or the empty slot where it would go. */
static struct slot *slot_for(const wn_intern *t, const void *p, size_t n, uint64_t h)
{
	size_t mask = t->nslots - 1;
	for (size_t i = h & mask;; i = (i + 1) & mask) {
		struct slot *s = &t->slots[i];
		if (s->id == EMPTY ||
		    (s->hash == h && s->len == n &&
		     (n == 0 || memcmp(t->arena + t->off[s->id], p, n) == 0)))
			return s;
	}
}

int64_t wn_intern_find(const wn_intern *t, const void *p, size_t n)
{
	if (!t->nslots || n > UINT32_MAX)
		return -1;
	const struct slot *s = slot_for(t, p, n, XXH3_64bits(p, n));
	return s->id == EMPTY ? -1 : (int64_t)s->id;
}

/* Grow *p (cap elements of size elem) to hold need; 0 or -1 (unchanged). */
static int reserve(wn_intern *t, void **p, size_t *cap, size_t need, size_t elem, size_t first)
{
	if (need <= *cap)
		return 0;
	size_t c = *cap ? *cap : first;
	while (c < need) {
		if (c > SIZE_MAX / 2 / elem)
			return -1;
		c *= 2;
	}
	void *q = t->mem.realloc(t->mem.ctx, *p, c * elem);
	if (!q)
		return -1;
	*p = q;
	*cap = c;
	return 0;
}

/* Double the slot array (or make the first one); -1 leaves it as it was. */
static int rehash(wn_intern *t)
{
	size_t n = t->nslots ? t->nslots * 2 : FIRST_SLOTS;
	if (n > SIZE_MAX / sizeof(struct slot))
		return -1;
	struct slot *ns = t->mem.realloc(t->mem.ctx, NULL, n * sizeof *ns);
	if (!ns)
		return -1;
	for (size_t i = 0; i < n; i++)
		ns[i].id = EMPTY;
	for (size_t i = 0; i < t->nslots; i++) {
		struct slot *o = &t->slots[i];
		if (o->id == EMPTY)
			continue;
		size_t j = o->hash & (n - 1);
		while (ns[j].id != EMPTY)
			j = (j + 1) & (n - 1);
		ns[j] = *o;
	}
	t->mem.free(t->mem.ctx, t->slots);
	t->slots = ns;
	t->nslots = n;
	return 0;
}

int64_t wn_intern_put(wn_intern *t, const void *p, size_t n, int *added)
{
	if (added)
		*added = 0;
	if (n > UINT32_MAX)
		return -1;
	uint64_t h = XXH3_64bits(p, n);
	if (t->nslots) {
		struct slot *s = slot_for(t, p, n, h);
		if (s->id != EMPTY)
			return s->id;
	}
	if (t->count >= EMPTY - 1 ||
	    reserve(t, (void **)&t->off, &t->off_cap, t->count + 2, sizeof *t->off, 16) ||
	    reserve(t, (void **)&t->arena, &t->arena_cap, t->arena_len + n + 1, 1, 256) ||
	    ((t->count + 1) * 2 > t->nslots && rehash(t)))
		return -1;
	size_t id = t->count++;
	t->off[id] = t->arena_len;
	if (n)
		memcpy(t->arena + t->arena_len, p, n);
	t->arena[t->arena_len + n] = 0;
	t->arena_len += n + 1;
	t->off[id + 1] = t->arena_len;
	struct slot *s = slot_for(t, p, n, h);
	*s = (struct slot){h, (uint32_t)id, (uint32_t)n};
	if (added)
		*added = 1;
	return (int64_t)id;
}

size_t wn_intern_count(const wn_intern *t)
{
	return t->count;
}

const char *wn_intern_str(const wn_intern *t, size_t id, size_t *n)
{
	if (id >= t->count) {
		*n = 0;
		return NULL;
	}
	*n = t->off[id + 1] - t->off[id] - 1;
	return t->arena + t->off[id];
}
