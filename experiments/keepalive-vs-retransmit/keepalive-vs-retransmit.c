/*
 * keepalive-vs-retransmit
 *
 * Claim: on a pulled cable (a silent path, both hosts up), with
 * unacknowledged data in flight the retransmission timer rules: keepalive
 * probes are never sent, and the connection dies after tcp_retries2 /
 * TCP_USER_TIMEOUT with ETIMEDOUT.  On an idle connection keepalive probes
 * detect it after idle + intvl x cnt, with ETIMEDOUT.
 *
 * Why: tcp_keepalive_timer() in net/ipv4/tcp_timer.c sends nothing while
 * data is in flight ("It is alive without keepalive 8)": packets_out or a
 * non-empty write queue only re-arms it).  The retransmission timer runs
 * instead, and tcp_write_timeout() decides when to give up.  An idle
 * connection has no retransmission timer: the keepalive timer sends a
 * probe (sequence number snd_una - 1, no data) once nothing was received
 * for TCP_KEEPIDLE, then every TCP_KEEPINTVL, and when TCP_KEEPCNT probes
 * went unanswered it gives up with ETIMEDOUT (tcp_write_err()), resetting
 * the connection as it goes.
 *
 * The schedule on a silent path, with R the socket's RTO (the handshake's
 * RTT plus TCP_RTO_MIN = 200 ms, rounded to jiffies: 204 ms on a veth at
 * HZ=250, a few ms more where the machine is slow to answer), in ms after
 * the data was sent:
 *   R	a tail loss probe (RFC 8985, tcp_send_loss_probe()): the segment
 *	again, after 2 x SRTT + TCP_RTO_MIN when it is the only one in
 *	flight; the RTO timer starts over from here;
 *   2R, 4R, 8R, ...  the RTO retransmissions, the RTO doubling each time.
 * Both limits count from the first RTO retransmission (retrans_stamp, "the
 * first (attempted) retransmit", tcp_retransmit_skb()), not from the send:
 *   TCP_USER_TIMEOUT U: ETIMEDOUT at 2R + U (the last timer is cut short
 *	to end exactly then);
 *   tcp_retries2 N: a budget of 200 x (2^(N+1) - 1) ms, the time N
 *	doubling retransmissions from TCP_RTO_MIN would take
 *	(tcp_model_timeout()); it gives up at the first RTO that ends past
 *	it (Documentation/networking/ip-sysctl.rst): at 2^(N+2) R, after
 *	N + 1 RTO retransmissions (for N = 2 as long as R stays under
 *	233 ms, so that 8R still falls within the budget).
 * The role reads R from the kernel before the cable is pulled (TCP_INFO's
 * tcpi_rto, recorded as "tcpi_rto") and the predictions count in it: a
 * verdict that assumed 200 ms would depend on how fast the machine
 * answered the handshake.
 *
 * Variants: data in flight with TCP_USER_TIMEOUT 2000 ms; data in flight
 * with no user timeout and net.ipv4.tcp_retries2 = 2 in the client's
 * namespace; an idle connection with keepalive 2 s / 1 s / 3 probes.
 * Keepalive is on in every variant, with a TCP_KEEPIDLE (1 s) shorter than
 * the time to give up, so a probe would be due if keepalive had its say.
 */
#include "socklab.h"
#include "../common.h"

EXPERIMENT(keepalive_vs_retransmit) {
	.claim = "on a pulled cable, data in flight is retransmitted (no "
		 "keepalive probe) until tcp_retries2 / TCP_USER_TIMEOUT; an "
		 "idle connection is detected by keepalive after idle + intvl "
		 "x cnt; both end with ETIMEDOUT",
	.expected = SL_CONFIRMED,
	.topic = SL_TOPIC_KEEPALIVE,
	.belief = "with the timings measured: RTO back-off to tcp_retries2 or "
		  "TCP_USER_TIMEOUT with data in flight, idle + intvl x cnt "
		  "when idle",
	.timeout_s = 15,
};

KNOBS(keepalive_vs_retransmit) {
	int data;		/* bytes written once the cable is pulled; 0: idle */
	int user_timeout_ms;	/* TCP_USER_TIMEOUT; 0: not set */
	const char *retries2;	/* net.ipv4.tcp_retries2 in the client; NULL: 15 */
	int idle_s, intvl_s, cnt;	/* TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT */
};

VARIANT(keepalive_vs_retransmit, data_user_timeout_2000ms) {
	.data = 100, .user_timeout_ms = 2000, .idle_s = 1, .intvl_s = 1,
	.cnt = 3,
};
VARIANT(keepalive_vs_retransmit, data_tcp_retries2_2) {
	.data = 100, .retries2 = "2", .idle_s = 1, .intvl_s = 1, .cnt = 3,
};
VARIANT(keepalive_vs_retransmit, idle_keepalive_2s_1s_3) {
	.idle_s = 2, .intvl_s = 1, .cnt = 3,
};

