/* test_topology.c: namespaces, veths, routes and offloads of one run
 * (lib/topology.c), checked against the kernel itself.
 *
 * Needs root and network namespaces: without them the test exits 77
 * (skipped) and says why.  Every check looks at what the kernel reports,
 * never at what topology.c believes it did: a TCP connection from client
 * to server through the router, the offload features read back with
 * ETHTOOL_GFEATURES, the files in /run/netns, the slot locks of other
 * processes.
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "ipaddr.h"
#include "cleanup.h"
#include "clock.h"
#include "err.h"
#include "exec.h"
#include "sockstate.h"
#include "sweep.h"
#include "topology.h"

#define PORT 5001

/* The namespace the test process started in, to check that every call
 * leaves the thread there. */
static struct stat origin_ns;

struct fixture {
	struct sl_topology t;
	struct sl_cleanup c;
	struct sl_err e;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	*state = f;
	return 0;
}

/* Runs whatever undo the test registered, even after a failed assertion
 * (cmocka jumps straight here), so no namespace outlives a test. */
static int teardown(void **state)
{
	struct fixture *f = *state;

	if (f->t.origin_nsfd > 0)
		sl_topology_leave(&f->t, NULL);
	sl_cleanup_run(&f->c);
	free(f);
	return 0;
}

static void assert_in_origin(void)
{
	struct stat st;

	assert_int_equal(stat("/proc/thread-self/ns/net", &st), 0);
	assert_true(st.st_ino == origin_ns.st_ino &&
		    st.st_dev == origin_ns.st_dev);
}

static void up(struct sl_topology *t, struct sl_cleanup *c, FILE *cmdlog)
{
	struct sl_err e = { { 0 } };
	int ret = sl_topology_up(t, AF_INET, c, cmdlog, &e);

	if (ret != 0)
		print_error("sl_topology_up: %s\n", e.msg);
	assert_int_equal(ret, 0);
	assert_in_origin();
}

/* What stands under a slot's names at one moment: its three namespaces and
 * its lock file, by identity (device and inode), so that a later look
 * tells our objects from those of another run that has taken the same slot
 * since: tests of other processes may run at the same time. */
struct slot_snap {
	int slot;
	int exists[SL_NHOSTS + 1];
	struct stat st[SL_NHOSTS + 1];
};

static void slot_path(char *buf, size_t n, int slot, int k)
{
	static const char *const host[SL_NHOSTS] = { "client", "router",
						     "server" };

	if (k < SL_NHOSTS)
		snprintf(buf, n, "/run/netns/" SL_NETNS_PREFIX "%d-%s", slot,
			 host[k]);
	else
		snprintf(buf, n, SL_RUN_DIR "/slot-%d.lock", slot);
}

/* Takes the snapshot; returns how many of the four objects exist. */
static int snap_slot(int slot, struct slot_snap *snap)
{
	int n = 0;

	snap->slot = slot;
	for (int k = 0; k <= SL_NHOSTS; k++) {
		char path[128];

		slot_path(path, sizeof(path), slot, k);
		snap->exists[k] = stat(path, &snap->st[k]) == 0;
		n += snap->exists[k];
	}
	return n;
}

/* How many of the snapshot's first n objects are still there, under
 * their name. */
static int snap_still_n(const struct slot_snap *snap, int nobj)
{
	int n = 0;

	for (int k = 0; k < nobj; k++) {
		char path[128];
		struct stat st;

		slot_path(path, sizeof(path), snap->slot, k);
		if (snap->exists[k] && stat(path, &st) == 0 &&
		    st.st_dev == snap->st[k].st_dev &&
		    st.st_ino == snap->st[k].st_ino)
			n++;
	}
	return n;
}

static int snap_still(const struct slot_snap *snap)
{
	return snap_still_n(snap, SL_NHOSTS + 1);
}

/* The namespaces only: the sweep leaves a dead run's lock file (sweep.h). */
static int netns_still(const struct slot_snap *snap)
{
	return snap_still_n(snap, SL_NHOSTS);
}

static void enter(const struct sl_topology *t, int host)
{
	struct sl_err e = { { 0 } };

	if (sl_topology_enter(t, host, &e) != 0)
		fail_msg("%s", e.msg);
}

static void leave(const struct sl_topology *t)
{
	struct sl_err e = { { 0 } };

	if (sl_topology_leave(t, &e) != 0)
		fail_msg("%s", e.msg);
	assert_in_origin();
}

static const struct in6_addr *host_addr(const struct sl_topology *t, int host,
					int k)
{
	return &t->host[host].iface[k].addr;
}

static int listen_in(const struct sl_topology *t, int host)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(PORT),
				  .sin_addr =
					  sl_ip_to4(host_addr(t, host, 0)) };
	int one = 1, fd;

	enter(t, host);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 4), 0);
	leave(t);
	return fd;
}

