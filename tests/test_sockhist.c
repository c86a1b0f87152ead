/* test_sockhist.c: socket states from the kernel's changes first, samples
 * second (lib/sockhist.c), and the state predictions built on them.
 *
 * The recorded runs (tests/data/kernel-*.tl):
 *   kernel-closing-unsampled.tl  simultaneous-close, its CLOSING samples
 *				  removed: only the kernel saw CLOSING
 *   kernel-lastack-dead.tl	  lastack-peer-dead: LAST-ACK until the
 *				  orphan gives up, 1.6 s by the kernel
 *   kernel-reboot.tl		  rst-peer-rebooted: the server's socket
 *				  lives on in its old namespace after the
 *				  reboot
 *   kernel-finwait2-orphan.tl	  timewait-duration: an orphan's FIN-WAIT-2
 *				  goes on as a mini-socket for 5 s
 *   kernel-6.1-finwait2-sample-first.tl  the same in a slow guest (6.1,
 *				  TCG): ss saw the mini-socket before the
 *				  kernel reported the full one's CLOSE
 * Each is also edited in memory into the wrong observation, or into what
 * a machine without tracefs would have recorded, to see the predictions
 * fail or step aside.
 */
#include <netinet/tcp.h>
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
#include "sockhist.h"
#include "socklab.h"
#include "timeline.h"

static void load(struct sl_timeline *tl, const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", SL_TEST_DATA, name);
	assert_int_equal(sl_timeline_load(tl, path), 0);
}

/* What a machine without tracefs records: no kernel events at all. */
static void without_kernel(struct sl_timeline *tl)
{
	tl->kernel = 0;
	snprintf(tl->kernel_why, sizeof(tl->kernel_why),
		 "no tracefs (edited out)");
}

/* The span of host's connection in state, or NULL. */
static const struct sl_span *span_of(const struct sl_spans *sp, int host,
				     int state)
{
	for (int i = 0; i < sp->n; i++)
		if (sp->s[i].host == host && sp->s[i].rport &&
		    sp->s[i].state == state)
			return &sp->s[i];
	return NULL;
}

/* A 50 ms CLOSING that no sample saw: the kernel's changes time it, and
 * expect_state sees it. */
static void test_short_state_from_kernel(void **state)
{
	struct sl_timeline tl;
	struct sl_spans sp;
	const struct sl_span *s;

	(void)state;
	load(&tl, "kernel-closing-unsampled.tl");
	for (int i = 0; i < tl.n; i++)
		assert_false(tl.ev[i].kind == SL_EV_STATE &&
			     tl.ev[i].sock.state == TCP_CLOSING);
	assert_int_equal(sl_spans_build(&tl, &sp), 0);
	assert_true(sp.kernel);
	for (int h = 0; h <= 2; h += 2) {
		s = span_of(&sp, h, TCP_CLOSING);
		assert_non_null(s);
		assert_true(s->kernel_from && s->kernel_to);
		assert_true(s->to - s->from > 40 * SL_NS_PER_MS &&
			    s->to - s->from < 60 * SL_NS_PER_MS);
		/* It became a TIME-WAIT mini-socket at the change to CLOSE:
		 * not gone, and the TIME-WAIT starts at that change. */
		assert_false(s->gone);
		assert_non_null(span_of(&sp, h, TCP_TIME_WAIT));
		assert_int_equal(span_of(&sp, h, TCP_TIME_WAIT)->from, s->to);
		assert_true(span_of(&sp, h, TCP_TIME_WAIT)->mini);
	}
	sl_spans_free(&sp);

	assert_int_equal(JUDGE(&tl, expect_state(p, .host = "client",
						 .state = "CLOSING")),
			 1);
	assert_non_null(strstr(pred.result[0].evidence,
			       "kernel: FIN_WAIT1 -> CLOSING"));
	assert_int_equal(JUDGE(&tl, expect_state(p, .host = "server",
						 .state = "CLOSING")),
			 1);
	assert_int_equal(JUDGE(&tl, expect_no_state(p, .host = "client",
						    .state = "CLOSING")),
			 0);
	assert_int_equal(JUDGE(&tl, expect_no_state(p, .host = "client",
						    .state = "LAST-ACK")),
			 1);
	assert_int_equal(
		JUDGE(&tl, expect_state_kept(p, .host = "client",
					     .state = "TIME-WAIT",
					     .after = "client:in TIME-WAIT")),
		1);
	sl_timeline_free(&tl);
}

