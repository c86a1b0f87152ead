/*
 * lastack-lost-ack-closed
 *
 * Claim: if the active closer has already left TIME_WAIT (or skipped it),
 * the retransmitted FIN is answered with RST and the passive closer goes
 * to CLOSED.
 *
 * Why: a segment that finds no socket at all, listener, connection or
 * TIME-WAIT, is answered by tcp_v4_send_reset() from tcp_v4_rcv()
 * (net/ipv4/tcp_ipv4.c, drop reason NO_SOCKET): a RST whose sequence number
 * is the segment's acknowledgment number, as RFC 9293 section 3.10.7.1
 * says for a CLOSED connection.  That number is the FIN's acknowledgment,
 * so exactly what the passive closer in LAST-ACK expects next (rcv_nxt):
 * the RST is in window, and tcp_reset() moves the socket to CLOSE.
 *
 * The special problem of "already left TIME_WAIT" on Linux: the TIME-WAIT
 * lasts a fixed 60 s and every retransmitted FIN that reaches it starts the
 * 60 s again (lastack-lost-ack-timewait), while the passive closer's
 * back-off gaps stay below 60 s (200 ms doubling: the eighth gap is 51.2 s)
 * until it gives up, by default after about 100 s.  So a retransmitted FIN
 * finds the TIME-WAIT gone only when the path loses everything for more
 * than a minute, or when the TIME-WAIT never existed or was lost with its
 * host.  The experiment takes the two honest short cuts, one per variant:
 *
 *  tw_buckets_0: the client skips TIME-WAIT.  net.ipv4.tcp_max_tw_buckets
 *	(per namespace) is the size of the TIME-WAIT table; when it is full,
 *	tcp_time_wait() in net/ipv4/tcp_minisocks.c gets no mini-socket
 *	from inet_twsk_alloc(), counts TcpExtTCPTimeWaitOverflow and closes
 *	the socket outright.  At 0 every close is such an overflow: the
 *	client ACKs the server's FIN and forgets the connection, as a busy
 *	server whose table is full does.
 *  client_rebooted: the client's host crashes and reboots, so the
 *	retransmitted FIN reaches a host that has no socket state at all.
 *
 * How: the client closes first (shutdown(SHUT_WR)), and the server ACKs
 * its FIN.  In tw_buckets_0, once the client is in FIN-WAIT-2 the router
 * is set to drop the client's next pure ACK (the one for the server's
 * FIN), and the server closes; the client reads the FIN, ACKs it (lost)
 * and closes.  In client_rebooted the client's host crashes while it waits
 * in FIN-WAIT-2, the server closes, its FIN vanishes in the crash's
 * blackhole, and the client's host comes back empty: the next
 * retransmission of the FIN is the one that meets it.  Crashing before the
 * server closes, not after its FIN was ACKed, leaves nothing to race: a
 * crash and a reboot take the harness from tens of milliseconds to
 * seconds on a busy machine, and a retransmission that reached the client
 * before the crash would find its TIME-WAIT alive.
 */
#include "socklab.h"
#include "../common.h"

EXPERIMENT(lastack_lost_ack_closed) {
	.claim = "if the active closer has left TIME_WAIT (or skipped it), "
		 "the retransmitted FIN is answered with RST and the passive "
		 "closer goes to CLOSED",
	.expected = SL_CONFIRMED,
	.topic = SL_TOPIC_TEARDOWN,
	.timeout_s = 10,
};

KNOBS(lastack_lost_ack_closed) {
	bool tw_buckets_0;	/* net.ipv4.tcp_max_tw_buckets = 0, client */
	bool reboot;		/* the client host crashes and reboots */
};

VARIANT(lastack_lost_ack_closed, tw_buckets_0) { .tw_buckets_0 = true };
VARIANT(lastack_lost_ack_closed, client_rebooted) { .reboot = true };

SETUP(lastack_lost_ack_closed)
{
	if (variant->tw_buckets_0)
		sl_sysctl(s, "client", "net.ipv4.tcp_max_tw_buckets", "0");
}

