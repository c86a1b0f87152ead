/* run_cmd.c: the command line of `socklab run` (runner.h).
 *
 * Parses the options, checks the selection against the catalogue before
 * anything is created (a typo must not leave a results folder behind), and
 * hands the runner to run_all().
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pace.h"
#include "cli.h"
#include "err.h"
#include "help.h"
#include "proc.h"
#include "runner.h"
#include "sweep.h"

#define MAX_REPEAT 10000

/* name, or name.ipv6: the variant over IPv6. */
static int has_variant(const struct cli_exp *x, const char *name)
{
	size_t n = strlen(name), k = strlen(".ipv6");

	if (n > k && !strcmp(name + n - k, ".ipv6"))
		n -= k;
	for (int i = 0; i < x->nvariants; i++)
		if (strlen(x->variants[i]) == n &&
		    !strncmp(x->variants[i], name, n))
			return 1;
	return 0;
}

/* One job of experiment x, under name, with --family family (NULL: none
 * given, IPv4). */
static int add_job(struct runner *r, struct cli_exp *x, const char *suffix,
		   const char *family)
{
	char *name;

	if (asprintf(&name, "%s%s", x->id, suffix) < 0) {
		fprintf(stderr, "socklab: run: out of memory\n");
		return SL_EXIT_ERROR;
	}
	run_job_init(&r->job[r->njobs++], r, x, name, family);
	return 0;
}

/* The jobs of experiment x for --family: one, with the family asked for,
 * where x runs on every family asked for; with --family all and x on
 * IPv4 alone, its IPv4 run and a job "<id>.ipv6" that asks for IPv6 only,
 * which the executable answers at once with a skip and the reason (never
 * a pass, and the IPv4 half still runs). */
static int add_jobs(struct runner *r, struct cli_exp *x)
{
	const char *fam = r->family;

	if (!fam || !strcmp(fam, "4"))
		return add_job(r, x, "", NULL);
	if (!strcmp(fam, "6") || x->broken || (x->runs4 && x->runs6))
		return add_job(r, x, "", fam);
	if (x->runs4) {
		int ret = add_job(r, x, "", "4");

		return ret ? ret : add_job(r, x, ".ipv6", "6");
	}
	return add_job(r, x, "", "6");
}

/* The edit distance between a and b (insertions, deletions and
 * substitutions, each 1), as git's and many shells' "did you mean" use. */
