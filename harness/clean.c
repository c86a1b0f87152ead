/* clean.c: `socklab clean`, removing what killed runs left behind.
 *
 * What is removed, and why only that, is lib/sweep.h's: the namespaces
 * and trace instances of slots whose run died (kept runs included, since
 * this is how their user says they are done with them) and of doctors
 * that are gone; and lib/vm_sweep.c's: the temporary folders of killed
 * `socklab vm`s.
 */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "err.h"
#include "help.h"
#include "sweep.h"
#include "vm.h"

int cli_cmd_clean(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sl_err e = { "" };
	int c, n, m, g, ret = 0;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c != 'h')
			return cli_getopt_error("clean", c, argv);
		cli_help_text(stdout, cli_help_find("clean"));
		return 0;
	}
	if (optind < argc)
		return cli_usage_error("clean", "unexpected argument '%s'",
				       argv[optind]);
	ret = cli_need_root("clean", "network namespaces");
	if (ret)
		return ret;

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
