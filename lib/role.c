/* role.c: role processes and the role API's basics (socklab.h): records,
 * marks, failures, addresses, the listening and the connecting socket. */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "board.h"
#include "clock.h"
#include "err.h"
#include "priority.h"
#include "role.h"
#include "socklab.h"
#include "topology.h"

pid_t sl_role_spawn(const struct sl_topology *t, int host,
		    struct sl_board *board, int64_t deadline,
		    void (*fn)(struct sl_role *self, const void *knobs),
		    const void *knobs, struct sl_err *e)
{
	struct sl_role self = {
		.topo = t,
		.host = host,
		.board = board,
		.deadline = deadline,
		.epfd = -1,
	};
	sigset_t none;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return sl_errf(e, errno, "fork role %s", t->host[host].name);
	if (pid > 0)
		return pid;
	/* The child: die with the run, take default signals, run ahead of
	 * ordinary work (priority.h), enter the host's namespace, and run
	 * the experiment's socket code. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	sl_priority_observed();
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	if (getppid() == 1)
		_exit(SL_ROLE_EXIT_ERROR);
	/* The parent records the pid too, but only once fork() returns
	 * there: set here, it is known before this role's first mark, so a
	 * peer waiting for that mark can crash this host. */
	sl_board_set_pid(board, host, getpid());
	if (setns(t->host[host].nsfd, CLONE_NEWNET) < 0)
		sl__role_fail(&self, "enter the host's namespace", errno,
			      __FILE__, __LINE__);
	fn(&self, knobs);
	/* Its sockets stay open until every role has returned: the peer may
	 * still be talking to them (role.h).  Past the deadline the run ends
	 * the variant anyway. */
	sl_board_role_ended(board, host);
	sl_board_wait_roles_ended(board, deadline);
	_exit(0);
}

/* ---- the role API ---- */

int64_t sl__now(void)
{
	return sl_now();
}

void sl_role_event(struct sl_role *self, struct sl_event *ev, int kind,
		   const char *name)
{
	memset(ev, 0, sizeof(*ev));
	ev->t = sl_now();
	ev->t_start = ev->t;
	ev->kind = kind;
	ev->host = self->host;
	ev->from = ev->to = -1;
	if (name)
		snprintf(ev->name, sizeof(ev->name), "%s", name);
}

void sl__record(struct sl_role *self, const char *name, int64_t t0, long ret,
		int err)
{
	struct sl_event ev;

	sl_role_event(self, &ev, SL_EV_CALL, name);
	ev.t_start = t0;
	ev.ret = ret;
	ev.err = ret < 0 ? err : 0;
	sl_board_append(self->board, &ev);
}

void sl_mark(struct sl_role *self, const char *name)
{
	struct sl_event ev;
	char why[256];

	/* --step: the run pauses here, before the mark is stamped, so that
	 * the mark's time is when the role goes on, and a prediction timed
	 * from it ("RST within 50 ms after closing") measures what follows
	 * the pause, not the learner's reading.  A pause that fails (the run
	 * is being stopped) is not the role's failure: it goes on. */
	if (__atomic_load_n(&self->board->step_fd, __ATOMIC_SEQ_CST) >= 0)
		sl_board_request_named(self->board, SL_BOARD_OP_PAUSE,
				       self->host, name, self->deadline, why,
				       sizeof(why));
	sl_role_event(self, &ev, SL_EV_MARK, name);
	sl_board_append(self->board, &ev);
}

void sl__role_fail(struct sl_role *self, const char *what, int err,
		   const char *file, int line)
{
	struct sl_event ev;
	const char *base = strrchr(file, '/');

	sl_role_event(self, &ev, SL_EV_ROLE_ERROR, NULL);
	snprintf(ev.text, sizeof(ev.text), "%s: %s: %s (%s:%d)",
		 self->topo->host[self->host].name, what,
		 err ? strerror(err) : "failed", base ? base + 1 : file, line);
	sl_board_append(self->board, &ev);
	_exit(SL_ROLE_EXIT_ERROR);
}

struct sockaddr_storage sl_addr(struct sl_role *self, const char *host,
				int port)
{
	struct sockaddr_storage sa;
	int h = sl_topology_host(self->topo, host);

	if (h < 0) {
		errno = EINVAL;
		sl__role_fail(self, "unknown host name in sl_addr()", EINVAL,
			      __FILE__, __LINE__);
	}
	sl_ip_to_sockaddr(&self->topo->host[h].iface[0].addr,
			  (unsigned short)port, &sa);
	return sa;
}

int sl_family(struct sl_role *self)
{
	return self->topo->family;
}

int sl_listen(struct sl_role *self, int port)
{
	struct sockaddr_storage sa =
		sl_addr(self, self->topo->host[self->host].name, port);
	int fd = sl_call(self, socket(sl_family(self), SOCK_STREAM, 0));

	sl_call(self, bind(fd, (struct sockaddr *)&sa, sizeof(sa)));
	sl_call(self, listen(fd, 16));
	sl_mark(self, "listening");
	return fd;
}

int sl_connect(struct sl_role *self, const char *host, int port)
{
	struct sockaddr_storage sa = sl_addr(self, host, port);
	int fd = sl_call(self, socket(sl_family(self), SOCK_STREAM, 0));

	sl_wait_mark(self, host, "listening");
	sl_call(self, connect(fd, (struct sockaddr *)&sa, sizeof(sa)));
	return fd;
}

struct sl_tuple sl_tuple(struct sl_role *self, int fd)
{
	struct sl_tuple t;
	socklen_t ll = sizeof(t.local), rl = sizeof(t.peer);

	if (getsockname(fd, (struct sockaddr *)&t.local, &ll) < 0 ||
	    getpeername(fd, (struct sockaddr *)&t.peer, &rl) < 0)
		sl__role_fail(self, "sl_tuple: socket has no peer", errno,
			      __FILE__, __LINE__);
	return t;
}
