/* json.h: just enough JSON for the CLI to read what experiments print.
 *
 * The CLI reads two kinds of line from an experiment (lib/protocol.h): the
 * --describe object and the --run result object.  It needs a handful of
 * fields out of them (strings, numbers, booleans, arrays of strings, and the
 * predictions nested in the result's variants), and it must never trust
 * them: an experiment that crashed half-way through printing leaves a
 * truncated line, and that has to be reported as an invalid result, not read
 * past its end.  So a line is validated once, completely, by
 * cli_json_parse(); every accessor after that walks text known to be well
 * formed, and only ever inside the value it was given.
 *
 * Values are views into the caller's text (no copies, no tree): a parsed
 * line costs nothing but the line.  Harness names use the cli_ prefix, not
 * sl_, because the harness links libsocklab.a and must never collide with a
 * name the library adds later.
 */
#ifndef CLI_JSON_H
#define CLI_JSON_H

#include <stddef.h>
#include <stdio.h>

enum cli_json_type {
	CLI_JSON_NULL,
	CLI_JSON_BOOL,
	CLI_JSON_NUMBER,
	CLI_JSON_STRING,
	CLI_JSON_ARRAY,
	CLI_JSON_OBJECT,
};

struct cli_json {
	const char *p;		/* first byte of the value */
	size_t len;		/* its length in bytes */
	enum cli_json_type type;
};

/* Validates s[0..n) as exactly one JSON value (white space around it is
 * allowed) and describes it in v.  Returns 0 or -EINVAL. */
int cli_json_parse(const char *s, size_t n, struct cli_json *v);

/* The member called key of object obj (the first one, if repeated).
 * Returns 0, -ENOENT when absent, -EINVAL when obj is not an object. */
int cli_json_member(const struct cli_json *obj, const char *key,
		    struct cli_json *out);

/* Walks the elements of an array: start with *pos = 0; returns 1 with the
 * next element in elem, 0 after the last one, -EINVAL if arr is not an
 * array. */
int cli_json_next(const struct cli_json *arr, size_t *pos,
		  struct cli_json *elem);

/* Decodes a string value (escapes resolved, \u to UTF-8) into buf.
 * Returns its length, -EINVAL when v is not a string or holds \u0000, or
 * -ENOSPC when it was cut short (buf still holds a terminated prefix). */
int cli_json_string(const struct cli_json *v, char *buf, size_t n);

/* The decoded string in memory of its own (free() it), or NULL when v is
 * not a string or memory ran out. */
char *cli_json_strdup(const struct cli_json *v);

/* A number or a boolean.  Return 0 or -EINVAL on a type mismatch. */
int cli_json_number(const struct cli_json *v, double *d);
int cli_json_bool(const struct cli_json *v, int *b);

/* Shortcuts for a member of obj: 0, -ENOENT or -EINVAL as above. */
char *cli_json_get_strdup(const struct cli_json *obj, const char *key);

/* A boolean member of obj: 0 or 1, or -1 when it is absent or not a
 * boolean. */
int cli_json_get_bool(const struct cli_json *obj, const char *key);
int cli_json_get_number(const struct cli_json *obj, const char *key,
			double *d);

#endif
