/*
 * handshake-teardown
 *
 * Claim: the baseline the notes draw.  A connection opens with SYN, SYN-ACK,
 * ACK (client SYN_SENT -> ESTABLISHED; server LISTEN -> SYN_RECV ->
 * ESTABLISHED, and accept() returns only after the final ACK) and closes
 * with four segments FIN, ACK, FIN, ACK (active closer FIN_WAIT1 ->
 * FIN_WAIT2 -> TIME_WAIT; passive CLOSE_WAIT -> LAST_ACK -> CLOSED).
 *
 * Why: the opening is RFC 9293 section 3.5 as net/ipv4 implements it.  The
 * listener answers a SYN from a request socket (a "mini" socket of state
 * NEW_SYN_RECV, which ss shows as SYN-RECV) and creates the real socket
 * only when the final ACK arrives: tcp_check_req() (tcp_minisocks.c) clones
 * the listener (LISTEN -> SYN_RECV), the ACK moves the clone to ESTABLISHED
 * and puts it in the accept queue, and only then does accept() return.
 * Until that ACK the client is ESTABLISHED and the server's application
 * has nothing.  If the ACK is lost, the request socket retransmits its
 * SYN-ACK after TCP_TIMEOUT_INIT (1 s), the client answers it again, and
 * accept() returns then.
 *
 * The teardown: the first FIN moves the passive closer to CLOSE_WAIT, and
 * tcp_fin() (tcp_input.c) puts it in "pingpong" mode, so its ACK of the
 * FIN is delayed, not sent at once: the delayed-ACK timer is armed for the
 * socket's ato, which the first data it received set to TCP_ATO_MIN
 * (HZ/25, 40 ms; tcp_event_data_recv()).  If the application closes
 * before the timer fires, the FIN it sends carries that ACK, and the close
 * takes three segments: FIN, FIN-ACK, ACK.  If it closes later, the ACK
 * has left alone and the close takes the four segments of the textbook.
 * Belief: NUANCED, both timings shown.
 *
 * How: the client connects, waits for the server's accept(), sends a
 * 100-byte request (so that the server's ato is TCP_ATO_MIN: a socket that
 * never received data has ato 0, and its "delayed" ACK leaves at the next
 * tick) and closes once the server has read it.  The server reads the
 * request, then the FIN (read() returns 0), and closes.  Each side looks
 * at its own connection (sl_record_tuple(), an ss: line) at chosen
 * moments; the kernel's state changes show the rest.
 *
 * Variants: close_at_once, the server closes as soon as read() returns 0
 * (three segments: declared not to hold); close_after_delayed_ack, the
 * server closes once its ACK of the FIN has left (four segments);
 * final_ack_lost, the same with the client's final ACK of the handshake
 * dropped once on the router, so that accept() waits for the SYN-ACK's
 * retransmission.
 */
#include "socklab.h"
#include "../common.h"

/* The client's request: enough to set the server's delayed-ACK timeout,
 * and no more than one segment. */
#define REQUEST 100

EXPERIMENT(handshake_teardown) {
	.claim = "a connection opens with SYN, SYN-ACK, ACK (accept() returns "
		 "only after the final ACK) and closes with four segments FIN, "
		 "ACK, FIN, ACK; the active closer ends in TIME_WAIT, the "
		 "passive one in CLOSED",
	.expected = SL_NUANCED,
	.topic = SL_TOPIC_ESTABLISHMENT,
	.belief = "the passive closer's ACK of the FIN is delayed (40 ms once "
		  "data has arrived), so when its application closes at once "
		  "its FIN rides on that ACK and the close takes three "
		  "segments; four only when it closes later than the delayed "
		  "ACK",
	.timeout_s = 10,
};

KNOBS(handshake_teardown) {
	bool wait_ack;		/* the server closes once its ACK of the
				 * client's FIN has left */
	bool lose_final_ack;	/* the router drops the handshake's ACK */
};

VARIANT(handshake_teardown, close_at_once, .holds = false) { };
VARIANT(handshake_teardown, close_after_delayed_ack) { .wait_ack = true };
VARIANT(handshake_teardown, final_ack_lost) {
	.wait_ack = true, .lose_final_ack = true,
};

