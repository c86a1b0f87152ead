/* runner.c: `socklab run`, experiments as child processes on one event loop.
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
 * its cleanup stack, and only after a grace period SIGKILL, sent to its
 * whole process group so that no role is left behind.  Whatever a SIGKILL
 * leaves in the kernel (a namespace, a slot) is found and removed by the
 * next run or by `socklab clean`, because a slot's lock dies with its owner.
 * The experiments are in process groups of their own for the same reason: a
 * Ctrl-C on the terminal reaches the CLI alone, which stops them in order
 * instead of having them all die at once in the middle of a teardown.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>

#include "cli.h"
#include "clock.h"
#include "err.h"
#include "json.h"
#include "report.h"
#include "proc.h"
#include "registry.h"
#include "repeat.h"
#include "resultdir.h"

#define GRACE_S 5.0
#define STATUS_INTERVAL_S 0.5
#define MAX_RESULT_OUTPUT (4 << 20)
#define STDERR_FILE "stderr.txt"
#define MAX_REPEAT 10000
#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)

static const char run_help[] =
	"usage: socklab run [options] <id>...\n"
	"       socklab run [options] --all\n"
	"\n"
	"Runs experiments, each in its own network namespaces and all at once\n"
	"by default, derives each claim's verdict and judges each variant\n"
	"against what it declared.  Needs root.\n"
	"\n"
	"  --all            every experiment of `socklab list`\n"
	"  -j, --jobs N     at most N experiments at a time (default: all)\n"
	"  --timeout SEC    deadline per experiment, instead of its own; past\n"
	"                   it, SIGTERM, and SIGKILL 5 s later: an error\n"
	"  --results DIR    where run folders go (default: ./results); each run\n"
	"                   gets DIR/YYYYmmdd-HHMMSS-PID/<id>/ (-PID-K for\n"
	"                   run K of --repeat) and DIR/latest points at the\n"
	"                   newest\n"
	"  --variant NAME   only this variant (repeatable)\n"
	"  --repeat N       run the selection N whole times in a row (1 to\n"
	"                   10000), each a normal run with its own folder,\n"
	"                   then print how often each experiment passed, its\n"
	"                   verdicts, and which variants did not behave as\n"
	"                   declared how often; exit 0 only when every\n"
	"                   experiment passed every time\n"
	"  --keep           keep each run's namespaces for inspection with\n"
	"                   `ip netns exec`; `socklab clean` removes them\n"
	"  --json           print each experiment's result as one JSON line on\n"
	"                   stdout as it completes (JSON Lines), nothing\n"
	"                   else; with --repeat, then one line per experiment\n"
	"                   with its counts: {\"id\":..,\"repeat\":{...}}\n"
	"  -q, --quiet      print only the summary\n"
	"  -h, --help       this text\n"
	"\n"
	"An experiment passes when each of its variants held, or did not,\n"
	"as it declared (VARIANT(..., .holds = false): not to hold).\n"
	"\n"
	"exit status: 0 every experiment passed, 1 some variant did not\n"
	"behave as declared (a finding), 2 some experiment could not run\n"
	"(error wins over failure), 77 skipped here, 130/143 interrupted.\n";

enum result { R_NONE, R_PASS, R_FAIL, R_ERROR, R_SKIP };

static const char *const result_word[] = {
	[R_NONE] = "not run", [R_PASS] = "pass", [R_FAIL] = "FAIL",
	[R_ERROR] = "ERROR", [R_SKIP] = "skip",
};

/* The statuses of the JSON result object (DESIGN.md). */
static const char *const result_status[] = {
	[R_NONE] = "error", [R_PASS] = "pass", [R_FAIL] = "fail",
	[R_ERROR] = "error", [R_SKIP] = "skip",
};

enum job_state { J_WAITING, J_RUNNING, J_DONE };

struct runner;

struct job {
	struct runner *r;
	struct cli_exp *exp;
	char *dir;		/* absolute: what the experiment shows */
	char *shown;		/* relative to the user's --results */
	int dirfd;		/* its folder, held from its creation on */
	enum job_state state;
	pid_t pid;
	int out_fd;
	ev_io out_w;
	ev_child child_w;
	ev_timer timeout_w;
	ev_timer grace_w;
	char *out;
	size_t outlen, outcap;
	int64_t t0, t1;
	int wstatus;
	int timed_out;
	int stopped;		/* sent SIGTERM: the CLI was interrupted */
	enum result result;
	char *verdict;
	char *reason;
	char *json;		/* its result line, when valid */
	int json_agrees;	/* ... and says what we concluded */
};

struct runner {
	struct ev_loop *loop;
	struct job *job;
	int njobs;
	int next;		/* the next job to start */
	int running;
	int done;
	/* options */
	int max_jobs;
	double timeout;		/* 0: each experiment's own */
	int keep, json, quiet;
	const char **variants;
	int nvariants;
	int rep, nrep;		/* this run, of --repeat's */
	/* the run folder */
	char *base_shown;
	int base_fd;		/* --results, opened once for every run */
	char *run_shown;
	char *run_abs;
	int run_fd;
	/* progress */
	int tty;
	int drawn;
	ev_timer status_w;
	ev_signal sigint_w, sigterm_w;
	int signum;
	int64_t t0;
};

static void start_more(struct runner *r);

static char *xasprintf(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/* Formatting that cannot fail visibly: on ENOMEM the text is lost, which is
 * better than losing the run's result. */
static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int ret;

	va_start(ap, fmt);
	ret = vasprintf(&s, fmt, ap);
	va_end(ap);
	return ret < 0 ? NULL : s;
}

