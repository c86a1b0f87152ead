/* report_html.c: a run's index.html, the report to open in a browser
 * (report_html.h).
 *
 * One static file, self-contained: its style inline, its pictures the
 * variants' own ladder.svg files copied in as inline SVG, no script and
 * nothing fetched from anywhere, so that it opens the same from a laptop
 * without a network, from a CI artefact, or years later.  Links point
 * only into the run's own folder (pcaps, timelines) and to the lab guides
 * of the checkout the run was built from.
 *
 * Everything is read back from what the run wrote (each experiment's
 * verdict.json, each variant's ladder.svg and timeline.txt) through the
 * run folder's descriptor, as every reader of results does
 * (lib/resultdir.h): the report says what the folder holds, and can be
 * made again from it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"
#include "report_html.h"
#include "resultdir.h"

/* A file of the run folder, whole, NUL-terminated; NULL when absent. */
static char *slurp(int run_fd, const char *path, size_t max)
{
	int fd = sl_resultdir_read(run_fd, path);
	char *buf;
	size_t n = 0;
	ssize_t got;

	if (fd < 0)
		return NULL;
	buf = malloc(max + 1);
	while (buf && n < max && (got = read(fd, buf + n, max - n)) > 0)
		n += got;
	close(fd);
	if (buf)
		buf[n] = '\0';
	return buf;
}

