/* topology.c: the hosts of one run, in network namespaces (topology.h).
 *
 * The special problem of namespaces: a network namespace belongs to a
 * thread, not to a process.  unshare(CLONE_NEWNET) and setns() move only the
 * calling thread, and everything that resolves "the current namespace" does
 * so at the moment it is created or opened: a netlink or ioctl socket stays
 * bound to the namespace it was created in, /proc/sys/net/... to the one it
 * was opened in, /proc/thread-self/ns/net to the thread's own at open time.
 * So this module builds everything from the calling thread, steps into a
 * namespace only to create what must live there (the namespace itself, its
 * sockets, a sysctl write) and always steps back before returning, on error
 * paths too.  Sockets created inside keep working from outside, which is why
 * the whole build needs only one unshare() and one setns() per host.
 *
 * Named namespaces are bind mounts, exactly as `ip netns add` makes them
 * (netns.h).
 *
 * Everything is done in-process (no `ip` child per step): a topology comes
 * up and goes away in a few milliseconds, which is what lets experiments
 * give every variant a fresh one.  Tearing down is cheap too: unmounting and
 * closing the last references lets the kernel destroy the namespace, with
 * its veths, addresses and routes, in a worker of its own, after we return.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <sys/mount.h>
#include <sys/socket.h>

#include "cleanup.h"
#include "clock.h"
#include "err.h"
#include "exec.h"
#include "netlink.h"
#include "netns.h"
#include "offloads.h"
#include "slot.h"
#include "topology.h"

/* What the build holds only while it runs: per host, a netlink socket and
 * an ioctl socket, both created inside the host's namespace. */
struct build {
	struct sl_topology *t;
	struct sl_cleanup *c;
	FILE *cmdlog;
	struct sl_err *e;
	struct sl_netlink nl[SL_NHOSTS];
	int ioc[SL_NHOSTS];
	struct sl_offloads off; /* the same for every device */
};

_Static_assert(sizeof(((struct sl_iface *)0)->mac) == SL_MAC_LEN,
	       "an interface's Ethernet address is SL_MAC_LEN bytes");

/* The special problem of veth link state: the kernel applies a carrier
 * change at once only for a device it takes for a stacked one, and it
 * tells those apart by their index differing from their peer's
 * (linkwatch_urgent_event()).  Indexes are per namespace, so both ends of
 * a pair made in fresh namespaces get index 2, and the end brought up
 * second then stays operationally DOWN (NO-CARRIER in `ip link`) for up to
 * a second, until the kernel's next batch of link events.  Giving every
 * veth end an index of its own, unique in the topology, avoids that:
 * client eth0 2, router eth0 3, router eth1 4, server eth0 5. */
static int veth_index(int host, int iface)
{
	static const int first[SL_NHOSTS] = {
		[SL_HOST_CLIENT] = 2,
		[SL_HOST_ROUTER] = 3,
		[SL_HOST_SERVER] = 5,
	};

	return first[host] + iface;
}

/* Undo of one host's namespace.  Its veths, addresses and routes go with
 * it once the last reference (mount, fd, sockets) is dropped. */
static void undo_netns(void *arg)
{
	struct sl_host *h = arg;

	sl_netns_del(h->netns);
	if (h->nsfd >= 0)
		close(h->nsfd);
	h->nsfd = -1;
}

/* Undo of the slot, run last (slot.h). */
static void undo_slot(void *arg)
{
	struct sl_topology *t = arg;

	if (t->origin_nsfd >= 0)
		close(t->origin_nsfd);
	t->origin_nsfd = -1;
	sl_slot_release(t->slot, t->lockfd);
	t->lockfd = -1;
}

static void log_cmd(FILE *cmdlog, const char *const argv[])
{
	if (cmdlog)
		sl_print_argv(cmdlog, "", argv);
}

static void log_sysctl(FILE *cmdlog, const char *netns, const char *key,
		       const char *value)
{
	char kv[320];
	const char *argv[] = { "ip",	 "netns", "exec", netns,
			       "sysctl", "-w",	  kv,	  NULL };

	snprintf(kv, sizeof(kv), "%s=%s", key, value);
	log_cmd(cmdlog, argv);
}

/* The sentence for a failed rtnetlink request, with the kernel's own
 * explanation when it gave one. */
