/*
 * shutdown-vs-close
 *
 * Claim: shutdown(SHUT_WR) sends a FIN at once while the socket can still
 * read (a half-close); close() on one of several descriptors of a socket
 * (dup(), fork()) sends nothing; shutdown() acts on the connection
 * whatever the descriptor count.  SHUT_RD sends no packet.
 *
 * Why: close() works on the descriptor.  It drops one reference to the
 * open file, and only the last one reaches sock_close() and tcp_close(),
 * where the FIN is sent (fs/file_table.c, __fput()).  shutdown() works on
 * the socket the descriptor points at: tcp_shutdown() (net/ipv4/tcp.c)
 * moves the connection to FIN-WAIT-1 and sends the FIN for SEND_SHUTDOWN,
 * however many descriptors share it, and leaves the receive side alone,
 * so the peer can keep sending and we keep reading (RFC 9293 section
 * 3.6: the CLOSE call means "I have no more to send").  For SHUT_RD
 * tcp_shutdown() does nothing at all: TCP has no segment for "I will read
 * no more".  inet_shutdown() only sets RCV_SHUTDOWN in sk_shutdown, which
 * makes a read() on an empty queue return 0 instead of blocking.  The
 * receive path of an ESTABLISHED socket (tcp_rcv_established(),
 * tcp_data_queue()) never looks at RCV_SHUTDOWN, so data that comes later
 * is still acknowledged, queued, and handed to the next read().  Only
 * once the socket has sent its FIN as well does RCV_SHUTDOWN count:
 * tcp_rcv_state_process() answers new data in FIN-WAIT-1 or FIN-WAIT-2
 * with a RST when the socket is shut for receiving ("RFC 1122 says we
 * MUST send a reset"), the socket's own read() then gets ECONNRESET.
 *
 * Variants: the server ends its side five ways while the client keeps
 * talking.  shut_wr: shutdown(SHUT_WR), then it reads the client's reply.
 * close_one_dup: close() of one of two dup()ed descriptors, then a write
 * and the final close() on the other.  close_one_fork: the same with the
 * other descriptor in a child process, whose exit is the last close().
 * shut_wr_one_dup: shutdown(SHUT_WR) on one of two dup()ed descriptors,
 * then a send() and a read() on the other.  shut_rd: shutdown(SHUT_RD), a
 * read(), then what the client sends afterwards.  shut_rdwr: both at once,
 * shutdown(SHUT_RDWR), and what the client's reply meets then.
 */
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/wait.h>

#include "socklab.h"

EXPERIMENT(shutdown_vs_close) {
	.claim = "shutdown(SHUT_WR) sends FIN at once and the socket still "
		 "reads; close() of one of several descriptors sends nothing; "
		 "shutdown() acts whatever the descriptor count; SHUT_RD "
		 "sends no packet",
	.expected = SL_CONFIRMED,
	.belief = "after SHUT_RD, data that comes later is still "
		  "acknowledged, queued and read while ESTABLISHED; once the "
		  "FIN has left too (SHUT_RDWR), new data draws a RST "
		  "(TCP_ABORT_ON_DATA)",
	.topic = SL_TOPIC_TEARDOWN,
	.timeout_s = 10,
};

enum ending {
	SHUT_WR_ONLY,		/* shutdown(fd, SHUT_WR) */
	CLOSE_ONE_DUP,		/* close(fd) while dup(fd) stays open */
	CLOSE_ONE_FORK,		/* close(fd), a child holding its copy */
	SHUT_WR_ONE_DUP,	/* shutdown(fd, SHUT_WR), dup(fd) open */
	SHUT_RD_ONLY,		/* shutdown(fd, SHUT_RD) */
	SHUT_RDWR_BOTH,		/* shutdown(fd, SHUT_RDWR) */
};

KNOBS(shutdown_vs_close) {
	enum ending ending;
};

