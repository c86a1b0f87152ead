/* linkemu.h: delay, loss, reorder and one-shot drops on the router.
 *
 * Owned by the link emulator, lib/linkemu_*.c, one job each:
 * linkemu_control.c (this interface: the caller's half, in the run's and
 * the roles' processes), linkemu_spec.c (a fault checked and described),
 * linkemu_rules.c (the iptables rules and netem qdiscs that steer packets),
 * linkemu_emulator.c (the emulator process), linkemu_queue.c (its NFQUEUE
 * reader), linkemu_schedule.c (its delay, loss, reorder and drops),
 * linkemu_timer.c (its timer and PRNG, and the doctor's measurement);
 * linkemu_proto.h is what they share.  faults.c dispatches the kinds
 * "delay", "loss", "reorder" and "drop" here; "blackhole", crash and
 * reboot stay in faults.c.
 *
 * Two backends serve the same struct sl_fault:
 *
 *  - "netem": `tc qdisc ... netem` on the router's egress interface, where
 *    the kernel has sch_netem (delay, loss, reorder);
 *  - "linkemu": socklab's own emulator, a child process of the variant's
 *    run that lives in the router's namespace.  iptables (mangle FORWARD)
 *    sends the affected direction to an NFQUEUE; the emulator holds each
 *    packet on a timer and gives its verdict later (delay), drops it
 *    (loss, drop) or lets the next one pass first (reorder).  One-shot
 *    drops ("the next pure ACK from the client") always use it, since only
 *    it can count segments exactly.
 *
 * Which one served a fault is returned by sl_linkemu_backend(), and both
 * are printed to the cmdlog with the commands a learner would type.
 *
 * How the rest of a run calls this module (run.c and faults.c):
 *
 *   1. run.c, right after sl_topology_up() and before the experiment's
 *      SETUP (which may apply a fault):
 *		sl_linkemu_start(&topo, &cleanup, &e);
 *      (run.c does this now.  A second call for the same topology from the
 *      same process returns 0 and starts nothing.)
 *      It forks the emulator process (it waits on a control socket and
 *      costs nothing until a fault is applied) and pushes sl_linkemu_stop()
 *      on the cleanup stack, so the emulator ends and its rules go on
 *      every exit path, before the namespaces are deleted.
 *   2. faults.c, from SETUP (run process) or from a role (a role process
 *      forked after step 1: it inherits the control socket):
 *		id = sl_linkemu_apply(s->topo, f, cmdlog, &e);
 *      returns once the fault is in force (rules installed, emulator
 *      ready), with an id >= 0, or -errno with the reason in e.
 *		sl_linkemu_lift(topo, id, &e);
 *      lifts it again.  Both may be called from any process of the run.
 *   3. Teardown: nothing to call (the cleanup step of step 1 does it);
 *      sl_linkemu_stop() may also be called directly and is idempotent.
 *
 * sl_linkemu_apply() in a process that did not call sl_linkemu_start()
 * (or one of its children) fails with -ENOTCONN.
 */
#ifndef SL_LINKEMU_H
#define SL_LINKEMU_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct sl_cleanup;
struct sl_err;
struct sl_fault;
struct sl_topology;

/* The error socklab allows a delay: 99 % of handshakes' RTTs are the
 * delay within this (the rest within 10 ms: a virtual machine's CPU can be
 * taken away for a few ms).  What the emulator measured on this project's build machine (the
 * table at the top of linkemu_timer.c, from tests/test_linkemu.c), for
 * `socklab doctor` to print next to what it measures now. */
#define SL_LINKEMU_BOUND_MS 2
#define SL_LINKEMU_MEASURED                                                   \
	"RTT error of 200 handshakes through 10 ms of delay, 14 runs on a "   \
	"2-core VM: median 0.04..0.15 ms, p99 0.1..0.5 ms, max 0.2..1.3 ms, " \
	"idle or with the other core busy"

/* Faults one run may have applied, lifted ones included. */
#define SL_LINKEMU_MAX_FAULTS 16

/* Starts the emulator process for topology t and pushes its stop on c.
 * Returns 0 or -errno with the reason in e. */