static double job_seconds(const struct job *j)
{
	int64_t end = j->state == J_DONE ? j->t1 : sl_now();

	return j->t0 ? (double)(end - j->t0) / SL_NS_PER_SEC : 0;
}

/* --- the results folder --------------------------------------------- */

/* Points base/latest at the run, atomically: a reader sees the old link or
 * the new one, never none.  Both names are relative to the base folder we
 * hold: a link planted where the base was cannot redirect them. */
static void update_latest(struct runner *r, const char *run)
{
	char tmp[64];

	snprintf(tmp, sizeof(tmp), ".latest-%d", (int)getpid());
	unlinkat(r->base_fd, tmp, 0);
	if (symlinkat(run, r->base_fd, tmp) < 0 ||
	    sl_resultdir_give(r->base_fd, tmp) < 0 ||
	    renameat(r->base_fd, tmp, r->base_fd, "latest") < 0) {
		fprintf(stderr, "socklab: run: cannot update '%s/latest': "
			"%s\n", r->base_shown, strerror(errno));
		unlinkat(r->base_fd, tmp, 0);
	}
}

/* Where the folder fd is, for the result lines: from the descriptor, not
 * from the path the user gave, which need not lead there any more. */
static char *fd_path(int fd)
{
	char link[64], buf[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, buf, sizeof(buf) - 1);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	return strdup(buf);
}

/* Opens --results (once, for all the runs of --repeat) and creates the
 * run's folder in it; each run's folder is new, never one that was there. */
static int make_run_folder(struct runner *r)
{
	/* With --repeat, runs follow each other within the same second:
	 * their number keeps their folders apart. */
	char name[64], stamp[32], *abs_base;
	struct sl_err e = { "" };
	time_t now = time(NULL);
	struct tm tm;

	if (!localtime_r(&now, &tm) ||
	    !strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm))
		return -EINVAL;
	if (r->nrep > 1)
		snprintf(name, sizeof(name), "%s-%d-%d", stamp, (int)getpid(),
			 r->rep);
	else
		snprintf(name, sizeof(name), "%s-%d", stamp, (int)getpid());
	if (r->base_fd < 0)
		r->base_fd = sl_resultdir_open(r->base_shown, &e);
	if (r->base_fd < 0) {
		fprintf(stderr, "socklab: %s\n", e.msg);
		return r->base_fd;
	}
	r->run_fd = sl_resultdir_mkdir(r->base_fd, name);
	if (r->run_fd < 0) {
		fprintf(stderr, "socklab: cannot create run folder '%s/%s': "
			"%s\n", r->base_shown, name, strerror(-r->run_fd));
		return r->run_fd;
	}
	abs_base = fd_path(r->base_fd);
	r->run_abs = xasprintf("%s/%s", abs_base ? abs_base : r->base_shown,
			       name);
	r->run_shown = xasprintf("%s/%s", r->base_shown, name);
	free(abs_base);
	if (!r->run_abs || !r->run_shown)
		return -ENOMEM;
	update_latest(r, name);
	return 0;
}

/* --- judging one finished experiment ----------------------------------- */

/* The last line the experiment wrote to its stderr, for the reason of an
 * error that it did not explain on stdout. */
static char *last_stderr_line(const struct job *j)
{
	int fd = sl_resultdir_read(j->dirfd, STDERR_FILE);
	const char *line;
	char buf[4096];
	ssize_t n = -1;
	size_t len;
	off_t size;

	if (fd < 0)
		return NULL;
	size = lseek(fd, 0, SEEK_END);
	if (size >= 0)
		n = pread(fd, buf, sizeof(buf) - 1,
			  size > (off_t)sizeof(buf) - 1 ?
				  size - (off_t)sizeof(buf) + 1 : 0);
	close(fd);
	if (n <= 0)
		return NULL;
	line = cli_last_line(buf, n, &len);
	return line ? strndup(line, len) : NULL;
}

/* What an experiment that could not run says about why: its result's
 * "error", else the first variant's error, else its last word on stderr. */
static char *error_reason(const struct job *j, const struct cli_json *res)
{
	struct cli_json vars, v, name, err;
	size_t pos = 0;
	char *s;

	if (res) {
		s = cli_json_get_strdup(res, "error");
		if (s)
			return s;
		if (!cli_json_member(res, "variants", &vars)) {
			while (cli_json_next(&vars, &pos, &v) > 0) {
				char *n, *msg;

				if (cli_json_member(&v, "error", &err) ||
				    err.type != CLI_JSON_STRING)
					continue;
				msg = cli_json_strdup(&err);
				n = cli_json_member(&v, "name", &name) ?
					    NULL :
					    cli_json_strdup(&name);
				s = xasprintf("%s: %s", n ? n : "variant",
					      msg ? msg : "?");
				free(n);
				free(msg);
				return s;
			}
		}
	}
	return last_stderr_line(j);
}

static void set_reason(struct job *j, char *why, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* reason = fmt, then ": why" when there is a why (which is consumed). */
static void set_reason(struct job *j, char *why, const char *fmt, ...)
{
	char *head = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&head, fmt, ap) < 0)
		head = NULL;
	va_end(ap);
	free(j->reason);
	if (why && head)
		j->reason = xasprintf("%s: %s", head, why);
	else
		j->reason = head;
	if (j->reason != head)
		free(head);
	free(why);
}

/* The variants of a result line that did not behave as they declared
 * ("as_declared": false), as "name holds, declared not to; ..." in *list
 * (NULL when there are none).  Returns how many, or -EINVAL when a variant
 * has no boolean "as_declared": then *list is its name. */
