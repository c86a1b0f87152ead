/* linkemu_control.c: the link emulator's interface (linkemu.h), the
 * caller's half, in the run process or a role process.
 *
 * It checks the fault (linkemu_spec.c), picks the backend, installs the
 * iptables rule or the netem qdisc in the router's namespace
 * (linkemu_rules.c) and prints the commands.  The emulator's half is a
 * child process of the variant's run (linkemu_emulator.c).  The two talk
 * over a SOCK_SEQPACKET socketpair made before any role exists, so every
 * process of the run inherits it; a process-shared, robust mutex in a
 * shared page (struct sl__le_shared, linkemu_proto.h) makes each request
 * and its reply one exchange, whichever process asks.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "clock.h"
#include "err.h"
#include "linkemu_proto.h"
#include "topology.h"

#define REPLY_TIMEOUT_MS 10000
#define STOP_TIMEOUT_MS 2000

static const char *const backend_name[] = { NULL, "linkemu", "netem" };

/* This process's handle on the run's emulator; a role inherits it. */
static struct {
	struct sl__le_shared *sh;
	int ctl;
	pid_t pid;   /* the emulator */
	pid_t owner; /* the process that started it */
	int slot;
	const struct sl_topology *t; /* the run's, for the teardown */
	int explained;		     /* faults explained (explain()) */
} le = { .ctl = -1 };

static void sh_lock(struct sl__le_shared *sh)
{
	if (pthread_mutex_lock(&sh->mu) == EOWNERDEAD)
		pthread_mutex_consistent(&sh->mu);
}

static void stop_undo(void *arg)
{
	(void)arg;
	sl_linkemu_stop();
}

int sl_linkemu_start(const struct sl_topology *t, struct sl_cleanup *c,
		     struct sl_err *e)
{
	pthread_mutexattr_t ma;
	struct sl__le_shared *sh;
	int sv[2], ret;
	pid_t pid, self = getpid();

	/* Started twice for the same run (two callers that each read the
	 * contract in linkemu.h): one emulator serves both. */
	if (le.sh && le.owner == self && le.slot == t->slot)
		return 0;
	if (le.sh && le.owner == self)
		return sl_errf(e, EBUSY,
			       "link emulator already started for "
			       "slot %d",
			       le.slot);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return sl_errf(e, errno, "link emulator: map shared state");
	memset(sh, 0, sizeof(*sh));
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	/* A role killed in the middle of sl_fault() must not wedge the
	 * run's teardown. */
	pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&sh->mu, &ma);
	pthread_mutexattr_destroy(&ma);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		ret = sl_errf(e, errno, "link emulator: socketpair");
		goto out_unmap;
	}
	le.sh = sh;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		ret = sl_errf(e, errno, "link emulator: fork");
		goto out_close;
	}
	if (pid == 0) {
		close(sv[0]);
		sl__le_emulator_main(t, sh, sv[1], self);
	}
	close(sv[1]);
	le.ctl = sv[0];
	le.pid = pid;
	le.owner = self;
	le.slot = t->slot;
	le.t = t;
	if (c && sl_cleanup_push(c, stop_undo, NULL, "link emulator") < 0) {
		sl_linkemu_stop();
		return sl_errf(e, ENOSPC, "link emulator: cleanup stack full");
	}
	return 0;
out_close:
	close(sv[0]);
	close(sv[1]);
out_unmap:
	le.sh = NULL;
	munmap(sh, sizeof(*sh));
	return ret;
}

/* One request, one reply, under the shared lock (held by the caller). */
static int request(struct sl__le_msg *q, struct sl__le_reply *r)
{
	struct pollfd pfd = { .fd = le.ctl, .events = POLLIN };
	int64_t deadline = sl_now() + REPLY_TIMEOUT_MS * SL_NS_PER_MS;

	q->seq = ++le.sh->seq;
	if (send(le.ctl, q, sizeof(*q), MSG_NOSIGNAL) < 0) {
		snprintf(r->why, sizeof(r->why),
			 "link emulator: send request: %s", strerror(errno));
		return -errno;
	}
	for (;;) {
		int64_t left = deadline - sl_now();
		ssize_t n;
		int p;

		if (left <= 0) {
			snprintf(r->why, sizeof(r->why),
				 "link emulator: no answer within %d ms",
				 REPLY_TIMEOUT_MS);
			return -ETIMEDOUT;
		}
		p = poll(&pfd, 1, (int)(left / SL_NS_PER_MS) + 1);
		if (p < 0 && errno == EINTR)
			continue;
		if (p <= 0)
			continue;
		n = recv(le.ctl, r, sizeof(*r), MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n != (ssize_t)sizeof(*r)) {
			snprintf(r->why, sizeof(r->why),
				 "link emulator: the emulator process is gone");
			return -EPIPE;
		}
		/* A reply to a request whose sender was killed while it
		 * waited: not ours. */
		if (r->seq != q->seq)
			continue;
		return r->ret;
	}
}

