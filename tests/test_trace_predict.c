/* test_trace_predict.c: every prediction on the kernel's own account passes
 * on the timeline that shows it and fails on one that shows something else.
 *
 * All inputs are recorded from real runs on kernel 6.18 (tests/data):
 *   kernel-close-unread-rst.tl  close-unread-rst, read_90_of_100: the
 *	server's close() resets with TCP_ABORT_ON_CLOSE
 *   kernel-linger-zero.tl       linger-zero-rst, close_linger_1_0: the RST
 *	comes from tcp_disconnect(), reason TCP_STATE, TcpExtTCPAbortOnData
 *   kernel-rst-refused.tl       rst-refused, nothing_on_port: RST and drop
 *	with NO_SOCKET, the client's SYN_SENT -> CLOSE
 *   kernel-timewait.tl          tests/data/trace-experiments/kernel-timewait:
 *	an orderly close, the client ends in TIME-WAIT
 *   kernel-retransmit.tl        keepalive-vs-retransmit, data_tcp_retries2_3:
 *	the client retransmits into a blackhole 5 times, then gives up
 *   kernel-no-tracefs.tl        close-unread-rst with SOCKLAB_TRACEFS
 *	pointing nowhere: no kernel events, counters still read
 *   close-unread-rst.tl         recorded before kernel events existed
 *   kernel-6.1-close-unread-rst.tl, kernel-6.1-rst-refused.tl  the same
 *	two variants in a QEMU guest on Debian's 6.1 kernel, whose
 *	tcp_send_reset gives no reason and misses RSTs for no socket, and
 *	whose kfree_skb names no socket ("klimit" lines)
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
	struct sl_timeline rst, linger, refused, tw, retrans, notrace, old;
	struct sl_timeline rst61, refused61;
};

static int setup(void **state)
{
	static struct fixture f;
	static const struct {
		struct sl_timeline *tl;
		const char *file;
	} load[] = {
		{ &f.rst, "kernel-close-unread-rst.tl" },
		{ &f.linger, "kernel-linger-zero.tl" },
		{ &f.refused, "kernel-rst-refused.tl" },
		{ &f.tw, "kernel-timewait.tl" },
		{ &f.retrans, "kernel-retransmit.tl" },
		{ &f.notrace, "kernel-no-tracefs.tl" },
		{ &f.old, "close-unread-rst.tl" },
		{ &f.rst61, "kernel-6.1-close-unread-rst.tl" },
		{ &f.refused61, "kernel-6.1-rst-refused.tl" },
	};

	for (size_t i = 0; i < sizeof(load) / sizeof(load[0]); i++) {
		char path[512];

		snprintf(path, sizeof(path), SL_TEST_DATA "/%s", load[i].file);
		assert_int_equal(sl_timeline_load(load[i].tl, path), 0);
	}
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	struct sl_timeline *all[] = { &f->rst, &f->linger,  &f->refused,
				      &f->tw,  &f->retrans, &f->notrace,
				      &f->old, &f->rst61,   &f->refused61 };

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		sl_timeline_free(all[i]);
	return 0;
}

static void test_expect_kernel_rst_reason(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(JUDGE(&f->rst,
			       expect_kernel(p, .host = "server",
					     .event = "tcp_send_reset",
					     .reason = "TCP_ABORT_ON_CLOSE",
					     .after = "closing",
					     .within_ms = 50)),
			 1);
	assert_non_null(strstr(pred.result[0].evidence, "1 matching"));
	/* linger {1, 0}: a RST, but for another reason; the evidence says
	 * which. */
	assert_int_equal(JUDGE(&f->linger,
			       expect_kernel(p, .host = "server",
					     .event = "tcp_send_reset",
					     .reason = "TCP_ABORT_ON_CLOSE",
					     .after = "closing")),
			 0);
	assert_non_null(
		strstr(pred.result[0].evidence, "RST sent, reason TCP_STATE"));
	/* the host matters: the client sent no RST */
	assert_int_equal(JUDGE(&f->rst,
			       expect_kernel(p, .host = "client",
					     .event = "tcp_send_reset")),
			 0);
	/* the window matters: nothing before the mark */
	assert_int_equal(JUDGE(&f->rst, expect_kernel(p, .host = "server",
						      .event = "tcp_send_reset",
						      .before = "closing")),
			 0);
	/* the port matters */
	assert_int_equal(JUDGE(&f->rst,
			       expect_kernel(p, .host = "server",
					     .event = "tcp:tcp_send_reset",
					     .lport = 5000)),
			 1);
	assert_int_equal(JUDGE(&f->rst, expect_kernel(p, .host = "server",
						      .event = "tcp_send_reset",
						      .lport = 5001)),
			 0);
	/* the socket's state at the RST */
	assert_int_equal(JUDGE(&f->rst, expect_kernel(p, .host = "server",
						      .event = "tcp_send_reset",
						      .state = "CLOSE")),
			 1);
	assert_int_equal(JUDGE(&f->rst, expect_kernel(p, .host = "server",
						      .event = "tcp_send_reset",
						      .state = "ESTABLISHED")),
			 0);
	/* counted */
	assert_int_equal(JUDGE(&f->rst, expect_kernel(p, .host = "server",
						      .event = "tcp_send_reset",
						      .min = 2)),
			 0);
	assert_int_equal(JUDGE(&f->rst, expect_kernel(p, .host = "server",
						      .event = "tcp_send_reset",
						      .min = 1, .max = 1)),
			 1);
	/* a name that is no event, a mark that never happened: skipped */
	assert_int_equal(JUDGE(&f->rst, expect_kernel(p, .host = "server",
						      .event = "tcp_send_rst")),
			 -1);
	assert_int_equal(JUDGE(&f->rst, expect_kernel(p, .host = "server",
						      .event = "tcp_send_reset",
						      .after = "never")),
			 -1);
	assert_int_equal(JUDGE(&f->rst,
			       expect_kernel(p, .host = "nobody",
					     .event = "tcp_send_reset")),
			 -1);
}

