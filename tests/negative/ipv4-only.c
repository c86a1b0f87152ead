/*
 * ipv4-only: an experiment that declares it runs over IPv4 alone, kept out
 * of the catalogue (tests/, not experiments/).
 *
 * Its claim is close-unread-rst's and holds over either family; what it is
 * there for is `.families = 4`: `socklab run --family 6` must report it
 * skipped with the reason, and `--family all` must run its IPv4 variant and
 * report the IPv6 half skipped, never passed.  tests/integration/families.sh
 * checks exactly that.
 */
#include "socklab.h"
#include "close_unread_roles.h"

EXPERIMENT(ipv4_only) {
	.claim = "close() with unread data sends RST (IPv4 only on purpose)",
	.expected = SL_CONFIRMED,
	.timeout_s = 10,
	.families = 4,
};

KNOBS(ipv4_only) {
	int unread;
};

VARIANT(ipv4_only, read_90_of_100) { .unread = 10 };

/* Roles: close-unread-rst's exchange (close_unread_roles.h). */
CLOSE_UNREAD_ROLES(ipv4_only);

PREDICT(ipv4_only)
{
	expect_packet(p, .from = "server", .flags = "R", .after = "closing");
	expect_errno(p, "client", "read", ECONNRESET);
}
