/* replay.c: `socklab judge` and `socklab show`: a stored run told again.
 *
 * Both take a run folder (a path, or a run's name under --results,
 * results/latest included), or one experiment's folder in it, and make of
 * each experiment a job as `socklab run` would have finished it
 * (runner.h), so that judge.c concludes and output.c prints it the way run
 * does: the summary table, and for one experiment its predictions and
 * timeline.  judge gets each job's result line from the experiment
 * executable, run with --judge on the recorded timelines (protocol.h), its
 * files written to --out or to a folder of its own, removed afterwards;
 * show takes the one the run stored in verdict.json, and the files beside
 * it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "catalog.h"
#include "clock.h"
#include "err.h"
#include "help.h"
#include "json.h"
#include "proc.h"
#include "report.h"
#include "resultdir.h"
#include "runner.h"

/* What is kept of an experiment's output: its answer is the last line. */
#define MAX_RESULT_OUTPUT (1 << 20)

struct replay {
	const char *cmd; /* "judge" or "show" */
	const char *base;
	const char *out; /* judge --out, or NULL */
	const char **variants;
	int nvariants;
	int json, quiet;
	/* what the command line named */
	char *run;  /* the run folder, as it is reached */
	char **ids; /* its experiments to tell */
	int nids;
	char *tmp; /* judge's own folder for the files, or NULL */
	struct cli_catalog cat;
	struct cli_exp *exps; /* show: made from verdict.json */
};

/* Whether folder dir holds an experiment's results: what `socklab run`
 * always leaves there (its stderr), or its verdict. */
static int is_experiment(const char *dir)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/verdict.json", dir);
	if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
		return 1;
	snprintf(path, sizeof(path), "%s/" STDERR_FILE, dir);
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The folder arg names: itself, or a run's name under --results. */
static char *find_folder(const struct replay *p, const char *arg)
{
	char path[PATH_MAX];

	if (is_dir(arg))
		return strdup(arg);
	if (arg[0] == '/')
		return NULL;
	snprintf(path, sizeof(path), "%s/%s", p->base, arg);
	return is_dir(path) ? strdup(path) : NULL;
}

/* Whether dir is a run's folder: one of its folders is an experiment's. */
static int is_run(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int found = 0;

	while (d && !found && (de = readdir(d))) {
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		found = de->d_name[0] != '.' && is_dir(path) &&
			is_experiment(path);
	}
	if (d)
		closedir(d);
	return found;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The experiments of run folder p->run, in the catalogue's order (by id).
 * Returns 0 or -errno. */
static int list_experiments(struct replay *p)
{
	DIR *d = opendir(p->run);
	struct dirent *de;
	int cap = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char path[PATH_MAX];
		char **more;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", p->run, de->d_name);
		if (!is_dir(path) || !is_experiment(path))
			continue;
		if (p->nids == cap) {
			cap = cap ? 2 * cap : 16;
			more = realloc(p->ids, cap * sizeof(*more));
			if (!more) {
				closedir(d);
				return -ENOMEM;
			}
			p->ids = more;
		}
		p->ids[p->nids] = strdup(de->d_name);
		if (!p->ids[p->nids]) {
			closedir(d);
			return -ENOMEM;
		}
		p->nids++;
	}
	closedir(d);
	if (p->nids)
		qsort(p->ids, p->nids, sizeof(*p->ids), cmp_str);
	return 0;
}

/* results/latest says the run's own name, as `socklab run` printed it:
 * a link to a folder beside it is shown as that folder. */
static void name_run(struct replay *p)
{
	char target[NAME_MAX + 1], *slash = strrchr(p->run, '/'), *named;
	struct stat st;
	ssize_t n;

	if (lstat(p->run, &st) < 0 || !S_ISLNK(st.st_mode))
		return;
	n = readlink(p->run, target, sizeof(target) - 1);
	if (n <= 0 || n >= (ssize_t)sizeof(target) - 1)
		return;
	target[n] = '\0';
	if (strchr(target, '/') || !strcmp(target, "..") ||
	    !strcmp(target, "."))
		return;
	named = run_asprintf("%.*s%s", slash ? (int)(slash - p->run + 1) : 0,
			     p->run, target);
	if (named) {
		free(p->run);
		p->run = named;
	}
}

/* "<run>" or "<run>/<id>" into p->run and p->ids.  Returns -1 to go on,
 * or the exit status: 2 for a run that is not there (as `socklab diff`),
 * 64 for an experiment the run does not have (as `socklab run` for an
 * unknown id). */
