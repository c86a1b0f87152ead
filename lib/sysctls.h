/* sysctls.h: the TCP sysctls a variant ran with, as its hosts had them.
 *
 * A verdict is about a kernel *and* its settings: the same 6.18 closes
 * differently with tcp_fin_timeout 60 or 5, and a run read later must say
 * which it had.  Every variant records, once its SETUP has run and before
 * the roles start, the values of the sysctls that the catalogue's claims
 * depend on, in each end host's namespace: those experiments set and those
 * whose defaults they rely on (a namespace starts from the kernel's
 * defaults, not from the machine's own settings, for most of them).
 */
#ifndef SL_SYSCTLS_H
#define SL_SYSCTLS_H

#include "err.h"
#include "topology.h"

#define SL_SYSCTL_KEYS 40

struct sl_sysctl_val {
	char host[8];	/* "client", "server" */
	char key[48];	/* "net.ipv4.tcp_fin_timeout" */
	char value[48]; /* as /proc/sys prints it, tabs made spaces */
};

/* The sysctls recorded, NULL-terminated. */
extern const char *const sl_sysctl_keys[];

/* Reads every key of sl_sysctl_keys in host h's namespace into out (at
 * most max entries), from the calling thread, which it returns to where it
 * was.  A key this kernel does not have is left out.  Returns the number of
 * entries written or -errno with a reason in e. */
int sl_sysctls_read(const struct sl_topology *t, int h,
		    struct sl_sysctl_val *out, int max, struct sl_err *e);

#endif
