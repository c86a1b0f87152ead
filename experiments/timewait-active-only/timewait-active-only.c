/*
 * timewait-active-only
 *
 * Claim: only the side that closes first enters TIME_WAIT; the passive
 * closer goes CLOSE_WAIT -> LAST_ACK -> CLOSED on the final ACK.
 *
 * Why: RFC 793's state diagram (RFC 9293 section 3.3.2) and its Linux
 * implementation in net/ipv4/tcp_input.c.  The side that sends the first
 * FIN goes FIN-WAIT-1, FIN-WAIT-2, and when the peer's FIN arrives tcp_fin()
 * ACKs it and calls tcp_time_wait() (tcp_minisocks.c): a TIME-WAIT
 * mini-socket takes the 4-tuple for 60 s, so that a retransmitted FIN can
 * still be ACKed and old duplicates die out.  The side that receives the
 * first FIN goes CLOSE-WAIT (tcp_fin()), LAST-ACK when it closes
 * (tcp_close_state()), and on the ACK of its own FIN tcp_rcv_state_process()
 * calls tcp_done(): the socket is destroyed at once, no TIME-WAIT.  Which
 * side is client or server does not matter, only who closes first.
 *
 * The roles look at their socket through sock_diag at moments they choose
 * (sl_record_tuple()), after the last ACK has left, so that states shorter
 * than the samplers' period are not missed.  LAST-ACK normally lasts one
 * round trip (tens of microseconds here): in the third variant the passive
 * closer's FIN waits behind data that the first closer has not read yet,
 * which holds it in LAST-ACK until the reader drains its window.
 *
 * Variants: client_closes_first, server_closes_first (the same exchange
 * mirrored), client_closes_first_last_ack_held (the first closer uses
 * shutdown(SHUT_WR), the FIN is the same, and reads what the passive side
 * still sends).
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "socklab.h"
#include "../common.h"

/* Small enough that most of DATA waits in the passive side's send queue:
 * the kernel doubles it, overhead included. */
#define FIRST_RCVBUF 4096
#define DATA 65536

EXPERIMENT(timewait_active_only) {
	.claim = "only the side that closes first enters TIME_WAIT; the "
		 "passive closer goes CLOSE_WAIT -> LAST_ACK -> CLOSED on the "
		 "final ACK",
	.expected = SL_CONFIRMED,
	.topic = SL_TOPIC_TIME_WAIT,
	.timeout_s = 10,
};

KNOBS(timewait_active_only) {
	const char *first;	/* the host that closes first */
	bool hold_last_ack;	/* passive FIN queued behind unread data */
};

VARIANT(timewait_active_only, client_closes_first) { .first = "client" };
VARIANT(timewait_active_only, server_closes_first) { .first = "server" };
VARIANT(timewait_active_only, client_closes_first_last_ack_held) {
	.first = "client", .hold_last_ack = true,
};

static const char *other(const char *host)
{
	return strcmp(host, "client") == 0 ? "server" : "client";
}

/* The first closer: FIN first, then wait for the peer's FIN and for our ACK
 * of it to leave, and look at the socket. */
static void close_first(struct sl_role *self, int fd, const char *me,
			bool hold)
{
	const char *peer = other(me);
	struct sl_tuple t = sl_tuple(self, fd);
	struct sl_segment fin;

	sl_mark(self, "closing");
	if (hold) {
		/* Same FIN as close(), but we can still read. */
		sl_try(self, shutdown(fd, SHUT_WR));
		sl_wait_mark(self, peer, "closed");
		sl_try(self, "read until EOF", read_all(fd));
	} else {
		sl_try(self, close(fd));
	}
	fin = sl_wait_segment(self, .from = peer, .flags = "F");
	sl_wait_segment(self, .from = me, .flags = ".", .after_segment = &fin);
	sl_record_tuple(self, &t);
	sl_mark(self, "acked FIN");
}

/* The passive closer: the peer's FIN (EOF), then our own close(). */
static void close_second(struct sl_role *self, int fd, const char *me,
			 bool hold)
{
	const char *peer = other(me);
	struct sl_tuple t = sl_tuple(self, fd);
	static char data[DATA];

	(void)me;
	read_fin(self, fd);
	sl_record_tuple(self, &t);
	if (hold) {
		/* Fills the peer's small window; the rest, and our FIN
		 * behind it, wait in our send queue. */
		sl_call(self, fcntl(fd, F_SETFL, O_NONBLOCK));
		SL_REQUIRE(self, sl_call(self, write(fd, data,
						     sizeof(data))) > 0,
			   "queue data behind the FIN");
	}
	sl_mark(self, "closing");
	sl_try(self, close(fd));
	if (hold)
		sl_record_tuple(self, &t);
	sl_mark(self, "closed");
	sl_wait_mark(self, peer, "acked FIN");
	sl_record_tuple(self, &t);
	sl_mark(self, "done");
}

ROLE(timewait_active_only, server)
{
	int lfd = sl_listen(self, SL_PORT);
	int fd = sl_call(self, accept(lfd, NULL, NULL));

	if (strcmp(variant->first, "server") == 0)
		close_first(self, fd, "server", variant->hold_last_ack);
	else
		close_second(self, fd, "server", variant->hold_last_ack);
}

ROLE(timewait_active_only, client)
{
	struct sockaddr_storage sa = sl_addr(self, "server", SL_PORT);
	int rcvbuf = FIRST_RCVBUF;
	int fd = sl_call(self, socket(sl_family(self), SOCK_STREAM, 0));

	/* Before connect(): the window scale is agreed in the handshake. */
	if (variant->hold_last_ack)
		sl_call(self, setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
					 sizeof(rcvbuf)));
	sl_wait_mark(self, "server", "listening");
	sl_call(self, connect(fd, (struct sockaddr *)&sa, sizeof(sa)));
	if (strcmp(variant->first, "client") == 0)
		close_first(self, fd, "client", variant->hold_last_ack);
	else
		close_second(self, fd, "client", variant->hold_last_ack);
}

PREDICT(timewait_active_only)
{
	const char *first = variant->first, *second = other(first);
	char closing[32];

	snprintf(closing, sizeof(closing), "%s:closing", second);
	/* The first closer ends in TIME-WAIT, and never passes CLOSE-WAIT. */
	expect_state(p, .host = first, .state = "TIME-WAIT");
	expect_no_state(p, .host = first, .state = "CLOSE-WAIT");
	/* The passive closer: CLOSE-WAIT, (LAST-ACK,) then nothing. */
	expect_state(p, .host = second, .state = "CLOSE-WAIT");
	if (variant->hold_last_ack)
		expect_state(p, .host = second, .state = "LAST-ACK");
	expect_no_state(p, .host = second, .state = "TIME-WAIT");
	/* The final ACK, and the passive socket gone after it. */
	expect_packet(p, .from = first, .flags = ".", .not_flags = "FR",
		      .after = closing);
	expect_gone(p, .host = second, .after = closing);
}
