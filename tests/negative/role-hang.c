/*
 * role-hang: both roles block in read() on a connection where nobody
 * writes.  Not a claim: the harness must stop the roles at the
 * experiment's timeout_s (3 s), report ERROR and tear down; on SIGINT or
 * SIGTERM it must tear down at once (tests/integration/teardown.sh).
 */
#include "socklab.h"

EXPERIMENT(role_hang) {
	.claim = "roles that never finish are an ERROR, not a verdict",
	.expected = SL_CONFIRMED,
	.timeout_s = 3,
};

KNOBS(role_hang) {
	int unused;
};

VARIANT(role_hang, both_block_in_read) { .unused = 0 };

ROLE(role_hang, server)
{
	char c;
	int lfd = sl_listen(self, SL_PORT);
	int fd = sl_try(self, accept(lfd, NULL, NULL));

	sl_mark(self, "blocking");
	sl_try(self, read(fd, &c, 1));
}

ROLE(role_hang, client)
{
	char c;
	int fd = sl_connect(self, "server", SL_PORT);

	sl_try(self, read(fd, &c, 1));
}

PREDICT(role_hang)
{
	expect_packet(p, .from = "client", .flags = "S");
}
