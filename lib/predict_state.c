/* predict_state.c: predictions on sockets' states and lives (expect_state,
 * expect_no_state, expect_gone, expect_state_kept, expect_state_lasts,
 * expect_state_timer), on the spans of sockhist.h: the kernel's changes
 * first, the sock_diag samples for what only they show.
 */
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>

#include "ipaddr.h"
#include "clock.h"
#include "predict.h"
#include "sockhist.h"
#include "socklab.h"

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
	int from = s->kernel_from	? s->from_ev :
		   s->first_sample >= 0 ? s->first_sample :
					  s->from_ev;

	if (from >= 0) {
		sl_timeline_format(tl, from, l, sizeof(l));
		sl__appendf(buf, n, "%s", l);
	}
	if (s->mini && s->kernel_from && s->first_sample >= 0) {
		sl_timeline_format(tl, s->first_sample, l, sizeof(l));
		sl__appendf(buf, n, " | %s", l);
	}
	if (s->to != SL_SPAN_OPEN)
		sl__appendf(buf, n, " (for %.3f ms, %s)",
			    (double)(s->to - s->from) / SL_NS_PER_MS,
			    s->kernel_from && s->kernel_to ? "by the kernel's "
							     "clock" :
							     "as sampled");
	else
		sl__appendf(buf, n, " (still so when the run ended)");
}

/* Why a state's absence cannot be judged here: only samples saw states,
 * and a short one falls between them. */
static void skip_sampled(struct sl_result *r, const struct sl_spans *sp)
{
	snprintf(r->skipped, sizeof(r->skipped),
		 "without the kernel's state changes (%.60s) only sock_diag "
		 "samples, every 2-20 ms, show states: a shorter one may have "
		 "been missed",
		 sp->kernel_why);
	r->unavailable = 1;
}

/* Does sample e (a socket-state line) show a socket of m, in state
 * (-1: any), with m's queues? */
static int sample_matches(const struct sl_timeline *tl,
			  const struct sl_event *e,
			  const struct sl_sock_match *m, int state)
{
	if (e->kind != SL_EV_STATE || (state >= 0 && e->sock.state != state))
		return 0;
	if (m->host && (e->host < 0 || e->host >= tl->nhosts ||
			strcmp(tl->host[e->host], m->host)))
		return 0;
	if ((m->lport && e->sock.lport != m->lport) ||
	    (m->rport && e->sock.rport != m->rport))
		return 0;
	return 1;
}

/* With .rqueue or .wqueue, a state is judged on the samples alone: only
 * sock_diag tells a socket's queues, and the samplers record a line each
 * time they change, so every value they saw is on the timeline. */
static void expect_queues(struct sl_predict *p, struct sl_result *r,
			  const struct sl_sock_match *m, int state, int seen,
			  int64_t lo, int64_t hi)
{
	const struct sl_timeline *tl = p->tl;
	long rmin = -1, rmax = -1, wmin = -1, wmax = -1;
	char l[512];

	if (m->rqueue != SL__ANY)
		sl__appendf(r->what, sizeof(r->what), " with Recv-Q %ld",
			    m->rqueue);
	if (m->wqueue != SL__ANY)
		sl__appendf(r->what, sizeof(r->what), " with Send-Q %ld",
			    m->wqueue);
	for (int i = 0; i < tl->n; i++) {
		const struct sl_event *e = &tl->ev[i];

		if (e->t < lo || e->t > hi || !sample_matches(tl, e, m, state))
			continue;
		if ((m->rqueue == SL__ANY || e->sock.rqueue == m->rqueue) &&
		    (m->wqueue == SL__ANY || e->sock.wqueue == m->wqueue)) {
			r->ok = seen;
			sl_timeline_format(tl, i, l, sizeof(l));
			snprintf(r->evidence, sizeof(r->evidence), "seen: %s",
				 l);
			return;
		}
		if (rmin < 0 || e->sock.rqueue < rmin)
			rmin = e->sock.rqueue;
		if ((long)e->sock.rqueue > rmax)
			rmax = e->sock.rqueue;
		if (wmin < 0 || e->sock.wqueue < wmin)
			wmin = e->sock.wqueue;
		if ((long)e->sock.wqueue > wmax)
			wmax = e->sock.wqueue;
	}
	r->ok = !seen;
	if (rmax < 0)
		snprintf(r->evidence, sizeof(r->evidence),
			 "no sample showed such a socket in %s", m->state);
	else
		snprintf(r->evidence, sizeof(r->evidence),
			 "samples in %s showed Recv-Q %ld..%ld, Send-Q "
			 "%ld..%ld",
			 m->state, rmin, rmax, wmin, wmax);
}