static int not_as_declared(const struct cli_json *res, char **list)
{
	struct cli_json vars, v;
	size_t pos = 0;
	int n = 0;

	*list = NULL;
	if (cli_json_member(res, "variants", &vars) ||
	    vars.type != CLI_JSON_ARRAY)
		return -EINVAL;
	while (cli_json_next(&vars, &pos, &v) > 0) {
		char *name = cli_json_get_strdup(&v, "name"), *more;
		int as = cli_json_get_bool(&v, "as_declared");

		if (as < 0) {
			free(*list);
			*list = name;
			return -EINVAL;
		}
		if (!as) {
			more = xasprintf("%s%s%s %s", *list ? *list : "",
					 *list ? "; " : "", name ? name : "?",
					 cli_json_get_bool(&v, "holds") == 1 ?
						 "holds, declared not to" :
						 "does not hold, declared to");
			free(*list);
			*list = more;
			n++;
		}
		free(name);
	}
	return n;
}

/* A pass is every variant as declared, a failure is at least one that is
 * not: the result line's variants must say the same as its exit status,
 * or neither can be believed. */
static void judge_variants(struct job *j, const struct cli_json *res,
			   int code, const char *how)
{
	char *list = NULL;
	int n = not_as_declared(res, &list);

	if (n < 0) {
		set_reason(j, NULL, "%s but its result says no \"as_declared\" "
			   "for variant %s", how, list ? list : "(none)");
		free(list);
	} else if ((code == SL_EXIT_PASS) != (n == 0)) {
		set_reason(j, list, "%s but %d of its variants did not behave "
			   "as declared", how, n);
	} else if (n) {
		j->result = R_FAIL;
		set_reason(j, list, "not as declared");
	} else {
		j->result = R_PASS;
	}
}

static void judge(struct job *j)
{
	struct runner *r = j->r;
	const struct cli_json *res = NULL;
	struct cli_json obj;
	const char *line;
	char how[160], *status = NULL;
	size_t n;
	int code = WIFEXITED(j->wstatus) ? WEXITSTATUS(j->wstatus) : -1;

	line = cli_last_line(j->out, j->outlen, &n);
	if (line && !cli_json_parse(line, n, &obj) &&
	    obj.type == CLI_JSON_OBJECT) {
		res = &obj;
		j->json = strndup(line, n);
		j->verdict = cli_json_get_strdup(res, "verdict");
		status = cli_json_get_strdup(res, "status");
	}
	cli_describe_status(j->wstatus, how, sizeof(how));
	j->result = R_ERROR;
	if (j->timed_out) {
		set_reason(j, NULL, "timed out after %g s",
			   r->timeout ? r->timeout : j->exp->timeout_s);
	} else if (j->stopped && !(res && (code == SL_EXIT_PASS ||
					   code == SL_EXIT_FAIL))) {
		set_reason(j, NULL, "interrupted by %s",
			   r->signum == SIGINT ? "SIGINT" : "SIGTERM");
	} else if (WIFSIGNALED(j->wstatus)) {
		set_reason(j, NULL, "crashed: %s", how);
	} else if (code == SL_EXIT_PASS || code == SL_EXIT_FAIL) {
		const char *want = code == SL_EXIT_PASS ? "pass" : "fail";

		if (!line)
			set_reason(j, NULL, "%s but printed no result line",
				   how);
		else if (!res)
			set_reason(j, NULL, "printed an invalid result line: "
				   "%.*s%s", (int)(n > 60 ? 60 : n), line,
				   n > 60 ? "..." : "");
		else if (!status || strcmp(status, want))
			set_reason(j, NULL, "%s but its result says status "
				   "\"%s\"", how, status ? status : "(none)");
		else
			judge_variants(j, res, code, how);
	} else if (code == SL_EXIT_SKIP) {
		j->result = R_SKIP;
		set_reason(j, error_reason(j, res), "skipped");
	} else if (code == SL_EXIT_ERROR) {
		char *why = error_reason(j, res);

		if (why)
			set_reason(j, NULL, "%s", why);
		else
			set_reason(j, NULL, "%s (see %s/" STDERR_FILE ")", how,
				   j->shown);
		free(why);
	} else if (code == SL_EXIT_USAGE) {
		set_reason(j, last_stderr_line(j),
			   "rejected its command line (exit 64)");
	} else {
		set_reason(j, last_stderr_line(j), "%s", how);
	}
	/* Whatever verdict a run that did not complete printed, it is not
	 * one: ERROR is never a verdict, only the lack of one. */
	if (j->result != R_PASS && j->result != R_FAIL) {
		free(j->verdict);
		j->verdict = strdup(j->result == R_SKIP ? "-" : "ERROR");
	}
	/* A deadline or a Ctrl-C is news the experiment's own line cannot
	 * carry, even when it says "error" too. */
	j->json_agrees = res && status &&
			 !strcmp(status, result_status[j->result]) &&
			 !(j->result == R_ERROR && (j->timed_out || j->stopped));
	free(status);
}

/* --- output ------------------------------------------------------------ */

static void clear_status(struct runner *r)
{
	if (r->drawn) {
		fputs("\r\033[K", stderr);
		r->drawn = 0;
	}
}

