/*
 * ack-every-second
 *
 * Claim: two full-sized segments arriving close together get one ACK.
 *
 * Why: RFC 1122 section 4.2.3.2 (and RFC 9293 section 3.8.6.3): with
 * delayed ACKs, "an ACK SHOULD be generated for at least every second
 * full-sized segment".  Linux does it in two places, net/ipv4/tcp_input.c
 * __tcp_ack_snd_check() when the second segment arrives, and
 * net/ipv4/tcp.c __tcp_cleanup_rbuf() when the application reads it: in
 * both, more than one full segment (rcv_mss) not yet acknowledged means
 * an ACK now.  On arrival one more condition applies: the window it would
 * advertise must not be smaller than the last one (__tcp_select_window()
 * >= rcv_wnd); otherwise the read that frees the space sends the ACK
 * ("tcp_recvmsg() will send ACK otherwise", says the kernel).  Neither
 * place applies in quick-ACK mode, where every segment is acknowledged at
 * once (ack-delayed): the connection's first 16 segments
 * (TCP_MAX_QUICKACKS), and one more each time a segment lets the receiver
 * open its window further (tcp_grow_window()).
 *
 * How: the client sends lone full-sized segments first, each once the one
 * before is acknowledged, to use up the quick-ACKs: 16 of them, and one
 * per segment that opens the window (six here: 64 KB grows to 80 KB), so
 * 32 leave none.  That count holds only while the server's receive buffer
 * stays as it is: with autotuning (net.ipv4.tcp_moderate_rcvbuf, on by
 * default) a reading server may grow it, and the window with it, at any
 * read, and each step is one more quick-ACK.  SETUP turns autotuning off
 * in the server's namespace; the buffer keeps its default size
 * (tcp_rmem[1], 128 KB).  Then the client writes two MSS in one write()
 * ("sending two"): with offloads off on the veths (lib/offloads.c) they
 * leave as two segments, microseconds apart, the second with PSH; Nagle
 * holds neither (both are full-sized).  It waits for the ACK that covers
 * both.
 *
 * Variants: at the connection's start (no lone segments: quick-ACK mode,
 * one ACK each, declared not to hold); after them, with the server
 * reading as data arrives (one ACK, at once), and with a server that has
 * stopped reading (one ACK, from the delayed-ACK timer: its window shrinks
 * with each unread segment, so the arrival sends nothing and no read
 * comes).
 */
#include <stdio.h>

#include "socklab.h"
#include "../common.h"

/* TCP_MAX_QUICKACKS (include/net/tcp.h), and lone segments to use them
 * up with the window's growth on top (above). */
#define MAX_QUICKACKS 16
#define LONE (2 * MAX_QUICKACKS)
/* TCP_DELACK_MIN = HZ/25: the delayed ACK here (ack-delayed). */
#define DELACK_MIN_MS 40
/* One jiffy at the coarsest HZ (100): the timer fires within a jiffy of
 * 40 ms (ack-delayed). */
#define JIFFY_MAX_MS 10
/* An ACK sent at once leaves in the softirq that took the segment, or in
 * the read() that consumed it: sooner than half the shortest delayed ACK,
 * which no timer can be. */
#define AT_ONCE_MS (DELACK_MIN_MS / 2)

EXPERIMENT(ack_every_second) {
	.claim = "two full-sized segments arriving close together get one ACK",
	.expected = SL_NUANCED,
	.topic = SL_TOPIC_ACKS,
	.belief = "once the 16 quick-ACKs are spent: one ACK, at once while "
		  "the reader keeps up, from the 40 ms timer once it has "
		  "stopped reading; a connection's first segments get one "
		  "ACK each",
	.timeout_s = 10,
};

KNOBS(ack_every_second) {
	int lone;		/* full-sized segments sent one at a time first */
	bool reads;		/* the server reads as data arrives */
	double ack_ms;		/* when the ACK comes, by tcp_input.c */
	int acks;		/* how many, by tcp_input.c */
};

VARIANT(ack_every_second, connection_start, .holds = false) {
	.lone = 0, .reads = true, .ack_ms = 0, .acks = 2,
};
VARIANT(ack_every_second, reader_keeps_up) {
	.lone = LONE, .reads = true, .ack_ms = 0, .acks = 1,
};
VARIANT(ack_every_second, reader_stopped) {
	.lone = LONE, .reads = false, .ack_ms = DELACK_MIN_MS, .acks = 1,
};

