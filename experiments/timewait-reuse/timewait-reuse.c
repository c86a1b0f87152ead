/*
 * timewait-reuse
 *
 * Claim: a new connection on a 4-tuple that one side holds in TIME_WAIT:
 * (a) the client cannot bind() the port without SO_REUSEADDR (EADDRINUSE),
 * and connect() to the same peer fails (EADDRNOTAVAIL) unless
 * net.ipv4.tcp_tw_reuse allows it with timestamps; (b) a server in
 * TIME_WAIT accepts a new SYN on the same 4-tuple when its sequence number
 * (or timestamp) is higher than the old connection's (the "Berkeley
 * exception" of RFC 1122 section 4.2.2.13), and answers otherwise.
 *
 * Why, client side (net/ipv4/inet_connection_sock.c, inet_hashtables.c,
 * tcp_ipv4.c):
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
 * Why, server side (tcp_timewait_state_process() in tcp_minisocks.c): a SYN
 * on the 4-tuple of a TIME-WAIT is let through to the listener
 * (TCP_TW_SYN) when PAWS does not reject it and either its sequence number
 * is after the old connection's rcv_nxt or its timestamp is newer than the
 * last one seen; otherwise the TIME-WAIT answers with an ACK of the old
 * connection.  A SYN whose timestamp is older is rejected by PAWS whatever
 * its sequence number.
 *
 * How: on the client side the client closes first (it holds the TIME-WAIT)
 * and then tries again from the same port: bind() to it, or connect() with
 * a port range of that one port, which forces connect() to pick it.  On
 * the server side the server closes first, and once the client's end is
 * gone the client host sends a crafted SYN on the old 4-tuple, its
 * sequence number and timestamp set relative to the client's FIN as the
 * capture saw it; or the client simply connects again from the same port.
 *
 * Variants: one per combination that changes the answer.  Client side:
 * explicit bind() with SO_REUSEADDR on neither, the new, the old, or both
 * sockets (both: with timestamps and tcp_tw_reuse=0; without timestamps
 * and tcp_tw_reuse=1); ephemeral port with tcp_tw_reuse 0, 1 (at once and
 * after the delay), 1 with a delay of 3000 ms, 1 without timestamps, 2.
 * Server side: a SYN with a higher or lower sequence number without
 * timestamps; a lower one with a newer or older timestamp; a higher one
 * with an older timestamp; and a real connect() from the same port.
 *
 * The predictions are the claim's words, applied to each variant's knobs;
 * two variants do not hold, which the lab guide explains.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "socklab.h"

/* The client's port, old and new: bound, or the only one connect() may
 * pick. */
#define PORT 40000
#define DEFAULT_DELAY_MS 1000

EXPERIMENT(timewait_reuse) {
	.claim = "a 4-tuple in TIME_WAIT: the client needs SO_REUSEADDR to "
		 "bind() it and tcp_tw_reuse with timestamps to connect() from "
		 "it; a server in TIME_WAIT accepts a SYN with a higher "
		 "sequence number (or timestamp) and answers otherwise",
	/* CLAIMS.md believes CONFIRMED; the kernel shows conditions the
	 * claim does not state (see the lab guide). */
	.expected = SL_NUANCED,
	.timeout_s = 10,
};

KNOBS(timewait_reuse) {
	bool server_side;	/* the server closes first, holds the TIME-WAIT */
	/* client side */
	bool ephemeral;		/* connect() picks the port (a range of one) */
	bool reuse_old;		/* SO_REUSEADDR on the socket that closed */
	bool reuse_new;		/* SO_REUSEADDR on the new socket */
	bool no_ts;		/* net.ipv4.tcp_timestamps=0 on the client */
	const char *tw_reuse;	/* net.ipv4.tcp_tw_reuse on the client */
	const char *tw_reuse_delay;	/* ms; default 1000 */
	int ntries;		/* connect() attempts, at these TIME-WAIT ages: */
	int try_ms[2];
	/* server side */
	bool inject;		/* a crafted SYN, else connect() from the port */
	int seq_delta;		/* its seq minus the old connection's next */
	int ts_delta;		/* its TS minus the client's last; 0: no TS */
};

