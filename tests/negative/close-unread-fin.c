/*
 * close-unread-fin: a claim that is wrong on purpose, kept out of the
 * catalogue (tests/, not experiments/).
 *
 * Claim (false on Linux): close() with unread data does an orderly close:
 * FIN, and the peer's read() returns 0.  The kernel sends RST instead, so
 * the harness must report this variant as not holding, derive REFUTED,
 * fail the run against the (wrong) expected CONFIRMED, and show the RST as
 * evidence.  tests/integration/negative.sh checks exactly that.
 */
#include "socklab.h"

EXPERIMENT(close_unread_fin) {
	.claim = "close() with unread data sends FIN (wrong on purpose)",
	.expected = SL_CONFIRMED,
	.timeout_s = 10,
};

KNOBS(close_unread_fin) {
	int unread;
};

VARIANT(close_unread_fin, read_90_of_100) { .unread = 10 };

ROLE(close_unread_fin, server)
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

ROLE(close_unread_fin, client)
{
	char buf[100] = { 0 };
	int fd = sl_connect(self, "server", SL_PORT);

	sl_try(self, write(fd, buf, sizeof(buf)));
	sl_try(self, read(fd, buf, 1));
	sl_mark(self, "done");
}

PREDICT(close_unread_fin)
{
	expect_packet(p, .from = "server", .flags = "F", .after = "closing");
	expect_no_packet(p, .from = "server", .flags = "R", .after = "closing");
	expect_ret(p, "client", "read", 0);
}
