/* predict_timing.c: predictions on when things happened
 * (expect_packets_at_ms, expect_call_ms) and the measurements of gaps and
 * call times.
 */
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "predict.h"
#include "socklab.h"

/* Times are taken from the timeline, packets as their sender's capture
 * stamped them (the kernel's skb time, so a busy CPU delays the stamp very
 * little) and calls when they returned.  Each result prints the measured
 * values next to the predicted ones and the tolerance. */

/* How far from predicted tol allows: tol.pct percent of it or tol.ms,
 * whichever is wider. */
static double tol_width(double predicted, struct sl_tol tol)
{
	double w = predicted * tol.pct / 100;

	if (w < 0)
		w = -w;
	return w > tol.ms ? w : tol.ms;
}

int sl__tol_ok(double measured, double predicted, struct sl_tol tol)
{
	double d = measured - predicted;

	return (d < 0 ? -d : d) <= tol_width(predicted, tol);
}

double sl__late_ms(const struct sl_timeline *tl)
{
	return tl->late_n > 0 ? (double)tl->late_ns / SL_NS_PER_MS : 0;
}

int sl__tol_judge(const struct sl_timeline *tl, double measured,
		  double predicted, struct sl_tol tol)
{
	double top = predicted + tol_width(predicted, tol);

	if (sl__tol_ok(measured, predicted, tol))
		return SL__ON_TIME;
	/* Above the tolerance's upper end by no more than the lateness:
	 * not measured minus the lateness within the tolerance, which would
	 * let a time far above pass as one below it. */
	if (measured > top && measured <= top + sl__late_ms(tl))
		return SL__LATE;
	return SL__OFF;
}

const char *sl__tol_mark(int judged)
{
	return judged == SL__ON_TIME ? "" :
	       judged == SL__LATE    ? " (late)" :
				       " (off)";
}

void sl__describe_late(const struct sl_timeline *tl, char *buf, size_t n)
{
	if (tl->late_n > 0)
		sl__appendf(buf, n,
			    "; this run's timers woke up to %.1f ms late, "
			    "allowed above the tolerance",
			    sl__late_ms(tl));
}

void sl__describe_tol(struct sl_tol tol, char *buf, size_t n)
{
	if (tol.pct > 0 && tol.ms > 0)
		sl__appendf(buf, n, " (+/- %g%% or %g ms)", tol.pct, tol.ms);
	else if (tol.pct > 0)
		sl__appendf(buf, n, " (+/- %g%%)", tol.pct);
	else
		sl__appendf(buf, n, " (+/- %g ms)", tol.ms);
}

#define SL__MAX_TIMES 32

void sl__expect_packets_at_ms(struct sl_predict *p, const double *ms, int n,
			      struct sl_tol tol, const struct sl_match *m,
			      int line)
{
	const struct sl_timeline *tl = p->tl;
	struct sl_result *r = sl__predict_result(p, line);
	int idx[SL__MAX_TIMES], found, a, ok;

	sl__describe_match(m, n, r->what, sizeof(r->what));
	sl__appendf(r->what, sizeof(r->what), ", at");
	for (int k = 0; k < n; k++)
		sl__appendf(r->what, sizeof(r->what), "%s%g", k ? ", " : " ",
			    ms[k]);
	sl__appendf(r->what, sizeof(r->what), " ms");
	sl__describe_tol(tol, r->what, sizeof(r->what));
	if (!m->after || n < 1 || n > SL__MAX_TIMES) {
		snprintf(r->skipped, sizeof(r->skipped),
			 "needs .after and 1 to "
			 "%d times",
			 SL__MAX_TIMES);
		return;
	}
	found = sl__collect_packets(tl, m, idx, SL__MAX_TIMES, r->skipped,
				    sizeof(r->skipped));
	if (found < 0)
		return;
	a = sl_timeline_find_mark(tl, m->after);
	ok = found == n;
	snprintf(r->evidence, sizeof(r->evidence), "%d matching, at", found);
	for (int k = 0; k < found && k < SL__MAX_TIMES; k++) {
		double t =
			(double)(tl->ev[idx[k]].t - tl->ev[a].t) / SL_NS_PER_MS;
		int j = k < n ? sl__tol_judge(tl, t, ms[k], tol) : SL__ON_TIME;

		ok = ok && j != SL__OFF;
		sl__appendf(r->evidence, sizeof(r->evidence), "%s%.1f%s",
			    k ? ", " : " ", t, sl__tol_mark(j));
	}
	sl__appendf(r->evidence, sizeof(r->evidence), " ms after \"%s\"",
		    m->after);
	if (found > n)
		sl__appendf(r->evidence, sizeof(r->evidence),
			    "; %d more than "
			    "predicted",
			    found - n);
	else if (found < n)
		sl__appendf(r->evidence, sizeof(r->evidence),
			    "; %d fewer than "
			    "predicted",
			    n - found);
	sl__describe_late(tl, r->evidence, sizeof(r->evidence));
	r->ok = ok;
}

