/*
 * ack-delayed
 *
 * Claim: a lone segment is acknowledged after a delayed-ACK timer of about
 * 200 ms.
 *
 * Why: RFC 1122 section 4.2.3.2 lets a receiver delay an ACK (by less than
 * 0.5 s) in the hope of sending it with data or a window update; BSD's
 * timer ran every 200 ms, and "200 ms" stuck.  Linux decides per segment,
 * in net/ipv4/tcp_input.c:
 *  - __tcp_ack_snd_check() sends the ACK at once in "quick-ACK mode"
 *    (tcp_in_quickack_mode(): quick-ACKs left and the connection is not
 *    interactive, or the route says quickack), otherwise it arms the
 *    delayed-ACK timer (tcp_send_delayed_ack(), net/ipv4/tcp_output.c).
 *  - Quick-ACKs: the first data segment of a connection gives it
 *    min(rcv_wnd / (2 * rcv_mss), TCP_MAX_QUICKACKS) of them
 *    (tcp_event_data_recv(), tcp_incr_quickack()): 16 here, since the
 *    window is 64 KB.  Each ACK sent uses one (tcp_dec_quickack_mode()).
 *  - The timer waits ato: it starts at TCP_ATO_MIN = HZ/25 (40 ms), and
 *    a segment that comes within TCP_ATO_MIN / 2 of the one before leaves
 *    it there (tcp_event_data_recv(); so does the end of the quick-ACKs).
 *    Above TCP_DELACK_MIN (also HZ/25), tcp_send_delayed_ack() caps it by
 *    the smoothed RTT (at least TCP_DELACK_MIN), and by TCP_DELACK_MAX
 *    (HZ/5: the 200 ms) on an interactive connection, HZ/2 otherwise: a
 *    delay near 200 ms takes a round trip near 200 ms.  Here (an RTT of
 *    tens of microseconds) every delayed ACK waits TCP_DELACK_MIN, 40 ms.
 *  - Interactive ("pingpong") mode: a socket that sends data within ato of
 *    the last data it received (a reply) counts as interactive
 *    (tcp_event_data_sent(), net.ipv4.tcp_pingpong_thresh = 1), and then
 *    delays even while quick-ACKs are left: the ACK should ride on the
 *    next reply (ack-piggyback).
 *  - TCP_QUICKACK = 1 (__tcp_sock_set_quickack(), net/ipv4/tcp.c) leaves
 *    interactive mode and sends an ACK that is pending now if the
 *    application has read everything.  It adds no quick-ACKs: once the 16
 *    are spent, setting it changes nothing for the next segment.  The
 *    route's quickack (RTAX_QUICKACK, `ip route ... quickack 1`) keeps
 *    every connection on that route in quick-ACK mode for good.
 *
 * How: the client sends lone 1-byte segments, each once the one before
 * is acknowledged, and the one under test ("sending lone") last.  In the
 * interactive variants a 1-byte request and its 1-byte reply come first
 * (again, if the reply took 20 ms or more: see INTERACTIVE_MS); the server
 * reads the segment under test and does not answer it.  In the others the
 * server reads nothing: a read() that empties the queue of a connection
 * that is not interactive sends a pending ACK at once (tcp_cleanup_rbuf(),
 * ICSK_ACK_PUSHED, set by any segment shorter than the MSS), which would
 * hide the timer.
 *
 * Predictions: the claim, each lone segment acknowledged about 200 ms
 * after it; no variant holds it (.holds = false).  Next to it, what
 * tcp_input.c says for the variant's pattern, with tolerances from the
 * kernel's constants, and the delayed-ACK counter: these are the evidence
 * of what came instead, and they print the measured delay.  The ACKs are
 * timed from the segment itself (expect_acked_at_ms()), not from a mark.
 *
 * Variants: the connection's first segment (quick-ACK phase); the 17th,
 * after 16 quick-ACKs; the same with TCP_QUICKACK set once after accept();
 * the same with the server's route on quickack 1; a request on an
 * interactive connection, without and with TCP_QUICKACK set after reading
 * it.
 */
#include <stdio.h>
#include <string.h>

#include "socklab.h"

