/* linkemu.c: delay, loss, reorder and one-shot drops on the router
 * (linkemu.h).
 *
 * Two halves.  The caller's half (sl_linkemu_apply/lift, in the run process
 * or a role process) checks the fault, picks the backend, installs the
 * iptables rule or the netem qdisc in the router's namespace and prints
 * the commands.  The emulator's half is a child process of the variant's
 * run that lives in the router's namespace: it reads the queued packets
 * from NFQUEUE (libmnl) and gives each its verdict, at once or later, from
 * a libev loop.  The two talk over a SOCK_SEQPACKET socketpair made before
 * any role exists, so every process of the run inherits it; a process-
 * shared, robust mutex in a shared page makes each request and its reply
 * one exchange, whichever process asks.
 *
 * Why a process and not a thread of the run: faults are applied from role
 * processes, which end before the fault may be lifted; the emulator must
 * outlive them, so it belongs to the run.  Being a process of its own it
 * can also run SCHED_FIFO without touching the run's other threads, and it
 * dies with the run (PR_SET_PDEATHSIG) or as soon as nobody holds the
 * other end of its control socket.
 *
 * Directions: packets from the client enter the router on the interface
 * that faces the client and go to NFQUEUE 0, packets from the server to
 * NFQUEUE 1 (queue numbers are per network namespace, so every run has
 * its own 0 and 1).  All faults on one direction share its one rule: a
 * verdict of NF_ACCEPT ends the packet's walk through the chain, so a
 * second queue rule would never see it.  The emulator applies, in order,
 * the one-shot drops, the loss, the delay and the reorder of every fault
 * active on that direction.
 *
 * The special problem of a delay line in user space: a packet is only
 * as late as the timer that releases it.  libev's epoll backend sleeps in
 * epoll_wait(), whose timeout is in milliseconds and rounded up, so
 * ev_timer lets a 10 ms delay come out anywhere in 10..11 ms plus the
 * wake-up latency.  The emulator instead arms one timerfd (CLOCK_MONOTONIC,
 * absolute, nanoseconds) for the earliest due packet and watches it as an
 * ev_io, and its only thread runs SCHED_FIFO (with SCHED_RESET_ON_FORK,
 * so that nothing forked from it would inherit the policy): a timer
 * that expires while the other core spins in a busy loop then preempts
 * the loop at once instead of waiting for the scheduler to give us our
 * share.  SCHED_FIFO is a setting of this one thread, not of the machine;
 * where it is refused (no CAP_SYS_NICE) the emulator runs SCHED_OTHER and
 * `socklab doctor` says so.  The delay of a packet counts from the moment
 * the emulator read it from the queue.
 *
 * Measured on this project's build machine (a 2-core VM, kernel 6.18,
 * HZ=250, no sch_netem), end to end: the handshake RTT the client's kernel
 * reports (tcpi_rtt) with a 10 ms delay on the client's direction, minus
 * 10 ms and minus the RTT without the fault (tests/test_linkemu.c, 200
 * handshakes a run, 14 runs, other developers' builds running beside):
 *
 *			median		p99		max
 *	idle		44..150 us	114..490 us	0.19..1.0 ms
 *	other core busy	47..79 us	83..320 us	0.15..1.3 ms
 *
 * (2.8 ms once, while other test suites ran on both cores; on a quiet
 * machine, other core busy, 2000 handshakes: median 63 us, p99 152 us,
 * max 382 us).  The error is always late, never early: the queue's round
 * trip through user space plus the timer.  The timer alone (3000 timers
 * 0.2 to 5 ms ahead, lateness; sl_linkemu_measure_timer() is this):
 *
 *				median		p99		max
 *	ev_timer, SCHED_OTHER	600 us		2.6 ms		4.5 ms
 *	ev_timer, SCHED_FIFO	520 us		1.0 ms		1.1 ms
 *	timerfd, SCHED_OTHER	35..79 us	0.17..1.7 ms	0.9..8 ms
 *	timerfd, SCHED_FIFO	23..82 us	88..155 us	0.25..1.7 ms
 *
 * hence timerfd and SCHED_FIFO.  A busy-wait for the last part of each
 * delay would shave the median further, but the median is already a
 * twentieth of the 2 ms budget, and spinning would take a whole core away
 * from the hosts whose timing the experiments measure (two cores here).
 * What is left in the tail is the host taking the VM's CPU away, which
 * no setting of ours can prevent: `socklab doctor` measures the timer on
 * the machine at hand and prints it.
 *
 * Loss and reorder draw from a PRNG of their own per fault (xorshift64*),
 * seeded with SOCKLAB_SEED (default 1) plus the fault's id, so a run is
 * repeatable and the seed is printed with the fault.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <ev.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <pcap/dlt.h>

#include "cleanup.h"
#include "clock.h"
#include "err.h"
#include "exec.h"
#include "linkemu.h"
#include "packet.h"
#include "socklab.h"
#include "topology.h"

#define NDIRS 2			/* 0: from the client, 1: from the server */
#define COPY_RANGE 128		/* IPv4 and TCP headers with options */
#define QMAXLEN 8192		/* packets the kernel queues per NFQUEUE */
#define REPLY_TIMEOUT_MS 10000
#define STOP_TIMEOUT_MS 2000
#define REORDER_GAP_MS 10	/* default wait for a segment to overtake */
#define FIFO_PRIO 10

enum kind { K_DELAY, K_LOSS, K_REORDER, K_DROP };
enum backend { B_NONE, B_LINKEMU, B_NETEM };
enum op { OP_APPLY = 1, OP_LIFT, OP_STOP };

static const char *const kind_name[] = { "delay", "loss", "reorder", "drop" };
static const char *const backend_name[] = { NULL, "linkemu", "netem" };

/* A fault as checked by the caller, as it crosses the control socket. */
struct spec {
	int kind;
	int dirs;		/* bit d: direction d */
	uint8_t need, forbid;	/* drop: TCP flags set, not set */
	long len;		/* drop: SL_LEN(n), 0 any */
	int count;		/* drop */
	int delay_ms, jitter_ms;
	double loss;
	int reorder_pct;
	uint32_t seed;
};

struct msg {
	uint32_t seq;
	int op;
	int id;
	struct spec spec;
};

struct reply {
	uint32_t seq;
	int ret;
	char why[400];
};