/* Non-blocking connect from host to the server's address, waiting at most
 * timeout_ms.  Returns the connected fd, or -errno (-ETIMEDOUT). */
static int connect_from(const struct sl_topology *t, int host, int timeout_ms)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(PORT),
				  .sin_addr = sl_ip_to4(
					  host_addr(t, SL_HOST_SERVER, 0)) };
	struct pollfd pfd;
	socklen_t len = sizeof(int);
	int fd, err = 0;

	enter(t, host);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	leave(t);
	assert_true(fd >= 0);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 &&
	    errno != EINPROGRESS) {
		err = errno;
		close(fd);
		return -err;
	}
	pfd = (struct pollfd){ .fd = fd, .events = POLLOUT };
	if (poll(&pfd, 1, timeout_ms) == 0) {
		close(fd);
		return -ETIMEDOUT;
	}
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
	if (err) {
		close(fd);
		return -err;
	}
	return fd;
}

/* A real TCP exchange client -> router -> server: connect, accept, one
 * message each way, and the server sees the client's own address (routed,
 * not translated). */
static void check_tcp(const struct sl_topology *t)
{
	struct sockaddr_in peer;
	socklen_t plen = sizeof(peer);
	struct pollfd pfd;
	char buf[16];
	int lfd, cfd, sfd;

	lfd = listen_in(t, SL_HOST_SERVER);
	cfd = connect_from(t, SL_HOST_CLIENT, 2000);
	if (cfd < 0)
		fail_msg("connect client -> server in slot %d: %s", t->slot,
			 strerror(-cfd));
	pfd = (struct pollfd){ .fd = lfd, .events = POLLIN };
	assert_int_equal(poll(&pfd, 1, 2000), 1);
	sfd = accept4(lfd, (struct sockaddr *)&peer, &plen, SOCK_CLOEXEC);
	assert_true(sfd >= 0);
	assert_int_equal(peer.sin_addr.s_addr,
			 sl_ip_to4(host_addr(t, SL_HOST_CLIENT, 0)).s_addr);

	assert_int_equal(write(cfd, "ping", 4), 4);
	pfd = (struct pollfd){ .fd = sfd, .events = POLLIN };
	assert_int_equal(poll(&pfd, 1, 2000), 1);
	assert_int_equal(read(sfd, buf, sizeof(buf)), 4);
	assert_memory_equal(buf, "ping", 4);
	assert_int_equal(write(sfd, "pong", 4), 4);
	pfd = (struct pollfd){ .fd = cfd, .events = POLLIN };
	assert_int_equal(poll(&pfd, 1, 2000), 1);
	assert_int_equal(read(cfd, buf, sizeof(buf)), 4);
	assert_memory_equal(buf, "pong", 4);
	close(sfd);
	close(cfd);
	close(lfd);
}

static char *read_sysctl_in(const struct sl_topology *t, int host,
			    const char *path, char *buf, size_t n)
{
	FILE *f;

	if (host >= 0)
		enter(t, host);
	f = fopen(path, "r");
	if (host >= 0)
		leave(t);
	assert_non_null(f);
	assert_non_null(fgets(buf, (int)n, f));
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return buf;
}

