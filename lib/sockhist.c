/* sockhist.c: each socket's life, state by state (sockhist.h). */
#include <errno.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipaddr.h"
#include "sockhist.h"

/* A socket as the builder follows it through the timeline. */
struct cur {
	int host;
	struct in6_addr laddr, raddr;
	uint16_t lport, rport;
	int kernel;	   /* its states come from the kernel's changes */
	int open;	   /* index of its open span, or -1 */
	int pending_close; /* a kernel change to CLOSE that a mini-socket
				 * may follow: its timeline index, or -1 */
};

struct build {
	const struct sl_timeline *tl;
	struct sl_spans *sp;
	struct cur *c;
	int nc, ccap;
	/* Per host: when it rebooted (0: never), and the kernel's socket
	 * numbers seen before that, which belong to its old namespace. */
	int64_t reboot[SL_TL_MAX_HOSTS];
	uint32_t *old_sock;
	int nold, oldcap;
};

int sl_span_state_sampled(int state)
{
	return state == TCP_TIME_WAIT;
}

static int is_mini(const struct sl_sock *s)
{
	return s->timer == SL_TIMER_TIMEWAIT;
}

static struct cur *find_cur(struct build *b, int host, struct in6_addr la,
			    uint16_t lp, struct in6_addr ra, uint16_t rp,
			    int create)
{
	struct cur *c;

	for (int i = 0; i < b->nc; i++) {
		c = &b->c[i];
		if (c->host == host && sl_ip_eq(&c->laddr, &la) &&
		    c->lport == lp && sl_ip_eq(&c->raddr, &ra) &&
		    c->rport == rp)
			return c;
	}
	if (!create)
		return NULL;
	if (b->nc == b->ccap) {
		int cap = b->ccap ? b->ccap * 2 : 32;
		struct cur *n = realloc(b->c, cap * sizeof(*n));

		if (!n)
			return NULL;
		b->c = n;
		b->ccap = cap;
	}
	c = &b->c[b->nc++];
	memset(c, 0, sizeof(*c));
	c->host = host;
	c->laddr = la;
	c->lport = lp;
	c->raddr = ra;
	c->rport = rp;
	c->open = -1;
	c->pending_close = -1;
	return c;
}

static struct cur *cur_of_sock(struct build *b, const struct sl_event *e,
			       int create)
{
	return find_cur(b, e->host, e->sock.laddr, e->sock.lport, e->sock.raddr,
			e->sock.rport, create);
}

static struct cur *cur_of_kev(struct build *b, const struct sl_event *e,
			      int create)
{
	return find_cur(b, e->host, e->k.laddr, e->k.lport, e->k.raddr,
			e->k.rport, create);
}

static int is_set_state(const struct sl_event *e)
{
	return e->kind == SL_EV_KERNEL && e->k.type == SL_KEV_SET_STATE &&
	       e->host >= 0 && e->host < SL_TL_MAX_HOSTS;
}

