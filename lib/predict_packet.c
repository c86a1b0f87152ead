/* predict_packet.c: predictions on the packets the captures saw
 * (expect_packet, expect_no_packet, expect_packets, measure_packet_ms).
 *
 * Only the sender's copy of a segment counts (each is captured at both
 * ends): a packet "from" a host is one its own capture saw leave.
 */
#include <stdio.h>
#include <string.h>

#include "ipaddr.h"
#include "clock.h"
#include "predict.h"
#include "socklab.h"

void sl__describe_match(const struct sl_match *m, int count, char *buf,
			size_t n)
{
	buf[0] = '\0';
	if (count == 0)
		sl__appendf(buf, n, "no packet");
	else if (count < 0)
		sl__appendf(buf, n, "a packet");
	else
		sl__appendf(buf, n, "exactly %d packet%s", count,
			    count == 1 ? "" : "s");
	if (m->from)
		sl__appendf(buf, n, " from %s", m->from);
	if (m->to)
		sl__appendf(buf, n, " to %s", m->to);
	if (m->flags)
		sl__appendf(buf, n, " with [%s]", m->flags);
	if (m->not_flags)
		sl__appendf(buf, n, " without [%s]", m->not_flags);
	if (m->len != SL__ANY)
		sl__appendf(buf, n, " of length %ld", m->len);
	if (m->win != SL__ANY)
		sl__appendf(buf, n, " with win %ld", m->win);
	if (m->min_win != SL__ANY)
		sl__appendf(buf, n, " with win >= %ld", m->min_win);
	if (m->dup_ack != SL__ANY)
		sl__appendf(buf, n,
			    m->dup_ack ? " that is a duplicate ACK" :
					 " that is not a duplicate ACK");
	if (m->sack != SL__ANY)
		sl__appendf(buf, n, " with %ld SACK block%s", m->sack,
			    m->sack == 1 ? "" : "s");
	if (m->dsack != SL__ANY)
		sl__appendf(buf, n,
			    m->dsack ? " with a D-SACK" : " without a D-SACK");
	sl__describe_scope(buf, n, 0, 0, m->after, m->within_ms, m->before);
	if (m->answer_ms > 0)
		sl__appendf(buf, n,
			    ", sent within %d ms of the peer's last segment "
			    "arriving",
			    m->answer_ms);
}

