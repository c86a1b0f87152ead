/* test_cli_json.c: the CLI's JSON reader (harness/json.c) accepts what the
 * experiments print and refuses what a crash half-way through a line
 * leaves behind.  The harness is not part of the library, so its source is
 * compiled into this test directly. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../harness/json.c"
#include "report.h"

static const char result[] =
	"{\"id\":\"close-unread-rst\",\"verdict\":\"CONFIRMED\","
	"\"duration_s\":1.25e0,\"variants\":[{\"name\":\"read_0\",\"holds\":"
	"false,\"error\":null,\"predictions\":[{\"what\":\"R. sent\","
	"\"ok\":false,\"evidence\":{\"seen\":\"F.\"}}]}],\"id\":\"second\"}";

static int parses(const char *s)
{
	struct cli_json v;

	return cli_json_parse(s, strlen(s), &v);
}

static void test_valid_and_invalid(void **state)
{
	(void)state;
	assert_int_equal(parses(result), 0);
	assert_int_equal(parses("  {} \n"), 0);
	assert_int_equal(parses("[1,-0.5,2e+3,true,false,null,\"\\u00e9\"]"),
			 0);
	/* What a crash or a stray print leaves. */
	assert_int_equal(parses("{\"id\":\"x\",\"status\":\"pass\""), -EINVAL);
	assert_int_equal(parses("{\"id\":\"x\"} trailing"), -EINVAL);
	assert_int_equal(parses("{\"id\":\"x\",}"), -EINVAL);
	assert_int_equal(parses("{\"a\":01}"), -EINVAL);
	assert_int_equal(parses("{\"a\":1.}"), -EINVAL);
	assert_int_equal(parses("{\"a\":\"tab\there\"}"), -EINVAL);
	assert_int_equal(parses("{\"a\":\"\\x\"}"), -EINVAL);
	assert_int_equal(parses("{\"a\":\"\\u12\"}"), -EINVAL);
	assert_int_equal(parses("{\"a\":tru}"), -EINVAL);
	assert_int_equal(parses("{a:1}"), -EINVAL);
	assert_int_equal(parses(""), -EINVAL);
}

static void test_depth_limit(void **state)
{
	char deep[2 * JSON_MAX_DEPTH + 8];
	int n = JSON_MAX_DEPTH + 2;

	(void)state;
	memset(deep, '[', n);
	memset(deep + n, ']', n);
	deep[2 * n] = '\0';
	assert_int_equal(parses(deep), -EINVAL);
	n = JSON_MAX_DEPTH - 1;
	memset(deep, '[', n);
	memset(deep + n, ']', n);
	deep[2 * n] = '\0';
	assert_int_equal(parses(deep), 0);
}

static void test_members(void **state)
{
	struct cli_json obj, v, vars, var, preds, p, ev;
	size_t pos = 0;
	double d;
	int b;
	char *s;

	(void)state;
	assert_int_equal(cli_json_parse(result, strlen(result), &obj), 0);
	/* The first of a repeated key; nested keys are not top-level. */
	s = cli_json_get_strdup(&obj, "id");
	assert_string_equal(s, "close-unread-rst");
	free(s);
	assert_int_equal(cli_json_member(&obj, "what", &v), -ENOENT);
	assert_int_equal(cli_json_get_number(&obj, "duration_s", &d), 0);
	assert_true(d == 1.25);
	assert_int_equal(cli_json_get_number(&obj, "verdict", &d), -EINVAL);
	assert_int_equal(cli_json_get_number(&obj, "nope", &d), -ENOENT);

	assert_int_equal(cli_json_member(&obj, "variants", &vars), 0);
	assert_int_equal(cli_json_next(&vars, &pos, &var), 1);
	assert_int_equal(cli_json_member(&var, "holds", &v), 0);
	assert_int_equal(cli_json_bool(&v, &b), 0);
	assert_int_equal(b, 0);
	assert_int_equal(cli_json_member(&var, "error", &v), 0);
	assert_int_equal(v.type, CLI_JSON_NULL);
	assert_int_equal(cli_json_member(&var, "predictions", &preds), 0);
	pos = 0;
	assert_int_equal(cli_json_next(&preds, &pos, &p), 1);
	assert_int_equal(cli_json_member(&p, "evidence", &ev), 0);
	assert_int_equal(ev.type, CLI_JSON_OBJECT);
	assert_int_equal(ev.len, strlen("{\"seen\":\"F.\"}"));
	assert_int_equal(cli_json_next(&preds, &pos, &p), 0);
	/* Not an array, not an object. */
	assert_int_equal(cli_json_next(&obj, &pos, &p), -EINVAL);
	assert_int_equal(cli_json_member(&vars, "id", &v), -EINVAL);
}

