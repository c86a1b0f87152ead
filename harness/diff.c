/* diff.c: `socklab diff`, what changed between two runs.
 *
 * "Does this still hold on the kernel we ship?" is answered by running the
 * catalogue on both and comparing: per claim its verdict, per variant
 * whether it held and behaved as declared, per prediction whether it was
 * observed, and the measurements that moved by more than a tolerance.
 * Everything comes from the runs' verdict.json files, which name the
 * kernel each was found on, so two folders copied from two machines
 * compare as well as two runs of one.
 *
 * Like diff(1), the exit status says whether anything differed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "help.h"
#include "json.h"
#include "report.h"

/* RUN/<id>/verdict.json, or NULL. */
static json_t *load(const char *run, const char *id)
{
	char path[4096];
	json_error_t err;

	snprintf(path, sizeof(path), "%s/%s/verdict.json", run, id);
	return json_load_file(path, JSON_REJECT_DUPLICATES, &err);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The experiments of a run: its folders that hold a verdict.json. */
static int ids_of(const char *run, char ***ids, int *n)
{
	DIR *d = opendir(run);
	struct dirent *x;

	if (!d)
		return -errno;
	while ((x = readdir(d))) {
		char path[4096];
		char **grown;

		if (x->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/verdict.json", run,
			 x->d_name);
		if (access(path, R_OK) != 0)
			continue;
		grown = realloc(*ids, (*n + 1) * sizeof(**ids));
		if (!grown || !(grown[*n] = strdup(x->d_name))) {
			free(grown);
			closedir(d);
			return -ENOMEM;
		}
		*ids = grown;
		(*n)++;
	}
	closedir(d);
	return 0;
}

static void free_ids(char **ids, int n)
{
	for (int i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
}

static int has(char **ids, int n, const char *id)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(ids[i], id))
			return 1;
	return 0;
}

/* The differences of one experiment, as lines of text in a JSON array
 * (the text form prints them, the JSON form carries them). */
struct changes {
	json_t *lines;
};

