/* catalog.c: finding the experiments and asking each what it is.
 *
 * Every executable in the folder is started with --describe at the same
 * time, and their answers are collected with poll(): starting a few dozen
 * small processes in parallel costs a few milliseconds, one after the other
 * it would be noticeable on every `socklab list`.  Each has a deadline,
 * since an executable that hangs on --describe must not hang the CLI.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "envdir.h"
#include "err.h"
#include "json.h"
#include "proc.h"
#include "catalog.h"
#include "selfpath.h"

#define DESCRIBE_TIMEOUT_MS 10000
#define DESCRIBE_MAX_OUTPUT (64 * 1024)
#define DEFAULT_TIMEOUT_S 60.0

struct probe {
	struct cli_exp *exp;
	struct cli_child c;
	char *out, *err;
	size_t outlen, outcap, errlen, errcap;
	int status;
	int reaped;
	int timed_out;
};

#define EXPERIMENTS_VAR "SOCKLAB_EXPERIMENTS_DIR"

/* Where an installed socklab's experiments are, relative to the folder of
 * its executable (the build sets it from the install layout). */
#ifndef SL_EXPERIMENTS_RELDIR
#define SL_EXPERIMENTS_RELDIR "../libexec/socklab"
#endif

/* The folder beside socklab's own executable (selfpath.h):
 * SL_EXPERIMENTS_RELDIR once installed, experiments/ in a build tree. */
static int beside_exe(char *dir, size_t n, struct sl_err *e)
{
	char exe[PATH_MAX];

	if (sl_exe_dir(exe, sizeof(exe)) < 0)
		return sl_errf(e, errno,
			       "cannot find socklab's own executable "
			       "(/proc/self/exe): set " EXPERIMENTS_VAR);
	if (sl_beside_exe(SL_EXPERIMENTS_RELDIR, dir, n) == 0 ||
	    sl_beside_exe("experiments", dir, n) == 0)
		return 0;
	return sl_errf(e, ENOENT,
		       "no experiments beside socklab: neither %s/%s nor "
		       "%s/experiments is a folder (the build makes the "
		       "second, the install the first; or set " EXPERIMENTS_VAR
		       ")",
		       exe, SL_EXPERIMENTS_RELDIR, exe);
}

int cli_catalog_dir(char *dir, size_t n, int *from_env, struct sl_err *e)
{
	const char *d = getenv(EXPERIMENTS_VAR);

	*from_env = d && *d;
	/* Root starts every executable of the folder: one that the
	 * environment names is honoured only when only root can change it
	 * or any of its executables (lib/envdir.h).  dir becomes its real
	 * path, what was checked. */
	if (*from_env)
		return sl_envdir_check(EXPERIMENTS_VAR, d, dir, n, e);
	return beside_exe(dir, n, e);
}

