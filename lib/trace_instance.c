/* trace_instance.c: tracefs and a run's private instance, on libtracefs
 * (trace_instance.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <tracefs/tracefs.h>

#include "err.h"
#include "kevent.h"
#include "trace_decode.h"
#include "trace_instance.h"

#define TRACEFS_MAGIC 0x74726163
#define DOCTOR_PREFIX SL_TRACE_INSTANCE_PREFIX "doctor-"

const char *sl_trace_root(void)
{
	const char *r = getenv("SOCKLAB_TRACEFS");

	return r && *r ? r : SL_TRACEFS;
}

/* The errno of statfs(path), or 0 when it works. */
static int statfs_errno(const char *path)
{
	struct statfs st;

	return statfs(path, &st) < 0 ? errno : 0;
}

int sl_trace_is_tracefs(const char *path)
{
	struct statfs st;

	return statfs(path, &st) == 0 && st.f_type == TRACEFS_MAGIC;
}

/* libtracefs finds tracefs by itself, mounting it where it is missing;
 * socklab tells it where, once root is known to be a tracefs, so that it
 * never looks elsewhere.  The setting is the process's: the mutex keeps
 * two threads from swapping it under each other. */
static int use_root(const char *root)
{
	static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	static char current[400];
	int ret = 0;

	pthread_mutex_lock(&mu);
	if (strcmp(current, root)) {
		char copy[400];

		snprintf(copy, sizeof(copy), "%s", root);
		ret = tracefs_set_tracing_dir(copy) < 0 ? -ENOMEM : 0;
		if (ret == 0)
			snprintf(current, sizeof(current), "%s", root);
	}
	pthread_mutex_unlock(&mu);
	return ret;
}

static void instance_name(char *buf, size_t n, int slot)
{
	snprintf(buf, n, SL_TRACE_INSTANCE_PREFIX "%d", slot);
}

/* libtracefs returns NULL or -1 and leaves errno as the system call set
 * it; a library failure without one is reported as EIO. */
static int last_errno(void)
{
	return errno ? errno : EIO;
}

/* A new instance of that name: a leftover of a run that was killed,
 * however it got past the sweep, is removed first. */
static int create_fresh(struct tracefs_instance **ip, const char *name)
{
	errno = 0;
	*ip = tracefs_instance_create(name);
	if (*ip && !tracefs_instance_is_new(*ip)) {
		int ret = sl_trace_instance_remove(ip);

		if (ret < 0)
			return ret;
		errno = 0;
		*ip = tracefs_instance_create(name);
	}
	return *ip ? 0 : -last_errno();
}

int sl_trace_instance_create(struct tracefs_instance **ip, const char *root,
			     int slot, struct sl_err *e)
{
	char name[64], *clock;
	int ret;

	instance_name(name, sizeof(name), slot);
	ret = use_root(root);
	if (ret == 0)
		ret = create_fresh(ip, name);
	if (ret < 0)
		return sl_errf(e, -ret, "create trace instance %s/instances/%s",
			       root, name);
	/* The instance's clock must be the timeline's, or nothing it says
	 * could be put next to a packet. */
	ret = tracefs_instance_file_write(*ip, "trace_clock", "mono");
	clock = tracefs_get_clock(*ip);
	if (ret < 0 || !clock || strcmp(clock, "mono")) {
		free(clock);
		return sl_errf(e, ret < 0 ? last_errno() : EINVAL,
			       "set %s/instances/%s/trace_clock to mono", root,
			       name);
	}
	free(clock);
	/* Wake the reader at every event (trace.c).  A kernel without the
	 * file (before 5.x) wakes it at its safety period instead.  The
	 * buffer keeps the kernel's default size for an instance (1.4 MB per
	 * CPU): resizing it would wait for one more grace period, under the
	 * lock every run's set-up takes. */
	tracefs_instance_file_write(*ip, "buffer_percent", "0");
	return 0;
}

int sl_trace_instance_enable(struct tracefs_instance *in, int kev,
			     const char *filter)
{
	const char *sys = sl_kev_system(kev), *name = sl_kev_name(kev);

	/* The filter first, so that no event of another run is ever
	 * recorded; one the kernel refuses leaves the event unfiltered
	 * there, and the reader still keeps only this run's. */
	if (filter && filter[0])
		tracefs_event_file_write(in, sys, name, "filter", filter);
	/* The event's own enable file, not tracefs_event_enable(): that one
	 * takes regular expressions and walks every system and event of the
	 * instance to match them, 60 ms of a run's set-up here against 5. */
	errno = 0;
	if (tracefs_event_file_write(in, sys, name, "enable", "1") < 0)
		return -last_errno();
	return 0;
}

