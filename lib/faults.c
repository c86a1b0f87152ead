/* faults.c: faults on the path, host crash and host reboot (faults.h).
 *
 * nftables does the blackhole and the crash, always in socklab's own table
 * (table inet socklab), one base chain per fault:
 *
 *	router:  chain faultN         hook forward   the fault's drop rules
 *	router:  chain crash_HOST     hook forward   drop HOST's address both ways
 *	HOST:    chain crash          hook output    policy drop
 *
 * A chain of its own per fault makes lifting one fault the deletion of one
 * chain, whatever else is in force, and the table goes away with the
 * namespace at teardown, on every exit path, with nothing to undo by hand.
 *
 * The chains hook in at priority -160, before mangle (-150), where
 * iptables' mangle FORWARD chain, and with it the link emulator's NFQUEUE
 * rule, sits: a packet the blackhole drops never reaches the emulator, so
 * it cannot count as one of a one-shot drop's segments or be delayed into
 * the time after the blackhole is lifted.
 *
 * nft is run with an argument vector inside the namespace: the calling
 * thread enters it, forks nft there (a child starts in the namespace of
 * the thread that forked it) and goes back.  Each command goes to
 * commands.sh as `ip netns exec NETNS nft '...'`, one transaction per
 * line, so a learner can replay it; nft returns only once the kernel has
 * committed the transaction, so the fault is in force when we mark it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "board.h"
#include "cleanup.h"
#include "clock.h"
#include "err.h"
#include "exec.h"
#include "fault_spec.h"
#include "faults.h"
#include "linkemu.h"
#include "observe.h"
#include "role.h"
#include "setup.h"
#include "socklab.h"
#include "topology.h"

#define NFT_PRIO "-160"
/* Where `ip netns add` names namespaces (topology.c makes them so). */
#define NETNS_DIR "/run/netns"

/* ---- the records, on the run's board ---- */

/* A record for a fault about to be applied; it counts (in the results)
 * only once t_on is set.  Returns its index, the fault's id, or -ENOSPC. */
static int new_rec(struct sl_board *b, const char *kind, int host)
{
	struct sl_fault_rec *r;
	int id;

	sl_board_lock(b);
	if (b->nfaults >= SL_FAULTS_MAX) {
		sl_board_unlock(b);
		return -ENOSPC;
	}
	id = b->nfaults++;
	r = &b->fault[id];
	memset(r, 0, sizeof(*r));
	snprintf(r->kind, sizeof(r->kind), "%s", kind);
	r->host = host;
	r->backend_id = -1;
	sl_board_unlock(b);
	return id;
}

/* What was asked, kept with record id (fault_spec.h). */
static void rec_spec(struct sl_board *b, int id, const char *by,
		     const char *kind, const char *host,
		     const struct sl_fault *f)
{
	char spec[sizeof(b->fault[0].spec)];

	if (sl_fault_spec_format(by, kind, host, f, spec, sizeof(spec)) < 0)
		spec[0] = '\0'; /* too long to keep: --explain says none */
	sl_board_lock(b);
	memcpy(b->fault[id].spec, spec, sizeof(spec));
	sl_board_unlock(b);
}

static void rec_on(struct sl_board *b, int id, const char *backend,
		   int backend_id, const char *what)
{
	struct sl_fault_rec *r = &b->fault[id];

	sl_board_lock(b);
	snprintf(r->backend, sizeof(r->backend), "%s", backend);
	snprintf(r->what, sizeof(r->what), "%s", what);
	r->backend_id = backend_id;
	r->t_on = sl_now();
	sl_board_unlock(b);
}

static void event(struct sl_board *b, int kind, int host, const char *name,
		  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* A note ("fault" and a sentence) or a mark on the timeline. */
static void event(struct sl_board *b, int kind, int host, const char *name,
		  const char *fmt, ...)
{
	struct sl_event ev;
	va_list ap;

	if (!b)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.t = ev.t_start = sl_now();
	ev.kind = kind;
	ev.host = host;
	ev.from = ev.to = -1;
	snprintf(ev.name, sizeof(ev.name), "%s", name);
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(ev.text, sizeof(ev.text), fmt, ap);
		va_end(ap);
	}
	sl_board_append(b, &ev);
}

