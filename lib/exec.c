/* exec.c: fork+exec with an argument vector (exec.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "err.h"
#include "exec.h"

static void argv_join(char *buf, size_t n, const char *const argv[])
{
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; argv[i] && used + 1 < n; i++)
		used += snprintf(buf + used, n - used, "%s%s", i ? " " : "",
				 argv[i]);
}

int sl_exec(const char *const argv[], struct sl_err *e)
{
	char cmd[256], out[256];
	int pfd[2], status;
	ssize_t got;
	pid_t pid;

	argv_join(cmd, sizeof(cmd), argv);
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return sl_errf(e, errno, "pipe for '%s'", cmd);
	pid = fork();
	if (pid < 0) {
		int err = errno;

		close(pfd[0]);
		close(pfd[1]);
		return sl_errf(e, err, "fork for '%s'", cmd);
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDWR);

		if (devnull >= 0) {
			dup2(devnull, STDIN_FILENO);
			dup2(devnull, STDOUT_FILENO);
		}
		dup2(pfd[1], STDERR_FILENO);
		execvp(argv[0], (char *const *)argv);
		fprintf(stderr, "cannot execute: %s", strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	got = 0;
	for (;;) {
		ssize_t r = read(pfd[0], out + got, sizeof(out) - 1 - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += r;
		if ((size_t)got >= sizeof(out) - 1) {
			char sink[256];

			/* Keep draining so the child never blocks on a full pipe. */
			while (read(pfd[0], sink, sizeof(sink)) > 0)
				;
			break;
		}
	}
	out[got] = '\0';
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return sl_errf(e, errno, "wait for '%s'", cmd);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	out[strcspn(out, "\n")] = '\0';
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return sl_errf(e, ENOENT, "'%s' %s", cmd, out);
	sl_errf(e, 0, "'%s' failed (status %d): %s", cmd,
		WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
		out);
	return -EIO;
}

void sl_print_argv(FILE *f, const char *prefix, const char *const argv[])
{
	fputs(prefix, f);
	for (int i = 0; argv[i]; i++) {
		const char *a = argv[i];
		int plain = *a != '\0';

		for (const char *p = a; *p; p++)
			if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "0123456789-_./:=,+@%", *p))
				plain = 0;
		fputs(i ? " " : "", f);
		if (plain) {
			fputs(a, f);
		} else {
			fputc('\'', f);
			for (const char *p = a; *p; p++) {
				if (*p == '\'')
					fputs("'\\''", f);
				else
					fputc(*p, f);
			}
			fputc('\'', f);
		}
	}
	fputc('\n', f);
}
