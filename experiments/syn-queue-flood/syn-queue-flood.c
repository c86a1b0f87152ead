/*
 * syn-queue-flood
 *
 * Claim: a SYN flood fills the SYN (half-open) queue; with syncookies off
 * new clients are dropped, with syncookies on they still connect.
 *
 * Why: every SYN a listener answers leaves a request socket (SYN-RECV)
 * that waits for the final ACK, retransmitting its SYN-ACK meanwhile.
 * tcp_conn_request() (net/ipv4/tcp_input.c) counts them against the
 * listener's backlog, the same min(backlog, somaxconn) as the accept
 * queue: the SYN queue is full when more requests wait than that
 * (inet_csk_reqsk_queue_is_full(), ">" since a 2025 fix, so it holds
 * backlog + 1 like the accept queue; ">=" before).  A SYN that finds it
 * full goes to tcp_syn_flood_action(): with net.ipv4.tcp_syncookies=0 it
 * is dropped (TcpExtTCPReqQFullDrop, TcpExtListenDrops), and the client's
 * connect() only retransmits its SYN; with 1 it is answered with a cookie
 * (TcpExtTCPReqQFullDoCookies, TcpExtSyncookiesSent): a SYN-ACK whose
 * sequence number encodes the connection, with no request kept, so that
 * the client's final ACK alone lets cookie_v4_check() build the socket
 * (TcpExtSyncookiesRecv).  net.ipv4.tcp_max_syn_backlog plays a part
 * only without syncookies, and only near its own size: a SYN from a peer
 * never seen before is dropped once fewer than a quarter of it are left
 * free.  It is 16 here, so that limit (12 requests) lies above the
 * listener's.
 *
 * How: the server listens with a backlog of 4 and never accepts.  The
 * client's host sends the flood itself: 5 crafted SYNs (sl_inject), each
 * from a port where nothing listens, and waits until the server has
 * answered each, the queue full as the server's SYN-ACKs show it.  Its
 * kernel would answer each SYN-ACK with a RST, and a RST removes the
 * request: the router drops exactly as many RSTs from the client as the
 * flood's requests can draw (each sends its SYN-ACK once and retransmits
 * it net.ipv4.tcp_synack_retries = 2 times, over 7 s).  Then a real
 * client connects, with TCP_SYNCNT 1: an unanswered connect() fails after
 * 3 s, while the flood's requests still fill the queue.
 *
 * Variants: net.ipv4.tcp_syncookies in the server's namespace, 0 and 1
 * (the default).  The predictions are the claim's first sentence, the
 * flood and the dropped client; with syncookies the client connects, so
 * that variant is declared not to hold, and its own predictions show the
 * cookie.
 */
#include <stdio.h>

#include "socklab.h"

#define BACKLOG 4		/* listen(); the SYN queue holds BACKLOG + 1 */
#define FLOOD (BACKLOG + 1)	/* crafted SYNs: just enough to fill it */
#define FLOOD_PORT 50001	/* the flood's source ports, one each */
#define CLIENT_PORT 40001	/* the real client's */
#define SYNACK_RETRIES 2	/* net.ipv4.tcp_synack_retries, server */

EXPERIMENT(syn_queue_flood) {
	.claim = "a SYN flood fills the SYN (half-open) queue; with syncookies "
		 "off new clients are dropped, with syncookies on they still "
		 "connect",
	.expected = SL_NUANCED,
	.topic = SL_TOPIC_QUEUES,
	.belief = "by tcp_syncookies: 0 drops new clients' SYNs once the "
		  "half-open queue (the listen backlog + 1) is full; 1 "
		  "answers them with a cookie SYN-ACK and they connect",
	.timeout_s = 10,
};

KNOBS(syn_queue_flood) {
	int syncookies;		/* net.ipv4.tcp_syncookies, server */
};

VARIANT(syn_queue_flood, syncookies_0) { .syncookies = 0 };
VARIANT(syn_queue_flood, syncookies_1, .holds = false) { .syncookies = 1 };

SETUP(syn_queue_flood)
{
	char v[16];

	sl_sysctl(s, "server", "net.ipv4.tcp_syncookies",
		  variant->syncookies ? "1" : "0");
	sl_sysctl(s, "server", "net.ipv4.tcp_max_syn_backlog", "16");
	snprintf(v, sizeof(v), "%d", SYNACK_RETRIES);
	sl_sysctl(s, "server", "net.ipv4.tcp_synack_retries", v);
	/* The client's kernel resets every SYN-ACK sent to the flood's
	 * ports; each request draws 1 + SYNACK_RETRIES of them. */
	sl_fault(s, .kind = "drop", .from = "client", .flags = "R",
		 .count = FLOOD * (1 + SYNACK_RETRIES));
}

/* A 4-tuple on the server, for a client port. */
static struct sl_tuple at_server(struct sl_role *self, int port)
{
	return (struct sl_tuple){ .local = sl_addr(self, "server", SL_PORT),
				  .peer = sl_addr(self, "client", port) };
}

