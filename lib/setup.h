/* setup.h: a variant's set-up handle (SETUP's s in socklab.h).
 *
 * SETUP runs in the run process once the topology is up and before any
 * role starts: per-namespace sysctls (sl_sysctl()) and faults in force from
 * the start (sl_fault(s, ...), faults.c).  The run's board exists already,
 * so that a fault applied here is on the timeline like one applied by a
 * role.  The first failure is kept and ends the variant as an ERROR.
 */
#ifndef SL_SETUP_H
#define SL_SETUP_H

#include <stdio.h>

#include "err.h"

struct sl_board;
struct sl_topology;

struct sl_setup {
	const struct sl_topology *topo;
	FILE *cmdlog;
	struct sl_board *board;
	int failed;
	struct sl_err err;
};

#endif
