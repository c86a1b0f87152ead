/*
 * ack-window-update
 *
 * Claim: a receiver that advertised a zero window sends a window update
 * once the application drains the buffer.
 *
 * Why: a read() ends in tcp_cleanup_rbuf() (net/ipv4/tcp.c), which asks
 * __tcp_select_window() what window the freed space allows, and sends an
 * ACK at once, from inside the read() call, when that window is not zero
 * and at least twice the window the peer last heard of (from zero, any
 * opening counts).  No probe is needed for it: the sender learns of the
 * room without waiting for its persist timer.  But the free space is
 * counted in memory (sk_rmem_alloc against sk_rcvbuf), not in bytes: the
 * receive queue holds socket buffers, each charged until the application
 * has read every byte of it, and TCP merges each in-order segment into the
 * buffer before it when it can (tcp_try_coalesce(), nstat
 * TcpExtTCPRcvCoalesce).  And a window of less than one MSS is offered as
 * zero (__tcp_select_window(): receiver-side silly window avoidance, RFC
 * 1122 4.2.3.3).  So a read frees nothing, and sends no update, until it
 * has emptied a whole buffer.
 *
 * How: as in flow-control-zero-window, a server with SO_RCVBUF 8 KB (the
 * kernel makes it 16 KB; it fills with 10 segments, 14480 bytes) that does
 * not read, and a client that sends 128 KB.  Once the window is zero and
 * the client's first persist probe has been answered (the next probe is
 * then 2 RTOs, at least 400 ms, away), the server marks "reading" and
 * reads once.  The update is told from an answer to a probe by when it
 * leaves: between "reading" and "read returned", inside the read() call,
 * with no probe from the client in that span for it to answer.  Then the
 * server waits for its own next segment (the next probe's answer, or the
 * ACK of the data the update let in) and reads the rest.
 *
 * Variants: the read takes everything queued (read_all); all but the last
 * 10 bytes (read_all_but_10_bytes); 10 bytes (read_10_bytes).  The last
 * two are declared not to hold: on this path TCP merges the 10 segments
 * into one buffer, which the kernel frees only with its last byte, so both
 * reads leave the window at zero, and the next probe's answer says so.
 */
#include <sys/ioctl.h>
#include <linux/sockios.h>

#include "socklab.h"
#include "../common.h"

#define RCVBUF 8192		/* SO_RCVBUF: the kernel makes it 16384 */
#define SNDBUF 16384		/* SO_SNDBUF: the kernel makes it 32768 */
#define TOTAL (128 * 1024)	/* far more than both buffers hold */

EXPERIMENT(ack_window_update) {
	.claim = "a receiver that advertised a zero window sends a window "
		 "update once the application drains the buffer",
	.expected = SL_NUANCED,		/* first believed CONFIRMED */
	.topic = SL_TOPIC_ACKS,
	.belief = "the update leaves inside read(), but only once a whole "
		  "receive buffer is freed: a read that leaves bytes of the "
		  "last coalesced buffer sends none",
	.timeout_s = 10,
};

KNOBS(ack_window_update) {
	int read_bytes;		/* what the one read() takes; 0: all that is
				 * queued (SIOCINQ) but leave_bytes */
	int leave_bytes;
};

VARIANT(ack_window_update, read_all) { .leave_bytes = 0 };
VARIANT(ack_window_update, read_all_but_10_bytes, .holds = false) {
	.leave_bytes = 10,
};
VARIANT(ack_window_update, read_10_bytes, .holds = false) {
	.read_bytes = 10,
};

ROLE(ack_window_update, server)
{
	struct sockaddr_storage a = sl_addr(self, "server", SL_PORT);
	int rcvbuf = RCVBUF, lfd, fd, queued, n;
	static char buf[65536];
	struct sl_segment seg;
	struct sl_tuple t;

	/* SO_RCVBUF before listen(): the accepted socket inherits it, and
	 * the window scale (0) is chosen for it. */
	lfd = sl_call(self, socket(sl_family(self), SOCK_STREAM, 0));
	sl_call(self, setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
				 sizeof(rcvbuf)));
	sl_call(self, bind(lfd, (struct sockaddr *)&a, sizeof(a)));
	sl_call(self, listen(lfd, 1));
	sl_mark(self, "listening");
	fd = sl_call(self, accept(lfd, NULL, NULL));
	t = sl_tuple(self, fd);

	seg = sl_wait_segment(self, .from = "server", .zero_window = true);
	sl_mark(self, "zero window");
	/* The client's first persist probe (a segment without data) and the
	 * server's answer to it, with the window still zero.  The next probe
	 * is two RTOs after that answer. */
	do
		seg = sl_wait_segment(self, .from = "client",
				      .after_segment = &seg);
	while (seg.len != 0);
	sl_wait_segment(self, .from = "server", .after_segment = &seg);

	sl_record_tuple(self, &t);	/* Recv-Q before the read */
	sl_call(self, ioctl(fd, SIOCINQ, &queued));	/* the same, here */
	n = variant->read_bytes ? variant->read_bytes
				: queued - variant->leave_bytes;
	SL_REQUIRE(self, n > 0 && n <= (int)sizeof(buf),
		   "a read of 1 byte to 64 KB");
	sl_mark(self, "reading");
	sl_try(self, read(fd, buf, n));
	sl_mark(self, "read returned");
	sl_record_tuple(self, &t);	/* and after it */

	/* Whatever the server sends next: an ACK of the data the update let
	 * in, or the answer to the next probe. */
	sl_wait_segment(self, .from = "server", .after = "read returned");
	sl_mark(self, "draining");
	sl_try(self, "read until EOF", read_all(fd));
}

ROLE(ack_window_update, client)
{
	static char buf[TOTAL];	/* the bytes are never looked at */
	int sndbuf = SNDBUF, fd = sl_connect(self, "server", SL_PORT);

	sl_call(self, setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf,
				 sizeof(sndbuf)));
	sl_mark(self, "sending");
	sl_try(self, send(fd, buf, TOTAL, 0));
	sl_try(self, close(fd));
}

PREDICT(ack_window_update)
{
	/* The update: a segment without data that opens the window, sent
	 * while read() ran ... */
	expect_packet(p, .from = "server", .len = 0, .min_win = 1,
		      .after = "reading", .before = "read returned");
	/* ... answering no probe: the client sent no segment without data
	 * in that span.  (It may send data in it: the update lets the
	 * client's queued data in before read() returns.) */
	expect_no_packet(p, .from = "client", .len = 0, .after = "reading",
			 .before = "read returned");

	/* When the window opened (read_10_bytes: only once the server
	 * drained the rest), and when the next probe came, if one did. */
	measure_packet_ms(p, "window_open_after_reading", .from = "server",
			  .min_win = 1, .after = "reading");
	measure_packet_ms(p, "next_probe_after_reading", .from = "client",
			  .len = 0, .after = "reading", .before = "draining");
	measure_queues(p, "receiver", .host = "server", .state = "ESTAB",
		       .before = "draining");
}
