/*
 * rst-write-after-peer-close
 *
 * Claim: writing to a connection whose peer has fully closed its socket
 * draws a RST; the next write fails with EPIPE (and raises SIGPIPE unless
 * the signal is ignored or the write says MSG_NOSIGNAL).
 *
 * Why: the peer's close() sends a FIN, which only says "I will send no
 * more": the writer's kernel cannot tell a close() from a
 * shutdown(SHUT_WR), so its socket goes to CLOSE-WAIT and the first write
 * is accepted, queued and sent.  The closed socket, now an orphan in
 * FIN-WAIT-2 with nobody to read, must not take data: RFC 1122 section
 * 4.2.2.13 says a host that closed its receive side answers new data with
 * a RST (below: which socket of the server's answers, and why).
 * The writer's tcp_reset() then picks the error "as BSD sees it": EPIPE
 * for a socket in CLOSE-WAIT, ECONNRESET for one still ESTABLISHED; it
 * stores it in sk_err and closes the socket both ways.  The next write
 * finds sk_err in tcp_sendmsg_locked() and fails with it, and
 * sk_stream_error() (net/core/stream.c) raises SIGPIPE for an EPIPE unless
 * the call passed MSG_NOSIGNAL.
 *
 * Who answers: Linux does not keep the closed socket as a full socket.
 * Once its FIN is acknowledged, tcp_rcv_state_process() swaps the orphan
 * for a TIME-WAIT mini-socket in the FIN-WAIT-2 substate (ss shows
 * "FIN-WAIT-2 ... timer:(timewait,...)") for tcp_fin_timeout, 60 s by
 * default; data for it makes tcp_timewait_state_process()
 * (net/ipv4/tcp_minisocks.c) return TCP_TW_RST, and the RST goes out with
 * the reason TCP_TIMEWAIT_SOCKET.  Once that is gone too, the segment
 * finds no socket and the RST's reason is NO_SOCKET.
 *
 * Variants: how the writer takes SIGPIPE.  A role killed by a signal is a
 * crash for the harness, so the default action is never left in place:
 * a handler counts the signals (sigpipe_caught), the signal is blocked and
 * found pending afterwards (sigpipe_blocked), it is ignored (sigpipe_ign),
 * or the writes pass MSG_NOSIGNAL, with the counting handler installed to
 * show that no signal came (msg_nosignal).  Those four write to the
 * FIN-WAIT-2 mini-socket.  peer_gone writes (with the counting handler)
 * only once the server's FIN-WAIT-2 has timed out, tcp_fin_timeout set to
 * 1 s in the server's namespace: no socket at all is left there.
 */
#include <signal.h>
#include <string.h>

#include "socklab.h"
#include "../common.h"

EXPERIMENT(rst_write_after_peer_close) {
	.claim = "writing to a connection whose peer has fully closed draws "
		 "RST; the next write fails with EPIPE (SIGPIPE unless "
		 "ignored or MSG_NOSIGNAL)",
	.expected = SL_CONFIRMED,
	.belief = "the RST comes from the closed socket's FIN-WAIT-2 "
		  "mini-socket (TCP_TIMEWAIT_SOCKET), or from no socket once "
		  "that has timed out (NO_SOCKET); the error is EPIPE because "
		  "the RST finds the writer in CLOSE-WAIT (ECONNRESET from "
		  "ESTABLISHED)",
	.topic = SL_TOPIC_RST,
	.timeout_s = 10,
};

enum sigpipe_how {
	CAUGHT,			/* a handler counts the signals */
	BLOCKED,		/* sigprocmask() blocks it: it stays pending */
	IGNORED,		/* SIG_IGN: discarded */
	NOSIGNAL,		/* MSG_NOSIGNAL, handler installed */
};

/* peer_gone's net.ipv4.tcp_fin_timeout, in ms. */
#define FIN_TIMEOUT_MS 1000
/* Its timer as sock_diag reads it: in jiffies, by a dump that takes a
 * fraction of a millisecond (the margin timewait-duration uses). */
#define TIMER_TOL_MS 50

KNOBS(rst_write_after_peer_close) {
	enum sigpipe_how sigpipe;
	int peer_gone;		/* write once the server has no socket */
};

VARIANT(rst_write_after_peer_close, sigpipe_caught) { .sigpipe = CAUGHT };
VARIANT(rst_write_after_peer_close, sigpipe_blocked) { .sigpipe = BLOCKED };
VARIANT(rst_write_after_peer_close, sigpipe_ign) { .sigpipe = IGNORED };
VARIANT(rst_write_after_peer_close, msg_nosignal) { .sigpipe = NOSIGNAL };
VARIANT(rst_write_after_peer_close, peer_gone) {
	.sigpipe = CAUGHT, .peer_gone = 1,
};

