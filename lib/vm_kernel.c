/* vm_kernel.c: the kernel a guest boots, from a Debian package or an image
 * and its modules folder (vm.h).
 *
 * A package is extracted once into the cache (dpkg-deb -x, then depmod,
 * since Debian leaves modules.dep to the package's postinst), into a fresh
 * folder renamed into place only when complete: a run killed halfway
 * leaves a folder no later run takes for a kernel, and two runs that
 * extract the same package at once both end with one whole copy.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "err.h"
#include "exec.h"
#include "vm.h"

extern char **environ;

/* Runs argv (a tool from SL_EXEC_PATH) in folder cwd (NULL: ours) with
 * its standard output into out (n bytes at most, NUL-terminated) and its
 * standard error into e's reason when it fails. */
static int run_capture(const char *const argv[], const char *cwd, char *out,
		       size_t n, struct sl_err *e)
{
	const char *tool = sl_exec_where(argv[0]);
	int po[2], pe[2], status;
	char err[256] = "";
	size_t got = 0, egot = 0;
	pid_t pid;

	if (!tool)
		return sl_errf(e, ENOENT, "%s: not in " SL_EXEC_PATH, argv[0]);
	if (pipe2(po, O_CLOEXEC) < 0)
		return sl_errf(e, errno, "pipe for %s", argv[0]);
	if (pipe2(pe, O_CLOEXEC) < 0) {
		close(po[0]);
		close(po[1]);
		return sl_errf(e, errno, "pipe for %s", argv[0]);
	}
	pid = fork();
	if (pid < 0) {
		int err2 = errno;

		close(po[0]);
		close(po[1]);
		close(pe[0]);
		close(pe[1]);
		return sl_errf(e, err2, "fork for %s", argv[0]);
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);

		if (devnull >= 0)
			dup2(devnull, STDIN_FILENO);
		dup2(po[1], STDOUT_FILENO);
		dup2(pe[1], STDERR_FILENO);
		if (cwd && chdir(cwd) < 0)
			_exit(126);
		setenv("PATH", SL_EXEC_PATH, 1);
		execv(tool, (char *const *)argv);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	/* Both pipes drained in turn: the tools here write little to
	 * standard error, and all of it before they exit. */
	for (;;) {
		ssize_t r = read(po[0], out + got, n - 1 - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
		if (got == n - 1) {
			char sink[512];

			while (read(po[0], sink, sizeof(sink)) > 0)
				;
			break;
		}
	}
	out[got] = '\0';
	for (;;) {
		ssize_t r = read(pe[0], err + egot, sizeof(err) - 1 - egot);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		egot += (size_t)r;
		if (egot == sizeof(err) - 1) {
			char sink[512];

			while (read(pe[0], sink, sizeof(sink)) > 0)
				;
			break;
		}
	}
	err[egot] = '\0';
	close(po[0]);
	close(pe[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return sl_errf(e, errno, "wait for %s", argv[0]);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	err[strcspn(err, "\n")] = '\0';
	return sl_errf(e, 0, "%s failed (status %d)%s%s", argv[0],
		       WIFEXITED(status) ? WEXITSTATUS(status) :
					   128 + WTERMSIG(status),
		       err[0] ? ": " : "", err);
}

/* mkdir -p for the cache, root's alone. */
static int make_dirs(const char *dir, struct sl_err *e)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s", dir);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return sl_errf(e, errno, "create folder %s", p);
		*s = '/';
	}
	if (mkdir(p, 0700) < 0 && errno != EEXIST)
		return sl_errf(e, errno, "create folder %s", p);
	return 0;
}

/* The packages' names end "-<abi>-amd64"; the newest is the one with the
 * highest version numbers, compared number by number. */
static int newer(const char *a, const char *b)
{
	while (*a && *b) {
		if (*a >= '0' && *a <= '9' && *b >= '0' && *b <= '9') {
			char *ea, *eb;
			unsigned long x = strtoul(a, &ea, 10);
			unsigned long y = strtoul(b, &eb, 10);

			if (x != y)
				return x > y;
			a = ea;
			b = eb;
			continue;
		}
		if (*a != *b)
			return *a > *b;
		a++;
		b++;
	}
	return *a != '\0';
}

/* The newest package of Debian's archive that apt-cache knows for
 * "debian:<major.minor>", plain flavour; 0 and name, or -ENOENT. */
static int newest_image(const char *ver, char *name, size_t n, struct sl_err *e)
{
	char out[65536], *save = NULL;
	const char *argv[] = { "apt-cache", "pkgnames", "linux-image-", NULL };
	int rc;

	rc = run_capture(argv, NULL, out, sizeof(out), e);
	if (rc < 0)
		return rc;
	name[0] = '\0';
	for (char *l = strtok_r(out, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		/* linux-image-<ver>.<n>-<abi>-amd64, with nothing after: no
		 * -dbg, -unsigned, -cloud or -rt. */
		size_t vl = strlen(ver);
		const char *p = l + strlen("linux-image-");
		char *end;

		if (strncmp(p, ver, vl) || p[vl] != '.')
			continue;
		p += vl + 1;
		strtoul(p, &end, 10);
		if (end == p || *end != '-')
			continue;
		p = end + 1;
		strtoul(p, &end, 10);
		if (end == p || strcmp(end, "-amd64"))
			continue;
		if (!name[0] || newer(l, name))
			snprintf(name, n, "%s", l);
	}
	if (!name[0])
		return sl_errf(e, ENOENT,
			       "no linux-image-%s.<n>-<abi>-amd64 in apt's "
			       "package lists (apt-get update?)",
			       ver);
	return 0;
}

/* The .deb of package pkg in folder dir, if one is there. */
static int find_deb(const char *dir, const char *pkg, char *deb, size_t n)
{
	size_t pl = strlen(pkg);
	struct dirent *de;
	DIR *d = opendir(dir);
	int found = 0;

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);

		if (!strncmp(de->d_name, pkg, pl) && de->d_name[pl] == '_' &&
		    l > 4 && !strcmp(de->d_name + l - 4, ".deb")) {
			snprintf(deb, n, "%s/%s", dir, de->d_name);
			found = 1;
		}
	}
	closedir(d);
	return found;
}