int sl_faults_export(struct sl_board *b, struct sl_fault_rec *out, int max)
{
	int n = 0;

	sl_board_lock(b);
	for (int i = 0; i < b->nfaults && n < max; i++)
		if (b->fault[i].t_on)
			out[n++] = b->fault[i];
	sl_board_unlock(b);
	return n;
}

int sl_faults_crashed(struct sl_board *b, int host)
{
	return b && host >= 0 && host < SL_BOARD_HOSTS && b->crashed[host];
}

/* Crashed and not rebooted since. */
static int is_down(struct sl_board *b, int host)
{
	int down;

	sl_board_lock(b);
	down = b->crashed[host] && !b->fault[b->crash_rec[host]].lifted;
	sl_board_unlock(b);
	return down;
}

/* ---- nft ---- */

/* commands.sh from a role: the run's descriptor, inherited across fork,
 * through a stream of our own on a duplicate.  The role ends with _exit(),
 * which flushes nothing, so every write is flushed at once.  "a" puts the
 * descriptor in append mode, so the run's own writes and the roles' never
 * overwrite each other. */
static FILE *role_cmdlog(struct sl_board *b)
{
	int fd = b->cmdlog_fd >= 0 ? dup(b->cmdlog_fd) : -1;
	FILE *f = fd >= 0 ? fdopen(fd, "a") : NULL;

	if (fd >= 0 && !f)
		close(fd);
	return f;
}

static int open_netns(const char *netns, struct sl_err *e)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), NETNS_DIR "/%s", netns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return sl_errf(e, errno, "open namespace %s", path);
	return fd;
}

/* A comment line in commands.sh: what the next commands do, and which
 * backend serves it. */
