/* pace.h: how much slower this machine runs socklab's own work than the
 * machine it is compared with, and the deadlines stretched to match.
 *
 * A role's deadline (EXPERIMENT's .timeout_s) is there to end a run that
 * hangs, and it is sized for a machine like the one the experiment was
 * written on.  A QEMU guest under TCG emulates every instruction: the same
 * roles take ten times longer there, and would hit deadlines that no hang
 * caused.  The kernel's own timers run at the wall clock's pace in the
 * guest too, so the timing predictions are not what is stretched: only
 * the deadlines.  (What a slow machine does to the kernel's timers, firing
 * them late, is measured apart, while each variant runs: lateness.h.)
 *
 * The factor is measured, never assumed: `socklab vm` times a probe on
 * the host (programs started, as for every ip, nft and tc a run calls,
 * and socket calls, the work the harness and the roles do) and hands the figure to the guest (SL_PACE_REF_ENV), whose
 * socklab times the same probe and takes the ratio
 * (SL_TIME_SCALE_ENV, at least 1).  A user can set that variable too.
 */
#ifndef SL_PACE_H
#define SL_PACE_H

#include <stdint.h>

#define SL_PACE_REF_ENV "SOCKLAB_PACE_REF_NS"
#define SL_TIME_SCALE_ENV "SOCKLAB_TIME_SCALE"
#define SL_TIME_SCALE_MAX 100.0

/* The probe's time in nanoseconds on this machine, the fastest of seven
 * runs, or -errno when it could not run (fork, exec of /bin/true or
 * socketpair failed). */
int64_t sl_pace_probe(void);

/* The factor deadlines are multiplied by: SL_TIME_SCALE_ENV when it holds
 * a number from 1 to SL_TIME_SCALE_MAX, else 1. */
double sl_time_scale(void);

/* seconds stretched by sl_time_scale(), rounded up. */
int sl_time_scaled_s(int seconds);

#endif
