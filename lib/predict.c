/* predict.c: the expect_* and measure_* vocabulary (socklab.h, predict.h).
 *
 * Every check here has a unit test that feeds it a recorded timeline on
 * which it must fail (tests/test_predict.c): a check that cannot fail would
 * make every verdict meaningless.
 */
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "predict.h"
#include "sockhist.h"
#include "socklab.h"

void sl_predict_init(struct sl_predict *p, const struct sl_timeline *tl)
{
	memset(p, 0, sizeof(*p));
	p->tl = tl;
}

void sl_predict_measure(struct sl_predict *p, const char *name, double value,
			const char *unit)
{
	struct sl_measure *m;

	if (p->nmeasures >= SL_MAX_MEASURES)
		return;
	m = &p->measure[p->nmeasures++];
	snprintf(m->name, sizeof(m->name), "%s", name);
	snprintf(m->unit, sizeof(m->unit), "%s", unit);
	m->value = value;
}

int sl_predict_holds(const struct sl_predict *p)
{
	int judged = 0;

	for (int i = 0; i < p->nresults; i++) {
		const struct sl_result *r = &p->result[i];

		/* Skipped for want of tracefs on this machine: reported as
		 * such, never as observed, and the rest still decides. */
		if (r->skipped[0] && r->unavailable)
			continue;
		if (!r->ok || r->skipped[0])
			return 0;
		judged++;
	}
	return judged > 0;
}

static struct sl_result *new_result(struct sl_predict *p, int line)
{
	static struct sl_result overflow;
	struct sl_result *r;

	if (p->nresults >= SL_MAX_RESULTS) {
		/* More predictions than we keep: the last slot says so, and
		 * the variant cannot hold. */
		r = &p->result[SL_MAX_RESULTS - 1];
		snprintf(r->skipped, sizeof(r->skipped),
			 "more than %d predictions", SL_MAX_RESULTS);
		r->ok = 0;
		memset(&overflow, 0, sizeof(overflow));
		return &overflow;
	}
	r = &p->result[p->nresults++];
	memset(r, 0, sizeof(*r));
	r->line = line;
	return r;
}

static void appendf(char *buf, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void appendf(char *buf, size_t n, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;

	if (used + 1 >= n)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, n - used, fmt, ap);
	va_end(ap);
}

/* The time window a match or state match restricts to, from its marks.
 * Returns 0, or -1 with the reason in why when a mark never happened. */
static int window(const struct sl_timeline *tl, const char *after,
		  const char *before, int within_ms, int64_t *lo, int64_t *hi,
		  char *why, size_t n)
{
	*lo = INT64_MIN;
	*hi = INT64_MAX;
	if (after) {
		int i = sl_timeline_find_mark(tl, after);

		if (i < 0) {
			snprintf(why, n, "mark \"%s\" never happened", after);
			return -1;
		}
		*lo = tl->ev[i].t;
		if (within_ms > 0)
			*hi = *lo + (int64_t)within_ms * SL_NS_PER_MS;
	}
	if (before) {
		int i = sl_timeline_find_mark(tl, before);

		if (i < 0) {
			snprintf(why, n, "mark \"%s\" never happened", before);
			return -1;
		}
		if (tl->ev[i].t < *hi)
			*hi = tl->ev[i].t;
	}
	return 0;
}

static void describe_match(const struct sl_match *m, int count, char *buf,
			   size_t n)
{
	buf[0] = '\0';
	if (count == 0)
		appendf(buf, n, "no packet");
	else if (count < 0)
		appendf(buf, n, "a packet");
	else
		appendf(buf, n, "exactly %d packet%s", count,
			count == 1 ? "" : "s");
	if (m->from)
		appendf(buf, n, " from %s", m->from);
	if (m->to)
		appendf(buf, n, " to %s", m->to);
	if (m->flags)
		appendf(buf, n, " with [%s]", m->flags);
	if (m->not_flags)
		appendf(buf, n, " without [%s]", m->not_flags);
	if (m->len != SL_ANY)
		appendf(buf, n, " of length %ld", m->len);
	if (m->after)
		appendf(buf, n, " after \"%s\"", m->after);
	if (m->after && m->within_ms > 0)
		appendf(buf, n, " within %d ms", m->within_ms);
	if (m->before)
		appendf(buf, n, " before \"%s\"", m->before);
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
	if (m->len != SL_ANY && (long)e->pkt.len != m->len)
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
		if (m->from && (e->from < 0 || strcmp(tl->host[e->from], m->from)))
			continue;
		sl_timeline_format(tl, i, line, sizeof(line));
		appendf(buf, n, "%s%s", shown ? " | " : "; instead: ", line);
		shown++;
	}
	if (!shown)
		appendf(buf, n, "; no packet%s%s in that window",
			m->from ? " from " : "", m->from ? m->from : "");
}