static void test_up_names_and_cmdlog(void **state)
{
	struct fixture *f = *state;
	struct sl_topology *t = &f->t;
	char *log = NULL, want[200];
	size_t loglen = 0;
	FILE *cmdlog = open_memstream(&log, &loglen);
	int s;

	assert_non_null(cmdlog);
	up(t, &f->c, cmdlog);
	fclose(cmdlog);
	s = t->slot;
	assert_true(s >= 0 && s < SL_SLOTS);

	for (int i = 0; i < SL_NHOSTS; i++) {
		struct sl_host *h = &t->host[i];
		struct stat a, b;
		char path[128];

		snprintf(want, sizeof(want), SL_NETNS_PREFIX "%d-%s", s,
			 h->name);
		assert_string_equal(h->netns, want);
		/* The name in /run/netns is the very namespace of nsfd. */
		snprintf(path, sizeof(path), "/run/netns/%s", h->netns);
		assert_int_equal(stat(path, &a), 0);
		assert_int_equal(fstat(h->nsfd, &b), 0);
		assert_true(a.st_ino == b.st_ino && a.st_dev == b.st_dev);
		assert_true(fcntl(h->nsfd, F_GETFD) & FD_CLOEXEC);
		assert_int_equal(sl_topology_host(t, h->name), i);
	}
	assert_int_equal(sl_topology_host(t, "nobody"), -1);
	assert_int_equal(sl_topology_host_by_addr(t, host_addr(t, 2, 0)),
			 SL_HOST_SERVER);
	assert_int_equal(sl_topology_host_by_addr(t, host_addr(t, 1, 1)),
			 SL_HOST_ROUTER);
	assert_int_equal(sl_topology_host_by_addr(t, host_addr(t, 0, 0)),
			 SL_HOST_CLIENT);
	{
		struct in6_addr other =
			sl_ip_from4((struct in_addr){ htonl(0x08080808) });

		assert_int_equal(sl_topology_host_by_addr(t, &other), -1);
	}

	/* The addresses the header promises. */
	snprintf(want, sizeof(want), "198.18.%d.2", s);
	assert_int_equal(sl_ip_to4(host_addr(t, 0, 0)).s_addr, inet_addr(want));
	snprintf(want, sizeof(want), "198.19.%d.1", s);
	assert_int_equal(sl_ip_to4(host_addr(t, 1, 1)).s_addr, inet_addr(want));

	/* The commands a learner would type, among others. */
	/* The server is made from inside the router, whose setting gives
	 * it a TCP hash table of its own. */
	snprintf(want, sizeof(want),
		 "ip netns exec socklab-%d-router sysctl "
		 "-w net.ipv4.tcp_child_ehash_entries=%d\n",
		 s, SL_EHASH_ENTRIES);
	assert_non_null(strstr(log, want));
	snprintf(want, sizeof(want),
		 "nsenter --net=/run/netns/socklab-%d-router "
		 "ip netns add socklab-%d-server\n",
		 s, s);
	assert_non_null(strstr(log, want));
	snprintf(want, sizeof(want),
		 "ip -n socklab-%d-client link add eth0 "
		 "index 2 address 02:00:c6:12:%02x:02 type veth peer name "
		 "eth0 index 3 address 02:00:c6:12:%02x:01 netns "
		 "socklab-%d-router\n",
		 s, s, s, s);
	assert_non_null(strstr(log, want));
	snprintf(want, sizeof(want),
		 "ip -n socklab-%d-router neigh replace 198.19.%d.2 lladdr "
		 "02:00:c6:13:%02x:02 dev eth1 nud permanent\n",
		 s, s, s);
	assert_non_null(strstr(log, want));
	snprintf(want, sizeof(want),
		 "ip -n socklab-%d-server route add "
		 "default via 198.19.%d.1\n",
		 s, s);
	assert_non_null(strstr(log, want));
	snprintf(want, sizeof(want),
		 "ip netns exec socklab-%d-router "
		 "ethtool -K eth1 tso off gso off gro off tx off\n",
		 s);
	assert_non_null(strstr(log, want));
	snprintf(want, sizeof(want),
		 "ip netns exec socklab-%d-router sysctl "
		 "-w net.ipv4.ip_forward=1\n",
		 s);
	assert_non_null(strstr(log, want));
	free(log);

	/* iproute2 itself sees the namespace and the link in it. */
	{
		const char *argv[] = {
			"ip",	"-n",	t->host[SL_HOST_ROUTER].netns,
			"link", "show", "eth1",
			NULL
		};

		if (sl_exec(argv, &f->e) != 0)
			fail_msg("%s", f->e.msg);
	}
}

static void test_tcp_across_router(void **state)
{
	struct fixture *f = *state;
	struct sl_topology *t = &f->t;
	char buf[16], before[16];
	int fd;

	read_sysctl_in(t, -1, "/proc/sys/net/ipv4/ip_forward", before,
		       sizeof(before));
	up(t, &f->c, NULL);
	check_tcp(t);
	assert_string_equal(read_sysctl_in(t, SL_HOST_ROUTER,
					   "/proc/sys/net/ipv4/ip_forward", buf,
					   sizeof(buf)),
			    "1");
	/* The machine's own setting is untouched. */
	assert_string_equal(read_sysctl_in(t, -1,
					   "/proc/sys/net/ipv4/ip_forward", buf,
					   sizeof(buf)),
			    before);

	/* The connection really crosses the router: without forwarding
	 * there, it cannot be made. */
	assert_int_equal(sl_topology_sysctl(t, SL_HOST_ROUTER,
					    "net.ipv4.ip_forward", "0", NULL,
					    &f->e),
			 0);
	fd = listen_in(t, SL_HOST_SERVER);
	assert_true(connect_from(t, SL_HOST_CLIENT, 300) < 0);
	close(fd);
	assert_int_equal(sl_topology_sysctl(t, SL_HOST_ROUTER,
					    "net.ipv4.ip_forward", "1", NULL,
					    &f->e),
			 0);
	check_tcp(t);
}

/* Thread CPU time: the kernel's dump runs in our syscalls, so this is
 * what a dump costs, whatever else the machine does meanwhile. */
static int64_t cpu_now(void)
{
	struct timespec ts;

	assert_int_equal(clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts), 0);
	return ts.tv_sec * SL_NS_PER_SEC + ts.tv_nsec;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Median CPU time of 51 sock_diag dumps in host's namespace. */
