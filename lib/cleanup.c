/* cleanup.c: the per-run undo stack (cleanup.h). */
#include <errno.h>

#include "cleanup.h"

int sl_cleanup_push(struct sl_cleanup *c, sl_undo_fn fn, void *arg,
		    const char *what)
{
	if (c->n >= SL_CLEANUP_MAX)
		return -ENOSPC;
	c->step[c->n].fn = fn;
	c->step[c->n].arg = arg;
	c->step[c->n].what = what;
	c->n++;
	return 0;
}

void sl_cleanup_run(struct sl_cleanup *c)
{
	while (c->n > 0) {
		c->n--;
		c->step[c->n].fn(c->step[c->n].arg);
	}
}