static void test_expect_no_kernel(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(
		JUDGE(&f->linger,
		      expect_no_kernel(p, .host = "server",
				       .event = "tcp_send_reset",
				       .reason = "TCP_ABORT_ON_CLOSE")),
		1);
	assert_int_equal(
		JUDGE(&f->rst,
		      expect_no_kernel(p, .host = "server",
				       .event = "tcp_send_reset",
				       .reason = "TCP_ABORT_ON_CLOSE")),
		0);
	assert_int_equal(JUDGE(&f->tw,
			       expect_no_kernel(p, .event = "tcp_send_reset")),
			 1);
	assert_int_equal(JUDGE(&f->rst,
			       expect_no_kernel(p, .event = "tcp_send_reset")),
			 0);
}

static void test_expect_receive_reset(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(JUDGE(&f->rst,
			       expect_kernel(p, .host = "client",
					     .event = "tcp_receive_reset",
					     .after = "closing")),
			 1);
	assert_int_equal(JUDGE(&f->tw,
			       expect_kernel(p, .host = "client",
					     .event = "tcp_receive_reset")),
			 0);
}

static void test_expect_state_change(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(JUDGE(&f->rst,
			       expect_state_change(p, .host = "server",
						   .old_state = "ESTABLISHED",
						   .state = "CLOSE",
						   .after = "closing")),
			 1);
	/* An orderly close never goes from ESTABLISHED straight to CLOSE;
	 * the evidence lists the changes there were. */
	assert_int_equal(JUDGE(&f->tw,
			       expect_state_change(p, .host = "server",
						   .old_state = "ESTABLISHED",
						   .state = "CLOSE")),
			 0);
	assert_non_null(
		strstr(pred.result[0].evidence, "ESTABLISHED -> CLOSE_WAIT"));
	/* ss's names work too */
	assert_int_equal(JUDGE(&f->tw,
			       expect_state_change(p, .host = "client",
						   .old_state = "FIN-WAIT-2",
						   .state = "CLOSE")),
			 1);
	assert_int_equal(JUDGE(&f->rst,
			       expect_state_change(p, .host = "client",
						   .old_state = "FIN-WAIT-2",
						   .state = "CLOSE")),
			 0);
	/* The kernel never reports TIME_WAIT: a prediction on it could not
	 * fail, so it is skipped with the way to predict it instead. */
	assert_int_equal(JUDGE(&f->tw,
			       expect_state_change(p, .host = "client",
						   .state = "TIME_WAIT")),
			 -1);
	assert_non_null(strstr(pred.result[0].skipped, "expect_state"));
	assert_int_equal(JUDGE(&f->tw,
			       expect_no_state_change(p, .host = "server",
						      .state = "TIME-WAIT")),
			 -1);
	assert_int_equal(JUDGE(&f->tw,
			       expect_state_change(p, .host = "client",
						   .state = "NOT_A_STATE")),
			 -1);
}

