/*
 * timewait-reuse-client
 *
 * Claim: a client that holds a 4-tuple in TIME_WAIT cannot bind() the port
 * again without SO_REUSEADDR (EADDRINUSE), and connect() to the same peer
 * from it fails (EADDRNOTAVAIL) unless net.ipv4.tcp_tw_reuse allows it with
 * timestamps.  (The server's side of the same 4-tuple story is
 * timewait-reuse-server.)
 *
 * Why (net/ipv4/inet_connection_sock.c, inet_hashtables.c, tcp_ipv4.c):
 *  - bind() to a port that a TIME-WAIT socket holds conflicts unless both
 *    the new socket and the old one had SO_REUSEADDR (inet_bind_conflict():
 *    sk->sk_reuse && sk2->sk_reuse; the TIME-WAIT socket keeps the old
 *    socket's sk_reuse as tw_reuse).
 *  - connect() must find a 4-tuple no socket holds.  __inet_check_established()
 *    finds the TIME-WAIT and asks tcp_twsk_unique() whether it may be taken
 *    over.  With a port chosen by connect() (the ephemeral search of
 *    __inet_hash_connect()), it may if the old connection used timestamps,
 *    net.ipv4.tcp_tw_reuse is 1 (2 means loopback only) and the TIME-WAIT
 *    is older than net.ipv4.tcp_tw_reuse_delay (1000 ms by default).  With
 *    a port the socket bound itself, the same function is called without
 *    the caller's "twp" and the timestamp alone decides: tcp_tw_reuse and
 *    its delay are not consulted at all.  Otherwise EADDRNOTAVAIL.
 *
 * How: the client closes first (it holds the TIME-WAIT) and then tries
 * again from the same port: bind() to it, or connect() with a port range of
 * that one port, which forces connect() to pick it.
 *
 * Variants: one per combination that changes the answer: explicit bind()
 * with SO_REUSEADDR on neither, the new, the old, or both sockets (both:
 * with timestamps and tcp_tw_reuse=0; without timestamps and
 * tcp_tw_reuse=1); ephemeral port with tcp_tw_reuse 0, 1 (at once and after
 * the delay), 1 with a delay of 3000 ms, 1 without timestamps, 2.
 *
 * The predictions are the claim's words, applied to each variant's knobs;
 * two variants do not hold, which the lab guide explains.
 */
#include <stdio.h>
#include <stdlib.h>

#include "socklab.h"
#include "../common.h"

/* The client's port, old and new: bound, or the only one connect() may
 * pick. */
#define PORT 40000
#define DEFAULT_DELAY_MS 1000

EXPERIMENT(timewait_reuse_client) {
	.claim = "a client holding a 4-tuple in TIME_WAIT needs SO_REUSEADDR "
		 "to bind() its port again and tcp_tw_reuse with timestamps "
		 "to connect() from it",
	/* First believed CONFIRMED; the kernel shows conditions the
	 * claim does not state (see the lab guide). */
	.expected = SL_NUANCED,
	.topic = SL_TOPIC_TIME_WAIT,
	.belief = "on Linux 6.18: bind() needs SO_REUSEADDR on both the old "
		  "and the new socket; after an explicit bind(), connect() to "
		  "the same peer succeeds with timestamps whatever "
		  "tcp_tw_reuse says",
	.timeout_s = 10,
};

KNOBS(timewait_reuse_client) {
	bool ephemeral;		/* connect() picks the port (a range of one) */
	bool reuse_old;		/* SO_REUSEADDR on the socket that closed */
	bool reuse_new;		/* SO_REUSEADDR on the new socket */
	bool no_ts;		/* net.ipv4.tcp_timestamps=0 on the client */
	const char *tw_reuse;	/* net.ipv4.tcp_tw_reuse on the client */
	const char *tw_reuse_delay;	/* ms; default 1000 */
	int ntries;		/* connect() attempts, at these TIME-WAIT ages: */
	int try_ms[2];
};

/* ---- bind() ---- */
VARIANT(timewait_reuse_client, bind_reuseaddr_none) { .ntries = 0 };
VARIANT(timewait_reuse_client, bind_reuseaddr_new_only, .holds = false) {
	.reuse_new = true,
};
VARIANT(timewait_reuse_client, bind_reuseaddr_old_only) { .reuse_old = true };
VARIANT(timewait_reuse_client, bind_reuseaddr_both_tw_reuse_0,
	.holds = false) {
	.reuse_old = true, .reuse_new = true, .tw_reuse = "0",
	.ntries = 1, .try_ms = { 0 },
};
VARIANT(timewait_reuse_client, bind_reuseaddr_both_no_ts_tw_reuse_1) {
	.reuse_old = true, .reuse_new = true, .no_ts = true, .tw_reuse = "1",
	.ntries = 1, .try_ms = { 1100 },
};
/* ---- connect() picks the port ---- */
VARIANT(timewait_reuse_client, ephemeral_tw_reuse_0) {
	.ephemeral = true, .tw_reuse = "0", .ntries = 2, .try_ms = { 0, 1100 },
};
VARIANT(timewait_reuse_client, ephemeral_tw_reuse_1) {
	.ephemeral = true, .tw_reuse = "1", .ntries = 2, .try_ms = { 0, 1100 },
};
/* The delay became a sysctl only recently; an older kernel waits a fixed
 * second (its tcp_twsk_unique() compares whole seconds), so there this
 * variant has no question to ask and is not run. */