static void test_string_arrays(void **state)
{
	static const char text[] = "[\"a_1\", \"b\\\"2\" ,\"\"]";
	const char *want[] = { "a_1", "b\"2", "" };
	struct cli_json arr, el;
	size_t pos = 0;
	int n = 0;

	(void)state;
	assert_int_equal(cli_json_parse(text, strlen(text), &arr), 0);
	while (cli_json_next(&arr, &pos, &el) == 1) {
		char *s = cli_json_strdup(&el);

		assert_non_null(s);
		assert_string_equal(s, want[n]);
		free(s);
		n++;
	}
	assert_int_equal(n, 3);
	assert_int_equal(cli_json_parse("[ ]", 3, &arr), 0);
	pos = 0;
	assert_int_equal(cli_json_next(&arr, &pos, &el), 0);
}

static void test_string_decoding(void **state)
{
	static const char text[] =
		"\"a\\n\\t\\\"\\\\\\/ \\u00e9 \\ud83d\\ude00 \\udc00\"";
	struct cli_json v;
	char buf[64], small[5];

	(void)state;
	assert_int_equal(cli_json_parse(text, strlen(text), &v), 0);
	assert_int_equal(cli_json_string(&v, buf, sizeof(buf)),
			 (int)strlen("a\n\t\"\\/ \xc3\xa9 \xf0\x9f\x98\x80 "
				     "\xef\xbf\xbd"));
	assert_string_equal(buf, "a\n\t\"\\/ \xc3\xa9 \xf0\x9f\x98\x80 "
			    "\xef\xbf\xbd");
	/* Cut short at a character boundary, and said so. */
	assert_int_equal(cli_json_parse("\"ab\\u00e9cd\"", 12, &v), 0);
	assert_int_equal(cli_json_string(&v, small, sizeof(small)), -ENOSPC);
	assert_string_equal(small, "ab\xc3\xa9");
	assert_int_equal(cli_json_string(&v, small, 4), -ENOSPC);
	assert_string_equal(small, "ab");
	/* A NUL would cut the C string silently: refused. */
	assert_int_equal(cli_json_parse("\"a\\u0000b\"", 10, &v), 0);
	assert_int_equal(cli_json_string(&v, buf, sizeof(buf)), -EINVAL);
	assert_null(cli_json_strdup(&v));
}

static void test_write_string(void **state)
{
	char *out = NULL, dec[64];
	size_t n = 0;
	struct cli_json v;
	FILE *f = open_memstream(&out, &n);

	(void)state;
	assert_non_null(f);
	sl_json_string(f, "q\"b\\n\n\x01\xc3\xa9");
	fclose(f);
	assert_string_equal(out, "\"q\\\"b\\\\n\\n\\u0001\xc3\xa9\"");
	/* What we write, we read back. */
	assert_int_equal(cli_json_parse(out, n, &v), 0);
	assert_int_equal(cli_json_string(&v, dec, sizeof(dec)), 9);
	assert_string_equal(dec, "q\"b\\n\n\x01\xc3\xa9");
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_and_invalid),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_members),
		cmocka_unit_test(test_string_arrays),
		cmocka_unit_test(test_string_decoding),
		cmocka_unit_test(test_write_string),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
