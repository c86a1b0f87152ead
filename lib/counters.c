/* counters.c: snmp and netstat counters per host, and their deltas
 * (counters.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "counters.h"
#include "err.h"
#include "timeline.h"
#include "topology.h"

/* The two files nstat reads, relative to a namespace's /proc/.../net. */
static const char *const counter_files[] = { "snmp", "netstat" };

void sl_counters_init(struct sl_counters *c)
{
	memset(c, 0, sizeof(*c));
}

void sl_counters_free(struct sl_counters *c)
{
	free(c->c);
	sl_counters_init(c);
}

static int push(struct sl_counter **v, int *n, int *cap, int host,
		const char *prefix, const char *name, int64_t value)
{
	struct sl_counter *x;

	if (*n == *cap) {
		int ncap = *cap ? *cap * 2 : 512;

		x = realloc(*v, ncap * sizeof(*x));
		if (!x)
			return -ENOMEM;
		*v = x;
		*cap = ncap;
	}
	x = &(*v)[(*n)++];
	x->host = host;
	snprintf(x->name, sizeof(x->name), "%s%s", prefix, name);
	x->value = value;
	return 0;
}

/* One pair of lines: "Tcp: ActiveOpens PassiveOpens" and "Tcp: 1 0". */
static int parse_pair(struct sl_counters *c, int host, char *names,
		      char *values)
{
	char *nc = strchr(names, ':'), *vc = strchr(values, ':');
	char *ns = NULL, *vs = NULL, *name, *value;
	char prefix[32];

	if (!nc || !vc || nc - names != vc - values ||
	    strncmp(names, values, nc - names) ||
	    (size_t)(nc - names) >= sizeof(prefix))
		return -EINVAL;
	memcpy(prefix, names, nc - names);
	prefix[nc - names] = '\0';
	name = strtok_r(nc + 1, " \t\n", &ns);
	value = strtok_r(vc + 1, " \t\n", &vs);
	while (name && value) {
		char *end;
		long long v = strtoll(value, &end, 10);
		int ret;

		if (*end)
			return -EINVAL;
		ret = push(&c->c, &c->n, &c->cap, host, prefix, name, v);
		if (ret < 0)
			return ret;
		name = strtok_r(NULL, " \t\n", &ns);
		value = strtok_r(NULL, " \t\n", &vs);
	}
	return name || value ? -EINVAL : 0;
}

int sl_counters_parse(struct sl_counters *c, int host, FILE *f)
{
	char *names = NULL, *values = NULL;
	size_t nn = 0, nv = 0;
	int ret = 0;

	while (ret == 0 && getline(&names, &nn, f) > 0) {
		if (names[0] == '\n')
			continue;
		if (getline(&values, &nv, f) <= 0)
			ret = -EINVAL;
		else
			ret = parse_pair(c, host, names, values);
	}
	free(names);
	free(values);
	return ret;
}

/* Reads both files of the namespace the calling thread is in. */
static int read_here(struct sl_counters *c, int host, const char *hname,
		     struct sl_err *e)
{
	for (size_t i = 0; i < sizeof(counter_files) / sizeof(counter_files[0]);
	     i++) {
		char path[64];
		FILE *f;
		int ret;

		snprintf(path, sizeof(path), "/proc/thread-self/net/%s",
			 counter_files[i]);
		f = fopen(path, "re");
		if (!f)
			return sl_errf(e, errno, "read %s in %s", path, hname);
		ret = sl_counters_parse(c, host, f);
		fclose(f);
		if (ret < 0)
			return sl_errf(e, -ret, "parse %s in %s", path, hname);
	}
	return 0;
}

int sl_counters_read(struct sl_counters *c, const struct sl_topology *t,
		     struct sl_err *e)
{
	for (int h = 0; h < SL_NHOSTS; h++) {
		int ret = sl_topology_enter(t, h, e);

		if (ret < 0)
			return ret;
		ret = read_here(c, h, t->host[h].name, e);
		/* Back home on every path: the caller's thread must never be
		 * left in a host's namespace. */
		if (sl_topology_leave(t, ret < 0 ? NULL : e) < 0 && ret == 0)
			ret = -EIO;
		if (ret < 0)
			return ret;
	}
	return 0;
}

static const struct sl_counter *find(const struct sl_counter *v, int n,
				     int hint, int host, const char *name)
{
	/* Both readings list the counters in the kernel's order, so the
	 * same index nearly always holds the same counter. */
	if (hint < n && v[hint].host == host && !strcmp(v[hint].name, name))
		return &v[hint];
	for (int i = 0; i < n; i++)
		if (v[i].host == host && !strcmp(v[i].name, name))
			return &v[i];
	return NULL;
}

int sl_counters_delta(const struct sl_counters *before,
		      const struct sl_counters *after, struct sl_timeline *tl)
{
	tl->nctr = 0;
	for (int i = 0; i < after->n; i++) {
		const struct sl_counter *a = &after->c[i];
		const struct sl_counter *b =
			find(before->c, before->n, i, a->host, a->name);

		/* A counter that appeared during the run (IcmpMsg lines only
		 * list the message types seen so far) started from 0. */
		if (push(&tl->ctr, &tl->nctr, &tl->ctr_cap, a->host, "",
			 a->name, a->value - (b ? b->value : 0)) < 0)
			return -ENOMEM;
	}
	tl->counters = 1;
	tl->counters_why[0] = '\0';
	return 0;
}

int64_t sl_counters_get(const struct sl_timeline *tl, int host,
			const char *name, int *found)
{
	const struct sl_counter *c = find(tl->ctr, tl->nctr, 0, host, name);

	*found = c != NULL;
	if (c)
		return c->value;
	/* A recording keeps only the counters that moved.  nstat's names
	 * start with the line they come from; anything else cannot be a
	 * counter, and a typo must not pass for "did not move". */
	if (tl->counters == 2) {
		static const char *const prefixes[] = { "Ip",  "Icmp",	"Tcp",
							"Udp", "MPTcp", NULL };

		for (int i = 0; prefixes[i]; i++)
			if (!strncmp(name, prefixes[i], strlen(prefixes[i])))
				*found = 1;
	}
	return 0;
}

void sl_counters_save(FILE *f, const struct sl_timeline *tl)
{
	fprintf(f, "counters\t%d\t%s\n", tl->counters,
		tl->counters	    ? "-" :
		tl->counters_why[0] ? tl->counters_why :
				      "not read");
	for (int i = 0; i < tl->nctr; i++)
		if (tl->ctr[i].value)
			fprintf(f, "N\t%d\t%s\t%lld\n", tl->ctr[i].host,
				tl->ctr[i].name, (long long)tl->ctr[i].value);
}

int sl_counters_load_header(struct sl_timeline *tl, char **field, int nfield)
{
	if (nfield != 3)
		return -EINVAL;
	tl->counters = atoi(field[1]) ? 2 : 0;
	snprintf(tl->counters_why, sizeof(tl->counters_why), "%s",
		 tl->counters ? "" : field[2]);
	return 0;
}

int sl_counters_load(struct sl_timeline *tl, char **field, int nfield)
{
	char *end;
	long long v;

	if (nfield != 4)
		return -EINVAL;
	v = strtoll(field[3], &end, 10);
	if (*end)
		return -EINVAL;
	return push(&tl->ctr, &tl->nctr, &tl->ctr_cap, atoi(field[1]), "",
		    field[2], v);
}
