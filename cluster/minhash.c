/*
 * cluster/minhash.c — MinHash LSH with verification (see cluster/minhash.h).
 *
 * Threads: wn_minhash_add splits texts over OpenMP threads, each with its
 * own tokenizer workspace; every text's set, signature and band hashes
 * depend on that text alone, so the split cannot change them. Candidates
 * come off the sorted entries (one thread) and are verified in parallel,
 * a piece at a time, into their own slots.
 *
 * Memory: per text its offset in the store, its set size and its
 * union-find slot (16 bytes). The store (each text's band hashes, then its
 * digests) lives in memory up to half of opts.memory, then in an unlinked
 * temporary file read back with pread(2) (RSS stays flat: the page cache
 * is not ours). The (band, hash, text) entries the candidates come from are
 * buffered up to a quarter (and as much again to sort them), sorted, and
 * spilled as runs to a second unlinked file; the candidates are then read
 * off a k-way merge of the runs. The candidate pairs (8-byte keys) are
 * buffered in that sorting quarter, their repeats dropped whenever it
 * fills, and spilled as sorted runs to a third file; merge passes of at
 * most MERGE_MAX_FANIN runs (fewer on a small --memory) leave few enough
 * for the last merge, whose distinct pairs are verified and unioned piece
 * by piece and handed to the caller, never all held. Spilling changes
 * where bytes live, never a result.
 */
#include "cluster/minhash.h"

#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "core/rng.h"
#include "io/errf.h"
#include "io/fdio.h"
#include "io/spool.h"
#include "text/tokenize.h"

#define P61 (((uint64_t)1 << 61) - 1)

/* Sorted runs of fixed-size records in one unlinked file (positions in records). */
typedef struct run_list {
	int fd;                     /* -1 until the first run */
	uint64_t *at, *len;
	size_t n, cap;
	uint64_t end;               /* records written */
} run_list;

typedef struct band_entry {
	uint64_t h;
	uint32_t band, idx;
} band_entry;

struct wn_minhash {
	wn_minhash_opts o;
	uint64_t *a, *b;            /* the hash family, bands x rows of each */
	uint64_t *al, *ah;          /* a's low and high 32 bits, for the kernel */
	void (*kernel)(const uint64_t *, const uint64_t *, const uint64_t *, size_t,
		       const uint64_t *, size_t, uint64_t *);
	int kernel_id;              /* WN_MINHASH_KERNEL_* it runs */
	size_t n, cap;
	uint64_t *off;              /* n: word offset of text i in the store */
	uint32_t *set_n;            /* n: its distinct digests */
	/* the store: [bands band hashes][set_n digests] per text */
	uint64_t *arena;            /* in memory (NULL once on disk) */
	size_t arena_len, arena_cap, store_limit; /* words */
	int store_fd;               /* -1 until spilled */
	uint64_t store_words;       /* words in the store */
	uint64_t *wbuf;             /* on disk: words not written yet (flushed by every add) */
	size_t wbuf_n;
	/* band entries: a sorted-run buffer, then runs on disk */
	band_entry *be;
	size_t be_n, be_alloc, be_cap; /* entries held, allocated, allowed */
	run_list er;                /* sorted runs of entries */
	size_t entry_spills, entry_passes;
	/* candidate pairs (keys a << 32 | b): a buffer, then sorted runs on disk */
	uint64_t *pk;
	size_t pk_n, pk_alloc, pk_cap; /* keys held, allocated, allowed */
	run_list pr;
	size_t pair_spills, pair_passes; /* runs of pairs spilled; merge passes over them */
	uint64_t ncand, nverified;
	size_t mem;                 /* opts.memory, or its default */
	int32_t *uf;                /* n: the union-find (see uf_find) */
};

/* ---- datasketch's optimal_param ---- */

/* x^e by squaring (e >= 1 small): pow(3) cost a tenth of a short run here. */
static double ipow(double x, int e)
{
	double r = 1;
	while (e) {
		if (e & 1)
			r *= x;
		x *= x;
		e >>= 1;
	}
	return r;
}

static double fp_area(double t, int b, int r)
{
	const int N = 1000;
	double h = t / N, s = 0;
	for (int i = 0; i <= N; i++) {
		double x = i * h, y = 1 - ipow(1 - ipow(x, r), b);
		s += y * (i == 0 || i == N ? 1 : i % 2 ? 4 : 2);
	}
	return s * h / 3;
}

static double fn_area(double t, int b, int r)
{
	const int N = 1000;
	double h = (1 - t) / N, s = 0;
	for (int i = 0; i <= N; i++) {
		double x = t + i * h, y = ipow(1 - ipow(x, r), b);
		s += y * (i == 0 || i == N ? 1 : i % 2 ? 4 : 2);
	}
	return s * h / 3;
}

void wn_minhash_optimal_param(double threshold, int perms, double fp_weight, double fn_weight,
			      int *bands, int *rows)
{
	double best = INFINITY;
	*bands = *rows = 1;
	for (int b = 1; b <= perms; b++)
		for (int r = 1; r <= perms / b; r++) {
			double e = fp_weight * fp_area(threshold, b, r) + fn_weight * fn_area(threshold, b, r);
			if (e < best) {
				best = e;
				*bands = b;
				*rows = r;
			}
		}
}

/* ---- the unlinked temporary files (io/spool.h makes them) ---- */

static int write_at_end(int fd, const void *p, size_t bytes, char *err, size_t errlen)
{
	size_t done;
	if (wn_write_all(fd, p, bytes, &done) == 0)
		return 0;
	return wn_errf(err, errlen, "temporary file write failed (in %s): %s", wn_tmp_dir(),
		       strerror(errno)), -1;
}

static int read_at(int fd, void *p, size_t bytes, uint64_t at)
{
	char *c = p;
	while (bytes) {
		ssize_t r = pread(fd, c, bytes, (off_t)at);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		c += r;
		bytes -= (size_t)r;
		at += (uint64_t)r;
	}
	return 0;
}

static int runs_write(run_list *r, const void *p, size_t count, size_t size, char *err,
		      size_t errlen)
{
	if (r->fd < 0 && (r->fd = wn_tmpfile_open("temporary file", err, errlen)) < 0)
		return -1;
	if (write_at_end(r->fd, p, count * size, err, errlen))
		return -1;
	r->end += count;
	return 0;
}

/* Run k of r is [at, at + len) (records). */
static int runs_mark(run_list *r, uint64_t at, uint64_t len, char *err, size_t errlen)
{
	if (r->n == r->cap) {
		size_t nc = r->cap ? r->cap * 2 : 16;
		uint64_t *a = realloc(r->at, nc * sizeof *a);
		if (a)
			r->at = a;
		uint64_t *l = a ? realloc(r->len, nc * sizeof *l) : NULL;
		if (!l)
			return wn_errf(err, errlen, "out of memory"), -1;
		r->len = l;
		r->cap = nc;
	}
	r->at[r->n] = at;
	r->len[r->n++] = len;
	return 0;
}