static void draw_status(struct runner *r)
{
	char line[1024];
	int width = cli_term_width(STDERR_FILENO), len, first = 1;

	len = snprintf(line, sizeof(line), "[%d/%d done]%s", r->done,
		       r->njobs, r->running ? " running:" : "");
	for (int i = 0; i < r->njobs && len < (int)sizeof(line); i++) {
		struct job *j = &r->job[i];

		if (j->state != J_RUNNING)
			continue;
		len += snprintf(line + len, sizeof(line) - len, "%s %s %.1fs",
				first ? "" : ",", j->exp->id, job_seconds(j));
		first = 0;
	}
	/* One column short of the width, so that the terminal never wraps
	 * and \r always returns to the start of this same line. */
	fputs("\r", stderr);
	cli_print_cut(stderr, line, width > 1 ? width - 1 : 0);
	fputs("\033[K", stderr);
	fflush(stderr);
	r->drawn = 1;
}

/* Starts one member of the object being printed. */
static void json_key(int *first, const char *key)
{
	printf("%s\"%s\":", *first ? "" : ",", key);
	*first = 0;
}

static void json_string_or_null(const char *s)
{
	if (s)
		sl_json_string(stdout, s);
	else
		fputs("null", stdout);
}

/* One JSON line per experiment, with at least the fields DESIGN.md lists.
 * It is the experiment's own line whenever that agrees with what we
 * concluded, completed with any required field it left out; otherwise
 * (crash, timeout, no line) one we write, so that a consumer of the JSON
 * Lines sees every experiment exactly once, in one shape. */
static void print_json_line(const struct job *j)
{
	const struct cli_exp *x = j->exp;
	double d = j->t1 > j->t0 ? (double)(j->t1 - j->t0) / SL_NS_PER_SEC : 0;
	int have = 0, first = 1, error = j->result != R_PASS &&
					 j->result != R_FAIL;
	struct cli_json own, v;

	if (j->json && j->json_agrees &&
	    !cli_json_parse(j->json, strlen(j->json), &own)) {
		const char *close = own.p + own.len - 1;
		const char *p = own.p + 1;

		have = 1;
		while (p < close && strchr(" \t\r", *p))
			p++;
		first = p == close;
		fwrite(j->json, 1, close - j->json, stdout);
	} else {
		putchar('{');
	}
#define MISSING(key) (!have || cli_json_member(&own, key, &v) == -ENOENT)
	if (MISSING("id")) {
		json_key(&first, "id");
		json_string_or_null(x->id);
	}
	if (MISSING("claim")) {
		json_key(&first, "claim");
		json_string_or_null(x->claim);
	}
	if (MISSING("verdict")) {
		json_key(&first, "verdict");
		json_string_or_null(j->result == R_SKIP ? NULL :
				    error ? "ERROR" : j->verdict);
	}
	if (MISSING("expected")) {
		json_key(&first, "expected");
		json_string_or_null(x->expected);
	}
	if (MISSING("status")) {
		json_key(&first, "status");
		json_string_or_null(result_status[j->result]);
	}
	if (error && MISSING("error")) {
		json_key(&first, "error");
		json_string_or_null(j->reason ? j->reason : "?");
	}
	if (MISSING("duration_s")) {
		json_key(&first, "duration_s");
		printf("%.3f", d);
	}
	if (MISSING("results")) {
		json_key(&first, "results");
		json_string_or_null(j->dir);
	}
	if (MISSING("variants")) {
		json_key(&first, "variants");
		fputs("[]", stdout);
	}
	if (MISSING("measured")) {
		json_key(&first, "measured");
		fputs("{}", stdout);
	}
#undef MISSING
	puts("}");
	fflush(stdout);
}

static void report_done(struct runner *r, const struct job *j)
{
	if (r->json)
		print_json_line(j);
	if (r->quiet)
		return;
	if (r->tty) {
		draw_status(r);
		return;
	}
	fprintf(stderr, "[%d/%d] %s: %s", r->done, r->njobs, j->exp->id,
		result_word[j->result]);
	if (j->result == R_PASS || j->result == R_FAIL)
		fprintf(stderr, " (%s, expected %s)",
			j->verdict ? j->verdict : "?", j->exp->expected);
	fprintf(stderr, " in %.1f s", job_seconds(j));
	if (j->reason)
		fprintf(stderr, ": %s", j->reason);
	fputc('\n', stderr);
}

/* --- the life of one job ----------------------------------------------- */

static void stop_watchers(struct job *j)
{
	struct ev_loop *loop = j->r->loop;

	ev_io_stop(loop, &j->out_w);
	ev_child_stop(loop, &j->child_w);
	ev_timer_stop(loop, &j->timeout_w);
	ev_timer_stop(loop, &j->grace_w);
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
	report_done(r, j);
	start_more(r);
	if (r->running == 0 && (r->next == r->njobs || r->signum))
		ev_break(r->loop, EVBREAK_ALL);
}

