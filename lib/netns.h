/* netns.h: named network namespaces, as `ip netns` makes them.
 *
 * A named namespace is a bind mount of /proc/thread-self/ns/net on a file
 * in SL_NETNS_DIR, so that a learner can type `ip netns exec socklab-3-client
 * ss -tan` next to a running experiment.  Mounts are per mount namespace:
 * socklab must run in the same mount namespace as the learner's shell for
 * the names to be visible.
 */
#ifndef SL_NETNS_H
#define SL_NETNS_H

#include <stddef.h>

struct sl_err;

#define SL_NETNS_DIR "/run/netns"
#define SL_SELF_NETNS "/proc/thread-self/ns/net"

/* SL_NETNS_DIR/name into buf. */
void sl_netns_path(char *buf, size_t n, const char *name);

/* Makes SL_NETNS_DIR exist and be a shared mount, as ip/ipnetns.c does.
 * Returns 0 or -errno with a reason in e. */
int sl_netns_dir_ready(struct sl_err *e);

/* Whether a namespace is named name. */
int sl_netns_exists(const char *name);

/* Removes the name as `ip netns del` does: detaches the bind mount, then
 * the file; the kernel frees the namespace once nothing else holds it.
 * Either may already be gone, which is fine.  Returns 0 or -errno. */
int sl_netns_del(const char *name);

/* path = /proc/sys/<key with dots as slashes>, the file sysctl(8) reads
 * for key.  Returns 0 or -ENAMETOOLONG. */
int sl_netns_sysctl_path(const char *key, char *path, size_t len);

/* Writes value to /proc/sys/<key with dots as slashes> in the calling
 * thread's current namespace.  Returns 0 or -errno. */
int sl_netns_write_sysctl(const char *key, const char *value);

#endif