/* The same run as the kernel would have told it had the sockets gone
 * through FIN-WAIT-2 instead: CLOSING is then not seen, and said so. */
static void test_wrong_state_fails(void **state)
{
	struct sl_timeline tl;

	(void)state;
	load(&tl, "kernel-closing-unsampled.tl");
	for (int i = 0; i < tl.n; i++) {
		struct sl_kevent *k = &tl.ev[i].k;

		if (tl.ev[i].kind != SL_EV_KERNEL)
			continue;
		if (k->state == TCP_CLOSING)
			k->state = TCP_FIN_WAIT2;
		if (k->oldstate == TCP_CLOSING)
			k->oldstate = TCP_FIN_WAIT2;
	}
	assert_int_equal(JUDGE(&tl, expect_state(p, .host = "client",
						 .state = "CLOSING")),
			 0);
	assert_non_null(strstr(pred.result[0].evidence, "FIN-WAIT-2"));
	assert_int_equal(JUDGE(&tl, expect_no_state(p, .host = "client",
						    .state = "CLOSING")),
			 1);
	sl_timeline_free(&tl);
}

/* Without the kernel's changes, a state that no sample saw cannot be
 * judged either way: skipped, with the reason, as a source this machine
 * lacks.  TIME-WAIT, which only samples ever show, is judged still. */
static void test_samples_alone_step_aside(void **state)
{
	struct sl_timeline tl;

	(void)state;
	load(&tl, "kernel-closing-unsampled.tl");
	without_kernel(&tl);
	assert_int_equal(JUDGE(&tl, expect_state(p, .host = "client",
						 .state = "CLOSING")),
			 -1);
	assert_true(pred.result[0].unavailable);
	assert_non_null(strstr(pred.result[0].skipped, "may have been missed"));
	assert_int_equal(JUDGE(&tl, expect_no_state(p, .host = "client",
						    .state = "CLOSING")),
			 -1);
	assert_true(pred.result[0].unavailable);
	/* A sample that did show a state is evidence in either mode. */
	assert_int_equal(JUDGE(&tl, expect_state(p, .host = "client",
						 .state = "FIN-WAIT-1")),
			 1);
	assert_non_null(strstr(pred.result[0].evidence, "ss: FIN-WAIT-1"));
	assert_int_equal(JUDGE(&tl, expect_no_state(p, .host = "client",
						    .state = "FIN-WAIT-1")),
			 0);
	assert_int_equal(JUDGE(&tl, expect_state(p, .host = "client",
						 .state = "TIME-WAIT")),
			 1);
	assert_int_equal(JUDGE(&tl, expect_no_state(p, .host = "client",
						    .state = "TIME-WAIT")),
			 0);
	sl_timeline_free(&tl);
}

/* A disappearance and a duration by the kernel's clock: LAST-ACK from
 * close() (CLOSE_WAIT -> LAST_ACK) to the give-up (LAST_ACK -> CLOSE). */
static void test_gone_and_lasts_by_kernel(void **state)
{
	struct sl_timeline tl;

	(void)state;
	load(&tl, "kernel-lastack-dead.tl");
	assert_int_equal(JUDGE(&tl, expect_gone(p, .host = "server",
						.state = "LAST-ACK",
						.after = "server:closing",
						.within_ms = 1800)),
			 1);
	assert_non_null(
		strstr(pred.result[0].evidence, "kernel: LAST_ACK -> CLOSE"));
	assert_int_equal(JUDGE(&tl, expect_gone(p, .host = "server",
						.state = "LAST-ACK",
						.after = "server:closing",
						.within_ms = 1000)),
			 0);
	assert_int_equal(JUDGE(&tl, expect_state_lasts(p, .host = "server",
						       .state = "LAST-ACK",
						       .min_ms = 1440,
						       .max_ms = 1760)),
			 1);
	assert_non_null(strstr(pred.result[0].evidence,
			       "kernel: CLOSE_WAIT -> LAST_ACK"));
	assert_int_equal(JUDGE(&tl, expect_state_lasts(p, .host = "server",
						       .state = "LAST-ACK",
						       .min_ms = 3000,
						       .max_ms = 3500)),
			 0);
	/* Kept to the end: it was not. */
	assert_int_equal(JUDGE(&tl,
			       expect_state_kept(p, .host = "server",
						 .state = "LAST-ACK",
						 .after = "server:closing")),
			 0);

	/* From samples alone: from our own FIN (LAST-ACK is entered by
	 * close(), not by a segment received) to the first look that
	 * found it gone. */
	without_kernel(&tl);
	assert_int_equal(JUDGE(&tl, expect_state_lasts(p, .host = "server",
						       .state = "LAST-ACK",
						       .min_ms = 1440,
						       .max_ms = 1760)),
			 1);
	assert_non_null(strstr(pred.result[0].evidence, "Flags [F.]"));
	assert_non_null(strstr(pred.result[0].evidence, "as sampled"));
	sl_timeline_free(&tl);
}

