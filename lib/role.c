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
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "err.h"
#include "priority.h"
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

/* ---- waiting ----
 *
 * The special problem of waiting on another process's time: a role waits
 * for something that happens elsewhere, a mark (another role), a segment
 * (the captures, on the observer thread), a socket's state (the kernel,
 * read by the trace reader).  All of it reaches the shared log, whose
 * sequence number is a futex: a waiting role sleeps on it and checks its
 * condition again at each change, so it returns within a millisecond or
 * so of the event (the roles and the threads that publish run ahead of
 * ordinary work: priority.h), and costs nothing while it sleeps.
 * Marks always wake the waiters; segments and kernel events, which come by
 * the thousand in a bulk transfer, wake them only while somebody waits
 * (log->waiters).  A waiter counts itself in before it reads the sequence
 * number and checks: a publisher that comes after the check sees the count
 * and wakes it, and one that came before is seen by the check.
 *
 * What the kernel does not announce is polled: the end of a TIME-WAIT (no
 * tracepoint fires when the mini-socket goes), at the moment its own timer
 * says, then every millisecond; and every state where tracefs is missing
 * (log->kernel_live is 0), every millisecond.  A dump costs ~20 us of CPU
 * with the run's private hash tables (topology.c).
 *
 * Each wait that returns leaves an SL_EV_WAIT on the timeline: what it
 * waited for, when the event it waited for happened (the kernel's or the
 * capture's timestamp), and when the role went on; harness.txt sums up the
 * lag between the two. */

#define SL_POLL_NS SL_NS_PER_MS
/* Where the kernel's events are awaited, a look at sock_diag this often in
 * case one was missed (the kernel's ring overwritten): never the way a
 * wait normally ends. */
#define SL_SAFETY_POLL_NS (100 * SL_NS_PER_MS)

/* check() returns 1 when the wait is over, with *cause the time of the
 * event that ended it (0: found by a poll); it may bring *until forward
 * to be called again then without a wake-up (a poll). */
typedef int (*check_fn)(struct sl_role *self, void *arg, int64_t *cause,
			int64_t *until);

static int wait_for(struct sl_role *self, check_fn check, void *arg,
		    int64_t *cause)
{
	struct sl_applog *l = self->log;
	int done = 0;

	__atomic_add_fetch(&l->waiters, 1, __ATOMIC_SEQ_CST);
	for (;;) {
		uint32_t seen = sl_applog_seq(l);
		int64_t until = self->deadline;

		*cause = 0;
		if (check(self, arg, cause, &until)) {
			done = 1;
			break;
		}
		if (sl_now() >= self->deadline)
			break;
		if (until > self->deadline)
			until = self->deadline;
		sl_applog_wait(l, seen, until);
	}
	__atomic_sub_fetch(&l->waiters, 1, __ATOMIC_SEQ_CST);
	return done;
}

/* The wait's line on the timeline (hidden from timeline.txt); a wait on a
 * socket also names it, so that run.c can time it by the kernel's event
 * when that had not reached the role yet. */
static void record_wait_on(struct sl_role *self, const char *kind,
			   int64_t begun, int64_t cause, const char *what,
			   const struct sl_sock *tuple, int flags)
{
	struct sl_event ev;

	event_init(self, &ev, SL_EV_WAIT, kind);
	ev.t_start = cause;
	ev.ret = (long)begun;
	snprintf(ev.text, sizeof(ev.text), "%s", what);
	if (tuple)
		ev.sock = *tuple;
	ev.err = flags;
	sl_applog_append(self->log, &ev);
}

static void record_wait(struct sl_role *self, const char *kind,
			int64_t begun, int64_t cause, const char *what)
{
	record_wait_on(self, kind, begun, cause, what, NULL, 0);
}

static int64_t mark_time(struct sl_applog *l, int host, const char *name)
{
	for (int i = 0; i < l->n; i++)
		if (l->ev[i].kind == SL_EV_MARK &&
		    (host < 0 || l->ev[i].host == host) &&
		    strcmp(l->ev[i].name, name) == 0)
			return l->ev[i].t;
	return 0;
}

struct mark_wait {
	int host;
	const char *name;
};

static int check_mark(struct sl_role *self, void *arg, int64_t *cause,
		      int64_t *until)
{
	struct mark_wait *w = arg;

	(void)until;
	log_lock(self->log);
	*cause = mark_time(self->log, w->host, w->name);
	pthread_mutex_unlock(&self->log->mu);
	return *cause != 0;
}