/* TCP_DELACK_MIN = TCP_ATO_MIN = HZ/25: 40 ms whatever HZ is. */
#define DELACK_MIN_MS 40
/* TCP_DELACK_MAX = HZ/5: the claim's 200 ms. */
#define DELACK_MAX_MS 200
/* One jiffy at the coarsest HZ (100).  The timer is set in whole jiffies
 * from the one the segment arrived in, and the timer wheel rounds it up to
 * the next tick: it fires within a jiffy of 40 ms (40 to 44 ms here, at
 * HZ=250; on a virtual machine whose ticks come late, a little less now
 * and then). */
#define JIFFY_MAX_MS 10
/* The ACK of quick-ACK mode leaves in the softirq that took the segment
 * (microseconds), or in the call that sends it; "at once" is anything
 * sooner than half the shortest delayed ACK, which no timer can be. */
#define AT_ONCE_MS (DELACK_MIN_MS / 2)
/* TCP_MAX_QUICKACKS (include/net/tcp.h). */
#define MAX_QUICKACKS 16
/* A reply makes the connection interactive when it leaves within ato
 * (TCP_ATO_MIN, 40 ms, counted in whole jiffies) of the request's arrival.
 * On a loaded machine the server may run later than that: an exchange
 * whose reply took half of it or more may have left the connection as it
 * was, so the roles do it again. */
#define INTERACTIVE_MS (DELACK_MIN_MS / 2)
#define MAX_EXCHANGES 10

EXPERIMENT(ack_delayed) {
	.claim = "a lone segment is acknowledged after a delayed-ACK timer of "
		 "about 200 ms",
	.expected = SL_REFUTED,
	.topic = SL_TOPIC_ACKS,
	.belief = "at once for a connection's first 16 segments or on a "
		  "route with quickack 1, otherwise 40 ms (TCP_DELACK_MIN), "
		  "interactive or not; TCP_QUICKACK set once does not stay, "
		  "set after a read it sends the pending ACK",
	.timeout_s = 10,
};

KNOBS(ack_delayed) {
	int before;		/* lone segments before the one under test */
	bool interactive;	/* a request and its reply first */
	bool quickack_once;	/* TCP_QUICKACK = 1 once, after accept() */
	bool quickack_after_read; /* ... after reading the one under test */
	bool route_quickack;	/* the server's route: quickack 1 */
	double ack_ms;		/* what tcp_input.c predicts: 0 or 40 */
};

VARIANT(ack_delayed, first_segment, .holds = false) {
	.before = 0, .ack_ms = 0,
};
VARIANT(ack_delayed, segment_17, .holds = false) {
	.before = MAX_QUICKACKS, .ack_ms = DELACK_MIN_MS,
};
VARIANT(ack_delayed, segment_17_tcp_quickack_once, .holds = false) {
	.before = MAX_QUICKACKS, .quickack_once = true,
	.ack_ms = DELACK_MIN_MS,
};
VARIANT(ack_delayed, segment_17_route_quickack, .holds = false) {
	.before = MAX_QUICKACKS, .route_quickack = true, .ack_ms = 0,
};
VARIANT(ack_delayed, interactive, .holds = false) {
	.interactive = true, .ack_ms = DELACK_MIN_MS,
};
VARIANT(ack_delayed, interactive_tcp_quickack_after_read, .holds = false) {
	.interactive = true, .quickack_after_read = true, .ack_ms = 0,
};

SETUP(ack_delayed)
{
	if (variant->route_quickack)
		sl_route(s, "server", "quickack", "1");
}

/* Did the server reply to the request that followed the mark (the
 * client's) within INTERACTIVE_MS of it?  Both roles ask, after the
 * exchange, and get the same answer: both read it from the captures. */
static bool answered_soon(struct sl_role *self, const char *mark)
{
	struct sl_segment req, reply;

	req = sl_wait_segment(self, .from = "client", .after = mark);
	reply = req;
	do
		reply = sl_wait_segment(self, .from = "server",
					.after_segment = &reply);
	while (reply.len == 0);
	return reply.t - req.t < (int64_t)INTERACTIVE_MS * 1000000;
}

static void mark_name(char *buf, size_t n, int k)
{
	snprintf(buf, n, "client:exchange %d", k);
}

