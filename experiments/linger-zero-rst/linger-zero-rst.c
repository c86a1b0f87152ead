/*
 * linger-zero-rst
 *
 * Claim: close() with SO_LINGER {on, 0 s} aborts the connection: it sends
 * RST instead of FIN, discards data still waiting to be sent, and the
 * closing side enters no TIME_WAIT.  SO_LINGER has no effect on shutdown().
 *
 * Why: __tcp_close() in net/ipv4/tcp.c checks, in this order: unread
 * received data (RST, see close-unread-rst), then a zero linger time, and
 * only then does the orderly FIN close.  A zero linger calls tcp_disconnect(),
 * the ABORT call of RFC 793 (sections 3.8 and 3.9; RFC 9293 section 3.10.5):
 * from ESTABLISHED, CLOSE_WAIT, FIN_WAIT1/2 or SYN_RECV it sends a RST with
 * tcp_send_active_reset(), then purges the send queue.  The socket goes
 * straight to CLOSE, so there is no TIME_WAIT.  tcp_shutdown() never looks at
 * SO_LINGER: it only queues a FIN behind the data still in the send queue.
 *
 * Variants: the server sets linger {1, 0} in all three.  It closes an idle
 * connection (close_linger_1_0); it closes while tens of kilobytes it wrote
 * wait unsent behind the client's shut receive window
 * (close_linger_1_0_unsent); or it calls shutdown(SHUT_WR) first and
 * close() only once the client has read EOF (shut_wr_linger_1_0).  The
 * client is the same plain reader in each, and the server never has unread
 * data, so that the linger setting is the only reason for a RST.  In
 * each, the server acts only once the client's connect() has returned
 * (its mark "connected"): otherwise, on a machine slow to schedule the
 * client, the RST could beat connect()'s return and fail connect() instead
 * of the read() the claim is about.
 */
#include <linux/sockios.h>
#include <sys/ioctl.h>

#include "socklab.h"

/* Small enough that a few segments fill the client's window (the kernel
 * doubles it to 8 KB of buffer, overhead included). */
#define CLIENT_RCVBUF 4096

EXPERIMENT(linger_zero_rst) {
	.claim = "close() with SO_LINGER {1, 0} sends RST, not FIN, discards "
		 "unsent data and leaves no TIME-WAIT; shutdown() ignores "
		 "SO_LINGER",
	.expected = SL_CONFIRMED,
	.topic = SL_TOPIC_RST,
	.timeout_s = 10,
};

KNOBS(linger_zero_rst) {
	struct linger linger;	/* SO_LINGER on the server's socket */
	int unsent;		/* write more than the client's window takes */
	int shut_wr;		/* shutdown(SHUT_WR) first, close() later */
};

VARIANT(linger_zero_rst, close_linger_1_0) {
	.linger = { .l_onoff = 1, .l_linger = 0 },
};
VARIANT(linger_zero_rst, close_linger_1_0_unsent) {
	.linger = { .l_onoff = 1, .l_linger = 0 }, .unsent = 1,
};
VARIANT(linger_zero_rst, shut_wr_linger_1_0) {
	.linger = { .l_onoff = 1, .l_linger = 0 }, .shut_wr = 1,
};

/* Writes without blocking until the send buffer is full.  Returns the bytes
 * written, or -1 if send() failed for another reason than a full buffer. */