void sl_wait_mark(struct sl_role *self, const char *host, const char *name)
{
	struct mark_wait w = { sl_topology_host(self->topo, host), name };
	int64_t begun = sl_now(), cause;
	char what[128];

	if (w.host < 0)
		sl__role_fail(self, "unknown host name in sl_wait_mark()",
			      EINVAL, __FILE__, __LINE__);
	snprintf(what, sizeof(what), "mark %s:%s", host, name);
	if (!wait_for(self, check_mark, &w, &cause)) {
		snprintf(what, sizeof(what), "wait for mark %s:%s", host, name);
		sl__role_fail(self, what, ETIMEDOUT, __FILE__, __LINE__);
	}
	record_wait(self, "mark", begun, cause, what);
}

/* Bytes to read: the kernel wakes an edge-triggered epoll at every arrival
 * (sk_data_ready), so the role checks FIONREAD exactly when it may have
 * changed.  Not SO_RCVLOWAT, which would do the same but changes when TCP
 * sends its ACKs (__tcp_ack_snd_check()): the very thing some claims are
 * about. */
void sl_wait_recvq(struct sl_role *self, int fd, int bytes)
{
	struct epoll_event ev = {
		.events = EPOLLIN | EPOLLRDHUP | EPOLLET, .data.fd = fd,
	};
	int64_t begun = sl_now(), cause = 0;
	char what[128];
	int queued = 0;

	if (self->epfd < 0)
		self->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (self->epfd < 0 || epoll_ctl(self->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		sl__role_fail(self, "epoll for sl_wait_recvq()", errno,
			      __FILE__, __LINE__);
	for (;;) {
		struct epoll_event out;
		int64_t left;

		if (ioctl(fd, FIONREAD, &queued) < 0)
			sl__role_fail(self, "FIONREAD", errno, __FILE__,
				      __LINE__);
		if (queued >= bytes)
			break;
		left = self->deadline - sl_now();
		if (left <= 0) {
			snprintf(what, sizeof(what), "wait for %d bytes in "
				 "Recv-Q (have %d)", bytes, queued);
			sl__role_fail(self, what, ETIMEDOUT, __FILE__,
				      __LINE__);
		}
		if (epoll_wait(self->epfd, &out, 1,
			       (int)((left + SL_NS_PER_MS - 1) / SL_NS_PER_MS)) < 0 &&
		    errno != EINTR)
			sl__role_fail(self, "epoll_wait", errno, __FILE__,
				      __LINE__);
	}
	epoll_ctl(self->epfd, EPOLL_CTL_DEL, fd, NULL);
	/* The event: the last segment captured on its way to this host. */
	log_lock(self->log);
	for (unsigned long i = self->log->nseg; i-- > 0 &&
	     self->log->nseg - i <= SL_APPLOG_SEGS;) {
		const struct sl_applog_seg *a = &self->log->seg[i % SL_APPLOG_SEGS];

		if (a->to == self->host && a->pkt.len > 0) {
			cause = a->t;
			break;
		}
	}
	pthread_mutex_unlock(&self->log->mu);
	snprintf(what, sizeof(what), "%d bytes in Recv-Q", bytes);
	record_wait(self, "recvq", begun, cause, what);
}

int sl_listen(struct sl_role *self, int port)
{
	struct sockaddr_in sa = sl_addr(self,
					self->topo->host[self->host].name, port);
	int fd = sl_call(self, socket(AF_INET, SOCK_STREAM, 0));

	sl_call(self, bind(fd, (struct sockaddr *)&sa, sizeof(sa)));
	sl_call(self, listen(fd, 16));
	sl_mark(self, "listening");
	return fd;
}

int sl_connect(struct sl_role *self, const char *host, int port)
{
	struct sockaddr_in sa = sl_addr(self, host, port);
	int fd = sl_call(self, socket(AF_INET, SOCK_STREAM, 0));

	sl_wait_mark(self, host, "listening");
	sl_call(self, connect(fd, (struct sockaddr *)&sa, sizeof(sa)));
	return fd;
}

/* ---- 4-tuples and segments (socklab.h, issue: timewait) ---- */

/* Wakes the waiters after a publication, if there are any (see "waiting"
 * above for why that is enough). */
static void wake_waiters(struct sl_applog *l)
{
	if (__atomic_load_n(&l->waiters, __ATOMIC_SEQ_CST))
		sl_applog_wake(l);
}

void sl_applog_add_segment(struct sl_applog *l, const struct sl_event *ev)
{
	struct sl_applog_seg *s;

	log_lock(l);
	s = &l->seg[l->nseg % SL_APPLOG_SEGS];
	s->t = ev->t;
	s->from = ev->from;
	s->to = ev->to;
	s->pkt = ev->pkt;
	l->nseg++;
	pthread_mutex_unlock(&l->mu);
	wake_waiters(l);
}

void sl_applog_add_kernel(void *arg, const struct sl_event *ev)
{
	struct sl_applog *l = arg;
	struct sl_applog_kev *k;

	log_lock(l);
	k = &l->kev[l->nkev % SL_APPLOG_KEVS];
	k->t = ev->t;
	k->host = ev->host;
	k->k = ev->k;
	l->nkev++;
	pthread_mutex_unlock(&l->mu);
	wake_waiters(l);
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
 * else 0.  self->dumped_at is when the dump returned: what it shows was
 * true then. */
static int find_tuple(struct sl_role *self, const struct sl_tuple *t,
		      int want, struct sl_sock *out)
{
	struct sl_sock socks[256];
	struct sl_err e;
	int n, found = 0;

	if (!self->diag && sl_sockdiag_open(&self->diag, -1, &e) < 0)
		sl__role_fail(self, e.msg, 0, __FILE__, __LINE__);
	if (sl_sockdiag_dump(self->diag, socks, 256, &n, &e) < 0)
		sl__role_fail(self, e.msg, 0, __FILE__, __LINE__);
	self->dumped_at = sl_now();
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

static void tuple_sock(const struct sl_tuple *t, struct sl_sock *s)
{
	memset(s, 0, sizeof(*s));
	s->laddr = t->local.sin_addr;
	s->raddr = t->peer.sin_addr;
	s->lport = ntohs(t->local.sin_port);
	s->rport = ntohs(t->peer.sin_port);
}

/* "(gone)": the socket as it was last seen, or just its 4-tuple. */
static void record_gone(struct sl_role *self, const struct sl_tuple *t,
			const struct sl_sock *last)
{
	struct sl_sock s;

	if (last)
		s = *last;
	else
		tuple_sock(t, &s);
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

/* What the kernel reported of t's socket on this host: its newest state
 * change (*latest), and the newest change into state made at or after
 * since (*into).  Each is 1 when found in what the ring still holds.
 * "Newest" by the kernel's timestamps, not by the ring's order: the reader
 * drains one CPU's buffer after the other, so events of two CPUs reach the
 * ring out of order. */
struct kernel_view {
	int have_latest, have_into;
	struct sl_applog_kev latest, into;
};

static void kernel_view(struct sl_role *self, const struct sl_tuple *t,
			int state, int64_t since, struct kernel_view *v)
{
	struct sl_applog *l = self->log;

	memset(v, 0, sizeof(*v));
	log_lock(l);
	for (unsigned long i = l->nkev; i-- > 0 && l->nkev - i <= SL_APPLOG_KEVS;) {
		const struct sl_applog_kev *x = &l->kev[i % SL_APPLOG_KEVS];

		if (x->host != self->host || x->k.type != SL_KEV_SET_STATE ||
		    x->k.lport != ntohs(t->local.sin_port) ||
		    x->k.rport != ntohs(t->peer.sin_port) ||
		    x->k.laddr.s_addr != t->local.sin_addr.s_addr ||
		    x->k.raddr.s_addr != t->peer.sin_addr.s_addr)
			continue;
		if (!v->have_latest || x->t > v->latest.t) {
			v->latest = *x;
			v->have_latest = 1;
		}
		if (x->k.state == state && x->t >= since &&
		    (!v->have_into || x->t > v->into.t)) {
			v->into = *x;
			v->have_into = 1;
		}
	}
	pthread_mutex_unlock(&l->mu);
}

struct tuple_wait {
	const struct sl_tuple *t;
	int state;		/* TCP_*, or SL_GONE */
	int64_t begun;
	struct sl_sock s;	/* what the last look found */
	int found;		/* ... a socket */
	int seen;		/* some look found one */
	struct sl_sock last;	/* the last one found */
	int moved_on;		/* reached, but left before a dump saw it */
	int silent;		/* a look saw the mini-socket in another
				 * state first: no event timed the change */
};

static int is_mini(const struct sl_sock *s)
{
	return s->timer == SL_TIMER_TIMEWAIT;
}

/* What can time the wait's end afterwards (run.c, from the whole record:
 * the wait keeps no time of its own, since the kernel's event may reach
 * the role after the look that ended it): the socket's change to CLOSE
 * for a disappearance or a mini-socket taking the full socket's place,
 * its change into the state otherwise, nothing for a mini-socket's
 * unannounced change or end. */
static int wait_flags(const struct tuple_wait *w)
{
	if (w->silent || (w->state == SL_GONE && w->seen && is_mini(&w->last)))
		return SL_WAIT_UNTIMED;
	if (w->state == SL_GONE || w->state == TCP_TIME_WAIT ||
	    (w->found && is_mini(&w->s)))
		return SL_WAIT_BY_CLOSE;
	return 0;
}

/* A look with sock_diag decides: what it shows is so, and the role goes on
 * at once.  Where the kernel's events are live they wake the role (and
 * time the change); a state the socket passed through and left before any
 * look came is known from them alone.  What no event announces (the end
 * of a mini-socket, anything without tracefs) is looked for on a timer:
 * the mini-socket's own, or every millisecond. */
static int check_tuple(struct sl_role *self, void *arg, int64_t *cause,
		       int64_t *until)
{
	struct tuple_wait *w = arg;
	int live = self->log->kernel_live;
	struct kernel_view k;
	int64_t now;

	kernel_view(self, w->t, w->state == SL_GONE ? TCP_CLOSE : w->state,
		    w->begun, &k);
	/* A mini-socket that changes state (an orphan's FIN-WAIT-2 taking
	 * the peer's FIN into TIME-WAIT) does so without an event. */
	if (w->seen && is_mini(&w->last) && w->last.state != w->state)
		w->silent = 1;
	w->found = find_tuple(self, w->t, w->state, &w->s);
	(void)cause;		/* timed afterwards: wait_flags() */
	if (w->state == SL_GONE ? !w->found :
	    w->found && w->s.state == w->state) {
		if (w->found) {
			w->last = w->s;
			w->seen = 1;
		}
		return 1;
	}
	if (w->found) {
		w->last = w->s;
		w->seen = 1;
	}
	if (live && w->state != SL_GONE && w->state != TCP_TIME_WAIT &&
	    ((k.have_latest && k.latest.k.state == w->state) || k.have_into)) {
		/* It has moved on since, as the kernel saw: no look ever
		 * showed the state, and none is recorded. */
		w->moved_on = 1;
		return 1;
	}
	now = sl_now();
	if (!live) {
		*until = now + SL_POLL_NS;
	} else if (w->found && is_mini(&w->s) && w->state == SL_GONE) {
		/* A mini-socket ends silently: look when its timer says,
		 * then every millisecond (the timer wheel may fire it a
		 * little late). */
		int64_t at = self->dumped_at +
			     (int64_t)w->s.expires_ms * SL_NS_PER_MS -
			     SL_POLL_NS;

		*until = at > now + SL_POLL_NS ? at : now + SL_POLL_NS;
	} else {
		*until = now + SL_SAFETY_POLL_NS;
	}
	return 0;
}

static void tuple_wait_fail(struct sl_role *self, const struct tuple_wait *w)
{
	char what[128];

	snprintf(what, sizeof(what), "wait for %s on port %u (it is %s)",
		 w->state == SL_GONE ? "no socket" : sl_state_name(w->state),
		 ntohs(w->t->local.sin_port),
		 w->found ? sl_state_name(w->s.state) : "gone");
	sl__role_fail(self, what, ETIMEDOUT, __FILE__, __LINE__);
}

static void wait_tuple(struct sl_role *self, const struct sl_tuple *t,
		       int state, int record)
{
	int64_t begun = sl_now(), cause;
	struct tuple_wait w = { .t = t, .state = state, .begun = begun };
	char what[96];

	if (!wait_for(self, check_tuple, &w, &cause))
		tuple_wait_fail(self, &w);
	if (record && state != SL_GONE && !w.moved_on)
		record_sock(self, SL_EV_STATE, &w.s);
	else if (record)
		record_gone(self, t, w.seen ? &w.last : NULL);
	snprintf(what, sizeof(what), "%s on port %u",
		 state == SL_GONE ? "no socket" : sl_state_name(state),
		 ntohs(t->local.sin_port));
	{
		struct sl_sock tup;
		tuple_sock(t, &tup);
		tup.state = state;
		record_wait_on(self, state == SL_GONE ? "gone" : "state",
			       begun, cause, what, &tup, wait_flags(&w));
	}
}

void sl_wait_tuple(struct sl_role *self, const struct sl_tuple *t, int state)
{
	wait_tuple(self, t, state, 1);
}

void sl_wait_state(struct sl_role *self, int fd, int state)
{
	struct sl_tuple t;
	socklen_t ll = sizeof(t.local), rl = sizeof(t.peer);

	if (getsockname(fd, (struct sockaddr *)&t.local, &ll) < 0 ||
	    getpeername(fd, (struct sockaddr *)&t.peer, &rl) < 0)
		sl__role_fail(self, "sl_wait_state: socket has no peer", errno,
			      __FILE__, __LINE__);
	wait_tuple(self, &t, state, 0);
}

/* TCP_TIMEWAIT_LEN in include/net/tcp.h: the timer every TIME-WAIT starts
 * with (timewait-duration measures it). */
#define SL_TIMEWAIT_MS 60000

struct age_wait {
	const struct sl_tuple *t;
	int ms;
	struct sl_sock s;
	int found;
	int64_t due;		/* when the age is reached, by its timer */
};

/* The age of a TIME-WAIT is what its own timer says: the kernel arms it
 * for 60 s on entry, so the age is 60 s minus what is left.  The role
 * looks again when that time comes. */
static int check_age(struct sl_role *self, void *arg, int64_t *cause,
		     int64_t *until)
{
	struct age_wait *w = arg;
	int age;

	w->found = find_tuple(self, w->t, TCP_TIME_WAIT, &w->s);
	if (!w->found || w->s.state != TCP_TIME_WAIT ||
	    w->s.timer != SL_TIMER_TIMEWAIT) {
		/* Not a TIME-WAIT (any more): the wait has failed. */
		*until = 0;
		return 0;
	}
	age = SL_TIMEWAIT_MS - (int)w->s.expires_ms;
	w->due = self->dumped_at + (int64_t)(w->ms - age) * SL_NS_PER_MS;
	if (age >= w->ms) {
		*cause = w->due;
		return 1;
	}
	*until = w->due;
	return 0;
}

void sl_wait_timewait_ms(struct sl_role *self, const struct sl_tuple *t,
			 int ms)
{
	struct age_wait w = { .t = t, .ms = ms };
	int64_t begun = sl_now(), cause;
	char what[160];

	for (;;) {
		if (wait_for(self, check_age, &w, &cause))
			break;
		if (!w.found || w.s.state != TCP_TIME_WAIT ||
		    sl_now() >= self->deadline) {
			snprintf(what, sizeof(what), "wait for a TIME-WAIT %d "
				 "ms old on port %u (%s)", ms,
				 ntohs(t->local.sin_port),
				 !w.found ? "it is gone" :
				 w.s.state != TCP_TIME_WAIT ?
				 sl_state_name(w.s.state) : "deadline");
			sl__role_fail(self, what, ETIMEDOUT, __FILE__,
				      __LINE__);
		}
	}
	record_sock(self, SL_EV_STATE, &w.s);
	snprintf(what, sizeof(what), "TIME-WAIT %d ms old on port %u", ms,
		 ntohs(t->local.sin_port));
	record_wait(self, "timewait age", begun, cause, what);
}

static int host_of(struct sl_role *self, const char *name)
{
	int h = name ? sl_topology_host(self->topo, name) : -1;

	if (name && h < 0)
		sl__role_fail(self, "unknown host name in sl_wait_segment()",
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

struct seg_wait {
	const struct sl_segment_match *m;
	int from, to, mark_host;
	const char *mark;
	uint8_t need, forbid;
	struct sl_segment seg;
	int overrun;		/* the ring no longer holds the anchor */
};

static int seg_matches(const struct seg_wait *w, const struct sl_applog_seg *a)
{
	const struct sl_segment_match *m = w->m;

	return !((w->from >= 0 && a->from != w->from) ||
		 (w->to >= 0 && a->to != w->to) ||
		 (m->sport && a->pkt.sport != m->sport) ||
		 (m->dport && a->pkt.dport != m->dport) ||
		 (a->pkt.flags & w->need) != w->need ||
		 (a->pkt.flags & w->forbid));
}

/* The match closest to the anchor: the first after it (.after_segment, .after,
 * or the start of the run), or the last before it (.before).  Never "the
 * newest": a retransmission must not pass for the segment it repeats. */
static int check_segment(struct sl_role *self, void *arg, int64_t *cause,
			 int64_t *until)
{
	struct seg_wait *w = arg;
	struct sl_applog *l = self->log;
	unsigned long oldest;
	int64_t lo = INT64_MIN;
	int found = 0;

	(void)until;
	log_lock(l);
	oldest = l->nseg > SL_APPLOG_SEGS ? l->nseg - SL_APPLOG_SEGS : 0;
	if (w->m->after_segment)
		lo = w->m->after_segment->t;
	if (w->mark) {
		lo = mark_time(l, w->mark_host, w->mark);
		if (!lo) {
			/* Not marked yet: nothing after it yet either. */
			pthread_mutex_unlock(&l->mu);
			return 0;
		}
	}
	/* Closest to the anchor by the captures' timestamps: the two
	 * captures are read one after the other, so the ring holds their
	 * segments out of order by up to a read's worth. */
	for (unsigned long i = oldest; i < l->nseg; i++) {
		const struct sl_applog_seg *a = &l->seg[i % SL_APPLOG_SEGS];

		if (!seg_matches(w, a))
			continue;
		if (w->m->before_segment ? a->t >= w->m->before_segment->t :
					   a->t <= lo)
			continue;
		if (found && (w->m->before_segment ? a->t <= w->seg.t :
						     a->t >= w->seg.t))
			continue;
		to_segment(a, &w->seg);
		found = 1;
	}
	if (oldest > 0) {
		/* The ring has wrapped: what it lost may have been closer to
		 * the anchor than anything it still holds. */
		int64_t first = INT64_MAX;

		for (unsigned long i = oldest; i < l->nseg; i++)
			if (l->seg[i % SL_APPLOG_SEGS].t < first)
				first = l->seg[i % SL_APPLOG_SEGS].t;
		/* Before an anchor: what it lost is older than what it
		 * holds, so only a miss is in doubt. */
		if (w->m->before_segment ? !found : first > lo) {
			w->overrun = 1;
			found = 0;
		}
	} else if (w->m->before_segment && !found) {
		/* Everything before a captured segment has been captured:
		 * no match now means none. */
		w->overrun = -1;
	}
	pthread_mutex_unlock(&l->mu);
	if (found)
		*cause = w->seg.t;
	return found || w->overrun;
}

struct sl_segment sl__wait_segment(struct sl_role *self,
				   const struct sl_segment_match *m)
{
	struct seg_wait w = { .m = m, .from = host_of(self, m->from),
			      .to = host_of(self, m->to), .mark_host = -1 };
	int64_t begun = sl_now(), cause;
	char what[200], flags[16] = "any";
	int ok;

	if ((m->flags && sl_flags_parse(m->flags, &w.need) < 0) ||
	    (m->not_flags && sl_flags_parse(m->not_flags, &w.forbid) < 0) ||
	    (!!m->after_segment + !!m->before_segment + !!m->after > 1))
		sl__role_fail(self, "bad flags, or more than one anchor, in "
			      "sl_wait_segment()", EINVAL, __FILE__, __LINE__);
	if (m->after) {
		const char *colon = strchr(m->after, ':');

		w.mark = m->after;
		if (colon) {
			char host[32];

			snprintf(host, sizeof(host), "%.*s",
				 (int)(colon - m->after), m->after);
			w.mark_host = host_of(self, host);
			w.mark = colon + 1;
		}
	}
	if (m->flags)
		snprintf(flags, sizeof(flags), "%s", m->flags);
	snprintf(what, sizeof(what), "a segment%s%s%s%s [%s] %s%s",
		 m->from ? " from " : "", m->from ? m->from : "",
		 m->to ? " to " : "", m->to ? m->to : "", flags,
		 m->after_segment ? "after the one given" :
		 m->before_segment ? "before the one given" :
		 m->after ? "after mark " : "since the start",
		 m->after ? m->after : "");
	ok = wait_for(self, check_segment, &w, &cause);
	if (w.overrun > 0) {
		char why[260];

		snprintf(why, sizeof(why), "wait for %.160s: more than %d "
			 "segments since, the captures' ring no longer holds "
			 "it", what, SL_APPLOG_SEGS);
		sl__role_fail(self, why, EOVERFLOW, __FILE__, __LINE__);
	}
	if (!ok || w.overrun) {
		char why[230];

		snprintf(why, sizeof(why), "wait for %.200s in the captures",
			 what);
		sl__role_fail(self, why, w.overrun ? ENOENT : ETIMEDOUT,
			      __FILE__, __LINE__);
	}
	record_wait(self, "segment", begun, cause, what);
	return w.seg;
}
