/* ptydrive: runs a command on a pseudo-terminal and presses Enter each
 * time it prints a prompt, as a learner at a terminal would.
 *
 *   ptydrive PROMPT COMMAND [ARG]...
 *
 * Everything the command writes is copied to stdout; Enter is sent only
 * once the prompt has been seen (never ahead of it, so each press answers
 * one prompt).  Says on stderr how many prompts it answered, and exits
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

int main(int argc, char **argv)
{
	const char *prompt;
	size_t plen, have = 0;
	char *tail;
	int master, status, answered = 0;
	pid_t pid;

	if (argc < 3) {
		fprintf(stderr, "usage: ptydrive PROMPT COMMAND [ARG]...\n");
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
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	fprintf(stderr, "ptydrive: answered %d prompt%s\n", answered,
		answered == 1 ? "" : "s");
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
