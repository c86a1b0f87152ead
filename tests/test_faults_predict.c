/* test_faults_predict.c: the timing predictions (expect_packets_at_ms,
 * expect_call_ms) pass on the timeline that shows what they predict and
 * fail on one that shows something else; the timing measurements
 * (measure_gaps_ms, measure_call_ms) report what the timeline shows.
 *
 * tests/data/faults-retransmit.tl is a recorded run of
 * keepalive-vs-retransmit, variant data_user_timeout_2000ms: the cable is
 * pulled, the client sends 100 bytes ("sending") and its kernel sends them
 * again at about 207, 415, 839 and 1671 ms (a tail loss probe, then RTO
 * retransmissions doubling), and read() fails with ETIMEDOUT 2439 ms after
 * "sending".  tests/data/faults-retransmit-nobackoff.tl is the same run
 * edited into an observation the claim rules out: the segment goes out
 * every 200 ms with no back-off, and read() fails with ECONNRESET after
 * 1000 ms.  The predictions computed from a value a role recorded
 * (sl_predict_ret(): the RTO read from TCP_INFO) are judged on both, with
 * a "tcpi_rto" call added.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "predict.h"
#include "judge.h"
#include "socklab.h"
#include "timeline.h"

struct fixture {
	struct sl_timeline ok, wrong;
};

static int setup(void **state)
{
	static struct fixture f;

	assert_int_equal(sl_timeline_load(&f.ok,
					  SL_TEST_DATA "/faults-retransmit.tl"),
			 0);
	assert_int_equal(sl_timeline_load(&f.wrong, SL_TEST_DATA
					  "/faults-retransmit-nobackoff.tl"),
			 0);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	sl_timeline_free(&f->ok);
	sl_timeline_free(&f->wrong);
	return 0;
}

#define TOL SL_TOL(10, 20)

static void test_packets_at_ms(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(JUDGE(&f->ok, expect_packets_at_ms(
					       p, SL_MS(0, 200, 400, 800, 1600),
					       TOL, .from = "client",
					       .len = 100, .after = "sending")),
			 1);
	/* The evidence prints the measured times. */
	assert_non_null(
		strstr(pred.result[0].evidence, "5 matching, at 0.0, "));
	/* No back-off: the fourth and fifth come early. */
	assert_int_equal(
		JUDGE(&f->wrong,
		      expect_packets_at_ms(p, SL_MS(0, 200, 400, 800, 1600),
					   TOL, .from = "client", .len = 100,
					   .after = "sending")),
		0);
	assert_non_null(strstr(pred.result[0].evidence, "(off)"));
	/* A count that differs fails, even with every time in tolerance. */
	assert_int_equal(JUDGE(&f->ok, expect_packets_at_ms(
					       p, SL_MS(0, 200, 400, 800), TOL,
					       .from = "client", .len = 100,
					       .after = "sending")),
			 0);
	assert_non_null(strstr(pred.result[0].evidence, "1 more than"));
	assert_int_equal(JUDGE(&f->ok,
			       expect_packets_at_ms(
				       p, SL_MS(0, 200, 400, 800, 1600, 3200),
				       TOL, .from = "client", .len = 100,
				       .after = "sending")),
			 0);
	/* The tolerance is what it says: 1 % is too tight for 207 vs 200. */
	assert_int_equal(JUDGE(&f->ok, expect_packets_at_ms(
					       p, SL_MS(0, 200, 400, 800, 1600),
					       SL_TOL(1, 1), .from = "client",
					       .len = 100, .after = "sending")),
			 0);
	/* Direction: the server sent none of them. */
	assert_int_equal(JUDGE(&f->ok, expect_packets_at_ms(
					       p, SL_MS(0, 200, 400, 800, 1600),
					       TOL, .from = "server",
					       .len = 100, .after = "sending")),
			 0);
	/* Without a mark to count from, or with one that never happened:
	 * skipped, never observed. */
	assert_int_equal(JUDGE(&f->ok, expect_packets_at_ms(p, SL_MS(0), TOL,
							    .from = "client")),
			 -1);
	assert_int_equal(JUDGE(&f->ok, expect_packets_at_ms(p, SL_MS(0), TOL,
							    .from = "client",
							    .after = "never")),
			 -1);
}

static void test_call_ms(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(JUDGE(&f->ok, expect_call_ms(p, "client", "read",
						      "sending", 2400, TOL)),
			 1);
	assert_non_null(strstr(pred.result[0].evidence, "ETIMEDOUT"));
	/* Too early on the wrong timeline, and too late for 2000 +/- 10 %. */
	assert_int_equal(JUDGE(&f->wrong, expect_call_ms(p, "client", "read",
							 "sending", 2400, TOL)),
			 0);
	assert_int_equal(JUDGE(&f->ok, expect_call_ms(p, "client", "read",
						      "sending", 2000, TOL)),
			 0);
	/* Host and name matter; unknown ones are skipped. */
	assert_int_equal(JUDGE(&f->ok, expect_call_ms(p, "server", "read",
						      "sending", 2400, TOL)),
			 -1);
	assert_int_equal(JUDGE(&f->ok, expect_call_ms(p, "client", "read",
						      "never", 2400, TOL)),
			 -1);
}

static const struct sl_measure *find(const char *name)
{
	for (int i = 0; i < pred.nmeasures; i++)
		if (strcmp(pred.measure[i].name, name) == 0)
			return &pred.measure[i];
	return NULL;
}