SETUP(rst_write_after_peer_close)
{
	/* How long the closed socket lingers in FIN-WAIT-2 (60 s by
	 * default): 1 s, for the variant that waits it out. */
	if (variant->peer_gone)
		sl_sysctl(s, "server", "net.ipv4.tcp_fin_timeout", "1");
}

/* SIGPIPE is sent to the thread that wrote (send_sig() in
 * sk_stream_error()), so the handler runs in the role itself, inside or
 * right after the failing call. */
static volatile sig_atomic_t sigpipes;

static void count_sigpipe(int sig)
{
	(void)sig;
	sigpipes++;
}

/* Sets up SIGPIPE the variant's way, before the first write. */
static void take_sigpipe(struct sl_role *self, enum sigpipe_how how)
{
	struct sigaction sa = { .sa_handler = count_sigpipe };
	sigset_t pipe_only;

	sigemptyset(&sa.sa_mask);
	sigemptyset(&pipe_only);
	sigaddset(&pipe_only, SIGPIPE);
	if (how == BLOCKED) {
		sl_call(self, sigprocmask(SIG_BLOCK, &pipe_only, NULL));
	} else if (how == IGNORED) {
		sa.sa_handler = SIG_IGN;
		sl_call(self, sigaction(SIGPIPE, &sa, NULL));
	} else {
		sl_call(self, sigaction(SIGPIPE, &sa, NULL));
	}
}

/* 1 when a SIGPIPE waits, blocked, for this thread or the process. */
static long sigpipe_pending(void)
{
	sigset_t set;

	if (sigpending(&set) < 0)
		return -1;
	return sigismember(&set, SIGPIPE);
}

/* The writes: write() as a plain program would, or send() with
 * MSG_NOSIGNAL. */
static long put(int fd, const void *buf, size_t len, enum sigpipe_how how)
{
	if (how == NOSIGNAL)
		return send(fd, buf, len, MSG_NOSIGNAL);
	return write(fd, buf, len);
}

ROLE(rst_write_after_peer_close, server)
{
	int lfd = sl_listen(self, SL_PORT);
	int fd = sl_call(self, accept(lfd, NULL, NULL));
	struct sl_tuple t = sl_tuple(self, fd);

	/* The server program is done with the port too, as one that exits
	 * would be: a listener left there would answer the client's data
	 * itself (with a RST for an unexpected ACK, reason TCP_FLAGS) once
	 * the connection's own socket is gone. */
	sl_call(self, "close the listener", close(lfd));
	/* The RTO bounds FIN-WAIT-2 from below (see the predictions). */
	if (variant->peer_gone)
		rto_us(self, fd);
	/* A full close: nothing unread, no linger, so an ordinary FIN. */
	sl_mark(self, "closing");
	sl_try(self, close(fd));
	/* The client's data must meet the orphan in FIN-WAIT-2 (its FIN
	 * acknowledged), not a FIN-WAIT-1 still waiting for that ACK: that
	 * one is still a full socket, which rejects data elsewhere
	 * (tcp_rcv_state_process(), reason TCP_ABORT_ON_DATA).  Or, for
	 * peer_gone, no socket at all: FIN-WAIT-2 timed out. */
	sl_wait_tuple(self, &t, TCP_FIN_WAIT2);
	if (variant->peer_gone)
		sl_wait_tuple(self, &t, SL_GONE);
	sl_mark(self, "peer closed");
}

ROLE(rst_write_after_peer_close, client)
{
	char buf[100];
	int fd = sl_connect(self, "server", SL_PORT);
	struct sl_tuple t = sl_tuple(self, fd);

	memset(buf, 'x', sizeof(buf));
	/* The server's FIN: read() returns 0, end of file.  Our socket is in
	 * CLOSE-WAIT, and nothing tells us whether the peer only shut its
	 * sending side or closed the socket. */
	read_fin(self, fd);
	sl_wait_mark(self, "server", "peer closed");
	take_sigpipe(self, variant->sigpipe);

	sl_mark(self, "writing");
	sl_try(self, "first write", put(fd, buf, sizeof(buf),
					variant->sigpipe));
	if (variant->sigpipe == CAUGHT || variant->sigpipe == NOSIGNAL)
		sl_try(self, "SIGPIPE after first write", (long)sigpipes);
	/* The RST that answers it, as the server's capture saw it leave,
	 * and then our kernel's account of it: the socket has left the
	 * tables (CLOSE).  Only then is the second write's error decided,
	 * whatever the scheduler does. */
	sl_wait_segment(self, .from = "server", .flags = "R",
			.after = "writing");
	sl_wait_tuple(self, &t, SL_GONE);

	sl_mark(self, "writing again");
	sl_try(self, "second write", put(fd, buf, sizeof(buf),
					 variant->sigpipe));
	if (variant->sigpipe == BLOCKED)
		sl_try(self, "SIGPIPE pending", sigpipe_pending());
	else if (variant->sigpipe != IGNORED)
		sl_try(self, "SIGPIPE after second write", (long)sigpipes);
	/* And a reader?  The FIN came first: read() keeps returning end of
	 * file and never reports the RST. */
	sl_try(self, "read after RST", read(fd, buf, sizeof(buf)));
	sl_mark(self, "done");
}

