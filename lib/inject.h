/* inject.h: crafted TCP/IPv4 segments, built and sent through a raw socket.
 *
 * Some claims need a segment that no socket would send: a SYN with a chosen
 * sequence number on a 4-tuple that the peer holds in TIME-WAIT, a RST into
 * TIME-WAIT, an old duplicate.  sl_segment_build() writes one as a complete
 * IPv4 datagram (header, TCP header with options, payload, both checksums),
 * the way Linux would lay it out, so that the receiving kernel cannot tell
 * it from a real one; sl_segment_send() hands it to a raw socket of the
 * caller's network namespace.  Roles use it through sl_inject() (socklab.h),
 * which also records it on the timeline.
 */
#ifndef SL_INJECT_H
#define SL_INJECT_H

#include <stddef.h>
#include <stdint.h>

#include "packet.h"

struct sl_err;

/* An IPv4 header (20 bytes, no options) and the largest TCP header. */
#define SL_SEGMENT_HDR_MAX (20 + 60)
/* What one datagram may carry: the veth MTU, so it is never fragmented. */
#define SL_SEGMENT_MAX 1500

/*
 * Writes the datagram that p describes into buf (n bytes), IPv4 or IPv6 as
 * p's addresses are (ipaddr.h): addresses, ports, seq, ack, flags, win,
 * ttl (IPv6: the hop limit) and ipid (IPv4) or flowlabel (IPv6) from p (a
 * ttl of 0 means 64),
 * p->len bytes of payload, and the options p->opt asks for in the order
 * Linux writes them: MSS (opt.mss != 0), SACK-permitted, timestamps
 * (opt.has_ts: tsval, tsecr), window scale (opt.wscale >= 0), with NOPs so
 * that each lands where Linux puts it.  opt.raw and SACK blocks are
 * ignored.  The IP and TCP checksums are filled in.  Returns the
 * datagram's length, or -EINVAL (payload missing), -EAFNOSUPPORT (the two
 * addresses of different families) or -EMSGSIZE (larger than n or than
 * SL_SEGMENT_MAX).
 */
int sl_segment_build(const struct sl_packet *p, const void *payload,
		     uint8_t *buf, size_t n);

/* The Internet checksum (RFC 1071) of len bytes, folded, not inverted, added
 * to sum: building block of both checksums, exported for the tests. */
uint32_t sl_csum_add(uint32_t sum, const void *data, size_t len);
uint16_t sl_csum_fold(uint32_t sum);

/*
 * Sends a datagram built by sl_segment_build() through a raw socket of its
 * family (IPPROTO_RAW: the header is ours) of the calling thread's network
 * namespace.  It leaves by the route to its destination, like anything the
 * host sends, and is captured on the way out.  Returns 0 or -errno with a
 * reason in e.
 */
int sl_segment_send(const uint8_t *buf, size_t len, struct sl_err *e);

#endif
