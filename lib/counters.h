/* counters.h: the kernel's counters over a run, as `nstat` reads them.
 *
 * Each network namespace has its own SNMP and "extended" counters:
 * /proc/net/snmp (Ip, Icmp, Tcp, Udp, ...) and /proc/net/netstat (TcpExt,
 * IpExt, MPTcpExt), the files `netstat -s` and `nstat` read.  They are read
 * in every host's namespace (after setns(), through /proc/thread-self/net,
 * which follows the calling thread's namespace) before the roles start and
 * again once they are done; the timeline keeps the differences, named as
 * nstat names them: the line's prefix and the column's name run together,
 * TcpExtTCPAbortOnClose, TcpOutRsts, IpExtInOctets.
 *
 * The names are historical and some mislead (TCPAbortOnData counts a close()
 * with SO_LINGER {1, 0}, not only data arriving after close): the lab guides
 * say which counter moved for what, and predictions name them exactly.
 */
#ifndef SL_COUNTERS_H
#define SL_COUNTERS_H

#include <stdint.h>
#include <stdio.h>

#include "counter.h"

struct sl_err;
struct sl_timeline;
struct sl_topology;

/* A set of readings. */
struct sl_counters {
	int n, cap;
	struct sl_counter *c;
};

void sl_counters_init(struct sl_counters *c);
void sl_counters_free(struct sl_counters *c);

/* Appends the counters of one file in the snmp/netstat layout (pairs of
 * lines: "Tcp: ActiveOpens ..." then "Tcp: 1 ..."), for host.  Returns 0,
 * -EINVAL for a file in another layout, -ENOMEM. */
int sl_counters_parse(struct sl_counters *c, int host, FILE *f);

/* Reads /proc/net/snmp and /proc/net/netstat in every host's namespace of
 * t.  Returns 0 or -errno with a reason in e. */
int sl_counters_read(struct sl_counters *c, const struct sl_topology *t,
		     struct sl_err *e);

/* Puts after - before, per host and name, into tl (every counter, the
 * zeros too, so that a prediction can tell "did not move" from "no such
 * counter on this kernel"), and marks tl's counters as read. */
int sl_counters_delta(const struct sl_counters *before,
		      const struct sl_counters *after, struct sl_timeline *tl);

#endif