/* What every process of the run sees: one page, shared. */
struct shared {
	pthread_mutex_t mu;
	uint32_t seq;
	int fifo;		/* the emulator runs SCHED_FIFO */
	int rules[NDIRS];	/* linkemu faults active per direction */
	int netem_bad;		/* tc netem failed once: not tried again */
	char netem_why[512];
	struct {
		int used, active;
		int backend;
		struct spec spec;
		struct sl_linkemu_stats st;	/* written by the emulator */
	} f[SL_LINKEMU_MAX_FAULTS];
};

/* This process's handle on the run's emulator; a role inherits it. */
static struct {
	struct shared *sh;
	int ctl;
	pid_t pid;		/* the emulator */
	pid_t owner;		/* the process that started it */
	int slot;
	const struct sl_topology *t;	/* the run's, for the teardown */
} le = { .ctl = -1 };

/* ---- helpers shared by both halves ---- */

static void sh_lock(struct shared *sh)
{
	if (pthread_mutex_lock(&sh->mu) == EOWNERDEAD)
		pthread_mutex_consistent(&sh->mu);
}

/* xorshift64*: small, fast, and the same sequence for the same seed on
 * every machine, which is all a repeatable loss pattern needs. */
static uint64_t rnd_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

static double rnd_unit(uint64_t *s)
{
	return (double)(rnd_next(s) >> 11) * 0x1p-53;
}

static uint64_t rnd_seed(uint32_t seed)
{
	/* splitmix64 of the seed: never 0, and seeds 1 and 2 start far
	 * apart. */
	uint64_t z = (uint64_t)seed + 0x9e3779b97f4a7c15ULL;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return z ? z : 1;
}

/* The emulator's scheduling: SCHED_FIFO for this thread when allowed
 * (see the top of the file).  SOCKLAB_LINKEMU_FIFO=0 turns it off, to
 * measure what it buys.  Returns 1 when SCHED_FIFO is in force. */
static int emu_sched(void)
{
	struct sched_param sp = { .sched_priority = FIFO_PRIO };
	const char *env = getenv("SOCKLAB_LINKEMU_FIFO");

	if (env && !strcmp(env, "0"))
		return 0;
	return sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp) == 0;
}

static void arm_timer(int tfd, int64_t due)
{
	struct itimerspec its = { { 0, 0 }, { 0, 0 } };

	if (due > 0) {
		its.it_value.tv_sec = due / SL_NS_PER_SEC;
		its.it_value.tv_nsec = due % SL_NS_PER_SEC;
	}
	timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* ---- the emulator process ---- */

struct held {
	int64_t due;
	uint64_t order;		/* ties keep arrival order */
	uint32_t pkt;
	uint16_t queue;
};

struct efault {
	int active;
	struct spec spec;
	uint64_t rng;
	int left;		/* drop: segments still to drop */
};

struct emu {
	struct shared *sh;
	int ctl;
	struct ev_loop *loop;
	ev_io ctl_w, nfq_w, tmr_w;
	struct mnl_socket *nl;
	unsigned int portid;
	int tfd;
	int64_t armed;
	struct held *heap;
	int nheap, cap;
	uint64_t order;
	struct {
		int valid, fault;
		struct held h;
		int64_t until;	/* released anyway at this time */
	} hold[NDIRS];
	struct efault f[SL_LINKEMU_MAX_FAULTS];
	char buf[65536 + 4096];
};

static int heap_less(const struct held *a, const struct held *b)
{
	return a->due < b->due || (a->due == b->due && a->order < b->order);
}

static void heap_push(struct emu *m, const struct held *h)
{
	int i = m->nheap++;

	while (i > 0) {
		int parent = (i - 1) / 2;

		if (!heap_less(h, &m->heap[parent]))
			break;
		m->heap[i] = m->heap[parent];
		i = parent;
	}
	m->heap[i] = *h;
}

static struct held heap_pop(struct emu *m)
{
	struct held top = m->heap[0], last = m->heap[--m->nheap];
	int i = 0;

	for (;;) {
		int c = 2 * i + 1;

		if (c >= m->nheap)
			break;
		if (c + 1 < m->nheap && heap_less(&m->heap[c + 1], &m->heap[c]))
			c++;
		if (!heap_less(&m->heap[c], &last))
			break;
		m->heap[i] = m->heap[c];
		i = c;
	}
	if (m->nheap > 0)
		m->heap[i] = last;
	return top;
}

static void verdict(struct emu *m, uint16_t queue, uint32_t pkt, int v)
{
	char buf[256];
	struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_VERDICT, queue);

	nfq_nlmsg_verdict_put(nlh, pkt, v);
	/* A verdict that cannot be sent leaves the packet queued until the
	 * queue is torn down: nothing better to do than go on. */
	mnl_socket_sendto(m->nl, nlh, nlh->nlmsg_len);
}

static void rearm(struct emu *m)
{
	int64_t next = m->nheap ? m->heap[0].due : 0;

	for (int d = 0; d < NDIRS; d++)
		if (m->hold[d].valid && (!next || m->hold[d].until < next))
			next = m->hold[d].until;
	if (next != m->armed) {
		arm_timer(m->tfd, next);
		m->armed = next;
	}
}

/* Releases pkt at due: now if due has passed, else on the timer. */
static void schedule(struct emu *m, const struct held *h, int64_t now)
{
	if (h->due <= now) {
		verdict(m, h->queue, h->pkt, NF_ACCEPT);
		return;
	}
	if (m->nheap < m->cap) {
		heap_push(m, h);
		return;
	}
	/* More held than the kernel can queue: cannot happen with cap above
	 * twice QMAXLEN, but never lose a packet silently. */
	verdict(m, h->queue, h->pkt, NF_ACCEPT);
}

static void release_hold(struct emu *m, int d, int64_t now)
{
	if (!m->hold[d].valid)
		return;
	m->hold[d].valid = 0;
	schedule(m, &m->hold[d].h, now);
}

static int drop_matches(const struct spec *s, const struct sl_packet *p)
{
	if ((p->flags & s->need) != s->need || (p->flags & s->forbid))
		return 0;
	return !s->len || (long)p->len == s->len - 1;
}

