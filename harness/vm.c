/* vm.c: `socklab vm`, the catalogue on another kernel in a QEMU guest.
 *
 *   socklab vm --kernel <debian:X.Y | linux-image .deb | vmlinuz
 *                        --modules DIR> [--] <socklab arguments>
 *
 * The kernel and the initramfs come from lib/vm_*.c; this file boots
 * QEMU and watches it.  QEMU's three serial ports are pipes this process
 * reads: the console (written to the console log, and scanned for the
 * lines the guest's /init writes: ready, and socklab's exit status),
 * socklab's standard output and its standard error (copied to ours as
 * they come).  The results folder is shared writable at its own path, so
 * the run's folder appears on the host as any run's does.
 *
 * The special problem of tearing down: QEMU must not outlive us, and we
 * may be ended at any moment.  The stop signals and SIGCHLD are blocked
 * and read from a signalfd in the same loop as the pipes, so a signal is
 * handled between two reads, never inside one; QEMU gets SIGKILL by its
 * PID on every way out (there is nothing in the guest worth saving once
 * we stop listening), and PR_SET_PDEATHSIG kills it should we be killed
 * outright.  The temporary folder (initramfs, console log) goes on every
 * way out but that one, after which `socklab clean` removes it
 * (lib/vm_sweep.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pace.h"
#include "cli.h"
#include "err.h"
#include "exec.h"
#include "help.h"
#include "json.h"
#include "report.h"
#include "vm.h"

struct vm_opts {
	const char *kernel;
	const char *modules;
	const char *accel;
	const char *log;
	int exec; /* the words are a program and its arguments */
	long cpus, memory_mb, boot_timeout_s, timeout_s;
};

/* The state of one guest, for the loop and the teardown. */
struct vm {
	char tmp[PATH_MAX];
	char initrd[PATH_MAX];
	char conlog[PATH_MAX];
	pid_t qemu;
	int sfd;
	FILE *log;
	char line[512]; /* the console line being read */
	size_t linelen;
	int ready, exit_status;
	double ready_uptime;
	char last[8][256]; /* the console's last lines, for a failure */
	int nlast;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A line of the console: remembered, and read for the guest's news. */
static void console_line(struct vm *v)
{
	v->line[v->linelen] = '\0';
	v->line[strcspn(v->line, "\r")] = '\0';
	snprintf(v->last[v->nlast % 8], sizeof(v->last[0]), "%s", v->line);
	v->nlast++;
	if (!strncmp(v->line, SL_VM_READY_LINE, strlen(SL_VM_READY_LINE))) {
		v->ready = 1;
		v->ready_uptime =
			strtod(v->line + strlen(SL_VM_READY_LINE), NULL);
	} else if (!strncmp(v->line, SL_VM_EXIT_LINE,
			    strlen(SL_VM_EXIT_LINE))) {
		long st;

		if (cli_parse_int(v->line + strlen(SL_VM_EXIT_LINE), 0, 255,
				  &st) == 0)
			v->exit_status = (int)st;
	}
	v->linelen = 0;
}

static void console_data(struct vm *v, const char *buf, size_t n)
{
	if (v->log)
		fwrite(buf, 1, n, v->log);
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			console_line(v);
			continue;
		}
		if (v->linelen < sizeof(v->line) - 1)
			v->line[v->linelen++] = buf[i];
	}
}

