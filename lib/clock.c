/* clock.c: CLOCK_MONOTONIC timestamps and the wall-clock mapping (clock.h). */
#include <time.h>

#include "clock.h"

static int64_t rt_minus_mono;
static int calibrated;

static int64_t ts_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * SL_NS_PER_SEC + ts->tv_nsec;
}

int64_t sl_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts_ns(&ts);
}

void sl_clock_calibrate(void)
{
	int64_t best_gap = INT64_MAX, best = 0;

	/* Read MONO, REALTIME, MONO; the pair with the shortest bracket gives
	 * the offset with an error of at most half that bracket (well under a
	 * microsecond unless we were preempted, which the minimum skips). */
	for (int i = 0; i < 7; i++) {
		struct timespec a, r, b;

		clock_gettime(CLOCK_MONOTONIC, &a);
		clock_gettime(CLOCK_REALTIME, &r);
		clock_gettime(CLOCK_MONOTONIC, &b);
		int64_t gap = ts_ns(&b) - ts_ns(&a);

		if (gap < best_gap) {
			best_gap = gap;
			best = ts_ns(&r) - (ts_ns(&a) + gap / 2);
		}
	}
	rt_minus_mono = best;
	calibrated = 1;
}

int64_t sl_clock_realtime_to_mono(int64_t realtime_ns)
{
	if (!calibrated)
		sl_clock_calibrate();
	return realtime_ns - rt_minus_mono;
}
