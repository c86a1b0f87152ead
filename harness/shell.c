/* shell.c: `socklab shell [SLOT] <host> [-- COMMAND [ARG]...]`, a shell
 * (or one command) inside a host's namespace of a paused or kept run.
 *
 * A run's namespaces are named after its slot (socklab-S-client, slot.h),
 * which is how a learner names the run: the pauses of `run --step` and
 * the line `run --keep` prints both show it.  Without a slot, the newest
 * run that is paused at a mark (step.h's mark in /run/socklab) or kept
 * (slot.h's) is entered, saying so when there are several.  A run that is
 * merely running is entered only when named: it may be anybody's, and it
 * may vanish under the shell at any moment.
 *
 * The shell runs as `ip netns exec` runs it, which also gives it the
 * namespace's own /sys, exactly as a learner would type it by hand; the
 * prompt names the namespace.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "exec.h"
#include "help.h"
#include "slot.h"
#include "step.h"
#include "topology.h"

#define NETNS_DIR "/run/netns/"

/* The hosts of every topology, in enum sl_host_id's order. */
static const char *const hosts[SL_NHOSTS] = {
	[SL_HOST_CLIENT] = "client",
	[SL_HOST_ROUTER] = "router",
	[SL_HOST_SERVER] = "server",
};

/* What a slot is to the shell. */
struct run_state {
	int slot;
	const char *how; /* "paused", "kept", "running" */
	char what[256];	 /* a paused run: what it waits at */
	struct timespec since;
};

static int has_netns(int slot, int host)
{
	char name[64], path[128];

	sl_topology_netns_name(name, sizeof(name), slot, host);
	snprintf(path, sizeof(path), NETNS_DIR "%s", name);
	return access(path, F_OK) == 0;
}

/* Whether a live process holds slot's lock: a run in progress. */
static int is_live(int slot)
{
	int fd = sl_slot_lock_existing(slot);

	if (fd >= 0) {
		/* A killed run's slot: let go of it at once, as it was. */
		close(fd);
		return 0;
	}
	return fd == -EAGAIN;
}

/* Fills st for slot; returns 1 when it is paused, kept or (named only)
 * running, with its host's namespace there. */
static int look(int slot, int host, int named, struct run_state *st)
{
	char path[128];
	struct stat sb;

	memset(st, 0, sizeof(*st));
	st->slot = slot;
	if (!has_netns(slot, host))
		return 0;
	if (sl_step_paused(slot, st->what, sizeof(st->what))) {
		st->how = "paused";
		sl_step_paused_path(path, sizeof(path), slot);
	} else if (sl_slot_is_kept(slot)) {
		st->how = "kept";
		snprintf(path, sizeof(path), SL_RUN_DIR "/slot-%d.kept", slot);
	} else if (named && is_live(slot)) {
		st->how = "running";
		snprintf(path, sizeof(path), SL_RUN_DIR "/slot-%d.lock", slot);
	} else {
		return 0;
	}
	if (stat(path, &sb) == 0)
		st->since = sb.st_mtim;
	return 1;
}

static int newer(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec != b->tv_sec ? a->tv_sec > b->tv_sec :
					a->tv_nsec > b->tv_nsec;
}

/* The newest paused or kept run with host's namespace; says which when
 * there are several.  Returns 0, or SL_EXIT_ERROR when there is none. */
static int pick(int host, struct run_state *best)
{
	struct run_state st;
	char slots[512] = "";
	size_t used = 0;
	int n = 0;

	for (int s = 0; s < SL_SLOTS; s++) {
		if (!look(s, host, 0, &st))
			continue;
		if (used < sizeof(slots))
			used += snprintf(slots + used, sizeof(slots) - used,
					 "%s%d %s", n ? ", " : "", s, st.how);
		if (!n++ || newer(&st.since, &best->since))
			*best = st;
	}
	if (n == 0) {
		fprintf(stderr,
			"socklab: shell: no run is paused or kept, so there "
			"is no %s to enter (`socklab run --step` pauses one, "
			"`socklab run --keep` keeps one)\n",
			hosts[host]);
		return SL_EXIT_ERROR;
	}
	if (n > 1)
		fprintf(stderr,
			"socklab: shell: %d runs are paused or kept (slots "
			"%s): entering the newest, slot %d (`socklab shell "
			"SLOT %s` enters another)\n",
			n, slots, best->slot, hosts[host]);
	return 0;
}

static int find_host(const char *name)
{
	for (int h = 0; h < SL_NHOSTS; h++)
		if (!strcmp(hosts[h], name))
			return h;
	return -1;
}

/* The user's shell when it is an absolute path to a program, else
 * /bin/sh. */
