/*
 * flow-control-zero-window
 *
 * Claim: a receiver that stops reading fills its receive buffer and
 * advertises a shrinking, then zero, window; the sender stops sending data,
 * probes the window with back-off (the persist timer) instead of timing out
 * while the peer answers, and its blocking send() blocks (non-blocking:
 * EAGAIN) once its own send buffer is full; when the receiver reads again, a
 * window update resumes the transfer.
 *
 * Why: the window a receiver advertises is the free space of its receive
 * buffer (__tcp_select_window(), net/ipv4/tcp_output.c), less than one MSS
 * counting as none, and its right edge never moves back (tcp_select_window()
 * does not shrink it): each ACK offers what is left of the last offer, down
 * to zero.  A sender with data queued and nothing in flight facing a zero
 * window arms the persist timer (tcp_check_probe_timer(), ICSK_TIME_PROBE0)
 * for its RTO, at least TCP_RTO_MIN (200 ms); each probe is a segment
 * without data one below what the peer acknowledged (tcp_xmit_probe_skb()),
 * which the peer must answer with its window, and each doubles the next
 * interval (tcp_probe0_when(): base << icsk_backoff).  An answer resets the
 * count of unanswered probes (tcp_ack() clears icsk_probes_out), so a live
 * peer keeps a zero window open forever (RFC 1122 4.2.2.17); only
 * tcp_retries2 unanswered probes in a row, or TCP_USER_TIMEOUT, end it.
 * Meanwhile send() queues into the sender's own buffer until it is full
 * (sk_stream_memory_free()), then sleeps (sk_stream_wait_memory()) or fails
 * with EAGAIN.  When the application reads, tcp_cleanup_rbuf() sends the
 * window update at once if the window can open by a useful amount.
 *
 * How: small buffers make it quick: SO_RCVBUF 8 KB on the server's listener
 * (set before listen(), so the window scale in the SYN-ACK is chosen for it:
 * 0, and the window field is the window in bytes) and SO_SNDBUF 16 KB on the
 * client; the kernel doubles both for its bookkeeping.  The client sends
 * 256 KB, far more than both buffers hold.  The server never reads until
 * its window has been zero through PROBES probes, then reads to the end.
 *
 * Variants: a blocking send() of the 256 KB (it blocks, and returns only
 * after the server reads); a non-blocking socket (O_NONBLOCK), whose send()
 * fails with EAGAIN once the buffer is full, and whose poll() for POLLOUT
 * waits for the reader instead.
 */
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>

#include "socklab.h"
#include "../common.h"

#define RCVBUF 8192		/* SO_RCVBUF: the kernel makes it 16384 */
#define SNDBUF 16384		/* SO_SNDBUF: the kernel makes it 32768 */
#define TOTAL (256 * 1024)	/* far more than both buffers hold */
#define PROBES 5		/* at R, 3R, 7R, 15R, 31R: about 7 s */

EXPERIMENT(flow_control_zero_window) {
	.claim = "a receiver that stops reading advertises a shrinking, then "
		 "zero, window; the sender probes it with back-off (persist "
		 "timer) without timing out while the peer answers, its send() "
		 "blocks (non-blocking: EAGAIN) once its buffer is full, and a "
		 "window update resumes the transfer when the receiver reads",
	.expected = SL_CONFIRMED,
	.topic = SL_TOPIC_FLOW_CONTROL,
	.belief = "with the buffer fills as ss shows them, the persist probes "
		  "doubling from the RTO, and the resume measured; a peer "
		  "answers at most one out-of-window probe per "
		  "tcp_invalid_ratelimit",
	.timeout_s = 15,
};

KNOBS(flow_control_zero_window) {
	bool nonblocking;	/* O_NONBLOCK on the client's socket */
};

VARIANT(flow_control_zero_window, blocking_send) { .nonblocking = false };
VARIANT(flow_control_zero_window, nonblocking_send) { .nonblocking = true };