static void on_packet(struct emu *m, uint16_t queue, uint32_t pkt,
		      const uint8_t *data, size_t n, int64_t now)
{
	int d = queue, tcp, reorder = -1;
	struct sl_packet p;
	struct held h = { .pkt = pkt, .queue = queue };
	int64_t delay = 0;

	if (d < 0 || d >= NDIRS) {
		verdict(m, queue, pkt, NF_ACCEPT);
		return;
	}
	tcp = data && sl_packet_decode(data, n, DLT_RAW, &p) == 0;
	for (int i = 0; i < SL_LINKEMU_MAX_FAULTS; i++)
		if (m->f[i].active && (m->f[i].spec.dirs & (1 << d)))
			m->sh->f[i].st.seen++;
	/* One-shot drops first: "the next pure ACK" means the next one that
	 * reaches the router, whatever loss would have done to it. */
	for (int i = 0; i < SL_LINKEMU_MAX_FAULTS; i++) {
		struct efault *f = &m->f[i];

		if (!f->active || f->spec.kind != K_DROP ||
		    !(f->spec.dirs & (1 << d)) || f->left <= 0 || !tcp ||
		    !drop_matches(&f->spec, &p))
			continue;
		f->left--;
		m->sh->f[i].st.matched++;
		m->sh->f[i].st.dropped++;
		verdict(m, queue, pkt, NF_DROP);
		return;
	}
	for (int i = 0; i < SL_LINKEMU_MAX_FAULTS; i++) {
		struct efault *f = &m->f[i];

		if (!f->active || !(f->spec.dirs & (1 << d)))
			continue;
		switch (f->spec.kind) {
		case K_LOSS:
			if (rnd_unit(&f->rng) < f->spec.loss) {
				m->sh->f[i].st.dropped++;
				verdict(m, queue, pkt, NF_DROP);
				return;
			}
			break;
		case K_DELAY:
			delay += (int64_t)f->spec.delay_ms * SL_NS_PER_MS;
			if (f->spec.jitter_ms > 0)
				delay += (int64_t)((2 * rnd_unit(&f->rng) - 1) *
					f->spec.jitter_ms * SL_NS_PER_MS);
			m->sh->f[i].st.delayed++;
			break;
		case K_REORDER:
			reorder = i;
			break;
		}
	}
	h.due = now + (delay > 0 ? delay : 0);
	h.order = m->order++;
	if (reorder >= 0) {
		struct efault *f = &m->f[reorder];
		double pct = f->spec.reorder_pct / 100.0;

		if (m->hold[d].valid) {
			/* This one overtakes the held one: release it just
			 * after, and never before its own due time. */
			struct held old = m->hold[d].h;

			schedule(m, &h, now);
			if (old.due < h.due)
				old.due = h.due;
			old.order = m->order++;
			m->hold[d].valid = 0;
			m->sh->f[m->hold[d].fault].st.reordered++;
			schedule(m, &old, now);
			rearm(m);
			return;
		}
		/* Holding with probability p/(1-p) sends a share p of all
		 * segments ahead: each hold lets exactly one overtake. */
		if (rnd_unit(&f->rng) < pct / (1 - pct)) {
			int gap = f->spec.delay_ms > 0 ? f->spec.delay_ms :
							 REORDER_GAP_MS;

			m->hold[d].valid = 1;
			m->hold[d].fault = reorder;
			m->hold[d].h = h;
			m->hold[d].until = now + (int64_t)gap * SL_NS_PER_MS;
			rearm(m);
			return;
		}
	}
	schedule(m, &h, now);
	rearm(m);
}

static int queue_cb(const struct nlmsghdr *nlh, void *data)
{
	struct emu *m = data;
	struct nlattr *attr[NFQA_MAX + 1] = { NULL };
	struct nfqnl_msg_packet_hdr *ph;
	struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);
	const uint8_t *payload = NULL;
	size_t n = 0;

	if (nfq_nlmsg_parse(nlh, attr) < 0 || !attr[NFQA_PACKET_HDR])
		return MNL_CB_OK;
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	if (attr[NFQA_PAYLOAD]) {
		payload = mnl_attr_get_payload(attr[NFQA_PAYLOAD]);
		n = mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]);
	}
	on_packet(m, ntohs(g->res_id), ntohl(ph->packet_id), payload, n,
		  sl_now());
	return MNL_CB_OK;
}

static void nfq_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct emu *m = w->data;

	(void)loop;
	(void)revents;
	for (;;) {
		ssize_t n = recv(mnl_socket_get_fd(m->nl), m->buf,
				 sizeof(m->buf), MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ENOBUFS) {
			/* The kernel could not hand us a packet and dropped
			 * it: say so on every active fault's counters. */
			for (int i = 0; i < SL_LINKEMU_MAX_FAULTS; i++)
				if (m->f[i].active)
					m->sh->f[i].st.overruns++;
			continue;
		}
		if (n <= 0)
			return;
		mnl_cb_run(m->buf, n, 0, m->portid, queue_cb, m);
	}
}

static void tmr_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct emu *m = w->data;
	uint64_t ticks;
	int64_t now;

	(void)loop;
	(void)revents;
	if (read(m->tfd, &ticks, sizeof(ticks)) < 0 && errno == EAGAIN)
		return;
	m->armed = 0;
	now = sl_now();
	while (m->nheap && m->heap[0].due <= now) {
		struct held h = heap_pop(m);

		verdict(m, h.queue, h.pkt, NF_ACCEPT);
	}
	for (int d = 0; d < NDIRS; d++)
		if (m->hold[d].valid && m->hold[d].until <= now)
			release_hold(m, d, now);
	rearm(m);
}

/* Sends one NFQUEUE config message and waits for the kernel's answer. */
static int nfq_config(struct emu *m, struct nlmsghdr *nlh, const char *what,
		      char *why, size_t n)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	uint32_t seq = (uint32_t)sl_now();
	ssize_t got;

	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	if (mnl_socket_sendto(m->nl, nlh, nlh->nlmsg_len) < 0)
		goto fail;
	got = mnl_socket_recvfrom(m->nl, buf, sizeof(buf));
	if (got < 0 || mnl_cb_run(buf, got, seq, m->portid, NULL, NULL) < 0)
		goto fail;
	return 0;
fail:
	snprintf(why, n, "NFQUEUE %s in the router: %s", what,
		 strerror(errno));
	return -errno;
}

