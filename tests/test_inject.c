/* test_inject.c: crafted segments (lib/inject.c) are what they claim to be.
 *
 * A segment with a wrong checksum is dropped by the receiving kernel without
 * a word, which would look exactly like "the kernel ignored it", so each
 * segment built here is checked three ways: its fields by socklab's own
 * decoder, both checksums by a second, deliberately naive implementation
 * written here from RFC 791 and RFC 793, and the whole datagram through
 * libpcap (written to a pcap file and read back, as Wireshark would).
 * Needs no root: nothing is sent.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <pcap/pcap.h>

#include "ipaddr.h"
#include "inject.h"
#include "packet.h"

/* RFC 1071, the slow way: 16-bit big-endian words, 32-bit accumulator,
 * end-around carry at the end.  Shares nothing with lib/inject.c. */
static uint16_t naive_sum(const uint8_t *a, size_t alen, const uint8_t *b,
			  size_t blen)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < alen; i++)
		sum += (i % 2 == 0) ? (uint64_t)a[i] << 8 : a[i];
	/* a is always of even length here (pseudo-header, IP header) */
	for (i = 0; i < blen; i++)
		sum += (i % 2 == 0) ? (uint64_t)b[i] << 8 : b[i];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* A datagram whose checksums are right sums to 0xffff, checksum included. */
static void assert_checksums(const uint8_t *d, size_t len)
{
	size_t ihl = (d[0] & 0x0f) * 4;
	uint8_t pseudo[12];

	assert_int_equal(ihl, 20);
	assert_int_equal((d[2] << 8 | d[3]), len);
	assert_int_equal(naive_sum(d, ihl, NULL, 0), 0xffff);
	memcpy(pseudo, d + 12, 8);
	pseudo[8] = 0;
	pseudo[9] = 6;
	pseudo[10] = (uint8_t)((len - ihl) >> 8);
	pseudo[11] = (uint8_t)(len - ihl);
	assert_int_equal(naive_sum(pseudo, sizeof(pseudo), d + ihl, len - ihl),
			 0xffff);
}

static struct sl_packet base(uint8_t flags)
{
	struct sl_packet p;

	memset(&p, 0, sizeof(p));
	sl_ip_pton("198.18.7.2", &p.saddr);
	sl_ip_pton("198.19.7.2", &p.daddr);
	p.sport = 40000;
	p.dport = 5000;
	p.seq = 0xfffffff0u; /* near the wrap: numbers are unsigned */
	p.ack = 123456789;
	p.flags = flags;
	p.win = 64240;
	p.ttl = 64;
	p.ipid = 0x1234;
	p.opt.wscale = -1;
	return p;
}

static void assert_same(const struct sl_packet *want,
			const struct sl_packet *got)
{
	assert_true(sl_ip_eq(&got->saddr, &want->saddr));
	assert_true(sl_ip_eq(&got->daddr, &want->daddr));
	assert_int_equal(got->sport, want->sport);
	assert_int_equal(got->dport, want->dport);
	assert_int_equal(got->seq, want->seq);
	assert_int_equal(got->ack, want->ack);
	assert_int_equal(got->flags, want->flags);
	assert_int_equal(got->win, want->win);
	assert_int_equal(got->len, want->len);
	assert_int_equal(got->ttl, want->ttl);
	assert_int_equal(got->ipid, want->ipid);
	assert_int_equal(got->opt.mss, want->opt.mss);
	assert_int_equal(got->opt.wscale, want->opt.wscale);
	assert_int_equal(got->opt.sack_ok, want->opt.sack_ok);
	assert_int_equal(got->opt.has_ts, want->opt.has_ts);
	if (want->opt.has_ts) {
		assert_int_equal(got->opt.tsval, want->opt.tsval);
		assert_int_equal(got->opt.tsecr, want->opt.tsecr);
	}
}

/* Builds, checks the checksums, decodes with socklab's decoder and
 * compares.  Returns the length. */
