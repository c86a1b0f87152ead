/* err.c: formatting of failure reasons (see err.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

int sl_errf(struct sl_err *e, int err, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	if (e) {
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
		n = strlen(e->msg);
		if (err > 0 && n < sizeof(e->msg))
			snprintf(e->msg + n, sizeof(e->msg) - n, ": %s",
				 strerror(err));
	}
	return err > 0 ? -err : -EIO;
}
