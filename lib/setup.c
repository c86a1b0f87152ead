/* setup.c: what SETUP does to the hosts themselves (setup.h); its faults
 * are faults.c's. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "ipaddr.h"
#include "err.h"
#include "exec.h"
#include "netns.h"
#include "setup.h"
#include "socklab.h"
#include "topology.h"

void sl_sysctl(struct sl_setup *s, const char *host, const char *key,
	       const char *value)
{
	int h = sl_topology_host(s->topo, host);

	if (s->failed)
		return;
	if (h < 0) {
		sl_errf(&s->err, EINVAL, "sysctl %s on unknown host '%s'", key,
			host);
		s->failed = 1;
		return;
	}
	if (sl_topology_sysctl(s->topo, h, key, value, s->cmdlog, &s->err) < 0)
		s->failed = 1;
}

/* The router's address on host's link: host's gateway. */
static int gateway_of(const struct sl_topology *t, int h, struct in6_addr *gw)
{
	const struct sl_host *r = &t->host[SL_HOST_ROUTER];
	const struct sl_iface *hi = &t->host[h].iface[0];

	for (int k = 0; k < r->nif; k++) {
		if (sl_topology_same_subnet(&r->iface[k].addr, &hi->addr,
					    r->iface[k].prefixlen)) {
			*gw = r->iface[k].addr;
			return 0;
		}
	}
	return -1;
}

/* Runs argv from inside host h's namespace, and comes back. */
static int exec_in(const struct sl_topology *t, int h, const char *const argv[],
		   struct sl_err *e)
{
	int back = open(SL_SELF_NETNS, O_RDONLY | O_CLOEXEC);
	int ret;

	if (back < 0)
		return sl_errf(e, errno, "open " SL_SELF_NETNS);
	if (setns(t->host[h].nsfd, CLONE_NEWNET) < 0) {
		ret = sl_errf(e, errno, "enter %s", t->host[h].netns);
		goto out;
	}
	ret = sl_exec(argv, e);
	if (setns(back, CLONE_NEWNET) < 0)
		ret = sl_errf(e, errno, "return from %s", t->host[h].netns);
out:
	close(back);
	return ret;
}

/* The route a host reaches the other hosts by is its default route, through
 * the router: `ip route change` replaces it with the same gateway and the
 * author's options, which is what a learner types.  It runs as plain `ip
 * route` from inside the namespace (the topology's descriptor, as for a
 * sysctl) and is printed with `ip -n NETNS`, like the route socklab added
 * (topology.c). */
#define SL__ROUTE_OPTS 16

void sl__route(struct sl_setup *s, const char *host, const char *const opts[])
{
	const char *run[8 + SL__ROUTE_OPTS + 1] = {
		"ip", "route", "change", "default", "via", NULL, "dev", NULL,
	};
	const char *shown[2 + 8 + SL__ROUTE_OPTS + 1] = { "ip", "-n" };
	char via[SL_IPSTRLEN];
	struct in6_addr gw;
	int h = sl_topology_host(s->topo, host), n = 0;

	if (s->failed)
		return;
	if (h < 0 || h == SL_HOST_ROUTER) {
		sl_errf(&s->err, EINVAL,
			"route on %s host '%s': only the client's and the "
			"server's default routes change",
			h < 0 ? "unknown" : "the router", host);
		s->failed = 1;
		return;
	}
	while (opts[n] && n < SL__ROUTE_OPTS)
		n++;
	if (n == 0 || opts[n]) {
		sl_errf(&s->err, EINVAL, "route on %s: 1 to %d options", host,
			SL__ROUTE_OPTS);
		s->failed = 1;
		return;
	}
	if (gateway_of(s->topo, h, &gw) < 0) {
		sl_errf(&s->err, ENOENT, "route on %s: no router on its link",
			host);
		s->failed = 1;
		return;
	}
	sl_ip_ntop(&gw, via, sizeof(via));
	run[5] = via;
	run[7] = s->topo->host[h].iface[0].name;
	for (int k = 0; k < n; k++)
		run[8 + k] = opts[k];
	shown[2] = s->topo->host[h].netns;
	for (int k = 1; run[k]; k++)
		shown[2 + k] = run[k];
	if (s->cmdlog) {
		sl_print_argv(s->cmdlog, "", shown);
		fflush(s->cmdlog);
	}
	if (exec_in(s->topo, h, run, &s->err) < 0)
		s->failed = 1;
}