/* Seq-space "a before b" (RFC 9293's modular comparison). */
static int before(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

/* RFC 2883: a D-SACK is the first block, and it reports data below the
 * cumulative ACK, or data inside the block that follows it. */
static int has_dsack(const struct sl_packet *k)
{
	const struct sl_tcpopts *o = &k->opt;

	if (o->nsack == 0)
		return 0;
	if (before(o->sack[0][0], k->ack))
		return 1;
	return o->nsack > 1 && !before(o->sack[0][0], o->sack[1][0]) &&
	       !before(o->sack[1][1], o->sack[0][1]);
}

/* A duplicate ACK, as RFC 5681 defines it for fast retransmit: no data,
 * no SYN, FIN or RST, and the ACK number and window that the same
 * sender's previous segment to that peer carried.  A window update (the
 * same ACK, a new window) is not one, for Linux's tcp_ack() either
 * (FLAG_WIN_UPDATE); SACK blocks do not matter. */
static int is_dup_ack(const struct sl_timeline *tl, const struct sl_event *e)
{
	const struct sl_packet *k = &e->pkt;

	if (k->len || !(k->flags & SL_TH_ACK) ||
	    (k->flags & (SL_TH_SYN | SL_TH_FIN | SL_TH_RST)))
		return 0;
	for (const struct sl_event *q = e - 1; q >= tl->ev; q--) {
		if (!sl_timeline_is_sent(q) || q->from != e->from ||
		    !sl_ip_eq(&q->pkt.saddr, &k->saddr) ||
		    !sl_ip_eq(&q->pkt.daddr, &k->daddr) ||
		    q->pkt.sport != k->sport || q->pkt.dport != k->dport)
			continue;
		return (q->pkt.flags & SL_TH_ACK) && q->pkt.ack == k->ack &&
		       q->pkt.win == k->win;
	}
	return 0;
}

/* The special problem of "at once": a packet that answers another (a RST
 * for a SYN to a closed port, a SYN-ACK, a duplicate ACK for a segment out
 * of order) leaves in the softirq that received what it answers, within
 * microseconds.  Timed from a mark, it would carry everything before that:
 * the role running late between its mark and its call, a call preempted
 * inside the kernel before its segment left (60 ms in an emulated guest),
 * a segment held on its way (a second, once, in a guest whose softirqs
 * had been handed to a starved ksoftirqd).  None of that is the answering
 * kernel's.  So .answer_ms times the answer from its sender's own capture
 * of the last segment that came in on that connection: the receiver's
 * turnaround alone, on one host's clock.  Returns that time in ns, or -1
 * when nothing had come in. */
static int64_t answer_delay(const struct sl_timeline *tl,
			    const struct sl_event *e)
{
	const struct sl_packet *k = &e->pkt;

	for (const struct sl_event *q = e - 1; q >= tl->ev; q--) {
		if (q->kind != SL_EV_PACKET || q->host != e->from ||
		    sl_timeline_is_sent(q) ||
		    !sl_ip_eq(&q->pkt.saddr, &k->daddr) ||
		    !sl_ip_eq(&q->pkt.daddr, &k->saddr) ||
		    q->pkt.sport != k->dport || q->pkt.dport != k->sport)
			continue;
		return e->t - q->t;
	}
	return -1;
}

/* Does event e (a sent packet) match m, apart from the time window? */
static int packet_matches(const struct sl_timeline *tl,
			  const struct sl_event *e, const struct sl_match *m,
			  uint8_t need, uint8_t forbid)
{
	if (!sl_timeline_is_sent(e))
		return 0;
	if (m->from && (e->from < 0 || strcmp(tl->host[e->from], m->from)))
		return 0;
	if (m->to && (e->to < 0 || strcmp(tl->host[e->to], m->to)))
		return 0;
	if ((e->pkt.flags & need) != need || (e->pkt.flags & forbid))
		return 0;
	if (m->len != SL__ANY && (long)e->pkt.len != m->len)
		return 0;
	if (m->win != SL__ANY && (long)e->pkt.win != m->win)
		return 0;
	if (m->min_win != SL__ANY && (long)e->pkt.win < m->min_win)
		return 0;
	if (m->sack != SL__ANY && (long)e->pkt.opt.nsack != m->sack)
		return 0;
	if (m->dsack != SL__ANY && has_dsack(&e->pkt) != !!m->dsack)
		return 0;
	if (m->dup_ack != SL__ANY && is_dup_ack(tl, e) != !!m->dup_ack)
		return 0;
	if (m->answer_ms > 0) {
		int64_t d = answer_delay(tl, e);

		if (d < 0 || d > (int64_t)m->answer_ms * SL_NS_PER_MS)
			return 0;
	}
	return 1;
}

/* Appends how long after the peer's last segment arrived packet e left. */
static void describe_answer(const struct sl_timeline *tl,
			    const struct sl_event *e, char *buf, size_t n)
{
	int64_t d = answer_delay(tl, e);

	if (d < 0)
		sl__appendf(buf, n, " (nothing had arrived from the peer)");
	else
		sl__appendf(buf, n,
			    " (%.3f ms after the peer's last segment "
			    "arrived)",
			    (double)d / SL_NS_PER_MS);
}

/* Appends up to three timeline lines of events in [lo, hi] sent by the
 * match's host, so a failed prediction shows what happened instead. */
static void show_instead(const struct sl_timeline *tl, const struct sl_match *m,
			 int64_t lo, int64_t hi, char *buf, size_t n)
{
	char line[512];
	int shown = 0;

	for (int i = 0; i < tl->n && shown < 3; i++) {
		const struct sl_event *e = &tl->ev[i];

		if (!sl_timeline_is_sent(e) || e->t < lo || e->t > hi)
			continue;
		if (m->from &&
		    (e->from < 0 || strcmp(tl->host[e->from], m->from)))
			continue;
		sl_timeline_format(tl, i, line, sizeof(line));
		sl__appendf(buf, n, "%s%s",
			    shown ? " | " : "; instead: ", line);
		if (m->answer_ms > 0)
			describe_answer(tl, e, buf, n);
		shown++;
	}
	if (!shown)
		sl__appendf(buf, n, "; no packet%s%s in that window",
			    m->from ? " from " : "", m->from ? m->from : "");
}

void sl__expect_packets(struct sl_predict *p, const struct sl_match *m,
			int count, int line)
{
	const struct sl_timeline *tl = p->tl;
	struct sl_result *r = sl__predict_result(p, line);
	uint8_t need = 0, forbid = 0;
	int64_t lo, hi;
	int found = 0, first = -1, last = -1, shown;

	sl__describe_match(m, count, r->what, sizeof(r->what));
	if ((m->flags && sl_flags_parse(m->flags, &need) < 0) ||
	    (m->not_flags && sl_flags_parse(m->not_flags, &forbid) < 0)) {
		snprintf(r->skipped, sizeof(r->skipped),
			 "bad flags in the prediction");
		return;
	}
	if (sl__predict_window(tl, m->after, m->before, m->within_ms, &lo, &hi,
			       r->skipped, sizeof(r->skipped)) < 0)
		return;
	for (int i = 0; i < tl->n; i++) {
		const struct sl_event *e = &tl->ev[i];

		if (e->t < lo || e->t > hi ||
		    !packet_matches(tl, e, m, need, forbid))
			continue;
		if (first < 0)
			first = i;
		last = i;
		found++;
	}
	if (count < 0)
		r->ok = found > 0;
	else
		r->ok = found == count;
	/* The line shown: the first match, or the last one that made a count
	 * too high. */
	shown = count == 0 || r->ok ? first : last;
	sl__evidence_matching(tl, r, found, shown, first, m->after);
	if (found && m->answer_ms > 0)
		describe_answer(tl, &tl->ev[shown], r->evidence,
				sizeof(r->evidence));
	if (!found)
		show_instead(tl, m, lo, hi, r->evidence, sizeof(r->evidence));
}

void sl__measure_packet_ms(struct sl_predict *p, const char *name,
			   const struct sl_match *m)
{
	const struct sl_timeline *tl = p->tl;
	uint8_t need = 0, forbid = 0;
	int64_t lo, hi;
	char why[160];
	int a;

	if (!m->after || (m->flags && sl_flags_parse(m->flags, &need) < 0) ||
	    (m->not_flags && sl_flags_parse(m->not_flags, &forbid) < 0))
		return;
	if (sl__predict_window(tl, m->after, m->before, m->within_ms, &lo, &hi,
			       why, sizeof(why)) < 0)
		return;
	a = sl_timeline_find_mark(tl, m->after);
	for (int i = 0; i < tl->n; i++) {
		const struct sl_event *e = &tl->ev[i];

		if (e->t < lo || e->t > hi ||
		    !packet_matches(tl, e, m, need, forbid))
			continue;
		sl_predict_measure(p, name,
				   (double)(e->t - tl->ev[a].t) / SL_NS_PER_MS,
				   "ms");
		return;
	}
}

/* Up to max matching packets in the match's window (predict.h). */
int sl__collect_packets(const struct sl_timeline *tl, const struct sl_match *m,
			int *idx, int max, char *why, size_t n)
{
	uint8_t need = 0, forbid = 0;
	int64_t lo, hi;
	int found = 0;

	if ((m->flags && sl_flags_parse(m->flags, &need) < 0) ||
	    (m->not_flags && sl_flags_parse(m->not_flags, &forbid) < 0)) {
		snprintf(why, n, "bad flags in the prediction");
		return -1;
	}
	if (sl__predict_window(tl, m->after, m->before, m->within_ms, &lo, &hi,
			       why, n) < 0)
		return -1;
	for (int i = 0; i < tl->n; i++) {
		const struct sl_event *e = &tl->ev[i];

		if (e->t < lo || e->t > hi ||
		    !packet_matches(tl, e, m, need, forbid))
			continue;
		if (found < max)
			idx[found] = i;
		found++;
	}
	return found;
}
