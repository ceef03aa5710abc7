/*
 * io/clock.h — seconds on the monotonic clock (wall) and on the process's
 * CPU clock (every thread), for the timings steps report (--stats,
 * WINNOW_TIMING, the train and eval report lines). Header-only; no state.
 */
#ifndef WN_IO_CLOCK_H
#define WN_IO_CLOCK_H

#include <time.h>

static inline double wn_clock_seconds(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline double wn_wall_seconds(void) { return wn_clock_seconds(CLOCK_MONOTONIC); }
static inline double wn_cpu_seconds(void) { return wn_clock_seconds(CLOCK_PROCESS_CPUTIME_ID); }

#endif
