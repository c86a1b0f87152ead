/* test_predict_ack.c: expect_acked_at_ms and measure_acked_ms
 * (lib/predict_ack.c) hold on the timeline that shows the ACK times and
 * fail on one that shows others.
 *
 * tests/data/ack-delayed-17.tl is a recorded run of ack-delayed's
 * segment_17: the client sends 17 one-byte segments, each once the one
 * before is acknowledged; the server acknowledges the first 16 at once
 * (quick-ACK mode) and the 17th ("sending lone") when its delayed-ACK
 * timer fires, 44 ms later; then it closes with the bytes unread (RST).
 * tests/data/ack-quick-17.tl is the same exchange with the server's route
 * on quickack 1: the 17th is acknowledged at once too.
 * tests/data/ack-never.tl is ack-delayed-17.tl without the delayed ACK:
 * only the RST, whose ACK number covers the 17th byte, comes back.
 * tests/data/kernel-6.1-ack-path-held.tl is a recorded run of
 * ack-every-second's reader_keeps_up over IPv6 in a QEMU guest (TCG, the
 * catalogue four at a time): the two segments after "sending two" reached
 * the server 91 ms after they left the client, whose softirqs had fallen
 * behind, and the server acknowledged each as it arrived.
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
	struct sl_timeline delayed, quick, never, held;
};

static int setup(void **state)
{
	static struct fixture f;

	assert_int_equal(sl_timeline_load(&f.delayed,
					  SL_TEST_DATA "/ack-delayed-17.tl"),
			 0);
	assert_int_equal(
		sl_timeline_load(&f.quick, SL_TEST_DATA "/ack-quick-17.tl"), 0);
	assert_int_equal(
		sl_timeline_load(&f.never, SL_TEST_DATA "/ack-never.tl"), 0);
	assert_int_equal(sl_timeline_load(&f.held, SL_TEST_DATA
					  "/kernel-6.1-ack-path-held.tl"),
			 0);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	sl_timeline_free(&f->delayed);
	sl_timeline_free(&f->quick);
	sl_timeline_free(&f->never);
	sl_timeline_free(&f->held);
	return 0;
}

/* Timed from the arrival, as the receiver's capture saw it: the 91 ms the
 * segments spent on their way are not the receiver's delay. */
static void test_from_arrival(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(JUDGE(&f->held,
			       expect_acked_at_ms(p, SL_MS(0, 0), SL_TOL(0, 20),
						  .from = "client",
						  .after = "sending two",
						  .before = "acked")),
			 1);
	assert_non_null(strstr(pred.result[0].evidence,
			       "2 segments, acknowledged 0.1, 0.0 "
			       "ms after each"));
	/* A delayed ACK it was not. */
	assert_int_equal(JUDGE(&f->held,
			       expect_acked_at_ms(
				       p, SL_MS(40, 40), SL_TOL(0, 10),
				       .from = "client", .after = "sending two",
				       .before = "acked")),
			 0);
}

/* The 17th segment's ACK: 44 ms after it on one timeline, at once on the
 * other; each prediction holds on one and fails on the other. */
static void test_delayed_or_at_once(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(JUDGE(&f->delayed,
			       expect_acked_at_ms(p, SL_MS(40), SL_TOL(0, 10),
						  .from = "client", .len = 1,
						  .after = "sending lone")),
			 1);
	assert_non_null(strstr(pred.result[0].evidence,
			       "1 segment, acknowledged 44.0 ms"));
	assert_int_equal(JUDGE(&f->quick,
			       expect_acked_at_ms(p, SL_MS(40), SL_TOL(0, 10),
						  .from = "client", .len = 1,
						  .after = "sending lone")),
			 0);
	/* The evidence names the ACK that came instead. */
	assert_non_null(strstr(pred.result[0].evidence, "0.0 (off)"));
	assert_non_null(strstr(pred.result[0].evidence, "Flags [.], ack 18"));

	assert_int_equal(JUDGE(&f->quick,
			       expect_acked_at_ms(p, SL_MS(0), SL_TOL(0, 20),
						  .from = "client", .len = 1,
						  .after = "sending lone")),
			 1);
	assert_int_equal(JUDGE(&f->delayed,
			       expect_acked_at_ms(p, SL_MS(0), SL_TOL(0, 20),
						  .from = "client", .len = 1,
						  .after = "sending lone")),
			 0);
	/* The claim's 200 ms, on either. */
	assert_int_equal(JUDGE(&f->delayed,
			       expect_acked_at_ms(p, SL_MS(200), SL_TOL(0, 80),
						  .from = "client", .len = 1,
						  .after = "sending lone")),
			 0);
	/* A percentage tolerance is judged too: 44 is within 10 % of 40. */
	assert_int_equal(JUDGE(&f->delayed,
			       expect_acked_at_ms(p, SL_MS(40), SL_TOL(10, 0),
						  .from = "client", .len = 1,
						  .after = "sending lone")),
			 1);
	assert_int_equal(JUDGE(&f->delayed,
			       expect_acked_at_ms(p, SL_MS(40), SL_TOL(5, 0),
						  .from = "client", .len = 1,
						  .after = "sending lone")),
			 0);
}

