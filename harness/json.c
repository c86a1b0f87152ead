/* json.c: validation of and access to one JSON line (see json.h).
 *
 * A recursive-descent scanner that follows RFC 8259's grammar strictly (no
 * trailing commas, no comments, no bare control characters in strings) and
 * returns where each value ends.  Nesting is capped so that a hostile or
 * broken line cannot exhaust the stack.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

#define JSON_MAX_DEPTH 64

static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* p points at the opening quote; returns the byte after the closing one. */
static const char *scan_string(const char *p, const char *end)
{
	if (p >= end || *p != '"')
		return NULL;
	for (p++; p < end; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '"')
			return p + 1;
		if (c < 0x20)
			return NULL;
		if (c != '\\')
			continue;
		if (++p >= end)
			return NULL;
		if (*p == 'u') {
			if (end - p < 5)
				return NULL;
			for (int i = 1; i <= 4; i++)
				if (hexval(p[i]) < 0)
					return NULL;
			p += 4;
		} else if (!strchr("\"\\/bfnrt", *p)) {
			return NULL;
		}
	}
	return NULL;
}

static const char *scan_digits(const char *p, const char *end)
{
	const char *start = p;

	while (p < end && *p >= '0' && *p <= '9')
		p++;
	return p > start ? p : NULL;
}

static const char *scan_number(const char *p, const char *end)
{
	if (p < end && *p == '-')
		p++;
	if (p < end && *p == '0')
		p++;
	else if (!(p = scan_digits(p, end)))
		return NULL;
	if (p < end && *p == '.' && !(p = scan_digits(p + 1, end)))
		return NULL;
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (!(p = scan_digits(p, end)))
			return NULL;
	}
	return p;
}

static const char *scan_literal(const char *p, const char *end,
				const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(end - p) < n || memcmp(p, word, n))
		return NULL;
	return p + n;
}

static const char *scan_value(const char *p, const char *end, int depth);

static const char *scan_container(const char *p, const char *end, int depth)
{
	char close = *p == '{' ? '}' : ']';
	int object = *p == '{';

	if (depth >= JSON_MAX_DEPTH)
		return NULL;
	p = skip_ws(p + 1, end);
	if (p < end && *p == close)
		return p + 1;
	for (;;) {
		if (object) {
			if (!(p = scan_string(p, end)))
				return NULL;
			p = skip_ws(p, end);
			if (p >= end || *p != ':')
				return NULL;
			p = skip_ws(p + 1, end);
		}
		if (!(p = scan_value(p, end, depth + 1)))
			return NULL;
		p = skip_ws(p, end);
		if (p >= end)
			return NULL;
		if (*p == close)
			return p + 1;
		if (*p != ',')
			return NULL;
		p = skip_ws(p + 1, end);
	}
}

static const char *scan_value(const char *p, const char *end, int depth)
{
	if (p >= end)
		return NULL;
	switch (*p) {
	case '{':
	case '[':
		return scan_container(p, end, depth);
	case '"':
		return scan_string(p, end);
	case 't':
		return scan_literal(p, end, "true");
	case 'f':
		return scan_literal(p, end, "false");
	case 'n':
		return scan_literal(p, end, "null");
	default:
		return scan_number(p, end);
	}
}

static enum cli_json_type type_of(char c)
{
	switch (c) {
	case '{':
		return CLI_JSON_OBJECT;
	case '[':
		return CLI_JSON_ARRAY;
	case '"':
		return CLI_JSON_STRING;
	case 't':
	case 'f':
		return CLI_JSON_BOOL;
	case 'n':
		return CLI_JSON_NULL;
	default:
		return CLI_JSON_NUMBER;
	}
}

/* Fills v with the value starting at p; the text is known to be valid. */
static const char *take_value(const char *p, const char *end,
			      struct cli_json *v)
{
	const char *q = scan_value(p, end, 0);

	if (!q)
		return NULL;
	v->p = p;
	v->len = q - p;
	v->type = type_of(*p);
	return q;
}

int cli_json_parse(const char *s, size_t n, struct cli_json *v)
{
	const char *end = s + n;
	const char *p = skip_ws(s, end);

	p = take_value(p, end, v);
	if (!p || skip_ws(p, end) != end)
		return -EINVAL;
	return 0;
}

static void put_utf8(char **o, const char *oend, uint32_t cp, int *cut)
{
	char tmp[4];
	int n;

	if (cp < 0x80) {
		tmp[0] = cp;
		n = 1;
	} else if (cp < 0x800) {
		tmp[0] = 0xc0 | (cp >> 6);
		tmp[1] = 0x80 | (cp & 0x3f);
		n = 2;
	} else if (cp < 0x10000) {
		tmp[0] = 0xe0 | (cp >> 12);
		tmp[1] = 0x80 | ((cp >> 6) & 0x3f);
		tmp[2] = 0x80 | (cp & 0x3f);
		n = 3;
	} else {
		tmp[0] = 0xf0 | (cp >> 18);
		tmp[1] = 0x80 | ((cp >> 12) & 0x3f);
		tmp[2] = 0x80 | ((cp >> 6) & 0x3f);
		tmp[3] = 0x80 | (cp & 0x3f);
		n = 4;
	}
	/* A character that does not fit whole is left out whole, so that a
	 * truncated string is still valid UTF-8. */
	if (*cut || oend - *o < n) {
		*cut = 1;
		return;
	}
	memcpy(*o, tmp, n);
	*o += n;
}