static void test_expect_no_state_change(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(JUDGE(&f->refused,
			       expect_no_state_change(p, .host = "client",
						      .state = "ESTABLISHED")),
			 1);
	assert_int_equal(JUDGE(&f->rst,
			       expect_no_state_change(p, .host = "client",
						      .state = "ESTABLISHED")),
			 0);
	assert_int_equal(JUDGE(&f->linger,
			       expect_no_state_change(p, .host = "server",
						      .state = "FIN_WAIT1")),
			 1);
	assert_int_equal(JUDGE(&f->tw,
			       expect_no_state_change(p, .host = "server",
						      .state = "FIN_WAIT1")),
			 1);
	assert_int_equal(JUDGE(&f->tw,
			       expect_no_state_change(p, .host = "client",
						      .state = "FIN_WAIT1")),
			 0);
}

static void test_expect_drop(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(JUDGE(&f->refused, expect_drop(p, .host = "server",
							.reason = "NO_SOCKET",
							.after = "connecting")),
			 1);
	assert_int_equal(JUDGE(&f->rst, expect_drop(p, .host = "server",
						    .reason = "NO_SOCKET")),
			 0);
	assert_int_equal(JUDGE(&f->refused,
			       expect_drop(p, .host = "server",
					   .reason = "TCP_OLD_SEQUENCE")),
			 0);
	assert_non_null(strstr(pred.result[0].evidence,
			       "packet dropped, reason NO_SOCKET"));
	assert_int_equal(JUDGE(&f->refused, expect_drop(p, .host = "client")),
			 0);
}

static void test_expect_retransmits(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(
		JUDGE(&f->retrans,
		      expect_retransmits(p, .host = "client", .min = 3)),
		1);
	assert_int_equal(JUDGE(&f->retrans,
			       expect_retransmits(p, .host = "client", .min = 5,
						  .max = 5,
						  .after = "sending")),
			 1);
	assert_non_null(strstr(pred.result[0].evidence, "5 matching"));
	assert_int_equal(
		JUDGE(&f->retrans,
		      expect_retransmits(p, .host = "client", .max = 4)),
		0);
	assert_int_equal(JUDGE(&f->rst, expect_retransmits(p, .host = "client",
							   .min = 3)),
			 0);
	assert_int_equal(JUDGE(&f->rst, expect_retransmits(p, .host = "client",
							   .max = 0)),
			 1);
	assert_int_equal(
		JUDGE(&f->retrans,
		      expect_retransmits(p, .host = "client", .max = 0)),
		0);
	assert_int_equal(
		JUDGE(&f->retrans,
		      expect_retransmits(p, .host = "server", .min = 1)),
		0);
	/* A count without bounds cannot fail: skipped. */
	assert_int_equal(JUDGE(&f->retrans,
			       expect_retransmits(p, .host = "client")),
			 -1);
}