static int nl_errf(struct build *b, int i, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int nl_errf(struct build *b, int i, int ret, const char *fmt, ...)
{
	const char *ext = b->nl[i].ext_msg;
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (*ext)
		return sl_errf(b->e, -ret, "%s (kernel: %s)", what, ext);
	return sl_errf(b->e, -ret, "%s", what);
}

static void private_ehash(struct build *b, const struct sl_host *h);

/* How long a host's IPv6 addresses may stay tentative before the
 * topology is an error: a ceiling for a stuck kernel, not a wait (the wait
 * ends at the kernel's notification), generous for a loaded machine. */
#define SL_IPV6_READY_S 30

/* Inside the fresh namespace of host i: name it, keep an fd on it and
 * open the sockets that the rest of the build uses there. */
static int fill_netns(struct build *b, int i, const char *path)
{
	struct sl_host *h = &b->t->host[i];
	int ret;

	if (mount(SL_SELF_NETNS, path, "none", MS_BIND, NULL) < 0)
		return sl_errf(b->e, errno,
			       "ip netns add %s: mount --bind " SL_SELF_NETNS
			       " %s",
			       h->netns, path);
	h->nsfd = open(SL_SELF_NETNS, O_RDONLY | O_CLOEXEC);
	if (h->nsfd < 0)
		return sl_errf(b->e, errno, "open namespace of %s", h->netns);
	ret = sl_netlink_open(&b->nl[i]);
	if (ret < 0)
		return sl_errf(b->e, -ret, "open rtnetlink in %s", h->netns);
	b->ioc[i] = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (b->ioc[i] < 0)
		return sl_errf(b->e, errno, "open ioctl socket in %s",
			       h->netns);
	/* Now, while the thread is here: /proc/sys/net resolves the namespace
	 * of whoever opens it.  Before any link exists, too, since toggling
	 * forwarding resets per-device settings (LRO) on existing links.
	 *
	 * Over IPv6, no duplicate address detection on the links to come
	 * (each takes the namespace's default): `nodad` spares the global
	 * addresses, but the link-local ones would stay tentative for a
	 * second, and ipv6_ready() would wait that second for every
	 * topology.  (Before the neighbours were permanent, add_neigh(), it
	 * was the first SYN that waited: a forwarded packet's source is not
	 * the router's own, so it solicits from its link-local address.) */
	if (b->t->family == AF_INET6) {
		const char *dad = "net.ipv6.conf.default.accept_dad";

		log_sysctl(b->cmdlog, h->netns, dad, "0");
		ret = sl_netns_write_sysctl(dad, "0");
		if (ret < 0)
			return sl_errf(b->e, -ret, "sysctl -w %s=0 in %s", dad,
				       h->netns);
	}
	if (i == SL_HOST_ROUTER) {
		const char *fwd = b->t->family == AF_INET6 ?
					  "net.ipv6.conf.all.forwarding" :
					  "net.ipv4.ip_forward";

		log_sysctl(b->cmdlog, h->netns, fwd, "1");
		ret = sl_netns_write_sysctl(fwd, "1");
		if (ret < 0)
			return sl_errf(b->e, -ret, "sysctl -w %s=1 in %s", fwd,
				       h->netns);
		private_ehash(b, h);
	}
	return 0;
}

/* The special problem of sock_diag's cost: every network namespace shares
 * the machine's TCP established hash unless it was given its own, and a
 * dump walks every bucket of the table it sees, whoever's sockets are in
 * it.  On a machine with a few GB that is 2^18 buckets and a millisecond
 * or more per dump, however few sockets the run has, and the cost grows
 * with the machine: the observers would spend the CPU that the roles'
 * timings need.  net.ipv4.tcp_child_ehash_entries, set in a namespace,
 * gives every namespace created from inside it a table of its own of that
 * size (tcp_set_hashinfo() reads the creator's setting).  The router is
 * the run's "mother" namespace: it is set there, and the client and the
 * server are created from inside it, so their dumps walk SL_EHASH_ENTRIES
 * buckets on any machine.  The router's own table stays the machine's
 * (it owns no socket of the experiment).  On a kernel without the sysctl
 * (before 6.1) the hosts share the machine's table and observation is
 * only slower: nothing is judged by how long a dump took. */
static void private_ehash(struct build *b, const struct sl_host *h)
{
	char v[16];
	int ret;

	snprintf(v, sizeof(v), "%d", SL_EHASH_ENTRIES);
	log_sysctl(b->cmdlog, h->netns, "net.ipv4.tcp_child_ehash_entries", v);
	if (b->t->explain)
		return;
	ret = sl_netns_write_sysctl("net.ipv4.tcp_child_ehash_entries", v);
	b->t->private_ehash = ret == 0;
	if (ret < 0 && b->cmdlog)
		fprintf(b->cmdlog,
			"# not set (%s): the hosts share the "
			"machine's TCP hash table\n",
			strerror(-ret));
}

/* `ip netns add` for host i.  The thread is back in the origin namespace
 * when this returns, whatever happened. */
static int add_netns(struct build *b, int i)
{
	struct sl_host *h = &b->t->host[i];
	const struct sl_host *mother = &b->t->host[SL_HOST_ROUTER];
	/* The client and the server are made from inside the router, whose
	 * tcp_child_ehash_entries gives them a TCP hash table of their own
	 * (private_ehash()); the router is made from where we are.  By hand
	 * that is nsenter, which changes only the network namespace: `ip
	 * netns exec` would also give the command a mount namespace of its
	 * own, and the new name would be mounted there, out of sight. */
	char net[128];
	const char *argv[] = { "nsenter", net,	    "ip", "netns",
			       "add",	  h->netns, NULL };
	int from_mother = i != SL_HOST_ROUTER && mother->nsfd >= 0;
	char path[128];
	int fd, ret;

	snprintf(net, sizeof(net), "--net=" SL_NETNS_DIR "/%s", mother->netns);
	/* Explained, the client and the server are made from the router
	 * too, as a run makes them. */
	if (b->t->explain)
		from_mother = i != SL_HOST_ROUTER;
	log_cmd(b->cmdlog, from_mother ? argv : argv + 2);
	if (b->t->explain) {
		if (i == SL_HOST_ROUTER) {
			log_sysctl(b->cmdlog, h->netns, "net.ipv4.ip_forward",
				   "1");
			private_ehash(b, h);
		}
		return 0;
	}
	sl_netns_path(path, sizeof(path), h->netns);
	fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
	if (fd < 0)
		return sl_errf(b->e, errno, "ip netns add %s: create %s",
			       h->netns, path);
	close(fd);
	/* The file exists: its removal is registered before anything else
	 * can fail. */
	ret = sl_cleanup_push(b->c, undo_netns, h, h->netns);
	if (ret < 0) {
		sl_netns_del(h->netns);
		return sl_errf(b->e, -ret, "register undo of %s", h->netns);
	}
	if (from_mother && setns(mother->nsfd, CLONE_NEWNET) < 0)
		return sl_errf(b->e, errno, "ip netns add %s: enter %s",
			       h->netns, mother->netns);
	if (unshare(CLONE_NEWNET) < 0) {
		ret = sl_errf(b->e, errno, "ip netns add %s: unshare",
			      h->netns);
		if (from_mother && setns(b->t->origin_nsfd, CLONE_NEWNET) < 0)
			ret = sl_errf(b->e, errno,
				      "return to own namespace "
				      "from %s",
				      mother->netns);
		return ret;
	}
	ret = fill_netns(b, i, path);
	if (setns(b->t->origin_nsfd, CLONE_NEWNET) < 0)
		ret = sl_errf(b->e, errno,
			      "return to own namespace after "
			      "creating %s",
			      h->netns);
	return ret;
}

/* "02:00:c6:12:03:02": 17 characters and the terminator. */
#define SL_MACSTRLEN 18

static void mac_ntoa(const uint8_t mac[SL_MAC_LEN], char buf[SL_MACSTRLEN])
{
	snprintf(buf, SL_MACSTRLEN, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0],
		 mac[1], mac[2], mac[3], mac[4], mac[5]);
}

