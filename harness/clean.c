/* clean.c: `socklab clean`, removing what killed runs left behind.
 *
 * A run removes its own namespaces on every exit path it gets to take; a
 * SIGKILL gives it none, and `run --keep` leaves its namespaces on
 * purpose.  What is left is recognisable: a socklab-S-* namespace whose
 * slot lock nobody holds (lib/topology.h), and a socklab-doctor-PID
 * namespace whose doctor process is gone.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "err.h"
#include "exec.h"
#include "topology.h"
#include "trace.h"

#define DOCTOR_NETNS_PREFIX "socklab-doctor-"
#define NETNS_DIR "/run/netns"

static const char clean_help[] =
	"usage: socklab clean\n"
	"\n"
	"Removes the namespaces, trace instances and lock files of runs that\n"
	"were killed, the namespaces kept by `socklab run --keep`, and the\n"
	"scratch namespaces and instances of doctors that were killed.  Never\n"
	"touches a run that is still going.  Needs root.\n";

/* The pid in "socklab-doctor-<pid>", or -1 for any other name. */
static pid_t doctor_pid(const char *name)
{
	const char *p = name + strlen(DOCTOR_NETNS_PREFIX);
	long pid = 0;

	if (strncmp(name, DOCTOR_NETNS_PREFIX, strlen(DOCTOR_NETNS_PREFIX)) ||
	    !*p)
		return -1;
	for (; *p; p++) {
		if (*p < '0' || *p > '9' || pid > 1 << 22)
			return -1;
		pid = pid * 10 + (*p - '0');
	}
	return pid > 0 ? pid : -1;
}

/* Returns the number removed, or -errno with a reason in e. */
static int clean_doctors(FILE *log, struct sl_err *e)
{
	int removed = 0, ret = 0;
	struct dirent *de;
	DIR *d = opendir(NETNS_DIR);

	if (!d)
		return errno == ENOENT ? 0 :
			sl_errf(e, errno, "open " NETNS_DIR);
	while ((de = readdir(d))) {
		pid_t pid = doctor_pid(de->d_name);
		const char *argv[] = { "ip", "netns", "delete", de->d_name,
				       NULL };

		/* A live doctor (kill() succeeds, or is refused with EPERM)
		 * is still using its namespace. */
		if (pid < 0 || kill(pid, 0) == 0 || errno != ESRCH)
			continue;
		if (sl_exec(argv, e)) {
			ret = -EIO;
			continue;
		}
		if (log)
			sl_print_argv(log, "", argv);
		removed++;
	}
	closedir(d);
	return ret ? ret : removed;
}

int cli_cmd_clean(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sl_err e = { "" };
	int c, n, m, ret = 0;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c != 'h')
			return cli_getopt_error("clean", c, argv);
		fputs(clean_help, stdout);
		return 0;
	}
	if (optind < argc)
		return cli_usage_error("clean", "unexpected argument '%s'",
				       argv[optind]);
	ret = cli_need_root("clean", "network namespaces");
	if (ret)
		return ret;

	/* Everything, kept runs included: a kept run's namespaces stay until
	 * the user says they are done with them, and this is how they say
	 * it.  Live runs hold their slot locks and are never touched. */
	n = sl_topology_clean_all(stdout, &e);
	if (n < 0) {
		fprintf(stderr, "socklab: clean: %s\n", e.msg);
		ret = SL_EXIT_ERROR;
		n = 0;
	}
	m = clean_doctors(stdout, &e);
	/* A doctor killed between creating its trace instance and removing
	 * it (lib/trace.c) leaves that too. */
	if (m >= 0)
		m += sl_trace_clean_doctors(stdout);
	if (m < 0) {
		fprintf(stderr, "socklab: clean: %s\n", e.msg);
		ret = SL_EXIT_ERROR;
		m = 0;
	}
	if (n + m == 0 && ret == 0)
		puts("nothing to clean");
	else if (n + m)
		printf("removed %d leftover%s\n", n + m,
		       n + m == 1 ? "" : "s");
	return ret;
}
