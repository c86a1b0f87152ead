/* test_cli_json.c: the CLI's JSON reading (harness/json.c, on jansson)
 * accepts what the experiments print and refuses what a crash half-way
 * through a line leaves behind; what the library writes (lib/report.c),
 * the CLI reads back.  The harness is not part of the library, so its
 * source is compiled into this test directly. */
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
	"\"ok\":false,\"evidence\":{\"seen\":\"F.\"}}]}]}";

/* 0 when s is one JSON object, -EINVAL otherwise. */
static int parses(const char *s)
{
	json_t *v = cli_json_object(s, strlen(s));

	json_decref(v);
	return v ? 0 : -EINVAL;
}

static void test_valid_and_invalid(void **state)
{
	(void)state;
	assert_int_equal(parses(result), 0);
	assert_int_equal(parses("  {} \n"), 0);
	assert_int_equal(parses("{\"a\":[1,-0.5,2e+3,true,false,null,"
				"\"\\u00e9\"]}"),
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
	/* Not an object; a key given twice; a NUL that would cut a C
	 * string short: none is a result line to believe. */
	assert_int_equal(parses("[1]"), -EINVAL);
	assert_int_equal(parses("\"pass\""), -EINVAL);
	assert_int_equal(parses("{\"id\":\"a\",\"id\":\"b\"}"), -EINVAL);
	assert_int_equal(parses("{\"a\":\"x\\u0000y\"}"), -EINVAL);
}

static void test_depth(void **state)
{
	enum { DEEP = 100000 };
	char *deep = malloc(2 * DEEP + 8);

	(void)state;
	assert_non_null(deep);
	/* A hostile or broken line nested far too deep is refused, and
	 * does not exhaust the stack on the way. */
	strcpy(deep, "{\"a\":");
	memset(deep + 5, '[', DEEP);
	memset(deep + 5 + DEEP, ']', DEEP);
	strcpy(deep + 5 + 2 * DEEP, "}");
	assert_int_equal(parses(deep), -EINVAL);
	free(deep);
}

static void test_members(void **state)
{
	json_t *obj, *var, *p;
	double d;
	char *s;

	(void)state;
	obj = cli_json_object(result, strlen(result));
	assert_non_null(obj);
	s = cli_json_get_strdup(obj, "id");
	assert_string_equal(s, "close-unread-rst");
	free(s);
	/* Nested keys are not top-level; a member of the wrong type is as
	 * good as absent. */
	assert_null(cli_json_get_strdup(obj, "what"));
	assert_null(cli_json_get_strdup(obj, "duration_s"));
	assert_int_equal(cli_json_get_number(obj, "duration_s", &d), 0);
	assert_true(d == 1.25);
	assert_int_equal(cli_json_get_number(obj, "verdict", &d), -EINVAL);
	assert_int_equal(cli_json_get_number(obj, "nope", &d), -ENOENT);
	assert_int_equal(cli_json_get_bool(obj, "verdict"), -1);

	var = json_array_get(json_object_get(obj, "variants"), 0);
	assert_non_null(var);
	assert_int_equal(cli_json_get_bool(var, "holds"), 0);
	assert_int_equal(cli_json_get_bool(var, "as_declared"), -1);
	assert_true(json_is_null(json_object_get(var, "error")));
	assert_null(cli_json_get_strdup(var, "error"));
	p = json_array_get(json_object_get(var, "predictions"), 0);
	assert_int_equal(cli_json_get_bool(p, "ok"), 0);
	assert_true(json_is_object(json_object_get(p, "evidence")));
	/* Accessors on what is not there: absent, never a crash. */
	assert_null(cli_json_get_strdup(NULL, "id"));
	assert_int_equal(cli_json_get_bool(NULL, "ok"), -1);
	json_decref(obj);
}

static void test_string_arrays(void **state)
{
	static const char text[] = "{\"v\":[\"a_1\", \"b\\\"2\" ,\"\"],"
				   "\"e\":[ ],\"bad\":[\"a\",1],\"s\":\"a\"}";
	const char *want[] = { "a_1", "b\"2", "" };
	json_t *obj = cli_json_object(text, strlen(text));
	char **out;
	int n;

	(void)state;
	assert_non_null(obj);
	assert_int_equal(cli_json_get_strings(obj, "v", &out, &n), 0);
	assert_int_equal(n, 3);
	for (int i = 0; i < n; i++) {
		assert_string_equal(out[i], want[i]);
		free(out[i]);
	}
	free(out);
	assert_int_equal(cli_json_get_strings(obj, "e", &out, &n), 0);
	assert_int_equal(n, 0);
	free(out);
	assert_int_equal(cli_json_get_strings(obj, "bad", &out, &n), -EINVAL);
	for (int i = 0; i < n; i++)
		free(out[i]);
	free(out);
	assert_int_equal(cli_json_get_strings(obj, "s", &out, &n), -EINVAL);
	assert_int_equal(cli_json_get_strings(obj, "no", &out, &n), -EINVAL);
	json_decref(obj);
}

static void test_string_decoding(void **state)
{
	static const char text[] =
		"{\"s\":\"a\\n\\t\\\"\\\\\\/ \\u00e9 \\ud83d\\ude00\"}";
	json_t *obj = cli_json_object(text, strlen(text));
	char *s;

	(void)state;
	assert_non_null(obj);
	s = cli_json_get_strdup(obj, "s");
	assert_string_equal(s, "a\n\t\"\\/ \xc3\xa9 \xf0\x9f\x98\x80");
	free(s);
	json_decref(obj);
	/* A lone surrogate is not a character. */
	assert_int_equal(parses("{\"s\":\"\\udc00\"}"), -EINVAL);
}

static void test_write_string(void **state)
{
	char *out = NULL, line[64];
	size_t n = 0;
	json_t *obj;
	char *s;
	FILE *f = open_memstream(&out, &n);

	(void)state;
	assert_non_null(f);
	assert_int_equal(sl_json_line(f, sl_json_text("q\"b\\n\n\x01\xc3\xa9")),
			 0);
	fclose(f);
	assert_string_equal(out, "\"q\\\"b\\\\n\\n\\u0001\xc3\xa9\"\n");
	/* What we write, we read back. */
	snprintf(line, sizeof(line), "{\"s\":%s}", out);
	obj = cli_json_object(line, strlen(line));
	assert_non_null(obj);
	s = cli_json_get_strdup(obj, "s");
	assert_string_equal(s, "q\"b\\n\n\x01\xc3\xa9");
	free(s);
	json_decref(obj);
	free(out);
	/* A byte that is not UTF-8 (a payload, say) does not cost the whole
	 * line: it is written as '?'. */
	out = NULL;
	f = open_memstream(&out, &n);
	assert_non_null(f);
	assert_int_equal(sl_json_line(f, sl_json_text("a\xff"
						      "b")),
			 0);
	fclose(f);
	assert_string_equal(out, "\"a?b\"\n");
	free(out);
}

static void test_write_line(void **state)
{
	char *out = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&out, &n);

	(void)state;
	assert_non_null(f);
	/* Compact, in the order written, numbers at six significant
	 * digits, one line. */
	assert_int_equal(sl_json_line(f,
				      json_pack("{s:s,s:f,s:i,s:n,s:b}", "id",
						"x", "duration_s", 0.1234567,
						"n", 3, "e", "ok", 1)),
			 0);
	fclose(f);
	assert_string_equal(out, "{\"id\":\"x\",\"duration_s\":0.123457,"
				 "\"n\":3,\"e\":null,\"ok\":true}\n");
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_and_invalid),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_members),
		cmocka_unit_test(test_string_arrays),
		cmocka_unit_test(test_string_decoding),
		cmocka_unit_test(test_write_string),
		cmocka_unit_test(test_write_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