static void runs_free(run_list *r)
{
	free(r->at);
	free(r->len);
	if (r->fd >= 0)
		close(r->fd);
	*r = (run_list){-1, NULL, NULL, 0, 0, 0};
}

/* ---- the permutation kernel ---- */

/*
 * The permutation step: sig[i] = min(sig[i], (a_i x + b_i) mod p) over the
 * k hashes for each shingle x (already reduced mod p). Exact in 64-bit
 * lanes with 32 x 32 -> 64 bit products, so it vectorises (vpmuludq):
 * a = ah 2^32 + al, x = xh 2^32 + xl (ah, xh < 2^29), and with 2^64 = 8,
 * 2^61 = 1 (mod p): a x = 8 ah xh + t1 2^32 + al xl, where t1 = ah xl +
 * al xh < 2^62 and t1 2^32 = (t1 >> 29) + (t1 mod 2^29) 2^32 (mod p).
 * The sum of the six terms is below 2^63 + 2^34; two folds and one
 * subtraction give the residue in [0, p), the same value as
 * ((unsigned __int128)a * x + b) mod p (the unit test checks both).
 * One source, compiled for AVX-512 and AVX2 (chosen at run time when the
 * CPU has them) and for the baseline ISA: integer arithmetic only, so every
 * path gives the same signatures bit for bit.
 */
#define MH_KERNEL_BODY                                                                     \
	for (size_t s = 0; s < n; s++) {                                                   \
		uint64_t x = set[s] % P61, xl = x & 0xffffffffu, xh = x >> 32;             \
		_Pragma("omp simd")                                                        \
		for (size_t i = 0; i < k; i++) {                                           \
			uint64_t t0 = al[i] * xl, t1 = ah[i] * xl + al[i] * xh, t2 = ah[i] * xh; \
			uint64_t v = (t2 << 3) + (t1 >> 29) + ((t1 & 0x1fffffffu) << 32) +   \
				     (t0 & P61) + (t0 >> 61) + b[i];                           \
			v = (v & P61) + (v >> 61);                                         \
			v = v >= P61 ? v - P61 : v;                                        \
			sig[i] = v < sig[i] ? v : sig[i];                                  \
		}                                                                          \
	}

typedef void (*mh_kernel_fn)(const uint64_t *al, const uint64_t *ah, const uint64_t *b, size_t k,
			     const uint64_t *set, size_t n, uint64_t *sig);

static void kernel_portable(const uint64_t *al, const uint64_t *ah, const uint64_t *b, size_t k,
			    const uint64_t *set, size_t n, uint64_t *sig)
{
	MH_KERNEL_BODY
}

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx2")))
static void kernel_avx2(const uint64_t *al, const uint64_t *ah, const uint64_t *b, size_t k,
			const uint64_t *set, size_t n, uint64_t *sig)
{
	MH_KERNEL_BODY
}

__attribute__((target("avx512f,avx512vl,avx512dq")))
static void kernel_avx512(const uint64_t *al, const uint64_t *ah, const uint64_t *b, size_t k,
			  const uint64_t *set, size_t n, uint64_t *sig)
{
	MH_KERNEL_BODY
}
#endif

/* The kernel for o->kernel (WN_MINHASH_KERNEL_*): the best the CPU runs, or the one asked. */
static int pick_kernel(int want, mh_kernel_fn *fn)
{
	*fn = kernel_portable;
#if defined(__x86_64__) && defined(__GNUC__)
	__builtin_cpu_init();
	int has512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
		     __builtin_cpu_supports("avx512dq");
	int has2 = __builtin_cpu_supports("avx2");
	if ((want == WN_MINHASH_KERNEL_AUTO || want == WN_MINHASH_KERNEL_AVX512) && has512)
		return *fn = kernel_avx512, WN_MINHASH_KERNEL_AVX512;
	if ((want == WN_MINHASH_KERNEL_AUTO || want == WN_MINHASH_KERNEL_AVX2) && has2)
		return *fn = kernel_avx2, WN_MINHASH_KERNEL_AVX2;
#endif
	return want == WN_MINHASH_KERNEL_AUTO || want == WN_MINHASH_KERNEL_PORTABLE
		       ? WN_MINHASH_KERNEL_PORTABLE : -1;
}

/* ---- the index ---- */

wn_minhash *wn_minhash_new(const wn_minhash_opts *o)
{
	wn_minhash *m = calloc(1, sizeof *m);
	size_t k = (size_t)o->bands * (size_t)o->rows;
	if (!m)
		return NULL;
	m->store_fd = m->er.fd = m->pr.fd = -1;
	if (!(m->a = malloc(k * sizeof *m->a)) || !(m->b = malloc(k * sizeof *m->b)) ||
	    !(m->al = malloc(k * sizeof *m->al)) || !(m->ah = malloc(k * sizeof *m->ah)) ||
	    (m->kernel_id = pick_kernel(o->kernel, &m->kernel)) < 0) {
		wn_minhash_free(m);
		return NULL;
	}
	m->o = *o;
	size_t mem = o->memory ? o->memory : (size_t)1 << 30;
	m->store_limit = mem / 2 / sizeof(uint64_t);
	m->be_cap = mem / 4 / sizeof(band_entry); /* and as much again to sort a run */
	if (m->be_cap < 64)
		m->be_cap = 64;
	m->mem = mem;
	m->pk_cap = mem / 4 / sizeof(uint64_t); /* the entries' sorting half, free by then */
	if (m->pk_cap < 1024)
		m->pk_cap = 1024;
	for (size_t i = 0; i < k; i++) {
		m->a[i] = 1 + wn_rng_u64(o->seed, WN_MINHASH_STREAM, 2 * i) % (P61 - 1);
		m->b[i] = wn_rng_u64(o->seed, WN_MINHASH_STREAM, 2 * i + 1) % P61;
		m->al[i] = m->a[i] & 0xffffffffu;
		m->ah[i] = m->a[i] >> 32;
	}
	return m;
}

void wn_minhash_free(wn_minhash *m)
{
	if (!m)
		return;
	free(m->off);
	free(m->set_n);
	free(m->arena);
	free(m->wbuf);
	free(m->be);
	runs_free(&m->er);
	if (m->store_fd >= 0)
		close(m->store_fd);
	free(m->a);
	free(m->b);
	free(m->al);
	free(m->ah);
	free(m->pk);
	runs_free(&m->pr);
	free(m->uf);
	free(m);
}

static int grow(wn_minhash *m, size_t need)
{
	if (need <= m->cap)
		return 0;
	size_t nc = m->cap ? m->cap * 2 : 4096;
	while (nc < need)
		nc *= 2;
	uint64_t *of = realloc(m->off, nc * sizeof *of);
	if (of)
		m->off = of;
	uint32_t *sn = realloc(m->set_n, nc * sizeof *sn);
	if (sn)
		m->set_n = sn;
	if (!of || !sn)
		return -1;
	m->cap = nc;
	return 0;
}

