/* netlink.c: rtnetlink requests for building a topology (netlink.h).
 *
 * One request, one acknowledgement: rtnetlink handles a request inside
 * sendmsg(), so the ack is already queued when the send returns and waiting
 * for it costs a single recvmsg().  Sending a batch and collecting the acks
 * afterwards would save little and would make it harder to say which step
 * failed.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sys/socket.h>

#include "clock.h"
#include "netlink.h"

/* Requests here are a few hundred bytes and acks (capped, see below) even
 * less; one page is plenty for either. */
#define SL__NL_BUFSZ 4096

int sl_netlink_open(struct sl_netlink *nl)
{
	int one = 1;

	memset(nl, 0, sizeof(*nl));
	nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl->sock)
		return -errno;
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		int err = errno;

		sl_netlink_close(nl);
		return -err;
	}
	/* The kernel explains many refusals in words ("Nexthop has invalid
	 * gateway"); asking for that costs nothing.  Capped acks leave out the
	 * echo of our own request.  Both are best effort: an old kernel
	 * without them still acks. */
	mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one));
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (unsigned int)time(NULL);
	return 0;
}

void sl_netlink_close(struct sl_netlink *nl)
{
	if (nl->sock)
		mnl_socket_close(nl->sock);
	nl->sock = NULL;
}

static int ext_ack_attr_cb(const struct nlattr *attr, void *data)
{
	struct sl_netlink *nl = data;

	if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
	    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
		snprintf(nl->ext_msg, sizeof(nl->ext_msg), "%s",
			 mnl_attr_get_str(attr));
	return MNL_CB_OK;
}

/* Reads the extended ack's message, if any, out of an error reply. */
static void keep_ext_msg(struct sl_netlink *nl, const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);
	size_t off = sizeof(*err);

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	/* Without NLM_F_CAPPED the whole request is echoed before the
	 * attributes; its header is part of struct nlmsgerr already. */
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += err->msg.nlmsg_len - sizeof(struct nlmsghdr);
	if (off > mnl_nlmsg_get_payload_len(nlh))
		return;
	mnl_attr_parse_payload((const char *)err + off,
			       mnl_nlmsg_get_payload_len(nlh) - off,
			       ext_ack_attr_cb, nl);
}

/* Sends nlh and waits for the kernel's ack of it.  Returns 0 or -errno. */
static int talk(struct sl_netlink *nl, struct nlmsghdr *nlh)
{
	char buf[SL__NL_BUFSZ];
	unsigned int seq;

	nl->ext_msg[0] = '\0';
	seq = nlh->nlmsg_seq = ++nl->seq;
	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;

	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl->sock, buf, sizeof(buf));
		const struct nlmsghdr *r = (const struct nlmsghdr *)buf;
		int len = (int)n;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (; mnl_nlmsg_ok(r, len); r = mnl_nlmsg_next(r, &len)) {
			const struct nlmsgerr *err;

			/* Anything else (a stray reply to an older request)
			 * is not our answer. */
			if (r->nlmsg_seq != seq || r->nlmsg_type != NLMSG_ERROR)
				continue;
			if (mnl_nlmsg_get_payload_len(r) < sizeof(*err))
				return -EBADMSG;
			err = mnl_nlmsg_get_payload(r);
			if (err->error == 0)
				return 0;
			keep_ext_msg(nl, r);
			return err->error;
		}
	}
}

static struct nlmsghdr *put_link_hdr(char *buf, int flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;

	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = flags;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	return nlh;
}

int sl_netlink_add_veth(struct sl_netlink *nl, const char *name, int ifindex,
			const uint8_t mac[SL_MAC_LEN], const char *peer,
			int peer_ifindex, const uint8_t peer_mac[SL_MAC_LEN],
			int peer_nsfd)
{
	char buf[SL__NL_BUFSZ];
	struct nlmsghdr *nlh = put_link_hdr(buf, NLM_F_CREATE | NLM_F_EXCL);
	struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	struct nlattr *linkinfo, *data, *peerinfo;

	/* With NLM_F_CREATE, an index that names no link yet is the index
	 * the new link gets. */
	ifi->ifi_index = ifindex;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	mnl_attr_put(nlh, IFLA_ADDRESS, SL_MAC_LEN, mac);
	linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	/* The peer is described by a whole ifinfomsg of its own followed by
	 * its attributes, as if it were a second RTM_NEWLINK. */
	peerinfo = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_index = peer_ifindex;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, peer);
	mnl_attr_put(nlh, IFLA_ADDRESS, SL_MAC_LEN, peer_mac);
	mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)peer_nsfd);
	mnl_attr_nest_end(nlh, peerinfo);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, linkinfo);
	return talk(nl, nlh);
}

int sl_netlink_del_link(struct sl_netlink *nl, const char *name)
{
	char buf[SL__NL_BUFSZ];
	struct nlmsghdr *nlh = put_link_hdr(buf, 0);

	nlh->nlmsg_type = RTM_DELLINK;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	return talk(nl, nlh);
}

