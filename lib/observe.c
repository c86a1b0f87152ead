/* observe.c: capture and socket-state sampling on one thread (observe.h). */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "ipaddr.h"
#include "board.h"
#include "capture.h"
#include "clock.h"
#include "err.h"
#include "observe.h"
#include "priority.h"
#include "sockstate.h"
#include "timeline.h"
#include "topology.h"

/* The client's and the server's interface, the router's two, and room for
 * a host's new capture while its old one is still being closed. */
#define OBS_MAX_CAPS 6
#define OBS_MAX_SOCKS 128

/* The hosts whose interfaces we capture on and whose sockets we sample:
 * the router forwards but owns no socket of the experiment. */
static const int observed[] = { SL_HOST_CLIENT, SL_HOST_SERVER };
#define NOBSERVED (int)(sizeof(observed) / sizeof(observed[0]))

/*
 * The special problem of the router's captures: every segment crosses the
 * router, so it is seen twice there (arriving on one interface, leaving on
 * the other) besides once at its sender and once at its receiver.  Put on
 * the timeline, each segment would appear four times instead of twice:
 * timeline.txt would double, and every prediction that counts packets
 * (expect_packets(), "no second FIN") would count copies that are no new
 * segment.  Telling the router's copies apart in every prediction would
 * touch all of them for no new evidence: what the router forwarded is
 * what the receiver captured, and what it did not is already on the
 * timeline as the fault record that dropped it.  So the router's
 * interfaces are captured into pcap files only, for the learner who opens
 * them in Wireshark to see where a segment stopped: a segment the path
 * dropped is in the router's pcap of the interface it arrived on (a
 * packet socket sees a frame before netfilter's hooks do) and in neither
 * the pcap of the other interface nor the receiver's.
 */

struct sl_observer {
	const struct sl_topology *topo;
	pthread_t thread;
	int started;
	int stopfd;
	int ncaps;
	struct sl_capture *cap[OBS_MAX_CAPS];
	int cap_host[OBS_MAX_CAPS];
	int cap_iface[OBS_MAX_CAPS]; /* index in the host's iface[] */
	struct sl_sockdiag *diag[NOBSERVED];
	struct sl_sock prev[NOBSERVED][OBS_MAX_SOCKS];
	int nprev[NOBSERVED];
	struct sl_timeline tl; /* owned by the thread until it is joined */
	/* The run's board, where each segment is also published for the
	 * roles (sl_wait_segment()), or NULL. */
	struct sl_board *board;
	_Atomic int64_t last_packet;
	/* What sampling cost, for harness.txt (sl_observer_cost()). */
	_Atomic long dumps;
	_Atomic int64_t dump_ns;
	int err;
	struct sl_err why;
};

struct cap_arg {
	struct sl_observer *o;
	int host;
};

static void on_packet(void *arg, const struct sl_packet *pkt, int64_t t)
{
	struct cap_arg *a = arg;
	struct sl_observer *o = a->o;
	struct sl_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = SL_EV_PACKET;
	ev.t = ev.t_start = t;
	ev.host = a->host;
	ev.pkt = *pkt;
	ev.from = sl_topology_host_by_addr(o->topo, &pkt->saddr);
	ev.to = sl_topology_host_by_addr(o->topo, &pkt->daddr);
	if (sl_timeline_add(&o->tl, &ev) < 0 && !o->err) {
		o->err = -ENOMEM;
		sl_errf(&o->why, ENOMEM, "record a packet");
	}
	/* The copy seen at its sender only, as predictions read packets: a
	 * role asking for "the last FIN from the client" gets what was sent. */
	if (o->board && sl_timeline_is_sent(&ev))
		sl_board_add_segment(o->board, &ev);
	atomic_store(&o->last_packet, t);
}

static int same_sock(const struct sl_sock *a, const struct sl_sock *b)
{
	return sl_ip_eq(&a->laddr, &b->laddr) &&
	       sl_ip_eq(&a->raddr, &b->raddr) && a->lport == b->lport &&
	       a->rport == b->rport && (a->state == 10) == (b->state == 10);
}

static int changed(const struct sl_sock *a, const struct sl_sock *b)
{
	return a->state != b->state || a->timer != b->timer ||
	       a->rqueue != b->rqueue || a->wqueue != b->wqueue ||
	       a->retrans != b->retrans;
}

