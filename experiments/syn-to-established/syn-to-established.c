/*
 * syn-to-established
 *
 * Claim: a new SYN on a 4-tuple that is ESTABLISHED (or in SYN_RECV) at the
 * server does not open a second connection: it gets a challenge ACK.
 *
 * Why: RFC 5961 section 4 (blind reset attacks using the SYN bit): in a
 * synchronized state a SYN is answered, whatever its sequence number, with
 * an ACK carrying the receiver's current numbers (a "challenge ACK"), so
 * that a peer that really restarted answers it with a RST and an
 * off-path attacker achieves nothing.  RFC 793 instead reset the connection
 * for a SYN inside the window.  Linux does RFC 5961 in
 * tcp_validate_incoming() (net/ipv4/tcp_input.c): a SYN that fails PAWS or
 * the sequence check, or passes both, goes to syn_challenge, which counts
 * TcpExtTCPSYNChallenge and calls tcp_send_challenge_ack() (counted as
 * TcpExtTCPChallengeACK, rate-limited per socket by
 * net.ipv4.tcp_invalid_ratelimit and per namespace by
 * net.ipv4.tcp_challenge_ack_limit).
 *
 * SYN_RECV at a listener is not a full socket but a request socket, and
 * its segments are judged by tcp_check_req() (net/ipv4/tcp_minisocks.c),
 * which follows RFC 793: a SYN with the initial sequence number again is a
 * retransmission (the SYN-ACK is sent again), a segment outside the window
 * gets an ACK (RFC 793's answer to an unacceptable segment, counted
 * nowhere), and a SYN inside the window is "an error": the request is
 * dropped and the SYN answered with a RST (TcpAttemptFails,
 * TcpExtEmbryonicRsts).
 *
 * How: the client connects; in the SYN_RECV variants the router drops the
 * client's final ACK of the handshake, so the server holds only a request
 * socket (until it retransmits its SYN-ACK, 1 s later).  The client's host
 * then sends a crafted SYN on the same 4-tuple (sl_inject(): a new
 * connection's SYN, with the timestamp clock moved on) and waits for the
 * server's answer.  Then each side looks at the 4-tuple (sock_diag, an ss:
 * line) and the server takes what its listener holds, without blocking:
 * a second connection would be waiting there.  Where the server had
 * accepted the connection, the client sends a byte on it, the server reads
 * it and closes, and the client reads the FIN: the connection carried on.
 *
 * Variants: the server's connection ESTABLISHED or in SYN_RECV, the SYN's
 * sequence number inside the server's receive window (1000 past rcv_nxt)
 * or far outside it (256 MiB past).  The predictions are the claim's: no
 * SYN-ACK and no second connection, an ACK answer (not a RST), and the
 * kernel's challenge-ACK counters.  The SYN_RECV variants are declared not
 * to hold: the request socket answers as RFC 793 says (lab guide).
 */
#include <fcntl.h>

#include "socklab.h"

/* Offsets of the crafted SYN from the server's rcv_nxt: well inside the
 * 64 KB a fresh connection advertises, and far beyond any window this
 * connection could open (autotuning stops at tcp_rmem's 6 MB). */
#define IN_WINDOW 1000u
#define OUT_OF_WINDOW (1u << 28)

EXPERIMENT(syn_to_established) {
	.claim = "a new SYN on a 4-tuple that is ESTABLISHED (or in SYN_RECV) "
		 "at the server does not open a second connection: it gets a "
		 "challenge ACK",
	.expected = SL_NUANCED,
	.topic = SL_TOPIC_ESTABLISHMENT,
	.belief = "on an ESTABLISHED 4-tuple, one challenge ACK and no second "
		  "connection; on a SYN_RECV request socket, RFC 793's answer "
		  "instead: a RST for an in-window SYN (the half-open "
		  "connection is dropped), a plain ACK for an out-of-window "
		  "one",
	.timeout_s = 10,
};

KNOBS(syn_to_established) {
	bool syn_recv;		/* the handshake's final ACK is lost */
	uint32_t offset;	/* the SYN's seq minus the server's rcv_nxt */
};

VARIANT(syn_to_established, established_in_window) {
	.offset = IN_WINDOW,
};
VARIANT(syn_to_established, established_out_of_window) {
	.offset = OUT_OF_WINDOW,
};
VARIANT(syn_to_established, syn_recv_in_window, .holds = false) {
	.syn_recv = true, .offset = IN_WINDOW,
};
VARIANT(syn_to_established, syn_recv_out_of_window, .holds = false) {
	.syn_recv = true, .offset = OUT_OF_WINDOW,
};

SETUP(syn_to_established)
{
	/* The client's first pure ACK is the handshake's third segment. */
	if (variant->syn_recv)
		sl_fault(s, .kind = "drop", .from = "client", .flags = ".",
			 .not_flags = "SFRP", .len = 0);
}

