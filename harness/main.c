/* main.c: the socklab command line.
 *
 *   socklab <command> [options]
 *
 * Commands live in their own files (list.c, runner.c, doctor.c, clean.c,
 * bench.c); this file finds the command, and holds the few helpers every
 * command uses to speak the same way: one line per error, prefixed with
 * "socklab: <command>:", and the exit statuses of lib/protocol.h.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli.h"
#include "help.h"

/* The commands; what each says of itself (its summary, its --help, its
 * man page) is in help.c. */
struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
};

static const struct command commands[] = {
	{ "list", cli_cmd_list },
	{ "run", cli_cmd_run },
	{ "doctor", cli_cmd_doctor },
	{ "clean", cli_cmd_clean },
	{ "bench", cli_cmd_bench },
	{ "states", cli_cmd_states },
	{ "diff", cli_cmd_diff },
	{ "vm", cli_cmd_vm },
	{ "help", NULL },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "socklab: %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see socklab %s --help)\n", cmd);
	return SL_EXIT_USAGE;
}

int cli_getopt_error(const char *cmd, int c, char **argv)
{
	/* getopt_long() leaves the offending word at argv[optind - 1] for
	 * long options; for short ones optopt names the letter, which may
	 * sit inside a cluster such as -qx. */
	const char *word = argv[optind - 1];
	char shortopt[3] = { '-', (char)optopt, '\0' };
	int is_long = word && !strncmp(word, "--", 2);
	const char *name = is_long || !optopt ? word : shortopt;

	if (is_long) {
		/* Print "--opt" without any "=value". */
		int len = (int)strcspn(word, "=");

		if (c == ':')
			return cli_usage_error(cmd,
					       "option '%.*s' needs a "
					       "value",
					       len, word);
		/* A known flag given "=value" is reported with its val in
		 * optopt; an unknown name leaves optopt 0. */
		if (optopt && word[len] == '=')
			return cli_usage_error(cmd,
					       "option '%.*s' takes no "
					       "value",
					       len, word);
		return cli_usage_error(cmd, "unknown option '%.*s'", len, word);
	}
	if (c == ':')
		return cli_usage_error(cmd, "option '%s' needs a value", name);
	return cli_usage_error(cmd, "unknown option '%s'", name);
}

const int cli_stop_signals[CLI_NSTOP_SIGNALS] = { SIGHUP,  SIGINT,  SIGQUIT,
						  SIGTERM, SIGALRM, SIGUSR1,
						  SIGUSR2 };

const char *cli_signal_name(int sig)
{
	static char buf[32];
	const char *abbrev = sigabbrev_np(sig);

	snprintf(buf, sizeof(buf), "SIG%s", abbrev ? abbrev : "?");
	return buf;
}

int cli_need_root(const char *cmd, const char *why)
{
	if (geteuid() == 0)
		return 0;
	fprintf(stderr, "socklab: %s needs root (%s); try sudo\n", cmd, why);
	return SL_EXIT_SKIP;
}

int cli_parse_int(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int cli_term_width(int fd)
{
	struct winsize ws;

	if (!isatty(fd) || ioctl(fd, TIOCGWINSZ, &ws) < 0 || ws.ws_col == 0)
		return 0;
	return ws.ws_col;
}

void cli_print_cut(FILE *f, const char *s, int width)
{
	int cols = 0;
	const char *p, *cut = NULL;

	if (width <= 0) {
		fputs(s, f);
		return;
	}
	/* Count characters, not bytes: a claim may quote "→" or "≥".  Wide
	 * characters are rare enough here to be counted as one column. */
	for (p = s; *p; p++) {
		if (((unsigned char)*p & 0xc0) == 0x80)
			continue;
		if (cols == width - 3)
			cut = p;
		if (++cols > width)
			break;
	}
	if (cols <= width) {
		fputs(s, f);
		return;
	}
	if (width < 3 || !cut) {
		fputs("...", f);
		return;
	}
	fwrite(s, 1, cut - s, f);
	fputs("...", f);
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static int help(int argc, char **argv)
{
	const struct command *c;
	char *hargv[] = { NULL, "--help", NULL };

	/* `socklab help`: socklab's own; `socklab help help` and `socklab
	 * help --help`: the help command's. */
	if (argc < 2) {
		cli_help_text(stdout, cli_help_find("socklab"));
		return 0;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "-h")) {
		cli_help_text(stdout, cli_help_find("help"));
		return 0;
	}
	c = find_command(argv[1]);
	if (!c) {
		fprintf(stderr,
			"socklab: help: unknown command '%s' (see socklab --help)\n",
			argv[1]);
		return SL_EXIT_USAGE;
	}
	hargv[0] = argv[1];
	return c->fn(2, hargv);
}

int main(int argc, char **argv)
{
	const struct command *c;

	if (argc < 2) {
		cli_help_text(stderr, cli_help_find("socklab"));
		return SL_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return help(1, argv);
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		/* As `ip -V` and `tcpdump --version` do: the name and the
		 * version on one line. */
		printf("socklab %s\n", SL_VERSION);
		return 0;
	}
	if (argv[1][0] == '-') {
		fprintf(stderr,
			"socklab: unknown option '%s' (see socklab --help)\n",
			argv[1]);
		return SL_EXIT_USAGE;
	}
	c = find_command(argv[1]);
	if (!c) {
		fprintf(stderr,
			"socklab: unknown command '%s' (see socklab --help)\n",
			argv[1]);
		return SL_EXIT_USAGE;
	}
	if (!c->fn)
		return help(argc - 1, argv + 1);
	/* Each command parses its own options; it sees its name as argv[0],
	 * the way getopt_long() expects a program's name. */
	return c->fn(argc - 1, argv + 1);
}

int cli_parse_json_only(const char *cmd, int argc, char **argv, int *json)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'J':
			*json = 1;
			break;
		case 'h':
			cli_help_text(stdout, cli_help_find(cmd));
			return 0;
		default:
			return cli_getopt_error(cmd, c, argv);
		}
	}
	if (optind < argc)
		return cli_usage_error(cmd, "unexpected argument '%s'",
				       argv[optind]);
	return -1;
}