static void cmd_comment(FILE *cmdlog, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void cmd_comment(FILE *cmdlog, const char *fmt, ...)
{
	va_list ap;

	if (!cmdlog)
		return;
	fputs("# ", cmdlog);
	va_start(ap, fmt);
	vfprintf(cmdlog, fmt, ap);
	va_end(ap);
	fputc('\n', cmdlog);
	fflush(cmdlog);
}

/* `ip netns exec NETNS nft SCRIPT`, without the shell and without ip;
 * for a topology that is only explained (topology.h), printed only. */
static int nft(const struct sl_topology *t, const char *netns,
	       const char *script, FILE *cmdlog, struct sl_err *e)
{
	const char *argv[] = { "nft", script, NULL };
	const char *shown[] = { "ip",  "netns", "exec", netns,
				"nft", script,	NULL };
	int nsfd, back, ret;

	if (cmdlog) {
		sl_print_argv(cmdlog, "", shown);
		fflush(cmdlog);
	}
	if (t->explain)
		return 0;
	/* By name, not by the topology's descriptor: a role's copy of that
	 * is stale once the host has rebooted. */
	nsfd = open_netns(netns, e);
	if (nsfd < 0)
		return nsfd;
	back = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (back < 0) {
		ret = sl_errf(e, errno, "open own namespace");
		goto out_nsfd;
	}
	if (setns(nsfd, CLONE_NEWNET) < 0) {
		ret = sl_errf(e, errno, "nft: enter %s", netns);
		goto out;
	}
	ret = sl_exec(argv, e);
	if (setns(back, CLONE_NEWNET) < 0)
		ret = sl_errf(e, errno, "nft: return from %s", netns);
out:
	close(back);
out_nsfd:
	close(nsfd);
	return ret;
}

static const char *router_ns(const struct sl_topology *t)
{
	return t->host[SL_HOST_ROUTER].netns;
}

static void addr_of(const struct sl_topology *t, int h, char *buf, size_t n)
{
	sl_ip_ntop(&t->host[h].iface[0].addr, buf, n);
}

/* nft's word for the run's network header: "ip" or "ip6". */
static const char *nft_ip(const struct sl_topology *t)
{
	return t->family == AF_INET6 ? "ip6" : "ip";
}

/* ---- applying and lifting ---- */

static int is_linkemu_kind(const char *kind)
{
	return !strcmp(kind, "drop") || !strcmp(kind, "delay") ||
	       !strcmp(kind, "loss") || !strcmp(kind, "reorder");
}

/* The direction in words: "client -> server" or "both ways". */
static void direction(const struct sl_topology *t, const struct sl_fault *f,
		      char *buf, size_t n)
{
	int h = f->from ? sl_topology_host(t, f->from) : -1;

	if (h < 0)
		snprintf(buf, n, "both ways");
	else
		snprintf(buf, n, "%s -> %s", f->from,
			 h == SL_HOST_CLIENT ? "server" : "client");
}

static int check_from(const struct sl_topology *t, const struct sl_fault *f,
		      struct sl_err *e)
{
	int h;

	if (!f->from)
		return 0;
	h = sl_topology_host(t, f->from);
	if (h != SL_HOST_CLIENT && h != SL_HOST_SERVER)
		return sl_errf(e, EINVAL,
			       "fault %s: .from = \"%s\" is not the "
			       "client or the server",
			       f->kind, f->from);
	return 0;
}

static int apply_blackhole(const struct sl_topology *t, struct sl_board *b,
			   const struct sl_fault *f, FILE *cmdlog,
			   struct sl_err *e)
{
	char script[512], match[80] = "", dir[24], what[200], a[SL_IPSTRLEN];
	int id, ret;

	if (f->flags || f->not_flags || f->len || f->count || f->delay_ms ||
	    f->jitter_ms || f->loss != 0 || f->reorder_pct)
		return sl_errf(e, EINVAL,
			       "fault blackhole: only .from applies "
			       "(drops everything in that direction)");
	if (f->from) {
		addr_of(t, sl_topology_host(t, f->from), a, sizeof(a));
		snprintf(match, sizeof(match), "%s saddr %s ", nft_ip(t), a);
	}
	id = new_rec(b, "blackhole", -1);
	if (id < 0)
		return sl_errf(e, -id, "fault blackhole: more than %d faults",
			       SL_FAULTS_MAX);
	direction(t, f, dir, sizeof(dir));
	cmd_comment(cmdlog, "fault %d: blackhole %s (backend nftables)", id,
		    dir);
	snprintf(script, sizeof(script),
		 "add table inet socklab; "
		 "add chain inet socklab fault%d { type filter hook forward "
		 "priority " NFT_PRIO "; }; "
		 "add rule inet socklab fault%d %scounter drop",
		 id, id, match);
	ret = nft(t, router_ns(t), script, cmdlog, e);
	if (ret < 0)
		return ret;
	snprintf(what, sizeof(what),
		 "blackhole %s: the router drops every "
		 "packet (nftables chain fault%d)",
		 dir, id);
	rec_on(b, id, "nftables", -1, what);
	event(b, SL_EV_NOTE, SL_HOST_ROUTER, "fault", "fault %d: %s", id, what);
	return id;
}

static int apply_linkemu(const struct sl_topology *t, struct sl_board *b,
			 const struct sl_fault *f, FILE *cmdlog,
			 struct sl_err *e)
{
	char what[200], dir[24];
	const char *backend;
	int id, bid;

	id = new_rec(b, f->kind, -1);
	if (id < 0)
		return sl_errf(e, -id, "fault %s: more than %d faults", f->kind,
			       SL_FAULTS_MAX);
	bid = sl_linkemu_apply(t, f, cmdlog, e);
	if (bid < 0)
		return bid;
	backend = sl_linkemu_backend(bid);
	direction(t, f, dir, sizeof(dir));
	if (!strcmp(f->kind, "delay"))
		snprintf(what, sizeof(what), "delay %d ms (jitter %d ms) %s",
			 f->delay_ms, f->jitter_ms, dir);
	else if (!strcmp(f->kind, "loss"))
		snprintf(what, sizeof(what), "loss %.1f%% %s", f->loss * 100,
			 dir);
	else if (!strcmp(f->kind, "reorder"))
		snprintf(what, sizeof(what), "reorder %d%% %s", f->reorder_pct,
			 dir);
	else {
		/* The fault's .len is n + 1 for n bytes (SL__LEN), 0 any. */
		char len[32] = "";

		if (f->len)
			snprintf(len, sizeof(len), " of length %ld",
				 f->len - 1);
		snprintf(what, sizeof(what),
			 "drop the next %d segment(s)%s%s%s%s%s%s%s %s",
			 f->count > 0 ? f->count : 1, f->flags ? " with [" : "",
			 f->flags ? f->flags : "", f->flags ? "]" : "",
			 f->not_flags ? " without [" : "",
			 f->not_flags ? f->not_flags : "",
			 f->not_flags ? "]" : "", len, dir);
	}
	rec_on(b, id, backend ? backend : "linkemu", bid, what);
	event(b, SL_EV_NOTE, SL_HOST_ROUTER, "fault", "fault %d: %s (%s)", id,
	      what, backend ? backend : "linkemu");
	return id;
}

/* Applies f; returns its id or -errno with the reason in e. */
static int apply(const struct sl_topology *t, struct sl_board *b,
		 const struct sl_fault *f, FILE *cmdlog, struct sl_err *e)
{
	int ret;

	if (!f->kind)
		return sl_errf(e, EINVAL,
			       "fault: .kind is required (blackhole, "
			       "drop, delay, loss, reorder)");
	ret = check_from(t, f, e);
	if (ret < 0)
		return ret;
	if (!strcmp(f->kind, "blackhole"))
		return apply_blackhole(t, b, f, cmdlog, e);
	if (is_linkemu_kind(f->kind))
		return apply_linkemu(t, b, f, cmdlog, e);
	return sl_errf(e, EINVAL,
		       "fault: unknown .kind \"%s\" (blackhole, "
		       "drop, delay, loss, reorder)",
		       f->kind);
}

static int lift(const struct sl_topology *t, struct sl_board *b, int id,
		FILE *cmdlog, struct sl_err *e)
{
	struct sl_fault_rec r;
	char script[128];
	int ret;

	sl_board_lock(b);
	if (id < 0 || id >= b->nfaults || !b->fault[id].t_on) {
		sl_board_unlock(b);
		return sl_errf(e, EINVAL, "lift fault %d: no such fault", id);
	}
	r = b->fault[id];
	sl_board_unlock(b);
	if (r.lifted)
		return 0;
	if (!strcmp(r.kind, "crash") || !strcmp(r.kind, "reboot"))
		return sl_errf(e, EINVAL,
			       "lift fault %d: a %s is undone by "
			       "sl_reboot(), not lifted",
			       id, r.kind);
	if (!strcmp(r.backend, "nftables")) {
		cmd_comment(cmdlog, "fault %d lifted", id);
		snprintf(script, sizeof(script),
			 "delete chain inet socklab "
			 "fault%d",
			 id);
		ret = nft(t, router_ns(t), script, cmdlog, e);
	} else {
		ret = sl_linkemu_lift(t, r.backend_id, e);
	}
	if (ret < 0)
		return ret;
	sl_board_lock(b);
	b->fault[id].lifted = 1;
	b->fault[id].t_off = sl_now();
	sl_board_unlock(b);
	event(b, SL_EV_NOTE, SL_HOST_ROUTER, "fault", "fault %d lifted: %s", id,
	      r.kind);
	return 0;
}

/* ---- the API of socklab.h ---- */

int sl__fault_role(struct sl_role *self, const struct sl_fault *f)
{
	FILE *cmdlog = role_cmdlog(self->board);
	struct sl_err e = { "" };
	char name[SL_NAME_MAX];
	int id;

	id = apply(self->topo, self->board, f, cmdlog, &e);
	if (cmdlog)
		fclose(cmdlog);
	if (id < 0)
		sl__role_fail(self, e.msg, 0, __FILE__, __LINE__);
	rec_spec(self->board, id, self->topo->host[self->host].name, f->kind,
		 NULL, f);
	snprintf(name, sizeof(name), "fault %s", f->kind);
	sl_mark(self, name);
	return id;
}

void sl__fault_setup(struct sl_setup *s, const struct sl_fault *f)
{
	char name[SL_NAME_MAX];
	int id;

	if (s->failed)
		return;
	if (!s->board) {
		sl_errf(&s->err, EINVAL,
			"fault from SETUP: no board to record "
			"it on");
		s->failed = 1;
		return;
	}
	id = apply(s->topo, s->board, f, s->cmdlog, &s->err);
	if (id < 0) {
		s->failed = 1;
		return;
	}
	rec_spec(s->board, id, "setup", f->kind, NULL, f);
	/* No role is running yet: the router marks it. */
	snprintf(name, sizeof(name), "fault %s", f->kind);
	event(s->board, SL_EV_MARK, SL_HOST_ROUTER, name, NULL);
}

void sl_fault_lift(struct sl_role *self, int id)
{
	FILE *cmdlog = role_cmdlog(self->board);
	struct sl_err e = { "" };
	char name[SL_NAME_MAX];
	int ret;

	ret = lift(self->topo, self->board, id, cmdlog, &e);
	if (cmdlog)
		fclose(cmdlog);
	if (ret < 0)
		sl__role_fail(self, e.msg, 0, __FILE__, __LINE__);
	snprintf(name, sizeof(name), "lift %s", self->board->fault[id].kind);
	sl_mark(self, name);
}

/* The host a role names for a crash or a reboot, or the role fails. */
static int victim(struct sl_role *self, const char *host, const char *what)
{
	int h = host ? sl_topology_host(self->topo, host) : -1;
	char why[128];

	if (h != SL_HOST_CLIENT && h != SL_HOST_SERVER) {
		snprintf(why, sizeof(why),
			 "%s(\"%s\"): only the client or the "
			 "server can",
			 what, host ? host : "(null)");
		sl__role_fail(self, why, EINVAL, __FILE__, __LINE__);
	}
	if (h == self->host) {
		snprintf(why, sizeof(why),
			 "%s(\"%s\"): a role cannot do it to "
			 "its own host",
			 what, host);
		sl__role_fail(self, why, EINVAL, __FILE__, __LINE__);
	}
	return h;
}

/* SIGKILL through a pidfd, then wait until the process is dead: by then
 * its descriptors are closed, so whatever its kernel sent on close (FIN,
 * RST) has met the drop rules already. */
static int kill_and_wait(pid_t pid, int64_t deadline, struct sl_err *e)
{
	struct pollfd pfd = { .events = POLLIN };
	int ret = 0;

	pfd.fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pfd.fd < 0)
		return errno == ESRCH ?
			       0 :
			       sl_errf(e, errno, "pidfd_open %d", (int)pid);
	if (syscall(SYS_pidfd_send_signal, pfd.fd, SIGKILL, NULL, 0) < 0 &&
	    errno != ESRCH) {
		ret = sl_errf(e, errno, "kill -KILL %d", (int)pid);
		goto out;
	}
	for (;;) {
		int64_t left = deadline - sl_now();
		int r;

		if (left <= 0) {
			ret = sl_errf(e, ETIMEDOUT, "wait for %d to die",
				      (int)pid);
			break;
		}
		r = poll(&pfd, 1, (int)(left / SL_NS_PER_MS) + 1);
		if (r > 0)
			break;
		if (r < 0 && errno != EINTR) {
			ret = sl_errf(e, errno, "wait for %d to die", (int)pid);
			break;
		}
	}
out:
	close(pfd.fd);
	return ret;
}