static int open_queues(struct emu *m, char *why, size_t n)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	int rcvbuf = 8 << 20;
	int ret;

	m->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!m->nl) {
		snprintf(why, n, "NFQUEUE: netlink socket: %s", strerror(errno));
		return -errno;
	}
	if (mnl_socket_bind(m->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		snprintf(why, n, "NFQUEUE: bind: %s", strerror(errno));
		goto fail;
	}
	m->portid = mnl_socket_get_portid(m->nl);
	/* Packets wait in this buffer while we sleep: make room for a
	 * whole queue's worth rather than lose them (ENOBUFS). */
	setsockopt(mnl_socket_get_fd(m->nl), SOL_SOCKET, SO_RCVBUFFORCE,
		   &rcvbuf, sizeof(rcvbuf));
	for (uint16_t q = 0; q < NDIRS; q++) {
		struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, q);

		nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_BIND);
		ret = nfq_config(m, nlh, "bind", why, n);
		if (ret < 0)
			goto fail;
		nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, q);
		nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, COPY_RANGE);
		nfq_nlmsg_cfg_put_qmaxlen(nlh, QMAXLEN);
		ret = nfq_config(m, nlh, "config", why, n);
		if (ret < 0)
			goto fail;
	}
	ev_io_init(&m->nfq_w, nfq_cb, mnl_socket_get_fd(m->nl), EV_READ);
	m->nfq_w.data = m;
	ev_io_start(m->loop, &m->nfq_w);
	return 0;
fail:
	mnl_socket_close(m->nl);
	m->nl = NULL;
	return ret;
}

static void release_all(struct emu *m)
{
	for (int d = 0; d < NDIRS; d++)
		if (m->hold[d].valid) {
			m->hold[d].valid = 0;
			verdict(m, m->hold[d].h.queue, m->hold[d].h.pkt,
				NF_ACCEPT);
		}
	while (m->nheap) {
		struct held h = heap_pop(m);

		verdict(m, h.queue, h.pkt, NF_ACCEPT);
	}
}

static void ctl_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct emu *m = w->data;
	struct reply r = { 0 };
	struct msg q;
	ssize_t n;

	(void)revents;
	n = recv(m->ctl, &q, sizeof(q), 0);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n != (ssize_t)sizeof(q)) {
		/* Every process of the run is gone: so are we. */
		if (m->nl)
			release_all(m);
		ev_break(loop, EVBREAK_ALL);
		return;
	}
	r.seq = q.seq;
	switch (q.op) {
	case OP_APPLY:
		if (q.id < 0 || q.id >= SL_LINKEMU_MAX_FAULTS) {
			r.ret = -EINVAL;
			break;
		}
		if (!m->nl) {
			r.ret = open_queues(m, r.why, sizeof(r.why));
			if (r.ret < 0)
				break;
		}
		m->f[q.id].spec = q.spec;
		m->f[q.id].rng = rnd_seed(q.spec.seed);
		m->f[q.id].left = q.spec.count;
		m->f[q.id].active = 1;
		m->sh->f[q.id].st.seed = q.spec.seed;
		break;
	case OP_LIFT:
		if (q.id < 0 || q.id >= SL_LINKEMU_MAX_FAULTS) {
			r.ret = -EINVAL;
			break;
		}
		m->f[q.id].active = 0;
		/* A segment held for reordering by this fault goes now;
		 * delayed ones keep the time they were given. */
		for (int d = 0; d < NDIRS; d++)
			if (m->hold[d].valid && m->hold[d].fault == q.id)
				release_hold(m, d, sl_now());
		rearm(m);
		break;
	case OP_STOP:
		if (m->nl)
			release_all(m);
		ev_break(loop, EVBREAK_ALL);
		break;
	default:
		r.ret = -EINVAL;
	}
	send(m->ctl, &r, sizeof(r), MSG_NOSIGNAL);
}

static void emulator_main(const struct sl_topology *t, int ctl, pid_t parent)
{
	static struct emu m;
	sigset_t none;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGINT, SIG_IGN);	/* the run decides when we stop */
	if (setns(t->host[SL_HOST_ROUTER].nsfd, CLONE_NEWNET) < 0)
		_exit(1);
	m.sh = le.sh;
	m.ctl = ctl;
	m.sh->fifo = emu_sched();
	/* The whole heap now: no allocation (and page fault) while a packet
	 * waits for its verdict. */
	m.cap = 2 * QMAXLEN + 64;
	m.heap = calloc(m.cap, sizeof(*m.heap));
	m.tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	m.loop = ev_loop_new(EVBACKEND_EPOLL | EVFLAG_NOENV);
	if (!m.heap || m.tfd < 0 || !m.loop)
		_exit(1);
	ev_io_init(&m.ctl_w, ctl_cb, ctl, EV_READ);
	m.ctl_w.data = &m;
	ev_io_start(m.loop, &m.ctl_w);
	ev_io_init(&m.tmr_w, tmr_cb, m.tfd, EV_READ);
	m.tmr_w.data = &m;
	ev_io_start(m.loop, &m.tmr_w);
	ev_run(m.loop, 0);
	if (m.nl)
		mnl_socket_close(m.nl);
	_exit(0);
}

/* ---- the caller's half ---- */

static void stop_undo(void *arg)
{
	(void)arg;
	sl_linkemu_stop();
}

int sl_linkemu_start(const struct sl_topology *t, struct sl_cleanup *c,
		     struct sl_err *e)
{
	pthread_mutexattr_t ma;
	struct shared *sh;
	int sv[2], ret;
	pid_t pid, self = getpid();

	/* Started twice for the same run (two callers that each read the
	 * contract in linkemu.h): one emulator serves both. */
	if (le.sh && le.owner == self && le.slot == t->slot)
		return 0;
	if (le.sh && le.owner == self)
		return sl_errf(e, EBUSY, "link emulator already started for "
			       "slot %d", le.slot);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return sl_errf(e, errno, "link emulator: map shared state");
	memset(sh, 0, sizeof(*sh));
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	/* A role killed in the middle of sl_fault() must not wedge the
	 * run's teardown. */
	pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&sh->mu, &ma);
	pthread_mutexattr_destroy(&ma);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		ret = sl_errf(e, errno, "link emulator: socketpair");
		goto out_unmap;
	}
	le.sh = sh;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		ret = sl_errf(e, errno, "link emulator: fork");
		goto out_close;
	}
	if (pid == 0) {
		close(sv[0]);
		emulator_main(t, sv[1], self);
	}
	close(sv[1]);
	le.ctl = sv[0];
	le.pid = pid;
	le.owner = self;
	le.slot = t->slot;
	le.t = t;
	if (c && sl_cleanup_push(c, stop_undo, NULL, "link emulator") < 0) {
		sl_linkemu_stop();
		return sl_errf(e, ENOSPC, "link emulator: cleanup stack full");
	}
	return 0;
