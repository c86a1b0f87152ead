/* resultdir.c: results written relative to folders held open (resultdir.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "resultdir.h"

/* Deeper than any run folder (base/run/experiment/variant): a bound on the
 * recursion of sl_resultdir_hand_over(), whatever is put in the tree. */
#define HAND_OVER_DEPTH 8

static int parse_id(const char *s, unsigned long *v)
{
	char *end;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	*v = strtoul(s, &end, 10);
	if (errno || *end || *v >= (unsigned long)INT_MAX)
		return -EINVAL;
	return 0;
}

int sl_resultdir_owner(uid_t *uid, gid_t *gid)
{
	unsigned long u, g;

	*uid = geteuid();
	*gid = getegid();
	if (*uid != 0 || parse_id(getenv("SUDO_UID"), &u) ||
	    parse_id(getenv("SUDO_GID"), &g))
		return 0;
	*uid = (uid_t)u;
	*gid = (gid_t)g;
	return 1;
}

int sl_resultdir_give(int fd, const char *name)
{
	uid_t uid;
	gid_t gid;
	int ret;

	if (!sl_resultdir_owner(&uid, &gid))
		return 0;
	if (name)
		ret = fchownat(fd, name, uid, gid, AT_SYMLINK_NOFOLLOW);
	else
		ret = fchown(fd, uid, gid);
	return ret < 0 ? -errno : 0;
}

static int open_dir(int at, const char *name, int follow)
{
	int fd = openat(at, name,
			O_RDONLY | O_DIRECTORY | O_CLOEXEC |
				(follow ? 0 : O_NOFOLLOW));

	return fd < 0 ? -errno : fd;
}

/* One component of sl_resultdir_open()'s path: opened, or created first
 * when it is missing (then handed to the owner). */
static int open_or_make(int at, const char *name, int follow)
{
	int fd = open_dir(at, name, follow), made = 0, ret;
	struct stat st;

	/* O_DIRECTORY wins over O_NOFOLLOW: a link says ENOTDIR. */
	if (fd == -ENOTDIR && !follow &&
	    !fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) && S_ISLNK(st.st_mode))
		return -ELOOP;

	/* Only the results folder itself is created: a folder above it that
	 * is missing is a typo more often than a wish (mkdir, not mkdir -p). */
	if (fd == -ENOENT && !follow) {
		if (mkdirat(at, name, 0700) == 0)
			made = 1;
		else if (errno != EEXIST)
			return -errno;
		fd = open_dir(at, name, follow);
	}
	if (fd >= 0 && made && (ret = sl_resultdir_give(fd, NULL)) < 0) {
		close(fd);
		return ret;
	}
	return fd;
}

/* The results folder must be one that only we, or the user we write for,
 * can change: anyone else could swap what is in it. */
static int check_owner(int fd, const char *path, struct sl_err *e)
{
	struct stat st;
	uid_t uid;
	gid_t gid;

	if (fstat(fd, &st) < 0)
		return sl_errf(e, errno,
			       "cannot write results folder '%s': "
			       "stat",
			       path);
	sl_resultdir_owner(&uid, &gid);
	if (st.st_uid != 0 && st.st_uid != geteuid() && st.st_uid != uid) {
		sl_errf(e, 0,
			"cannot write results folder '%s': it belongs "
			"to uid %u, not to root or to the user who ran sudo, "
			"who could swap what root writes there; choose another "
			"with --results",
			path, (unsigned)st.st_uid);
		return -EPERM;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		sl_errf(e, 0,
			"cannot write results folder '%s': others can "
			"write to it (mode %04o), and could swap what root "
			"writes there; make it 0755 or choose another with "
			"--results",
			path, (unsigned)(st.st_mode & 07777));
		return -EPERM;
	}
	return 0;
}

int sl_resultdir_open(const char *path, struct sl_err *e)
{
	char *copy = strdup(path), *s, *next;
	int at, fd, ret, missing_above = 0;

	if (!copy)
		return sl_errf(e, ENOMEM, "cannot write results folder '%s'",
			       path);
	at = open_dir(AT_FDCWD, *copy == '/' ? "/" : ".", 1);
	/* The folders on the way are the user's choice and may be links;
	 * only the results folder itself must not be one. */
	for (s = copy; at >= 0 && s; s = next) {
		next = strchr(s, '/');
		if (next)
			*next++ = '\0';
		while (next && *next == '/')
			next++;
		if (next && !*next)
			next = NULL;
		if (!*s)
			continue;
		fd = open_or_make(at, s, next != NULL);
		missing_above = fd == -ENOENT && next;
		close(at);
		at = fd;
	}
	free(copy);
	if (at == -ELOOP) {
		sl_errf(e, 0,
			"cannot write results folder '%s': it is a "
			"symbolic link, which others could point anywhere; give "
			"the folder itself",
			path);
		return -ELOOP;
	}
	if (missing_above) {
		sl_errf(e, 0,
			"cannot write results folder '%s': a folder above it "
			"does not exist (only the last one is created)",
			path);
		return -ENOENT;
	}
	if (at < 0)
		return sl_errf(e, -at, "cannot write results folder '%s'",
			       path);
	ret = check_owner(at, path, e);
	if (ret < 0) {
		close(at);
		return ret;
	}
	return at;
}

int sl_resultdir_mkdir(int at, const char *name)
{
	if (mkdirat(at, name, 0700) < 0)
		return -errno;
	return open_dir(at, name, 0);
}

int sl_resultdir_create(int at, const char *name)
{
	int fd = openat(at, name,
			O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			0600),
	    ret;

	if (fd < 0)
		return -errno;
	ret = sl_resultdir_give(fd, NULL);
	if (ret < 0) {
		close(fd);
		unlinkat(at, name, 0);
		return ret;
	}
	return fd;
}

FILE *sl_resultdir_fopen(int at, const char *name)
{
	int fd = sl_resultdir_create(at, name);
	FILE *f;

	if (fd < 0) {
		errno = -fd;
		return NULL;
	}
	f = fdopen(fd, "w");
	if (!f)
		close(fd);
	return f;
}

int sl_resultdir_read(int at, const char *name)
{
	struct open_how how = {
		.flags = O_RDONLY | O_CLOEXEC,
		.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH,
	};
	long fd = syscall(SYS_openat2, at, name, &how, sizeof(how));

	return fd < 0 ? -errno : (int)fd;
}

static int hand_over_tree(int fd, int depth)
{
	int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ret = 0, r;
	struct dirent *de;
	DIR *d;

	d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return -errno;
	}
	while ((de = readdir(d))) {
		int sub;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		sub = depth < HAND_OVER_DEPTH ? open_dir(fd, de->d_name, 0) :
						-ENOTDIR;
		if (sub >= 0) {
			r = hand_over_tree(sub, depth + 1);
			close(sub);
		} else {
			r = sl_resultdir_give(fd, de->d_name);
		}
		if (r < 0 && !ret)
			ret = r;
	}
	closedir(d);
	r = sl_resultdir_give(fd, NULL);
	return ret ? ret : r;
}

int sl_resultdir_hand_over(int fd)
{
	uid_t uid;
	gid_t gid;

	if (!sl_resultdir_owner(&uid, &gid))
		return 0;
	return hand_over_tree(fd, 0);
}
