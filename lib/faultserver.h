/* faultserver.h: the run process's loop while the roles run.
 *
 * Only the run process owns the topology, the observers and the cleanup
 * stack, so what a role cannot do from its own process (reboot a host:
 * faults.h) it posts on the run's board and waits for.  The fault server
 * is the run process's side of that: from the moment the roles start
 * until they are through, it sleeps in sigtimedwait() and wakes for what
 * may change the picture:
 *
 *	SIGUSR1		a role posted a request (a reboot; with --step, a
 *			pause at a mark: step.h): serve every posted one
 *	SIGCHLD		a role's process ended: ask the run whether the
 *			roles are through (settled())
 *	SIGINT/SIGTERM	the user gave up
 *	the deadline
 *
 * The caller blocks SIGUSR1, SIGCHLD, SIGINT and SIGTERM before the first
 * role starts, so none of them is lost between two turns (a blocked signal
 * waits, pending, for the next sigtimedwait()).
 */
#ifndef SL_FAULTSERVER_H
#define SL_FAULTSERVER_H

#include <signal.h>
#include <stdint.h>

#include "faults.h"

struct sl_faultserver {
	struct sl_faults_ctx ctx; /* what a reboot needs; ctx.board */
	/* Asked at each turn: 0 while the roles go on, 1 once they are
	 * through, -errno when one ended badly. */
	int (*settled)(void *arg);
	void *arg;
	const char *variant; /* named at each pause of --step (step.h) */
};

/* The signals the caller blocks before the roles start (see above). */
void sl_faultserver_signals(sigset_t *set);

/* Serves the roles' requests until settled() says they are through.
 * Returns 0 then, settled()'s -errno, -ETIMEDOUT at deadline
 * (CLOCK_MONOTONIC ns, moved by the pauses of --step), or -EINTR on
 * SIGINT/SIGTERM. */
int sl_faultserver_run(struct sl_faultserver *fs, int64_t deadline);

/* Serves every request posted on the board now; returns how many. */
int sl_faultserver_serve(struct sl_faultserver *fs);

#endif
