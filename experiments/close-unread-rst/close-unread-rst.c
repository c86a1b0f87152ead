/*
 * close-unread-rst
 *
 * Claim: close() while unread data sits in the receive queue sends RST, not
 * FIN; the peer's read() fails with ECONNRESET.
 *
 * Why: tcp_close() in net/ipv4/tcp.c counts the bytes it would throw away.
 * If there are any, it does not start the orderly FIN exchange: as RFC 2525
 * section 2.17 advises, it resets the connection so that the peer learns that
 * data it sent was never read, instead of believing it was delivered.
 *
 * Variants: the server reads 90 of the 100 bytes (10 unread), or none of
 * them (100 unread).  Both must reset; a variant that read all 100 would be
 * the ordinary close, which close-unread-two-buffers looks at.
 */
#include "socklab.h"

EXPERIMENT(close_unread_rst) {
	.claim = "close() while unread data sits in the receive queue sends "
		 "RST, not FIN (peer read() gets ECONNRESET)",
	.expected = SL_CONFIRMED,
	.topic = SL_TOPIC_RST,
	.timeout_s = 10,
};

KNOBS(close_unread_rst) {
	int unread;		/* bytes of the client's 100 left unread */
};

VARIANT(close_unread_rst, read_90_of_100) { .unread = 10 };
VARIANT(close_unread_rst, read_0_of_100) { .unread = 100 };

ROLE(close_unread_rst, server)
{
	char buf[100];
	int lfd = sl_listen(self, SL_PORT);
	int fd = sl_call(self, accept(lfd, NULL, NULL));

	/* All 100 bytes must be queued before we read or close, or "unread"
	 * would not mean what the variant says. */
	sl_wait_recvq(self, fd, 100);
	if (variant->unread < 100)
		sl_try(self, read(fd, buf, 100 - variant->unread));
	sl_mark(self, "closing");
	sl_try(self, close(fd));
}

ROLE(close_unread_rst, client)
{
	char buf[100] = { 0 };
	int fd = sl_connect(self, "server", SL_PORT);

	sl_try(self, write(fd, buf, sizeof(buf)));
	/* Blocks until the server's FIN (returns 0) or RST (-1, ECONNRESET). */
	sl_try(self, read(fd, buf, 1));
	sl_mark(self, "done");
}

PREDICT(close_unread_rst)
{
	expect_packet(p, .from = "server", .flags = "R", .after = "closing",
		      .within_ms = 50);
	expect_no_packet(p, .from = "server", .flags = "F", .after = "closing");
	expect_errno(p, "client", "read", ECONNRESET);
	measure_packet_ms(p, "rst_after_close", .from = "server", .flags = "R",
			  .after = "closing");

	/* What the kernel says: tcp_close() found unread data, put the
	 * socket straight into CLOSE and sent the RST with the reason
	 * TCP_ABORT_ON_CLOSE, counted once in TcpExtTCPAbortOnClose; the
	 * client's socket took the RST. */
	expect_state_change(p, .host = "server", .old_state = "ESTABLISHED",
			    .state = "CLOSE", .after = "closing");
	expect_kernel(p, .host = "server", .event = "tcp_send_reset",
		      .reason = "TCP_ABORT_ON_CLOSE", .after = "closing",
		      .within_ms = 50);
	expect_kernel(p, .host = "client", .event = "tcp_receive_reset",
		      .after = "closing");
	expect_counter(p, "server", "TcpExtTCPAbortOnClose", .min = 1,
		       .max = 1);
}
