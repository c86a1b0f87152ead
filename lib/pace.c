/* pace.c: the probe and the factor of pace.h. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "pace.h"

/* One run: ten programs started and reaped (fork, exec of /bin/true: what
 * a run does for every ip, nft, tc and ethtool it calls, and where an
 * emulated machine is slowest: page faults and the loader) and two
 * hundred socket pairs made, used once and closed.  About 60 ms on a
 * 2-core VM host, half a second under TCG. */
static int64_t probe_once(void)
{
	int64_t t0 = sl_now();

	for (int i = 0; i < 10; i++) {
		pid_t p = fork();
		int st;

		if (p < 0)
			return -errno;
		if (p == 0) {
			execl("/bin/true", "true", (char *)NULL);
			_exit(127);
		}
		while (waitpid(p, &st, 0) < 0)
			if (errno != EINTR)
				return -errno;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			return -ENOEXEC;
	}
	for (int i = 0; i < 200; i++) {
		char b[64] = { 0 };
		int sv[2];

		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
			return -errno;
		if (write(sv[0], b, sizeof(b)) != (ssize_t)sizeof(b) ||
		    read(sv[1], b, sizeof(b)) != (ssize_t)sizeof(b)) {
			close(sv[0]);
			close(sv[1]);
			return -EIO;
		}
		close(sv[0]);
		close(sv[1]);
	}
	return sl_now() - t0;
}

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

int64_t sl_pace_probe(void)
{
	int64_t t[7];

	/* The fastest of seven: what this machine can do, which a busy
	 * neighbour during one run or two does not move; a machine busy
	 * all along is slower for the experiments too, and shows so. */
	for (int i = 0; i < 7; i++) {
		t[i] = probe_once();
		if (t[i] < 0)
			return t[i];
	}
	qsort(t, 7, sizeof(t[0]), cmp64);
	return t[0];
}

double sl_time_scale(void)
{
	const char *v = getenv(SL_TIME_SCALE_ENV);
	char *end;
	double x;

	if (!v || !*v)
		return 1;
	x = strtod(v, &end);
	if (*end || !(x >= 1 && x <= SL_TIME_SCALE_MAX))
		return 1;
	return x;
}

int sl_time_scaled_s(int seconds)
{
	return (int)ceil(seconds * sl_time_scale());
}