/* Finishes a job that never got to run. */
static void job_fail(struct job *j, char *why, const char *what)
{
	j->result = R_ERROR;
	j->verdict = strdup("ERROR");
	set_reason(j, why, "%s", what);
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
	if (drained(cli_read_append(j->out_fd, &j->out, &j->outlen,
				    &j->outcap, MAX_RESULT_OUTPUT))) {
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
	judge(j);
	job_done(j);
}

static void grace_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct job *j = w->data;

	(void)loop;
	(void)revents;
	kill(-j->pid, SIGKILL);
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

static void job_start(struct job *j)
{
	struct runner *r = j->r;
	const char *argv[8 + 2 * 64];
	struct cli_child c;
	int argc = 0, errfd, ret;

	j->state = J_RUNNING;
	r->running++;
	if (j->exp->broken) {
		job_fail(j, strdup(j->exp->broken), "broken experiment");
		return;
	}
	j->dirfd = sl_resultdir_mkdir(r->run_fd, j->exp->id);
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
		job_fail(j, strdup(strerror(-errfd)), "cannot create "
			 STDERR_FILE);
		return;
	}
	argv[argc++] = j->exp->path;
	argv[argc++] = "--run";
	argv[argc++] = "--results";
	argv[argc++] = j->dir;
	if (r->keep)
		argv[argc++] = "--keep";
	for (int i = 0; i < r->nvariants && i < 64; i++) {
		argv[argc++] = "--variant";
		argv[argc++] = r->variants[i];
	}
	/* The folder itself, which the path above may no longer lead to. */
	argv[argc++] = "--results-fd";
	argv[argc++] = STRINGIFY(CLI_SPAWN_PASSED_FD);
	argv[argc] = NULL;
	j->t0 = sl_now();
	ret = cli_spawn_passing(argv, CLI_SPAWN_GROUP, errfd, j->dirfd, &c);
	close(errfd);
	if (ret) {
		job_fail(j, strdup(strerror(-ret)), "cannot start");
		return;
	}
	j->pid = c.pid;
	j->out_fd = c.out;
	ev_io_init(&j->out_w, out_cb, c.out, EV_READ);
	ev_child_init(&j->child_w, child_cb, c.pid, 0);
	ev_timer_init(&j->timeout_w, timeout_cb,
		      r->timeout ? r->timeout : j->exp->timeout_s, 0);
	ev_timer_init(&j->grace_w, grace_cb, GRACE_S, 0);
	j->out_w.data = j->child_w.data = j;
	j->timeout_w.data = j->grace_w.data = j;
	ev_io_start(r->loop, &j->out_w);
	ev_child_start(r->loop, &j->child_w);
	/* The loop's clock was read before the fork: refresh it so that the
	 * deadline counts from the start of the process. */
	ev_now_update(r->loop);
	ev_timer_start(r->loop, &j->timeout_w);
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
	draw_status(w->data);
}

