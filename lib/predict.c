/* predict.c: a variant's predictions and measurements (predict.h), and
 * the predictions on what the roles' calls returned.
 *
 * The expect_* and measure_* vocabulary of socklab.h is judged in one file
 * per job (predict.h lists them); this one keeps the results they add
 * and what they share.  Every check has a unit test that feeds it a
 * recorded timeline on which it must fail (tests/test_predict.c,
 * test_faults_predict.c, test_trace_predict.c): a check that cannot fail
 * would make every verdict meaningless.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "ipaddr.h"
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

int sl_predict_family(const struct sl_predict *p)
{
	for (int i = 0; p->tl && i < p->tl->n; i++)
		if (p->tl->ev[i].kind == SL_EV_PACKET)
			return sl_ip_family(&p->tl->ev[i].pkt.saddr);
	return AF_INET;
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

struct sl_result *sl__predict_result(struct sl_predict *p, int line)
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

void sl__appendf(char *buf, size_t n, const char *fmt, ...)
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
int sl__predict_window(const struct sl_timeline *tl, const char *after,
		       const char *before, int within_ms, int64_t *lo,
		       int64_t *hi, char *why, size_t n)
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

/* A prediction that names a state ss does not know is not evaluated: it
 * is skipped with the name, so it can never count as observed. */
void sl__skip_unknown_state(struct sl_result *r, const char *name)
{
	snprintf(r->skipped, sizeof(r->skipped),
		 "unknown state \"%s\" in the prediction",
		 name ? name : "(none)");
}

/* Appends where a prediction looks: the ports (0: any) and the window of
 * its marks, " (local port 7007) after \"closing\" within 50 ms". */
void sl__describe_scope(char *buf, size_t n, int lport, int rport,
			const char *after, int within_ms, const char *before)
{
	if (lport)
		sl__appendf(buf, n, " (local port %d)", lport);
	if (rport)
		sl__appendf(buf, n, " (peer port %d)", rport);
	if (after)
		sl__appendf(buf, n, " after \"%s\"", after);
	if (after && within_ms > 0)
		sl__appendf(buf, n, " within %d ms", within_ms);
	if (before)
		sl__appendf(buf, n, " before \"%s\"", before);
}

/* The evidence of a count: "0 matching", or "3 matching: " with the
 * timeline line at index shown and the time from the mark after to the
 * first match. */
void sl__evidence_matching(const struct sl_timeline *tl, struct sl_result *r,
			   int found, int shown, int first, const char *after)
{
	char l[512];

	if (!found) {
		snprintf(r->evidence, sizeof(r->evidence), "0 matching");
		return;
	}
	sl_timeline_format(tl, shown, l, sizeof(l));
	snprintf(r->evidence, sizeof(r->evidence), "%d matching: %s", found, l);
	if (after) {
		int a = sl_timeline_find_mark(tl, after);

		sl__appendf(r->evidence, sizeof(r->evidence),
			    " (%.3f ms after \"%s\")",
			    (double)(tl->ev[first].t - tl->ev[a].t) /
				    SL_NS_PER_MS,
			    after);
	}
}

/* ---- what the roles' calls returned ---- */

/* The last call named name on host, or -1. */
int sl__last_call(const struct sl_timeline *tl, const char *host,
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
	struct sl_result *r = sl__predict_result(p, 0);
	int i = sl__last_call(p->tl, host, name);
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
	struct sl_result *r = sl__predict_result(p, 0);
	int i = sl__last_call(p->tl, host, name);
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

int sl_predict_ret(struct sl_predict *p, const char *host, const char *name,
		   const char *unit, long *ret)
{
	int i = sl__last_call(p->tl, host, name);
	char mname[64];
	struct sl_result *r;

	if (i >= 0 && p->tl->ev[i].ret >= 0) {
		*ret = p->tl->ev[i].ret;
		snprintf(mname, sizeof(mname), "%s.%s", host, name);
		sl_predict_measure(p, mname, (double)*ret, unit);
		return 0;
	}
	r = sl__predict_result(p, 0);
	snprintf(r->what, sizeof(r->what),
		 "the predictions computed from %s's \"%s\"", host, name);
	if (i < 0)
		snprintf(r->skipped, sizeof(r->skipped),
			 "%s never recorded a call named \"%s\": they were "
			 "not made",
			 host, name);
	else
		snprintf(r->skipped, sizeof(r->skipped),
			 "%s's \"%s\" failed: they were not made", host, name);
	return -1;
}

/* ---- for the report ---- */

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
		sl__appendf(p->kernel_note, sizeof(p->kernel_note),
			    "kernel events %s: %s",
			    tl->kernel ? "partly recorded" : "not recorded",
			    tl->kernel_why[0] ? tl->kernel_why :
						"unknown reason");
	for (int k = 0; k < SL_KEV_COUNT; k++)
		if ((tl->kernel & (1u << k)) && tl->kernel_limit[k][0])
			sl__appendf(p->kernel_note, sizeof(p->kernel_note),
				    "%s%s", p->kernel_note[0] ? "; " : "",
				    tl->kernel_limit[k]);
	if (tl->kernel_lost)
		sl__appendf(p->kernel_note, sizeof(p->kernel_note),
			    "%sthe trace buffer lost events %d time%s",
			    p->kernel_note[0] ? "; " : "", tl->kernel_lost,
			    tl->kernel_lost == 1 ? "" : "s");
	if (!tl->counters)
		sl__appendf(p->kernel_note, sizeof(p->kernel_note),
			    "%skernel counters not read: %s",
			    p->kernel_note[0] ? "; " : "",
			    tl->counters_why[0] ? tl->counters_why :
						  "unknown reason");
	memcpy(p->host, tl->host, sizeof(p->host));
	p->ncounters = 0;
	for (int i = 0; i < tl->nctr && p->ncounters < SL_MAX_COUNTERS; i++)
		if (tl->ctr[i].value)
			p->counter[p->ncounters++] = tl->ctr[i];
}
