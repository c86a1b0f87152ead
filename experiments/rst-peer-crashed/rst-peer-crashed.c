/*
 * rst-peer-crashed
 *
 * Claim: a peer host that is gone (powered off, no reply at all) never
 * sends RST: the sender only retransmits and eventually times out.
 *
 * Why: a RST is an answer.  RFC 9293 (section 3.10.7.1) has a TCP send
 * one when a segment arrives for a connection that does not exist; a host
 * that is off receives nothing and so answers nothing, and no router on
 * the path sends a RST on its behalf.  So the sender learns nothing:
 * its retransmission timer (data in flight) or its keepalive timer (an
 * idle connection) runs out, and the application gets ETIMEDOUT, not
 * ECONNRESET.
 *
 * The crash (sl_crash()): the server's own output is dropped (nftables,
 * output hook) before its process is killed, so not even the FIN its
 * kernel sends on the way out leaves it, and the router drops everything
 * to and from its address.  The server's namespace stands in for the
 * host, so its kernel lives on, silenced: the killed process's socket
 * stays in FIN-WAIT-1 there, retransmitting a FIN nobody ever sees.
 *
 * Variants: the client writes after the crash (TCP_USER_TIMEOUT 1000 ms
 * bounds the wait), or stays idle with keepalive 1 s / 1 s / 2 probes.
 * The schedule is the one keepalive-vs-retransmit measures: a tail loss
 * probe at R = 200 ms, RTO retransmissions at 2R, 4R, ..., and the user
 * timeout counted from the first RTO retransmission (2R + U).
 */
#include "socklab.h"
#include "../common.h"

EXPERIMENT(rst_peer_crashed) {
	.claim = "a crashed peer (no reply at all) never sends RST: the "
		 "sender only retransmits, then times out (ETIMEDOUT)",
	.expected = SL_CONFIRMED,
	.topic = SL_TOPIC_RST,
	.timeout_s = 10,
};

KNOBS(rst_peer_crashed) {
	int data;		/* bytes written after the crash; 0: idle */
	int user_timeout_ms;	/* TCP_USER_TIMEOUT; 0: not set */
	int idle_s, intvl_s, cnt;	/* keepalive; idle_s 0: off */
};

VARIANT(rst_peer_crashed, write_after_crash) {
	.data = 100, .user_timeout_ms = 1000,
};
VARIANT(rst_peer_crashed, keepalive_after_crash) {
	.idle_s = 1, .intvl_s = 1, .cnt = 2,
};

ROLE(rst_peer_crashed, server)
{
	accept_marked(self);	/* listen, accept, mark "accepted" */
}

ROLE(rst_peer_crashed, client)
{
	int fd = connect_accepted(self);	/* ESTABLISHED on both hosts */

	keepalive_timers(self, fd, variant->idle_s, variant->intvl_s,
			 variant->cnt);
	user_timeout(self, fd, variant->user_timeout_ms);
	/* R, for the predictions: the RTO the handshake left (common.h). */
	if (variant->data)
		rto_us(self, fd);

	sl_crash(self, "server");
	/* Keepalive on only now, as in keepalive-vs-retransmit: the first
	 * probe comes TCP_KEEPIDLE after the crash, however long it took. */
	if (variant->idle_s)
		keepalive_on(self, fd);
	/* Writes the data (if any), then blocks in read() until the
	 * connection is given up, or a RST would end it. */
	write_then_read_end(self, fd, variant->data);
}

/* Tolerances as in keepalive-vs-retransmit: the timer wheel; R itself is
 * the kernel's figure, read by the role before the crash. */
#define RTO_TOL SL_TOL(10, 20)
#define KEEPALIVE_TOL SL_TOL(5, 20)

PREDICT(rst_peer_crashed)
{
	long rto;

	/* Not a segment from the server after the crash: no RST, no FIN.
	 * (The crash's own definition; what follows is what it does to the
	 * client.) */
	expect_no_packet(p, .from = "server", .after = "crash server");
	/* The client hears nothing and gives up on its own: ETIMEDOUT, not
	 * ECONNRESET. */
	expect_errno(p, "client", "read", ETIMEDOUT);
	if (variant->data) {
		/* Only retransmissions, in R, the RTO the role read: the
		 * segment, the tail loss probe at R, RTO retransmissions at
		 * 2R and 4R; 8R would be past the end at 2R + U (U = 1000,
		 * so as long as R stays above 167 ms: its floor is 200). */
		if (sl_predict_ret(p, "client", "tcpi_rto", "us", &rto) == 0) {
			double r = rto / 1000.0;

			expect_packets_at_ms(p, SL_MS(0, r, 2 * r, 4 * r),
					     RTO_TOL, .from = "client",
					     .len = 100, .after = "sending");
			expect_call_ms(p, "client", "read", "sending",
				       2 * r + variant->user_timeout_ms,
				       RTO_TOL);
		}
		measure_gaps_ms(p, "retrans", .from = "client",
				.len = 100, .after = "sending");
		measure_call_ms(p, "etimedout_after_send", "client", "read",
				"sending");
	} else {
		double idle = variant->idle_s * 1000.0;
		double intvl = variant->intvl_s * 1000.0;

		/* Unanswered probes at idle and idle + intvl, then the end. */
		expect_packets_at_ms(p, SL_MS(idle, idle + intvl),
				     KEEPALIVE_TOL, .from = "client",
				     .len = 0, .not_flags = "R",
				     .after = "keepalive on");
		expect_call_ms(p, "client", "read", "keepalive on",
			       idle + variant->cnt * intvl, KEEPALIVE_TOL);
		measure_gaps_ms(p, "probes", .from = "client", .len = 0,
				.not_flags = "R", .after = "keepalive on");
		measure_call_ms(p, "etimedout_after_idle", "client", "read",
				"keepalive on");
	}
}
