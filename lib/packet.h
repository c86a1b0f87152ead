/* packet.h: one captured TCP segment (IPv4 or IPv6), decoded, and its
 * tcpdump-style text. */
#ifndef SL_PACKET_H
#define SL_PACKET_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* TCP header flag bits, as on the wire. */
#define SL_TH_FIN 0x01
#define SL_TH_SYN 0x02
#define SL_TH_RST 0x04
#define SL_TH_PSH 0x08
#define SL_TH_ACK 0x10
#define SL_TH_URG 0x20
#define SL_TH_ECE 0x40
#define SL_TH_CWR 0x80

struct sl_tcpopts {
	uint16_t mss;  /* 0: absent */
	int8_t wscale; /* -1: absent */
	bool sack_ok;
	bool has_ts;
	uint32_t tsval, tsecr;
	uint8_t nsack;
	uint32_t sack[4][2]; /* absolute left, right edges */
	uint8_t rawlen;	     /* option bytes as on the wire, so that */
	uint8_t raw[40];     /* they print in wire order, as tcpdump */
};

struct sl_packet {
	struct in6_addr saddr, daddr; /* ipaddr.h: IPv4 as ::ffff:a.b.c.d */
	uint16_t sport, dport;	      /* host byte order */
	uint32_t seq, ack;	      /* absolute, host byte order */
	uint8_t flags;		      /* SL_TH_* */
	uint16_t win;		      /* raw window field, not scaled */
	uint16_t urp;	    /* urgent pointer, printed when URG is set */
	uint32_t len;	    /* TCP payload length */
	uint16_t ipid;	    /* IPv4 only */
	uint8_t ttl;	    /* IPv6: the hop limit */
	uint32_t flowlabel; /* IPv6 only: the 20-bit flow label */
	struct sl_tcpopts opt;
};

/* Decodes one frame of the given pcap link type (DLT_EN10MB or DLT_RAW /
 * DLT_LINUX_SLL, DLT_LINUX_SLL2).  Returns 0, or -EINVAL when the frame is
 * not (a complete enough) TCP segment over IPv4 or IPv6: ARP, ICMPv6 (the
 * neighbour discovery) and the rest are not ours to decode. */
int sl_packet_decode(const uint8_t *frame, size_t caplen, int linktype,
		     struct sl_packet *out);

/* Fills o from the n option bytes at raw (copied into o->raw), as
 * sl_packet_decode() does for a captured segment: a recording keeps the
 * bytes only.  n is cut at 40. */
void sl_packet_options(const uint8_t *raw, size_t n, struct sl_tcpopts *o);

/* "R." -> SL_TH_RST|SL_TH_ACK, in tcpdump's letters: F S R P . U E W.
 * Letters in any order, or "none".  Returns 0 or -EINVAL for an unknown
 * or repeated letter. */
int sl_flags_parse(const char *s, uint8_t *flags);

/* tcpdump's [flags] text: "S", "S.", "P.", "F.", "R", "R.", "." */
void sl_flags_format(uint8_t flags, char buf[16]);

/* One line the way `tcpdump -nn` prints it, without timestamp and without
 * the leading "IP " ("IP6 " for IPv6: sl_packet_ipver()):
 *   198.18.3.2.41234 > 198.19.3.2.7007: Flags [P.], seq 1:101, ack 1,
 *   win 502, options [nop,nop,TS val 1 ecr 2], length 100
 * Sequence numbers are printed relative to seq_base (the sender's ISN) and
 * acknowledgment numbers relative to ack_base (the receiver's ISN) when
 * relative is true, as tcpdump does after the handshake; SYNs show seq 0.
 * Options print from opt.raw; a hand-built packet (rawlen 0) prints its
 * parsed options in the order Linux writes them.
 * Returns the length written (truncated to n). */
/* tcpdump's word for the packet's network layer: "IP" or "IP6". */
const char *sl_packet_ipver(const struct sl_packet *p);

int sl_packet_format(const struct sl_packet *p, bool relative,
		     uint32_t seq_base, uint32_t ack_base, char *buf, size_t n);

#endif