SETUP(handshake_teardown)
{
	/* The client's first pure ACK is the handshake's third segment. */
	if (variant->lose_final_ack)
		sl_fault(s, .kind = "drop", .from = "client", .flags = ".",
			 .not_flags = "SFRP", .len = 0);
}

ROLE(handshake_teardown, server)
{
	int lfd = sl_listen(self, SL_PORT);
	char req[REQUEST];
	struct sl_segment fin, our_fin;
	struct sl_tuple t;
	int fd;

	/* Blocks through the whole handshake: it returns once the final
	 * ACK has made the connection, not at the SYN. */
	fd = sl_call(self, accept(lfd, NULL, NULL));
	sl_mark(self, "accepted");
	t = sl_tuple(self, fd);

	sl_wait_recvq(self, fd, REQUEST);
	SL_REQUIRE(self, sl_call(self, read(fd, req, sizeof(req))) == REQUEST,
		   "read the client's request");
	sl_mark(self, "read request");

	/* The client's FIN: end of stream, CLOSE-WAIT.  Closing at once
	 * means at once: nothing between read() and close(). */
	read_fin(self, fd);
	if (variant->wait_ack) {
		/* The application is slower than the delayed-ACK timer:
		 * our ACK of the FIN leaves alone, then we close. */
		fin = sl_wait_segment(self, .from = "client", .flags = "F");
		sl_wait_segment(self, .from = "server", .after_segment = &fin);
		sl_record_tuple(self, &t);
	}
	sl_mark(self, "closing");
	sl_try(self, close(fd));
	/* LAST-ACK until the client's ACK of our FIN; then nothing. */
	our_fin = sl_wait_segment(self, .from = "server", .flags = "F");
	sl_wait_segment(self, .from = "client", .after_segment = &our_fin);
	sl_record_tuple(self, &t);
	sl_mark(self, "done");
}

ROLE(handshake_teardown, client)
{
	struct sockaddr_storage sa = sl_addr(self, "server", SL_PORT);
	char req[REQUEST] = { 0 };
	struct sl_segment fin;
	struct sl_tuple t;
	int fd;

	fd = sl_call(self, socket(sl_family(self), SOCK_STREAM, 0));
	sl_wait_mark(self, "server", "listening");
	sl_mark(self, "connecting");
	sl_call(self, connect(fd, (struct sockaddr *)&sa, sizeof(sa)));
	sl_mark(self, "connected");
	t = sl_tuple(self, fd);
	sl_record_tuple(self, &t);

	/* Like a client of a protocol where the server speaks first: the
	 * request waits for the server's application.  Data sent earlier
	 * would carry the ACK a lost final ACK failed to deliver. */
	sl_wait_mark(self, "server", "accepted");
	sl_call(self, write(fd, req, sizeof(req)));
	sl_wait_mark(self, "server", "read request");

	sl_mark(self, "closing");
	sl_try(self, close(fd));
	/* FIN-WAIT-1, FIN-WAIT-2, then the server's FIN: we ACK it and the
	 * 4-tuple is held in TIME-WAIT.  Look once that ACK has left. */
	fin = sl_wait_segment(self, .from = "server", .flags = "F");
	sl_wait_segment(self, .from = "client", .after_segment = &fin);
	sl_record_tuple(self, &t);
	sl_mark(self, "acked FIN");
}

/* The delayed ACK: TCP_ATO_MIN (HZ/25) is 40 ms at any HZ, armed in whole
 * jiffies from a jiffy already under way.  The timer wheel fires a timer
 * of that length on the jiffy after it expires, so the ACK leaves between
 * 40 ms and 40 ms plus one jiffy (4 ms at HZ=250, 10 ms at HZ=100) after
 * the FIN arrived: 15 ms covers it at any HZ, and a run whose timers woke
 * late allows that much more (lib/lateness.h).  Timed from the FIN's
 * arrival at the server, not from the client's mark: a guest once ran the
 * client 22 ms late between its mark and its close(). */
#define DELACK_MS 40
#define DELACK_TOL SL_TOL(0, 15)

/* The SYN-ACK's retransmission: TCP_TIMEOUT_INIT, 1 s after the first.  The
 * kernel's timer wheel fires a timer that long up to 1/8 of it late (32 ms
 * at HZ=250, 80 ms at HZ=100): 13 %.  The first SYN-ACK answers the SYN
 * within a round trip of the mark; 20 ms leaves room for a busy machine. */
