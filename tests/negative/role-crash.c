/*
 * role-crash: a role that dies (abort()) in the middle of an exchange.  Not
 * a claim: the harness must report ERROR with the signal, never a verdict,
 * and tear the variant's namespaces down (tests/integration/teardown.sh).
 */
#include <stdlib.h>

#include "socklab.h"

EXPERIMENT(role_crash) {
	.claim = "a crashing role is an ERROR, not a verdict",
	.expected = SL_CONFIRMED,
	.timeout_s = 10,
};

KNOBS(role_crash) {
	int unused;
};

VARIANT(role_crash, abort_after_connect) { .unused = 0 };

ROLE(role_crash, server)
{
	int lfd = sl_listen(self, SL_PORT);

	sl_try(self, accept(lfd, NULL, NULL));
	sl_wait_mark(self, "client", "never");
}

ROLE(role_crash, client)
{
	sl_connect(self, "server", SL_PORT);
	abort();
}

PREDICT(role_crash)
{
	expect_packet(p, .from = "client", .flags = "S");
}
