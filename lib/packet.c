/*
 * packet.c: captured TCP/IPv4 frames, decoded, and printed the way
 * `tcpdump -nn` prints them (packet.h).
 *
 * The special problem of "the way tcpdump prints it": a learner reads our
 * timeline next to `tcpdump -nn -r` on the same pcap, so every difference
 * between the two is a question we made them ask.  The option printer below
 * is therefore a port of the option loop of tcp_print() in tcpdump 4.99
 * (print-tcp.c), quirks included: fixed-size options advance by their
 * expected size rather than by their length byte, a wrong length byte shows
 * as "[len N]", and a length that runs off the header ends the line with
 * "[bad opt]" and no "length".  To print options in wire order we keep the
 * option bytes themselves (opt.raw); the parsed fields are what the kernel
 * would understand, for predictions to test.
 *
 * Known differences, all by choice:
 * - tcpdump makes numbers relative only on segments with ACK set, after it
 *   has seen the first one of the conversation, so it prints the SYN, the
 *   SYN-ACK and bare RSTs in absolute numbers.  The caller passes the bases
 *   here, and a SYN shows seq 0 (the timeline's convention).
 * - tcpdump dissects the payload on well-known ports (22, 53, 80, ...) and
 *   MPTCP options; we print neither (MPTCP as raw hex).
 * - tcpdump reports a frame shorter on the wire than its IP length
 *   ("truncated-ip"); a decoded packet no longer knows its frame.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <pcap/dlt.h>

#include "ipaddr.h"
#include "packet.h"

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_QINQ 0x88a8
#define ETHERTYPE_QINQ_OLD 0x9100

#define TCPOPT_EOL 0
#define TCPOPT_NOP 1
#define TCPOPT_MAXSEG 2
#define TCPOPT_WSCALE 3
#define TCPOPT_SACKOK 4
#define TCPOPT_SACK 5
#define TCPOPT_ECHO 6
#define TCPOPT_ECHOREPLY 7
#define TCPOPT_TIMESTAMP 8
#define TCPOPT_CC 11
#define TCPOPT_CCNEW 12
#define TCPOPT_CCECHO 13
#define TCPOPT_SIGNATURE 19
#define TCPOPT_SCPS 20
#define TCPOPT_UTO 28
#define TCPOPT_TCPAO 29
#define TCPOPT_MPTCP 30
#define TCPOPT_FASTOPEN 34
#define TCPOPT_EXPERIMENT2 254

#define TCP_SIGLEN 16
#define TCP_MAX_WSCALE 14
#define TCP_MAX_OPTLEN 40

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/*
 * Finds where the IP header (either version) starts in a frame of the
 * given link type.
 * Every read is checked against caplen before it is made.
 */
static int link_offset(const uint8_t *f, size_t caplen, int linktype,
		       size_t *off, int *version)
{
	uint16_t proto;
	size_t o;

	switch (linktype) {
	case DLT_EN10MB:
		/* Skip 802.1Q / 802.1ad tags: each is 4 bytes and moves the
		 * ethertype along, and each step advances, so this ends. */
		o = 12;
		for (;;) {
			if (caplen < o + 2)
				return -EINVAL;
			proto = get16(f + o);
			if (proto != ETHERTYPE_VLAN &&
			    proto != ETHERTYPE_QINQ &&
			    proto != ETHERTYPE_QINQ_OLD)
				break;
			o += 4;
		}
		o += 2;
		break;
	case DLT_LINUX_SLL:
		if (caplen < 16)
			return -EINVAL;
		proto = get16(f + 14);
		o = 16;
		break;
	case DLT_LINUX_SLL2:
		if (caplen < 20)
			return -EINVAL;
		proto = get16(f);
		o = 20;
		break;
	case DLT_RAW:
		*off = 0;
		*version = 0; /* the header's own */
		return 0;
	case DLT_IPV4:
		*off = 0;
		*version = 4;
		return 0;
	default:
		return -EINVAL;
	}
	if (proto != ETHERTYPE_IPV4 && proto != ETHERTYPE_IPV6)
		return -EINVAL;
	/* The link layer's word and the header's must agree: an IPv4
	 * header behind IPv6's ethertype is not a packet anybody sent. */
	*version = proto == ETHERTYPE_IPV6 ? 6 : 4;
	*off = o;
	return 0;
}

