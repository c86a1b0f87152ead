/* test_verdict.c: the verdict follows from the variants, and an ERROR in
 * any variant is never turned into a verdict; a run passes only when each
 * variant behaved as it declared, and an experiment whose declarations do
 * not derive its expected verdict is a definition error. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "registry.h"
#include "report.h"
#include "verdict.h"

/* The macros themselves, in this test's own (otherwise empty) registry:
 * the default declares "holds", and the optional initialiser overrides it
 * without a warning under -Wextra -Werror. */
KNOBS(macro)
{
	int n;
};
VARIANT(macro, plain){ .n = 1 };
VARIANT(macro, declared_not_to_hold, .holds = false){ .n = 2 };

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
	assert_string_equal(sl_status_name(SL_STATUS_PASS), "pass");
	assert_string_equal(sl_status_name(SL_STATUS_FAIL), "fail");
	assert_string_equal(sl_status_name(SL_STATUS_ERROR), "error");
}

static void test_macro_declarations(void **state)
{
	const struct sl_registry *reg = sl_registry();

	(void)state;
	assert_int_equal(reg->nvariants, 2);
	assert_string_equal(reg->variant[0]->name, "plain");
	assert_true(reg->variant[0]->decl.holds);
	assert_int_equal(
		((const struct macro__knobs *)reg->variant[0]->knobs)->n, 1);
	assert_string_equal(reg->variant[1]->name, "declared_not_to_hold");
	assert_false(reg->variant[1]->decl.holds);
	assert_int_equal(
		((const struct macro__knobs *)reg->variant[1]->knobs)->n, 2);
}

static void test_as_declared(void **state)
{
	(void)state;
	assert_true(sl_verdict_as_declared(1, 0, 1));
	assert_true(sl_verdict_as_declared(0, 0, 0));
	assert_false(sl_verdict_as_declared(1, 0, 0));
	assert_false(sl_verdict_as_declared(0, 0, 1));
	/* A variant that could not run behaved neither way. */
	assert_false(sl_verdict_as_declared(1, 1, 1));
	assert_false(sl_verdict_as_declared(0, 1, 0));
}

static void test_judge(void **state)
{
	const int none[3] = { 0 };

	(void)state;
	/* NUANCED as declared: the variant declared not to hold did not. */
	assert_int_equal(sl_verdict_judge(2, (int[]){ 1, 0 }, none,
					  (int[]){ 1, 0 }),
			 SL_STATUS_PASS);
	/* The two variants swapped: the verdict is still NUANCED, the one
	 * expected, and yet the run is a finding.  This is what comparing
	 * verdicts alone let through. */
	assert_int_equal(sl_verdict_derive(2, (int[]){ 0, 1 }, none),
			 SL_NUANCED);
	assert_int_equal(sl_verdict_judge(2, (int[]){ 0, 1 }, none,
					  (int[]){ 1, 0 }),
			 SL_STATUS_FAIL);
	/* A variant declared not to hold that holds. */
	assert_int_equal(sl_verdict_judge(2, (int[]){ 1, 1 }, none,
					  (int[]){ 1, 0 }),
			 SL_STATUS_FAIL);
	/* A variant declared to hold that does not. */
	assert_int_equal(sl_verdict_judge(3, (int[]){ 1, 0, 1 }, none,
					  (int[]){ 1, 1, 1 }),
			 SL_STATUS_FAIL);
	assert_int_equal(sl_verdict_judge(3, (int[]){ 1, 1, 1 }, none,
					  (int[]){ 1, 1, 1 }),
			 SL_STATUS_PASS);
	assert_int_equal(sl_verdict_judge(1, (int[]){ 0 }, none, (int[]){ 0 }),
			 SL_STATUS_PASS);
	/* An error wins over a pass and over a finding. */
	assert_int_equal(sl_verdict_judge(2, (int[]){ 1, 0 }, (int[]){ 0, 1 },
					  (int[]){ 1, 0 }),
			 SL_STATUS_ERROR);
	assert_int_equal(sl_verdict_judge(2, (int[]){ 0, 0 }, (int[]){ 0, 1 },
					  (int[]){ 1, 0 }),
			 SL_STATUS_ERROR);
	assert_int_equal(sl_verdict_judge(0, NULL, NULL, NULL),
			 SL_STATUS_ERROR);
}

/* A registry built by hand: n variants declared as holds[], and the
 * experiment's expected verdict. */
struct fake {
	struct sl_experiment x;
	struct sl__role_def role;
	struct sl__variant_def def[4];
	struct sl_registry reg;
};

static void fake_init(struct fake *f, enum sl_verdict expected, int n,
		      const int holds[])
{
	static const char *const names[] = { "v_one", "v_two", "v_three",
					     "v_four" };

	memset(f, 0, sizeof(*f));
	f->x.claim = "a claim";
	f->x.expected = expected;
	f->role.host = "client";
	f->reg.x = &f->x;
	f->reg.id = "fake-exp";
	f->reg.nroles = 1;
	f->reg.role[0] = &f->role;
	f->reg.nvariants = n;
	for (int i = 0; i < n; i++) {
		f->def[i].name = names[i];
		f->def[i].decl.holds = holds[i];
		f->reg.variant[i] = &f->def[i];
	}
}