static void add_sock_event(struct sl_observer *o, int kind, int host,
			   const struct sl_sock *s, int64_t t0, int64_t t)
{
	struct sl_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = kind;
	ev.t = t;
	ev.t_start = t0;
	ev.host = host;
	ev.from = ev.to = -1;
	ev.sock = *s;
	if (sl_timeline_add(&o->tl, &ev) < 0 && !o->err) {
		o->err = -ENOMEM;
		sl_errf(&o->why, ENOMEM, "record a socket state");
	}
}

/* One sock_diag dump per observed host; an event for every socket that
 * appeared, changed or went away since the previous sample. */
static void sample(struct sl_observer *o)
{
	struct sl_sock cur[OBS_MAX_SOCKS];
	struct sl_err e;
	int n;

	for (int h = 0; h < NOBSERVED; h++) {
		int64_t t;

		if (!o->diag[h]) /* detached: its namespace is being rebuilt */
			continue;
		/* Stamped when the dump has returned: what it shows was true
		 * at some moment between t0 and t.  A stamp taken before the
		 * dump would put a state that appeared during it (or while
		 * this thread was preempted) before the packet that caused
		 * it.  However long the dump took, the sample is kept: where
		 * the kernel's own state changes are recorded, they time the
		 * states (sockhist.c), and samples add what only they show. */
		int64_t t0 = sl_now();

		if (sl_sockdiag_dump(o->diag[h], cur, OBS_MAX_SOCKS, &n, &e) <
		    0) {
			if (!o->err) {
				o->err = -EIO;
				o->why = e;
			}
			continue;
		}
		t = sl_now();
		o->dumps++;
		o->dump_ns += t - t0;
		for (int i = 0; i < n; i++) {
			int j;

			for (j = 0; j < o->nprev[h]; j++)
				if (same_sock(&cur[i], &o->prev[h][j]))
					break;
			if (j == o->nprev[h] ||
			    changed(&cur[i], &o->prev[h][j]))
				add_sock_event(o, SL_EV_STATE, observed[h],
					       &cur[i], t0, t);
		}
		for (int j = 0; j < o->nprev[h]; j++) {
			int i;

			for (i = 0; i < n; i++)
				if (same_sock(&cur[i], &o->prev[h][j]))
					break;
			if (i == n)
				add_sock_event(o, SL_EV_GONE, observed[h],
					       &o->prev[h][j], t0, t);
		}
		memcpy(o->prev[h], cur, n * sizeof(cur[0]));
		o->nprev[h] = n;
	}
}

static void dispatch_all(struct sl_observer *o, struct cap_arg *args)
{
	for (int i = 0; i < o->ncaps; i++) {
		/* The router's frames go to its pcaps only (see above). */
		int r = sl_capture_dispatch(
			o->cap[i],
			o->cap_host[i] == SL_HOST_ROUTER ? NULL : on_packet,
			&args[i]);

		if (r < 0 && !o->err) {
			o->err = r;
			sl_errf(&o->why, -r, "read capture on %s %s",
				o->topo->host[o->cap_host[i]].name,
				o->topo->host[o->cap_host[i]]
					.iface[o->cap_iface[i]]
					.name);
		}
	}
}

static void *observer_main(void *arg)
{
	struct sl_observer *o = arg;
	struct pollfd pfd[OBS_MAX_CAPS + 1];
	struct cap_arg args[OBS_MAX_CAPS];
	int64_t last_sample;

	for (int i = 0; i < o->ncaps; i++) {
		pfd[i].fd = sl_capture_fd(o->cap[i]);
		pfd[i].events = POLLIN;
		args[i].o = o;
		args[i].host = o->cap_host[i];
	}
	pfd[o->ncaps].fd = o->stopfd;
	pfd[o->ncaps].events = POLLIN;
	/* The roles wait on what this thread publishes (priority.h). */
	sl_priority_observed();
	sample(o);
	last_sample = sl_now();
	for (;;) {
		int64_t now = sl_now();
		int64_t busy = now - atomic_load(&o->last_packet) <
			       50 * SL_NS_PER_MS;
		int64_t period = (busy ? 2 : 20) * SL_NS_PER_MS;
		int timeout;

		/* The period is the current one, counted from the last
		 * sample: when the first packet ends a quiet spell, the next
		 * sample comes 2 ms after the last, not at the end of the 20
		 * ms that were planned before it arrived. */
		if (now >= last_sample + period) {
			sample(o);
			last_sample = now;
		}
		timeout =
			(int)((last_sample + period - now + SL_NS_PER_MS - 1) /
			      SL_NS_PER_MS);
		if (poll(pfd, o->ncaps + 1, timeout) < 0 && errno != EINTR)
			break;
		dispatch_all(o, args);
		if (pfd[o->ncaps].revents & POLLIN)
			break;
	}
	/* The last word: whatever is still in the capture buffers, then the
	 * sockets as they are at the end of the run. */
	dispatch_all(o, args);
	sample(o);
	return NULL;
}

