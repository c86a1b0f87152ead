/* runner.c: `socklab run`'s experiments as child processes on one event loop.
 *
 * Each experiment runs in a process of its own (lib/protocol.h), started
 * with fork+exec and watched from a single libev loop: an ev_io on its
 * stdout (the last line is its result), an ev_child for its exit, and an
 * ev_timer for its deadline.  By default every selected experiment starts
 * at once: most of an experiment's time is spent waiting on TCP's own timers
 * (an RTO, a keepalive, TIME-WAIT), and waits overlap for free, so the
 * catalogue takes about as long as its slowest claim.  Each run claims its
 * own topology slot (lib/topology.h), so they cannot disturb each other.
 * --repeat N does all of that N times in a row on the same loop, and
 * repeat.c keeps the tally.
 *
 * The special problem of stopping: an experiment owns namespaces, captures
 * and role processes, and only it knows how to take them down.  So a
 * deadline or a Ctrl-C first sends it SIGTERM, which it answers by unwinding
 * its cleanup stack, and only after a grace period (or a second signal)
 * SIGKILL, sent to its whole process group so that no role is left behind.
 * What a SIGKILL leaves in the kernel (namespaces, a trace instance) is
 * removed before the CLI exits, by the sweep that `socklab clean` does: a
 * slot's lock dies with the last process of its run, so once the killed
 * groups are reaped their slots are provably dead (lib/sweep.h).  Only a
 * SIGKILL of the CLI itself leaves anything, for the next run or `socklab
 * clean`.  The experiments are in process groups of their own for the same
 * reason: a Ctrl-C on the terminal (or GNU timeout's signal to its group)
 * reaches the CLI alone, which stops them in order instead of having them
 * all die at once in the middle of a teardown.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ev.h>

#include "cli.h"
#include "clock.h"
#include "proc.h"
#include "protocol.h"
#include "repeat.h"
#include "resultdir.h"
#include "machine.h"
#include "report_html.h"
#include "runner.h"
#include "selfpath.h"
#include "sweep.h"

#define GRACE_S 5.0
#define STATUS_INTERVAL_S 0.5
#define MAX_RESULT_OUTPUT (4 << 20)
#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)

static void start_more(struct runner *r);

char *run_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Formatting that cannot fail visibly: on ENOMEM the text is lost, which is
 * better than losing the run's result. */
char *run_asprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int ret;

	va_start(ap, fmt);
	ret = vasprintf(&s, fmt, ap);
	va_end(ap);
	return ret < 0 ? NULL : s;
}

double run_job_seconds(const struct job *j)
{
	int64_t end = j->state == J_DONE ? j->t1 : sl_now();

	return j->t0 ? (double)(end - j->t0) / SL_NS_PER_SEC : 0;
}

static void stop_watchers(struct job *j)
{
	struct ev_loop *loop = j->r->loop;

	ev_io_stop(loop, &j->out_w);
	ev_child_stop(loop, &j->child_w);
	ev_timer_stop(loop, &j->timeout_w);
	ev_timer_stop(loop, &j->grace_w);
	run_step_stop(j);
	run_deadline_stop(j);
	if (j->out_fd >= 0)
		close(j->out_fd);
	j->out_fd = -1;
}

static void job_done(struct job *j)
{
	struct runner *r = j->r;

	if (j->state == J_RUNNING)
		r->running--;
	j->state = J_DONE;
	if (!j->t1)
		j->t1 = sl_now();
	if (!j->t0)
		j->t0 = j->t1;
	r->done++;
	run_report_done(r, j);
	start_more(r);
	if (r->running == 0 && (r->next == r->njobs || r->signum))
		ev_break(r->loop, EVBREAK_ALL);
}

/* Finishes a job that never got to run. */
static void job_fail(struct job *j, char *why, const char *what)
{
	j->result = R_ERROR;
	j->verdict = strdup("ERROR");
	run_set_reason(j, why, "%s", what);
	job_done(j);
}

static int drained(ssize_t r)
{
	return r == 0 || (r < 0 && r != -EAGAIN);
}