static int64_t dump_cpu(const struct sl_topology *t, int host)
{
	struct sl_sockdiag *d;
	struct sl_sock v[16];
	struct sl_err e = { "" };
	int64_t c[51];
	int n;

	if (sl_sockdiag_open(&d, t->host[host].nsfd, &e) < 0)
		fail_msg("%s", e.msg);
	for (int i = 0; i < 51; i++) {
		int64_t c0 = cpu_now();

		if (sl_sockdiag_dump(d, v, 16, &n, &e) < 0)
			fail_msg("%s", e.msg);
		c[i] = cpu_now() - c0;
	}
	sl_sockdiag_close(d);
	qsort(c, 51, sizeof(c[0]), cmp_i64);
	return c[25];
}

/* The client and the server own a TCP hash table of SL_EHASH_ENTRIES
 * buckets (the router shares the machine's), which makes their sock_diag
 * dumps cheap whatever the machine's table is; the machine's own setting
 * is untouched. */
static void test_private_ehash(void **state)
{
	struct fixture *f = *state;
	struct sl_topology *t = &f->t;
	char buf[32], before[32], want[16];
	long machine;
	int64_t priv, shared;

	read_sysctl_in(t, -1, "/proc/sys/net/ipv4/tcp_child_ehash_entries",
		       before, sizeof(before));
	up(t, &f->c, NULL);
	assert_true(t->private_ehash);
	snprintf(want, sizeof(want), "%d", SL_EHASH_ENTRIES);
	assert_string_equal(
		read_sysctl_in(t, SL_HOST_CLIENT,
			       "/proc/sys/net/ipv4/tcp_ehash_entries", buf,
			       sizeof(buf)),
		want);
	assert_string_equal(
		read_sysctl_in(t, SL_HOST_SERVER,
			       "/proc/sys/net/ipv4/tcp_ehash_entries", buf,
			       sizeof(buf)),
		want);
	/* Negative: the router does not own its table. */
	machine = -atol(read_sysctl_in(t, SL_HOST_ROUTER,
				       "/proc/sys/net/ipv4/tcp_ehash_entries",
				       buf, sizeof(buf)));
	assert_true(machine > 0);
	assert_string_equal(
		read_sysctl_in(t, -1,
			       "/proc/sys/net/ipv4/tcp_child_ehash_entries",
			       buf, sizeof(buf)),
		before);
	check_tcp(t);

	/* What it buys: a dump where the table is private against one where
	 * it is the machine's, on the same machine at the same moment. */
	priv = dump_cpu(t, SL_HOST_SERVER);
	shared = dump_cpu(t, SL_HOST_ROUTER);
	print_message("sock_diag dump, median cpu: %.1f us with %d private "
		      "buckets, %.1f us with the machine's %ld\n",
		      priv / 1e3, SL_EHASH_ENTRIES, shared / 1e3, machine);
	if (machine >= 16L * SL_EHASH_ENTRIES)
		assert_true(priv < shared);
}

/* Feature names as the kernel lists them, for reading offloads back. */
static struct ethtool_gstrings *feature_names(int fd, const char *ifname)
{
	__u64 raw[3] = { 0 };
	struct ethtool_sset_info *info = (void *)raw;
	struct ethtool_gstrings *gs;
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	info->cmd = ETHTOOL_GSSET_INFO;
	info->sset_mask = 1ULL << ETH_SS_FEATURES;
	ifr.ifr_data = (void *)info;
	assert_int_equal(ioctl(fd, SIOCETHTOOL, &ifr), 0);
	gs = calloc(1, sizeof(*gs) + info->data[0] * ETH_GSTRING_LEN);
	assert_non_null(gs);
	gs->cmd = ETHTOOL_GSTRINGS;
	gs->string_set = ETH_SS_FEATURES;
	gs->len = info->data[0];
	ifr.ifr_data = (void *)gs;
	assert_int_equal(ioctl(fd, SIOCETHTOOL, &ifr), 0);
	return gs;
}

/* Every feature `ethtool -K tso off gso off gro off tx off` turns off is
 * off, read back with ETHTOOL_GFEATURES, and the legacy per-offload
 * queries agree. */
