/* clean.c: `socklab clean`, removing what killed runs left behind.
 *
 * What is removed, and why only that, is lib/sweep.h's: the namespaces
 * and trace instances of slots whose run died (kept runs included, since
 * this is how their user says they are done with them) and of doctors
 * that are gone, and lib/vm_sweep.c's: the temporary folders of killed
 * `socklab vm`s.  `socklab clean <run>` removes only the namespaces that
 * run kept: the slots whose kept marks name a folder of it (slot.h).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "err.h"
#include "help.h"
#include "sweep.h"
#include "vm.h"

/* The namespaces run arg kept: arg is a run's folder (or one of its
 * experiments'), or a run's name under base. */
static int clean_run(const char *base, const char *arg)
{
	char path[PATH_MAX], real[PATH_MAX];
	struct sl_err e = { "" };
	struct stat st;
	int n, kept;

	snprintf(path, sizeof(path), "%s", arg);
	if ((stat(path, &st) < 0 || !S_ISDIR(st.st_mode)) && arg[0] != '/')
		snprintf(path, sizeof(path), "%s/%s", base, arg);
	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode) ||
	    !realpath(path, real)) {
		fprintf(stderr,
			"socklab: clean: no run '%s': no such folder%s%s\n",
			arg, arg[0] == '/' ? "" : ", nor in ",
			arg[0] == '/' ? "" : base);
		return SL_EXIT_ERROR;
	}
	n = sl_sweep_kept_in(real, &kept, stdout, &e);
	if (n < 0) {
		fprintf(stderr, "socklab: clean: %s\n", e.msg);
		return SL_EXIT_ERROR;
	}
	if (kept == 0)
		printf("nothing to clean: no namespaces kept by %s\n", arg);
	else
		printf("removed %d leftover%s of %d kept slot%s of %s\n", n,
		       n == 1 ? "" : "s", kept, kept == 1 ? "" : "s", arg);
	return 0;
}

int cli_cmd_clean(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "results", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sl_err e = { "" };
	const char *base = "results";
	int c, n, m, g, ret = 0;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == 'r') {
			base = optarg;
			continue;
		}
		if (c != 'h')
			return cli_getopt_error("clean", c, argv);
		cli_help_text(stdout, cli_help_find("clean"));
		return 0;
	}
	if (optind + 1 < argc)
		return cli_usage_error("clean", "one run at a time, not '%s'",
				       argv[optind + 1]);
	ret = cli_need_root("clean", "network namespaces");
	if (ret)
		return ret;
	if (optind < argc)
		return clean_run(base, argv[optind]);

	/* Everything, kept runs included: a kept run's namespaces stay until
	 * the user says they are done with them, and this is how they say
	 * it.  Live runs hold their slot locks and are never touched. */
	n = sl_sweep_all(stdout, &e);
	if (n < 0) {
		fprintf(stderr, "socklab: clean: %s\n", e.msg);
		ret = SL_EXIT_ERROR;
		n = 0;
	}
	m = sl_sweep_doctors(stdout, &e);
	if (m < 0) {
		fprintf(stderr, "socklab: clean: %s\n", e.msg);
		ret = SL_EXIT_ERROR;
		m = 0;
	}
	/* The temporary folders of killed `socklab vm`s (their QEMU died
	 * with them). */
	g = sl_vm_sweep(stdout, &e);
	if (g < 0) {
		fprintf(stderr, "socklab: clean: %s\n", e.msg);
		ret = SL_EXIT_ERROR;
		g = 0;
	}
	m += g;
	if (n + m == 0 && ret == 0)
		puts("nothing to clean");
	else if (n + m)
		printf("removed %d leftover%s\n", n + m, n + m == 1 ? "" : "s");
	return ret;
}