static uint32_t base_seed(void)
{
	const char *env = getenv("SOCKLAB_SEED");
	char *end;
	unsigned long v;

	if (!env || !*env)
		return 1;
	v = strtoul(env, &end, 0);
	return *end ? 1 : (uint32_t)v;
}

/* SOCKLAB_LINKEMU_BACKEND: "auto" (default: netem where it works),
 * "linkemu" or "netem" (force one, for tests and comparisons). */
static int wanted_backend(void)
{
	const char *env = getenv("SOCKLAB_LINKEMU_BACKEND");

	if (env && !strcmp(env, "linkemu"))
		return LE_B_LINKEMU;
	if (env && !strcmp(env, "netem"))
		return LE_B_NETEM;
	return LE_B_NONE;
}

static int attached(const struct sl_topology *t, struct sl_err *e)
{
	if (!le.sh || le.ctl < 0)
		return sl_errf(e, ENOTCONN,
			       "the link emulator was not started "
			       "(run.c calls sl_linkemu_start() after the "
			       "topology is up)");
	if (t && t->slot != le.slot)
		return sl_errf(e, EINVAL,
			       "the link emulator serves slot %d, "
			       "not %d",
			       le.slot, t->slot);
	return 0;
}

/* A free fault id, marked used, with s (seeded now) as its spec; -ENOSPC
 * when the run has used them all.  Under the lock. */
static int claim(struct sl__le_spec *s, struct sl_err *e)
{
	int id = -1;

	for (int i = 0; i < SL_LINKEMU_MAX_FAULTS && id < 0; i++)
		if (!le.sh->f[i].used)
			id = i;
	if (id < 0)
		return sl_errf(e, ENOSPC, "more than %d faults in one run",
			       SL_LINKEMU_MAX_FAULTS);
	s->seed = base_seed() + (uint32_t)id;
	le.sh->f[id].used = 1;
	le.sh->f[id].spec = *s;
	memset(&le.sh->f[id].st, 0, sizeof(le.sh->f[id].st));
	le.sh->f[id].st.seed = s->seed;
	return id;
}

/* netem where it works, for what it can do; a one-shot drop needs a
 * segment count, which only the emulator keeps. */
static int netem_first(const struct sl__le_spec *s, int want)
{
	return s->kind != LE_DROP && want != LE_B_LINKEMU &&
	       (want == LE_B_NETEM || !le.sh->netem_bad);
}

/* Fault id on netem.  Returns 0 when netem serves it, 1 when the emulator
 * is to serve it instead (netem does not work here: said in the cmdlog,
 * and not tried again in this run), or -errno when netem was forced and
 * failed. */
static int apply_netem(const struct sl_topology *t, int id,
		       const struct sl__le_spec *s, const struct sl_fault *f,
		       int want, FILE *cmdlog, struct sl_err *e)
{
	struct sl_err ne;
	char *text = NULL;
	size_t len = 0;
	FILE *buf = open_memstream(&text, &len);
	int ret = 0, done = 0;

	/* The fault's lines go to the log only if netem takes it. */
	le.sh->f[id].backend = LE_B_NETEM;
	le.sh->f[id].active = 1;
	sl__le_spec_describe(buf, id, s, LE_B_NETEM, f, le.sh->fifo);
	for (int d = 0; d < LE_NDIRS && ret == 0; d++)
		if (s->dirs & (1 << d)) {
			ret = sl__le_netem_sync(t, le.sh, d, buf, &ne);
			done |= ret == 0 ? 1 << d : 0;
		}
	if (buf)
		fclose(buf);
	if (ret == 0 && cmdlog && text)
		fputs(text, cmdlog);
	free(text);
	if (ret == 0)
		return 0;
	le.sh->f[id].active = 0;
	for (int d = 0; d < LE_NDIRS; d++)
		if (done & (1 << d))
			sl__le_netem_sync(t, le.sh, d, NULL,
					  &(struct sl_err){ "" });
	if (want == LE_B_NETEM) {
		le.sh->f[id].used = 0;
		return sl_errf(e, 0, "netem: %s", ne.msg);
	}
	le.sh->netem_bad = 1;
	snprintf(le.sh->netem_why, sizeof(le.sh->netem_why), "%s", ne.msg);
	if (cmdlog)
		fprintf(cmdlog,
			"# fault %d: tc netem does not work here (%s): "
			"socklab's link emulator serves it\n",
			id, ne.msg);
	return 1;
}

/* Takes back what fault id did on the emulator, so that the run can go on
 * as an ERROR without a half-applied fault. */