static int resolve(struct replay *p, const char *arg)
{
	char *dir = find_folder(p, arg), *slash;

	if (dir && is_experiment(dir)) {
		/* One experiment: its run is the folder above it. */
		slash = strrchr(dir, '/');
		while (slash && slash > dir && slash[1] == '\0') {
			*slash = '\0';
			slash = strrchr(dir, '/');
		}
		p->ids = calloc(1, sizeof(*p->ids));
		if (!p->ids)
			goto nomem;
		p->ids[0] = strdup(slash ? slash + 1 : dir);
		if (slash)
			*slash = '\0';
		p->run = slash ? dir : strdup(".");
		if (!slash)
			free(dir);
		p->nids = 1;
		if (!p->ids[0] || !p->run)
			return SL_EXIT_ERROR;
		name_run(p);
		return -1;
	}
	if (dir) {
		p->run = dir;
		name_run(p);
		if (list_experiments(p) < 0) {
			fprintf(stderr, "socklab: %s: read run folder %s: %s\n",
				p->cmd, dir, strerror(errno));
			return SL_EXIT_ERROR;
		}
		if (p->nids == 0) {
			fprintf(stderr,
				"socklab: %s: %s is no run folder: no "
				"experiment's results in it\n",
				p->cmd, dir);
			return SL_EXIT_ERROR;
		}
		return -1;
	}
	/* "<run>/<id>" with a run that is there: the id is the typo. */
	slash = strrchr(arg, '/');
	if (slash && slash > arg) {
		char *run = strndup(arg, slash - arg);

		dir = run ? find_folder(p, run) : NULL;
		free(run);
		if (dir && is_run(dir)) {
			fprintf(stderr,
				"socklab: %s: run %s has no experiment '%s' "
				"(see ls %s)\n",
				p->cmd, dir, slash + 1, dir);
			free(dir);
			return SL_EXIT_USAGE;
		}
		free(dir);
	}
	fprintf(stderr, "socklab: %s: no run '%s': no such folder%s%s%s\n",
		p->cmd, arg, arg[0] == '/' ? "" : ", nor ",
		arg[0] == '/' ? "" : p->base,
		arg[0] == '/' ? "" : "/ holds it");
	return SL_EXIT_ERROR;
nomem:
	free(dir);
	fprintf(stderr, "socklab: %s: out of memory\n", p->cmd);
	return SL_EXIT_ERROR;
}

/* ---- judge ---- */

static int remove_one(const char *path, const struct stat *st, int flag,
		      struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* The folder judge made for the files, and all it holds: judge's own,
 * made by mkdtemp(), never a folder someone named. */
static void remove_tmp(struct replay *p)
{
	if (p->tmp)
		nftw(p->tmp, remove_one, 16, FTW_DEPTH | FTW_PHYS);
	free(p->tmp);
	p->tmp = NULL;
}

/* The job's result line says where its results are: the recorded run's
 * folder, when the files judge wrote are gone with its own folder. */
static void results_recorded(struct job *j)
{
	json_t *o = j->json ? cli_json_object(j->json, strlen(j->json)) : NULL;
	char *s;

	if (!o)
		return;
	json_object_set_new(o, "results", sl_json_text(j->dir));
	s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6));
	json_decref(o);
	if (s) {
		free(j->json);
		j->json = s;
	}
}

/* Runs `<id> --judge` on the recording into folder outfd/<id>, and the
 * job is what run_judge() makes of it.  Returns 0 or the exit status of
 * a failure to even start. */
static int judge_one(struct replay *p, struct job *j, int outfd,
		     const char *outdir)
{
	const char *argv[8 + 2 * 64] = { 0 };
	char *out = run_asprintf("%s/%s", outdir, j->exp->id);
	struct cli_child c;
	int argc = 0, errfd, ret;

	j->dirfd = sl_resultdir_mkdir(outfd, j->exp->id);
	if (j->dirfd < 0 || !out) {
		fprintf(stderr, "socklab: judge: create folder %s/%s: %s\n",
			outdir, j->exp->id, strerror(-j->dirfd));
		free(out);
		return SL_EXIT_ERROR;
	}
	errfd = sl_resultdir_create(j->dirfd, STDERR_FILE);
	argv[argc++] = j->exp->path;
	argv[argc++] = "--judge";
	argv[argc++] = "--results";
	argv[argc++] = j->dir;
	argv[argc++] = "--out";
	argv[argc++] = out;
	for (int i = 0; i < p->nvariants && i < 64; i++) {
		argv[argc++] = "--variant";
		argv[argc++] = p->variants[i];
	}
	j->t0 = sl_now();
	ret = cli_spawn(argv, 0, errfd, &c);
	if (errfd >= 0)
		close(errfd);
	free(out);
	if (ret < 0) {
		fprintf(stderr, "socklab: judge: start %s: %s\n", j->exp->path,
			strerror(-ret));
		return SL_EXIT_ERROR;
	}
	/* Its stdout to the end (the pipe may not block: then wait on
	 * it). */
	for (;;) {
		struct pollfd pfd = { .fd = c.out, .events = POLLIN };

		ret = cli_read_append(c.out, &j->out, &j->outlen, &j->outcap,
				      MAX_RESULT_OUTPUT);
		if (ret == -EAGAIN)
			ret = poll(&pfd, 1, -1) < 0 && errno != EINTR ? -errno :
									1;
		if (ret <= 0 && ret != -EINTR)
			break;
	}
	close(c.out);
	while (waitpid(c.pid, &j->wstatus, 0) < 0 && errno == EINTR)
		;
	j->t1 = sl_now();
	j->state = J_DONE;
	run_judge(j);
	if (!p->out)
		results_recorded(j);
	return 0;
}