int sl_vm_debian_fetch(const char *spec, const char *cachedir, char *deb,
		       size_t n, struct sl_err *e)
{
	const char *what = spec + strlen("debian:");
	char pkg[128], dir[PATH_MAX], out[4096];
	int rc;

	if (strncmp(spec, "debian:", 7) || !*what ||
	    strspn(what, "abcdefghijklmnopqrstuvwxyz0123456789.+-") !=
		    strlen(what))
		return sl_errf(e, EINVAL,
			       "kernel '%s': debian:<major.minor> or "
			       "debian:<package> expected",
			       spec);
	if (!strncmp(what, "linux-image-", 12)) {
		snprintf(pkg, sizeof(pkg), "%s", what);
	} else {
		rc = newest_image(what, pkg, sizeof(pkg), e);
		if (rc == -ENOENT) {
			/* The lists may be missing, as on a fresh machine:
			 * read them once, then look again. */
			const char *up[] = { "apt-get", "update", "-qq", NULL };

			if (run_capture(up, NULL, out, sizeof(out), e) < 0)
				return -EIO;
			rc = newest_image(what, pkg, sizeof(pkg), e);
		}
		if (rc < 0)
			return rc;
	}
	snprintf(dir, sizeof(dir), "%s/debs", cachedir);
	rc = make_dirs(dir, e);
	if (rc < 0)
		return rc;
	if (find_deb(dir, pkg, deb, n))
		return 0;
	{
		/* As root into a folder only root reads: apt's sandbox
		 * user could not write there, and need not. */
		const char *argv[] = { "apt-get",
				       "download",
				       "-q",
				       "-o",
				       "APT::Sandbox::User=root",
				       pkg,
				       NULL };

		rc = run_capture(argv, dir, out, sizeof(out), e);
		if (rc < 0)
			return rc;
	}
	if (!find_deb(dir, pkg, deb, n))
		return sl_errf(e, ENOENT, "apt-get download %s: no .deb in %s",
			       pkg, dir);
	return 0;
}

/* The one folder under <root>/lib/modules: the package's release. */
static int package_release(const char *root, char *rel, size_t n,
			   struct sl_err *e)
{
	char dir[PATH_MAX];
	struct dirent *de;
	int count = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/lib/modules", root);
	d = opendir(dir);
	if (!d)
		return sl_errf(e, errno, "open %s (not a linux-image package?)",
			       dir);
	while ((de = readdir(d)))
		if (de->d_name[0] != '.') {
			snprintf(rel, n, "%s", de->d_name);
			count++;
		}
	closedir(d);
	if (count != 1)
		return sl_errf(e, EINVAL, "%s holds %d releases, not one", dir,
			       count);
	return 0;
}

