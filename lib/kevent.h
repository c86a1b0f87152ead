/* kevent.h: one kernel event, as a timeline holds, prints and records it.
 *
 * The kernel's own account of a run (trace.h) becomes struct sl_kevent,
 * carried inside a struct sl_event of kind SL_EV_KERNEL.  This header is
 * what the timeline needs of it and nothing more, so that timeline.h can
 * include it without including the reader that makes the events.
 *
 * The names and numbers are in kevent.c; the text and the recording
 * format, which need the timeline's events around this one, are in
 * kevent_text.c (a module apart, so that neither includes the other's
 * includer).
 */
#ifndef SL_KEVENT_H
#define SL_KEVENT_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct sl_event;
struct sl_timeline;

/* The kernel events a timeline can hold, one per tracepoint. */
enum sl_kev {
	SL_KEV_SET_STATE,	  /* sock:inet_sock_set_state */
	SL_KEV_SEND_RESET,	  /* tcp:tcp_send_reset */
	SL_KEV_RECEIVE_RESET,	  /* tcp:tcp_receive_reset */
	SL_KEV_RETRANSMIT,	  /* tcp:tcp_retransmit_skb */
	SL_KEV_RETRANSMIT_SYNACK, /* tcp:tcp_retransmit_synack */
	SL_KEV_DROP,		  /* skb:kfree_skb, attributed to this run */
	SL_KEV_COUNT,
};

#define SL_KEV_ALL ((1u << SL_KEV_COUNT) - 1)
#define SL_KREASON_MAX 40
/* Two events of one pass through the kernel's receive or close path on one
 * CPU (a RST and the drop of the packet it answered, a change to CLOSE and
 * the RST that caused it) are microseconds apart: 1 ms is the bound. */
#define SL_KEV_PAIR_NS 1000000

/* One kernel event, as it sits in a struct sl_event (kind SL_EV_KERNEL). */
struct sl_kevent {
	uint8_t type;	 /* enum sl_kev */
	int8_t oldstate; /* set_state: the state left (TCP_* numbers) */
	int8_t state;	 /* set_state: the new state; send_reset and
				 * retransmit: the socket's state; 0 unknown */
	char reason[SL_KREASON_MAX]; /* RST or drop reason, the kernel's name */
	struct in6_addr laddr, raddr; /* the socket's own and its peer's */
	uint16_t lport, rport;	      /* host byte order */
	uint32_t sock; /* the socket, numbered 1, 2, ... per run in
				 * order of appearance; 0 none (no pointers
				 * of the kernel end up in the results) */
};

/* The tracepoint's name ("tcp_send_reset"), or NULL. */
const char *sl_kev_name(int type);
/* Its system ("tcp"), or NULL. */
const char *sl_kev_system(int type);
/* The inverse; accepts "tcp:tcp_send_reset" too.  -1 when unknown. */
int sl_kev_parse(const char *name);

/* The kernel's name of a TCP state without "TCP_": "ESTABLISHED",
 * "FIN_WAIT1", "CLOSE"; "?" when unknown. */
const char *sl_kstate_name(int state);

/* ---- the timeline's side (timeline.c calls these; kevent_text.c) ---- */

/* The text of kernel event i, in words, without time or host:
 *    kernel: ESTABLISHED -> CLOSE 198.19.3.2:7007 198.18.3.2:41234 (RST sent: TCP_ABORT_ON_CLOSE)
 * Returns the length written. */
int sl_kevent_format(const struct sl_timeline *tl, int i, char *buf, size_t n);

/* The recording format: one line per event,
 *   "K t host type oldstate state reason laddr lport raddr rport sock"
 * one header line "kernel <mask> <lost> <why>", and one
 * "klimit <tracepoint> <what it leaves out>" per limited tracepoint. */
void sl_kevent_save(FILE *f, const struct sl_event *e);
int sl_kevent_load(struct sl_event *e, char **field, int nfield);
void sl_trace_save_header(FILE *f, const struct sl_timeline *tl);
int sl_trace_load_header(struct sl_timeline *tl, char **field, int nfield);
int sl_trace_load_limit(struct sl_timeline *tl, char **field, int nfield);

#endif
