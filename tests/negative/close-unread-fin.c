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
#include "close_unread_roles.h"

EXPERIMENT(close_unread_fin) {
	.claim = "close() with unread data sends FIN (wrong on purpose)",
	.expected = SL_CONFIRMED,
	.timeout_s = 10,
};

KNOBS(close_unread_fin) {
	int unread;
};

VARIANT(close_unread_fin, read_90_of_100) { .unread = 10 };

/* Roles: close-unread-rst's exchange (close_unread_roles.h). */
CLOSE_UNREAD_ROLES(close_unread_fin);

PREDICT(close_unread_fin)
{
	expect_packet(p, .from = "server", .flags = "F", .after = "closing");
	expect_no_packet(p, .from = "server", .flags = "R", .after = "closing");
	expect_ret(p, "client", "read", 0);
}