VARIANT(shutdown_vs_close, shut_wr) { .ending = SHUT_WR_ONLY };
VARIANT(shutdown_vs_close, close_one_dup) { .ending = CLOSE_ONE_DUP };
VARIANT(shutdown_vs_close, close_one_fork) { .ending = CLOSE_ONE_FORK };
VARIANT(shutdown_vs_close, shut_wr_one_dup) { .ending = SHUT_WR_ONE_DUP };
VARIANT(shutdown_vs_close, shut_rd) { .ending = SHUT_RD_ONLY };
VARIANT(shutdown_vs_close, shut_rdwr) { .ending = SHUT_RDWR_BOTH };

/* Bytes waiting to be read, as ss's Recv-Q shows them. */
static long recv_queue(int fd)
{
	int bytes;

	return ioctl(fd, SIOCINQ, &bytes) < 0 ? -1 : bytes;
}

/* The child of close_one_fork: it holds its copy of the connection until
 * the parent writes a byte to the pipe (or goes away: end of file), then
 * writes 100 bytes on it and exits.  Exiting closes every descriptor the
 * child has, and the copy of the connection is the last one: that is
 * when the FIN leaves.  Plain code, no recording: the parent times it. */
static void __attribute__((noreturn)) child_holds(int fd, int go)
{
	char buf[100] = { 0 };

	if (read(go, buf, 1) >= 0 && write(fd, buf, 100) == 100)
		_exit(0);
	_exit(1);
}

ROLE(shutdown_vs_close, server)
{
	char buf[100] = { 0 };
	int lfd = sl_listen(self, SL_PORT);
	int fd = sl_call(self, accept(lfd, NULL, NULL));
	struct sl_tuple t = sl_tuple(self, fd);
	int other, go[2], status;
	pid_t child;

	switch (variant->ending) {
	case SHUT_WR_ONLY:
		sl_mark(self, "shutting down");
		sl_try(self, shutdown(fd, SHUT_WR));
		sl_mark(self, "shut down");
		/* The client answers our FIN with 100 bytes: the read side
		 * is still open. */
		sl_wait_recvq(self, fd, 100);
		sl_try(self, "read after shutdown", read(fd, buf, 100));
		break;
	case CLOSE_ONE_DUP:
		other = sl_call(self, dup(fd));
		sl_mark(self, "closing one");
		sl_try(self, close(fd));
		/* The connection is untouched: the other descriptor writes
		 * as before, and only its close() ends the connection. */
		sl_mark(self, "writing on the other");
		sl_try(self, "write on the other", write(other, buf, 100));
		sl_wait_mark(self, "client", "read 100");
		sl_mark(self, "closing the other");
		sl_try(self, "close the other", close(other));
		sl_mark(self, "closed the other");
		break;
	case CLOSE_ONE_FORK:
		sl_call(self, pipe(go));
		/* fork() is called plainly: the child must record nothing
		 * and leave the run alone. */
		child = fork();
		if (child == 0) {
			close(go[1]);
			child_holds(fd, go[0]);
		}
		SL_REQUIRE(self, child > 0, "fork()");
		close(go[0]);
		sl_mark(self, "closing one");
		sl_try(self, close(fd));
		sl_mark(self, "telling the child");
		sl_try(self, write(go[1], "x", 1));
		sl_try(self, "child's exit status",
		       waitpid(child, &status, 0) == child ? status : -1);
		sl_mark(self, "child exited");
		break;
	case SHUT_WR_ONE_DUP:
		other = sl_call(self, dup(fd));
		sl_mark(self, "shutting down");
		sl_try(self, shutdown(fd, SHUT_WR));
		sl_mark(self, "shut down");
		/* The other descriptor is the same socket: it cannot send
		 * either (MSG_NOSIGNAL: EPIPE without SIGPIPE), and it still
		 * reads what the client sends. */
		sl_try(self, "send on the other",
		       send(other, buf, 100, MSG_NOSIGNAL));
		sl_wait_recvq(self, other, 100);
		sl_try(self, "read on the other", read(other, buf, 100));
		break;
	case SHUT_RDWR_BOTH:
		sl_mark(self, "shutting down");
		sl_try(self, shutdown(fd, SHUT_RDWR));
		sl_mark(self, "shut down");
		/* The client replies to our FIN with 100 bytes.  Wait for
		 * our kernel's answer to them, whatever it is, then read. */
		sl_wait_segment(self, .from = "server",
				.after = "client:replying");
		sl_try(self, "read after shutdown", read(fd, buf, 100));
		break;
	case SHUT_RD_ONLY:
		sl_mark(self, "shutting down read");
		sl_try(self, shutdown(fd, SHUT_RD));
		/* Nothing is queued: read() returns end of file at once
		 * instead of blocking. */
		sl_try(self, "read after SHUT_RD", read(fd, buf, 100));
		sl_mark(self, "read shut");
		/* The client now sends 100 bytes.  Whether they are taken
		 * or thrown away is the question: wait for the client's
		 * write to have returned and for our kernel's answer to the
		 * segment, whatever it is, and only then look. */
		sl_wait_mark(self, "client", "sent");
		sl_wait_segment(self, .from = "server",
				.after = "client:sending");
		sl_try(self, "ioctl(SIOCINQ)", recv_queue(fd));
		sl_record_tuple(self, &t);	/* what ss shows now */
		sl_try(self, "read after data came", read(fd, buf, 100));
		break;
	}
	sl_mark(self, "done");
}

