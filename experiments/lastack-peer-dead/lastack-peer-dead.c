/*
 * lastack-peer-dead
 *
 * Claim: if the active closer's host is gone, the passive closer
 * retransmits its FIN with back-off until its retries run out, then drops
 * the connection.
 *
 * Why: after close() the passive closer's socket is an orphan in LAST-ACK
 * (no descriptor refers to it any more), with its FIN unacknowledged.  Its
 * retransmission timer resends the FIN, the RTO doubling each time
 * (tcp_retransmit_timer(), net/ipv4/tcp_timer.c), and tcp_write_timeout()
 * decides when to give up.  For an orphan the limit is not tcp_retries2
 * but net.ipv4.tcp_orphan_retries (tcp_orphan_retries(): 0, the default,
 * means 8), counted as a time budget like tcp_retries2: R x (2^(N+1) - 1)
 * from the first RTO retransmission, R = TCP_RTO_MIN = 200 ms
 * (tcp_model_timeout()).  Past it, tcp_write_err() closes the socket
 * without sending anything (nstat TcpExtTCPAbortOnTimeout): no RST, since
 * nobody is listening.
 *
 * The schedule, in ms after the FIN (the same as keepalive-vs-retransmit's
 * for data in flight), with R here the socket's own RTO (the handshake's
 * RTT plus TCP_RTO_MIN, in jiffies: 204 ms on a veth at HZ=250, a few ms
 * more on a slow machine), which the role reads from TCP_INFO before the
 * crash and the predictions count in: a tail loss probe at R (RFC 8985:
 * the FIN is the only segment in flight), then RTO retransmissions at 2R,
 * 4R, 8R ...; the budget starts at 2R.  Times below for R = 200 ms.  With N = 2 (1400 ms) the RTO at 8R (1200 ms into
 * it) still retransmits and the next, at 16R = 3200 ms, gives up; with
 * N = 1 (600 ms) the one at 4R (400 ms in) retransmits and the next, at
 * 8R = 1600 ms, gives up.  With the default 8 it would go on to 51.2 s
 * gaps and give up after about 102 s: the namespace keeps it small.
 *
 * How: the client closes first, and the server ACKs its FIN.  While the
 * client waits in FIN-WAIT-2 for the server's FIN, its host crashes
 * (sl_crash: silently, its traffic blackholed on the router), and only
 * then does the server close: its FIN and every retransmission of it go
 * into the void.  Crashing first, not after the FIN, leaves nothing to
 * race: however long the crash takes to set up on a busy machine, no FIN
 * can slip through to a live client.
 *
 * Variants: net.ipv4.tcp_orphan_retries on the server, 1 and 2.
 */
#include "socklab.h"
#include "../common.h"

EXPERIMENT(lastack_peer_dead) {
	.claim = "if the active closer's host is gone, the passive closer "
		 "retransmits its FIN with back-off until its retries run "
		 "out, then drops the connection",
	.expected = SL_CONFIRMED,
	.topic = SL_TOPIC_TEARDOWN,
	.belief = "the retries counted and timed",
	.timeout_s = 10,
};

KNOBS(lastack_peer_dead) {
	int orphan_retries;	/* net.ipv4.tcp_orphan_retries, server */
};

VARIANT(lastack_peer_dead, orphan_retries_1) { .orphan_retries = 1 };
VARIANT(lastack_peer_dead, orphan_retries_2) { .orphan_retries = 2 };

SETUP(lastack_peer_dead)
{
	sl_sysctl(s, "server", "net.ipv4.tcp_orphan_retries",
		  variant->orphan_retries == 1 ? "1" : "2");
}

ROLE(lastack_peer_dead, server)
{
	struct sl_tuple t;
	/* The client closes first: we are in CLOSE-WAIT. */
	int fd = accept_peer_closed(self, &t);

	/* It waits for our FIN in FIN-WAIT-2; its host goes down for good
	 * before our FIN leaves. */
	sl_wait_mark(self, "client", "in FIN-WAIT-2");
	/* R, for the predictions: the RTO the handshake left (common.h). */
	rto_us(self, fd);
	sl_crash(self, "client");
	sl_mark(self, "closing");
	sl_try(self, close(fd));
	/* The orphan in LAST-ACK retransmits until it gives up. */
	sl_wait_tuple(self, &t, SL_GONE);
}

ROLE(lastack_peer_dead, client)
{
	int fd = sl_connect(self, "server", SL_PORT);
	struct sl_tuple t = sl_tuple(self, fd);

	sl_mark(self, "closing");
	sl_try(self, close(fd));
	/* The server has ACKed our FIN. */
	sl_wait_tuple(self, &t, TCP_FIN_WAIT2);
	sl_mark(self, "in FIN-WAIT-2");
}

/* R, the RTO, is the kernel's figure for the socket, read by the role
 * before the crash; the timer wheel fires a timer of 256 ms or more up to
 * 32 ms late: 10 % covers it (keepalive-vs-retransmit). */
#define RTO_TOL SL_TOL(10, 20)

PREDICT(lastack_peer_dead)
{
	long rto;

	/* The FIN and its retransmissions in R, and the give-up at 8R
	 * (orphan_retries 1) or 16R (2), from close() to the give-up by
	 * the kernel's own clock (its CLOSE_WAIT -> LAST_ACK and LAST_ACK
	 * -> CLOSE), within the same 10 %. */
	if (sl_predict_ret(p, "server", "tcpi_rto", "us", &rto) == 0) {
		double r = rto / 1000.0;

		if (variant->orphan_retries == 1) {
			expect_packets_at_ms(p, SL_MS(0, r, 2 * r, 4 * r),
					     RTO_TOL, .from = "server",
					     .flags = "F",
					     .after = "server:closing");
			expect_state_lasts(p, .host = "server",
					   .state = "LAST-ACK",
					   .min_ms = (int)(8 * r * 0.9),
					   .max_ms = (int)(8 * r * 1.1 + 0.5));
		} else {
			expect_packets_at_ms(p, SL_MS(0, r, 2 * r, 4 * r,
						      8 * r),
					     RTO_TOL, .from = "server",
					     .flags = "F",
					     .after = "server:closing");
			expect_state_lasts(p, .host = "server",
					   .state = "LAST-ACK",
					   .min_ms = (int)(16 * r * 0.9),
					   .max_ms = (int)(16 * r * 1.1 + 0.5));
		}
	}
	/* It drops the connection silently: no RST to nobody. */
	expect_no_packet(p, .from = "server", .flags = "R");
	expect_state_change(p, .host = "server", .old_state = "LAST_ACK",
			    .state = "CLOSE", .after = "server:closing");
	expect_counter(p, "server", "TcpExtTCPAbortOnTimeout", .min = 1,
		       .max = 1);
	measure_gaps_ms(p, "fin", .from = "server", .flags = "F",
			.after = "server:closing");
}