static void signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct runner *r = w->data;

	(void)revents;
	clear_status(r);
	if (r->signum) {
		/* Asked twice: no more waiting for clean teardowns. */
		fprintf(stderr, "socklab: run: killing the experiments\n");
		for (int i = 0; i < r->njobs; i++)
			if (r->job[i].state == J_RUNNING && r->job[i].pid > 0)
				kill(-r->job[i].pid, SIGKILL);
		return;
	}
	r->signum = w->signum;
	if (r->running)
		fprintf(stderr, "socklab: run: %s: stopping %d running "
			"experiment%s (again to kill them)\n",
			w->signum == SIGINT ? "SIGINT" : "SIGTERM", r->running,
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

/* --- the summary -------------------------------------------------------- */

/* Copies the job's file name to stdout under a header, if it has one that
 * is not empty. */
static void print_file(const struct job *j, const char *name)
{
	int fd = sl_resultdir_read(j->dirfd, name), c;
	char buf[8192];
	size_t n;
	FILE *f;

	f = fd >= 0 ? fdopen(fd, "r") : NULL;
	if (!f) {
		if (fd >= 0)
			close(fd);
		return;
	}
	c = fgetc(f);
	if (c != EOF) {
		printf("\n%s/%s:\n", j->shown, name);
		putchar(c);
		while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
			fwrite(buf, 1, n, stdout);
	}
	fclose(f);
}

/* A prediction's evidence, indented under it. */
static void print_evidence(FILE *f, const struct cli_json *p,
			   const char *indent)
{
	struct cli_json ev;
	char *skipped = cli_json_get_strdup(p, "skipped");

	/* A prediction that could not be judged says why, not what. */
	if (skipped) {
		fprintf(f, "%sskipped: %s\n", indent, skipped);
		free(skipped);
		return;
	}
	if (cli_json_member(p, "evidence", &ev) || ev.type == CLI_JSON_NULL)
		return;
	if (ev.type == CLI_JSON_STRING) {
		char *s = cli_json_strdup(&ev);

		fprintf(f, "%sevidence: %s\n", indent, s ? s : "?");
		free(s);
	} else {
		fprintf(f, "%sevidence: %.*s\n", indent, (int)ev.len, ev.p);
	}
}

static int is_skipped(const struct cli_json *p)
{
	char *skipped = cli_json_get_strdup(p, "skipped");

	free(skipped);
	return skipped != NULL;
}

/* The predictions that did not hold, with their evidence: why a variant
 * does not hold.  Those of a variant declared not to hold are what was
 * expected, and are marked so. */
static void print_failed_predictions(FILE *f, const struct job *j)
{
	struct cli_json obj, vars, v, preds, p;
	size_t vpos = 0;
	int header = 0;

	if (!j->json || cli_json_parse(j->json, strlen(j->json), &obj) ||
	    cli_json_member(&obj, "variants", &vars))
		return;
	while (cli_json_next(&vars, &vpos, &v) > 0) {
		char *name = cli_json_get_strdup(&v, "name");
		int declared_not = cli_json_get_bool(&v, "expected_holds") == 0;
		size_t ppos = 0;

		if (cli_json_member(&v, "predictions", &preds))
			goto next;
		while (cli_json_next(&preds, &ppos, &p) > 0) {
			char *what;

			if (cli_json_get_bool(&p, "ok") != 0)
				continue;
			if (!header)
				fprintf(f, "\npredictions that did not hold "
					"(or could not be judged here):\n");
			header = 1;
			what = cli_json_get_strdup(&p, "what");
			fprintf(f, "  %s: %s%s\n", name ? name : "?",
				what ? what : "?",
				declared_not ? " (declared not to hold)" : "");
			free(what);
			print_evidence(f, &p, "      ");
		}
next:
		free(name);
	}
}

/* The variants that did not behave as declared, each with its evidence:
 * the reason a run failed.  A variant that holds against its declaration
 * shows what was observed for each prediction; one that does not hold shows
 * the predictions that failed, unless print_failed_predictions() has just
 * listed them (listed). */
static void print_not_as_declared(FILE *f, const struct job *j, int listed)
{
	struct cli_json obj, vars, v, preds, p;
	size_t vpos = 0;
	int header = 0;

	if (!j->json || cli_json_parse(j->json, strlen(j->json), &obj) ||
	    cli_json_member(&obj, "variants", &vars))
		return;
	while (cli_json_next(&vars, &vpos, &v) > 0) {
		int holds = cli_json_get_bool(&v, "holds") == 1;
		char *name;
		size_t ppos = 0;

		if (cli_json_get_bool(&v, "as_declared") != 0)
			continue;
		if (!header)
			fprintf(f, "\n%s: variants that did not behave as "
				"declared:\n", j->exp->id);
		header = 1;
		name = cli_json_get_strdup(&v, "name");
		fprintf(f, "  %s: %s\n", name ? name : "?",
			holds ? "holds, but is declared not to hold "
				"(.holds = false)" :
			listed ? "does not hold, but is declared to hold "
				 "(its failed predictions are above)" :
				 "does not hold, but is declared to hold");
		free(name);
		if ((!holds && listed) ||
		    cli_json_member(&v, "predictions", &preds))
			continue;
		while (cli_json_next(&preds, &ppos, &p) > 0) {
			int ok = cli_json_get_bool(&p, "ok") == 1;
			char *what;

			if (!holds && ok)
				continue;
			what = cli_json_get_strdup(&p, "what");
			fprintf(f, "      [%s] %s\n", ok ? "ok" :
				is_skipped(&p) ? "skip" : "FAIL",
				what ? what : "?");
			free(what);
			print_evidence(f, &p, "          ");
		}
	}
}

static int print_summary(struct runner *r)
{
	FILE *f = r->json ? stderr : stdout;
	int count[5] = { 0 }, idw = 2, vw = 7, ew = 8, status;
	double wall = (double)(sl_now() - r->t0) / SL_NS_PER_SEC;
	int notrun;

	clear_status(r);
	for (int i = 0; i < r->njobs; i++) {
		struct job *j = &r->job[i];
		int n = (int)strlen(j->exp->id);

		count[j->result]++;
		idw = n > idw ? n : idw;
		if (j->verdict && (int)strlen(j->verdict) > vw)
			vw = strlen(j->verdict);
		if (j->exp->expected && (int)strlen(j->exp->expected) > ew)
			ew = strlen(j->exp->expected);
	}
	notrun = count[R_NONE];
	fprintf(f, "\n%-*s  %-*s  %-*s  %-7s  %8s\n", idw, "id", vw, "verdict",
		ew, "expected", "result", "duration");
	for (int i = 0; i < r->njobs; i++) {
		struct job *j = &r->job[i];

		fprintf(f, "%-*s  %-*s  %-*s  %-7s  ", idw, j->exp->id, vw,
			j->verdict ? j->verdict : "-", ew,
			j->exp->expected ? j->exp->expected : "?",
			result_word[j->result]);
		if (j->state == J_DONE)
			fprintf(f, "%6.1f s\n", job_seconds(j));
		else
			fprintf(f, "%8s\n", "-");
	}
	for (int i = 0, first = 1; i < r->njobs; i++) {
		struct job *j = &r->job[i];

		if (!j->reason || j->result == R_PASS)
			continue;
		if (first)
			fputc('\n', f);
		first = 0;
		fprintf(f, "%s: %s\n", j->exp->id, j->reason);
	}
	fputc('\n', f);
	if (r->signum)
		fprintf(f, "interrupted by %s\n",
			r->signum == SIGINT ? "SIGINT" : "SIGTERM");
	fprintf(f, "%d passed, %d failed, %d error%s", count[R_PASS],
		count[R_FAIL], count[R_ERROR], count[R_ERROR] == 1 ? "" : "s");
	if (count[R_SKIP])
		fprintf(f, ", %d skipped", count[R_SKIP]);
	if (notrun)
		fprintf(f, ", %d not run", notrun);
	fprintf(f, " in %.1f s wall (%s)\n", wall, r->run_shown);

	/* One experiment: the story of what happened, then its diagnostics
	 * (which, with --keep, say how to enter the kept namespaces), then
	 * why its verdict is not the expected one. */
	if (r->njobs == 1) {
		if (!r->quiet && !r->json) {
			print_file(&r->job[0], "timeline.txt");
			print_file(&r->job[0], STDERR_FILE);
		}
		print_failed_predictions(f, &r->job[0]);
		if (r->job[0].result == R_FAIL)
			print_not_as_declared(f, &r->job[0], 1);
	} else {
		/* Many experiments: only the evidence of the failures, the
		 * rest is in each one's timeline.txt. */
		for (int i = 0; i < r->njobs; i++)
			if (r->job[i].result == R_FAIL)
				print_not_as_declared(f, &r->job[i], 0);
		if (r->keep)
			fprintf(f, "namespaces kept: each %s/<id>/"
				STDERR_FILE " says how to enter them; "
				"`socklab clean` removes them\n",
				r->run_shown);
	}
	fflush(f);

	if (r->signum)
		return 128 + r->signum;
	if (count[R_ERROR] || notrun)
		status = SL_EXIT_ERROR;
	else if (count[R_FAIL])
		status = SL_EXIT_FAIL;
	else if (count[R_SKIP])
		status = SL_EXIT_SKIP;
	else
		status = SL_EXIT_PASS;
	return status;
}

/* --- the command ---------------------------------------------------------- */

static int has_variant(const struct cli_exp *x, const char *name)
{
	for (int i = 0; i < x->nvariants; i++)
		if (!strcmp(x->variants[i], name))
			return 1;
	return 0;
}

/* Checks the selection before anything is created: an unknown id or
 * variant is a typo, and a typo must not leave a results folder behind. */
static int select_jobs(struct runner *r, struct cli_registry *reg, int all,
		       char **ids, int nids)
{
	int n = all ? reg->n : nids;

	r->job = calloc(n ? n : 1, sizeof(*r->job));
	if (!r->job) {
		fprintf(stderr, "socklab: run: out of memory\n");
		return SL_EXIT_ERROR;
	}
	for (int i = 0; i < n; i++) {
		struct cli_exp *x = all ? &reg->exp[i] :
					  cli_registry_find(reg, ids[i]);
		int dup = 0;

		if (!x) {
			fprintf(stderr, "socklab: unknown experiment '%s' "
				"(socklab list shows the catalogue)\n", ids[i]);
			return SL_EXIT_USAGE;
		}
		for (int k = 0; k < r->njobs; k++)
			dup |= r->job[k].exp == x;
		if (dup)
			continue;
		for (int v = 0; v < r->nvariants && !x->broken; v++) {
			if (has_variant(x, r->variants[v]))
				continue;
			fprintf(stderr, "socklab: run: %s has no variant '%s' "
				"(its variants:", x->id, r->variants[v]);
			for (int k = 0; k < x->nvariants; k++)
				fprintf(stderr, " %s", x->variants[k]);
			fprintf(stderr, ")\n");
			return SL_EXIT_USAGE;
		}
		r->job[r->njobs].exp = x;
		r->job[r->njobs].r = r;
		r->job[r->njobs].out_fd = -1;
		r->job[r->njobs].dirfd = -1;
		r->njobs++;
	}
	return 0;
}

static int set_job_dirs(struct runner *r)
{
	for (int i = 0; i < r->njobs; i++) {
		struct job *j = &r->job[i];

		j->dir = xasprintf("%s/%s", r->run_abs, j->exp->id);
		j->shown = xasprintf("%s/%s", r->run_shown, j->exp->id);
		if (!j->dir || !j->shown)
			return -ENOMEM;
	}
	return 0;
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
	ev_signal_init(&r->sigint_w, signal_cb, SIGINT);
	ev_signal_init(&r->sigterm_w, signal_cb, SIGTERM);
	r->sigint_w.data = r->sigterm_w.data = r;
	ev_signal_start(r->loop, &r->sigint_w);
	ev_signal_start(r->loop, &r->sigterm_w);
	/* Orphans of the experiments come to us instead of init, so that
	 * reap_orphans() can make sure none outlives the run. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		fprintf(stderr, "socklab: run: cannot become a subreaper: %s\n",
			strerror(errno));
	return 0;
}

static void loop_stop(struct runner *r)
{
	if (!r->loop)
		return;
	ev_signal_stop(r->loop, &r->sigint_w);
	ev_signal_stop(r->loop, &r->sigterm_w);
}

static void run_loop(struct runner *r)
{
	if (r->tty) {
		ev_timer_init(&r->status_w, status_cb, STATUS_INTERVAL_S,
			      STATUS_INTERVAL_S);
		r->status_w.data = r;
		ev_timer_start(r->loop, &r->status_w);
	}
	r->t0 = sl_now();
	if (!r->quiet && r->nrep > 1)
		fprintf(stderr, "socklab: run %d of %d: running %d "
			"experiment%s; results in %s\n", r->rep, r->nrep,
			r->njobs, r->njobs == 1 ? "" : "s", r->run_shown);
	else if (!r->quiet)
		fprintf(stderr, "socklab: running %d experiment%s; results in "
			"%s\n", r->njobs, r->njobs == 1 ? "" : "s",
			r->run_shown);
	/* A signal that came between two runs: its callback runs in the
	 * loop, so let it run before anything starts. */
	ev_run(r->loop, EVRUN_NOWAIT);
	start_more(r);
	if (r->running)
		ev_run(r->loop, 0);
	if (r->tty)
		ev_timer_stop(r->loop, &r->status_w);
	reap_orphans();
}

static void free_job(struct job *j)
{
	free(j->dir);
	free(j->shown);
	free(j->out);
	free(j->verdict);
	free(j->reason);
	free(j->json);
	if (j->dirfd >= 0)
		close(j->dirfd);
}

/* Forgets what one run left in the jobs, for the next run of --repeat. */
static void reset_jobs(struct runner *r)
{
	for (int i = 0; i < r->njobs; i++) {
		struct job *j = &r->job[i];
		struct cli_exp *x = j->exp;

		free_job(j);
		memset(j, 0, sizeof(*j));
		j->r = r;
		j->exp = x;
		j->out_fd = -1;
		j->dirfd = -1;
	}
	r->next = r->running = r->done = r->drawn = 0;
	free(r->run_shown);
	free(r->run_abs);
	r->run_shown = r->run_abs = NULL;
	if (r->run_fd >= 0)
		close(r->run_fd);
	r->run_fd = -1;
}

/* One whole run of the selection: its folder, the experiments, the
 * summary.  Returns the run's exit status. */
static int one_run(struct runner *r)
{
	if (make_run_folder(r))
		return SL_EXIT_ERROR;
	if (set_job_dirs(r)) {
		fprintf(stderr, "socklab: run: out of memory\n");
		return SL_EXIT_ERROR;
	}
	run_loop(r);
	/* Under sudo, the results are the invoking user's, whatever the
	 * experiments managed to hand over before they ended. */
	sl_resultdir_hand_over(r->run_fd);
	return print_summary(r);
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
static int run_all(struct runner *r)
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
					      result_status[j->result],
					      j->verdict, j->json);
		}
		/* A run that could not even start (no results folder)
		 * would fail the same way every time. */
		if (r->done == 0)
			break;
	}
	loop_stop(r);
	if (tally) {
		cli_tally_print(r->json ? stderr : stdout, tally);
		if (r->json)
			cli_tally_json(stdout, tally);
		/* Every run's status is in ret already; this says the same
		 * thing from the tally's side, and guards it. */
		if (ret == SL_EXIT_PASS && !cli_tally_all_passed(tally))
			ret = SL_EXIT_FAIL;
		cli_tally_free(tally);
	}
	return ret;
}

