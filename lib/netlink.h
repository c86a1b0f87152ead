/* netlink.h: the few rtnetlink requests that build a topology, via libmnl.
 *
 * A netlink socket stays bound to the network namespace it was created in,
 * whatever namespace the thread moves to later: sl_netlink_open() must run
 * while the calling thread is inside the namespace the requests are meant
 * for.  Every request asks for an acknowledgement and waits for it, so a
 * function returns only once the kernel has done the change (or refused
 * it).  Failures return -errno; the kernel's own explanation, when it gives
 * one (extended ack), is kept in ext_msg for the caller's sentence.
 */
#ifndef SL_NETLINK_H
#define SL_NETLINK_H

#include <netinet/in.h>
#include <stdint.h>

#include "ipaddr.h"

struct mnl_socket;

struct sl_netlink {
	struct mnl_socket *sock;
	unsigned int portid;
	unsigned int seq;
	char ext_msg[128]; /* the kernel's word on the last error */
};

/* Opens and binds a NETLINK_ROUTE socket (O_CLOEXEC) in the calling
 * thread's current namespace.  Returns 0 or -errno. */
int sl_netlink_open(struct sl_netlink *nl);

/* Closes the socket; safe on a closed or never opened one (sock NULL). */
void sl_netlink_close(struct sl_netlink *nl);

/* The length of an Ethernet address. */
#define SL_MAC_LEN 6

/* `ip link add NAME index IFINDEX address MAC type veth peer name PEER
 * index PEER_IFINDEX address PEER_MAC netns PEER_NSFD`: the peer is
 * created directly in the namespace of peer_nsfd, under its final name.
 * An index of 0 lets the kernel choose. */
int sl_netlink_add_veth(struct sl_netlink *nl, const char *name, int ifindex,
			const uint8_t mac[SL_MAC_LEN], const char *peer,
			int peer_ifindex, const uint8_t peer_mac[SL_MAC_LEN],
			int peer_nsfd);

/* `ip link del NAME`: for a veth, its peer goes with it. */
int sl_netlink_del_link(struct sl_netlink *nl, const char *name);

/* `ip link set NAME up`. */
int sl_netlink_set_up(struct sl_netlink *nl, const char *name);

/* `ip addr add ADDR/PREFIXLEN dev IFINDEX`, of ADDR's family (ipaddr.h);
 * an IPv6 one with `nodad`: usable at once, without the second or more of
 * duplicate address detection, on a link where nobody else can have it. */
int sl_netlink_add_addr(struct sl_netlink *nl, int ifindex,
			const struct in6_addr *addr, int prefixlen);

/* `ip route add default via GW` in the main table, of GW's family. */
int sl_netlink_add_default_route(struct sl_netlink *nl,
				 const struct in6_addr *gw);

/* `ip neigh replace ADDR lladdr LLADDR dev IFINDEX nud permanent`, in
 * ADDR's family (ARP for IPv4, neighbour discovery for IPv6): the kernel
 * neither resolves, probes nor expires it.  Taking the link down or
 * changing its address removes the entry; losing the carrier does not. */
int sl_netlink_replace_neigh(struct sl_netlink *nl, int ifindex,
			     const struct in6_addr *addr,
			     const uint8_t lladdr[SL_MAC_LEN]);

/* Waits until no IPv6 address of the socket's namespace is tentative: a
 * link's addresses stay so, `nodad` or not, until the kernel's workers
 * (which need the RTNL lock that other namespaces' creation holds) have
 * seen the link come up, and a tentative address answers no neighbour
 * solicitation.  Woken by the kernel's address notifications, never by a
 * timer of its own; gives up at deadline (CLOCK_MONOTONIC ns) with
 * -ETIMEDOUT, and returns -EADDRNOTAVAIL when detection found a
 * duplicate.  0 when all are usable. */
int sl_netlink_wait_ipv6_ready(struct sl_netlink *nl, int64_t deadline);

#endif
