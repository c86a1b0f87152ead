/* board.h: the run's shared board, where its processes meet.
 *
 * A variant's run is several processes: the run process (topology,
 * observers, trace reader, the fault server), and one process per role,
 * forked from it and moved into its host's namespace.  They meet on one
 * board in shared memory, made by the run process before SETUP and handed
 * to whoever needs it (the roles keep one pointer to it in their handle):
 *
 *  - the roles' events: marks, call results, waits, errors;
 *  - the segments the captures saw leave their senders (a ring), and the
 *    kernel's events for the run's sockets (a ring), what roles wait on;
 *  - the faults in force, crashes and reboots (faults.c writes them);
 *  - the roles' requests to the run process (a reboot), a small queue that
 *    the fault server (faultserver.h) answers;
 *  - the roles themselves: each host's role process, and which roles are
 *    still running, so that a role whose function returned stays alive
 *    (its descriptors open) until all of them have.
 *
 * The special problem of processes that get killed: a host crash
 * (sl_crash()) kills a role wherever it is, typically asleep in a wait.  A
 * process-shared pthread condition variable does not survive that: glibc's
 * broadcast then waits forever for the dead waiter to leave its group, and
 * every process of the run hangs.  So waiters sleep on futexes, counters
 * that keep no state about their waiters (a dead one costs nothing), and
 * the board's mutex is robust, so a role killed while holding it does not
 * wedge the others either.
 */
#ifndef SL_BOARD_H
#define SL_BOARD_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include "timeline.h"

struct sl_err;

#define SL_BOARD_EVENTS 1024
#define SL_BOARD_HOSTS 4
#define SL_BOARD_SEGS 4096 /* the segments roles can look back on */
#define SL_BOARD_KEVS 1024 /* the kernel events roles can look back on */
#define SL_BOARD_REQS SL_BOARD_HOSTS /* one request per role at a time */
#define SL_FAULTS_MAX 16

/* One fault, crash or reboot, as the results report it. */
struct sl_fault_rec {
	char kind[12];	  /* "blackhole", "delay", ..., "crash", "reboot" */
	char backend[12]; /* "nftables", "linkemu", "netem", "netns" */
	char what[200];	  /* in words, for the timeline and the JSON */
	char spec[160];	  /* what was asked, by whom (fault_spec.h) */
	int host;	  /* crash, reboot: the host; otherwise -1 */
	int backend_id;	  /* the link emulator's id for its kinds */
	int lifted;
	int64_t t_on, t_off; /* CLOCK_MONOTONIC */
};

/* What a role asks the run process to do (only it owns the topology, the
 * observers and the cleanup stack). */
enum sl_board_op {
	SL_BOARD_OP_NONE,
	SL_BOARD_OP_REBOOT,
	SL_BOARD_OP_PAUSE, /* --step: a role reached a mark (name) */
};

enum sl_board_req_state {
	SL_REQ_FREE,
	SL_REQ_POSTED,	  /* waits for the server */
	SL_REQ_TAKEN,	  /* the server works on it */
	SL_REQ_DONE,	  /* answered: ret and why */
	SL_REQ_ABANDONED, /* its role gave up waiting while taken */
};

struct sl_board_req {
	int state; /* enum sl_board_req_state */
	int op;	   /* enum sl_board_op */
	int host;
	char name[64]; /* what the operation is about: a mark's name */
	int ret;
	char why[512];
};

/* The board in shared memory.  Everything below mu is read and written
 * under it (sl_board_lock()); seq and running are futex words. */
struct sl_board {
	pthread_mutex_t mu;
	uint32_t seq; /* each append bumps it (a futex) */
	/* Roles asleep in a wait: the segments and kernel events published
	 * below wake them only when there are some, so that a bulk transfer
	 * costs nothing when nobody waits. */
	uint32_t waiters;
	/* Roles whose function has not returned (nor been killed by a
	 * crash); the roles that have returned sleep on it until it is 0. */
	uint32_t running;
	int role_live[SL_BOARD_HOSTS]; /* counted in running */
	pid_t role_pid[SL_BOARD_HOSTS];
	pid_t server; /* the run process: it serves requests */
	int n;
	int dropped;
	struct sl_event ev[SL_BOARD_EVENTS];
	/* The faults (faults.c): their records, the hosts crashed (a
	 * crashed host's role dies by SIGKILL on purpose, and the run does
	 * not count that as the role failing) and their crash records, for
	 * the reboot; commands.sh for the roles, -1 when none. */
	int nfaults;
	struct sl_fault_rec fault[SL_FAULTS_MAX];
	int crashed[SL_BOARD_HOSTS];
	int crash_rec[SL_BOARD_HOSTS];
	int cmdlog_fd;
	struct sl_board_req req[SL_BOARD_REQS];
	/* --step (step.h): the channel to the terminal's side, -1 when the
	 * run is not stepped; the time spent paused so far, and when the
	 * pause in progress began (0: none).  Deadlines move by both
	 * (sl_board_deadline()). */
	int step_fd;
	int64_t paused_ns;
	int64_t pause_since;
	/* The segments the captures saw leave their senders, in the order
	 * captured, in a ring (seg[i % SL_BOARD_SEGS] for the i-th): what
	 * roles wait for with sl_wait_segment().  nseg counts every one
	 * published. */
	unsigned long nseg;
	struct sl_board_seg {
		int64_t t;
		int from, to; /* hosts, -1 unknown */
		struct sl_packet pkt;
	} seg[SL_BOARD_SEGS];
	/* The kernel's events for this run's sockets, as the trace reader
	 * reads them (within microseconds: trace.h), in a ring like the
	 * segments: what roles wait on for a socket's state.  kernel_live
	 * says the reader feeds it; without it (no tracefs), roles poll
	 * sock_diag instead. */
	int kernel_live;
	unsigned long nkev;
	struct sl_board_kev {
		int64_t t;
		int host;
		struct sl_kevent k;
	} kev[SL_BOARD_KEVS];
};

