/* call.h: the name sl_call() and sl_try() record a call under (call.c). */
#ifndef SL_CALL_H
#define SL_CALL_H

#include <stddef.h>

/* From the text of a macro's arguments as written ("self, accept(lfd,
 * NULL, NULL)"): the expression, the last argument at the top level, into
 * expr, and the name it is recorded under into name ("accept";
 * "setsockopt(SO_LINGER)" for setsockopt() and getsockopt()).  Returns 0,
 * or -EINVAL when the expression does not start with a call (name is
 * empty): such a value needs a name of the author's. */
int sl_call_name(const char *args, char *expr, size_t en, char *name,
		 size_t nn);

#endif
