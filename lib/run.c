/* run.c: one variant, end to end (run.h), step by step. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ipaddr.h"
#include "board.h"
#include "cleanup.h"
#include "clock.h"
#include "counters.h"
#include "err.h"
#include "faults.h"
#include "faultserver.h"
#include "ladder.h"
#include "ladder_mermaid.h"
#include "ladder_svg.h"
#include "lateness.h"
#include "linkemu.h"
#include "observe.h"
#include "pace.h"
#include "protocol.h"
#include "resultdir.h"
#include "role.h"
#include "run.h"
#include "setup.h"
#include "topology.h"
#include "trace.h"

/* After the roles are done, segments still in flight (the last ACK, a RST
 * answering data) are captured until the wire has been quiet this long. */
#define SL_DRAIN_QUIET_MS 25
#define SL_DRAIN_MAX_MS 500

static double secs(int64_t ns)
{
	return (double)ns / SL_NS_PER_SEC;
}

static void drain(struct sl_observer *o)
{
	int64_t start = sl_now();
	struct timespec ms = { .tv_nsec = SL_NS_PER_MS };

	for (;;) {
		int64_t now = sl_now(), last = sl_observer_last_packet(o);

		if (now - start > SL_DRAIN_MAX_MS * SL_NS_PER_MS)
			return;
		if (now - (last > start ? last : start) >
		    SL_DRAIN_QUIET_MS * SL_NS_PER_MS)
			return;
		nanosleep(&ms, NULL);
	}
}

static void fail(struct sl_outcome *out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Marks the variant as an ERROR with the reason (the first one wins). */
static void fail(struct sl_outcome *out, const char *fmt, ...)
{
	va_list ap;

	if (out->error)
		return;
	out->error = 1;
	va_start(ap, fmt);
	vsnprintf(out->why, sizeof(out->why), fmt, ap);
	va_end(ap);
}

/* The ladder pictures beside ladder.txt: ladder.svg to look at, and
 * ladder.mmd, the Mermaid text a guide embeds. */
static void write_pictures(const struct sl_timeline *tl, int at,
			   const char *dir, const char *title)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/ladder.svg", dir);
	f = sl_resultdir_fopen(at, path);
	if (f) {
		sl_ladder_svg(tl, title, f);
		fclose(f);
	}
	snprintf(path, sizeof(path), "%s/ladder.mmd", dir);
	f = sl_resultdir_fopen(at, path);
	if (f) {
		sl_ladder_mermaid(tl, f);
		fclose(f);
	}
}

void sl_run_write_timeline(const struct sl_timeline *tl, int at,
			   const char *dir, const char *hosts,
			   const char *title)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/timeline.txt", dir);
	f = sl_resultdir_fopen(at, path);
	if (f) {
		fputs(hosts ? hosts : "", f);
		sl_timeline_write(tl, f);
		fclose(f);
	}
	snprintf(path, sizeof(path), "%s/timeline.tl", dir);
	f = sl_resultdir_fopen(at, path);
	if (f)
		sl_timeline_save_to(tl, f);
	snprintf(path, sizeof(path), "%s/ladder.txt", dir);
	f = sl_resultdir_fopen(at, path);
	if (f) {
		sl_ladder_write(tl, SL_HOST_CLIENT, SL_HOST_SERVER, f);
		fclose(f);
	}
	write_pictures(tl, at, dir, title);
}

/* The lines that head timeline.txt: each host, its namespace and its
 * addresses. */
static void hosts_header(const struct sl_topology *t, char *buf, size_t n)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int h = 0; h < SL_NHOSTS && used < n; h++) {
		const struct sl_host *host = &t->host[h];

		used += snprintf(buf + used, n - used, "# %-6s netns %s",
				 host->name, host->netns);
		for (int i = 0; i < host->nif && used < n; i++) {
			char a[SL_IPSTRLEN];

			sl_ip_ntop(&host->iface[i].addr, a, sizeof(a));
			used += snprintf(buf + used, n - used, "  %s %s/%d",
					 host->iface[i].name, a,
					 host->iface[i].prefixlen);
		}
		if (used < n)
			used += snprintf(buf + used, n - used, "\n");
	}
}