ROLE(flow_control_zero_window, server)
{
	struct sockaddr_storage a = sl_addr(self, "server", SL_PORT);
	int rcvbuf = RCVBUF, lfd, fd;
	struct sl_segment seg;
	struct sl_tuple t;

	/* sl_listen() written out: SO_RCVBUF must be set before listen(),
	 * for the accepted socket inherits it and the SYN-ACK's window
	 * scale is chosen from it. */
	lfd = sl_call(self, socket(sl_family(self), SOCK_STREAM, 0));
	sl_call(self, setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
				 sizeof(rcvbuf)));
	sl_call(self, bind(lfd, (struct sockaddr *)&a, sizeof(a)));
	sl_call(self, listen(lfd, 1));
	sl_mark(self, "listening");
	fd = sl_call(self, accept(lfd, NULL, NULL));
	t = sl_tuple(self, fd);

	/* Not reading: the buffer fills until the server's own TCP
	 * advertises a zero window. */
	seg = sl_wait_segment(self, .from = "server", .zero_window = true);
	sl_mark(self, "zero window");
	sl_record_tuple(self, &t);	/* Recv-Q: the buffer, full */

	/* The client's persist probes, segments without data; then the
	 * answer to the last one, so that nothing the server sends after
	 * "reading" answers a probe.  (That answer always comes: the
	 * server answers at most one out-of-window segment per 500 ms,
	 * net.ipv4.tcp_invalid_ratelimit, and the last probe comes 16 RTOs
	 * after the one before.)  "second probe" marks where the back-off
	 * is judged from (see PREDICT). */
	for (int k = 0; k < PROBES; k++) {
		do
			seg = sl_wait_segment(self, .from = "client",
					      .after_segment = &seg);
		while (seg.len != 0);
		if (k == 1)
			sl_mark(self, "second probe");
	}
	sl_wait_segment(self, .from = "server", .after_segment = &seg);

	sl_mark(self, "reading");
	sl_try(self, "read until EOF", read_all(fd));
}

/* send() until the kernel takes no more (EAGAIN on a non-blocking socket),
 * adding what it took to *sent; returns what the last send() returned, with
 * its errno. */
static long send_until_full(int fd, const char *buf, long len, long *sent)
{
	while (*sent < len) {
		ssize_t n = send(fd, buf, len - *sent, 0);

		if (n < 0)
			return -1;
		*sent += n;
	}
	return 0;
}

/* The rest of a non-blocking transfer: send what fits, poll() for room,
 * again; returns the bytes sent in all, or -1 with errno. */
static long send_rest(int fd, const char *buf, long len, long *sent)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };

	while (send_until_full(fd, buf, len, sent) < 0) {
		if (errno != EAGAIN || poll(&pfd, 1, -1) < 0)
			return -1;
	}
	return *sent;
}

ROLE(flow_control_zero_window, client)
{
	static char buf[TOTAL];	/* the bytes are never looked at */
	int sndbuf = SNDBUF, fd = sl_connect(self, "server", SL_PORT);
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	struct sl_tuple t = sl_tuple(self, fd);
	long sent = 0;

	/* The send buffer is the sender's alone: it can be set after the
	 * connection is up. */
	sl_call(self, setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf,
				 sizeof(sndbuf)));
	if (!variant->nonblocking) {
		sl_mark(self, "sending");
		/* Blocks once the send buffer is full, until the server's
		 * window opens and its ACKs make room for the last byte. */
		sl_try(self, send(fd, buf, TOTAL, 0));
		sl_mark(self, "sent");
		sl_try(self, close(fd));
		return;
	}
	sl_call(self, fcntl(fd, F_SETFL, O_NONBLOCK));
	sl_mark(self, "sending");
	sl_try(self, "send until EAGAIN", send_until_full(fd, buf, TOTAL, &sent));
	sl_try(self, "bytes queued", sent);
	/* The first EAGAIN may come while the window is still open (the
	 * buffer drains as the server acknowledges); once it is zero,
	 * nothing drains: fill the buffer again, and it stays full. */
	sl_wait_mark(self, "server", "zero window");
	sl_try(self, "send at zero window",
	       send_until_full(fd, buf, TOTAL, &sent));
	sl_try(self, "bytes queued", sent);
	sl_record_tuple(self, &t);	/* Send-Q: the buffer, full */
	/* Writable again only when the buffer has room: after the reader
	 * reads and the window opens. */
	sl_try(self, poll(&pfd, 1, -1));
	sl_mark(self, "writable");
	sl_try(self, "send the rest", send_rest(fd, buf, TOTAL, &sent));
	sl_mark(self, "sent");
	sl_try(self, close(fd));
}

