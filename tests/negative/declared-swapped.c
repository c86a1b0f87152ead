/*
 * declared-swapped: variants that declare the opposite of what they do,
 * kept out of the catalogue (tests/, not experiments/).
 *
 * Claim (true on Linux): close() with unread data sends RST, not FIN.  The
 * variant that leaves 10 bytes unread holds, but is declared not to
 * (.holds = false); the one that reads everything does not hold (FIN), but
 * is declared to.  The derived verdict is NUANCED, which is the expected
 * one, and yet the run must fail: comparing verdicts alone would call this
 * a pass.  tests/integration/negative.sh checks that both variants are
 * named, with their evidence.
 */
#include "socklab.h"
#include "close_unread_roles.h"

EXPERIMENT(declared_swapped) {
	.claim = "close() with unread data sends RST (variants declared the "
		 "wrong way round on purpose)",
	.expected = SL_NUANCED,
	.timeout_s = 10,
};

KNOBS(declared_swapped) {
	int unread;
};

VARIANT(declared_swapped, unread_10, .holds = false) { .unread = 10 };
VARIANT(declared_swapped, unread_0) { .unread = 0 };

/* Roles: close-unread-rst's exchange (close_unread_roles.h). */
CLOSE_UNREAD_ROLES(declared_swapped);

PREDICT(declared_swapped)
{
	expect_packet(p, .from = "server", .flags = "R", .after = "closing");
	expect_no_packet(p, .from = "server", .flags = "F", .after = "closing");
	expect_errno(p, "client", "read", ECONNRESET);
}
