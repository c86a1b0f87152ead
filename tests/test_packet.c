/*
 * test_packet.c: decoding frames and printing them as `tcpdump -nn` does.
 *
 * Two kinds of input.  Frames built here byte by byte, for the decoder's
 * edges (every truncation, every link type, what is not ours).  And pcaps
 * in tests/data/ with tcpdump's own text for them, made by
 * tests/data/make-pcaps.py: a real exchange between two namespaces
 * (handshake*.pcap) and a set of odd segments (options.pcap).  Every TCP
 * line tcpdump printed must come out of sl_packet_format() byte for byte,
 * absolute (tcpdump -S) and relative.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pcap/pcap.h>

#include "ipaddr.h"
#include "packet.h"

#define ISN_C 3000000000u
#define ISN_S 123456789u

/* ---- frames built by hand -------------------------------------------- */

static void be16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void be32(uint8_t *p, uint32_t v)
{
	be16(p, v >> 16);
	be16(p + 2, v & 0xffff);
}

struct seg {
	const char *src, *dst;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win, urp;
	const uint8_t *opts; /* a multiple of 4 bytes */
	size_t optlen;
	size_t paylen; /* zero bytes of payload */
};

static void addr(uint8_t *p, const char *s)
{
	unsigned int a, b, c, d;

	assert_int_equal(sscanf(s, "%u.%u.%u.%u", &a, &b, &c, &d), 4);
	p[0] = a;
	p[1] = b;
	p[2] = c;
	p[3] = d;
}

/* IPv4 + TCP + options + payload into buf; returns the length. */
static size_t ip_tcp(uint8_t *buf, const struct seg *s)
{
	size_t thl = 20 + s->optlen, n = 20 + thl + s->paylen;

	assert_int_equal(s->optlen % 4, 0);
	memset(buf, 0, n);
	buf[0] = 0x45;
	be16(buf + 2, n);
	be16(buf + 4, 0x1234);
	be16(buf + 6, 0x4000);
	buf[8] = 64;
	buf[9] = IPPROTO_TCP;
	addr(buf + 12, s->src ? s->src : "198.18.3.2");
	addr(buf + 16, s->dst ? s->dst : "198.19.3.2");
	be16(buf + 20, s->sport ? s->sport : 41234);
	be16(buf + 22, s->dport ? s->dport : 5000);
	be32(buf + 24, s->seq);
	be32(buf + 28, s->ack);
	buf[32] = (thl / 4) << 4;
	buf[33] = s->flags;
	be16(buf + 34, s->win);
	be16(buf + 38, s->urp);
	if (s->optlen)
		memcpy(buf + 40, s->opts, s->optlen);
	return n;
}

/* Puts a link-layer header of the given type in front of an IP packet. */
static size_t wrap(int linktype, uint8_t *out, const uint8_t *ip, size_t n,
		   uint16_t ethertype)
{
	size_t h = 0;

	switch (linktype) {
	case DLT_EN10MB:
		memset(out, 0x02, 12);
		be16(out + 12, ethertype);
		h = 14;
		break;
	case DLT_LINUX_SLL:
		memset(out, 0, 16);
		be16(out + 2, 1); /* ARPHRD_ETHER */
		be16(out + 4, 6);
		be16(out + 14, ethertype);
		h = 16;
		break;
	case DLT_LINUX_SLL2:
		memset(out, 0, 20);
		be16(out, ethertype);
		be32(out + 4, 7); /* ifindex */
		be16(out + 8, 1);
		out[11] = 6;
		h = 20;
		break;
	case DLT_RAW:
	case DLT_IPV4:
		break;
	default:
		fail();
	}
	memcpy(out + h, ip, n);
	return h + n;
}

static const uint8_t syn_opts[] = {
	2, 4,  0x05, 0xb4,		       /* mss 1460 */
	4, 2,				       /* sackOK */
	8, 10, 0,    0,	   0, 123, 0, 0, 0, 0, /* TS val 123 ecr 0 */
	1,				       /* nop */
	3, 3,  7,			       /* wscale 7 */
};

static const uint8_t ts_opts[] = {
	1, 1, 8, 10, 0, 0, 0, 5, 0, 0, 0, 6, /* nop,nop,TS val 5 ecr 6 */
};

/* ---- decoding ---------------------------------------------------------- */

