/* role.c: role processes, the shared app log and the role API (socklab.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "err.h"
#include "role.h"
#include "socklab.h"
#include "sockstate.h"
#include "topology.h"

/* See sl_applog_current(): one run, so one log, per process. */
static struct sl_applog *current_log;

int sl_applog_create(struct sl_applog **lp, struct sl_err *e)
{
	pthread_mutexattr_t ma;
	struct sl_applog *l;

	l = mmap(NULL, sizeof(*l), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (l == MAP_FAILED)
		return sl_errf(e, errno, "map the roles' shared log");
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	/* A role killed while it holds the lock must not wedge the others. */
	pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&l->mu, &ma);
	pthread_mutexattr_destroy(&ma);
	l->faults.cmdlog_fd = -1;
	current_log = l;
	*lp = l;
	return 0;
}

void sl_applog_destroy(struct sl_applog *l)
{
	if (l == current_log)
		current_log = NULL;
	if (l)
		munmap(l, sizeof(*l));
}

struct sl_applog *sl_applog_current(void)
{
	return current_log;
}

void sl_applog_set_pid(struct sl_applog *l, int host, pid_t pid)
{
	if (host >= 0 && host < SL_APPLOG_HOSTS)
		l->role_pid[host] = pid;
}

static void log_lock(struct sl_applog *l)
{
	if (pthread_mutex_lock(&l->mu) == EOWNERDEAD)
		pthread_mutex_consistent(&l->mu);
}

void sl_applog_append(struct sl_applog *l, const struct sl_event *ev)
{
	log_lock(l);
	if (l->n < SL_APPLOG_MAX)
		l->ev[l->n++] = *ev;
	else
		l->dropped++;
	pthread_mutex_unlock(&l->mu);
	/* After the event is in: a waiter that read the old number either
	 * sees the event when it checks, or finds the number changed. */
	sl_applog_wake(l);
}

