/* predict_ack.c: when the peer acknowledged a segment (expect_acked_at_ms,
 * measure_acked_ms).
 *
 * The special problem of timing an ACK: the receiver's delay runs from the
 * moment the segment arrives, but a role can only mark the moment before
 * it writes, and on a busy machine the role may run milliseconds late
 * between the mark and the write.  A delayed ACK of 40 ms timed from a mark
 * would carry that lateness; timed from the segment as its sender's capture
 * saw it leave, it would still carry the path, microseconds on a veth but
 * 90 ms in a QEMU guest whose softirqs had fallen behind.  So these
 * predictions pair each matching segment with the first segment its
 * receiver sent back on the same connection whose ACK number covers it,
 * and time the pair from the segment's arrival, as the receiver's own
 * capture saw it (from its departure where the recording has no copy at
 * the receiver).  That segment is the ACK, whether a pure ACK or data
 * carrying it (a piggybacked ACK), and one segment may acknowledge several
 * (every second segment).
 */
#include <stdio.h>
#include <string.h>

#include "ipaddr.h"
#include "clock.h"
#include "packet.h"
#include "predict.h"
#include "socklab.h"

#define SL__MAX_ACKED 32

/* Does the segment take sequence space, so that an ACK can cover it? */
static int occupies(const struct sl_packet *s)
{
	return s->len > 0 || (s->flags & (SL_TH_SYN | SL_TH_FIN));
}

/* The first segment the receiver of event d sent back on its connection
 * whose ACK number covers d's last byte (its SYN or FIN), or -1.  A RST
 * ends the connection rather than acknowledging anything: it never
 * counts, whatever its ACK number says. */
static int acked_by(const struct sl_timeline *tl, int d)
{
	const struct sl_packet *s = &tl->ev[d].pkt;
	uint32_t end = s->seq + s->len + !!(s->flags & SL_TH_SYN) +
		       !!(s->flags & SL_TH_FIN);

	for (int i = d + 1; i < tl->n; i++) {
		const struct sl_event *e = &tl->ev[i];
		const struct sl_packet *a = &e->pkt;

		if (!sl_timeline_is_sent(e) ||
		    !sl_ip_eq(&a->saddr, &s->daddr) ||
		    !sl_ip_eq(&a->daddr, &s->saddr) || a->sport != s->dport ||
		    a->dport != s->sport ||
		    (a->flags & (SL_TH_ACK | SL_TH_RST)) != SL_TH_ACK)
			continue;
		/* Sequence numbers wrap: "covers" is "not before". */
		if ((int32_t)(a->ack - end) >= 0)
			return i;
	}
	return -1;
}

/* Where the segment at index d arrived: the receiver's capture of it, or
 * d itself when the recording has none (a hand-made one of sender copies
 * only). */
static int arrival(const struct sl_timeline *tl, int d)
{
	int got = sl_timeline_delivered(tl, d);

	return got >= 0 ? got : d;
}

/* The matching segments that take sequence space, as timeline indexes in
 * idx, each with the index of its ACK (-1: never acknowledged) in ack.
 * Returns how many there were in all, or -1 with the reason in why. */
static int collect(const struct sl_timeline *tl, const struct sl_match *m,
		   int *idx, int *ack, int max, char *why, size_t n)
{
	int all[SL__MAX_ACKED], found, k = 0;

	found = sl__collect_packets(tl, m, all, SL__MAX_ACKED, why, n);
	if (found < 0)
		return -1;
	if (found > SL__MAX_ACKED) {
		snprintf(why, n, "%d segments match: at most %d", found,
			 SL__MAX_ACKED);
		return -1;
	}
	for (int j = 0; j < found; j++) {
		if (!occupies(&tl->ev[all[j]].pkt))
			continue;
		if (k < max) {
			idx[k] = all[j];
			ack[k] = acked_by(tl, all[j]);
		}
		k++;
	}
	return k;
}

static double ms_between(const struct sl_timeline *tl, int a, int b)
{
	return (double)(tl->ev[b].t - tl->ev[a].t) / SL_NS_PER_MS;
}

void sl__expect_acked_at_ms(struct sl_predict *p, const double *ms, int n,
			    struct sl_tol tol, const struct sl_match *m,
			    int line)
{
	const struct sl_timeline *tl = p->tl;
	struct sl_result *r = sl__predict_result(p, line);
	int idx[SL__MAX_ACKED], ack[SL__MAX_ACKED], found, ok;
	char first_off[512] = "";

	sl__describe_match(m, n, r->what, sizeof(r->what));
	sl__appendf(r->what, sizeof(r->what), ", acknowledged");
	for (int k = 0; k < n; k++)
		sl__appendf(r->what, sizeof(r->what), "%s%g", k ? ", " : " ",
			    ms[k]);
	sl__appendf(r->what, sizeof(r->what), " ms after each");
	sl__describe_tol(tol, r->what, sizeof(r->what));
	if (n < 1 || n > SL__MAX_ACKED) {
		snprintf(r->skipped, sizeof(r->skipped), "needs 1 to %d times",
			 SL__MAX_ACKED);
		return;
	}
	found = collect(tl, m, idx, ack, SL__MAX_ACKED, r->skipped,
			sizeof(r->skipped));
	if (found < 0)
		return;
	ok = found == n;
	snprintf(r->evidence, sizeof(r->evidence), "%d segment%s, acknowledged",
		 found, found == 1 ? "" : "s");
	for (int k = 0; k < found; k++) {
		double t;
		int j;

		if (ack[k] < 0) {
			sl__appendf(r->evidence, sizeof(r->evidence),
				    "%s never", k ? "," : "");
			ok = 0;
			continue;
		}
		t = ms_between(tl, arrival(tl, idx[k]), ack[k]);
		j = k < n ? sl__tol_judge(tl, t, ms[k], tol) : SL__ON_TIME;
		ok = ok && j != SL__OFF;
		sl__appendf(r->evidence, sizeof(r->evidence), "%s %.1f%s",
			    k ? "," : "", t, sl__tol_mark(j));
		/* The first acknowledgment off its time, as the timeline
		 * shows it: which segment it was says why. */
		if (j == SL__OFF && !first_off[0])
			sl_timeline_format(tl, ack[k], first_off,
					   sizeof(first_off));
	}
	sl__appendf(r->evidence, sizeof(r->evidence), " ms after %s",
		    found == 1 ? "it" : "each");
	if (found != n)
		sl__appendf(r->evidence, sizeof(r->evidence),
			    "; %d %s than "
			    "predicted",
			    found > n ? found - n : n - found,
			    found > n ? "more" : "fewer");
	if (first_off[0])
		sl__appendf(r->evidence, sizeof(r->evidence), "; first off:%s",
			    first_off);
	sl__describe_late(tl, r->evidence, sizeof(r->evidence));
	r->ok = ok;
}

void sl__measure_acked_ms(struct sl_predict *p, const char *name,
			  const struct sl_match *m)
{
	const struct sl_timeline *tl = p->tl;
	int idx[SL__MAX_ACKED], ack[SL__MAX_ACKED], found;
	char why[160], mname[64];

	found = collect(tl, m, idx, ack, SL__MAX_ACKED, why, sizeof(why));
	for (int k = 0; k < found && k < SL__MAX_ACKED; k++) {
		if (ack[k] < 0)
			continue;
		if (found == 1)
			snprintf(mname, sizeof(mname), "%s", name);
		else
			snprintf(mname, sizeof(mname), "%s.%d", name, k + 1);
		sl_predict_measure(p, mname,
				   ms_between(tl, arrival(tl, idx[k]), ack[k]),
				   "ms");
	}
}
