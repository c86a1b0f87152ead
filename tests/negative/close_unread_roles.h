/* close_unread_roles.h: the roles of the negative close-unread
 * experiments (close-unread-fin, declared-swapped, declared-inconsistent).
 *
 * They run the same exchange as experiments/close-unread-rst and differ
 * only in what they claim or declare about it, which is what each file is
 * there to get wrong on purpose; the exchange itself is written once here.
 * These are tests, not lab material: no learner reads them, so sharing
 * roles between them costs no one a plain socket program.
 *
 *	KNOBS(x) { int unread; };	(the bytes the server leaves unread)
 *	...
 *	CLOSE_UNREAD_ROLES(x);
 */
#ifndef SL_TESTS_NEGATIVE_CLOSE_UNREAD_ROLES_H
#define SL_TESTS_NEGATIVE_CLOSE_UNREAD_ROLES_H

#include "socklab.h"

/* Accepts, waits until the client's 100 bytes are all queued, reads all
 * but `unread` of them, marks "closing" and closes: RST when bytes are
 * left unread, FIN when none are.  Stays until the client is done. */
static inline void close_unread_server(struct sl_role *self, int unread)
{
	char buf[100];
	int lfd = sl_listen(self, SL_PORT);
	int fd = sl_call(self, accept(lfd, NULL, NULL));

	sl_wait_recvq(self, fd, 100);
	sl_try(self, read(fd, buf, 100 - unread));
	sl_mark(self, "closing");
	sl_try(self, close(fd));
	sl_wait_mark(self, "client", "done");
}

/* Writes 100 bytes, then blocks in read() until the server's FIN (0) or
 * RST (-1, ECONNRESET), and marks "done". */
static inline void close_unread_client(struct sl_role *self)
{
	char buf[100] = { 0 };
	int fd = sl_connect(self, "server", SL_PORT);

	sl_try(self, write(fd, buf, sizeof(buf)));
	sl_try(self, read(fd, buf, 1));
	sl_mark(self, "done");
}

/* ROLE(x, server) and ROLE(x, client) of experiment x, whose KNOBS have
 * `int unread`. */
#define CLOSE_UNREAD_ROLES(x)						\
	ROLE(x, server)							\
	{								\
		close_unread_server(self, variant->unread);		\
	}								\
	ROLE(x, client)							\
	{								\
		close_unread_client(self);				\
	}								\
	struct sl__semicolon_after_close_unread_roles

#endif