static int fill_kernel(const char *root, struct sl_vm_kernel *k,
		       struct sl_err *e)
{
	struct stat st;
	int rc = package_release(root, k->release, sizeof(k->release), e);

	if (rc < 0)
		return rc;
	snprintf(k->vmlinuz, sizeof(k->vmlinuz), "%s/boot/vmlinuz-%s", root,
		 k->release);
	snprintf(k->modules, sizeof(k->modules), "%s/lib/modules/%s", root,
		 k->release);
	if (stat(k->vmlinuz, &st) < 0)
		return sl_errf(e, errno, "kernel image %s", k->vmlinuz);
	return 0;
}

int sl_vm_kernel_from_deb(const char *deb, const char *cachedir,
			  struct sl_vm_kernel *k, struct sl_err *e)
{
	char name[256], dir[PATH_MAX], tmp[PATH_MAX], stamp[PATH_MAX];
	char want[64], have[64] = "", out[1024];
	const char *base = strrchr(deb, '/') ? strrchr(deb, '/') + 1 : deb;
	struct stat st;
	FILE *f;
	int rc;

	if (stat(deb, &st) < 0)
		return sl_errf(e, errno, "kernel package %s", deb);
	snprintf(name, sizeof(name), "%s", base);
	if (strlen(name) > 4 && !strcmp(name + strlen(name) - 4, ".deb"))
		name[strlen(name) - 4] = '\0';
	snprintf(want, sizeof(want), "%lld %lld\n", (long long)st.st_size,
		 (long long)st.st_mtime);
	snprintf(dir, sizeof(dir), "%s/%s", cachedir, name);
	snprintf(stamp, sizeof(stamp), "%s/.socklab-stamp", dir);
	f = fopen(stamp, "re");
	if (f) {
		if (!fgets(have, sizeof(have), f))
			have[0] = '\0';
		fclose(f);
	}
	if (!strcmp(have, want))
		return fill_kernel(dir, k, e);

	rc = make_dirs(cachedir, e);
	if (rc < 0)
		return rc;
	snprintf(tmp, sizeof(tmp), "%s/.extract-XXXXXX", cachedir);
	if (!mkdtemp(tmp))
		return sl_errf(e, errno, "create folder in %s", cachedir);
	{
		const char *x[] = { "dpkg-deb", "-x", deb, tmp, NULL };

		rc = run_capture(x, NULL, out, sizeof(out), e);
	}
	if (rc == 0)
		rc = package_release(tmp, k->release, sizeof(k->release), e);
	if (rc == 0) {
		const char *d[] = { "depmod", "-b", tmp, k->release, NULL };

		rc = run_capture(d, NULL, out, sizeof(out), e);
	}
	if (rc == 0) {
		char s[PATH_MAX];

		snprintf(s, sizeof(s), "%s/.socklab-stamp", tmp);
		f = fopen(s, "we");
		if (!f || fputs(want, f) < 0 || fclose(f) != 0)
			rc = sl_errf(e, errno ? errno : EIO, "write %s", s);
	}
	if (rc == 0) {
		/* An older extraction of another .deb of the same name is
		 * moved aside first, then removed. */
		char old[PATH_MAX];

		snprintf(old, sizeof(old), "%s/.old-XXXXXX", cachedir);
		if (stat(dir, &st) == 0 && mkdtemp(old) &&
		    rename(dir, old) == 0) {
			const char *rm[] = { "rm", "-rf", old, NULL };

			sl_exec(rm, NULL);
		} else if (old[strlen(old) - 1] != 'X') {
			rmdir(old);
		}
		if (rename(tmp, dir) < 0 && errno != ENOTEMPTY &&
		    errno != EEXIST)
			rc = sl_errf(e, errno, "rename %s to %s", tmp, dir);
	}
	if (rc < 0 || stat(tmp, &st) == 0) {
		/* Failed, or another run put its whole copy in place
		 * first: ours goes. */
		const char *rm[] = { "rm", "-rf", tmp, NULL };

		sl_exec(rm, NULL);
	}
	if (rc < 0)
		return rc;
	return fill_kernel(dir, k, e);
}

int sl_vm_kernel_from_image(const char *vmlinuz, const char *moddir,
			    struct sl_vm_kernel *k, struct sl_err *e)
{
	char dep[PATH_MAX];
	const char *base;
	struct stat st;
	size_t l = strlen(moddir);

