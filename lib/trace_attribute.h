/* trace_attribute.h: which kernel events are this run's.
 *
 * Tracepoints are global to the machine: the reader (trace.c) keeps the
 * events whose local address is one of the run's, but a drop
 * (skb:kfree_skb) carries no address at all.  Attribution keeps a drop
 * only when it can be proved to be this run's: the drop's socket is one of
 * this run's while it was (a socket pointer seen in this run's events,
 * between its first event and its change to CLOSE), or the drop is of the
 * very packet a RST of this run answered (the first free of that skb on
 * the same CPU after the RST, within SL_KEV_PAIR_NS: tcp_v4_rcv() sends the
 * RST and frees that skb in one go, and the freed memory is reused at
 * once, so only the first free counts).  Drops with the reason
 * NOT_SPECIFIED are used for that pairing but not put on the timeline.
 */
#ifndef SL_TRACE_ATTRIBUTE_H
#define SL_TRACE_ATTRIBUTE_H

#include "trace_decode.h"

struct sl_event;
struct sl_timeline;

/* A record as a timeline event (kind SL_EV_KERNEL). */
void sl_trace_rec_event(const struct sl_trace_rec *x, struct sl_event *ev);

/* Sorts r by time, numbers the sockets, keeps the drops that are provably
 * this run's and adds the events to tl.  Returns 0 or -ENOMEM. */
int sl_trace_attribute(struct sl_trace_rec *r, int n, struct sl_timeline *tl);

#endif
