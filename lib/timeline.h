/* timeline.h: everything a run saw, on one clock, in one list.
 *
 * Packets (from the captures), app events (marks and syscall results from
 * the roles), socket states (sock_diag samples) and kernel events (trace.h)
 * all become struct sl_event, stamped on CLOCK_MONOTONIC (clock.h).  After a
 * run the list is sorted once; predictions are evaluated on it and it is
 * rendered as text in the conventions of `tcpdump -nn` and `ss -tanoi`, with
 * times relative to the first packet and sequence numbers relative to each
 * side's initial sequence number.
 */
#ifndef SL_TIMELINE_H
#define SL_TIMELINE_H

#include <stdint.h>
#include <stdio.h>

#include "counter.h"
#include "kevent.h"
#include "packet.h"
#include "sockstate.h"

enum sl_event_kind {
	SL_EV_PACKET, /* a segment seen by the capture on host's interface */
	SL_EV_MARK,   /* a role marked a moment */
	SL_EV_CALL,   /* a role recorded a syscall's result */
	SL_EV_STATE,  /* a socket on host appeared or changed (sock_diag) */
	SL_EV_GONE,   /* a socket on host disappeared */
	SL_EV_ROLE_ERROR, /* a role could not do what the experiment needs */
	SL_EV_NOTE,	  /* anything else worth a line */
	SL_EV_KERNEL, /* the kernel's own event, from a tracepoint (trace.h) */
	SL_EV_INJECT, /* a role sent a crafted segment (sl_inject, inject.h);
			 * the packet it matches in the capture is named
			 * "injected" and this event is then hidden (ret 1) */
	SL_EV_WAIT,   /* a role's wait returned (role.c): name is its kind
			 * ("mark", "state", "gone", "segment", ...), text
			 * what it waited for, t_start when that happened
			 * (0: not known yet), ret when the wait began; for
			 * a wait on a socket, sock its 4-tuple and the state
			 * waited for (0: gone), err SL_WAIT_* flags.
			 * harness.txt sums them up, timeline.txt hides them */
};

/* A wait on a socket whose end no event can time (a mini-socket's
 * unannounced change or end). */
#define SL_WAIT_UNTIMED 1
/* ... whose end the kernel reports as a change to CLOSE (a disappearance,
 * a TIME-WAIT or FIN-WAIT-2 mini-socket taking the full socket's place). */
#define SL_WAIT_BY_CLOSE 2

#define SL_NAME_MAX 48
#define SL_TEXT_MAX 160

struct sl_event {
	int64_t t;	 /* CLOCK_MONOTONIC ns; for calls, when it returned */
	int64_t t_start; /* for calls: when it was made */
	enum sl_event_kind kind;
	int host;     /* where it happened (capture point for packets) */
	int from, to; /* packets: sending and receiving host, -1 unknown */
	char name[SL_NAME_MAX]; /* mark or call name; "injected" on a packet
				 * a role crafted (text: the role's note) */
	long ret;		/* calls */
	int err;		/* calls: errno, 0 if none */
	struct sl_packet pkt;
	struct sl_sock sock;
	char text[SL_TEXT_MAX]; /* role errors and notes */
	struct sl_kevent k;	/* kernel events */
};

#define SL_TL_MAX_HOSTS 4
#define SL_TL_FAULTS_MAX 16

/* A fault as the run served it: what the report shows of board.h's
 * struct sl_fault_rec, kept with the timeline so that a recording judged
 * again later (experiment_main.c --judge) reports the same faults. */
struct sl_tl_fault {
	char kind[12];
	char backend[12];
	char what[200];
	char spec[160]; /* fault_spec.h; empty in older recordings */
	int lifted;
};