static void check_offloads(int fd, const char *ns, const char *ifname)
{
	static const char *const patterns[] = { "tx-checksum-*",
						"tx-tcp*-segmentation",
						"tx-generic-segmentation",
						"rx-gro" };
	static const unsigned int legacy[] = { ETHTOOL_GTXCSUM, ETHTOOL_GTSO,
					       ETHTOOL_GGSO, ETHTOOL_GGRO };
	struct ethtool_gstrings *gs = feature_names(fd, ifname);
	__u32 raw[2 + 4 * 4] = { 0 };
	struct ethtool_gfeatures *gf = (void *)raw;
	int matched[4] = { 0 };
	struct ifreq ifr;

	assert_true(gs->len <= 4 * 32);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	gf->cmd = ETHTOOL_GFEATURES;
	gf->size = 4;
	ifr.ifr_data = (void *)gf;
	assert_int_equal(ioctl(fd, SIOCETHTOOL, &ifr), 0);
	for (unsigned int k = 0; k < gs->len; k++) {
		char name[ETH_GSTRING_LEN + 1] = { 0 };
		int on = !!(gf->features[k / 32].active & (1u << (k % 32)));

		memcpy(name, gs->data + k * ETH_GSTRING_LEN, ETH_GSTRING_LEN);
		for (int p = 0; p < 4; p++) {
			if (fnmatch(patterns[p], name, 0) != 0)
				continue;
			matched[p]++;
			if (on)
				fail_msg("%s in %s: %s is on", ifname, ns,
					 name);
		}
	}
	for (int p = 0; p < 4; p++)
		assert_true(matched[p] > 0);
	for (int k = 0; k < 4; k++) {
		struct ethtool_value ev = { .cmd = legacy[k] };

		ifr.ifr_data = (void *)&ev;
		assert_int_equal(ioctl(fd, SIOCETHTOOL, &ifr), 0);
		assert_int_equal(ev.data, 0);
	}
	free(gs);
}

/* Host's ARP table, as /proc/net/arp shows it from inside host, without
 * its header line. */
static void arp_table_in(const struct sl_topology *t, int host, char *buf,
			 size_t n)
{
	size_t got;
	char *nl;
	FILE *f;

	enter(t, host);
	f = fopen("/proc/thread-self/net/arp", "r");
	leave(t);
	assert_non_null(f);
	got = fread(buf, 1, n - 1, f);
	fclose(f);
	buf[got] = '\0';
	nl = strchr(buf, '\n');
	assert_non_null(nl);
	memmove(buf, nl + 1, strlen(nl + 1) + 1);
}

/* Every host knows the Ethernet address of its peer on each link from the
 * start, as a permanent entry (ATF_COM | ATF_PERM, 0x6), and after a TCP
 * exchange across the router it knows of nothing else: no neighbour was
 * resolved, so no ARP request went through a link a fault may delay. */
static void test_permanent_neighbours(void **state)
{
	struct fixture *f = *state;
	struct sl_topology *t = &f->t;
	char table[1024], line[160], ip[SL_IPSTRLEN];
	int s;

	up(t, &f->c, NULL);
	check_tcp(t);
	s = t->slot;
	for (int i = 0; i < SL_NHOSTS; i++) {
		const struct sl_host *h = &t->host[i];
		int lines = 0;

		arp_table_in(t, i, table, sizeof(table));
		for (const char *p = table; *p; p = strchr(p, '\n') + 1)
			lines++;
		assert_int_equal(lines, h->nif);
		for (int k = 0; k < h->nif; k++) {
			/* The router's end of the link is .1, a host's .2. */
			int net = h->iface[k].mac[3];
			int last = i == SL_HOST_ROUTER ? 2 : 1;

			snprintf(ip, sizeof(ip), "198.%d.%d.%d", net, s, last);
			snprintf(line, sizeof(line),
				 "%-16s 0x1         0x6         "
				 "02:00:c6:%02x:%02x:%02x     *        %s\n",
				 ip, net, s, last, h->iface[k].name);
			if (!strstr(table, line))
				fail_msg(
					"%s: no permanent entry \"%s\" in:\n%s",
					h->netns, line, table);
		}
	}
}

static void test_offloads_off_and_links_running(void **state)
{
	struct fixture *f = *state;
	struct sl_topology *t = &f->t;
	int index[SL_NHOSTS][2] = { { 0 } };
	int64_t deadline;

	up(t, &f->c, NULL);
	deadline = sl_now() + 200 * SL_NS_PER_MS;
	for (int i = 0; i < SL_NHOSTS; i++) {
		const struct sl_host *h = &t->host[i];
		int fd;

		enter(t, i);
		fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		leave(t);
		assert_true(fd >= 0);
		for (int k = 0; k < h->nif; k++) {
			struct ifreq ifr;

			check_offloads(fd, h->netns, h->iface[k].name);
			memset(&ifr, 0, sizeof(ifr));
			snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s",
				 h->iface[k].name);
			assert_int_equal(ioctl(fd, SIOCGIFINDEX, &ifr), 0);
			index[i][k] = ifr.ifr_ifindex;
			/* Operationally up (IFF_RUNNING) at once, not after
			 * the kernel's one-second batch of link events. */
			for (;;) {
				assert_int_equal(ioctl(fd, SIOCGIFFLAGS, &ifr),
						 0);
				if (ifr.ifr_flags & IFF_RUNNING)
					break;
				if (sl_now() > deadline)
					fail_msg("%s in %s not running 200 ms "
						 "after up",
						 h->iface[k].name, h->netns);
				usleep(1000);
			}
		}
		close(fd);
	}
	/* The reason they are: no veth end shares its index with its peer
	 * (see "veth link state" in topology.c). */
	assert_int_not_equal(index[SL_HOST_CLIENT][0],
			     index[SL_HOST_ROUTER][0]);
	assert_int_not_equal(index[SL_HOST_ROUTER][1],
			     index[SL_HOST_SERVER][0]);
}

