/*
 * backlog-size
 *
 * Claim: the accept queue holds min(backlog, somaxconn) + 1 connections;
 * ss -lnt shows its fill as Recv-Q and its size as Send-Q.
 *
 * Why: listen() clamps its backlog to net.core.somaxconn (__sys_listen(),
 * net/socket.c; a sysctl of each network namespace) and the listener
 * keeps the result as sk_max_ack_backlog.  The queue is full when more
 * connections wait than that (sk_acceptq_is_full(): ">", not ">="), so
 * one more than the backlog gets in.  A SYN that arrives while it is full
 * is dropped at once (tcp_conn_request(), net/ipv4/tcp_input.c), counted
 * in TcpExtListenOverflows and TcpExtListenDrops: the client's connect()
 * stays in SYN-SENT and retransmits its SYN.  For a listener, sock_diag
 * reports the queue's fill (sk_ack_backlog) and size (sk_max_ack_backlog)
 * in the fields ss prints as Recv-Q and Send-Q, and TCP_INFO reports the
 * same two numbers as tcpi_unacked and tcpi_sacked (tcp_get_info()).
 *
 * How: net.core.somaxconn is 4 in the server's namespace.  The server
 * listens and never accepts.  Clients connect one at a time (each bound to
 * a port of its own, so that both hosts know its 4-tuple); after each,
 * the server waits until the connection is ESTABLISHED on its side, in the
 * queue, before the next client starts, so the queue fills in a known
 * order.  The first connect() that fails shows where it is full.  With
 * TCP_SYNCNT 1 an unanswered connect() gets 3 s, the time one doubling
 * retransmission would take (tcp_model_timeout(), net/ipv4/tcp_timer.c),
 * sends its SYN again within them (every second: since 6.6 the first
 * net.ipv4.tcp_syn_linear_timeouts retransmissions do not back off), and
 * fails with ETIMEDOUT.  Then the server's kernel has nothing for that
 * 4-tuple at all: its SYN never made a request.
 *
 * Variants: the backlog passed to listen(), 2 (below somaxconn: the queue
 * holds 3) and 8 (above: clamped to 4, the queue holds 5).
 */
#include <stdio.h>

#include "socklab.h"

#define NS_SOMAXCONN 4		/* net.core.somaxconn, server */
#define FIRST_PORT 40001	/* client k (from 1) binds FIRST_PORT + k - 1 */
/* The most clients tried: past the claim's min(8, 4) + 2 = 6, so that a
 * queue larger than the claim says would show. */
#define MAX_CLIENTS (2 * NS_SOMAXCONN)

EXPERIMENT(backlog_size) {
	.claim = "the accept queue holds min(backlog, somaxconn) + 1 "
		 "connections; ss -lnt shows its fill as Recv-Q and its size "
		 "as Send-Q",
	.expected = SL_CONFIRMED,
	.topic = SL_TOPIC_QUEUES,
	.belief = "a client that arrives when the queue is full has its SYN "
		  "dropped (not its final ACK): its connect() times out",
	.timeout_s = 10,
};

KNOBS(backlog_size) {
	int backlog;		/* passed to listen() */
};

VARIANT(backlog_size, backlog_2) { .backlog = 2 };
VARIANT(backlog_size, backlog_8) { .backlog = 8 };

SETUP(backlog_size)
{
	char v[16];

	snprintf(v, sizeof(v), "%d", NS_SOMAXCONN);
	sl_sysctl(s, "server", "net.core.somaxconn", v);
}

/* For a listener TCP_INFO describes the accept queue (tcp_get_info(),
 * net/ipv4/tcp.c): tcpi_unacked is how many connections wait in it,
 * tcpi_sacked the backlog the kernel kept. */
static struct tcp_info listener_info(struct sl_role *self, int lfd)
{
	struct tcp_info info;
	socklen_t len = sizeof(info);

	sl_call(self, getsockopt(lfd, IPPROTO_TCP, TCP_INFO, &info, &len));
	return info;
}

