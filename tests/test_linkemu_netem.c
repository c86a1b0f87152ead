/* test_linkemu_netem.c: the netem backend of lib/linkemu.c, where the
 * kernel has sch_netem.
 *
 * The backend is forced to "netem" (SOCKLAB_LINKEMU_BACKEND).  Before any
 * test, one delay is applied in a fresh topology: when `tc qdisc ...
 * netem` does not work in the router's namespace (no sch_netem, as on this
 * project's own build machines), the whole file exits 77 (skipped) with
 * tc's own words, and never claims a backend that did not run.  Needs
 * root and network namespaces too.
 *
 * The checks are those of test_linkemu.c for socklab's own emulator,
 * against what the kernel observes: the handshake RTT with a delay, a loss
 * rate inside its binomial bound, and a clean path once lifted.
 */
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "test_linkemu_util.h"

static void test_netem_delay(void **state)
{
	struct le_fixture *f = *state;
	long base = le_base_rtt(f, 21);
	int id;

	id = le_apply(f,
		      &(struct sl_fault){ .kind = "delay",
					  .from = "client",
					  .delay_ms = 10 },
		      "netem");
	le_check_rtts(f, 50, base, 10000, "netem delay 10 ms: RTT error");
	assert_int_equal(sl_linkemu_lift(&f->t, id, &f->e), 0);
	le_check_rtts(f, 10, base, 0, "netem lifted: RTT error");
	id = le_apply(f, &(struct sl_fault){ .kind = "delay", .delay_ms = 15 },
		      "netem");
	le_check_rtts(f, 20, base, 30000,
		      "netem delay 15 ms both ways: RTT "
		      "error");
	assert_int_equal(sl_linkemu_lift(&f->t, id, &f->e), 0);
}

static void test_netem_loss(void **state)
{
	struct le_fixture *f = *state;
	struct sockaddr_in a = le_addr(f, SL_HOST_SERVER, LE_PORT + 1);
	struct timespec pause = { 0, 200000 };
	int sfd = le_socket(f, SL_HOST_SERVER, SOCK_DGRAM);
	int cfd = le_socket(f, SL_HOST_CLIENT, SOCK_DGRAM);
	int big = 16 << 20, got = 0;
	int64_t quiet;
	uint32_t v;

	assert_true(sfd >= 0 && cfd >= 0);
	setsockopt(sfd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	assert_int_equal(bind(sfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(connect(cfd, (struct sockaddr *)&a, sizeof(a)), 0);
	le_apply(f,
		 &(struct sl_fault){
			 .kind = "loss", .from = "client", .loss = 0.1 },
		 "netem");
	for (uint32_t i = 0; i < 2000; i++) {
		assert_int_equal(send(cfd, &i, sizeof(i), 0), sizeof(i));
		if (i % 20 == 19)
			nanosleep(&pause, NULL);
		while (recv(sfd, &v, sizeof(v), MSG_DONTWAIT) > 0)
			got++;
	}
	quiet = sl_now();
	while (sl_now() - quiet < 200 * SL_NS_PER_MS) {
		struct pollfd p = { .fd = sfd, .events = POLLIN };

		if (poll(&p, 1, 20) > 0)
			while (recv(sfd, &v, sizeof(v), MSG_DONTWAIT) > 0) {
				got++;
				quiet = sl_now();
			}
	}
	printf("# netem loss 10%% of 2000 datagrams: %d lost\n", 2000 - got);
	assert_in_range(2000 - got, 200 - 44, 200 + 44);
	close(sfd);
	close(cfd);
}

/* Does netem work here?  NULL when it does, else why not. */
static const char *netem_missing(void)
{
	static char tc[512], why[700];

	if (le_netem_probe(tc, sizeof(tc)) == 0)
		return NULL;
	snprintf(why, sizeof(why),
		 "tc netem does not work in the "
		 "router's namespace (%s); the link emulator serves "
		 "delay, loss and reorder here, see test_linkemu",
		 tc);
	return why;
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, le_setup, le_teardown)
	const struct CMUnitTest tests[] = {
		T(test_netem_delay),
		T(test_netem_loss),
	};
	const char *why;

	if (geteuid() != 0) {
		printf("skipped: needs root (namespaces, tc)\n");
		return 77;
	}
	setenv("SOCKLAB_LINKEMU_BACKEND", "netem", 1);
	why = netem_missing();
	if (why) {
		printf("skipped: %s\n", why);
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
