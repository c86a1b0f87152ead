/*
 * timewait-never: a role that waits for a TIME-WAIT its connection never
 * makes.  Not a claim: close() with SO_LINGER {1, 0} resets the connection,
 * which leaves no TIME-WAIT, and the wait that follows must end at once as
 * an ERROR that says so, not run until the experiment's deadline (in a
 * slow guest, stretched to a quarter of an hour).
 */
#include <sys/socket.h>

#include "socklab.h"

EXPERIMENT(timewait_never) {
	.claim = "a wait for a TIME-WAIT that cannot come ends at once",
	.expected = SL_CONFIRMED,
	.timeout_s = 20,
};

KNOBS(timewait_never) {
	int unused;
};

VARIANT(timewait_never, reset_then_wait) { .unused = 0 };

ROLE(timewait_never, server)
{
	int lfd = sl_listen(self, SL_PORT);

	sl_try(self, accept(lfd, NULL, NULL));
	sl_wait_mark(self, "client", "never");
}

ROLE(timewait_never, client)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	int fd = sl_connect(self, "server", SL_PORT);
	struct sl_tuple t = sl_tuple(self, fd);

	sl_call(self, setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	sl_call(self, close(fd));
	sl_wait_tuple(self, &t, TCP_TIME_WAIT);
	sl_mark(self, "never");
}

PREDICT(timewait_never)
{
	expect_packet(p, .from = "client", .flags = "R");
}
