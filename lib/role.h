/* role.h: the roles' processes and their handle.
 *
 * Each role runs in a process of its own, forked from the variant's run and
 * moved into its host's namespace.  Roles write marks and call results on
 * the run's shared board (board.h), which is also how they wait for each
 * other and for what the captures and the kernel saw (wait.h).
 *
 * A role whose function has returned does not exit at once: its process,
 * and with it every descriptor the role left open, stays until all roles
 * of the variant have returned (or the run ends them on an error or at its
 * deadline).  A role's sockets thus outlive its code exactly as long as the
 * exchange goes on, and an author never waits for the other role's last
 * mark only to keep them open.
 */
#ifndef SL_ROLE_H
#define SL_ROLE_H

#include <stdint.h>
#include <sys/types.h>

struct sl_board;
struct sl_err;
struct sl_event;
struct sl_sockdiag;
struct sl_topology;

#define SL_ROLE_EXIT_ERROR 3 /* a role's SL_REQUIRE or wait failed */

/* A role's handle (self): private to lib/, experiments only pass it on. */
struct sl_role {
	const struct sl_topology *topo;
	int host;
	struct sl_board *board;
	int64_t deadline;
	struct sl_sockdiag *diag;
	int64_t dumped_at; /* end of the last sock_diag dump (CLOCK_MONOTONIC) */
	int epfd;	   /* sl_wait_recvq()'s epoll, -1 until needed */
};

/* Forks a process that enters host's namespace and runs fn(self, knobs),
 * stays until every role on board has ended (board.h), then exits 0
 * (SL_ROLE_EXIT_ERROR when the role gave up).  The caller has counted the
 * role in (sl_board_role_started()).  The child dies with its parent
 * (PR_SET_PDEATHSIG).  Returns the pid or -errno. */
pid_t sl_role_spawn(const struct sl_topology *t, int host,
		    struct sl_board *board, int64_t deadline,
		    void (*fn)(struct sl_role *self, const void *knobs),
		    const void *knobs, struct sl_err *e);

/* A fresh event of this role's host, of kind, named name (or not), at
 * the present time. */
void sl_role_event(struct sl_role *self, struct sl_event *ev, int kind,
		   const char *name);

#endif