static const char *user_shell(void)
{
	const char *sh = getenv("SHELL");

	if (sh && sh[0] == '/' && access(sh, X_OK) == 0)
		return sh;
	return "/bin/sh";
}

/* Execs `ip netns exec NS COMMAND...`, or the shell; returns only on
 * failure, with the exit status. */
static int enter(const struct run_state *st, int host, char **cmd, int ncmd)
{
	const char *ip = sl_exec_where("ip");
	char ns[64], prompt[128];
	const char **argv = calloc(ncmd + 6, sizeof(*argv));
	int argc = 0;

	if (!argv) {
		fprintf(stderr, "socklab: shell: out of memory\n");
		return SL_EXIT_ERROR;
	}
	if (!ip) {
		fprintf(stderr,
			"socklab: shell: no ip (iproute2) in " SL_EXEC_PATH
			"\n");
		free(argv);
		return SL_EXIT_ERROR;
	}
	sl_topology_netns_name(ns, sizeof(ns), st->slot, host);
	argv[argc++] = ip;
	argv[argc++] = "netns";
	argv[argc++] = "exec";
	argv[argc++] = ns;
	for (int i = 0; i < ncmd; i++)
		argv[argc++] = cmd[i];
	if (!ncmd)
		argv[argc++] = user_shell();
	argv[argc] = NULL;
	fprintf(stderr, "socklab: shell: %s of run slot %d (%s%s%s)",
		hosts[host], st->slot, st->how, st->what[0] ? ": " : "",
		st->what);
	if (!ncmd)
		fprintf(stderr, "; `exit` leaves it");
	fputc('\n', stderr);
	/* The prompt says where the shell is: sh and dash read PS1, and
	 * Debian's bash.bashrc puts debian_chroot in front of its own. */
	snprintf(prompt, sizeof(prompt), "(%s) # ", ns);
	setenv("PS1", prompt, 1);
	setenv("debian_chroot", ns, 1);
	setenv("SOCKLAB_NETNS", ns, 1);
	setenv("PATH", SL_EXEC_PATH, 0);
	fflush(NULL);
	execv(ip, (char *const *)argv);
	fprintf(stderr, "socklab: shell: run %s: %s\n", ip, strerror(errno));
	free(argv);
	return SL_EXIT_ERROR;
}

/* A slot as the user typed it: a number, as in socklab-S-client. */
static int parse_slot(const char *s, int *slot)
{
	long v;

	if (cli_parse_int(s, 0, SL_SLOTS - 1, &v))
		return -EINVAL;
	*slot = (int)v;
	return 0;
}

int cli_cmd_shell(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct run_state st;
	char **cmd = NULL;
	int c, host, slot = -1, nwords, ncmd = 0, ret;

	opterr = 0;
	/* "+": the options end at the first word, so that a command's own
	 * options after "--" are its own. */
	while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		if (c != 'h')
			return cli_getopt_error("shell", c, argv);
		cli_help_text(stdout, cli_help_find("shell"));
		return 0;
	}
	for (nwords = 0; optind + nwords < argc; nwords++) {
		if (!strcmp(argv[optind + nwords], "--")) {
			cmd = argv + optind + nwords + 1;
			ncmd = argc - (optind + nwords + 1);
			break;
		}
	}
	if (cmd && ncmd == 0)
		return cli_usage_error("shell", "no command after '--'");
	if (nwords == 0)
		return cli_usage_error("shell", "which host? client, router "
						"or server");
	if (nwords > 2)
		return cli_usage_error("shell", "unexpected argument '%s'",
				       argv[optind + 2]);
	if (nwords == 2 && parse_slot(argv[optind], &slot))
		return cli_usage_error("shell",
				       "'%s' is not a run slot (a number "
				       "from 0 to %d, as in socklab-S-client)",
				       argv[optind], SL_SLOTS - 1);
	host = find_host(argv[optind + nwords - 1]);
	if (host < 0)
		return cli_usage_error("shell",
				       "unknown host '%s' (a run's hosts are "
				       "client, router and server)",
				       argv[optind + nwords - 1]);
	ret = cli_need_root("shell", "entering a network namespace");
	if (ret)
		return ret;
	if (slot < 0) {
		ret = pick(host, &st);
		if (ret)
			return ret;
	} else if (!look(slot, host, 1, &st)) {
		fprintf(stderr,
			"socklab: shell: run slot %d is not paused, kept or "
			"running, or has no %s (no namespace %s%d-%s)\n",
			slot, hosts[host], SL_NETNS_PREFIX, slot, hosts[host]);
		return SL_EXIT_ERROR;
	}
	return enter(&st, host, cmd, ncmd);
}
