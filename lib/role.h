/* role.h: the roles' side of a run: their processes and the shared log.
 *
 * Each role runs in a process of its own, forked from the variant's run and
 * moved into its host's namespace.  Roles write marks and call results into
 * a log in shared memory (a process-shared, robust mutex guards it), which
 * is also how they wait for each other's marks: a waiting role sleeps on the
 * log's sequence number (a futex) until the mark it wants appears, so no
 * role ever sleeps blindly.
 *
 * The special problem of roles that get killed: a host crash (sl_crash())
 * kills a role wherever it is, typically asleep in sl_wait_mark().  A
 * process-shared pthread condition variable does not survive that: glibc's
 * broadcast then waits forever for the dead waiter to leave its group, and
 * every process of the run hangs.  A futex on a counter keeps no state
 * about its waiters, so a dead one costs nothing; the mutex is robust, so
 * a role killed while holding it does not wedge the others either.
 */
#ifndef SL_ROLE_H
#define SL_ROLE_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include "faults.h"
#include "timeline.h"

struct sl_topology;
struct sl_err;
struct sl_applog;
struct sl_role;

#define SL_APPLOG_MAX 1024
#define SL_APPLOG_HOSTS 4
#define SL_APPLOG_SEGS 4096	/* the segments roles can look back on */
#define SL_APPLOG_KEVS 1024	/* the kernel events roles can look back on */
#define SL_ROLE_EXIT_ERROR 3	/* a role's SL_REQUIRE or wait failed */

struct sl_sockdiag;

/* The log in shared memory: the roles' events, and the pid of each host's
 * role (so that a role can make another host crash). */
struct sl_applog {
	pthread_mutex_t mu;
	uint32_t seq;		/* bumped by every append; waiters sleep on it */
	/* Roles asleep in a wait: the segments and kernel events published
	 * below wake them only when there are some, so that a bulk transfer
	 * costs nothing when nobody waits. */
	uint32_t waiters;
	int n;
	int dropped;
	pid_t role_pid[SL_APPLOG_HOSTS];
	struct sl_faults faults;	/* faults.c: records, crashes, requests */
	struct sl_event ev[SL_APPLOG_MAX];
	/* The segments the captures saw leave their senders, in the order
	 * captured, in a ring (seg[i % SL_APPLOG_SEGS] for the i-th): what
	 * roles wait for with sl_wait_segment().  nseg counts every one
	 * published. */
	unsigned long nseg;
	struct sl_applog_seg {
		int64_t t;
		int from, to;		/* hosts, -1 unknown */
		struct sl_packet pkt;
	} seg[SL_APPLOG_SEGS];
	/* The kernel's events for this run's sockets, as the trace reader
	 * reads them (within microseconds: trace.h), in a ring like the
	 * segments: what roles wait on for a socket's state.  kernel_live
	 * says the reader feeds it; without it (no tracefs), roles poll
	 * sock_diag instead. */
	int kernel_live;
	unsigned long nkev;
	struct sl_applog_kev {
		int64_t t;
		int host;
		struct sl_kevent k;
	} kev[SL_APPLOG_KEVS];
};

/* A role's handle (self): private to lib/, experiments only pass it on. */
struct sl_role {
	const struct sl_topology *topo;
	int host;
	struct sl_applog *log;
	int64_t deadline;
	struct sl_sockdiag *diag;
	int64_t dumped_at;	/* end of the last sock_diag dump (CLOCK_MONOTONIC) */
	int epfd;		/* sl_wait_recvq()'s epoll, -1 until needed */
};

int sl_applog_create(struct sl_applog **lp, struct sl_err *e);
void sl_applog_destroy(struct sl_applog *l);

/* Appends an event (any process of the run) and wakes the waiters. */
void sl_applog_append(struct sl_applog *l, const struct sl_event *ev);

/* The log's sequence number: read it under the lock, after checking the
 * condition to wait for, then sl_applog_wait() for it to change. */
uint32_t sl_applog_seq(struct sl_applog *l);

/* Sleeps until an append changes the sequence number from seen, or until
 * deadline (CLOCK_MONOTONIC ns).  Returns 0, or -ETIMEDOUT. */
int sl_applog_wait(struct sl_applog *l, uint32_t seen, int64_t deadline);

/* Wakes every waiter: bumps the sequence number (after a change made
 * under the lock, such as an answer to a request). */
void sl_applog_wake(struct sl_applog *l);

/* Records which process runs host's role. */
void sl_applog_set_pid(struct sl_applog *l, int host, pid_t pid);

/* Copies the log's events into tl. */
int sl_applog_export(struct sl_applog *l, struct sl_timeline *tl);

/* The log that sl_applog_create() made last in this process, or NULL.
 * A variant's run makes one log and runs in a process of its own, so this
 * is the run's: the observers find it here to publish the segments they
 * capture (observe.c), which spares the run a second hand-over. */
struct sl_applog *sl_applog_current(void);

/* Publishes a captured segment for the roles (sl_wait_segment()); called by
 * the observer thread for the copy seen at its sender. */
void sl_applog_add_segment(struct sl_applog *l, const struct sl_event *ev);

/* Publishes a kernel event (kind SL_EV_KERNEL) for the roles' waits; the
 * trace reader's feed (sl_trace_feed()), so arg is the log. */
void sl_applog_add_kernel(void *arg, const struct sl_event *ev);

/* The text of the first role error in the log, or NULL. */
const char *sl_applog_error(struct sl_applog *l, int *host);

/* Forks a process that enters host's namespace and runs fn(self, knobs),
 * then exits 0 (SL_ROLE_EXIT_ERROR when the role gave up).  The child dies
 * with its parent (PR_SET_PDEATHSIG).  Returns the pid or -errno. */
pid_t sl_role_spawn(const struct sl_topology *t, int host,
		    struct sl_applog *log, int64_t deadline,
		    void (*fn)(struct sl_role *self, const void *knobs),
		    const void *knobs, struct sl_err *e);

#endif
