/*
 * io/slurp.c — read a whole small file into one NUL-terminated buffer
 * under a size cap (see slurp.h). The buffer grows by doubling, so a pipe
 * works as well as a regular file; reading one byte past the cap is how an
 * over-cap file is told from one exactly at it.
 */
#include "io/slurp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/errf.h"

/* Double *cap (first 4 KiB), never past limit; the allocation keeps one byte for the NUL. */
static int slurp_grow(char **buf, size_t *cap, size_t limit)
{
	size_t ncap = *cap ? 2 * *cap : 4096;
	if (ncap > limit)
		ncap = limit;
	char *nb = realloc(*buf, ncap + 1);
	if (!nb)
		return ENOMEM;
	*buf = nb;
	*cap = ncap;
	return 0;
}

/* Read f to its end or to limit bytes; 0 or an errno value. */
static int slurp_stream(FILE *f, size_t limit, char **buf, size_t *n)
{
	size_t cap = 0;
	int e = 0;
	while (!e && *n < limit) {
		if (*n == cap && (e = slurp_grow(buf, &cap, limit)))
			break;
		errno = 0;
		size_t got = fread(*buf + *n, 1, cap - *n, f);
		*n += got;
		if (!got) {
			e = ferror(f) ? (errno ? errno : EIO) : 0;
			break;
		}
	}
	return e;
}

char *wn_slurp(const char *path, size_t max, const char *too_big, size_t *len, char *err,
	       size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		int e = errno;
		wn_errf(err, errlen, "%s: %s", path, strerror(e));
		errno = e;
		return NULL;
	}
	char *buf = NULL;
	size_t n = 0;
	int e = slurp_stream(f, max + 1, &buf, &n);
	fclose(f);
	if (!e && n > max)
		e = EFBIG;
	if (e) {
		free(buf);
		if (e == EFBIG && too_big)
			wn_errf(err, errlen, "%s: %s", path, too_big);
		else if (e == EFBIG)
			wn_errf(err, errlen, "%s: larger than %zu bytes", path, max);
		else
			wn_errf(err, errlen, "%s: %s", path, strerror(e));
		errno = e;
		return NULL;
	}
	buf[n] = 0;
	*len = n;
	return buf;
}
