/* ipaddr.h: an address of either family, as one type.
 *
 * The special problem of two families: every module that holds an address
 * (a captured segment, a sock_diag row, a kernel event, a host's interface)
 * must hold an IPv4 one or an IPv6 one, and compare, print and record it
 * the same way whichever it is.  We keep every address as a struct in6_addr
 * and an IPv4 address as the IPv4-mapped ::ffff:a.b.c.d, which is how the
 * kernel itself hands both out (inet_sock_set_state's saddr_v6, sock_diag's
 * four words): one comparison, one copy, and the family is in the address.
 * Only the text differs: an IPv4 address prints and parses as a.b.c.d,
 * exactly as before there were two families, so IPv4 output is unchanged.
 */
#ifndef SL_IPADDR_H
#define SL_IPADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

/* Room for either text, with its NUL. */
#define SL_IPSTRLEN INET6_ADDRSTRLEN

/* a, an IPv4 address in network byte order, as an IPv4-mapped one. */
static inline struct in6_addr sl_ip_from4(struct in_addr a)
{
	struct in6_addr r = { 0 };

	r.s6_addr[10] = 0xff;
	r.s6_addr[11] = 0xff;
	memcpy(&r.s6_addr[12], &a.s_addr, 4);
	return r;
}

static inline bool sl_ip_is4(const struct in6_addr *a)
{
	return IN6_IS_ADDR_V4MAPPED(a);
}

/* AF_INET for an IPv4-mapped address, AF_INET6 for any other. */
static inline int sl_ip_family(const struct in6_addr *a)
{
	return sl_ip_is4(a) ? AF_INET : AF_INET6;
}

/* The IPv4 address inside a mapped one (meaningless for another). */
static inline struct in_addr sl_ip_to4(const struct in6_addr *a)
{
	struct in_addr r;

	memcpy(&r.s_addr, &a->s6_addr[12], 4);
	return r;
}

static inline bool sl_ip_eq(const struct in6_addr *a, const struct in6_addr *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

/* No address: :: or the mapped 0.0.0.0. */
static inline bool sl_ip_is_any(const struct in6_addr *a)
{
	static const struct in6_addr any4 = {
		.s6_addr = { [10] = 0xff, [11] = 0xff }
	};

	return IN6_IS_ADDR_UNSPECIFIED(a) || sl_ip_eq(a, &any4);
}

/* "198.18.3.2" or "2001:2:0:1803::2"; returns buf. */
const char *sl_ip_ntop(const struct in6_addr *a, char *buf, size_t n);

/* Either text; an IPv4 one becomes mapped.  Returns 0 or -EINVAL. */
int sl_ip_pton(const char *s, struct in6_addr *out);

/* The address and port of a struct sockaddr_in or sockaddr_in6 (port in
 * host byte order); returns 0 or -EAFNOSUPPORT for another family. */
int sl_ip_from_sockaddr(const struct sockaddr_storage *ss, struct in6_addr *a,
			unsigned short *port);

/* The socket address of a and port (host byte order), of a's family;
 * returns its length. */
socklen_t sl_ip_to_sockaddr(const struct in6_addr *a, unsigned short port,
			    struct sockaddr_storage *ss);

#endif
