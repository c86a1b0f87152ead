/* experiment_main.c: the main() of every experiment executable.
 *
 * It speaks the protocol of protocol.h to the socklab CLI: --describe
 * prints what the experiment is, --run runs every variant, each in a
 * process and a topology of its own and all at once (so a variant that waits
 * out a long timer does not hold up the others), then derives the verdict,
 * judges each variant against what it declared, and writes the results
 * relative to the folder it was given (resultdir.h).  --judge does the
 * last step again on the timelines a run recorded, with this binary's
 * predictions, running nothing.  Either way the experiment's definition is
 * checked first (registry.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "board.h"
#include "clock.h"
#include "fault_spec.h"
#include "faults.h"
#include "linkemu.h"
#include "netns.h"
#include "protocol.h"
#include "registry.h"
#include "report.h"
#include "resultdir.h"
#include "run.h"
#include "selfpath.h"
#include "setup.h"
#include "timeline.h"
#include "socklab.h"
#include "topology.h"
#include "verdict.h"

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"usage: %s --describe\n"
		"       %s --run --results DIR [--keep] [--variant NAME]...\n"
		"                [--results-fd N] [--step-fd N] [--family 4|6|all]\n"
		"                [--progress-fd N]\n"
		"       %s --judge --results DIR [--variant NAME]... "
		"[--out OUTDIR]\n"
		"       %s --explain [--variant NAME]...\n"
		"An experiment of socklab: normally run through `socklab run`\n"
		"(--judge: `socklab judge`).\n",
		prog, prog, prog, prog);
}

static int selected(const char *name, char **only, int nonly)
{
	if (nonly == 0)
		return 1;
	for (int i = 0; i < nonly; i++)
		if (strcmp(only[i], name) == 0)
			return 1;
	return 0;
}

/* The kernel's count of processes its OOM killer has killed since boot
 * (/proc/vmstat oom_kill, Linux 4.13 and later), or -1. */
static long oom_kills(void)
{
	char key[64];
	long val = -1, v;
	FILE *f = fopen("/proc/vmstat", "re");

	if (!f)
		return -1;
	while (fscanf(f, "%63s %ld", key, &v) == 2)
		if (!strcmp(key, "oom_kill")) {
			val = v;
			break;
		}
	fclose(f);
	return val;
}

/* Why a variant process that never reported ended, from its wait status
 * (-1: not known), into why: a crash, an abort or a kill must not read
 * like anything else.  oom is how many processes the kernel's OOM killer
 * killed during the run (-1: not known): a SIGKILL nobody here sent is
 * most often that. */
static void describe_death(int status, long oom, char *why, size_t n)
{
	int len = snprintf(why, n, "variant process died before reporting");

	if (len < 0 || (size_t)len >= n)
		return;
	if (status == -1)
		snprintf(why + len, n - len, " (its status is not known)");
	else if (WIFSIGNALED(status))
		snprintf(why + len, n - len, ": killed by signal %d (%s%s)%s",
			 WTERMSIG(status), strsignal(WTERMSIG(status)),
			 WCOREDUMP(status) ? ", core dumped" : "",
			 WTERMSIG(status) == SIGKILL && oom > 0 ?
				 "; the kernel's OOM killer killed processes "
				 "during the run (see its log): the machine "
				 "ran out of memory" :
				 "");
	else if (WIFEXITED(status))
		snprintf(why + len, n - len, ": exited with status %d",
			 WEXITSTATUS(status));
}

/* Waits for every variant process, keeping each one's wait status in
 * status[] (-1 until it is known); SIGINT/SIGTERM is passed on to them
 * (each tears its own topology down) and remembered. */
static int wait_variants(pid_t *pid, int n, int *status)
{
	int running = 0, interrupted = 0;
	sigset_t set;

	for (int i = 0; i < n; i++)
		running += pid[i] > 0;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	while (running > 0) {
		struct timespec ts = { .tv_nsec = 200 * SL_NS_PER_MS };
		int sig;

		for (int i = 0; i < n; i++) {
			if (pid[i] > 0 &&
			    waitpid(pid[i], &status[i], WNOHANG) == pid[i]) {
				pid[i] = 0;
				running--;
			}
		}
		if (running == 0)
			break;
		sig = sigtimedwait(&set, NULL, &ts);
		if (sig == SIGINT || sig == SIGTERM) {
			interrupted = 1;
			for (int i = 0; i < n; i++)
				if (pid[i] > 0)
					kill(pid[i], SIGTERM);
		}
	}
	return interrupted;
}