/* A veth pair created whole from host a's namespace, its peer born in host
 * z's namespace under its final name. */
static int add_veth(struct build *b, int a, int ka, int z, int kz)
{
	struct sl_host *ha = &b->t->host[a], *hz = &b->t->host[z];
	const struct sl_iface *ia = &ha->iface[ka], *iz = &hz->iface[kz];
	char aidx[12], zidx[12], amac[SL_MACSTRLEN], zmac[SL_MACSTRLEN];
	const char *argv[] = { "ip",	  "-n",	     ha->netns, "link",
			       "add",	  ia->name,  "index",	aidx,
			       "address", amac,	     "type",	"veth",
			       "peer",	  "name",    iz->name,	"index",
			       zidx,	  "address", zmac,	"netns",
			       hz->netns, NULL };
	int ret;

	snprintf(aidx, sizeof(aidx), "%d", veth_index(a, ka));
	snprintf(zidx, sizeof(zidx), "%d", veth_index(z, kz));
	mac_ntoa(ia->mac, amac);
	mac_ntoa(iz->mac, zmac);
	log_cmd(b->cmdlog, argv);
	if (b->t->explain)
		return 0;
	ret = sl_netlink_add_veth(&b->nl[a], ia->name, veth_index(a, ka),
				  ia->mac, iz->name, veth_index(z, kz), iz->mac,
				  hz->nsfd);
	if (ret < 0)
		return nl_errf(b, a, ret, "add veth %s in %s (peer %s in %s)",
			       ia->name, ha->netns, iz->name, hz->netns);
	return 0;
}

static int offloads_off(struct build *b, int i, const char *ifname)
{
	const char *argv[] = { "ip",	  "netns", "exec", b->t->host[i].netns,
			       "ethtool", "-K",	   ifname, "tso",
			       "off",	  "gso",   "off",  "gro",
			       "off",	  "tx",	   "off",  NULL };

	log_cmd(b->cmdlog, argv);
	if (b->t->explain)
		return 0;
	return sl_offloads_off(&b->off, b->ioc[i], ifname, b->t->host[i].netns,
			       b->e);
}

static int link_settled(struct build *b, int i, const char *ifname)
{
	if (b->t->explain)
		return 0;
	return sl_offloads_settle_link(b->ioc[i], ifname, b->t->host[i].netns,
				       b->e);
}

