/* predict_kernel.c: predictions on the kernel's own account: its
 * tracepoints (expect_kernel, expect_state_change, expect_drop,
 * expect_retransmits; trace.h) and its counters (expect_counter;
 * counters.h).
 */
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "predict.h"
#include "sockhist.h"
#include "socklab.h"

static void describe_count(long min, long max, char *buf, size_t n)
{
	if (min != SL__ANY && min == max)
		sl__appendf(buf, n, "exactly %ld", min);
	else if (min != SL__ANY && max != SL__ANY)
		sl__appendf(buf, n, "%ld to %ld", min, max);
	else if (max != SL__ANY)
		sl__appendf(buf, n, "at most %ld", max);
	else
		sl__appendf(buf, n, "at least %ld", min == SL__ANY ? 0 : min);
}

/* Is a count between min and max (SL__ANY: no bound)? */
static int count_ok(long v, long min, long max)
{
	return (min == SL__ANY || v >= min) && (max == SL__ANY || v <= max);
}

static void describe_kernel(const struct sl_kernel_match *m, unsigned types,
			    int mode, char *buf, size_t n)
{
	const char *host = m->host ? m->host : "any host";
	int counting = mode == 2 || m->min != SL__ANY || m->max != SL__ANY;
	/* "a RST", "no RSTs", "2 to 3 RSTs" */
	const char *a = counting || !mode ? "" : "a ";
	const char *pl = counting || !mode ? "s" : "";

	buf[0] = '\0';
	sl__appendf(buf, n, "kernel: ");
	if (counting) {
		describe_count(m->min, m->max, buf, n);
		sl__appendf(buf, n, " ");
	} else if (mode == 0) {
		sl__appendf(buf, n, "no ");
	}
	if (types == (1u << SL_KEV_SET_STATE)) {
		sl__appendf(buf, n, "%sstate change%s on %s", a, pl, host);
		if (m->old_state && m->state)
			sl__appendf(buf, n, " %s -> %s", m->old_state,
				    m->state);
		else if (m->state)
			sl__appendf(buf, n, " into %s", m->state);
		else if (m->old_state)
			sl__appendf(buf, n, " out of %s", m->old_state);
	} else if (types == (1u << SL_KEV_SEND_RESET)) {
		sl__appendf(buf, n, "%sRST%s sent by %s", a, pl, host);
	} else if (types == (1u << SL_KEV_RECEIVE_RESET)) {
		sl__appendf(buf, n, "%sRST%s received on %s", a, pl, host);
	} else if (types == (1u << SL_KEV_DROP)) {
		sl__appendf(buf, n, "%sdrop%s on %s", a, pl, host);
	} else if (types) {
		sl__appendf(buf, n, "retransmissions by %s", host);
	} else {
		sl__appendf(buf, n, "%s on %s",
			    m->event ? m->event : "(no event)", host);
	}
	if (m->reason)
		sl__appendf(buf, n, " with reason %s", m->reason);
	if (m->state && types != (1u << SL_KEV_SET_STATE))
		sl__appendf(buf, n, " from a socket in %s", m->state);
	sl__describe_scope(buf, n, m->lport, m->rport, m->after, m->within_ms,
			   m->before);
}

/* What a kernel match asks for, resolved against the timeline: the event
 * kinds (1 << SL_KEV_...), and the host and states as numbers, -1 for
 * any. */
struct kquery {
	unsigned types;
	int host, from, to;
};

static int kernel_matches(const struct sl_event *e,
			  const struct sl_kernel_match *m,
			  const struct kquery *q)
{
	if (e->kind != SL_EV_KERNEL || !(q->types & (1u << e->k.type)))
		return 0;
	if (q->host >= 0 && e->host != q->host)
		return 0;
	if (m->reason && strcasecmp(e->k.reason, m->reason))
		return 0;
	if (q->from >= 0 && e->k.oldstate != q->from)
		return 0;
	if (q->to >= 0 && e->k.state != q->to)
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
static void kernel_instead(const struct sl_timeline *tl, const struct kquery *q,
			   int64_t lo, int64_t hi, char *buf, size_t n)
{
	char line[512];
	int shown = 0, more = 0;

	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < tl->n; i++) {
			const struct sl_event *e = &tl->ev[i];
			int near = (q->from >= 0 && e->k.oldstate == q->from) ||
				   (q->to >= 0 && e->k.state == q->to) ||
				   (q->from < 0 && q->to < 0);

			if (e->kind != SL_EV_KERNEL ||
			    !(q->types & (1u << e->k.type)) ||
			    (q->host >= 0 && e->host != q->host) || e->t < lo ||
			    e->t > hi || near != !pass)
				continue;
			if (shown == 3) {
				more++;
				continue;
			}
			sl_timeline_format(tl, i, line, sizeof(line));
			sl__appendf(buf, n, "%s%s",
				    shown ? " | " : "; instead: ", line);
			shown++;
		}
	}
	if (more)
		sl__appendf(buf, n, " (and %d more)", more);
	if (!shown)
		sl__appendf(buf, n, "; no such kernel event there at all");
}

/* Resolves the states and the host of m into q and checks that the
 * prediction can be judged on this timeline.  Returns 0, or -1 with r
 * skipped and the reason. */
static int kernel_query(const struct sl_timeline *tl,
			const struct sl_kernel_match *m, int mode,
			struct kquery *q, struct sl_result *r)
{
	int counting = mode == 2 || m->min != SL__ANY || m->max != SL__ANY;
	const char *why = NULL;