/*
 * Parses the options the way tcp_parse_options() in net/ipv4/tcp_input.c
 * does, so that the fields mean what the receiving kernel understood: an
 * option with an unexpected size is ignored, a bad length byte ends the
 * walk, EOL ends it.  Unlike the kernel we take MSS, window scale and
 * SACK-permitted from any segment, not only from SYNs: they are what was on
 * the wire.
 */
static void parse_options(const uint8_t *p, size_t n, struct sl_tcpopts *o)
{
	size_t i = 0;

	while (i < n) {
		uint8_t kind = p[i], len;

		if (kind == TCPOPT_EOL)
			break;
		if (kind == TCPOPT_NOP) {
			i++;
			continue;
		}
		if (n - i < 2)
			break;
		len = p[i + 1];
		if (len < 2 || len > n - i)
			break;
		switch (kind) {
		case TCPOPT_MAXSEG:
			if (len == 4)
				o->mss = get16(p + i + 2);
			break;
		case TCPOPT_WSCALE:
			/* The kernel clamps a larger shift to 14 (RFC 7323
			 * section 2.3); opt.raw keeps the wire value. */
			if (len == 3)
				o->wscale = p[i + 2] > TCP_MAX_WSCALE ?
						    TCP_MAX_WSCALE :
						    p[i + 2];
			break;
		case TCPOPT_SACKOK:
			if (len == 2)
				o->sack_ok = true;
			break;
		case TCPOPT_SACK:
			if (len >= 10 && (len - 2) % 8 == 0) {
				int nb = (len - 2) / 8;

				/* 40 option bytes hold at most 4 blocks. */
				o->nsack = nb > 4 ? 4 : nb;
				for (int b = 0; b < o->nsack; b++) {
					const uint8_t *e = p + i + 2 + 8 * b;

					o->sack[b][0] = get32(e);
					o->sack[b][1] = get32(e + 4);
				}
			}
			break;
		case TCPOPT_TIMESTAMP:
			if (len == 10) {
				o->has_ts = true;
				o->tsval = get32(p + i + 2);
				o->tsecr = get32(p + i + 6);
			}
			break;
		}
		i += len;
	}
}

/* The IPv6 header and the extension headers a TCP segment may follow
 * (hop-by-hop, routing, destination options, a first fragment): sets *ihl
 * to the bytes before the TCP header and *iplen to the datagram's length.
 * Returns 0, or -EINVAL for anything else (a later fragment, ESP, not
 * TCP). */
static int ipv6_headers(const uint8_t *ip, size_t avail, size_t *ihl,
			size_t *iplen)
{
	uint8_t next = ip[6];
	size_t off = 40;

	*iplen = 40 + (size_t)get16(ip + 4);
	/* A payload length of 0 is a jumbogram or, as for IPv4, a BIG TCP
	 * packet seen on the sending side: take the capture's length. */
	if (*iplen == 40)
		*iplen = avail;
	for (;;) {
		if (next == IPPROTO_TCP)
			break;
		if (avail < off + 8)
			return -EINVAL;
		if (next == IPPROTO_FRAGMENT) {
			if (get16(ip + off + 2) & 0xfff8)
				return -EINVAL;
			next = ip[off];
			off += 8;
		} else if (next == IPPROTO_HOPOPTS || next == IPPROTO_ROUTING ||
			   next == IPPROTO_DSTOPTS) {
			next = ip[off];
			off += ((size_t)ip[off + 1] + 1) * 8;
		} else {
			return -EINVAL;
		}
	}
	*ihl = off;
	return 0;
}

