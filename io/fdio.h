/*
 * io/fdio.h — write(2) all of a buffer, retrying on EINTR: the one loop the
 * spool, the atomic file and the writer's --stream path share.
 *
 * Owns: nothing. Borrows: nothing.
 */
#ifndef WN_IO_FDIO_H
#define WN_IO_FDIO_H

#include <errno.h>
#include <stddef.h>
#include <unistd.h>

/* 0, or -1 with errno set; *done = bytes that went out, also on failure. */
static inline int wn_write_all(int fd, const void *p, size_t n, size_t *done)
{
	const char *c = p;
	*done = 0;
	while (*done < n) {
		ssize_t w = write(fd, c + *done, n - *done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		*done += (size_t)w;
	}
	return 0;
}

#endif