static void take_back(const struct sl_topology *t, int id, int dirs)
{
	struct sl__le_msg q = { .op = LE_OP_LIFT, .id = id };
	struct sl__le_reply r = { 0 };

	for (int d = 0; d < LE_NDIRS; d++)
		if ((dirs & (1 << d)) && le.sh->rules[d] > 0 &&
		    --le.sh->rules[d] == 0)
			sl__le_queue_rule(t, d, 0, NULL,
					  &(struct sl_err){ "" });
	request(&q, &r);
	le.sh->f[id].active = 0;
	le.sh->f[id].used = 0;
}

/* Fault id on the emulator: the request, then each direction's queue rule
 * where no other fault has put it yet.  Returns 0 or -errno. */
static int apply_linkemu(const struct sl_topology *t, int id,
			 const struct sl__le_spec *s, const struct sl_fault *f,
			 FILE *cmdlog, struct sl_err *e)
{
	struct sl__le_msg q = { .op = LE_OP_APPLY, .id = id, .spec = *s };
	struct sl__le_reply r = { 0 };
	int ret;

	le.sh->f[id].backend = LE_B_LINKEMU;
	ret = request(&q, &r);
	if (ret < 0) {
		sl_errf(e, 0, "%s", r.why[0] ? r.why : "link emulator refused");
		le.sh->f[id].used = 0;
		return ret;
	}
	/* After the first answer: the emulator has set its scheduling. */
	sl__le_spec_describe(cmdlog, id, s, LE_B_LINKEMU, f, le.sh->fifo);
	le.sh->f[id].active = 1;
	for (int d = 0; d < LE_NDIRS; d++) {
		if (!(s->dirs & (1 << d)) || le.sh->rules[d]++ > 0)
			continue;
		ret = sl__le_queue_rule(t, d, 1, cmdlog, e);
		if (ret < 0) {
			le.sh->rules[d]--;
			break;
		}
	}
	if (ret < 0)
		take_back(t, id, s->dirs);
	return ret;
}

void sl_linkemu_explain_begin(void)
{
	le.explained = 0;
}

/* Fault f, only explained (topology.h): the commands that serve it,
 * printed by the code that runs them, and nothing done.  netem's qdisc,
 * as a run tries it first, for what netem can do, with the emulator's
 * rule said for kernels without sch_netem; the emulator's rule alone for a
 * one-shot drop, which only it counts (or for everything, when
 * SOCKLAB_LINKEMU_BACKEND=linkemu says so). */
static int explain(const struct sl_topology *t, const struct sl__le_spec *s,
		   const struct sl_fault *f, FILE *out, struct sl_err *e)
{
	struct sl__le_shared *sh = calloc(1, sizeof(*sh));
	int id = le.explained++ % SL_LINKEMU_MAX_FAULTS, ret = 0;
	int netem = s->kind != LE_DROP && wanted_backend() != LE_B_LINKEMU;

	if (!sh)
		return sl_errf(e, ENOMEM, "explain fault %d", id);
	sh->f[id].active = 1;
	sh->f[id].backend = LE_B_NETEM;
	sh->f[id].spec = *s;
	sl__le_spec_describe(out, id, s, netem ? LE_B_NETEM : LE_B_LINKEMU, f,
			     0);
	for (int d = 0; d < LE_NDIRS && ret == 0 && netem; d++)
		if (s->dirs & (1 << d))
			ret = sl__le_netem_sync(t, sh, d, out, e);
	if (netem && out)
		fprintf(out, "# (a kernel without sch_netem: socklab's link "
			     "emulator serves it, the packets handed to it by "
			     "these rules)\n");
	for (int d = 0; d < LE_NDIRS && ret == 0; d++)
		if (s->dirs & (1 << d)) {
			if (netem && out)
				fputs("# ", out);
			ret = sl__le_queue_rule(t, d, 1, out, e);
		}
	free(sh);
	return ret < 0 ? ret : id;
}

int sl_linkemu_apply(const struct sl_topology *t, const struct sl_fault *f,
		     FILE *cmdlog, struct sl_err *e)
{
	struct sl__le_spec s;
	int ret, id, want = wanted_backend();

	if (t->explain) {
		ret = sl__le_spec_check(f, &s, e);
		return ret < 0 ? ret : explain(t, &s, f, cmdlog, e);
	}
	ret = attached(t, e);
	if (ret < 0)
		return ret;
	ret = sl__le_spec_check(f, &s, e);
	if (ret < 0)
		return ret;
	sh_lock(le.sh);
	id = claim(&s, e);
	if (id < 0) {
		ret = id;
		goto out;
	}
	ret = 1; /* the emulator's, unless netem takes it */
	if (netem_first(&s, want))
		ret = apply_netem(t, id, &s, f, want, cmdlog, e);
	if (ret == 1)
		ret = apply_linkemu(t, id, &s, f, cmdlog, e);
out:
	if (cmdlog)
		fflush(cmdlog);
	pthread_mutex_unlock(&le.sh->mu);
	return ret < 0 ? ret : id;
}