void sl__measure_queues(struct sl_predict *p, const char *name,
			const struct sl_sock_match *m)
{
	const struct sl_timeline *tl = p->tl;
	int state = m->state ? sl_state_parse(m->state) : -1;
	long rmax = -1, wmax = -1;
	char mname[96];
	int64_t lo, hi;
	char why[160];

	if ((m->state && state < 0) ||
	    sl__predict_window(tl, m->after, m->before, m->within_ms, &lo, &hi,
			       why, sizeof(why)) < 0)
		return;
	for (int i = 0; i < tl->n; i++) {
		const struct sl_event *e = &tl->ev[i];

		if (e->t < lo || e->t > hi || !sample_matches(tl, e, m, state))
			continue;
		if ((long)e->sock.rqueue > rmax)
			rmax = e->sock.rqueue;
		if ((long)e->sock.wqueue > wmax)
			wmax = e->sock.wqueue;
	}
	if (rmax < 0)
		return;
	/* A listener's queues count connections: its accept queue's fill
	 * and size (inet_diag), not bytes. */
	snprintf(mname, sizeof(mname), "%s.recv_q_max", name);
	sl_predict_measure(p, mname, (double)rmax,
			   state == TCP_LISTEN ? "conns" : "bytes");
	snprintf(mname, sizeof(mname), "%s.send_q_max", name);
	sl_predict_measure(p, mname, (double)wmax,
			   state == TCP_LISTEN ? "conns" : "bytes");
}

void sl__expect_state(struct sl_predict *p, const struct sl_sock_match *m,
		      int seen, int line)
{
	const struct sl_timeline *tl = p->tl;
	struct sl_result *r = sl__predict_result(p, line);
	int state = m->state ? sl_state_parse(m->state) : -1;
	struct sl_spans sp;
	int64_t lo, hi;
	int found = -1, shown = 0;

	snprintf(r->what, sizeof(r->what), "%s socket on %s %s %s",
		 seen ? "a" : "no", m->host ? m->host : "any host",
		 seen ? "seen in" : "ever in", m->state ? m->state : "?");
	sl__describe_scope(r->what, sizeof(r->what), m->lport, m->rport,
			   m->after, m->within_ms, m->before);
	if (state < 0) {
		sl__skip_unknown_state(r, m->state);
		return;
	}
	if (sl__predict_window(tl, m->after, m->before, m->within_ms, &lo, &hi,
			       r->skipped, sizeof(r->skipped)) < 0)
		return;
	if (m->rqueue != SL__ANY || m->wqueue != SL__ANY) {
		expect_queues(p, r, m, state, seen, lo, hi);
		return;
	}
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
		sl__appendf(r->evidence, sizeof(r->evidence), "%s%s",
			    shown++ ? ", " : "; states seen: ",
			    sl_state_name(x->state));
	}
	if (!sp.kernel)
		sl__appendf(r->evidence, sizeof(r->evidence), " (sampled)");
	sl_spans_free(&sp);
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
	snprintf(buf, n, "a socket on %s %s", m->host ? m->host : "any host",
		 verb);
	sl__describe_scope(buf, n, m->lport, m->rport, m->after, m->within_ms,
			   m->before);
}

/* What every prediction on a connection's life starts with: its result,
 * described as "a socket on <host> <verb> ...", the state it names (-1 for
 * none, where any_state allows that), the window its marks give, and with
 * spans the spans. */
struct life {
	const struct sl_timeline *tl;
	struct sl_result *r;
	int state;
	int64_t lo, hi;
	struct sl_spans sp;
};

/* Returns 0, or -1 when the prediction is skipped (the reason in its
 * result). */
static int life_begin(struct sl_predict *p, const struct sl_sock_match *m,
		      const char *verb, int any_state, int spans, int line,
		      struct life *c)
{
	struct sl_result *r = sl__predict_result(p, line);

