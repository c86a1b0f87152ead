/* step.c: `socklab run --step`, the CLI's side (lib/step.h has the
 * experiment's).
 *
 * The experiment runs in a process group of its own, which is not the
 * terminal's foreground group: were it to read the terminal, the kernel
 * would stop it (SIGTTIN).  So the CLI, which the terminal belongs to,
 * does the talking.  A variant's run process sends each pause over a
 * SOCK_SEQPACKET socket (the text: the mark, the role, each host's ss);
 * the CLI stops the job's deadline (the pause is the learner's time, not
 * the experiment's), prints the text with how to look around, and waits
 * for Enter on stdin, on its event loop like everything else, so that a
 * Ctrl-C while paused stops the run as it would at any other time.  Enter
 * sends SL_STEP_GO back and restarts the deadline with the time it had
 * left.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <ev.h>

#include "runner.h"
#include "step.h"

/* The guide, in full at the first pause and as a reminder after. */
static void print_guide(struct job *j, const char *text)
{
	const char *slot = strstr(text, "run slot ");
	int n = slot ? atoi(slot + strlen("run slot ")) : -1;

	if (j->npauses == 1) {
		fprintf(stderr,
			"  Look around from another terminal while it waits:\n"
			"    sudo socklab shell client      (or server, "
			"router; socklab shell %d client names this run)\n"
			"    then ss -tanoi, ip -s link, tcpdump -ni eth0 ...\n"
			"  The roles wait; the kernel does not: its timers "
			"(retransmission, keepalive,\n"
			"  TIME-WAIT) run on while you read, so a timing "
			"prediction may fail after a\n"
			"  long pause, and the verdict of this run is marked "
			"as stepped.\n",
			n);
	}
	if (j->r->step_eof)
		fprintf(stderr, "  (stdin is closed: going on)\n");
	else
		fprintf(stderr, "  Press Enter to go on (Ctrl-C stops the "
				"run).\n");
}

/* Enter (or the end of stdin): the experiment goes on, and so does its
 * deadline, with the time it had left. */
static void go_on(struct job *j)
{
	struct ev_loop *loop = j->r->loop;
	char go = SL_STEP_GO;

	ev_io_stop(loop, &j->stdin_w);
	j->paused = 0;
	if (send(j->step_fd, &go, 1, MSG_NOSIGNAL) < 0)
		fprintf(stderr,
			"socklab: run: %s: cannot let it go on: %s (it "
			"gives up at its deadline)\n",
			j->exp->id, strerror(errno));
	ev_timer_set(&j->timeout_w, j->remaining > 0 ? j->remaining : 0.001, 0);
	ev_timer_start(loop, &j->timeout_w);
}

static void stdin_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct job *j = w->data;
	char buf[256];
	ssize_t n;

	(void)loop;
	(void)revents;
	n = read(STDIN_FILENO, buf, sizeof(buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		/* Ctrl-D, or stdin gone: nobody will press Enter again, so
		 * every pause from now on goes on by itself. */
		j->r->step_eof = 1;
		fprintf(stderr, "  (end of input: going on without "
				"pausing for Enter)\n");
		go_on(j);
		return;
	}
	/* A terminal in canonical mode hands over whole lines. */
	if (memchr(buf, '\n', (size_t)n))
		go_on(j);
}

static void step_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct job *j = w->data;
	char *text = malloc(SL_STEP_MSG_MAX + 1);
	ssize_t n;

	(void)revents;
	if (!text)
		return;
	n = recv(j->step_fd, text, SL_STEP_MSG_MAX, MSG_DONTWAIT);
	if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
		free(text);
		return;
	}
	if (n <= 0) {
		/* Every holder of the other end has ended. */
		ev_io_stop(loop, w);
		free(text);
		return;
	}
	text[n] = '\0';
	/* A pause while one is shown: the experiment stopped waiting for
	 * the first (it is being stopped), so it is over. */
	if (j->paused) {
		ev_io_stop(loop, &j->stdin_w);
		j->paused = 0;
	}
	/* Stopping (Ctrl-C, the deadline): nothing more to look at.  The
	 * experiment has its SIGTERM and does not wait for an answer. */
	if (j->stopped || j->timed_out || j->r->signum) {
		free(text);
		return;
	}
	/* What was typed ahead (an Enter pressed twice) must not skip this
	 * pause: dropped before the prompt is shown, so that an Enter typed
	 * after it counts. */
	tcflush(STDIN_FILENO, TCIFLUSH);
	j->npauses++;
	j->paused = 1;
	/* The pause is the learner's time: the deadline waits with it. */
	j->remaining = ev_timer_remaining(loop, &j->timeout_w);
	ev_timer_stop(loop, &j->timeout_w);
	fprintf(stderr, "\n== %s, pause %d (--step): %s", j->exp->id,
		j->npauses, text);
	print_guide(j, text);
	fflush(stderr);
	if (j->r->step_eof) {
		go_on(j);
	} else {
		ev_io_init(&j->stdin_w, stdin_cb, STDIN_FILENO, EV_READ);
		j->stdin_w.data = j;
		ev_io_start(loop, &j->stdin_w);
	}
	free(text);
}

void run_step_watch(struct job *j)
{
	ev_io_init(&j->step_w, step_cb, j->step_fd, EV_READ);
	j->step_w.data = j;
	ev_io_start(j->r->loop, &j->step_w);
}

void run_step_stop(struct job *j)
{
	if (j->r && j->r->loop) {
		ev_io_stop(j->r->loop, &j->step_w);
		ev_io_stop(j->r->loop, &j->stdin_w);
	}
	if (j->step_fd >= 0)
		close(j->step_fd);
	j->step_fd = -1;
	j->paused = 0;
}