void sl__expect_packets(struct sl_predict *p, const struct sl_match *m,
			int count, int line)
{
	const struct sl_timeline *tl = p->tl;
	struct sl_result *r = new_result(p, line);
	uint8_t need = 0, forbid = 0;
	int64_t lo, hi;
	int found = 0, first = -1, last = -1;
	char l[512];

	describe_match(m, count, r->what, sizeof(r->what));
	if ((m->flags && sl_flags_parse(m->flags, &need) < 0) ||
	    (m->not_flags && sl_flags_parse(m->not_flags, &forbid) < 0)) {
		snprintf(r->skipped, sizeof(r->skipped),
			 "bad flags in the prediction");
		return;
	}
	if (window(tl, m->after, m->before, m->within_ms, &lo, &hi,
		   r->skipped, sizeof(r->skipped)) < 0)
		return;
	for (int i = 0; i < tl->n; i++) {
		const struct sl_event *e = &tl->ev[i];

		if (e->t < lo || e->t > hi || !packet_matches(tl, e, m, need, forbid))
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
	if (found) {
		sl_timeline_format(tl, count == 0 ? first : (r->ok ? first : last),
				   l, sizeof(l));
		snprintf(r->evidence, sizeof(r->evidence), "%d matching: %s",
			 found, l);
		if (m->after && first >= 0) {
			int a = sl_timeline_find_mark(tl, m->after);

			appendf(r->evidence, sizeof(r->evidence),
				" (%.3f ms after \"%s\")",
				(double)(tl->ev[first].t - tl->ev[a].t) /
					SL_NS_PER_MS, m->after);
		}
	} else {
		snprintf(r->evidence, sizeof(r->evidence), "0 matching");
		show_instead(tl, m, lo, hi, r->evidence, sizeof(r->evidence));
	}
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
	if (window(tl, m->after, m->before, m->within_ms, &lo, &hi, why,
		   sizeof(why)) < 0)
		return;
	a = sl_timeline_find_mark(tl, m->after);
	for (int i = 0; i < tl->n; i++) {
		const struct sl_event *e = &tl->ev[i];

		if (e->t < lo || e->t > hi || !packet_matches(tl, e, m, need, forbid))
			continue;
		sl_predict_measure(p, name,
				   (double)(e->t - tl->ev[a].t) / SL_NS_PER_MS,
				   "ms");
		return;
	}
}

/* A prediction that names a state ss does not know is not evaluated: it
 * is skipped with the name, so it can never count as observed. */
static void skip_unknown_state(struct sl_result *r, const char *name)
{
	snprintf(r->skipped, sizeof(r->skipped),
		 "unknown state \"%s\" in the prediction",
		 name ? name : "(none)");
}

/* ---- socket states (sockhist.h: the kernel's changes first) ---- */

static int span_matches(const struct sl_timeline *tl, const struct sl_span *s,
			const char *host, int lport, int rport)
{
	if (host && (s->host < 0 || s->host >= tl->nhosts ||
		     strcmp(tl->host[s->host], host)))
		return 0;
	if (lport && s->lport != lport)
		return 0;
	if (rport && s->rport != rport)
		return 0;
	return 1;
}

/* The span's line of evidence: the kernel's change that started it, or
 * the first sample that showed it, and the same for its end. */
static void describe_span(const struct sl_timeline *tl, const struct sl_span *s,
			  char *buf, size_t n)
{
	char l[512];
	int from = s->kernel_from ? s->from_ev :
		   s->first_sample >= 0 ? s->first_sample : s->from_ev;

	if (from >= 0) {
		sl_timeline_format(tl, from, l, sizeof(l));
		appendf(buf, n, "%s", l);
	}
	if (s->mini && s->kernel_from && s->first_sample >= 0) {
		sl_timeline_format(tl, s->first_sample, l, sizeof(l));
		appendf(buf, n, " | %s", l);
	}
	if (s->to != SL_SPAN_OPEN)
		appendf(buf, n, " (for %.3f ms, %s)",
			(double)(s->to - s->from) / SL_NS_PER_MS,
			s->kernel_from && s->kernel_to ? "by the kernel's "
			"clock" : "as sampled");
	else
		appendf(buf, n, " (still so when the run ended)");
}

/* Why a state's absence cannot be judged here: only samples saw states,
 * and a short one falls between them. */
static void skip_sampled(struct sl_result *r, const struct sl_spans *sp)
{
	snprintf(r->skipped, sizeof(r->skipped),
		 "without the kernel's state changes (%.60s) only sock_diag "
		 "samples, every 2-20 ms, show states: a shorter one may have "
		 "been missed", sp->kernel_why);
	r->unavailable = 1;
}

void sl__expect_state(struct sl_predict *p, const struct sl_sock_match *m,
		      int seen, int line)
{
	const struct sl_timeline *tl = p->tl;
	struct sl_result *r = new_result(p, line);
	int state = m->state ? sl_state_parse(m->state) : -1;
	struct sl_spans sp;
	int64_t lo, hi;
	int found = -1, shown = 0;

	snprintf(r->what, sizeof(r->what), "%s socket on %s %s %s",
		 seen ? "a" : "no", m->host ? m->host : "any host",
		 seen ? "seen in" : "ever in", m->state ? m->state : "?");
	if (m->lport)
		appendf(r->what, sizeof(r->what), " (local port %d)", m->lport);
	if (m->after)
		appendf(r->what, sizeof(r->what), " after \"%s\"", m->after);
	if (m->before)
		appendf(r->what, sizeof(r->what), " before \"%s\"", m->before);
	if (state < 0) {
		skip_unknown_state(r, m->state);
		return;
	}
	if (window(tl, m->after, m->before, m->within_ms, &lo, &hi, r->skipped,
		   sizeof(r->skipped)) < 0)
		return;
	if (sl_spans_build(tl, &sp) < 0) {
		snprintf(r->skipped, sizeof(r->skipped), "out of memory");
		return;
	}
	/* In the state at some moment of the window. */
	for (int i = 0; i < sp.n && found < 0; i++)
		if (sp.s[i].state == state && sp.s[i].from <= hi &&
		    sp.s[i].to >= lo &&
		    span_matches(tl, &sp.s[i], m->host, m->lport, m->rport))
			found = i;
	if (found >= 0) {
		r->ok = seen;
		snprintf(r->evidence, sizeof(r->evidence), "seen: ");
		describe_span(tl, &sp.s[found], r->evidence,
			      sizeof(r->evidence));
		sl_spans_free(&sp);
		return;
	}
	/* Never in it.  That is evidence when the kernel's changes were
	 * recorded, or for a state only samples ever show. */
	if (!sp.kernel && !sl_span_state_sampled(state)) {
		skip_sampled(r, &sp);
		sl_spans_free(&sp);
		return;
	}
	r->ok = !seen;
	snprintf(r->evidence, sizeof(r->evidence), "never in %s", m->state);
	/* Say which states that host's sockets did pass through. */
	for (int i = 0; i < sp.n; i++) {
		const struct sl_span *x = &sp.s[i];

		if (x->from > hi || x->to < lo || x->state == TCP_LISTEN ||
		    !span_matches(tl, x, m->host, 0, 0))
			continue;
		appendf(r->evidence, sizeof(r->evidence), "%s%s",
			shown++ ? ", " : "; states seen: ",
			sl_state_name(x->state));
	}
	if (!sp.kernel)
		appendf(r->evidence, sizeof(r->evidence), " (sampled)");
	sl_spans_free(&sp);
}

/* The last call named name on host, or -1. */
static int last_call(const struct sl_timeline *tl, const char *host,
		     const char *name)
{
	int h = sl_timeline_host(tl, host);

	for (int i = tl->n - 1; i >= 0; i--)
		if (tl->ev[i].kind == SL_EV_CALL && tl->ev[i].host == h &&
		    strcmp(tl->ev[i].name, name) == 0)
			return i;
	return -1;
}

void expect_errno(struct sl_predict *p, const char *host, const char *name,
		  int err)
{
	struct sl_result *r = new_result(p, 0);
	int i = last_call(p->tl, host, name);
	char l[512];

	snprintf(r->what, sizeof(r->what), "%s: %s fails with %s", host, name,
		 strerrorname_np(err) ? strerrorname_np(err) : "?");
	if (i < 0) {
		snprintf(r->skipped, sizeof(r->skipped),
			 "%s never recorded a call named \"%s\"", host, name);
		return;
	}
	r->ok = p->tl->ev[i].ret < 0 && p->tl->ev[i].err == err;
	sl_timeline_format(p->tl, i, l, sizeof(l));
	snprintf(r->evidence, sizeof(r->evidence), "%s", l);
}

void expect_ret(struct sl_predict *p, const char *host, const char *name,
		long ret)
{
	struct sl_result *r = new_result(p, 0);
	int i = last_call(p->tl, host, name);
	char l[512];

	snprintf(r->what, sizeof(r->what), "%s: %s returns %ld", host, name,
		 ret);
	if (i < 0) {
		snprintf(r->skipped, sizeof(r->skipped),
			 "%s never recorded a call named \"%s\"", host, name);
		return;
	}
	r->ok = p->tl->ev[i].ret == ret;
	sl_timeline_format(p->tl, i, l, sizeof(l));
	snprintf(r->evidence, sizeof(r->evidence), "%s", l);
}

/* ---- a socket's life: gone, kept, how long (issue: timewait) ----
 *
 * On spans (sockhist.h): a connection's states with the kernel's times
 * where it reported them, the samples' where only they saw (a TIME-WAIT's
 * end).  Listeners are left out: one that closes when its role ends must
 * not pass for the connection the prediction is about. */

static int conn_matches(const struct sl_timeline *tl, const struct sl_span *s,
			const struct sl_sock_match *m)
{
	return s->rport && span_matches(tl, s, m->host, m->lport, m->rport);
}

static void describe_sock(const struct sl_sock_match *m, const char *verb,
			  char *buf, size_t n)
{
	snprintf(buf, n, "a socket on %s", m->host ? m->host : "any host");
	if (m->lport)
		appendf(buf, n, " (local port %d)", m->lport);
	appendf(buf, n, " %s", verb);
	if (m->after)
		appendf(buf, n, " after \"%s\"", m->after);
	if (m->after && m->within_ms > 0)
		appendf(buf, n, " within %d ms", m->within_ms);
}

static int build_spans(struct sl_result *r, const struct sl_timeline *tl,
		       struct sl_spans *sp)
{
	if (sl_spans_build(tl, sp) == 0)
		return 0;
	snprintf(r->skipped, sizeof(r->skipped), "out of memory");
	return -1;
}

void sl__expect_gone(struct sl_predict *p, const struct sl_sock_match *m,
		     int line)
{
	const struct sl_timeline *tl = p->tl;
	struct sl_result *r = new_result(p, line);
	int state = m->state ? sl_state_parse(m->state) : -1;
	struct sl_spans sp;
	int64_t lo, hi;
	int found = -1, last = -1;
	char verb[64], l[512];

	snprintf(verb, sizeof(verb), "%s%s%sdisappears",
		 m->state ? "last in " : "", m->state ? m->state : "",
		 m->state ? ", " : "");
	describe_sock(m, verb, r->what, sizeof(r->what));
	if (m->state && state < 0) {
		skip_unknown_state(r, m->state);
		return;
	}
	if (window(tl, m->after, NULL, m->within_ms, &lo, &hi, r->skipped,
		   sizeof(r->skipped)) < 0 || build_spans(r, tl, &sp) < 0)
		return;
	for (int i = 0; i < sp.n && found < 0; i++) {
		const struct sl_span *s = &sp.s[i];

		if (!conn_matches(tl, s, m) || (state >= 0 && s->state != state))
			continue;
		last = i;
		if (s->gone && s->to >= lo && s->to <= hi)
			found = i;
	}
	r->ok = found >= 0;
	if (found >= 0) {
		const struct sl_span *s = &sp.s[found];

		if (s->to_ev >= 0) {
			sl_timeline_format(tl, s->to_ev, l, sizeof(l));
			snprintf(r->evidence, sizeof(r->evidence), "%s", l);
		}
		if (m->after)
			appendf(r->evidence, sizeof(r->evidence),
				" (%.3f ms after \"%s\"%s)",
				(double)(s->to - lo) / SL_NS_PER_MS, m->after,
				s->kernel_to ? "" : "; as sampled");
	} else {
		snprintf(r->evidence, sizeof(r->evidence),
			 "did not disappear in that window");
		if (last >= 0) {
			appendf(r->evidence, sizeof(r->evidence),
				"; last seen: ");
			describe_span(tl, &sp.s[last], r->evidence,
				      sizeof(r->evidence));
		}
	}
	sl_spans_free(&sp);
}

void sl__expect_state_kept(struct sl_predict *p, const struct sl_sock_match *m,
			   int line)
{
	const struct sl_timeline *tl = p->tl;
	struct sl_result *r = new_result(p, line);
	int state = m->state ? sl_state_parse(m->state) : -1;
	struct sl_spans sp;
	int64_t lo, hi;
	int kept = -1, broke = -1;
	char verb[80];

	snprintf(verb, sizeof(verb), "in %s and still in it when the run ended",
		 m->state ? m->state : "?");
	describe_sock(m, verb, r->what, sizeof(r->what));
	if (state < 0) {
		skip_unknown_state(r, m->state);
		return;
	}
	if (window(tl, m->after, NULL, 0, &lo, &hi, r->skipped,
		   sizeof(r->skipped)) < 0 || build_spans(r, tl, &sp) < 0)
		return;
	/* In the state at the mark, and never out of it after. */
	for (int i = 0; i < sp.n && kept < 0; i++) {
		const struct sl_span *s = &sp.s[i];

		if (!conn_matches(tl, s, m) || s->state != state ||
		    s->from > lo || s->to < lo)
			continue;
		if (s->to == SL_SPAN_OPEN)
			kept = i;
		else if (broke < 0)
			broke = i;
	}
	r->ok = kept >= 0;
	if (kept >= 0) {
		snprintf(r->evidence, sizeof(r->evidence), "in %s since ",
			 m->state);
		describe_span(tl, &sp.s[kept], r->evidence,
			      sizeof(r->evidence));
	} else if (broke >= 0) {
		const struct sl_span *s = &sp.s[broke];
		char l[512];

		snprintf(r->evidence, sizeof(r->evidence), "left it");
		if (s->to_ev >= 0) {
			sl_timeline_format(tl, s->to_ev, l, sizeof(l));
			appendf(r->evidence, sizeof(r->evidence), ": %s", l);
		}
	} else {
		snprintf(r->evidence, sizeof(r->evidence),
			 "no such socket in %s at that moment", m->state);
	}
	sl_spans_free(&sp);
}

/* The last segment of the connection of s, either way, before index
 * before: what put it in its state, where only a sample saw it get there.
 * A state is entered on a segment received (the peer's FIN for a
 * TIME-WAIT: our ACK of it follows within microseconds) or on our own
 * close() (our FIN for a LAST-ACK), so the last segment either way is
 * the entry in both cases.  Copies captured at the receiver come last, so
 * they win.  -1 when there is none. */
static int entry_segment(const struct sl_timeline *tl, const struct sl_sock *s,
			 int before)
{
	int entry = -1;

	for (int i = 0; i < before; i++) {
		const struct sl_packet *k = &tl->ev[i].pkt;

		if (tl->ev[i].kind != SL_EV_PACKET)
			continue;
		if ((k->daddr.s_addr == s->laddr.s_addr &&
		     k->dport == s->lport && k->saddr.s_addr == s->raddr.s_addr &&
		     k->sport == s->rport) ||
		    (k->saddr.s_addr == s->laddr.s_addr &&
		     k->sport == s->lport && k->daddr.s_addr == s->raddr.s_addr &&
		     k->dport == s->rport))
			entry = i;
	}
	return entry;
}

/* A duration against the match's tolerance, also kept as a measurement;
 * the evidence starts with the figure and goes on with where it runs
 * from. */
static void judge_ms(struct sl_predict *p, struct sl_result *r,
		     const struct sl_sock_match *m, double ms, const char *how)
{
	char name[64];

	r->ok = ms >= m->min_ms && (m->max_ms <= 0 || ms <= m->max_ms);
	snprintf(name, sizeof(name), "%s %s %s", m->host ? m->host : "socket",
		 m->state, how);
	sl_predict_measure(p, name, ms, "ms");
	snprintf(r->evidence, sizeof(r->evidence),
		 "%.1f ms (tolerance %d..%d ms), from ", ms, m->min_ms,
		 m->max_ms);
}

/* How long it stayed: from the kernel's change into the state (or, where
 * only samples saw it, the segment that put it there) to its end. */
static void state_lasts(struct sl_predict *p, struct sl_result *r,
			const struct sl_sock_match *m, int state, int64_t lo)
{
	const struct sl_timeline *tl = p->tl;
	struct sl_spans sp;
	const struct sl_span *s = NULL;
	int64_t t_entry;
	int entry = -1;
	char l[512];

	if (build_spans(r, tl, &sp) < 0)
		return;
	for (int i = 0; i < sp.n && !s; i++)
		if (conn_matches(tl, &sp.s[i], m) && sp.s[i].state == state &&
		    sp.s[i].to >= lo)
			s = &sp.s[i];
	if (!s) {
		snprintf(r->evidence, sizeof(r->evidence), "never in %s",
			 m->state);
		goto out;
	}
	if (s->to == SL_SPAN_OPEN) {
		snprintf(r->evidence, sizeof(r->evidence),
			 "still in %s when the run ended", m->state);
		goto out;
	}
	t_entry = s->from;
	if (!s->kernel_from && s->first_sample >= 0) {
		entry = entry_segment(tl, &tl->ev[s->first_sample].sock,
				      s->first_sample);
		if (entry >= 0)
			t_entry = tl->ev[entry].t;
	}
	judge_ms(p, r, m, (double)(s->to - t_entry) / SL_NS_PER_MS,
		 "until it left");
	if (s->kernel_from && s->from_ev >= 0) {
		sl_timeline_format(tl, s->from_ev, l, sizeof(l));
		appendf(r->evidence, sizeof(r->evidence), "%s", l);
	} else if (entry >= 0) {
		sl_timeline_format(tl, entry, l, sizeof(l));
		appendf(r->evidence, sizeof(r->evidence), "%s", l);
	} else {
		appendf(r->evidence, sizeof(r->evidence),
			"its first sample (no segment seen before it)");
	}
	if (s->to_ev >= 0) {
		sl_timeline_format(tl, s->to_ev, l, sizeof(l));
		appendf(r->evidence, sizeof(r->evidence), " | then: %s%s", l,
			s->kernel_to ? "" : " (as sampled)");
	}
out:
	sl_spans_free(&sp);
}

/* The length its timer was set for: read from the first sample in the
 * state (only samples show timers), plus the time from the segment that
 * set it to that sample. */
static void state_timer(struct sl_predict *p, struct sl_result *r,
			const struct sl_sock_match *m, int state, int64_t lo)
{
	const struct sl_timeline *tl = p->tl;
	int first = -1, entry;
	const struct sl_sock *s;
	int64_t t_entry, t_end;
	char l[512];

	for (int i = 0; i < tl->n && first < 0; i++) {
		const struct sl_event *e = &tl->ev[i];

		if (e->t >= lo && e->kind == SL_EV_STATE && e->sock.rport &&
		    e->sock.state == state &&
		    (!m->host || (e->host >= 0 && e->host < tl->nhosts &&
				  !strcmp(tl->host[e->host], m->host))) &&
		    (!m->lport || e->sock.lport == m->lport) &&
		    (!m->rport || e->sock.rport == m->rport))
			first = i;
	}
	if (first < 0) {
		snprintf(r->evidence, sizeof(r->evidence), "never seen in %s",
			 m->state);
		return;
	}
	s = &tl->ev[first].sock;
	if (s->timer == SL_TIMER_NONE) {
		sl_timeline_format(tl, first, l, sizeof(l));
		snprintf(r->evidence, sizeof(r->evidence),
			 "no timer running: %s", l);
		return;
	}
	entry = entry_segment(tl, s, first);
	t_entry = entry >= 0 ? tl->ev[entry].t : tl->ev[first].t;
	t_end = tl->ev[first].t + (int64_t)s->expires_ms * SL_NS_PER_MS;
	judge_ms(p, r, m, (double)(t_end - t_entry) / SL_NS_PER_MS,
		 "by its timer");
	if (entry >= 0) {
		sl_timeline_format(tl, entry, l, sizeof(l));
		appendf(r->evidence, sizeof(r->evidence), "%s", l);
	} else {
		appendf(r->evidence, sizeof(r->evidence),
			"its first sample (no segment seen before it)");
	}
	sl_timeline_format(tl, first, l, sizeof(l));
	appendf(r->evidence, sizeof(r->evidence),
		" | first seen: %s | its timer had %u ms left then", l,
		s->expires_ms);
}

void sl__expect_state_ms(struct sl_predict *p, const struct sl_sock_match *m,
			 int by_timer, int line)
{
	struct sl_result *r = new_result(p, line);
	int state = m->state ? sl_state_parse(m->state) : -1;
	int64_t lo, hi;

	snprintf(r->what, sizeof(r->what), "a socket on %s stays in %s for "
		 "%d..%d ms (%s)", m->host ? m->host : "any host",
		 m->state ? m->state : "?", m->min_ms, m->max_ms,
		 by_timer ? "by its timer" : "until it leaves it");
	if (state < 0) {
		skip_unknown_state(r, m->state);
		return;
	}
	if (window(p->tl, m->after, NULL, 0, &lo, &hi, r->skipped,
		   sizeof(r->skipped)) < 0)
		return;
	if (by_timer)
		state_timer(p, r, m, state, lo);
	else
		state_lasts(p, r, m, state, lo);
}

/* ---- timing: retransmissions, probes, timeouts (issue: faults) ----
 *
 * Times are taken from the timeline, packets as their sender's capture
 * stamped them (the kernel's skb time, so a busy CPU delays the stamp very
 * little) and calls when they returned.  Each result prints the measured
 * values next to the predicted ones and the tolerance. */

static int tol_ok(double measured, double predicted, struct sl_tol tol)
{
	double d = measured - predicted, w = predicted * tol.pct / 100;

	if (d < 0)
		d = -d;
	if (w < 0)
		w = -w;
	return d <= (w > tol.ms ? w : tol.ms);
}

static void describe_tol(struct sl_tol tol, char *buf, size_t n)
{
	if (tol.pct > 0 && tol.ms > 0)
		appendf(buf, n, " (+/- %g%% or %g ms)", tol.pct, tol.ms);
	else if (tol.pct > 0)
		appendf(buf, n, " (+/- %g%%)", tol.pct);
	else
		appendf(buf, n, " (+/- %g ms)", tol.ms);
}

/* Up to max matching packets in the match's window, as timeline indexes;
 * returns how many matched in all, or -1 (reason in why) when the window
 * cannot be known. */
static int collect(const struct sl_timeline *tl, const struct sl_match *m,
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
	if (window(tl, m->after, m->before, m->within_ms, &lo, &hi, why, n) < 0)
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

#define SL__MAX_TIMES 32

void sl__expect_packets_at_ms(struct sl_predict *p, const double *ms, int n,
			      struct sl_tol tol, const struct sl_match *m,
			      int line)
{
	const struct sl_timeline *tl = p->tl;
	struct sl_result *r = new_result(p, line);
	int idx[SL__MAX_TIMES], found, a, ok;

	describe_match(m, n, r->what, sizeof(r->what));
	appendf(r->what, sizeof(r->what), ", at");
	for (int k = 0; k < n; k++)
		appendf(r->what, sizeof(r->what), "%s%g", k ? ", " : " ", ms[k]);
	appendf(r->what, sizeof(r->what), " ms");
	describe_tol(tol, r->what, sizeof(r->what));
	if (!m->after || n < 1 || n > SL__MAX_TIMES) {
		snprintf(r->skipped, sizeof(r->skipped), "needs .after and 1 to "
			 "%d times", SL__MAX_TIMES);
		return;
	}
	found = collect(tl, m, idx, SL__MAX_TIMES, r->skipped,
			sizeof(r->skipped));
	if (found < 0)
		return;
	a = sl_timeline_find_mark(tl, m->after);
	ok = found == n;
	snprintf(r->evidence, sizeof(r->evidence), "%d matching, at", found);
	for (int k = 0; k < found && k < SL__MAX_TIMES; k++) {
		double t = (double)(tl->ev[idx[k]].t - tl->ev[a].t) /
			   SL_NS_PER_MS;
		int good = k < n && tol_ok(t, ms[k], tol);

		ok = ok && good;
		appendf(r->evidence, sizeof(r->evidence), "%s%.1f%s",
			k ? ", " : " ", t, k < n && !good ? " (off)" : "");
	}
	appendf(r->evidence, sizeof(r->evidence), " ms after \"%s\"", m->after);
	if (found > n)
		appendf(r->evidence, sizeof(r->evidence), "; %d more than "
			"predicted", found - n);
	else if (found < n)
		appendf(r->evidence, sizeof(r->evidence), "; %d fewer than "
			"predicted", n - found);
	r->ok = ok;
}

void sl__measure_gaps_ms(struct sl_predict *p, const char *name,
			 const struct sl_match *m)
{
	const struct sl_timeline *tl = p->tl;
	int idx[SL__MAX_TIMES], found;
	double gap = 0, prev = 0;
	char why[160], mname[64];

	found = collect(tl, m, idx, SL__MAX_TIMES, why, sizeof(why));
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
	int i = last_call(tl, host, name), a;

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
	struct sl_result *r = new_result(p, 0);
	char l[512];
	double got;
	int i;

	snprintf(r->what, sizeof(r->what), "%s: %s returns %g ms after \"%s\"",
		 host, name, ms, after ? after : "?");
	describe_tol(tol, r->what, sizeof(r->what));
	if (call_ms(p->tl, host, name, after, &got, &i, r->skipped,
		    sizeof(r->skipped)) < 0)
		return;
	r->ok = tol_ok(got, ms, tol);
	sl_timeline_format(p->tl, i, l, sizeof(l));
	snprintf(r->evidence, sizeof(r->evidence), "%.1f ms after \"%s\": %s",
		 got, after, l);
}

void measure_call_ms(struct sl_predict *p, const char *mname,
		     const char *host, const char *name, const char *after)
{
	char why[160];
	double got;
	int i;

	if (call_ms(p->tl, host, name, after, &got, &i, why, sizeof(why)) == 0)
		sl_predict_measure(p, mname, got, "ms");
}

/* ---- the kernel's own account (trace.h, counters.h) ---- */

int sl_predict_unavailable(const struct sl_predict *p)
{
	int n = 0;

	for (int i = 0; i < p->nresults; i++)
		n += p->result[i].skipped[0] && p->result[i].unavailable;
	return n;
}

void sl_predict_observe(struct sl_predict *p, const struct sl_timeline *tl)
{
	p->kernel_note[0] = '\0';
	if (tl->kernel != SL_KEV_ALL)
		appendf(p->kernel_note, sizeof(p->kernel_note),
			"kernel events %s: %s",
			tl->kernel ? "partly recorded" : "not recorded",
			tl->kernel_why[0] ? tl->kernel_why : "unknown reason");
	if (tl->kernel_lost)
		appendf(p->kernel_note, sizeof(p->kernel_note),
			"%sthe trace buffer lost events %d time%s",
			p->kernel_note[0] ? "; " : "", tl->kernel_lost,
			tl->kernel_lost == 1 ? "" : "s");
	if (!tl->counters)
		appendf(p->kernel_note, sizeof(p->kernel_note),
			"%skernel counters not read: %s",
			p->kernel_note[0] ? "; " : "",
			tl->counters_why[0] ? tl->counters_why : "unknown reason");
	memcpy(p->host, tl->host, sizeof(p->host));
	p->ncounters = 0;
	for (int i = 0; i < tl->nctr && p->ncounters < SL_MAX_COUNTERS; i++)
		if (tl->ctr[i].value)
			p->counter[p->ncounters++] = tl->ctr[i];
}

/* "at least 2", "at most 0", "2 to 3" (SL_ANY: no bound) */
static void describe_count(long min, long max, char *buf, size_t n)
{
	if (min != SL_ANY && min == max)
		appendf(buf, n, "exactly %ld", min);
	else if (min != SL_ANY && max != SL_ANY)
		appendf(buf, n, "%ld to %ld", min, max);
	else if (max != SL_ANY)
		appendf(buf, n, "at most %ld", max);
	else
		appendf(buf, n, "at least %ld", min == SL_ANY ? 0 : min);
}

/* Is a count between min and max (SL_ANY: no bound)? */
static int count_ok(long v, long min, long max)
{
	return (min == SL_ANY || v >= min) && (max == SL_ANY || v <= max);
}

static void describe_kernel(const struct sl_kernel_match *m, unsigned types,
			    int mode, char *buf, size_t n)
{
	const char *host = m->host ? m->host : "any host";
	int counting = mode == 2 || m->min != SL_ANY || m->max != SL_ANY;
	/* "a RST", "no RSTs", "2 to 3 RSTs" */
	const char *a = counting || !mode ? "" : "a ";
	const char *pl = counting || !mode ? "s" : "";

	buf[0] = '\0';
	appendf(buf, n, "kernel: ");
	if (counting) {
		describe_count(m->min, m->max, buf, n);
		appendf(buf, n, " ");
	} else if (mode == 0) {
		appendf(buf, n, "no ");
	}
	if (types == (1u << SL_KEV_SET_STATE)) {
		appendf(buf, n, "%sstate change%s on %s", a, pl, host);
		if (m->old_state && m->state)
			appendf(buf, n, " %s -> %s", m->old_state, m->state);
		else if (m->state)
			appendf(buf, n, " into %s", m->state);
		else if (m->old_state)
			appendf(buf, n, " out of %s", m->old_state);
	} else if (types == (1u << SL_KEV_SEND_RESET)) {
		appendf(buf, n, "%sRST%s sent by %s", a, pl, host);
	} else if (types == (1u << SL_KEV_RECEIVE_RESET)) {
		appendf(buf, n, "%sRST%s received on %s", a, pl, host);
	} else if (types == (1u << SL_KEV_DROP)) {
		appendf(buf, n, "%sdrop%s on %s", a, pl, host);
	} else if (types) {
		appendf(buf, n, "retransmissions by %s", host);
	} else {
		appendf(buf, n, "%s on %s", m->event ? m->event : "(no event)",
			host);
	}
	if (m->reason)
		appendf(buf, n, " with reason %s", m->reason);
	if (m->state && types != (1u << SL_KEV_SET_STATE))
		appendf(buf, n, " from a socket in %s", m->state);
	if (m->lport)
		appendf(buf, n, " (local port %d)", m->lport);
	if (m->rport)
		appendf(buf, n, " (peer port %d)", m->rport);
	if (m->after)
		appendf(buf, n, " after \"%s\"", m->after);
	if (m->after && m->within_ms > 0)
		appendf(buf, n, " within %d ms", m->within_ms);
	if (m->before)
		appendf(buf, n, " before \"%s\"", m->before);
}

static int kernel_matches(const struct sl_event *e,
			  const struct sl_kernel_match *m, unsigned types,
			  int host, int from, int to)
{
	if (e->kind != SL_EV_KERNEL || !(types & (1u << e->k.type)))
		return 0;
	if (host >= 0 && e->host != host)
		return 0;
	if (m->reason && strcasecmp(e->k.reason, m->reason))
		return 0;
	if (from >= 0 && e->k.oldstate != from)
		return 0;
	if (to >= 0 && e->k.state != to)
		return 0;
	if (m->lport && e->k.lport != m->lport)
		return 0;
	if (m->rport && e->k.rport != m->rport)
		return 0;
	return 1;
}

/* Up to three kernel events of the same kinds on the host in the window:
 * what the kernel said instead.  Those that share the state left or the
 * state entered with the prediction come first (the handshake's changes
 * say nothing about a close). */
static void kernel_instead(const struct sl_timeline *tl, unsigned types,
			   int host, int from, int to, int64_t lo, int64_t hi,
			   char *buf, size_t n)
{
	char line[512];
	int shown = 0, more = 0;

	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < tl->n; i++) {
			const struct sl_event *e = &tl->ev[i];
			int near = (from >= 0 && e->k.oldstate == from) ||
				   (to >= 0 && e->k.state == to) ||
				   (from < 0 && to < 0);

			if (e->kind != SL_EV_KERNEL ||
			    !(types & (1u << e->k.type)) ||
			    (host >= 0 && e->host != host) || e->t < lo ||
			    e->t > hi || near != !pass)
				continue;
			if (shown == 3) {
				more++;
				continue;
			}
			sl_timeline_format(tl, i, line, sizeof(line));
			appendf(buf, n, "%s%s", shown ? " | " : "; instead: ",
				line);
			shown++;
		}
	}
	if (more)
		appendf(buf, n, " (and %d more)", more);
	if (!shown)
		appendf(buf, n, "; no such kernel event there at all");
}

