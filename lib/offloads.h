/* offloads.h: a veth as a wire would show it, through the ethtool ioctl:
 * its segmentation and checksum offloads off (`ethtool -K IF tso off gso
 * off gro off tx off`) and its link state settled (`ethtool IF`).
 *
 * Every call takes an AF_INET socket created inside the device's
 * namespace (an ioctl resolves the device in the socket's namespace) and
 * the namespace's name, for the sentence when it fails.
 */
#ifndef SL_OFFLOADS_H
#define SL_OFFLOADS_H

#include <stdint.h>

struct ethtool_gstrings;
struct sl_err;

/* Room for 128 ethtool feature bits; the kernel keeps them in a u64. */
#define SL_OFFLOAD_WORDS 4

/* The kernel's feature names and which of them are offloads, read on the
 * first call and the same for every device of the kernel.  Zero it before
 * the first call; sl_offloads_free() when done. */
struct sl_offloads {
	struct ethtool_gstrings *features;
	uint32_t bits[SL_OFFLOAD_WORDS];
};

/* Turns ifname's offloads off and reads them back: a feature that stays on
 * is an error.  Returns 0 or -errno with a reason in e. */
int sl_offloads_off(struct sl_offloads *o, int ioc, const char *ifname,
		    const char *netns, struct sl_err *e);

void sl_offloads_free(struct sl_offloads *o);

/* Has the kernel handle ifname's pending link event now, and checks that
 * it has a carrier (see offloads.c).  Returns 0 or -errno with a reason
 * in e. */
int sl_offloads_settle_link(int ioc, const char *ifname, const char *netns,
			    struct sl_err *e);

#endif
