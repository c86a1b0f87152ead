/* deadline.c: when `socklab run` gives up on an experiment (runner.h).
 *
 * An experiment's timeout_s bounds its roles, plus ten seconds for the
 * harness around them (lib/report.c).  Counted from the start of its
 * process, it also paid for the harness's setup: each variant's
 * namespaces, captures and trace instance, made under the kernel's locks.
 * On an idle machine that is well under a second; with seventy variants
 * setting up at once beside two busy processes it took 14 s of a 20 s
 * deadline, and experiments whose roles were fine were stopped as hung.
 * No constant allowance fits every machine, so the deadline is a
 * watchdog instead: each variant says when it moves on (a phase of the
 * harness over, its roles' start) on the --progress-fd channel
 * (lib/protocol.h), and the deadline counts its whole length again from
 * the latest sign.  A phase that hangs is still stopped a deadline after
 * the one before it ended, and roles that hang a deadline after they
 * started (their own, timeout_s, comes first).  An experiment that never
 * says (an older one, or a test's fake) keeps the deadline from its
 * start.  A deadline is only ever moved later, and while --step holds a
 * pause, the time it had left is what moves (step.c).
 */
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ev.h>

#include "clock.h"
#include "protocol.h"
#include "runner.h"

double run_deadline_s(const struct job *j)
{
	return j->r->timeout ? j->r->timeout : j->exp->timeout_s;
}

/* A sign of progress: the whole deadline again from now, unless what is
 * left of it is longer already. */
static void progress_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct job *j = w->data;
	double full = run_deadline_s(j);
	char msg[16];
	ssize_t n;

	(void)revents;
	n = recv(j->progress_fd, msg, sizeof(msg), MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		/* Every holder of the other end is gone: nothing more will
		 * come, and the child's exit is on its way. */
		ev_io_stop(loop, w);
		return;
	}
	if (n != 1 ||
	    (msg[0] != SL_PROGRESS_PHASE && msg[0] != SL_PROGRESS_ROLES) ||
	    j->timed_out || j->stopped)
		return;
	j->progress = msg[0];
	j->progress_t = sl_now();
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
	ev_io_init(&j->progress_w, progress_cb, j->progress_fd, EV_READ);
	j->progress_w.data = j;
	ev_io_start(j->r->loop, &j->progress_w);
}

void run_deadline_stop(struct job *j)
{
	if (j->r && j->r->loop)
		ev_io_stop(j->r->loop, &j->progress_w);
	if (j->progress_fd >= 0)
		close(j->progress_fd);
	j->progress_fd = -1;
}
