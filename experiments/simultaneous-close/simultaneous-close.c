/*
 * simultaneous-close
 *
 * Claim: when both sides close at once, both pass through CLOSING and both
 * end in TIME_WAIT.
 *
 * Why: a side that has sent its FIN and receives the peer's FIN before the
 * ACK of its own is in FIN-WAIT-1 and gets a FIN: tcp_fin() in
 * net/ipv4/tcp_input.c ACKs it and moves to CLOSING ("Simultaneous close:
 * FIN_WAIT1 -> CLOSING", RFC 9293 figure 13).  The ACK of its own FIN,
 * sent by the peer from the same state, then moves it to TIME-WAIT
 * (tcp_rcv_state_process(), case TCP_CLOSING: tcp_time_wait()).  Both
 * sides do the same, so both hold the 4-tuple in TIME-WAIT for 60 s.
 *
 * "At once" means: each FIN leaves before the other one arrives.  On a
 * veth a segment takes microseconds, less than two processes take to
 * learn of each other, so the FINs would not cross.  Here the router
 * delays every packet by 50 ms each way, and each side closes as soon as
 * it has seen the other's "ready" mark: the two close() calls are a few
 * milliseconds apart, well inside the 50 ms each FIN is on its way.
 * Then, for each side: its FIN leaves at about 0, the peer's FIN arrives
 * at about 50 ms (CLOSING), the peer's ACK of its FIN at about 100 ms
 * (TIME-WAIT).
 *
 * Variants: one, a 50 ms one-way delay on both directions.
 */
#include "socklab.h"

EXPERIMENT(simultaneous_close) {
	.claim = "when both sides close at once, both pass through CLOSING "
		 "and both end in TIME_WAIT",
	.expected = SL_CONFIRMED,
	.topic = SL_TOPIC_TEARDOWN,
	.timeout_s = 10,
};

KNOBS(simultaneous_close) {
	int delay_ms;		/* one way, on both directions */
};

VARIANT(simultaneous_close, delay_50ms_each_way) { .delay_ms = 50 };

SETUP(simultaneous_close)
{
	sl_fault(s, .kind = "delay", .delay_ms = variant->delay_ms);
}

ROLE(simultaneous_close, server)
{
	int lfd = sl_listen(self, SL_PORT);
	int fd = sl_call(self, accept(lfd, NULL, NULL));
	struct sl_tuple t = sl_tuple(self, fd);

	sl_mark(self, "ready");
	sl_wait_mark(self, "client", "ready");
	sl_mark(self, "closing");
	sl_try(self, close(fd));
	/* FIN-WAIT-1, CLOSING, then TIME-WAIT once our FIN is ACKed: the
	 * predictions judge the path, this waits for where it ends. */
	sl_wait_tuple(self, &t, TCP_TIME_WAIT);
	sl_mark(self, "in TIME-WAIT");
}

ROLE(simultaneous_close, client)
{
	int fd = sl_connect(self, "server", SL_PORT);
	struct sl_tuple t = sl_tuple(self, fd);

	/* connect() returns on the SYN-ACK; the server's accept() returns
	 * on our ACK, 50 ms later: both are ESTABLISHED once both say so. */
	sl_mark(self, "ready");
	sl_wait_mark(self, "server", "ready");
	sl_mark(self, "closing");
	sl_try(self, close(fd));
	sl_wait_tuple(self, &t, TCP_TIME_WAIT);
	sl_mark(self, "in TIME-WAIT");
}

PREDICT(simultaneous_close)
{
	/* The FINs crossed: each side sent one FIN, and each received the
	 * other's while its own was unacknowledged (FIN-WAIT-1 -> CLOSING,
	 * in the kernel's account and in sock_diag's samples). */
	expect_packets(p, 1, .from = "client", .flags = "F");
	expect_packets(p, 1, .from = "server", .flags = "F");
	expect_state_change(p, .host = "client", .old_state = "FIN_WAIT1",
			    .state = "CLOSING");
	expect_state_change(p, .host = "server", .old_state = "FIN_WAIT1",
			    .state = "CLOSING");
	expect_state(p, .host = "client", .state = "CLOSING");
	expect_state(p, .host = "server", .state = "CLOSING");
	/* Neither went the other way, through FIN-WAIT-2 or LAST-ACK. */
	expect_no_state_change(p, .host = "client", .state = "FIN_WAIT2");
	expect_no_state_change(p, .host = "server", .state = "FIN_WAIT2");
	expect_no_state_change(p, .host = "client", .state = "LAST_ACK");
	expect_no_state_change(p, .host = "server", .state = "LAST_ACK");
	/* Both end in TIME-WAIT, and stay there. */
	expect_state_kept(p, .host = "client", .state = "TIME-WAIT",
			  .after = "client:in TIME-WAIT");
	expect_state_kept(p, .host = "server", .state = "TIME-WAIT",
			  .after = "server:in TIME-WAIT");
	/* When each FIN left, after the first side was ready: the two
	 * are milliseconds apart, against a 50 ms one-way delay. */
	measure_packet_ms(p, "client_fin", .from = "client", .flags = "F",
			  .after = "ready");
	measure_packet_ms(p, "server_fin", .from = "server", .flags = "F",
			  .after = "ready");
}