static uint32_t hex4(const char *p)
{
	return hexval(p[0]) << 12 | hexval(p[1]) << 8 | hexval(p[2]) << 4 |
	       hexval(p[3]);
}

int cli_json_string(const struct cli_json *v, char *buf, size_t n)
{
	const char *p, *end;
	char *o = buf, *oend;
	int cut = 0;

	if (v->type != CLI_JSON_STRING || n == 0)
		return -EINVAL;
	oend = buf + n - 1;
	end = v->p + v->len - 1;	/* the closing quote */
	for (p = v->p + 1; p < end; p++) {
		uint32_t cp;

		if (*p != '\\') {
			if (cut || o >= oend) {
				cut = 1;
				continue;
			}
			*o++ = *p;
			continue;
		}
		p++;
		switch (*p) {
		case 'b':
			cp = '\b';
			break;
		case 'f':
			cp = '\f';
			break;
		case 'n':
			cp = '\n';
			break;
		case 'r':
			cp = '\r';
			break;
		case 't':
			cp = '\t';
			break;
		case 'u':
			cp = hex4(p + 1);
			p += 4;
			if (cp >= 0xd800 && cp <= 0xdbff && end - p > 6 &&
			    p[1] == '\\' && p[2] == 'u') {
				uint32_t lo = hex4(p + 3);

				if (lo >= 0xdc00 && lo <= 0xdfff) {
					cp = 0x10000 + ((cp - 0xd800) << 10) +
					     (lo - 0xdc00);
					p += 6;
				}
			}
			/* A lone surrogate has no UTF-8 form. */
			if (cp >= 0xd800 && cp <= 0xdfff)
				cp = 0xfffd;
			if (cp == 0)
				return -EINVAL;
			break;
		default:	/* \" \\ \/ */
			cp = (unsigned char)*p;
			break;
		}
		put_utf8(&o, oend, cp, &cut);
	}
	*o = '\0';
	return cut ? -ENOSPC : (int)(o - buf);
}

char *cli_json_strdup(const struct cli_json *v)
{
	char *s;

	if (v->type != CLI_JSON_STRING)
		return NULL;
	/* Decoding never makes a string longer than its escaped form. */
	s = malloc(v->len);
	if (!s)
		return NULL;
	if (cli_json_string(v, s, v->len) < 0) {
		free(s);
		return NULL;
	}
	return s;
}

/* Compares the (escaped) key at p with the plain string key. */
static int key_equals(const struct cli_json *k, const char *key)
{
	char buf[128];
	int n = cli_json_string(k, buf, sizeof(buf));

	return n >= 0 && strcmp(buf, key) == 0;
}

int cli_json_member(const struct cli_json *obj, const char *key,
		    struct cli_json *out)
{
	const char *end, *p;

	if (obj->type != CLI_JSON_OBJECT)
		return -EINVAL;
	end = obj->p + obj->len;
	p = skip_ws(obj->p + 1, end);
	while (p < end && *p == '"') {
		struct cli_json k, val;

		p = take_value(p, end, &k);
		if (!p)
			return -EINVAL;
		p = skip_ws(p, end);
		if (p >= end || *p != ':')
			return -EINVAL;
		p = take_value(skip_ws(p + 1, end), end, &val);
		if (!p)
			return -EINVAL;
		if (key_equals(&k, key)) {
			*out = val;
			return 0;
		}
		p = skip_ws(p, end);
		if (p < end && *p == ',')
			p = skip_ws(p + 1, end);
	}
	return -ENOENT;
}

int cli_json_next(const struct cli_json *arr, size_t *pos,
		  struct cli_json *elem)
{
	const char *end, *p;

	if (arr->type != CLI_JSON_ARRAY)
		return -EINVAL;
	end = arr->p + arr->len;
	p = skip_ws(arr->p + (*pos ? *pos : 1), end);
	if (p < end && *p == ',')
		p = skip_ws(p + 1, end);
	if (p >= end || *p == ']')
		return 0;
	p = take_value(p, end, elem);
	if (!p)
		return -EINVAL;
	*pos = p - arr->p;
	return 1;
}

int cli_json_number(const struct cli_json *v, double *d)
{
	char buf[64];

	if (v->type != CLI_JSON_NUMBER || v->len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, v->p, v->len);
	buf[v->len] = '\0';
	*d = strtod(buf, NULL);
	return 0;
}

int cli_json_bool(const struct cli_json *v, int *b)
{
	if (v->type != CLI_JSON_BOOL)
		return -EINVAL;
	*b = *v->p == 't';
	return 0;
}

char *cli_json_get_strdup(const struct cli_json *obj, const char *key)
{
	struct cli_json v;

	if (cli_json_member(obj, key, &v))
		return NULL;
	return cli_json_strdup(&v);
}

int cli_json_get_number(const struct cli_json *obj, const char *key,
			double *d)
{
	struct cli_json v;
	int ret = cli_json_member(obj, key, &v);

	return ret ? ret : cli_json_number(&v, d);
}

int cli_json_get_bool(const struct cli_json *obj, const char *key)
{
	struct cli_json v;
	int b;

	if (cli_json_member(obj, key, &v) || cli_json_bool(&v, &b))
		return -1;
	return b;
}