static void decode_syn_fields(void **state)
{
	struct seg s = { .seq = ISN_C,
			 .flags = SL_TH_SYN,
			 .win = 64240,
			 .opts = syn_opts,
			 .optlen = sizeof(syn_opts) };
	uint8_t ip[128], fr[160];
	struct sl_packet p;
	size_t n;

	(void)state;
	n = wrap(DLT_EN10MB, fr, ip, ip_tcp(ip, &s), 0x0800);
	assert_int_equal(sl_packet_decode(fr, n, DLT_EN10MB, &p), 0);
	assert_true(sl_ip_is4(&p.saddr));
	assert_int_equal(ntohl(sl_ip_to4(&p.saddr).s_addr), 0xc6120302);
	assert_int_equal(ntohl(sl_ip_to4(&p.daddr).s_addr), 0xc6130302);
	assert_int_equal(p.sport, 41234);
	assert_int_equal(p.dport, 5000);
	assert_int_equal(p.seq, ISN_C);
	assert_int_equal(p.ack, 0);
	assert_int_equal(p.flags, SL_TH_SYN);
	assert_int_equal(p.win, 64240);
	assert_int_equal(p.len, 0);
	assert_int_equal(p.ipid, 0x1234);
	assert_int_equal(p.ttl, 64);
	assert_int_equal(p.opt.mss, 1460);
	assert_int_equal(p.opt.wscale, 7);
	assert_true(p.opt.sack_ok);
	assert_true(p.opt.has_ts);
	assert_int_equal(p.opt.tsval, 123);
	assert_int_equal(p.opt.tsecr, 0);
	assert_int_equal(p.opt.nsack, 0);
	assert_int_equal(p.opt.rawlen, sizeof(syn_opts));
	assert_memory_equal(p.opt.raw, syn_opts, sizeof(syn_opts));
}

/* The same segment behind each link layer we take decodes the same. */
static void decode_link_types(void **state)
{
	static const int types[] = { DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2,
				     DLT_RAW, DLT_IPV4 };
	struct seg s = { .seq = 7,
			 .ack = 9,
			 .flags = SL_TH_PSH | SL_TH_ACK,
			 .win = 502,
			 .opts = ts_opts,
			 .optlen = sizeof(ts_opts),
			 .paylen = 100 };
	uint8_t ip[256], fr[300];
	struct sl_packet ref, p;
	size_t n = ip_tcp(ip, &s), fn;

	(void)state;
	assert_int_equal(sl_packet_decode(ip, n, DLT_RAW, &ref), 0);
	assert_int_equal(ref.len, 100);
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		fn = wrap(types[i], fr, ip, n, 0x0800);
		memset(&p, 0xa5, sizeof(p));
		assert_int_equal(sl_packet_decode(fr, fn, types[i], &p), 0);
		assert_memory_equal(&p, &ref, sizeof(p));
	}

	/* One and two VLAN tags in front of the ethertype. */
	memset(fr, 0x02, 12);
	be16(fr + 12, 0x88a8);
	be16(fr + 14, 5);
	be16(fr + 16, 0x8100);
	be16(fr + 18, 6);
	be16(fr + 20, 0x0800);
	memcpy(fr + 22, ip, n);
	assert_int_equal(sl_packet_decode(fr, n + 22, DLT_EN10MB, &p), 0);
	assert_memory_equal(&p, &ref, sizeof(p));
	assert_int_equal(sl_packet_decode(fr + 4, n + 18, DLT_EN10MB, &p), 0);
	assert_memory_equal(&p, &ref, sizeof(p));
}

static void decode_rejects_what_is_not_ipv4_tcp(void **state)
{
	struct seg s = { .flags = SL_TH_ACK,
			 .opts = ts_opts,
			 .optlen = sizeof(ts_opts),
			 .paylen = 10 };
	uint8_t ip[128], bad[128], fr[160];
	struct sl_packet p;
	size_t n = ip_tcp(ip, &s), fn;

	(void)state;
	/* Not IP at the link layer: ARP; and an IPv4 header behind IPv6's
	 * ethertype, where the two disagree. */
	fn = wrap(DLT_EN10MB, fr, ip, n, 0x0806);
	assert_int_equal(sl_packet_decode(fr, fn, DLT_EN10MB, &p), -EINVAL);
	fn = wrap(DLT_LINUX_SLL2, fr, ip, n, 0x86dd);
	assert_int_equal(sl_packet_decode(fr, fn, DLT_LINUX_SLL2, &p), -EINVAL);
	fn = wrap(DLT_LINUX_SLL2, fr, ip, n, 0x0800);
	assert_int_equal(sl_packet_decode(fr, fn, DLT_LINUX_SLL2, &p), 0);
	/* A link type we do not decode. */
	assert_int_equal(sl_packet_decode(ip, n, DLT_NULL, &p), -EINVAL);

	/* IP version 6 in a raw frame. */
	memcpy(bad, ip, n);
	bad[0] = 0x65;
	assert_int_equal(sl_packet_decode(bad, n, DLT_RAW, &p), -EINVAL);
	/* UDP. */
	memcpy(bad, ip, n);
	bad[9] = IPPROTO_UDP;
	assert_int_equal(sl_packet_decode(bad, n, DLT_RAW, &p), -EINVAL);
	/* A later fragment has no TCP header. */
	memcpy(bad, ip, n);
	be16(bad + 6, 0x0001);
	assert_int_equal(sl_packet_decode(bad, n, DLT_RAW, &p), -EINVAL);
	/* IHL below 5, IHL past the capture. */
	memcpy(bad, ip, n);
	bad[0] = 0x44;
	assert_int_equal(sl_packet_decode(bad, n, DLT_RAW, &p), -EINVAL);
	bad[0] = 0x4f;
	assert_int_equal(sl_packet_decode(bad, 40, DLT_RAW, &p), -EINVAL);
	/* IP total length shorter than its own header. */
	memcpy(bad, ip, n);
	be16(bad + 2, 19);
	assert_int_equal(sl_packet_decode(bad, n, DLT_RAW, &p), -EINVAL);
	/* IP total length shorter than IP + TCP headers. */
	be16(bad + 2, 20 + 20 + sizeof(ts_opts) - 1);
	assert_int_equal(sl_packet_decode(bad, n, DLT_RAW, &p), -EINVAL);
	/* TCP data offset below 5. */
	memcpy(bad, ip, n);
	bad[32] = 4 << 4;
	assert_int_equal(sl_packet_decode(bad, n, DLT_RAW, &p), -EINVAL);
	/* TCP data offset past the end of the frame. */
	memcpy(bad, ip, n);
	bad[32] = 15 << 4;
	assert_int_equal(sl_packet_decode(bad, 20 + 40, DLT_RAW, &p), -EINVAL);
	/* No frame at all. */
	assert_int_equal(sl_packet_decode(NULL, 0, DLT_RAW, &p), -EINVAL);
	assert_int_equal(sl_packet_decode(ip, 0, DLT_RAW, &p), -EINVAL);
}

