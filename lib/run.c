/* run.c: one variant, end to end (run.h). */
#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "clock.h"
#include "counters.h"
#include "err.h"
#include "ladder.h"
#include "linkemu.h"
#include "observe.h"
#include "resultdir.h"
#include "role.h"
#include "run.h"
#include "topology.h"
#include "trace.h"

#define SL_DEFAULT_TIMEOUT_S 20
/* After the roles are done, segments still in flight (the last ACK, a RST
 * answering data) are captured until the wire has been quiet this long. */
#define SL_DRAIN_QUIET_MS 25
#define SL_DRAIN_MAX_MS 500

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

struct roles {
	int n;
	pid_t pid[SL_MAX_ROLES];
	int host[SL_MAX_ROLES];
	int status[SL_MAX_ROLES];
	int running;
	struct sl_applog *log;
};

static void kill_roles(void *arg)
{
	struct roles *r = arg;

	for (int i = 0; i < r->n; i++) {
		if (r->pid[i] > 0) {
			kill(r->pid[i], SIGKILL);
			while (waitpid(r->pid[i], NULL, 0) < 0 && errno == EINTR)
				;
			r->pid[i] = 0;
		}
	}
}

static void close_file(void *arg)
{
	fclose(arg);
}

static void destroy_log(void *arg)
{
	sl_applog_destroy(arg);
}

static void stop_observer(void *arg)
{
	struct sl_observer **o = arg;

	sl_observer_stop(*o, NULL, NULL);
	*o = NULL;
}

static double secs(int64_t ns)
{
	return (double)ns / SL_NS_PER_SEC;
}

/* Reaps finished roles.  Returns the index of a role that ended badly, or
 * -1. */
static int reap(struct roles *r)
{
	int bad = -1;

	for (int i = 0; i < r->n; i++) {
		int st;
		pid_t p;

		if (r->pid[i] <= 0)
			continue;
		p = waitpid(r->pid[i], &st, WNOHANG);
		if (p != r->pid[i])
			continue;
		r->pid[i] = 0;
		r->status[i] = st;
		r->running--;
		/* Its pid may be reused now: no role may signal it any more. */
		sl_applog_set_pid(r->log, r->host[i], 0);
		/* A crashed host's role was killed on purpose (sl_crash()). */
		if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL &&
		    sl_faults_crashed(r->log, r->host[i]))
			continue;
		if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0) && bad < 0)
			bad = i;
	}
	return bad;
}

/* Waits for the roles: returns 0 when all are done, -ETIMEDOUT at the
 * deadline, -EINTR on SIGINT/SIGTERM, or -ECHILD with *bad set when a role
 * ended badly.  Meanwhile serves the roles' requests (a reboot), which
 * they signal with SIGUSR1. */
static int wait_roles(struct roles *r, int64_t deadline, int *bad,
		      struct sl_faults_ctx *fx)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGUSR1);
	for (;;) {
		int64_t left = deadline - sl_now();
		struct timespec ts;
		int sig;

		sl_faults_serve(fx);
		*bad = reap(r);
		if (*bad >= 0)
			return -ECHILD;
		if (r->running == 0)
			return 0;
		if (left <= 0)
			return -ETIMEDOUT;
		if (left > 100 * SL_NS_PER_MS)
			left = 100 * SL_NS_PER_MS;
		ts.tv_sec = left / SL_NS_PER_SEC;
		ts.tv_nsec = left % SL_NS_PER_SEC;
		sig = sigtimedwait(&set, NULL, &ts);
		if (sig == SIGINT || sig == SIGTERM)
			return -EINTR;
	}
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

