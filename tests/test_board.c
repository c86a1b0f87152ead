/* test_board.c: the run's shared board (board.h), across processes.
 *
 *  - a role whose function returned keeps its process, and so its
 *    descriptors, until every role has ended; then it goes at once;
 *  - a role counts once however often it is said to end (a crash, then
 *    the reap), and the wait for the others has a deadline;
 *  - a role's request reaches the server (SIGUSR1, the queue) and the
 *    answer reaches the role; one given up is withdrawn from the queue.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "board.h"
#include "clock.h"
#include "err.h"

static int setup(void **state)
{
	struct sl_board *b;
	struct sl_err e;

	assert_int_equal(sl_board_create(&b, &e), 0);
	*state = b;
	return 0;
}

static int teardown(void **state)
{
	sl_board_destroy(*state);
	return 0;
}

static void reap_ok(pid_t pid)
{
	int st;

	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void test_roles_end_together(void **state)
{
	struct sl_board *b = *state;
	struct pollfd pfd = { .events = POLLIN };
	int sp[2];
	char c;
	pid_t pid;

	sl_board_role_started(b, 0);
	sl_board_role_started(b, 1);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* Role 0: its function has returned, sp[1] is still open. */
		close(sp[0]);
		sl_board_role_ended(b, 0);
		_exit(sl_board_wait_roles_ended(b,
						sl_now() + 10 * SL_NS_PER_SEC) ?
			      1 :
			      0);
	}
	close(sp[1]);
	pfd.fd = sp[0];
	/* Role 1 runs on: role 0's end of the pair stays open. */
	assert_int_equal(poll(&pfd, 1, 200), 0);
	sl_board_role_ended(b, 1);
	/* Now the last role has ended: role 0 goes, and its end closes. */
	assert_int_equal(poll(&pfd, 1, 10000), 1);
	assert_int_equal(read(sp[0], &c, 1), 0);
	reap_ok(pid);
	close(sp[0]);
}

static void test_role_counts_once(void **state)
{
	struct sl_board *b = *state;

	sl_board_role_started(b, 2);
	sl_board_role_started(b, 2);
	sl_board_role_started(b, 3);
	assert_int_equal(b->running, 2);
	sl_board_role_ended(b, 3);
	sl_board_role_ended(b, 3); /* crashed, then reaped */
	assert_int_equal(b->running, 1);
	assert_int_equal(
		sl_board_wait_roles_ended(b, sl_now() + 20 * SL_NS_PER_MS),
		-ETIMEDOUT);
	sl_board_role_ended(b, 2);
	assert_int_equal(sl_board_wait_roles_ended(b, sl_now()), 0);
	/* Hosts the board does not know are ignored. */
	sl_board_role_started(b, SL_BOARD_HOSTS);
	sl_board_role_ended(b, -1);
	assert_int_equal(b->running, 0);
}

/* Forks a role that asks for a reboot of host 1, waiting up to wait_ns,
 * and exits 0 when the answer is want (and, if given, says why).  SIGUSR1,
 * the role's word to the server, is blocked first. */
static pid_t asking_role(struct sl_board *b, int64_t wait_ns, int want,
			 const char *why_want, sigset_t *set, sigset_t *old)
{
	pid_t pid;

	sigemptyset(set);
	sigaddset(set, SIGUSR1);
	sigprocmask(SIG_BLOCK, set, old);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char why[64];
		int ret = sl_board_request(b, SL_BOARD_OP_REBOOT, 1,
					   sl_now() + wait_ns, why,
					   sizeof(why));

		_exit(ret == want && (!why_want || !strcmp(why, why_want)) ? 0 :
									     1);
	}
	return pid;
}

/* The server's side of a request: SIGUSR1, then the queue. */
static void test_request_answered(void **state)
{
	struct sl_board *b = *state;
	struct timespec ts = { .tv_sec = 10 };
	struct sl_board_req req;
	sigset_t set, old;
	pid_t pid =
		asking_role(b, 10 * SL_NS_PER_SEC, -EIO, "refused", &set, &old);
	int slot;

	assert_int_equal(sigtimedwait(&set, NULL, &ts), SIGUSR1);
	slot = sl_board_take_request(b, &req);
	assert_true(slot >= 0);
	assert_int_equal(req.op, SL_BOARD_OP_REBOOT);
	assert_int_equal(req.host, 1);
	/* Taken: nobody else gets it. */
	assert_int_equal(sl_board_take_request(b, &req), -1);
	sl_board_answer(b, slot, -EIO, "refused");
	reap_ok(pid);
	assert_int_equal(b->req[slot].state, SL_REQ_FREE);
	sigprocmask(SIG_SETMASK, &old, NULL);
}

/* A role that gives up waiting withdraws its request: the server never
 * serves a request nobody waits for. */
static void test_request_withdrawn(void **state)
{
	struct sl_board *b = *state;
	struct timespec ts = { .tv_sec = 10 };
	struct sl_board_req req;
	sigset_t set, old;
	pid_t pid =
		asking_role(b, 20 * SL_NS_PER_MS, -ETIMEDOUT, NULL, &set, &old);

	reap_ok(pid);
	/* The server was told (and must not die of it), found nothing. */
	assert_int_equal(sigtimedwait(&set, NULL, &ts), SIGUSR1);
	assert_int_equal(sl_board_take_request(b, &req), -1);
	sigprocmask(SIG_SETMASK, &old, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roles_end_together, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_role_counts_once, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_request_answered, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_request_withdrawn, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