static int build_and_check(const struct sl_packet *p, const void *payload,
			   uint8_t *buf, size_t n)
{
	struct sl_packet got;
	int len = sl_segment_build(p, payload, buf, n);

	assert_true(len > 0);
	assert_checksums(buf, (size_t)len);
	assert_int_equal(sl_packet_decode(buf, (size_t)len, DLT_RAW, &got), 0);
	assert_same(p, &got);
	return len;
}

static void test_syn_with_options(void **state)
{
	struct sl_packet p = base(SL_TH_SYN);
	uint8_t buf[SL_SEGMENT_MAX];
	int len;

	(void)state;
	p.opt.mss = 1460;
	p.opt.sack_ok = true;
	p.opt.has_ts = true;
	p.opt.tsval = 0x80000001u;
	p.opt.tsecr = 0;
	p.opt.wscale = 7;
	len = build_and_check(&p, NULL, buf, sizeof(buf));
	/* Linux's SYN: 20 bytes of options, in its order (tcpdump prints
	 * "mss 1460,sackOK,TS val ... ecr 0,nop,wscale 7"). */
	assert_int_equal(len, 20 + 20 + 20);
	assert_int_equal(buf[20 + 12] >> 4, 10);
	{
		static const uint8_t want[] = { 2,  4,	  0x05, 0xb4, 4, 2, 8,
						10, 0x80, 0,	0,    1, 0, 0,
						0,  0,	  1,	3,    3, 7 };

		assert_memory_equal(buf + 40, want, sizeof(want));
	}
}

static void test_ts_without_sack(void **state)
{
	struct sl_packet p = base(SL_TH_ACK);
	uint8_t buf[SL_SEGMENT_MAX];
	int len;

	(void)state;
	p.opt.has_ts = true;
	p.opt.tsval = 1000;
	p.opt.tsecr = 2000;
	len = build_and_check(&p, NULL, buf, sizeof(buf));
	/* nop,nop,TS: the 12 bytes on every segment of a TS connection */
	assert_int_equal(len, 20 + 20 + 12);
	assert_int_equal(buf[40], 1);
	assert_int_equal(buf[41], 1);
	assert_int_equal(buf[42], 8);
}

static void test_rst(void **state)
{
	struct sl_packet p = base(SL_TH_RST);
	uint8_t buf[SL_SEGMENT_MAX];

	(void)state;
	p.ack = 0;
	p.win = 0;
	assert_int_equal(build_and_check(&p, NULL, buf, sizeof(buf)), 40);
	/* DF set, protocol TCP, TTL as asked */
	assert_int_equal(buf[6], 0x40);
	assert_int_equal(buf[9], 6);
	assert_int_equal(buf[8], 64);
}

static void test_data_with_payload(void **state)
{
	struct sl_packet p = base(SL_TH_PSH | SL_TH_ACK);
	uint8_t buf[SL_SEGMENT_MAX];
	char payload[101];
	int len;

	(void)state;
	/* An odd length: the checksum's last byte is padded with a zero. */
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (char)(0xa0 + i);
	p.len = sizeof(payload);
	p.opt.has_ts = true;
	p.opt.tsval = 7;
	p.opt.tsecr = 8;
	len = build_and_check(&p, payload, buf, sizeof(buf));
	assert_int_equal(len, 20 + 32 + 101);
	assert_memory_equal(buf + 52, payload, sizeof(payload));
	/* One bit flipped anywhere in the payload breaks the TCP checksum:
	 * the check above can fail. */
	buf[60] ^= 0x01;
	{
		uint8_t pseudo[12];

		memcpy(pseudo, buf + 12, 8);
		pseudo[8] = 0;
		pseudo[9] = 6;
		pseudo[10] = 0;
		pseudo[11] = (uint8_t)(len - 20);
		assert_int_not_equal(naive_sum(pseudo, 12, buf + 20,
					       (size_t)len - 20),
				     0xffff);
	}
}