ROLE(shutdown_vs_close, client)
{
	char buf[100] = { 0 };
	int fd = sl_connect(self, "server", SL_PORT);

	switch (variant->ending) {
	case SHUT_WR_ONLY:
	case SHUT_WR_ONE_DUP:
	case SHUT_RDWR_BOTH:
		/* The server's FIN: end of file.  Then a reply, which the
		 * half-closed server still reads. */
		sl_try(self, "read EOF", read(fd, buf, sizeof(buf)));
		sl_mark(self, "replying");
		sl_try(self, write(fd, buf, 100));
		break;
	case CLOSE_ONE_DUP:
	case CLOSE_ONE_FORK:
		/* The server's 100 bytes, written on the descriptor it kept,
		 * then its FIN once that one is closed too. */
		sl_wait_recvq(self, fd, 100);
		sl_try(self, read(fd, buf, 100));
		sl_mark(self, "read 100");
		sl_try(self, "read EOF", read(fd, buf, sizeof(buf)));
		break;
	case SHUT_RD_ONLY:
		sl_wait_mark(self, "server", "read shut");
		sl_mark(self, "sending");
		sl_try(self, write(fd, buf, 100));
		sl_mark(self, "sent");
		break;
	}
	sl_wait_mark(self, "server", "done");
}