out_close:
	close(sv[0]);
	close(sv[1]);
out_unmap:
	le.sh = NULL;
	munmap(sh, sizeof(*sh));
	return ret;
}

/* One request, one reply, under the shared lock (held by the caller). */
static int request(struct msg *q, struct reply *r)
{
	struct pollfd pfd = { .fd = le.ctl, .events = POLLIN };
	int64_t deadline = sl_now() + REPLY_TIMEOUT_MS * SL_NS_PER_MS;

	q->seq = ++le.sh->seq;
	if (send(le.ctl, q, sizeof(*q), MSG_NOSIGNAL) < 0) {
		snprintf(r->why, sizeof(r->why),
			 "link emulator: send request: %s", strerror(errno));
		return -errno;
	}
	for (;;) {
		int64_t left = deadline - sl_now();
		ssize_t n;
		int p;

		if (left <= 0) {
			snprintf(r->why, sizeof(r->why),
				 "link emulator: no answer within %d ms",
				 REPLY_TIMEOUT_MS);
			return -ETIMEDOUT;
		}
		p = poll(&pfd, 1, (int)(left / SL_NS_PER_MS) + 1);
		if (p < 0 && errno == EINTR)
			continue;
		if (p <= 0)
			continue;
		n = recv(le.ctl, r, sizeof(*r), MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n != (ssize_t)sizeof(*r)) {
			snprintf(r->why, sizeof(r->why),
				 "link emulator: the emulator process is gone");
			return -EPIPE;
		}
		/* A reply to a request whose sender was killed while it
		 * waited: not ours. */
		if (r->seq != q->seq)
			continue;
		return r->ret;
	}
}

/* The router's interface on the side of host h (client or server). */
static const char *router_side(const struct sl_topology *t, int h)
{
	const struct sl_host *r = &t->host[SL_HOST_ROUTER];
	const struct sl_iface *hi = &t->host[h].iface[0];

	for (int i = 0; i < r->nif; i++) {
		uint32_t mask = r->iface[i].prefixlen ?
			htonl(~0u << (32 - r->iface[i].prefixlen)) : 0;

		if ((r->iface[i].addr.s_addr & mask) == (hi->addr.s_addr & mask))
			return r->iface[i].name;
	}
	return NULL;
}

/* Runs argv inside the router's namespace from this thread, which goes
 * back where it was (a role's host, or the machine's namespace). */
static int router_exec(const struct sl_topology *t, const char *const argv[],
		       FILE *cmdlog, struct sl_err *e)
{
	const struct sl_host *r = &t->host[SL_HOST_ROUTER];
	char prefix[96];
	int back, ret;

	back = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (back < 0)
		return sl_errf(e, errno, "open own network namespace");
	if (setns(r->nsfd, CLONE_NEWNET) < 0) {
		ret = sl_errf(e, errno, "enter %s", r->netns);
		goto out;
	}
	ret = sl_exec(argv, e);
	if (setns(back, CLONE_NEWNET) < 0 && ret == 0)
		ret = sl_errf(e, errno, "return from %s", r->netns);
out:
	close(back);
	/* Only what worked goes to the log as a command: it is a script a
	 * learner may replay. */
	if (cmdlog && ret == 0) {
		snprintf(prefix, sizeof(prefix), "ip netns exec %s ", r->netns);
		sl_print_argv(cmdlog, prefix, argv);
		fflush(cmdlog);
	}
	return ret;
}

/* The NFQUEUE rule of direction d: append (add) or delete it. */
static int queue_rule(const struct sl_topology *t, int d, int add,
		      FILE *cmdlog, struct sl_err *e)
{
	const char *in = router_side(t, d == 0 ? SL_HOST_CLIENT :
						 SL_HOST_SERVER);
	char qnum[8];
	const char *argv[] = { "iptables", "-w", "-t", "mangle",
		add ? "-A" : "-D", "FORWARD", "-i", in, "-j", "NFQUEUE",
		"--queue-num", qnum, NULL };

	if (!in)
		return sl_errf(e, ENODEV, "no router interface faces the %s",
			       d == 0 ? "client" : "server");
	snprintf(qnum, sizeof(qnum), "%d", d);
	return router_exec(t, argv, cmdlog, e);
}

/* The netem qdisc on the router's egress for direction d, from every
 * active netem fault on it (one qdisc per interface holds them all).
 * Replaces it, or deletes it when none is left. */
static int netem_sync(const struct sl_topology *t, int d, FILE *cmdlog,
		      struct sl_err *e)
{
	const char *out = router_side(t, d == 0 ? SL_HOST_SERVER :
						  SL_HOST_CLIENT);
	char delay[24] = "", jitter[24] = "", loss[24] = "", reorder[24] = "";
	const char *argv[24] = { "tc", "qdisc", "replace", "dev", out, "root",
		"netem" };
	int n = 7, any = 0, dms = 0, jms = 0, rpct = 0, gap = 0;
	double keep = 1;

	if (!out)
		return sl_errf(e, ENODEV, "no router interface for direction %d",
			       d);
	for (int i = 0; i < SL_LINKEMU_MAX_FAULTS; i++) {
		const struct spec *s = &le.sh->f[i].spec;

		if (!le.sh->f[i].active || le.sh->f[i].backend != B_NETEM ||
		    !(s->dirs & (1 << d)))
			continue;
		any = 1;
		if (s->kind == K_DELAY) {
			dms += s->delay_ms;
			jms += s->jitter_ms;
		} else if (s->kind == K_LOSS) {
			keep *= 1 - s->loss;
		} else if (s->kind == K_REORDER) {
			rpct = s->reorder_pct;
			gap = s->delay_ms > 0 ? s->delay_ms : REORDER_GAP_MS;
		}
	}
	if (!any) {
		const char *del[] = { "tc", "qdisc", "del", "dev", out, "root",
			NULL };

		return router_exec(t, del, cmdlog, e);
	}
	/* netem reorders only among delayed packets. */
	if (rpct && dms < gap)
		dms = gap;
	snprintf(delay, sizeof(delay), "%dms", dms);
	argv[n++] = "delay";
	argv[n++] = delay;
	if (jms) {
		snprintf(jitter, sizeof(jitter), "%dms", jms);
		argv[n++] = jitter;
	}
	if (keep < 1) {
		snprintf(loss, sizeof(loss), "%g%%", 100 * (1 - keep));
		argv[n++] = "loss";
		argv[n++] = loss;
	}
	if (rpct) {
		snprintf(reorder, sizeof(reorder), "%d%%", rpct);
		argv[n++] = "reorder";
		argv[n++] = reorder;
	}
	argv[n] = NULL;
	return router_exec(t, argv, cmdlog, e);
}