/* A crash's silence, before its kill: the host's own output hook drops
 * what its kernel sends when its sockets are closed (a powered-off host
 * sends no FIN and no RST), and the router drops what comes in for it (a
 * powered-off host receives nothing either). */
static int silence(const struct sl_topology *t, int h, FILE *cmdlog,
		   struct sl_err *e)
{
	const char *host = t->host[h].name;
	char script[512], a[SL_IPSTRLEN];
	int ret;

	addr_of(t, h, a, sizeof(a));
	cmd_comment(cmdlog,
		    "%s crashes (backend nftables): its output and "
		    "the router's traffic for %s dropped, then its processes "
		    "killed (kill -9)",
		    host, a);
	ret = nft(t, t->host[h].netns,
		  "add table inet socklab; add chain inet socklab crash "
		  "{ type filter hook output priority " NFT_PRIO "; "
		  "policy drop; }",
		  cmdlog, e);
	if (ret < 0)
		return ret;
	snprintf(script, sizeof(script),
		 "add table inet socklab; "
		 "add chain inet socklab crash_%s { type filter hook "
		 "forward priority " NFT_PRIO "; }; "
		 "add rule inet socklab crash_%s %s saddr %s counter "
		 "drop; "
		 "add rule inet socklab crash_%s %s daddr %s counter "
		 "drop",
		 host, host, nft_ip(t), a, host, nft_ip(t), a);
	return nft(t, router_ns(t), script, cmdlog, e);
}