static void test_registry_check(void **state)
{
	struct fake f;
	char why[1024];

	(void)state;
	fake_init(&f, SL_CONFIRMED, 2, (int[]){ 1, 1 });
	assert_int_equal(sl_registry_check(&f.reg, why, sizeof(why)), 0);
	fake_init(&f, SL_NUANCED, 3, (int[]){ 1, 0, 1 });
	assert_int_equal(sl_registry_check(&f.reg, why, sizeof(why)), 0);
	fake_init(&f, SL_REFUTED, 2, (int[]){ 0, 0 });
	assert_int_equal(sl_registry_check(&f.reg, why, sizeof(why)), 0);

	/* Declared NUANCED, expected CONFIRMED: the reason names both and
	 * the variant declared not to hold. */
	fake_init(&f, SL_CONFIRMED, 3, (int[]){ 1, 0, 1 });
	why[0] = '\0';
	assert_int_equal(sl_registry_check(&f.reg, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "definition error"));
	assert_non_null(strstr(why, ".expected = CONFIRMED"));
	assert_non_null(strstr(why, "derive NUANCED"));
	assert_non_null(strstr(why, "2 of 3 declared to hold"));
	assert_non_null(strstr(why, "v_two"));
	assert_null(strstr(why, "v_one"));

	/* Expected NUANCED, but every variant declared to hold. */
	fake_init(&f, SL_NUANCED, 2, (int[]){ 1, 1 });
	assert_int_equal(sl_registry_check(&f.reg, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "derive CONFIRMED"));
	/* Expected REFUTED, one declared to hold. */
	fake_init(&f, SL_REFUTED, 2, (int[]){ 1, 0 });
	assert_int_equal(sl_registry_check(&f.reg, why, sizeof(why)), -EINVAL);
	/* ERROR is never a verdict to expect. */
	fake_init(&f, SL_ERROR, 1, (int[]){ 1 });
	assert_int_equal(sl_registry_check(&f.reg, why, sizeof(why)), -EINVAL);

	/* Not registered properly. */
	fake_init(&f, SL_CONFIRMED, 0, NULL);
	assert_int_equal(sl_registry_check(&f.reg, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "not registered properly"));
	fake_init(&f, SL_CONFIRMED, 1, (int[]){ 1 });
	f.reg.nroles = 0;
	assert_int_equal(sl_registry_check(&f.reg, why, sizeof(why)), -EINVAL);
	fake_init(&f, SL_CONFIRMED, 1, (int[]){ 1 });
	f.reg.x = NULL;
	assert_int_equal(sl_registry_check(&f.reg, why, sizeof(why)), -EINVAL);
}

/* The result line carries, per variant, what it declared and whether it
 * did it (null when it could not run), and the status follows from them. */
static void test_report_json(void **state)
{
	static struct sl_outcome out[3];
	struct sl_report rep = { 0 };
	struct fake f;
	char *buf = NULL;
	size_t len = 0;
	FILE *m;

	(void)state;
	fake_init(&f, SL_NUANCED, 3, (int[]){ 1, 0, 1 });
	memset(out, 0, sizeof(out));
	out[0].done = out[1].done = 1;
	out[0].holds = 1; /* as declared */
	out[1].holds = 1; /* declared not to hold: a finding */
	out[2].error = 1; /* could not run */
	snprintf(out[2].why, sizeof(out[2].why), "role timed out");
	rep.reg = &f.reg;
	rep.out = out;
	rep.n = 3;
	rep.dir = "/tmp/x";
	rep.dirfd = -1;
	rep.verdict = SL_ERROR;
	rep.status = sl_verdict_judge(3, (int[]){ 1, 1, 0 }, (int[]){ 0, 0, 1 },
				      (int[]){ 1, 0, 1 });
	m = open_memstream(&buf, &len);
	assert_non_null(m);
	sl_report_json(m, &rep);
	assert_int_equal(fclose(m), 0);
	assert_non_null(strstr(buf, "\"status\":\"error\""));
	assert_non_null(strstr(buf, "{\"name\":\"v_one\",\"holds\":true,"
				    "\"expected_holds\":true,"
				    "\"as_declared\":true,"));
	assert_non_null(strstr(buf, "{\"name\":\"v_two\",\"holds\":true,"
				    "\"expected_holds\":false,"
				    "\"as_declared\":false,"));
	assert_non_null(strstr(buf, "{\"name\":\"v_three\",\"holds\":false,"
				    "\"expected_holds\":true,"
				    "\"as_declared\":null,"));
	free(buf);

	/* Without the error: a failure, named at the top of the text. */
	out[2].error = 0;
	out[2].holds = 1;
	rep.verdict = SL_CONFIRMED;
	rep.status = sl_verdict_judge(3, (int[]){ 1, 1, 1 }, (int[]){ 0, 0, 0 },
				      (int[]){ 1, 0, 1 });
	assert_int_equal(rep.status, SL_STATUS_FAIL);
	buf = NULL;
	m = open_memstream(&buf, &len);
	assert_non_null(m);
	sl_report_text(m, &rep);
	assert_int_equal(fclose(m), 0);
	assert_non_null(strstr(buf, "verdict CONFIRMED (expected NUANCED): "
				    "fail\n"));
	assert_non_null(strstr(buf, "not as declared: v_two holds, but is "
				    "declared not to hold\n"));
	assert_null(strstr(buf, "not as declared: v_one"));
	assert_non_null(strstr(buf, "== variant v_two: holds, NOT AS "
				    "DECLARED (declared not to hold) =="));
	assert_non_null(strstr(buf, "== variant v_one: holds, as declared =="));
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_derive),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_macro_declarations),
		cmocka_unit_test(test_as_declared),
		cmocka_unit_test(test_judge),
		cmocka_unit_test(test_registry_check),
		cmocka_unit_test(test_report_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
