/*
 * io/dtoa.c — the shortest of %.15g, %.16g, %.17g that reads back (see
 * io/dtoa.h), with one snprintf and no strtod in the common case.
 *
 * How: "%.19e" gives the first 20 significant digits of |v|, exactly
 * rounded. Rounding those to p < 20 digits is the exact rounding of v
 * itself unless the dropped digits are exactly half a unit (then v's own
 * digits beyond the 20th decide, which the string no longer shows): such a
 * tie takes the plain loop. Whether the p-digit number m x 10^q reads back
 * is decided by Clinger's fast path: for m <= 2^53 and |q| <= 22 both m and
 * 10^q are exact doubles, so one IEEE multiply or divide gives the
 * correctly rounded value, which is what strtod returns; outside that range
 * the plain loop decides. 17 digits always read back. The digits are then
 * laid out as %g does: style e when the exponent is below -4 or at least
 * the precision, trailing zeros and a bare point removed, two exponent
 * digits at least. tests/unit/test_io_dtoa.c holds wn_dtoa to the plain
 * loop on millions of doubles, ties and edges included.
 */
#include "io/dtoa.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NDIG 20 /* digits "%.19e" gives */

static const double pow10_exact[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
				       1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
				       1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

size_t wn_dtoa_plain(char buf[WN_DTOA_BUF], double v)
{
	int n = 0;
	for (int prec = 15; prec <= 17; prec++) {
		n = snprintf(buf, WN_DTOA_BUF, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	return (size_t)n;
}

/* The first NDIG significant digits of a (finite, > 0) and the decimal
 * exponent of the first; -1 if snprintf's layout is not the expected one. */
static int leading_digits(double a, char d[NDIG], int *e10)
{
	char t[40];
	int n = snprintf(t, sizeof t, "%.19e", a); /* d.ddddddddddddddddddde+XX */
	if (n < NDIG + 4 || t[1] != '.' || t[NDIG + 1] != 'e')
		return -1;
	d[0] = t[0];
	memcpy(d + 1, t + 2, NDIG - 1);
	*e10 = atoi(t + NDIG + 2);
	return 0;
}

/* d rounded to p digits as an integer *m (10^(p-1) <= m < 10^p), *e
 * adjusted for a carry out of the first digit; -1 on a tie in the dropped
 * digits, which d alone cannot settle. */
static int round_digits(const char d[NDIG], int p, uint64_t *m, int *e)
{
	uint64_t hi = 0, lim = 1, tail = 0, half = 5;
	for (int i = 0; i < p; i++, lim *= 10)
		hi = hi * 10 + (uint64_t)(d[i] - '0');
	for (int i = p; i < NDIG; i++)
		tail = tail * 10 + (uint64_t)(d[i] - '0');
	for (int i = p + 1; i < NDIG; i++)
		half *= 10;
	if (tail == half)
		return -1;
	if (tail > half && ++hi == lim) {
		hi = lim / 10;
		(*e)++;
	}
	*m = hi;
	return 0;
}

/* Does m x 10^q read back as a? 1 yes, 0 no, -1 outside the fast path. */
static int reads_back(uint64_t m, int q, double a)
{
	if (m > ((uint64_t)1 << 53) || q < -22 || q > 22)
		return -1;
	double x = (double)m;
	x = q >= 0 ? x * pow10_exact[q] : x / pow10_exact[-q];
	return x == a;
}

/* m (p digits) x 10^(e - p + 1), laid out as "%.{p}g" prints it. */
static size_t put_g(char *buf, int neg, uint64_t m, int p, int e)
{
	char d[NDIG];
	for (int i = p - 1; i >= 0; i--, m /= 10)
		d[i] = (char)('0' + m % 10);
	int nd = p; /* significant digits once trailing zeros go */
	while (nd > 1 && d[nd - 1] == '0')
		nd--;
	char *o = buf;
	if (neg)
		*o++ = '-';
	if (e < -4 || e >= p) {
		*o++ = d[0];
		if (nd > 1) {
			*o++ = '.';
			memcpy(o, d + 1, (size_t)nd - 1);
			o += nd - 1;
		}
		o += sprintf(o, "e%c%02d", e < 0 ? '-' : '+', abs(e));
	} else if (e >= 0) {
		for (int i = 0; i <= e; i++)
			*o++ = i < nd ? d[i] : '0';
		if (nd > e + 1) {
			*o++ = '.';
			memcpy(o, d + e + 1, (size_t)(nd - e - 1));
			o += nd - e - 1;
		}
	} else {
		*o++ = '0';
		*o++ = '.';
		for (int i = 0; i < -e - 1; i++)
			*o++ = '0';
		memcpy(o, d, (size_t)nd);
		o += nd;
	}
	*o = 0;
	return (size_t)(o - buf);
}

size_t wn_dtoa(char buf[WN_DTOA_BUF], double v)
{
	char d[NDIG];
	int e10;
	double a = fabs(v);
	if (!isfinite(v) || v == 0 || leading_digits(a, d, &e10))
		return wn_dtoa_plain(buf, v);
	for (int p = 15; p <= 17; p++) {
		uint64_t m;
		int e = e10;
		if (round_digits(d, p, &m, &e))
			return wn_dtoa_plain(buf, v);
		int r = p == 17 ? 1 : reads_back(m, e - p + 1, a);
		if (r < 0)
			return wn_dtoa_plain(buf, v);
		if (r)
			return put_g(buf, v < 0, m, p, e);
	}
	return wn_dtoa_plain(buf, v); /* not reached: 17 digits read back */
}