/* The persist timer doubles (factor 2).  Tolerance on each gap against
 * twice the gap before it: the kernel's timer wheel fires a timer late by
 * up to one step of its level, at most 1/8 of the shortest timer of that
 * level (64 slots per level, each level 8 times coarser), so a gap and
 * twice its predecessor differ by at most 12.5 %; 10 ms is one jiffy at
 * HZ=100, the coarsest tick a timer is rounded to.
 *
 * Judged from the third probe on, on the two longest gaps (8 and 16 RTOs,
 * about 1.7 and 3.5 s): a busy CPU also runs the timer softirq late, by
 * tens of milliseconds, which lengthens that gap, and twice that the
 * prediction for the next.  On the shorter gaps before them (2 and 4
 * RTOs) 12.5 % is 54 and 108 ms, which a loaded machine has been seen to
 * exceed (a 4-RTO gap 90 ms late, with two `yes` loops and eight other
 * runs on two cores); on the 8-RTO gap it is over 200 ms.
 * measure_gaps_ms() reports every gap. */
#define BACKOFF_TOL SL_TOL(12.5, 10)

PREDICT(flow_control_zero_window)
{
	/* The receive buffer fills: the window offered while the client
	 * sends, then zero, counted by the kernel as it goes to zero. */
	expect_packet(p, .from = "server", .len = 0, .min_win = 1,
		      .after = "client:sending", .before = "zero window");
	expect_packet(p, .from = "server", .win = 0,
		      .after = "client:sending");
	expect_counter(p, "server", "TcpExtTCPToZeroWindowAdv", .min = 1);

	/* The sender stops sending data: while the window is zero, all it
	 * sends are PROBES segments without data, the kernel's window
	 * probes (TcpExtTCPWinProbe), each interval twice the one before. */
	expect_packets(p, PROBES, .from = "client", .after = "zero window",
		       .before = "reading");
	expect_packets(p, PROBES, .from = "client", .len = 0,
		       .after = "zero window", .before = "reading");
	expect_counter(p, "client", "TcpExtTCPWinProbe", .min = PROBES,
		       .max = PROBES);
	expect_backoff(p, 2, BACKOFF_TOL, .from = "client", .len = 0,
		       .after = "second probe", .before = "reading");

	/* ... without timing out while the peer answers: the server
	 * answers with its zero window, and nobody resets anything. */
	expect_packet(p, .from = "server", .win = 0, .len = 0,
		      .after = "zero window", .before = "reading");
	expect_no_packet(p, .flags = "R");

	/* The sender's own buffer: a blocking send() is still blocked when
	 * the reader starts, and returns only after the window update; a
	 * non-blocking one fails with EAGAIN, and poll() reports room only
	 * after the update. */
	if (!variant->nonblocking) {
		expect_packet(p, .from = "server", .len = 0, .min_win = 1,
			      .after = "server:reading",
			      .before = "client:sent");
		expect_ret(p, "client", "send", TOTAL);
		measure_call_ms(p, "send_returned", "client", "send",
				"sending");
		measure_call_ms(p, "send_returned_after_reading", "client",
				"send", "server:reading");
	} else {
		expect_errno(p, "client", "send at zero window", EAGAIN);
		expect_packet(p, .from = "server", .len = 0, .min_win = 1,
			      .after = "server:reading",
			      .before = "client:writable");
		expect_ret(p, "client", "send the rest", TOTAL);
		measure_call_ms(p, "poll_returned", "client", "poll",
				"sending");
		measure_call_ms(p, "poll_returned_after_reading", "client",
				"poll", "server:reading");
	}

	/* The resume: the window opens (the kernel counts it) and every
	 * byte arrives, all but what was queued at the zero window sent
	 * after "reading". */
	expect_counter(p, "server", "TcpExtTCPFromZeroWindowAdv", .min = 1);
	expect_ret(p, "server", "read until EOF", TOTAL);

	measure_queues(p, "receiver", .host = "server", .state = "ESTAB",
		       .before = "reading");
	measure_queues(p, "sender", .host = "client", .state = "ESTAB",
		       .before = "reading");
	measure_packet_ms(p, "first_probe", .from = "client", .len = 0,
			  .after = "zero window");
	measure_gaps_ms(p, "probes", .from = "client", .len = 0,
			.after = "zero window", .before = "reading");
	measure_packet_ms(p, "update_after_reading", .from = "server",
			  .min_win = 1, .after = "reading");
}
