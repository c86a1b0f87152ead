/* test_faults.c: faults on a real topology (needs root).
 *
 * Each test builds a topology of its own and checks what the path does,
 * with datagrams and connections between the hosts, never with what the
 * fault code says about itself:
 *  - a blackhole from SETUP drops both ways, one with .from only that
 *    direction, and lifting it lets traffic through again;
 *  - bad fault specifications fail with a reason;
 *  - the link emulator's kinds reach it (a delay delays, and lifts);
 *  - a crash kills the host's role and silences it both ways;
 *  - a reboot (asked by a role process, served by the fault server) gives the
 *    host a fresh namespace with the same address and no socket: a
 *    connection to the port that listened before is refused, and the new
 *    capture file sees the RST;
 *  - a role whose function returned stays until the other role has;
 *  - teardown leaves no namespace behind.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ipaddr.h"
#include "board.h"
#include "cleanup.h"
#include "clock.h"
#include "err.h"
#include "faults.h"
#include "faultserver.h"
#include "linkemu.h"
#include "observe.h"
#include "role.h"
#include "setup.h"
#include "socklab.h"
#include "timeline.h"
#include "topology.h"

struct fixture {
	struct sl_cleanup cleanup;
	struct sl_topology topo;
	struct sl_board *board;
	struct sl_role self; /* a "client role" in the test process */
	char netns[SL_NHOSTS][64];
};

static void destroy_board(void *arg)
{
	sl_board_destroy(arg);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct sl_err e;

	assert_non_null(f);
	if (sl_topology_up(&f->topo, AF_INET, &f->cleanup, NULL, &e) < 0)
		fail_msg("topology: %s", e.msg);
	assert_int_equal(sl_board_create(&f->board, &e), 0);
	assert_int_equal(sl_cleanup_push(&f->cleanup, destroy_board, f->board,
					 "board"),
			 0);
	for (int h = 0; h < SL_NHOSTS; h++)
		snprintf(f->netns[h], sizeof(f->netns[h]), "%s",
			 f->topo.host[h].netns);
	f->self.topo = &f->topo;
	f->self.host = SL_HOST_CLIENT;
	f->self.board = f->board;
	f->self.deadline = sl_now() + 20 * SL_NS_PER_SEC;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char path[128];

	sl_cleanup_run(&f->cleanup);
	/* Every namespace is gone, the rebuilt one included. */
	for (int h = 0; h < SL_NHOSTS; h++) {
		snprintf(path, sizeof(path), "/run/netns/%s", f->netns[h]);
		assert_int_equal(access(path, F_OK), -1);
	}
	free(f);
	return 0;
}

static struct sockaddr_in addr_of(struct fixture *f, int h, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };

	sa.sin_addr = sl_ip_to4(&f->topo.host[h].iface[0].addr);
	sa.sin_port = htons(port);
	return sa;
}

/* A socket created inside host h (it stays there after we leave). */
static int socket_in(struct fixture *f, int h, int type)
{
	struct sl_err e;
	int fd;

	assert_int_equal(sl_topology_enter(&f->topo, h, &e), 0);
	fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
	assert_int_equal(sl_topology_leave(&f->topo, &e), 0);
	assert_true(fd >= 0);
	return fd;
}

/* Does a datagram from host a reach host b?  Up to five tries, 200 ms
 * apart, so that "passes" never depends on one datagram's luck (the
 * neighbour tables are filled by the first). */
static int udp_passes(struct fixture *f, int a, int b)
{
	struct sockaddr_in to = addr_of(f, b, 7000);
	int r = socket_in(f, b, SOCK_DGRAM), s = socket_in(f, a, SOCK_DGRAM);
	struct pollfd pfd = { .fd = r, .events = POLLIN };
	int got = 0;

	assert_int_equal(bind(r, (struct sockaddr *)&to, sizeof(to)), 0);
	for (int i = 0; i < 5 && !got; i++)
		/* A drop in the sender's own output hook fails the send
		 * (EPERM): that is not passing either. */
		got = sendto(s, "x", 1, 0, (struct sockaddr *)&to,
			     sizeof(to)) == 1 &&
		      poll(&pfd, 1, 200) == 1;
	close(r);
	close(s);
	return got;
}