void sl__expect_kernel(struct sl_predict *p, const struct sl_kernel_match *m,
		       const char *event, int mode, int line)
{
	const struct sl_timeline *tl = p->tl;
	struct sl_result *r = new_result(p, line);
	const char *ev = event ? event : m->event;
	int counting = mode == 2 || m->min != SL_ANY || m->max != SL_ANY;
	int from = -1, to = -1, host = -1, found = 0, first = -1, k;
	unsigned types = 0;
	int64_t lo, hi;
	char l[512];

	if (ev && !strcmp(ev, "tcp_retransmit"))
		types = 1u << SL_KEV_RETRANSMIT | 1u << SL_KEV_RETRANSMIT_SYNACK;
	else if (ev && (k = sl_kev_parse(ev)) >= 0)
		types = 1u << k;
	describe_kernel(m, types, mode, r->what, sizeof(r->what));
	if (!types) {
		snprintf(r->skipped, sizeof(r->skipped),
			 "no kernel event named \"%s\"", ev ? ev : "(none)");
		return;
	}
	if ((m->old_state && (from = sl_state_parse(m->old_state)) < 0) ||
	    (m->state && (to = sl_state_parse(m->state)) < 0)) {
		skip_unknown_state(r, from < 0 && m->old_state ? m->old_state :
								 m->state);
		return;
	}
	if ((types & (1u << SL_KEV_SET_STATE)) &&
	    (from == TCP_TIME_WAIT || to == TCP_TIME_WAIT)) {
		/* A check that cannot fail is worse than none: no such
		 * change is ever reported, so say so instead of passing. */
		snprintf(r->skipped, sizeof(r->skipped),
			 "inet_sock_set_state never reports TIME_WAIT (the "
			 "socket becomes a mini-socket and goes to CLOSE): "
			 "predict it with expect_state(.state = \"TIME-WAIT\")");
		return;
	}
	if (m->host && (host = sl_timeline_host(tl, m->host)) < 0) {
		snprintf(r->skipped, sizeof(r->skipped), "no host named \"%s\"",
			 m->host);
		return;
	}
	if (mode == 2 && m->min == SL_ANY && m->max == SL_ANY) {
		snprintf(r->skipped, sizeof(r->skipped),
			 "a count needs .min or .max");
		return;
	}
	if ((tl->kernel & types) != types) {
		snprintf(r->skipped, sizeof(r->skipped),
			 "kernel events were not recorded: %.120s",
			 tl->kernel_why[0] ? tl->kernel_why : "unknown reason");
		r->unavailable = 1;
		return;
	}
	if (tl->kernel_lost && (counting || mode == 0)) {
		snprintf(r->skipped, sizeof(r->skipped),
			 "the trace buffer lost events: a count or an absence "
			 "cannot be judged");
		return;
	}
	if (window(tl, m->after, m->before, m->within_ms, &lo, &hi,
		   r->skipped, sizeof(r->skipped)) < 0)
		return;
	for (int i = 0; i < tl->n; i++) {
		const struct sl_event *e = &tl->ev[i];

		if (e->t < lo || e->t > hi ||
		    !kernel_matches(e, m, types, host, from, to))
			continue;
		if (first < 0)
			first = i;
		found++;
	}
	if (counting)
		r->ok = count_ok(found, m->min, m->max);
	else
		r->ok = mode ? found > 0 : found == 0;
	if (found) {
		sl_timeline_format(tl, first, l, sizeof(l));
		snprintf(r->evidence, sizeof(r->evidence), "%d matching: %s",
			 found, l);
		if (m->after) {
			int a = sl_timeline_find_mark(tl, m->after);

			appendf(r->evidence, sizeof(r->evidence),
				" (%.3f ms after \"%s\")",
				(double)(tl->ev[first].t - tl->ev[a].t) /
					SL_NS_PER_MS, m->after);
		}
	} else {
		snprintf(r->evidence, sizeof(r->evidence), "0 matching");
		kernel_instead(tl, types, host, from, to, lo, hi, r->evidence,
			       sizeof(r->evidence));
	}
}