static void test_sizes(void **state)
{
	struct sl_packet p = base(SL_TH_ACK);
	static char big[SL_SEGMENT_MAX];
	uint8_t buf[SL_SEGMENT_MAX];

	(void)state;
	assert_int_equal(sl_segment_build(&p, NULL, buf, 39), -EMSGSIZE);
	assert_int_equal(sl_segment_build(&p, NULL, buf, 40), 40);
	p.len = SL_SEGMENT_MAX - 40 + 1;
	assert_int_equal(sl_segment_build(&p, big, buf, sizeof(buf)),
			 -EMSGSIZE);
	p.len = 10;
	assert_int_equal(sl_segment_build(&p, NULL, buf, sizeof(buf)), -EINVAL);
}

static void test_csum_helpers(void **state)
{
	/* RFC 1071's example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2. */
	static const uint8_t ex[] = { 0x00, 0x01, 0xf2, 0x03,
				      0xf4, 0xf5, 0xf6, 0xf7 };
	static uint8_t ones[70000];

	(void)state;
	assert_int_equal(sl_csum_fold(sl_csum_add(0, ex, sizeof(ex))), 0xddf2);
	/* Long input: the accumulator must not overflow. */
	memset(ones, 0xff, sizeof(ones));
	assert_int_equal(sl_csum_fold(sl_csum_add(0, ones, sizeof(ones))),
			 naive_sum(ones, sizeof(ones), NULL, 0));
}

/* The same segments through libpcap: a pcap file as the captures write
 * them, read back and decoded the way the observer does. */
static void test_through_libpcap(void **state)
{
	struct sl_packet want[3] = { base(SL_TH_SYN), base(SL_TH_RST),
				     base(SL_TH_PSH | SL_TH_ACK) };
	static const char payload[] = "GET / HTTP/1.0\r\n\r\n";
	char path[] = "/tmp/test_inject-XXXXXX";
	char errbuf[PCAP_ERRBUF_SIZE];
	uint8_t buf[SL_SEGMENT_MAX];
	struct pcap_pkthdr *h;
	const u_char *data;
	pcap_dumper_t *d;
	pcap_t *pc;
	int fd, i;

	(void)state;
	want[0].opt.mss = 1460;
	want[0].opt.has_ts = true;
	want[0].opt.tsval = 42;
	want[1].win = 0;
	want[2].len = sizeof(payload) - 1;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	pc = pcap_open_dead(DLT_RAW, 65535);
	assert_non_null(pc);
	d = pcap_dump_open(pc, path);
	assert_non_null(d);
	for (i = 0; i < 3; i++) {
		struct pcap_pkthdr ph = { .ts = { .tv_sec = i } };
		int len = sl_segment_build(&want[i], payload, buf, sizeof(buf));

		assert_true(len > 0);
		ph.caplen = ph.len = (bpf_u_int32)len;
		pcap_dump((u_char *)d, &ph, buf);
	}
	pcap_dump_close(d);
	pcap_close(pc);

	pc = pcap_open_offline(path, errbuf);
	assert_non_null(pc);
	for (i = 0; pcap_next_ex(pc, &h, &data) == 1; i++) {
		struct sl_packet got;

		assert_true(i < 3);
		assert_int_equal(h->caplen, h->len);
		assert_int_equal(sl_packet_decode(data, h->caplen,
						  pcap_datalink(pc), &got),
				 0);
		assert_same(&want[i], &got);
		assert_checksums(data, h->caplen);
		if (i == 2)
			assert_memory_equal(data + h->caplen - want[2].len,
					    payload, want[2].len);
	}
	assert_int_equal(i, 3);
	pcap_close(pc);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syn_with_options),
		cmocka_unit_test(test_ts_without_sack),
		cmocka_unit_test(test_rst),
		cmocka_unit_test(test_data_with_payload),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_csum_helpers),
		cmocka_unit_test(test_through_libpcap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