/* The harness's own time, phase by phase: written to harness.txt in the
 * variant's folder, so a slow run says where its time went (under load,
 * tracepoint registration and namespace set-up wait on the kernel's RCU
 * grace periods, which many runs at once lengthen). */
struct phases {
	int n;
	struct {
		const char *name;
		int64_t ns;
	} p[16];
};

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* The roles' waits, by kind: how many, and how long after the event they
 * waited for each role went on (role.c), median and max; waits that no
 * event timed (a poll, a mini-socket's unannounced change) are counted
 * apart. */
/* When the kernel's event that ended a wait on a socket had not reached
 * the role by the time it went on (a look with sock_diag was quicker),
 * the whole record has it: the socket's last change into the state
 * waited for (to CLOSE for a disappearance or a mini-socket) before the
 * role went on.  0 when there is none, or none can time it. */
static int64_t wait_cause(const struct sl_timeline *tl,
			  const struct sl_event *w)
{
	int want = w->err & SL_WAIT_BY_CLOSE ? TCP_CLOSE : w->sock.state;
	int64_t t = 0;

	if (w->t_start || !w->sock.lport || (w->err & SL_WAIT_UNTIMED))
		return w->t_start;
	for (int i = 0; i < tl->n && tl->ev[i].t <= w->t; i++) {
		const struct sl_event *e = &tl->ev[i];

		if (e->kind == SL_EV_KERNEL && e->k.type == SL_KEV_SET_STATE &&
		    e->host == w->host && e->k.state == want &&
		    e->k.lport == w->sock.lport &&
		    e->k.rport == w->sock.rport &&
		    sl_ip_eq(&e->k.laddr, &w->sock.laddr) &&
		    sl_ip_eq(&e->k.raddr, &w->sock.raddr))
			t = e->t;
	}
	return t;
}

static void write_waits(FILE *f, const struct sl_timeline *tl)
{
	static const char *const kinds[] = {
		"mark", "state", "gone", "segment", "recvq", "timewait age"
	};
	int64_t *lag = malloc(((size_t)tl->n + 1) * sizeof(*lag));

	if (!lag)
		return;
	fprintf(f, "# the roles' waits: lag from the event to the role's "
		   "return, ms\n");
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		int n = 0, polled = 0;

		for (int i = 0; i < tl->n; i++) {
			const struct sl_event *e = &tl->ev[i];

			if (e->kind != SL_EV_WAIT || strcmp(e->name, kinds[k]))
				continue;
			int64_t cause = wait_cause(tl, e);

			/* From the event, or from the start of a wait
			 * for something that had already happened. */
			if (!cause)
				polled++;
			else
				lag[n++] = e->t -
					   (cause > e->ret ? cause : e->ret);
		}
		if (!n && !polled)
			continue;
		qsort(lag, n, sizeof(*lag), cmp_i64);
		fprintf(f, "wait %-21s %4d  median %7.3f  max %7.3f", kinds[k],
			n, n ? (double)lag[n / 2] / SL_NS_PER_MS : 0.0,
			n ? (double)lag[n - 1] / SL_NS_PER_MS : 0.0);
		if (polled)
			fprintf(f,
				"  (and %d that no event timed: a poll, "
				"or a change the kernel does not announce)",
				polled);
		fprintf(f, "\n");
	}
	free(lag);
}

static void write_phases(const struct phases *ph, const char *dir,
			 const struct sl_timeline *tl, long dumps,
			 int64_t dump_ns)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/harness.txt", dir);
	f = sl_resultdir_fopen(AT_FDCWD, path);
	if (!f)
		return;
	fprintf(f, "# the harness's own time in this variant, ms\n");
	for (int i = 0; i < ph->n; i++)
		fprintf(f, "%-26s %8.1f\n", ph->p[i].name,
			(double)ph->p[i].ns / SL_NS_PER_MS);
	if (dumps)
		fprintf(f,
			"# state sampling: %ld sock_diag dumps, %.3f ms "
			"each on average\n",
			dumps, (double)dump_ns / dumps / SL_NS_PER_MS);
	write_waits(f, tl);
	fclose(f);
}

/* ---- the run's state, and its undo steps ---- */

struct roles {
	int n;
	pid_t pid[SL_MAX_ROLES];
	int host[SL_MAX_ROLES];
	int status[SL_MAX_ROLES];
	int running;
	int bad; /* the role that ended badly, or -1 */
	struct sl_board *board;
};