static void out_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct job *j = w->data;

	(void)revents;
	if (drained(cli_read_append(j->out_fd, &j->out, &j->outlen, &j->outcap,
				    MAX_RESULT_OUTPUT))) {
		ev_io_stop(loop, w);
		close(j->out_fd);
		j->out_fd = -1;
	}
}

static void child_cb(struct ev_loop *loop, ev_child *w, int revents)
{
	struct job *j = w->data;

	(void)loop;
	(void)revents;
	j->wstatus = w->rstatus;
	/* What it wrote before exiting is still in the pipe; anything a
	 * leftover of its group might still write is not its result. */
	if (j->out_fd >= 0)
		cli_read_append(j->out_fd, &j->out, &j->outlen, &j->outcap,
				MAX_RESULT_OUTPUT);
	stop_watchers(j);
	/* Sweep its process group: a role or helper that outlived the
	 * experiment would otherwise run on unsupervised. */
	kill(-j->pid, SIGKILL);
	j->t1 = sl_now();
	run_judge(j);
	job_done(j);
}

/* SIGKILL to the job's whole group: what its teardown had not undone yet
 * is swept once the group is gone (sweep_killed()). */
static void job_kill(struct job *j)
{
	kill(-j->pid, SIGKILL);
	j->r->killed = 1;
}

static void grace_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	job_kill(w->data);
}

/* SIGTERM now, SIGKILL to the group after the grace period. */
static void job_stop(struct job *j)
{
	if (ev_is_active(&j->grace_w))
		return;
	kill(j->pid, SIGTERM);
	ev_timer_set(&j->grace_w, GRACE_S, 0);
	ev_timer_start(j->r->loop, &j->grace_w);
}

static void timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct job *j = w->data;

	(void)loop;
	(void)revents;
	j->timed_out = 1;
	job_stop(j);
}

#define CHANNEL_ARG 16 /* "N" of a channel's option */

/* A channel to an experiment about to start (cli_channel()): ours in
 * *ours, its end in *theirs (closed once it is started), passed as "opt
 * N" with N written to arg (CHANNEL_ARG bytes).  0 or -errno. */
static int pass_channel(int *ours, int *theirs, const char *opt, char *arg,
			const char **argv, int *argc)
{
	int ret = cli_channel(ours, theirs);

	if (ret < 0)
		return ret;
	snprintf(arg, CHANNEL_ARG, "%d", *theirs);
	argv[(*argc)++] = opt;
	argv[(*argc)++] = arg;
	return 0;
}

