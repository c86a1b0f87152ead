/* test_setup.c: what SETUP does to the hosts (lib/setup.c), checked against
 * the kernel: sl_route() changes one host's default route, and only that
 * one, and says so in commands.sh.
 *
 * Needs root and network namespaces: without them the test exits 77
 * (skipped) and says why.  The route is read back with `ip route show`
 * in each namespace, never taken from what setup.c believes it did.
 */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "cleanup.h"
#include "err.h"
#include "exec.h"
#include "setup.h"
#include "socklab.h"
#include "topology.h"

static struct stat origin_ns;

struct fixture {
	struct sl_topology t;
	struct sl_cleanup c;
	struct sl_setup s;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct sl_err e = { { 0 } };

	if (!f)
		return -1;
	*state = f;
	if (sl_topology_up(&f->t, AF_INET, &f->c, NULL, &e) != 0) {
		print_error("sl_topology_up: %s\n", e.msg);
		return -1;
	}
	f->s.topo = &f->t;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	sl_cleanup_run(&f->c);
	free(f);
	return 0;
}

static void assert_in_origin(void)
{
	struct stat st;

	assert_int_equal(stat("/proc/thread-self/ns/net", &st), 0);
	assert_true(st.st_ino == origin_ns.st_ino &&
		    st.st_dev == origin_ns.st_dev);
}

/* `ip -n NETNS route show default`, as its output. */
static char *default_route(const struct sl_topology *t, int host, char *buf,
			   size_t n)
{
	const char *ip = sl_exec_where("ip");
	const char *argv[] = { "ip",	"-n",	t->host[host].netns,
			       "route", "show", "default",
			       NULL };
	size_t got = 0;
	int pfd[2], status;
	ssize_t r;
	pid_t pid;

	assert_non_null(ip);
	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(pfd[1], STDOUT_FILENO);
		close(pfd[0]);
		execv(ip, (char *const *)argv);
		_exit(127);
	}
	close(pfd[1]);
	while (got < n - 1 && (r = read(pfd[0], buf + got, n - 1 - got)) > 0)
		got += (size_t)r;
	buf[got] = '\0';
	close(pfd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return buf;
}

static void test_route_quickack(void **state)
{
	struct fixture *f = *state;
	struct sl_topology *t = &f->t;
	char *log = NULL, want[256], buf[512];
	size_t loglen = 0;

	f->s.cmdlog = open_memstream(&log, &loglen);
	assert_non_null(f->s.cmdlog);
	sl_route(&f->s, "server", "quickack", "1");
	fclose(f->s.cmdlog);
	f->s.cmdlog = NULL;
	if (f->s.failed)
		fail_msg("%s", f->s.err.msg);
	assert_in_origin();
	/* The line a learner types, with the router as the gateway. */
	snprintf(want, sizeof(want),
		 "ip -n %s route change default via 198.19.%d.1 dev eth0 "
		 "quickack 1\n",
		 t->host[SL_HOST_SERVER].netns, t->slot);
	assert_string_equal(log, want);
	free(log);
	/* The server's route has it, the client's does not. */
	assert_non_null(
		strstr(default_route(t, SL_HOST_SERVER, buf, sizeof(buf)),
		       "quickack 1"));
	assert_non_null(strstr(buf, "via 198.19."));
	assert_null(strstr(default_route(t, SL_HOST_CLIENT, buf, sizeof(buf)),
			   "quickack"));
	assert_non_null(strstr(buf, "default via 198.18."));

	/* Two options at once, on the client. */
	sl_route(&f->s, "client", "quickack", "1", "rto_min", "50ms");
	if (f->s.failed)
		fail_msg("%s", f->s.err.msg);
	default_route(t, SL_HOST_CLIENT, buf, sizeof(buf));
	assert_non_null(strstr(buf, "quickack 1"));
	/* ip shows it as "rto_min lock 50ms": a route's rto_min is locked. */
	assert_non_null(strstr(buf, "rto_min"));
	assert_non_null(strstr(buf, "50ms"));
}

/* A refusal ends SETUP with the reason; later calls do nothing. */
static void test_route_refusals(void **state)
{
	struct fixture *f = *state;
	char buf[512];

	sl_route(&f->s, "nosuchhost", "quickack", "1");
	assert_true(f->s.failed);
	assert_non_null(strstr(f->s.err.msg, "unknown host 'nosuchhost'"));

	f->s.failed = 0;
	sl_route(&f->s, "router", "quickack", "1");
	assert_true(f->s.failed);
	assert_non_null(strstr(f->s.err.msg, "router"));

	/* ip refuses what it does not know, and its words reach the
	 * reason. */
	f->s.failed = 0;
	sl_route(&f->s, "server", "quickack", "sometimes");
	assert_true(f->s.failed);
	assert_non_null(strstr(f->s.err.msg, "quickack sometimes"));
	assert_in_origin();

	/* Once failed, nothing more is done. */
	sl_route(&f->s, "server", "quickack", "1");
	assert_null(
		strstr(default_route(&f->t, SL_HOST_SERVER, buf, sizeof(buf)),
		       "quickack"));
}

static const char *why_not_runnable(void)
{
	static char why[128];
	int status;
	pid_t pid;

	if (geteuid() != 0)
		return "needs root (namespaces, mounts in /run/netns)";
	if (!sl_exec_where("ip"))
		return "no ip (iproute2) in " SL_EXEC_PATH;
	pid = fork();
	if (pid < 0)
		return "fork failed";
	if (pid == 0)
		_exit(unshare(CLONE_NEWNET) == 0 ? 0 : errno);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return "probe of unshare(CLONE_NEWNET) died";
	if (WEXITSTATUS(status) != 0) {
		snprintf(why, sizeof(why), "unshare(CLONE_NEWNET): %s",
			 strerror(WEXITSTATUS(status)));
		return why;
	}
	return NULL;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_route_quickack, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_route_refusals, setup,
						teardown),
	};
	const char *why = why_not_runnable();

	if (why) {
		printf("skipped: %s\n", why);
		return 77;
	}
	if (stat("/proc/thread-self/ns/net", &origin_ns) < 0) {
		printf("skipped: no /proc/thread-self/ns/net\n");
		return 77;
	}
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