/* Says to the CLI that the run has moved on (protocol.h's --progress-fd):
 * its deadline for the experiment counts again from here.  Not waited on
 * and not checked: a CLI that is gone or behind changes nothing of the
 * run, and its deadline then counts from the last sign it did get. */
static void progress(int fd, char what)
{
	if (fd >= 0)
		(void)!send(fd, &what, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* Everything one variant's run holds, from its first step to its last. */
struct run {
	const struct sl_registry *reg;
	const struct sl__variant_def *var;
	const struct sl_run_opts *opts;
	struct sl_outcome *out;
	int timeout_s;
	struct sl_cleanup cleanup;
	struct sl_topology topo;
	FILE *cmdlog;
	struct sl_trace *trace;
	struct sl_lateness *late; /* how late timers run, while roles do */
	char kwhy[160];		  /* why the kernel's events are missing */
	struct sl_counters ctr0, ctr1;
	char cwhy[160]; /* why the counters are missing */
	struct sl_board *board;
	struct sl_observer *obs;
	struct roles roles;
	struct sl_timeline tl;
	struct sl_err e;
	struct phases ph;
	int64_t harness; /* the harness's own time, all phases */
	long dumps;
	int64_t dump_ns;
};

/* One of the harness's phases is over: its time into harness.txt, and a
 * sign of progress to the CLI. */
static void phase(struct run *r, const char *name, int64_t since)
{
	int64_t d = sl_now() - since;

	r->harness += d;
	if (r->ph.n < 16) {
		r->ph.p[r->ph.n].name = name;
		r->ph.p[r->ph.n++].ns = d;
	}
	progress(r->opts->progress_fd, SL_PROGRESS_PHASE);
}

static void kill_roles(void *arg)
{
	struct roles *r = arg;

	for (int i = 0; i < r->n; i++) {
		if (r->pid[i] > 0) {
			kill(r->pid[i], SIGKILL);
			while (waitpid(r->pid[i], NULL, 0) < 0 &&
			       errno == EINTR)
				;
			r->pid[i] = 0;
		}
	}
}

static void close_file(void *arg)
{
	fclose(arg);
}

static void destroy_board(void *arg)
{
	sl_board_destroy(arg);
}

static void stop_observer(void *arg)
{
	struct sl_observer **o = arg;

	sl_observer_stop(*o, NULL, NULL);
	*o = NULL;
}

/* ---- the steps ---- */

/* commands.sh: the commands that build the network, as a learner would
 * type them.  Without it the run goes on. */
static void open_cmdlog(struct run *r)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/commands.sh", r->opts->dir);
	r->cmdlog = sl_resultdir_fopen(AT_FDCWD, path);
	if (!r->cmdlog)
		return;
	fprintf(r->cmdlog, "# The commands that build this variant's network, "
			   "as you would type them.\n");
	sl_cleanup_push(&r->cleanup, close_file, r->cmdlog, "commands.sh");
}

/* 1. Fresh namespaces for this variant only. */
static int topology_up(struct run *r)
{
	char owner[PATH_MAX];
	int64_t t = sl_now();
	int ret = sl_topology_up(&r->topo, r->opts->family, &r->cleanup,
				 r->cmdlog, &r->e);

	phase(r, "topology up", t);
	if (ret < 0) {
		fail(r->out, "topology: %s", r->e.msg);
		return ret;
	}
	if (!r->opts->keep)
		return 0;
	/* Forget the undo steps: the namespaces outlive the run until
	 * `socklab clean` removes them, or `socklab clean <run>`, which finds
	 * them by the folder the mark names (slot.h).  A folder whose real
	 * path cannot be had leaves them to `socklab clean` alone. */
	if (!realpath(r->opts->dir, owner))
		owner[0] = '\0';
	ret = sl_topology_keep(&r->topo, owner, &r->e);
	if (ret < 0) {
		fail(r->out, "keep: %s", r->e.msg);
		return ret;
	}
	r->cleanup.n = r->cmdlog ? 1 : 0;
	fprintf(stderr,
		"kept: ip netns exec %s ss -tanoi   (and %s, %s; "
		"`socklab shell %d server` enters one; `socklab clean "
		"<run>` removes them)\n",
		r->topo.host[SL_HOST_SERVER].netns,
		r->topo.host[SL_HOST_CLIENT].netns,
		r->topo.host[SL_HOST_ROUTER].netns, r->topo.slot);
	return 0;
}

/* The kernel's account: a private trace instance, made on a thread of its
 * own while the rest is set up (trace.c says why), ready before the roles
 * start.  Where tracefs is missing the run goes on without, and says
 * why. */
static void trace_start(struct run *r)
{
	int64_t t = sl_now();

	if (sl_trace_start(&r->trace, &r->topo, NULL, &r->e) < 0)
		snprintf(r->kwhy, sizeof(r->kwhy), "%.150s", r->e.msg);
	else if (sl_cleanup_push(&r->cleanup, sl_trace_undo, &r->trace,
				 "trace") < 0) {
		sl_trace_undo(&r->trace);
		snprintf(r->kwhy, sizeof(r->kwhy),
			 "the run's cleanup stack is full");
	}
	phase(r, "trace start", t);
}

/* The link emulator's process, before SETUP and the roles, which may
 * apply its faults: it costs a fork until one does (linkemu.h). */
static int linkemu_start(struct run *r)
{
	int64_t t = sl_now();
	int ret = sl_linkemu_start(&r->topo, &r->cleanup, &r->e);

	phase(r, "link emulator start", t);
	if (ret < 0)
		fail(r->out, "link emulator: %s", r->e.msg);
	return ret;
}

/* The sysctls the roles will run with, on the hosts that run TCP: after
 * SETUP, which may have changed some, so the record is what was in force. */
static int record_sysctls(struct run *r)
{
	static const int ends[] = { SL_HOST_CLIENT, SL_HOST_SERVER };
	struct sl_outcome *o = r->out;

	o->nsysctls = 0;
	for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++) {
		int n = sl_sysctls_read(&r->topo, ends[i],
					o->sysctl + o->nsysctls, SL_SYSCTL_KEYS,
					&r->e);

		if (n < 0) {
			fail(o, "%s", r->e.msg);
			return n;
		}
		o->nsysctls += n;
	}
	return 0;
}

