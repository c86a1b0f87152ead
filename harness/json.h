/* json.h: reading what experiments print, through jansson.
 *
 * The CLI reads two kinds of line from an experiment (lib/protocol.h): the
 * --describe object and the --run result object.  It needs a handful of
 * fields out of them, and it must never trust them: an experiment that
 * crashed half-way through printing leaves a truncated line, and that has to
 * be reported as an invalid result.  So a line is parsed whole and strictly
 * by jansson (one object, nothing after it, no repeated key, no NUL in a
 * string), and these accessors then check the type of every member they
 * read: a member of the wrong type is as good as absent.
 *
 * Harness names use the cli_ prefix, not sl_, because the harness links
 * libsocklab.a and must never collide with a name the library adds later.
 */
#ifndef CLI_JSON_H
#define CLI_JSON_H

#include <stddef.h>

#include <jansson.h>

/* s[0..n) as one JSON object (white space around it allowed), to be
 * json_decref()'d; NULL when it is anything else. */
json_t *cli_json_object(const char *s, size_t n);

/* The string member key of obj, in obj (valid while obj is), or NULL when
 * it is absent or not a string. */
const char *cli_json_str(const json_t *obj, const char *key);

/* The string member key of obj in memory of its own (free() it), or NULL
 * when it is absent, not a string, or memory ran out. */
char *cli_json_get_strdup(const json_t *obj, const char *key);

/* A boolean member of obj: 0 or 1, or -1 when it is absent or not a
 * boolean. */
int cli_json_get_bool(const json_t *obj, const char *key);

/* A number member of obj in *d: 0, -ENOENT when absent, -EINVAL when not a
 * number. */
int cli_json_get_number(const json_t *obj, const char *key, double *d);

/* An array of strings, member key of obj, as *n strings of their own in
 * *out (each and the array to be free()d, also on failure).  Returns 0,
 * -EINVAL when it is absent or holds anything but strings, or -ENOMEM. */
int cli_json_get_strings(const json_t *obj, const char *key, char ***out,
			 int *n);

#endif