/* What --run or --judge was asked: which variants, where the results go
 * (for --judge, where the recording is, and out where the files derived
 * from it go, or NULL). */
struct run_args {
	const char *dir;    /* as shown in the result line */
	const char *out;    /* --judge --out, or NULL */
	const char *kernel; /* --judge: the recording's kernel, or NULL */
	const char *fdarg;  /* --results-fd, or NULL */
	int dirfd;	    /* the experiment's results folder */
	int keep;
	int step_fd;	 /* --step-fd: the CLI's end of the pauses (step.h) */
	int progress_fd; /* --progress-fd: where progress goes (protocol.h) */
	char **only;
	int nonly;
	int want4, want6; /* --family: the address families to run over */
};

/* The folder of the results: the descriptor the CLI handed over with
 * --results-fd, or DIR opened and checked once (resultdir.h), so that
 * nothing below it is ever found again by its path. */
static int open_results(const char *id, const char *dir, const char *fdarg)
{
	struct sl_err e = { "" };
	struct stat st;
	char *end;
	long fd;

	if (!fdarg) {
		fd = sl_resultdir_open(dir, &e);
		if (fd < 0)
			fprintf(stderr, "%s: %s\n", id, e.msg);
		return fd;
	}
	errno = 0;
	fd = strtol(fdarg, &end, 10);
	if (errno || *end || end == fdarg || fd < 0 || fd > INT_MAX ||
	    fstat((int)fd, &st) < 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "%s: --results-fd %s is not an open folder\n",
			id, fdarg);
		return -EBADF;
	}
	fcntl((int)fd, F_SETFD, FD_CLOEXEC);
	return (int)fd;
}

/* --step-fd N: the CLI's channel for the pauses of --step (step.h), and
 * --progress-fd N: where each variant says it moved on (protocol.h).
 * Each a SOCK_SEQPACKET socket the CLI passed down, kept open across the
 * variants' forks (they use it) and closed on exec. */