/* 2. The run's board first, since a fault applied in SETUP is recorded on
 * it, then the experiment's own set-up. */
static int board_and_setup(struct run *r)
{
	struct sl_setup s = { .topo = &r->topo, .cmdlog = r->cmdlog };
	int ret = sl_board_create(&r->board, &r->e);

	if (ret < 0 || (ret = sl_cleanup_push(&r->cleanup, destroy_board,
					      r->board, "board")) < 0) {
		fail(r->out, "%s", r->e.msg);
		return ret;
	}
	r->board->cmdlog_fd = r->cmdlog ? fileno(r->cmdlog) : -1;
	r->board->step_fd = r->opts->step_fd;
	r->roles.board = r->board;
	s.board = r->board;
	if (r->reg->setup) {
		r->reg->setup(&s, r->var->knobs);
		if (s.failed) {
			fail(r->out, "setup: %s", s.err.msg);
			return -EINVAL;
		}
	}
	if (r->cmdlog)
		fflush(r->cmdlog);
	return record_sysctls(r);
}

/* 3. Captures and sock_diag sampling; their segments go on the board. */
static int observers_start(struct run *r)
{
	int64_t t = sl_now();
	int ret = sl_observer_start(&r->obs, &r->topo, r->opts->dir, r->board,
				    &r->e);

	phase(r, "observers start", t);
	if (ret < 0 || (ret = sl_cleanup_push(&r->cleanup, stop_observer,
					      &r->obs, "observers")) < 0)
		fail(r->out, "observers: %s", r->e.msg);
	return ret;
}

/* The trace reader ready and feeding the board, for the roles' waits
 * (without it they poll sock_diag), and the counters as the roles find
 * them. */
