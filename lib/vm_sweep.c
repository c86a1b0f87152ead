/* vm_sweep.c: what a killed `socklab vm` left on the host (vm.h).
 *
 * A guest's temporary folder is /tmp/socklab-vm-<pid>-XXXXXX, named after
 * the socklab that made it; QEMU dies with that socklab (PR_SET_PDEATHSIG),
 * but the folder stays when socklab is killed outright.  A folder whose
 * socklab is gone holds only what socklab put there, and only that is
 * removed: the initramfs and the console log, then the folder, which an
 * rmdir() refuses if anything else is in it.  A PID reused since keeps
 * its folder, which errs on the safe side.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "err.h"
#include "vm.h"

int sl_vm_sweep(FILE *out, struct sl_err *e)
{
	static const char *const files[] = { SL_VM_INITRAMFS, SL_VM_CONSOLE };
	size_t plen = strlen(SL_VM_TMP_PREFIX);
	struct dirent *de;
	int n = 0;
	DIR *d;

	d = opendir(SL_VM_TMP_DIR);
	if (!d)
		return sl_errf(e, errno, "open %s", SL_VM_TMP_DIR);
	while ((de = readdir(d))) {
		char path[PATH_MAX], f[PATH_MAX + 64], *end;
		long pid;

		if (strncmp(de->d_name, SL_VM_TMP_PREFIX, plen))
			continue;
		pid = strtol(de->d_name + plen, &end, 10);
		if (pid <= 0 || *end != '-')
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		snprintf(path, sizeof(path), "%s/%s", SL_VM_TMP_DIR,
			 de->d_name);
		for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
			snprintf(f, sizeof(f), "%s/%s", path, files[i]);
			unlink(f);
		}
		if (rmdir(path) == 0) {
			fprintf(out, "rm -r %s\n", path);
			n++;
		} else {
			fprintf(out, "kept %s: %s\n", path, strerror(errno));
		}
	}
	closedir(d);
	return n;
}