/* The special problem of packet sockets: setting up a capture's ring and
 * closing the capture each wait for an RCU grace period in the kernel
 * (synchronize_net() in af_packet.c), 10 to 30 ms apiece on this kind of
 * machine, which is most of the harness's cost per run.  Grace periods are
 * shared by whoever waits at the same time, so the captures are opened and
 * closed on a thread each, at once, and the run pays for one wait instead of
 * one per interface. */
struct cap_job {
	pthread_t thread;
	struct sl_capture **cap;
	int nsfd;
	const char *ifname;
	char path[4096];
	int ret;
	struct sl_err err;
};

static void *open_job(void *arg)
{
	struct cap_job *j = arg;

	j->ret = sl_capture_open(j->cap, j->nsfd, j->ifname, j->path, &j->err);
	return NULL;
}

static void *close_job(void *arg)
{
	struct cap_job *j = arg;

	sl_capture_close(*j->cap);
	return NULL;
}

/* Runs fn on every job at once (in place when a thread cannot start). */
static void run_jobs(struct cap_job *jobs, int n, void *(*fn)(void *))
{
	int started[OBS_MAX_CAPS] = { 0 };

	for (int i = 0; i < n; i++)
		started[i] = i > 0 && pthread_create(&jobs[i].thread, NULL, fn,
						     &jobs[i]) == 0;
	if (n > 0)
		fn(&jobs[0]);
	for (int i = 1; i < n; i++) {
		if (started[i])
			pthread_join(jobs[i].thread, NULL);
		else
			fn(&jobs[i]);
	}
}

static void observer_free(struct sl_observer *o)
{
	struct cap_job jobs[OBS_MAX_CAPS];

	for (int i = 0; i < o->ncaps; i++)
		jobs[i].cap = &o->cap[i];
	run_jobs(jobs, o->ncaps, close_job);
	for (int h = 0; h < NOBSERVED; h++)
		if (o->diag[h])
			sl_sockdiag_close(o->diag[h]);
	if (o->stopfd >= 0)
		close(o->stopfd);
	sl_timeline_free(&o->tl);
	free(o);
}

/* Sets job up to capture on host's interface k into
 * <dir>/<host>-<iface><suffix>.pcap. */
static void cap_job_init(struct cap_job *j, struct sl_capture **cap,
			 const struct sl_topology *t, int host, int k,
			 const char *dir, const char *suffix)
{
	const struct sl_host *h = &t->host[host];

	*cap = NULL;
	j->cap = cap;
	j->nsfd = h->nsfd;
	j->ifname = h->iface[k].name;
	j->ret = 0;
	snprintf(j->path, sizeof(j->path), "%s/%s-%s%s.pcap", dir, h->name,
		 h->iface[k].name, suffix);
}

/* Opens the jobs' captures at once; those that opened join o's (all of
 * them, so that observer_free() closes them whatever failed).  Returns 0
 * or the first failure, its reason in e. */
static int open_caps(struct sl_observer *o, struct cap_job *jobs,
		     struct sl_capture **caps, const int *host,
		     const int *iface, int n, struct sl_err *e)
{
	int ret = 0;

	run_jobs(jobs, n, open_job);
	for (int k = 0; k < n; k++) {
		if (jobs[k].ret < 0 && !ret) {
			ret = jobs[k].ret;
			if (e)
				*e = jobs[k].err;
		}
		if (caps[k]) {
			o->cap[o->ncaps] = caps[k];
			o->cap_host[o->ncaps] = host[k];
			o->cap_iface[o->ncaps++] = iface[k];
		}
	}
	return ret;
}