static int count_kind(struct fixture *f, const char *kind)
{
	struct sl_fault_rec rec[SL_FAULTS_MAX];
	int n = sl_faults_export(f->board, rec, SL_FAULTS_MAX), c = 0;

	for (int i = 0; i < n; i++)
		c += strcmp(rec[i].kind, kind) == 0;
	return c;
}

static void test_blackhole(void **state)
{
	struct fixture *f = *state;
	struct sl_setup s = { .topo = &f->topo, .board = f->board };
	struct sl_fault_rec rec[SL_FAULTS_MAX];

	assert_true(udp_passes(f, SL_HOST_CLIENT, SL_HOST_SERVER));
	sl_fault(&s, .kind = "blackhole");
	if (s.failed)
		fail_msg("%s", s.err.msg);
	assert_false(udp_passes(f, SL_HOST_CLIENT, SL_HOST_SERVER));
	assert_false(udp_passes(f, SL_HOST_SERVER, SL_HOST_CLIENT));
	/* A pulled cable in the middle: both hosts keep their own links and
	 * still reach the router itself. */
	assert_true(udp_passes(f, SL_HOST_CLIENT, SL_HOST_ROUTER));
	assert_true(udp_passes(f, SL_HOST_SERVER, SL_HOST_ROUTER));
	assert_int_equal(sl_faults_export(f->board, rec, SL_FAULTS_MAX), 1);
	assert_string_equal(rec[0].kind, "blackhole");
	assert_string_equal(rec[0].backend, "nftables");
	assert_false(rec[0].lifted);

	sl_fault_lift(&f->self, 0);
	assert_true(udp_passes(f, SL_HOST_CLIENT, SL_HOST_SERVER));
	assert_true(udp_passes(f, SL_HOST_SERVER, SL_HOST_CLIENT));
	sl_faults_export(f->board, rec, SL_FAULTS_MAX);
	assert_true(rec[0].lifted);

	/* One direction only. */
	sl_fault(&s, .kind = "blackhole", .from = "client");
	assert_false(s.failed);
	assert_false(udp_passes(f, SL_HOST_CLIENT, SL_HOST_SERVER));
	assert_true(udp_passes(f, SL_HOST_SERVER, SL_HOST_CLIENT));
	/* The timeline knows: a note naming the backend, and marks. */
	assert_int_equal(count_kind(f, "blackhole"), 2);
}

/* How long a datagram from host a takes to reach host b, in ms, or -1. */
static double udp_ms(struct fixture *f, int a, int b)
{
	struct sockaddr_in to = addr_of(f, b, 7001);
	int r = socket_in(f, b, SOCK_DGRAM), s = socket_in(f, a, SOCK_DGRAM);
	struct pollfd pfd = { .fd = r, .events = POLLIN };
	int64_t t0;
	double ms = -1;

	assert_int_equal(bind(r, (struct sockaddr *)&to, sizeof(to)), 0);
	t0 = sl_now();
	if (sendto(s, "x", 1, 0, (struct sockaddr *)&to, sizeof(to)) == 1 &&
	    poll(&pfd, 1, 1000) == 1)
		ms = (double)(sl_now() - t0) / SL_NS_PER_MS;
	close(r);
	close(s);
	return ms;
}

/* The other kinds go to the link emulator (linkemu.h): the dispatch is
 * checked on the path, and the backend that served it is recorded. */