int sl_linkemu_start(const struct sl_topology *t, struct sl_cleanup *c,
		     struct sl_err *e);

/* Stops the emulator: lifts every fault (rules and qdiscs), ends and reaps
 * the process.  Idempotent; only the process that started it stops it
 * (a role's copy of the state is left alone). */
void sl_linkemu_stop(void);

/* Numbers the faults that sl_linkemu_apply() explains (on a topology
 * that only explains, topology.h) from 0 again, as a variant's run numbers
 * its own. */
void sl_linkemu_explain_begin(void);

/* Applies f (kind "delay", "loss", "reorder" or "drop") on the router, on
 * the direction .from names ("client", "server"; NULL: both):
 *
 *   delay    .delay_ms > 0, 0 <= .jitter_ms <= .delay_ms (uniform)
 *   loss     0 < .loss <= 1, per packet
 *   reorder  .reorder_pct in 1..50: that share of segments overtakes the
 *            one before it, which is held for at most .delay_ms (default
 *            10 ms) waiting for one; netem instead sends that share at
 *            once and delays the others by .delay_ms
 *   drop     the next .count (default 1) TCP segments with .flags set,
 *            .not_flags clear and a payload of .len bytes if given, once
 *
 * Prints the commands that worked to cmdlog (may be NULL) as
 * `ip netns exec socklab-S-router iptables ...`, after comment lines naming
 * the backend (and why netem was not it), the PRNG seed of loss and
 * reorder, and what the fault does.  The environment can force a backend
 * (SOCKLAB_LINKEMU_BACKEND=linkemu|netem), set the seed (SOCKLAB_SEED,
 * default 1; fault id is added) and turn SCHED_FIFO off
 * (SOCKLAB_LINKEMU_FIFO=0, to measure what it buys).  On a topology
 * that only explains (topology.h) it prints the commands and does nothing:
 * netem's, with the emulator's rule as a comment, or the emulator's alone
 * for what netem cannot do.
 * Returns an id >= 0, or -errno with the reason in e. */
int sl_linkemu_apply(const struct sl_topology *t, const struct sl_fault *f,
		     FILE *cmdlog, struct sl_err *e);

/* Lifts fault id: its rule is removed when no other fault on that
 * direction needs it (a netem qdisc is rewritten or deleted).  Packets it
 * already delays keep the time they were given; a segment it holds for
 * reordering goes at once.  Returns 0 or -errno. */
int sl_linkemu_lift(const struct sl_topology *t, int id, struct sl_err *e);

/* "netem" or "linkemu": the backend that serves fault id, or NULL. */
const char *sl_linkemu_backend(int id);

/* What the emulator did with one fault's traffic (linkemu backend only;
 * all zero for netem, whose counters we do not read). */
struct sl_linkemu_stats {
	uint64_t seen;	    /* packets of the fault's direction */
	uint64_t matched;   /* drop: matched the pattern */
	uint64_t dropped;   /* loss, drop */
	uint64_t delayed;   /* delay: held on a timer */
	uint64_t reordered; /* reorder: overtaken by the next one */
	uint64_t overruns;  /* packets the kernel could not queue to us */
	uint32_t seed;	    /* loss, reorder: the PRNG seed */
};

/* Copies fault id's counters.  Returns 0, or -ENOENT. */
int sl_linkemu_stats(int id, struct sl_linkemu_stats *st);

/* The delay backend's timer error on this machine, measured now: n timers
 * armed the way the emulator arms them (timerfd on a libev loop, in a
 * child process scheduled as the emulator is), each one's lateness in
 * microseconds.  For `socklab doctor`.  Returns 0 or -errno. */
struct sl_linkemu_timer_error {
	double median_us, p99_us, max_us;
	int n;
	int fifo; /* 1: the timer thread ran SCHED_FIFO */
};
int sl_linkemu_measure_timer(int n, struct sl_linkemu_timer_error *out,
			     struct sl_err *e);

/* Internal, for tests: the emulator's pid (0 when not started). */
pid_t sl__linkemu_pid(void);

#endif
