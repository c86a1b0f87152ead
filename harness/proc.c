/* proc.c: child processes for the experiments (see proc.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc.h"

/* Puts from on to in the child; dup2() onto itself would keep the
 * close-on-exec flag, so that case clears it instead. */
static int move_fd(int from, int to)
{
	if (from == to)
		return fcntl(to, F_SETFD, 0);
	return dup2(from, to) < 0 ? -1 : 0;
}

static void close_pair(int p[2])
{
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	p[0] = p[1] = -1;
}

static void __attribute__((noreturn))
child(const char *const argv[], int flags, int out, int err, int pass,
      int status, pid_t parent)
{
	sigset_t none;
	int devnull, e;

	if (flags & CLI_SPAWN_GROUP) {
		if (setpgid(0, 0) < 0)
			goto fail;
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0)
			goto fail;
		/* The parent may have died before prctl() took effect. */
		if (getppid() != parent)
			_exit(127);
	}
	/* The event loop blocks or catches signals, and ignores SIGPIPE; an
	 * experiment starts with the defaults, as from a shell. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);

	devnull = open("/dev/null", O_RDONLY);
	if (devnull < 0 || move_fd(devnull, STDIN_FILENO) < 0)
		goto fail;
	if (move_fd(out, STDOUT_FILENO) < 0 || move_fd(err, STDERR_FILENO) < 0)
		goto fail;
	if (pass >= 0 && move_fd(pass, CLI_SPAWN_PASSED_FD) < 0)
		goto fail;
	execv(argv[0], (char *const *)argv);
fail:
	e = errno;
	if (write(status, &e, sizeof(e)) < 0)
		_exit(127);
	_exit(127);
}

int cli_spawn(const char *const argv[], int flags, int errfd,
	      struct cli_child *c)
{
	return cli_spawn_passing(argv, flags, errfd, -1, c);
}

int cli_spawn_passing(const char *const argv[], int flags, int errfd,
		      int passfd, struct cli_child *c)
{
	int out[2] = { -1, -1 }, err[2] = { -1, -1 }, st[2] = { -1, -1 };
	pid_t parent = getpid();
	int ret, child_errno;
	ssize_t r;

	c->pid = -1;
	c->out = c->err = -1;
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(st, O_CLOEXEC) < 0 ||
	    (errfd < 0 && pipe2(err, O_CLOEXEC) < 0)) {
		ret = -errno;
		goto out_close;
	}
	c->pid = fork();
	if (c->pid < 0) {
		ret = -errno;
		goto out_close;
	}
	if (c->pid == 0)
		child(argv, flags, out[1], errfd >= 0 ? errfd : err[1], passfd,
		      st[1], parent);

	/* Both sides set the group, so that it exists before either side
	 * relies on it (the classic race of shells' job control).  EACCES
	 * means the child has already exec'd, having set it itself. */
	if ((flags & CLI_SPAWN_GROUP) && setpgid(c->pid, c->pid) < 0 &&
	    errno != EACCES && errno != ESRCH) {
		ret = -errno;
		kill(c->pid, SIGKILL);
		goto out_reap;
	}
	close(st[1]);
	st[1] = -1;
	do
		r = read(st[0], &child_errno, sizeof(child_errno));
	while (r < 0 && errno == EINTR);
	if (r == (ssize_t)sizeof(child_errno)) {
		ret = -child_errno;
		goto out_reap;
	}
	close(out[1]);
	out[1] = -1;
	if (err[1] >= 0)
		close(err[1]);
	err[1] = -1;
	close(st[0]);
	st[0] = -1;
	if (fcntl(out[0], F_SETFL, O_NONBLOCK) < 0 ||
	    (err[0] >= 0 && fcntl(err[0], F_SETFL, O_NONBLOCK) < 0)) {
		ret = -errno;
		kill(c->pid, SIGKILL);
		goto out_reap;
	}
	c->out = out[0];
	c->err = err[0];
	return 0;

out_reap:
	while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
		;
	c->pid = -1;
out_close:
	close_pair(out);
	close_pair(err);
	close_pair(st);
	return ret;
}

ssize_t cli_read_append(int fd, char **buf, size_t *len, size_t *cap,
			size_t max)
{
	ssize_t total = 0;

	for (;;) {
		ssize_t r;

		if (*cap - *len < 4096) {
			size_t ncap = *cap ? *cap * 2 : 8192;
			char *nbuf = realloc(*buf, ncap);

			if (!nbuf)
				return -ENOMEM;
			*buf = nbuf;
			*cap = ncap;
		}
		r = read(fd, *buf + *len, *cap - *len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return total ? total : -EAGAIN;
		if (r < 0)
			return -errno;
		if (r == 0)
			return total;
		*len += r;
		total += r;
		(*buf)[*len] = '\0';
		if (*len > max) {
			/* Only the last line counts: keep it and what follows,
			 * or, for one endless line, its newest half (which will
			 * not parse, and is then reported as invalid). */
			char *nl = memrchr(*buf, '\n', *len - 1);
			size_t drop = nl ? (size_t)(nl + 1 - *buf) : *len / 2;

			memmove(*buf, *buf + drop, *len - drop + 1);
			*len -= drop;
		}
	}
}

const char *cli_last_line(const char *buf, size_t len, size_t *n)
{
	size_t end = len;

	while (end > 0) {
		size_t start;

		while (end > 0 &&
		       (buf[end - 1] == '\n' || buf[end - 1] == '\r'))
			end--;
		start = end;
		while (start > 0 && buf[start - 1] != '\n')
			start--;
		if (end > start) {
			const char *p = buf + start;
			size_t k = end - start;

			/* A line of blanks is as good as none. */
			while (k > 0 && (*p == ' ' || *p == '\t')) {
				p++;
				k--;
			}
			if (k > 0) {
				*n = k;
				return p;
			}
		}
		end = start;
	}
	*n = 0;
	return NULL;
}

void cli_describe_status(int status, char *buf, size_t n)
{
	if (WIFEXITED(status))
		snprintf(buf, n, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, n, "killed by signal %d (%s)%s", WTERMSIG(status),
			 strsignal(WTERMSIG(status)),
			 WCOREDUMP(status) ? ", core dumped" : "");
	else
		snprintf(buf, n, "stopped (wait status 0x%x)", status);
}

int cli_channel(int *ours, int *theirs)
{
	int sv[2], fd;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	/* Not close-on-exec: the child inherits it. */
	fd = fcntl(sv[1], F_DUPFD, CLI_CHANNEL_FD_MIN);
	close(sv[1]);
	if (fd < 0) {
		close(sv[0]);
		return -errno;
	}
	*ours = sv[0];
	*theirs = fd;
	return 0;
}