void sl_packet_options(const uint8_t *raw, size_t n, struct sl_tcpopts *o)
{
	memset(o, 0, sizeof(*o));
	o->wscale = -1;
	o->rawlen = (uint8_t)(n > sizeof(o->raw) ? sizeof(o->raw) : n);
	memcpy(o->raw, raw, o->rawlen);
	parse_options(o->raw, o->rawlen, o);
}

int sl_packet_decode(const uint8_t *frame, size_t caplen, int linktype,
		     struct sl_packet *out)
{
	const uint8_t *ip, *th;
	size_t off, avail, ihl, iplen, thl;
	int v6, version;

	if (!frame || !out ||
	    link_offset(frame, caplen, linktype, &off, &version))
		return -EINVAL;
	ip = frame + off;
	avail = caplen - off;
	if (avail < 20 || (version && ip[0] >> 4 != version))
		return -EINVAL;
	v6 = ip[0] >> 4 == 6;
	if (v6) {
		if (avail < 40 || ipv6_headers(ip, avail, &ihl, &iplen) < 0 ||
		    ihl > avail)
			return -EINVAL;
	} else {
		if (ip[0] >> 4 != 4 || ip[9] != IPPROTO_TCP)
			return -EINVAL;
		ihl = (size_t)(ip[0] & 0x0f) * 4;
		if (ihl < 20 || ihl > avail)
			return -EINVAL;
		/* A later fragment carries no TCP header to decode. */
		if (get16(ip + 6) & 0x1fff)
			return -EINVAL;
		iplen = get16(ip + 2);
		/* An IP length of 0 is how a GSO packet larger than 64 KiB
		 * (BIG TCP) shows up on the sending side: take the length
		 * from the capture, as tcpdump does when built with
		 * GUESS_TSO, rather than lose a segment that was sent. */
		if (iplen == 0)
			iplen = avail;
	}
	if (iplen < ihl)
		return -EINVAL;
	th = ip + ihl;
	avail -= ihl;
	if (avail < 20)
		return -EINVAL;
	thl = (size_t)(th[12] >> 4) * 4;
	/* The whole header, options included, must be captured and inside
	 * the IP datagram; the payload need not be captured at all. */
	if (thl < 20 || thl > avail || thl > iplen - ihl)
		return -EINVAL;

	memset(out, 0, sizeof(*out));
	if (v6) {
		memcpy(&out->saddr, ip + 8, 16);
		memcpy(&out->daddr, ip + 24, 16);
		out->flowlabel = get32(ip) & 0xfffff;
		out->ttl = ip[7];
	} else {
		struct in_addr a;

		memcpy(&a, ip + 12, 4);
		out->saddr = sl_ip_from4(a);
		memcpy(&a, ip + 16, 4);
		out->daddr = sl_ip_from4(a);
		out->ipid = get16(ip + 4);
		out->ttl = ip[8];
	}
	out->sport = get16(th);
	out->dport = get16(th + 2);
	out->seq = get32(th + 4);
	out->ack = get32(th + 8);
	out->flags = th[13];
	out->win = get16(th + 14);
	out->urp = get16(th + 18);
	/* From the IP length, not from caplen: Ethernet pads short frames
	 * and a snap length may cut the payload. */
	out->len = (uint32_t)(iplen - ihl - thl);
	out->opt.wscale = -1;
	out->opt.rawlen = (uint8_t)(thl - 20);
	memcpy(out->opt.raw, th + 20, thl - 20);
	parse_options(out->opt.raw, out->opt.rawlen, &out->opt);
	return 0;
}

/*
 * tcpdump's flag letters, in the order of tcp_flag_values[] in
 * print-tcp.c, which is the order bittok2str() prints them in: a
 * FIN+PSH+ACK is "FP.", an URG+ACK ".U".
 */
static const struct {
	uint8_t bit;
	char letter;
} flag_letters[] = {
	{ SL_TH_FIN, 'F' }, { SL_TH_SYN, 'S' }, { SL_TH_RST, 'R' },
	{ SL_TH_PSH, 'P' }, { SL_TH_ACK, '.' }, { SL_TH_URG, 'U' },
	{ SL_TH_ECE, 'E' }, { SL_TH_CWR, 'W' },
};