static int dirs_of(const char *from, struct sl_err *e)
{
	if (!from)
		return 3;
	if (!strcmp(from, "client"))
		return 1;
	if (!strcmp(from, "server"))
		return 2;
	return sl_errf(e, EINVAL, "fault .from = \"%s\": the router sits "
		       "between \"client\" and \"server\" (or NULL: both)",
		       from);
}

static int check_fault(const struct sl_fault *f, struct spec *s,
		       struct sl_err *e)
{
	int k;

	memset(s, 0, sizeof(*s));
	if (!f->kind)
		return sl_errf(e, EINVAL, "fault without a kind");
	for (k = 0; k < 4; k++)
		if (!strcmp(f->kind, kind_name[k]))
			break;
	if (k == 4)
		return sl_errf(e, EINVAL, "fault kind \"%s\" is not the link "
			       "emulator's (delay, loss, reorder, drop)",
			       f->kind);
	s->kind = k;
	s->dirs = dirs_of(f->from, e);
	if (s->dirs < 0)
		return s->dirs;
	switch (k) {
	case K_DELAY:
		if (f->delay_ms <= 0 || f->jitter_ms < 0 ||
		    f->jitter_ms > f->delay_ms)
			return sl_errf(e, EINVAL, "delay: .delay_ms must be > 0 "
				       "and 0 <= .jitter_ms <= .delay_ms (got "
				       "%d, %d)", f->delay_ms, f->jitter_ms);
		break;
	case K_LOSS:
		if (!(f->loss > 0 && f->loss <= 1))
			return sl_errf(e, EINVAL, "loss: .loss must be in (0, 1] "
				       "(got %g)", f->loss);
		break;
	case K_REORDER:
		/* Each hold lets one segment overtake, so at most every
		 * other segment can be sent ahead. */
		if (f->reorder_pct <= 0 || f->reorder_pct > 50 ||
		    f->delay_ms < 0)
			return sl_errf(e, EINVAL, "reorder: .reorder_pct must be "
				       "in 1..50 (got %d)", f->reorder_pct);
		break;
	case K_DROP:
		if (f->count < 0)
			return sl_errf(e, EINVAL, "drop: .count must be >= 0");
		if ((f->flags && sl_flags_parse(f->flags, &s->need) < 0) ||
		    (f->not_flags &&
		     sl_flags_parse(f->not_flags, &s->forbid) < 0))
			return sl_errf(e, EINVAL, "drop: bad flags \"%s\" / "
				       "\"%s\" (tcpdump letters F S R P . U E W)",
				       f->flags ? f->flags : "",
				       f->not_flags ? f->not_flags : "");
		s->len = f->len;
		s->count = f->count ? f->count : 1;
		break;
	}
	s->delay_ms = f->delay_ms;
	s->jitter_ms = f->jitter_ms;
	s->loss = f->loss;
	s->reorder_pct = f->reorder_pct;
	return 0;
}

static uint32_t base_seed(void)
{
	const char *env = getenv("SOCKLAB_SEED");
	char *end;
	unsigned long v;

	if (!env || !*env)
		return 1;
	v = strtoul(env, &end, 0);
	return *end ? 1 : (uint32_t)v;
}

/* SOCKLAB_LINKEMU_BACKEND: "auto" (default: netem where it works),
 * "linkemu" or "netem" (force one, for tests and comparisons). */
static int wanted_backend(void)
{
	const char *env = getenv("SOCKLAB_LINKEMU_BACKEND");

	if (env && !strcmp(env, "linkemu"))
		return B_LINKEMU;
	if (env && !strcmp(env, "netem"))
		return B_NETEM;
	return B_NONE;
}

static void describe(FILE *f, int id, const struct spec *s, int backend,
		     const struct sl_fault *src)
{
	const char *dir = s->dirs == 3 ? "both directions" :
			  s->dirs == 1 ? "from client" : "from server";

	if (!f)
		return;
	fprintf(f, "# fault %d: %s %s", id, kind_name[s->kind], dir);
	switch (s->kind) {
	case K_DELAY:
		fprintf(f, ", %d ms", s->delay_ms);
		if (s->jitter_ms)
			fprintf(f, " +- %d ms", s->jitter_ms);
		break;
	case K_LOSS:
		fprintf(f, ", %g%% of packets, seed %" PRIu32, 100 * s->loss,
			s->seed);
		break;
	case K_REORDER:
		fprintf(f, ", %d%% of segments sent ahead, seed %" PRIu32,
			s->reorder_pct, s->seed);
		break;
	case K_DROP:
		fprintf(f, ", the next %d segment%s", s->count,
			s->count == 1 ? "" : "s");
		if (src->flags)
			fprintf(f, " with [%s]", src->flags);
		if (src->not_flags)
			fprintf(f, " without [%s]", src->not_flags);
		if (s->len)
			fprintf(f, " of length %ld", s->len - 1);
		break;
	}
	if (backend == B_NETEM)
		fprintf(f, "; backend netem (tc qdisc on the router's way "
			"out)\n");
	else
		fprintf(f, "; backend linkemu (socklab's link emulator: "
			"NFQUEUE %s in the router, timerfd, %s)\n"
			"# (the rule below hands the packets to that process; "
			"with no process reading the queue, the kernel drops "
			"them)\n",
			s->dirs == 3 ? "0 and 1" : s->dirs == 1 ? "0" : "1",
			le.sh->fifo ? "SCHED_FIFO" : "SCHED_OTHER");
}