static void free_runner(struct runner *r)
{
	for (int i = 0; i < r->njobs; i++)
		free_job(&r->job[i]);
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

int cli_cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ "results", required_argument, NULL, 'r' },
		{ "keep", no_argument, NULL, 'k' },
		{ "json", no_argument, NULL, 'J' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "variant", required_argument, NULL, 'V' },
		{ "repeat", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct runner r = { .base_fd = -1, .run_fd = -1 };
	struct cli_registry reg = { 0 };
	struct sl_err e = { "" };
	const char *base = "results";
	int all = 0, c, ret;
	long jobs = 0, repeat = 1;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":j:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			all = 1;
			break;
		case 'j':
			if (cli_parse_int(optarg, 1, 4096, &jobs)) {
				ret = cli_usage_error("run", "-j needs a number "
						      "of jobs >= 1, not '%s'",
						      optarg);
				goto out;
			}
			break;
		case 't': {
			char *end;

			r.timeout = strtod(optarg, &end);
			if (end == optarg || *end || !isfinite(r.timeout) ||
			    r.timeout <= 0 || r.timeout > 86400) {
				ret = cli_usage_error("run", "--timeout needs "
						      "seconds > 0, not '%s'",
						      optarg);
				goto out;
			}
			break;
		}
		case 'r':
			if (!*optarg) {
				ret = cli_usage_error("run", "--results needs "
						      "a folder");
				goto out;
			}
			base = optarg;
			break;
		case 'k':
			r.keep = 1;
			break;
		case 'J':
			r.json = 1;
			break;
		case 'q':
			r.quiet = 1;
			break;
		case 'V': {
			const char **nv;

			if (r.nvariants >= 64) {
				ret = cli_usage_error("run", "too many "
						      "--variant options");
				goto out;
			}
			nv = realloc(r.variants,
				     (r.nvariants + 1) * sizeof(*nv));
			if (!nv) {
				ret = SL_EXIT_ERROR;
				goto out;
			}
			r.variants = nv;
			r.variants[r.nvariants++] = optarg;
			break;
		}
		case 'R':
			if (cli_parse_int(optarg, 1, MAX_REPEAT, &repeat)) {
				ret = cli_usage_error("run", "--repeat needs a "
						      "number of runs from 1 "
						      "to %d, not '%s'",
						      MAX_REPEAT, optarg);
				goto out;
			}
			break;
		case 'h':
			fputs(run_help, stdout);
			ret = 0;
			goto out;
		default:
			ret = cli_getopt_error("run", c, argv);
			goto out;
		}
	}
	/* Each run would leave its namespaces up: N runs, N sets. */
	if (r.keep && repeat > 1)
		ret = cli_usage_error("run", "--keep and --repeat do not go "
				      "together (each run would keep its "
				      "namespaces)");
	else if (!all && optind == argc)
		ret = cli_usage_error("run", "which experiments? give ids "
				      "or --all");
	else if (all && optind < argc)
		ret = cli_usage_error("run", "give experiment ids or --all, "
				      "not both");
	else
		ret = cli_need_root("run", "network namespaces, packet "
				    "capture");
	if (ret)
		goto out;

	if (cli_registry_load(&reg, &e)) {
		fprintf(stderr, "socklab: run: %s\n", e.msg);
		ret = SL_EXIT_ERROR;
		goto out;
	}
	ret = select_jobs(&r, &reg, all, argv + optind, argc - optind);
	if (ret)
		goto out;
	if (r.njobs == 0) {
		fprintf(stderr, "socklab: run: no experiments in '%s'\n",
			reg.dir);
		ret = SL_EXIT_ERROR;
		goto out;
	}
	r.max_jobs = jobs ? (int)jobs : r.njobs;
	r.nrep = (int)repeat;
	r.base_shown = trim_slashes(base);
	if (!r.base_shown) {
		ret = SL_EXIT_ERROR;
		goto out;
	}
	/* A reader of --json | head may go away early; the run must still
	 * finish and tear its namespaces down, not die of SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	/* Results are no one else's to read: captures included. */
	umask(077);
	r.tty = !r.quiet && isatty(STDERR_FILENO);
	ret = run_all(&r);
out:
	free_runner(&r);
	cli_registry_free(&reg);
	return ret;
}
