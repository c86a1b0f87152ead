/* json.c: the CLI's reading of experiments' JSON, on jansson (json.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

json_t *cli_json_object(const char *s, size_t n)
{
	json_t *v = json_loadb(s, n, JSON_REJECT_DUPLICATES, NULL);

	if (v && !json_is_object(v)) {
		json_decref(v);
		v = NULL;
	}
	return v;
}

const char *cli_json_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

char *cli_json_get_strdup(const json_t *obj, const char *key)
{
	const char *s = cli_json_str(obj, key);

	return s ? strdup(s) : NULL;
}

int cli_json_get_bool(const json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return json_is_boolean(v) ? json_is_true(v) : -1;
}

int cli_json_get_number(const json_t *obj, const char *key, double *d)
{
	json_t *v = json_object_get(obj, key);

	if (!v)
		return -ENOENT;
	if (!json_is_number(v))
		return -EINVAL;
	*d = json_number_value(v);
	return 0;
}

int cli_json_get_strings(const json_t *obj, const char *key, char ***out,
			 int *n)
{
	json_t *arr = json_object_get(obj, key), *el;
	size_t i;

	*out = NULL;
	*n = 0;
	if (!json_is_array(arr))
		return -EINVAL;
	*out = calloc(json_array_size(arr) + 1, sizeof(char *));
	if (!*out)
		return -ENOMEM;
	json_array_foreach(arr, i, el)
	{
		if (!json_is_string(el))
			return -EINVAL;
		(*out)[*n] = strdup(json_string_value(el));
		if (!(*out)[*n])
			return -ENOMEM;
		(*n)++;
	}
	return 0;
}