int wn_minhash_spilled(const wn_minhash *m, size_t *runs, size_t *pair_runs, size_t *pair_passes,
		       uint64_t *store_bytes)
{
	*runs = m->entry_spills;
	*pair_runs = m->pair_spills;
	*pair_passes = m->pair_passes;
	*store_bytes = m->store_words * sizeof(uint64_t);
	return m->store_fd >= 0;
}

/* ---- the store ---- */

#define WBUF_WORDS 65536 /* 512 KiB of writes at once once the store is on disk */

static int store_flush(wn_minhash *m, char *err, size_t errlen)
{
	if (!m->wbuf_n)
		return 0;
	int rc = write_at_end(m->store_fd, m->wbuf, m->wbuf_n * sizeof *m->wbuf, err, errlen);
	m->wbuf_n = 0;
	return rc;
}

/* Append words to the store (memory, or the file once past the limit). */
static int store_put(wn_minhash *m, const uint64_t *w, size_t nw, char *err, size_t errlen)
{
	if (m->store_fd < 0 && m->arena_len + nw > m->store_limit) {
		if ((m->store_fd = wn_tmpfile_open("temporary file", err, errlen)) < 0 ||
		    write_at_end(m->store_fd, m->arena, m->arena_len * sizeof *w, err, errlen))
			return -1;
		free(m->arena);
		m->arena = NULL;
		m->arena_len = m->arena_cap = 0;
	}
	if (m->store_fd >= 0) {
		if (!m->wbuf && !(m->wbuf = malloc(WBUF_WORDS * sizeof *m->wbuf)))
			return wn_errf(err, errlen, "out of memory"), -1;
		if (m->wbuf_n + nw > WBUF_WORDS && store_flush(m, err, errlen))
			return -1;
		if (nw > WBUF_WORDS) {
			if (write_at_end(m->store_fd, w, nw * sizeof *w, err, errlen))
				return -1;
		} else {
			memcpy(m->wbuf + m->wbuf_n, w, nw * sizeof *w);
			m->wbuf_n += nw;
		}
	} else {
		if (m->arena_len + nw > m->arena_cap) {
			size_t nc = m->arena_cap ? m->arena_cap * 2 : 65536;
			while (nc < m->arena_len + nw)
				nc *= 2;
			if (nc > m->store_limit) /* never past the limit: it holds */
				nc = m->store_limit;
			uint64_t *q = realloc(m->arena, nc * sizeof *q);
			if (!q)
				return wn_errf(err, errlen, "out of memory (shingle sets)"), -1;
			m->arena = q;
			m->arena_cap = nc;
		}
		memcpy(m->arena + m->arena_len, w, nw * sizeof *w);
		m->arena_len += nw;
	}
	m->store_words += nw;
	return 0;
}

int wn_minhash_text(const wn_minhash *m, size_t i, wn_minhash_view *v, const uint64_t **bands,
		    const uint64_t **set, size_t *n)
{
	size_t nb = (size_t)m->o.bands, nw = nb + m->set_n[i];
	const uint64_t *p;
	if (m->store_fd < 0) {
		p = m->arena + m->off[i];
	} else {
		if (nw > v->cap) {
			uint64_t *q = realloc(v->buf, nw * sizeof *q);
			if (!q)
				return -1;
			v->buf = q;
			v->cap = nw;
		}
		if (read_at(m->store_fd, v->buf, nw * sizeof *v->buf, m->off[i] * sizeof *v->buf))
			return -1;
		p = v->buf;
	}
	if (bands)
		*bands = p;
	*set = p + nb;
	*n = m->set_n[i];
	return 0;
}

void wn_minhash_view_free(wn_minhash_view *v)
{
	free(v->buf);
	v->buf = NULL;
	v->cap = 0;
}

/* ---- band entries: a buffer, sorted runs on disk ---- */

static int cmp_entry(const void *x, const void *y)
{
	const band_entry *a = x, *b = y;
	if (a->band != b->band)
		return a->band < b->band ? -1 : 1;
	if (a->h != b->h)
		return a->h < b->h ? -1 : 1;
	return (a->idx > b->idx) - (a->idx < b->idx);
}

/*
 * One bucket of sort_entries (equal band and top hash bits, idx ascending:
 * the counting sorts are stable) into (hash, idx) order: insertion sort,
 * linear when already in order (a bucket of identical copies), qsort for a
 * big bucket out of order.
 */
static void sort_bucket(band_entry *e, size_t n)
{
	size_t i = 1;
	while (i < n && e[i - 1].h <= e[i].h)
		i++;
	if (i == n)
		return;
	if (n > 32) {
		qsort(e, n, sizeof *e, cmp_entry);
		return;
	}
	for (; i < n; i++) {
		band_entry v = e[i];
		size_t j = i;
		while (j > 0 && e[j - 1].h > v.h) {
			e[j] = e[j - 1];
			j--;
		}
		e[j] = v;
	}
}

/* Band j's entries tmp[lo, hi) into e[lo, hi) in (hash, idx) order; ct: SORT_TOP + 1 counters. */
#define SORT_TOP 65536
static void sort_band(band_entry *e, const band_entry *tmp, size_t lo, size_t hi, uint32_t *ct)
{
	memset(ct, 0, (SORT_TOP + 1) * sizeof *ct);
	for (size_t i = lo; i < hi; i++)
		ct[(tmp[i].h >> 48) + 1]++;
	for (size_t t = 0; t < SORT_TOP; t++)
		ct[t + 1] += ct[t];
	for (size_t i = lo; i < hi; i++)
		e[lo + ct[tmp[i].h >> 48]++] = tmp[i];
	for (size_t t = 0, b0 = 0; hi > lo && t < SORT_TOP; t++) {
		sort_bucket(e + lo + b0, ct[t] - b0);
		b0 = ct[t];
	}
}

/*
 * e[0..n) (idx ascending, as put_entry appends them) into (band, hash,
 * idx) order, as qsort with cmp_entry would put it (the order is total):
 * a counting sort by band into tmp, then the bands in parallel, each a
 * counting sort by the hash's top 16 bits back into e and each bucket
 * sorted; hashes are uniform, so buckets hold a few entries. Every band's
 * result depends on its entries alone: the same at any thread count.
 * -1 out of memory (e then in no defined order).
 */
static int sort_entries(band_entry *e, size_t n, int nbands, int threads)
{
	if (n < 2)
		return 0;
	band_entry *tmp = malloc(n * sizeof *tmp);
	size_t *cb = calloc((size_t)nbands + 1, sizeof *cb);
	int rc = -1, failed = 0;
	if (!tmp || !cb)
		goto done;
	for (size_t i = 0; i < n; i++)
		cb[e[i].band + 1]++;
	for (int j = 0; j < nbands; j++)
		cb[j + 1] += cb[j];
	for (size_t i = 0; i < n; i++)
		tmp[cb[e[i].band]++] = e[i];
	int nth = threads > 0 ? threads : omp_get_max_threads();
#pragma omp parallel num_threads(nth) reduction(| : failed)
	{
		uint32_t *ct = malloc((SORT_TOP + 1) * sizeof *ct);
		failed = !ct;
#pragma omp for schedule(dynamic, 1)
		for (int j = 0; j < nbands; j++)
			if (ct)
				sort_band(e, tmp, j ? cb[j - 1] : 0, cb[j], ct);
		free(ct);
	}
	rc = failed ? -1 : 0;
done:
	free(tmp);
	free(cb);
	return rc;
}

