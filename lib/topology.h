/* topology.h: the hosts of one run, in network namespaces of their own.
 *
 * Default shape (what every experiment gets):
 *
 *   client [eth0] 198.18.S.2/24 --- 198.18.S.1/24 [eth0] router [eth1]
 *       198.19.S.1/24 --- 198.19.S.2/24 [eth0] server
 *
 * S is the run's slot (slot.h), held for the life of the run.  Unique
 * slots give unique namespace names and unique addresses, so tracepoints
 * (global to the machine) can be filtered to one run by address, and any
 * number of runs and socklab processes can share the machine.  What a
 * killed run leaves is found by its slot and removed by name (sweep.h).
 *
 * 198.18.0.0/15 is the block RFC 2544 reserves for benchmarking network
 * devices: it never routes to anybody's real network.  A run over IPv6
 * gets the same shape in 2001:2::/48, the block RFC 5180 reserves for the
 * same purpose, with the IPv4 subnet and slot written into the fourth
 * group so that one reads as the other:
 *
 *   client 2001:2:0:18S::2/64 --- 2001:2:0:18S::1/64 router
 *       2001:2:0:19S::1/64 --- 2001:2:0:19S::2/64 server
 *
 * (S in two hex digits: slot 3 is 2001:2:0:1803::2).  A run has the
 * addresses of its own family only.
 *
 * Every veth end has a fixed Ethernet address, 02:00 (locally
 * administered) followed by the IPv4 address in hex, in either family:
 * 198.18.3.2 is 02:00:c6:12:03:02.  Each host knows its peer's from the
 * start (permanent neighbour entries), so no ARP or neighbour discovery
 * happens on any link during a run (topology.c says why).
 */
#ifndef SL_TOPOLOGY_H
#define SL_TOPOLOGY_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "ipaddr.h"
#include "slot.h"

struct sl_cleanup;
struct sl_err;

#define SL_NETNS_PREFIX "socklab-"

enum sl_host_id {
	SL_HOST_CLIENT = 0,
	SL_HOST_ROUTER = 1,
	SL_HOST_SERVER = 2,
	SL_NHOSTS = 3,
};

struct sl_iface {
	char name[16];	      /* inside the host's namespace: eth0, eth1 */
	struct in6_addr addr; /* of the run's family (ipaddr.h) */
	int prefixlen;
	uint8_t mac[6]; /* 02:00:c6:12:S:2 for 198.18.S.2 */
};

struct sl_host {
	char name[16];	/* "client", "router", "server" */
	char netns[64]; /* "socklab-S-client": ip netns exec <netns> ... */
	int nsfd;	/* open fd of the namespace, O_CLOEXEC */
	int nif;
	struct sl_iface iface[2];
};

/* The size of each host's own TCP established hash table (see
 * private_ehash() in topology.c): what a sock_diag dump walks.  Linux
 * derives two limits of the namespace from it, which experiments that
 * depend on them set explicitly: net.ipv4.tcp_max_tw_buckets (half of it,
 * 512) and net.ipv4.tcp_max_syn_backlog (max(128, 1/128 of it), 128). */
#define SL_EHASH_ENTRIES 1024

struct sl_topology {
	int slot;
	int family; /* AF_INET or AF_INET6: the addresses the hosts have */
	int private_ehash; /* the hosts have their own TCP hash tables */
	int lockfd;
	int origin_nsfd; /* the namespace we came from, to go back */
	/* Made by sl_topology_explain(): nothing exists, and what is asked
	 * of it (sysctls, faults) is printed, not done. */
	int explain;
	struct sl_host host[SL_NHOSTS];
};

/* Builds the topology above, with addresses of family (AF_INET or
 * AF_INET6; IPv6 ones without duplicate address detection, usable at
 * once): claims a free slot, creates the namespaces
 * (visible to `ip netns`), the veth pairs, addresses, permanent neighbour
 * entries for each link's peer, routes, lo up, forwarding on the router,
 * and turns TSO, GSO, GRO and tx checksum offload off on every veth so
 * captures show segments as a wire would carry them.
 * Registers its undo on c before each step that needs one.  Every step is
 * also printed to cmdlog (may be NULL) as the equivalent `ip`/`ethtool`
 * command line.  Returns 0 or -errno with a reason in e. */
int sl_topology_up(struct sl_topology *t, int family, struct sl_cleanup *c,
		   FILE *cmdlog, struct sl_err *e);

/* Moves the calling thread into host's namespace (setns). */
int sl_topology_enter(const struct sl_topology *t, int host, struct sl_err *e);

/* Moves the calling thread back to the namespace it came from. */
int sl_topology_leave(const struct sl_topology *t, struct sl_err *e);

/* Sets a sysctl inside host's namespace only: key in dotted form
 * ("net.ipv4.tcp_rfc1337"), written to /proc/sys/... from inside the
 * namespace.  Printed to cmdlog as `ip netns exec NS sysctl -w key=val`. */
int sl_topology_sysctl(const struct sl_topology *t, int host, const char *key,
		       const char *value, FILE *cmdlog, struct sl_err *e);

/* A host reboots: its namespace is replaced by a fresh one with the same
 * name, link to the router, address and default route, and no socket in
 * it.  The old namespace is cut off first (the router's end of its link is
 * deleted, which deletes the pair) and loses its name; the kernel frees it
 * once nothing holds it any more (a process or an orphaned socket may,
 * for a while).  t->host[host].nsfd is the new namespace on return.  Only
 * the client and the server can be rebuilt.  Registers the new
 * namespace's undo on c and prints every step to cmdlog, like
 * sl_topology_up().  Returns 0 or -errno with a reason in e. */
int sl_topology_rebuild_host(struct sl_topology *t, int host,
			     struct sl_cleanup *c, FILE *cmdlog,
			     struct sl_err *e);

/* Host index by name ("client", ...) or -1. */
int sl_topology_host(const struct sl_topology *t, const char *name);

/* The index in the router's iface[] of its end of host's link (the one on
 * host's subnet), or -1 for the router itself or an unknown host. */
int sl_topology_router_iface(const struct sl_topology *t, int host);

/* Host index owning addr, or -1. */
int sl_topology_host_by_addr(const struct sl_topology *t,
			     const struct in6_addr *addr);

/* Whether a and b are on one subnet of prefixlen bits (either family). */
bool sl_topology_same_subnet(const struct in6_addr *a, const struct in6_addr *b,
			     int prefixlen);

/* The name of host's namespace in slot, exactly as sl_topology_up()
 * spells it ("socklab-3-client"). */
void sl_topology_netns_name(char *buf, size_t n, int slot, int host);

/* The commands that build slot's topology, printed to out as
 * sl_topology_up() logs them, by the same code, with nothing done: no
 * namespace, link or lock is made, and no root is needed.  t then names
 * the hosts and addresses, and has explain set: sysctls and faults asked
 * of it are printed too (setup.h, faults.c).  Returns 0 or -errno. */
int sl_topology_explain(struct sl_topology *t, int slot, FILE *out,
			struct sl_err *e);

/* Marks the topology as kept (`socklab run --keep`) by owner, the real
 * path of the variant's results folder: after the run its namespaces stay,
 * no run claims its slot or removes them as leftovers, and only
 * sl_sweep_all() (`socklab clean`) or sl_sweep_kept_in() of a folder
 * holding owner (`socklab clean <run>`) takes them away. */
int sl_topology_keep(const struct sl_topology *t, const char *owner,
		     struct sl_err *e);

#endif
