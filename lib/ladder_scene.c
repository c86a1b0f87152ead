/* ladder_scene.c: a ladder picture's content and vertical layout, from a
 * timeline (ladder_scene.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipaddr.h"
#include "clock.h"
#include "kevent.h"
#include "ladder.h"
#include "ladder_scene.h"
#include "topology.h"

/* Picture units (SVG pixels).  An instant takes at least a text line; a
 * gap adds room with its logarithm, 1 ms about 6, 200 ms about 46; past a
 * second it is a break of fixed height that prints the gap's length. */
#define ROW 15.0
#define PER_DECADE 20.0
#define BREAK_NS SL_NS_PER_SEC
#define BREAK_ROOM 34.0
#define TOP 60.0
#define BOTTOM 30.0

/* RFC 9293's names, by the kernel's state numbers (TCP_NEW_SYN_RECV, the
 * request socket, is a SYN-RECEIVED too). */
static const char *rfc_state(int state)
{
	static const char *const names[] = {
		[1] = "ESTABLISHED", [2] = "SYN-SENT",	 [3] = "SYN-RECEIVED",
		[4] = "FIN-WAIT-1",  [5] = "FIN-WAIT-2", [6] = "TIME-WAIT",
		[7] = "CLOSED",	     [8] = "CLOSE-WAIT", [9] = "LAST-ACK",
		[10] = "LISTEN",     [11] = "CLOSING",	 [12] = "SYN-RECEIVED",
	};

	return state > 0 && state <= 12 ? names[state] : NULL;
}

static int lane_of(const struct sl_ladder *l, int host)
{
	for (int i = 0; i < l->nlanes; i++)
		if (l->lane_host[i] == host)
			return i;
	return -1;
}

static int add_arrow(struct sl_ladder *l, const struct sl_ladder_arrow *a)
{
	void *p = realloc(l->arrow, (l->narrows + 1) * sizeof(*l->arrow));

	if (!p)
		return -ENOMEM;
	l->arrow = p;
	l->arrow[l->narrows++] = *a;
	return 0;
}

static int add_note(struct sl_ladder *l, int lane, int64_t t,
		    enum sl_ladder_note_kind kind, const char *text)
{
	void *p = realloc(l->note, (l->nnotes + 1) * sizeof(*l->note));

	if (!p)
		return -ENOMEM;
	l->note = p;
	l->note[l->nnotes] =
		(struct sl_ladder_note){ .lane = lane, .t = t, .kind = kind };
	snprintf(l->note[l->nnotes].text, SL_LADDER_TEXT, "%s", text);
	l->nnotes++;
	return 0;
}

/* Was sent segment i sent before, byte for byte the same sequence range,
 * by the same sender on the same connection? */
static int repeats(const struct sl_timeline *tl, int i)
{
	const struct sl_packet *k = &tl->ev[i].pkt;

	if (!k->len && !(k->flags & (SL_TH_SYN | SL_TH_FIN)))
		return 0;
	for (int j = i - 1; j >= 0; j--) {
		const struct sl_event *q = &tl->ev[j];

		if (sl_timeline_is_sent(q) && q->from == tl->ev[i].from &&
		    q->pkt.sport == k->sport && q->pkt.dport == k->dport &&
		    sl_ip_eq(&q->pkt.saddr, &k->saddr) &&
		    q->pkt.seq == k->seq && q->pkt.len == k->len &&
		    (q->pkt.flags & (SL_TH_SYN | SL_TH_FIN)) ==
			    (k->flags & (SL_TH_SYN | SL_TH_FIN)))
			return 1;
	}
	return 0;
}

/* The router is drawn when the path did something: a segment that never
 * arrived, or a fault a role or SETUP applied. */
static int router_matters(const struct sl_timeline *tl)
{
	for (int i = 0; i < tl->n; i++) {
		const struct sl_event *e = &tl->ev[i];

		if (e->kind == SL_EV_MARK && !strncmp(e->name, "fault ", 6))
			return 1;
		if (sl_timeline_is_sent(e) && sl_timeline_delivered(tl, i) < 0)
			return 1;
	}
	return 0;
}

/* A socket's state, shown once per change: the kernel's changes where it
 * reported them, and what only samples show (TIME-WAIT, the kernel does
 * not announce; every state when tracefs was missing). */
struct seen {
	int host, lport, rport, state;
};

static int state_note(struct sl_ladder *l, struct seen *seen, int *nseen,
		      int host, int lport, int rport, int state, int64_t t)
{
	const char *name = rfc_state(state);
	int lane = lane_of(l, host), k;

	if (!name || lane < 0 || lane == l->router_lane)
		return 0;
	for (k = 0; k < *nseen; k++)
		if (seen[k].host == host && seen[k].lport == lport &&
		    seen[k].rport == rport)
			break;
	if (k < *nseen && seen[k].state == state)
		return 0;
	if (k == *nseen) {
		if (*nseen == 64)
			return 0; /* a crowd of sockets: the first 64 tell */
		(*nseen)++;
	}
	seen[k] = (struct seen){ host, lport, rport, state };
	return add_note(l, lane, t, SL_NOTE_STATE, name);
}