static int spill_run(wn_minhash *m, char *err, size_t errlen)
{
	if (!m->be_n)
		return 0;
	if (sort_entries(m->be, m->be_n, m->o.bands, m->o.threads))
		return wn_errf(err, errlen, "out of memory (sorting band hashes)"), -1;
	uint64_t at = m->er.end;
	if (runs_write(&m->er, m->be, m->be_n, sizeof *m->be, err, errlen) ||
	    runs_mark(&m->er, at, m->be_n, err, errlen))
		return -1;
	m->entry_spills++;
	m->be_n = 0;
	return 0;
}

static int put_entry(wn_minhash *m, band_entry e, char *err, size_t errlen)
{
	if (!m->be) {
		size_t want = m->be_cap < 65536 ? m->be_cap : 65536;
		if (!(m->be = malloc(want * sizeof *m->be)))
			return wn_errf(err, errlen, "out of memory"), -1;
		m->be_alloc = want;
	}
	if (m->be_n == m->be_alloc) {
		if (m->be_alloc < m->be_cap) {
			size_t nc = m->be_alloc * 2 < m->be_cap ? m->be_alloc * 2 : m->be_cap;
			band_entry *q = realloc(m->be, nc * sizeof *q);
			if (!q)
				return wn_errf(err, errlen, "out of memory (band hashes)"), -1;
			m->be = q;
			m->be_alloc = nc;
		} else if (spill_run(m, err, errlen)) {
			return -1;
		}
	}
	m->be[m->be_n++] = e;
	return 0;
}

/* ---- one text: set, signature, bands ---- */

typedef struct digests {
	uint64_t *v, *w;  /* shingle digests; word hashes */
	size_t n, cap, wcap;
} digests;

static int reserve(uint64_t **p, size_t *cap, size_t need)
{
	if (need <= *cap)
		return 0;
	size_t nc = *cap ? *cap : 256;
	while (nc < need)
		nc *= 2;
	uint64_t *q = realloc(*p, nc * sizeof *q);
	if (!q)
		return -1;
	*p = q;
	*cap = nc;
	return 0;
}

/* murmur3's fmix64: the shingle digest's final mix. */
static inline uint64_t fmix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 33);
}

/*
 * The digests of one text's shingles (see cluster/minhash.h): each word
 * hashed once, each window of k words combined from its k word hashes.
 */
static int shingle_digests(digests *d, const char *norm, const wn_tok_span *sp, size_t nw, int ngram)
{
	d->n = 0;
	if (!nw)
		return 0;
	size_t k = (size_t)ngram < nw ? (size_t)ngram : nw, count = nw - k + 1;
	if (reserve(&d->w, &d->wcap, nw) || reserve(&d->v, &d->cap, count))
		return -1;
	for (size_t i = 0; i < nw; i++)
		d->w[i] = XXH3_64bits(norm + sp[i].off, sp[i].len);
	for (size_t i = 0; i < count; i++) {
		uint64_t h = d->w[i];
		for (size_t j = 1; j < k; j++)
			h = h * WN_MINHASH_SHINGLE_MUL + d->w[i + j];
		d->v[i] = fmix64(h);
	}
	d->n = count;
	return 0;
}

static void insertion_u64(uint64_t *v, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		uint64_t x = v[i];
		size_t j = i;
		while (j > 0 && v[j - 1] > x) {
			v[j] = v[j - 1];
			j--;
		}
		v[j] = x;
	}
}

/* Quicksort (median of three, insertion below 32, the smaller side first). */
static void sort_u64(uint64_t *v, size_t n)
{
	while (n > 32) {
		uint64_t a = v[0], b = v[n / 2], c = v[n - 1];
		uint64_t p = a < b ? (b < c ? b : a < c ? c : a) : (a < c ? a : b < c ? c : b);
		size_t i = 0, j = n - 1;
		for (;;) {
			while (v[i] < p)
				i++;
			while (v[j] > p)
				j--;
			if (i >= j)
				break;
			uint64_t t = v[i];
			v[i++] = v[j];
			v[j--] = t;
		}
		size_t left = j + 1;
		if (left < n - left) {
			sort_u64(v, left);
			v += left;
			n -= left;
		} else {
			sort_u64(v + left, n - left);
			n = left;
		}
	}
	insertion_u64(v, n);
}

static size_t sort_unique(uint64_t *v, size_t n)
{
	if (n < 2)
		return n;
	sort_u64(v, n);
	size_t w = 1;
	for (size_t i = 1; i < n; i++)
		if (v[i] != v[w - 1])
			v[w++] = v[i];
	return w;
}

/* Signature of the set into sig (bands x rows values), then its band hashes. */
static void sign(const wn_minhash *m, const uint64_t *set, size_t n, uint64_t *sig, uint64_t *band)
{
	size_t k = (size_t)m->o.bands * (size_t)m->o.rows;
	for (size_t i = 0; i < k; i++)
		sig[i] = UINT64_MAX;
	m->kernel(m->al, m->ah, m->b, k, set, n, sig);
	for (int j = 0; j < m->o.bands; j++)
		band[j] = XXH3_64bits_withSeed(sig + (size_t)j * m->o.rows,
					       (size_t)m->o.rows * sizeof *sig, (uint64_t)j);
}

int wn_minhash_kernel(const wn_minhash *m) { return m->kernel_id; }

void wn_minhash_signature(const wn_minhash *m, const uint64_t *set, size_t n, uint64_t *sig)
{
	size_t k = (size_t)m->o.bands * (size_t)m->o.rows;
	for (size_t i = 0; i < k; i++)
		sig[i] = UINT64_MAX;
	m->kernel(m->al, m->ah, m->b, k, set, n, sig);
}

/* One block's texts before they go to the store: sets and band hashes. */
typedef struct block {
	uint64_t **set;
	uint32_t *n;
	uint64_t *band;   /* n x bands */
} block;

/* 0, or a wn_tok status / WN_TOK_ENOMEM. */
static int add_one(const wn_minhash *m, wn_tok *t, digests *d, uint64_t *sig, const char *text,
		   size_t len, block *b, size_t i)
{
	const char *norm;
	const wn_tok_span *spans;
	long nt = wn_tok_run(t, text, len, &norm, &spans);
	if (nt < 0)
		return (int)nt;
	if (shingle_digests(d, norm, spans, (size_t)nt, m->o.ngram))
		return WN_TOK_ENOMEM;
	size_t n = sort_unique(d->v, d->n);
	uint64_t *set = malloc((n ? n : 1) * sizeof *set);
	if (!set)
		return WN_TOK_ENOMEM;
	memcpy(set, d->v, n * sizeof *set);
	b->set[i] = set;
	b->n[i] = (uint32_t)n;
	sign(m, set, n, sig, b->band + i * (size_t)m->o.bands);
	return 0;
}

