/* inject.c: crafted segments (inject.h) and the role's sl_inject().
 *
 * The special problem of a crafted segment is that it must be
 * indistinguishable from a real one where it matters and honest everywhere
 * else.  The receiving kernel drops a segment whose TCP checksum is wrong
 * without a trace (no RST, no counter a role can see), so a builder bug
 * would look exactly like "the kernel ignored it": the checksums are
 * computed here and checked by tests/test_inject.c against an independent
 * implementation and through libpcap.  On the timeline the segment is
 * marked "(injected)", so a learner never takes it for something a socket
 * sent.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "ipaddr.h"
#include "clock.h"
#include "err.h"
#include "inject.h"
#include "board.h"
#include "role.h"
#include "socklab.h"
#include "topology.h"

#define IP_HDR_LEN 20
#define IP6_HDR_LEN 40
#define TCP_HDR_LEN 20
#define DEFAULT_TTL 64
/* What Linux advertises on a SYN over a 1500-byte MTU before scaling:
 * used when the caller leaves the window unset. */
#define DEFAULT_WIN 64240

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = (v >> 16) & 0xff;
	p[2] = (v >> 8) & 0xff;
	p[3] = v & 0xff;
}

uint32_t sl_csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t i;

	/* Folded as we go, so that no length can overflow 32 bits: the
	 * carries are added back in, which is what one's complement wants. */
	for (i = 0; i + 1 < len; i += 2) {
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
		if (sum & 0x80000000u)
			sum = (sum & 0xffff) + (sum >> 16);
	}
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

uint16_t sl_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* The TCP options, in the order and alignment of tcp_options_write() in
 * net/ipv4/tcp_output.c.  Returns their length, a multiple of 4. */
static size_t build_options(const struct sl_tcpopts *o, uint8_t *p)
{
	size_t n = 0;

	if (o->mss) {
		p[n++] = 2;
		p[n++] = 4;
		put16(p + n, o->mss);
		n += 2;
	}
	if (o->has_ts) {
		if (o->sack_ok) {
			p[n++] = 4;
			p[n++] = 2;
		} else {
			p[n++] = 1;
			p[n++] = 1;
		}
		p[n++] = 8;
		p[n++] = 10;
		put32(p + n, o->tsval);
		put32(p + n + 4, o->tsecr);
		n += 8;
	} else if (o->sack_ok) {
		p[n++] = 1;
		p[n++] = 1;
		p[n++] = 4;
		p[n++] = 2;
	}
	if (o->wscale >= 0) {
		p[n++] = 1;
		p[n++] = 3;
		p[n++] = 3;
		p[n++] = (uint8_t)o->wscale;
	}
	return n;
}