static int distance(const char *a, const char *b)
{
	size_t n = strlen(b);
	int row[n + 1];

	for (size_t j = 0; j <= n; j++)
		row[j] = (int)j;
	for (size_t i = 1; *a; a++, i++) {
		int diag = row[0];

		row[0] = (int)i;
		for (size_t j = 1; j <= n; j++) {
			int up = row[j], best = diag + (*a != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[n];
}

/* An id that is not in the catalogue: one line, naming the nearest id when
 * one is near (a few letters off, or the typed text begins it). */
static int unknown_experiment(const struct cli_catalog *reg, const char *id)
{
	const char *best = NULL;
	int best_d = 3 + (int)strlen(id) / 8;

	for (int i = 0; i < reg->n; i++) {
		const char *x = reg->exp[i].id;
		int d = strncmp(x, id, strlen(id)) ? distance(id, x) : 1;

		if (d < best_d) {
			best = x;
			best_d = d;
		}
	}
	if (best)
		fprintf(stderr,
			"socklab: unknown experiment '%s'; did you mean "
			"'%s'? (socklab list shows the catalogue)\n",
			id, best);
	else
		fprintf(stderr,
			"socklab: unknown experiment '%s' "
			"(socklab list shows the catalogue)\n",
			id);
	return SL_EXIT_USAGE;
}

/* Checks the selection before anything is created: an unknown id or
 * variant is a typo, and a typo must not leave a results folder behind. */
static int select_jobs(struct runner *r, struct cli_catalog *reg, int all,
		       char **ids, int nids)
{
	int n = all ? reg->n : nids, ret;

	/* Two jobs at most per experiment (add_jobs()). */
	r->job = calloc(n ? 2 * n : 1, sizeof(*r->job));
	if (!r->job) {
		fprintf(stderr, "socklab: run: out of memory\n");
		return SL_EXIT_ERROR;
	}
	for (int i = 0; i < n; i++) {
		struct cli_exp *x = all ? &reg->exp[i] :
					  cli_catalog_find(reg, ids[i]);
		int dup = 0;

		if (!x)
			return unknown_experiment(reg, ids[i]);
		for (int k = 0; k < r->njobs; k++)
			dup |= r->job[k].exp == x;
		if (dup)
			continue;
		for (int v = 0; v < r->nvariants && !x->broken; v++) {
			if (has_variant(x, r->variants[v]))
				continue;
			fprintf(stderr,
				"socklab: run: %s has no variant '%s' "
				"(its variants:",
				x->id, r->variants[v]);
			for (int k = 0; k < x->nvariants; k++)
				fprintf(stderr, " %s", x->variants[k]);
			fprintf(stderr, ")\n");
			return SL_EXIT_USAGE;
		}
		ret = add_jobs(r, x);
		if (ret)
			return ret;
	}
	return 0;
}

static void free_runner(struct runner *r)
{
	for (int i = 0; i < r->njobs; i++)
		run_job_free(&r->job[i]);
	free(r->job);
	if (r->base_fd >= 0)
		close(r->base_fd);
	if (r->run_fd >= 0)
		close(r->run_fd);
	free(r->variants);
	free(r->base_shown);
	free(r->run_shown);
	free(r->run_abs);
}

/* "results/" and "results" are one folder; print it the short way. */
static char *trim_slashes(const char *s)
{
	char *t = strdup(s);
	size_t n;

	if (!t)
		return NULL;
	n = strlen(t);
	while (n > 1 && t[n - 1] == '/')
		t[--n] = '\0';
	return t;
}

/* The options, as parsed; the rest goes straight into the runner. */
struct run_opts {
	const char *base;
	int all;
	long jobs, repeat;
	int format_given; /* --format or --json seen */
	int explain;	  /* --explain: print the commands, run nothing */
};

/* --format FMT, or --json (the same as --format json): one format, said
 * once or said the same way twice. */
static int set_format(struct runner *r, struct run_opts *o, const char *fmt)
{
	static const char *const names[] = {
		[FORMAT_TEXT] = "text",
		[FORMAT_JSON] = "json",
		[FORMAT_KTAP] = "ktap",
	};
	int f;

	for (f = 0; f < 3 && strcmp(fmt, names[f]); f++)
		;
	if (f == 3)
		return cli_usage_error("run",
				       "--format takes text, json or ktap, "
				       "not '%s'",
				       fmt);
	if (o->format_given && (int)r->format != f)
		return cli_usage_error("run",
				       "two output formats given (%s and %s)",
				       names[r->format], names[f]);
	o->format_given = 1;
	r->format = (enum run_format)f;
	return -1;
}

static int add_variant(struct runner *r, const char *name)
{
	const char **nv;

	if (r->nvariants >= 64)
		return cli_usage_error("run", "too many --variant options");
	nv = realloc(r->variants, (r->nvariants + 1) * sizeof(*nv));
	if (!nv)
		return SL_EXIT_ERROR;
	r->variants = nv;
	r->variants[r->nvariants++] = name;
	return -1;
}

static int parse_timeout(struct runner *r, const char *arg)
{
	char *end;

	r->timeout = strtod(arg, &end);
	if (end == arg || *end || !isfinite(r->timeout) || r->timeout <= 0 ||
	    r->timeout > 86400)
		return cli_usage_error("run",
				       "--timeout needs seconds > 0, "
				       "not '%s'",
				       arg);
	return -1;
}

/* --progress SECONDS: 0 (none) up to a day. */
static int parse_progress(struct runner *r, const char *arg)
{
	char *end;

	r->progress = strtod(arg, &end);
	if (end == arg || *end || !isfinite(r->progress) || r->progress < 0 ||
	    r->progress > 86400)
		return cli_usage_error("run",
				       "--progress needs seconds from 0 "
				       "(none) to 86400, not '%s'",
				       arg);
	return -1;
}

/* One option of getopt_long(): -1 to go on, or the exit status. */
static int parse_option(struct runner *r, struct run_opts *o, int c,
			char **argv)
{
	switch (c) {
	case 'a':
		o->all = 1;
		return -1;
	case 'j':
		if (cli_parse_int(optarg, 1, 4096, &o->jobs))
			return cli_usage_error("run",
					       "-j takes a number of jobs "
					       "from 1 to 4096, not '%s'",
					       optarg);
		return -1;
	case 't':
		return parse_timeout(r, optarg);
	case 'P':
		return parse_progress(r, optarg);
	case 'r':
		if (!*optarg)
			return cli_usage_error("run", "--results needs a "
						      "folder");
		o->base = optarg;
		return -1;
	case 'k':
		r->keep = 1;
		return -1;
	case 'X':
		o->explain = 1;
		return -1;
	case 'J':
		return set_format(r, o, "json");
	case 'F':
		return set_format(r, o, optarg);
	case 'q':
		r->quiet = 1;
		return -1;
	case 'V':
		return add_variant(r, optarg);
	case 'S':
		r->step = 1;
		return -1;
	case 'R':
		if (cli_parse_int(optarg, 1, MAX_REPEAT, &o->repeat))
			return cli_usage_error("run",
					       "--repeat needs a number "
					       "of runs from 1 to %d, not '%s'",
					       MAX_REPEAT, optarg);
		return -1;
	case 'A':
		if (strcmp(optarg, "4") && strcmp(optarg, "6") &&
		    strcmp(optarg, "all"))
			return cli_usage_error("run",
					       "--family takes 4, 6 or all, "
					       "not '%s'",
					       optarg);
		r->family = optarg;
		return -1;
	case 'h':
		cli_help_text(stdout, cli_help_find("run"));
		return 0;
	}
	return cli_getopt_error("run", c, argv);
}

/* --step waits for Enter at every mark: it needs a terminal to read, and
 * one experiment, run once, to step through.  Refused here, before the
 * sweep, the catalogue or any folder: nothing is created. */
static int check_step(struct runner *r, const struct run_opts *o, int nids)
{
	if (!r->step)
		return -1;
	if (!isatty(STDIN_FILENO))
		return cli_usage_error("run",
				       "--step waits for Enter at each mark, "
				       "and stdin is not a terminal");
	if (o->all || nids != 1)
		return cli_usage_error("run", "--step runs one experiment "
					      "(its variants one after the "
					      "other)");
	if (o->repeat > 1)
		return cli_usage_error("run", "--step and --repeat do not go "
					      "together");
	return -1;
}

static int parse_options(struct runner *r, struct run_opts *o, int argc,
			 char **argv)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ "results", required_argument, NULL, 'r' },
		{ "keep", no_argument, NULL, 'k' },
		{ "explain", no_argument, NULL, 'X' },
		{ "json", no_argument, NULL, 'J' },
		{ "format", required_argument, NULL, 'F' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "variant", required_argument, NULL, 'V' },
		{ "repeat", required_argument, NULL, 'R' },
		{ "step", no_argument, NULL, 'S' },
		{ "family", required_argument, NULL, 'A' },
		{ "progress", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, ret;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":j:qh", opts, NULL)) != -1)
		if ((ret = parse_option(r, o, c, argv)) >= 0)
			return ret;
	/* Each run would leave its namespaces up: N runs, N sets. */
	if (r->keep && o->repeat > 1)
		return cli_usage_error("run",
				       "--keep and --repeat do not go "
				       "together (each run would keep its "
				       "namespaces)");
	if (!o->all && optind == argc)
		return cli_usage_error("run", "which experiments? give ids "
					      "or --all");
	if (o->all && optind < argc)
		return cli_usage_error("run", "give experiment ids or --all, "
					      "not both");
	/* Nothing is made: no root needed. */
	if (o->explain) {
		if (r->keep || o->repeat > 1 || o->format_given || o->jobs ||
		    r->timeout || r->step)
			return cli_usage_error("run",
					       "--explain runs nothing: it "
					       "takes ids, --all and "
					       "--variant only");
		return -1;
	}
	ret = check_step(r, o, argc - optind);
	if (ret >= 0)
		return ret;
	ret = cli_need_root("run", "network namespaces, packet capture");
	return ret ? ret : -1;
}

