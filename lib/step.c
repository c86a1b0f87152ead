/* step.c: `socklab run --step`, the run process's side (step.h). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <unistd.h>

#include "board.h"
#include "slot.h"
#include "clock.h"
#include "err.h"
#include "sockstate.h"
#include "step.h"
#include "timeline.h"
#include "topology.h"

/* Appends to buf[*used..n), keeping it terminated when it is full. */
static void put(char *buf, size_t n, size_t *used, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void put(char *buf, size_t n, size_t *used, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (*used >= n)
		return;
	va_start(ap, fmt);
	r = vsnprintf(buf + *used, n - *used, fmt, ap);
	va_end(ap);
	if (r > 0)
		*used += (size_t)r < n - *used ? (size_t)r : n - *used - 1;
}

/* One host's sockets, as `ss -tanoi` lists them (without its tcp_info
 * lines), or why they could not be read. */
static void describe_host(const struct sl_host *h, char *buf, size_t n,
			  size_t *used)
{
	struct sl_sock socks[SL_STEP_MAX_SOCKS * 4];
	struct sl_sockdiag *d = NULL;
	struct sl_err e = { "" };
	int count = 0;

	if (sl_sockdiag_open(&d, h->nsfd, &e) < 0 ||
	    sl_sockdiag_dump(d, socks, sizeof(socks) / sizeof(socks[0]), &count,
			     &e) < 0) {
		put(buf, n, used, "  %s: cannot read its sockets: %s\n",
		    h->name, e.msg);
		sl_sockdiag_close(d);
		return;
	}
	sl_sockdiag_close(d);
	if (count == 0) {
		put(buf, n, used, "  %s: no TCP sockets\n", h->name);
		return;
	}
	put(buf, n, used, "  %s   (ip netns exec %s ss -tanoi)\n", h->name,
	    h->netns);
	put(buf, n, used,
	    "    State Recv-Q Send-Q Local-Address:Port Peer-Address:Port\n");
	for (int i = 0; i < count && i < SL_STEP_MAX_SOCKS; i++) {
		char line[256];

		sl_sock_format(&socks[i], line, sizeof(line));
		put(buf, n, used, "    %s\n", line);
	}
	if (count == (int)(sizeof(socks) / sizeof(socks[0])))
		put(buf, n, used, "    ... and more (ss lists them all)\n");
	else if (count > SL_STEP_MAX_SOCKS)
		put(buf, n, used, "    ... and %d more\n",
		    count - SL_STEP_MAX_SOCKS);
}

size_t sl_step_describe(const struct sl_topology *t, int host, const char *mark,
			const char *variant, char *buf, size_t n)
{
	size_t used = 0;

	if (n)
		buf[0] = '\0';
	put(buf, n, &used, "%s reached mark '%s' (%s, run slot %d)\n",
	    t->host[host].name, mark, variant, t->slot);
	for (int h = 0; h < SL_NHOSTS; h++)
		describe_host(&t->host[h], buf, n, &used);
	return used;
}

/* The pause on the timeline: a note from its beginning to its end, so
 * that a reader of timeline.txt sees where the learner stopped the roles
 * and the kernel's timers ran on. */
static void note_pause(struct sl_board *b, int host, const char *mark,
		       int64_t t0, int64_t t1)
{
	struct sl_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.t_start = t0;
	ev.t = t1;
	ev.kind = SL_EV_NOTE;
	ev.host = host;
	ev.from = ev.to = -1;
	snprintf(ev.name, sizeof(ev.name), "step");
	snprintf(ev.text, sizeof(ev.text),
		 "paused %.3f s before mark '%s' (--step): the roles waited, "
		 "the kernel's timers ran on",
		 (double)(t1 - t0) / SL_NS_PER_SEC, mark);
	sl_board_append(b, &ev);
}

/* Whether SIGINT or SIGTERM waits, blocked, for the fault server. */
static int stop_pending(void)
{
	sigset_t pending;

	return sigpending(&pending) == 0 &&
	       (sigismember(&pending, SIGINT) == 1 ||
		sigismember(&pending, SIGTERM) == 1);
}

/* Waits for the CLI's answer on fd, or a stop signal.  SIGINT and SIGTERM
 * are blocked in the run process; a signalfd says one is pending without
 * taking it, so the fault server still sees it and stops the run. */
static int wait_go(int fd, struct sl_err *e)
{
	struct pollfd p[2] = { { .fd = fd, .events = POLLIN } };
	sigset_t stop;
	int ret;

	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	p[1].fd = signalfd(-1, &stop, SFD_CLOEXEC);
	p[1].events = POLLIN;
	if (p[1].fd < 0)
		return sl_errf(e, errno, "signalfd for the pause");
	for (;;) {
		char c;
		ssize_t r;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			ret = sl_errf(e, errno, "poll the step channel");
			break;
		}
		if (p[1].revents & POLLIN) {
			ret = -EINTR;
			break;
		}
		r = recv(fd, &c, 1, 0);
		if (r == 1 && c == SL_STEP_GO) {
			ret = 0;
			break;
		}
		if (r < 0 && errno == EINTR)
			continue;
		ret = sl_errf(e, r < 0 ? errno : EPIPE,
			      "read the step channel (the CLI is gone)");
		break;
	}
	close(p[1].fd);
	return ret;
}

