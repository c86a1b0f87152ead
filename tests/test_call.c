/* test_call.c: the names sl_call() and sl_try() record calls under
 * (call.c).  The predictions look calls up by these names, so a wrong one
 * would make expect_errno() skip, never judge. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "call.h"

static void check(const char *args, int ret, const char *expr, const char *name)
{
	char e[256], n[64];

	assert_int_equal(sl_call_name(args, e, sizeof(e), n, sizeof(n)), ret);
	assert_string_equal(e, expr);
	assert_string_equal(n, name);
}

static void test_function_name(void **state)
{
	(void)state;
	check("self, accept(lfd, NULL, NULL)", 0, "accept(lfd, NULL, NULL)",
	      "accept");
	check("self, read (fd, buf, 1)", 0, "read (fd, buf, 1)", "read");
	check("self,close(fd)", 0, "close(fd)", "close");
	check("self, connect(fd, (struct sockaddr *)&sa, sizeof(sa))", 0,
	      "connect(fd, (struct sockaddr *)&sa, sizeof(sa))", "connect");
}

/* With the author's name first: the expression is still the last
 * argument, commas inside strings and parentheses do not count. */
static void test_named(void **state)
{
	(void)state;
	check("self, \"bind again\", bind(fd, (struct sockaddr *)&me, "
	      "sizeof(me))",
	      0, "bind(fd, (struct sockaddr *)&me, sizeof(me))", "bind");
	check("self, \"a, b\", write(fd, \"x,y\", 3)", 0,
	      "write(fd, \"x,y\", 3)", "write");
	check("self, name, write(fd, ',', 1)", 0, "write(fd, ',', 1)", "write");
}

static void test_sockopt_names_the_option(void **state)
{
	(void)state;
	check("self, setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l))", 0,
	      "setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l))",
	      "setsockopt(SO_LINGER)");
	check("self, getsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &mss, &sl)", 0,
	      "getsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &mss, &sl)",
	      "getsockopt(TCP_MAXSEG)");
	/* An option that is not a bare name: the function alone. */
	check("self, setsockopt(fd, SOL_SOCKET, opt[i], &on, sizeof(on))", 0,
	      "setsockopt(fd, SOL_SOCKET, opt[i], &on, sizeof(on))",
	      "setsockopt");
}

/* Not a call: no name, and the role must give one. */
static void test_not_a_call(void **state)
{
	(void)state;
	check("self, (long)(int32_t)(a - b)", -EINVAL, "(long)(int32_t)(a - b)",
	      "");
	check("self, fd", -EINVAL, "fd", "");
	check("self, 42", -EINVAL, "42", "");
	check("self, x + f(y)", -EINVAL, "x + f(y)", "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_function_name),
		cmocka_unit_test(test_named),
		cmocka_unit_test(test_sockopt_names_the_option),
		cmocka_unit_test(test_not_a_call),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
