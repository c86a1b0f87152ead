/* test_ipaddr.c: addresses of both families (ipaddr.h), and every place
 * that prints, records or builds one: a segment's tcpdump text (IP6), a
 * socket's ss text ([addr]:port), a kernel event's text, the .tl
 * recording, crafted IPv6 segments.  Each check that an IPv6 address comes
 * out right has a twin that an IPv4 one, or the wrong family, does not. */
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
#include <netinet/tcp.h>
#include <pcap/pcap.h>

#include "inject.h"
#include "ipaddr.h"
#include "kevent.h"
#include "packet.h"
#include "sockstate.h"
#include "timeline.h"
#include "topology.h"

static struct in6_addr ip(const char *s)
{
	struct in6_addr a;

	assert_int_equal(sl_ip_pton(s, &a), 0);
	return a;
}

static void test_text_both_families(void **state)
{
	struct in6_addr a = ip("198.18.3.2"), b = ip("2001:2:0:1803::2");
	char buf[SL_IPSTRLEN];

	(void)state;
	assert_true(sl_ip_is4(&a));
	assert_int_equal(sl_ip_family(&a), AF_INET);
	assert_string_equal(sl_ip_ntop(&a, buf, sizeof(buf)), "198.18.3.2");
	assert_int_equal(ntohl(sl_ip_to4(&a).s_addr), 0xc6120302);
	assert_false(sl_ip_is4(&b));
	assert_int_equal(sl_ip_family(&b), AF_INET6);
	assert_string_equal(sl_ip_ntop(&b, buf, sizeof(buf)),
			    "2001:2:0:1803::2");
	assert_false(sl_ip_eq(&a, &b));
	/* The mapped form is how an IPv4 address is held, never how it is
	 * written: its text is a second spelling, refused. */
	assert_int_equal(sl_ip_pton("::ffff:198.18.3.2", &b), -EINVAL);
	assert_int_equal(sl_ip_pton("198.18.3", &b), -EINVAL);
	assert_int_equal(sl_ip_pton("2001:2::1803::2", &b), -EINVAL);
	assert_true(sl_ip_is_any(&(struct in6_addr){ 0 }));
	a = sl_ip_from4((struct in_addr){ 0 });
	assert_true(sl_ip_is_any(&a));
	assert_false(sl_ip_is_any(&b));
}

static void test_sockaddr_round_trip(void **state)
{
	struct in6_addr a = ip("2001:2:0:1903::2"), b = ip("198.19.3.2"), got;
	struct sockaddr_storage ss;
	unsigned short port;

	(void)state;
	assert_int_equal(sl_ip_to_sockaddr(&a, 7007, &ss),
			 sizeof(struct sockaddr_in6));
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(sl_ip_from_sockaddr(&ss, &got, &port), 0);
	assert_true(sl_ip_eq(&got, &a));
	assert_int_equal(port, 7007);
	assert_int_equal(sl_ip_to_sockaddr(&b, 41234, &ss),
			 sizeof(struct sockaddr_in));
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(sl_ip_from_sockaddr(&ss, &got, &port), 0);
	assert_true(sl_ip_eq(&got, &b));
	assert_int_equal(port, 41234);
	ss.ss_family = AF_UNIX;
	assert_int_equal(sl_ip_from_sockaddr(&ss, &got, &port), -EAFNOSUPPORT);
}

static void test_same_subnet(void **state)
{
	struct in6_addr c4 = ip("198.18.3.2"), r4 = ip("198.18.3.1"),
			s4 = ip("198.19.3.2"), c6 = ip("2001:2:0:1803::2"),
			r6 = ip("2001:2:0:1803::1"),
			s6 = ip("2001:2:0:1903::2");

	(void)state;
	assert_true(sl_topology_same_subnet(&c4, &r4, 24));
	assert_false(sl_topology_same_subnet(&c4, &s4, 24));
	assert_true(sl_topology_same_subnet(&c6, &r6, 64));
	assert_false(sl_topology_same_subnet(&c6, &s6, 64));
	/* The families never share a subnet, however short the prefix. */
	assert_false(sl_topology_same_subnet(&c4, &c6, 0));
	assert_false(sl_topology_same_subnet(&c6, &c4, 0));
}

static struct sl_packet syn6(void)
{
	struct sl_packet p;

	memset(&p, 0, sizeof(p));
	p.saddr = ip("2001:2:0:1803::2");
	p.daddr = ip("2001:2:0:1903::2");
	p.sport = 41234;
	p.dport = 7007;
	p.seq = 1000;
	p.flags = SL_TH_SYN;
	p.win = 64800;
	p.ttl = 64;
	p.flowlabel = 0x12345;
	p.opt.wscale = 7;
	p.opt.mss = 1440;
	p.opt.sack_ok = true;
	return p;
}

