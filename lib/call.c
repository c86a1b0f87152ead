/* call.c: what sl_call() and sl_try() record (socklab.h).
 *
 * The name a call is recorded under is what the predictions look for
 * (expect_errno(p, "client", "read", ECONNRESET)), so it is taken from the
 * code itself: the function the expression calls, as the author wrote it.
 * The macros hand over the text of all their arguments, "self, read(fd,
 * buf, 1)", stringified before any macro in it was expanded (NULL stays
 * NULL); the expression is the last argument at the top level.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "call.h"
#include "socklab.h"

/* The text of the last top-level argument in args, trimmed, into buf:
 * commas inside parentheses, brackets, braces and string or character
 * literals do not count. */
static void last_arg(const char *args, char *buf, size_t n)
{
	const char *start = args;
	int depth = 0;
	char quote = 0;
	size_t len;

	for (const char *c = args; *c; c++) {
		if (quote) {
			if (*c == '\\' && c[1])
				c++;
			else if (*c == quote)
				quote = 0;
		} else if (*c == '"' || *c == '\'') {
			quote = *c;
		} else if (strchr("([{", *c)) {
			depth++;
		} else if (strchr(")]}", *c)) {
			depth--;
		} else if (*c == ',' && depth == 0) {
			start = c + 1;
		}
	}
	while (isspace((unsigned char)*start))
		start++;
	len = strlen(start);
	while (len && isspace((unsigned char)start[len - 1]))
		len--;
	snprintf(buf, n, "%.*s", (int)len, start);
}

/* The length of the identifier at s (0: none). */
static size_t ident(const char *s)
{
	size_t len = 0;

	if (isdigit((unsigned char)*s))
		return 0;
	while (isalnum((unsigned char)s[len]) || s[len] == '_')
		len++;
	return len;
}

/* The third argument of a call, when it is a bare name: the option of
 * setsockopt(fd, SOL_SOCKET, SO_LINGER, ...).  0: none. */
static size_t third_arg(const char *open, const char **arg)
{
	const char *c = open + 1;
	size_t len;

	for (int commas = 0; commas < 2; c++) {
		if (!*c || *c == '(' || *c == ')')
			return 0;
		commas += *c == ',';
	}
	while (isspace((unsigned char)*c))
		c++;
	*arg = c;
	len = ident(c);
	for (c += len; isspace((unsigned char)*c); c++)
		;
	return *c == ',' ? len : 0;
}

/* The name a call is recorded under: the function an expression calls,
 * "accept" for "accept(lfd, NULL, NULL)", and for setsockopt() and
 * getsockopt() with their option, "setsockopt(SO_LINGER)", so that the
 * several options a role sets stay apart on the timeline.  Returns -1 when
 * the expression does not start with a call. */
static int callee(const char *expr, char *buf, size_t n)
{
	size_t len = ident(expr), olen;
	const char *c = expr + len, *opt;

	if (len == 0)
		return -1;
	while (isspace((unsigned char)*c))
		c++;
	if (*c != '(')
		return -1;
	snprintf(buf, n, "%.*s", (int)len, expr);
	if ((!strcmp(buf, "setsockopt") || !strcmp(buf, "getsockopt")) &&
	    (olen = third_arg(c, &opt)) > 0)
		snprintf(buf, n, "%.*s(%.*s)", (int)len, expr, (int)olen, opt);
	return 0;
}

int sl_call_name(const char *args, char *expr, size_t en, char *name, size_t nn)
{
	last_arg(args, expr, en);
	if (callee(expr, name, nn) < 0) {
		name[0] = '\0';
		return -EINVAL;
	}
	return 0;
}

void sl__call(struct sl_role *self, const char *name, const char *text,
	      int must, int64_t t0, long ret, int err, const char *file,
	      int line)
{
	char expr[256], fn[64], why[320];
	const char *macro = must ? "sl_call" : "sl_try";

	if (sl_call_name(text, expr, sizeof(expr), fn, sizeof(fn)) < 0 &&
	    !name) {
		snprintf(why, sizeof(why),
			 "%s(self, %s): not a call; give it "
			 "a name: %s(self, \"name\", %s)",
			 macro, expr, macro, expr);
		sl__role_fail(self, why, 0, file, line);
	}
	sl__record(self, name ? name : fn, t0, ret, err);
	if (must && ret < 0)
		sl__role_fail(self, expr, err, file, line);
}
