/* vm_initramfs.c: the guest's initramfs and its /init (vm.h).
 *
 * The initramfs holds only what mounting the host's root over virtio-9p
 * needs: a static busybox (Debian's busybox-static), the modules of
 * virtio-pci and 9p with what they depend on (from the package's own
 * modules.dep, so that they match the kernel), and /init.  Everything
 * else comes from the host's root, read-only: socklab, its experiments,
 * iproute2, nft, iptables, tc, and kmod's modprobe, which loads the rest
 * of the kernel's modules from the module tree shared at
 * /lib/modules/<release>, on demand as the kernel asks for them.
 *
 * /init is two busybox scripts: the first mounts the shares and the
 * guest's own pseudo file systems under /newroot and switches to it; the
 * second, from tmpfs in the new root, loads the modules the experiments
 * use, runs socklab and reports how it ended.  Arguments reach socklab
 * single-quoted, so no word of them is ever read by the shell.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pace.h"
#include "err.h"
#include "vm.h"

/* Mounting the root: virtio over PCI, 9p over virtio. */
static const char *const boot_modules[] = { "virtio_pci", "9pnet_virtio",
					    "9p" };

/* What the experiments and doctor use, loaded before socklab starts so
 * that the first experiment does not pay for it (the kernel would load
 * most on demand, through /sbin/modprobe, all the same). */
static const char *const run_modules[] = {
	"veth",	     "sch_netem",	"nf_tables",  "nft_reject_inet",
	"nft_ct",    "nfnetlink_queue", "xt_NFQUEUE", "iptable_mangle",
	"inet_diag", "tcp_diag",	"udp_diag",   "af_packet"
};

#define NBOOT_MAX 64

static int entry(struct sl_cpio *c, const char *name, unsigned mode,
		 unsigned rmaj, unsigned rmin, const void *data, size_t len,
		 struct sl_err *e)
{
	static const char zeros[4] = { 0 };
	size_t nlen = strlen(name) + 1;
	int w;

	w = fprintf(c->f,
		    "070701%08lX%08X%08X%08X%08X%08lX%08lX%08X%08X%08X%08X"
		    "%08lX%08X",
		    c->ino++, mode, 0, 0, S_ISDIR(mode) ? 2 : 1,
		    (unsigned long)0, (unsigned long)len, 0, 0, rmaj, rmin,
		    (unsigned long)nlen, 0);
	if (w != 110 || fwrite(name, 1, nlen, c->f) != nlen)
		return sl_errf(e, errno ? errno : EIO, "initramfs: write %s",
			       name);
	c->off += 110 + nlen;
	if (c->off % 4) {
		fwrite(zeros, 1, 4 - c->off % 4, c->f);
		c->off += 4 - c->off % 4;
	}
	if (len && fwrite(data, 1, len, c->f) != len)
		return sl_errf(e, errno ? errno : EIO, "initramfs: write %s",
			       name);
	c->off += len;
	if (c->off % 4) {
		fwrite(zeros, 1, 4 - c->off % 4, c->f);
		c->off += 4 - c->off % 4;
	}
	return 0;
}

int sl_cpio_add(struct sl_cpio *c, const char *name, unsigned mode,
		const void *data, size_t len, struct sl_err *e)
{
	return entry(c, name, mode, 0, 0, data, len, e);
}

int sl_cpio_add_file(struct sl_cpio *c, const char *name, unsigned mode,
		     const char *path, struct sl_err *e)
{
	struct stat st;
	char *buf;
	int fd, rc;
	size_t got = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return sl_errf(e, errno, "initramfs: open %s", path);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return sl_errf(e, EINVAL, "initramfs: %s: not a file", path);
	}
	buf = malloc(st.st_size ? st.st_size : 1);
	if (!buf) {
		close(fd);
		return sl_errf(e, ENOMEM, "initramfs: read %s", path);
	}
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, st.st_size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += r;
	}
	close(fd);
	if (got != (size_t)st.st_size) {
		free(buf);
		return sl_errf(e, EIO, "initramfs: read %s", path);
	}
	rc = entry(c, name, mode, 0, 0, buf, got, e);
	free(buf);
	return rc;
}

