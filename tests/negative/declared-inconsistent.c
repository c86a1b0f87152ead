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
#include "close_unread_roles.h"

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

/* Roles: close-unread-rst's exchange (close_unread_roles.h). */
CLOSE_UNREAD_ROLES(declared_inconsistent);

PREDICT(declared_inconsistent)
{
	expect_packet(p, .from = "server", .flags = "R", .after = "closing");
	expect_errno(p, "client", "read", ECONNRESET);
}
