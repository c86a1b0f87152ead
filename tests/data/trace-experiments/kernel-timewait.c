/*
 * kernel-timewait: a helper of the kernel-event tests, kept out of the
 * catalogue (tests/, not experiments/): tests/integration/trace_order.sh
 * runs it to check that the kernel's state changes and the packets they go
 * with sit on the timeline in the order the kernel made them.
 *
 * Claim: the side that closes first ends in TIME-WAIT.  The client closes
 * first; the server reads EOF and closes; the client's FIN_WAIT2 socket
 * gets the server's FIN, sends the last ACK (tcp_fin() in
 * net/ipv4/tcp_input.c: tcp_send_ack(), then tcp_time_wait()), and is
 * replaced by a TIME-WAIT mini-socket: inet_sock_set_state reports
 * FIN_WAIT2 -> CLOSE, and sock_diag shows the TIME-WAIT that follows.
 */
#include "socklab.h"

EXPERIMENT(kernel_timewait) {
	.claim = "the side that closes first ends in TIME-WAIT (helper of "
		 "the kernel-event tests)",
	.expected = SL_CONFIRMED,
	.timeout_s = 10,
};

KNOBS(kernel_timewait) {
	int unused;
};

VARIANT(kernel_timewait, client_closes_first) { .unused = 0 };

ROLE(kernel_timewait, server)
{
	char buf[1];
	int lfd = sl_listen(self, SL_PORT);
	int fd = sl_call(self, accept(lfd, NULL, NULL));

	/* Returns 0 at the client's FIN. */
	sl_try(self, read(fd, buf, sizeof(buf)));
	sl_mark(self, "closing");
	sl_try(self, close(fd));
	sl_wait_mark(self, "client", "done");
}

ROLE(kernel_timewait, client)
{
	char buf[1];
	int fd = sl_connect(self, "server", SL_PORT);

	sl_mark(self, "closing");
	/* shutdown(), then close() once the server's FIN is in: a socket
	 * that is still open stays a full socket in FIN_WAIT2 until that
	 * FIN, so its change to CLOSE (into the TIME-WAIT mini-socket)
	 * always comes with the last ACK.  After a plain close() the
	 * orphan moves into the mini-socket (substate FIN_WAIT2) as soon as
	 * its FIN is acknowledged, which, when the server's ACK goes out
	 * alone, is before the server has even closed. */
	sl_try(self, shutdown(fd, SHUT_WR));
	/* Returns 0 at the server's FIN. */
	sl_try(self, read(fd, buf, sizeof(buf)));
	sl_try(self, close(fd));
	sl_wait_mark(self, "server", "closing");
	sl_mark(self, "done");
}

PREDICT(kernel_timewait)
{
	expect_state(p, .host = "client", .state = "TIME-WAIT");
	expect_no_state(p, .host = "server", .state = "TIME-WAIT");
	expect_state_change(p, .host = "client", .old_state = "FIN_WAIT2",
			    .state = "CLOSE", .after = "server:closing");
	expect_no_kernel(p, .event = "tcp_send_reset");
}