static void job_start(struct job *j)
{
	struct runner *r = j->r;
	const char *argv[12 + 2 * 64];
	char stepfd_arg[CHANNEL_ARG], progressfd_arg[CHANNEL_ARG];
	struct cli_child c;
	int argc = 0, errfd, ret, stepfd = -1, progressfd = -1;

	j->state = J_RUNNING;
	r->running++;
	if (j->exp->broken) {
		job_fail(j, strdup(j->exp->broken), "broken experiment");
		return;
	}
	j->dirfd = sl_resultdir_mkdir(r->run_fd, j->name);
	if (j->dirfd < 0) {
		job_fail(j, strdup(strerror(-j->dirfd)),
			 "cannot create its folder");
		return;
	}
	/* Its stderr (progress, diagnostics) goes to a file next to its
	 * results: several experiments writing to the terminal at once
	 * would be unreadable, and the file is what a learner opens when
	 * something went wrong. */
	errfd = sl_resultdir_create(j->dirfd, STDERR_FILE);
	if (errfd < 0) {
		job_fail(j, strdup(strerror(-errfd)),
			 "cannot create " STDERR_FILE);
		return;
	}
	argv[argc++] = j->exp->path;
	argv[argc++] = "--run";
	argv[argc++] = "--results";
	argv[argc++] = j->dir;
	if (r->keep)
		argv[argc++] = "--keep";
	/* Only when asked: a run over IPv4 alone is the command line it
	 * always was. */
	if (j->family) {
		argv[argc++] = "--family";
		argv[argc++] = j->family;
	}
	for (int i = 0; i < r->nvariants && i < 64; i++) {
		argv[argc++] = "--variant";
		argv[argc++] = r->variants[i];
	}
	/* The folder itself, which the path above may no longer lead to. */
	argv[argc++] = "--results-fd";
	argv[argc++] = STRINGIFY(CLI_SPAWN_PASSED_FD);
	/* The channels: the pauses of --step, and the progress that moves
	 * the deadline (deadline.c). */
	ret = r->step ? pass_channel(&j->step_fd, &stepfd, "--step-fd",
				     stepfd_arg, argv, &argc) :
			0;
	if (ret == 0)
		ret = pass_channel(&j->progress_fd, &progressfd,
				   "--progress-fd", progressfd_arg, argv,
				   &argc);
	if (ret < 0) {
		close(errfd);
		if (stepfd >= 0)
			close(stepfd);
		job_fail(j, strdup(strerror(-ret)),
			 "cannot make a channel to it");
		return;
	}
	argv[argc] = NULL;
	j->t0 = sl_now();
	ret = cli_spawn_passing(argv, CLI_SPAWN_GROUP, errfd, j->dirfd, &c);
	close(errfd);
	if (stepfd >= 0)
		close(stepfd);
	close(progressfd);
	if (ret) {
		job_fail(j, strdup(strerror(-ret)), "cannot start");
		return;
	}
	j->pid = c.pid;
	j->out_fd = c.out;
	ev_io_init(&j->out_w, out_cb, c.out, EV_READ);
	ev_child_init(&j->child_w, child_cb, c.pid, 0);
	ev_timer_init(&j->timeout_w, timeout_cb, run_deadline_s(j), 0);
	ev_timer_init(&j->grace_w, grace_cb, GRACE_S, 0);
	j->out_w.data = j->child_w.data = j;
	j->timeout_w.data = j->grace_w.data = j;
	ev_io_start(r->loop, &j->out_w);
	ev_child_start(r->loop, &j->child_w);
	/* The loop's clock was read before the fork: refresh it so that the
	 * deadline counts from the start of the process. */
	ev_now_update(r->loop);
	ev_timer_start(r->loop, &j->timeout_w);
	if (j->step_fd >= 0)
		run_step_watch(j);
	run_deadline_watch(j);
}

/* With -j below the number of experiments, the longest ones (by their
 * timeout) start first: an experiment that waits out TIME-WAIT's 60 s then
 * overlaps the short ones instead of running alone at the end.  The
 * summary keeps the catalogue's order. */
static void start_more(struct runner *r)
{
	while (!r->signum && r->next < r->njobs && r->running < r->max_jobs) {
		struct job *pick = NULL;

		for (int i = 0; i < r->njobs; i++) {
			struct job *j = &r->job[i];

			if (j->state == J_WAITING &&
			    (!pick || j->exp->timeout_s > pick->exp->timeout_s))
				pick = j;
		}
		if (!pick)
			break;
		r->next++;
		job_start(pick);
	}
}

static void status_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	run_status_draw(w->data);
}

static void progress_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	run_progress_line(w->data);
}

static void signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct runner *r = w->data;

	(void)revents;
	run_status_clear(r);
	if (r->signum) {
		/* Asked twice (GNU timeout always asks twice: socklab, then
		 * its process group): no more waiting for clean teardowns.
		 * Said once, however many more come. */
		if (r->insisted)
			return;
		r->insisted = 1;
		fprintf(stderr,
			"socklab: run: %s again: killing the experiments, "
			"then removing what they leave\n",
			cli_signal_name(w->signum));
		for (int i = 0; i < r->njobs; i++)
			if (r->job[i].state == J_RUNNING && r->job[i].pid > 0)
				job_kill(&r->job[i]);
		return;
	}
	r->signum = w->signum;
	if (r->running)
		fprintf(stderr,
			"socklab: run: %s: stopping %d running "
			"experiment%s (again to kill them at once)\n",
			cli_signal_name(w->signum), r->running,
			r->running == 1 ? "" : "s");
	for (int i = 0; i < r->njobs; i++) {
		struct job *j = &r->job[i];

		if (j->state == J_RUNNING && j->pid > 0) {
			j->stopped = 1;
			job_stop(j);
		}
	}
	if (!r->running)
		ev_break(loop, EVBREAK_ALL);
}