static int set_up(struct build *b, int i, const char *ifname)
{
	struct sl_host *h = &b->t->host[i];
	const char *argv[] = { "ip",  "-n",   h->netns, "link",
			       "set", ifname, "up",	NULL };
	int ret;

	log_cmd(b->cmdlog, argv);
	if (b->t->explain)
		return 0;
	ret = sl_netlink_set_up(&b->nl[i], ifname);
	if (ret < 0)
		return nl_errf(b, i, ret, "set %s up in %s", ifname, h->netns);
	return 0;
}

static int add_addr(struct build *b, int i, int k)
{
	const struct sl_iface *ifc = &b->t->host[i].iface[k];
	struct sl_host *h = &b->t->host[i];
	char cidr[SL_IPSTRLEN + 4];
	const char *argv4[] = { "ip", "-n",  h->netns,	"addr", "add",
				cidr, "dev", ifc->name, NULL };
	const char *argv6[] = { "ip", "-n",  h->netns,	"addr",	 "add",
				cidr, "dev", ifc->name, "nodad", NULL };
	int ret;

	sl_ip_ntop(&ifc->addr, cidr, sizeof(cidr));
	snprintf(cidr + strlen(cidr), sizeof(cidr) - strlen(cidr), "/%d",
		 ifc->prefixlen);
	log_cmd(b->cmdlog, sl_ip_is4(&ifc->addr) ? argv4 : argv6);
	if (b->t->explain)
		return 0;
	ret = sl_netlink_add_addr(&b->nl[i], veth_index(i, k), &ifc->addr,
				  ifc->prefixlen);
	if (ret < 0)
		return nl_errf(b, i, ret, "add address %s to %s in %s", cidr,
			       ifc->name, h->netns);
	return 0;
}

static int add_default_route(struct build *b, int i, struct in6_addr gw)
{
	struct sl_host *h = &b->t->host[i];
	char via[SL_IPSTRLEN];
	const char *argv[] = { "ip",	  "-n",	 h->netns, "route", "add",
			       "default", "via", via,	   NULL };
	int ret;

	sl_ip_ntop(&gw, via, sizeof(via));
	log_cmd(b->cmdlog, argv);
	if (b->t->explain)
		return 0;
	ret = sl_netlink_add_default_route(&b->nl[i], &gw);
	if (ret < 0)
		return nl_errf(b, i, ret, "add default route via %s in %s", via,
			       h->netns);
	return 0;
}

/* The host on the other end of host i's interface k (its interface there
 * in *pk), or -1. */
static int link_peer(const struct sl_topology *t, int i, int k, int *pk)
{
	const struct sl_iface *ifc = &t->host[i].iface[k];

	for (int j = 0; j < SL_NHOSTS; j++) {
		if (j == i)
			continue;
		for (int l = 0; l < t->host[j].nif; l++)
			if (sl_topology_same_subnet(&t->host[j].iface[l].addr,
						    &ifc->addr,
						    ifc->prefixlen)) {
				*pk = l;
				return j;
			}
	}
	return -1;
}

/* The special problem of neighbour resolution under a fault: tc netem
 * delays, or drops, everything that leaves the router's interface, its
 * ARP requests and neighbour solicitations and advertisements too,
 * whereas socklab's own link emulator only ever sees forwarded TCP
 * segments.  Resolved on demand, the first segment across a delayed link
 * waited for the delayed request and then for its own delay: in a guest
 * on Debian's 6.1 kernel, under a 110 ms delay, the first SYN took 233 ms
 * through the router over IPv4, and over IPv6, where the router's answer
 * to the server's solicitation is delayed as well, the SYN-ACK came back
 * 345 ms after the SYN.  A loss fault could drop the requests and leave
 * the neighbour FAILED, and the router would then answer with "host
 * unreachable".  So the same fault meant different things on the two
 * backends.
 *
 * The topology chose every link's Ethernet addresses (set_iface()), so it
 * tells each host its peer's up front, as a permanent entry that the
 * kernel never resolves, probes or expires: no neighbour traffic crosses
 * any link during a run, and a fault delays or drops exactly the segments
 * it names, on either backend and in either family.  Restricting netem to
 * TCP (a prio qdisc, a band of netem and a filter) would mend the delay
 * too, but with more qdiscs and classifiers that a kernel may lack, and
 * would still leave a resolution on the first segment's way, and in the
 * captures, on both backends.
 *
 * An entry goes with its link when the link goes down (not when only its
 * carrier does), so it is added once the link is up.
 *
 * add_neigh(): `ip neigh replace PEER lladdr MAC dev IF nud permanent` on
 * host i's interface k, for the one other host on that link. */
