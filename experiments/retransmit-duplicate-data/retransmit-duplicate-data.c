/*
 * retransmit-duplicate-data
 *
 * Claim: when TCP retransmits a segment the receiver already has, the
 * application still reads the bytes once (the duplicate is dropped and
 * D-SACKed); an application that sends twice delivers the bytes twice.
 *
 * Why: a segment that ends at or before rcv_nxt carries nothing new.
 * tcp_data_queue() (net/ipv4/tcp_input.c) sees it as "a retransmit, 2nd
 * most common case": it counts a lost ACK (DelayedACKLost), records the
 * duplicate range as a D-SACK block (tcp_dsack_set(), RFC 2883: the
 * first SACK block, below the ACK number), ACKs at once and drops the
 * segment (TCP_OLD_DATA).  Nothing reaches the receive queue, so read()
 * sees each byte once, whatever the sender did.  The sequence numbers are
 * what tells a copy from new data: TCP numbers bytes, not writes, and two
 * write() calls of the same bytes are two ranges of sequence numbers, so
 * both are delivered.
 *
 * How: the router drops the server's pure ACKs of the data (a one-shot
 * drop of the next N of them), so the client, hearing nothing, sends its
 * 100 bytes again: first its tail loss probe (RFC 8985), then on its
 * retransmission timer.  Each copy reaches the server, which already has
 * the bytes.  The N-th answer gets through, the client is done, and
 * closes; only then does the server read, so that every copy has arrived
 * before the application looks: it finds 100 bytes queued, reads them
 * and compares them with what the client wrote.
 *
 * Variants: one ACK lost (one copy: the loss probe); three lost (three
 * copies: the probe, then two RTO retransmissions); and no loss, with the
 * application writing the same 100 bytes twice.
 */
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <string.h>

#include "socklab.h"
#include "../common.h"

#define LEN 100

EXPERIMENT(retransmit_duplicate_data) {
	.claim = "a retransmission the receiver already has is read once "
		 "(dropped and D-SACKed); an application that sends twice "
		 "delivers the bytes twice",
	.expected = SL_CONFIRMED,
	.topic = SL_TOPIC_ACKS,
	.belief = "the copy is dropped (TCP_OLD_DATA), D-SACKed and read once",
	.timeout_s = 10,
};

KNOBS(retransmit_duplicate_data) {
	int acks_lost;		/* server ACKs the router drops */
	int writes;		/* write() calls of the same 100 bytes */
};

VARIANT(retransmit_duplicate_data, one_ack_lost) {
	.acks_lost = 1, .writes = 1,
};
VARIANT(retransmit_duplicate_data, three_acks_lost) {
	.acks_lost = 3, .writes = 1,
};
VARIANT(retransmit_duplicate_data, sent_twice) { .writes = 2 };

/* The bytes the client writes: recognisable, and different from one
 * offset to the next, so a byte out of place would show. */
static void fill(char *buf)
{
	for (int i = 0; i < LEN; i++)
		buf[i] = 'a' + i % 26;
}

/* read() until EOF into buf (at most n bytes); the bytes read, or -1. */
static long read_into(int fd, char *buf, long n)
{
	long total = 0;
	ssize_t r;

	while (total < n && (r = read(fd, buf + total, n - total)) > 0)
		total += r;
	if (total < n)
		return r < 0 ? -1 : total;
	/* More than n: count what is left, to report it. */
	while ((r = read(fd, buf, n)) > 0)
		total += r;
	return r < 0 ? -1 : total;
}

ROLE(retransmit_duplicate_data, server)
{
	int lfd = sl_listen(self, SL_PORT);
	int fd = sl_call(self, accept(lfd, NULL, NULL));
	struct sl_tuple t = sl_tuple(self, fd);
	char want[LEN], got[4 * LEN];
	int queued, unlike = 0;
	long n;

	sl_mark(self, "accepted");
	/* Until the client's FIN: every copy has arrived by then. */
	sl_wait_tuple(self, &t, TCP_CLOSE_WAIT);
	sl_call(self, ioctl(fd, SIOCINQ, &queued));
	sl_try(self, "bytes queued", queued);
	n = sl_try(self, "read until EOF", read_into(fd, got, sizeof(got)));
	fill(want);
	for (long i = 0; i < n && i < (long)sizeof(got); i++)
		unlike += got[i] != want[i % LEN];
	sl_try(self, "bytes unlike what was written", unlike);
}

ROLE(retransmit_duplicate_data, client)
{
	int fd = sl_connect(self, "server", SL_PORT);
	char buf[LEN];
	struct sl_segment first, seg, answer;

	fill(buf);
	sl_mark(self, "connected");
	sl_wait_mark(self, "server", "accepted");
	/* The next acks_lost pure ACKs from the server vanish. */
	if (variant->acks_lost)
		sl_fault(self, .kind = "drop", .from = "server", .flags = ".",
			 .not_flags = "SFRP", .len = 0,
			 .count = variant->acks_lost);
	sl_mark(self, "sending");
	for (int i = 0; i < variant->writes; i++)
		sl_try(self, write(fd, buf, LEN));

	/* Until the server's answer to the last segment gets through: the
	 * writes, then one copy per ACK lost. */
	first = sl_wait_segment(self, .from = "client", .after = "sending");
	seg = first;
	for (int i = 1; i < variant->writes + variant->acks_lost; i++)
		seg = sl_wait_segment(self, .from = "client",
				      .after_segment = &seg);
	answer = sl_wait_segment(self, .from = "server",
				 .after_segment = &seg);
	sl_try(self, "last answer: ack - first seq",
	       (int32_t)(answer.ack - first.seq));
	sl_mark(self, "closing");
	sl_try(self, close(fd));
}

PREDICT(retransmit_duplicate_data)
{
	int n = LEN * variant->writes;
	int copies = variant->acks_lost;

	/* On the wire: the client's segments of 100 bytes, and the
	 * retransmissions the kernel counted. */
	expect_packets(p, variant->writes + copies, .from = "client",
		       .len = LEN, .after = "sending");
	expect_retransmits(p, .host = "client", .min = copies, .max = copies);
	/* The server: each copy answered at once by an ACK whose one SACK
	 * block is a D-SACK (it lies below the ACK number: the copy's own
	 * range), counted by the kernel, and dropped as old data. */
	if (copies)
		expect_packets(p, copies, .from = "server", .sack = 1,
			       .dsack = 1, .after = "sending");
	else
		expect_no_packet(p, .from = "server", .dsack = 1);
	expect_counter(p, "server", "TcpExtTCPDSACKOldSent", .min = copies,
		       .max = copies);
	if (copies) {
		expect_drop(p, .host = "server", .reason = "TCP_OLD_DATA",
			    .min = copies, .max = copies);
		/* Only the last answer reached the client. */
		expect_counter(p, "client", "TcpExtTCPDSACKRecv", .min = 1,
			       .max = 1);
	}
	/* What the application sees: the bytes written, once per write. */
	expect_ret(p, "server", "bytes queued", n);
	expect_ret(p, "server", "read until EOF", n);
	expect_ret(p, "server", "bytes unlike what was written", 0);
	expect_ret(p, "client", "last answer: ack - first seq", n);

	/* Recv-Q as the samples saw it while ESTABLISHED (never fails). */
	measure_queues(p, "server", .host = "server", .state = "ESTAB");
	measure_gaps_ms(p, "copies", .from = "client", .len = LEN,
			.after = "sending");
}