static int attached(const struct sl_topology *t, struct sl_err *e)
{
	if (!le.sh || le.ctl < 0)
		return sl_errf(e, ENOTCONN, "the link emulator was not started "
			       "(run.c calls sl_linkemu_start() after the "
			       "topology is up)");
	if (t && t->slot != le.slot)
		return sl_errf(e, EINVAL, "the link emulator serves slot %d, "
			       "not %d", le.slot, t->slot);
	return 0;
}

int sl_linkemu_apply(const struct sl_topology *t, const struct sl_fault *f,
		     FILE *cmdlog, struct sl_err *e)
{
	struct spec s;
	struct msg q = { .op = OP_APPLY };
	struct reply r = { 0 };
	int ret, id = -1, want = wanted_backend(), backend;

	ret = attached(t, e);
	if (ret < 0)
		return ret;
	ret = check_fault(f, &s, e);
	if (ret < 0)
		return ret;
	sh_lock(le.sh);
	for (int i = 0; i < SL_LINKEMU_MAX_FAULTS && id < 0; i++)
		if (!le.sh->f[i].used)
			id = i;
	if (id < 0) {
		ret = sl_errf(e, ENOSPC, "more than %d faults in one run",
			      SL_LINKEMU_MAX_FAULTS);
		goto out;
	}
	s.seed = base_seed() + (uint32_t)id;
	le.sh->f[id].used = 1;
	le.sh->f[id].spec = s;
	memset(&le.sh->f[id].st, 0, sizeof(le.sh->f[id].st));
	le.sh->f[id].st.seed = s.seed;

	/* netem where it works, for what it can do; a one-shot drop needs
	 * a segment count, which only the emulator keeps. */
	backend = B_LINKEMU;
	if (s.kind != K_DROP && want != B_LINKEMU &&
	    (want == B_NETEM || !le.sh->netem_bad))
		backend = B_NETEM;
	if (backend == B_NETEM) {
		struct sl_err ne;
		char *text = NULL;
		size_t len = 0;
		FILE *buf = open_memstream(&text, &len);
		int done = 0;

		/* The fault's lines go to the log only if netem takes it. */
		le.sh->f[id].backend = B_NETEM;
		le.sh->f[id].active = 1;
		describe(buf, id, &s, B_NETEM, f);
		ret = 0;
		for (int d = 0; d < NDIRS && ret == 0; d++)
			if (s.dirs & (1 << d)) {
				ret = netem_sync(t, d, buf, &ne);
				done |= ret == 0 ? 1 << d : 0;
			}
		if (buf)
			fclose(buf);
		if (ret == 0 && cmdlog && text)
			fputs(text, cmdlog);
		free(text);
		if (ret == 0)
			goto out;
		le.sh->f[id].active = 0;
		for (int d = 0; d < NDIRS; d++)
			if (done & (1 << d))
				netem_sync(t, d, NULL, &(struct sl_err){ "" });
		if (want == B_NETEM) {
			ret = sl_errf(e, 0, "netem: %s", ne.msg);
			le.sh->f[id].used = 0;
			goto out;
		}
		le.sh->netem_bad = 1;
		snprintf(le.sh->netem_why, sizeof(le.sh->netem_why), "%s",
			 ne.msg);
		if (cmdlog)
			fprintf(cmdlog, "# fault %d: tc netem does not work "
				"here (%s): socklab's link emulator serves it\n",
				id, ne.msg);
	}
	le.sh->f[id].backend = B_LINKEMU;
	q.id = id;
	q.spec = s;
	ret = request(&q, &r);
	if (ret < 0) {
		sl_errf(e, 0, "%s", r.why[0] ? r.why : "link emulator refused");
		le.sh->f[id].used = 0;
		goto out;
	}
	/* After the first answer: the emulator has set its scheduling. */
	describe(cmdlog, id, &s, B_LINKEMU, f);
	le.sh->f[id].active = 1;
	for (int d = 0; d < NDIRS; d++) {
		if (!(s.dirs & (1 << d)) || le.sh->rules[d]++ > 0)
			continue;
		ret = queue_rule(t, d, 1, cmdlog, e);
		if (ret < 0) {
			le.sh->rules[d]--;
			break;
		}
	}
	if (ret < 0) {
		/* Take back what this fault did, so the run can go on
		 * as an ERROR without a half-applied fault. */
		for (int d = 0; d < NDIRS; d++)
			if ((s.dirs & (1 << d)) && le.sh->rules[d] > 0 &&
			    --le.sh->rules[d] == 0)
				queue_rule(t, d, 0, NULL, &(struct sl_err){ "" });
		q.op = OP_LIFT;
		request(&q, &r);
		le.sh->f[id].active = 0;
		le.sh->f[id].used = 0;
	}
out:
	if (cmdlog)
		fflush(cmdlog);
	pthread_mutex_unlock(&le.sh->mu);
	return ret < 0 ? ret : id;
}

int sl_linkemu_lift(const struct sl_topology *t, int id, struct sl_err *e)
{
	struct msg q = { .op = OP_LIFT, .id = id };
	struct reply r = { 0 };
	int ret = attached(t, e), dirs;

	if (ret < 0)
		return ret;
	if (id < 0 || id >= SL_LINKEMU_MAX_FAULTS)
		return sl_errf(e, EINVAL, "lift: no fault %d", id);
	sh_lock(le.sh);
	if (!le.sh->f[id].used || !le.sh->f[id].active) {
		ret = sl_errf(e, ENOENT, "lift: fault %d is not in force", id);
		goto out;
	}
	dirs = le.sh->f[id].spec.dirs;
	le.sh->f[id].active = 0;
	if (le.sh->f[id].backend == B_NETEM) {
		for (int d = 0; d < NDIRS; d++)
			if (dirs & (1 << d)) {
				int r2 = netem_sync(t, d, NULL, e);

				if (r2 < 0 && ret == 0)
					ret = r2;
			}
		goto out;
	}
	/* The rule goes first: packets already queued still get their
	 * verdict from the emulator, which keeps listening. */
	for (int d = 0; d < NDIRS; d++) {
		if (!(dirs & (1 << d)) || --le.sh->rules[d] > 0)
			continue;
		int r2 = queue_rule(t, d, 0, NULL, e);

		if (r2 < 0 && ret == 0)
			ret = r2;
	}
	if (request(&q, &r) < 0 && ret == 0)
		ret = sl_errf(e, 0, "%s", r.why);
out:
	pthread_mutex_unlock(&le.sh->mu);
	return ret;
}