static void trace_ready(struct run *r)
{
	int64_t t = sl_now();

	if (r->trace && sl_trace_ready(r->trace, &r->e) < 0) {
		snprintf(r->kwhy, sizeof(r->kwhy), "%.150s", r->e.msg);
		sl_trace_undo(&r->trace);
	}
	if (r->trace) {
		sl_trace_feed(r->trace, sl_board_add_kernel, r->board);
		/* Off before the board goes, on every way out: a run
		 * interrupted here still has the reader running. */
		if (sl_cleanup_push(&r->cleanup, sl_trace_feed_off, &r->trace,
				    "trace feed") < 0)
			sl_trace_feed(r->trace, NULL, NULL);
		else
			r->board->kernel_live = 1;
	}
	if (sl_counters_read(&r->ctr0, &r->topo, &r->e) < 0)
		snprintf(r->cwhy, sizeof(r->cwhy), "%.150s", r->e.msg);
	phase(r, "trace ready, counters", t);
}

/* Forks a process for each role, counted in on the board before it runs,
 * so that none can see "all roles ended" before the last has started. */
static int spawn_roles(struct run *r, int64_t deadline)
{
	struct roles *rs = &r->roles;

	for (int i = 0; i < r->reg->nroles; i++) {
		int h = sl_topology_host(&r->topo, r->reg->role[i]->host);

		if (h < 0) {
			fail(r->out, "role '%s' names no host of this topology",
			     r->reg->role[i]->host);
			return -EINVAL;
		}
		sl_board_role_started(r->board, h);
	}
	for (int i = 0; i < r->reg->nroles; i++) {
		int h = sl_topology_host(&r->topo, r->reg->role[i]->host);
		pid_t pid = sl_role_spawn(&r->topo, h, r->board, deadline,
					  r->reg->role[i]->fn, r->var->knobs,
					  &r->e);

		if (pid < 0) {
			fail(r->out, "%s", r->e.msg);
			return pid;
		}
		sl_board_set_pid(r->board, h, pid);
		rs->pid[rs->n] = pid;
		rs->host[rs->n++] = h;
		rs->running++;
	}
	return 0;
}

/* Reaps the roles that have ended (the fault server's settled()): 1 when
 * all are done, -ECHILD when one ended badly (its index in bad), else 0. */
static int reap(void *arg)
{
	struct roles *r = arg;

	for (int i = 0; i < r->n; i++) {
		int st;

		if (r->pid[i] <= 0 ||
		    waitpid(r->pid[i], &st, WNOHANG) != r->pid[i])
			continue;
		r->pid[i] = 0;
		r->status[i] = st;
		r->running--;
		/* Its pid may be reused now: no role may signal it any more;
		 * and the others no longer wait for it to end. */
		sl_board_set_pid(r->board, r->host[i], 0);
		sl_board_role_ended(r->board, r->host[i]);
		/* A crashed host's role was killed on purpose (sl_crash()). */
		if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL &&
		    sl_faults_crashed(r->board, r->host[i]))
			continue;
		if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0) && r->bad < 0)
			r->bad = i;
	}
	if (r->bad >= 0)
		return -ECHILD;
	return r->running == 0;
}

/* Why a role ended badly, as the variant's ERROR says it. */
static void role_failed(struct run *r)
{
	int bad = r->roles.bad, h, st = r->roles.status[bad];
	const char *why = sl_board_error(r->board, &h);
	char how[64];

	if (why) {
		fail(r->out, "role failed: %s", why);
		return;
	}
	if (WIFSIGNALED(st))
		snprintf(how, sizeof(how), "killed by signal %d (%s)",
			 WTERMSIG(st), strsignal(WTERMSIG(st)));
	else
		snprintf(how, sizeof(how), "exited with status %d",
			 WEXITSTATUS(st));
	fail(r->out, "role %s %s", r->topo.host[r->roles.host[bad]].name, how);
}

/* 4. The roles run, the fault server answering their requests, until they
 * are through.  Returns -errno when there is nothing to collect. */