static void test_measures(void **state)
{
	struct fixture *f = *state;
	struct sl_predict *p = &pred;

	sl_predict_init(p, &f->ok);
	measure_gaps_ms(p, "retrans", .from = "client", .len = 100,
			.after = "sending");
	measure_call_ms(p, "dead", "client", "read", "sending");
	assert_int_equal(p->nmeasures, 4 + 1 + 1);
	assert_non_null(find("retrans.gap4"));
	assert_true(find("retrans.gap4")->value > 800 &&
		    find("retrans.gap4")->value < 880);
	/* The last two gaps are the RTO's: it doubled. */
	assert_true(find("retrans.backoff")->value > 1.9 &&
		    find("retrans.backoff")->value < 2.1);
	assert_true(find("dead")->value > 2400 && find("dead")->value < 2500);

	sl_predict_init(p, &f->wrong);
	measure_gaps_ms(p, "retrans", .from = "client", .len = 100,
			.after = "sending");
	assert_true(find("retrans.backoff")->value > 0.9 &&
		    find("retrans.backoff")->value < 1.1);

	/* Nothing to measure: nothing recorded, never a made-up value. */
	sl_predict_init(p, &f->ok);
	measure_gaps_ms(p, "none", .from = "server", .len = 100,
			.after = "sending");
	measure_call_ms(p, "none", "client", "read", "never");
	assert_int_equal(p->nmeasures, 0);
}

/* The timeline with a call "tcpi_rto" appended, as the client's role
 * records the RTO it read before the cable was pulled (rto_us() in
 * experiments/common.h): ret in microseconds, err for a call that failed. */
static void load_with_rto(struct sl_timeline *tl, const char *path, long ret,
			  int err)
{
	struct sl_event ev = { .kind = SL_EV_CALL, .from = -1, .to = -1 };

	assert_int_equal(sl_timeline_load(tl, path), 0);
	ev.host = sl_timeline_host(tl, "client");
	ev.t = ev.t_start = tl->ev[tl->n - 1].t + 1;
	ev.ret = ret;
	ev.err = err;
	snprintf(ev.name, sizeof(ev.name), "tcpi_rto");
	assert_int_equal(sl_timeline_add(tl, &ev), 0);
}

/* The retransmissions predicted in R, the RTO the role recorded: what
 * keepalive-vs-retransmit, retries-thresholds, rst-peer-crashed and
 * lastack-peer-dead predict. */
static int judge_in_rto(const struct sl_timeline *tl, long *rto)
{
	struct sl_predict *p = &pred;

	sl_predict_init(p, tl);
	if (sl_predict_ret(p, "client", "tcpi_rto", "us", rto) == 0) {
		double r = *rto / 1000.0;

		expect_packets_at_ms(p, SL_MS(0, r, 2 * r, 4 * r, 8 * r), TOL,
				     .from = "client", .len = 100,
				     .after = "sending");
	}
	return sl_predict_holds(p);
}

static void test_predict_ret(void **state)
{
	struct sl_timeline tl;
	long rto = 0;

	(void)state;
	/* The kernel's 204 ms: the recorded schedule holds, and the value
	 * the predictions used is printed as a measurement. */
	load_with_rto(&tl, SL_TEST_DATA "/faults-retransmit.tl", 204000, 0);
	assert_int_equal(judge_in_rto(&tl, &rto), 1);
	assert_int_equal(rto, 204000);
	assert_non_null(find("client.tcpi_rto"));
	assert_true(find("client.tcpi_rto")->value == 204000);
	assert_string_equal(find("client.tcpi_rto")->unit, "us");
	assert_non_null(strstr(pred.result[0].what, "at 0, 204, 408, 816"));
	sl_timeline_free(&tl);

	/* The same R on a timeline without back-off: it fails. */
	load_with_rto(&tl, SL_TEST_DATA "/faults-retransmit-nobackoff.tl",
		      204000, 0);
	assert_int_equal(judge_in_rto(&tl, &rto), 0);
	sl_timeline_free(&tl);

	/* The prediction follows the recorded R: had the kernel said 300 ms,
	 * the retransmissions seen (about 207, 415, 839, 1671 ms) would be
	 * the wrong ones. */
	load_with_rto(&tl, SL_TEST_DATA "/faults-retransmit.tl", 300000, 0);
	assert_int_equal(judge_in_rto(&tl, &rto), 0);
	assert_non_null(strstr(pred.result[0].evidence, "(off)"));
	sl_timeline_free(&tl);

	/* Nothing recorded, or a call that failed: the predictions are not
	 * made, a skipped result says why, and the variant cannot hold. */
	assert_int_equal(
		sl_timeline_load(&tl, SL_TEST_DATA "/faults-retransmit.tl"), 0);
	assert_int_equal(judge_in_rto(&tl, &rto), 0);
	assert_int_equal(pred.nresults, 1);
	assert_non_null(strstr(pred.result[0].skipped, "never recorded"));
	assert_null(find("client.tcpi_rto"));
	sl_timeline_free(&tl);
	load_with_rto(&tl, SL_TEST_DATA "/faults-retransmit.tl", -1, EINVAL);
	assert_int_equal(judge_in_rto(&tl, &rto), 0);
	assert_int_equal(pred.nresults, 1);
	assert_non_null(strstr(pred.result[0].skipped, "failed"));
	sl_timeline_free(&tl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_packets_at_ms),
		cmocka_unit_test(test_call_ms),
		cmocka_unit_test(test_measures),
		cmocka_unit_test(test_predict_ret),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