#define NFLAGS (sizeof(flag_letters) / sizeof(flag_letters[0]))

int sl_flags_parse(const char *s, uint8_t *flags)
{
	uint8_t f = 0;

	if (!s || !*s)
		return -EINVAL;
	if (strcmp(s, "none") == 0) {
		*flags = 0;
		return 0;
	}
	for (; *s; s++) {
		size_t i;

		for (i = 0; i < NFLAGS; i++)
			if (flag_letters[i].letter == *s)
				break;
		/* A letter twice ("RR") is a typo in a prediction, not a
		 * flag set we could mean. */
		if (i == NFLAGS || (f & flag_letters[i].bit))
			return -EINVAL;
		f |= flag_letters[i].bit;
	}
	*flags = f;
	return 0;
}

void sl_flags_format(uint8_t flags, char buf[16])
{
	size_t n = 0;

	for (size_t i = 0; i < NFLAGS; i++)
		if (flags & flag_letters[i].bit)
			buf[n++] = flag_letters[i].letter;
	if (n == 0)
		strcpy(buf, "none");
	else
		buf[n] = '\0';
}

/* A bounded string builder: appends until the buffer is full, and never
 * writes past n (n may be 0). */
struct out {
	char *buf;
	size_t n, used;
};

static void put(struct out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (o->used + 1 >= o->n)
		return;
	va_start(ap, fmt);
	r = vsnprintf(o->buf + o->used, o->n - o->used, fmt, ap);
	va_end(ap);
	if (r < 0)
		return;
	if ((size_t)r >= o->n - o->used)
		o->used = o->n - 1;
	else
		o->used += (size_t)r;
}

static void put_addr(struct out *o, const struct in6_addr *a)
{
	char buf[SL_IPSTRLEN];

	put(o, "%s", sl_ip_ntop(a, buf, sizeof(buf)));
}

static const char *option_name(unsigned int opt)
{
	switch (opt) {
	case TCPOPT_EOL:
		return "eol";
	case TCPOPT_NOP:
		return "nop";
	case TCPOPT_MAXSEG:
		return "mss";
	case TCPOPT_WSCALE:
		return "wscale";
	case TCPOPT_SACKOK:
		return "sackOK";
	case TCPOPT_SACK:
		return "sack";
	case TCPOPT_ECHO:
		return "echo";
	case TCPOPT_ECHOREPLY:
		return "echoreply";
	case TCPOPT_TIMESTAMP:
		return "TS";
	case TCPOPT_CC:
		return "cc";
	case TCPOPT_CCNEW:
		return "ccnew";
	/* Sic: tcpdump has an empty name for CC.ECHO. */
	case TCPOPT_CCECHO:
		return "";
	case TCPOPT_SIGNATURE:
		return "md5";
	case TCPOPT_SCPS:
		return "scps";
	case TCPOPT_UTO:
		return "uto";
	case TCPOPT_TCPAO:
		return "tcp-ao";
	case TCPOPT_MPTCP:
		return "mptcp";
	case TCPOPT_FASTOPEN:
		return "tfo";
	case TCPOPT_EXPERIMENT2:
		return "exp";
	}
	return NULL;
}

static void put_hex(struct out *o, const uint8_t *p, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		put(o, "%02x", p[i]);
}

static void put_fastopen(struct out *o, const uint8_t *cp, unsigned int datalen,
			 bool exp)
{
	if (exp)
		put(o, "tfo");
	if (datalen == 0) {
		put(o, " cookiereq");
	} else if (datalen % 2 != 0 || datalen < 4 || datalen > 16) {
		put(o, " (invalid)");
	} else {
		put(o, " cookie ");
		put_hex(o, cp, datalen);
	}
}

/* The data length of an option tcpdump reads at a fixed size, checked
 * against the header's bytes left rather than the option's length byte;
 * -1 for the others. */
