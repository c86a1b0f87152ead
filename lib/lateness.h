/* lateness.h: how late this machine runs a timer while a variant runs.
 *
 * The special problem of a slow machine's timers: a timing prediction
 * says when the kernel's timer fires (an RTO, a delayed ACK) with a
 * tolerance for the kernel's own rounding, and a machine that runs a
 * timer late makes the event late by as much, though the kernel asked for
 * the right time.  In a QEMU guest under TCG, with the catalogue running
 * four at a time, a 204 ms RTO fired 31 ms late and a 40 ms delayed ACK
 * 15 ms late; on a busy host a few milliseconds are common.  How late
 * depends on the machine and on the moment, so it is measured while the
 * variant runs, never assumed: a thread of the experiment asks to be woken
 * every SL_LATENESS_PERIOD_MS and keeps how late the worst wake-up was.
 *
 * The thread runs at a real-time priority (SCHED_FIFO 1), and that is the
 * point: an ordinary thread is also late by every runnable process ahead
 * of it, and a whole catalogue run side by side keeps a hundred of them
 * busy (an ordinary probe measured 20 ms typical and 65 ms at worst on an
 * idle host, 3 s in a guest), while the kernel's timers fire from an
 * interrupt whatever the run queue holds.  A real-time thread is held back
 * by what holds the kernel's timers back too: a processor the hypervisor
 * did not run, interrupts and softirqs that ran long.  What it does not
 * see is a softirq handed to ksoftirqd and starved there; that lateness is
 * not allowed for.  Without the privilege to run so, nothing is measured
 * (the predictions then allow nothing for lateness).
 *
 * Lateness only ever makes an event later: the predictions add it to the
 * upper side of their tolerance alone (predict_timing.c), so an event that
 * comes early, such as an ACK sent at once where a delayed one was
 * predicted, still fails whatever the machine did.
 */
#ifndef SL_LATENESS_H
#define SL_LATENESS_H

#include <stdint.h>

#include "err.h"

/* Often enough to see a stall of a few milliseconds (a stall of S shows
 * as at least S minus the period), rarely enough to cost nothing: 100
 * wake-ups a second. */
#define SL_LATENESS_PERIOD_MS 10

struct sl_lateness;

/* Starts the measuring thread.  0, or -errno with e set. */
int sl_lateness_start(struct sl_lateness **lp, struct sl_err *e);

/* Stops it and frees it: *max_ns the latest wake-up, *samples how many
 * wake-ups it measured.  l may be NULL (nothing measured: both 0). */
void sl_lateness_stop(struct sl_lateness *l, int64_t *max_ns, long *samples);

/* For a cleanup stack: arg is a struct sl_lateness **, stopped and
 * cleared if still set. */
void sl_lateness_undo(void *arg);

#endif