ROLE(syn_queue_flood, server)
{
	struct sockaddr_storage a = sl_addr(self, "server", SL_PORT);
	int lfd = sl_call(self, socket(sl_family(self), SOCK_STREAM, 0));
	struct sl_tuple t, listener = { .local = a };

	sl_call(self, bind(lfd, (struct sockaddr *)&a, sizeof(a)));
	sl_call(self, listen(lfd, BACKLOG));
	sl_mark(self, "listening");

	/* What the flood left here: a request (SYN-RECV) per SYN, and the
	 * listener as ss -lnt shows it. */
	sl_wait_mark(self, "client", "flooded");
	for (int i = 0; i < FLOOD; i++) {
		t = at_server(self, FLOOD_PORT + i);
		sl_record_tuple(self, &t);
	}
	sl_record_tuple(self, &listener);
	sl_mark(self, "looked");
	/* And what the real client got: nothing, or a connection. */
	sl_wait_mark(self, "client", "tried");
	t = at_server(self, CLIENT_PORT);
	sl_try(self, "the client's connection here", sl_record_tuple(self, &t));
}

ROLE(syn_queue_flood, client)
{
	struct sockaddr_storage srv = sl_addr(self, "server", SL_PORT);
	struct sockaddr_storage a = sl_addr(self, "client", CLIENT_PORT);
	struct sl_segment syn;
	int fd, syncnt = 1;

	sl_wait_mark(self, "server", "listening");
	/* The flood: SYNs no socket of ours sent, from ports where nothing
	 * listens.  Each is answered before the next leaves. */
	sl_mark(self, "flooding");
	for (int i = 0; i < FLOOD; i++) {
		syn = sl_inject(self, .to = "server", .sport = FLOOD_PORT + i,
				.dport = SL_PORT, .flags = "S",
				.seq = 1000000u * (i + 1), .mss = 1460,
				.note = "the flood");
		sl_wait_segment(self, .from = "server", .flags = "S.",
				.dport = FLOOD_PORT + i, .after_segment = &syn);
	}
	sl_mark(self, "flooded");
	/* The server looks at its queues before anyone else comes. */
	sl_wait_mark(self, "server", "looked");

	fd = sl_call(self, socket(sl_family(self), SOCK_STREAM, 0));
	sl_call(self, bind(fd, (struct sockaddr *)&a, sizeof(a)));
	/* An unanswered connect() gives up after 3 s, not 127. */
	sl_call(self, setsockopt(fd, IPPROTO_TCP, TCP_SYNCNT, &syncnt,
				 sizeof(syncnt)));
	sl_mark(self, "connecting");
	sl_try(self, connect(fd, (struct sockaddr *)&srv, sizeof(srv)));
	sl_mark(self, "tried");
}

PREDICT(syn_queue_flood)
{
	/* The flood fills the queue: each of its SYNs is answered, a
	 * request each, BACKLOG + 1 of them. */
	expect_packets(p, FLOOD, .from = "server", .flags = "S.",
		       .after = "client:flooding", .before = "client:flooded");
	expect_state(p, .host = "server", .state = "SYN-RECV",
		     .after = "client:flooded");
	/* None of it shows in ss -lnt: Recv-Q is the accept queue, and it
	 * stays empty while the SYN queue is full. */
	expect_state(p, .host = "server", .state = "LISTEN", .rqueue = 0,
		     .wqueue = BACKLOG, .after = "client:flooded",
		     .before = "client:tried");
	expect_no_state(p, .host = "server", .state = "LISTEN", .rqueue = 1,
			.before = "client:connecting");

	/* The claim: the next client is dropped.  Its SYN gets no answer,
	 * the kernel counts the drop, and connect() times out with nothing
	 * for it on the server. */
	expect_errno(p, "client", "connect", ETIMEDOUT);
	expect_counter(p, "server", "TcpExtTCPReqQFullDrop", .min = 1);
	expect_counter(p, "server", "TcpExtListenDrops", .min = 1);
	expect_counter(p, "server", "TcpExtSyncookiesSent", .max = 0);
	expect_ret(p, "server", "the client's connection here", SL_GONE);
	expect_retransmits(p, .host = "client", .min = 1,
			   .after = "client:connecting");

	if (variant->syncookies) {
		/* What happens instead: the server answers with a cookie
		 * and keeps nothing; the client's ACK brings the cookie back
		 * and the connection is made from it. */
		expect_counter(p, "server", "TcpExtTCPReqQFullDoCookies",
			       .min = 1);
		expect_counter(p, "server", "TcpExtSyncookiesSent", .min = 1);
		expect_counter(p, "server", "TcpExtSyncookiesRecv", .min = 1);
		expect_ret(p, "client", "connect", 0);
		expect_ret(p, "server", "the client's connection here",
			   TCP_ESTABLISHED);
	}
}