	c->tl = p->tl;
	c->r = r;
	if (verb)
		describe_sock(m, verb, r->what, sizeof(r->what));
	c->state = m->state ? sl_state_parse(m->state) : -1;
	if (c->state < 0 && (m->state || !any_state)) {
		sl__skip_unknown_state(r, m->state);
		return -1;
	}
	if (sl__predict_window(c->tl, m->after, m->before, m->within_ms, &c->lo,
			       &c->hi, r->skipped, sizeof(r->skipped)) < 0)
		return -1;
	if (spans && sl_spans_build(c->tl, &c->sp) < 0) {
		snprintf(r->skipped, sizeof(r->skipped), "out of memory");
		return -1;
	}
	return 0;
}

/* Appends prefix and the timeline line of event i, if there is one. */
static void append_event(const struct sl_timeline *tl, int i,
			 const char *prefix, char *buf, size_t n)
{
	char l[512];

	if (i < 0)
		return;
	sl_timeline_format(tl, i, l, sizeof(l));
	sl__appendf(buf, n, "%s%s", prefix, l);
}

void sl__expect_gone(struct sl_predict *p, const struct sl_sock_match *m,
		     int line)
{
	struct life c;
	const struct sl_span *s;
	int found = -1, last = -1;
	char verb[64];

	snprintf(verb, sizeof(verb), "%s%s%sdisappears",
		 m->state ? "last in " : "", m->state ? m->state : "",
		 m->state ? ", " : "");
	if (life_begin(p, m, verb, 1, 1, line, &c) < 0)
		return;
	for (int i = 0; i < c.sp.n && found < 0; i++) {
		s = &c.sp.s[i];
		if (!conn_matches(c.tl, s, m) ||
		    (c.state >= 0 && s->state != c.state))
			continue;
		last = i;
		if (s->gone && s->to >= c.lo && s->to <= c.hi)
			found = i;
	}
	c.r->ok = found >= 0;
	if (found >= 0) {
		s = &c.sp.s[found];
		append_event(c.tl, s->to_ev, "", c.r->evidence,
			     sizeof(c.r->evidence));
		if (m->after)
			sl__appendf(c.r->evidence, sizeof(c.r->evidence),
				    " (%.3f ms after \"%s\"%s)",
				    (double)(s->to - c.lo) / SL_NS_PER_MS,
				    m->after,
				    s->kernel_to ? "" : "; as sampled");
	} else {
		snprintf(c.r->evidence, sizeof(c.r->evidence),
			 "did not disappear in that window");
		if (last >= 0) {
			sl__appendf(c.r->evidence, sizeof(c.r->evidence),
				    "; last seen: ");
			describe_span(c.tl, &c.sp.s[last], c.r->evidence,
				      sizeof(c.r->evidence));
		}
	}
	sl_spans_free(&c.sp);
}

void sl__expect_state_kept(struct sl_predict *p, const struct sl_sock_match *m,
			   int line)
{
	struct life c;
	int kept = -1, broke = -1;
	char verb[80];

	snprintf(verb, sizeof(verb), "in %s and still in it when the run ended",
		 m->state ? m->state : "?");
	if (life_begin(p, m, verb, 0, 1, line, &c) < 0)
		return;
	/* In the state at the mark, and never out of it after. */
	for (int i = 0; i < c.sp.n && kept < 0; i++) {
		const struct sl_span *s = &c.sp.s[i];

		if (!conn_matches(c.tl, s, m) || s->state != c.state ||
		    s->from > c.lo || s->to < c.lo)
			continue;
		if (s->to == SL_SPAN_OPEN)
			kept = i;
		else if (broke < 0)
			broke = i;
	}
	c.r->ok = kept >= 0;
	if (kept >= 0) {
		snprintf(c.r->evidence, sizeof(c.r->evidence), "in %s since ",
			 m->state);
		describe_span(c.tl, &c.sp.s[kept], c.r->evidence,
			      sizeof(c.r->evidence));
	} else if (broke >= 0) {
		snprintf(c.r->evidence, sizeof(c.r->evidence), "left it");
		append_event(c.tl, c.sp.s[broke].to_ev, ": ", c.r->evidence,
			     sizeof(c.r->evidence));
	} else {
		snprintf(c.r->evidence, sizeof(c.r->evidence),
			 "no such socket in %s at that moment", m->state);
	}
	sl_spans_free(&c.sp);
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
		if ((sl_ip_eq(&k->daddr, &s->laddr) && k->dport == s->lport &&
		     sl_ip_eq(&k->saddr, &s->raddr) && k->sport == s->rport) ||
		    (sl_ip_eq(&k->saddr, &s->laddr) && k->sport == s->lport &&
		     sl_ip_eq(&k->daddr, &s->raddr) && k->dport == s->rport))
			entry = i;
	}
	return entry;
}

