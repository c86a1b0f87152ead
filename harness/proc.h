/* proc.h: starting the experiment executables as child processes.
 *
 * The CLI runs each experiment as a process of its own (lib/protocol.h), so
 * that a crash or a hang stays in that process.  This is the one place that
 * forks them, for --describe (catalog.c) and for --run (runner.c).
 */
#ifndef CLI_PROC_H
#define CLI_PROC_H

#include <stdint.h>
#include <sys/types.h>

/* The child leads a process group of its own, so that a timeout can kill
 * whatever it started with one kill(-pid), and so that a Ctrl-C on the
 * terminal reaches only the CLI, which then stops the experiments in order.
 * It also gets SIGTERM if the CLI dies, so that no experiment outlives it. */
#define CLI_SPAWN_GROUP 0x1

struct cli_child {
	pid_t pid;
	int out; /* read end of the child's stdout, O_CLOEXEC */
	int err; /* read end of its stderr, or -1 (see errfd) */
};

/* Starts the executable at path argv[0] (no PATH search) with stdin on
 * /dev/null and stdout into a pipe.  Its stderr goes to errfd when errfd is
 * >= 0, or into a second pipe otherwise.  Returns 0, or -errno when the
 * process could not be started (exec failures included: they are reported
 * back through a close-on-exec pipe, so a missing or non-executable file is
 * an error here and not an exit status 127 later). */
int cli_spawn(const char *const argv[], int flags, int errfd,
	      struct cli_child *c);

/* The descriptor number a passed descriptor has in the child. */
#define CLI_SPAWN_PASSED_FD 3

/* The same, and passfd (when >= 0) is inherited by the child as
 * CLI_SPAWN_PASSED_FD: a folder handed over as a descriptor cannot be
 * swapped under the child the way a path can. */
int cli_spawn_passing(const char *const argv[], int flags, int errfd,
		      int passfd, struct cli_child *c);

/* A channel to a child about to be started (--step's pauses, the progress
 * that moves its deadline): a SOCK_SEQPACKET pair, *ours close-on-exec,
 * *theirs inherited, numbered CLI_CHANNEL_FD_MIN or above so that none
 * of the descriptors cli_spawn_passing() moves into place overwrites it.
 * The caller passes *theirs's number on the command line and closes it
 * once the child is started.  0 or -errno. */
#define CLI_CHANNEL_FD_MIN 10
int cli_channel(int *ours, int *theirs);

/* Appends what is readable on fd (non-blocking or not) to *buf, keeping at
 * most max bytes: beyond that, the oldest complete lines are dropped, since
 * the protocol's answer is the last line.  Returns the number of bytes read,
 * 0 at end of file, -EAGAIN when nothing is there yet, or -errno. */
ssize_t cli_read_append(int fd, char **buf, size_t *len, size_t *cap,
			size_t max);

/* The last non-empty line of buf[0..len): returns a pointer into buf and
 * its length without the newline in *n, or NULL when there is none. */
const char *cli_last_line(const char *buf, size_t len, size_t *n);

/* A description of a wait() status: "exited with status 3", "killed by
 * signal 11 (Segmentation fault), core dumped". */
void cli_describe_status(int status, char *buf, size_t n);

#endif
