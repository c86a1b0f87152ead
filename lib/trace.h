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
 * be proved to be this run's (see sl_trace_stop()).
 *
 * Events are read in binary from the per-CPU trace_pipe_raw files, on a
 * thread of this module: the text files print microseconds and hashed
 * pointers, the binary pages carry nanoseconds and the real socket
 * addresses that tie a drop to a socket.
 *
 * Nothing of the machine's own tracing is touched: no file at the top of
 * tracefs is ever written.  tracefs itself is mounted at /sys/kernel/tracing
 * when it is not mounted yet.  The instance is removed at teardown, and an
 * instance whose slot lock nobody holds is a leftover that the next run and
 * `socklab clean` remove (sl_topology_clean_stale()).
 */
#ifndef SL_TRACE_H
#define SL_TRACE_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "kevent.h"

struct sl_err;
struct sl_event;
struct sl_timeline;
struct sl_topology;

#define SL_TRACEFS "/sys/kernel/tracing"
#define SL_TRACE_INSTANCE_PREFIX "socklab-"

/* ---- one run's instance ---- */

struct sl_trace;

/* Where tracefs is: $SOCKLAB_TRACEFS when set (tests point it elsewhere to
 * play a machine without tracefs; "off" turns kernel events off, to
 * measure what they cost), else SL_TRACEFS. */
const char *sl_trace_root(void);

/* Mounts tracefs at SL_TRACEFS when root is SL_TRACEFS and nothing is
 * mounted there yet; *mounted says whether this call did it.  Returns 0 or
 * -errno with a reason in e. */
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
 * tl->kernel saying which events were recorded.  Drops are attributed only
 * when provable: the drop's socket is one of this run's while it was (a
 * socket pointer seen in this run's events, between its first event and its
 * change to CLOSE), or the drop is of the very packet a RST of this run
 * answered (the first free of that skb on the same CPU after the RST,
 * within 1 ms: tcp_v4_rcv() sends the RST and frees that skb in one go,
 * and the freed memory is reused at once, so only the first free counts).
 * Drops with the reason NOT_SPECIFIED are used for that pairing but not
 * put on the timeline.  The instance is then removed on a thread of its
 * own; tr stays until sl_trace_undo().  Safe on NULL.  Returns 0 or -errno
 * with a reason in e. */
int sl_trace_stop(struct sl_trace *tr, struct sl_timeline *tl,
		  struct sl_err *e);

/* Undo step for a run's cleanup stack: stops reading if sl_trace_stop()
 * did not, waits until the instance is removed, frees everything and sets
 * the pointer to NULL.  arg is a struct sl_trace **. */
void sl_trace_undo(void *arg);

/* Marks seen[slot] for every socklab-<slot> instance under the default
 * root (slot < nslots).  Does nothing when tracefs is not mounted. */
void sl_trace_instance_slots(unsigned char *seen, int nslots);

/* Removes instance socklab-<slot> if there is one; the caller holds the
 * slot's lock.  Writes one line to log (may be NULL) when it did.  Returns
 * 1 when removed, 0 when there was none, -errno. */
int sl_trace_remove_instance(int slot, FILE *log);

/* What `socklab doctor` says about kernel events on this machine, in
 * detail: tracefs mounted or mountable, the six tracepoints present, a
 * private instance with the mono clock tried for real (as
 * socklab-doctor-<pid>, removed at once).  Returns 1 when runs will record
 * kernel events. */
int sl_trace_doctor(char *detail, size_t n);

/* Removes socklab-doctor-<pid> instances whose doctor is gone.  Returns the
 * number removed. */
int sl_trace_clean_doctors(FILE *log);

/* ---- exposed for the unit tests ---- */

#define SL_TP_MAX_FIELDS 24
#define SL_TP_MAX_SYMS 192

struct sl_tp_field {
	char name[32];
	int offset, size, is_signed;
};

/* One event's format file (events/<system>/<name>/format). */
struct sl_tp_format {
	int id;
	char name[48];
	int nfields;
	struct sl_tp_field field[SL_TP_MAX_FIELDS];
	/* The __print_symbolic() table of the field named sym_field, e.g. the
	 * "reason" of tcp_send_reset: number -> the kernel's name. */
	char sym_field[32];
	int nsyms;
	struct {
		long value;
		char name[SL_KREASON_MAX];
	} sym[SL_TP_MAX_SYMS];
};

/* Parses a format file's text.  sym_field names the field whose symbolic
 * names to keep (NULL: none).  Returns 0 or -EINVAL. */
int sl_tp_format_parse(struct sl_tp_format *fmt, const char *text,
		       const char *sym_field);

/* The field named name, or NULL. */
const struct sl_tp_field *sl_tp_field(const struct sl_tp_format *fmt,
				      const char *name);

/* A numeric field of a record (sizes 1, 2, 4, 8; sign-extended when the
 * field is signed).  0 when the record is too short. */
uint64_t sl_tp_read(const struct sl_tp_field *f, const void *rec, size_t len);

/* The name of value in fmt's symbol table, or NULL. */
const char *sl_tp_sym(const struct sl_tp_format *fmt, long value);

/* Walks one ring-buffer sub-buffer (a page read from trace_pipe_raw) and
 * calls fn for every record with its timestamp in trace-clock units.
 * Returns the number of records, or -EINVAL for a page that makes no sense;
 * *lost is set when the kernel reports events lost before this page. */
int sl_tp_page_walk(const void *page, size_t size,
		    void (*fn)(void *arg, uint64_t ts, const void *rec,
			       size_t len),
		    void *arg, int *lost);

#endif