/*
 * Every prefix of a frame: the decoder must refuse all that end inside the
 * headers, take all that do not, and never read a byte past caplen.  Each
 * prefix sits in a buffer of exactly its size, so that the ASan build
 * (SOCKLAB_SANITIZE) turns an overread into a failure.
 */
static void decode_every_truncation(void **state)
{
	static const int types[] = { DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2,
				     DLT_RAW };
	struct seg s = { .seq = ISN_C,
			 .flags = SL_TH_SYN,
			 .win = 64240,
			 .opts = syn_opts,
			 .optlen = sizeof(syn_opts),
			 .paylen = 30 };
	uint8_t ip[128], fr[160];
	size_t n = ip_tcp(ip, &s);

	(void)state;
	for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
		size_t fn = wrap(types[t], fr, ip, n, 0x0800);
		size_t hdr_end = fn - s.paylen;

		for (size_t cap = 0; cap <= fn; cap++) {
			uint8_t *copy = malloc(cap ? cap : 1);
			struct sl_packet p;
			int rc;

			assert_non_null(copy);
			memcpy(copy, fr, cap);
			rc = sl_packet_decode(copy, cap, types[t], &p);
			if (cap < hdr_end) {
				assert_int_equal(rc, -EINVAL);
			} else {
				/* The payload length comes from IP, not
				 * from what was captured. */
				assert_int_equal(rc, 0);
				assert_int_equal(p.len, 30);
				assert_int_equal(p.opt.mss, 1460);
			}
			free(copy);
		}
	}
}

/* Ethernet pads a bare ACK to 60 bytes; the padding is not payload. */
static void decode_ethernet_padding(void **state)
{
	struct seg s = { .flags = SL_TH_ACK, .seq = 1, .ack = 1 };
	uint8_t ip[64], fr[64] = { 0 };
	struct sl_packet p;
	size_t n = ip_tcp(ip, &s);

	(void)state;
	wrap(DLT_EN10MB, fr, ip, n, 0x0800);
	assert_int_equal(sl_packet_decode(fr, 60, DLT_EN10MB, &p), 0);
	assert_int_equal(p.len, 0);
	assert_int_equal(p.opt.rawlen, 0);
	assert_int_equal(p.opt.wscale, -1);
}

static void decode_one(const uint8_t *opts, size_t optlen, struct sl_packet *p)
{
	struct seg s = { .flags = SL_TH_ACK, .opts = opts, .optlen = optlen };
	uint8_t ip[128];

	assert_int_equal(sl_packet_decode(ip, ip_tcp(ip, &s), DLT_RAW, p), 0);
}

/* Options are understood the way the kernel's tcp_parse_options() does. */
static void decode_options_like_the_kernel(void **state)
{
	static const uint8_t sack3[] = {
		1, 1,  5, 26, 0, 0,  0,	   10,	 0,    0,    0, 20, 0, 0,
		0, 30, 0, 0,  0, 40, 0xff, 0xff, 0xff, 0xf0, 0, 0,  0, 5,
	};
	/* The kernel steps over an option by its length byte, whatever
	 * the kind would want. */
	static const uint8_t wrong_sizes[] = {
		2, 3,  5,    /* mss with length 3: ignored */
		3, 4,  7, 1, /* wscale with length 4: ignored */
		8, 10, 0, 0, 0, 1, 0, 0, 0, 2, /* TS val 1 ecr 2 */
		4, 2,			       /* sackOK */
		1,
	};
	static const uint8_t eol_first[] = { 0, 2, 4, 5, 180, 0, 0, 0 };
	static const uint8_t len_zero[] = { 1, 3, 0, 2, 4, 5, 180, 0 };
	static const uint8_t len_past_end[] = { 1, 1, 1, 2, 5, 5, 180, 1 };
	static const uint8_t big_wscale[] = { 1, 3, 3, 200 };
	static const uint8_t bad_sack[] = { 5, 7, 0, 0, 0, 0, 0, 1 };
	struct sl_packet p;

	(void)state;
	decode_one(sack3, sizeof(sack3), &p);
	assert_int_equal(p.opt.nsack, 3);
	assert_int_equal(p.opt.sack[0][0], 10);
	assert_int_equal(p.opt.sack[0][1], 20);
	assert_int_equal(p.opt.sack[1][0], 30);
	assert_int_equal(p.opt.sack[1][1], 40);
	assert_int_equal(p.opt.sack[2][0], 0xfffffff0);
	assert_int_equal(p.opt.sack[2][1], 5);

	decode_one(wrong_sizes, sizeof(wrong_sizes), &p);
	assert_int_equal(p.opt.mss, 0);
	assert_int_equal(p.opt.wscale, -1);
	assert_true(p.opt.has_ts);
	assert_int_equal(p.opt.tsval, 1);
	assert_int_equal(p.opt.tsecr, 2);
	assert_true(p.opt.sack_ok);

	decode_one(eol_first, sizeof(eol_first), &p);
	assert_int_equal(p.opt.mss, 0);
	assert_int_equal(p.opt.rawlen, sizeof(eol_first));

	decode_one(len_zero, sizeof(len_zero), &p);
	assert_int_equal(p.opt.wscale, -1);
	assert_int_equal(p.opt.mss, 0);

	decode_one(len_past_end, sizeof(len_past_end), &p);
	assert_int_equal(p.opt.mss, 0);

	decode_one(big_wscale, sizeof(big_wscale), &p);
	assert_int_equal(p.opt.wscale, 14);

	decode_one(bad_sack, sizeof(bad_sack), &p);
	assert_int_equal(p.opt.nsack, 0);
}

