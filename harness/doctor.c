/* doctor.c: `socklab doctor`, what this machine supports.
 *
 * Each capability is tried for real, not guessed from version numbers: a
 * kernel may be new enough for netem and still have been built without it
 * (this project's own build machines are).  The probes that change anything
 * do it inside a scratch namespace, socklab-doctor-<pid>, so the machine's
 * own interfaces, qdiscs and firewall are never touched; that namespace is
 * removed on every way out, Ctrl-C included, and `socklab clean` removes it
 * if the doctor was killed outright.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pace.h"
#include "catalog.h"
#include "cli.h"
#include "err.h"
#include "exec.h"
#include "json.h"
#include "linkemu.h"
#include "netns.h"
#include "report.h"
#include "sockstate.h"
#include "sweep.h"
#include "topology.h"
#include "trace.h"
#include "trace_instance.h"
#include "vm.h"

#define MAX_CHECKS 24

struct check {
	const char *name;
	int ok;
	char detail[512];
};

struct doctor {
	struct check c[MAX_CHECKS];
	int n;
	char netns[64];
	int netns_made;
};

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	interrupted = sig;
}

static struct check *add(struct doctor *d, const char *name, int ok,
			 const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static struct check *add(struct doctor *d, const char *name, int ok,
			 const char *fmt, ...)
{
	struct check *c = &d->c[d->n < MAX_CHECKS ? d->n++ : MAX_CHECKS - 1];
	va_list ap;

	c->name = name;
	c->ok = ok;
	va_start(ap, fmt);
	vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
	va_end(ap);
	return c;
}

/* sl_exec() says "'<command>' failed (status N): <its stderr>"; the
 * command is ours and long, the tool's own words are the news. */
static const char *tool_words(const struct sl_err *e)
{
	const char *p = strstr(e->msg, "' failed (status ");

	if (p)
		p = strstr(p, "): ");
	if (p && p[3])
		return p + 3;
	return e->msg;
}

/* Runs argv inside the scratch namespace. */
static int in_ns(struct doctor *d, const char *const cmd[], struct sl_err *e)
{
	const char *argv[24] = { "ip", "netns", "exec", d->netns };
	int n = 4;

	for (int i = 0; cmd[i] && n < 23; i++)
		argv[n++] = cmd[i];
	argv[n] = NULL;
	return sl_exec(argv, e);
}

static void check_root(struct doctor *d)
{
	uid_t uid = geteuid();

	if (uid == 0)
		add(d, "root", 1, "running as uid 0");
	else
		add(d, "root", 0,
		    "running as uid %d: namespaces and captures "
		    "need root; try sudo",
		    (int)uid);
}

/* unshare() in a child of our own, so that this process stays in the
 * machine's namespace whatever happens. */
static void check_netns(struct doctor *d)
{
	int status;
	pid_t pid = fork();

	if (pid < 0) {
		add(d, "network namespaces", 0, "fork: %s", strerror(errno));
		return;
	}
	if (pid == 0)
		_exit(unshare(CLONE_NEWNET) < 0 ? errno : 0);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			add(d, "network namespaces", 0, "wait: %s",
			    strerror(errno));
			return;
		}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		add(d, "network namespaces", 1, "unshare(CLONE_NEWNET) works");
	else if (WIFEXITED(status))
		add(d, "network namespaces", 0, "unshare(CLONE_NEWNET): %s",
		    strerror(WEXITSTATUS(status)));
	else
		add(d, "network namespaces", 0, "the probe process died");
}

static int make_scratch(struct doctor *d, struct sl_err *e)
{
	const char *argv[] = { "ip", "netns", "add", d->netns, NULL };

	/* Marked before the attempt: an interrupted `ip netns add` may have
	 * got as far as the mount point, and removing what does not exist
	 * is harmless. */
	d->netns_made = 1;
	return sl_exec(argv, e);
}

