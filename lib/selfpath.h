/* selfpath.h: where the running executable is, and the folders beside it.
 *
 * Found from /proc/self/exe, the executable's real path, so that an
 * installed tree can be moved, and a build tree too, and neither ever
 * looks into the other: no path is baked in.  socklab finds its
 * experiments and lab guides this way, and an installed experiment its
 * guide's recordings and source.  A folder found so is trusted as the
 * executable is, which whoever could change it could replace as well.
 */
#ifndef SL_SELFPATH_H
#define SL_SELFPATH_H

#include <stddef.h>

/* The folder of the running executable, whatever link or relative path it
 * was started by, into dir.  0 or -errno. */
int sl_exe_dir(char *dir, size_t n);

/* The folder rel (relative to sl_exe_dir()), its real path in dir.  0, or
 * -errno when it is no folder. */
int sl_beside_exe(const char *rel, char *dir, size_t n);

#endif
