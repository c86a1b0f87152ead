/* test_vm.c: the parts of `socklab vm` that need no guest (lib/vm_*.c):
 * the newc archive the kernel unpacks, the order in which the initramfs
 * loads modules, the guest's /init quoting socklab's arguments, and the
 * accelerator's rule where /dev/kvm is missing or is no KVM.  The guest
 * itself: tests/integration/vm_run.sh. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "err.h"
#include "vm.h"

/* One entry of a newc archive, as the kernel's unpacker reads it. */
struct ent {
	char name[256];
	unsigned mode, rmaj, rmin;
	const char *data;
	size_t len;
};

static unsigned long hex8(const char *p)
{
	char b[9];

	memcpy(b, p, 8);
	b[8] = '\0';
	return strtoul(b, NULL, 16);
}

/* Reads entries from buf until TRAILER!!!; the number read, or -1 when
 * the archive is malformed (magic, padding, a size past the end). */
static int parse(const char *buf, size_t len, struct ent *e, int max)
{
	size_t off = 0;
	int n = 0;

	while (n < max) {
		size_t nlen, dlen;

		if (off + 110 > len || memcmp(buf + off, "070701", 6))
			return -1;
		e[n].mode = hex8(buf + off + 14);
		dlen = hex8(buf + off + 54);
		e[n].rmaj = hex8(buf + off + 78);
		e[n].rmin = hex8(buf + off + 86);
		nlen = hex8(buf + off + 94);
		if (nlen == 0 || nlen > sizeof(e[n].name) ||
		    off + 110 + nlen > len || buf[off + 110 + nlen - 1])
			return -1;
		memcpy(e[n].name, buf + off + 110, nlen);
		off = (off + 110 + nlen + 3) & ~(size_t)3;
		if (off + dlen > len)
			return -1;
		e[n].data = buf + off;
		e[n].len = dlen;
		off = (off + dlen + 3) & ~(size_t)3;
		if (!strcmp(e[n].name, "TRAILER!!!"))
			return off == len ? n : -1;
		n++;
	}
	return -1;
}

static void test_cpio(void **state)
{
	struct sl_cpio c = { .ino = 1 };
	struct sl_err e;
	struct ent ent[8];
	char *buf = NULL;
	size_t len = 0;

	(void)state;
	c.f = open_memstream(&buf, &len);
	assert_non_null(c.f);
	assert_int_equal(sl_cpio_add(&c, "bin", 040755, NULL, 0, &e), 0);
	/* Lengths that leave 1, 2 and 3 bytes of padding. */
	assert_int_equal(sl_cpio_add(&c, "bin/a", 0100644, "x", 1, &e), 0);
	assert_int_equal(sl_cpio_add(&c, "bin/ab", 0100755, "xyzuv", 5, &e), 0);
	assert_int_equal(
		sl_cpio_add(&c, "init", 0100755, "#!/bin/sh\n", 10, &e), 0);
	assert_int_equal(sl_cpio_finish(&c, &e), 0);
	fclose(c.f);
	assert_int_equal(len % 4, 0);
	assert_int_equal(parse(buf, len, ent, 8), 4);
	assert_string_equal(ent[0].name, "bin");
	assert_int_equal(ent[0].mode, 040755);
	assert_string_equal(ent[2].name, "bin/ab");
	assert_int_equal(ent[2].len, 5);
	assert_memory_equal(ent[2].data, "xyzuv", 5);
	assert_string_equal(ent[3].name, "init");
	assert_memory_equal(ent[3].data, "#!/bin/sh\n", 10);
	/* The checker itself rejects a damaged archive. */
	buf[110 + 4] = 'Z';
	assert_int_equal(parse(buf + 1, len - 1, ent, 8), -1);
	free(buf);
}

