/* test_predict_window.c: the predictions on windows, SACK blocks,
 * duplicate ACKs and socket queues pass where the timeline shows them and
 * fail where it shows something else.
 *
 * tests/data/window-sack.tl is made by hand, as the captures would record
 * it (sender copies only): a client sends to a server, one data segment is
 * lost (the server's duplicate ACK carries a SACK block, the fast
 * retransmission fills the hole), a needless retransmission draws a D-SACK,
 * then the server's buffer fills (a zero window, a probe answered by a
 * duplicate ACK) and, after the mark "reading", a window update.  The
 * server's listener is sampled with Recv-Q 0, 1 and 3 (Send-Q 2).  Marks cut
 * it into windows with and without each thing, so that every prediction is
 * seen to hold and to fail on the same recording.
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

static struct sl_timeline tl;

static int setup(void **state)
{
	(void)state;
	return sl_timeline_load(&tl, SL_TEST_DATA "/window-sack.tl");
}

static int teardown(void **state)
{
	(void)state;
	sl_timeline_free(&tl);
	return 0;
}

static void test_win(void **state)
{
	(void)state;
	/* The zero window comes once the buffer fills, not before. */
	assert_int_equal(JUDGE(&tl, expect_packet(p, .from = "server", .win = 0,
						  .after = "filling")),
			 1);
	assert_int_equal(JUDGE(&tl, expect_packet(p, .from = "server", .win = 0,
						  .before = "filling")),
			 0);
	assert_non_null(strstr(pred.result[0].what, "with win 0"));
	/* The client never advertised one. */
	assert_int_equal(
		JUDGE(&tl, expect_no_packet(p, .from = "client", .win = 0)), 1);
	/* Two zero windows: the first ACK and the answer to the probe. */
	assert_int_equal(
		JUDGE(&tl, expect_packets(p, 2, .from = "server", .win = 0)),
		1);
}

static void test_min_win(void **state)
{
	(void)state;
	/* The update after the read opens the window again... */
	assert_int_equal(JUDGE(&tl,
			       expect_packet(p, .from = "server", .min_win = 1,
					     .len = 0, .after = "reading")),
			 1);
	/* ...which nothing between the zero window and the read did. */
	assert_int_equal(JUDGE(&tl,
			       expect_packet(p, .from = "server", .min_win = 1,
					     .after = "filling",
					     .before = "reading")),
			 0);
	assert_non_null(strstr(pred.result[0].what, "win >= 1"));
	/* At least is at least: 509 was the most since the handshake. */
	assert_int_equal(JUDGE(&tl, expect_packet(p, .from = "server",
						  .min_win = 509,
						  .after = "sending")),
			 1);
	assert_int_equal(JUDGE(&tl, expect_packet(p, .from = "server",
						  .min_win = 510,
						  .after = "sending")),
			 0);
}

static void test_sack(void **state)
{
	(void)state;
	/* One SACK block in the duplicate ACK for the hole... */
	assert_int_equal(JUDGE(&tl,
			       expect_packet(p, .from = "server", .sack = 1,
					     .dsack = 0, .after = "sending")),
			 1);
	/* ...none in the ACKs before it, and never two. */
	assert_int_equal(JUDGE(&tl,
			       expect_packet(p, .from = "server", .sack = 1,
					     .before = "sending")),
			 0);
	assert_int_equal(JUDGE(&tl, expect_packet(p, .sack = 2)), 0);
	assert_non_null(strstr(pred.result[0].what, "2 SACK blocks"));
	/* .sack = 0 is "none", not "any": the client's segments have none. */
	assert_int_equal(
		JUDGE(&tl, expect_no_packet(p, .from = "client", .sack = 0)),
		0);
}