int sl_cpio_finish(struct sl_cpio *c, struct sl_err *e)
{
	int rc = entry(c, "TRAILER!!!", 0, 0, 0, NULL, 0, e);

	if (rc == 0 && fflush(c->f) != 0)
		return sl_errf(e, errno, "initramfs: write");
	return rc;
}

/* word, single-quoted for sh: no character of it is special then, and a
 * quote inside ends the quoting, is escaped, and starts it again. */
static void quote(FILE *f, const char *word)
{
	fputc('\'', f);
	for (const char *p = word; *p; p++) {
		if (*p == '\'')
			fputs("'\\''", f);
		else
			fputc(*p, f);
	}
	fputc('\'', f);
}

#define MOUNT9P "trans=virtio,version=9p2000.L,msize=512000"

/* The first stage: the shares under /newroot, then the switch. */
static void write_stage1(FILE *f, const struct sl_vm_guest *g,
			 char (*mods)[256], int nmods)
{
	fputs("#!/bin/busybox sh\n"
	      "# socklab vm: the guest's first stage (lib/vm_initramfs.c)\n"
	      "B=/bin/busybox\n"
	      "$B mount -t proc proc /proc\n"
	      "$B mount -t sysfs sysfs /sys\n"
	      "$B mount -t devtmpfs devtmpfs /dev\n"
	      "exec </dev/null >/dev/console 2>&1\n"
	      "fail() { $B echo \"socklab-vm: failed: $*\"; "
	      "$B reboot -f; }\n",
	      f);
	for (int i = 0; i < nmods; i++) {
		const char *b = strrchr(mods[i], '/') ?
					strrchr(mods[i], '/') + 1 :
					mods[i];

		fprintf(f, "$B insmod /m/%s || fail insmod %s\n", b, b);
	}
	fputs("R=/newroot\n"
	      "$B mount -t 9p -o ro,cache=loose," MOUNT9P " root $R ||"
	      " fail mount the host root\n"
	      "$B mount -t tmpfs -o mode=0755 tmpfs $R/run || fail mount /run\n"
	      /* The host's /tmp stays in view, read-only: socklab and its
	       * experiments may be a checkout or a build there (CI's clone),
	       * and a tmpfs over it would hide them.  What the guest writes
	       * goes to TMPDIR, on /run's tmpfs. */
	      "$B mkdir -p -m 1777 $R/run/socklab-vm/tmp\n"
	      "$B mount -t tmpfs -o mode=1777 tmpfs $R/var/tmp ||"
	      " fail mount /var/tmp\n"
	      "M=$R/run/socklab-vm/root/lib/modules/",
	      f);
	quote(f, g->kernel->release);
	fputs("\n$B mkdir -p $M\n"
	      "$B mount -t 9p -o ro,cache=loose," MOUNT9P " modules $M ||"
	      " fail mount the modules\n"
	      /* The host's /lib/modules, where it has one, shows the
	       * guest's; without one (a container's root), kmod finds them
	       * through modprobe -d all the same. */
	      "if [ -d $R/lib/modules ]; then\n"
	      "  $B mount -t tmpfs -o mode=0755 tmpfs $R/lib/modules &&\n"
	      "  $B mkdir $R/lib/modules/",
	      f);
	quote(f, g->kernel->release);
	fputs(" &&\n  $B mount --bind $M $R/lib/modules/", f);
	quote(f, g->kernel->release);
	fputs("\nfi\n"
	      /* The kernel's own requests for a module go through the same
	       * modprobe, with the same root. */
	      "$B printf '#!/run/socklab-vm/busybox sh\\nexec /sbin/modprobe"
	      " -d /run/socklab-vm/root \"$@\"\\n' >"
	      " $R/run/socklab-vm/modprobe\n"
	      "$B chmod 755 $R/run/socklab-vm/modprobe\n"
	      "echo /run/socklab-vm/modprobe > /proc/sys/kernel/modprobe\n",
	      f);
	if (g->results) {
		/* Under /run, its place is on the guest's tmpfs. */
		fputs("$B mkdir -p $R", f);
		quote(f, g->results);
		fputs(" 2>/dev/null\n$B mount -t 9p -o " MOUNT9P " results $R",
		      f);
		quote(f, g->results);
		fputs(" || fail mount the results folder\n", f);
	}
	fputs("$B mount --move /proc $R/proc\n"
	      "$B mount --move /sys $R/sys\n"
	      "$B mount --move /dev $R/dev\n"
	      "$B mount -t tracefs tracefs $R/sys/kernel/tracing ||"
	      " fail mount tracefs\n"
	      "$B mkdir -p $R/dev/pts $R/dev/shm\n"
	      "$B mount -t devpts devpts $R/dev/pts\n"
	      "$B mount -t tmpfs -o mode=1777 tmpfs $R/dev/shm\n"
	      "$B cp $B /stage2 $R/run/socklab-vm/ || fail copy stage2\n"
	      "exec $B switch_root $R /run/socklab-vm/busybox sh "
	      "/run/socklab-vm/stage2\n",
	      f);
}