void sl_applog_wake(struct sl_applog *l)
{
	__atomic_add_fetch(&l->seq, 1, __ATOMIC_SEQ_CST);
	syscall(SYS_futex, &l->seq, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

uint32_t sl_applog_seq(struct sl_applog *l)
{
	return __atomic_load_n(&l->seq, __ATOMIC_SEQ_CST);
}

int sl_applog_wait(struct sl_applog *l, uint32_t seen, int64_t deadline)
{
	struct timespec until = {
		.tv_sec = deadline / SL_NS_PER_SEC,
		.tv_nsec = deadline % SL_NS_PER_SEC,
	};

	/* FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC time.  Not
	 * FUTEX_PRIVATE_FLAG: the word is shared between processes. */
	if (syscall(SYS_futex, &l->seq, FUTEX_WAIT_BITSET, seen, &until, NULL,
		    FUTEX_BITSET_MATCH_ANY) < 0 && errno == ETIMEDOUT)
		return -ETIMEDOUT;
	return 0;
}

int sl_applog_export(struct sl_applog *l, struct sl_timeline *tl)
{
	int ret = 0;

	log_lock(l);
	for (int i = 0; i < l->n && !ret; i++)
		ret = sl_timeline_add(tl, &l->ev[i]);
	pthread_mutex_unlock(&l->mu);
	return ret;
}

const char *sl_applog_error(struct sl_applog *l, int *host)
{
	for (int i = 0; i < l->n; i++) {
		if (l->ev[i].kind == SL_EV_ROLE_ERROR) {
			*host = l->ev[i].host;
			return l->ev[i].text;
		}
	}
	return NULL;
}

pid_t sl_role_spawn(const struct sl_topology *t, int host,
		    struct sl_applog *log, int64_t deadline,
		    void (*fn)(struct sl_role *self, const void *knobs),
		    const void *knobs, struct sl_err *e)
{
	struct sl_role self = {
		.topo = t, .host = host, .log = log, .deadline = deadline,
	};
	sigset_t none;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return sl_errf(e, errno, "fork role %s", t->host[host].name);
	if (pid > 0)
		return pid;
	/* The child: die with the run, take default signals, enter the
	 * host's namespace, and run the experiment's socket code. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	if (getppid() == 1)
		_exit(SL_ROLE_EXIT_ERROR);
	/* The parent records the pid too, but only once fork() returns
	 * there: set here, it is known before this role's first mark, so a
	 * peer waiting for that mark can crash this host. */
	sl_applog_set_pid(log, host, getpid());
	if (setns(t->host[host].nsfd, CLONE_NEWNET) < 0)
		sl__role_fail(&self, "enter the host's namespace", errno,
			      __FILE__, __LINE__);
	fn(&self, knobs);
	_exit(0);
}

/* ---- the role API ---- */

int64_t sl__now(void)
{
	return sl_now();
}

static void event_init(struct sl_role *self, struct sl_event *ev, int kind,
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

	event_init(self, &ev, SL_EV_CALL, name);
	ev.t_start = t0;
	ev.ret = ret;
	ev.err = ret < 0 ? err : 0;
	sl_applog_append(self->log, &ev);
}

void sl_mark(struct sl_role *self, const char *name)
{
	struct sl_event ev;

	event_init(self, &ev, SL_EV_MARK, name);
	sl_applog_append(self->log, &ev);
}

void sl__role_fail(struct sl_role *self, const char *what, int err,
		   const char *file, int line)
{
	struct sl_event ev;
	const char *base = strrchr(file, '/');

	event_init(self, &ev, SL_EV_ROLE_ERROR, NULL);
	snprintf(ev.text, sizeof(ev.text), "%s: %s: %s (%s:%d)",
		 self->topo->host[self->host].name, what,
		 err ? strerror(err) : "failed", base ? base + 1 : file, line);
	sl_applog_append(self->log, &ev);
	_exit(SL_ROLE_EXIT_ERROR);
}

struct sockaddr_in sl_addr(struct sl_role *self, const char *host, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int h = sl_topology_host(self->topo, host);

	if (h < 0) {
		errno = EINVAL;
		sl__role_fail(self, "unknown host name in sl_addr()", EINVAL,
			      __FILE__, __LINE__);
	}
	sa.sin_addr = self->topo->host[h].iface[0].addr;
	sa.sin_port = htons(port);
	return sa;
}

static int has_mark(struct sl_applog *l, int host, const char *name)
{
	for (int i = 0; i < l->n; i++)
		if (l->ev[i].kind == SL_EV_MARK && l->ev[i].host == host &&
		    strcmp(l->ev[i].name, name) == 0)
			return 1;
	return 0;
}

void sl_wait_mark(struct sl_role *self, const char *host, const char *name)
{
	int h = sl_topology_host(self->topo, host), found, rc = 0;
	char what[128];

	if (h < 0)
		sl__role_fail(self, "unknown host name in sl_wait_mark()",
			      EINVAL, __FILE__, __LINE__);
	for (;;) {
		uint32_t seen;

		log_lock(self->log);
		found = has_mark(self->log, h, name);
		seen = sl_applog_seq(self->log);
		pthread_mutex_unlock(&self->log->mu);
		if (found || rc == -ETIMEDOUT)
			break;
		rc = sl_applog_wait(self->log, seen, self->deadline);
	}
	if (!found) {
		snprintf(what, sizeof(what), "wait for mark %s:%s", host, name);
		sl__role_fail(self, what, ETIMEDOUT, __FILE__, __LINE__);
	}
}

/* Waiting on the kernel's view: sock_diag and FIONREAD do not notify, so
 * these poll every millisecond until the condition holds or the deadline
 * passes.  A millisecond is far below any timing the claims talk about and
 * costs nothing measurable. */
static int tick(struct sl_role *self)
{
	struct timespec ms = { .tv_nsec = SL_NS_PER_MS };

	if (sl_now() > self->deadline)
		return 0;
	nanosleep(&ms, NULL);
	return 1;
}

void sl_wait_state(struct sl_role *self, int fd, int state)
{
	struct sockaddr_in l, r;
	socklen_t ll = sizeof(l), rl = sizeof(r);
	struct sl_sock socks[256];
	struct sl_err e;
	char what[128];
	int n;

	if (getsockname(fd, (struct sockaddr *)&l, &ll) < 0 ||
	    getpeername(fd, (struct sockaddr *)&r, &rl) < 0)
		sl__role_fail(self, "sl_wait_state: socket has no peer", errno,
			      __FILE__, __LINE__);
	if (!self->diag && sl_sockdiag_open(&self->diag, -1, &e) < 0)
		sl__role_fail(self, e.msg, 0, __FILE__, __LINE__);
	do {
		if (sl_sockdiag_dump(self->diag, socks, 256, &n, &e) < 0)
			sl__role_fail(self, e.msg, 0, __FILE__, __LINE__);
		for (int i = 0; i < n; i++)
			if (socks[i].lport == ntohs(l.sin_port) &&
			    socks[i].rport == ntohs(r.sin_port) &&
			    socks[i].laddr.s_addr == l.sin_addr.s_addr &&
			    socks[i].raddr.s_addr == r.sin_addr.s_addr &&
			    socks[i].state == state)
				return;
	} while (tick(self));
	snprintf(what, sizeof(what), "wait for state %s", sl_state_name(state));
	sl__role_fail(self, what, ETIMEDOUT, __FILE__, __LINE__);
}

void sl_wait_recvq(struct sl_role *self, int fd, int bytes)
{
	char what[128];
	int queued = 0;

	do {
		if (ioctl(fd, FIONREAD, &queued) < 0)
			sl__role_fail(self, "FIONREAD", errno, __FILE__,
				      __LINE__);
		if (queued >= bytes)
			return;
	} while (tick(self));
	snprintf(what, sizeof(what), "wait for %d bytes in Recv-Q (have %d)",
		 bytes, queued);
	sl__role_fail(self, what, ETIMEDOUT, __FILE__, __LINE__);
}

int sl_listen(struct sl_role *self, int port)
{
	struct sockaddr_in sa = sl_addr(self,
					self->topo->host[self->host].name, port);
	int fd = sl_record(self, "socket", socket(AF_INET, SOCK_STREAM, 0));

	SL_REQUIRE(self, fd >= 0, "socket");
	SL_REQUIRE(self, sl_record(self, "bind",
				   bind(fd, (struct sockaddr *)&sa, sizeof(sa))) == 0,
		   "bind");
	SL_REQUIRE(self, sl_record(self, "listen", listen(fd, 16)) == 0,
		   "listen");
	sl_mark(self, "listening");
	return fd;
}

int sl_connect(struct sl_role *self, const char *host, int port)
{
	struct sockaddr_in sa = sl_addr(self, host, port);
	int fd = sl_record(self, "socket", socket(AF_INET, SOCK_STREAM, 0));

	SL_REQUIRE(self, fd >= 0, "socket");
	sl_wait_mark(self, host, "listening");
	SL_REQUIRE(self, sl_record(self, "connect",
				   connect(fd, (struct sockaddr *)&sa,
					   sizeof(sa))) == 0,
		   "connect");
	return fd;
}

/* ---- 4-tuples and segments (socklab.h, issue: timewait) ---- */

void sl_applog_add_segment(struct sl_applog *l, const struct sl_event *ev)
{
	struct sl_applog_seg *s;

	/* No wake-up: nobody sleeps on segments (sl_last_segment() polls),
	 * and waking every mark waiter for each packet of a bulk transfer
	 * would cost them for nothing. */
	log_lock(l);
	s = &l->seg[l->nseg % SL_APPLOG_SEGS];
	s->t = ev->t;
	s->from = ev->from;
	s->to = ev->to;
	s->pkt = ev->pkt;
	l->nseg++;
	pthread_mutex_unlock(&l->mu);
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

/* The socket on t as sock_diag shows it now: 1 and *out when there is
 * one (in want, if want is not SL_GONE and several share the 4-tuple),
 * else 0. */
static int find_tuple(struct sl_role *self, const struct sl_tuple *t,
		      int want, struct sl_sock *out)
{
	struct sl_sock socks[256];
	struct sl_err e;
	int n, found = 0;

	if (!self->diag && sl_sockdiag_open(&self->diag, -1, &e) < 0)
		sl__role_fail(self, e.msg, 0, __FILE__, __LINE__);
	/* A dump is only as precise as the time around it: if this process
	 * was preempted while it ran, the state it shows could belong
	 * anywhere in that gap, and a line stamped at its end could land
	 * after a later state the observer saw.  Such a dump is taken again
	 * (a few times at most); the one kept is stamped at its end. */
	for (int tries = 0;; tries++) {
		int64_t t0 = sl_now();

		if (sl_sockdiag_dump(self->diag, socks, 256, &n, &e) < 0)
			sl__role_fail(self, e.msg, 0, __FILE__, __LINE__);
		self->dumped_at = sl_now();
		if (self->dumped_at - t0 <= SL_DUMP_PRECISION_NS || tries >= 20)
			break;
	}
	for (int i = 0; i < n; i++) {
		if (socks[i].lport != ntohs(t->local.sin_port) ||
		    socks[i].rport != ntohs(t->peer.sin_port) ||
		    socks[i].laddr.s_addr != t->local.sin_addr.s_addr ||
		    socks[i].raddr.s_addr != t->peer.sin_addr.s_addr)
			continue;
		if (!found || socks[i].state == want)
			*out = socks[i];
		found = 1;
	}
	return found;
}

/* What a wait on a 4-tuple saw when it returned goes on the timeline as
 * a socket-state line of this host: the samplers look every 2 to 20 ms and
 * may miss the moment, and predictions such as "in TIME-WAIT before the
 * RST" must not depend on that luck when the role itself saw it. */
static void record_sock(struct sl_role *self, int kind, const struct sl_sock *s)
{
	struct sl_event ev;

	event_init(self, &ev, kind, NULL);
	/* When the dump saw it, not when we got round to writing it down. */
	if (self->dumped_at)
		ev.t = ev.t_start = self->dumped_at;
	ev.sock = *s;
	sl_applog_append(self->log, &ev);
}

/* "(gone)": the socket as it was last seen, or just its 4-tuple. */
static void record_gone(struct sl_role *self, const struct sl_tuple *t,
			const struct sl_sock *last)
{
	struct sl_sock s;

	if (last) {
		s = *last;
	} else {
		memset(&s, 0, sizeof(s));
		s.laddr = t->local.sin_addr;
		s.raddr = t->peer.sin_addr;
		s.lport = ntohs(t->local.sin_port);
		s.rport = ntohs(t->peer.sin_port);
	}
	record_sock(self, SL_EV_GONE, &s);
}

int sl_record_tuple(struct sl_role *self, const struct sl_tuple *t)
{
	struct sl_sock s;

	if (find_tuple(self, t, -1, &s)) {
		record_sock(self, SL_EV_STATE, &s);
		return s.state;
	}
	record_gone(self, t, NULL);
	return SL_GONE;
}

/* Like tick(), but a wait that goes on (a TIME-WAIT lasts a minute) slows
 * down to every 10 ms after its first 50: a sock_diag dump costs about
 * 0.2 ms of kernel time, and the samplers look every 20 ms anyway. */
static int tick_long(struct sl_role *self, int64_t start)
{
	struct timespec ms = { .tv_nsec = SL_NS_PER_MS };
	int64_t now = sl_now();

	if (now > self->deadline)
		return 0;
	if (now - start > 50 * SL_NS_PER_MS)
		ms.tv_nsec = 10 * SL_NS_PER_MS;
	nanosleep(&ms, NULL);
	return 1;
}

void sl_wait_tuple(struct sl_role *self, const struct sl_tuple *t, int state)
{
	struct sl_sock s, last;
	int64_t start = sl_now();
	char what[128];
	int found, seen = 0;

	do {
		found = find_tuple(self, t, state, &s);
		if (found) {
			last = s;
			seen = 1;
		}
		if (state == SL_GONE ? !found : found && s.state == state) {
			if (state != SL_GONE)
				record_sock(self, SL_EV_STATE, &s);
			else
				record_gone(self, t, seen ? &last : NULL);
			return;
		}
	} while (tick_long(self, start));
	snprintf(what, sizeof(what), "wait for %s on port %u (it is %s)",
		 state == SL_GONE ? "no socket" : sl_state_name(state),
		 ntohs(t->local.sin_port),
		 found ? sl_state_name(s.state) : "gone");
	sl__role_fail(self, what, ETIMEDOUT, __FILE__, __LINE__);
}

/* TCP_TIMEWAIT_LEN in include/net/tcp.h: the timer every TIME-WAIT starts
 * with (timewait-duration measures it). */
#define SL_TIMEWAIT_MS 60000

void sl_wait_timewait_ms(struct sl_role *self, const struct sl_tuple *t,
			 int ms)
{
	struct sl_sock s;
	int64_t start = sl_now();
	char what[160];
	int found;

	do {
		found = find_tuple(self, t, TCP_TIME_WAIT, &s);
		if (!found || s.state != TCP_TIME_WAIT)
			break;
		if (s.timer == SL_TIMER_TIMEWAIT &&
		    (int)s.expires_ms <= SL_TIMEWAIT_MS - ms) {
			record_sock(self, SL_EV_STATE, &s);
			return;
		}
	} while (tick_long(self, start));
	snprintf(what, sizeof(what), "wait for a TIME-WAIT %d ms old on port "
		 "%u (%s)", ms, ntohs(t->local.sin_port),
		 !found ? "it is gone" :
		 s.state != TCP_TIME_WAIT ? sl_state_name(s.state) :
		 "deadline");
	sl__role_fail(self, what, ETIMEDOUT, __FILE__, __LINE__);
}

static int host_of(struct sl_role *self, const char *name)
{
	int h = name ? sl_topology_host(self->topo, name) : -1;

	if (name && h < 0)
		sl__role_fail(self, "unknown host name in sl_last_segment()",
			      EINVAL, __FILE__, __LINE__);
	return h;
}

static void to_segment(const struct sl_applog_seg *a, struct sl_segment *s)
{
	memset(s, 0, sizeof(*s));
	s->t = a->t;
	s->saddr = a->pkt.saddr;
	s->daddr = a->pkt.daddr;
	s->sport = a->pkt.sport;
	s->dport = a->pkt.dport;
	s->seq = a->pkt.seq;
	s->ack = a->pkt.ack;
	s->flags = a->pkt.flags;
	s->win = a->pkt.win;
	s->len = a->pkt.len;
	s->has_ts = a->pkt.opt.has_ts;
	s->tsval = a->pkt.opt.tsval;
	s->tsecr = a->pkt.opt.tsecr;
}

struct sl_segment sl__last_segment(struct sl_role *self,
				   const struct sl_segment_match *m)
{
	int from = host_of(self, m->from), to = host_of(self, m->to);
	uint8_t need = 0, forbid = 0;
	struct sl_segment seg;
	char what[160];

	if ((m->flags && sl_flags_parse(m->flags, &need) < 0) ||
	    (m->not_flags && sl_flags_parse(m->not_flags, &forbid) < 0))
		sl__role_fail(self, "bad flags in sl_last_segment()", EINVAL,
			      __FILE__, __LINE__);
	do {
		struct sl_applog *l = self->log;
		int found = 0;

		log_lock(l);
		for (unsigned long i = l->nseg; i-- > 0 &&
		     l->nseg - i <= SL_APPLOG_SEGS;) {
			const struct sl_applog_seg *a =
				&l->seg[i % SL_APPLOG_SEGS];

			if ((from >= 0 && a->from != from) ||
			    (to >= 0 && a->to != to) ||
			    (m->sport && a->pkt.sport != m->sport) ||
			    (m->dport && a->pkt.dport != m->dport) ||
			    (a->pkt.flags & need) != need ||
			    (a->pkt.flags & forbid) ||
			    (m->after && a->t <= m->after->t))
				continue;
			to_segment(a, &seg);
			found = 1;
			break;
		}
		pthread_mutex_unlock(&l->mu);
		if (found)
			return seg;
	} while (tick(self));
	snprintf(what, sizeof(what), "wait for a segment%s%s%s%s [%s]%s in the "
		 "captures", m->from ? " from " : "", m->from ? m->from : "",
		 m->to ? " to " : "", m->to ? m->to : "",
		 m->flags ? m->flags : "any", m->after ? " after the one given" : "");
	sl__role_fail(self, what, ETIMEDOUT, __FILE__, __LINE__);
}
