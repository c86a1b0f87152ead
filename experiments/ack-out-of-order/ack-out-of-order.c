/*
 * ack-out-of-order
 *
 * Claim: an out-of-order segment is answered at once by a duplicate ACK for
 * the expected sequence number (with SACK blocks).
 *
 * Why: a segment that starts past rcv_nxt goes to the out-of-order queue
 * (tcp_data_queue_ofo(), net/ipv4/tcp_input.c), which records it as a
 * SACK block (tcp_sack_new_ofo_skb()).  __tcp_ack_snd_check() then sends
 * the ACK at once, whatever the delayed-ACK state: the out-of-order queue
 * is not empty, and the first TCP_FASTRETRANS_THRESH (3) duplicate ACKs
 * for one rcv_nxt always go out ("dup_ack_counter"); only after them does
 * Linux compress further SACKs (net.ipv4.tcp_comp_sack_*).  RFC 5681
 * section 4.2 asks for exactly this ("an immediate duplicate ACK"), and
 * RFC 2018 for the SACK block, first the block of the segment that just
 * arrived.  The ACK number stays rcv_nxt: the first byte of the hole.
 * When the hole is filled, the ACK goes at once too (ICSK_ACK_NOW).
 *
 * How: the client clamps its MSS (TCP_MAXSEG 112: segments of 100 bytes,
 * with the 12 bytes of the timestamps option), so that one write() leaves
 * as several segments, back to back, all inside that one call.  The
 * router drops the first of them, once (a one-shot drop on the link
 * emulator, counted exactly); the others reach the server after a hole.
 * A dropped segment is as good as a reordered one to the receiver, and
 * unlike a random reorder it happens every run, to the segment we choose.
 * The client's retransmission then fills the hole.  One segment goes in
 * order first, and its ACK: a duplicate ACK repeats the ACK number and
 * the window of the receiver's previous segment (RFC 5681), and without
 * it that would be the SYN-ACK, whose window field is not scaled.
 *
 * Variants: one segment after the hole; three (three duplicate ACKs, the
 * SACK block growing, and the client's fast retransmit); and one after
 * the hole with the server in delayed-ACK mode (TCP_QUICKACK 0), where a
 * segment in order waits for the delayed-ACK timer: the ACKs of the
 * segments in order before and after the hole are measured, for
 * contrast.
 */
#include <string.h>

#include "socklab.h"
#include "../common.h"

/* TCP_MAXSEG: 112 - 12 bytes of timestamps = 100 bytes per segment. */
#define MAXSEG 112
#define SEG 100

EXPERIMENT(ack_out_of_order) {
	.claim = "an out-of-order segment is answered at once by a duplicate "
		 "ACK for the expected sequence number (with SACK blocks)",
	.expected = SL_CONFIRMED,
	.topic = SL_TOPIC_ACKS,
	.belief = "at once, even in delayed-ACK mode; with tcp_sack=0 still "
		  "at once, without a SACK block; a lost last segment draws "
		  "no duplicate ACK (a tail loss probe repairs it)",
	.timeout_s = 10,
};

KNOBS(ack_out_of_order) {
	int after_hole;		/* segments sent after the lost one */
	bool delayed_acks;	/* TCP_QUICKACK 0 on the server */
};

VARIANT(ack_out_of_order, one_after_hole) { .after_hole = 1 };
VARIANT(ack_out_of_order, three_after_hole) { .after_hole = 3 };
VARIANT(ack_out_of_order, one_after_hole_delayed_acks) {
	.after_hole = 1, .delayed_acks = true,
};

SETUP(ack_out_of_order)
{
	/* The client's tail loss probe (RFC 8985) re-sends its last segment
	 * two round trips after it, a few ms on this path; on a slow
	 * machine the duplicate ACK can take longer than that through the
	 * router, and the probe then fills the server's queue in another
	 * order than the claim is about.  The claim is the receiver's, so
	 * the sender's probe is turned off (0: no early retransmit, no
	 * loss probe); fast retransmit after three duplicate ACKs stays. */
	sl_sysctl(s, "client", "net.ipv4.tcp_early_retrans", "0");
}

ROLE(ack_out_of_order, server)
{
	int lfd = sl_listen(self, SL_PORT);
	int fd = sl_call(self, accept(lfd, NULL, NULL));
	int off = 0;
	struct sl_segment first;

	/* Delayed-ACK ("pingpong") mode: an in-order segment now waits for
	 * the delayed-ACK timer, instead of being acknowledged at once as
	 * at the start of a connection. */
	if (variant->delayed_acks)
		sl_call(self, setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &off,
					 sizeof(off)));
	sl_mark(self, "accepted");
	if (variant->delayed_acks) {
		/* TCP_QUICKACK is not permanent: when the delayed-ACK timer
		 * fires, the kernel leaves pingpong mode
		 * (tcp_delack_timer_handler()).  Once the ACK of the first
		 * segment has left, set it again for the rest. */
		first = sl_wait_segment(self, .from = "client",
					.after = "client:sending in order");
		sl_wait_segment(self, .from = "server",
				.after_segment = &first);
		sl_call(self, setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &off,
					 sizeof(off)));
		sl_mark(self, "delayed acks again");
	}
	/* Reads only once the client is done: a read() may send an ACK of
	 * its own (a window update, tcp_cleanup_rbuf()), and every ACK in
	 * the exchange should be the kernel's answer to a segment. */
	sl_wait_mark(self, "client", "closing");
	sl_try(self, "read until EOF", read_all(fd));
}