void sl_crash(struct sl_role *self, const char *host)
{
	const struct sl_topology *t = self->topo;
	struct sl_board *b = self->board;
	int h = victim(self, host, "sl_crash");
	char what[200], a[SL_IPSTRLEN], mark[SL_NAME_MAX];
	struct sl_err e = { "" };
	FILE *cmdlog;
	pid_t pid;
	int id, ret;

	if (is_down(b, h)) {
		snprintf(what, sizeof(what),
			 "sl_crash(\"%s\"): it is down "
			 "already",
			 host);
		sl__role_fail(self, what, EINVAL, __FILE__, __LINE__);
	}
	id = new_rec(b, "crash", h);
	if (id < 0)
		sl__role_fail(self, "sl_crash(): too many faults", -id,
			      __FILE__, __LINE__);
	rec_spec(b, id, t->host[self->host].name, "crash", host, NULL);
	addr_of(t, h, a, sizeof(a));
	cmdlog = role_cmdlog(b);
	ret = silence(t, h, cmdlog, &e);
	if (cmdlog)
		fclose(cmdlog);
	if (ret < 0)
		sl__role_fail(self, e.msg, 0, __FILE__, __LINE__);
	sl_board_lock(b);
	b->crashed[h]++;
	b->crash_rec[h] = id;
	pid = sl_board_pid(b, h);
	sl_board_unlock(b);
	if (pid > 0 &&
	    kill_and_wait(pid, sl_board_deadline(b, self->deadline), &e) < 0)
		sl__role_fail(self, e.msg, 0, __FILE__, __LINE__);
	/* The roles still running no longer wait for the dead one. */
	sl_board_role_ended(b, h);
	snprintf(what, sizeof(what),
		 "%s crashed: its role killed (SIGKILL), "
		 "its output and the router's traffic for %s dropped",
		 host, a);
	rec_on(b, id, "nftables", -1, what);
	event(b, SL_EV_NOTE, h, "fault", "%s", what);
	snprintf(mark, sizeof(mark), "crash %s", host);
	sl_mark(self, mark);
}

