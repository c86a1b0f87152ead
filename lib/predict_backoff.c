/* predict_backoff.c: a timer that backs off (expect_backoff).
 *
 * The special problem of a back-off: its first interval is often not a
 * constant.  The RTO and the persist timer start from the RTO, which is
 * TCP_RTO_MIN plus the smoothed RTT, and a receiver that delays its ACKs
 * (as one whose buffer fills does) adds tens of milliseconds to that RTT.
 * What the kernel fixes is the growth: each interval is the one before it
 * times the back-off factor (tcp_probe0_when(), inet_csk_rto_backoff():
 * base << backoff).  So the prediction is on the ratios of successive gaps,
 * measured on one clock (the captures'), and the first gap is whatever the
 * run made it.
 */
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "predict.h"
#include "socklab.h"

#define SL__BACKOFF_MAX 32

void sl__expect_backoff(struct sl_predict *p, double factor, struct sl_tol tol,
			const struct sl_match *m, int line)
{
	const struct sl_timeline *tl = p->tl;
	struct sl_result *r = sl__predict_result(p, line);
	int idx[SL__BACKOFF_MAX], found, ok = 1;
	double prev = 0;
	char match[200];

	/* "a packet from client ..." as the other predictions word it, read
	 * here as the packets whose gaps are judged. */
	sl__describe_match(m, -1, match, sizeof(match));
	snprintf(r->what, sizeof(r->what), "each gap %gx the one before",
		 factor);
	sl__describe_tol(tol, r->what, sizeof(r->what));
	sl__appendf(r->what, sizeof(r->what), ", between packets%s",
		    strncmp(match, "a packet", 8) ? match : match + 8);
	found = sl__collect_packets(tl, m, idx, SL__BACKOFF_MAX, r->skipped,
				    sizeof(r->skipped));
	if (found < 0)
		return;
	if (found > SL__BACKOFF_MAX)
		found = SL__BACKOFF_MAX;
	snprintf(r->evidence, sizeof(r->evidence), "%d matching", found);
	if (found < 3) {
		/* Two gaps at least, or there is no growth to judge: not
		 * observed, and the evidence says why. */
		sl__appendf(r->evidence, sizeof(r->evidence),
			    "; a back-off needs three (two gaps)");
		r->ok = 0;
		return;
	}
	sl__appendf(r->evidence, sizeof(r->evidence), ", gaps");
	for (int k = 1; k < found; k++) {
		double gap = (double)(tl->ev[idx[k]].t - tl->ev[idx[k - 1]].t) /
			     SL_NS_PER_MS;

		sl__appendf(r->evidence, sizeof(r->evidence), "%s%.1f",
			    k > 1 ? ", " : " ", gap);
		if (k > 1) {
			int good = sl__tol_ok(gap, factor * prev, tol);

			ok = ok && good;
			sl__appendf(r->evidence, sizeof(r->evidence),
				    " (%.2fx%s)", prev > 0 ? gap / prev : 0,
				    good ? "" : ", off");
		}
		prev = gap;
	}
	sl__appendf(r->evidence, sizeof(r->evidence), " ms");
	r->ok = ok;
}
