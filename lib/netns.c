/* netns.c: named network namespaces (netns.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "err.h"
#include "netns.h"
#include "slot.h"

void sl_netns_path(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, SL_NETNS_DIR "/%s", name);
}

int sl_netns_exists(const char *name)
{
	char path[128];

	sl_netns_path(path, sizeof(path), name);
	return access(path, F_OK) == 0;
}

int sl_netns_del(const char *name)
{
	char path[128];

	sl_netns_path(path, sizeof(path), name);
	if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
		return -errno;
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

static int ensure_dir(const char *path, struct sl_err *e)
{
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return sl_errf(e, errno, "mkdir %s", path);
	return 0;
}

/* Makes /run/netns a shared mount, as ip/ipnetns.c does, so that a netns
 * unmounted here is unmounted in every mount namespace that copied it and
 * can actually be freed.  A plain directory cannot be made shared: it is
 * first bind-mounted on itself.  Two processes doing that at once would
 * stack two mounts, so the rare first-time path is serialised on a lock of
 * the run directory. */
int sl_netns_dir_ready(struct sl_err *e)
{
	int dirfd, ret;

	ret = ensure_dir(SL_NETNS_DIR, e);
	if (ret < 0)
		return ret;
	if (mount("", SL_NETNS_DIR, "none", MS_SHARED | MS_REC, NULL) == 0)
		return 0;
	if (errno != EINVAL)
		return sl_errf(e, errno, "mount --make-shared " SL_NETNS_DIR);

	dirfd = open(SL_RUN_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return sl_errf(e, errno, "open " SL_RUN_DIR);
	if (flock(dirfd, LOCK_EX) < 0) {
		ret = sl_errf(e, errno, "lock " SL_RUN_DIR);
		goto out;
	}
	/* Someone may have done it while we waited for the lock. */
	if (mount("", SL_NETNS_DIR, "none", MS_SHARED | MS_REC, NULL) == 0)
		goto out;
	if (errno != EINVAL) {
		ret = sl_errf(e, errno, "mount --make-shared " SL_NETNS_DIR);
		goto out;
	}
	if (mount(SL_NETNS_DIR, SL_NETNS_DIR, "none", MS_BIND | MS_REC, NULL) <
	    0) {
		ret = sl_errf(e, errno,
			      "mount --bind " SL_NETNS_DIR " " SL_NETNS_DIR);
		goto out;
	}
	if (mount("", SL_NETNS_DIR, "none", MS_SHARED | MS_REC, NULL) < 0)
		ret = sl_errf(e, errno, "mount --make-shared " SL_NETNS_DIR);
out:
	close(dirfd);
	return ret;
}

int sl_netns_sysctl_path(const char *key, char *path, size_t len)
{
	int i = snprintf(path, len, "/proc/sys/%s", key);

	if (i < 0 || (size_t)i >= len)
		return -ENAMETOOLONG;
	for (char *p = path + strlen("/proc/sys/"); *p; p++)
		if (*p == '.')
			*p = '/';
	return 0;
}

int sl_netns_write_sysctl(const char *key, const char *value)
{
	char path[256];
	size_t len = strlen(value);
	ssize_t n;
	int fd;

	if (sl_netns_sysctl_path(key, path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, value, len);
	if (n < 0) {
		int err = errno;

		close(fd);
		return -err;
	}
	if (close(fd) < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}
