/* rundir.c: the folder of one run of `socklab run` (runner.h).
 *
 * --results is opened once, and each run's folder created in it, through
 * lib/resultdir.h: the folders are held open from their creation on and
 * everything in them is created relative to them, so that a user who can
 * rename things in --results cannot make root write elsewhere.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "resultdir.h"
#include "runner.h"

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
		fprintf(stderr,
			"socklab: run: cannot update '%s/latest': "
			"%s\n",
			r->base_shown, strerror(errno));
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

static int set_job_dirs(struct runner *r)
{
	for (int i = 0; i < r->njobs; i++) {
		struct job *j = &r->job[i];

		j->dir = run_asprintf("%s/%s", r->run_abs, j->name);
		j->shown = run_asprintf("%s/%s", r->run_shown, j->name);
		if (!j->dir || !j->shown)
			return -ENOMEM;
	}
	return 0;
}

/* Opens --results (once, for all the runs of --repeat) and creates the
 * run's folder in it; each run's folder is new, never one that was there. */
int run_folder_make(struct runner *r)
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
		fprintf(stderr,
			"socklab: cannot create run folder '%s/%s': "
			"%s\n",
			r->base_shown, name, strerror(-r->run_fd));
		return r->run_fd;
	}
	abs_base = fd_path(r->base_fd);
	r->run_abs = run_asprintf("%s/%s", abs_base ? abs_base : r->base_shown,
				  name);
	r->run_shown = run_asprintf("%s/%s", r->base_shown, name);
	free(abs_base);
	if (r->run_abs && r->run_shown)
		update_latest(r, name);
	if (!r->run_abs || !r->run_shown || set_job_dirs(r)) {
		fprintf(stderr, "socklab: run: out of memory\n");
		return -ENOMEM;
	}
	return 0;
}