static int write_all(int fd, const char *buf, size_t n)
{
	while (n) {
		ssize_t w = write(fd, buf, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The results folder of `socklab run` (--results, or results/ in the
 * current folder), made if missing, as an absolute path; NULL in res
 * for another command. */
static int results_dir(int argc, char **argv, char *res, size_t n,
		       struct sl_err *e)
{
	const char *base = "results";
	char abs[PATH_MAX];

	res[0] = '\0';
	if (argc < 1 || strcmp(argv[0], "run"))
		return 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--results") && i + 1 < argc)
			base = argv[i + 1];
		else if (!strncmp(argv[i], "--results=", 10))
			base = argv[i] + 10;
	}
	if (mkdir(base, 0700) < 0 && errno != EEXIST)
		return sl_errf(e, errno, "create results folder %s", base);
	if (!realpath(base, abs))
		return sl_errf(e, errno, "results folder %s", base);
	snprintf(res, n, "%s", abs);
	return 0;
}

static int resolve_kernel(const struct vm_opts *o, struct sl_vm_kernel *k,
			  struct sl_err *e)
{
	char deb[PATH_MAX];
	size_t l = strlen(o->kernel);
	int rc;

	if (!strncmp(o->kernel, "debian:", 7)) {
		rc = sl_vm_debian_fetch(o->kernel, SL_VM_CACHE_DIR, deb,
					sizeof(deb), e);
		if (rc < 0)
			return rc;
		return sl_vm_kernel_from_deb(deb, SL_VM_CACHE_DIR, k, e);
	}
	if (l > 4 && !strcmp(o->kernel + l - 4, ".deb"))
		return sl_vm_kernel_from_deb(o->kernel, SL_VM_CACHE_DIR, k, e);
	if (!o->modules)
		return sl_errf(e, EINVAL,
			       "kernel image %s: --modules DIR is needed "
			       "with an image",
			       o->kernel);
	return sl_vm_kernel_from_image(o->kernel, o->modules, k, e);
}

/* Removes what the guest's run made on the host, QEMU first. */
static void teardown(struct vm *v)
{
	if (v->qemu > 0) {
		kill(v->qemu, SIGKILL);
		while (waitpid(v->qemu, NULL, 0) < 0 && errno == EINTR)
			;
		v->qemu = 0;
	}
	if (v->log) {
		fclose(v->log);
		v->log = NULL;
	}
	if (v->initrd[0])
		unlink(v->initrd);
	if (v->conlog[0] && strncmp(v->conlog, v->tmp, strlen(v->tmp)) == 0)
		unlink(v->conlog);
	if (v->tmp[0])
		rmdir(v->tmp);
	if (v->sfd >= 0)
		close(v->sfd);
	v->sfd = -1;
}

/* The run folder the guest made: results/latest's target, when it
 * changed during the guest's run. */
static void latest(const char *res, char *out, size_t n)
{
	char link[PATH_MAX];
	ssize_t l;

	out[0] = '\0';
	if (!res[0])
		return;
	snprintf(link, sizeof(link), "%s/latest", res);
	l = readlink(link, out, n - 1);
	out[l > 0 ? l : 0] = '\0';
}

/* What the host knows of the guest, beside the run's own records:
 * results/<run>/vm.json, and the console log as vm-console.txt. */
static void record(const struct vm *v, const char *res, const char *run,
		   const struct vm_opts *o, const struct sl_vm_kernel *k,
		   const char *accel, double boot_s, double wall_s)
{
	char path[PATH_MAX], buf[8192];
	FILE *f;
	int in, out;
	ssize_t r;

	snprintf(path, sizeof(path), "%s/%s/vm.json", res, run);
	f = fopen(path, "wxe");
	if (f) {
		fchmod(fileno(f), 0600);
		sl_json_line(f, json_pack("{s:s,s:s,s:s,s:s,s:i,s:i,s:f,s:f,"
					  "s:f}",
					  "vmm", "qemu", "accel", accel,
					  "kernel", o->kernel, "release",
					  k->release, "cpus", (int)o->cpus,
					  "memory_mb", (int)o->memory_mb,
					  "boot_s", boot_s, "guest_boot_s",
					  v->ready_uptime, "wall_s", wall_s));
		fclose(f);
	}
	snprintf(path, sizeof(path), "%s/%s/vm-console.txt", res, run);
	in = open(v->conlog, O_RDONLY | O_CLOEXEC);
	out = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	while (in >= 0 && out >= 0 && (r = read(in, buf, sizeof(buf))) > 0)
		if (write_all(out, buf, (size_t)r) < 0)
			break;
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
}

static int parse(int argc, char **argv, struct vm_opts *o)
{
	static const struct option opts[] = {
		{ "kernel", required_argument, NULL, 'k' },
		{ "modules", required_argument, NULL, 'm' },
		{ "accel", required_argument, NULL, 'a' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "memory", required_argument, NULL, 'M' },
		{ "boot-timeout", required_argument, NULL, 'b' },
		{ "timeout", required_argument, NULL, 't' },
		{ "log", required_argument, NULL, 'l' },
		{ "exec", no_argument, NULL, 'x' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opterr = 0;
	/* '+': the first word that is not ours begins socklab's own. */
	while ((c = getopt_long(argc, argv, "+:hk:", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			o->kernel = optarg;
			break;
		case 'm':
			o->modules = optarg;
			break;
		case 'a':
			if (strcmp(optarg, "auto") && strcmp(optarg, "kvm") &&
			    strcmp(optarg, "tcg"))
				return cli_usage_error("vm",
						       "--accel: auto, kvm or "
						       "tcg, not '%s'",
						       optarg);
			o->accel = optarg;
			break;
		case 'c':
			if (cli_parse_int(optarg, 1, 64, &o->cpus) < 0)
				return cli_usage_error("vm",
						       "--cpus: 1 to 64, not "
						       "'%s'",
						       optarg);
			break;
		case 'M':
			if (cli_parse_int(optarg, 256, 65536, &o->memory_mb) <
			    0)
				return cli_usage_error("vm",
						       "--memory: 256 to "
						       "65536 (MiB), not '%s'",
						       optarg);
			break;
		case 'b':
			if (cli_parse_int(optarg, 0, 86400,
					  &o->boot_timeout_s) < 0)
				return cli_usage_error("vm",
						       "--boot-timeout: 0 to "
						       "86400 s, not '%s'",
						       optarg);
			break;
		case 't':
			if (cli_parse_int(optarg, 0, 864000, &o->timeout_s) < 0)
				return cli_usage_error("vm",
						       "--timeout: 0 to "
						       "864000 s, not '%s'",
						       optarg);
			break;
		case 'l':
			o->log = optarg;
			break;
		case 'x':
			o->exec = 1;
			break;
		case 'h':
			cli_help_text(stdout, cli_help_find("vm"));
			return 0;
		default:
			return cli_getopt_error("vm", c, argv);
		}
	}
	if (!o->kernel)
		return cli_usage_error("vm", "--kernel is needed");
	if (optind < argc && !strcmp(argv[optind], "--"))
		optind++;
	if (optind >= argc)
		return cli_usage_error("vm", "no socklab command to run in the "
					     "guest (e.g. -- run --all)");
	if (!o->exec && !strcmp(argv[optind], "vm"))
		return cli_usage_error("vm", "a guest does not start guests");
	return -1;
}

/* QEMU's command line.  Its serial ports are the pipes at fds 3, 4 and
 * 5 of the child; /dev/fd/N opens the same pipe, and append=on keeps
 * QEMU from truncating what may be a file. */
static void qemu_argv(const char **a, char (*buf)[PATH_MAX + 128],
		      const struct vm_opts *o, const struct sl_vm_kernel *k,
		      const char *initrd, const char *res, const char *accel)
{
	static const char qboot[] = "/usr/share/qemu/qboot.rom";
	struct stat st;
	int n = 0, b = 0;

	a[n++] = "qemu-system-x86_64";
	a[n++] = "-nodefaults";
	a[n++] = "-no-user-config";
	a[n++] = "-display";
	a[n++] = "none";
	a[n++] = "-no-reboot";
	/* qboot, where it is installed, boots a -kernel seconds sooner than
	 * SeaBIOS under TCG. */
	if (stat(qboot, &st) == 0) {
		a[n++] = "-bios";
		a[n++] = qboot;
	}
	a[n++] = "-accel";
	a[n++] = !strcmp(accel, "kvm") ? "kvm" : "tcg,thread=multi";
	if (!strcmp(accel, "kvm")) {
		a[n++] = "-cpu";
		a[n++] = "host";
	}
	snprintf(buf[b], sizeof(buf[b]), "%ld", o->cpus);
	a[n++] = "-smp";
	a[n++] = buf[b++];
	snprintf(buf[b], sizeof(buf[b]), "%ld", o->memory_mb);
	a[n++] = "-m";
	a[n++] = buf[b++];
	a[n++] = "-kernel";
	a[n++] = k->vmlinuz;
	a[n++] = "-initrd";
	a[n++] = initrd;
	a[n++] = "-append";
	a[n++] = "console=ttyS0 panic=-1 oops=panic quiet loglevel=4";
	a[n++] = "-fsdev";
	a[n++] = "local,id=root,path=/,security_model=none,readonly=on,"
		 "multidevs=remap";
	a[n++] = "-device";
	a[n++] = "virtio-9p-pci,fsdev=root,mount_tag=root";
	/* QEMU splits its options at commas, and reads ",," as one. */
	snprintf(buf[b], sizeof(buf[b]),
		 "local,id=modules,path=%s,security_model=none,readonly=on",
		 k->modules);
	a[n++] = "-fsdev";
	a[n++] = buf[b++];
	a[n++] = "-device";
	a[n++] = "virtio-9p-pci,fsdev=modules,mount_tag=modules";
	if (res[0]) {
		snprintf(buf[b], sizeof(buf[b]),
			 "local,id=results,path=%s,security_model=passthrough,"
			 "multidevs=remap",
			 res);
		a[n++] = "-fsdev";
		a[n++] = buf[b++];
		a[n++] = "-device";
		a[n++] = "virtio-9p-pci,fsdev=results,mount_tag=results";
	}
	for (int i = 0; i < 3; i++) {
		snprintf(buf[b], sizeof(buf[b]),
			 "file,id=s%d,path=/dev/fd/%d,append=on", i, 3 + i);
		a[n++] = "-chardev";
		a[n++] = buf[b++];
		snprintf(buf[b], sizeof(buf[b]), "chardev:s%d", i);
		a[n++] = "-serial";
		a[n++] = buf[b++];
	}
	a[n] = NULL;
}

static int has_comma(const char *s)
{
	return strchr(s, ',') != NULL;
}

int cli_cmd_vm(int argc, char **argv)
{
	/* 3 GiB: every variant of a catalogue run holds its namespaces, four
	 * capture rings and a trace instance at once, which took a 1 GiB
	 * guest's OOM killer to timewait-reuse-server's variants. */
	struct vm_opts o = { .accel = "auto", .cpus = 2, .memory_mb = 3072 };
	struct vm v = { .sfd = -1, .exit_status = -1 };
	char self[PATH_MAX], cwd[PATH_MAX], res[PATH_MAX], why[256] = "";
	char prog[PATH_MAX];
	char before[PATH_MAX], after[PATH_MAX], qbuf[16][PATH_MAX + 128];
	const char *qa[64], *accel, *busybox, *qemu;
	int pipes[4][2] = { { -1, -1 }, { -1, -1 }, { -1, -1 }, { -1, -1 } };
	struct sl_vm_kernel k;
	struct sl_vm_guest g;
	struct sl_err e = { "" };
	sigset_t mask, old;
	double t0 = now_s(), t_ready = 0;
	int rc, status = SL_EXIT_ERROR, open_pipes, sig = 0;
	ssize_t l;

	rc = parse(argc, argv, &o);
	if (rc >= 0)
		return rc;
	rc = cli_need_root("vm", "the guest's experiments need it on the "
				 "host too: QEMU shares the host's root");
	if (rc)
		return rc;
	argc -= optind;
	argv += optind;
	qemu = sl_exec_where("qemu-system-x86_64");
	busybox = sl_exec_where("busybox");
	if (!qemu || !busybox) {
		fprintf(stderr,
			"socklab: vm: %s not in " SL_EXEC_PATH
			" (make deps installs qemu-system-x86 and "
			"busybox-static)\n",
			!qemu ? "qemu-system-x86_64" : "busybox");
		return SL_EXIT_SKIP;
	}
	l = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (l <= 0 || !getcwd(cwd, sizeof(cwd))) {
		fprintf(stderr, "socklab: vm: own path or folder: %s\n",
			strerror(errno));
		return SL_EXIT_ERROR;
	}
	self[l] = '\0';
	if (resolve_kernel(&o, &k, &e) < 0 ||
	    results_dir(o.exec ? 0 : argc, argv, res, sizeof(res), &e) < 0) {
		fprintf(stderr, "socklab: vm: %s\n", e.msg);
		return SL_EXIT_ERROR;
	}
	if (has_comma(k.modules) || has_comma(res)) {
		fprintf(stderr,
			"socklab: vm: %s: a path with a comma cannot be "
			"shared (QEMU's options split at commas)\n",
			has_comma(res) ? res : k.modules);
		return SL_EXIT_ERROR;
	}
	accel = sl_vm_accel("/dev/kvm", "/sys/module", why, sizeof(why));
	if (!strcmp(o.accel, "kvm") || !strcmp(o.accel, "tcg"))
		accel = o.accel;
	latest(res, before, sizeof(before));

	snprintf(v.tmp, sizeof(v.tmp),
		 SL_VM_TMP_DIR "/" SL_VM_TMP_PREFIX "%d-XXXXXX", (int)getpid());
	if (!mkdtemp(v.tmp)) {
		fprintf(stderr, "socklab: vm: create folder %s: %s\n", v.tmp,
			strerror(errno));
		return SL_EXIT_ERROR;
	}
	snprintf(v.initrd, sizeof(v.initrd), "%s/" SL_VM_INITRAMFS, v.tmp);
	if (o.log)
		snprintf(v.conlog, sizeof(v.conlog), "%s", o.log);
	else
		snprintf(v.conlog, sizeof(v.conlog), "%s/" SL_VM_CONSOLE,
			 v.tmp);
	{
		const char *gargv[256];
		int n = 0;

		/* A program of --exec is found as the guest's shell would,
		 * but the guest's PATH is SL_EXEC_PATH: a relative path
		 * is made absolute here, where it was typed. */
		if (o.exec && strchr(argv[0], '/') &&
		    !realpath(argv[0], prog)) {
			fprintf(stderr, "socklab: vm: --exec %s: %s\n", argv[0],
				strerror(errno));
			teardown(&v);
			return SL_EXIT_USAGE;
		}
		gargv[n++] = !o.exec		  ? self :
			     strchr(argv[0], '/') ? prog :
						    argv[0];
		for (int i = o.exec ? 1 : 0; i < argc && n < 255; i++)
			gargv[n++] = argv[i];
		gargv[n] = NULL;
		/* This machine's pace, for the guest to compare its own
		 * with (pace.h). */
		int64_t pace_ns = sl_pace_probe();

		g = (struct sl_vm_guest){ .kernel = &k,
					  .busybox = busybox,
					  .results = res[0] ? res : NULL,
					  .cwd = cwd,
					  .accel = accel,
					  .pace_ref_ns = pace_ns > 0 ? pace_ns :
								       0,
					  .argv = gargv,
					  .out_tty = isatty(STDOUT_FILENO),
					  .err_tty = isatty(STDERR_FILENO) };
		rc = sl_vm_initramfs(v.initrd, &g, &e);
	}
	if (rc < 0) {
		fprintf(stderr, "socklab: vm: %s\n", e.msg);
		v.initrd[0] = '\0';
		teardown(&v);
		return SL_EXIT_ERROR;
	}
	v.log = fopen(v.conlog, "we");
	if (!v.log) {
		fprintf(stderr, "socklab: vm: console log %s: %s\n", v.conlog,
			strerror(errno));
		teardown(&v);
		return SL_EXIT_ERROR;
	}
	qemu_argv(qa, qbuf, &o, &k, v.initrd, res, accel);

	/* Signals are read from the loop from here on: blocked first, so
	 * that none lands between the fork and the signalfd. */
	sigemptyset(&mask);
	for (int i = 0; i < CLI_NSTOP_SIGNALS; i++)
		sigaddset(&mask, cli_stop_signals[i]);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGPIPE);
	sigprocmask(SIG_BLOCK, &mask, &old);
	v.sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	for (int i = 0; i < 4; i++)
		if (pipe2(pipes[i], O_CLOEXEC) < 0)
			v.sfd = v.sfd >= 0 ? (close(v.sfd), -1) : -1;
	if (v.sfd < 0) {
		fprintf(stderr, "socklab: vm: signalfd or pipes: %s\n",
			strerror(errno));
		goto out;
	}
	v.qemu = fork();
	if (v.qemu < 0) {
		fprintf(stderr, "socklab: vm: fork for QEMU: %s\n",
			strerror(errno));
		v.qemu = 0;
		goto out;
	}
	if (v.qemu == 0) {
		int devnull = open("/dev/null", O_RDONLY);

		/* Dies with us, whatever kills us. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() == 1)
			_exit(127);
		sigprocmask(SIG_SETMASK, &old, NULL);
		dup2(devnull, STDIN_FILENO);
		dup2(pipes[3][1], STDOUT_FILENO);
		dup2(pipes[3][1], STDERR_FILENO);
		/* fds 3, 4, 5: the console, socklab's stdout and stderr. */
		/* Through fds no pipe can have, so that no dup2() below
		 * overwrites a pipe still to be moved. */
		for (int i = 0; i < 3; i++)
			dup2(pipes[i][1], 100 + i);
		for (int i = 0; i < 3; i++) {
			dup2(100 + i, 3 + i);
			close(100 + i);
		}
		setenv("PATH", SL_EXEC_PATH, 1);
		execv(qemu, (char *const *)qa);
		fprintf(stderr, "cannot execute %s: %s\n", qemu,
			strerror(errno));
		_exit(127);
	}
	for (int i = 0; i < 4; i++) {
		close(pipes[i][1]);
		pipes[i][1] = -1;
	}

	open_pipes = 4;
	while (open_pipes > 0) {
		struct pollfd p[5];
		double now = now_s(), left;
		int ms = -1, n;

		for (int i = 0; i < 4; i++)
			p[i] = (struct pollfd){ .fd = pipes[i][0],
						.events = POLLIN };
		p[4] = (struct pollfd){ .fd = v.sfd, .events = POLLIN };
		/* The nearer of the two deadlines that apply, if any. */
		left = -2;
		if (!v.ready && o.boot_timeout_s)
			left = t0 + o.boot_timeout_s - now;
		if (o.timeout_s &&
		    (left == -2 || t0 + o.timeout_s - now < left))
			left = t0 + o.timeout_s - now;
		if (left != -2) {
			if (left <= 0) {
				fprintf(stderr,
					"socklab: vm: %s after %.0f s; QEMU "
					"killed\n",
					v.ready ? "the guest's run timed out" :
						  "the guest did not boot",
					now - t0);
				status = SL_EXIT_ERROR;
				sig = -1;
				break;
			}
			ms = (int)(left * 1000) + 1;
		}
		n = poll(p, 5, ms);
		if (n < 0 && errno != EINTR) {
			fprintf(stderr, "socklab: vm: poll: %s\n",
				strerror(errno));
			break;
		}
		if (n <= 0)
			continue;
		if (p[4].revents & POLLIN) {
			struct signalfd_siginfo si;

			while (read(v.sfd, &si, sizeof(si)) == sizeof(si))
				if (si.ssi_signo != SIGCHLD &&
				    si.ssi_signo != SIGPIPE)
					sig = (int)si.ssi_signo;
			if (sig)
				break;
		}
		for (int i = 0; i < 4; i++) {
			char buf[4096];
			ssize_t r;

			if (pipes[i][0] < 0 || !p[i].revents)
				continue;
			r = read(pipes[i][0], buf, sizeof(buf));
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				close(pipes[i][0]);
				pipes[i][0] = -1;
				open_pipes--;
				continue;
			}
			if (i == 0) {
				int was = v.ready;

				console_data(&v, buf, (size_t)r);
				if (!was && v.ready)
					t_ready = now_s();
			} else if (i == 1) {
				write_all(STDOUT_FILENO, buf, (size_t)r);
			} else if (i == 2) {
				write_all(STDERR_FILENO, buf, (size_t)r);
			} else {
				/* QEMU's own words (it has none when all is
				 * well), on our stderr and in the log: when
				 * it cannot start, they are all there is. */
				write_all(STDERR_FILENO, "qemu: ", 6);
				write_all(STDERR_FILENO, buf, (size_t)r);
				if (v.log) {
					fputs("qemu: ", v.log);
					fwrite(buf, 1, (size_t)r, v.log);
				}
			}
		}
	}
	if (v.linelen)
		console_line(&v);
	if (sig > 0) {
		fprintf(stderr, "socklab: vm: interrupted by %s; QEMU killed\n",
			cli_signal_name(sig));
		status = 128 + sig;
	} else if (sig == 0 && v.exit_status >= 0) {
		status = v.exit_status;
	} else {
		/* Ended without socklab's exit status, or killed at a
		 * deadline: what the guest's kernel said last (a hung task,
		 * a 9p error) is what tells why. */
		if (sig == 0)
			fprintf(stderr,
				"socklab: vm: the guest (%s, %s) ended without "
				"socklab's exit status; its console's last "
				"lines:\n",
				k.release, accel);
		else
			fprintf(stderr,
				"socklab: vm: the guest's console's last "
				"lines:\n");
		for (int i = v.nlast > 8 ? v.nlast - 8 : 0; i < v.nlast; i++)
			fprintf(stderr, "  %s\n", v.last[i % 8]);
		if (!v.nlast)
			fprintf(stderr,
				"  (none: QEMU's own words are above)\n");
	}
	if (v.log)
		fflush(v.log);
	latest(res, after, sizeof(after));
	if (v.exit_status >= 0 && after[0] && strcmp(after, before))
		record(&v, res, after, &o, &k, accel,
		       v.ready ? t_ready - t0 : 0, now_s() - t0);
	if (v.exit_status >= 0 || v.ready)
		fprintf(stderr,
			"socklab: vm: %s on %s (%s), booted in %.1f s, "
			"%.1f s in all\n",
			k.release, accel,
			strcmp(o.accel, "auto") ? "forced by --accel" : why,
			v.ready ? t_ready - t0 : 0, now_s() - t0);
out:
	teardown(&v);
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 2; j++)
			if (pipes[i][j] >= 0)
				close(pipes[i][j]);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return status;
}