static void put_html(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

static const char style[] =
	"body{font-family:'DejaVu Sans',sans-serif;margin:2em;color:#212121;"
	"max-width:1100px}"
	"h1{font-size:1.5em}h2{margin-top:2em;border-bottom:1px solid #cfd8dc}"
	"table{border-collapse:collapse}td,th{padding:.2em .8em;text-align:"
	"left;border-bottom:1px solid #eceff1}"
	".v{font-weight:bold}.CONFIRMED{color:#2e7d32}.REFUTED{color:#c62828}"
	".NUANCED{color:#ef6c00}.ERROR{color:#6a1b9a}"
	".pass{color:#2e7d32}.fail,.error{color:#c62828}"
	"ul.p{list-style:none;padding-left:0}ul.p li{margin:.3em 0}"
	".ok{color:#2e7d32}.no{color:#c62828}.skip{color:#757575}"
	"pre,.ev{font-family:'DejaVu Sans Mono',monospace;font-size:12px}"
	".ev{color:#455a64;display:block;margin-left:2.5em;white-space:"
	"pre-wrap}"
	"pre{background:#fafafa;border:1px solid #eceff1;padding:.5em;"
	"overflow-x:auto}"
	".ladder{overflow-x:auto;border:1px solid #eceff1}";

static void summary_row(FILE *f, const json_t *v, const char *id)
{
	const char *verdict = cli_json_str(v, "verdict");
	const char *status = cli_json_str(v, "status");
	double d = 0;

	cli_json_get_number(v, "duration_s", &d);
	fprintf(f, "<tr><td><a href=\"#");
	put_html(f, id);
	fprintf(f, "\">");
	put_html(f, id);
	fprintf(f, "</a></td><td class=\"v %s\">", verdict ? verdict : "");
	put_html(f, verdict ? verdict : "?");
	fprintf(f, "</td><td>");
	put_html(f, cli_json_str(v, "expected"));
	fprintf(f, "</td><td class=\"%s\">", status ? status : "");
	put_html(f, status ? status : "?");
	fprintf(f, "</td><td>%.1f s</td></tr>\n", d);
}

static void predictions(FILE *f, const json_t *var)
{
	const json_t *ps = json_object_get(var, "predictions");
	size_t i;
	json_t *p;

	fprintf(f, "<ul class=\"p\">\n");
	json_array_foreach(ps, i, p)
	{
		const char *skipped = cli_json_str(p, "skipped");
		int ok = cli_json_get_bool(p, "ok") == 1;

		fprintf(f, "<li><span class=\"%s\">%s</span> ",
			skipped ? "skip" :
			ok	? "ok" :
				  "no",
			skipped ? "[skip]" :
			ok	? "[ ok ]" :
				  "[FAIL]");
		put_html(f, cli_json_str(p, "what"));
		fprintf(f, "<span class=\"ev\">");
		put_html(f, skipped ? skipped : cli_json_str(p, "evidence"));
		fprintf(f, "</span></li>\n");
	}
	fprintf(f, "</ul>\n");
}

/* The variant's ladder.svg, inline: its XML declaration dropped. */
static void ladder(FILE *f, int run_fd, const char *dir)
{
	char path[4096], *svg, *start;

	snprintf(path, sizeof(path), "%s/ladder.svg", dir);
	svg = slurp(run_fd, path, 4 << 20);
	if (!svg)
		return;
	start = strstr(svg, "<svg");
	if (start)
		fprintf(f, "<div class=\"ladder\">%s</div>\n", start);
	free(svg);
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Links to every pcap of the variant's folder, in name order (up to 64): one per
 * interface of the client, the server and the router, and after a reboot
 * the new namespace's (client-eth0-after-reboot.pcap), whose names the
 * run makes up as it goes.  Only regular files count. */
static void pcaps(FILE *f, int run_fd, const char *dir)
{
	char *name[64], path[4096];
	struct dirent *d;
	size_t n = 0, len;
	struct stat st;
	DIR *dp;
	int fd;

	fd = openat(run_fd, dir,
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	dp = fdopendir(fd);
	if (!dp) {
		close(fd);
		return;
	}
	while ((d = readdir(dp)) && n < sizeof(name) / sizeof(*name)) {
		len = strlen(d->d_name);
		if (len <= 5 || strcmp(d->d_name + len - 5, ".pcap") != 0 ||
		    fstatat(dirfd(dp), d->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
		    !S_ISREG(st.st_mode))
			continue;
		/* Without ".pcap", so that eth1 sorts before its
		 * eth1-after-reboot. */
		name[n] = strndup(d->d_name, len - 5);
		if (name[n])
			n++;
	}
	closedir(dp);
	qsort(name, n, sizeof(*name), cmp_name);
	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s.pcap", dir, name[i]);
		fprintf(f, " <a href=\"");
		put_html(f, path);
		fprintf(f, "\">");
		put_html(f, name[i]);
		fprintf(f, ".pcap</a>");
		free(name[i]);
	}
}

static void files(FILE *f, int run_fd, const char *dir)
{
	static const char *const names[] = {
		"timeline.txt",
		"ladder.svg",
		"ladder.mmd",
		"commands.sh",
	};
	char path[4096];
	struct stat st;

	fprintf(f, "<p>files:");
	pcaps(f, run_fd, dir);
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (fstatat(run_fd, path, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		fprintf(f, " <a href=\"");
		put_html(f, path);
		fprintf(f, "\">%s</a>", names[i]);
	}
	fprintf(f, "</p>\n");
}

static void variant(FILE *f, int run_fd, const char *id, const json_t *var)
{
	const char *name = cli_json_str(var, "name");
	const char *error = cli_json_str(var, "error");
	int holds = cli_json_get_bool(var, "holds");
	int as_declared = cli_json_get_bool(var, "as_declared");
	char dir[512], path[4096], *tl;

	if (!name)
		return;
	snprintf(dir, sizeof(dir), "%s/%s", id, name);
	fprintf(f, "<details open><summary><b>");
	put_html(f, name);
	fprintf(f, "</b>: %s%s</summary>\n",
		error	   ? "error" :
		holds == 1 ? "the claim holds" :
			     "the claim does not hold",
		as_declared == 1 ? ", as declared" : ", NOT as declared");
	if (error) {
		fprintf(f, "<p class=\"no\">");
		put_html(f, error);
		fprintf(f, "</p>\n");
	}
	predictions(f, var);
	ladder(f, run_fd, dir);
	files(f, run_fd, dir);
	snprintf(path, sizeof(path), "%s/timeline.txt", dir);
	tl = slurp(run_fd, path, 1 << 20);
	if (tl) {
		fprintf(f, "<details><summary>timeline</summary><pre>");
		put_html(f, tl);
		fprintf(f, "</pre></details>\n");
		free(tl);
	}
	fprintf(f, "</details>\n");
}

static void experiment(FILE *f, int run_fd, const char *id, const json_t *v,
		       const char *guides)
{
	const json_t *vars = json_object_get(v, "variants");
	const char *verdict = cli_json_str(v, "verdict");
	size_t i;
	json_t *var;

	fprintf(f, "<h2 id=\"");
	put_html(f, id);
	fprintf(f, "\">");
	put_html(f, id);
	fprintf(f, ": <span class=\"v %s\">", verdict ? verdict : "");
	put_html(f, verdict ? verdict : "?");
	fprintf(f, "</span></h2>\n<p>");
	put_html(f, cli_json_str(v, "claim"));
	fprintf(f, "</p>\n<p>expected ");
	put_html(f, cli_json_str(v, "expected"));
	fprintf(f, " on Linux; found on Linux ");
	put_html(f, cli_json_str(v, "kernel"));
	if (guides) {
		fprintf(f, " &middot; <a href=\"file://");
		put_html(f, guides);
		fprintf(f, "/");
		put_html(f, id);
		fprintf(f, "/README.md\">lab guide</a>");
	}
	fprintf(f, "</p>\n");
	json_array_foreach(vars, i, var) variant(f, run_fd, id, var);
}

/* One line on what the run ran on, from its run.json (machine.h). */
static void ran_on(FILE *f, int run_fd)
{
	char *text = slurp(run_fd, "run.json", 1 << 20);
	json_t *r = text ? cli_json_object(text, strlen(text)) : NULL;
	json_t *k = json_object_get(r, "kernel"),
	       *m = json_object_get(r, "machine");

	free(text);
	if (!r)
		return;
	fprintf(f, "<p>socklab ");
	put_html(f, cli_json_str(r, "socklab"));
	fprintf(f, " on Linux ");
	put_html(f, cli_json_str(k, "release"));
	fprintf(f, " (");
	put_html(f, cli_json_str(k, "arch"));
	fprintf(f, "), %lld CPUs (",
		(long long)json_integer_value(json_object_get(m, "cpus")));
	put_html(f, cli_json_str(m, "cpu_model"));
	fprintf(f, "), %lld MiB, ",
		(long long)json_integer_value(
			json_object_get(m, "memory_mib")));
	if (json_is_true(json_object_get(m, "virtualised"))) {
		fprintf(f, "virtualised (");
		put_html(f, cli_json_str(m, "hypervisor"));
		fprintf(f, ")</p>\n");
	} else {
		fprintf(f, "not virtualised</p>\n");
	}
	json_decref(r);
}

int cli_report_html(int run_fd, const char *run, const char *const *ids, int n,
		    const char *guides)
{
	json_t **v = calloc(n ? n : 1, sizeof(*v));
	FILE *f;

	if (!v)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		char path[512], *text;

		snprintf(path, sizeof(path), "%s/verdict.json", ids[i]);
		text = slurp(run_fd, path, 64 << 20);
		v[i] = text ? cli_json_object(text, strlen(text)) : NULL;
		free(text);
	}
	f = sl_resultdir_fopen(run_fd, "index.html");
	if (!f) {
		int err = errno;

		for (int i = 0; i < n; i++)
			json_decref(v[i]);
		free(v);
		return -err;
	}
	fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
		   "<meta charset=\"utf-8\"><title>socklab run ");
	put_html(f, run);
	fprintf(f,
		"</title><style>%s</style></head><body>\n"
		"<h1>socklab run ",
		style);
	put_html(f, run);
	fprintf(f, "</h1>\n");
	ran_on(f, run_fd);
	fprintf(f, "<table><tr><th>experiment</th><th>verdict</th>"
		   "<th>expected</th><th>result</th><th>duration</th></tr>\n");
	for (int i = 0; i < n; i++)
		if (v[i])
			summary_row(f, v[i], ids[i]);
	fprintf(f, "</table>\n");
	for (int i = 0; i < n; i++) {
		if (v[i]) {
			experiment(f, run_fd, ids[i], v[i], guides);
		} else {
			fprintf(f, "<h2>");
			put_html(f, ids[i]);
			fprintf(f, "</h2><p class=\"no\">no verdict.json: the "
				   "experiment did not finish</p>\n");
		}
		json_decref(v[i]);
	}
	fprintf(f, "</body></html>\n");
	free(v);
	return fclose(f) == 0 ? 0 : -errno;
}