int sl_segment_build(const struct sl_packet *p, const void *payload,
		     uint8_t *buf, size_t n)
{
	uint8_t opts[40];
	size_t optlen = build_options(&p->opt, opts);
	size_t thlen = TCP_HDR_LEN + optlen;
	bool v6 = !sl_ip_is4(&p->saddr);
	size_t iphl = v6 ? IP6_HDR_LEN : IP_HDR_LEN;
	size_t total = iphl + thlen + p->len;
	uint8_t *ip = buf, *th = buf + iphl;
	uint8_t pseudo[40];
	size_t plen;
	uint32_t sum;

	if (p->len && !payload)
		return -EINVAL;
	if (v6 == sl_ip_is4(&p->daddr))
		return -EAFNOSUPPORT;
	if (total > n || total > SL_SEGMENT_MAX)
		return -EMSGSIZE;
	memset(buf, 0, iphl + thlen);

	if (v6) {
		/* Version 6, traffic class 0, the flow label asked for (0:
		 * none, which a crafted segment may well carry). */
		put32(ip, 6u << 28 | (p->flowlabel & 0xfffff));
		put16(ip + 4, (uint16_t)(thlen + p->len));
		ip[6] = IPPROTO_TCP;
		ip[7] = p->ttl ? p->ttl : DEFAULT_TTL;
		memcpy(ip + 8, &p->saddr, 16);
		memcpy(ip + 24, &p->daddr, 16);
	} else {
		struct in_addr s4 = sl_ip_to4(&p->saddr),
			       d4 = sl_ip_to4(&p->daddr);

		ip[0] = 0x45; /* version 4, 5 words */
		put16(ip + 2, (uint16_t)total);
		put16(ip + 4, p->ipid);
		put16(ip + 6, 0x4000); /* DF, as Linux sends TCP */
		ip[8] = p->ttl ? p->ttl : DEFAULT_TTL;
		ip[9] = IPPROTO_TCP;
		memcpy(ip + 12, &s4, 4);
		memcpy(ip + 16, &d4, 4);
		put16(ip + 10,
		      (uint16_t)~sl_csum_fold(sl_csum_add(0, ip, IP_HDR_LEN)));
	}

	put16(th, p->sport);
	put16(th + 2, p->dport);
	put32(th + 4, p->seq);
	put32(th + 8, p->ack);
	th[12] = (uint8_t)((thlen / 4) << 4);
	th[13] = p->flags;
	put16(th + 14, p->win);
	put16(th + 18, p->urp);
	memcpy(th + TCP_HDR_LEN, opts, optlen);
	if (p->len)
		memcpy(th + thlen, payload, p->len);

	/* The pseudo-header of RFC 793 section 3.1 (RFC 8200 section 8.1
	 * for IPv6: both addresses, a 32-bit length, the next header last):
	 * then the header and the payload. */
	memset(pseudo, 0, sizeof(pseudo));
	if (v6) {
		memcpy(pseudo, &p->saddr, 16);
		memcpy(pseudo + 16, &p->daddr, 16);
		put32(pseudo + 32, (uint32_t)(thlen + p->len));
		pseudo[39] = IPPROTO_TCP;
		plen = 40;
	} else {
		memcpy(pseudo, ip + 12, 8);
		pseudo[9] = IPPROTO_TCP;
		put16(pseudo + 10, (uint16_t)(thlen + p->len));
		plen = 12;
	}
	sum = sl_csum_add(0, pseudo, plen);
	sum = sl_csum_add(sum, th, thlen + p->len);
	put16(th + 16, (uint16_t)~sl_csum_fold(sum));
	return (int)total;
}

int sl_segment_send(const uint8_t *buf, size_t len, struct sl_err *e)
{
	struct sockaddr_storage to;
	struct in6_addr dst;
	char a[SL_IPSTRLEN];
	socklen_t tolen;
	bool v6 = len > 0 && buf[0] >> 4 == 6;
	int fd, ret = 0;

	if (len < (v6 ? IP6_HDR_LEN : IP_HDR_LEN))
		return sl_errf(e, EINVAL, "send a crafted segment: too short");
	if (v6) {
		memcpy(&dst, buf + 24, 16);
	} else {
		struct in_addr d4;

		memcpy(&d4, buf + 16, 4);
		dst = sl_ip_from4(d4);
	}
	/* The port of a raw socket's address is the protocol, and must be
	 * 0 here: the header carries it. */
	tolen = sl_ip_to_sockaddr(&dst, 0, &to);
	/* IPPROTO_RAW implies IP_HDRINCL, for AF_INET6 as for AF_INET: the
	 * kernel sends our header as it is (IPv4: apart from the total
	 * length and the checksum, which it always rewrites to the same
	 * values). */
	fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_RAW | SOCK_CLOEXEC,
		    IPPROTO_RAW);
	if (fd < 0)
		return sl_errf(e, errno,
			       "open a raw socket to inject a segment");
	if (sendto(fd, buf, len, 0, (struct sockaddr *)&to, tolen) !=
	    (ssize_t)len)
		ret = sl_errf(e, errno, "send a crafted segment to %s",
			      sl_ip_ntop(&dst, a, sizeof(a)));
	close(fd);
	return ret;
}

