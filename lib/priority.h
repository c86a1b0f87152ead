/* priority.h: the threads whose timing is observed run first.
 *
 * The special problem of a busy machine: a role's wait ends when the
 * kernel's event has reached it through two or three threads (the trace
 * reader or the observer, then the role), and each wake-up waits its turn
 * behind whatever else wants the CPU: the harness's own set-up of the other
 * variants, other runs, the user's compile.  With both cores kept busy a
 * hop took up to tens of milliseconds, which a timed prediction then
 * measures as the kernel's.  So the roles, the observer thread and the
 * trace reader ask for a higher weight (nice -10): the scheduler then runs
 * them within a fraction of a millisecond of their wake-up, ahead of
 * ordinary work, while they still yield to the kernel's own threads and
 * cannot starve the machine (they sleep almost all the time, and nice is
 * a weight, not a real-time class).  The harness's set-up and teardown
 * stay at the normal weight.
 */
#ifndef SL_PRIORITY_H
#define SL_PRIORITY_H

#define SL_OBSERVED_NICE (-10)

/* Gives the calling thread the observed threads' weight.  Returns 0 or
 * -errno (without CAP_SYS_NICE: the run goes on at the normal weight). */
int sl_priority_observed(void);

#endif
