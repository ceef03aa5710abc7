/*
 * store/seen.c — the set of content hashes (see store/seen.h).
 */
#include "store/seen.h"

#include <stdlib.h>

#include <xxhash.h>

void wn_store_seen_free(wn_store_seen *s)
{
	free(s->slot);
	s->slot = NULL;
	s->cap = s->n = 0;
}

static size_t slot_of(const wn_store_seen *s, uint64_t h)
{
	size_t i = (size_t)(h * 0x9E3779B97F4A7C15ull) & (s->cap - 1);
	while (s->slot[i] && s->slot[i] != h)
		i = (i + 1) & (s->cap - 1);
	return i;
}

int wn_store_seen_has(const wn_store_seen *s, uint64_t h)
{
	h = h ? h : 1;
	return s->cap && s->slot[slot_of(s, h)] == h;
}

static int grow(wn_store_seen *s)
{
	size_t cap = s->cap ? 2 * s->cap : 1024;
	wn_store_seen t = {calloc(cap, sizeof *t.slot), cap, 0};
	if (!t.slot)
		return -1;
	for (size_t i = 0; i < s->cap; i++)
		if (s->slot[i])
			t.slot[slot_of(&t, s->slot[i])] = s->slot[i];
	t.n = s->n;
	free(s->slot);
	*s = t;
	return 0;
}

int wn_store_seen_add(wn_store_seen *s, uint64_t h)
{
	h = h ? h : 1;
	if (2 * (s->n + 1) > s->cap && grow(s))
		return -1;
	size_t i = slot_of(s, h);
	if (!s->slot[i]) {
		s->slot[i] = h;
		s->n++;
	}
	return 0;
}

uint64_t wn_store_content_hash(wn_span record, const char *id_field, wn_buf *scratch)
{
	wn_span v, u;
	if (id_field && wn_json_get(record, id_field, &v)) {
		if (wn_json_type_of(v) == WN_JSON_STRING && !wn_json_string(v, scratch, &u))
			return XXH3_64bits(u.p, u.n);
		return XXH3_64bits(v.p, v.n);
	}
	return XXH3_64bits(record.p, record.n);
}
