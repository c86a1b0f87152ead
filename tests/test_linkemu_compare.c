/* test_linkemu_compare.c: both backends of lib/linkemu.c on the same spec,
 * where the kernel has sch_netem (a guest of `socklab vm` on Debian's
 * kernel: make vm-linkemu).
 *
 * The same delay (10 ms, client to server) and the same loss (10 % of
 * 2000 datagrams) go through socklab's own emulator and through tc netem
 * in turn, each in a fresh topology, and each is held to the same bounds:
 * the handshake RTT's added delay within le_check_rtts()'s tolerance, the
 * loss inside its binomial bound; and the first handshake of a topology
 * that has carried nothing, under a delay, has the delay as its RTT on
 * both.  The figures are printed side by side
 * ("# compare <backend> ..."), which is the point: how close each comes
 * on the same machine.  Without sch_netem the whole file is skipped with
 * tc's words, as test_linkemu_netem.c is; it never claims a backend that
 * did not run.
 */
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "test_linkemu_util.h"

#define NDGRAM 2000

static void compare_delay(void **state, const char *backend)
{
	struct le_fixture *f = *state;
	char what[96];
	long base;
	int id;

	setenv("SOCKLAB_LINKEMU_BACKEND", backend, 1);
	base = le_base_rtt(f, 21);
	id = le_apply(f,
		      &(struct sl_fault){ .kind = "delay",
					  .from = "client",
					  .delay_ms = 10 },
		      backend);
	snprintf(what, sizeof(what), "compare %s delay 10 ms: RTT error",
		 backend);
	le_check_rtts(f, 50, base, 10000, what);
	assert_int_equal(sl_linkemu_lift(&f->t, id, &f->e), 0);
}

static void compare_loss(void **state, const char *backend)
{
	struct le_fixture *f = *state;
	struct sockaddr_in a = le_addr(f, SL_HOST_SERVER, LE_PORT + 1);
	struct timespec pause = { 0, 200000 };
	int sfd = le_socket(f, SL_HOST_SERVER, SOCK_DGRAM);
	int cfd = le_socket(f, SL_HOST_CLIENT, SOCK_DGRAM);
	int big = 16 << 20, got = 0;
	int64_t quiet;
	uint32_t v;

	setenv("SOCKLAB_LINKEMU_BACKEND", backend, 1);
	assert_true(sfd >= 0 && cfd >= 0);
	setsockopt(sfd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	assert_int_equal(bind(sfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(connect(cfd, (struct sockaddr *)&a, sizeof(a)), 0);
	le_apply(f,
		 &(struct sl_fault){
			 .kind = "loss", .from = "client", .loss = 0.1 },
		 backend);
	/* Paced in bursts of 20, so that nothing but the fault can lose
	 * one (the router's backlog holds 1000). */
	for (uint32_t i = 0; i < NDGRAM; i++) {
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
	printf("# compare %s loss 10%% of %d datagrams: %d lost (%.1f %%)\n",
	       backend, NDGRAM, NDGRAM - got, 100.0 * (NDGRAM - got) / NDGRAM);
	/* Binomial(2000, 0.1): mean 200, sd 13.4; 3.29 sd is the two-sided
	 * 99.9 % bound. */
	assert_in_range(NDGRAM - got, 200 - 44, 200 + 44);
	close(sfd);
	close(cfd);
}

/* The first handshake of a topology that has carried nothing yet, under a
 * delay of 50 ms from the client, set before it: its RTT is the delay and
 * the path's own, with nothing else waiting on the delayed link.  netem
 * delays whatever leaves the router's interface, an ARP request too: when
 * the router had to resolve the server on demand, the first SYN waited
 * for the delayed request and then for its own delay, twice the delay on
 * netem and once on the emulator, which sees only TCP.  The topology's
 * permanent neighbour entries leave nothing to resolve. */
static void compare_first_handshake(void **state, const char *backend)
{
	struct le_fixture *f = *state;
	long rtt;

	setenv("SOCKLAB_LINKEMU_BACKEND", backend, 1);
	le_apply(f,
		 &(struct sl_fault){
			 .kind = "delay", .from = "client", .delay_ms = 50 },
		 backend);
	rtt = le_handshake_us(f);
	printf("# compare %s delay 50 ms, first handshake: RTT %ld us\n",
	       backend, rtt);
	/* The path's own RTT is well under a millisecond; 20 ms is room
	 * for a loaded guest under TCG, and far from the 50 ms of a
	 * delayed neighbour exchange. */
	assert_in_range(rtt, 50000, 50000 + 20000);
}

static void test_first_handshake_linkemu(void **state)
{
	compare_first_handshake(state, "linkemu");
}

static void test_first_handshake_netem(void **state)
{
	compare_first_handshake(state, "netem");
}

static void test_delay_linkemu(void **state)
{
	compare_delay(state, "linkemu");
}

static void test_delay_netem(void **state)
{
	compare_delay(state, "netem");
}

static void test_loss_linkemu(void **state)
{
	compare_loss(state, "linkemu");
}

static void test_loss_netem(void **state)
{
	compare_loss(state, "netem");
}

/* Does netem work here?  NULL when it does, else why not. */
static const char *netem_missing(void)
{
	static char tc[512], why[700];

	if (le_netem_probe(tc, sizeof(tc)) == 0)
		return NULL;
	snprintf(why, sizeof(why),
		 "tc netem does not work in the router's namespace "
		 "(%s): there is one backend here, nothing to compare "
		 "(make vm-linkemu runs this in a guest that has both)",
		 tc);
	return why;
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, le_setup, le_teardown)
	const struct CMUnitTest tests[] = {
		T(test_delay_linkemu),
		T(test_delay_netem),
		T(test_loss_linkemu),
		T(test_loss_netem),
		cmocka_unit_test_setup_teardown(test_first_handshake_linkemu,
						le_setup_cold, le_teardown),
		cmocka_unit_test_setup_teardown(test_first_handshake_netem,
						le_setup_cold, le_teardown),
	};
	const char *why;

	if (geteuid() != 0) {
		printf("skipped: needs root (namespaces, tc)\n");
		return 77;
	}
	why = netem_missing();
	if (why) {
		printf("skipped: %s\n", why);
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