void sl__expect_counter(struct sl_predict *p, const char *host,
			const char *name, const struct sl_count *c, int line)
{
	const struct sl_timeline *tl = p->tl;
	struct sl_result *r = new_result(p, line);
	int h = host ? sl_timeline_host(tl, host) : -1, found;
	int64_t v;

	snprintf(r->what, sizeof(r->what), "kernel counter: %s %s moves by ",
		 host ? host : "?", name ? name : "?");
	describe_count(c->min, c->max, r->what, sizeof(r->what));
	appendf(r->what, sizeof(r->what), " over the run (nstat)");
	if (c->min == SL_ANY && c->max == SL_ANY) {
		snprintf(r->skipped, sizeof(r->skipped),
			 "a counter prediction needs .min or .max");
		return;
	}
	if (h < 0 || !name) {
		snprintf(r->skipped, sizeof(r->skipped), "no host named \"%s\"",
			 host ? host : "(none)");
		return;
	}
	if (!tl->counters) {
		snprintf(r->skipped, sizeof(r->skipped),
			 "kernel counters were not read: %.120s",
			 tl->counters_why[0] ? tl->counters_why :
					       "unknown reason");
		r->unavailable = 1;
		return;
	}
	v = sl_counters_get(tl, h, name, &found);
	if (!found) {
		snprintf(r->skipped, sizeof(r->skipped),
			 "this kernel has no counter named %s (nstat's names: "
			 "TcpExtTCPAbortOnClose, TcpOutRsts, ...)", name);
		return;
	}
	r->ok = count_ok(v, c->min, c->max);
	snprintf(r->evidence, sizeof(r->evidence), "%s %s %+lld over the run",
		 host, name, (long long)v);
}