/* Times are per segment, in order, and their number is the count. */
static void test_several_and_count(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(JUDGE(&f->delayed,
			       expect_acked_at_ms(p,
						  SL_MS(0, 0, 0, 0, 0, 0, 0, 0,
							0, 0, 0, 0, 0, 0, 0, 0),
						  SL_TOL(0, 20),
						  .from = "client", .len = 1,
						  .after = "sending 1",
						  .before = "sending lone")),
			 1);
	/* One time fewer than segments: one more than predicted. */
	assert_int_equal(JUDGE(&f->delayed,
			       expect_acked_at_ms(p,
						  SL_MS(0, 0, 0, 0, 0, 0, 0, 0,
							0, 0, 0, 0, 0, 0, 0),
						  SL_TOL(0, 20),
						  .from = "client", .len = 1,
						  .after = "sending 1",
						  .before = "sending lone")),
			 0);
	assert_non_null(
		strstr(pred.result[0].evidence, "1 more than predicted"));
	/* All 17, the last one late. */
	assert_int_equal(
		JUDGE(&f->delayed,
		      expect_acked_at_ms(p,
					 SL_MS(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
					       0, 0, 0, 0, 0, 0),
					 SL_TOL(0, 20), .from = "client",
					 .len = 1, .after = "sending 1")),
		0);
	/* A SYN takes sequence space: the server's SYN-ACK is acknowledged
	 * by the handshake's last ACK, at once. */
	assert_int_equal(JUDGE(&f->delayed,
			       expect_acked_at_ms(p, SL_MS(0), SL_TOL(0, 20),
						  .from = "server")),
			 1);
	/* Segments without data are not counted: besides it the server sent
	 * only pure ACKs and a RST, so nothing else of its matches. */
	assert_int_equal(JUDGE(&f->delayed,
			       expect_acked_at_ms(p, SL_MS(0), SL_TOL(0, 20),
						  .from = "server",
						  .not_flags = "S")),
			 0);
	assert_non_null(
		strstr(pred.result[0].evidence, "0 segments, acknowledged"));
}

/* A segment nobody acknowledged (a RST does not count) fails, whatever
 * the times; a mark that never happened skips. */
static void test_never_and_skipped(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(JUDGE(&f->never,
			       expect_acked_at_ms(p, SL_MS(40), SL_TOL(0, 1000),
						  .from = "client", .len = 1,
						  .after = "sending lone")),
			 0);
	assert_non_null(strstr(pred.result[0].evidence, "never"));
	assert_int_equal(JUDGE(&f->delayed,
			       expect_acked_at_ms(p, SL_MS(40), SL_TOL(0, 10),
						  .from = "client", .len = 1,
						  .after = "no such mark")),
			 -1);
}

static double measured(const char *name)
{
	for (int i = 0; i < pred.nmeasures; i++)
		if (strcmp(pred.measure[i].name, name) == 0)
			return pred.measure[i].value;
	return -1;
}

static void test_measure(void **state)
{
	struct fixture *f = *state;

	sl_predict_init(&pred, &f->delayed);
	measure_acked_ms(&pred, "lone", .from = "client", .len = 1,
			 .after = "sending lone");
	assert_int_equal(pred.nresults, 0);
	assert_true(measured("lone") > 43.9 && measured("lone") < 44.1);

	sl_predict_init(&pred, &f->delayed);
	measure_acked_ms(&pred, "each", .from = "client", .len = 1,
			 .after = "sending 1");
	assert_true(measured("each.1") >= 0 && measured("each.1") < 1);
	assert_true(measured("each.17") > 43.9);

	/* Never acknowledged: nothing measured. */
	sl_predict_init(&pred, &f->never);
	measure_acked_ms(&pred, "lone", .from = "client", .len = 1,
			 .after = "sending lone");
	assert_true(measured("lone") < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_delayed_or_at_once),
		cmocka_unit_test(test_several_and_count),
		cmocka_unit_test(test_never_and_skipped),
		cmocka_unit_test(test_measure),
		cmocka_unit_test(test_from_arrival),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