/*
 * Random damage to a good frame: whatever the bytes, decode and format
 * stay inside their buffers (checked by the ASan build) and a decoded
 * packet always formats to a NUL-terminated line that ends where its
 * length says.
 */
static void decode_and_format_survive_random_bytes(void **state)
{
	struct seg s = { .flags = SL_TH_ACK,
			 .opts = ts_opts,
			 .optlen = sizeof(ts_opts),
			 .paylen = 8 };
	uint8_t ip[128];
	size_t n = ip_tcp(ip, &s);
	uint32_t rnd = 12345;

	(void)state;
	for (int i = 0; i < 20000; i++) {
		size_t cap = n;
		uint8_t *copy;
		struct sl_packet p;
		char line[512];

		copy = malloc(n);
		assert_non_null(copy);
		memcpy(copy, ip, n);
		for (int k = 0; k < 4; k++) {
			rnd = rnd * 1103515245 + 12345;
			/* Mostly the option bytes and header lengths. */
			copy[(rnd >> 8) % n] = rnd >> 16;
		}
		if (sl_packet_decode(copy, cap, DLT_RAW, &p) == 0) {
			int len = sl_packet_format(&p, true, 1, 2, line,
						   sizeof(line));

			assert_true(len >= 0 && (size_t)len < sizeof(line));
			assert_int_equal(strlen(line), (size_t)len);
		}
		free(copy);
	}
}

/* ---- flags ------------------------------------------------------------- */

static void flags_format_as_tcpdump(void **state)
{
	static const struct {
		uint8_t f;
		const char *s;
	} t[] = {
		{ SL_TH_SYN, "S" },
		{ SL_TH_SYN | SL_TH_ACK, "S." },
		{ SL_TH_PSH | SL_TH_ACK, "P." },
		{ SL_TH_FIN | SL_TH_ACK, "F." },
		{ SL_TH_FIN | SL_TH_PSH | SL_TH_ACK, "FP." },
		{ SL_TH_RST, "R" },
		{ SL_TH_RST | SL_TH_ACK, "R." },
		{ SL_TH_ACK, "." },
		{ 0, "none" },
		{ SL_TH_SYN | SL_TH_FIN, "FS" },
		{ SL_TH_SYN | SL_TH_ECE | SL_TH_CWR, "SEW" },
		{ SL_TH_URG | SL_TH_PSH | SL_TH_ACK, "P.U" },
		{ 0xff, "FSRP.UEW" },
	};
	char buf[16];

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		sl_flags_format(t[i].f, buf);
		assert_string_equal(buf, t[i].s);
	}
}

static void flags_round_trip(void **state)
{
	char buf[16];
	uint8_t f;

	(void)state;
	for (unsigned int v = 0; v < 256; v++) {
		sl_flags_format(v, buf);
		assert_int_equal(sl_flags_parse(buf, &f), 0);
		assert_int_equal(f, v);
	}
}

static void flags_parse_any_order_and_errors(void **state)
{
	uint8_t f = 0x5a;

	(void)state;
	assert_int_equal(sl_flags_parse(".R", &f), 0);
	assert_int_equal(f, SL_TH_RST | SL_TH_ACK);
	assert_int_equal(sl_flags_parse("S.", &f), 0);
	assert_int_equal(f, SL_TH_SYN | SL_TH_ACK);
	assert_int_equal(sl_flags_parse("SF", &f), 0);
	assert_int_equal(f, SL_TH_SYN | SL_TH_FIN);

	f = 0x5a;
	assert_int_equal(sl_flags_parse("X", &f), -EINVAL);
	assert_int_equal(sl_flags_parse("s", &f), -EINVAL);
	assert_int_equal(sl_flags_parse("RR", &f), -EINVAL);
	assert_int_equal(sl_flags_parse("", &f), -EINVAL);
	assert_int_equal(sl_flags_parse("R. ", &f), -EINVAL);
	assert_int_equal(sl_flags_parse("nonE", &f), -EINVAL);
	/* A failed parse leaves the output alone. */
	assert_int_equal(f, 0x5a);
}