ROLE(ack_out_of_order, client)
{
	struct sockaddr_storage sa = sl_addr(self, "server", SL_PORT);
	int fd = sl_call(self, socket(sl_family(self), SOCK_STREAM, 0));
	int mss = MAXSEG, n = SEG * (1 + variant->after_hole);
	char buf[SEG * 4];
	struct sl_segment seg, lost, answer, acked;

	SL_REQUIRE(self, n <= (int)sizeof(buf), "at most 3 after the hole");
	memset(buf, 'x', sizeof(buf));
	/* The MSS is set before connect(): it is what the SYN offers. */
	sl_call(self, setsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &mss,
				 sizeof(mss)));
	sl_wait_mark(self, "server", "listening");
	sl_call(self, connect(fd, (struct sockaddr *)&sa, sizeof(sa)));
	sl_mark(self, "connected");
	sl_wait_mark(self, "server", "accepted");

	/* One segment in order first, and its ACK: the server's last
	 * segment before the hole is then an ACK of data, with the window
	 * it keeps advertising (the SYN-ACK's window field is not scaled,
	 * so a duplicate ACK cannot repeat it). */
	sl_mark(self, "sending in order");
	sl_try(self, "write in order", write(fd, buf, SEG));
	seg = sl_wait_segment(self, .from = "client",
			      .after = "sending in order");
	sl_wait_segment(self, .from = "server", .after_segment = &seg);
	if (variant->delayed_acks)
		sl_wait_mark(self, "server", "delayed acks again");

	/* The next data segment from the client is dropped, once. */
	sl_fault(self, .kind = "drop", .from = "client", .len = SEG,
		 .count = 1);
	sl_mark(self, "sending");
	sl_try(self, write(fd, buf, n));

	/* The first segment is the one the router dropped; the server's
	 * first answer after it is its ACK of what came after the hole. */
	lost = sl_wait_segment(self, .from = "client", .after = "sending");
	answer = sl_wait_segment(self, .from = "server",
				 .after_segment = &lost);
	sl_try(self, "first answer: ack - lost seq",
	       (int32_t)(answer.ack - lost.seq));

	/* The retransmission: the client's next segment with the lost
	 * one's sequence number.  The server's answer to it acknowledges
	 * all n bytes from the lost one's first.  Its answer is the first
	 * ACK past the hole: the client may retransmit on the first
	 * duplicate ACK (RACK), while the server still answers the later
	 * out-of-order segments with duplicates that cross it on the wire,
	 * as a slow machine shows. */
	seg = lost;
	do
		seg = sl_wait_segment(self, .from = "client",
				      .after_segment = &seg);
	while (seg.seq != lost.seq);
	acked = seg;
	do
		acked = sl_wait_segment(self, .from = "server",
					.after_segment = &acked);
	while (acked.ack == lost.seq);
	sl_try(self, "after the retransmission: ack - lost seq",
	       (int32_t)(acked.ack - lost.seq));

	if (variant->delayed_acks) {
		/* And one more in order: still in delayed-ACK mode, its ACK
		 * waits again. */
		sl_mark(self, "sending in order again");
		sl_try(self, "write in order again", write(fd, buf, SEG));
		seg = sl_wait_segment(self, .from = "client",
				      .after = "sending in order again");
		sl_wait_segment(self, .from = "server", .after_segment = &seg);
	}
	sl_mark(self, "closing");
	sl_try(self, close(fd));
}

/* "At once": the ACK leaves in the softirq that received the segment,
 * microseconds after it, and .answer_ms times it from there (the server's
 * own capture of the segment coming in), not from the client's mark: a
 * slow machine can run the client late between its mark and its write,
 * which is no part of the server's answer.  The alternative, a delayed
 * ACK, waits at least TCP_DELACK_MIN = 40 ms (HZ/25).  Half of that is the
 * bound: an ACK inside it was not delayed, with room for a busy machine. */
#define AT_ONCE_MS 20

PREDICT(ack_out_of_order)
{
	int n = SEG * (1 + variant->after_hole);

	/* Each segment after the hole draws, at once, a duplicate ACK
	 * (the ACK number and window of the server's previous ACK) with
	 * one SACK block, and not a D-SACK ... */
	expect_packets(p, variant->after_hole, .from = "server", .dup_ack = 1,
		       .sack = 1, .dsack = 0, .after = "sending",
		       .answer_ms = AT_ONCE_MS);
	/* ... whose ACK number is the first byte of the hole. */
	expect_ret(p, "client", "first answer: ack - lost seq", 0);
	/* The kernel's count of segments queued out of order. */
	expect_counter(p, "server", "TcpExtTCPOFOQueue",
		       .min = variant->after_hole, .max = variant->after_hole);
	/* The retransmission fills the hole and everything is ACKed. */
	expect_ret(p, "client", "after the retransmission: ack - lost seq", n);
	expect_ret(p, "server", "read until EOF",
		   SEG + n + (variant->delayed_acks ? SEG : 0));

	measure_packet_ms(p, "dup_ack", .from = "server", .dup_ack = 1,
			  .after = "sending");
	measure_packet_ms(p, "in_order_ack", .from = "server",
			  .after = "sending in order");
	if (variant->delayed_acks)
		measure_packet_ms(p, "in_order_ack_again", .from = "server",
				  .after = "sending in order again");
	measure_gaps_ms(p, "dup_acks", .from = "server", .dup_ack = 1,
			.after = "sending");
}
