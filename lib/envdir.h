/* envdir.h: folders that the environment names, honoured as root only when
 * only root can change them.
 *
 * A variable that names code to run (SOCKLAB_EXPERIMENTS_DIR: every
 * executable in it is started) or a place to write (SOCKLAB_TRACEFS) lets
 * whoever sets the environment of a root process (sudo -E, env_keep, a
 * root shell) choose what root runs or overwrites.  So as root such a
 * folder is honoured only when root owns it and only root can write it,
 * and every folder above it likewise: root's, and writable by nobody
 * else unless sticky, as /tmp is (in a sticky folder nobody else can
 * rename or remove what root owns).  Otherwise it is refused with the
 * reason.  Any other user's process has that user's rights only, and is
 * given any folder.
 */
#ifndef SL_ENVDIR_H
#define SL_ENVDIR_H

#include <stddef.h>

struct sl_err;

/* Checks path, which came from variable var, as above.  real (may be NULL)
 * gets the folder's real path, without symlinks: what was checked, and so
 * what the caller should use.  Returns 0, or -EPERM (or -errno) with the
 * reason in e: "SOCKLAB_EXPERIMENTS_DIR=/x refused as root: /x is owned
 * by uid 65534, not root". */
int sl_envdir_check(const char *var, const char *path, char *real, size_t n,
		    struct sl_err *e);

/* The same for an executable path found in dir, such a folder: the file
 * too must be root's and writable by nobody else, and so must the folders
 * above its real path (a symlink may lead elsewhere). */
int sl_envdir_check_file(const char *var, const char *dir, const char *path,
			 struct sl_err *e);

#endif
