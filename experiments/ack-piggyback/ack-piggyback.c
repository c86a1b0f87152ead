/*
 * ack-piggyback
 *
 * Claim: a reply sent before the delayed-ACK timer fires carries the ACK,
 * with no separate pure ACK.
 *
 * Why: delaying an ACK (RFC 1122 section 4.2.3.2) is meant for exactly
 * this: a request whose reply follows at once is acknowledged by the
 * reply itself, one segment instead of two.  In net/ipv4/tcp_input.c,
 * __tcp_ack_snd_check() arms the delayed-ACK timer for the request (40 ms
 * on this path, TCP_DELACK_MIN: see ack-delayed); any segment the socket
 * sends before it fires carries the ACK and cancels it
 * (tcp_event_ack_sent(), net/ipv4/tcp_output.c).  But the timer is armed
 * only outside quick-ACK mode, and a new connection starts in it: its
 * first data segment is acknowledged at once (tcp_event_data_recv(),
 * tcp_incr_quickack()), reply or not.  What ends the quick-ACK mode here is
 * the reply itself: a socket that sends data within ato (40 ms) of the
 * data it last received counts as interactive, "pingpong"
 * (tcp_event_data_sent(), net.ipv4.tcp_pingpong_thresh = 1), and an
 * interactive socket delays its ACKs even with quick-ACKs left
 * (tcp_in_quickack_mode()).
 *
 * How: the client sends a 10-byte request and reads the server's 100-byte
 * reply; the server reads the request and answers at once.  The request
 * under test ("sending request") is the connection's first, or comes
 * after an exchange that made the connection interactive: one whose reply
 * left within 20 ms of its request (both roles read that from the
 * captures, and repeat the exchange when it took longer, which a loaded
 * machine can make it).
 *
 * Variants: the first request (quick-ACK mode: a pure ACK at once, then
 * the reply; declared not to hold); a request on the interactive
 * connection (the reply carries the ACK); the same with a server that
 * replies only once its own ACK has left, which is later than the
 * delayed-ACK timer by construction (the pure ACK at 40 ms, then the
 * reply: what the claim implies when its condition is not met).
 */
#include <stdio.h>
#include <string.h>

#include "socklab.h"

#define REQUEST 10
#define REPLY 100
/* TCP_DELACK_MIN = HZ/25: the delayed ACK here (ack-delayed). */
#define DELACK_MIN_MS 40
/* One jiffy at the coarsest HZ (100): the timer fires within a jiffy of
 * 40 ms (ack-delayed). */
#define JIFFY_MAX_MS 10
/* An ACK sent at once leaves in the softirq that took the segment:
 * sooner than half the shortest delayed ACK, which no timer can be. */
#define AT_ONCE_MS (DELACK_MIN_MS / 2)
/* A reply makes the connection interactive when it leaves within ato
 * (TCP_ATO_MIN, 40 ms, counted in whole jiffies) of the request's arrival.
 * On a loaded machine the server may run later than that: an exchange
 * whose reply took half of it or more may have left the connection as it
 * was, so the roles do it again. */
#define INTERACTIVE_MS (DELACK_MIN_MS / 2)
#define MAX_EXCHANGES 10

EXPERIMENT(ack_piggyback) {
	.claim = "a reply sent before the delayed-ACK timer fires carries the "
		 "ACK, with no separate pure ACK",
	.expected = SL_NUANCED,
	.topic = SL_TOPIC_ACKS,
	.belief = "on a connection made interactive by an earlier reply; a "
		  "connection's first request gets a pure ACK at once; a "
		  "reply later than 40 ms follows the timer's pure ACK",
	.timeout_s = 10,
};

KNOBS(ack_piggyback) {
	bool interactive;	/* exchanges first, until one made the
				 * connection interactive */
	bool reply_late;	/* the server replies once its ACK has left */
	bool pure_ack;		/* tcp_input.c: a pure ACK before the reply */
};

VARIANT(ack_piggyback, first_request, .holds = false) {
	.pure_ack = true,
};
VARIANT(ack_piggyback, interactive_request) { .interactive = true };
VARIANT(ack_piggyback, interactive_request_reply_after_timer) {
	.interactive = true, .reply_late = true, .pure_ack = true,
};

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

