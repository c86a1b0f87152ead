/* fault_spec.c: a fault as one line of words and back (fault_spec.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault_spec.h"
#include "socklab.h"

static void put(char *buf, size_t n, size_t *used, const char *key,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void put(char *buf, size_t n, size_t *used, const char *key,
		const char *fmt, ...)
{
	va_list ap;

	if (*used >= n)
		return;
	*used += snprintf(buf + *used, n - *used, "%s%s=", *used ? " " : "",
			  key);
	if (*used >= n)
		return;
	va_start(ap, fmt);
	*used += vsnprintf(buf + *used, n - *used, fmt, ap);
	va_end(ap);
}

int sl_fault_spec_format(const char *by, const char *kind, const char *host,
			 const struct sl_fault *f, char *buf, size_t n)
{
	size_t used = 0;

	buf[0] = '\0';
	put(buf, n, &used, "by", "%s", by);
	put(buf, n, &used, "kind", "%s", kind);
	if (host)
		put(buf, n, &used, "host", "%s", host);
	if (f) {
		if (f->from)
			put(buf, n, &used, "from", "%s", f->from);
		if (f->flags)
			put(buf, n, &used, "flags", "%s", f->flags);
		if (f->not_flags)
			put(buf, n, &used, "not_flags", "%s", f->not_flags);
		if (f->len)
			put(buf, n, &used, "len", "%ld", f->len - 1);
		if (f->count)
			put(buf, n, &used, "count", "%d", f->count);
		if (f->delay_ms)
			put(buf, n, &used, "delay_ms", "%d", f->delay_ms);
		if (f->jitter_ms)
			put(buf, n, &used, "jitter_ms", "%d", f->jitter_ms);
		if (f->loss != 0)
			put(buf, n, &used, "loss", "%.17g", f->loss);
		if (f->reorder_pct)
			put(buf, n, &used, "reorder_pct", "%d", f->reorder_pct);
	}
	return used < n ? 0 : -ENOSPC;
}

/* value as a number into *out; 0, or -EINVAL for anything else. */
static int number(const char *value, double *out)
{
	char *end;

	*out = strtod(value, &end);
	return end != value && !*end ? 0 : -EINVAL;
}

int sl_fault_spec_parse(const char *text, struct sl_fault_spec *s)
{
	char copy[sizeof(s->text)];
	char *save = NULL, *word;

	memset(s, 0, sizeof(*s));
	if (strlen(text) >= sizeof(copy))
		return -EINVAL;
	strcpy(copy, text);
	strcpy(s->text, text);
	for (word = strtok_r(copy, " ", &save); word;
	     word = strtok_r(NULL, " ", &save)) {
		char *value = strchr(word, '=');
		struct {
			const char *key;
			char *room;
			size_t size;
		} words[] = {
			{ "by", s->by, sizeof(s->by) },
			{ "kind", s->kind, sizeof(s->kind) },
			{ "host", s->host, sizeof(s->host) },
			{ "from", s->from, sizeof(s->from) },
			{ "flags", s->flags, sizeof(s->flags) },
			{ "not_flags", s->not_flags, sizeof(s->not_flags) },
		};
		double v;
		size_t i;

		if (!value)
			return -EINVAL;
		*value++ = '\0';
		for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
			if (!strcmp(word, words[i].key))
				break;
		if (i < sizeof(words) / sizeof(words[0])) {
			if (!*value || strlen(value) >= words[i].size)
				return -EINVAL;
			strcpy(words[i].room, value);
			continue;
		}
		if (number(value, &v) < 0)
			return -EINVAL;
		if (!strcmp(word, "len"))
			s->f.len = SL__LEN((long)v);
		else if (!strcmp(word, "count"))
			s->f.count = (int)v;
		else if (!strcmp(word, "delay_ms"))
			s->f.delay_ms = (int)v;
		else if (!strcmp(word, "jitter_ms"))
			s->f.jitter_ms = (int)v;
		else if (!strcmp(word, "loss"))
			s->f.loss = v;
		else if (!strcmp(word, "reorder_pct"))
			s->f.reorder_pct = (int)v;
		else
			return -EINVAL;
	}
	if (!s->by[0] || !s->kind[0])
		return -EINVAL;
	s->f.kind = s->kind;
	s->f.from = s->from[0] ? s->from : NULL;
	s->f.flags = s->flags[0] ? s->flags : NULL;
	s->f.not_flags = s->not_flags[0] ? s->not_flags : NULL;
	return 0;
}
