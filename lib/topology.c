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
 * Named namespaces are bind mounts of /proc/thread-self/ns/net on files in
 * /run/netns, exactly as `ip netns add` makes them, so a learner can type
 * `ip netns exec socklab-3-client ss -tan` next to a running experiment.
 * Mounts are per mount namespace: socklab must run in the same mount
 * namespace as the learner's shell for the names to be visible.
 *
 * Everything is done in-process (no `ip` child per step): a topology comes
 * up and goes away in a few milliseconds, which is what lets experiments
 * give every variant a fresh one.  Tearing down is cheap too: unmounting and
 * closing the last references lets the kernel destroy the namespace, with
 * its veths, addresses and routes, in a worker of its own, after we return.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "cleanup.h"
#include "err.h"
#include "exec.h"
#include "netlink.h"
#include "sockstate.h"
#include "topology.h"
#include "trace_instance.h"

#define SL__NETNS_DIR "/run/netns"
#define SL__SELF_NETNS "/proc/thread-self/ns/net"
/* Room for 128 ethtool feature bits; the kernel keeps them in a u64. */
#define SL__FEATURE_WORDS 4

/* What the build holds only while it runs: per host, a netlink socket and
 * an ioctl socket, both created inside the host's namespace. */
struct build {
	struct sl_topology *t;
	struct sl_cleanup *c;
	FILE *cmdlog;
	struct sl_err *e;
	struct sl_netlink nl[SL_NHOSTS];
	int ioc[SL_NHOSTS];
	/* Feature names (ETH_GSTRING_LEN each) and the bits of the ones
	 * offload_patterns match; the same for every device. */
	struct ethtool_gstrings *features;
	__u32 offload_bits[SL__FEATURE_WORDS];
};

/* The offloads that make a veth hand whole 64 KB super-segments (or frames
 * with no checksum yet) to a capture instead of what a wire would carry.
 * Named the way `ethtool -K eth0 tso off gso off gro off tx off` names
 * them: each word stands for every feature whose name matches its pattern
 * (ethtool's own table, off_flag_def).  Going by names, not by the legacy
 * ETHTOOL_STSO & co, matters: those cover only the features that existed
 * when they were written, and kernel 6.18 already has a TSO flavour
 * (tx-tcp-accecn-segmentation) that ETHTOOL_STSO leaves on. */
static const char *const offload_patterns[] = {
	"tx-checksum-*",		/* tx */
	"tx-tcp*-segmentation",		/* tso */
	"tx-generic-segmentation",	/* gso */
	"rx-gro",			/* gro */
};

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

static void netns_path(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, SL__NETNS_DIR "/%s", name);
}

static void kept_path(char *buf, size_t n, int slot)
{
	snprintf(buf, n, SL_RUN_DIR "/slot-%d.kept", slot);
}

static int is_kept(int slot)
{
	char path[64];

	kept_path(path, sizeof(path), slot);
	return access(path, F_OK) == 0;
}

static void lock_path(char *buf, size_t n, int slot)
{
	snprintf(buf, n, SL_RUN_DIR "/slot-%d.lock", slot);
}

/* Removes a named namespace as `ip netns del` does: detach the bind mount,
 * then the file.  Either may already be gone (a failed build, a half-done
 * earlier cleanup), which is fine. */
static int remove_netns(const char *name)
{
	char path[128];

	netns_path(path, sizeof(path), name);
	if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL &&
	    errno != ENOENT)
		return -errno;
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

/* Undo of one host's namespace.  Its veths, addresses and routes go with
 * it once the last reference (mount, fd, sockets) is dropped. */
static void undo_netns(void *arg)
{
	struct sl_host *h = arg;

	remove_netns(h->netns);
	if (h->nsfd >= 0)
		close(h->nsfd);
	h->nsfd = -1;
}

/* Undo of the slot, run last: the lock file is unlinked while the lock is
 * still held, so nobody can be holding a lock on the inode we unlink (see
 * lock_slot()). */
static void undo_slot(void *arg)
{
	struct sl_topology *t = arg;
	char path[64];

	if (t->origin_nsfd >= 0)
		close(t->origin_nsfd);
	t->origin_nsfd = -1;
	if (t->lockfd >= 0) {
		lock_path(path, sizeof(path), t->slot);
		unlink(path);
		close(t->lockfd);
	}
	t->lockfd = -1;
}

/* Takes the slot's lock without waiting.  Returns the locked fd, -EAGAIN
 * when a live process holds it, or another -errno.
 *
 * The special problem of lock files that get unlinked: between our open()
 * and our flock() the holder may unlink the file and let go, and we would
 * then hold a lock on an inode that no longer has the name, while the next
 * process creates a fresh file under that name and locks that.  So after
 * locking, the name must still lead to the inode we locked; if not, try
 * again. */
static int lock_slot(int slot)
{
	char path[64];
	struct stat fst, pst;
	int fd;

	lock_path(path, sizeof(path), slot);
	for (;;) {
		fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0)
			return -errno;
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			int err = errno == EWOULDBLOCK ? EAGAIN : errno;

			close(fd);
			return -err;
		}
		if (fstat(fd, &fst) == 0 && stat(path, &pst) == 0 &&
		    fst.st_dev == pst.st_dev && fst.st_ino == pst.st_ino)
			return fd;
		close(fd);
	}
}