struct fake {
	char dir[64];
	char moddir[128];
};

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* A module tree: modules.dep as depmod writes it, and the files. */
static const char *const fake_mods[] = {
	"kernel/fs/9p/9p.ko",
	"kernel/net/9p/9pnet.ko",
	"kernel/fs/netfs/netfs.ko",
	"kernel/fs/fscache/fscache.ko",
	"kernel/drivers/virtio/virtio_pci.ko",
	"kernel/drivers/virtio/virtio.ko",
	"kernel/drivers/virtio/virtio_ring.ko",
	"kernel/net/9p/9pnet_virtio.ko",
	"kernel/x/foo-bar.ko",
};

static int fake_setup(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));
	char p[256];

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/socklab-test-vm-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->moddir, sizeof(f->moddir), "%s/6.1.0-test", f->dir);
	mkdir(f->moddir, 0755);
	snprintf(p, sizeof(p), "%s/modules.dep", f->moddir);
	put(p, "kernel/fs/9p/9p.ko: kernel/net/9p/9pnet.ko "
	       "kernel/fs/fscache/fscache.ko kernel/fs/netfs/netfs.ko\n"
	       "kernel/net/9p/9pnet.ko:\n"
	       "kernel/fs/netfs/netfs.ko:\n"
	       "kernel/fs/fscache/fscache.ko: kernel/fs/netfs/netfs.ko\n"
	       "kernel/drivers/virtio/virtio_pci.ko: "
	       "kernel/drivers/virtio/virtio.ko "
	       "kernel/drivers/virtio/virtio_ring.ko\n"
	       "kernel/drivers/virtio/virtio.ko: "
	       "kernel/drivers/virtio/virtio_ring.ko\n"
	       "kernel/drivers/virtio/virtio_ring.ko:\n"
	       "kernel/net/9p/9pnet_virtio.ko: kernel/net/9p/9pnet.ko "
	       "kernel/drivers/virtio/virtio.ko\n"
	       "kernel/x/foo-bar.ko:\n");
	for (size_t i = 0; i < sizeof(fake_mods) / sizeof(fake_mods[0]); i++) {
		char cmd[512];

		snprintf(p, sizeof(p), "%s/%s", f->moddir, fake_mods[i]);
		snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", p);
		if (system(cmd) != 0)
			return -1;
		put(p, fake_mods[i]);
	}
	*state = f;
	return 0;
}