static int open_channel(const char *id, const char *opt, const char *arg)
{
	int type = 0;
	socklen_t len = sizeof(type);
	char *end;
	long fd;

	errno = 0;
	fd = strtol(arg, &end, 10);
	if (errno || *end || end == arg || fd < 0 || fd > INT_MAX ||
	    getsockopt((int)fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
	    type != SOCK_SEQPACKET) {
		fprintf(stderr,
			"%s: %s %s is not an open SOCK_SEQPACKET socket\n", id,
			opt, arg);
		return -EBADF;
	}
	fcntl((int)fd, F_SETFD, FD_CLOEXEC);
	return (int)fd;
}

/* The suffix of a variant run over IPv6: its name in the results, in
 * --json and for --variant ("nothing_on_port.ipv6"); over IPv4 a variant
 * keeps its bare name, as before there were two families. */
#define SL_IPV6_SUFFIX ".ipv6"

static int family_of(const struct sl__variant_def *v)
{
	size_t n = strlen(v->name), k = strlen(SL_IPV6_SUFFIX);

	return n > k && !strcmp(v->name + n - k, SL_IPV6_SUFFIX) ? AF_INET6 :
								   AF_INET;
}

/* The variants this kernel cannot run, with why (sl_variant_decl's
 * needs_sysctl). */
struct not_run {
	int n;
	char name[SL_MAX_VARIANTS][SL_NAME_MAX + 8];
	char why[SL_MAX_VARIANTS][160];
};

/* Whether this kernel has sysctl key ("net.ipv4.x": /proc/sys/net/ipv4/x).
 * A sysctl of the network namespaces is there in every one of them. */
static int have_sysctl(const char *key)
{
	char path[PATH_MAX];

	return sl_netns_sysctl_path(key, path, sizeof(path)) == 0 &&
	       access(path, F_OK) == 0;
}

/* The variants to run, one per variant and family asked for and
 * supported, each a copy of its definition under its name in the results
 * (defs[], names[] hold them), in ext.  Returns how many, and in *skipped
 * how many were asked for in a family the experiment does not run on; nr
 * (when not NULL) gets those this kernel cannot run. */
static int expand(const struct sl_registry *reg, const struct run_args *a,
		  struct sl_registry *ext, struct sl__variant_def *defs,
		  char (*names)[SL_NAME_MAX + 8], int *skipped,
		  struct not_run *nr)
{
	int fams = reg->x->families, n = 0;

	*ext = *reg;
	*skipped = 0;
	if (nr)
		nr->n = 0;
	for (int f = 0; f < 2; f++) {
		int want = f == 0 ? a->want4 : a->want6;
		int can = !fams || fams == (f == 0 ? 4 : 6);

		for (int v = 0; want && v < reg->nvariants; v++) {
			const char *base = reg->variant[v]->name;

			snprintf(names[n], sizeof(names[n]), "%s%s", base,
				 f ? SL_IPV6_SUFFIX : "");
			if (!selected(base, a->only, a->nonly) &&
			    !selected(names[n], a->only, a->nonly))
				continue;
			if (!can) {
				(*skipped)++;
				continue;
			}
			if (nr && reg->variant[v]->decl.needs_sysctl &&
			    !have_sysctl(reg->variant[v]->decl.needs_sysctl)) {
				snprintf(nr->name[nr->n], sizeof(nr->name[0]),
					 "%s", names[n]);
				snprintf(nr->why[nr->n], sizeof(nr->why[0]),
					 "this kernel has no %s, which the "
					 "variant is about",
					 reg->variant[v]->decl.needs_sysctl);
				nr->n++;
				continue;
			}
			if (n >= SL_MAX_VARIANTS)
				break;
			defs[n] = *reg->variant[v];
			defs[n].name = names[n];
			ext->variant[n] = &defs[n];
			n++;
		}
	}
	ext->nvariants = n;
	return n;
}

/* Starts variant idx in a process of its own, in a folder of its own that
 * becomes its working folder: everything it writes is then relative to a
 * folder it holds, whatever happens to the paths leading to it. */
static pid_t start_variant(const struct sl_registry *reg, int idx,
			   const struct run_args *a, struct sl_outcome *out)
{
	const char *name = reg->variant[idx]->name;
	int vfd = sl_resultdir_mkdir(a->dirfd, name);
	pid_t pid;

	if (vfd < 0) {
		out->error = 1;
		snprintf(out->why, sizeof(out->why),
			 "create results folder "
			 "%.300s/%.100s: %.100s",
			 a->dir, name, strerror(-vfd));
		return 0;
	}
	pid = fork();
	if (pid == 0) {
		struct sl_run_opts opts = { .dir = ".",
					    .keep = a->keep,
					    .step_fd = a->step_fd,
					    .progress_fd = a->progress_fd };

		opts.family = family_of(reg->variant[idx]);

		/* A run whose experiment process is killed still tears its
		 * topology down. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (fchdir(vfd) < 0) {
			out->error = 1;
			snprintf(out->why, sizeof(out->why),
				 "enter results "
				 "folder %.100s: %.100s",
				 name, strerror(errno));
			_exit(0);
		}
		close(vfd);
		sl_run_variant(reg, idx, &opts, out);
		fflush(NULL);
		_exit(0);
	}
	if (pid < 0) {
		out->error = 1;
		snprintf(out->why, sizeof(out->why), "fork variant %s: %s",
			 name, strerror(errno));
		pid = 0;
	}
	close(vfd);
	return pid;
}

/* verdict.json and timeline.txt, next to the variants' folders (none for
 * dirfd -1), and the result line on stdout. */
static void write_report(const struct sl_report *rep, int dirfd)
{
	FILE *f = dirfd >= 0 ? sl_resultdir_fopen(dirfd, "verdict.json") : NULL;

	if (f) {
		sl_report_json(f, rep);
		fclose(f);
	}
	f = dirfd >= 0 ? sl_resultdir_fopen(dirfd, "timeline.txt") : NULL;
	if (f) {
		sl_report_text(f, rep);
		fclose(f);
	}
	sl_report_json(stdout, rep);
	fflush(stdout);
}

/* The verdict of the variants that ran (idx[0..n)), each judged against
 * its declaration, then the report.  status[] holds each variant
 * process's wait status (NULL for --judge, which started none) and oom0
 * the OOM killer's count before they started, so that a variant that died
 * without reporting says how.  Returns the exit status. */
static int conclude(const struct sl_registry *reg, const int *idx, int n,
		    struct sl_outcome *out, const struct run_args *a,
		    int64_t t0, int interrupted, const int *status, long oom0,
		    const struct not_run *nr)
{
	long oom1 = oom_kills();
	long oom = oom0 >= 0 && oom1 >= 0 ? oom1 - oom0 : -1;

	int holds[SL_MAX_VARIANTS], error[SL_MAX_VARIANTS];
	int declared[SL_MAX_VARIANTS];
	struct sl_registry sub = *reg;
	struct sl_report rep = { .reg = &sub, .out = out, .n = n };

	for (int i = 0; nr && i < nr->n; i++) {
		rep.not_run[i] = nr->name[i];
		rep.not_run_why[i] = nr->why[i];
	}
	rep.nnot_run = nr ? nr->n : 0;

	for (int i = 0; i < n; i++) {
		if (!out[i].done && !out[i].error) {
			out[i].error = 1;
			describe_death(status ? status[i] : -1, oom, out[i].why,
				       sizeof(out[i].why));
		}
		holds[i] = out[i].holds;
		error[i] = out[i].error;
		sub.variant[i] = reg->variant[idx[i]];
		declared[i] = sub.variant[i]->decl.holds;
	}
	sub.nvariants = n;
	rep.verdict = sl_verdict_derive(n, holds, error);
	/* Judged per variant against its declaration, not by comparing
	 * verdicts: with --variant only some run, and their verdict need not
	 * be the experiment's. */
	rep.status = sl_verdict_judge(n, holds, error, declared);
	rep.duration_s = (double)(sl_now() - t0) / SL_NS_PER_SEC;
	rep.dir = a->out ? a->out : a->dir;
	rep.dirfd = a->dirfd;
	rep.kernel = a->kernel;
	write_report(&rep, a->dirfd);
	if (interrupted || rep.status == SL_STATUS_ERROR)
		return SL_EXIT_ERROR;
	return rep.status == SL_STATUS_PASS ? SL_EXIT_PASS : SL_EXIT_FAIL;
}

static int run(const struct sl_registry *full, struct run_args *a)
{
	static struct sl__variant_def defs[SL_MAX_VARIANTS];
	static char names[SL_MAX_VARIANTS][SL_NAME_MAX + 8];
	struct sl_registry ext;
	const struct sl_registry *reg = &ext;
	struct sl_outcome *out;
	int idx[SL_MAX_VARIANTS];
	pid_t pid[SL_MAX_VARIANTS];
	int status[SL_MAX_VARIANTS];
	long oom0 = oom_kills();
	int64_t t0 = sl_now();
	static struct not_run not_run;
	int n, ret, skipped;
	sigset_t set;

	n = expand(full, a, &ext, defs, names, &skipped, &not_run);
	for (int i = 0; i < n; i++) {
		idx[i] = i;
		status[i] = -1;
	}
	if (n == 0 && not_run.n) {
		/* Never a pass: nothing this kernel can run was asked for. */
		fprintf(stderr, "%s: not run: %s: %s\n", full->id,
			not_run.name[0], not_run.why[0]);
		return SL_EXIT_SKIP;
	}
	if (n == 0 && skipped) {
		/* Never a pass: the family asked for was not run at all. */
		fprintf(stderr, "%s: not yet ported to %s\n", full->id,
			full->x->families == 4 ? "IPv6" : "IPv4");
		return SL_EXIT_SKIP;
	}
	if (n == 0) {
		fprintf(stderr, "%s: no variant named '%s'\n", full->id,
			a->nonly ? a->only[0] : "");
		return SL_EXIT_USAGE;
	}
	if (geteuid() != 0) {
		fprintf(stderr,
			"%s: needs root (network namespaces, packet "
			"capture)\n",
			reg->id);
		return SL_EXIT_SKIP;
	}
	/* Nothing else is ever the folder's to read: captures included. */
	umask(077);
	a->dirfd = open_results(reg->id, a->dir, a->fdarg);
	if (a->dirfd < 0)
		return SL_EXIT_ERROR;
	out = mmap(NULL, n * sizeof(*out), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (out == MAP_FAILED) {
		fprintf(stderr, "%s: map results: %s\n", reg->id,
			strerror(errno));
		return SL_EXIT_ERROR;
	}
	memset(out, 0, n * sizeof(*out));
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	fflush(NULL);
	if (a->step_fd >= 0) {
		/* Stepped: one variant after the other, since the learner
		 * reads one exchange at a time, and its pauses must not
		 * interleave with another's. */
		int interrupted = 0;

		for (int i = 0; i < n; i++) {
			if (interrupted) {
				out[i].error = 1;
				snprintf(out[i].why, sizeof(out[i].why),
					 "not run: the run was stopped before "
					 "its turn (--step)");
				continue;
			}
			pid[i] = start_variant(reg, idx[i], a, &out[i]);
			interrupted = wait_variants(&pid[i], 1, &status[i]);
		}
		ret = conclude(reg, idx, n, out, a, t0, interrupted, status,
			       oom0, &not_run);
	} else {
		int interrupted;

		for (int i = 0; i < n; i++)
			pid[i] = start_variant(reg, idx[i], a, &out[i]);
		interrupted = wait_variants(pid, n, status);
		ret = conclude(reg, idx, n, out, a, t0, interrupted, status,
			       oom0, &not_run);
	}
	munmap(out, n * sizeof(*out));
	/* Under sudo, the results are the invoking user's. */
	sl_resultdir_hand_over(a->dirfd);
	return ret;
}

/* ---- --judge: a recorded run judged again ---- */

/* The lines that head the recorded timeline.txt of a variant, which name
 * its hosts, namespaces and addresses: the topology is not part of the
 * timeline, and a judge builds none.  Up to the first line that is not
 * such a line; empty when the file is missing. */
static void recorded_hosts(const char *dir, const char *variant, char *buf,
			   size_t n)
{
	char path[PATH_MAX], line[1024];
	size_t used = 0;
	FILE *f;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "%s/%s/timeline.txt", dir, variant);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f) && strstr(line, " netns ") &&
	       !strncmp(line, "# ", 2) && used + strlen(line) < n) {
		memcpy(buf + used, line, strlen(line) + 1);
		used += strlen(line);
	}
	fclose(f);
}

/* The files a run derives from this timeline, into OUT/<variant>/, a
 * folder judge creates: an existing one is refused, so that nothing
 * recorded is ever written over. */
static int write_derived(const struct sl_registry *reg, int idx,
			 const struct sl_timeline *tl, const struct run_args *a,
			 struct sl_outcome *out)
{
	const char *name = reg->variant[idx]->name;
	char hosts[2048], title[160];
	int vfd = sl_resultdir_mkdir(a->dirfd, name);

	if (vfd < 0) {
		out->error = 1;
		snprintf(out->why, sizeof(out->why),
			 "create folder %.300s/%.100s: %.100s", a->out, name,
			 strerror(-vfd));
		return vfd;
	}
	recorded_hosts(a->dir, name, hosts, sizeof(hosts));
	snprintf(title, sizeof(title), "%s: %s", reg->id, name);
	sl_run_write_timeline(tl, vfd, ".", hosts, title);
	close(vfd);
	return 0;
}

/* Variant idx judged on DIR/<variant>/timeline.tl, as sl_run_variant()
 * judges the timeline it builds: a recording that will not load, or of a
 * run that failed before it could be judged, is an ERROR with the reason. */
static void judge_variant(const struct sl_registry *reg, int idx,
			  struct run_args *a, struct sl_outcome *out)
{
	const char *name = reg->variant[idx]->name;
	int64_t t0 = sl_now();
	struct sl_err e = { "" };
	struct sl_timeline tl;
	char path[PATH_MAX];

	memset(out, 0, sizeof(*out));
	snprintf(path, sizeof(path), "%s/%s/timeline.tl", a->dir, name);
	if (sl_timeline_read(&tl, path, &e) < 0) {
		out->error = 1;
		snprintf(out->why, sizeof(out->why),
			 "no recording to judge: %s", e.msg);
		out->done = 1;
		return;
	}
	if (tl.error[0]) {
		out->error = 1;
		snprintf(out->why, sizeof(out->why), "%s", tl.error);
	}
	for (int i = 0; i < tl.nfaults && i < SL_FAULTS_MAX; i++) {
		struct sl_fault_rec *f = &out->fault[out->nfaults++];

		snprintf(f->kind, sizeof(f->kind), "%s", tl.fault[i].kind);
		snprintf(f->backend, sizeof(f->backend), "%s",
			 tl.fault[i].backend);
		snprintf(f->what, sizeof(f->what), "%s", tl.fault[i].what);
		f->host = -1;
		f->lifted = tl.fault[i].lifted;
	}
	if (!a->kernel && tl.release[0])
		a->kernel = strdup(tl.release);
	sl_run_judge(reg, reg->variant[idx]->knobs, &tl, out);
	if (a->out)
		write_derived(reg, idx, &tl, a, out);
	sl_timeline_free(&tl);
	out->duration_s = (double)(sl_now() - t0) / SL_NS_PER_SEC;
	out->done = 1;
}

static int judge(const struct sl_registry *full, struct run_args *a)
{
	static struct sl__variant_def defs[SL_MAX_VARIANTS];
	static char names[SL_MAX_VARIANTS][SL_NAME_MAX + 8];
	struct sl_registry ext;
	const struct sl_registry *reg = &ext;
	struct sl_outcome *out;
	int idx[SL_MAX_VARIANTS];
	int64_t t0 = sl_now();
	int n = 0, ret, skipped;

	/* Every variant of the recording: over IPv4 under its name, and
	 * over IPv6 (NAME.ipv6) where the run recorded one. */
	a->want4 = a->want6 = 1;
	expand(full, a, &ext, defs, names, &skipped, NULL);
	for (int v = 0; v < ext.nvariants; v++) {
		char path[4096];

		snprintf(path, sizeof(path), "%s/%s/timeline.tl", a->dir,
			 ext.variant[v]->name);
		if (family_of(ext.variant[v]) == AF_INET ||
		    access(path, F_OK) == 0)
			ext.variant[n++] = ext.variant[v];
	}
	ext.nvariants = n;
	for (int v = 0; v < n; v++)
		idx[v] = v;
	if (n == 0) {
		fprintf(stderr, "%s: no variant named '%s'\n", reg->id,
			a->nonly ? a->only[0] : "");
		return SL_EXIT_USAGE;
	}
	if (a->out) {
		struct sl_err e = { "" };

		umask(077);
		a->dirfd = sl_resultdir_open(a->out, &e);
		if (a->dirfd < 0) {
			fprintf(stderr, "%s: %s\n", reg->id, e.msg);
			return SL_EXIT_ERROR;
		}
	}
	out = calloc(n, sizeof(*out));
	if (!out) {
		fprintf(stderr, "%s: judge: out of memory\n", reg->id);
		return SL_EXIT_ERROR;
	}
	for (int i = 0; i < n; i++)
		judge_variant(reg, idx[i], a, &out[i]);
	/* A recording that does not name its kernel was not made on this
	 * one for all we know: the result says none rather than uname's. */
	if (!a->kernel)
		a->kernel = strdup("");
	ret = conclude(reg, idx, n, out, a, t0, 0, NULL, -1, NULL);
	free(out);
	free((char *)a->kernel);
	if (a->dirfd >= 0) {
		sl_resultdir_hand_over(a->dirfd);
		close(a->dirfd);
	}
	return ret;
}

/* ---- --explain: the commands, by hand ---- */

/* Where an installed experiment's lab guide, sources and recordings are,
 * relative to the folder of its executable (the build sets it from the
 * install layout, as socklab's own SL_GUIDES_RELDIR). */
#ifndef SL_GUIDE_FROM_EXPERIMENT_RELDIR
#define SL_GUIDE_FROM_EXPERIMENT_RELDIR "../../share/doc/socklab/experiments"
#endif

/* A file of the experiment's folder (rel: its source, or
 * guide/<variant>.tl.gz) into path.  An installed experiment takes the
 * copy installed beside its guide, so that it still finds it once the
 * checkout it was built from is gone, and never one of another version;
 * a built one takes the checkout's (the path its source was compiled
 * from).  0, or -ENOENT when neither can be read. */
static int experiment_file(const struct sl_registry *reg, const char *rel,
			   char *path, size_t n)
{
	const char *slash = reg->file ? strrchr(reg->file, '/') : NULL;
	char guides[PATH_MAX];

	if (sl_beside_exe(SL_GUIDE_FROM_EXPERIMENT_RELDIR, guides,
			  sizeof(guides)) == 0 &&
	    snprintf(path, n, "%s/%s/%s", guides, reg->id, rel) < (int)n &&
	    access(path, R_OK) == 0)
		return 0;
	if (slash &&
	    snprintf(path, n, "%.*s/%s", (int)(slash - reg->file), reg->file,
		     rel) < (int)n &&
	    access(path, R_OK) == 0)
		return 0;
	return -ENOENT;
}

/* The faults a variant's roles apply at their marks are known only while
 * they run, so they come from a recorded run of the variant, the one the
 * lab guide shows (experiments/<id>/guide/<variant>.tl.gz, installed
 * beside the guide: experiment_file()), each served
 * through the same code as a run's on the explained topology.  Returns
 * how many it printed, or -1 (said why) when there is no recording or the
 * recording keeps no faults as asked. */
static int explain_role_faults(const struct sl_registry *reg, int v,
			       const struct sl_topology *t,
			       struct sl_board *board, FILE *out)
{
	char rel[SL_NAME_MAX + 16], path[PATH_MAX];
	struct sl_timeline tl;
	struct sl_err e = { "" };
	int n = 0, asked = 0;

	snprintf(rel, sizeof(rel), "guide/%s.tl.gz", reg->variant[v]->name);
	if (experiment_file(reg, rel, path, sizeof(path)) < 0 ||
	    sl_timeline_read(&tl, path, &e) < 0)
		return -1;
	for (int i = 0; i < tl.nfaults; i++) {
		struct sl_fault_spec spec;
		char mark[SL_NAME_MAX], who[32];

		if (!tl.fault[i].spec[0])
			continue;
		asked++;
		if (sl_fault_spec_parse(tl.fault[i].spec, &spec) < 0 ||
		    !strcmp(spec.by, "setup"))
			continue;
		/* The mark the fault's call makes (faults.c), and its role:
		 * a reboot's record does not keep which one asked. */
		if (!strcmp(spec.kind, "crash") || !strcmp(spec.kind, "reboot"))
			snprintf(mark, sizeof(mark), "%s %s", spec.kind,
				 spec.host);
		else
			snprintf(mark, sizeof(mark), "fault %s", spec.kind);
		if (strcmp(spec.by, "role"))
			snprintf(who, sizeof(who), "the %s role", spec.by);
		else
			snprintf(who, sizeof(who), "a role");
		if (!n++)
			fprintf(out,
				"# faults the roles apply at their marks, as "
				"a recorded run of this variant did\n"
				"# (%s):\n",
				path);
		fprintf(out, "# at mark \"%s\" (%s): %s\n", mark, who,
			spec.text);
		if (sl_faults_explain(t, board, &spec, out, &e) < 0)
			fprintf(out, "# (cannot be shown: %s)\n", e.msg);
	}
	sl_timeline_free(&tl);
	return asked ? n : -1;
}

/* A variant's network and its faults from the start, as a learner would
 * type them: the topology and SETUP done by the code of a run, on a
 * topology that only prints (topology.h), then how to watch it. */
static int explain_variant(const struct sl_registry *reg, int v, FILE *out)
{
	struct sl_err e = { "" };
	struct sl_topology t;
	struct sl_board *board = NULL;
	struct sl_setup s = { .topo = &t, .cmdlog = out };
	const char *slash;
	char code[PATH_MAX];
	int ret;

	fprintf(out, "\n# ---- variant %s ----\n", reg->variant[v]->name);
	sl_linkemu_explain_begin();
	fprintf(out, "# the network (run as root):\n");
	ret = sl_topology_explain(&t, 0, out, &e);
	if (ret < 0) {
		fprintf(stderr, "%s: explain variant %s: %s\n", reg->id,
			reg->variant[v]->name, e.msg);
		return ret;
	}
	/* A fault is recorded on a board as in a run. */
	ret = sl_board_create(&board, &e);
	if (ret < 0) {
		fprintf(stderr, "%s: explain: %s\n", reg->id, e.msg);
		return ret;
	}
	s.board = board;
	if (reg->setup) {
		fprintf(out, "# the experiment's set-up (SETUP):\n");
		reg->setup(&s, reg->variant[v]->knobs);
		if (s.failed) {
			fprintf(stderr, "%s: explain variant %s: setup: %s\n",
				reg->id, reg->variant[v]->name, s.err.msg);
			sl_board_destroy(board);
			return -EINVAL;
		}
	}
	if (explain_role_faults(reg, v, &t, board, out) < 0)
		fprintf(out,
			"# faults the roles apply while they run (sl_fault(), "
			"sl_crash(), sl_reboot() at their marks)\n"
			"# are known only then, and this variant has no "
			"recorded run that keeps them:\n"
			"# a run writes each into its commands.sh as it "
			"happens.\n");
	sl_board_destroy(board);
	fprintf(out, "# watch it: a capture per interface, and the sockets\n");
	for (int h = 0; h < SL_NHOSTS; h++)
		for (int k = 0; k < t.host[h].nif; k++)
			fprintf(out,
				"ip netns exec %s tcpdump -nn -i %s -w "
				"%s-%s.pcap tcp &\n",
				t.host[h].netns, t.host[h].iface[k].name,
				t.host[h].name, t.host[h].iface[k].name);
	fprintf(out, "ip netns exec %s ss -tanoi\n",
		t.host[SL_HOST_CLIENT].netns);
	fprintf(out, "ip netns exec %s ss -tanoi\n",
		t.host[SL_HOST_SERVER].netns);
	fprintf(out, "# the roles: %d, ", reg->nroles);
	for (int i = 0; i < reg->nroles; i++)
		fprintf(out, "%s%s", i ? ", " : "", reg->role[i]->host);
	slash = reg->file ? strrchr(reg->file, '/') : NULL;
	if (!slash || experiment_file(reg, slash + 1, code, sizeof(code)) < 0)
		snprintf(code, sizeof(code), "%s",
			 reg->file ? reg->file : "the experiment's source");
	fprintf(out, " (their code: %s), on port %d\n# and away with it:\n",
		code, SL_PORT);
	for (int h = SL_NHOSTS - 1; h >= 0; h--)
		fprintf(out, "ip netns del %s\n", t.host[h].netns);
	return 0;
}

static int explain(const struct sl_registry *reg, char **only, int nonly)
{
	int n = 0;

	printf("# %s: %s\n"
	       "# The commands that build what each variant runs in, as you "
	       "would type them.\n"
	       "# A run takes a free slot S and names its namespaces and "
	       "addresses after it\n"
	       "# (socklab-S-client, 198.18.S.2); S is 0 here.\n",
	       reg->id, reg->x->claim);
	for (int v = 0; v < reg->nvariants; v++) {
		if (!selected(reg->variant[v]->name, only, nonly))
			continue;
		n++;
		if (explain_variant(reg, v, stdout) < 0)
			return SL_EXIT_ERROR;
	}
	if (n == 0) {
		fprintf(stderr, "%s: no variant named '%s'\n", reg->id,
			only[0]);
		return SL_EXIT_USAGE;
	}
	return fflush(stdout) == 0 ? 0 : SL_EXIT_ERROR;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "describe", no_argument, NULL, 'd' },
		{ "run", no_argument, NULL, 'r' },
		{ "judge", no_argument, NULL, 'j' },
		{ "explain", no_argument, NULL, 'x' },
		{ "out", required_argument, NULL, 'O' },
		{ "results", required_argument, NULL, 'o' },
		{ "results-fd", required_argument, NULL, 'f' },
		{ "keep", no_argument, NULL, 'k' },
		{ "variant", required_argument, NULL, 'v' },
		{ "step-fd", required_argument, NULL, 's' },
		{ "progress-fd", required_argument, NULL, 'P' },
		{ "family", required_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const struct sl_registry *reg = sl_registry();
	char *only[SL_MAX_VARIANTS], why[1024];
	struct run_args a = { .only = only,
			      .dirfd = -1,
			      .step_fd = -1,
			      .progress_fd = -1,
			      .want4 = 1 };
	int describe = 0, do_run = 0, do_judge = 0, do_explain = 0, c;

	/* Before --describe as before --run: the CLI's catalogue then lists
	 * a badly defined experiment as broken, with this line as the
	 * reason, and never runs it. */
	if (sl_registry_check(reg, why, sizeof(why))) {
		fprintf(stderr, "%s: %s\n", reg->id ? reg->id : argv[0], why);
		return SL_EXIT_ERROR;
	}
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			describe = 1;
			break;
		case 'r':
			do_run = 1;
			break;
		case 'j':
			do_judge = 1;
			break;
		case 'x':
			do_explain = 1;
			break;
		case 'O':
			a.out = optarg;
			break;
		case 'o':
			a.dir = optarg;
			break;
		case 'f':
			a.fdarg = optarg;
			break;
		case 'k':
			a.keep = 1;
			break;
		case 's':
			a.step_fd = open_channel(reg->id, "--step-fd", optarg);
			if (a.step_fd < 0)
				return SL_EXIT_USAGE;
			break;
		case 'P':
			a.progress_fd =
				open_channel(reg->id, "--progress-fd", optarg);
			if (a.progress_fd < 0)
				return SL_EXIT_USAGE;
			break;
		case 'v':
			if (a.nonly < SL_MAX_VARIANTS)
				only[a.nonly++] = optarg;
			break;
		case 'F':
			a.want4 = !strcmp(optarg, "4") ||
				  !strcmp(optarg, "all");
			a.want6 = !strcmp(optarg, "6") ||
				  !strcmp(optarg, "all");
			if (!a.want4 && !a.want6) {
				fprintf(stderr,
					"%s: --family %s: 4, 6 or all\n",
					reg->id, optarg);
				return SL_EXIT_USAGE;
			}
			break;
		case 'h':
			usage(stdout, argv[0]);
			return 0;
		default:
			usage(stderr, argv[0]);
			return SL_EXIT_USAGE;
		}
	}
	if (describe) {
		sl_report_describe(stdout, reg);
		return 0;
	}
	if (do_explain && !do_run && !do_judge && !a.dir && !a.out && !a.keep &&
	    !a.fdarg && optind == argc)
		return explain(reg, only, a.nonly);
	/* --out and --judge go together, as --keep and --results-fd go with
	 * --run. */
	if (do_run + do_judge != 1 || !a.dir || optind != argc ||
	    (do_judge && (a.keep || a.fdarg)) || (do_run && a.out)) {
		usage(stderr, argv[0]);
		return SL_EXIT_USAGE;
	}
	return do_judge ? judge(reg, &a) : run(reg, &a);
}