/* An IPv6 segment as socklab crafts it: decoded back field for field, its
 * checksum right over RFC 8200's pseudo-header, and its text tcpdump's. */
static void test_ipv6_segment(void **state)
{
	struct sl_packet p = syn6(), got;
	uint8_t buf[SL_SEGMENT_MAX], pseudo[40];
	uint32_t sum;
	char line[256];
	int len;

	(void)state;
	len = sl_segment_build(&p, NULL, buf, sizeof(buf));
	assert_true(len > 40);
	assert_int_equal(buf[0] >> 4, 6);
	assert_int_equal(buf[6], IPPROTO_TCP);
	assert_int_equal(sl_packet_decode(buf, len, DLT_RAW, &got), 0);
	assert_true(sl_ip_eq(&got.saddr, &p.saddr));
	assert_true(sl_ip_eq(&got.daddr, &p.daddr));
	assert_int_equal(got.flowlabel, 0x12345);
	assert_int_equal(got.ttl, 64);
	assert_int_equal(got.sport, 41234);
	assert_int_equal(got.opt.mss, 1440);
	assert_int_equal(got.len, 0);

	memset(pseudo, 0, sizeof(pseudo));
	memcpy(pseudo, buf + 8, 32);
	pseudo[35] = (uint8_t)(len - 40);
	pseudo[39] = IPPROTO_TCP;
	sum = sl_csum_add(0, pseudo, sizeof(pseudo));
	sum = sl_csum_add(sum, buf + 40, len - 40);
	assert_int_equal(sl_csum_fold(sum), 0xffff);

	assert_string_equal(sl_packet_ipver(&got), "IP6");
	sl_packet_format(&got, false, 0, 0, line, sizeof(line));
	assert_string_equal(line,
			    "2001:2:0:1803::2.41234 > 2001:2:0:1903::2.7007: "
			    "Flags [S], seq 1000, win 64800, options "
			    "[mss 1440,nop,nop,sackOK,nop,wscale 7], length 0");

	/* Behind an Ethernet header: IPv6's ethertype, not IPv4's. */
	{
		uint8_t fr[SL_SEGMENT_MAX + 14] = { 0 };

		memcpy(fr + 14, buf, len);
		fr[12] = 0x86;
		fr[13] = 0xdd;
		assert_int_equal(
			sl_packet_decode(fr, len + 14, DLT_EN10MB, &got), 0);
		fr[12] = 0x08;
		fr[13] = 0x00;
		assert_int_equal(sl_packet_decode(fr, len + 14, DLT_EN10MB,
						  &got),
				 -EINVAL);
	}
	/* One address of each family is no segment. */
	p.daddr = ip("198.19.3.2");
	assert_int_equal(sl_segment_build(&p, NULL, buf, sizeof(buf)),
			 -EAFNOSUPPORT);
	/* The IPv4 twin prints as it always did. */
	p.saddr = ip("198.18.3.2");
	assert_int_equal(
		sl_packet_decode(buf,
				 sl_segment_build(&p, NULL, buf, sizeof(buf)),
				 DLT_RAW, &got),
		0);
	assert_string_equal(sl_packet_ipver(&got), "IP");
	assert_int_equal(got.flowlabel, 0);
}

/* A hop-by-hop header before TCP is walked; a later fragment is not
 * decoded (it has no TCP header). */
static void test_ipv6_extension_headers(void **state)
{
	struct sl_packet p = syn6(), got;
	uint8_t buf[SL_SEGMENT_MAX], ext[SL_SEGMENT_MAX + 8];
	int len;

	(void)state;
	len = sl_segment_build(&p, NULL, buf, sizeof(buf));
	memcpy(ext, buf, 40);
	ext[6] = IPPROTO_HOPOPTS;
	ext[5] = (uint8_t)(buf[5] + 8);
	memset(ext + 40, 0, 8);
	ext[40] = IPPROTO_TCP; /* next header; length 0: 8 bytes */
	memcpy(ext + 48, buf + 40, len - 40);
	assert_int_equal(sl_packet_decode(ext, len + 8, DLT_RAW, &got), 0);
	assert_int_equal(got.sport, 41234);
	assert_int_equal(got.opt.mss, 1440);
	ext[6] = IPPROTO_FRAGMENT;
	ext[40] = IPPROTO_TCP;
	ext[42] = 0x01; /* offset 32: a later fragment */
	assert_int_equal(sl_packet_decode(ext, len + 8, DLT_RAW, &got),
			 -EINVAL);
}

