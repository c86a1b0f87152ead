/*
 * needs-sysctl: an experiment with a variant about a sysctl that no kernel
 * has, kept out of the catalogue (tests/, not experiments/).
 *
 * Its claim is close-unread-rst's.  Variant about_nothing declares
 * .needs_sysctl = "net.ipv4.socklab_no_such_sysctl", as a variant about a
 * knob that older kernels lack does: it must be left out and said so
 * ("not_run", with why), never counted as passed, while read_90_of_100
 * decides the verdict alone.  tests/integration/not_run.sh checks that.
 */
#include "socklab.h"
#include "close_unread_roles.h"

EXPERIMENT(needs_sysctl) {
	.claim = "close() with unread data sends RST (one variant about a "
		 "sysctl no kernel has)",
	.expected = SL_CONFIRMED,
	.timeout_s = 10,
};

KNOBS(needs_sysctl) {
	int unread;
};

VARIANT(needs_sysctl, read_90_of_100) { .unread = 10 };
VARIANT(needs_sysctl, about_nothing,
	.needs_sysctl = "net.ipv4.socklab_no_such_sysctl") { .unread = 10 };

/* Roles: close-unread-rst's exchange (close_unread_roles.h). */
CLOSE_UNREAD_ROLES(needs_sysctl);

PREDICT(needs_sysctl)
{
	expect_packet(p, .from = "server", .flags = "R", .after = "closing");
	expect_errno(p, "client", "read", ECONNRESET);
}