ROLE(lastack_lost_ack_closed, server)
{
	struct sl_tuple t;
	/* The client closes first: we are in CLOSE-WAIT. */
	int fd = accept_peer_closed(self, &t);

	if (variant->reboot) {
		/* The client's host goes down before our FIN leaves, and
		 * comes back empty once it has left. */
		sl_wait_mark(self, "client", "in FIN-WAIT-2");
		sl_crash(self, "client");
		sl_mark(self, "closing");
		sl_try(self, close(fd));
		sl_wait_segment(self, .from = "server", .flags = "F");
		sl_reboot(self, "client");
		sl_mark(self, "client rebooted");
	} else {
		sl_wait_mark(self, "client", "ACK will be lost");
		sl_mark(self, "closing");
		sl_try(self, close(fd));
	}
	/* LAST-ACK until an answer to the retransmitted FIN gets through. */
	sl_wait_tuple(self, &t, SL_GONE);
	sl_mark(self, "done");
}

ROLE(lastack_lost_ack_closed, client)
{
	int fd = sl_connect(self, "server", SL_PORT);
	struct sl_tuple t = sl_tuple(self, fd);
	char buf[1];

	/* shutdown(), not close(): the socket keeps its descriptor, so it
	 * waits for the server's FIN as a full socket.  A closed (orphaned)
	 * one would wait in a FIN-WAIT-2 mini-socket, which comes from the
	 * same table as TIME-WAIT: with tcp_max_tw_buckets at 0 it would
	 * go at once, and the server's first FIN, not its retransmission,
	 * would meet no socket. */
	sl_mark(self, "closing");
	sl_try(self, shutdown(fd, SHUT_WR));
	/* The server has ACKed our FIN. */
	sl_wait_tuple(self, &t, TCP_FIN_WAIT2);
	if (variant->reboot) {
		sl_mark(self, "in FIN-WAIT-2");
		/* Until the crash stops this process. */
		sl_wait_mark(self, "server", "never");
	}
	/* The next pure ACK we send is the one for the server's FIN, the
	 * last of the connection. */
	sl_fault(self, .kind = "drop", .from = "client", .flags = ".",
		 .not_flags = "SFRP", .len = 0);
	sl_mark(self, "ACK will be lost");
	/* The server's FIN: read() returns 0, and our ACK leaves. */
	sl_try(self, read(fd, buf, 1));
	sl_try(self, close(fd));
	/* No TIME-WAIT: nothing is left of the connection here. */
	sl_record_tuple(self, &t);
}

/* An RTO of TCP_RTO_MIN plus the RTT in whole jiffies, maybe late by the
 * timer wheel (keepalive-vs-retransmit explains the numbers). */
#define RTO_TOL SL_TOL(10, 20)

PREDICT(lastack_lost_ack_closed)
{
	/* The passive closer's FIN, and once more one RTO later: the ACK
	 * did not come. */
	if (!variant->reboot)
		expect_packets_at_ms(p, SL_MS(0, 200), RTO_TOL, .from = "server",
				     .flags = "F", .after = "server:closing");
	else
		/* The first FIN goes into the crash's blackhole, and is
		 * retransmitted until the fresh host is there (tens of
		 * milliseconds or seconds: the harness's reboot, whose
		 * mark comes a little after the host is up again).  The
		 * claim is about the retransmission that meets it,
		 * whenever it comes: the kernel counts them. */
		expect_retransmits(p, .host = "server", .min = 1);
	/* The retransmitted FIN finds no socket: RST, at once. */
	expect_packets(p, 1, .from = "client", .flags = "R",
		       .after = "server:closing");
	expect_kernel(p, .host = "client", .event = "tcp_send_reset",
		      .reason = "NO_SOCKET", .after = "server:closing");
	/* ... and the passive closer goes from LAST-ACK to CLOSED on it,
	 * not on a timeout: its retransmission timer would have sent the
	 * FIN a third time. */
	expect_kernel(p, .host = "server", .event = "tcp_receive_reset",
		      .after = "server:closing");
	expect_state_change(p, .host = "server", .old_state = "LAST_ACK",
			    .state = "CLOSE", .after = "server:closing");
	/* Whenever the FIN that meets the fresh host comes (see above):
	 * gone on the RST, which the predictions above tie to it. */
	expect_gone(p, .host = "server", .state = "LAST-ACK",
		    .after = "server:closing",
		    .within_ms = variant->reboot ? 0 : 1000);
	if (variant->tw_buckets_0) {
		/* The client's socket went when it ACKed the FIN. */
		expect_no_state(p, .host = "client", .state = "TIME-WAIT");
		expect_counter(p, "client", "TcpExtTCPTimeWaitOverflow",
			       .min = 1);
	}
	measure_gaps_ms(p, "fin", .from = "server", .flags = "F",
			.after = "server:closing");
	measure_packet_ms(p, "rst", .from = "client", .flags = "R",
			  .after = "server:closing");
}