struct sl_timeline {
	struct sl_event *ev;
	int n, cap;
	int nhosts;
	char host[SL_TL_MAX_HOSTS][16];
	int64_t t0; /* the first packet, or the first event */
	/* The kernel's own sources.  kernel: one bit per enum sl_kev that was
	 * recorded (trace.h), kernel_why saying why not when that is not all
	 * of them; kernel_lost: events the trace buffer lost.  counters: 0 not
	 * read (counters_why says why), 1 read, 2 loaded from a recording
	 * that omits the zeros (counters.h). */
	unsigned kernel;
	char kernel_why[160];
	int kernel_lost;
	/* Per enum sl_kev recorded: empty when this kernel reports all of
	 * it, else what it leaves out (an older kernel's tracepoint without
	 * the field a prediction needs, trace.c); predictions it could not
	 * judge are skipped with that, as for a source that is missing. */
	char kernel_limit[SL_KEV_COUNT][200];
	int counters;
	char counters_why[160];
	struct sl_counter *ctr;
	int nctr, ctr_cap;
	/* What a recording keeps of the run beyond its events, so that it
	 * can be judged again as it was after the run: the kernel release it
	 * ran on (empty: unknown), the faults served, and why the run failed
	 * before its predictions could be judged (empty: it did not). */
	char release[65];
	/* How late the run's timers ran, the worst of late_n wake-ups
	 * (lateness.h); late_n 0: not measured (an older recording). */
	int64_t late_ns;
	long late_n;
	int nfaults;
	struct sl_tl_fault fault[SL_TL_FAULTS_MAX];
	char error[512];
};

void sl_timeline_init(struct sl_timeline *tl);
void sl_timeline_free(struct sl_timeline *tl);

/* Host names, index = host id used in events. */
void sl_timeline_set_hosts(struct sl_timeline *tl, const char *const names[],
			   int n);
int sl_timeline_host(const struct sl_timeline *tl, const char *name);

/* Appends a copy of ev.  Returns 0 or -ENOMEM. */
int sl_timeline_add(struct sl_timeline *tl, const struct sl_event *ev);

/* Sorts by time (stable) and sets t0.  Call once, after the run. */
void sl_timeline_finish(struct sl_timeline *tl);

/* True for the copy of a packet that belongs on the timeline: the one seen
 * at its sender's interface (each segment is captured once per host it
 * crosses; the sender's copy is what was sent). */
int sl_timeline_is_sent(const struct sl_event *ev);

/* The copy of sent segment i at its receiver (its index in tl), or -1
 * when the receiver's capture never saw it (dropped on the path): where
 * the ladder draws an arrow's end, and where an ACK's delay starts. */
int sl_timeline_delivered(const struct sl_timeline *tl, int i);

/* Index of the first mark "name" ("host:name" restricts the host), or -1. */
int sl_timeline_find_mark(const struct sl_timeline *tl, const char *spec);

/* One event as a line of text, without the trailing newline:
 *    0.000123  client  IP 198.18.3.2.41234 > ...: Flags [S], seq 0, ...
 * Returns the length written. */
int sl_timeline_format(const struct sl_timeline *tl, int i, char *buf,
		       size_t n);

/* The whole timeline, with a header naming the hosts and addresses. */
void sl_timeline_write(const struct sl_timeline *tl, FILE *f);

/* Reads and writes a timeline in socklab's own line-based recording
 * format (tests/data/, files ending in .tl; timeline_io.c), so predictions
 * can be unit-tested on recorded runs.  Returns 0 or -errno. */
int sl_timeline_save(const struct sl_timeline *tl, const char *path);
int sl_timeline_load(struct sl_timeline *tl, const char *path);
/* sl_timeline_save() into f, which it closes: a file a run created in its
 * results folder (resultdir.h), never a path opened again.  0 or -errno. */
int sl_timeline_save_to(const struct sl_timeline *tl, FILE *f);

/* sl_timeline_load(), with the reason for a refusal in e ("load x.tl:
 * line 7: host 9 is out of range (0..2)").  A recording is input: every
 * number is checked against its range, hosts against the hosts line, and
 * a malformed line or an unknown kind is refused (-EINVAL), never loaded
 * as something else.  On failure tl is left empty. */
struct sl_err;
int sl_timeline_read(struct sl_timeline *tl, const char *path,
		     struct sl_err *e);

#endif
