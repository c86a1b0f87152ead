/*
 * timewait-reuse-server
 *
 * Claim: a server that holds a 4-tuple in TIME_WAIT accepts a new SYN on
 * it when the SYN's sequence number (or timestamp) is higher than the old
 * connection's (the "Berkeley exception" of RFC 1122 section 4.2.2.13),
 * and answers otherwise.  (The client's side of the same 4-tuple story is
 * timewait-reuse-client.)
 *
 * Why (tcp_timewait_state_process() in net/ipv4/tcp_minisocks.c): a SYN on
 * the 4-tuple of a TIME-WAIT is let through to the listener (TCP_TW_SYN)
 * when PAWS does not reject it and either its sequence number is after the
 * old connection's rcv_nxt or its timestamp is newer than the last one
 * seen; otherwise the TIME-WAIT answers with an ACK of the old connection.
 * A SYN whose timestamp is older is rejected by PAWS whatever its sequence
 * number.
 *
 * How: the server closes first, and once the client's end is gone the
 * client host sends a crafted SYN on the old 4-tuple, its sequence number
 * and timestamp set relative to the client's FIN as the capture saw it; or
 * the client simply connects again from the same port.
 *
 * Variants: a SYN with a higher or lower sequence number without
 * timestamps; a lower one with a newer or older timestamp; a higher one
 * with an older timestamp; and a real connect() from the same port.
 *
 * The predictions are the claim's words, applied to each variant's knobs;
 * one variant does not hold, which the lab guide explains.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "socklab.h"
#include "../common.h"

/* The client's port, for the old connection and the new SYN. */
#define PORT 40000

EXPERIMENT(timewait_reuse_server) {
	.claim = "a server in TIME_WAIT accepts a SYN on the same 4-tuple "
		 "with a higher sequence number (or timestamp) and answers "
		 "otherwise",
	/* First believed CONFIRMED; the kernel shows a condition the
	 * claim does not state (see the lab guide). */
	.expected = SL_NUANCED,
	.topic = SL_TOPIC_TIME_WAIT,
	.belief = "on Linux 6.18: a newer timestamp wins over a higher "
		  "sequence number",
	.timeout_s = 10,
};

KNOBS(timewait_reuse_server) {
	bool no_ts;		/* net.ipv4.tcp_timestamps=0 on the client */
	bool inject;		/* a crafted SYN, else connect() from the port */
	int seq_delta;		/* its seq minus the old connection's next */
	int ts_delta;		/* its TS minus the client's last; 0: no TS */
};

VARIANT(timewait_reuse_server, server_syn_seq_higher_no_ts) {
	.no_ts = true, .inject = true, .seq_delta = 100000,
};
VARIANT(timewait_reuse_server, server_syn_seq_lower_no_ts) {
	.no_ts = true, .inject = true, .seq_delta = -100000,
};
VARIANT(timewait_reuse_server, server_syn_seq_lower_ts_newer) {
	.inject = true, .seq_delta = -100000, .ts_delta = 1000,
};
VARIANT(timewait_reuse_server, server_syn_seq_lower_ts_older) {
	.inject = true, .seq_delta = -100000, .ts_delta = -1000,
};
VARIANT(timewait_reuse_server, server_syn_seq_higher_ts_older,
	.holds = false) {
	.inject = true, .seq_delta = 100000, .ts_delta = -1000,
};
VARIANT(timewait_reuse_server, server_connect_same_port) { .inject = false };

SETUP(timewait_reuse_server)
{
	if (variant->no_ts)
		sl_sysctl(s, "client", "net.ipv4.tcp_timestamps", "0");
}

/* The crafted SYN, its numbers relative to our FIN as the capture saw it:
 * the server's TIME-WAIT expects FIN + 1 next, and its last timestamp
 * from us is the FIN's.  Returns it as sent. */