/* ---- formatting -------------------------------------------------------- */

static void format_seg(const struct seg *s, bool relative, uint32_t seq_base,
		       uint32_t ack_base, char *line, size_t n)
{
	uint8_t ip[256];
	struct sl_packet p;

	int len;

	assert_int_equal(sl_packet_decode(ip, ip_tcp(ip, s), DLT_RAW, &p), 0);
	len = sl_packet_format(&p, relative, seq_base, ack_base, line, n);
	assert_int_equal(len, strlen(line));
}

/* The lines in the brief, in the timeline's relative numbering. */
static void format_examples(void **state)
{
	static const uint8_t ack_opts[] = {
		1, 1, 8, 10, 0, 0, 0, 7, 0, 0, 0, 8,
	};
	struct seg syn = { .seq = ISN_C,
			   .flags = SL_TH_SYN,
			   .win = 64240,
			   .opts = syn_opts,
			   .optlen = sizeof(syn_opts) };
	struct seg synack = { .src = "198.19.3.2",
			      .dst = "198.18.3.2",
			      .sport = 5000,
			      .dport = 41234,
			      .seq = ISN_S,
			      .ack = ISN_C + 1,
			      .flags = SL_TH_SYN | SL_TH_ACK,
			      .win = 65160,
			      .opts = syn_opts,
			      .optlen = sizeof(syn_opts) };
	struct seg data = { .seq = ISN_C + 1,
			    .ack = ISN_S + 1,
			    .flags = SL_TH_PSH | SL_TH_ACK,
			    .win = 502,
			    .opts = ts_opts,
			    .optlen = sizeof(ts_opts),
			    .paylen = 100 };
	struct seg ack = { .src = "198.19.3.2",
			   .dst = "198.18.3.2",
			   .sport = 5000,
			   .dport = 41234,
			   .seq = ISN_S + 1,
			   .ack = ISN_C + 101,
			   .flags = SL_TH_ACK,
			   .win = 501,
			   .opts = ack_opts,
			   .optlen = sizeof(ack_opts) };
	struct seg rst = { .seq = ISN_C + 101,
			   .ack = ISN_S + 1,
			   .flags = SL_TH_RST | SL_TH_ACK };
	char line[256];

	(void)state;
	format_seg(&syn, true, ISN_C, ISN_S, line, sizeof(line));
	assert_string_equal(
		line,
		"198.18.3.2.41234 > 198.19.3.2.5000: Flags [S], seq 0, "
		"win 64240, options [mss 1460,sackOK,TS val 123 ecr 0,nop,"
		"wscale 7], length 0");
	format_seg(&synack, true, ISN_S, ISN_C, line, sizeof(line));
	assert_string_equal(
		line,
		"198.19.3.2.5000 > 198.18.3.2.41234: Flags [S.], seq 0, "
		"ack 1, win 65160, options [mss 1460,sackOK,TS val 123 ecr 0,"
		"nop,wscale 7], length 0");
	format_seg(&data, true, ISN_C, ISN_S, line, sizeof(line));
	assert_string_equal(
		line,
		"198.18.3.2.41234 > 198.19.3.2.5000: Flags [P.], seq 1:101, "
		"ack 1, win 502, options [nop,nop,TS val 5 ecr 6], length 100");
	format_seg(&ack, true, ISN_S, ISN_C, line, sizeof(line));
	assert_string_equal(
		line, "198.19.3.2.5000 > 198.18.3.2.41234: Flags [.], ack 101, "
		      "win 501, options [nop,nop,TS val 7 ecr 8], length 0");
	format_seg(&rst, true, ISN_C, ISN_S, line, sizeof(line));
	assert_string_equal(
		line,
		"198.18.3.2.41234 > 198.19.3.2.5000: Flags [R.], seq 101, "
		"ack 1, win 0, length 0");

	/* Absolute, as tcpdump -S prints: the bases must not matter. */
	format_seg(&data, false, 1, 2, line, sizeof(line));
	assert_string_equal(
		line, "198.18.3.2.41234 > 198.19.3.2.5000: Flags [P.], "
		      "seq 3000000001:3000000101, ack 123456790, win 502, "
		      "options [nop,nop,TS val 5 ecr 6], length 100");
}

/* Sequence numbers relative to a base wrap modulo 2^32, as tcpdump's do. */
static void format_relative_wraps(void **state)
{
	struct seg data = { .seq = 10,
			    .ack = 5,
			    .paylen = 20,
			    .flags = SL_TH_PSH | SL_TH_ACK,
			    .win = 1 };
	char line[256];

	(void)state;
	format_seg(&data, true, 0xfffffff0u, 0xfffffffbu, line, sizeof(line));
	assert_string_equal(
		line,
		"198.18.3.2.41234 > 198.19.3.2.5000: Flags [P.], seq 26:46, "
		"ack 10, win 1, length 20");
}