/* --explain: each experiment's own account of the commands that build
 * its variants (protocol.h), one after the other on stdout.  Returns the
 * worst exit status. */
static int explain_jobs(const struct runner *r)
{
	const char *argv[4 + 2 * 64] = { 0 };
	int worst = 0;

	for (int i = 0; i < r->njobs; i++) {
		const struct cli_exp *x = r->job[i].exp;
		struct cli_child c;
		char buf[8192];
		ssize_t n;
		int argc = 0, st, ret;

		argv[argc++] = x->path;
		argv[argc++] = "--explain";
		for (int k = 0; k < r->nvariants && k < 64; k++) {
			argv[argc++] = "--variant";
			argv[argc++] = r->variants[k];
		}
		argv[argc] = NULL;
		fflush(stdout);
		ret = cli_spawn(argv, 0, STDERR_FILENO, &c);
		if (ret < 0) {
			fprintf(stderr, "socklab: run: start %s: %s\n", x->path,
				strerror(-ret));
			worst = SL_EXIT_ERROR;
			continue;
		}
		if (i)
			putchar('\n');
		fflush(stdout);
		/* To the end; the pipe may not block, then wait on it. */
		for (;;) {
			struct pollfd pfd = { .fd = c.out, .events = POLLIN };

			n = read(c.out, buf, sizeof(buf));
			if (n > 0)
				fwrite(buf, 1, n, stdout);
			else if (n < 0 && errno == EAGAIN)
				poll(&pfd, 1, -1);
			else if (!(n < 0 && errno == EINTR))
				break;
		}
		close(c.out);
		while (waitpid(c.pid, &st, 0) < 0 && errno == EINTR)
			;
		ret = WIFEXITED(st) ? WEXITSTATUS(st) : SL_EXIT_ERROR;
		if (ret > worst)
			worst = ret;
	}
	fflush(stdout);
	return worst;
}