#define SYNACK_RTO_MS 1000
#define SYNACK_TOL SL_TOL(13, 20)

PREDICT(handshake_teardown)
{
	/* The opening: SYN, SYN-ACK (again after a lost ACK), ACK. */
	expect_packets(p, 1, .from = "client", .flags = "S");
	expect_packets(p, variant->lose_final_ack ? 2 : 1, .from = "server",
		       .flags = "S.");
	expect_state_change(p, .host = "client", .old_state = "CLOSE",
			    .state = "SYN_SENT");
	expect_state_change(p, .host = "client", .old_state = "SYN_SENT",
			    .state = "ESTABLISHED");
	expect_state_change(p, .host = "server", .old_state = "CLOSE",
			    .state = "LISTEN");
	expect_state_change(p, .host = "server", .old_state = "LISTEN",
			    .state = "SYN_RECV");
	/* accept() returns only after the final ACK: the ACK was sent, and
	 * the server's socket was ESTABLISHED, before accept() returned. */
	expect_packet(p, .from = "client", .flags = ".", .not_flags = "SFRP",
		      .len = 0, .before = "server:accepted");
	expect_state_change(p, .host = "server", .old_state = "SYN_RECV",
			    .state = "ESTABLISHED", .before = "server:accepted");
	if (variant->lose_final_ack) {
		/* The client is connected a full SYN-ACK timeout before the
		 * server is: its ACK was lost, the server retransmitted
		 * its SYN-ACK, the client ACKed it again, and only that
		 * ACK made the server's connection and woke accept(). */
		expect_packets_at_ms(p, SL_MS(0, SYNACK_RTO_MS), SYNACK_TOL,
				     .from = "server", .flags = "S.",
				     .after = "client:connecting");
		expect_packets(p, 2, .from = "client", .flags = ".",
			       .not_flags = "SFRP", .len = 0,
			       .before = "server:accepted");
		expect_state_change(p, .host = "server",
				    .old_state = "SYN_RECV",
				    .state = "ESTABLISHED",
				    .after = "client:connected");
	}
	measure_call_ms(p, "accept_after_connect", "server", "accept",
			"client:connected");

	/* The close: four segments, the passive closer's ACK alone before
	 * its FIN. */
	expect_packets(p, 4, .after = "client:closing");
	expect_packet(p, .from = "client", .flags = "F",
		      .after = "client:closing");
	expect_packets(p, 1, .from = "server", .flags = ".",
		       .not_flags = "SFRP", .len = 0,
		       .after = "client:closing");
	expect_packet(p, .from = "server", .flags = "F",
		      .after = "server:closing");
	expect_packet(p, .from = "client", .flags = ".", .not_flags = "SFRP",
		      .len = 0, .after = "server:closing");
	if (variant->wait_ack)
		/* The ACK alone is the delayed one: TCP_ATO_MIN after the
		 * FIN. */
		expect_acked_at_ms(p, SL_MS(DELACK_MS), DELACK_TOL,
				   .from = "client", .flags = "F",
				   .after = "client:closing");
	measure_packet_ms(p, "server_fin", .from = "server", .flags = "F",
			  .after = "client:closing");

	/* The states of the close. */
	expect_state_change(p, .host = "client", .old_state = "ESTABLISHED",
			    .state = "FIN_WAIT1");
	expect_state_change(p, .host = "client", .old_state = "FIN_WAIT1",
			    .state = "FIN_WAIT2");
	expect_state(p, .host = "client", .state = "TIME-WAIT");
	expect_no_state(p, .host = "client", .state = "CLOSE-WAIT");
	expect_state_change(p, .host = "server", .old_state = "ESTABLISHED",
			    .state = "CLOSE_WAIT");
	expect_state_change(p, .host = "server", .old_state = "CLOSE_WAIT",
			    .state = "LAST_ACK");
	expect_state_change(p, .host = "server", .old_state = "LAST_ACK",
			    .state = "CLOSE");
	expect_no_state(p, .host = "server", .state = "TIME-WAIT");
	expect_gone(p, .host = "server", .after = "server:closing");
}