static struct sl_segment inject_syn(struct sl_role *self,
				    const struct timewait_reuse_server__knobs *v,
				    const struct sl_segment *fin)
{
	char note[96];

	snprintf(note, sizeof(note), "our FIN + 1 %c %d",
		 v->seq_delta < 0 ? '-' : '+', abs(v->seq_delta));
	if (v->ts_delta)
		snprintf(note + strlen(note), sizeof(note) - strlen(note),
			 ", TS val our FIN's %c %d", v->ts_delta < 0 ? '-' : '+',
			 abs(v->ts_delta));
	sl_mark(self, "injecting SYN");
	return sl_inject(self, .to = "server", .sport = PORT, .dport = SL_PORT,
			 .flags = "S",
			 .seq = sl_segment_next(fin) + (uint32_t)v->seq_delta,
			 .mss = 1460, .ts = v->ts_delta != 0,
			 .tsval = fin->tsval + (uint32_t)v->ts_delta,
			 .note = note);
}

/* The client's kernel sends the SYN itself, from the old port; the role
 * records the numbers that decided it against the old connection's. */
static void connect_again(struct sl_role *self, const struct sl_segment *fin)
{
	struct sockaddr_storage srv = sl_addr(self, "server", SL_PORT);
	struct sockaddr_storage me = sl_addr(self, "client", PORT);
	struct sl_segment syn;
	int fd = sl_call(self, socket(sl_family(self), SOCK_STREAM, 0));

	sl_call(self, "bind again", bind(fd, (struct sockaddr *)&me,
					 sizeof(me)));
	sl_mark(self, "reconnecting");
	sl_try(self, "connect again",
	       connect(fd, (struct sockaddr *)&srv, sizeof(srv)));
	syn = sl_wait_segment(self, .from = "client", .flags = "S",
			      .after_segment = fin);
	sl_try(self, "new ISN - (old FIN + 1)",
	       (int32_t)(syn.seq - sl_segment_next(fin)));
	sl_try(self, "new TS - old FIN's TS", (int32_t)(syn.tsval - fin->tsval));
}

ROLE(timewait_reuse_server, client)
{
	struct sockaddr_storage srv = sl_addr(self, "server", SL_PORT);
	struct sockaddr_storage me = sl_addr(self, "client", PORT);
	struct sl_segment fin, syn;
	struct sl_tuple t;
	int fd = sl_call(self, socket(sl_family(self), SOCK_STREAM, 0));

	sl_call(self, bind(fd, (struct sockaddr *)&me, sizeof(me)));
	sl_wait_mark(self, "server", "listening");
	sl_call(self, connect(fd, (struct sockaddr *)&srv, sizeof(srv)));
	t = sl_tuple(self, fd);
	read_fin(self, fd);
	sl_try(self, close(fd));
	sl_wait_mark(self, "server", "in TIME-WAIT");
	/* LAST-ACK until the server's ACK: then the port is free here, and
	 * only the server remembers the 4-tuple. */
	sl_wait_tuple(self, &t, SL_GONE);
	fin = sl_wait_segment(self, .from = "client", .to = "server",
			      .flags = "F");

	if (variant->inject) {
		syn = inject_syn(self, variant, &fin);
		sl_wait_segment(self, .from = "server", .to = "client",
				.after_segment = &syn);
	} else {
		connect_again(self, &fin);
	}
	sl_mark(self, "done");
}

ROLE(timewait_reuse_server, server)
{
	int lfd = sl_listen(self, SL_PORT);
	int fd = sl_call(self, accept(lfd, NULL, NULL));
	struct sl_tuple t = sl_tuple(self, fd);

	sl_mark(self, "closing");
	sl_try(self, close(fd));
	sl_wait_tuple(self, &t, TCP_TIME_WAIT);
	sl_mark(self, "in TIME-WAIT");
	/* The listener stays open until every role has ended: a new
	 * connection completes in its backlog. */
}

PREDICT(timewait_reuse_server)
{
	bool accept = !variant->inject || variant->seq_delta > 0 ||
		      variant->ts_delta > 0;
	const char *mark = variant->inject ? "injecting SYN" : "reconnecting";

	/* The TIME-WAIT itself is not predicted: the server waited for it
	 * before the client went on (a precondition). */
	if (accept) {
		/* A new connection: the listener answers SYN-ACK. */
		expect_packet(p, .from = "server", .flags = "S.",
			      .after = mark, .answer_ms = 50);
		if (!variant->inject)
			expect_ret(p, "client", "connect again", 0);
	} else {
		/* Answered, but not with a SYN-ACK. */
		expect_no_packet(p, .from = "server", .flags = "S",
				 .after = mark);
		expect_packet(p, .from = "server", .not_flags = "S",
			      .after = mark, .answer_ms = 50);
	}
}