int sl_observer_start(struct sl_observer **op, const struct sl_topology *t,
		      const char *dir, struct sl_board *board, struct sl_err *e)
{
	struct sl_observer *o = calloc(1, sizeof(*o));
	const struct sl_host *router = &t->host[SL_HOST_ROUTER];
	struct cap_job jobs[OBS_MAX_CAPS];
	struct sl_capture *caps[OBS_MAX_CAPS];
	int host[OBS_MAX_CAPS], iface[OBS_MAX_CAPS];
	int n = 0, ret;

	if (!o)
		return sl_errf(e, ENOMEM, "allocate the observers");
	o->topo = t;
	o->board = board;
	sl_timeline_init(&o->tl);
	o->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (o->stopfd < 0) {
		ret = sl_errf(e, errno, "eventfd for the observer thread");
		goto fail;
	}
	for (int k = 0; k < NOBSERVED; k++) {
		host[n] = observed[k];
		iface[n] = 0;
		cap_job_init(&jobs[n], &caps[n], t, host[n], 0, dir, "");
		n++;
	}
	for (int k = 0; k < router->nif && n < OBS_MAX_CAPS - 1; k++) {
		host[n] = SL_HOST_ROUTER;
		iface[n] = k;
		cap_job_init(&jobs[n], &caps[n], t, SL_HOST_ROUTER, k, dir, "");
		n++;
	}
	ret = open_caps(o, jobs, caps, host, iface, n, e);
	if (ret < 0)
		goto fail;
	for (int k = 0; k < NOBSERVED; k++) {
		ret = sl_sockdiag_open(&o->diag[k], t->host[observed[k]].nsfd,
				       e);
		if (ret < 0)
			goto fail;
		sl_sockdiag_set_family(o->diag[k], t->family);
	}
	ret = pthread_create(&o->thread, NULL, observer_main, o);
	if (ret) {
		ret = sl_errf(e, ret, "start the observer thread");
		goto fail;
	}
	o->started = 1;
	*op = o;
	return 0;
fail:
	observer_free(o);
	return ret;
}

/* The special problem of changing what the thread observes: its capture
 * and sock_diag handles are its own while it runs.  A reboot (the only
 * change) is rare and the thread is cheap to restart, so the thread is
 * stopped, the handles changed, and a new thread started on the same
 * state; the kernel keeps capturing into the rings meanwhile, so no packet
 * is lost, and only a sample or two is skipped. */
