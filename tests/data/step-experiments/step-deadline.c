/*
 * step-deadline: a helper of tests/integration/step.sh, kept out of the
 * catalogue: a pause of `socklab run --step` must not make a deadline
 * fire.  Its timeout is 3 s, and the test pauses it for longer at the
 * server's "listening" while the client waits for that very mark
 * (sl_connect()): the client's wait, the run's own deadline and the CLI's
 * must all move with the pause, or the run ends in ERROR.
 *
 * Claim: a connection to a listener is accepted (the SYN is answered with
 * SYN-ACK, the server's accept() returns a socket).
 */
#include "socklab.h"

EXPERIMENT(step_deadline) {
	.claim = "a connection to a listener is accepted (helper of the "
		 "--step tests)",
	.expected = SL_CONFIRMED,
	.timeout_s = 3,
};

KNOBS(step_deadline) {
	int unused;
};

VARIANT(step_deadline, plain) { .unused = 0 };

ROLE(step_deadline, server)
{
	int lfd = sl_listen(self, SL_PORT);

	sl_call(self, accept(lfd, NULL, NULL));
	sl_mark(self, "accepted");
}

ROLE(step_deadline, client)
{
	/* Waits for the server's "listening", where the test pauses. */
	sl_connect(self, "server", SL_PORT);
	sl_wait_mark(self, "server", "accepted");
}

PREDICT(step_deadline)
{
	expect_packets(p, 1, .from = "client", .flags = "S");
	expect_packet(p, .from = "server", .flags = "S.");
	expect_no_packet(p, .from = "server", .flags = "R");
}