static int take_event(struct sl_ladder *l, int i, struct seen *seen, int *nseen)
{
	const struct sl_timeline *tl = l->tl;
	const struct sl_event *e = &tl->ev[i];
	char text[SL_LADDER_TEXT];
	int lane = lane_of(l, e->host);

	switch (e->kind) {
	case SL_EV_PACKET: {
		struct sl_ladder_arrow a = { .t0 = e->t };
		int got;

		if (!sl_timeline_is_sent(e))
			return 0;
		a.from = lane_of(l, e->from);
		a.to = lane_of(l, e->to);
		if (a.from < 0 || a.to < 0 || a.from == a.to)
			return 0;
		got = sl_timeline_delivered(tl, i);
		a.lost = got < 0;
		a.t1 = got < 0 ? e->t : tl->ev[got].t;
		a.injected = !strcmp(e->name, "injected");
		a.retransmitted = repeats(tl, i);
		sl_ladder_label(tl, i, a.label, sizeof(a.label));
		return add_arrow(l, &a);
	}
	case SL_EV_CALL:
	case SL_EV_MARK:
		if (lane < 0)
			return 0;
		if (e->kind == SL_EV_MARK && !strncmp(e->name, "fault ", 6))
			return add_note(
				l, l->router_lane >= 0 ? l->router_lane : lane,
				e->t, SL_NOTE_FAULT, e->name);
		sl_ladder_note_text(e, text, sizeof(text));
		return add_note(l, lane, e->t,
				e->kind == SL_EV_CALL ? SL_NOTE_CALL :
							SL_NOTE_MARK,
				text);
	case SL_EV_KERNEL:
		if (e->k.type != SL_KEV_SET_STATE)
			return 0;
		return state_note(l, seen, nseen, e->host, e->k.lport,
				  e->k.rport, e->k.state, e->t);
	case SL_EV_STATE:
		/* The kernel reports no change into TIME-WAIT (the socket
		 * becomes a mini-socket); without tracefs, samples are all
		 * there is. */
		if (tl->kernel && e->sock.state != 6)
			return 0;
		return state_note(l, seen, nseen, e->host, e->sock.lport,
				  e->sock.rport, e->sock.state, e->t);
	default:
		return 0;
	}
}

static int cmp_t(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* The vertical layout: every instant in order, each gap given room. */
static int lay_out(struct sl_ladder *l)
{
	int n = 2 * l->narrows + l->nnotes, m = 0;
	double y = TOP;

	l->t = malloc((n ? n : 1) * sizeof(*l->t));
	l->y = malloc((n ? n : 1) * sizeof(*l->y));
	l->brk = malloc((n ? n : 1) * sizeof(*l->brk));
	if (!l->t || !l->y || !l->brk)
		return -ENOMEM;
	for (int i = 0; i < l->narrows; i++) {
		l->t[m++] = l->arrow[i].t0;
		l->t[m++] = l->arrow[i].t1;
	}
	for (int i = 0; i < l->nnotes; i++)
		l->t[m++] = l->note[i].t;
	qsort(l->t, m, sizeof(*l->t), cmp_t);
	l->nt = 0;
	for (int i = 0; i < m; i++) {
		int64_t gap;

		if (l->nt && l->t[l->nt - 1] == l->t[i])
			continue;
		gap = l->nt ? l->t[i] - l->t[l->nt - 1] : 0;
		if (gap > BREAK_NS) {
			l->brk[l->nbreaks++] =
				(struct sl_ladder_break){ .y0 = y + ROW / 2,
							  .y1 = y + BREAK_ROOM,
							  .ns = gap };
			y += BREAK_ROOM + ROW / 2;
		} else if (l->nt) {
			y += ROW +
			     PER_DECADE * log10(1 + (double)gap / SL_NS_PER_MS);
		}
		l->t[l->nt] = l->t[i];
		l->y[l->nt++] = y;
	}
	l->height = y + BOTTOM;
	return 0;
}

int sl_ladder_build(const struct sl_timeline *tl, struct sl_ladder *l)
{
	struct seen seen[64];
	int nseen = 0, ret = 0;

	memset(l, 0, sizeof(*l));
	l->tl = tl;
	l->router_lane = -1;
	l->lane_host[l->nlanes++] = SL_HOST_CLIENT;
	if (tl->nhosts > SL_HOST_ROUTER && router_matters(tl)) {
		l->router_lane = l->nlanes;
		l->lane_host[l->nlanes++] = SL_HOST_ROUTER;
	}
	if (tl->nhosts > SL_HOST_SERVER)
		l->lane_host[l->nlanes++] = SL_HOST_SERVER;
	for (int i = 0; i < tl->n && ret == 0; i++)
		ret = take_event(l, i, seen, &nseen);
	if (ret == 0)
		ret = lay_out(l);
	if (ret < 0)
		sl_ladder_free(l);
	return ret;
}

void sl_ladder_free(struct sl_ladder *l)
{
	free(l->arrow);
	free(l->note);
	free(l->t);
	free(l->y);
	free(l->brk);
	memset(l, 0, sizeof(*l));
}

double sl_ladder_y(const struct sl_ladder *l, int64_t t)
{
	int lo = 0, hi = l->nt - 1;

	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (l->t[mid] < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return l->nt ? l->y[lo] : TOP;
}

void sl_ladder_duration(int64_t ns, char *buf, size_t n)
{
	if (ns >= SL_NS_PER_SEC)
		snprintf(buf, n, "%.1f s", (double)ns / SL_NS_PER_SEC);
	else if (ns >= SL_NS_PER_MS)
		snprintf(buf, n, "%.0f ms", (double)ns / SL_NS_PER_MS);
	else
		snprintf(buf, n, "%.0f us", (double)ns / 1000);
}