static void test_linkemu_dispatch(void **state)
{
	struct fixture *f = *state;
	struct sl_setup s = { .topo = &f->topo, .board = f->board };
	struct sl_fault_rec rec[SL_FAULTS_MAX];
	struct sl_err e;
	double ms;

	if (sl_linkemu_start(&f->topo, &f->cleanup, &e) < 0)
		fail_msg("linkemu: %s", e.msg);
	assert_true(udp_passes(f, SL_HOST_CLIENT, SL_HOST_SERVER));
	sl_fault(&s, .kind = "delay", .from = "client", .delay_ms = 100);
	if (s.failed)
		fail_msg("%s", s.err.msg);
	ms = udp_ms(f, SL_HOST_CLIENT, SL_HOST_SERVER);
	assert_true(ms >= 95 && ms < 300);
	assert_int_equal(sl_faults_export(f->board, rec, SL_FAULTS_MAX), 1);
	assert_string_equal(rec[0].kind, "delay");
	assert_true(strcmp(rec[0].backend, "linkemu") == 0 ||
		    strcmp(rec[0].backend, "netem") == 0);
	assert_non_null(strstr(rec[0].what, "delay 100 ms"));

	sl_fault_lift(&f->self, 0);
	ms = udp_ms(f, SL_HOST_CLIENT, SL_HOST_SERVER);
	assert_true(ms >= 0 && ms < 50);
	sl_faults_export(f->board, rec, SL_FAULTS_MAX);
	assert_true(rec[0].lifted);
}

static void test_bad_specs(void **state)
{
	struct fixture *f = *state;
	struct sl_setup s = { .topo = &f->topo, .board = f->board };

	sl_fault(&s, .from = "client");
	assert_true(s.failed);
	assert_non_null(strstr(s.err.msg, ".kind is required"));

	memset(&s.err, 0, sizeof(s.err));
	s.failed = 0;
	sl_fault(&s, .kind = "unplug");
	assert_true(s.failed);
	assert_non_null(strstr(s.err.msg, "unknown .kind"));

	s.failed = 0;
	sl_fault(&s, .kind = "blackhole", .flags = "S");
	assert_true(s.failed);
	assert_non_null(strstr(s.err.msg, "only .from"));

	s.failed = 0;
	sl_fault(&s, .kind = "blackhole", .from = "router");
	assert_true(s.failed);
	/* Nothing was applied: traffic flows. */
	assert_int_equal(count_kind(f, "blackhole"), 0);
	assert_true(udp_passes(f, SL_HOST_CLIENT, SL_HOST_SERVER));
}

/* A process standing for the server's role: it waits to be killed. */
static pid_t fake_role(struct fixture *f, int h)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		if (setns(f->topo.host[h].nsfd, CLONE_NEWNET) < 0)
			_exit(1);
		for (;;)
			pause();
	}
	sl_board_set_pid(f->board, h, pid);
	return pid;
}

static void crash_server(struct fixture *f)
{
	pid_t pid = fake_role(f, SL_HOST_SERVER);
	int st;

	sl_crash(&f->self, "server");
	assert_int_equal(waitpid(pid, &st, WNOHANG), pid);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	assert_true(sl_faults_crashed(f->board, SL_HOST_SERVER));
	assert_false(sl_faults_crashed(f->board, SL_HOST_CLIENT));
}

static void test_crash(void **state)
{
	struct fixture *f = *state;

	crash_server(f);
	/* Silent both ways; the client is untouched. */
	assert_false(udp_passes(f, SL_HOST_CLIENT, SL_HOST_SERVER));
	assert_false(udp_passes(f, SL_HOST_SERVER, SL_HOST_CLIENT));
	assert_int_equal(count_kind(f, "crash"), 1);
}

/* The fault server's settled(): the child standing for the role that asks
 * for a reboot has exited. */
struct child {
	pid_t pid;
	int status;
};

static int child_exited(void *arg)
{
	struct child *c = arg;

	return waitpid(c->pid, &c->status, WNOHANG) == c->pid;
}

/* The run's side of a reboot: the fault server, as run.c runs it, until
 * the child exits.  Returns the child's status. */
static int serve_until_exit(struct sl_faults_ctx *fx, pid_t pid)
{
	struct child c = { .pid = pid };
	struct sl_faultserver fs = { .ctx = *fx,
				     .settled = child_exited,
				     .arg = &c };

	if (sl_faultserver_run(&fs, sl_now() + 10 * SL_NS_PER_SEC) < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &c.status, 0);
		fail_msg("the rebooting role did not finish");
	}
	return c.status;
}

/* The test's own scratch folder: every file the observers wrote in it
 * (which hosts they capture on is theirs to decide), then itself. */
