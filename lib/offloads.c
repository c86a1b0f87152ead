/* offloads.c: a veth's offloads off and its link settled (offloads.h). */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>

#include "err.h"
#include "offloads.h"

/* The offloads that make a veth hand whole 64 KB super-segments (or frames
 * with no checksum yet) to a capture instead of what a wire would carry.
 * Named the way `ethtool -K eth0 tso off gso off gro off tx off` names
 * them: each word stands for every feature whose name matches its pattern
 * (ethtool's own table, off_flag_def).  Going by names, not by the legacy
 * ETHTOOL_STSO & co, matters: those cover only the features that existed
 * when they were written, and kernel 6.18 already has a TSO flavour
 * (tx-tcp-accecn-segmentation) that ETHTOOL_STSO leaves on. */
static const char *const offload_patterns[] = {
	"tx-checksum-*",	   /* tx */
	"tx-tcp*-segmentation",	   /* tso */
	"tx-generic-segmentation", /* gso */
	"rx-gro",		   /* gro */
};

static int ethtool_ioctl(int fd, const char *ifname, void *cmd)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = cmd;
	return ioctl(fd, SIOCETHTOOL, &ifr) < 0 ? -errno : 0;
}

/* Reads the kernel's feature names through ifname in host i and marks the
 * ones offload_patterns match.  Once per struct sl_offloads: the names are the
 * kernel's, not the device's. */
static int find_offloads(struct sl_offloads *o, int ioc, const char *ifname,
			 const char *ns, struct sl_err *e)
{
	__u64 raw[(sizeof(struct ethtool_sset_info) + sizeof(__u32) + 7) / 8];
	struct ethtool_sset_info *info = (void *)raw;
	unsigned int n, matched = 0;
	int ret;

	memset(raw, 0, sizeof(raw));
	info->cmd = ETHTOOL_GSSET_INFO;
	info->sset_mask = 1ULL << ETH_SS_FEATURES;
	ret = ethtool_ioctl(ioc, ifname, info);
	if (ret == 0 && !(info->sset_mask & (1ULL << ETH_SS_FEATURES)))
		ret = -EOPNOTSUPP;
	if (ret < 0)
		return sl_errf(e, -ret,
			       "ethtool -k %s in %s: count "
			       "features",
			       ifname, ns);
	n = info->data[0];
	if (n > 32 * SL_OFFLOAD_WORDS)
		return sl_errf(e, E2BIG, "ethtool -k %s in %s: %u features",
			       ifname, ns, n);

	o->features = calloc(1, sizeof(*o->features) + n * ETH_GSTRING_LEN);
	if (!o->features)
		return sl_errf(e, ENOMEM, "ethtool -k %s in %s", ifname, ns);
	o->features->cmd = ETHTOOL_GSTRINGS;
	o->features->string_set = ETH_SS_FEATURES;
	o->features->len = n;
	ret = ethtool_ioctl(ioc, ifname, o->features);
	if (ret < 0)
		return sl_errf(e, -ret, "ethtool -k %s in %s: feature names",
			       ifname, ns);

	for (unsigned int k = 0; k < o->features->len && k < n; k++) {
		char name[ETH_GSTRING_LEN + 1];

		memcpy(name, o->features->data + k * ETH_GSTRING_LEN,
		       ETH_GSTRING_LEN);
		name[ETH_GSTRING_LEN] = '\0';
		for (size_t p = 0;
		     p < sizeof(offload_patterns) / sizeof(offload_patterns[0]);
		     p++) {
			if (fnmatch(offload_patterns[p], name, 0) == 0) {
				o->bits[k / 32] |= 1u << (k % 32);
				matched |= 1u << p;
			}
		}
	}
	/* A pattern that matches nothing means the names changed under us,
	 * and "off" would be a claim we did not check. */
	if (matched !=
	    (1u << (sizeof(offload_patterns) / sizeof(offload_patterns[0]))) -
		    1)
		return sl_errf(e, ENOENT,
			       "ethtool -k %s in %s: missing "
			       "features (matched mask %#x)",
			       ifname, ns, matched);
	return 0;
}

/* `ethtool -K IF tso off gso off gro off tx off`: one ETHTOOL_SFEATURES,
 * then a read-back, since the kernel may keep a feature on that a driver
 * cannot drop and says so only in a flag. */
int sl_offloads_off(struct sl_offloads *o, int ioc, const char *ifname,
		    const char *netns, struct sl_err *e)
{
	__u32 sraw[2 + 2 * SL_OFFLOAD_WORDS], graw[2 + 4 * SL_OFFLOAD_WORDS];
	struct ethtool_sfeatures *sf = (void *)sraw;
	struct ethtool_gfeatures *gf = (void *)graw;
	unsigned int words;
	int ret;

	if (!o->features) {
		ret = find_offloads(o, ioc, ifname, netns, e);
		if (ret < 0)
			return ret;
	}
	words = (o->features->len + 31) / 32;
	/* The kernel wants exactly as many blocks as it has features. */
	memset(sraw, 0, sizeof(sraw));
	sf->cmd = ETHTOOL_SFEATURES;
	sf->size = words;
	for (unsigned int w = 0; w < words; w++)
		sf->features[w].valid = o->bits[w];
	ret = ethtool_ioctl(ioc, ifname, sf);
	if (ret < 0)
		return sl_errf(e, -ret, "ethtool -K %s in %s", ifname, netns);

	memset(graw, 0, sizeof(graw));
	gf->cmd = ETHTOOL_GFEATURES;
	gf->size = words;
	ret = ethtool_ioctl(ioc, ifname, gf);
	if (ret < 0)
		return sl_errf(e, -ret, "ethtool -k %s in %s", ifname, netns);
	for (unsigned int k = 0; k < o->features->len; k++) {
		if (!(gf->features[k / 32].active & o->bits[k / 32] &
		      (1u << (k % 32))))
			continue;
		return sl_errf(e, EOPNOTSUPP,
			       "ethtool -K %s in %s: %.*s "
			       "stays on",
			       ifname, netns, ETH_GSTRING_LEN,
			       (const char *)o->features->data +
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
int sl_offloads_settle_link(int ioc, const char *ifname, const char *netns,
			    struct sl_err *e)
{
	struct ethtool_value ev = { .cmd = ETHTOOL_GLINK };
	int ret = ethtool_ioctl(ioc, ifname, &ev);

	if (ret < 0)
		return sl_errf(e, -ret, "ethtool %s in %s", ifname, netns);
	if (!ev.data)
		return sl_errf(e, ENOLINK,
			       "ethtool %s in %s: no link after "
			       "both ends are up",
			       ifname, netns);
	return 0;
}

void sl_offloads_free(struct sl_offloads *o)
{
	free(o->features);
	o->features = NULL;
}
