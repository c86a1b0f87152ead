/* resultdir.h: results written safely, relative to folders held open.
 *
 * The special problem of writing results as root: the results folder is
 * often the user's (./results in their checkout), and a user who can rename
 * a folder we are about to write into can put a symbolic link in its place,
 * so that root writes wherever the link points.  So a results folder is
 * resolved once, opened (O_DIRECTORY | O_NOFOLLOW) and checked; everything
 * below it is created relative to the descriptor (mkdirat, openat with
 * O_CREAT | O_EXCL | O_NOFOLLOW), never by re-resolving a path, and a name
 * that exists already is an error, not something to write through.  A
 * folder that another user owns or that others can write to is refused.
 *
 * Under sudo (SUDO_UID and SUDO_GID set, running as root) the results are
 * the invoking user's: what is created is handed to them, files as they are
 * created and folders once the run is over (sl_resultdir_hand_over()), so
 * that no one else can create anything in a folder while root writes in it.
 * Folders are 0700 and files 0600: the captures are nobody else's to read.
 */
#ifndef SL_RESULTDIR_H
#define SL_RESULTDIR_H

#include <stdio.h>
#include <sys/types.h>

#include "err.h"

/* Whom results are created for: under sudo the invoking user (returns 1),
 * otherwise the process itself (returns 0). */
int sl_resultdir_owner(uid_t *uid, gid_t *gid);

/* Opens the results folder path, creating what is missing of it (mode
 * 0700, handed to the owner above).  Its last component must not be a
 * symbolic link, and it must belong to root or to the owner above and be
 * writable by no one else.  Returns a descriptor (O_CLOEXEC) or -errno, with
 * the reason in e. */
int sl_resultdir_open(const char *path, struct sl_err *e);

/* Creates folder name in the folder at (mode 0700; an existing name is
 * EEXIST) and opens it.  Returns a descriptor (O_CLOEXEC) or -errno. */
int sl_resultdir_mkdir(int at, const char *name);

/* Creates file name in the folder at for writing (mode 0600, handed to the
 * owner; an existing name is EEXIST).  Returns a descriptor (O_CLOEXEC) or
 * -errno.  at may be AT_FDCWD for a process whose working folder is its
 * results folder. */
int sl_resultdir_create(int at, const char *name);

/* The same as a stream for writing; NULL with errno set. */
FILE *sl_resultdir_fopen(int at, const char *name);

/* Opens file name (a path below the folder at, no component of it a
 * symbolic link) for reading.  Returns a descriptor (O_CLOEXEC) or -errno. */
int sl_resultdir_read(int at, const char *name);

/* Gives fd (or name in the folder fd, when name is not NULL; a symbolic
 * link itself, never what it points to) to the owner above, when results
 * are handed to someone.  Returns 0 or -errno. */
int sl_resultdir_give(int fd, const char *name);

/* Hands the folder fd, and everything in it, to the owner above (nothing
 * to do when not under sudo).  Symbolic links are never followed.  Returns
 * 0 or the first -errno. */
int sl_resultdir_hand_over(int fd);

#endif