static int fixed_len(unsigned int kind)
{
	switch (kind) {
	case TCPOPT_EOL:
	case TCPOPT_NOP:
	case TCPOPT_SACKOK:
		return 0;
	case TCPOPT_WSCALE:
		return 1;
	case TCPOPT_MAXSEG:
	case TCPOPT_SCPS:
	case TCPOPT_UTO:
		return 2;
	case TCPOPT_CC:
	case TCPOPT_CCNEW:
	case TCPOPT_CCECHO:
	case TCPOPT_ECHO:
	case TCPOPT_ECHOREPLY:
		return 4;
	case TCPOPT_TIMESTAMP:
		return 8;
	case TCPOPT_SIGNATURE:
		return TCP_SIGLEN;
	}
	return -1;
}

/* The data of a fixed-size option (fixed_len() >= 0), all there. */
static void put_fixed(struct out *o, unsigned int kind, const uint8_t *cp)
{
	unsigned int uto;

	switch (kind) {
	case TCPOPT_MAXSEG:
		put(o, " %u", get16(cp));
		break;
	case TCPOPT_WSCALE:
		put(o, " %u", cp[0]);
		break;
	case TCPOPT_TIMESTAMP:
		put(o, " val %u ecr %u", get32(cp), get32(cp + 4));
		break;
	case TCPOPT_SIGNATURE:
		/* What tcpdump built with libcrypto (Debian's) prints when
		 * it is given no secret with -M. */
		put(o, " shared secret not supplied with -M, can't check - ");
		put_hex(o, cp, TCP_SIGLEN);
		break;
	case TCPOPT_SCPS:
		put(o, " cap %02x id %u", cp[0], cp[1]);
		break;
	case TCPOPT_UTO:
		uto = get16(cp);
		put(o, " 0x%x", uto);
		/* The low bit says minutes rather than seconds. */
		uto = (uto & 1) ? (uto >> 1) * 60 : uto >> 1;
		put(o, " %u", uto);
		break;
	case TCPOPT_EOL:
	case TCPOPT_NOP:
	case TCPOPT_SACKOK:
		break;
	default: /* cc, ccnew, cc.echo, echo, echoreply */
		put(o, " %u", get32(cp));
		break;
	}
}

/* SACK blocks, as far as the header's room bytes hold them.  SACK edges
 * are in the receiver's sequence space, like ack.  Returns false when a
 * block runs past the header. */
static bool put_sack(struct out *o, const uint8_t *cp, unsigned int datalen,
		     unsigned int room, bool relative, uint32_t sack_base)
{
	if (datalen % 8 != 0) {
		put(o, " invalid sack");
		return true;
	}
	put(o, " %u ", datalen / 8);
	for (unsigned int i = 0; i < datalen; i += 8) {
		uint32_t s, e;

		if (i + 8 > room)
			return false;
		s = get32(cp + i);
		e = get32(cp + i + 4);
		if (relative) {
			s -= sack_base;
			e -= sack_base;
		}
		put(o, "{%u:%u}", s, e);
	}
	return true;
}

static void put_tcpao(struct out *o, const uint8_t *cp, unsigned int datalen)
{
	if (datalen < 2) {
		put(o, " (invalid)");
		return;
	}
	put(o, " keyid %u rnextkeyid %u", cp[0], cp[1]);
	if (datalen > 2) {
		put(o, " mac 0x");
		put_hex(o, cp + 2, datalen - 2);
	}
}

/* RFC 6994: a 16-bit magic says whose experiment.  Returns false when
 * there is no room for it. */
static bool put_experiment(struct out *o, const uint8_t *cp,
			   unsigned int datalen)
{
	if (datalen < 2)
		return false;
	put(o, "-");
	if (get16(cp) == 0xf989)
		put_fastopen(o, cp + 2, datalen - 2, true);
	else
		put(o, "%04x", get16(cp));
	return true;
}

/* One option's data, at cp: len is its length byte (1 for eol and nop),
 * room the header's bytes left after its kind and length.  Returns the
 * data length, or -1 when tcpdump would stop at "[bad opt]". */