char *sl_trace_instance_format(struct tracefs_instance *in, int kev, int *len)
{
	return tracefs_event_file_read(in, sl_kev_system(kev), sl_kev_name(kev),
				       "format", len);
}

char *sl_trace_instance_header_page(int *len)
{
	/* Read, never written: the top of tracefs is the machine's. */
	return tracefs_instance_file_read(NULL, "events/header_page", len);
}

int sl_trace_instance_subbuf_size(struct tracefs_instance *in)
{
	long long kb;

	if (tracefs_instance_file_read_number(in, "buffer_subbuf_size_kb",
					      &kb) < 0 ||
	    kb <= 0 || kb > 1024)
		return 0;
	return (int)kb * 1024;
}

int sl_trace_instance_ncpus(struct tracefs_instance *in)
{
	char *path = tracefs_instance_get_file(in, "per_cpu");
	struct dirent *de;
	int max = -1;
	DIR *d;

	if (!path)
		return -ENOMEM;
	d = opendir(path);
	tracefs_put_tracing_file(path);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		int c;

		if (sscanf(de->d_name, "cpu%d", &c) == 1 && c > max)
			max = c;
	}
	closedir(d);
	return max + 1;
}

int sl_trace_instance_open_cpu(struct tracefs_instance *in, int cpu)
{
	char file[64];
	int fd;

	snprintf(file, sizeof(file), "per_cpu/cpu%d/trace_pipe_raw", cpu);
	errno = 0;
	fd = tracefs_instance_file_open(in, file,
					O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	return fd >= 0 ? fd : -last_errno();
}

int sl_trace_instance_remove(struct tracefs_instance **ip)
{
	if (!*ip)
		return 0;
	/* Nothing more is recorded once tracing is off, even if the
	 * directory cannot go yet. */
	tracefs_trace_off(*ip);
	errno = 0;
	if (tracefs_instance_destroy(*ip) < 0 && errno != ENOENT)
		return -last_errno();
	tracefs_instance_free(*ip);
	*ip = NULL;
	return 0;
}

/* ---- leftovers ---- */

struct walk {
	const char *prefix;
	int (*fn)(struct walk *w, const char *name, int num);
	int removed;
	FILE *log;
};

/* Instances named exactly prefix<number>, as socklab spells it: nothing
 * after the number, and no sign, zero or space before it ("+5", "05" and
 * " 5" are someone else's). */
static int walk_one(const char *name, void *arg)
{
	struct walk *w = arg;
	char want[128];
	int num, len = 0;
	char fmt[64];

	snprintf(fmt, sizeof(fmt), "%s%%d%%n", w->prefix);
	if (sscanf(name, fmt, &num, &len) != 1 || name[len] != '\0')
		return 0;
	snprintf(want, sizeof(want), "%s%d", w->prefix, num);
	if (!strcmp(name, want))
		w->fn(w, name, num);
	return 0;
}

/* Walks the instances under the default root, if it is a tracefs. */
static void walk_instances(struct walk *w)
{
	const char *root = sl_trace_root();

	if (!sl_trace_is_tracefs(root) || use_root(root) < 0)
		return;
	tracefs_instances_walk(walk_one, w);
}

/* Removes instance name, saying so in log; 1 when removed, else -errno. */
static int remove_named(const char *name, FILE *log)
{
	struct tracefs_instance *in = tracefs_instance_alloc(NULL, name);
	char *dir = in ? tracefs_instance_get_dir(in) : NULL;
	int ret;

	if (!in)
		return -ENOMEM;
	ret = sl_trace_instance_remove(&in);
	if (ret == 0 && log)
		fprintf(log, "rmdir %s\n", dir);
	free(dir);
	tracefs_instance_free(in);
	return ret < 0 ? ret : 1;
}

int sl_trace_remove_instance(int slot, FILE *log)
{
	const char *root = sl_trace_root();
	char name[64];

	if (!sl_trace_is_tracefs(root) || use_root(root) < 0)
		return 0;
	instance_name(name, sizeof(name), slot);
	if (!tracefs_instance_exists(name))
		return 0;
	return remove_named(name, log);
}

/* A doctor's instance is left over once its process is gone; a live
 * doctor (or one we may not signal) still uses it. */
static int remove_doctor(struct walk *w, const char *name, int pid)
{
	if (pid <= 0 || kill(pid, 0) == 0 || errno != ESRCH)
		return 0;
	if (remove_named(name, w->log) > 0)
		w->removed++;
	return 0;
}

int sl_trace_clean_doctors(FILE *log)
{
	struct walk w = { .prefix = DOCTOR_PREFIX,
			  .fn = remove_doctor,
			  .log = log };

	walk_instances(&w);
	return w.removed;
}

/* ---- socklab doctor ---- */

static int kernel_knows_tracefs(void)
{
	char line[256];
	int known = 0;
	FILE *f = fopen("/proc/filesystems", "re");

	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, "\ttracefs"))
			known = 1;
	if (f)
		fclose(f);
	return known;
}

