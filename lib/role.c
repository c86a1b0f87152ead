/* role.c: role processes, the shared app log and the role API (socklab.h). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "err.h"
#include "role.h"
#include "socklab.h"
#include "sockstate.h"
#include "topology.h"


int sl_applog_create(struct sl_applog **lp, struct sl_err *e)
{
	pthread_mutexattr_t ma;
	pthread_condattr_t ca;
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
	pthread_condattr_init(&ca);
	pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&l->cv, &ca);
	pthread_condattr_destroy(&ca);
	*lp = l;
	return 0;
}

void sl_applog_destroy(struct sl_applog *l)
{
	if (l)
		munmap(l, sizeof(*l));
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
	pthread_cond_broadcast(&l->cv);
	pthread_mutex_unlock(&l->mu);
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

static struct timespec ts_of(int64_t ns)
{
	struct timespec ts = {
		.tv_sec = ns / SL_NS_PER_SEC, .tv_nsec = ns % SL_NS_PER_SEC,
	};
	return ts;
}

void sl_wait_mark(struct sl_role *self, const char *host, const char *name)
{
	struct timespec until = ts_of(self->deadline);
	int h = sl_topology_host(self->topo, host), found, rc = 0;
	char what[128];

	if (h < 0)
		sl__role_fail(self, "unknown host name in sl_wait_mark()",
			      EINVAL, __FILE__, __LINE__);
	log_lock(self->log);
	while (!(found = has_mark(self->log, h, name)) && rc != ETIMEDOUT) {
		rc = pthread_cond_timedwait(&self->log->cv, &self->log->mu,
					    &until);
		if (rc == EOWNERDEAD)
			pthread_mutex_consistent(&self->log->mu);
	}
	pthread_mutex_unlock(&self->log->mu);
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