static int pause_thread(struct sl_observer *o, struct sl_err *e)
{
	uint64_t one = 1;

	if (!o->started)
		return 0;
	if (write(o->stopfd, &one, sizeof(one)) < 0)
		return sl_errf(e, errno, "pause the observer thread");
	pthread_join(o->thread, NULL);
	o->started = 0;
	/* Empty the eventfd, or the new thread would stop at once. */
	if (read(o->stopfd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		return sl_errf(e, errno, "reset the observer thread's stop");
	return 0;
}

static int resume_thread(struct sl_observer *o, struct sl_err *e)
{
	int ret = pthread_create(&o->thread, NULL, observer_main, o);

	if (ret)
		return sl_errf(e, ret, "restart the observer thread");
	o->started = 1;
	return 0;
}

static int observed_index(int host)
{
	for (int k = 0; k < NOBSERVED; k++)
		if (observed[k] == host)
			return k;
	return -1;
}

/* Takes the capture on (host, iface) out of o's list; returns it, or NULL
 * when there is none.  Only while the thread is stopped. */
static struct sl_capture *take_cap(struct sl_observer *o, int host, int iface)
{
	struct sl_capture *c;

	for (int i = 0; i < o->ncaps; i++) {
		if (o->cap_host[i] != host || o->cap_iface[i] != iface)
			continue;
		c = o->cap[i];
		for (int j = i + 1; j < o->ncaps; j++) {
			o->cap[j - 1] = o->cap[j];
			o->cap_host[j - 1] = o->cap_host[j];
			o->cap_iface[j - 1] = o->cap_iface[j];
		}
		o->ncaps--;
		return c;
	}
	return NULL;
}

int sl_observer_detach(struct sl_observer *o, int host, struct sl_err *e)
{
	struct cap_job jobs[2];
	struct sl_capture *gone[2];
	int k = observed_index(host), r, ret;

	if (k < 0)
		return sl_errf(e, EINVAL, "detach host %d: not observed", host);
	/* The thread reads every capture once more as it stops. */
	ret = pause_thread(o, e);
	if (ret < 0)
		return ret;
	gone[0] = take_cap(o, host, 0);
	/* The router's end of the host's link goes with the host (the
	 * rebuild deletes the veth pair): a capture left on it would see
	 * its interface vanish, an error for the whole run. */
	r = sl_topology_router_iface(o->topo, host);
	gone[1] = r >= 0 ? take_cap(o, SL_HOST_ROUTER, r) : NULL;
	if (o->diag[k])
		sl_sockdiag_close(o->diag[k]);
	o->diag[k] = NULL;
	ret = resume_thread(o, e);
	/* Closing waits for an RCU grace period: not while the thread is
	 * stopped, and both at once (see struct cap_job). */
	for (int i = 0; i < 2; i++)
		jobs[i].cap = &gone[i];
	run_jobs(jobs, 2, close_job);
	return ret;
}

int sl_observer_attach(struct sl_observer *o, int host, const char *dir,
		       const char *suffix, struct sl_err *e)
{
	const struct sl_host *h = &o->topo->host[host];
	struct cap_job jobs[2];
	struct sl_capture *caps[2];
	struct sl_sockdiag *diag = NULL;
	int k = observed_index(host), n = 1, ret;
	int r = sl_topology_router_iface(o->topo, host);

	if (k < 0 || o->diag[k] || o->ncaps + 2 > OBS_MAX_CAPS)
		return sl_errf(e, EINVAL,
			       "attach %s: not observed, or not "
			       "detached",
			       h->name);
	cap_job_init(&jobs[0], &caps[0], o->topo, host, 0, dir, suffix);
	if (r >= 0)
		cap_job_init(&jobs[n++], &caps[1], o->topo, SL_HOST_ROUTER, r,
			     dir, suffix);
	run_jobs(jobs, n, open_job);
	ret = jobs[0].ret < 0 ? jobs[0].ret : n > 1 ? jobs[1].ret : 0;
	if (ret < 0 && e)
		*e = jobs[0].ret < 0 ? jobs[0].err : jobs[1].err;
	if (ret == 0)
		ret = sl_sockdiag_open(&diag, h->nsfd, e);
	if (ret == 0) {
		sl_sockdiag_set_family(diag, o->topo->family);
		ret = pause_thread(o, e);
	}
	if (ret < 0) {
		if (diag)
			sl_sockdiag_close(diag);
		for (int i = 0; i < n; i++)
			sl_capture_close(caps[i]);
		return ret;
	}
	o->cap[o->ncaps] = caps[0];
	o->cap_host[o->ncaps] = host;
	o->cap_iface[o->ncaps++] = 0;
	if (n > 1) {
		o->cap[o->ncaps] = caps[1];
		o->cap_host[o->ncaps] = SL_HOST_ROUTER;
		o->cap_iface[o->ncaps++] = r;
	}
	o->diag[k] = diag;
	return resume_thread(o, e);
}

void sl_observer_cost(const struct sl_observer *o, long *dumps,
		      int64_t *dump_ns)
{
	*dumps = atomic_load(&o->dumps);
	*dump_ns = atomic_load(&o->dump_ns);
}

int64_t sl_observer_last_packet(struct sl_observer *o)
{
	return atomic_load(&o->last_packet);
}

int sl_observer_stop(struct sl_observer *o, struct sl_timeline *tl,
		     struct sl_err *e)
{
	uint64_t one = 1;
	int ret = 0;

	if (!o)
		return 0;
	if (o->started) {
		if (write(o->stopfd, &one, sizeof(one)) < 0)
			ret = sl_errf(e, errno, "stop the observer thread");
		else
			pthread_join(o->thread, NULL);
	}
	if (!ret && o->err) {
		ret = o->err;
		if (e)
			*e = o->why;
	}
	for (int i = 0; tl && i < o->tl.n && !ret; i++)
		ret = sl_timeline_add(tl, &o->tl.ev[i]);
	observer_free(o);
	return ret;
}
