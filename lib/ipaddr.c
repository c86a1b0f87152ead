/* ipaddr.c: an address of either family, as text and as a socket address
 * (ipaddr.h). */
#include <arpa/inet.h>
#include <errno.h>

#include "ipaddr.h"

const char *sl_ip_ntop(const struct in6_addr *a, char *buf, size_t n)
{
	struct in_addr v4;

	if (n == 0)
		return buf;
	buf[0] = '\0';
	if (sl_ip_is4(a)) {
		v4 = sl_ip_to4(a);
		inet_ntop(AF_INET, &v4, buf, (socklen_t)n);
	} else {
		inet_ntop(AF_INET6, a, buf, (socklen_t)n);
	}
	return buf;
}

int sl_ip_pton(const char *s, struct in6_addr *out)
{
	struct in_addr v4;

	if (inet_pton(AF_INET, s, &v4) == 1) {
		*out = sl_ip_from4(v4);
		return 0;
	}
	/* A mapped address written out is refused: the recording and the
	 * text never produce one, so it would be a second spelling of an
	 * IPv4 address. */
	if (inet_pton(AF_INET6, s, out) == 1 && !sl_ip_is4(out))
		return 0;
	return -EINVAL;
}

int sl_ip_from_sockaddr(const struct sockaddr_storage *ss, struct in6_addr *a,
			unsigned short *port)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

		*a = sl_ip_from4(sin->sin_addr);
		*port = ntohs(sin->sin_port);
		return 0;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

		*a = s6->sin6_addr;
		*port = ntohs(s6->sin6_port);
		return 0;
	}
	return -EAFNOSUPPORT;
}

socklen_t sl_ip_to_sockaddr(const struct in6_addr *a, unsigned short port,
			    struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (sl_ip_is4(a)) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_addr = sl_ip_to4(a);
		sin->sin_port = htons(port);
		return sizeof(*sin);
	}
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	s6->sin6_family = AF_INET6;
	s6->sin6_addr = *a;
	s6->sin6_port = htons(port);
	return sizeof(*s6);
}