static void remove_scratch(struct doctor *d)
{
	const char *argv[] = { "ip", "netns", "delete", d->netns, NULL };
	struct sigaction ign = { .sa_handler = SIG_IGN },
			 old[CLI_NSTOP_SIGNALS];
	struct sl_err e;
	char path[128];

	if (!d->netns_made)
		return;
	/* A second Ctrl-C must not stop the removal halfway: ignore it here,
	 * and in the `ip` we start (ignored signals stay ignored across
	 * exec), since the terminal sends it to that process too. */
	for (int i = 0; i < CLI_NSTOP_SIGNALS; i++)
		sigaction(cli_stop_signals[i], &ign, &old[i]);
	snprintf(path, sizeof(path), "/run/netns/%s", d->netns);
	if (access(path, F_OK) == 0 && sl_exec(argv, &e))
		fprintf(stderr, "socklab: doctor: %s\n", e.msg);
	d->netns_made = 0;
	for (int i = 0; i < CLI_NSTOP_SIGNALS; i++)
		sigaction(cli_stop_signals[i], &old[i], NULL);
}

/* Which backend serves delay, loss and reorder here, and, on a line of
 * its own, how late the link emulator's timer fires on this machine now: a
 * delay is only as good as its timer, and a busy or virtual machine can
 * make it worse than the bound the experiments assume (linkemu.h, which
 * also has the figures measured where socklab was built).  Each fits one
 * line of the text. */
static void check_linkemu(struct doctor *d)
{
	struct sl_linkemu_timer_error te;
	const char *backend;
	struct sl_err e;
	int netem = 0, nfq = 0;

	for (int i = 0; i < d->n; i++) {
		netem |= !strcmp(d->c[i].name, "sch_netem") && d->c[i].ok;
		nfq |= !strcmp(d->c[i].name, "NFQUEUE") && d->c[i].ok;
	}
	backend = netem ? "tc netem; one-shot drops: socklab's own (NFQUEUE)" :
		  nfq	? "socklab's own: NFQUEUE in the router, timerfd "
			  "(no sch_netem)" :
			  "none: neither sch_netem nor NFQUEUE works";
	add(d, "link emulator", netem || nfq, "%s", backend);
	if (sl_linkemu_measure_timer(200, &te, &e) < 0) {
		add(d, "emulator timer", 0, "not measured: %s", e.msg);
		return;
	}
	add(d, "emulator timer", te.p99_us <= SL_LINKEMU_BOUND_MS * 1000.0,
	    "late by p50 %.2f, p99 %.2f, max %.2f ms (bound %d ms; %s)",
	    te.median_us / 1000, te.p99_us / 1000, te.max_us / 1000,
	    SL_LINKEMU_BOUND_MS, te.fifo ? "SCHED_FIFO" : "SCHED_OTHER");
}

/* Where the experiments are, and how many executables the folder holds
 * (none is started: `socklab list` asks each what it is). */
static void check_experiments(struct doctor *d)
{
	char dir[PATH_MAX];
	struct dirent *de;
	struct sl_err e;
	int from_env, n = 0;
	DIR *dp;

	if (cli_catalog_dir(dir, sizeof(dir), &from_env, &e) < 0) {
		add(d, "experiments", 0, "%s", e.msg);
		return;
	}
	dp = opendir(dir);
	if (!dp) {
		add(d, "experiments", 0, "%s: %s", dir, strerror(errno));
		return;
	}
	while ((de = readdir(dp))) {
		struct stat st;

		if (de->d_name[0] != '.' &&
		    fstatat(dirfd(dp), de->d_name, &st, 0) == 0 &&
		    S_ISREG(st.st_mode) && (st.st_mode & S_IXUSR))
			n++;
	}
	closedir(dp);
	add(d, "experiments", n > 0, "%d in %s (%s)", n, dir,
	    from_env ? "SOCKLAB_EXPERIMENTS_DIR" : "beside socklab");
}

/* The kernel that runs the experiments: what every verdict is about. */
static void check_kernel(struct doctor *d)
{
	struct utsname u;

	if (uname(&u) < 0)
		add(d, "kernel", 0, "uname: %s", strerror(errno));
	else
		add(d, "kernel", 1, "%s (uname -r), %s", u.release, u.machine);
}

/* Whether this is a guest of `socklab vm`, and on which accelerator;
 * otherwise, which one `socklab vm` would give its guests here (vm.h has
 * the rule and why it is not merely "/dev/kvm opens"). */