/* Maps a fresh board; the calling process is the one that serves the
 * roles' requests.  Returns 0 or -errno with a reason in e. */
int sl_board_create(struct sl_board **bp, struct sl_err *e);
void sl_board_destroy(struct sl_board *b);

/* The board's lock, for the few who read or write its parts in place
 * (faults.c, the waits).  A holder that died is recovered from. */
void sl_board_lock(struct sl_board *b);
void sl_board_unlock(struct sl_board *b);

/* Appends an event (any process of the run) and wakes the waiters. */
void sl_board_append(struct sl_board *b, const struct sl_event *ev);

/* The sequence number: read it before checking the condition to wait for,
 * then sl_board_wait() for it to change. */
uint32_t sl_board_seq(struct sl_board *b);

/* Sleeps until the sequence number changes from seen, or until deadline
 * (CLOCK_MONOTONIC ns).  Returns 0, or -ETIMEDOUT. */
int sl_board_wait(struct sl_board *b, uint32_t seen, int64_t deadline);

/* Called and returning with the lock held: lets it go, sleeps as
 * sl_board_wait() does, and takes it again. */
int sl_board_wait_locked(struct sl_board *b, int64_t deadline);

/* Wakes every waiter: bumps the sequence number (after a change made
 * under the lock, such as an answer to a request). */
void sl_board_wake(struct sl_board *b);

/* Counts a role waiter in and out: while any is in, publishing a segment
 * or a kernel event wakes the waiters. */
void sl_board_waiter_in(struct sl_board *b);
void sl_board_waiter_out(struct sl_board *b);

/* The time of the first mark name by host (-1: any host), 0 if none yet.
 * Called with the lock held. */
int64_t sl_board_mark_time_locked(struct sl_board *b, int host,
				  const char *name);

/* A deadline fixed before the run began, moved later by the time the run
 * has spent paused at marks (--step), the pause in progress included: a
 * learner reading ss at a mark must not make a role's wait, or the run,
 * time out.  The kernel's own timers are not moved (step.h says so to the
 * learner).  Any process of the run; without pauses it is deadline. */
int64_t sl_board_deadline(struct sl_board *b, int64_t deadline);

/* Copies the events into tl. */
int sl_board_export(struct sl_board *b, struct sl_timeline *tl);

/* The text of the first role error, or NULL. */
const char *sl_board_error(struct sl_board *b, int *host);

/* Publishes a captured segment for the roles (sl_wait_segment()); called by
 * the observer thread for the copy seen at its sender. */
void sl_board_add_segment(struct sl_board *b, const struct sl_event *ev);

/* Publishes a kernel event (kind SL_EV_KERNEL) for the roles' waits; the
 * trace reader's feed (sl_trace_feed()), so arg is the board. */
void sl_board_add_kernel(void *arg, const struct sl_event *ev);

/* ---- the roles ---- */

/* Records which process runs host's role (0: none any more). */
void sl_board_set_pid(struct sl_board *b, int host, pid_t pid);
pid_t sl_board_pid(struct sl_board *b, int host);

/* host's role has started: it counts among the running until it ends. */
void sl_board_role_started(struct sl_board *b, int host);

/* host's role has ended (its function returned, it was killed, it is
 * gone): wakes the roles that wait for all to end.  Idempotent. */
void sl_board_role_ended(struct sl_board *b, int host);

/* Sleeps until no role is running any more, or until deadline.  Returns
 * 0, or -ETIMEDOUT. */
int sl_board_wait_roles_ended(struct sl_board *b, int64_t deadline);

/* ---- requests to the run process ---- */

/* A role's side: posts op on host, wakes the server (SIGUSR1) and sleeps
 * until it answers or deadline.  Returns the answer (0 or -errno), with its
 * reason in why. */
int sl_board_request(struct sl_board *b, int op, int host, int64_t deadline,
		     char *why, size_t n);

/* The same, with what the operation is about (a mark's name) in the
 * request's name. */
int sl_board_request_named(struct sl_board *b, int op, int host,
			   const char *name, int64_t deadline, char *why,
			   size_t n);

/* The server's side: takes a posted request (the lowest slot first) into
 * *req.  Returns its slot, or -1 when none is posted. */
int sl_board_take_request(struct sl_board *b, struct sl_board_req *req);

/* The server's side: answers slot's request and wakes its role. */
void sl_board_answer(struct sl_board *b, int slot, int ret, const char *why);

#endif
