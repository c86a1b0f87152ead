/* sockhist.h: each socket's life on a run's timeline, state by state.
 *
 * Two sources tell what state a socket was in, and they are not equal.
 * The kernel's state changes (sock:inet_sock_set_state, trace.h) see every
 * transition, however short, at the nanosecond it happened: they are the
 * evidence of states wherever tracefs is there.  sock_diag samples (the
 * observer's, every 2 to 20 ms, and the roles' own looks at a 4-tuple) see
 * a state only if it lasts until a dump comes, but they see what the kernel
 * does not report: the TIME-WAIT mini-socket (the kernel reports the full
 * socket's change to CLOSE as the mini-socket takes its place, and nothing
 * when the mini-socket goes), timers and queues.
 *
 * So, with the kernel's changes: a span of a full socket starts and ends
 * at the kernel's events, and samples of it are only read for their timers
 * and queues (a sample is stamped when its dump returned, and may show a
 * state the kernel has just left).  A mini-socket, which only samples see,
 * starts at the kernel's change to CLOSE that made it and ends at the first
 * sample (or role's look) that no longer finds it.  Without them (no
 * tracefs, or the trace lost events), samples alone make the spans, and a
 * state shorter than the sampling may have been missed: predictions then
 * say so instead of judging (predict.c).
 *
 * A host that reboots (faults.c) loses every socket at that moment; the
 * kernel's later events for sockets of its old namespace (they live on in
 * it, unreachable) are not this host's any more.
 */
#ifndef SL_SOCKHIST_H
#define SL_SOCKHIST_H

#include <netinet/in.h>
#include <stdint.h>

#include "timeline.h"

#define SL_SPAN_OPEN INT64_MAX /* still in the state when the run ended */

/* One socket (host and 4-tuple) in one state, from..to. */
struct sl_span {
	int host;
	struct in6_addr laddr, raddr;
	uint16_t lport, rport; /* rport 0: a listener */
	int state; /* TCP_* numbers, as sock_diag and ss have them */
	int mini;  /* a TIME-WAIT mini-socket (TIME-WAIT, or an
				 * orphan's FIN-WAIT-2), known from samples */
	int64_t from, to;
	int from_ev, to_ev; /* timeline index of the entry's and the exit's
				 * evidence, -1 none */
	int kernel_from;    /* the entry is the kernel's event (exact) */
	int kernel_to;	    /* the exit is the kernel's event (exact) */
	int gone;	    /* it ended with the socket's disappearance */
	int first_sample;   /* first sample showing it so, or -1 */
};

struct sl_spans {
	struct sl_span *s;
	int n, cap;
	/* 1: the kernel's state changes were recorded whole, and spans of
	 * full sockets rest on them; 0: samples alone (kernel_why says
	 * why). */
	int kernel;
	char kernel_why[160];
};

/* Builds every socket's spans from tl (sorted: sl_timeline_finish()).
 * Returns 0 or -ENOMEM. */
int sl_spans_build(const struct sl_timeline *tl, struct sl_spans *sp);
void sl_spans_free(struct sl_spans *sp);

/* True for a state that only samples show (the mini-socket's): absence
 * and presence of it are judged from samples in either mode. */
int sl_span_state_sampled(int state);

#endif