/* A packet built in C, with no wire bytes, prints its parsed options in
 * the order Linux writes them. */
static void format_hand_built_options(void **state)
{
	struct sl_packet p = {
		.sport = 41234,
		.dport = 5000,
		.seq = 100,
		.flags = SL_TH_SYN,
		.win = 64240,
		.opt = { .mss = 1460,
			 .wscale = 7,
			 .sack_ok = true,
			 .has_ts = true,
			 .tsval = 123 },
	};
	char line[256];

	(void)state;
	assert_int_equal(sl_ip_pton("198.18.3.2", &p.saddr), 0);
	assert_int_equal(sl_ip_pton("198.19.3.2", &p.daddr), 0);
	sl_packet_format(&p, true, 100, 0, line, sizeof(line));
	assert_string_equal(
		line,
		"198.18.3.2.41234 > 198.19.3.2.5000: Flags [S], seq 0, "
		"win 64240, options [mss 1460,sackOK,TS val 123 ecr 0,nop,"
		"wscale 7], length 0");

	p.opt.has_ts = false;
	p.opt.wscale = -1;
	sl_packet_format(&p, true, 100, 0, line, sizeof(line));
	assert_string_equal(
		line, "198.18.3.2.41234 > 198.19.3.2.5000: Flags [S], seq 0, "
		      "win 64240, options [mss 1460,nop,nop,sackOK], length 0");

	/* Not a SYN: the SYN-only options stay out, even from a struct
	 * whose wscale was left at 0; SACK edges relative to the ack base. */
	memset(&p.opt, 0, sizeof(p.opt));
	p.flags = SL_TH_ACK;
	p.seq = 101;
	p.ack = 1001;
	p.opt.has_ts = true;
	p.opt.tsval = 5;
	p.opt.tsecr = 6;
	p.opt.nsack = 4;
	for (int i = 0; i < 4; i++) {
		p.opt.sack[i][0] = 1000 + 100 * (i + 2);
		p.opt.sack[i][1] = 1000 + 100 * (i + 2) + 50;
	}
	sl_packet_format(&p, true, 100, 1000, line, sizeof(line));
	/* Three blocks fit beside a timestamp, as on the wire. */
	assert_string_equal(
		line, "198.18.3.2.41234 > 198.19.3.2.5000: Flags [.], ack 1, "
		      "win 64240, options [nop,nop,TS val 5 ecr 6,nop,nop,"
		      "sack 3 {200:250}{300:350}{400:450}], length 0");

	p.opt.has_ts = false;
	sl_packet_format(&p, false, 100, 1000, line, sizeof(line));
	assert_string_equal(
		line,
		"198.18.3.2.41234 > 198.19.3.2.5000: Flags [.], ack 1001, "
		"win 64240, options [nop,nop,sack 4 {1200:1250}{1300:1350}"
		"{1400:1450}{1500:1550}], length 0");
}

/* A short buffer gets a NUL-terminated prefix and its length. */
static void format_truncates(void **state)
{
	struct seg data = { .seq = 1,
			    .ack = 1,
			    .flags = SL_TH_PSH | SL_TH_ACK,
			    .opts = ts_opts,
			    .optlen = sizeof(ts_opts),
			    .paylen = 100 };
	char full[256];
	uint8_t ip[256];
	struct sl_packet p;
	int len;

	(void)state;
	assert_int_equal(sl_packet_decode(ip, ip_tcp(ip, &data), DLT_RAW, &p),
			 0);
	len = sl_packet_format(&p, false, 0, 0, full, sizeof(full));
	assert_int_equal(len, strlen(full));
	for (size_t n = 1; n < (size_t)len + 3; n++) {
		char *buf = malloc(n);
		size_t want;
		int got;

		assert_non_null(buf);
		got = sl_packet_format(&p, false, 0, 0, buf, n);
		want = n - 1 < (size_t)len ? n - 1 : (size_t)len;
		assert_int_equal(got, want);
		assert_int_equal(strlen(buf), (size_t)got);
		assert_memory_equal(buf, full, got);
		free(buf);
	}
	assert_int_equal(sl_packet_format(&p, false, 0, 0, NULL, 0), 0);
}

/* ---- against tcpdump ----------------------------------------------------- */

/*
 * tcpdump's own relative numbering (print-tcp.c): only segments with ACK
 * set are made relative, and the first of each conversation (normally the
 * SYN-ACK) records the two ISNs and is itself printed absolute.  We play
 * that back here to choose relative/absolute and the bases for each line;
 * sl_packet_format() does the rest.
 */
struct conv {
	uint32_t a, b; /* addresses, in tcpdump's collating order */
	uint32_t ports;
	uint32_t seq, ack; /* ISNs of a's and b's direction */
	bool used;
};

static struct conv *conv_find(struct conv *tab, size_t n, uint32_t a,
			      uint32_t b, uint32_t ports, bool *found)
{
	for (size_t i = 0; i < n; i++) {
		if (tab[i].used && tab[i].a == a && tab[i].b == b &&
		    tab[i].ports == ports) {
			*found = true;
			return &tab[i];
		}
	}
	*found = false;
	for (size_t i = 0; i < n; i++)
		if (!tab[i].used)
			return &tab[i];
	fail_msg("too many conversations");
	return NULL;
}