int sl_netlink_set_up(struct sl_netlink *nl, const char *name)
{
	char buf[SL__NL_BUFSZ];
	struct nlmsghdr *nlh = put_link_hdr(buf, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

	/* ifi_index 0 with IFLA_IFNAME: the kernel looks the link up by name,
	 * which spares us an index lookup. */
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	return talk(nl, nlh);
}

/* Attribute type holding addr as its family has it: 4 bytes for an IPv4
 * address (held as ::ffff:a.b.c.d, ipaddr.h), 16 for IPv6. */
static void put_ip(struct nlmsghdr *nlh, uint16_t type,
		   const struct in6_addr *addr)
{
	struct in_addr v4 = sl_ip_to4(addr);

	if (sl_ip_is4(addr))
		mnl_attr_put(nlh, type, sizeof(v4), &v4);
	else
		mnl_attr_put(nlh, type, sizeof(*addr), addr);
}

int sl_netlink_add_addr(struct sl_netlink *nl, int ifindex,
			const struct in6_addr *addr, int prefixlen)
{
	bool is4 = sl_ip_is4(addr);
	char buf[SL__NL_BUFSZ];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifaddrmsg *ifa;

	nlh->nlmsg_type = RTM_NEWADDR;
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = is4 ? AF_INET : AF_INET6;
	ifa->ifa_prefixlen = (unsigned char)prefixlen;
	if (!is4)
		ifa->ifa_flags = IFA_F_NODAD;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (unsigned int)ifindex;
	/* On a broadcast link IFA_LOCAL is our address and IFA_ADDRESS the
	 * same; `ip addr add` sends both. */
	put_ip(nlh, IFA_LOCAL, addr);
	put_ip(nlh, IFA_ADDRESS, addr);
	return talk(nl, nlh);
}

int sl_netlink_add_default_route(struct sl_netlink *nl,
				 const struct in6_addr *gw)
{
	bool is4 = sl_ip_is4(gw);
	char buf[SL__NL_BUFSZ];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;

	nlh->nlmsg_type = RTM_NEWROUTE;
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = is4 ? AF_INET : AF_INET6;
	rtm->rtm_dst_len = 0;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_BOOT;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	put_ip(nlh, RTA_GATEWAY, gw);
	return talk(nl, nlh);
}

int sl_netlink_replace_neigh(struct sl_netlink *nl, int ifindex,
			     const struct in6_addr *addr,
			     const uint8_t lladdr[SL_MAC_LEN])
{
	char buf[SL__NL_BUFSZ];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ndmsg *ndm;

	nlh->nlmsg_type = RTM_NEWNEIGH;
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
	ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	ndm->ndm_family = sl_ip_is4(addr) ? AF_INET : AF_INET6;
	ndm->ndm_ifindex = ifindex;
	ndm->ndm_state = NUD_PERMANENT;
	put_ip(nlh, NDA_DST, addr);
	mnl_attr_put(nlh, NDA_LLADDR, SL_MAC_LEN, lladdr);
	return talk(nl, nlh);
}

/* One look at the namespace's IPv6 addresses: how many are still
 * tentative (-EADDRNOTAVAIL when duplicate address detection failed on
 * one); *news is set when a notification came in meanwhile, which the dump
 * may or may not reflect. */
static int count_tentative(struct sl_netlink *nl, int *news)
{
	char buf[SL__NL_BUFSZ];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifaddrmsg *ifa;
	unsigned int seq;
	int n = 0;

	nlh->nlmsg_type = RTM_GETADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	seq = nlh->nlmsg_seq = ++nl->seq;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET6;
	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		ssize_t got = mnl_socket_recvfrom(nl->sock, buf, sizeof(buf));
		const struct nlmsghdr *r = (const struct nlmsghdr *)buf;
		int len = (int)got;

		if (got < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (; mnl_nlmsg_ok(r, len); r = mnl_nlmsg_next(r, &len)) {
			const struct ifaddrmsg *a;

			if (r->nlmsg_seq != seq) {
				*news = 1;
				continue;
			}
			if (r->nlmsg_type == NLMSG_DONE)
				return n;
			if (r->nlmsg_type == NLMSG_ERROR)
				return -EBADMSG;
			if (r->nlmsg_type != RTM_NEWADDR ||
			    mnl_nlmsg_get_payload_len(r) < sizeof(*a))
				continue;
			a = mnl_nlmsg_get_payload(r);
			if (a->ifa_flags & IFA_F_DADFAILED)
				return -EADDRNOTAVAIL;
			n += !!(a->ifa_flags & IFA_F_TENTATIVE);
		}
	}
}

int sl_netlink_wait_ipv6_ready(struct sl_netlink *nl, int64_t deadline)
{
	int fd = mnl_socket_get_fd(nl->sock);
	int group = RTNLGRP_IPV6_IFADDR, ret;

	/* Joined before the first look: a change after it is announced. */
	if (setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group,
		       sizeof(group)) < 0)
		return -errno;
	for (;;) {
		int news = 0;
		int64_t left;
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		ret = count_tentative(nl, &news);
		if (ret <= 0)
			break;
		if (news)
			continue;
		left = deadline - sl_now();
		if (left <= 0) {
			ret = -ETIMEDOUT;
			break;
		}
		/* Woken by the kernel's next RTM_NEWADDR, whatever it is:
		 * the next look decides. */
		ret = poll(&pfd, 1, (int)(left / SL_NS_PER_MS) + 1);
		if (ret < 0 && errno != EINTR) {
			ret = -errno;
			break;
		}
	}
	setsockopt(fd, SOL_NETLINK, NETLINK_DROP_MEMBERSHIP, &group,
		   sizeof(group));
	return ret < 0 ? ret : 0;
}