static int roles_run(struct run *r)
{
	int64_t deadline = sl_now() + (int64_t)r->timeout_s * SL_NS_PER_SEC;
	char label[160];
	/* Kept namespaces outlive the run: a rebooted host's too. */
	struct sl_faultserver fs = {
		.ctx = { .topo = &r->topo,
			 .cleanup = r->opts->keep ? NULL : &r->cleanup,
			 .cmdlog = r->cmdlog,
			 .obs = r->obs,
			 .dir = r->opts->dir,
			 .board = r->board },
		.settled = reap,
		.arg = &r->roles,
		.variant = label,
	};
	int ret;

	/* Named at each pause of --step: "rst-refused/nothing_on_port". */
	snprintf(label, sizeof(label), "%s/%s", r->reg->id, r->var->name);
	r->roles.bad = -1;
	if (sl_cleanup_push(&r->cleanup, kill_roles, &r->roles, "roles") < 0) {
		fail(r->out, "too many resources");
		return -ENOSPC;
	}
	progress(r->opts->progress_fd, SL_PROGRESS_ROLES);
	ret = spawn_roles(r, deadline);
	if (ret < 0)
		return ret;
	ret = sl_faultserver_run(&fs, deadline);
	if (ret == -EINTR) {
		fail(r->out, "interrupted (SIGINT/SIGTERM)");
		return ret;
	}
	if (ret == -ETIMEDOUT)
		fail(r->out,
		     "roles did not finish within %d s (the "
		     "experiment's timeout_s%s)",
		     r->timeout_s,
		     sl_time_scale() > 1 ? ", stretched for this machine" : "");
	else if (ret == -ECHILD)
		role_failed(r);
	kill_roles(&r->roles);
	return 0;
}

/* The kernel's account closed: counters compared, the trace read. */
static void kernel_stop(struct run *r)
{
	int64_t t = sl_now();

	if (!r->cwhy[0] && sl_counters_read(&r->ctr1, &r->topo, &r->e) < 0)
		snprintf(r->cwhy, sizeof(r->cwhy), "%.150s", r->e.msg);
	if (!r->cwhy[0] && sl_counters_delta(&r->ctr0, &r->ctr1, &r->tl) < 0)
		fail(r->out, "out of memory building the timeline");
	snprintf(r->tl.counters_why, sizeof(r->tl.counters_why), "%s", r->cwhy);
	if (!r->trace) {
		snprintf(r->tl.kernel_why, sizeof(r->tl.kernel_why), "%s",
			 r->kwhy);
	} else if (sl_trace_stop(r->trace, &r->tl, &r->e) < 0) {
		/* Kernel events we cannot read are missing, not evidence:
		 * their predictions are skipped, the rest still decides. */
		r->tl.kernel = 0;
		snprintf(r->tl.kernel_why, sizeof(r->tl.kernel_why),
			 "reading the trace failed: %.120s", r->e.msg);
	}
	/* The instance is removed in the background; the cleanup step waits
	 * for it. */
	phase(r, "trace and counters stop", t);
}

/* What the recording keeps of the run beyond its events (timeline.h), so
 * that judging it again (sl_run_judge()) starts where this run did. */
static void keep_run(struct run *r)
{
	struct sl_timeline *tl = &r->tl;
	struct utsname u;

	if (uname(&u) == 0)
		snprintf(tl->release, sizeof(tl->release), "%s", u.release);
	if (r->out->error)
		snprintf(tl->error, sizeof(tl->error), "%s", r->out->why);
	tl->nfaults = 0;
	for (int i = 0; i < r->out->nfaults && i < SL_TL_FAULTS_MAX; i++) {
		const struct sl_fault_rec *f = &r->out->fault[i];
		struct sl_tl_fault *x = &tl->fault[tl->nfaults++];

		snprintf(x->kind, sizeof(x->kind), "%s", f->kind);
		snprintf(x->backend, sizeof(x->backend), "%s", f->backend);
		snprintf(x->what, sizeof(x->what), "%s", f->what);
		snprintf(x->spec, sizeof(x->spec), "%s", f->spec);
		x->lifted = f->lifted;
	}
}

/* The machine's timer lateness, measured from just before the roles
 * start until they are through (lateness.h): the predictions widen their
 * upper tolerance by it. */
static int lateness_start(struct run *r)
{
	if (sl_lateness_start(&r->late, &r->e) < 0) {
		fail(r->out, "%s", r->e.msg);
		return -1;
	}
	if (sl_cleanup_push(&r->cleanup, sl_lateness_undo, &r->late,
			    "lateness probe") < 0) {
		sl_lateness_undo(&r->late);
		fail(r->out, "too many resources");
		return -ENOSPC;
	}
	return 0;
}

