/* clock.h: the timeline's one clock.
 *
 * The special problem of timestamps: every source of the timeline has its
 * own clock.  libpcap stamps packets with wall-clock time (the kernel's skb
 * time, CLOCK_REALTIME), sock_diag samples are stamped when we read them,
 * roles stamp their syscalls, and tracefs has its own trace_clock.  Wall
 * clock time can be stepped by NTP while a run is going on, so everything is
 * put on CLOCK_MONOTONIC: sl_now() for what we stamp ourselves, and
 * sl_clock_realtime_to_mono() for the pcap timestamps, using the offset
 * between the two clocks measured once per process as the tightest of a few
 * back-to-back readings.
 */
#ifndef SL_CLOCK_H
#define SL_CLOCK_H

#include <stdint.h>

#define SL_NS_PER_SEC 1000000000LL
#define SL_NS_PER_MS 1000000LL

/* CLOCK_MONOTONIC now, in nanoseconds. */
int64_t sl_now(void);

/* Measures the REALTIME - MONOTONIC offset (again).  Called by
 * sl_clock_realtime_to_mono() on first use. */
void sl_clock_calibrate(void);

/* A CLOCK_REALTIME time in ns mapped onto CLOCK_MONOTONIC. */
int64_t sl_clock_realtime_to_mono(int64_t realtime_ns);

#endif