static int add_neigh(struct build *b, int i, int k)
{
	struct sl_host *h = &b->t->host[i];
	const struct sl_iface *ifc = &h->iface[k], *peer;
	char to[SL_IPSTRLEN], mac[SL_MACSTRLEN];
	const char *argv[] = { "ip",  "-n",	   h->netns, "neigh", "replace",
			       to,    "lladdr",	   mac,	     "dev",   ifc->name,
			       "nud", "permanent", NULL };
	int j, l, ret;

	j = link_peer(b->t, i, k, &l);
	if (j < 0)
		return sl_errf(b->e, ENODEV, "no host on the link of %s in %s",
			       ifc->name, h->netns);
	peer = &b->t->host[j].iface[l];
	sl_ip_ntop(&peer->addr, to, sizeof(to));
	mac_ntoa(peer->mac, mac);
	log_cmd(b->cmdlog, argv);
	if (b->t->explain)
		return 0;
	ret = sl_netlink_replace_neigh(&b->nl[i], veth_index(i, k), &peer->addr,
				       peer->mac);
	if (ret < 0)
		return nl_errf(b, i, ret,
			       "add neighbour %s lladdr %s on %s in %s", to,
			       mac, ifc->name, h->netns);
	return 0;
}

/* Addresses first, then links up, then the neighbours on each: the order
 * a learner types them in, and the kernel adds the connected routes when
 * each link comes up. */
static int configure_host(struct build *b, int i)
{
	struct sl_host *h = &b->t->host[i];
	int ret;

	for (int k = 0; k < h->nif; k++) {
		ret = add_addr(b, i, k);
		if (ret < 0)
			return ret;
	}
	ret = set_up(b, i, "lo");
	for (int k = 0; k < h->nif && ret == 0; k++)
		ret = set_up(b, i, h->iface[k].name);
	for (int k = 0; k < h->nif && ret == 0; k++)
		ret = add_neigh(b, i, k);
	return ret;
}

static void set_iface(struct sl_host *h, int family, const char *name, int net,
		      int slot, int last)
{
	struct sl_iface *ifc = &h->iface[h->nif++];
	struct in_addr v4;

	snprintf(ifc->name, sizeof(ifc->name), "%s", name);
	/* 02:00 and the IPv4 address of the same place, in either family:
	 * locally administered and unique in the machine, and a pcap's
	 * Ethernet header says which host sent the frame. */
	ifc->mac[0] = 0x02;
	ifc->mac[1] = 0x00;
	ifc->mac[2] = 198;
	ifc->mac[3] = (uint8_t)net;
	ifc->mac[4] = (uint8_t)slot;
	ifc->mac[5] = (uint8_t)last;
	if (family == AF_INET6) {
		/* 2001:2:0:NNSS::x/64, RFC 5180's benchmarking block, NN
		 * the IPv4 subnet (18, 19) in decimal digits and SS the
		 * slot in hex: 2001:2:0:1803::2 is 198.18.3.2. */
		memset(&ifc->addr, 0, sizeof(ifc->addr));
		ifc->addr.s6_addr[0] = 0x20;
		ifc->addr.s6_addr[1] = 0x01;
		ifc->addr.s6_addr[3] = 0x02;
		ifc->addr.s6_addr[6] = (uint8_t)(((net / 10) << 4) | net % 10);
		ifc->addr.s6_addr[7] = (uint8_t)slot;
		ifc->addr.s6_addr[15] = (uint8_t)last;
		ifc->prefixlen = 64;
		return;
	}
	/* 198.18.S.x and 198.19.S.x: the RFC 2544 benchmarking block. */
	v4.s_addr = htonl((198u << 24) | ((unsigned int)net << 16) |
			  ((unsigned int)slot << 8) | (unsigned int)last);
	ifc->addr = sl_ip_from4(v4);
	ifc->prefixlen = 24;
}

static const char *const host_names[SL_NHOSTS] = {
	[SL_HOST_CLIENT] = "client",
	[SL_HOST_ROUTER] = "router",
	[SL_HOST_SERVER] = "server",
};

void sl_topology_netns_name(char *buf, size_t n, int slot, int host)
{
	snprintf(buf, n, SL_NETNS_PREFIX "%d-%s", slot, host_names[host]);
}

/* Names and addresses of slot's hosts; no fd is open yet. */
static void describe(struct sl_topology *t, int slot)
{
	t->slot = slot;
	for (int i = 0; i < SL_NHOSTS; i++) {
		struct sl_host *h = &t->host[i];

		memset(h, 0, sizeof(*h));
		h->nsfd = -1;
		snprintf(h->name, sizeof(h->name), "%s", host_names[i]);
		sl_topology_netns_name(h->netns, sizeof(h->netns), slot, i);
	}
	set_iface(&t->host[SL_HOST_CLIENT], t->family, "eth0", 18, slot, 2);
	set_iface(&t->host[SL_HOST_ROUTER], t->family, "eth0", 18, slot, 1);
	set_iface(&t->host[SL_HOST_ROUTER], t->family, "eth1", 19, slot, 1);
	set_iface(&t->host[SL_HOST_SERVER], t->family, "eth0", 19, slot, 2);
}