void sl_reboot(struct sl_role *self, const char *host)
{
	int h = victim(self, host, "sl_reboot");
	char why[256], mark[SL_NAME_MAX];

	if (!is_down(self->board, h)) {
		snprintf(why, sizeof(why),
			 "sl_reboot(\"%s\"): it has not "
			 "crashed (sl_crash() first)",
			 host);
		sl__role_fail(self, why, EINVAL, __FILE__, __LINE__);
	}
	if (sl_board_request(self->board, SL_BOARD_OP_REBOOT, h, self->deadline,
			     why, sizeof(why)) < 0)
		sl__role_fail(self, why, 0, __FILE__, __LINE__);
	snprintf(mark, sizeof(mark), "reboot %s", host);
	sl_mark(self, mark);
}

/* ---- the run process's side ---- */

/* The reboot itself: observers off the old namespace, a fresh namespace,
 * observers on it, and only then the router lets traffic through again,
 * so that the new capture sees the very first segment that arrives. */
int sl_faults_reboot(struct sl_faults_ctx *x, int h, struct sl_err *e)
{
	struct sl_topology *t = x->topo;
	const struct sl_host *host = &t->host[h];
	struct sl_board *b = x->board;
	char path[4096], script[128], what[200], a[SL_IPSTRLEN];
	char suffix[32];
	struct sl_cleanup kept = { 0 }; /* undo steps nobody will run */
	int crash, id, ret;

	sl_board_lock(b);
	crash = b->crash_rec[h];
	sl_board_unlock(b);
	id = new_rec(b, "reboot", h);
	if (id < 0)
		return sl_errf(e, -id, "reboot %s: too many faults",
			       host->name);
	/* Asked by a role through the board; which one is not kept. */
	rec_spec(b, id, "role", "reboot", host->name, NULL);
	cmd_comment(x->cmdlog,
		    "%s reboots (backend netns): a fresh namespace "
		    "with the same name, link and address",
		    host->name);
	if (x->obs) {
		ret = sl_observer_detach(x->obs, h, e);
		if (ret < 0)
			return ret;
	}
	ret = sl_topology_rebuild_host(t, h, x->cleanup ? x->cleanup : &kept,
				       x->cmdlog, e);
	if (ret < 0)
		return ret;
	if (b->crashed[h] > 1)
		snprintf(suffix, sizeof(suffix), "-after-reboot-%d",
			 b->crashed[h]);
	else
		snprintf(suffix, sizeof(suffix), "-after-reboot");
	snprintf(path, sizeof(path), "%s/%s-%s%s.pcap", x->dir, host->name,
		 host->iface[0].name, suffix);
	if (x->obs) {
		ret = sl_observer_attach(x->obs, h, x->dir, suffix, e);
		if (ret < 0)
			return ret;
	}
	snprintf(script, sizeof(script), "delete chain inet socklab crash_%s",
		 host->name);
	ret = nft(t, router_ns(t), script, x->cmdlog, e);
	if (x->cmdlog)
		fflush(x->cmdlog);
	if (ret < 0)
		return ret;
	sl_board_lock(b);
	b->fault[crash].lifted = 1;
	b->fault[crash].t_off = sl_now();
	sl_board_unlock(b);
	addr_of(t, h, a, sizeof(a));
	snprintf(what, sizeof(what),
		 "%s rebooted: a fresh namespace %.32s, "
		 "address %s, no socket; capture in %.48s",
		 host->name, host->netns, a, strrchr(path, '/') + 1);
	rec_on(b, id, "netns", -1, what);
	/* Named "reboot": from here on the host's sockets are gone
	 * (sockhist.c). */
	event(b, SL_EV_NOTE, h, "reboot", "%s", what);
	return 0;
}

