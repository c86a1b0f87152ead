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
#include "sysctls.h"

/* A role's deadline when EXPERIMENT gives no .timeout_s (pace.h stretches
 * it on a slow machine). */
#define SL_DEFAULT_TIMEOUT_S 20

/* What a variant's run hands back to the experiment's process (it lives in
 * memory shared with it). */
struct sl_outcome {
	int done;
	int error; /* could not run: reason in why */
	char why[512];
	int holds;
	double duration_s;
	double harness_s; /* topology and observers, up and down */
	int stepped;	  /* run with --step: paused at its marks */
	double paused_s;  /* ... for this long in all */
	int nfaults;	  /* faults, crashes and reboots, as served */
	struct sl_fault_rec fault[SL_FAULTS_MAX];
	/* The end hosts' TCP sysctls once SETUP had run (sysctls.h). */
	int nsysctls;
	struct sl_sysctl_val sysctl[2 * SL_SYSCTL_KEYS];
	struct sl_predict pred;
};

struct sl_run_opts {
	const char *dir; /* this variant's results folder (exists) */
	int keep;	 /* leave the namespaces up */
	int step_fd;	 /* --step's channel to the CLI (step.h), or -1 */
	int progress_fd; /* where its progress is said (protocol.h), or -1 */
	int family;	 /* AF_INET or AF_INET6: the hosts' addresses */
};

/* Runs variant v of the registered experiment.  Never exits; signals
 * SIGINT/SIGTERM must be blocked by the caller (the run waits for them).
 * It blocks SIGUSR1 and SIGCHLD itself: a role sends the first to ask for
 * a reboot, and the fault server waits for both (faultserver.h). */
void sl_run_variant(const struct sl_registry *reg, int v,
		    const struct sl_run_opts *opts, struct sl_outcome *out);

/* Step 6 alone: the experiment's predictions judged on tl, for a variant
 * with those knobs, into out (whose error, set before, means there is
 * nothing to judge).  A run calls it on the timeline it has just built;
 * `--judge` on one loaded from its recording (timeline.h). */
void sl_run_judge(const struct sl_registry *reg, const void *knobs,
		  const struct sl_timeline *tl, struct sl_outcome *out);

/* The files a run derives from its timeline, in folder dir of the folder
 * at: timeline.txt (hosts, the lines naming the hosts and their
 * addresses, first), timeline.tl (its recording), ladder.txt, ladder.svg
 * and ladder.mmd (titled title).  A file that cannot be created is left
 * out: the run goes on without it. */
void sl_run_write_timeline(const struct sl_timeline *tl, int at,
			   const char *dir, const char *hosts,
			   const char *title);

#endif
