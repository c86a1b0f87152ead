/* sockstate.h: TCP socket states through netlink sock_diag, as `ss` reads them.
 *
 * A struct sl_sockdiag is a NETLINK_SOCK_DIAG socket opened inside one
 * host's namespace (a netlink socket stays bound to the namespace it was
 * created in, so it can be used from any thread afterwards).  A dump returns
 * every IPv4 TCP socket of that namespace, TIME-WAIT mini-sockets, request
 * sockets and listeners included (sockets that are only bound are left out:
 * see sl_sockdiag_dump()), with the timer and queue fields that `ss -tanoi`
 * prints.
 */
#ifndef SL_SOCKSTATE_H
#define SL_SOCKSTATE_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sl_err;
struct sl_sockdiag;

/* idiag_timer values, named as ss prints them */
enum sl_timer {
	SL_TIMER_NONE = 0,	/* (no timer) */
	SL_TIMER_ON = 1,	/* retransmit: "on" */
	SL_TIMER_KEEPALIVE = 2, /* "keepalive" */
	SL_TIMER_TIMEWAIT = 3,	/* "timewait" */
	SL_TIMER_PERSIST = 4,	/* zero-window probe: "persist" */
};

struct sl_sock {
	uint8_t state; /* TCP_ESTABLISHED ... as in <netinet/tcp.h> */
	struct in6_addr laddr, raddr;
	uint16_t lport, rport;	 /* host byte order */
	uint32_t rqueue, wqueue; /* Recv-Q, Send-Q as ss shows them */
	uint8_t timer;		 /* enum sl_timer */
	uint32_t expires_ms;
	uint8_t retrans; /* idiag_retrans: the timer's retry count */
	uint32_t inode;
	bool has_info; /* struct tcp_info fields below are valid */
	uint32_t rto_us, backoff, probes, retransmits, total_retrans;
	uint32_t unacked, lost;
};

/* Opens a sock_diag socket inside namespace nsfd, or in the caller's own
 * namespace when nsfd < 0.  Returns 0 or -errno with a reason in e. */
int sl_sockdiag_open(struct sl_sockdiag **dp, int nsfd, struct sl_err *e);

/* Which family's sockets the dumps list: AF_INET (the default) or
 * AF_INET6; a run has addresses of one family only (topology.h). */
void sl_sockdiag_set_family(struct sl_sockdiag *d, int family);

/* Dumps all TCP sockets of the handle's family: fills up to max entries of out and sets *n to
 * the number filled.  Returns 0 or -errno. */
int sl_sockdiag_dump(struct sl_sockdiag *d, struct sl_sock *out, int max,
		     int *n, struct sl_err *e);

void sl_sockdiag_close(struct sl_sockdiag *d);

/* ss's names: ESTAB SYN-SENT SYN-RECV FIN-WAIT-1 FIN-WAIT-2 TIME-WAIT UNCONN
 * CLOSE-WAIT LAST-ACK LISTEN CLOSING NEW-SYN-RECV; "?" when unknown. */
const char *sl_state_name(int state);

/* The inverse, accepting ss's names and the kernel's (TIME_WAIT, CLOSE,
 * ESTABLISHED); -1 when unknown. */
int sl_state_parse(const char *name);

/* One line as `ss -tanoi` prints it (without the tcp_info line):
 *   TIME-WAIT 0 0 198.18.3.2:41234 198.19.3.2:7007 timer:(timewait,59sec,0)
 * Returns the length written (truncated to n). */
int sl_sock_format(const struct sl_sock *s, char *buf, size_t n);

/* ss's timer text for the timer fields alone: "timer:(on,200ms,0)", or ""
 * when there is no timer. */
int sl_sock_format_timer(const struct sl_sock *s, char *buf, size_t n);

#endif
