/* timeline.c: the merged, sorted record of a run (timeline.h): building it
 * (add, finish) and finding in it.  Its text is timeline_format.c's, its
 * recording format timeline_io.c's. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipaddr.h"
#include "timeline.h"

void sl_timeline_init(struct sl_timeline *tl)
{
	memset(tl, 0, sizeof(*tl));
}

void sl_timeline_free(struct sl_timeline *tl)
{
	free(tl->ev);
	free(tl->ctr);
	sl_timeline_init(tl);
}

void sl_timeline_set_hosts(struct sl_timeline *tl, const char *const names[],
			   int n)
{
	if (n > SL_TL_MAX_HOSTS)
		n = SL_TL_MAX_HOSTS;
	for (int i = 0; i < n; i++)
		snprintf(tl->host[i], sizeof(tl->host[i]), "%s", names[i]);
	tl->nhosts = n;
}

int sl_timeline_host(const struct sl_timeline *tl, const char *name)
{
	for (int i = 0; i < tl->nhosts; i++)
		if (strcmp(tl->host[i], name) == 0)
			return i;
	return -1;
}

int sl_timeline_add(struct sl_timeline *tl, const struct sl_event *ev)
{
	if (tl->n == tl->cap) {
		int cap = tl->cap ? tl->cap * 2 : 256;
		struct sl_event *n = realloc(tl->ev, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		tl->ev = n;
		tl->cap = cap;
	}
	tl->ev[tl->n++] = *ev;
	return 0;
}

static int cmp_time(const void *a, const void *b)
{
	const struct sl_event *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	/* qsort is not stable: fall back on the order of arrival, which the
	 * caller keeps in t_start for ties (see sl_timeline_finish). */
	return 0;
}

static int same_segment(const struct sl_packet *a, const struct sl_packet *b)
{
	return sl_ip_eq(&a->saddr, &b->saddr) &&
	       sl_ip_eq(&a->daddr, &b->daddr) && a->sport == b->sport &&
	       a->dport == b->dport && a->seq == b->seq && a->ack == b->ack &&
	       a->flags == b->flags && a->len == b->len;
}

/* A segment a role injected (SL_EV_INJECT) is also captured, once by each
 * host it crosses: those copies are named "injected" and carry the role's
 * note, and the injection itself is hidden (ret 1), so that the timeline
 * shows the segment once, as sent.  The capture stamps it between the
 * injection's t_start and t; the first unclaimed identical segment from
 * then on, per capture point, is it.  An injection nobody captured stays
 * visible, saying so. */
static void match_injected(struct sl_timeline *tl)
{
	for (int i = 0; i < tl->n; i++) {
		struct sl_event *in = &tl->ev[i];
		unsigned seen = 0;

		if (in->kind != SL_EV_INJECT)
			continue;
		for (int j = 0; j < tl->n; j++) {
			struct sl_event *e = &tl->ev[j];

			if (e->kind != SL_EV_PACKET || e->t < in->t_start ||
			    e->name[0] || e->host < 0 || e->host >= 32 ||
			    (seen & 1u << e->host) ||
			    !same_segment(&e->pkt, &in->pkt))
				continue;
			snprintf(e->name, sizeof(e->name), "injected");
			snprintf(e->text, sizeof(e->text), "%s", in->text);
			seen |= 1u << e->host;
			in->ret = 1;
		}
	}
}

void sl_timeline_finish(struct sl_timeline *tl)
{
	/* Stable sort by time: insertion order breaks ties, which keeps a
	 * mark before the call that follows it when both carry the same
	 * nanosecond.  Insertion sort is fine for a few thousand events that
	 * arrive mostly in order. */
	for (int i = 1; i < tl->n; i++) {
		struct sl_event e = tl->ev[i];
		int j = i - 1;

		while (j >= 0 && cmp_time(&tl->ev[j], &e) > 0) {
			tl->ev[j + 1] = tl->ev[j];
			j--;
		}
		tl->ev[j + 1] = e;
	}
	tl->t0 = tl->n ? tl->ev[0].t : 0;
	for (int i = 0; i < tl->n; i++) {
		if (tl->ev[i].kind == SL_EV_PACKET) {
			tl->t0 = tl->ev[i].t;
			break;
		}
	}
	match_injected(tl);
}

int sl_timeline_is_sent(const struct sl_event *ev)
{
	if (ev->kind != SL_EV_PACKET)
		return 0;
	/* A packet from an address we do not know (the router's) is shown
	 * where it was seen. */
	return ev->from < 0 || ev->from == ev->host;
}

int sl_timeline_find_mark(const struct sl_timeline *tl, const char *spec)
{
	const char *colon = strchr(spec, ':');
	const char *name = colon ? colon + 1 : spec;
	int host = -1;

	if (colon) {
		char h[16];
		size_t len = colon - spec;

		if (len >= sizeof(h))
			return -1;
		memcpy(h, spec, len);
		h[len] = '\0';
		host = sl_timeline_host(tl, h);
		if (host < 0)
			return -1;
	}
	for (int i = 0; i < tl->n; i++) {
		const struct sl_event *e = &tl->ev[i];

		if (e->kind == SL_EV_MARK && strcmp(e->name, name) == 0 &&
		    (host < 0 || e->host == host))
			return i;
	}
	return -1;
}

int sl_timeline_delivered(const struct sl_timeline *tl, int i)
{
	const struct sl_event *s = &tl->ev[i];

	for (int j = i + 1; j < tl->n; j++) {
		const struct sl_event *r = &tl->ev[j];

		if (r->kind == SL_EV_PACKET && r->host == s->to &&
		    sl_ip_eq(&r->pkt.saddr, &s->pkt.saddr) &&
		    r->pkt.sport == s->pkt.sport && r->pkt.seq == s->pkt.seq &&
		    r->pkt.ack == s->pkt.ack && r->pkt.flags == s->pkt.flags &&
		    r->pkt.len == s->pkt.len)
			return j;
	}
	return -1;
}
