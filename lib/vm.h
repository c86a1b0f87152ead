/* vm.h: what `socklab vm` needs to boot another kernel in a QEMU guest.
 *
 * The guest shares the host's root file system read-only (virtio-9p), the
 * kernel's own module tree at /lib/modules/<release> and the results
 * folder writable; socklab runs inside it from the same path as on the
 * host.  This header holds the parts that are not process supervision
 * (harness/vm.c does that): the kernel package (vm_kernel.c), the
 * initramfs and its /init (vm_initramfs.c), and the accelerator
 * (vm_accel.c).
 */
#ifndef SL_VM_H
#define SL_VM_H

#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

struct sl_err;

/* Where extracted kernel packages are kept, one folder per package, so
 * that the second boot of a kernel starts at once.  Root's alone (0700). */
#define SL_VM_CACHE_DIR "/var/cache/socklab/vm"

/* A kernel to boot: its image, its release (uname -r inside the guest)
 * and the folder of its modules, with modules.dep. */
struct sl_vm_kernel {
	char release[128];
	char vmlinuz[PATH_MAX];
	char modules[PATH_MAX];
};

/* "debian:6.1" -> the newest linux-image-6.1.<n>-<abi>-amd64 Debian's
 * archive has (apt-cache), downloaded with apt-get into cachedir unless it
 * is there already; "debian:<package name>" names the package itself.
 * Writes the .deb's path into deb. */
int sl_vm_debian_fetch(const char *spec, const char *cachedir, char *deb,
		       size_t n, struct sl_err *e);

/* Extracts a linux-image .deb (dpkg-deb -x) into a folder of cachedir
 * named after the package, once: a stamp records the .deb's size and
 * modification time, and a different .deb of the same name is extracted
 * again.  Runs depmod there, since Debian's packages leave modules.dep to
 * their postinst.  Fills k. */
int sl_vm_kernel_from_deb(const char *deb, const char *cachedir,
			  struct sl_vm_kernel *k, struct sl_err *e);

/* A kernel image and its modules folder (lib/modules/<release>, with
 * modules.dep); the release is the folder's name. */
int sl_vm_kernel_from_image(const char *vmlinuz, const char *moddir,
			    struct sl_vm_kernel *k, struct sl_err *e);

/* The module files (paths relative to moddir, from its modules.dep) that
 * the wanted modules need, each after everything it depends on, so that
 * loading them in this order never meets an unknown symbol.  A wanted
 * module that is not in modules.dep (built in, or absent) is skipped;
 * names compare as the kernel does, '-' and '_' alike.  Returns the
 * number of paths written into out (at most max), or -errno. */
int sl_vm_modules_closure(const char *moddir, const char *const want[],
			  int nwant, char (*out)[256], int max,
			  struct sl_err *e);

/* A newc cpio archive (the initramfs format the kernel unpacks), written
 * entry by entry. */
struct sl_cpio {
	FILE *f;
	unsigned long ino;
	off_t off;
};

int sl_cpio_add(struct sl_cpio *c, const char *name, unsigned mode,
		const void *data, size_t len, struct sl_err *e);
/* A regular file, copied from path on the host. */
int sl_cpio_add_file(struct sl_cpio *c, const char *name, unsigned mode,
		     const char *path, struct sl_err *e);
/* The TRAILER!!! entry; the caller closes c->f. */
int sl_cpio_finish(struct sl_cpio *c, struct sl_err *e);

/* What the guest is told to do. */
struct sl_vm_guest {
	const struct sl_vm_kernel *kernel;
	const char *busybox;	 /* the host's static busybox */
	const char *results;	 /* absolute, shared writable; or NULL */
	const char *cwd;	 /* socklab starts there */
	const char *accel;	 /* "tcg" or "kvm", told to socklab */
	long long pace_ref_ns;	 /* the host's pace probe (pace.h); 0: none */
	const char *const *argv; /* socklab's own argv, argv[0] its path */
	/* Whether socklab's output reaches a terminal on the host: in the
	 * guest, the serial ports are terminals, and socklab would print
	 * its progress line for one that is not. */
	int out_tty, err_tty;
};

/* Writes the initramfs to path: busybox, the modules that mounting the
 * root over virtio-9p needs, and an /init that mounts the shares, the
 * guest's own /proc, /sys, /dev, tracefs and tmpfs where socklab writes,
 * loads the modules the experiments use, runs socklab with its output on
 * the second and third serial ports, and reports its exit status on the
 * console ("socklab-vm: exit N") before the guest powers off. */
int sl_vm_initramfs(const char *path, const struct sl_vm_guest *g,
		    struct sl_err *e);

/* The console lines the guest's /init writes, which the host waits for. */
#define SL_VM_READY_LINE "socklab-vm: ready"
#define SL_VM_EXIT_LINE "socklab-vm: exit "

/* Which accelerator runs the guest: "kvm" when /dev/kvm (kvm_dev) opens,
 * answers KVM_GET_API_VERSION, and is served by the stock kvm_intel or
 * kvm_amd module (sysmod: /sys/module); otherwise "tcg".  A nested KVM of
 * another kind (kvm_pvm, which runs only PVM-enabled guest kernels and
 * hangs a stock one) counts as none.  why says what decided. */
const char *sl_vm_accel(const char *kvm_dev, const char *sysmod, char *why,
			size_t n);

/* The environment variable through which the guest's socklab learns that
 * it runs in a guest, and on which accelerator; sl_vm_guest_accel()
 * returns its value when it is one of ours, NULL otherwise. */
#define SL_VM_ENV "SOCKLAB_VM_ACCEL"
const char *sl_vm_guest_accel(void);

/* A guest's temporary folder: SL_VM_TMP_DIR/SL_VM_TMP_PREFIX<pid>-XXXXXX,
 * holding the initramfs and, without --log, the console log. */
#define SL_VM_TMP_DIR "/tmp"
#define SL_VM_TMP_PREFIX "socklab-vm-"
#define SL_VM_INITRAMFS "initramfs.cpio"
#define SL_VM_CONSOLE "console.log"

/* Removes the temporary folders of `socklab vm`s that were killed (their
 * PID is gone), each printed as a command on out; the number removed, or
 * -errno. */
int sl_vm_sweep(FILE *out, struct sl_err *e);

#endif
