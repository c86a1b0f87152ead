/*
 * lastack-lost-ack-timewait
 *
 * Claim: when the final ACK is lost, the passive closer retransmits its
 * FIN; the active closer, still in TIME_WAIT, ACKs it again and restarts
 * its TIME_WAIT timer.
 *
 * Why: the passive closer's socket sits in LAST-ACK with its FIN
 * unacknowledged, so its retransmission timer sends the FIN again, after
 * an RTO of at least TCP_RTO_MIN (200 ms).  At the active closer the
 * retransmitted FIN meets the TIME-WAIT mini-socket, and
 * tcp_timewait_state_process() in net/ipv4/tcp_minisocks.c takes it as
 * what it is, a segment that is not new (its sequence number is rcv_nxt - 1):
 * "In this case we must reset the TIMEWAIT timer", it calls
 * inet_twsk_reschedule(tw, TCP_TIMEWAIT_LEN) and answers with an ACK
 * (TCP_TW_ACK).  RFC 9293 section 3.10.7.4 asks the same: "acknowledge it,
 * and restart the 2 MSL timeout".
 *
 * How: the client closes first, so it is the active closer.  Once it is in
 * FIN-WAIT-2 the router is told to drop the client's next pure ACK, and
 * the server closes: its FIN puts the client into TIME-WAIT, and the ACK
 * the client sends for it is the one the router drops.  The client reads
 * its TIME-WAIT timer once before the retransmitted FIN and once after
 * its second ACK: the 60 s start again from the retransmitted FIN.
 *
 * Variants: one; the drop happens once.
 */
#include "socklab.h"
#include "../common.h"

/* TCP_TIMEWAIT_LEN (include/net/tcp.h). */
#define TW_MS 60000
/* The timer is read in jiffies by a dump that takes a fraction of a
 * millisecond (timewait-duration uses the same margin). */
#define TIMER_TOL_MS 50

EXPERIMENT(lastack_lost_ack_timewait) {
	.claim = "when the final ACK is lost, the passive closer retransmits "
		 "its FIN; the active closer in TIME_WAIT ACKs it again and "
		 "restarts its TIME_WAIT timer",
	.expected = SL_CONFIRMED,
	.topic = SL_TOPIC_TEARDOWN,
	.belief = "the TIME-WAIT timer jumps back to its full length on the "
		  "retransmitted FIN",
	.timeout_s = 10,
};

KNOBS(lastack_lost_ack_timewait) {
	int lost_acks;		/* the client's pure ACKs the router drops */
};

VARIANT(lastack_lost_ack_timewait, last_ack_lost_once) { .lost_acks = 1 };

ROLE(lastack_lost_ack_timewait, server)
{
	struct sl_tuple t;
	/* The client closes first: we are in CLOSE-WAIT. */
	int fd = accept_peer_closed(self, &t);

	/* Not before the router is set to lose the client's answer. */
	sl_wait_mark(self, "client", "ACK will be lost");
	sl_mark(self, "closing");
	sl_try(self, close(fd));
	/* LAST-ACK, retransmitting the FIN until an ACK of it gets through. */
	sl_wait_tuple(self, &t, SL_GONE);
}

ROLE(lastack_lost_ack_timewait, client)
{
	int fd = sl_connect(self, "server", SL_PORT);
	struct sl_tuple t = sl_tuple(self, fd);
	struct sl_segment fin, again;

	sl_mark(self, "closing");
	sl_try(self, close(fd));
	/* The server has ACKed our FIN: from here on, the next pure ACK we
	 * send is the one for its FIN, the last of the connection. */
	sl_wait_tuple(self, &t, TCP_FIN_WAIT2);
	sl_fault(self, .kind = "drop", .from = "client", .flags = ".",
		 .not_flags = "SFRP", .len = 0,
		 .count = variant->lost_acks);
	sl_mark(self, "ACK will be lost");

	/* The server's FIN: TIME-WAIT, and our ACK leaves for the router. */
	sl_wait_tuple(self, &t, TCP_TIME_WAIT);
	fin = sl_wait_segment(self, .from = "server", .flags = "F");
	sl_wait_segment(self, .from = "client", .flags = ".",
			.not_flags = "SFRP", .after_segment = &fin);
	/* The timer running down before the retransmission: once it is
	 * 100 ms into its 60 s, ss shows timer:(timewait,59sec,0).  The FIN
	 * comes again one RTO (at least 200 ms) after the first. */
	sl_wait_timewait_ms(self, &t, 100);

	/* The server's FIN again, and our ACK of it. */
	again = sl_wait_segment(self, .from = "server", .flags = "F",
				.after_segment = &fin);
	sl_wait_segment(self, .from = "client", .flags = ".",
			.not_flags = "SFRP", .after_segment = &again);
	sl_mark(self, "ACKed again");
	/* The timer now: back at 60 s (ss: 1min), counted from that FIN. */
	sl_record_tuple(self, &t);
	sl_mark(self, "done");
}

/* The FIN's retransmission: an RTO of TCP_RTO_MIN plus the RTT in whole
 * jiffies (204 ms at HZ=250), maybe late by the timer wheel; 10 % covers
 * it (keepalive-vs-retransmit explains the numbers). */
#define RTO_TOL SL_TOL(10, 20)

PREDICT(lastack_lost_ack_timewait)
{
	/* The passive closer sends its FIN twice: once, and once more when
	 * its ACK does not come, one RTO later. */
	expect_packets_at_ms(p, SL_MS(0, 200), RTO_TOL, .from = "server",
			     .flags = "F", .after = "server:closing");
	/* The active closer ACKs both (its capture sees the first leave;
	 * the router drops it), and never resets. */
	expect_packets(p, 2, .from = "client", .flags = ".",
		       .not_flags = "SFRP", .len = 0,
		       .after = "server:closing");
	expect_no_packet(p, .from = "client", .flags = "R");
	/* It was in TIME-WAIT when the FIN came again: the state is kept
	 * to the end, and its timer runs 60 s from the first FIN ... */
	expect_state_kept(p, .host = "client", .state = "TIME-WAIT",
			  .after = "ACKed again");
	expect_state_timer(p, .host = "client", .state = "TIME-WAIT",
			   .min_ms = TW_MS - TIMER_TOL_MS,
			   .max_ms = TW_MS + TIMER_TOL_MS);
	/* ... and, read again after the second ACK, 60 s from the
	 * retransmitted FIN: it started again.  Had it run on, this would
	 * read 60 s less the RTO (about 59.8 s), outside the tolerance. */
	expect_state_timer(p, .host = "client", .state = "TIME-WAIT",
			   .after = "ACKed again",
			   .min_ms = TW_MS - TIMER_TOL_MS,
			   .max_ms = TW_MS + TIMER_TOL_MS);
	/* The passive closer is done when that second ACK arrives. */
	expect_gone(p, .host = "server", .state = "LAST-ACK",
		    .after = "server:closing", .within_ms = 1000);
	expect_state_change(p, .host = "server", .old_state = "LAST_ACK",
			    .state = "CLOSE", .after = "server:closing");
	expect_retransmits(p, .host = "server", .min = 1, .max = 1);
	measure_gaps_ms(p, "fin", .from = "server", .flags = "F",
			.after = "server:closing");
}