/* Appends to detail what the kernel lacks of the six tracepoints, or how
 * many RST reasons it names.  Returns the number missing. */
static int doctor_tracepoints(char *detail, size_t n, size_t *used)
{
	struct sl_trace_decoder *d = NULL;
	int len, missing = 0, nreasons = 0;
	char *text = sl_trace_instance_header_page(&len);
	struct sl_err e;

	if (text)
		sl_trace_decoder_new(&d, text, len, &e);
	free(text);
	for (int k = 0; k < SL_KEV_COUNT; k++) {
		text = sl_trace_instance_format(NULL, k, &len);
		if (!d || !text || sl_trace_decoder_add(d, k, text, len) < 0) {
			if (*used < n)
				*used += snprintf(detail + *used, n - *used,
						  "%s no %s:%s",
						  missing ? "," : ";",
						  sl_kev_system(k),
						  sl_kev_name(k));
			missing++;
		} else if (k == SL_KEV_SEND_RESET) {
			nreasons = sl_trace_decoder_nreasons(d, k);
		}
		free(text);
	}
	sl_trace_decoder_free(d);
	if (*used < n && !missing)
		*used += snprintf(detail + *used, n - *used,
				  "; all %d tracepoints (%d RST reasons)",
				  SL_KEV_COUNT, nreasons);
	return missing;
}

/* Tried for real: a private instance on the timeline's clock.  Returns 1
 * when it worked. */
static int doctor_instance(char *detail, size_t n, size_t used)
{
	struct tracefs_instance *in;
	char name[64], *clock;
	int ok;

	snprintf(name, sizeof(name), DOCTOR_PREFIX "%d", (int)getpid());
	errno = 0;
	in = tracefs_instance_create(name);
	if (!in) {
		if (used < n)
			snprintf(detail + used, n - used,
				 "; cannot create an instance: %s",
				 strerror(last_errno()));
		return 0;
	}
	tracefs_instance_file_write(in, "trace_clock", "mono");
	clock = tracefs_get_clock(in);
	ok = clock && !strcmp(clock, "mono");
	free(clock);
	sl_trace_instance_remove(&in);
	tracefs_instance_free(in);
	if (used < n)
		snprintf(detail + used, n - used,
			 ok ? "; private instances with the mono clock work" :
			      "; an instance refused the mono clock");
	return ok;
}

int sl_trace_doctor(char *detail, size_t n)
{
	const char *root = sl_trace_root();
	size_t used;
	int missing;

	if (!strcmp(root, "off")) {
		snprintf(detail, n,
			 "turned off by SOCKLAB_TRACEFS=off: runs go "
			 "without kernel events");
		return 0;
	}
	/* tracefs is root's (mode 0700): to anybody else it is there but
	 * closed, which is not the same as missing, and each tracepoint
	 * would otherwise be reported missing for the same one reason. */
	if (statfs_errno(root) == EACCES ||
	    (sl_trace_is_tracefs(root) && access(root, R_OK | X_OK) < 0 &&
	     errno == EACCES)) {
		snprintf(detail, n,
			 "%s: permission denied (tracefs is root's: run as "
			 "root)",
			 root);
		return 0;
	}
	if (!sl_trace_is_tracefs(root)) {
		if (!strcmp(root, SL_TRACEFS) && kernel_knows_tracefs()) {
			snprintf(detail, n,
				 "not mounted; a run mounts it at %s "
				 "(the kernel has tracefs)",
				 SL_TRACEFS);
			return 1;
		}
		snprintf(detail, n,
			 "no tracefs at %s: runs go without kernel "
			 "events, and predictions on them are skipped",
			 root);
		return 0;
	}
	used = snprintf(detail, n, "mounted at %s", root);
	if (use_root(root) < 0)
		return 0;
	missing = doctor_tracepoints(detail, n, &used);
	return doctor_instance(detail, n, used) && missing < SL_KEV_COUNT;
}
