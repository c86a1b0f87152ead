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

#include "clock.h"
#include "predict.h"
#include "judge.h"
#include "socklab.h"
#include "timeline.h"

struct fixture {
	struct sl_timeline rst, fin;
};

static int setup(void **state)
{
	static struct fixture f;

	assert_int_equal(sl_timeline_load(&f.rst,
					  SL_TEST_DATA "/close-unread-rst.tl"),
			 0);
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

static void test_expect_packet(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(JUDGE(&f->rst,
			       expect_packet(p, .from = "server", .flags = "R",
					     .after = "closing",
					     .within_ms = 50)),
			 1);
	assert_int_equal(JUDGE(&f->fin,
			       expect_packet(p, .from = "server", .flags = "R",
					     .after = "closing",
					     .within_ms = 50)),
			 0);
	/* The evidence says what happened instead. */
	assert_non_null(strstr(pred.result[0].evidence, "Flags [F.]"));
	/* Direction matters: the client sent no RST. */
	assert_int_equal(JUDGE(&f->rst, expect_packet(p, .from = "client",
						      .flags = "R")),
			 0);
	assert_int_equal(JUDGE(&f->rst,
			       expect_packet(p, .to = "client", .flags = "R")),
			 1);
	/* Before the mark there was no RST. */
	assert_int_equal(JUDGE(&f->rst,
			       expect_packet(p, .from = "server", .flags = "R",
					     .before = "closing")),
			 0);
	/* A mark that never happened: skipped, never observed. */
	assert_int_equal(JUDGE(&f->rst,
			       expect_packet(p, .from = "server", .flags = "R",
					     .after = "client:connect-never")),
			 -1);
}

static void test_expect_packet_len_and_flags(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(JUDGE(&f->rst,
			       expect_packet(p, .from = "client", .flags = "P.",
					     .len = 100)),
			 1);
	assert_int_equal(JUDGE(&f->rst,
			       expect_packet(p, .from = "client", .flags = "P.",
					     .len = 99)),
			 0);
	assert_int_equal(JUDGE(&f->rst,
			       expect_packet(p, .from = "server", .flags = "S",
					     .not_flags = ".")),
			 0);
	assert_int_equal(JUDGE(&f->rst,
			       expect_packet(p, .from = "client", .flags = "S",
					     .not_flags = ".")),
			 1);
	assert_int_equal(JUDGE(&f->rst, expect_packet(p, .flags = "X")), -1);
}

/* .len left out is any length; .len = 0 is a segment without payload, not
 * "any": the client's data segment matches the first, never the second. */
static void test_expect_packet_len_zero_is_zero(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(JUDGE(&f->rst, expect_packet(p, .from = "client",
						      .flags = "P.")),
			 1);
	assert_int_equal(JUDGE(&f->rst, expect_packet(p, .from = "client",
						      .flags = "P.", .len = 0)),
			 0);
	assert_non_null(strstr(pred.result[0].what, "of length 0"));
	assert_int_equal(JUDGE(&f->rst,
			       expect_no_packet(p, .from = "client",
						.flags = "P.", .len = 0)),
			 1);
}

static void test_expect_no_packet(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(JUDGE(&f->rst, expect_no_packet(p, .from = "server",
							 .flags = "F",
							 .after = "closing")),
			 1);
	assert_int_equal(JUDGE(&f->fin, expect_no_packet(p, .from = "server",
							 .flags = "F",
							 .after = "closing")),
			 0);
	assert_non_null(strstr(pred.result[0].evidence, "1 matching"));
}

static void test_expect_packets_count(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(JUDGE(&f->rst, expect_packets(p, 1, .from = "client",
						       .flags = "S")),
			 1);
	assert_int_equal(JUDGE(&f->rst, expect_packets(p, 2, .from = "client",
						       .flags = "S")),
			 0);
	/* Each segment is captured at both ends; only the sender's copy
	 * counts, so the ACKs from the client are 1 + 0 (pure ACK, len 0). */
	assert_int_equal(JUDGE(&f->rst,
			       expect_packets(p, 1, .from = "client",
					      .flags = ".", .not_flags = "P",
					      .len = 0)),
			 1);
}

static void test_expect_state(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(JUDGE(&f->fin, expect_state(p, .host = "server",
						     .state = "TIME-WAIT")),
			 1);
	assert_int_equal(JUDGE(&f->rst, expect_state(p, .host = "server",
						     .state = "TIME-WAIT")),
			 0);
	assert_int_equal(JUDGE(&f->fin, expect_state(p, .host = "client",
						     .state = "TIME-WAIT")),
			 0);
	assert_int_equal(JUDGE(&f->fin, expect_state(p, .host = "server",
						     .state = "TIME-WAIT",
						     .before = "closing")),
			 0);
	assert_int_equal(JUDGE(&f->fin, expect_state(p, .host = "server",
						     .state = "NO-SUCH-STATE")),
			 -1);
}

static void test_expect_no_state(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(JUDGE(&f->rst, expect_no_state(p, .host = "server",
							.state = "TIME-WAIT")),
			 1);
	assert_int_equal(JUDGE(&f->fin, expect_no_state(p, .host = "server",
							.state = "TIME-WAIT")),
			 0);
	assert_non_null(strstr(pred.result[0].evidence, "TIME-WAIT"));
}

static void test_expect_errno_ret(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(JUDGE(&f->rst,
			       expect_errno(p, "client", "read", ECONNRESET)),
			 1);
	assert_int_equal(JUDGE(&f->fin,
			       expect_errno(p, "client", "read", ECONNRESET)),
			 0);
	assert_int_equal(
		JUDGE(&f->rst, expect_errno(p, "client", "read", EPIPE)), 0);
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
	assert_false(sl_predict_holds(p)); /* nothing predicted */
	expect_packet(p, .from = "server", .flags = "R");
	expect_errno(p, "client", "read", ECONNRESET);
	assert_true(sl_predict_holds(p));
	expect_packet(p, .from = "server", .flags = "R", .after = "nope");
	assert_false(sl_predict_holds(p)); /* a skipped one */

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

/* ---- a connection's life (expect_gone, expect_state_kept,
 * expect_state_lasts, expect_state_timer) ----
 * Recorded runs of timewait-rst-assassination: the client's TIME-WAIT
 * killed by a RST (timewait-assassinated.tl) and the same with
 * tcp_rfc1337=1, where it stays (timewait-kept.tl); and of
 * timewait-duration, where it lasts its minute (timewait-60s.tl). */
struct life {
	struct sl_timeline killed, kept, full;
};

static void load_life(struct life *l)
{
	assert_int_equal(sl_timeline_load(&l->killed, SL_TEST_DATA
					  "/timewait-assassinated.tl"),
			 0);
	assert_int_equal(sl_timeline_load(&l->kept,
					  SL_TEST_DATA "/timewait-kept.tl"),
			 0);
	assert_int_equal(
		sl_timeline_load(&l->full, SL_TEST_DATA "/timewait-60s.tl"), 0);
}

static void free_life(struct life *l)
{
	sl_timeline_free(&l->killed);
	sl_timeline_free(&l->kept);
	sl_timeline_free(&l->full);
}

static void test_expect_gone(void **state)
{
	struct life l;

	(void)state;
	load_life(&l);
	assert_int_equal(
		JUDGE(&l.killed,
		      expect_gone(p, .host = "client", .state = "TIME-WAIT",
				  .after = "injecting RST", .within_ms = 50)),
		1);
	assert_int_equal(
		JUDGE(&l.kept,
		      expect_gone(p, .host = "client", .state = "TIME-WAIT",
				  .after = "injecting RST", .within_ms = 50)),
		0);
	assert_non_null(strstr(pred.result[0].evidence, "TIME-WAIT"));
	/* Gone, but not within 1 ms of the mark... */
	assert_int_equal(JUDGE(&l.killed, expect_gone(p, .host = "client",
						      .after = "injecting RST",
						      .within_ms = 1)),
			 0);
	/* ... and not from the state it was never in. */
	assert_int_equal(JUDGE(&l.killed, expect_gone(p, .host = "client",
						      .state = "CLOSE-WAIT")),
			 0);
	/* The server's listener closes at the end of its role: a listener
	 * is not the connection a prediction is about. */
	assert_int_equal(JUDGE(&l.killed, expect_gone(p, .host = "server",
						      .after = "answered")),
			 0);
	assert_int_equal(JUDGE(&l.kept, expect_gone(p, .host = "client",
						    .after = "no-such-mark")),
			 -1);
	free_life(&l);
}

static void test_expect_state_kept(void **state)
{
	struct life l;

	(void)state;
	load_life(&l);
	assert_int_equal(JUDGE(&l.kept, expect_state_kept(p, .host = "client",
							  .state = "TIME-WAIT",
							  .after = "answered")),
			 1);
	assert_int_equal(JUDGE(&l.killed,
			       expect_state_kept(p, .host = "client",
						 .state = "TIME-WAIT",
						 .after = "injecting RST")),
			 0);
	assert_non_null(strstr(pred.result[0].evidence, "(gone)"));
	/* Not in that state at the mark at all. */
	assert_int_equal(JUDGE(&l.kept, expect_state_kept(p, .host = "client",
							  .state = "ESTAB",
							  .after = "answered")),
			 0);
	assert_int_equal(JUDGE(&l.kept, expect_state_kept(p, .host = "server",
							  .state = "TIME-WAIT",
							  .after = "answered")),
			 0);
	assert_int_equal(JUDGE(&l.kept,
			       expect_state_kept(p, .host = "client",
						 .state = "NO-SUCH-STATE")),
			 -1);
	free_life(&l);
}

static void test_expect_state_ms(void **state)
{
	struct life l;
	struct sl_predict *p = &pred;
	double over;

	(void)state;
	load_life(&l);
	/* 60 s by the timer, a little more until it is gone. */
	assert_int_equal(JUDGE(&l.full, expect_state_timer(p, .host = "client",
							   .state = "TIME-WAIT",
							   .min_ms = 59950,
							   .max_ms = 60050)),
			 1);
	assert_int_equal(pred.nmeasures, 1);
	assert_true(pred.measure[0].value > 59950 &&
		    pred.measure[0].value < 60050);
	assert_int_equal(JUDGE(&l.full, expect_state_lasts(p, .host = "client",
							   .state = "TIME-WAIT",
							   .min_ms = 59950,
							   .max_ms = 65200)),
			 1);
	/* The wrong length fails, and says what it measured. */
	assert_int_equal(JUDGE(&l.full, expect_state_timer(p, .host = "client",
							   .state = "TIME-WAIT",
							   .min_ms = 4950,
							   .max_ms = 5050)),
			 0);
	assert_non_null(strstr(pred.result[0].evidence, " ms (tolerance"));
	assert_int_equal(JUDGE(&l.full, expect_state_lasts(p, .host = "client",
							   .state = "TIME-WAIT",
							   .min_ms = 59950,
							   .max_ms = 60010)),
			 0);
	/* A run whose timers woke late allows that much above the maximum
	 * of a duration that ended on a timer (lateness.h)... */
	over = pred.measure[0].value - 60010;
	l.full.late_ns = (int64_t)((over + 1) * SL_NS_PER_MS);
	l.full.late_n = 100;
	assert_int_equal(JUDGE(&l.full, expect_state_lasts(p, .host = "client",
							   .state = "TIME-WAIT",
							   .min_ms = 59950,
							   .max_ms = 60010)),
			 1);
	assert_non_null(strstr(pred.result[0].evidence, " ms (late) ("));
	l.full.late_ns = (int64_t)((over - 1) * SL_NS_PER_MS);
	assert_int_equal(JUDGE(&l.full, expect_state_lasts(p, .host = "client",
							   .state = "TIME-WAIT",
							   .min_ms = 59950,
							   .max_ms = 60010)),
			 0);
	/* ... never below the minimum, and not to a timer's own figure,
	 * which no lateness moves. */
	l.full.late_ns = 10 * SL_NS_PER_SEC;
	assert_int_equal(JUDGE(&l.full,
			       expect_state_lasts(p, .host = "client",
						  .state = "TIME-WAIT",
						  .min_ms = (int)over + 61010,
						  .max_ms = (int)over + 62010)),
			 0);
	assert_int_equal(JUDGE(&l.full, expect_state_timer(p, .host = "client",
							   .state = "TIME-WAIT",
							   .min_ms = 59000,
							   .max_ms = 59050)),
			 0);
	l.full.late_ns = 0;
	l.full.late_n = 0;
	/* An assassinated TIME-WAIT lasts milliseconds, not a minute. */
	assert_int_equal(JUDGE(&l.killed,
			       expect_state_lasts(p, .host = "client",
						  .state = "TIME-WAIT",
						  .min_ms = 59950,
						  .max_ms = 65200)),
			 0);
	/* One that outlives the run has no end to measure. */
	assert_int_equal(JUDGE(&l.kept,
			       expect_state_lasts(p, .host = "client",
						  .state = "TIME-WAIT",
						  .min_ms = 0, .max_ms = 0)),
			 0);
	assert_non_null(strstr(pred.result[0].evidence, "still in"));
	/* A state never seen. */
	assert_int_equal(JUDGE(&l.full, expect_state_timer(p, .host = "server",
							   .state = "TIME-WAIT",
							   .min_ms = 0,
							   .max_ms = 100000)),
			 0);
	free_life(&l);
	(void)p;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expect_packet),
		cmocka_unit_test(test_expect_packet_len_and_flags),
		cmocka_unit_test(test_expect_packet_len_zero_is_zero),
		cmocka_unit_test(test_expect_no_packet),
		cmocka_unit_test(test_expect_packets_count),
		cmocka_unit_test(test_expect_state),
		cmocka_unit_test(test_expect_no_state),
		cmocka_unit_test(test_expect_errno_ret),
		cmocka_unit_test(test_holds),
		cmocka_unit_test(test_measure),
		cmocka_unit_test(test_expect_gone),
		cmocka_unit_test(test_expect_state_kept),
		cmocka_unit_test(test_expect_state_ms),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
