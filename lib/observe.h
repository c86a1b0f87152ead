/* observe.h: the observers of one run, on a thread of their own.
 *
 * Captures on the client's and the server's interface (and, into pcap
 * files only, on the router's two) and sock_diag
 * sampling of both hosts' sockets run on one observer thread that sleeps in
 * poll() on the capture descriptors.  Socket states are sampled every 2 ms
 * while packets are flowing (a state changes because a segment arrived) and
 * every 20 ms when the wire is quiet; only changes become timeline events.
 */
#ifndef SL_OBSERVE_H
#define SL_OBSERVE_H

#include <stdint.h>
#include <stdio.h>

struct sl_board;
struct sl_topology;
struct sl_timeline;
struct sl_err;
struct sl_observer;

/* Opens captures (writing <dir>/<host>-<iface>.pcap: the client's, the
 * server's and both of the router's interfaces, the router's to their
 * files only, never onto the timeline) and sock_diag sockets, and starts
 * the thread, which publishes each segment seen at its sender on board for
 * the roles' waits (board may be NULL).  Returns 0 or -errno with a reason
 * in e. */
int sl_observer_start(struct sl_observer **op, const struct sl_topology *t,
		      const char *dir, struct sl_board *board,
		      struct sl_err *e);

/* A host's namespace is about to be replaced (a reboot): what its capture
 * and the capture on the router's end of its link still hold is read,
 * then those captures and its sock_diag socket are closed; the rest stays
 * observed all along.  Returns 0 or -errno. */
int sl_observer_detach(struct sl_observer *o, int host, struct sl_err *e);

/* The host's new namespace (the topology's nsfd for it) is up: captures on
 * its first interface and on the router's new end of its link, writing
 * <dir>/<host>-<iface><suffix>.pcap, and a sock_diag socket take over.
 * Sockets seen in the old namespace are reported gone at the first sample.
 * Returns 0 or -errno with a reason in e. */
int sl_observer_attach(struct sl_observer *o, int host, const char *dir,
		       const char *suffix, struct sl_err *e);

/* How many sock_diag dumps the thread made and their total wall time
 * so far (harness.txt). */
void sl_observer_cost(const struct sl_observer *o, long *dumps,
		      int64_t *dump_ns);

/* CLOCK_MONOTONIC time of the last packet captured, 0 if none yet. */
int64_t sl_observer_last_packet(struct sl_observer *o);

/* Takes a last state sample, drains the captures, stops and joins the
 * thread, moves what it observed into tl and frees everything.  Safe to
 * call on NULL.  Returns 0 or the first error the thread met. */
int sl_observer_stop(struct sl_observer *o, struct sl_timeline *tl,
		     struct sl_err *e);

#endif
