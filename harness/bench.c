/* bench.c: `socklab bench`, the harness's own cost per experiment (see
 * lib/bench.h for what one sample measures). */
#include <getopt.h>
#include <stdio.h>

#include "bench.h"
#include "cli.h"
#include "err.h"
#include "help.h"

int cli_cmd_bench(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "samples", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sl_err e = { "" };
	long n = 20;
	int c, ret;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":n:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (cli_parse_int(optarg, 1, 100000, &n))
				return cli_usage_error(
					"bench",
					"-n needs a "
					"number of samples >= 1, "
					"not '%s'",
					optarg);
			break;
		case 'h':
			cli_help_text(stdout, cli_help_find("bench"));
			return 0;
		default:
			return cli_getopt_error("bench", c, argv);
		}
	}
	if (optind < argc)
		return cli_usage_error("bench", "unexpected argument '%s'",
				       argv[optind]);
	ret = cli_need_root("bench", "network namespaces, packet capture");
	if (ret)
		return ret;
	ret = sl_bench((int)n, stdout, &e);
	if (ret < 0) {
		fflush(stdout);
		fprintf(stderr, "socklab: bench: %s\n", e.msg);
		return SL_EXIT_ERROR;
	}
	return 0;
}