/* The second stage, in the new root: modules, ports, socklab. */
static void write_stage2(FILE *f, const struct sl_vm_guest *g)
{
	fputs("# socklab vm: the guest's second stage (lib/vm_initramfs.c)\n"
	      "B=/run/socklab-vm/busybox\n"
	      "export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root"
	      " TERM=dumb TMPDIR=/run/socklab-vm/tmp " SL_VM_ENV "=",
	      f);
	quote(f, g->accel);
	if (g->pace_ref_ns > 0)
		fprintf(f, " " SL_PACE_REF_ENV "=%lld", g->pace_ref_ns);
	fputs("\nfail() { $B echo \"socklab-vm: failed: $*\"; "
	      "$B reboot -f; }\n"
	      "$B echo \"socklab-vm: root $($B cut -d' ' -f1 /proc/uptime)\"\n"
	      "$B ip link set lo up || fail ip link set lo up\n"
	      "/run/socklab-vm/modprobe -a -q",
	      f);
	for (size_t i = 0; i < sizeof(run_modules) / sizeof(run_modules[0]);
	     i++)
		fprintf(f, " %s", run_modules[i]);
	/* One modprobe for all: each start of it costs a second under TCG,
	 * read over 9p.  A module this kernel lacks is not fatal: doctor
	 * says what is missing, as it would on a host. */
	fputs(" || $B echo \"socklab-vm: some modules did not load\"\n"
	      "$B stty -F /dev/ttyS1 raw -echo || fail stty ttyS1\n"
	      "$B stty -F /dev/ttyS2 raw -echo || fail stty ttyS2\n"
	      "$B echo \"" SL_VM_READY_LINE
	      " $($B cut -d' ' -f1 /proc/uptime)\"\n"
	      "O=/dev/ttyS1 E=/dev/ttyS2\n",
	      f);
	/* A port that stands for a pipe or a file on the host is fed
	 * through a FIFO, which is no terminal to socklab either. */
	if (!g->out_tty)
		fputs("O=/run/socklab-vm/out; $B mkfifo $O ||"
		      " fail mkfifo\n$B cat $O >/dev/ttyS1 &\n",
		      f);
	if (!g->err_tty)
		fputs("E=/run/socklab-vm/err; $B mkfifo $E ||"
		      " fail mkfifo\n$B cat $E >/dev/ttyS2 &\n",
		      f);
	fputs("cd ", f);
	quote(f, g->cwd);
	fputs(" || fail cd\n", f);
	for (int i = 0; g->argv[i]; i++) {
		quote(f, g->argv[i]);
		fputc(' ', f);
	}
	fputs("</dev/null >$O 2>$E\n"
	      "st=$?\n"
	      "wait\n"
	      "$B sync\n"
	      "$B echo \"" SL_VM_EXIT_LINE "$st\"\n"
	      "$B reboot -f\n",
	      f);
}