static void test_sysctl(void **state)
{
	struct fixture *f = *state;
	struct sl_topology *t = &f->t;
	const char *p = "/proc/sys/net/ipv4/tcp_rfc1337";
	char buf[16], before[16], *log = NULL, want[128];
	size_t loglen = 0;
	FILE *cmdlog;
	int ret;

	read_sysctl_in(t, -1, p, before, sizeof(before));
	up(t, &f->c, NULL);
	cmdlog = open_memstream(&log, &loglen);
	assert_non_null(cmdlog);
	ret = sl_topology_sysctl(t, SL_HOST_CLIENT, "net.ipv4.tcp_rfc1337", "1",
				 cmdlog, &f->e);
	fclose(cmdlog);
	if (ret != 0)
		fail_msg("%s", f->e.msg);
	assert_in_origin();
	snprintf(want, sizeof(want),
		 "ip netns exec %s sysctl -w "
		 "net.ipv4.tcp_rfc1337=1\n",
		 t->host[SL_HOST_CLIENT].netns);
	assert_string_equal(log, want);
	free(log);
	assert_string_equal(
		read_sysctl_in(t, SL_HOST_CLIENT, p, buf, sizeof(buf)), "1");
	assert_string_equal(
		read_sysctl_in(t, SL_HOST_SERVER, p, buf, sizeof(buf)), "0");
	assert_string_equal(read_sysctl_in(t, -1, p, buf, sizeof(buf)), before);

	/* From inside another host, the thread goes back there, not to
	 * the origin. */
	enter(t, SL_HOST_SERVER);
	ret = sl_topology_sysctl(t, SL_HOST_ROUTER, "net.ipv4.tcp_rfc1337", "1",
				 NULL, &f->e);
	{
		struct stat a, b;

		assert_int_equal(stat("/proc/thread-self/ns/net", &a), 0);
		assert_int_equal(fstat(t->host[SL_HOST_SERVER].nsfd, &b), 0);
		leave(t);
		assert_int_equal(ret, 0);
		assert_true(a.st_ino == b.st_ino);
	}

	/* Refusals say what and where. */
	assert_int_equal(sl_topology_sysctl(t, SL_HOST_CLIENT,
					    "kernel.hostname", "x", NULL,
					    &f->e),
			 -EINVAL);
	assert_non_null(strstr(f->e.msg, "kernel.hostname"));
	assert_int_equal(sl_topology_sysctl(t, SL_HOST_CLIENT,
					    "net.ipv4.no_such_knob", "1", NULL,
					    &f->e),
			 -ENOENT);
	assert_non_null(strstr(f->e.msg, "net.ipv4.no_such_knob"));
	assert_non_null(strstr(f->e.msg, t->host[SL_HOST_CLIENT].netns));
	assert_int_equal(sl_topology_sysctl(t, 7, "net.ipv4.tcp_rfc1337", "1",
					    NULL, &f->e),
			 -EINVAL);
	assert_int_equal(sl_topology_enter(t, -1, &f->e), -EINVAL);
	assert_in_origin();
}

/* Forks a child that builds a topology of its own, reports its slot on a
 * pipe and then waits: for a byte on go (then it tears down and exits 0),
 * or to be killed.  Returns the child's pid; *slot is its slot. */
