/* priority.c: the threads whose timing is observed run first (priority.h). */
#include <errno.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "priority.h"

int sl_priority_observed(void)
{
	/* On Linux the nice value belongs to a thread: PRIO_PROCESS with a
	 * thread id sets that thread's alone. */
	pid_t tid = (pid_t)syscall(SYS_gettid);

	if (setpriority(PRIO_PROCESS, (id_t)tid, SL_OBSERVED_NICE) < 0)
		return -errno;
	return 0;
}
