/* test_predict_answer.c: a match's .answer_ms (lib/predict_packet.c) takes
 * a packet that left soon after its sender saw the peer's last segment
 * arrive, and no other: not one that waited for a timer, not one that
 * answered nothing.
 *
 * tests/data/kernel-6.1-rst-refused-late-syn.tl is a recorded run of
 * rst-refused's listening_on_other_port over IPv6 in a QEMU guest (TCG, two
 * vCPUs, the whole catalogue four at a time): the client's connect() was
 * preempted inside the kernel between its state change and its SYN, which
 * left 61 ms after the mark "connecting"; the server's RST left 1.1 ms after
 * the SYN came in, 62.5 ms after the mark.  A window of 50 ms from the mark
 * took that for no RST at all.
 * tests/data/ack-delayed-17.tl (see test_predict_ack.c) holds a delayed
 * ACK: the server acknowledges the 17th segment 44 ms after it came in.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "predict.h"
#include "judge.h"
#include "socklab.h"
#include "timeline.h"

struct fixture {
	struct sl_timeline late_syn, delayed;
};

static int setup(void **state)
{
	static struct fixture f;

	assert_int_equal(
		sl_timeline_load(&f.late_syn, SL_TEST_DATA
				 "/kernel-6.1-rst-refused-late-syn.tl"),
		0);
	assert_int_equal(sl_timeline_load(&f.delayed,
					  SL_TEST_DATA "/ack-delayed-17.tl"),
			 0);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	sl_timeline_free(&f->late_syn);
	sl_timeline_free(&f->delayed);
	return 0;
}

static void test_late_stimulus(void **state)
{
	struct fixture *f = *state;

	/* Timed from the mark, the RST is late: the SYN itself was. */
	assert_int_equal(JUDGE(&f->late_syn,
			       expect_packet(p, .from = "server", .flags = "R.",
					     .after = "connecting",
					     .within_ms = 50)),
			 0);
	/* Timed from the SYN's arrival, it is the answer it is. */
	assert_int_equal(JUDGE(&f->late_syn,
			       expect_packet(p, .from = "server", .flags = "R.",
					     .after = "connecting",
					     .answer_ms = 50)),
			 1);
	assert_non_null(strstr(pred.result[0].what,
			       ", sent within 50 ms of the peer's last segment "
			       "arriving"));
	assert_non_null(strstr(pred.result[0].evidence,
			       "(1.097 ms after the peer's last segment "
			       "arrived)"));
	/* The bound is a bound: 1.1 ms is not within 1. */
	assert_int_equal(JUDGE(&f->late_syn,
			       expect_packet(p, .from = "server", .flags = "R.",
					     .answer_ms = 1)),
			 0);
	assert_non_null(strstr(pred.result[0].evidence,
			       "instead:   0.001362  server  IP6"));
	assert_non_null(strstr(pred.result[0].evidence, "(1.097 ms after"));
}

static void test_answers_nothing(void **state)
{
	struct fixture *f = *state;

	/* The SYN opens the exchange: nothing came in before it. */
	assert_int_equal(JUDGE(&f->late_syn,
			       expect_packet(p, .from = "client", .flags = "S",
					     .answer_ms = 50)),
			 0);
	assert_non_null(strstr(pred.result[0].evidence,
			       "(nothing had arrived from the peer)"));
	assert_int_equal(JUDGE(&f->late_syn, expect_packet(p, .from = "client",
							   .flags = "S")),
			 1);
}

static void test_timer_is_no_answer(void **state)
{
	struct fixture *f = *state;

	/* The delayed ACK left when its timer fired, 44 ms after the
	 * segment: not at once... */
	assert_int_equal(JUDGE(&f->delayed,
			       expect_packet(p, .from = "server", .len = 0,
					     .not_flags = "R",
					     .after = "sending lone",
					     .answer_ms = 20)),
			 0);
	/* ...but within 60 ms of it, as it was. */
	assert_int_equal(JUDGE(&f->delayed,
			       expect_packet(p, .from = "server", .len = 0,
					     .not_flags = "R",
					     .after = "sending lone",
					     .answer_ms = 60)),
			 1);
	/* The 16 before it were answered at once (quick-ACK mode), each
	 * as its segment came in. */
	assert_int_equal(JUDGE(&f->delayed,
			       expect_packets(p, 16, .from = "server", .len = 0,
					      .not_flags = "RS",
					      .before = "sending lone",
					      .answer_ms = 20)),
			 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_late_stimulus),
		cmocka_unit_test(test_answers_nothing),
		cmocka_unit_test(test_timer_is_no_answer),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
