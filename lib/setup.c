/* setup.c: what SETUP does to the hosts themselves (setup.h); its faults
 * are faults.c's. */
#include <errno.h>

#include "err.h"
#include "setup.h"
#include "socklab.h"
#include "topology.h"

void sl_sysctl(struct sl_setup *s, const char *host, const char *key,
	       const char *value)
{
	int h = sl_topology_host(s->topo, host);

	if (s->failed)
		return;
	if (h < 0) {
		sl_errf(&s->err, EINVAL, "sysctl %s on unknown host '%s'", key,
			host);
		s->failed = 1;
		return;
	}
	if (sl_topology_sysctl(s->topo, h, key, value, s->cmdlog, &s->err) < 0)
		s->failed = 1;
}