static int fake_teardown(void **state)
{
	struct fake *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static int pos(char (*out)[256], int n, const char *path)
{
	int at = -1;

	for (int i = 0; i < n; i++)
		if (!strcmp(out[i], path)) {
			assert_int_equal(at, -1); /* listed once */
			at = i;
		}
	return at;
}

static void test_closure(void **state)
{
	struct fake *f = *state;
	const char *want[] = { "virtio_pci", "9pnet_virtio", "9p", "foo_bar",
			       "not_there" };
	char out[16][256];
	struct sl_err e;
	int n;

	n = sl_vm_modules_closure(f->moddir, want, 5, out, 16, &e);
	assert_int_equal(n, 9);
	/* Each after what it depends on, transitively. */
	assert_true(pos(out, n, "kernel/drivers/virtio/virtio_ring.ko") <
		    pos(out, n, "kernel/drivers/virtio/virtio.ko"));
	assert_true(pos(out, n, "kernel/drivers/virtio/virtio.ko") <
		    pos(out, n, "kernel/drivers/virtio/virtio_pci.ko"));
	assert_true(pos(out, n, "kernel/net/9p/9pnet.ko") <
		    pos(out, n, "kernel/net/9p/9pnet_virtio.ko"));
	assert_true(pos(out, n, "kernel/fs/netfs/netfs.ko") <
		    pos(out, n, "kernel/fs/fscache/fscache.ko"));
	assert_true(pos(out, n, "kernel/fs/fscache/fscache.ko") <
		    pos(out, n, "kernel/fs/9p/9p.ko"));
	/* '-' and '_' alike, as the kernel has it. */
	assert_true(pos(out, n, "kernel/x/foo-bar.ko") >= 0);
	/* Too small an array is an error, not a cut list. */
	assert_int_equal(sl_vm_modules_closure(f->moddir, want, 5, out, 4, &e),
			 -ENOSPC);
}

/* The guest's second stage, from the archive sl_vm_initramfs() wrote. */
static char *stage2_of(const char *path, char **buf)
{
	static struct ent ent[64];
	FILE *f = fopen(path, "r");
	size_t len;
	int n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	*buf = malloc(len);
	assert_non_null(*buf);
	assert_int_equal(fread(*buf, 1, len, f), len);
	fclose(f);
	n = parse(*buf, len, ent, 64);
	assert_true(n > 0);
	for (int i = 0; i < n; i++) {
		if (!strcmp(ent[i].name, "dev/console")) {
			assert_int_equal(ent[i].rmaj, 5);
			assert_int_equal(ent[i].rmin, 1);
		}
		if (!strcmp(ent[i].name, "stage2"))
			return strndup(ent[i].data, ent[i].len);
	}
	fail_msg("no stage2 in the initramfs");
	return NULL;
}

/* socklab's arguments reach it word for word, whatever they hold: the
 * command line of the second stage, run by sh with printf for socklab,
 * prints them back. */
static void test_initramfs_quoting(void **state)
{
	struct fake *f = *state;
	struct sl_vm_kernel k = { .release = "6.1.0-test" };
	const char *argv[] = { "/usr/bin/printf",
			       "<%s>",
			       "run",
			       "it's $HOME",
			       "a\"b`c`",
			       "--",
			       "",
			       "x;y|z",
			       NULL };
	struct sl_vm_guest g = { .kernel = &k,
				 .busybox = "/bin/sh",
				 .results = NULL,
				 .cwd = "/",
				 .accel = "tcg",
				 .argv = argv };
	char path[128], *buf, *s2, *line, cmd[2048];
	struct sl_err e;
	FILE *p;
	char got[512] = "";

	(void)state;
	snprintf(k.modules, sizeof(k.modules), "%s", f->moddir);
	snprintf(path, sizeof(path), "%s/initramfs", f->dir);
	assert_int_equal(sl_vm_initramfs(path, &g, &e), 0);
	s2 = stage2_of(path, &buf);
	assert_non_null(strstr(s2, SL_VM_ENV "='tcg'"));
	line = strstr(s2, "'/usr/bin/printf'");
	assert_non_null(line);
	assert_non_null(strstr(line, "</dev/null"));
	*strstr(line, "</dev/null") = '\0'; /* up to the redirections */
	snprintf(cmd, sizeof(cmd), "%s", line);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(got, sizeof(got), p));
	pclose(p);
	assert_string_equal(got, "<run><it's $HOME><a\"b`c`><--><><x;y|z>");
	/* A second archive over the first is refused, not mixed in. */
	assert_int_equal(sl_vm_initramfs(path, &g, &e), -EEXIST);
	free(s2);
	free(buf);
}

static void test_accel(void **state)
{
	char why[256];

	(void)state;
	assert_string_equal(sl_vm_accel("/nonexistent/kvm", "/sys/module", why,
					sizeof(why)),
			    "tcg");
	assert_non_null(strstr(why, "/nonexistent/kvm"));
	/* A device that opens but is no KVM. */
	assert_string_equal(sl_vm_accel("/dev/null", "/sys/module", why,
					sizeof(why)),
			    "tcg");
	assert_non_null(strstr(why, "no KVM API"));

	unsetenv(SL_VM_ENV);
	assert_null(sl_vm_guest_accel());
	setenv(SL_VM_ENV, "tcg", 1);
	assert_string_equal(sl_vm_guest_accel(), "tcg");
	setenv(SL_VM_ENV, "kvm", 1);
	assert_string_equal(sl_vm_guest_accel(), "kvm");
	setenv(SL_VM_ENV, "tcg; rm -rf /", 1);
	assert_null(sl_vm_guest_accel());
	unsetenv(SL_VM_ENV);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpio),
		cmocka_unit_test_setup_teardown(test_closure, fake_setup,
						fake_teardown),
		cmocka_unit_test_setup_teardown(test_initramfs_quoting,
						fake_setup, fake_teardown),
		cmocka_unit_test(test_accel),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
