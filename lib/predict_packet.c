/* predict_packet.c: predictions on the packets the captures saw
 * (expect_packet, expect_no_packet, expect_packets, measure_packet_ms).
 *
 * Only the sender's copy of a segment counts (each is captured at both
 * ends): a packet "from" a host is one its own capture saw leave.
 */
#include <stdio.h>
#include <string.h>

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
	sl__describe_scope(buf, n, 0, 0, m->after, m->within_ms, m->before);
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
	return 1;
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
	int found = 0, first = -1, last = -1;

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
	sl__evidence_matching(tl, r, found, count == 0 || r->ok ? first : last,
			      first, m->after);
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
