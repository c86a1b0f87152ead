/*
 * timewait-rst-assassination
 *
 * Claim: a RST arriving in TIME_WAIT kills the TIME_WAIT socket early (the
 * hazard of RFC 1337) unless net.ipv4.tcp_rfc1337=1.
 *
 * Why: tcp_timewait_state_process() in net/ipv4/tcp_minisocks.c takes a
 * segment whose sequence number is exactly the next one expected
 * (rcv_nxt) as "in window"; if it is a RST and tcp_rfc1337 is 0 it
 * deschedules the TIME-WAIT socket at once ("This is TIME_WAIT
 * assassination, in two flavors").  With tcp_rfc1337=1 it ignores the RST,
 * as RFC 1337 section 3 (fix F1) asks, and the 4-tuple stays protected for
 * the rest of its 60 s.  A RST with any other sequence number is ignored
 * either way.
 *
 * How: the client closes first, so the client holds the TIME-WAIT.  Once
 * the server's own socket has gone (LAST-ACK, then CLOSED), the server
 * host sends a crafted RST on the old 4-tuple with the sequence number the
 * client expects next (the server's FIN + 1, read from the capture).  Then
 * it probes the 4-tuple with an out-of-window ACK: a TIME-WAIT socket
 * answers it with an ACK of the old connection, a host with no socket there
 * answers with RST.  The probe's answer shows on the wire what sock_diag
 * shows in the client's socket table.
 *
 * Variants: tcp_rfc1337 on the client (the host that holds the TIME-WAIT),
 * 0 (the default) and 1.  Nothing else differs.
 */
#include "socklab.h"
#include "../common.h"

EXPERIMENT(timewait_rst_assassination) {
	.claim = "a RST arriving in TIME_WAIT kills the TIME_WAIT socket "
		 "early unless net.ipv4.tcp_rfc1337=1",
	.expected = SL_CONFIRMED,
	.topic = SL_TOPIC_TIME_WAIT,
	.belief = "the claim names its condition: both settings shown",
	.timeout_s = 10,
};

KNOBS(timewait_rst_assassination) {
	int rfc1337;		/* net.ipv4.tcp_rfc1337 on the client */
};

VARIANT(timewait_rst_assassination, rfc1337_0) { .rfc1337 = 0 };
VARIANT(timewait_rst_assassination, rfc1337_1) { .rfc1337 = 1 };

SETUP(timewait_rst_assassination)
{
	sl_sysctl(s, "client", "net.ipv4.tcp_rfc1337",
		  variant->rfc1337 ? "1" : "0");
}

ROLE(timewait_rst_assassination, server)
{
	struct sl_segment fin, client_fin, probe;
	struct sl_tuple t;
	/* The client closes first: we are in CLOSE-WAIT. */
	int fd = accept_peer_closed(self, &t);

	sl_try(self, close(fd));
	/* LAST-ACK until the client's ACK of our FIN, then nothing: from
	 * here on this host holds no socket on the 4-tuple, and whatever it
	 * sends on it is what we craft. */
	sl_wait_tuple(self, &t, SL_GONE);
	sl_wait_mark(self, "client", "in TIME-WAIT");

	/* The numbers the client's TIME-WAIT expects, from the capture: our
	 * FIN + 1 is its rcv_nxt, the client's FIN + 1 its snd_nxt. */
	fin = sl_wait_segment(self, .from = "server", .flags = "F");
	client_fin = sl_wait_segment(self, .from = "client", .flags = "F");
	sl_mark(self, "injecting RST");
	sl_inject(self, .to = "client", .sport = SL_PORT,
		  .dport = sl_port(&t.peer), .flags = "R",
		  .seq = sl_segment_next(&fin),
		  .note = "our FIN + 1: what the client expects next");

	/* Is anybody still there?  One byte left of the window, so the
	 * segment is old: a TIME-WAIT answers it with an ACK, no socket at
	 * all with a RST. */
	sl_mark(self, "probing");
	probe = sl_inject(self, .to = "client", .sport = SL_PORT,
			  .dport = sl_port(&t.peer), .flags = ".",
			  .seq = sl_segment_next(&fin) - 1,
			  .ack = sl_segment_next(&client_fin),
			  .note = "one before the client's window: an old "
				  "segment");
	sl_wait_segment(self, .from = "client", .to = "server",
			.after_segment = &probe);
	sl_mark(self, "answered");
}

ROLE(timewait_rst_assassination, client)
{
	int fd = sl_connect(self, "server", SL_PORT);
	struct sl_tuple t = sl_tuple(self, fd);

	sl_mark(self, "closing");
	sl_try(self, close(fd));
	/* FIN-WAIT-2 until the server's FIN, then TIME-WAIT. */
	sl_wait_tuple(self, &t, TCP_TIME_WAIT);
	sl_mark(self, "in TIME-WAIT");
	sl_wait_mark(self, "server", "answered");
	/* What is left of the 4-tuple here, seen at a moment we chose: the
	 * samplers may not have looked between the RST and the end. */
	sl_record_tuple(self, &t);
}

PREDICT(timewait_rst_assassination)
{
	/* That the client holds a TIME-WAIT is not predicted: it waited for
	 * it before the server went on (a precondition, not the claim). */
	if (!variant->rfc1337) {
		/* Assassinated: the entry disappears at once (within a
		 * second, not 60), and the client no longer knows the
		 * connection: it resets the probe. */
		expect_gone(p, .host = "client", .state = "TIME-WAIT",
			    .after = "injecting RST", .within_ms = 1000);
		expect_packet(p, .from = "client", .flags = "R",
			      .after = "probing", .answer_ms = 50);
	} else {
		/* Ignored: the TIME-WAIT stays to the end of the run and
		 * answers the probe with an ACK of the old connection. */
		expect_state_kept(p, .host = "client", .state = "TIME-WAIT",
				  .after = "answered");
		expect_packet(p, .from = "client", .flags = ".",
			      .not_flags = "R", .after = "probing",
			      .answer_ms = 50);
		expect_no_packet(p, .from = "client", .flags = "R");
	}
}
