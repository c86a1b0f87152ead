/* selfpath.c: where the running executable is (selfpath.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "selfpath.h"

int sl_exe_dir(char *dir, size_t n)
{
	char exe[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (len < 0)
		return -errno;
	exe[len] = '\0';
	slash = strrchr(exe, '/');
	if (slash)
		*slash = '\0';
	snprintf(dir, n, "%s", exe);
	return 0;
}

int sl_beside_exe(const char *rel, char *dir, size_t n)
{
	char exe[PATH_MAX], try[PATH_MAX + 256], real[PATH_MAX];
	struct stat st;
	int ret = sl_exe_dir(exe, sizeof(exe));

	if (ret < 0)
		return ret;
	snprintf(try, sizeof(try), "%s/%s", exe, rel);
	if (stat(try, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if (!realpath(try, real))
		return -errno;
	snprintf(dir, n, "%s", real);
	return 0;
}