/* Sets, signatures and band hashes of texts[0..n), in parallel; -1 and *bad, *code on failure. */
static void compute_block(const wn_minhash *m, const char *const *texts, const size_t *lens,
			  size_t n, block *b, long *bad, int *code)
{
	size_t k = (size_t)m->o.bands * (size_t)m->o.rows;
	int nth = m->o.threads > 0 ? m->o.threads : omp_get_max_threads();
#pragma omp parallel num_threads(nth)
	{
		wn_tok_opts to = {WN_TOK_NONWORD, 0};
		wn_tok *t = wn_tok_new(&to);
		digests d = {0};
		uint64_t *sig = malloc(k * sizeof *sig);
#pragma omp for schedule(dynamic, 64)
		for (size_t i = 0; i < n; i++) {
			int rc = !t || !sig ? WN_TOK_ENOMEM
					    : add_one(m, t, &d, sig, texts[i], lens[i], b, i);
#pragma omp critical(wn_minhash_err)
			if (rc && (*bad < 0 || (long)i < *bad)) {
				*bad = (long)i;
				*code = rc;
			}
		}
		free(sig);
		free(d.v);
		free(d.w);
		wn_tok_free(t);
	}
}

/* The block into the store and the band entries, in text order. */
static int store_block(wn_minhash *m, block *b, size_t n, char *err, size_t errlen)
{
	size_t nb = (size_t)m->o.bands;
	for (size_t i = 0; i < n; i++) {
		size_t at = m->n + i;
		m->off[at] = m->store_words;
		m->set_n[at] = b->n[i];
		const uint64_t *band = b->band + i * nb;
		if (store_put(m, band, nb, err, errlen) || store_put(m, b->set[i], b->n[i], err, errlen))
			return -1;
		for (size_t j = 0; b->n[i] && j < nb; j++)
			if (put_entry(m, (band_entry){band[j], (uint32_t)j, (uint32_t)at}, err, errlen))
				return -1;
	}
	return 0;
}

int wn_minhash_add(wn_minhash *m, const char *const *texts, const size_t *lens, size_t n,
		   char *err, size_t errlen)
{
	if (m->n + n > INT32_MAX)
		return wn_errf(err, errlen, "more than %d texts", INT32_MAX), -1;
	if (grow(m, m->n + n))
		return wn_errf(err, errlen, "out of memory"), -1;
	block b = {calloc(n ? n : 1, sizeof *b.set), calloc(n ? n : 1, sizeof *b.n),
		   malloc((n ? n : 1) * (size_t)m->o.bands * sizeof *b.band)};
	long bad = -1;
	int code = 0, rc = -1;
	if (!b.set || !b.n || !b.band) {
		wn_errf(err, errlen, "out of memory");
		goto done;
	}
	compute_block(m, texts, lens, n, &b, &bad, &code);
	if (bad >= 0) {
		wn_errf(err, errlen, "text %zu: %s", m->n + (size_t)bad, wn_tok_strerror(code));
		goto done;
	}
	if (store_block(m, &b, n, err, errlen) == 0 && (m->store_fd < 0 || !store_flush(m, err, errlen))) {
		m->n += n;
		rc = 0;
	}
done:
	for (size_t i = 0; b.set && i < n; i++)
		free(b.set[i]);
	free(b.set);
	free(b.n);
	free(b.band);
	return rc;
}

/* ---- candidates: buckets off the sorted entries ---- */

typedef struct run_reader {
	band_entry *buf;
	size_t n, pos;
	uint64_t at, left;   /* entries, in the runs file */
} run_reader;

/* The sorted entries, from memory (no runs) or a k-way merge of runs. */
typedef struct entry_src {
	wn_minhash *m;
	size_t mem_pos;
	int merging, fd;
	size_t chunk, nr;    /* entries read at once from a run; runs */
	run_reader *r;
	size_t *heap, hn;
} entry_src;

static int rr_fill(entry_src *g, run_reader *r)
{
	size_t k = r->left < g->chunk ? (size_t)r->left : g->chunk;
	if (read_at(g->fd, r->buf, k * sizeof *r->buf, r->at * sizeof *r->buf))
		return -1;
	r->n = k;
	r->pos = 0;
	r->at += k;
	r->left -= k;
	return 0;
}

/* Sift heap[i] down a min-heap of hn run numbers ordered by less(ctx, a, b):
 * the one heap both k-way merges (band entries, pair keys) share. */
static void run_heap_down(size_t *heap, size_t hn, size_t i,
			  int (*less)(const void *ctx, size_t a, size_t b), const void *ctx)
{
	for (;;) {
		size_t l = 2 * i + 1, s = i;
		if (l < hn && less(ctx, heap[l], heap[s]))
			s = l;
		if (l + 1 < hn && less(ctx, heap[l + 1], heap[s]))
			s = l + 1;
		if (s == i)
			return;
		size_t t = heap[i];
		heap[i] = heap[s];
		heap[s] = t;
		i = s;
	}
}

static int heap_less(const void *ctx, size_t a, size_t b)
{
	const entry_src *g = ctx;
	const run_reader *x = &g->r[a], *y = &g->r[b];
	return cmp_entry(&x->buf[x->pos], &y->buf[y->pos]) < 0;
}

static void heap_down(entry_src *g, size_t i)
{
	run_heap_down(g->heap, g->hn, i, heap_less, g);
}

static void src_close(entry_src *g)
{
	for (size_t k = 0; g->r && k < g->nr; k++)
		free(g->r[k].buf);
	free(g->r);
	free(g->heap);
	g->r = NULL;
	g->heap = NULL;
}

/* The merge of runs [at[k], at[k] + len[k]) of fd, k < nr. */
static int merge_open(entry_src *g, wn_minhash *m, int fd, const uint64_t *at, const uint64_t *len,
		      size_t nr, size_t chunk, char *err, size_t errlen)
{
	*g = (entry_src){m, 0, 1, fd, chunk, nr, calloc(nr, sizeof *g->r),
			 malloc(nr * sizeof *g->heap), 0};
	if (!g->r || !g->heap)
		return wn_errf(err, errlen, "out of memory (merging band hashes)"), -1;
	for (size_t k = 0; k < nr; k++) {
		run_reader *r = &g->r[k];
		r->at = at[k];
		r->left = len[k];
		if (!(r->buf = malloc(chunk * sizeof *r->buf)))
			return wn_errf(err, errlen, "out of memory (merging band hashes)"), -1;
		if (rr_fill(g, r))
			return wn_errf(err, errlen, "temporary file read failed: %s", strerror(errno)), -1;
		if (r->n)
			g->heap[g->hn++] = k;
	}
	for (size_t i = g->hn; i-- > 0;)
		heap_down(g, i);
	return 0;
}

