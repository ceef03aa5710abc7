/*
 * io/dtoa.h — doubles as winnow writes them: the first of %.15g, %.16g and
 * %.17g that reads back (strtod) to the same double, so a score is as short
 * as it can be while still naming its exact value.
 *
 * Owns: nothing (the caller's buffer). Why its own file: every annotation
 * (score, weight, distance) goes through it, and the plain loop (up to three
 * snprintf and three strtod per number) was a sixth of `score dsir`'s time.
 * wn_dtoa gives the same bytes with one snprintf and no strtod in the
 * common case; the rare cases take the plain loop (see io/dtoa.c).
 */
#ifndef WN_IO_DTOA_H
#define WN_IO_DTOA_H

#include <stddef.h>

#define WN_DTOA_BUF 32 /* enough for any %.17g */

/*
 * Writes v (finite) into buf as the first of "%.15g", "%.16g", "%.17g" that
 * strtod reads back as v; NUL-terminated; returns its length.
 */
size_t wn_dtoa(char buf[WN_DTOA_BUF], double v);

/* The same by the plain loop (snprintf then strtod at 15, 16, 17 digits). */
size_t wn_dtoa_plain(char buf[WN_DTOA_BUF], double v);

#endif
