/* test_predict_backoff.c: expect_backoff holds on the timeline whose gaps
 * double and fails on one whose gaps do not.
 *
 * tests/data/flow-probes.tl is a recorded run of flow-control-zero-window,
 * variant blocking_send, cut to the zero window: the server advertises a
 * zero window ("zero window"), the client's kernel sends four persist
 * probes, 220 ms after it and then 436, 896 and 1764 ms apart (the timer
 * doubles), the server answers three of them, and it reads ("reading").
 * tests/data/flow-probes-nobackoff.tl is the same run edited into an
 * observation the claim rules out: the probes come every 436 ms.
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
	struct sl_timeline ok, flat;
};

static int setup(void **state)
{
	static struct fixture f;

	assert_int_equal(
		sl_timeline_load(&f.ok, SL_TEST_DATA "/flow-probes.tl"), 0);
	assert_int_equal(sl_timeline_load(&f.flat, SL_TEST_DATA
					  "/flow-probes-nobackoff.tl"),
			 0);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	sl_timeline_free(&f->ok);
	sl_timeline_free(&f->flat);
	return 0;
}

#define TOL SL_TOL(12.5, 10)

static void test_backoff_doubles(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(JUDGE(&f->ok,
			       expect_backoff(p, 2, TOL, .from = "client",
					      .len = 0, .after = "zero window",
					      .before = "reading")),
			 1);
	/* The evidence prints each gap and its ratio. */
	assert_non_null(strstr(pred.result[0].evidence,
			       "4 matching, gaps 436.0, 896.0 (2.06x), "
			       "1764.0 (1.97x) ms"));
	assert_non_null(strstr(pred.result[0].what, "each gap 2x the one "
						    "before"));
}

static void test_backoff_fails(void **state)
{
	struct fixture *f = *state;

	/* No back-off: every gap the first one. */
	assert_int_equal(JUDGE(&f->flat,
			       expect_backoff(p, 2, TOL, .from = "client",
					      .len = 0, .after = "zero window",
					      .before = "reading")),
			 0);
	assert_non_null(strstr(pred.result[0].evidence, "off"));
	/* The factor is what it says: the doubling timer is neither 1.5x
	 * nor 3x. */
	assert_int_equal(JUDGE(&f->ok,
			       expect_backoff(p, 1.5, TOL, .from = "client",
					      .len = 0, .after = "zero window",
					      .before = "reading")),
			 0);
	assert_int_equal(JUDGE(&f->ok,
			       expect_backoff(p, 3, TOL, .from = "client",
					      .len = 0, .after = "zero window",
					      .before = "reading")),
			 0);
	/* And the tolerance: 1 % or 1 ms is too tight for 2.06x. */
	assert_int_equal(JUDGE(&f->ok,
			       expect_backoff(p, 2, SL_TOL(1, 1),
					      .from = "client", .len = 0,
					      .after = "zero window",
					      .before = "reading")),
			 0);
}

static void test_backoff_needs_three(void **state)
{
	struct fixture *f = *state;

	/* The server's answers: three, but the first two are 1.3 s apart
	 * and the last two 1.8 s: not a doubling either way. */
	assert_int_equal(JUDGE(&f->ok,
			       expect_backoff(p, 2, TOL, .from = "server",
					      .win = 0, .len = 0,
					      .after = "zero window",
					      .before = "reading")),
			 0);
	/* Fewer than three packets, no growth to judge: not observed (the
	 * window update is the server's only open window here). */
	assert_int_equal(JUDGE(&f->ok,
			       expect_backoff(p, 2, TOL, .from = "server",
					      .min_win = 1)),
			 0);
	assert_non_null(strstr(pred.result[0].evidence, "needs three"));
	/* A mark that never happened: skipped, never observed. */
	assert_int_equal(JUDGE(&f->ok,
			       expect_backoff(p, 2, TOL, .from = "client",
					      .after = "never")),
			 -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backoff_doubles),
		cmocka_unit_test(test_backoff_fails),
		cmocka_unit_test(test_backoff_needs_three),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