/* The client's tail loss probe is turned off (tcp_early_retrans 0: no
 * TLP): with two segments in flight it fires 2 SRTT and two jiffies after
 * the last one (tcp_schedule_loss_probe()), and when the connection's
 * round trips have been short, that is before a delayed ACK's 40 ms.  The
 * server then answers the probe at once, and the ACK that would have
 * shown its timer never comes.  On this machine the lone segments' own
 * delayed ACKs make the SRTT about 40 ms and the probe wait 80; in a QEMU
 * guest on Linux 6.1 the quick-ACKs lasted longer, the SRTT stayed short,
 * and the probe came at 32 ms.  The claim is the receiver's; the sender's
 * probe is not part of it. */
SETUP(ack_every_second)
{
	sl_sysctl(s, "server", "net.ipv4.tcp_moderate_rcvbuf", "0");
	sl_sysctl(s, "client", "net.ipv4.tcp_early_retrans", "0");
}

ROLE(ack_every_second, server)
{
	int lfd = sl_listen(self, SL_PORT);
	int fd = sl_call(self, accept(lfd, NULL, NULL));

	sl_mark(self, "accepted");
	if (variant->reads) {
		/* Everything, as it comes, until the client's FIN. */
		sl_try(self, "read until EOF", read_all(fd));
	} else {
		/* Reads nothing: close first once the client has its ACK
		 * (a RST, with the data unread). */
		sl_wait_mark(self, "client", "done");
	}
	sl_call(self, close(fd));
}

/* Waits until the server has acknowledged everything up to and with
 * data. */
static void wait_acked(struct sl_role *self, const struct sl_segment *data)
{
	struct sl_segment ack = *data;

	do
		ack = sl_wait_segment(self, .from = "server",
				      .after_segment = &ack);
	while ((int32_t)(ack.ack - sl_segment_next(data)) < 0);
}

ROLE(ack_every_second, client)
{
	static char buf[2 * 65536];
	int fd = sl_connect(self, "server", SL_PORT);
	struct sl_segment first, second;
	socklen_t len = sizeof(int);
	char mark[32];
	int mss;

	/* The segment size the kernel sends (the MSS less options). */
	sl_call(self, getsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &mss, &len));
	SL_REQUIRE(self, mss > 0 && 2 * mss <= (int)sizeof(buf), "an MSS");
	sl_wait_mark(self, "server", "accepted");
	for (int k = 1; k <= variant->lone; k++) {
		snprintf(mark, sizeof(mark), "sending %d", k);
		sl_mark(self, mark);
		sl_call(self, write(fd, buf, mss));
		first = sl_wait_segment(self, .from = "client", .after = mark);
		wait_acked(self, &first);
	}
	sl_mark(self, "sending two");
	sl_call(self, write(fd, buf, 2 * mss));
	first = sl_wait_segment(self, .from = "client", .after = "sending two");
	second = sl_wait_segment(self, .from = "client",
				 .after_segment = &first);
	SL_REQUIRE(self, first.len == (uint32_t)mss && second.len == first.len,
		   "two full-sized segments");
	wait_acked(self, &second);
	sl_mark(self, "acked");
	sl_mark(self, "done");
	/* The reading server reads until our FIN; the other closes first. */
	if (variant->reads)
		sl_call(self, shutdown(fd, SHUT_WR));
}

PREDICT(ack_every_second)
{
	/* The claim: one ACK from the server for the two. */
	expect_packets(p, 1, .from = "server", .flags = ".", .len = 0,
		       .after = "sending two", .before = "acked");

	/* What tcp_input.c says: how many, and when each of the two was
	 * acknowledged (timed from the segment). */
	expect_packets(p, variant->acks, .from = "server", .flags = ".",
		       .len = 0, .after = "sending two", .before = "acked");
	expect_acked_at_ms(p, SL_MS(variant->ack_ms, variant->ack_ms),
			   SL_TOL(0, variant->ack_ms ? JIFFY_MAX_MS :
						       AT_ONCE_MS),
			   .from = "client", .after = "sending two",
			   .before = "acked");
	measure_acked_ms(p, "ack_ms", .from = "client", .after = "sending two",
			 .before = "acked");
}