/* 5. The wire drained, the observers stopped, one timeline. */
static void collect(struct run *r)
{
	const char *names[SL_NHOSTS];
	char title[160], hosts[1024];
	int64_t t;
	int ret;

	sl_lateness_stop(r->late, &r->tl.late_ns, &r->tl.late_n);
	r->late = NULL;
	drain(r->obs);
	for (int h = 0; h < SL_NHOSTS; h++)
		names[h] = r->topo.host[h].name;
	sl_timeline_set_hosts(&r->tl, names, SL_NHOSTS);
	kernel_stop(r);
	t = sl_now();
	sl_observer_cost(r->obs, &r->dumps, &r->dump_ns);
	ret = sl_observer_stop(r->obs, &r->tl, &r->e);
	r->obs = NULL;
	phase(r, "observers stop", t);
	if (ret < 0)
		fail(r->out, "observers: %s", r->e.msg);
	r->out->nfaults =
		sl_faults_export(r->board, r->out->fault, SL_FAULTS_MAX);
	r->out->stepped = r->opts->step_fd >= 0;
	r->out->paused_s = secs(r->board->paused_ns);
	if (sl_board_export(r->board, &r->tl) < 0)
		fail(r->out, "out of memory building the timeline");
	sl_timeline_finish(&r->tl);
	keep_run(r);
	hosts_header(&r->topo, hosts, sizeof(hosts));
	snprintf(title, sizeof(title), "%s: %s", r->reg->id, r->var->name);
	sl_run_write_timeline(&r->tl, AT_FDCWD, r->opts->dir, hosts, title);
}

void sl_run_judge(const struct sl_registry *reg, const void *knobs,
		  const struct sl_timeline *tl, struct sl_outcome *out)
{
	sl_predict_init(&out->pred, NULL);
	if (out->error)
		return;
	sl_predict_init(&out->pred, tl);
	if (reg->predict)
		reg->predict(&out->pred, knobs);
	out->holds = sl_predict_holds(&out->pred);
	if (!out->holds && out->pred.nresults &&
	    sl_predict_unavailable(&out->pred) == out->pred.nresults)
		fail(out, "no prediction could be judged on this machine: %s",
		     out->pred.result[0].skipped);
	sl_predict_observe(&out->pred, tl);
	out->pred.tl = NULL;
}

/* 6. The experiment's predictions, judged on the timeline. */
static void judge(struct run *r)
{
	sl_run_judge(r->reg, r->var->knobs, &r->tl, r->out);
}

/* Everything undone, in reverse, and harness.txt written. */
static void teardown(struct run *r)
{
	int64_t t = sl_now();

	sl_cleanup_run(&r->cleanup);
	phase(r, "teardown", t);
	write_phases(&r->ph, r->opts->dir, &r->tl, r->dumps, r->dump_ns);
	sl_timeline_free(&r->tl);
	sl_counters_free(&r->ctr0);
	sl_counters_free(&r->ctr1);
}

/* Steps 1 to 3: everything the roles need before they start. */
static int set_up(struct run *r)
{
	int ret;

	open_cmdlog(r);
	ret = topology_up(r);
	if (ret < 0)
		return ret;
	trace_start(r);
	ret = linkemu_start(r);
	if (ret == 0)
		ret = board_and_setup(r);
	if (ret == 0)
		ret = observers_start(r);
	if (ret == 0)
		trace_ready(r);
	if (ret == 0)
		ret = lateness_start(r);
	return ret;
}

void sl_run_variant(const struct sl_registry *reg, int v,
		    const struct sl_run_opts *opts, struct sl_outcome *out)
{
	struct run r = {
		.reg = reg,
		.var = reg->variant[v],
		.opts = opts,
		.out = out,
		/* Stretched on a machine measured slower (pace.h). */
		.timeout_s = sl_time_scaled_s(reg->x->timeout_s > 0 ?
						      reg->x->timeout_s :
						      SL_DEFAULT_TIMEOUT_S),
	};
	int64_t t_start = sl_now();
	sigset_t sigs;

	memset(out, 0, sizeof(*out));
	/* The fault server waits for these (faultserver.h). */
	sl_faultserver_signals(&sigs);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	sl_timeline_init(&r.tl);
	sl_counters_init(&r.ctr0);
	sl_counters_init(&r.ctr1);
	if (set_up(&r) == 0 && roles_run(&r) == 0) {
		collect(&r);
		judge(&r);
	}
	teardown(&r);
	out->harness_s = secs(r.harness);
	out->duration_s = secs(sl_now() - t_start);
	out->done = 1;
}
