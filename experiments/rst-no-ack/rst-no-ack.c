/*
 * rst-no-ack
 *
 * Claim: a RST is never acknowledged; the receiver goes straight to
 * CLOSED.  A blocking read() returns ECONNRESET; with epoll the socket
 * reports EPOLLIN, EPOLLHUP and EPOLLERR, and read() then fails with
 * ECONNRESET.
 *
 * Why: RFC 9293 section 3.10.7.4 ("if the RST bit is set ... enter the
 * CLOSED state, delete the TCB") gives a valid RST no answer: there is no
 * connection left to answer from, and answering a RST with anything could
 * start a storm of them.  Linux's tcp_validate_incoming()
 * (net/ipv4/tcp_input.c) hands an in-window RST to tcp_reset(), which
 * records ECONNRESET in sk_err (for an ESTABLISHED socket) and calls
 * tcp_done(): the state becomes TCP_CLOSE, sk_shutdown becomes
 * SHUTDOWN_MASK (both directions), and the waiters are woken.  What the
 * reader sees follows from those three fields: read() takes sk_err once
 * (ECONNRESET) and then finds RCV_SHUTDOWN (0, end of file); tcp_poll()
 * reports EPOLLHUP for a socket shut both ways, EPOLLIN and EPOLLRDHUP for
 * one shut for reading, and EPOLLERR while sk_err is set.
 *
 * Variants: the peer (the server) aborts with close() under SO_LINGER
 * {1, 0}, which sends a RST at once, while the client waits for data in a
 * blocking read() (read_blocked) or in epoll_wait() for EPOLLIN and
 * EPOLLRDHUP (epoll_wait).  The client reads once more after the error, to
 * show what a second read() gets.
 */
#include <sys/epoll.h>

#include "socklab.h"
#include "../common.h"

EXPERIMENT(rst_no_ack) {
	.claim = "a RST is never acknowledged and the receiver goes straight "
		 "to CLOSED; a blocking read() returns ECONNRESET; epoll "
		 "reports EPOLLIN|EPOLLHUP|EPOLLERR, then read() fails with "
		 "ECONNRESET",
	.expected = SL_CONFIRMED,
	.belief = "ECONNRESET is reported once: the read() after it returns 0, "
		  "as after a FIN",
	.topic = SL_TOPIC_RST,
	.timeout_s = 10,
};

KNOBS(rst_no_ack) {
	int epoll;		/* wait in epoll_wait() before read() */
};

VARIANT(rst_no_ack, read_blocked) { .epoll = 0 };
VARIANT(rst_no_ack, epoll_wait) { .epoll = 1 };

/* What the client asks epoll for: data, and the peer's end of the
 * connection.  EPOLLHUP and EPOLLERR need no asking: epoll always reports
 * them (epoll_ctl(2)). */
#define CLIENT_EVENTS (EPOLLIN | EPOLLRDHUP)

ROLE(rst_no_ack, server)
{
	struct linger abort_on_close = { .l_onoff = 1, .l_linger = 0 };
	int fd = accept_marked(self);	/* listen, accept, mark "accepted" */

	sl_call(self, setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_on_close,
				 sizeof(abort_on_close)));
	/* The client marks "waiting" just before it blocks; abort then, so
	 * the RST finds it asleep in read() or epoll_wait(). */
	sl_wait_mark(self, "client", "waiting");
	sl_mark(self, "aborting");
	sl_try(self, close(fd));
	sl_mark(self, "aborted");
}

ROLE(rst_no_ack, client)
{
	int fd = connect_accepted(self);	/* ESTABLISHED on both hosts */
	struct epoll_event ev = { .events = CLIENT_EVENTS };
	char buf[100];

	if (variant->epoll) {
		int ep = sl_call(self, epoll_create1(0));

		sl_call(self, epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev));
		sl_mark(self, "waiting");
		/* One event for one socket: the mask it reports is what the
		 * claim is about, recorded as a value of its own. */
		if (sl_try(self, epoll_wait(ep, &ev, 1, -1)) == 1)
			sl_try(self, "epoll events", (long)ev.events);
	} else {
		sl_mark(self, "waiting");
	}
	/* Blocks until the RST (a read after epoll_wait() does not block:
	 * the error is already there). */
	sl_try(self, read(fd, buf, sizeof(buf)));
	/* read() reported the error once and cleared it; what is left is a
	 * socket shut both ways. */
	sl_try(self, "read again", read(fd, buf, sizeof(buf)));
	sl_mark(self, "done");
}

PREDICT(rst_no_ack)
{
	/* One RST from the aborting server, sent inside its close(), and
	 * nothing from the client after it: no ACK, no RST in answer, no
	 * FIN even when the client's descriptor is closed at the end of the
	 * run. */
	expect_packets(p, 1, .from = "server", .flags = "R",
		       .after = "aborting");
	expect_packet(p, .from = "server", .flags = "R", .after = "aborting",
		      .before = "aborted");
	expect_no_packet(p, .from = "client", .after = "aborting");

	/* The calls: ECONNRESET once, then end of file. */
	expect_errno(p, "client", "read", ECONNRESET);
	expect_ret(p, "client", "read again", 0);
	if (variant->epoll) {
		expect_ret(p, "client", "epoll_wait", 1);
		expect_ret(p, "client", "epoll events",
			   EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR);
	}
	measure_call_ms(p, "read_returned", "client", "read", "aborting");

	/* What the kernel says: the client's socket received the RST and
	 * made exactly one change after it, ESTABLISHED -> CLOSE, with no
	 * state in between (no CLOSE-WAIT, no TIME-WAIT). */
	expect_kernel(p, .host = "client", .event = "tcp_receive_reset",
		      .after = "aborting", .min = 1, .max = 1);
	expect_state_change(p, .host = "client", .old_state = "ESTABLISHED",
			    .state = "CLOSE", .after = "aborting");
	expect_kernel(p, .host = "client", .event = "inet_sock_set_state",
		      .after = "aborting", .min = 1, .max = 1);
	expect_no_state(p, .host = "client", .state = "TIME-WAIT");
	/* The RST is the abort's: tcp_disconnect() sends it with the reason
	 * TCP_STATE (linger-zero-rst). */
	expect_kernel(p, .host = "server", .event = "tcp_send_reset",
		      .reason = "TCP_STATE", .after = "aborting");
	/* The client's counters: one connection reset from ESTABLISHED
	 * (TcpEstabResets), no RST sent. */
	expect_counter(p, "client", "TcpEstabResets", .min = 1, .max = 1);
	expect_counter(p, "client", "TcpOutRsts", .max = 0);
}