	q->host = q->from = q->to = -1;
	if ((m->old_state && (q->from = sl_state_parse(m->old_state)) < 0) ||
	    (m->state && (q->to = sl_state_parse(m->state)) < 0)) {
		sl__skip_unknown_state(r, q->from < 0 && m->old_state ?
						  m->old_state :
						  m->state);
		return -1;
	}
	if ((q->types & (1u << SL_KEV_SET_STATE)) &&
	    (q->from == TCP_TIME_WAIT || q->to == TCP_TIME_WAIT))
		/* A check that cannot fail is worse than none: no such
		 * change is ever reported, so say so instead of passing. */
		why = "inet_sock_set_state never reports TIME_WAIT (the "
		      "socket becomes a mini-socket and goes to CLOSE): "
		      "predict it with expect_state(.state = \"TIME-WAIT\")";
	else if (m->host && (q->host = sl_timeline_host(tl, m->host)) < 0) {
		snprintf(r->skipped, sizeof(r->skipped), "no host named \"%s\"",
			 m->host);
		return -1;
	} else if (mode == 2 && m->min == SL__ANY && m->max == SL__ANY)
		why = "a count needs .min or .max";
	else if (tl->kernel_lost && (counting || mode == 0) &&
		 (tl->kernel & q->types) == q->types)
		why = "the trace buffer lost events: a count or an absence "
		      "cannot be judged";
	if (why) {
		snprintf(r->skipped, sizeof(r->skipped), "%s", why);
		return -1;
	}
	if ((tl->kernel & q->types) != q->types) {
		snprintf(r->skipped, sizeof(r->skipped),
			 "kernel events were not recorded: %.120s",
			 tl->kernel_why[0] ? tl->kernel_why : "unknown reason");
		r->unavailable = 1;
		return -1;
	}
	return 0;
}

/* What this kernel's tracepoints of types leave out (timeline.h), or
 * NULL when they report all of it. */
static const char *kernel_limit(const struct sl_timeline *tl, unsigned types)
{
	for (int k = 0; k < SL_KEV_COUNT; k++)
		if ((types & (1u << k)) && tl->kernel_limit[k][0])
			return tl->kernel_limit[k];
	return NULL;
}

/* Skips r as unjudgeable on this kernel: like a missing source, it
 * neither passes nor stops the variant from holding on the rest. */
static void skip_limited(struct sl_result *r, const char *limit)
{
	r->ok = 0;
	r->unavailable = 1;
	snprintf(r->skipped, sizeof(r->skipped), "%.159s", limit);
}

void sl__expect_kernel(struct sl_predict *p, const struct sl_kernel_match *m,
		       const char *event, int mode, int line)
{
	const struct sl_timeline *tl = p->tl;
	struct sl_result *r = sl__predict_result(p, line);
	const char *ev = event ? event : m->event;
	struct kquery q = { 0 };
	const char *limit;
	int found = 0, first = -1, k;
	int64_t lo, hi;

	if (ev && !strcmp(ev, "tcp_retransmit"))
		q.types = 1u << SL_KEV_RETRANSMIT |
			  1u << SL_KEV_RETRANSMIT_SYNACK;
	else if (ev && (k = sl_kev_parse(ev)) >= 0)
		q.types = 1u << k;
	describe_kernel(m, q.types, mode, r->what, sizeof(r->what));
	if (!q.types) {
		snprintf(r->skipped, sizeof(r->skipped),
			 "no kernel event named \"%s\"", ev ? ev : "(none)");
		return;
	}
	if (kernel_query(tl, m, mode, &q, r) < 0 ||
	    sl__predict_window(tl, m->after, m->before, m->within_ms, &lo, &hi,
			       r->skipped, sizeof(r->skipped)) < 0)
		return;
	limit = kernel_limit(tl, q.types);
	if (limit && m->reason && (q.types & (1u << SL_KEV_SEND_RESET))) {
		skip_limited(r, limit); /* no reason is ever given there */
		return;
	}
	for (int i = 0; i < tl->n; i++) {
		if (tl->ev[i].t < lo || tl->ev[i].t > hi ||
		    !kernel_matches(&tl->ev[i], m, &q))
			continue;
		if (first < 0)
			first = i;
		found++;
	}
	if (mode == 2 || m->min != SL__ANY || m->max != SL__ANY)
		r->ok = count_ok(found, m->min, m->max);
	else
		r->ok = mode ? found > 0 : found == 0;
	sl__evidence_matching(tl, r, found, first, first, m->after);
	if (!found)
		kernel_instead(tl, &q, lo, hi, r->evidence,
			       sizeof(r->evidence));
	/* A kernel that leaves events out can still prove that one
	 * happened; an absence, a count or a miss proves nothing there. */
	if (limit &&
	    !(mode == 1 && m->min == SL__ANY && m->max == SL__ANY && found))
		skip_limited(r, limit);
}

void sl__expect_counter(struct sl_predict *p, const char *host,
			const char *name, const struct sl_count *c, int line)
{
	const struct sl_timeline *tl = p->tl;
	struct sl_result *r = sl__predict_result(p, line);
	int h = host ? sl_timeline_host(tl, host) : -1, found;
	int64_t v;

	snprintf(r->what, sizeof(r->what), "kernel counter: %s %s moves by ",
		 host ? host : "?", name ? name : "?");
	describe_count(c->min, c->max, r->what, sizeof(r->what));
	sl__appendf(r->what, sizeof(r->what), " over the run (nstat)");
	if (c->min == SL__ANY && c->max == SL__ANY) {
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
			 "TcpExtTCPAbortOnClose, TcpOutRsts, ...)",
			 name);
		return;
	}
	r->ok = count_ok(v, c->min, c->max);
	snprintf(r->evidence, sizeof(r->evidence), "%s %s %+lld over the run",
		 host, name, (long long)v);
}
