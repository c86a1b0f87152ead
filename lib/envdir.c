/* envdir.c: folders that the environment names, as root (envdir.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "envdir.h"
#include "err.h"

/* One component of the real path: root's, and writable by nobody else
 * (a sticky folder above the last one excepted). */
static int check_one(const char *var, const char *given, const char *path,
		     int last, struct sl_err *e)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return sl_errf(e, errno, "%s=%s: %s", var, given, path);
	/* The reason is the sentence: no strerror(EPERM) after it. */
	if (st.st_uid != 0) {
		sl_errf(e, 0,
			"%s=%s refused as root: %s is owned by uid %u, "
			"not root",
			var, given, path, (unsigned int)st.st_uid);
		return -EPERM;
	}
	if (!(st.st_mode & (S_IWGRP | S_IWOTH)) ||
	    (!last && S_ISDIR(st.st_mode) && (st.st_mode & S_ISVTX)))
		return 0;
	sl_errf(e, 0, "%s=%s refused as root: %s is writable by %s", var, given,
		path, (st.st_mode & S_IWOTH) ? "everyone" : "its group");
	return -EPERM;
}

/* Every prefix of real ("/", "/a", "/a/b"), real itself last. */
static int check_chain(const char *var, const char *given, const char *real,
		       struct sl_err *e)
{
	char path[PATH_MAX];
	size_t len = strlen(real);
	int ret = check_one(var, given, "/", len == 1, e);

	for (size_t i = 1; i <= len && ret == 0; i++) {
		if (real[i] != '/' && real[i] != '\0')
			continue;
		snprintf(path, sizeof(path), "%.*s", (int)i, real);
		ret = check_one(var, given, path, i == len, e);
	}
	return ret;
}

int sl_envdir_check(const char *var, const char *path, char *real, size_t n,
		    struct sl_err *e)
{
	char buf[PATH_MAX];
	struct stat st;
	int ret = 0;

	if (!realpath(path, buf))
		return sl_errf(e, errno, "%s=%s", var, path);
	if (stat(buf, &st) < 0)
		return sl_errf(e, errno, "%s=%s", var, path);
	if (!S_ISDIR(st.st_mode))
		return sl_errf(e, ENOTDIR, "%s=%s: not a folder", var, path);
	if (geteuid() == 0)
		ret = check_chain(var, path, buf, e);
	if (ret == 0 && real)
		snprintf(real, n, "%s", buf);
	return ret;
}

int sl_envdir_check_file(const char *var, const char *dir, const char *path,
			 struct sl_err *e)
{
	char buf[PATH_MAX];

	if (geteuid() != 0)
		return 0;
	if (!realpath(path, buf))
		return sl_errf(e, errno, "%s=%s: %s", var, dir, path);
	return check_chain(var, dir, buf, e);
}
