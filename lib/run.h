/* run.h: one variant of one experiment, from topology up to teardown.
 *
 *  1. topology up (fresh namespaces for this variant only)
 *  2. the experiment's SETUP (per-namespace sysctls, faults from the start)
 *  3. observers start: captures and sock_diag sampling
 *  4. roles run, each in its host's namespace, until all have finished,
 *     one has failed, the deadline passes, or SIGINT/SIGTERM arrives;
 *     meanwhile the fault server answers their requests (faultserver.h)
 *  5. the wire is drained, observers stop, the timeline is built
 *  6. predictions are judged, results written, topology torn down
 *
 * Every resource sits on the run's cleanup stack from the moment it exists,
 * so steps 1-6 unwind the same way whichever of them fails.
 */
#ifndef SL_RUN_H
#define SL_RUN_H

#include "board.h"
#include "predict.h"
#include "registry.h"

/* What a variant's run hands back to the experiment's process (it lives in
 * memory shared with it). */
struct sl_outcome {
	int done;
	int error; /* could not run: reason in why */
	char why[512];
	int holds;
	double duration_s;
	double harness_s; /* topology and observers, up and down */
	int nfaults;	  /* faults, crashes and reboots, as served */
	struct sl_fault_rec fault[SL_FAULTS_MAX];
	struct sl_predict pred;
};

struct sl_run_opts {
	const char *dir; /* this variant's results folder (exists) */
	int keep;	 /* leave the namespaces up */
	int family;	 /* AF_INET or AF_INET6: the hosts' addresses */
};

/* Runs variant v of the registered experiment.  Never exits; signals
 * SIGINT/SIGTERM must be blocked by the caller (the run waits for them).
 * It blocks SIGUSR1 and SIGCHLD itself: a role sends the first to ask for
 * a reboot, and the fault server waits for both (faultserver.h). */
void sl_run_variant(const struct sl_registry *reg, int v,
		    const struct sl_run_opts *opts, struct sl_outcome *out);

#endif