static void check_vm(struct doctor *d)
{
	const char *guest = sl_vm_guest_accel(), *accel;
	int tools;
	char why[256];

	if (guest) {
		add(d, "vm", 1, "this is a QEMU guest of socklab vm, on %s",
		    strcmp(guest, "kvm") ? "TCG (emulated: timings are slow)" :
					   "KVM");
		return;
	}
	accel = sl_vm_accel("/dev/kvm", "/sys/module", why, sizeof(why));
	tools = sl_exec_where("qemu-system-x86_64") && sl_exec_where("busybox");
	add(d, "vm", tools, "socklab vm runs guests on %s (%s)%s",
	    strcmp(accel, "kvm") ? "TCG" : "KVM", why,
	    tools ? "" : "; no qemu-system-x86_64 or busybox here (make deps)");
}

/* The pace probe (pace.h): what `socklab vm` compares a guest with, and
 * the factor deadlines are stretched by here. */
static void check_pace(struct doctor *d)
{
	int64_t ns = sl_pace_probe();

	if (ns < 0)
		add(d, "pace", 0, "the probe failed: %s", strerror((int)-ns));
	else
		add(d, "pace", 1,
		    "the pace probe takes %.1f ms here; deadlines x %.2f (%s)",
		    ns / 1e6, sl_time_scale(),
		    getenv(SL_TIME_SCALE_ENV) ? SL_TIME_SCALE_ENV :
						"as written");
}

static int64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Median CPU time of 51 dumps of the calling thread's namespace, in ns;
 * -1 when it cannot dump. */
static int64_t median_dump_ns(void)
{
	struct sl_sockdiag *d;
	struct sl_sock v[8];
	struct sl_err e;
	int64_t c[51];
	int n;

	if (sl_sockdiag_open(&d, -1, &e) < 0)
		return -1;
	for (int i = 0; i < 51; i++) {
		int64_t t0 = thread_cpu_ns();

		if (sl_sockdiag_dump(d, v, 8, &n, &e) < 0) {
			sl_sockdiag_close(d);
			return -1;
		}
		c[i] = thread_cpu_ns() - t0;
	}
	sl_sockdiag_close(d);
	qsort(c, 51, sizeof(c[0]), cmp_i64);
	return c[25];
}

static long read_long(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = 0;

	if (!f)
		return 0;
	if (fscanf(f, "%ld", &v) != 1)
		v = 0;
	fclose(f);
	return v;
}

/* What `socklab doctor` says about the hosts' own TCP hash tables
 * (private_ehash() in lib/topology.c), tried for real in a child of its
 * own, which takes the namespaces with it: a "mother" namespace (sharing
 * the machine's table), and one made from inside it as sl_topology_up()
 * makes the hosts.  Returns 1 when runs can observe sockets (always, at
 * worst more slowly), 0 when it could not be tried. */
