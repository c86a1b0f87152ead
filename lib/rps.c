/* rps.c: a namespace's interfaces steered to one processor (rps.h). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rps.h"

int sl_rps_cpu(int slot)
{
	cpu_set_t set;
	int n, k = 0;

	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return -errno;
	n = CPU_COUNT(&set);
	if (n <= 0)
		return -ENODEV;
	k = (slot < 0 ? -slot : slot) % n;
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, &set) && k-- == 0)
			return cpu;
	return -ENODEV;
}

void sl_rps_mask(int cpu, char *buf, size_t n)
{
	int group = cpu / 32;
	size_t len;

	len = (size_t)snprintf(buf, n, "%x", 1u << (cpu % 32));
	for (int g = 0; g < group && len < n; g++)
		len += (size_t)snprintf(buf + len, n - len, ",00000000");
}

/* In the child: the namespace entered, sysfs of its own mounted, each
 * mask written.  Exits 0, 1 (no RPS in this kernel), or 2 + the step that
 * failed, its errno written to report first: the parent turns both back
 * into a sentence (a child cannot hand an sl_err back). */
enum {
	STEP_SETNS,
	STEP_UNSHARE,
	STEP_PRIVATE,
	STEP_MOUNT,
	STEP_OPEN,
	STEP_WRITE,
	NSTEPS
};

static void child(int nsfd, const char *const ifnames[], int n,
		  const char *mask, int report)
{
	char path[128];
	int step = STEP_SETNS, err = 0, fd;

	if (setns(nsfd, CLONE_NEWNET) < 0)
		goto fail;
	step = STEP_UNSHARE;
	if (unshare(CLONE_NEWNS) < 0)
		goto fail;
	/* Nothing of ours may reach the machine's mounts. */
	step = STEP_PRIVATE;
	if (mount("", "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		goto fail;
	step = STEP_MOUNT;
	umount2("/sys", MNT_DETACH);
	if (mount("sysfs", "/sys", "sysfs", 0, NULL) < 0)
		goto fail;
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path),
			 "/sys/class/net/%s/queues/rx-0/rps_cpus", ifnames[i]);
		step = STEP_OPEN;
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT && i == 0)
			_exit(1);
		if (fd < 0)
			goto fail;
		step = STEP_WRITE;
		if (write(fd, mask, strlen(mask)) < 0) {
			err = errno;
			close(fd);
			errno = err;
			goto fail;
		}
		close(fd);
	}
	_exit(0);
fail:
	err = errno;
	if (write(report, &err, sizeof(err)) < 0)
		err = 0;
	_exit(2 + step);
}

int sl_rps_pin(int nsfd, const char *netns, const char *const ifnames[], int n,
	       const char *mask, struct sl_err *e)
{
	static const char *const what[NSTEPS] = {
		"enter the namespace",		"unshare its mounts",
		"make its mounts private",	"mount sysfs in it",
		"open an interface's rps_cpus", "write an interface's rps_cpus",
	};
	int pfd[2], status, err = 0;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return sl_errf(e, errno, "pipe for the RPS writer of %s",
			       netns);
	pid = fork();
	if (pid < 0) {
		err = errno;
		close(pfd[0]);
		close(pfd[1]);
		return sl_errf(e, err, "fork the RPS writer of %s", netns);
	}
	if (pid == 0)
		child(nsfd, ifnames, n, mask, pfd[1]);
	close(pfd[1]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			err = errno;
			close(pfd[0]);
			return sl_errf(e, err, "wait for the RPS writer of %s",
				       netns);
		}
	if (read(pfd[0], &err, sizeof(err)) != sizeof(err))
		err = EIO;
	close(pfd[0]);
	if (WIFEXITED(status) && WEXITSTATUS(status) <= 1)
		return WEXITSTATUS(status);
	if (WIFEXITED(status) && WEXITSTATUS(status) - 2 < NSTEPS)
		return sl_errf(e, err,
			       "steer %s's interfaces to one processor "
			       "(rps_cpus %s): %s",
			       netns, mask, what[WEXITSTATUS(status) - 2]);
	return sl_errf(e, EIO, "the RPS writer of %s ended abnormally", netns);
}