ROLE(ack_delayed, server)
{
	int lfd = sl_listen(self, SL_PORT);
	int fd = sl_call(self, accept(lfd, NULL, NULL));
	char c, mark[32];
	int one = 1;

	if (variant->quickack_once)
		sl_call(self, setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one,
					 sizeof(one)));
	sl_mark(self, "accepted");
	if (variant->interactive) {
		/* A request and its reply at once, until one reply made the
		 * connection interactive (the client counts the same). */
		for (int k = 1;; k++) {
			SL_REQUIRE(self, k <= MAX_EXCHANGES,
				   "a reply within 20 ms of its request");
			sl_call(self, read(fd, &c, 1));
			sl_call(self, write(fd, &c, 1));
			mark_name(mark, sizeof(mark), k);
			if (answered_soon(self, mark))
				break;
		}
		/* The lone segment: read, and not answered. */
		sl_call(self, read(fd, &c, 1));
		if (variant->quickack_after_read)
			sl_try(self, setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK,
						&one, sizeof(one)));
	}
	/* Close first, once the client has seen its ACK: with unread data
	 * that is a RST, and either way no delayed ACK of ours follows. */
	sl_wait_mark(self, "client", "done");
	sl_call(self, close(fd));
}

/* Writes one byte and waits until the server has acknowledged it. */
static void send_lone(struct sl_role *self, int fd, const char *mark)
{
	struct sl_segment data, ack;
	char c = 'x';

	sl_mark(self, mark);
	sl_call(self, write(fd, &c, 1));
	data = sl_wait_segment(self, .from = "client", .after = mark);
	ack = data;
	do
		ack = sl_wait_segment(self, .from = "server",
				      .after_segment = &ack);
	while ((int32_t)(ack.ack - sl_segment_next(&data)) < 0);
}

ROLE(ack_delayed, client)
{
	int fd = sl_connect(self, "server", SL_PORT);
	char c = 'x', mark[32];

	/* The server's socket options are set before anything is sent. */
	sl_wait_mark(self, "server", "accepted");
	for (int k = 1; k <= variant->before; k++) {
		snprintf(mark, sizeof(mark), "sending %d", k);
		send_lone(self, fd, mark);
	}
	for (int k = 1; variant->interactive; k++) {
		SL_REQUIRE(self, k <= MAX_EXCHANGES,
			   "a reply within 20 ms of its request");
		mark_name(mark, sizeof(mark), k);
		/* The mark without its host: "exchange k". */
		sl_mark(self, mark + strlen("client:"));
		sl_call(self, write(fd, &c, 1));
		sl_call(self, read(fd, &c, 1));
		if (answered_soon(self, mark))
			break;
	}
	send_lone(self, fd, "sending lone");
	sl_mark(self, "done");
}

PREDICT(ack_delayed)
{
	/* The claim: the lone segment waits about 200 ms for its ACK.
	 * "About": nearer TCP_DELACK_MAX than TCP_DELACK_MIN, 120 to 280 ms,
	 * as generous as the claim's word allows. */
	expect_acked_at_ms(p, SL_MS(DELACK_MAX_MS),
			   SL_TOL(0, (DELACK_MAX_MS - DELACK_MIN_MS) / 2),
			   .from = "client", .len = 1, .after = "sending lone");

	/* What came instead, by tcp_input.c for this pattern. */
	expect_acked_at_ms(p, SL_MS(variant->ack_ms),
			   SL_TOL(0, variant->ack_ms ? JIFFY_MAX_MS :
						       AT_ONCE_MS),
			   .from = "client", .len = 1, .after = "sending lone");
	/* The timer's own count: one delayed ACK, or none at all.  The
	 * server closes first, so nothing else of its is delayed; an
	 * exchange done again may have had one of its own (at least one,
	 * then). */
	if (variant->ack_ms && variant->interactive)
		expect_counter(p, "server", "TcpExtDelayedACKs", .min = 1);
	else if (variant->ack_ms)
		expect_counter(p, "server", "TcpExtDelayedACKs", .min = 1,
			       .max = 1);
	else if (!variant->interactive)
		expect_counter(p, "server", "TcpExtDelayedACKs", .max = 0);
	/* The quick-ACK phase before it: every one of the 16 at once. */
	if (variant->before == MAX_QUICKACKS)
		expect_acked_at_ms(p,
				   SL_MS(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
					 0, 0, 0),
				   SL_TOL(0, AT_ONCE_MS), .from = "client",
				   .len = 1, .after = "sending 1",
				   .before = "sending lone");
	/* TCP_QUICKACK after the read: the setsockopt() sends the ACK. */
	if (variant->quickack_after_read)
		expect_ret(p, "server", "setsockopt(TCP_QUICKACK)", 0);

	measure_acked_ms(p, "lone_ack_ms", .from = "client", .len = 1,
			 .after = "sending lone");
}
