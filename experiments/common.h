/* common.h: socket code that several experiments share.
 *
 * Each helper is a few lines of the socket code an experiment would write
 * itself, kept here so that it is written (and explained) once.  An
 * experiment that needs one includes this file after socklab.h:
 *
 *	#include "socklab.h"
 *	#include "../common.h"
 *
 * The helpers record their calls like the role's own (sl_call(): the
 * predictions see "read", "setsockopt" as if the role had called them),
 * and a call that fails makes the variant an ERROR naming it, never a
 * verdict.  Nothing here decides what the claim is about: that stays in
 * the experiment, with sl_try().
 */
#ifndef SL_EXPERIMENTS_COMMON_H
#define SL_EXPERIMENTS_COMMON_H

#include "socklab.h"

/* Reads until the peer's FIN: read() returns 0 once the peer has closed
 * its side (shutdown(SHUT_WR) or close()), with nothing left to read.
 * Data instead means the exchange is not the one the experiment set up:
 * an ERROR, not a verdict. */
static inline void read_fin(struct sl_role *self, int fd)
{
	char c;

	SL_REQUIRE(self, sl_call(self, read(fd, &c, 1)) == 0,
		   "read the peer's FIN: data came instead");
}

/* The passive closer's start, for the experiments where the client closes
 * first (LAST-ACK, TIME-WAIT on the client): listens, accepts, takes the
 * 4-tuple (the connection outlives the descriptor once it is closed:
 * sl_wait_tuple() follows it) and reads the client's FIN.  Returns the
 * accepted socket, now in CLOSE-WAIT, for the caller to close() when the
 * experiment is ready for its FIN to leave. */
static inline int accept_peer_closed(struct sl_role *self,
				     struct sl_tuple *t)
{
	int lfd = sl_listen(self, SL_PORT);
	int fd = sl_call(self, accept(lfd, NULL, NULL));

	*t = sl_tuple(self, fd);
	read_fin(self, fd);
	return fd;
}

/* Keepalive's timers on fd, in seconds, without turning keepalive on: the
 * first probe after idle_s without a segment received (TCP_KEEPIDLE), then
 * one every intvl_s (TCP_KEEPINTVL), and after cnt unanswered ones
 * (TCP_KEEPCNT) the connection is dropped with ETIMEDOUT.  A 0 leaves that
 * one at the namespace's net.ipv4.tcp_keepalive_* default. */
static inline void keepalive_timers(struct sl_role *self, int fd, int idle_s,
				    int intvl_s, int cnt)
{
	if (idle_s)
		sl_call(self, setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle_s,
					 sizeof(idle_s)));
	if (intvl_s)
		sl_call(self, setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL,
					 &intvl_s, sizeof(intvl_s)));
	if (cnt)
		sl_call(self, setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt,
					 sizeof(cnt)));
}

/* Turns keepalive on (SO_KEEPALIVE) and marks "keepalive on" just before:
 * setting it arms the timer for the whole idle time from now, so the
 * first probe comes TCP_KEEPIDLE after the mark, whatever happened before
 * (a fault or a crash takes the harness from tens of milliseconds to
 * seconds on a busy machine).  Predictions time the probes from the mark. */
static inline void keepalive_on(struct sl_role *self, int fd)
{
	int on = 1;

	sl_mark(self, "keepalive on");
	sl_call(self, setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on,
				 sizeof(on)));
}

/* The server of the experiments where the server only has to be there
 * (the client cuts the path, or crashes or reboots the host): listens,
 * accepts the client's connection and marks "accepted", the mark
 * connect_accepted() waits for.  Returns the accepted socket, left open:
 * returning from the role does not close it (a role's sockets stay open
 * until every role has returned), so the connection stays ESTABLISHED on
 * the server for as long as the path or the host lets it. */
static inline int accept_marked(struct sl_role *self)
{
	int lfd = sl_listen(self, SL_PORT);
	int fd = sl_call(self, accept(lfd, NULL, NULL));

	sl_mark(self, "accepted");
	return fd;
}

/* The client's side of accept_marked(): connects, marks "connected" and
 * waits for the server's "accepted".  connect() returns once the handshake
 * is done on the client's side, but a fault or a crash applied then could
 * still beat the server's accept(); after the mark, the connection is
 * ESTABLISHED on both hosts and nothing of the handshake is in flight. */
static inline int connect_accepted(struct sl_role *self)
{
	int fd = sl_connect(self, "server", SL_PORT);

	sl_mark(self, "connected");
	sl_wait_mark(self, "server", "accepted");
	return fd;
}

/* TCP_USER_TIMEOUT on fd, in ms (0 leaves it unset): how long transmitted
 * data may stay unacknowledged before the kernel gives the connection up
 * with ETIMEDOUT, whatever tcp_retries2 says (RFC 5482).  Linux counts it
 * from the first RTO retransmission, not from the write. */
static inline void user_timeout(struct sl_role *self, int fd, int ms)
{
	if (ms)
		sl_call(self, setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT,
					 &ms, sizeof(ms)));
}

/* The socket's retransmission timeout as the kernel has it now, recorded
 * as "tcpi_rto" (TCP_INFO's tcpi_rto, in microseconds; `ss -i` prints it
 * as rto:) for the predictions to compute the retransmissions' times from
 * (sl_predict_ret()), and returned.  After the handshake it is the
 * handshake's RTT plus TCP_RTO_MIN (200 ms), rounded to jiffies: a few
 * milliseconds more on a slow machine than on a fast one, and a timer
 * claim must not assume either.  Read it before the fault: a tail loss
 * probe then comes one RTO after the write and each RTO retransmission
 * doubles it (keepalive-vs-retransmit, retries-thresholds). */
static inline long rto_us(struct sl_role *self, int fd)
{
	struct tcp_info info;
	socklen_t len = sizeof(info);

	sl_call(self, getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len));
	return sl_try(self, "tcpi_rto", (long)info.tcpi_rto);
}

/* The client's end once the path is cut or the peer is gone: writes len
 * bytes (at most 100; 0 for an idle connection) after marking "sending",
 * then blocks in read() until the kernel ends the connection, and marks
 * "done".  The write and the read are recorded with sl_try(): what they
 * return (ETIMEDOUT, ECONNRESET) is what the claim is about, for the
 * predictions to judge, never a reason to stop the role. */
static inline void write_then_read_end(struct sl_role *self, int fd, int len)
{
	char buf[100] = { 0 };

	SL_REQUIRE(self, len >= 0 && len <= (int)sizeof(buf),
		   "write_then_read_end: at most 100 bytes");
	if (len) {
		sl_mark(self, "sending");
		sl_try(self, write(fd, buf, len));
	}
	sl_try(self, read(fd, buf, sizeof(buf)));
	sl_mark(self, "done");
}

/* Reads until EOF (the peer's FIN) and returns how many bytes came, or -1
 * with read()'s errno.  Not recorded by itself: the experiments time and
 * judge the whole transfer, so they record it under a name of their own,
 *	sl_try(self, "read until EOF", read_all(fd));
 * One static buffer of 64 KiB: the bytes are counted, never looked at. */
static inline long read_all(int fd)
{
	static char buf[65536];
	long total = 0;
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		total += n;
	return n < 0 ? -1 : total;
}

#endif