static void change(struct changes *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void change(struct changes *c, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	json_array_append_new(c->lines, json_string(buf));
}

static const json_t *variant_named(const json_t *v, const char *name)
{
	const json_t *vars = json_object_get(v, "variants");
	size_t i;
	json_t *x;

	json_array_foreach(vars, i, x)
	{
		const char *n = cli_json_str(x, "name");

		if (n && !strcmp(n, name))
			return x;
	}
	return NULL;
}

static const char *str(const json_t *o, const char *key)
{
	const char *s = cli_json_str(o, key);

	return s ? s : "?";
}

/* A prediction's outcome in words: a skipped one says why (an older
 * kernel's tracepoint that leaves the evidence out, say), since "not
 * observed" would read as the kernel doing otherwise. */
static void outcome(const json_t *p, char *buf, size_t n)
{
	const char *why = cli_json_str(p, "skipped");

	if (why)
		snprintf(buf, n, "skipped (%.150s)", why);
	else
		snprintf(buf, n, "%s",
			 cli_json_get_bool(p, "ok") == 1 ? "observed" :
							   "not observed");
}

static void compare_predictions(struct changes *c, const char *name,
				const json_t *a, const json_t *b)
{
	const json_t *pa = json_object_get(a, "predictions");
	const json_t *pb = json_object_get(b, "predictions");
	size_t i;
	json_t *x;

	/* Predictions are matched by what they say: an experiment that
	 * changed its predictions in between still compares the rest. */
	json_array_foreach(pa, i, x)
	{
		const char *what = cli_json_str(x, "what");
		size_t k;
		json_t *y;

		json_array_foreach(pb, k, y)
		{
			char oa[200], ob[200];

			if (!what || !cli_json_str(y, "what") ||
			    strcmp(what, cli_json_str(y, "what")))
				continue;
			outcome(x, oa, sizeof(oa));
			outcome(y, ob, sizeof(ob));
			if (strcmp(oa, ob))
				change(c, "%s: %s: %s -> %s", name, what, oa,
				       ob);
			break;
		}
	}
}

/* Why run v left variant name out ("not_run": a kernel without what the
 * variant is about), or NULL. */
static const char *not_run_why(const json_t *v, const char *name)
{
	size_t i;
	json_t *x;

	json_array_foreach(json_object_get(v, "not_run"), i, x)
	{
		const char *n = cli_json_str(x, "name");

		if (n && !strcmp(n, name))
			return cli_json_str(x, "why");
	}
	return NULL;
}

static void compare_variants(struct changes *c, const json_t *a,
			     const json_t *b)
{
	const json_t *vars = json_object_get(a, "variants");
	size_t i;
	json_t *x;

	json_array_foreach(vars, i, x)
	{
		const char *name = cli_json_str(x, "name");
		const json_t *y = name ? variant_named(b, name) : NULL;
		const char *why = name && !y ? not_run_why(b, name) : NULL;
		int ha, hb, da, db;

		if (!name)
			continue;
		if (why) {
			change(c, "%s: not run in the second run: %s", name,
			       why);
			continue;
		}
		if (!y) {
			change(c, "%s: only in the first run", name);
			continue;
		}
		ha = cli_json_get_bool(x, "holds");
		hb = cli_json_get_bool(y, "holds");
		da = cli_json_get_bool(x, "as_declared");
		db = cli_json_get_bool(y, "as_declared");
		if (ha != hb)
			change(c, "%s: %s -> %s", name,
			       ha == 1 ? "holds" : "does not hold",
			       hb == 1 ? "holds" : "does not hold");
		if (da != db)
			change(c, "%s: %s -> %s", name,
			       da == 1 ? "as declared" : "NOT as declared",
			       db == 1 ? "as declared" : "NOT as declared");
		if (!cli_json_str(x, "error") != !cli_json_str(y, "error"))
			change(c, "%s: error %s -> %s", name,
			       cli_json_str(x, "error") ?: "none",
			       cli_json_str(y, "error") ?: "none");
		compare_predictions(c, name, x, y);
	}
	vars = json_object_get(b, "variants");
	json_array_foreach(vars, i, x)
	{
		const char *name = cli_json_str(x, "name");
		const char *why;

		if (!name || variant_named(a, name))
			continue;
		why = not_run_why(a, name);
		if (why)
			change(c, "%s: not run in the first run: %s", name,
			       why);
		else
			change(c, "%s: only in the second run", name);
	}
}

static void compare_measures(struct changes *c, const json_t *a,
			     const json_t *b, double tol, double min_ms)
{
	const json_t *ma = json_object_get(a, "measured");
	const json_t *mb = json_object_get(b, "measured");
	const char *key;
	json_t *x;

	json_object_foreach((json_t *)ma, key, x)
	{
		const json_t *y = json_object_get(mb, key);
		double va, vb;

		if (!y || cli_json_get_number(x, "value", &va) ||
		    cli_json_get_number(y, "value", &vb))
			continue;
		/* Both the share and, for times, an absolute floor: a 50 us
		 * RST that takes 150 us under load has tripled, and says
		 * nothing about the kernel. */
		if (fabs(vb - va) <= fabs(va) * tol / 100 ||
		    (!strcmp(str(x, "unit"), "ms") && fabs(vb - va) < min_ms))
			continue;
		change(c, "measured %s: %g -> %g %s (%+.0f%%)", key, va, vb,
		       str(x, "unit"),
		       va != 0 ? 100 * (vb - va) / fabs(va) : INFINITY);
	}
}

static int compare(const char *id, const json_t *a, const json_t *b, double tol,
		   double min_ms, int json)
{
	struct changes c = { json_array() };
	const char *va = str(a, "verdict"), *vb = str(b, "verdict");
	size_t i;
	json_t *line;
	int n;

	if (strcmp(va, vb))
		change(&c, "verdict %s -> %s", va, vb);
	if (strcmp(str(a, "status"), str(b, "status")))
		change(&c, "result %s -> %s", str(a, "status"),
		       str(b, "status"));
	compare_variants(&c, a, b);
	compare_measures(&c, a, b, tol, min_ms);
	n = (int)json_array_size(c.lines);
	if (n && json) {
		sl_json_line(stdout,
			     json_pack("{s:s,s:s,s:s,s:s,s:s,s:O}", "id", id,
				       "verdict_a", va, "verdict_b", vb,
				       "kernel_a", str(a, "kernel"), "kernel_b",
				       str(b, "kernel"), "changes", c.lines));
	} else if (n) {
		printf("%s:\n", id);
		json_array_foreach(c.lines, i, line)
			printf("  %s\n", json_string_value(line));
	}
	json_decref(c.lines);
	return n;
}

/* "Linux 6.18.44 x86_64, 2 CPUs, virtualised (kvm), socklab 1.2" from
 * RUN/run.json, or from the kernel an experiment names (runs older than
 * run.json). */
static void ran_on(char *buf, size_t len, const char *run, const json_t *v)
{
	char path[4096];
	json_error_t err;
	json_t *r, *k, *m;

	snprintf(path, sizeof(path), "%s/run.json", run);
	r = json_load_file(path, 0, &err);
	if (!r) {
		snprintf(buf, len, "Linux %s", v ? str(v, "kernel") : "?");
		return;
	}
	k = json_object_get(r, "kernel");
	m = json_object_get(r, "machine");
	snprintf(buf, len, "Linux %s %s, %lld CPUs, %s%s%s, socklab %s",
		 str(k, "release"), str(k, "arch"),
		 (long long)json_integer_value(json_object_get(m, "cpus")),
		 json_is_true(json_object_get(m, "virtualised")) ?
			 "virtualised (" :
			 "not virtualised",
		 json_is_true(json_object_get(m, "virtualised")) ?
			 str(m, "hypervisor") :
			 "",
		 json_is_true(json_object_get(m, "virtualised")) ? ")" : "",
		 str(r, "socklab"));
	json_decref(r);
}

/* The TCP sysctls that differ between the runs' hosts, from one variant
 * both ran: each variant records them (sysctls.h) and only the kernels'
 * defaults differ from run to run, so one variant speaks for all.  They
 * explain differences; they are not counted as one. */
static void settings(const json_t *a, const json_t *b, const char *id)
{
	const json_t *va = json_array_get(json_object_get(a, "variants"), 0);
	const json_t *vb = variant_named(b, str(va, "name"));
	const json_t *sa = json_object_get(va, "sysctls"),
		     *sb = json_object_get(vb, "sysctls");
	const char *host, *key;
	json_t *ha, *x;
	int shown = 0;

	if (!sa || !sb)
		return;
	json_object_foreach((json_t *)sa, host, ha)
	{
		const json_t *hb = json_object_get(sb, host);

		json_object_foreach(ha, key, x)
		{
			const json_t *y = json_object_get(hb, key);
			const char *xa = json_string_value(x),
				   *yb = y ? json_string_value(y) : NULL;

			if (xa && yb && !strcmp(xa, yb))
				continue;
			if (!shown++)
				printf("settings that differ (%s/%s):\n", id,
				       str(va, "name"));
			printf("  %s %s: %s -> %s\n", host, key, xa ?: "?",
			       yb ?: "(not on this kernel)");
		}
	}
}

static void header(const char *ra, const char *rb, char **ia, int na, char **ib,
		   int nb)
{
	char ka[512], kb[512];
	json_t *a = NULL, *b = NULL;
	const char *common = NULL;

	for (int i = 0; i < na && !common; i++)
		if (has(ib, nb, ia[i]))
			common = ia[i];
	if (common) {
		a = load(ra, common);
		b = load(rb, common);
	}
	ran_on(ka, sizeof(ka), ra, a);
	ran_on(kb, sizeof(kb), rb, b);
	printf("--- %s (%s)\n+++ %s (%s)\n", ra, ka, rb, kb);
	if (a && b)
		settings(a, b, common);
	json_decref(a);
	json_decref(b);
}

int cli_cmd_diff(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "tolerance", required_argument, NULL, 't' },
		{ "min-ms", required_argument, NULL, 'm' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char **ia = NULL, **ib = NULL;
	int na = 0, nb = 0, c, json = 0, differ = 0, ret;
	long tol = 25, min_ms = 10;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == 'h') {
			cli_help_text(stdout, cli_help_find("diff"));
			return 0;
		} else if (c == 'j') {
			json = 1;
		} else if (c == 'm') {
			if (cli_parse_int(optarg, 0, 3600000, &min_ms))
				return cli_usage_error("diff",
						       "--min-ms is a number "
						       "of ms, not '%s'",
						       optarg);
		} else if (c == 't') {
			if (cli_parse_int(optarg, 0, 1000, &tol))
				return cli_usage_error("diff",
						       "--tolerance is a "
						       "percentage from 0 to "
						       "1000, not '%s'",
						       optarg);
		} else {
			return cli_getopt_error("diff", c, argv);
		}
	}
	if (argc - optind != 2)
		return cli_usage_error("diff", "two run folders to compare");
	for (int k = 0; k < 2; k++) {
		ret = ids_of(argv[optind + k], k ? &ib : &ia, k ? &nb : &na);
		if (ret < 0 || (k ? nb : na) == 0) {
			fprintf(stderr, "socklab: diff: %s: %s\n",
				argv[optind + k],
				ret < 0 ? strerror(-ret) :
					  "no experiment's verdict.json in it");
			free_ids(ia, na);
			free_ids(ib, nb);
			return SL_EXIT_ERROR;
		}
	}
	qsort(ia, na, sizeof(*ia), cmp_str);
	qsort(ib, nb, sizeof(*ib), cmp_str);
	if (!json)
		header(argv[optind], argv[optind + 1], ia, na, ib, nb);
	for (int i = 0; i < na; i++) {
		json_t *a = load(argv[optind], ia[i]), *b;

		if (!has(ib, nb, ia[i])) {
			if (json)
				sl_json_line(stdout,
					     json_pack("{s:s,s:b}", "id", ia[i],
						       "only_in_a", 1));
			else
				printf("%s: only in the first run\n", ia[i]);
			differ++;
		} else if (a && (b = load(argv[optind + 1], ia[i]))) {
			differ += compare(ia[i], a, b, (double)tol,
					  (double)min_ms, json) > 0;
			json_decref(b);
		}
		json_decref(a);
	}
	for (int i = 0; i < nb; i++)
		if (!has(ia, na, ib[i])) {
			if (json)
				sl_json_line(stdout,
					     json_pack("{s:s,s:b}", "id", ib[i],
						       "only_in_b", 1));
			else
				printf("%s: only in the second run\n", ib[i]);
			differ++;
		}
	if (!json)
		printf("%d of %d experiments differ\n", differ,
		       na > nb ? na : nb);
	free_ids(ia, na);
	free_ids(ib, nb);
	return differ ? 1 : 0;
}
