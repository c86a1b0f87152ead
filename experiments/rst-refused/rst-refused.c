/*
 * rst-refused
 *
 * Claim: a SYN to a port with no listener is answered with RST; connect()
 * fails with ECONNREFUSED.
 *
 * Why: tcp_v4_rcv() in net/ipv4/tcp_ipv4.c looks the segment up among the
 * established and then the listening sockets.  When nothing matches it
 * answers with tcp_v4_send_reset(), which, for a segment without ACK such
 * as a SYN, sends RST+ACK with seq 0 and ack = the SYN's sequence number + 1,
 * as RFC 9293 section 3.10.7.1 prescribes for a segment that reaches no
 * connection.  On the client, tcp_reset() in net/ipv4/tcp_input.c turns a RST
 * received in SYN-SENT into ECONNREFUSED, and connect() returns at once: no
 * SYN is retransmitted.
 *
 * Variants: what the server host has on the port.  nothing_on_port: no
 * socket at all.  bound_not_listening: a socket bind()s the port but never
 * calls listen(): bind() reserves the port but does not put the socket where
 * the lookup for a SYN looks.  listening_on_other_port: a listener on
 * SL_PORT + 1 shows that the answer is per port, not per host.
 */
#include "socklab.h"

EXPERIMENT(rst_refused) {
	.claim = "a SYN to a port with no listener is answered with RST; "
		 "connect() fails with ECONNREFUSED",
	.expected = SL_CONFIRMED,
	.topic = SL_TOPIC_RST,
	.timeout_s = 10,
};

KNOBS(rst_refused) {
	bool bind_port;		/* a socket bound to SL_PORT, never listening */
	bool listen_other;	/* a listener on SL_PORT + 1 */
};

VARIANT(rst_refused, nothing_on_port) { .bind_port = false };
VARIANT(rst_refused, bound_not_listening) { .bind_port = true };
VARIANT(rst_refused, listening_on_other_port) { .listen_other = true };

ROLE(rst_refused, server)
{
	struct sockaddr_storage sa = sl_addr(self, "server", SL_PORT);

	if (variant->bind_port) {
		int fd = sl_call(self, socket(sl_family(self), SOCK_STREAM, 0));

		sl_call(self, bind(fd, (struct sockaddr *)&sa, sizeof(sa)));
	}
	if (variant->listen_other)
		sl_listen(self, SL_PORT + 1);
	/* Nothing listens on SL_PORT: the host is as ready as it will be. */
	sl_mark(self, "ready");
	/* The sockets above stay open until every role has ended. */
}

ROLE(rst_refused, client)
{
	struct sockaddr_storage sa = sl_addr(self, "server", SL_PORT);
	int fd = sl_call(self, socket(sl_family(self), SOCK_STREAM, 0));

	sl_wait_mark(self, "server", "ready");
	sl_mark(self, "connecting");
	/* Blocks until the SYN is answered: SYN-ACK (0) or RST (-1). */
	sl_try(self, connect(fd, (struct sockaddr *)&sa, sizeof(sa)));
	sl_mark(self, "done");
}

PREDICT(rst_refused)
{
	expect_packets(p, 1, .from = "client", .flags = "S");
	/* At once: the RST leaves as the SYN comes in. */
	expect_packet(p, .from = "server", .flags = "R.", .after = "connecting",
		      .answer_ms = 50);
	expect_no_packet(p, .from = "server", .flags = "S");
	expect_errno(p, "client", "connect", ECONNREFUSED);
	measure_packet_ms(p, "rst_after_connect", .from = "server",
			  .flags = "R", .after = "connecting");

	/* What the kernel says: tcp_v4_rcv() found no socket for the SYN,
	 * answered it with the reason NO_SOCKET and dropped it with the
	 * same reason; the client's socket went from SYN_SENT back to CLOSE
	 * without a retransmission, counted as a failed attempt. */
	expect_kernel(p, .host = "server", .event = "tcp_send_reset",
		      .reason = "NO_SOCKET", .after = "connecting");
	expect_drop(p, .host = "server", .reason = "NO_SOCKET",
		    .after = "connecting");
	expect_state_change(p, .host = "client", .old_state = "SYN_SENT",
			    .state = "CLOSE", .after = "connecting");
	expect_no_state_change(p, .host = "client", .state = "ESTABLISHED");
	expect_retransmits(p, .host = "client", .max = 0);
	expect_counter(p, "client", "TcpAttemptFails", .min = 1,
		       .max = 1);
	expect_counter(p, "server", "TcpOutRsts", .min = 1, .max = 1);
}
