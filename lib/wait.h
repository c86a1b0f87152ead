/* wait.h: how a role waits for what happens elsewhere.
 *
 * The special problem of waiting on another process's time: a role waits
 * for something that happens elsewhere, a mark (another role), a segment
 * (the captures, on the observer thread), a socket's state (the kernel,
 * read by the trace reader).  All of it reaches the run's board, whose
 * sequence number is a futex: a waiting role sleeps on it and checks its
 * condition again at each change, so it returns within a millisecond or
 * so of the event (the roles and the threads that publish run ahead of
 * ordinary work: priority.h), and costs nothing while it sleeps.
 * Marks always wake the waiters; segments and kernel events, which come by
 * the thousand in a bulk transfer, wake them only while somebody waits
 * (board.h).
 *
 * What the kernel does not announce is polled: the end of a TIME-WAIT (no
 * tracepoint fires when the mini-socket goes), at the moment its own timer
 * says, then every millisecond; and every state where tracefs is missing
 * (the board's kernel_live is 0), every millisecond.  A dump costs ~20 us
 * of CPU with the run's private hash tables (topology.c).
 *
 * Each wait that returns leaves an SL_EV_WAIT on the timeline: what it
 * waited for, when the event it waited for happened (the kernel's or the
 * capture's timestamp), and when the role went on; harness.txt sums up the
 * lag between the two.
 *
 * wait.c holds the waiting itself, marks, Recv-Q and segments; wait_sock.c
 * the waits on a socket's state (sock_diag and the kernel's events).
 */
#ifndef SL_WAIT_H
#define SL_WAIT_H

#include <stdint.h>

struct sl_role;
struct sl_sock;

/* check() returns 1 when the wait is over, with *cause the time of the
 * event that ended it (0: found by a poll); it may bring *until forward
 * to be called again then without a wake-up (a poll). */
typedef int (*sl_wait_check_fn)(struct sl_role *self, void *arg, int64_t *cause,
				int64_t *until);

/* Checks, then sleeps on the board until the next change or *until, and
 * checks again, until check() says the wait is over (1) or the role's
 * deadline passes (0). */
int sl_wait_for(struct sl_role *self, sl_wait_check_fn check, void *arg,
		int64_t *cause);

/* The wait's line on the timeline (hidden from timeline.txt); a wait on a
 * socket also names it (tuple, else NULL), so that run.c can time it by
 * the kernel's event when that had not reached the role yet (flags:
 * SL_WAIT_*). */
void sl_wait_record(struct sl_role *self, const char *kind, int64_t begun,
		    int64_t cause, const char *what,
		    const struct sl_sock *tuple, int flags);

#endif
