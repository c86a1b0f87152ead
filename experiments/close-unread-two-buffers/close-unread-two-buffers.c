/*
 * close-unread-two-buffers
 *
 * Claim: the notes infer two receive buffers: "if the server read all of the
 * first 100 bytes, and the client then sends 100 more that the server never
 * reads, close() does a normal four-way FIN close".
 *
 * Why: a TCP socket has one receive queue, not one per write of the peer.
 * tcp_close() in net/ipv4/tcp.c frees what is queued at the moment of close()
 * and counts it (data_was_unread); if there is any, it sends RST instead of
 * FIN.  What the server read before does not matter, only what is queued
 * when it closes.  Data that arrives after close() finds an orphaned socket
 * in FIN-WAIT-1 or FIN-WAIT-2 that nobody will ever read again, and RFC 1122
 * section 4.2.2.13 asks for a RST then too: tcp_rcv_state_process() in
 * net/ipv4/tcp_input.c does it for a full socket, and
 * tcp_timewait_state_process() in net/ipv4/tcp_minisocks.c for the FIN-WAIT-2
 * mini socket that tcp_time_wait() leaves in its place.
 *
 * The predictions are the server's half of that close, the half the claim
 * is about: close() sends FIN and no RST, and the client's read() returns 0.
 *
 * Variants: when the second 100 bytes reach the server.  In
 * second_100_arrived they are in its Recv-Q when it calls close(), the case
 * the notes describe; in second_100_after_close the client sends them only
 * after it has read the server's FIN, the one order in which the notes' FIN
 * close happens (and the late data is reset anyway, only later).
 */
#include <poll.h>

#include "socklab.h"

EXPERIMENT(close_unread_two_buffers) {
	.claim = "the server read all of the first 100 bytes; the client then "
		 "sends 100 more that the server never reads: close() does a "
		 "normal four-way FIN close",
	.expected = SL_NUANCED,
	.topic = SL_TOPIC_RST,
	.belief = "REFUTED when the second 100 bytes have arrived: they sit "
		  "in the receive queue, so close() sends RST; only if they "
		  "had not arrived yet does it send FIN, and their arrival "
		  "then draws a RST",
	.timeout_s = 10,
};

KNOBS(close_unread_two_buffers) {
	bool after_close;	/* the second 100 are sent after the FIN */
};

VARIANT(close_unread_two_buffers, second_100_arrived, .holds = false) {
	.after_close = false,
};
VARIANT(close_unread_two_buffers, second_100_after_close) {
	.after_close = true,
};

ROLE(close_unread_two_buffers, server)
{
	char buf[100];
	int lfd = sl_listen(self, SL_PORT);
	int fd = sl_call(self, accept(lfd, NULL, NULL));

	/* The claim starts from "the server read all of the first 100 bytes":
	 * wait until they are all queued, so that one read() takes them all. */
	sl_wait_recvq(self, fd, 100);
	SL_REQUIRE(self, sl_call(self, read(fd, buf, 100)) == 100,
		   "read all of the first 100 bytes");
	sl_mark(self, "read 100");
	/* The queue is empty now.  Either the client's next 100 bytes land in
	 * it before we close, or they are sent once we have closed. */
	if (!variant->after_close)
		sl_wait_recvq(self, fd, 100);
	sl_mark(self, "closing");
	sl_try(self, close(fd));
	/* The closed socket lives on in the kernel, orphaned, and answers
	 * whatever still arrives; the listener stays open until every role
	 * has ended. */
}

ROLE(close_unread_two_buffers, client)
{
	char buf[100] = { 0 };
	int fd = sl_connect(self, "server", SL_PORT);

	sl_try(self, write(fd, buf, sizeof(buf)));
	if (!variant->after_close) {
		sl_wait_mark(self, "server", "read 100");
		sl_mark(self, "sending more");
		sl_try(self, write(fd, buf, sizeof(buf)));
		/* Blocks until the server's FIN (0) or RST (-1). */
		sl_try(self, read(fd, buf, 1));
	} else {
		struct pollfd pfd = { .fd = fd, .events = 0 };

		/* Blocks until the server's FIN (0) or RST (-1): after it,
		 * the server has closed. */
		sl_try(self, read(fd, buf, 1));
		/* The mark comes first: on veths the answer to these bytes can
		 * be back before write() has returned. */
		sl_mark(self, "sending more");
		sl_try(self, write(fd, buf, sizeof(buf)));
		/* read() cannot wait for an answer any more: after the FIN it
		 * returns 0 at once.  poll() with no events asked still
		 * reports POLLERR and POLLHUP, which only a RST raises here. */
		sl_try(self, poll(&pfd, 1, -1));
		/* A RST in CLOSE-WAIT is reported as EPIPE, not ECONNRESET
		 * (tcp_reset()).  MSG_NOSIGNAL keeps SIGPIPE away. */
		sl_try(self, send(fd, buf, 1, MSG_NOSIGNAL));
	}
	sl_mark(self, "done");
}

PREDICT(close_unread_two_buffers)
{
	/* What the claim says: close() starts the FIN exchange, and the
	 * client's read() sees an orderly end of stream. */
	expect_packet(p, .from = "server", .flags = "F", .after = "closing",
		      .within_ms = 50);
	expect_ret(p, "client", "read", 0);
	if (!variant->after_close) {
		expect_no_packet(p, .from = "server", .flags = "R",
				 .after = "closing");
		measure_packet_ms(p, "rst_after_close", .from = "server",
				  .flags = "R", .after = "closing");
	} else {
		/* The claim says nothing of data sent after the close; up to
		 * that moment there must be no RST. */
		expect_no_packet(p, .from = "server", .flags = "R",
				 .after = "closing",
				 .before = "client:sending more");
		measure_packet_ms(p, "rst_after_sending_more",
				  .from = "server", .flags = "R",
				  .after = "client:sending more");
	}

	/* What the kernel says, if the claim is right: close() found nothing
	 * unread, so the socket left ESTABLISHED for FIN_WAIT1 (the FIN
	 * close), no RST went out with the reason TCP_ABORT_ON_CLOSE, and
	 * TcpExtTCPAbortOnClose did not move. */
	expect_state_change(p, .host = "server", .old_state = "ESTABLISHED",
			    .state = "FIN_WAIT1", .after = "closing");
	expect_no_kernel(p, .host = "server", .event = "tcp_send_reset",
			 .reason = "TCP_ABORT_ON_CLOSE");
	expect_counter(p, "server", "TcpExtTCPAbortOnClose", .max = 0);
}
