/* linkemu_rules.c: the rules that steer a direction's packets to the link
 * emulator (linkemu_proto.h): an iptables NFQUEUE rule per direction, or
 * the netem qdisc on the router's way out, run in the router's namespace
 * and printed to the cmdlog as `ip netns exec ...` lines a learner can
 * replay.
 *
 * Directions: packets from the client enter the router on the interface
 * that faces the client and go to NFQUEUE 0, packets from the server to
 * NFQUEUE 1 (queue numbers are per network namespace, so every run has
 * its own 0 and 1).  All faults on one direction share its one rule: a
 * verdict of NF_ACCEPT ends the packet's walk through the chain, so a
 * second queue rule would never see it.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "ipaddr.h"
#include "err.h"
#include "exec.h"
#include "linkemu_proto.h"
#include "topology.h"

/* The router's interface on the side of host h (client or server). */
static const char *router_side(const struct sl_topology *t, int h)
{
	const struct sl_host *r = &t->host[SL_HOST_ROUTER];
	const struct sl_iface *hi = &t->host[h].iface[0];

	for (int i = 0; i < r->nif; i++)
		if (sl_topology_same_subnet(&r->iface[i].addr, &hi->addr,
					    r->iface[i].prefixlen))
			return r->iface[i].name;
	return NULL;
}

/* Runs argv inside the router's namespace from this thread, which goes
 * back where it was (a role's host, or the machine's namespace). */
static int router_exec(const struct sl_topology *t, const char *const argv[],
		       FILE *cmdlog, struct sl_err *e)
{
	const struct sl_host *r = &t->host[SL_HOST_ROUTER];
	char prefix[96];
	int back, ret;

	/* A topology only explained (topology.h): the command, not done. */
	if (t->explain) {
		snprintf(prefix, sizeof(prefix), "ip netns exec %s ", r->netns);
		if (cmdlog)
			sl_print_argv(cmdlog, prefix, argv);
		return 0;
	}
	back = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (back < 0)
		return sl_errf(e, errno, "open own network namespace");
	if (setns(r->nsfd, CLONE_NEWNET) < 0) {
		ret = sl_errf(e, errno, "enter %s", r->netns);
		goto out;
	}
	ret = sl_exec(argv, e);
	if (setns(back, CLONE_NEWNET) < 0 && ret == 0)
		ret = sl_errf(e, errno, "return from %s", r->netns);
out:
	close(back);
	/* Only what worked goes to the log as a command: it is a script a
	 * learner may replay. */
	if (cmdlog && ret == 0) {
		snprintf(prefix, sizeof(prefix), "ip netns exec %s ", r->netns);
		sl_print_argv(cmdlog, prefix, argv);
		fflush(cmdlog);
	}
	return ret;
}

/* The NFQUEUE rule of direction d: append (add) or delete it. */
int sl__le_queue_rule(const struct sl_topology *t, int d, int add, FILE *cmdlog,
		      struct sl_err *e)
{
	const char *in =
		router_side(t, d == 0 ? SL_HOST_CLIENT : SL_HOST_SERVER);
	char qnum[8];
	/* ip6tables for a run over IPv6: the same rule in the same table,
	 * the kernel's IPv6 netfilter hooks. */
	const char *argv[] = { t->family == AF_INET6 ? "ip6tables" : "iptables",
			       "-w",
			       "-t",
			       "mangle",
			       add ? "-A" : "-D",
			       "FORWARD",
			       "-i",
			       in,
			       "-j",
			       "NFQUEUE",
			       "--queue-num",
			       qnum,
			       NULL };

	if (!in)
		return sl_errf(e, ENODEV, "no router interface faces the %s",
			       d == 0 ? "client" : "server");
	snprintf(qnum, sizeof(qnum), "%d", d);
	return router_exec(t, argv, cmdlog, e);
}

/* The netem qdisc on the router's egress for direction d, from every
 * active netem fault on it (one qdisc per interface holds them all).
 * Replaces it, or deletes it when none is left. */
int sl__le_netem_sync(const struct sl_topology *t,
		      const struct sl__le_shared *sh, int d, FILE *cmdlog,
		      struct sl_err *e)
{
	const char *out =
		router_side(t, d == 0 ? SL_HOST_SERVER : SL_HOST_CLIENT);
	char delay[24] = "", jitter[24] = "", loss[24] = "", reorder[24] = "";
	const char *argv[24] = { "tc", "qdisc", "replace", "dev",
				 out,  "root",	"netem" };
	int n = 7, any = 0, dms = 0, jms = 0, rpct = 0, gap = 0;
	double keep = 1;

	if (!out)
		return sl_errf(e, ENODEV,
			       "no router interface for direction %d", d);
	for (int i = 0; i < SL_LINKEMU_MAX_FAULTS; i++) {
		const struct sl__le_spec *s = &sh->f[i].spec;

		if (!sh->f[i].active || sh->f[i].backend != LE_B_NETEM ||
		    !(s->dirs & (1 << d)))
			continue;
		any = 1;
		if (s->kind == LE_DELAY) {
			dms += s->delay_ms;
			jms += s->jitter_ms;
		} else if (s->kind == LE_LOSS) {
			keep *= 1 - s->loss;
		} else if (s->kind == LE_REORDER) {
			rpct = s->reorder_pct;
			gap = s->delay_ms > 0 ? s->delay_ms : LE_REORDER_GAP_MS;
		}
	}
	if (!any) {
		const char *del[] = { "tc", "qdisc", "del", "dev",
				      out,  "root",  NULL };

		return router_exec(t, del, cmdlog, e);
	}
	/* netem reorders only among delayed packets. */
	if (rpct && dms < gap)
		dms = gap;
	snprintf(delay, sizeof(delay), "%dms", dms);
	argv[n++] = "delay";
	argv[n++] = delay;
	if (jms) {
		snprintf(jitter, sizeof(jitter), "%dms", jms);
		argv[n++] = jitter;
	}
	if (keep < 1) {
		snprintf(loss, sizeof(loss), "%g%%", 100 * (1 - keep));
		argv[n++] = "loss";
		argv[n++] = loss;
	}
	if (rpct) {
		snprintf(reorder, sizeof(reorder), "%d%%", rpct);
		argv[n++] = "reorder";
		argv[n++] = reorder;
	}
	argv[n] = NULL;
	return router_exec(t, argv, cmdlog, e);
}