static int sampling(char *detail, size_t n)
{
	int64_t r[4] = { -1, -1, -1, -1 }; /* shared ns, private ns,
						 * machine's size, private */
	int pfd[2], status;
	pid_t pid;
	char v[16];

	if (pipe(pfd) < 0) {
		snprintf(detail, n, "pipe: %s", strerror(errno));
		return 0;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(detail, n, "fork: %s", strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		return 0;
	}
	if (pid == 0) {
		close(pfd[0]);
		snprintf(v, sizeof(v), "%d", SL_EHASH_ENTRIES);
		if (unshare(CLONE_NEWNET) == 0) {
			r[0] = median_dump_ns();
			r[2] = -read_long(
				"/proc/sys/net/ipv4/tcp_ehash_entries");
			if (sl_netns_write_sysctl(
				    "net.ipv4.tcp_child_ehash_entries", v) ==
				    0 &&
			    unshare(CLONE_NEWNET) == 0) {
				r[1] = median_dump_ns();
				r[3] = read_long("/proc/sys/net/ipv4/"
						 "tcp_ehash_entries");
			}
		}
		_exit(write(pfd[1], r, sizeof(r)) == sizeof(r) ? 0 : 1);
	}
	close(pfd[1]);
	if (read(pfd[0], r, sizeof(r)) != sizeof(r))
		r[0] = -1;
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (r[0] < 0) {
		snprintf(detail, n, "could not make a namespace to try it in");
		return 0;
	}
	if (r[1] < 0 || r[3] != SL_EHASH_ENTRIES) {
		snprintf(detail, n,
			 "no net.ipv4.tcp_child_ehash_entries here "
			 "(before 6.1): the hosts share the machine's TCP hash "
			 "table, a sock_diag dump costs %.0f us of CPU; "
			 "observation is only slower, nothing is judged by it",
			 r[0] / 1e3);
		return 1;
	}
	snprintf(detail, n,
		 "the hosts get a TCP hash table of their own "
		 "(%d buckets, made from inside the router): a sock_diag dump "
		 "costs %.0f us of CPU here, against %.0f us with the "
		 "machine's %lld; nothing is judged by it",
		 SL_EHASH_ENTRIES, r[1] / 1e3, r[0] / 1e3, (long long)r[2]);
	return 1;
}

static void check_sampling(struct doctor *d)
{
	char detail[512];
	int ok = sampling(detail, sizeof(detail));

	add(d, "socket sampling", ok, "%s", detail);
}

static void check_tracefs(struct doctor *d)
{
	char detail[512];
	int ok = sl_trace_doctor(detail, sizeof(detail));

	add(d, "tracefs", ok, "%s", detail);
}

static void check_in_ns(struct doctor *d, const char *name,
			const char *const cmd[], const char *yes,
			const char *if_not)
{
	struct sl_err e;

	if (in_ns(d, cmd, &e))
		add(d, name, 0, "%s%s", tool_words(&e), if_not);
	else
		add(d, name, 1, "%s", yes);
}

static void check_probes(struct doctor *d, int have_ns)
{
	static const char *const veth[] = { "ip",      "link", "add",
					    "sl-doc0", "type", "veth",
					    "peer",    "name", "sl-doc1",
					    NULL };
	static const char *const netem[] = { "tc",  "qdisc", "add",   "dev",
					     "lo",  "root",  "netem", "delay",
					     "1ms", NULL };
	static const char *const nft[] = { "nft",  "add",	    "table",
					   "inet", "socklab_probe", NULL };
	static const char *const nfq_add[] = { "iptables", "-A",
					       "OUTPUT",   "-j",
					       "NFQUEUE",  "--queue-num",
					       "0",	   NULL };
	static const char *const nfq_del[] = { "iptables", "-D",
					       "OUTPUT",   "-j",
					       "NFQUEUE",  "--queue-num",
					       "0",	   NULL };
	static const char *const names[] = { "veth", "sch_netem", "nftables",
					     "NFQUEUE" };
	struct sl_err e;

	if (!have_ns || make_scratch(d, &e)) {
		const char *why = have_ns ? tool_words(&e) :
					    "needs root and network namespaces";

		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			add(d, names[i], 0, "not tried: %s", why);
		return;
	}
	check_in_ns(d, "veth", veth,
		    "created a veth pair in a scratch "
		    "namespace",
		    "");
	if (interrupted)
		return;
	check_in_ns(d, "sch_netem", netem, "tc qdisc netem works",
		    " (faults then run on socklab's own link emulator, "
		    "through NFQUEUE)");
	if (interrupted)
		return;
	check_in_ns(d, "nftables", nft, "nft add table works", "");
	if (interrupted)
		return;
	check_in_ns(d, "NFQUEUE", nfq_add, "iptables -j NFQUEUE works", "");
	/* The namespace goes anyway; deleting the rule first checks that
	 * the rule we think we added is really there. */
	if (d->c[d->n - 1].ok && in_ns(d, nfq_del, &e)) {
		struct check *c = &d->c[d->n - 1];

		c->ok = 0;
		snprintf(c->detail, sizeof(c->detail),
			 "rule added but not deleted: %.200s", tool_words(&e));
	}
}

/* Where socklab runs name from: SL_EXEC_PATH, never the caller's PATH
 * (lib/exec.h). */
static void check_tool(struct doctor *d, const char *name)
{
	const char *path = sl_exec_where(name);

	if (path)
		add(d, name, 1, "%s (run from there, never through PATH)",
		    path);
	else
		add(d, name, 0, "not in %s (make deps installs it)",
		    SL_EXEC_PATH);
}

/* Lines of at most TEXT_COLUMNS: a detail goes on under itself, broken
 * at spaces (a word longer than a line, at the line's end). */
#define TEXT_COLUMNS 100
#define TEXT_INDENT 25 /* "%-19s %-3s  " */

static void print_text(const struct doctor *d)
{
	for (int i = 0; i < d->n; i++) {
		const char *p = d->c[i].detail;
		int room = TEXT_COLUMNS - TEXT_INDENT;

		printf("%-19s %-3s  ", d->c[i].name, d->c[i].ok ? "yes" : "no");
		while ((int)strlen(p) > room) {
			int cut = room;

			while (cut > 0 && p[cut] != ' ')
				cut--;
			if (cut == 0)
				cut = room;
			printf("%.*s\n%*s", cut, p, TEXT_INDENT, "");
			p += cut + (p[cut] == ' ');
		}
		printf("%s\n", p);
	}
}

/* {"ok":..,"checks":[{"name":..,"ok":..,"detail":..},...]}, through
 * jansson as every JSON socklab writes. */
static void print_json(const struct doctor *d, int ok)
{
	json_t *checks = json_array();

	for (int i = 0; checks && i < d->n; i++)
		json_array_append_new(checks,
				      json_pack("{s:o, s:b, s:o}", "name",
						sl_json_text(d->c[i].name),
						"ok", d->c[i].ok, "detail",
						sl_json_text(d->c[i].detail)));
	if (sl_json_line(stdout, json_pack("{s:b, s:o}", "ok", ok, "checks",
					   checks)) < 0)
		fprintf(stderr, "socklab: doctor: writing JSON: out of "
				"memory\n");
}

static int essential_ok(const struct doctor *d)
{
	static const char *const need[] = { "root", "network namespaces",
					    "veth" };
	int ok = 0;

	for (int i = 0; i < d->n; i++)
		for (size_t k = 0; k < sizeof(need) / sizeof(need[0]); k++)
			ok += !strcmp(d->c[i].name, need[k]) && d->c[i].ok;
	return ok == 3;
}

int cli_cmd_doctor(int argc, char **argv)
{
	static const char *const tools[] = { "tcpdump",	 "ss",	"ethtool",
					     "iptables", "nft", "ip",
					     "tc" };
	struct sigaction sa = { .sa_handler = on_signal };
	struct doctor d = { .n = 0 };
	int json = 0, c, ok;

	c = cli_parse_json_only("doctor", argc, argv, &json);
	if (c >= 0)
		return c;
	snprintf(d.netns, sizeof(d.netns), SL_DOCTOR_NETNS_PREFIX "%d",
		 (int)getpid());
	/* No SA_RESTART: a signal only sets the flag, the probe under way
	 * finishes (or fails, as the terminal interrupts it too), and the
	 * scratch namespace is removed on the way out below. */
	sigemptyset(&sa.sa_mask);
	for (int i = 0; i < CLI_NSTOP_SIGNALS; i++)
		sigaction(cli_stop_signals[i], &sa, NULL);

	check_kernel(&d);
	check_root(&d);
	check_netns(&d);
	if (!interrupted)
		check_probes(&d, d.c[1].ok && d.c[2].ok);
	remove_scratch(&d);
	if (!interrupted) {
		check_linkemu(&d);
		check_sampling(&d);
		check_tracefs(&d);
	}
	if (interrupted) {
		fprintf(stderr, "socklab: doctor: interrupted by %s\n",
			cli_signal_name(interrupted));
		return 128 + interrupted;
	}
	for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++)
		check_tool(&d, tools[i]);
	check_experiments(&d);
	check_vm(&d);
	check_pace(&d);

	ok = essential_ok(&d);
	if (json)
		print_json(&d, ok);
	else
		print_text(&d);
	return ok ? 0 : 1;
}