/* Opens a span for c: -ENOMEM or its index. */
static int open_span(struct build *b, struct cur *c, int state, int mini,
		     int64_t t, int ev, int kernel)
{
	struct sl_spans *sp = b->sp;
	struct sl_span *s;

	if (sp->n == sp->cap) {
		int cap = sp->cap ? sp->cap * 2 : 32;
		struct sl_span *n = realloc(sp->s, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		sp->s = n;
		sp->cap = cap;
	}
	s = &sp->s[sp->n];
	memset(s, 0, sizeof(*s));
	s->host = c->host;
	s->laddr = c->laddr;
	s->raddr = c->raddr;
	s->lport = c->lport;
	s->rport = c->rport;
	s->state = state;
	s->mini = mini;
	s->from = t;
	s->to = SL_SPAN_OPEN;
	s->from_ev = ev;
	s->to_ev = -1;
	s->kernel_from = kernel;
	s->first_sample = kernel ? -1 : ev;
	c->open = sp->n;
	return sp->n++;
}

static void close_span(struct build *b, struct cur *c, int64_t t, int ev,
		       int kernel, int gone)
{
	struct sl_span *s;

	if (c->open < 0)
		return;
	s = &b->sp->s[c->open];
	s->to = t;
	s->to_ev = ev;
	s->kernel_to = kernel;
	s->gone = gone;
	c->open = -1;
}

/* A mini-socket sample: it takes the place of the full socket at the
 * kernel's change to CLOSE that came before it, or starts at the sample
 * itself when there was none.  An orphan's FIN-WAIT-2 that becomes a
 * mini-socket stays one span: the state did not change, only its keeper. */
static int mini_sample(struct build *b, struct cur *c, int i)
{
	const struct sl_event *e = &b->tl->ev[i];
	struct sl_span *o = c->open >= 0 ? &b->sp->s[c->open] : NULL;
	int ret;

	if (o && o->mini && o->state == e->sock.state)
		return 0;
	if (o && c->kernel && o->state == e->sock.state) {
		/* The kernel hashes the mini-socket before it reports the
		 * full one's change to CLOSE (tcp_time_wait():
		 * inet_twsk_hashdance(), then tcp_done()), and on a slow
		 * machine a sample falls between the two: the same state,
		 * its keeper changed.  kernel_event() lets that CLOSE
		 * pass. */
		o->mini = 1;
		if (o->first_sample < 0)
			o->first_sample = i;
		return 0;
	}
	if (o) {
		/* Another state of the mini-socket (FIN-WAIT-2 to
		 * TIME-WAIT), or a full socket's state the kernel has not
		 * reported (no kernel events for it): sampled. */
		close_span(b, c, e->t, i, 0, 0);
	} else if (c->pending_close >= 0) {
		const struct sl_event *k = &b->tl->ev[c->pending_close];

		for (int j = b->sp->n - 1; j >= 0; j--) {
			struct sl_span *p = &b->sp->s[j];

			if (p->host != c->host || p->lport != c->lport ||
			    p->rport != c->rport ||
			    !sl_ip_eq(&p->laddr, &c->laddr) ||
			    !sl_ip_eq(&p->raddr, &c->raddr))
				continue;
			if (p->to != k->t)
				break;
			p->gone = 0; /* it did not go: it became this */
			if (p->state == e->sock.state) {
				p->to = SL_SPAN_OPEN;
				p->to_ev = -1;
				p->kernel_to = 0;
				p->mini = 1;
				if (p->first_sample < 0)
					p->first_sample = i;
				c->open = j;
				c->pending_close = -1;
				return 0;
			}
			break;
		}
		ret = open_span(b, c, e->sock.state, 1, k->t, c->pending_close,
				1);
		c->pending_close = -1;
		if (ret < 0)
			return ret;
		b->sp->s[ret].first_sample = i;
		return 0;
	}
	ret = open_span(b, c, e->sock.state, 1, e->t, i, 0);
	return ret < 0 ? ret : 0;
}

static int is_old_sock(const struct build *b, const struct sl_event *e)
{
	if (!b->reboot[e->host] || e->t < b->reboot[e->host])
		return 0;
	for (int i = 0; i < b->nold; i++)
		if (b->old_sock[i] == ((uint32_t)e->host << 24 | e->k.sock))
			return 1;
	return 0;
}

static int kernel_event(struct build *b, int i)
{
	const struct sl_event *e = &b->tl->ev[i];
	struct cur *c;
	int ret;

	if (e->k.sock && is_old_sock(b, e))
		return 0;
	c = cur_of_kev(b, e, 0);
	if (!c || !c->kernel)
		return 0;
	/* A mini-socket reports no changes: a CLOSE while one is open is
	 * its full socket's, reported after the hand-over was sampled
	 * (mini_sample()), and ends nothing. */
	if (e->k.state == TCP_CLOSE && c->open >= 0 && b->sp->s[c->open].mini)
		return 0;
	c->pending_close = -1;
	close_span(b, c, e->t, i, 1, e->k.state == TCP_CLOSE);
	if (e->k.state == TCP_CLOSE) {
		c->pending_close = i;
		return 0;
	}
	ret = open_span(b, c, e->k.state, 0, e->t, i, 1);
	return ret < 0 ? ret : 0;
}

static int sample_event(struct build *b, int i)
{
	const struct sl_event *e = &b->tl->ev[i];
	struct cur *c = cur_of_sock(b, e, 0);
	struct sl_span *o;
	int ret;

	if (!c)
		return 0;
	o = c->open >= 0 ? &b->sp->s[c->open] : NULL;
	if (e->kind == SL_EV_GONE) {
		/* The kernel says when a full socket goes; only the end of
		 * a mini-socket, or any end without the kernel, is the
		 * sample's to tell. */
		if (o && (!c->kernel || o->mini))
			close_span(b, c, e->t, i, 0, 1);
		c->pending_close = -1;
		return 0;
	}
	if (is_mini(&e->sock))
		return mini_sample(b, c, i);
	if (c->kernel) {
		/* A sample of a full socket: its timers and queues, never
		 * its state's timing. */
		if (o && o->state == e->sock.state && o->first_sample < 0)
			o->first_sample = i;
		return 0;
	}
	if (o && o->state == e->sock.state)
		return 0;
	close_span(b, c, e->t, i, 0, 0);
	ret = open_span(b, c, e->sock.state, 0, e->t, i, 0);
	return ret < 0 ? ret : 0;
}

/* A reboot ends every span of the host's old namespace. */
static void reboot_event(struct build *b, int i)
{
	const struct sl_event *e = &b->tl->ev[i];

	for (int j = 0; j < b->nc; j++) {
		if (b->c[j].host != e->host)
			continue;
		close_span(b, &b->c[j], e->t, i, 0, 1);
		b->c[j].pending_close = -1;
	}
}

static int is_reboot(const struct sl_event *e)
{
	return e->kind == SL_EV_NOTE && strcmp(e->name, "reboot") == 0 &&
	       e->host >= 0 && e->host < SL_TL_MAX_HOSTS;
}

/* The kernel's socket numbers each rebooted host had before its reboot. */
static int collect_old(struct build *b)
{
	const struct sl_timeline *tl = b->tl;

	for (int i = 0; i < tl->n; i++)
		if (is_reboot(&tl->ev[i]) && !b->reboot[tl->ev[i].host])
			b->reboot[tl->ev[i].host] = tl->ev[i].t;
	for (int i = 0; i < tl->n; i++) {
		const struct sl_event *e = &tl->ev[i];

		if (!is_set_state(e) || !e->k.sock || !b->reboot[e->host] ||
		    e->t >= b->reboot[e->host])
			continue;
		if (b->nold == b->oldcap) {
			int cap = b->oldcap ? b->oldcap * 2 : 32;
			uint32_t *n = realloc(b->old_sock, cap * sizeof(*n));

			if (!n)
				return -ENOMEM;
			b->old_sock = n;
			b->oldcap = cap;
		}
		b->old_sock[b->nold++] = (uint32_t)e->host << 24 | e->k.sock;
	}
	return 0;
}

int sl_spans_build(const struct sl_timeline *tl, struct sl_spans *sp)
{
	struct build b = { .tl = tl, .sp = sp };
	int ret = 0;

	memset(sp, 0, sizeof(*sp));
	sp->kernel = (tl->kernel & (1u << SL_KEV_SET_STATE)) &&
		     !tl->kernel_lost;
	if (!(tl->kernel & (1u << SL_KEV_SET_STATE)))
		snprintf(
			sp->kernel_why, sizeof(sp->kernel_why), "%s",
			tl->kernel_why[0] ?
				tl->kernel_why :
				"the kernel's state changes were not recorded");
	else if (tl->kernel_lost)
		snprintf(sp->kernel_why, sizeof(sp->kernel_why),
			 "the trace lost %d kernel events", tl->kernel_lost);

	/* Every socket first, and which of them the kernel reported. */
	for (int i = 0; i < tl->n && ret == 0; i++) {
		const struct sl_event *e = &tl->ev[i];
		struct cur *c = NULL;

		if (e->kind == SL_EV_STATE || e->kind == SL_EV_GONE)
			c = cur_of_sock(&b, e, 1);
		else if (sp->kernel && is_set_state(e))
			c = cur_of_kev(&b, e, 1);
		else
			continue;
		if (!c)
			ret = -ENOMEM;
		else if (e->kind == SL_EV_KERNEL)
			c->kernel = 1;
	}
	if (ret == 0 && sp->kernel)
		ret = collect_old(&b);
	for (int i = 0; i < tl->n && ret == 0; i++) {
		const struct sl_event *e = &tl->ev[i];

		if (e->kind == SL_EV_STATE || e->kind == SL_EV_GONE)
			ret = sample_event(&b, i);
		else if (sp->kernel && is_set_state(e))
			ret = kernel_event(&b, i);
		else if (is_reboot(e))
			reboot_event(&b, i);
	}
	free(b.c);
	free(b.old_sock);
	if (ret < 0)
		sl_spans_free(sp);
	return ret;
}

void sl_spans_free(struct sl_spans *sp)
{
	free(sp->s);
	sp->s = NULL;
	sp->n = sp->cap = 0;
}
