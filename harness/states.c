/* states.c: `socklab states`, the TCP state machine as a run's kernel
 * walked it (lib/statemachine.h), drawn by Graphviz.
 *
 * It reads every variant's recorded timeline (RUN/<id>/<variant>/
 * timeline.tl), lays each over RFC 9293's diagram and writes the picture
 * as SVG, laid out by Graphviz's dot (libgvc: the layout of a graph with
 * crossing edges is Graphviz's job, not ours).  It needs no root: a run
 * folder is read like any other files.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <graphviz/gvc.h>

#include "cli.h"
#include "help.h"
#include "err.h"
#include "statemachine.h"
#include "timeline.h"

/* Lays every variant of every experiment of run over m. */
static int read_run(const char *run, struct sl_sm *m)
{
	DIR *d = opendir(run);
	struct dirent *x;
	int ret = 0;

	if (!d) {
		fprintf(stderr, "socklab: states: open %s: %s\n", run,
			strerror(errno));
		return -errno;
	}
	while ((x = readdir(d)) && ret == 0) {
		char path[4096];
		DIR *e;
		struct dirent *v;

		if (x->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", run, x->d_name);
		e = opendir(path);
		if (!e)
			continue; /* a file of the run, not an experiment */
		while ((v = readdir(e)) && ret == 0) {
			struct sl_timeline tl;
			struct sl_err err = { "" };
			char tlpath[4096];

			if (v->d_name[0] == '.')
				continue;
			snprintf(tlpath, sizeof(tlpath), "%s/%s/%s/timeline.tl",
				 run, x->d_name, v->d_name);
			if (access(tlpath, F_OK) != 0)
				continue;
			if (sl_timeline_read(&tl, tlpath, &err) < 0) {
				fprintf(stderr, "socklab: states: %s\n",
					err.msg);
				continue;
			}
			ret = sl_sm_add(m, &tl, x->d_name);
			sl_timeline_free(&tl);
		}
		closedir(e);
	}
	closedir(d);
	if (ret == 0 && m->timelines == 0) {
		fprintf(stderr,
			"socklab: states: %s holds no recorded variant "
			"(<id>/<variant>/timeline.tl)\n",
			run);
		return -ENOENT;
	}
	return ret;
}

/* Lays the dot text out with Graphviz and writes SVG to out. */
static int render(const char *dot, FILE *out)
{
	GVC_t *gvc = gvContext();
	Agraph_t *g = agmemread(dot);
	int ret = -EINVAL;

	if (gvc && g && gvLayout(gvc, g, "dot") == 0) {
		ret = gvRender(gvc, g, "svg", out) == 0 ? 0 : -EIO;
		gvFreeLayout(gvc, g);
	}
	if (g)
		agclose(g);
	if (gvc)
		gvFreeContext(gvc);
	return ret;
}

static FILE *open_output(const char *path)
{
	int fd;

	if (!strcmp(path, "-"))
		return stdout;
	/* Never through a link someone else planted, as everywhere a
	 * socklab command writes. */
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
		  0644);
	return fd < 0 ? NULL : fdopen(fd, "w");
}

int cli_cmd_states(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *run = "results/latest", *output = NULL, *format = "svg";
	char path[4096], *dot = NULL;
	size_t dotlen = 0;
	struct sl_sm m;
	FILE *f;
	int c, ret;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:h", opts, NULL)) != -1) {
		if (c == 'h') {
			cli_help_text(stdout, cli_help_find("states"));
			return 0;
		} else if (c == 'o') {
			output = optarg;
		} else if (c == 'f') {
			format = optarg;
		} else {
			return cli_getopt_error("states", c, argv);
		}
	}
	if (strcmp(format, "svg") && strcmp(format, "dot") &&
	    strcmp(format, "text"))
		return cli_usage_error("states",
				       "--format is svg, dot or text, not '%s'",
				       format);
	if (argc - optind > 1)
		return cli_usage_error("states", "one run folder at most");
	if (optind < argc)
		run = argv[optind];
	sl_sm_init(&m);
	if (read_run(run, &m) < 0)
		return SL_EXIT_ERROR;
	if (!strcmp(format, "text")) {
		sl_sm_text(&m, stdout);
		return 0;
	}
	if (!output) {
		snprintf(path, sizeof(path), "%s/states.%s", run, format);
		output = path;
	}
	f = open_output(output);
	if (!f) {
		fprintf(stderr, "socklab: states: write %s: %s\n", output,
			strerror(errno));
		return SL_EXIT_ERROR;
	}
	if (!strcmp(format, "dot")) {
		sl_sm_dot(&m, f);
		ret = 0;
	} else {
		FILE *mem = open_memstream(&dot, &dotlen);

		if (!mem) {
			ret = -ENOMEM;
		} else {
			sl_sm_dot(&m, mem);
			fclose(mem);
			ret = render(dot, f);
		}
		free(dot);
	}
	if (f != stdout && fclose(f) != 0 && ret == 0)
		ret = -errno;
	if (ret < 0) {
		fprintf(stderr, "socklab: states: draw %s: %s\n", output,
			strerror(-ret));
		return SL_EXIT_ERROR;
	}
	if (f != stdout)
		printf("%s: %d variant%s laid over RFC 9293's diagram%s\n",
		       output, m.timelines, m.timelines == 1 ? "" : "s",
		       m.sampled ? " (some without the kernel's events: "
				   "short states may be missing)" :
				   "");
	return 0;
}
