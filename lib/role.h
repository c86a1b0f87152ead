/* role.h: the roles' side of a run: their processes and the shared log.
 *
 * Each role runs in a process of its own, forked from the variant's run and
 * moved into its host's namespace.  Roles write marks and call results into
 * a log in shared memory (a process-shared mutex and condition variable
 * guard it), which is also how they wait for each other's marks: a waiting
 * role sleeps on the condition variable until the mark it wants appears, so
 * no role ever sleeps blindly.
 */
#ifndef SL_ROLE_H
#define SL_ROLE_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include "timeline.h"

struct sl_topology;
struct sl_err;
struct sl_applog;
struct sl_role;

#define SL_APPLOG_MAX 1024
#define SL_APPLOG_HOSTS 4
#define SL_ROLE_EXIT_ERROR 3	/* a role's SL_REQUIRE or wait failed */

struct sl_sockdiag;

/* The log in shared memory: the roles' events, and the pid of each host's
 * role (so that a role can make another host crash). */
struct sl_applog {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int n;
	int dropped;
	pid_t role_pid[SL_APPLOG_HOSTS];
	struct sl_event ev[SL_APPLOG_MAX];
};

/* A role's handle (self): private to lib/, experiments only pass it on. */
struct sl_role {
	const struct sl_topology *topo;
	int host;
	struct sl_applog *log;
	int64_t deadline;
	struct sl_sockdiag *diag;
};

int sl_applog_create(struct sl_applog **lp, struct sl_err *e);
void sl_applog_destroy(struct sl_applog *l);

/* Appends an event (any process of the run) and wakes the waiters. */
void sl_applog_append(struct sl_applog *l, const struct sl_event *ev);

/* Records which process runs host's role. */
void sl_applog_set_pid(struct sl_applog *l, int host, pid_t pid);

/* Copies the log's events into tl. */
int sl_applog_export(struct sl_applog *l, struct sl_timeline *tl);

/* The text of the first role error in the log, or NULL. */
const char *sl_applog_error(struct sl_applog *l, int *host);

/* Forks a process that enters host's namespace and runs fn(self, knobs),
 * then exits 0 (SL_ROLE_EXIT_ERROR when the role gave up).  The child dies
 * with its parent (PR_SET_PDEATHSIG).  Returns the pid or -errno. */
pid_t sl_role_spawn(const struct sl_topology *t, int host,
		    struct sl_applog *log, int64_t deadline,
		    void (*fn)(struct sl_role *self, const void *knobs),
		    const void *knobs, struct sl_err *e);

#endif
