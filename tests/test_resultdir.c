/* test_resultdir.c: results are created relative to folders held open
 * (lib/resultdir.c): nothing that exists already is written through, no
 * symbolic link is followed below the results folder, a results folder that
 * is a link or that others can write to is refused, and under sudo what is
 * created is handed to the invoking user (that part needs root). */
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

#include "resultdir.h"

struct scratch {
	char dir[64];
	int fd;
};

static int setup(void **state)
{
	struct scratch *s = calloc(1, sizeof(*s));

	if (!s)
		return -1;
	strcpy(s->dir, "/tmp/socklab-test-resultdir-XXXXXX");
	if (!mkdtemp(s->dir))
		return -1;
	s->fd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	*state = s;
	return s->fd < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	struct scratch *s = *state;
	char cmd[128];

	close(s->fd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
	if (system(cmd) != 0)
		print_message("could not remove %s\n", s->dir);
	free(s);
	return 0;
}

static void test_new_names_only(void **state)
{
	struct scratch *s = *state;
	struct stat st;
	int d, f;

	unsetenv("SUDO_UID");
	d = sl_resultdir_mkdir(s->fd, "run");
	assert_true(d >= 0);
	assert_int_equal(fstat(d, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	/* A folder or file that is there already is not ours to write in. */
	assert_int_equal(sl_resultdir_mkdir(s->fd, "run"), -EEXIST);
	f = sl_resultdir_create(d, "verdict.json");
	assert_true(f >= 0);
	assert_int_equal(fstat(f, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	close(f);
	assert_int_equal(sl_resultdir_create(d, "verdict.json"), -EEXIST);
	/* A planted link is never followed, whatever it points to. */
	assert_int_equal(symlinkat("/etc/passwd", d, "timeline.txt"), 0);
	assert_int_equal(sl_resultdir_create(d, "timeline.txt"), -EEXIST);
	assert_null(sl_resultdir_fopen(d, "timeline.txt"));
	assert_int_equal(errno, EEXIST);
	assert_int_equal(symlinkat("/tmp", d, "variant"), 0);
	assert_int_equal(sl_resultdir_mkdir(d, "variant"), -EEXIST);
	close(d);
}

static void test_reads_stay_below(void **state)
{
	struct scratch *s = *state;
	int d = sl_resultdir_mkdir(s->fd, "exp"), v, f;

	assert_true(d >= 0);
	v = sl_resultdir_mkdir(d, "one");
	assert_true(v >= 0);
	f = sl_resultdir_create(v, "timeline.txt");
	assert_true(f >= 0);
	close(f);
	f = sl_resultdir_read(d, "one/timeline.txt");
	assert_true(f >= 0);
	close(f);
	/* Through a link, or out of the folder: refused. */
	assert_int_equal(symlinkat("one", d, "two"), 0);
	assert_true(sl_resultdir_read(d, "two/timeline.txt") < 0);
	assert_true(sl_resultdir_read(d, "../exp/one/timeline.txt") < 0);
	assert_true(sl_resultdir_read(d, "/etc/passwd") < 0);
	close(v);
	close(d);
}

static void test_results_folder(void **state)
{
	struct scratch *s = *state;
	struct sl_err e = { "" };
	char path[128], link[128];
	int fd;

	/* Only the last folder is created: a missing one above it is
	 * refused with the reason, and nothing is made on the way. */
	snprintf(path, sizeof(path), "%s/a/b/results", s->dir);
	assert_int_equal(sl_resultdir_open(path, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "a folder above it does not exist"));
	snprintf(link, sizeof(link), "%s/a", s->dir);
	assert_int_equal(access(link, F_OK), -1);
	assert_int_equal(mkdir(link, 0700), 0);
	snprintf(link, sizeof(link), "%s/a/b", s->dir);
	assert_int_equal(mkdir(link, 0700), 0);
	fd = sl_resultdir_open(path, &e);
	assert_true(fd >= 0);
	close(fd);
	/* And opened again as it is. */
	fd = sl_resultdir_open(path, &e);
	assert_true(fd >= 0);
	close(fd);
	/* A link in its place is refused; links on the way are the
	 * user's choice. */
	snprintf(link, sizeof(link), "%s/linked", s->dir);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(sl_resultdir_open(link, &e), -ELOOP);
	assert_non_null(strstr(e.msg, "cannot write results folder"));
	snprintf(link, sizeof(link), "%s/alink", s->dir);
	assert_int_equal(symlink("a", link), 0);
	snprintf(link, sizeof(link), "%s/alink/b/results", s->dir);
	fd = sl_resultdir_open(link, &e);
	assert_true(fd >= 0);
	close(fd);
	/* A folder that others can write to is refused, and says why. */
	assert_int_equal(chmod(path, 0777), 0);
	assert_int_equal(sl_resultdir_open(path, &e), -EPERM);
	assert_non_null(strstr(e.msg, "others can write to it (mode 0777)"));
}

static void test_handed_under_sudo(void **state)
{
	struct scratch *s = *state;
	struct stat st;
	uid_t uid;
	gid_t gid;
	int d, v, f;

	if (geteuid() != 0) {
		print_message("skipped: handing results over needs root\n");
		skip();
	}
	setenv("SUDO_UID", "65534", 1);
	setenv("SUDO_GID", "65534", 1);
	assert_int_equal(sl_resultdir_owner(&uid, &gid), 1);
	assert_int_equal(uid, 65534);
	d = sl_resultdir_mkdir(s->fd, "sudo");
	v = sl_resultdir_mkdir(d, "variant");
	assert_true(d >= 0 && v >= 0);
	/* Files are the user's at once; folders once the run is over, so
	 * that no one else can create anything in them meanwhile. */
	f = sl_resultdir_create(v, "client-eth0.pcap");
	assert_true(f >= 0);
	assert_int_equal(fstat(f, &st), 0);
	assert_int_equal(st.st_uid, 65534);
	close(f);
	assert_int_equal(fstat(v, &st), 0);
	assert_int_equal(st.st_uid, 0);
	assert_int_equal(symlinkat("/etc/passwd", v, "planted"), 0);
	assert_int_equal(sl_resultdir_hand_over(d), 0);
	assert_int_equal(fstat(v, &st), 0);
	assert_int_equal(st.st_uid, 65534);
	assert_int_equal(fstat(d, &st), 0);
	assert_int_equal(st.st_gid, 65534);
	/* The link itself changed hands, not what it points to. */
	assert_int_equal(fstatat(v, "planted", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(st.st_uid, 65534);
	assert_int_equal(stat("/etc/passwd", &st), 0);
	assert_int_equal(st.st_uid, 0);
	/* Not under sudo: nothing to hand, and the process owns it all. */
	unsetenv("SUDO_UID");
	assert_int_equal(sl_resultdir_owner(&uid, &gid), 0);
	assert_int_equal(uid, geteuid());
	close(v);
	close(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_new_names_only, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_reads_stay_below, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_results_folder, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_handed_under_sudo, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