ROLE(backlog_size, server)
{
	struct sockaddr_storage a = sl_addr(self, "server", SL_PORT);
	int lfd = sl_call(self, socket(sl_family(self), SOCK_STREAM, 0));
	struct sl_tuple listener = { .local = a };
	char name[32];

	sl_call(self, bind(lfd, (struct sockaddr *)&a, sizeof(a)));
	sl_call(self, listen(lfd, variant->backlog));
	sl_mark(self, "listening");
	sl_try(self, "backlog kept (tcpi_sacked)",
	       listener_info(self, lfd).tcpi_sacked);

	/* Never accept(): each client either waits in the queue, or was
	 * not let in at all. */
	for (int k = 1; k <= MAX_CLIENTS; k++) {
		struct sl_tuple t = {
			.local = a,
			.peer = sl_addr(self, "client", FIRST_PORT + k - 1),
		};

		snprintf(name, sizeof(name), "tried %d", k);
		sl_wait_mark(self, "client", name);
		/* Its connect() has returned.  If it succeeded, the request
		 * its SYN made is here, or already the full socket its
		 * final ACK makes of it; if nothing is here, its SYN never
		 * made one. */
		if (sl_record_tuple(self, &t) == SL_GONE)
			break;
		sl_wait_tuple(self, &t, TCP_ESTABLISHED);
		snprintf(name, sizeof(name), "queued %d", k);
		sl_mark(self, name);
	}
	/* The queue as the kernel counts it, and as ss -lnt shows it. */
	sl_try(self, "accept queue (tcpi_unacked)",
	       listener_info(self, lfd).tcpi_unacked);
	sl_record_tuple(self, &listener);
	sl_mark(self, "looked");
}

ROLE(backlog_size, client)
{
	struct sockaddr_storage srv = sl_addr(self, "server", SL_PORT);
	int syncnt = 1;
	char name[32];

	sl_wait_mark(self, "server", "listening");
	for (int k = 1; k <= MAX_CLIENTS; k++) {
		struct sockaddr_storage a = sl_addr(self, "client",
					       FIRST_PORT + k - 1);
		int fd = sl_call(self, socket(sl_family(self), SOCK_STREAM, 0));
		long ret;

		sl_call(self, bind(fd, (struct sockaddr *)&a, sizeof(a)));
		/* One SYN retransmission, not six: an unanswered connect()
		 * fails after 3 s, not 127. */
		sl_call(self, setsockopt(fd, IPPROTO_TCP, TCP_SYNCNT, &syncnt,
					 sizeof(syncnt)));
		snprintf(name, sizeof(name), "connecting %d", k);
		sl_mark(self, name);
		snprintf(name, sizeof(name), "connect %d", k);
		ret = sl_try(self, name, connect(fd, (struct sockaddr *)&srv,
						 sizeof(srv)));
		snprintf(name, sizeof(name), "tried %d", k);
		sl_mark(self, name);
		if (ret < 0)
			break;
		snprintf(name, sizeof(name), "queued %d", k);
		sl_wait_mark(self, "server", name);
	}
}

PREDICT(backlog_size)
{
	int size = variant->backlog < NS_SOMAXCONN ? variant->backlog :
						     NS_SOMAXCONN;
	char name[32], mark[32];

	/* The kernel keeps min(backlog, somaxconn), and size + 1 clients
	 * get in: their connect()s succeed, and they wait in the queue. */
	expect_ret(p, "server", "backlog kept (tcpi_sacked)", size);
	for (int k = 1; k <= size + 1; k++) {
		snprintf(name, sizeof(name), "connect %d", k);
		expect_ret(p, "client", name, 0);
	}
	expect_ret(p, "server", "accept queue (tcpi_unacked)", size + 1);
	/* ss -lnt: the fill as Recv-Q, the size as Send-Q; never more than
	 * size + 1 waiting. */
	expect_state(p, .host = "server", .state = "LISTEN",
		     .rqueue = size + 1, .wqueue = size);
	expect_no_state(p, .host = "server", .state = "LISTEN",
			.rqueue = size + 2);
	measure_queues(p, "listener", .host = "server", .state = "LISTEN");

	/* The next one does not: its SYN is dropped, never answered, the
	 * client's kernel sends it again, and connect() fails. */
	snprintf(name, sizeof(name), "connect %d", size + 2);
	snprintf(mark, sizeof(mark), "client:connecting %d", size + 2);
	expect_errno(p, "client", name, ETIMEDOUT);
	expect_no_packet(p, .from = "server", .flags = "S.", .after = mark);
	expect_retransmits(p, .host = "client", .min = 1, .after = mark);
	measure_gaps_ms(p, "syn", .from = "client", .flags = "S",
			.after = mark);
	expect_counter(p, "server", "TcpExtListenOverflows", .min = 1);
	expect_counter(p, "server", "TcpExtListenDrops", .min = 1);
}