ROLE(syn_to_established, server)
{
	int lfd = sl_listen(self, SL_PORT);
	struct sl_segment syn;
	struct sl_tuple t;
	int fd = -1;
	char c;

	if (!variant->syn_recv) {
		fd = sl_call(self, accept(lfd, NULL, NULL));
		sl_mark(self, "accepted");
		t = sl_tuple(self, fd);
	} else {
		/* Nothing to accept: the 4-tuple from the client's SYN. */
		syn = sl_wait_segment(self, .from = "client", .flags = "S");
		t.local = sl_addr(self, "server", SL_PORT);
		t.peer = sl_addr(self, "client", syn.sport);
	}
	/* What this host holds on the 4-tuple once it has answered the
	 * crafted SYN, and what the listener has to give: a second
	 * connection would be waiting in its accept queue. */
	sl_wait_mark(self, "client", "answered");
	sl_record_tuple(self, &t);
	sl_call(self, fcntl(lfd, F_SETFL, O_NONBLOCK));
	sl_try(self, "accept now", accept(lfd, NULL, NULL));
	if (fd >= 0) {
		/* The connection carries on: the client's byte, then our
		 * FIN. */
		sl_try(self, read(fd, &c, 1));
		sl_mark(self, "closing");
		sl_try(self, close(fd));
	}
	sl_mark(self, "done");
}

ROLE(syn_to_established, client)
{
	struct sockaddr_storage sa = sl_addr(self, "server", SL_PORT);
	struct sl_segment syn, ack, crafted;
	struct sl_tuple t;
	int fd;
	char c = 'x';

	fd = sl_call(self, socket(sl_family(self), SOCK_STREAM, 0));
	sl_wait_mark(self, "server", "listening");
	sl_call(self, connect(fd, (struct sockaddr *)&sa, sizeof(sa)));
	sl_mark(self, "connected");
	t = sl_tuple(self, fd);
	if (!variant->syn_recv)
		sl_wait_mark(self, "server", "accepted");

	/* Our own SYN and final ACK, as the capture saw them leave (the ACK
	 * too, where the router then dropped it): nothing has been sent
	 * since, so the server's rcv_nxt is our SYN's + 1. */
	syn = sl_wait_segment(self, .from = "client", .flags = "S");
	ack = sl_wait_segment(self, .from = "client", .after_segment = &syn);

	/* A new connection's SYN on the same 4-tuple, as a client that
	 * lost its state would send: no ACK, options as Linux writes them,
	 * its timestamp clock moved on. */
	sl_mark(self, "injecting SYN");
	crafted = sl_inject(self, .to = "server",
			    .sport = sl_port(&t.local), .dport = SL_PORT,
			    .flags = "S", .seq = syn.seq + 1 + variant->offset,
			    .mss = 1460, .ts = true, .tsval = ack.tsval + 1,
			    .note = variant->offset == IN_WINDOW ?
				    "seq: the server's rcv_nxt + 1000" :
				    "seq: the server's rcv_nxt + 256 MiB");
	sl_wait_segment(self, .from = "server", .after_segment = &crafted);
	sl_mark(self, "answered");
	/* Our own socket never saw the SYN. */
	sl_record_tuple(self, &t);

	/* An accepted connection carries on: a byte, then the server's FIN
	 * (read() = 0).  A half-open one is left as it is: what the SYN did
	 * to it is in the server's look above. */
	if (!variant->syn_recv) {
		sl_mark(self, "sending");
		sl_try(self, write(fd, &c, 1));
		sl_try(self, read(fd, &c, 1));
	}
	sl_mark(self, "done");
}

PREDICT(syn_to_established)
{
	/* No second connection: the SYN gets no SYN-ACK, and the listener
	 * has nothing more to give. */
	expect_no_packet(p, .from = "server", .flags = "S.",
			 .after = "client:injecting SYN",
			 .before = "client:answered");
	expect_errno(p, "server", "accept now", EAGAIN);
	/* The answer is an ACK of the connection's numbers, not a RST. */
	expect_packet(p, .from = "server", .flags = ".", .not_flags = "SFRP",
		      .len = 0, .after = "client:injecting SYN",
		      .before = "client:answered");
	expect_no_packet(p, .from = "server", .flags = "R",
			 .after = "client:injecting SYN",
			 .before = "client:answered");
	/* ... and the kernel counts it as the challenge ACK of a SYN. */
	expect_counter(p, "server", "TcpExtTCPSYNChallenge", .min = 1,
		       .max = 1);
	expect_counter(p, "server", "TcpExtTCPChallengeACK", .min = 1,
		       .max = 1);
	/* The accepted connection carries on: the server reads the byte
	 * sent after the SYN, and closes. */
	if (!variant->syn_recv) {
		expect_ret(p, "server", "read", 1);
		expect_ret(p, "client", "read", 0);
	}
	measure_packet_ms(p, "answer", .from = "server",
			  .after = "client:injecting SYN");
}
