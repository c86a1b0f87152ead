/* test_predict.c: every prediction type passes on the timeline that shows
 * it and fails on one that shows something else.
 *
 * tests/data/close-unread-rst.tl is a recorded run of close-unread-rst
 * (server reads 90 of 100 bytes and closes: RST, client read() gets
 * ECONNRESET).  tests/data/close-fin.tl is the same run edited into the
 * wrong observation for that claim: the server's close sends FIN, the
 * client's read() returns 0 and the server's socket ends in TIME-WAIT.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "predict.h"
#include "socklab.h"
#include "timeline.h"

struct fixture {
	struct sl_timeline rst, fin;
};

static int setup(void **state)
{
	static struct fixture f;

	assert_int_equal(sl_timeline_load(&f.rst, SL_TEST_DATA
					  "/close-unread-rst.tl"), 0);
	assert_int_equal(sl_timeline_load(&f.fin, SL_TEST_DATA "/close-fin.tl"),
			 0);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	sl_timeline_free(&f->rst);
	sl_timeline_free(&f->fin);
	return 0;
}

/* One prediction on one timeline: 1 observed, 0 not, -1 skipped. */
#define JUDGE(tl, call)							\
	({								\
		struct sl_predict *p = &pred;				\
		sl_predict_init(p, (tl));				\
		call;							\
		assert_int_equal(p->nresults, 1);			\
		p->result[0].skipped[0] ? -1 : p->result[0].ok;		\
	})

static struct sl_predict pred;

static void test_expect_packet(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(JUDGE(&f->rst, expect_packet(p, .from = "server",
			 .flags = "R", .after = "closing", .within_ms = 50)), 1);
	assert_int_equal(JUDGE(&f->fin, expect_packet(p, .from = "server",
			 .flags = "R", .after = "closing", .within_ms = 50)), 0);
	/* The evidence says what happened instead. */
	assert_non_null(strstr(pred.result[0].evidence, "Flags [F.]"));
	/* Direction matters: the client sent no RST. */
	assert_int_equal(JUDGE(&f->rst, expect_packet(p, .from = "client",
			 .flags = "R")), 0);
	assert_int_equal(JUDGE(&f->rst, expect_packet(p, .to = "client",
			 .flags = "R")), 1);
	/* Before the mark there was no RST. */
	assert_int_equal(JUDGE(&f->rst, expect_packet(p, .from = "server",
			 .flags = "R", .before = "closing")), 0);
	/* A mark that never happened: skipped, never observed. */
	assert_int_equal(JUDGE(&f->rst, expect_packet(p, .from = "server",
			 .flags = "R", .after = "client:connect-never")), -1);
}

static void test_expect_packet_len_and_flags(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(JUDGE(&f->rst, expect_packet(p, .from = "client",
			 .flags = "P.", .len = SL_LEN(100))), 1);
	assert_int_equal(JUDGE(&f->rst, expect_packet(p, .from = "client",
			 .flags = "P.", .len = SL_LEN(99))), 0);
	assert_int_equal(JUDGE(&f->rst, expect_packet(p, .from = "server",
			 .flags = "S", .not_flags = ".")), 0);
	assert_int_equal(JUDGE(&f->rst, expect_packet(p, .from = "client",
			 .flags = "S", .not_flags = ".")), 1);
	assert_int_equal(JUDGE(&f->rst, expect_packet(p, .flags = "X")), -1);
}

static void test_expect_no_packet(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(JUDGE(&f->rst, expect_no_packet(p, .from = "server",
			 .flags = "F", .after = "closing")), 1);
	assert_int_equal(JUDGE(&f->fin, expect_no_packet(p, .from = "server",
			 .flags = "F", .after = "closing")), 0);
	assert_non_null(strstr(pred.result[0].evidence, "1 matching"));
}

