/* trace.h: the kernel's own account of a run, from its tracepoints.
 *
 * Packet captures show what happened; the kernel can also say why.  Each
 * run gets a private tracefs instance, instances/socklab-<slot>, with its
 * own ring buffer, its clock set to "mono" (CLOCK_MONOTONIC, the timeline's
 * clock: clock.h) and only these events enabled:
 *
 *   sock:inet_sock_set_state	every TCP state change
 *   tcp:tcp_send_reset		a RST sent, and the kernel's reason for it
 *   tcp:tcp_receive_reset	a RST accepted by a socket
 *   tcp:tcp_retransmit_skb	a segment (SYN included) sent again
 *   tcp:tcp_retransmit_synack	a SYN-ACK sent again
 *   skb:kfree_skb		a packet dropped, with the drop reason
 *
 * The special problem of tracepoints: they are global to the machine, not
 * to a network namespace, so the instance sees every socket of every run
 * (and of the machine).  Events that carry 4-byte address fields are
 * filtered in the kernel by the run's own addresses (unique per slot,
 * topology.h); every event is filtered again here by its local address.
 * skb:kfree_skb carries no address at all: a drop is kept only when it can
 * be proved to be this run's (trace_attribute.h).
 *
 * Events are read in binary from the per-CPU trace_pipe_raw files, on a
 * thread of this module: the text files print microseconds and hashed
 * pointers, the binary pages carry nanoseconds and the real socket
 * addresses that tie a drop to a socket.  The kernel tracing maintainers'
 * libraries do the rest: libtracefs the instance (trace_instance.h),
 * libtraceevent the pages (trace_decode.h).  The instance is removed at
 * teardown; a leftover one is swept (sweep.h).
 */
#ifndef SL_TRACE_H
#define SL_TRACE_H

#include "kevent.h"

struct sl_err;
struct sl_event;
struct sl_timeline;
struct sl_topology;
struct sl_trace;

/* Mounts tracefs at SL_TRACEFS when root is SL_TRACEFS and nothing is
 * mounted there yet; *mounted says whether this call did it.  Returns 0 or
 * -errno with a reason in e (ENOTSUP: turned off; ENOENT: no tracefs). */
int sl_trace_mount(const char *root, int *mounted, struct sl_err *e);

/* Starts the reader thread, which creates the instance socklab-<slot>
 * under root (NULL: sl_trace_root()), enables the events above with the
 * run's address filters, then reads.  Returns at once: 0, or -errno with a
 * reason in e when there is no tracefs here (then the run goes on without
 * kernel events). */
int sl_trace_start(struct sl_trace **tp, const struct sl_topology *t,
		   const char *root, struct sl_err *e);

/* Waits until the instance records (call it before the roles start).
 * Returns 0, or -errno with a reason in e when it could not be made (not
 * writable, no such events): the run then goes on without kernel events,
 * and sl_trace_undo() cleans up. */
int sl_trace_ready(struct sl_trace *tr, struct sl_err *e);

/* The live feed: from now on, every event of this run's sockets (all but
 * drops) is also handed to fn(arg, ev) on the reader thread as soon as it
 * is read, microseconds after the kernel wrote it: what roles wait on
 * (role.c).  fn must be quick and thread-safe.  fn NULL turns it off,
 * once a publication under way is done. */
void sl_trace_feed(struct sl_trace *tr,
		   void (*fn)(void *arg, const struct sl_event *ev), void *arg);

/* Undo step for a run's cleanup stack, registered when the feed is turned
 * on, so that it is off before its argument goes: arg is a struct
 * sl_trace ** (NULL once sl_trace_undo() ran). */
void sl_trace_feed_off(void *arg);

/* Stops tracing, reads what is left, removes the instance, and adds this
 * run's events to tl (which must have its host names set), with
 * tl->kernel saying which events were recorded; drops only when they are
 * provably this run's (trace_attribute.h).  The instance is then removed
 * on a thread of its own; tr stays until sl_trace_undo().  Safe on NULL.
 * Returns 0 or -errno with a reason in e. */
int sl_trace_stop(struct sl_trace *tr, struct sl_timeline *tl,
		  struct sl_err *e);

/* Undo step for a run's cleanup stack: stops reading if sl_trace_stop()
 * did not, waits until the instance is removed, frees everything and sets
 * the pointer to NULL.  arg is a struct sl_trace **. */
void sl_trace_undo(void *arg);

#endif
