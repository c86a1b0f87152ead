/* deadline.c: when `socklab run` gives up on an experiment (runner.h).
 *
 * An experiment's timeout_s bounds its roles, plus ten seconds for the
 * harness around them (lib/report.c).  Counted from the start of its
 * process, it also paid for the harness's setup: each variant's
 * namespaces, captures and trace instance, made under the kernel's locks.
 * On an idle machine that is well under a second; with seventy variants
 * setting up at once beside two busy processes it took 14 s of a 20 s
 * deadline, and experiments whose roles were fine were stopped as hung.
 * No constant allowance fits every machine, so the experiment says when
 * its roles start instead: each variant sends SL_ROLES_STARTED on the
 * --roles-fd channel (lib/protocol.h), and the deadline counts its whole
 * length again from the latest start.  Until the first, it counts from the
 * process's start, which still bounds a setup that hangs; an experiment
 * that never says (an older one, or a test's fake) keeps that deadline.
 * A deadline is only ever moved later, and while --step holds a pause, the
 * time it had left is what moves (step.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ev.h>

#include "clock.h"
#include "protocol.h"
#include "runner.h"

/* The experiment's end of the channel lands above the descriptors that
 * cli_spawn_passing() moves into place, as --step's does. */
#define ROLES_CHILD_FD_MIN 10

double run_deadline_s(const struct job *j)
{
	return j->r->timeout ? j->r->timeout : j->exp->timeout_s;
}

int run_deadline_channel(struct job *j, int *child_fd)
{
	int sv[2], fd;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	/* Not close-on-exec: the experiment inherits it. */
	fd = fcntl(sv[1], F_DUPFD, ROLES_CHILD_FD_MIN);
	close(sv[1]);
	if (fd < 0) {
		close(sv[0]);
		return -errno;
	}
	j->roles_fd = sv[0];
	*child_fd = fd;
	return 0;
}

/* A variant's roles started: the whole deadline again from now, unless
 * what is left of it is longer already. */
static void roles_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct job *j = w->data;
	double full = run_deadline_s(j);
	char msg[16];
	ssize_t n;

	(void)revents;
	n = recv(j->roles_fd, msg, sizeof(msg), MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		/* Every holder of the other end is gone: nothing more will
		 * come, and the child's exit is on its way. */
		ev_io_stop(loop, w);
		return;
	}
	if (n != 1 || msg[0] != SL_ROLES_STARTED || j->timed_out || j->stopped)
		return;
	j->nroles_started++;
	j->roles_t = sl_now();
	if (j->paused) {
		if (j->remaining < full)
			j->remaining = full;
		return;
	}
	if (ev_timer_remaining(loop, &j->timeout_w) < full) {
		ev_timer_stop(loop, &j->timeout_w);
		ev_timer_set(&j->timeout_w, full, 0);
		ev_timer_start(loop, &j->timeout_w);
	}
}

void run_deadline_watch(struct job *j)
{
	ev_io_init(&j->roles_w, roles_cb, j->roles_fd, EV_READ);
	j->roles_w.data = j;
	ev_io_start(j->r->loop, &j->roles_w);
}

void run_deadline_stop(struct job *j)
{
	if (j->r && j->r->loop)
		ev_io_stop(j->r->loop, &j->roles_w);
	if (j->roles_fd >= 0)
		close(j->roles_fd);
	j->roles_fd = -1;
}
