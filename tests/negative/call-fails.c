/*
 * call-fails: a call the experiment needs fails.  Not a claim: sl_call()
 * must stop the role and make the variant an ERROR that names the call as
 * written, its errno and file:line, never a verdict
 * (tests/integration/negative.sh).
 */
#include "socklab.h"

EXPERIMENT(call_fails) {
	.claim = "a failed sl_call() is an ERROR naming the call",
	.expected = SL_CONFIRMED,
	.timeout_s = 10,
};

KNOBS(call_fails) {
	int port;		/* where the client connects: nothing listens */
};

VARIANT(call_fails, connect_refused) { .port = SL_PORT + 1 };

ROLE(call_fails, server)
{
	sl_listen(self, SL_PORT);
	sl_wait_mark(self, "client", "never");
}

ROLE(call_fails, client)
{
	struct sockaddr_storage sa = sl_addr(self, "server", variant->port);
	int fd = sl_call(self, socket(sl_family(self), SOCK_STREAM, 0));

	sl_wait_mark(self, "server", "listening");
	/* Refused: the role stops here, with the call's text and errno. */
	sl_call(self, connect(fd, (struct sockaddr *)&sa, sizeof(sa)));
	sl_mark(self, "connected");
}

PREDICT(call_fails)
{
	expect_ret(p, "client", "connect", 0);
}