static pid_t spawn_holder(int *slot, int *go)
{
	int up_pipe[2], go_pipe[2];
	pid_t pid;

	assert_int_equal(pipe2(up_pipe, O_CLOEXEC), 0);
	assert_int_equal(pipe2(go_pipe, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct sl_topology t;
		struct sl_cleanup c = { 0 };
		struct pollfd pfd = { .fd = go_pipe[0], .events = POLLIN };
		struct sl_err e;
		int s = -1;
		char b;

		close(up_pipe[0]);
		close(go_pipe[1]);
		if (sl_topology_up(&t, AF_INET, &c, NULL, &e) == 0)
			s = t.slot;
		if (write(up_pipe[1], &s, sizeof(s)) != sizeof(s))
			_exit(2);
		/* Bounded, in case the test process dies without a word:
		 * siblings hold copies of the write end. */
		if (poll(&pfd, 1, 30000) != 1 || read(go_pipe[0], &b, 1) != 1)
			_exit(3);
		sl_cleanup_run(&c);
		_exit(s >= 0 ? 0 : 1);
	}
	close(up_pipe[1]);
	close(go_pipe[0]);
	assert_int_equal(read(up_pipe[0], slot, sizeof(*slot)),
			 (ssize_t)sizeof(*slot));
	close(up_pipe[0]);
	*go = go_pipe[1];
	return pid;
}

static void release_holder(pid_t pid, int go)
{
	int status;

	assert_int_equal(write(go, "x", 1), 1);
	close(go);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_side_by_side(void **state)
{
	struct fixture *f = *state;
	struct sl_topology *t2 = calloc(1, sizeof(*t2));
	enum { NCHILD = 3 };
	int slots[NCHILD + 2], go[NCHILD];
	struct slot_snap snap[NCHILD];
	pid_t pid[NCHILD];

	assert_non_null(t2);
	up(&f->t, &f->c, NULL);
	up(t2, &f->c, NULL);
	assert_int_not_equal(f->t.slot, t2->slot);
	for (int i = 0; i < SL_NHOSTS; i++)
		assert_string_not_equal(f->t.host[i].netns, t2->host[i].netns);
	/* Both work at the same time. */
	check_tcp(&f->t);
	check_tcp(t2);

	/* Other processes get slots of their own. */
	for (int i = 0; i < NCHILD; i++)
		pid[i] = spawn_holder(&slots[i], &go[i]);
	slots[NCHILD] = f->t.slot;
	slots[NCHILD + 1] = t2->slot;
	for (int i = 0; i < NCHILD + 2; i++) {
		assert_true(slots[i] >= 0);
		for (int j = 0; j < i; j++)
			assert_int_not_equal(slots[i], slots[j]);
	}
	for (int i = 0; i < NCHILD; i++)
		assert_int_equal(snap_slot(slots[i], &snap[i]), SL_NHOSTS + 1);
	for (int i = 0; i < NCHILD; i++)
		release_holder(pid[i], go[i]);
	for (int i = 0; i < NCHILD; i++)
		assert_int_equal(snap_still(&snap[i]), 0);

	sl_cleanup_run(&f->c);
	free(t2);
}

static void test_cleanup_removes_all(void **state)
{
	struct fixture *f = *state;
	struct slot_snap snap;

	up(&f->t, &f->c, NULL);
	assert_int_equal(snap_slot(f->t.slot, &snap), SL_NHOSTS + 1);
	sl_cleanup_run(&f->c);
	assert_int_equal(f->c.n, 0);
	/* Namespaces and lock file gone (another run may own the slot by
	 * now, with objects of its own under the same names). */
	assert_int_equal(snap_still(&snap), 0);
	for (int i = 0; i < SL_NHOSTS; i++)
		assert_int_equal(f->t.host[i].nsfd, -1);
	assert_int_equal(f->t.lockfd, -1);
	assert_int_equal(f->t.origin_nsfd, -1);
	assert_in_origin();
}

static void nothing(void *arg)
{
	(void)arg;
}

/* A build that fails part-way (here: the undo stack is full when the
 * third namespace is created) says where, and its undo stack removes what
 * it did make. */
static void test_failure_part_way(void **state)
{
	struct fixture *f = *state;
	struct slot_snap snap;

	/* Room for the slot and two namespaces only. */
	while (f->c.n < SL_CLEANUP_MAX - 3)
		sl_cleanup_push(&f->c, nothing, NULL, "filler");
	assert_int_equal(sl_topology_up(&f->t, AF_INET, &f->c, NULL, &f->e),
			 -ENOSPC);
	assert_non_null(strstr(f->e.msg, f->t.host[SL_HOST_SERVER].netns));
	assert_in_origin();
	/* Client, router and the lock: the server's file was removed on the
	 * spot, since its undo could not be registered. */
	assert_int_equal(snap_slot(f->t.slot, &snap), SL_NHOSTS);
	assert_false(snap.exists[SL_HOST_SERVER]);
	sl_cleanup_run(&f->c);
	assert_int_equal(snap_still(&snap), 0);
}

static void test_clean_stale(void **state)
{
	struct fixture *f = *state;
	int dead_slot, live_slot, go_dead, go_live, status, n;
	struct slot_snap dead_snap, live_snap, own_snap;
	int64_t deadline;
	pid_t dead, live;
	char *log = NULL, want[64], foreign[64];
	const char *add_foreign[] = { "ip", "netns", "add", foreign, NULL };
	const char *del_foreign[] = { "ip", "netns", "del", foreign, NULL };
	size_t loglen = 0;
	FILE *cmdlog;
	int kept;

	up(&f->t, &f->c, NULL);
	dead = spawn_holder(&dead_slot, &go_dead);
	live = spawn_holder(&live_slot, &go_live);
	assert_true(dead_slot >= 0 && live_slot >= 0);
	assert_int_equal(kill(dead, SIGKILL), 0);
	assert_int_equal(waitpid(dead, &status, 0), dead);
	assert_true(WIFSIGNALED(status));
	close(go_dead);
	/* A namespace that only looks like one of the dead slot's is
	 * somebody else's and stays. */
	snprintf(foreign, sizeof(foreign), SL_NETNS_PREFIX "%d-foreign",
		 dead_slot);
	if (sl_exec(add_foreign, &f->e) != 0)
		fail_msg("%s", f->e.msg);
	/* What a killed run leaves: its namespaces and lock file, no owner.
	 * (A concurrent run's own clean-up may beat us to them.) */
	snap_slot(dead_slot, &dead_snap);
	assert_int_equal(snap_slot(live_slot, &live_snap), SL_NHOSTS + 1);
	assert_int_equal(snap_slot(f->t.slot, &own_snap), SL_NHOSTS + 1);

	cmdlog = open_memstream(&log, &loglen);
	assert_non_null(cmdlog);
	n = sl_sweep_stale(cmdlog, &f->e);
	fclose(cmdlog);
	if (n < 0)
		fail_msg("%s", f->e.msg);
	/* Gone, or about to be: a concurrent run's clean-up may hold the
	 * dead slot at this moment (so ours skipped it) and finish within
	 * a few milliseconds. */
	deadline = sl_now() + SL_NS_PER_SEC;
	while (netns_still(&dead_snap) > 0 && sl_now() < deadline)
		usleep(1000);
	assert_int_equal(netns_still(&dead_snap), 0);
	snprintf(want, sizeof(want), "/run/netns/%s", foreign);
	kept = access(want, F_OK) == 0;
	if (sl_exec(del_foreign, &f->e) != 0)
		fail_msg("%s", f->e.msg);
	assert_true(kept);
	snprintf(want, sizeof(want), "ip netns del socklab-%d-client\n",
		 dead_slot);
	if (strstr(log, want))
		assert_true(n >= SL_NHOSTS);
	else
		printf("note: slot %d was cleaned by a concurrent run\n",
		       dead_slot);
	free(log);
	/* Live runs, the caller's own included, are left alone. */
	assert_int_equal(snap_still(&live_snap), SL_NHOSTS + 1);
	assert_int_equal(snap_still(&own_snap), SL_NHOSTS + 1);
	check_tcp(&f->t);
	release_holder(live, go_live);
}

static void test_timing(void **state)
{
	struct fixture *f = *state;
	enum { N = 20 };
	int64_t upt[N], downt[N], tot[N];

	for (int i = 0; i < N; i++) {
		int64_t t0 = sl_now(), t1, t2;

		up(&f->t, &f->c, NULL);
		t1 = sl_now();
		sl_cleanup_run(&f->c);
		t2 = sl_now();
		upt[i] = t1 - t0;
		downt[i] = t2 - t1;
		tot[i] = t2 - t0;
	}
	qsort(upt, N, sizeof(upt[0]), cmp_i64);
	qsort(downt, N, sizeof(downt[0]), cmp_i64);
	qsort(tot, N, sizeof(tot[0]), cmp_i64);
	printf("topology over %d runs (ms): up median %.2f min %.2f max %.2f;"
	       " down median %.2f min %.2f max %.2f; up+down median %.2f "
	       "min %.2f max %.2f (target: median < 60)\n",
	       N, upt[N / 2] / 1e6, upt[0] / 1e6, upt[N - 1] / 1e6,
	       downt[N / 2] / 1e6, downt[0] / 1e6, downt[N - 1] / 1e6,
	       tot[N / 2] / 1e6, tot[0] / 1e6, tot[N - 1] / 1e6);
	assert_true(tot[N / 2] < 60 * SL_NS_PER_MS);
}

/* Root and a working unshare(CLONE_NEWNET), tried in a child so that this
 * process stays where it is. */
static const char *why_not_runnable(void)
{
	static char why[128];
	int status;
	pid_t pid;

	if (geteuid() != 0)
		return "needs root (namespaces, mounts in /run/netns)";
	pid = fork();
	if (pid < 0)
		return "fork failed";
	if (pid == 0)
		_exit(unshare(CLONE_NEWNET) == 0 ? 0 : errno);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return "probe of unshare(CLONE_NEWNET) died";
	if (WEXITSTATUS(status) != 0) {
		snprintf(why, sizeof(why), "unshare(CLONE_NEWNET): %s",
			 strerror(WEXITSTATUS(status)));
		return why;
	}
	return NULL;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_up_names_and_cmdlog, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_tcp_across_router, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_permanent_neighbours,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_offloads_off_and_links_running, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sysctl, setup, teardown),
		cmocka_unit_test_setup_teardown(test_private_ehash, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_side_by_side, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_cleanup_removes_all, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_failure_part_way, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_clean_stale, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_timing, setup, teardown),
	};
	const char *why = why_not_runnable();

	if (why) {
		printf("skipped: %s\n", why);
		return 77;
	}
	if (stat("/proc/thread-self/ns/net", &origin_ns) < 0) {
		printf("skipped: no /proc/thread-self/ns/net\n");
		return 77;
	}
	/* Children report on pipes; a dead reader must not kill us. */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
