/* vm_accel.c: which accelerator runs a guest, and what the guest's socklab
 * is told of it (vm.h).
 *
 * The special problem of /dev/kvm: that it opens says little.  On a
 * machine that is itself a guest, /dev/kvm may belong to a nested
 * hypervisor of another kind (kvm_pvm here) that runs only guest kernels
 * built for it, and a stock kernel under it hangs right after the boot
 * loader, with no error to catch.  Booting a probe guest with a deadline
 * would tell for sure, but costs seconds on every run and a deadline that
 * is a guess; the rule here costs nothing and is the one an engineer
 * applies: KVM only when the module behind it is the stock kvm_intel or
 * kvm_amd, TCG otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vm.h"

static int module_loaded(const char *sysmod, const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", sysmod, name);
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *sl_vm_accel(const char *kvm_dev, const char *sysmod, char *why,
			size_t n)
{
	static const char *const others[] = { "kvm_pvm" };
	int fd, api;

	fd = open(kvm_dev, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, n, "%s: %s", kvm_dev, strerror(errno));
		return "tcg";
	}
	api = ioctl(fd, KVM_GET_API_VERSION, 0);
	close(fd);
	if (api != KVM_API_VERSION) {
		snprintf(why, n, "%s answers no KVM API version %d", kvm_dev,
			 KVM_API_VERSION);
		return "tcg";
	}
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		if (module_loaded(sysmod, others[i])) {
			snprintf(why, n,
				 "%s is %s's, which hangs stock guest kernels",
				 kvm_dev, others[i]);
			return "tcg";
		}
	if (module_loaded(sysmod, "kvm_intel") ||
	    module_loaded(sysmod, "kvm_amd")) {
		snprintf(why, n, "%s is %s's", kvm_dev,
			 module_loaded(sysmod, "kvm_intel") ? "kvm_intel" :
							      "kvm_amd");
		return "kvm";
	}
	snprintf(why, n, "%s is neither kvm_intel's nor kvm_amd's", kvm_dev);
	return "tcg";
}

const char *sl_vm_guest_accel(void)
{
	const char *v = getenv(SL_VM_ENV);

	if (v && (!strcmp(v, "tcg") || !strcmp(v, "kvm")))
		return v;
	return NULL;
}
