/* cli.h: what the commands of the socklab CLI share.
 *
 * main.c parses the command name and hands the rest of the command line to
 * one cli_cmd_<name>() function, which parses its own options with
 * getopt_long() and returns the process's exit status.  Exit statuses follow
 * lib/protocol.h, so that `socklab run` means the same as one experiment:
 * 0 pass, 1 a finding, 2 could not run, 64 bad command line, 77 cannot run
 * here (ctest's skip).
 */
#ifndef CLI_H
#define CLI_H

#include <stdio.h>

#include "protocol.h"

/* Each command: argv[0] is the command's name, the options follow. */
int cli_cmd_list(int argc, char **argv);
int cli_cmd_run(int argc, char **argv);
int cli_cmd_doctor(int argc, char **argv);
int cli_cmd_clean(int argc, char **argv);
int cli_cmd_bench(int argc, char **argv);
int cli_cmd_states(int argc, char **argv);
int cli_cmd_diff(int argc, char **argv);
int cli_cmd_vm(int argc, char **argv);

/* Prints "socklab: <cmd>: <message> (see socklab <cmd> --help)" on stderr
 * and returns SL_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Turns what getopt_long() returned for a bad option ('?' or ':') into the
 * one-line error above; argv and optind as getopt_long() left them.
 * Returns SL_EXIT_USAGE. */
int cli_getopt_error(const char *cmd, int c, char **argv);

/* The options of a command that takes only --json and --help (list,
 * doctor): sets *json, prints the command's help (help.h) for --help; returns -1 to go on, or the exit status to return
 * (0 after printing help, 64 for a bad option or argument). */
int cli_parse_json_only(const char *cmd, int argc, char **argv, int *json);

/* The signals that ask socklab to stop, short of SIGKILL: a terminal's
 * Ctrl-C, Ctrl-\ and hang-up, kill's default, and the ones whose default
 * action would end the process unasked (SIGALRM, SIGUSR1, SIGUSR2).  A
 * command that holds anything in the kernel catches them all, since any
 * one left to its default action would end socklab with that still held. */
#define CLI_NSTOP_SIGNALS 7
extern const int cli_stop_signals[CLI_NSTOP_SIGNALS];

/* "SIGINT" for SIGINT: the name a user gives kill(1). */
const char *cli_signal_name(int sig);

/* Returns 0 when running as root; otherwise prints "socklab: <cmd> needs
 * root (<why>); try sudo" and returns SL_EXIT_SKIP. */
int cli_need_root(const char *cmd, const char *why);

/* Parses a whole decimal number in [min, max]; 0 or -EINVAL. */
int cli_parse_int(const char *s, long min, long max, long *out);

/* The width of the terminal on fd, or 0 when fd is not a terminal. */
int cli_term_width(int fd);

/* Prints s, cut to at most width columns (counting UTF-8 characters, with
 * "..." marking a cut); width <= 0 prints it whole. */
void cli_print_cut(FILE *f, const char *s, int width);

#endif
