/* sweep.h: removing what killed runs and killed doctors left behind.
 *
 * A run removes its own namespaces and trace instance on every exit path
 * it gets to take; SIGKILL gives it none, and `run --keep` leaves its
 * namespaces on purpose.  The sweep removes only names socklab makes,
 * spelled exactly as socklab spells them, and only when their maker is
 * provably gone:
 *
 * - slot S's namespaces socklab-S-client, socklab-S-router and
 *   socklab-S-server and its trace instance socklab-S, when the slot's
 *   lock file exists and nobody holds its lock: a run had the slot and
 *   died (slot.h);
 * - socklab-doctor-PID, namespace and trace instance, when no process PID
 *   is alive.
 *
 * Anything else that merely looks like ours (socklab-250-foreign,
 * socklab-0251-notmine, an instance socklab-252 of a slot no run of
 * socklab had) belongs to somebody else and stays.
 */
#ifndef SL_SWEEP_H
#define SL_SWEEP_H

#include <stdio.h>

struct sl_err;

#define SL_DOCTOR_NETNS_PREFIX "socklab-doctor-"

/* Removes the leftovers of killed runs, kept runs excepted.  Writes one
 * line per removed object to log (may be NULL), as the command that
 * removes it by hand.  Returns the number removed, or -errno with a reason
 * in e (the first failure; the other slots are still swept).  Lock files
 * stay (see sweep_slot()), so a slot whose leftovers could not all be
 * removed is tried again by the next sweep. */
int sl_sweep_stale(FILE *log, struct sl_err *e);

/* sl_sweep_stale(), kept runs included: their marks go first. */
int sl_sweep_all(FILE *log, struct sl_err *e);

/* sl_sweep_all() for the runs whose results lie in folder dir (a real
 * path: a run's folder, an experiment's or a variant's in it): the slots
 * whose kept marks name a folder in it lose their marks, then their
 * leftovers, if no live process holds them.  *kept gets the number of such
 * slots.  Returns the number of objects removed, or -errno with a reason
 * in e. */
int sl_sweep_kept_in(const char *dir, int *kept, FILE *log, struct sl_err *e);

/* Removes the namespaces and trace instances of doctors that are gone.
 * Returns the number removed, or -errno with a reason in e. */
int sl_sweep_doctors(FILE *log, struct sl_err *e);

/* What a `socklab run` does first: sl_sweep_stale(), and when it removed
 * anything, says so on out, one line per object under a heading.  A
 * failure is reported there too and is not the run's: another process may
 * be removing the same leftovers.  Returns the number removed. */
int sl_sweep_before_run(FILE *out);

#endif
