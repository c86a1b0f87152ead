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

#include <sys/types.h>

#include "timeline.h"

struct sl_topology;
struct sl_err;
struct sl_applog;
struct sl_role;

#define SL_APPLOG_MAX 1024
#define SL_ROLE_EXIT_ERROR 3	/* a role's SL_REQUIRE or wait failed */

int sl_applog_create(struct sl_applog **lp, struct sl_err *e);
void sl_applog_destroy(struct sl_applog *l);

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
