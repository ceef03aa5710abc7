/*
 * tests/fuzz/harness.h — what the reader harnesses (fuzz_csv, fuzz_reader)
 * share: a hash of what a pass returned, the fuzz input as a regular file
 * (a memfd, so the reader takes its mapped path) or on stdin (a pipe, so it
 * takes the read-and-refill path), and a memfd's contents hashed back.
 *
 * Owns: nothing past a call (the caller closes the fds it gets).
 * Borrows: io/fdio.h (wn_write_all), Linux memfd_create and F_SETPIPE_SZ.
 * Any setup failure aborts: a harness that cannot set up must not pass.
 */
#ifndef WN_TESTS_FUZZ_HARNESS_H
#define WN_TESTS_FUZZ_HARNESS_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "io/fdio.h"

#define FZ_FNV_INIT 0xcbf29ce484222325ull

/* FNV-1a over n more bytes. */
static inline uint64_t fz_fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

/* A memfd holding data, its name for open(2) in path ("/proc/self/fd/N"). */
static inline int fz_memfd(const char *name, const void *data, size_t size, char *path,
			   size_t pathlen)
{
	size_t done;
	int fd = memfd_create(name, 0);
	if (fd < 0 || wn_write_all(fd, data, size, &done))
		abort();
	snprintf(path, pathlen, "/proc/self/fd/%d", fd);
	return fd;
}

/* Everything written to fd (a memfd), hashed. */
static inline uint64_t fz_digest_fd(int fd)
{
	uint64_t h = FZ_FNV_INIT;
	char buf[4096];
	ssize_t n;
	lseek(fd, 0, SEEK_SET);
	while ((n = read(fd, buf, sizeof buf)) > 0)
		h = fz_fnv(h, buf, (size_t)n);
	return h;
}

/* data on fd 0 through a pipe, written whole before the read starts;
 * 0 (stdin untouched) when it does not fit in the pipe. */
static inline int fz_stdin_from(const void *data, size_t size)
{
	int fds[2];
	size_t done;
	if (pipe(fds))
		abort();
	long cap = fcntl(fds[1], F_SETPIPE_SZ, 1 << 20);
	if (cap < 0)
		cap = fcntl(fds[1], F_GETPIPE_SZ);
	if (cap < 0 || size > (size_t)cap) {
		close(fds[0]);
		close(fds[1]);
		return 0;
	}
	if (wn_write_all(fds[1], data, size, &done))
		abort();
	close(fds[1]);
	dup2(fds[0], 0);
	close(fds[0]);
	return 1;
}

/* After a pass on stdin: /dev/null on fd 0, so the number stays taken. */
static inline void fz_stdin_release(void)
{
	int nul = open("/dev/null", O_RDONLY);
	dup2(nul, 0);
	close(nul);
}

#endif