/* Where a duration runs from: the kernel's change or the segment at
 * timeline index entry, or the first sample when there is neither. */
static void append_entry(const struct sl_timeline *tl, int entry, char *buf,
			 size_t n)
{
	if (entry >= 0)
		append_event(tl, entry, "", buf, n);
	else
		sl__appendf(buf, n,
			    "its first sample (no segment seen before it)");
}

/* A duration against the match's tolerance, also kept as a measurement;
 * the evidence starts with the figure and goes on with where it runs
 * from.  late: how late the run's timers ran, in ms, allowed above the
 * tolerance (lateness.h) for a duration that ended when a timer fired and
 * was seen so; 0 for one read from the timer itself, whose figure no
 * lateness moves. */
static void judge_ms(struct sl_predict *p, struct sl_result *r,
		     const struct sl_sock_match *m, double ms, double late,
		     const char *how)
{
	int over = m->max_ms > 0 && ms > m->max_ms;
	char name[64];

	r->ok = ms >= m->min_ms && (!over || ms <= m->max_ms + late);
	snprintf(name, sizeof(name), "%s %s %s", m->host ? m->host : "socket",
		 m->state, how);
	sl_predict_measure(p, name, ms, "ms");
	snprintf(r->evidence, sizeof(r->evidence),
		 "%.1f ms%s (tolerance %d..%d ms", ms,
		 over && r->ok ? " (late)" : "", m->min_ms, m->max_ms);
	if (late > 0)
		sl__appendf(r->evidence, sizeof(r->evidence),
			    ", and %.1f ms above: this run's timers woke that "
			    "late",
			    late);
	sl__appendf(r->evidence, sizeof(r->evidence), "), from ");
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

	if (sl_spans_build(tl, &sp) < 0) {
		snprintf(r->skipped, sizeof(r->skipped), "out of memory");
		return;
	}
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
		 sl__late_ms(tl), "until it left");
	if (s->kernel_from && s->from_ev >= 0)
		entry = s->from_ev;
	append_entry(tl, entry, r->evidence, sizeof(r->evidence));
	append_event(tl, s->to_ev, " | then: ", r->evidence,
		     sizeof(r->evidence));
	if (s->to_ev >= 0 && !s->kernel_to)
		sl__appendf(r->evidence, sizeof(r->evidence), " (as sampled)");
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
	judge_ms(p, r, m, (double)(t_end - t_entry) / SL_NS_PER_MS, 0,
		 "by its timer");
	append_entry(tl, entry, r->evidence, sizeof(r->evidence));
	append_event(tl, first, " | first seen: ", r->evidence,
		     sizeof(r->evidence));
	sl__appendf(r->evidence, sizeof(r->evidence),
		    " | its timer had %u ms left then", s->expires_ms);
}

void sl__expect_state_ms(struct sl_predict *p, const struct sl_sock_match *m,
			 int by_timer, int line)
{
	struct life c;
	int skipped = life_begin(p, m, NULL, 0, 0, line, &c);

	/* The description first: a skipped prediction shows it too. */
	snprintf(c.r->what, sizeof(c.r->what),
		 "a socket on %s stays in %s "
		 "for %d..%d ms (%s)",
		 m->host ? m->host : "any host", m->state ? m->state : "?",
		 m->min_ms, m->max_ms,
		 by_timer ? "by its timer" : "until it leaves it");
	if (skipped < 0)
		return;
	if (by_timer)
		state_timer(p, c.r, m, c.state, c.lo);
	else
		state_lasts(p, c.r, m, c.state, c.lo);
}