static void build_begin(struct build *b, struct sl_topology *t,
			struct sl_cleanup *c, FILE *cmdlog, struct sl_err *e)
{
	memset(b, 0, sizeof(*b));
	b->t = t;
	b->c = c;
	b->cmdlog = cmdlog;
	b->e = e;
	for (int i = 0; i < SL_NHOSTS; i++)
		b->ioc[i] = -1;
}

static void build_end(struct build *b)
{
	for (int i = 0; i < SL_NHOSTS; i++) {
		sl_netlink_close(&b->nl[i]);
		if (b->ioc[i] >= 0)
			close(b->ioc[i]);
	}
	sl_offloads_free(&b->off);
}

/* Over IPv6, until host i's addresses are usable (netlink.h): a tentative
 * address can be neither bound nor picked as a source, so a role's first
 * bind() or connect() could fail.  Nothing to wait for over IPv4, where
 * addresses have no such state. */
static int ipv6_ready(struct build *b, int i)
{
	int ret;

	if (b->t->family != AF_INET6)
		return 0;
	ret = sl_netlink_wait_ipv6_ready(
		&b->nl[i], sl_now() + SL_IPV6_READY_S * SL_NS_PER_SEC);
	if (ret < 0)
		return sl_errf(b->e, -ret,
			       "IPv6 addresses in %s still not usable "
			       "(tentative) after %d s",
			       b->t->host[i].netns, SL_IPV6_READY_S);
	return 0;
}

/* Every host, link, address and route of the slot, in the order a
 * learner would type them. */
static int build_all(struct build *b)
{
	struct sl_topology *t = b->t;
	int ret;

	/* The router first: the others are made from inside it. */
	ret = add_netns(b, SL_HOST_ROUTER);
	for (int i = 0; i < SL_NHOSTS && ret == 0; i++)
		if (i != SL_HOST_ROUTER)
			ret = add_netns(b, i);
	if (ret == 0)
		ret = add_veth(b, SL_HOST_CLIENT, 0, SL_HOST_ROUTER, 0);
	if (ret == 0)
		ret = add_veth(b, SL_HOST_ROUTER, 1, SL_HOST_SERVER, 0);
	/* Offloads off before any link is up, so that not even the first
	 * packet leaves with them. */
	for (int i = 0; i < SL_NHOSTS; i++)
		for (int k = 0; k < t->host[i].nif && ret == 0; k++)
			ret = offloads_off(b, i, t->host[i].iface[k].name);
	for (int i = 0; i < SL_NHOSTS && ret == 0; i++)
		ret = configure_host(b, i);
	if (ret == 0)
		ret = add_default_route(b, SL_HOST_CLIENT,
					t->host[SL_HOST_ROUTER].iface[0].addr);
	if (ret == 0)
		ret = add_default_route(b, SL_HOST_SERVER,
					t->host[SL_HOST_ROUTER].iface[1].addr);
	for (int i = 0; i < SL_NHOSTS; i++)
		for (int k = 0; k < t->host[i].nif && ret == 0; k++)
			ret = link_settled(b, i, t->host[i].iface[k].name);
	for (int i = 0; i < SL_NHOSTS && ret == 0; i++)
		ret = ipv6_ready(b, i);
	return ret;
}

int sl_topology_up(struct sl_topology *t, int family, struct sl_cleanup *c,
		   FILE *cmdlog, struct sl_err *e)
{
	struct build b;
	int ret;

	memset(t, 0, sizeof(*t));
	if (family != AF_INET && family != AF_INET6)
		return sl_errf(e, EAFNOSUPPORT, "build topology: family %d",
			       family);
	t->family = family;
	t->lockfd = -1;
	t->origin_nsfd = -1;
	for (int i = 0; i < SL_NHOSTS; i++)
		t->host[i].nsfd = -1;

	ret = sl_slot_dir(e);
	if (ret < 0)
		return ret;
	t->origin_nsfd = open(SL_SELF_NETNS, O_RDONLY | O_CLOEXEC);
	if (t->origin_nsfd < 0)
		return sl_errf(e, errno, "open " SL_SELF_NETNS);
	ret = sl_slot_claim(&t->slot, e);
	if (ret < 0) {
		close(t->origin_nsfd);
		t->origin_nsfd = -1;
		return ret;
	}
	t->lockfd = ret;
	ret = sl_cleanup_push(c, undo_slot, t, "slot lock");
	if (ret < 0) {
		undo_slot(t);
		return sl_errf(e, -ret, "register undo of slot %d", t->slot);
	}
	describe(t, t->slot);
	/* We hold the slot, so a namespace that still has one of its names
	 * is what a killed run of this slot left and no sweep took yet. */
	for (int i = 0; i < SL_NHOSTS; i++)
		sl_netns_del(t->host[i].netns);

	ret = sl_netns_dir_ready(e);
	if (ret < 0)
		return ret;
	build_begin(&b, t, c, cmdlog, e);
	ret = build_all(&b);
	build_end(&b);
	return ret;
}

