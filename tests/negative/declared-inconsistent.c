/*
 * declared-inconsistent: an experiment defined inconsistently on purpose,
 * kept out of the catalogue (tests/, not experiments/).
 *
 * EXPERIMENT expects CONFIRMED, but one variant is declared not to hold, so
 * the declarations derive NUANCED.  That is a definition error, found at
 * start-up: --describe and --run both exit with an error naming the
 * experiment, the CLI lists it as broken, and nothing runs (no namespace,
 * no results).  tests/integration/negative.sh checks exactly that.
 */
#include "socklab.h"

EXPERIMENT(declared_inconsistent) {
	.claim = "close() with unread data sends RST (expected verdict "
		 "inconsistent with the variants on purpose)",
	.expected = SL_CONFIRMED,
	.timeout_s = 10,
};

KNOBS(declared_inconsistent) {
	int unread;
};

VARIANT(declared_inconsistent, unread_10) { .unread = 10 };
VARIANT(declared_inconsistent, unread_0, .holds = false) { .unread = 0 };

ROLE(declared_inconsistent, server)
{
	char buf[100];
	int lfd = sl_listen(self, SL_PORT);
	int fd = sl_call(self, accept(lfd, NULL, NULL));

	sl_wait_recvq(self, fd, 100);
	sl_try(self, read(fd, buf, 100 - variant->unread));
	sl_mark(self, "closing");
	sl_try(self, close(fd));
	sl_wait_mark(self, "client", "done");
}

ROLE(declared_inconsistent, client)
{
	char buf[100] = { 0 };
	int fd = sl_connect(self, "server", SL_PORT);

	sl_try(self, write(fd, buf, sizeof(buf)));
	sl_try(self, read(fd, buf, 1));
	sl_mark(self, "done");
}

PREDICT(declared_inconsistent)
{
	expect_packet(p, .from = "server", .flags = "R", .after = "closing");
	expect_errno(p, "client", "read", ECONNRESET);
}
