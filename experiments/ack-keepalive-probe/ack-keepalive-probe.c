/*
 * ack-keepalive-probe
 *
 * Claim: a live peer answers each keepalive probe with an ACK.
 *
 * Why: a keepalive probe (tcp_write_wakeup() -> tcp_xmit_probe_skb(),
 * net/ipv4/tcp_output.c) is a segment without data whose sequence number
 * is snd_una - 1: one byte the peer has already acknowledged.  To the
 * peer it lies wholly before its window, so tcp_validate_incoming()
 * (net/ipv4/tcp_input.c) finds it unacceptable and, as RFC 793 says of
 * every unacceptable segment, answers with an ACK of what it expects
 * next (tcp_send_dupack()), then drops the probe.  The application
 * never hears of it.  That ACK, back at the prober, resets the count of
 * unanswered probes (tcp_ack(): icsk_probes_out = 0) and the time of the
 * last segment received (rcv_tstamp), so TCP_KEEPCNT is never reached.
 *
 * The schedule that follows, in tcp_keepalive_timer() (tcp_timer.c): the
 * timer fires TCP_KEEPIDLE after keepalive goes on and sends the first
 * probe; it then re-arms for TCP_KEEPINTVL.  When it fires again it looks
 * at how long nothing was received: the answer came just after the
 * probe, so with an interval shorter than the idle time it re-arms for
 * the rest of the idle time and probes only then.  Answered probes come
 * every max(TCP_KEEPIDLE, TCP_KEEPINTVL); unanswered ones every
 * TCP_KEEPINTVL (keepalive-vs-retransmit), until TCP_KEEPCNT of them.
 *
 * Variants: TCP_KEEPIDLE 2 s with TCP_KEEPINTVL 1 s, and the other way
 * round, 1 s with 2 s; TCP_KEEPCNT 1 in both, so a peer that did not
 * answer would be given up one interval after the first probe.  The
 * client watches three probes and what follows each, then closes.
 */
#include <stdio.h>

#include "socklab.h"
#include "../common.h"

/* How many probes the client watches before it closes. */
#define PROBES 3

EXPERIMENT(ack_keepalive_probe) {
	.claim = "a live peer answers each keepalive probe with an ACK",
	.expected = SL_CONFIRMED,
	.topic = SL_TOPIC_ACKS,
	.belief = "answered probes come every max(TCP_KEEPIDLE, "
		  "TCP_KEEPINTVL); answers to out-of-window segments are "
		  "rate-limited by tcp_invalid_ratelimit",
	.timeout_s = 15,
};

KNOBS(ack_keepalive_probe) {
	/* TCP_KEEPIDLE, TCP_KEEPINTVL (s), TCP_KEEPCNT */
	int idle_s, intvl_s, cnt;
};

VARIANT(ack_keepalive_probe, idle_2s_intvl_1s_cnt_1) {
	.idle_s = 2, .intvl_s = 1, .cnt = 1,
};
VARIANT(ack_keepalive_probe, idle_1s_intvl_2s_cnt_1) {
	.idle_s = 1, .intvl_s = 2, .cnt = 1,
};

ROLE(ack_keepalive_probe, server)
{
	int fd = accept_marked(self);	/* listen, accept, "accepted" */
	char c;

	/* Blocked in read() all along: the probes are answered by the
	 * kernel, and read() returns only at the client's FIN. */
	sl_try(self, read(fd, &c, 1));
}

ROLE(ack_keepalive_probe, client)
{
	int fd = connect_accepted(self);	/* ESTABLISHED on both hosts */
	struct sl_tuple t = sl_tuple(self, fd);
	/* Nothing is sent after the handshake: what follows the SYN is
	 * snd_nxt, and snd_una too once the handshake is acknowledged. */
	struct sl_segment syn = sl_wait_segment(self, .from = "client",
						.flags = "S");
	uint32_t snd_nxt = sl_segment_next(&syn);
	struct sl_segment probe, next;
	char name[64];

	keepalive_timers(self, fd, variant->idle_s, variant->intvl_s,
			 variant->cnt);
	keepalive_on(self, fd);	/* mark "keepalive on", SO_KEEPALIVE */

	for (int k = 1; k <= PROBES; k++) {
		/* The client's next segment: a probe, or if the
		 * connection was given up, its RST. */
		if (k == 1)
			probe = sl_wait_segment(self, .from = "client",
						.after = "keepalive on");
		else
			probe = sl_wait_segment(self, .from = "client",
						.after_segment = &next);
		snprintf(name, sizeof(name), "probe %d: seq - snd_nxt", k);
		sl_try(self, name, (int32_t)(probe.seq - snd_nxt));
		snprintf(name, sizeof(name), "probe %d: bytes", k);
		sl_try(self, name, probe.len);
		if (probe.flags & (TH_SYN | TH_FIN | TH_RST))
			break;
		/* Whatever comes next, from either host: the server's
		 * answer, or if there is none the client's next probe or
		 * its RST when it gives up. */
		next = sl_wait_segment(self, .after_segment = &probe);
		snprintf(name, sizeof(name), "after probe %d: from the server",
			 k);
		/* From the server: the connection's far end, in either
		 * address family. */
		sl_try(self, name,
		       next.sport == sl_port(&t.peer) &&
			       next.dport == sl_port(&t.local));
		snprintf(name, sizeof(name), "after probe %d: ack - snd_nxt",
			 k);
		sl_try(self, name, (int32_t)(next.ack - snd_nxt));
		/* Unanswered: the watch ends, and the predictions say so. */
		if (next.sport != sl_port(&t.peer) ||
		    next.dport != sl_port(&t.local))
			break;
	}
	/* The keepalive timer and its count of unanswered probes, as ss
	 * shows them: timer:(keepalive,...,0). */
	sl_record_tuple(self, &t);
	sl_mark(self, "closing");
	sl_try(self, close(fd));
}