static int broken(struct cli_exp *x, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int broken(struct cli_exp *x, const char *fmt, ...)
{
	va_list ap;
	int ret;

	free(x->broken);
	va_start(ap, fmt);
	ret = vasprintf(&x->broken, fmt, ap);
	va_end(ap);
	if (ret < 0)
		x->broken = NULL;
	return -EINVAL;
}

static const char *basename_of(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* Reads the executables' names; returns the count or -errno.  checked:
 * the folder came from the environment, and so must each of them pass
 * sl_envdir_check_file(). */
static int scan_dir(struct cli_catalog *r, const char *dir, int checked,
		    struct sl_err *e)
{
	struct dirent *d;
	DIR *dp;
	int cap = 0;

	dp = opendir(dir);
	if (!dp)
		return sl_errf(e, errno,
			       "cannot read experiments folder '%s' "
			       "(the build makes it; or set " EXPERIMENTS_VAR
			       ")",
			       dir);
	while ((errno = 0, d = readdir(dp))) {
		struct cli_exp *x;
		struct stat st;
		char *path;

		if (d->d_name[0] == '.')
			continue;
		if (asprintf(&path, "%s/%s", dir, d->d_name) < 0)
			goto out_nomem;
		/* Only executable regular files: the build also leaves
		 * CMake's own files next to them in some generators. */
		if (stat(path, &st) < 0 || !S_ISREG(st.st_mode) ||
		    access(path, X_OK) < 0) {
			free(path);
			continue;
		}
		if (checked) {
			int ret = sl_envdir_check_file(EXPERIMENTS_VAR, dir,
						       path, e);

			if (ret < 0) {
				free(path);
				closedir(dp);
				return ret;
			}
		}
		if (r->n == cap) {
			int ncap = cap ? cap * 2 : 16;
			struct cli_exp *n = realloc(r->exp, ncap * sizeof(*n));

			if (!n) {
				free(path);
				goto out_nomem;
			}
			r->exp = n;
			cap = ncap;
		}
		x = &r->exp[r->n++];
		memset(x, 0, sizeof(*x));
		x->path = path;
		x->id = strdup(d->d_name);
		if (!x->id)
			goto out_nomem;
	}
	if (errno) {
		int err = errno;

		closedir(dp);
		return sl_errf(e, err, "cannot read experiments folder '%s'",
			       dir);
	}
	closedir(dp);
	return r->n;

out_nomem:
	closedir(dp);
	return sl_errf(e, ENOMEM, "listing '%s'", dir);
}

static int is_verdict(const char *s)
{
	return !strcmp(s, "CONFIRMED") || !strcmp(s, "REFUTED") ||
	       !strcmp(s, "NUANCED");
}

/* The members of a --describe object, checked. */
static int describe_fields(struct cli_exp *x, const json_t *obj,
			   const char *name)
{
	char *id = cli_json_get_strdup(obj, "id");

	if (!id || !*id) {
		free(id);
		return broken(x, "--describe has no \"id\"");
	}
	/* The CLI runs an experiment by its file name and files its results
	 * under its id: the two must be one name. */
	if (strcmp(id, name)) {
		int ret = broken(x,
				 "describes itself as '%s' but is named '%s'",
				 id, name);

		free(id);
		return ret;
	}
	free(id);
	x->claim = cli_json_get_strdup(obj, "claim");
	if (!x->claim)
		return broken(x, "--describe has no \"claim\" string");
	x->expected = cli_json_get_strdup(obj, "expected");
	if (!x->expected || !is_verdict(x->expected))
		return broken(x, "--describe has no \"expected\" verdict "
				 "(CONFIRMED, REFUTED or NUANCED)");
	switch (cli_json_get_number(obj, "timeout_s", &x->timeout_s)) {
	case 0:
		if (x->timeout_s > 0)
			break;
		/* fall through */
	case -EINVAL:
		return broken(x, "--describe has a bad \"timeout_s\"");
	default:
		x->timeout_s = DEFAULT_TIMEOUT_S;
	}
	/* An experiment from before there were two families runs on
	 * IPv4 alone. */
	{
		json_t *fams = json_object_get(obj, "families"), *f;
		size_t i;

		x->runs4 = !fams;
		json_array_foreach(fams, i, f)
		{
			x->runs4 |= json_integer_value(f) == 4;
			x->runs6 |= json_integer_value(f) == 6;
		}
	}
	if (cli_json_get_strings(obj, "variants", &x->variants,
				 &x->nvariants) ||
	    x->nvariants == 0)
		return broken(x,
			      "--describe has no \"variants\" list of names");
	return 0;
}

/* Turns one finished --describe into the catalogue entry. */
static int parse_describe(struct probe *pr)
{
	struct cli_exp *x = pr->exp;
	const char *name = basename_of(x->path);
	const char *line;
	json_t *obj;
	size_t n;
	int ret;

	if (pr->timed_out)
		return broken(x, "--describe did not finish within %d s",
			      DESCRIBE_TIMEOUT_MS / 1000);
	if (!WIFEXITED(pr->status) || WEXITSTATUS(pr->status) != 0) {
		char how[128];
		const char *l = cli_last_line(pr->err, pr->errlen, &n);

		cli_describe_status(pr->status, how, sizeof(how));
		if (l)
			return broken(x, "--describe %s: %.*s", how, (int)n, l);
		return broken(x, "--describe %s", how);
	}
	line = cli_last_line(pr->out, pr->outlen, &n);
	if (!line)
		return broken(x, "--describe printed nothing");
	obj = cli_json_object(line, n);
	if (!obj)
		return broken(x,
			      "--describe printed no valid JSON object: "
			      "%.*s%s",
			      (int)(n > 60 ? 60 : n), line,
			      n > 60 ? "..." : "");
	ret = describe_fields(x, obj, name);
	json_decref(obj);
	if (ret)
		return ret;
	x->describe = strndup(line, n);
	if (!x->describe)
		return broken(x, "out of memory");
	return 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Whether a cli_read_append() result means the pipe is finished with: end
 * of file, or an error that will not go away. */
static int drained(ssize_t r)
{
	return r == 0 || (r < 0 && r != -EAGAIN);
}

static void watch(struct pollfd *pfd, int fd)
{
	pfd->fd = fd;
	pfd->events = POLLIN;
	pfd->revents = 0;
}

/* Collects the output of every probe until all have exited, or until the
 * deadline, after which the rest are killed. */
static void collect(struct probe *pr, int n)
{
	struct pollfd *pfd = calloc(2 * n, sizeof(*pfd));
	int64_t deadline = sl_now() + DESCRIBE_TIMEOUT_MS * SL_NS_PER_MS;

	for (;;) {
		int nfd = 0, waiting = 0, timeout;
		int64_t left = deadline - sl_now();

		for (int i = 0; i < n; i++) {
			struct probe *p = &pr[i];

			if (p->c.pid > 0 && !p->reaped &&
			    waitpid(p->c.pid, &p->status, WNOHANG) == p->c.pid)
				p->reaped = 1;
			if (p->c.pid > 0 && left <= 0 &&
			    (p->c.out >= 0 || !p->reaped)) {
				/* Too late: what it printed so far is all we
				 * will read. */
				if (!p->reaped) {
					kill(p->c.pid, SIGKILL);
					while (waitpid(p->c.pid, &p->status,
						       0) < 0 &&
					       errno == EINTR)
						;
					p->reaped = 1;
				}
				p->timed_out = 1;
				close_fd(&p->c.out);
				close_fd(&p->c.err);
			}
			if (p->c.pid > 0 && !p->reaped)
				waiting++;
			if (pfd && p->c.out >= 0)
				watch(&pfd[nfd++], p->c.out);
			if (pfd && p->c.err >= 0)
				watch(&pfd[nfd++], p->c.err);
		}
		if (!nfd && !waiting)
			break;
		/* With every pipe closed, only exits are left to wait for;
		 * they follow within moments, so a short nap will do. */
		timeout = left <= 0 ? 0 : (int)(left / SL_NS_PER_MS) + 1;
		if (!nfd || !pfd)
			timeout = timeout < 5 ? timeout : 5;
		if (poll(pfd, pfd ? nfd : 0, timeout) < 0 && errno != EINTR)
			break;
		for (int i = 0; i < n; i++) {
			struct probe *p = &pr[i];

			if (p->c.out >= 0 &&
			    drained(cli_read_append(p->c.out, &p->out,
						    &p->outlen, &p->outcap,
						    DESCRIBE_MAX_OUTPUT)))
				close_fd(&p->c.out);
			if (p->c.err >= 0 &&
			    drained(cli_read_append(p->c.err, &p->err,
						    &p->errlen, &p->errcap,
						    DESCRIBE_MAX_OUTPUT)))
				close_fd(&p->c.err);
		}
	}
	free(pfd);
}

static int by_id(const void *a, const void *b)
{
	const struct cli_exp *x = a, *y = b;

	return strcmp(x->id, y->id);
}

int cli_catalog_load(struct cli_catalog *r, struct sl_err *e)
{
	char dir[PATH_MAX];
	struct probe *pr;
	int ret, from_env;

	memset(r, 0, sizeof(*r));
	ret = cli_catalog_dir(dir, sizeof(dir), &from_env, e);
	if (ret < 0)
		return ret;
	r->dir = strdup(dir);
	if (!r->dir)
		return sl_errf(e, ENOMEM, "loading the experiments");
	ret = scan_dir(r, dir, from_env, e);
	if (ret <= 0)
		return ret;
	pr = calloc(r->n, sizeof(*pr));
	if (!pr)
		return sl_errf(e, ENOMEM, "loading the experiments");
	for (int i = 0; i < r->n; i++) {
		const char *argv[] = { r->exp[i].path, "--describe", NULL };

		pr[i].exp = &r->exp[i];
		ret = cli_spawn(argv, 0, -1, &pr[i].c);
		if (ret)
			broken(&r->exp[i], "cannot start: %s", strerror(-ret));
	}
	collect(pr, r->n);
	for (int i = 0; i < r->n; i++) {
		if (pr[i].c.pid > 0)
			parse_describe(&pr[i]);
		free(pr[i].out);
		free(pr[i].err);
	}
	free(pr);
	qsort(r->exp, r->n, sizeof(*r->exp), by_id);
	return 0;
}

struct cli_exp *cli_catalog_find(const struct cli_catalog *r, const char *id)
{
	for (int i = 0; i < r->n; i++)
		if (!strcmp(r->exp[i].id, id))
			return &r->exp[i];
	return NULL;
}

void cli_catalog_free(struct cli_catalog *r)
{
	for (int i = 0; i < r->n; i++) {
		struct cli_exp *x = &r->exp[i];

		for (int v = 0; v < x->nvariants; v++)
			free(x->variants[v]);
		free(x->variants);
		free(x->path);
		free(x->id);
		free(x->claim);
		free(x->expected);
		free(x->describe);
		free(x->broken);
	}
	free(r->exp);
	free(r->dir);
	memset(r, 0, sizeof(*r));
}