/* An address of either family folded to the 32 bits a conversation is
 * keyed on (the IPv4 one itself, mapped or not). */
static uint32_t fold(const struct in6_addr *a)
{
	uint32_t w[4];

	memcpy(w, a, sizeof(w));
	return w[0] ^ w[1] ^ w[2] ^ w[3];
}

static bool tcpdump_bases(struct conv *tab, size_t n, const struct sl_packet *p,
			  uint32_t *seq_base, uint32_t *ack_base)
{
	uint32_t src = fold(&p->saddr), dst = fold(&p->daddr);
	bool rev = false, found;
	struct conv *c;

	if (!(p->flags & SL_TH_ACK))
		return false;
	/* tcpdump compares the addresses as bytes in network order. */
	if (p->sport > p->dport ||
	    (p->sport == p->dport &&
	     memcmp(&p->saddr, &p->daddr, sizeof(p->saddr)) > 0))
		rev = true;
	if (rev)
		c = conv_find(tab, n, dst, src,
			      (uint32_t)p->dport << 16 | p->sport, &found);
	else
		c = conv_find(tab, n, src, dst,
			      (uint32_t)p->sport << 16 | p->dport, &found);
	if (!found || (p->flags & SL_TH_SYN)) {
		c->used = true;
		c->a = rev ? dst : src;
		c->b = rev ? src : dst;
		c->ports = rev ? (uint32_t)p->dport << 16 | p->sport :
				 (uint32_t)p->sport << 16 | p->dport;
		if (rev) {
			c->ack = p->seq;
			c->seq = p->ack - 1;
		} else {
			c->seq = p->seq;
			c->ack = p->ack - 1;
		}
		return false;
	}
	*seq_base = rev ? c->ack : c->seq;
	*ack_base = rev ? c->seq : c->ack;
	return true;
}

static char *read_lines(const char *path, char ***lines, size_t *nlines)
{
	FILE *f = fopen(path, "r");
	char *text, *s;
	long size;
	size_t n = 0;

	if (!f)
		fail_msg("cannot open %s", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	size = ftell(f);
	rewind(f);
	text = calloc(1, size + 1);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, size, f), (size_t)size);
	fclose(f);
	*lines = calloc(size + 1, sizeof(char *));
	assert_non_null(*lines);
	for (s = text; *s;) {
		char *nl = strchr(s, '\n');

		(*lines)[n++] = s;
		if (!nl)
			break;
		*nl = '\0';
		s = nl + 1;
	}
	*nlines = n;
	return text;
}

/* The part of tcpdump's line we print, or NULL when tcpdump did not print
 * it as an IPv4 TCP segment.  Lines from the "any" device start with the
 * interface and direction ("eth0  In  IP ..."). */
static const char *tcp_part(const char *line)
{
	const char *ip = strstr(line, "IP ");

	if (!ip)
		ip = strstr(line, "IP6 ");
	if (!ip || !strstr(ip, ": Flags ["))
		return NULL;
	return strchr(ip, ' ') + 1;
}