/* ss writes an IPv6 endpoint in brackets, an IPv4 one without. */
static void test_ss_text(void **state)
{
	struct sl_sock s;
	char line[256];

	(void)state;
	memset(&s, 0, sizeof(s));
	s.state = TCP_TIME_WAIT;
	s.laddr = ip("2001:2:0:1803::2");
	s.raddr = ip("2001:2:0:1903::2");
	s.lport = 41234;
	s.rport = 7007;
	sl_sock_format(&s, line, sizeof(line));
	assert_string_equal(line, "TIME-WAIT 0 0 [2001:2:0:1803::2]:41234 "
				  "[2001:2:0:1903::2]:7007");
	s.raddr = ip("::");
	s.rport = 0;
	s.state = TCP_LISTEN;
	sl_sock_format(&s, line, sizeof(line));
	assert_string_equal(line, "LISTEN 0 0 [2001:2:0:1803::2]:41234 [::]:*");
	s.laddr = ip("198.18.3.2");
	s.raddr = ip("198.19.3.2");
	s.rport = 7007;
	s.state = TCP_ESTABLISHED;
	sl_sock_format(&s, line, sizeof(line));
	assert_string_equal(line, "ESTAB 0 0 198.18.3.2:41234 198.19.3.2:7007");
}

static const char *const hosts[] = { "client", "router", "server" };

/* A run over IPv6, recorded and read back: every line's text the same,
 * and the addresses IPv6 ones. */
static void test_tl_round_trip(void **state)
{
	struct sl_timeline tl, back;
	char path[] = "/tmp/socklab-test-ipaddr-XXXXXX", a[512], b[512];
	struct sl_event e;
	int fd;

	(void)state;
	sl_timeline_init(&tl);
	sl_timeline_set_hosts(&tl, hosts, 3);
	memset(&e, 0, sizeof(e));
	e.kind = SL_EV_PACKET;
	e.t = e.t_start = 1000;
	e.from = 0;
	e.to = 2;
	/* The recording keeps no options but SACK blocks. */
	e.pkt = syn6();
	memset(&e.pkt.opt, 0, sizeof(e.pkt.opt));
	e.pkt.opt.wscale = -1;
	assert_int_equal(sl_timeline_add(&tl, &e), 0);
	memset(&e, 0, sizeof(e));
	e.kind = SL_EV_STATE;
	e.t = e.t_start = 2000;
	e.host = 2;
	e.sock.state = TCP_LISTEN;
	e.sock.laddr = ip("2001:2:0:1903::2");
	e.sock.raddr = ip("::");
	e.sock.lport = 7007;
	assert_int_equal(sl_timeline_add(&tl, &e), 0);
	memset(&e, 0, sizeof(e));
	e.kind = SL_EV_KERNEL;
	e.t = e.t_start = 3000;
	e.host = 2;
	e.k.type = SL_KEV_SEND_RESET;
	e.k.state = TCP_CLOSE;
	snprintf(e.k.reason, sizeof(e.k.reason), "NO_SOCKET");
	e.k.laddr = ip("2001:2:0:1903::2");
	e.k.raddr = ip("2001:2:0:1803::2");
	e.k.lport = 7007;
	e.k.rport = 41234;
	assert_int_equal(sl_timeline_add(&tl, &e), 0);
	sl_timeline_finish(&tl);

	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(sl_timeline_save(&tl, path), 0);
	sl_timeline_init(&back);
	assert_int_equal(sl_timeline_load(&back, path), 0);
	unlink(path);
	assert_int_equal(back.n, tl.n);
	for (int i = 0; i < tl.n; i++) {
		sl_timeline_format(&tl, i, a, sizeof(a));
		sl_timeline_format(&back, i, b, sizeof(b));
		assert_string_equal(a, b);
	}
	sl_timeline_format(&back, 0, a, sizeof(a));
	assert_non_null(strstr(a, "IP6 2001:2:0:1803::2.41234 > "
				  "2001:2:0:1903::2.7007: Flags [S]"));
	sl_timeline_format(&back, 1, a, sizeof(a));
	assert_non_null(strstr(a, "ss: LISTEN 0 0 [2001:2:0:1903::2]:7007"));
	sl_timeline_format(&back, 2, a, sizeof(a));
	assert_non_null(strstr(
		a, "[[2001:2:0:1903::2]:7007 [2001:2:0:1803::2]:41234]"));
	assert_false(sl_ip_is4(&back.ev[0].pkt.saddr));
	assert_false(sl_ip_is4(&back.ev[2].k.raddr));
	sl_timeline_free(&tl);
	sl_timeline_free(&back);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_both_families),
		cmocka_unit_test(test_sockaddr_round_trip),
		cmocka_unit_test(test_same_subnet),
		cmocka_unit_test(test_ipv6_segment),
		cmocka_unit_test(test_ipv6_extension_headers),
		cmocka_unit_test(test_ss_text),
		cmocka_unit_test(test_tl_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
