/* predict.c: the expect_* and measure_* vocabulary (socklab.h, predict.h).
 *
 * Every check here has a unit test that feeds it a recorded timeline on
 * which it must fail (tests/test_predict.c): a check that cannot fail would
 * make every verdict meaningless.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "predict.h"
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
	if (p->nresults == 0)
		return 0;
	for (int i = 0; i < p->nresults; i++)
		if (!p->result[i].ok || p->result[i].skipped[0])
			return 0;
	return 1;
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
	if (m->len)
		appendf(buf, n, " of length %ld", m->len - 1);
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
	if (m->len && (long)e->pkt.len != m->len - 1)
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

static int state_matches(const struct sl_timeline *tl,
			 const struct sl_event *e,
			 const struct sl_state_match *m, int state)
{
	if (e->kind != SL_EV_STATE || e->sock.state != state)
		return 0;
	if (m->host && strcmp(tl->host[e->host], m->host))
		return 0;
	if (m->lport && e->sock.lport != m->lport)
		return 0;
	if (m->rport && e->sock.rport != m->rport)
		return 0;
	return 1;
}

void sl__expect_state(struct sl_predict *p, const struct sl_state_match *m,
		      int seen, int line)
{
	const struct sl_timeline *tl = p->tl;
	struct sl_result *r = new_result(p, line);
	int state = m->state ? sl_state_parse(m->state) : -1;
	int64_t lo, hi;
	int found = -1;
	char l[512];

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
		snprintf(r->skipped, sizeof(r->skipped),
			 "unknown state \"%s\" in the prediction",
			 m->state ? m->state : "(none)");
		return;
	}
	if (window(tl, m->after, m->before, 0, &lo, &hi, r->skipped,
		   sizeof(r->skipped)) < 0)
		return;
	for (int i = 0; i < tl->n && found < 0; i++)
		if (tl->ev[i].t >= lo && tl->ev[i].t <= hi &&
		    state_matches(tl, &tl->ev[i], m, state))
			found = i;
	r->ok = seen ? found >= 0 : found < 0;
	if (found >= 0) {
		sl_timeline_format(tl, found, l, sizeof(l));
		snprintf(r->evidence, sizeof(r->evidence), "seen: %s", l);
	} else {
		int shown = 0;

		snprintf(r->evidence, sizeof(r->evidence), "never seen");
		/* Say which states that host's sockets did pass through. */
		for (int i = 0; i < tl->n; i++) {
			const struct sl_event *e = &tl->ev[i];

			if (e->kind != SL_EV_STATE || e->t < lo || e->t > hi ||
			    (m->host && strcmp(tl->host[e->host], m->host)) ||
			    e->sock.state == 10 /* LISTEN */)
				continue;
			appendf(r->evidence, sizeof(r->evidence), "%s%s",
				shown++ ? ", " : "; states seen: ",
				sl_state_name(e->sock.state));
		}
	}
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