/* After a reboot the host's old sockets are not its own any more, though
 * the kernel still reports them under its address. */
static void test_reboot_ends_old_sockets(void **state)
{
	struct sl_timeline tl;
	int note = -1;

	(void)state;
	load(&tl, "kernel-reboot.tl");
	assert_int_equal(JUDGE(&tl, expect_state(p, .host = "server",
						 .state = "FIN-WAIT-1",
						 .after = "crash server")),
			 1);
	assert_int_equal(JUDGE(&tl, expect_no_state(p, .host = "server",
						    .state = "FIN-WAIT-1",
						    .after = "reboot server")),
			 1);
	/* Without the reboot's note, the old socket would still count. */
	for (int i = 0; i < tl.n; i++)
		if (tl.ev[i].kind == SL_EV_NOTE &&
		    strcmp(tl.ev[i].name, "reboot") == 0)
			note = i;
	assert_true(note >= 0);
	tl.ev[note].name[0] = '\0';
	assert_int_equal(JUDGE(&tl, expect_no_state(p, .host = "server",
						    .state = "FIN-WAIT-1",
						    .after = "reboot server")),
			 0);
	sl_timeline_free(&tl);
}

/* An orphan's FIN-WAIT-2 that turns into a mini-socket is one span, from
 * the kernel's FIN_WAIT1 -> FIN_WAIT2 to the first sample that no longer
 * finds it (no event announces a mini-socket's end): so in recording
 * file, and expect_state_lasts holds on it, and fails on a wrong
 * duration. */
static void one_finwait2_span(const char *file)
{
	struct sl_timeline tl;
	struct sl_spans sp;
	const struct sl_span *s;
	int n = 0;

	load(&tl, file);
	assert_int_equal(sl_spans_build(&tl, &sp), 0);
	for (int i = 0; i < sp.n; i++)
		n += sp.s[i].host == 0 && sp.s[i].state == TCP_FIN_WAIT2;
	assert_int_equal(n, 1);
	s = span_of(&sp, 0, TCP_FIN_WAIT2);
	assert_true(s->kernel_from && !s->kernel_to && s->mini && s->gone);
	assert_true(s->to - s->from > 4950 * SL_NS_PER_MS &&
		    s->to - s->from < 5600 * SL_NS_PER_MS);
	assert_null(span_of(&sp, 0, TCP_TIME_WAIT));
	sl_spans_free(&sp);
	assert_int_equal(JUDGE(&tl, expect_state_lasts(p, .host = "client",
						       .state = "FIN-WAIT-2",
						       .min_ms = 4950,
						       .max_ms = 5600)),
			 1);
	assert_int_equal(JUDGE(&tl,
			       expect_state_lasts(p, .host = "client",
						  .state = "FIN-WAIT-2",
						  .min_ms = 0, .max_ms = 100)),
			 0);
	assert_int_equal(JUDGE(&tl, expect_no_state(p, .host = "client",
						    .state = "TIME-WAIT")),
			 1);
	sl_timeline_free(&tl);
}

static void test_finwait2_orphan_one_span(void **state)
{
	(void)state;
	one_finwait2_span("kernel-finwait2-orphan.tl");
}

/* The kernel hashes the mini-socket before it reports the full one's
 * change to CLOSE; a sample can fall between the two.  Still one span,
 * and the full socket's CLOSE does not end it. */
static void test_finwait2_sampled_before_close(void **state)
{
	(void)state;
	one_finwait2_span("kernel-6.1-finwait2-sample-first.tl");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_short_state_from_kernel),
		cmocka_unit_test(test_wrong_state_fails),
		cmocka_unit_test(test_samples_alone_step_aside),
		cmocka_unit_test(test_gone_and_lasts_by_kernel),
		cmocka_unit_test(test_reboot_ends_old_sockets),
		cmocka_unit_test(test_finwait2_orphan_one_span),
		cmocka_unit_test(test_finwait2_sampled_before_close),
	};

	return cmocka_run_group_tests_name("sockhist", tests, NULL, NULL);
}