/* Next entry in (band, hash, idx) order: 1, 0 at the end, -1 read error. */
static int src_next(entry_src *g, band_entry *e)
{
	wn_minhash *m = g->m;
	if (!g->merging) {
		if (g->mem_pos == m->be_n)
			return 0;
		*e = m->be[g->mem_pos++];
		return 1;
	}
	if (!g->hn)
		return 0;
	run_reader *r = &g->r[g->heap[0]];
	*e = r->buf[r->pos++];
	if (r->pos == r->n && (!r->left || rr_fill(g, r))) {
		if (r->left)
			return -1;
		g->heap[0] = g->heap[--g->hn];
	}
	if (g->hn)
		heap_down(g, 0);
	return 1;
}

/*
 * A merge's fan-in and what it reads at once per run (records of `size`
 * bytes): a quarter of --memory for all its buffers, a piece of 4 KiB to
 * 512 KiB a run, at most MERGE_MAX_FANIN runs (at least 2) at once.
 */
#define MERGE_MIN_PIECE 4096
#define MERGE_MAX_PIECE (512 * 1024)
#define MERGE_MAX_FANIN 64
static void merge_shape(const wn_minhash *m, size_t size, size_t *fanin, size_t *chunk)
{
	size_t budget = m->mem / 4, f = budget / MERGE_MIN_PIECE;
	f = f > 1 ? f - 1 : 1;
	*fanin = f < 2 ? 2 : f > MERGE_MAX_FANIN ? MERGE_MAX_FANIN : f;
	size_t c = budget / (*fanin + 1);
	c = c < MERGE_MIN_PIECE ? MERGE_MIN_PIECE : c > MERGE_MAX_PIECE ? MERGE_MAX_PIECE : c;
	*chunk = c / size;
}

/* Merges runs first .. first + k - 1 of a run list into one run of out, through buf. */
typedef int (*merge_group_fn)(wn_minhash *m, run_list *out, size_t first, size_t k, size_t chunk,
			      void *buf, char *err, size_t errlen);

/* Merge passes over rl (runs of `size`-byte records, merged by group) until at most
 * fanin runs are left, so the final merge's buffers stay bounded; *passes counts them.
 * The one loop of the band-entry and the candidate-pair external sorts. */
static int reduce_runs(wn_minhash *m, run_list *rl, size_t size, merge_group_fn group,
		       size_t *passes, const char *what, size_t fanin, size_t chunk, char *err,
		       size_t errlen)
{
	void *buf = NULL;
	while (rl->n > fanin) {
		run_list next = {rl->fd, NULL, NULL, 0, 0, rl->end};
		if (!buf && !(buf = malloc(chunk * size)))
			return wn_errf(err, errlen, "out of memory (merging %s)", what), -1;
		for (size_t s = 0; s < rl->n; s += fanin) {
			size_t k = rl->n - s < fanin ? rl->n - s : fanin;
			if (group(m, &next, s, k, chunk, buf, err, errlen)) {
				free(next.at);
				free(next.len);
				free(buf);
				return -1;
			}
		}
		free(rl->at);
		free(rl->len);
		*rl = next;
		(*passes)++;
	}
	free(buf);
	return 0;
}

/* Runs first .. first + k - 1 of m->er into one run of `out` (the same file). */
static int merge_entry_group(wn_minhash *m, run_list *out, size_t first, size_t k, size_t chunk,
			     void *vbuf, char *err, size_t errlen)
{
	band_entry *buf = vbuf;
	entry_src g;
	uint64_t at = out->end;
	size_t nb = 0;
	int r = 0, rc = merge_open(&g, m, m->er.fd, m->er.at + first, m->er.len + first, k, chunk,
				   err, errlen);
	while (rc == 0 && (r = src_next(&g, &buf[nb])) == 1)
		if (++nb == chunk) {
			rc = runs_write(out, buf, nb, sizeof *buf, err, errlen);
			nb = 0;
		}
	if (rc == 0 && nb)
		rc = runs_write(out, buf, nb, sizeof *buf, err, errlen);
	src_close(&g);
	if (rc == 0 && r < 0)
		return wn_errf(err, errlen, "temporary file read failed: %s", strerror(errno)), -1;
	return rc ? -1 : runs_mark(out, at, out->end - at, err, errlen);
}

/* The entries in order: sorted in memory, or the runs spilled, folded and merged. */
static int src_open(entry_src *g, wn_minhash *m, char *err, size_t errlen)
{
	*g = (entry_src){m, 0, 0, -1, 0, 0, NULL, NULL, 0};
	if (!m->er.n)
		return sort_entries(m->be, m->be_n, m->o.bands, m->o.threads)
			       ? (wn_errf(err, errlen, "out of memory (sorting band hashes)"), -1) : 0;
	if (spill_run(m, err, errlen))
		return -1;
	free(m->be); /* the merge reads the runs in small pieces instead */
	m->be = NULL;
	m->be_alloc = 0;
	size_t fanin, chunk;
	merge_shape(m, sizeof(band_entry), &fanin, &chunk);
	if (reduce_runs(m, &m->er, sizeof(band_entry), merge_entry_group, &m->entry_passes,
			"band hashes", fanin, chunk, err, errlen))
		return -1;
	return merge_open(g, m, m->er.fd, m->er.at, m->er.len, m->er.n, chunk, err, errlen);
}

/* ---- candidate pairs: a buffer of keys, sorted runs on disk, a merge ---- */

/*
 * A pair (a < b) travels as the key a << 32 | b, so (a, b) order is key
 * order. The buffer takes up to a quarter of --memory; when it is full its
 * repeats are dropped (a pair collides in several bands) and, if that
 * frees less than half, it goes to the pairs file as a sorted run.
 */
static int spill_pairs(wn_minhash *m, char *err, size_t errlen)
{
	uint64_t at = m->pr.end;
	if (!m->pk_n)
		return 0;
	if (runs_write(&m->pr, m->pk, m->pk_n, sizeof *m->pk, err, errlen) ||
	    runs_mark(&m->pr, at, m->pk_n, err, errlen))
		return -1;
	m->pk_n = 0;
	m->pair_spills++;
	return 0;
}

/* A full buffer: grow it up to its share, else drop repeats and maybe spill. */
static int pairs_room(wn_minhash *m, char *err, size_t errlen)
{
	if (m->pk_alloc < m->pk_cap) {
		size_t nc = m->pk_alloc ? m->pk_alloc * 2 : 65536;
		nc = nc < m->pk_cap ? nc : m->pk_cap;
		uint64_t *q = realloc(m->pk, nc * sizeof *q);
		if (!q)
			return wn_errf(err, errlen, "out of memory (candidate pairs)"), -1;
		m->pk = q;
		m->pk_alloc = nc;
		return 0;
	}
	m->pk_n = sort_unique(m->pk, m->pk_n);
	return m->pk_n <= m->pk_cap / 2 ? 0 : spill_pairs(m, err, errlen);
}

static int push_pair(wn_minhash *m, uint32_t a, uint32_t b, char *err, size_t errlen)
{
	if (m->pk_n == m->pk_alloc && pairs_room(m, err, errlen))
		return -1;
	m->pk[m->pk_n++] = (uint64_t)a << 32 | b;
	return 0;
}