static void test_expect_counter(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(JUDGE(&f->rst, expect_counter(p, "server",
						       "TcpExtTCPAbortOnClose",
						       .min = 1)),
			 1);
	assert_int_equal(JUDGE(&f->linger,
			       expect_counter(p, "server",
					      "TcpExtTCPAbortOnClose",
					      .min = 1)),
			 0);
	assert_non_null(strstr(pred.result[0].evidence, "+0"));
	/* The historical names: linger {1, 0} counts as "abort on data". */
	assert_int_equal(JUDGE(&f->linger,
			       expect_counter(p, "server",
					      "TcpExtTCPAbortOnData", .min = 1,
					      .max = 1)),
			 1);
	assert_int_equal(JUDGE(&f->rst, expect_counter(p, "server",
						       "TcpExtTCPAbortOnData",
						       .min = 1)),
			 0);
	assert_int_equal(JUDGE(&f->linger,
			       expect_counter(p, "server",
					      "TcpExtTCPAbortOnLinger",
					      .max = 0)),
			 1);
	/* .max = 0 is "never", not "no bound". */
	assert_int_equal(JUDGE(&f->rst, expect_counter(p, "server",
						       "TcpExtTCPAbortOnClose",
						       .max = 0)),
			 0);
	assert_non_null(strstr(pred.result[0].what, "at most 0"));
	assert_int_equal(
		JUDGE(&f->refused,
		      expect_counter(p, "client", "TcpAttemptFails", .min = 1)),
		1);
	assert_int_equal(
		JUDGE(&f->rst,
		      expect_counter(p, "client", "TcpAttemptFails", .min = 1)),
		0);
	/* Counters are read without tracefs too. */
	assert_int_equal(JUDGE(&f->notrace,
			       expect_counter(p, "server",
					      "TcpExtTCPAbortOnClose",
					      .min = 1)),
			 1);
	/* No such counter, no bound, no such host: skipped, never passed. */
	assert_int_equal(
		JUDGE(&f->rst,
		      expect_counter(p, "server", "AbortOnClose", .min = 1)),
		-1);
	assert_int_equal(
		JUDGE(&f->rst,
		      expect_counter(p, "server", "TcpExtTCPAbortOnClose")),
		-1);
	assert_int_equal(JUDGE(&f->rst, expect_counter(p, "nobody",
						       "TcpExtTCPAbortOnClose",
						       .min = 1)),
			 -1);
	/* A recording from before counters existed. */
	assert_int_equal(JUDGE(&f->old, expect_counter(p, "server",
						       "TcpExtTCPAbortOnClose",
						       .min = 1)),
			 -1);
	assert_int_equal(pred.result[0].unavailable, 1);
}

/* Without tracefs a kernel prediction is skipped with the reason, and is
 * never observed; the rest still decide whether the variant holds. */
static void test_unavailable(void **state)
{
	struct fixture *f = *state;
	struct sl_predict *p = &pred;

	assert_int_equal(JUDGE(&f->notrace,
			       expect_kernel(p, .host = "server",
					     .event = "tcp_send_reset")),
			 -1);
	assert_int_equal(pred.result[0].unavailable, 1);
	assert_int_equal(pred.result[0].ok, 0);
	assert_non_null(strstr(pred.result[0].skipped, "no tracefs"));
	assert_int_equal(JUDGE(&f->old, expect_state_change(p, .host = "server",
							    .state = "CLOSE")),
			 -1);
	assert_int_equal(pred.result[0].unavailable, 1);

	sl_predict_init(p, &f->notrace);
	expect_packet(p, .from = "server", .flags = "R", .after = "closing");
	expect_kernel(p, .host = "server", .event = "tcp_send_reset");
	assert_int_equal(sl_predict_unavailable(p), 1);
	assert_int_equal(sl_predict_holds(p), 1);
	/* ...but a failed one still fails the variant */
	expect_packet(p, .from = "client", .flags = "R");
	assert_int_equal(sl_predict_holds(p), 0);

	/* nothing judged at all: cannot hold */
	sl_predict_init(p, &f->notrace);
	expect_kernel(p, .host = "server", .event = "tcp_send_reset");
	assert_int_equal(sl_predict_holds(p), 0);

	/* a skip for another reason (a mark that never happened) still
	 * stops the variant from holding */
	sl_predict_init(p, &f->rst);
	expect_packet(p, .from = "server", .flags = "R");
	expect_kernel(p, .host = "server", .event = "tcp_send_reset",
		      .after = "never");
	assert_int_equal(sl_predict_holds(p), 0);

	/* what the report shows */
	sl_predict_observe(p, &f->notrace);
	assert_non_null(strstr(p->kernel_note, "kernel events not recorded"));
	assert_true(p->ncounters > 0);
	sl_predict_observe(p, &f->rst);
	assert_string_equal(p->kernel_note, "");
}

/* When the trace buffer lost events, an absence or a count proves
 * nothing; a presence still does. */
static void test_lost_events(void **state)
{
	struct fixture *f = *state;

	f->rst.kernel_lost = 1;
	assert_int_equal(JUDGE(&f->rst,
			       expect_no_kernel(p, .host = "client",
						.event = "tcp_send_reset")),
			 -1);
	assert_int_equal(JUDGE(&f->rst, expect_retransmits(p, .host = "client",
							   .max = 0)),
			 -1);
	assert_int_equal(JUDGE(&f->rst,
			       expect_kernel(p, .host = "server",
					     .event = "tcp_send_reset")),
			 1);
	f->rst.kernel_lost = 0;
}

