/* progress.c: progress lines when stderr is no terminal (runner.h).
 *
 * On a terminal the status line (output.c) says what is running, twice a
 * second.  Into a file or a pipe (CI, `socklab run ... 2> log`) nothing
 * was said between one experiment's end and the next's, which for
 * timewait-duration is a minute of silence that looks like a hang.  So
 * every --progress seconds (10 by default) one line goes to stderr: the
 * experiments still running, how long each has run, and how long it is
 * expected to take.  stderr, like the "[n/N] id: passed" lines, so that
 * stdout stays what --format promises (JSON Lines, KTAP or the summary);
 * none with --quiet, none on a terminal.
 *
 * The special problem of "expected": no constant can say how long an
 * experiment takes on this machine, so the expectation is taken from what
 * was measured here before, the duration recorded in the newest earlier
 * verdict.json of the same experiment under --results (its variants'
 * durations when --variant picked some of them), and only when there is
 * none from the experiment's timeout, which bounds it from above.  The
 * line says which of the two it is.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "json.h"
#include "resultdir.h"
#include "runner.h"

/* A verdict.json is a few kilobytes; anything much larger is not one. */
#define VERDICT_MAX (4 << 20)

/* The newest earlier run folders are tried in turn until one has a usable
 * verdict.json; older ones say less about this machine as it is now. */
#define TRIES 8

struct candidate {
	const char *run; /* a run folder's name in --results */
	struct timespec mtime;
};

static int newer_first(const void *a, const void *b)
{
	const struct timespec *x = &((const struct candidate *)a)->mtime;
	const struct timespec *y = &((const struct candidate *)b)->mtime;

	if (x->tv_sec != y->tv_sec)
		return x->tv_sec < y->tv_sec ? 1 : -1;
	return (x->tv_nsec < y->tv_nsec) - (x->tv_nsec > y->tv_nsec);
}

/* The whole file name below the folder at, NUL-terminated; NULL when
 * absent or unreadable. */
static char *slurp(int at, const char *name)
{
	int fd = sl_resultdir_read(at, name);
	size_t n = 0;
	ssize_t got;
	char *buf;

	if (fd < 0)
		return NULL;
	buf = malloc(VERDICT_MAX + 1);
	while (buf && n < VERDICT_MAX &&
	       (got = read(fd, buf + n, VERDICT_MAX - n)) > 0)
		n += got;
	close(fd);
	if (buf)
		buf[n] = '\0';
	return buf;
}

/* Whether variant name is one this run asks of the job: one --variant
 * named, or any of the experiment's when none was. */
static int wanted(const struct runner *r, const char *name)
{
	if (r->nvariants == 0)
		return 1;
	for (int i = 0; i < r->nvariants; i++)
		if (strcmp(r->variants[i], name) == 0)
			return 1;
	return 0;
}

/* The duration of variant name in an earlier verdict.json's variants, or
 * -1 when it did not run there or did not finish. */
static double variant_duration(const json_t *vars, const char *name)
{
	const char *n;
	size_t i;
	json_t *x;
	double d;

	json_array_foreach(vars, i, x)
	{
		n = cli_json_str(x, "name");
		if (!n || strcmp(n, name))
			continue;
		if (cli_json_str(x, "error") ||
		    cli_json_get_number(x, "duration_s", &d) || d < 0)
			return -1;
		return d;
	}
	return -1;
}

/* How long the job should take, from one earlier verdict.json: the
 * experiment's own duration when that run ran exactly the variants this
 * one runs, else the longest of those variants' durations there (they run
 * side by side).  Returns the seconds, or -1 when the file cannot say: an
 * error, or one of the variants missing (an earlier run of other
 * --variant's) or unfinished. */
static double from_verdict(const struct runner *r, const struct job *j,
			   const json_t *v)
{
	const struct cli_exp *x = j->exp;
	const char *status = cli_json_str(v, "status");
	const json_t *vars = json_object_get(v, "variants");
	double total, d, longest = 0;
	int n = 0;

	if (!status || (strcmp(status, "pass") && strcmp(status, "fail")) ||
	    cli_json_get_number(v, "duration_s", &total) || total <= 0 ||
	    !json_is_array(vars) || x->nvariants == 0)
		return -1;
	for (int i = 0; i < x->nvariants; i++) {
		if (!wanted(r, x->variants[i]))
			continue;
		d = variant_duration(vars, x->variants[i]);
		if (d < 0)
			return -1;
		n++;
		if (d > longest)
			longest = d;
	}
	if (n == 0)
		return -1;
	return json_array_size(vars) == (size_t)n ? total : longest;
}

/* Sets j->expect_s from the newest usable earlier verdict.json among the
 * candidates, or leaves it at the timeout. */
