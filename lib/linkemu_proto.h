/* linkemu_proto.h: what the link emulator's two halves share (internal to
 * lib/linkemu_*.c; the interface is linkemu.h).
 *
 * The caller's half (linkemu_control.c, in the run's and the roles'
 * processes) checks a fault into a struct sl__le_spec and sends it to the
 * emulator process (linkemu_emulator.c) as a struct sl__le_msg over the
 * run's control socket; the emulator answers with a struct sl__le_reply.
 * Both see one page, struct sl__le_shared: the lock that makes a request
 * and its reply one exchange, the faults and the counters the emulator
 * keeps for them.
 */
#ifndef SL_LINKEMU_PROTO_H
#define SL_LINKEMU_PROTO_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "linkemu.h"

#define LE_NDIRS 2	     /* 0: from the client, 1: from the server */
#define LE_QMAXLEN 8192	     /* packets the kernel queues per NFQUEUE */
#define LE_REORDER_GAP_MS 10 /* default wait for a segment to overtake */

enum sl__le_kind { LE_DELAY, LE_LOSS, LE_REORDER, LE_DROP, LE_NKINDS };
enum sl__le_backend { LE_B_NONE, LE_B_LINKEMU, LE_B_NETEM };
enum sl__le_op { LE_OP_APPLY = 1, LE_OP_LIFT, LE_OP_STOP };

/* A fault as checked by the caller, as it crosses the control socket. */
struct sl__le_spec {
	int kind;
	int dirs;	      /* bit d: direction d */
	uint8_t need, forbid; /* drop: TCP flags set, not set */
	long len;	      /* drop: payload length + 1; 0 any */
	int count;	      /* drop */
	int delay_ms, jitter_ms;
	double loss;
	int reorder_pct;
	uint32_t seed;
};

struct sl__le_msg {
	uint32_t seq;
	int op;
	int id;
	struct sl__le_spec spec;
};

struct sl__le_reply {
	uint32_t seq;
	int ret;
	char why[400];
};

/* What every process of the run sees: one page, shared. */
struct sl__le_shared {
	pthread_mutex_t mu;
	uint32_t seq;
	int fifo;	     /* the emulator runs SCHED_FIFO */
	int rules[LE_NDIRS]; /* linkemu faults active per direction */
	int netem_bad;	     /* tc netem failed once: not tried again */
	char netem_why[512];
	struct {
		int used, active;
		int backend;
		struct sl__le_spec spec;
		struct sl_linkemu_stats st; /* written by the emulator */
	} f[SL_LINKEMU_MAX_FAULTS];
};

/* The emulator process (linkemu_emulator.c): serves the control socket ctl
 * in t's router namespace until told to stop or every other end is
 * closed.  Called in the child right after fork(); never returns. */
void sl__le_emulator_main(const struct sl_topology *t, struct sl__le_shared *sh,
			  int ctl, pid_t parent) __attribute__((noreturn));

/* The checked form of f (linkemu_spec.c).  Returns 0 or -EINVAL with the
 * reason in e. */
int sl__le_spec_check(const struct sl_fault *f, struct sl__le_spec *s,
		      struct sl_err *e);

/* The comment lines that say what fault id does and which backend serves
 * it, for the cmdlog f (may be NULL); fifo: the emulator's scheduling. */
void sl__le_spec_describe(FILE *f, int id, const struct sl__le_spec *s,
			  int backend, const struct sl_fault *src, int fifo);

/* The rules that steer packets (linkemu_rules.c), in the router's
 * namespace, each command that worked printed to cmdlog (may be NULL):
 * the NFQUEUE rule of direction d, appended (add) or deleted; the netem
 * qdisc of direction d rewritten from every active netem fault in sh. */
int sl__le_queue_rule(const struct sl_topology *t, int d, int add, FILE *cmdlog,
		      struct sl_err *e);
int sl__le_netem_sync(const struct sl_topology *t,
		      const struct sl__le_shared *sh, int d, FILE *cmdlog,
		      struct sl_err *e);

/* The PRNG of loss and reorder (linkemu_timer.c): xorshift64*, seeded
 * through splitmix64. */
uint64_t sl__le_rnd_seed(uint32_t seed);
double sl__le_rnd_unit(uint64_t *s);

/* The emulator's scheduling (linkemu_timer.c): SCHED_FIFO for this thread
 * when allowed and not turned off (SOCKLAB_LINKEMU_FIFO=0).  Returns 1
 * when SCHED_FIFO is in force. */
int sl__le_sched(void);

/* Arms timerfd tfd for the absolute CLOCK_MONOTONIC time due (ns), or
 * disarms it (due 0). */
void sl__le_arm_timer(int tfd, int64_t due);

#endif