static void test_dsack(void **state)
{
	(void)state;
	/* The block below the ACK number reports a duplicate. */
	assert_int_equal(
		JUDGE(&tl, expect_packets(p, 1, .from = "server", .dsack = 1)),
		1);
	/* The hole's block lies above it: an ordinary SACK. */
	assert_int_equal(JUDGE(&tl, expect_packets(p, 1, .from = "server",
						   .sack = 1, .dsack = 0)),
			 1);
	assert_int_equal(JUDGE(&tl,
			       expect_packet(p, .from = "server", .dsack = 1,
					     .before = "client:sending")),
			 0);
	assert_int_equal(
		JUDGE(&tl, expect_packet(p, .from = "client", .dsack = 1)), 0);
	assert_non_null(strstr(pred.result[0].what, "with a D-SACK"));
}

static void test_dup_ack(void **state)
{
	(void)state;
	/* The hole's, the D-SACK's and the probe's answer: three. */
	assert_int_equal(JUDGE(&tl, expect_packets(p, 3, .from = "server",
						   .dup_ack = 1)),
			 1);
	/* The window update repeats the ACK number with a new window: RFC
	 * 5681 does not count it. */
	assert_int_equal(JUDGE(&tl,
			       expect_packet(p, .from = "server", .dup_ack = 1,
					     .after = "reading")),
			 0);
	assert_non_null(strstr(pred.result[0].what, "a duplicate ACK"));
	assert_int_equal(JUDGE(&tl,
			       expect_packet(p, .from = "server", .dup_ack = 0,
					     .len = 0, .after = "reading")),
			 1);
	/* Data is never a duplicate ACK, even a retransmission... */
	assert_int_equal(JUDGE(&tl, expect_packet(p, .from = "client",
						  .flags = "P.", .dup_ack = 1)),
			 0);
	/* ...but a zero-window probe (no data, the ACK and window of the
	 * segment before it) looks exactly like one, as on the wire. */
	assert_int_equal(JUDGE(&tl, expect_packets(p, 1, .from = "client",
						   .dup_ack = 1)),
			 1);
}

static void test_queues(void **state)
{
	(void)state;
	assert_int_equal(JUDGE(&tl, expect_state(p, .host = "server",
						 .state = "LISTEN", .rqueue = 3,
						 .wqueue = 2)),
			 1);
	assert_non_null(strstr(pred.result[0].evidence, "seen: "));
	/* A fill never sampled fails, and says which ones were. */
	assert_int_equal(JUDGE(&tl,
			       expect_state(p, .host = "server",
					    .state = "LISTEN", .rqueue = 4)),
			 0);
	assert_non_null(strstr(pred.result[0].evidence, "Recv-Q 0..3"));
	assert_int_equal(JUDGE(&tl,
			       expect_state(p, .host = "server",
					    .state = "LISTEN", .wqueue = 3)),
			 0);
	assert_int_equal(JUDGE(&tl,
			       expect_no_state(p, .host = "server",
					       .state = "LISTEN", .rqueue = 3)),
			 0);
	/* Before the clients came, the queue was empty. */
	assert_int_equal(JUDGE(&tl, expect_state(p, .host = "server",
						 .state = "LISTEN", .rqueue = 1,
						 .before = "listening")),
			 0);
	assert_int_equal(JUDGE(&tl,
			       expect_state(p, .host = "client",
					    .state = "LISTEN", .rqueue = 0)),
			 0);
}

static double measured(const char *name)
{
	for (int i = 0; i < pred.nmeasures; i++)
		if (!strcmp(pred.measure[i].name, name))
			return pred.measure[i].value;
	return -1;
}

static void test_measure_queues(void **state)
{
	(void)state;
	sl_predict_init(&pred, &tl);
	measure_queues(&pred, "listen", .host = "server", .state = "LISTEN");
	assert_true(measured("listen.recv_q_max") == 3);
	assert_true(measured("listen.send_q_max") == 2);
	/* Nothing matched: no measurement rather than a zero. */
	sl_predict_init(&pred, &tl);
	measure_queues(&pred, "none", .host = "client");
	assert_int_equal(pred.nmeasures, 0);
	assert_int_equal(pred.nresults, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_win),
		cmocka_unit_test(test_min_win),
		cmocka_unit_test(test_sack),
		cmocka_unit_test(test_dsack),
		cmocka_unit_test(test_dup_ack),
		cmocka_unit_test(test_queues),
		cmocka_unit_test(test_measure_queues),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