static void test_expect_packets_count(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(JUDGE(&f->rst, expect_packets(p, 1, .from = "client",
			 .flags = "S")), 1);
	assert_int_equal(JUDGE(&f->rst, expect_packets(p, 2, .from = "client",
			 .flags = "S")), 0);
	/* Each segment is captured at both ends; only the sender's copy
	 * counts, so the ACKs from the client are 1 + 0 (pure ACK, len 0). */
	assert_int_equal(JUDGE(&f->rst, expect_packets(p, 1, .from = "client",
			 .flags = ".", .not_flags = "P", .len = SL_LEN(0))), 1);
}

static void test_expect_state(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(JUDGE(&f->fin, expect_state(p, .host = "server",
			 .state = "TIME-WAIT")), 1);
	assert_int_equal(JUDGE(&f->rst, expect_state(p, .host = "server",
			 .state = "TIME-WAIT")), 0);
	assert_int_equal(JUDGE(&f->fin, expect_state(p, .host = "client",
			 .state = "TIME-WAIT")), 0);
	assert_int_equal(JUDGE(&f->fin, expect_state(p, .host = "server",
			 .state = "TIME-WAIT", .before = "closing")), 0);
	assert_int_equal(JUDGE(&f->fin, expect_state(p, .host = "server",
			 .state = "NO-SUCH-STATE")), -1);
}

static void test_expect_no_state(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(JUDGE(&f->rst, expect_no_state(p, .host = "server",
			 .state = "TIME-WAIT")), 1);
	assert_int_equal(JUDGE(&f->fin, expect_no_state(p, .host = "server",
			 .state = "TIME-WAIT")), 0);
	assert_non_null(strstr(pred.result[0].evidence, "TIME-WAIT"));
}

static void test_expect_errno_ret(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(JUDGE(&f->rst, expect_errno(p, "client", "read",
			 ECONNRESET)), 1);
	assert_int_equal(JUDGE(&f->fin, expect_errno(p, "client", "read",
			 ECONNRESET)), 0);
	assert_int_equal(JUDGE(&f->rst, expect_errno(p, "client", "read",
			 EPIPE)), 0);
	assert_int_equal(JUDGE(&f->fin, expect_ret(p, "client", "read", 0)), 1);
	assert_int_equal(JUDGE(&f->rst, expect_ret(p, "client", "read", 0)), 0);
	assert_int_equal(JUDGE(&f->rst, expect_ret(p, "client", "recv", 0)),
			 -1);
}

static void test_holds(void **state)
{
	struct fixture *f = *state;
	struct sl_predict *p = &pred;

	sl_predict_init(p, &f->rst);
	assert_false(sl_predict_holds(p));	/* nothing predicted */
	expect_packet(p, .from = "server", .flags = "R");
	expect_errno(p, "client", "read", ECONNRESET);
	assert_true(sl_predict_holds(p));
	expect_packet(p, .from = "server", .flags = "R", .after = "nope");
	assert_false(sl_predict_holds(p));	/* a skipped one */

	sl_predict_init(p, &f->fin);
	expect_packet(p, .from = "client", .flags = "S");
	expect_errno(p, "client", "read", ECONNRESET);
	assert_false(sl_predict_holds(p));
}

static void test_measure(void **state)
{
	struct fixture *f = *state;
	struct sl_predict *p = &pred;

	sl_predict_init(p, &f->rst);
	measure_packet_ms(p, "rst_after_close", .from = "server", .flags = "R",
			  .after = "closing");
	assert_int_equal(p->nmeasures, 1);
	assert_true(p->measure[0].value > 0 && p->measure[0].value < 1.0);
	sl_predict_init(p, &f->fin);
	measure_packet_ms(p, "rst_after_close", .from = "server", .flags = "R",
			  .after = "closing");
	assert_int_equal(p->nmeasures, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expect_packet),
		cmocka_unit_test(test_expect_packet_len_and_flags),
		cmocka_unit_test(test_expect_no_packet),
		cmocka_unit_test(test_expect_packets_count),
		cmocka_unit_test(test_expect_state),
		cmocka_unit_test(test_expect_no_state),
		cmocka_unit_test(test_expect_errno_ret),
		cmocka_unit_test(test_holds),
		cmocka_unit_test(test_measure),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