static int add_text(struct sl_cpio *c, const char *name, unsigned mode,
		    void (*fn)(FILE *, const struct sl_vm_guest *,
			       char (*)[256], int),
		    const struct sl_vm_guest *g, char (*mods)[256], int nmods,
		    struct sl_err *e)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	int rc;

	if (!m)
		return sl_errf(e, errno, "initramfs: %s", name);
	fn(m, g, mods, nmods);
	if (fclose(m) != 0) {
		free(buf);
		return sl_errf(e, ENOMEM, "initramfs: %s", name);
	}
	rc = sl_cpio_add(c, name, mode, buf, len, e);
	free(buf);
	return rc;
}

static void stage1(FILE *f, const struct sl_vm_guest *g, char (*mods)[256],
		   int n)
{
	write_stage1(f, g, mods, n);
}

static void stage2(FILE *f, const struct sl_vm_guest *g, char (*mods)[256],
		   int n)
{
	(void)mods;
	(void)n;
	write_stage2(f, g);
}

int sl_vm_initramfs(const char *path, const struct sl_vm_guest *g,
		    struct sl_err *e)
{
	static const char *const dirs[] = { "bin", "proc", "sys",
					    "dev", "m",	   "newroot" };
	char mods[NBOOT_MAX][256];
	struct sl_cpio c = { .ino = 1 };
	int n, rc, fd;

	n = sl_vm_modules_closure(g->kernel->modules, boot_modules,
				  sizeof(boot_modules) /
					  sizeof(boot_modules[0]),
				  mods, NBOOT_MAX, e);
	if (n < 0)
		return n;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return sl_errf(e, errno, "create %s", path);
	c.f = fdopen(fd, "w");
	if (!c.f) {
		close(fd);
		return sl_errf(e, errno, "create %s", path);
	}
	rc = 0;
	for (size_t i = 0; rc == 0 && i < sizeof(dirs) / sizeof(dirs[0]); i++)
		rc = sl_cpio_add(&c, dirs[i], S_IFDIR | 0755, NULL, 0, e);
	/* The kernel opens /dev/console before it runs /init. */
	if (rc == 0)
		rc = entry(&c, "dev/console", S_IFCHR | 0600, 5, 1, NULL, 0, e);
	if (rc == 0)
		rc = sl_cpio_add_file(&c, "bin/busybox", S_IFREG | 0755,
				      g->busybox, e);
	for (int i = 0; rc == 0 && i < n; i++) {
		char src[PATH_MAX], dst[300];
		const char *b = strrchr(mods[i], '/') ?
					strrchr(mods[i], '/') + 1 :
					mods[i];

		snprintf(src, sizeof(src), "%s/%s", g->kernel->modules,
			 mods[i]);
		snprintf(dst, sizeof(dst), "m/%s", b);
		rc = sl_cpio_add_file(&c, dst, S_IFREG | 0644, src, e);
	}
	if (rc == 0)
		rc = add_text(&c, "init", S_IFREG | 0755, stage1, g, mods, n,
			      e);
	if (rc == 0)
		rc = add_text(&c, "stage2", S_IFREG | 0644, stage2, g, mods, n,
			      e);
	if (rc == 0)
		rc = sl_cpio_finish(&c, e);
	if (fclose(c.f) != 0 && rc == 0)
		rc = sl_errf(e, errno, "write %s", path);
	if (rc < 0)
		unlink(path);
	return rc;
}