/* In a guest that `socklab vm` started, the host's time for the pace
 * probe is in the environment: this machine's own time against it
 * stretches every deadline (pace.h), before the experiments describe
 * theirs.  A factor set by hand wins. */
static void pace(int quiet)
{
	const char *ref = getenv(SL_PACE_REF_ENV);
	char *end, buf[32];
	long long ref_ns;
	double scale;
	int64_t own;

	if (!ref || getenv(SL_TIME_SCALE_ENV))
		return;
	ref_ns = strtoll(ref, &end, 10);
	if (*end || ref_ns <= 0) {
		fprintf(stderr,
			"socklab: run: %s=%s is no time in ns: "
			"deadlines as written\n",
			SL_PACE_REF_ENV, ref);
		return;
	}
	own = sl_pace_probe();
	if (own < 0) {
		fprintf(stderr,
			"socklab: run: pace probe: %s: deadlines as "
			"written\n",
			strerror((int)-own));
		return;
	}
	scale = (double)own / (double)ref_ns;
	scale = scale < 1		  ? 1 :
		scale > SL_TIME_SCALE_MAX ? SL_TIME_SCALE_MAX :
					    scale;
	snprintf(buf, sizeof(buf), "%.2f", scale);
	setenv(SL_TIME_SCALE_ENV, buf, 1);
	if (!quiet)
		fprintf(stderr,
			"socklab: run: the pace probe took %.1f ms here, %.1f ms "
			"on the host that started this machine: deadlines x "
			"%s\n",
			own / 1e6, ref_ns / 1e6, buf);
}