/* The folder the re-judged files go to: --out, or one of judge's own. */
static int open_out(struct replay *p, const char **dir)
{
	struct sl_err e = { "" };
	int fd;

	if (!p->out) {
		char tmpl[] = "/tmp/socklab-judge-XXXXXX";

		if (!mkdtemp(tmpl)) {
			fprintf(stderr,
				"socklab: judge: make a folder in "
				"/tmp: %s\n",
				strerror(errno));
			return -errno;
		}
		p->tmp = strdup(tmpl);
		if (!p->tmp) {
			rmdir(tmpl);
			return -ENOMEM;
		}
	}
	*dir = p->out ? p->out : p->tmp;
	fd = sl_resultdir_open(*dir, &e);
	if (fd < 0)
		fprintf(stderr, "socklab: judge: %s\n", e.msg);
	return fd;
}

static int judge_jobs(struct replay *p, struct runner *r)
{
	struct sl_err e = { "" };
	const char *outdir = NULL;
	int outfd, ret = 0;

	if (cli_catalog_load(&p->cat, &e)) {
		fprintf(stderr, "socklab: judge: %s\n", e.msg);
		return SL_EXIT_ERROR;
	}
	for (int i = 0; i < p->nids; i++) {
		r->job[i].exp = cli_catalog_find(&p->cat, p->ids[i]);
		if (!r->job[i].exp) {
			fprintf(stderr,
				"socklab: judge: run %s holds '%s', which is "
				"no experiment of the catalogue (see socklab "
				"list)\n",
				p->run, p->ids[i]);
			return SL_EXIT_USAGE;
		}
	}
	outfd = open_out(p, &outdir);
	if (outfd < 0)
		return SL_EXIT_ERROR;
	for (int i = 0; i < r->njobs && !ret; i++) {
		ret = judge_one(p, &r->job[i], outfd, outdir);
		r->done++;
		if (!ret)
			run_report_done(r, &r->job[i]);
	}
	sl_resultdir_hand_over(outfd);
	close(outfd);
	return ret;
}

/* ---- show ---- */

/* verdict.json, as the job's result line; the exit status the run had
 * from it, so that run_judge() concludes what the run did. */