static void compare_with_tcpdump(const char *pcap_name, bool relative)
{
	char path[512], errbuf[PCAP_ERRBUF_SIZE], line[512];
	struct pcap_pkthdr *h;
	const u_char *bytes;
	struct conv conv[64];
	char **lines, *text;
	size_t nlines, i = 0, ntcp = 0;
	pcap_t *pc;
	int linktype;

	memset(conv, 0, sizeof(conv));
	snprintf(path, sizeof(path), "%s/%s.tcpdump%s.txt", SL_TEST_DATA,
		 pcap_name, relative ? "" : "-S");
	text = read_lines(path, &lines, &nlines);
	snprintf(path, sizeof(path), "%s/%s.pcap", SL_TEST_DATA, pcap_name);
	pc = pcap_open_offline_with_tstamp_precision(
		path, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (!pc)
		fail_msg("%s", errbuf);
	linktype = pcap_datalink(pc);

	while (pcap_next_ex(pc, &h, &bytes) == 1) {
		const char *want;
		struct sl_packet p;
		uint32_t sb = 0, ab = 0;
		bool rel = false;
		int rc;

		assert_true(i < nlines);
		want = tcp_part(lines[i]);
		rc = sl_packet_decode(bytes, h->caplen, linktype, &p);
		if (!want) {
			if (rc == 0)
				fail_msg("%s frame %zu decoded, tcpdump: %s",
					 pcap_name, i + 1, lines[i]);
			i++;
			continue;
		}
		if (rc != 0)
			fail_msg("%s frame %zu not decoded, tcpdump: %s",
				 pcap_name, i + 1, lines[i]);
		if (relative)
			rel = tcpdump_bases(conv, 64, &p, &sb, &ab);
		sl_packet_format(&p, rel, sb, ab, line, sizeof(line));
		/* tcpdump's word for the network layer, IP or IP6, too. */
		assert_string_equal(sl_packet_ipver(&p),
				    strstr(lines[i], "IP6 ") ? "IP6" : "IP");
		if (strcmp(line, want) != 0)
			print_error("%s frame %zu:\n  tcpdump: %s\n  socklab: "
				    "%s\n",
				    pcap_name, i + 1, want, line);
		assert_string_equal(line, want);
		ntcp++;
		i++;
	}
	pcap_close(pc);
	assert_int_equal(i, nlines);
	/* The files are not empty; a check on nothing would pass. */
	assert_true(ntcp >= 20);
	free(lines);
	free(text);
}

static void tcpdump_handshake_absolute(void **state)
{
	(void)state;
	compare_with_tcpdump("handshake", false);
}

static void tcpdump_handshake_relative(void **state)
{
	(void)state;
	compare_with_tcpdump("handshake", true);
}

static void tcpdump_any_device_sll2(void **state)
{
	(void)state;
	compare_with_tcpdump("handshake-any", false);
	compare_with_tcpdump("handshake-any", true);
}

static void tcpdump_odd_options_and_flags(void **state)
{
	(void)state;
	compare_with_tcpdump("options", false);
	compare_with_tcpdump("options", true);
}

/* A capture of a run over IPv6 (ack-every-second's reader_stopped.ipv6,
 * the client's side): its TCP segments as tcpdump prints them, IP6 and
 * all, and its neighbour discovery, MLD and router solicitations (ICMPv6)
 * not decoded as TCP. */
static void tcpdump_ipv6(void **state)
{
	(void)state;
	compare_with_tcpdump("ipv6", false);
	compare_with_tcpdump("ipv6", true);
}

/*
 * The timeline's numbering on the recorded exchange: each side relative to
 * its own ISN from the first segment on, SYNs at 0.  This is where we
 * differ from tcpdump on purpose (it prints the SYN and SYN-ACK absolute).
 */
static void timeline_numbering_on_recorded_handshake(void **state)
{
	char path[512], errbuf[PCAP_ERRBUF_SIZE], line[512];
	struct pcap_pkthdr *h;
	const u_char *bytes;
	uint32_t isn_c = 0, isn_s = 0;
	int nsyn = 0, nrst = 0, nfin = 0, ndata = 0;
	pcap_t *pc;

	(void)state;
	snprintf(path, sizeof(path), "%s/handshake.pcap", SL_TEST_DATA);
	pc = pcap_open_offline(path, errbuf);
	if (!pc)
		fail_msg("%s", errbuf);
	while (pcap_next_ex(pc, &h, &bytes) == 1) {
		struct sl_packet p;
		bool from_client;

		if (sl_packet_decode(bytes, h->caplen, pcap_datalink(pc), &p))
			continue;
		from_client = p.dport == 5000 || p.dport == 5001;
		if (p.flags == SL_TH_SYN)
			isn_c = p.seq;
		if (p.flags == (SL_TH_SYN | SL_TH_ACK))
			isn_s = p.seq;
		if (from_client)
			sl_packet_format(&p, true, isn_c, isn_s, line,
					 sizeof(line));
		else
			sl_packet_format(&p, true, isn_s, isn_c, line,
					 sizeof(line));
		if (p.flags & SL_TH_SYN) {
			assert_non_null(strstr(line, ", seq 0, "));
			nsyn++;
		}
		if (p.flags == (SL_TH_SYN | SL_TH_ACK))
			assert_non_null(strstr(line, ", ack 1, "));
		if (p.flags & SL_TH_FIN)
			nfin++;
		if (p.flags & SL_TH_RST)
			nrst++;
		if (p.len == 100 && from_client)
			assert_non_null(strstr(line, "seq 1:101, ack 1, "));
		ndata += p.len > 0;
	}
	pcap_close(pc);
	/* What make-pcaps.py recorded: 4 connections, 3 accepted, 2 FINs
	 * in the first and 1 in the third, 3 resets, 4 data segments. */
	assert_int_equal(nsyn, 7);
	assert_int_equal(nfin, 3);
	assert_int_equal(nrst, 3);
	assert_int_equal(ndata, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(decode_syn_fields),
		cmocka_unit_test(decode_link_types),
		cmocka_unit_test(decode_rejects_what_is_not_ipv4_tcp),
		cmocka_unit_test(decode_every_truncation),
		cmocka_unit_test(decode_ethernet_padding),
		cmocka_unit_test(decode_options_like_the_kernel),
		cmocka_unit_test(decode_and_format_survive_random_bytes),
		cmocka_unit_test(flags_format_as_tcpdump),
		cmocka_unit_test(flags_round_trip),
		cmocka_unit_test(flags_parse_any_order_and_errors),
		cmocka_unit_test(format_examples),
		cmocka_unit_test(format_relative_wraps),
		cmocka_unit_test(format_hand_built_options),
		cmocka_unit_test(format_truncates),
		cmocka_unit_test(tcpdump_handshake_absolute),
		cmocka_unit_test(tcpdump_ipv6),
		cmocka_unit_test(tcpdump_handshake_relative),
		cmocka_unit_test(tcpdump_any_device_sll2),
		cmocka_unit_test(tcpdump_odd_options_and_flags),
		cmocka_unit_test(timeline_numbering_on_recorded_handshake),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