/* ---- client side: bind() ---- */
VARIANT(timewait_reuse, bind_reuseaddr_none) { .ntries = 0 };
VARIANT(timewait_reuse, bind_reuseaddr_new_only, .holds = false) {
	.reuse_new = true,
};
VARIANT(timewait_reuse, bind_reuseaddr_old_only) { .reuse_old = true };
VARIANT(timewait_reuse, bind_reuseaddr_both_tw_reuse_0, .holds = false) {
	.reuse_old = true, .reuse_new = true, .tw_reuse = "0",
	.ntries = 1, .try_ms = { 0 },
};
VARIANT(timewait_reuse, bind_reuseaddr_both_no_ts_tw_reuse_1) {
	.reuse_old = true, .reuse_new = true, .no_ts = true, .tw_reuse = "1",
	.ntries = 1, .try_ms = { 1100 },
};
/* ---- client side: connect() picks the port ---- */
VARIANT(timewait_reuse, ephemeral_tw_reuse_0) {
	.ephemeral = true, .tw_reuse = "0", .ntries = 2, .try_ms = { 0, 1100 },
};
VARIANT(timewait_reuse, ephemeral_tw_reuse_1) {
	.ephemeral = true, .tw_reuse = "1", .ntries = 2, .try_ms = { 0, 1100 },
};
VARIANT(timewait_reuse, ephemeral_tw_reuse_1_delay_3000) {
	.ephemeral = true, .tw_reuse = "1", .tw_reuse_delay = "3000",
	.ntries = 2, .try_ms = { 1100, 3100 },
};
VARIANT(timewait_reuse, ephemeral_tw_reuse_1_no_ts) {
	.ephemeral = true, .tw_reuse = "1", .no_ts = true,
	.ntries = 1, .try_ms = { 1100 },
};
VARIANT(timewait_reuse, ephemeral_tw_reuse_2) {
	.ephemeral = true, .tw_reuse = "2", .ntries = 1, .try_ms = { 1100 },
};
/* ---- server side ---- */
VARIANT(timewait_reuse, server_syn_seq_higher_no_ts) {
	.server_side = true, .no_ts = true, .inject = true,
	.seq_delta = 100000,
};
VARIANT(timewait_reuse, server_syn_seq_lower_no_ts) {
	.server_side = true, .no_ts = true, .inject = true,
	.seq_delta = -100000,
};
VARIANT(timewait_reuse, server_syn_seq_lower_ts_newer) {
	.server_side = true, .inject = true, .seq_delta = -100000,
	.ts_delta = 1000,
};
VARIANT(timewait_reuse, server_syn_seq_lower_ts_older) {
	.server_side = true, .inject = true, .seq_delta = -100000,
	.ts_delta = -1000,
};
VARIANT(timewait_reuse, server_syn_seq_higher_ts_older, .holds = false) {
	.server_side = true, .inject = true, .seq_delta = 100000,
	.ts_delta = -1000,
};
VARIANT(timewait_reuse, server_connect_same_port) { .server_side = true };

SETUP(timewait_reuse)
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

static const char *try_name(int ms, char *buf, size_t n)
{
	snprintf(buf, n, "connect at %d ms", ms);
	return buf;
}

