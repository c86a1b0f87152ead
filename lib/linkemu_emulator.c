/* linkemu_emulator.c: the link emulator process (linkemu_proto.h).
 *
 * A child of the variant's run that lives in the router's namespace: it
 * reads the queued packets from NFQUEUE (linkemu_queue.c) and gives each
 * its verdict, at once or later (linkemu_schedule.c), from a libev loop
 * that also serves the control socket, on which the run's processes apply
 * and lift faults.
 *
 * Why a process and not a thread of the run: faults are applied from role
 * processes, which end before the fault may be lifted; the emulator must
 * outlive them, so it belongs to the run.  Being a process of its own it
 * can also run SCHED_FIFO without touching the run's other threads, and it
 * dies with the run (PR_SET_PDEATHSIG) or as soon as nobody holds the
 * other end of its control socket.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ev.h>

#include "linkemu_proto.h"
#include "linkemu_queue.h"
#include "linkemu_schedule.h"
#include "topology.h"

struct emu {
	struct sl__le_shared *sh;
	int ctl;
	struct ev_loop *loop;
	ev_io ctl_w, tmr_w;
	struct sl__le_queue q;
	struct sl__le_schedule s;
};

static void verdict(void *arg, uint16_t queue, uint32_t pkt, int v)
{
	sl__le_queue_verdict(arg, queue, pkt, v);
}

static void tmr_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct emu *m = w->data;

	(void)loop;
	(void)revents;
	sl__le_schedule_due(&m->s);
}

/* Releases what is held and ends the loop. */
static void stop(struct emu *m)
{
	if (m->q.nl)
		sl__le_schedule_flush(&m->s);
	ev_break(m->loop, EVBREAK_ALL);
}

/* Serves one request; the reply says how it went. */
static void serve(struct emu *m, const struct sl__le_msg *q,
		  struct sl__le_reply *r)
{
	if (q->op == LE_OP_STOP) {
		stop(m);
		return;
	}
	if ((q->op != LE_OP_APPLY && q->op != LE_OP_LIFT) || q->id < 0 ||
	    q->id >= SL_LINKEMU_MAX_FAULTS) {
		r->ret = -EINVAL;
		return;
	}
	if (q->op == LE_OP_LIFT) {
		sl__le_schedule_lift(&m->s, q->id);
		return;
	}
	/* The queues are bound on the first fault: until then the emulator
	 * costs nothing. */
	if (!m->q.nl) {
		r->ret = sl__le_queue_open(&m->q, m->loop, r->why,
					   sizeof(r->why));
		if (r->ret < 0)
			return;
	}
	sl__le_schedule_apply(&m->s, q->id, &q->spec);
}

static void ctl_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct emu *m = w->data;
	struct sl__le_reply r = { 0 };
	struct sl__le_msg q;
	ssize_t n;

	(void)loop;
	(void)revents;
	n = recv(m->ctl, &q, sizeof(q), 0);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n != (ssize_t)sizeof(q)) {
		/* Every process of the run is gone: so are we. */
		stop(m);
		return;
	}
	r.seq = q.seq;
	serve(m, &q, &r);
	send(m->ctl, &r, sizeof(r), MSG_NOSIGNAL);
}

void sl__le_emulator_main(const struct sl_topology *t, struct sl__le_shared *sh,
			  int ctl, pid_t parent)
{
	static struct emu m;
	sigset_t none;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGINT, SIG_IGN); /* the run decides when we stop */
	if (setns(t->host[SL_HOST_ROUTER].nsfd, CLONE_NEWNET) < 0)
		_exit(1);
	m.sh = sh;
	m.ctl = ctl;
	m.sh->fifo = sl__le_sched();
	m.q.on_packet = sl__le_schedule_packet;
	m.q.on_overrun = sl__le_schedule_overrun;
	m.q.arg = &m.s;
	m.loop = ev_loop_new(EVBACKEND_EPOLL | EVFLAG_NOENV);
	if (sl__le_schedule_init(&m.s, verdict, &m.q, sh) < 0 || !m.loop)
		_exit(1);
	ev_io_init(&m.ctl_w, ctl_cb, ctl, EV_READ);
	m.ctl_w.data = &m;
	ev_io_start(m.loop, &m.ctl_w);
	ev_io_init(&m.tmr_w, tmr_cb, m.s.tfd, EV_READ);
	m.tmr_w.data = &m;
	ev_io_start(m.loop, &m.tmr_w);
	ev_run(m.loop, 0);
	sl__le_queue_close(&m.q);
	_exit(0);
}
