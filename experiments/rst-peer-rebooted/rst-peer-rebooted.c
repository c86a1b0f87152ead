/*
 * rst-peer-rebooted
 *
 * Claim: after the peer host reboots (no socket state), data or a
 * keepalive probe sent to it is answered with RST; the sender sees
 * ECONNRESET.
 *
 * Why: a rebooted host has the same address but no memory of the
 * connection.  A segment for it finds no socket in tcp_v4_rcv()
 * (net/ipv4/tcp_ipv4.c), and the kernel answers with tcp_v4_send_reset():
 * a RST whose sequence number is the segment's acknowledgment number
 * (RFC 9293, section 3.10.7.1).  That is exactly the sender's rcv_nxt, so
 * the sender accepts it (not even the RFC 5961 challenge-ACK check
 * objects) and fails the connection with ECONNRESET.
 *
 * The reboot (sl_crash(), then sl_reboot()): the server crashes first (its
 * process is killed while its output is dropped, so no FIN or RST gets
 * out), then its namespace is replaced by a fresh one with the same name,
 * link and address and no socket at all, and its capture moves on to
 * server-eth0-after-reboot.pcap.
 *
 * Variants: the client writes after the reboot, or stays idle with
 * keepalive on (TCP_KEEPIDLE 1 s): its first probe, 1 s after it turned
 * keepalive on, is what meets the rebooted host.  It turns keepalive on
 * (SO_KEEPALIVE arms the timer for the whole idle time) only once the
 * reboot is done: a crash and a reboot take the harness from tens of
 * milliseconds to seconds on a busy machine, and a probe sent before the
 * reboot would vanish in the crash's blackhole instead.
 */
#include "socklab.h"
#include "../common.h"

EXPERIMENT(rst_peer_rebooted) {
	.claim = "after the peer reboots, data or a keepalive probe sent to "
		 "it draws a RST; the sender sees ECONNRESET",
	.expected = SL_CONFIRMED,
	.topic = SL_TOPIC_RST,
	.timeout_s = 10,
};

KNOBS(rst_peer_rebooted) {
	int data;		/* bytes written after the reboot; 0: idle */
	int idle_s;		/* TCP_KEEPIDLE; 0: keepalive off */
};

VARIANT(rst_peer_rebooted, data_after_reboot) { .data = 100 };
VARIANT(rst_peer_rebooted, keepalive_after_reboot) { .idle_s = 1 };

ROLE(rst_peer_rebooted, server)
{
	accept_marked(self);	/* listen, accept, mark "accepted" */
}

ROLE(rst_peer_rebooted, client)
{
	int fd = connect_accepted(self);	/* ESTABLISHED on both hosts */

	keepalive_timers(self, fd, variant->idle_s, 0, 0);

	sl_crash(self, "server");
	sl_reboot(self, "server");
	if (variant->idle_s)
		keepalive_on(self, fd);
	/* Writes the data (if any), then blocks in read() until the RST (or
	 * a timeout, if none came). */
	write_then_read_end(self, fd, variant->data);
}

PREDICT(rst_peer_rebooted)
{
	/* The rebooted server keeps nothing of the connection. */
	expect_no_state(p, .host = "server", .state = "ESTAB",
			.after = "reboot server");
	expect_errno(p, "client", "read", ECONNRESET);
	if (variant->data) {
		/* The first segment is answered at once: no retransmission. */
		expect_packet(p, .from = "server", .flags = "R",
			      .after = "sending", .answer_ms = 50);
		expect_packets(p, 1, .from = "client", .len = 100,
			       .after = "sending");
		measure_packet_ms(p, "rst_after_send", .from = "server",
				  .flags = "R", .after = "sending");
	} else {
		/* One probe, TCP_KEEPIDLE after keepalive was turned on, and
		 * the RST that answers it. */
		expect_packets_at_ms(p, SL_MS(variant->idle_s * 1000.0),
				     SL_TOL(5, 20), .from = "client",
				     .len = 0, .not_flags = "R",
				     .after = "keepalive on");
		expect_packets_at_ms(p, SL_MS(variant->idle_s * 1000.0),
				     SL_TOL(5, 20), .from = "server",
				     .flags = "R", .after = "keepalive on");
		expect_call_ms(p, "client", "read", "keepalive on",
			       variant->idle_s * 1000.0, SL_TOL(5, 20));
		measure_packet_ms(p, "probe", .from = "client",
				  .len = 0, .not_flags = "R",
				  .after = "keepalive on");
		measure_packet_ms(p, "rst", .from = "server", .flags = "R",
				  .after = "keepalive on");
	}
}