PREDICT(shutdown_vs_close)
{
	switch (variant->ending) {
	case SHUT_WR_ONLY:
	case SHUT_WR_ONE_DUP:
		/* The FIN leaves inside shutdown(), before it returns,
		 * however many descriptors there are, and the client reads
		 * end of file. */
		expect_packet(p, .from = "server", .flags = "F",
			      .after = "shutting down", .before = "shut down");
		measure_packet_ms(p, "fin_after_shutdown", .from = "server",
				  .flags = "F", .after = "shutting down");
		expect_state_change(p, .host = "server",
				    .old_state = "ESTABLISHED",
				    .state = "FIN_WAIT1",
				    .after = "shutting down",
				    .before = "shut down");
		expect_ret(p, "client", "read EOF", 0);
		/* Half-closed: the client's reply arrives, is acknowledged
		 * and read. */
		expect_packets(p, 1, .from = "client", .len = 100,
			       .after = "replying");
		expect_packet(p, .from = "server", .flags = ".", .len = 0,
			      .after = "replying", .before = "done");
		if (variant->ending == SHUT_WR_ONLY) {
			expect_ret(p, "server", "read after shutdown", 100);
		} else {
			expect_errno(p, "server", "send on the other", EPIPE);
			expect_ret(p, "server", "read on the other", 100);
		}
		/* The server's socket is half-closed, not gone: FIN-WAIT-2
		 * once its FIN is acknowledged, still a full socket. */
		expect_state(p, .host = "server", .state = "FIN-WAIT-2",
			     .before = "done");
		expect_no_packet(p, .from = "server", .flags = "R");
		break;
	case CLOSE_ONE_DUP:
		/* close() of one descriptor: no packet at all, and the
		 * connection stays ESTABLISHED. */
		expect_no_packet(p, .after = "closing one",
				 .before = "writing on the other");
		expect_no_packet(p, .from = "server", .flags = "F",
				 .before = "closing the other");
		expect_no_state_change(p, .host = "server",
				       .old_state = "ESTABLISHED",
				       .before = "closing the other");
		/* The other descriptor writes as before; its close() is the
		 * last one, and that one sends the FIN. */
		expect_ret(p, "server", "write on the other", 100);
		expect_ret(p, "client", "read", 100);
		expect_packet(p, .from = "server", .flags = "F",
			      .after = "closing the other",
			      .before = "closed the other");
		measure_packet_ms(p, "fin_after_last_close", .from = "server",
				  .flags = "F", .after = "closing the other");
		expect_state_change(p, .host = "server",
				    .old_state = "ESTABLISHED",
				    .state = "FIN_WAIT1",
				    .after = "closing the other",
				    .before = "closed the other");
		expect_ret(p, "client", "read EOF", 0);
		break;
	case CLOSE_ONE_FORK:
		/* The parent's close() sends nothing; the child's exit, the
		 * last close(), sends its data and the FIN, before waitpid()
		 * returns. */
		expect_no_packet(p, .after = "closing one",
				 .before = "telling the child");
		expect_no_packet(p, .from = "server", .flags = "F",
				 .before = "telling the child");
		expect_no_state_change(p, .host = "server",
				       .old_state = "ESTABLISHED",
				       .before = "telling the child");
		expect_ret(p, "server", "child's exit status", 0);
		expect_packets(p, 1, .from = "server", .len = 100,
			       .after = "telling the child");
		expect_packet(p, .from = "server", .flags = "F",
			      .after = "telling the child",
			      .before = "child exited");
		expect_ret(p, "client", "read", 100);
		expect_ret(p, "client", "read EOF", 0);
		break;
	case SHUT_RDWR_BOTH:
		/* The FIN, at once, as for SHUT_WR. */
		expect_packet(p, .from = "server", .flags = "F",
			      .after = "shutting down", .before = "shut down");
		expect_ret(p, "client", "read EOF", 0);
		/* But the reply meets a socket shut for reading that has
		 * sent its FIN: one RST, no ACK for the data, and the
		 * server's own socket is reset (its read() reports it). */
		expect_packets(p, 1, .from = "client", .len = 100,
			       .after = "replying");
		expect_packets(p, 1, .from = "server", .flags = "R",
			       .after = "replying", .before = "done");
		expect_no_packet(p, .from = "server", .flags = ".",
				 .not_flags = "R", .after = "replying",
				 .before = "done");
		expect_kernel(p, .host = "server", .event = "tcp_send_reset",
			      .reason = "TCP_ABORT_ON_DATA",
			      .after = "replying");
		expect_state_change(p, .host = "server",
				    .old_state = "FIN_WAIT2", .state = "CLOSE",
				    .after = "replying");
		expect_counter(p, "server", "TcpExtTCPAbortOnData", .min = 1,
			       .max = 1);
		expect_errno(p, "server", "read after shutdown", ECONNRESET);
		break;
	case SHUT_RD_ONLY:
		/* SHUT_RD: no packet, and read() returns 0 at once. */
		expect_no_packet(p, .from = "server",
				 .after = "shutting down read",
				 .before = "sending");
		expect_ret(p, "server", "read after SHUT_RD", 0);
		expect_no_state_change(p, .host = "server",
				       .old_state = "ESTABLISHED",
				       .before = "done");
		/* The data sent afterwards: acknowledged, queued and read,
		 * as if SHUT_RD had never been called. */
		expect_ret(p, "client", "write", 100);
		expect_packet(p, .from = "server", .flags = ".", .len = 0,
			      .after = "sending", .before = "done");
		expect_no_packet(p, .from = "server", .flags = "R",
				 .before = "done");
		expect_ret(p, "server", "ioctl(SIOCINQ)", 100);
		expect_state(p, .host = "server", .state = "ESTAB",
			     .rqueue = 100, .after = "sending",
			     .before = "done");
		expect_ret(p, "server", "read after data came", 100);
		break;
	}
}