/* ---- the role's side (socklab.h) ---- */

struct sl_segment sl__inject(struct sl_role *self, const struct sl_inject *in)
{
	const struct sl_topology *t = self->topo;
	int to = in->to ? sl_topology_host(t, in->to) : -1;
	uint8_t buf[SL_SEGMENT_MAX];
	struct sl_segment seg;
	struct sl_packet pkt;
	struct sl_event ev;
	struct sl_err e;
	int len;

	/* The segment leaves from this role's namespace, so it can only
	 * carry this host's address: a spoofed source would be judged by
	 * the predictions as sent by a host that never sent it. */
	if (in->from && sl_topology_host(t, in->from) != self->host)
		sl__role_fail(self,
			      "sl_inject(): .from must be the role's own "
			      "host",
			      EINVAL, __FILE__, __LINE__);
	if (to < 0 || to == self->host)
		sl__role_fail(self, "sl_inject(): .to must name another host",
			      EINVAL, __FILE__, __LINE__);
	memset(&pkt, 0, sizeof(pkt));
	pkt.saddr = t->host[self->host].iface[0].addr;
	pkt.daddr = t->host[to].iface[0].addr;
	pkt.sport = (uint16_t)in->sport;
	pkt.dport = (uint16_t)in->dport;
	pkt.seq = in->seq;
	pkt.ack = in->ack;
	if (!in->flags || sl_flags_parse(in->flags, &pkt.flags) < 0)
		sl__role_fail(self,
			      "sl_inject(): bad .flags (tcpdump letters: "
			      "S F R P .)",
			      EINVAL, __FILE__, __LINE__);
	if (in->win)
		pkt.win = (uint16_t)in->win;
	else
		pkt.win = pkt.flags & SL_TH_RST ? 0 : DEFAULT_WIN;
	pkt.len = (uint32_t)in->len;
	pkt.ttl = DEFAULT_TTL;
	pkt.opt.wscale = -1;
	pkt.opt.mss = (uint16_t)in->mss;
	pkt.opt.has_ts = in->ts;
	pkt.opt.tsval = in->tsval;
	pkt.opt.tsecr = in->tsecr;
	len = sl_segment_build(&pkt, in->payload, buf, sizeof(buf));
	if (len < 0)
		sl__role_fail(self, "sl_inject(): build the segment", -len,
			      __FILE__, __LINE__);

	memset(&ev, 0, sizeof(ev));
	ev.kind = SL_EV_INJECT;
	ev.host = self->host;
	ev.from = self->host;
	ev.to = to;
	ev.pkt = pkt;
	snprintf(ev.name, sizeof(ev.name), "inject");
	snprintf(ev.text, sizeof(ev.text), "%s", in->note ? in->note : "");
	ev.t_start = sl_now();
	if (sl_segment_send(buf, (size_t)len, &e) < 0)
		sl__role_fail(self, e.msg, 0, __FILE__, __LINE__);
	/* Appended once it is on its way: the capture stamps it between
	 * t_start and t, which is how the timeline finds it again. */
	ev.t = sl_now();
	sl_board_append(self->board, &ev);

	memset(&seg, 0, sizeof(seg));
	seg.t = ev.t_start;
	seg.saddr = pkt.saddr;
	seg.daddr = pkt.daddr;
	seg.sport = pkt.sport;
	seg.dport = pkt.dport;
	seg.seq = pkt.seq;
	seg.ack = pkt.ack;
	seg.flags = pkt.flags;
	seg.win = pkt.win;
	seg.len = pkt.len;
	seg.has_ts = pkt.opt.has_ts;
	seg.tsval = pkt.opt.tsval;
	seg.tsecr = pkt.opt.tsecr;
	return seg;
}
