/* judge.h: one prediction on one recorded timeline, for the tests of the
 * prediction vocabulary (include after <cmocka.h> and "predict.h").
 *
 *	assert_int_equal(JUDGE(&tl, expect_state(p, .host = "client",
 *			 .state = "CLOSING")), 1);
 *
 * JUDGE evaluates to 1 when the prediction was observed, 0 when not, -1
 * when it was skipped; pred.result[0] then holds its evidence or reason. */
#ifndef SL_TEST_JUDGE_H
#define SL_TEST_JUDGE_H

static struct sl_predict pred;

#define JUDGE(tl, call)                                         \
	({                                                      \
		struct sl_predict *p = &pred;                   \
		sl_predict_init(p, (tl));                       \
		call;                                           \
		assert_int_equal(p->nresults, 1);               \
		p->result[0].skipped[0] ? -1 : p->result[0].ok; \
	})

#endif