void sl_step_paused_path(char *buf, size_t n, int slot)
{
	snprintf(buf, n, SL_RUN_DIR "/slot-%d.paused", slot);
}

/* The paused mark (step.h); without it `socklab shell` cannot tell a
 * paused run from a running one, which is all it loses. */
static void mark_paused(const struct sl_topology *t, int host, const char *mark,
			const char *variant)
{
	char path[64];
	FILE *f;
	int fd;

	sl_step_paused_path(path, sizeof(path), t->slot);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		  0644);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		if (fd >= 0)
			close(fd);
		return;
	}
	fprintf(f, "%d\n%s: %s reached mark '%s'\n", (int)getpid(), variant,
		t->host[host].name, mark);
	fclose(f);
}

int sl_step_paused(int slot, char *what, size_t n)
{
	char path[64], line[256];
	int pid = 0, ret = 0;
	FILE *f;

	sl_step_paused_path(path, sizeof(path), slot);
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (fgets(line, sizeof(line), f))
		pid = atoi(line);
	if (pid > 0 && (kill(pid, 0) == 0 || errno == EPERM) &&
	    fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		snprintf(what, n, "%s", line);
		ret = 1;
	}
	fclose(f);
	return ret;
}

int sl_step_pause(const struct sl_topology *t, struct sl_board *b, int host,
		  const char *mark, const char *variant, struct sl_err *e)
{
	int fd = __atomic_load_n(&b->step_fd, __ATOMIC_SEQ_CST);
	int64_t t0 = sl_now(), t1;
	char *msg, path[64];
	size_t len;
	int ret;

	if (fd < 0)
		return 0;
	/* The run is being stopped: no pause to show, it ends now. */
	if (stop_pending())
		return -EINTR;
	msg = malloc(SL_STEP_MSG_MAX);
	if (!msg)
		return sl_errf(e, ENOMEM, "describe the pause at mark %s",
			       mark);
	/* From here the run's deadlines move with the clock. */
	__atomic_store_n(&b->pause_since, t0, __ATOMIC_SEQ_CST);
	len = sl_step_describe(t, host, mark, variant, msg, SL_STEP_MSG_MAX);
	mark_paused(t, host, mark, variant);
	if (send(fd, msg, len, MSG_NOSIGNAL) < 0)
		ret = sl_errf(e, errno, "send the pause at mark %s to the CLI",
			      mark);
	else
		ret = wait_go(fd, e);
	free(msg);
	sl_step_paused_path(path, sizeof(path), t->slot);
	unlink(path);
	t1 = sl_now();
	/* paused_ns before pause_since: see sl_board_deadline(). */
	__atomic_add_fetch(&b->paused_ns, t1 - t0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&b->pause_since, 0, __ATOMIC_SEQ_CST);
	note_pause(b, host, mark, t0, t1);
	/* A channel that failed will not work at the next mark either: the
	 * run goes on unstepped rather than failing for it. */
	if (ret < 0 && ret != -EINTR)
		__atomic_store_n(&b->step_fd, -1, __ATOMIC_SEQ_CST);
	return ret;
}