VARIANT(timewait_reuse_client, ephemeral_tw_reuse_1_delay_3000,
	.needs_sysctl = "net.ipv4.tcp_tw_reuse_delay") {
	.ephemeral = true, .tw_reuse = "1", .tw_reuse_delay = "3000",
	.ntries = 2, .try_ms = { 1100, 3100 },
};
VARIANT(timewait_reuse_client, ephemeral_tw_reuse_1_no_ts) {
	.ephemeral = true, .tw_reuse = "1", .no_ts = true,
	.ntries = 1, .try_ms = { 1100 },
};
VARIANT(timewait_reuse_client, ephemeral_tw_reuse_2) {
	.ephemeral = true, .tw_reuse = "2", .ntries = 1, .try_ms = { 1100 },
};

SETUP(timewait_reuse_client)
{
	if (variant->ephemeral)
		sl_sysctl(s, "client", "net.ipv4.ip_local_port_range",
			  "40000 40000");
	if (variant->no_ts)
		sl_sysctl(s, "client", "net.ipv4.tcp_timestamps", "0");
	if (variant->tw_reuse)
		sl_sysctl(s, "client", "net.ipv4.tcp_tw_reuse",
			  variant->tw_reuse);
	if (variant->tw_reuse_delay)
		sl_sysctl(s, "client", "net.ipv4.tcp_tw_reuse_delay",
			  variant->tw_reuse_delay);
}

/* Each connect() attempt is recorded and marked under its TIME-WAIT age,
 * so that the predictions can tell them apart. */
static const char *try_name(int ms, char *buf, size_t n)
{
	snprintf(buf, n, "connect at %d ms", ms);
	return buf;
}

/* socket(), with SO_REUSEADDR if asked. */
static int client_socket(struct sl_role *self, bool reuse)
{
	int one = 1;
	int fd = sl_call(self, socket(sl_family(self), SOCK_STREAM, 0));

	if (reuse)
		sl_call(self, setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
					 sizeof(one)));
	return fd;
}

ROLE(timewait_reuse_client, client)
{
	struct sockaddr_storage srv = sl_addr(self, "server", SL_PORT);
	struct sockaddr_storage me = sl_addr(self, "client", PORT);
	struct sl_tuple t;
	char name[32];
	int fd;

	/* The first connection, from PORT, closed first: TIME-WAIT here. */
	fd = client_socket(self, variant->reuse_old);
	if (!variant->ephemeral)
		sl_call(self, bind(fd, (struct sockaddr *)&me, sizeof(me)));
	sl_wait_mark(self, "server", "listening");
	sl_call(self, connect(fd, (struct sockaddr *)&srv, sizeof(srv)));
	t = sl_tuple(self, fd);
	SL_REQUIRE(self, sl_port(&t.local) == PORT,
		   "the first connection on the port under test");
	sl_mark(self, "closing");
	sl_try(self, close(fd));
	sl_wait_tuple(self, &t, TCP_TIME_WAIT);
	sl_mark(self, "in TIME-WAIT");

	fd = -1;
	if (!variant->ephemeral) {
		sl_mark(self, "binding again");
		fd = client_socket(self, variant->reuse_new);
		if (sl_try(self, "bind again",
			   bind(fd, (struct sockaddr *)&me, sizeof(me))) < 0) {
			close(fd);
			goto done;
		}
	}
	for (int i = 0; i < variant->ntries; i++) {
		if (variant->try_ms[i] > 0)
			sl_wait_timewait_ms(self, &t, variant->try_ms[i]);
		if (fd < 0)
			fd = client_socket(self, variant->reuse_new);
		try_name(variant->try_ms[i], name, sizeof(name));
		sl_mark(self, name);
		if (sl_try(self, name, connect(fd, (struct sockaddr *)&srv,
					       sizeof(srv))) == 0)
			break;
		/* A failed connect() leaves the socket unconnected; a new
		 * one for the next try, as a program would. */
		if (variant->ephemeral) {
			close(fd);
			fd = -1;
		}
	}
done:
	sl_mark(self, "done");
}

ROLE(timewait_reuse_client, server)
{
	struct sl_tuple t;
	/* The client closes first. */
	int fd = accept_peer_closed(self, &t);

	sl_try(self, close(fd));
	/* The listener stays open until every role has ended: a new
	 * connection completes in its backlog. */
}

/* What the claim says connect() does at a TIME-WAIT age: tcp_tw_reuse
 * allows it (1; 2 is loopback only) with timestamps, once the TIME-WAIT is
 * older than tcp_tw_reuse_delay. */
static bool claim_connect_ok(const struct timewait_reuse_client__knobs *v,
			     int ms)
{
	int delay = v->tw_reuse_delay ? atoi(v->tw_reuse_delay) :
					DEFAULT_DELAY_MS;

	return v->tw_reuse && atoi(v->tw_reuse) == 1 && !v->no_ts &&
	       ms > delay;
}

PREDICT(timewait_reuse_client)
{
	char name[32], next[32];

	if (!variant->ephemeral) {
		if (!variant->reuse_new) {
			expect_errno(p, "client", "bind again", EADDRINUSE);
			return;
		}
		expect_ret(p, "client", "bind again", 0);
	}
	for (int i = 0; i < variant->ntries; i++) {
		try_name(variant->try_ms[i], name, sizeof(name));
		if (i + 1 < variant->ntries)
			try_name(variant->try_ms[i + 1], next, sizeof(next));
		if (claim_connect_ok(variant, variant->try_ms[i])) {
			expect_ret(p, "client", name, 0);
			expect_packet(p, .from = "server", .flags = "S.",
				      .after = name, .answer_ms = 50);
		} else {
			/* Refused on the spot: not even a SYN. */
			expect_errno(p, "client", name, EADDRNOTAVAIL);
			expect_no_packet(p, .from = "client", .flags = "S",
					 .after = name,
					 .before = i + 1 < variant->ntries ?
						   next : NULL);
		}
	}
}