static int put_option(struct out *o, unsigned int kind, const uint8_t *cp,
		      unsigned int len, unsigned int room, bool relative,
		      uint32_t sack_base)
{
	int fixed = fixed_len(kind);
	unsigned int datalen = len - 2;

	if (fixed >= 0) {
		if ((unsigned int)fixed > room)
			return -1;
		put_fixed(o, kind, cp);
		return fixed;
	}
	switch (kind) {
	case TCPOPT_SACK:
		if (!put_sack(o, cp, datalen, room, relative, sack_base))
			return -1;
		break;
	case TCPOPT_TCPAO:
		put_tcpao(o, cp, datalen);
		break;
	case TCPOPT_FASTOPEN:
		put(o, " ");
		put_fastopen(o, cp, datalen, false);
		break;
	case TCPOPT_EXPERIMENT2:
		if (!put_experiment(o, cp, datalen))
			return -1;
		break;
	default:
		/* Unknown options, and MPTCP whose dissector we do not
		 * port, as hex. */
		if (datalen)
			put(o, " 0x");
		put_hex(o, cp, datalen);
		break;
	}
	return datalen;
}

/*
 * The option loop of tcpdump's tcp_print(), over the hlen option bytes at
 * opt.  cp and hlen move together, and nothing is read unless hlen says it
 * is there, so a malformed header never reads past the option bytes.
 * Returns false when tcpdump would stop the line at "[bad opt]".
 */
static bool put_options(struct out *o, const uint8_t *opt, unsigned int hlen,
			bool relative, uint32_t sack_base)
{
	const uint8_t *cp = opt;
	char ch = '\0';

	put(o, ", options [");
	while (hlen > 0) {
		unsigned int kind, len, head;
		const char *name;
		int datalen;

		if (ch != '\0')
			put(o, "%c", ch);
		kind = *cp++;
		head = (kind == TCPOPT_EOL || kind == TCPOPT_NOP) ? 1 : 2;
		len = 1;
		/* tcpdump would read the byte after the header here and
		 * find it too small or too large either way. */
		if (head == 2 && (hlen < 2 || (len = *cp++) < 2 || len > hlen))
			goto bad;
		hlen -= head;
		name = option_name(kind);
		if (name)
			put(o, "%s", name);
		else
			put(o, "unknown-%u", kind);
		datalen =
			put_option(o, kind, cp, len, hlen, relative, sack_base);
		if (datalen < 0)
			goto bad;
		cp += datalen;
		hlen -= datalen;
		/* The length byte said one thing, the option's kind another:
		 * show both, as tcpdump does. */
		if (datalen + head != len)
			put(o, "[len %u]", len);
		ch = ',';
		if (kind == TCPOPT_EOL)
			break;
	}
	put(o, "]");
	return true;
bad:
	put(o, "[bad opt]");
	if (ch != '\0')
		put(o, "]");
	return false;
}

static void put_u16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void put_u32(uint8_t *p, uint32_t v)
{
	put_u16(p, v >> 16);
	put_u16(p + 2, v & 0xffff);
}

/*
 * For a packet built by hand (a test, a crafted segment to inject) there
 * are no wire bytes: lay the parsed options out the way tcp_options_write()
 * in net/ipv4/tcp_output.c does, so that it prints like the segment Linux
 * would have sent.  Returns the number of bytes, at most 40.
 */
static unsigned int synth_ts(const struct sl_tcpopts *t, uint8_t *raw)
{
	raw[0] = TCPOPT_TIMESTAMP;
	raw[1] = 10;
	put_u32(raw + 2, t->tsval);
	put_u32(raw + 6, t->tsecr);
	return 10;
}