/*
 * The buckets (equal band and hash, idx ascending) off the source, into
 * pairs: a bucket of up to WN_MINHASH_BUCKET_ALL members gives all its
 * pairs; a larger one gives each member paired with the next (a chain:
 * linear work, and still one component). Only the first BUCKET_ALL + 1
 * members of a bucket are held; past them the chain goes on from the last.
 */
static int scan_buckets(wn_minhash *m, entry_src *g, char *err, size_t errlen)
{
	band_entry bk[WN_MINHASH_BUCKET_ALL + 1], e;
	int r = src_next(g, &e);
	while (r == 1) {
		size_t bn = 0;
		uint32_t last = 0;
		do {
			if (bn <= WN_MINHASH_BUCKET_ALL)
				bk[bn] = e;
			if (bn == WN_MINHASH_BUCKET_ALL) /* the chain of what is held so far */
				for (size_t i = 0; i < bn; i++)
					if (push_pair(m, bk[i].idx, bk[i + 1].idx, err, errlen))
						return -1;
			if (bn > WN_MINHASH_BUCKET_ALL && push_pair(m, last, e.idx, err, errlen))
				return -1;
			last = e.idx;
			bn++;
		} while ((r = src_next(g, &e)) == 1 && e.band == bk[0].band && e.h == bk[0].h);
		for (size_t i = 0; bn <= WN_MINHASH_BUCKET_ALL && i < bn; i++)
			for (size_t j = i + 1; j < bn; j++)
				if (push_pair(m, bk[i].idx, bk[j].idx, err, errlen))
					return -1;
	}
	if (r < 0)
		return wn_errf(err, errlen, "temporary file read failed: %s", strerror(errno)), -1;
	return 0;
}

/* ---- merging sorted runs of keys (distinct keys out, ascending) ---- */

typedef struct key_run {
	uint64_t *buf;
	size_t n, pos;
	uint64_t at, left;   /* keys, in the file */
} key_run;

typedef struct key_merge {
	int fd;
	size_t chunk;        /* keys read at once from a run */
	key_run *r;
	size_t nr, *heap, hn;
	int started;
	uint64_t last;
} key_merge;

static int kr_fill(const key_merge *g, key_run *r)
{
	size_t k = r->left < g->chunk ? (size_t)r->left : g->chunk;
	if (read_at(g->fd, r->buf, k * sizeof *r->buf, r->at * sizeof *r->buf))
		return -1;
	r->n = k;
	r->pos = 0;
	r->at += k;
	r->left -= k;
	return 0;
}

static int km_less(const void *ctx, size_t a, size_t b)
{
	const key_merge *g = ctx;
	return g->r[a].buf[g->r[a].pos] < g->r[b].buf[g->r[b].pos];
}

static void km_down(key_merge *g, size_t i)
{
	run_heap_down(g->heap, g->hn, i, km_less, g);
}

static void km_close(key_merge *g)
{
	for (size_t k = 0; g->r && k < g->nr; k++)
		free(g->r[k].buf);
	free(g->r);
	free(g->heap);
	memset(g, 0, sizeof *g);
}

/* Runs [at[k], at[k] + len[k]) of fd, k < nr, merged. */
static int km_open(key_merge *g, int fd, const uint64_t *at, const uint64_t *len, size_t nr,
		   size_t chunk, char *err, size_t errlen)
{
	*g = (key_merge){fd, chunk, calloc(nr, sizeof *g->r), nr, malloc(nr * sizeof *g->heap), 0, 0, 0};
	if (!g->r || !g->heap)
		return wn_errf(err, errlen, "out of memory (merging candidate pairs)"), -1;
	for (size_t k = 0; k < nr; k++) {
		key_run *r = &g->r[k];
		r->at = at[k];
		r->left = len[k];
		if (!(r->buf = malloc(chunk * sizeof *r->buf)))
			return wn_errf(err, errlen, "out of memory (merging candidate pairs)"), -1;
		if (kr_fill(g, r))
			return wn_errf(err, errlen, "temporary file read failed: %s", strerror(errno)), -1;
		if (r->n)
			g->heap[g->hn++] = k;
	}
	for (size_t i = g->hn; i-- > 0;)
		km_down(g, i);
	return 0;
}

/* Up to cap next distinct keys into out: how many (0 at the end), -1 a read failure. */
static long km_read(key_merge *g, uint64_t *out, size_t cap)
{
	size_t n = 0;
	while (n < cap && g->hn) {
		key_run *r = &g->r[g->heap[0]];
		uint64_t v = r->buf[r->pos++];
		if (r->pos == r->n) {
			if (!r->left)
				g->heap[0] = g->heap[--g->hn];
			else if (kr_fill(g, r))
				return -1;
		}
		if (g->hn)
			km_down(g, 0);
		if (!g->started || v != g->last)
			out[n++] = v;
		g->started = 1;
		g->last = v;
	}
	return (long)n;
}

/* Runs first .. first + k - 1 of m->pr into one run of `out` (the same file). */
static int merge_group(wn_minhash *m, run_list *out, size_t first, size_t k, size_t chunk,
		       void *vbuf, char *err, size_t errlen)
{
	uint64_t *buf = vbuf;
	key_merge g;
	uint64_t at = out->end;
	long got = 0;
	int rc = km_open(&g, m->pr.fd, m->pr.at + first, m->pr.len + first, k, chunk, err, errlen);
	while (rc == 0 && (got = km_read(&g, buf, chunk)) > 0)
		rc = runs_write(out, buf, (size_t)got, sizeof *buf, err, errlen);
	km_close(&g);
	if (rc == 0 && got < 0)
		return wn_errf(err, errlen, "temporary file read failed: %s", strerror(errno)), -1;
	return rc ? -1 : runs_mark(out, at, out->end - at, err, errlen);
}

static int collect_candidates(wn_minhash *m, char *err, size_t errlen)
{
	entry_src g;
	int rc = src_open(&g, m, err, errlen);
	if (rc == 0)
		rc = scan_buckets(m, &g, err, errlen);
	src_close(&g);
	free(m->be);
	m->be = NULL;
	m->be_n = m->be_alloc = 0;
	if (rc)
		return -1;
	m->pk_n = sort_unique(m->pk, m->pk_n);
	if (!m->pr.n)
		return 0;
	if (spill_pairs(m, err, errlen))
		return -1;
	free(m->pk); /* the merge reads the runs in pieces instead */
	m->pk = NULL;
	m->pk_alloc = 0;
	size_t fanin, chunk;
	merge_shape(m, sizeof(uint64_t), &fanin, &chunk);
	return reduce_runs(m, &m->pr, sizeof(uint64_t), merge_group, &m->pair_passes,
			   "candidate pairs", fanin, chunk, err, errlen);
}

/* ---- verification, groups ---- */

double wn_minhash_jaccard_sets(const uint64_t *x, size_t nx, const uint64_t *y, size_t ny)
{
	size_t p = 0, q = 0, inter = 0;
	if (!nx && !ny)
		return 0;
	while (p < nx && q < ny) {
		if (x[p] == y[q])
			inter++, p++, q++;
		else if (x[p] < y[q])
			p++;
		else
			q++;
	}
	return (double)inter / (double)(nx + ny - inter);
}

