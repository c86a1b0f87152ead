/* slot.c: run slots and their lock files (slot.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/file.h>
#include <sys/stat.h>

#include "err.h"
#include "slot.h"

static void lock_path(char *buf, size_t n, int slot)
{
	snprintf(buf, n, SL_RUN_DIR "/slot-%d.lock", slot);
}

static void kept_path(char *buf, size_t n, int slot)
{
	snprintf(buf, n, SL_RUN_DIR "/slot-%d.kept", slot);
}

/* The slot of a file named exactly "slot-S.<ext>", S as "%d" spells it
 * (so "slot-07.lock" is nobody's), or -1. */
static int slot_of_file(const char *name, const char *ext)
{
	char want[64];
	int slot;

	if (sscanf(name, "slot-%d.", &slot) != 1 || slot < 0 ||
	    slot >= SL_SLOTS)
		return -1;
	snprintf(want, sizeof(want), "slot-%d.%s", slot, ext);
	return strcmp(name, want) == 0 ? slot : -1;
}

int sl_slot_dir(struct sl_err *e)
{
	if (mkdir(SL_RUN_DIR, 0755) < 0 && errno != EEXIST)
		return sl_errf(e, errno, "mkdir " SL_RUN_DIR);
	return 0;
}

/* Takes the slot's lock without waiting, opening the lock file with
 * flags (O_CREAT or not).  Returns the locked fd, -EAGAIN when a live
 * process holds it, or another -errno.
 *
 * The special problem of lock files that get unlinked: between our open()
 * and our flock() the holder may unlink the file and let go, and we would
 * then hold a lock on an inode that no longer has the name, while the next
 * process creates a fresh file under that name and locks that.  So after
 * locking, the name must still lead to the inode we locked; if not, try
 * again. */
static int lock_slot(int slot, int flags)
{
	char path[64];
	struct stat fst, pst;
	int fd;

	lock_path(path, sizeof(path), slot);
	for (;;) {
		fd = open(path, O_RDONLY | O_CLOEXEC | flags, 0644);
		if (fd < 0)
			return -errno;
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			int err = errno == EWOULDBLOCK ? EAGAIN : errno;

			close(fd);
			return -err;
		}
		if (fstat(fd, &fst) == 0 && stat(path, &pst) == 0 &&
		    fst.st_dev == pst.st_dev && fst.st_ino == pst.st_ino)
			return fd;
		close(fd);
		/* Without O_CREAT, a name that went away means the run
		 * ended and took everything with it. */
		if (!(flags & O_CREAT) && access(path, F_OK) < 0)
			return -ENOENT;
	}
}

int sl_slot_lock_existing(int slot)
{
	return lock_slot(slot, 0);
}

/* The search starts at a different slot for every claim (process id plus
 * a counter), so concurrent processes rarely try the same locks and a
 * slot just given back is not reused at once: a dying namespace's late
 * trace events then cannot be mistaken for the next run's, which has
 * other addresses. */
int sl_slot_claim(int *slot, struct sl_err *e)
{
	static unsigned int claims;
	unsigned int start = (unsigned int)getpid() +
			     __atomic_fetch_add(&claims, 1, __ATOMIC_RELAXED);

	for (int k = 0; k < SL_SLOTS; k++) {
		int s = (int)((start + (unsigned int)k) % SL_SLOTS);
		int fd;

		/* A kept run's namespaces stay until `socklab clean`. */
		if (sl_slot_is_kept(s))
			continue;
		fd = lock_slot(s, O_CREAT);
		if (fd == -EAGAIN)
			continue;
		if (fd < 0)
			return sl_errf(e, -fd,
				       "lock " SL_RUN_DIR "/slot-%d.lock", s);
		*slot = s;
		return fd;
	}
	return sl_errf(e, EBUSY,
		       "claim a slot: all %d in " SL_RUN_DIR " are held",
		       SL_SLOTS);
}

void sl_slot_release(int slot, int fd)
{
	char path[64];

	if (fd < 0)
		return;
	lock_path(path, sizeof(path), slot);
	unlink(path);
	close(fd);
}

int sl_slot_is_kept(int slot)
{
	char path[64];

	kept_path(path, sizeof(path), slot);
	return access(path, F_OK) == 0;
}

int sl_slot_keep(int slot, const char *owner, struct sl_err *e)
{
	size_t len = strlen(owner);
	char path[64];
	int fd, ok;

	kept_path(path, sizeof(path), slot);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return sl_errf(e, errno, "mark slot %d as kept (%s)", slot,
			       path);
	ok = write(fd, owner, len) == (ssize_t)len;
	if (!ok) {
		int err = errno ? errno : EIO;

		close(fd);
		return sl_errf(e, err, "name the owner of kept slot %d (%s)",
			       slot, path);
	}
	close(fd);
	return 0;
}

int sl_slot_kept_owner(int slot, char *buf, size_t n)
{
	char path[64];
	ssize_t len;
	int fd;

	kept_path(path, sizeof(path), slot);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	len = read(fd, buf, n);
	close(fd);
	if (len < 0)
		return -errno;
	if ((size_t)len >= n)
		return -ENAMETOOLONG;
	buf[len] = '\0';
	return (int)len;
}

int sl_slot_unkeep(int slot)
{
	char path[64];

	kept_path(path, sizeof(path), slot);
	return unlink(path) == 0 ? 0 : -errno;
}

/* Calls fn for every slot with a file named slot-S.<ext>. */
static int each_file(const char *ext, int (*fn)(int slot, void *arg), void *arg)
{
	struct dirent *de;
	int ret = 0;
	DIR *d = opendir(SL_RUN_DIR);

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while (ret == 0 && (de = readdir(d))) {
		int slot = slot_of_file(de->d_name, ext);

		if (slot >= 0)
			ret = fn(slot, arg);
	}
	closedir(d);
	return ret;
}

int sl_slot_each_lockfile(int (*fn)(int slot, void *arg), void *arg)
{
	return each_file("lock", fn, arg);
}

static int unkeep(int slot, void *arg)
{
	int *removed = arg;
	char path[64];

	kept_path(path, sizeof(path), slot);
	if (unlink(path) == 0)
		(*removed)++;
	return 0;
}

int sl_slot_each_kept(int (*fn)(int slot, void *arg), void *arg)
{
	return each_file("kept", fn, arg);
}

int sl_slot_unkeep_all(void)
{
	int removed = 0;

	each_file("kept", unkeep, &removed);
	return removed;
}