static void show_one(struct job *j, struct cli_exp *x, const char *id)
{
	static const struct {
		const char *status;
		int code;
	} codes[] = { { "pass", SL_EXIT_PASS },
		      { "fail", SL_EXIT_FAIL },
		      { "skip", SL_EXIT_SKIP } };
	int fd = open(j->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int vfd = fd >= 0 ? sl_resultdir_read(fd, "verdict.json") : -1;
	json_t *res = NULL;
	double d = 0;
	int code = SL_EXIT_ERROR;

	j->dirfd = fd;
	if (vfd >= 0) {
		while (cli_read_append(vfd, &j->out, &j->outlen, &j->outcap,
				       MAX_RESULT_OUTPUT) > 0)
			;
		close(vfd);
	}
	res = j->out ? cli_json_object(j->out, j->outlen) : NULL;
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (!strcmp(cli_json_str(res, "status") ?: "", codes[i].status))
			code = codes[i].code;
	x->id = cli_json_get_strdup(res, "id");
	if (!x->id)
		x->id = strdup(id);
	x->claim = cli_json_get_strdup(res, "claim");
	x->expected = cli_json_get_strdup(res, "expected");
	cli_json_get_number(res, "duration_s", &d);
	json_decref(res);
	j->exp = x;
	/* A start of 0 would read as "never started" (run_job_seconds()). */
	j->t0 = 1;
	j->t1 = 1 + (int64_t)(d * SL_NS_PER_SEC);
	j->wstatus = W_EXITCODE(code, 0);
	j->state = J_DONE;
	run_judge(j);
}

static int show_jobs(struct replay *p, struct runner *r)
{
	p->exps = calloc(p->nids, sizeof(*p->exps));
	if (!p->exps)
		return SL_EXIT_ERROR;
	for (int i = 0; i < r->njobs; i++) {
		show_one(&r->job[i], &p->exps[i], p->ids[i]);
		r->done++;
		/* The JSON line as run printed it; the lines run wrote while
		 * it ran are not news now. */
		if (p->json) {
			int quiet = r->quiet;

			r->quiet = 1;
			run_report_done(r, &r->job[i]);
			r->quiet = quiet;
		}
	}
	return 0;
}

/* ---- the commands ---- */

static int parse(struct replay *p, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'J' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "results", required_argument, NULL, 'r' },
		{ "out", required_argument, NULL, 'o' },
		{ "variant", required_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int judge = !strcmp(p->cmd, "judge"), c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hq", opts, NULL)) != -1) {
		switch (c) {
		case 'J':
			p->json = 1;
			break;
		case 'q':
			p->quiet = 1;
			break;
		case 'r':
			p->base = optarg;
			break;
		case 'o':
		case 'v':
			if (!judge)
				return cli_usage_error(p->cmd,
						       "unknown option '%s'",
						       argv[optind - 1]);
			if (c == 'o') {
				p->out = optarg;
				break;
			}
			if (p->nvariants == 64)
				return cli_usage_error(p->cmd, "more than 64 "
							       "--variant");
			p->variants[p->nvariants++] = optarg;
			break;
		case 'h':
			cli_help_text(stdout, cli_help_find(p->cmd));
			return 0;
		default:
			return cli_getopt_error(p->cmd, c, argv);
		}
	}
	if (optind == argc)
		return cli_usage_error(p->cmd, "which run? give <run> or "
					       "<run>/<id>");
	if (optind + 1 < argc)
		return cli_usage_error(p->cmd, "one run at a time, not '%s'",
				       argv[optind + 1]);
	return resolve(p, argv[optind]);
}

static int replay(const char *cmd, int argc, char **argv)
{
	const char *variants[64];
	struct replay p = { .cmd = cmd,
			    .base = "results",
			    .variants = variants };
	struct runner r = { .base_fd = -1, .run_fd = -1 };
	int ret = parse(&p, argc, argv);

	if (ret >= 0)
		goto out;
	r.job = calloc(p.nids, sizeof(*r.job));
	if (!r.job) {
		ret = SL_EXIT_ERROR;
		goto out;
	}
	r.njobs = p.nids;
	r.quiet = p.quiet;
	r.format = p.json ? FORMAT_JSON : FORMAT_TEXT;
	r.run_shown = strdup(p.run);
	r.told = !strcmp(cmd, "judge") ? "judged again from the recording in" :
					 "as recorded in";
	r.t0 = sl_now();
	for (int i = 0; i < r.njobs; i++) {
		r.job[i].r = &r;
		r.job[i].dirfd = -1;
		r.job[i].out_fd = -1;
		r.job[i].dir = run_asprintf("%s/%s", p.run, p.ids[i]);
		/* Named as run names it: its folder in the run. */
		r.job[i].name = strdup(p.ids[i]);
		/* Where the files printed are: judge's --out, or the
		 * recording (judge's own folder is gone by then). */
		r.job[i].shown =
			p.out ? run_asprintf("%s/%s", p.out, p.ids[i]) :
				run_asprintf("%s/%s", p.run, p.ids[i]);
	}
	/* A reader of --json | head may go away early. */
	signal(SIGPIPE, SIG_IGN);
	umask(077);
	ret = !strcmp(cmd, "judge") ? judge_jobs(&p, &r) : show_jobs(&p, &r);
	if (ret == 0)
		ret = run_summary(&r);
out:
	for (int i = 0; i < r.njobs; i++)
		run_job_free(&r.job[i]);
	free(r.job);
	free(r.run_shown);
	remove_tmp(&p);
	for (int i = 0; i < p.nids; i++) {
		free(p.ids[i]);
		if (p.exps) {
			free(p.exps[i].id);
			free(p.exps[i].claim);
			free(p.exps[i].expected);
		}
	}
	free(p.exps);
	free(p.ids);
	free(p.run);
	cli_catalog_free(&p.cat);
	return ret;
}

int cli_cmd_judge(int argc, char **argv)
{
	return replay("judge", argc, argv);
}

int cli_cmd_show(int argc, char **argv)
{
	return replay("show", argc, argv);
}