static void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *ent;
	char path[512];

	while (d && (ent = readdir(d)) != NULL) {
		if (ent->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, ent->d_name);
		unlink(path);
	}
	if (d)
		closedir(d);
	if (rmdir(dir) < 0)
		print_message("could not remove %s: %s\n", dir,
			      strerror(errno));
}

static void test_reboot(void **state)
{
	struct fixture *f = *state;
	struct sockaddr_in srv = addr_of(f, SL_HOST_SERVER, SL_PORT);
	char dir[] = "/tmp/socklab-test-faults-XXXXXX", path[256];
	struct sl_observer *obs = NULL;
	struct sl_faults_ctx fx = {
		.topo = &f->topo,
		.cleanup = &f->cleanup,
		.dir = dir,
		.board = f->board,
	};
	struct sl_timeline tl;
	struct sl_err e;
	struct stat before, after, nsbefore, nsafter;
	sigset_t set;
	int lfd, cfd, oldfd, rsts = 0, listeners = 0, host;
	const char *why;
	pid_t child;

	/* As in a run, blocked before any thread starts (faultserver.h): a
	 * thread with SIGUSR1 unblocked would take a role's request and die of
	 * it.  SIGINT and SIGTERM are left to end the test. */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	assert_non_null(mkdtemp(dir));
	assert_int_equal(sl_observer_start(&obs, &f->topo, dir, f->board, &e),
			 0);
	fx.obs = obs;
	/* A listener the old server had: a reboot forgets it. */
	lfd = socket_in(f, SL_HOST_SERVER, SOCK_STREAM);
	assert_int_equal(bind(lfd, (struct sockaddr *)&srv, sizeof(srv)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	snprintf(path, sizeof(path), "/run/netns/%s", f->netns[SL_HOST_SERVER]);
	assert_int_equal(stat(path, &before), 0);
	oldfd = f->topo.host[SL_HOST_SERVER].nsfd;
	assert_int_equal(fstat(oldfd, &nsbefore), 0);

	/* Not crashed: a reboot is refused (in a child: it _exit()s). */
	child = fork();
	if (child == 0)
		sl_reboot(&f->self, "server");
	assert_int_equal(serve_until_exit(&fx, child), SL_ROLE_EXIT_ERROR << 8);

	crash_server(f);
	child = fork();
	if (child == 0) {
		sl_reboot(&f->self, "server");
		_exit(0);
	}
	if (serve_until_exit(&fx, child) != 0) {
		why = sl_board_error(f->board, &host);
		fail_msg("reboot: %s", why ? why : "role failed");
	}
	/* SIGUSR1 stays blocked, as in a run: one may still be pending. */

	/* A fresh namespace under the same name, the same address. */
	assert_int_equal(stat(path, &after), 0);
	assert_true(before.st_ino != after.st_ino);
	assert_int_equal(fstat(f->topo.host[SL_HOST_SERVER].nsfd, &nsafter), 0);
	assert_true(nsbefore.st_ino != nsafter.st_ino);
	assert_int_equal(count_kind(f, "reboot"), 1);
	/* Traffic flows again, and the old listener is gone: refused. */
	assert_true(udp_passes(f, SL_HOST_CLIENT, SL_HOST_SERVER));
	cfd = socket_in(f, SL_HOST_CLIENT, SOCK_STREAM);
	assert_int_equal(connect(cfd, (struct sockaddr *)&srv, sizeof(srv)),
			 -1);
	assert_int_equal(errno, ECONNREFUSED);
	close(cfd);
	close(lfd);

	/* The observer samples the new namespace as it sampled the old
	 * one, by one rule (no sample dropped for how long its dump took,
	 * before or after the pause: a flag once made the resumed thread
	 * keep some it would have dropped).  A listener there is seen as
	 * soon as two dumps have passed over it. */
	lfd = socket_in(f, SL_HOST_SERVER, SOCK_STREAM);
	assert_int_equal(bind(lfd, (struct sockaddr *)&srv, sizeof(srv)), 0);
	assert_int_equal(listen(lfd, 7), 0);
	{
		long d0, d;
		int64_t ns, deadline = sl_now() + 5 * SL_NS_PER_SEC;

		sl_observer_cost(obs, &d0, &ns);
		do {
			struct timespec ms = { .tv_nsec = SL_NS_PER_MS };

			nanosleep(&ms, NULL); /* a bounded poll of a counter */
			sl_observer_cost(obs, &d, &ns);
		} while (d < d0 + 4 && sl_now() < deadline);
		assert_true(d >= d0 + 4);
	}

	/* The new capture saw the server's RST, and the new sampler the
	 * new listener (backlog 7: not the old one's 4). */
	sl_timeline_init(&tl);
	assert_int_equal(sl_observer_stop(obs, &tl, &e), 0);
	for (int i = 0; i < tl.n; i++) {
		const struct sl_event *ev = &tl.ev[i];

		rsts += ev->kind == SL_EV_PACKET &&
			ev->host == SL_HOST_SERVER &&
			ev->from == SL_HOST_SERVER && (ev->pkt.flags & 0x04);
		if (ev->kind == SL_EV_STATE && ev->host == SL_HOST_SERVER &&
		    ev->sock.state == TCP_LISTEN && ev->sock.wqueue == 7)
			listeners++;
	}
	sl_timeline_free(&tl);
	close(lfd);
	assert_true(rsts >= 1);
	assert_int_equal(listeners, 1);
	snprintf(path, sizeof(path), "%s/server-eth0-after-reboot.pcap", dir);
	assert_int_equal(stat(path, &after), 0);
	assert_true(after.st_size > 24); /* more than a pcap header */
	remove_dir(dir);
}

/* Roles of test_roles_outlive(): the client's function returns at once,
 * the server's once the test marks "go". */
static void role_returns(struct sl_role *self, const void *knobs)
{
	(void)self;
	(void)knobs;
}

static void role_waits_for_go(struct sl_role *self, const void *knobs)
{
	(void)knobs;
	sl_wait_mark(self, "router", "go");
}

/* A role whose function has returned stays (its descriptors open) until
 * the other has returned too; then both go. */
static void test_roles_outlive(void **state)
{
	struct fixture *f = *state;
	int64_t deadline = sl_now() + 10 * SL_NS_PER_SEC;
	struct pollfd pfd = { .events = POLLIN };
	struct sl_event go = { .kind = SL_EV_MARK,
			       .host = SL_HOST_ROUTER,
			       .from = -1,
			       .to = -1,
			       .name = "go" };
	pid_t client, server;
	struct sl_err e;
	int st;

	sl_board_role_started(f->board, SL_HOST_CLIENT);
	sl_board_role_started(f->board, SL_HOST_SERVER);
	client = sl_role_spawn(&f->topo, SL_HOST_CLIENT, f->board, deadline,
			       role_returns, NULL, &e);
	server = sl_role_spawn(&f->topo, SL_HOST_SERVER, f->board, deadline,
			       role_waits_for_go, NULL, &e);
	assert_true(client > 0 && server > 0);
	pfd.fd = (int)syscall(SYS_pidfd_open, client, 0);
	assert_true(pfd.fd >= 0);
	/* The server's role runs on: the client's process stays. */
	assert_int_equal(poll(&pfd, 1, 300), 0);
	go.t = go.t_start = sl_now();
	sl_board_append(f->board, &go);
	assert_int_equal(poll(&pfd, 1, 10000), 1);
	close(pfd.fd);
	assert_int_equal(waitpid(client, &st, 0), client);
	assert_int_equal(st, 0);
	assert_int_equal(waitpid(server, &st, 0), server);
	assert_int_equal(st, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_blackhole, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_specs, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_linkemu_dispatch, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_crash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reboot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_roles_outlive, setup,
						teardown),
	};

	if (geteuid() != 0) {
		printf("skipped: needs root (network namespaces, nftables)\n");
		return 77;
	}
	if (access("/usr/sbin/nft", X_OK) < 0 &&
	    access("/sbin/nft", X_OK) < 0 && access("/usr/bin/nft", X_OK) < 0) {
		printf("skipped: nft (nftables) is not installed\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