/* ---- --explain: a recorded role's fault, by hand ---- */

int sl_faults_explain(const struct sl_topology *t, struct sl_board *b,
		      const struct sl_fault_spec *s, FILE *out,
		      struct sl_err *e)
{
	int h = s->host[0] ? sl_topology_host(t, s->host) : -1;
	char script[128];

	if (!strcmp(s->kind, "crash") || !strcmp(s->kind, "reboot")) {
		if (h != SL_HOST_CLIENT && h != SL_HOST_SERVER)
			return sl_errf(e, EINVAL, "%s of host \"%s\"", s->kind,
				       s->host);
		if (!strcmp(s->kind, "crash")) {
			int ret = silence(t, h, out, e);

			if (ret == 0)
				fprintf(out,
					"kill -9 <the %s role's pid>  "
					"# and every process in %s\n",
					s->host, t->host[h].netns);
			return ret;
		}
		cmd_comment(out,
			    "%s reboots (backend netns): a fresh namespace "
			    "with the same name, link and address",
			    s->host);
		fprintf(out,
			"ip netns del %s  # then its lines of the network "
			"above again\n",
			t->host[h].netns);
		snprintf(script, sizeof(script),
			 "delete chain inet socklab crash_%s", s->host);
		return nft(t, router_ns(t), script, out, e);
	}
	return apply(t, b, &s->f, out, e) < 0 ? -EINVAL : 0;
}
