/* fault_spec.h: a fault as one line of words and back.
 *
 * What a role asks for at one of its marks (sl_fault(), sl_crash(),
 * sl_reboot()) is known only while the role runs.  The run keeps it with
 * the fault's record and in the recording (timeline.tl's fault lines), so
 * that `--explain` can print the commands that serve it from a recorded
 * run of the variant, through the same code as a run:
 *
 *	by=client kind=drop from=client flags=. count=1
 *	by=client kind=crash host=server
 *	by=setup kind=delay from=client delay_ms=300
 *
 * by is the role's host, or "setup" for SETUP; len is the author's byte
 * count (not struct sl_fault's n + 1).
 */
#ifndef SL_FAULT_SPEC_H
#define SL_FAULT_SPEC_H

#include <stddef.h>

#include "socklab.h"

#define SL_FAULT_SPEC_MAX 160

/* A parsed line: f's strings point into the struct itself. */
struct sl_fault_spec {
	char text[SL_FAULT_SPEC_MAX];
	char by[16], kind[12], host[16];
	char from[16], flags[8], not_flags[8];
	struct sl_fault f;
};

/* Writes the line for a fault of kind (f for those of sl_fault(), host
 * for a crash or a reboot) applied by by into buf.  Returns 0, or -ENOSPC
 * when it did not fit. */
int sl_fault_spec_format(const char *by, const char *kind, const char *host,
			 const struct sl_fault *f, char *buf, size_t n);

/* Reads a line written by sl_fault_spec_format().  Returns 0, or -EINVAL
 * for a word it does not know or a value that does not fit. */
int sl_fault_spec_parse(const char *text, struct sl_fault_spec *s);

#endif