/* Parses "socklab-S-..." into S, or returns -1 for any other name. */
static int slot_of_netns(const char *name)
{
	const char *p = name + strlen(SL_NETNS_PREFIX);
	char *end;
	long s;

	if (strncmp(name, SL_NETNS_PREFIX, strlen(SL_NETNS_PREFIX)) != 0 ||
	    *p < '0' || *p > '9')
		return -1;
	s = strtol(p, &end, 10);
	if (*end != '-' || s < 0 || s >= SL_SLOTS)
		return -1;
	return (int)s;
}

static int ensure_dir(const char *path, struct sl_err *e)
{
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return sl_errf(e, errno, "mkdir %s", path);
	return 0;
}

/* Makes /run/netns a shared mount, as ip/ipnetns.c does, so that a netns
 * unmounted here is unmounted in every mount namespace that copied it and
 * can actually be freed.  A plain directory cannot be made shared: it is
 * first bind-mounted on itself.  Two processes doing that at once would
 * stack two mounts, so the rare first-time path is serialised on a lock of
 * the run directory. */
static int ensure_netns_dir(struct sl_err *e)
{
	int dirfd, ret;

	ret = ensure_dir(SL__NETNS_DIR, e);
	if (ret < 0)
		return ret;
	if (mount("", SL__NETNS_DIR, "none", MS_SHARED | MS_REC, NULL) == 0)
		return 0;
	if (errno != EINVAL)
		return sl_errf(e, errno, "mount --make-shared " SL__NETNS_DIR);

	dirfd = open(SL_RUN_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return sl_errf(e, errno, "open " SL_RUN_DIR);
	if (flock(dirfd, LOCK_EX) < 0) {
		ret = sl_errf(e, errno, "lock " SL_RUN_DIR);
		goto out;
	}
	/* Someone may have done it while we waited for the lock. */
	if (mount("", SL__NETNS_DIR, "none", MS_SHARED | MS_REC, NULL) == 0)
		goto out;
	if (errno != EINVAL) {
		ret = sl_errf(e, errno, "mount --make-shared " SL__NETNS_DIR);
		goto out;
	}
	if (mount(SL__NETNS_DIR, SL__NETNS_DIR, "none", MS_BIND | MS_REC,
		  NULL) < 0) {
		ret = sl_errf(e, errno, "mount --bind " SL__NETNS_DIR " "
			      SL__NETNS_DIR);
		goto out;
	}
	if (mount("", SL__NETNS_DIR, "none", MS_SHARED | MS_REC, NULL) < 0)
		ret = sl_errf(e, errno, "mount --make-shared " SL__NETNS_DIR);
out:
	close(dirfd);
	return ret;
}

/* Writes value to /proc/sys/<key with dots as slashes> in the calling
 * thread's current namespace. */
static int write_sysctl(const char *key, const char *value)
{
	char path[256];
	size_t len = strlen(value);
	ssize_t n;
	int fd, i;

	i = snprintf(path, sizeof(path), "/proc/sys/%s", key);
	if (i < 0 || (size_t)i >= sizeof(path))
		return -ENAMETOOLONG;
	for (char *p = path + strlen("/proc/sys/"); *p; p++)
		if (*p == '.')
			*p = '/';
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, value, len);
	if (n < 0) {
		int err = errno;

		close(fd);
		return -err;
	}
	if (close(fd) < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
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
	const char *argv[] = { "ip", "netns", "exec", netns, "sysctl", "-w",
			       kv, NULL };

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

/* Inside the fresh namespace of host i: name it, keep an fd on it and
 * open the sockets that the rest of the build uses there. */
static int fill_netns(struct build *b, int i, const char *path)
{
	struct sl_host *h = &b->t->host[i];
	int ret;

	if (mount(SL__SELF_NETNS, path, "none", MS_BIND, NULL) < 0)
		return sl_errf(b->e, errno, "ip netns add %s: mount --bind "
			       SL__SELF_NETNS " %s", h->netns, path);
	h->nsfd = open(SL__SELF_NETNS, O_RDONLY | O_CLOEXEC);
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
	 * forwarding resets per-device settings (LRO) on existing links. */
	if (i == SL_HOST_ROUTER) {
		log_sysctl(b->cmdlog, h->netns, "net.ipv4.ip_forward", "1");
		ret = write_sysctl("net.ipv4.ip_forward", "1");
		if (ret < 0)
			return sl_errf(b->e, -ret, "sysctl -w "
				       "net.ipv4.ip_forward=1 in %s", h->netns);
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
	ret = write_sysctl("net.ipv4.tcp_child_ehash_entries", v);
	b->t->private_ehash = ret == 0;
	if (ret < 0 && b->cmdlog)
		fprintf(b->cmdlog, "# not set (%s): the hosts share the "
			"machine's TCP hash table\n", strerror(-ret));
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
	const char *argv[] = { "nsenter", net, "ip", "netns", "add", h->netns,
			       NULL };
	int from_mother = i != SL_HOST_ROUTER && mother->nsfd >= 0;
	char path[128];
	int fd, ret;

	snprintf(net, sizeof(net), "--net=" SL__NETNS_DIR "/%s", mother->netns);
	log_cmd(b->cmdlog, from_mother ? argv : argv + 2);
	netns_path(path, sizeof(path), h->netns);
	fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
	if (fd < 0)
		return sl_errf(b->e, errno, "ip netns add %s: create %s",
			       h->netns, path);
	close(fd);
	/* The file exists: its removal is registered before anything else
	 * can fail. */
	ret = sl_cleanup_push(b->c, undo_netns, h, h->netns);
	if (ret < 0) {
		remove_netns(h->netns);
		return sl_errf(b->e, -ret, "register undo of %s", h->netns);
	}
	if (from_mother && setns(mother->nsfd, CLONE_NEWNET) < 0)
		return sl_errf(b->e, errno, "ip netns add %s: enter %s",
			       h->netns, mother->netns);
	if (unshare(CLONE_NEWNET) < 0) {
		ret = sl_errf(b->e, errno, "ip netns add %s: unshare",
			      h->netns);
		if (from_mother && setns(b->t->origin_nsfd, CLONE_NEWNET) < 0)
			ret = sl_errf(b->e, errno, "return to own namespace "
				      "from %s", mother->netns);
		return ret;
	}
	ret = fill_netns(b, i, path);
	if (setns(b->t->origin_nsfd, CLONE_NEWNET) < 0)
		ret = sl_errf(b->e, errno, "return to own namespace after "
			      "creating %s", h->netns);
	return ret;
}

/* A veth pair created whole from host a's namespace, its peer born in host
 * z's namespace under its final name. */
static int add_veth(struct build *b, int a, int ka, int z, int kz)
{
	struct sl_host *ha = &b->t->host[a], *hz = &b->t->host[z];
	const char *aname = ha->iface[ka].name, *zname = hz->iface[kz].name;
	char aidx[12], zidx[12];
	const char *argv[] = { "ip", "-n", ha->netns, "link", "add", aname,
			       "index", aidx, "type", "veth", "peer", "name",
			       zname, "index", zidx, "netns", hz->netns, NULL };
	int ret;

	snprintf(aidx, sizeof(aidx), "%d", veth_index(a, ka));
	snprintf(zidx, sizeof(zidx), "%d", veth_index(z, kz));
	log_cmd(b->cmdlog, argv);
	ret = sl_netlink_add_veth(&b->nl[a], aname, veth_index(a, ka), zname,
				  veth_index(z, kz), hz->nsfd);
	if (ret < 0)
		return nl_errf(b, a, ret, "add veth %s in %s (peer %s in %s)",
			       aname, ha->netns, zname, hz->netns);
	return 0;
}

static int ethtool_ioctl(int fd, const char *ifname, void *cmd)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = cmd;
	return ioctl(fd, SIOCETHTOOL, &ifr) < 0 ? -errno : 0;
}

/* Reads the kernel's feature names through ifname in host i and marks the
 * ones offload_patterns match.  Once per build: the names are the
 * kernel's, not the device's. */
static int find_offloads(struct build *b, int i, const char *ifname)
{
	const char *ns = b->t->host[i].netns;
	__u64 raw[(sizeof(struct ethtool_sset_info) + sizeof(__u32) + 7) / 8];
	struct ethtool_sset_info *info = (void *)raw;
	unsigned int n, matched = 0;
	int ret;

	memset(raw, 0, sizeof(raw));
	info->cmd = ETHTOOL_GSSET_INFO;
	info->sset_mask = 1ULL << ETH_SS_FEATURES;
	ret = ethtool_ioctl(b->ioc[i], ifname, info);
	if (ret == 0 && !(info->sset_mask & (1ULL << ETH_SS_FEATURES)))
		ret = -EOPNOTSUPP;
	if (ret < 0)
		return sl_errf(b->e, -ret, "ethtool -k %s in %s: count "
			       "features", ifname, ns);
	n = info->data[0];
	if (n > 32 * SL__FEATURE_WORDS)
		return sl_errf(b->e, E2BIG, "ethtool -k %s in %s: %u features",
			       ifname, ns, n);

	b->features = calloc(1, sizeof(*b->features) + n * ETH_GSTRING_LEN);
	if (!b->features)
		return sl_errf(b->e, ENOMEM, "ethtool -k %s in %s", ifname, ns);
	b->features->cmd = ETHTOOL_GSTRINGS;
	b->features->string_set = ETH_SS_FEATURES;
	b->features->len = n;
	ret = ethtool_ioctl(b->ioc[i], ifname, b->features);
	if (ret < 0)
		return sl_errf(b->e, -ret, "ethtool -k %s in %s: feature names",
			       ifname, ns);

	for (unsigned int k = 0; k < b->features->len && k < n; k++) {
		char name[ETH_GSTRING_LEN + 1];

		memcpy(name, b->features->data + k * ETH_GSTRING_LEN,
		       ETH_GSTRING_LEN);
		name[ETH_GSTRING_LEN] = '\0';
		for (size_t p = 0; p < sizeof(offload_patterns) /
				       sizeof(offload_patterns[0]); p++) {
			if (fnmatch(offload_patterns[p], name, 0) == 0) {
				b->offload_bits[k / 32] |= 1u << (k % 32);
				matched |= 1u << p;
			}
		}
	}
	/* A pattern that matches nothing means the names changed under us,
	 * and "off" would be a claim we did not check. */
	if (matched != (1u << (sizeof(offload_patterns) /
			       sizeof(offload_patterns[0]))) - 1)
		return sl_errf(b->e, ENOENT, "ethtool -k %s in %s: missing "
			       "features (matched mask %#x)", ifname, ns,
			       matched);
	return 0;
}

/* `ethtool -K IF tso off gso off gro off tx off`: one ETHTOOL_SFEATURES,
 * then a read-back, since the kernel may keep a feature on that a driver
 * cannot drop and says so only in a flag. */
static int offloads_off(struct build *b, int i, const char *ifname)
{
	struct sl_host *h = &b->t->host[i];
	const char *argv[] = { "ip", "netns", "exec", h->netns, "ethtool",
			       "-K", ifname, "tso", "off", "gso", "off",
			       "gro", "off", "tx", "off", NULL };
	__u32 sraw[2 + 2 * SL__FEATURE_WORDS], graw[2 + 4 * SL__FEATURE_WORDS];
	struct ethtool_sfeatures *sf = (void *)sraw;
	struct ethtool_gfeatures *gf = (void *)graw;
	unsigned int words;
	int ret;

	log_cmd(b->cmdlog, argv);
	if (!b->features) {
		ret = find_offloads(b, i, ifname);
		if (ret < 0)
			return ret;
	}
	words = (b->features->len + 31) / 32;
	/* The kernel wants exactly as many blocks as it has features. */
	memset(sraw, 0, sizeof(sraw));
	sf->cmd = ETHTOOL_SFEATURES;
	sf->size = words;
	for (unsigned int w = 0; w < words; w++)
		sf->features[w].valid = b->offload_bits[w];
	ret = ethtool_ioctl(b->ioc[i], ifname, sf);
	if (ret < 0)
		return sl_errf(b->e, -ret, "ethtool -K %s in %s", ifname,
			       h->netns);

	memset(graw, 0, sizeof(graw));
	gf->cmd = ETHTOOL_GFEATURES;
	gf->size = words;
	ret = ethtool_ioctl(b->ioc[i], ifname, gf);
	if (ret < 0)
		return sl_errf(b->e, -ret, "ethtool -k %s in %s", ifname,
			       h->netns);
	for (unsigned int k = 0; k < b->features->len; k++) {
		if (!(gf->features[k / 32].active & b->offload_bits[k / 32] &
		      (1u << (k % 32))))
			continue;
		return sl_errf(b->e, EOPNOTSUPP, "ethtool -K %s in %s: %.*s "
			       "stays on", ifname, h->netns, ETH_GSTRING_LEN,
			       (const char *)b->features->data +
			       k * ETH_GSTRING_LEN);
	}
	return 0;
}

/* The special problem of a veth that comes up before its peer: its open
 * finds no carrier, so its transmit queue keeps the noop qdisc, which
 * drops everything silently, until the kernel's link watcher handles the
 * carrier-on that the peer's open causes.  That work needs the RTNL lock,
 * which other runs creating and deleting namespaces hold for long
 * stretches: under load, a fifth of fresh topologies lost their first ARP
 * request that way, and with it a second (the ARP retry time) before the
 * first SYN got through, with an RTT sample of a second.  ETHTOOL_GLINK
 * (`ethtool IF`) has the kernel handle a device's pending link event at
 * once (linkwatch_sync_dev()), so asking every end settles them all before
 * anyone sends. */
static int link_settled(struct build *b, int i, const char *ifname)
{
	struct ethtool_value ev = { .cmd = ETHTOOL_GLINK };
	int ret = ethtool_ioctl(b->ioc[i], ifname, &ev);

	if (ret < 0)
		return sl_errf(b->e, -ret, "ethtool %s in %s", ifname,
			       b->t->host[i].netns);
	if (!ev.data)
		return sl_errf(b->e, ENOLINK, "ethtool %s in %s: no link after "
			       "both ends are up", ifname, b->t->host[i].netns);
	return 0;
}

static int set_up(struct build *b, int i, const char *ifname)
{
	struct sl_host *h = &b->t->host[i];
	const char *argv[] = { "ip", "-n", h->netns, "link", "set", ifname,
			       "up", NULL };
	int ret;

	log_cmd(b->cmdlog, argv);
	ret = sl_netlink_set_up(&b->nl[i], ifname);
	if (ret < 0)
		return nl_errf(b, i, ret, "set %s up in %s", ifname, h->netns);
	return 0;
}

static int add_addr(struct build *b, int i, int k)
{
	const struct sl_iface *ifc = &b->t->host[i].iface[k];
	struct sl_host *h = &b->t->host[i];
	char cidr[INET_ADDRSTRLEN + 4];
	const char *argv[] = { "ip", "-n", h->netns, "addr", "add", cidr,
			       "dev", ifc->name, NULL };
	int ret;

	inet_ntop(AF_INET, &ifc->addr, cidr, sizeof(cidr));
	snprintf(cidr + strlen(cidr), sizeof(cidr) - strlen(cidr), "/%d",
		 ifc->prefixlen);
	log_cmd(b->cmdlog, argv);
	ret = sl_netlink_add_addr4(&b->nl[i], veth_index(i, k), ifc->addr,
				   ifc->prefixlen);
	if (ret < 0)
		return nl_errf(b, i, ret, "add address %s to %s in %s", cidr,
			       ifc->name, h->netns);
	return 0;
}

static int add_default_route(struct build *b, int i, struct in_addr gw)
{
	struct sl_host *h = &b->t->host[i];
	char via[INET_ADDRSTRLEN];
	const char *argv[] = { "ip", "-n", h->netns, "route", "add",
			       "default", "via", via, NULL };
	int ret;

	inet_ntop(AF_INET, &gw, via, sizeof(via));
	log_cmd(b->cmdlog, argv);
	ret = sl_netlink_add_default_route4(&b->nl[i], gw);
	if (ret < 0)
		return nl_errf(b, i, ret, "add default route via %s in %s", via,
			       h->netns);
	return 0;
}

/* Addresses first, then links up: the order a learner types them in, and
 * the kernel adds the connected routes when each link comes up. */
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
	return ret;
}

static void set_iface(struct sl_host *h, const char *name, int net, int slot,
		      int last)
{
	struct sl_iface *ifc = &h->iface[h->nif++];

	snprintf(ifc->name, sizeof(ifc->name), "%s", name);
	/* 198.18.S.x and 198.19.S.x: the RFC 2544 benchmarking block. */
	ifc->addr.s_addr = htonl((198u << 24) | ((unsigned int)net << 16) |
				 ((unsigned int)slot << 8) |
				 (unsigned int)last);
	ifc->prefixlen = 24;
}

/* Names and addresses of slot's hosts; no fd is open yet. */
static void describe(struct sl_topology *t, int slot)
{
	static const char *const names[SL_NHOSTS] = {
		[SL_HOST_CLIENT] = "client",
		[SL_HOST_ROUTER] = "router",
		[SL_HOST_SERVER] = "server",
	};

	t->slot = slot;
	for (int i = 0; i < SL_NHOSTS; i++) {
		struct sl_host *h = &t->host[i];

		memset(h, 0, sizeof(*h));
		h->nsfd = -1;
		snprintf(h->name, sizeof(h->name), "%s", names[i]);
		snprintf(h->netns, sizeof(h->netns), SL_NETNS_PREFIX "%d-%s",
			 slot, names[i]);
	}
	set_iface(&t->host[SL_HOST_CLIENT], "eth0", 18, slot, 2);
	set_iface(&t->host[SL_HOST_ROUTER], "eth0", 18, slot, 1);
	set_iface(&t->host[SL_HOST_ROUTER], "eth1", 19, slot, 1);
	set_iface(&t->host[SL_HOST_SERVER], "eth0", 19, slot, 2);
}

/* Claims a free slot.  The search starts at a different slot for every
 * claim (process id plus a counter), so concurrent processes rarely try
 * the same locks and a slot just given back is not reused at once: a
 * dying namespace's late trace events then cannot be mistaken for the next
 * run's, which has other addresses. */
static int claim_slot(struct sl_topology *t, struct sl_err *e)
{
	static unsigned int claims;
	unsigned int start = (unsigned int)getpid() +
			     __atomic_fetch_add(&claims, 1, __ATOMIC_RELAXED);

	for (int k = 0; k < SL_SLOTS; k++) {
		int slot = (int)((start + (unsigned int)k) % SL_SLOTS);
		int fd;

		/* A kept run's namespaces stay until `socklab clean`. */
		if (is_kept(slot))
			continue;
		fd = lock_slot(slot);

		if (fd == -EAGAIN)
			continue;
		if (fd < 0)
			return sl_errf(e, -fd, "lock " SL_RUN_DIR
				       "/slot-%d.lock", slot);
		t->slot = slot;
		t->lockfd = fd;
		return 0;
	}
	return sl_errf(e, EBUSY, "claim a slot: all %d in " SL_RUN_DIR
		       " are held", SL_SLOTS);
}

int sl_topology_up(struct sl_topology *t, struct sl_cleanup *c, FILE *cmdlog,
		   struct sl_err *e)
{
	struct build b = { .t = t, .c = c, .cmdlog = cmdlog, .e = e };
	struct sl_err ignored;
	int ret;

	memset(t, 0, sizeof(*t));
	t->lockfd = -1;
	t->origin_nsfd = -1;
	for (int i = 0; i < SL_NHOSTS; i++) {
		t->host[i].nsfd = -1;
		b.ioc[i] = -1;
	}

	ret = ensure_dir(SL_RUN_DIR, e);
	if (ret < 0)
		return ret;
	/* What killed runs left behind goes first; a failure here is not
	 * ours to report (another run may be removing the same leftovers),
	 * and anything that is really in our way fails below with a
	 * precise reason. */
	sl_topology_clean_stale(NULL, &ignored);

	t->origin_nsfd = open(SL__SELF_NETNS, O_RDONLY | O_CLOEXEC);
	if (t->origin_nsfd < 0)
		return sl_errf(e, errno, "open " SL__SELF_NETNS);
	ret = claim_slot(t, e);
	if (ret < 0)
		goto out_origin;
	ret = sl_cleanup_push(c, undo_slot, t, "slot lock");
	if (ret < 0) {
		undo_slot(t);
		return sl_errf(e, -ret, "register undo of slot %d", t->slot);
	}
	describe(t, t->slot);
	/* We hold the slot, so any namespace still carrying its number is a
	 * leftover that clean_stale() could not take (it raced with us). */
	for (int i = 0; i < SL_NHOSTS; i++)
		remove_netns(t->host[i].netns);

	ret = ensure_netns_dir(e);
	/* The router first: the others are made from inside it. */
	if (ret == 0)
		ret = add_netns(&b, SL_HOST_ROUTER);
	for (int i = 0; i < SL_NHOSTS && ret == 0; i++)
		if (i != SL_HOST_ROUTER)
			ret = add_netns(&b, i);
	if (ret == 0)
		ret = add_veth(&b, SL_HOST_CLIENT, 0, SL_HOST_ROUTER, 0);
	if (ret == 0)
		ret = add_veth(&b, SL_HOST_ROUTER, 1, SL_HOST_SERVER, 0);
	/* Offloads off before any link is up, so that not even the first
	 * packet leaves with them. */
	for (int i = 0; i < SL_NHOSTS; i++)
		for (int k = 0; k < t->host[i].nif && ret == 0; k++)
			ret = offloads_off(&b, i, t->host[i].iface[k].name);
	for (int i = 0; i < SL_NHOSTS && ret == 0; i++)
		ret = configure_host(&b, i);
	if (ret == 0)
		ret = add_default_route(&b, SL_HOST_CLIENT,
					t->host[SL_HOST_ROUTER].iface[0].addr);
	if (ret == 0)
		ret = add_default_route(&b, SL_HOST_SERVER,
					t->host[SL_HOST_ROUTER].iface[1].addr);
	for (int i = 0; i < SL_NHOSTS; i++)
		for (int k = 0; k < t->host[i].nif && ret == 0; k++)
			ret = link_settled(&b, i, t->host[i].iface[k].name);

	for (int i = 0; i < SL_NHOSTS; i++) {
		sl_netlink_close(&b.nl[i]);
		if (b.ioc[i] >= 0)
			close(b.ioc[i]);
	}
	free(b.features);
	return ret;

out_origin:
	close(t->origin_nsfd);
	t->origin_nsfd = -1;
	return ret;
}

static int check_host(const struct sl_topology *t, int host, struct sl_err *e)
{
	if (host < 0 || host >= SL_NHOSTS || t->host[host].nsfd < 0)
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
		return sl_errf(e, EINVAL, "sysctl %s in %s: not a "
			       "per-namespace (net.*) key", key, h->netns);
	log_sysctl(cmdlog, h->netns, key, value);

	/* Back to wherever the thread was, which is not necessarily the
	 * origin: a role may call this from inside its own host. */
	back = open(SL__SELF_NETNS, O_RDONLY | O_CLOEXEC);
	if (back < 0)
		return sl_errf(e, errno, "open " SL__SELF_NETNS);
	if (setns(h->nsfd, CLONE_NEWNET) < 0) {
		ret = sl_errf(e, errno, "sysctl -w %s=%s: enter %s", key, value,
			      h->netns);
		goto out;
	}
	ret = write_sysctl(key, value);
	if (ret < 0)
		sl_errf(e, -ret, "sysctl -w %s=%s in %s", key, value, h->netns);
	if (setns(back, CLONE_NEWNET) < 0)
		ret = sl_errf(e, errno, "return to own namespace after sysctl "
			      "in %s", h->netns);
out:
	close(back);
	return ret;
}

/* The router's interface on host's link: the one on host's subnet. */
static int router_iface_for(const struct sl_topology *t, int host)
{
	const struct sl_host *r = &t->host[SL_HOST_ROUTER];
	const struct sl_iface *hi = &t->host[host].iface[0];

	for (int k = 0; k < r->nif; k++) {
		uint32_t mask = htonl(~0u << (32 - r->iface[k].prefixlen));

		if ((r->iface[k].addr.s_addr & mask) == (hi->addr.s_addr & mask))
			return k;
	}
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
	const char *argv[] = { "ip", "-n", r->netns, "link", "del",
			       r->iface[k].name, NULL };
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
	struct build b = { .t = t, .c = c, .cmdlog = cmdlog, .e = e };
	const char *argv[] = { "ip", "netns", "del", NULL, NULL };
	struct sl_host *h;
	int k, ret;

	if (host != SL_HOST_CLIENT && host != SL_HOST_SERVER)
		return sl_errf(e, EINVAL, "rebuild host %d: only the client "
			       "and the server can be rebuilt", host);
	h = &t->host[host];
	k = router_iface_for(t, host);
	if (k < 0 || t->origin_nsfd < 0)
		return sl_errf(e, EINVAL, "rebuild %s: topology is not up",
			       h->netns);
	for (int i = 0; i < SL_NHOSTS; i++)
		b.ioc[i] = -1;

	ret = open_sockets_in(&b, SL_HOST_ROUTER);
	if (ret == 0)
		ret = del_router_link(&b, k);
	if (ret < 0)
		goto out;
	/* The old namespace loses its name and our reference; whoever else
	 * still holds it holds an island with only lo. */
	argv[3] = h->netns;
	log_cmd(cmdlog, argv);
	ret = remove_netns(h->netns);
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
		ret = configure_host(&b, host);
	if (ret == 0)
		ret = add_default_route(&b, host,
					t->host[SL_HOST_ROUTER].iface[k].addr);
	if (ret == 0)
		ret = link_settled(&b, SL_HOST_ROUTER,
				   t->host[SL_HOST_ROUTER].iface[k].name);
	if (ret == 0)
		ret = link_settled(&b, host, h->iface[0].name);
out:
	for (int i = 0; i < SL_NHOSTS; i++) {
		sl_netlink_close(&b.nl[i]);
		if (b.ioc[i] >= 0)
			close(b.ioc[i]);
	}
	free(b.features);
	return ret;
}

int sl_topology_host(const struct sl_topology *t, const char *name)
{
	for (int i = 0; i < SL_NHOSTS; i++)
		if (strcmp(t->host[i].name, name) == 0)
			return i;
	return -1;
}

int sl_topology_host_by_addr(const struct sl_topology *t, struct in_addr addr)
{
	for (int i = 0; i < SL_NHOSTS; i++)
		for (int k = 0; k < t->host[i].nif; k++)
			if (t->host[i].iface[k].addr.s_addr == addr.s_addr)
				return i;
	return -1;
}

/* Removes every socklab-<slot>-* in /run/netns; the caller holds the
 * slot's lock.  Returns the count removed; the first failure, if any, goes
 * to *err and e, and the others are still tried. */
static int remove_slot_netns(DIR *d, int slot, FILE *log, int *err,
			     struct sl_err *e)
{
	struct dirent *de;
	int removed = 0;

	rewinddir(d);
	while ((de = readdir(d))) {
		const char *argv[] = { "ip", "netns", "del", de->d_name, NULL };
		int r;

		if (slot_of_netns(de->d_name) != slot)
			continue;
		r = remove_netns(de->d_name);
		if (r < 0) {
			if (*err == 0)
				*err = sl_errf(e, -r, "ip netns del %s",
					       de->d_name);
			continue;
		}
		if (log)
			sl_print_argv(log, "", argv);
		removed++;
	}
	return removed;
}

/* Lock files of slots nobody holds are leftovers too (a killed run cannot
 * unlink its own).  Unlinked only while we hold them. */
static void remove_stale_locks(void)
{
	struct dirent *de;
	DIR *d = opendir(SL_RUN_DIR);

	if (!d)
		return;
	while ((de = readdir(d))) {
		int slot, len = 0, fd;
		char path[64];

		if (sscanf(de->d_name, "slot-%d.lock%n", &slot, &len) != 1 ||
		    de->d_name[len] != '\0' || slot < 0 || slot >= SL_SLOTS)
			continue;
		fd = lock_slot(slot);
		if (fd < 0)
			continue;
		lock_path(path, sizeof(path), slot);
		unlink(path);
		close(fd);
	}
	closedir(d);
}

int sl_topology_clean_stale(FILE *log, struct sl_err *e)
{
	unsigned char seen[SL_SLOTS] = { 0 };
	struct dirent *de;
	int removed = 0, ret = 0;
	DIR *d;

	ret = ensure_dir(SL_RUN_DIR, e);
	if (ret < 0)
		return ret;
	d = opendir(SL__NETNS_DIR);
	if (!d && errno != ENOENT)
		return sl_errf(e, errno, "open " SL__NETNS_DIR);
	while (d && (de = readdir(d))) {
		int slot = slot_of_netns(de->d_name);

		if (slot >= 0)
			seen[slot] = 1;
	}
	/* A run's trace instance (trace.h) is a leftover on the same terms
	 * as its namespaces: named after its slot, stale when the slot's lock
	 * is free. */
	sl_trace_instance_slots(seen, SL_SLOTS);
	for (int slot = 0; slot < SL_SLOTS; slot++) {
		char path[64];
		int fd;

		if (!seen[slot] || is_kept(slot))
			continue;
		/* Held: its owner is alive (possibly our own caller). */
		fd = lock_slot(slot);
		if (fd == -EAGAIN)
			continue;
		if (fd < 0) {
			if (ret == 0)
				ret = sl_errf(e, -fd, "lock " SL_RUN_DIR
					      "/slot-%d.lock", slot);
			continue;
		}
		if (sl_trace_remove_instance(slot, log) > 0)
			removed++;
		if (d)
			removed += remove_slot_netns(d, slot, log, &ret, e);
		/* Namespaces first, name last: whoever creates a new lock
		 * file under this name after the unlink finds nothing left
		 * of ours. */
		lock_path(path, sizeof(path), slot);
		unlink(path);
		close(fd);
	}
	if (d)
		closedir(d);
	remove_stale_locks();
	return ret < 0 ? ret : removed;
}

int sl_topology_keep(const struct sl_topology *t, struct sl_err *e)
{
	char path[64];
	int fd;

	kept_path(path, sizeof(path), t->slot);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return sl_errf(e, errno, "mark slot %d as kept (%s)", t->slot,
			       path);
	close(fd);
	return 0;
}

int sl_topology_clean_all(FILE *log, struct sl_err *e)
{
	struct dirent *de;
	DIR *d = opendir(SL_RUN_DIR);

	/* Kept runs are no longer kept: their marks go, and with them the
	 * only thing that protected their namespaces from clean_stale(). */
	while (d && (de = readdir(d))) {
		int slot, len = 0;
		char path[64];

		if (sscanf(de->d_name, "slot-%d.kept%n", &slot, &len) != 1 ||
		    de->d_name[len] != '\0' || slot < 0 || slot >= SL_SLOTS)
			continue;
		kept_path(path, sizeof(path), slot);
		unlink(path);
	}
	if (d)
		closedir(d);
	return sl_topology_clean_stale(log, e);
}

/* ---- socklab doctor ---- */

static int64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Median CPU time of 51 dumps of the calling thread's namespace, in ns;
 * -1 when it cannot dump. */
static int64_t median_dump_ns(void)
{
	struct sl_sockdiag *d;
	struct sl_sock v[8];
	struct sl_err e;
	int64_t c[51];
	int n;

	if (sl_sockdiag_open(&d, -1, &e) < 0)
		return -1;
	for (int i = 0; i < 51; i++) {
		int64_t t0 = thread_cpu_ns();

		if (sl_sockdiag_dump(d, v, 8, &n, &e) < 0) {
			sl_sockdiag_close(d);
			return -1;
		}
		c[i] = thread_cpu_ns() - t0;
	}
	sl_sockdiag_close(d);
	qsort(c, 51, sizeof(c[0]), cmp_i64);
	return c[25];
}

static long read_long(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = 0;

	if (!f)
		return 0;
	if (fscanf(f, "%ld", &v) != 1)
		v = 0;
	fclose(f);
	return v;
}

/* In a child of its own, which takes the namespaces with it: a "mother"
 * namespace (sharing the machine's table), and one made from inside it as
 * sl_topology_up() makes the hosts. */
int sl_topology_doctor(char *detail, size_t n)
{
	int64_t r[4] = { -1, -1, -1, -1 };	/* shared ns, private ns,
						 * machine's size, private */
	int pfd[2], status;
	pid_t pid;
	char v[16];

	if (pipe(pfd) < 0) {
		snprintf(detail, n, "pipe: %s", strerror(errno));
		return 0;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(detail, n, "fork: %s", strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		return 0;
	}
	if (pid == 0) {
		close(pfd[0]);
		snprintf(v, sizeof(v), "%d", SL_EHASH_ENTRIES);
		if (unshare(CLONE_NEWNET) == 0) {
			r[0] = median_dump_ns();
			r[2] = -read_long("/proc/sys/net/ipv4/tcp_ehash_entries");
			if (write_sysctl("net.ipv4.tcp_child_ehash_entries",
					 v) == 0 && unshare(CLONE_NEWNET) == 0) {
				r[1] = median_dump_ns();
				r[3] = read_long("/proc/sys/net/ipv4/"
						 "tcp_ehash_entries");
			}
		}
		_exit(write(pfd[1], r, sizeof(r)) == sizeof(r) ? 0 : 1);
	}
	close(pfd[1]);
	if (read(pfd[0], r, sizeof(r)) != sizeof(r))
		r[0] = -1;
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (r[0] < 0) {
		snprintf(detail, n, "could not make a namespace to try it in");
		return 0;
	}
	if (r[1] < 0 || r[3] != SL_EHASH_ENTRIES) {
		snprintf(detail, n, "no net.ipv4.tcp_child_ehash_entries here "
			 "(before 6.1): the hosts share the machine's TCP hash "
			 "table, a sock_diag dump costs %.0f us of CPU; "
			 "observation is only slower, nothing is judged by it",
			 r[0] / 1e3);
		return 1;
	}
	snprintf(detail, n, "the hosts get a TCP hash table of their own "
		 "(%d buckets, made from inside the router): a sock_diag dump "
		 "costs %.0f us of CPU here, against %.0f us with the "
		 "machine's %lld; nothing is judged by it", SL_EHASH_ENTRIES,
		 r[1] / 1e3, r[0] / 1e3, (long long)r[2]);
	return 1;
}