static long fill_send_queue(int fd)
{
	static char buf[4096];
	long total = 0;
	ssize_t n;

	while ((n = send(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		total += n;
	return errno == EAGAIN ? total : -1;
}

/* The send queue as ioctl() reports it: SIOCOUTQ counts every byte not yet
 * acknowledged (ss's Send-Q), SIOCOUTQNSD only those not yet sent. */
static long send_queue(int fd, unsigned long what)
{
	int bytes;

	return ioctl(fd, what, &bytes) < 0 ? -1 : bytes;
}

ROLE(linger_zero_rst, server)
{
	int lfd = sl_listen(self, SL_PORT);
	int fd = sl_call(self, accept(lfd, NULL, NULL));

	sl_call(self, setsockopt(fd, SOL_SOCKET, SO_LINGER, &variant->linger,
				 sizeof(variant->linger)));
	/* accept() returns once the handshake's last ACK is in, which may be
	 * before the client's connect() has returned: a RST that reached the
	 * client before its process ran again would fail connect() itself
	 * (ECONNRESET), and the claim is about what an established
	 * connection's reader sees.  So nothing leaves here until the
	 * client's connect() has returned, on any machine. */
	sl_wait_mark(self, "client", "connected");

	if (variant->unsent) {
		/* The client reads nothing and its window is small: a few
		 * segments leave, the rest waits in our send queue.  Without
		 * unsent bytes there would be nothing for close() to discard,
		 * so that is a precondition, not a finding. */
		SL_REQUIRE(self, sl_call(self, "send until EAGAIN",
					 fill_send_queue(fd)) > 0,
			   "fill the send queue");
		sl_try(self, "ioctl(SIOCOUTQ)", send_queue(fd, SIOCOUTQ));
		SL_REQUIRE(self, sl_call(self, "ioctl(SIOCOUTQNSD)",
					 send_queue(fd, SIOCOUTQNSD)) > 0,
			   "unsent bytes in the send queue");
	}

	if (variant->shut_wr) {
		sl_mark(self, "shutting down");
		sl_try(self, shutdown(fd, SHUT_WR));
		/* Close only after the client has seen what shutdown() sent,
		 * so that the two calls' packets cannot be confused. */
		sl_wait_mark(self, "client", "done");
	}

	sl_mark(self, "closing");
	sl_try(self, close(fd));
	sl_mark(self, "closed");
}

ROLE(linger_zero_rst, client)
{
	struct sockaddr_storage sa = sl_addr(self, "server", SL_PORT);
	static char buf[65536];
	int rcvbuf = CLIENT_RCVBUF;
	int fd = sl_call(self, socket(sl_family(self), SOCK_STREAM, 0));

	/* The buffer size must be set before connect(): the window scale is
	 * agreed in the handshake and sized from it. */
	if (variant->unsent)
		sl_call(self, setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
					 sizeof(rcvbuf)));
	sl_wait_mark(self, "server", "listening");
	sl_call(self, connect(fd, (struct sockaddr *)&sa, sizeof(sa)));
	sl_mark(self, "connected");

	/* Read nothing until the server's close() has returned: our window
	 * stays shut until then, so the data the server holds can only reach
	 * us afterwards, and only if close() kept it. */
	if (variant->unsent)
		sl_wait_mark(self, "server", "closed");
	/* Read until the connection ends: 0 is the server's FIN (EOF), -1
	 * with ECONNRESET its RST. */
	while (sl_try(self, read(fd, buf, sizeof(buf))) > 0)
		;
	sl_mark(self, "done");
	/* Our socket stays open (a role's descriptors live until every role
	 * has ended): our own close() would send a FIN that changes what the
	 * server's close() meets. */
}

PREDICT(linger_zero_rst)
{
	if (variant->shut_wr) {
		/* shutdown() ignores the linger setting: an ordinary FIN, no
		 * RST until close(), and the client reads EOF. */
		expect_packet(p, .from = "server", .flags = "F",
			      .after = "shutting down", .within_ms = 50,
			      .before = "closing");
		expect_no_packet(p, .from = "server", .flags = "R",
				 .before = "closing");
		expect_ret(p, "client", "read", 0);
	} else {
		/* close() aborts: no FIN at any time, and the client's read
		 * fails instead of returning EOF. */
		expect_no_packet(p, .from = "server", .flags = "F");
		expect_errno(p, "client", "read", ECONNRESET);
	}
	/* close() with linger {1, 0} resets the connection, whatever state
	 * shutdown() left it in, and skips TIME-WAIT (the harness samples the
	 * sockets once more after the roles end: a 60 s TIME-WAIT would be
	 * seen). */
	expect_packet(p, .from = "server", .flags = "R", .after = "closing",
		      .within_ms = 50);
	expect_no_state(p, .host = "server", .state = "TIME-WAIT");
	if (variant->unsent)
		/* The unsent bytes were discarded: once close() has returned,
		 * nothing but RSTs leaves the server, though the client then
		 * reads and opens its window.  (Bounded by "closed", not
		 * "closing": the client's delayed ACK may still open its
		 * window by a segment while close() is being entered, and
		 * that segment would have left before the abort.) */
		expect_no_packet(p, .from = "server", .not_flags = "R",
				 .after = "closed");
	measure_packet_ms(p, "rst_after_close", .from = "server", .flags = "R",
			  .after = "closing");

	/* What the kernel says: close() went through tcp_disconnect(), which
	 * sends the RST with the reason TCP_STATE (the RST that the state
	 * of the connection calls for; TCP_ABORT_ON_LINGER is another abort,
	 * TCP_LINGER2's), and __tcp_close() counts it in
	 * TcpExtTCPAbortOnData: the counter's name is older than its uses.
	 * The socket went to CLOSE from where shutdown() left it. */
	expect_kernel(p, .host = "server", .event = "tcp_send_reset",
		      .reason = "TCP_STATE", .after = "closing",
		      .within_ms = 50);
	expect_state_change(p, .host = "server",
			    .old_state = variant->shut_wr ? NULL : "ESTABLISHED",
			    .state = "CLOSE", .after = "closing");
	expect_counter(p, "server", "TcpExtTCPAbortOnData", .min = 1,
		       .max = 1);
	expect_counter(p, "server", "TcpExtTCPAbortOnLinger", .max = 0);
}
