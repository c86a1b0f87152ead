/* faults.h: faults on the path, host crash and host reboot.
 *
 * socklab.h declares what an experiment calls (sl_fault(), sl_crash(),
 * sl_reboot()); this is the side the rest of the library sees.  Who serves
 * what:
 *
 *  - "blackhole": nftables in the router's namespace.  Every fault gets a
 *    base chain of its own, faultN, in socklab's own table (table inet
 *    socklab, hook forward), so lifting it deletes that chain and touches
 *    nothing else, and the whole table goes with the namespace.
 *  - "drop", "delay", "loss", "reorder": the link emulator (linkemu.h).
 *  - crash: nftables again, in two places (the router drops the host's
 *    address both ways, and the host's own output hook drops everything),
 *    then SIGKILL of the host's role process.
 *  - reboot: the run process deletes the host's namespace and makes a
 *    fresh one with the same name, link and address
 *    (sl_topology_rebuild_host()), and moves its observers there.  Only
 *    the run process owns the topology, the observers and the cleanup
 *    stack, so a role asks for it on the run's board (board.h) and waits
 *    for the fault server (faultserver.h) to answer.
 *
 * The special problem of several processes: faults are applied from SETUP
 * (the run process) and from roles (processes of their own, forked after
 * SETUP), lifted from any of them, and reported by the run process.  So
 * their records live on the run's board (board.h, under its lock), never
 * in a process's own memory.
 */
#ifndef SL_FAULTS_H
#define SL_FAULTS_H

#include <stdio.h>

#include "board.h"

struct sl_cleanup;
struct sl_err;
struct sl_observer;
struct sl_topology;

/* What the run process reboots a host with. */
struct sl_faults_ctx {
	struct sl_topology *topo;
	struct sl_cleanup *cleanup; /* NULL: what a reboot builds is kept */
	FILE *cmdlog;
	struct sl_observer *obs; /* moved to the new namespace, or NULL */
	const char *dir;	 /* the variant's results folder */
	struct sl_board *board;
};

/* Reboots crashed host h (the run process only): observers off the old
 * namespace, a fresh namespace, observers on it, then the router lets
 * traffic through again.  Returns 0 or -errno with the reason in e. */
int sl_faults_reboot(struct sl_faults_ctx *ctx, int h, struct sl_err *e);

/* Copies the records out (for the variant's results); returns the count. */
int sl_faults_export(struct sl_board *b, struct sl_fault_rec *out, int max);

/* Lifts fault id (a role's sl_fault() returned it) before teardown does;
 * no experiment needs it, the fault tests do. */
struct sl_role;
void sl_fault_lift(struct sl_role *self, int id);

/* The commands that serve a fault a role applied in a recorded run
 * (fault_spec.h), on topology t that is only explained (topology.h),
 * printed to out; b records it as a run would.  Returns 0 or -errno with
 * the reason in e. */
struct sl_fault_spec;
int sl_faults_explain(const struct sl_topology *t, struct sl_board *b,
		      const struct sl_fault_spec *s, FILE *out,
		      struct sl_err *e);

/* True when host's role was killed by sl_crash(). */
int sl_faults_crashed(struct sl_board *b, int host);

#endif