/* socket(), SO_REUSEADDR if asked, bind() to PORT unless ephemeral. */
static int client_socket(struct sl_role *self, bool reuse, bool do_bind,
			 const char *bind_name)
{
	struct sockaddr_in me = sl_addr(self, "client", PORT);
	int one = 1;
	int fd = sl_record(self, "socket", socket(AF_INET, SOCK_STREAM, 0));

	SL_REQUIRE(self, fd >= 0, "socket");
	if (reuse)
		SL_REQUIRE(self, sl_record(self, "setsockopt(SO_REUSEADDR)",
					   setsockopt(fd, SOL_SOCKET,
						      SO_REUSEADDR, &one,
						      sizeof(one))) == 0,
			   "SO_REUSEADDR");
	if (do_bind && sl_record(self, bind_name,
				 bind(fd, (struct sockaddr *)&me,
				      sizeof(me))) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The client closes first, then tries the same port again. */
static void client_again(struct sl_role *self,
			 const struct timewait_reuse__knobs *variant)
{
	struct sockaddr_in srv = sl_addr(self, "server", SL_PORT);
	struct sl_tuple t;
	char name[32];
	int fd;

	fd = client_socket(self, variant->reuse_old, !variant->ephemeral,
			   "bind");
	SL_REQUIRE(self, fd >= 0, "bind the first socket");
	sl_wait_mark(self, "server", "listening");
	SL_REQUIRE(self, sl_record(self, "connect",
				   connect(fd, (struct sockaddr *)&srv,
					   sizeof(srv))) == 0,
		   "connect");
	t = sl_tuple(self, fd);
	SL_REQUIRE(self, ntohs(t.local.sin_port) == PORT,
		   "the first connection on the port under test");
	sl_mark(self, "closing");
	sl_record(self, "close", close(fd));
	sl_wait_tuple(self, &t, TCP_TIME_WAIT);
	sl_mark(self, "in TIME-WAIT");

	fd = -1;
	if (!variant->ephemeral) {
		sl_mark(self, "binding again");
		fd = client_socket(self, variant->reuse_new, true,
				   "bind again");
		if (fd < 0)
			goto done;
	}
	for (int i = 0; i < variant->ntries; i++) {
		if (variant->try_ms[i] > 0)
			sl_wait_timewait_ms(self, &t, variant->try_ms[i]);
		if (fd < 0)
			fd = client_socket(self, variant->reuse_new, false,
					   NULL);
		try_name(variant->try_ms[i], name, sizeof(name));
		sl_mark(self, name);
		if (sl_record(self, name, connect(fd, (struct sockaddr *)&srv,
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

/* The server closed first and holds the TIME-WAIT; our end is gone.  A SYN
 * on the old 4-tuple, crafted or our kernel's own. */
static void client_syn(struct sl_role *self,
		       const struct timewait_reuse__knobs *variant)
{
	struct sockaddr_in srv = sl_addr(self, "server", SL_PORT);
	struct sl_segment fin, syn;
	struct sl_tuple t;
	char buf[1], note[96];
	int fd;

	fd = client_socket(self, false, true, "bind");
	SL_REQUIRE(self, fd >= 0, "bind");
	sl_wait_mark(self, "server", "listening");
	SL_REQUIRE(self, sl_record(self, "connect",
				   connect(fd, (struct sockaddr *)&srv,
					   sizeof(srv))) == 0,
		   "connect");
	t = sl_tuple(self, fd);
	SL_REQUIRE(self, sl_record(self, "read", read(fd, buf, 1)) == 0,
		   "read the server's FIN");
	sl_record(self, "close", close(fd));
	sl_wait_mark(self, "server", "in TIME-WAIT");
	/* LAST-ACK until the server's ACK: then the port is free here, and
	 * only the server remembers the 4-tuple. */
	sl_wait_tuple(self, &t, SL_GONE);
	/* The old connection's numbers, as the capture saw our FIN: the
	 * server's TIME-WAIT expects FIN + 1 next, and its last timestamp
	 * from us is the FIN's. */
	fin = sl_wait_segment(self, .from = "client", .to = "server",
			      .flags = "F");

	if (variant->inject) {
		snprintf(note, sizeof(note), "our FIN + 1 %c %d",
			 variant->seq_delta < 0 ? '-' : '+',
			 abs(variant->seq_delta));
		if (variant->ts_delta)
			snprintf(note + strlen(note), sizeof(note) - strlen(note),
				 ", TS val our FIN's %c %d",
				 variant->ts_delta < 0 ? '-' : '+',
				 abs(variant->ts_delta));
		sl_mark(self, "injecting SYN");
		syn = sl_inject(self, .to = "server", .sport = PORT,
				.dport = SL_PORT, .flags = "S",
				.seq = sl_segment_next(&fin) +
				       (uint32_t)variant->seq_delta,
				.mss = 1460, .ts = variant->ts_delta != 0,
				.tsval = fin.tsval +
					 (uint32_t)variant->ts_delta,
				.note = note);
		sl_wait_segment(self, .from = "server", .to = "client",
				.after = &syn);
	} else {
		fd = client_socket(self, false, true, "bind again");
		SL_REQUIRE(self, fd >= 0, "bind the old port again");
		sl_mark(self, "reconnecting");
		sl_record(self, "connect again",
			  connect(fd, (struct sockaddr *)&srv, sizeof(srv)));
		/* What decided it, in numbers: our kernel's new ISN and
		 * timestamp against the old connection's. */
		syn = sl_wait_segment(self, .from = "client", .flags = "S",
				      .after = &fin);
		sl_record(self, "new ISN - (old FIN + 1)",
			  (long)(int32_t)(syn.seq - sl_segment_next(&fin)));
		sl_record(self, "new TS - old FIN's TS",
			  (long)(int32_t)(syn.tsval - fin.tsval));
	}
	sl_mark(self, "done");
}

ROLE(timewait_reuse, client)
{
	if (variant->server_side)
		client_syn(self, variant);
	else
		client_again(self, variant);
}

ROLE(timewait_reuse, server)
{
	int lfd = sl_listen(self, SL_PORT);
	int fd = sl_record(self, "accept", accept(lfd, NULL, NULL));
	struct sl_tuple t;
	char buf[1];

	SL_REQUIRE(self, fd >= 0, "accept");
	t = sl_tuple(self, fd);
	if (variant->server_side) {
		sl_mark(self, "closing");
		sl_record(self, "close", close(fd));
		sl_wait_tuple(self, &t, TCP_TIME_WAIT);
		sl_mark(self, "in TIME-WAIT");
	} else {
		SL_REQUIRE(self, sl_record(self, "read", read(fd, buf, 1)) == 0,
			   "read the client's FIN");
		sl_record(self, "close", close(fd));
	}
	/* The listener stays: a new connection completes in its backlog. */
	sl_wait_mark(self, "client", "done");
}

/* What the claim says connect() does at a TIME-WAIT age: tcp_tw_reuse
 * allows it (1; 2 is loopback only) with timestamps, once the TIME-WAIT is
 * older than tcp_tw_reuse_delay. */
static bool claim_connect_ok(const struct timewait_reuse__knobs *v, int ms)
{
	int delay = v->tw_reuse_delay ? atoi(v->tw_reuse_delay) :
					DEFAULT_DELAY_MS;

	return v->tw_reuse && atoi(v->tw_reuse) == 1 && !v->no_ts &&
	       ms > delay;
}

PREDICT(timewait_reuse)
{
	char name[32], next[32];

	if (variant->server_side) {
		bool accept = !variant->inject || variant->seq_delta > 0 ||
			      variant->ts_delta > 0;
		const char *mark = variant->inject ? "injecting SYN" :
						     "reconnecting";

		/* The TIME-WAIT itself is not predicted: the server waited
		 * for it before the client went on (a precondition). */
		if (accept) {
			/* A new connection: the listener answers SYN-ACK. */
			expect_packet(p, .from = "server", .flags = "S.",
				      .after = mark, .within_ms = 50);
			if (!variant->inject)
				expect_ret(p, "client", "connect again", 0);
		} else {
			/* Answered, but not with a SYN-ACK. */
			expect_no_packet(p, .from = "server", .flags = "S",
					 .after = mark);
			expect_packet(p, .from = "server", .not_flags = "S",
				      .after = mark, .within_ms = 50);
		}
		return;
	}

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
				      .after = name, .within_ms = 50);
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