static void expect_job(struct runner *r, struct job *j, struct candidate *cand,
		       int nruns, const char *current)
{
	struct candidate *c = calloc(nruns > 0 ? nruns : 1, sizeof(*c));
	char path[1024];
	struct stat st;
	int n = 0;

	j->expect_s = r->timeout ? r->timeout : j->exp->timeout_s;
	j->expect_from = NULL;
	if (!c)
		return;
	for (int i = 0; i < nruns; i++) {
		if (strcmp(cand[i].run, current) == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s/verdict.json", cand[i].run,
			 j->exp->id);
		if (fstatat(r->base_fd, path, &st, AT_SYMLINK_NOFOLLOW) ||
		    !S_ISREG(st.st_mode))
			continue;
		c[n].run = cand[i].run;
		c[n++].mtime = st.st_mtim;
	}
	qsort(c, n, sizeof(*c), newer_first);
	for (int i = 0; i < n && i < TRIES; i++) {
		double d = -1;
		json_t *v;
		char *text;

		snprintf(path, sizeof(path), "%s/%s/verdict.json", c[i].run,
			 j->exp->id);
		text = slurp(r->base_fd, path);
		v = text ? cli_json_object(text, strlen(text)) : NULL;
		if (v)
			d = from_verdict(r, j, v);
		json_decref(v);
		free(text);
		if (d > 0) {
			/* Out of memory, the line keeps to the timeout
			 * rather than name a duration it cannot source. */
			j->expect_from = strdup(c[i].run);
			if (j->expect_from)
				j->expect_s = d;
			break;
		}
	}
	free(c);
}

/* The run folders in --results: every folder but latest (a link) and
 * names starting with a dot.  Returns how many (their names in *names,
 * to free), or 0. */
static int run_folders(int base_fd, char ***names)
{
	char **v = NULL, **nv;
	struct dirent *d;
	struct stat st;
	int n = 0, fd;
	DIR *dp;

	*names = NULL;
	fd = openat(base_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	dp = fdopendir(fd);
	if (!dp) {
		close(fd);
		return 0;
	}
	while ((d = readdir(dp))) {
		if (d->d_name[0] == '.' ||
		    fstatat(base_fd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
		    !S_ISDIR(st.st_mode))
			continue;
		nv = realloc(v, (n + 1) * sizeof(*v));
		if (!nv)
			break;
		v = nv;
		v[n] = strdup(d->d_name);
		if (v[n])
			n++;
	}
	closedir(dp);
	*names = v;
	return n;
}

void run_progress_expect(struct runner *r)
{
	const char *current = strrchr(r->run_shown, '/');
	struct candidate *cand;
	char **names;
	int n;

	current = current ? current + 1 : r->run_shown;
	n = run_folders(r->base_fd, &names);
	cand = calloc(n > 0 ? n : 1, sizeof(*cand));
	for (int i = 0; i < n && cand; i++)
		cand[i].run = names[i];
	for (int i = 0; i < r->njobs; i++)
		expect_job(r, &r->job[i], cand, cand ? n : 0, current);
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(cand);
}

/* "about 41 s left (its last run took 60.6 s, in RUN)", RUN the earlier
 * run's folder in --results; or, with no earlier run, "at most 12 s left
 * (its timeout: 20 s)", what its deadline has left (deadline_left: the
 * deadline counts again from its roles' start, deadline.c). */
static int print_expect(char *buf, size_t n, const struct job *j, double ran,
			double deadline_left)
{
	double left = j->expect_s - ran;

	if (!j->expect_from)
		return snprintf(buf, n,
				"at most %.0f s left (its timeout: %.0f s)",
				deadline_left > 0 ? deadline_left : 0,
				j->expect_s);
	if (left < 0)
		return snprintf(buf, n,
				"%.0f s longer than its last run "
				"(%.1f s, in %s)",
				-left, j->expect_s, j->expect_from);
	return snprintf(buf, n,
			"about %.0f s left (its last run took %.1f s, in %s)",
			left, j->expect_s, j->expect_from);
}

void run_progress_line(struct runner *r)
{
	double all = (double)(sl_now() - r->t0) / SL_NS_PER_SEC;
	int waiting = r->njobs - r->done - r->running;
	char line[4096];
	int len;

	len = snprintf(line, sizeof(line), "socklab: %.0f s: %d of %d done",
		       all, r->done, r->njobs);
	for (int i = 0; i < r->njobs && len < (int)sizeof(line); i++) {
		struct job *j = &r->job[i];
		double ran, left;

		if (j->state != J_RUNNING || j->pid <= 0)
			continue;
		ran = run_job_seconds(j);
		left = j->paused ? j->remaining :
				   ev_timer_remaining(r->loop, &j->timeout_w);
		len += snprintf(line + len, sizeof(line) - len,
				"; %s running %.0f s, ", j->exp->id, ran);
		if (len < (int)sizeof(line))
			len += print_expect(line + len, sizeof(line) - len, j,
					    ran, left);
	}
	if (waiting > 0 && len < (int)sizeof(line))
		snprintf(line + len, sizeof(line) - len, "; %d waiting",
			 waiting);
	fprintf(stderr, "%s\n", line);
	fflush(stderr);
}