/* The pids of our children, from /proc (CONFIG_PROC_CHILDREN); -errno when
 * the kernel does not say. */
static int read_children(pid_t *pids, int max)
{
	char path[64];
	int n = 0;
	long pid;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/children",
		 (int)getpid());
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (n < max && fscanf(f, "%ld", &pid) == 1)
		pids[n++] = (pid_t)pid;
	fclose(f);
	return n;
}

/* As the experiments' subreaper, we inherit whatever they orphaned (a role
 * or a helper whose parent died first).  Their process groups have been
 * swept already; this takes care of anything that left its group, and
 * reaps it, so that the run ends with no process of ours alive. */
static void reap_orphans(void)
{
	pid_t pids[256];

	for (int round = 0; round < 16; round++) {
		int n = read_children(pids, 256);

		if (n <= 0)
			break;
		for (int i = 0; i < n; i++)
			kill(pids[i], SIGKILL);
		for (int i = 0; i < n; i++)
			while (waitpid(pids[i], NULL, 0) < 0 && errno == EINTR)
				;
	}
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

/* The loop and its signal watchers, once for all the runs of --repeat: a
 * Ctrl-C between two runs is then seen by the next one, which stops at
 * once, instead of killing the CLI with the default action. */
static int loop_start(struct runner *r)
{
	r->loop = ev_default_loop(0);
	if (!r->loop) {
		fprintf(stderr, "socklab: run: cannot start the event loop\n");
		return -ENOMEM;
	}
	/* Every signal that would end the CLI short of SIGKILL: one left to
	 * its default action would leave the experiments running on alone,
	 * to tear down after the CLI has said it is done. */
	for (int i = 0; i < CLI_NSTOP_SIGNALS; i++) {
		ev_signal_init(&r->sig_w[i], signal_cb, cli_stop_signals[i]);
		r->sig_w[i].data = r;
		ev_signal_start(r->loop, &r->sig_w[i]);
	}
	/* Orphans of the experiments come to us instead of init, so that
	 * reap_orphans() can make sure none outlives the run. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		fprintf(stderr, "socklab: run: cannot become a subreaper: %s\n",
			strerror(errno));
	return 0;
}

static void loop_stop(struct runner *r)
{
	sigset_t set;

	if (!r->loop)
		return;
	/* Blocked, not back to their default actions: the run is over and
	 * its exit status already says whether it was interrupted; a signal
	 * now (the second of a pair that came as it ended) must not turn it
	 * into a death by that signal halfway through the tally. */
	sigemptyset(&set);
	for (int i = 0; i < CLI_NSTOP_SIGNALS; i++)
		sigaddset(&set, cli_stop_signals[i]);
	sigprocmask(SIG_BLOCK, &set, NULL);
	for (int i = 0; i < CLI_NSTOP_SIGNALS; i++)
		ev_signal_stop(r->loop, &r->sig_w[i]);
}

/* After a SIGKILL, what the killed experiments had not torn down: their
 * groups are gone and reaped (reap_orphans()), so their slots' locks are
 * free and the sweep takes exactly what they left, as `socklab clean`
 * would; a live run's slot is never touched.  After an interruption too,
 * whatever stopped the experiments: an interrupted teardown that failed
 * halfway would otherwise leave its part for the next run. */
static void sweep_killed(struct runner *r)
{
	struct sl_err e = { "" };
	char *text = NULL;
	size_t len = 0;
	FILE *log;
	int n;

	if (!r->killed && !r->signum)
		return;
	r->killed = 0;
	log = open_memstream(&text, &len);
	n = sl_sweep_stale(log, &e);
	if (log)
		fclose(log);
	if (len && !r->quiet)
		fprintf(stderr,
			"socklab: run: removed what the killed "
			"experiments left:\n%s",
			text);
	if (n < 0)
		fprintf(stderr,
			"socklab: run: removing what the killed experiments "
			"left: %s (`socklab clean` tries again)\n",
			e.msg);
	free(text);
}

static void run_loop(struct runner *r)
{
	if (r->tty) {
		ev_timer_init(&r->status_w, status_cb, STATUS_INTERVAL_S,
			      STATUS_INTERVAL_S);
		r->status_w.data = r;
		ev_timer_start(r->loop, &r->status_w);
	}
	/* Without a terminal there is no status line: a line now and then
	 * instead, so that a long experiment is not a silent one. */
	if (!r->tty && !r->quiet && r->progress > 0) {
		run_progress_expect(r);
		ev_timer_init(&r->progress_w, progress_cb, r->progress,
			      r->progress);
		r->progress_w.data = r;
		ev_timer_start(r->loop, &r->progress_w);
	}
	r->t0 = sl_now();
	if (!r->quiet && r->nrep > 1)
		fprintf(stderr,
			"socklab: run %d of %d: running %d "
			"experiment%s; results in %s\n",
			r->rep, r->nrep, r->njobs, r->njobs == 1 ? "" : "s",
			r->run_shown);
	else if (!r->quiet)
		fprintf(stderr,
			"socklab: running %d experiment%s; results in "
			"%s\n",
			r->njobs, r->njobs == 1 ? "" : "s", r->run_shown);
	/* A signal that came between two runs: its callback runs in the
	 * loop, so let it run before anything starts. */
	ev_run(r->loop, EVRUN_NOWAIT);
	start_more(r);
	if (r->running)
		ev_run(r->loop, 0);
	if (r->tty)
		ev_timer_stop(r->loop, &r->status_w);
	if (ev_is_active(&r->progress_w))
		ev_timer_stop(r->loop, &r->progress_w);
	reap_orphans();
	sweep_killed(r);
}

void run_job_free(struct job *j)
{
	free(j->name);
	free(j->dir);
	free(j->shown);
	free(j->out);
	free(j->verdict);
	free(j->reason);
	free(j->json);
	free(j->expect_from);
	if (j->dirfd >= 0)
		close(j->dirfd);
	if (j->step_fd >= 0)
		close(j->step_fd);
	if (j->progress_fd >= 0)
		close(j->progress_fd);
}

void run_job_init(struct job *j, struct runner *r, struct cli_exp *x,
		  char *name, const char *family)
{
	memset(j, 0, sizeof(*j));
	j->r = r;
	j->exp = x;
	j->name = name;
	j->family = family;
	j->out_fd = -1;
	j->dirfd = -1;
	j->step_fd = -1;
	j->progress_fd = -1;
}

/* Forgets what one run left in the jobs, for the next run of --repeat. */
static void reset_jobs(struct runner *r)
{
	for (int i = 0; i < r->njobs; i++) {
		struct job *j = &r->job[i];
		struct cli_exp *x = j->exp;
		const char *family = j->family;
		char *name = j->name;

		j->name = NULL;
		run_job_free(j);
		run_job_init(j, r, x, name, family);
	}
	r->next = r->running = r->done = r->drawn = 0;
	free(r->run_shown);
	free(r->run_abs);
	r->run_shown = r->run_abs = NULL;
	if (r->run_fd >= 0)
		close(r->run_fd);
	r->run_fd = -1;
}

/* Where the lab guides of an installed socklab are, relative to its
 * executable (the build sets it from the install layout). */
#ifndef SL_GUIDES_RELDIR
#define SL_GUIDES_RELDIR "../share/doc/socklab/experiments"
#endif

/* The run's index.html, for a browser; the lab guides are linked where an
 * install put them beside socklab, or else where the checkout the build
 * came from still has them. */
static void run_report(struct runner *r)
{
	const char **ids = calloc(r->njobs ? r->njobs : 1, sizeof(*ids));
	const char *guides = SL_SOURCE_DIR "/experiments";
	const char *name = strrchr(r->run_shown, '/');
	char installed[PATH_MAX];
	int ret;

	if (!ids)
		return;
	if (sl_beside_exe(SL_GUIDES_RELDIR, installed, sizeof(installed)) == 0)
		guides = installed;
	for (int i = 0; i < r->njobs; i++)
		ids[i] = r->job[i].name;
	ret = cli_report_html(r->run_fd, name ? name + 1 : r->run_shown, ids,
			      r->njobs, access(guides, R_OK) ? NULL : guides);
	if (ret < 0)
		fprintf(stderr,
			"socklab: run: cannot write %s/index.html: %s\n",
			r->run_shown, strerror(-ret));
	free(ids);
}

/* One whole run of the selection: its folder, the experiments, the
 * summary.  Returns the run's exit status. */
static int one_run(struct runner *r)
{
	int status;

	if (r->format == FORMAT_KTAP)
		run_ktap_plan(r);
	if (run_folder_make(r)) {
		for (int i = 0; i < r->njobs; i++)
			run_set_reason(&r->job[i], NULL,
				       "not run: no results folder");
		status = SL_EXIT_ERROR;
	} else {
		/* Before the experiments: a run cut short still says what
		 * it ran on. */
		int ret = cli_machine_write(r->run_fd);

		if (ret < 0)
			fprintf(stderr,
				"socklab: run: cannot write %s/run.json: %s\n",
				r->run_shown, strerror(-ret));
		run_loop(r);
		run_report(r);
		/* Under sudo, the results are the invoking user's, whatever
		 * the experiments managed to hand over before they ended. */
		sl_resultdir_hand_over(r->run_fd);
		status = run_summary(r);
	}
	if (r->format == FORMAT_KTAP)
		run_ktap_end(r, status);
	return status;
}

/* How bad an exit status is, to keep the worst of --repeat's runs: an
 * interruption, then an error, a failure, a skip, a pass. */
static int badness(int status)
{
	switch (status) {
	case SL_EXIT_PASS:
		return 0;
	case SL_EXIT_SKIP:
		return 1;
	case SL_EXIT_FAIL:
		return 2;
	case SL_EXIT_ERROR:
		return 3;
	}
	return 4;
}

/* Runs the selection --repeat times (once by default) and returns the
 * worst exit status of the runs. */
int run_all(struct runner *r)
{
	struct cli_exp **exps = NULL;
	struct cli_tally *tally = NULL;
	int ret = SL_EXIT_PASS;

	if (r->nrep > 1) {
		exps = calloc(r->njobs, sizeof(*exps));
		for (int i = 0; exps && i < r->njobs; i++)
			exps[i] = r->job[i].exp;
		tally = exps ? cli_tally_new(exps, r->njobs, r->variants,
					     r->nvariants) :
			       NULL;
		free(exps);
		if (!tally) {
			fprintf(stderr, "socklab: run: out of memory\n");
			return SL_EXIT_ERROR;
		}
	}
	if (loop_start(r)) {
		cli_tally_free(tally);
		return SL_EXIT_ERROR;
	}
	for (r->rep = 1; r->rep <= r->nrep && !r->signum; r->rep++) {
		int st;

		if (r->rep > 1)
			reset_jobs(r);
		st = one_run(r);
		if (badness(st) > badness(ret))
			ret = st;
		for (int i = 0; tally && i < r->njobs; i++) {
			const struct job *j = &r->job[i];

			if (j->state == J_DONE)
				cli_tally_add(tally, i,
					      run_result_status[j->result],
					      j->verdict, j->json);
		}
		/* A run that could not even start (no results folder)
		 * would fail the same way every time. */
		if (r->done == 0) {
			r->rep++;
			break;
		}
	}
	loop_stop(r);
	if (r->format == FORMAT_KTAP)
		run_ktap_unrun(r, r->rep);
	if (tally) {
		cli_tally_print(r->format == FORMAT_TEXT ? stdout : stderr,
				tally);
		if (r->format == FORMAT_JSON)
			cli_tally_json(stdout, tally);
		/* Every run's status is in ret already; this says the same
		 * thing from the tally's side, and guards it. */
		if (ret == SL_EXIT_PASS && !cli_tally_all_passed(tally))
			ret = SL_EXIT_FAIL;
		cli_tally_free(tally);
	}
	return ret;
}