const char *sl_linkemu_backend(int id)
{
	if (!le.sh || id < 0 || id >= SL_LINKEMU_MAX_FAULTS ||
	    !le.sh->f[id].used)
		return NULL;
	return backend_name[le.sh->f[id].backend];
}

int sl_linkemu_stats(int id, struct sl_linkemu_stats *st)
{
	if (!le.sh || id < 0 || id >= SL_LINKEMU_MAX_FAULTS ||
	    !le.sh->f[id].used)
		return -ENOENT;
	*st = le.sh->f[id].st;
	return 0;
}

pid_t sl__linkemu_pid(void)
{
	return le.sh ? le.pid : 0;
}

/* Waits up to ms for pid to end.  Returns 1 when it has been reaped. */
static int reap_within(pid_t pid, int ms)
{
	int64_t deadline = sl_now() + (int64_t)ms * SL_NS_PER_MS;
	struct timespec tick = { 0, SL_NS_PER_MS };

	do {
		pid_t p = waitpid(pid, NULL, WNOHANG);

		if (p == pid || (p < 0 && errno == ECHILD))
			return 1;
		nanosleep(&tick, NULL);
	} while (sl_now() < deadline);
	return 0;
}

void sl_linkemu_stop(void)
{
	struct msg q = { .op = OP_STOP };
	struct sl_err e;
	struct reply r;

	if (!le.sh)
		return;
	if (le.owner != getpid()) {
		/* A role's inherited copy: drop it, the run stops the
		 * emulator. */
		close(le.ctl);
		le.ctl = -1;
		le.sh = NULL;
		return;
	}
	sh_lock(le.sh);
	/* Rules and qdiscs first, so that a kept topology (socklab run
	 * --keep) is left with a working path, not with a queue that
	 * nobody reads. */
	for (int i = 0; i < SL_LINKEMU_MAX_FAULTS; i++) {
		if (!le.sh->f[i].active)
			continue;
		le.sh->f[i].active = 0;
		for (int d = 0; d < NDIRS; d++) {
			if (!(le.sh->f[i].spec.dirs & (1 << d)))
				continue;
			if (le.sh->f[i].backend == B_NETEM)
				netem_sync(le.t, d, NULL, &e);
			else if (--le.sh->rules[d] == 0)
				queue_rule(le.t, d, 0, NULL, &e);
		}
	}
	request(&q, &r);
	pthread_mutex_unlock(&le.sh->mu);
	close(le.ctl);
	le.ctl = -1;
	if (!reap_within(le.pid, STOP_TIMEOUT_MS)) {
		kill(le.pid, SIGKILL);
		while (waitpid(le.pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	munmap(le.sh, sizeof(*le.sh));
	le.sh = NULL;
	le.pid = 0;
	le.owner = 0;
}

/* ---- the timer alone, for the doctor ---- */

struct tmeasure {
	struct ev_loop *loop;
	ev_io w;
	int tfd;
	int64_t due;
	int64_t late;
};

static void tmeasure_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct tmeasure *tm = w->data;
	uint64_t ticks;

	(void)revents;
	if (read(tm->tfd, &ticks, sizeof(ticks)) < 0)
		return;
	tm->late = sl_now() - tm->due;
	ev_break(loop, EVBREAK_ONE);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* The child: arms n timers one after the other, 0.2 to 5 ms ahead (the
 * gaps a delay line sees between packets), and writes the sorted
 * lateness values (ns) and its scheduling to fd. */
static void tmeasure_main(int n, int fd)
{
	struct tmeasure tm = { 0 };
	uint64_t rng = rnd_seed(1);
	int64_t *late = calloc(n, sizeof(*late));
	int fifo = emu_sched();

	tm.tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	tm.loop = ev_loop_new(EVBACKEND_EPOLL | EVFLAG_NOENV);
	if (!late || tm.tfd < 0 || !tm.loop)
		_exit(1);
	ev_io_init(&tm.w, tmeasure_cb, tm.tfd, EV_READ);
	tm.w.data = &tm;
	ev_io_start(tm.loop, &tm.w);
	for (int i = 0; i < n; i++) {
		tm.due = sl_now() + 200000 + (int64_t)(rnd_unit(&rng) * 4800000);
		arm_timer(tm.tfd, tm.due);
		ev_run(tm.loop, 0);
		late[i] = tm.late;
	}
	qsort(late, n, sizeof(*late), cmp_i64);
	if (write(fd, &fifo, sizeof(fifo)) < 0 ||
	    write(fd, late, n * sizeof(*late)) < 0)
		_exit(1);
	_exit(0);
}

int sl_linkemu_measure_timer(int n, struct sl_linkemu_timer_error *out,
			     struct sl_err *e)
{
	int64_t *late;
	int pfd[2], status, ret = 0;
	size_t want = sizeof(int) + n * sizeof(int64_t), got = 0;
	char *buf;
	pid_t pid;

	if (n < 1)
		return sl_errf(e, EINVAL, "timer measure: n = %d", n);
	buf = malloc(want);
	if (!buf)
		return sl_errf(e, ENOMEM, "timer measure");
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		free(buf);
		return sl_errf(e, errno, "timer measure: pipe");
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		ret = sl_errf(e, errno, "timer measure: fork");
		close(pfd[0]);
		close(pfd[1]);
		free(buf);
		return ret;
	}
	if (pid == 0) {
		close(pfd[0]);
		tmeasure_main(n, pfd[1]);
	}
	close(pfd[1]);
	while (got < want) {
		ssize_t r = read(pfd[0], buf + got, want - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += r;
	}
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (got < want) {
		free(buf);
		return sl_errf(e, EIO, "timer measure: the child gave %zu of "
			       "%zu bytes", got, want);
	}
	late = malloc(n * sizeof(*late));
	if (!late) {
		free(buf);
		return sl_errf(e, ENOMEM, "timer measure");
	}
	memcpy(&out->fifo, buf, sizeof(int));
	memcpy(late, buf + sizeof(int), n * sizeof(*late));
	out->n = n;
	out->median_us = late[n / 2] / 1e3;
	out->p99_us = late[(n * 99) / 100] / 1e3;
	out->max_us = late[n - 1] / 1e3;
	free(late);
	free(buf);
	return 0;
}