/* Tolerance: the keepalive timer runs on the kernel's timer wheel, which
 * fires a timer up to one granule of its level late, and a granule is at
 * most 1/8 of the shortest timeout that lands in that level (the table at
 * the top of kernel/time/timer.c), whatever HZ is: 32 ms for a 1 s timer
 * at HZ=250, 80 ms at HZ=100.  Each step to the next probe is one or two
 * such timers adding up to the step, so the k-th probe is at most 12.5 %
 * late; 20 ms covers a jiffy of rounding where that is smaller.  Even so
 * 4000 and 6000 ms stay apart from the 3000 and 4000 ms a dead peer would
 * give idle_2s_intvl_1s_cnt_1 (one probe every TCP_KEEPINTVL). */
#define KEEPALIVE_TOL SL_TOL(12.5, 20)

PREDICT(ack_keepalive_probe)
{
	/* Answered probes come every max(idle, intvl). */
	double idle = variant->idle_s * 1000.0;
	double every = (variant->intvl_s > variant->idle_s ?
				variant->intvl_s : variant->idle_s) * 1000.0;
	char name[64];

	/* The probes: no data, from the client ... */
	expect_packets_at_ms(p, SL_MS(idle, idle + every, idle + 2 * every),
			     KEEPALIVE_TOL, .from = "client", .len = 0,
			     .not_flags = "SFR", .after = "keepalive on",
			     .before = "closing");
	/* ... each answered by an ACK from the server at the same moment
	 * (the answer leaves within microseconds of the probe's arrival). */
	expect_packets_at_ms(p, SL_MS(idle, idle + every, idle + 2 * every),
			     KEEPALIVE_TOL, .from = "server", .len = 0,
			     .not_flags = "SFR", .after = "keepalive on",
			     .before = "closing");
	for (int k = 1; k <= PROBES; k++) {
		/* The probe: sequence number snd_nxt - 1, no data. */
		snprintf(name, sizeof(name), "probe %d: seq - snd_nxt", k);
		expect_ret(p, "client", name, -1);
		snprintf(name, sizeof(name), "probe %d: bytes", k);
		expect_ret(p, "client", name, 0);
		/* What follows it is the server's ACK of snd_nxt: it
		 * acknowledges what it had, not the probe's byte. */
		snprintf(name, sizeof(name), "after probe %d: from the server",
			 k);
		expect_ret(p, "client", name, 1);
		snprintf(name, sizeof(name), "after probe %d: ack - snd_nxt",
			 k);
		expect_ret(p, "client", name, 0);
	}
	/* The connection lives on: neither side leaves ESTABLISHED before
	 * the client closes, no RST, and the server's application saw
	 * nothing of the probes (its read() returns 0, at the FIN). */
	expect_no_state_change(p, .host = "client", .old_state = "ESTABLISHED",
			       .before = "closing");
	expect_no_state_change(p, .host = "server", .old_state = "ESTABLISHED",
			       .before = "closing");
	expect_no_packet(p, .flags = "R");
	expect_ret(p, "server", "read", 0);
	/* The server's kernel dropped each probe after answering it: its
	 * sequence number is old (tcp_sequence()). */
	expect_drop(p, .host = "server", .reason = "TCP_OLD_SEQUENCE",
		    .min = PROBES, .max = PROBES, .before = "closing");
	/* The kernel's count of probes sent: exactly PROBES. */
	expect_counter(p, "client", "TcpExtTCPKeepAlive", .min = PROBES,
		       .max = PROBES);

	measure_packet_ms(p, "first_probe", .from = "client", .len = 0,
			  .not_flags = "SFR", .after = "keepalive on");
	measure_gaps_ms(p, "probes", .from = "client", .len = 0,
			.not_flags = "SFR", .after = "keepalive on",
			.before = "closing");
}
