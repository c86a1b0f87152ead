/*
 * setup-slow: a harness setup that takes 3 s, then roles that take 3.5 s.
 * Not a claim: it stands for a loaded machine, where making each
 * variant's namespaces, captures and trace instance waits on the kernel's
 * locks for seconds.  `socklab run --timeout 6` must let it finish: the
 * CLI's deadline counts again from each phase's end and the roles' start,
 * which the variant says on --progress-fd (lib/protocol.h,
 * harness/deadline.c), so that 3 s of setup are not taken from the roles'
 * 6.  Counted from the process's start, the deadline would stop it at 6 s
 * as hung.
 * tests/integration/negative.sh runs it.
 */
#include <time.h>

#include "socklab.h"

EXPERIMENT(setup_slow) {
	.claim = "a slow harness setup is not taken from the roles' time",
	.expected = SL_CONFIRMED,
	.timeout_s = 10,
};

KNOBS(setup_slow) {
	int setup_ms, roles_ms;
};

VARIANT(setup_slow, slow_setup_then_roles) {
	.setup_ms = 3000, .roles_ms = 3500
};

static void pause_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0)
		;
}

/* The time is the point here: it is what the harness would spend. */
SETUP(setup_slow)
{
	pause_ms(variant->setup_ms);
}

ROLE(setup_slow, server)
{
	char c;
	int lfd = sl_listen(self, SL_PORT);
	int fd = sl_try(self, accept(lfd, NULL, NULL));

	sl_try(self, read(fd, &c, 1));
	close(fd);
}

ROLE(setup_slow, client)
{
	int fd = sl_connect(self, "server", SL_PORT);

	pause_ms(variant->roles_ms);
	close(fd);
}

PREDICT(setup_slow)
{
	expect_packet(p, .from = "client", .flags = "S");
}