/* How long the kernel keeps FIN-WAIT-2: tcp_fin_time() (tcp.h) takes
 * tcp_fin_timeout, but never less than 3.5 RTO ((rto << 2) - (rto >> 1)),
 * so that the peer's FIN, were it lost, has room for a retransmission or
 * two.  On this machine the RTO is 200-odd ms and 1 s wins; in an emulated
 * guest the handshake's RTT can make it 600 ms, and FIN-WAIT-2 then lasts
 * 2.1 s.  The RTO is the one TCP_INFO gave just before close(): the ACK of
 * the FIN is one more RTT sample, which moves it a little, so when 3.5 RTO
 * wins the tolerance is 10 % of it. */
static void expect_fin_wait2_timer(struct sl_predict *p)
{
	double fw2 = FIN_TIMEOUT_MS, tol = TIMER_TOL_MS;
	long rto;

	if (sl_predict_ret(p, "server", "tcpi_rto", "us", &rto) < 0)
		return;
	if (3.5 * rto / 1000 > fw2) {
		fw2 = 3.5 * rto / 1000;
		tol = fw2 / 10 > tol ? fw2 / 10 : tol;
	}
	expect_state_timer(p, .host = "server", .state = "FIN-WAIT-2",
			   .min_ms = (int)(fw2 - tol),
			   .max_ms = (int)(fw2 + tol + 0.5));
}

PREDICT(rst_write_after_peer_close)
{
	/* The first write is taken and sent: its 100 bytes leave, and the
	 * closed server answers them with a RST (before the second write,
	 * which waits for it). */
	expect_ret(p, "client", "first write", 100);
	expect_packets(p, 1, .from = "client", .len = 100, .after = "writing");
	expect_packets(p, 1, .from = "server", .flags = "R", .after = "writing",
		       .before = "writing again");
	measure_packet_ms(p, "rst_after_write", .from = "server",
			  .flags = "R", .after = "writing");
	/* No signal for a write that succeeded. */
	if (variant->sigpipe == CAUGHT || variant->sigpipe == NOSIGNAL)
		expect_ret(p, "client", "SIGPIPE after first write", 0);

	/* The second write fails with EPIPE and sends nothing. */
	expect_errno(p, "client", "second write", EPIPE);
	expect_no_packet(p, .from = "client", .after = "writing again");
	/* The signal: delivered once, pending once, or none at all. */
	if (variant->sigpipe == CAUGHT)
		expect_ret(p, "client", "SIGPIPE after second write", 1);
	else if (variant->sigpipe == NOSIGNAL)
		expect_ret(p, "client", "SIGPIPE after second write", 0);
	else if (variant->sigpipe == BLOCKED)
		expect_ret(p, "client", "SIGPIPE pending", 1);

	expect_ret(p, "client", "read after RST", 0);

	/* What the kernel says.  The RST came from the FIN-WAIT-2
	 * mini-socket (TCP_TIMEWAIT_SOCKET), which goes without a state
	 * change of its own, or, once that was gone, from no socket at all
	 * (NO_SOCKET).  Either way, not from the full socket's "abort on
	 * data" path.  The client's socket took the RST in CLOSE-WAIT and
	 * went to CLOSE. */
	expect_kernel(p, .host = "server", .event = "tcp_send_reset",
		      .reason = variant->peer_gone ? "NO_SOCKET" :
						     "TCP_TIMEWAIT_SOCKET",
		      .after = "writing", .before = "writing again", .min = 1,
		      .max = 1);
	expect_no_kernel(p, .host = "server", .event = "inet_sock_set_state",
			 .after = "writing", .before = "done");
	expect_counter(p, "server", "TcpExtTCPAbortOnData", .max = 0);
	expect_counter(p, "server", "TcpOutRsts", .min = 1, .max = 1);
	expect_kernel(p, .host = "client", .event = "tcp_receive_reset",
		      .after = "writing", .min = 1, .max = 1);
	expect_state_change(p, .host = "client", .old_state = "CLOSE_WAIT",
			    .state = "CLOSE", .after = "writing");
	/* peer_gone: the FIN-WAIT-2 mini-socket was set to last
	 * tcp_fin_timeout, 1 s, by its own timer as sock_diag reads it.
	 * When it actually went is left to the run's waits: the timer fires
	 * in a softirq and the look that finds it gone is a process, both
	 * late by however busy the machine is (over 100 ms on a loaded one),
	 * and the NO_SOCKET reason above already says it had gone. */
	if (variant->peer_gone)
		expect_fin_wait2_timer(p);
}