void sl__measure_gaps_ms(struct sl_predict *p, const char *name,
			 const struct sl_match *m)
{
	const struct sl_timeline *tl = p->tl;
	int idx[SL__MAX_TIMES], found;
	double gap = 0, prev = 0;
	char why[160], mname[64];

	found = sl__collect_packets(tl, m, idx, SL__MAX_TIMES, why,
				    sizeof(why));
	if (found > SL__MAX_TIMES)
		found = SL__MAX_TIMES;
	for (int k = 1; k < found; k++) {
		prev = gap;
		gap = (double)(tl->ev[idx[k]].t - tl->ev[idx[k - 1]].t) /
		      SL_NS_PER_MS;
		snprintf(mname, sizeof(mname), "%s.gap%d", name, k);
		sl_predict_measure(p, mname, gap, "ms");
	}
	/* The last two gaps, not an average: the first gaps may follow
	 * another rule (a tail loss probe comes before the first RTO), the
	 * last ones are the timer's own. */
	if (found >= 3 && prev > 0) {
		snprintf(mname, sizeof(mname), "%s.backoff", name);
		sl_predict_measure(p, mname, gap / prev, "x");
	}
}

/* ms from the mark after to the return of the last call name on host, or
 * -1 with the reason in why. */
static int call_ms(const struct sl_timeline *tl, const char *host,
		   const char *name, const char *after, double *ms, int *ci,
		   char *why, size_t n)
{
	int i = sl__last_call(tl, host, name), a;

	if (i < 0) {
		snprintf(why, n, "%s never recorded a call named \"%s\"", host,
			 name);
		return -1;
	}
	a = after ? sl_timeline_find_mark(tl, after) : -1;
	if (a < 0) {
		snprintf(why, n, "mark \"%s\" never happened",
			 after ? after : "(none given)");
		return -1;
	}
	*ms = (double)(tl->ev[i].t - tl->ev[a].t) / SL_NS_PER_MS;
	*ci = i;
	return 0;
}

void expect_call_ms(struct sl_predict *p, const char *host, const char *name,
		    const char *after, double ms, struct sl_tol tol)
{
	struct sl_result *r = sl__predict_result(p, 0);
	char l[512];
	double got;
	int i, j;

	snprintf(r->what, sizeof(r->what), "%s: %s returns %g ms after \"%s\"",
		 host, name, ms, after ? after : "?");
	sl__describe_tol(tol, r->what, sizeof(r->what));
	if (call_ms(p->tl, host, name, after, &got, &i, r->skipped,
		    sizeof(r->skipped)) < 0)
		return;
	j = sl__tol_judge(p->tl, got, ms, tol);
	r->ok = j != SL__OFF;
	sl_timeline_format(p->tl, i, l, sizeof(l));
	snprintf(r->evidence, sizeof(r->evidence), "%.1f ms%s after \"%s\": %s",
		 got, sl__tol_mark(j), after, l);
	sl__describe_late(p->tl, r->evidence, sizeof(r->evidence));
}

void measure_call_ms(struct sl_predict *p, const char *mname, const char *host,
		     const char *name, const char *after)
{
	char why[160];
	double got;
	int i;

	if (call_ms(p->tl, host, name, after, &got, &i, why, sizeof(why)) == 0)
		sl_predict_measure(p, mname, got, "ms");
}