int sl_topology_explain(struct sl_topology *t, int slot, FILE *out,
			struct sl_err *e)
{
	struct build b;
	int ret;

	memset(t, 0, sizeof(*t));
	t->lockfd = -1;
	t->origin_nsfd = -1;
	describe(t, slot);
	t->explain = 1;
	build_begin(&b, t, NULL, out, e);
	ret = build_all(&b);
	build_end(&b);
	return ret;
}

static int check_host(const struct sl_topology *t, int host, struct sl_err *e)
{
	if (host < 0 || host >= SL_NHOSTS ||
	    (t->host[host].nsfd < 0 && !t->explain))
		return sl_errf(e, EINVAL, "no host %d in this topology", host);
	return 0;
}

int sl_topology_enter(const struct sl_topology *t, int host, struct sl_err *e)
{
	int ret = check_host(t, host, e);

	if (ret < 0)
		return ret;
	if (setns(t->host[host].nsfd, CLONE_NEWNET) < 0)
		return sl_errf(e, errno, "enter %s", t->host[host].netns);
	return 0;
}

int sl_topology_leave(const struct sl_topology *t, struct sl_err *e)
{
	if (t->origin_nsfd < 0)
		return sl_errf(e, EINVAL, "leave: topology is not up");
	if (setns(t->origin_nsfd, CLONE_NEWNET) < 0)
		return sl_errf(e, errno, "return to own namespace");
	return 0;
}

int sl_topology_sysctl(const struct sl_topology *t, int host, const char *key,
		       const char *value, FILE *cmdlog, struct sl_err *e)
{
	const struct sl_host *h;
	int ret = check_host(t, host, e);
	int back;

	if (ret < 0)
		return ret;
	h = &t->host[host];
	/* Only net.* sysctls belong to a network namespace: writing any other
	 * from inside one would change the machine itself. */
	if (strncmp(key, "net.", 4) != 0 || strchr(key, '/') ||
	    strstr(key, ".."))
		return sl_errf(e, EINVAL,
			       "sysctl %s in %s: not a "
			       "per-namespace (net.*) key",
			       key, h->netns);
	log_sysctl(cmdlog, h->netns, key, value);
	if (t->explain)
		return 0;

	/* Back to wherever the thread was, which is not necessarily the
	 * origin: a role may call this from inside its own host. */
	back = open(SL_SELF_NETNS, O_RDONLY | O_CLOEXEC);
	if (back < 0)
		return sl_errf(e, errno, "open " SL_SELF_NETNS);
	if (setns(h->nsfd, CLONE_NEWNET) < 0) {
		ret = sl_errf(e, errno, "sysctl -w %s=%s: enter %s", key, value,
			      h->netns);
		goto out;
	}
	ret = sl_netns_write_sysctl(key, value);
	if (ret < 0)
		sl_errf(e, -ret, "sysctl -w %s=%s in %s", key, value, h->netns);
	if (setns(back, CLONE_NEWNET) < 0)
		ret = sl_errf(e, errno,
			      "return to own namespace after sysctl "
			      "in %s",
			      h->netns);
out:
	close(back);
	return ret;
}

int sl_topology_router_iface(const struct sl_topology *t, int host)
{
	const struct sl_host *r = &t->host[SL_HOST_ROUTER];
	const struct sl_iface *hi;

	if (host != SL_HOST_CLIENT && host != SL_HOST_SERVER)
		return -1;
	hi = &t->host[host].iface[0];

	for (int k = 0; k < r->nif; k++)
		if (sl_topology_same_subnet(&r->iface[k].addr, &hi->addr,
					    r->iface[k].prefixlen))
			return k;
	return -1;
}

/* The netlink and ioctl sockets of a host that already exists, opened from
 * inside it as fill_netns() opens them for a new one. */
static int open_sockets_in(struct build *b, int i)
{
	struct sl_host *h = &b->t->host[i];
	int ret = 0;

	if (setns(h->nsfd, CLONE_NEWNET) < 0)
		return sl_errf(b->e, errno, "enter %s", h->netns);
	ret = sl_netlink_open(&b->nl[i]);
	if (ret < 0) {
		sl_errf(b->e, -ret, "open rtnetlink in %s", h->netns);
	} else {
		b->ioc[i] = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (b->ioc[i] < 0)
			ret = sl_errf(b->e, errno, "open ioctl socket in %s",
				      h->netns);
	}
	if (setns(b->t->origin_nsfd, CLONE_NEWNET) < 0)
		ret = sl_errf(b->e, errno, "return to own namespace from %s",
			      h->netns);
	return ret;
}

/* `ip -n ROUTER link del IF`: the router's end of host's link, and with it
 * the host's end in the old namespace. */
