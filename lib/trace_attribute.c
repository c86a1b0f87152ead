/* trace_attribute.c: which kernel events are this run's
 * (trace_attribute.h). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "timeline.h"
#include "trace_attribute.h"

/* A socket of this run: one incarnation of one kernel pointer. */
struct sock_life {
	uint64_t sk;
	int64_t first, closed; /* closed: INT64_MAX while open */
	int host;
	struct in6_addr laddr, raddr;
	uint16_t lport, rport;
	uint32_t id;
};

/* The run's records on their way to the timeline. */
struct attribution {
	struct sl_trace_rec *r;
	int n;
	struct sock_life *life;
	int nlife;
	char *paired; /* RSTs given their drop */
};

void sl_trace_rec_event(const struct sl_trace_rec *x, struct sl_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->kind = SL_EV_KERNEL;
	ev->t = ev->t_start = x->t;
	ev->host = x->host;
	ev->from = ev->to = -1;
	ev->k = x->k;
}

/* A drop whose reason is NOT_SPECIFIED says nothing a learner can use:
 * tcp_rcv_state_process() frees every segment it does not queue in the
 * closing states (a pure ACK in CLOSE_WAIT or LAST_ACK, say) through its
 * "discard" label with that reason, so most of them are ordinary ACKs that
 * were read and done with.  They are left off the timeline. */
static int drop_says_nothing(const struct sl_kevent *k)
{
	return !strcmp(k->reason, "NOT_SPECIFIED");
}

static int cmp_rec(const void *a, const void *b)
{
	const struct sl_trace_rec *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return 0;
}

/* A state change out of CLOSE, or a listener's child being born (it is
 * cloned in LISTEN and set to SYN_RECV), starts a new socket even at an
 * address we saw before: the old one was freed in between. */
static int starts_socket(const struct sl_kevent *k)
{
	return k->type == SL_KEV_SET_STATE &&
	       (k->oldstate == 7 /* CLOSE */ ||
		(k->oldstate == 10 /* LISTEN */ &&
		 k->state == 3 /* SYN_RECV */));
}

/* This run's sockets, each with the span in which its address was
 * certainly its own: from its first event to its change to CLOSE (every
 * TCP socket passes through CLOSE before it is freed).  Each event gets
 * its socket's number. */
static void number_sockets(struct attribution *a)
{
	uint32_t next_id = 1;

	for (int i = 0; i < a->n; i++) {
		struct sl_trace_rec *x = &a->r[i];
		struct sock_life *l = NULL;

		if (x->host < 0 || !x->sk)
			continue;
		for (int j = a->nlife - 1; j >= 0 && !l; j--)
			if (a->life[j].sk == x->sk)
				l = &a->life[j];
		if (!l || (starts_socket(&x->k) && l->closed != INT64_MAX)) {
			l = &a->life[a->nlife++];
			l->sk = x->sk;
			l->first = x->t;
			l->closed = INT64_MAX;
			l->host = x->host;
			l->id = next_id++;
		}
		/* The latest addresses: a connecting socket gets its port
		 * only after its first state change. */
		l->laddr = x->k.laddr;
		l->raddr = x->k.raddr;
		l->lport = x->k.lport;
		l->rport = x->k.rport;
		if (x->k.type == SL_KEV_SET_STATE && x->k.state == 7)
			l->closed = x->t;
		x->k.sock = l->id;
	}
}

/* (a) The socket that dropped record i's packet was ours then. */
static const struct sock_life *dropped_by_ours(const struct attribution *a,
					       int i)
{
	const struct sl_trace_rec *x = &a->r[i];

	for (int j = 0; x->sk && j < a->nlife; j++)
		if (a->life[j].sk == x->sk && x->t >= a->life[j].first &&
		    x->t <= a->life[j].closed)
			return &a->life[j];
	return NULL;
}

/* (b) Record i's packet is the one a RST of ours answered: the first free
 * of that packet on that CPU after the RST.  Only the first: the memory is
 * handed out again at once (the RST that goes back is often the next skb
 * there), and a later free of it is another packet. */
static const struct sl_trace_rec *answered_by_ours(struct attribution *a, int i)
{
	const struct sl_trace_rec *x = &a->r[i], *rst = NULL;

	for (int j = i - 1;
	     !rst && j >= 0 && x->t - a->r[j].t <= SL_KEV_PAIR_NS; j--) {
		const struct sl_trace_rec *y = &a->r[j];

		if (y->k.type == SL_KEV_SEND_RESET && y->host >= 0 && y->skb &&
		    y->skb == x->skb && y->cpu == x->cpu) {
			if (!a->paired[j])
				rst = y;
			a->paired[j] = 1;
		}
	}
	return rst;
}

/* Gives drop i the host and endpoints of whatever proves it ours.
 * Returns 1 when it belongs on the timeline. */
static int attribute_drop(struct attribution *a, int i)
{
	struct sl_trace_rec *x = &a->r[i];
	const struct sock_life *own = dropped_by_ours(a, i);
	const struct sl_trace_rec *rst = own ? NULL : answered_by_ours(a, i);

	if (own) {
		x->host = own->host;
		x->k.laddr = own->laddr;
		x->k.raddr = own->raddr;
		x->k.lport = own->lport;
		x->k.rport = own->rport;
		x->k.sock = own->id;
	} else if (rst) {
		x->host = rst->host;
		x->k.laddr = rst->k.laddr;
		x->k.raddr = rst->k.raddr;
		x->k.lport = rst->k.lport;
		x->k.rport = rst->k.rport;
		x->k.sock = rst->k.sock;
	} else {
		return 0; /* not provably ours */
	}
	return !drop_says_nothing(&x->k);
}

int sl_trace_attribute(struct sl_trace_rec *r, int n, struct sl_timeline *tl)
{
	struct attribution a = {
		.r = r,
		.n = n,
		.life = calloc(n ? n : 1, sizeof(struct sock_life)),
		.paired = calloc(n ? n : 1, 1),
	};
	int ret = 0;

	if (!a.life || !a.paired) {
		ret = -ENOMEM;
		goto out;
	}
	/* Pages of different CPUs arrive in any order: by time first. */
	qsort(r, n, sizeof(*r), cmp_rec);
	number_sockets(&a);
	for (int i = 0; i < n && ret == 0; i++) {
		struct sl_event ev;

		if (r[i].k.type == SL_KEV_DROP && !attribute_drop(&a, i))
			continue;
		if (r[i].host < 0)
			continue;
		sl_trace_rec_event(&r[i], &ev);
		ret = sl_timeline_add(tl, &ev);
	}
out:
	free(a.life);
	free(a.paired);
	return ret;
}
