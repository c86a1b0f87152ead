/* sysctls.c: the TCP sysctls a variant ran with (sysctls.h). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "netns.h"
#include "sysctls.h"

/* What the claims turn on.  The ones experiments set (their SETUP says why)
 * and the defaults they lean on: the keepalive and retransmission timers,
 * the queues' limits, the options a handshake negotiates (they change the
 * segments' sizes and what an ACK carries), SACK compression and the
 * challenge-ACK limit (ACK experiments), and TIME-WAIT's handling. */
const char *const sl_sysctl_keys[] = {
	"net.core.somaxconn",
	"net.ipv4.ip_local_port_range",
	"net.ipv4.tcp_abort_on_overflow",
	"net.ipv4.tcp_autocorking",
	"net.ipv4.tcp_challenge_ack_limit",
	"net.ipv4.tcp_comp_sack_delay_ns",
	"net.ipv4.tcp_comp_sack_nr",
	"net.ipv4.tcp_dsack",
	"net.ipv4.tcp_early_retrans",
	"net.ipv4.tcp_fin_timeout",
	"net.ipv4.tcp_invalid_ratelimit",
	"net.ipv4.tcp_keepalive_intvl",
	"net.ipv4.tcp_keepalive_probes",
	"net.ipv4.tcp_keepalive_time",
	"net.ipv4.tcp_max_syn_backlog",
	"net.ipv4.tcp_max_tw_buckets",
	"net.ipv4.tcp_moderate_rcvbuf",
	"net.ipv4.tcp_mtu_probing",
	"net.ipv4.tcp_orphan_retries",
	"net.ipv4.tcp_retries1",
	"net.ipv4.tcp_retries2",
	"net.ipv4.tcp_rfc1337",
	"net.ipv4.tcp_rmem",
	"net.ipv4.tcp_sack",
	"net.ipv4.tcp_syn_retries",
	"net.ipv4.tcp_synack_retries",
	"net.ipv4.tcp_syncookies",
	"net.ipv4.tcp_thin_linear_timeouts",
	"net.ipv4.tcp_timestamps",
	"net.ipv4.tcp_tw_reuse",
	"net.ipv4.tcp_tw_reuse_delay",
	"net.ipv4.tcp_window_scaling",
	"net.ipv4.tcp_wmem",
	NULL,
};

/* One key from /proc/sys as the calling thread's namespace has it, on one
 * line.  Returns 0, or -errno (-ENOENT: not on this kernel). */
static int read_one(const char *key, char *buf, size_t len)
{
	char path[128];
	ssize_t n;
	int fd, i;

	if (sl_netns_sysctl_path(key, path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	i = n < 0 ? -errno : 0;
	close(fd);
	if (i < 0)
		return i;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	/* tcp_rmem and the port range are tab-separated: ss and sysctl(8)
	 * show them with spaces or tabs alike; JSON readers prefer spaces. */
	for (char *p = buf; *p; p++)
		if (*p == '\t')
			*p = ' ';
	return 0;
}

int sl_sysctls_read(const struct sl_topology *t, int h,
		    struct sl_sysctl_val *out, int max, struct sl_err *e)
{
	int back, n = 0, ret = 0;

	/* /proc/sys/net is the namespace of the task that opens it: enter the
	 * host's for the reads, then back to wherever this thread was. */
	back = open(SL_SELF_NETNS, O_RDONLY | O_CLOEXEC);
	if (back < 0)
		return sl_errf(e, errno, "open " SL_SELF_NETNS);
	if (setns(t->host[h].nsfd, CLONE_NEWNET) < 0) {
		ret = sl_errf(e, errno, "read sysctls: enter %s",
			      t->host[h].netns);
		goto out;
	}
	for (int k = 0; sl_sysctl_keys[k] && n < max; k++) {
		int r = read_one(sl_sysctl_keys[k], out[n].value,
				 sizeof(out[n].value));

		if (r == -ENOENT)
			continue;
		if (r < 0) {
			ret = sl_errf(e, -r, "read sysctl %s in %s",
				      sl_sysctl_keys[k], t->host[h].netns);
			break;
		}
		snprintf(out[n].host, sizeof(out[n].host), "%s",
			 t->host[h].name);
		snprintf(out[n].key, sizeof(out[n].key), "%s",
			 sl_sysctl_keys[k]);
		n++;
	}
	if (setns(back, CLONE_NEWNET) < 0)
		ret = sl_errf(e, errno,
			      "return to own namespace after reading "
			      "sysctls in %s",
			      t->host[h].netns);
out:
	close(back);
	return ret < 0 ? ret : n;
}