static int del_router_link(struct build *b, int k)
{
	struct sl_host *r = &b->t->host[SL_HOST_ROUTER];
	const char *argv[] = { "ip",   "-n",  r->netns,
			       "link", "del", r->iface[k].name,
			       NULL };
	int ret;

	log_cmd(b->cmdlog, argv);
	ret = sl_netlink_del_link(&b->nl[SL_HOST_ROUTER], r->iface[k].name);
	if (ret < 0)
		return nl_errf(b, SL_HOST_ROUTER, ret, "delete %s in %s",
			       r->iface[k].name, r->netns);
	return 0;
}

int sl_topology_rebuild_host(struct sl_topology *t, int host,
			     struct sl_cleanup *c, FILE *cmdlog,
			     struct sl_err *e)
{
	const char *argv[] = { "ip", "netns", "del", NULL, NULL };
	struct build b;
	struct sl_host *h;
	int k, ret;

	if (host != SL_HOST_CLIENT && host != SL_HOST_SERVER)
		return sl_errf(e, EINVAL,
			       "rebuild host %d: only the client "
			       "and the server can be rebuilt",
			       host);
	h = &t->host[host];
	k = sl_topology_router_iface(t, host);
	if (k < 0 || t->origin_nsfd < 0)
		return sl_errf(e, EINVAL, "rebuild %s: topology is not up",
			       h->netns);
	build_begin(&b, t, c, cmdlog, e);

	ret = open_sockets_in(&b, SL_HOST_ROUTER);
	if (ret == 0)
		ret = del_router_link(&b, k);
	if (ret < 0)
		goto out;
	/* The old namespace loses its name and our reference; whoever else
	 * still holds it holds an island with only lo. */
	argv[3] = h->netns;
	log_cmd(cmdlog, argv);
	ret = sl_netns_del(h->netns);
	if (ret < 0) {
		sl_errf(e, -ret, "ip netns del %s", h->netns);
		goto out;
	}
	if (h->nsfd >= 0)
		close(h->nsfd);
	h->nsfd = -1;

	/* Then the same steps as sl_topology_up() takes for this host. */
	ret = add_netns(&b, host);
	if (ret == 0)
		ret = add_veth(&b, SL_HOST_ROUTER, k, host, 0);
	if (ret == 0)
		ret = offloads_off(&b, SL_HOST_ROUTER,
				   t->host[SL_HOST_ROUTER].iface[k].name);
	if (ret == 0)
		ret = offloads_off(&b, host, h->iface[0].name);
	if (ret == 0)
		ret = add_addr(&b, SL_HOST_ROUTER, k);
	if (ret == 0)
		ret = set_up(&b, SL_HOST_ROUTER,
			     t->host[SL_HOST_ROUTER].iface[k].name);
	if (ret == 0)
		ret = add_neigh(&b, SL_HOST_ROUTER, k);
	if (ret == 0)
		ret = configure_host(&b, host);
	if (ret == 0)
		ret = add_default_route(&b, host,
					t->host[SL_HOST_ROUTER].iface[k].addr);
	if (ret == 0)
		ret = link_settled(&b, SL_HOST_ROUTER,
				   t->host[SL_HOST_ROUTER].iface[k].name);
	if (ret == 0)
		ret = link_settled(&b, host, h->iface[0].name);
	if (ret == 0)
		ret = ipv6_ready(&b, SL_HOST_ROUTER);
	if (ret == 0)
		ret = ipv6_ready(&b, host);
out:
	build_end(&b);
	return ret;
}

int sl_topology_host(const struct sl_topology *t, const char *name)
{
	for (int i = 0; i < SL_NHOSTS; i++)
		if (strcmp(t->host[i].name, name) == 0)
			return i;
	return -1;
}

int sl_topology_host_by_addr(const struct sl_topology *t,
			     const struct in6_addr *addr)
{
	for (int i = 0; i < SL_NHOSTS; i++)
		for (int k = 0; k < t->host[i].nif; k++)
			if (sl_ip_eq(&t->host[i].iface[k].addr, addr))
				return i;
	return -1;
}

bool sl_topology_same_subnet(const struct in6_addr *a, const struct in6_addr *b,
			     int prefixlen)
{
	/* An IPv4 prefix counts the 96 bits of the mapping too. */
	int bits = sl_ip_is4(a) ? 96 + prefixlen : prefixlen;

	if (sl_ip_is4(a) != sl_ip_is4(b) || bits < 0 || bits > 128)
		return false;
	for (int i = 0; i < 16 && bits > 0; i++, bits -= 8) {
		uint8_t mask = bits >= 8 ? 0xff : (uint8_t)(0xff << (8 - bits));

		if ((a->s6_addr[i] & mask) != (b->s6_addr[i] & mask))
			return false;
	}
	return true;
}

int sl_topology_keep(const struct sl_topology *t, const char *owner,
		     struct sl_err *e)
{
	return sl_slot_keep(t->slot, owner, e);
}