/* Every experiment at once, on a machine that runs at its own pace: the
 * experiments wait on the kernel's timers far more than they compute.  An
 * experiment's two halves of --family all count as one: all 70 halves of
 * the catalogue at once, beside two busy processes, ran six past their
 * deadlines in one run of two; 35 at a time, two in one run of three, and
 * sooner than 70 at once on an idle machine (64 s against 74).  Most of a
 * late variant's time was its harness's: namespaces, captures and trace
 * instances made under the kernel's locks by every variant at once (which
 * no longer counts against the roles: the deadline is a watchdog now,
 * harness/deadline.c; the fewer setups at once still finish sooner).  On a
 * machine measured slower (pace.h: a QEMU guest under TCG), as many at a
 * time as it has processors: there every experiment at once keeps the
 * emulated processors so busy that the kernel's timers fire late, by 130
 * ms in half the variants at four at a time and 6 ms at two, which also
 * ran the catalogue sooner (docs/kernels.md). */
static int default_jobs(const struct runner *r)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int exps = 0;

	for (int i = 0; i < r->njobs; i++) {
		int k = 0;

		while (k < i && r->job[k].exp != r->job[i].exp)
			k++;
		exps += k == i;
	}
	if (sl_time_scale() <= 1 || cpus < 1 || cpus >= exps)
		return exps;
	if (!r->quiet)
		fprintf(stderr,
			"socklab: run: a machine slowed x %.2f: %ld "
			"experiments at a time, one per processor (-j to "
			"choose)\n",
			sl_time_scale(), cpus);
	return (int)cpus;
}

int cli_cmd_run(int argc, char **argv)
{
	/* A progress line every 10 s: often enough that a reader of a CI
	 * log sees a minute-long experiment move, rarely enough that the
	 * log stays short (a person's pace, not this machine's). */
	struct runner r = { .base_fd = -1, .run_fd = -1, .progress = 10 };
	struct run_opts o = { .base = "results", .repeat = 1 };
	struct cli_catalog reg = { 0 };
	struct sl_err e = { "" };
	int ret = parse_options(&r, &o, argc, argv);

	if (ret >= 0)
		goto out;
	/* Once per run, before any slot is claimed: what killed runs left
	 * (--explain claims none). */
	if (!o.explain) {
		sl_sweep_before_run(stderr);
		pace(r.quiet);
	}
	if (cli_catalog_load(&reg, &e)) {
		fprintf(stderr, "socklab: run: %s\n", e.msg);
		ret = SL_EXIT_ERROR;
		goto out;
	}
	ret = select_jobs(&r, &reg, o.all, argv + optind, argc - optind);
	if (ret)
		goto out;
	if (r.njobs == 0) {
		fprintf(stderr, "socklab: run: no experiments in '%s'\n",
			reg.dir);
		ret = SL_EXIT_ERROR;
		goto out;
	}
	if (o.explain) {
		ret = explain_jobs(&r);
		goto out;
	}
	r.max_jobs = o.jobs ? (int)o.jobs : default_jobs(&r);
	r.nrep = (int)o.repeat;
	r.base_shown = trim_slashes(o.base);
	if (!r.base_shown) {
		ret = SL_EXIT_ERROR;
		goto out;
	}
	/* A reader of --json | head may go away early; the run must still
	 * finish and tear its namespaces down, not die of SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	/* Results are no one else's to read: captures included. */
	umask(077);
	/* Stepped, the pauses are the progress: a status line redrawn
	 * under them would tear the ss listings apart. */
	r.tty = !r.quiet && !r.step && isatty(STDERR_FILENO);
	ret = run_all(&r);
	if (r.step && r.njobs == 1 && r.job[0].npauses)
		fprintf(stderr,
			"socklab: run: stepped (%d pauses): its timings include "
			"them and are not comparable with an unstepped run "
			"(\"stepped\" in verdict.json)\n",
			r.job[0].npauses);
out:
	free_runner(&r);
	cli_catalog_free(&reg);
	return ret;
}