static void write_timeline(const struct sl_timeline *tl, const char *dir,
			   const struct sl_topology *t)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/timeline.txt", dir);
	f = sl_resultdir_fopen(AT_FDCWD, path);
	if (!f)
		return;
	for (int h = 0; h < SL_NHOSTS; h++) {
		const struct sl_host *host = &t->host[h];

		fprintf(f, "# %-6s netns %s", host->name, host->netns);
		for (int i = 0; i < host->nif; i++) {
			char a[32];

			inet_ntop(AF_INET, &host->iface[i].addr, a, sizeof(a));
			fprintf(f, "  %s %s/%d", host->iface[i].name, a,
				host->iface[i].prefixlen);
		}
		fprintf(f, "\n");
	}
	sl_timeline_write(tl, f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/timeline.tl", dir);
	sl_timeline_save(tl, path);
	snprintf(path, sizeof(path), "%s/ladder.txt", dir);
	f = sl_resultdir_fopen(AT_FDCWD, path);
	if (!f)
		return;
	sl_ladder_write(tl, SL_HOST_CLIENT, SL_HOST_SERVER, f);
	fclose(f);
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

static void phase(struct phases *ph, const char *name, int64_t *total,
		  int64_t since)
{
	int64_t d = sl_now() - since;

	*total += d;
	if (ph->n < 16) {
		ph->p[ph->n].name = name;
		ph->p[ph->n++].ns = d;
	}
}

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
static int64_t wait_cause(const struct sl_timeline *tl, const struct sl_event *w)
{
	int want = w->err & SL_WAIT_BY_CLOSE ? TCP_CLOSE : w->sock.state;
	int64_t t = 0;

	if (w->t_start || !w->sock.lport || (w->err & SL_WAIT_UNTIMED))
		return w->t_start;
	for (int i = 0; i < tl->n && tl->ev[i].t <= w->t; i++) {
		const struct sl_event *e = &tl->ev[i];

		if (e->kind == SL_EV_KERNEL && e->k.type == SL_KEV_SET_STATE &&
		    e->host == w->host && e->k.state == want &&
		    e->k.lport == w->sock.lport && e->k.rport == w->sock.rport &&
		    e->k.laddr.s_addr == w->sock.laddr.s_addr &&
		    e->k.raddr.s_addr == w->sock.raddr.s_addr)
			t = e->t;
	}
	return t;
}

static void write_waits(FILE *f, const struct sl_timeline *tl)
{
	static const char *const kinds[] = { "mark", "state", "gone",
					     "segment", "recvq",
					     "timewait age" };
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
				lag[n++] = e->t - (cause > e->ret ? cause :
						   e->ret);
		}
		if (!n && !polled)
			continue;
		qsort(lag, n, sizeof(*lag), cmp_i64);
		fprintf(f, "wait %-21s %4d  median %7.3f  max %7.3f", kinds[k],
			n, n ? (double)lag[n / 2] / SL_NS_PER_MS : 0.0,
			n ? (double)lag[n - 1] / SL_NS_PER_MS : 0.0);
		if (polled)
			fprintf(f, "  (and %d that no event timed: a poll, "
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
		fprintf(f, "# state sampling: %ld sock_diag dumps, %.3f ms "
			"each on average\n", dumps,
			(double)dump_ns / dumps / SL_NS_PER_MS);
	write_waits(f, tl);
	fclose(f);
}

void sl_run_variant(const struct sl_registry *reg, int v,
		    const struct sl_run_opts *opts, struct sl_outcome *out)
{
	const struct sl__variant_def *var = reg->variant[v];
	int timeout_s = reg->x->timeout_s > 0 ? reg->x->timeout_s :
						SL_DEFAULT_TIMEOUT_S;
	struct sl_cleanup cleanup = { 0 };
	struct sl_topology topo;
	struct sl_observer *obs = NULL;
	struct sl_trace *trace = NULL;
	struct sl_counters ctr0, ctr1;
	char kwhy[160] = "", cwhy[160] = "";
	struct sl_applog *log = NULL;
	struct roles roles = { 0 };
	sigset_t usr1;
	struct sl_timeline tl;
	struct sl_err e = { "" };
	int64_t t_start = sl_now(), harness = 0, t, deadline;
	struct phases ph = { 0 };
	char path[4096];
	FILE *cmdlog;
	long dumps = 0;
	int64_t dump_ns = 0;
	int ret, bad;

	memset(out, 0, sizeof(*out));
	/* Roles ask for a reboot with SIGUSR1; it waits in wait_roles(). */
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	sl_timeline_init(&tl);
	sl_counters_init(&ctr0);
	sl_counters_init(&ctr1);
	snprintf(path, sizeof(path), "%s/commands.sh", opts->dir);
	cmdlog = sl_resultdir_fopen(AT_FDCWD, path);
	if (cmdlog) {
		fprintf(cmdlog, "# The commands that build this variant's "
			"network, as you would type them.\n");
		sl_cleanup_push(&cleanup, close_file, cmdlog, "commands.sh");
	}

	/* 1. topology */
	t = sl_now();
	ret = sl_topology_up(&topo, &cleanup, cmdlog, &e);
	phase(&ph, "topology up", &harness, t);
	if (ret < 0) {
		fail(out, "topology: %s", e.msg);
		goto out;
	}
	if (opts->keep) {
		/* Forget the undo steps: the namespaces outlive the run until
		 * `socklab clean` removes them. */
		if (sl_topology_keep(&topo, &e) < 0) {
			fail(out, "keep: %s", e.msg);
			goto out;
		}
		cleanup.n = cmdlog ? 1 : 0;
		fprintf(stderr, "kept: ip netns exec %s ss -tanoi   "
			"(and %s, %s; `socklab clean` removes them)\n",
			topo.host[SL_HOST_SERVER].netns,
			topo.host[SL_HOST_CLIENT].netns,
			topo.host[SL_HOST_ROUTER].netns);
	}

	/* The kernel's account: a private trace instance, made on a thread
	 * of its own while the rest is set up (trace.c says why), ready before
	 * the roles start, and the counters as the roles find them.  Where
	 * tracefs is missing the run goes on without, and says why. */
	t = sl_now();
	if (sl_trace_start(&trace, &topo, NULL, &e) < 0)
		snprintf(kwhy, sizeof(kwhy), "%.150s", e.msg);
	else if (sl_cleanup_push(&cleanup, sl_trace_undo, &trace, "trace") < 0) {
		sl_trace_undo(&trace);
		snprintf(kwhy, sizeof(kwhy), "the run's cleanup stack is full");
	}
	phase(&ph, "trace start", &harness, t);

	/* The link emulator's process, before SETUP and the roles, which may
	 * apply its faults: it costs a fork until one does (linkemu.h). */
	t = sl_now();
	ret = sl_linkemu_start(&topo, &cleanup, &e);
	phase(&ph, "link emulator start", &harness, t);
	if (ret < 0) {
		fail(out, "link emulator: %s", e.msg);
		goto out;
	}

	/* 2. the experiment's own set-up; the roles' log first, since a
	 * fault applied here is recorded in it */
	ret = sl_applog_create(&log, &e);
	if (ret < 0 || sl_cleanup_push(&cleanup, destroy_log, log, "log") < 0) {
		fail(out, "%s", e.msg);
		goto out;
	}
	log->faults.cmdlog_fd = cmdlog ? fileno(cmdlog) : -1;
	roles.log = log;
	if (reg->setup) {
		struct sl_setup s = { .topo = &topo, .cmdlog = cmdlog,
				      .log = log };

		reg->setup(&s, var->knobs);
		if (s.failed) {
			fail(out, "setup: %s", s.err.msg);
			goto out;
		}
	}
	if (cmdlog)
		fflush(cmdlog);

	/* 3. observers */
	t = sl_now();
	ret = sl_observer_start(&obs, &topo, opts->dir, &e);
	phase(&ph, "observers start", &harness, t);
	if (ret < 0 ||
	    sl_cleanup_push(&cleanup, stop_observer, &obs, "observers") < 0) {
		fail(out, "observers: %s", e.msg);
		goto out;
	}
	t = sl_now();
	if (trace && sl_trace_ready(trace, &e) < 0) {
		snprintf(kwhy, sizeof(kwhy), "%.150s", e.msg);
		sl_trace_undo(&trace);
	}
	/* The roles wait on the kernel's events as they happen (role.c);
	 * without them they poll sock_diag. */
	if (trace) {
		sl_trace_feed(trace, sl_applog_add_kernel, log);
		/* Off before the log goes, on every way out: a run
		 * interrupted here still has the reader running. */
		if (sl_cleanup_push(&cleanup, sl_trace_feed_off, &trace,
				    "trace feed") < 0)
			sl_trace_feed(trace, NULL, NULL);
		else
			log->kernel_live = 1;
	}
	if (sl_counters_read(&ctr0, &topo, &e) < 0)
		snprintf(cwhy, sizeof(cwhy), "%.150s", e.msg);
	phase(&ph, "trace ready, counters", &harness, t);

	/* 4. roles */
	deadline = sl_now() + (int64_t)timeout_s * SL_NS_PER_SEC;
	if (sl_cleanup_push(&cleanup, kill_roles, &roles, "roles") < 0) {
		fail(out, "too many resources");
		goto out;
	}
	for (int i = 0; i < reg->nroles; i++) {
		int h = sl_topology_host(&topo, reg->role[i]->host);
		pid_t pid;

		if (h < 0) {
			fail(out, "role '%s' names no host of this topology",
			     reg->role[i]->host);
			goto out;
		}
		pid = sl_role_spawn(&topo, h, log, deadline, reg->role[i]->fn,
				    var->knobs, &e);
		if (pid < 0) {
			fail(out, "%s", e.msg);
			goto out;
		}
		sl_applog_set_pid(log, h, pid);
		roles.pid[roles.n] = pid;
		roles.host[roles.n++] = h;
		roles.running++;
	}
	{
		/* Kept namespaces outlive the run: a rebooted host's too. */
		struct sl_faults_ctx fx = {
			.topo = &topo, .cleanup = opts->keep ? NULL : &cleanup,
			.cmdlog = cmdlog, .obs = obs, .dir = opts->dir,
			.log = log,
		};

		ret = wait_roles(&roles, deadline, &bad, &fx);
	}
	if (ret == -EINTR) {
		fail(out, "interrupted (SIGINT/SIGTERM)");
		goto out;
	}
	if (ret == -ETIMEDOUT) {
		fail(out, "roles did not finish within %d s (the experiment's "
		     "timeout_s)", timeout_s);
	} else if (ret == -ECHILD) {
		int h;
		const char *why = sl_applog_error(log, &h);
		int st = roles.status[bad];
		char how[64];

		if (WIFSIGNALED(st))
			snprintf(how, sizeof(how), "killed by signal %d (%s)",
				 WTERMSIG(st), strsignal(WTERMSIG(st)));
		else
			snprintf(how, sizeof(how), "exited with status %d",
				 WEXITSTATUS(st));
		if (why)
			fail(out, "role failed: %s", why);
		else
			fail(out, "role %s %s", topo.host[roles.host[bad]].name,
			     how);
	}
	kill_roles(&roles);

	/* 5. drain, stop the observers, one timeline */
	drain(obs);
	{
		const char *names[SL_NHOSTS];

		for (int h = 0; h < SL_NHOSTS; h++)
			names[h] = topo.host[h].name;
		sl_timeline_set_hosts(&tl, names, SL_NHOSTS);
	}
	t = sl_now();
	if (!cwhy[0] && sl_counters_read(&ctr1, &topo, &e) < 0)
		snprintf(cwhy, sizeof(cwhy), "%.150s", e.msg);
	if (!cwhy[0] && sl_counters_delta(&ctr0, &ctr1, &tl) < 0)
		fail(out, "out of memory building the timeline");
	snprintf(tl.counters_why, sizeof(tl.counters_why), "%s", cwhy);
	if (!trace) {
		snprintf(tl.kernel_why, sizeof(tl.kernel_why), "%s", kwhy);
	} else if (sl_trace_stop(trace, &tl, &e) < 0) {
		/* Kernel events we cannot read are missing, not evidence:
		 * their predictions are skipped, the rest still decides. */
		tl.kernel = 0;
		snprintf(tl.kernel_why, sizeof(tl.kernel_why),
			 "reading the trace failed: %.120s", e.msg);
	}
	/* The instance is removed in the background; the cleanup step waits
	 * for it. */
	phase(&ph, "trace and counters stop", &harness, t);
	t = sl_now();
	sl_observer_cost(obs, &dumps, &dump_ns);
	ret = sl_observer_stop(obs, &tl, &e);
	obs = NULL;
	phase(&ph, "observers stop", &harness, t);
	if (ret < 0)
		fail(out, "observers: %s", e.msg);
	out->nfaults = sl_faults_export(log, out->fault, SL_FAULTS_MAX);
	if (sl_applog_export(log, &tl) < 0)
		fail(out, "out of memory building the timeline");
	sl_timeline_finish(&tl);
	write_timeline(&tl, opts->dir, &topo);

	/* 6. predictions */
	sl_predict_init(&out->pred, NULL);
	if (!out->error) {
		sl_predict_init(&out->pred, &tl);
		if (reg->predict)
			reg->predict(&out->pred, var->knobs);
		out->holds = sl_predict_holds(&out->pred);
		if (!out->holds && out->pred.nresults &&
		    sl_predict_unavailable(&out->pred) == out->pred.nresults)
			fail(out, "no prediction could be judged on this "
			     "machine: %s", out->pred.result[0].skipped);
		sl_predict_observe(&out->pred, &tl);
		out->pred.tl = NULL;
	}
out:
	t = sl_now();
	sl_cleanup_run(&cleanup);
	phase(&ph, "teardown", &harness, t);
	write_phases(&ph, opts->dir, &tl, dumps, dump_ns);
	sl_timeline_free(&tl);
	sl_counters_free(&ctr0);
	sl_counters_free(&ctr1);
	out->harness_s = secs(harness);
	out->duration_s = secs(sl_now() - t_start);
	out->done = 1;
}