SETUP(keepalive_vs_retransmit)
{
	if (variant->retries2)
		sl_sysctl(s, "client", "net.ipv4.tcp_retries2", variant->retries2);
}

ROLE(keepalive_vs_retransmit, server)
{
	accept_marked(self);	/* listen, accept, mark "accepted" */
	/* Cut off from here on: it hears nothing more. */
}

ROLE(keepalive_vs_retransmit, client)
{
	int fd = connect_accepted(self);	/* ESTABLISHED on both hosts */

	keepalive_timers(self, fd, variant->idle_s, variant->intvl_s,
			 variant->cnt);
	user_timeout(self, fd, variant->user_timeout_ms);
	/* R, for the predictions: the RTO the handshake left (common.h). */
	rto_us(self, fd);

	sl_fault(self, .kind = "blackhole");	/* the cable is pulled */
	/* Keepalive on only now, after the cable is pulled: the first probe
	 * goes into the blackhole however long the harness took to pull it
	 * (tens of milliseconds, or seconds on a busy machine). */
	keepalive_on(self, fd);
	/* Writes the data (if any), then blocks in read() until the
	 * connection is declared dead. */
	write_then_read_end(self, fd, variant->data);
}

/* Tolerances: the RTO R is the kernel's own figure, read by the role, but
 * the kernel's timer wheel fires a timer of 256 ms or more up to 32 ms
 * late (past 64 jiffies it keeps them at a granularity of 8), once per
 * timer: 10 % covers it.  The keepalive times are whole seconds on the
 * same wheel: 5 %. */
#define RTO_TOL SL_TOL(10, 20)
#define KEEPALIVE_TOL SL_TOL(5, 20)

PREDICT(keepalive_vs_retransmit)
{
	long rto;

	/* R, as the role read it: the times below are in R, the kernel's
	 * figure for this socket, not an assumed 200 ms. */
	if (variant->data &&
	    sl_predict_ret(p, "client", "tcpi_rto", "us", &rto) == 0) {
		double r = rto / 1000.0;

		/* The segment, the probe at R, RTO retransmissions at 2R,
		 * 4R, 8R. */
		expect_packets_at_ms(p, SL_MS(0, r, 2 * r, 4 * r, 8 * r),
				     RTO_TOL, .from = "client", .len = 100,
				     .after = "sending");
		if (variant->user_timeout_ms)
			/* 16R would come after the end at 2R + U. */
			expect_call_ms(p, "client", "read", "sending",
				       2 * r + variant->user_timeout_ms,
				       RTO_TOL);
		else
			/* tcp_retries2 = 2: a budget of 200 x 7 = 1400 ms
			 * from the first RTO retransmission (2R); the RTO
			 * ending at 8R is 6R into it, so it retransmits a
			 * third time; the next, at 16R, is past it:
			 * ETIMEDOUT. */
			expect_call_ms(p, "client", "read", "sending", 16 * r,
				       RTO_TOL);
	}
	if (variant->data) {
		/* No keepalive probe, though TCP_KEEPIDLE (1 s) passed:
		 * nothing without data left the client (nor a RST). */
		expect_no_packet(p, .from = "client", .len = 0,
				 .after = "sending");
		expect_errno(p, "client", "read", ETIMEDOUT);
		/* The kernel's own count of the first one: a tail loss
		 * probe, exactly one (nstat TcpExtTCPLossProbes). */
		expect_counter(p, "client", "TcpExtTCPLossProbes", .min = 1,
			       .max = 1);
		measure_gaps_ms(p, "retrans", .from = "client",
				.len = 100, .after = "sending");
		measure_call_ms(p, "etimedout_after_send", "client", "read",
				"sending");
	} else {
		double idle = variant->idle_s * 1000.0;
		double intvl = variant->intvl_s * 1000.0;

		/* cnt probes: at idle, then every intvl ... */
		expect_packets_at_ms(p, SL_MS(idle, idle + intvl,
					      idle + 2 * intvl),
				     KEEPALIVE_TOL, .from = "client",
				     .len = 0, .not_flags = "R",
				     .after = "keepalive on");
		/* ... and one interval after the last, it gives up. */
		expect_errno(p, "client", "read", ETIMEDOUT);
		expect_call_ms(p, "client", "read", "keepalive on",
			       idle + variant->cnt * intvl, KEEPALIVE_TOL);
		measure_packet_ms(p, "first_probe", .from = "client",
				  .len = 0, .not_flags = "R",
				  .after = "keepalive on");
		measure_gaps_ms(p, "probes", .from = "client", .len = 0,
				.not_flags = "R", .after = "keepalive on");
		measure_packet_ms(p, "rst_at_give_up", .from = "client",
				  .flags = "R", .after = "keepalive on");
		measure_call_ms(p, "etimedout_after_idle", "client", "read",
				"keepalive on");
	}
}
