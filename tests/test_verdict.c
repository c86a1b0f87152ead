/* test_verdict.c: the verdict follows from the variants, and an ERROR in
 * any variant is never turned into a verdict. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "registry.h"
#include "verdict.h"

static void test_derive(void **state)
{
	(void)state;
	assert_int_equal(sl_verdict_derive(2, (int[]){ 1, 1 }, (int[]){ 0, 0 }),
			 SL_CONFIRMED);
	assert_int_equal(sl_verdict_derive(2, (int[]){ 0, 0 }, (int[]){ 0, 0 }),
			 SL_REFUTED);
	assert_int_equal(sl_verdict_derive(2, (int[]){ 1, 0 }, (int[]){ 0, 0 }),
			 SL_NUANCED);
	assert_int_equal(sl_verdict_derive(2, (int[]){ 1, 1 }, (int[]){ 0, 1 }),
			 SL_ERROR);
	assert_int_equal(sl_verdict_derive(0, NULL, NULL), SL_ERROR);
}

static void test_names(void **state)
{
	enum sl_verdict v;

	(void)state;
	assert_string_equal(sl_verdict_name(SL_NUANCED), "NUANCED");
	assert_int_equal(sl_verdict_parse("REFUTED", &v), 0);
	assert_int_equal(v, SL_REFUTED);
	assert_int_equal(sl_verdict_parse("MAYBE", &v), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_derive),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
