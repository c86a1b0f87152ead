/* faults.h: faults on the path, host crash and host reboot.
 *
 * socklab.h declares what an experiment calls (sl_fault(), sl_setup_fault(),
 * sl_fault_lift(), sl_crash(), sl_reboot()); this is the side the rest of
 * the library sees.  Who serves what:
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
 *    stack, so a role asks for it through the shared log and waits.
 *
 * The special problem of several processes: faults are applied from SETUP
 * (the run process) and from roles (processes of their own, forked after
 * SETUP), lifted from any of them, and reported by the run process.  So
 * their records live in the roles' shared log (struct sl_faults inside
 * struct sl_applog, under its process-shared mutex), never in a process's
 * own memory.
 */
#ifndef SL_FAULTS_H
#define SL_FAULTS_H

#include <stdint.h>
#include <stdio.h>

struct sl_applog;
struct sl_cleanup;
struct sl_err;
struct sl_observer;
struct sl_topology;

#define SL_FAULTS_MAX 16
#define SL_FAULTS_HOSTS 4

/* One fault, crash or reboot, as the results report it. */
struct sl_fault_rec {
	char kind[12];		/* "blackhole", "delay", ..., "crash", "reboot" */
	char backend[12];	/* "nftables", "linkemu", "netem", "netns" */
	char what[200];		/* in words, for the timeline and the JSON */
	int host;		/* crash, reboot: the host; otherwise -1 */
	int backend_id;		/* the link emulator's id for its kinds */
	int lifted;
	int64_t t_on, t_off;	/* CLOCK_MONOTONIC */
};

enum sl_fault_op {
	SL_FAULT_OP_NONE,
	SL_FAULT_OP_REBOOT,
};

/* What the run's processes share about faults (in struct sl_applog). */
struct sl_faults {
	int n;
	struct sl_fault_rec rec[SL_FAULTS_MAX];
	/* A crashed host's role dies by SIGKILL on purpose: run.c does not
	 * count that as the role failing. */
	int crashed[SL_FAULTS_HOSTS];
	int crash_rec[SL_FAULTS_HOSTS];	/* its record, for the reboot */
	int cmdlog_fd;			/* commands.sh, -1 when none */
	/* One request from a role to the run process at a time. */
	struct {
		int busy;		/* a role owns the slot */
		int op;			/* enum sl_fault_op, NONE once taken */
		int host;
		int done;
		int ret;
		char why[512];
	} req;
};

/* What the run process serves requests with. */
struct sl_faults_ctx {
	struct sl_topology *topo;
	struct sl_cleanup *cleanup;	/* NULL: what a reboot builds is kept */
	FILE *cmdlog;
	struct sl_observer *obs;
	const char *dir;		/* the variant's results folder */
	struct sl_applog *log;
};

/* Called by the run process when a role has signalled (SIGUSR1) and on
 * each turn of its wait: serves a pending request, if any. */
void sl_faults_serve(struct sl_faults_ctx *ctx);

/* Copies the records out (for the variant's results); returns the count. */
int sl_faults_export(struct sl_applog *log, struct sl_fault_rec *out,
		     int max);

/* Lifts fault id (a role's sl_fault() returned it) before teardown does;
 * no experiment needs it, the fault tests do. */
struct sl_role;
void sl_fault_lift(struct sl_role *self, int id);

/* True when host's role was killed by sl_crash(). */
int sl_faults_crashed(struct sl_applog *log, int host);

#endif
