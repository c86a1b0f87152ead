/* experiment_main.c: the main() of every experiment executable.
 *
 * It speaks the protocol of protocol.h to the socklab CLI: --describe
 * prints what the experiment is, --run runs every variant, each in a
 * process and a topology of its own and all at once (so a variant that waits
 * out a long timer does not hold up the others), then derives the verdict,
 * judges each variant against what it declared, and writes the results.
 * Either way the experiment's definition is checked first (registry.h).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "protocol.h"
#include "registry.h"
#include "report.h"
#include "run.h"
#include "verdict.h"

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"usage: %s --describe\n"
		"       %s --run --results DIR [--keep] [--variant NAME]...\n"
		"An experiment of socklab: normally run through `socklab run`.\n",
		prog, prog);
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

static int mkdir_p(const char *dir)
{
	char tmp[4096];

	snprintf(tmp, sizeof(tmp), "%s", dir);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Waits for every variant process; SIGINT/SIGTERM is passed on to them
 * (each tears its own topology down) and remembered. */
static int wait_variants(pid_t *pid, int n)
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
			if (pid[i] > 0 && waitpid(pid[i], NULL, WNOHANG) == pid[i]) {
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

static int run(const struct sl_registry *reg, const char *dir, int keep,
	       char **only, int nonly)
{
	struct sl_outcome *out;
	int idx[SL_MAX_VARIANTS], holds[SL_MAX_VARIANTS], error[SL_MAX_VARIANTS];
	int declared[SL_MAX_VARIANTS];
	pid_t pid[SL_MAX_VARIANTS];
	const struct sl__variant_def *vars[SL_MAX_VARIANTS];
	struct sl_registry sub = *reg;
	struct sl_report rep;
	int64_t t0 = sl_now();
	int n = 0, interrupted;
	char path[4096];
	sigset_t set;
	FILE *f;

	for (int v = 0; v < reg->nvariants; v++)
		if (selected(reg->variant[v]->name, only, nonly))
			idx[n++] = v;
	if (n == 0) {
		fprintf(stderr, "%s: no variant named '%s'\n", reg->id, only[0]);
		return SL_EXIT_USAGE;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "%s: needs root (network namespaces, packet "
			"capture)\n", reg->id);
		return SL_EXIT_SKIP;
	}
	if (mkdir_p(dir) < 0) {
		fprintf(stderr, "%s: cannot create results folder '%s': %s\n",
			reg->id, dir, strerror(errno));
		return SL_EXIT_ERROR;
	}
	out = mmap(NULL, n * sizeof(*out), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (out == MAP_FAILED) {
		fprintf(stderr, "%s: map results: %s\n", reg->id, strerror(errno));
		return SL_EXIT_ERROR;
	}
	memset(out, 0, n * sizeof(*out));
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	fflush(NULL);
	for (int i = 0; i < n; i++) {
		const char *name = reg->variant[idx[i]]->name;

		snprintf(path, sizeof(path), "%s/%s", dir, name);
		if (mkdir_p(path) < 0) {
			out[i].error = 1;
			snprintf(out[i].why, sizeof(out[i].why),
				 "create results folder %.300s: %.100s", path,
				 strerror(errno));
			pid[i] = 0;
			continue;
		}
		pid[i] = fork();
		if (pid[i] == 0) {
			struct sl_run_opts opts = { .dir = path, .keep = keep };

			/* A run whose experiment process is killed still
			 * tears its topology down. */
			prctl(PR_SET_PDEATHSIG, SIGTERM);
			sl_run_variant(reg, idx[i], &opts, &out[i]);
			fflush(NULL);
			_exit(0);
		}
		if (pid[i] < 0) {
			out[i].error = 1;
			snprintf(out[i].why, sizeof(out[i].why),
				 "fork variant %s: %s", name, strerror(errno));
			pid[i] = 0;
		}
	}
	interrupted = wait_variants(pid, n);
	for (int i = 0; i < n; i++) {
		if (!out[i].done && !out[i].error) {
			out[i].error = 1;
			snprintf(out[i].why, sizeof(out[i].why),
				 "variant process died before reporting");
		}
		holds[i] = out[i].holds;
		error[i] = out[i].error;
		vars[i] = reg->variant[idx[i]];
		declared[i] = vars[i]->decl.holds;
	}
	for (int i = 0; i < n; i++)
		sub.variant[i] = vars[i];
	sub.nvariants = n;
	rep.reg = &sub;
	rep.out = out;
	rep.n = n;
	rep.verdict = sl_verdict_derive(n, holds, error);
	/* Judged per variant against its declaration, not by comparing
	 * verdicts: with --variant only some run, and their verdict need not
	 * be the experiment's. */
	rep.status = sl_verdict_judge(n, holds, error, declared);
	rep.duration_s = (double)(sl_now() - t0) / SL_NS_PER_SEC;
	rep.dir = dir;

	snprintf(path, sizeof(path), "%s/verdict.json", dir);
	f = fopen(path, "w");
	if (f) {
		sl_report_json(f, &rep);
		fclose(f);
	}
	snprintf(path, sizeof(path), "%s/timeline.txt", dir);
	f = fopen(path, "w");
	if (f) {
		sl_report_text(f, &rep);
		fclose(f);
	}
	sl_report_json(stdout, &rep);
	fflush(stdout);
	munmap(out, n * sizeof(*out));
	if (interrupted || rep.status == SL_STATUS_ERROR)
		return SL_EXIT_ERROR;
	return rep.status == SL_STATUS_PASS ? SL_EXIT_PASS : SL_EXIT_FAIL;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "describe", no_argument, NULL, 'd' },
		{ "run", no_argument, NULL, 'r' },
		{ "results", required_argument, NULL, 'o' },
		{ "keep", no_argument, NULL, 'k' },
		{ "variant", required_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const struct sl_registry *reg = sl_registry();
	const char *dir = NULL;
	char *only[SL_MAX_VARIANTS], why[1024];
	int describe = 0, do_run = 0, keep = 0, nonly = 0, c;

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
		case 'o':
			dir = optarg;
			break;
		case 'k':
			keep = 1;
			break;
		case 'v':
			if (nonly < SL_MAX_VARIANTS)
				only[nonly++] = optarg;
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
	if (!do_run || !dir || optind != argc) {
		usage(stderr, argv[0]);
		return SL_EXIT_USAGE;
	}
	return run(reg, dir, keep, only, nonly);
}
