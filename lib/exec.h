/* exec.h: running external commands (iproute2, iptables, nft, ethtool).
 *
 * Always an argument vector, never a shell string built from input.  Every
 * command socklab runs, or performs itself through netlink, can be printed
 * as the equivalent shell line so that a learner can repeat it by hand.
 */
#ifndef SL_EXEC_H
#define SL_EXEC_H

#include <stdio.h>

struct sl_err;

/* Where tools are looked for, whatever the caller's PATH says: a root
 * process must not run whatever program a user-writable folder first in
 * PATH calls "ip".  The commands printed for learners keep short names. */
#define SL_EXEC_PATH "/usr/sbin:/usr/bin:/sbin:/bin"

/* The absolute path of tool name, found in SL_EXEC_PATH once per process
 * and never through PATH; an absolute name as it is; NULL when no folder
 * of SL_EXEC_PATH has it. */
const char *sl_exec_where(const char *name);

/* Runs the tool argv[0] (sl_exec_where()) with argv and PATH set to
 * SL_EXEC_PATH, waits for it.  Returns 0 on exit status 0; otherwise fills
 * e with the command and the first line of its standard error and returns
 * -EIO (or -errno if it could not be started). */
int sl_exec(const char *const argv[], struct sl_err *e);

/* Prints argv as one shell-quoted line, after prefix, to f. */
void sl_print_argv(FILE *f, const char *prefix, const char *const argv[]);

#endif