/* An older kernel's tracepoints leave events out (timeline.h's
 * kernel_limit): what they cannot show is skipped with why, what they
 * show still passes or fails. */
static void test_kernel_limits(void **state)
{
	struct fixture *f = *state;
	struct sl_predict *p = &pred;

	assert_non_null(strstr(f->rst61.kernel_limit[SL_KEV_SEND_RESET],
			       "gives no reason"));
	assert_non_null(strstr(f->rst61.kernel_limit[SL_KEV_DROP], "rx_sk"));
	assert_string_equal(f->rst.kernel_limit[SL_KEV_SEND_RESET], "");
	/* No reason is ever given: a reason cannot be judged. */
	assert_int_equal(JUDGE(&f->rst61,
			       expect_kernel(p, .host = "server",
					     .event = "tcp_send_reset",
					     .reason = "TCP_ABORT_ON_CLOSE",
					     .after = "closing")),
			 -1);
	assert_int_equal(pred.result[0].unavailable, 1);
	assert_non_null(strstr(pred.result[0].skipped, "gives no reason"));
	/* A full socket's RST is traced: seen, it passes... */
	assert_int_equal(JUDGE(&f->rst61,
			       expect_kernel(p, .host = "server",
					     .event = "tcp_send_reset",
					     .after = "closing")),
			 1);
	/* ...unseen, it may have been one the kernel does not trace (the
	 * RST for no socket that rst-refused's capture shows). */
	assert_int_equal(JUDGE(&f->refused61,
			       expect_kernel(p, .host = "server",
					     .event = "tcp_send_reset")),
			 -1);
	assert_int_equal(pred.result[0].unavailable, 1);
	/* An absence or a count proves nothing there. */
	assert_int_equal(JUDGE(&f->refused61,
			       expect_no_kernel(p, .host = "server",
						.event = "tcp_send_reset")),
			 -1);
	assert_int_equal(JUDGE(&f->rst61,
			       expect_kernel(p, .host = "server",
					     .event = "tcp_send_reset",
					     .min = 1, .max = 1)),
			 -1);
	/* Drops: no socket named, none provably this run's. */
	assert_int_equal(
		JUDGE(&f->refused61,
		      expect_drop(p, .host = "server", .reason = "NO_SOCKET")),
		-1);
	assert_int_equal(pred.result[0].unavailable, 1);
	/* Events the kernel reports in full still fail on a wrong
	 * observation. */
	assert_int_equal(JUDGE(&f->rst61,
			       expect_state_change(p, .host = "server",
						   .old_state = "ESTABLISHED",
						   .state = "CLOSE",
						   .after = "closing")),
			 1);
	assert_int_equal(JUDGE(&f->rst61,
			       expect_state_change(p, .host = "server",
						   .state = "FIN_WAIT1",
						   .after = "closing")),
			 0);
	assert_int_equal(JUDGE(&f->refused61,
			       expect_kernel(p, .host = "client",
					     .event = "tcp_receive_reset")),
			 1);
	/* A limited prediction does not stop the others from deciding. */
	sl_predict_init(p, &f->rst61);
	expect_packet(p, .from = "server", .flags = "R", .after = "closing");
	expect_kernel(p, .host = "server", .event = "tcp_send_reset",
		      .reason = "TCP_ABORT_ON_CLOSE");
	assert_int_equal(sl_predict_holds(p), 1);
	expect_packet(p, .from = "server", .flags = "F", .after = "closing");
	assert_int_equal(sl_predict_holds(p), 0);
	/* The report names the limits. */
	sl_predict_observe(p, &f->rst61);
	assert_non_null(strstr(p->kernel_note, "gives no reason"));
	assert_non_null(strstr(p->kernel_note, "rx_sk"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expect_kernel_rst_reason),
		cmocka_unit_test(test_expect_no_kernel),
		cmocka_unit_test(test_expect_receive_reset),
		cmocka_unit_test(test_expect_state_change),
		cmocka_unit_test(test_expect_no_state_change),
		cmocka_unit_test(test_expect_drop),
		cmocka_unit_test(test_expect_retransmits),
		cmocka_unit_test(test_expect_counter),
		cmocka_unit_test(test_unavailable),
		cmocka_unit_test(test_lost_events),
		cmocka_unit_test(test_kernel_limits),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