static unsigned int synth_options(const struct sl_tcpopts *t, uint8_t flags,
				  uint8_t raw[TCP_MAX_OPTLEN])
{
	unsigned int n = 0;

	/* Linux sends MSS, SACK-permitted and window scale on SYNs only; a
	 * zeroed struct would otherwise print "wscale 0" on every segment. */
	if (flags & SL_TH_SYN) {
		if (t->mss) {
			raw[n++] = TCPOPT_MAXSEG;
			raw[n++] = 4;
			put_u16(raw + n, t->mss);
			n += 2;
		}
		/* SACK-permitted fills the two bytes that are NOPs before a
		 * lone timestamp. */
		if (!t->sack_ok || !t->has_ts) {
			if (t->sack_ok || t->has_ts) {
				raw[n++] = TCPOPT_NOP;
				raw[n++] = TCPOPT_NOP;
			}
		}
		if (t->sack_ok) {
			raw[n++] = TCPOPT_SACKOK;
			raw[n++] = 2;
		}
		if (t->has_ts)
			n += synth_ts(t, raw + n);
		if (t->wscale >= 0) {
			raw[n++] = TCPOPT_NOP;
			raw[n++] = TCPOPT_WSCALE;
			raw[n++] = 3;
			raw[n++] = (uint8_t)t->wscale;
		}
		return n;
	}
	if (t->has_ts) {
		raw[n++] = TCPOPT_NOP;
		raw[n++] = TCPOPT_NOP;
		n += synth_ts(t, raw + n);
	}
	if (t->nsack > 0) {
		/* Linux sends as many blocks as fit: three beside a
		 * timestamp, four without. */
		unsigned int nb = (TCP_MAX_OPTLEN - n - 4) / 8;

		if (nb > t->nsack)
			nb = t->nsack;
		raw[n++] = TCPOPT_NOP;
		raw[n++] = TCPOPT_NOP;
		raw[n++] = TCPOPT_SACK;
		raw[n++] = (uint8_t)(2 + 8 * nb);
		for (unsigned int b = 0; b < nb; b++) {
			put_u32(raw + n, t->sack[b][0]);
			put_u32(raw + n + 4, t->sack[b][1]);
			n += 8;
		}
	}
	return n;
}

const char *sl_packet_ipver(const struct sl_packet *p)
{
	return sl_ip_is4(&p->saddr) ? "IP" : "IP6";
}

int sl_packet_format(const struct sl_packet *p, bool relative,
		     uint32_t seq_base, uint32_t ack_base, char *buf, size_t n)
{
	struct out o = { .buf = buf, .n = n, .used = 0 };
	uint8_t synth[TCP_MAX_OPTLEN];
	const uint8_t *opt = p->opt.raw;
	unsigned int optlen = p->opt.rawlen;
	uint32_t seq = p->seq, ack = p->ack;
	char flags[16];

	if (n > 0)
		buf[0] = '\0';
	if (optlen > TCP_MAX_OPTLEN)
		optlen = TCP_MAX_OPTLEN;
	if (optlen == 0) {
		optlen = synth_options(&p->opt, p->flags, synth);
		opt = synth;
	}
	if (relative) {
		seq -= seq_base;
		ack -= ack_base;
	}
	sl_flags_format(p->flags, flags);

	put_addr(&o, &p->saddr);
	put(&o, ".%u > ", p->sport);
	put_addr(&o, &p->daddr);
	put(&o, ".%u: Flags [%s]", p->dport, flags);
	/* tcpdump shows seq only where it means something: on data and on
	 * the flags that use a sequence number. */
	if (p->len > 0 || (p->flags & (SL_TH_SYN | SL_TH_FIN | SL_TH_RST))) {
		put(&o, ", seq %u", seq);
		if (p->len > 0)
			put(&o, ":%u", seq + p->len);
	}
	if (p->flags & SL_TH_ACK)
		put(&o, ", ack %u", ack);
	put(&o, ", win %u", p->win);
	if (p->flags & SL_TH_URG)
		put(&o, ", urg %u", p->urp);
	if (optlen > 0 && !put_options(&o, opt, optlen, relative, ack_base))
		return (int)o.used;
	put(&o, ", length %u", p->len);
	return (int)o.used;
}
