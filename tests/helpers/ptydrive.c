/* ptydrive: runs a command on a pseudo-terminal and presses Enter each
 * time it prints a prompt, as a learner at a terminal would.
 *
 *   ptydrive [-x SHELL-COMMAND] PROMPT COMMAND [ARG]...
 *
 * Everything the command writes is copied to stdout; Enter is sent only
 * once the prompt has been seen (never ahead of it, so each press answers
 * one prompt).  With -x, SHELL-COMMAND runs (sh -c, its output to stdout,
 * PTYDRIVE_N set to the prompt's number from 1 and PTYDRIVE_PID to the
 * command's pid) at each prompt before
 * Enter is pressed: what another terminal would do while the command
 * waits.  Says on stderr how many prompts it answered, and exits
 * with the command's exit status (128 + N when a signal N ended it).  The
 * tests of `socklab run --step` use it: a pipe on stdin is not a terminal,
 * which --step refuses.
 */
#include <errno.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

/* Runs cmd with sh -c, PTYDRIVE_N=n, and waits for it: non-zero when it
 * did not exit 0. */
static int run_meanwhile(const char *cmd, int n, pid_t driven)
{
	char num[16], pidtxt[16];
	int status;
	pid_t pid;

	fflush(stdout);
	snprintf(num, sizeof(num), "%d", n);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		snprintf(pidtxt, sizeof(pidtxt), "%d", (int)driven);
		setenv("PTYDRIVE_N", num, 1);
		setenv("PTYDRIVE_PID", pidtxt, 1);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

int main(int argc, char **argv)
{
	const char *prompt, *meanwhile = NULL;
	size_t plen, have = 0;
	char *tail;
	int master, status, answered = 0;
	pid_t pid;

	if (argc > 2 && !strcmp(argv[1], "-x")) {
		meanwhile = argv[2];
		argv += 2;
		argc -= 2;
	}
	if (argc < 3) {
		fprintf(stderr, "usage: ptydrive [-x SHELL-COMMAND] PROMPT "
				"COMMAND [ARG]...\n");
		return 64;
	}
	prompt = argv[1];
	plen = strlen(prompt);
	tail = malloc(plen + 4096);
	if (!tail || plen == 0)
		return 64;
	pid = forkpty(&master, NULL, NULL, NULL);
	if (pid < 0) {
		perror("ptydrive: forkpty");
		return 70;
	}
	if (pid == 0) {
		execvp(argv[2], argv + 2);
		perror("ptydrive: exec");
		_exit(127);
	}
	for (;;) {
		ssize_t n = read(master, tail + have, 4096);

		if (n < 0 && errno == EINTR)
			continue;
		/* EIO: the command and everything it started closed the
		 * terminal. */
		if (n <= 0)
			break;
		fwrite(tail + have, 1, (size_t)n, stdout);
		fflush(stdout);
		have += (size_t)n;
		for (;;) {
			char *hit = memmem(tail, have, prompt, plen);

			if (!hit)
				break;
			if (meanwhile &&
			    run_meanwhile(meanwhile, answered + 1, pid))
				fprintf(stderr,
					"ptydrive: -x failed at prompt "
					"%d\n",
					answered + 1);
			if (write(master, "\n", 1) != 1) {
				perror("ptydrive: write");
				break;
			}
			answered++;
			have -= (size_t)(hit + plen - tail);
			memmove(tail, hit + plen, have);
		}
		/* Keep only what may begin a prompt. */
		if (have >= plen) {
			memmove(tail, tail + have - (plen - 1), plen - 1);
			have = plen - 1;
		}
	}
	free(tail);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	fprintf(stderr, "ptydrive: answered %d prompt%s\n", answered,
		answered == 1 ? "" : "s");
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