double wn_minhash_jaccard(const wn_minhash *m, size_t i, size_t j)
{
	wn_minhash_view vi = {0}, vj = {0};
	const uint64_t *x, *y;
	size_t nx, ny;
	double r = NAN;
	if (!wn_minhash_text(m, i, &vi, NULL, &x, &nx) && !wn_minhash_text(m, j, &vj, NULL, &y, &ny))
		r = wn_minhash_jaccard_sets(x, nx, y, ny);
	wn_minhash_view_free(&vi);
	wn_minhash_view_free(&vj);
	return r;
}

/* The Jaccard of each of k keys into jac, in parallel; each thread reads the sets it needs. */
static int verify_keys(const wn_minhash *m, const uint64_t *keys, size_t k, double *jac)
{
	int nth = m->o.threads > 0 ? m->o.threads : omp_get_max_threads(), failed = 0;
#pragma omp parallel num_threads(nth) reduction(| : failed)
	{
		wn_minhash_view va = {0}, vb = {0};
		const uint64_t *x = NULL, *y;
		size_t nx = 0, ny;
		int64_t last = -1;
#pragma omp for schedule(dynamic, 256)
		for (size_t i = 0; i < k; i++) {
			uint32_t a = (uint32_t)(keys[i] >> 32), b = (uint32_t)keys[i];
			jac[i] = NAN;
			if ((int64_t)a != last) {
				last = -1;
				if (wn_minhash_text(m, a, &va, NULL, &x, &nx)) {
					failed = 1;
					continue;
				}
				last = a;
			}
			if (wn_minhash_text(m, b, &vb, NULL, &y, &ny)) {
				failed = 1;
				continue;
			}
			jac[i] = wn_minhash_jaccard_sets(x, nx, y, ny);
		}
		wn_minhash_view_free(&va);
		wn_minhash_view_free(&vb);
	}
	return failed ? -1 : 0;
}

/*
 * The union-find: uf[i] is i's parent (always a lower index: the smaller
 * root wins a union), or minus its group's size at a root. Four bytes a text.
 */
static uint32_t uf_find(int32_t *uf, uint32_t i)
{
	while (uf[i] >= 0) {
		uint32_t p = (uint32_t)uf[i];
		if (uf[p] < 0)
			return p;
		uf[i] = uf[p]; /* path halving */
		i = (uint32_t)uf[p];
	}
	return i;
}

static void uf_union(int32_t *uf, uint32_t a, uint32_t b)
{
	a = uf_find(uf, a);
	b = uf_find(uf, b);
	if (a == b)
		return;
	if (a > b) {
		uint32_t t = a;
		a = b;
		b = t;
	}
	uf[a] += uf[b];
	uf[b] = (int32_t)a;
}

/* Every member straight to its root: parents are lower, so one pass upwards does it. */
static void uf_flatten(int32_t *uf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (uf[i] >= 0 && uf[uf[i]] >= 0)
			uf[i] = uf[uf[i]];
}

/* One piece of candidates: verified, counted, unioned, handed to `each`. */
static int take_keys(wn_minhash *m, const uint64_t *keys, size_t k, double *jac,
		     wn_minhash_pair_fn each, void *ctx, char *err, size_t errlen)
{
	if (m->o.verify && verify_keys(m, keys, k, jac))
		return wn_errf(err, errlen, "temporary file read failed (shingle sets): %s",
			       strerror(errno)), -1;
	for (size_t i = 0; i < k; i++) {
		wn_minhash_pair p = {(uint32_t)(keys[i] >> 32), (uint32_t)keys[i], NAN, 0};
		if (m->o.verify) {
			p.jaccard = jac[i];
			p.verified = p.jaccard >= m->o.threshold;
		}
		m->ncand++;
		m->nverified += (uint64_t)p.verified;
		if (!m->o.verify || p.verified)
			uf_union(m->uf, p.a, p.b);
		if (each && each(ctx, &p, err, errlen))
			return -1;
	}
	return 0;
}

/* The candidates in (a, b) order, from the buffer or the merge of the runs, in pieces. */
static int take_candidates(wn_minhash *m, wn_minhash_pair_fn each, void *ctx, char *err,
			   size_t errlen)
{
	size_t piece = m->mem / 8 / (2 * sizeof(uint64_t)), fanin, chunk;
	piece = piece < 256 ? 256 : piece > ((size_t)1 << 20) ? (size_t)1 << 20 : piece;
	double *jac = malloc(piece * sizeof *jac);
	uint64_t *keys = m->pr.n ? malloc(piece * sizeof *keys) : NULL;
	key_merge g = {0};
	long got = 0;
	int rc = !jac || (m->pr.n && !keys) ? (wn_errf(err, errlen, "out of memory"), -1) : 0;
	if (rc == 0 && !m->pr.n) {
		for (size_t s = 0; rc == 0 && s < m->pk_n; s += piece)
			rc = take_keys(m, m->pk + s, m->pk_n - s < piece ? m->pk_n - s : piece, jac,
				       each, ctx, err, errlen);
	} else if (rc == 0) {
		merge_shape(m, sizeof(uint64_t), &fanin, &chunk);
		rc = km_open(&g, m->pr.fd, m->pr.at, m->pr.len, m->pr.n, chunk, err, errlen);
		while (rc == 0 && (got = km_read(&g, keys, piece)) > 0)
			rc = take_keys(m, keys, (size_t)got, jac, each, ctx, err, errlen);
		if (rc == 0 && got < 0)
			rc = (wn_errf(err, errlen, "temporary file read failed: %s", strerror(errno)), -1);
		km_close(&g);
	}
	free(jac);
	free(keys);
	return rc;
}

int wn_minhash_group(wn_minhash *m, wn_minhash_pair_fn each, void *ctx, char *err, size_t errlen)
{
	if (collect_candidates(m, err, errlen))
		return -1;
	if (!(m->uf = malloc((m->n ? m->n : 1) * sizeof *m->uf)))
		return wn_errf(err, errlen, "out of memory"), -1;
	for (size_t i = 0; i < m->n; i++)
		m->uf[i] = -1;
	if (take_candidates(m, each, ctx, err, errlen))
		return -1;
	free(m->pk);
	m->pk = NULL;
	m->pk_n = m->pk_alloc = 0;
	uf_flatten(m->uf, m->n);
	return 0;
}

size_t wn_minhash_count(const wn_minhash *m) { return m->n; }

void wn_minhash_pair_counts(const wn_minhash *m, uint64_t *candidates, uint64_t *verified)
{
	*candidates = m->ncand;
	*verified = m->nverified;
}

size_t wn_minhash_root(const wn_minhash *m, size_t i)
{
	return m->uf[i] < 0 ? i : (size_t)m->uf[i];
}

size_t wn_minhash_group_size(const wn_minhash *m, size_t i)
{
	return (size_t)-m->uf[wn_minhash_root(m, i)];
}

size_t wn_minhash_set_size(const wn_minhash *m, size_t i) { return m->set_n[i]; }
