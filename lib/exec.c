/* exec.c: fork+exec with an argument vector (exec.h).
 *
 * The special problem of PATH as root: whoever sets the environment of a
 * root process (sudo -E, env_keep, a root shell with ~/bin first) would
 * otherwise choose which program "ip" or "nft" is, and socklab would run it
 * as uid 0.  So tools are looked up in SL_EXEC_PATH only, each once per
 * process, and the tool itself gets SL_EXEC_PATH as its PATH, since some
 * (`ip netns exec NS nft ...`) look up others in turn.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "err.h"
#include "exec.h"

extern char **environ;

/* The tools found so far: name and absolute path, or "" when the name is
 * in no folder of SL_EXEC_PATH.  socklab runs fewer than a dozen. */
#define MAX_TOOLS 16

static struct {
	char name[32];
	char path[128];
} tools[MAX_TOOLS];
static int ntools;
static pthread_mutex_t tools_mu = PTHREAD_MUTEX_INITIALIZER;

/* name in each folder of SL_EXEC_PATH: the first regular file we may
 * execute. */
static void find_tool(const char *name, char *path, size_t n)
{
	const char *dir = SL_EXEC_PATH;

	path[0] = '\0';
	while (*dir) {
		size_t len = strcspn(dir, ":");
		struct stat st;

		snprintf(path, n, "%.*s/%s", (int)len, dir, name);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		    access(path, X_OK) == 0)
			return;
		dir += len + (dir[len] == ':');
	}
	path[0] = '\0';
}

const char *sl_exec_where(const char *name)
{
	const char *found = NULL;
	int i;

	if (name[0] == '/')
		return name;
	if (strchr(name, '/') || strlen(name) >= sizeof(tools[0].name))
		return NULL;
	pthread_mutex_lock(&tools_mu);
	for (i = 0; i < ntools && strcmp(tools[i].name, name); i++)
		;
	if (i == ntools && ntools < MAX_TOOLS) {
		snprintf(tools[i].name, sizeof(tools[i].name), "%s", name);
		find_tool(name, tools[i].path, sizeof(tools[i].path));
		ntools++;
	}
	if (i < ntools && tools[i].path[0])
		found = tools[i].path;
	pthread_mutex_unlock(&tools_mu);
	return found;
}

/* The environment for a tool: ours, with PATH=SL_EXEC_PATH.  Built before
 * fork(), since a child of a threaded process may not allocate.  NULL when
 * out of memory. */
static char **tool_env(void)
{
	size_t n = 0, k = 0;
	char **env;

	while (environ && environ[n])
		n++;
	env = calloc(n + 2, sizeof(*env));
	if (!env)
		return NULL;
	env[k++] = "PATH=" SL_EXEC_PATH;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "PATH=", 5) != 0)
			env[k++] = environ[i];
	env[k] = NULL;
	return env;
}

static void argv_join(char *buf, size_t n, const char *const argv[])
{
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; argv[i] && used + 1 < n; i++)
		used += snprintf(buf + used, n - used, "%s%s", i ? " " : "",
				 argv[i]);
}

/* The child's standard error until it closes it, the first n - 1 bytes
 * kept. */
static void read_all(int fd, char *out, size_t n)
{
	size_t got = 0;

	for (;;) {
		ssize_t r = read(fd, out + got, n - 1 - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
		if (got >= n - 1) {
			char sink[256];

			/* Keep draining so the child never blocks on a full pipe. */
			while (read(fd, sink, sizeof(sink)) > 0)
				;
			break;
		}
	}
	out[got] = '\0';
}

int sl_exec(const char *const argv[], struct sl_err *e)
{
	const char *tool = sl_exec_where(argv[0]);
	char cmd[256], out[256];
	int pfd[2], status;
	char **env;
	pid_t pid;

	argv_join(cmd, sizeof(cmd), argv);
	if (!tool)
		return sl_errf(e, ENOENT, "'%s': no %s in " SL_EXEC_PATH, cmd,
			       argv[0]);
	env = tool_env();
	if (!env)
		return sl_errf(e, ENOMEM, "environment for '%s'", cmd);
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		free(env);
		return sl_errf(e, errno, "pipe for '%s'", cmd);
	}
	pid = fork();
	if (pid < 0) {
		int err = errno;

		free(env);
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
		execve(tool, (char *const *)argv, env);
		fprintf(stderr, "cannot execute: %s", strerror(errno));
		_exit(127);
	}
	free(env);
	close(pfd[1]);
	read_all(pfd[0], out, sizeof(out));
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
		WIFEXITED(status) ? WEXITSTATUS(status) :
				    128 + WTERMSIG(status),
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
				    "0123456789-_./:=,+@%",
				    *p))
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