int sl_linkemu_lift(const struct sl_topology *t, int id, struct sl_err *e)
{
	struct sl__le_msg q = { .op = LE_OP_LIFT, .id = id };
	struct sl__le_reply r = { 0 };
	int ret = attached(t, e), dirs;

	if (ret < 0)
		return ret;
	if (id < 0 || id >= SL_LINKEMU_MAX_FAULTS)
		return sl_errf(e, EINVAL, "lift: no fault %d", id);
	sh_lock(le.sh);
	if (!le.sh->f[id].used || !le.sh->f[id].active) {
		ret = sl_errf(e, ENOENT, "lift: fault %d is not in force", id);
		goto out;
	}
	dirs = le.sh->f[id].spec.dirs;
	le.sh->f[id].active = 0;
	if (le.sh->f[id].backend == LE_B_NETEM) {
		for (int d = 0; d < LE_NDIRS; d++)
			if (dirs & (1 << d)) {
				int r2 =
					sl__le_netem_sync(t, le.sh, d, NULL, e);

				if (r2 < 0 && ret == 0)
					ret = r2;
			}
		goto out;
	}
	/* The rule goes first: packets already queued still get their
	 * verdict from the emulator, which keeps listening. */
	for (int d = 0; d < LE_NDIRS; d++) {
		if (!(dirs & (1 << d)) || --le.sh->rules[d] > 0)
			continue;
		int r2 = sl__le_queue_rule(t, d, 0, NULL, e);

		if (r2 < 0 && ret == 0)
			ret = r2;
	}
	if (request(&q, &r) < 0 && ret == 0)
		ret = sl_errf(e, 0, "%s", r.why);
out:
	pthread_mutex_unlock(&le.sh->mu);
	return ret;
}

const char *sl_linkemu_backend(int id)
{
	if (!le.sh || id < 0 || id >= SL_LINKEMU_MAX_FAULTS ||
	    !le.sh->f[id].used)
		return NULL;
	return backend_name[le.sh->f[id].backend];
}

int sl_linkemu_stats(int id, struct sl_linkemu_stats *st)
{
	if (!le.sh || id < 0 || id >= SL_LINKEMU_MAX_FAULTS ||
	    !le.sh->f[id].used)
		return -ENOENT;
	*st = le.sh->f[id].st;
	return 0;
}

pid_t sl__linkemu_pid(void)
{
	return le.sh ? le.pid : 0;
}

/* Waits up to ms for pid to end.  Returns 1 when it has been reaped. */
static int reap_within(pid_t pid, int ms)
{
	int64_t deadline = sl_now() + (int64_t)ms * SL_NS_PER_MS;
	struct timespec tick = { 0, SL_NS_PER_MS };

	do {
		pid_t p = waitpid(pid, NULL, WNOHANG);

		if (p == pid || (p < 0 && errno == ECHILD))
			return 1;
		nanosleep(&tick, NULL);
	} while (sl_now() < deadline);
	return 0;
}

void sl_linkemu_stop(void)
{
	struct sl__le_msg q = { .op = LE_OP_STOP };
	struct sl_err e;
	struct sl__le_reply r;

	if (!le.sh)
		return;
	if (le.owner != getpid()) {
		/* A role's inherited copy: drop it, the run stops the
		 * emulator. */
		close(le.ctl);
		le.ctl = -1;
		le.sh = NULL;
		return;
	}
	sh_lock(le.sh);
	/* Rules and qdiscs first, so that a kept topology (socklab run
	 * --keep) is left with a working path, not with a queue that
	 * nobody reads. */
	for (int i = 0; i < SL_LINKEMU_MAX_FAULTS; i++) {
		if (!le.sh->f[i].active)
			continue;
		le.sh->f[i].active = 0;
		for (int d = 0; d < LE_NDIRS; d++) {
			if (!(le.sh->f[i].spec.dirs & (1 << d)))
				continue;
			if (le.sh->f[i].backend == LE_B_NETEM)
				sl__le_netem_sync(le.t, le.sh, d, NULL, &e);
			else if (--le.sh->rules[d] == 0)
				sl__le_queue_rule(le.t, d, 0, NULL, &e);
		}
	}
	request(&q, &r);
	pthread_mutex_unlock(&le.sh->mu);
	close(le.ctl);
	le.ctl = -1;
	if (!reap_within(le.pid, STOP_TIMEOUT_MS)) {
		kill(le.pid, SIGKILL);
		while (waitpid(le.pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	munmap(le.sh, sizeof(*le.sh));
	le.sh = NULL;
	le.pid = 0;
	le.owner = 0;
}