	if (stat(vmlinuz, &st) < 0 || !S_ISREG(st.st_mode))
		return sl_errf(e, errno ? errno : EINVAL, "kernel image %s",
			       vmlinuz);
	snprintf(k->modules, sizeof(k->modules), "%s", moddir);
	while (l > 1 && k->modules[l - 1] == '/')
		k->modules[--l] = '\0';
	base = strrchr(k->modules, '/') ? strrchr(k->modules, '/') + 1 :
					  k->modules;
	snprintf(k->release, sizeof(k->release), "%s", base);
	snprintf(k->vmlinuz, sizeof(k->vmlinuz), "%s", vmlinuz);
	snprintf(dep, sizeof(dep), "%s/modules.dep", k->modules);
	if (stat(dep, &st) < 0)
		return sl_errf(e, errno,
			       "%s (the modules folder must be "
			       "lib/modules/<release>, after depmod)",
			       dep);
	return 0;
}

/* "kernel/fs/9p/9p.ko" -> "9p": the module's name, '-' as '_'. */
static void module_name(const char *path, char *name, size_t n)
{
	const char *b = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	size_t i;

	for (i = 0; i + 1 < n && b[i] && b[i] != '.'; i++)
		name[i] = b[i] == '-' ? '_' : b[i];
	name[i] = '\0';
}

struct dep_line {
	char name[64];
	char *line; /* "path: dep dep ...", split in place */
};

static int visit(struct dep_line *d, int nd, const char *want, char *done,
		 char (*out)[256], int max, int *n, int depth)
{
	char name[64];
	int i;

	module_name(want, name, sizeof(name));
	for (i = 0; i < nd && strcmp(d[i].name, name); i++)
		;
	if (i == nd || done[i] || depth > 64)
		return 0;
	done[i] = 1;
	{
		char *deps = strchr(d[i].line, ':'), *save = NULL;
		char copy[4096];

		snprintf(copy, sizeof(copy), "%s", deps ? deps + 1 : "");
		for (char *t = strtok_r(copy, " \t\n", &save); t;
		     t = strtok_r(NULL, " \t\n", &save)) {
			int rc = visit(d, nd, t, done, out, max, n, depth + 1);

			if (rc < 0)
				return rc;
		}
	}
	if (*n >= max)
		return -ENOSPC;
	snprintf(out[*n], 256, "%.*s", (int)strcspn(d[i].line, ":"), d[i].line);
	(*n)++;
	return 0;
}

int sl_vm_modules_closure(const char *moddir, const char *const want[],
			  int nwant, char (*out)[256], int max,
			  struct sl_err *e)
{
	char path[PATH_MAX], *buf = NULL, *save = NULL;
	struct dep_line *d = NULL;
	int nd = 0, cap = 0, n = 0, rc = 0;
	char *done = NULL;
	size_t len = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/modules.dep", moddir);
	f = fopen(path, "re");
	if (!f)
		return sl_errf(e, errno, "open %s", path);
	{
		FILE *m = open_memstream(&buf, &len);
		char chunk[4096];
		size_t r;

		if (!m) {
			fclose(f);
			return sl_errf(e, errno, "read %s", path);
		}
		while ((r = fread(chunk, 1, sizeof(chunk), f)) > 0)
			fwrite(chunk, 1, r, m);
		fclose(m);
	}
	fclose(f);
	for (char *l = strtok_r(buf, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		if (!strchr(l, ':'))
			continue;
		if (nd == cap) {
			struct dep_line *nd2;

			cap = cap ? 2 * cap : 1024;
			nd2 = realloc(d, cap * sizeof(*d));
			if (!nd2) {
				rc = sl_errf(e, ENOMEM, "read %s", path);
				goto out;
			}
			d = nd2;
		}
		d[nd].line = l;
		*strchr(l, ':') = '\0';
		module_name(l, d[nd].name, sizeof(d[nd].name));
		l[strlen(l)] = ':';
		nd++;
	}
	done = calloc(nd ? nd : 1, 1);
	if (!done) {
		rc = sl_errf(e, ENOMEM, "read %s", path);
		goto out;
	}
	for (int i = 0; i < nwant; i++) {
		char name[64];

		module_name(want[i], name, sizeof(name));
		rc = visit(d, nd, name, done, out, max, &n, 0);
		if (rc < 0) {
			sl_errf(e, -rc, "modules for %s from %s", want[i],
				path);
			goto out;
		}
	}
	rc = n;
out:
	free(done);
	free(d);
	free(buf);
	return rc;
}
