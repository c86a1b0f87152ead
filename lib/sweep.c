/* sweep.c: removing what killed runs and doctors left behind (sweep.h).
 *
 * The sweep is driven by the evidence socklab itself leaves, never by
 * names found lying around: a slot is looked at only when its lock file
 * exists, and then only the four names socklab gives that slot are
 * removed.  Matching patterns instead (every socklab-<digits>-*) removed
 * other people's namespaces and instances that happened to look alike.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "exec.h"
#include "netns.h"
#include "slot.h"
#include "sweep.h"
#include "topology.h"
#include "trace_instance.h"

struct sweep {
	FILE *log;
	struct sl_err *e;
	int removed;
	int err; /* the first failure, -errno */
};

static void failed(struct sweep *s, int err, const char *what, const char *name)
{
	if (s->err == 0)
		s->err = sl_errf(s->e, -err, "%s %s", what, name);
}

/* Removes one named namespace if it exists. */
static void del_netns(struct sweep *s, const char *name)
{
	const char *argv[] = { "ip", "netns", "del", name, NULL };
	int ret;

	if (!sl_netns_exists(name))
		return;
	ret = sl_netns_del(name);
	if (ret < 0) {
		failed(s, ret, "ip netns del", name);
		return;
	}
	if (s->log)
		sl_print_argv(s->log, "", argv);
	s->removed++;
}

/* One slot whose lock file exists: only once its lock is ours (nobody
 * alive holds it) are its names removed.
 *
 * The lock file stays, whatever was found: it is the only sign that a run
 * of socklab had the slot, and a sweeper sees only the namespaces of its
 * own mount namespace (a test's private /run/netns sees none of the
 * machine's), so "nothing left here" is no proof that nothing is left.
 * It goes when a run next claims the slot and ends normally. */
static int sweep_slot(int slot, void *arg)
{
	struct sweep *s = arg;
	char name[64];
	int fd, ret;

	if (sl_slot_is_kept(slot))
		return 0;
	fd = sl_slot_lock_existing(slot);
	if (fd == -EAGAIN || fd == -ENOENT)
		return 0;
	if (fd < 0) {
		snprintf(name, sizeof(name), SL_RUN_DIR "/slot-%d.lock", slot);
		failed(s, fd, "lock", name);
		return 0;
	}
	ret = sl_trace_remove_instance(slot, s->log);
	if (ret > 0)
		s->removed++;
	if (ret < 0) {
		snprintf(name, sizeof(name), "instance socklab-%d", slot);
		failed(s, ret, "remove trace", name);
	}
	for (int i = 0; i < SL_NHOSTS; i++) {
		sl_topology_netns_name(name, sizeof(name), slot, i);
		del_netns(s, name);
	}
	close(fd);
	return 0;
}

int sl_sweep_stale(FILE *log, struct sl_err *e)
{
	struct sweep s = { .log = log, .e = e };
	int ret;

	ret = sl_slot_each_lockfile(sweep_slot, &s);
	if (ret < 0)
		return sl_errf(e, -ret, "read " SL_RUN_DIR);
	return s.err < 0 ? s.err : s.removed;
}

int sl_sweep_all(FILE *log, struct sl_err *e)
{
	/* Kept runs are no longer kept: the mark was the only thing that
	 * protected their namespaces, and the lock files they left say
	 * which slots they had. */
	sl_slot_unkeep_all();
	return sl_sweep_stale(log, e);
}

struct kept_in {
	const char *dir;
	size_t len;
	int kept;
	struct sweep *s;
};

/* One kept slot: swept when its mark names a folder in k->dir. */
static int sweep_kept_in(int slot, void *arg)
{
	struct kept_in *k = arg;
	char owner[4096];
	int len = sl_slot_kept_owner(slot, owner, sizeof(owner)), ret;

	if (len <= 0 || (size_t)len < k->len ||
	    strncmp(owner, k->dir, k->len) ||
	    (owner[k->len] != '/' && owner[k->len] != '\0'))
		return 0;
	k->kept++;
	ret = sl_slot_unkeep(slot);
	if (ret < 0 && ret != -ENOENT) {
		failed(k->s, ret, "remove the kept mark of slot", owner);
		return 0;
	}
	return sweep_slot(slot, k->s);
}

int sl_sweep_kept_in(const char *dir, int *kept, FILE *log, struct sl_err *e)
{
	struct sweep s = { .log = log, .e = e };
	struct kept_in k = { .dir = dir, .len = strlen(dir), .s = &s };
	int ret;

	/* "/" and "/x/" name the folders under them, as "/x" does. */
	while (k.len > 1 && dir[k.len - 1] == '/')
		k.len--;
	ret = sl_slot_each_kept(sweep_kept_in, &k);
	*kept = k.kept;
	if (ret < 0)
		return sl_errf(e, -ret, "read " SL_RUN_DIR);
	return s.err < 0 ? s.err : s.removed;
}

/* The pid in a name spelled exactly SL_DOCTOR_NETNS_PREFIX "%d", or -1. */
static pid_t doctor_pid(const char *name)
{
	const char *p = name + strlen(SL_DOCTOR_NETNS_PREFIX);
	char want[64];
	long pid;
	char *end;

	if (strncmp(name, SL_DOCTOR_NETNS_PREFIX,
		    strlen(SL_DOCTOR_NETNS_PREFIX)) ||
	    *p < '1' || *p > '9')
		return -1;
	pid = strtol(p, &end, 10);
	if (*end || pid <= 0 || pid > 1 << 22)
		return -1;
	snprintf(want, sizeof(want), SL_DOCTOR_NETNS_PREFIX "%ld", pid);
	return strcmp(name, want) == 0 ? (pid_t)pid : -1;
}

int sl_sweep_doctors(FILE *log, struct sl_err *e)
{
	struct sweep s = { .log = log, .e = e };
	struct dirent *de;
	DIR *d = opendir(SL_NETNS_DIR);

	if (!d && errno != ENOENT)
		return sl_errf(e, errno, "open " SL_NETNS_DIR);
	while (d && (de = readdir(d))) {
		pid_t pid = doctor_pid(de->d_name);

		/* A live doctor (kill() succeeds, or is refused with EPERM)
		 * is still using its namespace. */
		if (pid < 0 || kill(pid, 0) == 0 || errno != ESRCH)
			continue;
		del_netns(&s, de->d_name);
	}
	if (d)
		closedir(d);
	/* A doctor killed between creating its trace instance and removing
	 * it (lib/trace.c) leaves that too. */
	s.removed += sl_trace_clean_doctors(log);
	return s.err < 0 ? s.err : s.removed;
}

int sl_sweep_before_run(FILE *out)
{
	struct sl_err e = { "" };
	char *text = NULL;
	size_t len = 0;
	FILE *log;
	int n;

	log = open_memstream(&text, &len);
	n = sl_sweep_stale(log, &e);
	if (log)
		fclose(log);
	if (len)
		fprintf(out,
			"socklab: leftovers of killed runs found and "
			"removed (`socklab clean` does the same):\n%s",
			text);
	if (n < 0)
		fprintf(out, "socklab: leftovers of killed runs: %s\n", e.msg);
	free(text);
	return n < 0 ? 0 : n;
}