ROLE(ack_piggyback, server)
{
	static char buf[REPLY];
	int lfd = sl_listen(self, SL_PORT);
	int fd = sl_call(self, accept(lfd, NULL, NULL));
	char mark[32];

	/* Requests answered at once, until one answer made the connection
	 * interactive (the client counts the same). */
	for (int k = 1; variant->interactive; k++) {
		SL_REQUIRE(self, k <= MAX_EXCHANGES,
			   "a reply within 20 ms of its request");
		sl_wait_recvq(self, fd, REQUEST);
		sl_call(self, read(fd, buf, REQUEST));
		sl_call(self, write(fd, buf, REPLY));
		mark_name(mark, sizeof(mark), k);
		if (answered_soon(self, mark))
			break;
	}
	/* The request under test. */
	sl_wait_recvq(self, fd, REQUEST);
	sl_call(self, read(fd, buf, REQUEST));
	if (variant->reply_late) {
		struct sl_segment req, ack;

		/* Our kernel's own ACK of the request first: the timer has
		 * fired when it leaves. */
		req = sl_wait_segment(self, .from = "client",
				      .after = "client:sending request");
		ack = sl_wait_segment(self, .from = "server",
				      .after_segment = &req);
		SL_REQUIRE(self,
			   ack.len == 0 && ack.ack == sl_segment_next(&req),
			   "the ACK of the request, alone");
	}
	sl_call(self, write(fd, buf, REPLY));
	/* Close first, once the client has its reply: no delayed ACK of
	 * ours follows it. */
	sl_wait_mark(self, "client", "done");
	sl_call(self, close(fd));
}

/* A request, and its reply read. */
static void request(struct sl_role *self, int fd, const char *mark)
{
	static char buf[REPLY];

	sl_mark(self, mark);
	sl_call(self, write(fd, buf, REQUEST));
	sl_wait_recvq(self, fd, REPLY);
	sl_call(self, read(fd, buf, REPLY));
}

ROLE(ack_piggyback, client)
{
	int fd = sl_connect(self, "server", SL_PORT);
	char mark[32];

	for (int k = 1; variant->interactive; k++) {
		SL_REQUIRE(self, k <= MAX_EXCHANGES,
			   "a reply within 20 ms of its request");
		mark_name(mark, sizeof(mark), k);
		/* The mark without its host: "exchange k". */
		request(self, fd, mark + strlen("client:"));
		if (answered_soon(self, mark))
			break;
	}
	request(self, fd, "sending request");
	sl_mark(self, "replied");
	sl_mark(self, "done");
}

PREDICT(ack_piggyback)
{
	if (!variant->reply_late) {
		/* The claim: the reply carries the ACK of the request, and
		 * no pure ACK comes between them. */
		expect_no_packet(p, .from = "server", .len = 0,
				 .after = "sending request",
				 .before = "replied");
		expect_packet(p, .from = "server", .len = REPLY,
			      .after = "sending request", .before = "replied");
	} else {
		/* Where the claim's condition fails (the reply comes after
		 * the timer), the timer's pure ACK comes first. */
		expect_packets(p, 1, .from = "server", .len = 0,
			       .after = "sending request", .before = "replied");
		expect_packet(p, .from = "server", .len = REPLY,
			      .after = "sending request", .before = "replied");
	}

	/* What tcp_input.c says: the request is acknowledged at once by a
	 * pure ACK (quick-ACK mode), by the delayed-ACK timer's pure ACK
	 * (reply late), or by the reply. */
	if (variant->pure_ack)
		expect_acked_at_ms(p, SL_MS(variant->reply_late ?
						 DELACK_MIN_MS : 0),
				   SL_TOL(0, variant->reply_late ?
						     JIFFY_MAX_MS :
						     AT_ONCE_MS),
				   .from = "client", .len = REQUEST,
				   .after = "sending request");
	/* The timer's own count.  An exchange that had to be done again
	 * may have had a delayed ACK of its own: at least one, then. */
	if (variant->reply_late)
		expect_counter(p, "server", "TcpExtDelayedACKs", .min = 1);
	else if (!variant->interactive)
		expect_counter(p, "server", "TcpExtDelayedACKs", .max = 0);
	/* How long the request waited for its acknowledgment, whichever
	 * segment carried it. */
	measure_acked_ms(p, "request_acked_ms", .from = "client",
			 .len = REQUEST, .after = "sending request");
	measure_packet_ms(p, "reply_after_request_ms", .from = "server",
			  .len = REPLY, .after = "sending request");
}
