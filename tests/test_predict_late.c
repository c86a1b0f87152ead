/* test_predict_late.c: the timed predictions allow a run's measured timer
 * lateness (lateness.h) above their tolerance, never below it, and only
 * as much as was measured.
 *
 * tests/data/kernel-6.1-retries-late-rto.tl is a recorded run of
 * retries-thresholds' mtu_probing_1 in a QEMU guest (TCG, two vCPUs, the
 * catalogue four at a time), from before runs measured their lateness: the
 * RTO the role read was 204 ms, and the first retransmission left 235.0 ms
 * after "sending", 31 ms late, the others 448.1, 880.4 and 1704.1 ms after
 * it; read() failed 3368.4 ms after it.  The tests give it a lateness by
 * hand, as a run would have measured one.  tests/data/ack-delayed-17.tl
 * (see test_predict_ack.c) holds a delayed ACK 44.0 ms after its segment.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "predict.h"
#include "judge.h"
#include "socklab.h"
#include "timeline.h"

struct fixture {
	struct sl_timeline rto, delayed;
};

static int setup(void **state)
{
	static struct fixture f;

	assert_int_equal(sl_timeline_load(&f.rto, SL_TEST_DATA
					  "/kernel-6.1-retries-late-rto.tl"),
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

	sl_timeline_free(&f->rto);
	sl_timeline_free(&f->delayed);
	return 0;
}

/* As a run that measured its timers waking up to ms late would have. */
static void set_late(struct sl_timeline *tl, double ms)
{
	tl->late_ns = (int64_t)(ms * SL_NS_PER_MS);
	tl->late_n = ms > 0 ? 300 : 0;
}

/* The retransmissions at R = 204 ms (0, R, 2R, 4R, 8R, +/- 10 % or 20
 * ms), judged on the recording as if its timers had woken late ms late. */
static int rto_times(struct sl_timeline *tl, double late)
{
	set_late(tl, late);
	return JUDGE(tl, expect_packets_at_ms(p, SL_MS(0, 204, 408, 816, 1632),
					      SL_TOL(10, 20), .from = "client",
					      .not_flags = "R",
					      .after = "sending"));
}

static void test_packets_at(void **state)
{
	struct fixture *f = *state;

	/* Not measured (an older recording): 235 is off. */
	assert_int_equal(rto_times(&f->rto, 0), 0);
	assert_non_null(strstr(pred.result[0].evidence, "235.0 (off)"));
	assert_null(strstr(pred.result[0].evidence, "woke"));
	/* The run's timers woke 31.5 ms late: 235 is late, not wrong. */
	assert_int_equal(rto_times(&f->rto, 31.5), 1);
	assert_non_null(strstr(pred.result[0].evidence, "235.0 (late)"));
	assert_non_null(strstr(pred.result[0].evidence,
			       "this run's timers woke up to 31.5 ms late"));
	/* Only as much as was measured. */
	assert_int_equal(rto_times(&f->rto, 5), 0);
	/* Far above is late too, as long as the lateness covers it: 235 is
	 * 11 ms past 204's upper end (224.4), and 100 ms of lateness does. */
	assert_int_equal(rto_times(&f->rto, 100), 1);
	/* Never below: lateness does not make a timer fire early, so a
	 * retransmission 45 ms before its time stays off. */
	set_late(&f->rto, 100);
	assert_int_equal(JUDGE(&f->rto,
			       expect_packets_at_ms(
				       p, SL_MS(0, 280, 448, 880, 1704),
				       SL_TOL(10, 20), .from = "client",
				       .not_flags = "R", .after = "sending")),
			 0);
	assert_non_null(strstr(pred.result[0].evidence, "235.0 (off)"));
	set_late(&f->rto, 0);
}

/* read()'s failure predicted at 16 R = 3264 ms +/- 2 %, judged as if the
 * recording's timers had woken late ms late. */
static int read_fails_at(struct sl_timeline *tl, double late)
{
	set_late(tl, late);
	return JUDGE(tl, expect_call_ms(p, "client", "read", "sending", 3264,
					SL_TOL(2, 20)));
}

static void test_call_ms(void **state)
{
	struct fixture *f = *state;

	/* read() failed 3368.4 ms after "sending": 104 ms past 16 R, which
	 * 2 % does not cover... */
	assert_int_equal(read_fails_at(&f->rto, 0), 0);
	assert_non_null(strstr(pred.result[0].evidence, "3368.4 ms (off)"));
	/* ...and 31.5 ms of lateness does not either ... */
	assert_int_equal(read_fails_at(&f->rto, 31.5), 0);
	/* ... but 40 does: 3368.4 is 39.1 ms past the upper end, 3329.3. */
	assert_int_equal(read_fails_at(&f->rto, 40), 1);
	assert_non_null(strstr(pred.result[0].evidence, "3368.4 ms (late)"));
	set_late(&f->rto, 0);
}

static void test_acked_at(void **state)
{
	struct fixture *f = *state;

	/* Acknowledged 44.0 ms after the segment: late for 30 +/- 10 by 4 ms,
	 * which 5 ms of lateness covers and 3 does not. */
	set_late(&f->delayed, 3);
	assert_int_equal(JUDGE(&f->delayed,
			       expect_acked_at_ms(p, SL_MS(30), SL_TOL(0, 10),
						  .from = "client", .len = 1,
						  .after = "sending lone")),
			 0);
	assert_non_null(strstr(pred.result[0].evidence, "44.0 (off)"));
	set_late(&f->delayed, 5);
	assert_int_equal(JUDGE(&f->delayed,
			       expect_acked_at_ms(p, SL_MS(30), SL_TOL(0, 10),
						  .from = "client", .len = 1,
						  .after = "sending lone")),
			 1);
	assert_non_null(strstr(pred.result[0].evidence, "44.0 (late)"));
	/* Early stays early: 44 for 60 +/- 10, whatever the lateness. */
	set_late(&f->delayed, 50);
	assert_int_equal(JUDGE(&f->delayed,
			       expect_acked_at_ms(p, SL_MS(60), SL_TOL(0, 10),
						  .from = "client", .len = 1,
						  .after = "sending lone")),
			 0);
	set_late(&f->delayed, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_packets_at),
		cmocka_unit_test(test_call_ms),
		cmocka_unit_test(test_acked_at),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
