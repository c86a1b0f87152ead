/*
 * retries-thresholds
 *
 * Claim: repeated retransmission of one segment passes threshold R1
 * (net.ipv4.tcp_retries1: advice to the IP layer) and then R2
 * (net.ipv4.tcp_retries2: the connection is dropped).
 *
 * Why: RFC 1122 (section 4.2.3.5) asks for two thresholds on the
 * retransmissions of one segment, "measured in time units or as a count":
 * past R1 the TCP tells the IP layer (which may look for another route),
 * past R2 it closes the connection.  Linux counts in time:
 * tcp_write_timeout() (net/ipv4/tcp_timer.c) turns each count N into the
 * time N doubling retransmissions from an RTO of 200 ms would take,
 * 200 x (2^(N+1) - 1) ms (tcp_model_timeout()), from the first RTO
 * retransmission on.  Past R1 it calls __dst_negative_advice(), which drops
 * the socket's cached route only if that route came from a redirect or
 * carries a learned path MTU (ipv4_negative_advice()) -- nothing, on a
 * plain route like ours -- and, when net.ipv4.tcp_mtu_probing is 1, starts
 * path-MTU black-hole detection (tcp_mtu_probing()): the MSS drops to
 * net.ipv4.tcp_base_mss (1024), so the next retransmission carries a
 * shorter segment.  Past R2 it gives up: ETIMEDOUT (tcp_write_err()).
 *
 * With R1 = 1 and R2 = 2 in the client's namespace (R the socket's RTO,
 * the handshake's RTT plus 200 ms in jiffies, which the role reads from
 * TCP_INFO before the cable is pulled and the predictions count in; the
 * budgets stay counted from 200 ms; times after the segment was sent,
 * for R = 200):
 *   R	the tail loss probe (RFC 8985), not counted: see keepalive-vs-
 *	retransmit;
 *   2R	the first RTO retransmission: the thresholds' clock starts;
 *   4R	400 ms in: below R1's 600 ms, below R2's 1400 ms;
 *   8R	1200 ms in: R1 passed (advice), R2 not yet: a third retransmission;
 *   16R 2800 ms in: R2 passed, the connection is dropped.
 * So R1 = 1 is passed after 2 RTO retransmissions and R2 = 2 after 3: each
 * one more than its number, since the clock starts at the first
 * retransmission while the budget counts from the send.
 *
 * Variants: net.ipv4.tcp_mtu_probing 0 (the default: R1 leaves no trace on
 * the wire) and 1 (the segment shrinks to 1024 bytes after R1).  The
 * client writes one full-sized segment once the cable is pulled: 1448
 * bytes over IPv4 (MSS 1460 less the timestamps option), 1428 over IPv6,
 * whose header is 20 bytes longer.
 */
#include "socklab.h"
#include "../common.h"

EXPERIMENT(retries_thresholds) {
	.claim = "retransmissions of one segment pass R1 (tcp_retries1: "
		 "advice to the IP layer), then R2 (tcp_retries2: the "
		 "connection is dropped)",
	.expected = SL_CONFIRMED,
	.topic = SL_TOPIC_KEEPALIVE,
	.belief = "the retransmissions counted",
	.timeout_s = 10,
};

KNOBS(retries_thresholds) {
	const char *mtu_probing;	/* net.ipv4.tcp_mtu_probing */
};

VARIANT(retries_thresholds, mtu_probing_0) { .mtu_probing = "0" };
VARIANT(retries_thresholds, mtu_probing_1) { .mtu_probing = "1" };

/* One full-sized segment of the family: the link's MTU of 1500 less the
 * IP header (20 or 40 bytes), the TCP header (20) and the timestamps
 * option (12).  Written larger, it would leave as two segments. */
static int segment(int family)
{
	return family == AF_INET6 ? 1428 : 1448;
}

SETUP(retries_thresholds)
{
	sl_sysctl(s, "client", "net.ipv4.tcp_retries1", "1");
	sl_sysctl(s, "client", "net.ipv4.tcp_retries2", "2");
	sl_sysctl(s, "client", "net.ipv4.tcp_mtu_probing",
		  variant->mtu_probing);
}

ROLE(retries_thresholds, server)
{
	accept_marked(self);	/* listen, accept, mark "accepted" */
}

ROLE(retries_thresholds, client)
{
	static char buf[1448];
	int fd = connect_accepted(self);	/* ESTABLISHED on both hosts */

	/* R, for the predictions: the RTO the handshake left (common.h). */
	rto_us(self, fd);
	sl_fault(self, .kind = "blackhole");	/* the cable is pulled */
	sl_mark(self, "sending");
	sl_try(self, write(fd, buf, segment(sl_family(self))));
	/* Blocks until the connection is dropped. */
	sl_try(self, read(fd, buf, sizeof(buf)));
	sl_mark(self, "done");
}

/* Tolerances as in keepalive-vs-retransmit: the timer wheel; R itself is
 * the kernel's figure, read by the role before the cable was pulled. */
#define RTO_TOL SL_TOL(10, 20)

PREDICT(retries_thresholds)
{
	int full = segment(sl_predict_family(p));
	double r = 0;
	long rto;

	/* Every transmission of the segment, in R, the RTO the role read:
	 * the original, the probe, and three RTO retransmissions; 16R is
	 * the end. */
	if (sl_predict_ret(p, "client", "tcpi_rto", "us", &rto) == 0) {
		r = rto / 1000.0;
		expect_packets_at_ms(p, SL_MS(0, r, 2 * r, 4 * r, 8 * r),
				     RTO_TOL, .from = "client",
				     .not_flags = "R", .after = "sending");
	}
	if (variant->mtu_probing[0] == '0') {
		/* R1's advice changes nothing on the wire: five times the
		 * same full segment. */
		expect_packets(p, 5, .from = "client", .len = full,
			       .after = "sending");
	} else {
		/* Full size until R1 is passed (the original, the probe, two
		 * RTO retransmissions), then cut to tcp_base_mss. */
		expect_packets(p, 4, .from = "client", .len = full,
			       .after = "sending");
		if (r > 0)
			expect_packets_at_ms(p, SL_MS(8 * r), RTO_TOL,
					     .from = "client", .len = 1024,
					     .after = "sending");
	}
	/* R2: dropped at 16R, with ETIMEDOUT. */
	expect_errno(p, "client", "read", ETIMEDOUT);
	if (r > 0)
		expect_call_ms(p, "client", "read", "sending", 16 * r, RTO_TOL);
	measure_gaps_ms(p, "retrans", .from = "client", .not_flags = "R",
			.after = "sending");
	measure_call_ms(p, "dropped_after_send", "client", "read", "sending");
}
